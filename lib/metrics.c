/* metrics.c: (being written) */
#include "config.h"

#include "metrics.h"

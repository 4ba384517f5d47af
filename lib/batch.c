/* batch.c: (being written) */
#include "config.h"

#include "batch.h"

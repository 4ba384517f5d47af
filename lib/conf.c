/* conf.c: (being written) */
#include "config.h"

#include "conf.h"

/* mp.c: (being written) */
#include "config.h"

#include "mp.h"

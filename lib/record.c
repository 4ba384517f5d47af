/* record.c: (being written) */
#include "config.h"

#include "record.h"

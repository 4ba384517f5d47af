/* utf8.c: (being written) */
#include "config.h"

#include "utf8.h"

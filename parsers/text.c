/* text.c: (being written) */
#include "config.h"

#include "text.h"

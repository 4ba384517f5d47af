/* timefmt.c: (being written) */
#include "config.h"

#include "timefmt.h"

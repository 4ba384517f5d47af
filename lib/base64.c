/* base64.c: (being written) */
#include "config.h"

#include "base64.h"

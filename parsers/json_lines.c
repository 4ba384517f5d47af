/* json_lines.c: (being written) */
#include "config.h"

#include "json_lines.h"

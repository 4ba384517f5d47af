/* cmd_parse.c: (being written) */
#include "config.h"

#include "cmd_parse.h"

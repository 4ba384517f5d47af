/* parser.c: (being written) */
#include "config.h"

#include "parser.h"

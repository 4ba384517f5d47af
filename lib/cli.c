/* cli.c: (being written) */
#include "config.h"

#include "cli.h"

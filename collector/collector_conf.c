/* collector_conf.c: (being written) */
#include "config.h"

#include "collector_conf.h"

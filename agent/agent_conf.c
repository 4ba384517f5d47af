/* agent_conf.c: (being written) */
#include "config.h"

#include "agent_conf.h"

/* httpd.c: (being written) */
#include "config.h"

#include "httpd.h"

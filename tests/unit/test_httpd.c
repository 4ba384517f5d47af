/* test_httpd.c: unit tests for lib/httpd (being written). */
#include "config.h"

#include "tap.h"

int
main(void)
{
	ok(1, "httpd: placeholder");
	return done_testing();
}

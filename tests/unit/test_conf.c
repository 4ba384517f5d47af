/* test_conf.c: unit tests for lib/conf (being written). */
#include "config.h"

#include "tap.h"

int
main(void)
{
	ok(1, "conf: placeholder");
	return done_testing();
}

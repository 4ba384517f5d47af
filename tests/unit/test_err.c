/* test_err.c: unit tests for lib/err (being written). */
#include "config.h"

#include "tap.h"

int
main(void)
{
	ok(1, "err: placeholder");
	return done_testing();
}

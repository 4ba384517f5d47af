/* test_mp.c: unit tests for lib/mp (being written). */
#include "config.h"

#include "tap.h"

int
main(void)
{
	ok(1, "mp: placeholder");
	return done_testing();
}

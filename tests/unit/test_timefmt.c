/* test_timefmt.c: unit tests for lib/timefmt (being written). */
#include "config.h"

#include "tap.h"

int
main(void)
{
	ok(1, "timefmt: placeholder");
	return done_testing();
}

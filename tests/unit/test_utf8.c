/* test_utf8.c: unit tests for lib/utf8 (being written). */
#include "config.h"

#include "tap.h"

int
main(void)
{
	ok(1, "utf8: placeholder");
	return done_testing();
}

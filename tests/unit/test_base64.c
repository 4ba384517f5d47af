/* test_base64.c: unit tests for lib/base64 (being written). */
#include "config.h"

#include "tap.h"

int
main(void)
{
	ok(1, "base64: placeholder");
	return done_testing();
}

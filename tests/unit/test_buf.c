/* test_buf.c: unit tests for lib/buf (being written). */
#include "config.h"

#include "tap.h"

int
main(void)
{
	ok(1, "buf: placeholder");
	return done_testing();
}

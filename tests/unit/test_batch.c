/* test_batch.c: unit tests for lib/batch (being written). */
#include "config.h"

#include "tap.h"

int
main(void)
{
	ok(1, "batch: placeholder");
	return done_testing();
}

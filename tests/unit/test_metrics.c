/* test_metrics.c: unit tests for lib/metrics (being written). */
#include "config.h"

#include "tap.h"

int
main(void)
{
	ok(1, "metrics: placeholder");
	return done_testing();
}

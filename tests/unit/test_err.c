/* test_err.c: unit tests for the error table. */
#include "config.h"

#include "err.h"
#include "tap.h"

int
main(void)
{
	is_str(tw_strerror(0), "success", "0 is success");
	is_str(tw_strerror(TW_ETOOBIG), "too big", "TOOBIG message");
	is_str(tw_errname(TW_EDEPTH), "TW_EDEPTH", "DEPTH name");
	is_str(tw_strerror(-9999), "unknown error", "unknown code");
	is_str(tw_errname(-9999), "TW_E?", "unknown name");
	/* Every code has a distinct, non-generic message. */
#define CHECK(name, value, msg)                                             \
	ok(value < 0 && tw_strerror(value)[0] != '\0' &&                    \
	    tw_strerror(value) != tw_strerror(-9999),                       \
	    "TW_E" #name " has a message");
	TW_ERR_MAP(CHECK)
#undef CHECK
	return done_testing();
}

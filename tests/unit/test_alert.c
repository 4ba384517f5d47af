/* test_alert.c: unit tests for detect/alert: digest and alert_id as RULES.md §11 defines them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "detect_util.h"
#include "tap.h"

int
main(void)
{
	struct tw_buf rec;
	char d[TW_DIGEST_HEX + 1], id[TW_DIGEST_HEX + 1], d2[TW_DIGEST_HEX + 1];

	tw_buf_init(&rec, 1 << 20);
	/*
	 * sha256('{"message":"x","time":5}')[:32] and
	 * sha256('["r1","<digest>"]')[:32], as Python computes them.
	 */
	rec_from_json("{\"time\":5,\"message\":\"x\",\"observed_time\":7}", &rec);
	ok(tw_alert_digest(rec.data, rec.len, d) == 0, "digest");
	is_str(d, "2994d065690de286cc399bc98d019fb7", "digest without observed_time");
	ok(tw_alert_id("r1", d, id) == 0, "alert_id");
	is_str(id, "696b5fa7c5854c1e958fae723f5e735d", "alert_id over [rule, digest]");
	rec_from_json("{\"message\":\"x\",\"time\":5}", &rec);
	ok(tw_alert_digest(rec.data, rec.len, d2) == 0 && strcmp(d, d2) == 0,
	    "key order and observed_time do not change the digest");
	rec_from_json("{\"message\":\"y\",\"time\":5}", &rec);
	ok(tw_alert_digest(rec.data, rec.len, d2) == 0 && strcmp(d, d2) != 0,
	    "content does");
	is_int(tw_alert_digest("\x91\x01", 2, d2), TW_EMSGPACK,
	    "a record must be a map");
	tw_buf_cleanup(&rec);
	return done_testing();
}

/* test_value.c: unit tests for detect/value: string forms, numbers, canonical JSON. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect_util.h"
#include "tap.h"
#include "value.h"

/* The canonical JSON of a record given as (lib) JSON. */
static void
cjson_is(const char *json, const char *want, const char *skip)
{
	struct tw_buf rec, out;
	struct tw_mp_reader r;
	struct tw_value v;

	tw_buf_init(&rec, 1 << 20);
	tw_buf_init(&out, 1 << 20);
	rec_from_json(json, &rec);
	tw_mp_reader_init(&r, rec.data, rec.len);
	ok(tw_value_read(&r, (const uint8_t *)rec.data + rec.len, &v) == 0 &&
	    tw_value_cjson(&out, &v, skip) == 0, "cjson renders %s", json);
	is_str(out.data, want, "cjson of %s", json);
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&out);
}

static void
test_numbers(void)
{
	static const struct {
		double d;
		const char *want;
	} cases[] = {
		{ 3000.0, "3000" }, { 212.35, "212.35" }, { 1e-05, "1e-05" },
		{ 1e16, "1e+16" }, { 0.1, "0.1" }, { -0.0, "0" }, { 2.5, "2.5" },
		{ 9007199254740992.0, "9007199254740992" },
		{ 123456789012.0, "123456789012" }, { 1.0 / 3, "0.3333333333333333" },
	};
	char buf[TW_NUM_STR_MAX];
	double d;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tw_num_str(cases[i].d, buf);
		is_str(buf, cases[i].want, "num_str %.17g", cases[i].d);
	}
	tw_num_str(NAN, buf);
	is_str(buf, "NaN", "NaN");
	tw_num_str(-INFINITY, buf);
	is_str(buf, "-Infinity", "-Infinity");
	ok(tw_num_parse("+1.5e3", 6, &d) && d == 1500, "numeric view +1.5e3");
	ok(tw_num_parse(".5", 2, &d) && d == 0.5, "numeric view .5");
	ok(tw_num_parse("5.", 2, &d) && d == 5, "numeric view 5.");
	ok(!tw_num_parse(" 5", 2, &d), "no spaces");
	ok(!tw_num_parse("0x10", 4, &d), "no hex");
	ok(!tw_num_parse("inf", 3, &d), "no inf");
	ok(!tw_num_parse("1_000", 5, &d), "no underscores");
	ok(!tw_num_parse("1e", 2, &d), "exponent needs digits");
	ok(!tw_num_parse("", 0, &d), "empty is not a number");
}

static void
test_cjson(void)
{
	cjson_is("{\"b\":1,\"a\":[1.0,2.5,\"x\"],\"c\":{\"z\":true,\"y\":null}}",
	    "{\"a\":[1,2.5,\"x\"],\"b\":1,\"c\":{\"y\":null,\"z\":true}}", NULL);
	cjson_is("{\"time\":1700000000000000001,\"observed_time\":5,\"m\":\"a\\u0001\\\"\\\\\\n\"}",
	    "{\"m\":\"a\\u0001\\\"\\\\\\n\",\"time\":1700000000000000001}",
	    "observed_time");
	cjson_is("{\"k\":\"caf\\u00e9 \\u5bc6\"}", "{\"k\":\"café 密\"}", NULL);
	/* keys sort by code point (UTF-8 byte order) */
	cjson_is("{\"\\u00e9\":1,\"z\":2,\"Z\":3}",
	    "{\"Z\":3,\"z\":2,\"é\":1}", NULL);
	/* the last of duplicate keys wins */
	cjson_is("{\"a\":1,\"a\":2}", "{\"a\":2}", NULL);
}

static void
test_strings(void)
{
	struct tw_buf b;

	tw_buf_init(&b, 1 << 10);
	ok(tw_json_str_decode("\"a\\u00e9\\ud83d\\ude00\\n\"", 23, &b) == 0 &&
	    strcmp(b.data, "a\xc3\xa9\xf0\x9f\x98\x80\n") == 0,
	    "JSON string escapes and surrogate pairs");
	tw_buf_reset(&b);
	is_int(tw_json_str_decode("\"\\ud83d\"", 8, &b), TW_EPARSE,
	    "a lone surrogate is refused");
	is_int(tw_json_str_decode("\"a\tb\"", 5, &b), TW_EPARSE,
	    "raw control characters are refused");
	is_int(tw_json_str_decode("\"\\q\"", 4, &b), TW_EPARSE,
	    "unknown escapes are refused");
	ok(tw_memmem_fold("Hello WORLD", 11, "world", 5, true) != NULL,
	    "folded search");
	ok(tw_memmem_fold("Hello WORLD", 11, "world", 5, false) == NULL,
	    "case-sensitive search");
	ok(tw_ascii_eq("ÉA", "Éa", 3), "ASCII folding only touches A-Z");
	tw_buf_reset(&b);
	ok(tw_cjson_str(&b, "a\xff" "b", 3) == 0 &&
	    strcmp(b.data, "\"a\xef\xbf\xbd" "b\"") == 0,
	    "ill-formed UTF-8 becomes U+FFFD");
	tw_buf_cleanup(&b);
}

static void
test_forms(void)
{
	struct tw_buf rec, tmp;
	struct tw_mp_obj o;
	struct tw_value v;
	struct tw_mp_reader r;
	const char *s;
	size_t n;
	double d;

	tw_buf_init(&rec, 1 << 20);
	tw_buf_init(&tmp, 1 << 20);
	rec_from_json("{\"time\":42,\"f\":3000.0,\"b\":false,\"m\":{\"y\":1,\"x\":[]}}",
	    &rec);
	/* time is a timestamp ext in the record: an integer to rules */
	ok(tw_mp_path(rec.data, rec.len, "time", &o) == 0 &&
	    o.type == TW_MP_EXT, "time is a timestamp");
	tw_mp_reader_init(&r, rec.data, rec.len);
	ok(tw_value_read(&r, (const uint8_t *)rec.data + rec.len, &v) == 0,
	    "read the map");
	{
		/* walk to each key in order */
		struct tw_value k, val;
		const char *want[] = { "42", "3000", "false", "{\"x\":[],\"y\":1}" };

		for (int i = 0; i < 4; i++) {
			ok(tw_value_read(&r, v.end, &k) == 0 &&
			    tw_value_read(&r, v.end, &val) == 0 &&
			    tw_value_str(&val, &tmp, &s, &n) == 0 &&
			    n == strlen(want[i]) && memcmp(s, want[i], n) == 0,
			    "string form %s", want[i]);
			if (i == 0)
				ok(tw_value_num(&val, &d) && d == 42,
				    "a timestamp has a numeric view");
			if (i == 2)
				ok(!tw_value_num(&val, &d), "a bool has none");
			ok(tw_value_skip_rest(&r, &val) == 0, "skip");
		}
	}
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&tmp);
}

int
main(void)
{
	test_numbers();
	test_cjson();
	test_strings();
	test_forms();
	return done_testing();
}

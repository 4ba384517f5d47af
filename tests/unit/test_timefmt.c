/* test_timefmt.c: unit tests for lib/timefmt. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "tap.h"
#include "timefmt.h"

/* Expected values computed with python3's datetime. */
static const struct {
	const char *s;
	int64_t ns;
} good[] = {
	{ "2024-06-14T09:21:07.100234567Z", 1718356867100234567LL },
	{ "2024-06-14T09:21:07Z", 1718356867000000000LL },
	{ "2024-06-14T02:21:07.1-07:00", 1718356867100000000LL },
	{ "2024-06-14t02:21:07.1-0700", 1718356867100000000LL },
	{ "2024-02-29T23:59:59.999999999+0530", 1709231399999999999LL },
	{ "1970-01-01T00:00:00Z", 0 },
	{ "1969-12-31T23:59:59.999999999Z", -1 },
	{ "2000-03-01 00:00:00z", 951868800000000000LL },
	{ "1900-01-01T00:00:00Z", -2208988800000000000LL },
	{ "2262-04-11T23:47:16.854775807Z", INT64_MAX },
	{ "1677-09-21T00:12:43.145224192Z", INT64_MIN },
	{ "2024-12-31T23:59:59.5-23:59", 1735775939500000000LL },
	{ "2038-01-19T03:14:08Z", 2147483648000000000LL },
	{ "2100-02-28T12:00:00+00:00", 4107499200000000000LL },
};

static const char *bad[] = {
	"", "2024-06-14", "2024-06-14T09:21:07", "2024-06-14T09:21:07.Z",
	"2024-06-14T09:21:07.1234567890Z", "2024-06-14T09:21:60Z",
	"2024-06-14T24:00:00Z", "2024-06-14T09:60:00Z", "2024-13-14T09:21:07Z",
	"2024-00-14T09:21:07Z", "2024-06-00T09:21:07Z", "2024-06-31T09:21:07Z",
	"2023-02-29T09:21:07Z", "1900-02-29T09:21:07Z", "2024-06-14X09:21:07Z",
	"2024-06-14T09:21:07Zjunk", "2024-06-14T09:21:07+07",
	"2024-06-14T09:21:07+7:00",
	"2024-06-14T09:21:07+24:00", "2024-06-14T09:21:07+07:60",
	"2024-06-14T09:21:07+07:000", "+024-06-14T09:21:07Z",
	"2024-6-14T09:21:07Z", "2024-06-14T09:21:07 Z", "2024-06-14T09:21:7Z",
	"2024/06/14T09:21:07Z", "2024-06-14T09:21:07.1.2Z",
};

static void
test_parse(void)
{
	int64_t ns;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ns = 42;
		ok(tw_time_parse_rfc3339(good[i].s, strlen(good[i].s), &ns) ==
		    0 && ns == good[i].ns, "parse %s", good[i].s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(tw_time_parse_rfc3339(bad[i], strlen(bad[i]), &ns),
		    TW_EPARSE, "refuse \"%s\"", bad[i]);
	is_int(tw_time_parse_rfc3339("2262-04-11T23:47:16.854775808Z", 30, &ns),
	    TW_ELIMIT, "one ns past INT64_MAX");
	is_int(tw_time_parse_rfc3339("1677-09-21T00:12:43.145224191Z", 30, &ns),
	    TW_ELIMIT, "one ns before INT64_MIN");
	is_int(tw_time_parse_rfc3339("0001-01-01T00:00:00Z", 20, &ns),
	    TW_ELIMIT, "year 1");
	is_int(tw_time_parse_rfc3339("9999-12-31T23:59:59Z", 20, &ns),
	    TW_ELIMIT, "year 9999");
	/* Only the n bytes given are looked at. */
	ok(tw_time_parse_rfc3339("2024-06-14T09:21:07Z trailing", 20, &ns) ==
	    0 && ns == 1718356867000000000LL, "parse a prefix by length");
}

/* The cached parse: the same answers, whatever came before. */
static void
test_cached(void)
{
	static const char *seq[] = {
		"2024-06-14T09:21:07.100234567Z", "2024-06-14T09:21:07.100234568Z",
		"2024-06-14T09:21:07Z", "2024-06-14T09:21:07.5+01:00",
		"2024-06-14T09:21:07.1234567890Z", "2024-06-14T09:21:07junk",
		"2024-06-14T09:21:08.000000001Z", "2024-06-31T09:21:08Z",
		"2024-06-14T09:21:08.5", "2024-06-14 09:21:08.5z",
		"2262-04-11T23:47:16.854775807Z", "2262-04-11T23:47:16.854775808Z",
		"2024-06-14T09:21:0", "2024-06-14T09:21:08.1234567a9Z",
	};
	struct tw_time_cache c;
	int64_t a, b;
	int ra, rb, same = 0, n = 0;

	tw_time_cache_init(&c);
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
			a = b = 42;
			ra = tw_time_parse_rfc3339(seq[i], strlen(seq[i]), &a);
			rb = tw_time_parse_rfc3339_cached(&c, seq[i],
			    strlen(seq[i]), &b);
			same += ra == rb && a == b;
			n++;
		}
	is_int(same, n, "cached parse agrees with the plain one");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ok(tw_time_parse_rfc3339_cached(&c, good[i].s,
		    strlen(good[i].s), &a) == 0 && a == good[i].ns,
		    "cached %s", good[i].s);
	}
}

static void
test_format(void)
{
	static const struct {
		int64_t ns;
		const char *s;
	} f[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ -1, "1969-12-31T23:59:59.999999999Z" },
		{ 1718356867100234567LL, "2024-06-14T09:21:07.100234567Z" },
		{ 1718356867100000000LL, "2024-06-14T09:21:07.1Z" },
		{ 1718356867000000010LL, "2024-06-14T09:21:07.00000001Z" },
		{ 1709251199000000000LL, "2024-02-29T23:59:59Z" },
		{ INT64_MAX, "2262-04-11T23:47:16.854775807Z" },
		{ INT64_MIN, "1677-09-21T00:12:43.145224192Z" },
		{ -2208988800000000000LL, "1900-01-01T00:00:00Z" },
	};
	struct tw_buf b;
	uint64_t x = 88172645463325252ULL;
	int64_t ns, v;
	bool all = true;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		tw_buf_init(&b, 64);
		ok(tw_time_format_rfc3339(&b, f[i].ns) == 0 &&
		    strcmp(b.data, f[i].s) == 0, "format %s", f[i].s);
		tw_buf_cleanup(&b);
	}
	/* format then parse is the identity, over the whole int64 range */
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = (int64_t)x;
		if (i % 4 == 1)
			v /= 1000000000;	/* whole seconds */
		else if (i % 4 == 2)
			v %= 100000LL * 86400 * 1000000000; /* near 1970 */
		tw_buf_init(&b, 64);
		if (tw_time_format_rfc3339(&b, v) != 0 ||
		    tw_time_parse_rfc3339(b.data, b.len, &ns) != 0 || ns != v)
			all = false;
		tw_buf_cleanup(&b);
	}
	ok(all, "format/parse round-trips 200 000 random instants");
	tw_buf_init(&b, 10);
	is_int(tw_time_format_rfc3339(&b, 0), TW_ETOOBIG,
	    "format past the ceiling");
	tw_buf_cleanup(&b);
}

static void
test_arg(void)
{
	const int64_t now = 1718356867000000000LL, s = 1000000000LL;
	int64_t ns;

	ok(tw_time_parse_arg("15m", now, &ns) == 0 && ns == now - 900 * s,
	    "arg 15m");
	ok(tw_time_parse_arg("-15m", now, &ns) == 0 && ns == now - 900 * s,
	    "arg -15m");
	ok(tw_time_parse_arg("2h", now, &ns) == 0 && ns == now - 7200 * s,
	    "arg 2h");
	ok(tw_time_parse_arg("1h30m", now, &ns) == 0 && ns == now - 5400 * s,
	    "arg 1h30m");
	ok(tw_time_parse_arg("500ms", now, &ns) == 0 &&
	    ns == now - 500000000LL, "arg 500ms");
	ok(tw_time_parse_arg("7d", now, &ns) == 0 && ns == now - 604800 * s,
	    "arg 7d");
	ok(tw_time_parse_arg("30s", now, &ns) == 0 && ns == now - 30 * s,
	    "arg 30s");
	ok(tw_time_parse_arg("now", now, &ns) == 0 && ns == now, "arg now");
	ok(tw_time_parse_arg("1718356867000000000", now, &ns) == 0 &&
	    ns == 1718356867000000000LL, "arg epoch ns");
	ok(tw_time_parse_arg("0", now, &ns) == 0 && ns == 0, "arg 0");
	ok(tw_time_parse_arg("2024-06-14T02:21:07-07:00", now, &ns) == 0 &&
	    ns == 1718356867000000000LL, "arg rfc3339");
	is_int(tw_time_parse_arg("", now, &ns), TW_EPARSE, "arg empty");
	is_int(tw_time_parse_arg("-", now, &ns), TW_EPARSE, "arg -");
	is_int(tw_time_parse_arg("15", now, &ns) == 0 && ns == 15, 1,
	    "arg 15 is ns");
	is_int(tw_time_parse_arg("15x", now, &ns), TW_EPARSE, "arg 15x");
	is_int(tw_time_parse_arg("m", now, &ns), TW_EPARSE, "arg m");
	is_int(tw_time_parse_arg("1h30", now, &ns), TW_EPARSE, "arg 1h30");
	is_int(tw_time_parse_arg("-5", now, &ns), TW_EPARSE, "arg -5");
	is_int(tw_time_parse_arg("yesterday", now, &ns), TW_EPARSE,
	    "arg yesterday");
	is_int(tw_time_parse_arg("2024-06-14T02:21:07", now, &ns), TW_EPARSE,
	    "arg rfc3339 without zone");
	is_int(tw_time_parse_arg("99999999999999999999", now, &ns), TW_ELIMIT,
	    "arg ns overflow");
	is_int(tw_time_parse_arg("999999999d", now, &ns), TW_ELIMIT,
	    "arg duration overflow");
	is_int(tw_time_parse_arg("106752d", INT64_MIN + 1, &ns), TW_ELIMIT,
	    "arg before INT64_MIN");
	ok(tw_time_now_ns() > 1700000000LL * s, "now is after 2023");
}

static void
test_mp_timestamp(void)
{
	static const int64_t cases[] = { 0, 1, -1, 999999999, 1000000000,
		-1000000000, -1000000001, 1718356867100234567LL, INT64_MAX,
		INT64_MIN, INT64_MIN + 1, 9223372036000000000LL };
	static const uint8_t nsec_big[8] = { 0xee, 0x6b, 0x28, 0x00, 0, 0, 0,
		0 };
	static const uint8_t sec_big[12] = { 0, 0, 0, 0, 0x7f, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t sec34[8] = { 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff };
	struct tw_buf b;
	struct tw_mpw w;
	struct tw_mp_reader r;
	struct tw_mp_obj o;
	int64_t ns;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tw_buf_init(&b, 64);
		tw_mpw_init(&w, &b);
		tw_mpw_timestamp(&w, cases[i]);
		tw_mp_reader_init(&r, b.data, b.len);
		ok(w.err == 0 && tw_mp_read(&r, &o) == 0 &&
		    tw_time_from_mp_timestamp(o.v.s.p, o.v.s.len, &ns) == 0 &&
		    ns == cases[i], "timestamp ext %lld", (long long)cases[i]);
		tw_buf_cleanup(&b);
	}
	ok(tw_time_from_mp_timestamp("\x00\x00\x00\x05", 4, &ns) == 0 &&
	    ns == 5000000000LL, "timestamp32");
	is_int(tw_time_from_mp_timestamp("\0\0\0\0\0", 5, &ns), TW_EMSGPACK,
	    "bad length");
	is_int(tw_time_from_mp_timestamp(nsec_big, 8, &ns), TW_EMSGPACK,
	    "nanoseconds of 1e9 and more");
	is_int(tw_time_from_mp_timestamp(sec_big, 12, &ns), TW_ELIMIT,
	    "seconds beyond int64 ns");
	is_int(tw_time_from_mp_timestamp(sec34, 8, &ns), TW_ELIMIT,
	    "timestamp64 with 2^34-1 seconds");
}

int
main(void)
{
	test_parse();
	test_cached();
	test_format();
	test_arg();
	test_mp_timestamp();
	return done_testing();
}

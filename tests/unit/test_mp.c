/* test_mp.c: unit tests for the bounded msgpack reader and writer. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "tap.h"

static void
test_roundtrip(void)
{
	struct tw_buf b;
	struct tw_mpw w;
	struct tw_mp_reader r;
	struct tw_mp_obj o;
	struct tw_mp_limits lim;
	int64_t ns;

	tw_buf_init(&b, 1 << 20);
	tw_mpw_init(&w, &b);
	tw_mpw_map(&w, 6);
	tw_mpw_cstr(&w, "time");
	tw_mpw_timestamp(&w, 1718356867100234567LL);
	tw_mpw_cstr(&w, "n");
	tw_mpw_int(&w, -5);
	tw_mpw_cstr(&w, "u");
	tw_mpw_uint(&w, UINT64_MAX);
	tw_mpw_cstr(&w, "f");
	tw_mpw_double(&w, 212.35);
	tw_mpw_cstr(&w, "raw");
	tw_mpw_bin(&w, "\xff\xfe", 2);
	tw_mpw_cstr(&w, "k8s");
	tw_mpw_map(&w, 1);
	tw_mpw_cstr(&w, "namespace");
	tw_mpw_cstr(&w, "prod");
	is_int(w.err, 0, "writer: no error");

	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, b.data, b.len);
	is_int(tw_mp_skip(&r, &lim), 0, "skip: whole record");
	is_int(tw_mp_remaining(&r), 0, "skip: consumed everything");

	ok(tw_mp_path(b.data, b.len, "time", &o) == 0 &&
	    tw_mp_timestamp(&o, &ns) == 0 && ns == 1718356867100234567LL,
	    "path: time decodes to ns");
	ok(tw_mp_path(b.data, b.len, "n", &o) == 0 && o.type == TW_MP_INT &&
	    o.v.i == -5, "path: negative int");
	ok(tw_mp_path(b.data, b.len, "u", &o) == 0 && o.type == TW_MP_UINT &&
	    o.v.u == UINT64_MAX, "path: uint64 max");
	ok(tw_mp_path(b.data, b.len, "f", &o) == 0 &&
	    o.type == TW_MP_FLOAT && o.v.f == 212.35, "path: double");
	ok(tw_mp_path(b.data, b.len, "raw", &o) == 0 && o.type == TW_MP_BIN &&
	    o.v.s.len == 2, "path: bin");
	ok(tw_mp_path(b.data, b.len, "k8s.namespace", &o) == 0 &&
	    tw_mp_str_eq(&o, "prod"), "path: nested");
	is_int(tw_mp_path(b.data, b.len, "k8s.pod", &o), TW_ENOTFOUND,
	    "path: missing nested key");
	is_int(tw_mp_path(b.data, b.len, "n.x", &o), TW_ENOTFOUND,
	    "path: through a scalar");
	tw_buf_cleanup(&b);
}

static void
test_timestamps(void)
{
	static const int64_t cases[] = { 0, 1, 999999999, 1000000000,
		1718356867100234567LL, -1, -1000000001LL,
		(int64_t)1 << 62 };
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
		    tw_mp_timestamp(&o, &ns) == 0 && ns == cases[i],
		    "timestamp %lld round-trips", (long long)cases[i]);
		tw_buf_cleanup(&b);
	}
}

static void
test_hostile(void)
{
	/* array32 claiming 50 000 000 elements in 5 bytes */
	static const uint8_t big[] = { 0xdd, 0x02, 0xfa, 0xf0, 0x80 };
	static const uint8_t bad[] = { 0xc1 };
	static const uint8_t shortstr[] = { 0xdb, 0xff, 0xff, 0xff, 0xff, 'a' };
	static const uint8_t bigmap[] = { 0xde, 0xff, 0xff };
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_mp_obj o;
	uint8_t *deep;
	size_t n = 100000;

	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, big, sizeof(big));
	is_int(tw_mp_read(&r, &o), TW_EEOF, "array32 of 50M in 5 bytes: EOF");
	is_int(tw_mp_remaining(&r), sizeof(big), "reader did not move");
	tw_mp_reader_init(&r, bad, sizeof(bad));
	is_int(tw_mp_read(&r, &o), TW_EMSGPACK, "0xc1 refused");
	tw_mp_reader_init(&r, shortstr, sizeof(shortstr));
	is_int(tw_mp_read(&r, &o), TW_EEOF, "str32 longer than the input");
	tw_mp_reader_init(&r, bigmap, sizeof(bigmap));
	is_int(tw_mp_skip(&r, &lim), TW_EEOF, "map16 of 65535 in 3 bytes");

	deep = malloc(n);
	memset(deep, 0x91, n - 1); /* fixarray of 1, nested */
	deep[n - 1] = 0xc0;
	tw_mp_reader_init(&r, deep, n);
	is_int(tw_mp_skip(&r, &lim), TW_EDEPTH, "nesting 100 000 deep refused");
	tw_mp_reader_init(&r, deep + n - 33, 33);
	is_int(tw_mp_skip(&r, &lim), 0, "nesting 32 deep accepted");
	tw_mp_reader_init(&r, deep + n - 34, 34);
	is_int(tw_mp_skip(&r, &lim), TW_EDEPTH, "nesting 33 deep refused");
	free(deep);

	lim.map_max = 2;
	{
		static const uint8_t m3[] = { 0x83, 1, 1, 2, 2, 3, 3 };
		tw_mp_reader_init(&r, m3, sizeof(m3));
		is_int(tw_mp_skip(&r, &lim), TW_ELIMIT, "map over map_max");
	}
}

static void
test_bounded_writer(void)
{
	struct tw_buf b;
	struct tw_mpw w;
	size_t off;

	tw_buf_init(&b, 8);
	tw_mpw_init(&w, &b);
	tw_mpw_cstr(&w, "0123456789");
	is_int(w.err, TW_ETOOBIG, "writer: ceiling sticks as TOOBIG");
	tw_buf_cleanup(&b);

	tw_buf_init(&b, 64);
	tw_mpw_init(&w, &b);
	off = tw_mpw_map32_placeholder(&w);
	tw_mpw_cstr(&w, "a");
	tw_mpw_uint(&w, 1);
	tw_mpw_patch32(&w, off, 1);
	{
		struct tw_mp_obj o;
		ok(tw_mp_path(b.data, b.len, "a", &o) == 0 && o.v.u == 1,
		    "patched map32 reads back");
	}
	tw_buf_cleanup(&b);
}

/* timestamp64 seconds past 2262 do not fit int64 ns: refused, not wrapped. */
static void
test_timestamp_overflow(void)
{
	static const uint8_t ts64_max[] = { 0xd7, 0xff, 0x00, 0x00, 0x00, 0x03,
		0xff, 0xff, 0xff, 0xff };
	static const uint8_t ts64_bad_ns[] = { 0xd7, 0xff, 0xff, 0xff, 0xff,
		0xfc, 0x00, 0x00, 0x00, 0x00 };
	struct tw_mp_reader r;
	struct tw_mp_obj o;
	int64_t ns;

	tw_mp_reader_init(&r, ts64_max, sizeof(ts64_max));
	ok(tw_mp_read(&r, &o) == 0 && tw_mp_timestamp(&o, &ns) == TW_ELIMIT,
	    "timestamp64 with 2^34-1 seconds refused");
	tw_mp_reader_init(&r, ts64_bad_ns, sizeof(ts64_bad_ns));
	ok(tw_mp_read(&r, &o) == 0 && tw_mp_timestamp(&o, &ns) == TW_ELIMIT,
	    "timestamp64 with nanoseconds over 999999999 refused");
}

int
main(void)
{
	test_timestamp_overflow();
	test_roundtrip();
	test_timestamps();
	test_hostile();
	test_bounded_writer();
	return done_testing();
}

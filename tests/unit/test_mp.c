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

/*
 * The reference tw_mp_skip() is checked against: one tw_mp_read() per
 * value, as it was before its fast paths. Same result, same position.
 */
static int
ref_skip(struct tw_mp_reader *r, const struct tw_mp_limits *lim)
{
	uint64_t left[65];
	const uint8_t *start = r->p;
	uint32_t depth_max = lim->depth_max < 64 ? lim->depth_max : 64;
	struct tw_mp_obj o;
	int depth = 0, rc;

	left[0] = 1;
	while (depth >= 0) {
		if (left[depth] == 0) {
			depth--;
			continue;
		}
		left[depth]--;
		if ((rc = tw_mp_read(r, &o)) != 0)
			goto fail;
		if (o.type != TW_MP_ARRAY && o.type != TW_MP_MAP)
			continue;
		rc = TW_ELIMIT;
		if (o.v.count > (o.type == TW_MP_MAP ? lim->map_max :
		    lim->array_max))
			goto fail;
		rc = TW_EDEPTH;
		if ((uint32_t)depth + 1 > depth_max)
			goto fail;
		left[++depth] = (uint64_t)o.v.count *
		    (o.type == TW_MP_MAP ? 2 : 1);
	}
	return 0;
fail:
	r->p = start;
	return rc;
}

/* Whether tw_mp_skip() and ref_skip() agree on p[0..n). */
static int
skip_agrees(const uint8_t *p, size_t n, const struct tw_mp_limits *lim)
{
	struct tw_mp_reader a, b;
	int ra, rb;

	tw_mp_reader_init(&a, p, n);
	tw_mp_reader_init(&b, p, n);
	ra = tw_mp_skip(&a, lim);
	rb = ref_skip(&b, lim);
	return ra == rb && a.p == b.p;
}

static void
test_skip_fast_paths(void)
{
	struct tw_mp_limits lim, tight = { 2, 3, 3 };
	struct tw_buf b;
	struct tw_mpw w;
	uint8_t v[64], *m;
	uint64_t x = 88172645463325252ULL;
	size_t bad = 0, tries = 0;

	tw_mp_limits_default(&lim);
	/*
	 * Every lead byte, followed by bytes that make every length field
	 * small (2) or large (0xff), cut at every length.
	 */
	for (unsigned c = 0; c < 256; c++) {
		for (int fill = 0; fill < 2; fill++) {
			memset(v, fill ? 0xff : 0x02, sizeof(v));
			v[0] = (uint8_t)c;
			for (size_t n = 0; n <= sizeof(v); n++, tries += 2)
				bad += !skip_agrees(v, n, &lim) +
				    !skip_agrees(v, n, &tight);
		}
	}
	is_int(bad, 0, "skip: %zu lead bytes and cuts as tw_mp_read has it",
	    tries);

	/* A record with containers, then random bytes changed in it. */
	tw_buf_init(&b, 4096);
	tw_mpw_init(&w, &b);
	tw_mpw_map(&w, 5);
	tw_mpw_cstr(&w, "time");
	tw_mpw_timestamp(&w, 1718356867100234567LL);
	tw_mpw_cstr(&w, "message");
	tw_mpw_cstr(&w, "GET /api/v1/orders/42 HTTP/1.1 200 512 0.003 "
	    "\"curl/8.4.0\" upstream=10.0.0.7:8080");
	tw_mpw_cstr(&w, "k8s");
	tw_mpw_map(&w, 2);
	tw_mpw_cstr(&w, "namespace");
	tw_mpw_cstr(&w, "prod");
	tw_mpw_cstr(&w, "labels");
	tw_mpw_array(&w, 3);
	tw_mpw_int(&w, -70000);
	tw_mpw_double(&w, 0.5);
	tw_mpw_bin(&w, "\x00\x01", 2);
	tw_mpw_cstr(&w, "n");
	tw_mpw_uint(&w, 1 << 20);
	tw_mpw_cstr(&w, "ok");
	tw_mpw_bool(&w, true);
	if (w.err != 0 || (m = malloc(b.len)) == NULL)
		abort();
	ok(skip_agrees((const uint8_t *)b.data, b.len, &lim),
	    "skip: the intact record");
	bad = 0;
	for (int i = 0; i < 20000; i++) {
		memcpy(m, b.data, b.len);
		for (int k = 0; k < 1 + i % 3; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			m[x % b.len] = (uint8_t)(x >> 32);
		}
		bad += !skip_agrees(m, b.len, &lim) +
		    !skip_agrees(m, (size_t)(x >> 40) % (b.len + 1), &tight);
	}
	is_int(bad, 0, "skip: 20000 damaged records as tw_mp_read has them");
	free(m);
	tw_buf_cleanup(&b);
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

/* Header bytes of the writer at every width boundary (the msgpack spec's
 * shortest forms, as msgpack-c's packer chose them). */
static void
test_writer_widths(void)
{
	static const struct {
		uint64_t v;
		const char *hex;
	} uints[] = {
		{ 127, "7f" }, { 128, "cc80" }, { 255, "ccff" }, { 256, "cd0100" },
		{ 65535, "cdffff" }, { 65536, "ce00010000" },
		{ 4294967295ULL, "ceffffffff" },
		{ 4294967296ULL, "cf0000000100000000" },
	};
	static const struct {
		int64_t v;
		const char *hex;
	} ints[] = {
		{ 0, "00" }, { -1, "ff" }, { -32, "e0" }, { -33, "d0df" },
		{ -128, "d080" }, { -129, "d1ff7f" }, { -32768, "d18000" },
		{ -32769, "d2ffff7fff" }, { INT32_MIN, "d280000000" },
		{ (int64_t)INT32_MIN - 1, "d3ffffffff7fffffff" },
	};
	static const struct {
		size_t n;
		const char *str, *bin, *map;
	} lens[] = {
		{ 15, "af", "c40f", "8f" }, { 16, "b0", "c410", "de0010" },
		{ 31, "bf", "c41f", "de001f" }, { 32, "d920", "c420", "de0020" },
		{ 255, "d9ff", "c4ff", "de00ff" }, { 256, "da0100", "c50100",
		    "de0100" },
		{ 65535, "daffff", "c5ffff", "deffff" },
		{ 65536, "db00010000", "c600010000", "df00010000" },
	};
	static const struct {
		int64_t ns;
		const char *hex;
	} times[] = {
		{ 1000000000LL, "d6ff00000001" },
		{ 1500000000LL, "d7ff7735940000000001" },
		{ -1, "c70cff3b9ac9ffffffffffffffffff" },
	};
	static char body[65536];
	struct tw_buf b;
	struct tw_mpw w;
	char hex[64];
	size_t k;

	tw_buf_init(&b, 1 << 20);
	for (size_t i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
		tw_buf_reset(&b);
		tw_mpw_init(&w, &b);
		tw_mpw_uint(&w, uints[i].v);
		for (k = 0; k < b.len && k < 20; k++)
			sprintf(hex + 2 * k, "%02x", (uint8_t)b.data[k]);
		hex[2 * k] = '\0';
		is_str(hex, uints[i].hex, "uint %llu",
		    (unsigned long long)uints[i].v);
	}
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		tw_buf_reset(&b);
		tw_mpw_init(&w, &b);
		tw_mpw_int(&w, ints[i].v);
		for (k = 0; k < b.len && k < 20; k++)
			sprintf(hex + 2 * k, "%02x", (uint8_t)b.data[k]);
		hex[2 * k] = '\0';
		is_str(hex, ints[i].hex, "int %lld", (long long)ints[i].v);
	}
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		const char *want[3] = { lens[i].str, lens[i].bin, lens[i].map };
		for (int kind = 0; kind < 3; kind++) {
			tw_buf_reset(&b);
			tw_mpw_init(&w, &b);
			if (kind == 0)
				tw_mpw_str(&w, body, lens[i].n);
			else if (kind == 1)
				tw_mpw_bin(&w, body, lens[i].n);
			else
				tw_mpw_map(&w, (uint32_t)lens[i].n);
			k = strlen(want[kind]) / 2;
			for (size_t j = 0; j < k; j++)
				sprintf(hex + 2 * j, "%02x", (uint8_t)b.data[j]);
			hex[2 * k] = '\0';
			ok(strcmp(hex, want[kind]) == 0 && w.err == 0 &&
			    b.len == k + (kind < 2 ? lens[i].n : 0),
			    "%s of %zu: %s", kind == 0 ? "str" : kind == 1 ?
			    "bin" : "map", lens[i].n, hex);
		}
	}
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		tw_buf_reset(&b);
		tw_mpw_init(&w, &b);
		tw_mpw_timestamp(&w, times[i].ns);
		for (k = 0; k < b.len && k < 20; k++)
			sprintf(hex + 2 * k, "%02x", (uint8_t)b.data[k]);
		hex[2 * k] = '\0';
		is_str(hex, times[i].hex, "timestamp %lld",
		    (long long)times[i].ns);
	}
	tw_buf_cleanup(&b);

	/* A failed write appends nothing; the ceiling is exact. */
	tw_buf_init(&b, 8);
	tw_mpw_init(&w, &b);
	tw_mpw_str(&w, "0123456", 7);
	ok(w.err == 0 && b.len == 8, "str filling the ceiling exactly");
	tw_mpw_nil(&w);
	ok(w.err == TW_ETOOBIG && b.len == 8, "one byte past it: nothing");
	tw_buf_cleanup(&b);
}

int
main(void)
{
	test_timestamp_overflow();
	test_roundtrip();
	test_timestamps();
	test_hostile();
	test_skip_fast_paths();
	test_bounded_writer();
	test_writer_widths();
	return done_testing();
}

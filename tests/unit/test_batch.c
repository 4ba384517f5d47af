/* test_batch.c: batch codec tests: round trips, limits, hostile frames. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <zstd.h>

#include "batch.h"
#include "mp.h"
#include "tap.h"

/*
 * The whole test must stay under 64 MiB of peak RSS. AddressSanitizer's
 * shadow memory, redzones and quarantine inflate RSS by a constant plus a
 * multiple of what is allocated, so under ASan (detected at compile time
 * only) the bound is relaxed; the plain build holds the real one.
 */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#define RSS_MAX_KIB (128L * 1024)
#else
#define RSS_MAX_KIB (64L * 1024)
#endif

#define MIB ((size_t)1 << 20)

static struct tw_batch_dec *dec;

static long
rss_kib(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return -1;
	return ru.ru_maxrss;
}

/* Compress p[0..n) into one frame (checksum on) appended to out. */
static void
frame_of(struct tw_buf *out, const void *p, size_t n, int checksum)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t bound = ZSTD_compressBound(n), z;

	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum);
	if (tw_buf_reserve(out, bound) != 0)
		abort();
	z = ZSTD_compress2(cctx, out->data + out->len, bound, p, n);
	if (ZSTD_isError(z))
		abort();
	out->len += z;
	ZSTD_freeCCtx(cctx);
}

static int
decode(const void *frame, size_t n, const struct tw_batch_limits *lim,
    int64_t expect, struct tw_buf *out, struct tw_batch_info *info)
{
	struct tw_batch_limits def;

	if (lim == NULL) {
		tw_batch_limits_default(&def);
		lim = &def;
	}
	return tw_batch_decode(dec, frame, n, lim, expect, out, info);
}

/* A log-like record; time < 0 means none. */
static void
put_record(struct tw_buf *b, int i, int64_t time)
{
	struct tw_mpw w;

	tw_buf_reset(b);
	tw_mpw_init(&w, b);
	tw_mpw_map(&w, time >= 0 ? 5 : 4);
	if (time >= 0) {
		tw_mpw_cstr(&w, "time");
		tw_mpw_timestamp(&w, time);
	}
	tw_mpw_cstr(&w, "msg");
	tw_mpw_cstr(&w, "GET /healthz HTTP/1.1");
	tw_mpw_cstr(&w, "seq");
	tw_mpw_int(&w, i);
	tw_mpw_cstr(&w, "host");
	tw_mpw_cstr(&w, i % 2 ? "web-1" : "web-2");
	tw_mpw_cstr(&w, "labels");
	tw_mpw_map(&w, 1);
	tw_mpw_cstr(&w, "app");
	tw_mpw_cstr(&w, "nginx");
	if (w.err != 0)
		abort();
}

/* Records as the parsers make them: every msgpack type, sizes, times. */
static size_t
sample_records(struct tw_buf *recs, size_t *ends, size_t max)
{
	struct tw_mpw w;
	size_t k = 0;
	char *big;

	tw_mpw_init(&w, recs);
#define END() do { if (k < max) ends[k++] = recs->len; } while (0)
	/* nginx access log */
	tw_mpw_map(&w, 8);
	tw_mpw_cstr(&w, "time");
	tw_mpw_timestamp(&w, 1718356867100234567LL);
	tw_mpw_cstr(&w, "format");
	tw_mpw_cstr(&w, "nginx");
	tw_mpw_cstr(&w, "remote_addr");
	tw_mpw_cstr(&w, "203.0.113.9");
	tw_mpw_cstr(&w, "request");
	tw_mpw_cstr(&w, "GET /api/v1/items?id=42 HTTP/2.0");
	tw_mpw_cstr(&w, "status");
	tw_mpw_uint(&w, 200);
	tw_mpw_cstr(&w, "bytes");
	tw_mpw_uint(&w, 5123);
	tw_mpw_cstr(&w, "rt");
	tw_mpw_double(&w, 0.012);
	tw_mpw_cstr(&w, "ua");
	tw_mpw_cstr(&w, "curl/8.5.0");
	END();
	/* syslog with a second-resolution time (timestamp32) and UTF-8 */
	tw_mpw_map(&w, 5);
	tw_mpw_cstr(&w, "time");
	tw_mpw_timestamp(&w, 1700000000LL * 1000000000);
	tw_mpw_cstr(&w, "facility");
	tw_mpw_uint(&w, 4);
	tw_mpw_cstr(&w, "host");
	tw_mpw_cstr(&w, "db-1");
	tw_mpw_cstr(&w, "msg");
	tw_mpw_cstr(&w, "sshd[123]: Accepted publickey for r\xc3\xa9mi");
	tw_mpw_cstr(&w, "truncated");
	tw_mpw_bool(&w, false);
	END();
	/* kubernetes audit event: nested maps, arrays, nil, negative ints */
	tw_mpw_map(&w, 6);
	tw_mpw_cstr(&w, "time");
	tw_mpw_timestamp(&w, 1718356867000000001LL);
	tw_mpw_cstr(&w, "verb");
	tw_mpw_cstr(&w, "delete");
	tw_mpw_cstr(&w, "user");
	tw_mpw_map(&w, 2);
	tw_mpw_cstr(&w, "username");
	tw_mpw_cstr(&w, "system:serviceaccount:kube-system:gc");
	tw_mpw_cstr(&w, "groups");
	tw_mpw_array(&w, 2);
	tw_mpw_cstr(&w, "system:serviceaccounts");
	tw_mpw_cstr(&w, "system:authenticated");
	tw_mpw_cstr(&w, "objectRef");
	tw_mpw_map(&w, 3);
	tw_mpw_cstr(&w, "resource");
	tw_mpw_cstr(&w, "pods");
	tw_mpw_cstr(&w, "namespace");
	tw_mpw_cstr(&w, "prod");
	tw_mpw_cstr(&w, "uid");
	tw_mpw_nil(&w);
	tw_mpw_cstr(&w, "offset");
	tw_mpw_int(&w, -123456789012LL);
	tw_mpw_cstr(&w, "raw");
	tw_mpw_bin(&w, "\x00\xff\xfe", 3);
	END();
	/* before the epoch, far future (timestamp96) */
	tw_mpw_map(&w, 1);
	tw_mpw_cstr(&w, "time");
	tw_mpw_timestamp(&w, -1000000001LL);
	END();
	tw_mpw_map(&w, 2);
	tw_mpw_cstr(&w, "time");
	tw_mpw_timestamp(&w, (int64_t)1 << 62);
	tw_mpw_cstr(&w, "u64");
	tw_mpw_uint(&w, UINT64_MAX);
	END();
	/* no time at all; "time" that is not a timestamp; an empty map */
	tw_mpw_map(&w, 1);
	tw_mpw_cstr(&w, "msg");
	tw_mpw_cstr(&w, "no time here");
	END();
	tw_mpw_map(&w, 1);
	tw_mpw_cstr(&w, "time");
	tw_mpw_cstr(&w, "2024-06-14T09:21:07Z");
	END();
	tw_mpw_map(&w, 0);
	END();
	/* a big record: a 200 KiB string (str32), map16 */
	big = malloc(200 * 1024);
	for (size_t i = 0, x = 2463534242u; i < 200 * 1024; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		big[i] = (char)('a' + x % 26);
	}
	tw_mpw_map(&w, 17);
	for (int i = 0; i < 16; i++) {
		char key[8];
		snprintf(key, sizeof(key), "k%02d", i);
		tw_mpw_cstr(&w, key);
		tw_mpw_int(&w, i * -1000);
	}
	tw_mpw_cstr(&w, "blob");
	tw_mpw_str(&w, big, 200 * 1024);
	END();
	free(big);
	/* a map key that is not a string, as msgpack allows */
	tw_mpw_map(&w, 1);
	tw_mpw_uint(&w, 7);
	tw_mpw_bool(&w, true);
	END();
#undef END
	if (w.err != 0)
		abort();
	return k;
}

static void
test_roundtrip_hand(void)
{
	struct tw_batch_enc *enc = tw_batch_enc_new(3);
	struct tw_buf rec, frame, out, all;
	struct tw_batch_info info, dinfo;
	static const int64_t times[] = { 1718356867100234567LL,
		1718356867000000000LL, -1, 1718356999999999999LL,
		1600000000000000000LL };
	const uint8_t *r;
	size_t off = 0, len, n = 0;
	int same = 1, rc;

	tw_buf_init(&rec, MIB);
	tw_buf_init(&frame, 16 * MIB);
	tw_buf_init(&out, 64 * MIB);
	tw_buf_init(&all, MIB);
	ok(enc != NULL, "enc: new at level 3");
	for (int i = 0; i < 5; i++) {
		put_record(&rec, i, times[i]);
		if (tw_buf_add(&all, rec.data, rec.len) != 0)
			abort();
		if ((rc = tw_batch_enc_add(enc, rec.data, rec.len)) != 0)
			break;
	}
	is_int(rc, 0, "enc: 5 records added");
	is_int(tw_batch_enc_records(enc), 5, "enc: counts records");
	is_int(tw_batch_enc_raw_len(enc), all.len, "enc: counts raw bytes");
	is_int(tw_batch_enc_finish(enc, &frame, &info), 0, "enc: finish");
	is_int(info.records, 5, "info: records");
	ok(info.time_min == 1600000000000000000LL, "info: time_min");
	ok(info.time_max == 1718356999999999999LL, "info: time_max");
	is_int(info.raw_len, all.len, "info: raw_len");
	is_int(info.compressed_len, frame.len, "info: compressed_len");
	/* Frame header descriptor: content size present, checksum on. */
	ok(ZSTD_getFrameContentSize(frame.data, frame.len) == all.len &&
	    (frame.data[4] & 0x04) != 0, "enc: content size and checksum in "
	    "the frame header");
	is_int(tw_batch_enc_records(enc), 0, "enc: empty after finish");

	is_int(decode(frame.data, frame.len, NULL, 5, &out, &dinfo), 0,
	    "dec: decodes with expect_records 5");
	ok(dinfo.records == info.records && dinfo.time_min == info.time_min &&
	    dinfo.time_max == info.time_max && dinfo.raw_len == info.raw_len &&
	    dinfo.compressed_len == frame.len, "dec: info matches encoder");
	ok(out.len == all.len && memcmp(out.data, all.data, all.len) == 0,
	    "dec: identical bytes");
	off = 0;
	while (tw_batch_next(&out, &off, &r, &len) == 1) {
		put_record(&rec, (int)n, times[n]);
		if (len != rec.len || memcmp(r, rec.data, len) != 0)
			same = 0;
		n++;
	}
	ok(n == 5 && same, "next: yields the 5 records, each identical");
	is_int(decode(frame.data, frame.len, NULL, -1, &out, NULL), 0,
	    "dec: expect_records unknown, info NULL");

	/* An empty batch is a valid batch. */
	tw_buf_reset(&frame);
	is_int(tw_batch_enc_finish(enc, &frame, &info), 0, "enc: empty batch");
	is_int(decode(frame.data, frame.len, NULL, 0, &out, &dinfo), 0,
	    "dec: empty batch");
	ok(dinfo.records == 0 && dinfo.raw_len == 0 &&
	    dinfo.time_min == INT64_MAX && dinfo.time_max == INT64_MIN,
	    "dec: empty batch has no records and no time");
	off = 0;
	is_int(tw_batch_next(&out, &off, &r, &len), 0, "next: nothing");

	tw_batch_enc_free(enc);
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&frame);
	tw_buf_cleanup(&out);
	tw_buf_cleanup(&all);
}

static void
test_roundtrip_samples(void)
{
	static const int levels[] = { -5, 1, 3, 9, 19 };
	struct tw_buf recs, frame, out;
	struct tw_batch_info info, dinfo;
	size_t ends[32], k, off, len, i;
	const uint8_t *r;
	const char *cap_before;
	int rc, same;

	tw_buf_init(&recs, 4 * MIB);
	tw_buf_init(&frame, 4 * MIB);
	tw_buf_init(&out, 64 * MIB);
	k = sample_records(&recs, ends, 32);
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		struct tw_batch_enc *enc = tw_batch_enc_new(levels[l]);

		rc = enc != NULL ? 0 : TW_ENOMEM;
		for (i = 0; i < k && rc == 0; i++) {
			size_t start = i == 0 ? 0 : ends[i - 1];
			rc = tw_batch_enc_add(enc, recs.data + start,
			    ends[i] - start);
		}
		tw_buf_reset(&frame);
		if (rc == 0)
			rc = tw_batch_enc_finish(enc, &frame, &info);
		is_int(rc, 0, "samples level %d: %zu records encoded",
		    levels[l], k);
		is_int(decode(frame.data, frame.len, NULL, (int64_t)k, &out,
		    &dinfo), 0, "samples level %d: decoded (%zu -> %zu bytes)",
		    levels[l], recs.len, frame.len);
		ok(dinfo.records == k && dinfo.raw_len == recs.len &&
		    dinfo.time_min == -1000000001LL &&
		    dinfo.time_max == ((int64_t)1 << 62),
		    "samples level %d: info (count, min/max time, raw_len)",
		    levels[l]);
		same = 1;
		off = 0;
		for (i = 0; tw_batch_next(&out, &off, &r, &len) == 1; i++) {
			size_t start = i == 0 ? 0 : ends[i - 1];
			if (i >= k || len != ends[i] - start ||
			    memcmp(r, recs.data + start, len) != 0)
				same = 0;
		}
		ok(same && i == k, "samples level %d: records identical",
		    levels[l]);
		tw_batch_enc_free(enc);
	}

	/* A steady-state decoder reuses out: no new allocation per batch. */
	cap_before = out.data;
	is_int(decode(frame.data, frame.len, NULL, -1, &out, NULL), 0,
	    "reuse: decodes again");
	ok(out.data == cap_before, "reuse: out's memory was reused");

	tw_buf_cleanup(&recs);
	tw_buf_cleanup(&frame);
	tw_buf_cleanup(&out);
}

/*
 * Level 22 defaults to a 128 MiB window: the encoder must cap it. Its
 * match tables take over 100 MiB even with the window capped (an encoder
 * cost, not the decoder's), so this runs after the RSS check.
 */
static void
test_window_cap(void)
{
	struct tw_batch_enc *enc = tw_batch_enc_new(22);
	struct tw_batch_limits lim;
	struct tw_buf rec, frame, out;
	struct tw_batch_info info;
	size_t n = 0;
	int rc = enc != NULL ? 0 : TW_ENOMEM;
	char blob[4096];

	tw_buf_init(&rec, MIB);
	tw_buf_init(&frame, 16 * MIB);
	tw_buf_init(&out, 64 * MIB);
	/*
	 * Over 8 MiB of records, so that zstd does not shrink the window to
	 * the input; repetitive, because level 22 is slow on random bytes.
	 */
	memset(blob, 'w', sizeof(blob));
	while (rc == 0 && n < 9 * MIB) {
		struct tw_mpw w;
		memcpy(blob, &n, sizeof(n));
		tw_buf_reset(&rec);
		tw_mpw_init(&w, &rec);
		tw_mpw_map(&w, 1);
		tw_mpw_cstr(&w, "b");
		tw_mpw_bin(&w, blob, sizeof(blob));
		rc = tw_batch_enc_add(enc, rec.data, rec.len);
		n += rec.len;
	}
	if (rc == 0)
		rc = tw_batch_enc_finish(enc, &frame, &info);
	is_int(rc, 0, "level 22: 9 MiB batch encoded");
	ok(ZSTD_getFrameContentSize(frame.data, frame.len) == n,
	    "level 22: content size in the frame header");
	tw_batch_limits_default(&lim);
	lim.ratio_max = 0; /* it compresses far beyond 100:1 */
	is_int(decode(frame.data, frame.len, &lim, info.records, &out, NULL),
	    0, "level 22: decodes under the 8 MiB window limit");
	tw_batch_enc_free(enc);
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&frame);
	tw_buf_cleanup(&out);
}

static void
test_encoder_limits(void)
{
	struct tw_batch_enc *enc = tw_batch_enc_new(1);
	struct tw_batch_limits lim;
	struct tw_buf rec, frame;
	struct tw_batch_info info;
	uint8_t deep[64];

	tw_buf_init(&rec, MIB);
	tw_buf_init(&frame, MIB);
	ok(tw_batch_enc_new(ZSTD_maxCLevel() + 1) == NULL,
	    "enc: level out of range is NULL");
	tw_batch_enc_free(NULL);

	is_int(tw_batch_enc_add(enc, "\x93\x01\x02\x03", 4), TW_EMSGPACK,
	    "enc: an array is not a record");
	is_int(tw_batch_enc_add(enc, "\x01", 1), TW_EMSGPACK,
	    "enc: a scalar is not a record");
	is_int(tw_batch_enc_add(enc, "", 0), TW_EMSGPACK,
	    "enc: nothing is not a record");
	is_int(tw_batch_enc_add(enc, "\x81\xa1" "a", 3), TW_EMSGPACK,
	    "enc: a truncated map");
	is_int(tw_batch_enc_add(enc, "\x80\x80", 2), TW_EMSGPACK,
	    "enc: two maps in one add");
	memset(deep, 0x91, sizeof(deep));
	deep[0] = 0x81;
	deep[1] = 0xa1;
	deep[2] = 'a';
	deep[sizeof(deep) - 1] = 0xc0;
	is_int(tw_batch_enc_add(enc, deep, sizeof(deep)), TW_EDEPTH,
	    "enc: nesting over 32");
	is_int(tw_batch_enc_records(enc), 0, "enc: refused adds left nothing");

	tw_batch_limits_default(&lim);
	lim.records_max = 3;
	lim.decompressed_max = 100;
	lim.record_max = 40;
	tw_batch_enc_set_limits(enc, &lim);
	put_record(&rec, 1, -1);
	is_int(tw_batch_enc_add(enc, rec.data, rec.len), TW_ELIMIT,
	    "enc: a %zu-byte record over record_max 40", rec.len);
	for (int i = 0; i < 3; i++)
		if (tw_batch_enc_add(enc, "\x81\xa1x\x01", 4) != 0)
			abort();
	is_int(tw_batch_enc_add(enc, "\x81\xa1x\x01", 4), TW_ETOOBIG,
	    "enc: 4th record over records_max 3");
	is_int(tw_batch_enc_records(enc), 3, "enc: batch unchanged");
	is_int(tw_batch_enc_finish(enc, &frame, &info), 0, "enc: finish");
	is_int(info.records, 3, "enc: finished the 3");
	is_int(tw_batch_enc_add(enc, "\x81\xa1x\x01", 4), 0,
	    "enc: adds again after finish");

	lim.records_max = 100;
	tw_batch_enc_set_limits(enc, &lim);
	tw_batch_enc_reset(enc);
	is_int(tw_batch_enc_records(enc) + tw_batch_enc_raw_len(enc), 0,
	    "enc: reset empties the batch");
	/* 32-byte records: 3 fit in 100 raw bytes, the 4th does not. */
	memset(deep, 'z', sizeof(deep));
	memcpy(deep, "\x81\xa1y\xbc", 4);
	for (int i = 0; i < 3; i++)
		if (tw_batch_enc_add(enc, deep, 32) != 0)
			abort();
	is_int(tw_batch_enc_add(enc, deep, 32), TW_ETOOBIG,
	    "enc: raw cap 100 reached");
	is_int(tw_batch_enc_raw_len(enc), 96, "enc: raw bytes unchanged");

	/* out too small for the compressed frame: records kept. */
	tw_buf_cleanup(&frame);
	tw_buf_init(&frame, 10);
	is_int(tw_batch_enc_finish(enc, &frame, &info), TW_ETOOBIG,
	    "enc: finish into a 10-byte buffer");
	is_int(tw_batch_enc_records(enc), 3, "enc: records kept after failure");

	tw_batch_enc_free(enc);
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&frame);
}

/* Stream 1 GiB of zeros through zstd level 3, as `zstd` would. */
static void
make_bomb(struct tw_buf *out, int declare_size)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	uint8_t *zeros = calloc(1, MIB);
	ZSTD_outBuffer ob;
	ZSTD_inBuffer in;
	size_t z;

	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	if (declare_size)
		ZSTD_CCtx_setPledgedSrcSize(cctx, (unsigned long long)1 << 30);
	for (int i = 0; i < 1024; i++) {
		ZSTD_EndDirective end = i == 1023 ? ZSTD_e_end :
		    ZSTD_e_continue;
		in.src = zeros;
		in.size = MIB;
		in.pos = 0;
		do {
			if (tw_buf_reserve(out, ZSTD_CStreamOutSize()) != 0)
				abort();
			ob.dst = out->data + out->len;
			ob.size = ZSTD_CStreamOutSize();
			ob.pos = 0;
			z = ZSTD_compressStream2(cctx, &ob, &in, end);
			if (ZSTD_isError(z))
				abort();
			out->len += ob.pos;
		} while (end == ZSTD_e_end ? z != 0 : in.pos < in.size);
	}
	free(zeros);
	ZSTD_freeCCtx(cctx);
}

static void
test_bomb(void)
{
	struct tw_batch_limits lim;
	struct tw_buf bomb, out;
	long before = rss_kib();

	tw_buf_init(&bomb, MIB);
	tw_buf_init(&out, SIZE_MAX);

	/*
	 * Content size unknown: the decoder streams. The ratio ceiling
	 * (1 MiB free + 33 KB * 100 = 4.3 MB) is far below decompressed_max
	 * (64 MiB), so ratio is the limit crossed first: TW_ERATIO after
	 * about 4.3 MB of output, never more.
	 */
	make_bomb(&bomb, 0);
	diag("1 GiB of zeros, no content size: %zu bytes compressed",
	    bomb.len);
	ok(bomb.len > 20000 && bomb.len < 50000, "bomb: ~33 KB on the wire");
	ok(ZSTD_getFrameContentSize(bomb.data, bomb.len) ==
	    ZSTD_CONTENTSIZE_UNKNOWN, "bomb: no content size in the header");
	is_int(decode(bomb.data, bomb.len, NULL, -1, &out, NULL), TW_ERATIO,
	    "bomb: refused by the 100:1 ratio while streaming");
	ok(out.cap <= TW_BATCH_RATIO_FREE + bomb.len * 100 + 1,
	    "bomb: out grew to %zu bytes at most (ceiling %zu)", out.cap,
	    TW_BATCH_RATIO_FREE + bomb.len * 100);
	tw_buf_cleanup(&out);
	is_int(tw_batch_http_status(TW_ERATIO), 413, "bomb: HTTP 413");

	/* Without a ratio limit, decompressed_max stops it: TW_ETOOBIG. */
	tw_batch_limits_default(&lim);
	lim.ratio_max = 0;
	lim.decompressed_max = 4 * MIB;
	is_int(decode(bomb.data, bomb.len, &lim, -1, &out, NULL), TW_ETOOBIG,
	    "bomb: ratio off, refused at decompressed_max 4 MiB");
	ok(out.cap <= 4 * MIB + 1, "bomb: out stayed within 4 MiB");
	/* And out's own ceiling is honoured too. */
	out.max = MIB;
	lim.decompressed_max = 64 * MIB;
	is_int(decode(bomb.data, bomb.len, &lim, -1, &out, NULL), TW_ETOOBIG,
	    "bomb: refused at out->max 1 MiB");
	ok(out.max == MIB, "bomb: out->max restored");
	tw_buf_cleanup(&out);

	/*
	 * Content size declared (1 GiB): refused from the header alone, before
	 * one byte is decompressed or allocated. It is over decompressed_max,
	 * the absolute cap, so TW_ETOOBIG even though the ratio is also over.
	 */
	tw_buf_reset(&bomb);
	make_bomb(&bomb, 1);
	diag("1 GiB of zeros, content size declared: %zu bytes compressed",
	    bomb.len);
	ok(ZSTD_getFrameContentSize(bomb.data, bomb.len) ==
	    (unsigned long long)1 << 30, "bomb: header declares 1 GiB");
	tw_buf_init(&out, SIZE_MAX);
	is_int(decode(bomb.data, bomb.len, NULL, -1, &out, NULL), TW_ETOOBIG,
	    "bomb: declared 1 GiB refused from the header");
	ok(out.cap == 0, "bomb: nothing allocated for the output");
	/* Declared size within decompressed_max but over the ratio. */
	tw_batch_limits_default(&lim);
	lim.decompressed_max = (size_t)2 << 30;
	is_int(decode(bomb.data, bomb.len, &lim, -1, &out, NULL), TW_ERATIO,
	    "bomb: declared 1 GiB under a 2 GiB cap is still over 100:1");
	ok(out.cap == 0, "bomb: still nothing allocated");
	diag("peak RSS before the bombs %ld KiB, after %ld KiB", before,
	    rss_kib());
	tw_buf_cleanup(&out);
	tw_buf_cleanup(&bomb);
}

static void
test_window(void)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	struct tw_batch_limits lim;
	struct tw_buf out, frame;
	uint8_t data[16384], hdr[64];
	ZSTD_outBuffer ob;
	ZSTD_inBuffer in;
	size_t z, h;

	tw_buf_init(&out, SIZE_MAX);
	tw_buf_init(&frame, MIB);
	/* A record map padded to 16 KiB, compressed with a 16 MiB window. */
	memset(data, 'x', sizeof(data));
	memcpy(data, "\x81\xa1p\xda\x3f\xfc", 6); /* str16 of 16380 */
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 24);
	if (tw_buf_reserve(&frame, ZSTD_compressBound(sizeof(data)) + 64) != 0)
		abort();
	/* continue then end: size unknown, so the 16 MiB window stays. */
	in.src = data;
	in.size = sizeof(data);
	in.pos = 0;
	ob.dst = frame.data;
	ob.size = frame.cap - 1;
	ob.pos = 0;
	z = ZSTD_compressStream2(cctx, &ob, &in, ZSTD_e_continue);
	if (!ZSTD_isError(z))
		z = ZSTD_compressStream2(cctx, &ob, &in, ZSTD_e_end);
	ok(!ZSTD_isError(z) && z == 0, "window: 16 MiB-window frame built");
	frame.len = ob.pos;
	is_int(decode(frame.data, frame.len, NULL, -1, &out, NULL), TW_ELIMIT,
	    "window: 16 MiB window refused");
	ok(out.cap == 0, "window: refused before decompressing");
	is_int(tw_batch_http_status(TW_ELIMIT), 413, "window: HTTP 413");

	/* Hand-made headers: a 1 GiB window; a 1 GiB single segment. */
	h = 0;
	memcpy(hdr, "\x28\xb5\x2f\xfd", 4);
	h = 4;
	hdr[h++] = 0x00;	/* no content size, not single segment */
	hdr[h++] = (30 - 10) << 3; /* window log 30 */
	memcpy(hdr + h, "\x01\x00\x00", 3); /* last raw block of 0 bytes */
	h += 3;
	is_int(decode(hdr, h, NULL, -1, &out, NULL), TW_ELIMIT,
	    "window: hand-made 1 GiB window header refused");
	h = 4;
	hdr[h++] = 0xa0;	/* single segment, 4-byte content size */
	memcpy(hdr + h, "\x00\x00\x00\x40", 4); /* 1 GiB */
	h += 4;
	memcpy(hdr + h, "\x01\x00\x00", 3);
	h += 3;
	is_int(decode(hdr, h, NULL, -1, &out, NULL), TW_ELIMIT,
	    "window: 1 GiB single-segment frame refused");
	/* The same header claiming 8 MiB exactly is within the window. */
	memcpy(hdr + 5, "\x00\x00\x80\x00", 4);
	tw_batch_limits_default(&lim);
	lim.ratio_max = 0;
	/*
	 * zstd accepts an empty last block without checking the declared
	 * size; the decoder checks it and refuses the lie.
	 */
	is_int(decode(hdr, h, &lim, -1, &out, NULL), TW_EZSTD,
	    "window: 8 MiB single segment passes the window check "
	    "(then its content does not match)");
	ok(out.cap <= 256 * 1024, "window: %zu bytes allocated for 8 MiB "
	    "declared (one chunk, rounded up)", out.cap);

	ZSTD_freeCCtx(cctx);
	tw_buf_cleanup(&out);
	tw_buf_cleanup(&frame);
}

/*
 * A valid frame holding p[0..n) in stored (raw) blocks: a ratio of 1:1,
 * so hostile msgpack reaches the record checks under the default limits
 * (compressed, it is so repetitive that the ratio refuses it first: see
 * test_ratio_first).
 */
static void
frame_stored(struct tw_buf *out, const uint8_t *p, size_t n)
{
	uint8_t h[8] = { 0x28, 0xb5, 0x2f, 0xfd, 0xa0 }; /* 4-byte size */
	size_t block;
	uint32_t bh;

	h[5] = (uint8_t)n;
	h[6] = (uint8_t)(n >> 8);
	h[7] = (uint8_t)(n >> 16);
	if (tw_buf_add(out, h, 5) != 0 || tw_buf_add(out, h + 5, 3) != 0 ||
	    tw_buf_addc(out, (char)(n >> 24)) != 0)
		abort();
	do {
		block = n < 128 * 1024 ? n : 128 * 1024;
		bh = (uint32_t)block << 3 | (n == block ? 1 : 0);
		if (tw_buf_addc(out, (char)bh) != 0 ||
		    tw_buf_addc(out, (char)(bh >> 8)) != 0 ||
		    tw_buf_addc(out, (char)(bh >> 16)) != 0 ||
		    tw_buf_add(out, p, block) != 0)
			abort();
		p += block;
		n -= block;
	} while (n > 0);
}

/* Assert that content[0..n), in a valid frame, decodes to want. */
static void
content_is(const void *content, size_t n, int want, const char *what)
{
	struct tw_buf frame, out;

	tw_buf_init(&frame, 16 * MIB);
	tw_buf_init(&out, SIZE_MAX);
	frame_stored(&frame, content, n);
	is_int(decode(frame.data, frame.len, NULL, -1, &out, NULL), want,
	    "%s (%s)", what, tw_errname(want));
	if (want != 0)
		ok(out.len == 0, "%s: out left empty", what);
	tw_buf_cleanup(&frame);
	tw_buf_cleanup(&out);
}

static void
test_msgpack(void)
{
	static const uint8_t arr50m[] = { 0xdd, 0x02, 0xfa, 0xf0, 0x80 };
	static const uint8_t map_arr50m[] = { 0x81, 0xa1, 'a', 0xdd, 0x02,
		0xfa, 0xf0, 0x80 };
	static const uint8_t map50m[] = { 0xdf, 0x02, 0xfa, 0xf0, 0x80 };
	uint8_t *big;
	size_t n;

	content_is(arr50m, sizeof(arr50m), TW_EMSGPACK,
	    "msgpack: 5-byte array32 claiming 50 000 000 elements");
	content_is(map_arr50m, sizeof(map_arr50m), TW_EMSGPACK,
	    "msgpack: the same array32 inside a record map");
	content_is(map50m, sizeof(map50m), TW_EMSGPACK,
	    "msgpack: map32 claiming 50 000 000 pairs");
	/* The claim against 1 MiB of real bytes: still no allocation. */
	big = calloc(1, MIB + 3);
	memcpy(big, "\x81\xa1" "a", 3);
	memcpy(big + 3, arr50m, sizeof(arr50m));
	content_is(big, MIB + 3, TW_EMSGPACK,
	    "msgpack: array32 of 50M over 1 MiB of zeros");
	content_is(big, 1000, TW_EMSGPACK,
	    "msgpack: array32 of 50M over 992 zeros");

	/* 100 000 deep: 0x91 (array of 1) inside one record map. */
	n = 3 + 100000 + 1;
	big = realloc(big, n);
	memcpy(big, "\x81\xa1" "a", 3);
	memset(big + 3, 0x91, 100000);
	big[n - 1] = 0xc0;
	content_is(big, n, TW_EDEPTH, "msgpack: nesting 100 000 deep");
	is_int(tw_batch_http_status(TW_EDEPTH), 400, "msgpack: depth is 400");
	content_is(big + 3, n - 3, TW_EMSGPACK,
	    "msgpack: 100 000-deep array is not a record map");
	/* Maps in maps: 100 000 x {"a": ...}. */
	n = 3 * 100000 + 1;
	big = realloc(big, n);
	for (size_t i = 0; i < 100000; i++)
		memcpy(big + 3 * i, "\x81\xa1" "a", 3);
	big[n - 1] = 0xc0;
	content_is(big, n, TW_EDEPTH, "msgpack: maps nested 100 000 deep");
	/* Depth 32 exactly is fine: the map and 31 arrays. */
	n = 3 + 31 + 1;
	memcpy(big, "\x81\xa1" "a", 3);
	memset(big + 3, 0x91, 31);
	big[n - 1] = 0xc0;
	content_is(big, n, 0, "msgpack: nesting exactly 32 accepted");
	big[3 + 31] = 0x91;
	big[3 + 32] = 0xc0;
	content_is(big, n + 1, TW_EDEPTH, "msgpack: nesting 33 refused");
	free(big);

	/*
	 * timestamp64 with 34-bit seconds past 2262 (int64 ns overflow; found
	 * by fuzz_batch): a valid record without a usable time.
	 */
	content_is("\x81\xa4time\xd7\xff\x00\x00\x00\x03\xff\xff\xff\xff",
	    16, 0, "msgpack: timestamp64 of year 2514 is not a time");
	content_is("hello world", 11, TW_EMSGPACK,
	    "msgpack: text inside a valid frame");
	content_is("\x81\xa1" "a\x01\xc1", 5, TW_EMSGPACK,
	    "msgpack: the never-used byte 0xc1 after a record");
	content_is("\x81\xa1" "a\x01\x82\xa1" "b", 7, TW_EMSGPACK,
	    "msgpack: a truncated second record");
	content_is("\x81\xa1" "a\x01\x93\x01\x02\x03", 8, TW_EMSGPACK,
	    "msgpack: an array as second record");
	/* A map over map_max (65 536) is a 400 by DESIGN.md §8. */
	n = 5 + 65537 * 2;
	big = calloc(1, n);
	memcpy(big, "\xdf\x00\x01\x00\x01", 5);
	content_is(big, n, TW_EMSGPACK, "msgpack: 65 537 pairs");
	is_int(tw_batch_http_status(TW_EMSGPACK), 400, "msgpack: 400");
	free(big);
}

/*
 * The same hostile msgpack compressed: 100 000 x 0x91 is ~30 bytes of
 * zstd, so under the defaults the ratio (checked while decompressing,
 * before any record) refuses it; without a ratio limit, depth does.
 */
static void
test_ratio_first(void)
{
	struct tw_batch_limits lim;
	struct tw_buf frame, out;
	uint8_t *deep = malloc(100004);

	tw_buf_init(&frame, MIB);
	tw_buf_init(&out, SIZE_MAX);
	memcpy(deep, "\x81\xa1" "a", 3);
	memset(deep + 3, 0x91, 100000);
	deep[100003] = 0xc0;
	frame_of(&frame, deep, 100004, 1);
	diag("100 000 deep: %zu bytes compressed", frame.len);
	/* 100 KB of content is inside the ratio's free first MiB. */
	is_int(decode(frame.data, frame.len, NULL, -1, &out, NULL), TW_EDEPTH,
	    "compressed 100 000 deep: depth under the defaults");
	tw_batch_limits_default(&lim);
	lim.ratio_max = 0;
	is_int(decode(frame.data, frame.len, &lim, -1, &out, NULL), TW_EDEPTH,
	    "compressed 100 000 deep: depth without a ratio limit");
	tw_buf_reset(&frame);
	frame_of(&frame, "\xdd\x02\xfa\xf0\x80", 5, 1);
	is_int(decode(frame.data, frame.len, NULL, -1, &out, NULL),
	    TW_EMSGPACK, "compressed array32 claiming 50M: TW_EMSGPACK");
	free(deep);
	tw_buf_cleanup(&frame);
	tw_buf_cleanup(&out);
}

static void
test_count_and_limits(void)
{
	struct tw_batch_enc *enc = tw_batch_enc_new(1);
	struct tw_batch_limits lim;
	struct tw_buf rec, frame, out;
	struct tw_batch_info info;
	size_t rec_len = 0;

	tw_buf_init(&rec, MIB);
	tw_buf_init(&frame, MIB);
	tw_buf_init(&out, SIZE_MAX);
	for (int i = 0; i < 5; i++) {
		put_record(&rec, i, 1000 + i);
		if (tw_batch_enc_add(enc, rec.data, rec.len) != 0)
			abort();
		if (rec.len > rec_len)
			rec_len = rec.len;
	}
	if (tw_batch_enc_finish(enc, &frame, &info) != 0)
		abort();

	is_int(decode(frame.data, frame.len, NULL, 4, &out, NULL), TW_ECOUNT,
	    "count: header says 4, batch has 5");
	is_int(decode(frame.data, frame.len, NULL, 6, &out, NULL), TW_ECOUNT,
	    "count: header says 6, batch has 5");
	is_int(decode(frame.data, frame.len, NULL, 0, &out, NULL), TW_ECOUNT,
	    "count: header says 0, batch has 5");
	is_int(tw_batch_http_status(TW_ECOUNT), 400, "count: HTTP 400");

	tw_batch_limits_default(&lim);
	lim.compressed_max = frame.len - 1;
	is_int(decode(frame.data, frame.len, &lim, 5, &out, NULL), TW_ETOOBIG,
	    "limits: frame one byte over compressed_max");
	lim.compressed_max = frame.len;
	is_int(decode(frame.data, frame.len, &lim, 5, &out, NULL), 0,
	    "limits: frame exactly compressed_max");
	is_int(tw_batch_http_status(TW_ETOOBIG), 413, "limits: HTTP 413");

	tw_batch_limits_default(&lim);
	lim.record_max = rec_len - 1;
	is_int(decode(frame.data, frame.len, &lim, 5, &out, NULL), TW_ELIMIT,
	    "limits: a record over record_max");
	lim.record_max = rec_len;
	is_int(decode(frame.data, frame.len, &lim, 5, &out, NULL), 0,
	    "limits: largest record exactly record_max");

	tw_batch_limits_default(&lim);
	lim.records_max = 4;
	is_int(decode(frame.data, frame.len, &lim, -1, &out, NULL), TW_ELIMIT,
	    "limits: 5 records over records_max 4");
	is_int(decode(frame.data, frame.len, &lim, 5, &out, NULL), TW_ELIMIT,
	    "limits: declared 5 over records_max 4, before decompressing");
	lim.records_max = 5;
	is_int(decode(frame.data, frame.len, &lim, 5, &out, &info), 0,
	    "limits: 5 records exactly records_max");
	ok(info.time_min == 1000 && info.time_max == 1004,
	    "limits: min/max time");

	tw_batch_limits_default(&lim);
	lim.decompressed_max = info.raw_len - 1;
	is_int(decode(frame.data, frame.len, &lim, 5, &out, NULL), TW_ETOOBIG,
	    "limits: declared content one byte over decompressed_max");
	lim.decompressed_max = info.raw_len;
	is_int(decode(frame.data, frame.len, &lim, 5, &out, NULL), 0,
	    "limits: content exactly decompressed_max");

	tw_batch_enc_free(enc);
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&frame);
	tw_buf_cleanup(&out);
}

static void
test_zstd_errors(void)
{
	struct tw_batch_enc *enc = tw_batch_enc_new(3);
	struct tw_batch_limits lim;
	struct tw_buf rec, frame, two, out;
	struct tw_batch_info info;
	size_t bad = 0;
	uint8_t junk[256];

	tw_buf_init(&rec, MIB);
	tw_buf_init(&frame, MIB);
	tw_buf_init(&two, MIB);
	tw_buf_init(&out, SIZE_MAX);
	for (int i = 0; i < 20; i++) {
		put_record(&rec, i, 1000 + i);
		if (tw_batch_enc_add(enc, rec.data, rec.len) != 0)
			abort();
	}
	if (tw_batch_enc_finish(enc, &frame, &info) != 0)
		abort();

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	is_int(decode(junk, sizeof(junk), NULL, -1, &out, NULL), TW_EZSTD,
	    "zstd: garbage is not a frame");
	is_int(decode("", 0, NULL, -1, &out, NULL), TW_EZSTD,
	    "zstd: an empty body is not a frame");
	is_int(tw_batch_http_status(TW_EZSTD), 400, "zstd: HTTP 400");

	/*
	 * Every proper prefix is a truncated frame (it has a checksum). With
	 * the ratio limit on, the shortest prefixes that hold the header are
	 * refused first because their length * 100 is below the declared
	 * content size (TW_ERATIO, also a refusal); with it off, every one is
	 * TW_EZSTD.
	 */
	tw_batch_limits_default(&lim);
	lim.ratio_max = 0;
	for (size_t k = 0; k < frame.len; k++)
		if (decode(frame.data, k, &lim, -1, &out, NULL) != TW_EZSTD)
			bad++;
	is_int(bad, 0, "zstd: all %zu truncations refused with TW_EZSTD",
	    frame.len);
	bad = 0;
	for (size_t k = 0; k < frame.len; k++) {
		int rc = decode(frame.data, k, NULL, -1, &out, NULL);
		if (rc != TW_EZSTD &&
		    (rc != TW_ERATIO || k * 100 >= info.raw_len))
			bad++;
	}
	is_int(bad, 0, "zstd: default limits: TW_EZSTD, or TW_ERATIO when "
	    "too short for the declared size");
	is_int(decode(frame.data, frame.len - 5, NULL, -1, &out, NULL),
	    TW_EZSTD, "zstd: a frame cut 5 bytes short");

	if (tw_buf_add(&two, frame.data, frame.len) != 0 ||
	    tw_buf_add(&two, frame.data, frame.len) != 0)
		abort();
	is_int(decode(two.data, two.len, NULL, -1, &out, NULL), TW_EZSTD,
	    "zstd: two concatenated frames");
	is_int(decode(two.data, frame.len + 1, NULL, -1, &out, NULL),
	    TW_EZSTD, "zstd: one trailing byte");

	/* Checksum mismatch: flip a bit of the last (checksum) byte. */
	frame.data[frame.len - 1] ^= 1;
	is_int(decode(frame.data, frame.len, NULL, -1, &out, NULL), TW_EZSTD,
	    "zstd: checksum mismatch");
	frame.data[frame.len - 1] ^= 1;
	/* Corrupt the middle of the compressed block. */
	frame.data[frame.len / 2] ^= 0x55;
	ok(decode(frame.data, frame.len, NULL, -1, &out, NULL) != 0,
	    "zstd: corrupted block refused");
	frame.data[frame.len / 2] ^= 0x55;
	is_int(decode(frame.data, frame.len, NULL, 20, &out, NULL), 0,
	    "zstd: the intact frame still decodes");

	/* A skippable frame, alone or in front of a good one. */
	tw_buf_reset(&two);
	if (tw_buf_add(&two, "\x50\x2a\x4d\x18\x04\x00\x00\x00" "abcd",
	    12) != 0)
		abort();
	is_int(decode(two.data, two.len, NULL, -1, &out, NULL), TW_EZSTD,
	    "zstd: a skippable frame");
	if (tw_buf_add(&two, frame.data, frame.len) != 0)
		abort();
	is_int(decode(two.data, two.len, NULL, -1, &out, NULL), TW_EZSTD,
	    "zstd: skippable frame then a batch");

	/* A frame without a checksum is accepted (zstd -C off). */
	tw_buf_reset(&two);
	frame_of(&two, "\x81\xa1" "a\x01", 4, 0);
	is_int(decode(two.data, two.len, NULL, 1, &out, NULL), 0,
	    "zstd: a frame without checksum");

	tw_batch_enc_free(enc);
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&frame);
	tw_buf_cleanup(&two);
	tw_buf_cleanup(&out);
}

/* ~40 KB on the wire decompressing to ~8 MB: 200:1. */
static void
test_ratio(void)
{
	struct tw_batch_enc *enc = tw_batch_enc_new(3);
	struct tw_batch_limits lim;
	struct tw_buf rec, frame, out;
	struct tw_batch_info info;
	uint8_t pad[2000];
	uint32_t x = 2463534242u;
	int r;
	struct tw_mpw w;

	tw_buf_init(&rec, MIB);
	tw_buf_init(&frame, 16 * MIB);
	tw_buf_init(&out, SIZE_MAX);
	memset(pad, 0, sizeof(pad));
	for (int i = 0; i < 4000; i++) {
		/* A few random bytes per record keep it at ~200:1. */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		tw_buf_reset(&rec);
		tw_mpw_init(&w, &rec);
		tw_mpw_map(&w, 3);
		tw_mpw_cstr(&w, "r");
		tw_mpw_uint(&w, x);
		tw_mpw_cstr(&w, "s");
		tw_mpw_uint(&w, x * 2654435761u);
		tw_mpw_cstr(&w, "pad");
		tw_mpw_bin(&w, pad, sizeof(pad));
		if ((r = tw_batch_enc_add(enc, rec.data, rec.len)) != 0) {
			diag("record %d: %s", i, tw_strerror(r));
			abort();
		}
	}
	if (tw_batch_enc_finish(enc, &frame, &info) != 0)
		abort();
	diag("ratio: %zu bytes -> %zu bytes (%zu:1)", (size_t)info.raw_len,
	    frame.len, (size_t)info.raw_len / frame.len);
	ok(frame.len > 20000 && frame.len < 80000 && info.raw_len > 8000000,
	    "ratio: ~40 KB frame of ~8 MB");
	/* The header declares the size: refused before decompressing. */
	is_int(decode(frame.data, frame.len, NULL, 4000, &out, NULL),
	    TW_ERATIO, "ratio: over 100:1 refused");
	ok(out.cap == 0, "ratio: refused from the header, nothing allocated");
	tw_batch_limits_default(&lim);
	lim.ratio_max = 1000;
	is_int(decode(frame.data, frame.len, &lim, 4000, &out, NULL), 0,
	    "ratio: accepted under 1000:1");
	tw_batch_limits_default(&lim);
	lim.ratio_max = (uint32_t)((info.raw_len - TW_BATCH_RATIO_FREE - 1) /
	    frame.len);
	is_int(decode(frame.data, frame.len, &lim, 4000, &out, NULL),
	    TW_ERATIO, "ratio: refused one step under the actual ratio");
	lim.ratio_max++;
	is_int(decode(frame.data, frame.len, &lim, 4000, &out, NULL), 0,
	    "ratio: accepted at the actual ratio");

	tw_batch_enc_free(enc);
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&frame);
	tw_buf_cleanup(&out);
}

/*
 * A frame whose blocks can hold the content size it declares is
 * decompressed in one pass into room for that size, reused from batch to
 * batch; a header that lies about the size (but not so much that the
 * blocks could not hold it) gets the answer the chunked path gives.
 */
static void
test_one_pass(void)
{
	struct tw_buf rec, recs, frame, out;
	struct tw_batch_info info;
	size_t cap, fcs;
	int n;

	tw_buf_init(&rec, MIB);
	tw_buf_init(&recs, 8 * MIB);
	tw_buf_init(&frame, 8 * MIB);
	tw_buf_init(&out, SIZE_MAX);
	for (n = 0; recs.len < 400 * 1024; n++) {
		put_record(&rec, n, 1718356867100234567LL + n);
		if (tw_buf_add(&recs, rec.data, rec.len) != 0)
			abort();
	}
	frame_of(&frame, recs.data, recs.len, 1);
	/* Single segment, 4-byte content size right after the descriptor. */
	if ((uint8_t)frame.data[4] != 0xa4)
		abort();
	fcs = (uint8_t)frame.data[5] | (size_t)(uint8_t)frame.data[6] << 8 |
	    (size_t)(uint8_t)frame.data[7] << 16 |
	    (size_t)(uint8_t)frame.data[8] << 24;
	if (fcs != recs.len)
		abort();

	is_int(decode(frame.data, frame.len, NULL, n, &out, &info), 0,
	    "one pass: %zu bytes from a %zu-byte frame", recs.len,
	    frame.len);
	ok(out.len == recs.len && memcmp(out.data, recs.data, recs.len) == 0 &&
	    info.records == (uint32_t)n, "one pass: the records come out "
	    "intact");
	cap = out.cap;
	is_int(decode(frame.data, frame.len, NULL, n, &out, &info), 0,
	    "one pass: again into the same buffer");
	ok(out.cap == cap && out.len == recs.len, "one pass: its memory is "
	    "reused, not grown");

	/* Declared 1000 bytes too large, then too small. */
	fcs += 1000;
	memcpy(frame.data + 5, (uint8_t[]){ (uint8_t)fcs, (uint8_t)(fcs >> 8),
	    (uint8_t)(fcs >> 16), (uint8_t)(fcs >> 24) }, 4);
	is_int(decode(frame.data, frame.len, NULL, n, &out, NULL), TW_EZSTD,
	    "one pass: content size declared too large");
	ok(out.len == 0, "one pass: out is empty after the error");
	fcs -= 2000;
	memcpy(frame.data + 5, (uint8_t[]){ (uint8_t)fcs, (uint8_t)(fcs >> 8),
	    (uint8_t)(fcs >> 16), (uint8_t)(fcs >> 24) }, 4);
	is_int(decode(frame.data, frame.len, NULL, n, &out, NULL), TW_EZSTD,
	    "one pass: content size declared too small");
	ok(out.len == 0, "one pass: out is empty after that error too");

	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&recs);
	tw_buf_cleanup(&frame);
	tw_buf_cleanup(&out);
}

static void
test_http_status(void)
{
	is_int(tw_batch_http_status(0), 200, "http: 0 is 200");
	is_int(tw_batch_http_status(TW_EEOF), 400, "http: EOF is 400");
	is_int(tw_batch_http_status(TW_ENOMEM), 500, "http: NOMEM is 500");
	is_int(tw_batch_http_status(TW_EIO), 500, "http: IO is 500");
}

int
main(void)
{
	long rss;

	if ((dec = tw_batch_dec_new()) == NULL)
		return 1;
	test_roundtrip_hand();
	test_roundtrip_samples();
	test_encoder_limits();
	test_bomb();
	test_window();
	test_msgpack();
	test_ratio_first();
	test_count_and_limits();
	test_zstd_errors();
	test_ratio();
	test_one_pass();
	test_http_status();

	rss = rss_kib();
	diag("peak RSS %ld KiB (limit %ld KiB%s)", rss, RSS_MAX_KIB,
#ifdef TEST_ASAN
	    ", relaxed under ASan"
#else
	    ""
#endif
	    );
	ok(rss > 0 && rss < RSS_MAX_KIB, "peak RSS %ld KiB under %ld KiB", rss,
	    RSS_MAX_KIB);
	test_window_cap();
	tw_batch_dec_free(dec);
	tw_batch_dec_free(NULL);
	return done_testing();
}

/* test_store.c: unit tests for the segment store: writer, reader, verify. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>
#include <signal.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "batch.h"
#include "log.h"
#include "record.h"
#include "store.h"
#include "store_format.h"
#include "store_reader.h"
#include "tap.h"

/*
 * base: on the disk TMPDIR (or /tmp) is on, where fsync costs what it
 * costs (group commit shows there); fbase: on /dev/shm when there is one,
 * for the tests that open, cut and reopen stores hundreds of times.
 */
static char base[512];
static char fbase[512];

/* --- helpers --- */

static void
join(char *out, size_t n, const char *a, const char *b)
{
	if ((size_t)snprintf(out, n, "%s/%s", a, b) >= n)
		abort();
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void
rm_rf(const char *p)
{
	nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory path under b (not created: the store creates it). */
static const char *
tdir_in(const char *b, const char *name)
{
	static char bufs[8][512];
	static int k;
	char *p = bufs[k++ % 8];

	join(p, 512, b, name);
	rm_rf(p);
	return p;
}

static const char *
tdir(const char *name)
{
	return tdir_in(base, name);
}

static const char *
fdir(const char *name)
{
	return tdir_in(fbase, name);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Deterministic pseudo-random body bytes for (agent, seq). */
static void
fill_body(uint8_t *p, size_t n, const char *agent, uint64_t seq)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL ^ seq;

	for (const char *a = agent; *a != '\0'; a++)
		x = (x ^ (uint8_t)*a) * 0x100000001b3ULL;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static bool
body_ok(const struct tw_store_block *b, size_t n)
{
	uint8_t *want = malloc(n);
	bool same;

	if (want == NULL)
		abort();
	fill_body(want, n, b->agent_id, b->seq);
	same = b->body_len == n && memcmp(want, b->body, n) == 0;
	free(want);
	return same;
}

static struct tw_store *
open_store(const char *dir, const struct tw_store_opts *o)
{
	char *why = NULL;
	struct tw_store *s = tw_store_open(dir, o, &why);

	if (s == NULL)
		diag("open %s: %s", dir, why != NULL ? why : "?");
	free(why);
	return s;
}

/* Append a fake body of n bytes with the given time range. */
static int
append(struct tw_store *s, const char *agent, uint64_t seq, size_t n,
    int64_t tmin, int64_t tmax, struct tw_store_pos *pos)
{
	struct tw_batch_info info;
	uint8_t *body = malloc(n);
	int r;

	if (body == NULL)
		abort();
	memset(&info, 0, sizeof(info));
	info.records = 1;
	info.time_min = tmin;
	info.time_max = tmax;
	fill_body(body, n, agent, seq);
	r = tw_store_append(s, agent, seq, &info, body, n, pos);
	free(body);
	return r;
}

static int
append_simple(struct tw_store *s, const char *agent, uint64_t seq, size_t n)
{
	return append(s, agent, seq, n, (int64_t)seq * 1000,
	    (int64_t)seq * 1000 + 500, NULL);
}

static struct tw_store_verify_result vres;

/* Run tw_store_verify; returns blocks when intact, -1 when bad, -2 error. */
static long
verify(const char *dir, const char *key)
{
	char *why = NULL;
	int r = tw_store_verify(dir, key, &vres, &why);

	if (r != 0) {
		diag("verify %s: %s", dir, why != NULL ? why : tw_strerror(r));
		free(why);
		return -2;
	}
	free(why);
	if (vres.bad) {
		diag("verify: block %" PRIu64 " %s offset %" PRIu64 ": %s",
		    vres.index, vres.file, vres.offset, vres.what);
		return -1;
	}
	return (long)vres.blocks;
}

/* Read every block; returns the count, -1 on a reader error. */
static long
count_blocks(const char *dir, size_t body_len, bool *bodies_ok)
{
	struct tw_store_reader *r;
	struct tw_store_block b;
	char *why = NULL;
	long n = 0;
	int rc;

	if (bodies_ok != NULL)
		*bodies_ok = true;
	if ((r = tw_store_reader_open(dir, &why)) == NULL) {
		diag("reader: %s", why != NULL ? why : "?");
		free(why);
		return -1;
	}
	while ((rc = tw_store_reader_next(r, &b)) == 1) {
		if (bodies_ok != NULL && body_len > 0 && !body_ok(&b, body_len))
			*bodies_ok = false;
		n++;
	}
	if (rc != 0) {
		diag("reader: %s", tw_store_reader_error(r));
		n = -1;
	}
	tw_store_reader_free(r);
	return n;
}

static long
fsize(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static int
copy_file(const char *src, const char *dst, long len)
{
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
	char buf[65536];
	long left = len < 0 ? LONG_MAX : len;
	size_t n;
	int r = 0;

	if (in == NULL || out == NULL)
		r = -1;
	while (r == 0 && left > 0 && (n = fread(buf, 1,
	    left < (long)sizeof(buf) ? (size_t)left : sizeof(buf), in)) > 0) {
		if (fwrite(buf, 1, n, out) != n)
			r = -1;
		left -= (long)n;
	}
	if (in != NULL)
		fclose(in);
	if (out != NULL && fclose(out) != 0)
		r = -1;
	return r;
}

static int
write_bytes(const char *p, const void *data, size_t n, bool append_mode)
{
	FILE *f = fopen(p, append_mode ? "ab" : "wb");
	int r = 0;

	if (f == NULL)
		return -1;
	if (n > 0 && fwrite(data, 1, n, f) != n)
		r = -1;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

static int
flip_byte(const char *p, long off)
{
	FILE *f = fopen(p, "r+b");
	int c, r = -1;

	if (f == NULL)
		return -1;
	if (fseek(f, off, SEEK_SET) == 0 && (c = fgetc(f)) != EOF &&
	    fseek(f, off, SEEK_SET) == 0 && fputc(c ^ 0x20, f) != EOF)
		r = 0;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

static void
seg_path(char *out, size_t n, const char *dir, uint64_t id, const char *ext)
{
	char name[TW_STORE_NAME_MAX];

	tw_store_name(name, id, ext);
	join(out, n, dir, name);
}

/* Positions of every block in the store, in order; returns the count. */
static size_t
positions(const char *dir, struct tw_store_pos *pos, size_t max)
{
	struct tw_store_reader *r = tw_store_reader_open(dir, NULL);
	struct tw_store_block b;
	size_t n = 0;

	if (r == NULL)
		return 0;
	while (n < max && tw_store_reader_next(r, &b) == 1)
		pos[n++] = b.pos;
	tw_store_reader_free(r);
	return n;
}

static struct tw_store_opts
small_opts(void)
{
	struct tw_store_opts o;

	tw_store_opts_default(&o);
	o.segment_max_bytes = 4096;
	return o;
}

/* --- tests --- */

/* Real batches in, the same frames and records out. */
static void
test_roundtrip(void)
{
	const char *dir = tdir("roundtrip");
	struct tw_store_opts o;
	struct tw_store *s;
	struct tw_store_stats st;
	struct tw_batch_enc *enc = tw_batch_enc_new(3);
	struct tw_batch_dec *dec = tw_batch_dec_new();
	struct tw_batch_limits lim;
	struct tw_buf rec, frames[3], out;
	struct tw_batch_info info[3], dinfo;
	struct tw_store_pos pos[3];
	struct tw_store_reader *r;
	struct tw_store_block b;
	struct tw_mpw w;
	uint8_t prev[TW_STORE_HASH_LEN];
	int rc, n = 0, same = 1;

	tw_store_opts_default(&o);
	tw_batch_limits_default(&lim);
	tw_buf_init(&rec, 1 << 20);
	tw_buf_init(&out, 1 << 24);
	for (int i = 0; i < 3; i++) {
		tw_buf_init(&frames[i], 1 << 20);
		for (int k = 0; k <= i; k++) {
			char json[256];
			snprintf(json, sizeof(json), "{\"time\":"
			    "%d%03d000000000,\"message\":\"batch %d record "
			    "%d\",\"observed_time\":1718000000000000001}",
			    1718, i, i, k);
			tw_buf_reset(&rec);
			tw_mpw_init(&w, &rec);
			if (tw_record_from_json(json, strlen(json), &w,
			    NULL) != 0 ||
			    tw_batch_enc_add(enc, rec.data, rec.len) != 0)
				abort();
		}
		if (tw_batch_enc_finish(enc, &frames[i], &info[i]) != 0)
			abort();
	}
	s = open_store(dir, &o);
	ok(s != NULL, "roundtrip: open creates the store");
	if (s == NULL)
		return;
	for (int i = 0; i < 3; i++)
		is_int(tw_store_append(s, "node-1", (uint64_t)i + 1, &info[i],
		    frames[i].data, frames[i].len, &pos[i]), 0,
		    "roundtrip: append batch %d", i);
	ok(tw_store_has(s, "node-1", 2) && !tw_store_has(s, "node-1", 4) &&
	    !tw_store_has(s, "node-2", 1), "roundtrip: has()");
	tw_store_stats(s, &st);
	is_int(st.appends, 3, "roundtrip: 3 appends");
	is_int(st.blocks, 3, "roundtrip: 3 blocks");
	is_int(st.segments, 1, "roundtrip: 1 segment");
	ok(st.fsyncs >= 1 && st.fsyncs <= 3, "roundtrip: fsynced (%" PRIu64
	    ")", st.fsyncs);
	ok(pos[0].segment == 1 && pos[0].offset == 0 &&
	    pos[1].offset > pos[0].offset, "roundtrip: positions");
	tw_store_close(s);

	r = tw_store_reader_open(dir, NULL);
	ok(r != NULL, "roundtrip: reader opens");
	memset(prev, 0, sizeof(prev));
	while (r != NULL && (rc = tw_store_reader_next(r, &b)) == 1) {
		if (n >= 3) {
			n++;
			break;
		}
		same &= b.index == (uint64_t)n && b.seq == (uint64_t)n + 1 &&
		    strcmp(b.agent_id, "node-1") == 0 &&
		    b.records == info[n].records &&
		    b.time_min == info[n].time_min &&
		    b.time_max == info[n].time_max &&
		    b.body_len == frames[n].len &&
		    memcmp(b.body, frames[n].data, b.body_len) == 0 &&
		    memcmp(b.prev_hash, prev, sizeof(prev)) == 0 &&
		    b.pos.segment == pos[n].segment &&
		    b.pos.offset == pos[n].offset && b.received_at > 0;
		memcpy(prev, b.hash, sizeof(prev));
		same &= tw_batch_decode(dec, b.body, b.body_len, &lim,
		    b.records, &out, &dinfo) == 0 &&
		    dinfo.records == (uint32_t)n + 1;
		n++;
	}
	is_int(n, 3, "roundtrip: reader returns 3 blocks");
	ok(same, "roundtrip: header fields, bodies and chain as appended");
	tw_store_reader_free(r);
	is_int(verify(dir, NULL), 3, "roundtrip: verify ok 3 blocks");

	for (int i = 0; i < 3; i++)
		tw_buf_cleanup(&frames[i]);
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&out);
	tw_batch_enc_free(enc);
	tw_batch_dec_free(dec);
}

static void
test_bad_args(void)
{
	const char *dir = tdir("badargs");
	struct tw_store_opts o = small_opts();
	struct tw_batch_info info;
	struct tw_store *s, *s2;
	char agent[300], *why = NULL;

	memset(&info, 0, sizeof(info));
	o.segment_max_bytes = 100;
	ok(tw_store_open(dir, &o, &why) == NULL && why != NULL,
	    "args: a segment size under 4 KiB is refused");
	free(why);
	why = NULL;
	o = small_opts();
	o.block_max_bytes = 1000;
	o.checkpoint_signing = TW_STORE_SIG_HMAC_SHA256;
	ok(tw_store_open(dir, &o, &why) == NULL && why != NULL,
	    "args: signing without a key file is refused");
	free(why);
	why = NULL;
	o.checkpoint_signing = TW_STORE_SIG_NONE;
	if ((s = open_store(dir, &o)) == NULL)
		return;
	memset(agent, 'a', sizeof(agent));
	agent[256] = '\0';
	is_int(tw_store_append(s, "", 1, &info, "x", 1, NULL), TW_EINVAL,
	    "args: empty agent id");
	is_int(tw_store_append(s, agent, 1, &info, "x", 1, NULL), TW_EINVAL,
	    "args: 256-byte agent id");
	agent[255] = '\0';
	is_int(tw_store_append(s, agent, 1, &info, "x", 1, NULL), 0,
	    "args: 255-byte agent id");
	is_int(tw_store_append(s, "a", 1, &info, "x", 0, NULL), TW_EINVAL,
	    "args: empty frame");
	is_int(append_simple(s, "a", 2, 1001), TW_ETOOBIG,
	    "args: frame over block_max_bytes");
	s2 = tw_store_open(dir, &o, &why);
	ok(s2 == NULL && why != NULL && strstr(why, "another process") != NULL,
	    "args: a second writer is locked out (%s)", why ? why : "");
	free(why);
	tw_store_close(s2);
	tw_store_close(s);
	is_int(verify(dir, NULL), 1, "args: verify ok 1 block");
	dir = tdir("empty");
	is_int(verify(dir, NULL), -2, "args: verify of a missing directory "
	    "is an error");
	if (mkdir(dir, 0700) == 0)
		is_int(verify(dir, NULL), 0, "args: an empty store verifies as "
		    "0 blocks");
}

/* Blocks chain across segments; checkpoints; reopen from indexes. */
static void
test_segments(void)
{
	const char *dir = tdir("segments");
	struct tw_store_opts o = small_opts();
	struct tw_store_reader *r;
	struct tw_store_block b;
	struct tw_store_stats st;
	struct tw_store *s;
	uint8_t prev[TW_STORE_HASH_LEN];
	char p[600];
	bool good = true, bodies;
	int n = 0, nck = 0;

	if ((s = open_store(dir, &o)) == NULL)
		return;
	for (uint64_t i = 1; i <= 20; i++)
		good &= append_simple(s, "agent", i, 1500) == 0;
	ok(good, "segments: 20 appends");
	tw_store_stats(s, &st);
	is_int(st.segments, 10, "segments: 2 blocks a segment");
	is_int(st.sealed, 9, "segments: all but the last sealed");
	tw_store_close(s);
	for (uint64_t id = 1; id <= 10; id++) {
		seg_path(p, sizeof(p), dir, id, TW_STORE_CKPT_EXT);
		nck += fsize(p) > 0;
	}
	is_int(nck, 9, "segments: 9 checkpoint files");
	is_int(verify(dir, NULL), 20, "segments: verify ok 20 blocks");
	is_int(vres.checkpoints, 9, "segments: verify checked 9 checkpoints");

	r = tw_store_reader_open(dir, NULL);
	memset(prev, 0, sizeof(prev));
	good = true;
	while (r != NULL && tw_store_reader_next(r, &b) == 1) {
		good &= b.index == (uint64_t)n && b.seq == (uint64_t)n + 1 &&
		    memcmp(b.prev_hash, prev, sizeof(prev)) == 0 &&
		    b.pos.segment == (uint64_t)n / 2 + 1 && body_ok(&b, 1500);
		memcpy(prev, b.hash, sizeof(prev));
		n++;
	}
	tw_store_reader_free(r);
	is_int(n, 20, "segments: reader crosses segments");
	ok(good, "segments: order, links and bodies");

	/* Reopen: sealed segments come back from their index files, one
	 * index is missing and is rebuilt from the headers. */
	seg_path(p, sizeof(p), dir, 3, TW_STORE_IDX_EXT);
	ok(unlink(p) == 0, "segments: remove one index file");
	if ((s = open_store(dir, &o)) == NULL)
		return;
	is_int(append_simple(s, "agent", 5, 1500), TW_EEXISTS,
	    "segments: dedup state rebuilt from index files");
	is_int(append_simple(s, "agent", 6, 1500), TW_EEXISTS,
	    "segments: and from a rebuilt index");
	is_int(append_simple(s, "agent", 21, 1500), 0,
	    "segments: append after reopen");
	tw_store_close(s);
	ok(fsize(p) > 0, "segments: the index was rebuilt");
	is_int(verify(dir, NULL), 21, "segments: verify ok 21 blocks");
	is_int(count_blocks(dir, 1500, &bodies), 21, "segments: 21 readable");
	ok(bodies, "segments: bodies intact");
}

static void
test_dedup(void)
{
	const char *dir = tdir("dedup");
	struct tw_store_opts o;
	struct tw_store_stats st;
	struct tw_store *s;

	tw_store_opts_default(&o);
	if ((s = open_store(dir, &o)) == NULL)
		return;
	is_int(append_simple(s, "a", 1, 64), 0, "dedup: a1");
	is_int(append_simple(s, "a", 2, 64), 0, "dedup: a2");
	is_int(append_simple(s, "a", 3, 64), 0, "dedup: a3");
	is_int(append_simple(s, "a", 2, 64), TW_EEXISTS, "dedup: a2 again");
	is_int(append_simple(s, "a", 5, 64), 0, "dedup: a5 before a4");
	is_int(append_simple(s, "a", 4, 64), 0,
	    "dedup: a4 late is not a duplicate");
	is_int(append_simple(s, "a", 4, 64), TW_EEXISTS, "dedup: a4 again");
	is_int(append_simple(s, "a", 5, 64), TW_EEXISTS, "dedup: a5 again");
	is_int(append_simple(s, "b", 2, 64), 0, "dedup: same seq, other agent");
	is_int(append_simple(s, "c", 10, 64), 0, "dedup: c10 first");
	is_int(append_simple(s, "c", 9, 64), 0, "dedup: c9 below the first");
	tw_store_stats(s, &st);
	is_int(st.duplicates, 3, "dedup: 3 duplicates counted");
	is_int(st.appends, 8, "dedup: 8 stored");
	tw_store_close(s);

	if ((s = open_store(dir, &o)) == NULL)
		return;
	ok(append_simple(s, "a", 1, 64) == TW_EEXISTS &&
	    append_simple(s, "a", 3, 64) == TW_EEXISTS &&
	    append_simple(s, "a", 5, 64) == TW_EEXISTS &&
	    append_simple(s, "b", 2, 64) == TW_EEXISTS &&
	    append_simple(s, "c", 9, 64) == TW_EEXISTS,
	    "dedup: state rebuilt on reopen");
	is_int(append_simple(s, "a", 10, 64), 0, "dedup: a10 after restart");
	is_int(append_simple(s, "a", 7, 64), 0, "dedup: a7 in the gap");
	is_int(append_simple(s, "a", 6, 64), 0, "dedup: a6 in the gap");
	is_int(append_simple(s, "a", 8, 64), 0, "dedup: a8 in the gap");
	is_int(append_simple(s, "a", 9, 64), 0, "dedup: a9 closes the gap");
	ok(tw_store_has(s, "a", 9) && !tw_store_has(s, "a", 11),
	    "dedup: has()");
	is_int(append_simple(s, "b", 1, 64), 0, "dedup: b1 after b2");
	tw_store_close(s);
	is_int(verify(dir, NULL), 14, "dedup: verify ok 14 blocks");

	/* A bounded number of gaps: the oldest is closed by force. */
	o.dedup_gaps_max = 2;
	if ((s = open_store(tdir("dedup-gaps"), &o)) == NULL)
		return;
	ok(append_simple(s, "g", 1, 8) == 0 &&
	    append_simple(s, "g", 3, 8) == 0 &&
	    append_simple(s, "g", 5, 8) == 0 &&
	    append_simple(s, "g", 7, 8) == 0,
	    "dedup: four runs");
	tw_store_stats(s, &st);
	is_int(st.dedup_gaps_forced, 1, "dedup: one gap closed by force");
	is_int(append_simple(s, "g", 2, 8), TW_EEXISTS,
	    "dedup: the forced gap counts as stored");
	is_int(append_simple(s, "g", 4, 8), 0, "dedup: a newer gap is open");
	tw_store_close(s);
}

/* Build a one-segment store of nblocks blocks; returns its file size. */
static long
build_torn_base(const char *dir, int nblocks, size_t body)
{
	struct tw_store_opts o;
	struct tw_store *s;
	char p[600];

	tw_store_opts_default(&o);
	if ((s = open_store(dir, &o)) == NULL)
		return -1;
	for (int i = 1; i <= nblocks; i++)
		if (append_simple(s, "t", (uint64_t)i, body) != 0)
			return -1;
	tw_store_close(s);
	seg_path(p, sizeof(p), dir, 1, TW_STORE_SEG_EXT);
	return fsize(p);
}

/*
 * Open work (a damaged copy) and check what is kept; with full, also
 * append a block and verify the whole chain.
 */
static bool
torn_case_full(const char *work, long want_blocks, long want_cut, bool full)
{
	struct tw_store_opts o;
	struct tw_store_stats st;
	struct tw_store *s;
	bool good = true;
	int r;

	tw_store_opts_default(&o);
	if ((s = open_store(work, &o)) == NULL)
		return false;
	tw_store_stats(s, &st);
	if ((long)st.blocks != want_blocks ||
	    (want_cut >= 0 && (long)st.torn_cut_bytes != want_cut)) {
		diag("kept %" PRIu64 " blocks (want %ld), cut %" PRIu64
		    " (want %ld)", st.blocks, want_blocks, st.torn_cut_bytes,
		    want_cut);
		good = false;
	}
	if (!full) {
		tw_store_close(s);
		return good;
	}
	if ((r = append_simple(s, "t", 100, 40)) != 0) {
		diag("append after cut: %s", tw_strerror(r));
		good = false;
	}
	tw_store_close(s);
	if (verify(work, NULL) != want_blocks + 1)
		good = false;
	return good;
}

static bool
torn_case(const char *work, long want_blocks, long want_cut)
{
	return torn_case_full(work, want_blocks, want_cut, true);
}

static void
test_torn_tail(void)
{
	const char *basedir = fdir("torn-base"), *work = fdir("torn-work");
	struct tw_store_pos pos[8];
	char src[600], dst[600], logp[600], logbuf[4096];
	long size, last, bad = 0, cases = 0;
	bool readers_ok = true;
	int logfd;
	ssize_t nlog;

	size = build_torn_base(basedir, 3, 8);
	ok(size > 0, "torn: base store of 3 blocks (%ld bytes)", size);
	if (size <= 0 || positions(basedir, pos, 8) != 3)
		return;
	last = (long)pos[2].offset;
	seg_path(src, sizeof(src), basedir, 1, TW_STORE_SEG_EXT);
	seg_path(dst, sizeof(dst), work, 1, TW_STORE_SEG_EXT);

	/* The log line names what was cut. */
	join(logp, sizeof(logp), fbase, "torn.log");
	logfd = open(logp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	tw_log_set_fd(logfd);
	tw_log_set_rate_window(0);

	/* Truncated at every byte inside the last block. */
	for (long cut = last; cut < size; cut++) {
		rm_rf(work);
		if (mkdir(work, 0700) != 0 || copy_file(src, dst, cut) != 0)
			abort();
		if (cut == last + 10) {
			/* Readers stop before the torn block, quietly. */
			readers_ok = count_blocks(work, 8, NULL) == 2;
			/* verify names it */
			readers_ok &= verify(work, NULL) == -1 &&
			    vres.index == 2 && vres.offset == (uint64_t)last &&
			    strstr(vres.what, "truncated") != NULL;
		}
		cases++;
		/* Appending and verifying after every cut costs two more
		 * fsyncs: do it for every 4th length and the edges. */
		bool full = (cut - last) % 4 == 0 || cut - last < 4 ||
		    size - cut < 4;
		if (!torn_case_full(work, 2, cut - last, full)) {
			diag("torn: truncated to %ld failed", cut);
			bad++;
		}
	}
	tw_log_set_fd(2);
	nlog = pread(logfd, logbuf, sizeof(logbuf) - 1, 0);
	close(logfd);
	logbuf[nlog > 0 ? nlog : 0] = '\0';
	is_int(bad, 0, "torn: %ld truncations inside the last block are cut",
	    cases);
	ok(readers_ok, "torn: a reader stops before a torn block; verify "
	    "names it as truncated");
	ok(strstr(logbuf, "cut a torn tail") != NULL &&
	    strstr(logbuf, "offset=") != NULL, "torn: the cut is logged");

	/* Whole blocks followed by garbage. */
	{
		static const size_t lens[] = { 1, 3, 4, 50, 95, 96, 300 };
		uint8_t junk[300];
		bad = 0;
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			fill_body(junk, sizeof(junk), "junk", i);
			if (i % 2 == 1)
				memcpy(junk, TW_STORE_MAGIC, 4);
			rm_rf(work);
			if (mkdir(work, 0700) != 0 ||
			    copy_file(src, dst, -1) != 0 ||
			    write_bytes(dst, junk, lens[i], true) != 0)
				abort();
			if (!torn_case(work, 3, (long)lens[i]))
				bad++;
		}
		is_int(bad, 0, "torn: garbage after the last block is cut");
	}

	/* A whole last block whose hash does not check. */
	rm_rf(work);
	if (mkdir(work, 0700) != 0 || copy_file(src, dst, -1) != 0 ||
	    flip_byte(dst, size - 5) != 0)
		abort();
	ok(torn_case(work, 2, size - last), "torn: a bad last block is cut");
	/* A bad header field in the last block. */
	rm_rf(work);
	if (mkdir(work, 0700) != 0 || copy_file(src, dst, -1) != 0 ||
	    flip_byte(dst, last + 41) != 0)
		abort();
	ok(torn_case(work, 2, size - last),
	    "torn: a last block with a changed header is cut");
	/* A segment cut inside its first block: empty, still usable. */
	rm_rf(work);
	if (mkdir(work, 0700) != 0 || copy_file(src, dst, 20) != 0)
		abort();
	ok(torn_case(work, 0, 20), "torn: a torn first block leaves an "
	    "empty segment");
}

/* A damaged block in the middle is reported, never cut. */
static void
test_flip_middle(void)
{
	const char *dir = tdir("flip"), *work = tdir("flip-work");
	struct tw_store_opts o = small_opts();
	struct tw_store_pos pos[16];
	struct tw_store_stats st;
	struct tw_store_reader *r;
	struct tw_store_block b;
	struct tw_store *s;
	char src[600], dst[600];
	long before;
	int rc, n = 0, errs = 0;
	bool good = true;

	/* One open segment of 5 blocks. */
	if (build_torn_base(dir, 5, 200) <= 0 || positions(dir, pos, 16) != 5)
		return;
	seg_path(src, sizeof(src), dir, 1, TW_STORE_SEG_EXT);
	seg_path(dst, sizeof(dst), work, 1, TW_STORE_SEG_EXT);
	if (mkdir(work, 0700) != 0 || copy_file(src, dst, -1) != 0 ||
	    flip_byte(dst, (long)pos[2].offset + 200) != 0)
		abort();
	is_int(verify(work, NULL), -1, "flip: verify fails");
	ok(vres.index == 2 && vres.offset == pos[2].offset &&
	    strstr(vres.what, "hash mismatch") != NULL &&
	    strcmp(vres.file, "00000000000000000001.seg") == 0,
	    "flip: verify names block 2, its segment and offset");

	/* The reader reports the damaged block once and goes on. */
	r = tw_store_reader_open(work, NULL);
	while (r != NULL && (rc = tw_store_reader_next(r, &b)) != 0) {
		if (rc == 1) {
			good &= b.index != 2;
			n++;
		} else if (rc == TW_EPARSE) {
			errs++;
		} else {
			break;
		}
	}
	tw_store_reader_free(r);
	ok(n == 4 && errs == 1 && good, "flip: the reader skips block 2 "
	    "(%d blocks, %d errors)", n, errs);

	/* The writer keeps it (acked data is never cut) and goes on. */
	before = fsize(dst);
	if ((s = open_store(work, &o)) == NULL)
		return;
	tw_store_stats(s, &st);
	ok(st.corrupt_blocks == 1 && st.torn_cut_bytes == 0 && st.blocks == 4,
	    "flip: open keeps the damaged block in place");
	is_int(append_simple(s, "t", 3, 40), 0,
	    "flip: the damaged block's batch can be stored again");
	tw_store_close(s);
	ok(fsize(dst) > before, "flip: nothing was cut");
	is_int(verify(work, NULL), -1, "flip: verify still names it");
	is_int(vres.index, 2, "flip: block 2");

	/* In a sealed segment, in a header field. */
	dir = tdir("flip-sealed");
	if ((s = open_store(dir, &o)) == NULL)
		return;
	for (uint64_t i = 1; i <= 8; i++)
		tw_ignore(append_simple(s, "x", i, 1500));
	tw_store_close(s);
	if (positions(dir, pos, 16) != 8)
		return;
	seg_path(dst, sizeof(dst), dir, 2, TW_STORE_SEG_EXT);
	if (flip_byte(dst, (long)pos[3].offset + 40) != 0) /* seq */
		abort();
	is_int(verify(dir, NULL), -1, "flip: a changed header in a sealed "
	    "segment");
	ok(vres.index == 3 && vres.offset == pos[3].offset &&
	    strcmp(vres.file, "00000000000000000002.seg") == 0 &&
	    strstr(vres.what, "hash mismatch") != NULL,
	    "flip: verify names block 3 in segment 2 (%s)", vres.what);

	/* A removed middle segment breaks the chain. */
	dir = tdir("flip-removed");
	if ((s = open_store(dir, &o)) == NULL)
		return;
	for (uint64_t i = 1; i <= 8; i++)
		tw_ignore(append_simple(s, "x", i, 1500));
	tw_store_close(s);
	seg_path(dst, sizeof(dst), dir, 2, TW_STORE_SEG_EXT);
	unlink(dst);
	seg_path(dst, sizeof(dst), dir, 2, TW_STORE_CKPT_EXT);
	unlink(dst);
	is_int(verify(dir, NULL), -1, "flip: a removed segment");
	ok(vres.index == 2 && vres.offset == 0 &&
	    strcmp(vres.file, "00000000000000000003.seg") == 0 &&
	    strstr(vres.what, "broken chain link") != NULL,
	    "flip: verify names the first block after the gap");
}

struct gc_arg {
	struct tw_store *s;
	int t;
	int n;
	int ok;
	int dup;
	const char *agent; /* shared agent: all threads race on the seqs */
};

static void *
gc_thread(void *p)
{
	struct gc_arg *a = p;
	char agent[32];

	snprintf(agent, sizeof(agent), "agent-%d", a->t);
	for (int i = 1; i <= a->n; i++) {
		int r = append_simple(a->s, a->agent != NULL ? a->agent : agent,
		    (uint64_t)i, 300);
		if (r == 0)
			a->ok++;
		else if (r == TW_EEXISTS)
			a->dup++;
	}
	return NULL;
}

static void
test_group_commit(void)
{
	enum { THREADS = 8, PER = 40 };
	const char *dir = tdir("group");
	struct tw_store_opts o;
	struct tw_store_stats st;
	struct gc_arg args[THREADS];
	pthread_t th[THREADS];
	struct tw_store *s;
	int acked = 0, oks = 0, dups = 0;
	bool bodies;

	tw_store_opts_default(&o);
	o.segment_max_bytes = 64 << 10; /* sealing in the middle, too */
	if ((s = open_store(dir, &o)) == NULL)
		return;
	for (int t = 0; t < THREADS; t++) {
		args[t] = (struct gc_arg){ s, t, PER, 0, 0, NULL };
		pthread_create(&th[t], NULL, gc_thread, &args[t]);
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		acked += args[t].ok;
	}
	tw_store_stats(s, &st);
	is_int(acked, THREADS * PER, "group: every append acked");
	is_int(st.appends, THREADS * PER, "group: every block stored");
	ok(st.fsyncs * 2 <= st.appends && st.max_group > 1,
	    "group: %" PRIu64 " fdatasyncs for %" PRIu64 " appends (largest "
	    "group %" PRIu64 ")", st.fsyncs, st.appends, st.max_group);
	diag("group: %" PRIu64 " commits, %" PRIu64 " segments, last fsync "
	    "%" PRIu64 " us", st.commits, st.segments, st.last_fsync_ns / 1000);

	/* Threads racing on the same (agent, seq): exactly one stores it. */
	for (int t = 0; t < 4; t++) {
		args[t] = (struct gc_arg){ s, t, 30, 0, 0, "shared" };
		pthread_create(&th[t], NULL, gc_thread, &args[t]);
	}
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		oks += args[t].ok;
		dups += args[t].dup;
	}
	ok(oks == 30 && dups == 90, "group: racing duplicates: %d stored, %d "
	    "answered as duplicates", oks, dups);
	tw_store_close(s);

	is_int(count_blocks(dir, 300, &bodies), THREADS * PER + 30,
	    "group: every acked block is readable after reopen");
	ok(bodies, "group: bodies intact");
	is_int(verify(dir, NULL), THREADS * PER + 30, "group: verify ok");
	if ((s = open_store(dir, &o)) == NULL)
		return;
	is_int(append_simple(s, "agent-3", 17, 300), TW_EEXISTS,
	    "group: dedup state after reopen");
	tw_store_close(s);
}

static int
write_text(const char *p, const char *text)
{
	return write_bytes(p, text, strlen(text), false);
}

/* An Ed25519 key pair as PEM files. */
static int
ed25519_keys(const char *priv, const char *pub)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *k = NULL;
	FILE *f;
	int r = -1;

	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_keygen(ctx, &k) != 1)
		goto out;
	if ((f = fopen(priv, "w")) == NULL)
		goto out;
	if (PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1) {
		fclose(f);
		goto out;
	}
	fclose(f);
	if ((f = fopen(pub, "w")) == NULL)
		goto out;
	if (PEM_write_PUBKEY(f, k) == 1)
		r = 0;
	fclose(f);
out:
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* Replace the first occurrence of from in file p by to (same length). */
static int
patch_text(const char *p, const char *from, const char *to)
{
	char buf[8192], *at;
	FILE *f = fopen(p, "r+b");
	size_t n;
	int r = -1;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	if ((at = strstr(buf, from)) != NULL && strlen(from) == strlen(to) &&
	    fseek(f, at - buf, SEEK_SET) == 0 &&
	    fwrite(to, 1, strlen(to), f) == strlen(to))
		r = 0;
	fclose(f);
	return r;
}

static void
test_checkpoints(void)
{
	const char *dir = tdir("ckpt-hmac");
	struct tw_store_opts o = small_opts();
	struct tw_store_ckpt c;
	struct tw_store *s;
	char key[600], key2[600], shortkey[600], priv[600], pub[600],
	    pub2[600], priv2[600], ck[600], *why = NULL;
	int r;

	join(key, sizeof(key), base, "hmac.key");
	join(key2, sizeof(key2), base, "hmac2.key");
	join(shortkey, sizeof(shortkey), base, "short.key");
	join(priv, sizeof(priv), base, "ed.pem");
	join(pub, sizeof(pub), base, "ed.pub");
	join(priv2, sizeof(priv2), base, "ed2.pem");
	join(pub2, sizeof(pub2), base, "ed2.pub");
	if (write_text(key, "6f1d2c3b4a5968778695a4b3c2d1e0ff\n") != 0 ||
	    write_text(key2, "another secret of enough length\n") != 0 ||
	    write_text(shortkey, "short\n") != 0 ||
	    ed25519_keys(priv, pub) != 0 || ed25519_keys(priv2, pub2) != 0)
		abort();

	o.checkpoint_signing = TW_STORE_SIG_HMAC_SHA256;
	o.checkpoint_key_file = shortkey;
	ok(tw_store_open(dir, &o, &why) == NULL && why != NULL &&
	    strstr(why, "16 bytes") != NULL, "ckpt: a short HMAC key is "
	    "refused");
	free(why);
	why = NULL;
	o.checkpoint_key_file = key;
	if ((s = open_store(dir, &o)) == NULL)
		return;
	for (uint64_t i = 1; i <= 6; i++)
		tw_ignore(append_simple(s, "k", i, 1500));
	tw_store_close(s);
	seg_path(ck, sizeof(ck), dir, 1, TW_STORE_CKPT_EXT);
	r = tw_store_checkpoint_verify(ck, key, &c, &why);
	ok(r == 0 && c.segment_id == 1 && c.blocks == 2 && c.first_block == 0 &&
	    c.last_block == 1, "ckpt: HMAC checkpoint verifies (%s)",
	    why ? why : "ok");
	free(why);
	why = NULL;
	is_int(tw_store_checkpoint_verify(ck, key2, NULL, &why), TW_EAUTH,
	    "ckpt: the wrong HMAC key is refused");
	free(why);
	why = NULL;
	is_int(verify(dir, key), 6, "ckpt: verify with the key");
	is_int(vres.signatures, 2, "ckpt: 2 signatures checked");
	is_int(verify(dir, key2), -1, "ckpt: verify with the wrong key fails");
	ok(strstr(vres.what, "bad checkpoint signature") != NULL &&
	    vres.index == 1, "ckpt: names the last block of the segment");
	/* Tamper with the payload (a field verify does not recompute). */
	if (patch_text(ck, "\"sealed_at\":1", "\"sealed_at\":2") != 0)
		abort();
	is_int(tw_store_checkpoint_verify(ck, key, NULL, &why), TW_EAUTH,
	    "ckpt: a changed payload fails its signature");
	free(why);
	why = NULL;
	is_int(verify(dir, key), -1, "ckpt: verify finds the changed "
	    "checkpoint");
	ok(strstr(vres.what, "bad checkpoint signature") != NULL,
	    "ckpt: as a bad signature");
	is_int(verify(dir, NULL), 6, "ckpt: without a key signatures are not "
	    "checked");
	/* A checkpoint that disagrees with its segment. */
	seg_path(ck, sizeof(ck), dir, 2, TW_STORE_CKPT_EXT);
	if (patch_text(ck, "\"blocks\":2", "\"blocks\":3") != 0)
		abort();
	is_int(verify(dir, NULL), -1, "ckpt: a checkpoint not matching its "
	    "segment");
	ok(strstr(vres.what, "does not match") != NULL,
	    "ckpt: is reported as such");

	/* Ed25519. */
	dir = tdir("ckpt-ed");
	o.checkpoint_signing = TW_STORE_SIG_ED25519;
	o.checkpoint_key_file = pub;
	ok(tw_store_open(dir, &o, &why) == NULL && why != NULL,
	    "ckpt: a public key cannot sign");
	free(why);
	why = NULL;
	o.checkpoint_key_file = priv;
	if ((s = open_store(dir, &o)) == NULL)
		return;
	for (uint64_t i = 1; i <= 6; i++)
		tw_ignore(append_simple(s, "k", i, 1500));
	tw_store_close(s);
	seg_path(ck, sizeof(ck), dir, 2, TW_STORE_CKPT_EXT);
	r = tw_store_checkpoint_verify(ck, pub, &c, &why);
	ok(r == 0 && c.segment_id == 2, "ckpt: Ed25519 checkpoint verifies "
	    "with the public key (%s)", why ? why : "ok");
	free(why);
	why = NULL;
	is_int(tw_store_checkpoint_verify(ck, priv, NULL, NULL), 0,
	    "ckpt: and with the private key");
	is_int(tw_store_checkpoint_verify(ck, pub2, NULL, NULL), TW_EAUTH,
	    "ckpt: not with another key");
	is_int(tw_store_checkpoint_verify(ck, key, NULL, NULL), TW_EAUTH,
	    "ckpt: not with an HMAC key");
	is_int(verify(dir, pub), 6, "ckpt: verify with the Ed25519 key");
	is_int(verify(dir, pub2), -1, "ckpt: verify with another key fails");
	/* A replaced checkpoint: re-signed with another key. */
	{
		struct tw_store_key *k2 = tw_store_key_load(priv2,
		    TW_STORE_SIG_ED25519, NULL);
		struct tw_buf b;
		tw_buf_init(&b, 1 << 16);
		ok(k2 != NULL && tw_store_checkpoint_verify(ck, pub, &c,
		    NULL) == 0 && tw_store_ckpt_render(&c, TW_STORE_SIG_ED25519,
		    k2, &b) == 0 && write_bytes(ck, b.data, b.len, false) == 0,
		    "ckpt: replace a checkpoint with one signed by another "
		    "key");
		is_int(verify(dir, pub), -1, "ckpt: verify finds the replaced "
		    "checkpoint");
		ok(vres.index == 3 && strstr(vres.what, "signature") != NULL,
		    "ckpt: at segment 2's last block");
		tw_buf_cleanup(&b);
		tw_store_key_free(k2);
	}

	/* Unsigned checkpoints do not pass a check with a key. */
	dir = tdir("ckpt-none");
	o = small_opts();
	if ((s = open_store(dir, &o)) == NULL)
		return;
	for (uint64_t i = 1; i <= 3; i++)
		tw_ignore(append_simple(s, "k", i, 1500));
	tw_store_close(s);
	is_int(verify(dir, NULL), 3, "ckpt: unsigned store verifies");
	is_int(verify(dir, key), -1, "ckpt: but not with a key");
	ok(strstr(vres.what, "not signed") != NULL, "ckpt: not signed");
}

static void
test_retention(void)
{
	const char *dir = fdir("retention"), *keep = fdir("retention-copy");
	struct tw_store_opts o = small_opts();
	struct tw_store_stats st;
	struct tw_store *s;
	struct tw_store_pos pos[64];
	char key[600], p[600], q[600];
	long n;
	bool bodies;

	join(key, sizeof(key), base, "ret.key");
	if (write_text(key, "retention hmac key of some length\n") != 0)
		abort();
	o.retention_bytes = 3 * 4096;
	o.checkpoint_signing = TW_STORE_SIG_HMAC_SHA256;
	o.checkpoint_key_file = key;
	if ((s = open_store(dir, &o)) == NULL)
		return;
	for (uint64_t i = 1; i <= 16; i++)
		tw_ignore(append_simple(s, "r", i, 1500));
	tw_store_stats(s, &st);
	ok(st.retention_deleted >= 4 && st.bytes <= 4 * 4096,
	    "retention: %" PRIu64 " segments deleted, %" PRIu64 " bytes kept",
	    st.retention_deleted, st.bytes);
	tw_store_close(s);
	join(p, sizeof(p), dir, TW_STORE_ANCHOR);
	ok(fsize(p) > 0, "retention: the anchor exists");
	n = verify(dir, key);
	ok(n > 0 && n < 16, "retention: verify ok from the first retained "
	    "block (%ld blocks)", n);
	ok(vres.signatures >= 2, "retention: the anchor's checkpoint "
	    "signature is checked too");
	ok(positions(dir, pos, 64) == (size_t)n &&
	    count_blocks(dir, 1500, &bodies) == n && bodies,
	    "retention: readers start at the first retained block");

	/* Interrupted deletion: anchor written, files still there. */
	if ((s = open_store(dir, &o)) == NULL)
		return;
	if (mkdir(keep, 0700) != 0)
		abort();
	for (uint64_t id = pos[0].segment; id < pos[0].segment + 1; id++) {
		seg_path(p, sizeof(p), dir, id, TW_STORE_SEG_EXT);
		seg_path(q, sizeof(q), keep, id, TW_STORE_SEG_EXT);
		copy_file(p, q, -1);
		seg_path(p, sizeof(p), dir, id, TW_STORE_CKPT_EXT);
		seg_path(q, sizeof(q), keep, id, TW_STORE_CKPT_EXT);
		copy_file(p, q, -1);
	}
	for (uint64_t i = 17; i <= 20; i++)
		tw_ignore(append_simple(s, "r", i, 1500));
	tw_store_close(s);
	seg_path(p, sizeof(p), dir, pos[0].segment, TW_STORE_SEG_EXT);
	ok(fsize(p) < 0, "retention: the oldest segment went");
	seg_path(q, sizeof(q), keep, pos[0].segment, TW_STORE_SEG_EXT);
	copy_file(q, p, -1);
	seg_path(p, sizeof(p), dir, pos[0].segment, TW_STORE_CKPT_EXT);
	seg_path(q, sizeof(q), keep, pos[0].segment, TW_STORE_CKPT_EXT);
	copy_file(q, p, -1);
	n = verify(dir, key);
	ok(n > 0, "retention: verify skips a segment the anchor says is "
	    "being deleted");
	if ((s = open_store(dir, &o)) == NULL)
		return;
	tw_store_close(s);
	seg_path(p, sizeof(p), dir, pos[0].segment, TW_STORE_SEG_EXT);
	ok(fsize(p) < 0, "retention: open finishes the deletion");
	is_int(verify(dir, key), n, "retention: verify ok after reopen");

	/* By age, on tick; and sealing by age. */
	dir = fdir("retention-age");
	o = small_opts();
	o.segment_max_age_ns = 0;
	if ((s = open_store(dir, &o)) == NULL)
		return;
	for (uint64_t i = 1; i <= 6; i++)
		tw_ignore(append_simple(s, "r", i, 1500));
	tw_store_stats(s, &st);
	is_int(st.segments, 3, "retention: 3 segments");
	tw_store_close(s);
	o.retention_age_ns = 50 * 1000000LL;
	o.segment_max_age_ns = 30 * 1000000LL;
	sleep_ms(80);
	if ((s = open_store(dir, &o)) == NULL)
		return;
	is_int(tw_store_tick(s), 0, "retention: tick");
	tw_store_stats(s, &st);
	ok(st.segments == 1 && st.retention_deleted == 2 && st.sealed == 1,
	    "retention: tick sealed the old open segment and deleted the "
	    "others by age (%" PRIu64 " left, %" PRIu64 " sealed)",
	    st.segments, st.sealed);
	is_int(append_simple(s, "r", 7, 100), 0, "retention: append after");
	tw_store_stats(s, &st);
	is_int(st.segments, 2, "retention: into a new segment");
	tw_store_close(s);
	is_int(verify(dir, NULL), 3, "retention: verify ok");
}

static void
test_time_index(void)
{
	const char *dir = tdir("time");
	struct tw_store_opts o = small_opts();
	struct tw_store_reader_stats rs;
	struct tw_store_reader *r;
	struct tw_store_block b;
	struct tw_store *s;
	int n = 0, got4 = 0;

	if ((s = open_store(dir, &o)) == NULL)
		return;
	/* Blocks i = 0..9 cover [i*1000, i*1000+500]; two a segment. */
	for (int i = 0; i < 10; i++)
		tw_ignore(append(s, "ti", (uint64_t)i + 1, 1500,
		    (int64_t)i * 1000, (int64_t)i * 1000 + 500, NULL));
	tw_ignore(append(s, "ti", 11, 100, INT64_MAX, INT64_MIN, NULL));
	tw_store_close(s);

	if ((r = tw_store_reader_open(dir, NULL)) == NULL)
		return;
	tw_store_reader_seek_time(r, 4100, 4200);
	while (tw_store_reader_next(r, &b) == 1) {
		n++;
		got4 += b.seq == 5;
	}
	tw_store_reader_stats(r, &rs);
	ok(n == 1 && got4 == 1, "time: one block overlaps [4100, 4200]");
	ok(rs.segments_opened == 2 && rs.segments_skipped == 3,
	    "time: opened its segment and the open one, skipped 3 sealed "
	    "segments (opened %" PRIu64 ", skipped %" PRIu64 ")",
	    rs.segments_opened, rs.segments_skipped);
	ok(rs.blocks_skipped >= 1, "time: blocks outside skipped by header "
	    "or index");

	tw_store_reader_seek_time(r, 8600, INT64_MAX);
	n = 0;
	while (tw_store_reader_next(r, &b) == 1)
		n++;
	is_int(n, 1, "time: [8600, ...] has one block (untimed excluded)");
	tw_store_reader_seek_time(r, INT64_MIN, INT64_MAX);
	n = 0;
	while (tw_store_reader_next(r, &b) == 1)
		n++;
	is_int(n, 11, "time: unbounded reads every block");
	tw_store_reader_free(r);
}

static void
test_cursor(void)
{
	const char *dir = tdir("cursor");
	struct tw_store_opts o = small_opts();
	struct tw_store_reader *r;
	struct tw_store_block b;
	struct tw_store_pos saved, bad;
	struct tw_store *s;
	int n = 0;

	if ((s = open_store(dir, &o)) == NULL)
		return;
	for (uint64_t i = 1; i <= 10; i++)
		tw_ignore(append_simple(s, "cur", i, 1500));
	tw_store_close(s);
	if ((r = tw_store_reader_open(dir, NULL)) == NULL)
		return;
	while (n < 4 && tw_store_reader_next(r, &b) == 1)
		n++;
	saved = b.next; /* the end of segment 2 */
	tw_store_reader_free(r);
	if ((r = tw_store_reader_open(dir, NULL)) == NULL)
		return;
	is_int(tw_store_reader_seek_pos(r, &saved), 0, "cursor: seek to a "
	    "saved position");
	ok(tw_store_reader_next(r, &b) == 1 && b.index == 4 &&
	    b.pos.segment == 3 && b.pos.offset == 0,
	    "cursor: continues with the next block, in the next segment");
	n = 1;
	while (tw_store_reader_next(r, &b) == 1)
		n++;
	is_int(n, 6, "cursor: and to the end");
	saved = b.next;
	is_int(tw_store_reader_next(r, &b), 0, "cursor: at the end: 0");
	bad = saved;
	bad.offset -= 1;
	is_int(tw_store_reader_seek_pos(r, &bad), TW_EINVAL,
	    "cursor: not a block boundary");
	bad.segment = 99;
	is_int(tw_store_reader_seek_pos(r, &bad), TW_ENOTFOUND,
	    "cursor: no such segment");
	tw_store_reader_free(r);

	/* Follow: the cursor at the end sees blocks appended later. */
	if ((r = tw_store_reader_open(dir, NULL)) == NULL)
		return;
	ok(tw_store_reader_seek_pos(r, &saved) == 0 &&
	    tw_store_reader_next(r, &b) == 0, "cursor: nothing new yet");
	if ((s = open_store(dir, &o)) == NULL)
		return;
	tw_ignore(append_simple(s, "cur", 11, 1500));
	tw_ignore(append_simple(s, "cur", 12, 1500));
	tw_store_close(s);
	ok(tw_store_reader_next(r, &b) == 1 && b.seq == 11 &&
	    tw_store_reader_next(r, &b) == 1 && b.seq == 12 &&
	    tw_store_reader_next(r, &b) == 0, "cursor: follows new blocks "
	    "across a new segment");
	tw_store_reader_free(r);
}

struct cw_arg {
	struct tw_store *s;
	int n;
	volatile int done;
};

static void *
cw_thread(void *p)
{
	struct cw_arg *a = p;

	for (int i = 1; i <= a->n; i++)
		tw_ignore(append_simple(a->s, "live", (uint64_t)i,
		    200 + (size_t)(i % 7) * 90));
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_concurrent_reader(void)
{
	const char *dir = tdir("live");
	struct tw_store_opts o = small_opts();
	struct tw_store_reader *r;
	struct tw_store_block b;
	struct tw_store_hdr h;
	const int nblocks = 150;
	struct cw_arg a;
	struct tw_store *s;
	pthread_t th;
	uint64_t want = 1;
	uint8_t hdr[TW_STORE_HDR_MAX], body[100], last[TW_STORE_HASH_LEN];
	char p[600];
	int rc, errors = 0, idle = 0;
	bool good = true;
	size_t hl;

	if ((s = open_store(dir, &o)) == NULL)
		return;
	if ((r = tw_store_reader_open(dir, NULL)) == NULL)
		return;
	a.s = s;
	a.n = nblocks;
	a.done = 0;
	pthread_create(&th, NULL, cw_thread, &a);
	for (;;) {
		int fin = __atomic_load_n(&a.done, __ATOMIC_ACQUIRE);
		rc = tw_store_reader_next(r, &b);
		if (rc == 1) {
			good &= b.seq == want &&
			    body_ok(&b, 200 + (size_t)(want % 7) * 90);
			want++;
			idle = 0;
			continue;
		}
		if (rc < 0) {
			diag("reader: %s", tw_store_reader_error(r));
			errors++;
			if (errors > 10)
				break;
			continue;
		}
		if (fin && ++idle > 1)
			break;
		sleep_ms(1);
	}
	pthread_join(th, NULL);
	tw_store_close(s);
	ok(want == (uint64_t)nblocks + 1 && good && errors == 0,
	    "live: a reader following the writer saw all %" PRIu64
	    " blocks whole and in order",
	    want - 1);

	/* A block appended in two steps is invisible until whole. */
	memcpy(last, b.hash, sizeof(last));
	memset(&h, 0, sizeof(h));
	strcpy(h.agent, "hand");
	h.body_len = sizeof(body);
	h.records = 1;
	h.time_min = 1;
	h.time_max = 2;
	h.received_at = 3;
	h.seq = 1;
	h.index = b.index + 1;
	memcpy(h.prev, last, sizeof(last));
	fill_body(body, sizeof(body), "hand", 1);
	hl = tw_store_hdr_encode(&h, hdr);
	if (tw_store_block_hash(hdr, hl, body, sizeof(body), h.hash) != 0)
		abort();
	hl = tw_store_hdr_encode(&h, hdr);
	seg_path(p, sizeof(p), dir, b.pos.segment, TW_STORE_SEG_EXT);
	if (write_bytes(p, hdr, hl, true) != 0 ||
	    write_bytes(p, body, 40, true) != 0)
		abort();
	is_int(tw_store_reader_next(r, &b), 0, "live: a half-written block "
	    "is not returned");
	if (write_bytes(p, body + 40, sizeof(body) - 40, true) != 0)
		abort();
	ok(tw_store_reader_next(r, &b) == 1 && b.seq == 1 &&
	    strcmp(b.agent_id, "hand") == 0 && body_ok(&b, sizeof(body)),
	    "live: once whole it is");
	tw_store_reader_free(r);
	is_int(verify(dir, NULL), nblocks + 1, "live: verify ok");
}

/* A writer killed with SIGKILL mid-stream loses nothing it acked. */
static void
test_kill9(void)
{
	const char *dir = tdir("kill9");
	struct tw_store_opts o = small_opts();
	struct tw_store_stats st;
	struct tw_store *s;
	uint64_t acked[4096];
	size_t nacked = 0, missing = 0;
	int fds[2], status;
	pid_t pid;
	ssize_t k;

	if (pipe(fds) != 0)
		abort();
	if ((pid = fork()) == 0) {
		close(fds[0]);
		if ((s = tw_store_open(dir, &o, NULL)) == NULL)
			_exit(1);
		for (uint64_t i = 1; ; i++) {
			if (append_simple(s, "k9", i, 100 + i % 500) != 0)
				_exit(1);
			if (write(fds[1], &i, sizeof(i)) != sizeof(i))
				_exit(1);
		}
	}
	close(fds[1]);
	while (nacked < 200 && (k = read(fds[0], &acked[nacked],
	    sizeof(acked[0]))) == sizeof(acked[0]))
		nacked++;
	kill(pid, SIGKILL);
	while (nacked < sizeof(acked) / sizeof(acked[0]) &&
	    (k = read(fds[0], &acked[nacked], sizeof(acked[0]))) ==
	    sizeof(acked[0]))
		nacked++;
	close(fds[0]);
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && nacked >= 200, "kill9: writer killed after "
	    "%zu acks", nacked);
	if ((s = open_store(dir, &o)) == NULL)
		return;
	for (size_t i = 0; i < nacked; i++)
		missing += !tw_store_has(s, "k9", acked[i]);
	is_int(missing, 0, "kill9: every acked batch is there after reopen");
	is_int(append_simple(s, "k9", 1000000, 100), 0,
	    "kill9: the lock was released; appends go on");
	tw_store_stats(s, &st);
	tw_store_close(s);
	ok(verify(dir, NULL) == (long)st.blocks, "kill9: verify ok %" PRIu64
	    " blocks", st.blocks);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define TIMED(f)                                                            \
	do {                                                                \
		double t0_ = now_s();                                       \
		f();                                                        \
		diag("%s: %.2f s", #f, now_s() - t0_);                      \
	} while (0)

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(base, sizeof(base), "%s/tw-test-store-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(fbase, sizeof(fbase), "/dev/shm/tw-test-store-XXXXXX");
	if (access("/dev/shm", W_OK) != 0 || mkdtemp(fbase) == NULL)
		snprintf(fbase, sizeof(fbase), "%s", base);
	tw_log_set_level(TW_LOG_ERROR);
	TIMED(test_roundtrip);
	TIMED(test_bad_args);
	TIMED(test_segments);
	TIMED(test_dedup);
	tw_log_set_level(TW_LOG_WARN);
	TIMED(test_torn_tail);
	tw_log_set_level(TW_LOG_ERROR);
	tw_log_set_rate_window(10000);
	TIMED(test_flip_middle);
	TIMED(test_group_commit);
	TIMED(test_checkpoints);
	TIMED(test_retention);
	TIMED(test_time_index);
	TIMED(test_cursor);
	TIMED(test_concurrent_reader);
	TIMED(test_kill9);
	rm_rf(fbase);
	rm_rf(base);
	return done_testing();
}

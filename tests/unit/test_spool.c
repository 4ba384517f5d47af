/* test_spool.c: unit tests for the agent's spool file format and directory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"
#include "log.h"
#include "spool.h"
#include "tap.h"

static char base[512];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
fill_hdr(struct spool_hdr *h, struct spool_cov *cov, uint64_t seq)
{
	memset(h, 0, sizeof(*h));
	h->seq = seq;
	h->records = 42;
	h->raw_len = 12345;
	h->time_min = -5;
	h->time_max = 1718409600000000000LL;
	snprintf(h->agent, sizeof(h->agent), "node-1");
	cov[0].id.dev = 64768;
	cov[0].id.ino = 1234567;
	cov[0].id.fp_hash = 0x0123456789abcdefULL;
	cov[0].id.fp_len = 1024;
	cov[0].start = 100;
	cov[0].end = 5000;
	cov[0].end_skip = 0;
	cov[1] = cov[0];
	cov[1].id.ino = 7;
	cov[1].id.fp_len = 12;
	cov[1].start = 0;
	cov[1].end = 12;
	cov[1].end_skip = 3;
	h->cov = cov;
	h->ncov = 2;
}

/* A whole file in b: header for h plus frame. */
static void
make_file(struct tw_buf *b, struct spool_hdr *h, const char *frame, size_t n)
{
	tw_buf_reset(b);
	h->frame_len = n;
	h->frame_crc = fsio_crc32(0, frame, n);
	ok(spool_hdr_encode(h, b) == 0, "encode a header");
	ok(tw_buf_add(b, frame, n) == 0, "append the frame");
}

static void
test_format(void)
{
	struct spool_cov cov[2];
	struct spool_hdr h, d;
	struct tw_buf b;
	const void *frame;
	const char *payload = "not really zstd, but bytes";
	size_t hlen, n = strlen(payload);
	char *why = NULL;
	int bad = 0, r;

	tw_buf_init(&b, 1 << 20);
	fill_hdr(&h, cov, 77);
	make_file(&b, &h, payload, n);
	is_int(b.len, SPOOL_FIXED_LEN + 6 + 2 * SPOOL_COV_LEN + 4 + n,
	    "file length is header + frame");
	ok(memcmp(b.data, SPOOL_MAGIC, 8) == 0, "magic first");
	is_int(spool_file_check(b.data, b.len, &d, &frame, &why), 0,
	    "round trip: the file checks");
	is_int(d.seq, 77, "seq");
	is_int(d.parent_seq, 0, "parent seq");
	is_int(d.records, 42, "records");
	is_int(d.raw_len, 12345, "raw length");
	is_int(d.time_min, -5, "time min (negative)");
	is_int(d.time_max, 1718409600000000000LL, "time max");
	is_str(d.agent, "node-1", "agent id");
	is_int(d.ncov, 2, "coverage entries");
	ok(d.ncov == 2 && d.cov[0].id.fp_hash == 0x0123456789abcdefULL &&
	    d.cov[0].id.fp_len == 1024 && d.cov[0].start == 100 &&
	    d.cov[0].end == 5000 && d.cov[1].id.ino == 7 &&
	    d.cov[1].end_skip == 3, "coverage round trip");
	ok(frame == b.data + b.len - n && memcmp(frame, payload, n) == 0,
	    "frame points at the payload");
	spool_hdr_cleanup(&d);

	/* Every prefix is cut short; none is accepted. */
	for (size_t cut = 0; cut < b.len; cut++) {
		r = spool_file_check(b.data, cut, &d, &frame, NULL);
		if (r != TW_EEOF && r != TW_EPARSE)
			bad++;
		if (r == 0)
			spool_hdr_cleanup(&d);
	}
	is_int(bad, 0, "every truncation is refused");
	/* Every single bit flip is caught by a checksum or a field check. */
	bad = 0;
	for (size_t i = 0; i < b.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b.data[i] ^= (char)(1 << bit);
			if (spool_file_check(b.data, b.len, &d, &frame,
			    NULL) == 0) {
				bad++;
				spool_hdr_cleanup(&d);
			}
			b.data[i] ^= (char)(1 << bit);
		}
	}
	is_int(bad, 0, "every bit flip is refused");
	/* Trailing bytes after the frame. */
	ok(tw_buf_addc(&b, 'x') == 0, "add a byte");
	is_int(spool_file_check(b.data, b.len, &d, &frame, &why), TW_EPARSE,
	    "a longer file is refused");
	ok(why != NULL && strstr(why, "bytes") != NULL, "why: %s",
	    why != NULL ? why : "(null)");
	free(why);
	why = NULL;
	b.len--;
	/* The header alone decodes (the scan reads only headers). */
	is_int(spool_hdr_decode(b.data, b.len - n, &d, &hlen, NULL), 0,
	    "header decodes without its frame");
	is_int(hlen, b.len - n, "header length");
	spool_hdr_cleanup(&d);
	/* Limits on encode. */
	h.agent[0] = '\0';
	is_int(spool_hdr_encode(&h, &b), TW_ELIMIT, "empty agent id refused");
	tw_buf_cleanup(&b);
}

static int
write_raw(const char *dir, const char *name, const void *p, size_t n)
{
	char path[1024];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	r = fsio_write_all(fd, p, n);
	close(fd);
	return r;
}

static bool
exists(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void
test_directory(void)
{
	struct spool_cov cov[2];
	struct spool_batch b[3];
	struct spool_entry *v = NULL;
	struct spool_hdr h;
	struct spool *sp;
	struct tw_buf file;
	const void *frame;
	char dir[600], sdir[700], *why = NULL;
	const char *frames[3] = { "first frame", "second", "third frame!" };
	uint64_t total = 0;
	size_t n = 0, done = 0;

	snprintf(dir, sizeof(dir), "%s/data", base);
	snprintf(sdir, sizeof(sdir), "%s/spool", dir);
	sp = spool_open(dir, 1 << 20, NULL, &why);
	ok(sp != NULL, "open a spool: %s", why != NULL ? why : "ok");
	if (sp == NULL)
		return;
	ok(exists(dir, "spool/quarantine") && exists(dir, "deadletter"),
	    "quarantine and deadletter directories made");
	memset(b, 0, sizeof(b));
	for (int i = 0; i < 3; i++) {
		fill_hdr(&b[i].hdr, cov, (uint64_t)(10 + i * 10));
		b[i].frame = frames[i];
		b[i].frame_len = strlen(frames[i]);
	}
	is_int(spool_commit(sp, b, 3, &done), 0, "commit three batches");
	is_int(done, 3, "all three are in");
	for (int i = 0; i < 3; i++)
		total += b[i].size;
	is_int(spool_bytes(sp), total, "bytes counted");
	ok(exists(sdir, "00000000000000000010.batch") &&
	    exists(sdir, "00000000000000000030.batch"), "named by seq");

	/* Leftovers a crash can leave, and damage. */
	ok(write_raw(sdir, "00000000000000000040.batch.tmp", "x", 1) == 0,
	    "a leftover tmp file");
	ok(write_raw(sdir, "00000000000000000050.batch", "garbage", 7) == 0,
	    "a garbage spool file");
	/* A split: 60 and 70 replace 20 (20 is still there). */
	memset(b, 0, sizeof(b));
	for (int i = 0; i < 2; i++) {
		fill_hdr(&b[i].hdr, cov, (uint64_t)(60 + i * 10));
		b[i].hdr.parent_seq = 20;
		b[i].frame = "half";
		b[i].frame_len = 4;
	}
	is_int(spool_commit(sp, b, 2, &done), 0, "commit a split's halves");
	spool_free(sp);

	sp = spool_open(dir, 1 << 20, NULL, &why);
	is_int(spool_scan(sp, &v, &n), 0, "scan");
	is_int(n, 4, "four batches: 10, 30, 60, 70");
	ok(n == 4 && v[0].hdr.seq == 10 && v[1].hdr.seq == 30 &&
	    v[2].hdr.seq == 60 && v[3].hdr.seq == 70, "in seq order");
	ok(n == 4 && v[0].hdr.ncov == 2 && v[0].hdr.cov[1].end_skip == 3,
	    "coverage read back by the scan");
	ok(!exists(sdir, "00000000000000000040.batch.tmp"), "tmp removed");
	ok(!exists(sdir, "00000000000000000020.batch"), "split parent removed");
	ok(exists(sdir, "quarantine/00000000000000000050.batch"),
	    "garbage quarantined");
	total = 0;
	for (size_t i = 0; i < n; i++)
		total += v[i].size;
	is_int(spool_bytes(sp), total, "bytes recounted by the scan");

	tw_buf_init(&file, 1 << 20);
	is_int(spool_load(sp, 30, &file, &h, &frame, &why), 0, "load 30");
	ok(h.frame_len == 12 && memcmp(frame, "third frame!", 12) == 0,
	    "its frame");
	spool_hdr_cleanup(&h);
	is_int(spool_remove(sp, 30, v[1].size), 0, "remove 30 (acked)");
	is_int(spool_bytes(sp), total - v[1].size, "bytes after removal");
	is_int(spool_load(sp, 30, &file, &h, &frame, &why), TW_ENOTFOUND,
	    "30 is gone");
	is_int(spool_deadletter(sp, 10, v[0].size), 0, "dead-letter 10");
	ok(exists(dir, "deadletter/00000000000000000010.batch"),
	    "10 is in deadletter/");
	/* A flipped frame byte is found when the batch is loaded. */
	{
		char path[800];
		int fd;

		snprintf(path, sizeof(path), "%s/00000000000000000060.batch",
		    sdir);
		fd = open(path, O_WRONLY);
		ok(fd >= 0 && pwrite(fd, "H", 1, (off_t)v[2].size - 4) == 1,
		    "damage 60's frame");
		if (fd >= 0)
			close(fd);
	}
	is_int(spool_load(sp, 60, &file, &h, &frame, &why), TW_EPARSE,
	    "a damaged frame is refused");
	ok(why != NULL && strstr(why, "frame checksum") != NULL, "why: %s",
	    why != NULL ? why : "(null)");
	free(why);
	why = NULL;
	is_int(spool_quarantine(sp, 60, v[2].size), 0, "quarantine 60");
	is_int(spool_bytes(sp), v[3].size, "only 70 is left");
	tw_buf_cleanup(&file);
	spool_entries_free(v, n);
	spool_free(sp);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(base, sizeof(base), "%s/tw-spool-XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tw_log_set_fd(open("/dev/null", O_WRONLY));
	test_format();
	test_directory();
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}

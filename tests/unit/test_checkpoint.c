/* test_checkpoint.c: unit tests for the agent's checkpoint file and batch
 * sequence reservation. */
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fsio.h"
#include "log.h"
#include "seq.h"
#include "tap.h"
#include "timefmt.h"

static char base[512];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static struct file_id
fid(uint64_t ino, uint32_t fp_len, uint64_t hash)
{
	struct file_id id = { .dev = 2049, .ino = ino, .fp_hash = hash,
		.fp_len = fp_len };

	return id;
}

static void
test_codec(void)
{
	static const char *const paths[] = { "/var/log/containers/a.log",
		"/tmp/with space/and%percent", "new\nline\ttab",
		"caf\xc3\xa9/\x7f\x01", "" };
	struct ckpt c, d;
	struct tw_buf b;
	struct file_id id;
	char *why = NULL;
	size_t n;
	int bad = 0, r;

	ckpt_init(&c);
	ckpt_init(&d);
	tw_buf_init(&b, 1 << 20);
	c.generation = 41;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		id = fid(100 + i, (uint32_t)(i * 200), 0xfedcba9876543210ULL >> i);
		ok(ckpt_add(&c, &id, 1000 * i, i, 1718409600 + (int64_t)i,
		    paths[i]) == 0, "add entry %zu", i);
	}
	is_int(ckpt_encode(&c, &b), 0, "encode");
	ok(strncmp(b.data, "trawl-agent checkpoint 1\ngeneration 41\n", 39) ==
	    0, "header and generation lines");
	ok(strstr(b.data, "with%20space/and%25percent") != NULL,
	    "spaces and %% are escaped");
	ok(memchr(b.data, '\t', b.len) == NULL, "no raw control bytes");
	is_int(ckpt_decode(b.data, b.len, &d, &why), 0, "decode: %s",
	    why != NULL ? why : "ok");
	is_int(d.generation, 41, "generation");
	is_int(d.n, c.n, "entries");
	for (size_t i = 0; i < d.n && i < c.n; i++)
		ok(fileid_equal(&d.v[i].id, &c.v[i].id) &&
		    d.v[i].offset == c.v[i].offset &&
		    d.v[i].skip == c.v[i].skip &&
		    d.v[i].seen_s == c.v[i].seen_s &&
		    strcmp(d.v[i].path, c.v[i].path) == 0,
		    "entry %zu round trip", i);

	n = b.len;
	for (size_t cut = 0; cut < n; cut++)
		if (ckpt_decode(b.data, cut, &d, NULL) == 0)
			bad++;
	is_int(bad, 0, "every truncation is refused");
	bad = 0;
	for (size_t i = 0; i < n; i++) {
		char was = b.data[i];

		b.data[i] = was == '0' ? '1' : '0';
		if (ckpt_decode(b.data, n, &d, NULL) == 0)
			bad++;
		b.data[i] = was;
	}
	is_int(bad, 0, "every changed byte is refused");
	is_int(d.n, 0, "a refused file leaves no entries");
	ok(tw_buf_adds(&b, "x") == 0, "append a byte");
	r = ckpt_decode(b.data, b.len, &d, &why);
	is_int(r, TW_EPARSE, "trailing bytes refused");
	ok(why != NULL, "with a reason: %s", why != NULL ? why : "(null)");
	free(why);
	why = NULL;
	is_int(ckpt_decode("garbage\n", 8, &d, &why), TW_EPARSE,
	    "not a checkpoint");
	free(why);
	why = NULL;

	/* Merging resume points from spool coverage. */
	id = fid(100, 0, 0xfedcba9876543210ULL);
	is_int(ckpt_merge(&c, &id, 500, 0, 7), 0, "merge a later point");
	is_int(c.v[0].offset, 500, "it moves the entry on");
	is_int(ckpt_merge(&c, &id, 400, 5, 7), 0, "merge an earlier point");
	is_int(c.v[0].offset, 500, "it moves nothing back");
	id = fid(101, 200, 0xfedcba9876543210ULL >> 1);
	is_int(ckpt_merge(&c, &id, 900, 9, 7), 0, "merge another earlier one");
	ok(c.v[1].offset == 1000 && c.v[1].skip == 1, "it stays at 1000/1");
	is_int(ckpt_merge(&c, &id, 1000, 3, 7), 0, "same offset, more skip");
	ok(c.v[1].offset == 1000 && c.v[1].skip == 3, "skip moves on");
	id = fid(999, 10, 1);
	n = c.n;
	is_int(ckpt_merge(&c, &id, 10, 0, 7), 0, "merge an unknown file");
	ok(c.n == n + 1 && c.v[n].offset == 10 && c.v[n].seen_s == 7,
	    "added");
	ok(ckpt_after(5, 0, 4, 9) && ckpt_after(5, 2, 5, 1) &&
	    !ckpt_after(5, 1, 5, 1) && !ckpt_after(4, 9, 5, 0),
	    "resume points order by offset, then skip");
	ckpt_cleanup(&c);
	ckpt_cleanup(&d);
	tw_buf_cleanup(&b);
}

static int
write_file(const char *dir, const char *name, const char *text)
{
	char path[1024];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	r = fsio_write_all(fd, text, strlen(text));
	close(fd);
	return r;
}

static void
test_store(void)
{
	struct ckpt_store *s;
	struct ckpt c;
	struct file_id id = fid(5, 3, 99);
	char dir[600], path[700], *why = NULL;
	unsigned corrupt = 9;

	snprintf(dir, sizeof(dir), "%s/store", base);
	mkdir(dir, 0700);
	ckpt_init(&c);
	s = ckpt_store_open(dir, &why);
	ok(s != NULL, "open: %s", why != NULL ? why : "ok");
	if (s == NULL)
		return;
	is_int(ckpt_store_load(s, &c, &corrupt), 0, "load an empty dir");
	ok(c.n == 0 && c.generation == 0 && corrupt == 0, "nothing there");
	ok(ckpt_add(&c, &id, 10, 0, 1, "/a") == 0, "entry");
	is_int(ckpt_store_save(s, &c), 0, "save generation 1");
	c.v[0].offset = 20;
	is_int(ckpt_store_save(s, &c), 0, "save generation 2");
	is_int(c.generation, 2, "generation counted");
	snprintf(path, sizeof(path), "%s/checkpoint.0", dir);
	ok(access(path, F_OK) == 0, "checkpoint.0 (generation 2)");
	snprintf(path, sizeof(path), "%s/checkpoint.1", dir);
	ok(access(path, F_OK) == 0, "checkpoint.1 (generation 1)");
	ckpt_store_free(s);

	s = ckpt_store_open(dir, NULL);
	is_int(ckpt_store_load(s, &c, &corrupt), 0, "load");
	ok(c.generation == 2 && c.n == 1 && c.v[0].offset == 20 &&
	    corrupt == 0, "the newest generation");
	/* The newest is damaged: the previous one is used, and reported. */
	ok(write_file(dir, "checkpoint.0", "trawl-agent checkpoint 1\n"
	    "generation 2\nfile 1 2 3 \0\0\0") == 0, "damage generation 2");
	is_int(ckpt_store_load(s, &c, &corrupt), 0, "load falls back");
	ok(c.generation == 1 && c.n == 1 && c.v[0].offset == 10 &&
	    corrupt == 1, "the previous generation, one corrupt reported");
	snprintf(path, sizeof(path), "%s/checkpoint.0.corrupt", dir);
	ok(access(path, F_OK) == 0, "the corrupt file is set aside");
	is_int(ckpt_store_save(s, &c), 0, "save again");
	is_int(c.generation, 2, "the next generation after the one loaded");
	ok(write_file(dir, "checkpoint.0", "x") == 0 &&
	    write_file(dir, "checkpoint.1", "y") == 0, "damage both");
	is_int(ckpt_store_load(s, &c, &corrupt), 0, "load with none good");
	ok(c.n == 0 && c.generation == 0 && corrupt == 2,
	    "empty, two corrupt reported");
	ckpt_store_free(s);
	ckpt_cleanup(&c);
}

static void
test_seq(void)
{
	struct seq *s;
	char dir[600], *why = NULL;
	uint64_t a = 0, b = 0, c = 0, now = (uint64_t)tw_time_now_ns();

	snprintf(dir, sizeof(dir), "%s/seq", base);
	mkdir(dir, 0700);
	s = seq_open(dir, 0, &why);
	ok(s != NULL, "open: %s", why != NULL ? why : "ok");
	if (s == NULL)
		return;
	is_int(seq_next(s, &a), 0, "first seq");
	is_int(seq_next(s, &b), 0, "second seq");
	ok(a >= now && b == a + 1, "a new data_dir starts at the clock");
	seq_free(s);
	s = seq_open(dir, 0, NULL);
	is_int(seq_next(s, &c), 0, "seq after a restart");
	ok(c > b, "greater than any used before");
	seq_free(s);
	s = seq_open(dir, c + 5000, NULL);
	is_int(seq_next(s, &a), 0, "seq above the spool's");
	is_int(a, c + 5001, "past the floor");
	seq_free(s);
	ok(write_file(dir, "seq", "trawl-agent seq 1 5 00000000\n") == 0,
	    "damage the seq file");
	now = (uint64_t)tw_time_now_ns();
	s = seq_open(dir, 0, NULL);
	is_int(seq_next(s, &b), 0, "seq after damage");
	ok(b >= now, "falls back to the clock");
	seq_free(s);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(base, sizeof(base), "%s/tw-ckpt-XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tw_log_set_fd(open("/dev/null", O_WRONLY));
	test_codec();
	test_store();
	test_seq();
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}

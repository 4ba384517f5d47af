/* spool.c: the agent's bounded on-disk spool: one file per finished batch,
 * kept until the collector acknowledges it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"
#include "log.h"
#include "metrics.h"
#include "spool.h"

#define NAME_MAX_LEN 48

struct spool {
	int dirfd;	/* data_dir/spool */
	int quarfd;	/* data_dir/spool/quarantine */
	int deadfd;	/* data_dir/deadletter */
	uint64_t max_bytes;
	_Atomic uint64_t bytes;
	_Atomic uint64_t files;
	struct tw_counter *spooled, *quarantined, *deadlettered;
};

static int
fail_why(char **why, int r, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && *why == NULL) {
		va_start(ap, fmt);
		if (vasprintf(why, fmt, ap) < 0)
			*why = NULL;
		va_end(ap);
	}
	return r;
}

int
spool_hdr_encode(const struct spool_hdr *h, struct tw_buf *out)
{
	size_t alen = strlen(h->agent), start = out->len, len;
	uint8_t *p;
	int r;

	if (alen == 0 || alen > SPOOL_AGENT_MAX || h->ncov > SPOOL_COV_MAX)
		return TW_ELIMIT;
	len = SPOOL_FIXED_LEN + alen + h->ncov * SPOOL_COV_LEN + 4;
	if ((r = tw_buf_reserve(out, len)) != 0)
		return r;
	p = (uint8_t *)out->data + start;
	memset(p, 0, len);
	memcpy(p, SPOOL_MAGIC, 8);
	fsio_put32(p + 8, SPOOL_VERSION);
	fsio_put32(p + 12, (uint32_t)len);
	fsio_put64(p + 16, h->seq);
	fsio_put64(p + 24, h->parent_seq);
	fsio_put32(p + 32, h->records);
	fsio_put32(p + 36, (uint32_t)h->ncov);
	fsio_put64(p + 40, h->raw_len);
	fsio_put64(p + 48, h->frame_len);
	fsio_put64(p + 56, (uint64_t)h->time_min);
	fsio_put64(p + 64, (uint64_t)h->time_max);
	fsio_put32(p + 72, h->frame_crc);
	fsio_put16(p + 76, (uint16_t)alen);
	memcpy(p + SPOOL_FIXED_LEN, h->agent, alen);
	for (size_t i = 0; i < h->ncov; i++) {
		uint8_t *c = p + SPOOL_FIXED_LEN + alen + i * SPOOL_COV_LEN;
		const struct spool_cov *cv = &h->cov[i];

		fsio_put64(c, cv->id.dev);
		fsio_put64(c + 8, cv->id.ino);
		fsio_put64(c + 16, cv->id.fp_hash);
		fsio_put32(c + 24, cv->id.fp_len);
		fsio_put64(c + 32, cv->start);
		fsio_put64(c + 40, cv->end);
		fsio_put64(c + 48, cv->end_skip);
	}
	fsio_put32(p + len - 4, fsio_crc32(0, p, len - 4));
	out->len = start + len;
	out->data[out->len] = '\0';
	return 0;
}

int
spool_hdr_decode(const void *data, size_t n, struct spool_hdr *h,
    size_t *hdr_len, char **why)
{
	const uint8_t *p = data;
	uint32_t len, ncov;
	uint16_t alen;

	memset(h, 0, sizeof(*h));
	if (n < SPOOL_FIXED_LEN)
		return fail_why(why, TW_EEOF, "shorter than a header");
	if (memcmp(p, SPOOL_MAGIC, 8) != 0)
		return fail_why(why, TW_EPARSE, "bad magic");
	if (fsio_get32(p + 8) != SPOOL_VERSION)
		return fail_why(why, TW_EPARSE, "unknown version %" PRIu32,
		    fsio_get32(p + 8));
	len = fsio_get32(p + 12);
	ncov = fsio_get32(p + 36);
	alen = fsio_get16(p + 76);
	if (alen == 0 || alen > SPOOL_AGENT_MAX || ncov > SPOOL_COV_MAX ||
	    len != SPOOL_FIXED_LEN + alen + (uint64_t)ncov * SPOOL_COV_LEN + 4)
		return fail_why(why, TW_EPARSE, "bad header length");
	if (n < len)
		return fail_why(why, TW_EEOF, "header cut short");
	if (fsio_crc32(0, p, len - 4) != fsio_get32(p + len - 4))
		return fail_why(why, TW_EPARSE, "header checksum mismatch");
	h->seq = fsio_get64(p + 16);
	h->parent_seq = fsio_get64(p + 24);
	h->records = fsio_get32(p + 32);
	h->raw_len = fsio_get64(p + 40);
	h->frame_len = fsio_get64(p + 48);
	h->time_min = (int64_t)fsio_get64(p + 56);
	h->time_max = (int64_t)fsio_get64(p + 64);
	h->frame_crc = fsio_get32(p + 72);
	if (h->seq == 0 || h->frame_len == 0 ||
	    h->frame_len > SPOOL_FRAME_MAX)
		return fail_why(why, TW_EPARSE, "bad seq or frame length");
	memcpy(h->agent, p + SPOOL_FIXED_LEN, alen);
	h->agent[alen] = '\0';
	if (memchr(h->agent, '\0', alen) != NULL)
		return fail_why(why, TW_EPARSE, "bad agent id");
	if (ncov > 0 && (h->cov = calloc(ncov, sizeof(*h->cov))) == NULL)
		return fail_why(why, TW_ENOMEM, "out of memory");
	h->ncov = ncov;
	for (size_t i = 0; i < ncov; i++) {
		const uint8_t *c = p + SPOOL_FIXED_LEN + alen +
		    i * SPOOL_COV_LEN;
		struct spool_cov *cv = &h->cov[i];

		cv->id.dev = fsio_get64(c);
		cv->id.ino = fsio_get64(c + 8);
		cv->id.fp_hash = fsio_get64(c + 16);
		cv->id.fp_len = fsio_get32(c + 24);
		cv->start = fsio_get64(c + 32);
		cv->end = fsio_get64(c + 40);
		cv->end_skip = fsio_get64(c + 48);
		if (cv->id.fp_len > FILEID_FP_MAX || cv->start > cv->end) {
			spool_hdr_cleanup(h);
			return fail_why(why, TW_EPARSE, "bad coverage entry");
		}
	}
	*hdr_len = len;
	return 0;
}

void
spool_hdr_cleanup(struct spool_hdr *h)
{
	free(h->cov);
	h->cov = NULL;
	h->ncov = 0;
}

int
spool_file_check(const void *data, size_t n, struct spool_hdr *h,
    const void **frame, char **why)
{
	const uint8_t *p = data;
	size_t hlen;
	int r;

	if ((r = spool_hdr_decode(p, n, h, &hlen, why)) != 0)
		return r;
	if ((uint64_t)(n - hlen) != h->frame_len) {
		r = fail_why(why, n - hlen < h->frame_len ? TW_EEOF :
		    TW_EPARSE, "file is %zu bytes, the header says %" PRIu64,
		    n, (uint64_t)hlen + h->frame_len);
		goto fail;
	}
	if (fsio_crc32(0, p + hlen, (size_t)h->frame_len) != h->frame_crc) {
		r = fail_why(why, TW_EPARSE, "frame checksum mismatch");
		goto fail;
	}
	*frame = p + hlen;
	return 0;
fail:
	spool_hdr_cleanup(h);
	return r;
}

static void
batch_name(char *buf, size_t len, uint64_t seq, const char *suffix)
{
	snprintf(buf, len, "%020" PRIu64 ".batch%s", seq, suffix);
}

static double
gauge_bytes(void *arg)
{
	return (double)atomic_load(&((struct spool *)arg)->bytes);
}

static double
gauge_files(void *arg)
{
	return (double)atomic_load(&((struct spool *)arg)->files);
}

static double
gauge_max(void *arg)
{
	return (double)((struct spool *)arg)->max_bytes;
}

static int
open_dir(const char *path, char **why)
{
	int fd;

	if (fsio_mkdirs(path, 0700) != 0 ||
	    (fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fail_why(why, TW_EIO, "%s: %s", path, strerror(errno));
		return -1;
	}
	return fd;
}

struct spool *
spool_open(const char *data_dir, uint64_t max_bytes, struct tw_metrics *m,
    char **why)
{
	struct spool *s;
	char path[4096];

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		fail_why(why, TW_ENOMEM, "out of memory");
		return NULL;
	}
	s->dirfd = s->quarfd = s->deadfd = -1;
	s->max_bytes = max_bytes;
	snprintf(path, sizeof(path), "%s/spool", data_dir);
	if ((s->dirfd = open_dir(path, why)) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/spool/quarantine", data_dir);
	if ((s->quarfd = open_dir(path, why)) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/deadletter", data_dir);
	if ((s->deadfd = open_dir(path, why)) < 0)
		goto fail;
	s->spooled = tw_metrics_counter(m, "trawl_agent_batches_spooled_total",
	    "Batches written to the spool.", NULL);
	s->quarantined = tw_metrics_counter(m,
	    "trawl_agent_spool_quarantined_total",
	    "Corrupt spool files moved to spool/quarantine.", NULL);
	s->deadlettered = tw_metrics_counter(m,
	    "trawl_agent_batches_deadlettered_total",
	    "Batches the collector refused as malformed, moved to "
	    "deadletter/.", NULL);
	/* A gauge that cannot be registered is only a lost metric. */
	tw_ignore(tw_metrics_gauge_fn(m, "trawl_agent_spool_bytes",
	    "Bytes of batches in the spool.", NULL, gauge_bytes, s));
	tw_ignore(tw_metrics_gauge_fn(m, "trawl_agent_spool_files",
	    "Batches in the spool.", NULL, gauge_files, s));
	tw_ignore(tw_metrics_gauge_fn(m, "trawl_agent_spool_max_bytes",
	    "The spool's bound; reading stops at it.", NULL, gauge_max, s));
	return s;
fail:
	spool_free(s);
	return NULL;
}

static void
account_add(struct spool *s, uint64_t size)
{
	atomic_fetch_add(&s->bytes, size);
	atomic_fetch_add(&s->files, 1);
}

static void
account_sub(struct spool *s, uint64_t size)
{
	atomic_fetch_sub(&s->bytes, size);
	atomic_fetch_sub(&s->files, 1);
}

/* Move name from the spool into dstfd under the same name. */
static int
move_out(struct spool *s, int dstfd, const char *name)
{
	if (renameat(s->dirfd, name, dstfd, name) != 0)
		return TW_EIO;
	if (fsio_fsync_dir(dstfd) != 0 || fsio_fsync_dir(s->dirfd) != 0)
		return TW_EIO;
	return 0;
}

/* Read and decode the header of an open spool file of size bytes. */
static int
read_header(int fd, uint64_t size, struct spool_hdr *h, char **why)
{
	uint8_t fixed[SPOOL_FIXED_LEN];
	uint8_t *buf = NULL;
	size_t got, hlen;
	uint32_t len;
	int r;

	if ((r = fsio_pread_all(fd, fixed, sizeof(fixed), 0, &got)) != 0)
		return fail_why(why, r, "read: %s", strerror(errno));
	if (got < sizeof(fixed))
		return fail_why(why, TW_EEOF, "shorter than a header");
	len = fsio_get32(fixed + 12);
	if (len < SPOOL_FIXED_LEN || len > SPOOL_HDR_MAX || len > size)
		return fail_why(why, TW_EPARSE, "bad header length");
	if ((buf = malloc(len)) == NULL)
		return fail_why(why, TW_ENOMEM, "out of memory");
	if ((r = fsio_pread_all(fd, buf, len, 0, &got)) != 0) {
		r = fail_why(why, r, "read: %s", strerror(errno));
		goto out;
	}
	if ((r = spool_hdr_decode(buf, got, h, &hlen, why)) != 0)
		goto out;
	if (size != hlen + h->frame_len) {
		spool_hdr_cleanup(h);
		r = fail_why(why, size < hlen + h->frame_len ? TW_EEOF :
		    TW_EPARSE, "file is %" PRIu64 " bytes, the header says %"
		    PRIu64, size, (uint64_t)hlen + h->frame_len);
	}
out:
	free(buf);
	return r;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct spool_entry *x = a, *y = b;

	return x->hdr.seq < y->hdr.seq ? -1 : x->hdr.seq > y->hdr.seq;
}

/* Is name "<20 digits>.batch" (with *seq) or "....tmp"? */
static int
classify(const char *name, uint64_t *seq)
{
	size_t len = strlen(name);
	uint64_t v = 0;

	if (len > 4 && strcmp(name + len - 4, ".tmp") == 0)
		return 2;
	if (len != 26 || strcmp(name + 20, ".batch") != 0)
		return 0;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		if (v > (UINT64_MAX - (uint64_t)(name[i] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*seq = v;
	return 1;
}

/* Does another entry name e as its parent (a split replaced e)? */
static bool
is_parent(const struct spool_entry *v, size_t n, uint64_t seq)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].hdr.parent_seq == seq)
			return true;
	return false;
}

int
spool_scan(struct spool *s, struct spool_entry **out, size_t *nout)
{
	struct spool_entry *v = NULL, *nv;
	size_t n = 0, cap = 0, keep = 0;
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	char *why = NULL;
	uint64_t seq, bytes = 0;
	int dfd, fd, r = 0, kind;

	*out = NULL;
	*nout = 0;
	if ((dfd = dup(s->dirfd)) < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return TW_EIO;
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if ((kind = classify(de->d_name, &seq)) == 0)
			continue;
		if (kind == 2) {
			if (unlinkat(s->dirfd, de->d_name, 0) != 0)
				tw_warn("spool", "cannot remove a leftover tmp "
				    "file", "file", de->d_name, "error",
				    strerror(errno));
			continue;
		}
		if ((fd = openat(s->dirfd, de->d_name, O_RDONLY |
		    O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
			tw_error("spool", "cannot open a spool file", "file",
			    de->d_name, "error", strerror(errno));
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				close(fd);
				r = TW_ENOMEM;
				goto out;
			}
			v = nv;
		}
		r = read_header(fd, (uint64_t)st.st_size, &v[n].hdr, &why);
		close(fd);
		if (r == TW_ENOMEM)
			goto out;
		if (r == 0 && v[n].hdr.seq != seq) {
			spool_hdr_cleanup(&v[n].hdr);
			r = fail_why(&why, TW_EPARSE, "the header's seq is not "
			    "the file name's");
		}
		if (r != 0) {
			tw_error("spool", "corrupt spool file; quarantined",
			    "file", de->d_name, "error", why != NULL ? why :
			    tw_strerror(r));
			free(why);
			why = NULL;
			r = 0;
			if (move_out(s, s->quarfd, de->d_name) != 0)
				tw_error("spool", "cannot quarantine a spool "
				    "file", "file", de->d_name, "error",
				    strerror(errno));
			tw_counter_inc(s->quarantined);
			continue;
		}
		v[n].size = (uint64_t)st.st_size;
		n++;
	}
	if (errno != 0) {
		r = TW_EIO;
		goto out;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_entry);
	/* A split wrote its halves before removing the batch it split. */
	for (size_t i = 0; i < n; i++) {
		char name[NAME_MAX_LEN];

		if (is_parent(v, n, v[i].hdr.seq)) {
			batch_name(name, sizeof(name), v[i].hdr.seq, "");
			if (unlinkat(s->dirfd, name, 0) != 0)
				tw_warn("spool", "cannot remove a split batch",
				    "file", name, "error", strerror(errno));
			spool_hdr_cleanup(&v[i].hdr);
			continue;
		}
		v[keep++] = v[i];
		bytes += v[i].size;
	}
	n = keep;
	atomic_store(&s->bytes, bytes);
	atomic_store(&s->files, n);
	*out = v;
	*nout = n;
	v = NULL;
	n = 0;
out:
	spool_entries_free(v, n);
	closedir(d);
	return r;
}

void
spool_entries_free(struct spool_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		spool_hdr_cleanup(&v[i].hdr);
	free(v);
}

/* Write one batch to its tmp file and fsync it. */
static int
write_tmp(struct spool *s, struct spool_batch *b, struct tw_buf *hdr)
{
	char name[NAME_MAX_LEN];
	int fd, r, saved;

	b->hdr.frame_len = b->frame_len;
	b->hdr.frame_crc = fsio_crc32(0, b->frame, b->frame_len);
	tw_buf_reset(hdr);
	if ((r = spool_hdr_encode(&b->hdr, hdr)) != 0)
		return r;
	batch_name(name, sizeof(name), b->hdr.seq, ".tmp");
	if ((fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) < 0)
		return TW_EIO;
	if ((r = fsio_write_all(fd, hdr->data, hdr->len)) != 0 ||
	    (r = fsio_write_all(fd, b->frame, b->frame_len)) != 0)
		goto fail;
	while (fsync(fd) != 0) {
		if (errno != EINTR) {
			r = TW_EIO;
			goto fail;
		}
	}
	if (close(fd) != 0) {
		fd = -1;
		r = TW_EIO;
		goto fail;
	}
	b->size = hdr->len + b->frame_len;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(s->dirfd, name, 0);
	errno = saved;
	return r;
}

int
spool_commit(struct spool *s, struct spool_batch *b, size_t n, size_t *done)
{
	char tmp[NAME_MAX_LEN], name[NAME_MAX_LEN];
	struct tw_buf hdr;
	size_t written = 0, renamed = 0;
	int r = 0, saved;

	*done = 0;
	tw_buf_init(&hdr, SPOOL_HDR_MAX + 1);
	for (; written < n; written++)
		if ((r = write_tmp(s, &b[written], &hdr)) != 0)
			goto fail;
	for (; renamed < n; renamed++) {
		batch_name(tmp, sizeof(tmp), b[renamed].hdr.seq, ".tmp");
		batch_name(name, sizeof(name), b[renamed].hdr.seq, "");
		if (renameat(s->dirfd, tmp, s->dirfd, name) != 0) {
			r = TW_EIO;
			goto fail;
		}
	}
	if ((r = fsio_fsync_dir(s->dirfd)) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		account_add(s, b[i].size);
		tw_counter_inc(s->spooled);
	}
	*done = n;
	tw_buf_cleanup(&hdr);
	return 0;
fail:
	/* Nothing half-done stays: the caller retries with new seqs. */
	saved = errno;
	for (size_t i = 0; i < written; i++) {
		batch_name(name, sizeof(name), b[i].hdr.seq, i < renamed ?
		    "" : ".tmp");
		unlinkat(s->dirfd, name, 0);
	}
	errno = saved;
	tw_buf_cleanup(&hdr);
	return r;
}

int
spool_load(struct spool *s, uint64_t seq, struct tw_buf *file,
    struct spool_hdr *h, const void **frame, char **why)
{
	char name[NAME_MAX_LEN];
	int r;

	batch_name(name, sizeof(name), seq, "");
	r = fsio_read_file(s->dirfd, name, SPOOL_HDR_MAX + SPOOL_FRAME_MAX,
	    file);
	if (r == TW_ETOOBIG)
		return fail_why(why, TW_EPARSE, "larger than any batch");
	if (r == TW_EIO)
		return fail_why(why, r, "%s", strerror(errno));
	if (r != 0)
		return r;
	return spool_file_check(file->data, file->len, h, frame, why);
}

int
spool_remove(struct spool *s, uint64_t seq, uint64_t size)
{
	char name[NAME_MAX_LEN];

	batch_name(name, sizeof(name), seq, "");
	/*
	 * No fsync of the directory: should the file come back after a
	 * crash, it is sent again and acknowledged as a duplicate.
	 */
	if (unlinkat(s->dirfd, name, 0) != 0 && errno != ENOENT)
		return TW_EIO;
	account_sub(s, size);
	return 0;
}

int
spool_quarantine(struct spool *s, uint64_t seq, uint64_t size)
{
	char name[NAME_MAX_LEN];
	int r;

	batch_name(name, sizeof(name), seq, "");
	tw_counter_inc(s->quarantined);
	if ((r = move_out(s, s->quarfd, name)) != 0)
		return r;
	account_sub(s, size);
	return 0;
}

int
spool_deadletter(struct spool *s, uint64_t seq, uint64_t size)
{
	char name[NAME_MAX_LEN];
	int r;

	batch_name(name, sizeof(name), seq, "");
	tw_counter_inc(s->deadlettered);
	if ((r = move_out(s, s->deadfd, name)) != 0)
		return r;
	account_sub(s, size);
	return 0;
}

uint64_t
spool_bytes(const struct spool *s)
{
	return atomic_load(&((struct spool *)s)->bytes);
}

uint64_t
spool_max_bytes(const struct spool *s)
{
	return s->max_bytes;
}

void
spool_free(struct spool *s)
{
	if (s == NULL)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->quarfd >= 0)
		close(s->quarfd);
	if (s->deadfd >= 0)
		close(s->deadfd);
	free(s);
}

/* checkpoint.c: the read offset of every file identity, kept on disk in two
 * generations. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fsio.h"
#include "log.h"

#define CKPT_HEADER "trawl-agent checkpoint 1\n"
#define CKPT_LINE_MAX (CKPT_PATH_MAX * 3 + 256)

static const char *const slot_names[2] = { "checkpoint.0", "checkpoint.1" };

struct ckpt_store {
	int dirfd;
	uint64_t generation; /* the newest on disk */
};

void
ckpt_init(struct ckpt *c)
{
	memset(c, 0, sizeof(*c));
}

void
ckpt_clear(struct ckpt *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	c->n = 0;
}

void
ckpt_cleanup(struct ckpt *c)
{
	ckpt_clear(c);
	free(c->v);
	ckpt_init(c);
}

int
ckpt_add(struct ckpt *c, const struct file_id *id, uint64_t offset,
    uint64_t skip, int64_t seen_s, const char *path)
{
	struct ckpt_entry *e;
	size_t cap;

	if (path == NULL)
		path = "";
	if (c->n >= CKPT_ENTRIES_MAX || strlen(path) > CKPT_PATH_MAX)
		return TW_ELIMIT;
	if (c->n == c->cap) {
		cap = c->cap == 0 ? 16 : c->cap * 2;
		if ((e = realloc(c->v, cap * sizeof(*e))) == NULL)
			return TW_ENOMEM;
		c->v = e;
		c->cap = cap;
	}
	e = &c->v[c->n];
	if ((e->path = strdup(path)) == NULL)
		return TW_ENOMEM;
	e->id = *id;
	e->offset = offset;
	e->skip = skip;
	e->seen_s = seen_s;
	c->n++;
	return 0;
}

bool
ckpt_after(uint64_t o1, uint64_t s1, uint64_t o2, uint64_t s2)
{
	return o1 > o2 || (o1 == o2 && s1 > s2);
}

int
ckpt_merge(struct ckpt *c, const struct file_id *id, uint64_t offset,
    uint64_t skip, int64_t seen_s)
{
	for (size_t i = 0; i < c->n; i++) {
		struct ckpt_entry *e = &c->v[i];

		if (!fileid_equal(&e->id, id))
			continue;
		if (ckpt_after(offset, skip, e->offset, e->skip)) {
			e->offset = offset;
			e->skip = skip;
		}
		return 0;
	}
	return ckpt_add(c, id, offset, skip, seen_s, "");
}

static bool
needs_escape(unsigned char ch)
{
	return ch <= 0x20 || ch >= 0x7f || ch == '%';
}

static int
add_escaped(struct tw_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = 0;

	for (const unsigned char *p = (const unsigned char *)s;
	    *p != '\0' && r == 0; p++) {
		if (!needs_escape(*p)) {
			r = tw_buf_addc(out, (char)*p);
			continue;
		}
		if ((r = tw_buf_addc(out, '%')) == 0 &&
		    (r = tw_buf_addc(out, hex[*p >> 4])) == 0)
			r = tw_buf_addc(out, hex[*p & 15]);
	}
	return r;
}

int
ckpt_encode(const struct ckpt *c, struct tw_buf *out)
{
	size_t start = out->len;
	uint32_t crc;
	int r;

	if ((r = tw_buf_adds(out, CKPT_HEADER)) != 0 ||
	    (r = tw_buf_addf(out, "generation %" PRIu64 "\n",
	    c->generation)) != 0)
		goto fail;
	for (size_t i = 0; i < c->n; i++) {
		const struct ckpt_entry *e = &c->v[i];

		if ((r = tw_buf_addf(out, "file %" PRIu64 " %" PRIu64 " %"
		    PRIu32 " %016" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRId64
		    " ", e->id.dev, e->id.ino, e->id.fp_len, e->id.fp_hash,
		    e->offset, e->skip, e->seen_s)) != 0 ||
		    (r = add_escaped(out, e->path)) != 0 ||
		    (r = tw_buf_addc(out, '\n')) != 0)
			goto fail;
	}
	crc = fsio_crc32(0, out->data + start, out->len - start);
	if ((r = tw_buf_addf(out, "end %zu %08" PRIx32 "\n", c->n, crc)) != 0)
		goto fail;
	return 0;
fail:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return r;
}

/* A malloc'd message for *why. */
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

/* Parse one decimal field of at most 20 digits ending at a space or end. */
static bool
take_u64(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int digits = 0;

	for (; s < end && *s >= '0' && *s <= '9'; s++, digits++) {
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (digits == 0 || digits > 20)
		return false;
	*v = x;
	*p = s;
	return true;
}

static bool
take_i64(const char **p, const char *end, int64_t *v)
{
	bool neg = *p < end && **p == '-';
	uint64_t u;

	if (neg)
		(*p)++;
	if (!take_u64(p, end, &u) || u > (uint64_t)INT64_MAX)
		return false;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return true;
}

static bool
take_hex(const char **p, const char *end, uint64_t *v, int width)
{
	const char *s = *p;
	uint64_t x = 0;
	int d;

	if (end - s < width)
		return false;
	for (int i = 0; i < width; i++, s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			return false;
		x = (x << 4) | (uint64_t)d;
	}
	*v = x;
	*p = s;
	return true;
}

static bool
take_space(const char **p, const char *end)
{
	if (*p >= end || **p != ' ')
		return false;
	(*p)++;
	return true;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Decode a percent-encoded path s[0..n) into out (NUL-terminated). */
static bool
unescape(const char *s, size_t n, char *out, size_t outsz)
{
	size_t o = 0;
	int hi, lo;

	for (size_t i = 0; i < n; i++) {
		if (o + 1 >= outsz)
			return false;
		if (s[i] != '%') {
			if (needs_escape((unsigned char)s[i]))
				return false;
			out[o++] = s[i];
			continue;
		}
		if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
		    (lo = hexval(s[i + 2])) < 0 || (hi == 0 && lo == 0))
			return false;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	return true;
}

/* One "file ..." line (without "file " and the newline). */
static int
decode_entry(const char *p, const char *end, struct ckpt *c, char **why,
    size_t lineno)
{
	char path[CKPT_PATH_MAX + 1];
	struct file_id id;
	uint64_t fp_len, offset, skip;
	int64_t seen;

	if (!take_u64(&p, end, &id.dev) || !take_space(&p, end) ||
	    !take_u64(&p, end, &id.ino) || !take_space(&p, end) ||
	    !take_u64(&p, end, &fp_len) || fp_len > FILEID_FP_MAX ||
	    !take_space(&p, end) || !take_hex(&p, end, &id.fp_hash, 16) ||
	    !take_space(&p, end) || !take_u64(&p, end, &offset) ||
	    !take_space(&p, end) || !take_u64(&p, end, &skip) ||
	    !take_space(&p, end) || !take_i64(&p, end, &seen) ||
	    !take_space(&p, end) ||
	    !unescape(p, (size_t)(end - p), path, sizeof(path)))
		return fail_why(why, TW_EPARSE, "line %zu: malformed file "
		    "entry", lineno);
	id.fp_len = (uint32_t)fp_len;
	return ckpt_add(c, &id, offset, skip, seen, path);
}

int
ckpt_decode(const char *p, size_t n, struct ckpt *c, char **why)
{
	const char *end = p + n, *line = p, *nl, *q;
	size_t lineno = 0, hlen = strlen(CKPT_HEADER);
	uint64_t count, crc;
	int r;

	ckpt_clear(c);
	c->generation = 0;
	if (n < hlen || memcmp(p, CKPT_HEADER, hlen) != 0) {
		r = fail_why(why, TW_EPARSE, "not a checkpoint file (bad "
		    "header)");
		goto fail;
	}
	for (line = p + hlen, lineno = 2; line < end; line = nl + 1,
	    lineno++) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL) {
			r = fail_why(why, TW_EPARSE, "line %zu: cut short "
			    "(no newline)", lineno);
			goto fail;
		}
		if (nl - line > CKPT_LINE_MAX) {
			r = fail_why(why, TW_EPARSE, "line %zu: too long",
			    lineno);
			goto fail;
		}
		q = line;
		if (lineno == 2) {
			if (nl - q < 11 || memcmp(q, "generation ", 11) != 0 ||
			    (q += 11, !take_u64(&q, nl, &c->generation)) ||
			    q != nl) {
				r = fail_why(why, TW_EPARSE, "line 2: "
				    "malformed generation");
				goto fail;
			}
			continue;
		}
		if (nl - q >= 5 && memcmp(q, "file ", 5) == 0) {
			if ((r = decode_entry(q + 5, nl, c, why, lineno)) != 0)
				goto fail;
			continue;
		}
		if (nl - q >= 4 && memcmp(q, "end ", 4) == 0) {
			q += 4;
			if (!take_u64(&q, nl, &count) || !take_space(&q, nl) ||
			    !take_hex(&q, nl, &crc, 8) || q != nl) {
				r = fail_why(why, TW_EPARSE, "line %zu: "
				    "malformed end line", lineno);
				goto fail;
			}
			if (count != c->n) {
				r = fail_why(why, TW_EPARSE, "end line says %"
				    PRIu64 " entries, the file has %zu", count,
				    c->n);
				goto fail;
			}
			if (fsio_crc32(0, p, (size_t)(line - p)) !=
			    (uint32_t)crc) {
				r = fail_why(why, TW_EPARSE, "checksum "
				    "mismatch");
				goto fail;
			}
			if (nl + 1 != end) {
				r = fail_why(why, TW_EPARSE, "bytes after the "
				    "end line");
				goto fail;
			}
			return 0;
		}
		r = fail_why(why, TW_EPARSE, "line %zu: unknown line",
		    lineno);
		goto fail;
	}
	r = fail_why(why, TW_EPARSE, "cut short (no end line)");
fail:
	if (r == TW_ELIMIT)
		fail_why(why, r, "more than %d entries or a path over %d "
		    "bytes", CKPT_ENTRIES_MAX, CKPT_PATH_MAX);
	else if (r == TW_ENOMEM)
		fail_why(why, r, "out of memory");
	ckpt_clear(c);
	c->generation = 0;
	return r;
}

struct ckpt_store *
ckpt_store_open(const char *dir, char **why)
{
	struct ckpt_store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		fail_why(why, TW_ENOMEM, "out of memory");
		return NULL;
	}
	if ((s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fail_why(why, TW_EIO, "%s: %s", dir, strerror(errno));
		free(s);
		return NULL;
	}
	return s;
}

/* Move a corrupt generation aside so that it is reported once. */
static void
set_aside(struct ckpt_store *s, const char *name)
{
	char aside[64];

	snprintf(aside, sizeof(aside), "%s.corrupt", name);
	if (renameat(s->dirfd, name, s->dirfd, aside) != 0 ||
	    fsio_fsync_dir(s->dirfd) != 0)
		tw_warn("checkpoint", "cannot set the corrupt checkpoint "
		    "aside", "file", name, "error", strerror(errno));
}

int
ckpt_store_load(struct ckpt_store *s, struct ckpt *c, unsigned *corrupt)
{
	struct ckpt slot[2];
	struct tw_buf b;
	bool ok[2] = { false, false };
	char *why = NULL;
	int r = 0, best = -1;

	*corrupt = 0;
	ckpt_init(&slot[0]);
	ckpt_init(&slot[1]);
	tw_buf_init(&b, CKPT_FILE_MAX + 1);
	for (int i = 0; i < 2; i++) {
		r = fsio_read_file(s->dirfd, slot_names[i], CKPT_FILE_MAX, &b);
		if (r == TW_ENOTFOUND) {
			r = 0;
			continue;
		}
		if (r == TW_EIO) {
			tw_error("checkpoint", "cannot read the checkpoint",
			    "file", slot_names[i], "error", strerror(errno));
			goto out;
		}
		if (r == 0)
			r = ckpt_decode(b.data, b.len, &slot[i], &why);
		else
			why = strdup("larger than any checkpoint can be");
		if (r == TW_ENOMEM)
			goto out;
		if (r != 0) {
			tw_error("checkpoint", "corrupt checkpoint; falling "
			    "back to the other generation", "file",
			    slot_names[i], "error", why != NULL ? why :
			    tw_strerror(r));
			free(why);
			why = NULL;
			(*corrupt)++;
			set_aside(s, slot_names[i]);
			r = 0;
			continue;
		}
		ok[i] = true;
	}
	if (ok[0] && (!ok[1] || slot[0].generation >= slot[1].generation))
		best = 0;
	else if (ok[1])
		best = 1;
	ckpt_cleanup(c);
	if (best >= 0) {
		*c = slot[best];
		ckpt_init(&slot[best]);
		s->generation = c->generation;
	}
out:
	ckpt_cleanup(&slot[0]);
	ckpt_cleanup(&slot[1]);
	tw_buf_cleanup(&b);
	free(why);
	return r;
}

int
ckpt_store_save(struct ckpt_store *s, struct ckpt *c)
{
	struct tw_buf b;
	uint64_t gen = s->generation + 1;
	int r;

	c->generation = gen;
	tw_buf_init(&b, CKPT_FILE_MAX);
	if ((r = ckpt_encode(c, &b)) != 0)
		goto out;
	if ((r = fsio_replace(s->dirfd, slot_names[gen & 1], b.data,
	    b.len)) != 0)
		goto out;
	s->generation = gen;
out:
	tw_buf_cleanup(&b);
	return r;
}

void
ckpt_store_free(struct ckpt_store *s)
{
	if (s == NULL)
		return;
	close(s->dirfd);
	free(s);
}

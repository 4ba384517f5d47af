/* store_reader.c: reading and verifying the segment store (docs/store.md). */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_format.h"
#include "store_reader.h"

#define VERIFY_ATTEMPTS 3   /* restarts when retention races the walk */
#define TAIL_WAITS 5	    /* waits for a block being written */
#define TAIL_WAIT_NS 20000000L

struct tw_store_reader {
	char *dir;
	int dirfd;
	uint64_t *ids; /* the last listing */
	size_t nids;
	uint64_t seg;  /* the segment being read (or to read next) */
	uint64_t off;
	bool started;  /* seg is set (else: start at the first one) */
	int fd;	       /* seg, once opened */
	uint64_t size; /* its length as last seen */
	bool sealed;
	struct tw_store_idx idx; /* its index, when bounded and sealed */
	bool have_idx;
	size_t ient;
	int64_t from, to;
	bool bounded;
	struct tw_buf blk; /* header + body of the last block */
	struct tw_store_hdr hdr;
	struct tw_store_reader_stats st;
	char err[512];
};

static void
set_why(char **why, const char *fmt, ...) TW_PRINTF(2, 3);

static void
set_why(char **why, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL)
		return;
	free(*why);
	va_start(ap, fmt);
	if (vasprintf(why, fmt, ap) < 0)
		*why = NULL;
	va_end(ap);
}

static int
reader_fail(struct tw_store_reader *r, int code, const char *fmt, ...)
    TW_PRINTF(3, 4);

static int
reader_fail(struct tw_store_reader *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return code;
}

static void
close_seg(struct tw_store_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->size = 0;
	if (r->have_idx)
		tw_store_idx_cleanup(&r->idx);
	r->have_idx = false;
	r->ient = 0;
}

static int
relist(struct tw_store_reader *r)
{
	uint64_t *ids;
	size_t n;
	int rc;

	if ((rc = tw_store_list_segments(r->dirfd, &ids, &n)) != 0)
		return reader_fail(r, rc, "%s: cannot list: %s", r->dir,
		    rc == TW_EIO ? strerror(errno) : tw_strerror(rc));
	free(r->ids);
	r->ids = ids;
	r->nids = n;
	return 0;
}

/* The first listed segment id >= id, or 0 when there is none. */
static uint64_t
listed_from(const struct tw_store_reader *r, uint64_t id)
{
	for (size_t i = 0; i < r->nids; i++)
		if (r->ids[i] >= id)
			return r->ids[i];
	return 0;
}

static bool
is_sealed(const struct tw_store_reader *r, uint64_t id)
{
	char name[TW_STORE_NAME_MAX];

	tw_store_name(name, id, TW_STORE_CKPT_EXT);
	return tw_store_file_exists(r->dirfd, name);
}

struct tw_store_reader *
tw_store_reader_open(const char *dir, char **why)
{
	struct tw_store_reader *r;

	if (why != NULL)
		*why = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		set_why(why, "out of memory");
		return NULL;
	}
	r->fd = -1;
	r->dirfd = -1;
	r->from = INT64_MIN;
	r->to = INT64_MAX;
	tw_buf_init(&r->blk, (size_t)TW_STORE_HDR_MAX + TW_STORE_BODY_MAX);
	if ((r->dir = strdup(dir)) == NULL) {
		set_why(why, "out of memory");
		goto fail;
	}
	if ((r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		set_why(why, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (relist(r) != 0) {
		set_why(why, "%s", r->err);
		goto fail;
	}
	return r;
fail:
	tw_store_reader_free(r);
	return NULL;
}

void
tw_store_reader_free(struct tw_store_reader *r)
{
	if (r == NULL)
		return;
	close_seg(r);
	if (r->dirfd >= 0)
		close(r->dirfd);
	tw_buf_cleanup(&r->blk);
	free(r->ids);
	free(r->dir);
	free(r);
}

void
tw_store_reader_seek_time(struct tw_store_reader *r, int64_t from_ns,
    int64_t to_ns)
{
	close_seg(r);
	r->from = from_ns;
	r->to = to_ns;
	r->bounded = !(from_ns == INT64_MIN && to_ns == INT64_MAX);
	r->started = false;
	r->seg = 0;
	r->off = 0;
}

/* Open segment r->seg; TW_ENOTFOUND when it is gone. */
static int
open_seg(struct tw_store_reader *r)
{
	char name[TW_STORE_NAME_MAX];
	struct stat st;

	tw_store_name(name, r->seg, TW_STORE_SEG_EXT);
	/* Sealed-ness first: a segment sealed after this check is read as
	 * open, which only means waiting for a directory listing. */
	r->sealed = is_sealed(r, r->seg);
	if ((r->fd = openat(r->dirfd, name, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return TW_ENOTFOUND;
		return reader_fail(r, TW_EIO, "%s/%s: %s", r->dir, name,
		    strerror(errno));
	}
	if (fstat(r->fd, &st) != 0) {
		close_seg(r);
		return reader_fail(r, TW_EIO, "%s/%s: %s", r->dir, name,
		    strerror(errno));
	}
	r->size = (uint64_t)st.st_size;
	r->st.segments_opened++;
	return 0;
}

int
tw_store_reader_seek_pos(struct tw_store_reader *r,
    const struct tw_store_pos *pos)
{
	struct tw_store_hdr h;
	uint64_t off = 0;
	int rc;

	close_seg(r);
	if ((rc = relist(r)) != 0)
		return rc;
	if (listed_from(r, pos->segment) != pos->segment)
		return reader_fail(r, TW_ENOTFOUND, "segment %" PRIu64
		    " does not exist", pos->segment);
	r->seg = pos->segment;
	r->started = true;
	if ((rc = open_seg(r)) != 0)
		return rc;
	/* A block boundary: walk the headers up to it. */
	while (off < pos->offset && off < r->size) {
		if ((rc = tw_store_block_at(r->fd, off, r->size, false,
		    &h)) != 0)
			break;
		off += tw_store_hdr_block_len(&h);
	}
	if (off != pos->offset) {
		close_seg(r);
		r->started = false;
		return reader_fail(r, rc == TW_EIO ? TW_EIO : TW_EINVAL,
		    "offset %" PRIu64 " of segment %" PRIu64 " is not a block "
		    "boundary", pos->offset, pos->segment);
	}
	r->off = off;
	return 0;
}

/* Load the sealed segment's index for a bounded read; false: none. */
static bool
load_idx(struct tw_store_reader *r, uint64_t id)
{
	if (tw_store_idx_load(r->dirfd, id, &r->idx) != 0)
		return false;
	r->have_idx = true;
	r->ient = 0;
	return true;
}

/* Does the indexed segment have any block in range? */
static bool
idx_overlaps(const struct tw_store_reader *r)
{
	for (size_t i = 0; i < r->idx.n; i++)
		if (tw_store_time_overlaps(r->idx.ent[i].time_min,
		    r->idx.ent[i].time_max, r->from, r->to))
			return true;
	return false;
}

/* Move on to the segment after r->seg. */
static void
next_seg(struct tw_store_reader *r)
{
	close_seg(r);
	r->seg++;
	r->off = 0;
}

/* Is r->seg finished (sealed, or a later segment exists)? */
static int
seg_finished(struct tw_store_reader *r, bool *done)
{
	struct stat st;
	int rc;

	if (r->sealed) {
		*done = true;
		return 0;
	}
	if ((rc = relist(r)) != 0)
		return rc;
	*done = listed_from(r, r->seg + 1) != 0 || is_sealed(r, r->seg);
	/* What was written before the next segment appeared is visible
	 * now: look at the length again. */
	if (fstat(r->fd, &st) == 0)
		r->size = (uint64_t)st.st_size;
	return 0;
}

/* Read the whole block at r->off (header h) and check its hash. */
static int
read_block(struct tw_store_reader *r, const struct tw_store_hdr *h)
{
	uint8_t hash[TW_STORE_HASH_LEN];
	uint64_t len = tw_store_hdr_block_len(h);
	size_t got;
	int rc;

	tw_buf_reset(&r->blk);
	if ((rc = tw_buf_reserve(&r->blk, (size_t)len)) != 0)
		return rc;
	if ((rc = tw_store_pread_full(r->fd, r->blk.data, (size_t)len, r->off,
	    &got)) != 0)
		return reader_fail(r, rc, "segment %" PRIu64 ": %s", r->seg,
		    strerror(errno));
	if (got != len)
		return TW_EEOF;
	r->blk.len = (size_t)len;
	if ((rc = tw_store_block_hash((const uint8_t *)r->blk.data,
	    h->header_len, r->blk.data + h->header_len, h->body_len,
	    hash)) != 0)
		return rc;
	/* The header may have changed since it was first read. */
	if (memcmp(hash, h->hash, TW_STORE_HASH_LEN) != 0 ||
	    memcmp(r->blk.data + h->header_len - TW_STORE_HASH_LEN, h->hash,
	    TW_STORE_HASH_LEN) != 0)
		return TW_EINVAL;
	r->st.bytes += len;
	return 0;
}

int
tw_store_reader_next(struct tw_store_reader *r, struct tw_store_block *b)
{
	struct tw_store_hdr *h = &r->hdr;
	uint64_t found, id;
	bool done;
	int rc;

	r->err[0] = '\0';
	for (;;) {
		if (r->fd < 0) {
			id = listed_from(r, r->started ? r->seg : 0);
			if (id == 0) {
				if ((rc = relist(r)) != 0)
					return rc;
				id = listed_from(r, r->started ? r->seg : 0);
				if (id == 0)
					return 0;
			}
			if (!r->started || id != r->seg) {
				r->seg = id;
				r->off = 0;
				r->started = true;
			}
			if (r->bounded && is_sealed(r, id) && load_idx(r, id)) {
				if (!idx_overlaps(r)) {
					r->st.segments_skipped++;
					next_seg(r);
					continue;
				}
			}
			if ((rc = open_seg(r)) == TW_ENOTFOUND) {
				/* Deleted by retention meanwhile. */
				next_seg(r);
				if ((rc = relist(r)) != 0)
					return rc;
				continue;
			}
			if (rc != 0)
				return rc;
		}
		if (r->have_idx) {
			/* Jump to the next indexed block in range. */
			const struct tw_store_idx_entry *e;
			while (r->ient < r->idx.n &&
			    ((e = &r->idx.ent[r->ient])->offset < r->off ||
			    !tw_store_time_overlaps(e->time_min, e->time_max,
			    r->from, r->to))) {
				if (e->offset >= r->off)
					r->st.blocks_skipped++;
				r->ient++;
			}
			if (r->ient == r->idx.n) {
				next_seg(r);
				continue;
			}
			r->off = r->idx.ent[r->ient].offset;
		}
		rc = r->off < r->size ?
		    tw_store_block_at(r->fd, r->off, r->size, false, h) :
		    TW_EEOF;
		if (rc == 0) {
			if (r->bounded && !tw_store_time_overlaps(h->time_min,
			    h->time_max, r->from, r->to)) {
				r->off += tw_store_hdr_block_len(h);
				r->st.blocks_skipped++;
				continue;
			}
			rc = read_block(r, h);
		}
		if (rc == 0) {
			b->pos.segment = r->seg;
			b->pos.offset = r->off;
			r->off += tw_store_hdr_block_len(h);
			b->next.segment = r->seg;
			b->next.offset = r->off;
			b->index = h->index;
			b->records = h->records;
			b->time_min = h->time_min;
			b->time_max = h->time_max;
			b->received_at = h->received_at;
			b->seq = h->seq;
			b->agent_id = h->agent;
			b->prev_hash = h->prev;
			b->hash = h->hash;
			b->body = (const uint8_t *)r->blk.data + h->header_len;
			b->body_len = h->body_len;
			r->st.blocks++;
			return 1;
		}
		if (rc != TW_EEOF && rc != TW_EPARSE && rc != TW_EINVAL)
			return rc == TW_EIO ? reader_fail(r, rc, "segment %"
			    PRIu64 ": %s", r->seg, strerror(errno)) : rc;
		/* At the end, or at a block that is not whole or not good. */
		if ((rc = seg_finished(r, &done)) != 0)
			return rc;
		if (r->off >= r->size) {
			if (r->have_idx) {
				next_seg(r);
				continue;
			}
			if (!done)
				return 0; /* follow: more may come */
			/* seg_finished looked at the length after the
			 * listing: nothing more will come. */
			next_seg(r);
			continue;
		}
		rc = tw_store_block_at(r->fd, r->off, r->size, true, h);
		if (rc == 0)
			continue; /* it became whole meanwhile */
		if (tw_store_find_block(r->fd, r->off, r->size, &found) == 0) {
			r->st.damaged++;
			rc = reader_fail(r, TW_EPARSE, "segment %" PRIu64
			    " offset %" PRIu64 ": damaged block skipped",
			    r->seg, r->off);
			r->off = found;
			return rc;
		}
		if (!done)
			return 0; /* a block being written, or a torn tail */
		r->st.damaged++;
		rc = reader_fail(r, TW_EPARSE, "segment %" PRIu64 " offset %"
		    PRIu64 ": damaged end of a sealed segment skipped",
		    r->seg, r->off);
		next_seg(r);
		return rc;
	}
}

const char *
tw_store_reader_error(const struct tw_store_reader *r)
{
	return r->err;
}

void
tw_store_reader_stats(const struct tw_store_reader *r,
    struct tw_store_reader_stats *out)
{
	*out = r->st;
}

/* --- verify --- */

struct verify {
	int dirfd;
	const char *dir;
	struct tw_store_key *key;
	struct tw_store_verify_result *res;
	uint8_t prev[TW_STORE_HASH_LEN];
	uint64_t index;
	const char *prev_what; /* what the expected previous hash is */
};

static void
bad(struct verify *v, const char *file, uint64_t off, uint64_t index,
    const char *fmt, ...) TW_PRINTF(5, 6);

static void
bad(struct verify *v, const char *file, uint64_t off, uint64_t index,
    const char *fmt, ...)
{
	va_list ap;

	v->res->bad = true;
	snprintf(v->res->file, sizeof(v->res->file), "%s", file);
	v->res->offset = off;
	v->res->index = index;
	va_start(ap, fmt);
	vsnprintf(v->res->what, sizeof(v->res->what), fmt, ap);
	va_end(ap);
}

/* What a segment's blocks add up to, to compare with its checkpoint. */
struct seg_sum {
	uint64_t blocks, first_block, last_block, last_off;
	uint8_t first_prev[TW_STORE_HASH_LEN], last_hash[TW_STORE_HASH_LEN];
	int64_t time_min, time_max, recv_min, recv_max;
};

static void
sleep_ns(long ns)
{
	struct timespec ts = { 0, ns };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Walk one segment. Returns 0 (v->res->bad may be set), TW_EAGAIN when
 * the file vanished (retention ran: start over), TW_EIO.
 */
static int
verify_segment(struct verify *v, uint64_t id, bool last, char **why)
{
	char name[TW_STORE_NAME_MAX], cname[TW_STORE_NAME_MAX], reason[160];
	struct tw_store_ckpt c;
	struct tw_store_hdr h;
	struct seg_sum sum;
	struct tw_buf text;
	uint8_t hash[TW_STORE_HASH_LEN];
	struct stat st;
	uint64_t off = 0, size;
	bool has_ckpt;
	int fd, rc, ckrc, waits = 0;

	tw_buf_init(&text, TW_STORE_META_MAX);
	memset(&sum, 0, sizeof(sum));
	sum.time_min = sum.recv_min = INT64_MAX;
	sum.time_max = sum.recv_max = INT64_MIN;
	tw_store_name(name, id, TW_STORE_SEG_EXT);
	tw_store_name(cname, id, TW_STORE_CKPT_EXT);
	if ((fd = openat(v->dirfd, name, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = errno == ENOENT ? TW_EAGAIN : TW_EIO;
		if (rc == TW_EIO)
			set_why(why, "%s/%s: %s", v->dir, name,
			    strerror(errno));
		goto out;
	}
	ckrc = tw_store_read_file(v->dirfd, cname, TW_STORE_META_MAX, &text);
	if (ckrc != 0 && ckrc != TW_ENOTFOUND && ckrc != TW_ETOOBIG) {
		set_why(why, "%s/%s: %s", v->dir, cname, strerror(errno));
		rc = ckrc;
		goto out;
	}
	has_ckpt = ckrc != TW_ENOTFOUND;
	if (fstat(fd, &st) != 0) {
		set_why(why, "%s/%s: %s", v->dir, name, strerror(errno));
		rc = TW_EIO;
		goto out;
	}
	size = (uint64_t)st.st_size;
	rc = 0;
	while (off < size) {
		rc = tw_store_block_at(fd, off, size, false, &h);
		if (rc == TW_EEOF && last && !has_ckpt && waits < TAIL_WAITS) {
			/* Perhaps a block being written: look again. */
			waits++;
			sleep_ns(TAIL_WAIT_NS);
			if (fstat(fd, &st) == 0)
				size = (uint64_t)st.st_size;
			continue;
		}
		if (rc == TW_EEOF) {
			bad(v, name, off, v->index, "truncated block (%" PRIu64
			    " bytes at the end of the segment are not a whole "
			    "block)", size - off);
			rc = 0;
			goto out;
		}
		if (rc == TW_EPARSE) {
			bad(v, name, off, v->index, "not a block header");
			rc = 0;
			goto out;
		}
		if (rc != 0) {
			set_why(why, "%s/%s: %s", v->dir, name,
			    rc == TW_EIO ? strerror(errno) : tw_strerror(rc));
			goto out;
		}
		if ((rc = tw_store_block_hash_fd(fd, off, &h, hash)) != 0) {
			set_why(why, "%s/%s: %s", v->dir, name,
			    rc == TW_EIO ? strerror(errno) : tw_strerror(rc));
			goto out;
		}
		if (memcmp(hash, h.hash, TW_STORE_HASH_LEN) != 0) {
			bad(v, name, off, v->index, "hash mismatch (the header "
			    "or the body was changed)");
			goto out;
		}
		if (memcmp(h.prev, v->prev, TW_STORE_HASH_LEN) != 0) {
			bad(v, name, off, v->index, "broken chain link: its "
			    "previous hash is not the hash of %s%s",
			    v->prev_what, off == 0 ? " (a segment was removed "
			    "or replaced?)" : "");
			goto out;
		}
		if (h.index != v->index) {
			bad(v, name, off, v->index, "broken chain link: it "
			    "says it is block %" PRIu64, h.index);
			goto out;
		}
		if (sum.blocks == 0) {
			sum.first_block = h.index;
			memcpy(sum.first_prev, h.prev, TW_STORE_HASH_LEN);
		}
		sum.blocks++;
		sum.last_block = h.index;
		sum.last_off = off;
		memcpy(sum.last_hash, h.hash, TW_STORE_HASH_LEN);
		if (h.time_min < sum.time_min)
			sum.time_min = h.time_min;
		if (h.time_max > sum.time_max)
			sum.time_max = h.time_max;
		if (h.received_at < sum.recv_min)
			sum.recv_min = h.received_at;
		if (h.received_at > sum.recv_max)
			sum.recv_max = h.received_at;
		memcpy(v->prev, h.hash, TW_STORE_HASH_LEN);
		v->prev_what = "the block before it";
		v->index++;
		v->res->blocks++;
		off += tw_store_hdr_block_len(&h);
	}
	v->res->segments++;
	if (!has_ckpt) {
		if (!last)
			bad(v, name, size, v->index, "sealed segment has no "
			    "checkpoint (%s missing)", cname);
		goto out;
	}
	if (ckrc == TW_ETOOBIG ||
	    tw_store_ckpt_check(text.data, text.len, NULL, &c, NULL, reason,
	    sizeof(reason)) != 0) {
		bad(v, name, sum.last_off, sum.last_block, "malformed "
		    "checkpoint %s: %s", cname,
		    ckrc == TW_ETOOBIG ? "too large" : reason);
		rc = 0;
		goto out;
	}
	rc = 0;
	if (c.segment_id != id || c.blocks != sum.blocks ||
	    c.first_block != sum.first_block ||
	    c.last_block != sum.last_block ||
	    memcmp(c.first_prev, sum.first_prev, TW_STORE_HASH_LEN) != 0 ||
	    memcmp(c.last_hash, sum.last_hash, TW_STORE_HASH_LEN) != 0 ||
	    c.bytes != size || c.time_min != sum.time_min ||
	    c.time_max != sum.time_max || c.received_min != sum.recv_min ||
	    c.received_max != sum.recv_max) {
		bad(v, name, sum.last_off, sum.last_block, "checkpoint %s does "
		    "not match the segment (blocks, hashes, length or times "
		    "differ)", cname);
		goto out;
	}
	if (v->key != NULL) {
		if (tw_store_ckpt_check(text.data, text.len, v->key, &c, NULL,
		    reason, sizeof(reason)) != 0) {
			bool plain = strcmp(reason, "bad checkpoint "
			    "signature") == 0;
			bad(v, name, sum.last_off, sum.last_block, "bad "
			    "checkpoint signature in %s%s%s%s", cname,
			    plain ? "" : " (", plain ? "" : reason,
			    plain ? "" : ")");
			goto out;
		}
		v->res->signatures++;
	}
	v->res->checkpoints++;
out:
	if (fd >= 0)
		close(fd);
	tw_buf_cleanup(&text);
	return rc;
}

/* One walk of the whole store. */
static int
verify_once(struct verify *v, char **why)
{
	struct tw_store_anchor a;
	struct tw_store_ckpt c;
	char reason[160];
	uint64_t *ids = NULL;
	size_t n = 0;
	int rc;

	tw_store_anchor_init(&a);
	memset(v->res, 0, sizeof(*v->res));
	rc = tw_store_anchor_load(v->dirfd, &a);
	if (rc == TW_EPARSE) {
		bad(v, TW_STORE_ANCHOR, 0, 0, "malformed retention anchor");
		rc = 0;
		goto out;
	}
	if (rc != 0 && rc != TW_ENOTFOUND) {
		set_why(why, "%s/%s: %s", v->dir, TW_STORE_ANCHOR,
		    strerror(errno));
		goto out;
	}
	memcpy(v->prev, a.prev, TW_STORE_HASH_LEN);
	v->index = a.first_block;
	v->prev_what = rc == TW_ENOTFOUND ? "nothing (the first block must "
	    "have a zero previous hash)" : "the last deleted block (anchor)";
	if (rc == 0 && a.ckpt.len > 0) {
		if (tw_store_ckpt_check(a.ckpt.data, a.ckpt.len, v->key, &c,
		    NULL, reason, sizeof(reason)) != 0) {
			bad(v, TW_STORE_ANCHOR, 0, a.first_block, "the deleted "
			    "segment's checkpoint in the anchor: %s", reason);
			rc = 0;
			goto out;
		}
		if (c.last_block + 1 != a.first_block ||
		    memcmp(c.last_hash, a.prev, TW_STORE_HASH_LEN) != 0) {
			bad(v, TW_STORE_ANCHOR, 0, a.first_block, "the anchor "
			    "does not match the deleted segment's checkpoint");
			rc = 0;
			goto out;
		}
		if (v->key != NULL)
			v->res->signatures++;
	}
	if ((rc = tw_store_list_segments(v->dirfd, &ids, &n)) != 0) {
		set_why(why, "%s: cannot list: %s", v->dir, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < n && !v->res->bad; i++) {
		if (ids[i] < a.first_segment)
			continue; /* retention is deleting it */
		if ((rc = verify_segment(v, ids[i], i + 1 == n, why)) != 0)
			goto out;
	}
	rc = 0;
out:
	free(ids);
	tw_store_anchor_cleanup(&a);
	return rc;
}

int
tw_store_verify(const char *dir, const char *key_path,
    struct tw_store_verify_result *res, char **why)
{
	struct verify v;
	int rc = 0;

	if (why != NULL)
		*why = NULL;
	memset(&v, 0, sizeof(v));
	memset(res, 0, sizeof(*res));
	v.res = res;
	v.dir = dir;
	if ((v.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		set_why(why, "%s: %s", dir, strerror(errno));
		return TW_EIO;
	}
	if (key_path != NULL && (v.key = tw_store_key_load(key_path,
	    TW_STORE_SIG_NONE, why)) == NULL) {
		rc = TW_EINVAL;
		goto out;
	}
	for (int attempt = 0; attempt < VERIFY_ATTEMPTS; attempt++)
		if ((rc = verify_once(&v, why)) != TW_EAGAIN)
			break;
	if (rc == TW_EAGAIN)
		set_why(why, "%s: segments keep disappearing during the walk",
		    dir);
out:
	tw_store_key_free(v.key);
	close(v.dirfd);
	return rc;
}

/* store.c: the store's writer: group commit, dedup, sealing, retention. */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_format.h"
#include "timefmt.h"

#define DEFAULT_SEGMENT_MAX ((uint64_t)128 << 20)
#define DEFAULT_SEGMENT_AGE ((int64_t)3600 * 1000000000)
#define DEFAULT_BLOCK_MAX ((uint32_t)64 << 20)
#define DEFAULT_GAPS_MAX 1024
#define SEGMENT_MIN 4096
#define GROUP_MAX 512		/* blocks in one commit */
#define GROUP_BYTES_MAX ((uint64_t)256 << 20)

/*
 * Dedup state: per agent, the stored sequence numbers as sorted, disjoint,
 * non-adjacent runs [lo, hi]. The first run's hi is the watermark (every
 * seq from the agent's first up to it is stored); the others are the
 * stored seqs above it. Out-of-order arrivals open gaps that close (runs
 * merge) as the missing batches arrive, so a duplicate is exactly "this
 * (agent, seq) is in a run" and an older, late seq is not one.
 */
struct dd_range {
	uint64_t lo, hi;
};

struct dd_agent {
	struct dd_agent *next; /* hash chain */
	uint64_t hash;
	struct dd_range *r;
	uint32_t n, cap;
	/* owned by the writer role: this agent's number in the open index */
	uint64_t seg_gen;
	uint32_t seg_no;
	size_t len;
	char id[];
};

struct dedup {
	struct dd_agent **b;
	size_t nb, n;
};

struct seg {
	uint64_t id;
	uint64_t bytes;
	uint64_t first_block; /* chain index of its first block */
	uint64_t blocks;
	int64_t recv_min, recv_max;
	uint8_t first_prev[TW_STORE_HASH_LEN];
	uint8_t last_hash[TW_STORE_HASH_LEN];
	bool sealed;
};

/* One caller's append, on its stack until done is set. */
struct req {
	struct dd_agent *ag;
	uint64_t seq;
	const struct tw_batch_info *info;
	const void *body;
	size_t body_len;
	struct tw_store_pos pos;
	int result;
	int err_no;
	bool done;
	struct req *next;
};

struct tw_store {
	char *dir;
	int dirfd, lockfd;
	struct tw_store_opts opts;
	struct tw_store_key *key;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	struct req *q_head, *q_tail; /* waiting to be written */
	struct req *writing;	     /* the group being committed */
	bool busy;		     /* a thread holds the writer role */
	bool closing;
	unsigned calls;		     /* appends inside the store */
	int failed_errno;	     /* sticky after a failed fdatasync */
	struct dedup dd;
	struct tw_store_stats st;

	/* owned by the thread holding the writer role */
	struct seg *segs;
	size_t nsegs, segs_cap;
	int fd;			/* the open segment, or -1 */
	uint64_t seg_gen;
	struct tw_store_idx_entry *ent; /* the open segment's index */
	size_t nent, ent_cap;
	const char **seg_agents; /* its agent table (ids owned by dd) */
	uint32_t nseg_agents, seg_agents_cap;
	uint8_t prev[TW_STORE_HASH_LEN]; /* hash of the last block */
	uint64_t next_index;
	int64_t last_received;
	struct tw_store_anchor anchor;
	uint8_t *hdrs;		/* GROUP_MAX headers */
	struct iovec *iov;	/* 2 * GROUP_MAX */
	struct tw_store_idx_entry *run; /* GROUP_MAX */
};

void
tw_store_opts_default(struct tw_store_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->segment_max_bytes = DEFAULT_SEGMENT_MAX;
	o->segment_max_age_ns = DEFAULT_SEGMENT_AGE;
	o->retention_bytes = 0;
	o->retention_age_ns = 0;
	o->checkpoint_signing = TW_STORE_SIG_NONE;
	o->checkpoint_key_file = NULL;
	o->block_max_bytes = DEFAULT_BLOCK_MAX;
	o->dedup_gaps_max = DEFAULT_GAPS_MAX;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
u64str(char out[24], uint64_t v)
{
	snprintf(out, 24, "%" PRIu64, v);
}

/* --- dedup --- */

static uint64_t
fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void
dd_cleanup(struct dedup *dd)
{
	for (size_t i = 0; i < dd->nb; i++) {
		struct dd_agent *a = dd->b[i], *next;
		for (; a != NULL; a = next) {
			next = a->next;
			free(a->r);
			free(a);
		}
	}
	free(dd->b);
	memset(dd, 0, sizeof(*dd));
}

static int
dd_grow(struct dedup *dd)
{
	size_t nb = dd->nb == 0 ? 64 : dd->nb * 2;
	struct dd_agent **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return TW_ENOMEM;
	for (size_t i = 0; i < dd->nb; i++) {
		struct dd_agent *a = dd->b[i], *next;
		for (; a != NULL; a = next) {
			next = a->next;
			a->next = b[a->hash & (nb - 1)];
			b[a->hash & (nb - 1)] = a;
		}
	}
	free(dd->b);
	dd->b = b;
	dd->nb = nb;
	return 0;
}

/* The agent's state; created when create is set (NULL: none, or ENOMEM). */
static struct dd_agent *
dd_find(struct dedup *dd, const char *id, size_t len, bool create)
{
	uint64_t h = fnv1a(id, len);
	struct dd_agent *a;

	if (dd->nb > 0)
		for (a = dd->b[h & (dd->nb - 1)]; a != NULL; a = a->next)
			if (a->hash == h && a->len == len &&
			    memcmp(a->id, id, len) == 0)
				return a;
	if (!create)
		return NULL;
	if (dd->n >= dd->nb && dd_grow(dd) != 0)
		return NULL;
	if ((a = calloc(1, sizeof(*a) + len + 1)) == NULL)
		return NULL;
	a->hash = h;
	a->len = len;
	memcpy(a->id, id, len);
	a->id[len] = '\0';
	a->seg_gen = UINT64_MAX;
	a->next = dd->b[h & (dd->nb - 1)];
	dd->b[h & (dd->nb - 1)] = a;
	dd->n++;
	return a;
}

/* The index of the first run with lo > seq. */
static uint32_t
dd_upper(const struct dd_agent *a, uint64_t seq)
{
	uint32_t lo = 0, hi = a->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (a->r[mid].lo > seq)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static bool
dd_has(const struct dd_agent *a, uint64_t seq)
{
	uint32_t i;

	if (a == NULL || a->n == 0)
		return false;
	i = dd_upper(a, seq);
	return i > 0 && seq <= a->r[i - 1].hi;
}

/*
 * Record seq as stored, merging runs; past gaps_max gaps the two oldest
 * runs are joined (*forced counts it). TW_ENOMEM leaves a unchanged.
 */
static int
dd_add(struct dd_agent *a, uint64_t seq, uint32_t gaps_max, uint64_t *forced)
{
	uint32_t i = dd_upper(a, seq);
	bool join_prev, join_next;

	if (i > 0 && seq <= a->r[i - 1].hi)
		return 0;
	join_prev = i > 0 && a->r[i - 1].hi + 1 == seq;
	join_next = i < a->n && seq + 1 == a->r[i].lo;
	if (join_prev && join_next) {
		a->r[i - 1].hi = a->r[i].hi;
		memmove(&a->r[i], &a->r[i + 1],
		    (a->n - i - 1) * sizeof(a->r[0]));
		a->n--;
	} else if (join_prev) {
		a->r[i - 1].hi = seq;
	} else if (join_next) {
		a->r[i].lo = seq;
	} else {
		if (a->n == a->cap) {
			uint32_t ncap = a->cap == 0 ? 4 : a->cap * 2;
			struct dd_range *nr = realloc(a->r,
			    ncap * sizeof(*nr));
			if (nr == NULL)
				return TW_ENOMEM;
			a->r = nr;
			a->cap = ncap;
		}
		memmove(&a->r[i + 1], &a->r[i], (a->n - i) * sizeof(a->r[0]));
		a->r[i].lo = a->r[i].hi = seq;
		a->n++;
	}
	while (a->n > (uint64_t)gaps_max + 1) {
		a->r[0].hi = a->r[1].hi;
		memmove(&a->r[1], &a->r[2], (a->n - 2) * sizeof(a->r[0]));
		a->n--;
		(*forced)++;
	}
	return 0;
}

/* Record a block found on disk (open) in the dedup state; under mu. */
static int
dd_note(struct tw_store *s, const char *agent, uint64_t seq)
{
	struct dd_agent *a = dd_find(&s->dd, agent, strlen(agent), true);

	if (a == NULL)
		return TW_ENOMEM;
	return dd_add(a, seq, s->opts.dedup_gaps_max,
	    &s->st.dedup_gaps_forced);
}

/* --- segment bookkeeping (writer role) --- */

static struct seg *
active_seg(struct tw_store *s)
{
	if (s->fd < 0 || s->nsegs == 0)
		return NULL;
	return &s->segs[s->nsegs - 1];
}

static int
push_seg(struct tw_store *s, const struct seg *sg)
{
	if (s->nsegs == s->segs_cap) {
		size_t ncap = s->segs_cap == 0 ? 16 : s->segs_cap * 2;
		struct seg *n = realloc(s->segs, ncap * sizeof(*n));
		if (n == NULL)
			return TW_ENOMEM;
		s->segs = n;
		s->segs_cap = ncap;
	}
	s->segs[s->nsegs++] = *sg;
	return 0;
}

static int
ent_reserve(struct tw_store *s, size_t more)
{
	if (s->nent + more > s->ent_cap) {
		size_t ncap = s->ent_cap == 0 ? 256 : s->ent_cap;
		struct tw_store_idx_entry *n;
		while (ncap < s->nent + more)
			ncap *= 2;
		if ((n = realloc(s->ent, ncap * sizeof(*n))) == NULL)
			return TW_ENOMEM;
		s->ent = n;
		s->ent_cap = ncap;
	}
	if (s->nseg_agents + more > s->seg_agents_cap) {
		size_t ncap = s->seg_agents_cap == 0 ? 16 : s->seg_agents_cap;
		const char **n;
		while (ncap < s->nseg_agents + more)
			ncap *= 2;
		if (ncap > UINT32_MAX ||
		    (n = realloc(s->seg_agents, ncap * sizeof(*n))) == NULL)
			return TW_ENOMEM;
		s->seg_agents = n;
		s->seg_agents_cap = (uint32_t)ncap;
	}
	return 0;
}

/* The agent's number in the open segment's table (room reserved). */
static uint32_t
seg_agent_no(struct tw_store *s, struct dd_agent *a)
{
	if (a->seg_gen != s->seg_gen) {
		a->seg_gen = s->seg_gen;
		a->seg_no = s->nseg_agents;
		s->seg_agents[s->nseg_agents++] = a->id;
	}
	return a->seg_no;
}

/* Start a new, empty index for a new open segment. */
static void
seg_index_reset(struct tw_store *s)
{
	s->nent = 0;
	s->nseg_agents = 0;
	s->seg_gen++;
}

/* Copy the gauges to the stats; takes mu. */
static void
publish(struct tw_store *s)
{
	uint64_t bytes = 0, blocks = 0;

	for (size_t i = 0; i < s->nsegs; i++) {
		bytes += s->segs[i].bytes;
		blocks += s->segs[i].blocks;
	}
	pthread_mutex_lock(&s->mu);
	s->st.bytes = bytes;
	s->st.blocks = blocks;
	s->st.segments = s->nsegs;
	s->st.agents = s->dd.n;
	s->st.next_index = s->next_index;
	pthread_mutex_unlock(&s->mu);
}

#define STAT_ADD(s, field, v)                                               \
	do {                                                                \
		pthread_mutex_lock(&(s)->mu);                               \
		(s)->st.field += (v);                                       \
		pthread_mutex_unlock(&(s)->mu);                             \
	} while (0)

static void
remove_segment_files(struct tw_store *s, uint64_t id)
{
	static const char *const exts[] = { TW_STORE_SEG_EXT,
		TW_STORE_IDX_EXT, TW_STORE_CKPT_EXT };
	char name[TW_STORE_NAME_MAX];

	/* ENOENT is fine: an interrupted deletion is being finished. */
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		tw_store_name(name, id, exts[i]);
		if (unlinkat(s->dirfd, name, 0) != 0 && errno != ENOENT)
			tw_warn("store", "cannot remove a file", "file", name,
			    "error", strerror(errno));
	}
}

/* Create the next segment file and make it the open one. */
static int
create_segment(struct tw_store *s)
{
	char name[TW_STORE_NAME_MAX];
	struct seg sg;
	int fd, r, saved;

	memset(&sg, 0, sizeof(sg));
	if (s->nsegs > 0)
		sg.id = s->segs[s->nsegs - 1].id + 1;
	else
		sg.id = s->anchor.first_segment > 0 ? s->anchor.first_segment :
		    1;
	sg.first_block = s->next_index;
	tw_store_name(name, sg.id, TW_STORE_SEG_EXT);
	if ((fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640)) < 0)
		return TW_EIO;
	if ((r = tw_store_fsync_dir(s->dirfd)) != 0 ||
	    (r = push_seg(s, &sg)) != 0) {
		saved = errno;
		close(fd);
		unlinkat(s->dirfd, name, 0);
		errno = saved;
		return r;
	}
	STAT_ADD(s, dir_fsyncs, 1);
	s->fd = fd;
	seg_index_reset(s);
	publish(s);
	return 0;
}

/*
 * Seal the open segment (it has blocks, all of them fdatasync'd): write
 * its index and its signed checkpoint, fsync the directory, close it.
 */
static int
seal_active(struct tw_store *s)
{
	char iname[TW_STORE_NAME_MAX], cname[TW_STORE_NAME_MAX];
	struct seg *sg = active_seg(s);
	struct tw_store_ckpt c;
	struct tw_buf b;
	char idbuf[24];
	int r, saved;

	tw_buf_init(&b, SIZE_MAX);
	tw_store_name(iname, sg->id, TW_STORE_IDX_EXT);
	tw_store_name(cname, sg->id, TW_STORE_CKPT_EXT);
	if ((r = tw_store_idx_encode(sg->id, s->ent, s->nent,
	    s->seg_agents, s->nseg_agents, &b)) != 0 ||
	    (r = tw_store_write_atomic(s->dirfd, iname, b.data, b.len)) != 0)
		goto fail;
	memset(&c, 0, sizeof(c));
	c.segment_id = sg->id;
	c.first_block = sg->first_block;
	c.last_block = sg->first_block + sg->blocks - 1;
	c.blocks = sg->blocks;
	memcpy(c.first_prev, sg->first_prev, TW_STORE_HASH_LEN);
	memcpy(c.last_hash, sg->last_hash, TW_STORE_HASH_LEN);
	c.bytes = sg->bytes;
	c.time_min = INT64_MAX;
	c.time_max = INT64_MIN;
	for (size_t i = 0; i < s->nent; i++) {
		if (s->ent[i].time_min < c.time_min)
			c.time_min = s->ent[i].time_min;
		if (s->ent[i].time_max > c.time_max)
			c.time_max = s->ent[i].time_max;
	}
	c.received_min = sg->recv_min;
	c.received_max = sg->recv_max;
	c.sealed_at = tw_time_now_ns();
	tw_buf_reset(&b);
	if ((r = tw_store_ckpt_render(&c, s->opts.checkpoint_signing, s->key,
	    &b)) != 0)
		goto fail;
	if ((r = tw_store_write_atomic(s->dirfd, cname, b.data, b.len)) != 0)
		goto fail;
	if ((r = tw_store_fsync_dir(s->dirfd)) != 0)
		goto fail;
	close(s->fd);
	s->fd = -1;
	sg->sealed = true;
	seg_index_reset(s);
	pthread_mutex_lock(&s->mu);
	s->st.sealed++;
	s->st.meta_fsyncs += 2;
	s->st.dir_fsyncs++;
	pthread_mutex_unlock(&s->mu);
	u64str(idbuf, sg->id);
	tw_info("store", "sealed a segment", "segment", idbuf);
	tw_buf_cleanup(&b);
	return 0;
fail:
	saved = errno;
	/* A checkpoint must never describe a segment that keeps growing. */
	unlinkat(s->dirfd, cname, 0);
	unlinkat(s->dirfd, iname, 0);
	tw_buf_cleanup(&b);
	STAT_ADD(s, seal_errors, 1);
	tw_error("store", "cannot seal a segment", "file", iname, "error",
	    r == TW_EIO ? strerror(saved) : tw_strerror(r));
	errno = saved;
	return r;
}

/* Delete the oldest (sealed) segment, anchoring the chain first. */
static int
delete_oldest(struct tw_store *s, int64_t now)
{
	struct seg old = s->segs[0];
	char cname[TW_STORE_NAME_MAX], idbuf[24];
	struct tw_store_anchor *a = &s->anchor;
	int r;

	tw_store_name(cname, old.id, TW_STORE_CKPT_EXT);
	if (tw_store_read_file(s->dirfd, cname, TW_STORE_META_MAX, &a->ckpt)
	    != 0)
		tw_buf_reset(&a->ckpt);
	a->first_segment = s->segs[1].id;
	a->first_block = old.first_block + old.blocks;
	memcpy(a->prev, old.last_hash, TW_STORE_HASH_LEN);
	a->deleted_segments++;
	a->deleted_blocks += old.blocks;
	a->deleted_bytes += old.bytes;
	a->updated_at = now;
	/* The anchor is durable before any file goes (docs/store.md). */
	if ((r = tw_store_anchor_save(s->dirfd, a)) != 0) {
		tw_error("store", "cannot write the retention anchor",
		    "error", strerror(errno));
		return r;
	}
	remove_segment_files(s, old.id);
	if ((r = tw_store_fsync_dir(s->dirfd)) != 0)
		tw_warn("store", "cannot fsync the store directory", "error",
		    strerror(errno));
	memmove(&s->segs[0], &s->segs[1], (s->nsegs - 1) * sizeof(s->segs[0]));
	s->nsegs--;
	pthread_mutex_lock(&s->mu);
	s->st.retention_deleted++;
	s->st.retention_deleted_bytes += old.bytes;
	s->st.meta_fsyncs++;
	s->st.dir_fsyncs += 2;
	pthread_mutex_unlock(&s->mu);
	u64str(idbuf, old.id);
	tw_info("store", "retention deleted a segment", "segment", idbuf);
	publish(s);
	return 0;
}

/* Delete the oldest sealed segments that retention no longer keeps. */
static int
retention(struct tw_store *s, int64_t now)
{
	int r = 0;

	while (s->nsegs >= 2 && s->segs[0].sealed) {
		uint64_t total = 0;
		bool by_bytes, by_age;
		for (size_t i = 0; i < s->nsegs; i++)
			total += s->segs[i].bytes;
		by_bytes = s->opts.retention_bytes > 0 &&
		    total > s->opts.retention_bytes;
		by_age = s->opts.retention_age_ns > 0 &&
		    now - s->segs[0].recv_max > s->opts.retention_age_ns;
		if (!by_bytes && !by_age)
			break;
		if ((r = delete_oldest(s, now)) != 0)
			break;
	}
	return r;
}

/* Does the open segment need sealing before a block of len bytes? */
static bool
must_seal(struct tw_store *s, uint64_t len, int64_t now)
{
	struct seg *sg = active_seg(s);

	if (sg == NULL || sg->blocks == 0)
		return false;
	if (s->opts.segment_max_age_ns > 0 &&
	    now - sg->recv_min >= s->opts.segment_max_age_ns)
		return true;
	return sg->bytes + len > s->opts.segment_max_bytes;
}

/* pwritev all of iov[0..cnt) at off, retrying EINTR and short writes. */
static int
write_iov(int fd, struct iovec *iov, int cnt, uint64_t off)
{
	while (cnt > 0) {
		int c = cnt > IOV_MAX ? IOV_MAX : cnt;
		ssize_t k = pwritev(fd, iov, c, (off_t)off);
		size_t left;
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return TW_EIO;
		}
		if (k == 0) {
			errno = ENOSPC;
			return TW_EIO;
		}
		off += (uint64_t)k;
		left = (size_t)k;
		while (cnt > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0 && left > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

static uint64_t
req_len(const struct req *q)
{
	return (uint64_t)TW_STORE_HDR_FIXED + q->ag->len + TW_STORE_HASH_LEN +
	    q->body_len;
}

static void
fail_reqs(struct req **g, size_t from, size_t n, int r, int err_no)
{
	for (size_t k = from; k < n; k++) {
		g[k]->result = r;
		g[k]->err_no = err_no;
	}
}

/*
 * Write the blocks of g[0..n) (writer role, mu not held): runs of blocks
 * that fit the open segment, one pwritev and one fdatasync per run,
 * sealing and starting segments in between. Sets each request's result.
 */
static void
commit_group(struct tw_store *s, struct req **g, size_t n)
{
	int64_t now = tw_time_now_ns();
	bool sealed_any = false;
	size_t i = 0;

	while (i < n) {
		uint8_t prev[TW_STORE_HASH_LEN];
		uint64_t off, run_bytes = 0;
		struct seg *sg;
		bool force = false;
		int64_t t0, recv;
		size_t j;
		int r, cnt = 0;

		if (must_seal(s, req_len(g[i]), now)) {
			if (seal_active(s) == 0)
				sealed_any = true;
			else
				force = true; /* keep writing; seal later */
		}
		if (active_seg(s) == NULL && (r = create_segment(s)) != 0) {
			tw_error("store", "cannot create a segment", "error",
			    strerror(errno));
			fail_reqs(g, i, n, r, errno);
			break;
		}
		sg = active_seg(s);
		off = sg->bytes;
		if ((r = ent_reserve(s, n - i)) != 0) {
			fail_reqs(g, i, n, r, ENOMEM);
			break;
		}
		memcpy(prev, s->prev, sizeof(prev));
		recv = now > s->last_received ? now : s->last_received;
		for (j = i; j < n; j++) {
			struct req *q = g[j];
			struct tw_store_hdr h;
			uint8_t *hb = s->hdrs + (j - i) * TW_STORE_HDR_MAX;
			struct tw_store_idx_entry *e = &s->run[j - i];
			uint64_t len = req_len(q);
			size_t hl;

			if (j > i && !force &&
			    sg->bytes + run_bytes + len >
			    s->opts.segment_max_bytes)
				break;
			memset(&h, 0, sizeof(h));
			h.body_len = (uint32_t)q->body_len;
			h.records = q->info->records;
			h.time_min = q->info->time_min;
			h.time_max = q->info->time_max;
			h.received_at = recv;
			h.seq = q->seq;
			h.index = s->next_index + (j - i);
			memcpy(h.agent, q->ag->id, q->ag->len + 1);
			memcpy(h.prev, prev, sizeof(prev));
			hl = tw_store_hdr_encode(&h, hb);
			if ((r = tw_store_block_hash(hb, hl, q->body,
			    q->body_len, prev)) != 0)
				break;
			memcpy(hb + hl - TW_STORE_HASH_LEN, prev,
			    TW_STORE_HASH_LEN);
			s->iov[cnt].iov_base = hb;
			s->iov[cnt++].iov_len = hl;
			s->iov[cnt].iov_base = (void *)(uintptr_t)q->body;
			s->iov[cnt++].iov_len = q->body_len;
			e->offset = off + run_bytes;
			e->index = h.index;
			e->seq = q->seq;
			e->time_min = h.time_min;
			e->time_max = h.time_max;
			e->received_at = recv;
			e->len = (uint32_t)len;
			e->records = h.records;
			e->agent_no = seg_agent_no(s, q->ag);
			run_bytes += len;
		}
		if (j == i) { /* hashing failed for the first block */
			fail_reqs(g, i, n, TW_EINTERNAL, 0);
			break;
		}
		if ((r = write_iov(s->fd, s->iov, cnt, off)) != 0) {
			int saved = errno;
			tw_error("store", "cannot write blocks", "error",
			    strerror(saved));
			/* Take the partial write back; if that fails too,
			 * nothing more can be trusted until a reopen. */
			if (ftruncate(s->fd, (off_t)off) != 0) {
				pthread_mutex_lock(&s->mu);
				s->failed_errno = saved;
				pthread_mutex_unlock(&s->mu);
			}
			fail_reqs(g, i, n, TW_EIO, saved);
			break;
		}
		t0 = mono_ns();
		while ((r = fdatasync(s->fd)) != 0 && errno == EINTR)
			;
		if (r != 0) {
			/* After a failed fsync the page cache may hold
			 * data that is not on disk: fail everything
			 * until the store is reopened and rescanned. */
			int saved = errno;
			tw_error("store", "fdatasync failed; the store "
			    "stops accepting writes", "error",
			    strerror(saved));
			pthread_mutex_lock(&s->mu);
			s->failed_errno = saved;
			s->st.fsyncs++;
			pthread_mutex_unlock(&s->mu);
			fail_reqs(g, i, n, TW_EIO, saved);
			break;
		}
		/* Durable: commit the run to the in-memory state. */
		for (size_t k = i; k < j; k++) {
			s->ent[s->nent++] = s->run[k - i];
			g[k]->pos.segment = sg->id;
			g[k]->pos.offset = s->run[k - i].offset;
			g[k]->result = 0;
		}
		if (sg->blocks == 0) {
			memcpy(sg->first_prev, s->prev, TW_STORE_HASH_LEN);
			sg->first_block = s->next_index;
			sg->recv_min = recv;
		}
		sg->blocks += j - i;
		sg->bytes += run_bytes;
		sg->recv_max = recv;
		memcpy(sg->last_hash, prev, TW_STORE_HASH_LEN);
		memcpy(s->prev, prev, TW_STORE_HASH_LEN);
		s->next_index += j - i;
		s->last_received = recv;
		pthread_mutex_lock(&s->mu);
		s->st.commits++;
		s->st.fsyncs++;
		s->st.last_fsync_ns = (uint64_t)(mono_ns() - t0);
		if (j - i > s->st.max_group)
			s->st.max_group = j - i;
		s->st.append_bytes += run_bytes;
		pthread_mutex_unlock(&s->mu);
		i = j;
	}
	if (sealed_any)
		tw_ignore(retention(s, now)); /* logged; retried later */
	publish(s);
}

/* --- append --- */

static bool
in_flight(const struct tw_store *s, const struct dd_agent *a, uint64_t seq)
{
	for (const struct req *q = s->q_head; q != NULL; q = q->next)
		if (q->ag == a && q->seq == seq)
			return true;
	for (const struct req *q = s->writing; q != NULL; q = q->next)
		if (q->ag == a && q->seq == seq)
			return true;
	return false;
}

int
tw_store_append(struct tw_store *s, const char *agent_id, uint64_t seq,
    const struct tw_batch_info *info, const void *frame, size_t frame_len,
    struct tw_store_pos *pos)
{
	struct req rq, *g[GROUP_MAX];
	size_t alen;
	int r;

	if (agent_id == NULL || info == NULL || frame == NULL ||
	    frame_len == 0)
		return TW_EINVAL;
	alen = strnlen(agent_id, TW_STORE_AGENT_MAX + 1);
	if (alen == 0 || alen > TW_STORE_AGENT_MAX)
		return TW_EINVAL;
	if (frame_len > s->opts.block_max_bytes)
		return TW_ETOOBIG;
	memset(&rq, 0, sizeof(rq));
	rq.seq = seq;
	rq.info = info;
	rq.body = frame;
	rq.body_len = frame_len;

	pthread_mutex_lock(&s->mu);
	s->calls++;
	for (;;) {
		if (s->closing) {
			r = TW_ECLOSED;
			goto out;
		}
		if (s->failed_errno != 0) {
			r = TW_EIO;
			rq.err_no = s->failed_errno;
			goto out;
		}
		if ((rq.ag = dd_find(&s->dd, agent_id, alen, true)) == NULL) {
			r = TW_ENOMEM;
			goto out;
		}
		if (dd_has(rq.ag, seq)) {
			s->st.duplicates++;
			r = TW_EEXISTS;
			goto out;
		}
		if (!in_flight(s, rq.ag, seq))
			break;
		pthread_cond_wait(&s->cv, &s->mu);
	}
	if (s->q_tail != NULL)
		s->q_tail->next = &rq;
	else
		s->q_head = &rq;
	s->q_tail = &rq;

	while (!rq.done) {
		struct req *q;
		uint64_t bytes = 0;
		size_t n = 0;

		if (s->busy) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		/* Take the writer role and every pending block that fits. */
		s->busy = true;
		while ((q = s->q_head) != NULL && n < GROUP_MAX &&
		    (n == 0 || bytes + q->body_len <= GROUP_BYTES_MAX)) {
			s->q_head = q->next;
			bytes += q->body_len;
			g[n++] = q;
		}
		if (s->q_head == NULL)
			s->q_tail = NULL;
		for (size_t k = 0; k < n; k++)
			g[k]->next = k + 1 < n ? g[k + 1] : NULL;
		s->writing = g[0];
		pthread_mutex_unlock(&s->mu);

		commit_group(s, g, n);

		pthread_mutex_lock(&s->mu);
		for (size_t k = 0; k < n; k++) {
			q = g[k];
			if (q->result == 0) {
				/* Noting a durable block can only fail for
				 * memory; a resend would then be stored
				 * twice, which dedup downstream absorbs. */
				tw_ignore(dd_add(q->ag, q->seq,
				    s->opts.dedup_gaps_max,
				    &s->st.dedup_gaps_forced));
				s->st.appends++;
			} else {
				s->st.append_errors++;
			}
			q->done = true;
		}
		s->writing = NULL;
		s->busy = false;
		pthread_cond_broadcast(&s->cv);
	}
	r = rq.result;
	if (r == 0 && pos != NULL)
		*pos = rq.pos;
out:
	s->calls--;
	if (s->closing)
		pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (r == TW_EIO)
		errno = rq.err_no;
	return r;
}

bool
tw_store_has(struct tw_store *s, const char *agent_id, uint64_t seq)
{
	bool found;

	pthread_mutex_lock(&s->mu);
	found = dd_has(dd_find(&s->dd, agent_id, strlen(agent_id), false), seq);
	pthread_mutex_unlock(&s->mu);
	return found;
}

int
tw_store_tick(struct tw_store *s)
{
	struct seg *sg;
	int64_t now;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	while (s->busy && !s->closing)
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->closing || s->failed_errno != 0) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	s->busy = true;
	pthread_mutex_unlock(&s->mu);

	now = tw_time_now_ns();
	sg = active_seg(s);
	if (sg != NULL && sg->blocks > 0 && s->opts.segment_max_age_ns > 0 &&
	    now - sg->recv_min >= s->opts.segment_max_age_ns)
		r = seal_active(s);
	if (r == 0)
		r = retention(s, now);
	publish(s);

	pthread_mutex_lock(&s->mu);
	s->busy = false;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return r;
}

void
tw_store_stats(struct tw_store *s, struct tw_store_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	out->failed = s->failed_errno != 0;
	pthread_mutex_unlock(&s->mu);
}

/* --- open --- */

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

/* Remove leftovers of interrupted atomic writes; how many went. */
static int
remove_tmp_files(struct tw_store *s)
{
	size_t el = strlen(TW_STORE_TMP_EXT);
	struct dirent *de;
	DIR *d;
	int fd, n = 0;

	if ((fd = dup(s->dirfd)) < 0)
		return 0;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l > el &&
		    strcmp(de->d_name + l - el, TW_STORE_TMP_EXT) == 0 &&
		    unlinkat(s->dirfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Add an entry scanned from disk to the open segment's index. */
static int
note_active_block(struct tw_store *s, const struct tw_store_hdr *h,
    uint64_t off)
{
	struct tw_store_idx_entry *e;
	struct dd_agent *a;
	int r;

	if ((r = ent_reserve(s, 1)) != 0)
		return r;
	if ((a = dd_find(&s->dd, h->agent, h->agent_len, true)) == NULL)
		return TW_ENOMEM;
	if ((r = dd_add(a, h->seq, s->opts.dedup_gaps_max,
	    &s->st.dedup_gaps_forced)) != 0)
		return r;
	e = &s->ent[s->nent++];
	e->offset = off;
	e->index = h->index;
	e->seq = h->seq;
	e->time_min = h->time_min;
	e->time_max = h->time_max;
	e->received_at = h->received_at;
	e->len = (uint32_t)tw_store_hdr_block_len(h);
	e->records = h->records;
	e->agent_no = seg_agent_no(s, a);
	return 0;
}

/* Account a block found on disk to sg and the chain position. */
static void
note_seg_block(struct tw_store *s, struct seg *sg, const struct tw_store_hdr *h)
{
	if (sg->blocks == 0) {
		sg->first_block = h->index;
		memcpy(sg->first_prev, h->prev, TW_STORE_HASH_LEN);
		sg->recv_min = h->received_at;
	}
	sg->blocks++;
	if (h->received_at > sg->recv_max)
		sg->recv_max = h->received_at;
	if (h->received_at > s->last_received)
		s->last_received = h->received_at;
	memcpy(sg->last_hash, h->hash, TW_STORE_HASH_LEN);
	memcpy(s->prev, h->hash, TW_STORE_HASH_LEN);
	s->next_index = h->index + 1;
}

/*
 * Load a segment that is not written to any more: from its index when
 * that is intact and agrees with the checkpoint c (may be NULL), else by
 * reading its block headers (and then rewriting the index).
 */
static int
load_sealed(struct tw_store *s, uint64_t id, const struct tw_store_ckpt *c,
    char **why)
{
	char name[TW_STORE_NAME_MAX], offbuf[24];
	struct tw_store_idx idx;
	struct tw_store_hdr h;
	struct stat st;
	struct seg sg;
	uint64_t off = 0;
	int fd = -1, r;

	memset(&sg, 0, sizeof(sg));
	sg.id = id;
	sg.sealed = true;
	tw_store_name(name, id, TW_STORE_SEG_EXT);
	if (fstatat(s->dirfd, name, &st, 0) != 0) {
		set_why(why, "%s/%s: %s", s->dir, name, strerror(errno));
		return TW_EIO;
	}
	sg.bytes = (uint64_t)st.st_size;
	if (c == NULL)
		tw_warn("store", "a segment that is not the last has no "
		    "checkpoint", "segment", name);
	else if (c->bytes != sg.bytes)
		tw_warn("store", "a sealed segment's length differs from its "
		    "checkpoint (run trawl verify)", "segment", name);
	if (tw_store_idx_load(s->dirfd, id, &idx) == 0 && idx.n > 0 &&
	    (c == NULL || (idx.n == c->blocks &&
	    idx.ent[idx.n - 1].offset + idx.ent[idx.n - 1].len == c->bytes))) {
		for (size_t i = 0; i < idx.n; i++) {
			struct tw_store_idx_entry *e = &idx.ent[i];
			if ((r = dd_note(s, idx.agents[e->agent_no], e->seq))
			    != 0) {
				tw_store_idx_cleanup(&idx);
				return r;
			}
			if (i == 0) {
				sg.first_block = e->index;
				sg.recv_min = e->received_at;
			}
			if (e->received_at > sg.recv_max)
				sg.recv_max = e->received_at;
		}
		sg.blocks = idx.n;
		if (sg.recv_max > s->last_received)
			s->last_received = sg.recv_max;
		/* The chain continues from the last block's own hash. */
		off = idx.ent[idx.n - 1].offset;
		tw_store_idx_cleanup(&idx);
		if ((fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC)) < 0 ||
		    tw_store_block_at(fd, off, sg.bytes, false, &h) != 0) {
			if (c == NULL) {
				set_why(why, "%s/%s: cannot read its last "
				    "block", s->dir, name);
				r = TW_EIO;
				goto out;
			}
			memcpy(sg.last_hash, c->last_hash, TW_STORE_HASH_LEN);
			memcpy(s->prev, c->last_hash, TW_STORE_HASH_LEN);
			s->next_index = c->last_block + 1;
		} else {
			memcpy(sg.last_hash, h.hash, TW_STORE_HASH_LEN);
			memcpy(s->prev, h.hash, TW_STORE_HASH_LEN);
			s->next_index = h.index + 1;
		}
		r = push_seg(s, &sg);
		goto out;
	}
	/* No usable index: read the headers. */
	if ((fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC)) < 0) {
		set_why(why, "%s/%s: %s", s->dir, name, strerror(errno));
		r = TW_EIO;
		goto out;
	}
	seg_index_reset(s);
	while (off < sg.bytes) {
		if ((r = tw_store_block_at(fd, off, sg.bytes, false, &h)) !=
		    0) {
			if (r == TW_EIO) {
				set_why(why, "%s/%s: %s", s->dir, name,
				    strerror(errno));
				goto out;
			}
			u64str(offbuf, off);
			tw_error("store", "a sealed segment is damaged (run "
			    "trawl verify)", "segment", name, "offset", offbuf);
			s->st.corrupt_blocks++;
			break;
		}
		if ((r = note_active_block(s, &h, off)) != 0)
			goto out;
		note_seg_block(s, &sg, &h);
		off += tw_store_hdr_block_len(&h);
	}
	if (c != NULL && s->nent > 0) {
		/* Rebuild the index (a cache; failure only costs a scan). */
		struct tw_buf b;
		char iname[TW_STORE_NAME_MAX];
		tw_buf_init(&b, SIZE_MAX);
		tw_store_name(iname, id, TW_STORE_IDX_EXT);
		if (tw_store_idx_encode(id, s->ent, s->nent, s->seg_agents,
		    s->nseg_agents, &b) == 0 &&
		    tw_store_write_atomic(s->dirfd, iname, b.data, b.len) == 0)
			tw_info("store", "rebuilt a segment index", "segment",
			    name);
		tw_buf_cleanup(&b);
	}
	seg_index_reset(s);
	r = push_seg(s, &sg);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * Load the last, unsealed segment: check every block's hash, cut a torn
 * tail (incomplete or bad blocks with no whole block after them) and keep
 * damaged blocks that whole blocks follow, and make it the open segment.
 */
static int
load_active(struct tw_store *s, uint64_t id, char **why)
{
	char name[TW_STORE_NAME_MAX], offbuf[24], nbuf[24];
	struct tw_store_hdr h;
	struct stat st;
	struct seg sg;
	uint64_t off = 0, size, found;
	int fd, r;

	memset(&sg, 0, sizeof(sg));
	sg.id = id;
	tw_store_name(name, id, TW_STORE_SEG_EXT);
	if ((fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) != 0) {
		set_why(why, "%s/%s: %s", s->dir, name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return TW_EIO;
	}
	size = (uint64_t)st.st_size;
	seg_index_reset(s);
	while (off < size) {
		const char *what;
		r = tw_store_block_at(fd, off, size, true, &h);
		if (r == 0) {
			if ((r = note_active_block(s, &h, off)) != 0)
				goto fail;
			note_seg_block(s, &sg, &h);
			off += tw_store_hdr_block_len(&h);
			continue;
		}
		if (r != TW_EEOF && r != TW_EPARSE && r != TW_EINVAL) {
			set_why(why, "%s/%s: %s", s->dir, name,
			    r == TW_EIO ? strerror(errno) : tw_strerror(r));
			goto fail;
		}
		what = r == TW_EEOF ? "incomplete block" : r == TW_EPARSE ?
		    "not a block header" : "hash mismatch";
		u64str(offbuf, off);
		if ((r = tw_store_find_block(fd, off, size, &found)) == 0) {
			/* Whole blocks follow: damage, not a torn tail.
			 * Acked data is never cut; verify reports it. */
			tw_error("store", "a damaged block in the open segment "
			    "is kept (run trawl verify)", "segment", name,
			    "offset", offbuf, "reason", what);
			s->st.corrupt_blocks++;
			off = found;
			continue;
		}
		if (r != TW_ENOTFOUND) {
			set_why(why, "%s/%s: %s", s->dir, name, tw_strerror(r));
			goto fail;
		}
		u64str(nbuf, size - off);
		tw_warn("store", "cut a torn tail", "segment", name, "offset",
		    offbuf, "bytes", nbuf, "reason", what);
		if (ftruncate(fd, (off_t)off) != 0 || fdatasync(fd) != 0) {
			set_why(why, "%s/%s: cannot cut the torn tail: %s",
			    s->dir, name, strerror(errno));
			r = TW_EIO;
			goto fail;
		}
		s->st.torn_cut_bytes += size - off;
		s->st.fsyncs++;
		size = off;
	}
	sg.bytes = size;
	if (sg.blocks == 0)
		sg.first_block = s->next_index;
	if ((r = push_seg(s, &sg)) != 0)
		goto fail;
	s->fd = fd;
	return 0;
fail:
	close(fd);
	return r;
}

/* fsync the directory holding path, so a new entry in it is durable. */
static int
fsync_parent(const char *path)
{
	char *copy = strdup(path), *slash;
	int fd, r = TW_ENOMEM;

	if (copy == NULL)
		return r;
	while ((slash = strrchr(copy, '/')) != NULL && slash[1] == '\0' &&
	    slash != copy)
		*slash = '\0'; /* trailing slashes */
	if ((slash = strrchr(copy, '/')) == NULL)
		strcpy(copy, ".");
	else if (slash == copy)
		copy[1] = '\0';
	else
		*slash = '\0';
	r = TW_EIO;
	if ((fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		r = tw_store_fsync_dir(fd);
		close(fd);
	}
	free(copy);
	return r;
}

static int
check_opts(const struct tw_store_opts *o, char **why)
{
	if (o->segment_max_bytes < SEGMENT_MIN) {
		set_why(why, "store: segment_max_bytes must be at least %d",
		    SEGMENT_MIN);
		return TW_ECONFIG;
	}
	if (o->segment_max_age_ns < 0 || o->retention_age_ns < 0) {
		set_why(why, "store: durations must not be negative");
		return TW_ECONFIG;
	}
	if (o->block_max_bytes == 0 || o->block_max_bytes > TW_STORE_BODY_MAX) {
		set_why(why, "store: block_max_bytes must be 1..%" PRIu32,
		    TW_STORE_BODY_MAX);
		return TW_ECONFIG;
	}
	if (o->checkpoint_signing != TW_STORE_SIG_NONE &&
	    o->checkpoint_key_file == NULL) {
		set_why(why, "store: checkpoint signing %s needs a "
		    "checkpoint_key_file",
		    tw_store_sig_name(o->checkpoint_signing));
		return TW_ECONFIG;
	}
	return 0;
}

struct tw_store *
tw_store_open(const char *dir, const struct tw_store_opts *opts, char **why)
{
	struct tw_store_ckpt c;
	struct tw_store *s;
	struct tw_buf text;
	uint64_t *ids = NULL;
	size_t nids = 0;
	bool ok = false;
	int r, removed = 0;

	if (why != NULL)
		*why = NULL;
	if (check_opts(opts, why) != 0)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		set_why(why, "out of memory");
		return NULL;
	}
	tw_buf_init(&text, TW_STORE_META_MAX);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->fd = s->dirfd = s->lockfd = -1;
	s->opts = *opts;
	s->opts.checkpoint_key_file = NULL; /* not kept */
	if (s->opts.dedup_gaps_max == 0)
		s->opts.dedup_gaps_max = DEFAULT_GAPS_MAX;
	tw_store_anchor_init(&s->anchor);
	if ((s->dir = strdup(dir)) == NULL ||
	    (s->hdrs = malloc((size_t)GROUP_MAX * TW_STORE_HDR_MAX)) == NULL ||
	    (s->iov = calloc(2 * GROUP_MAX, sizeof(*s->iov))) == NULL ||
	    (s->run = calloc(GROUP_MAX, sizeof(*s->run))) == NULL) {
		set_why(why, "out of memory");
		goto out;
	}
	if (mkdir(dir, 0750) == 0) {
		if (fsync_parent(dir) != 0) {
			set_why(why, "%s: cannot fsync its parent: %s", dir,
			    strerror(errno));
			goto out;
		}
	} else if (errno != EEXIST) {
		set_why(why, "%s: cannot create: %s", dir, strerror(errno));
		goto out;
	}
	if ((s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		set_why(why, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if ((s->lockfd = openat(s->dirfd, TW_STORE_LOCK,
	    O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
		set_why(why, "%s/%s: %s", dir, TW_STORE_LOCK, strerror(errno));
		goto out;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		set_why(why, "%s: %s", dir, errno == EWOULDBLOCK ?
		    "another process is writing this store" : strerror(errno));
		goto out;
	}
	if (opts->checkpoint_signing != TW_STORE_SIG_NONE &&
	    (s->key = tw_store_key_load(opts->checkpoint_key_file,
	    opts->checkpoint_signing, why)) == NULL)
		goto out;
	removed = remove_tmp_files(s);
	r = tw_store_anchor_load(s->dirfd, &s->anchor);
	if (r == TW_EPARSE) {
		tw_error("store", "the retention anchor is malformed (run "
		    "trawl verify)", "dir", dir);
		tw_store_anchor_cleanup(&s->anchor);
		tw_store_anchor_init(&s->anchor);
	} else if (r != 0 && r != TW_ENOTFOUND) {
		set_why(why, "%s/%s: %s", dir, TW_STORE_ANCHOR,
		    strerror(errno));
		goto out;
	}
	s->next_index = s->anchor.first_block;
	memcpy(s->prev, s->anchor.prev, TW_STORE_HASH_LEN);
	if (tw_store_list_segments(s->dirfd, &ids, &nids) != 0) {
		set_why(why, "%s: cannot list: %s", dir, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < nids; i++) {
		char name[TW_STORE_NAME_MAX];
		bool last = i + 1 == nids, has_ckpt, parsed;

		if (ids[i] < s->anchor.first_segment) {
			/* Retention anchored past it, then stopped. */
			remove_segment_files(s, ids[i]);
			removed++;
			continue;
		}
		/* A checkpoint file, even a damaged one, means sealed: the
		 * writer never appends to such a segment. */
		tw_store_name(name, ids[i], TW_STORE_CKPT_EXT);
		has_ckpt = tw_store_file_exists(s->dirfd, name);
		parsed = has_ckpt && tw_store_read_file(s->dirfd, name,
		    TW_STORE_META_MAX, &text) == 0 &&
		    tw_store_ckpt_check(text.data, text.len, NULL, &c, NULL,
		    NULL, 0) == 0 && c.segment_id == ids[i];
		if (has_ckpt && !parsed)
			tw_error("store", "a checkpoint is malformed (run "
			    "trawl verify)", "file", name);
		if (has_ckpt || !last)
			r = load_sealed(s, ids[i], parsed ? &c : NULL, why);
		else
			r = load_active(s, ids[i], why);
		if (r != 0) {
			if (why != NULL && *why == NULL)
				set_why(why, "%s: %s", dir, tw_strerror(r));
			goto out;
		}
	}
	/* Make removals durable. */
	if (removed > 0 && tw_store_fsync_dir(s->dirfd) != 0) {
		set_why(why, "%s: fsync: %s", dir, strerror(errno));
		goto out;
	}
	publish(s);
	ok = true;
out:
	free(ids);
	tw_buf_cleanup(&text);
	if (!ok) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		s->closing = true;
		tw_store_close(s);
		return NULL;
	}
	return s;
}

void
tw_store_close(struct tw_store *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	while (s->busy || s->q_head != NULL || s->calls > 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (s->fd >= 0)
		close(s->fd);
	if (s->lockfd >= 0)
		close(s->lockfd); /* releases the flock */
	if (s->dirfd >= 0)
		close(s->dirfd);
	tw_store_key_free(s->key);
	tw_store_anchor_cleanup(&s->anchor);
	dd_cleanup(&s->dd);
	free(s->segs);
	free(s->ent);
	free(s->seg_agents);
	free(s->hdrs);
	free(s->iov);
	free(s->run);
	free(s->dir);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

char *
tw_store_find_dir(const char *dir)
{
	struct stat st;
	char *sub;

	if (asprintf(&sub, "%s/store", dir) < 0)
		return NULL;
	if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
		return sub;
	free(sub);
	return strdup(dir);
}

int
tw_store_checkpoint_verify(const char *ckpt_path, const char *key_path,
    struct tw_store_ckpt *c, char **why)
{
	struct tw_store_key *key = NULL;
	struct tw_store_ckpt tmp;
	struct tw_buf text;
	char reason[160];
	int r;

	if (why != NULL)
		*why = NULL;
	tw_buf_init(&text, TW_STORE_META_MAX);
	if ((r = tw_store_read_file(AT_FDCWD, ckpt_path, TW_STORE_META_MAX,
	    &text)) != 0) {
		set_why(why, "%s: %s", ckpt_path, r == TW_EIO ?
		    strerror(errno) : tw_strerror(r));
		goto out;
	}
	if ((key = tw_store_key_load(key_path, TW_STORE_SIG_NONE, why)) ==
	    NULL) {
		r = TW_EINVAL;
		goto out;
	}
	if ((r = tw_store_ckpt_check(text.data, text.len, key,
	    c != NULL ? c : &tmp, NULL, reason, sizeof(reason))) != 0)
		set_why(why, "%s: %s", ckpt_path, reason);
out:
	tw_store_key_free(key);
	tw_buf_cleanup(&text);
	return r;
}

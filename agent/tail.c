/* tail.c: the tail thread: finds, follows and parses files, and turns their
 * records into spooled batches and checkpoints. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batcher.h"
#include "checkpoint.h"
#include "fileid.h"
#include "fsio.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "mp.h"
#include "parser.h"
#include "seq.h"
#include "ship.h"
#include "spool.h"
#include "tail.h"

#define READ_CHUNK ((size_t)256 << 10)	/* one read() */
#define READ_BUDGET ((size_t)1 << 20)	/* per file per round: fairness */
#define TICK_MS 250			/* poll every file, idle flushes */
#define RESCAN_MS 1000			/* globs again: the safety net */
#define CKPT_INTERVAL_MS 1000		/* checkpoint without new batches */
#define COMMIT_RETRY_MS 1000		/* after a failed spool write */
#define FRAMES_MAX 4			/* finished batches not yet spooled */
#define POS_TTL_S 3600			/* state of a file not seen kept */
#define POS_MAX (CKPT_ENTRIES_MAX - 4096) /* positions before forgetting */
#define PARTIAL_KEEP ((size_t)64 << 10) /* a line buffer larger is freed */
#define REC_MAX ((size_t)17 << 20)	/* a record with the agent's keys */
#define DETECT_MAX ((size_t)64 << 10)	/* first line read for "auto" */
#define INOTIFY_MASK (IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

/*
 * How a format's records relate to lines, which says where reading can
 * resume with a fresh parser (the clean point):
 *   FR_LINES  every line is a record of its own: after every line.
 *   FR_CRI    P lines wait for their stream's F line: after a line when
 *             neither stream has partials waiting, else at the first
 *             waiting partial.
 *   FR_HELD   the format may hold lines back in ways the agent does not
 *             model (klog entries, auditd events, Docker partials): only
 *             after a flush.
 * Records emitted from lines past the clean point are counted, and a
 * restart there drops that many (the resume point's skip), so recovery
 * is exact for every class; FR_HELD only re-reads more.
 */
enum framing { FR_LINES, FR_CRI, FR_HELD };

/* Formats that keep no state between lines. */
static const char *const stateless_formats[] = { "text", "json", "logfmt",
	"nginx_combined", "syslog", "rfc3164", "rfc5424", "k8s_audit_v1",
	NULL };

/* One `type: tail` input, copied out of the config. */
struct tin {
	char **paths;
	size_t npaths;
	char **exclude;
	size_t nexclude;
	char *format;
	int read_from;
	uint64_t idle_flush_ms;
	size_t max_line;
};

/* Every tail input and the self-exclusion; replaced whole on reload. */
struct tinputs {
	struct tin *v;
	size_t n;
	char **self_exclude;
	size_t nself;
};

struct tfile;

/* What is known of one file identity: three resume points. */
struct tpos {
	struct file_id id;
	char *path;
	/* clean: every record from before it has been emitted. While the
	 * file is open, its skip is file->emitted - clean_mark. */
	uint64_t clean_off, clean_skip, clean_mark;
	uint64_t cut_off, cut_skip; /* ... is in a finished batch */
	uint64_t dur_off, dur_skip; /* ... is in the spool */
	int64_t seen_s;
	struct tfile *file; /* NULL when not open */
	bool gone;	    /* the content no longer exists */
};

/* One open file. */
struct tfile {
	int fd;
	struct tpos *pos;
	char *path;   /* as the glob matched it */
	char *target; /* where the path's symlink points, or NULL */
	char *base;   /* the last component of its real path */
	int wd;	      /* inotify watch of its real directory, or -1 */
	char *format; /* as configured: a name or "auto" */
	uint64_t idle_flush_ms;
	size_t max_line;
	struct tw_parser *parser;
	enum framing fr;
	bool fr_known;
	int64_t parser_now_ns;
	uint64_t off;		/* next byte to read */
	struct tw_buf partial;	/* the line being read, up to max_line */
	uint64_t line_start;	/* offset of its first byte */
	uint64_t line_len;	/* its length so far, bytes cut included */
	uint64_t emitted;	/* records the parser emitted since opening */
	uint64_t skip;		/* records still to drop (resume point) */
	uint64_t resume_off;	/* where reading (re)started ... */
	uint64_t resume_skip;	/* ... and the records it had to drop */
	bool cri_has[2];
	uint64_t cri_start[2], cri_mark[2];
	int64_t last_data_ms;
	bool ready, eof, detached, deleted;
	unsigned scan_gen;
};

/* A finished batch waiting to be spooled, and what it covers. */
struct frame {
	struct tw_buf data;
	struct tw_batch_info info;
	struct spool_cov *cov;
	struct tpos **covpos;
	size_t ncov, capcov;
};

/*
 * A file name the agent follows in a watched directory: a file renamed
 * to a sibling of it (base.1, base.20240615-...) that the agent does not
 * know was rotated away before it could be opened, and is drained.
 */
struct tbase {
	int wd;
	char *dir;  /* the real directory */
	char *base; /* the file's name in it */
	char *path; /* the path it is tailed as */
};
#define BASES_MAX 4096
#define CANDIDATES_MAX 1024

/* A spooled batch not yet handed to the shipper. */
struct handed {
	uint64_t seq, size;
	uint32_t records;
};

struct tail {
	struct tail_deps d;
	char *agent_id;
	uint64_t batch_max_bytes;
	struct batcher *batcher;

	pthread_t thread;
	bool started;
	int epfd, ifd, evfd;
	pthread_mutex_t lock;	     /* guards the two requests below */
	struct tinputs *pending;    /* a reload waiting to be applied */
	bool drain_req;

	struct tinputs *inputs;
	struct tpos **pos;
	size_t npos, cappos;
	struct tfile **files;
	size_t nfiles, capfiles;
	struct frame frames[FRAMES_MAX];
	size_t nframes;
	struct handed *unhanded;
	size_t nunhanded, capunhanded;
	struct ckpt ck;
	bool ckpt_dirty;
	int64_t next_ckpt_ms;

	bool full, stalled, draining;
	int64_t retry_commit_ms;
	int64_t now_ms, now_ns;
	unsigned scan_gen;
	bool first_scan_done, rescan_due;
	int64_t next_rescan_ms, next_tick_ms;

	struct tbase *bases;
	size_t nbases, next_base;
	struct tbase *cand; /* renamed siblings to look at */
	size_t ncand;

	char *rbuf;
	struct tw_buf rec;
	struct tfile *cur; /* the file being fed */
	bool mark_incomplete, mark_truncated;

	struct tw_counter *records_read, *bytes_read, *lines_truncated;
	struct tw_counter *records_incomplete, *rotations, *deletions;
	struct tw_counter *truncations, *records_skipped, *files_opened;
	struct tw_counter *discarded_large, *discarded_other;
	struct tw_counter *ckpt_writes, *ckpt_errors, *spool_errors;
	struct tw_gauge *files_watched, *backpressure, *positions;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- inputs --- */

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
strv_copy(const struct tw_conf_strv *src, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (src->n == 0)
		return 0;
	if ((*out = calloc(src->n, sizeof(char *))) == NULL)
		return TW_ENOMEM;
	for (size_t i = 0; i < src->n; i++) {
		if (((*out)[i] = strdup(src->v[i])) == NULL) {
			strv_free(*out, i);
			*out = NULL;
			return TW_ENOMEM;
		}
	}
	*n = src->n;
	return 0;
}

static void
tinputs_free(struct tinputs *ti)
{
	if (ti == NULL)
		return;
	for (size_t i = 0; i < ti->n; i++) {
		strv_free(ti->v[i].paths, ti->v[i].npaths);
		strv_free(ti->v[i].exclude, ti->v[i].nexclude);
		free(ti->v[i].format);
	}
	free(ti->v);
	strv_free(ti->self_exclude, ti->nself);
	free(ti);
}

static struct tinputs *
tinputs_new(const struct agent_conf *conf)
{
	const struct agent_input *in = conf->inputs.items;
	struct tinputs *ti;

	if ((ti = calloc(1, sizeof(*ti))) == NULL)
		return NULL;
	if (conf->inputs.n > 0 &&
	    (ti->v = calloc(conf->inputs.n, sizeof(*ti->v))) == NULL)
		goto fail;
	for (size_t i = 0; i < conf->inputs.n; i++) {
		struct tin *t;

		if (strcmp(in[i].type, "tail") != 0)
			continue;
		t = &ti->v[ti->n++];
		if (strv_copy(&in[i].paths, &t->paths, &t->npaths) != 0 ||
		    strv_copy(&in[i].exclude, &t->exclude,
		    &t->nexclude) != 0 ||
		    (t->format = strdup(in[i].format != NULL ?
		    in[i].format : "auto")) == NULL)
			goto fail;
		t->read_from = in[i].read_from;
		t->idle_flush_ms = in[i].idle_flush_ms;
		t->max_line = (size_t)in[i].max_line;
	}
	if (strv_copy(&conf->agent.self_exclude, &ti->self_exclude,
	    &ti->nself) != 0)
		goto fail;
	return ti;
fail:
	tinputs_free(ti);
	return NULL;
}

/* --- positions --- */

static void
pos_clean(const struct tpos *p, uint64_t *off, uint64_t *skip)
{
	const struct tfile *f = p->file;

	*off = p->clean_off;
	if (f == NULL) {
		*skip = p->clean_skip;
		return;
	}
	*skip = f->emitted - p->clean_mark;
	/* Until the dropped records have come round again, the resume
	 * point it started from stands. */
	if (p->clean_off == f->resume_off && *skip < f->resume_skip)
		*skip = f->resume_skip;
}

static struct tpos *
pos_add(struct tail *t, const struct file_id *id, const char *path,
    uint64_t off, uint64_t skip, int64_t seen_s)
{
	struct tpos *p, **v;
	size_t cap;

	if (t->npos == t->cappos) {
		cap = t->cappos == 0 ? 64 : t->cappos * 2;
		if ((v = realloc(t->pos, cap * sizeof(*v))) == NULL)
			return NULL;
		t->pos = v;
		t->cappos = cap;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->path = strdup(path != NULL ? path : "")) == NULL) {
		free(p);
		return NULL;
	}
	p->id = *id;
	p->clean_off = p->cut_off = p->dur_off = off;
	p->clean_skip = p->cut_skip = p->dur_skip = skip;
	p->seen_s = seen_s;
	t->pos[t->npos++] = p;
	t->ckpt_dirty = true;
	return p;
}

static void
pos_remove_at(struct tail *t, size_t i)
{
	free(t->pos[i]->path);
	free(t->pos[i]);
	t->pos[i] = t->pos[--t->npos];
	t->ckpt_dirty = true;
}

/* Nothing of this position waits in the batch, a frame or the spool. */
static bool
pos_settled(const struct tpos *p)
{
	uint64_t off, skip;

	pos_clean(p, &off, &skip);
	return off == p->cut_off && skip == p->cut_skip &&
	    p->cut_off == p->dur_off && p->cut_skip == p->dur_skip;
}

/*
 * Forget positions of files that are gone or were not seen for long; past
 * POS_MAX, every closed and settled one (the checkpoint has a limit).
 */
static void
pos_gc(struct tail *t)
{
	int64_t now_s = t->now_ns / 1000000000;
	bool crowded = t->npos > POS_MAX;

	for (size_t i = 0; i < t->npos;) {
		struct tpos *p = t->pos[i];

		if (p->file == NULL && pos_settled(p) &&
		    (p->gone || crowded || now_s - p->seen_s > POS_TTL_S)) {
			pos_remove_at(t, i);
			continue;
		}
		i++;
	}
	tw_gauge_set(t->positions, (double)t->npos);
}

/* --- records --- */

/*
 * The record the parser emitted, with the agent's keys added: the time it
 * was read, and incomplete / truncated when the line was cut short.
 */
static int
amend(struct tail *t, const uint8_t *rec, size_t n)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_mp_obj o, key;
	struct tw_mpw w;
	bool add_inc = t->mark_incomplete, add_trunc = t->mark_truncated;
	const uint8_t *body;
	uint32_t count, extra = 1;

	tw_mp_reader_init(&r, rec, n);
	if (tw_mp_read(&r, &o) != 0 || o.type != TW_MP_MAP)
		return TW_EMSGPACK;
	count = o.v.count;
	body = r.p;
	if (add_inc || add_trunc) {
		tw_mp_limits_default(&lim);
		for (uint32_t i = 0; i < count; i++) {
			if (tw_mp_read(&r, &key) != 0 ||
			    tw_mp_skip(&r, &lim) != 0)
				return TW_EMSGPACK;
			if (tw_mp_str_eq(&key, "incomplete"))
				add_inc = false;
			else if (tw_mp_str_eq(&key, "truncated"))
				add_trunc = false;
		}
	}
	extra += add_inc + add_trunc;
	tw_buf_reset(&t->rec);
	tw_mpw_init(&w, &t->rec);
	tw_mpw_map(&w, count + extra);
	tw_mpw_raw(&w, body, n - (size_t)(body - rec));
	tw_mpw_cstr(&w, "observed_time");
	tw_mpw_timestamp(&w, t->now_ns);
	if (add_inc) {
		tw_mpw_cstr(&w, "incomplete");
		tw_mpw_bool(&w, true);
	}
	if (add_trunc) {
		tw_mpw_cstr(&w, "truncated");
		tw_mpw_bool(&w, true);
	}
	return w.err;
}

static int cut(struct tail *t);

/* The parser's emit callback: every record goes into the batch. */
static int
emit(void *arg, const uint8_t *rec, size_t n)
{
	struct tail *t = arg;
	struct tfile *f = t->cur;
	int r;

	if (f->skip > 0) {
		/* In the spool already: the resume point said so. */
		f->skip--;
		f->emitted++;
		tw_counter_inc(t->records_skipped);
		return 0;
	}
	if ((r = amend(t, rec, n)) == 0) {
		r = batcher_add(t->batcher, (const uint8_t *)t->rec.data,
		    t->rec.len, t->now_ms);
		if (r == TW_ETOOBIG) {
			/* Cut inside a line's records: exact all the same,
			 * since the resume point counts records. */
			if ((r = cut(t)) == 0)
				r = batcher_add(t->batcher,
				    (const uint8_t *)t->rec.data, t->rec.len,
				    t->now_ms);
		}
	}
	f->emitted++;
	if (r == 0) {
		tw_counter_inc(t->records_read);
		if (t->mark_incomplete)
			tw_counter_inc(t->records_incomplete);
		return 0;
	}
	/* The record can never be sent, or there is no room: count it. */
	if (r == TW_ELIMIT) {
		tw_counter_inc(t->discarded_large);
		tw_warn("tail", "record over the collector's record limit "
		    "discarded", "path", f->path);
	} else {
		tw_counter_inc(t->discarded_other);
		tw_error("tail", "record discarded", "path", f->path, "error",
		    tw_strerror(r));
	}
	return 0;
}

/* --- parsers --- */

static enum framing
framing_of(const char *name)
{
	if (strcmp(name, "cri") == 0)
		return FR_CRI;
	for (const char *const *s = stateless_formats; *s != NULL; s++)
		if (strcmp(*s, name) == 0)
			return FR_LINES;
	return FR_HELD;
}

static void
learn_framing(struct tfile *f)
{
	const char *name;

	if (f->fr_known || (name = tw_parser_format(f->parser)) == NULL)
		return;
	f->fr = framing_of(name);
	f->fr_known = true;
}

/* A new parser for f of format name (never NULL on success). */
static int
file_parser(struct tail *t, struct tfile *f, const char *name)
{
	struct tw_parse_opts o;
	struct tw_parser *p;
	char *why = NULL;

	tw_parse_opts_default(&o);
	o.path = f->path;
	o.target = f->target;
	o.now_ns = t->now_ns;
	if ((p = tw_parser_new(name, &o, &why)) == NULL) {
		tw_error("tail", "cannot create a parser", "path", f->path,
		    "error", why != NULL ? why : "out of memory");
		free(why);
		return TW_ENOMEM;
	}
	tw_parser_free(f->parser);
	f->parser = p;
	f->parser_now_ns = t->now_ns;
	f->fr_known = false;
	learn_framing(f);
	return 0;
}

/*
 * The format "auto" would pick for f: detection looks at the first line,
 * so a file resumed in the middle is detected from its first line too.
 */
static const char *
detect_from_head(struct tail *t, struct tfile *f)
{
	size_t got;
	const char *nl;

	if (fsio_pread_all(f->fd, t->rbuf, DETECT_MAX, 0, &got) != 0 ||
	    got == 0)
		return "auto";
	if ((nl = memchr(t->rbuf, '\n', got)) != NULL)
		got = (size_t)(nl - t->rbuf);
	return tw_parser_detect(t->rbuf, got);
}

/* --- lines --- */

/* Stream (0 stderr, 1 stdout) and P tag of a CRI line, as cri.c splits
 * it; -1 when it is not a CRI line. */
static int
cri_peek(const char *p, size_t n, bool *partial)
{
	const char *end = p + n, *sp1, *sp2, *sp3, *tag, *colon;
	int stream;

	if ((sp1 = memchr(p, ' ', n)) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL ||
	    sp2 - sp1 - 1 != 6)
		return -1;
	if (memcmp(sp1 + 1, "stdout", 6) == 0)
		stream = 1;
	else if (memcmp(sp1 + 1, "stderr", 6) == 0)
		stream = 0;
	else
		return -1;
	tag = sp2 + 1;
	if ((sp3 = memchr(tag, ' ', (size_t)(end - tag))) == NULL)
		sp3 = end;
	if (sp3 == tag)
		return -1;
	colon = memchr(tag, ':', (size_t)(sp3 - tag));
	*partial = (colon != NULL ? colon : sp3) - tag == 1 && tag[0] == 'P';
	return stream;
}

/* Move f's clean point after the line [ls, le) was fed. */
static void
advance_clean(struct tfile *f, const char *p, size_t n, uint64_t ls,
    uint64_t le, uint64_t before)
{
	struct tpos *pos = f->pos;
	bool partial;
	int s, first = -1;

	if (!f->fr_known)
		return;
	switch (f->fr) {
	case FR_LINES:
		pos->clean_off = le;
		pos->clean_mark = f->emitted;
		break;
	case FR_CRI:
		if ((s = cri_peek(p, n, &partial)) >= 0) {
			if (partial && !f->cri_has[s]) {
				f->cri_has[s] = true;
				f->cri_start[s] = ls;
				f->cri_mark[s] = before;
			} else if (!partial) {
				f->cri_has[s] = false;
			}
		}
		for (int i = 0; i < 2; i++)
			if (f->cri_has[i] && (first < 0 ||
			    f->cri_start[i] < f->cri_start[first]))
				first = i;
		if (first >= 0) {
			pos->clean_off = f->cri_start[first];
			pos->clean_mark = f->cri_mark[first];
		} else {
			pos->clean_off = le;
			pos->clean_mark = f->emitted;
		}
		break;
	case FR_HELD:
		break;
	}
}

/* Feed one line (without its newline) that ended at file offset le. */
static void
feed_line(struct tail *t, struct tfile *f, const char *p, size_t n,
    bool truncated, bool incomplete, uint64_t le)
{
	uint64_t ls = f->line_start, before = f->emitted;
	int r;

	t->cur = f;
	t->mark_truncated = truncated;
	t->mark_incomplete = incomplete;
	if ((r = tw_parser_feed(f->parser, p, n, emit, t)) != 0)
		tw_error("tail", "parser failed on a line", "path", f->path,
		    "error", tw_strerror(r));
	t->mark_truncated = t->mark_incomplete = false;
	learn_framing(f);
	if (truncated)
		tw_counter_inc(t->lines_truncated);
	advance_clean(f, p, n, ls, le, before);
	f->line_start = le;
	f->line_len = 0;
	if (batcher_full(t->batcher) && cut(t) != 0)
		t->stalled = true;
}

/* Keep the bytes of a line not finished yet, up to max_line. */
static void
keep_partial(struct tfile *f, const char *p, size_t n)
{
	size_t room = f->max_line > f->partial.len ?
	    f->max_line - f->partial.len : 0;

	/* The buffer's ceiling is max_line: this cannot fail for size. */
	if (n > 0 && room > 0 &&
	    tw_buf_add(&f->partial, p, n < room ? n : room) != 0)
		tw_error("tail", "out of memory for a line", "path", f->path);
	f->line_len += n;
}

static void
drop_partial(struct tfile *f)
{
	if (f->partial.cap > PARTIAL_KEEP) {
		tw_buf_cleanup(&f->partial);
		tw_buf_init(&f->partial, f->max_line);
	} else {
		tw_buf_reset(&f->partial);
	}
}

/*
 * Split buf[0..n) (read at f->off) into lines and feed them. Returns the
 * bytes consumed: fewer than n when the batches cannot be spooled and
 * reading has to pause (the rest is read again later).
 */
static size_t
process(struct tail *t, struct tfile *f, const char *buf, size_t n)
{
	const char *p = buf, *end = buf + n, *nl;
	size_t len;

	while (p < end && !t->stalled) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			keep_partial(f, p, (size_t)(end - p));
			p = end;
			break;
		}
		len = (size_t)(nl - p);
		if (f->line_len == 0) {
			feed_line(t, f, p, len < f->max_line ? len :
			    f->max_line, len > f->max_line, false,
			    f->off + (uint64_t)(nl - buf) + 1);
		} else {
			keep_partial(f, p, len);
			feed_line(t, f, f->partial.data, f->partial.len,
			    f->line_len > f->max_line, false,
			    f->off + (uint64_t)(nl - buf) + 1);
			drop_partial(f);
		}
		p = nl + 1;
	}
	return (size_t)(p - buf);
}

/*
 * Emit what f holds back: the unterminated last line (incomplete) and
 * the parser's pending records. Everything read is then clean.
 */
static void
file_flush(struct tail *t, struct tfile *f)
{
	int r;

	if (f->line_len > 0) {
		feed_line(t, f, f->partial.data != NULL ? f->partial.data :
		    "", f->partial.len, f->line_len > f->max_line, true,
		    f->off);
		drop_partial(f);
	}
	t->cur = f;
	if ((r = tw_parser_flush(f->parser, emit, t)) != 0)
		tw_error("tail", "parser flush failed", "path", f->path,
		    "error", tw_strerror(r));
	f->cri_has[0] = f->cri_has[1] = false;
	f->pos->clean_off = f->off;
	f->pos->clean_mark = f->emitted;
	f->line_start = f->off;
	f->line_len = 0;
	/* The parser is empty: a new one costs nothing and has a fresh
	 * clock. */
	if (tw_parser_format(f->parser) != NULL)
		tw_ignore(file_parser(t, f, tw_parser_format(f->parser)));
}

/* --- files --- */

static void
watch_dir(struct tail *t, const char *dir, int *wd)
{
	int w;

	if ((w = inotify_add_watch(t->ifd, dir, INOTIFY_MASK)) < 0) {
		if (errno != ENOENT && errno != EACCES)
			tw_warn("tail", "cannot watch a directory; polling "
			    "it", "dir", dir, "error", strerror(errno));
		w = -1;
	}
	if (wd != NULL)
		*wd = w;
}

static void
file_free(struct tfile *f)
{
	if (f == NULL)
		return;
	if (f->fd >= 0)
		close(f->fd);
	tw_parser_free(f->parser);
	tw_buf_cleanup(&f->partial);
	free(f->path);
	free(f->target);
	free(f->base);
	free(f->format);
	free(f);
}

/* Stop following f: its records are out, its position keeps the rest. */
static void
file_close(struct tail *t, size_t i)
{
	struct tfile *f = t->files[i];
	struct tpos *p = f->pos;

	file_flush(t, f);
	pos_clean(p, &p->clean_off, &p->clean_skip);
	p->file = NULL;
	p->gone = f->deleted;
	p->seen_s = t->now_ns / 1000000000;
	tw_debug("tail", "file closed", "path", f->path);
	file_free(f);
	t->files[i] = t->files[--t->nfiles];
	t->ckpt_dirty = true;
	tw_gauge_set(t->files_watched, (double)t->nfiles);
}

static void
base_clear(struct tbase *b)
{
	free(b->dir);
	free(b->base);
	free(b->path);
	memset(b, 0, sizeof(*b));
}

/* Remember a followed file's name (at most BASES_MAX, oldest replaced). */
static void
base_add(struct tail *t, int wd, const char *dir, const char *base,
    const char *path)
{
	struct tbase *b;

	for (size_t i = 0; i < t->nbases; i++) {
		b = &t->bases[i];
		if (b->wd == wd && strcmp(b->base, base) == 0 &&
		    strcmp(b->path, path) == 0)
			return;
	}
	if (t->bases == NULL &&
	    (t->bases = calloc(BASES_MAX, sizeof(*t->bases))) == NULL)
		return;
	if (t->nbases < BASES_MAX) {
		b = &t->bases[t->nbases++];
	} else {
		b = &t->bases[t->next_base];
		t->next_base = (t->next_base + 1) % BASES_MAX;
		base_clear(b);
	}
	b->wd = wd;
	if ((b->dir = strdup(dir)) == NULL ||
	    (b->base = strdup(base)) == NULL ||
	    (b->path = strdup(path)) == NULL) {
		base_clear(b);
		b->wd = -1;
	}
}

/* Is name a rotated sibling of base (base.1, base-2024...), not gzipped? */
static bool
sibling_of(const char *name, const char *base)
{
	size_t blen = strlen(base), nlen = strlen(name);

	return nlen > blen + 1 && strncmp(name, base, blen) == 0 &&
	    (name[blen] == '.' || name[blen] == '-') &&
	    !(nlen > 3 && strcmp(name + nlen - 3, ".gz") == 0);
}

/* A name was moved into watched directory wd: keep it if a sibling. */
static void
base_moved(struct tail *t, int wd, const char *name)
{
	for (size_t i = 0; i < t->nbases && t->ncand < CANDIDATES_MAX; i++) {
		const struct tbase *b = &t->bases[i];
		struct tbase *c;

		if (b->wd != wd || b->base == NULL || !sibling_of(name, b->base))
			continue;
		if (t->cand == NULL && (t->cand = calloc(CANDIDATES_MAX,
		    sizeof(*t->cand))) == NULL)
			return;
		c = &t->cand[t->ncand];
		if ((c->dir = strdup(b->dir)) == NULL ||
		    (c->base = strdup(name)) == NULL ||
		    (c->path = strdup(b->path)) == NULL) {
			base_clear(c);
			return;
		}
		t->ncand++;
		return;
	}
}

static struct tfile *file_by_inode(struct tail *t, dev_t dev, ino_t ino);
static const struct tin *input_for(const struct tail *t, const char *path);
static void file_open(struct tail *t, const struct tin *in, const char *path,
    const char *open_path, bool detached);

/* Open the renamed siblings the agent never followed, detached. */
static void
open_candidates(struct tail *t)
{
	char found[PATH_MAX];
	const struct tin *in;
	struct stat st;

	for (size_t i = 0; i < t->ncand; i++) {
		struct tbase *c = &t->cand[i];

		if ((size_t)snprintf(found, sizeof(found), "%s/%s", c->dir,
		    c->base) < sizeof(found) &&
		    stat(found, &st) == 0 && S_ISREG(st.st_mode) &&
		    file_by_inode(t, st.st_dev, st.st_ino) == NULL &&
		    (in = input_for(t, c->path)) != NULL)
			file_open(t, in, c->path, found, true);
		base_clear(c);
	}
	t->ncand = 0;
}

/* The line-aligned end of fd, for read_from: tail. */
static uint64_t
tail_start_offset(struct tail *t, int fd, uint64_t size)
{
	size_t want = size < DETECT_MAX ? (size_t)size : DETECT_MAX, got;
	const char *nl;

	if (fsio_pread_all(fd, t->rbuf, want, size - want, &got) != 0 ||
	    got != want)
		return size;
	if ((nl = memrchr(t->rbuf, '\n', got)) == NULL)
		return want == size ? 0 : size;
	return size - want + (uint64_t)(nl - t->rbuf) + 1;
}

/*
 * Find the position of the file open as fd (identity id): every position
 * of that inode whose fingerprint the file still matches is this file,
 * and the furthest one wins; the others describe content that is gone.
 */
static struct tpos *
pos_match(struct tail *t, int fd, const struct file_id *id)
{
	struct tpos *best = NULL;
	uint64_t bo = 0, bs = 0, o, s;
	bool match;

	for (size_t i = 0; i < t->npos; i++) {
		struct tpos *p = t->pos[i];

		if (p->file != NULL || p->gone ||
		    !fileid_same_inode(&p->id, id))
			continue;
		if (fileid_check(fd, &p->id, &match) != 0 || !match) {
			p->gone = true;
			continue;
		}
		pos_clean(p, &o, &s);
		if (best == NULL || ckpt_after(o, s, bo, bs)) {
			if (best != NULL)
				best->gone = true;
			best = p;
			bo = o;
			bs = s;
		} else {
			p->gone = true;
		}
	}
	return best;
}

static const struct tin *
input_at(const struct tail *t, size_t i)
{
	return &t->inputs->v[i];
}

/*
 * Start following the file at open_path for input in, tailed as path
 * (they differ only for a file found by rescue(), which starts out
 * detached: it left its path).
 */
static void
file_open(struct tail *t, const struct tin *in, const char *path,
    const char *open_path, bool detached)
{
	struct tfile *f = NULL, **v;
	struct file_id id;
	struct stat st, lst;
	struct tpos *p;
	char real[PATH_MAX], link[PATH_MAX], *slash;
	uint64_t start = 0, skip = 0;
	const char *fmt;
	ssize_t ll;
	size_t cap;

	if (t->nfiles == t->capfiles) {
		cap = t->capfiles == 0 ? 64 : t->capfiles * 2;
		if ((v = realloc(t->files, cap * sizeof(*v))) == NULL)
			goto nomem;
		t->files = v;
		t->capfiles = cap;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		goto nomem;
	f->wd = -1;
	if ((f->fd = open(open_path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		if (errno != ENOENT)
			tw_warn("tail", "cannot open a file", "path", open_path,
			    "error", strerror(errno));
		goto fail;
	}
	if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto fail;
	memset(&id, 0, sizeof(id));
	id.dev = (uint64_t)st.st_dev;
	id.ino = (uint64_t)st.st_ino;
	if (fileid_fingerprint(f->fd, (uint64_t)st.st_size, &id) != 0) {
		tw_warn("tail", "cannot read a file", "path", path, "error",
		    strerror(errno));
		goto fail;
	}
	if ((f->path = strdup(path)) == NULL ||
	    (f->format = strdup(in->format)) == NULL)
		goto nomem;
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) &&
	    (ll = readlink(path, link, sizeof(link) - 1)) > 0) {
		link[ll] = '\0';
		if ((f->target = strdup(detached ? open_path : link)) == NULL)
			goto nomem;
	}
	if (realpath(open_path, real) != NULL &&
	    (slash = strrchr(real, '/')) != NULL) {
		if ((f->base = strdup(slash + 1)) == NULL)
			goto nomem;
		*slash = '\0';
		watch_dir(t, real[0] != '\0' ? real : "/", &f->wd);
		if (!detached && f->wd >= 0)
			base_add(t, f->wd, real, f->base, path);
	}
	f->idle_flush_ms = in->idle_flush_ms;
	f->max_line = in->max_line;
	tw_buf_init(&f->partial, f->max_line);

	if ((p = pos_match(t, f->fd, &id)) != NULL) {
		pos_clean(p, &start, &skip);
		if (start > (uint64_t)st.st_size) {
			/* Truncated while nobody watched. */
			tw_info("tail", "file shrank since it was last read; "
			    "reading it from the start", "path", path);
			tw_counter_inc(t->truncations);
			p->gone = true;
			p = NULL;
			start = skip = 0;
		} else {
			p->id = id;
		}
	} else if (!detached && !t->first_scan_done &&
	    in->read_from == AGENT_READ_FROM_TAIL) {
		start = tail_start_offset(t, f->fd, (uint64_t)st.st_size);
	}
	if (p == NULL && (p = pos_add(t, &id, path, start, 0,
	    t->now_ns / 1000000000)) == NULL)
		goto nomem;
	f->pos = p;
	p->file = f;
	p->clean_off = start;
	p->clean_mark = 0;
	p->seen_s = t->now_ns / 1000000000;
	p->gone = false;
	f->off = f->line_start = start;
	f->skip = f->resume_skip = skip;
	f->resume_off = start;
	fmt = f->format;
	if (strcmp(fmt, "auto") == 0 && start > 0)
		fmt = detect_from_head(t, f);
	if (file_parser(t, f, fmt) != 0)
		goto fail_pos;
	f->last_data_ms = t->now_ms;
	f->ready = true;
	f->detached = detached;
	f->scan_gen = t->scan_gen;
	t->files[t->nfiles++] = f;
	tw_counter_inc(t->files_opened);
	tw_gauge_set(t->files_watched, (double)t->nfiles);
	if (detached)
		tw_info("tail", "draining a file rotated away while the agent "
		    "was down", "path", open_path);
	else
		tw_info("tail", "following a file", "path", path);
	return;
fail_pos:
	p->file = NULL;
	pos_clean(p, &p->clean_off, &p->clean_skip);
	goto fail;
nomem:
	tw_error("tail", "out of memory opening a file", "path", path);
fail:
	file_free(f);
}

/*
 * f's content was replaced (truncated, or rewritten from the start): what
 * was held back is emitted, and reading starts again at 0 under a new
 * identity.
 */
static void
file_restart(struct tail *t, struct tfile *f, const char *why)
{
	struct tpos *old = f->pos, *p;
	struct file_id id = old->id;
	struct stat st;

	if (fstat(f->fd, &st) != 0 ||
	    fileid_fingerprint(f->fd, (uint64_t)st.st_size, &id) != 0) {
		tw_error("tail", "cannot take a changed file's fingerprint; "
		    "trying again at the next scan", "path", f->path,
		    "error", strerror(errno));
		return;
	}
	tw_info("tail", why, "path", f->path);
	tw_counter_inc(t->truncations);
	file_flush(t, f);
	if ((p = pos_add(t, &id, f->path, 0, 0, t->now_ns / 1000000000)) ==
	    NULL) {
		tw_error("tail", "out of memory restarting a file; trying "
		    "again at the next scan", "path", f->path);
		return;
	}
	pos_clean(old, &old->clean_off, &old->clean_skip);
	old->file = NULL;
	old->gone = true;
	f->pos = p;
	p->file = f;
	p->clean_mark = 0;
	f->off = f->line_start = f->line_len = 0;
	f->emitted = f->skip = f->resume_off = f->resume_skip = 0;
	f->cri_has[0] = f->cri_has[1] = false;
	drop_partial(f);
	tw_ignore(file_parser(t, f, f->format));
	f->ready = true;
}

/* Read what f has, up to budget bytes. */
static void
file_read(struct tail *t, struct tfile *f, size_t budget)
{
	size_t want, used;
	ssize_t n;
	bool match;

	while (budget > 0 && !t->stalled && t->nframes < FRAMES_MAX) {
		want = budget < READ_CHUNK ? budget : READ_CHUNK;
		if ((n = pread(f->fd, t->rbuf, want, (off_t)f->off)) < 0) {
			if (errno == EINTR)
				continue;
			tw_error("tail", "read failed; retrying at the next "
			    "tick", "path", f->path, "error", strerror(errno));
			f->ready = false;
			return;
		}
		if (n == 0) {
			struct stat st;

			f->eof = true;
			f->ready = false;
			/* Shrunk below what was read: truncated (copytruncate). */
			if (fstat(f->fd, &st) == 0 &&
			    (uint64_t)st.st_size < f->off) {
				file_restart(t, f, "file truncated; reading it "
				    "from the start");
				continue;
			}
			return;
		}
		f->eof = false;
		f->last_data_ms = t->now_ms;
		/* Extend a short fingerprint, checking what it covered. */
		if (f->pos->id.fp_len < FILEID_FP_MAX &&
		    f->off + (uint64_t)n > f->pos->id.fp_len) {
			if (fileid_check(f->fd, &f->pos->id, &match) != 0 ||
			    (match && fileid_fingerprint(f->fd, f->off +
			    (uint64_t)n, &f->pos->id) != 0)) {
				tw_error("tail", "read failed; retrying at the "
				    "next tick", "path", f->path, "error",
				    strerror(errno));
				f->ready = false;
				return;
			}
			if (!match) {
				file_restart(t, f, "file rewritten from the "
				    "start; reading it again");
				continue;
			}
		}
		/* A stateless parser is renewed for its clock (the time of
		 * lines that carry none). */
		if (f->fr_known && f->fr == FR_LINES &&
		    f->parser_now_ns != t->now_ns)
			tw_ignore(file_parser(t, f,
			    tw_parser_format(f->parser)));
		used = process(t, f, t->rbuf, (size_t)n);
		f->off += used;
		tw_counter_add(t->bytes_read, used);
		budget -= (size_t)n;
		if (used < (size_t)n)
			return;
	}
	f->ready = true;
}

/* --- batches, spool, checkpoint --- */

static int
frame_cov_add(struct frame *fr, struct tpos *p, uint64_t off, uint64_t skip)
{
	struct spool_cov *c;
	struct tpos **cp;
	size_t cap;

	if (fr->ncov == fr->capcov) {
		cap = fr->capcov == 0 ? 16 : fr->capcov * 2;
		if ((c = realloc(fr->cov, cap * sizeof(*c))) == NULL)
			return TW_ENOMEM;
		fr->cov = c;
		if ((cp = realloc(fr->covpos, cap * sizeof(*cp))) == NULL)
			return TW_ENOMEM;
		fr->covpos = cp;
		fr->capcov = cap;
	}
	c = &fr->cov[fr->ncov];
	c->id = p->id;
	c->start = p->cut_off;
	c->end = off;
	c->end_skip = skip;
	fr->covpos[fr->ncov++] = p;
	return 0;
}

static int commit(struct tail *t);

/*
 * Finish the batch being built into a frame, recording for every
 * position the resume point after it.
 */
static int
cut(struct tail *t)
{
	struct frame *fr;
	uint64_t off, skip;
	int r;

	if (batcher_records(t->batcher) == 0)
		return 0;
	if (t->nframes == FRAMES_MAX && (r = commit(t)) != 0)
		return r;
	fr = &t->frames[t->nframes];
	tw_buf_reset(&fr->data);
	fr->ncov = 0;
	for (size_t i = 0; i < t->npos; i++) {
		struct tpos *p = t->pos[i];

		pos_clean(p, &off, &skip);
		if (off == p->cut_off && skip == p->cut_skip)
			continue;
		if (!ckpt_after(off, skip, p->cut_off, p->cut_skip))
			continue; /* never go back */
		if ((r = frame_cov_add(fr, p, off, skip)) != 0)
			return r;
	}
	if ((r = batcher_finish(t->batcher, &fr->data, &fr->info)) != 0) {
		tw_error("tail", "cannot compress a batch", "error",
		    tw_strerror(r));
		return r;
	}
	for (size_t i = 0; i < fr->ncov; i++) {
		fr->covpos[i]->cut_off = fr->cov[i].end;
		fr->covpos[i]->cut_skip = fr->cov[i].end_skip;
	}
	t->nframes++;
	return 0;
}

/* Room for n more batches waiting for the checkpoint. */
static int
unhanded_reserve(struct tail *t, size_t n)
{
	struct handed *v;
	size_t cap = t->capunhanded;

	if (t->nunhanded + n <= cap)
		return 0;
	while (cap < t->nunhanded + n)
		cap = cap == 0 ? 16 : cap * 2;
	if ((v = realloc(t->unhanded, cap * sizeof(*v))) == NULL)
		return TW_ENOMEM;
	t->unhanded = v;
	t->capunhanded = cap;
	return 0;
}

/* Spool the finished frames, all with one directory fsync. */
static int
commit(struct tail *t)
{
	struct spool_batch b[FRAMES_MAX];
	size_t done = 0;
	int r = 0;

	if (t->nframes == 0)
		return 0;
	if (t->now_ms < t->retry_commit_ms)
		return TW_EAGAIN;
	memset(b, 0, sizeof(b));
	/* Room first, so that nothing can fail after the spool write. */
	if ((r = unhanded_reserve(t, t->nframes)) != 0)
		goto fail;
	for (size_t i = 0; i < t->nframes; i++) {
		struct frame *fr = &t->frames[i];
		struct spool_hdr *h = &b[i].hdr;

		if ((r = seq_next(t->d.seq, &h->seq)) != 0)
			goto fail;
		h->records = fr->info.records;
		h->raw_len = fr->info.raw_len;
		h->time_min = fr->info.time_min;
		h->time_max = fr->info.time_max;
		snprintf(h->agent, sizeof(h->agent), "%s", t->agent_id);
		h->cov = fr->cov;
		h->ncov = fr->ncov;
		b[i].frame = fr->data.data;
		b[i].frame_len = fr->data.len;
	}
	if ((r = spool_commit(t->d.spool, b, t->nframes, &done)) != 0)
		goto fail;
	for (size_t i = 0; i < t->nframes; i++) {
		struct frame *fr = &t->frames[i];

		for (size_t j = 0; j < fr->ncov; j++) {
			struct tpos *p = fr->covpos[j];

			if (ckpt_after(fr->cov[j].end, fr->cov[j].end_skip,
			    p->dur_off, p->dur_skip)) {
				p->dur_off = fr->cov[j].end;
				p->dur_skip = fr->cov[j].end_skip;
			}
		}
		t->unhanded[t->nunhanded].seq = b[i].hdr.seq;
		t->unhanded[t->nunhanded].size = b[i].size;
		t->unhanded[t->nunhanded].records = b[i].hdr.records;
		t->nunhanded++;
	}
	t->nframes = 0;
	t->ckpt_dirty = true;
	t->next_ckpt_ms = 0; /* now: the shipper waits for it */
	if (t->stalled)
		tw_info("tail", "batches are spooled again; reading "
		    "resumes");
	t->stalled = false;
	return 0;
fail:
	tw_counter_inc(t->spool_errors);
	tw_error("tail", "cannot write batches to the spool; reading "
	    "pauses and the write is retried", "error", r == TW_EIO ?
	    strerror(errno) : tw_strerror(r));
	t->retry_commit_ms = t->now_ms + COMMIT_RETRY_MS;
	t->stalled = true;
	return r;
}

/*
 * With no record in the batch or a frame, every clean point is settled:
 * nothing needs spooling for it to be durable.
 */
static void
settle(struct tail *t)
{
	uint64_t off, skip;

	if (batcher_records(t->batcher) > 0 || t->nframes > 0)
		return;
	for (size_t i = 0; i < t->npos; i++) {
		struct tpos *p = t->pos[i];

		pos_clean(p, &off, &skip);
		if (!ckpt_after(off, skip, p->dur_off, p->dur_skip))
			continue;
		p->cut_off = p->dur_off = off;
		p->cut_skip = p->dur_skip = skip;
		t->ckpt_dirty = true;
	}
}

/* Write the checkpoint; then the batches it covers go to the shipper. */
static int
save_checkpoint(struct tail *t)
{
	int r = 0;

	ckpt_clear(&t->ck);
	for (size_t i = 0; i < t->npos && r == 0; i++) {
		struct tpos *p = t->pos[i];

		/* Content that no longer exists must never match again. */
		if (p->gone)
			continue;
		if (p->file != NULL)
			p->seen_s = t->now_ns / 1000000000;
		r = ckpt_add(&t->ck, &p->id, p->dur_off, p->dur_skip,
		    p->seen_s, p->path);
	}
	if (r == 0)
		r = ckpt_store_save(t->d.ckpts, &t->ck);
	if (r != 0) {
		tw_counter_inc(t->ckpt_errors);
		tw_error("checkpoint", "cannot write the checkpoint; retrying",
		    "error", r == TW_EIO ? strerror(errno) : tw_strerror(r));
		t->next_ckpt_ms = t->now_ms + COMMIT_RETRY_MS;
		return r;
	}
	tw_counter_inc(t->ckpt_writes);
	t->ckpt_dirty = false;
	t->next_ckpt_ms = t->now_ms + CKPT_INTERVAL_MS;
	for (size_t i = 0; i < t->nunhanded; i++)
		ship_enqueue(t->d.ship, t->unhanded[i].seq,
		    t->unhanded[i].size, t->unhanded[i].records,
		    t->agent_id);
	t->nunhanded = 0;
	return 0;
}

/* --- discovery --- */

static bool
excluded(const struct tinputs *ti, const struct tin *in, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base != NULL ? base + 1 : path;
	for (size_t i = 0; i < ti->nself; i++)
		if (fnmatch(ti->self_exclude[i], base, 0) == 0)
			return true;
	for (size_t i = 0; i < in->nexclude; i++)
		if (fnmatch(in->exclude[i], path, 0) == 0 ||
		    fnmatch(in->exclude[i], base, 0) == 0)
			return true;
	return false;
}

static struct tfile *
file_by_inode(struct tail *t, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < t->nfiles; i++) {
		struct tfile *f = t->files[i];

		if (f->pos->id.dev == (uint64_t)dev &&
		    f->pos->id.ino == (uint64_t)ino)
			return f;
	}
	return NULL;
}

/* Watch the directory part of pattern that has no wildcard in it. */
static void
watch_pattern_dir(struct tail *t, const char *pattern)
{
	char dir[PATH_MAX];
	size_t wild = strcspn(pattern, "*?[{"), slash = 0;

	for (size_t i = 0; i < wild && pattern[i] != '\0'; i++)
		if (pattern[i] == '/')
			slash = i;
	if (slash == 0 || slash >= sizeof(dir))
		return;
	memcpy(dir, pattern, slash);
	dir[slash] = '\0';
	watch_dir(t, dir, NULL);
}

/* One glob match of input in. */
static void
consider(struct tail *t, const struct tin *in, const char *path)
{
	struct tfile *f;
	struct stat st;

	if (excluded(t->inputs, in, path))
		return;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	if ((f = file_by_inode(t, st.st_dev, st.st_ino)) != NULL) {
		if (f->scan_gen != t->scan_gen && f->detached &&
		    !f->deleted) {
			f->detached = false; /* at a watched path again */
			f->ready = true;
		}
		f->scan_gen = t->scan_gen;
		return;
	}
	file_open(t, in, path, path, false);
}

/* The first input that would have matched path. */
static const struct tin *
input_for(const struct tail *t, const char *path)
{
	for (size_t i = 0; i < t->inputs->n; i++) {
		const struct tin *in = input_at(t, i);

		for (size_t j = 0; j < in->npaths; j++)
			if (fnmatch(in->paths[j], path, FNM_PATHNAME) == 0)
				return in;
	}
	return NULL;
}

/* Look in dir for the inode of p; open it detached when it has more. */
static bool
rescue_in(struct tail *t, const struct tin *in, struct tpos *p,
    const char *dir)
{
	char found[PATH_MAX];
	struct dirent *de;
	struct stat st;
	uint64_t off, skip;
	DIR *d;
	bool hit = false;

	if ((d = opendir(dir)) == NULL)
		return false;
	while (!hit && (de = readdir(d)) != NULL) {
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0 || !S_ISREG(st.st_mode) ||
		    (uint64_t)st.st_dev != p->id.dev ||
		    (uint64_t)st.st_ino != p->id.ino)
			continue;
		hit = true;
		pos_clean(p, &off, &skip);
		if ((uint64_t)st.st_size <= off || (size_t)snprintf(found,
		    sizeof(found), "%s/%s", dir, de->d_name) >= sizeof(found))
			continue;
		file_open(t, in, p->path, found, true);
	}
	closedir(d);
	return hit;
}

/* Split path into dir (NUL-terminated in buf) and its last component. */
static const char *
split_path(const char *path, char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", path);
	if ((slash = strrchr(buf, '/')) == NULL)
		return NULL;
	*slash = '\0';
	return path + (slash - buf) + 1;
}

/*
 * Siblings of a watched file that its rotation made (base.1,
 * base.20240615-...), written to since the agent last saw the file and
 * not known to it: rotated away before the agent ever saw them. Drained
 * from the start. Compressed ones (.gz) are not read.
 */
static void
rescue_siblings(struct tail *t, const struct tin *in, const char *path,
    const char *dir, const char *base, int64_t seen_s)
{
	char found[PATH_MAX];
	size_t blen = strlen(base), nlen;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir[0] != '\0' ? dir : "/")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		nlen = strlen(de->d_name);
		if (nlen <= blen + 1 || strncmp(de->d_name, base, blen) != 0 ||
		    (de->d_name[blen] != '.' && de->d_name[blen] != '-') ||
		    (nlen > 3 && strcmp(de->d_name + nlen - 3, ".gz") == 0))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0 || !S_ISREG(st.st_mode) || st.st_mtime + 2 < seen_s ||
		    file_by_inode(t, st.st_dev, st.st_ino) != NULL)
			continue;
		if ((size_t)snprintf(found, sizeof(found), "%s/%s", dir,
		    de->d_name) >= sizeof(found))
			continue;
		file_open(t, in, path, found, true);
	}
	closedir(d);
}

/*
 * After a restart, files rotated away while the agent was down are at no
 * watched path any more. A known file is looked for by its inode next to
 * its old path (and next to the file that path links to) and drained
 * from where it was left; then unknown rotated siblings are drained.
 */
static void
rescue(struct tail *t)
{
	char real[PATH_MAX], dir[PATH_MAX], rdir[PATH_MAX];
	const char *base, *rbase;
	size_t n = t->npos;

	for (size_t i = 0; i < n && i < t->npos; i++) {
		struct tpos *p = t->pos[i];
		const struct tin *in;

		if (p->file != NULL || p->gone || p->path[0] != '/' ||
		    (in = input_for(t, p->path)) == NULL ||
		    split_path(p->path, dir, sizeof(dir)) == NULL)
			continue;
		if (rescue_in(t, in, p, dir[0] != '\0' ? dir : "/"))
			continue;
		if (realpath(p->path, real) != NULL &&
		    split_path(real, rdir, sizeof(rdir)) != NULL &&
		    strcmp(rdir, dir) != 0)
			tw_ignore(rescue_in(t, in, p, rdir[0] != '\0' ? rdir :
			    "/"));
	}
	for (size_t i = 0; i < n && i < t->npos; i++) {
		struct tpos *p = t->pos[i];
		const struct tin *in;
		int64_t seen = p->seen_s;
		bool first = true;

		if (p->gone || p->path[0] != '/' ||
		    (in = input_for(t, p->path)) == NULL)
			continue;
		/* Once per path, with the last time it was seen. */
		for (size_t j = 0; j < n && j < t->npos && first; j++) {
			if (strcmp(t->pos[j]->path, p->path) != 0)
				continue;
			if (j < i)
				first = false;
			else if (t->pos[j]->seen_s > seen)
				seen = t->pos[j]->seen_s;
		}
		if (!first ||
		    (base = split_path(p->path, dir, sizeof(dir))) == NULL)
			continue;
		rescue_siblings(t, in, p->path, dir, base, seen);
		if (realpath(p->path, real) != NULL &&
		    (rbase = split_path(real, rdir, sizeof(rdir))) != NULL &&
		    (strcmp(rdir, dir) != 0 || strcmp(rbase, base) != 0))
			rescue_siblings(t, in, p->path, rdir, rbase, seen);
	}
}

/* A file no longer at any watched path: drain it, then close it. */
static void
detach(struct tail *t, struct tfile *f)
{
	struct stat st;

	f->detached = true;
	f->ready = true;
	f->deleted = fstat(f->fd, &st) == 0 && st.st_nlink == 0;
	if (f->deleted)
		tw_counter_inc(t->deletions);
	else
		tw_counter_inc(t->rotations);
	tw_debug("tail", f->deleted ? "file deleted; draining it" :
	    "file rotated or unmatched; draining it", "path", f->path);
}

/* Check the open files for truncation and replacement. */
static void
check_files(struct tail *t)
{
	struct stat st;
	bool match;

	for (size_t i = 0; i < t->nfiles; i++) {
		struct tfile *f = t->files[i];

		if (fstat(f->fd, &st) != 0)
			continue;
		if ((uint64_t)st.st_size < f->off) {
			file_restart(t, f, "file truncated; reading it from "
			    "the start");
			continue;
		}
		if (f->pos->id.fp_len > 0 &&
		    fileid_check(f->fd, &f->pos->id, &match) == 0 && !match)
			file_restart(t, f, "file rewritten from the start; "
			    "reading it again");
		if (st.st_nlink == 0 && !f->detached)
			detach(t, f);
		if ((uint64_t)st.st_size > f->off)
			f->ready = true;
	}
}

static void
scan(struct tail *t)
{
	const struct tinputs *ti = t->inputs;
	glob_t g;
	int r;

	t->scan_gen++;
	for (size_t i = 0; i < ti->n; i++) {
		const struct tin *in = input_at(t, i);

		for (size_t j = 0; j < in->npaths; j++) {
			watch_pattern_dir(t, in->paths[j]);
			memset(&g, 0, sizeof(g));
			r = glob(in->paths[j], GLOB_NOSORT | GLOB_BRACE, NULL,
			    &g);
			if (r == 0)
				for (size_t k = 0; k < g.gl_pathc; k++)
					consider(t, in, g.gl_pathv[k]);
			else if (r != GLOB_NOMATCH)
				tw_warn("tail", "glob failed", "pattern",
				    in->paths[j]);
			globfree(&g);
		}
	}
	for (size_t i = 0; i < t->nfiles; i++) {
		struct tfile *f = t->files[i];

		if (f->scan_gen != t->scan_gen && !f->detached)
			detach(t, f);
	}
	if (!t->first_scan_done)
		rescue(t);
	open_candidates(t);
	check_files(t);
	t->first_scan_done = true;
	t->rescan_due = false;
	t->next_rescan_ms = t->now_ms + RESCAN_MS;
}

static void
read_inotify(struct tail *t)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;

	for (;;) {
		if ((n = read(t->ifd, buf, sizeof(buf))) < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN: drained */
		}
		if (n == 0)
			return;
		for (char *p = buf; p < buf + n;
		    p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				t->rescan_due = true;
				for (size_t i = 0; i < t->nfiles; i++)
					t->files[i]->ready = true;
				continue;
			}
			if ((ev->mask & IN_MOVED_TO) && ev->len > 0)
				base_moved(t, ev->wd, ev->name);
			if (!(ev->mask & IN_MODIFY) || ev->len == 0) {
				t->rescan_due = true;
				continue;
			}
			for (size_t i = 0; i < t->nfiles; i++) {
				struct tfile *f = t->files[i];

				if (f->wd == ev->wd && f->base != NULL &&
				    strcmp(f->base, ev->name) == 0)
					f->ready = true;
			}
		}
	}
}

/* --- the loop --- */

/* Reading pauses when the spool could not take what is being read. */
static void
update_backpressure(struct tail *t)
{
	uint64_t pending = 0;
	bool full;

	for (size_t i = 0; i < t->nframes; i++)
		pending += t->frames[i].data.len;
	full = spool_bytes(t->d.spool) + pending + 2 * t->batch_max_bytes >
	    spool_max_bytes(t->d.spool);
	if (full == t->full)
		return;
	t->full = full;
	tw_gauge_set(t->backpressure, full ? 1 : 0);
	if (full) {
		char bytes[32];

		snprintf(bytes, sizeof(bytes), "%" PRIu64,
		    spool_bytes(t->d.spool));
		tw_warn("tail", "spool full: reading paused until batches are "
		    "acknowledged", "spool_bytes", bytes);
		if (t->d.httpd != NULL)
			tw_httpd_set_ready(t->d.httpd, false, "spool full");
	} else {
		tw_info("tail", "spool has room again: reading resumes");
		if (t->d.httpd != NULL && !t->draining)
			tw_httpd_set_ready(t->d.httpd, true, NULL);
	}
}

/* Idle flushes, and closing drained files that left their path. */
static void
tick(struct tail *t)
{
	struct stat st;

	for (size_t i = 0; i < t->nfiles;) {
		struct tfile *f = t->files[i];
		uint64_t off, skip;
		bool idle = f->eof && t->now_ms - f->last_data_ms >=
		    (int64_t)f->idle_flush_ms;

		/* Never closed with bytes unread (reading may be paused). */
		if (f->detached && idle && fstat(f->fd, &st) == 0 &&
		    (uint64_t)st.st_size <= f->off) {
			file_close(t, i);
			continue;
		}
		pos_clean(f->pos, &off, &skip);
		if (idle && (f->line_len > 0 || off < f->off || skip > 0))
			file_flush(t, f);
		f->ready = true; /* the poll: one pread each tick */
		i++;
	}
	pos_gc(t);
	t->next_tick_ms = t->now_ms + TICK_MS;
}

/* Read every file that may have data; true when some have more. */
static bool
read_files(struct tail *t)
{
	bool more = false;

	for (size_t i = 0; i < t->nfiles; i++) {
		struct tfile *f = t->files[i];

		if (!f->ready)
			continue;
		file_read(t, f, READ_BUDGET);
		if (f->ready && !f->eof)
			more = true;
		if (t->stalled || t->nframes >= FRAMES_MAX)
			return true;
	}
	return more;
}

static void
take_requests(struct tail *t)
{
	struct tinputs *next;
	uint64_t v;

	while (read(t->evfd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&t->lock);
	next = t->pending;
	t->pending = NULL;
	if (t->drain_req)
		t->draining = true;
	pthread_mutex_unlock(&t->lock);
	if (next != NULL) {
		tinputs_free(t->inputs);
		t->inputs = next;
		t->rescan_due = true;
		tw_info("tail", "inputs reloaded");
	}
}

/* Put everything emitted into the spool and the checkpoint. */
static void
flush_all(struct tail *t)
{
	if (batcher_records(t->batcher) > 0 &&
	    (t->nframes < FRAMES_MAX || commit(t) == 0))
		tw_ignore(cut(t));
	t->retry_commit_ms = 0;
	tw_ignore(commit(t));
	settle(t);
	if (t->ckpt_dirty || t->nunhanded > 0)
		tw_ignore(save_checkpoint(t));
}

static void *
tail_main(void *arg)
{
	struct tail *t = arg;
	struct epoll_event ev[8];
	int64_t timeout, deadline;
	bool busy = true;
	int n;

	for (;;) {
		t->now_ms = mono_ms();
		timeout = busy ? 0 : t->next_tick_ms - t->now_ms;
		if ((deadline = batcher_deadline(t->batcher)) >= 0 &&
		    deadline - t->now_ms < timeout)
			timeout = deadline - t->now_ms;
		if (t->ckpt_dirty && t->next_ckpt_ms - t->now_ms < timeout)
			timeout = t->next_ckpt_ms - t->now_ms;
		if (timeout < 0)
			timeout = 0;
		n = epoll_wait(t->epfd, ev, 8, (int)timeout);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == t->ifd)
				read_inotify(t);
			else if (ev[i].data.fd == t->evfd)
				take_requests(t);
		}
		t->now_ms = mono_ms();
		t->now_ns = wall_ns();
		if (t->draining)
			break;
		if (t->rescan_due || t->now_ms >= t->next_rescan_ms)
			scan(t);
		if (t->stalled && t->now_ms >= t->retry_commit_ms)
			tw_ignore(commit(t));
		update_backpressure(t);
		busy = false;
		if (!t->full && !t->stalled)
			busy = read_files(t);
		if (t->now_ms >= t->next_tick_ms)
			tick(t);
		if ((deadline = batcher_deadline(t->batcher)) >= 0 &&
		    t->now_ms >= deadline && cut(t) != 0)
			t->stalled = true;
		if (t->nframes > 0 && !t->stalled)
			tw_ignore(commit(t));
		settle(t);
		if ((t->ckpt_dirty || t->nunhanded > 0) &&
		    t->now_ms >= t->next_ckpt_ms)
			tw_ignore(save_checkpoint(t));
		update_backpressure(t);
	}
	flush_all(t);
	tw_info("tail", "stopped reading; records so far are spooled and "
	    "checkpointed");
	return NULL;
}

/* --- the public side --- */

static void
register_metrics(struct tail *t, struct tw_metrics *m)
{
	t->records_read = tw_metrics_counter(m, "trawl_agent_records_read_total",
	    "Records parsed from tailed files and put into batches.", NULL);
	t->bytes_read = tw_metrics_counter(m, "trawl_agent_bytes_read_total",
	    "Bytes read from tailed files.", NULL);
	t->lines_truncated = tw_metrics_counter(m,
	    "trawl_agent_lines_truncated_total",
	    "Lines longer than max_line, cut and marked truncated.", NULL);
	t->records_incomplete = tw_metrics_counter(m,
	    "trawl_agent_records_incomplete_total",
	    "Unterminated last lines emitted after idle_flush.", NULL);
	t->rotations = tw_metrics_counter(m, "trawl_agent_rotations_total",
	    "Files that left their watched path (renamed away), drained "
	    "before closing.", NULL);
	t->deletions = tw_metrics_counter(m,
	    "trawl_agent_files_deleted_total",
	    "Files deleted while open, drained before closing.", NULL);
	t->truncations = tw_metrics_counter(m,
	    "trawl_agent_truncations_total",
	    "Files truncated or rewritten, read again from the start.", NULL);
	t->records_skipped = tw_metrics_counter(m,
	    "trawl_agent_records_skipped_total",
	    "Records read again after a restart and dropped because they "
	    "were spooled before.", NULL);
	t->files_opened = tw_metrics_counter(m,
	    "trawl_agent_files_opened_total", "Files opened for tailing.",
	    NULL);
	t->discarded_large = tw_metrics_counter(m,
	    "trawl_agent_records_discarded_total",
	    "Records dropped, by reason.", "reason=\"too_large\"");
	t->discarded_other = tw_metrics_counter(m,
	    "trawl_agent_records_discarded_total",
	    "Records dropped, by reason.", "reason=\"error\"");
	t->ckpt_writes = tw_metrics_counter(m,
	    "trawl_agent_checkpoint_writes_total", "Checkpoints written.",
	    NULL);
	t->ckpt_errors = tw_metrics_counter(m,
	    "trawl_agent_checkpoint_errors_total",
	    "Checkpoint writes that failed (retried).", NULL);
	t->spool_errors = tw_metrics_counter(m,
	    "trawl_agent_spool_write_errors_total",
	    "Spool writes that failed (retried; reading pauses).", NULL);
	t->files_watched = tw_metrics_gauge(m, "trawl_agent_files_watched",
	    "Files open for tailing.", NULL);
	t->backpressure = tw_metrics_gauge(m, "trawl_agent_backpressure",
	    "1 while reading is paused because the spool is full.", NULL);
	t->positions = tw_metrics_gauge(m, "trawl_agent_positions",
	    "File identities whose resume point is kept.", NULL);
}

struct tail *
tail_new(const struct agent_conf *conf, const struct tail_deps *deps,
    struct ckpt *start, char **why)
{
	struct batcher_opts bo;
	struct epoll_event ev;
	struct tail *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto nomem;
	t->epfd = t->ifd = t->evfd = -1;
	t->d = *deps;
	pthread_mutex_init(&t->lock, NULL);
	ckpt_init(&t->ck);
	tw_buf_init(&t->rec, REC_MAX);
	for (size_t i = 0; i < FRAMES_MAX; i++)
		tw_buf_init(&t->frames[i].data, (size_t)SPOOL_FRAME_MAX);
	register_metrics(t, deps->metrics);
	t->batch_max_bytes = conf->agent.batch.max_bytes;
	bo.max_bytes = conf->agent.batch.max_bytes;
	bo.max_records = (uint32_t)conf->agent.batch.max_records;
	bo.linger_ms = conf->agent.batch.linger_ms;
	bo.zstd_level = (int)conf->agent.batch.zstd_level;
	if ((t->agent_id = strdup(conf->agent.id)) == NULL ||
	    (t->batcher = batcher_new(&bo)) == NULL ||
	    (t->inputs = tinputs_new(conf)) == NULL ||
	    (t->rbuf = malloc(READ_CHUNK > DETECT_MAX ? READ_CHUNK :
	    DETECT_MAX)) == NULL)
		goto nomem;
	t->now_ns = wall_ns();
	t->now_ms = mono_ms();
	for (size_t i = 0; i < start->n; i++) {
		const struct ckpt_entry *e = &start->v[i];

		if (pos_add(t, &e->id, e->path, e->offset, e->skip,
		    e->seen_s) == NULL)
			goto nomem;
	}
	ckpt_clear(start);
	t->ckpt_dirty = false;
	if ((t->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
	    (t->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		if (why != NULL && asprintf(why, "tail: %s",
		    strerror(errno)) < 0)
			*why = NULL;
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = t->ifd;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->ifd, &ev) != 0)
		goto fail_errno;
	ev.data.fd = t->evfd;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->evfd, &ev) != 0)
		goto fail_errno;
	return t;
fail_errno:
	if (why != NULL && asprintf(why, "tail: epoll: %s",
	    strerror(errno)) < 0)
		*why = NULL;
	goto fail;
nomem:
	if (why != NULL)
		*why = strdup("out of memory");
fail:
	tail_free(t);
	return NULL;
}

int
tail_start(struct tail *t)
{
	if (pthread_create(&t->thread, NULL, tail_main, t) != 0)
		return TW_EIO;
	t->started = true;
	return 0;
}

static void
poke(struct tail *t)
{
	uint64_t one = 1;

	while (write(t->evfd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

int
tail_reload(struct tail *t, const struct agent_conf *conf)
{
	struct tinputs *next;

	if ((next = tinputs_new(conf)) == NULL)
		return TW_ENOMEM;
	pthread_mutex_lock(&t->lock);
	tinputs_free(t->pending);
	t->pending = next;
	pthread_mutex_unlock(&t->lock);
	poke(t);
	return 0;
}

void
tail_wake(struct tail *t)
{
	poke(t);
}

void
tail_drain(struct tail *t)
{
	if (!t->started)
		return;
	pthread_mutex_lock(&t->lock);
	t->drain_req = true;
	pthread_mutex_unlock(&t->lock);
	poke(t);
	pthread_join(t->thread, NULL);
	t->started = false;
}

void
tail_free(struct tail *t)
{
	if (t == NULL)
		return;
	tail_drain(t);
	for (size_t i = 0; i < t->nfiles; i++)
		file_free(t->files[i]);
	free(t->files);
	for (size_t i = 0; i < t->npos; i++) {
		free(t->pos[i]->path);
		free(t->pos[i]);
	}
	free(t->pos);
	for (size_t i = 0; i < FRAMES_MAX; i++) {
		tw_buf_cleanup(&t->frames[i].data);
		free(t->frames[i].cov);
		free(t->frames[i].covpos);
	}
	free(t->unhanded);
	ckpt_cleanup(&t->ck);
	tinputs_free(t->inputs);
	tinputs_free(t->pending);
	for (size_t i = 0; i < t->nbases; i++)
		base_clear(&t->bases[i]);
	free(t->bases);
	for (size_t i = 0; i < t->ncand; i++)
		base_clear(&t->cand[i]);
	free(t->cand);
	batcher_free(t->batcher);
	tw_buf_cleanup(&t->rec);
	free(t->rbuf);
	free(t->agent_id);
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->ifd >= 0)
		close(t->ifd);
	if (t->evfd >= 0)
		close(t->evfd);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

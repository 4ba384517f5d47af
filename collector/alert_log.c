/* alert_log.c: the alert log: a segment store of alert batches that the
 * detect stage appends to and every sink follows (docs/alerting.md). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_log.h"
#include "log.h"
#include "mp.h"
#include "store_reader.h"

struct alert_log {
	struct tw_store *store;
	char *dir;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	uint64_t gen;	   /* under mu */
};

struct alert_log *
alert_log_open(const char *dir, const struct tw_store_opts *opts, char **why)
{
	struct alert_log *log;
	pthread_condattr_t ca;

	if ((log = calloc(1, sizeof(*log))) == NULL ||
	    (log->dir = strdup(dir)) == NULL) {
		if (log != NULL)
			free(log);
		return NULL;
	}
	if ((log->store = tw_store_open(dir, opts, why)) == NULL) {
		free(log->dir);
		free(log);
		return NULL;
	}
	pthread_mutex_init(&log->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&log->cv, &ca);
	pthread_condattr_destroy(&ca);
	return log;
}

void
alert_log_close(struct alert_log *log)
{
	if (log == NULL)
		return;
	tw_store_close(log->store);
	pthread_cond_destroy(&log->cv);
	pthread_mutex_destroy(&log->mu);
	free(log->dir);
	free(log);
}

const char *
alert_log_dir(const struct alert_log *log)
{
	return log->dir;
}

struct tw_store *
alert_log_store(struct alert_log *log)
{
	return log->store;
}

void
alert_log_wake(struct alert_log *log)
{
	pthread_mutex_lock(&log->mu);
	log->gen++;
	pthread_cond_broadcast(&log->cv);
	pthread_mutex_unlock(&log->mu);
}

int
alert_log_append(struct alert_log *log, uint64_t seq,
    const struct tw_batch_info *info, const void *frame, size_t len,
    struct tw_store_pos *pos)
{
	int r;

	r = tw_store_append(log->store, ALERT_LOG_AGENT, seq, info, frame, len,
	    pos);
	if (r == 0)
		alert_log_wake(log);
	return r;
}

uint64_t
alert_log_generation(struct alert_log *log)
{
	uint64_t g;

	pthread_mutex_lock(&log->mu);
	g = log->gen;
	pthread_mutex_unlock(&log->mu);
	return g;
}

uint64_t
alert_log_wait(struct alert_log *log, uint64_t seen, int timeout_ms)
{
	struct timespec ts;
	uint64_t g;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&log->mu);
	while (log->gen == seen &&
	    pthread_cond_timedwait(&log->cv, &log->mu, &ts) == 0)
		;
	g = log->gen;
	pthread_mutex_unlock(&log->mu);
	return g;
}

/* --- records --- */

int
alert_log_encode_alert(struct tw_buf *out, const char *json, size_t jsonlen,
    const char *alert_id, const char *rule, const char *severity,
    int64_t time)
{
	struct tw_mpw w;

	tw_mpw_init(&w, out);
	tw_mpw_map(&w, time != 0 ? 6 : 5);
	tw_mpw_cstr(&w, "type");
	tw_mpw_cstr(&w, "alert");
	if (time != 0) {
		tw_mpw_cstr(&w, "time");
		tw_mpw_timestamp(&w, time);
	}
	tw_mpw_cstr(&w, "alert_id");
	tw_mpw_cstr(&w, alert_id);
	tw_mpw_cstr(&w, "rule");
	tw_mpw_cstr(&w, rule);
	tw_mpw_cstr(&w, "severity");
	tw_mpw_cstr(&w, severity != NULL ? severity : "");
	tw_mpw_cstr(&w, "alert");
	tw_mpw_str(&w, json, jsonlen);
	return w.err;
}

int
alert_log_encode_cursor(struct tw_buf *out, const struct alert_log_cursor *c)
{
	struct tw_mpw w;

	tw_mpw_init(&w, out);
	tw_mpw_map(&w, 6);
	tw_mpw_cstr(&w, "type");
	tw_mpw_cstr(&w, "cursor");
	tw_mpw_cstr(&w, "segment");
	tw_mpw_uint(&w, c->next.segment);
	tw_mpw_cstr(&w, "offset");
	tw_mpw_uint(&w, c->next.offset);
	tw_mpw_cstr(&w, "index");
	tw_mpw_uint(&w, c->index);
	tw_mpw_cstr(&w, "replay_segment");
	tw_mpw_uint(&w, c->replay.segment);
	tw_mpw_cstr(&w, "replay_offset");
	tw_mpw_uint(&w, c->replay.offset);
	return w.err;
}

/* Is o the string key? */
static bool
key_is(const struct tw_mp_obj *k, const char *s)
{
	return k->type == TW_MP_STR && tw_mp_str_eq(k, s);
}

static int
get_str(const struct tw_mp_obj *v, struct alert_span *s)
{
	if (v->type != TW_MP_STR)
		return TW_EPARSE;
	s->p = v->v.s.p;
	s->n = v->v.s.len;
	return 0;
}

static int
get_u64(const struct tw_mp_obj *v, uint64_t *u)
{
	if (v->type != TW_MP_UINT)
		return TW_EPARSE;
	*u = v->v.u;
	return 0;
}

int
alert_log_decode(const uint8_t *rec, size_t len, struct alert_rec *a,
    struct alert_log_cursor *c)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_mp_obj m, k, v;
	struct alert_span type = { NULL, 0 };
	struct alert_rec ar;
	struct alert_log_cursor cur;
	int rc;

	memset(&ar, 0, sizeof(ar));
	memset(&cur, 0, sizeof(cur));
	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, rec, len);
	if ((rc = tw_mp_read(&r, &m)) != 0)
		return rc;
	if (m.type != TW_MP_MAP)
		return TW_EMSGPACK;
	for (uint32_t i = 0; i < m.v.count; i++) {
		if ((rc = tw_mp_read(&r, &k)) != 0)
			return rc;
		if (k.type != TW_MP_STR)
			return TW_EPARSE;
		if (key_is(&k, "type") || key_is(&k, "alert_id") ||
		    key_is(&k, "rule") || key_is(&k, "severity") ||
		    key_is(&k, "alert") || key_is(&k, "time") ||
		    key_is(&k, "segment") || key_is(&k, "offset") ||
		    key_is(&k, "index") || key_is(&k, "replay_segment") ||
		    key_is(&k, "replay_offset")) {
			if ((rc = tw_mp_read(&r, &v)) != 0)
				return rc;
		} else {
			if ((rc = tw_mp_skip(&r, &lim)) != 0)
				return rc;
			continue;
		}
		if (key_is(&k, "type"))
			rc = get_str(&v, &type);
		else if (key_is(&k, "alert_id"))
			rc = get_str(&v, &ar.id);
		else if (key_is(&k, "rule"))
			rc = get_str(&v, &ar.rule);
		else if (key_is(&k, "severity"))
			rc = get_str(&v, &ar.severity);
		else if (key_is(&k, "alert"))
			rc = get_str(&v, &ar.json);
		else if (key_is(&k, "time")) {
			if (v.type == TW_MP_EXT)
				rc = tw_mp_timestamp(&v, &ar.time);
			else if (v.type == TW_MP_UINT)
				ar.time = (int64_t)v.v.u;
			else if (v.type == TW_MP_INT)
				ar.time = v.v.i;
		} else if (key_is(&k, "segment"))
			rc = get_u64(&v, &cur.next.segment);
		else if (key_is(&k, "offset"))
			rc = get_u64(&v, &cur.next.offset);
		else if (key_is(&k, "index"))
			rc = get_u64(&v, &cur.index);
		else if (key_is(&k, "replay_segment"))
			rc = get_u64(&v, &cur.replay.segment);
		else if (key_is(&k, "replay_offset"))
			rc = get_u64(&v, &cur.replay.offset);
		if (rc != 0)
			return TW_EPARSE;
	}
	if (type.p == NULL)
		return TW_EPARSE;
	if (type.n == 5 && memcmp(type.p, "alert", 5) == 0) {
		if (ar.id.p == NULL || ar.json.p == NULL)
			return TW_EPARSE;
		if (a != NULL)
			*a = ar;
		return ALERT_LOG_ALERT;
	}
	if (type.n == 6 && memcmp(type.p, "cursor", 6) == 0) {
		if (c != NULL)
			*c = cur;
		return ALERT_LOG_CURSOR;
	}
	return ALERT_LOG_OTHER;
}

void
alert_log_read_limits(struct tw_batch_limits *lim)
{
	/* Blocks were validated (or built) when written: only bound memory. */
	tw_batch_limits_default(lim);
	lim->compressed_max = TW_STORE_BODY_MAX;
	lim->decompressed_max = (size_t)1 << 31;
	lim->ratio_max = 0;
	lim->records_max = UINT32_MAX;
	lim->record_max = (size_t)1 << 31;
	lim->mp.depth_max = 64;
	lim->mp.map_max = 1u << 24;
	lim->mp.array_max = 1u << 24;
}

/* --- follower --- */

struct alert_follower {
	struct tw_store_reader *r;
	struct tw_batch_dec *dec;
	struct tw_buf recs;
	struct tw_batch_limits lim;
	bool have;		  /* a block is being walked */
	struct tw_store_pos bpos; /* its position */
	struct tw_store_pos bnext;
	size_t off;		  /* next record in recs */
	uint64_t idx;		  /* records of the block consumed */
	uint64_t skip;		  /* records to pass in the first block */
	struct alert_pos after;
	char who[64];
};

struct alert_follower *
alert_follower_new(const struct alert_log *log, const struct alert_pos *from,
    const char *who, char **why)
{
	struct alert_follower *f;
	char seg[24];
	int r;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	snprintf(f->who, sizeof(f->who), "%s", who);
	tw_buf_init(&f->recs, (size_t)1 << 31);
	alert_log_read_limits(&f->lim);
	if ((f->dec = tw_batch_dec_new()) == NULL ||
	    (f->r = tw_store_reader_open(log->dir, why)) == NULL) {
		alert_follower_free(f);
		return NULL;
	}
	if (from == NULL)
		return f;
	f->after = *from;
	r = tw_store_reader_seek_pos(f->r,
	    &(struct tw_store_pos){ from->segment, from->offset });
	snprintf(seg, sizeof(seg), "%" PRIu64, from->segment);
	if (r == 0) {
		f->skip = from->skip;
	} else if (r == TW_EINVAL) {
		tw_warn("sink", "cursor is not at a block of the alert log "
		    "(its tail was cut after a crash); delivering its segment "
		    "again", "sink", f->who, "segment", seg);
		f->after.offset = 0;
		f->after.skip = 0;
		if (tw_store_reader_seek_pos(f->r,
		    &(struct tw_store_pos){ from->segment, 0 }) != 0)
			tw_store_reader_seek_time(f->r, INT64_MIN, INT64_MAX);
	} else if (r == TW_ENOTFOUND) {
		tw_warn("sink", "the alert log segment of the cursor is gone "
		    "(retention); continuing at the first retained block",
		    "sink", f->who, "segment", seg);
		tw_store_reader_seek_time(f->r, INT64_MIN, INT64_MAX);
		memset(&f->after, 0, sizeof(f->after));
	} else {
		if (why != NULL && *why == NULL &&
		    asprintf(why, "%s", tw_store_reader_error(f->r)) < 0)
			*why = NULL;
		alert_follower_free(f);
		return NULL;
	}
	return f;
}

/* Consume the non-alert records right after the current one. */
static void
pass_non_alerts(struct alert_follower *f)
{
	while (f->off < f->recs.len) {
		size_t off = f->off;
		const uint8_t *rec;
		size_t len;

		if (tw_batch_next(&f->recs, &off, &rec, &len) != 1)
			return;
		if (alert_log_decode(rec, len, NULL, NULL) == ALERT_LOG_ALERT)
			return;
		f->off = off;
		f->idx++;
	}
}

int
alert_follower_next(struct alert_follower *f, struct alert_rec *a,
    struct alert_pos *at)
{
	struct tw_store_block b;
	int r;

	for (;;) {
		while (f->have && f->off < f->recs.len) {
			const uint8_t *rec;
			size_t len;

			if (tw_batch_next(&f->recs, &f->off, &rec, &len) != 1) {
				f->off = f->recs.len;
				break;
			}
			f->idx++;
			if (f->idx <= f->skip)
				continue;
			if (alert_log_decode(rec, len, a, NULL) !=
			    ALERT_LOG_ALERT)
				continue;
			at->segment = f->bpos.segment;
			at->offset = f->bpos.offset;
			at->skip = f->idx - 1;
			pass_non_alerts(f);
			if (f->off >= f->recs.len) {
				f->after.segment = f->bnext.segment;
				f->after.offset = f->bnext.offset;
				f->after.skip = 0;
			} else {
				f->after.segment = f->bpos.segment;
				f->after.offset = f->bpos.offset;
				f->after.skip = f->idx;
			}
			return 1;
		}
		if (f->have) {
			f->have = false;
			f->skip = 0;
			f->after.segment = f->bnext.segment;
			f->after.offset = f->bnext.offset;
			f->after.skip = 0;
		}
		if ((r = tw_store_reader_next(f->r, &b)) == 0)
			return 0;
		if (r == TW_EPARSE) {
			tw_error("sink", "a damaged alert log block was skipped",
			    "sink", f->who, "error", tw_store_reader_error(f->r));
			return r;
		}
		if (r < 0)
			return r;
		r = tw_batch_decode(f->dec, b.body, b.body_len, &f->lim,
		    b.records, &f->recs, NULL);
		if (r != 0) {
			tw_error("sink", "an alert log block does not decode; "
			    "skipped", "sink", f->who, "error", tw_strerror(r));
			f->skip = 0;
			f->after.segment = b.next.segment;
			f->after.offset = b.next.offset;
			f->after.skip = 0;
			return TW_EPARSE;
		}
		f->have = true;
		f->bpos = b.pos;
		f->bnext = b.next;
		f->off = 0;
		f->idx = 0;
	}
}

void
alert_follower_pos(const struct alert_follower *f, struct alert_pos *after)
{
	*after = f->after;
}

void
alert_follower_free(struct alert_follower *f)
{
	if (f == NULL)
		return;
	tw_store_reader_free(f->r);
	tw_batch_dec_free(f->dec);
	tw_buf_cleanup(&f->recs);
	free(f);
}

/* detect_stage.c: the detect stage: follows the store, evaluates the rules
 * on every record, appends the alerts to the alert log (DESIGN.md §5,
 * docs/alerting.md). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "alert.h"
#include "alert_log.h"
#include "batch.h"
#include "cursor.h"
#include "detect_stage.h"
#include "engine.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "mp.h"
#include "store.h"
#include "store_reader.h"
#include "timefmt.h"

#define CURSOR_FILE "detect"
#define CURSOR_FILE_INTERVAL_NS ((int64_t)1000000000)
#define COMMIT_RAW_MAX ((size_t)4 << 20)  /* alert bytes in one block */
#define ENC_SOFT_MAX ((size_t)32 << 20)	  /* ... even within one record block */
#define ENC_MAX ((size_t)64 << 20)	  /* the encoder's ceiling */
#define METRICS_INTERVAL_NS ((int64_t)250000000)
#define RETRY_NS ((int64_t)1000000000)	  /* after an alert log error */
#define RELOAD_ERRORS_MAX 20		  /* in a reload-failed alert */

/* A run of consecutive blocks: what a restart may have to replay. */
struct run {
	struct tw_store_pos pos; /* of its first block */
	int64_t time_max;	 /* the newest record time in it */
	uint64_t bytes;
};

/* An alert of the stage's own, waiting for the detect thread. */
struct sys_alert {
	char *json;
	char id[TW_DIGEST_HEX + 1];
	int64_t time;
	struct sys_alert *next;
};

/* Per rule: its metric series and what was already added to them. */
struct rule_metrics {
	struct tw_counter *matches, *alerts, *regex_limits, *suppressed,
	    *evicted;
	uint64_t prev_matches, prev_limits, prev_suppressed, prev_evicted;
};

struct detect_stage {
	/* settings */
	char *store_dir;
	char *cursor_dir;
	int64_t poll_ns, linger_ns, replay_ns, drain_ns;
	uint64_t alerts_max;
	uint64_t replay_max_bytes, run_bytes;
	struct tw_store *store;
	struct alert_log *log;
	struct tw_metrics *m;

	/* owned by the detect thread (by start-up before it runs) */
	struct tw_ruleset *rs;
	struct tw_state *st;
	struct tw_engine_ctx *ctx;
	struct rule_metrics *rm;
	struct tw_store_reader *r;
	struct tw_batch_dec *dec;
	struct tw_buf recs;
	struct tw_batch_limits lim;
	struct tw_batch_enc *enc;
	struct tw_buf one;	/* one alert record being encoded */
	struct tw_buf frame;	/* a block built, not yet appended */
	struct tw_batch_info frame_info;
	bool frame_ready;
	struct alert_log_cursor frame_cursor;
	bool frame_has_cursor;
	uint64_t seq;		/* of the last block appended */
	int64_t first_pending_ns; /* when the oldest pending alert came */
	bool cur_valid;		/* something was evaluated (or recovered) */
	struct alert_log_cursor cur;	   /* next block to evaluate */
	bool committed_valid;
	struct alert_log_cursor committed; /* in the alert log */
	struct alert_log_cursor filed;	   /* in the cursor file */
	bool filed_valid;
	int64_t filed_ns;
	struct tw_store_pos alert_hint;	   /* the last block appended */
	bool replaying;
	struct tw_store_pos replay_until;
	struct run *runs;
	size_t runs_head, runs_n, runs_cap;
	uint64_t runs_bytes;
	int64_t watermark;	/* newest record time seen */
	int64_t metrics_ns;
	uint64_t prev_records, prev_candidates;
	int64_t now_ns;		/* detected_at of the block being evaluated */

	/* shared, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* CLOCK_MONOTONIC */
	bool stopping;
	int64_t deadline_ns;
	struct tw_ruleset *next_rs;
	struct sys_alert *sys_head, **sys_tail;

	/* the reload (main) thread's */
	struct tw_ruleset *prepared;
	char *rule_paths_text;

	pthread_t thread;
	bool running;
	_Atomic uint64_t next_index; /* for the lag gauge */

	struct tw_counter *c_blocks, *c_records, *c_replayed, *c_candidates,
	    *c_summaries, *c_errors_decode, *c_errors_eval, *c_errors_log,
	    *c_errors_read, *c_damaged, *c_commits, *c_reload_ok,
	    *c_reload_failed;
	struct tw_gauge *g_reload_ok, *g_reload_time, *g_rules;
};

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool
pos_before(const struct tw_store_pos *a, const struct tw_store_pos *b)
{
	return a->segment < b->segment ||
	    (a->segment == b->segment && a->offset < b->offset);
}

static bool
pos_eq(const struct tw_store_pos *a, const struct tw_store_pos *b)
{
	return a->segment == b->segment && a->offset == b->offset;
}

static void
set_why(char **why, const char *fmt, ...) TW_PRINTF(2, 3);

static void
set_why(char **why, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || *why != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(why, fmt, ap) < 0)
		*why = NULL;
	va_end(ap);
}

/* --- metrics --- */

static void
rule_labels(struct tw_buf *b, const struct tw_rule *r, bool severity)
{
	tw_buf_reset(b);
	if (tw_metrics_label_add(b, "rule", r->id) != 0 ||
	    (severity && tw_metrics_label_add(b, "severity", r->severity) !=
	    0))
		tw_buf_reset(b);
}

/* Series for every rule of rs (get-or-create: kept across reloads). */
static struct rule_metrics *
rule_metrics_new(struct detect_stage *ds, const struct tw_ruleset *rs)
{
	size_t n = rs != NULL ? tw_ruleset_count(rs) : 0;
	struct rule_metrics *rm;
	struct tw_buf l;

	if ((rm = calloc(n + 1, sizeof(*rm))) == NULL)
		return NULL;
	tw_buf_init(&l, 4096);
	for (size_t i = 0; i < n; i++) {
		const struct tw_rule *r = tw_ruleset_rule(rs, i);

		rule_labels(&l, r, true);
		rm[i].matches = tw_metrics_counter(ds->m,
		    "trawl_collector_rule_matches_total",
		    "Records whose rule condition (with exceptions) matched, "
		    "by rule.", l.data);
		rm[i].alerts = tw_metrics_counter(ds->m,
		    "trawl_collector_alerts_total",
		    "Alerts the rules raised (after thresholds and throttles), "
		    "by rule.", l.data);
		rule_labels(&l, r, false);
		rm[i].regex_limits = tw_metrics_counter(ds->m,
		    "trawl_collector_regex_limit_total",
		    "Regex evaluations that hit the match or depth limit "
		    "(counted as no match), by rule.", l.data);
		rm[i].suppressed = tw_metrics_counter(ds->m,
		    "trawl_collector_alerts_suppressed_total",
		    "Alerts a throttle suppressed, by rule.", l.data);
		rm[i].evicted = tw_metrics_counter(ds->m,
		    "trawl_collector_threshold_evicted_total",
		    "Threshold groups and throttle keys evicted at their bound, "
		    "by rule.", l.data);
	}
	tw_buf_cleanup(&l);
	return rm;
}

/* Add what the engine counted since the last call. Detect thread. */
static void
metrics_sync(struct detect_stage *ds)
{
	uint64_t records, candidates;
	size_t n;

	if (ds->rs == NULL)
		return;
	n = tw_ruleset_count(ds->rs);
	for (size_t i = 0; i < n; i++) {
		struct rule_metrics *rm = &ds->rm[i];
		uint64_t matches, limits, sup, ev;

		tw_engine_ctx_rule_stats(ds->ctx, i, &matches, &limits);
		sup = tw_state_suppressed(ds->st, i);
		ev = tw_state_evicted(ds->st, i);
		if (matches > rm->prev_matches)
			tw_counter_add(rm->matches, matches - rm->prev_matches);
		if (limits > rm->prev_limits)
			tw_counter_add(rm->regex_limits,
			    limits - rm->prev_limits);
		if (sup > rm->prev_suppressed)
			tw_counter_add(rm->suppressed,
			    sup - rm->prev_suppressed);
		if (ev > rm->prev_evicted)
			tw_counter_add(rm->evicted, ev - rm->prev_evicted);
		rm->prev_matches = matches;
		rm->prev_limits = limits;
		rm->prev_suppressed = sup;
		rm->prev_evicted = ev;
	}
	tw_engine_ctx_stats(ds->ctx, &records, &candidates);
	if (candidates > ds->prev_candidates)
		tw_counter_add(ds->c_candidates,
		    candidates - ds->prev_candidates);
	ds->prev_records = records;
	ds->prev_candidates = candidates;
}

/* Forget what the engine counted so far (replayed records). */
static void
metrics_rebase(struct detect_stage *ds)
{
	if (ds->rs == NULL)
		return;
	for (size_t i = 0; i < tw_ruleset_count(ds->rs); i++) {
		struct rule_metrics *rm = &ds->rm[i];

		tw_engine_ctx_rule_stats(ds->ctx, i, &rm->prev_matches,
		    &rm->prev_limits);
		rm->prev_suppressed = tw_state_suppressed(ds->st, i);
		rm->prev_evicted = tw_state_evicted(ds->st, i);
	}
	tw_engine_ctx_stats(ds->ctx, &ds->prev_records, &ds->prev_candidates);
}

static double
lag_gauge(void *arg)
{
	struct detect_stage *ds = arg;
	struct tw_store_stats st;
	uint64_t at = atomic_load(&ds->next_index);

	tw_store_stats(ds->store, &st);
	return st.next_index > at ? (double)(st.next_index - at) : 0;
}

static struct tw_counter *
counter(struct detect_stage *ds, const char *name, const char *help,
    const char *labels)
{
	return tw_metrics_counter(ds->m, name, help, labels);
}

static void
register_metrics(struct detect_stage *ds)
{
	static const char errs[] = "trawl_collector_detect_errors_total";
	static const char errs_help[] = "Detect stage errors by kind.";
	static const char rel[] = "trawl_collector_rules_reloads_total";
	static const char rel_help[] = "Rule reloads by result.";

	ds->c_blocks = counter(ds, "trawl_collector_detect_blocks_total",
	    "Store blocks the detect stage evaluated.", NULL);
	ds->c_records = counter(ds, "trawl_collector_detect_records_total",
	    "Records evaluated against the rules.", NULL);
	ds->c_replayed = counter(ds,
	    "trawl_collector_detect_replayed_records_total",
	    "Records replayed at start-up to rebuild threshold and throttle "
	    "state (no alerts).", NULL);
	ds->c_candidates = counter(ds,
	    "trawl_collector_rule_evaluations_total",
	    "Rule conditions evaluated (candidates left by the index).", NULL);
	ds->c_summaries = counter(ds,
	    "trawl_collector_throttle_summaries_total",
	    "Throttle windows that ended having suppressed alerts.", NULL);
	ds->c_commits = counter(ds, "trawl_collector_alert_log_blocks_total",
	    "Blocks appended to the alert log.", NULL);
	ds->c_errors_decode = counter(ds, errs, errs_help,
	    "kind=\"decode\"");
	ds->c_errors_eval = counter(ds, errs, errs_help, "kind=\"eval\"");
	ds->c_errors_log = counter(ds, errs, errs_help, "kind=\"alert_log\"");
	ds->c_errors_read = counter(ds, errs, errs_help, "kind=\"read\"");
	ds->c_damaged = counter(ds, errs, errs_help, "kind=\"damaged_block\"");
	ds->c_reload_ok = counter(ds, rel, rel_help, "result=\"ok\"");
	ds->c_reload_failed = counter(ds, rel, rel_help, "result=\"failed\"");
	ds->g_reload_ok = tw_metrics_gauge(ds->m,
	    "trawl_collector_rules_last_reload_success",
	    "1 when the last rule load or reload succeeded, else 0.", NULL);
	ds->g_reload_time = tw_metrics_gauge(ds->m,
	    "trawl_collector_rules_last_reload_timestamp_seconds",
	    "When the rules were last loaded or a reload was tried.", NULL);
	ds->g_rules = tw_metrics_gauge(ds->m, "trawl_collector_rules_loaded",
	    "Rules in the running rule set.", NULL);
	tw_ignore(tw_metrics_gauge_fn(ds->m, "trawl_collector_detect_lag_blocks",
	    "Store blocks not yet evaluated by the detect stage.", NULL,
	    lag_gauge, ds)); /* a failure only loses the metric */
}

/* rule-set hash: SHA-256 over every rule's id and definition digest. */
static void
ruleset_info(struct detect_stage *ds, const struct tw_ruleset *rs)
{
	unsigned char md[32];
	char hex[17], labels[64];
	EVP_MD_CTX *c;
	size_t n = rs != NULL ? tw_ruleset_count(rs) : 0;

	if ((c = EVP_MD_CTX_new()) == NULL)
		return;
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1) {
		for (size_t i = 0; i < n; i++) {
			const struct tw_rule *r = tw_ruleset_rule(rs, i);

			EVP_DigestUpdate(c, r->id, strlen(r->id) + 1);
			EVP_DigestUpdate(c, r->digest, sizeof(r->digest));
		}
		if (EVP_DigestFinal_ex(c, md, NULL) == 1) {
			for (int i = 0; i < 8; i++)
				snprintf(hex + 2 * i, 3, "%02x", md[i]);
			snprintf(labels, sizeof(labels), "hash=\"%s\"", hex);
			tw_ignore(tw_metrics_info(ds->m,
			    "trawl_collector_ruleset_info",
			    "Hash of the running rule set.", labels));
		}
	}
	EVP_MD_CTX_free(c);
	tw_gauge_set(ds->g_rules, (double)n);
}

/* --- rules --- */

/* Load the rules of conf (none is an empty rule set): 0 with *out. */
static int
rules_load(const struct collector_conf *conf, struct tw_ruleset **out,
    struct tw_conf_diag *d)
{
	struct tw_conf_diag w;
	unsigned flags = conf->collector.detect.sigma_skip ?
	    TW_LOAD_SIGMA_SKIP : 0;
	int r;

	*out = NULL;
	tw_conf_diag_init(&w);
	r = tw_ruleset_load((const char *const *)conf->rules.v, conf->rules.n,
	    flags, out, d, &w);
	for (size_t i = 0; i < tw_conf_diag_count(&w); i++)
		tw_warn("detect", "rule not loaded", "warning",
		    tw_conf_diag_msg(&w, i));
	tw_conf_diag_cleanup(&w);
	return r;
}

/* Does any rule keep threshold or throttle state? */
static bool
ruleset_stateful(const struct tw_ruleset *rs)
{
	for (size_t i = 0; rs != NULL && i < tw_ruleset_count(rs); i++) {
		const struct tw_rule *r = tw_ruleset_rule(rs, i);

		if (r->threshold || r->throttle)
			return true;
	}
	return false;
}

/* All of d's messages, one a line (malloc'd). */
static char *
diag_text(const struct tw_conf_diag *d, int r)
{
	struct tw_buf b;

	tw_buf_init(&b, 1 << 20);
	for (size_t i = 0; i < tw_conf_diag_count(d); i++)
		if (tw_buf_addf(&b, "%s%s", i > 0 ? "\n" : "",
		    tw_conf_diag_msg(d, i)) != 0)
			break;
	if (b.len == 0)
		tw_ignore(tw_buf_adds(&b, tw_strerror(r))); /* best effort */
	return tw_buf_take(&b, NULL);
}

/* --- the alert log --- */

static int
on_alert(void *arg, const struct tw_alert *a);

/* Build the pending alerts (and the cursor) into one frame. */
static int
build_frame(struct detect_stage *ds)
{
	int r;

	tw_buf_reset(&ds->one);
	ds->frame_has_cursor = ds->cur_valid;
	if (ds->cur_valid) {
		if ((r = alert_log_encode_cursor(&ds->one, &ds->cur)) != 0 ||
		    (r = tw_batch_enc_add(ds->enc, ds->one.data,
		    ds->one.len)) != 0)
			return r;
		ds->frame_cursor = ds->cur;
	}
	tw_buf_reset(&ds->frame);
	if ((r = tw_batch_enc_finish(ds->enc, &ds->frame,
	    &ds->frame_info)) != 0)
		return r;
	ds->frame_ready = true;
	return 0;
}

static bool
pending(const struct detect_stage *ds)
{
	return ds->frame_ready || tw_batch_enc_records(ds->enc) > 0;
}

/*
 * Make the pending alerts durable in one alert log block that ends with
 * the cursor. 0, or the error (the block is kept and tried again).
 */
static int
commit(struct detect_stage *ds)
{
	struct tw_store_pos pos;
	char seq[24];
	int r;

	if (!pending(ds))
		return 0;
	if (!ds->frame_ready && (r = build_frame(ds)) != 0) {
		/* Out of memory: drop nothing; the next try rebuilds. */
		tw_batch_enc_reset(ds->enc);
		tw_error("detect", "cannot build an alert log block; its alerts "
		    "are lost", "error", tw_strerror(r));
		tw_counter_inc(ds->c_errors_log);
		return r;
	}
	r = alert_log_append(ds->log, ds->seq + 1, &ds->frame_info,
	    ds->frame.data, ds->frame.len, &pos);
	if (r == TW_EEXISTS) {
		/* Cannot happen unless the log was edited: take the next. */
		ds->seq++;
		r = alert_log_append(ds->log, ds->seq + 1, &ds->frame_info,
		    ds->frame.data, ds->frame.len, &pos);
	}
	if (r != 0) {
		snprintf(seq, sizeof(seq), "%" PRIu64, ds->seq + 1);
		tw_error("detect", "cannot append to the alert log; retrying",
		    "seq", seq, "error", r == TW_EIO ? strerror(errno) :
		    tw_strerror(r));
		tw_counter_inc(ds->c_errors_log);
		return r;
	}
	ds->seq++;
	ds->frame_ready = false;
	ds->alert_hint = pos;
	if (ds->frame_has_cursor) {
		ds->committed = ds->frame_cursor;
		ds->committed_valid = true;
	}
	tw_counter_inc(ds->c_commits);
	return 0;
}

/* Commit, retrying until it works or the stage must stop. */
static int
commit_hard(struct detect_stage *ds)
{
	int r;

	while ((r = commit(ds)) != 0) {
		struct timespec ts = { 0, 200 * 1000000 };
		bool stop;

		pthread_mutex_lock(&ds->mu);
		stop = ds->stopping && mono_ns() >= ds->deadline_ns;
		pthread_mutex_unlock(&ds->mu);
		if (stop)
			return r;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* Save the cursor file when it would say something new. */
static void
save_cursor_file(struct detect_stage *ds, bool force)
{
	const struct alert_log_cursor *c;
	struct cursor_field f[8];
	int64_t now = mono_ns();

	/* With alerts pending, only the committed cursor is true. */
	if (pending(ds)) {
		if (!ds->committed_valid)
			return;
		c = &ds->committed;
	} else {
		if (!ds->cur_valid)
			return;
		c = &ds->cur;
	}
	if (ds->filed_valid && c->index == ds->filed.index &&
	    pos_eq(&c->next, &ds->filed.next) &&
	    pos_eq(&c->replay, &ds->filed.replay))
		return;
	if (!force && now - ds->filed_ns < CURSOR_FILE_INTERVAL_NS)
		return;
	f[0] = (struct cursor_field){ "segment", c->next.segment };
	f[1] = (struct cursor_field){ "offset", c->next.offset };
	f[2] = (struct cursor_field){ "index", c->index };
	f[3] = (struct cursor_field){ "replay_segment", c->replay.segment };
	f[4] = (struct cursor_field){ "replay_offset", c->replay.offset };
	f[5] = (struct cursor_field){ "alert_seq", ds->seq };
	f[6] = (struct cursor_field){ "alert_segment", ds->alert_hint.segment };
	f[7] = (struct cursor_field){ "alert_offset", ds->alert_hint.offset };
	ds->filed_ns = now;
	if (cursor_save(ds->cursor_dir, CURSOR_FILE, f, 8) != 0) {
		tw_error("detect", "cannot write the cursor file", "dir",
		    ds->cursor_dir, "error", strerror(errno));
		tw_counter_inc(ds->c_errors_log);
		return;
	}
	ds->filed = *c;
	ds->filed_valid = true;
}

/* --- replay bookkeeping --- */

/* Where a restart would have to start replaying to rebuild the state. */
static void
replay_pos(const struct detect_stage *ds, struct tw_store_pos *pos)
{
	*pos = ds->runs_n > 0 ? ds->runs[ds->runs_head].pos : ds->cur.next;
}

/*
 * Track the block in runs of about run_bytes, dropping runs from the
 * front once all their records are older than the watermark minus the
 * replay window, or to stay within replay_max_bytes.
 */
static void
runs_add(struct detect_stage *ds, const struct tw_store_block *b)
{
	struct run *back;

	if (ds->replay_ns <= 0)
		return;
	if (b->time_max != INT64_MIN && b->time_max > ds->watermark)
		ds->watermark = b->time_max;
	back = ds->runs_n > 0 ?
	    &ds->runs[ds->runs_head + ds->runs_n - 1] : NULL;
	if (back != NULL && back->bytes < ds->run_bytes) {
		if (b->time_max > back->time_max)
			back->time_max = b->time_max;
		back->bytes += b->body_len;
	} else {
		if (ds->runs_head + ds->runs_n == ds->runs_cap) {
			if (ds->runs_head > 0) {
				memmove(ds->runs, ds->runs + ds->runs_head,
				    ds->runs_n * sizeof(*ds->runs));
				ds->runs_head = 0;
			} else {
				size_t cap = ds->runs_cap ? ds->runs_cap * 2 :
				    64;
				struct run *nr = realloc(ds->runs,
				    cap * sizeof(*nr));

				if (nr == NULL)
					return; /* replays less; still correct
						 * up to the documented bound */
				ds->runs = nr;
				ds->runs_cap = cap;
			}
		}
		ds->runs[ds->runs_head + ds->runs_n++] = (struct run){
			b->pos, b->time_max, b->body_len };
	}
	ds->runs_bytes += b->body_len;
	while (ds->runs_n > 0) {
		struct run *f = &ds->runs[ds->runs_head];
		bool old = ds->watermark != INT64_MIN &&
		    (f->time_max == INT64_MIN ||
		    f->time_max < ds->watermark - ds->replay_ns);

		if (!old && ds->runs_bytes <= ds->replay_max_bytes)
			break;
		ds->runs_bytes -= f->bytes;
		ds->runs_head++;
		ds->runs_n--;
	}
}

/* --- evaluation --- */

static int
on_alert(void *arg, const struct tw_alert *a)
{
	struct detect_stage *ds = arg;
	int r;

	tw_buf_reset(&ds->one);
	if ((r = alert_log_encode_alert(&ds->one, a->json, a->jsonlen,
	    a->alert_id, a->r->id, a->r->severity, a->time)) != 0)
		return r;
	if (tw_batch_enc_records(ds->enc) > 0 &&
	    tw_batch_enc_raw_len(ds->enc) + ds->one.len > ENC_SOFT_MAX) {
		/*
		 * One block's alerts fill a whole alert log block: commit
		 * them with the cursor still before this block (a crash
		 * re-evaluates it, repeating these alert ids once).
		 */
		if ((r = commit_hard(ds)) != 0)
			return r;
	}
	if ((r = tw_batch_enc_add(ds->enc, ds->one.data, ds->one.len)) != 0)
		return r;
	if (tw_batch_enc_records(ds->enc) == 1)
		ds->first_pending_ns = mono_ns();
	tw_counter_inc(ds->rm[a->rule].alerts);
	return 0;
}

static int
discard_alert(void *arg, const struct tw_alert *a)
{
	(void)arg;
	(void)a;
	return 0;
}

static void
on_summary(void *arg, const struct tw_throttle_summary *sum)
{
	struct detect_stage *ds = arg;
	char n[24];

	snprintf(n, sizeof(n), "%" PRIu64, sum->suppressed);
	tw_debug("detect", "throttle window ended", "rule",
	    tw_ruleset_rule(ds->rs, sum->rule)->id, "suppressed", n);
	tw_counter_inc(ds->c_summaries);
}

/* Does the last match include a rule with threshold or throttle state? */
static bool
matched_stateful(const struct detect_stage *ds)
{
	const size_t *m;
	size_t n = tw_engine_matched(ds->ctx, &m);

	for (size_t i = 0; i < n; i++) {
		const struct tw_rule *r = tw_ruleset_rule(ds->rs, m[i]);

		if (r->threshold || r->throttle)
			return true;
	}
	return false;
}

/* Evaluate every record of block b. */
static void
evaluate(struct detect_stage *ds, const struct tw_store_block *b)
{
	const uint8_t *rec;
	size_t off = 0, len, n = 0;
	int r;

	r = tw_batch_decode(ds->dec, b->body, b->body_len, &ds->lim,
	    b->records, &ds->recs, NULL);
	if (r != 0) {
		char idx[24];

		snprintf(idx, sizeof(idx), "%" PRIu64, b->index);
		tw_error("detect", "a store block does not decode; skipped",
		    "block", idx, "error", tw_strerror(r));
		tw_counter_inc(ds->c_errors_decode);
		return;
	}
	ds->now_ns = tw_time_now_ns();
	while (tw_batch_next(&ds->recs, &off, &rec, &len) == 1) {
		n++;
		if (ds->rs == NULL)
			continue;
		if (ds->replaying) {
			r = tw_engine_match(ds->rs, ds->ctx, rec, len);
			if (r == 0 && matched_stateful(ds))
				r = tw_engine_fire(ds->rs, ds->ctx, ds->st, rec,
				    len, ds->now_ns, discard_alert, NULL, NULL,
				    NULL);
		} else
			r = tw_engine_eval(ds->rs, ds->ctx, ds->st, rec, len,
			    ds->now_ns, on_alert, ds, on_summary, ds);
		if (r != 0) {
			tw_debug("detect", "a record could not be evaluated",
			    "error", tw_strerror(r));
			tw_counter_inc(ds->c_errors_eval);
		}
	}
	tw_counter_add(ds->replaying ? ds->c_replayed : ds->c_records, n);
}

static void
end_replay(struct detect_stage *ds)
{
	char n[24];

	ds->replaying = false;
	replay_pos(ds, &ds->cur.replay);
	metrics_rebase(ds);
	snprintf(n, sizeof(n), "%" PRIu64, tw_counter_get(ds->c_replayed));
	tw_info("detect", "rebuilt threshold and throttle state", "records", n);
}

/* Swap in a rule set the reload prepared. Detect thread. */
static void
take_rules(struct detect_stage *ds)
{
	struct tw_ruleset *rs;
	struct tw_state *st = NULL;
	struct tw_engine_ctx *ctx = NULL;
	struct rule_metrics *rm = NULL;

	pthread_mutex_lock(&ds->mu);
	rs = ds->next_rs;
	ds->next_rs = NULL;
	pthread_mutex_unlock(&ds->mu);
	if (rs == NULL)
		return;
	if ((st = tw_state_new(tw_ruleset_count(rs))) == NULL ||
	    (ctx = tw_engine_ctx_new()) == NULL ||
	    (rm = rule_metrics_new(ds, rs)) == NULL) {
		tw_error("detect", "out of memory swapping the rule set; the "
		    "running one stays");
		tw_state_free(st);
		tw_engine_ctx_free(ctx);
		tw_ruleset_free(rs);
		return;
	}
	metrics_sync(ds);
	if (ds->rs != NULL)
		tw_engine_carry_state(ds->rs, ds->st, rs, st);
	tw_state_free(ds->st);
	tw_engine_ctx_free(ds->ctx);
	tw_ruleset_free(ds->rs);
	free(ds->rm);
	ds->rs = rs;
	ds->st = st;
	ds->ctx = ctx;
	ds->rm = rm;
	ds->prev_records = ds->prev_candidates = 0;
	metrics_rebase(ds);
	ruleset_info(ds, rs);
	{
		char n[24];

		snprintf(n, sizeof(n), "%zu", tw_ruleset_count(rs));
		tw_info("detect", "rule set swapped in", "rules", n);
	}
}

/* Add the stage's own alerts; true when there were any. */
static bool
take_sys_alerts(struct detect_stage *ds)
{
	struct sys_alert *sa, *next;
	bool any = false;

	pthread_mutex_lock(&ds->mu);
	sa = ds->sys_head;
	ds->sys_head = NULL;
	ds->sys_tail = &ds->sys_head;
	pthread_mutex_unlock(&ds->mu);
	for (; sa != NULL; sa = next) {
		next = sa->next;
		tw_buf_reset(&ds->one);
		if (alert_log_encode_alert(&ds->one, sa->json,
		    strlen(sa->json), sa->id, DETECT_RELOAD_FAILED_RULE, "high",
		    sa->time) != 0 || tw_batch_enc_add(ds->enc, ds->one.data,
		    ds->one.len) != 0) {
			tw_error("detect", "cannot queue a reload-failed alert");
			tw_counter_inc(ds->c_errors_log);
		} else
			any = true;
		free(sa->json);
		free(sa);
	}
	return any;
}

/* Wait up to ns, or until stopped or handed rules or alerts. */
static void
nap(struct detect_stage *ds, int64_t ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ns / 1000000000;
	ts.tv_nsec += ns % 1000000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&ds->mu);
	if (!ds->stopping && ds->next_rs == NULL && ds->sys_head == NULL)
		pthread_cond_timedwait(&ds->cv, &ds->mu, &ts);
	pthread_mutex_unlock(&ds->mu);
}

static void *
run(void *arg)
{
	struct detect_stage *ds = arg;
	int64_t retry_at = 0;

	for (;;) {
		struct tw_store_block b;
		bool stopping, late;
		int64_t now = mono_ns();
		int r;

		pthread_mutex_lock(&ds->mu);
		stopping = ds->stopping;
		late = stopping && now >= ds->deadline_ns;
		pthread_mutex_unlock(&ds->mu);
		if (late)
			break;
		take_rules(ds);
		if (take_sys_alerts(ds) || ds->frame_ready) {
			if (now < retry_at || commit(ds) != 0) {
				if (now >= retry_at)
					retry_at = now + RETRY_NS;
				nap(ds, ds->poll_ns);
				continue;
			}
		}
		r = tw_store_reader_next(ds->r, &b);
		if (r == 1) {
			if (ds->replaying && !pos_before(&b.pos,
			    &ds->replay_until))
				end_replay(ds);
			evaluate(ds, &b);
			runs_add(ds, &b);
			if (ds->replaying)
				continue;
			tw_counter_inc(ds->c_blocks);
			ds->cur.next = b.next;
			ds->cur.index = b.index + 1;
			replay_pos(ds, &ds->cur.replay);
			ds->cur_valid = true;
			atomic_store(&ds->next_index, ds->cur.index);
			if (tw_batch_enc_records(ds->enc) > 0 &&
			    (tw_batch_enc_records(ds->enc) >= ds->alerts_max ||
			    tw_batch_enc_raw_len(ds->enc) >= COMMIT_RAW_MAX ||
			    mono_ns() - ds->first_pending_ns >= ds->linger_ns))
				tw_ignore(commit(ds)); /* retried above */
			save_cursor_file(ds, false);
			if (mono_ns() - ds->metrics_ns >= METRICS_INTERVAL_NS) {
				metrics_sync(ds);
				ds->metrics_ns = mono_ns();
			}
			continue;
		}
		if (r == TW_EPARSE) {
			tw_error("detect", "a damaged store block was skipped",
			    "error", tw_store_reader_error(ds->r));
			tw_counter_inc(ds->c_damaged);
			continue;
		}
		if (r < 0) {
			tw_error("detect", "cannot read the store", "error",
			    tw_store_reader_error(ds->r));
			tw_counter_inc(ds->c_errors_read);
			nap(ds, RETRY_NS);
			continue;
		}
		/* Caught up with the store. */
		if (ds->replaying)
			end_replay(ds);
		if (pending(ds) && commit(ds) != 0)
			retry_at = mono_ns() + RETRY_NS;
		save_cursor_file(ds, stopping);
		metrics_sync(ds);
		ds->metrics_ns = mono_ns();
		if (stopping)
			break;
		nap(ds, ds->poll_ns);
	}
	/* During a replay the cursor is still the recovered one: valid. */
	if (pending(ds))
		tw_ignore(commit_hard(ds)); /* lost: re-evaluated next start */
	save_cursor_file(ds, true);
	metrics_sync(ds);
	return NULL;
}

/* --- start-up: recover the cursor --- */

/* The last cursor record in the alert log (from hint on) and the last seq. */
static int
scan_alert_log(struct detect_stage *ds, const struct tw_store_pos *hint,
    struct alert_log_cursor *c, bool *found, char **why)
{
	struct tw_store_reader *r;
	struct tw_store_block b;
	int rc;

	*found = false;
	if ((r = tw_store_reader_open(alert_log_dir(ds->log), why)) == NULL)
		return TW_EIO;
	if (hint != NULL && hint->segment != 0 &&
	    tw_store_reader_seek_pos(r, hint) != 0)
		tw_store_reader_seek_time(r, INT64_MIN, INT64_MAX);
	while ((rc = tw_store_reader_next(r, &b)) != 0) {
		const uint8_t *rec;
		size_t off = 0, len;

		if (rc == TW_EPARSE)
			continue;
		if (rc < 0) {
			set_why(why, "%s: %s", alert_log_dir(ds->log),
			    tw_store_reader_error(r));
			tw_store_reader_free(r);
			return rc;
		}
		if (strcmp(b.agent_id, ALERT_LOG_AGENT) != 0)
			continue;
		if (b.seq > ds->seq)
			ds->seq = b.seq;
		ds->alert_hint = b.pos;
		if (tw_batch_decode(ds->dec, b.body, b.body_len, &ds->lim,
		    b.records, &ds->recs, NULL) != 0)
			continue;
		while (tw_batch_next(&ds->recs, &off, &rec, &len) == 1) {
			struct alert_log_cursor lc;

			if (alert_log_decode(rec, len, NULL, &lc) ==
			    ALERT_LOG_CURSOR) {
				*c = lc;
				*found = true;
			}
		}
	}
	tw_store_reader_free(r);
	return 0;
}

static int
recover_cursor(struct detect_stage *ds, char **why)
{
	struct cursor_field f[8] = {
		{ "segment", 0 }, { "offset", 0 }, { "index", 0 },
		{ "replay_segment", 0 }, { "replay_offset", 0 },
		{ "alert_seq", 0 }, { "alert_segment", 0 },
		{ "alert_offset", 0 },
	};
	struct alert_log_cursor fc, lc;
	struct tw_store_pos hint;
	bool have_file = false, have_log = false;
	int r;

	r = cursor_load(ds->cursor_dir, CURSOR_FILE, f, 8);
	if (r == 0 && f[0].value != 0) {
		fc.next = (struct tw_store_pos){ f[0].value, f[1].value };
		fc.index = f[2].value;
		fc.replay = (struct tw_store_pos){ f[3].value, f[4].value };
		ds->seq = f[5].value;
		have_file = true;
		ds->filed = fc;
		ds->filed_valid = true;
	} else if (r == TW_EPARSE)
		tw_warn("detect", "the cursor file is malformed; using the "
		    "alert log's", "dir", ds->cursor_dir);
	else if (r != 0 && r != TW_ENOTFOUND) {
		set_why(why, "%s/%s: %s", ds->cursor_dir, CURSOR_FILE,
		    strerror(errno));
		return TW_EIO;
	}
	hint = (struct tw_store_pos){ f[6].value, f[7].value };
	if ((r = scan_alert_log(ds, r == 0 ? &hint : NULL, &lc, &have_log,
	    why)) != 0)
		return r;
	if (have_log && (!have_file || lc.index >= fc.index)) {
		ds->cur = lc;
		ds->committed = lc;
		ds->committed_valid = true;
	} else if (have_file)
		ds->cur = fc;
	ds->cur_valid = have_file || have_log;
	return 0;
}

/* Position the reader at the cursor, replaying from its replay point. */
static int
position_reader(struct detect_stage *ds, char **why)
{
	char seg[24], off[24];
	int r;

	if (!ds->cur_valid)
		return 0;
	snprintf(seg, sizeof(seg), "%" PRIu64, ds->cur.next.segment);
	snprintf(off, sizeof(off), "%" PRIu64, ds->cur.next.offset);
	r = tw_store_reader_seek_pos(ds->r, &ds->cur.next);
	if (r == TW_ENOTFOUND) {
		tw_warn("detect", "the store segment of the detect cursor is "
		    "gone (retention); detection resumes at the first retained "
		    "block and the threshold state starts empty", "segment",
		    seg);
		tw_store_reader_seek_time(ds->r, INT64_MIN, INT64_MAX);
		ds->cur_valid = false;
		return 0;
	}
	if (r == TW_EINVAL) {
		tw_warn("detect", "the detect cursor is not at a block (the "
		    "store's tail was cut after a crash); evaluating its "
		    "segment again", "segment", seg, "offset", off);
		ds->cur.next.offset = 0;
		if (pos_before(&ds->cur.next, &ds->cur.replay))
			ds->cur.replay = ds->cur.next;
		r = tw_store_reader_seek_pos(ds->r, &ds->cur.next);
	}
	if (r != 0) {
		set_why(why, "%s: %s", ds->store_dir,
		    tw_store_reader_error(ds->r));
		return r;
	}
	atomic_store(&ds->next_index, ds->cur.index);
	if (ds->replay_ns <= 0 || !ruleset_stateful(ds->rs) ||
	    !pos_before(&ds->cur.replay, &ds->cur.next))
		return 0;
	r = tw_store_reader_seek_pos(ds->r, &ds->cur.replay);
	if (r == TW_EINVAL)
		r = tw_store_reader_seek_pos(ds->r,
		    &(struct tw_store_pos){ ds->cur.replay.segment, 0 });
	if (r == TW_ENOTFOUND) {
		tw_store_reader_seek_time(ds->r, INT64_MIN, INT64_MAX);
		r = 0;
	}
	if (r != 0) {
		tw_warn("detect", "cannot replay to rebuild the threshold "
		    "state; it starts empty", "error",
		    tw_store_reader_error(ds->r));
		return tw_store_reader_seek_pos(ds->r, &ds->cur.next);
	}
	ds->replaying = true;
	ds->replay_until = ds->cur.next;
	return 0;
}

/* --- life cycle --- */

struct detect_stage *
detect_stage_new(const struct collector_conf *conf, struct tw_store *store,
    struct alert_log *log, struct tw_metrics *m, char **why)
{
	const struct collector_detect *dc = &conf->collector.detect;
	struct detect_stage *ds;
	struct tw_conf_diag d;
	pthread_condattr_t ca;
	int r;

	*why = NULL;
	if ((ds = calloc(1, sizeof(*ds))) == NULL)
		return NULL;
	pthread_mutex_init(&ds->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ds->cv, &ca);
	pthread_condattr_destroy(&ca);
	ds->sys_tail = &ds->sys_head;
	ds->store = store;
	ds->log = log;
	ds->m = m;
	ds->poll_ns = (int64_t)dc->poll_ms * 1000000;
	ds->linger_ns = (int64_t)dc->linger_ms * 1000000;
	ds->replay_ns = (int64_t)dc->replay_ms * 1000000;
	ds->drain_ns = (int64_t)dc->drain_timeout_ms * 1000000;
	ds->alerts_max = (uint64_t)dc->alerts_max;
	ds->replay_max_bytes = dc->replay_max_bytes;
	ds->run_bytes = ds->replay_max_bytes / 1024;
	if (ds->run_bytes < 65536)
		ds->run_bytes = 65536;
	ds->watermark = INT64_MIN;
	tw_buf_init(&ds->recs, (size_t)1 << 31);
	tw_buf_init(&ds->one, (size_t)1 << 31);
	tw_buf_init(&ds->frame, (size_t)1 << 31);
	alert_log_read_limits(&ds->lim);
	if (asprintf(&ds->store_dir, "%s/store", conf->collector.data_dir) < 0)
		ds->store_dir = NULL;
	if (ds->store_dir == NULL ||
	    (ds->dec = tw_batch_dec_new()) == NULL ||
	    (ds->enc = tw_batch_enc_new(3)) == NULL)
		goto nomem;
	{
		struct tw_batch_limits el;

		tw_batch_limits_default(&el);
		el.decompressed_max = ENC_MAX;
		el.records_max = UINT32_MAX;
		el.record_max = ENC_SOFT_MAX;
		el.mp.depth_max = 8;
		tw_batch_enc_set_limits(ds->enc, &el);
	}
	if ((ds->cursor_dir = cursor_dir(conf->collector.data_dir)) == NULL) {
		set_why(why, "%s/cursors: %s", conf->collector.data_dir,
		    strerror(errno));
		goto fail;
	}
	register_metrics(ds);

	tw_conf_diag_init(&d);
	r = rules_load(conf, &ds->rs, &d);
	tw_gauge_set(ds->g_reload_time, (double)tw_time_now_ns() / 1e9);
	tw_gauge_set(ds->g_reload_ok, r == 0 ? 1 : 0);
	if (r != 0) {
		*why = diag_text(&d, r);
		tw_conf_diag_cleanup(&d);
		goto fail;
	}
	tw_conf_diag_cleanup(&d);
	if ((ds->st = tw_state_new(ds->rs != NULL ?
	    tw_ruleset_count(ds->rs) : 0)) == NULL ||
	    (ds->ctx = tw_engine_ctx_new()) == NULL ||
	    (ds->rm = rule_metrics_new(ds, ds->rs)) == NULL)
		goto nomem;
	ruleset_info(ds, ds->rs);
	if (tw_ruleset_count(ds->rs) == 0)
		tw_warn("detect", "no rules configured (rules:); the detect "
		    "stage only follows the store");

	if ((r = recover_cursor(ds, why)) != 0)
		goto fail;
	if ((ds->r = tw_store_reader_open(ds->store_dir, why)) == NULL)
		goto fail;
	if (position_reader(ds, why) != 0)
		goto fail;
	{
		char seg[24], off[24], seq[24];

		snprintf(seg, sizeof(seg), "%" PRIu64, ds->cur.next.segment);
		snprintf(off, sizeof(off), "%" PRIu64, ds->cur.next.offset);
		snprintf(seq, sizeof(seq), "%" PRIu64, ds->seq);
		tw_info("detect", ds->cur_valid ? "resuming detection" :
		    "starting detection at the first block", "segment", seg,
		    "offset", off, "alert_seq", seq, "replay",
		    ds->replaying ? "yes" : "no");
	}
	if (pthread_create(&ds->thread, NULL, run, ds) != 0)
		goto nomem;
	ds->running = true;
	return ds;
nomem:
	set_why(why, "out of memory");
fail:
	detect_stage_free(ds);
	return NULL;
}

/* Canonical JSON of a string list. */
static int
add_strings(struct tw_buf *b, const char *const *v, size_t n)
{
	int r = tw_buf_addc(b, '[');

	for (size_t i = 0; r == 0 && i < n; i++) {
		if (i > 0)
			r = tw_buf_addc(b, ',');
		if (r == 0)
			r = tw_json_add_string(b, v[i], strlen(v[i]));
	}
	return r != 0 ? r : tw_buf_addc(b, ']');
}

/*
 * The alert of a failed reload, as RULES.md §11 lays out an alert: a
 * synthetic record (the reload) gives the time, id and digest.
 */
static struct sys_alert *
reload_failed_alert(const struct collector_conf *conf,
    const struct tw_conf_diag *d, int err)
{
	size_t n = tw_conf_diag_count(d), shown = n < RELOAD_ERRORS_MAX ? n :
	    RELOAD_ERRORS_MAX;
	const char **errs = NULL;
	struct sys_alert *sa = NULL;
	struct tw_buf rec, js, out;
	struct tw_mpw w;
	char digest[TW_DIGEST_HEX + 1], rid[64];
	int64_t now = tw_time_now_ns();
	int r = TW_ENOMEM;

	tw_buf_init(&rec, 1 << 20);
	tw_buf_init(&js, 4 << 20);
	tw_buf_init(&out, 1 << 20);
	if ((sa = calloc(1, sizeof(*sa))) == NULL ||
	    (errs = calloc(shown + 1, sizeof(*errs))) == NULL)
		goto out;
	for (size_t i = 0; i < shown; i++)
		errs[i] = tw_conf_diag_msg(d, i);
	if (shown == 0) {
		errs[0] = tw_strerror(err);
		shown = 1;
	}
	snprintf(rid, sizeof(rid), "trawl-rules-reload-%" PRId64, now);
	if ((r = tw_buf_addf(&out, "rule reload failed; the running rule set "
	    "stays: %s", errs[0])) != 0 || (n > 1 &&
	    (r = tw_buf_addf(&out, " (and %zu more)", n - 1)) != 0))
		goto out;
	tw_mpw_init(&w, &rec);
	tw_mpw_map(&w, 5);
	tw_mpw_cstr(&w, "id");
	tw_mpw_cstr(&w, rid);
	tw_mpw_cstr(&w, "time");
	tw_mpw_timestamp(&w, now);
	tw_mpw_cstr(&w, "source");
	tw_mpw_map(&w, 2);
	tw_mpw_cstr(&w, "format");
	tw_mpw_cstr(&w, "trawl-collector");
	tw_mpw_cstr(&w, "kind");
	tw_mpw_cstr(&w, "trawl");
	tw_mpw_cstr(&w, "level");
	tw_mpw_cstr(&w, "error");
	tw_mpw_cstr(&w, "message");
	tw_mpw_cstr(&w, out.data);
	if ((r = w.err) != 0 ||
	    (r = tw_alert_digest(rec.data, rec.len, digest)) != 0 ||
	    (r = tw_alert_id(DETECT_RELOAD_FAILED_RULE, digest, sa->id)) != 0)
		goto out;
	/* Keys in code-point order: canonical JSON (RULES.md §7.1). */
	if ((r = tw_buf_addf(&js, "{\"alert_id\":\"%s\",\"detected_at\":%" PRId64
	    ",\"fields\":{\"errors\":", sa->id, now)) != 0 ||
	    (r = add_strings(&js, errs, shown)) != 0 ||
	    (r = tw_buf_adds(&js, ",\"rules\":")) != 0 ||
	    (r = add_strings(&js, (const char *const *)conf->rules.v,
	    conf->rules.n)) != 0 ||
	    (r = tw_buf_adds(&js, "},\"output\":")) != 0 ||
	    (r = tw_json_add_string(&js, out.data, out.len)) != 0 ||
	    (r = tw_buf_addf(&js, ",\"record\":{\"digest\":\"%s\",\"id\":\"%s\","
	    "\"time\":%" PRId64 "},\"rule\":{\"id\":\"%s\",\"severity\":"
	    "\"high\",\"tags\":[\"theme.trawl\"],\"title\":\"Rule reload "
	    "failed; the running rule set stays\"},\"source\":{\"format\":"
	    "\"trawl-collector\",\"kind\":\"trawl\"},\"time\":%" PRId64 "}",
	    digest, rid, now, DETECT_RELOAD_FAILED_RULE, now)) != 0)
		goto out;
	sa->time = now;
	sa->json = tw_buf_take(&js, NULL);
	r = sa->json != NULL ? 0 : TW_ENOMEM;
out:
	if (r != 0) {
		free(sa);
		sa = NULL;
	}
	free(errs);
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&js);
	tw_buf_cleanup(&out);
	return sa;
}

int
detect_stage_reload_prepare(struct detect_stage *ds,
    const struct collector_conf *conf)
{
	struct tw_conf_diag d;
	struct sys_alert *sa;
	struct tw_ruleset *rs = NULL;
	int r;

	detect_stage_reload_abort(ds);
	tw_conf_diag_init(&d);
	r = rules_load(conf, &rs, &d);
	tw_gauge_set(ds->g_reload_time, (double)tw_time_now_ns() / 1e9);
	if (r == 0) {
		ds->prepared = rs;
		tw_conf_diag_cleanup(&d);
		return 0;
	}
	for (size_t i = 0; i < tw_conf_diag_count(&d); i++)
		tw_error("detect", "rule error", "error",
		    tw_conf_diag_msg(&d, i));
	tw_error("detect", "rule reload failed; the running rule set stays",
	    "error", tw_strerror(r));
	tw_counter_inc(ds->c_reload_failed);
	tw_gauge_set(ds->g_reload_ok, 0);
	if ((sa = reload_failed_alert(conf, &d, r)) != NULL) {
		pthread_mutex_lock(&ds->mu);
		*ds->sys_tail = sa;
		ds->sys_tail = &sa->next;
		pthread_cond_signal(&ds->cv);
		pthread_mutex_unlock(&ds->mu);
	} else
		tw_error("detect", "cannot build the reload-failed alert");
	tw_conf_diag_cleanup(&d);
	return TW_ECONFIG;
}

void
detect_stage_reload_commit(struct detect_stage *ds)
{
	struct tw_ruleset *old;

	if (ds->prepared == NULL)
		return;
	pthread_mutex_lock(&ds->mu);
	old = ds->next_rs; /* prepared earlier, never taken */
	ds->next_rs = ds->prepared;
	pthread_cond_signal(&ds->cv);
	pthread_mutex_unlock(&ds->mu);
	ds->prepared = NULL;
	tw_ruleset_free(old);
	tw_counter_inc(ds->c_reload_ok);
	tw_gauge_set(ds->g_reload_ok, 1);
}

void
detect_stage_reload_abort(struct detect_stage *ds)
{
	tw_ruleset_free(ds->prepared);
	ds->prepared = NULL;
}

void
detect_stage_stop(struct detect_stage *ds)
{
	if (ds == NULL || !ds->running)
		return;
	pthread_mutex_lock(&ds->mu);
	ds->stopping = true;
	ds->deadline_ns = mono_ns() + ds->drain_ns;
	pthread_cond_signal(&ds->cv);
	pthread_mutex_unlock(&ds->mu);
	pthread_join(ds->thread, NULL);
	ds->running = false;
}

void
detect_stage_free(struct detect_stage *ds)
{
	struct sys_alert *sa, *next;

	if (ds == NULL)
		return;
	detect_stage_stop(ds);
	if (ds->m != NULL)
		tw_ignore(tw_metrics_gauge_fn(ds->m,
		    "trawl_collector_detect_lag_blocks",
		    "Store blocks not yet evaluated by the detect stage.", NULL,
		    NULL, NULL)); /* detach: ds goes away */
	for (sa = ds->sys_head; sa != NULL; sa = next) {
		next = sa->next;
		free(sa->json);
		free(sa);
	}
	tw_ruleset_free(ds->next_rs);
	tw_ruleset_free(ds->prepared);
	tw_state_free(ds->st);
	tw_engine_ctx_free(ds->ctx);
	tw_ruleset_free(ds->rs);
	free(ds->rm);
	tw_store_reader_free(ds->r);
	tw_batch_dec_free(ds->dec);
	tw_batch_enc_free(ds->enc);
	tw_buf_cleanup(&ds->recs);
	tw_buf_cleanup(&ds->one);
	tw_buf_cleanup(&ds->frame);
	free(ds->runs);
	free(ds->store_dir);
	free(ds->cursor_dir);
	pthread_cond_destroy(&ds->cv);
	pthread_mutex_destroy(&ds->mu);
	free(ds);
}

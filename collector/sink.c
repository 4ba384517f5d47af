/* sink.c: what every alert sink shares: its own follower of the alert log,
 * its own queue of alerts in flight, its own durable cursor and its own
 * delivery thread (docs/alerting.md). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector_conf.h"
#include "cursor.h"
#include "log.h"
#include "metrics.h"
#include "sink.h"
#include "sink_file.h"

#define SEND_ROUND_MAX 1024	/* alerts sent between two polls */
#define IDLE_WAIT_MS 1000	/* safety net when no append wakes us */
#define FAIL_PAUSE_MS 1000	/* after the destination failed */
#define POLL_BUSY_MS 100	/* waiting for acks with nothing to send */
#define SINK_CURSOR_INTERVAL_MS 100 /* least time between cursor writes */

#define DEPTH_NAME "trawl_collector_sink_queue_depth"
#define DEPTH_HELP "Alerts in flight (sent, not yet acknowledged) by sink."
#define OLDEST_NAME "trawl_collector_sink_oldest_undelivered_seconds"
#define OLDEST_HELP "Age of the oldest alert in flight by sink."

/* One alert in flight. */
struct slot {
	struct alert_pos at; /* where it is in the log */
	int64_t read_ns;     /* when it was read from the log */
	bool done;
};

struct sink {
	const struct sink_ops *ops;
	void *impl;
	char name[CURSOR_NAME_MAX];
	char cursor_name[CURSOR_NAME_MAX + 8];
	char *cursor_dir;
	struct alert_log *log;
	struct alert_follower *f;
	int cursor_interval_ms;

	/* the queue: tickets head..tail-1 are in flight */
	struct slot *ring;
	size_t cap;
	uint64_t head, tail;
	bool held;		 /* an alert read but not taken by send() */
	struct alert_rec held_rec;
	struct alert_pos held_at;
	struct alert_pos saved;	 /* the cursor on disk */
	int64_t saved_ns;
	bool cursor_failed;	 /* the last save failed (logged once) */

	pthread_t thread;
	bool running;
	atomic_bool stopping;
	_Atomic int64_t deadline_ns;
	atomic_bool reopen;
	_Atomic uint64_t depth;
	_Atomic int64_t oldest_read_ns; /* 0: nothing in flight */

	struct tw_metrics *m;
	struct tw_counter *sent[SINK_RESULT_N];
	struct tw_counter *errors;
	struct tw_counter *cursor_writes;
	char labels[CURSOR_NAME_MAX * 2 + 64];
};

int64_t
sink_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *
sink_name(const struct sink *s)
{
	return s->name;
}

static bool
pos_eq(const struct alert_pos *a, const struct alert_pos *b)
{
	return a->segment == b->segment && a->offset == b->offset &&
	    a->skip == b->skip;
}

/* Where delivery resumes after a restart: the first alert not acked. */
static void
current_cursor(const struct sink *s, struct alert_pos *p)
{
	if (s->head < s->tail)
		*p = s->ring[s->head % s->cap].at;
	else if (s->held)
		*p = s->held_at;
	else
		alert_follower_pos(s->f, p);
}

static void
save_cursor(struct sink *s, bool force)
{
	struct alert_pos p;
	struct cursor_field f[3];
	int64_t now = sink_mono_ns();

	current_cursor(s, &p);
	if (pos_eq(&p, &s->saved))
		return;
	if (!force && now - s->saved_ns <
	    (int64_t)s->cursor_interval_ms * 1000000)
		return;
	f[0] = (struct cursor_field){ "segment", p.segment };
	f[1] = (struct cursor_field){ "offset", p.offset };
	f[2] = (struct cursor_field){ "skip", p.skip };
	s->saved_ns = now;
	if (cursor_save(s->cursor_dir, s->cursor_name, f, 3) != 0) {
		if (!s->cursor_failed)
			tw_error("sink", "cannot write the cursor; alerts may "
			    "be delivered again after a restart", "sink",
			    s->name, "error", strerror(errno));
		s->cursor_failed = true;
		tw_counter_inc(s->errors);
		return;
	}
	s->cursor_failed = false;
	s->saved = p;
	tw_counter_inc(s->cursor_writes);
}

void
sink_ack(struct sink *s, uint64_t ticket, enum sink_result res)
{
	struct slot *sl;

	if (ticket < s->head || ticket >= s->tail)
		return;
	sl = &s->ring[ticket % s->cap];
	if (sl->done)
		return;
	sl->done = true;
	tw_counter_inc(s->sent[res < SINK_RESULT_N ? res : SINK_DROPPED]);
}

static void
advance(struct sink *s)
{
	while (s->head < s->tail && s->ring[s->head % s->cap].done)
		s->head++;
	atomic_store(&s->depth, s->tail - s->head);
	atomic_store(&s->oldest_read_ns, s->head < s->tail ?
	    s->ring[s->head % s->cap].read_ns : 0);
}

/*
 * Hand alerts from the log to send() while the queue has room: how many
 * were taken; *caught_up when the log has no more, *failed on an error.
 */
static size_t
send_round(struct sink *s, bool *caught_up, bool *failed)
{
	size_t sent = 0;
	int r;

	*caught_up = false;
	*failed = false;
	while (s->tail - s->head < s->cap && sent < SEND_ROUND_MAX) {
		struct sink_alert a;
		struct slot *sl;

		if (!s->held) {
			r = alert_follower_next(s->f, &s->held_rec,
			    &s->held_at);
			if (r == 0) {
				*caught_up = true;
				break;
			}
			if (r == TW_EPARSE) {
				tw_counter_inc(s->errors);
				continue;
			}
			if (r < 0) {
				tw_error("sink", "cannot read the alert log",
				    "sink", s->name, "error", tw_strerror(r));
				tw_counter_inc(s->errors);
				*failed = true;
				break;
			}
			s->held = true;
		}
		sl = &s->ring[s->tail % s->cap];
		sl->at = s->held_at;
		sl->read_ns = sink_mono_ns();
		sl->done = false;
		a.json = s->held_rec.json;
		a.id = s->held_rec.id;
		a.rule = s->held_rec.rule;
		a.severity = s->held_rec.severity;
		a.time = s->held_rec.time;
		a.ticket = s->tail++;
		r = s->ops->send(s->impl, s, &a);
		if (r != 0) {
			s->tail--;
			if (r < 0) {
				tw_counter_inc(s->errors);
				*failed = true;
			}
			break;
		}
		s->held = false;
		sent++;
	}
	return sent;
}

static void *
run(void *arg)
{
	struct sink *s = arg;
	int64_t pause_until = 0;

	for (;;) {
		uint64_t gen = alert_log_generation(s->log);
		bool stopping = atomic_load(&s->stopping);
		bool caught_up = false, failed = false;
		int64_t now = sink_mono_ns();
		size_t sent = 0;
		int timeout = 0;

		if (atomic_exchange(&s->reopen, false) && s->ops->reopen)
			s->ops->reopen(s->impl, s);
		if (now >= pause_until)
			sent = send_round(s, &caught_up, &failed);
		if (s->head < s->tail || sent > 0 || s->held) {
			/* Nothing new to hand over: wait for acks instead. */
			if (sent == 0)
				timeout = POLL_BUSY_MS;
			if (s->ops->poll(s->impl, s, timeout) != 0) {
				tw_counter_inc(s->errors);
				failed = true;
			}
		}
		advance(s);
		save_cursor(s, stopping);
		if (failed)
			pause_until = sink_mono_ns() +
			    (int64_t)FAIL_PAUSE_MS * 1000000;
		if (stopping) {
			if ((caught_up && s->head == s->tail && !s->held) ||
			    sink_mono_ns() >= atomic_load(&s->deadline_ns))
				break;
		}
		if (sent == 0 && s->head == s->tail &&
		    (caught_up || failed || now < pause_until))
			(void)alert_log_wait(s->log, gen, failed ||
			    now < pause_until ? FAIL_PAUSE_MS : IDLE_WAIT_MS);
	}
	save_cursor(s, true);
	return NULL;
}

static double
depth_gauge(void *arg)
{
	return (double)atomic_load(&((struct sink *)arg)->depth);
}

static double
oldest_gauge(void *arg)
{
	int64_t t = atomic_load(&((struct sink *)arg)->oldest_read_ns);

	return t == 0 ? 0 : (double)(sink_mono_ns() - t) / 1e9;
}

static void
register_metrics(struct sink *s, struct tw_metrics *m)
{
	static const char *const results[SINK_RESULT_N] = { "ok", "dropped" };
	char labels[sizeof(s->labels) + 32];

	for (int i = 0; i < SINK_RESULT_N; i++) {
		snprintf(labels, sizeof(labels), "%s,result=\"%s\"", s->labels,
		    results[i]);
		s->sent[i] = tw_metrics_counter(m,
		    "trawl_collector_alerts_sent_total",
		    "Alerts delivered by sink and result.", labels);
	}
	s->errors = tw_metrics_counter(m, "trawl_collector_sink_errors_total",
	    "Delivery, alert log and cursor errors by sink.", s->labels);
	s->cursor_writes = tw_metrics_counter(m,
	    "trawl_collector_sink_cursor_writes_total",
	    "Durable cursor updates by sink.", s->labels);
	tw_ignore(tw_metrics_gauge_fn(m, DEPTH_NAME, DEPTH_HELP, s->labels,
	    depth_gauge, s)); /* a failure only loses the metric */
	tw_ignore(tw_metrics_gauge_fn(m, OLDEST_NAME, OLDEST_HELP, s->labels,
	    oldest_gauge, s));
	s->m = m;
}

struct sink *
sink_new(const struct sink_ops *ops, void *impl, const struct sink_opts *o,
    struct alert_log *log, const char *cursor_dir, struct tw_metrics *m,
    char **why)
{
	struct cursor_field f[3] = { { "segment", 0 }, { "offset", 0 },
		{ "skip", 0 } };
	struct alert_pos from;
	struct tw_buf lb;
	struct sink *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		ops->free(impl);
		return NULL;
	}
	s->ops = ops;
	s->impl = impl;
	s->log = log;
	s->cap = o->queue_max > 0 ? o->queue_max : 1;
	s->cursor_interval_ms = o->cursor_interval_ms;
	cursor_name_clean(o->name, s->name);
	snprintf(s->cursor_name, sizeof(s->cursor_name), "sink-%s", s->name);
	tw_buf_init(&lb, sizeof(s->labels) - 1);
	if (tw_metrics_label_add(&lb, "sink", s->name) == 0 &&
	    tw_metrics_label_add(&lb, "type", ops->type) == 0)
		memcpy(s->labels, lb.data, lb.len + 1);
	tw_buf_cleanup(&lb);
	if ((s->cursor_dir = strdup(cursor_dir)) == NULL ||
	    (s->ring = calloc(s->cap, sizeof(*s->ring))) == NULL)
		goto fail;
	r = cursor_load(cursor_dir, s->cursor_name, f, 3);
	if (r == TW_EPARSE)
		tw_warn("sink", "the cursor file is malformed; delivering the "
		    "whole alert log again", "sink", s->name);
	else if (r != 0 && r != TW_ENOTFOUND) {
		if (asprintf(why, "%s/%s: %s", cursor_dir, s->cursor_name,
		    strerror(errno)) < 0)
			*why = NULL;
		goto fail;
	}
	from = (struct alert_pos){ f[0].value, f[1].value, f[2].value };
	if (r == 0)
		s->saved = from;
	if ((s->f = alert_follower_new(log, r == 0 && from.segment != 0 ?
	    &from : NULL, s->name, why)) == NULL)
		goto fail;
	s->saved_ns = sink_mono_ns();
	register_metrics(s, m);
	if (pthread_create(&s->thread, NULL, run, s) != 0)
		goto fail;
	s->running = true;
	return s;
fail:
	sink_free(s);
	return NULL;
}

void
sink_reopen(struct sink *s)
{
	atomic_store(&s->reopen, true);
	alert_log_wake(s->log);
}

void
sink_stop_begin(struct sink *s, int64_t deadline_ns)
{
	if (s == NULL || atomic_load(&s->stopping))
		return;
	atomic_store(&s->deadline_ns, deadline_ns);
	atomic_store(&s->stopping, true);
	alert_log_wake(s->log);
}

void
sink_stop(struct sink *s, int64_t deadline_ns)
{
	if (s == NULL)
		return;
	sink_stop_begin(s, deadline_ns);
	if (s->running) {
		pthread_join(s->thread, NULL);
		s->running = false;
	}
}

void
sink_free(struct sink *s)
{
	if (s == NULL)
		return;
	sink_stop(s, sink_mono_ns());
	if (s->m != NULL) {
		/* Detach the scrape callbacks: s goes away. */
		tw_ignore(tw_metrics_gauge_fn(s->m, DEPTH_NAME, DEPTH_HELP,
		    s->labels, NULL, NULL));
		tw_ignore(tw_metrics_gauge_fn(s->m, OLDEST_NAME, OLDEST_HELP,
		    s->labels, NULL, NULL));
	}
	alert_follower_free(s->f);
	if (s->ops != NULL && s->impl != NULL)
		s->ops->free(s->impl);
	free(s->ring);
	free(s->cursor_dir);
	free(s);
}

/* The sink types of this build; NULL: configurable, not built yet. */
static const struct {
	const char *type;
	sink_new_fn *fn;
} sink_types[] = {
	{ "file", sink_file_new },
	{ "webhook", NULL },
	{ "kafka", NULL },
};

/* FNV-1a: a stable short name for a destination. */
static uint64_t
fnv1a(uint64_t h, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct sink *
sink_start(const struct collector_sink *c, struct alert_log *log,
    const char *cursor_dir, struct tw_metrics *m, bool *unbuilt, char **why)
{
	const struct sink_ops *ops = NULL;
	struct sink_opts o;
	sink_new_fn *fn = NULL;
	char name[CURSOR_NAME_MAX];
	void *impl = NULL;
	uint64_t h = 0xcbf29ce484222325ULL;
	bool known = false;
	int r;

	*unbuilt = false;
	*why = NULL;
	for (size_t i = 0; i < sizeof(sink_types) / sizeof(sink_types[0]);
	    i++)
		if (strcmp(sink_types[i].type, c->type) == 0) {
			fn = sink_types[i].fn;
			known = true;
		}
	if (fn == NULL) {
		*unbuilt = known;
		if (!known && asprintf(why, "unknown sink type '%s'",
		    c->type) < 0)
			*why = NULL;
		return NULL;
	}
	if (c->name != NULL) {
		snprintf(name, sizeof(name), "%s", c->name);
	} else {
		h = fnv1a(h, c->path);
		h = fnv1a(h, c->url);
		h = fnv1a(h, c->brokers);
		h = fnv1a(h, "/");
		h = fnv1a(h, c->topic);
		snprintf(name, sizeof(name), "%s-%016" PRIx64, c->type, h);
	}
	if ((r = fn(c, m, &ops, &impl, why)) != 0)
		return NULL;
	o.name = name;
	o.queue_max = (size_t)c->queue_max;
	o.cursor_interval_ms = SINK_CURSOR_INTERVAL_MS;
	return sink_new(ops, impl, &o, log, cursor_dir, m, why);
}

/* sink.h: what every alert sink shares: its own follower of the alert log,
 * its own queue of alerts in flight, its own durable cursor and its own
 * delivery thread (docs/alerting.md). A sink type plugs in a sink_ops. */
#ifndef TRAWL_COLLECTOR_SINK_H
#define TRAWL_COLLECTOR_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_log.h"

struct tw_metrics;
struct sink;

/* One alert handed to a sink; the spans are valid during send() only. */
struct sink_alert {
	struct alert_span json;	    /* the alert object (RULES.md §11) */
	struct alert_span id;	    /* alert_id: the receivers' dedup key */
	struct alert_span rule;	    /* rule id */
	struct alert_span severity;
	int64_t time;		    /* the record's time (ns) */
	uint64_t ticket;	    /* give it to sink_ack() once delivered */
};

/* What became of an alert, for trawl_collector_alerts_sent_total{result}. */
enum sink_result {
	SINK_OK,	  /* delivered */
	SINK_DROPPED,	  /* given up on (dead-lettered, endpoint gone...) */
	SINK_RESULT_N
};

/* send() cannot take the alert now (its queue is full): poll, then retry. */
#define SINK_AGAIN 1

/*
 * A sink type. Every callback runs on the sink's own thread, one at a
 * time, so a sink's state needs no lock. An alert is in flight from a
 * send() that returned 0 until the sink calls sink_ack() for its ticket
 * (from send(), poll() or stop(), on that thread); the sink's cursor only
 * ever moves past alerts that are acked, and all alerts before them, so
 * after a crash delivery resumes at the first alert not acked
 * (at-least-once). Acks may come in any order.
 */
struct sink_ops {
	const char *type; /* "file" */
	/*
	 * Take one alert: 0 (in flight; ack it later, or now), SINK_AGAIN
	 * (nothing taken: the sink's own queue is full), or a negative
	 * TW_E* (nothing taken; retried after a pause).
	 */
	int (*send)(void *impl, struct sink *s, const struct sink_alert *a);
	/*
	 * Make progress on what is in flight (write, fsync, serve delivery
	 * reports, retry) and ack what got delivered, waiting at most
	 * timeout_ms for something to happen. 0, or a negative TW_E* when
	 * the destination failed (logged by the sink; the runner pauses).
	 */
	int (*poll)(void *impl, struct sink *s, int timeout_ms);
	/* Optional: SIGUSR1: reopen files (log rotation). */
	void (*reopen)(void *impl, struct sink *s);
	/* Free the sink's state; what is still in flight is not acked. */
	void (*free)(void *impl);
};

/* How a sink runs. */
struct sink_opts {
	const char *name;	  /* cursor and metric label: [A-Za-z0-9._-] */
	size_t queue_max;	  /* alerts in flight at most (>= 1) */
	int cursor_interval_ms;	  /* least time between cursor writes */
};

/*
 * A sink named opts->name running ops over impl (owned from now on, freed
 * with the sink even when this fails), following log from its cursor
 * <cursor_dir>/sink-<name>. The thread starts at once. NULL with *why
 * (malloc'd) when the alert log cannot be read or memory runs out.
 */
struct sink *sink_new(const struct sink_ops *ops, void *impl,
    const struct sink_opts *opts, struct alert_log *log,
    const char *cursor_dir, struct tw_metrics *m, char **why);

/* Mark the alert of ticket delivered (or given up on). Sink thread only. */
void sink_ack(struct sink *s, uint64_t ticket, enum sink_result res);

/* The sink's name (for logs). */
const char *sink_name(const struct sink *s);

/* Ask the sink to reopen its output (SIGUSR1); returns at once. */
void sink_reopen(struct sink *s);

/*
 * Stop: keep delivering until the sink has caught up with the alert log
 * or deadline_ns (CLOCK_MONOTONIC) passes, write the cursor, join the
 * thread. Call before sink_free(). Several sinks stop in parallel when
 * sink_stop_begin() is called on all of them first.
 */
void sink_stop_begin(struct sink *s, int64_t deadline_ns);
void sink_stop(struct sink *s, int64_t deadline_ns);

/* Free (stopping first if needed); NULL is a no-op. */
void sink_free(struct sink *s);

struct collector_sink;

/*
 * A sink type's constructor: build the state for the sinks[] entry conf
 * (0 with *ops and *impl) or explain why not (a negative TW_E* with *why,
 * malloc'd). Called at start-up, on the main thread.
 */
typedef int sink_new_fn(const struct collector_sink *conf,
    struct tw_metrics *m, const struct sink_ops **ops, void **impl,
    char **why);

/*
 * Start the sinks[] entry conf through its type's constructor, named by
 * conf->name or else "<type>-<hash of its destination>" (so a cursor
 * follows its destination when the list is reordered). NULL with *why
 * (malloc'd) on failure; NULL with *why NULL and *unbuilt set when this
 * build has no sink of conf's type yet (its alerts wait in the log).
 */
struct sink *sink_start(const struct collector_sink *conf,
    struct alert_log *log, const char *cursor_dir, struct tw_metrics *m,
    bool *unbuilt, char **why);

/* CLOCK_MONOTONIC in ns. */
int64_t sink_mono_ns(void);

#endif

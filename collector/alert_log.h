/* alert_log.h: the alert log: a segment store of alert batches that the
 * detect stage appends to and every sink follows (docs/alerting.md). */
#ifndef TRAWL_COLLECTOR_ALERT_LOG_H
#define TRAWL_COLLECTOR_ALERT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "buf.h"
#include "store.h"

/*
 * The alert log is a second tw_store (<data_dir>/alerts) in the same block
 * format as the record store: hash-chained, fsync'd, readable by `trawl
 * verify` and `trawl query --store <data_dir>/alerts`. Its blocks are
 * written by the detect stage only, as agent ALERT_LOG_AGENT with seq
 * increasing by one per block. A block is a batch whose records are
 * msgpack maps, told apart by "type":
 *
 *   {"type":"alert", "time": <timestamp: the record's time>,
 *    "alert_id": "<32 hex>", "rule": "<rule id>", "severity": "...",
 *    "alert": "<the alert object, RULES.md §11, canonical JSON>"}
 *   {"type":"cursor", "segment": u64, "offset": u64, "index": u64,
 *    "replay_segment": u64, "replay_offset": u64}
 *
 * Every block the detect stage writes ends with one cursor record: the
 * position in the record store up to which detection had run when the
 * block was committed, so the alerts and the cursor become durable in
 * one fdatasync. Readers skip records of types they do not know.
 */
#define ALERT_LOG_AGENT "detect"

struct alert_log;

/* A span of a decoded record: not NUL-terminated. */
struct alert_span {
	const char *p;
	size_t n;
};

/* An alert record; its spans point into the batch being read. */
struct alert_rec {
	struct alert_span json;	    /* the alert object */
	struct alert_span id;	    /* alert_id */
	struct alert_span rule;	    /* rule id */
	struct alert_span severity;
	int64_t time;		    /* the record's time, ns (0: none) */
};

/* The detect stage's position in the record store. */
struct alert_log_cursor {
	struct tw_store_pos next;   /* the next block to evaluate */
	uint64_t index;		    /* its chain index */
	struct tw_store_pos replay; /* where a restart replays from to
				     * rebuild threshold/throttle state */
};

/*
 * Open (creating) the alert log store at dir for writing. NULL with *why
 * (malloc'd, may be NULL) as tw_store_open().
 */
struct alert_log *alert_log_open(const char *dir,
    const struct tw_store_opts *opts, char **why);

/* Close it; NULL is a no-op. No appender or waiter may remain. */
void alert_log_close(struct alert_log *log);

const char *alert_log_dir(const struct alert_log *log);

/* The underlying store (stats, tw_store_tick); owned by the log. */
struct tw_store *alert_log_store(struct alert_log *log);

/*
 * tw_store_append() as agent ALERT_LOG_AGENT, then wake every follower
 * waiting in alert_log_wait(). Thread-safe.
 */
int alert_log_append(struct alert_log *log, uint64_t seq,
    const struct tw_batch_info *info, const void *frame, size_t len,
    struct tw_store_pos *pos) TW_WARN_UNUSED;

/* A counter that changes on every append and on alert_log_wake(). */
uint64_t alert_log_generation(struct alert_log *log);

/*
 * Wait until the generation differs from seen or timeout_ms passes;
 * returns the generation. Thread-safe.
 */
uint64_t alert_log_wait(struct alert_log *log, uint64_t seen, int timeout_ms);

/* Wake every waiter (a sink being stopped or asked to reopen). */
void alert_log_wake(struct alert_log *log);

/*
 * Append one alert record (msgpack) to out, for tw_batch_enc_add. 0 or a
 * tw_buf error.
 */
int alert_log_encode_alert(struct tw_buf *out, const char *json,
    size_t jsonlen, const char *alert_id, const char *rule,
    const char *severity, int64_t time) TW_WARN_UNUSED;

/* Append one cursor record to out. */
int alert_log_encode_cursor(struct tw_buf *out,
    const struct alert_log_cursor *c) TW_WARN_UNUSED;

/* What alert_log_decode() found. */
enum alert_log_type {
	ALERT_LOG_ALERT = 1,
	ALERT_LOG_CURSOR,
	ALERT_LOG_OTHER, /* a type this version does not know: skip it */
};

/*
 * Decode one record rec[0..len): an alert (fills a) or a cursor (fills c);
 * returns the type, or TW_EMSGPACK / TW_EPARSE for a malformed record.
 */
int alert_log_decode(const uint8_t *rec, size_t len, struct alert_rec *a,
    struct alert_log_cursor *c) TW_WARN_UNUSED;

/*
 * A position in the alert log: a block and how many of its records come
 * before the one meant (skip = 0: the whole block is ahead).
 */
struct alert_pos {
	uint64_t segment;
	uint64_t offset;
	uint64_t skip;
};

/*
 * A follower walks the alert records of the log from a position, and
 * follows it as the detect stage appends. One per thread; it owns a
 * store reader and a batch decoder.
 */
struct alert_follower;

/*
 * A follower of log starting at from (NULL: the first retained block).
 * When from's segment was deleted by retention it starts at the first
 * retained block; when from is not a block boundary (the log's tail was
 * cut after a power loss) at the start of from's segment: both are
 * logged, and in both cases alerts may be delivered again, never
 * skipped silently. NULL with *why (malloc'd) when the log cannot be
 * read.
 */
struct alert_follower *alert_follower_new(const struct alert_log *log,
    const struct alert_pos *from, const char *who, char **why);

/*
 * The next alert: 1 with *a (valid until the next call) and *at (its
 * position: seek there to read it again), 0 when there is none yet,
 * TW_EPARSE after skipping a block that does not decode (logged; call
 * again), TW_EIO, TW_ENOMEM.
 */
int alert_follower_next(struct alert_follower *f, struct alert_rec *a,
    struct alert_pos *at) TW_WARN_UNUSED;

/* The position right after everything next() has returned or passed. */
void alert_follower_pos(const struct alert_follower *f,
    struct alert_pos *after);

/* Free; NULL is a no-op. */
void alert_follower_free(struct alert_follower *f);

/* The batch limits for reading blocks that were validated when written. */
void alert_log_read_limits(struct tw_batch_limits *lim);

#endif

/* batch_sink.h: validate a batch frame and store it as one block: the part
 * HTTP ingest and the Kafka input share. */
#ifndef TRAWL_COLLECTOR_BATCH_SINK_H
#define TRAWL_COLLECTOR_BATCH_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "collector_conf.h"

struct tw_metrics;
struct tw_store;
struct batch_sink;

/* Why a batch was turned away: the label of trawl_collector_rejected_total. */
enum batch_reject {
	BATCH_REJ_NO_TOKEN,
	BATCH_REJ_BAD_TOKEN,
	BATCH_REJ_FORBIDDEN,
	BATCH_REJ_BAD_REQUEST,
	BATCH_REJ_TOO_BIG,
	BATCH_REJ_RATIO,
	BATCH_REJ_LIMIT,
	BATCH_REJ_ZSTD,
	BATCH_REJ_MSGPACK,
	BATCH_REJ_DEPTH,
	BATCH_REJ_COUNT,
	BATCH_REJ_STORE_FULL,
	BATCH_REJ_STORE_ERROR,
	BATCH_REJ_DRAINING,
	BATCH_REJ_N
};

/* What became of a batch. */
enum batch_verdict {
	BATCH_STORED,	 /* durable now */
	BATCH_DUPLICATE, /* (agent, seq) was stored before: an ack too */
	BATCH_REFUSED,	 /* malformed or over a limit: never retry as is */
	BATCH_FAILED,	 /* the store failed or is closing: retry later */
};

struct batch_result {
	enum batch_verdict verdict;
	enum batch_reject reason;  /* REFUSED and FAILED */
	int status;		   /* the HTTP answer: 200, 400, 413, 503 */
	const char *message;	   /* REFUSED and FAILED: static text */
	struct tw_batch_info info; /* STORED */
};

/*
 * Longest agent id a sender may use: the store takes 255 bytes, and
 * /v1/records prefixes "records:".
 */
#define BATCH_AGENT_ID_MAX 246

/* Is s[0..n) a usable agent id: 1..BATCH_AGENT_ID_MAX printable ASCII? */
bool batch_agent_id_valid(const char *s, size_t n);

/* Parse a decimal u64 (digits only, no sign or space) from s[0..n). */
bool batch_parse_u64(const char *s, size_t n, uint64_t *out);

/* The decoder limits the collector.limits section asks for. */
void batch_limits_from_conf(const struct collector_limits *cl,
    struct tw_batch_limits *lim);

/*
 * A sink over an open store (borrowed; it must outlive the sink) that
 * counts what it does in m: trawl_collector_{batches,records,bytes}_in_total,
 * duplicates_total, rejected_total{reason}, commit_seconds and the store
 * gauges. NULL when out of memory. Thread-safe: one sink serves every
 * ingest thread and every input.
 */
struct batch_sink *batch_sink_new(struct tw_store *store,
    struct tw_metrics *m);

/*
 * Is (agent, seq) already stored? When it is, counts a duplicate: the
 * caller answers it as an ack without reading the batch.
 */
bool batch_sink_known(struct batch_sink *bs, const char *agent,
    uint64_t seq);

/* Largest scratch buffer batch_sink_put() leaves allocated. */
#define BATCH_SCRATCH_KEEP ((size_t)16 << 20)

/*
 * Decode frame[0..len) with dec into scratch (both the caller's, one per
 * thread; scratch is left empty, its memory kept for the next batch when
 * at most BATCH_SCRATCH_KEEP bytes) under lim, expecting records records (-1:
 * unknown), then store it as (agent, seq), a valid agent id. Fills res and
 * returns its verdict. A REFUSED or FAILED batch is not counted in
 * rejected_total: the caller does that with batch_sink_reject() once it
 * has dealt with it.
 */
enum batch_verdict batch_sink_put(struct batch_sink *bs,
    struct tw_batch_dec *dec, struct tw_buf *scratch,
    const struct tw_batch_limits *lim, const char *agent, uint64_t seq,
    int64_t records, const void *frame, size_t len, struct batch_result *res);

/*
 * Store a frame the collector built itself (already valid, described by
 * info) as (agent, seq); fills res and returns its verdict as
 * batch_sink_put() does.
 */
enum batch_verdict batch_sink_store(struct batch_sink *bs, const char *agent,
    uint64_t seq, const struct tw_batch_info *info, const void *frame,
    size_t len, struct batch_result *res);

/* Count one batch turned away for why in rejected_total. */
void batch_sink_reject(struct batch_sink *bs, enum batch_reject why);

/* The label value of why ("bad_request"). */
const char *batch_reject_name(enum batch_reject why);

/* Free the sink (not the store); NULL is a no-op. */
void batch_sink_free(struct batch_sink *bs);

#endif

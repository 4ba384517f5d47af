/* batch_sink.c: validate a batch frame and store it as one block: the part
 * HTTP ingest and the Kafka input share. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "batch_sink.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

static const char *const reject_names[BATCH_REJ_N] = {
	"no_token", "bad_token", "forbidden", "bad_request", "too_big",
	"ratio", "limit", "zstd", "msgpack", "depth", "count", "store_full",
	"store_error", "draining",
};

/* The store gauges, rendered from tw_store_stats() at scrape time. */
enum store_gauge {
	GAUGE_BYTES,
	GAUGE_SEGMENTS,
	GAUGE_BLOCKS,
	GAUGE_FSYNC,
	GAUGE_N
};

struct batch_sink;

/* What a gauge callback gets: the sink and which gauge. */
struct gauge_arg {
	struct batch_sink *bs;
	enum store_gauge which;
};

struct batch_sink {
	struct tw_store *store;
	struct tw_metrics *m;
	struct gauge_arg gauges[GAUGE_N];
	struct tw_counter *bytes_in, *records_in, *batches_in, *duplicates;
	struct tw_counter *rejected[BATCH_REJ_N];
	struct tw_histogram *commit_seconds;
};

static const struct {
	const char *name, *help;
} gauge_defs[GAUGE_N] = {
	{ "trawl_collector_store_bytes",
	  "Bytes in the store's segment files." },
	{ "trawl_collector_store_segments", "Segment files in the store." },
	{ "trawl_collector_store_blocks", "Blocks in the store." },
	{ "trawl_collector_store_last_fsync_seconds",
	  "Latency of the store's last fdatasync." },
};

bool
batch_agent_id_valid(const char *s, size_t n)
{
	if (s == NULL || n == 0 || n > BATCH_AGENT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

bool
batch_parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

void
batch_limits_from_conf(const struct collector_limits *cl,
    struct tw_batch_limits *lim)
{
	tw_batch_limits_default(lim);
	lim->compressed_max = cl->body_max;
	lim->decompressed_max = cl->batch_max;
	lim->ratio_max = (uint32_t)cl->ratio_max;
	lim->records_max = (uint32_t)cl->records_max;
	lim->record_max = cl->record_max;
	lim->mp.depth_max = (uint32_t)cl->depth_max;
	lim->mp.map_max = (uint32_t)cl->map_max;
	lim->mp.array_max = (uint32_t)cl->map_max;
}

static double
gauge_value(void *arg)
{
	const struct gauge_arg *g = arg;
	struct tw_store_stats st;

	tw_store_stats(g->bs->store, &st);
	switch (g->which) {
	case GAUGE_BYTES:
		return (double)st.bytes;
	case GAUGE_SEGMENTS:
		return (double)st.segments;
	case GAUGE_BLOCKS:
		return (double)st.blocks;
	default:
		return (double)st.last_fsync_ns / 1e9;
	}
}

struct batch_sink *
batch_sink_new(struct tw_store *store, struct tw_metrics *m)
{
	struct batch_sink *bs;
	char labels[64];

	if ((bs = calloc(1, sizeof(*bs))) == NULL)
		return NULL;
	bs->store = store;
	bs->m = m;
	for (size_t i = 0; i < BATCH_REJ_N; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"",
		    reject_names[i]);
		bs->rejected[i] = tw_metrics_counter(m,
		    "trawl_collector_rejected_total",
		    "Batches turned away, by reason.", labels);
	}
	bs->bytes_in = tw_metrics_counter(m, "trawl_collector_bytes_in_total",
	    "Compressed batch bytes stored.", NULL);
	bs->records_in = tw_metrics_counter(m,
	    "trawl_collector_records_in_total", "Records stored.", NULL);
	bs->batches_in = tw_metrics_counter(m,
	    "trawl_collector_batches_in_total", "Batches stored.", NULL);
	bs->duplicates = tw_metrics_counter(m,
	    "trawl_collector_duplicates_total",
	    "Batches acknowledged as already stored.", NULL);
	bs->commit_seconds = tw_metrics_histogram(m,
	    "trawl_collector_commit_seconds",
	    "Time from a decoded batch to its durable ack (group commit, "
	    "fsync included).", NULL, tw_metrics_latency_bounds,
	    TW_METRICS_LATENCY_NBOUNDS);
	for (size_t i = 0; i < GAUGE_N; i++) {
		bs->gauges[i].bs = bs;
		bs->gauges[i].which = (enum store_gauge)i;
		/* A gauge that cannot be registered is only a lost metric. */
		tw_ignore(tw_metrics_gauge_fn(m, gauge_defs[i].name,
		    gauge_defs[i].help, NULL, gauge_value, &bs->gauges[i]));
	}
	return bs;
}

bool
batch_sink_known(struct batch_sink *bs, const char *agent, uint64_t seq)
{
	if (!tw_store_has(bs->store, agent, seq))
		return false;
	tw_counter_inc(bs->duplicates);
	return true;
}

static enum batch_verdict
result(struct batch_result *res, enum batch_verdict v, enum batch_reject why,
    int status, const char *message)
{
	res->verdict = v;
	res->reason = why;
	res->status = status;
	res->message = message;
	return v;
}

/* A tw_batch_decode() error as the answer DESIGN.md §3 gives it. */
static enum batch_verdict
decode_error(struct batch_result *res, int r)
{
	switch (r) {
	case TW_ETOOBIG:
		return result(res, BATCH_REFUSED, BATCH_REJ_TOO_BIG, 413,
		    "batch over a size limit");
	case TW_ERATIO:
		return result(res, BATCH_REFUSED, BATCH_REJ_RATIO, 413,
		    "compression ratio over ratio_max");
	case TW_ELIMIT:
		return result(res, BATCH_REFUSED, BATCH_REJ_LIMIT, 413,
		    "over a record or frame limit");
	case TW_EZSTD:
		return result(res, BATCH_REFUSED, BATCH_REJ_ZSTD, 400,
		    "bad zstd frame");
	case TW_EDEPTH:
		return result(res, BATCH_REFUSED, BATCH_REJ_DEPTH, 400,
		    "msgpack nested too deep");
	case TW_ECOUNT:
		return result(res, BATCH_REFUSED, BATCH_REJ_COUNT, 400,
		    "record count does not match Trawl-Records");
	case TW_ENOMEM:
		return result(res, BATCH_FAILED, BATCH_REJ_STORE_ERROR, 503,
		    "out of memory");
	default:
		return result(res, BATCH_REFUSED, BATCH_REJ_MSGPACK, 400,
		    "bad msgpack records");
	}
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

enum batch_verdict
batch_sink_store(struct batch_sink *bs, const char *agent, uint64_t seq,
    const struct tw_batch_info *info, const void *frame, size_t len,
    struct batch_result *res)
{
	struct timespec t0;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = tw_store_append(bs->store, agent, seq, info, frame, len, NULL);
	tw_histogram_observe(bs->commit_seconds, seconds_since(&t0));
	switch (r) {
	case 0:
		tw_counter_inc(bs->batches_in);
		tw_counter_add(bs->records_in, info->records);
		tw_counter_add(bs->bytes_in, len);
		res->info = *info;
		return result(res, BATCH_STORED, BATCH_REJ_N, 200, NULL);
	case TW_EEXISTS:
		tw_counter_inc(bs->duplicates);
		return result(res, BATCH_DUPLICATE, BATCH_REJ_N, 200, NULL);
	case TW_ETOOBIG:
		return result(res, BATCH_REFUSED, BATCH_REJ_TOO_BIG, 413,
		    "batch over the store's block limit");
	case TW_ECLOSED:
		return result(res, BATCH_FAILED, BATCH_REJ_DRAINING, 503,
		    "shutting down");
	case TW_EIO:
		if (errno == ENOSPC)
			return result(res, BATCH_FAILED, BATCH_REJ_STORE_FULL,
			    503, "store full");
		/* FALLTHROUGH */
	default:
		tw_error("ingest", "cannot store a batch", "agent", agent,
		    "error", tw_strerror(r));
		return result(res, BATCH_FAILED, BATCH_REJ_STORE_ERROR, 503,
		    "cannot store the batch");
	}
}

enum batch_verdict
batch_sink_put(struct batch_sink *bs, struct tw_batch_dec *dec,
    struct tw_buf *scratch, const struct tw_batch_limits *lim,
    const char *agent, uint64_t seq, int64_t records, const void *frame,
    size_t len, struct batch_result *res)
{
	struct tw_batch_info info;
	int r;

	/* Only the verdict of the decoder is needed, not the records. */
	r = tw_batch_decode(dec, frame, len, lim, records, scratch, &info);
	/*
	 * Kept for the next batch, which then decompresses into memory that
	 * is already mapped, unless one unusually large batch grew it.
	 */
	if (scratch->cap > BATCH_SCRATCH_KEEP + 1)
		tw_buf_cleanup(scratch);
	else
		tw_buf_reset(scratch);
	if (r != 0)
		return decode_error(res, r);
	return batch_sink_store(bs, agent, seq, &info, frame, len, res);
}

void
batch_sink_reject(struct batch_sink *bs, enum batch_reject why)
{
	if (why < BATCH_REJ_N)
		tw_counter_inc(bs->rejected[why]);
}

const char *
batch_reject_name(enum batch_reject why)
{
	return why < BATCH_REJ_N ? reject_names[why] : "none";
}

void
batch_sink_free(struct batch_sink *bs)
{
	if (bs == NULL)
		return;
	/* Detach the gauges: a scrape must not reach a freed sink. */
	for (size_t i = 0; i < GAUGE_N; i++)
		tw_ignore(tw_metrics_gauge_fn(bs->m, gauge_defs[i].name,
		    gauge_defs[i].help, NULL, NULL, NULL));
	free(bs);
}

/* ingest.c: POST /v1/batches and /v1/records: authenticated, bounded,
 * acknowledged only once stored. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "batch.h"
#include "httpd.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "parser.h"
#include "store.h"
#include "timefmt.h"
#include "tokens.h"

#define BATCH_CONTENT_TYPE "application/vnd.trawl.batch+msgpack"
#define AGENT_ID_MAX 255
#define RECORDS_PREFIX "records:"

/* Why a request was turned away: the label of rejected_total. */
enum reject {
	REJ_NO_TOKEN,
	REJ_BAD_TOKEN,
	REJ_FORBIDDEN,
	REJ_BAD_REQUEST,
	REJ_TOO_BIG,
	REJ_RATIO,
	REJ_LIMIT,
	REJ_ZSTD,
	REJ_MSGPACK,
	REJ_DEPTH,
	REJ_COUNT,
	REJ_STORE_FULL,
	REJ_STORE_ERROR,
	REJ_DRAINING,
	REJ_N
};

static const char *const reject_names[REJ_N] = {
	"no_token", "bad_token", "forbidden", "bad_request", "too_big",
	"ratio", "limit", "zstd", "msgpack", "depth", "count", "store_full",
	"store_error", "draining",
};

/* What a reload may change, swapped under the lock. */
struct ingest_policy {
	struct tokens *tokens; /* NULL: no authentication */
	struct tw_batch_limits limits;
};

struct ingest {
	struct tw_store *store;
	pthread_rwlock_t lock;
	struct ingest_policy policy;
	pthread_key_t tls; /* struct worker per handler thread */
	atomic_bool draining;
	_Atomic uint64_t records_seq; /* seq of /v1/records batches */

	struct tw_counter *requests[6]; /* 200 400 401 403 413 503/429 */
	struct tw_counter *bytes_in, *records_in, *batches_in, *duplicates;
	struct tw_counter *rejected[REJ_N];
	struct tw_histogram *commit_seconds;
};

/* Per handler thread: a zstd decoder, an encoder and their buffers. */
struct worker {
	struct tw_batch_dec *dec;
	struct tw_batch_enc *enc;
	struct tw_buf records;
	struct tw_buf frame;
};

static void
worker_free(void *p)
{
	struct worker *w = p;

	if (w == NULL)
		return;
	tw_batch_dec_free(w->dec);
	tw_batch_enc_free(w->enc);
	tw_buf_cleanup(&w->records);
	tw_buf_cleanup(&w->frame);
	free(w);
}

static struct worker *
worker_get(struct ingest *in)
{
	struct worker *w = pthread_getspecific(in->tls);

	if (w != NULL)
		return w;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	tw_buf_init(&w->records, (size_t)1 << 31);
	tw_buf_init(&w->frame, (size_t)1 << 31);
	if ((w->dec = tw_batch_dec_new()) == NULL ||
	    (w->enc = tw_batch_enc_new(1)) == NULL ||
	    pthread_setspecific(in->tls, w) != 0) {
		worker_free(w);
		return NULL;
	}
	return w;
}

static void
policy_limits(const struct collector_limits *cl, struct tw_batch_limits *lim)
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

/* Build the policy a config asks for; *why on a bad tokens file. */
static int
policy_load(const struct collector_conf *conf, struct ingest_policy *p,
    char **why)
{
	memset(p, 0, sizeof(*p));
	policy_limits(&conf->collector.limits, &p->limits);
	if (conf->collector.tokens_file != NULL &&
	    (p->tokens = tokens_load(conf->collector.tokens_file, why)) ==
	    NULL)
		return TW_ECONFIG;
	return 0;
}

static void
count_status(struct ingest *in, int status)
{
	static const int codes[] = { 200, 400, 401, 403, 413, 503 };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i] == status || (status == 429 && codes[i] == 503)) {
			tw_counter_inc(in->requests[i]);
			return;
		}
}

/* Turn a request away: status, a JSON reason, and the counters. */
static int
reject(struct ingest *in, struct tw_http_resp *resp, int status,
    enum reject why, const char *reason)
{
	tw_counter_inc(in->rejected[why]);
	count_status(in, status);
	tw_ignore(tw_http_resp_error(resp, status, reason));
	if (status == 401)
		tw_ignore(tw_http_resp_add_header(resp, "WWW-Authenticate",
		    "Bearer"));
	if (status == 503 || status == 429)
		tw_ignore(tw_http_resp_add_header(resp, "Retry-After",
		    why == REJ_STORE_FULL ? "30" : "5"));
	return 1;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool
valid_agent_id(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > AGENT_ID_MAX - sizeof(RECORDS_PREFIX))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* The token check both routes share; 0 or a rejection already filled. */
static int
authorize(struct ingest *in, const struct tw_http_req *req,
    const char *agent, struct tw_http_resp *resp)
{
	enum tokens_verdict v = TOKENS_OK;

	pthread_rwlock_rdlock(&in->lock);
	if (in->policy.tokens != NULL)
		v = tokens_check(in->policy.tokens, agent,
		    tw_http_req_header(req, "Authorization"));
	pthread_rwlock_unlock(&in->lock);
	switch (v) {
	case TOKENS_OK:
		return 0;
	case TOKENS_MISSING:
		return reject(in, resp, 401, REJ_NO_TOKEN,
		    "missing bearer token");
	case TOKENS_UNKNOWN:
		return reject(in, resp, 401, REJ_BAD_TOKEN, "invalid token");
	case TOKENS_FORBIDDEN:
		break;
	}
	return reject(in, resp, 403, REJ_FORBIDDEN,
	    "token not allowed for this agent id");
}

/* Before any body byte: identity, token, limits, and known duplicates. */
static int
batches_headers(void *arg, const struct tw_http_req *req,
    struct tw_http_resp *resp)
{
	struct ingest *in = arg;
	const char *agent = tw_http_req_header(req, "Trawl-Agent");
	const char *ctype = tw_http_req_header(req, "Content-Type");
	const char *cenc = tw_http_req_header(req, "Content-Encoding");
	uint64_t seq, records;
	uint32_t records_max;

	if (atomic_load(&in->draining))
		return reject(in, resp, 503, REJ_DRAINING, "shutting down");
	if (!valid_agent_id(agent))
		return reject(in, resp, 400, REJ_BAD_REQUEST,
		    "missing or invalid Trawl-Agent header");
	if (authorize(in, req, agent, resp) != 0)
		return 1;
	if (!parse_u64(tw_http_req_header(req, "Trawl-Batch"), &seq))
		return reject(in, resp, 400, REJ_BAD_REQUEST,
		    "missing or invalid Trawl-Batch header");
	if (!parse_u64(tw_http_req_header(req, "Trawl-Records"), &records))
		return reject(in, resp, 400, REJ_BAD_REQUEST,
		    "missing or invalid Trawl-Records header");
	if (ctype == NULL || strncasecmp(ctype, BATCH_CONTENT_TYPE,
	    strlen(BATCH_CONTENT_TYPE)) != 0)
		return reject(in, resp, 400, REJ_BAD_REQUEST,
		    "Content-Type must be " BATCH_CONTENT_TYPE);
	if (cenc == NULL || strcasecmp(cenc, "zstd") != 0)
		return reject(in, resp, 400, REJ_BAD_REQUEST,
		    "Content-Encoding must be zstd");
	pthread_rwlock_rdlock(&in->lock);
	records_max = in->policy.limits.records_max;
	pthread_rwlock_unlock(&in->lock);
	if (records > records_max)
		return reject(in, resp, 413, REJ_LIMIT,
		    "more records than records_max");
	/* A retry of a stored batch is acknowledged without its body. */
	if (tw_store_has(in->store, agent, seq)) {
		tw_counter_inc(in->duplicates);
		count_status(in, 200);
		tw_ignore(tw_http_resp_set_body(resp, "application/json",
		    "{\"accepted\":0,\"duplicate\":true}",
		    strlen("{\"accepted\":0,\"duplicate\":true}")));
		return 1;
	}
	return 0;
}

static int
decode_error(struct ingest *in, struct tw_http_resp *resp, int r)
{
	switch (r) {
	case TW_ETOOBIG:
		return reject(in, resp, 413, REJ_TOO_BIG,
		    "batch over a size limit");
	case TW_ERATIO:
		return reject(in, resp, 413, REJ_RATIO,
		    "compression ratio over ratio_max");
	case TW_ELIMIT:
		return reject(in, resp, 413, REJ_LIMIT,
		    "over a record or frame limit");
	case TW_EZSTD:
		return reject(in, resp, 400, REJ_ZSTD, "bad zstd frame");
	case TW_EDEPTH:
		return reject(in, resp, 400, REJ_DEPTH,
		    "msgpack nested too deep");
	case TW_ECOUNT:
		return reject(in, resp, 400, REJ_COUNT,
		    "record count does not match Trawl-Records");
	case TW_ENOMEM:
		return reject(in, resp, 503, REJ_STORE_ERROR, "out of memory");
	default:
		return reject(in, resp, 400, REJ_MSGPACK, "bad msgpack records");
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

/* Store one decoded batch; 0 stored, 1 duplicate, else a rejection. */
static int
store_batch(struct ingest *in, struct tw_http_resp *resp, const char *agent,
    uint64_t seq, const struct tw_batch_info *info, const void *frame,
    size_t len)
{
	struct timespec t0;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = tw_store_append(in->store, agent, seq, info, frame, len, NULL);
	tw_histogram_observe(in->commit_seconds, seconds_since(&t0));
	switch (r) {
	case 0:
		tw_counter_inc(in->batches_in);
		tw_counter_add(in->records_in, info->records);
		tw_counter_add(in->bytes_in, len);
		return 0;
	case TW_EEXISTS:
		tw_counter_inc(in->duplicates);
		return 1;
	case TW_ETOOBIG:
		return -reject(in, resp, 413, REJ_TOO_BIG,
		    "batch over the store's block limit");
	case TW_ECLOSED:
		return -reject(in, resp, 503, REJ_DRAINING, "shutting down");
	case TW_EIO:
		if (errno == ENOSPC)
			return -reject(in, resp, 503, REJ_STORE_FULL,
			    "store full");
		/* FALLTHROUGH */
	default:
		tw_error("ingest", "cannot store a batch", "agent", agent,
		    "error", tw_strerror(r));
		return -reject(in, resp, 503, REJ_STORE_ERROR,
		    "cannot store the batch");
	}
}

static void
batches_request(void *arg, const struct tw_http_req *req,
    struct tw_http_resp *resp)
{
	struct ingest *in = arg;
	const char *agent = tw_http_req_header(req, "Trawl-Agent");
	struct tw_batch_limits lim;
	struct tw_batch_info info;
	struct worker *w;
	uint64_t seq = 0, records = 0;
	char body[64];
	int r;

	parse_u64(tw_http_req_header(req, "Trawl-Batch"), &seq);
	parse_u64(tw_http_req_header(req, "Trawl-Records"), &records);
	if ((w = worker_get(in)) == NULL) {
		reject(in, resp, 503, REJ_STORE_ERROR, "out of memory");
		return;
	}
	pthread_rwlock_rdlock(&in->lock);
	lim = in->policy.limits;
	pthread_rwlock_unlock(&in->lock);
	if ((r = tw_batch_decode(w->dec, req->body, req->body_len, &lim,
	    (int64_t)records, &w->records, &info)) != 0) {
		decode_error(in, resp, r);
		tw_buf_reset(&w->records);
		return;
	}
	tw_buf_reset(&w->records);
	if ((r = store_batch(in, resp, agent, seq, &info, req->body,
	    req->body_len)) < 0)
		return;
	count_status(in, 200);
	if (r == 1)
		snprintf(body, sizeof(body), "{\"accepted\":0,"
		    "\"duplicate\":true}");
	else
		snprintf(body, sizeof(body), "{\"accepted\":%" PRIu32 "}",
		    info.records);
	tw_ignore(tw_http_resp_set_body(resp, "application/json", body,
	    strlen(body)));
}

/* /v1/records: the caller names itself in Trawl-Agent (default "http"). */
static int
records_headers(void *arg, const struct tw_http_req *req,
    struct tw_http_resp *resp)
{
	struct ingest *in = arg;
	const char *agent = tw_http_req_header(req, "Trawl-Agent");

	if (atomic_load(&in->draining))
		return reject(in, resp, 503, REJ_DRAINING, "shutting down");
	if (agent != NULL && !valid_agent_id(agent))
		return reject(in, resp, 400, REJ_BAD_REQUEST,
		    "invalid Trawl-Agent header");
	if (authorize(in, req, agent != NULL ? agent : "http", resp) != 0)
		return 1;
	if (tw_http_req_query(req, "format") == NULL)
		return reject(in, resp, 400, REJ_BAD_REQUEST,
		    "the format query parameter is required");
	return 0;
}

struct records_ctx {
	struct ingest *in;
	struct worker *w;
	struct tw_http_resp *resp;
	const struct tw_batch_limits *lim;
	const char *agent; /* "records:<agent>" */
	uint64_t accepted;
	int failed; /* a rejection was sent */
};

/* Close the batch being built and store it under a fresh seq. */
static int
records_flush(struct records_ctx *c)
{
	struct tw_batch_info info;
	uint64_t seq;
	int r;

	if (tw_batch_enc_records(c->w->enc) == 0)
		return 0;
	tw_buf_reset(&c->w->frame);
	if ((r = tw_batch_enc_finish(c->w->enc, &c->w->frame, &info)) != 0) {
		tw_batch_enc_reset(c->w->enc);
		c->failed = reject(c->in, c->resp, 503, REJ_STORE_ERROR,
		    "cannot build a batch");
		return r;
	}
	seq = atomic_fetch_add(&c->in->records_seq, 1);
	if ((r = store_batch(c->in, c->resp, c->agent, seq, &info,
	    c->w->frame.data, c->w->frame.len)) < 0) {
		c->failed = 1;
		return TW_EIO;
	}
	c->accepted += info.records;
	return 0;
}

static int
records_emit(void *arg, const uint8_t *rec, size_t len)
{
	struct records_ctx *c = arg;
	int r;

	if ((r = tw_batch_enc_add(c->w->enc, rec, len)) == TW_ETOOBIG) {
		if ((r = records_flush(c)) != 0)
			return r;
		r = tw_batch_enc_add(c->w->enc, rec, len);
	}
	if (r != 0 && !c->failed)
		c->failed = reject(c->in, c->resp, 413, REJ_LIMIT,
		    "a record over record_max");
	return r;
}

static void
records_request(void *arg, const struct tw_http_req *req,
    struct tw_http_resp *resp)
{
	struct ingest *in = arg;
	const char *agent = tw_http_req_header(req, "Trawl-Agent");
	const char *format = tw_http_req_query(req, "format");
	struct records_ctx c = { .in = in, .resp = resp };
	struct tw_batch_limits lim;
	struct tw_parse_opts opts;
	struct tw_parser *p = NULL;
	char name[AGENT_ID_MAX + 1], body[64], *why = NULL;
	const char *s = req->body, *end = req->body + req->body_len, *nl;
	int r = 0;

	snprintf(name, sizeof(name), RECORDS_PREFIX "%s",
	    agent != NULL ? agent : "http");
	c.agent = name;
	pthread_rwlock_rdlock(&in->lock);
	lim = in->policy.limits;
	pthread_rwlock_unlock(&in->lock);
	c.lim = &lim;
	if ((c.w = worker_get(in)) == NULL) {
		reject(in, resp, 503, REJ_STORE_ERROR, "out of memory");
		return;
	}
	tw_batch_enc_set_limits(c.w->enc, &lim);
	tw_parse_opts_default(&opts);
	opts.observed_time = true;
	if ((p = tw_parser_new(format, &opts, &why)) == NULL) {
		reject(in, resp, 400, REJ_BAD_REQUEST,
		    why != NULL ? why : "unknown format");
		free(why);
		return;
	}
	if (tw_parser_is_document(p)) {
		r = tw_parser_feed(p, s, req->body_len, records_emit, &c);
	} else {
		for (; r == 0 && s < end; s = nl + 1) {
			if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
				nl = end;
			if (nl > s)
				r = tw_parser_feed(p, s, (size_t)(nl - s),
				    records_emit, &c);
		}
	}
	if (r == 0)
		r = tw_parser_flush(p, records_emit, &c);
	if (r == 0)
		r = records_flush(&c);
	tw_parser_free(p);
	tw_batch_enc_reset(c.w->enc);
	if (c.failed)
		return;
	if (r != 0) {
		reject(in, resp, 400, REJ_BAD_REQUEST, tw_strerror(r));
		return;
	}
	count_status(in, 200);
	snprintf(body, sizeof(body), "{\"accepted\":%" PRIu64 "}",
	    c.accepted);
	tw_ignore(tw_http_resp_set_body(resp, "application/json", body,
	    strlen(body)));
}

static double
store_gauge(struct ingest *in, int which)
{
	struct tw_store_stats st;

	tw_store_stats(in->store, &st);
	switch (which) {
	case 0:
		return (double)st.bytes;
	case 1:
		return (double)st.segments;
	case 2:
		return (double)st.blocks;
	default:
		return (double)st.last_fsync_ns / 1e9;
	}
}

static double
gauge_bytes(void *arg)
{
	return store_gauge(arg, 0);
}

static double
gauge_segments(void *arg)
{
	return store_gauge(arg, 1);
}

static double
gauge_blocks(void *arg)
{
	return store_gauge(arg, 2);
}

static double
gauge_fsync(void *arg)
{
	return store_gauge(arg, 3);
}

static void
register_metrics(struct ingest *in, struct tw_metrics *m)
{
	static const char *const codes[] = { "200", "400", "401", "403",
		"413", "503" };
	char labels[64];

	for (size_t i = 0; i < 6; i++) {
		snprintf(labels, sizeof(labels), "status=\"%s\"", codes[i]);
		in->requests[i] = tw_metrics_counter(m,
		    "trawl_collector_requests_total",
		    "Ingest requests by response status (503 includes 429).",
		    labels);
	}
	for (size_t i = 0; i < REJ_N; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"",
		    reject_names[i]);
		in->rejected[i] = tw_metrics_counter(m,
		    "trawl_collector_rejected_total",
		    "Ingest requests turned away, by reason.", labels);
	}
	in->bytes_in = tw_metrics_counter(m, "trawl_collector_bytes_in_total",
	    "Compressed batch bytes stored.", NULL);
	in->records_in = tw_metrics_counter(m,
	    "trawl_collector_records_in_total", "Records stored.", NULL);
	in->batches_in = tw_metrics_counter(m,
	    "trawl_collector_batches_in_total", "Batches stored.", NULL);
	in->duplicates = tw_metrics_counter(m,
	    "trawl_collector_duplicates_total",
	    "Batches acknowledged as already stored.", NULL);
	in->commit_seconds = tw_metrics_histogram(m,
	    "trawl_collector_commit_seconds",
	    "Time from a decoded batch to its durable ack (group commit, "
	    "fsync included).", NULL, tw_metrics_latency_bounds,
	    TW_METRICS_LATENCY_NBOUNDS);
	tw_ignore(tw_metrics_gauge_fn(m, "trawl_collector_store_bytes",
	    "Bytes in the store's segment files.", NULL, gauge_bytes, in));
	tw_ignore(tw_metrics_gauge_fn(m, "trawl_collector_store_segments",
	    "Segment files in the store.", NULL, gauge_segments, in));
	tw_ignore(tw_metrics_gauge_fn(m, "trawl_collector_store_blocks",
	    "Blocks in the store.", NULL, gauge_blocks, in));
	tw_ignore(tw_metrics_gauge_fn(m,
	    "trawl_collector_store_last_fsync_seconds",
	    "Latency of the store's last fdatasync.", NULL, gauge_fsync, in));
}

struct ingest *
ingest_new(const struct collector_conf *conf, struct tw_store *store,
    struct tw_metrics *m, struct tw_httpd *h, char **why)
{
	struct tw_httpd_route_ops batches = {
		.body_max = conf->collector.limits.body_max,
		.on_headers = batches_headers,
		.on_request = batches_request,
	};
	struct tw_httpd_route_ops records = {
		.body_max = conf->collector.limits.body_max,
		.on_headers = records_headers,
		.on_request = records_request,
	};
	struct ingest *in;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->store = store;
	/* Unique and increasing across restarts: the clock in ns. */
	atomic_store(&in->records_seq, (uint64_t)tw_time_now_ns());
	if (pthread_rwlock_init(&in->lock, NULL) != 0) {
		free(in);
		return NULL;
	}
	if (pthread_key_create(&in->tls, worker_free) != 0) {
		pthread_rwlock_destroy(&in->lock);
		free(in);
		return NULL;
	}
	if (policy_load(conf, &in->policy, why) != 0)
		goto fail;
	register_metrics(in, m);
	if (tw_httpd_route(h, "POST", "/v1/batches", &batches, in) != 0 ||
	    tw_httpd_route(h, "POST", "/v1/records", &records, in) != 0) {
		if (why != NULL)
			*why = strdup("cannot register the ingest routes");
		goto fail;
	}
	return in;
fail:
	ingest_free(in);
	return NULL;
}

int
ingest_reload(struct ingest *in, const struct collector_conf *conf,
    char **why)
{
	struct ingest_policy next, old;

	if (policy_load(conf, &next, why) != 0)
		return TW_ECONFIG;
	pthread_rwlock_wrlock(&in->lock);
	old = in->policy;
	in->policy = next;
	pthread_rwlock_unlock(&in->lock);
	tokens_free(old.tokens);
	return 0;
}

void
ingest_drain(struct ingest *in)
{
	atomic_store(&in->draining, true);
}

void
ingest_free(struct ingest *in)
{
	struct worker *w;

	if (in == NULL)
		return;
	/* This thread's worker, if any; handler threads freed theirs. */
	if ((w = pthread_getspecific(in->tls)) != NULL)
		worker_free(w);
	pthread_key_delete(in->tls);
	tokens_free(in->policy.tokens);
	pthread_rwlock_destroy(&in->lock);
	free(in);
}

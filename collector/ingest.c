/* ingest.c: POST /v1/batches and /v1/records: authenticated, bounded,
 * acknowledged only once stored. */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "batch.h"
#include "batch_sink.h"
#include "httpd.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "parser.h"
#include "timefmt.h"
#include "tokens.h"

#define BATCH_CONTENT_TYPE "application/vnd.trawl.batch+msgpack"
#define RECORDS_PREFIX "records:"

/* What a reload may change, swapped under the lock. */
struct ingest_policy {
	struct tokens *tokens; /* NULL: no authentication */
	struct tw_batch_limits limits;
};

struct ingest {
	struct batch_sink *sink;
	pthread_rwlock_t lock;
	struct ingest_policy policy;
	pthread_key_t tls; /* struct worker per handler thread */
	atomic_bool draining;
	_Atomic uint64_t records_seq; /* seq of /v1/records batches */

	struct tw_counter *requests[6]; /* 200 400 401 403 413 503/429 */
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

/* Build the policy a config asks for; *why on a bad tokens file. */
static int
policy_load(const struct collector_conf *conf, struct ingest_policy *p,
    char **why)
{
	memset(p, 0, sizeof(*p));
	batch_limits_from_conf(&conf->collector.limits, &p->limits);
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
    enum batch_reject why, const char *reason)
{
	batch_sink_reject(in->sink, why);
	count_status(in, status);
	tw_ignore(tw_http_resp_error(resp, status, reason));
	if (status == 401)
		tw_ignore(tw_http_resp_add_header(resp, "WWW-Authenticate",
		    "Bearer"));
	if (status == 503 || status == 429)
		tw_ignore(tw_http_resp_add_header(resp, "Retry-After",
		    why == BATCH_REJ_STORE_FULL ? "30" : "5"));
	return 1;
}

/* A sink result that is not an ack, as the HTTP answer it calls for. */
static int
reject_result(struct ingest *in, struct tw_http_resp *resp,
    const struct batch_result *res)
{
	return reject(in, resp, res->status, res->reason, res->message);
}

static bool
parse_u64(const char *s, uint64_t *out)
{
	return s != NULL && batch_parse_u64(s, strlen(s), out);
}

static bool
valid_agent_id(const char *s)
{
	return s != NULL && batch_agent_id_valid(s, strlen(s));
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
		/* Binding agent ids to certificates is not enforced yet. */
		if (req->client_cn != NULL && strcmp(req->client_cn, agent) != 0)
			tw_debug("ingest", "client certificate name differs from "
			    "the agent id; not enforced", "agent", agent,
			    "client_cn", req->client_cn, "peer", req->peer);
		return 0;
	case TOKENS_MISSING:
		return reject(in, resp, 401, BATCH_REJ_NO_TOKEN,
		    "missing bearer token");
	case TOKENS_UNKNOWN:
		return reject(in, resp, 401, BATCH_REJ_BAD_TOKEN,
		    "invalid token");
	case TOKENS_FORBIDDEN:
		break;
	}
	return reject(in, resp, 403, BATCH_REJ_FORBIDDEN,
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
		return reject(in, resp, 503, BATCH_REJ_DRAINING,
		    "shutting down");
	if (!valid_agent_id(agent))
		return reject(in, resp, 400, BATCH_REJ_BAD_REQUEST,
		    "missing or invalid Trawl-Agent header");
	if (authorize(in, req, agent, resp) != 0)
		return 1;
	if (!parse_u64(tw_http_req_header(req, "Trawl-Batch"), &seq))
		return reject(in, resp, 400, BATCH_REJ_BAD_REQUEST,
		    "missing or invalid Trawl-Batch header");
	if (!parse_u64(tw_http_req_header(req, "Trawl-Records"), &records))
		return reject(in, resp, 400, BATCH_REJ_BAD_REQUEST,
		    "missing or invalid Trawl-Records header");
	if (ctype == NULL || strncasecmp(ctype, BATCH_CONTENT_TYPE,
	    strlen(BATCH_CONTENT_TYPE)) != 0)
		return reject(in, resp, 400, BATCH_REJ_BAD_REQUEST,
		    "Content-Type must be " BATCH_CONTENT_TYPE);
	if (cenc == NULL || strcasecmp(cenc, "zstd") != 0)
		return reject(in, resp, 400, BATCH_REJ_BAD_REQUEST,
		    "Content-Encoding must be zstd");
	pthread_rwlock_rdlock(&in->lock);
	records_max = in->policy.limits.records_max;
	pthread_rwlock_unlock(&in->lock);
	if (records > records_max)
		return reject(in, resp, 413, BATCH_REJ_LIMIT,
		    "more records than records_max");
	/* A retry of a stored batch is acknowledged without its body. */
	if (batch_sink_known(in->sink, agent, seq)) {
		count_status(in, 200);
		tw_ignore(tw_http_resp_set_body(resp, "application/json",
		    "{\"accepted\":0,\"duplicate\":true}",
		    strlen("{\"accepted\":0,\"duplicate\":true}")));
		return 1;
	}
	return 0;
}

static void
batches_request(void *arg, const struct tw_http_req *req,
    struct tw_http_resp *resp)
{
	struct ingest *in = arg;
	const char *agent = tw_http_req_header(req, "Trawl-Agent");
	struct tw_batch_limits lim;
	struct batch_result res;
	struct worker *w;
	uint64_t seq = 0, records = 0;
	char body[64];

	parse_u64(tw_http_req_header(req, "Trawl-Batch"), &seq);
	parse_u64(tw_http_req_header(req, "Trawl-Records"), &records);
	if ((w = worker_get(in)) == NULL) {
		reject(in, resp, 503, BATCH_REJ_STORE_ERROR, "out of memory");
		return;
	}
	pthread_rwlock_rdlock(&in->lock);
	lim = in->policy.limits;
	pthread_rwlock_unlock(&in->lock);
	switch (batch_sink_put(in->sink, w->dec, &w->records, &lim, agent,
	    seq, (int64_t)records, req->body, req->body_len, &res)) {
	case BATCH_STORED:
		snprintf(body, sizeof(body), "{\"accepted\":%" PRIu32 "}",
		    res.info.records);
		break;
	case BATCH_DUPLICATE:
		snprintf(body, sizeof(body), "{\"accepted\":0,"
		    "\"duplicate\":true}");
		break;
	default:
		reject_result(in, resp, &res);
		return;
	}
	count_status(in, 200);
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
		return reject(in, resp, 503, BATCH_REJ_DRAINING,
		    "shutting down");
	if (agent != NULL && !valid_agent_id(agent))
		return reject(in, resp, 400, BATCH_REJ_BAD_REQUEST,
		    "invalid Trawl-Agent header");
	if (authorize(in, req, agent != NULL ? agent : "http", resp) != 0)
		return 1;
	if (tw_http_req_query(req, "format") == NULL)
		return reject(in, resp, 400, BATCH_REJ_BAD_REQUEST,
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
	struct batch_result res;
	uint64_t seq;
	int r;

	if (tw_batch_enc_records(c->w->enc) == 0)
		return 0;
	tw_buf_reset(&c->w->frame);
	if ((r = tw_batch_enc_finish(c->w->enc, &c->w->frame, &info)) != 0) {
		tw_batch_enc_reset(c->w->enc);
		c->failed = reject(c->in, c->resp, 503, BATCH_REJ_STORE_ERROR,
		    "cannot build a batch");
		return r;
	}
	seq = atomic_fetch_add(&c->in->records_seq, 1);
	if (batch_sink_store(c->in->sink, c->agent, seq, &info,
	    c->w->frame.data, c->w->frame.len, &res) > BATCH_DUPLICATE) {
		c->failed = reject_result(c->in, c->resp, &res);
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
		c->failed = reject(c->in, c->resp, 413, BATCH_REJ_LIMIT,
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
	char name[sizeof(RECORDS_PREFIX) + BATCH_AGENT_ID_MAX], body[64];
	char *why = NULL;
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
		reject(in, resp, 503, BATCH_REJ_STORE_ERROR, "out of memory");
		return;
	}
	tw_batch_enc_set_limits(c.w->enc, &lim);
	tw_parse_opts_default(&opts);
	opts.observed_time = true;
	if ((p = tw_parser_new(format, &opts, &why)) == NULL) {
		reject(in, resp, 400, BATCH_REJ_BAD_REQUEST,
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
		reject(in, resp, 400, BATCH_REJ_BAD_REQUEST, tw_strerror(r));
		return;
	}
	count_status(in, 200);
	snprintf(body, sizeof(body), "{\"accepted\":%" PRIu64 "}",
	    c.accepted);
	tw_ignore(tw_http_resp_set_body(resp, "application/json", body,
	    strlen(body)));
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
}
struct ingest *
ingest_new(const struct collector_conf *conf, struct batch_sink *sink,
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
	in->sink = sink;
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

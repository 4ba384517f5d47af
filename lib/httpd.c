/* httpd.c: a small HTTP/1.1 server over libmicrohttpd for the daemons. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "buf.h"
#include "err.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"

#define METRICS_RENDER_MAX ((size_t)64 << 20)
#define DISCARD_MIN ((size_t)64 << 10)
#define LISTEN_BACKLOG 128
#define LABELS_MAX 1024
#define CLIENT_CN_MAX 256 /* with the NUL */
#define BODY_CACHE_N 16	  /* request body buffers kept for reuse, at most */
#define BODY_KEEP_MAX ((size_t)8 << 20) /* larger bodies are not kept */
#define SAN_MAX 64	  /* subject alternative names looked at */

#define REQUESTS_NAME "trawl_http_requests_total"
#define REQUESTS_HELP "HTTP requests answered, by route and status code."
#define DURATION_NAME "trawl_http_request_duration_seconds"
#define DURATION_HELP "HTTP request duration in seconds, by route."

/* Codes whose counter each route caches; others are looked up each time. */
static const int cached_codes[] = {
	200, 201, 202, 204, 400, 401, 403, 404, 405, 408, 413, 415, 429, 500,
	503,
};
#define NCACHED (sizeof(cached_codes) / sizeof(cached_codes[0]))

struct route_stats {
	char *path; /* the label value */
	struct tw_counter *_Atomic by_code[NCACHED];
	struct tw_histogram *duration;
};

struct route {
	char *method;
	char *path;
	struct tw_httpd_route_ops ops;
	void *arg;
	struct route_stats stats;
};

struct tw_httpd {
	int fd; /* listening socket until libmicrohttpd takes it */
	int port;
	struct tw_metrics *metrics;
	struct tw_httpd_opts opts;
	struct route *routes;
	size_t nroutes;
	struct route_stats other; /* requests for unknown paths */
	struct MHD_Daemon *daemon;
	int started;
	atomic_bool stopping;
	atomic_uint inflight;
	pthread_mutex_t ready_lock;
	bool ready;
	char *ready_reason;
	/* TLS: PEM text libmicrohttpd borrows until it stops; NULL: plain. */
	char *tls_cert;
	char *tls_key;
	size_t tls_key_len;
	char *tls_ca; /* NULL: no client certificates asked for */
	/*
	 * Request body buffers of finished requests, kept for the next ones
	 * (a fresh buffer costs a page fault per page): at most
	 * min(threads, BODY_CACHE_N) of at most BODY_KEEP_MAX bytes each.
	 */
	pthread_mutex_t body_lock;
	struct tw_buf body_cache[BODY_CACHE_N];
	size_t nbody_cache;
};

/* One request, from its head to the end of its response. */
struct request {
	struct tw_httpd *h;
	const struct route *route;
	struct route_stats *stats;
	struct tw_http_req req;
	struct tw_http_kv *kv; /* headers, then query arguments */
	char peer[INET6_ADDRSTRLEN];
	char client_cn[CLIENT_CN_MAX];
	struct tw_http_resp resp;
	struct tw_buf body;
	size_t received;
	int drop;   /* answer with this status once the body is in */
	int queued; /* a response was queued */
	int code;   /* status counted in metrics */
	struct timespec start;
};

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    TW_PRINTF(2, 0);

static void
set_why(char **why, const char *fmt, ...) TW_PRINTF(2, 3);

static void
set_why(char **why, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (why == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	free(*why);
	*why = strdup(line);
}

/* ---- requests and responses ---- */

const char *
tw_http_req_header(const struct tw_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

const char *
tw_http_req_query(const struct tw_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].name, name) == 0)
			return req->query[i].value;
	return NULL;
}

void
tw_http_resp_init(struct tw_http_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = 200;
}

void
tw_http_resp_cleanup(struct tw_http_resp *resp)
{
	free(resp->body);
	for (size_t i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	tw_http_resp_init(resp);
}

void
tw_http_resp_set_status(struct tw_http_resp *resp, int status)
{
	resp->status = status;
}

int
tw_http_resp_set_body_owned(struct tw_http_resp *resp,
    const char *content_type, char *body, size_t len)
{
	if (content_type != NULL &&
	    strlen(content_type) >= sizeof(resp->content_type)) {
		free(body);
		return TW_ETOOBIG;
	}
	if (content_type != NULL)
		snprintf(resp->content_type, sizeof(resp->content_type), "%s",
		    content_type);
	free(resp->body);
	resp->body = body;
	resp->body_len = len;
	return 0;
}

int
tw_http_resp_set_body(struct tw_http_resp *resp, const char *content_type,
    const void *body, size_t len)
{
	char *copy;

	if (content_type != NULL &&
	    strlen(content_type) >= sizeof(resp->content_type))
		return TW_ETOOBIG;
	if ((copy = malloc(len + 1)) == NULL)
		return TW_ENOMEM;
	if (len > 0)
		memcpy(copy, body, len);
	copy[len] = '\0';
	return tw_http_resp_set_body_owned(resp, content_type, copy, len);
}

static int
json_escape(struct tw_buf *b, const char *s)
{
	int r = 0;

	for (; *s != '\0' && r == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			r = tw_buf_addf(b, "\\%c", c);
		else if (c < 0x20)
			r = tw_buf_addf(b, "\\u%04x", c);
		else
			r = tw_buf_addc(b, (char)c);
	}
	return r;
}

int
tw_http_resp_error(struct tw_http_resp *resp, int status, const char *reason)
{
	struct tw_buf b;
	size_t len;
	char *p;
	int r;

	resp->status = status;
	tw_buf_init(&b, 4096);
	if ((r = tw_buf_adds(&b, "{\"error\":\"")) == 0 &&
	    (r = json_escape(&b, reason != NULL ? reason : "")) == 0)
		r = tw_buf_adds(&b, "\"}\n");
	if (r != 0) {
		/* Only a reason past 4 KiB gets here: send no reason then. */
		tw_buf_reset(&b);
		if ((r = tw_buf_adds(&b, "{\"error\":\"\"}\n")) != 0) {
			tw_buf_cleanup(&b);
			return r;
		}
	}
	if ((p = tw_buf_take(&b, &len)) == NULL)
		return TW_ENOMEM;
	return tw_http_resp_set_body_owned(resp, "application/json", p, len);
}

static int
is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

int
tw_http_resp_add_header(struct tw_http_resp *resp, const char *name,
    const char *value)
{
	const char *p;
	char *n, *v;

	if (name == NULL || value == NULL || *name == '\0')
		return TW_EINVAL;
	for (p = name; *p != '\0'; p++)
		if (!is_tchar(*p))
			return TW_EINVAL;
	if (strpbrk(value, "\r\n") != NULL)
		return TW_EINVAL;
	if (resp->nheaders == TW_HTTP_RESP_HEADERS_MAX)
		return TW_ELIMIT;
	n = strdup(name);
	v = strdup(value);
	if (n == NULL || v == NULL) {
		free(n);
		free(v);
		return TW_ENOMEM;
	}
	resp->headers[resp->nheaders].name = n;
	resp->headers[resp->nheaders].value = v;
	resp->nheaders++;
	return 0;
}

/* ---- metrics ---- */

static void
stats_init(struct tw_httpd *h, struct route_stats *st, const char *path)
{
	struct tw_buf lb;

	for (size_t i = 0; i < NCACHED; i++)
		atomic_init(&st->by_code[i], NULL);
	st->duration = NULL;
	st->path = strdup(path);
	if (h->metrics == NULL || st->path == NULL)
		return;
	tw_buf_init(&lb, LABELS_MAX);
	if (tw_metrics_label_add(&lb, "path", path) == 0)
		st->duration = tw_metrics_histogram(h->metrics, DURATION_NAME,
		    DURATION_HELP, lb.data, tw_metrics_latency_bounds,
		    TW_METRICS_LATENCY_NBOUNDS);
	tw_buf_cleanup(&lb);
}

static struct tw_counter *
code_counter(struct tw_httpd *h, struct route_stats *st, int code)
{
	struct tw_counter *c;
	struct tw_buf lb;
	char num[16];
	size_t i;

	for (i = 0; i < NCACHED; i++)
		if (cached_codes[i] == code)
			break;
	if (i < NCACHED && (c = atomic_load_explicit(&st->by_code[i],
	    memory_order_acquire)) != NULL)
		return c;
	if (st->path == NULL)
		return NULL;
	snprintf(num, sizeof(num), "%d", code);
	tw_buf_init(&lb, LABELS_MAX);
	c = NULL;
	if (tw_metrics_label_add(&lb, "path", st->path) == 0 &&
	    tw_metrics_label_add(&lb, "code", num) == 0)
		c = tw_metrics_counter(h->metrics, REQUESTS_NAME,
		    REQUESTS_HELP, lb.data);
	tw_buf_cleanup(&lb);
	/* Racing threads store the same pointer (get-or-create). */
	if (i < NCACHED && c != NULL)
		atomic_store_explicit(&st->by_code[i], c,
		    memory_order_release);
	return c;
}

static void
count_request(struct request *rq)
{
	struct timespec now;
	double secs;

	if (rq->h->metrics == NULL || rq->stats == NULL || rq->code == 0)
		return;
	tw_counter_inc(code_counter(rq->h, rq->stats, rq->code));
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - rq->start.tv_sec) +
	    (double)(now.tv_nsec - rq->start.tv_nsec) / 1e9;
	tw_histogram_observe(rq->stats->duration, secs);
}

/* ---- serving ---- */

/*
 * A kept body buffer for rq: the smallest that holds want bytes, else the
 * largest (grown by the caller). The old bytes past len are never shown
 * to a handler: it gets body[0..body_len) and the NUL after it.
 */
static void
body_take(struct tw_httpd *h, struct request *rq, size_t want)
{
	size_t best = SIZE_MAX, last;

	pthread_mutex_lock(&h->body_lock);
	for (size_t i = 0; i < h->nbody_cache; i++) {
		size_t cap = h->body_cache[i].cap, bcap;

		if (best == SIZE_MAX) {
			best = i;
			continue;
		}
		bcap = h->body_cache[best].cap;
		if (cap > want ? bcap <= want || cap < bcap :
		    bcap <= want && cap > bcap)
			best = i;
	}
	if (best != SIZE_MAX) {
		last = --h->nbody_cache;
		rq->body.data = h->body_cache[best].data;
		rq->body.cap = h->body_cache[best].cap;
		h->body_cache[best] = h->body_cache[last];
		rq->body.len = 0;
		rq->body.data[0] = '\0';
	}
	pthread_mutex_unlock(&h->body_lock);
}

/* Keep rq's body buffer for a later request, or free it. */
static void
body_put(struct tw_httpd *h, struct request *rq)
{
	size_t keep = h->opts.threads < BODY_CACHE_N ? h->opts.threads :
	    BODY_CACHE_N;

	if (rq->body.data != NULL && rq->body.cap <= BODY_KEEP_MAX + 1) {
		pthread_mutex_lock(&h->body_lock);
		if (h->nbody_cache < keep) {
			h->body_cache[h->nbody_cache++] = rq->body;
			tw_buf_init(&rq->body, 0);
		}
		pthread_mutex_unlock(&h->body_lock);
	}
	tw_buf_cleanup(&rq->body);
}

static void
request_free(struct request *rq)
{
	tw_http_resp_cleanup(&rq->resp);
	body_put(rq->h, rq);
	free(rq->kv);
	free(rq);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct tw_httpd *h = cls;
	struct request *rq = *con_cls;

	if (rq == NULL)
		return;
	*con_cls = NULL;
	request_free(rq);
	atomic_fetch_sub_explicit(&h->inflight, 1, memory_order_release);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	tw_warn("httpd", "libmicrohttpd reported a problem", "detail", line);
}

/* Queue rq->resp; the body moves to libmicrohttpd. */
static enum MHD_Result
respond(struct request *rq, struct MHD_Connection *conn)
{
	struct tw_http_resp *resp = &rq->resp;
	struct MHD_Response *mr;
	enum MHD_Result ret;
	int status = resp->status;

	if (status < 100 || status > 599)
		status = 500;
	if (resp->body != NULL) {
		/* MUST_FREE: libmicrohttpd frees the buffer with free(). */
		mr = MHD_create_response_from_buffer(resp->body_len,
		    resp->body, MHD_RESPMEM_MUST_FREE);
		if (mr != NULL) {
			resp->body = NULL;
			resp->body_len = 0;
		}
	} else
		mr = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	if (mr == NULL)
		return MHD_NO;
	if (resp->content_type[0] != '\0')
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
		    resp->content_type);
	for (size_t i = 0; i < resp->nheaders; i++)
		if (MHD_add_response_header(mr, resp->headers[i].name,
		    resp->headers[i].value) != MHD_YES)
			tw_debug("httpd", "response header refused",
			    "name", resp->headers[i].name);
	if (atomic_load(&rq->h->stopping))
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(conn, (unsigned)status, mr);
	MHD_destroy_response(mr);
	if (ret == MHD_YES) {
		/* Counted now, so a client that saw the reply sees it. */
		rq->queued = 1;
		rq->code = status;
		count_request(rq);
	}
	return ret;
}

/* Replace whatever the handler set with a JSON error and queue it. */
static enum MHD_Result
respond_error(struct request *rq, struct MHD_Connection *conn, int status,
    const char *reason)
{
	tw_http_resp_cleanup(&rq->resp);
	if (tw_http_resp_error(&rq->resp, status, reason) != 0)
		tw_http_resp_set_status(&rq->resp, status);
	return respond(rq, conn);
}

struct kv_fill {
	struct tw_http_kv *kv;
	size_t n;
	size_t max;
};

static enum MHD_Result
kv_add(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct kv_fill *f = cls;

	if (f->n == f->max)
		return MHD_NO;
	f->kv[f->n].name = key;
	f->kv[f->n].value = value != NULL ? value : "";
	f->n++;
	return MHD_YES;
}

/* Point rq->req at the headers and query arguments libmicrohttpd keeps. */
static int
collect_kv(struct request *rq, struct MHD_Connection *conn)
{
	struct kv_fill f;
	int nh, nq;

	nh = MHD_get_connection_values(conn, MHD_HEADER_KIND, NULL, NULL);
	nq = MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, NULL,
	    NULL);
	if (nh < 0 || nq < 0)
		return TW_EINTERNAL;
	if ((rq->kv = calloc((size_t)nh + (size_t)nq + 1,
	    sizeof(*rq->kv))) == NULL)
		return TW_ENOMEM;
	f.kv = rq->kv;
	f.n = 0;
	f.max = (size_t)nh;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, kv_add, &f);
	rq->req.headers = rq->kv;
	rq->req.nheaders = f.n;
	f.kv = rq->kv + f.n;
	f.n = 0;
	f.max = (size_t)nq;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, kv_add, &f);
	rq->req.query = f.kv;
	rq->req.nquery = f.n;
	return 0;
}

static void
peer_name(struct request *rq, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	const struct sockaddr_in6 *s6;

	snprintf(rq->peer, sizeof(rq->peer), "unknown");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, rq->peer, sizeof(rq->peer));
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		/* Show v4 clients of a dual-stack socket as plain v4. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12],
			    rq->peer, sizeof(rq->peer));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, rq->peer,
			    sizeof(rq->peer));
	}
}

/* ---- client certificates ---- */

/* Whether s (len bytes) is non-empty printable ASCII, safe to log. */
static int
printable(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* The subject CN of crt, else its first DNS SAN, into out; "" if neither. */
static void
cert_name(gnutls_x509_crt_t crt, char *out, size_t outsz)
{
	unsigned int critical;
	size_t size;
	int type;

	size = outsz;
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, out, &size) == 0 && size < outsz && printable(out, size))
		return;
	for (unsigned int i = 0; i < SAN_MAX; i++) {
		size = outsz;
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, out, &size,
		    &critical);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_SAN_DNSNAME && size < outsz &&
		    printable(out, size)) {
			out[size] = '\0';
			return;
		}
	}
	out[0] = '\0';
}

/*
 * Verify the connection's client certificate against the CAs given to
 * libmicrohttpd (it only requests one, verifying is ours). Checked on
 * every request, which costs one chain verification: the TLS session
 * belongs to the connection, not to us. NULL with req.client_cn set, or
 * the reason for a 403.
 */
static const char *
client_verify(struct request *rq, struct MHD_Connection *conn)
{
	gnutls_typed_vdata_st purpose = {
		GNUTLS_DT_KEY_PURPOSE_OID,
		(unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_CLIENT, 0,
	};
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *peers;
	gnutls_session_t session;
	gnutls_x509_crt_t crt;
	gnutls_datum_t text = { NULL, 0 };
	unsigned int npeers = 0, status = 0;
	int r;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return "client certificate required";
	session = (gnutls_session_t)ci->tls_session;
	if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509 ||
	    (peers = gnutls_certificate_get_peers(session, &npeers)) == NULL ||
	    npeers == 0) {
		tw_debug("httpd", "request without a client certificate "
		    "refused", "peer", rq->peer);
		return "client certificate required";
	}
	/* No hostname: clients are named by their certificate, not DNS. */
	r = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
	if (r != 0 || status != 0) {
		if (r == 0 && gnutls_certificate_verification_status_print(
		    status, GNUTLS_CRT_X509, &text, 0) == 0)
			tw_debug("httpd", "client certificate refused", "peer",
			    rq->peer, "reason", (const char *)text.data);
		else
			tw_debug("httpd", "client certificate refused", "peer",
			    rq->peer, "error", gnutls_strerror(r));
		gnutls_free(text.data);
		return "client certificate not trusted";
	}
	if (gnutls_x509_crt_init(&crt) == 0) {
		if (gnutls_x509_crt_import(crt, &peers[0],
		    GNUTLS_X509_FMT_DER) == 0)
			cert_name(crt, rq->client_cn, sizeof(rq->client_cn));
		gnutls_x509_crt_deinit(crt);
	}
	rq->req.client_cn = rq->client_cn[0] != '\0' ? rq->client_cn : NULL;
	return NULL;
}

/* Probes answer without a client certificate (see httpd.h). */
static int
probe_route(const char *method, const char *path)
{
	return (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
	    (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0);
}

static int
method_matches(const char *route_method, const char *method)
{
	return strcmp(route_method, method) == 0 ||
	    (strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/* The Allow header for path: its routes' methods (HEAD with GET). */
static void
allow_header(struct tw_httpd *h, struct request *rq, const char *path)
{
	struct tw_buf b;
	int r = 0;

	tw_buf_init(&b, 512);
	for (size_t i = 0; i < h->nroutes && r == 0; i++) {
		if (strcmp(h->routes[i].path, path) != 0)
			continue;
		r = tw_buf_addf(&b, "%s%s", b.len > 0 ? ", " : "",
		    h->routes[i].method);
		if (r == 0 && strcmp(h->routes[i].method, "GET") == 0)
			r = tw_buf_adds(&b, ", HEAD");
	}
	if (r == 0 && b.data != NULL)
		tw_ignore(tw_http_resp_add_header(&rq->resp, "Allow", b.data));
	tw_buf_cleanup(&b);
}

/* Whether a Content-Length value announces more than max bytes. */
static int
length_over(const char *s, size_t max)
{
	uint64_t n = 0;

	for (; *s == ' ' || *s == '\t'; s++)
		continue;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - 9) / 10)
			return 1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	return n > max;
}

/* The first call for a request: its head is in, no body byte read yet. */
static enum MHD_Result
request_begin(struct tw_httpd *h, struct MHD_Connection *conn,
    const char *url, const char *method, void **con_cls)
{
	const struct route *rt = NULL, *same_path = NULL;
	struct request *rq;
	const char *cl, *reason;

	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return MHD_NO;
	rq->h = h;
	clock_gettime(CLOCK_MONOTONIC, &rq->start);
	tw_http_resp_init(&rq->resp);
	tw_buf_init(&rq->body, 0);
	*con_cls = rq;
	atomic_fetch_add_explicit(&h->inflight, 1, memory_order_relaxed);

	peer_name(rq, conn);
	rq->req.method = method;
	rq->req.path = url;
	rq->req.peer = rq->peer;
	rq->stats = &h->other;
	if (collect_kv(rq, conn) != 0)
		return respond_error(rq, conn, 500, "out of memory");

	for (size_t i = 0; i < h->nroutes; i++) {
		if (strcmp(h->routes[i].path, url) != 0)
			continue;
		if (same_path == NULL)
			same_path = &h->routes[i];
		if (method_matches(h->routes[i].method, method)) {
			rt = &h->routes[i];
			break;
		}
	}
	if (rt != NULL)
		rq->stats = (struct route_stats *)&rt->stats;
	else if (same_path != NULL)
		rq->stats = (struct route_stats *)&same_path->stats;
	/* Before 404 and 405 too: no probing for routes without one. */
	if (h->tls_ca != NULL && !probe_route(method, url) &&
	    (reason = client_verify(rq, conn)) != NULL)
		return respond_error(rq, conn, 403, reason);
	if (rt == NULL && same_path == NULL)
		return respond_error(rq, conn, 404, "not found");
	if (rt == NULL) {
		tw_http_resp_cleanup(&rq->resp);
		if (tw_http_resp_error(&rq->resp, 405,
		    "method not allowed") != 0)
			tw_http_resp_set_status(&rq->resp, 405);
		allow_header(h, rq, url);
		return respond(rq, conn);
	}
	rq->route = rt;

	/* Answering now (before the body) makes libmicrohttpd skip it. */
	if (rt->ops.on_headers != NULL &&
	    rt->ops.on_headers(rt->arg, &rq->req, &rq->resp) != 0)
		return respond(rq, conn);
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && length_over(cl, rt->ops.body_max))
		return respond_error(rq, conn, 413, "body too large");
	rq->body.max = rt->ops.body_max;
	if (rt->ops.body_max > 0)
		body_take(h, rq, cl != NULL ?
		    (size_t)strtoull(cl, NULL, 10) : 0);
	/* A declared length (checked above) is room taken once, not grown. */
	if (cl != NULL && strtoull(cl, NULL, 10) > 0 &&
	    tw_buf_reserve(&rq->body, (size_t)strtoull(cl, NULL, 10)) != 0)
		return respond_error(rq, conn, 500, "out of memory");
	return MHD_YES;
}

/* A piece of body: buffer it up to body_max, then throw the rest away. */
static enum MHD_Result
request_body(struct request *rq, const char *data, size_t n)
{
	size_t max = rq->route->ops.body_max;
	size_t slack = max > DISCARD_MIN ? max : DISCARD_MIN;
	int r;

	rq->received = n > SIZE_MAX - rq->received ? SIZE_MAX :
	    rq->received + n;
	if (rq->drop == 0) {
		if ((r = tw_buf_add(&rq->body, data, n)) == 0)
			return MHD_YES;
		rq->drop = r == TW_ETOOBIG ? 413 : 500;
		tw_buf_cleanup(&rq->body);
	}
	if (rq->received > max && rq->received - max > slack) {
		/* Too much to drain politely: cut the connection. */
		rq->code = rq->drop;
		count_request(rq);
		tw_debug("httpd", "request body too large, connection closed",
		    "peer", rq->peer, "path", rq->req.path);
		return MHD_NO;
	}
	return MHD_YES;
}

/* The last call: the body is complete. */
static enum MHD_Result
request_end(struct request *rq, struct MHD_Connection *conn)
{
	if (rq->drop != 0)
		return respond_error(rq, conn, rq->drop, rq->drop == 413 ?
		    "body too large" : "out of memory");
	rq->req.body = rq->body.data != NULL ? rq->body.data : "";
	rq->req.body_len = rq->body.len;
	rq->route->ops.on_request(rq->route->arg, &rq->req, &rq->resp);
	return respond(rq, conn);
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct request *rq = *con_cls;
	enum MHD_Result ret;

	if (rq == NULL)
		return request_begin(cls, conn, url, method, con_cls);
	if (rq->queued) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		ret = request_body(rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return ret;
	}
	return request_end(rq, conn);
}

/* ---- built-in routes ---- */

static void
healthz_page(void *arg, const struct tw_http_req *req,
    struct tw_http_resp *resp)
{
	if (tw_http_resp_set_body(resp, "text/plain; charset=utf-8", "ok",
	    2) != 0)
		tw_http_resp_set_status(resp, 500);
}

static void
readyz_page(void *arg, const struct tw_http_req *req,
    struct tw_http_resp *resp)
{
	struct tw_httpd *h = arg;
	char text[300];
	bool ready;

	pthread_mutex_lock(&h->ready_lock);
	ready = h->ready;
	if (ready)
		snprintf(text, sizeof(text), "ready");
	else if (h->ready_reason != NULL)
		snprintf(text, sizeof(text), "not ready: %s", h->ready_reason);
	else
		snprintf(text, sizeof(text), "not ready");
	pthread_mutex_unlock(&h->ready_lock);
	tw_http_resp_set_status(resp, ready ? 200 : 503);
	if (tw_http_resp_set_body(resp, "text/plain; charset=utf-8", text,
	    strlen(text)) != 0)
		tw_http_resp_set_status(resp, 500);
}

static void
metrics_page(void *arg, const struct tw_http_req *req,
    struct tw_http_resp *resp)
{
	struct tw_httpd *h = arg;
	struct tw_buf b;
	size_t len;
	char *p;
	int r;

	tw_buf_init(&b, METRICS_RENDER_MAX);
	if ((r = tw_metrics_render(h->metrics, &b)) != 0) {
		tw_buf_cleanup(&b);
		tw_warn("httpd", "cannot render metrics", "error",
		    tw_strerror(r));
		tw_ignore(tw_http_resp_error(resp, 500,
		    "cannot render metrics"));
		return;
	}
	if ((p = tw_buf_take(&b, &len)) == NULL ||
	    tw_http_resp_set_body_owned(resp, "text/plain; version=0.0.4",
	    p, len) != 0)
		tw_http_resp_set_status(resp, 500);
}

/* ---- the server ---- */

void
tw_httpd_opts_default(struct tw_httpd_opts *opts)
{
	opts->connections_max = 256;
	opts->timeout_s = 30;
	opts->threads = 4;
	opts->drain_ms = 5000;
}

/* Split listen into host ("" for any) and port. */
static int
listen_parse(const char *listen, char *host, size_t hostsz, int *port,
    char **why)
{
	const char *h, *p, *end;
	size_t hlen;
	long v;

	if (listen == NULL || *listen == '\0')
		goto bad;
	if (listen[0] == '[') {
		h = listen + 1;
		if ((end = strchr(h, ']')) == NULL || end[1] != ':')
			goto bad;
		hlen = (size_t)(end - h);
		p = end + 2;
		if (hlen == 0)
			goto bad;
	} else {
		if ((end = strrchr(listen, ':')) == NULL)
			goto bad;
		h = listen;
		hlen = (size_t)(end - h);
		p = end + 1;
		if (memchr(h, ':', hlen) != NULL)
			goto bad; /* IPv6 addresses need brackets */
	}
	if (hlen >= hostsz || *p == '\0' || strlen(p) > 5)
		goto bad;
	for (v = 0; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		v = v * 10 + (*p - '0');
	}
	if (v > 65535)
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int)v;
	return 0;
bad:
	set_why(why, "listen address \"%s\": want host:port, [v6addr]:port "
	    "or :port", listen != NULL ? listen : "");
	return TW_EINVAL;
}

/* A listening socket on sa, or -1 with errno set. */
static int
listen_on(const struct sockaddr *sa, socklen_t len, int v6only)
{
	int fd, on = 1, saved;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
		goto fail;
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0)
		goto fail;
	if (bind(fd, sa, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int
listen_bind(struct tw_httpd *h, const char *listen, const char *host,
    int port, char **why)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	char portstr[8];
	int gai, err = 0;

	if (host[0] == '\0') {
		/* Every address: dual-stack IPv6, or IPv4 where v6 is off. */
		memset(&a6, 0, sizeof(a6));
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons((uint16_t)port);
		a6.sin6_addr = in6addr_any;
		h->fd = listen_on((struct sockaddr *)&a6, sizeof(a6), 0);
		if (h->fd < 0 && (errno == EAFNOSUPPORT ||
		    errno == EADDRNOTAVAIL)) {
			memset(&a4, 0, sizeof(a4));
			a4.sin_family = AF_INET;
			a4.sin_port = htons((uint16_t)port);
			a4.sin_addr.s_addr = htonl(INADDR_ANY);
			h->fd = listen_on((struct sockaddr *)&a4, sizeof(a4),
			    0);
		}
		err = errno;
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		snprintf(portstr, sizeof(portstr), "%d", port);
		if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
			set_why(why, "listen address \"%s\": %s", listen,
			    gai_strerror(gai));
			return TW_EINVAL;
		}
		for (ai = res; ai != NULL && h->fd < 0; ai = ai->ai_next) {
			h->fd = listen_on(ai->ai_addr, ai->ai_addrlen, 1);
			err = errno;
		}
		freeaddrinfo(res);
	}
	if (h->fd < 0) {
		set_why(why, "listen address \"%s\": %s", listen,
		    strerror(err != 0 ? err : EINVAL));
		return TW_EIO;
	}
	if (getsockname(h->fd, (struct sockaddr *)&ss, &sslen) != 0) {
		set_why(why, "listen address \"%s\": %s", listen,
		    strerror(errno));
		return TW_EIO;
	}
	if (ss.ss_family == AF_INET6)
		h->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static int
route_add(struct tw_httpd *h, const char *method, const char *path,
    const struct tw_httpd_route_ops *ops, void *arg)
{
	struct route *rt;

	for (size_t i = 0; i < h->nroutes; i++)
		if (strcmp(h->routes[i].method, method) == 0 &&
		    strcmp(h->routes[i].path, path) == 0)
			return TW_EEXISTS;
	rt = realloc(h->routes, (h->nroutes + 1) * sizeof(*rt));
	if (rt == NULL)
		return TW_ENOMEM;
	h->routes = rt;
	rt = &h->routes[h->nroutes];
	memset(rt, 0, sizeof(*rt));
	rt->method = strdup(method);
	rt->path = strdup(path);
	if (rt->method == NULL || rt->path == NULL) {
		free(rt->method);
		free(rt->path);
		return TW_ENOMEM;
	}
	rt->ops = *ops;
	rt->arg = arg;
	stats_init(h, &rt->stats, path);
	h->nroutes++;
	return 0;
}

int
tw_httpd_route(struct tw_httpd *h, const char *method, const char *path,
    const struct tw_httpd_route_ops *ops, void *arg)
{
	const char *p;

	if (h == NULL || h->started || method == NULL || path == NULL ||
	    ops == NULL || ops->on_request == NULL || path[0] != '/' ||
	    method[0] == '\0')
		return TW_EINVAL;
	for (p = method; *p != '\0'; p++)
		if (!is_tchar(*p))
			return TW_EINVAL;
	return route_add(h, method, path, ops, arg);
}

struct tw_httpd *
tw_httpd_new(const char *listen, struct tw_metrics *metrics, char **why)
{
	static const struct tw_httpd_route_ops health_ops = {
		0, NULL, healthz_page,
	};
	static const struct tw_httpd_route_ops ready_ops = {
		0, NULL, readyz_page,
	};
	static const struct tw_httpd_route_ops metrics_ops = {
		0, NULL, metrics_page,
	};
	struct tw_httpd *h;
	char host[256];
	int port;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		set_why(why, "out of memory");
		return NULL;
	}
	h->fd = -1;
	h->metrics = metrics;
	h->ready = true;
	atomic_init(&h->stopping, false);
	atomic_init(&h->inflight, 0);
	tw_httpd_opts_default(&h->opts);
	if (pthread_mutex_init(&h->ready_lock, NULL) != 0) {
		free(h);
		set_why(why, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&h->body_lock, NULL) != 0) {
		pthread_mutex_destroy(&h->ready_lock);
		free(h);
		set_why(why, "out of memory");
		return NULL;
	}
	stats_init(h, &h->other, "other");
	if (listen_parse(listen, host, sizeof(host), &port, why) != 0 ||
	    listen_bind(h, listen, host, port, why) != 0)
		goto fail;
	if (route_add(h, "GET", "/healthz", &health_ops, h) != 0 ||
	    route_add(h, "GET", "/readyz", &ready_ops, h) != 0 ||
	    (metrics != NULL &&
	    route_add(h, "GET", "/metrics", &metrics_ops, h) != 0)) {
		set_why(why, "out of memory");
		goto fail;
	}
	return h;
fail:
	tw_httpd_free(h);
	return NULL;
}

int
tw_httpd_port(const struct tw_httpd *h)
{
	return h->port;
}

int
tw_httpd_set_opts(struct tw_httpd *h, const struct tw_httpd_opts *opts)
{
	if (h->started || opts->connections_max == 0 ||
	    opts->timeout_s == 0 || opts->threads == 0 ||
	    opts->connections_max < opts->threads)
		return TW_EINVAL;
	h->opts = *opts;
	return 0;
}

/* Read a whole PEM file of at most TW_HTTPD_TLS_FILE_MAX bytes. */
static int
read_pem(const char *what, const char *path, char **out, size_t *outlen,
    char **why)
{
	struct tw_buf b;
	struct stat st;
	char chunk[4096];
	size_t n;
	FILE *f;
	int r = 0, err = 0;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL) {
		set_why(why, "%s \"%s\": %s", what, path, strerror(errno));
		return TW_EIO;
	}
	tw_buf_init(&b, TW_HTTPD_TLS_FILE_MAX);
	/* Room up front: no realloc leaves copies of a key behind. */
	if (fstat(fileno(f), &st) == 0 && st.st_size > 0)
		r = (uint64_t)st.st_size >= TW_HTTPD_TLS_FILE_MAX ?
		    TW_ETOOBIG : tw_buf_reserve(&b, (size_t)st.st_size + 1);
	while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		r = tw_buf_add(&b, chunk, n);
	if (r == 0 && ferror(f)) {
		err = errno;
		r = TW_EIO;
	}
	if (r == 0 && b.len == 0)
		r = TW_ECONFIG;
	if (r == 0 && memchr(b.data, '\0', b.len) != NULL)
		r = TW_ECONFIG; /* DER or garbage: libmicrohttpd wants C strings */
	fclose(f);
	explicit_bzero(chunk, sizeof(chunk));
	if (r == 0 && (*out = tw_buf_take(&b, outlen)) == NULL)
		r = TW_ENOMEM;
	if (r != 0) {
		if (b.data != NULL)
			explicit_bzero(b.data, b.len);
		tw_buf_cleanup(&b);
		set_why(why, "%s \"%s\": %s", what, path,
		    r == TW_ETOOBIG ? "larger than 1 MiB" :
		    r == TW_ECONFIG ? "empty or not PEM" :
		    r == TW_EIO ? strerror(err) : tw_strerror(r));
	}
	return r;
}

/* Load what libmicrohttpd will, so mistakes show here with their file. */
static int
tls_check(const struct tw_httpd_tls *tls, const char *cert, const char *key,
    const char *ca, char **why)
{
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_datum_t cd, kd, ad;
	const char *where = NULL;
	int r, ret = 0;

	if (gnutls_certificate_allocate_credentials(&cred) != 0) {
		set_why(why, "out of memory");
		return TW_ENOMEM;
	}
	cd.data = (unsigned char *)(uintptr_t)cert;
	cd.size = (unsigned int)strlen(cert);
	kd.data = (unsigned char *)(uintptr_t)key;
	kd.size = (unsigned int)strlen(key);
	r = gnutls_certificate_set_x509_key_mem2(cred, &cd, &kd,
	    GNUTLS_X509_FMT_PEM, NULL, 0);
	if (r < 0) {
		set_why(why, "TLS certificate \"%s\" and key \"%s\": %s%s",
		    tls->cert_file, tls->key_file, gnutls_strerror(r),
		    r == GNUTLS_E_DECRYPTION_FAILED ?
		    " (encrypted keys are not supported)" : "");
		ret = TW_ECONFIG;
		goto out;
	}
	if (ca != NULL) {
		ad.data = (unsigned char *)(uintptr_t)ca;
		ad.size = (unsigned int)strlen(ca);
		r = gnutls_certificate_set_x509_trust_mem(cred, &ad,
		    GNUTLS_X509_FMT_PEM);
		if (r <= 0) {
			set_why(why, "TLS client CA file \"%s\": %s",
			    tls->client_ca_file, r < 0 ? gnutls_strerror(r) :
			    "no certificate in it");
			ret = TW_ECONFIG;
			goto out;
		}
	}
	if ((r = gnutls_priority_init(&prio, TW_HTTPD_TLS_PRIORITIES,
	    &where)) != 0) {
		set_why(why, "TLS priorities \"%s\" at \"%s\": %s",
		    TW_HTTPD_TLS_PRIORITIES, where != NULL ? where : "",
		    gnutls_strerror(r));
		ret = TW_ECONFIG;
		goto out;
	}
	gnutls_priority_deinit(prio);
out:
	gnutls_certificate_free_credentials(cred);
	return ret;
}

int
tw_httpd_set_tls(struct tw_httpd *h, const struct tw_httpd_tls *tls,
    char **why)
{
	char *cert = NULL, *key = NULL, *ca = NULL;
	size_t cert_len, key_len = 0, ca_len;
	int r;

	if (h->started || h->tls_cert != NULL || tls == NULL ||
	    tls->cert_file == NULL || tls->key_file == NULL) {
		set_why(why, "TLS needs a certificate and a key file, set "
		    "once before the server starts");
		return TW_EINVAL;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		set_why(why, "libmicrohttpd was built without TLS");
		return TW_EUNSUPPORTED;
	}
	if ((r = read_pem("TLS certificate", tls->cert_file, &cert, &cert_len,
	    why)) != 0 ||
	    (r = read_pem("TLS key", tls->key_file, &key, &key_len, why)) != 0 ||
	    (tls->client_ca_file != NULL && (r = read_pem("TLS client CA "
	    "file", tls->client_ca_file, &ca, &ca_len, why)) != 0) ||
	    (r = tls_check(tls, cert, key, ca, why)) != 0) {
		if (key != NULL)
			explicit_bzero(key, key_len);
		free(cert);
		free(key);
		free(ca);
		return r;
	}
	h->tls_cert = cert;
	h->tls_key = key;
	h->tls_key_len = key_len;
	h->tls_ca = ca;
	return 0;
}

void
tw_httpd_set_ready(struct tw_httpd *h, bool ready, const char *reason)
{
	char *copy = reason != NULL ? strdup(reason) : NULL;

	pthread_mutex_lock(&h->ready_lock);
	h->ready = ready;
	free(h->ready_reason);
	h->ready_reason = copy;
	pthread_mutex_unlock(&h->ready_lock);
}

int
tw_httpd_start(struct tw_httpd *h)
{
	struct MHD_OptionItem pool[] = {
		{ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)h->opts.threads,
		    NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	/* Pointer options go in ptr_value; libmicrohttpd borrows them. */
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)(uintptr_t)TW_HTTPD_TLS_PRIORITIES },
		{ MHD_OPTION_HTTPS_MEM_TRUST, 0, h->tls_ca },
		{ MHD_OPTION_END, 0, NULL },
	};
	unsigned flags;

	if (h->started || h->fd < 0)
		return TW_EINVAL;
	if (h->tls_ca == NULL)
		tls[3].option = MHD_OPTION_END;
	h->started = 1;
	/*
	 * ITC so that MHD_quiesce_daemon() works; with LISTEN_SOCKET the
	 * socket is libmicrohttpd's until quiesced (MHD_stop_daemon() closes
	 * it otherwise).
	 */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_AUTO |
	    MHD_USE_ERROR_LOG;
	if (h->tls_cert != NULL)
		flags |= MHD_USE_TLS;
	h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_access, h,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, /* first, or ignored */
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
	    MHD_OPTION_ARRAY, h->opts.threads > 1 ? pool : pool + 1,
	    MHD_OPTION_ARRAY, h->tls_cert != NULL ? tls : tls + 4,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->opts.connections_max,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->opts.timeout_s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_END);
	if (h->daemon == NULL) {
		tw_error("httpd", "cannot start the HTTP server");
		return TW_EIO;
	}
	return 0;
}

void
tw_httpd_stop(struct tw_httpd *h)
{
	struct timespec now, deadline, nap = { 0, 5 * 1000 * 1000 };
	MHD_socket s;

	if (h == NULL || h->daemon == NULL)
		return;
	tw_httpd_set_ready(h, false, "stopping");
	atomic_store(&h->stopping, true);
	s = MHD_quiesce_daemon(h->daemon);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += h->opts.drain_ms / 1000;
	deadline.tv_nsec += (long)(h->opts.drain_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	while (atomic_load_explicit(&h->inflight, memory_order_acquire) > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > deadline.tv_sec ||
		    (now.tv_sec == deadline.tv_sec &&
		    now.tv_nsec >= deadline.tv_nsec))
			break;
		nanosleep(&nap, NULL);
	}
	MHD_stop_daemon(h->daemon);
	h->daemon = NULL;
	/* Quiesced, the socket is ours again; otherwise MHD closed it. */
	if (s != MHD_INVALID_SOCKET)
		close(s);
	h->fd = -1;
}

static void
stats_cleanup(struct route_stats *st)
{
	free(st->path);
	st->path = NULL;
}

void
tw_httpd_free(struct tw_httpd *h)
{
	if (h == NULL)
		return;
	tw_httpd_stop(h);
	/*
	 * After a failed MHD_start_daemon() libmicrohttpd may or may not
	 * have closed the socket, depending on where it failed: leave it
	 * rather than risk closing someone else's descriptor.
	 */
	if (h->fd >= 0 && !h->started)
		close(h->fd);
	for (size_t i = 0; i < h->nroutes; i++) {
		free(h->routes[i].method);
		free(h->routes[i].path);
		stats_cleanup(&h->routes[i].stats);
	}
	free(h->routes);
	stats_cleanup(&h->other);
	free(h->ready_reason);
	if (h->tls_key != NULL)
		explicit_bzero(h->tls_key, h->tls_key_len);
	free(h->tls_key);
	free(h->tls_cert);
	free(h->tls_ca);
	for (size_t i = 0; i < h->nbody_cache; i++)
		tw_buf_cleanup(&h->body_cache[i]);
	pthread_mutex_destroy(&h->body_lock);
	pthread_mutex_destroy(&h->ready_lock);
	free(h);
}

/* httpd.h: a small HTTP/1.1 server over libmicrohttpd for the daemons. */
#ifndef TW_HTTPD_H
#define TW_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct tw_httpd;
struct tw_metrics;

/*
 * Built-in routes: GET /metrics (only when a registry was given; text
 * format 0.0.4), GET /healthz (200 "ok"), GET /readyz (200 "ready" or 503
 * "not ready: <reason>"). HEAD is accepted wherever GET is. Unknown paths
 * get 404 {"error":"not found"}, a known path with another method 405
 * {"error":"method not allowed"} and an Allow header.
 *
 * With a registry, every response is counted in
 * trawl_http_requests_total{path="<route>",code="<status>"} and timed in
 * trawl_http_request_duration_seconds{path="<route>"} (from the request
 * head to the response being queued) as soon as it is queued; a chunked
 * body cut off for size counts as 413. The names carry no daemon prefix:
 * each daemon has its own registry and Prometheus tells them apart by
 * job. Requests for unknown paths use path="other", so clients cannot
 * grow the label set.
 *
 * Threads: handlers run on libmicrohttpd's thread pool, several at once
 * (also for the same route), and must be thread-safe; a handler blocks
 * only its own connection's thread, so it should be quick. Routes and
 * options are set before tw_httpd_start() and never after.
 */

/* One header or query argument; both strings belong to the request. */
struct tw_http_kv {
	const char *name;
	const char *value; /* "" for a query argument without '=' */
};

/*
 * A request as handlers see it. Everything stays valid until the handler
 * returns and belongs to the server. Fuzz targets and tests may fill one
 * in by hand.
 */
struct tw_http_req {
	const char *method;  /* "GET", "POST", ... */
	const char *path;    /* decoded, without the query string */
	const char *peer;    /* client address: "127.0.0.1", "::1" */
	const struct tw_http_kv *headers;
	size_t nheaders;
	const struct tw_http_kv *query;
	size_t nquery;
	const char *body;    /* NUL-terminated; NULL in on_headers */
	size_t body_len;
	/*
	 * With client certificates (tw_httpd_set_tls() with client_ca_file):
	 * the verified certificate's subject CN, or its first DNS SAN when
	 * the CN is missing or not printable ASCII (at most 255 bytes).
	 * NULL without client certificates, on the probe routes, and when
	 * the certificate has neither.
	 */
	const char *client_cn;
};

/* The value of header name (case-insensitive, first one), or NULL. */
const char *tw_http_req_header(const struct tw_http_req *req,
    const char *name);
/* The value of query argument name (case-sensitive, first one), or NULL. */
const char *tw_http_req_query(const struct tw_http_req *req,
    const char *name);

#define TW_HTTP_RESP_HEADERS_MAX 8
#define TW_HTTP_CONTENT_TYPE_MAX 96

/*
 * A response a handler fills in; the server owns it. Set it through the
 * functions below (which copy or take over what they are given). Not
 * thread-safe: one handler call owns it at a time.
 */
struct tw_http_resp {
	int status; /* 200 until set */
	char content_type[TW_HTTP_CONTENT_TYPE_MAX];
	char *body; /* malloc'd */
	size_t body_len;
	size_t nheaders;
	struct {
		char *name;
		char *value;
	} headers[TW_HTTP_RESP_HEADERS_MAX];
};

/* An empty 200 response with no body, for embedding (tests, fuzzers). */
void tw_http_resp_init(struct tw_http_resp *resp);
/* Free the body and headers; the response may be initialised again. */
void tw_http_resp_cleanup(struct tw_http_resp *resp);
/* Set the status (100..599; others are sent as 500). */
void tw_http_resp_set_status(struct tw_http_resp *resp, int status);
/*
 * Copy len bytes of body and set the content type (NULL keeps it).
 * Returns 0, TW_ETOOBIG (content type too long) or TW_ENOMEM; on error the
 * response is unchanged.
 */
int tw_http_resp_set_body(struct tw_http_resp *resp, const char *content_type,
    const void *body, size_t len) TW_WARN_UNUSED;
/*
 * Take over body (malloc'd, freed with free()) and set the content type.
 * The body is taken in every case, freed on error; errors as
 * tw_http_resp_set_body().
 */
int tw_http_resp_set_body_owned(struct tw_http_resp *resp,
    const char *content_type, char *body, size_t len) TW_WARN_UNUSED;
/*
 * Set status and a JSON body {"error":"<reason>"} (reason escaped).
 * Returns 0 or TW_ENOMEM (the status is set regardless).
 */
int tw_http_resp_error(struct tw_http_resp *resp, int status,
    const char *reason) TW_WARN_UNUSED;
/*
 * Add a response header, both strings copied. Returns 0, TW_EINVAL (empty
 * or non-token name, CR/LF or NUL in the value), TW_ELIMIT (more than
 * TW_HTTP_RESP_HEADERS_MAX), TW_ENOMEM.
 */
int tw_http_resp_add_header(struct tw_http_resp *resp, const char *name,
    const char *value) TW_WARN_UNUSED;

/*
 * Called once the request head is in, before any body byte is read (for
 * authentication, rate limits, content checks). Return 0 to go on, or
 * nonzero after filling resp to answer now: the body is then never read
 * (if one was announced, the connection is closed after the response).
 * After a zero return, whatever was set in resp carries over to
 * on_request.
 */
typedef int (*tw_httpd_headers_cb)(void *arg, const struct tw_http_req *req,
    struct tw_http_resp *resp);
/* Called with the complete body; fills resp. */
typedef void (*tw_httpd_request_cb)(void *arg, const struct tw_http_req *req,
    struct tw_http_resp *resp);

struct tw_httpd_route_ops {
	/*
	 * Largest body accepted, in bytes (0: none). A larger Content-Length
	 * gets 413 before the body is read; a chunked body that grows past it
	 * is dropped as it arrives (never buffered) and gets 413 at its end,
	 * or the connection is closed once max(body_max, 64 KiB) more bytes
	 * have been thrown away.
	 */
	size_t body_max;
	tw_httpd_headers_cb on_headers; /* optional */
	tw_httpd_request_cb on_request; /* required */
};

/* Tunables; tw_httpd_opts_default() gives the defaults in brackets. */
struct tw_httpd_opts {
	unsigned connections_max; /* open connections at most [256] */
	unsigned timeout_s;       /* idle connection timeout [30] */
	unsigned threads;         /* handler threads [4] */
	unsigned drain_ms;        /* stop waits this long for requests [5000] */
};

/* Fill in the defaults. */
void tw_httpd_opts_default(struct tw_httpd_opts *opts);

/*
 * HTTPS for the whole port (plain HTTP is then refused at the handshake).
 * Every file is PEM, read once by tw_httpd_set_tls() (certificate
 * rotation needs a restart), at most TW_HTTPD_TLS_FILE_MAX bytes.
 *
 * With client_ca_file, clients are asked for a certificate and every
 * request must come with one that verifies against those CAs (chain,
 * validity dates, and the TLS client purpose when the certificate names
 * its purposes); others get 403 {"error":"client certificate required"}
 * or {"error":"client certificate not trusted"} before any route runs,
 * unknown paths included. Exempt: GET and HEAD of /healthz and /readyz,
 * so that Kubernetes probes, which cannot present certificates, still
 * work; they only say "ok" or "ready" / "not ready: <reason>". /metrics
 * and every route a daemon adds need a certificate. The handshake itself
 * does not fail without one: libmicrohttpd only requests certificates.
 */
struct tw_httpd_tls {
	const char *cert_file;      /* server certificate chain, leaf first */
	const char *key_file;       /* its private key, unencrypted */
	const char *client_ca_file; /* optional: require client certificates */
};

#define TW_HTTPD_TLS_FILE_MAX ((size_t)1 << 20)
/* TLS 1.3 and 1.2 only, GnuTLS's NORMAL suites otherwise. */
#define TW_HTTPD_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/*
 * Parse listen ("host:port", "[v6addr]:port", ":port" for every address,
 * port 0 for an ephemeral one) and bind the listening socket now, so the
 * port is known and bind errors surface here; a host name binds its first
 * address. Serving starts with tw_httpd_start(). metrics is borrowed (may
 * be NULL) and must outlive the server. Returns NULL on error, with a
 * malloc'd message in *why (the caller frees it) when why is not NULL.
 */
struct tw_httpd *tw_httpd_new(const char *listen, struct tw_metrics *metrics,
    char **why);
/* The bound port. */
int tw_httpd_port(const struct tw_httpd *h);
/*
 * Replace the options; before tw_httpd_start() only. Returns 0 or
 * TW_EINVAL (started, a zero value, fewer connections than threads).
 */
int tw_httpd_set_opts(struct tw_httpd *h, const struct tw_httpd_opts *opts)
    TW_WARN_UNUSED;
/*
 * Serve HTTPS (see struct tw_httpd_tls); before tw_httpd_start() and once.
 * The files are read and checked now (the key matches the certificate,
 * the CA file holds certificates); tls is not kept. Returns 0, TW_EINVAL
 * (started, TLS already set, no cert_file or key_file), TW_EUNSUPPORTED
 * (libmicrohttpd built without TLS), TW_EIO (a file cannot be read),
 * TW_ETOOBIG (a file over TW_HTTPD_TLS_FILE_MAX), TW_ECONFIG (bad PEM, key
 * and certificate do not match, encrypted key, no CA certificate),
 * TW_ENOMEM; with a malloc'd message in *why (when why is not NULL) that
 * names the file.
 */
int tw_httpd_set_tls(struct tw_httpd *h, const struct tw_httpd_tls *tls,
    char **why) TW_WARN_UNUSED;
/*
 * Add a route for method and exact path; ops is copied, arg is borrowed.
 * Before tw_httpd_start() only. Returns 0, TW_EINVAL (started, bad
 * arguments, no on_request), TW_EEXISTS (method and path taken, built-ins
 * included), TW_ENOMEM.
 */
int tw_httpd_route(struct tw_httpd *h, const char *method, const char *path,
    const struct tw_httpd_route_ops *ops, void *arg) TW_WARN_UNUSED;
/*
 * Set what /readyz answers (ready by default); reason (copied, may be
 * NULL) is shown while not ready. Thread-safe.
 */
void tw_httpd_set_ready(struct tw_httpd *h, bool ready, const char *reason);
/*
 * Start serving on the bound socket. Returns 0, TW_EINVAL (already
 * started or stopped), TW_EIO (libmicrohttpd refused; logged). Once only.
 */
int tw_httpd_start(struct tw_httpd *h) TW_WARN_UNUSED;
/*
 * Stop accepting, mark the server not ready, wait up to drain_ms for
 * requests in flight, then close every connection and join the threads.
 * No-op when not running; not from a handler.
 */
void tw_httpd_stop(struct tw_httpd *h);
/* Stop if running and free everything; NULL is a no-op. */
void tw_httpd_free(struct tw_httpd *h);

#endif

/* test_httpd.c: unit tests for lib/httpd over loopback, with libcurl. */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "tap.h"

#define ECHO_MAX 1024

struct reply {
	long code;
	char body[16384];
	size_t body_len;
	char headers[4096];
	size_t headers_len;
};

struct upload {
	const char *p;
	size_t left;
};

/* What the handlers saw. */
static atomic_int echo_calls;
static atomic_int ingest_headers_calls;
static atomic_int ingest_calls;
static _Atomic size_t ingest_body_len;
static atomic_int slow_entered;

static void
msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;

	if (len > sizeof(r->body) - 1 - r->body_len)
		return 0;
	memcpy(r->body + r->body_len, p, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;

	if (len > sizeof(r->headers) - 1 - r->headers_len)
		return 0;
	memcpy(r->headers + r->headers_len, p, len);
	r->headers_len += len;
	r->headers[r->headers_len] = '\0';
	return len;
}

static size_t
on_read(char *p, size_t size, size_t n, void *ud)
{
	struct upload *u = ud;
	size_t len = size * n;

	if (len > u->left)
		len = u->left;
	if (len > 700)
		len = 700; /* several chunks */
	memcpy(p, u->p, len);
	u->p += len;
	u->left -= len;
	return len;
}

/* Whether the reply carries the header line "line" (case-insensitive). */
static int
has_header(const struct reply *r, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\r\n", line);
	return strcasestr(r->headers, want) != NULL;
}

/*
 * One request with libcurl. body NULL: none; chunked: send the body
 * with Transfer-Encoding: chunked. Returns the curl code.
 */
static CURLcode
http(const char *host, int port, const char *method, const char *path,
    const char *body, size_t body_len, const char *const *headers,
    int chunked, struct reply *r)
{
	struct curl_slist *hl = NULL;
	struct upload up = { body, body_len };
	char url[256];
	CURL *c;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://%s:%d%s", host, port, path);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	for (; headers != NULL && *headers != NULL; headers++)
		hl = curl_slist_append(hl, *headers);
	if (chunked) {
		hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
	} else if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0 || body != NULL)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	return rc;
}

static CURLcode
get(int port, const char *path, struct reply *r)
{
	return http("127.0.0.1", port, "GET", path, NULL, 0, NULL, 0, r);
}

/*
 * Send req as is and read until the server closes. Returns the bytes read
 * into out, or -1 if the server neither answered nor closed within 1.5 s
 * (as when it waits for a body that never comes).
 */
static int
raw(int port, const char *req, char *out, size_t size)
{
	struct sockaddr_in a;
	struct pollfd pfd;
	size_t n = 0;
	ssize_t r;
	int fd;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1500) != 1) {
			close(fd);
			return -1;
		}
		r = recv(fd, out + n, size - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == size - 1)
			break;
	}
	out[n] = '\0';
	close(fd);
	return (int)n;
}

static int
connect_refused(int port)
{
	struct sockaddr_in a;
	int fd, r;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return r != 0 && errno == ECONNREFUSED;
}

/* ---- handlers ---- */

static void
echo(void *arg, const struct tw_http_req *req, struct tw_http_resp *resp)
{
	const char *ct = tw_http_req_header(req, "content-type");
	const char *v;
	char num[32];

	atomic_fetch_add(&echo_calls, 1);
	if (tw_http_resp_set_body(resp, ct != NULL ? ct : "text/plain",
	    req->body, req->body_len) != 0)
		tw_http_resp_set_status(resp, 500);
	snprintf(num, sizeof(num), "%zu", req->body_len);
	tw_ignore(tw_http_resp_add_header(resp, "X-Echo-Len", num));
	tw_ignore(tw_http_resp_add_header(resp, "X-Peer", req->peer));
	tw_ignore(tw_http_resp_add_header(resp, "X-Method", req->method));
	tw_ignore(tw_http_resp_add_header(resp, "X-Path", req->path));
	if ((v = tw_http_req_query(req, "format")) != NULL)
		tw_ignore(tw_http_resp_add_header(resp, "X-Format", v));
	if ((v = tw_http_req_query(req, "flag")) != NULL)
		tw_ignore(tw_http_resp_add_header(resp, "X-Flag",
		    v[0] == '\0' ? "(empty)" : v));
	if ((v = tw_http_req_header(req, "X-TEST")) != NULL)
		tw_ignore(tw_http_resp_add_header(resp, "X-Test-Seen", v));
	if (tw_http_req_query(req, "FORMAT") != NULL)
		tw_ignore(tw_http_resp_add_header(resp, "X-Query-Case", "bad"));
}

static int
ingest_headers(void *arg, const struct tw_http_req *req,
    struct tw_http_resp *resp)
{
	const char *auth = tw_http_req_header(req, "Authorization");

	atomic_fetch_add(&ingest_headers_calls, 1);
	if (req->body != NULL) { /* no body yet */
		tw_ignore(tw_http_resp_error(resp, 500, "body seen early"));
		return 1;
	}
	if (auth == NULL || strcmp(auth, "Bearer good") != 0) {
		tw_ignore(tw_http_resp_error(resp, 401, "bad token"));
		tw_ignore(tw_http_resp_add_header(resp, "WWW-Authenticate",
		    "Bearer"));
		return 1;
	}
	tw_ignore(tw_http_resp_add_header(resp, "X-Auth", "ok"));
	return 0;
}

static void
ingest(void *arg, const struct tw_http_req *req, struct tw_http_resp *resp)
{
	atomic_fetch_add(&ingest_calls, 1);
	ingest_body_len = req->body_len;
	tw_http_resp_set_status(resp, 202);
}

static void
busy(void *arg, const struct tw_http_req *req, struct tw_http_resp *resp)
{
	tw_ignore(tw_http_resp_error(resp, 503, "queue full"));
	tw_ignore(tw_http_resp_add_header(resp, "Retry-After", "7"));
}

static void
slow(void *arg, const struct tw_http_req *req, struct tw_http_resp *resp)
{
	atomic_store(&slow_entered, 1);
	msleep(300);
	tw_ignore(tw_http_resp_set_body(resp, "text/plain", "done", 4));
}

/* ---- tests ---- */

static void
test_listen_errors(void)
{
	static const char *const bad[] = {
		"", "nohost", "127.0.0.1", ":99999", "::1:80", "[::1]",
		"[::1]80", "[]:80", "127.0.0.1:", "127.0.0.1:8x",
		"192.0.2.1:0",
	};
	struct tw_httpd *h;
	char *why;
	int all = 1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		h = tw_httpd_new(bad[i], NULL, &why);
		if (h != NULL || why == NULL) {
			diag("accepted listen \"%s\"", bad[i]);
			all = 0;
		}
		tw_httpd_free(h);
		free(why);
	}
	ok(all, "new: bad listen addresses refused with a reason");
	h = tw_httpd_new(NULL, NULL, NULL);
	ok(h == NULL, "new: NULL listen refused (why may be NULL)");
}

static void
test_server(void)
{
	static const struct tw_httpd_route_ops echo_ops = {
		ECHO_MAX, NULL, echo,
	};
	static const struct tw_httpd_route_ops ingest_ops = {
		1 << 20, ingest_headers, ingest,
	};
	static const struct tw_httpd_route_ops busy_ops = { 0, NULL, busy };
	static const struct tw_httpd_route_ops no_handler = { 0, NULL, NULL };
	const char *const echo_headers[] = {
		"Content-Type: application/x-test", "x-test: yes", NULL,
	};
	const char *const expect_headers[] = {
		"Expect: 100-continue", NULL,
	};
	const char *const bad_auth[] = {
		"Authorization: Bearer bad", "Expect: 100-continue", NULL,
	};
	const char *const good_auth[] = {
		"Authorization: Bearer good", NULL,
	};
	struct tw_metrics *m = tw_metrics_new();
	struct tw_httpd *h;
	struct reply *r = malloc(sizeof(*r));
	char big[5000], rawbuf[4096], req[512];
	char *why = NULL;
	int port, n;

	memset(big, 'x', sizeof(big));
	h = tw_httpd_new("127.0.0.1:0", m, &why);
	ok(h != NULL, "new: 127.0.0.1:0 (%s)", why != NULL ? why : "ok");
	free(why);
	if (h == NULL) {
		free(r);
		tw_metrics_free(m);
		return;
	}
	port = tw_httpd_port(h);
	ok(port > 0, "new: ephemeral port %d bound", port);

	is_int(tw_httpd_route(h, "POST", "/echo", &echo_ops, NULL), 0,
	    "route: /echo");
	is_int(tw_httpd_route(h, "POST", "/ingest", &ingest_ops, NULL), 0,
	    "route: /ingest");
	is_int(tw_httpd_route(h, "GET", "/busy", &busy_ops, NULL), 0,
	    "route: /busy");
	is_int(tw_httpd_route(h, "POST", "/echo", &echo_ops, NULL),
	    TW_EEXISTS, "route: duplicate refused");
	is_int(tw_httpd_route(h, "GET", "/metrics", &echo_ops, NULL),
	    TW_EEXISTS, "route: built-in path refused");
	is_int(tw_httpd_route(h, "GET", "nopath", &echo_ops, NULL),
	    TW_EINVAL, "route: path must start with /");
	is_int(tw_httpd_route(h, "GET", "/x", &no_handler, NULL), TW_EINVAL,
	    "route: on_request required");
	is_int(tw_httpd_route(h, "G T", "/x", &echo_ops, NULL), TW_EINVAL,
	    "route: bad method refused");

	is_int(tw_httpd_start(h), 0, "start");
	is_int(tw_httpd_start(h), TW_EINVAL, "start: twice refused");
	is_int(tw_httpd_route(h, "GET", "/late", &echo_ops, NULL), TW_EINVAL,
	    "route: refused once started");

	/* Built-ins. */
	ok(get(port, "/healthz", r) == CURLE_OK && r->code == 200,
	    "healthz: 200");
	is_str(r->body, "ok", "healthz: body");
	ok(get(port, "/readyz", r) == CURLE_OK && r->code == 200,
	    "readyz: 200 by default");
	is_str(r->body, "ready", "readyz: body");
	tw_httpd_set_ready(h, false, "draining");
	ok(get(port, "/readyz", r) == CURLE_OK && r->code == 503,
	    "readyz: 503 when not ready");
	is_str(r->body, "not ready: draining", "readyz: reason shown");
	tw_httpd_set_ready(h, false, NULL);
	ok(get(port, "/readyz", r) == CURLE_OK && r->code == 503 &&
	    strcmp(r->body, "not ready") == 0, "readyz: without a reason");
	tw_httpd_set_ready(h, true, NULL);
	ok(get(port, "/readyz", r) == CURLE_OK && r->code == 200,
	    "readyz: 200 again");
	ok(http("127.0.0.1", port, "HEAD", "/healthz", NULL, 0, NULL, 0,
	    r) == CURLE_OK && r->code == 200 && r->body_len == 0,
	    "HEAD: allowed where GET is, no body");

	/* Errors. */
	ok(get(port, "/nope", r) == CURLE_OK && r->code == 404,
	    "unknown path: 404");
	is_str(r->body, "{\"error\":\"not found\"}\n", "404: JSON body");
	ok(has_header(r, "Content-Type: application/json"),
	    "404: JSON content type");
	ok(http("127.0.0.1", port, "DELETE", "/healthz", NULL, 0, NULL, 0,
	    r) == CURLE_OK && r->code == 405, "wrong method: 405");
	ok(has_header(r, "Allow: GET, HEAD"), "405: Allow header");
	is_str(r->body, "{\"error\":\"method not allowed\"}\n",
	    "405: JSON body");
	ok(get(port, "/echo", r) == CURLE_OK && r->code == 405 &&
	    has_header(r, "Allow: POST"), "405 for a user route");

	/* A user route: body, query, headers, custom response headers. */
	ok(http("127.0.0.1", port, "POST", "/echo?format=json&flag",
	    "hello world", 11, echo_headers, 0, r) == CURLE_OK &&
	    r->code == 200, "echo: 200");
	is_str(r->body, "hello world", "echo: body echoed");
	ok(has_header(r, "Content-Type: application/x-test"),
	    "echo: content type set by the handler");
	ok(has_header(r, "X-Echo-Len: 11"), "echo: custom header");
	ok(has_header(r, "X-Format: json"), "query: lookup");
	ok(has_header(r, "X-Flag: (empty)"), "query: argument without value");
	ok(!has_header(r, "X-Query-Case: bad"), "query: case-sensitive");
	ok(has_header(r, "X-Test-Seen: yes"),
	    "header: lookup is case-insensitive");
	ok(has_header(r, "X-Peer: 127.0.0.1"), "req: peer address");
	ok(has_header(r, "X-Method: POST") && has_header(r, "X-Path: /echo"),
	    "req: method and path without the query");
	is_int(atomic_load(&echo_calls), 1, "echo: called once");

	ok(http("127.0.0.1", port, "POST", "/echo", big, ECHO_MAX, NULL, 0,
	    r) == CURLE_OK && r->code == 200 && r->body_len == ECHO_MAX,
	    "body_max: exactly body_max bytes accepted");
	is_int(atomic_load(&echo_calls), 2, "echo: called again");

	/* Bodies over body_max: announced, then streamed. */
	ok(http("127.0.0.1", port, "POST", "/echo", big, ECHO_MAX + 1,
	    expect_headers, 0, r) == CURLE_OK && r->code == 413,
	    "body_max: larger Content-Length gets 413");
	ok(strstr(r->body, "body too large") != NULL, "413: JSON reason");
	ok(http("127.0.0.1", port, "POST", "/echo", big, sizeof(big), NULL,
	    1, r) == CURLE_OK && r->code == 413,
	    "body_max: larger chunked body gets 413");
	snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 100000000\r\n\r\n");
	n = raw(port, req, rawbuf, sizeof(rawbuf));
	ok(n > 0 && strncmp(rawbuf, "HTTP/1.1 413", 12) == 0,
	    "body_max: 413 before the body is sent, connection closed");
	is_int(atomic_load(&echo_calls), 2, "body_max: handler never called");

	/* on_headers rejects before the body. */
	ok(http("127.0.0.1", port, "POST", "/ingest", big, sizeof(big),
	    bad_auth, 0, r) == CURLE_OK && r->code == 401,
	    "on_headers: 401 for a bad token");
	ok(has_header(r, "WWW-Authenticate: Bearer"),
	    "on_headers: its headers are sent");
	is_str(r->body, "{\"error\":\"bad token\"}\n", "401: JSON body");
	snprintf(req, sizeof(req), "POST /ingest HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer nope\r\nContent-Length: 1000000\r\n\r\n");
	n = raw(port, req, rawbuf, sizeof(rawbuf));
	ok(n > 0 && strncmp(rawbuf, "HTTP/1.1 401", 12) == 0,
	    "on_headers: 401 without waiting for the body, connection closed");
	is_int(atomic_load(&ingest_headers_calls), 2,
	    "on_headers: called per request");
	is_int(atomic_load(&ingest_calls), 0,
	    "on_headers: on_request never called after a rejection");
	ok(http("127.0.0.1", port, "POST", "/ingest", big, 3000, good_auth, 0,
	    r) == CURLE_OK && r->code == 202,
	    "on_headers: accepted request reaches on_request");
	ok(atomic_load(&ingest_calls) == 1 && ingest_body_len == 3000,
	    "on_request: whole body");
	ok(has_header(r, "X-Auth: ok"), "on_headers: accepted headers kept");

	ok(get(port, "/busy", r) == CURLE_OK && r->code == 503 &&
	    has_header(r, "Retry-After: 7"), "handler: Retry-After header");

	/* Metrics, including the server's own. */
	ok(get(port, "/metrics", r) == CURLE_OK && r->code == 200,
	    "metrics: 200");
	ok(has_header(r, "Content-Type: text/plain; version=0.0.4"),
	    "metrics: content type");
	ok(strstr(r->body, "# TYPE trawl_http_requests_total counter\n") !=
	    NULL, "metrics: requests family");
	ok(strstr(r->body, "trawl_http_requests_total{path=\"/healthz\","
	    "code=\"200\"} 2\n") != NULL, "metrics: /healthz 200 counted");
	ok(strstr(r->body, "trawl_http_requests_total{path=\"/readyz\","
	    "code=\"503\"} 2\n") != NULL, "metrics: /readyz 503 counted");
	ok(strstr(r->body, "trawl_http_requests_total{path=\"other\","
	    "code=\"404\"} 1\n") != NULL, "metrics: unknown path is other");
	ok(strstr(r->body, "trawl_http_requests_total{path=\"/echo\","
	    "code=\"413\"} 3\n") != NULL, "metrics: 413s counted");
	ok(strstr(r->body, "trawl_http_requests_total{path=\"/ingest\","
	    "code=\"401\"} 2\n") != NULL, "metrics: 401s counted");
	ok(strstr(r->body, "trawl_http_request_duration_seconds_count{"
	    "path=\"/echo\"} 6\n") != NULL, "metrics: durations observed");
	if (getenv("TEST_HTTPD_DUMP") != NULL)
		diag("%s", r->body);

	/* Stop while idle. */
	tw_httpd_stop(h);
	ok(connect_refused(port), "stop: no longer accepting");
	tw_httpd_stop(h);
	ok(1, "stop: twice is a no-op");
	is_int(tw_httpd_start(h), TW_EINVAL, "start: refused after stop");
	tw_httpd_free(h);
	tw_metrics_free(m);
	free(r);
}

struct client {
	int port;
	struct reply r;
	CURLcode rc;
};

static void *
client_run(void *arg)
{
	struct client *c = arg;

	c->rc = get(c->port, "/slow", &c->r);
	return NULL;
}

/* No registry, tuned options, and a stop that waits for a request. */
static void
test_drain(void)
{
	static const struct tw_httpd_route_ops slow_ops = { 0, NULL, slow };
	struct tw_httpd_opts o;
	struct tw_httpd *h;
	struct client *c = calloc(1, sizeof(*c));
	pthread_t t;
	int i;

	h = tw_httpd_new("127.0.0.1:0", NULL, NULL);
	ok(h != NULL, "drain: server without metrics");
	if (h == NULL) {
		free(c);
		return;
	}
	tw_httpd_opts_default(&o);
	ok(o.connections_max == 256 && o.timeout_s == 30,
	    "opts: defaults 256 connections, 30 s");
	o.threads = 4;
	o.connections_max = 2;
	is_int(tw_httpd_set_opts(h, &o), TW_EINVAL,
	    "opts: fewer connections than threads refused");
	o.threads = 1;
	o.connections_max = 8;
	o.timeout_s = 5;
	o.drain_ms = 1500;
	is_int(tw_httpd_set_opts(h, &o), 0, "opts: set");
	is_int(tw_httpd_route(h, "GET", "/slow", &slow_ops, NULL), 0,
	    "drain: route");
	is_int(tw_httpd_start(h), 0, "drain: start");
	c->port = tw_httpd_port(h);
	ok(get(c->port, "/metrics", &c->r) == CURLE_OK && c->r.code == 404,
	    "no registry: /metrics is 404");

	pthread_create(&t, NULL, client_run, c);
	for (i = 0; i < 200 && !atomic_load(&slow_entered); i++)
		msleep(5);
	ok(atomic_load(&slow_entered), "drain: request in flight");
	tw_httpd_stop(h);
	pthread_join(t, NULL);
	ok(c->rc == CURLE_OK && c->r.code == 200 &&
	    strcmp(c->r.body, "done") == 0,
	    "drain: in-flight request finished during stop");
	ok(connect_refused(c->port), "drain: stopped");
	tw_httpd_free(h);
	free(c);
}

static void
test_ipv6(void)
{
	struct tw_httpd *h;
	struct reply *r;
	char *why = NULL;

	h = tw_httpd_new("[::1]:0", NULL, &why);
	if (h == NULL) {
		ok(1, "ipv6: skipped, no ::1 (%s)", why);
		free(why);
		return;
	}
	r = malloc(sizeof(*r));
	is_int(tw_httpd_start(h), 0, "ipv6: start on [::1]");
	ok(http("[::1]", tw_httpd_port(h), "GET", "/healthz", NULL, 0, NULL, 0,
	    r) == CURLE_OK && r->code == 200, "ipv6: healthz");
	tw_httpd_free(h); /* stops first */
	free(r);
}

static void
test_resp(void)
{
	struct tw_http_resp resp;
	struct tw_http_kv hv[] = { { "Content-Type", "a/b" } };
	struct tw_http_kv qv[] = { { "q", "1" }, { "q", "2" } };
	struct tw_http_req req = { "GET", "/", "1.2.3.4", hv, 1, qv, 2, NULL,
	    0 };
	char ct[200];
	int i, r = 0;

	ok(strcmp(tw_http_req_header(&req, "CONTENT-type"), "a/b") == 0 &&
	    tw_http_req_header(&req, "x") == NULL &&
	    strcmp(tw_http_req_query(&req, "q"), "1") == 0,
	    "req: a hand-made request works with the lookups");
	tw_http_resp_init(&resp);
	is_int(resp.status, 200, "resp: 200 by default");
	is_int(tw_http_resp_add_header(&resp, "X-A", "1\r\nEvil: yes"),
	    TW_EINVAL, "resp: CR/LF in a header value refused");
	is_int(tw_http_resp_add_header(&resp, "X A", "1"), TW_EINVAL,
	    "resp: bad header name refused");
	is_int(tw_http_resp_add_header(&resp, "", "1"), TW_EINVAL,
	    "resp: empty header name refused");
	for (i = 0; i < TW_HTTP_RESP_HEADERS_MAX && r == 0; i++)
		r = tw_http_resp_add_header(&resp, "X-N", "v");
	ok(r == 0, "resp: TW_HTTP_RESP_HEADERS_MAX headers fit");
	is_int(tw_http_resp_add_header(&resp, "X-N", "v"), TW_ELIMIT,
	    "resp: one more is TW_ELIMIT");
	memset(ct, 'a', sizeof(ct) - 1);
	ct[sizeof(ct) - 1] = '\0';
	is_int(tw_http_resp_set_body(&resp, ct, "x", 1), TW_ETOOBIG,
	    "resp: long content type refused");
	ok(tw_http_resp_error(&resp, 400, "a \"quoted\"\nreason\\") == 0 &&
	    resp.status == 400 && strcmp(resp.body,
	    "{\"error\":\"a \\\"quoted\\\"\\u000areason\\\\\"}\n") == 0 &&
	    strcmp(resp.content_type, "application/json") == 0,
	    "resp: error JSON is escaped");
	tw_http_resp_cleanup(&resp);
	ok(resp.body == NULL && resp.nheaders == 0, "resp: cleanup");
}

int
main(void)
{
	tw_log_set_level(TW_LOG_ERROR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_resp();
	test_listen_errors();
	test_server();
	test_drain();
	test_ipv6();
	tw_httpd_free(NULL);
	ok(1, "free(NULL) is a no-op");
	curl_global_cleanup();
	return done_testing();
}

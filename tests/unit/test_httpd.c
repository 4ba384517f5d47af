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

/* ---- TLS ---- */

/*
 * A throwaway PKI (EC P-256, valid 2020-2120), made with `openssl ca`:
 * a CA; a server certificate for 127.0.0.1 and localhost; client
 * certificates from the CA with CN=unit-client and with only
 * DNS:san-client; a self-signed CN=unit-client. Test keys, nothing else.
 */
static const char ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBZTCCAQqgAwIBAgICEAAwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNdHJhd2wt\n"
	"dW5pdC1jYTAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAwMDAwMFowGDEWMBQG\n"
	"A1UEAwwNdHJhd2wtdW5pdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAAx\n"
	"LoTsw6+BplG9JPLlA7PpzzMsKszzPyRF8iBu+nwuEQRvJc740JOb9EIg3K5mncSr\n"
	"LQT7NJqk+cehhieNglyjQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD\n"
	"AgEGMB0GA1UdDgQWBBTttvc8DL7AYevkmp/9VeUCO8k9CTAKBggqhkjOPQQDAgNJ\n"
	"ADBGAiEAzoT2Vv0tQkOY1i49SoTbx4KLQGpt2cpkZYKrXIHpz/QCIQD3meP73W0m\n"
	"Zg5A5LbVBF1B5AfcwBRJ9vGdrPiHf4nvCg==\n"
	"-----END CERTIFICATE-----\n";

static const char srv_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBnjCCAUSgAwIBAgICEAEwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNdHJhd2wt\n"
	"dW5pdC1jYTAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAwMDAwMFowFjEUMBIG\n"
	"A1UEAwwLdW5pdC1zZXJ2ZXIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASSd5Wh\n"
	"P9nANKBy/UlJ3lju3sHE/eFixiCzFur+fvNzDhY7GHowTmeNT+579m2ICrIYlTk4\n"
	"czGYcIwsHZovAybro34wfDAJBgNVHRMEAjAAMBoGA1UdEQQTMBGHBH8AAAGCCWxv\n"
	"Y2FsaG9zdDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQU1PAxnC7HTHnA\n"
	"MEt5qFnP+eNqVugwHwYDVR0jBBgwFoAU7bb3PAy+wGHr5Jqf/VXlAjvJPQkwCgYI\n"
	"KoZIzj0EAwIDSAAwRQIgU2xOKQuiY0B4kLBRZo9df3VirPVfcyW7Kdzph/hYnCsC\n"
	"IQDpCKAHchfMfi2rFDr0ETQApeCfObAhEUHXyOZxozyXiQ==\n"
	"-----END CERTIFICATE-----\n";

static const char srv_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnQNtEqjEFVQ8dva3\n"
	"c9DQJ3VxSJHo0TEzX5NY/U4xlN+hRANCAASSd5WhP9nANKBy/UlJ3lju3sHE/eFi\n"
	"xiCzFur+fvNzDhY7GHowTmeNT+579m2ICrIYlTk4czGYcIwsHZovAybr\n"
	"-----END PRIVATE KEY-----\n";

static const char cli_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBgjCCASigAwIBAgICEAIwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNdHJhd2wt\n"
	"dW5pdC1jYTAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAwMDAwMFowFjEUMBIG\n"
	"A1UEAwwLdW5pdC1jbGllbnQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATDgBoa\n"
	"EZOC13ty39YLbUZEnfy3MHyGZpaOdbkbjqIGots/ksqJhE0wI9NndaTj329zPRLC\n"
	"j5M3dWMCIdHZCfOyo2IwYDAJBgNVHRMEAjAAMBMGA1UdJQQMMAoGCCsGAQUFBwMC\n"
	"MB0GA1UdDgQWBBQYqHJlYjXmbKxY8alVXuKj28FZTDAfBgNVHSMEGDAWgBTttvc8\n"
	"DL7AYevkmp/9VeUCO8k9CTAKBggqhkjOPQQDAgNIADBFAiBLYZlUc+rXS594QBca\n"
	"QLdoSw8mP5JTIJJTKE6vgS0JPAIhAO+OdDWDfT8Ws+n8SwSw/jNZ+EXuaaQtH87W\n"
	"y7tgftnJ\n"
	"-----END CERTIFICATE-----\n";

static const char cli_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbBOlBuSKFXc9RpG9\n"
	"wwPiLNt16HAOtPkLvFqY8T1/yuihRANCAATDgBoaEZOC13ty39YLbUZEnfy3MHyG\n"
	"ZpaOdbkbjqIGots/ksqJhE0wI9NndaTj329zPRLCj5M3dWMCIdHZCfOy\n"
	"-----END PRIVATE KEY-----\n";

static const char san_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBkjCCATmgAwIBAgICEAMwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNdHJhd2wt\n"
	"dW5pdC1jYTAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAwMDAwMFowEDEOMAwG\n"
	"A1UECgwFdHJhd2wwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASLPWsOx+dY0vs2\n"
	"eX9Cs2cpKwX+ZsCErzdTHAU8XxlvXfKdSoF13Fm4qng8Mybh/F8JqhnxU5QVIkaq\n"
	"T1IPcCICo3kwdzAJBgNVHRMEAjAAMBUGA1UdEQQOMAyCCnNhbi1jbGllbnQwEwYD\n"
	"VR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0OBBYEFHYgROYV3wljrbjp4LiCLNtb1rbv\n"
	"MB8GA1UdIwQYMBaAFO229zwMvsBh6+San/1V5QI7yT0JMAoGCCqGSM49BAMCA0cA\n"
	"MEQCIAx3Et3Hh2kMdtVcpvIFOHAGz1dsVHGj3SdAyT5l/L/kAiBvXpw1oOpetcQJ\n"
	"XBoRFkDZvzZLvJEqohTaQsVUd9dMjw==\n"
	"-----END CERTIFICATE-----\n";

static const char san_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbDp7D8VPlyGdx1cx\n"
	"s+Gp5beD0/6PHl7xhkQWVs1MQYChRANCAASLPWsOx+dY0vs2eX9Cs2cpKwX+ZsCE\n"
	"rzdTHAU8XxlvXfKdSoF13Fm4qng8Mybh/F8JqhnxU5QVIkaqT1IPcCIC\n"
	"-----END PRIVATE KEY-----\n";

static const char self_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBXzCCAQWgAwIBAgICEAQwCgYIKoZIzj0EAwIwFjEUMBIGA1UEAwwLdW5pdC1j\n"
	"bGllbnQwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBYxFDASBgNV\n"
	"BAMMC3VuaXQtY2xpZW50MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhgJMZH54\n"
	"DiGPso+CpAQPF123iD4t5k5nZqxhcMTcaR/5wtRDJqfZIK1+o6gzbZ4kIo/pG5S4\n"
	"6Zx/pozANCKKwaNBMD8wCQYDVR0TBAIwADATBgNVHSUEDDAKBggrBgEFBQcDAjAd\n"
	"BgNVHQ4EFgQUu/pdCCW1Vn99MAvftTvXtg3M1QMwCgYIKoZIzj0EAwIDSAAwRQIg\n"
	"AM1q9zqgF5/yhFBHogRsRcG1HwpGTHPS43/mN+FZyUoCIQDZgRPEyXYe1e5b0ZxW\n"
	"Tx0WNA5iqZtT6qSDqWNRdBCSdA==\n"
	"-----END CERTIFICATE-----\n";

static const char self_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRVXdaRncPDEetZSb\n"
	"beoG10CcMyEOq4E47ESo2ro4cmyhRANCAASGAkxkfngOIY+yj4KkBA8XXbeIPi3m\n"
	"TmdmrGFwxNxpH/nC1EMmp9kgrX6jqDNtniQij+kblLjpnH+mjMA0IorB\n"
	"-----END PRIVATE KEY-----\n";

struct tls_files {
	char dir[64];
	char ca[96], srv[96], srv_key[96], cli[96], cli_key[96], san[96],
	    san_key[96], self[96], self_key[96], junk[96], big[96];
};

static int
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	int r;

	if (f == NULL)
		return -1;
	r = fwrite(text, 1, len, f) == len ? 0 : -1;
	return fclose(f) == 0 ? r : -1;
}

static int
tls_files_make(struct tls_files *t)
{
	const struct {
		char *path;
		const char *name, *text;
	} files[] = {
		{ t->ca, "ca.pem", ca_pem },
		{ t->srv, "srv.pem", srv_pem },
		{ t->srv_key, "srv.key", srv_key },
		{ t->cli, "cli.pem", cli_pem },
		{ t->cli_key, "cli.key", cli_key },
		{ t->san, "san.pem", san_pem },
		{ t->san_key, "san.key", san_key },
		{ t->self, "self.pem", self_pem },
		{ t->self_key, "self.key", self_key },
		{ t->junk, "junk.pem", "not a certificate\n" },
	};
	char *big;
	int r = 0;

	snprintf(t->dir, sizeof(t->dir), "/tmp/test_httpd.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(files[i].path, sizeof(t->ca), "%s/%s", t->dir,
		    files[i].name);
		if (write_file(files[i].path, files[i].text,
		    strlen(files[i].text)) != 0)
			r = -1;
	}
	snprintf(t->big, sizeof(t->big), "%s/big.pem", t->dir);
	if ((big = malloc(TW_HTTPD_TLS_FILE_MAX + 1)) == NULL)
		return -1;
	memset(big, 'A', TW_HTTPD_TLS_FILE_MAX + 1);
	if (write_file(t->big, big, TW_HTTPD_TLS_FILE_MAX + 1) != 0)
		r = -1;
	free(big);
	return r;
}

static void
tls_files_remove(const struct tls_files *t)
{
	const char *const paths[] = {
		t->ca, t->srv, t->srv_key, t->cli, t->cli_key, t->san,
		t->san_key, t->self, t->self_key, t->junk, t->big,
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		unlink(paths[i]);
	rmdir(t->dir);
}

/* GET https://127.0.0.1:port/path, trusting ca, with a client cert. */
static CURLcode
https_get(int port, const char *method, const char *path, const char *ca,
    const char *cert, const char *key, struct reply *r)
{
	char url[256];
	CURL *c;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", port, path);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	if (cert != NULL) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, key);
	}
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	curl_easy_cleanup(c);
	return rc;
}

/* The verified client name, or "(none)". */
static void
whoami(void *arg, const struct tw_http_req *req, struct tw_http_resp *resp)
{
	const char *cn = req->client_cn != NULL ? req->client_cn : "(none)";

	if (tw_http_resp_set_body(resp, "text/plain", cn, strlen(cn)) != 0)
		tw_http_resp_set_status(resp, 500);
}

static void
test_tls_errors(const struct tls_files *t)
{
	struct tw_httpd_tls tls = { t->srv, t->srv_key, NULL };
	struct tw_httpd *h;
	char *why = NULL;
	int r;

	if ((h = tw_httpd_new("127.0.0.1:0", NULL, NULL)) == NULL) {
		ok(0, "tls: server for the error checks");
		return;
	}
	tls.key_file = NULL;
	is_int(tw_httpd_set_tls(h, &tls, NULL), TW_EINVAL,
	    "tls: no key file refused");
	tls.key_file = t->srv_key;
	tls.cert_file = "/nonexistent/srv.pem";
	r = tw_httpd_set_tls(h, &tls, &why);
	ok(r == TW_EIO && why != NULL && strstr(why, "/nonexistent/srv.pem")
	    != NULL, "tls: missing certificate file is TW_EIO, named (%s)",
	    why != NULL ? why : "");
	tls.cert_file = t->junk;
	is_int(tw_httpd_set_tls(h, &tls, &why), TW_ECONFIG,
	    "tls: a certificate file that is not PEM refused");
	tls.cert_file = t->big;
	is_int(tw_httpd_set_tls(h, &tls, &why), TW_ETOOBIG,
	    "tls: a file over TW_HTTPD_TLS_FILE_MAX refused");
	tls.cert_file = t->srv;
	tls.key_file = t->cli_key;
	r = tw_httpd_set_tls(h, &tls, &why);
	ok(r == TW_ECONFIG && why != NULL && strstr(why, t->cli_key) != NULL,
	    "tls: a key that does not match the certificate refused (%s)",
	    why != NULL ? why : "");
	tls.key_file = t->srv_key;
	tls.client_ca_file = t->srv_key;
	r = tw_httpd_set_tls(h, &tls, &why);
	ok(r == TW_ECONFIG && why != NULL && strstr(why, "client CA") != NULL,
	    "tls: a client CA file without certificates refused (%s)",
	    why != NULL ? why : "");
	tls.client_ca_file = t->ca;
	is_int(tw_httpd_set_tls(h, &tls, &why), 0, "tls: good files taken");
	is_int(tw_httpd_set_tls(h, &tls, &why), TW_EINVAL,
	    "tls: set twice refused");
	tw_httpd_free(h); /* never started: frees the PEM copies */
	free(why);
}

static void
test_tls(const struct tls_files *t)
{
	static const struct tw_httpd_route_ops whoami_ops = {
		0, NULL, whoami,
	};
	struct tw_httpd_tls tls = { t->srv, t->srv_key, NULL };
	struct tw_metrics *m = tw_metrics_new();
	struct tw_httpd *h;
	struct reply *r = malloc(sizeof(*r));
	int port;

	/* HTTPS, no client certificates. */
	h = tw_httpd_new("127.0.0.1:0", NULL, NULL);
	if (h == NULL || r == NULL || m == NULL ||
	    tw_httpd_route(h, "GET", "/whoami", &whoami_ops, NULL) != 0 ||
	    tw_httpd_set_tls(h, &tls, NULL) != 0 || tw_httpd_start(h) != 0) {
		ok(0, "tls: server starts");
		goto out;
	}
	port = tw_httpd_port(h);
	ok(https_get(port, "GET", "/healthz", t->ca, NULL, NULL, r) ==
	    CURLE_OK && r->code == 200 && strcmp(r->body, "ok") == 0,
	    "tls: healthz over HTTPS, server certificate verified");
	ok(https_get(port, "GET", "/whoami", t->ca, NULL, NULL, r) ==
	    CURLE_OK && r->code == 200 && strcmp(r->body, "(none)") == 0,
	    "tls: without client_ca_file routes run, client_cn NULL");
	ok(https_get(port, "GET", "/whoami", t->ca, t->cli, t->cli_key, r) ==
	    CURLE_OK && r->code == 200 && strcmp(r->body, "(none)") == 0,
	    "tls: without client_ca_file a client certificate is not read");
	ok(get(port, "/healthz", r) != CURLE_OK,
	    "tls: plain HTTP to the HTTPS port fails");
	tw_httpd_free(h);

	/* HTTPS with required client certificates. */
	tls.client_ca_file = t->ca;
	h = tw_httpd_new("127.0.0.1:0", m, NULL);
	if (h == NULL || tw_httpd_route(h, "GET", "/whoami", &whoami_ops,
	    NULL) != 0 || tw_httpd_set_tls(h, &tls, NULL) != 0 ||
	    tw_httpd_start(h) != 0) {
		ok(0, "tls: mTLS server starts");
		goto out;
	}
	port = tw_httpd_port(h);
	ok(https_get(port, "GET", "/healthz", t->ca, NULL, NULL, r) ==
	    CURLE_OK && r->code == 200,
	    "mtls: GET /healthz needs no client certificate");
	ok(https_get(port, "HEAD", "/readyz", t->ca, NULL, NULL, r) ==
	    CURLE_OK && r->code == 200,
	    "mtls: HEAD /readyz needs no client certificate");
	ok(https_get(port, "GET", "/whoami", t->ca, NULL, NULL, r) ==
	    CURLE_OK && r->code == 403 && strcmp(r->body,
	    "{\"error\":\"client certificate required\"}\n") == 0,
	    "mtls: a route without a client certificate is 403");
	ok(https_get(port, "GET", "/metrics", t->ca, NULL, NULL, r) ==
	    CURLE_OK && r->code == 403,
	    "mtls: /metrics without a client certificate is 403");
	ok(https_get(port, "GET", "/nope", t->ca, NULL, NULL, r) ==
	    CURLE_OK && r->code == 403,
	    "mtls: an unknown path without a certificate is 403, not 404");
	ok(https_get(port, "GET", "/whoami", t->ca, t->cli, t->cli_key, r) ==
	    CURLE_OK && r->code == 200 && strcmp(r->body, "unit-client") == 0,
	    "mtls: a certificate from the CA passes, client_cn is its CN");
	ok(https_get(port, "GET", "/whoami", t->ca, t->san, t->san_key, r) ==
	    CURLE_OK && r->code == 200 && strcmp(r->body, "san-client") == 0,
	    "mtls: without a CN, client_cn is the first DNS SAN");
	ok(https_get(port, "GET", "/nope", t->ca, t->cli, t->cli_key, r) ==
	    CURLE_OK && r->code == 404,
	    "mtls: with a certificate, unknown paths are 404");
	ok(https_get(port, "GET", "/whoami", t->ca, t->self, t->self_key, r) ==
	    CURLE_OK && r->code == 403 && strstr(r->body, "not trusted") !=
	    NULL, "mtls: a self-signed client certificate is 403");
	ok(https_get(port, "GET", "/whoami", t->ca, t->srv, t->srv_key, r) ==
	    CURLE_OK && r->code == 403,
	    "mtls: a server-only certificate (EKU serverAuth) is 403");
	ok(https_get(port, "GET", "/metrics", t->ca, t->cli, t->cli_key, r) ==
	    CURLE_OK && r->code == 200 && strstr(r->body,
	    "trawl_http_requests_total{path=\"/whoami\",code=\"403\"} 3") !=
	    NULL && strstr(r->body, "trawl_http_requests_total{path=\"other\","
	    "code=\"403\"} 1") != NULL,
	    "mtls: refusals counted under the route, unknown paths as other");
out:
	tw_httpd_free(h);
	tw_metrics_free(m);
	free(r);
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
	static struct tls_files tls_files;

	tw_log_set_level(TW_LOG_ERROR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_resp();
	test_listen_errors();
	test_server();
	test_drain();
	test_ipv6();
	if (tls_files_make(&tls_files) == 0) {
		test_tls_errors(&tls_files);
		test_tls(&tls_files);
	} else
		ok(0, "tls: cannot write the test certificates to /tmp");
	tls_files_remove(&tls_files);
	tw_httpd_free(NULL);
	ok(1, "free(NULL) is a no-op");
	curl_global_cleanup();
	return done_testing();
}

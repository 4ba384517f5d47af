/* nginx.c: nginx access lines in the combined (or common) log format. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "kv.h"

#define NGINX_LINE_MAX ((size_t)64 << 20)

struct span {
	const char *p; /* NULL: absent */
	size_t n;
};

/*
 * $remote_addr - $remote_user [$time_local] "$request" $status
 * $body_bytes_sent "$http_referer" "$http_user_agent", as far as the line
 * goes. Values stay as nginx wrote them (\xHH escapes included); "-"
 * means absent except for the request, which is kept verbatim.
 */
struct access {
	struct span addr, user, request, referrer, agent;
	bool has_time, has_status, has_bytes;
	int64_t time;
	uint64_t status, bytes;
};

struct nginx_state {
	struct tw_buf clean; /* the line, when it was not UTF-8 */
};

static int
nginx_new(const struct tw_parse_opts *o, void **state)
{
	struct nginx_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	tw_buf_init(&s->clean, NGINX_LINE_MAX * 3);
	*state = s;
	return 0;
}

static void
nginx_free(void *state)
{
	struct nginx_state *s = state;

	tw_buf_cleanup(&s->clean);
	free(s);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
digits(const char *p, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* dd/Mon/yyyy:hh:mm:ss +hhmm (26 bytes) at p. */
static bool
time_local(const char *p, size_t n, int64_t *ns)
{
	int day, mon, year, hh, mm, ss, oh, om;
	int64_t off;

	if (n != 26 || p[2] != '/' || p[6] != '/' || p[11] != ':' ||
	    p[14] != ':' || p[17] != ':' || p[20] != ' ' ||
	    (p[21] != '+' && p[21] != '-'))
		return false;
	day = digits(p, 2);
	mon = tw_kv_month(p + 3);
	year = digits(p + 7, 4);
	hh = digits(p + 12, 2);
	mm = digits(p + 15, 2);
	ss = digits(p + 18, 2);
	oh = digits(p + 22, 2);
	om = digits(p + 24, 2);
	if (day < 1 || day > 31 || mon == 0 || year < 1678 || year > 2261 ||
	    hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 ||
	    oh < 0 || oh > 23 || om < 0 || om > 59)
		return false;
	off = ((int64_t)oh * 3600 + om * 60) * 1000000000LL;
	*ns = tw_kv_civil_ns(year, mon, day, hh, mm, ss, 0);
	*ns += p[21] == '+' ? -off : off;
	return true;
}

/* A "quoted" field at p[*i] (backslashes escape): its inside. */
static bool
quoted(const char *p, size_t n, size_t *i, struct span *f)
{
	size_t k;

	if (*i >= n || p[*i] != '"')
		return false;
	for (k = *i + 1; k < n && p[k] != '"'; k++)
		if (p[k] == '\\' && k + 1 < n)
			k++;
	if (k >= n)
		return false;
	f->p = p + *i + 1;
	f->n = k - *i - 1;
	*i = k + 1;
	return true;
}

/* A space-terminated word at p[*i]. */
static struct span
word(const char *p, size_t n, size_t *i)
{
	const char *sp = memchr(p + *i, ' ', n - *i);
	struct span f = { p + *i, sp != NULL ? (size_t)(sp - (p + *i)) :
	    n - *i };

	*i += f.n;
	return f;
}

/* Whether f is "-", nginx's empty value. */
static bool
dash(const struct span *f)
{
	return f->n == 1 && f->p[0] == '-';
}

/* Parse as much of an access line as matches; false if not even the
 * address, user and time do. */
static bool
parse_access(const char *p, size_t n, struct access *a)
{
	struct span f;
	const char *lb;
	size_t i = 0;

	memset(a, 0, sizeof(*a));
	a->addr = word(p, n, &i);
	if (a->addr.n == 0 || i >= n)
		return false;
	i++;
	(void)word(p, n, &i); /* the literal "-" (once $remote_ident) */
	if (i >= n)
		return false;
	i++;
	/* The user may hold spaces: it runs to " [". */
	if ((lb = memmem(p + i - 1, n - i + 1, " [", 2)) == NULL ||
	    lb < p + i)
		return false;
	a->user.p = p + i;
	a->user.n = (size_t)(lb - (p + i));
	i = (size_t)(lb - p) + 2;
	if (n - i < 27 || p[i + 26] != ']' || !time_local(p + i, 26, &a->time))
		return false;
	a->has_time = true;
	i += 27;
	if (i + 1 >= n || p[i] != ' ')
		return true;
	i++;
	if (!quoted(p, n, &i, &a->request) || i >= n || p[i] != ' ')
		return true;
	i++;
	f = word(p, n, &i);
	if (!(a->has_status = tw_kv_uint(f.p, f.n, &a->status)) || i >= n)
		return true;
	i++;
	f = word(p, n, &i);
	a->has_bytes = tw_kv_uint(f.p, f.n, &a->bytes);
	if (i >= n)
		return true;
	i++;
	if (!quoted(p, n, &i, &a->referrer))
		return true;
	if (i < n && p[i] == ' ') {
		i++;
		if (!quoted(p, n, &i, &a->agent))
			a->agent.p = NULL;
	}
	return true;
}

static uint32_t
put(struct tw_mpw *w, const char *key, const struct span *f)
{
	if (f->p == NULL || dash(f))
		return 0;
	tw_mpw_cstr(w, key);
	tw_mpw_str(w, f->p, f->n);
	return 1;
}

/* The http map: method, url and protocol when the request is one. */
static void
put_http(struct tw_mpw *w, const struct access *a)
{
	const char *sp1 = NULL, *sp2 = NULL;
	size_t hdr;
	uint32_t keys = 0;

	tw_mpw_cstr(w, "http");
	hdr = tw_mpw_map32_placeholder(w);
	if (a->request.p != NULL &&
	    (sp1 = memchr(a->request.p, ' ', a->request.n)) != NULL &&
	    (sp2 = memchr(sp1 + 1, ' ', a->request.n -
	    (size_t)(sp1 + 1 - a->request.p))) != NULL &&
	    memchr(sp2 + 1, ' ', a->request.n -
	    (size_t)(sp2 + 1 - a->request.p)) == NULL &&
	    a->request.p + a->request.n - (sp2 + 1) >= 5 &&
	    memcmp(sp2 + 1, "HTTP/", 5) == 0) {
		tw_mpw_cstr(w, "method");
		tw_mpw_str(w, a->request.p, (size_t)(sp1 - a->request.p));
		tw_mpw_cstr(w, "url");
		tw_mpw_str(w, sp1 + 1, (size_t)(sp2 - sp1 - 1));
		tw_mpw_cstr(w, "protocol");
		tw_mpw_str(w, sp2 + 1, (size_t)(a->request.p + a->request.n -
		    (sp2 + 1)));
		keys += 3;
	}
	if (a->has_status) {
		tw_mpw_cstr(w, "status");
		tw_mpw_uint(w, a->status);
		keys++;
	}
	if (a->has_bytes) {
		tw_mpw_cstr(w, "response_bytes");
		tw_mpw_uint(w, a->bytes);
		keys++;
	}
	tw_mpw_cstr(w, "remote_ip");
	tw_mpw_str(w, a->addr.p, a->addr.n);
	keys++;
	keys += put(w, "referrer", &a->referrer);
	keys += put(w, "user_agent", &a->agent);
	tw_mpw_patch32(w, hdr, keys);
}

/* The message is the line as written; http, user and fields from it. */
static int
nginx_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct nginx_state *s = state;
	struct tw_kv_line l;
	struct access a;
	bool ok;
	size_t hdr;
	uint32_t keys = 0;
	int r;

	if ((r = tw_kv_line(&l, &s->clean, p, n)) != 0)
		return r;
	ok = parse_access(l.p, l.n, &a);
	hdr = tw_mpw_map32_placeholder(w);
	keys += tw_kv_write_time(w, o, ok ? a.time : o->now_ns);
	keys += tw_rec_source(w, o, "file", "nginx_combined");
	tw_mpw_cstr(w, "message");
	tw_mpw_str(w, l.p, l.n);
	keys++;
	keys += tw_kv_write_raw(w, &l);
	if (ok) {
		put_http(w, &a);
		keys++;
		if (!dash(&a.user)) {
			tw_mpw_cstr(w, "user");
			tw_mpw_map(w, 1);
			tw_mpw_cstr(w, "name");
			tw_mpw_str(w, a.user.p, a.user.n);
			keys++;
		}
		if (a.request.p != NULL) {
			tw_mpw_cstr(w, "fields");
			tw_mpw_map(w, 1);
			tw_mpw_cstr(w, "request");
			tw_mpw_str(w, a.request.p, a.request.n);
			keys++;
		}
	}
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	return emit(arg, (const uint8_t *)w->buf->data, w->buf->len);
}

/* A first line of the shape addr - user [time] "request". */
static int
nginx_detect(const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	struct access a;

	n = nl != NULL ? (size_t)(nl - p) : n;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (!parse_access(p, n, &a) || a.request.p == NULL || !a.has_status)
		return 0;
	return 80;
}

const struct tw_format tw_format_nginx_combined = {
	.name = "nginx_combined",
	.framing = TW_FRAMING_LINES,
	.state_new = nginx_new,
	.state_free = nginx_free,
	.parse = nginx_parse,
	.flush = NULL,
	.detect = nginx_detect,
};

/* syslog.c: RFC 5424, RFC 3164 and rsyslog file format lines. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "kv.h"

#define SYSLOG_LINE_MAX ((size_t)64 << 20)

/* Which grammar a format forces; AUTO decides per line. */
enum grammar {
	G_AUTO,
	G_3164,
	G_5424,
};

struct span {
	const char *p; /* NULL: absent */
	size_t n;
};

/* One line's syslog header, as spans into the (clean) line. */
struct msg {
	const char *format; /* rfc3164, rfc5424, rsyslog_file */
	int pri;            /* -1: none */
	int64_t version;    /* -1: none */
	bool has_time;
	int64_t time;
	struct span host, app, procid, msgid, text;
	bool has_sd;
};

struct syslog_state {
	enum grammar grammar;
	struct tw_buf clean;   /* the line, when it was not UTF-8 */
	struct tw_buf scratch; /* unescaped SD values */
	struct tw_kv elems;    /* SD elements; sub = their parameter count */
	struct tw_kv params;   /* SD parameters of all elements, in order */
};

static const char *const facility_names[24] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console",
	"solaris-cron", "local0", "local1", "local2", "local3", "local4",
	"local5", "local6", "local7",
};
static const char *const severity_names[8] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};
static const char *const severity_levels[8] = {
	"fatal", "fatal", "fatal", "error", "warn", "info", "info", "debug",
};

static int
state_new(enum grammar g, void **state)
{
	struct syslog_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	s->grammar = g;
	tw_buf_init(&s->clean, SYSLOG_LINE_MAX * 3);
	tw_buf_init(&s->scratch, SYSLOG_LINE_MAX * 3);
	tw_kv_init(&s->elems);
	tw_kv_init(&s->params);
	*state = s;
	return 0;
}

static int
syslog_new(const struct tw_parse_opts *o, void **state)
{
	return state_new(G_AUTO, state);
}

static int
rfc3164_new(const struct tw_parse_opts *o, void **state)
{
	return state_new(G_3164, state);
}

static int
rfc5424_new(const struct tw_parse_opts *o, void **state)
{
	return state_new(G_5424, state);
}

static void
syslog_free(void *state)
{
	struct syslog_state *s = state;

	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->scratch);
	tw_kv_cleanup(&s->elems);
	tw_kv_cleanup(&s->params);
	free(s);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "<PRI>" at p (0..191, 1 to 3 digits): its value, *len its length; -1. */
static int
parse_pri(const char *p, size_t n, size_t *len)
{
	size_t i = 1;
	int v = 0;

	if (n < 3 || p[0] != '<')
		return -1;
	while (i < n && i <= 3 && is_digit(p[i]))
		v = v * 10 + (p[i++] - '0');
	if (i == 1 || i >= n || p[i] != '>' || v > 191)
		return -1;
	*len = i + 1;
	return v;
}

/* An RFC 5424 VERSION and its space at p: its length, 0 when absent. */
static size_t
version_len(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && i < 3 && is_digit(p[i]))
		i++;
	return i > 0 && i < n && p[i] == ' ' && p[0] != '0' ? i + 1 : 0;
}

/* Two digits at p as a number, -1 when they are not digits. */
static int
two(const char *p)
{
	if (!is_digit(p[0]) || !is_digit(p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/*
 * "Mmm dd hh:mm:ss" (day space-padded or not, an optional fraction) at
 * p, followed by a space or the end: its length and time, 0 otherwise.
 */
static size_t
bsd_time(const struct tw_parse_opts *o, const char *p, size_t n,
    int64_t *ns)
{
	int mon, day, hh, mm, ss;
	int64_t frac = 0, scale = 100000000;
	size_t i;

	if (n < 14 || (mon = tw_kv_month(p)) == 0 || p[3] != ' ')
		return 0;
	i = 4;
	if (p[i] == ' ')
		i++;
	if (!is_digit(p[i]))
		return 0;
	day = p[i++] - '0';
	if (i < n && is_digit(p[i]))
		day = day * 10 + (p[i++] - '0');
	if (i + 9 > n || p[i] != ' ' || p[i + 3] != ':' || p[i + 6] != ':')
		return 0;
	hh = two(p + i + 1);
	mm = two(p + i + 4);
	ss = two(p + i + 7);
	if (day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
	    ss < 0 || ss > 60)
		return 0;
	i += 9;
	if (i < n && p[i] == '.') {
		size_t d = ++i;
		for (; i < n && is_digit(p[i]) && i - d < 9; i++, scale /= 10)
			frac += (p[i] - '0') * scale;
		if (i == d)
			return 0;
	}
	if (i < n && p[i] != ' ')
		return 0;
	*ns = tw_kv_yearless_ns(o->now_ns, mon, day, hh, mm, ss, frac);
	return i;
}

/* An RFC 3339 token at p followed by a space or the end: its length. */
static size_t
rfc3339_time(const char *p, size_t n, int64_t *ns)
{
	const char *sp = memchr(p, ' ', n);
	size_t len = sp != NULL ? (size_t)(sp - p) : n;

	if (len < 19 || !is_digit(p[0]) || p[4] != '-')
		return 0;
	return tw_kv_time(p, len, ns) == 0 ? len : 0;
}

/*
 * "TAG[PID]: " or "TAG: " (or "TAG[PID] ") at p: fills m->app and
 * m->procid and returns where the message starts; 0 when p has no tag.
 */
static size_t
parse_tag(struct msg *m, const char *p, size_t n)
{
	size_t i = 0, tag, pid = 0, pidlen = 0;
	bool bracket = false;

	while (i < n && p[i] != ' ' && p[i] != '[' && p[i] != ':')
		i++;
	tag = i;
	if (i < n && p[i] == '[') {
		const char *end = memchr(p + i, ']', n - i);
		const char *sp = memchr(p + i, ' ', n - i);
		if (end == NULL || (sp != NULL && sp < end))
			return 0;
		pid = i + 1;
		pidlen = (size_t)(end - p) - pid;
		bracket = true;
		i = (size_t)(end - p) + 1;
	}
	if (i < n && p[i] == ':')
		i++;
	else if (!bracket || (i < n && p[i] != ' '))
		return 0;
	/* Exactly one space goes: sudo's message keeps its indent. */
	if (i < n && p[i] == ' ')
		i++;
	if (tag > 0) {
		m->app.p = p;
		m->app.n = tag;
	}
	if (pidlen > 0) {
		m->procid.p = p + pid;
		m->procid.n = pidlen;
	}
	return i;
}

/* "HOSTNAME TAG...: MSG" after a BSD or RFC 3339 time. */
static void
parse_3164_rest(struct msg *m, const char *p, size_t n)
{
	const char *sp = memchr(p, ' ', n);
	size_t hlen = sp != NULL ? (size_t)(sp - p) : n, at = 0, t;

	/* A first word ending in ':' is a tag: the host was left out. */
	if (hlen > 0 && p[hlen - 1] != ':') {
		m->host.p = p;
		m->host.n = hlen;
		at = sp != NULL ? hlen + 1 : n;
	}
	if ((t = parse_tag(m, p + at, n - at)) > 0)
		at += t;
	m->text.p = p + at;
	m->text.n = n - at;
}

/* An RFC 3164 message from p (after the PRI, if any). */
static void
parse_3164(const struct tw_parse_opts *o, struct msg *m, const char *p,
    size_t n, bool rsyslog_file)
{
	size_t t;

	m->format = "rfc3164";
	if ((t = bsd_time(o, p, n, &m->time)) == 0 &&
	    (t = rfc3339_time(p, n, &m->time)) > 0 && rsyslog_file)
		m->format = "rsyslog_file";
	if (t == 0) {
		/* No header (RFC 3164 4.3.3): it all is the message. */
		m->text.p = p;
		m->text.n = n;
		return;
	}
	m->has_time = true;
	if (t < n)
		t++;
	parse_3164_rest(m, p + t, n - t);
}

/* A header field of RFC 5424 at p[*i]: NILVALUE and empty are absent. */
static bool
field_5424(const char *p, size_t n, size_t *i, struct span *f)
{
	const char *sp;
	size_t len;

	if (*i >= n)
		return false;
	sp = memchr(p + *i, ' ', n - *i);
	len = sp != NULL ? (size_t)(sp - (p + *i)) : n - *i;
	if (len > 0 && !(len == 1 && p[*i] == '-')) {
		f->p = p + *i;
		f->n = len;
	}
	*i += len;
	if (*i < n)
		(*i)++;
	return true;
}

/* STRUCTURED-DATA elements at p[*i]; false (nothing kept) if malformed. */
static bool
parse_sd(struct syslog_state *s, const char *p, size_t n, size_t *i)
{
	size_t j = *i, k;

	tw_kv_reset(&s->elems);
	tw_kv_reset(&s->params);
	while (j < n && p[j] == '[') {
		size_t first = s->params.n;
		k = ++j;
		while (k < n && p[k] != ' ' && p[k] != ']' && p[k] != '=' &&
		    p[k] != '"')
			k++;
		if (k == j || k >= n ||
		    tw_kv_push(&s->elems, p + j, k - j, NULL, 0,
		    TW_KV_ESC_NONE) != 0)
			return false;
		j = k;
		for (;;) {
			size_t name, v;
			if (j >= n)
				return false;
			if (p[j] == ']') {
				j++;
				break;
			}
			if (p[j] != ' ')
				return false;
			name = ++j;
			while (j < n && p[j] != '=' && p[j] != ' ' &&
			    p[j] != ']' && p[j] != '"')
				j++;
			if (j == name || j + 1 >= n || p[j] != '=' ||
			    p[j + 1] != '"')
				return false;
			v = j + 2;
			for (k = v; k < n && p[k] != '"'; k++)
				if (p[k] == '\\' && k + 1 < n)
					k++;
			if (k >= n || tw_kv_push(&s->params, p + name,
			    j - name, p + v, k - v, TW_KV_ESC_SD) != 0)
				return false;
			j = k + 1;
		}
		s->elems.pairs[s->elems.n - 1].sub =
		    (uint32_t)(s->params.n - first);
	}
	*i = j;
	return true;
}

/* An RFC 5424 message from p (after the PRI); false if it is not one. */
static bool
parse_5424(struct syslog_state *s, struct msg *m, const char *p, size_t n)
{
	struct span ts = { NULL, 0 };
	size_t i, sd;
	uint64_t v;

	m->format = "rfc5424";
	if ((i = version_len(p, n)) == 0)
		return false;
	if (tw_kv_uint(p, i - 1, &v))
		m->version = (int64_t)v;
	if (!field_5424(p, n, &i, &ts))
		return true;
	if (ts.p != NULL &&
	    tw_kv_time(ts.p, ts.n, &m->time) == 0)
		m->has_time = true;
	if (!field_5424(p, n, &i, &m->host) ||
	    !field_5424(p, n, &i, &m->app) ||
	    !field_5424(p, n, &i, &m->procid) ||
	    !field_5424(p, n, &i, &m->msgid) || i >= n)
		return true;
	sd = i;
	if (p[i] == '-' && (i + 1 == n || p[i + 1] == ' ')) {
		i++;
	} else if (!parse_sd(s, p, n, &i)) {
		/* Malformed STRUCTURED-DATA: keep it in the message. */
		m->text.p = p + sd;
		m->text.n = n - sd;
		return true;
	} else {
		m->has_sd = s->elems.n > 0;
	}
	if (i < n && p[i] == ' ')
		i++;
	else if (i >= n)
		return true;
	if (n - i >= 3 && memcmp(p + i, "\xef\xbb\xbf", 3) == 0)
		i += 3;
	m->text.p = p + i;
	m->text.n = n - i;
	return true;
}

/* A span as a str, or nothing when absent. */
static uint32_t
put_span(struct tw_mpw *w, const char *key, const struct span *f)
{
	if (f->p == NULL)
		return 0;
	tw_mpw_cstr(w, key);
	tw_mpw_str(w, f->p, f->n);
	return 1;
}

/* The numeric PROCID as a pid, when it is one. */
static bool
pid_of(const struct msg *m, uint64_t *pid)
{
	return m->procid.p != NULL && tw_kv_uint(m->procid.p, m->procid.n,
	    pid);
}

/* structured_data: {SD-ID: {PARAM: value}}, the last of a name winning. */
static void
put_sd(struct syslog_state *s, struct tw_mpw *w)
{
	size_t first = 0;

	tw_mpw_cstr(w, "structured_data");
	tw_mpw_map(w, tw_kv_dedupe(&s->elems, 0, s->elems.n));
	for (size_t e = 0; e < s->elems.n; e++) {
		const struct tw_kv_pair *el = &s->elems.pairs[e];
		size_t to = first + el->sub;
		if (!el->dup) {
			tw_mpw_str(w, el->key, el->klen);
			tw_mpw_map(w, tw_kv_dedupe(&s->params, first, to));
			tw_kv_write_pairs(w, &s->scratch, &s->params, first,
			    to);
		}
		first = to;
	}
}

static void
put_syslog(struct syslog_state *s, struct tw_mpw *w, const struct msg *m)
{
	size_t hdr;
	uint32_t keys = 1;

	tw_mpw_cstr(w, "syslog");
	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "format");
	tw_mpw_cstr(w, m->format);
	if (m->pri >= 0) {
		tw_mpw_cstr(w, "priority");
		tw_mpw_uint(w, (uint64_t)m->pri);
		tw_mpw_cstr(w, "facility");
		tw_mpw_uint(w, (uint64_t)(m->pri >> 3));
		tw_mpw_cstr(w, "facility_name");
		tw_mpw_cstr(w, facility_names[m->pri >> 3]);
		tw_mpw_cstr(w, "severity");
		tw_mpw_uint(w, (uint64_t)(m->pri & 7));
		tw_mpw_cstr(w, "severity_name");
		tw_mpw_cstr(w, severity_names[m->pri & 7]);
		keys += 5;
	}
	if (m->version >= 0) {
		tw_mpw_cstr(w, "version");
		tw_mpw_uint(w, (uint64_t)m->version);
		keys++;
	}
	keys += put_span(w, "hostname", &m->host);
	keys += put_span(w, "appname", &m->app);
	keys += put_span(w, "procid", &m->procid);
	keys += put_span(w, "msgid", &m->msgid);
	if (m->has_sd) {
		put_sd(s, w);
		keys++;
	}
	tw_mpw_patch32(w, hdr, keys);
}

/*
 * One line under the state's grammar. Nothing is rejected: what has no
 * header is a message read now, in the grammar the format forces (RFC 3164
 * for syslog).
 */
static int
syslog_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct syslog_state *s = state;
	struct tw_kv_line l;
	struct msg m;
	size_t at = 0, hdr;
	uint32_t keys = 0;
	uint64_t pid;
	int r;

	if ((r = tw_kv_line(&l, &s->clean, p, n)) != 0)
		return r;
	p = l.p;
	n = l.n;
	memset(&m, 0, sizeof(m));
	m.version = -1;
	m.pri = parse_pri(p, n, &at);
	if (m.pri < 0)
		at = 0;
	if (s->grammar == G_5424 || (s->grammar == G_AUTO && m.pri >= 0 &&
	    version_len(p + at, n - at) > 0)) {
		if (m.pri < 0 || !parse_5424(s, &m, p + at, n - at)) {
			m.format = "rfc5424";
			m.text.p = p + at;
			m.text.n = n - at;
		}
	} else {
		parse_3164(o, &m, p + at, n - at,
		    s->grammar == G_AUTO && m.pri < 0);
	}

	hdr = tw_mpw_map32_placeholder(w);
	keys += tw_kv_write_time(w, o, m.has_time ? m.time : o->now_ns);
	keys += tw_rec_source(w, o, "syslog", m.format);
	if (m.pri >= 0) {
		tw_mpw_cstr(w, "level");
		tw_mpw_cstr(w, severity_levels[m.pri & 7]);
		keys++;
	}
	if (m.host.p != NULL) {
		tw_mpw_cstr(w, "host");
		tw_mpw_map(w, 1);
		put_span(w, "name", &m.host);
		keys++;
	}
	if (m.app.p != NULL || pid_of(&m, &pid)) {
		bool has_pid = pid_of(&m, &pid);
		tw_mpw_cstr(w, "process");
		tw_mpw_map(w, (m.app.p != NULL) + has_pid);
		put_span(w, "name", &m.app);
		if (has_pid) {
			tw_mpw_cstr(w, "pid");
			tw_mpw_uint(w, pid);
		}
		keys++;
	}
	if (m.text.p != NULL) {
		tw_mpw_cstr(w, "message");
		tw_mpw_str(w, m.text.p, m.text.n);
		keys++;
	}
	keys += tw_kv_write_raw(w, &l);
	put_syslog(s, w, &m);
	keys++;
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	return emit(arg, (const uint8_t *)w->buf->data, w->buf->len);
}

/* The first line of a sample, without its newline. */
static size_t
first_line(const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);

	n = nl != NULL ? (size_t)(nl - p) : n;
	return n > 0 && p[n - 1] == '\r' ? n - 1 : n;
}

/*
 * <PRI> then a version or a time; a BSD time; or rsyslog's RFC 3339 file
 * format (not a CRI line: its second word is a host, the third a tag).
 */
static int
syslog_detect(const char *p, size_t n)
{
	struct tw_parse_opts o;
	struct msg m;
	size_t at = 0, t;
	int64_t ns;

	n = first_line(p, n);
	memset(&o, 0, sizeof(o));
	if (parse_pri(p, n, &at) >= 0) {
		if (version_len(p + at, n - at) > 0 ||
		    bsd_time(&o, p + at, n - at, &ns) > 0 ||
		    rfc3339_time(p + at, n - at, &ns) > 0)
			return 90;
		return 0;
	}
	if (bsd_time(&o, p, n, &ns) > 0)
		return 70;
	if ((t = rfc3339_time(p, n, &ns)) > 0 && t < n) {
		memset(&m, 0, sizeof(m));
		parse_3164_rest(&m, p + t + 1, n - t - 1);
		if (m.host.p != NULL && m.app.p != NULL &&
		    !(m.host.n == 6 && (memcmp(m.host.p, "stdout", 6) == 0 ||
		    memcmp(m.host.p, "stderr", 6) == 0)))
			return 60;
	}
	return 0;
}

const struct tw_format tw_format_rfc3164 = {
	.name = "rfc3164",
	.framing = TW_FRAMING_LINES,
	.state_new = rfc3164_new,
	.state_free = syslog_free,
	.parse = syslog_parse,
	.flush = NULL,
	.detect = NULL, /* "syslog" takes both grammars */
};

const struct tw_format tw_format_rfc5424 = {
	.name = "rfc5424",
	.framing = TW_FRAMING_LINES,
	.state_new = rfc5424_new,
	.state_free = syslog_free,
	.parse = syslog_parse,
	.flush = NULL,
	.detect = NULL,
};

const struct tw_format tw_format_syslog = {
	.name = "syslog",
	.framing = TW_FRAMING_LINES,
	.state_new = syslog_new,
	.state_free = syslog_free,
	.parse = syslog_parse,
	.flush = NULL,
	.detect = syslog_detect,
};

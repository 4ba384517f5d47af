/* klog.c: Go klog lines (Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "kv.h"

#define KLOG_LINE_MAX ((size_t)64 << 20)
/* Continuation lines are merged into their entry up to this size. */
#define KLOG_MERGE_MAX ((size_t)1 << 20)

/* What a header says; the spans point into the (clean) entry text. */
struct header {
	const char *level;
	int64_t time;
	uint64_t thread_id;
	const char *file;
	size_t file_len;
	uint64_t line;
	size_t msg; /* where the message starts */
};

struct klog_state {
	struct tw_buf pending; /* the entry being continued */
	bool have_pending;
	struct tw_buf clean;   /* the entry, when it was not UTF-8 */
	struct tw_buf scratch; /* unescaped strings */
	struct tw_kv kv;
};

static int
klog_new(const struct tw_parse_opts *o, void **state)
{
	struct klog_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	tw_buf_init(&s->pending, KLOG_LINE_MAX);
	tw_buf_init(&s->clean, KLOG_LINE_MAX * 3);
	tw_buf_init(&s->scratch, KLOG_LINE_MAX * 3);
	tw_kv_init(&s->kv);
	*state = s;
	return 0;
}

static void
klog_free(void *state)
{
	struct klog_state *s = state;

	tw_buf_cleanup(&s->pending);
	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->scratch);
	tw_kv_cleanup(&s->kv);
	free(s);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* n digits at p as a number, -1 when they are not all digits. */
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

/*
 * Match the klog header at p; the time takes its year from the reference
 * clock. False for a line that does not start with one (a continuation).
 */
static bool
parse_header(const struct tw_parse_opts *o, const char *p, size_t n,
    struct header *h)
{
	int mon, day, hh, mm, ss;
	int64_t frac = 0, scale = 100000000;
	const char *end, *colon, *nl;
	size_t i, d;

	/* Only the first line of a merged entry has the header. */
	if ((nl = memchr(p, '\n', n)) != NULL)
		n = (size_t)(nl - p);
	if (n < 22)
		return false;
	switch (p[0]) {
	case 'I': h->level = "info"; break;
	case 'W': h->level = "warn"; break;
	case 'E': h->level = "error"; break;
	case 'F': h->level = "fatal"; break;
	default: return false;
	}
	mon = digits(p + 1, 2);
	day = digits(p + 3, 2);
	hh = digits(p + 6, 2);
	mm = digits(p + 9, 2);
	ss = digits(p + 12, 2);
	if (p[5] != ' ' || p[8] != ':' || p[11] != ':' || p[14] != '.' ||
	    mon < 1 || mon > 12 || day < 1 || day > 31 || hh < 0 || hh > 23 ||
	    mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return false;
	for (i = d = 15; i < n && is_digit(p[i]) && i - d < 9;
	    i++, scale /= 10)
		frac += (p[i] - '0') * scale;
	if (i == d || i >= n || p[i] != ' ')
		return false;
	while (i < n && p[i] == ' ')
		i++;
	for (d = i; i < n && is_digit(p[i]); i++)
		;
	if (!tw_kv_uint(p + d, i - d, &h->thread_id) || i >= n ||
	    p[i] != ' ')
		return false;
	d = ++i;
	/* file:line]: the file is one word, the line after its last ':'. */
	if ((end = memchr(p + d, ']', n - d)) == NULL ||
	    memchr(p + d, ' ', (size_t)(end - (p + d))) != NULL)
		return false;
	for (colon = end; colon > p + d && colon[-1] != ':'; colon--)
		;
	if (colon == p + d ||
	    !tw_kv_uint(colon, (size_t)(end - colon), &h->line))
		return false;
	h->file = p + d;
	h->file_len = (size_t)(colon - 1 - (p + d));
	i = (size_t)(end - p) + 1;
	if (i < n && p[i] != ' ')
		return false;
	h->msg = i < n ? i + 1 : i;
	h->time = tw_kv_yearless_ns(o->now_ns, mon, day, hh, mm, ss, frac);
	return true;
}

/*
 * The end of a quoted string starting at p[0] == '"' (backslashes
 * escape), or 0 when it is not closed.
 */
static size_t
quoted_end(const char *p, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i;
	}
	return 0;
}

/* Emit one entry: a header line and its continuation lines (or a stray
 * continuation line, as plain text read now). */
static int
emit_entry(struct klog_state *s, const struct tw_parse_opts *o,
    const char *p, size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct tw_kv_line l;
	struct header h;
	const char *msg;
	size_t hdr, mlen, q = 0, fields_hdr;
	uint32_t keys = 0, nf;
	bool head;
	int r;

	if ((r = tw_kv_line(&l, &s->clean, p, n)) != 0)
		return r;
	p = l.p;
	n = l.n;
	head = parse_header(o, p, n, &h);
	hdr = tw_mpw_map32_placeholder(w);
	keys += tw_kv_write_time(w, o, head ? h.time : o->now_ns);
	keys += tw_rec_source(w, o, "file", "klog");
	if (!head) {
		tw_mpw_cstr(w, "message");
		tw_mpw_str(w, p, n);
		keys++;
		keys += tw_kv_write_raw(w, &l);
		goto done;
	}
	tw_mpw_cstr(w, "level");
	tw_mpw_cstr(w, h.level);
	keys++;
	msg = p + h.msg;
	mlen = n - h.msg;
	tw_kv_reset(&s->kv);
	/* Structured (InfoS/ErrorS): "message" key="value" ... */
	if (mlen > 0 && msg[0] == '"' && (q = quoted_end(msg, mlen)) > 0)
		tw_ignore(tw_kv_logfmt(&s->kv, msg + q + 1, mlen - q - 1));
	tw_mpw_cstr(w, "message");
	if (q > 0)
		tw_kv_write_str(w, &s->scratch, msg + 1, q - 1, TW_KV_ESC_ANY);
	else
		tw_mpw_str(w, msg, mlen);
	keys++;
	keys += tw_kv_write_raw(w, &l);
	tw_mpw_cstr(w, "process");
	tw_mpw_map(w, 1);
	tw_mpw_cstr(w, "thread_id");
	tw_mpw_uint(w, h.thread_id);
	keys++;
	/* A pair named file or line replaces the header's. */
	tw_mpw_cstr(w, "fields");
	fields_hdr = tw_mpw_map32_placeholder(w);
	nf = tw_kv_dedupe(&s->kv, 0, s->kv.n);
	if (tw_kv_get(&s->kv, 0, s->kv.n, "file") == NULL) {
		tw_mpw_cstr(w, "file");
		tw_mpw_str(w, h.file, h.file_len);
		nf++;
	}
	if (tw_kv_get(&s->kv, 0, s->kv.n, "line") == NULL) {
		tw_mpw_cstr(w, "line");
		tw_mpw_uint(w, h.line);
		nf++;
	}
	tw_kv_write_pairs(w, &s->scratch, &s->kv, 0, s->kv.n);
	tw_mpw_patch32(w, fields_hdr, nf);
	keys++;
done:
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	return emit(arg, (const uint8_t *)w->buf->data, w->buf->len);
}

/* Emit the pending entry, if any. */
static int
emit_pending(struct klog_state *s, const struct tw_parse_opts *o,
    struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	int r;

	if (!s->have_pending)
		return 0;
	s->have_pending = false;
	r = emit_entry(s, o, s->pending.data, s->pending.len, w, emit, arg);
	/* The writer starts over for whatever comes next. */
	tw_buf_reset(w->buf);
	tw_mpw_init(w, w->buf);
	return r;
}

/*
 * A header line starts an entry, held until the next header (or flush)
 * so that lines without a header (multi-line values) join it.
 */
static int
klog_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct klog_state *s = state;
	struct header h;
	int r;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (!parse_header(o, p, n, &h)) {
		if (s->have_pending &&
		    s->pending.len + 1 + n <= KLOG_MERGE_MAX) {
			if (tw_buf_addc(&s->pending, '\n') == 0 &&
			    tw_buf_add(&s->pending, p, n) == 0)
				return 0;
		}
		if ((r = emit_pending(s, o, w, emit, arg)) != 0)
			return r;
		return emit_entry(s, o, p, n, w, emit, arg);
	}
	if ((r = emit_pending(s, o, w, emit, arg)) != 0)
		return r;
	tw_buf_reset(&s->pending);
	if (tw_buf_add(&s->pending, p, n) != 0)
		return emit_entry(s, o, p, n, w, emit, arg);
	s->have_pending = true;
	return 0;
}

static int
klog_flush(void *state, const struct tw_parse_opts *o, struct tw_mpw *w,
    tw_emit_fn emit, void *arg)
{
	return emit_pending(state, o, w, emit, arg);
}

/* A first line with a klog header. */
static int
klog_detect(const char *p, size_t n)
{
	struct tw_parse_opts o;
	struct header h;
	const char *nl = memchr(p, '\n', n);

	memset(&o, 0, sizeof(o));
	n = nl != NULL ? (size_t)(nl - p) : n;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return parse_header(&o, p, n, &h) ? 90 : 0;
}

const struct tw_format tw_format_klog = {
	.name = "klog",
	.framing = TW_FRAMING_LINES,
	.state_new = klog_new,
	.state_free = klog_free,
	.parse = klog_parse,
	.flush = klog_flush,
	.detect = klog_detect,
};

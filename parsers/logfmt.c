/* logfmt.c: logfmt lines (key=value key="quoted \" value" bare) into fields. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats.h"
#include "kv.h"

#define LOGFMT_LINE_MAX ((size_t)64 << 20)

struct logfmt_state {
	struct tw_buf clean;   /* the line, when it was not UTF-8 */
	struct tw_buf scratch; /* unescaped values */
	struct tw_kv kv;
};

static int
logfmt_new(const struct tw_parse_opts *o, void **state)
{
	struct logfmt_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	tw_buf_init(&s->clean, LOGFMT_LINE_MAX * 3);
	tw_buf_init(&s->scratch, LOGFMT_LINE_MAX * 3);
	tw_kv_init(&s->kv);
	*state = s;
	return 0;
}

static void
logfmt_free(void *state)
{
	struct logfmt_state *s = state;

	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->scratch);
	tw_kv_cleanup(&s->kv);
	free(s);
}

/*
 * The level words of logfmt producers (logrus, go-kit, zap), the value
 * trimmed and case-folded; NULL for anything else.
 */
static const char *
logfmt_level(struct tw_buf *scratch, const struct tw_kv_pair *kp)
{
	static const struct {
		const char *word;
		const char *level;
	} words[] = {
		{ "trace", "trace" }, { "debug", "debug" }, { "dbg", "debug" },
		{ "info", "info" }, { "information", "info" },
		{ "informational", "info" }, { "notice", "info" },
		{ "warn", "warn" }, { "warning", "warn" },
		{ "error", "error" }, { "err", "error" },
		{ "critical", "fatal" }, { "crit", "fatal" },
		{ "fatal", "fatal" }, { "panic", "fatal" },
		{ "alert", "fatal" }, { "emergency", "fatal" },
		{ "emerg", "fatal" },
	};
	const char *p;
	size_t n;

	if (!tw_kv_value(scratch, kp, &p, &n))
		return NULL;
	while (n > 0 && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n' || *p == '\f' || *p == '\v')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
	    p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == '\f' ||
	    p[n - 1] == '\v'))
		n--;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == n &&
		    strncasecmp(words[i].word, p, n) == 0)
			return words[i].level;
	return NULL;
}

/* The time of a time/ts pair: an RFC 3339 string. */
static bool
pair_time(struct tw_buf *scratch, const struct tw_kv_pair *kp, int64_t *ns)
{
	const char *p;
	size_t n;

	return tw_kv_value(scratch, kp, &p, &n) &&
	    tw_kv_time(p, n, ns) == 0;
}

/*
 * Every pair goes to fields (values are strings; a bare key is true, the
 * last of a repeated key wins); time from time (else ts), level from
 * level, message from msg. A line with no key=value at all is text.
 */
static int
logfmt_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct logfmt_state *s = state;
	const struct tw_kv_pair *msg;
	struct tw_kv_line l;
	const char *level;
	int64_t ns = o->now_ns;
	uint32_t keys = 0;
	size_t hdr;
	int r, pairs;

	if ((r = tw_kv_line(&l, &s->clean, p, n)) != 0)
		return r;
	tw_kv_reset(&s->kv);
	pairs = tw_kv_logfmt(&s->kv, l.p, l.n);
	hdr = tw_mpw_map32_placeholder(w);
	if (pairs == 0) {
		keys += tw_kv_write_time(w, o, ns);
		keys += tw_rec_source(w, o, "file", "logfmt");
		tw_mpw_cstr(w, "message");
		tw_mpw_str(w, l.p, l.n);
		keys++;
		keys += tw_kv_write_raw(w, &l);
		goto done;
	}
	if (!pair_time(&s->scratch, tw_kv_get(&s->kv, 0, s->kv.n, "time"),
	    &ns) &&
	    !pair_time(&s->scratch, tw_kv_get(&s->kv, 0, s->kv.n, "ts"), &ns))
		ns = o->now_ns;
	keys += tw_kv_write_time(w, o, ns);
	keys += tw_rec_source(w, o, "file", "logfmt");
	level = logfmt_level(&s->scratch,
	    tw_kv_get(&s->kv, 0, s->kv.n, "level"));
	if (level != NULL) {
		tw_mpw_cstr(w, "level");
		tw_mpw_cstr(w, level);
		keys++;
	}
	msg = tw_kv_get(&s->kv, 0, s->kv.n, "msg");
	if (msg != NULL && msg->val != NULL) {
		tw_mpw_cstr(w, "message");
		tw_kv_write_val(w, &s->scratch, msg);
		keys++;
	}
	keys += tw_kv_write_raw(w, &l);
	tw_mpw_cstr(w, "fields");
	tw_mpw_map(w, tw_kv_dedupe(&s->kv, 0, s->kv.n));
	tw_kv_write_pairs(w, &s->scratch, &s->kv, 0, s->kv.n);
	keys++;
done:
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	return emit(arg, (const uint8_t *)w->buf->data, w->buf->len);
}

static bool
key_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (!first && ((c >= '0' && c <= '9') || c == '.' || c == '-' ||
	    c == '@' || c == '/'));
}

/*
 * A first line that starts with key= and has at least two pairs; not an
 * auditd record (type=... msg=audit(...)), which looks the same.
 */
static int
logfmt_detect(const char *p, size_t n)
{
	const char *nl;
	size_t i = 0, k, pairs = 0;

	while (i < n && (p[i] == '\n' || p[i] == '\r'))
		i++;
	p += i;
	n -= i;
	if ((nl = memchr(p, '\n', n)) != NULL)
		n = (size_t)(nl - p);
	if (n >= 10 && memmem(p, n, "msg=audit(", 10) != NULL)
		return 0;
	for (i = 0; i < n;) {
		for (k = i; k < n && key_char(p[k], k == i); k++)
			;
		if (k == i || k >= n || p[k] != '=') {
			if (i == 0)
				return 0;
		} else {
			pairs++;
		}
		/* Skip the value (quoted or bare) to the next space. */
		if (k < n && p[k] == '=' && k + 1 < n && p[k + 1] == '"') {
			for (k += 2; k < n && p[k] != '"'; k++)
				if (p[k] == '\\')
					k++;
			k++;
		}
		while (k < n && p[k] != ' ')
			k++;
		while (k < n && p[k] == ' ')
			k++;
		i = k;
	}
	return pairs >= 2 ? 30 : 0;
}

const struct tw_format tw_format_logfmt = {
	.name = "logfmt",
	.framing = TW_FRAMING_LINES,
	.state_new = logfmt_new,
	.state_free = logfmt_free,
	.parse = logfmt_parse,
	.flush = NULL,
	.detect = logfmt_detect,
};

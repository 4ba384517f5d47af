/* json_lines.c: the json format: one JSON object per line (app logs). */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "formats.h"
#include "timefmt.h"
#include "utf8.h"

#define JSON_LINE_MAX ((size_t)64 << 20)

/*
 * What the converter saw at the top level, copied out of its temporary
 * storage: the fields the record lifts. Priority goes to the earlier name
 * in each list below, whatever the order in the line.
 */
struct lifted {
	int time_rank, level_rank, msg_rank, trace_rank, span_rank;
	int64_t time_ns;
	const char *level;
	struct tw_buf msg, trace, span;
};

struct json_state {
	struct tw_buf fields;  /* the object as msgpack */
	struct tw_buf clean;   /* the line with U+FFFD, when it was not UTF-8 */
	struct tw_buf scratch;
	struct lifted lift;
};

static const char *const time_keys[] = { "time", "timestamp", "ts",
	"@timestamp", "t", NULL };
static const char *const level_keys[] = { "level", "severity", "lvl",
	"log.level", "loglevel", NULL };
static const char *const msg_keys[] = { "msg", "message", "log", NULL };
static const char *const trace_keys[] = { "trace_id", "traceId",
	"trace.id", NULL };
static const char *const span_keys[] = { "span_id", "spanId", "span.id",
	NULL };

/* Rank of key in names (1 = best), 0 when absent. */
static int
rank(const char *const *names, const char *key, size_t klen)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == klen && memcmp(names[i], key, klen) == 0)
			return i + 1;
	return 0;
}

/* Numbers are epoch seconds, ms, µs or ns, told apart by magnitude. */
static bool
number_time(const struct tw_mp_obj *v, int64_t *ns)
{
	double d;

	if (v->type == TW_MP_UINT)
		d = (double)v->v.u;
	else if (v->type == TW_MP_FLOAT)
		d = v->v.f;
	else
		return false;
	if (!(d > 0 && d < 9.2e18))
		return false;
	if (d < 1e11)
		*ns = (int64_t)(d * 1e9);
	else if (d < 1e14)
		*ns = (int64_t)(d * 1e6);
	else if (d < 1e17)
		*ns = (int64_t)(d * 1e3);
	else
		*ns = (int64_t)d;
	return true;
}

static void
keep_string(struct tw_buf *b, int *have, int r, const struct tw_mp_obj *v)
{
	if (v->type != TW_MP_STR || (*have != 0 && *have <= r))
		return;
	tw_buf_reset(b);
	if (tw_buf_add(b, v->v.s.p, v->v.s.len) == 0)
		*have = r;
}

static void
on_top(void *arg, const char *key, size_t klen, const struct tw_mp_obj *v)
{
	struct lifted *l = arg;
	char num[24];
	int r;

	if ((r = rank(time_keys, key, klen)) != 0 &&
	    (l->time_rank == 0 || r < l->time_rank)) {
		int64_t ns;
		if ((v->type == TW_MP_STR &&
		    tw_time_parse_rfc3339(v->v.s.p, v->v.s.len, &ns) == 0) ||
		    number_time(v, &ns)) {
			l->time_ns = ns;
			l->time_rank = r;
		}
	} else if ((r = rank(level_keys, key, klen)) != 0 &&
	    (l->level_rank == 0 || r < l->level_rank)) {
		const char *lv = NULL;
		if (v->type == TW_MP_STR)
			lv = tw_rec_level(v->v.s.p, v->v.s.len);
		else if (v->type == TW_MP_UINT && v->v.u < 100) {
			snprintf(num, sizeof(num), "%u", (unsigned)v->v.u);
			lv = tw_rec_level(num, strlen(num));
		}
		if (lv != NULL) {
			l->level = lv;
			l->level_rank = r;
		}
	} else if ((r = rank(msg_keys, key, klen)) != 0) {
		keep_string(&l->msg, &l->msg_rank, r, v);
	} else if ((r = rank(trace_keys, key, klen)) != 0) {
		keep_string(&l->trace, &l->trace_rank, r, v);
	} else if ((r = rank(span_keys, key, klen)) != 0) {
		keep_string(&l->span, &l->span_rank, r, v);
	}
}

static int
json_new(const struct tw_parse_opts *o, void **state)
{
	struct json_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	tw_buf_init(&s->fields, JSON_LINE_MAX);
	tw_buf_init(&s->clean, JSON_LINE_MAX);
	tw_buf_init(&s->scratch, JSON_LINE_MAX);
	tw_buf_init(&s->lift.msg, JSON_LINE_MAX);
	tw_buf_init(&s->lift.trace, 256);
	tw_buf_init(&s->lift.span, 256);
	*state = s;
	return 0;
}

static void
json_free(void *state)
{
	struct json_state *s = state;

	tw_buf_cleanup(&s->fields);
	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->scratch);
	tw_buf_cleanup(&s->lift.msg);
	tw_buf_cleanup(&s->lift.trace);
	tw_buf_cleanup(&s->lift.span);
	free(s);
}

/* Convert the line's object into s->fields, filling s->lift. */
static int
convert(struct json_state *s, const char *p, size_t n)
{
	struct tw_json_opts jo;
	struct tw_mpw fw;
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n || p[i] != '{')
		return TW_EPARSE;
	memset(&s->lift, 0, offsetof(struct lifted, msg));
	tw_buf_reset(&s->lift.msg);
	tw_buf_reset(&s->lift.trace);
	tw_buf_reset(&s->lift.span);
	tw_buf_reset(&s->fields);
	tw_mpw_init(&fw, &s->fields);
	tw_json_opts_default(&jo);
	jo.on_top_scalar = on_top;
	jo.arg = &s->lift;
	return tw_json_to_mp(p, n, &fw, &jo, NULL);
}

/*
 * An object line becomes fields (verbatim) with time, level, message and
 * trace lifted out of it; any other line is kept as a text message.
 */
static int
json_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct json_state *s = state;
	const char *text = p;
	size_t tlen = n;
	bool is_utf8, parsed;
	uint32_t keys = 0;
	size_t hdr;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	is_utf8 = tw_utf8_valid(p, n);
	if (!is_utf8) {
		tw_buf_reset(&s->clean);
		if (tw_utf8_sanitize(&s->clean, p, n) != 0)
			return TW_ETOOBIG;
		text = s->clean.data;
		tlen = s->clean.len;
	} else {
		tlen = n;
	}
	parsed = convert(s, text, tlen) == 0;

	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "time");
	tw_mpw_timestamp(w, parsed && s->lift.time_rank != 0 ?
	    s->lift.time_ns : o->now_ns);
	keys++;
	if (o->observed_time) {
		tw_mpw_cstr(w, "observed_time");
		tw_mpw_timestamp(w, o->now_ns);
		keys++;
	}
	keys += tw_rec_source(w, o, "file", "json");
	if (!parsed) {
		keys += tw_rec_message(w, &s->scratch, p, n);
		goto done;
	}
	if (s->lift.level != NULL) {
		tw_mpw_cstr(w, "level");
		tw_mpw_cstr(w, s->lift.level);
		keys++;
	}
	if (s->lift.msg_rank != 0) {
		tw_mpw_cstr(w, "message");
		tw_mpw_str(w, s->lift.msg.data, s->lift.msg.len);
		keys++;
	}
	if (!is_utf8) {
		tw_mpw_cstr(w, "raw");
		tw_mpw_bin(w, p, n);
		keys++;
	}
	if (s->lift.trace_rank != 0) {
		tw_mpw_cstr(w, "trace");
		tw_mpw_map(w, s->lift.span_rank != 0 ? 2 : 1);
		tw_mpw_cstr(w, "id");
		tw_mpw_str(w, s->lift.trace.data, s->lift.trace.len);
		if (s->lift.span_rank != 0) {
			tw_mpw_cstr(w, "span_id");
			tw_mpw_str(w, s->lift.span.data, s->lift.span.len);
		}
		keys++;
	}
	tw_mpw_cstr(w, "fields");
	tw_mpw_raw(w, s->fields.data, s->fields.len);
	keys++;
done:
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	return emit(arg, (const uint8_t *)w->buf->data, w->buf->len);
}

/* A sample whose first non-blank line is a JSON object. */
static int
json_detect(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	return i < n && p[i] == '{' ? 40 : 0;
}

const struct tw_format tw_format_json = {
	.name = "json",
	.framing = TW_FRAMING_LINES,
	.state_new = json_new,
	.state_free = json_free,
	.parse = json_parse,
	.flush = NULL,
	.detect = json_detect,
};

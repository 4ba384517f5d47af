/* docker_json.c: the docker_json format: Docker's json-file log driver. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "json.h"
#include "multiline.h"
#include "timefmt.h"
#include "utf8.h"

/* Longer lines are not parsed as JSON (Docker's are ~100 KiB at most). */
#define DOCKER_LINE_MAX ((size_t)16 << 20)
#define DOCKER_STREAM_MAX 256

/* Pending partials per stream; any stream but the two shares "other". */
enum { SLOT_STDERR, SLOT_STDOUT, SLOT_OTHER, SLOTS };

struct docker_slot {
	struct tw_ml_partial pending;
	struct tw_buf stream; /* the first part's stream */
	bool has_stream;
	struct tw_buf labels; /* the first part's "labels" pair */
	uint32_t labels_keys;
};

struct docker_state {
	struct tw_ml_writer out;
	struct docker_slot slot[SLOTS];
	struct tw_buf doc;    /* the line as msgpack, "log" left out */
	struct tw_buf clean;  /* the line made valid UTF-8 */
	struct tw_buf log;    /* "log" decoded, without its final newline */
	struct tw_buf stream; /* "stream" */
	struct tw_buf labels; /* "labels": attrs, encoded, when there are any */
	uint32_t labels_keys;
	/* What the top level of the line held; the last of a key wins. */
	bool has_log, bad_log, log_newline, log_truncated;
	bool has_stream, has_time;
	int64_t time_ns;
};

static void
docker_free(void *state)
{
	struct docker_state *s = state;

	if (s == NULL)
		return;
	tw_ml_writer_cleanup(&s->out);
	for (int i = 0; i < SLOTS; i++) {
		tw_ml_partial_cleanup(&s->slot[i].pending);
		tw_buf_cleanup(&s->slot[i].stream);
		tw_buf_cleanup(&s->slot[i].labels);
	}
	tw_buf_cleanup(&s->doc);
	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->log);
	tw_buf_cleanup(&s->stream);
	tw_buf_cleanup(&s->labels);
	free(s);
}

static int
docker_new(const struct tw_parse_opts *o, void **state)
{
	struct docker_state *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	for (int i = 0; i < SLOTS; i++) {
		tw_ml_partial_init(&s->slot[i].pending);
		tw_buf_init(&s->slot[i].stream, DOCKER_STREAM_MAX);
		tw_buf_init(&s->slot[i].labels, TW_ML_EXTRA_MAX);
	}
	tw_buf_init(&s->doc, DOCKER_LINE_MAX + 64);
	tw_buf_init(&s->clean, 3 * DOCKER_LINE_MAX);
	tw_buf_init(&s->log, TW_ML_MESSAGE_MAX);
	tw_buf_init(&s->stream, DOCKER_STREAM_MAX);
	tw_buf_init(&s->labels, TW_ML_EXTRA_MAX);
	if ((r = tw_ml_writer_init(&s->out, o, "docker_json",
	    TW_APP_JSON_LSTRIP)) != 0) {
		docker_free(s);
		return r;
	}
	*state = s;
	return 0;
}

static bool
key_is(const char *key, size_t klen, const char *lit)
{
	return klen == strlen(lit) && memcmp(key, lit, klen) == 0;
}

/* Copy a string value into b, cut at a character boundary to fit. */
static bool
copy_cut(struct tw_buf *b, const char *p, size_t n)
{
	size_t keep = tw_ml_cut(p, n, b->max);

	tw_buf_reset(b);
	/* A failure leaves b empty: the value is lost, not the line. */
	if (tw_buf_add(b, p, keep) != 0)
		return true;
	return keep < n;
}

/*
 * Pick log, stream and time out of the line while it is converted; the
 * log (the bulk of the line) is kept out of the msgpack copy.
 */
static int
on_top(void *arg, struct tw_mpw *w, const char *key, size_t klen,
    const struct tw_mp_obj *v)
{
	struct docker_state *s = arg;
	bool str = v->type == TW_MP_STR;
	size_t n;

	if (key_is(key, klen, "log")) {
		s->has_log = str;
		s->bad_log = !str;
		if (!str)
			return 0;
		n = v->v.s.len;
		s->log_newline = n > 0 && v->v.s.p[n - 1] == '\n';
		s->log_truncated = copy_cut(&s->log, v->v.s.p,
		    n - s->log_newline);
		tw_mpw_nil(w);
		return 1;
	}
	if (key_is(key, klen, "stream")) {
		s->has_stream = str;
		if (str)
			(void)copy_cut(&s->stream, v->v.s.p, v->v.s.len);
	} else if (key_is(key, klen, "time")) {
		s->has_time = str && tw_time_parse_rfc3339(v->v.s.p,
		    v->v.s.len, &s->time_ns) == 0;
	}
	return 0;
}

/* Encode "labels": attrs from s->doc when attrs is a non-empty map. */
static void
find_labels(struct docker_state *s)
{
	struct tw_mp_reader r, peek;
	struct tw_mp_limits lim;
	struct tw_mp_obj o, val;
	const uint8_t *start = NULL, *end = NULL, *at;
	struct tw_mpw lw;
	uint32_t count;

	s->labels_keys = 0;
	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, s->doc.data, s->doc.len);
	if (tw_mp_read(&r, &o) != 0 || o.type != TW_MP_MAP)
		return;
	count = o.v.count;
	for (uint32_t i = 0; i < count; i++) {
		if (tw_mp_read(&r, &o) != 0)
			return;
		at = r.p;
		peek = r;
		if (tw_mp_skip(&r, &lim) != 0)
			return;
		if (o.type != TW_MP_STR || !tw_mp_str_eq(&o, "attrs"))
			continue;
		/* The last attrs wins, as in a dictionary. */
		start = end = NULL;
		if (tw_mp_read(&peek, &val) == 0 && val.type == TW_MP_MAP &&
		    val.v.count > 0 && r.p - at < (ptrdiff_t)TW_ML_EXTRA_MAX - 16) {
			start = at;
			end = r.p;
		}
	}
	if (start == NULL)
		return;
	tw_buf_reset(&s->labels);
	tw_mpw_init(&lw, &s->labels);
	tw_mpw_cstr(&lw, "labels");
	tw_mpw_raw(&lw, start, (size_t)(end - start));
	if (lw.err == 0)
		s->labels_keys = 1;
}

/* Parse the line as Docker's JSON into s; false when it is not that. */
static bool
docker_read(struct docker_state *s, const char *p, size_t n)
{
	struct tw_json_opts jo;
	struct tw_mpw dw;

	s->has_log = s->bad_log = s->log_newline = s->log_truncated = false;
	s->has_stream = s->has_time = false;
	s->labels_keys = 0;
	if (n > DOCKER_LINE_MAX)
		return false;
	if (!tw_utf8_valid(p, n)) {
		/* Docker writes U+FFFD itself; other writers may not. */
		tw_buf_reset(&s->clean);
		if (tw_utf8_sanitize(&s->clean, p, n) != 0)
			return false;
		p = s->clean.data;
		n = s->clean.len;
	}
	tw_buf_reset(&s->doc);
	tw_mpw_init(&dw, &s->doc);
	tw_json_opts_default(&jo);
	jo.max_bytes = DOCKER_LINE_MAX * 3;
	jo.top_scalar_write = on_top;
	jo.arg = s;
	if (tw_json_to_mp(p, n, &dw, &jo, NULL) != 0 || s->doc.len == 0)
		return false;
	/* A top level that is no object never reaches on_top. */
	if (!s->has_log && (s->bad_log || !s->has_time))
		return false;
	find_labels(s);
	return true;
}

static int
slot_of(const struct docker_state *s)
{
	if (s->has_stream && s->stream.len == 6) {
		if (memcmp(s->stream.data, "stdout", 6) == 0)
			return SLOT_STDOUT;
		if (memcmp(s->stream.data, "stderr", 6) == 0)
			return SLOT_STDERR;
	}
	return SLOT_OTHER;
}

/* Write the pending parts of slot i as one record. */
static int
put_pending(struct docker_state *s, const struct tw_parse_opts *o, int i,
    bool incomplete, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct docker_slot *sl = &s->slot[i];
	struct tw_ml_record rec;
	int r;

	memset(&rec, 0, sizeof(rec));
	rec.time_ns = sl->pending.time_ns;
	if (sl->has_stream) {
		rec.stream = sl->stream.data;
		rec.stream_len = sl->stream.len;
	}
	rec.msg = sl->pending.data.data != NULL ? sl->pending.data.data : "";
	rec.msg_len = sl->pending.data.len;
	rec.parts = sl->pending.parts;
	rec.incomplete = incomplete;
	rec.truncated = sl->pending.truncated;
	if (sl->labels_keys > 0) {
		rec.extra = sl->labels.data;
		rec.extra_len = sl->labels.len;
		rec.extra_keys = sl->labels_keys;
	}
	r = tw_ml_write(&s->out, o, &rec, w, emit, arg);
	tw_ml_partial_reset(&sl->pending);
	return r;
}

/* Whether the line's stream is the one pending in slot i. */
static bool
same_stream(const struct docker_state *s, int i)
{
	const struct docker_slot *sl = &s->slot[i];

	if (sl->has_stream != s->has_stream)
		return false;
	return !s->has_stream || (sl->stream.len == s->stream.len &&
	    memcmp(sl->stream.data, s->stream.data, s->stream.len) == 0);
}

/* Start slot i with the line's stream and labels (its first part). */
static int
start_slot(struct docker_state *s, int i)
{
	struct docker_slot *sl = &s->slot[i];

	tw_buf_reset(&sl->stream);
	tw_buf_reset(&sl->labels);
	sl->has_stream = s->has_stream;
	sl->labels_keys = 0;
	if (s->has_stream &&
	    tw_buf_add(&sl->stream, s->stream.data, s->stream.len) != 0)
		return TW_ENOMEM;
	if (s->labels_keys > 0) {
		if (tw_buf_add(&sl->labels, s->labels.data, s->labels.len) != 0)
			return TW_ENOMEM;
		sl->labels_keys = s->labels_keys;
	}
	return 0;
}

/*
 * A "log" without a final newline is a partial (Docker's 16 KiB chunks,
 * or the last output of a container): it waits in its stream's slot for
 * the part that ends the line. A line that is not Docker JSON is a record
 * of its own, with the reference clock as its time.
 */
static int
docker_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct docker_state *s = state;
	struct tw_ml_partial *pp;
	struct tw_ml_record rec;
	int64_t t;
	int i, r;

	memset(&rec, 0, sizeof(rec));
	rec.parts = 1;
	if (!docker_read(s, p, n)) {
		rec.time_ns = o->now_ns;
		rec.msg = p;
		rec.msg_len = n;
		return tw_ml_write(&s->out, o, &rec, w, emit, arg);
	}
	t = s->has_time ? s->time_ns : o->now_ns;
	i = slot_of(s);
	pp = &s->slot[i].pending;
	if (pp->parts > 0 && !same_stream(s, i) &&
	    (r = put_pending(s, o, i, true, w, emit, arg)) != 0)
		return r;
	if (!s->log_newline || pp->parts > 0) {
		if (pp->parts == 0 && (r = start_slot(s, i)) != 0)
			return r;
		if ((r = tw_ml_partial_add(pp, t, s->log.data != NULL ?
		    s->log.data : "", s->log.len)) != 0)
			return r;
		if (s->log_truncated)
			pp->truncated = true;
		if (!s->log_newline)
			return 0;
		return put_pending(s, o, i, false, w, emit, arg);
	}
	rec.time_ns = t;
	if (s->has_stream) {
		rec.stream = s->stream.data;
		rec.stream_len = s->stream.len;
	}
	rec.msg = s->log.data != NULL ? s->log.data : "";
	rec.msg_len = s->log.len;
	rec.truncated = s->log_truncated;
	if (s->labels_keys > 0) {
		rec.extra = s->labels.data;
		rec.extra_len = s->labels.len;
		rec.extra_keys = s->labels_keys;
	}
	return tw_ml_write(&s->out, o, &rec, w, emit, arg);
}

/* Byte order of two slots' stream names; a slot without one goes last. */
static int
slot_cmp(const struct docker_state *s, int a, int b)
{
	const struct docker_slot *x = &s->slot[a], *y = &s->slot[b];
	size_t n;
	int c;

	if (!x->has_stream || !y->has_stream)
		return (int)y->has_stream - (int)x->has_stream;
	n = x->stream.len < y->stream.len ? x->stream.len : y->stream.len;
	if (n > 0 && (c = memcmp(x->stream.data, y->stream.data, n)) != 0)
		return c;
	return (x->stream.len > y->stream.len) - (x->stream.len < y->stream.len);
}

/* End of input: unterminated partials in stream name order, incomplete. */
static int
docker_flush(void *state, const struct tw_parse_opts *o, struct tw_mpw *w,
    tw_emit_fn emit, void *arg)
{
	struct docker_state *s = state;
	int order[SLOTS], n = 0, r, t;

	for (int i = 0; i < SLOTS; i++)
		if (s->slot[i].pending.parts > 0)
			order[n++] = i;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && slot_cmp(s, order[j - 1],
		    order[j]) > 0; j--) {
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < n; i++)
		if ((r = put_pending(s, o, order[i], true, w, emit, arg)) != 0)
			return r;
	return tw_ml_writer_flush(&s->out, o, w, emit, arg);
}

/* Sure when the first line is one of the driver's objects. */
static int
docker_detect(const char *p, size_t n)
{
	const char *nl;
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	p += i;
	n -= i;
	if ((nl = memchr(p, '\n', n)) != NULL)
		n = (size_t)(nl - p);
	if (n >= 8 && memcmp(p, "{\"log\":\"", 8) == 0)
		return 90;
	if (n > 0 && p[0] == '{' && memmem(p, n, "\"time\":\"", 8) != NULL &&
	    (memmem(p, n, "\"stream\":\"stdout\"", 17) != NULL ||
	    memmem(p, n, "\"stream\":\"stderr\"", 17) != NULL))
		return 70;
	return 0;
}

const struct tw_format tw_format_docker_json = {
	.name = "docker_json",
	.framing = TW_FRAMING_LINES,
	.state_new = docker_new,
	.state_free = docker_free,
	.parse = docker_parse,
	.flush = docker_flush,
	.detect = docker_detect,
};

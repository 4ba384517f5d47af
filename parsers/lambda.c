/* lambda.c: Lambda logs as CloudWatch Logs events: lambda_text, lambda_json. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats.h"
#include "json.h"
#include "lambda.h"
#include "utf8.h"

#define LAMBDA_LINE_MAX ((size_t)64 << 20)
/* Log streams remembered per parser; a full table starts over. */
#define STREAM_SLOTS 2048
#define STREAMS_MAX 1024
/* A record is one map; its copied JSON objects may nest this deep. */
#define FIELDS_DEPTH_MAX 31

static const char lambda_prefix[] = "/aws/lambda/";

/* --- values and records --- */

static void
vstr(struct tw_lambda_val *v, const char *p, size_t n)
{
	v->kind = TW_LV_STR;
	v->p = p;
	v->n = n;
}

static void
vcstr(struct tw_lambda_val *v, const char *s)
{
	vstr(v, s, strlen(s));
}

/* The value whose header is o and whose bytes are p[0..n). */
static void
vmp(struct tw_lambda_val *v, const char *p, size_t n,
    const struct tw_mp_obj *o)
{
	if (o->type == TW_MP_NIL)
		v->kind = TW_LV_NIL;
	else if (o->type == TW_MP_STR)
		vstr(v, o->v.s.p, o->v.s.len);
	else {
		v->kind = TW_LV_MP;
		v->p = p;
		v->n = n;
	}
}

static bool
vstr_eq(const struct tw_lambda_val *v, const char *s)
{
	size_t n = strlen(s);

	return v->kind == TW_LV_STR && v->n == n && memcmp(v->p, s, n) == 0;
}

/* Whether o is true as Python sees it. */
static bool
mp_truthy(const struct tw_mp_obj *o)
{
	switch (o->type) {
	case TW_MP_NIL:
		return false;
	case TW_MP_BOOL:
		return o->v.b;
	case TW_MP_UINT:
		return o->v.u != 0;
	case TW_MP_INT:
		return o->v.i != 0;
	case TW_MP_FLOAT:
		return o->v.f != 0;
	case TW_MP_STR:
	case TW_MP_BIN:
		return o->v.s.len > 0;
	case TW_MP_ARRAY:
	case TW_MP_MAP:
		return o->v.count > 0;
	default:
		return true;
	}
}

static bool
vtruthy(const struct tw_lambda_val *v)
{
	struct tw_mp_reader r;
	struct tw_mp_obj o;

	switch (v->kind) {
	case TW_LV_STR:
		return v->n > 0;
	case TW_LV_MP:
		tw_mp_reader_init(&r, v->p, v->n);
		return tw_mp_read(&r, &o) == 0 && mp_truthy(&o);
	case TW_LV_DOUBLE:
		return v->d != 0;
	case TW_LV_INT:
		return v->i != 0;
	case TW_LV_BOOL:
		return v->b;
	default:
		return false;
	}
}

void
tw_lambda_bufs_init(struct tw_lambda_bufs *b)
{
	tw_buf_init(&b->stack, LAMBDA_LINE_MAX);
	tw_buf_init(&b->trace_id, LAMBDA_LINE_MAX);
	tw_buf_init(&b->obj, LAMBDA_LINE_MAX);
}

void
tw_lambda_bufs_cleanup(struct tw_lambda_bufs *b)
{
	tw_buf_cleanup(&b->stack);
	tw_buf_cleanup(&b->trace_id);
	tw_buf_cleanup(&b->obj);
}

void
tw_lambda_rec_init(struct tw_lambda_rec *r, const char *format,
    int64_t time_ns)
{
	memset(r, 0, sizeof(*r));
	r->format = format;
	r->time_ns = time_ns;
}

/*
 * Copy the msgpack value at r through w leaving out map members whose
 * value is null, at every depth (the generators' prune()); r moves past it.
 */
static int
copy_pruned(struct tw_mpw *w, struct tw_mp_reader *r, int depth)
{
	const uint8_t *start = r->p, *key;
	struct tw_mp_reader peek;
	struct tw_mp_obj o, v;
	uint32_t kept = 0;
	size_t hdr;
	int rc;

	if (depth > 64)
		return TW_EDEPTH;
	if ((rc = tw_mp_read(r, &o)) != 0)
		return rc;
	if (o.type == TW_MP_ARRAY) {
		tw_mpw_array(w, o.v.count);
		for (uint32_t i = 0; i < o.v.count; i++)
			if ((rc = copy_pruned(w, r, depth + 1)) != 0)
				return rc;
		return 0;
	}
	if (o.type != TW_MP_MAP) {
		tw_mpw_raw(w, start, (size_t)(r->p - start));
		return 0;
	}
	hdr = tw_mpw_map32_placeholder(w);
	for (uint32_t i = 0; i < o.v.count; i++) {
		key = r->p;
		if ((rc = tw_mp_read(r, &v)) != 0)
			return rc;
		if (v.type == TW_MP_ARRAY || v.type == TW_MP_MAP)
			return TW_EMSGPACK; /* JSON keys are strings */
		peek = *r;
		if ((rc = tw_mp_read(&peek, &v)) != 0)
			return rc;
		if (v.type == TW_MP_NIL) {
			*r = peek;
			continue;
		}
		tw_mpw_raw(w, key, (size_t)(r->p - key));
		if ((rc = copy_pruned(w, r, depth + 1)) != 0)
			return rc;
		kept++;
	}
	tw_mpw_patch32(w, hdr, kept);
	return 0;
}

/* Write key and v unless v is absent or null: 1, else 0. */
static uint32_t
put(struct tw_mpw *w, const char *key, const struct tw_lambda_val *v)
{
	struct tw_mp_reader r;
	struct tw_mp_obj o;

	switch (v->kind) {
	case TW_LV_STR:
		tw_mpw_cstr(w, key);
		tw_mpw_str(w, v->p, v->n);
		return 1;
	case TW_LV_MP:
		tw_mp_reader_init(&r, v->p, v->n);
		if (tw_mp_read(&r, &o) != 0 || o.type == TW_MP_NIL)
			return 0;
		tw_mpw_cstr(w, key);
		tw_mp_reader_init(&r, v->p, v->n);
		if (copy_pruned(w, &r, 0) != 0 && w->err == 0)
			w->err = TW_EMSGPACK;
		return 1;
	case TW_LV_DOUBLE:
		tw_mpw_cstr(w, key);
		tw_mpw_double(w, v->d);
		return 1;
	case TW_LV_INT:
		tw_mpw_cstr(w, key);
		tw_mpw_int(w, v->i);
		return 1;
	case TW_LV_BOOL:
		tw_mpw_cstr(w, key);
		tw_mpw_bool(w, v->b);
		return 1;
	default:
		return 0;
	}
}

static const char *const faas_keys[TW_FAAS_MAX] = {
	"name", "version", "instance", "invocation_id", "coldstart", "event",
	"status", "error_type", "init_type", "runtime_version", "duration_ms",
	"billed_duration_ms", "init_duration_ms", "restore_duration_ms",
	"memory_mb", "max_memory_used_mb", "produced_bytes",
};

int
tw_lambda_rec_emit(const struct tw_lambda_rec *r,
    const struct tw_parse_opts *o, struct tw_mpw *w, tw_emit_fn emit,
    void *arg)
{
	uint32_t keys = 0, n;
	size_t hdr, sub;

	tw_buf_reset(w->buf);
	tw_mpw_init(w, w->buf);
	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "time");
	tw_mpw_timestamp(w, r->time_ns);
	keys++;
	if (o->observed_time) {
		tw_mpw_cstr(w, "observed_time");
		tw_mpw_timestamp(w, o->now_ns);
		keys++;
	}
	keys += put(w, "id", &r->id);

	tw_mpw_cstr(w, "source");
	sub = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "kind");
	tw_mpw_cstr(w, "faas");
	tw_mpw_cstr(w, "format");
	tw_mpw_cstr(w, r->format);
	n = 2; /* pushed events have no path */
	if (r->envelope != NULL) {
		tw_mpw_cstr(w, "envelope");
		tw_mpw_cstr(w, r->envelope);
		n++;
	}
	n += put(w, "log_group", &r->log_group);
	n += put(w, "log_stream", &r->log_stream);
	tw_mpw_patch32(w, sub, n);
	keys++;

	tw_mpw_cstr(w, "cloud");
	sub = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "provider");
	tw_mpw_cstr(w, "aws");
	n = 1;
	n += put(w, "account", &r->account);
	n += put(w, "region", &r->region);
	tw_mpw_patch32(w, sub, n);
	keys++;

	tw_mpw_cstr(w, "faas");
	sub = tw_mpw_map32_placeholder(w);
	n = 0;
	for (int i = 0; i < TW_FAAS_MAX; i++)
		n += put(w, faas_keys[i], &r->faas[i]);
	tw_mpw_patch32(w, sub, n);
	keys++;

	if (r->level != NULL) {
		tw_mpw_cstr(w, "level");
		tw_mpw_cstr(w, r->level);
		keys++;
	}
	keys += put(w, "message", &r->message);
	if (r->raw.kind == TW_LV_STR) {
		tw_mpw_cstr(w, "raw");
		tw_mpw_bin(w, r->raw.p, r->raw.n);
		keys++;
	}
	if (r->stream != NULL) {
		tw_mpw_cstr(w, "stream");
		tw_mpw_cstr(w, r->stream);
		keys++;
	}
	if (r->has_error) {
		tw_mpw_cstr(w, "error");
		sub = tw_mpw_map32_placeholder(w);
		n = put(w, "type", &r->err_type);
		n += put(w, "message", &r->err_message);
		n += put(w, "stack", &r->err_stack);
		tw_mpw_patch32(w, sub, n);
		keys++;
	}
	if (r->has_trace) {
		tw_mpw_cstr(w, "trace");
		sub = tw_mpw_map32_placeholder(w);
		n = put(w, "id", &r->trace_id);
		n += put(w, "span_id", &r->trace_span_id);
		n += put(w, "sampled", &r->trace_sampled);
		tw_mpw_patch32(w, sub, n);
		keys++;
	}
	if (r->fields.kind == TW_LV_MP) {
		if (r->fields_no_nil) {
			tw_mpw_cstr(w, "fields");
			tw_mpw_raw(w, r->fields.p, r->fields.n);
			keys++;
		} else
			keys += put(w, "fields", &r->fields);
	}
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	return emit(arg, (const uint8_t *)w->buf->data, w->buf->len);
}

/* --- stream state --- */

void
tw_lambda_stream_current(const struct tw_lambda_stream *st,
    struct tw_lambda_val *v)
{
	memset(v, 0, sizeof(*v));
	if (st->kind == TW_LV_ABSENT)
		return;
	v->kind = st->kind;
	v->p = st->current;
	v->n = st->len;
}

void
tw_lambda_stream_set(struct tw_lambda_stream *st,
    const struct tw_lambda_val *v)
{
	st->kind = TW_LV_ABSENT;
	st->len = 0;
	if ((v->kind != TW_LV_STR && v->kind != TW_LV_MP) || !vtruthy(v) ||
	    v->n > sizeof(st->current))
		return;
	memcpy(st->current, v->p, v->n);
	st->len = (uint32_t)v->n;
	st->kind = (uint8_t)v->kind;
}

/* --- msgpack look-ups --- */

/* One key to pick out of a map: the last occurrence wins, as in JSON. */
struct pick {
	const char *key;
	bool found;
	struct tw_mp_obj o;  /* the value's header */
	const char *p;	     /* the whole value */
	size_t n;
};

static void
pick_val(const struct pick *k, struct tw_lambda_val *v)
{
	if (!k->found)
		v->kind = TW_LV_ABSENT;
	else
		vmp(v, k->p, k->n, &k->o);
}

static bool
pick_truthy(const struct pick *k)
{
	return k->found && mp_truthy(&k->o);
}

static bool
pick_str_eq(const struct pick *k, const char *s)
{
	return k->found && tw_mp_str_eq(&k->o, s);
}

/* Fill keys[0..nk) from the map at p[0..n): none found if not a map. */
static void
pick(const char *p, size_t n, struct pick *keys, size_t nk)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r, peek;
	struct tw_mp_obj m, k, v;
	const uint8_t *start;

	for (size_t i = 0; i < nk; i++)
		keys[i].found = false;
	tw_mp_limits_default(&lim);
	lim.depth_max = 64;
	tw_mp_reader_init(&r, p, n);
	if (tw_mp_read(&r, &m) != 0 || m.type != TW_MP_MAP)
		return;
	for (uint32_t i = 0; i < m.v.count; i++) {
		if (tw_mp_read(&r, &k) != 0)
			break;
		start = r.p;
		peek = r;
		if (tw_mp_read(&peek, &v) != 0 || tw_mp_skip(&r, &lim) != 0)
			break;
		if (k.type != TW_MP_STR)
			continue;
		for (size_t j = 0; j < nk; j++) {
			if (strlen(keys[j].key) == k.v.s.len &&
			    memcmp(keys[j].key, k.v.s.p, k.v.s.len) == 0) {
				keys[j].found = true;
				keys[j].o = v;
				keys[j].p = (const char *)start;
				keys[j].n = (size_t)(r.p - start);
			}
		}
	}
}

/* --- text helpers --- */

/* The length of the white space character (Python's str.isspace) that
 * starts s[0..n), n > 0; 0 when s starts with something else. */
static size_t
space_len(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	uint8_t c;

	if (n == 0)
		return 0;
	c = p[0];
	if ((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20))
		return 1;
	if (c == 0xc2 && n >= 2 && (p[1] == 0x85 || p[1] == 0xa0))
		return 2;
	if (n < 3)
		return 0;
	if ((c == 0xe1 && p[1] == 0x9a && p[2] == 0x80) ||
	    (c == 0xe2 && p[1] == 0x80 &&
	    ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 ||
	    p[2] == 0xa9 || p[2] == 0xaf)) ||
	    (c == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) ||
	    (c == 0xe3 && p[1] == 0x80 && p[2] == 0x80))
		return 3;
	return 0;
}

/* The length of p[0..n) without trailing white space (str.rstrip()). */
static size_t
rstrip(const char *p, size_t n)
{
	for (;;) {
		size_t k;
		for (k = 1; k <= 3 && k <= n; k++)
			if (space_len(p + n - k, k) == k)
				break;
		if (k > 3 || k > n)
			return n;
		n -= k;
	}
}

/* The length of the UTF-8 character at p (1 for a stray byte). */
static size_t
char_len(const char *p, size_t n)
{
	size_t bad, l = tw_utf8_char(p, n, &bad);

	return l != 0 ? l : 1;
}

/* Normalise a level as the generators' norm_level; NULL when unknown. */
static const char *
level_of(const char *p, size_t n)
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
		{ "alert", "fatal" },
		{ "emergency", "fatal" }, { "emerg", "fatal" },
	};
	size_t k;

	while (n > 0 && (k = space_len(p, n)) != 0) {
		p += k;
		n -= k;
	}
	n = rstrip(p, n);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == n &&
		    strncasecmp(words[i].word, p, n) == 0)
			return words[i].level;
	return NULL;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes) at p. */
static bool
iso_ms_at(const char *p, size_t n)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (n < 24)
		return false;
	for (int i = 0; i < 24; i++)
		if (pat[i] == 'd' ? !is_digit(p[i]) : p[i] != pat[i])
			return false;
	return true;
}

/* 36 characters of [0-9a-f-] at p. */
static bool
rid_at(const char *p, size_t n)
{
	if (n < 36)
		return false;
	for (int i = 0; i < 36; i++)
		if (!is_digit(p[i]) && !(p[i] >= 'a' && p[i] <= 'f') &&
		    p[i] != '-')
			return false;
	return true;
}

/* Whether p[0..n) starts with the word w followed by c. */
static bool
word_at(const char *p, size_t n, const char *w, char c)
{
	size_t l = strlen(w);

	return n > l && memcmp(p, w, l) == 0 && p[l] == c;
}

bool
tw_lambda_node_match(const char *p, size_t n,
    struct tw_lambda_node_line *out)
{
	static const char *const levels[] = { "TRACE", "DEBUG", "INFO",
		"WARN", "ERROR", "FATAL" };
	size_t i;

	if (!iso_ms_at(p, n) || n < 25 || p[24] != '\t')
		return false;
	i = 25;
	if (rid_at(p + i, n - i) && n - i > 36 && p[i + 36] == '\t') {
		out->rid = p + i;
		out->rid_len = 36;
		i += 37;
	} else if (word_at(p + i, n - i, "undefined", '\t')) {
		out->rid = NULL;
		out->rid_len = 0;
		i += 10;
	} else
		return false;
	for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++) {
		if (word_at(p + i, n - i, levels[k], '\t')) {
			out->level = level_of(levels[k],
			    strlen(levels[k]));
			i += strlen(levels[k]) + 1;
			out->text = p + i;
			out->text_len = n - i;
			return true;
		}
	}
	return false;
}

/* The Python runtime's "[LEVEL]\tts\treqid\tmessage" (PY_RE). */
static bool
python_match(const char *p, size_t n, struct tw_lambda_node_line *out)
{
	static const char *const levels[] = { "[DEBUG]", "[INFO]",
		"[WARNING]", "[ERROR]", "[CRITICAL]" };
	size_t i = 0;

	for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++) {
		if (word_at(p, n, levels[k], '\t')) {
			out->level = level_of(levels[k] + 1,
			    strlen(levels[k]) - 2);
			i = strlen(levels[k]) + 1;
			break;
		}
	}
	if (i == 0 || !iso_ms_at(p + i, n - i) || n - i < 25 ||
	    p[i + 24] != '\t')
		return false;
	i += 25;
	if (rid_at(p + i, n - i) && n - i > 36 && p[i + 36] == '\t') {
		out->rid = p + i;
		out->rid_len = 36;
		i += 37;
	} else if (word_at(p + i, n - i, "None", '\t')) {
		out->rid = NULL;
		out->rid_len = 0;
		i += 5;
	} else
		return false;
	out->text = p + i;
	out->text_len = n - i;
	return true;
}

/* "<non-space> <reqid> Task timed out after <[\d.]+> seconds" (TIMEOUT_RE). */
static bool
timeout_match(const char *p, size_t n, const char **rid)
{
	static const char after[] = " Task timed out after ";
	static const char secs[] = " seconds";
	size_t i = 0, j;

	while (i < n && space_len(p + i, n - i) == 0)
		i += char_len(p + i, n - i);
	if (i == 0 || i >= n || p[i] != ' ' || !rid_at(p + i + 1, n - i - 1))
		return false;
	*rid = p + i + 1;
	i += 37;
	if (n - i < sizeof(after) - 1 ||
	    memcmp(p + i, after, sizeof(after) - 1) != 0)
		return false;
	i += sizeof(after) - 1;
	for (j = i; j < n && (is_digit(p[j]) || p[j] == '.'); j++)
		;
	if (j == i || n - j < sizeof(secs) - 1 ||
	    memcmp(p + j, secs, sizeof(secs) - 1) != 0)
		return false;
	j += sizeof(secs) - 1;
	/* "$": the end, or a last newline before it */
	return j == n || (j + 1 == n && p[j] == '\n');
}

/* "[ERROR] Type: message..." of an unhandled Python exception. */
static bool
unhandled_match(const char *p, size_t n, struct tw_lambda_val *type,
    struct tw_lambda_val *msg)
{
	static const char pre[] = "[ERROR] ";
	size_t i = sizeof(pre) - 1, j;
	const char *nl;

	if (n <= i || memcmp(p, pre, i) != 0)
		return false;
	if (!(p[i] == '_' || (p[i] >= 'A' && p[i] <= 'Z') ||
	    (p[i] >= 'a' && p[i] <= 'z')))
		return false;
	for (j = i + 1; j < n && (p[j] == '_' || p[j] == '.' ||
	    is_digit(p[j]) || (p[j] >= 'A' && p[j] <= 'Z') ||
	    (p[j] >= 'a' && p[j] <= 'z')); j++)
		;
	if (n - j < 2 || p[j] != ':' || p[j + 1] != ' ')
		return false;
	vstr(type, p + i, j - i);
	j += 2;
	nl = memchr(p + j, '\n', n - j);
	vstr(msg, p + j, nl != NULL ? (size_t)(nl - (p + j)) : n - j);
	return true;
}

/* The first "RequestId: <36 of [0-9a-f-]>" in p[0..n) (re.search). */
static void
find_request_id(const char *p, size_t n, struct tw_lambda_val *rid)
{
	static const char key[] = "RequestId: ";
	const char *q = p, *end = p + n;

	while ((q = memmem(q, (size_t)(end - q), key, sizeof(key) - 1)) !=
	    NULL) {
		q += sizeof(key) - 1;
		if (rid_at(q, (size_t)(end - q))) {
			vstr(rid, q, 36);
			return;
		}
		q -= sizeof(key) - 2;
	}
}

/* The first "Runtime Version: (\S+)" in p[0..n). */
static void
find_runtime_version(const char *p, size_t n, struct tw_lambda_val *v)
{
	static const char key[] = "Runtime Version: ";
	const char *q = p, *end = p + n;
	size_t i;

	while ((q = memmem(q, (size_t)(end - q), key, sizeof(key) - 1)) !=
	    NULL) {
		q += sizeof(key) - 1;
		for (i = 0; q + i < end &&
		    space_len(q + i, (size_t)(end - q) - i) == 0;)
			i += char_len(q + i, (size_t)(end - q) - i);
		if (i > 0) {
			vstr(v, q, i);
			return;
		}
		q -= sizeof(key) - 2;
	}
}

/* Python float() of a token, finite values only. */
static bool
parse_float(const char *p, size_t n, double *d)
{
	char buf[64], *end;

	while (n > 0 && space_len(p, n) == 1) {
		p++;
		n--;
	}
	while (n > 0 && space_len(p + n - 1, 1) == 1)
		n--;
	if (n == 0 || n >= sizeof(buf))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(p[i]) && p[i] != '.' && p[i] != 'e' &&
		    p[i] != 'E' && p[i] != '+' && p[i] != '-')
			return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	*d = strtod(buf, &end);
	return end == buf + n && isfinite(*d);
}

/* Python int() of a token (ASCII digits, optional sign). */
static bool
parse_int(const char *p, size_t n, int64_t *v)
{
	uint64_t u = 0;
	bool neg = false;
	size_t i = 0;

	while (n > 0 && space_len(p, n) == 1) {
		p++;
		n--;
	}
	while (n > 0 && space_len(p + n - 1, 1) == 1)
		n--;
	if (n > 0 && (p[0] == '+' || p[0] == '-')) {
		neg = p[0] == '-';
		i++;
	}
	if (i == n)
		return false;
	for (; i < n; i++) {
		if (!is_digit(p[i]) || u > (uint64_t)INT64_MAX / 10)
			return false;
		u = u * 10 + (uint64_t)(p[i] - '0');
	}
	if (u > (uint64_t)INT64_MAX)
		return false;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return true;
}

/* xray_to_w3c: "1-5759e988-bd86..." to "5759e988bd86...". */
static void
xray_to_w3c(struct tw_lambda_bufs *b, const char *p, size_t n,
    struct tw_lambda_val *out)
{
	const char *d1, *d2;

	vstr(out, p, n);
	if ((d1 = memchr(p, '-', n)) == NULL ||
	    (d2 = memchr(d1 + 1, '-', (size_t)(p + n - d1 - 1))) == NULL ||
	    memchr(d2 + 1, '-', (size_t)(p + n - d2 - 1)) != NULL ||
	    d1 - p != 1 || p[0] != '1')
		return;
	tw_buf_reset(&b->trace_id);
	if (tw_buf_add(&b->trace_id, d1 + 1, (size_t)(d2 - d1 - 1)) != 0 ||
	    tw_buf_add(&b->trace_id, d2 + 1, (size_t)(p + n - d2 - 1)) != 0)
		return;
	vstr(out, b->trace_id.data, b->trace_id.len);
}

/* The fields of a text REPORT line after "REPORT ". */
static void
parse_report(struct tw_lambda_rec *r, struct tw_lambda_bufs *b,
    const char *p, size_t n)
{
	static const struct {
		const char *key;
		enum tw_lambda_faas f;
		char conv; /* f(loat), i(nt), s(tring) */
	} keys[] = {
		{ "Duration", TW_FAAS_DURATION_MS, 'f' },
		{ "Billed Duration", TW_FAAS_BILLED_DURATION_MS, 'i' },
		{ "Memory Size", TW_FAAS_MEMORY_MB, 'i' },
		{ "Max Memory Used", TW_FAAS_MAX_MEMORY_USED_MB, 'i' },
		{ "Init Duration", TW_FAAS_INIT_DURATION_MS, 'f' },
		{ "Restore Duration", TW_FAAS_RESTORE_DURATION_MS, 'f' },
		{ "Status", TW_FAAS_STATUS, 's' },
		{ "Error Type", TW_FAAS_ERROR_TYPE, 's' },
	};
	const char *end = p + n, *part, *tab, *sep, *v, *sp;
	size_t plen, klen, vlen, tlen;
	struct tw_lambda_val *f;

	for (part = p, tab = NULL; tab != end; part = tab + 1) {
		tab = memchr(part, '\t', (size_t)(end - part));
		if (tab == NULL)
			tab = end;
		plen = (size_t)(tab - part);
		if ((sep = memmem(part, plen, ": ", 2)) == NULL)
			continue;
		klen = (size_t)(sep - part);
		v = sep + 2;
		vlen = (size_t)(tab - v);
		if (klen == 12 && memcmp(part, "XRAY TraceId", 12) == 0) {
			r->has_trace = true;
			xray_to_w3c(b, v, vlen, &r->trace_id);
			continue;
		}
		if (klen == 9 && memcmp(part, "SegmentId", 9) == 0) {
			r->has_trace = true;
			vstr(&r->trace_span_id, v, vlen);
			continue;
		}
		if (klen == 7 && memcmp(part, "Sampled", 7) == 0) {
			r->has_trace = true;
			r->trace_sampled.kind = TW_LV_BOOL;
			r->trace_sampled.b = vlen == 4 &&
			    memcmp(v, "true", 4) == 0;
			continue;
		}
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (strlen(keys[k].key) != klen ||
			    memcmp(keys[k].key, part, klen) != 0)
				continue;
			f = &r->faas[keys[k].f];
			sp = memchr(v, ' ', vlen);
			tlen = sp != NULL ? (size_t)(sp - v) : vlen;
			if (keys[k].conv == 's')
				vstr(f, v, vlen);
			else if (keys[k].conv == 'i' &&
			    parse_int(v, tlen, &f->i))
				f->kind = TW_LV_INT;
			else if (parse_float(v, tlen, &f->d))
				f->kind = TW_LV_DOUBLE;
			break;
		}
	}
}

/* "\n".join(x.rstrip("\n") for x in the array at p[0..n)) into b->stack. */
static bool
join_stack(struct tw_lambda_bufs *b, const char *p, size_t n,
    struct tw_lambda_val *out)
{
	struct tw_mp_reader r;
	struct tw_mp_obj a, s;
	bool first = true;
	size_t l;

	tw_buf_reset(&b->stack);
	tw_mp_reader_init(&r, p, n);
	if (tw_mp_read(&r, &a) != 0 || a.type != TW_MP_ARRAY)
		return false;
	for (uint32_t i = 0; i < a.v.count; i++) {
		struct tw_mp_limits lim;
		struct tw_mp_reader peek = r;
		tw_mp_limits_default(&lim);
		lim.depth_max = 64;
		if (tw_mp_read(&peek, &s) != 0)
			return false;
		if (s.type != TW_MP_STR) {
			if (tw_mp_skip(&r, &lim) != 0)
				return false;
			continue;
		}
		r = peek;
		for (l = s.v.s.len; l > 0 && s.v.s.p[l - 1] == '\n'; l--)
			;
		if ((!first && tw_buf_addc(&b->stack, '\n') != 0) ||
		    tw_buf_add(&b->stack, s.v.s.p, l) != 0)
			return false;
		first = false;
	}
	vstr(out, b->stack.data != NULL ? b->stack.data : "", b->stack.len);
	return true;
}

/* Convert JSON text into b->obj as a map of bounded depth. */
static bool
json_object(struct tw_lambda_bufs *b, const char *p, size_t n)
{
	struct tw_json_opts jo;
	struct tw_mpw w;
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	if (i == n || p[i] != '{')
		return false;
	tw_buf_reset(&b->obj);
	tw_mpw_init(&w, &b->obj);
	tw_json_opts_default(&jo);
	jo.depth_max = FIELDS_DEPTH_MAX;
	return tw_json_to_mp(p, n, &w, &jo, NULL) == 0;
}

/* fields = the object in b->obj. */
static void
set_fields(struct tw_lambda_rec *r, const char *p, size_t n)
{
	r->fields.kind = TW_LV_MP;
	r->fields.p = p;
	r->fields.n = n;
	/* 0xc0 is nil; a miss proves there is none (a hit may be data) */
	r->fields_no_nil = memchr(p, 0xc0, n) == NULL;
}

/* Node's "Invoke Error \t{json}": fields and error from the object. */
static void
invoke_error(struct tw_lambda_rec *r, struct tw_lambda_bufs *b,
    const char *p, size_t n)
{
	struct pick k[] = { { "errorType" }, { "errorMessage" }, { "stack" } };

	if (!json_object(b, p, n))
		return;
	set_fields(r, b->obj.data, b->obj.len);
	pick(b->obj.data, b->obj.len, k, 3);
	r->has_error = true;
	pick_val(&k[0], &r->err_type);
	pick_val(&k[1], &r->err_message);
	if (k[2].found && k[2].o.type == TW_MP_ARRAY &&
	    join_stack(b, k[2].p, k[2].n, &r->err_stack) &&
	    r->err_stack.n == 0)
		r->err_stack.kind = TW_LV_ABSENT; /* "... or None" */
}

/* --- JSON events (apply_platform, apply_json_app) --- */

static const struct {
	const char *type;
	const char *event;
} platform_events[] = {
	{ "platform.initStart", "init_start" },
	{ "platform.initRuntimeDone", "init_runtime_done" },
	{ "platform.initReport", "init_report" },
	{ "platform.start", "start" },
	{ "platform.runtimeDone", "runtime_done" },
	{ "platform.report", "report" },
	{ "platform.restoreStart", "restore_start" },
	{ "platform.restoreRuntimeDone", "restore_runtime_done" },
	{ "platform.restoreReport", "restore_report" },
	{ "platform.extension", "extension" },
	{ "platform.telemetrySubscription", "telemetry_subscription" },
	{ "platform.logsDropped", "logs_dropped" },
};

static const struct {
	const char *key;
	enum tw_lambda_faas f;
} metrics_keys[] = {
	{ "durationMs", TW_FAAS_DURATION_MS },
	{ "billedDurationMs", TW_FAAS_BILLED_DURATION_MS },
	{ "memorySizeMB", TW_FAAS_MEMORY_MB },
	{ "maxMemoryUsedMB", TW_FAAS_MAX_MEMORY_USED_MB },
	{ "initDurationMs", TW_FAAS_INIT_DURATION_MS },
	{ "restoreDurationMs", TW_FAAS_RESTORE_DURATION_MS },
	{ "producedBytes", TW_FAAS_PRODUCED_BYTES },
};

/* parse_amzn_trace: "Root=...;Parent=...;Sampled=1". */
static void
amzn_trace(struct tw_lambda_rec *r, struct tw_lambda_bufs *b,
    const char *p, size_t n)
{
	const char *end = p + n, *part, *semi, *eq;
	const char *root = NULL, *parent = NULL, *sampled = NULL;
	size_t root_len = 0, parent_len = 0, sampled_len = 0;

	for (part = p, semi = NULL; semi != end; part = semi + 1) {
		if ((semi = memchr(part, ';', (size_t)(end - part))) == NULL)
			semi = end;
		if ((eq = memchr(part, '=', (size_t)(semi - part))) == NULL)
			continue;
		if (eq - part == 4 && memcmp(part, "Root", 4) == 0) {
			root = eq + 1;
			root_len = (size_t)(semi - root);
		} else if (eq - part == 6 && memcmp(part, "Parent", 6) == 0) {
			parent = eq + 1;
			parent_len = (size_t)(semi - parent);
		} else if (eq - part == 7 && memcmp(part, "Sampled", 7) == 0) {
			sampled = eq + 1;
			sampled_len = (size_t)(semi - sampled);
		}
	}
	r->has_trace = true;
	if (root != NULL)
		xray_to_w3c(b, root, root_len, &r->trace_id);
	if (parent != NULL)
		vstr(&r->trace_span_id, parent, parent_len);
	if (sampled != NULL) {
		r->trace_sampled.kind = TW_LV_BOOL;
		r->trace_sampled.b = sampled_len == 1 && sampled[0] == '1';
	}
}

/* The metrics map of a report, runtimeDone or initReport record. */
static void
platform_metrics(struct tw_lambda_rec *r, const struct pick *metrics,
    bool init_report)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader rd, peek;
	struct tw_mp_obj m, k, v;
	const uint8_t *start;
	struct tw_lambda_val dur = { 0 };

	if (!metrics->found || metrics->o.type != TW_MP_MAP)
		return;
	tw_mp_limits_default(&lim);
	lim.depth_max = 64;
	tw_mp_reader_init(&rd, metrics->p, metrics->n);
	if (tw_mp_read(&rd, &m) != 0)
		return;
	for (uint32_t i = 0; i < m.v.count; i++) {
		if (tw_mp_read(&rd, &k) != 0)
			return;
		start = rd.p;
		peek = rd;
		if (tw_mp_read(&peek, &v) != 0 || tw_mp_skip(&rd, &lim) != 0)
			return;
		if (k.type != TW_MP_STR)
			continue;
		for (size_t j = 0; j < sizeof(metrics_keys) /
		    sizeof(metrics_keys[0]); j++) {
			if (!tw_mp_str_eq(&k, metrics_keys[j].key))
				continue;
			if (init_report &&
			    metrics_keys[j].f == TW_FAAS_DURATION_MS)
				vmp(&dur, (const char *)start,
				    (size_t)(rd.p - start), &v);
			else
				vmp(&r->faas[metrics_keys[j].f],
				    (const char *)start,
				    (size_t)(rd.p - start), &v);
		}
	}
	if (init_report && dur.kind != TW_LV_ABSENT)
		r->faas[TW_FAAS_INIT_DURATION_MS] = dur;
}

void
tw_lambda_platform(struct tw_lambda_rec *r, struct tw_lambda_stream *st,
    struct tw_lambda_bufs *b, const char *ev, size_t n,
    struct tw_lambda_val *rid)
{
	struct pick ek[] = { { "type" }, { "record" } };
	struct pick rk[] = { { "requestId" }, { "runtimeVersion" },
		{ "initializationType" }, { "metrics" }, { "status" },
		{ "errorType" }, { "tracing" } };
	struct pick tk[] = { { "value" }, { "spanId" } };
	bool is_map = false;
	const struct tw_mp_obj *typ = &ek[0].o;

	memset(rid, 0, sizeof(*rid));
	pick(ev, n, ek, 2);
	set_fields(r, ev, n);
	if (ek[0].found && typ->type == TW_MP_STR) {
		vstr(&r->faas[TW_FAAS_EVENT], typ->v.s.p, typ->v.s.len);
		for (size_t i = 0; i < sizeof(platform_events) /
		    sizeof(platform_events[0]); i++)
			if (tw_mp_str_eq(typ, platform_events[i].type))
				vcstr(&r->faas[TW_FAAS_EVENT],
				    platform_events[i].event);
		vstr(&r->message, typ->v.s.p, typ->v.s.len);
	}
	/* record = o.get("record") or {}: a falsy record has no keys */
	if (ek[1].found && ek[1].o.type == TW_MP_MAP) {
		is_map = true;
		pick(ek[1].p, ek[1].n, rk, sizeof(rk) / sizeof(rk[0]));
	} else
		is_map = !pick_truthy(&ek[1]);
	if (pick_truthy(&rk[0]))
		pick_val(&rk[0], rid);
	if (tw_mp_str_eq(typ, "platform.initStart") && ek[0].found && is_map) {
		pick_val(&rk[1], &r->faas[TW_FAAS_RUNTIME_VERSION]);
		if (r->faas[TW_FAAS_RUNTIME_VERSION].kind == TW_LV_ABSENT)
			r->faas[TW_FAAS_RUNTIME_VERSION].kind = TW_LV_NIL;
		if (pick_truthy(&rk[2]))
			pick_val(&rk[2], &r->faas[TW_FAAS_INIT_TYPE]);
	}
	if (ek[0].found && tw_mp_str_eq(typ, "platform.start"))
		tw_lambda_stream_set(st, rid);
	if (is_map && ek[0].found) {
		if (tw_mp_str_eq(typ, "platform.report") ||
		    tw_mp_str_eq(typ, "platform.runtimeDone"))
			platform_metrics(r, &rk[3], false);
		else if (tw_mp_str_eq(typ, "platform.initReport"))
			platform_metrics(r, &rk[3], true);
	}
	if (pick_truthy(&rk[4])) {
		pick_val(&rk[4], &r->faas[TW_FAAS_STATUS]);
		if (!pick_str_eq(&rk[4], "success"))
			r->level = "error";
	}
	if (pick_truthy(&rk[5]))
		pick_val(&rk[5], &r->faas[TW_FAAS_ERROR_TYPE]);
	if (rk[6].found && rk[6].o.type == TW_MP_MAP) {
		pick(rk[6].p, rk[6].n, tk, 2);
		if (pick_truthy(&tk[0]) && tk[0].o.type == TW_MP_STR) {
			amzn_trace(r, b, tk[0].o.v.s.p, tk[0].o.v.s.len);
			if (pick_truthy(&tk[1]))
				pick_val(&tk[1], &r->trace_span_id);
		}
	}
	if (ek[0].found && tw_mp_str_eq(typ, "platform.logsDropped"))
		r->level = "warn";
}

void
tw_lambda_json_app(struct tw_lambda_rec *r, struct tw_lambda_bufs *b,
    const char *obj, size_t n, struct tw_lambda_val *rid)
{
	struct pick k[] = { { "message" }, { "level" }, { "errorType" },
		{ "errorMessage" }, { "stackTrace" }, { "requestId" } };

	memset(rid, 0, sizeof(*rid));
	pick(obj, n, k, sizeof(k) / sizeof(k[0]));
	set_fields(r, obj, n);
	if (k[0].found && k[0].o.type == TW_MP_STR)
		vstr(&r->message, k[0].o.v.s.p, k[0].o.v.s.len);
	if (k[1].found && k[1].o.type == TW_MP_STR)
		r->level = level_of(k[1].o.v.s.p, k[1].o.v.s.len);
	if (pick_truthy(&k[2]) || pick_truthy(&k[3])) {
		r->has_error = true;
		pick_val(&k[2], &r->err_type);
		pick_val(&k[3], &r->err_message);
		if (k[4].found && k[4].o.type == TW_MP_ARRAY)
			(void)join_stack(b, k[4].p, k[4].n, &r->err_stack);
	}
	if (pick_truthy(&k[5]))
		pick_val(&k[5], rid);
}

/* --- CloudWatch Logs events --- */

struct stream_entry {
	uint64_t hash;
	size_t klen;
	struct tw_lambda_stream st;
	char key[]; /* group length (8 bytes), group, stream */
};

struct tw_lambda {
	struct stream_entry **slots; /* STREAM_SLOTS, open addressing */
	size_t used;
	struct tw_buf key;
	struct tw_lambda_stream spare; /* when memory ran out */
	struct tw_lambda_bufs bufs;
};

struct tw_lambda *
tw_lambda_new(void)
{
	struct tw_lambda *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	tw_buf_init(&l->key, LAMBDA_LINE_MAX);
	tw_lambda_bufs_init(&l->bufs);
	return l;
}

static void
streams_clear(struct tw_lambda *l)
{
	if (l->slots == NULL || l->used == 0)
		return;
	for (size_t i = 0; i < STREAM_SLOTS; i++) {
		free(l->slots[i]);
		l->slots[i] = NULL;
	}
	l->used = 0;
}

void
tw_lambda_free(struct tw_lambda *l)
{
	if (l == NULL)
		return;
	streams_clear(l);
	free(l->slots);
	tw_buf_cleanup(&l->key);
	tw_lambda_bufs_cleanup(&l->bufs);
	free(l);
}

/* The state of the event's (logGroup, logStream), created when new. */
static struct tw_lambda_stream *
stream_get(struct tw_lambda *l, const struct tw_lambda_cwl_event *e)
{
	uint64_t h = 14695981039346656037ULL, glen = e->group_len;
	struct stream_entry *s;
	size_t i;

	tw_buf_reset(&l->key);
	if (tw_buf_add(&l->key, &glen, sizeof(glen)) != 0 ||
	    (e->group_len > 0 &&
	    tw_buf_add(&l->key, e->group, e->group_len) != 0) ||
	    (e->stream_len > 0 &&
	    tw_buf_add(&l->key, e->stream, e->stream_len) != 0))
		goto spare;
	for (i = 0; i < l->key.len; i++)
		h = (h ^ (uint8_t)l->key.data[i]) * 1099511628211ULL;
	if (l->slots == NULL &&
	    (l->slots = calloc(STREAM_SLOTS, sizeof(*l->slots))) == NULL)
		goto spare;
	for (i = h % STREAM_SLOTS; (s = l->slots[i]) != NULL;
	    i = (i + 1) % STREAM_SLOTS)
		if (s->hash == h && s->klen == l->key.len &&
		    memcmp(s->key, l->key.data, s->klen) == 0)
			return &s->st;
	if (l->used >= STREAMS_MAX) {
		streams_clear(l);
		i = h % STREAM_SLOTS;
	}
	if ((s = calloc(1, sizeof(*s) + l->key.len)) == NULL)
		goto spare;
	memcpy(s->key, l->key.data, l->key.len);
	s->klen = l->key.len;
	s->hash = h;
	l->slots[i] = s;
	l->used++;
	return &s->st;
spare:
	memset(&l->spare, 0, sizeof(l->spare));
	return &l->spare;
}

/* version_of: the "[...]" of "YYYY/MM/DD/[$LATEST]abc". */
static void
stream_version(const char *p, size_t n, struct tw_lambda_val *v)
{
	static const char pat[] = "dddd/dd/dd/";
	const char *lb, *rb;

	if (n < 11)
		return;
	for (int i = 0; i < 11; i++)
		if (pat[i] == 'd' ? !is_digit(p[i]) : p[i] != pat[i])
			return;
	if ((lb = memchr(p + 11, '[', n - 11)) == NULL ||
	    (rb = memchr(lb + 1, ']', (size_t)(p + n - lb - 1))) == NULL ||
	    rb == lb + 1)
		return;
	vstr(v, lb + 1, (size_t)(rb - lb - 1));
}

/* The parts of a record every CloudWatch event has. */
static void
rec_from_cwl(struct tw_lambda_rec *r, const struct tw_parse_opts *o,
    const char *format, const char *envelope,
    const struct tw_lambda_cwl_event *e, bool name_needs_prefix)
{
	const char *slash;

	tw_lambda_rec_init(r, format, e->has_time ? e->time_ns : o->now_ns);
	r->envelope = envelope;
	if (e->group != NULL) {
		vstr(&r->log_group, e->group, e->group_len);
		if (!name_needs_prefix ||
		    (e->group_len >= sizeof(lambda_prefix) - 1 &&
		    memcmp(e->group, lambda_prefix,
		    sizeof(lambda_prefix) - 1) == 0)) {
			slash = e->group_len > 0 ? memrchr(e->group, '/',
			    e->group_len) : NULL;
			if (slash == NULL)
				vstr(&r->faas[TW_FAAS_NAME], e->group,
				    e->group_len);
			else
				vstr(&r->faas[TW_FAAS_NAME], slash + 1,
				    (size_t)(e->group + e->group_len -
				    slash - 1));
		}
	}
	if (e->stream != NULL) {
		vstr(&r->log_stream, e->stream, e->stream_len);
		stream_version(e->stream, e->stream_len,
		    &r->faas[TW_FAAS_VERSION]);
		vstr(&r->faas[TW_FAAS_INSTANCE], e->stream, e->stream_len);
	}
	if (e->id != NULL)
		vstr(&r->id, e->id, e->id_len);
	if (e->owner != NULL)
		vstr(&r->account, e->owner, e->owner_len);
	if (e->raw != NULL)
		vstr(&r->raw, e->raw, e->raw_len);
}

int
tw_lambda_finish(struct tw_lambda_rec *r, const struct tw_lambda_val *rid,
    const struct tw_parse_opts *o, struct tw_mpw *w, tw_emit_fn emit,
    void *arg)
{
	if (vtruthy(rid))
		r->faas[TW_FAAS_INVOCATION_ID] = *rid;
	if (vstr_eq(&r->faas[TW_FAAS_EVENT], "report")) {
		r->faas[TW_FAAS_COLDSTART].kind = TW_LV_BOOL;
		r->faas[TW_FAAS_COLDSTART].b =
		    r->faas[TW_FAAS_INIT_DURATION_MS].kind != TW_LV_ABSENT;
	}
	return tw_lambda_rec_emit(r, o, w, emit, arg);
}

static const struct {
	const char *word;
	const char *event;
} text_platform[] = {
	{ "INIT_START", "init_start" }, { "START", "start" },
	{ "END", "end" }, { "REPORT", "report" },
	{ "INIT_REPORT", "init_report" },
	{ "RESTORE_START", "restore_start" },
	{ "RESTORE_REPORT", "restore_report" },
};

int
tw_lambda_text_event(struct tw_lambda *l, const struct tw_parse_opts *o,
    const char *envelope, const struct tw_lambda_cwl_event *e,
    struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct tw_lambda_stream *st = stream_get(l, e);
	struct tw_lambda_node_line nl;
	struct tw_lambda_val rid = { 0 };
	struct tw_lambda_rec r;
	const char *body = e->message, *trid;
	size_t n = e->message_len, kind;
	bool report = false;
	int rc;

	rec_from_cwl(&r, o, "lambda_text", envelope, e, true);
	if (n > 0 && body[n - 1] == '\n')
		n--;
	for (kind = 0; kind < sizeof(text_platform) / sizeof(text_platform[0]);
	    kind++)
		if (word_at(body, n, text_platform[kind].word, ' '))
			break;
	if (kind < sizeof(text_platform) / sizeof(text_platform[0])) {
		n = rstrip(body, n);
		vcstr(&r.faas[TW_FAAS_EVENT], text_platform[kind].event);
		if (strcmp(text_platform[kind].word, "INIT_START") == 0)
			find_runtime_version(body, n,
			    &r.faas[TW_FAAS_RUNTIME_VERSION]);
		find_request_id(body, n, &rid);
		if (strcmp(text_platform[kind].word, "START") == 0)
			tw_lambda_stream_set(st, &rid);
		if (strcmp(text_platform[kind].word, "REPORT") == 0) {
			report = true;
			if (n > 7)
				parse_report(&r, &l->bufs, body + 7, n - 7);
			if (vstr_eq(&r.faas[TW_FAAS_STATUS], "timeout") ||
			    vstr_eq(&r.faas[TW_FAAS_STATUS], "error") ||
			    vstr_eq(&r.faas[TW_FAAS_STATUS], "failure"))
				r.level = "error";
		}
		vstr(&r.message, body, n);
	} else if (tw_lambda_node_match(body, n, &nl)) {
		if (nl.rid != NULL)
			vstr(&rid, nl.rid, nl.rid_len);
		r.level = nl.level;
		vstr(&r.message, nl.text, nl.text_len);
		if (word_at(nl.text, nl.text_len, "Invoke Error ", '\t'))
			invoke_error(&r, &l->bufs, nl.text + 14,
			    nl.text_len - 14);
	} else if (python_match(body, n, &nl)) {
		r.level = nl.level;
		if (nl.rid != NULL)
			vstr(&rid, nl.rid, nl.rid_len);
		vstr(&r.message, nl.text, nl.text_len);
	} else if (timeout_match(body, n, &trid)) {
		vstr(&rid, trid, 36);
		r.level = "error";
		vcstr(&r.faas[TW_FAAS_EVENT], "timeout");
		vstr(&r.message, body, n);
	} else if (unhandled_match(body, n, &r.err_type, &r.err_message)) {
		r.has_error = true;
		r.level = "error";
		vstr(&r.message, body, n);
		tw_lambda_stream_current(st, &rid);
	} else {
		vstr(&r.message, body, n);
		tw_lambda_stream_current(st, &rid);
	}
	rc = tw_lambda_finish(&r, &rid, o, w, emit, arg);
	if (report)
		st->kind = TW_LV_ABSENT;
	return rc;
}

int
tw_lambda_json_event(struct tw_lambda *l, const struct tw_parse_opts *o,
    const char *envelope, const struct tw_lambda_cwl_event *e,
    struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct tw_lambda_stream *st = stream_get(l, e);
	struct pick k[] = { { "type" }, { "record" }, { "time" } };
	struct tw_lambda_val rid = { 0 };
	struct tw_lambda_rec r;
	size_t n = e->message_len;
	bool report = false;
	int rc;

	rec_from_cwl(&r, o, "lambda_json", envelope, e, false);
	if (json_object(&l->bufs, e->message, e->message_len)) {
		pick(l->bufs.obj.data, l->bufs.obj.len, k, 3);
		if (k[0].found && k[1].found && k[2].found)
			tw_lambda_platform(&r, st, &l->bufs, l->bufs.obj.data,
			    l->bufs.obj.len, &rid);
		else
			tw_lambda_json_app(&r, &l->bufs, l->bufs.obj.data,
			    l->bufs.obj.len, &rid);
		report = pick_str_eq(&k[0], "platform.report");
	} else {
		if (n > 0 && e->message[n - 1] == '\n')
			n--;
		vstr(&r.message, e->message, n);
		tw_lambda_stream_current(st, &rid);
	}
	rc = tw_lambda_finish(&r, &rid, o, w, emit, arg);
	if (report)
		st->kind = TW_LV_ABSENT;
	return rc;
}

bool
tw_lambda_ms_time(const struct tw_mp_obj *v, int64_t *ns)
{
	const int64_t lim = INT64_MAX / 1000000;
	int64_t ms;

	switch (v->type) {
	case TW_MP_UINT:
		if (v->v.u > (uint64_t)lim)
			return false;
		ms = (int64_t)v->v.u;
		break;
	case TW_MP_INT:
		if (v->v.i < -lim)
			return false;
		ms = v->v.i;
		break;
	case TW_MP_FLOAT:
		if (!(v->v.f > -(double)lim && v->v.f < (double)lim))
			return false;
		ms = (int64_t)v->v.f;
		break;
	case TW_MP_STR:
		if (!parse_int(v->v.s.p, v->v.s.len, &ms) || ms > lim ||
		    ms < -lim)
			return false;
		break;
	default:
		return false;
	}
	*ns = ms * 1000000;
	return true;
}

/* --- the line formats --- */

struct lambda_state {
	struct tw_lambda *l;
	struct tw_buf line;  /* the event line as msgpack */
	struct tw_buf clean; /* the line made valid UTF-8 */
};

static int
lambda_new(const struct tw_parse_opts *o, void **state)
{
	struct lambda_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	if ((s->l = tw_lambda_new()) == NULL) {
		free(s);
		return TW_ENOMEM;
	}
	tw_buf_init(&s->line, LAMBDA_LINE_MAX);
	tw_buf_init(&s->clean, LAMBDA_LINE_MAX);
	*state = s;
	return 0;
}

static void
lambda_free(void *state)
{
	struct lambda_state *s = state;

	tw_lambda_free(s->l);
	tw_buf_cleanup(&s->line);
	tw_buf_cleanup(&s->clean);
	free(s);
}

/*
 * A line is one CloudWatch Logs event flattened from a subscription
 * payload, {owner, logGroup, logStream, id, timestamp, message}; any other
 * line is taken as a bare message of an unknown stream.
 */
static int
lambda_line(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg, bool json)
{
	struct lambda_state *s = state;
	struct pick k[] = { { "owner" }, { "logGroup" }, { "logStream" },
		{ "id" }, { "timestamp" }, { "message" } };
	struct tw_lambda_cwl_event e;
	struct tw_json_opts jo;
	struct tw_mpw lw;
	const char *text = p;
	size_t i = 0;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	memset(&e, 0, sizeof(e));
	if (!tw_utf8_valid(p, n)) {
		tw_buf_reset(&s->clean);
		if (tw_utf8_sanitize(&s->clean, p, n) != 0)
			return TW_ETOOBIG;
		text = s->clean.data;
		e.raw = p;
		e.raw_len = n;
	}
	e.message = text;
	e.message_len = text == p ? n : s->clean.len;
	while (i < e.message_len && (text[i] == ' ' || text[i] == '\t'))
		i++;
	if (i == e.message_len || text[i] != '{')
		goto bare;
	tw_buf_reset(&s->line);
	tw_mpw_init(&lw, &s->line);
	tw_json_opts_default(&jo);
	if (tw_json_to_mp(text, e.message_len, &lw, &jo, NULL) != 0)
		goto bare;
	pick(s->line.data, s->line.len, k, sizeof(k) / sizeof(k[0]));
	if (!k[5].found || k[5].o.type != TW_MP_STR ||
	    (!k[1].found && !k[2].found))
		goto bare;
	e.message = k[5].o.v.s.p;
	e.message_len = k[5].o.v.s.len;
	if (k[0].found && k[0].o.type == TW_MP_STR) {
		e.owner = k[0].o.v.s.p;
		e.owner_len = k[0].o.v.s.len;
	}
	if (k[1].found && k[1].o.type == TW_MP_STR) {
		e.group = k[1].o.v.s.p;
		e.group_len = k[1].o.v.s.len;
	}
	if (k[2].found && k[2].o.type == TW_MP_STR) {
		e.stream = k[2].o.v.s.p;
		e.stream_len = k[2].o.v.s.len;
	}
	if (k[3].found && k[3].o.type == TW_MP_STR) {
		e.id = k[3].o.v.s.p;
		e.id_len = k[3].o.v.s.len;
	}
	if (k[4].found)
		e.has_time = tw_lambda_ms_time(&k[4].o, &e.time_ns);
bare:
	if (json)
		return tw_lambda_json_event(s->l, o, NULL, &e, w, emit, arg);
	return tw_lambda_text_event(s->l, o, NULL, &e, w, emit, arg);
}

static int
lambda_text_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	return lambda_line(state, o, p, n, w, emit, arg, false);
}

static int
lambda_json_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	return lambda_line(state, o, p, n, w, emit, arg, true);
}

/*
 * Count the sample's lines that are flattened CloudWatch events whose
 * message is a text-format platform line, or a JSON object.
 */
static bool
classify(const char *p, size_t n, int *text, int *json)
{
	static const char *const platform[] = { "START RequestId: ",
		"END RequestId: ", "REPORT RequestId: ", "INIT_START ",
		"INIT_REPORT " };
	const char *end = p + n, *nl, *m;
	int lines = 0, events = 0;

	*text = *json = 0;
	for (; p < end && lines < 64; p = nl + 1, lines++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			nl = end;
			if (events > 0)
				break; /* the sample may cut the last line */
		}
		while (p < nl && (*p == ' ' || *p == '\t'))
			p++;
		if (p == nl)
			continue;
		if (*p != '{' ||
		    memmem(p, (size_t)(nl - p), "\"logGroup\"", 10) == NULL ||
		    memmem(p, (size_t)(nl - p), "\"logStream\"", 11) == NULL ||
		    (m = memmem(p, (size_t)(nl - p), "\"message\"", 9)) == NULL)
			return false;
		events++;
		m += 9;
		while (m < nl && (*m == ' ' || *m == ':'))
			m++;
		if (nl - m < 2 || *m != '"')
			continue;
		m++;
		if (*m == '{')
			(*json)++;
		for (size_t i = 0; i < sizeof(platform) / sizeof(platform[0]);
		    i++)
			if ((size_t)(nl - m) >= strlen(platform[i]) &&
			    memcmp(m, platform[i], strlen(platform[i])) == 0)
				(*text)++;
	}
	return events > 0;
}

static int
lambda_text_detect(const char *p, size_t n)
{
	int text, json;

	return classify(p, n, &text, &json) && text >= json ? 70 : 0;
}

static int
lambda_json_detect(const char *p, size_t n)
{
	int text, json;

	return classify(p, n, &text, &json) && json > text ? 70 : 0;
}

const struct tw_format tw_format_lambda_text = {
	.name = "lambda_text",
	.framing = TW_FRAMING_LINES,
	.state_new = lambda_new,
	.state_free = lambda_free,
	.parse = lambda_text_parse,
	.flush = NULL,
	.detect = lambda_text_detect,
};

const struct tw_format tw_format_lambda_json = {
	.name = "lambda_json",
	.framing = TW_FRAMING_LINES,
	.state_new = lambda_new,
	.state_free = lambda_free,
	.parse = lambda_json_parse,
	.flush = NULL,
	.detect = lambda_json_detect,
};

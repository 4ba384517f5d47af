/* lambda_telemetry.c: a Lambda Telemetry API POST body (JSON array). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "json.h"
#include "lambda.h"
#include "timefmt.h"
#include "utf8.h"

#define TELEMETRY_BODY_MAX ((size_t)64 << 20)
/* A body that is not JSON becomes one record with this much of it. */
#define TELEMETRY_BAD_MAX ((size_t)64 << 10)

/* One listener: its request id in progress outlives a POST body. */
struct telemetry_state {
	struct tw_lambda_stream st;
	struct tw_lambda_bufs bufs;
	struct tw_buf body;  /* the body as msgpack */
	struct tw_buf clean; /* the body made valid UTF-8 */
	struct tw_buf text;  /* an element that is not an object, as JSON */
};

static int
telemetry_new(const struct tw_parse_opts *o, void **state)
{
	struct telemetry_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	tw_lambda_bufs_init(&s->bufs);
	tw_buf_init(&s->body, TELEMETRY_BODY_MAX);
	tw_buf_init(&s->clean, TELEMETRY_BODY_MAX);
	tw_buf_init(&s->text, TELEMETRY_BODY_MAX);
	*state = s;
	return 0;
}

static void
telemetry_free(void *state)
{
	struct telemetry_state *s = state;

	tw_lambda_bufs_cleanup(&s->bufs);
	tw_buf_cleanup(&s->body);
	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->text);
	free(s);
}

static void
env_val(const struct tw_parse_opts *o, const char *key,
    struct tw_lambda_val *v)
{
	const char *s = tw_parse_env(o, key);

	/* the environment is not ours to trust: only UTF-8 reaches a str */
	if (s == NULL || !tw_utf8_valid(s, strlen(s)))
		return;
	v->kind = TW_LV_STR;
	v->p = s;
	v->n = strlen(s);
}

/* A record with what the extension's environment says (norm_telemetry). */
static void
rec_start(struct tw_lambda_rec *r, const struct tw_parse_opts *o)
{
	tw_lambda_rec_init(r, "lambda_telemetry", o->now_ns);
	r->envelope = "telemetry_api";
	env_val(o, "AWS_REGION", &r->region);
	env_val(o, "AWS_LAMBDA_FUNCTION_NAME", &r->faas[TW_FAAS_NAME]);
	env_val(o, "AWS_LAMBDA_FUNCTION_VERSION", &r->faas[TW_FAAS_VERSION]);
	env_val(o, "AWS_LAMBDA_LOG_STREAM_NAME", &r->faas[TW_FAAS_INSTANCE]);
}

/* An RFC 3339 time; one without a zone is UTC. */
static bool
event_time(const struct tw_mp_obj *v, int64_t *ns)
{
	char buf[64];

	if (v->type != TW_MP_STR)
		return false;
	if (tw_time_parse_rfc3339(v->v.s.p, v->v.s.len, ns) == 0)
		return true;
	if (v->v.s.len + 1 >= sizeof(buf))
		return false;
	memcpy(buf, v->v.s.p, v->v.s.len);
	buf[v->v.s.len] = 'Z';
	return tw_time_parse_rfc3339(buf, v->v.s.len + 1, ns) == 0;
}

/* One event {time, type, record} at ev[0..n) of the body. */
static int
telemetry_event(struct telemetry_state *s, const struct tw_parse_opts *o,
    const char *ev, size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r, peek;
	struct tw_mp_obj m, k, v, typ = { 0 }, rec = { 0 }, tm = { 0 };
	const char *rec_p = NULL, *body;
	size_t rec_n = 0, blen;
	struct tw_lambda_node_line nl;
	struct tw_lambda_val rid = { 0 };
	struct tw_lambda_rec rr;
	bool has_type = false, has_rec = false, has_time = false;
	bool matched = false, report;
	const uint8_t *start;
	int rc;

	rec_start(&rr, o);
	tw_mp_limits_default(&lim);
	lim.depth_max = 64;
	tw_mp_reader_init(&r, ev, n);
	if (tw_mp_read(&r, &m) != 0 || m.type != TW_MP_MAP) {
		/* not an event: keep what it was, as JSON text */
		tw_buf_reset(&s->text);
		tw_mp_reader_init(&r, ev, n);
		if (tw_json_from_mp(&s->text, &r, &lim, 0) == 0) {
			rr.message.kind = TW_LV_STR;
			rr.message.p = s->text.data;
			rr.message.n = s->text.len;
		}
		return tw_lambda_rec_emit(&rr, o, w, emit, arg);
	}
	for (uint32_t i = 0; i < m.v.count; i++) {
		if (tw_mp_read(&r, &k) != 0)
			break;
		start = r.p;
		peek = r;
		if (tw_mp_read(&peek, &v) != 0 || tw_mp_skip(&r, &lim) != 0)
			break;
		if (tw_mp_str_eq(&k, "type")) {
			typ = v;
			has_type = true;
		} else if (tw_mp_str_eq(&k, "record")) {
			rec = v;
			rec_p = (const char *)start;
			rec_n = (size_t)(r.p - start);
			has_rec = true;
		} else if (tw_mp_str_eq(&k, "time")) {
			tm = v;
			has_time = true;
		}
	}
	if (has_time)
		(void)event_time(&tm, &rr.time_ns);
	if (has_type && (tw_mp_str_eq(&typ, "function") ||
	    tw_mp_str_eq(&typ, "extension"))) {
		rr.stream = tw_mp_str_eq(&typ, "function") ? "function" :
		    "extension";
		if (has_rec && rec.type == TW_MP_MAP) {
			tw_lambda_json_app(&rr, &s->bufs, rec_p, rec_n, &rid);
		} else {
			if (has_rec && rec.type == TW_MP_STR) {
				body = rec.v.s.p;
				blen = rec.v.s.len;
				if (blen > 0 && body[blen - 1] == '\n')
					blen--;
				if ((matched = tw_lambda_node_match(body, blen,
				    &nl))) {
					if (nl.rid != NULL) {
						rid.kind = TW_LV_STR;
						rid.p = nl.rid;
						rid.n = nl.rid_len;
					}
					rr.level = nl.level;
					body = nl.text;
					blen = nl.text_len;
				}
				rr.message.kind = TW_LV_STR;
				rr.message.p = body;
				rr.message.n = blen;
			}
			if (rr.stream[0] == 'f' && !matched)
				tw_lambda_stream_current(&s->st, &rid);
		}
	} else
		tw_lambda_platform(&rr, &s->st, &s->bufs, ev, n, &rid);
	report = has_type && tw_mp_str_eq(&typ, "platform.report");
	rc = tw_lambda_finish(&rr, &rid, o, w, emit, arg);
	if (report)
		s->st.kind = TW_LV_ABSENT;
	return rc;
}

/* A body that is not a JSON array or object: one record that says so. */
static int
telemetry_bad(const struct tw_parse_opts *o, const char *p, size_t n,
    struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct tw_lambda_rec r;

	if (n > TELEMETRY_BAD_MAX) {
		n = TELEMETRY_BAD_MAX;
		while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
			n--;
	}
	rec_start(&r, o);
	r.message.kind = TW_LV_STR;
	r.message.p = p;
	r.message.n = n;
	return tw_lambda_rec_emit(&r, o, w, emit, arg);
}

/*
 * The body is the JSON array Lambda POSTs to the listener; a lone event
 * object is taken too. Records follow the array's order.
 */
static int
telemetry_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct telemetry_state *s = state;
	struct tw_mp_limits lim;
	struct tw_json_opts jo;
	struct tw_mp_reader r;
	struct tw_mp_obj root;
	struct tw_mpw bw;
	const uint8_t *start;
	int rc = 0;

	if (!tw_utf8_valid(p, n)) {
		tw_buf_reset(&s->clean);
		if (tw_utf8_sanitize(&s->clean, p, n) != 0)
			return TW_ETOOBIG;
		p = s->clean.data;
		n = s->clean.len;
	}
	tw_buf_reset(&s->body);
	tw_mpw_init(&bw, &s->body);
	tw_json_opts_default(&jo);
	jo.max_bytes = TELEMETRY_BODY_MAX;
	if (tw_json_to_mp(p, n, &bw, &jo, NULL) != 0)
		return telemetry_bad(o, p, n, w, emit, arg);
	tw_mp_limits_default(&lim);
	lim.depth_max = 64;
	tw_mp_reader_init(&r, s->body.data, s->body.len);
	if (tw_mp_read(&r, &root) != 0)
		return telemetry_bad(o, p, n, w, emit, arg);
	if (root.type == TW_MP_MAP)
		return telemetry_event(s, o, s->body.data, s->body.len, w,
		    emit, arg);
	if (root.type != TW_MP_ARRAY)
		return telemetry_bad(o, p, n, w, emit, arg);
	for (uint32_t i = 0; i < root.v.count && rc == 0; i++) {
		start = r.p;
		if (tw_mp_skip(&r, &lim) != 0)
			break;
		rc = telemetry_event(s, o, (const char *)start,
		    (size_t)(r.p - start), w, emit, arg);
	}
	return rc;
}

/* A JSON array whose first element looks like a Telemetry API event. */
static int
telemetry_detect(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	if (i == n || p[i] != '[')
		return 0;
	for (i++; i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'); i++)
		;
	if (i == n || p[i] != '{')
		return 0;
	if (memmem(p, n, "\"type\"", 6) == NULL ||
	    memmem(p, n, "\"record\"", 8) == NULL ||
	    memmem(p, n, "\"time\"", 6) == NULL)
		return 0;
	if (memmem(p, n, "\"platform.", 10) == NULL &&
	    memmem(p, n, "\"function\"", 10) == NULL &&
	    memmem(p, n, "\"extension\"", 11) == NULL)
		return 0;
	return 80;
}

const struct tw_format tw_format_lambda_telemetry = {
	.name = "lambda_telemetry",
	.framing = TW_FRAMING_DOCUMENT,
	.state_new = telemetry_new,
	.state_free = telemetry_free,
	.parse = telemetry_parse,
	.flush = NULL,
	.detect = telemetry_detect,
};

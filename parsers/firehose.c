/* firehose.c: Firehose HTTP deliveries of CloudWatch Logs data to records. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "base64.h"
#include "formats.h"
#include "json.h"
#include "lambda.h"
#include "utf8.h"

/* Firehose buffers up to 64 MiB of records per delivery, base64 on top. */
#define FIREHOSE_BODY_MAX ((size_t)128 << 20)
/*
 * One record's data, gunzipped, may be this big, and no more than
 * FIREHOSE_RATIO times its compressed size once past FIREHOSE_RATIO_FLOOR:
 * CloudWatch payloads compress some 10 to 50 times; a bomb far more.
 */
#define FIREHOSE_DATA_MAX ((size_t)64 << 20)
#define FIREHOSE_RATIO 256
#define FIREHOSE_RATIO_FLOOR ((size_t)1 << 20)
/* A body that is not JSON becomes one record with this much of it. */
#define FIREHOSE_BAD_MAX ((size_t)64 << 10)

static const char envelope[] = "firehose_cwl";

struct firehose_state {
	struct tw_lambda *l;  /* Lambda log streams, across deliveries */
	struct tw_buf body;   /* the body as msgpack */
	struct tw_buf clean;  /* text made valid UTF-8 */
	struct tw_buf data;   /* one record's data, base64-decoded */
	struct tw_buf gz;     /* ... and gunzipped */
	struct tw_buf payload; /* the subscription JSON as msgpack */
	struct tw_buf rec;    /* a CloudTrail record with its log group */
	struct tw_buf diag;   /* why a record could not be read */
	z_stream z;
	bool z_ready;
};

static int
firehose_new(const struct tw_parse_opts *o, void **state)
{
	struct firehose_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	if ((s->l = tw_lambda_new()) == NULL) {
		free(s);
		return TW_ENOMEM;
	}
	tw_buf_init(&s->body, FIREHOSE_BODY_MAX);
	tw_buf_init(&s->clean, FIREHOSE_BODY_MAX);
	tw_buf_init(&s->data, FIREHOSE_BODY_MAX);
	tw_buf_init(&s->gz, FIREHOSE_DATA_MAX);
	tw_buf_init(&s->payload, FIREHOSE_BODY_MAX);
	tw_buf_init(&s->rec, FIREHOSE_BODY_MAX);
	tw_buf_init(&s->diag, 4096);
	*state = s;
	return 0;
}

static void
firehose_free(void *state)
{
	struct firehose_state *s = state;

	if (s->z_ready)
		inflateEnd(&s->z);
	tw_lambda_free(s->l);
	tw_buf_cleanup(&s->body);
	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->data);
	tw_buf_cleanup(&s->gz);
	tw_buf_cleanup(&s->payload);
	tw_buf_cleanup(&s->rec);
	tw_buf_cleanup(&s->diag);
	free(s);
}

/* gunzip p[0..n) (one or more members) into s->gz, bounded. */
static int
gunzip(struct firehose_state *s, const char *p, size_t n)
{
	size_t limit = n > FIREHOSE_DATA_MAX ? FIREHOSE_DATA_MAX :
	    n * FIREHOSE_RATIO, room;
	int zr;

	if (limit < FIREHOSE_RATIO_FLOOR)
		limit = FIREHOSE_RATIO_FLOOR;
	if (limit > FIREHOSE_DATA_MAX)
		limit = FIREHOSE_DATA_MAX;
	if (!s->z_ready) {
		memset(&s->z, 0, sizeof(s->z));
		if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
			return TW_ENOMEM;
		s->z_ready = true;
	} else if (inflateReset(&s->z) != Z_OK)
		return TW_EINTERNAL;
	tw_buf_reset(&s->gz);
	s->z.next_in = (Bytef *)(uintptr_t)p;
	s->z.avail_in = (uInt)n;
	for (;;) {
		if (s->gz.len >= limit)
			return TW_ERATIO;
		room = limit - s->gz.len;
		if (room > (size_t)256 << 10)
			room = (size_t)256 << 10;
		if (tw_buf_reserve(&s->gz, room) != 0)
			return TW_ENOMEM;
		s->z.next_out = (Bytef *)s->gz.data + s->gz.len;
		s->z.avail_out = (uInt)room;
		zr = inflate(&s->z, Z_NO_FLUSH);
		s->gz.len += room - s->z.avail_out;
		if (zr == Z_STREAM_END) {
			/* another member may follow (gzip.decompress) */
			if (s->z.avail_in < 2 || s->z.next_in[0] != 0x1f ||
			    s->z.next_in[1] != 0x8b)
				break;
			if (inflateReset(&s->z) != Z_OK)
				return TW_EINTERNAL;
			continue;
		}
		if (zr == Z_BUF_ERROR && s->z.avail_out > 0)
			return TW_EPARSE; /* truncated */
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return TW_EPARSE;
	}
	return 0;
}

/* A map's value for key: the last occurrence, as JSON parsers keep it. */
static bool
map_get(const char *p, size_t n, const char *key, struct tw_mp_obj *out,
    const char **vp, size_t *vn)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r, peek;
	struct tw_mp_obj m, k, v;
	const uint8_t *start;
	bool found = false;

	tw_mp_limits_default(&lim);
	lim.depth_max = 64;
	tw_mp_reader_init(&r, p, n);
	if (tw_mp_read(&r, &m) != 0 || m.type != TW_MP_MAP)
		return false;
	for (uint32_t i = 0; i < m.v.count; i++) {
		if (tw_mp_read(&r, &k) != 0)
			break;
		start = r.p;
		peek = r;
		if (tw_mp_read(&peek, &v) != 0 || tw_mp_skip(&r, &lim) != 0)
			break;
		if (tw_mp_str_eq(&k, key)) {
			*out = v;
			if (vp != NULL) {
				*vp = (const char *)start;
				*vn = (size_t)(r.p - start);
			}
			found = true;
		}
	}
	return found;
}

/* A string member of a map into *p, *n (left alone when not a string). */
static void
map_str(const char *m, size_t mn, const char *key, const char **p,
    size_t *n)
{
	struct tw_mp_obj v;

	if (map_get(m, mn, key, &v, NULL, NULL) && v.type == TW_MP_STR) {
		*p = v.v.s.p;
		*n = v.v.s.len;
	}
}

/* A record saying why a delivery or one of its records was not read. */
static int
diag_record(struct firehose_state *s, const struct tw_parse_opts *o,
    const char *msg, size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct tw_lambda_rec r;

	if (n > FIREHOSE_BAD_MAX) {
		n = FIREHOSE_BAD_MAX;
		while (n > 0 && ((unsigned char)msg[n] & 0xc0) == 0x80)
			n--;
	}
	tw_lambda_rec_init(&r, "firehose_cwl", o->now_ns);
	r.envelope = envelope;
	r.level = "warn";
	r.message.kind = TW_LV_STR;
	r.message.p = msg;
	r.message.n = n;
	return tw_lambda_rec_emit(&r, o, w, emit, arg);
}

static int
diag_recordf(struct firehose_state *s, const struct tw_parse_opts *o,
    uint32_t index, const char *why, struct tw_mpw *w, tw_emit_fn emit,
    void *arg)
{
	tw_buf_reset(&s->diag);
	if (tw_buf_addf(&s->diag, "firehose record %u: %s", index, why) != 0)
		return TW_ETOOBIG;
	return diag_record(s, o, s->diag.data, s->diag.len, w, emit, arg);
}

/*
 * Copy the record at rec[0..n) into out with source.log_group and
 * source.log_stream added when it lacks them: tw_cloudtrail_event has no
 * parameter for the CloudWatch context.
 */
static int
add_log_stream(struct tw_buf *out, const uint8_t *rec, size_t n,
    const struct tw_lambda_cwl_event *e)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r, sr;
	struct tw_mp_obj m, k, v;
	const uint8_t *ks, *vs;
	struct tw_mpw w;
	bool has_group, has_stream;
	uint32_t extra;

	tw_mp_limits_default(&lim);
	lim.depth_max = 64;
	tw_buf_reset(out);
	tw_mpw_init(&w, out);
	tw_mp_reader_init(&r, rec, n);
	if (tw_mp_read(&r, &m) != 0 || m.type != TW_MP_MAP)
		return TW_EMSGPACK;
	tw_mpw_map(&w, m.v.count);
	for (uint32_t i = 0; i < m.v.count; i++) {
		ks = r.p;
		if (tw_mp_read(&r, &k) != 0)
			return TW_EMSGPACK;
		vs = r.p;
		sr = r;
		if (tw_mp_read(&sr, &v) != 0 || tw_mp_skip(&r, &lim) != 0)
			return TW_EMSGPACK;
		tw_mpw_raw(&w, ks, (size_t)(vs - ks));
		if (!tw_mp_str_eq(&k, "source") || v.type != TW_MP_MAP) {
			tw_mpw_raw(&w, vs, (size_t)(r.p - vs));
			continue;
		}
		has_group = map_get((const char *)vs, (size_t)(r.p - vs),
		    "log_group", &k, NULL, NULL);
		has_stream = map_get((const char *)vs, (size_t)(r.p - vs),
		    "log_stream", &k, NULL, NULL);
		extra = (!has_group && e->group != NULL ? 1 : 0) +
		    (!has_stream && e->stream != NULL ? 1 : 0);
		tw_mpw_map(&w, v.v.count + extra);
		tw_mpw_raw(&w, sr.p, (size_t)(r.p - sr.p));
		if (!has_group && e->group != NULL) {
			tw_mpw_cstr(&w, "log_group");
			tw_mpw_str(&w, e->group, e->group_len);
		}
		if (!has_stream && e->stream != NULL) {
			tw_mpw_cstr(&w, "log_stream");
			tw_mpw_str(&w, e->stream, e->stream_len);
		}
	}
	return w.err;
}

/* What the CloudTrail hand-off saw of its records. */
struct ct_ctx {
	struct firehose_state *s;
	const struct tw_lambda_cwl_event *e;
	tw_emit_fn emit;
	void *arg;
	int emitted;
	int emit_rc;
};

static int
ct_emit(void *arg, const uint8_t *rec, size_t len)
{
	struct ct_ctx *c = arg;

	c->emitted++;
	if (add_log_stream(&c->s->rec, rec, len, c->e) == 0)
		c->emit_rc = c->emit(c->arg, (const uint8_t *)c->s->rec.data,
		    c->s->rec.len);
	else
		c->emit_rc = c->emit(c->arg, rec, len);
	return c->emit_rc;
}

/* A JSON object with CloudTrail's eventVersion and eventSource. */
static bool
is_cloudtrail(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	return i < n && p[i] == '{' &&
	    memmem(p, n, "\"eventVersion\"", 14) != NULL &&
	    memmem(p, n, "\"eventSource\"", 13) != NULL;
}

/*
 * One log event: a Lambda log group's goes to the Lambda text rules, a
 * CloudTrail event to the CloudTrail parser, anything else is kept as a
 * text event of its log stream.
 */
static int
log_event(struct firehose_state *s, const struct tw_parse_opts *o,
    const struct tw_lambda_cwl_event *e, struct tw_mpw *w, tw_emit_fn emit,
    void *arg)
{
	static const char prefix[] = "/aws/lambda/";
	struct ct_ctx c;
	int rc;

	if (e->group != NULL && e->group_len >= sizeof(prefix) - 1 &&
	    memcmp(e->group, prefix, sizeof(prefix) - 1) == 0)
		return tw_lambda_text_event(s->l, o, envelope, e, w, emit,
		    arg);
	if (is_cloudtrail(e->message, e->message_len)) {
		memset(&c, 0, sizeof(c));
		c.s = s;
		c.e = e;
		c.emit = emit;
		c.arg = arg;
		tw_buf_reset(w->buf);
		tw_mpw_init(w, w->buf);
		rc = tw_cloudtrail_event(o, envelope, e->message,
		    e->message_len, w, ct_emit, &c);
		if (c.emit_rc != 0)
			return c.emit_rc;
		if (c.emitted > 0)
			return 0;
		(void)rc; /* nothing came out: keep the event as text */
	}
	return tw_lambda_text_event(s->l, o, envelope, e, w, emit, arg);
}

/* The subscription payload at s->payload: its DATA_MESSAGE log events. */
static int
subscription(struct firehose_state *s, const struct tw_parse_opts *o,
    struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	const char *mp = s->payload.data, *evs, *ev;
	size_t mn = s->payload.len, evn, en;
	struct tw_lambda_cwl_event base, e;
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_mp_obj t, a, ts;
	const uint8_t *start;
	int rc = 0;

	if (!map_get(mp, mn, "messageType", &t, NULL, NULL) ||
	    !tw_mp_str_eq(&t, "DATA_MESSAGE"))
		return 0; /* CONTROL_MESSAGE: a reachability probe */
	memset(&base, 0, sizeof(base));
	map_str(mp, mn, "owner", &base.owner, &base.owner_len);
	map_str(mp, mn, "logGroup", &base.group, &base.group_len);
	map_str(mp, mn, "logStream", &base.stream, &base.stream_len);
	if (!map_get(mp, mn, "logEvents", &a, &evs, &evn) ||
	    a.type != TW_MP_ARRAY)
		return 0;
	tw_mp_limits_default(&lim);
	lim.depth_max = 64;
	tw_mp_reader_init(&r, evs, evn);
	if (tw_mp_read(&r, &a) != 0)
		return 0;
	for (uint32_t i = 0; i < a.v.count && rc == 0; i++) {
		start = r.p;
		if (tw_mp_skip(&r, &lim) != 0)
			break;
		ev = (const char *)start;
		en = (size_t)(r.p - start);
		e = base;
		e.message = "";
		/* {owner, logGroup, logStream, **logEvent} */
		map_str(ev, en, "owner", &e.owner, &e.owner_len);
		map_str(ev, en, "logGroup", &e.group, &e.group_len);
		map_str(ev, en, "logStream", &e.stream, &e.stream_len);
		map_str(ev, en, "id", &e.id, &e.id_len);
		map_str(ev, en, "message", &e.message, &e.message_len);
		if (map_get(ev, en, "timestamp", &ts, NULL, NULL))
			e.has_time = tw_lambda_ms_time(&ts, &e.time_ns);
		rc = log_event(s, o, &e, w, emit, arg);
	}
	return rc;
}

/* One records[] element {data: base64(gzip(subscription JSON))}. */
static int
firehose_record(struct firehose_state *s, const struct tw_parse_opts *o,
    uint32_t index, const char *el, size_t en, struct tw_mpw *w,
    tw_emit_fn emit, void *arg)
{
	struct tw_json_opts jo;
	struct tw_mp_obj d;
	struct tw_mpw pw;
	const char *p;
	size_t n;
	int rc;

	if (!map_get(el, en, "data", &d, NULL, NULL) || d.type != TW_MP_STR)
		return diag_recordf(s, o, index, "no data", w, emit, arg);
	tw_buf_reset(&s->data);
	if (tw_base64_decode(&s->data, d.v.s.p, d.v.s.len) != 0)
		return diag_recordf(s, o, index, "data is not base64", w,
		    emit, arg);
	p = s->data.data != NULL ? s->data.data : "";
	n = s->data.len;
	/* without gzip when Firehose decompression is on */
	if (n >= 2 && (uint8_t)p[0] == 0x1f && (uint8_t)p[1] == 0x8b) {
		if ((rc = gunzip(s, p, n)) != 0)
			return diag_recordf(s, o, index, rc == TW_ERATIO ?
			    "gzip data over the size or ratio limit" :
			    "bad gzip data", w, emit, arg);
		p = s->gz.data;
		n = s->gz.len;
	}
	if (!tw_utf8_valid(p, n)) {
		tw_buf_reset(&s->clean);
		if (tw_utf8_sanitize(&s->clean, p, n) != 0)
			return diag_recordf(s, o, index, "data too big", w,
			    emit, arg);
		p = s->clean.data;
		n = s->clean.len;
	}
	tw_buf_reset(&s->payload);
	tw_mpw_init(&pw, &s->payload);
	tw_json_opts_default(&jo);
	jo.max_bytes = FIREHOSE_DATA_MAX;
	if (tw_json_to_mp(p, n, &pw, &jo, NULL) != 0)
		return diag_recordf(s, o, index,
		    "data is not CloudWatch Logs JSON", w, emit, arg);
	return subscription(s, o, w, emit, arg);
}

/*
 * The body {requestId, timestamp, records: [{data}]}: each record's log
 * events in order; records that cannot be read each leave a warning
 * record, a CONTROL_MESSAGE nothing.
 */
static int
firehose_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct firehose_state *s = state;
	struct tw_mp_limits lim;
	struct tw_json_opts jo;
	struct tw_mp_reader r;
	struct tw_mp_obj a;
	const char *recs;
	const uint8_t *start;
	struct tw_mpw bw;
	size_t rn;
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
	jo.max_bytes = FIREHOSE_BODY_MAX;
	if (tw_json_to_mp(p, n, &bw, &jo, NULL) != 0 ||
	    !map_get(s->body.data, s->body.len, "records", &a, &recs, &rn) ||
	    a.type != TW_MP_ARRAY)
		return diag_record(s, o, p, n, w, emit, arg);
	tw_mp_limits_default(&lim);
	lim.depth_max = 64;
	tw_mp_reader_init(&r, recs, rn);
	if (tw_mp_read(&r, &a) != 0)
		return 0;
	for (uint32_t i = 0; i < a.v.count && rc == 0; i++) {
		start = r.p;
		if (tw_mp_skip(&r, &lim) != 0)
			break;
		rc = firehose_record(s, o, i, (const char *)start,
		    (size_t)(r.p - start), w, emit, arg);
	}
	return rc;
}

/* An object whose records[] elements start with a "data" member. */
static int
firehose_detect(const char *p, size_t n)
{
	const char *q, *end = p + n;
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	if (i == n || p[i] != '{' ||
	    memmem(p, n, "\"requestId\"", 11) == NULL ||
	    (q = memmem(p, n, "\"records\"", 9)) == NULL)
		return 0;
	q += 9;
	while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' ||
	    *q == '\r' || *q == ':' || *q == '[' || *q == '{'))
		q++;
	if ((size_t)(end - q) < 6 || memcmp(q, "\"data\"", 6) != 0)
		return 0;
	return 80;
}

const struct tw_format tw_format_firehose_cwl = {
	.name = "firehose_cwl",
	.framing = TW_FRAMING_DOCUMENT,
	.state_new = firehose_new,
	.state_free = firehose_free,
	.parse = firehose_parse,
	.flush = NULL,
	.detect = firehose_detect,
};

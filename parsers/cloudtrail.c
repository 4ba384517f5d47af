/* cloudtrail.c: the cloudtrail format: AWS CloudTrail S3 objects ({"Records":[...]}) and single events. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit_map.h"
#include "formats.h"
#include "json.h"
#include "timefmt.h"
#include "utf8.h"

#define CT_DOCUMENT_MAX ((size_t)256 << 20)
/* A trail's S3 object may hold more records than the default 65 536. */
#define CT_RECORDS_MAX (1u << 22)

struct ct_state {
	struct tw_buf doc;     /* the body as msgpack */
	struct tw_buf clean;   /* the body with U+FFFD, when it was not UTF-8 */
	struct tw_buf scratch; /* tw_rec_message, JSON of odd elements */
};

/* The record fields the mapping reads; index into the value array. */
enum {
	CT_TIME, CT_ID, CT_SOURCE, CT_NAME, CT_ERR_CODE, CT_ERR_MSG,
	CT_ACCOUNT, CT_REGION, CT_IDENTITY, CT_IP, CT_UA, CT_RESOURCES,
	CT_PARAMS, CT_RESPONSE, CT_CATEGORY, CT_TYPE, CT_READ_ONLY,
	CT_NKEYS
};
static const char *const ct_keys[CT_NKEYS] = {
	"eventTime", "eventID", "eventSource", "eventName", "errorCode",
	"errorMessage", "recipientAccountId", "awsRegion", "userIdentity",
	"sourceIPAddress", "userAgent", "resources", "requestParameters",
	"responseElements", "eventCategory", "eventType", "readOnly",
};

static int
ct_new(const struct tw_parse_opts *o, void **state)
{
	struct ct_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	tw_buf_init(&s->doc, CT_DOCUMENT_MAX);
	tw_buf_init(&s->clean, CT_DOCUMENT_MAX);
	tw_buf_init(&s->scratch, CT_DOCUMENT_MAX);
	*state = s;
	return 0;
}

static void
ct_free(void *state)
{
	struct ct_state *s = state;

	tw_buf_cleanup(&s->doc);
	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->scratch);
	free(s);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
all_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(p[i]))
			return false;
	return true;
}

/*
 * The length of eventName without its API-version suffix, i.e. what
 * re.sub(r"(\d{8}(v\d+)?|\d{4}_\d{2}_\d{2})$", "", name) leaves: the
 * leftmost position from which the pattern matches to the end.
 */
static size_t
strip_version(const char *p, size_t n)
{
	size_t cut = n, k = 0;

	while (k < n && is_digit(p[n - 1 - k]))
		k++;
	/* \d{8}v\d+ : 8 digits, a 'v', then the trailing digits. */
	if (k >= 1 && k < n && p[n - 1 - k] == 'v' && n - 1 - k >= 8 &&
	    all_digits(p + n - 1 - k - 8, 8))
		cut = n - 1 - k - 8;
	/* \d{4}_\d{2}_\d{2} */
	if (n >= 10 && n - 10 < cut && all_digits(p + n - 10, 4) &&
	    p[n - 6] == '_' && all_digits(p + n - 5, 2) && p[n - 3] == '_' &&
	    all_digits(p + n - 2, 2))
		cut = n - 10;
	/* \d{8} */
	if (k >= 8 && n - 8 < cut)
		cut = n - 8;
	return cut;
}

/*
 * Write the source map; 1 key. CloudTrail arrives in envelopes (S3
 * objects, CloudWatch Logs), never as a tailed file: no path.
 */
static uint32_t
put_source(struct tw_mpw *w, const struct tw_parse_opts *o,
    const struct tw_ct_source *src)
{
	uint32_t keys = 2;
	size_t hdr;

	tw_mpw_cstr(w, "source");
	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "kind");
	tw_mpw_cstr(w, "cloud_audit");
	tw_mpw_cstr(w, "format");
	tw_mpw_cstr(w, "cloudtrail");
	if (src != NULL && src->envelope != NULL) {
		tw_mpw_cstr(w, "envelope");
		tw_mpw_cstr(w, src->envelope);
		keys++;
	}
	if (src != NULL && src->log_group != NULL) {
		tw_mpw_cstr(w, "log_group");
		tw_mpw_str(w, src->log_group, src->log_group_len);
		keys++;
	}
	if (src != NULL && src->log_stream != NULL) {
		tw_mpw_cstr(w, "log_stream");
		tw_mpw_str(w, src->log_stream, src->log_stream_len);
		keys++;
	}
	tw_mpw_patch32(w, hdr, keys);
	return 1;
}

/* audit.actor from userIdentity (gen_cloudtrail.py actor_of()). */
static void
put_actor(struct tw_mpw *w, const struct tw_am_val *u)
{
	struct tw_am_val type, name, sc, issuer, arn, x;
	uint32_t keys = 0;
	size_t hdr;
	bool service;

	tw_mpw_cstr(w, "actor");
	hdr = tw_mpw_map32_placeholder(w);
	if (!tw_am_sub(u, "type", &type))
		memset(&type, 0, sizeof(type));
	service = tw_am_str_is(&type, "AWSService");
	keys += tw_am_put(w, "type", &type);
	memset(&issuer, 0, sizeof(issuer));
	if (tw_am_sub(u, "sessionContext", &sc) && sc.o.type == TW_MP_MAP &&
	    tw_am_sub(&sc, "sessionIssuer", &x) && x.o.type == TW_MP_MAP)
		issuer = x;
	if (tw_am_str_is(&type, "IAMUser")) {
		if (tw_am_sub(u, "userName", &name))
			keys += tw_am_put(w, "name", &name);
	} else if (tw_am_str_is(&type, "AssumedRole")) {
		if (tw_am_truthy(&issuer)) {
			const char *pieces[3];
			size_t lens[3];
			char tmp[64];

			if (!tw_am_sub(&issuer, "userName", &name))
				memset(&name, 0, sizeof(name));
			lens[0] = tw_am_pystr(&name, tmp, &pieces[0]);
			pieces[1] = "/";
			lens[1] = 1;
			pieces[2] = "";
			lens[2] = 0;
			if (tw_am_sub(u, "arn", &arn) &&
			    arn.o.type == TW_MP_STR) {
				const char *a = arn.o.v.s.p;
				size_t an = arn.o.v.s.len, i = an;
				while (i > 0 && a[i - 1] != '/')
					i--;
				pieces[2] = a + i;
				lens[2] = an - i;
			}
			tw_mpw_cstr(w, "name");
			tw_am_write_concat(w, pieces, lens, 3);
			keys++;
		} else if (tw_am_sub(u, "arn", &arn)) {
			keys += tw_am_put(w, "name", &arn);
		}
	} else if (tw_am_str_is(&type, "Root")) {
		tw_mpw_cstr(w, "name");
		tw_mpw_cstr(w, "root");
		keys++;
	} else if (service) {
		if (tw_am_sub(u, "invokedBy", &name))
			keys += tw_am_put(w, "name", &name);
	} else {
		if ((tw_am_sub(u, "userName", &name) && tw_am_truthy(&name)) ||
		    tw_am_sub(u, "principalId", &name))
			keys += tw_am_put(w, "name", &name);
	}
	if (tw_am_sub(u, "principalId", &x))
		keys += tw_am_put(w, "id", &x);
	if (tw_am_sub(u, "arn", &x))
		keys += tw_am_put(w, "arn", &x);
	if (tw_am_sub(u, "accountId", &x))
		keys += tw_am_put(w, "account", &x);
	if (tw_am_sub(u, "accessKeyId", &x) && tw_am_truthy(&x))
		keys += tw_am_put(w, "access_key_id", &x);
	if (!service && tw_am_sub(u, "invokedBy", &x))
		keys += tw_am_put(w, "invoked_by", &x);
	tw_mpw_patch32(w, hdr, keys);
}

/* audit.target (gen_cloudtrail.py target_of()); the keys added. */
static uint32_t
put_target(struct tw_mpw *w, const struct tw_am_val *v)
{
	const struct tw_am_val *params = &v[CT_PARAMS];
	struct tw_am_val x, y;
	const char *type;
	uint32_t keys = 0;
	size_t hdr;

	if (tw_am_truthy(&v[CT_RESOURCES])) {
		if (!tw_am_first(&v[CT_RESOURCES], &x) ||
		    x.o.type != TW_MP_MAP)
			return 0;
		tw_mpw_cstr(w, "target");
		hdr = tw_mpw_map32_placeholder(w);
		if (tw_am_sub(&x, "type", &y))
			keys += tw_am_put(w, "type", &y);
		if (tw_am_sub(&x, "ARN", &y))
			keys += tw_am_put(w, "id", &y);
		tw_mpw_patch32(w, hdr, keys);
		return 1;
	}
	if (tw_am_has(params, "functionName")) {
		type = "AWS::Lambda::Function";
		if (!tw_am_sub(params, "functionName", &y))
			memset(&y, 0, sizeof(y));
	} else if (tw_am_has(params, "roleName")) {
		type = "AWS::IAM::Role";
		if (!tw_am_sub(params, "roleName", &y))
			memset(&y, 0, sizeof(y));
	} else {
		return 0;
	}
	tw_mpw_cstr(w, "target");
	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "type");
	tw_mpw_cstr(w, type);
	keys = 1 + tw_am_put(w, "name", &y);
	tw_mpw_patch32(w, hdr, keys);
	return 1;
}

/* The audit map (FORMATS.md §1.2, gen_cloudtrail.py normalize()). */
static void
put_audit(struct tw_mpw *w, const struct tw_am_val *v)
{
	const char *pieces[3], *svc, *op;
	size_t lens[3], svclen, oplen, hdr;
	struct tw_am_val console;
	char tmp[2][64];
	uint32_t keys = 0;
	bool failed;

	tw_mpw_cstr(w, "audit");
	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "kind");
	tw_mpw_cstr(w, "cloudtrail");
	keys++;
	keys += tw_am_put(w, "id", &v[CT_ID]);
	svclen = tw_am_pystr(&v[CT_SOURCE], tmp[0], &svc);
	for (size_t i = 0; i < svclen; i++)
		if (svc[i] == '.') {
			svclen = i;
			break;
		}
	oplen = tw_am_pystr(&v[CT_NAME], tmp[1], &op);
	pieces[0] = svc;
	lens[0] = svclen;
	pieces[1] = ":";
	lens[1] = 1;
	pieces[2] = op;
	lens[2] = strip_version(op, oplen);
	tw_mpw_cstr(w, "action");
	tw_am_write_concat(w, pieces, lens, 3);
	keys++;
	failed = tw_am_truthy(&v[CT_ERR_CODE]) ||
	    (tw_am_str_is(&v[CT_NAME], "ConsoleLogin") &&
	    tw_am_sub(&v[CT_RESPONSE], "ConsoleLogin", &console) &&
	    tw_am_str_is(&console, "Failure"));
	tw_mpw_cstr(w, "outcome");
	tw_mpw_cstr(w, failed ? "failure" : "success");
	keys++;
	if (v[CT_IDENTITY].p != NULL && v[CT_IDENTITY].o.type == TW_MP_MAP) {
		put_actor(w, &v[CT_IDENTITY]);
		keys++;
	}
	keys += tw_am_put(w, "source_address", &v[CT_IP]);
	keys += tw_am_put(w, "user_agent", &v[CT_UA]);
	keys += put_target(w, v);
	keys += tw_am_put(w, "category", &v[CT_CATEGORY]);
	keys += tw_am_put(w, "event_type", &v[CT_TYPE]);
	keys += tw_am_put(w, "read_only", &v[CT_READ_ONLY]);
	tw_mpw_patch32(w, hdr, keys);
}

/*
 * Write the record of one event (the msgpack map ev[0..n), which must
 * not live in w's buffer) through w; TW_EPARSE when ev is not a map.
 */
static int
ct_write(const struct tw_parse_opts *o, const struct tw_ct_source *src,
    const char *ev, size_t n, struct tw_mpw *w)
{
	struct tw_am_val v[CT_NKEYS];
	const char *pieces[5];
	size_t lens[5], hdr, sub;
	char tmp[3][64];
	uint32_t keys = 0, k;
	int64_t ns;

	if (tw_am_index(ev, n, ct_keys, CT_NKEYS, v) != 0)
		return TW_EPARSE;
	if (v[CT_TIME].p == NULL || v[CT_TIME].o.type != TW_MP_STR ||
	    tw_time_parse_rfc3339(v[CT_TIME].o.v.s.p, v[CT_TIME].o.v.s.len,
	    &ns) != 0)
		ns = o->now_ns;
	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "time");
	tw_mpw_timestamp(w, ns);
	keys++;
	if (o->observed_time) {
		tw_mpw_cstr(w, "observed_time");
		tw_mpw_timestamp(w, o->now_ns);
		keys++;
	}
	keys += tw_am_put(w, "id", &v[CT_ID]);
	keys += put_source(w, o, src);
	lens[0] = tw_am_pystr(&v[CT_SOURCE], tmp[0], &pieces[0]);
	pieces[1] = " ";
	lens[1] = 1;
	lens[2] = tw_am_pystr(&v[CT_NAME], tmp[1], &pieces[2]);
	pieces[3] = " ";
	lens[3] = 1;
	lens[4] = tw_am_pystr(&v[CT_ERR_CODE], tmp[2], &pieces[4]);
	tw_mpw_cstr(w, "message");
	tw_am_write_concat(w, pieces, lens,
	    tw_am_truthy(&v[CT_ERR_CODE]) ? 5 : 3);
	keys++;
	tw_mpw_cstr(w, "cloud");
	sub = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "provider");
	tw_mpw_cstr(w, "aws");
	k = 1 + tw_am_put(w, "account", &v[CT_ACCOUNT]);
	k += tw_am_put(w, "region", &v[CT_REGION]);
	tw_mpw_patch32(w, sub, k);
	keys++;
	put_audit(w, v);
	keys++;
	if (tw_am_truthy(&v[CT_ERR_CODE]) || tw_am_truthy(&v[CT_ERR_MSG])) {
		tw_mpw_cstr(w, "error");
		sub = tw_mpw_map32_placeholder(w);
		k = tw_am_put(w, "type", &v[CT_ERR_CODE]);
		k += tw_am_put(w, "message", &v[CT_ERR_MSG]);
		tw_mpw_patch32(w, sub, k);
		keys++;
	}
	tw_mpw_cstr(w, "fields");
	tw_am_copy(w, ev, n);
	keys++;
	tw_mpw_patch32(w, hdr, keys);
	return w->err;
}

/* A record of what could not be read as events: the text as a message. */
static int
text_record(const struct tw_parse_opts *o, struct tw_buf *scratch,
    const char *p, size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	size_t base = w->buf->len, hdr;
	uint32_t keys = 0;
	int r;

	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "time");
	tw_mpw_timestamp(w, o->now_ns);
	keys++;
	if (o->observed_time) {
		tw_mpw_cstr(w, "observed_time");
		tw_mpw_timestamp(w, o->now_ns);
		keys++;
	}
	keys += put_source(w, o, NULL);
	keys += tw_rec_message(w, scratch, p, n);
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	r = emit(arg, (const uint8_t *)w->buf->data + base,
	    w->buf->len - base);
	w->buf->len = base;
	return r;
}

/* Write one event's record and emit it; w's buffer is left as found. */
static int
emit_event(const struct tw_parse_opts *o, const struct tw_ct_source *src,
    const char *ev, size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	size_t base = w->buf->len;
	int r;

	if ((r = ct_write(o, src, ev, n, w)) == 0)
		r = emit(arg, (const uint8_t *)w->buf->data + base,
		    w->buf->len - base);
	w->buf->len = base;
	return r;
}

int
tw_cloudtrail_event_src(const struct tw_parse_opts *o,
    const struct tw_ct_source *src, const char *json, size_t n,
    struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct tw_buf clean, *b = w->buf;
	struct tw_json_opts jo;
	struct tw_mp_obj top;
	const char *text = json;
	size_t tlen = n, base = b->len, evlen, room;
	int r;

	if (w->err != 0)
		return w->err;
	if (n > CT_DOCUMENT_MAX)
		return TW_ETOOBIG;
	tw_buf_init(&clean, CT_DOCUMENT_MAX);
	if (!tw_utf8_valid(json, n)) {
		/* Rare: the one path that allocates. */
		if ((r = tw_utf8_sanitize(&clean, json, n)) != 0)
			goto out;
		text = clean.data;
		tlen = clean.len;
	}
	/* The event's msgpack goes to the end of w's buffer, the record
	 * right after it: reserve room first so that it never moves. */
	tw_json_opts_default(&jo);
	if (tw_json_to_mp(text, tlen, w, &jo, NULL) != 0 ||
	    tw_mp_path(b->data + base, b->len - base, "", &top) != 0 ||
	    top.type != TW_MP_MAP) {
		b->len = base;
		w->err = 0;
		r = text_record(o, &clean, json, n, w, emit, arg);
		goto out;
	}
	evlen = b->len - base;
	/* Each byte of the event is copied at most 4 times (fields, id,
	 * message, actor...); the rest is bounded and small. */
	room = 6 * evlen + 4096;
	if (src != NULL)
		room += src->log_group_len + src->log_stream_len;
	if ((r = tw_buf_reserve(b, room)) != 0) {
		b->len = base;
		goto out;
	}
	r = emit_event(o, src, b->data + base, evlen, w, emit, arg);
	b->len = base;
out:
	if (b->data != NULL)
		b->data[b->len] = '\0';
	tw_buf_cleanup(&clean);
	return r;
}

int
tw_cloudtrail_event(const struct tw_parse_opts *o, const char *envelope,
    const char *json, size_t n, struct tw_mpw *w, tw_emit_fn emit,
    void *arg)
{
	struct tw_ct_source src;

	memset(&src, 0, sizeof(src));
	src.envelope = envelope;
	return tw_cloudtrail_event_src(o, &src, json, n, w, emit, arg);
}

/* Each element of the Records array at rec: one record. */
static int
emit_records(struct ct_state *s, const struct tw_parse_opts *o,
    const struct tw_am_val *rec, struct tw_mpw *w, tw_emit_fn emit,
    void *arg)
{
	struct tw_ct_source src = { .envelope = "s3_records" };
	struct tw_mp_limits lim;
	struct tw_mp_reader rd;
	struct tw_mp_obj h, e;
	int r;

	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&rd, rec->p, rec->n);
	if (tw_mp_read(&rd, &h) != 0)
		return 0;
	for (uint32_t i = 0; i < h.v.count; i++) {
		struct tw_mp_reader peek = rd, one;
		const uint8_t *start = rd.p;

		if (tw_mp_read(&peek, &e) != 0)
			return 0;
		if (tw_mp_skip(&rd, &lim) != 0) {
			/* Beyond the per-record limits: skip it unchecked. */
			struct tw_mp_limits big = lim;
			big.map_max = big.array_max = CT_RECORDS_MAX;
			if (tw_mp_skip(&rd, &big) != 0)
				return 0;
			e.type = TW_MP_NIL;
		}
		if (e.type == TW_MP_MAP) {
			r = emit_event(o, &src, (const char *)start,
			    (size_t)(rd.p - start), w, emit, arg);
		} else {
			tw_buf_reset(&s->clean);
			tw_mp_reader_init(&one, start, (size_t)(rd.p - start));
			if (e.type != TW_MP_NIL &&
			    tw_json_from_mp(&s->clean, &one, &lim, 0) == 0)
				r = text_record(o, &s->scratch, s->clean.data,
				    s->clean.len, w, emit, arg);
			else
				r = 0;
		}
		if (r != 0)
			return r;
	}
	return 0;
}

/* Convert one JSON document into s->doc; 0 or the converter's error. */
static int
convert(struct ct_state *s, const char *p, size_t n)
{
	struct tw_json_opts jo;
	struct tw_mpw dw;

	tw_buf_reset(&s->doc);
	tw_mpw_init(&dw, &s->doc);
	tw_json_opts_default(&jo);
	jo.count_max = CT_RECORDS_MAX;
	jo.max_bytes = CT_DOCUMENT_MAX;
	return tw_json_to_mp(p, n, &dw, &jo, NULL);
}

/* One converted document in s->doc: S3 object, EventBridge, or event. */
static int
emit_document(struct ct_state *s, const struct tw_parse_opts *o,
    const char *p, size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct tw_am_val rec, detail, dtype;
	struct tw_mp_obj top;
	const char *d = s->doc.data;
	size_t dn = s->doc.len;

	if (tw_mp_path(d, dn, "", &top) != 0 || top.type != TW_MP_MAP)
		return text_record(o, &s->scratch, p, n, w, emit, arg);
	if (tw_am_get(d, dn, "Records", &rec) && rec.o.type == TW_MP_ARRAY)
		return emit_records(s, o, &rec, w, emit, arg);
	if (tw_am_get(d, dn, "detail", &detail) &&
	    detail.o.type == TW_MP_MAP &&
	    tw_am_get(d, dn, "detail-type", &dtype) &&
	    dtype.o.type == TW_MP_STR &&
	    memmem(dtype.o.v.s.p, dtype.o.v.s.len, "CloudTrail", 10) != NULL)
		return emit_event(o, NULL, detail.p, detail.n, w, emit, arg);
	return emit_event(o, NULL, d, dn, w, emit, arg);
}

/*
 * A whole body: a trail's S3 object {"Records":[...]} gives one record
 * per event (envelope s3_records); an EventBridge "AWS API Call via
 * CloudTrail" event or a bare event object gives one; a body of JSON
 * lines is read line by line; anything else is kept as a message.
 */
static int
ct_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct ct_state *s = state;
	const char *text = p, *nl;
	size_t tlen = n, i = 0;
	int r;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	if (i == n)
		return 0;
	if (!tw_utf8_valid(p, n)) {
		tw_buf_reset(&s->clean);
		if ((r = tw_utf8_sanitize(&s->clean, p, n)) != 0)
			return r;
		text = s->clean.data;
		tlen = s->clean.len;
	}
	if (p[i] == '{' && convert(s, text, tlen) == 0)
		return emit_document(s, o, p, n, w, emit, arg);
	if (p[i] != '{' || memchr(p + i, '\n', n - i) == NULL)
		return text_record(o, &s->scratch, p, n, w, emit, arg);
	/* JSON lines: each line on its own (the raw bytes, per line). */
	for (size_t start = 0; start < n; start = i + 1) {
		size_t end, b;

		nl = memchr(p + start, '\n', n - start);
		i = end = nl != NULL ? (size_t)(nl - p) : n;
		if (end > start && p[end - 1] == '\r')
			end--;
		for (b = start; b < end && (p[b] == ' ' || p[b] == '\t'); b++)
			;
		if (b == end)
			continue;
		if (p[b] == '{' && tw_utf8_valid(p + b, end - b) &&
		    convert(s, p + b, end - b) == 0)
			r = emit_document(s, o, p + b, end - b, w, emit, arg);
		else if (p[b] == '{' && !tw_utf8_valid(p + b, end - b))
			r = tw_cloudtrail_event_src(o, NULL, p + b, end - b, w,
			    emit, arg);
		else
			r = text_record(o, &s->scratch, p + start,
			    end - start, w, emit, arg);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Skip JSON whitespace from i. */
static size_t
skip_ws(const char *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	return i;
}

/*
 * An S3 object ({"Records":[ first), or a bare event that names its
 * eventVersion and eventSource near the start.
 */
static int
ct_detect(const char *p, size_t n)
{
	size_t i = skip_ws(p, n, 0);

	if (i == n || p[i] != '{')
		return 0;
	i = skip_ws(p, n, i + 1);
	if (n - i >= 9 && memcmp(p + i, "\"Records\"", 9) == 0) {
		i = skip_ws(p, n, i + 9);
		if (i < n && p[i] == ':')
			i = skip_ws(p, n, i + 1);
		if (i < n && p[i] == '[') {
			if (memmem(p, n, "\"eventVersion\"", 14) != NULL ||
			    memmem(p, n, "\"eventSource\"", 13) != NULL)
				return 95;
			return 60;
		}
		return 0;
	}
	if (memmem(p, n, "\"eventVersion\"", 14) != NULL &&
	    memmem(p, n, "\"eventSource\"", 13) != NULL &&
	    memmem(p, n, "\"eventName\"", 11) != NULL)
		return 75;
	return 0;
}

const struct tw_format tw_format_cloudtrail = {
	.name = "cloudtrail",
	.framing = TW_FRAMING_DOCUMENT,
	.state_new = ct_new,
	.state_free = ct_free,
	.parse = ct_parse,
	.flush = NULL,
	.detect = ct_detect,
};

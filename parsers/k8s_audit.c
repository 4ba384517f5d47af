/* k8s_audit.c: the k8s_audit_v1 format: kube-apiserver audit.k8s.io/v1 Events, one JSON object a line. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit_map.h"
#include "formats.h"
#include "json.h"
#include "timefmt.h"
#include "utf8.h"

#define K8S_LINE_MAX ((size_t)64 << 20)

struct k8s_state {
	struct tw_buf event;   /* the line's object as msgpack */
	struct tw_buf clean;   /* the line with U+FFFD, when it was not UTF-8 */
	struct tw_buf scratch; /* for tw_rec_message */
};

/* The Event fields the record lifts; index into struct k8s_event.v. */
enum {
	EV_AUDIT_ID, EV_STAGE, EV_LEVEL, EV_VERB, EV_URI, EV_USER, EV_IMP,
	EV_IPS, EV_UA, EV_OBJ, EV_STATUS, EV_ANN, EV_STAGE_TS, EV_RECV_TS,
	EV_NKEYS
};
static const char *const ev_keys[EV_NKEYS] = {
	"auditID", "stage", "level", "verb", "requestURI", "user",
	"impersonatedUser", "sourceIPs", "userAgent", "objectRef",
	"responseStatus", "annotations", "stageTimestamp",
	"requestReceivedTimestamp",
};

static int
k8s_new(const struct tw_parse_opts *o, void **state)
{
	struct k8s_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	tw_buf_init(&s->event, K8S_LINE_MAX);
	tw_buf_init(&s->clean, K8S_LINE_MAX);
	tw_buf_init(&s->scratch, K8S_LINE_MAX);
	*state = s;
	return 0;
}

static void
k8s_free(void *state)
{
	struct k8s_state *s = state;

	tw_buf_cleanup(&s->event);
	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->scratch);
	free(s);
}

/* A timestamp value as ns; false when it is not an RFC 3339 string. */
static bool
ts_value(const struct tw_am_val *v, int64_t *ns)
{
	return v->p != NULL && v->o.type == TW_MP_STR &&
	    tw_time_parse_rfc3339(v->o.v.s.p, v->o.v.s.len, ns) == 0;
}

/* Write a sub-map of the named keys of map m, renamed; the keys added. */
static uint32_t
put_submap(struct tw_mpw *w, const char *name, const struct tw_am_val *m,
    const char *const *from, const char *const *to, size_t n)
{
	struct tw_am_val v;
	uint32_t keys = 0;
	size_t hdr;

	tw_mpw_cstr(w, name);
	hdr = tw_mpw_map32_placeholder(w);
	for (size_t i = 0; i < n; i++)
		if (tw_am_sub(m, from[i], &v))
			keys += tw_am_put(w, to[i], &v);
	tw_mpw_patch32(w, hdr, keys);
	return 1;
}

/* Write the audit map (FORMATS.md §1.2, gen_k8s_audit.py normalize()). */
static void
put_audit(struct tw_mpw *w, const struct tw_am_val *v)
{
	static const char *const actor_from[] = { "username", "uid", "groups",
		"extra" };
	static const char *const actor_to[] = { "name", "uid", "groups",
		"extra" };
	static const char *const obj_from[] = { "resource", "subresource",
		"namespace", "name", "apiGroup", "apiVersion" };
	static const char *const obj_to[] = { "resource", "subresource",
		"namespace", "name", "api_group", "api_version" };
	struct tw_am_val code, x;
	const char *outcome = "unknown";
	uint32_t keys = 0;
	size_t hdr;

	tw_mpw_cstr(w, "audit");
	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "kind");
	tw_mpw_cstr(w, "k8s");
	keys++;
	keys += tw_am_put(w, "id", &v[EV_AUDIT_ID]);
	keys += tw_am_put(w, "stage", &v[EV_STAGE]);
	keys += tw_am_put(w, "level", &v[EV_LEVEL]);
	keys += tw_am_put(w, "action", &v[EV_VERB]);
	if (tw_am_sub(&v[EV_STATUS], "code", &code)) {
		if (code.o.type == TW_MP_UINT)
			outcome = code.o.v.u < 400 ? "success" : "failure";
		else if (code.o.type == TW_MP_INT)
			outcome = "success";
		else if (code.o.type == TW_MP_FLOAT)
			outcome = code.o.v.f < 400 ? "success" : "failure";
		else if (code.o.type == TW_MP_BOOL)
			outcome = "success";
	} else {
		memset(&code, 0, sizeof(code));
	}
	tw_mpw_cstr(w, "outcome");
	tw_mpw_cstr(w, outcome);
	keys++;
	keys += tw_am_put(w, "status_code", &code);
	if (v[EV_USER].p != NULL && v[EV_USER].o.type == TW_MP_MAP)
		keys += put_submap(w, "actor", &v[EV_USER], actor_from,
		    actor_to, 4);
	if (tw_am_truthy(&v[EV_IPS]) && tw_am_first(&v[EV_IPS], &x))
		keys += tw_am_put(w, "source_address", &x);
	keys += tw_am_put(w, "source_addresses", &v[EV_IPS]);
	keys += tw_am_put(w, "user_agent", &v[EV_UA]);
	if (tw_am_sub(&v[EV_ANN], "authorization.k8s.io/decision", &x))
		keys += tw_am_put(w, "decision", &x);
	if (tw_am_sub(&v[EV_STATUS], "reason", &x))
		keys += tw_am_put(w, "status_reason", &x);
	if (tw_am_sub(&v[EV_ANN], "authorization.k8s.io/reason", &x) &&
	    tw_am_truthy(&x))
		keys += tw_am_put(w, "authz_reason", &x);
	if (tw_am_truthy(&v[EV_IMP]) && v[EV_IMP].o.type == TW_MP_MAP)
		keys += put_submap(w, "impersonated", &v[EV_IMP], actor_from,
		    actor_to, 3);
	if (tw_am_truthy(&v[EV_OBJ]) && v[EV_OBJ].o.type == TW_MP_MAP)
		keys += put_submap(w, "target", &v[EV_OBJ], obj_from, obj_to,
		    6);
	tw_mpw_patch32(w, hdr, keys);
}

/*
 * One Event (msgpack map ev[0..n)) becomes one record: time from
 * stageTimestamp, id from auditID, message "verb requestURI", the audit
 * map, and the whole event as fields. raw is the line when it was not
 * UTF-8 (NULL otherwise).
 */
static int
event_record(const struct tw_parse_opts *o, const char *ev, size_t n,
    const char *raw, size_t rawlen, struct tw_mpw *w, tw_emit_fn emit,
    void *arg)
{
	struct tw_am_val v[EV_NKEYS];
	const char *pieces[3];
	size_t lens[3], base = w->buf->len, hdr;
	char tmp[2][64];
	uint32_t keys = 0;
	int64_t ns;
	int r;

	if (tw_am_index(ev, n, ev_keys, EV_NKEYS, v) != 0)
		return TW_EPARSE;
	if (!ts_value(&v[EV_STAGE_TS], &ns) && !ts_value(&v[EV_RECV_TS], &ns))
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
	keys += tw_am_put(w, "id", &v[EV_AUDIT_ID]);
	keys += tw_rec_source(w, o, "k8s_audit", "k8s_audit_v1");
	if (v[EV_VERB].p != NULL || v[EV_URI].p != NULL) {
		lens[0] = tw_am_pystr(&v[EV_VERB], tmp[0], &pieces[0]);
		pieces[1] = " ";
		lens[1] = 1;
		lens[2] = tw_am_pystr(&v[EV_URI], tmp[1], &pieces[2]);
		tw_mpw_cstr(w, "message");
		tw_am_write_concat(w, pieces, lens, 3);
		keys++;
	}
	if (raw != NULL) {
		tw_mpw_cstr(w, "raw");
		tw_mpw_bin(w, raw, rawlen);
		keys++;
	}
	put_audit(w, v);
	keys++;
	tw_mpw_cstr(w, "fields");
	tw_am_copy(w, ev, n);
	keys++;
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	r = emit(arg, (const uint8_t *)w->buf->data + base,
	    w->buf->len - base);
	w->buf->len = base;
	return r;
}

/* A line that is not a JSON object: kept as a message. */
static int
text_record(struct k8s_state *s, const struct tw_parse_opts *o,
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
	keys += tw_rec_source(w, o, "k8s_audit", "k8s_audit_v1");
	keys += tw_rec_message(w, &s->scratch, p, n);
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	r = emit(arg, (const uint8_t *)w->buf->data + base,
	    w->buf->len - base);
	w->buf->len = base;
	return r;
}

/*
 * One line: an Event object, or an EventList (the webhook backend's
 * batches) whose items each become a record; anything else is text.
 */
static int
k8s_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct k8s_state *s = state;
	struct tw_am_val kind, items;
	struct tw_json_opts jo;
	struct tw_mpw ew;
	const char *text = p, *raw = NULL;
	size_t tlen, i = 0;
	int r;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	tlen = n;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n)
		return 0;
	if (p[i] != '{')
		return text_record(s, o, p, n, w, emit, arg);
	if (!tw_utf8_valid(p, n)) {
		tw_buf_reset(&s->clean);
		if ((r = tw_utf8_sanitize(&s->clean, p, n)) != 0)
			return r;
		text = s->clean.data;
		tlen = s->clean.len;
		raw = p;
	}
	tw_buf_reset(&s->event);
	tw_mpw_init(&ew, &s->event);
	tw_json_opts_default(&jo);
	if (tw_json_to_mp(text, tlen, &ew, &jo, NULL) != 0)
		return text_record(s, o, p, n, w, emit, arg);
	if (tw_am_get(s->event.data, s->event.len, "kind", &kind) &&
	    tw_am_str_is(&kind, "EventList") &&
	    tw_am_get(s->event.data, s->event.len, "items", &items) &&
	    items.o.type == TW_MP_ARRAY) {
		struct tw_mp_limits lim;
		struct tw_mp_reader rd;
		struct tw_mp_obj h;

		tw_mp_limits_default(&lim);
		tw_mp_reader_init(&rd, items.p, items.n);
		if (tw_mp_read(&rd, &h) != 0)
			return 0;
		for (uint32_t k = 0; k < h.v.count; k++) {
			struct tw_mp_reader peek = rd;
			const uint8_t *start = rd.p;
			struct tw_mp_obj e;
			if (tw_mp_read(&peek, &e) != 0 ||
			    tw_mp_skip(&rd, &lim) != 0)
				break;
			if (e.type != TW_MP_MAP)
				continue;
			r = event_record(o, (const char *)start,
			    (size_t)(rd.p - start), raw, n, w, emit, arg);
			if (r != 0)
				return r;
		}
		return 0;
	}
	return event_record(o, s->event.data, s->event.len, raw, n, w, emit,
	    arg);
}

/* A sample whose first line is an audit.k8s.io Event (or EventList). */
static int
k8s_detect(const char *p, size_t n)
{
	const char *nl;
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	if (i == n || p[i] != '{')
		return 0;
	p += i;
	n -= i;
	if ((nl = memchr(p, '\n', n)) != NULL)
		n = (size_t)(nl - p);
	if (memmem(p, n, "\"audit.k8s.io/", 14) == NULL)
		return 0;
	if (memmem(p, n, "\"auditID\"", 9) != NULL ||
	    memmem(p, n, "\"EventList\"", 11) != NULL)
		return 90;
	return 70;
}

const struct tw_format tw_format_k8s_audit_v1 = {
	.name = "k8s_audit_v1",
	.framing = TW_FRAMING_LINES,
	.state_new = k8s_new,
	.state_free = k8s_free,
	.parse = k8s_parse,
	.flush = NULL,
	.detect = k8s_detect,
};

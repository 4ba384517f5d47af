/* gcp.c: Google Cloud LogEntry JSON lines and Pub/Sub push bodies. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "formats.h"
#include "json.h"
#include "mpval.h"
#include "utf8.h"

#define GCP_DOC_MAX ((size_t)64 << 20)
#define GCP_AUDIT_TYPE "type.googleapis.com/google.cloud.audit.AuditLog"

struct gcp_state {
	struct tw_buf doc;     /* the LogEntry as msgpack */
	struct tw_buf clean;   /* the input with U+FFFD when it was not UTF-8 */
	struct tw_buf scratch; /* for tw_rec_message */
	struct tw_buf text;    /* a message put together */
	struct tw_buf body;    /* a push body as msgpack */
	struct tw_buf data;    /* a push message's decoded data */
};

/* The LogEntry keys the record uses (REST JSON, lowerCamel). */
enum {
	E_TIMESTAMP, E_RECEIVE, E_INSERT_ID, E_LOG_NAME, E_RESOURCE,
	E_SEVERITY, E_LABELS, E_TRACE, E_SPAN_ID, E_SAMPLED, E_TEXT, E_JSON,
	E_PROTO, E_HTTP, E_N
};
static const char *const entry_keys[] = { "timestamp", "receiveTimestamp",
	"insertId", "logName", "resource", "severity", "labels", "trace",
	"spanId", "traceSampled", "textPayload", "jsonPayload", "protoPayload",
	"httpRequest", NULL };

enum { R_TYPE, R_LABELS, R_N };
static const char *const resource_keys[] = { "type", "labels", NULL };

enum {
	RL_PROJECT, RL_LOCATION, RL_REGION, RL_SERVICE, RL_FUNCTION, RL_JOB,
	RL_REVISION, RL_N
};
static const char *const resource_label_keys[] = { "project_id", "location",
	"region", "service_name", "function_name", "job_name", "revision_name",
	NULL };

enum { L_INSTANCE, L_EXECUTION, L_EXECUTION_NAME, L_N };
static const char *const label_keys[] = { "instanceId", "execution_id",
	"run.googleapis.com/execution_name", NULL };

enum {
	H_METHOD, H_URL, H_STATUS, H_AGENT, H_REMOTE, H_PROTOCOL, H_LATENCY,
	H_REQUEST_SIZE, H_RESPONSE_SIZE, H_N
};
static const char *const http_keys[] = { "requestMethod", "requestUrl",
	"status", "userAgent", "remoteIp", "protocol", "latency", "requestSize",
	"responseSize", NULL };

enum {
	P_TYPE, P_STATUS, P_AUTHN, P_REQUEST_META, P_SERVICE, P_METHOD,
	P_RESOURCE, P_N
};
static const char *const proto_keys[] = { "@type", "status",
	"authenticationInfo", "requestMetadata", "serviceName", "methodName",
	"resourceName", NULL };

/* One LogEntry, as spans into the converted document. */
struct entry {
	struct tw_mpval e[E_N];
	struct tw_mpval res[R_N];
	struct tw_mpval rl[RL_N];
	struct tw_mpval lb[L_N];
	struct tw_mpval http[H_N];
	struct tw_mpval proto[P_N];
	bool audit;
};

static int
gcp_new(const struct tw_parse_opts *o, void **state)
{
	struct gcp_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	tw_buf_init(&s->doc, GCP_DOC_MAX);
	tw_buf_init(&s->clean, GCP_DOC_MAX);
	tw_buf_init(&s->scratch, GCP_DOC_MAX);
	tw_buf_init(&s->text, GCP_DOC_MAX);
	tw_buf_init(&s->body, GCP_DOC_MAX);
	tw_buf_init(&s->data, GCP_DOC_MAX);
	*state = s;
	return 0;
}

static void
gcp_free(void *state)
{
	struct gcp_state *s = state;

	tw_buf_cleanup(&s->doc);
	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->scratch);
	tw_buf_cleanup(&s->text);
	tw_buf_cleanup(&s->body);
	tw_buf_cleanup(&s->data);
	free(s);
}

/* Convert the JSON object at p[0..n) (valid UTF-8) into out. */
static int
to_doc(struct tw_buf *out, const char *p, size_t n, struct tw_mpval *root)
{
	struct tw_mpw w;
	size_t i = 0;
	int r;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	if (i == n || (p[i] != '{' && p[i] != '['))
		return TW_EPARSE;
	tw_buf_reset(out);
	tw_mpw_init(&w, out);
	if ((r = tw_json_to_mp(p + i, n - i, &w, NULL, NULL)) != 0)
		return r;
	return tw_mpval_root(root, out->data, out->len);
}

/* LogSeverity names, exactly; DEFAULT and anything else: no level. */
static const char *
gcp_level(const struct tw_mpval *v)
{
	static const struct {
		const char *name;
		const char *level;
	} sev[] = {
		{ "DEBUG", "debug" }, { "INFO", "info" }, { "NOTICE", "info" },
		{ "WARNING", "warn" }, { "ERROR", "error" },
		{ "CRITICAL", "fatal" }, { "ALERT", "fatal" },
		{ "EMERGENCY", "fatal" },
	};

	if (!tw_mpval_is(v, TW_MP_STR))
		return NULL;
	for (size_t i = 0; i < sizeof(sev) / sizeof(sev[0]); i++)
		if (tw_mp_str_eq(&v->o, sev[i].name))
			return sev[i].level;
	return NULL;
}

/* Whether the log id (after "/logs/", %2F decoded) ends in "/word". */
static bool
log_id_ends(const char *p, size_t n, const char *word)
{
	size_t wl = strlen(word);

	if (n < wl + 1 || memcmp(p + n - wl, word, wl) != 0)
		return false;
	if (p[n - wl - 1] == '/')
		return true;
	return n >= wl + 3 && memcmp(p + n - wl - 3, "%2F", 3) == 0;
}

/* stdout or stderr from logName (".../logs/run.googleapis.com%2Fstdout"). */
static const char *
log_stream(const struct tw_mpval *v)
{
	const char *p, *logs;
	size_t n;

	if (!tw_mpval_is(v, TW_MP_STR))
		return NULL;
	p = v->o.v.s.p;
	n = v->o.v.s.len;
	if ((logs = memmem(p, n, "/logs/", 6)) != NULL) {
		n -= (size_t)(logs + 6 - p);
		p = logs + 6;
	}
	if (log_id_ends(p, n, "stdout"))
		return "stdout";
	if (log_id_ends(p, n, "stderr"))
		return "stderr";
	return NULL;
}

/*
 * The source map: kind, format, envelope, log_name, resource_type. No
 * path: a LogEntry names its own log, wherever the export was written.
 */
static uint32_t
write_source(struct tw_mpw *w, const struct tw_parse_opts *o,
    const char *kind, const char *envelope, const struct tw_mpval *log_name,
    const struct tw_mpval *resource_type)
{
	static const struct tw_mpval none;

	if (log_name == NULL)
		log_name = &none;
	if (resource_type == NULL)
		resource_type = &none;
	tw_mpw_cstr(w, "source");
	tw_mpw_map(w, 2 + (envelope != NULL) +
	    tw_mpval_present(log_name) + tw_mpval_present(resource_type));
	tw_mpw_cstr(w, "kind");
	tw_mpw_cstr(w, kind);
	tw_mpw_cstr(w, "format");
	tw_mpw_cstr(w, "gcp_logentry");
	if (envelope != NULL) {
		tw_mpw_cstr(w, "envelope");
		tw_mpw_cstr(w, envelope);
	}
	tw_mpw_kv(w, "log_name", log_name);
	tw_mpw_kv(w, "resource_type", resource_type);
	return 1;
}

/* Start a record: the header placeholder, time and observed_time. */
static size_t
record_start(struct tw_mpw *w, const struct tw_parse_opts *o, int64_t ns,
    uint32_t *keys)
{
	size_t hdr = tw_mpw_map32_placeholder(w);

	tw_mpw_cstr(w, "time");
	tw_mpw_timestamp(w, ns);
	*keys = 1;
	if (o->observed_time) {
		tw_mpw_cstr(w, "observed_time");
		tw_mpw_timestamp(w, o->now_ns);
		(*keys)++;
	}
	return hdr;
}

/* Patch the key count and hand the record over. */
static int
record_end(struct tw_mpw *w, size_t hdr, uint32_t keys, tw_emit_fn emit,
    void *arg)
{
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	return emit(arg, (const uint8_t *)w->buf->data, w->buf->len);
}

/* Bytes that are not a LogEntry: a record of their text. */
static int
gcp_text(struct gcp_state *s, const struct tw_parse_opts *o,
    const char *envelope, int64_t ns, const struct tw_mpval *id,
    const char *p, size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	uint32_t keys;
	size_t hdr;

	hdr = record_start(w, o, ns, &keys);
	if (id != NULL)
		keys += tw_mpw_kv(w, "id", id);
	keys += write_source(w, o, "faas", envelope, NULL, NULL);
	keys += tw_rec_message(w, &s->scratch, p, n);
	return record_end(w, hdr, keys, emit, arg);
}

/* httpRequest.latency ("1.203891s") in ms, rounded to 6 decimals. */
static bool
latency_ms(const struct tw_mpval *v, double *ms)
{
	char tmp[64], fixed[512], *end;
	size_t n, i = 0;
	double d;

	if (!tw_mpval_is(v, TW_MP_STR))
		return false;
	n = v->o.v.s.len;
	while (n > 0 && v->o.v.s.p[n - 1] == 's')
		n--;
	if (n == 0 || n >= sizeof(tmp) || memchr(v->o.v.s.p, 'x', n) ||
	    memchr(v->o.v.s.p, 'X', n))
		return false;
	memcpy(tmp, v->o.v.s.p, n);
	tmp[n] = '\0';
	while (tmp[i] == ' ' || tmp[i] == '\t')
		i++;
	d = strtod(tmp + i, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (end == tmp + i || *end != '\0' || !isfinite(d))
		return false;
	d *= 1000;
	if (!isfinite(d))
		return false;
	/* round(d, 6): printf rounds the exact binary value, as Python. */
	snprintf(fixed, sizeof(fixed), "%.6f", d);
	*ms = strtod(fixed, NULL);
	return true;
}

/* Python's int() of a size (decimal string or number): sign, magnitude. */
static bool
py_int(const struct tw_mpval *v, bool *neg, uint64_t *mag)
{
	const char *p;
	size_t n, i = 0;

	*neg = false;
	switch (v->p == NULL ? TW_MP_NIL : v->o.type) {
	case TW_MP_UINT:
		*mag = v->o.v.u;
		return true;
	case TW_MP_INT:
		*neg = true;
		*mag = (uint64_t)0 - (uint64_t)v->o.v.i;
		return true;
	case TW_MP_BOOL:
		*mag = v->o.v.b;
		return true;
	case TW_MP_FLOAT:
		if (!(v->o.v.f > -1.8e19 && v->o.v.f < 1.8e19))
			return false;
		*neg = v->o.v.f < 0;
		*mag = (uint64_t)(*neg ? -v->o.v.f : v->o.v.f);
		if (*mag == 0)
			*neg = false;
		return true;
	case TW_MP_STR:
		break;
	default:
		return false;
	}
	p = v->o.v.s.p;
	n = v->o.v.s.len;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
	    p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	if (i < n && (p[i] == '+' || p[i] == '-'))
		*neg = p[i++] == '-';
	if (i == n)
		return false;
	for (*mag = 0; i < n; i++) {
		uint64_t d = (uint64_t)(p[i] - '0');
		if (p[i] < '0' || p[i] > '9' || *mag > (UINT64_MAX - d) / 10)
			return false;
		*mag = *mag * 10 + d;
	}
	if (*mag == 0)
		*neg = false;
	return !*neg || *mag <= (uint64_t)INT64_MAX + 1;
}

/* Write "key": Python int() of a truthy size; 1, else 0. */
static uint32_t
write_size(struct tw_mpw *w, const char *key, const struct tw_mpval *v)
{
	uint64_t mag;
	bool neg;

	if (!tw_mpval_truthy(v) || !py_int(v, &neg, &mag))
		return 0;
	tw_mpw_cstr(w, key);
	if (neg)
		tw_mpw_int(w, (int64_t)((uint64_t)0 - mag));
	else
		tw_mpw_uint(w, mag);
	return 1;
}

/* The http map from httpRequest. */
static uint32_t
write_http(struct tw_mpw *w, const struct tw_mpval *h)
{
	size_t hdr;
	uint32_t keys = 0;
	double ms;

	tw_mpw_cstr(w, "http");
	hdr = tw_mpw_map32_placeholder(w);
	keys += tw_mpw_kv(w, "method", &h[H_METHOD]);
	keys += tw_mpw_kv(w, "url", &h[H_URL]);
	keys += tw_mpw_kv(w, "status", &h[H_STATUS]);
	keys += tw_mpw_kv(w, "user_agent", &h[H_AGENT]);
	keys += tw_mpw_kv(w, "remote_ip", &h[H_REMOTE]);
	keys += tw_mpw_kv(w, "protocol", &h[H_PROTOCOL]);
	if (tw_mpval_truthy(&h[H_LATENCY]) && latency_ms(&h[H_LATENCY], &ms)) {
		tw_mpw_cstr(w, "latency_ms");
		tw_mpw_double(w, ms);
		keys++;
	}
	keys += write_size(w, "request_bytes", &h[H_REQUEST_SIZE]);
	keys += write_size(w, "response_bytes", &h[H_RESPONSE_SIZE]);
	tw_mpw_patch32(w, hdr, keys);
	return 1;
}

/* The audit map of a Cloud Audit Log entry. */
static uint32_t
write_audit(struct tw_mpw *w, const struct entry *x)
{
	struct tw_mpval status, code, principal, meta[2];
	static const char *const meta_keys[] = { "callerIp",
		"callerSuppliedUserAgent", NULL };
	const struct tw_mpval *authn, *rmeta;
	bool failed = false;

	if (tw_mpval_truthy(&x->proto[P_STATUS])) {
		status = x->proto[P_STATUS];
		code = tw_mpval_get(&status, "code");
		failed = tw_mpval_truthy(&code);
	}
	authn = &x->proto[P_AUTHN];
	principal = tw_mpval_get(authn, "principalEmail");
	rmeta = &x->proto[P_REQUEST_META];
	tw_mpval_get_keys(rmeta, meta_keys, meta);

	tw_mpw_cstr(w, "audit");
	tw_mpw_map(w, 4 + tw_mpval_present(&x->e[E_INSERT_ID]) +
	    tw_mpval_present(&x->proto[P_METHOD]) +
	    tw_mpval_present(&meta[0]) + tw_mpval_present(&meta[1]));
	tw_mpw_cstr(w, "kind");
	tw_mpw_cstr(w, "gcp_audit");
	tw_mpw_kv(w, "id", &x->e[E_INSERT_ID]);
	tw_mpw_kv(w, "action", &x->proto[P_METHOD]);
	tw_mpw_cstr(w, "outcome");
	tw_mpw_cstr(w, failed ? "failure" : "success");
	tw_mpw_cstr(w, "actor");
	tw_mpw_map(w, tw_mpval_present(&principal));
	tw_mpw_kv(w, "name", &principal);
	tw_mpw_kv(w, "source_address", &meta[0]);
	tw_mpw_kv(w, "user_agent", &meta[1]);
	tw_mpw_cstr(w, "target");
	tw_mpw_map(w, tw_mpval_present(&x->res[R_TYPE]) +
	    tw_mpval_present(&x->proto[P_RESOURCE]));
	tw_mpw_kv(w, "type", &x->res[R_TYPE]);
	tw_mpw_kv(w, "name", &x->proto[P_RESOURCE]);
	return 1;
}

/* cloud {provider, account: the project, region: location or region}. */
static uint32_t
write_cloud(struct tw_mpw *w, const struct entry *x)
{
	const struct tw_mpval *region = tw_mpval_or(&x->rl[RL_LOCATION],
	    &x->rl[RL_REGION]);

	tw_mpw_cstr(w, "cloud");
	tw_mpw_map(w, 1 + tw_mpval_present(&x->rl[RL_PROJECT]) +
	    tw_mpval_present(region));
	tw_mpw_cstr(w, "provider");
	tw_mpw_cstr(w, "gcp");
	tw_mpw_kv(w, "account", &x->rl[RL_PROJECT]);
	tw_mpw_kv(w, "region", region);
	return 1;
}

/* The faas map of Cloud Run services and jobs and Cloud Functions. */
static uint32_t
write_faas(struct tw_mpw *w, const struct entry *x)
{
	const struct tw_mpval *name, *version, *inv, *inst;
	static const struct tw_mpval none;

	if (!tw_mpval_str_eq(&x->res[R_TYPE], "cloud_run_revision") &&
	    !tw_mpval_str_eq(&x->res[R_TYPE], "cloud_function") &&
	    !tw_mpval_str_eq(&x->res[R_TYPE], "cloud_run_job"))
		return 0;
	name = tw_mpval_or(tw_mpval_or(&x->rl[RL_SERVICE],
	    &x->rl[RL_FUNCTION]), &x->rl[RL_JOB]);
	version = tw_mpval_or(&x->rl[RL_REVISION], &none);
	inv = tw_mpval_or(&x->lb[L_EXECUTION], &x->lb[L_EXECUTION_NAME]);
	inst = &x->lb[L_INSTANCE];
	tw_mpw_cstr(w, "faas");
	tw_mpw_map(w, tw_mpval_present(name) + tw_mpval_present(version) +
	    tw_mpval_present(inv) + tw_mpval_present(inst));
	tw_mpw_kv(w, "name", name);
	tw_mpw_kv(w, "version", version);
	tw_mpw_kv(w, "invocation_id", inv);
	tw_mpw_kv(w, "instance", inst);
	return 1;
}

/* The trace map: the id is the last segment of projects/P/traces/ID. */
static uint32_t
write_trace(struct tw_mpw *w, const struct entry *x)
{
	const struct tw_mpval *t = &x->e[E_TRACE];
	const char *p, *slash;
	size_t n;

	if (!tw_mpval_is(t, TW_MP_STR) || t->o.v.s.len == 0)
		return 0;
	p = t->o.v.s.p;
	n = t->o.v.s.len;
	if ((slash = memrchr(p, '/', n)) != NULL) {
		n -= (size_t)(slash + 1 - p);
		p = slash + 1;
	}
	tw_mpw_cstr(w, "trace");
	tw_mpw_map(w, 1 + tw_mpval_present(&x->e[E_SPAN_ID]) +
	    tw_mpval_present(&x->e[E_SAMPLED]));
	tw_mpw_cstr(w, "id");
	tw_mpw_str(w, p, n);
	tw_mpw_kv(w, "span_id", &x->e[E_SPAN_ID]);
	tw_mpw_kv(w, "sampled", &x->e[E_SAMPLED]);
	return 1;
}

/* Put "a b" or "a b c" (Python str() of each) into s->text. */
static int
compose(struct tw_buf *b, const struct tw_mpval *a, const struct tw_mpval *c,
    const struct tw_mpval *d)
{
	int r;

	tw_buf_reset(b);
	if ((r = tw_mpval_append_text(b, a)) != 0 ||
	    (r = tw_buf_addc(b, ' ')) != 0 ||
	    (r = tw_mpval_append_text(b, c)) != 0)
		return r;
	if (d != NULL && ((r = tw_buf_addc(b, ' ')) != 0 ||
	    (r = tw_mpval_append_text(b, d)) != 0))
		return r;
	return 0;
}

/*
 * One LogEntry JSON object at p[0..n) (any bytes) becomes one record;
 * bytes that are not a JSON object become a text record at time ns with
 * the envelope's id (may be NULL).
 */
static int
gcp_entry(struct gcp_state *s, const struct tw_parse_opts *o,
    const char *envelope, int64_t ns, const struct tw_mpval *id,
    const char *p, size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	const struct tw_mpval *msg = NULL, *fields = NULL;
	struct tw_mpval root, jmsg;
	struct entry x;
	const char *text = p, *level, *stream;
	bool is_utf8, msg_set = false, composed = false;
	size_t tlen = n, hdr;
	uint32_t keys;
	int64_t t;

	if (!(is_utf8 = tw_utf8_valid(p, n))) {
		tw_buf_reset(&s->clean);
		if (tw_utf8_sanitize(&s->clean, p, n) != 0)
			return TW_ETOOBIG;
		text = s->clean.data;
		tlen = s->clean.len;
	}
	if (to_doc(&s->doc, text, tlen, &root) != 0 ||
	    root.o.type != TW_MP_MAP)
		return gcp_text(s, o, envelope, ns, id, p, n, w, emit, arg);

	memset(&x, 0, sizeof(x));
	tw_mpval_get_keys(&root, entry_keys, x.e);
	tw_mpval_get_keys(&x.e[E_RESOURCE], resource_keys, x.res);
	tw_mpval_get_keys(&x.res[R_LABELS], resource_label_keys, x.rl);
	tw_mpval_get_keys(&x.e[E_LABELS], label_keys, x.lb);
	if (tw_mpval_is(&x.e[E_PROTO], TW_MP_MAP)) {
		tw_mpval_get_keys(&x.e[E_PROTO], proto_keys, x.proto);
		x.audit = tw_mpval_str_eq(&x.proto[P_TYPE], GCP_AUDIT_TYPE);
	}

	/* The message: textPayload, jsonPayload.message, the request. */
	if (x.e[E_TEXT].p != NULL) {
		msg_set = true;
		if (tw_mpval_is(&x.e[E_TEXT], TW_MP_STR))
			msg = &x.e[E_TEXT];
	} else if (x.e[E_JSON].p != NULL) {
		fields = &x.e[E_JSON];
		jmsg = tw_mpval_get(fields, "message");
		if (tw_mpval_is(&jmsg, TW_MP_STR)) {
			msg = &jmsg;
			msg_set = true;
		}
	}
	if (tw_mpval_is(&x.e[E_HTTP], TW_MP_MAP) && x.e[E_HTTP].o.v.count > 0) {
		tw_mpval_get_keys(&x.e[E_HTTP], http_keys, x.http);
		if (!msg_set) {
			if (compose(&s->text, &x.http[H_METHOD],
			    &x.http[H_URL], &x.http[H_STATUS]) != 0)
				return TW_ETOOBIG;
			composed = true;
		}
	}
	if (x.audit) {
		if (compose(&s->text, &x.proto[P_SERVICE], &x.proto[P_METHOD],
		    NULL) != 0)
			return TW_ETOOBIG;
		composed = true;
		fields = &x.e[E_PROTO];
	}

	if (tw_mpval_time(&x.e[E_TIMESTAMP], &t) != 0 &&
	    tw_mpval_time(&x.e[E_RECEIVE], &t) != 0)
		t = ns;
	hdr = record_start(w, o, t, &keys);
	keys += tw_mpw_kv(w, "id", &x.e[E_INSERT_ID]);
	keys += write_source(w, o, x.audit ? "cloud_audit" : "faas", envelope,
	    &x.e[E_LOG_NAME], &x.res[R_TYPE]);
	if ((level = gcp_level(&x.e[E_SEVERITY])) != NULL) {
		tw_mpw_cstr(w, "level");
		tw_mpw_cstr(w, level);
		keys++;
	}
	if (tw_mpval_truthy(&x.e[E_LABELS]) &&
	    tw_mpval_is(&x.e[E_LABELS], TW_MP_MAP))
		keys += tw_mpw_kv(w, "labels", &x.e[E_LABELS]);
	keys += write_cloud(w, &x);
	if ((stream = log_stream(&x.e[E_LOG_NAME])) != NULL) {
		tw_mpw_cstr(w, "stream");
		tw_mpw_cstr(w, stream);
		keys++;
	}
	if (!x.audit)
		keys += write_faas(w, &x);
	keys += write_trace(w, &x);
	if (composed) {
		tw_mpw_cstr(w, "message");
		tw_mpw_str(w, s->text.data, s->text.len);
		keys++;
	} else if (msg != NULL) {
		keys += tw_mpw_kv_str(w, "message", msg);
	}
	if (!is_utf8) {
		tw_mpw_cstr(w, "raw");
		tw_mpw_bin(w, p, n);
		keys++;
	}
	if (fields != NULL)
		keys += tw_mpw_kv(w, "fields", fields);
	if (tw_mpval_is(&x.e[E_HTTP], TW_MP_MAP) && x.e[E_HTTP].o.v.count > 0)
		keys += write_http(w, x.http);
	if (x.audit)
		keys += write_audit(w, &x);
	return record_end(w, hdr, keys, emit, arg);
}

/* Whether the bytes are nothing but blanks. */
static bool
blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
		    p[i] != '\n')
			return false;
	return true;
}

/* One LogEntry per line; blank lines are no records. */
static int
gcp_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (blank(p, n))
		return 0;
	return gcp_entry(state, o, NULL, o->now_ns, NULL, p, n, w, emit,
	    arg);
}

/* Find needle in the first n bytes of p. */
static bool
has(const char *p, size_t n, const char *needle)
{
	return memmem(p, n, needle, strlen(needle)) != NULL;
}

/* A first line that is a JSON object with logName and a LogEntry key. */
static int
gcp_detect(const char *p, size_t n)
{
	const char *nl;
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	if (i == n || p[i] != '{')
		return 0;
	p += i;
	n -= i;
	if ((nl = memchr(p, '\n', n)) != NULL)
		n = (size_t)(nl - p);
	if (!has(p, n, "\"logName\""))
		return 0;
	if (has(p, n, "\"insertId\"") || has(p, n, "\"resource\"") ||
	    has(p, n, "\"receiveTimestamp\""))
		return 80;
	return 0;
}

const struct tw_format tw_format_gcp_logentry = {
	.name = "gcp_logentry",
	.framing = TW_FRAMING_LINES,
	.state_new = gcp_new,
	.state_free = gcp_free,
	.parse = gcp_parse,
	.flush = NULL,
	.detect = gcp_detect,
};

/* The keys of a push body's message. */
enum { M_DATA, M_ID, M_ID2, M_PUBLISH, M_PUBLISH2, M_N };
static const char *const message_keys[] = { "data", "messageId",
	"message_id", "publishTime", "publish_time", NULL };

/* A push message without a usable LogEntry: its envelope facts. */
static int
pubsub_bare(struct gcp_state *s, const struct tw_parse_opts *o, int64_t ns,
    const struct tw_mpval *id, const struct tw_mpval *message,
    struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	uint32_t keys;
	size_t hdr;

	hdr = record_start(w, o, ns, &keys);
	keys += tw_mpw_kv(w, "id", id);
	keys += write_source(w, o, "faas", "pubsub_push", NULL, NULL);
	keys += tw_mpw_kv(w, "fields", message);
	return record_end(w, hdr, keys, emit, arg);
}

/*
 * One push request body: {message: {data: base64(LogEntry JSON),
 * messageId, publishTime, attributes}, subscription} gives the LogEntry's
 * record; an unwrapped body (the LogEntry itself) is taken as is.
 */
static int
pubsub_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct gcp_state *s = state;
	struct tw_mpval root, message, m[M_N];
	const struct tw_mpval *id;
	const char *text = p;
	size_t tlen = n;
	struct tw_mpval none;
	int64_t ns;

	if (blank(p, n))
		return 0;
	if (!tw_utf8_valid(p, n)) {
		tw_buf_reset(&s->clean);
		if (tw_utf8_sanitize(&s->clean, p, n) != 0)
			return TW_ETOOBIG;
		text = s->clean.data;
		tlen = s->clean.len;
	}
	/* The body goes to s->body: gcp_entry reuses s->doc and s->clean. */
	if (to_doc(&s->body, text, tlen, &root) != 0 ||
	    root.o.type != TW_MP_MAP)
		return gcp_text(s, o, "pubsub_push", o->now_ns, NULL, p, n, w,
		    emit, arg);
	message = tw_mpval_get(&root, "message");
	if (!tw_mpval_is(&message, TW_MP_MAP)) {
		if (message.p == NULL && (tw_mpval_get(&root, "logName").p !=
		    NULL || tw_mpval_get(&root, "insertId").p != NULL))
			return gcp_entry(s, o, "pubsub_push", o->now_ns, NULL,
			    p, n, w, emit, arg);
		memset(&none, 0, sizeof(none));
		return pubsub_bare(s, o, o->now_ns, &none, &root, w, emit,
		    arg);
	}
	tw_mpval_get_keys(&message, message_keys, m);
	if (tw_mpval_time(&m[M_PUBLISH], &ns) != 0 &&
	    tw_mpval_time(&m[M_PUBLISH2], &ns) != 0)
		ns = o->now_ns;
	id = tw_mpval_or(&m[M_ID], &m[M_ID2]);
	tw_buf_reset(&s->data);
	if (!tw_mpval_is(&m[M_DATA], TW_MP_STR) ||
	    tw_base64_decode(&s->data, m[M_DATA].o.v.s.p,
	    m[M_DATA].o.v.s.len) != 0 || s->data.len == 0)
		return pubsub_bare(s, o, ns, id, &message, w, emit, arg);
	return gcp_entry(s, o, "pubsub_push", ns, id, s->data.data,
	    s->data.len, w, emit, arg);
}

/* A JSON object with a message and a "projects/P/subscriptions/S". */
static int
pubsub_detect(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	if (i == n || p[i] != '{')
		return 0;
	if (has(p, n, "\"subscription\"") && has(p, n, "/subscriptions/") &&
	    has(p, n, "\"message\"") &&
	    (has(p, n, "\"data\"") || has(p, n, "\"messageId\"")))
		return 85;
	return 0;
}

const struct tw_format tw_format_pubsub_push = {
	.name = "pubsub_push",
	.framing = TW_FRAMING_DOCUMENT,
	.state_new = gcp_new,
	.state_free = gcp_free,
	.parse = pubsub_parse,
	.flush = NULL,
	.detect = pubsub_detect,
};

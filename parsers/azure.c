/* azure.c: Azure Functions FunctionAppLogs in Event Hub bodies. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats.h"
#include "json.h"
#include "mpval.h"
#include "utf8.h"

#define AZURE_DOC_MAX ((size_t)64 << 20)
#define AZURE_FUNCTIONS_PREFIX "Functions."

struct azure_state {
	struct tw_buf doc;     /* the body as msgpack */
	struct tw_buf clean;   /* the body with U+FFFD, when it was not UTF-8 */
	struct tw_buf scratch; /* for tw_rec_message */
	struct tw_buf text;    /* faas.name put together; an element as JSON */
};

enum { X_TIME, X_RESOURCE_ID, X_CATEGORY, X_LOCATION, X_PROPERTIES, X_N };
static const char *const record_keys[] = { "time", "resourceId", "category",
	"location", "properties", NULL };

enum {
	P_APP, P_FUNCTION, P_INVOCATION, P_ROLE, P_MESSAGE, P_LEVEL,
	P_EXC_TYPE, P_EXC_MESSAGE, P_EXC_DETAILS, P_N
};
static const char *const property_keys[] = { "appName", "functionName",
	"functionInvocationId", "roleInstance", "message", "level",
	"exceptionType", "exceptionMessage", "exceptionDetails", NULL };

static int
azure_new(const struct tw_parse_opts *o, void **state)
{
	struct azure_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	tw_buf_init(&s->doc, AZURE_DOC_MAX);
	tw_buf_init(&s->clean, AZURE_DOC_MAX);
	tw_buf_init(&s->scratch, AZURE_DOC_MAX);
	tw_buf_init(&s->text, AZURE_DOC_MAX);
	*state = s;
	return 0;
}

static void
azure_free(void *state)
{
	struct azure_state *s = state;

	tw_buf_cleanup(&s->doc);
	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->scratch);
	tw_buf_cleanup(&s->text);
	free(s);
}

/* ASCII white space as Python's str.strip() removes it. */
static bool
is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* properties.level ("Information", "Warning", ...) normalised. */
static const char *
azure_level(const struct tw_mpval *v)
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

	if (!tw_mpval_is(v, TW_MP_STR))
		return NULL;
	p = v->o.v.s.p;
	n = v->o.v.s.len;
	while (n > 0 && is_space(*p)) {
		p++;
		n--;
	}
	while (n > 0 && is_space(p[n - 1]))
		n--;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == n &&
		    strncasecmp(words[i].word, p, n) == 0)
			return words[i].level;
	return NULL;
}

/* The subscription id of an ARM resource id "/SUBSCRIPTIONS/<id>/...". */
static bool
subscription(const struct tw_mpval *rid, const char **p, size_t *n)
{
	static const char prefix[] = "/subscriptions/";
	const size_t plen = sizeof(prefix) - 1;
	const char *s, *slash;
	size_t len;

	if (!tw_mpval_is(rid, TW_MP_STR) || rid->o.v.s.len < plen ||
	    strncasecmp(rid->o.v.s.p, prefix, plen) != 0)
		return false;
	s = rid->o.v.s.p + plen;
	len = rid->o.v.s.len - plen;
	if ((slash = memchr(s, '/', len)) != NULL)
		len = (size_t)(slash - s);
	*p = s;
	*n = len;
	return true;
}

/* The source map: kind, format, envelope, category (no path: pushed). */
static uint32_t
write_source(struct tw_mpw *w, const struct tw_parse_opts *o,
    const struct tw_mpval *category)
{
	tw_mpw_cstr(w, "source");
	tw_mpw_map(w, 3 + tw_mpval_present(category));
	tw_mpw_cstr(w, "kind");
	tw_mpw_cstr(w, "faas");
	tw_mpw_cstr(w, "format");
	tw_mpw_cstr(w, "azure_function_app_logs");
	tw_mpw_cstr(w, "envelope");
	tw_mpw_cstr(w, "eventhub");
	tw_mpw_kv(w, "category", category);
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

/* Text that is not a record (p[0..n), any bytes): a record of it. */
static int
azure_text(struct azure_state *s, const struct tw_parse_opts *o,
    const char *p, size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	static const struct tw_mpval none;
	uint32_t keys;
	size_t hdr;

	hdr = record_start(w, o, o->now_ns, &keys);
	keys += write_source(w, o, &none);
	keys += tw_rec_message(w, &s->scratch, p, n);
	return record_end(w, hdr, keys, emit, arg);
}

/*
 * faas {name, invocation_id, instance}: the name is "<appName>/<Function>"
 * (the OTel rule for Azure) or the app name alone outside functions.
 */
static uint32_t
write_faas(struct azure_state *s, struct tw_mpw *w, const struct tw_mpval *pr)
{
	const struct tw_mpval *app = &pr[P_APP], *fn = &pr[P_FUNCTION];
	const char *f = NULL;
	size_t flen = 0, plen = sizeof(AZURE_FUNCTIONS_PREFIX) - 1;
	uint32_t named;

	if (tw_mpval_is(fn, TW_MP_STR)) {
		f = fn->o.v.s.p;
		flen = fn->o.v.s.len;
		if (flen >= plen &&
		    memcmp(f, AZURE_FUNCTIONS_PREFIX, plen) == 0) {
			f += plen;
			flen -= plen;
		}
	}
	tw_buf_reset(&s->text);
	if (flen > 0) {
		/* As the reference does it: str() of whatever appName is. */
		if ((app->p != NULL && (tw_mpval_append_text(&s->text,
		    app) != 0 || tw_buf_addc(&s->text, '/') != 0)) ||
		    tw_buf_add(&s->text, f, flen) != 0)
			return 0;
		named = 1;
	} else {
		named = tw_mpval_present(app);
	}
	tw_mpw_cstr(w, "faas");
	tw_mpw_map(w, named + tw_mpval_present(&pr[P_INVOCATION]) +
	    tw_mpval_present(&pr[P_ROLE]));
	if (flen > 0) {
		tw_mpw_cstr(w, "name");
		tw_mpw_str(w, s->text.data, s->text.len);
	} else {
		tw_mpw_kv(w, "name", app);
	}
	tw_mpw_kv(w, "invocation_id", &pr[P_INVOCATION]);
	tw_mpw_kv(w, "instance", &pr[P_ROLE]);
	return 1;
}

/* cloud {provider, account: the subscription, region, resource_id}. */
static uint32_t
write_cloud(struct tw_mpw *w, const struct tw_mpval *x)
{
	const char *sub;
	size_t sublen;
	bool has_sub = subscription(&x[X_RESOURCE_ID], &sub, &sublen);

	tw_mpw_cstr(w, "cloud");
	tw_mpw_map(w, 1 + has_sub + tw_mpval_present(&x[X_LOCATION]) +
	    tw_mpval_present(&x[X_RESOURCE_ID]));
	tw_mpw_cstr(w, "provider");
	tw_mpw_cstr(w, "azure");
	if (has_sub) {
		tw_mpw_cstr(w, "account");
		tw_mpw_str(w, sub, sublen);
	}
	tw_mpw_kv(w, "region", &x[X_LOCATION]);
	tw_mpw_kv(w, "resource_id", &x[X_RESOURCE_ID]);
	return 1;
}

/* error {type, message, stack} when an exception type or message is set. */
static uint32_t
write_error(struct tw_mpw *w, const struct tw_mpval *pr)
{
	if (!tw_mpval_truthy(&pr[P_EXC_TYPE]) &&
	    !tw_mpval_truthy(&pr[P_EXC_MESSAGE]))
		return 0;
	tw_mpw_cstr(w, "error");
	tw_mpw_map(w, tw_mpval_present(&pr[P_EXC_TYPE]) +
	    tw_mpval_present(&pr[P_EXC_MESSAGE]) +
	    tw_mpval_present(&pr[P_EXC_DETAILS]));
	tw_mpw_kv(w, "type", &pr[P_EXC_TYPE]);
	tw_mpw_kv(w, "message", &pr[P_EXC_MESSAGE]);
	tw_mpw_kv(w, "stack", &pr[P_EXC_DETAILS]);
	return 1;
}

/* One element of records[] becomes one record. */
static int
azure_record(struct azure_state *s, const struct tw_parse_opts *o,
    const struct tw_mpval *rec, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	static const struct tw_mpval none;
	struct tw_mpval x[X_N], pr[P_N];
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	const char *level;
	uint32_t keys;
	size_t hdr;
	int64_t ns;

	if (tw_mpval_is(rec, TW_MP_STR))
		return azure_text(s, o, rec->o.v.s.p, rec->o.v.s.len, w, emit,
		    arg);
	if (!tw_mpval_is(rec, TW_MP_MAP)) {
		/* Not a record: keep what it says as the message. */
		tw_buf_reset(&s->text);
		tw_mp_limits_default(&lim);
		tw_mp_reader_init(&r, rec->p, rec->n);
		if (tw_json_from_mp(&s->text, &r, &lim, 0) != 0)
			return TW_ETOOBIG;
		return azure_text(s, o, s->text.data, s->text.len, w, emit,
		    arg);
	}
	tw_mpval_get_keys(rec, record_keys, x);
	tw_mpval_get_keys(&x[X_PROPERTIES], property_keys, pr);
	if (tw_mpval_time(&x[X_TIME], &ns) != 0)
		ns = o->now_ns;
	hdr = record_start(w, o, ns, &keys);
	keys += write_source(w, o, x[X_CATEGORY].p != NULL ? &x[X_CATEGORY] :
	    &none);
	keys += tw_mpw_kv_str(w, "message", &pr[P_MESSAGE]);
	if ((level = azure_level(&pr[P_LEVEL])) != NULL) {
		tw_mpw_cstr(w, "level");
		tw_mpw_cstr(w, level);
		keys++;
	}
	keys += write_cloud(w, x);
	keys += write_faas(s, w, pr);
	keys += tw_mpw_kv(w, "fields", &x[X_PROPERTIES]);
	keys += write_error(w, pr);
	return record_end(w, hdr, keys, emit, arg);
}

/*
 * One Event Hub message body: {"records": [...]} (a bare array of records
 * or a single record object are taken too), one record per element.
 */
static int
azure_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct azure_state *s = state;
	struct tw_mpval root, records, rec;
	struct tw_mp_reader r;
	struct tw_mp_obj hdr;
	struct tw_mpw dw;
	const char *text = p;
	size_t i = 0, tlen = n;
	int rc, first = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	if (i == n)
		return 0;
	if (!tw_utf8_valid(p, n)) {
		tw_buf_reset(&s->clean);
		if (tw_utf8_sanitize(&s->clean, p, n) != 0)
			return TW_ETOOBIG;
		text = s->clean.data;
		tlen = s->clean.len;
	}
	tw_buf_reset(&s->doc);
	tw_mpw_init(&dw, &s->doc);
	if ((text[i] != '{' && text[i] != '[') ||
	    tw_json_to_mp(text, tlen, &dw, NULL, NULL) != 0 ||
	    tw_mpval_root(&root, s->doc.data, s->doc.len) != 0)
		return azure_text(s, o, p, n, w, emit, arg);

	records = root;
	if (tw_mpval_is(&root, TW_MP_MAP)) {
		records = tw_mpval_get(&root, "records");
		if (!tw_mpval_is(&records, TW_MP_ARRAY))
			return azure_record(s, o, &root, w, emit, arg);
	}
	tw_mp_reader_init(&r, records.p, records.n);
	if (tw_mp_read(&r, &hdr) != 0)
		return TW_EMSGPACK;
	for (uint32_t k = 0; k < hdr.v.count; k++) {
		if (tw_mpval_root(&rec, r.p, tw_mp_remaining(&r)) != 0)
			return TW_EMSGPACK;
		r.p += rec.n;
		tw_buf_reset(w->buf);
		tw_mpw_init(w, w->buf);
		rc = azure_record(s, o, &rec, w, emit, arg);
		if (rc == TW_ETOOBIG || rc == TW_ENOMEM) {
			/* One record too big: the others still go. */
			if (first == 0)
				first = rc;
			continue;
		}
		if (rc != 0)
			return rc;
	}
	return first;
}

/* An Event Hub body of FunctionAppLogs diagnostic records. */
static int
azure_detect(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	if (i == n || p[i] != '{')
		return 0;
	if (memmem(p, n, "\"records\"", 9) == NULL)
		return 0;
	if (memmem(p, n, "FunctionAppLogs", 15) != NULL ||
	    memmem(p, n, "Microsoft.Web/sites/functions/log", 33) != NULL)
		return 85;
	return 0;
}

const struct tw_format tw_format_azure_function_app_logs = {
	.name = "azure_function_app_logs",
	.framing = TW_FRAMING_DOCUMENT,
	.state_new = azure_new,
	.state_free = azure_free,
	.parse = azure_parse,
	.flush = NULL,
	.detect = azure_detect,
};

/* parser.c: the format registry, auto-detection and shared record helpers. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "formats.h"
#include "parser.h"
#include "timefmt.h"
#include "utf8.h"

/* Records are bounded well above the agent's default 1 MiB record cap. */
#define PARSER_RECORD_MAX (16u << 20)

/* In the order auto-detection breaks ties. */
static const struct tw_format *const formats[] = {
	&tw_format_cri,
	&tw_format_docker_json,
	&tw_format_k8s_audit_v1,
	&tw_format_lambda_text,
	&tw_format_lambda_json,
	&tw_format_lambda_telemetry,
	&tw_format_firehose_cwl,
	&tw_format_gcp_logentry,
	&tw_format_pubsub_push,
	&tw_format_azure_function_app_logs,
	&tw_format_cloudtrail,
	&tw_format_auditd,
	&tw_format_rfc3164,
	&tw_format_rfc5424,
	&tw_format_syslog,
	&tw_format_klog,
	&tw_format_logfmt,
	&tw_format_nginx_combined,
	&tw_format_json,
	&tw_format_text,
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

struct tw_parser {
	const struct tw_format *format; /* NULL until auto decides */
	void *state;
	struct tw_parse_opts opts;
	char *path, *target;
	struct tw_buf rec;
};

void
tw_parse_opts_default(struct tw_parse_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->now_ns = tw_time_now_ns();
}

static const struct tw_format *
find_format(const char *name)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (strcmp(formats[i]->name, name) == 0)
			return formats[i];
	return NULL;
}

const char *const *
tw_parser_names(void)
{
	static const char *names[NFORMATS + 1];

	for (size_t i = 0; i < NFORMATS; i++)
		names[i] = formats[i]->name;
	names[NFORMATS] = NULL;
	return names;
}

const char *
tw_parser_detect(const char *p, size_t n)
{
	const char *best = "text";
	int best_score = 0, s;

	for (size_t i = 0; i < NFORMATS; i++) {
		if (formats[i]->detect == NULL)
			continue;
		if ((s = formats[i]->detect(p, n)) > best_score) {
			best_score = s;
			best = formats[i]->name;
		}
	}
	return best;
}

static int
parser_start(struct tw_parser *p, const struct tw_format *f)
{
	p->format = f;
	if (f->state_new == NULL)
		return 0;
	return f->state_new(&p->opts, &p->state);
}

struct tw_parser *
tw_parser_new(const char *name, const struct tw_parse_opts *o, char **why)
{
	const struct tw_format *f = NULL;
	struct tw_parser *p;

	if (strcmp(name, "auto") != 0 && (f = find_format(name)) == NULL) {
		if (why != NULL && (*why = malloc(256)) != NULL) {
			size_t len = (size_t)snprintf(*why, 256,
			    "unknown format '%s'; one of: auto", name);
			for (size_t i = 0; i < NFORMATS && len < 256; i++)
				len += (size_t)snprintf(*why + len, 256 - len,
				    ", %s", formats[i]->name);
		}
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto nomem;
	p->opts = *o;
	if ((o->path != NULL && (p->path = strdup(o->path)) == NULL) ||
	    (o->target != NULL && (p->target = strdup(o->target)) == NULL))
		goto nomem;
	p->opts.path = p->path;
	p->opts.target = p->target;
	tw_buf_init(&p->rec, PARSER_RECORD_MAX);
	if (f != NULL && parser_start(p, f) != 0)
		goto nomem;
	return p;
nomem:
	tw_parser_free(p);
	if (why != NULL)
		*why = strdup("out of memory");
	return NULL;
}

void
tw_parser_free(struct tw_parser *p)
{
	if (p == NULL)
		return;
	if (p->state != NULL && p->format->state_free != NULL)
		p->format->state_free(p->state);
	tw_buf_cleanup(&p->rec);
	free(p->path);
	free(p->target);
	free(p);
}

const char *
tw_parser_format(const struct tw_parser *p)
{
	return p->format != NULL ? p->format->name : NULL;
}

bool
tw_parser_is_document(const struct tw_parser *p)
{
	return p->format != NULL && p->format->framing == TW_FRAMING_DOCUMENT;
}

int
tw_parser_feed(struct tw_parser *p, const char *buf, size_t n,
    tw_emit_fn emit, void *arg)
{
	struct tw_mpw w;
	int r;

	if (p->format == NULL &&
	    (r = parser_start(p, find_format(tw_parser_detect(buf, n)))) != 0)
		return r;
	tw_buf_reset(&p->rec);
	tw_mpw_init(&w, &p->rec);
	return p->format->parse(p->state, &p->opts, buf, n, &w, emit, arg);
}

int
tw_parser_flush(struct tw_parser *p, tw_emit_fn emit, void *arg)
{
	struct tw_mpw w;

	if (p->format == NULL || p->format->flush == NULL)
		return 0;
	tw_buf_reset(&p->rec);
	tw_mpw_init(&w, &p->rec);
	return p->format->flush(p->state, &p->opts, &w, emit, arg);
}

uint32_t
tw_rec_message(struct tw_mpw *w, struct tw_buf *scratch, const char *p,
    size_t n)
{
	if (tw_utf8_valid(p, n)) {
		tw_mpw_cstr(w, "message");
		tw_mpw_str(w, p, n);
		return 1;
	}
	tw_buf_reset(scratch);
	if (tw_utf8_sanitize(scratch, p, n) != 0) {
		w->err = w->err != 0 ? w->err : TW_ETOOBIG;
		return 0;
	}
	tw_mpw_cstr(w, "message");
	tw_mpw_str(w, scratch->data, scratch->len);
	tw_mpw_cstr(w, "raw");
	tw_mpw_bin(w, p, n);
	return 2;
}

uint32_t
tw_rec_source(struct tw_mpw *w, const struct tw_parse_opts *o,
    const char *kind, const char *format)
{
	tw_mpw_cstr(w, "source");
	tw_mpw_map(w, o->path != NULL ? 3 : 2);
	tw_mpw_cstr(w, "kind");
	tw_mpw_cstr(w, kind);
	tw_mpw_cstr(w, "format");
	tw_mpw_cstr(w, format);
	if (o->path != NULL) {
		size_t n = strlen(o->path);
		tw_mpw_cstr(w, "path");
		if (tw_utf8_valid(o->path, n)) {
			tw_mpw_str(w, o->path, n);
		} else {
			/* File names are bytes; record strings are UTF-8. */
			struct tw_buf clean;
			tw_buf_init(&clean, 4 * n + 16);
			if (tw_utf8_sanitize(&clean, o->path, n) != 0)
				w->err = w->err != 0 ? w->err : TW_ENOMEM;
			else
				tw_mpw_str(w, clean.data, clean.len);
			tw_buf_cleanup(&clean);
		}
	}
	return 1;
}

const char *
tw_parse_env(const struct tw_parse_opts *o, const char *key)
{
	size_t n = strlen(key);

	if (o->env == NULL)
		return getenv(key);
	for (const char *const *e = o->env; *e != NULL; e++)
		if (strncmp(*e, key, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

const char *
tw_rec_level(const char *p, size_t n)
{
	static const struct {
		const char *word;
		const char *level;
	} words[] = {
		{ "trace", "trace" }, { "trc", "trace" },
		{ "debug", "debug" }, { "dbg", "debug" }, { "verbose", "debug" },
		{ "info", "info" }, { "inf", "info" }, { "information", "info" },
		{ "informational", "info" }, { "notice", "info" },
		{ "warn", "warn" }, { "warning", "warn" }, { "wrn", "warn" },
		{ "error", "error" }, { "err", "error" }, { "eror", "error" },
		{ "fatal", "fatal" }, { "critical", "fatal" },
		{ "crit", "fatal" }, { "panic", "fatal" },
		{ "emerg", "fatal" }, { "emergency", "fatal" },
		{ "alert", "fatal" },
	};
	/* Numeric levels of pino and bunyan. */
	static const struct {
		const char *num;
		const char *level;
	} nums[] = {
		{ "10", "trace" }, { "20", "debug" }, { "30", "info" },
		{ "40", "warn" }, { "50", "error" }, { "60", "fatal" },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == n &&
		    strncasecmp(words[i].word, p, n) == 0)
			return words[i].level;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (n == 2 && memcmp(nums[i].num, p, 2) == 0)
			return nums[i].level;
	return NULL;
}

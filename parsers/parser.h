/* parser.h: the parser interface: raw bytes in, schema-v1 msgpack records out. */
#ifndef TW_PARSER_H
#define TW_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mp.h"

/*
 * Receives each finished record (one msgpack map). The bytes are valid
 * only during the call. A nonzero return stops the parser and is returned
 * to its caller.
 */
typedef int (*tw_emit_fn)(void *arg, const uint8_t *rec, size_t len);

/* What the bytes do not say: where they came from and when. */
struct tw_parse_opts {
	const char *path;   /* the path the file is tailed as; NULL for push */
	const char *target; /* where a /var/log/containers link points */
	int64_t now_ns;     /* reference clock (RFC 3164 and klog years,
			       lines without a time) */
	bool observed_time; /* add observed_time = now_ns to every record */
	bool multiline_java;
	/* "KEY=VALUE" strings, NULL-terminated (borrowed); NULL: the
	 * process environment. lambda_telemetry reads AWS_LAMBDA_* here. */
	const char *const *env;
};

/* Defaults: no path, now = the current time, no observed_time. */
void tw_parse_opts_default(struct tw_parse_opts *o);

/* How a format takes its input. */
enum tw_framing {
	TW_FRAMING_LINES,    /* one call per line, without the newline */
	TW_FRAMING_DOCUMENT, /* one call per whole body (push envelopes) */
};

/* A format's implementation; each parsers/<format>.c defines one. */
struct tw_format {
	const char *name;
	enum tw_framing framing;
	/* Per-file (and per-stream) state; NULL for stateless formats. */
	int (*state_new)(const struct tw_parse_opts *o, void **state);
	void (*state_free)(void *state);
	/* One line or one document. */
	int (*parse)(void *state, const struct tw_parse_opts *o,
	    const char *p, size_t n, struct tw_mpw *w, tw_emit_fn emit,
	    void *arg);
	/* End of input or idle timeout: emit what is pending, incomplete. */
	int (*flush)(void *state, const struct tw_parse_opts *o,
	    struct tw_mpw *w, tw_emit_fn emit, void *arg);
	/* How sure the format is that a sample is its own: 0..100. */
	int (*detect)(const char *p, size_t n);
};

struct tw_parser;

/*
 * A parser for format NAME (a source.format value, or "auto" to decide on
 * the first input). The options are copied, strings included. NULL with
 * *why set (caller frees) when the name is unknown or memory ran out.
 */
struct tw_parser *tw_parser_new(const char *name,
    const struct tw_parse_opts *o, char **why);
void tw_parser_free(struct tw_parser *p);
/* The format in use, or NULL while "auto" has not decided yet. */
const char *tw_parser_format(const struct tw_parser *p);
/* Whether the format wants whole documents rather than lines. */
bool tw_parser_is_document(const struct tw_parser *p);

/*
 * Feed one line (without its newline) or, for document formats, one
 * whole body. Records go to emit as they complete. Returns 0, emit's
 * nonzero result, or a TW_E* code; malformed input is not an error: it
 * becomes a record with what could be parsed.
 */
int tw_parser_feed(struct tw_parser *p, const char *buf, size_t n,
    tw_emit_fn emit, void *arg);
/* End of input: emit pending partial records (marked incomplete). */
int tw_parser_flush(struct tw_parser *p, tw_emit_fn emit, void *arg);

/*
 * Pick the format of a sample (the first bytes of a file or body):
 * the name of the most confident format, "text" when none is.
 */
const char *tw_parser_detect(const char *p, size_t n);

/* Every format name, NULL-terminated. */
const char *const *tw_parser_names(void);

/* --- helpers for the format implementations --- */

/* Write "message" (always valid UTF-8) and, when the bytes were not
 * UTF-8, "raw"; returns the number of keys written. scratch is reused. */
uint32_t tw_rec_message(struct tw_mpw *w, struct tw_buf *scratch,
    const char *p, size_t n);
/* Write "source": {kind, format, path (when o->path)}; 1 key. */
uint32_t tw_rec_source(struct tw_mpw *w, const struct tw_parse_opts *o,
    const char *kind, const char *format);
/* The value of key in o->env (or the environment); NULL when unset. */
const char *tw_parse_env(const struct tw_parse_opts *o, const char *key);
/* Normalise a level word ("WARNING", "err", "30") to trace, debug, info,
 * warn, error or fatal; NULL when it is none of them. */
const char *tw_rec_level(const char *p, size_t n);

#endif

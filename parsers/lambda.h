/* lambda.h: Lambda log events to records, for the Lambda formats, firehose. */
#ifndef TW_PARSERS_LAMBDA_H
#define TW_PARSERS_LAMBDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mp.h"
#include "parser.h"

/*
 * The rules are those of FORMATS.md §5 and its generator gen_lambda.py
 * (norm_text_event, norm_json_event, apply_platform, apply_json_app):
 * absent and null values are left out, and null members of copied JSON
 * objects are dropped at every depth, as the generator's prune() does.
 * Nothing here allocates per record once the buffers have grown.
 */

/* A request id longer than this is not remembered as the current one. */
#define TW_LAMBDA_RID_MAX 256

/*
 * What one log stream (one execution environment) remembers between
 * events: the request id of the invocation in progress, between START
 * (platform.start) and REPORT (platform.report).
 */
struct tw_lambda_stream {
	uint8_t kind; /* enum tw_lambda_kind of current; ABSENT: none */
	uint32_t len;
	char current[TW_LAMBDA_RID_MAX];
};

/* A value to write, borrowed from the input or a buffer. */
enum tw_lambda_kind {
	TW_LV_ABSENT = 0,
	TW_LV_NIL,    /* present but null: not written */
	TW_LV_STR,    /* p[0..n) is UTF-8 text */
	TW_LV_MP,     /* p[0..n) is one msgpack value, copied without nulls */
	TW_LV_DOUBLE,
	TW_LV_INT,
	TW_LV_BOOL,
};

struct tw_lambda_val {
	enum tw_lambda_kind kind;
	const char *p;
	size_t n;
	double d;
	int64_t i;
	bool b;
};

/* The keys of the faas map, in the order they are written. */
enum tw_lambda_faas {
	TW_FAAS_NAME,
	TW_FAAS_VERSION,
	TW_FAAS_INSTANCE,
	TW_FAAS_INVOCATION_ID,
	TW_FAAS_COLDSTART,
	TW_FAAS_EVENT,
	TW_FAAS_STATUS,
	TW_FAAS_ERROR_TYPE,
	TW_FAAS_INIT_TYPE,
	TW_FAAS_RUNTIME_VERSION,
	TW_FAAS_DURATION_MS,
	TW_FAAS_BILLED_DURATION_MS,
	TW_FAAS_INIT_DURATION_MS,
	TW_FAAS_RESTORE_DURATION_MS,
	TW_FAAS_MEMORY_MB,
	TW_FAAS_MAX_MEMORY_USED_MB,
	TW_FAAS_PRODUCED_BYTES,
	TW_FAAS_MAX
};

/* One record being assembled; every span is borrowed until it is emitted. */
struct tw_lambda_rec {
	int64_t time_ns;
	const char *format;   /* source.format */
	const char *envelope; /* source.envelope or NULL */
	struct tw_lambda_val log_group, log_stream, id;
	struct tw_lambda_val account, region;
	struct tw_lambda_val faas[TW_FAAS_MAX];
	const char *level;
	struct tw_lambda_val message;
	struct tw_lambda_val raw;    /* STR kind, written as bin */
	const char *stream;          /* "function" / "extension" */
	bool has_error;
	struct tw_lambda_val err_type, err_message, err_stack;
	bool has_trace;
	struct tw_lambda_val trace_id, trace_span_id, trace_sampled;
	struct tw_lambda_val fields; /* MP: a map */
	bool fields_no_nil;          /* no null in fields: copied whole */
};

/* Buffers a record's derived strings live in (the caller owns them). */
struct tw_lambda_bufs {
	struct tw_buf stack;    /* error.stack, joined */
	struct tw_buf trace_id; /* trace.id converted from X-Ray */
	struct tw_buf obj;      /* a message's JSON object as msgpack */
};

void tw_lambda_bufs_init(struct tw_lambda_bufs *b);
void tw_lambda_bufs_cleanup(struct tw_lambda_bufs *b);

/* Start a record of the given source.format at time_ns: all else absent. */
void tw_lambda_rec_init(struct tw_lambda_rec *r, const char *format,
    int64_t time_ns);

/*
 * Write r (from the start of w's buffer, which is reset) and hand it to
 * emit: 0, emit's result, or w's error (TW_ETOOBIG, TW_ENOMEM).
 */
int tw_lambda_rec_emit(const struct tw_lambda_rec *r,
    const struct tw_parse_opts *o, struct tw_mpw *w, tw_emit_fn emit,
    void *arg);

/*
 * Set faas.invocation_id to rid when it is truthy and, on a report,
 * faas.coldstart (whether init_duration_ms is there); then as
 * tw_lambda_rec_emit.
 */
int tw_lambda_finish(struct tw_lambda_rec *r, const struct tw_lambda_val *rid,
    const struct tw_parse_opts *o, struct tw_mpw *w, tw_emit_fn emit,
    void *arg);

/* The stream's current request id into *v (ABSENT when there is none). */
void tw_lambda_stream_current(const struct tw_lambda_stream *st,
    struct tw_lambda_val *v);
/* Remember v as the current request id; a falsy or too long v: none. */
void tw_lambda_stream_set(struct tw_lambda_stream *st,
    const struct tw_lambda_val *v);

/*
 * A platform event object {time, type, record} (the msgpack map at
 * ev[0..n)): event, message, fields, metrics, status, trace, level into r;
 * platform.start makes record.requestId st's current request id (the
 * caller forgets it after a platform.report, once the record is out).
 * *rid gets record.requestId (ABSENT if none).
 */
void tw_lambda_platform(struct tw_lambda_rec *r, struct tw_lambda_stream *st,
    struct tw_lambda_bufs *b, const char *ev, size_t n,
    struct tw_lambda_val *rid);

/*
 * An application's JSON log object (the msgpack map at obj[0..n)):
 * fields, message, level and error into r; *rid gets its requestId.
 */
void tw_lambda_json_app(struct tw_lambda_rec *r, struct tw_lambda_bufs *b,
    const char *obj, size_t n, struct tw_lambda_val *rid);

/* The Node.js runtime's text line "ts\treqid\tLEVEL\tmessage". */
struct tw_lambda_node_line {
	const char *rid;	/* NULL for "undefined" */
	size_t rid_len;
	const char *level;	/* normalised */
	const char *text;
	size_t text_len;
};

/* Whether p[0..n) is a Node.js runtime line; fills *out when it is. */
bool tw_lambda_node_match(const char *p, size_t n,
    struct tw_lambda_node_line *out);

/* --- CloudWatch Logs events --- */

/* One CloudWatch Logs event with its subscription context (borrowed). */
struct tw_lambda_cwl_event {
	const char *owner, *group, *stream, *id, *message;
	size_t owner_len, group_len, stream_len, id_len, message_len;
	bool has_time;
	int64_t time_ns;
	const char *raw; /* the original bytes when they were not UTF-8 */
	size_t raw_len;
};

/*
 * Per-stream states of many log streams (at most 1024 remembered; a full
 * table starts over), plus scratch buffers. One per parser, not shared
 * between threads.
 */
struct tw_lambda;

struct tw_lambda *tw_lambda_new(void);
void tw_lambda_free(struct tw_lambda *l);

/*
 * One CloudWatch Logs event of a Lambda log group in the text log format
 * (norm_text_event): emitted as a lambda_text record with source.envelope
 * envelope (NULL for none). The message must be valid UTF-8. Returns 0,
 * emit's result, or TW_ETOOBIG/TW_ENOMEM.
 */
int tw_lambda_text_event(struct tw_lambda *l, const struct tw_parse_opts *o,
    const char *envelope, const struct tw_lambda_cwl_event *e,
    struct tw_mpw *w, tw_emit_fn emit, void *arg);

/* The same for the JSON log format (norm_json_event): lambda_json. */
int tw_lambda_json_event(struct tw_lambda *l, const struct tw_parse_opts *o,
    const char *envelope, const struct tw_lambda_cwl_event *e,
    struct tw_mpw *w, tw_emit_fn emit, void *arg);

/* A CloudWatch event timestamp (ms; integer, float or digit string). */
bool tw_lambda_ms_time(const struct tw_mp_obj *v, int64_t *ns);

#endif

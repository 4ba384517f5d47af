/* multiline.h: container log lines into records (partials, Java traces). */
#ifndef TW_PARSERS_MULTILINE_H
#define TW_PARSERS_MULTILINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app_json.h"
#include "buf.h"
#include "parser.h"

/*
 * A record's message keeps at most this many bytes of its content (cut at
 * a UTF-8 character boundary, the record marked "truncated": true), be it
 * one line, reassembled parts (FORMATS.md §12.1) or Java lines merged.
 */
#define TW_ML_MESSAGE_MAX ((size_t)1 << 20)
/* Pre-encoded extra keys of a record (Docker's labels) stay under this. */
#define TW_ML_EXTRA_MAX ((size_t)64 << 10)

/* The length of p[0..n) cut to at most max bytes at a character boundary. */
size_t tw_ml_cut(const char *p, size_t n, size_t max);

/* One stream's partial lines waiting for their last part. */
struct tw_ml_partial {
	struct tw_buf data; /* the parts' bytes, joined, at most the cap */
	int64_t time_ns;    /* the first part's */
	uint32_t parts;     /* 0: nothing pending */
	bool truncated;
};

void tw_ml_partial_init(struct tw_ml_partial *pp);
void tw_ml_partial_cleanup(struct tw_ml_partial *pp);
/* Forget the pending parts (after they were written). */
void tw_ml_partial_reset(struct tw_ml_partial *pp);
/*
 * Append one part; the first one gives the time. Bytes past
 * TW_ML_MESSAGE_MAX are dropped (truncated set) but the part is counted.
 * TW_ENOMEM only.
 */
int tw_ml_partial_add(struct tw_ml_partial *pp, int64_t time_ns,
    const char *p, size_t n) TW_WARN_UNUSED;

/* A record before it is written; the pointers are borrowed. */
struct tw_ml_record {
	int64_t time_ns;
	const char *stream; /* NULL: none */
	size_t stream_len;
	const char *msg; /* any bytes: made valid UTF-8, kept in raw if not */
	size_t msg_len;
	uint32_t parts;
	bool incomplete, truncated;
	const char *extra; /* extra_keys msgpack key/value pairs, or NULL */
	size_t extra_len;
	uint32_t extra_keys;
};

/* The last record, held back while Java lines may still join it. */
struct tw_ml_held {
	bool active, has_stream, has_raw, full;
	int64_t time_ns;
	struct tw_buf stream, text, raw, extra;
	uint32_t extra_keys, parts, lines;
	bool incomplete, truncated;
};

/* Per file: writes the records of one container log. Not thread-safe. */
struct tw_ml_writer {
	struct tw_buf constant; /* source, k8s and container, encoded once */
	uint32_t constant_keys;
	unsigned json_flags; /* tw_app_json_parse flags */
	bool java;	     /* o->multiline_java */
	struct tw_app_json aj;
	struct tw_buf text; /* the message as valid UTF-8 */
	struct tw_ml_held held;
};

/*
 * Set up a writer for records of source.format FORMAT (kind container)
 * read from o->path (link target o->target); JSON app lines are
 * recognised with json_flags. TW_ENOMEM; cleanup is needed either way.
 */
int tw_ml_writer_init(struct tw_ml_writer *mw, const struct tw_parse_opts *o,
    const char *format, unsigned json_flags) TW_WARN_UNUSED;
void tw_ml_writer_cleanup(struct tw_ml_writer *mw);

/*
 * Write one record through emit (the JSON app line rule applied to its
 * message), or hold it back or merge it into the held one under the Java
 * rule. w is reset before each record. Returns 0, emit's nonzero result,
 * or a TW_E* code.
 */
int tw_ml_write(struct tw_ml_writer *mw, const struct tw_parse_opts *o,
    const struct tw_ml_record *r, struct tw_mpw *w, tw_emit_fn emit,
    void *arg);

/* Write the held record, if any (end of input, idle timeout). */
int tw_ml_writer_flush(struct tw_ml_writer *mw, const struct tw_parse_opts *o,
    struct tw_mpw *w, tw_emit_fn emit, void *arg);

/*
 * Whether a message (valid UTF-8) continues a Java stack trace: Python's
 * re.match of FORMATS.md §2.6
 *   ^(\s+at |\s+\.\.\. \d+ (more|common frames omitted)|Caused by: |
 *     [\w$.]+(Exception|Error|Throwable)(: .*)?$)
 * with Unicode \s, \d and \w.
 */
bool tw_ml_java_continues(const char *p, size_t n);

#endif

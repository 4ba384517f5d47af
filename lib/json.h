/* json.h: JSON to msgpack in one streaming pass, and msgpack to JSON. */
#ifndef TW_JSON_H
#define TW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mp.h"

/*
 * Sees each top-level key whose value is a scalar, in input order (after
 * the whole conversion, or as it goes: a conversion that fails may have
 * shown some). key is the decoded key (valid UTF-8, may hold NUL bytes);
 * value is TW_MP_NIL, BOOL, UINT, INT, FLOAT or STR. Both point into
 * temporary storage valid only during the call.
 */
typedef void tw_json_top_scalar_cb(void *arg, const char *key, size_t klen,
    const struct tw_mp_obj *value);

/*
 * Like tw_json_top_scalar_cb, but may write the value to w itself (exactly
 * one msgpack value) and return 1; 0 lets the converter write it; a
 * negative TW_E* code stops the conversion with that code. key lives in
 * w's buffer: read it before writing.
 */
typedef int tw_json_top_scalar_write_cb(void *arg, struct tw_mpw *w,
    const char *key, size_t klen, const struct tw_mp_obj *value);

struct tw_json_opts {
	uint32_t depth_max; /* open containers at once; deeper is TW_EDEPTH */
	uint32_t count_max; /* map pairs, array elements; more is TW_ELIMIT */
	size_t max_bytes;   /* input longer than this is TW_ETOOBIG; 0 = none */
	bool compact;       /* rewrite container headers to their shortest */
	tw_json_top_scalar_cb *on_top_scalar;		/* optional */
	tw_json_top_scalar_write_cb *top_scalar_write;	/* optional */
	void *arg;					/* for the callbacks */
};

/*
 * Defaults: depth 32 and 65 536 pairs/elements (DESIGN.md §8, the same
 * as tw_mp_limits_default, so the output passes tw_mp_skip), 64 MiB,
 * compact, no callbacks.
 */
void tw_json_opts_default(struct tw_json_opts *o);

/*
 * Convert the one JSON value in p[0..n) (whitespace around it allowed) to
 * msgpack appended through w, in one pass and with no allocation per
 * value: a hand-written converter takes well-formed input without
 * top_scalar_write, yajl the rest (the same bytes either way). Integers that fit int64/uint64 become ints, other numbers
 * float64; strings keep \u0000 as a NUL byte; a lone surrogate escape
 * becomes U+FFFD. o may be NULL for the defaults. Errors: TW_EPARSE (not
 * JSON, trailing garbage, a number beyond float64), TW_EUTF8 (ill-formed
 * UTF-8 in a string or key: sanitise first if the input may hold it),
 * TW_EDEPTH, TW_ELIMIT, TW_ETOOBIG, TW_ENOMEM, or w->err if it was already
 * set. On error nothing is appended, and *why (if why is not NULL) gets a
 * malloc'd "... at byte N: ..." message for the caller to free (or NULL
 * if even that failed). Thread-safe for distinct w.
 */
int tw_json_to_mp(const char *p, size_t n, struct tw_mpw *w,
    const struct tw_json_opts *o, char **why) TW_WARN_UNUSED;

/* tw_json_from_mp flags. */
#define TW_JSON_TIME_RFC3339 0x01 /* timestamps as RFC 3339 strings, not ns */

/*
 * Append one msgpack value from r as compact JSON to out and move r past
 * it. Strings are escaped per RFC 8259 (", \, control characters; other
 * text raw) with ill-formed UTF-8 replaced by U+FFFD; bin becomes a
 * base64 string, a timestamp ext integer ns, another ext the base64 of its
 * payload; floats the shortest text that reads back to the same double,
 * laid out as Python's repr() (always with a '.' or exponent), NaN and
 * infinities null; a non-string map key is rendered as a string. Limits
 * (lim, NULL for tw_mp_limits_default, depth capped at 64): TW_EDEPTH,
 * TW_ELIMIT; TW_EEOF, TW_EMSGPACK
 * for bad input, TW_EUNSUPPORTED for a container used as a map key,
 * TW_ETOOBIG/TW_ENOMEM. On error out and r are unchanged.
 */
int tw_json_from_mp(struct tw_buf *out, struct tw_mp_reader *r,
    const struct tw_mp_limits *lim, unsigned flags) TW_WARN_UNUSED;

/* Append p[0..n) as a quoted, escaped JSON string (as tw_json_from_mp). */
int tw_json_add_string(struct tw_buf *out, const char *p, size_t n)
    TW_WARN_UNUSED;

/* Append a double as tw_json_from_mp renders it. */
int tw_json_add_double(struct tw_buf *out, double v) TW_WARN_UNUSED;

#endif

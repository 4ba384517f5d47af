/* value.h: record values as rules see them: string form, numbers, canonical JSON. */
#ifndef TW_VALUE_H
#define TW_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mp.h"

/*
 * A value inside a msgpack record, by reference (zero-copy): valid as long
 * as the record's bytes are. For maps and arrays body points at the first
 * element; end bounds every read.
 */
struct tw_value {
	const uint8_t *p;    /* the first byte of the encoding */
	const uint8_t *body; /* right after the header */
	const uint8_t *end;  /* the end of the buffer holding it */
	struct tw_mp_obj o;  /* the decoded header */
};

/* Canonical number text (RULES.md §7.1) needs at most this many bytes. */
#define TW_NUM_STR_MAX 40

/* Read the value at r (header only for containers); r moves past the header. */
int tw_value_read(struct tw_mp_reader *r, const uint8_t *end,
    struct tw_value *v) TW_WARN_UNUSED;

/* Move r past the whole value v was read from (r must be right after its header). */
int tw_value_skip_rest(struct tw_mp_reader *r, const struct tw_value *v)
    TW_WARN_UNUSED;

/* The length of v's whole encoding (header, payload, elements). */
int tw_value_span(const struct tw_value *v, size_t *len) TW_WARN_UNUSED;

/* Whether v is an integer (msgpack int or a timestamp, taken as ns). */
bool tw_value_int(const struct tw_value *v, int64_t *i, uint64_t *u,
    bool *neg);

/*
 * The numeric view (RULES.md §5): numbers as doubles, strings only when they
 * fully match the strict ASCII decimal grammar; false when there is none.
 */
bool tw_value_num(const struct tw_value *v, double *d);

/* The numeric view of the text s[0..n) (the string rule of tw_value_num). */
bool tw_num_parse(const char *s, size_t n, double *d);

/*
 * The string form of v: strings as they are (*s points into the record),
 * true/false, canonical numbers, canonical JSON for maps; others are
 * rendered into tmp, which is reset first. Returns 0 or a tw_buf error.
 */
int tw_value_str(const struct tw_value *v, struct tw_buf *tmp,
    const char **s, size_t *n) TW_WARN_UNUSED;

/* Canonical number text of d into buf (TW_NUM_STR_MAX bytes); NaN, Infinity. */
void tw_num_str(double d, char *buf);

/*
 * Append the canonical JSON (RULES.md §7.1: compact, keys sorted by code
 * point, last duplicate wins, numbers canonical, NaN/Inf as null) of v to
 * out. skip_key, when not NULL, is left out of a top-level map (the record
 * digest drops observed_time). Timestamps become integer ns, bin and other
 * ext the base64 of their bytes. TW_EDEPTH past 64 levels, buffer errors.
 */
int tw_value_cjson(struct tw_buf *out, const struct tw_value *v,
    const char *skip_key) TW_WARN_UNUSED;

/* Append s[0..n) as a canonical JSON string (ill-formed UTF-8 as U+FFFD). */
int tw_cjson_str(struct tw_buf *out, const char *s, size_t n) TW_WARN_UNUSED;

/* Append the canonical JSON of a double (null for NaN and infinities). */
int tw_cjson_num(struct tw_buf *out, double d) TW_WARN_UNUSED;

/*
 * Decode the JSON string literal s[0..n) (quotes included) into out, as
 * Python's json.loads: JSON escapes, surrogate pairs, raw control
 * characters refused. TW_EPARSE (a lone surrogate too), buffer errors.
 */
int tw_json_str_decode(const char *s, size_t n, struct tw_buf *out)
    TW_WARN_UNUSED;

/* ASCII-only case folding, as every i* operator uses it. */
static inline unsigned char
tw_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Whether a[0..n) and b[0..n) are equal after ASCII case folding. */
bool tw_ascii_eq(const char *a, const char *b, size_t n);

/* The first occurrence of needle in hay, ASCII case-folded when fold. */
const char *tw_memmem_fold(const char *hay, size_t hn, const char *needle,
    size_t nn, bool fold);

#endif

/* app_json.h: the "JSON app line" rule: a log line that is a JSON object. */
#ifndef TW_PARSERS_APP_JSON_H
#define TW_PARSERS_APP_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The level keys, in priority order (FORMATS.md §2.7). */
#define TW_APP_JSON_LEVEL_KEYS 4

/* Per-file state: reused for every line, never shared between threads. */
struct tw_app_json {
	struct tw_buf fields; /* the object as msgpack, after a match */
	/* The normalised level of the last occurrence of each level key. */
	const char *levels[TW_APP_JSON_LEVEL_KEYS];
};

/* tw_app_json_parse flags. */
#define TW_APP_JSON_LSTRIP 0x01 /* whitespace may precede the '{' (Docker) */

void tw_app_json_init(struct tw_app_json *aj);
void tw_app_json_cleanup(struct tw_app_json *aj);

/*
 * Whether the line p[0..n) is a JSON object: after trimming whitespace
 * (Unicode, as Python's str.strip; the leading side only with
 * TW_APP_JSON_LSTRIP) it starts with '{', ends with '}' and parses. Then
 * aj->fields holds the object as msgpack (one streaming pass) and *level
 * the normalised value of the first of level, severity, lvl, log.level
 * that has a known one (NULL when none). False for anything else,
 * including objects past the converter's depth and size limits and any
 * line that is not well-formed UTF-8: true vouches for all of p[0..n).
 */
bool tw_app_json_parse(struct tw_app_json *aj, const char *p, size_t n,
    unsigned flags, const char **level);

/*
 * The length of the whitespace character (as Python's str.isspace and
 * re's \s see it: ASCII blanks, 0x1c-0x1f, U+0085, U+00A0, U+1680,
 * U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) that starts
 * p[0..n), or 0; tw_app_json_space_end: that ends it.
 */
size_t tw_app_json_space(const char *p, size_t n);
size_t tw_app_json_space_end(const char *p, size_t n);

/*
 * The level a JSON app line's string value stands for (trace, debug,
 * info, warn, error, fatal), or NULL: the word, trimmed and compared
 * without case, against the table of FORMATS.md's reference generators.
 */
const char *tw_app_json_level(const char *p, size_t n);

#endif

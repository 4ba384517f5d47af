/* utf8.h: strict UTF-8 validation, U+FFFD replacement of ill-formed input. */
#ifndef TW_UTF8_H
#define TW_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Well-formed means RFC 3629 / Unicode table 3-7: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF. All functions are
 * pure and thread-safe.
 */

/*
 * The length (1 to 4) of the well-formed character at p[0..n), n > 0; or 0
 * when it is ill-formed, with *bad set to the length (1 to 3) of its
 * maximal subpart, the bytes one U+FFFD stands for.
 */
static inline size_t
tw_utf8_char(const char *s, size_t n, size_t *bad)
{
	const uint8_t *p = (const uint8_t *)s;
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4) {
		*bad = 1;
		return 0;
	}
	if (c < 0xe0) {
		if (n >= 2 && (p[1] & 0xc0) == 0x80)
			return 2;
		*bad = 1;
		return 0;
	}
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < 2 || p[1] < lo || p[1] > hi) {
		*bad = 1;
		return 0;
	}
	if (n < 3 || (p[2] & 0xc0) != 0x80) {
		*bad = 2;
		return 0;
	}
	if (c < 0xf0)
		return 3;
	if (n < 4 || (p[3] & 0xc0) != 0x80) {
		*bad = 3;
		return 0;
	}
	return 4;
}

/* The length of the longest well-formed prefix of p[0..n). */
size_t tw_utf8_valid_len(const char *p, size_t n);

/* Whether p[0..n) is entirely well-formed UTF-8 (ASCII runs 8 at a time). */
bool tw_utf8_valid(const char *p, size_t n);

/*
 * Append p[0..n) to out with each maximal subpart of an ill-formed
 * subsequence replaced by one U+FFFD, exactly as Python's
 * bytes.decode("utf-8", "replace"). TW_ETOOBIG/TW_ENOMEM leave out as it
 * was.
 */
int tw_utf8_sanitize(struct tw_buf *out, const char *p, size_t n)
    TW_WARN_UNUSED;

#endif

/* base64.h: RFC 4648 base64, standard alphabet, padded output, strict input. */
#ifndef TW_BASE64_H
#define TW_BASE64_H

#include <stddef.h>

#include "buf.h"

/* The length of the padded encoding of n bytes (SIZE_MAX if it overflows). */
size_t tw_base64_encoded_len(size_t n);

/*
 * The exact decoded length of p[0..n) if it is valid base64 (with or
 * without its padding); an upper bound otherwise.
 */
size_t tw_base64_decoded_len(const char *p, size_t n);

/* Append the padded base64 of p[0..n) to out; TW_ETOOBIG/TW_ENOMEM. */
int tw_base64_encode(struct tw_buf *out, const void *p, size_t n)
    TW_WARN_UNUSED;

/*
 * Append the bytes encoded by p[0..n) to out. Padding may be left out;
 * anything else that is not canonical base64 (other characters,
 * whitespace, a lone trailing character, misplaced '=', non-zero bits
 * after the last byte) is TW_EPARSE. On any error out is unchanged.
 */
int tw_base64_decode(struct tw_buf *out, const char *p, size_t n)
    TW_WARN_UNUSED;

#endif

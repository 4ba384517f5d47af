/* base64.c: RFC 4648 base64, standard alphabet, padded output, strict input. */
#include "config.h"

#include <stdint.h>

#include "base64.h"

static const char enc[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for the alphabet, 0xff for everything else (including '='). */
static const uint8_t dec[256] = {
#define X 0xff
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, 62, X, X, X, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
	X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, X,
	X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
#undef X
};

size_t
tw_base64_encoded_len(size_t n)
{
	if (n / 3 >= SIZE_MAX / 4)
		return SIZE_MAX;
	return (n + 2) / 3 * 4;
}

/* Without its padding: the padding of a whole number of quads. */
static size_t
unpadded(const char *p, size_t n)
{
	if (n % 4 == 0 && n > 0 && p[n - 1] == '=')
		n -= p[n - 2] == '=' ? 2 : 1;
	return n;
}

size_t
tw_base64_decoded_len(const char *p, size_t n)
{
	n = unpadded(p, n);
	return n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
}

int
tw_base64_encode(struct tw_buf *out, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t len = tw_base64_encoded_len(n), i = 0;
	uint32_t v;
	char *o;
	int r;

	if (len == SIZE_MAX)
		return TW_ETOOBIG;
	if ((r = tw_buf_reserve(out, len)) != 0)
		return r;
	o = out->data + out->len;
	for (; n - i >= 3; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = enc[v >> 18];
		*o++ = enc[(v >> 12) & 63];
		*o++ = enc[(v >> 6) & 63];
		*o++ = enc[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		*o++ = enc[v >> 18];
		*o++ = enc[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*o++ = enc[v >> 18];
		*o++ = enc[(v >> 12) & 63];
		*o++ = enc[(v >> 6) & 63];
		*o++ = '=';
	}
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}

int
tw_base64_decode(struct tw_buf *out, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t len = unpadded(s, n), i = 0, rest = len % 4;
	uint32_t v, a, b, c, d;
	uint8_t *o;
	int r;

	if (rest == 1)
		return TW_EPARSE;
	if ((r = tw_buf_reserve(out, tw_base64_decoded_len(s, n))) != 0)
		return r;
	o = (uint8_t *)out->data + out->len;
	for (; len - i >= 4; i += 4) {
		a = dec[p[i]];
		b = dec[p[i + 1]];
		c = dec[p[i + 2]];
		d = dec[p[i + 3]];
		if ((a | b | c | d) > 63)
			goto bad;
		v = a << 18 | b << 12 | c << 6 | d;
		*o++ = (uint8_t)(v >> 16);
		*o++ = (uint8_t)(v >> 8);
		*o++ = (uint8_t)v;
	}
	if (rest != 0) {
		a = dec[p[i]];
		b = dec[p[i + 1]];
		c = rest == 3 ? dec[p[i + 2]] : 0;
		if ((a | b | c) > 63)
			goto bad;
		v = a << 18 | b << 12 | c << 6;
		/* The bits after the last byte must be zero (canonical). */
		if ((rest == 2 && (v & 0xffff) != 0) ||
		    (rest == 3 && (v & 0xff) != 0))
			goto bad;
		*o++ = (uint8_t)(v >> 16);
		if (rest == 3)
			*o++ = (uint8_t)(v >> 8);
	}
	out->len = (size_t)((char *)o - out->data);
	out->data[out->len] = '\0';
	return 0;
bad:
	out->data[out->len] = '\0';
	return TW_EPARSE;
}

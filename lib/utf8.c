/* utf8.c: strict UTF-8 validation, U+FFFD replacement of ill-formed input. */
#include "config.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "utf8.h"

#define HIGH_BITS 0x8080808080808080ULL

size_t
tw_utf8_valid_len(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, k, bad;
	uint64_t x, y;

	while (i < n) {
		/* Log text is mostly ASCII: test 32 or 16, then 8 at once. */
#ifdef __SSE2__
		while (n - i >= 32) {
			__m128i a = _mm_loadu_si128((const void *)(p + i));
			__m128i b = _mm_loadu_si128((const void *)(p + i + 16));
			if (_mm_movemask_epi8(_mm_or_si128(a, b)) != 0)
				break;
			i += 32;
		}
#endif
		while (n - i >= 16) {
			memcpy(&x, p + i, 8);
			memcpy(&y, p + i + 8, 8);
			if (((x | y) & HIGH_BITS) != 0)
				break;
			i += 16;
		}
		if (n - i >= 8) {
			memcpy(&x, p + i, 8);
			if ((x & HIGH_BITS) == 0)
				i += 8;
		}
		while (i < n && p[i] < 0x80)
			i++;
		if (i == n)
			break;
		if ((k = tw_utf8_char(s + i, n - i, &bad)) == 0)
			return i;
		i += k;
	}
	return n;
}

bool
tw_utf8_valid(const char *p, size_t n)
{
	return tw_utf8_valid_len(p, n) == n;
}

int
tw_utf8_sanitize(struct tw_buf *out, const char *p, size_t n)
{
	static const char fffd[3] = { '\xef', '\xbf', '\xbd' };
	size_t start = out->len, k, bad = 1;
	int r = 0;

	for (;;) {
		k = tw_utf8_valid_len(p, n);
		if ((r = tw_buf_add(out, p, k)) != 0)
			goto out;
		if (k == n)
			break;
		(void)tw_utf8_char(p + k, n - k, &bad);
		if ((r = tw_buf_add(out, fffd, sizeof(fffd))) != 0)
			goto out;
		p += k + bad;
		n -= k + bad;
	}
out:
	if (r != 0 && out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	return r;
}

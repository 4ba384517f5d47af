/* ops.c: the comparison primitives of the rule operators: glob, paths, CIDR. */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "utf8.h"

#define GLOB_CLASS_MAX 256 /* code points in one [..] class */

uint32_t
tw_utf8_next(const char *s, size_t n, size_t *len)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t bad, l = tw_utf8_char(s, n, &bad);

	if (l == 0) {
		*len = 1;
		return 0xdc00u + p[0];
	}
	*len = l;
	switch (l) {
	case 1:
		return p[0];
	case 2:
		return ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
	case 3:
		return ((uint32_t)(p[0] & 0x0f) << 12) |
		    ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
	default:
		return ((uint32_t)(p[0] & 0x07) << 18) |
		    ((uint32_t)(p[1] & 0x3f) << 12) |
		    ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
	}
}

/*
 * Find the end of a class starting at pat[i] == '[' as Python's fnmatch
 * does: an optional '!', a ']' right after is literal, then up to the next
 * ']'. Returns the index of the closing ']' or pn when unclosed.
 */
static size_t
class_end(const char *pat, size_t pn, size_t i)
{
	size_t j = i + 1;

	if (j < pn && pat[j] == '!')
		j++;
	if (j < pn && pat[j] == ']')
		j++;
	while (j < pn && pat[j] != ']')
		j++;
	return j;
}

/* Whether c is in the class whose content (between [ and ]) is pat[b..e). */
static bool
class_match(const char *pat, size_t b, size_t e, uint32_t c)
{
	uint32_t cp[GLOB_CLASS_MAX];
	size_t n = 0, len, p;
	bool neg = false, in = false;

	if (b < e && pat[b] == '!') {
		neg = true;
		b++;
	}
	while (b < e && n < GLOB_CLASS_MAX) {
		cp[n++] = tw_utf8_next(pat + b, e - b, &len);
		b += len;
	}
	for (p = 0; p < n && !in;) {
		if (p + 2 < n && cp[p + 1] == '-') {
			/* An empty range (z-a) matches nothing. */
			in = c >= cp[p] && c <= cp[p + 2];
			p += 3;
		} else {
			in = c == cp[p];
			p++;
		}
	}
	return in != neg;
}

bool
tw_glob_match(const char *pat, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0, len, ce;
	uint32_t c;

	while (si < sn || pi < pn) {
		if (pi < pn) {
			char pc = pat[pi];

			if (pc == '*') {
				while (pi < pn && pat[pi] == '*')
					pi++;
				star_p = pi;
				star_s = si;
				continue;
			}
			if (si < sn) {
				c = tw_utf8_next(s + si, sn - si, &len);
				if (pc == '?') {
					pi++;
					si += len;
					continue;
				}
				if (pc == '[' && (ce = class_end(pat, pn, pi)) < pn) {
					if (class_match(pat, pi + 1, ce, c)) {
						pi = ce + 1;
						si += len;
						continue;
					}
				} else {
					size_t plen;
					uint32_t p = tw_utf8_next(pat + pi, pn - pi,
					    &plen);

					if (p == c) {
						pi += plen;
						si += len;
						continue;
					}
				}
			}
		}
		/* Mismatch: let the last * take one more character. */
		if (star_p == (size_t)-1 || star_s >= sn)
			return false;
		tw_utf8_next(s + star_s, sn - star_s, &len);
		star_s += len;
		si = star_s;
		pi = star_p;
	}
	return true;
}

void
tw_glob_runs(const char *pat, size_t pn,
    void (*fn)(void *arg, const char *run, size_t n), void *arg)
{
	size_t i = 0, start = 0, ce;

	while (i < pn) {
		if (pat[i] == '*' || pat[i] == '?' ||
		    (pat[i] == '[' && (ce = class_end(pat, pn, i)) < pn)) {
			if (i > start)
				fn(arg, pat + start, i - start);
			i = pat[i] == '[' ? class_end(pat, pn, i) + 1 : i + 1;
			start = i;
			continue;
		}
		i++;
	}
	if (i > start)
		fn(arg, pat + start, i - start);
}

int
tw_pnorm(const char *s, size_t n, struct tw_buf *out)
{
	size_t *starts = NULL, *lens = NULL, np = 0, i = 0;
	bool absolute = n > 0 && s[0] == '/';
	int r = 0;

	tw_buf_reset(out);
	if (n > 0 && ((starts = malloc((n / 2 + 1) * sizeof(*starts))) ==
	    NULL || (lens = malloc((n / 2 + 1) * sizeof(*lens))) == NULL)) {
		r = TW_ENOMEM;
		goto out;
	}
	while (i <= n) {
		size_t j = i;

		while (j < n && s[j] != '/')
			j++;
		if (j == i || (j - i == 1 && s[i] == '.')) {
			/* an empty or "." segment */
		} else if (j - i == 2 && s[i] == '.' && s[i + 1] == '.') {
			if (np > 0 && !(lens[np - 1] == 2 &&
			    s[starts[np - 1]] == '.' && s[starts[np - 1] + 1] == '.'))
				np--;
			else if (!absolute) {
				starts[np] = i;
				lens[np++] = 2;
			}
		} else {
			starts[np] = i;
			lens[np++] = j - i;
		}
		i = j + 1;
	}
	if (absolute)
		r = tw_buf_addc(out, '/');
	for (i = 0; r == 0 && i < np; i++) {
		if (i > 0)
			r = tw_buf_addc(out, '/');
		if (r == 0)
			r = tw_buf_add(out, s + starts[i], lens[i]);
	}
	if (r == 0 && !absolute && np == 0)
		r = tw_buf_addc(out, '.');
	if (r == 0 && out->data == NULL)
		r = tw_buf_add(out, "", 0);
out:
	free(starts);
	free(lens);
	return r;
}

bool
tw_pmatch(const char *a, size_t an, const char *lit, size_t ln, bool prefix)
{
	if (an == ln && memcmp(a, lit, an) == 0)
		return true;
	if (!prefix || (ln == 1 && lit[0] == '/'))
		return false;
	return an > ln && memcmp(a, lit, ln) == 0 && a[ln] == '/';
}

static bool
all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* The prefix length of a contiguous IPv4 mask, or -1. */
static int
mask_prefix(uint32_t m)
{
	int p = 0;

	while (p < 32 && (m & (0x80000000u >> p)) != 0)
		p++;
	if (p < 32 && (m << p) != 0)
		return -1;
	return p;
}

static bool
parse_addr(const char *s, size_t n, struct tw_net *out)
{
	char t[64];

	if (n == 0 || n >= sizeof(t) || memchr(s, '\0', n) != NULL)
		return false;
	memcpy(t, s, n);
	t[n] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, t, out->addr) == 1) {
		out->family = 4;
		out->prefix = 32;
		return true;
	}
	if (inet_pton(AF_INET6, t, out->addr) == 1) {
		out->family = 6;
		out->prefix = 128;
		return true;
	}
	return false;
}

static bool
v4_mapped(const uint8_t *a)
{
	static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	return memcmp(a, pre, 12) == 0;
}

static void
apply_prefix(struct tw_net *n)
{
	int bytes = n->family == 4 ? 4 : 16;

	for (int i = 0; i < bytes; i++) {
		int keep = n->prefix - i * 8;

		if (keep <= 0)
			n->addr[i] = 0;
		else if (keep < 8)
			n->addr[i] &= (uint8_t)(0xff << (8 - keep));
	}
}

bool
tw_net_parse(const char *s, size_t n, struct tw_net *out)
{
	const char *slash;
	struct tw_net m;
	size_t an;

	if (memchr(s, '%', n) != NULL)
		return false;
	slash = memchr(s, '/', n);
	an = slash != NULL ? (size_t)(slash - s) : n;
	if (!parse_addr(s, an, out))
		return false;
	if (slash != NULL) {
		const char *pfx = slash + 1;
		size_t pn = n - an - 1;
		int maxp = out->family == 4 ? 32 : 128;
		long v;

		if (memchr(pfx, '/', pn) != NULL)
			return false;
		if (all_digits(pfx, pn)) {
			v = 0;
			for (size_t i = 0; i < pn && v <= maxp; i++)
				v = v * 10 + (pfx[i] - '0');
			if (v > maxp)
				return false;
			out->prefix = (int)v;
		} else if (out->family == 4 && parse_addr(pfx, pn, &m) &&
		    m.family == 4) {
			uint32_t mm = ((uint32_t)m.addr[0] << 24) |
			    ((uint32_t)m.addr[1] << 16) |
			    ((uint32_t)m.addr[2] << 8) | m.addr[3];
			int p = mask_prefix(mm);

			if (p < 0 && (p = mask_prefix(~mm)) < 0)
				return false;
			out->prefix = p;
		} else
			return false;
		out->is_net = true;
		apply_prefix(out);
		if (out->family == 6 && v4_mapped(out->addr) &&
		    out->prefix >= 96) {
			memmove(out->addr, out->addr + 12, 4);
			memset(out->addr + 4, 0, 12);
			out->family = 4;
			out->prefix -= 96;
		}
		return true;
	}
	if (out->family == 6 && v4_mapped(out->addr)) {
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->family = 4;
		out->prefix = 32;
	}
	return true;
}

bool
tw_net_inside(const struct tw_net *v, const struct tw_net *lit)
{
	struct tw_net t;

	if (v->family != lit->family || v->prefix < lit->prefix)
		return false;
	t = *v;
	t.prefix = lit->prefix;
	apply_prefix(&t);
	return memcmp(t.addr, lit->addr, v->family == 4 ? 4 : 16) == 0;
}

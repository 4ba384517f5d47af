/* json.c: JSON to msgpack in one streaming pass, and msgpack to JSON. */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base64.h"
#include "json.h"
#include "timefmt.h"
#include "utf8.h"

/* Hard caps on nesting: the fixed stacks below, whatever the options say. */
#define JSON_DEPTH_CAP 64
/* yajl's handle, lexer, state stack and first string buffer fit in this. */
#define ARENA_SIZE 4096
#define ARENA_ALIGN 16

#define HIGH_BITS 0x8080808080808080ULL
#define ONES 0x0101010101010101ULL

/* --- a bump allocator for yajl, so a conversion needs no malloc --- */

/*
 * Blocks are an ARENA_ALIGN-byte header holding the capacity, then the
 * data. Only the last block can grow in place or be given back; what does
 * not fit goes to malloc.
 */
struct arena {
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char mem[ARENA_SIZE];
};

static size_t
arena_round(size_t sz)
{
	return (sz + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static bool
arena_owns(const struct arena *a, const void *p)
{
	uintptr_t u = (uintptr_t)p, base = (uintptr_t)a->mem;

	return u >= base && u < base + ARENA_SIZE;
}

static size_t
arena_cap(const void *p)
{
	size_t cap;

	memcpy(&cap, (const unsigned char *)p - ARENA_ALIGN, sizeof(cap));
	return cap;
}

static bool
arena_is_last(const struct arena *a, const void *p)
{
	return (const unsigned char *)p + arena_cap(p) == a->mem + a->used;
}

static void *
arena_malloc(void *ctx, size_t sz)
{
	struct arena *a = ctx;
	unsigned char *b;
	size_t cap;

	if (sz <= ARENA_SIZE - ARENA_ALIGN) {
		cap = arena_round(sz);
		if (cap + ARENA_ALIGN <= ARENA_SIZE - a->used) {
			b = a->mem + a->used;
			memcpy(b, &cap, sizeof(cap));
			a->used += ARENA_ALIGN + cap;
			return b + ARENA_ALIGN;
		}
	}
	return malloc(sz);
}

static void
arena_free(void *ctx, void *p)
{
	struct arena *a = ctx;

	if (p == NULL)
		return;
	if (!arena_owns(a, p)) {
		free(p);
		return;
	}
	if (arena_is_last(a, p))
		a->used -= ARENA_ALIGN + arena_cap(p);
}

static void *
arena_realloc(void *ctx, void *p, size_t sz)
{
	struct arena *a = ctx;
	size_t cap, want;
	void *q;

	if (p == NULL)
		return arena_malloc(ctx, sz);
	if (!arena_owns(a, p))
		return realloc(p, sz);
	cap = arena_cap(p);
	if (sz <= cap)
		return p;
	want = arena_round(sz);
	if (arena_is_last(a, p) && sz <= ARENA_SIZE &&
	    want - cap <= ARENA_SIZE - a->used) {
		memcpy((unsigned char *)p - ARENA_ALIGN, &want, sizeof(want));
		a->used += want - cap;
		return p;
	}
	if ((q = arena_malloc(ctx, sz)) == NULL)
		return NULL;
	memcpy(q, p, cap);
	arena_free(ctx, p);
	return q;
}

/* --- JSON to msgpack --- */

struct frame {
	size_t off;	/* of the 32-bit placeholder header */
	uint32_t count;
	bool map;
};

struct conv {
	struct tw_mpw *w;
	const struct tw_json_opts *o;
	yajl_handle h;
	const char *in;
	size_t n;
	size_t start;		/* w->buf->len on entry */
	uint32_t depth;		/* open containers */
	uint32_t depth_max;
	bool finishing;		/* in yajl_complete_parse */
	int err;
	const char *what;
	char what_buf[80];
	size_t err_off;
	size_t key_off, key_len; /* the current top-level key, in the output */
	struct tw_buf scratch;	/* re-decoded strings (rare) */
	struct frame st[JSON_DEPTH_CAP];
	struct arena arena;
};

void
tw_json_opts_default(struct tw_json_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->depth_max = 32;
	o->count_max = 65536;
	o->max_bytes = (size_t)64 << 20;
	o->compact = true;
}

/* Record the first error and stop yajl (callbacks return 0 to cancel). */
static int
fail(struct conv *c, int err, const char *what)
{
	if (c->err == 0) {
		c->err = err;
		c->what = what;
		c->err_off = c->finishing ? c->n :
		    yajl_get_bytes_consumed(c->h);
	}
	return 0;
}

static int
written(struct conv *c)
{
	if (c->w->err != 0)
		return fail(c, c->w->err, "output too big");
	return 1;
}

/* Count a value about to be written in its array. */
static int
value_begins(struct conv *c)
{
	struct frame *f;

	if (c->depth == 0)
		return 1;
	f = &c->st[c->depth - 1];
	if (!f->map) {
		if (f->count >= c->o->count_max)
			return fail(c, TW_ELIMIT, "too many array elements");
		f->count++;
	}
	return 1;
}

static bool
wants_top_scalar(const struct conv *c)
{
	return c->depth == 1 && c->st[0].map &&
	    (c->o->on_top_scalar != NULL || c->o->top_scalar_write != NULL);
}

/* Write a scalar, through the callbacks for a top-level one. */
static int
scalar(struct conv *c, const struct tw_mp_obj *v)
{
	const char *key;
	int r;

	if (wants_top_scalar(c)) {
		key = c->w->buf->data + c->key_off;
		if (c->o->on_top_scalar != NULL)
			c->o->on_top_scalar(c->o->arg, key, c->key_len, v);
		if (c->o->top_scalar_write != NULL) {
			r = c->o->top_scalar_write(c->o->arg, c->w, key,
			    c->key_len, v);
			if (r < 0) {
				snprintf(c->what_buf, sizeof(c->what_buf),
				    "bad value for top-level key \"%.*s\"",
				    c->key_len > 40 ? 40 : (int)c->key_len,
				    c->w->buf->data + c->key_off);
				return fail(c, r, c->what_buf);
			}
			if (r > 0)
				return written(c);
		}
	}
	switch (v->type) {
	case TW_MP_NIL:
		tw_mpw_nil(c->w);
		break;
	case TW_MP_BOOL:
		tw_mpw_bool(c->w, v->v.b);
		break;
	case TW_MP_UINT:
		tw_mpw_uint(c->w, v->v.u);
		break;
	case TW_MP_INT:
		tw_mpw_int(c->w, v->v.i);
		break;
	case TW_MP_FLOAT:
		tw_mpw_double(c->w, v->v.f);
		break;
	case TW_MP_STR:
		tw_mpw_str(c->w, v->v.s.p, v->v.s.len);
		break;
	default:
		return fail(c, TW_EINTERNAL, "internal error");
	}
	return written(c);
}

static int
cb_null(void *ctx)
{
	struct conv *c = ctx;
	struct tw_mp_obj v = { .type = TW_MP_NIL };

	return value_begins(c) && scalar(c, &v);
}

static int
cb_boolean(void *ctx, int b)
{
	struct conv *c = ctx;
	struct tw_mp_obj v = { .type = TW_MP_BOOL, .v.b = b != 0 };

	return value_begins(c) && scalar(c, &v);
}

/*
 * A JSON number (grammar already checked) that is m * 10^e with m < 2^53
 * and |e| <= 22: both are exact doubles, so one multiplication or division
 * rounds once, correctly, to what strtod returns (Clinger's fast path).
 * False for everything else.
 */
static bool
exact_double(const char *s, size_t n, double *out)
{
	static const double pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21,
		1e22,
	};
	size_t i = 0;
	uint64_t m = 0;
	int digits = 0, e = 0, x = 0;
	bool neg = false, eneg = false, seen = false;
	double d;

	if (i < n && s[i] == '-') {
		neg = true;
		i++;
	}
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (m != 0 || s[i] != '0')
			digits++;
		m = m * 10 + (uint64_t)(s[i] - '0');
		if (digits > 19)
			return false;
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (m != 0 || s[i] != '0')
				digits++;
			if (digits > 19)
				return false;
			m = m * 10 + (uint64_t)(s[i] - '0');
			e--;
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (x > 10000)
				return false;
			x = x * 10 + (s[i] - '0');
			seen = true;
		}
		if (!seen)
			return false;
		e += eneg ? -x : x;
	}
	if (i != n || m > ((uint64_t)1 << 53))
		return false;
	if (m == 0) {
		*out = neg ? -0.0 : 0.0;
		return true;
	}
	if (e < -22 || e > 22)
		return false;
	d = (double)m;
	d = e < 0 ? d / pow10[-e] : d * pow10[e];
	*out = neg ? -d : d;
	return true;
}

/* A JSON number's text to an int, a uint or (if neither fits) a double. */
static int
parse_number(const char *s, size_t n, struct tw_mp_obj *v)
{
	char small[128], *t = small;
	bool neg = n > 0 && s[0] == '-';
	uint64_t u = 0;
	size_t i;
	unsigned d;

	for (i = neg; i < n; i++) {
		d = (unsigned)(s[i] - '0');
		if (d > 9 || u > (UINT64_MAX - d) / 10)
			break;
		u = u * 10 + d;
	}
	if (i == n && n > (size_t)neg) {
		if (!neg || u == 0) {
			v->type = TW_MP_UINT;
			v->v.u = u;
			return 0;
		}
		if (u <= (uint64_t)INT64_MAX + 1) {
			v->type = TW_MP_INT;
			v->v.i = -(int64_t)(u - 1) - 1;
			return 0;
		}
	}
	if (exact_double(s, n, &v->v.f)) {
		v->type = TW_MP_FLOAT;
		return 0;
	}
	/* strtod wants a terminated string; the token may end the input. */
	if (n >= sizeof(small) && (t = malloc(n + 1)) == NULL)
		return TW_ENOMEM;
	memcpy(t, s, n);
	t[n] = '\0';
	v->type = TW_MP_FLOAT;
	v->v.f = strtod(t, NULL);
	if (t != small)
		free(t);
	return isinf(v->v.f) ? TW_EPARSE : 0;
}

static int
cb_number(void *ctx, const char *s, size_t n)
{
	struct conv *c = ctx;
	struct tw_mp_obj v;
	int r;

	if (!value_begins(c))
		return 0;
	if ((r = parse_number(s, n, &v)) != 0)
		return fail(c, r, "number out of range");
	return scalar(c, &v);
}

static uint32_t
hex4(const char *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char ch = p[i];
		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v |= (uint32_t)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v |= (uint32_t)(ch - 'A' + 10);
		else
			return UINT32_MAX;
	}
	return v;
}

static size_t
utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode the raw text of a JSON string (between its quotes, already
 * checked by a lexer) into dst, which has room for n bytes (the decoded
 * text is never longer): surrogate pairs combine, a lone surrogate becomes
 * U+FFFD, raw text must be well-formed UTF-8. *len gets the length.
 * TW_EUTF8, TW_EPARSE.
 */
static int
decode_into(char *dst, const char *p, size_t n, size_t *len)
{
	const char *bs;
	char *o = dst;
	size_t i = 0, run;
	uint32_t cp, lo;

	while (i < n) {
		bs = memchr(p + i, '\\', n - i);
		run = bs != NULL ? (size_t)(bs - (p + i)) : n - i;
		if (!tw_utf8_valid(p + i, run))
			return TW_EUTF8;
		memcpy(o, p + i, run);
		o += run;
		if ((i += run) == n)
			break;
		if (n - i < 2)
			return TW_EPARSE;
		switch (p[i + 1]) {
		case '"':
		case '\\':
		case '/':
			cp = (uint8_t)p[i + 1];
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (n - i < 6 || (cp = hex4(p + i + 2)) == UINT32_MAX)
				return TW_EPARSE;
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && n - i >= 8 &&
			    p[i + 2] == '\\' && p[i + 3] == 'u' &&
			    (lo = hex4(p + i + 4)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				cp = 0xfffd;
			}
			break;
		default:
			return TW_EPARSE;
		}
		i += 2;
		o += utf8_put(o, cp);
	}
	*len = (size_t)(o - dst);
	return 0;
}

/* decode_into, appending to out. */
static int
decode_raw(struct tw_buf *out, const char *p, size_t n)
{
	size_t len;
	int r;

	if ((r = tw_buf_reserve(out, n)) != 0 ||
	    (r = decode_into(out->data + out->len, p, n, &len)) != 0)
		return r;
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}

/*
 * yajl's \u decoding is wrong for surrogates: a lone high one becomes '?'
 * and eats the next character, a lone low one comes out as (ill-formed)
 * CESU-8 bytes, and any \u after a high one is taken as its low half. The
 * damage always shows as a '?', a 4-byte sequence or ill-formed UTF-8.
 */
static bool
suspicious(const char *p, size_t n)
{
	size_t i = 0, k, bad;
	uint64_t x;

	if (memchr(p, '?', n) != NULL)
		return true;
	while (i < n) {
		while (n - i >= 8) {
			memcpy(&x, p + i, 8);
			if ((x & HIGH_BITS) != 0)
				break;
			i += 8;
		}
		while (i < n && (uint8_t)p[i] < 0x80)
			i++;
		if (i == n)
			break;
		if ((k = tw_utf8_char(p + i, n - i, &bad)) == 0 || k == 4)
			return true;
		i += k;
	}
	return false;
}

/*
 * Check a string or key from yajl, re-decoding it from the input when
 * yajl may have got it wrong (then *p points into c->scratch).
 */
static int
check_string(struct conv *c, const char **p, size_t *len)
{
	uintptr_t a = (uintptr_t)*p, base = (uintptr_t)c->in;
	size_t end, open, k;
	int r;

	if (a >= base && a - base <= c->n) {
		/* No escapes: yajl hands out a span of the input. */
		if (tw_utf8_valid(*p, *len))
			return 0;
		fail(c, TW_EUTF8, "invalid UTF-8 in a string");
		return -1;
	}
	if (!suspicious(*p, *len))
		return 0;
	/* The lexer stopped just after the closing quote. */
	end = yajl_get_bytes_consumed(c->h);
	if (end < 2 || end > c->n || c->in[end - 1] != '"')
		goto lost;
	/* The opening quote is the first one back not itself escaped. */
	for (open = end - 2;; open--) {
		if (c->in[open] == '"') {
			k = 0;
			while (k < open && c->in[open - 1 - k] == '\\')
				k++;
			if (k % 2 == 0)
				break;
		}
		if (open == 0)
			goto lost;
	}
	tw_buf_reset(&c->scratch);
	if ((r = decode_raw(&c->scratch, c->in + open + 1,
	    end - 2 - open)) != 0) {
		fail(c, r, r == TW_EUTF8 ? "invalid UTF-8 in a string" :
		    "bad string");
		return -1;
	}
	*p = c->scratch.data;
	*len = c->scratch.len;
	return 0;
lost:
	fail(c, TW_EINTERNAL, "cannot find a string in the input");
	return -1;
}

static int
cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct conv *c = ctx;
	const char *p = (const char *)s;
	struct tw_mp_obj v;

	if (!value_begins(c) || check_string(c, &p, &len) != 0)
		return 0;
	if (len > UINT32_MAX)
		return fail(c, TW_ETOOBIG, "string too long");
	v.type = TW_MP_STR;
	v.v.s.p = p;
	v.v.s.len = (uint32_t)len;
	return scalar(c, &v);
}

static int
cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct conv *c = ctx;
	struct frame *f = &c->st[c->depth - 1];
	const char *p = (const char *)s;

	if (f->count >= c->o->count_max)
		return fail(c, TW_ELIMIT, "too many keys");
	f->count++;
	if (check_string(c, &p, &len) != 0)
		return 0;
	tw_mpw_str(c->w, p, len);
	if (c->depth == 1 && c->w->err == 0) {
		c->key_off = c->w->buf->len - len;
		c->key_len = len;
	}
	return written(c);
}

static int
open_container(struct conv *c, bool map)
{
	struct frame *f;

	if (!value_begins(c))
		return 0;
	if (c->depth >= c->depth_max)
		return fail(c, TW_EDEPTH, "nesting too deep");
	f = &c->st[c->depth++];
	f->map = map;
	f->count = 0;
	f->off = map ? tw_mpw_map32_placeholder(c->w) :
	    tw_mpw_array32_placeholder(c->w);
	return written(c);
}

static int
close_container(struct conv *c)
{
	struct frame *f = &c->st[--c->depth];

	tw_mpw_patch32(c->w, f->off, f->count);
	return written(c);
}

static int
cb_start_map(void *ctx)
{
	return open_container(ctx, true);
}

static int
cb_start_array(void *ctx)
{
	return open_container(ctx, false);
}

static int
cb_end(void *ctx)
{
	return close_container(ctx);
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end,
};

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Size of the object at p: header and payload (a container: its header). */
static size_t
obj_size(const uint8_t *p)
{
	uint8_t c = p[0];

	if (c < 0xa0 || c >= 0xe0)
		return 1;
	if (c < 0xc0)
		return 1 + (c & 0x1f);
	switch (c) {
	case 0xc4:
		return 2 + (size_t)p[1];
	case 0xc5:
		return 3 + ((size_t)p[1] << 8 | p[2]);
	case 0xc6:
		return 5 + (size_t)be32(p + 1);
	case 0xc7:
		return 3 + (size_t)p[1];
	case 0xc8:
		return 4 + ((size_t)p[1] << 8 | p[2]);
	case 0xc9:
		return 6 + (size_t)be32(p + 1);
	case 0xca:
		return 5;
	case 0xcb:
		return 9;
	case 0xcc:
	case 0xd0:
		return 2;
	case 0xcd:
	case 0xd1:
		return 3;
	case 0xce:
	case 0xd2:
		return 5;
	case 0xcf:
	case 0xd3:
		return 9;
	case 0xd4:
		return 3;
	case 0xd5:
		return 4;
	case 0xd6:
		return 6;
	case 0xd7:
		return 10;
	case 0xd8:
		return 18;
	case 0xd9:
		return 2 + (size_t)p[1];
	case 0xda:
		return 3 + ((size_t)p[1] << 8 | p[2]);
	case 0xdb:
		return 5 + (size_t)be32(p + 1);
	case 0xdc:
	case 0xde:
		return 3;
	case 0xdd:
	case 0xdf:
		return 5;
	default: /* nil, false, true */
		return 1;
	}
}

static size_t
put_header(uint8_t *o, bool map, uint32_t count)
{
	if (count <= 15) {
		o[0] = (uint8_t)((map ? 0x80 : 0x90) | count);
		return 1;
	}
	if (count <= 0xffff) {
		o[0] = map ? 0xde : 0xdc;
		o[1] = (uint8_t)(count >> 8);
		o[2] = (uint8_t)count;
		return 3;
	}
	o[0] = map ? 0xdf : 0xdd;
	o[1] = (uint8_t)(count >> 24);
	o[2] = (uint8_t)(count >> 16);
	o[3] = (uint8_t)(count >> 8);
	o[4] = (uint8_t)count;
	return 5;
}

/*
 * Rewrite every 5-byte container header after start to its shortest form,
 * front to back, moving the bytes between them down in one memmove each.
 * Only containers use map32/array32 in the converter's output.
 */
static void
compact(struct tw_buf *b, size_t start)
{
	uint8_t *base = (uint8_t *)b->data;
	size_t rd = start, wr = start, run = start, end = b->len;
	uint32_t count;
	uint8_t c;

	while (rd < end) {
		c = base[rd];
		if (c != 0xdd && c != 0xdf) {
			rd += obj_size(base + rd);
			continue;
		}
		count = be32(base + rd + 1);
		if (wr != run)
			memmove(base + wr, base + run, rd - run);
		wr += rd - run;
		rd += 5;
		wr += put_header(base + wr, c == 0xdf, count);
		run = rd;
	}
	if (wr != run)
		memmove(base + wr, base + run, end - run);
	wr += end - run;
	b->len = wr;
	b->data[wr] = '\0';
}

static void
set_why(char **why, const char *what, size_t off, const char *detail)
{
	size_t len;

	if (why == NULL)
		return;
	if (strncmp(detail, "parse error: ", 13) == 0)
		detail += 13; /* yajl's own prefix: ours says it already */
	len = strlen(detail);
	while (len > 0 && (detail[len - 1] == '\n' || detail[len - 1] == ' '))
		len--;
	if ((*why = malloc(strlen(what) + len + 48)) == NULL)
		return;
	if (len > 0)
		sprintf(*why, "%s at byte %zu: %.*s", what, off, (int)len,
		    detail);
	else
		sprintf(*why, "%s at byte %zu", what, off);
}

/* --- JSON to msgpack without yajl, for the common case --- */

/*
 * Most input is well-formed JSON that needs nothing yajl is there for:
 * the fast path converts it in one pass straight into w. On anything it
 * would have to report (bad JSON, ill-formed UTF-8, a limit, the output
 * ceiling) or does not handle (whitespace other than the four of RFC
 * 8259) it undoes its output and the yajl path runs from the start,
 * errors and all; the output is the same either way. Callbacks run only
 * after success, so the yajl path never repeats them.
 */

/* Top-level scalars reported after a conversion at most; more: yajl. */
#define FAST_TOP_MAX 64
/* Output room reserved up front at most. */
#define FAST_FIRST_ROOM ((size_t)64 << 10)

struct fast_frame {
	size_t off;	/* of the container's header */
	uint32_t count;
	bool map;
};

/* A top-level scalar; offsets into the output as first written. */
struct fast_top {
	size_t key, str;
	uint32_t key_len;
	struct tw_mp_obj v;
};

struct fast {
	struct tw_mpw *w;
	const struct tw_json_opts *o;
	size_t start;		/* w->buf->len on entry */
	size_t hdr;		/* bytes a container header takes at first */
	size_t shrunk;		/* bytes saved on headers (see fast_to_mp) */
	uint32_t depth, ntop;
	struct fast_frame st[JSON_DEPTH_CAP];
	struct fast_top top[FAST_TOP_MAX];
};

static inline size_t plain_len(const uint8_t *p, size_t n);

/*
 * Make room for k more output bytes at *o (and the NUL): the buffer may
 * move, *o and *oend follow it.
 */
static bool
fast_grow(struct fast *f, uint8_t **o, uint8_t **oend, size_t k)
{
	struct tw_buf *b = f->w->buf;

	b->len = (size_t)((char *)*o - b->data);
	if (tw_buf_reserve(b, k) != 0)
		return false;
	*o = (uint8_t *)b->data + b->len;
	*oend = (uint8_t *)b->data + b->cap - 1;
	return true;
}

#define FAST_NEED(k)							\
	do {								\
		if ((size_t)(oend - o) < (k) &&				\
		    !fast_grow(f, &o, &oend, (k)))			\
			return false;					\
	} while (0)

static inline const char *
fast_ws(const char *p, const char *end)
{
	/* Compact JSON has none: one test. */
	if (p < end && (uint8_t)*p > ' ')
		return p;
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	return p;
}

/*
 * The end of the string token whose text starts at s (after the quote):
 * the closing quote, or NULL when the raw text holds a control character
 * or ill-formed UTF-8 or the input ends. *esc is set for a backslash.
 */
static inline __attribute__((always_inline)) const char *
fast_string_end(const char *s, const char *end, bool *esc)
{
	const char *q = s;
	size_t k, bad;

	for (;;) {
		q += plain_len((const uint8_t *)q, (size_t)(end - q));
		if (q >= end)
			return NULL;
		if (*q == '"')
			return q;
		if (*q == '\\') {
			if (end - q < 2)
				return NULL;
			*esc = true;
			q += 2;
		} else if ((uint8_t)*q < 0x20 ||
		    (k = tw_utf8_char(q, (size_t)(end - q), &bad)) == 0) {
			return NULL;
		} else {
			q += k;
		}
	}
}

/*
 * Copy n bytes from s (input that ends at end) to o, which has room for
 * 16 more than n: keys and most values are short enough for a 16-byte
 * move or a few, no call.
 */
static inline void
fast_copy(uint8_t *o, const char *s, size_t n, const char *end)
{
#ifdef __SSE2__
	if (n <= 16 && end - s >= 16) {
		_mm_storeu_si128((void *)o, _mm_loadu_si128((const void *)s));
		return;
	}
	/* Up to 64 in whole 16-byte steps when the input reaches that far. */
	if (n <= 64 && (size_t)(end - s) >= ((n + 15) & ~(size_t)15)) {
		for (size_t i = 0; i < n; i += 16)
			_mm_storeu_si128((void *)(o + i),
			    _mm_loadu_si128((const void *)(s + i)));
		return;
	}
#else
	(void)end;
#endif
	memcpy(o, s, n);
}

/* Write the header of the container closed at o; its body moves to fit. */
static bool
fast_close(struct fast *f, uint8_t **o, uint8_t **oend)
{
	struct fast_frame *fr = &f->st[--f->depth];
	uint8_t *h = (uint8_t *)f->w->buf->data + fr->off;
	uint32_t count = fr->count;
	size_t body, k;

	if (f->hdr == 5) {
		h[0] = fr->map ? 0xdf : 0xdd;
		tw_mp_put32(h + 1, count);
		return true;
	}
	if (count < 16) {
		h[0] = (uint8_t)((fr->map ? 0x80 : 0x90) | count);
		f->shrunk += 4;
		return true;
	}
	k = count < 65536 ? 3 : 5;
	f->shrunk += 5 - k;
	if ((size_t)(*oend - *o) < k - 1 && !fast_grow(f, o, oend, k - 1))
		return false;
	h = (uint8_t *)f->w->buf->data + fr->off;
	body = (size_t)(*o - h) - 1;
	memmove(h + k, h + 1, body);
	if (count < 65536) {
		h[0] = fr->map ? 0xde : 0xdc;
		tw_mp_put16(h + 1, (uint16_t)count);
	} else {
		h[0] = fr->map ? 0xdf : 0xdd;
		tw_mp_put32(h + 1, count);
	}
	*o = h + k + body;
	return true;
}

/*
 * The whole input p[0..n) into f->w; false: not handled here (nothing to
 * report: the yajl path will say what is wrong). Output goes through o up
 * to oend without touching the tw_buf until the end.
 */
static bool
fast_run(struct fast *f, const char *p, size_t n)
{
	const char *end = p + n, *s, *q;
	struct tw_buf *b = f->w->buf;
	struct fast_frame *fr = NULL;
	struct fast_top *t;
	struct tw_mp_obj v;
	uint32_t depth_max, key_len = 0;
	size_t key = 0, raw, len = 0;
	uint8_t *o, *oend;
	uint64_t u;
	bool esc, neg, top_map = false;
	const uint32_t count_max = f->o->count_max;
	const bool want_top = f->o->on_top_scalar != NULL;

	depth_max = f->o->depth_max < JSON_DEPTH_CAP ? f->o->depth_max :
	    JSON_DEPTH_CAP;
	/*
	 * Most output is shorter than its input: one reservation for a line,
	 * growth as it goes for a big document (that may yet prove bad).
	 */
	if (tw_buf_reserve(b, n < FAST_FIRST_ROOM - 64 ? n + 64 :
	    FAST_FIRST_ROOM) != 0)
		return false;
	o = (uint8_t *)b->data + b->len;
	oend = (uint8_t *)b->data + b->cap - 1;
	p = fast_ws(p, end);

value:
	if (p >= end)
		return false;
	switch (*p) {
	case '{':
	case '[':
		if (f->depth >= depth_max)
			return false;
		FAST_NEED(f->hdr);
		fr = &f->st[f->depth++];
		fr->off = (size_t)((char *)o - b->data);
		fr->count = 0;
		fr->map = *p == '{';
		if (f->depth == 1)
			top_map = want_top && fr->map;
		*o = 0;	/* the whole header is written on closing */
		o += f->hdr;
		p = fast_ws(p + 1, end);
		if (p < end && *p == (fr->map ? '}' : ']')) {
			p++;
			if (!fast_close(f, &o, &oend))
				return false;
			goto after;
		}
		if (fr->count >= count_max)
			return false;
		fr->count++;
		if (fr->map)
			goto key;
		goto value;
	case '"':
		esc = false;
		s = p + 1;
		if ((q = fast_string_end(s, end, &esc)) == NULL)
			return false;
		raw = (size_t)(q - s);
		p = q + 1;
		if (raw > UINT32_MAX)
			return false;
		FAST_NEED(raw + 21);
		if (!esc) {
			o = tw_mp_put_str_header(o, raw);
			fast_copy(o, s, raw, end);
		} else {
			/* Decoded in place, then moved to after its header. */
			if (decode_into((char *)o + 5, s, raw, &raw) != 0)
				return false;
			len = tw_mp_str_header_len(raw);
			memmove(o + len, o + 5, raw);
			o = tw_mp_put_str_header(o, raw);
		}
		v.type = TW_MP_STR;
		v.v.s.len = (uint32_t)raw;
		len = (size_t)((char *)o - b->data);
		o += raw;
		break;
	case 't':
		if (end - p < 4 || memcmp(p, "true", 4) != 0)
			return false;
		p += 4;
		v.type = TW_MP_BOOL;
		v.v.b = true;
		FAST_NEED(1);
		*o++ = 0xc3;
		break;
	case 'f':
		if (end - p < 5 || memcmp(p, "false", 5) != 0)
			return false;
		p += 5;
		v.type = TW_MP_BOOL;
		v.v.b = false;
		FAST_NEED(1);
		*o++ = 0xc2;
		break;
	case 'n':
		if (end - p < 4 || memcmp(p, "null", 4) != 0)
			return false;
		p += 4;
		v.type = TW_MP_NIL;
		FAST_NEED(1);
		*o++ = 0xc0;
		break;
	default:
		/* RFC 8259's number grammar, nothing more */
		s = p;
		neg = *p == '-';
		p += neg;
		u = 0;
		if (p < end && *p == '0') {
			p++;
		} else if (p < end && *p >= '1' && *p <= '9') {
			while (p < end && *p >= '0' && *p <= '9')
				u = u * 10 + (uint64_t)(*p++ - '0');
		} else {
			return false;
		}
		if ((size_t)(p - s) - neg <= 19 && (p == end ||
		    (*p != '.' && *p != 'e' && *p != 'E'))) {
			/* Up to 19 digits cannot wrap: most numbers. */
			if (!neg || u == 0) {
				v.type = TW_MP_UINT;
				v.v.u = u;
			} else if (u <= (uint64_t)INT64_MAX + 1) {
				v.type = TW_MP_INT;
				v.v.i = -(int64_t)(u - 1) - 1;
			} else {
				/* as strtod: the integer, rounded once */
				v.type = TW_MP_FLOAT;
				v.v.f = -(double)u;
			}
		} else {
			if (p < end && *p == '.') {
				if (++p >= end || *p < '0' || *p > '9')
					return false;
				while (p < end && *p >= '0' && *p <= '9')
					p++;
			}
			if (p < end && (*p == 'e' || *p == 'E')) {
				if (++p < end && (*p == '+' || *p == '-'))
					p++;
				if (p >= end || *p < '0' || *p > '9')
					return false;
				while (p < end && *p >= '0' && *p <= '9')
					p++;
			}
			v.type = TW_MP_FLOAT;
			if (!exact_double(s, (size_t)(p - s), &v.v.f) &&
			    parse_number(s, (size_t)(p - s), &v) != 0)
				return false;
		}
		FAST_NEED(9);
		if (v.type == TW_MP_FLOAT) {
			memcpy(&u, &v.v.f, sizeof(u));
			*o++ = 0xcb;
			o = tw_mp_put64(o, u);
		} else if (v.type == TW_MP_UINT && v.v.u < 128) {
			*o++ = (uint8_t)v.v.u;
		} else {
			/* through the writer, for its choice of width */
			b->len = (size_t)((char *)o - b->data);
			if (v.type == TW_MP_UINT)
				tw_mpw_uint(f->w, v.v.u);
			else
				tw_mpw_int(f->w, v.v.i);
			o = (uint8_t *)b->data + b->len;
		}
		break;
	}
	/* A scalar: at the top of a map, remembered for on_top_scalar. */
	if (top_map && f->depth == 1) {
		if (f->ntop == FAST_TOP_MAX)
			return false;
		t = &f->top[f->ntop++];
		t->key = key;
		t->key_len = key_len;
		t->v = v;
		t->str = len;
	}

after:
	if (f->depth == 0) {
		if (fast_ws(p, end) != end)
			return false;
		b->len = (size_t)((char *)o - b->data);
		b->data[b->len] = '\0';
		return true;
	}
	fr = &f->st[f->depth - 1];
	p = fast_ws(p, end);
	if (p >= end)
		return false;
	if (*p == ',') {
		p = fast_ws(p + 1, end);
		if (fr->count >= count_max)
			return false;
		fr->count++;
		if (fr->map)
			goto key;
		goto value;
	}
	if (*p != (fr->map ? '}' : ']'))
		return false;
	p++;
	if (!fast_close(f, &o, &oend))
		return false;
	goto after;

key:
	if (p >= end || *p != '"')
		return false;
	esc = false;
	s = p + 1;
	if ((q = fast_string_end(s, end, &esc)) == NULL)
		return false;
	raw = (size_t)(q - s);
	if (raw > UINT32_MAX)
		return false;
	FAST_NEED(raw + 21);
	if (!esc) {
		o = tw_mp_put_str_header(o, raw);
		fast_copy(o, s, raw, end);
	} else {
		if (decode_into((char *)o + 5, s, raw, &raw) != 0)
			return false;
		len = tw_mp_str_header_len(raw);
		memmove(o + len, o + 5, raw);
		o = tw_mp_put_str_header(o, raw);
	}
	key = (size_t)((char *)o - b->data);
	key_len = (uint32_t)raw;
	o += raw;
	p = fast_ws(q + 1, end);
	if (p >= end || *p != ':')
		return false;
	p = fast_ws(p + 1, end);
	goto value;
}

#undef FAST_NEED

/* Convert p[0..n) without yajl: 0, or -1 with w as it was on entry. */
static int
fast_to_mp(const char *p, size_t n, struct tw_mpw *w,
    const struct tw_json_opts *o)
{
	struct fast f;
	struct fast_top *t;
	const char *base;
	size_t shift;

	f.w = w;
	f.o = o;
	f.start = w->buf->len;
	f.hdr = o->compact ? 1 : 5;
	f.shrunk = 0;
	f.depth = 0;
	f.ntop = 0;
	/*
	 * The yajl path writes 5-byte headers and shortens them at the end,
	 * so its output meets the buffer's ceiling that much sooner: so must
	 * this one, to fail (there) on exactly the same input.
	 */
	if (!fast_run(&f, p, n) || w->buf->len + f.shrunk > w->buf->max) {
		w->err = 0;
		if (w->buf->data != NULL) {
			w->buf->len = f.start;
			w->buf->data[f.start] = '\0';
		}
		return -1;
	}
	if (f.ntop > 0) {
		/* Only the top map's header changed size after them. */
		shift = f.hdr == 5 ? 0 : f.st[0].count < 16 ? 0 :
		    f.st[0].count < 65536 ? 2 : 4;
		base = w->buf->data + shift;
		for (uint32_t i = 0; i < f.ntop; i++) {
			t = &f.top[i];
			if (t->v.type == TW_MP_STR)
				t->v.v.s.p = base + t->str;
			o->on_top_scalar(o->arg, base + t->key, t->key_len,
			    &t->v);
		}
	}
	return 0;
}

int
tw_json_to_mp(const char *p, size_t n, struct tw_mpw *w,
    const struct tw_json_opts *o, char **why)
{
	yajl_alloc_funcs af = { arena_malloc, arena_realloc, arena_free, NULL };
	struct tw_json_opts def;
	yajl_status st;
	unsigned char *msg;
	struct conv *c, cs;
	int r = 0;

	if (why != NULL)
		*why = NULL;
	if (o == NULL) {
		tw_json_opts_default(&def);
		o = &def;
	}
	if (w->err != 0)
		return w->err;
	if (o->max_bytes != 0 && n > o->max_bytes) {
		set_why(why, "input too big", 0, "");
		return TW_ETOOBIG;
	}
	if (o->top_scalar_write == NULL && fast_to_mp(p, n, w, o) == 0)
		return 0;
	c = &cs;
	c->w = w;
	c->o = o;
	c->in = p;
	c->n = n;
	c->start = w->buf->len;
	c->depth = 0;
	c->depth_max = o->depth_max < JSON_DEPTH_CAP ? o->depth_max :
	    JSON_DEPTH_CAP;
	c->finishing = false;
	c->err = 0;
	c->what = NULL;
	c->err_off = 0;
	c->key_off = c->key_len = 0;
	tw_buf_init(&c->scratch, n + 16);
	c->arena.used = 0;
	af.ctx = &c->arena;
	/* yajl_alloc copies af; everything it allocates comes from c->arena. */
	if ((c->h = yajl_alloc(&callbacks, &af, c)) == NULL) {
		r = TW_ENOMEM;
		set_why(why, "out of memory", 0, "");
		goto out;
	}
	/* Strings are checked (strictly, unlike yajl) in check_string(). */
	yajl_config(c->h, yajl_dont_validate_strings, 1);
	st = yajl_parse(c->h, (const unsigned char *)p, n);
	if (st == yajl_status_ok && c->err == 0) {
		c->finishing = true;
		st = yajl_complete_parse(c->h);
	}
	if (c->err != 0) {
		r = c->err;
		set_why(why, c->what, c->err_off, "");
	} else if (st != yajl_status_ok) {
		r = TW_EPARSE;
		msg = yajl_get_error(c->h, 0, NULL, 0);
		set_why(why, "parse error", c->finishing ? n :
		    yajl_get_bytes_consumed(c->h),
		    msg != NULL ? (const char *)msg : "");
		if (msg != NULL)
			yajl_free_error(c->h, msg);
	} else if (w->err != 0) {
		r = w->err;
		set_why(why, "output too big", n, "");
	} else if (o->compact) {
		compact(w->buf, c->start);
	}
out:
	if (r != 0 && w->buf->data != NULL) {
		w->buf->len = c->start;
		w->buf->data[c->start] = '\0';
	}
	if (c->h != NULL)
		yajl_free(c->h);
	tw_buf_cleanup(&c->scratch);
	return r;
}

/* --- msgpack to JSON --- */

/* One byte, without a call in the common case. */
static inline int
put1(struct tw_buf *b, char ch)
{
	if (b->len + 1 < b->cap && b->len < b->max) {
		b->data[b->len++] = ch;
		b->data[b->len] = '\0';
		return 0;
	}
	return tw_buf_addc(b, ch);
}

static int
add_u64(struct tw_buf *out, uint64_t v, bool neg)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (neg)
		*--p = '-';
	return tw_buf_add(out, p, (size_t)(end - p));
}

static int
add_i64(struct tw_buf *out, int64_t v)
{
	return v < 0 ? add_u64(out, 0 - (uint64_t)v, true) :
	    add_u64(out, (uint64_t)v, false);
}

/* Bytes that go into a JSON string as they are: not ", \, < 0x20, >= 0x80. */
static const uint8_t plain[256] = {
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
	R16(0), R16(0),
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x20: '"' */
	R16(1), R16(1),
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,	/* 0x50: '\\' */
	R16(1), R16(1),
	R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
#undef R16
};

/* The length of the leading run of plain bytes, 16 or 8 at a time. */
static inline size_t
plain_len(const uint8_t *p, size_t n)
{
	size_t i = 0;
	uint64_t x, q, bs, ctl;
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);
	__m128i v, m;
	unsigned bits;

	for (; n - i >= 16; i += 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		/* Signed, bytes >= 0x80 are below 0x20 too. */
		m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
		    _mm_cmpeq_epi8(v, bslash)), _mm_cmplt_epi8(v, space));
		if ((bits = (unsigned)_mm_movemask_epi8(m)) != 0)
			return i + (size_t)__builtin_ctz(bits);
	}
#endif
	for (; n - i >= 8; i += 8) {
		memcpy(&x, p + i, 8);
		q = x ^ (ONES * '"');
		bs = x ^ (ONES * '\\');
		/* A zero byte in q or bs, a byte < 0x20 or >= 0x80 in x. */
		q = (q - ONES) & ~q;
		bs = (bs - ONES) & ~bs;
		ctl = (x - ONES * 0x20) & ~x;
		if (((q | bs | ctl) & HIGH_BITS) != 0 || (x & HIGH_BITS) != 0)
			break;
	}
	while (i < n && plain[p[i]])
		i++;
	return i;
}

int
tw_json_add_string(struct tw_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	size_t start = out->len, i = 0, run = 0, k, bad, elen;
	char e[6];
	const char *esc;
	int r;

	/* Every byte takes at least one byte out: reserve that at once. */
	if (n > SIZE_MAX - 2 || (r = tw_buf_reserve(out, n + 2)) != 0)
		return n > SIZE_MAX - 2 ? TW_ETOOBIG : r;
	out->data[out->len++] = '"';
	while (i < n) {
		i += plain_len(p + i, n - i);
		if (i == n)
			break;
		if (p[i] >= 0x80) {
			k = tw_utf8_char(s + i, n - i, &bad);
			/*
			 * U+0085, U+2028 and U+2029 end lines for JavaScript
			 * and for Python's splitlines(): escaped, so one
			 * record stays one line for every reader.
			 */
			if ((k == 2 && p[i] == 0xc2 && p[i + 1] == 0x85) ||
			    (k == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 &&
			    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))) {
				esc = k == 2 ? "\\u0085" : p[i + 2] == 0xa8 ?
				    "\\u2028" : "\\u2029";
				elen = 6;
				bad = k;
			} else if (k != 0) {
				i += k;
				continue;
			} else {
				esc = "\xef\xbf\xbd";
				elen = 3;
			}
		} else {
			bad = 1;
			elen = 2;
			esc = e;
			e[0] = '\\';
			switch (p[i]) {
			case '"':
				e[1] = '"';
				break;
			case '\\':
				e[1] = '\\';
				break;
			case '\n':
				e[1] = 'n';
				break;
			case '\r':
				e[1] = 'r';
				break;
			case '\t':
				e[1] = 't';
				break;
			case '\b':
				e[1] = 'b';
				break;
			case '\f':
				e[1] = 'f';
				break;
			default:
				memcpy(e + 1, "u00", 3);
				e[4] = hex[p[i] >> 4];
				e[5] = hex[p[i] & 15];
				elen = 6;
				break;
			}
		}
		/* Room for the run, the escape and the rest unescaped. */
		if ((r = tw_buf_reserve(out,
		    i - run + elen + n - i - bad + 1)) != 0)
			goto fail;
		memcpy(out->data + out->len, s + run, i - run);
		out->len += i - run;
		memcpy(out->data + out->len, esc, elen);
		out->len += elen;
		i += bad;
		run = i;
	}
	memcpy(out->data + out->len, s + run, n - run);
	out->len += n - run;
	out->data[out->len++] = '"';
	out->data[out->len] = '\0';
	return 0;
fail:
	out->len = start;
	out->data[start] = '\0';
	return r;
}

int
tw_json_add_double(struct tw_buf *out, double v)
{
	char t[40], o[48], *q = o, *ep;
	const char *d;
	int prec, nd, exp, i;
	bool neg;

	if (!isfinite(v))
		return tw_buf_add(out, "null", 4);
	/* Whole numbers below 2^53 print exactly; the common case. */
	if (fabs(v) < 1e15 && v == (double)(int64_t)v &&
	    !(v == 0 && signbit(v))) {
		if ((i = add_u64(out, (uint64_t)fabs(v), v < 0)) != 0)
			return i;
		return tw_buf_add(out, ".0", 2);
	}
	/*
	 * The shortest of 15, 16 or 17 significant digits that reads back:
	 * 15 digits always survive a round trip through a normal double, so
	 * trimming zeros gives the shortest; subnormals hold fewer digits.
	 */
	for (prec = fabs(v) < DBL_MIN ? 1 : 15; prec < 17; prec++) {
		snprintf(t, sizeof(t), "%.*e", prec - 1, v);
		if (strtod(t, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(t, sizeof(t), "%.*e", prec - 1, v);
	/* t is [-]d.ddde[+-]xx: take the digits and the exponent apart. */
	neg = t[0] == '-';
	d = t + neg;
	ep = strchr(t, 'e');
	exp = atoi(ep + 1);
	/* digits without the '.', trailing zeros dropped */
	{
		char dig[20];
		nd = 0;
		for (const char *s = d; s < ep; s++)
			if (*s != '.')
				dig[nd++] = *s;
		while (nd > 1 && dig[nd - 1] == '0')
			nd--;
		if (neg)
			*q++ = '-';
		if (exp >= -4 && exp < 16) {
			/* Python's repr(): positional, with a '.' */
			if (exp >= 0) {
				for (i = 0; i <= exp; i++)
					*q++ = i < nd ? dig[i] : '0';
				*q++ = '.';
				if (nd > exp + 1)
					for (i = exp + 1; i < nd; i++)
						*q++ = dig[i];
				else
					*q++ = '0';
			} else {
				*q++ = '0';
				*q++ = '.';
				for (i = 0; i < -exp - 1; i++)
					*q++ = '0';
				for (i = 0; i < nd; i++)
					*q++ = dig[i];
			}
		} else {
			*q++ = dig[0];
			if (nd > 1) {
				*q++ = '.';
				for (i = 1; i < nd; i++)
					*q++ = dig[i];
			}
			q += sprintf(q, "e%c%02d", exp < 0 ? '-' : '+',
			    exp < 0 ? -exp : exp);
		}
	}
	return tw_buf_add(out, o, (size_t)(q - o));
}

static int
add_base64_string(struct tw_buf *out, const char *p, size_t n)
{
	int r;

	if ((r = put1(out, '"')) != 0 ||
	    (r = tw_base64_encode(out, p, n)) != 0)
		return r;
	return put1(out, '"');
}

static int
add_scalar(struct tw_buf *out, const struct tw_mp_obj *o, unsigned flags)
{
	int64_t ns;
	int r;

	switch (o->type) {
	case TW_MP_NIL:
		return tw_buf_add(out, "null", 4);
	case TW_MP_BOOL:
		return o->v.b ? tw_buf_add(out, "true", 4) :
		    tw_buf_add(out, "false", 5);
	case TW_MP_UINT:
		return add_u64(out, o->v.u, false);
	case TW_MP_INT:
		return add_i64(out, o->v.i);
	case TW_MP_FLOAT:
		return tw_json_add_double(out, o->v.f);
	case TW_MP_STR:
		return tw_json_add_string(out, o->v.s.p, o->v.s.len);
	case TW_MP_BIN:
		return add_base64_string(out, o->v.s.p, o->v.s.len);
	case TW_MP_EXT:
		if (o->ext_type != TW_MP_EXT_TIMESTAMP)
			return add_base64_string(out, o->v.s.p, o->v.s.len);
		if ((r = tw_time_from_mp_timestamp(o->v.s.p, o->v.s.len,
		    &ns)) != 0)
			return r;
		if ((flags & TW_JSON_TIME_RFC3339) == 0)
			return add_i64(out, ns);
		if ((r = put1(out, '"')) != 0 ||
		    (r = tw_time_format_rfc3339(out, ns)) != 0)
			return r;
		return put1(out, '"');
	default:
		return TW_EINTERNAL;
	}
}

/* A map key: strings as they are, other scalars as their JSON text quoted. */
static int
add_key(struct tw_buf *out, const struct tw_mp_obj *o, unsigned flags)
{
	size_t at = out->len;
	int r;

	if (o->type == TW_MP_STR)
		return tw_json_add_string(out, o->v.s.p, o->v.s.len);
	if (o->type == TW_MP_MAP || o->type == TW_MP_ARRAY)
		return TW_EUNSUPPORTED;
	if ((r = add_scalar(out, o, flags)) != 0)
		return r;
	if (out->data[at] == '"')
		return 0;
	/* Quote it: numbers, true, false and null need no escaping. */
	if ((r = put1(out, '"')) != 0)
		return r;
	memmove(out->data + at + 1, out->data + at, out->len - 1 - at);
	out->data[at] = '"';
	return put1(out, '"');
}

struct rframe {
	uint32_t left;	/* elements, or pairs, still to come */
	bool map;
	bool first;
};

int
tw_json_from_mp(struct tw_buf *out, struct tw_mp_reader *r,
    const struct tw_mp_limits *lim, unsigned flags)
{
	struct rframe st[JSON_DEPTH_CAP], *f;
	struct tw_mp_limits def;
	const uint8_t *rstart = r->p;
	size_t start = out->len;
	uint32_t depth = 0, depth_max;
	struct tw_mp_obj o;
	int rc;

	if (lim == NULL) {
		tw_mp_limits_default(&def);
		lim = &def;
	}
	depth_max = lim->depth_max < JSON_DEPTH_CAP ? lim->depth_max :
	    JSON_DEPTH_CAP;
	for (;;) {
		if (depth > 0) {
			f = &st[depth - 1];
			if (f->left == 0) {
				if ((rc = put1(out, f->map ? '}' : ']')) != 0)
					goto fail;
				if (--depth == 0)
					break;
				continue;
			}
			f->left--;
			if (!f->first && (rc = put1(out, ',')) != 0)
				goto fail;
			f->first = false;
			if (f->map) {
				if ((rc = tw_mp_read(r, &o)) != 0 ||
				    (rc = add_key(out, &o, flags)) != 0 ||
				    (rc = put1(out, ':')) != 0)
					goto fail;
			}
		}
		if ((rc = tw_mp_read(r, &o)) != 0)
			goto fail;
		if (o.type == TW_MP_MAP || o.type == TW_MP_ARRAY) {
			if ((o.type == TW_MP_MAP && o.v.count > lim->map_max) ||
			    (o.type == TW_MP_ARRAY &&
			    o.v.count > lim->array_max)) {
				rc = TW_ELIMIT;
				goto fail;
			}
			if (depth >= depth_max) {
				rc = TW_EDEPTH;
				goto fail;
			}
			if ((rc = put1(out, o.type == TW_MP_MAP ? '{' : '[')) !=
			    0)
				goto fail;
			f = &st[depth++];
			f->left = o.v.count;
			f->map = o.type == TW_MP_MAP;
			f->first = true;
			continue;
		}
		if ((rc = add_scalar(out, &o, flags)) != 0)
			goto fail;
		if (depth == 0)
			break;
	}
	return 0;
fail:
	if (out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	r->p = rstart;
	return rc;
}

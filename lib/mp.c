/* mp.c: a bounded, zero-copy msgpack reader and a bounded msgpack writer. */
#include "config.h"

#include <string.h>

#include "mp.h"

#define MP_DEPTH_CAP 64

static uint64_t
be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static double
be_float(const uint8_t *p, int n)
{
	if (n == 4) {
		uint32_t u = (uint32_t)be(p, 4);
		float f;
		memcpy(&f, &u, 4);
		return f;
	} else {
		uint64_t u = be(p, 8);
		double d;
		memcpy(&d, &u, 8);
		return d;
	}
}

/* Payload of n bytes after a header of h bytes; checks what remains. */
static int
span(struct tw_mp_obj *o, const uint8_t *p, size_t left, size_t h,
    uint64_t n, size_t *used)
{
	if (left < h || n > left - h)
		return TW_EEOF;
	o->v.s.p = (const char *)p + h;
	o->v.s.len = (uint32_t)n;
	*used = h + (size_t)n;
	return 0;
}

static int
read_obj(const uint8_t *p, size_t left, struct tw_mp_obj *o, size_t *used)
{
	uint8_t c;
	int w;

	if (left == 0)
		return TW_EEOF;
	c = p[0];
	*used = 1;
	if (c <= 0x7f) {
		o->type = TW_MP_UINT;
		o->v.u = c;
		return 0;
	}
	if (c >= 0xe0) {
		o->type = TW_MP_INT;
		o->v.i = (int8_t)c;
		return 0;
	}
	if (c >= 0x80 && c <= 0x8f) {
		o->type = TW_MP_MAP;
		o->v.count = c & 0x0f;
		goto container;
	}
	if (c >= 0x90 && c <= 0x9f) {
		o->type = TW_MP_ARRAY;
		o->v.count = c & 0x0f;
		goto container;
	}
	if (c >= 0xa0 && c <= 0xbf) {
		o->type = TW_MP_STR;
		return span(o, p, left, 1, c & 0x1f, used);
	}
	switch (c) {
	case 0xc0:
		o->type = TW_MP_NIL;
		return 0;
	case 0xc2:
	case 0xc3:
		o->type = TW_MP_BOOL;
		o->v.b = c == 0xc3;
		return 0;
	case 0xc4:
	case 0xc5:
	case 0xc6:
		o->type = TW_MP_BIN;
		w = 1 << (c - 0xc4);
		if (left < 1 + (size_t)w)
			return TW_EEOF;
		return span(o, p, left, 1 + w, be(p + 1, w), used);
	case 0xd9:
	case 0xda:
	case 0xdb:
		o->type = TW_MP_STR;
		w = 1 << (c - 0xd9);
		if (left < 1 + (size_t)w)
			return TW_EEOF;
		return span(o, p, left, 1 + w, be(p + 1, w), used);
	case 0xc7:
	case 0xc8:
	case 0xc9:
		o->type = TW_MP_EXT;
		w = 1 << (c - 0xc7);
		if (left < 2 + (size_t)w)
			return TW_EEOF;
		o->ext_type = (int8_t)p[1 + w];
		return span(o, p, left, 2 + w, be(p + 1, w), used);
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		o->type = TW_MP_EXT;
		if (left < 2)
			return TW_EEOF;
		o->ext_type = (int8_t)p[1];
		return span(o, p, left, 2, 1u << (c - 0xd4), used);
	case 0xca:
	case 0xcb:
		w = c == 0xca ? 4 : 8;
		if (left < 1 + (size_t)w)
			return TW_EEOF;
		o->type = TW_MP_FLOAT;
		o->v.f = be_float(p + 1, w);
		*used = 1 + w;
		return 0;
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf:
		w = 1 << (c - 0xcc);
		if (left < 1 + (size_t)w)
			return TW_EEOF;
		o->type = TW_MP_UINT;
		o->v.u = be(p + 1, w);
		*used = 1 + w;
		return 0;
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: {
		int64_t v;
		w = 1 << (c - 0xd0);
		if (left < 1 + (size_t)w)
			return TW_EEOF;
		switch (w) {
		case 1:
			v = (int8_t)p[1];
			break;
		case 2:
			v = (int16_t)be(p + 1, 2);
			break;
		case 4:
			v = (int32_t)be(p + 1, 4);
			break;
		default:
			v = (int64_t)be(p + 1, 8);
			break;
		}
		if (v >= 0) {
			o->type = TW_MP_UINT;
			o->v.u = (uint64_t)v;
		} else {
			o->type = TW_MP_INT;
			o->v.i = v;
		}
		*used = 1 + w;
		return 0;
	}
	case 0xdc:
	case 0xdd:
		o->type = TW_MP_ARRAY;
		w = c == 0xdc ? 2 : 4;
		if (left < 1 + (size_t)w)
			return TW_EEOF;
		o->v.count = (uint32_t)be(p + 1, w);
		*used = 1 + w;
		goto container;
	case 0xde:
	case 0xdf:
		o->type = TW_MP_MAP;
		w = c == 0xde ? 2 : 4;
		if (left < 1 + (size_t)w)
			return TW_EEOF;
		o->v.count = (uint32_t)be(p + 1, w);
		*used = 1 + w;
		goto container;
	default: /* 0xc1 is never used */
		return TW_EMSGPACK;
	}

container:
	/* Every element takes at least one byte: trust no count beyond that. */
	if ((uint64_t)o->v.count * (o->type == TW_MP_MAP ? 2 : 1) >
	    left - *used)
		return TW_EEOF;
	return 0;
}

int
tw_mp_read(struct tw_mp_reader *r, struct tw_mp_obj *o)
{
	size_t used;
	int rc;

	if ((rc = read_obj(r->p, tw_mp_remaining(r), o, &used)) != 0)
		return rc;
	r->p += used;
	return 0;
}

void
tw_mp_limits_default(struct tw_mp_limits *lim)
{
	lim->depth_max = 32;
	lim->map_max = 65536;
	lim->array_max = 65536;
}

/*
 * The whole size of the values whose size the first byte alone gives
 * (fixint, nil, bool, fixstr, float, int, uint, fixext); 0 for the rest,
 * which read_obj() (or the fixmap/fixarray and str8 cases in tw_mp_skip())
 * takes: containers, str/bin/ext with a length field, and 0xc1.
 */
static const uint8_t mp_fixed_size[256] = {
	/* 0x00-0x7f: positive fixint */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x80-0x9f: fixmap, fixarray */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0xa0-0xbf: fixstr, the header and 0..31 bytes */
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	/* 0xc0 nil, 0xc1 never used, bool, bin8-32, ext8-32, float, uint */
	1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 5, 9, 2, 3, 5, 9,
	/* int8-64, fixext1-16, str8-32, array16/32, map16/32 */
	2, 3, 5, 9, 3, 4, 6, 10, 18, 0, 0, 0, 0, 0, 0, 0,
	/* 0xe0-0xff: negative fixint */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

int
tw_mp_skip(struct tw_mp_reader *r, const struct tw_mp_limits *lim)
{
	uint64_t left[MP_DEPTH_CAP + 1];
	const uint8_t *p = r->p, *end = r->end;
	uint32_t depth_max = lim->depth_max, count;
	uint64_t todo = 1; /* values left in the innermost open container */
	struct tw_mp_obj o;
	size_t avail, used, sz;
	int depth = 0, rc, is_map;
	uint8_t c;

	if (depth_max > MP_DEPTH_CAP)
		depth_max = MP_DEPTH_CAP;
	for (;;) {
		while (todo == 0) {
			if (depth == 0) {
				r->p = p;
				return 0;
			}
			todo = left[--depth];
		}
		todo--;
		/* The common values inline, with read_obj()'s checks. */
		avail = (size_t)(end - p);
		if (avail == 0)
			return TW_EEOF;
		c = *p;
		if ((c & 0xe0) == 0xa0) { /* fixstr, the most common */
			sz = 1 + (size_t)(c & 0x1f);
			if (sz > avail)
				return TW_EEOF;
			p += sz;
			continue;
		}
		if ((sz = mp_fixed_size[c]) != 0) {
			if (sz > avail)
				return TW_EEOF;
			p += sz;
			continue;
		}
		if (c == 0xd9) { /* str8 */
			if (avail < 2 || p[1] > avail - 2)
				return TW_EEOF;
			p += 2 + (size_t)p[1];
			continue;
		}
		if (c <= 0x9f) { /* fixmap, fixarray */
			count = c & 0x0f;
			is_map = c <= 0x8f;
			if ((uint64_t)count * (is_map ? 2 : 1) > avail - 1)
				return TW_EEOF;
			p++;
		} else {
			if ((rc = read_obj(p, avail, &o, &used)) != 0)
				return rc;
			p += used;
			if (o.type != TW_MP_ARRAY && o.type != TW_MP_MAP)
				continue;
			count = o.v.count;
			is_map = o.type == TW_MP_MAP;
		}
		if (count > (is_map ? lim->map_max : lim->array_max))
			return TW_ELIMIT;
		if ((uint32_t)depth + 1 > depth_max)
			return TW_EDEPTH;
		left[depth++] = todo;
		todo = (uint64_t)count * (is_map ? 2 : 1);
	}
}

int
tw_mp_timestamp(const struct tw_mp_obj *o, int64_t *ns)
{
	const uint8_t *p = (const uint8_t *)o->v.s.p;
	uint64_t u;

	if (o->type != TW_MP_EXT || o->ext_type != TW_MP_EXT_TIMESTAMP)
		return TW_EINVAL;
	switch (o->v.s.len) {
	case 4:
		*ns = (int64_t)be(p, 4) * 1000000000;
		return 0;
	case 8:
		u = be(p, 8);
		/* 34 bits of seconds reach past what int64 ns can hold. */
		if ((u & 0x3ffffffffULL) >= (uint64_t)INT64_MAX / 1000000000 ||
		    (u >> 34) >= 1000000000)
			return TW_ELIMIT;
		*ns = (int64_t)(u & 0x3ffffffffULL) * 1000000000 +
		    (int64_t)(u >> 34);
		return 0;
	case 12: {
		uint32_t nsec = (uint32_t)be(p, 4);
		int64_t sec = (int64_t)be(p + 4, 8);
		if (nsec >= 1000000000 || sec > INT64_MAX / 1000000000 - 1 ||
		    sec < INT64_MIN / 1000000000 + 1)
			return TW_ELIMIT;
		*ns = sec * 1000000000 + nsec;
		return 0;
	}
	}
	return TW_EMSGPACK;
}

bool
tw_mp_str_eq(const struct tw_mp_obj *o, const char *s)
{
	size_t n = strlen(s);

	return o->type == TW_MP_STR && o->v.s.len == n &&
	    memcmp(o->v.s.p, s, n) == 0;
}

int
tw_mp_map_find(struct tw_mp_reader *r, uint32_t count, const char *key,
    const struct tw_mp_limits *lim)
{
	struct tw_mp_obj k;
	int rc;

	for (uint32_t i = 0; i < count; i++) {
		if ((rc = tw_mp_read(r, &k)) != 0)
			return rc;
		if (tw_mp_str_eq(&k, key))
			return 0;
		if ((rc = tw_mp_skip(r, lim)) != 0)
			return rc;
	}
	return TW_ENOTFOUND;
}

int
tw_mp_path(const void *p, size_t n, const char *path, struct tw_mp_obj *out)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_mp_obj o;
	char key[256];
	const char *dot;
	size_t klen;
	int rc;

	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, p, n);
	for (;;) {
		if ((rc = tw_mp_read(&r, &o)) != 0)
			return rc;
		if (*path == '\0') {
			*out = o;
			return 0;
		}
		if (o.type != TW_MP_MAP)
			return TW_ENOTFOUND;
		dot = strchr(path, '.');
		klen = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if (klen >= sizeof(key))
			return TW_ENOTFOUND;
		memcpy(key, path, klen);
		key[klen] = '\0';
		if ((rc = tw_mp_map_find(&r, o.v.count, key, &lim)) != 0)
			return rc;
		path += klen + (dot != NULL ? 1 : 0);
	}
}

/* --- writing --- */

void
tw_mpw_init(struct tw_mpw *w, struct tw_buf *buf)
{
	w->buf = buf;
	w->err = 0;
}

void
tw_mpw_fail(struct tw_mpw *w, int err)
{
	if (w->err == 0)
		w->err = err;
}

uint8_t *
tw_mpw_grow(struct tw_mpw *w, size_t n)
{
	int r;

	if (w->err != 0)
		return NULL;
	if ((r = tw_buf_reserve(w->buf, n)) != 0) {
		w->err = r;
		return NULL;
	}
	return (uint8_t *)w->buf->data + w->buf->len;
}

void
tw_mpw_double(struct tw_mpw *w, double v)
{
	uint64_t u;
	uint8_t *o;

	if ((o = tw_mpw_room(w, 9)) == NULL)
		return;
	memcpy(&u, &v, sizeof(u));
	*o++ = 0xcb;
	tw_mpw_commit(w, tw_mp_put64(o, u));
}

/* timestamp 32, 64 or 96, as msgpack-c chooses; *len gets the size. */
static void
timestamp_parts(int64_t ns, int64_t *sec, int64_t *nsec, size_t *len)
{
	*sec = ns / 1000000000;
	*nsec = ns % 1000000000;
	if (*nsec < 0) {
		*nsec += 1000000000;
		*sec -= 1;
	}
	if ((*sec >> 34) != 0)
		*len = 15;
	else if ((((uint64_t)*nsec << 34 | (uint64_t)*sec) &
	    0xffffffff00000000ULL) != 0)
		*len = 10;
	else
		*len = 6;
}

uint8_t *
tw_mp_put_timestamp(uint8_t *o, int64_t ns)
{
	int64_t sec, nsec;
	size_t len;

	timestamp_parts(ns, &sec, &nsec, &len);
	if (len == 6) {
		*o++ = 0xd6;
		*o++ = 0xff;
		return tw_mp_put32(o, (uint32_t)sec);
	}
	if (len == 10) {
		*o++ = 0xd7;
		*o++ = 0xff;
		return tw_mp_put64(o, (uint64_t)nsec << 34 | (uint64_t)sec);
	}
	*o++ = 0xc7;
	*o++ = 12;
	*o++ = 0xff;
	o = tw_mp_put32(o, (uint32_t)nsec);
	return tw_mp_put64(o, (uint64_t)sec);
}

void
tw_mpw_timestamp(struct tw_mpw *w, int64_t ns)
{
	int64_t sec, nsec;
	size_t len;
	uint8_t *o;

	timestamp_parts(ns, &sec, &nsec, &len);
	if ((o = tw_mpw_room(w, len)) != NULL)
		tw_mpw_commit(w, tw_mp_put_timestamp(o, ns));
}

static size_t
placeholder(struct tw_mpw *w, uint8_t tag)
{
	uint8_t h[5] = { tag, 0, 0, 0, 0 };
	size_t off = w->buf->len;

	tw_mpw_raw(w, h, sizeof(h));
	return off;
}

size_t
tw_mpw_map32_placeholder(struct tw_mpw *w)
{
	return placeholder(w, 0xdf);
}

size_t
tw_mpw_array32_placeholder(struct tw_mpw *w)
{
	return placeholder(w, 0xdd);
}

void
tw_mpw_patch32(struct tw_mpw *w, size_t off, uint32_t count)
{
	uint8_t *p;

	if (w->err != 0 || off + 5 > w->buf->len)
		return;
	p = (uint8_t *)w->buf->data + off + 1;
	p[0] = (uint8_t)(count >> 24);
	p[1] = (uint8_t)(count >> 16);
	p[2] = (uint8_t)(count >> 8);
	p[3] = (uint8_t)count;
}

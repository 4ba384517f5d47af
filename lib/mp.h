/* mp.h: a bounded, zero-copy msgpack reader and a bounded msgpack writer. */
#ifndef TW_MP_H
#define TW_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "buf.h"
#include "err.h"

/*
 * Reading. A reader walks a byte range and never reads past its end:
 * every length and count is checked against the bytes that remain before
 * anything trusts it, so a 5-byte header claiming 50 million elements is
 * refused with TW_EEOF without allocating. Strings, bins and ext payloads
 * are spans into the caller's buffer, valid as long as it is.
 */
struct tw_mp_reader {
	const uint8_t *p;
	const uint8_t *end;
};

enum tw_mp_type {
	TW_MP_NIL = 0,
	TW_MP_BOOL,
	TW_MP_UINT,  /* positive integers, any width */
	TW_MP_INT,   /* negative integers */
	TW_MP_FLOAT, /* float32 or float64, as double */
	TW_MP_STR,
	TW_MP_BIN,
	TW_MP_ARRAY,
	TW_MP_MAP,
	TW_MP_EXT,
};

struct tw_mp_obj {
	enum tw_mp_type type;
	int8_t ext_type; /* TW_MP_EXT */
	union {
		bool b;
		uint64_t u;
		int64_t i;
		double f;
		uint32_t count; /* ARRAY elements, MAP pairs */
		struct {
			const char *p;
			uint32_t len;
		} s; /* STR, BIN, EXT payload */
	} v;
};

/* msgpack's timestamp extension type. */
#define TW_MP_EXT_TIMESTAMP (-1)

static inline void
tw_mp_reader_init(struct tw_mp_reader *r, const void *p, size_t n)
{
	r->p = p;
	r->end = r->p + n;
}

static inline size_t
tw_mp_remaining(const struct tw_mp_reader *r)
{
	return (size_t)(r->end - r->p);
}

/*
 * Read one object header (and the payload of STR/BIN/EXT). For ARRAY and
 * MAP only the header is consumed; the elements follow. A count larger than
 * the bytes left could hold (1 byte an element) is TW_EEOF. TW_EMSGPACK for
 * the never-used byte 0xc1. On error the reader does not move.
 */
int tw_mp_read(struct tw_mp_reader *r, struct tw_mp_obj *o) TW_WARN_UNUSED;

/* Limits for validating or skipping whole values. */
struct tw_mp_limits {
	uint32_t depth_max; /* containers inside containers; 0 = scalars only */
	uint32_t map_max;   /* pairs in one map */
	uint32_t array_max; /* elements in one array */
};

/* DESIGN.md §8 defaults: depth 32, 65 536 map pairs and array elements. */
void tw_mp_limits_default(struct tw_mp_limits *lim);

/*
 * Consume one complete value, checking structure and limits without
 * recursion or allocation: TW_EDEPTH, TW_ELIMIT (map/array too large),
 * TW_EEOF (truncated), TW_EMSGPACK. On error the reader does not move.
 */
int tw_mp_skip(struct tw_mp_reader *r, const struct tw_mp_limits *lim)
    TW_WARN_UNUSED;

/* Decode a timestamp ext (4, 8 or 12 bytes) to ns since the epoch. */
int tw_mp_timestamp(const struct tw_mp_obj *o, int64_t *ns) TW_WARN_UNUSED;

/* Compare a STR object with a C string. */
bool tw_mp_str_eq(const struct tw_mp_obj *o, const char *s);

/*
 * In a map whose header was just read (count pairs follow), find key and
 * leave the reader on its value; the reader is left after the map when not
 * found (TW_ENOTFOUND). Values of other keys are skipped under lim.
 */
int tw_mp_map_find(struct tw_mp_reader *r, uint32_t count, const char *key,
    const struct tw_mp_limits *lim) TW_WARN_UNUSED;

/*
 * Look up a dotted path ("k8s.namespace") in the map value at p[0..n) and
 * return the value found. TW_ENOTFOUND when any step is missing or is not
 * a map.
 */
int tw_mp_path(const void *p, size_t n, const char *path,
    struct tw_mp_obj *out) TW_WARN_UNUSED;

/*
 * Writing. A writer packs straight into a bounded tw_buf, each value in
 * its shortest form (the bytes msgpack-c's packer would write); the first
 * failure (TW_ETOOBIG past the buffer's ceiling, TW_ENOMEM) sticks in err
 * and later writes do nothing, so callers check once at the end. A write
 * that fails appends nothing. The common writers are inline: a key that is
 * a string literal costs no strlen and no call.
 */
struct tw_mpw {
	struct tw_buf *buf;
	int err;
};

void tw_mpw_init(struct tw_mpw *w, struct tw_buf *buf);
/* Make the first error stick (a later one does not replace it). */
void tw_mpw_fail(struct tw_mpw *w, int err);
/*
 * Where n more bytes can be written (the buffer grown as needed), or NULL
 * with w->err set; tw_mpw_room is the inline fast path. Finish with
 * tw_mpw_commit(w, end) once the bytes are in place.
 */
uint8_t *tw_mpw_grow(struct tw_mpw *w, size_t n);

static inline uint8_t *
tw_mpw_room(struct tw_mpw *w, size_t n)
{
	struct tw_buf *b = w->buf;

	/* cap counts the terminating NUL; cap <= max + 1 keeps the ceiling */
	if (w->err == 0 && b->cap - b->len > n)
		return (uint8_t *)b->data + b->len;
	return tw_mpw_grow(w, n);
}

static inline void
tw_mpw_commit(struct tw_mpw *w, uint8_t *end)
{
	w->buf->len = (size_t)((char *)end - w->buf->data);
	*end = '\0';
}

/* Big-endian stores of the header helpers. */
static inline uint8_t *
tw_mp_put16(uint8_t *o, uint16_t v)
{
	o[0] = (uint8_t)(v >> 8);
	o[1] = (uint8_t)v;
	return o + 2;
}

static inline uint8_t *
tw_mp_put32(uint8_t *o, uint32_t v)
{
	o[0] = (uint8_t)(v >> 24);
	o[1] = (uint8_t)(v >> 16);
	o[2] = (uint8_t)(v >> 8);
	o[3] = (uint8_t)v;
	return o + 4;
}

static inline uint8_t *
tw_mp_put64(uint8_t *o, uint64_t v)
{
	tw_mp_put32(o, (uint32_t)(v >> 32));
	return tw_mp_put32(o + 4, (uint32_t)v);
}

/* The size of a str header for n bytes (n <= UINT32_MAX), and writing it. */
static inline size_t
tw_mp_str_header_len(size_t n)
{
	return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
}

static inline uint8_t *
tw_mp_put_str_header(uint8_t *o, size_t n)
{
	if (n < 32) {
		*o++ = (uint8_t)(0xa0 | n);
	} else if (n < 256) {
		*o++ = 0xd9;
		*o++ = (uint8_t)n;
	} else if (n < 65536) {
		*o++ = 0xda;
		o = tw_mp_put16(o, (uint16_t)n);
	} else {
		*o++ = 0xdb;
		o = tw_mp_put32(o, (uint32_t)n);
	}
	return o;
}

/* A bin header for n bytes (n <= UINT32_MAX), at most 5 bytes. */
static inline uint8_t *
tw_mp_put_bin_header(uint8_t *o, size_t n)
{
	if (n < 256) {
		*o++ = 0xc4;
		*o++ = (uint8_t)n;
	} else if (n < 65536) {
		*o++ = 0xc5;
		o = tw_mp_put16(o, (uint16_t)n);
	} else {
		*o++ = 0xc6;
		o = tw_mp_put32(o, (uint32_t)n);
	}
	return o;
}

/* An unsigned integer in its shortest form, at most 9 bytes. */
static inline uint8_t *
tw_mp_put_uint(uint8_t *o, uint64_t v)
{
	if (v < 128) {
		*o++ = (uint8_t)v;
	} else if (v < 256) {
		*o++ = 0xcc;
		*o++ = (uint8_t)v;
	} else if (v < 65536) {
		*o++ = 0xcd;
		o = tw_mp_put16(o, (uint16_t)v);
	} else if (v < ((uint64_t)1 << 32)) {
		*o++ = 0xce;
		o = tw_mp_put32(o, (uint32_t)v);
	} else {
		*o++ = 0xcf;
		o = tw_mp_put64(o, v);
	}
	return o;
}

/* A timestamp ext as tw_mpw_timestamp writes it, at most 15 bytes. */
uint8_t *tw_mp_put_timestamp(uint8_t *o, int64_t ns);

/* A map or array header: fix, 16 or 32 bits; tag16 is 0xde or 0xdc. */
static inline void
tw_mpw_container(struct tw_mpw *w, uint8_t fix, uint8_t tag16, uint32_t n)
{
	uint8_t *o;

	if ((o = tw_mpw_room(w, n < 16 ? 1 : n < 65536 ? 3 : 5)) == NULL)
		return;
	if (n < 16) {
		*o++ = (uint8_t)(fix | n);
	} else if (n < 65536) {
		*o++ = tag16;
		o = tw_mp_put16(o, (uint16_t)n);
	} else {
		*o++ = (uint8_t)(tag16 + 1);
		o = tw_mp_put32(o, n);
	}
	tw_mpw_commit(w, o);
}

static inline void
tw_mpw_map(struct tw_mpw *w, uint32_t n)
{
	tw_mpw_container(w, 0x80, 0xde, n);
}

static inline void
tw_mpw_array(struct tw_mpw *w, uint32_t n)
{
	tw_mpw_container(w, 0x90, 0xdc, n);
}

/* A str header for n bytes that the caller appends (tw_mpw_raw). */
static inline void
tw_mpw_str_header(struct tw_mpw *w, size_t n)
{
	uint8_t *o;

	if (n > UINT32_MAX) {
		tw_mpw_fail(w, TW_ETOOBIG);
		return;
	}
	if ((o = tw_mpw_room(w, tw_mp_str_header_len(n))) != NULL)
		tw_mpw_commit(w, tw_mp_put_str_header(o, n));
}

static inline void
tw_mpw_str(struct tw_mpw *w, const char *p, size_t n)
{
	uint8_t *o;

	if (n > UINT32_MAX) {
		tw_mpw_fail(w, TW_ETOOBIG);
		return;
	}
	if ((o = tw_mpw_room(w, tw_mp_str_header_len(n) + n)) == NULL)
		return;
	o = tw_mp_put_str_header(o, n);
	if (n > 0)
		memcpy(o, p, n);
	tw_mpw_commit(w, o + n);
}

static inline void
tw_mpw_cstr(struct tw_mpw *w, const char *s)
{
	tw_mpw_str(w, s, strlen(s));
}

/* A bin header for n bytes that the caller appends (tw_mpw_raw). */
static inline void
tw_mpw_bin_header(struct tw_mpw *w, size_t n)
{
	uint8_t *o;

	if (n > UINT32_MAX) {
		tw_mpw_fail(w, TW_ETOOBIG);
		return;
	}
	if ((o = tw_mpw_room(w, n < 256 ? 2 : n < 65536 ? 3 : 5)) != NULL)
		tw_mpw_commit(w, tw_mp_put_bin_header(o, n));
}

/* Copy already-encoded msgpack bytes. */
static inline void
tw_mpw_raw(struct tw_mpw *w, const void *p, size_t n)
{
	uint8_t *o;

	if ((o = tw_mpw_room(w, n)) == NULL)
		return;
	if (n > 0)
		memcpy(o, p, n);
	tw_mpw_commit(w, o + n);
}

static inline void
tw_mpw_bin(struct tw_mpw *w, const void *p, size_t n)
{
	size_t h = n < 256 ? 2 : n < 65536 ? 3 : 5;

	if (n > UINT32_MAX) {
		tw_mpw_fail(w, TW_ETOOBIG);
		return;
	}
	/* Header and body go in together or not at all. */
	if (tw_mpw_room(w, h + n) == NULL)
		return;
	tw_mpw_bin_header(w, n);
	tw_mpw_raw(w, p, n);
}

static inline void
tw_mpw_uint(struct tw_mpw *w, uint64_t v)
{
	uint8_t *o;

	if ((o = tw_mpw_room(w, v < 128 ? 1 : v < 256 ? 2 : v < 65536 ? 3 :
	    v < ((uint64_t)1 << 32) ? 5 : 9)) != NULL)
		tw_mpw_commit(w, tw_mp_put_uint(o, v));
}

static inline void
tw_mpw_int(struct tw_mpw *w, int64_t v)
{
	uint8_t *o;

	if (v >= 0) {
		tw_mpw_uint(w, (uint64_t)v);
		return;
	}
	if ((o = tw_mpw_room(w, v >= -32 ? 1 : v >= -128 ? 2 : v >= -32768 ? 3 :
	    v >= INT32_MIN ? 5 : 9)) == NULL)
		return;
	if (v >= -32) {
		*o++ = (uint8_t)v;
	} else if (v >= -128) {
		*o++ = 0xd0;
		*o++ = (uint8_t)v;
	} else if (v >= -32768) {
		*o++ = 0xd1;
		o = tw_mp_put16(o, (uint16_t)v);
	} else if (v >= INT32_MIN) {
		*o++ = 0xd2;
		o = tw_mp_put32(o, (uint32_t)v);
	} else {
		*o++ = 0xd3;
		o = tw_mp_put64(o, (uint64_t)v);
	}
	tw_mpw_commit(w, o);
}

/* One byte: nil, false, true. */
static inline void
tw_mpw_byte(struct tw_mpw *w, uint8_t c)
{
	uint8_t *o;

	if ((o = tw_mpw_room(w, 1)) != NULL) {
		*o = c;
		tw_mpw_commit(w, o + 1);
	}
}

static inline void
tw_mpw_bool(struct tw_mpw *w, bool v)
{
	tw_mpw_byte(w, v ? 0xc3 : 0xc2);
}

static inline void
tw_mpw_nil(struct tw_mpw *w)
{
	tw_mpw_byte(w, 0xc0);
}

/* float64, always (as msgpack-c packs a double). */
void tw_mpw_double(struct tw_mpw *w, double v);
/* A timestamp ext: 4 bytes when whole seconds fit 32 bits, else 8, else 12. */
void tw_mpw_timestamp(struct tw_mpw *w, int64_t ns);
/*
 * Headers of a fixed 5-byte width, to be patched once the count is known
 * (streaming conversions): returns the header's offset in the buffer.
 */
size_t tw_mpw_map32_placeholder(struct tw_mpw *w);
size_t tw_mpw_array32_placeholder(struct tw_mpw *w);
void tw_mpw_patch32(struct tw_mpw *w, size_t off, uint32_t count);

#endif

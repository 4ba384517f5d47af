/* mp.h: a bounded, zero-copy msgpack reader and a bounded msgpack writer. */
#ifndef TW_MP_H
#define TW_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

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
 * Writing. A writer packs with msgpack-c into a bounded tw_buf; the first
 * failure (TW_ETOOBIG past the buffer's ceiling, TW_ENOMEM) sticks in err
 * and later packs do nothing, so callers check once at the end.
 */
struct tw_mpw {
	msgpack_packer pk;
	struct tw_buf *buf;
	int err;
};

void tw_mpw_init(struct tw_mpw *w, struct tw_buf *buf);
void tw_mpw_map(struct tw_mpw *w, uint32_t n);
void tw_mpw_array(struct tw_mpw *w, uint32_t n);
void tw_mpw_str(struct tw_mpw *w, const char *p, size_t n);
void tw_mpw_cstr(struct tw_mpw *w, const char *s);
void tw_mpw_bin(struct tw_mpw *w, const void *p, size_t n);
void tw_mpw_uint(struct tw_mpw *w, uint64_t v);
void tw_mpw_int(struct tw_mpw *w, int64_t v);
void tw_mpw_double(struct tw_mpw *w, double v);
void tw_mpw_bool(struct tw_mpw *w, bool v);
void tw_mpw_nil(struct tw_mpw *w);
/* A timestamp ext: 8 bytes (timestamp64) when it fits, else 12. */
void tw_mpw_timestamp(struct tw_mpw *w, int64_t ns);
/* Copy already-encoded msgpack bytes. */
void tw_mpw_raw(struct tw_mpw *w, const void *p, size_t n);
/*
 * Headers of a fixed 5-byte width, to be patched once the count is known
 * (streaming conversions): returns the header's offset in the buffer.
 */
size_t tw_mpw_map32_placeholder(struct tw_mpw *w);
size_t tw_mpw_array32_placeholder(struct tw_mpw *w);
void tw_mpw_patch32(struct tw_mpw *w, size_t off, uint32_t count);

#endif

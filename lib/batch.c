/* batch.c: the batch codec: msgpack records in one zstd frame, under limits. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * ZSTD_getFrameHeader() and ZSTD_getCParams() are in zstd's "static
 * linking only" section, but libzstd.so exports them and they have not
 * changed since zstd 1.3; nothing else here needs that section.
 */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include "batch.h"

#define BATCH_CHUNK ((size_t)128 * 1024) /* output grows this much at a time */

struct tw_batch_enc {
	ZSTD_CCtx *cctx;
	struct tw_buf raw;
	struct tw_batch_limits lim;
	uint32_t records;
	int64_t time_min;
	int64_t time_max;
};

struct tw_batch_dec {
	ZSTD_DCtx *dctx;
};

void
tw_batch_limits_default(struct tw_batch_limits *lim)
{
	lim->compressed_max = (size_t)8 << 20;
	lim->decompressed_max = (size_t)64 << 20;
	lim->ratio_max = 100;
	lim->records_max = 100000;
	lim->record_max = (size_t)1 << 20;
	tw_mp_limits_default(&lim->mp);
}

int
tw_batch_http_status(int err)
{
	switch (err) {
	case 0:
		return 200;
	case TW_ETOOBIG:
	case TW_ERATIO:
	case TW_ELIMIT:
		return 413;
	case TW_EZSTD:
	case TW_EMSGPACK:
	case TW_EDEPTH:
	case TW_ECOUNT:
	case TW_EEOF:
		return 400;
	default:
		return 500;
	}
}

static int
zstd_err(size_t z)
{
	switch (ZSTD_getErrorCode(z)) {
	case ZSTD_error_memory_allocation:
		return TW_ENOMEM;
	case ZSTD_error_frameParameter_windowTooLarge:
		return TW_ELIMIT;
	default:
		return TW_EZSTD;
	}
}

/*
 * The reader's errors as a batch reports them: a truncated value and a
 * container over the mp limits are malformed input (400 in DESIGN.md §8),
 * not a batch limit (413).
 */
static int
mp_err(int rc)
{
	switch (rc) {
	case TW_EEOF:
	case TW_ELIMIT:
		return TW_EMSGPACK;
	default:
		return rc;
	}
}

/*
 * A record's time in ns, or an error when o is not a timestamp or is out
 * of int64 ns range. The range check for timestamp64 is done here because
 * tw_mp_timestamp() multiplies its 34-bit seconds without one (signed
 * overflow past 2262; found by fuzz_batch).
 */
static int
record_time(const struct tw_mp_obj *o, int64_t *ns)
{
	const uint8_t *p = (const uint8_t *)o->v.s.p;
	uint64_t sec;

	if (o->type == TW_MP_EXT && o->ext_type == TW_MP_EXT_TIMESTAMP &&
	    o->v.s.len == 8) {
		sec = ((uint64_t)(p[3] & 0x03) << 32) | (uint64_t)p[4] << 24 |
		    (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | p[7];
		if (sec > INT64_MAX / 1000000000 - 1)
			return TW_ELIMIT;
	}
	return tw_mp_timestamp(o, ns);
}

/*
 * Check that p[0..left) starts with one whole msgpack map under lim, spanning
 * at most record_max bytes (else TW_ELIMIT); *used gets its length and *ns
 * its top-level "time" (*has_time = 0 when absent or not a timestamp).
 */
static int
record_check(const uint8_t *p, size_t left, const struct tw_batch_limits *lim,
    size_t *used, int64_t *ns, int *has_time)
{
	struct tw_mp_reader r;
	struct tw_mp_obj o;
	size_t window = left < lim->record_max ? left : lim->record_max;
	int rc;

	*has_time = 0;
	tw_mp_reader_init(&r, p, window);
	if ((rc = tw_mp_read(&r, &o)) != 0)
		goto fail;
	if (o.type != TW_MP_MAP)
		return TW_EMSGPACK;
	tw_mp_reader_init(&r, p, window);
	if ((rc = tw_mp_skip(&r, &lim->mp)) != 0)
		goto fail;
	*used = window - tw_mp_remaining(&r);

	/* Already validated: looking up "time" cannot fail on structure. */
	tw_mp_reader_init(&r, p, *used);
	if (tw_mp_read(&r, &o) == 0 &&
	    tw_mp_map_find(&r, o.v.count, "time", &lim->mp) == 0 &&
	    tw_mp_read(&r, &o) == 0 && record_time(&o, ns) == 0)
		*has_time = 1;
	return 0;
fail:
	/*
	 * Cut short by record_max rather than by the end of the data: over
	 * the limit if the record is whole beyond it, malformed otherwise.
	 */
	if (rc == TW_EEOF && window < left) {
		tw_mp_reader_init(&r, p, left);
		if ((rc = tw_mp_skip(&r, &lim->mp)) == 0)
			return TW_ELIMIT;
	}
	return mp_err(rc);
}

/* --- encoding --- */

struct tw_batch_enc *
tw_batch_enc_new(int level)
{
	struct tw_batch_enc *enc;
	ZSTD_compressionParameters cp;
	int wlog;

	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
		return NULL;
	if ((enc = calloc(1, sizeof(*enc))) == NULL)
		return NULL;
	if ((enc->cctx = ZSTD_createCCtx()) == NULL)
		goto fail;
	/*
	 * Levels 20 and up default to windows of 32 MiB and more, which the
	 * decoder refuses: cap the window, leaving smaller defaults alone.
	 */
	cp = ZSTD_getCParams(level, 0, 0);
	wlog = (int)cp.windowLog;
	if (wlog > TW_BATCH_WINDOW_LOG_MAX)
		wlog = TW_BATCH_WINDOW_LOG_MAX;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(enc->cctx,
	    ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(enc->cctx,
	    ZSTD_c_windowLog, wlog)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(enc->cctx,
	    ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(enc->cctx,
	    ZSTD_c_contentSizeFlag, 1)))
		goto fail;
	tw_batch_limits_default(&enc->lim);
	tw_buf_init(&enc->raw, enc->lim.decompressed_max);
	tw_batch_enc_reset(enc);
	return enc;
fail:
	ZSTD_freeCCtx(enc->cctx);
	free(enc);
	return NULL;
}

void
tw_batch_enc_set_limits(struct tw_batch_enc *enc,
    const struct tw_batch_limits *lim)
{
	enc->lim = *lim;
	enc->raw.max = lim->decompressed_max;
}

int
tw_batch_enc_add(struct tw_batch_enc *enc, const void *rec, size_t n)
{
	int64_t ns = 0;
	size_t used;
	int has_time, rc;

	if ((rc = record_check(rec, n, &enc->lim, &used, &ns,
	    &has_time)) != 0)
		return rc;
	if (used != n)
		return TW_EMSGPACK; /* bytes after the map */
	if (n > enc->lim.decompressed_max)
		return TW_ELIMIT;
	if (enc->records >= enc->lim.records_max ||
	    enc->raw.len > enc->raw.max || n > enc->raw.max - enc->raw.len)
		return TW_ETOOBIG;
	if ((rc = tw_buf_add(&enc->raw, rec, n)) != 0)
		return rc;
	enc->records++;
	if (has_time) {
		if (ns < enc->time_min)
			enc->time_min = ns;
		if (ns > enc->time_max)
			enc->time_max = ns;
	}
	return 0;
}

size_t
tw_batch_enc_records(const struct tw_batch_enc *enc)
{
	return enc->records;
}

size_t
tw_batch_enc_raw_len(const struct tw_batch_enc *enc)
{
	return enc->raw.len;
}

int
tw_batch_enc_finish(struct tw_batch_enc *enc, struct tw_buf *out,
    struct tw_batch_info *info)
{
	static const char empty[1];
	size_t bound = ZSTD_compressBound(enc->raw.len), z;
	int rc;

	if ((rc = tw_buf_reserve(out, bound)) != 0)
		return rc;
	/* compress2 puts the content size in the header (contentSizeFlag). */
	z = ZSTD_compress2(enc->cctx, out->data + out->len, bound,
	    enc->raw.len != 0 ? enc->raw.data : empty, enc->raw.len);
	if (ZSTD_isError(z)) {
		out->data[out->len] = '\0';
		return zstd_err(z);
	}
	out->len += z;
	out->data[out->len] = '\0';
	if (info != NULL) {
		info->records = enc->records;
		info->time_min = enc->time_min;
		info->time_max = enc->time_max;
		info->raw_len = enc->raw.len;
		info->compressed_len = z;
	}
	tw_batch_enc_reset(enc);
	return 0;
}

void
tw_batch_enc_reset(struct tw_batch_enc *enc)
{
	tw_buf_reset(&enc->raw);
	enc->records = 0;
	enc->time_min = INT64_MAX;
	enc->time_max = INT64_MIN;
}

void
tw_batch_enc_free(struct tw_batch_enc *enc)
{
	if (enc == NULL)
		return;
	ZSTD_freeCCtx(enc->cctx);
	tw_buf_cleanup(&enc->raw);
	free(enc);
}

/* --- decoding --- */

struct tw_batch_dec *
tw_batch_dec_new(void)
{
	struct tw_batch_dec *dec;

	if ((dec = calloc(1, sizeof(*dec))) == NULL)
		return NULL;
	if ((dec->dctx = ZSTD_createDCtx()) == NULL ||
	    ZSTD_isError(ZSTD_DCtx_setParameter(dec->dctx,
	    ZSTD_d_windowLogMax, TW_BATCH_WINDOW_LOG_MAX))) {
		ZSTD_freeDCtx(dec->dctx);
		free(dec);
		return NULL;
	}
	return dec;
}

void
tw_batch_dec_free(struct tw_batch_dec *dec)
{
	if (dec == NULL)
		return;
	ZSTD_freeDCtx(dec->dctx);
	free(dec);
}

/*
 * Can the one frame in frame[0..n) produce the content size its header
 * declares? Walks the block headers (3 bytes each, not the blocks) to the
 * end of the frame, which must be the end of the input, adding up the
 * most each block can produce: its size for raw and RLE blocks, the block
 * maximum for compressed ones. A frame that fails (cut short, trailing
 * bytes, a reserved block type, or too few blocks for its declared size)
 * is left to the chunked path, which finds and reports what is wrong; a
 * frame that passes may still be corrupt inside its compressed blocks.
 */
static bool
frame_plausible(const ZSTD_frameHeader *zfh, const uint8_t *p, size_t n)
{
	size_t off = zfh->headerSize, size;
	uint64_t bound = 0;
	uint32_t bh;

	if (off > n)
		return false;
	do {
		if (n - off < 3)
			return false;
		bh = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
		    (uint32_t)p[off + 2] << 16;
		off += 3;
		size = bh >> 3;
		if (size > zfh->blockSizeMax)
			return false;
		switch ((bh >> 1) & 3) {
		case 0: /* raw: size bytes, copied */
			if (n - off < size)
				return false;
			off += size;
			bound += size;
			break;
		case 1: /* RLE: one byte, repeated size times */
			if (n - off < 1)
				return false;
			off += 1;
			bound += size;
			break;
		case 2: /* compressed: size bytes, at most a block out */
			if (n - off < size)
				return false;
			off += size;
			bound += zfh->blockSizeMax;
			break;
		default:
			return false;
		}
	} while ((bh & 1) == 0);
	if (zfh->checksumFlag) {
		if (n - off < 4)
			return false;
		off += 4;
	}
	return off == n && bound >= zfh->frameContentSize;
}

/*
 * The capacity a buffer that started empty has once grown to hold need
 * bytes (tw_buf_reserve() doubles from 64 bytes, never past ceiling + 1).
 */
static size_t
fresh_cap(size_t cap, size_t need, size_t ceiling)
{
	if (need <= cap)
		return cap;
	cap = cap != 0 ? cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > ceiling + 1)
		cap = ceiling + 1;
	if (cap < need)
		cap = need;
	return cap;
}

/*
 * Decompress the one frame in[] into out, never letting out->len pass
 * ceiling. Chunked (whole == 0), memory follows the bytes actually
 * produced, not what the frame claims: output space grows a chunk at a
 * time and, once at the ceiling, a 1-byte probe tells whether the frame
 * has more (over is then returned). zstd is handed the space a buffer
 * that started empty would have (fresh_cap()), whatever memory out
 * already has, so that how far a bad frame gets, and so the error it
 * gets, never depends on the batches decoded before it. Whole, out
 * already has room for the declared content size and zstd is handed all
 * of it (up to the ceiling), so that it decompresses in one pass straight
 * into out rather than through its window buffer.
 */
static int
inflate(ZSTD_DCtx *dctx, const void *frame, size_t n, size_t ceiling,
    int over, int whole, struct tw_buf *out)
{
	ZSTD_inBuffer in = { frame, n, 0 };
	ZSTD_outBuffer ob;
	uint8_t probe[1];
	size_t z = 1, room, in_before, vcap = 0;
	int rc;

	while (z != 0) {
		in_before = in.pos;
		if (out->len == ceiling) {
			ob.dst = probe;
			ob.size = sizeof(probe);
		} else {
			room = ceiling - out->len;
			if (whole && out->cap - 1 > out->len) {
				/* The room reserved for the content size. */
				if (room > out->cap - 1 - out->len)
					room = out->cap - 1 - out->len;
			} else {
				if (room > BATCH_CHUNK)
					room = BATCH_CHUNK;
				vcap = fresh_cap(vcap, out->len + room + 1,
				    ceiling);
				room = vcap - 1 - out->len;
				if (room > ceiling - out->len)
					room = ceiling - out->len;
				if ((rc = tw_buf_reserve(out, room)) != 0)
					return rc;
			}
			ob.dst = out->data + out->len;
			ob.size = room;
		}
		ob.pos = 0;
		z = ZSTD_decompressStream(dctx, &ob, &in);
		if (ZSTD_isError(z))
			return zstd_err(z);
		if (ob.dst == probe) {
			if (ob.pos != 0)
				return over;
		} else {
			out->len += ob.pos;
			out->data[out->len] = '\0';
		}
		/* Input used up with room to spare and no end: truncated. */
		if (z != 0 && in.pos == in.size && ob.pos < ob.size)
			return TW_EZSTD;
		if (z != 0 && in.pos == in_before && ob.pos == 0)
			return TW_EZSTD; /* no progress; cannot happen */
	}
	/* ZSTD_decompressStream() stops at the end of a frame. */
	if (in.pos != in.size)
		return TW_EZSTD;
	return 0;
}

/* Walk the decompressed records, checking each under lim; fill info. */
static int
walk(const struct tw_buf *out, const struct tw_batch_limits *lim,
    int64_t expect_records, struct tw_batch_info *info)
{
	const uint8_t *p = (const uint8_t *)out->data;
	size_t off = 0, used;
	int64_t ns = 0;
	int has_time, rc;

	info->records = 0;
	info->time_min = INT64_MAX;
	info->time_max = INT64_MIN;
	while (off < out->len) {
		if (info->records >= lim->records_max)
			return TW_ELIMIT;
		if (expect_records >= 0 && info->records >= expect_records)
			return TW_ECOUNT;
		if ((rc = record_check(p + off, out->len - off, lim, &used,
		    &ns, &has_time)) != 0)
			return rc;
		off += used;
		info->records++;
		if (has_time) {
			if (ns < info->time_min)
				info->time_min = ns;
			if (ns > info->time_max)
				info->time_max = ns;
		}
	}
	if (expect_records >= 0 && info->records != expect_records)
		return TW_ECOUNT;
	info->raw_len = out->len;
	return 0;
}

int
tw_batch_decode(struct tw_batch_dec *dec, const void *frame, size_t n,
    const struct tw_batch_limits *lim, int64_t expect_records,
    struct tw_buf *out, struct tw_batch_info *info)
{
	struct tw_batch_info tmp;
	ZSTD_frameHeader zfh;
	size_t ceiling, z, out_max = out->max;
	int over, rc;

	tw_buf_reset(out);
	if (n > lim->compressed_max) {
		rc = TW_ETOOBIG;
		goto out;
	}
	if (expect_records > (int64_t)lim->records_max) {
		rc = TW_ELIMIT;
		goto out;
	}

	/* One zstd frame (not skippable, not legacy), checked before use. */
	z = ZSTD_getFrameHeader(&zfh, frame, n);
	if (ZSTD_isError(z) || z != 0 || zfh.frameType != ZSTD_frame) {
		rc = TW_EZSTD;
		goto out;
	}
	if (zfh.windowSize > TW_BATCH_WINDOW_MAX) {
		rc = TW_ELIMIT;
		goto out;
	}

	/*
	 * The output's ceiling is the smallest of decompressed_max, the ratio
	 * allowance and the caller's own; over is the error crossing it gives.
	 */
	ceiling = lim->decompressed_max;
	over = TW_ETOOBIG;
	if (lim->ratio_max != 0) {
		/*
		 * The ratio counts past the first MiB (RELIABILITY.md §5): a
		 * small batch of repetitive lines is no bomb.
		 */
		size_t allow = n > (SIZE_MAX - TW_BATCH_RATIO_FREE) /
		    lim->ratio_max ? SIZE_MAX :
		    TW_BATCH_RATIO_FREE + n * lim->ratio_max;
		if (allow < ceiling) {
			ceiling = allow;
			over = TW_ERATIO;
		}
	}
	if (out_max < ceiling) {
		ceiling = out_max;
		over = TW_ETOOBIG;
	}
	if (zfh.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN) {
		if (zfh.frameContentSize > lim->decompressed_max) {
			rc = TW_ETOOBIG;
			goto out;
		}
		if (zfh.frameContentSize > ceiling) {
			rc = over;
			goto out;
		}
	}

	/* out's allocation stays within the ceiling too (and its NUL). */
	out->max = ceiling;
	ZSTD_DCtx_reset(dec->dctx, ZSTD_reset_session_only);
	/*
	 * A frame that can hold what it declares is decompressed in one pass
	 * into room for exactly that (the ceiling allows it, checked above).
	 * Should that fail, the chunked path runs from the start instead, so
	 * that the error (and the memory a bad frame gets) is the one it
	 * gives, whatever one pass would have run into first.
	 */
	rc = TW_EZSTD;
	if (zfh.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN &&
	    frame_plausible(&zfh, frame, n) &&
	    tw_buf_reserve(out, (size_t)zfh.frameContentSize) == 0 &&
	    (rc = inflate(dec->dctx, frame, n, ceiling, over, 1, out)) != 0) {
		ZSTD_DCtx_reset(dec->dctx, ZSTD_reset_session_only);
		tw_buf_reset(out);
	}
	if (rc != 0 &&
	    (rc = inflate(dec->dctx, frame, n, ceiling, over, 0, out)) != 0)
		goto out;
	/* zstd skips this check when the last block is empty. */
	if (zfh.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN &&
	    zfh.frameContentSize != out->len) {
		rc = TW_EZSTD;
		goto out;
	}
	if ((rc = walk(out, lim, expect_records, &tmp)) != 0)
		goto out;
	tmp.compressed_len = n;
	if (info != NULL)
		*info = tmp;
out:
	out->max = out_max;
	if (rc != 0) {
		ZSTD_DCtx_reset(dec->dctx, ZSTD_reset_session_only);
		tw_buf_reset(out);
	}
	return rc;
}

int
tw_batch_next(const struct tw_buf *records, size_t *off, const uint8_t **rec,
    size_t *len)
{
	/* Looser than any decoder's limits: only finds the record's end. */
	static const struct tw_mp_limits any = { 64, UINT32_MAX, UINT32_MAX };
	struct tw_mp_reader r;
	const uint8_t *p;

	if (*off >= records->len)
		return 0;
	p = (const uint8_t *)records->data + *off;
	tw_mp_reader_init(&r, p, records->len - *off);
	if (tw_mp_skip(&r, &any) != 0)
		return TW_EMSGPACK;
	*rec = p;
	*len = (size_t)(r.p - p);
	*off += *len;
	return 1;
}

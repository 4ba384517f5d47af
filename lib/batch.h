/* batch.h: the batch codec (DESIGN.md §3): msgpack records in a zstd frame. */
#ifndef TW_BATCH_H
#define TW_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "mp.h"

/*
 * A batch is one zstd frame whose content is a sequence of msgpack maps,
 * one per record, back to back. Its metadata travels beside it (HTTP
 * headers, the store's block header) as a tw_batch_info.
 */
struct tw_batch_info {
	uint32_t records;
	int64_t time_min;	/* ns; INT64_MAX when no record has a time */
	int64_t time_max;	/* ns; INT64_MIN when no record has a time */
	uint64_t raw_len;	/* uncompressed bytes */
	size_t compressed_len;
};

/*
 * The Kafka transport (docs/protocol.md): one batch is one Kafka message
 * whose value is the zstd frame, whose key is the agent id, and whose
 * headers carry its identity in ASCII: the agent id, and the batch seq
 * and record count in decimal (as the HTTP headers Trawl-Agent,
 * Trawl-Batch and Trawl-Records do). Each header appears once.
 */
#define TW_BATCH_KAFKA_AGENT "trawl-agent"
#define TW_BATCH_KAFKA_SEQ "trawl-batch"
#define TW_BATCH_KAFKA_RECORDS "trawl-records"

/* Frames whose window is larger than this are refused (TW_ELIMIT). */
#define TW_BATCH_WINDOW_LOG_MAX 23
#define TW_BATCH_WINDOW_MAX ((size_t)1 << TW_BATCH_WINDOW_LOG_MAX)
/* Decompressed bytes the ratio limit does not count (the first MiB). */
#define TW_BATCH_RATIO_FREE ((size_t)1 << 20)

/* DESIGN.md §8: what a decoder accepts; every field is checked. */
struct tw_batch_limits {
	size_t compressed_max;	 /* frame bytes; 8 MiB */
	size_t decompressed_max; /* content bytes; 64 MiB */
	uint32_t ratio_max;	 /* content / frame bytes; 100; 0 = none */
	uint32_t records_max;	 /* 100 000 */
	size_t record_max;	 /* bytes in one record; 1 MiB */
	struct tw_mp_limits mp;	 /* depth 32, 65 536 pairs/elements */
};

/* Fill lim with the DESIGN.md §8 defaults. */
void tw_batch_limits_default(struct tw_batch_limits *lim);

/*
 * The HTTP status DESIGN.md §3 gives for a tw_batch_decode() result: 200
 * for 0, 413 for TW_ETOOBIG/TW_ERATIO/TW_ELIMIT, 400 for TW_EZSTD,
 * TW_EMSGPACK, TW_EDEPTH, TW_ECOUNT and TW_EEOF, 500 for anything else.
 */
int tw_batch_http_status(int err);

/*
 * Encoding. An encoder collects record bytes and compresses them into one
 * frame (content size in the header, XXH64 checksum, window at most
 * TW_BATCH_WINDOW_MAX so any decoder here accepts it). It owns one
 * ZSTD_CCtx: use one encoder per thread; it is not thread-safe.
 */
struct tw_batch_enc;

/*
 * A new encoder compressing at zstd level (0 = zstd's default; out of
 * range is NULL), with the default limits; NULL on allocation failure.
 */
struct tw_batch_enc *tw_batch_enc_new(int level);

/*
 * Use lim for later adds: decompressed_max caps the raw bytes of a batch,
 * records_max its records, record_max and mp each record, so a batch the
 * encoder builds passes a decoder given the same limits. compressed_max
 * and ratio_max are not known before compression and are not checked.
 */
void tw_batch_enc_set_limits(struct tw_batch_enc *enc,
    const struct tw_batch_limits *lim);

/*
 * Copy one record (exactly one msgpack map, n bytes) into the batch and
 * track its top-level "time". TW_EMSGPACK when it is not exactly one map,
 * TW_EDEPTH when nested deeper than the limits, TW_ELIMIT when it could
 * never fit a batch (over record_max or the raw cap), TW_ETOOBIG when this
 * batch is full (finish it, then add again), TW_ENOMEM. On error the batch
 * is unchanged.
 */
int tw_batch_enc_add(struct tw_batch_enc *enc, const void *rec, size_t n)
    TW_WARN_UNUSED;

/* Records added since the last finish or reset. */
size_t tw_batch_enc_records(const struct tw_batch_enc *enc);

/* Raw (uncompressed) bytes added since the last finish or reset. */
size_t tw_batch_enc_raw_len(const struct tw_batch_enc *enc);

/*
 * Compress the records into one frame appended to out, fill info (may be
 * NULL) and start an empty batch. TW_ETOOBIG when out's ceiling cannot
 * hold the worst case (ZSTD_compressBound), TW_ENOMEM, TW_EZSTD; on error
 * the records are kept and out is unchanged.
 */
int tw_batch_enc_finish(struct tw_batch_enc *enc, struct tw_buf *out,
    struct tw_batch_info *info) TW_WARN_UNUSED;

/* Drop the records added since the last finish, keeping the memory. */
void tw_batch_enc_reset(struct tw_batch_enc *enc);

/* Free the encoder; NULL is a no-op. */
void tw_batch_enc_free(struct tw_batch_enc *enc);

/*
 * Decoding. A decoder owns one ZSTD_DCtx (window at most
 * TW_BATCH_WINDOW_MAX, so at most about 8 MiB of its own memory): use one
 * per thread; it is not thread-safe.
 */
struct tw_batch_dec;

/* A new decoder; NULL on allocation failure. */
struct tw_batch_dec *tw_batch_dec_new(void);

/*
 * Decode the frame frame[0..n) into out (reset first, its memory reused)
 * and validate its records under lim; expect_records is the count the
 * sender declared, or -1 when unknown. Every limit is checked before the
 * memory is committed: the header's window and content size before any
 * byte is decompressed, and the output while streaming, so out never
 * grows past min(decompressed_max, n * ratio_max, out->max) however large
 * the frame claims or turns out to be. Errors: TW_ETOOBIG (frame over
 * compressed_max, content over decompressed_max or out->max), TW_ERATIO,
 * TW_ELIMIT (window over TW_BATCH_WINDOW_MAX, records over records_max or
 * expect_records over it, a record over record_max), TW_EZSTD (not one
 * whole zstd frame: bad, truncated, checksum mismatch, skippable, trailing
 * bytes or a second frame), TW_EMSGPACK (malformed or truncated msgpack, a
 * record that is not a map, a map or array over the mp limits: DESIGN.md
 * §8 answers those with 400), TW_EDEPTH, TW_ECOUNT (expect_records
 * differs), TW_ENOMEM. On success info (may be NULL) describes the batch;
 * on error out is empty and info is untouched.
 */
int tw_batch_decode(struct tw_batch_dec *dec, const void *frame, size_t n,
    const struct tw_batch_limits *lim, int64_t expect_records,
    struct tw_buf *out, struct tw_batch_info *info) TW_WARN_UNUSED;

/*
 * Iterate the records of a buffer tw_batch_decode() accepted: start with
 * *off = 0; each call sets *rec and *len to the next record (a span into
 * records) and returns 1, then 0 at the end. TW_EMSGPACK if the buffer was
 * not validated and is malformed.
 */
int tw_batch_next(const struct tw_buf *records, size_t *off,
    const uint8_t **rec, size_t *len);

/* Free the decoder; NULL is a no-op. */
void tw_batch_dec_free(struct tw_batch_dec *dec);

#endif

/* batcher.h: records into batches, cut by size, record count and linger. */
#ifndef TRAWL_AGENT_BATCHER_H
#define TRAWL_AGENT_BATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "buf.h"
#include "err.h"

struct batcher_opts {
	uint64_t max_bytes;	/* compressed size to aim at */
	uint32_t max_records;
	uint64_t linger_ms;	/* a batch is cut this long after its first
				   record */
	int zstd_level;
};

/*
 * One batch being built, owned by one thread (it holds a zstd context).
 * The caps are soft: the owner asks batcher_full() between records that
 * must stay together and cuts there, so one line's records never straddle
 * two batches. The compressed size is not known before compressing; it is
 * estimated from the previous batches' ratio. The hard limits (those of a
 * default collector, DESIGN.md §8) are far above the soft ones: adding
 * past them gives TW_ETOOBIG.
 */
struct batcher;

/* A new batcher; NULL when out of memory or the zstd level is invalid. */
struct batcher *batcher_new(const struct batcher_opts *o);

/*
 * Add one record (one msgpack map); now_ms (a monotonic clock) starts the
 * linger with the first record. TW_ETOOBIG (full: finish, then add
 * again), TW_ELIMIT (the record can never be sent: over the collector's
 * record limit), TW_EMSGPACK, TW_EDEPTH, TW_ENOMEM.
 */
int batcher_add(struct batcher *b, const uint8_t *rec, size_t n,
    int64_t now_ms) TW_WARN_UNUSED;

/* Records in the batch being built. */
size_t batcher_records(const struct batcher *b);

/* Have the soft caps been reached? */
bool batcher_full(const struct batcher *b);

/* When linger expires (monotonic ms), or -1 when the batch is empty. */
int64_t batcher_deadline(const struct batcher *b);

/*
 * Compress the records into a frame appended to frame, fill info and
 * start an empty batch. TW_ENOMEM, TW_EZSTD, TW_ETOOBIG; on error the
 * records are kept.
 */
int batcher_finish(struct batcher *b, struct tw_buf *frame,
    struct tw_batch_info *info) TW_WARN_UNUSED;

/* Free; NULL is a no-op. */
void batcher_free(struct batcher *b);

#endif

/* store_reader.h: reading and verifying the segment store (docs/store.md). */
#ifndef TW_STORE_READER_H
#define TW_STORE_READER_H

/*
 * A reader walks a store's blocks in chain order while a writer (another
 * process, or another thread) may be appending, sealing and deleting. It
 * only ever returns whole blocks whose hash checks: an incomplete or
 * damaged block at the end of the open segment is "not there yet"
 * (tw_store_reader_next() returns 0 and a later call sees it once it is
 * whole); a damaged block with whole blocks after it is reported once
 * and skipped. Readers take no lock and never write.
 *
 * A reader is one iterator: not thread-safe; use one per thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"
#include "store_format.h"

/* One block, as tw_store_reader_next() returns it. */
struct tw_store_block {
	struct tw_store_pos pos;  /* where its header starts */
	struct tw_store_pos next; /* where the block after it starts: the
				   * durable cursor to save once this block
				   * is consumed (tw_store_reader_seek_pos) */
	uint64_t index;		  /* position in the chain */
	uint32_t records;
	int64_t time_min;	  /* ns; INT64_MAX when no record has one */
	int64_t time_max;	  /* ns; INT64_MIN when no record has one */
	int64_t received_at;
	uint64_t seq;
	const char *agent_id;	  /* NUL-terminated */
	const uint8_t *prev_hash; /* TW_STORE_HASH_LEN bytes */
	const uint8_t *hash;
	const uint8_t *body;	  /* the batch's zstd frame (batch.h) */
	size_t body_len;
};

struct tw_store_reader_stats {
	uint64_t segments_opened;  /* segment files opened */
	uint64_t segments_skipped; /* sealed segments outside the time
				    * range, skipped unopened by their index */
	uint64_t blocks;	   /* blocks returned */
	uint64_t blocks_skipped;   /* outside the time range; bodies unread */
	uint64_t bytes;		   /* block bytes read */
	uint64_t damaged;	   /* damaged blocks met and skipped */
};

struct tw_store_reader;

/*
 * A reader over the store directory dir (not <data_dir>: see
 * tw_store_find_dir()), positioned before the first retained block, with
 * no time bounds. NULL with *why (malloc'd, may be NULL) when the
 * directory cannot be opened or listed or memory runs out.
 */
struct tw_store_reader *tw_store_reader_open(const char *dir, char **why);

/*
 * Restart from the first block and from now on return only blocks whose
 * time range meets [from_ns, to_ns] (inclusive): sealed segments outside
 * it are not opened, and blocks outside it are skipped by their header
 * (or index) without reading their bodies. Records inside a returned
 * block may still lie outside the range: filtering records is the
 * caller's job. INT64_MIN/INT64_MAX bound nothing; a block with no
 * timed record only matches when neither bound is set.
 */
void tw_store_reader_seek_time(struct tw_store_reader *r, int64_t from_ns,
    int64_t to_ns);

/*
 * Continue from pos (a tw_store_block.next saved earlier), keeping the
 * time bounds. TW_ENOTFOUND when that segment no longer exists (deleted
 * by retention: restart from the first block) or not yet; TW_EINVAL when
 * pos is not where a block starts or ends (after a crash the writer may
 * have cut a tail the cursor had passed: restart from the segment's
 * start); TW_EIO.
 */
int tw_store_reader_seek_pos(struct tw_store_reader *r,
    const struct tw_store_pos *pos) TW_WARN_UNUSED;

/*
 * The next whole, hash-checked block: 1 and *b (its pointers are valid
 * until the next call on r), 0 when there is none yet (call again later
 * to follow a live store), TW_EPARSE after meeting a damaged block (see
 * tw_store_reader_error(); the next call continues after it), TW_EIO,
 * TW_ENOMEM.
 */
int tw_store_reader_next(struct tw_store_reader *r, struct tw_store_block *b)
    TW_WARN_UNUSED;

/* What the last TW_EPARSE or TW_EIO was about ("" if nothing). */
const char *tw_store_reader_error(const struct tw_store_reader *r);

void tw_store_reader_stats(const struct tw_store_reader *r,
    struct tw_store_reader_stats *out);

/* Close the reader; NULL is a no-op. */
void tw_store_reader_free(struct tw_store_reader *r);

/* What tw_store_verify() found. */
struct tw_store_verify_result {
	uint64_t blocks;      /* blocks whose hash and chain link checked */
	uint64_t segments;    /* segments walked */
	uint64_t checkpoints; /* checkpoints that matched their segment */
	uint64_t signatures;  /* of them, signatures checked with the key */
	bool bad;	      /* the fields below name the first problem */
	char file[TW_STORE_NAME_MAX + 8]; /* segment file (or "anchor") */
	uint64_t offset;      /* byte offset of the bad block in it */
	uint64_t index;	      /* the bad block's position in the chain */
	char what[256];	      /* hash mismatch, broken chain link, ... */
};

/*
 * Walk the chain of the store at dir from the anchor (or genesis) to the
 * last block: every block's hash, every link and index, every sealed
 * segment's checkpoint against its blocks, and with key_path (may be
 * NULL; an HMAC secret or an Ed25519 PEM key) every checkpoint's
 * signature, including the one kept in the anchor. Returns 0 when the
 * walk could be made (res->bad says whether the store is intact), or an
 * error with *why (malloc'd) when it could not: TW_EIO (unreadable), TW_EINVAL
 * (unusable key), TW_ENOMEM. Tolerates a live writer: a block still
 * being written at the very end is waited for briefly.
 */
int tw_store_verify(const char *dir, const char *key_path,
    struct tw_store_verify_result *res, char **why) TW_WARN_UNUSED;

#endif

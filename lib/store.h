/* store.h: the collector's segment store, writer side (docs/store.md). */
#ifndef TW_STORE_H
#define TW_STORE_H

/*
 * A store is a directory (the collector uses <data_dir>/store) of
 * append-only segment files. Each accepted batch becomes one block: a
 * small header and the batch's zstd frame verbatim, chained to the block
 * before it by SHA-256 (DESIGN.md §4). One process writes (an exclusive
 * lock on <dir>/LOCK); any number of readers (store_reader.h) may read
 * at the same time, from other processes too.
 *
 * tw_store_append() acknowledges a batch only once its block is on disk
 * (fdatasync), and concurrent callers share that fdatasync (group
 * commit): the first caller to find no commit in progress writes every
 * pending block with one pwritev and one fdatasync, then wakes the
 * others.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "err.h"
#include "store_format.h"

/*
 * Options, with the defaults tw_store_opts_default() sets. The collector's
 * config table maps its keys onto these fields one to one. Writes are
 * always fsync'd: there is deliberately no option to turn that off.
 */
struct tw_store_opts {
	/*
	 * store.segment_max_bytes: seal the open segment when the next
	 * block would make it larger than this (a block larger than this
	 * gets a segment of its own). Default 128 MiB; at least 4 KiB.
	 */
	uint64_t segment_max_bytes;
	/*
	 * store.segment_max_age: seal the open segment once its first block
	 * is this old (checked on append and on tw_store_tick()). Default
	 * 1 h; 0 seals by size only.
	 */
	int64_t segment_max_age_ns;
	/*
	 * store.retention_bytes: delete the oldest sealed segments while
	 * all segments together are larger than this. Default 0 (no limit
	 * by size). The open segment is never deleted.
	 */
	uint64_t retention_bytes;
	/*
	 * store.retention_age: delete a sealed segment once its newest
	 * block was received longer ago than this. Default 0 (no limit by
	 * age).
	 */
	int64_t retention_age_ns;
	/*
	 * store.checkpoint_signing: how sealed segments' checkpoints are
	 * signed: TW_STORE_SIG_NONE (default; checkpoints are written but
	 * unsigned), TW_STORE_SIG_HMAC_SHA256 or TW_STORE_SIG_ED25519.
	 */
	enum tw_store_sig checkpoint_signing;
	/*
	 * store.checkpoint_key_file: the signing key: for HMAC a secret of
	 * at least 16 bytes (trailing newline ignored), for Ed25519 a PEM
	 * private key (`openssl genpkey -algorithm ed25519`). Read once by
	 * tw_store_open(); the string is not kept. Required unless signing
	 * is NONE.
	 */
	const char *checkpoint_key_file;
	/*
	 * store.block_max_bytes: the largest batch frame accepted (larger is
	 * TW_ETOOBIG). Default 64 MiB; at most TW_STORE_BODY_MAX.
	 */
	uint32_t block_max_bytes;
	/*
	 * store.dedup_gaps_max: per agent, how many separate runs of stored
	 * sequence numbers are remembered (out-of-order arrivals open gaps;
	 * they close as the missing batches arrive). Past it the oldest gap
	 * is closed by force (its missing seqs count as stored) and
	 * dedup_gaps_forced is incremented. Default 1024.
	 */
	uint32_t dedup_gaps_max;
};

/* Fill o with the defaults documented above. */
void tw_store_opts_default(struct tw_store_opts *o);

/* Where a block is: a segment id and the byte offset of its header. */
struct tw_store_pos {
	uint64_t segment;
	uint64_t offset;
};

/* Counters and gauges, read with tw_store_stats(). */
struct tw_store_stats {
	uint64_t bytes;		  /* gauge: bytes in all segment files */
	uint64_t segments;	  /* gauge: segment files */
	uint64_t blocks;	  /* gauge: blocks in the retained segments */
	uint64_t agents;	  /* gauge: agents in the dedup state */
	uint64_t appends;	  /* blocks stored since open */
	uint64_t append_bytes;	  /* their bytes, headers included */
	uint64_t duplicates;	  /* appends refused as already stored */
	uint64_t append_errors;	  /* appends that failed (I/O) */
	uint64_t commits;	  /* group commits (one per fdatasync) */
	uint64_t fsyncs;	  /* fdatasync calls on segment files */
	uint64_t dir_fsyncs;	  /* fsync calls on the directory */
	uint64_t meta_fsyncs;	  /* fsyncs of index/checkpoint/anchor */
	uint64_t last_fsync_ns;	  /* latency of the last fdatasync */
	uint64_t max_group;	  /* most blocks one commit wrote */
	uint64_t sealed;	  /* segments sealed since open */
	uint64_t seal_errors;	  /* seals that failed (retried later) */
	uint64_t retention_deleted;	/* segments deleted since open */
	uint64_t retention_deleted_bytes;
	uint64_t torn_cut_bytes;  /* bytes cut from a torn tail at open */
	uint64_t corrupt_blocks;  /* damaged blocks found at open (kept) */
	uint64_t dedup_gaps_forced;
	uint64_t next_index;	  /* gauge: chain index of the next block
				   * (consumers' lag = this - theirs) */
	bool failed;		  /* a sticky write/fsync error: reopen */
};

struct tw_store;

/*
 * Open (creating the directory if needed) the store at dir for writing
 * and take its lock. Scans the segments: finishes an interrupted
 * retention, cuts a torn tail of the last segment (logging what it cut),
 * rebuilds the dedup state and the open segment's index. NULL on error
 * with *why (malloc'd, may be NULL; the caller frees it): the directory
 * cannot be created or read, another process holds the lock, the key
 * file is unusable, an option is out of range.
 */
struct tw_store *tw_store_open(const char *dir,
    const struct tw_store_opts *opts, char **why);

/*
 * Store one batch as a block and return once it is durable. agent_id is
 * 1..255 bytes; info gives records and the time range (from
 * tw_batch_decode); frame[0..frame_len) is the zstd frame, written
 * verbatim; all are only read during the call. pos (may be NULL) gets
 * the block's position. Returns 0 when stored; TW_EEXISTS when (agent_id,
 * seq) is already stored (nothing written; an ack for the sender); if the
 * same (agent_id, seq) is being stored by another thread, waits for it
 * and answers as for a duplicate (or stores it if that one failed).
 * TW_EINVAL for a bad agent id, TW_ETOOBIG over block_max_bytes,
 * TW_EIO (errno set: ENOSPC for a full disk, where retrying later may
 * work; after a failed fdatasync the error is sticky and every later call
 * fails until the store is reopened), TW_ECLOSED after tw_store_close()
 * began. Thread-safe: meant to be called from many threads at once.
 */
int tw_store_append(struct tw_store *s, const char *agent_id, uint64_t seq,
    const struct tw_batch_info *info, const void *frame, size_t frame_len,
    struct tw_store_pos *pos) TW_WARN_UNUSED;

/*
 * Is (agent_id, seq) stored? For answering a retry before reading its
 * body. Thread-safe.
 */
bool tw_store_has(struct tw_store *s, const char *agent_id, uint64_t seq);

/*
 * Housekeeping to call periodically (every second or so): seal the open
 * segment when it is older than segment_max_age and apply retention by
 * age. Returns 0 or the TW_EIO of a failed seal or deletion (logged and
 * counted; retried on the next tick). Thread-safe.
 */
int tw_store_tick(struct tw_store *s) TW_WARN_UNUSED;

/* Copy the current counters to out. Thread-safe. */
void tw_store_stats(struct tw_store *s, struct tw_store_stats *out);

/*
 * Stop accepting appends (they fail with TW_ECLOSED), wait for the
 * commit in progress, release the lock and free everything. Every
 * acknowledged block is already durable; the open segment stays unsealed
 * and is continued by the next tw_store_open(). NULL is a no-op. Call it
 * once, when no other thread will call into s any more except appends
 * that may still be waiting.
 */
void tw_store_close(struct tw_store *s);

/*
 * The store directory to read for a path a person typed: <dir>/store
 * when that is a directory (dir is a collector's data_dir), else dir.
 * malloc'd; NULL when out of memory.
 */
char *tw_store_find_dir(const char *dir);

/*
 * Check one checkpoint file (a sealed segment's <id>.ckpt, or one shipped
 * off the box) against a key file: 0 when the signature verifies and c
 * (may be NULL) gets its contents; TW_EAUTH for a bad or missing
 * signature, TW_EPARSE for a malformed file, TW_EIO/TW_ENOTFOUND when it
 * cannot be read, TW_EINVAL for an unusable key; *why (malloc'd) says
 * which.
 */
int tw_store_checkpoint_verify(const char *ckpt_path, const char *key_path,
    struct tw_store_ckpt *c, char **why) TW_WARN_UNUSED;

#endif

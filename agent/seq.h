/* seq.h: batch sequence numbers that only ever grow, across restarts. */
#ifndef TRAWL_AGENT_SEQ_H
#define TRAWL_AGENT_SEQ_H

#include <stdint.h>

#include "err.h"

/*
 * The collector drops a batch whose (agent id, seq) it has stored
 * before, so a seq used twice loses the second batch. data_dir/seq holds
 * a reservation, "trawl-agent seq 1 <next free> <crc32 hex>": seqs below
 * it may have been used, seqs from it on never were. It is moved forward
 * SEQ_BLOCK at a time (written tmp, fsync, rename, fsync(dir)) before any
 * seq of the new block is handed out, so a restart skips at most one
 * block. A new data_dir, or one whose seq file is missing or corrupt,
 * starts at the wall clock in nanoseconds (and past every seq in the
 * spool), which is above anything an earlier installation with the same
 * agent id can have used.
 */
#define SEQ_BLOCK 1024

struct seq;

/*
 * Open data_dir's reservation; floor is the largest seq in the spool
 * (0: none). NULL with *why (caller frees) when data_dir cannot be used.
 */
struct seq *seq_open(const char *data_dir, uint64_t floor, char **why);

/*
 * The next seq, strictly greater than every one before. TW_EIO (the
 * reservation could not be written: retry later). Thread-safe.
 */
int seq_next(struct seq *s, uint64_t *out) TW_WARN_UNUSED;

/* Close; NULL is a no-op. */
void seq_free(struct seq *s);

#endif

/* spool.h: the agent's bounded on-disk spool: one file per finished batch,
 * kept until the collector acknowledges it. */
#ifndef TRAWL_AGENT_SPOOL_H
#define TRAWL_AGENT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "fileid.h"

struct tw_metrics;

/*
 * A spool file, data_dir/spool/<seq, 20 digits>.batch, is a header and
 * the batch's zstd frame, integers little-endian (docs/agent.md):
 *
 *    0  8  magic "TRAWLSP1"
 *    8  4  version (1)
 *   12  4  header length (from offset 0 through the header checksum)
 *   16  8  seq
 *   24  8  parent seq (0, or the seq of the batch this one was split
 *          from: that file is obsolete once this one exists)
 *   32  4  records
 *   36  4  coverage entries
 *   40  8  raw (uncompressed) length
 *   48  8  frame length
 *   56  8  time min (ns)
 *   64  8  time max (ns)
 *   72  4  CRC-32 of the frame
 *   76  2  agent id length, then the agent id
 *    .  56 per coverage entry: dev, ino, fingerprint hash (8 each),
 *          fingerprint length (4), 4 zero bytes, start, end, end skip
 *          (8 each)
 *    .  4  CRC-32 of every header byte before it
 *    .     the frame
 *
 * The coverage says which bytes of which file identities the batch's
 * records came from: [start, end) per identity, and the resume point
 * after it (end, end skip; see checkpoint.h). On start-up the agent
 * takes, per identity, the furthest resume point found in the spool over
 * the checkpoint's, so a batch that reached the spool is never read
 * again even if the checkpoint write after it did not happen.
 */
#define SPOOL_MAGIC "TRAWLSP1"
#define SPOOL_VERSION 1
#define SPOOL_FIXED_LEN 78
#define SPOOL_COV_LEN 56
#define SPOOL_AGENT_MAX 255
#define SPOOL_COV_MAX 65536
#define SPOOL_HDR_MAX (SPOOL_FIXED_LEN + SPOOL_AGENT_MAX + \
	SPOOL_COV_MAX * SPOOL_COV_LEN + 4)
#define SPOOL_FRAME_MAX ((uint64_t)64 << 20)

struct spool_cov {
	struct file_id id;
	uint64_t start, end;
	uint64_t end_skip;
};

struct spool_hdr {
	uint64_t seq;
	uint64_t parent_seq;
	uint32_t records;
	uint64_t raw_len;
	uint64_t frame_len;
	int64_t time_min, time_max;
	uint32_t frame_crc;
	char agent[SPOOL_AGENT_MAX + 1];
	struct spool_cov *cov; /* malloc'd when decoded; borrowed to encode */
	size_t ncov;
};

/*
 * Append h's header (frame_len and frame_crc as given) to out.
 * TW_ELIMIT (agent id or coverage too long), TW_ETOOBIG, TW_ENOMEM.
 */
int spool_hdr_encode(const struct spool_hdr *h, struct tw_buf *out)
    TW_WARN_UNUSED;

/*
 * Decode the header at the start of p[0..n) into h (h->cov malloc'd;
 * free with spool_hdr_cleanup()) and set *hdr_len. TW_EEOF when n is
 * shorter than the header says, TW_EPARSE for a bad magic, version,
 * length, field or checksum, with *why (malloc'd, may be NULL) saying
 * which; TW_ENOMEM.
 */
int spool_hdr_decode(const void *p, size_t n, struct spool_hdr *h,
    size_t *hdr_len, char **why) TW_WARN_UNUSED;

/* Free h->cov. */
void spool_hdr_cleanup(struct spool_hdr *h);

/*
 * Check a whole spool file p[0..n): header, exact length and frame CRC;
 * *frame points into p. Errors as spool_hdr_decode(), TW_EPARSE also for a
 * length or frame checksum mismatch.
 */
int spool_file_check(const void *p, size_t n, struct spool_hdr *h,
    const void **frame, char **why) TW_WARN_UNUSED;

/* A batch as spool_commit() takes it. */
struct spool_batch {
	struct spool_hdr hdr; /* frame_len and frame_crc are filled in */
	const void *frame;
	size_t frame_len;
	uint64_t size; /* out: bytes of the file on disk */
};

/* A spooled batch found by spool_scan(). */
struct spool_entry {
	uint64_t size;
	struct spool_hdr hdr;
};

/*
 * The spool directory. Files are owned by whoever holds their entry: the
 * tail thread writes them, the shipper sends and removes them; the byte
 * count is shared (atomics). All functions are thread-safe for different
 * files.
 */
struct spool;

/*
 * Open (creating) data_dir/spool, data_dir/spool/quarantine and
 * data_dir/deadletter, with max_bytes as the bound reading stops at.
 * Registers trawl_agent_spool_* metrics in m (may be NULL). NULL with
 * *why (caller frees) on error.
 */
struct spool *spool_open(const char *data_dir, uint64_t max_bytes,
    struct tw_metrics *m, char **why);

/*
 * List the spool at start-up, in seq order, with each file's header:
 * removes leftover tmp files and files a split replaced, quarantines
 * files whose header is bad or whose length is wrong (counted), and sets
 * the byte count. *out is malloc'd; free with spool_entries_free().
 * TW_EIO, TW_ENOMEM.
 */
int spool_scan(struct spool *s, struct spool_entry **out, size_t *n)
    TW_WARN_UNUSED;
void spool_entries_free(struct spool_entry *v, size_t n);

/*
 * Write n batches durably with one directory fsync: each to a tmp file,
 * fsync'd, then all renamed, then the directory fsync'd. *done says how
 * many, from the first, are in the spool now (all of them on success,
 * else none). TW_ELIMIT (a header field too long), TW_EIO (errno),
 * TW_ENOMEM.
 */
int spool_commit(struct spool *s, struct spool_batch *b, size_t n,
    size_t *done) TW_WARN_UNUSED;

/*
 * Read the file of seq into file (reset first) and check it all
 * (spool_file_check()); *frame points into file. TW_ENOTFOUND, TW_EIO,
 * TW_EPARSE / TW_EEOF (corrupt: quarantine it) with *why, TW_ENOMEM.
 */
int spool_load(struct spool *s, uint64_t seq, struct tw_buf *file,
    struct spool_hdr *h, const void **frame, char **why) TW_WARN_UNUSED;

/* Delete the file of seq (size bytes) after its ack. TW_EIO. */
int spool_remove(struct spool *s, uint64_t seq, uint64_t size)
    TW_WARN_UNUSED;

/* Move the file of seq to spool/quarantine (counted). TW_EIO. */
int spool_quarantine(struct spool *s, uint64_t seq, uint64_t size)
    TW_WARN_UNUSED;

/* Move the file of seq to data_dir/deadletter (counted). TW_EIO. */
int spool_deadletter(struct spool *s, uint64_t seq, uint64_t size)
    TW_WARN_UNUSED;

/* Bytes of the files in the spool now. */
uint64_t spool_bytes(const struct spool *s);

/* The configured bound. */
uint64_t spool_max_bytes(const struct spool *s);

/* Close the directories; NULL is a no-op. Files stay. */
void spool_free(struct spool *s);

#endif

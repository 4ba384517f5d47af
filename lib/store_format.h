/* store_format.h: the segment store's on-disk format (docs/store.md). */
#ifndef TW_STORE_FORMAT_H
#define TW_STORE_FORMAT_H

/*
 * Shared by the writer (store.c), the reader and the verifier
 * (store_reader.c): block headers and hashes, file names, the sparse time
 * index, checkpoint and anchor files, signing keys, and careful I/O
 * helpers. Everything here is stateless and thread-safe unless said
 * otherwise; docs/store.md is the reference for every byte.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Block header (little-endian, docs/store.md "Block"). */
#define TW_STORE_MAGIC "TWBK"
#define TW_STORE_VERSION 1
#define TW_STORE_HASH_LEN 32
#define TW_STORE_HDR_FIXED 96 /* bytes before the agent id */
#define TW_STORE_AGENT_MAX 255
#define TW_STORE_HDR_MIN (TW_STORE_HDR_FIXED + 1 + TW_STORE_HASH_LEN)
#define TW_STORE_HDR_MAX \
	(TW_STORE_HDR_FIXED + TW_STORE_AGENT_MAX + TW_STORE_HASH_LEN)
/* The format's ceiling on one body; a larger length is a corrupt header. */
#define TW_STORE_BODY_MAX ((uint32_t)256 << 20)

/* File names: 20-digit decimal segment ids, then an extension. */
#define TW_STORE_SEG_EXT ".seg"
#define TW_STORE_IDX_EXT ".idx"
#define TW_STORE_CKPT_EXT ".ckpt"
#define TW_STORE_ANCHOR "anchor"
#define TW_STORE_LOCK "LOCK"
#define TW_STORE_TMP_EXT ".tmp"
#define TW_STORE_NAME_MAX 32

/* Checkpoint and anchor files are small; anything larger is refused. */
#define TW_STORE_META_MAX ((size_t)64 << 10)

/* One decoded block header. */
struct tw_store_hdr {
	uint16_t version;
	uint16_t header_len; /* TW_STORE_HDR_FIXED + agent_len + 32 */
	uint32_t body_len;
	uint32_t records;
	int64_t time_min;    /* ns; INT64_MAX when no record has a time */
	int64_t time_max;    /* ns; INT64_MIN when no record has a time */
	int64_t received_at; /* ns, the collector's clock */
	uint64_t seq;	     /* the agent's batch sequence number */
	uint64_t index;	     /* position in the chain; the first is 0 */
	uint8_t agent_len;   /* 1..255 */
	char agent[TW_STORE_AGENT_MAX + 1]; /* NUL-terminated copy */
	uint8_t prev[TW_STORE_HASH_LEN];
	uint8_t hash[TW_STORE_HASH_LEN];
};

/* Bytes a block occupies: header plus body. */
static inline uint64_t
tw_store_hdr_block_len(const struct tw_store_hdr *h)
{
	return (uint64_t)h->header_len + h->body_len;
}

/* Does the block's time range meet [from, to] (both inclusive)? */
static inline bool
tw_store_time_overlaps(int64_t tmin, int64_t tmax, int64_t from, int64_t to)
{
	return tmax >= from && tmin <= to;
}

/*
 * Encode h (version, header_len and agent_len are derived from h->agent)
 * into out, which holds TW_STORE_HDR_MAX bytes, with h->hash as the hash
 * field; returns the header length.
 */
size_t tw_store_hdr_encode(const struct tw_store_hdr *h, uint8_t *out);

/*
 * Decode the header at p[0..n). TW_EEOF when more bytes are needed (*need,
 * may be NULL, says how many in all), TW_EPARSE when the bytes are not a
 * header of this version (magic, version, lengths, reserved bytes).
 */
int tw_store_hdr_decode(const uint8_t *p, size_t n, struct tw_store_hdr *h,
    size_t *need) TW_WARN_UNUSED;

/*
 * The block hash: SHA-256 over the header without its trailing hash field
 * (hdr[0..hdr_len-32), which includes the previous hash) and the body.
 * TW_ENOMEM or TW_EINTERNAL from libcrypto.
 */
int tw_store_block_hash(const uint8_t *hdr, size_t hdr_len,
    const void *body, size_t body_len, uint8_t out[TW_STORE_HASH_LEN])
    TW_WARN_UNUSED;

/*
 * The hash of the block whose header h was decoded at off in fd, reading
 * the body in bounded chunks (never more than 1 MiB of memory). TW_EEOF if
 * the file ends first, TW_EIO (errno set) on a read error.
 */
int tw_store_block_hash_fd(int fd, uint64_t off, const struct tw_store_hdr *h,
    uint8_t out[TW_STORE_HASH_LEN]) TW_WARN_UNUSED;

/*
 * What is at off in a segment of file_size bytes: 0 and *h for a whole
 * block whose hash checks (when check_hash; otherwise only whole), or
 * TW_EEOF (the header or body runs past the end: torn or being written),
 * TW_EPARSE (not a header), TW_EINVAL (hash mismatch), TW_EIO.
 */
int tw_store_block_at(int fd, uint64_t off, uint64_t file_size,
    bool check_hash, struct tw_store_hdr *h) TW_WARN_UNUSED;

/*
 * The first offset after from (exclusive) where a whole block whose hash
 * checks starts, found by looking for the magic; TW_ENOTFOUND if there is
 * none before file_size. Reads the file once in bounded chunks.
 */
int tw_store_find_block(int fd, uint64_t from, uint64_t file_size,
    uint64_t *found) TW_WARN_UNUSED;

/* 64 lowercase hex digits and a NUL. */
void tw_store_hex(const uint8_t h[TW_STORE_HASH_LEN], char out[65]);
/* Parse 64 hex digits; TW_EPARSE otherwise. */
int tw_store_unhex(const char *p, size_t n, uint8_t h[TW_STORE_HASH_LEN])
    TW_WARN_UNUSED;

/* "<20-digit id><ext>" into out (TW_STORE_NAME_MAX bytes). */
void tw_store_name(char out[TW_STORE_NAME_MAX], uint64_t id, const char *ext);

/*
 * The segment ids in the directory dirfd, ascending, in a malloc'd array
 * (*ids, may be NULL when *n is 0). TW_EIO, TW_ENOMEM.
 */
int tw_store_list_segments(int dirfd, uint64_t **ids, size_t *n)
    TW_WARN_UNUSED;

/* Does dirfd hold a file of that name? (A failing stat counts as no.) */
bool tw_store_file_exists(int dirfd, const char *name);

/*
 * I/O helpers that retry EINTR and short transfers. pread_full reads up to
 * n bytes and sets *got (fewer only at end of file); pwrite_full writes
 * all n bytes or fails. TW_EIO with errno set.
 */
int tw_store_pread_full(int fd, void *p, size_t n, uint64_t off,
    size_t *got) TW_WARN_UNUSED;
int tw_store_pwrite_full(int fd, const void *p, size_t n, uint64_t off)
    TW_WARN_UNUSED;
/* fsync a directory; TW_EIO with errno set. */
int tw_store_fsync_dir(int dirfd) TW_WARN_UNUSED;

/*
 * Replace dirfd/name with p[0..n) crash-safely: write name.tmp, fsync it,
 * rename over name. The caller fsyncs the directory (once for several
 * files). TW_EIO with errno set; the tmp file is removed on failure.
 */
int tw_store_write_atomic(int dirfd, const char *name, const void *p,
    size_t n) TW_WARN_UNUSED;

/*
 * Read all of dirfd/name into out (reset first), at most max bytes:
 * TW_ENOTFOUND when it does not exist, TW_ETOOBIG when larger, TW_EIO.
 */
int tw_store_read_file(int dirfd, const char *name, size_t max,
    struct tw_buf *out) TW_WARN_UNUSED;

/*
 * The sparse time index: one entry per block of a segment. The writer
 * keeps them in memory for the open segment and writes them to
 * <id>.idx when it seals it; readers load that file to skip blocks and
 * segments outside a time range. agent_no refers to the file's table of
 * agent ids (so the writer can rebuild its dedup state from it).
 */
struct tw_store_idx_entry {
	uint64_t offset;
	uint64_t index;
	uint64_t seq;
	int64_t time_min;
	int64_t time_max;
	int64_t received_at;
	uint32_t len; /* header + body bytes */
	uint32_t records;
	uint32_t agent_no;
};

/* A loaded index: entries plus the agent table they refer to. */
struct tw_store_idx {
	uint64_t segment_id;
	struct tw_store_idx_entry *ent;
	size_t n;
	char **agents; /* NUL-terminated ids */
	uint32_t nagents;
};

/*
 * Serialise an index (entries, and the agent table agents[0..nagents))
 * into out, ending with its SHA-256. TW_ENOMEM, TW_ETOOBIG.
 */
int tw_store_idx_encode(uint64_t segment_id,
    const struct tw_store_idx_entry *ent, size_t n,
    const char *const *agents, uint32_t nagents, struct tw_buf *out)
    TW_WARN_UNUSED;

/*
 * Load dirfd/<id>.idx into idx (freed with tw_store_idx_cleanup).
 * TW_ENOTFOUND when absent, TW_EPARSE when damaged (bad checksum, bad
 * lengths, another segment's id, offsets that do not follow each other),
 * TW_ENOMEM, TW_EIO. An index is a cache: callers fall back to scanning.
 */
int tw_store_idx_load(int dirfd, uint64_t id, struct tw_store_idx *idx)
    TW_WARN_UNUSED;

void tw_store_idx_cleanup(struct tw_store_idx *idx);

/*
 * Checkpoints. A sealed segment's <id>.ckpt holds two lines: the payload
 * (a JSON object, these fields) and a signature line over the payload's
 * exact bytes (docs/store.md "Checkpoint").
 */
struct tw_store_ckpt {
	uint64_t segment_id;
	uint64_t first_block; /* chain index of the first block */
	uint64_t last_block;
	uint64_t blocks;
	uint8_t first_prev[TW_STORE_HASH_LEN]; /* prev hash of the first */
	uint8_t last_hash[TW_STORE_HASH_LEN];
	uint64_t bytes; /* segment file length */
	int64_t time_min, time_max;	    /* over the blocks' times */
	int64_t received_min, received_max; /* over the blocks' received_at */
	int64_t sealed_at;
};

enum tw_store_sig {
	TW_STORE_SIG_NONE = 0,	   /* checkpoints carry no signature */
	TW_STORE_SIG_HMAC_SHA256,  /* secret key file */
	TW_STORE_SIG_ED25519,	   /* PEM private key signs, public checks */
};

/* "none", "hmac-sha256", "ed25519". */
const char *tw_store_sig_name(enum tw_store_sig alg);
/* The inverse of tw_store_sig_name; TW_EINVAL for anything else. */
int tw_store_sig_parse(const char *s, enum tw_store_sig *alg) TW_WARN_UNUSED;

/*
 * A key for signing or checking checkpoints: the bytes of a key file (an
 * HMAC secret: the file's bytes without trailing CR/LF/spaces/tabs) and,
 * when the file is a PEM Ed25519 key (private or public), that key.
 */
struct tw_store_key;

/*
 * Load a key file (at most 64 KiB). For signing, alg says what the key is
 * for and must match the file (an Ed25519 key needs a PEM private key);
 * TW_STORE_SIG_NONE loads whatever the file holds, for verification.
 * NULL on error with *why (malloc'd, may be NULL) saying what is wrong.
 */
struct tw_store_key *tw_store_key_load(const char *path, enum tw_store_sig alg,
    char **why);

void tw_store_key_free(struct tw_store_key *k);

/* Append the checkpoint's payload line (JSON, no newline) to out. */
int tw_store_ckpt_payload(const struct tw_store_ckpt *c, struct tw_buf *out)
    TW_WARN_UNUSED;

/*
 * Append the whole checkpoint file (payload, newline, signature line,
 * newline) to out, signing with key under alg (NONE: an unsigned
 * signature line, key may be NULL). TW_EINVAL when the key cannot sign
 * with alg, TW_EINTERNAL from libcrypto, TW_ENOMEM.
 */
int tw_store_ckpt_render(const struct tw_store_ckpt *c, enum tw_store_sig alg,
    const struct tw_store_key *key, struct tw_buf *out) TW_WARN_UNUSED;

/*
 * Parse the checkpoint file text p[0..n) into c (and *alg). When key is
 * not NULL also check the signature: TW_EAUTH when it does not verify, is
 * absent (alg none) or the key is of the wrong kind. TW_EPARSE for a
 * malformed file. why (whylen bytes) gets a short reason on any error.
 */
int tw_store_ckpt_check(const char *p, size_t n,
    const struct tw_store_key *key, struct tw_store_ckpt *c,
    enum tw_store_sig *alg, char *why, size_t whylen) TW_WARN_UNUSED;

/*
 * The anchor: where the retained chain starts once retention has deleted
 * the oldest segments. A file of one JSON line, followed by the deleted
 * segment's checkpoint file verbatim (ckpt, may be empty).
 */
struct tw_store_anchor {
	uint64_t first_segment; /* segments with smaller ids are deleted */
	uint64_t first_block;	/* chain index of the first one kept */
	uint8_t prev[TW_STORE_HASH_LEN]; /* its previous hash */
	uint64_t deleted_segments;	  /* since the store was created */
	uint64_t deleted_blocks;
	uint64_t deleted_bytes;
	int64_t updated_at;
	struct tw_buf ckpt; /* the last deleted segment's checkpoint */
};

/* An empty anchor (genesis: block 0, zero previous hash). */
void tw_store_anchor_init(struct tw_store_anchor *a);
void tw_store_anchor_cleanup(struct tw_store_anchor *a);

/*
 * Load dirfd/anchor into a (initialised by the caller): TW_ENOTFOUND when
 * absent (a is left as genesis), TW_EPARSE when malformed, TW_EIO.
 */
int tw_store_anchor_load(int dirfd, struct tw_store_anchor *a)
    TW_WARN_UNUSED;

/* Write a as dirfd/anchor: tmp, fsync, rename, fsync(dir). TW_EIO. */
int tw_store_anchor_save(int dirfd, const struct tw_store_anchor *a)
    TW_WARN_UNUSED;

#endif

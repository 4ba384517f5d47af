/* fileid.h: the identity of a tailed file: device, inode and a fingerprint
 * of its first bytes. */
#ifndef TRAWL_AGENT_FILEID_H
#define TRAWL_AGENT_FILEID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The fingerprint covers at most this many leading bytes. */
#define FILEID_FP_MAX 1024

/*
 * Device and inode tell files apart while they exist; the fingerprint
 * (a hash of the first fp_len bytes, fp_len = min(size, FILEID_FP_MAX)
 * when it was taken) tells a reused inode or a rewritten file from the
 * one that was read. A fingerprint of fewer than FILEID_FP_MAX bytes is
 * taken again, longer, as the file grows; an offset o is only ever
 * recorded with fp_len >= min(o, FILEID_FP_MAX).
 */
struct file_id {
	uint64_t dev;
	uint64_t ino;
	uint64_t fp_hash;
	uint32_t fp_len;
};

/* The 64-bit hash fingerprints use (FNV-1a). */
uint64_t fileid_hash(const void *p, size_t n);

/* Same device and inode. */
bool fileid_same_inode(const struct file_id *a, const struct file_id *b);

/* Same device, inode and fingerprint. */
bool fileid_equal(const struct file_id *a, const struct file_id *b);

/*
 * Take the fingerprint of fd (a file of size bytes) into id->fp_len and
 * id->fp_hash; dev and ino are left alone. TW_EIO.
 */
int fileid_fingerprint(int fd, uint64_t size, struct file_id *id)
    TW_WARN_UNUSED;

/*
 * Does fd still start with the bytes id's fingerprint was taken of? A
 * file shorter than fp_len does not. 0 with *match set, or TW_EIO.
 */
int fileid_check(int fd, const struct file_id *id, bool *match)
    TW_WARN_UNUSED;

#endif

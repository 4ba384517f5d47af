/* checkpoint.h: the read offset of every file identity, kept on disk in two
 * generations. */
#ifndef TRAWL_AGENT_CHECKPOINT_H
#define TRAWL_AGENT_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "fileid.h"

/*
 * A checkpoint says, per file identity, where reading resumes: at byte
 * offset, with a fresh parser, dropping the first skip records it emits
 * (those are in the spool already). skip is 0 except where a record was
 * still being assembled at offset (a CRI partial, a held klog entry)
 * while later lines' records had been emitted. It is a text file
 * (docs/agent.md has the grammar):
 *
 *   trawl-agent checkpoint 1
 *   generation <n>
 *   file <dev> <ino> <fp_len> <fp_hash hex> <offset> <skip> <seen_s> <path>
 *   ...
 *   end <entries> <crc32 hex of every byte before this line>
 *
 * with the path percent-encoded (bytes <= 0x20, >= 0x7f and '%').
 */
#define CKPT_ENTRIES_MAX 65536
#define CKPT_PATH_MAX 4096
#define CKPT_FILE_MAX ((size_t)64 << 20)

struct ckpt_entry {
	struct file_id id;
	uint64_t offset;
	uint64_t skip;
	int64_t seen_s; /* wall clock, seconds: last time the file was seen */
	char *path;	/* malloc'd; the path it was tailed as (information) */
};

struct ckpt {
	uint64_t generation;
	struct ckpt_entry *v;
	size_t n, cap;
};

/* An empty checkpoint, generation 0. */
void ckpt_init(struct ckpt *c);
/* Free the entries; c may be initialised again. */
void ckpt_cleanup(struct ckpt *c);
/* Forget the entries, keeping the memory of the array. */
void ckpt_clear(struct ckpt *c);

/*
 * Append an entry (path copied; NULL is stored as ""). TW_ELIMIT past
 * CKPT_ENTRIES_MAX or a path over CKPT_PATH_MAX, TW_ENOMEM.
 */
int ckpt_add(struct ckpt *c, const struct file_id *id, uint64_t offset,
    uint64_t skip, int64_t seen_s, const char *path) TW_WARN_UNUSED;

/* Is resume point (o1, s1) past (o2, s2)? Offsets first, then skips. */
bool ckpt_after(uint64_t o1, uint64_t s1, uint64_t o2, uint64_t s2);

/*
 * Fold in a resume point found elsewhere (a spool file's coverage): the
 * entry of exactly that identity moves forward to it when it is after its
 * own, or a new entry (path "", seen_s) is added. Errors as ckpt_add().
 */
int ckpt_merge(struct ckpt *c, const struct file_id *id, uint64_t offset,
    uint64_t skip, int64_t seen_s) TW_WARN_UNUSED;

/* Append the file form of c to out. TW_ETOOBIG, TW_ENOMEM. */
int ckpt_encode(const struct ckpt *c, struct tw_buf *out) TW_WARN_UNUSED;

/*
 * Parse the file form p[0..n) into c (cleared first). TW_EPARSE with *why
 * (malloc'd, caller frees; may be NULL) naming the first problem: bad
 * header, malformed line, checksum mismatch, missing end line, trailing
 * bytes. TW_ELIMIT past the limits above, TW_ENOMEM. On error c is empty.
 */
int ckpt_decode(const char *p, size_t n, struct ckpt *c, char **why)
    TW_WARN_UNUSED;

/*
 * The two generations in a directory: checkpoint.0 and checkpoint.1,
 * written alternately (tmp, fsync, rename, fsync of the directory), so the
 * previous generation survives whatever happens to the newest.
 */
struct ckpt_store;

/* Open dir (it must exist). NULL with *why (caller frees) on error. */
struct ckpt_store *ckpt_store_open(const char *dir, char **why);

/*
 * Load the newest generation that decodes into c. A file that does not
 * decode is logged, renamed to checkpoint.<n>.corrupt (kept for a person
 * to look at) and counted in *corrupt; the other generation is then used.
 * Returns 0 (c holds the checkpoint, or is empty with generation 0 when
 * there is none), TW_EIO when a file cannot be read at all, TW_ENOMEM.
 */
int ckpt_store_load(struct ckpt_store *s, struct ckpt *c, unsigned *corrupt)
    TW_WARN_UNUSED;

/*
 * Write c as the next generation (c->generation is set to it) over the
 * older of the two files. TW_EIO, TW_ENOMEM; on error the files on disk
 * are as before.
 */
int ckpt_store_save(struct ckpt_store *s, struct ckpt *c) TW_WARN_UNUSED;

/* Close the directory; NULL is a no-op. */
void ckpt_store_free(struct ckpt_store *s);

#endif

/* fileid.c: the identity of a tailed file: device, inode and a fingerprint
 * of its first bytes. */
#include "config.h"

#include "fileid.h"
#include "fsio.h"

uint64_t
fileid_hash(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

bool
fileid_same_inode(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

bool
fileid_equal(const struct file_id *a, const struct file_id *b)
{
	return fileid_same_inode(a, b) && a->fp_len == b->fp_len &&
	    a->fp_hash == b->fp_hash;
}

int
fileid_fingerprint(int fd, uint64_t size, struct file_id *id)
{
	uint8_t buf[FILEID_FP_MAX];
	size_t want = size < FILEID_FP_MAX ? (size_t)size : FILEID_FP_MAX;
	size_t got;
	int r;

	if ((r = fsio_pread_all(fd, buf, want, 0, &got)) != 0)
		return r;
	id->fp_len = (uint32_t)got;
	id->fp_hash = fileid_hash(buf, got);
	return 0;
}

int
fileid_check(int fd, const struct file_id *id, bool *match)
{
	uint8_t buf[FILEID_FP_MAX];
	size_t want = id->fp_len < FILEID_FP_MAX ? id->fp_len : FILEID_FP_MAX;
	size_t got;
	int r;

	*match = false;
	if ((r = fsio_pread_all(fd, buf, want, 0, &got)) != 0)
		return r;
	*match = got == want && fileid_hash(buf, got) == id->fp_hash;
	return 0;
}

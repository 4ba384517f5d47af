/* fsio.h: careful file I/O for the agent's state: whole transfers, bounded
 * reads, crash-safe replacement. */
#ifndef TRAWL_AGENT_FSIO_H
#define TRAWL_AGENT_FSIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/*
 * Every function retries EINTR and short transfers and returns 0 or a
 * TW_E* code; TW_EIO means a system call failed and errno says which.
 * None of them keeps state: they are thread-safe as far as the files are.
 */

/* Write all n bytes of p to fd at its position. TW_EIO. */
int fsio_write_all(int fd, const void *p, size_t n) TW_WARN_UNUSED;

/*
 * Read up to n bytes at off into p; *got is n unless the file ends
 * first. TW_EIO.
 */
int fsio_pread_all(int fd, void *p, size_t n, uint64_t off, size_t *got)
    TW_WARN_UNUSED;

/*
 * Read all of dirfd/name into out (reset first), at most max bytes:
 * TW_ENOTFOUND when it does not exist, TW_ETOOBIG when it is larger than
 * max (or out's ceiling), TW_EIO, TW_ENOMEM.
 */
int fsio_read_file(int dirfd, const char *name, size_t max,
    struct tw_buf *out) TW_WARN_UNUSED;

/* fsync the directory dirfd. TW_EIO. */
int fsio_fsync_dir(int dirfd) TW_WARN_UNUSED;

/*
 * Write p[0..n) to dirfd/name.tmp, fsync it, and rename it over
 * dirfd/name; the directory is not fsync'd (the caller does that once for
 * several files). On failure the tmp file is removed. TW_EIO.
 */
int fsio_write_tmp_rename(int dirfd, const char *name, const void *p,
    size_t n) TW_WARN_UNUSED;

/* fsio_write_tmp_rename(), then fsync the directory. TW_EIO. */
int fsio_replace(int dirfd, const char *name, const void *p, size_t n)
    TW_WARN_UNUSED;

/* mkdir -p path with mode (existing directories are fine). TW_EIO. */
int fsio_mkdirs(const char *path, mode_t mode) TW_WARN_UNUSED;

/* CRC-32 (zlib's polynomial) of p[0..n), continuing crc (0 to start). */
uint32_t fsio_crc32(uint32_t crc, const void *p, size_t n);

/* Little-endian fixed-width integers in byte buffers. */
void fsio_put16(uint8_t *p, uint16_t v);
void fsio_put32(uint8_t *p, uint32_t v);
void fsio_put64(uint8_t *p, uint64_t v);
uint16_t fsio_get16(const uint8_t *p);
uint32_t fsio_get32(const uint8_t *p);
uint64_t fsio_get64(const uint8_t *p);

#endif

/* fsio.c: careful file I/O for the agent's state: whole transfers, bounded
 * reads, crash-safe replacement. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fsio.h"

int
fsio_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) < 0) {
			if (errno == EINTR)
				continue;
			return TW_EIO;
		}
		if (w == 0) {
			errno = ENOSPC;
			return TW_EIO;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
fsio_pread_all(int fd, void *p, size_t n, uint64_t off, size_t *got)
{
	char *c = p;
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		if ((r = pread(fd, c + done, n - done,
		    (off_t)(off + done))) < 0) {
			if (errno == EINTR)
				continue;
			return TW_EIO;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

int
fsio_read_file(int dirfd, const char *name, size_t max, struct tw_buf *out)
{
	struct stat st;
	size_t got;
	int fd, r = 0;

	tw_buf_reset(out);
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? TW_ENOTFOUND : TW_EIO;
	if (fstat(fd, &st) != 0) {
		r = TW_EIO;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = TW_ETOOBIG;
		goto out;
	}
	/* One byte more than the size says, to see a file that grew. */
	if ((r = tw_buf_reserve(out, (size_t)st.st_size + 1)) != 0)
		goto out;
	if ((r = fsio_pread_all(fd, out->data, (size_t)st.st_size + 1, 0,
	    &got)) != 0)
		goto out;
	if (got > max) {
		r = TW_ETOOBIG;
		goto out;
	}
	out->len = got;
	out->data[got] = '\0';
out:
	close(fd);
	return r;
}

int
fsio_fsync_dir(int dirfd)
{
	while (fsync(dirfd) != 0) {
		if (errno != EINTR)
			return TW_EIO;
	}
	return 0;
}

int
fsio_write_tmp_rename(int dirfd, const char *name, const void *p, size_t n)
{
	char tmp[PATH_MAX];
	int fd = -1, r, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return TW_EIO;
	}
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) < 0)
		return TW_EIO;
	if ((r = fsio_write_all(fd, p, n)) != 0)
		goto fail;
	while (fsync(fd) != 0) {
		if (errno != EINTR) {
			r = TW_EIO;
			goto fail;
		}
	}
	if (close(fd) != 0) {
		fd = -1;
		r = TW_EIO;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		r = TW_EIO;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return r;
}

int
fsio_replace(int dirfd, const char *name, const void *p, size_t n)
{
	int r;

	if ((r = fsio_write_tmp_rename(dirfd, name, p, n)) != 0)
		return r;
	return fsio_fsync_dir(dirfd);
}

int
fsio_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;

	if (len == 0 || len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return TW_EIO;
	}
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return TW_EIO;
		buf[i] = i == len ? '\0' : '/';
	}
	if (stat(path, &st) != 0)
		return TW_EIO;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return TW_EIO;
	}
	return 0;
}

uint32_t
fsio_crc32(uint32_t crc, const void *p, size_t n)
{
	const Bytef *b = p;

	/* zlib takes uInt lengths: feed it in pieces. */
	while (n > 0) {
		uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
		crc = (uint32_t)crc32(crc, b, chunk);
		b += chunk;
		n -= chunk;
	}
	return crc;
}

void
fsio_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void
fsio_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void
fsio_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t
fsio_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t
fsio_get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

uint64_t
fsio_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

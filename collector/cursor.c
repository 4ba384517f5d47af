/* cursor.c: small durable state files (cursors) under <data_dir>/cursors. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cursor.h"

#define CURSOR_FILE_MAX 4096

char *
cursor_dir(const char *data_dir)
{
	char *dir;

	if (asprintf(&dir, "%s/cursors", data_dir) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		int saved = errno;

		free(dir);
		errno = saved;
		return NULL;
	}
	return dir;
}

static bool
name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= CURSOR_NAME_MAX || name[0] == '.')
		return false;
	return strchr(name, '/') == NULL;
}

/* Write all of p[0..n) to fd; -1 with errno. */
static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fsync_dir(const char *dir)
{
	int fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int
cursor_save(const char *dir, const char *name, const struct cursor_field *f,
    size_t n)
{
	char path[4096], tmp[4096 + 8], text[CURSOR_FILE_MAX];
	size_t len = 0;
	int fd = -1, r = TW_EIO, saved;

	if (!name_ok(name) || n > CURSOR_FIELDS_MAX)
		return TW_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(text + len, sizeof(text) - len, "%s %" PRIu64
		    "\n", f[i].name, f[i].value);

		if (w < 0 || (size_t)w >= sizeof(text) - len)
			return TW_EINVAL;
		len += (size_t)w;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return TW_EINVAL;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0640)) < 0)
		return TW_EIO;
	if (write_all(fd, text, len) != 0 || fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0 || fsync_dir(dir) != 0)
		goto out;
	r = 0;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (r != 0)
		unlink(tmp);
	errno = saved;
	return r;
}

int
cursor_load(const char *dir, const char *name, struct cursor_field *f,
    size_t n)
{
	char path[4096], text[CURSOR_FILE_MAX + 1], *line, *save = NULL;
	ssize_t got;
	size_t len = 0;
	int fd;

	if (!name_ok(name))
		return TW_EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return TW_EINVAL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? TW_ENOTFOUND : TW_EIO;
	while (len < CURSOR_FILE_MAX) {
		got = read(fd, text + len, CURSOR_FILE_MAX - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			close(fd);
			return TW_EIO;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	text[len] = '\0';
	if (len == 0 || text[len - 1] != '\n')
		return TW_EPARSE;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' '), *end;
		uint64_t v;

		if (sp == NULL || sp[1] < '0' || sp[1] > '9')
			return TW_EPARSE;
		*sp = '\0';
		errno = 0;
		v = strtoull(sp + 1, &end, 10);
		if (errno != 0 || *end != '\0')
			return TW_EPARSE;
		for (size_t i = 0; i < n; i++)
			if (strcmp(f[i].name, line) == 0)
				f[i].value = v;
	}
	return 0;
}

void
cursor_name_clean(const char *s, char *out)
{
	size_t n = 0;

	for (; *s != '\0' && n < CURSOR_NAME_MAX - 8; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';

		out[n++] = ok ? c : '_';
	}
	if (n > 0 && out[0] == '.')
		out[0] = '_';
	out[n] = '\0';
}

/* sink_file.c: the file sink: alerts as JSON lines, fsync'd before the
 * cursor moves, reopened on SIGUSR1 for log rotation. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector_conf.h"
#include "log.h"
#include "sink_file.h"

#define LINES_MAX ((size_t)1 << 20)	  /* buffered before a write */
#define TORN_SCAN_MAX ((size_t)64 << 20) /* how far back a torn line may start */
#define LINES_CEILING ((size_t)1 << 31)   /* one alert may exceed LINES_MAX */

struct file_sink {
	char *path;
	int fd;			/* -1 while it cannot be opened */
	struct tw_buf lines;	/* written and synced by poll() */
	uint64_t *tickets;	/* the alerts in lines */
	size_t nticket, cap;
	bool failing;		/* the last write failed (logged once) */
};

/*
 * A crash in the middle of a write may leave a torn last line: cut the
 * file back to its last newline (those alerts were not acked, so they
 * are written again) so every line stays one whole JSON object.
 */
static void
cut_torn_line(struct file_sink *fs)
{
	char buf[4096];
	off_t end, at;
	ssize_t n;

	if ((end = lseek(fs->fd, 0, SEEK_END)) <= 0)
		return;
	for (at = end; at > 0 && end - at < (off_t)TORN_SCAN_MAX; ) {
		size_t want = at < (off_t)sizeof(buf) ? (size_t)at : sizeof(buf);

		if ((n = pread(fs->fd, buf, want, at - (off_t)want)) !=
		    (ssize_t)want)
			return;
		for (ssize_t i = n - 1; i >= 0; i--)
			if (buf[i] == '\n') {
				off_t keep = at - (off_t)want + i + 1;

				if (keep == end)
					return;
				tw_warn("sink", "cut a torn last line of the alert "
				    "file (left by a crash)", "path", fs->path);
				tw_ignore(ftruncate(fs->fd, keep) == 0 ? 0 :
				    TW_EIO); /* best effort */
				return;
			}
		at -= (off_t)want;
	}
	if (at > 0)
		return; /* not a file of ours: leave it alone */
	tw_warn("sink", "cut a torn line of the alert file (left by a "
	    "crash)", "path", fs->path);
	tw_ignore(ftruncate(fs->fd, 0) == 0 ? 0 : TW_EIO);
}

static int
open_path(struct file_sink *fs)
{
	fs->fd = open(fs->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (fs->fd < 0)
		return TW_EIO;
	cut_torn_line(fs);
	return 0;
}

static int
file_send(void *impl, struct sink *s, const struct sink_alert *a)
{
	struct file_sink *fs = impl;
	size_t len = fs->lines.len;

	(void)s;
	if (fs->nticket > 0 && fs->lines.len + a->json.n + 1 > LINES_MAX)
		return SINK_AGAIN;
	if (fs->nticket == fs->cap) {
		size_t cap = fs->cap == 0 ? 256 : fs->cap * 2;
		uint64_t *t = realloc(fs->tickets, cap * sizeof(*t));

		if (t == NULL)
			return TW_ENOMEM;
		fs->tickets = t;
		fs->cap = cap;
	}
	if (tw_buf_add(&fs->lines, a->json.p, a->json.n) != 0 ||
	    tw_buf_addc(&fs->lines, '\n') != 0) {
		fs->lines.len = len;
		return TW_ENOMEM;
	}
	fs->tickets[fs->nticket++] = a->ticket;
	return 0;
}

/* Write all of p[0..n) at the end; -1 with errno. */
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

/* Write and fdatasync the buffered lines, then ack them. */
static int
file_poll(void *impl, struct sink *s, int timeout_ms)
{
	struct file_sink *fs = impl;
	off_t end;
	int saved;

	(void)timeout_ms;
	if (fs->nticket == 0)
		return 0;
	if (fs->fd < 0 && open_path(fs) != 0)
		goto fail;
	if ((end = lseek(fs->fd, 0, SEEK_END)) < 0)
		goto fail;
	if (write_all(fs->fd, fs->lines.data, fs->lines.len) != 0 ||
	    fdatasync(fs->fd) != 0) {
		saved = errno;
		/* No torn line: cut back to where this group began. */
		tw_ignore(ftruncate(fs->fd, end) == 0 ? 0 : TW_EIO);
		errno = saved;
		goto fail;
	}
	if (fs->failing)
		tw_info("sink", "the alert file is writable again", "path",
		    fs->path);
	fs->failing = false;
	for (size_t i = 0; i < fs->nticket; i++)
		sink_ack(s, fs->tickets[i], SINK_OK);
	fs->nticket = 0;
	tw_buf_reset(&fs->lines);
	return 0;
fail:
	if (!fs->failing)
		tw_error("sink", "cannot write the alert file; retrying", "path",
		    fs->path, "error", strerror(errno));
	fs->failing = true;
	return TW_EIO;
}

static void
file_reopen(void *impl, struct sink *s)
{
	struct file_sink *fs = impl;

	tw_ignore(file_poll(fs, s, 0)); /* a failure is retried below */
	if (fs->fd >= 0)
		close(fs->fd);
	if (open_path(fs) != 0) {
		tw_error("sink", "cannot reopen the alert file; retrying",
		    "path", fs->path, "error", strerror(errno));
		fs->failing = true;
		return;
	}
	tw_info("sink", "reopened the alert file", "path", fs->path);
}

static void
file_free(void *impl)
{
	struct file_sink *fs = impl;

	if (fs == NULL)
		return;
	if (fs->fd >= 0)
		close(fs->fd);
	tw_buf_cleanup(&fs->lines);
	free(fs->tickets);
	free(fs->path);
	free(fs);
}

static const struct sink_ops file_ops = {
	.type = "file",
	.send = file_send,
	.poll = file_poll,
	.reopen = file_reopen,
	.free = file_free,
};

int
sink_file_new(const struct collector_sink *conf, struct tw_metrics *m,
    const struct sink_ops **ops, void **impl, char **why)
{
	struct file_sink *fs;

	(void)m;
	if ((fs = calloc(1, sizeof(*fs))) == NULL ||
	    (fs->path = strdup(conf->path)) == NULL) {
		free(fs);
		return TW_ENOMEM;
	}
	tw_buf_init(&fs->lines, LINES_CEILING);
	if (open_path(fs) != 0) {
		if (asprintf(why, "%s: %s", fs->path, strerror(errno)) < 0)
			*why = NULL;
		file_free(fs);
		return TW_EIO;
	}
	*ops = &file_ops;
	*impl = fs;
	return 0;
}

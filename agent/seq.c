/* seq.c: batch sequence numbers that only ever grow, across restarts. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsio.h"
#include "log.h"
#include "seq.h"
#include "timefmt.h"

#define SEQ_FILE "seq"

struct seq {
	pthread_mutex_t lock;
	int dirfd;
	uint64_t next;	   /* the next seq to hand out */
	uint64_t reserved; /* seqs below this are reserved on disk */
};

/* Parse "trawl-agent seq 1 <n> <crc>\n"; false when it is not that. */
static bool
parse(const char *p, size_t n, uint64_t *next)
{
	char text[96];
	unsigned long long v;
	unsigned crc;
	int used = 0;
	const char *sp;

	if (n == 0 || n >= sizeof(text) || p[n - 1] != '\n')
		return false;
	memcpy(text, p, n);
	text[n] = '\0';
	if (sscanf(text, "trawl-agent seq 1 %llu %8x\n%n", &v, &crc,
	    &used) != 2 || (size_t)used != n)
		return false;
	/* The checksum covers everything before its own field. */
	if ((sp = strrchr(text, ' ')) == NULL ||
	    fsio_crc32(0, text, (size_t)(sp - text)) != crc)
		return false;
	*next = v;
	return true;
}

static int
reserve(struct seq *s, uint64_t upto)
{
	char text[96];
	int len;

	len = snprintf(text, sizeof(text), "trawl-agent seq 1 %" PRIu64,
	    upto);
	snprintf(text + len, sizeof(text) - (size_t)len, " %08" PRIx32 "\n",
	    fsio_crc32(0, text, (size_t)len));
	return fsio_replace(s->dirfd, SEQ_FILE, text, strlen(text));
}

struct seq *
seq_open(const char *data_dir, uint64_t floor, char **why)
{
	struct tw_buf b;
	struct seq *s;
	uint64_t next = 0, clock;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	if ((s->dirfd = open(data_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		if (why != NULL && asprintf(why, "%s: %s", data_dir,
		    strerror(errno)) < 0)
			*why = NULL;
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	tw_buf_init(&b, 4096);
	r = fsio_read_file(s->dirfd, SEQ_FILE, 4096, &b);
	clock = (uint64_t)tw_time_now_ns();
	if (r == 0 && parse(b.data, b.len, &next)) {
		/* next is at least what any earlier run handed out. */
	} else if (r == TW_ENOTFOUND) {
		next = clock;
	} else {
		tw_error("seq", "the batch sequence file is unreadable or "
		    "corrupt; continuing from the clock", "file", SEQ_FILE,
		    "error", r == 0 ? "malformed" : tw_strerror(r));
		next = clock;
	}
	tw_buf_cleanup(&b);
	if (next <= floor)
		next = floor + 1;
	if (next == 0)
		next = 1;
	s->next = next;
	s->reserved = next; /* nothing is reserved by this run yet */
	return s;
}

int
seq_next(struct seq *s, uint64_t *out)
{
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (s->next >= s->reserved) {
		if ((r = reserve(s, s->next + SEQ_BLOCK)) != 0) {
			tw_error("seq", "cannot write the batch sequence file",
			    "error", strerror(errno));
			goto out;
		}
		s->reserved = s->next + SEQ_BLOCK;
	}
	*out = s->next++;
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

void
seq_free(struct seq *s)
{
	if (s == NULL)
		return;
	close(s->dirfd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* bench_parse.c: parse CRI logs against zstd -1; allocations per record. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "parser.h"

/*
 * Every allocation of the process goes through these: glibc lets a program
 * replace malloc and friends, and its own __libc_* entry points do the
 * work. Counting is on only for the untimed pass.
 */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n);
void *calloc(size_t k, size_t n);
void *realloc(void *p, size_t n);
void free(void *p);
int posix_memalign(void **out, size_t align, size_t n);
void *aligned_alloc(size_t align, size_t n);

static bool alloc_counting;
static uint64_t alloc_calls; /* malloc, calloc, realloc, memalign */
static uint64_t realloc_calls;

void *
malloc(size_t n)
{
	if (alloc_counting)
		alloc_calls++;
	return __libc_malloc(n);
}

void *
calloc(size_t k, size_t n)
{
	if (alloc_counting)
		alloc_calls++;
	return __libc_calloc(k, n);
}

void *
realloc(void *p, size_t n)
{
	if (alloc_counting) {
		alloc_calls++;
		realloc_calls++;
	}
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	__libc_free(p);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (alloc_counting)
		alloc_calls++;
	if ((p = __libc_memalign(align, n)) == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

void *
aligned_alloc(size_t align, size_t n)
{
	if (alloc_counting)
		alloc_calls++;
	return __libc_memalign(align, n);
}

/* The default reference time of every record: 2026-11-28T09:15:24Z. */
#define BENCH_NOW_NS 1795857324000000000LL

struct input {
	char *path; /* as the agent tails it: /var/log/containers/<name> */
	const char *file;
	char *data;
	size_t len;
};

struct count {
	uint64_t records;
	uint64_t bytes; /* msgpack out */
	uint64_t lines;
	bool digest;	/* hash the records (untimed pass only) */
	uint64_t hash;
};

/* Only counts: the records are fully built before emit sees them. */
static int
count_record(void *arg, const uint8_t *rec, size_t len)
{
	struct count *c = arg;

	c->records++;
	c->bytes += len;
	if (c->digest) {
		/* FNV-1a over every byte, length-separated: output changes
		 * show up as a different digest. */
		uint64_t h = c->hash ^ len;
		for (size_t i = 0; i < len; i++)
			h = (h ^ rec[i]) * 0x100000001b3ULL;
		c->hash = h * 0x100000001b3ULL;
	}
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
read_file(struct input *in, const char *file)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	const char *base;
	int fd, r = -1;

	if ((fd = open(file, O_RDONLY)) < 0 || fstat(fd, &st) != 0)
		goto out;
	if ((in->data = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	while (off < (size_t)st.st_size &&
	    (n = read(fd, in->data + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	in->len = off;
	base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 : file;
	if ((in->path = malloc(strlen(base) + 32)) == NULL)
		goto out;
	sprintf(in->path, "/var/log/containers/%s", base);
	in->file = file;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* Allocations seen by the untimed pass. */
struct allocs {
	uint64_t warm;	   /* records of each file before counting starts */
	uint64_t growth;   /* steady state: realloc, buffers reaching a new
			      high-water mark (tw_buf grows only so) */
	uint64_t other;	   /* steady state: malloc, calloc, memalign */
	uint64_t records;  /* records in the steady state */
	uint64_t again;	   /* all, while each parser reads its file again */
	uint64_t again_records;
};

/*
 * Feed every line of in to p (one feed per line, without the newline, as
 * the agent does). With a, allocations past the first a->warm records
 * are counted (and the first few reported on stderr).
 */
static int
feed_file(struct tw_parser *p, const struct input *in, struct count *c,
    struct allocs *a)
{
	const char *s = in->data, *end = in->data + in->len, *nl;
	uint64_t first = c->records, line = 0, calls, grows, records;
	static int reported;
	size_t len;
	int r = 0;

	while (s < end) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		calls = alloc_calls;
		grows = realloc_calls;
		records = c->records;
		line++;
		len = (size_t)(nl - s);
		if ((r = tw_parser_feed(p, s, len, count_record, c)) != 0)
			break;
		c->lines++;
		s = nl + 1;
		if (a == NULL || records - first < a->warm)
			continue;
		a->records += c->records - records;
		if (alloc_calls == calls)
			continue;
		a->growth += realloc_calls - grows;
		a->other += (alloc_calls - calls) - (realloc_calls - grows);
		if (reported++ < 40)
			fprintf(stderr, "# allocation: %s line %llu (%zu bytes):"
			    " %llu realloc, %llu other\n", in->file,
			    (unsigned long long)line, len,
			    (unsigned long long)(realloc_calls - grows),
			    (unsigned long long)((alloc_calls - calls) -
			    (realloc_calls - grows)));
	}
	return r;
}

/*
 * What the agent does with one file: a cri parser for its path (under
 * /var/log/containers, so k8s metadata is filled), the lines fed one by
 * one, a flush at the end. With a, the same parser then reads the file a
 * second time, every allocation counted: its buffers have met the file's
 * largest records by then.
 */
static int
parse_file(const struct input *in, struct count *c, struct allocs *a)
{
	struct tw_parse_opts o;
	struct tw_parser *p;
	struct count again;
	char *why = NULL;
	uint64_t calls;
	int r;

	tw_parse_opts_default(&o);
	o.path = in->path;
	o.now_ns = BENCH_NOW_NS;
	if ((p = tw_parser_new("cri", &o, &why)) == NULL) {
		fprintf(stderr, "bench_parse: %s\n", why);
		free(why);
		return -1;
	}
	r = feed_file(p, in, c, a);
	if (r == 0 && a != NULL) {
		memset(&again, 0, sizeof(again));
		calls = alloc_calls;
		r = feed_file(p, in, &again, NULL);
		a->again += alloc_calls - calls;
		a->again_records += again.records;
	}
	if (r == 0)
		r = tw_parser_flush(p, count_record, c);
	tw_parser_free(p);
	if (r != 0)
		fprintf(stderr, "bench_parse: %s: error %d\n", in->file, r);
	return r;
}

/* One timed parse of every file (a function of its own for callgrind). */
__attribute__((noinline)) int bench_run_parse(const struct input *in,
    int nin, struct count *c);
__attribute__((noinline)) int bench_run_zstd(const struct input *in,
    int nin, ZSTD_CCtx *cctx, void *dst, size_t dst_cap, uint64_t *out);

int
bench_run_parse(const struct input *in, int nin, struct count *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < nin; i++)
		if (parse_file(&in[i], c, NULL) != 0)
			return -1;
	return 0;
}

/* zstd -1 -T1 in memory: one frame per file, as the CLI writes them. */
int
bench_run_zstd(const struct input *in, int nin, ZSTD_CCtx *cctx, void *dst,
    size_t dst_cap, uint64_t *out)
{
	size_t z;

	*out = 0;
	for (int i = 0; i < nin; i++) {
		z = ZSTD_compressCCtx(cctx, dst, dst_cap, in[i].data, in[i].len,
		    1);
		if (ZSTD_isError(z)) {
			fprintf(stderr, "bench_parse: zstd: %s\n",
			    ZSTD_getErrorName(z));
			return -1;
		}
		*out += z;
	}
	return 0;
}

/* The zstd CLI over the same files (page cache), output discarded. */
static double
zstd_cli(const struct input *in, int nin)
{
	char **argv;
	double t;
	pid_t pid;
	int st, fd;

	if ((argv = calloc((size_t)nin + 8, sizeof(*argv))) == NULL)
		return -1;
	argv[0] = (char *)"zstd";
	argv[1] = (char *)"-q";
	argv[2] = (char *)"-1";
	argv[3] = (char *)"-T1";
	argv[4] = (char *)"-c";
	for (int i = 0; i < nin; i++)
		argv[5 + i] = (char *)in[i].file;
	t = now_s();
	if ((pid = fork()) == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) >= 0)
			dup2(fd, 1);
		execvp("zstd", argv);
		_exit(127);
	}
	free(argv);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return -1;
	return now_s() - t;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_parse [-r runs] [-w warm-records] "
	    "[-m all|parse|zstd] [-AC] file...\n"
	    "  -r  timed runs of each, best kept (default 5)\n"
	    "  -w  records per file before allocations count (default 1000)\n"
	    "  -m  what to run (parse or zstd alone: for callgrind)\n"
	    "  -A  skip the allocation-counting pass\n"
	    "  -C  skip the zstd command-line reference\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct input *in;
	struct count c;
	ZSTD_CCtx *cctx = NULL;
	const char *mode = "all";
	uint64_t total = 0, zout = 0, warm = 1000;
	struct allocs a;
	double t, best_parse = 1e30, best_zstd = 1e30, best_cli = 1e30;
	size_t dst_cap = 0;
	void *dst = NULL;
	bool cli = true, allocs = true, do_parse, do_zstd;
	int runs = 5, nin, ch;

	while ((ch = getopt(argc, argv, "r:w:m:AC")) != -1) {
		switch (ch) {
		case 'A':
			allocs = false;
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'w':
			warm = strtoull(optarg, NULL, 10);
			break;
		case 'm':
			mode = optarg;
			break;
		case 'C':
			cli = false;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || runs < 1)
		usage();
	do_parse = strcmp(mode, "zstd") != 0;
	do_zstd = strcmp(mode, "parse") != 0;
	nin = argc;
	if ((in = calloc((size_t)nin, sizeof(*in))) == NULL)
		return 1;
	for (int i = 0; i < nin; i++) {
		if (read_file(&in[i], argv[i]) != 0) {
			fprintf(stderr, "bench_parse: %s: %s\n", argv[i],
			    strerror(errno));
			return 1;
		}
		total += in[i].len;
		if (ZSTD_compressBound(in[i].len) > dst_cap)
			dst_cap = ZSTD_compressBound(in[i].len);
	}
	printf("input: %d files, %.1f MiB\n", nin, (double)total / 1048576);

	if (do_zstd && ((cctx = ZSTD_createCCtx()) == NULL ||
	    (dst = malloc(dst_cap)) == NULL))
		return 1;

	/*
	 * An untimed pass counts allocations: all of them; those made past
	 * the first warm records of each file, by kind; and those made while
	 * each parser reads its file once more. It also hashes the records.
	 */
	if (do_parse && allocs) {
		memset(&c, 0, sizeof(c));
		memset(&a, 0, sizeof(a));
		a.warm = warm;
		c.digest = true;
		c.hash = 0xcbf29ce484222325ULL;
		alloc_calls = realloc_calls = 0;
		alloc_counting = true;
		for (int i = 0; i < nin; i++)
			if (parse_file(&in[i], &c, &a) != 0)
				return 1;
		alloc_counting = false;
		printf("records: %llu from %llu lines, %.1f MiB of msgpack "
		    "(digest %016llx)\n", (unsigned long long)c.records,
		    (unsigned long long)c.lines, (double)c.bytes / 1048576,
		    (unsigned long long)c.hash);
		printf("allocations: %llu in all, parsers made and freed "
		    "included\n", (unsigned long long)alloc_calls);
		printf("allocations past the first %llu records of each file: "
		    "%llu over %llu records = %.6f per record (%llu realloc: "
		    "buffers growing to a new largest record; %llu other)\n",
		    (unsigned long long)warm,
		    (unsigned long long)(a.growth + a.other),
		    (unsigned long long)a.records,
		    a.records > 0 ? (double)(a.growth + a.other) /
		    (double)a.records : 0.0, (unsigned long long)a.growth,
		    (unsigned long long)a.other);
		printf("allocations with each parser reading its file again: "
		    "%llu over %llu records = %.6f per record\n",
		    (unsigned long long)a.again,
		    (unsigned long long)a.again_records,
		    a.again_records > 0 ? (double)a.again /
		    (double)a.again_records : 0.0);
	}

	/* Interleaved so that a burst of load on the machine hits both. */
	for (int r = 0; r < runs; r++) {
		if (do_parse) {
			t = now_s();
			if (bench_run_parse(in, nin, &c) != 0)
				return 1;
			t = now_s() - t;
			if (t < best_parse)
				best_parse = t;
		}
		if (do_zstd) {
			t = now_s();
			if (bench_run_zstd(in, nin, cctx, dst, dst_cap, &zout) != 0)
				return 1;
			t = now_s() - t;
			if (t < best_zstd)
				best_zstd = t;
		}
		if (do_zstd && cli && (t = zstd_cli(in, nin)) >= 0 &&
		    t < best_cli)
			best_cli = t;
	}

	if (do_parse)
		printf("parse cri+json: %8.1f MB/s  (best of %d: %.3f s, "
		    "%.0f records/s)\n", (double)total / best_parse / 1e6,
		    runs, best_parse, (double)c.records / best_parse);
	if (do_zstd)
		printf("zstd -1 (lib):  %8.1f MB/s  (best of %d: %.3f s, "
		    "ratio %.2f)\n", (double)total / best_zstd / 1e6, runs,
		    best_zstd, (double)total / (double)zout);
	if (do_zstd && cli && best_cli < 1e30)
		printf("zstd -1 -T1 (CLI, reads the files): %8.1f MB/s\n",
		    (double)total / best_cli / 1e6);
	if (do_parse && do_zstd)
		printf("parse/zstd: %.2fx\n", best_zstd / best_parse);

	ZSTD_freeCCtx(cctx);
	free(dst);
	for (int i = 0; i < nin; i++) {
		free(in[i].data);
		free(in[i].path);
	}
	free(in);
	return 0;
}

/* cmd_parse.c: `trawl parse`: raw log input to canonical JSON records. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_parse.h"
#include "parser.h"
#include "record.h"
#include "timefmt.h"

#define READ_CHUNK (1u << 20)
#define LINE_MAX_BYTES ((size_t)64 << 20)
#define DOCUMENT_MAX ((size_t)256 << 20)
#define DETECT_SAMPLE 65536

struct parse_out {
	struct tw_buf json;
	FILE *f;
	int err;
};

static void
parse_usage(FILE *f)
{
	fprintf(f,
	    "usage: trawl parse [--format NAME|auto] [--path PATH] "
	    "[--target PATH] [--now TIME]\n"
	    "                   [--multiline java] [FILE...]\n"
	    "Parse raw input (FILE or stdin) and print canonical JSON "
	    "records, one per line.\n\n"
	    "  -f, --format NAME   a source.format, or auto (default)\n"
	    "      --path PATH     the path the file is taken to be tailed as "
	    "(default: FILE)\n"
	    "      --target PATH   where a /var/log/containers link at --path "
	    "points\n"
	    "      --now TIME      reference clock (RFC 3339, epoch ns, or "
	    "-DUR)\n"
	    "      --multiline java  join Java stack traces into one record\n"
	    "formats:");
	for (const char *const *n = tw_parser_names(); *n != NULL; n++)
		fprintf(f, " %s", *n);
	fprintf(f, "\n");
}

static int
print_record(void *arg, const uint8_t *rec, size_t len)
{
	struct parse_out *out = arg;
	size_t used;
	int r;

	tw_buf_reset(&out->json);
	if ((r = tw_record_to_json(&out->json, rec, len, &used,
	    TW_RECORD_NO_OBSERVED_TIME)) != 0) {
		fprintf(stderr, "trawl parse: cannot render a record: %s\n",
		    tw_strerror(r));
		out->err = r;
		return 0; /* one bad record does not stop the rest */
	}
	if (tw_buf_addc(&out->json, '\n') != 0 ||
	    fwrite(out->json.data, 1, out->json.len, out->f) !=
	    out->json.len)
		return TW_EIO;
	return 0;
}

/* Read everything (document formats); TW_ETOOBIG past DOCUMENT_MAX. */
static int
read_all(FILE *f, struct tw_buf *b)
{
	char chunk[65536];
	size_t n;
	int r;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if ((r = tw_buf_add(b, chunk, n)) != 0)
			return r;
	return ferror(f) ? TW_EIO : 0;
}

/* Feed complete lines from buf; keep the unterminated tail. */
static int
feed_lines(struct tw_parser *p, struct tw_buf *buf, bool eof,
    struct parse_out *out)
{
	size_t start = 0;
	char *nl;
	int r = 0;

	while (start < buf->len &&
	    (nl = memchr(buf->data + start, '\n', buf->len - start)) != NULL) {
		size_t end = (size_t)(nl - buf->data);
		if ((r = tw_parser_feed(p, buf->data + start, end - start,
		    print_record, out)) != 0)
			return r;
		start = end + 1;
	}
	if (eof && start < buf->len) {
		r = tw_parser_feed(p, buf->data + start, buf->len - start,
		    print_record, out);
		start = buf->len;
	}
	memmove(buf->data, buf->data + start, buf->len - start);
	buf->len -= start;
	return r;
}

static int
parse_stream(FILE *in, const char *name, const char *format,
    const struct tw_parse_opts *opts, struct parse_out *out)
{
	struct tw_parser *p = NULL;
	struct tw_buf buf;
	char *why = NULL;
	size_t n;
	int r = 0;

	tw_buf_init(&buf, DOCUMENT_MAX);
	/* Fill a first chunk: enough to pick a format when asked to. */
	if ((r = tw_buf_reserve(&buf, READ_CHUNK)) != 0)
		goto out;
	n = fread(buf.data, 1, READ_CHUNK, in);
	buf.len = n;
	if (strcmp(format, "auto") == 0)
		format = tw_parser_detect(buf.data,
		    n < DETECT_SAMPLE ? n : DETECT_SAMPLE);
	if ((p = tw_parser_new(format, opts, &why)) == NULL) {
		fprintf(stderr, "trawl parse: %s\n", why);
		r = TW_EINVAL;
		goto out;
	}
	if (tw_parser_is_document(p)) {
		if ((r = read_all(in, &buf)) != 0) {
			fprintf(stderr, "trawl parse: %s: %s\n", name,
			    r == TW_EIO ? strerror(errno) : tw_strerror(r));
			goto out;
		}
		r = tw_parser_feed(p, buf.data, buf.len, print_record, out);
	} else {
		buf.max = LINE_MAX_BYTES;
		for (;;) {
			if ((r = feed_lines(p, &buf, false, out)) != 0)
				goto out;
			if (n == 0 || feof(in) || ferror(in))
				break;
			if ((r = tw_buf_reserve(&buf, READ_CHUNK)) != 0) {
				fprintf(stderr, "trawl parse: %s: a line over "
				    "%zu bytes\n", name, LINE_MAX_BYTES);
				goto out;
			}
			n = fread(buf.data + buf.len, 1, READ_CHUNK, in);
			buf.len += n;
		}
		if (ferror(in)) {
			fprintf(stderr, "trawl parse: %s: %s\n", name,
			    strerror(errno));
			r = TW_EIO;
			goto out;
		}
		if ((r = feed_lines(p, &buf, true, out)) != 0)
			goto out;
	}
	if (r == 0)
		r = tw_parser_flush(p, print_record, out);
out:
	if (r != 0 && r != TW_EINVAL && r != TW_EIO && p != NULL)
		fprintf(stderr, "trawl parse: %s (%s): %s\n", name,
		    tw_parser_format(p), tw_strerror(r));
	tw_parser_free(p);
	tw_buf_cleanup(&buf);
	free(why);
	return r;
}

int
cmd_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "path", required_argument, NULL, 'p' },
		{ "target", required_argument, NULL, 't' },
		{ "now", required_argument, NULL, 'n' },
		{ "multiline", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tw_parse_opts opts;
	struct parse_out out;
	const char *format = "auto", *path = NULL;
	int c, r, rc = 0;

	tw_parse_opts_default(&opts);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'p':
			path = optarg;
			break;
		case 't':
			opts.target = optarg;
			break;
		case 'n':
			if (tw_time_parse_arg(optarg, tw_time_now_ns(),
			    &opts.now_ns) != 0) {
				fprintf(stderr, "trawl parse: bad --now '%s': "
				    "use RFC 3339, epoch ns or -DURATION\n",
				    optarg);
				return 2;
			}
			break;
		case 'm':
			if (strcmp(optarg, "java") != 0) {
				fprintf(stderr, "trawl parse: unknown "
				    "--multiline rule '%s' (known: java)\n",
				    optarg);
				return 2;
			}
			opts.multiline_java = true;
			break;
		case 'h':
			parse_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "trawl parse: unknown or incomplete "
			    "option '%s'\n", argv[optind - 1]);
			parse_usage(stderr);
			return 2;
		}
	}

	memset(&out, 0, sizeof(out));
	tw_buf_init(&out.json, (size_t)256 << 20);
	out.f = stdout;
	if (optind == argc) {
		opts.path = path;
		if (parse_stream(stdin, "<stdin>", format, &opts, &out) != 0)
			rc = 2;
	}
	for (int i = optind; i < argc; i++) {
		FILE *in = fopen(argv[i], "rb");
		if (in == NULL) {
			fprintf(stderr, "trawl parse: %s: %s\n", argv[i],
			    strerror(errno));
			rc = 2;
			continue;
		}
		opts.path = path != NULL ? path : argv[i];
		if ((r = parse_stream(in, argv[i], format, &opts, &out)) != 0)
			rc = 2;
		fclose(in);
	}
	if (fflush(stdout) != 0 || out.err != 0)
		rc = 2;
	tw_buf_cleanup(&out.json);
	return rc;
}

/* cmd_query.c: `trawl query`: search a collector's store. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "cmd_query.h"
#include "record.h"
#include "store.h"
#include "store_reader.h"

#define STORES_MAX 64
#define LINE_MAX_BYTES ((size_t)256 << 20)

/*
 * The command is built as sources -> filter -> output so that the options
 * DESIGN.md §9 lists slot in: --since/--from/--to set [from, to] (the
 * store reader already skips segments and blocks outside it), --where and
 * --grep become predicates in record_matches(), -o text|table more
 * output kinds, --limit a stop in emit(), raw FILEs a second source.
 */
enum query_output {
	OUT_JSON = 0,
};

struct query_opts {
	const char *stores[STORES_MAX];
	size_t nstores;
	char **files; /* raw log files: not read yet */
	size_t nfiles;
	enum query_output output;
	bool count;
	int64_t from, to; /* inclusive; INT64_MIN/INT64_MAX: unbounded */
};

struct query_run {
	const struct query_opts *o;
	struct tw_batch_dec *dec;
	struct tw_batch_limits lim;
	struct tw_buf records; /* one decoded batch */
	struct tw_buf line;    /* one rendered record */
	uint64_t matches;
	bool error;	       /* something could not be read: exit 2 */
	bool stop;	       /* output failed */
};

static void
query_usage(FILE *f)
{
	fprintf(f,
	    "usage: trawl query --store DIR... [-o json] [--count]\n"
	    "Print the records stored in a collector's store as canonical "
	    "JSON, one per line.\n\n"
	    "  --store DIR   a collector's data_dir (or its store directory); "
	    "repeatable\n"
	    "  -o json       output format (json is the only one so far)\n"
	    "  --count       print only the number of matching records\n"
	    "exit status: 0 records matched, 1 none did, 2 error\n"
	    "Not implemented yet: --since --from --to --where --grep --limit "
	    "--follow --rules,\n"
	    "-o text|table, and raw log FILEs.\n");
}

/* The predicate --where/--grep/time filters will plug into. */
static bool
record_matches(struct query_run *q, const uint8_t *rec, size_t len)
{
	(void)q;
	(void)rec;
	(void)len;
	return true;
}

static int
emit(struct query_run *q, const uint8_t *rec, size_t len)
{
	size_t used;
	int r;

	q->matches++;
	if (q->o->count)
		return 0;
	tw_buf_reset(&q->line);
	/* observed_time is part of a stored record: print it. */
	if ((r = tw_record_to_json(&q->line, rec, len, &used, 0)) != 0) {
		fprintf(stderr, "trawl query: cannot render a record: %s\n",
		    tw_strerror(r));
		q->error = true;
		return 0;
	}
	if (tw_buf_addc(&q->line, '\n') != 0 ||
	    fwrite(q->line.data, 1, q->line.len, stdout) != q->line.len) {
		q->stop = true;
		return TW_EIO;
	}
	return 0;
}

static void
query_block(struct query_run *q, const char *dir,
    const struct tw_store_block *b)
{
	const uint8_t *rec;
	size_t off = 0, len;
	int r;

	if ((r = tw_batch_decode(q->dec, b->body, b->body_len, &q->lim,
	    (int64_t)b->records, &q->records, NULL)) != 0) {
		fprintf(stderr, "trawl query: %s: block %" PRIu64 " (segment "
		    "%" PRIu64 " offset %" PRIu64 "): %s\n", dir, b->index,
		    b->pos.segment, b->pos.offset, tw_strerror(r));
		q->error = true;
		return;
	}
	while ((r = tw_batch_next(&q->records, &off, &rec, &len)) == 1)
		if (record_matches(q, rec, len) && emit(q, rec, len) != 0)
			return;
	if (r < 0) {
		fprintf(stderr, "trawl query: %s: block %" PRIu64 ": %s\n", dir,
		    b->index, tw_strerror(r));
		q->error = true;
	}
}

static void
query_store(struct query_run *q, const char *arg)
{
	struct tw_store_reader *rd = NULL;
	struct tw_store_block b;
	char *dir, *why = NULL;
	int r;

	if ((dir = tw_store_find_dir(arg)) == NULL) {
		fprintf(stderr, "trawl query: out of memory\n");
		q->error = true;
		return;
	}
	if ((rd = tw_store_reader_open(dir, &why)) == NULL) {
		fprintf(stderr, "trawl query: %s\n", why != NULL ? why :
		    "cannot open the store");
		q->error = true;
		goto out;
	}
	tw_store_reader_seek_time(rd, q->o->from, q->o->to);
	while (!q->stop) {
		r = tw_store_reader_next(rd, &b);
		if (r == 0)
			break;
		if (r == 1) {
			query_block(q, dir, &b);
			continue;
		}
		fprintf(stderr, "trawl query: %s: %s\n", dir,
		    tw_store_reader_error(rd)[0] != '\0' ?
		    tw_store_reader_error(rd) : tw_strerror(r));
		q->error = true;
		if (r != TW_EPARSE) /* a damaged block is skipped */
			break;
	}
out:
	tw_store_reader_free(rd);
	free(why);
	free(dir);
}

static int
not_yet(const char *what)
{
	fprintf(stderr, "trawl query: %s is not implemented yet\n", what);
	return 2;
}

int
cmd_query(int argc, char **argv)
{
	enum {
		OPT_STORE = 256, OPT_COUNT, OPT_SINCE, OPT_FROM, OPT_TO,
		OPT_WHERE, OPT_GREP, OPT_LIMIT, OPT_FOLLOW, OPT_RULES,
	};
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, OPT_STORE },
		{ "output", required_argument, NULL, 'o' },
		{ "count", no_argument, NULL, OPT_COUNT },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "where", required_argument, NULL, OPT_WHERE },
		{ "grep", required_argument, NULL, OPT_GREP },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "follow", no_argument, NULL, OPT_FOLLOW },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct query_opts o;
	struct query_run q;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.from = INT64_MIN;
	o.to = INT64_MAX;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE:
			if (o.nstores == STORES_MAX) {
				fprintf(stderr, "trawl query: at most %d "
				    "--store\n", STORES_MAX);
				return 2;
			}
			o.stores[o.nstores++] = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				o.output = OUT_JSON;
			else if (strcmp(optarg, "text") == 0 ||
			    strcmp(optarg, "table") == 0)
				return not_yet("-o text|table");
			else {
				fprintf(stderr, "trawl query: unknown output "
				    "format '%s' (json, text, table)\n",
				    optarg);
				return 2;
			}
			break;
		case OPT_COUNT:
			o.count = true;
			break;
		case OPT_SINCE:
			return not_yet("--since");
		case OPT_FROM:
			return not_yet("--from");
		case OPT_TO:
			return not_yet("--to");
		case OPT_WHERE:
			return not_yet("--where");
		case OPT_GREP:
			return not_yet("--grep");
		case OPT_LIMIT:
			return not_yet("--limit");
		case OPT_FOLLOW:
			return not_yet("--follow");
		case OPT_RULES:
			return not_yet("--rules");
		case 'h':
			query_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "trawl query: unknown or incomplete "
			    "option '%s'\n", argv[optind - 1]);
			query_usage(stderr);
			return 2;
		}
	}
	o.files = argv + optind;
	o.nfiles = (size_t)(argc - optind);
	if (o.nfiles > 0)
		return not_yet("reading raw log FILEs");
	if (o.nstores == 0) {
		fprintf(stderr, "trawl query: give --store DIR\n");
		query_usage(stderr);
		return 2;
	}

	memset(&q, 0, sizeof(q));
	q.o = &o;
	tw_batch_limits_default(&q.lim);
	/* Stored batches passed the collector's limits, which may be
	 * configured above the defaults; these only keep memory bounded. */
	q.lim.compressed_max = TW_STORE_BODY_MAX;
	q.lim.decompressed_max = (size_t)1 << 30;
	q.lim.ratio_max = 0;
	q.lim.records_max = 10000000;
	q.lim.record_max = (size_t)64 << 20;
	tw_buf_init(&q.records, q.lim.decompressed_max);
	tw_buf_init(&q.line, LINE_MAX_BYTES);
	if ((q.dec = tw_batch_dec_new()) == NULL) {
		fprintf(stderr, "trawl query: out of memory\n");
		rc = 2;
		goto out;
	}
	for (size_t i = 0; i < o.nstores && !q.stop; i++)
		query_store(&q, o.stores[i]);
	if (o.count && !q.stop && printf("%" PRIu64 "\n", q.matches) < 0)
		q.stop = true;
	if (fflush(stdout) != 0)
		q.stop = true;
	if (q.stop)
		fprintf(stderr, "trawl query: cannot write the output\n");
	rc = q.error || q.stop ? 2 : q.matches > 0 ? 0 : 1;
out:
	tw_batch_dec_free(q.dec);
	tw_buf_cleanup(&q.records);
	tw_buf_cleanup(&q.line);
	return rc;
}

/* store_write.c: test helper: append batches of NDJSON records to a store. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "record.h"
#include "store.h"

#define LINE_MAX_BYTES ((size_t)16 << 20)

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: store-write DIR [--agent ID] [--seq N] [--per-batch K]\n"
	    "                   [--segment-bytes B] "
	    "[--sign hmac-sha256|ed25519 --key FILE] [FILE]\n"
	    "Append the canonical JSON records of FILE (or stdin), K to a "
	    "batch (default 2),\n"
	    "to the store DIR as agent ID (default test-agent) with batch "
	    "seqs N, N+1, ...\n"
	    "(default 1). Prints \"stored B blocks R records D "
	    "duplicates\".\n");
}

struct writer {
	struct tw_store *s;
	struct tw_batch_enc *enc;
	struct tw_buf frame;
	const char *agent;
	uint64_t seq;
	uint64_t blocks, records, dups;
};

static int
flush_batch(struct writer *w)
{
	struct tw_batch_info info;
	int r;

	if (tw_batch_enc_records(w->enc) == 0)
		return 0;
	tw_buf_reset(&w->frame);
	if ((r = tw_batch_enc_finish(w->enc, &w->frame, &info)) != 0) {
		fprintf(stderr, "store-write: encode: %s\n", tw_strerror(r));
		return r;
	}
	r = tw_store_append(w->s, w->agent, w->seq++, &info, w->frame.data,
	    w->frame.len, NULL);
	if (r == TW_EEXISTS) {
		w->dups++;
		return 0;
	}
	if (r != 0) {
		fprintf(stderr, "store-write: append: %s (%s)\n",
		    tw_strerror(r), strerror(errno));
		return r;
	}
	w->blocks++;
	w->records += info.records;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "agent", required_argument, NULL, 'a' },
		{ "seq", required_argument, NULL, 'n' },
		{ "per-batch", required_argument, NULL, 'k' },
		{ "segment-bytes", required_argument, NULL, 'b' },
		{ "sign", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tw_store_opts opts;
	struct writer w;
	struct tw_buf rec;
	struct tw_mpw mpw;
	unsigned long per_batch = 2;
	char *line = NULL, *why = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *in = stdin;
	int c, r, rc = 1;

	memset(&w, 0, sizeof(w));
	w.agent = "test-agent";
	w.seq = 1;
	tw_store_opts_default(&opts);
	tw_buf_init(&w.frame, (size_t)64 << 20);
	tw_buf_init(&rec, LINE_MAX_BYTES);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			w.agent = optarg;
			break;
		case 'n':
			w.seq = strtoull(optarg, NULL, 10);
			break;
		case 'k':
			per_batch = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			opts.segment_max_bytes = strtoull(optarg, NULL, 10);
			break;
		case 's':
			if (tw_store_sig_parse(optarg,
			    &opts.checkpoint_signing) != 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'K':
			opts.checkpoint_key_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || argc - optind > 2 || per_batch == 0) {
		usage(stderr);
		return 2;
	}
	if (argc - optind == 2 &&
	    (in = fopen(argv[optind + 1], "rb")) == NULL) {
		fprintf(stderr, "store-write: %s: %s\n", argv[optind + 1],
		    strerror(errno));
		return 2;
	}
	if ((w.s = tw_store_open(argv[optind], &opts, &why)) == NULL) {
		fprintf(stderr, "store-write: %s\n", why != NULL ? why : "?");
		goto out;
	}
	if ((w.enc = tw_batch_enc_new(3)) == NULL)
		goto out;
	while ((n = getline(&line, &cap, in)) > 0) {
		size_t len = (size_t)n;
		while (len > 0 &&
		    (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;
		tw_buf_reset(&rec);
		tw_mpw_init(&mpw, &rec);
		if ((r = tw_record_from_json(line, len, &mpw, &why)) != 0) {
			fprintf(stderr, "store-write: bad record: %s\n",
			    why != NULL ? why : tw_strerror(r));
			goto out;
		}
		if ((r = tw_batch_enc_add(w.enc, rec.data, rec.len)) != 0) {
			fprintf(stderr, "store-write: add: %s\n",
			    tw_strerror(r));
			goto out;
		}
		if (tw_batch_enc_records(w.enc) >= per_batch &&
		    flush_batch(&w) != 0)
			goto out;
	}
	if (flush_batch(&w) != 0)
		goto out;
	printf("stored %" PRIu64 " blocks %" PRIu64 " records %" PRIu64
	    " duplicates\n", w.blocks, w.records, w.dups);
	rc = 0;
out:
	if (in != stdin)
		fclose(in);
	free(line);
	free(why);
	tw_batch_enc_free(w.enc);
	tw_store_close(w.s);
	tw_buf_cleanup(&w.frame);
	tw_buf_cleanup(&rec);
	return rc;
}

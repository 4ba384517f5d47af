/* cmd_verify.c: `trawl verify`: check a store's hash chain and checkpoints. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_verify.h"
#include "store.h"
#include "store_reader.h"

static void
verify_usage(FILE *f)
{
	fprintf(f,
	    "usage: trawl verify --store DIR [--checkpoint-key FILE]\n"
	    "Walk the store's hash chain and check every block, every link "
	    "and every sealed\nsegment's checkpoint; print \"ok N blocks\" or "
	    "the first bad block.\n\n"
	    "  --store DIR            the collector's data_dir (or its store "
	    "directory)\n"
	    "  --checkpoint-key FILE  also check checkpoint signatures: the "
	    "HMAC secret,\n"
	    "                         or the Ed25519 public (or private) key "
	    "as PEM\n"
	    "exit status: 0 intact, 1 damaged, 2 usage or read error\n");
}

int
cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "checkpoint-key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tw_store_verify_result res;
	const char *store = NULL, *key = NULL;
	char *dir = NULL, *why = NULL;
	int c, r, rc = 2;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (store != NULL) {
				fprintf(stderr, "trawl verify: --store given "
				    "twice\n");
				return 2;
			}
			store = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'h':
			verify_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "trawl verify: unknown or incomplete "
			    "option '%s'\n", argv[optind - 1]);
			verify_usage(stderr);
			return 2;
		}
	}
	if (store == NULL || optind != argc) {
		fprintf(stderr, "trawl verify: %s\n", store == NULL ?
		    "--store DIR is required" : "unexpected argument");
		verify_usage(stderr);
		return 2;
	}
	if ((dir = tw_store_find_dir(store)) == NULL) {
		fprintf(stderr, "trawl verify: out of memory\n");
		return 2;
	}
	if ((r = tw_store_verify(dir, key, &res, &why)) != 0) {
		fprintf(stderr, "trawl verify: %s\n",
		    why != NULL ? why : tw_strerror(r));
		goto out;
	}
	if (!res.bad) {
		printf("ok %" PRIu64 " blocks\n", res.blocks);
		rc = 0;
	} else if (strcmp(res.file, TW_STORE_ANCHOR) == 0) {
		printf("bad anchor: %s/%s: %s\n", dir, res.file, res.what);
		rc = 1;
	} else {
		printf("bad block %" PRIu64 ": %s/%s offset %" PRIu64 ": %s\n",
		    res.index, dir, res.file, res.offset, res.what);
		rc = 1;
	}
	if (fflush(stdout) != 0)
		rc = 2;
out:
	free(why);
	free(dir);
	return rc;
}

/* main.c: trawl, the command people type: parse, query, rules, verify. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_parse.h"
#include "cmd_query.h"
#include "cmd_rules.h"
#include "cmd_verify.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "parse", cmd_parse, "parse raw log input into canonical JSON "
	    "records" },
	{ "query", cmd_query, "search a collector's store" },
	{ "rules", cmd_rules, "check rule files, test rules against labelled "
	    "events" },
	{ "verify", cmd_verify, "check a store's hash chain and "
	    "checkpoints" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: trawl COMMAND [options]   (trawl COMMAND --help)\n"
	    "       trawl --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
		    commands[i].summary);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0) {
		tw_cli_print_version("trawl");
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "trawl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

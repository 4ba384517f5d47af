/* cli.c: the command-line conventions the three programs share. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "log.h"

enum {
	OPT_CHECK = 256,
	OPT_ENV,
	OPT_LEVEL,
	OPT_FORMAT,
	OPT_VERSION,
	OPT_REFERENCE,
};

static void
daemon_usage(FILE *f, const char *prog, const char *summary)
{
	fprintf(f,
	    "usage: %s --config FILE [--check-config] [options]\n"
	    "%s\n\n"
	    "  -c, --config FILE            configuration file (YAML)\n"
	    "      --check-config           validate the configuration, print "
	    "\"configuration OK\"\n"
	    "                               or every error as file:line:col: "
	    "message (exit 78)\n"
	    "      --allow-env-interpolation  expand ${VAR} and "
	    "${VAR:-default} in the config\n"
	    "      --log-level LEVEL        debug, info, warn or error "
	    "(default info)\n"
	    "      --log-format FORMAT      text (logfmt) or json "
	    "(default text)\n"
	    "      --config-reference       print every configuration key "
	    "(Markdown) and exit\n"
	    "      --version                print the version and exit\n"
	    "  -h, --help                   print this help and exit\n",
	    prog, summary);
}

int
tw_cli_daemon_parse(int argc, char **argv, const char *prog,
    const char *summary, struct tw_cli_daemon *out)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "allow-env-interpolation", no_argument, NULL, OPT_ENV },
		{ "log-level", required_argument, NULL, OPT_LEVEL },
		{ "log-format", required_argument, NULL, OPT_FORMAT },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "config-reference", no_argument, NULL, OPT_REFERENCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(out, 0, sizeof(*out));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			out->config_path = optarg;
			break;
		case OPT_CHECK:
			out->check_config = true;
			break;
		case OPT_ENV:
			out->allow_env = true;
			break;
		case OPT_LEVEL:
			out->log_level = optarg;
			break;
		case OPT_FORMAT:
			out->log_format = optarg;
			break;
		case OPT_REFERENCE:
			out->config_reference = true;
			return 0;
		case OPT_VERSION:
			tw_cli_print_version(prog);
			return 1;
		case 'h':
			daemon_usage(stdout, prog, summary);
			return 1;
		default:
			fprintf(stderr, "%s: unknown or incomplete option '%s'\n",
			    prog, argv[optind - 1]);
			daemon_usage(stderr, prog, summary);
			return TW_EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
		    argv[optind]);
		return TW_EINVAL;
	}
	if (out->config_path == NULL && !out->config_reference) {
		fprintf(stderr, "%s: --config FILE is required\n", prog);
		daemon_usage(stderr, prog, summary);
		return TW_EINVAL;
	}
	return 0;
}

void
tw_cli_print_version(const char *prog)
{
	printf("%s (trawl) %s\n", prog, PACKAGE_VERSION);
}

int
tw_cli_apply_logging(const char *prog, const char *level, const char *format)
{
	enum tw_log_level lv;
	enum tw_log_format fm;

	if (level != NULL) {
		if (tw_log_parse_level(level, &lv) != 0) {
			fprintf(stderr, "%s: bad --log-level '%s': use debug, "
			    "info, warn or error\n", prog, level);
			return TW_EINVAL;
		}
		tw_log_set_level(lv);
	}
	if (format != NULL) {
		if (tw_log_parse_format(format, &fm) != 0) {
			fprintf(stderr, "%s: bad --log-format '%s': use text "
			    "or json\n", prog, format);
			return TW_EINVAL;
		}
		tw_log_set_format(fm);
	}
	return 0;
}

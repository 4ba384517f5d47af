/* cli.h: the command-line conventions the three programs share. */
#ifndef TW_CLI_H
#define TW_CLI_H

#include <stdbool.h>

#define TW_EXIT_OK 0
#define TW_EXIT_USAGE 64  /* EX_USAGE */
#define TW_EXIT_CONFIG 78 /* EX_CONFIG: --check-config found errors */

/* What a daemon (trawl-agent, trawl-collector) was asked to do. */
struct tw_cli_daemon {
	const char *config_path;
	bool check_config;
	bool allow_env; /* --allow-env-interpolation: ${VAR} in the config */
	const char *log_level;
	const char *log_format;
	bool config_reference; /* --config-reference: print the key table */
};

/*
 * Parse a daemon's command line: --config FILE, --check-config,
 * --allow-env-interpolation, --log-level LEVEL, --log-format text|json,
 * --config-reference, --version, --help. Returns 0 to go on, 1 when --help or --version was
 * printed (exit 0), TW_EINVAL after printing a usage error (exit 64).
 * summary is the one-line description shown by --help.
 */
int tw_cli_daemon_parse(int argc, char **argv, const char *prog,
    const char *summary, struct tw_cli_daemon *out);

/* Print "PROG (trawl) VERSION" and the libraries it was built with. */
void tw_cli_print_version(const char *prog);

/*
 * Apply --log-level/--log-format (either may be NULL for the default);
 * prints the error and returns TW_EINVAL on a bad value.
 */
int tw_cli_apply_logging(const char *prog, const char *level,
    const char *format);

#endif

/* daemon.h: the life of a trawl daemon: config, endpoints, signals, drain. */
#ifndef TW_DAEMON_H
#define TW_DAEMON_H

#include <stddef.h>

#include "conf.h"

struct tw_metrics;
struct tw_httpd;

/*
 * What a daemon plugs into tw_daemon_main(). The config struct is
 * conf_size bytes, filled by load and released by free_conf.
 */
struct tw_daemon_ops {
	const char *prog;    /* "trawl-agent" */
	const char *summary; /* one line for --help */
	const char *metric_prefix; /* "trawl_agent" */
	size_t conf_size;
	const struct tw_conf_key *keys;
	int (*load)(const char *path, unsigned opts, void *conf,
	    struct tw_conf_diag *d);
	void (*free_conf)(void *conf);
	/* The address of ingest and /metrics, /healthz, /readyz. */
	const char *(*listen)(const void *conf);
	/*
	 * Optional: build the daemon's components and register its routes
	 * (the server is not serving yet); *state is passed back below.
	 */
	int (*start)(const void *conf, struct tw_metrics *m,
	    struct tw_httpd *h, void **state);
	/* Optional: apply a validated new config (SIGHUP). */
	int (*reload)(void *state, const void *conf);
	/* Optional: SIGTERM arrived; refuse new work (the server still
	 * answers, requests in flight finish). */
	void (*drain)(void *state);
	/* Optional: drain and free (SIGTERM); the server has stopped. */
	void (*stop)(void *state);
	/* Optional: SIGUSR1: reopen output files (log rotation); returns
	 * at once, the work may finish later. Without it SIGUSR1 is
	 * ignored. */
	void (*reopen)(void *state);
};

/*
 * Run a daemon: parse the command line (tw_cli_daemon_parse), load and
 * check the config (--check-config prints "configuration OK" or every
 * error as file:line:col: message and exits 78), serve /metrics, /healthz
 * and /readyz, reload on SIGHUP (validated first; on failure the running
 * config stays and the errors are logged), reopen on SIGUSR1 (ops->reopen),
 * and on SIGTERM or SIGINT stop accepting, drain, and return 0. Returns the
 * process exit status.
 */
int tw_daemon_main(int argc, char **argv, const struct tw_daemon_ops *ops);

#endif

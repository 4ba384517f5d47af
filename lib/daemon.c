/* daemon.c: the life of a trawl daemon: config, endpoints, signals, drain. */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"

/* Print every message of d on stderr, one per line. */
static void
print_diag(const struct tw_conf_diag *d)
{
	for (size_t i = 0; i < tw_conf_diag_count(d); i++)
		fprintf(stderr, "%s\n", tw_conf_diag_msg(d, i));
}

/* --config-reference: the key table as the Markdown in docs/. */
static int
print_reference(const struct tw_daemon_ops *ops)
{
	struct tw_buf b;
	char title[128];
	int r;

	snprintf(title, sizeof(title), "%s configuration keys", ops->prog);
	tw_buf_init(&b, 1 << 20);
	if ((r = tw_conf_write_reference(&b, ops->keys, title)) == 0)
		fwrite(b.data, 1, b.len, stdout);
	tw_buf_cleanup(&b);
	return r == 0 ? TW_EXIT_OK : 1;
}

/* Load into a fresh config; NULL (errors in d) when it does not load. */
static void *
load_conf(const struct tw_daemon_ops *ops, const char *path, unsigned opts,
    struct tw_conf_diag *d)
{
	void *conf;

	if ((conf = calloc(1, ops->conf_size)) == NULL)
		return NULL;
	if (ops->load(path, opts, conf, d) != 0 ||
	    tw_conf_diag_count(d) > 0) {
		ops->free_conf(conf);
		free(conf);
		return NULL;
	}
	return conf;
}

static void
free_conf(const struct tw_daemon_ops *ops, void *conf)
{
	if (conf != NULL) {
		ops->free_conf(conf);
		free(conf);
	}
}

/* SIGHUP: validate the file again and hand it over only when it is good. */
static void
reload(const struct tw_daemon_ops *ops, const struct tw_cli_daemon *cli,
    unsigned opts, void **conf, void *state, struct tw_counter *ok,
    struct tw_counter *failed)
{
	struct tw_conf_diag d;
	void *next;

	tw_conf_diag_init(&d);
	next = load_conf(ops, cli->config_path, opts, &d);
	if (next != NULL &&
	    tw_conf_reload_check(ops->keys, *conf, next, &d) != 0) {
		free_conf(ops, next);
		next = NULL;
	}
	if (next != NULL && ops->reload != NULL &&
	    ops->reload(state, next) != 0) {
		free_conf(ops, next);
		next = NULL;
	}
	if (next == NULL) {
		for (size_t i = 0; i < tw_conf_diag_count(&d); i++)
			tw_error("config", "reload refused",
			    "error", tw_conf_diag_msg(&d, i));
		tw_error("config", "reload failed; the running "
		    "configuration stays", "path", cli->config_path);
		tw_counter_inc(failed);
	} else {
		free_conf(ops, *conf);
		*conf = next;
		tw_info("config", "reloaded", "path", cli->config_path);
		tw_counter_inc(ok);
	}
	tw_conf_diag_cleanup(&d);
}

static struct tw_counter *
reload_counter(struct tw_metrics *m, const char *prefix, const char *result)
{
	char name[128], labels[64];

	snprintf(name, sizeof(name), "%s_config_reloads_total", prefix);
	snprintf(labels, sizeof(labels), "result=\"%s\"", result);
	return tw_metrics_counter(m, name, "Configuration reloads by result.",
	    labels);
}

int
tw_daemon_main(int argc, char **argv, const struct tw_daemon_ops *ops)
{
	struct tw_cli_daemon cli;
	struct tw_conf_diag d;
	struct tw_metrics *metrics = NULL;
	struct tw_httpd *httpd = NULL;
	struct tw_counter *reload_ok, *reload_failed;
	char name[128], labels[128], *why = NULL;
	void *conf = NULL, *state = NULL;
	unsigned opts = 0;
	sigset_t sigs;
	int r, sig, rc = 1;

	if ((r = tw_cli_daemon_parse(argc, argv, ops->prog, ops->summary,
	    &cli)) != 0)
		return r > 0 ? TW_EXIT_OK : TW_EXIT_USAGE;
	if (tw_cli_apply_logging(ops->prog, cli.log_level,
	    cli.log_format) != 0)
		return TW_EXIT_USAGE;
	if (cli.allow_env)
		opts |= TW_CONF_OPT_ENV;
	if (cli.config_reference)
		return print_reference(ops);

	tw_conf_diag_init(&d);
	conf = load_conf(ops, cli.config_path, opts, &d);
	if (conf == NULL) {
		print_diag(&d);
		if (tw_conf_diag_count(&d) == 0)
			fprintf(stderr, "%s: out of memory\n", ops->prog);
		tw_conf_diag_cleanup(&d);
		return TW_EXIT_CONFIG;
	}
	tw_conf_diag_cleanup(&d);
	if (cli.check_config) {
		printf("configuration OK\n");
		free_conf(ops, conf);
		return TW_EXIT_OK;
	}

	/* Signals are taken by sigwait() here, never by another thread. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((metrics = tw_metrics_new()) == NULL)
		goto out;
	snprintf(name, sizeof(name), "%s_build_info", ops->metric_prefix);
	snprintf(labels, sizeof(labels), "version=\"%s\"", PACKAGE_VERSION);
	tw_ignore(tw_metrics_info(metrics, name, "Build information.",
	    labels)); /* a missing info metric is not worth failing for */
	reload_ok = reload_counter(metrics, ops->metric_prefix, "ok");
	reload_failed = reload_counter(metrics, ops->metric_prefix, "failed");
	if ((httpd = tw_httpd_new(ops->listen(conf), metrics, &why)) == NULL) {
		tw_error("http", "cannot listen", "address", ops->listen(conf),
		    "error", why != NULL ? why : "out of memory");
		goto out;
	}
	if (ops->start != NULL &&
	    (r = ops->start(conf, metrics, httpd, &state)) != 0) {
		tw_error("main", "cannot start", "error", tw_strerror(r));
		goto out;
	}
	if (tw_httpd_start(httpd) != 0)
		goto out;
	snprintf(name, sizeof(name), "%d", tw_httpd_port(httpd));
	tw_info("main", "started", "version", PACKAGE_VERSION, "listen",
	    ops->listen(conf), "port", name);

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			if (ops->reopen != NULL && state != NULL) {
				tw_info("main", "reopening output files");
				ops->reopen(state);
			} else
				tw_info("main", "SIGUSR1 ignored: nothing to "
				    "reopen");
			continue;
		}
		if (sig != SIGHUP)
			break;
		reload(ops, &cli, opts, &conf, state, reload_ok,
		    reload_failed);
	}
	tw_info("main", "stopping", "signal", sig == SIGINT ? "INT" : "TERM");
	tw_httpd_set_ready(httpd, false, "shutting down");
	if (ops->drain != NULL && state != NULL)
		ops->drain(state);
	tw_httpd_stop(httpd);
	rc = 0;
out:
	if (ops->stop != NULL && state != NULL)
		ops->stop(state);
	tw_httpd_free(httpd);
	tw_metrics_free(metrics);
	free_conf(ops, conf);
	free(why);
	return rc;
}

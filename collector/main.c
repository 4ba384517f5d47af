/* main.c: trawl-collector: ingests, stores, detects and alerts. */
#include "config.h"

#include "collector_conf.h"
#include "daemon.h"

static int
load(const char *path, unsigned opts, void *conf, struct tw_conf_diag *d)
{
	return collector_conf_load(path, opts, conf, d);
}

static void
free_conf(void *conf)
{
	collector_conf_free(conf);
}

static const char *
listen_addr(const void *conf)
{
	return ((const struct collector_conf *)conf)->collector.listen;
}

int
main(int argc, char **argv)
{
	static const struct tw_daemon_ops ops = {
		.prog = "trawl-collector",
		.summary = "Accepts batches from agents, stores them in a "
		    "tamper-evident store, runs detection rules and delivers "
		    "alerts.",
		.metric_prefix = "trawl_collector",
		.conf_size = sizeof(struct collector_conf),
		.keys = collector_conf_keys,
		.load = load,
		.free_conf = free_conf,
		.listen = listen_addr,
	};

	return tw_daemon_main(argc, argv, &ops);
}

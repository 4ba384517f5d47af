/* main.c: trawl-agent: tails, receives, normalises and ships logs. */
#include "config.h"

#include "agent_conf.h"
#include "daemon.h"

static int
load(const char *path, unsigned opts, void *conf, struct tw_conf_diag *d)
{
	return agent_conf_load(path, opts, conf, d);
}

static void
free_conf(void *conf)
{
	agent_conf_free(conf);
}

static const char *
listen_addr(const void *conf)
{
	return ((const struct agent_conf *)conf)->agent.http.listen;
}

int
main(int argc, char **argv)
{
	static const struct tw_daemon_ops ops = {
		.prog = "trawl-agent",
		.summary = "Tails container and node logs, receives pushed "
		    "function logs, and ships them to a collector.",
		.metric_prefix = "trawl_agent",
		.conf_size = sizeof(struct agent_conf),
		.keys = agent_conf_keys,
		.load = load,
		.free_conf = free_conf,
		.listen = listen_addr,
	};

	return tw_daemon_main(argc, argv, &ops);
}

/* main.c: trawl-collector: ingests, stores, detects and alerts. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "collector_conf.h"
#include "daemon.h"
#include "httpd.h"
#include "ingest.h"
#include "log.h"
#include "store.h"

/* Everything the running collector owns. */
struct collector {
	struct tw_store *store;
	struct ingest *ingest;
	pthread_t housekeeper;
	bool housekeeping;
	atomic_bool stopping;
};

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

static void
store_opts(const struct collector_conf *c, struct tw_store_opts *o)
{
	const struct collector_store *st = &c->collector.store;

	tw_store_opts_default(o);
	o->segment_max_bytes = st->segment_max_bytes;
	o->segment_max_age_ns = (int64_t)st->segment_max_age_ms * 1000000;
	o->retention_bytes = st->retention_bytes;
	o->retention_age_ns = (int64_t)st->retention_age_ms * 1000000;
	o->checkpoint_signing = (enum tw_store_sig)st->checkpoint_signing;
	o->checkpoint_key_file = st->checkpoint_key_file;
	o->block_max_bytes = (uint32_t)c->collector.limits.body_max;
}

/* mkdir -p path with mode 0750 for what it creates. */
static int
make_dirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return TW_EINVAL;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0750) == -1 && errno != EEXIST)
			return TW_EIO;
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/* Seal by age and apply retention by age, once a second. */
static void *
housekeep(void *arg)
{
	struct collector *col = arg;
	struct timespec ts = { 0, 100 * 1000000 };

	for (int i = 0; !atomic_load(&col->stopping); i++) {
		nanosleep(&ts, NULL);
		if (i % 10 == 9)
			tw_ignore(tw_store_tick(col->store)); /* logged there */
	}
	return NULL;
}

static void
stop(void *state)
{
	struct collector *col = state;

	if (col->housekeeping) {
		atomic_store(&col->stopping, true);
		pthread_join(col->housekeeper, NULL);
	}
	ingest_free(col->ingest);
	tw_store_close(col->store);
	free(col);
}

static int
start(const void *conf, struct tw_metrics *m, struct tw_httpd *h,
    void **state)
{
	const struct collector_conf *c = conf;
	struct tw_httpd_opts hopts;
	struct tw_store_opts sopts;
	struct collector *col;
	char path[4096], *why = NULL;

	if ((col = calloc(1, sizeof(*col))) == NULL)
		return TW_ENOMEM;
	*state = col;
	tw_httpd_opts_default(&hopts);
	hopts.drain_ms = (unsigned)c->collector.drain_timeout_ms;
	if (hopts.drain_ms == 0)
		hopts.drain_ms = 1;
	if (tw_httpd_set_opts(h, &hopts) != 0)
		return TW_EINVAL;
	if (make_dirs(c->collector.data_dir) != 0) {
		tw_error("main", "cannot create data_dir", "path",
		    c->collector.data_dir, "error", strerror(errno));
		return TW_EIO;
	}
	snprintf(path, sizeof(path), "%s/store", c->collector.data_dir);
	store_opts(c, &sopts);
	if ((col->store = tw_store_open(path, &sopts, &why)) == NULL) {
		tw_error("store", "cannot open the store", "path", path,
		    "error", why != NULL ? why : "out of memory");
		free(why);
		return TW_EIO;
	}
	if ((col->ingest = ingest_new(c, col->store, m, h, &why)) == NULL) {
		tw_error("ingest", "cannot start ingest", "error",
		    why != NULL ? why : "out of memory");
		free(why);
		return TW_ECONFIG;
	}
	if (pthread_create(&col->housekeeper, NULL, housekeep, col) != 0)
		return TW_ENOMEM;
	col->housekeeping = true;
	return 0;
}

static int
reload(void *state, const void *conf)
{
	struct collector *col = state;
	char *why = NULL;
	int r;

	if ((r = ingest_reload(col->ingest, conf, &why)) != 0) {
		tw_error("config", "cannot reload ingest", "error",
		    why != NULL ? why : "out of memory");
		free(why);
	}
	return r;
}

static void
drain(void *state)
{
	ingest_drain(((struct collector *)state)->ingest);
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
		.start = start,
		.reload = reload,
		.drain = drain,
		.stop = stop,
	};

	return tw_daemon_main(argc, argv, &ops);
}

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

#include "alert_log.h"
#include "batch_sink.h"
#include "collector_conf.h"
#include "cursor.h"
#include "daemon.h"
#include "detect_stage.h"
#include "httpd.h"
#include "ingest.h"
#include "kafka_input.h"
#include "log.h"
#include "sink.h"
#include "store.h"

/* Everything the running collector owns. */
struct collector {
	struct tw_store *store;
	struct batch_sink *batch_sink; /* ingest and inputs store through it */
	struct ingest *ingest;
	struct kafka_input **inputs;
	size_t ninputs;
	struct alert_log *alerts; /* detect appends, sinks follow */
	struct detect_stage *detect;
	struct sink **sinks;
	size_t nsinks;
	int64_t alerting_drain_ns; /* collector.detect.drain_timeout */
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
		if (i % 10 == 9 && col->alerts != NULL)
			tw_ignore(tw_store_tick(alert_log_store(col->alerts)));
	}
	return NULL;
}

/*
 * After ingest: let detection catch up with the store, then the sinks
 * with the alert log, each within collector.detect.drain_timeout.
 */
static void
stop_alerting(struct collector *col)
{
	int64_t deadline;

	detect_stage_free(col->detect);
	col->detect = NULL;
	deadline = sink_mono_ns() + col->alerting_drain_ns;
	for (size_t i = 0; i < col->nsinks; i++)
		sink_stop_begin(col->sinks[i], deadline);
	for (size_t i = 0; i < col->nsinks; i++)
		sink_free(col->sinks[i]);
	free(col->sinks);
	col->sinks = NULL;
	col->nsinks = 0;
	alert_log_close(col->alerts);
	col->alerts = NULL;
}

static void
alert_log_opts(const struct collector_conf *c, struct tw_store_opts *o)
{
	const struct collector_alert_log *al = &c->collector.alert_log;
	const struct collector_store *st = &c->collector.store;

	tw_store_opts_default(o);
	o->segment_max_bytes = al->segment_max_bytes;
	o->segment_max_age_ns = (int64_t)al->segment_max_age_ms * 1000000;
	o->retention_bytes = al->retention_bytes;
	o->retention_age_ns = (int64_t)al->retention_age_ms * 1000000;
	o->checkpoint_signing = (enum tw_store_sig)st->checkpoint_signing;
	o->checkpoint_key_file = st->checkpoint_key_file;
}

/* The alert log, the detect stage and the sinks (DESIGN.md §5). */
static int
start_alerting(struct collector *col, const struct collector_conf *c,
    struct tw_metrics *m)
{
	const struct collector_sink *sk = c->sinks.items;
	struct tw_store_opts o;
	char path[4096], *why = NULL, *cdir = NULL;
	bool unbuilt;
	int r = 0;

	col->alerting_drain_ns =
	    (int64_t)c->collector.detect.drain_timeout_ms * 1000000;
	if (!c->collector.detect.enabled && c->sinks.n == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/alerts", c->collector.data_dir);
	alert_log_opts(c, &o);
	if ((col->alerts = alert_log_open(path, &o, &why)) == NULL) {
		tw_error("detect", "cannot open the alert log", "path", path,
		    "error", why != NULL ? why : "out of memory");
		free(why);
		return TW_EIO;
	}
	if (c->collector.detect.enabled &&
	    (col->detect = detect_stage_new(c, col->store, col->alerts, m,
	    &why)) == NULL) {
		/* One line per rule error: file:line:col: message. */
		for (char *l = why, *nl; l != NULL; l = nl) {
			if ((nl = strchr(l, '\n')) != NULL)
				*nl++ = '\0';
			tw_error("detect", "cannot start the detect stage",
			    "error", l);
		}
		if (why == NULL)
			tw_error("detect", "cannot start the detect stage",
			    "error", "out of memory");
		free(why);
		return TW_ECONFIG;
	}
	if (c->sinks.n == 0)
		return 0;
	if ((cdir = cursor_dir(c->collector.data_dir)) == NULL) {
		tw_error("sink", "cannot create the cursor directory", "path",
		    c->collector.data_dir, "error", strerror(errno));
		return TW_EIO;
	}
	if ((col->sinks = calloc(c->sinks.n, sizeof(*col->sinks))) == NULL) {
		free(cdir);
		return TW_ENOMEM;
	}
	for (size_t i = 0; i < c->sinks.n; i++) {
		struct sink *s = sink_start(&sk[i], col->alerts, cdir, m,
		    &unbuilt, &why);

		if (s != NULL) {
			col->sinks[col->nsinks++] = s;
			continue;
		}
		if (unbuilt) {
			tw_warn("sink", "this build has no sink of this type "
			    "yet; its alerts wait in the alert log", "type",
			    sk[i].type);
			continue;
		}
		tw_error("sink", "cannot start a sink", "type", sk[i].type,
		    "error", why != NULL ? why : "out of memory");
		free(why);
		r = TW_ECONFIG;
		break;
	}
	free(cdir);
	return r;
}

static void
stop(void *state)
{
	struct collector *col = state;

	if (col->housekeeping) {
		atomic_store(&col->stopping, true);
		pthread_join(col->housekeeper, NULL);
	}
	/* Consumers commit and leave their groups while the store is open. */
	for (size_t i = 0; i < col->ninputs; i++)
		kafka_input_free(col->inputs[i]);
	free(col->inputs);
	ingest_free(col->ingest);
	stop_alerting(col);
	batch_sink_free(col->batch_sink);
	tw_store_close(col->store);
	free(col);
}

/* HTTPS when collector.tls has a certificate; before the server starts. */
static int
start_tls(const struct collector_tls *t, struct tw_httpd *h)
{
	struct tw_httpd_tls tls;
	char *why = NULL;
	int r;

	if (t->cert_file == NULL)
		return 0;
	tls.cert_file = t->cert_file;
	tls.key_file = t->key_file;
	tls.client_ca_file = t->client_ca_file;
	if ((r = tw_httpd_set_tls(h, &tls, &why)) != 0) {
		tw_error("http", "cannot set up TLS", "error",
		    why != NULL ? why : tw_strerror(r));
		free(why);
		return r;
	}
	tw_info("http", "serving HTTPS", "client_certificates",
	    t->client_ca_file != NULL ? "required" : "not requested");
	return 0;
}

/* One consumer thread per inputs[] entry (all are type kafka). */
static int
start_inputs(struct collector *col, const struct collector_conf *c,
    struct tw_metrics *m, struct tw_httpd *h)
{
	const struct collector_input *in = c->inputs.items;
	char *why = NULL;

	if (c->inputs.n == 0)
		return 0;
	if ((col->inputs = calloc(c->inputs.n, sizeof(*col->inputs))) == NULL)
		return TW_ENOMEM;
	for (size_t i = 0; i < c->inputs.n; i++) {
		if ((col->inputs[i] = kafka_input_new(c, &in[i],
		    col->batch_sink, m, h, &why)) == NULL) {
			tw_error("kafka", "cannot start a kafka input", "topic",
			    in[i].topic, "error",
			    why != NULL ? why : "out of memory");
			free(why);
			return TW_ECONFIG;
		}
		col->ninputs++;
	}
	return 0;
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
	int r;

	if ((col = calloc(1, sizeof(*col))) == NULL)
		return TW_ENOMEM;
	*state = col;
	tw_httpd_opts_default(&hopts);
	hopts.drain_ms = (unsigned)c->collector.drain_timeout_ms;
	if (hopts.drain_ms == 0)
		hopts.drain_ms = 1;
	if (tw_httpd_set_opts(h, &hopts) != 0)
		return TW_EINVAL;
	if ((r = start_tls(&c->collector.tls, h)) != 0)
		return r;
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
	if ((col->batch_sink = batch_sink_new(col->store, m)) == NULL)
		return TW_ENOMEM;
	if ((col->ingest = ingest_new(c, col->batch_sink, m, h, &why)) ==
	    NULL) {
		tw_error("ingest", "cannot start ingest", "error",
		    why != NULL ? why : "out of memory");
		free(why);
		return TW_ECONFIG;
	}
	if ((r = start_inputs(col, c, m, h)) != 0)
		return r;
	if ((r = start_alerting(col, c, m)) != 0)
		return r;
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

	/* Rules first: a bad rule file refuses the whole reload. */
	if (col->detect != NULL &&
	    (r = detect_stage_reload_prepare(col->detect, conf)) != 0)
		return r;
	if ((r = ingest_reload(col->ingest, conf, &why)) != 0) {
		tw_error("config", "cannot reload ingest", "error",
		    why != NULL ? why : "out of memory");
		free(why);
	}
	for (size_t i = 0; r == 0 && i < col->ninputs; i++)
		kafka_input_reload(col->inputs[i], conf);
	if (col->detect != NULL) {
		if (r == 0)
			detect_stage_reload_commit(col->detect);
		else
			detect_stage_reload_abort(col->detect);
	}
	return r;
}

/* SIGUSR1: sinks reopen their files (log rotation). */
static void
reopen(void *state)
{
	struct collector *col = state;

	for (size_t i = 0; i < col->nsinks; i++)
		sink_reopen(col->sinks[i]);
}

static void
drain(void *state)
{
	struct collector *col = state;

	ingest_drain(col->ingest);
	for (size_t i = 0; i < col->ninputs; i++)
		kafka_input_drain(col->inputs[i]);
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
		.reopen = reopen,
	};

	return tw_daemon_main(argc, argv, &ops);
}

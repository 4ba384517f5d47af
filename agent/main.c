/* main.c: trawl-agent: tails, receives, normalises and ships logs. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_conf.h"
#include "checkpoint.h"
#include "daemon.h"
#include "fsio.h"
#include "log.h"
#include "metrics.h"
#include "seq.h"
#include "ship.h"
#include "spool.h"
#include "tail.h"

/* The running agent: its components, started in this order. */
struct agent {
	struct ckpt_store *ckpts;
	struct spool *spool;
	struct seq *seq;
	struct ship *ship;
	struct tail *tail;
	uint64_t drain_timeout_ms;
};

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

static void
agent_free(struct agent *a)
{
	if (a == NULL)
		return;
	/*
	 * The tail puts its last batches into the spool (and the shipper's
	 * queue); then the shipper's thread stops, so that it no longer
	 * wakes the tail; then the tail goes.
	 */
	if (a->tail != NULL)
		tail_drain(a->tail);
	ship_free(a->ship);
	tail_free(a->tail);
	seq_free(a->seq);
	spool_free(a->spool);
	ckpt_store_free(a->ckpts);
	free(a);
}

static void
wake_tail(void *arg)
{
	tail_wake(arg);
}

/*
 * The resume points after a crash: the checkpoint, moved forward by what
 * the spool's batches cover (a batch spooled just before the crash whose
 * checkpoint write did not happen is not read again), written back before
 * anything is sent, so that a batch is deleted only once a durable
 * checkpoint covers it. *floor is the largest seq in the spool.
 */
static int
recover(struct agent *a, struct tw_metrics *m, struct ckpt *ck,
    struct spool_entry **ents, size_t *nents, uint64_t *floor)
{
	struct tw_counter *corrupt_total;
	unsigned corrupt = 0;
	int64_t now_s = (int64_t)time(NULL);
	char buf[2][32];
	int r;

	corrupt_total = tw_metrics_counter(m,
	    "trawl_agent_checkpoint_corrupt_total",
	    "Checkpoint generations found corrupt at start-up (the agent "
	    "fell back to the other one, or to read_from).", NULL);
	if ((r = ckpt_store_load(a->ckpts, ck, &corrupt)) != 0)
		return r;
	tw_counter_add(corrupt_total, corrupt);
	if ((r = spool_scan(a->spool, ents, nents)) != 0)
		return r;
	*floor = 0;
	for (size_t i = 0; i < *nents; i++) {
		const struct spool_hdr *h = &(*ents)[i].hdr;

		if (h->seq > *floor)
			*floor = h->seq;
		for (size_t j = 0; j < h->ncov; j++)
			if ((r = ckpt_merge(ck, &h->cov[j].id, h->cov[j].end,
			    h->cov[j].end_skip, now_s)) != 0)
				return r;
	}
	if ((r = ckpt_store_save(a->ckpts, ck)) != 0)
		return r;
	snprintf(buf[0], sizeof(buf[0]), "%zu", *nents);
	snprintf(buf[1], sizeof(buf[1]), "%zu", ck->n);
	tw_info("main", "recovered", "spooled_batches", buf[0], "files",
	    buf[1]);
	return 0;
}

static int
start(const void *confp, struct tw_metrics *m, struct tw_httpd *h,
    void **state)
{
	const struct agent_conf *conf = confp;
	const struct agent_input *in = conf->inputs.items;
	struct spool_entry *ents = NULL;
	struct tail_deps deps;
	struct agent *a = NULL;
	struct ckpt ck;
	size_t nents = 0;
	uint64_t floor = 0;
	char *why = NULL;
	int r = TW_EINVAL;

	ckpt_init(&ck);
	if (strcmp(conf->output.type, "http") != 0) {
		tw_error("main", "output type kafka is not implemented yet");
		goto out;
	}
	for (size_t i = 0; i < conf->inputs.n; i++)
		if (strcmp(in[i].type, "http") == 0)
			tw_warn("main", "push receiver inputs are not "
			    "implemented yet; this one is ignored", "listen",
			    in[i].listen);
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	a->drain_timeout_ms = conf->agent.drain_timeout_ms;
	if (fsio_mkdirs(conf->agent.data_dir, 0700) != 0) {
		tw_error("main", "cannot create the data directory", "dir",
		    conf->agent.data_dir, "error", strerror(errno));
		r = TW_EIO;
		goto out;
	}
	if ((a->ckpts = ckpt_store_open(conf->agent.data_dir, &why)) == NULL ||
	    (a->spool = spool_open(conf->agent.data_dir,
	    conf->agent.spool.max_bytes, m, &why)) == NULL) {
		r = TW_EIO;
		goto fail_why;
	}
	if ((r = recover(a, m, &ck, &ents, &nents, &floor)) != 0) {
		tw_error("main", "cannot recover the agent's state", "dir",
		    conf->agent.data_dir, "error", r == TW_EIO ?
		    strerror(errno) : tw_strerror(r));
		goto out;
	}
	if ((a->seq = seq_open(conf->agent.data_dir, floor, &why)) == NULL ||
	    (a->ship = ship_new(conf, a->spool, a->seq, m, &why)) == NULL) {
		r = TW_EIO;
		goto fail_why;
	}
	/* What the spool holds goes first, in seq order. */
	for (size_t i = 0; i < nents; i++)
		ship_enqueue(a->ship, ents[i].hdr.seq, ents[i].size,
		    ents[i].hdr.records, ents[i].hdr.agent);
	memset(&deps, 0, sizeof(deps));
	deps.spool = a->spool;
	deps.ckpts = a->ckpts;
	deps.seq = a->seq;
	deps.ship = a->ship;
	deps.metrics = m;
	deps.httpd = h;
	if ((a->tail = tail_new(conf, &deps, &ck, &why)) == NULL) {
		r = TW_ENOMEM;
		goto fail_why;
	}
	ship_set_space_cb(a->ship, wake_tail, a->tail);
	if ((r = ship_start(a->ship)) != 0 || (r = tail_start(a->tail)) != 0)
		goto out;
	*state = a;
	a = NULL;
	r = 0;
	goto out;
fail_why:
	tw_error("main", "cannot start", "error", why != NULL ? why :
	    "out of memory");
out:
	agent_free(a);
	spool_entries_free(ents, nents);
	ckpt_cleanup(&ck);
	free(why);
	return r;
}

/*
 * SIGHUP: the token file, TLS files, timeouts and backoff of the output,
 * and the tail inputs (paths, exclude, self_exclude, format, read_from,
 * idle_flush, max_line: the last four for files opened from now on).
 * Everything else needs a restart (the daemon refuses such a reload).
 */
static int
reload(void *state, const void *confp)
{
	struct agent *a = state;
	const struct agent_conf *conf = confp;
	char *why = NULL;
	int r;

	if ((r = ship_reload(a->ship, conf, &why)) != 0) {
		tw_error("config", "reload refused", "error", why != NULL ?
		    why : tw_strerror(r));
		free(why);
		return r;
	}
	if ((r = tail_reload(a->tail, conf)) != 0)
		tw_error("config", "inputs not reloaded", "error",
		    tw_strerror(r));
	return r;
}

/* SIGTERM: spool what was read, checkpoint, send until the deadline. */
static void
drain(void *state)
{
	struct agent *a = state;

	tail_drain(a->tail);
	ship_drain(a->ship, a->drain_timeout_ms);
}

static void
stop(void *state)
{
	agent_free(state);
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
		.start = start,
		.reload = reload,
		.drain = drain,
		.stop = stop,
	};

	return tw_daemon_main(argc, argv, &ops);
}

/* tail.h: the tail thread: finds, follows and parses files, and turns their
 * records into spooled batches and checkpoints. */
#ifndef TRAWL_AGENT_TAIL_H
#define TRAWL_AGENT_TAIL_H

#include "agent_conf.h"
#include "checkpoint.h"
#include "err.h"

struct spool;
struct seq;
struct ship;
struct ckpt_store;
struct tw_metrics;
struct tw_httpd;

/*
 * One thread owns every piece of tail state: the open files and their
 * parsers, the positions (resume points per file identity), the batch
 * being built, the batches waiting to be spooled, and the checkpoint
 * writes. docs/agent.md describes the design. Other threads talk to it
 * only through the functions below.
 */
struct tail;

struct tail_deps {
	struct spool *spool;
	struct ckpt_store *ckpts;
	struct seq *seq;
	struct ship *ship;
	struct tw_metrics *metrics;
	struct tw_httpd *httpd; /* /readyz says "spool full"; may be NULL */
};

/*
 * A tail for conf's `type: tail` inputs (copied), starting from the
 * recovered resume points in start (taken: start is left empty). NULL
 * with *why (caller frees) on error.
 */
struct tail *tail_new(const struct agent_conf *conf,
    const struct tail_deps *deps, struct ckpt *start, char **why);

/* Start the thread. TW_EIO, TW_ENOMEM. */
int tail_start(struct tail *t) TW_WARN_UNUSED;

/*
 * Hand over new inputs (paths, exclude, self_exclude, format, read_from,
 * idle_flush, max_line); they apply from the next scan, and to files
 * opened from then on. TW_ENOMEM. Thread-safe.
 */
int tail_reload(struct tail *t, const struct agent_conf *conf)
    TW_WARN_UNUSED;

/* Spool space was freed: look again whether reading may go on. */
void tail_wake(struct tail *t);

/*
 * Stop reading, put the records read so far into the spool, write the
 * checkpoint, and end the thread. Returns once that is done.
 */
void tail_drain(struct tail *t);

/* End the thread if it runs (as tail_drain) and free; NULL is a no-op. */
void tail_free(struct tail *t);

#endif

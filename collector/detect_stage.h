/* detect_stage.h: the detect stage: follows the store, evaluates the rules
 * on every record, appends the alerts to the alert log (DESIGN.md §5,
 * docs/alerting.md). */
#ifndef TRAWL_COLLECTOR_DETECT_STAGE_H
#define TRAWL_COLLECTOR_DETECT_STAGE_H

#include "collector_conf.h"

struct alert_log;
struct tw_metrics;
struct tw_store;
struct detect_stage;

/* The rule id of the alert a failed rule reload raises. */
#define DETECT_RELOAD_FAILED_RULE "trawl-rules-reload-failed"

/*
 * Load and compile the rules of conf (`rules:`), recover the durable
 * cursor (<data_dir>/cursors/detect and the alert log's last cursor
 * record, whichever is further), and start the thread that follows the
 * record store (store, borrowed, for the lag gauge; the blocks are read
 * from <data_dir>/store) and appends to log (borrowed). Both must
 * outlive the stage. NULL with *why (malloc'd; for rule errors every
 * "file:line:col: message", one a line) on failure.
 */
struct detect_stage *detect_stage_new(const struct collector_conf *conf,
    struct tw_store *store, struct alert_log *log, struct tw_metrics *m,
    char **why);

/*
 * SIGHUP, first half: load and compile the rules of conf off the detect
 * thread. On failure the running rule set stays, a
 * DETECT_RELOAD_FAILED_RULE alert is queued for the alert log, the
 * errors are logged, and TW_ECONFIG is returned. Main thread only.
 */
int detect_stage_reload_prepare(struct detect_stage *ds,
    const struct collector_conf *conf) TW_WARN_UNUSED;

/*
 * Second half: hand the prepared rule set to the detect thread, which
 * swaps it in between two blocks, carrying the threshold and throttle
 * state of every rule whose id and definition are unchanged. Or drop it
 * (the rest of the reload failed).
 */
void detect_stage_reload_commit(struct detect_stage *ds);
void detect_stage_reload_abort(struct detect_stage *ds);

/*
 * Stop (SIGTERM, after ingest stopped): evaluate what the store holds
 * until caught up or collector.detect.drain_timeout passes, commit the
 * alerts, save the cursor, join the thread.
 */
void detect_stage_stop(struct detect_stage *ds);

/* Free (stopping first if needed); NULL is a no-op. */
void detect_stage_free(struct detect_stage *ds);

#endif

/* ship.h: the shipper: sends spooled batches to the collector over HTTP(S)
 * and deals with every answer. */
#ifndef TRAWL_AGENT_SHIP_H
#define TRAWL_AGENT_SHIP_H

#include <stdint.h>

#include "agent_conf.h"
#include "err.h"

struct spool;
struct seq;
struct tw_metrics;

/*
 * One thread with a libcurl multi handle: keep-alive connections, up to
 * output.max_in_flight batches in flight, in seq order. Each answer is
 * matched to its batch:
 *   200 (also {"duplicate":true})  ack: the spool file is deleted
 *   400                            moved to data_dir/deadletter, counted
 *   401, 403                       sending stops, an alarm is logged, one
 *                                  batch is tried every output.auth_retry
 *   413                            split in two (new seqs) and resent; a
 *                                  single record is dead-lettered
 *   429, 503                       pause for Retry-After (default 5 s)
 *   anything else, network errors  exponential backoff with full jitter
 *                                  between backoff_min and backoff_max
 * A batch is only ever handed over once the checkpoint covering it is on
 * disk, so deleting it after its ack is always safe.
 */
struct ship;

/* Called on the shipper's thread whenever spool files went away. */
typedef void (*ship_space_fn)(void *arg);

/*
 * A shipper for conf->output (type http; borrowed, copied), sending the
 * spool sp's files and taking new seqs for splits from seq. Reads the
 * token file now. NULL with *why (caller frees) on error.
 */
struct ship *ship_new(const struct agent_conf *conf, struct spool *sp,
    struct seq *seq, struct tw_metrics *m, char **why);

/* Who to tell about freed spool space; before ship_start(). */
void ship_set_space_cb(struct ship *s, ship_space_fn fn, void *arg);

/* Start the thread. TW_ENOMEM, TW_EIO. */
int ship_start(struct ship *s) TW_WARN_UNUSED;

/*
 * Queue the spool file of seq (size bytes, records records, sent as
 * agent; copied). Thread-safe; the file now belongs to the shipper.
 */
void ship_enqueue(struct ship *s, uint64_t seq, uint64_t size,
    uint32_t records, const char *agent);

/*
 * Take the reloadable output keys (token file, TLS files, timeout,
 * backoff). The token file is read now; on error nothing changes and
 * *why says why. Thread-safe.
 */
int ship_reload(struct ship *s, const struct agent_conf *conf, char **why)
    TW_WARN_UNUSED;

/*
 * Go on sending until the queue is empty or timeout_ms have passed, then
 * stop the thread (requests still in flight are abandoned; their files
 * stay in the spool for the next start).
 */
void ship_drain(struct ship *s, uint64_t timeout_ms);

/* Stop the thread if it runs and free everything; NULL is a no-op. */
void ship_free(struct ship *s);

#endif

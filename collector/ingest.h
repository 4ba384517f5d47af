/* ingest.h: POST /v1/batches and /v1/records: authenticated, bounded,
 * acknowledged only once stored. */
#ifndef TRAWL_COLLECTOR_INGEST_H
#define TRAWL_COLLECTOR_INGEST_H

#include "collector_conf.h"

struct batch_sink;
struct tw_httpd;
struct tw_metrics;
struct ingest;

/*
 * Build ingest over a batch sink (borrowed: it must outlive ingest) and
 * register its routes on h (before h starts). conf is read during the
 * call only: the tokens file and the limits are copied in. NULL with *why
 * (malloc'd) on error.
 */
struct ingest *ingest_new(const struct collector_conf *conf,
    struct batch_sink *sink, struct tw_metrics *m, struct tw_httpd *h,
    char **why);

/*
 * SIGHUP: take the new tokens file and limits. On error (*why set) the
 * running ones stay. Thread-safe against requests in flight.
 */
int ingest_reload(struct ingest *in, const struct collector_conf *conf,
    char **why);

/* Answer 503 with Retry-After from now on (shutting down). */
void ingest_drain(struct ingest *in);

/* Free; the server must have stopped. NULL is a no-op. */
void ingest_free(struct ingest *in);

#endif

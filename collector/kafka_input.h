/* kafka_input.h: inputs[] of type kafka: consume the agents' batch topic as
 * a consumer group member, store each message as a block, and commit its
 * offset only once that block is durable. */
#ifndef TRAWL_COLLECTOR_KAFKA_INPUT_H
#define TRAWL_COLLECTOR_KAFKA_INPUT_H

#include <stddef.h>

#include "collector_conf.h"

struct batch_sink;
struct tw_httpd;
struct tw_metrics;
struct kafka_input;

/*
 * Check inputs[i] (a kafka input) beyond what the key table checks: the
 * topic name, and each property ("name=value", known to librdkafka, with a
 * value it takes, not one the input sets itself). Every problem goes to d.
 * 0 or TW_ECONFIG. Reads no file.
 */
int kafka_input_check(const struct collector_input *in, size_t i,
    struct tw_conf_diag *d);

/*
 * Create the consumer of in (conf gives data_dir and the limits; both are
 * read during the call only), subscribe, and start the thread that owns
 * it. sink and h are borrowed and must outlive the input; h's /readyz
 * answers not ready while a store failure holds messages back. NULL with
 * *why (malloc'd) when the consumer cannot be created (unreadable
 * sasl_password_file, refused property, no memory).
 */
struct kafka_input *kafka_input_new(const struct collector_conf *conf,
    const struct collector_input *in, struct batch_sink *sink,
    struct tw_metrics *m, struct tw_httpd *h, char **why);

/* SIGHUP: take the new collector.limits. Thread-safe. */
void kafka_input_reload(struct kafka_input *ki,
    const struct collector_conf *conf);

/*
 * SIGTERM: stop taking messages; the thread commits what is durable and
 * leaves the group. Returns at once; kafka_input_free() waits.
 */
void kafka_input_drain(struct kafka_input *ki);

/*
 * Stop (as kafka_input_drain() if it was not called), wait for the thread
 * to commit and close the consumer, and free. Call before the store
 * closes. NULL is a no-op.
 */
void kafka_input_free(struct kafka_input *ki);

#endif

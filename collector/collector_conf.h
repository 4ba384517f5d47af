/* collector_conf.h: trawl-collector's configuration: key table and struct. */
#ifndef TRAWL_COLLECTOR_CONF_H
#define TRAWL_COLLECTOR_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

/* collector.limits: DESIGN.md §8, enforced on every batch. */
struct collector_limits {
	uint64_t body_max;	 /* compressed request body */
	uint64_t batch_max;	 /* decompressed batch */
	int64_t ratio_max;	 /* decompressed : compressed */
	int64_t records_max;	 /* records in one batch */
	uint64_t record_max;	 /* one record */
	int64_t depth_max;	 /* msgpack nesting */
	int64_t map_max;	 /* pairs in one map, elements in one array */
};

/* collector.store: the segment store (lib/store.h). */
struct collector_store {
	uint64_t segment_max_bytes;
	uint64_t segment_max_age_ms;
	uint64_t retention_bytes;
	uint64_t retention_age_ms;
	int checkpoint_signing; /* enum tw_store_sig */
	char *checkpoint_key_file;
};

/* collector.tls: HTTPS, and client certificates (lib/httpd.h). */
struct collector_tls {
	char *cert_file;
	char *key_file;
	char *client_ca_file;
};

/* collector.detect: the detect stage (collector/detect_stage.h). */
struct collector_detect {
	bool enabled;
	uint64_t poll_ms;
	uint64_t linger_ms;
	int64_t alerts_max;
	uint64_t replay_ms;
	uint64_t replay_max_bytes;
	uint64_t drain_timeout_ms;
	bool sigma_skip;
};

/* collector.alert_log: the alert log's segment store (alert_log.h). */
struct collector_alert_log {
	uint64_t segment_max_bytes;
	uint64_t segment_max_age_ms;
	uint64_t retention_bytes;
	uint64_t retention_age_ms;
};

struct collector_self {
	char *data_dir;
	char *listen;
	char *tokens_file;
	uint64_t drain_timeout_ms;
	struct collector_limits limits;
	struct collector_store store;
	struct collector_tls tls;
	struct collector_detect detect;
	struct collector_alert_log alert_log;
};

/* sinks[]: where alerts go, picked by `type`. */
struct collector_sink {
	char *type; /* "file", "webhook" or "kafka" */
	/* file */
	char *path;
	/* webhook */
	char *url;
	char *secret_file;
	/* kafka */
	char *brokers;
	char *topic;
	/* every type (collector/sink.h) */
	char *name;	    /* cursor name; default from type and target */
	int64_t queue_max;  /* alerts in flight */
};

/* inputs[].start: where a new consumer group begins. */
enum kafka_start {
	KAFKA_START_EARLIEST,
	KAFKA_START_LATEST,
};

/* inputs[]: where batches come from besides HTTP ingest, picked by `type`. */
struct collector_input {
	char *type; /* "kafka" */
	/* kafka (collector/kafka_input.h) */
	char *brokers;
	char *topic;
	char *group_id;
	int start; /* enum kafka_start */
	struct tw_conf_strv properties; /* librdkafka "name=value" */
	char *sasl_password_file;
	uint64_t deadletter_max; /* bytes in <data_dir>/deadletter */
};

struct collector_conf {
	struct collector_self collector;
	struct tw_conf_list inputs; /* struct collector_input */
	struct tw_conf_strv rules;
	struct tw_conf_list sinks; /* struct collector_sink */
};

/* The root key table of collector.yaml. */
extern const struct tw_conf_key collector_conf_keys[];

/*
 * Load path into c (zeroed by the caller); every error goes to d.
 * 0, TW_ECONFIG, TW_EIO or TW_ENOMEM.
 */
int collector_conf_load(const char *path, unsigned opts,
    struct collector_conf *c, struct tw_conf_diag *d);
void collector_conf_free(struct collector_conf *c);

#endif

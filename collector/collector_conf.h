/* collector_conf.h: trawl-collector's configuration: key table and struct. */
#ifndef TRAWL_COLLECTOR_CONF_H
#define TRAWL_COLLECTOR_CONF_H

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

struct collector_self {
	char *data_dir;
	char *listen;
	char *tokens_file;
	uint64_t drain_timeout_ms;
	struct collector_limits limits;
	struct collector_store store;
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
};

struct collector_conf {
	struct collector_self collector;
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

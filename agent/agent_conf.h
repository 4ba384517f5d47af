/* agent_conf.h: trawl-agent's configuration: its key table and struct. */
#ifndef TRAWL_AGENT_CONF_H
#define TRAWL_AGENT_CONF_H

#include <stdint.h>

#include "conf.h"

/* inputs[]: a tail input or a push receiver, picked by `type`. */
struct agent_input {
	char *type; /* "tail" or "http" */
	char *format;
	/* tail */
	struct tw_conf_strv paths;
	struct tw_conf_strv exclude;
	int read_from; /* AGENT_READ_FROM_* */
	uint64_t idle_flush_ms;
	uint64_t max_line;
	/* http */
	char *listen;
};

enum { AGENT_READ_FROM_HEAD, AGENT_READ_FROM_TAIL };

struct agent_output {
	char *type; /* "http" or "kafka" */
	/* http */
	char *url;
	char *token_file;
	char *ca_file;
	char *cert_file;
	char *key_file;
	uint64_t timeout_ms;
	int64_t max_in_flight;
	uint64_t backoff_min_ms;
	uint64_t backoff_max_ms;
	uint64_t auth_retry_ms;
	/* kafka */
	char *brokers;
	char *topic;
};

struct agent_http {
	char *listen;
};

struct agent_spool {
	uint64_t max_bytes;
};

struct agent_batch {
	uint64_t max_bytes;
	int64_t max_records;
	uint64_t linger_ms;
	int64_t zstd_level;
};

struct agent_self {
	char *id;
	char *data_dir;
	struct agent_http http;
	struct agent_spool spool;
	struct agent_batch batch;
	uint64_t drain_timeout_ms;
	struct tw_conf_strv self_exclude;
};

struct agent_conf {
	struct agent_self agent;
	struct tw_conf_list inputs; /* struct agent_input */
	struct agent_output output;
};

/* The root key table of agent.yaml. */
extern const struct tw_conf_key agent_conf_keys[];

/*
 * Load path into c (zeroed by the caller) and run the checks that span
 * keys; every error goes to d. 0, TW_ECONFIG, TW_EIO or TW_ENOMEM.
 */
int agent_conf_load(const char *path, unsigned opts, struct agent_conf *c,
    struct tw_conf_diag *d);
void agent_conf_free(struct agent_conf *c);

#endif

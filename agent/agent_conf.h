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
	uint64_t timeout_ms;
	/* kafka */
	char *brokers;
	char *topic;
};

struct agent_http {
	char *listen;
};

struct agent_self {
	char *id;
	char *data_dir;
	struct agent_http http;
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

/* collector_conf.h: trawl-collector's configuration: key table and struct. */
#ifndef TRAWL_COLLECTOR_CONF_H
#define TRAWL_COLLECTOR_CONF_H

#include <stdint.h>

#include "conf.h"

struct collector_self {
	char *data_dir;
	char *listen;
	char *tokens_file;
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

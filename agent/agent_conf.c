/* agent_conf.c: trawl-agent's configuration: its key table and checks. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_conf.h"
#include "parser.h"

static const char *const read_from_values[] = { "head", "tail", NULL };

static const struct tw_conf_key http_keys[] = {
	{ .name = "listen", .type = TW_CONF_ADDR,
	  .offset = offsetof(struct agent_http, listen),
	  .def = "127.0.0.1:2021",
	  .desc = "Address of the /metrics, /healthz and /readyz endpoints." },
	{ NULL },
};

static const struct tw_conf_key agent_keys[] = {
	{ .name = "id", .type = TW_CONF_STR,
	  .offset = offsetof(struct agent_self, id),
	  .desc = "Agent id sent with every batch; default: the host name." },
	{ .name = "data_dir", .type = TW_CONF_PATH,
	  .offset = offsetof(struct agent_self, data_dir),
	  .def = "/var/lib/trawl-agent",
	  .desc = "Directory of checkpoints and the spool." },
	{ .name = "http", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct agent_self, http),
	  .sub = http_keys,
	  .desc = "The agent's own HTTP endpoints." },
	{ NULL },
};

static const struct tw_conf_key tail_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	  .offset = offsetof(struct agent_input, type),
	  .flags = TW_CONF_REQUIRED, .desc = "Input type: tail." },
	{ .name = "paths", .type = TW_CONF_STRLIST,
	  .offset = offsetof(struct agent_input, paths),
	  .flags = TW_CONF_REQUIRED | TW_CONF_RELOADABLE,
	  .desc = "Glob patterns of the files to tail." },
	{ .name = "exclude", .type = TW_CONF_STRLIST,
	  .offset = offsetof(struct agent_input, exclude),
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "Glob patterns of files never to tail." },
	{ .name = "format", .type = TW_CONF_STR,
	  .offset = offsetof(struct agent_input, format), .def = "auto",
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "Any `trawl parse` format, or auto." },
	{ .name = "read_from", .type = TW_CONF_ENUM,
	  .offset = offsetof(struct agent_input, read_from), .def = "head",
	  .enum_values = read_from_values, .flags = TW_CONF_RELOADABLE,
	  .desc = "Where to start in files first seen at start-up." },
	{ NULL },
};

static const struct tw_conf_key push_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	  .offset = offsetof(struct agent_input, type),
	  .flags = TW_CONF_REQUIRED, .desc = "Input type: http." },
	{ .name = "listen", .type = TW_CONF_ADDR,
	  .offset = offsetof(struct agent_input, listen),
	  .flags = TW_CONF_REQUIRED,
	  .desc = "Address the push receiver listens on." },
	{ .name = "format", .type = TW_CONF_STR,
	  .offset = offsetof(struct agent_input, format),
	  .flags = TW_CONF_REQUIRED | TW_CONF_RELOADABLE,
	  .desc = "Format of the pushed bodies (lambda_telemetry, "
	      "firehose_cwl, pubsub_push, json, ...)." },
	{ NULL },
};

static const struct tw_conf_variant input_variants[] = {
	{ "tail", tail_keys },
	{ "http", push_keys },
	{ NULL },
};

static const struct tw_conf_key out_http_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	  .offset = offsetof(struct agent_output, type),
	  .flags = TW_CONF_REQUIRED, .desc = "Output type: http." },
	{ .name = "url", .type = TW_CONF_STR,
	  .offset = offsetof(struct agent_output, url),
	  .flags = TW_CONF_REQUIRED,
	  .desc = "Base URL of the collector (http:// or https://)." },
	{ .name = "token_file", .type = TW_CONF_PATH,
	  .offset = offsetof(struct agent_output, token_file),
	  .flags = TW_CONF_SECRET | TW_CONF_RELOADABLE,
	  .desc = "File holding the bearer token." },
	{ .name = "ca_file", .type = TW_CONF_PATH,
	  .offset = offsetof(struct agent_output, ca_file),
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "CA bundle that verifies the collector's certificate." },
	{ .name = "timeout", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct agent_output, timeout_ms), .def = "30s",
	  .min = 100, .max = 3600000, .flags = TW_CONF_RELOADABLE,
	  .desc = "Deadline of one request." },
	{ NULL },
};

static const struct tw_conf_key out_kafka_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	  .offset = offsetof(struct agent_output, type),
	  .flags = TW_CONF_REQUIRED, .desc = "Output type: kafka." },
	{ .name = "brokers", .type = TW_CONF_STR,
	  .offset = offsetof(struct agent_output, brokers),
	  .flags = TW_CONF_REQUIRED,
	  .desc = "Bootstrap brokers, host:port[,host:port...]." },
	{ .name = "topic", .type = TW_CONF_STR,
	  .offset = offsetof(struct agent_output, topic),
	  .flags = TW_CONF_REQUIRED, .desc = "Topic of the batches." },
	{ NULL },
};

static const struct tw_conf_variant output_variants[] = {
	{ "http", out_http_keys },
	{ "kafka", out_kafka_keys },
	{ NULL },
};

const struct tw_conf_key agent_conf_keys[] = {
	{ .name = "agent", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct agent_conf, agent),
	  .sub = agent_keys, .desc = "The agent itself." },
	{ .name = "inputs", .type = TW_CONF_LIST,
	  .offset = offsetof(struct agent_conf, inputs),
	  .item_size = sizeof(struct agent_input), .variants = input_variants,
	  .flags = TW_CONF_REQUIRED,
	  .desc = "What to read: files to tail and push receivers." },
	{ .name = "output", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct agent_conf, output),
	  .variants = output_variants, .flags = TW_CONF_REQUIRED,
	  .desc = "Where batches go: a collector (http) or Kafka." },
	{ NULL },
};

/* Checks that one key's type cannot express. */
static void
check_inputs(struct agent_conf *c, struct tw_conf_diag *d)
{
	const struct agent_input *in = c->inputs.items;
	char path[64];

	for (size_t i = 0; i < c->inputs.n; i++) {
		const char *f = in[i].format;
		bool known = f == NULL || strcmp(f, "auto") == 0;
		for (const char *const *n = tw_parser_names(); !known &&
		    *n != NULL; n++)
			known = strcmp(*n, f) == 0;
		if (!known) {
			snprintf(path, sizeof(path), "inputs[%zu].format", i);
			tw_conf_diag_at(d, path, "unknown format '%s' for "
			    "'%s'", f, path);
		}
	}
}

int
agent_conf_load(const char *path, unsigned opts, struct agent_conf *c,
    struct tw_conf_diag *d)
{
	size_t before = tw_conf_diag_count(d);
	char host[256];
	int r;

	if ((r = tw_conf_load_file(path, agent_conf_keys, c, opts, d)) != 0)
		return r;
	check_inputs(c, d);
	if (c->agent.id == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		if ((c->agent.id = strdup(host)) == NULL)
			return TW_ENOMEM;
	}
	return tw_conf_diag_count(d) > before ? TW_ECONFIG : 0;
}

void
agent_conf_free(struct agent_conf *c)
{
	tw_conf_free(agent_conf_keys, c);
}

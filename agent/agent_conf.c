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

static const struct tw_conf_key spool_keys[] = {
	{ .name = "max_bytes", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct agent_spool, max_bytes), .def = "1GiB",
	  .min = 4 << 20, .max = TW_CONF_NOMAX,
	  .desc = "Bound of the on-disk spool; when it is reached the agent "
	      "stops reading files (nothing is dropped) and /readyz says "
	      "503 \"spool full\"." },
	{ NULL },
};

static const struct tw_conf_key batch_keys[] = {
	{ .name = "max_bytes", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct agent_batch, max_bytes), .def = "1MiB",
	  .min = 4096, .max = 8 << 20,
	  .desc = "Compressed size a batch is cut at (estimated from the "
	      "compression ratio so far)." },
	{ .name = "max_records", .type = TW_CONF_INT,
	  .offset = offsetof(struct agent_batch, max_records),
	  .def = "10000", .min = 1, .max = 50000,
	  .desc = "Records a batch is cut at." },
	{ .name = "linger", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct agent_batch, linger_ms), .def = "1s",
	  .min = 1, .max = 60000,
	  .desc = "Longest a record waits for its batch to fill." },
	{ .name = "zstd_level", .type = TW_CONF_INT,
	  .offset = offsetof(struct agent_batch, zstd_level), .def = "1",
	  .min = 1, .max = 19,
	  .desc = "zstd compression level of batches." },
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
	{ .name = "spool", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct agent_self, spool),
	  .sub = spool_keys,
	  .desc = "The on-disk spool of batches (data_dir/spool)." },
	{ .name = "batch", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct agent_self, batch),
	  .sub = batch_keys,
	  .desc = "How records are packed into batches." },
	{ .name = "drain_timeout", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct agent_self, drain_timeout_ms),
	  .def = "5s", .min = 0, .max = 600000,
	  .desc = "On SIGTERM, how long the agent goes on sending the spool "
	      "before it exits (what is left is sent after the restart)." },
	{ .name = "self_exclude", .type = TW_CONF_STRLIST,
	  .offset = offsetof(struct agent_self, self_exclude),
	  .def = "trawl-agent*", .flags = TW_CONF_RELOADABLE,
	  .desc = "Glob patterns of file names (the last path component; "
	      "for /var/log/containers that starts with the pod name) the "
	      "agent never tails, so that it does not read its own logs." },
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
	{ .name = "idle_flush", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct agent_input, idle_flush_ms), .def = "5s",
	  .min = 10, .max = 3600000, .flags = TW_CONF_RELOADABLE,
	  .desc = "How long an unterminated last line (or a partial CRI "
	      "record) waits for the rest before it is emitted with "
	      "incomplete: true; also how long a rotated or deleted file "
	      "is kept open once drained." },
	{ .name = "max_line", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct agent_input, max_line),
	  .def = "1008KiB", .min = 1024, .max = 1008 << 10,
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "Longer lines are cut to this many bytes and marked "
	      "truncated: true; the file goes on (the room left to 1 MiB "
	      "is for the record's other fields)." },
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
	  .desc = "CA bundle that verifies the collector's certificate "
	      "(chain and host name are always verified)." },
	{ .name = "cert_file", .type = TW_CONF_PATH,
	  .offset = offsetof(struct agent_output, cert_file),
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "Client certificate (PEM) for mutual TLS." },
	{ .name = "key_file", .type = TW_CONF_PATH,
	  .offset = offsetof(struct agent_output, key_file),
	  .flags = TW_CONF_SECRET | TW_CONF_RELOADABLE,
	  .desc = "Private key (PEM) of cert_file." },
	{ .name = "timeout", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct agent_output, timeout_ms), .def = "30s",
	  .min = 100, .max = 3600000, .flags = TW_CONF_RELOADABLE,
	  .desc = "Deadline of one request; a collector that accepts and "
	      "never answers is given up on after it." },
	{ .name = "max_in_flight", .type = TW_CONF_INT,
	  .offset = offsetof(struct agent_output, max_in_flight),
	  .def = "4", .min = 1, .max = 64,
	  .desc = "Batches being sent at once." },
	{ .name = "backoff_min", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct agent_output, backoff_min_ms),
	  .def = "100ms", .min = 1, .max = 60000, .flags = TW_CONF_RELOADABLE,
	  .desc = "First retry delay after a network error or 5xx; it "
	      "doubles per failure, with full jitter." },
	{ .name = "backoff_max", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct agent_output, backoff_max_ms),
	  .def = "30s", .min = 1, .max = 3600000,
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "Cap of the retry delay." },
	{ .name = "auth_retry", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct agent_output, auth_retry_ms),
	  .def = "60s", .min = 100, .max = 3600000,
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "After a 401 or 403 sending stops (an alarm is logged) "
	      "and one batch is tried again this often." },
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
	  .flags = TW_CONF_REQUIRED | TW_CONF_RELOADABLE,
	  .desc = "What to read: files to tail and push receivers. Tail "
	      "inputs may be added, removed and changed on SIGHUP." },
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

/* What a collector accepts in Trawl-Agent (collector/batch_sink.h). */
#define AGENT_ID_MAX 246

static bool
agent_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AGENT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* Bounds that tie two keys together. */
static void
check_pairs(struct agent_conf *c, struct tw_conf_diag *d)
{
	const struct agent_self *a = &c->agent;
	const struct agent_output *o = &c->output;

	if (a->spool.max_bytes < 4 * a->batch.max_bytes)
		tw_conf_diag_at(d, "agent.spool.max_bytes", "'agent.spool."
		    "max_bytes' must be at least 4 times 'agent.batch."
		    "max_bytes'");
	if (o->type == NULL || strcmp(o->type, "http") != 0)
		return;
	if (o->url != NULL && strncmp(o->url, "http://", 7) != 0 &&
	    strncmp(o->url, "https://", 8) != 0)
		tw_conf_diag_at(d, "output.url", "'output.url' must start with "
		    "http:// or https://");
	if (o->backoff_min_ms > o->backoff_max_ms)
		tw_conf_diag_at(d, "output.backoff_min", "'output.backoff_min' "
		    "is larger than 'output.backoff_max'");
	if ((o->cert_file == NULL) != (o->key_file == NULL))
		tw_conf_diag_at(d, o->cert_file != NULL ? "output.cert_file" :
		    "output.key_file", "'output.cert_file' and 'output."
		    "key_file' go together");
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
	check_pairs(c, d);
	if (c->agent.id == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		if ((c->agent.id = strdup(host)) == NULL)
			return TW_ENOMEM;
	}
	if (!agent_id_valid(c->agent.id))
		tw_conf_diag_at(d, "agent.id", "'agent.id' must be 1 to %d "
		    "printable ASCII characters (the collector's limit)",
		    AGENT_ID_MAX);
	return tw_conf_diag_count(d) > before ? TW_ECONFIG : 0;
}

void
agent_conf_free(struct agent_conf *c)
{
	tw_conf_free(agent_conf_keys, c);
}

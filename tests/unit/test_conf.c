/* test_conf.c: unit tests for lib/conf, the table-driven YAML config loader. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "tap.h"

/* ---- the DESIGN.md §9 agent.yaml, as a module would describe it ---- */

struct http_conf {
	char *listen;
};

struct agent_sec {
	char *id;
	char *data_dir;
	struct http_conf http;
	uint64_t flush_ms;
	uint64_t spool_max;
	int64_t workers;
	bool debug;
	int log_format;
};

struct input {
	char *type;
	struct tw_conf_strv paths;
	char *format;
	char *listen;
	uint64_t max_body;
};

struct output {
	char *type;
	char *url;
	char *token_file;
	struct tw_conf_strv brokers;
	char *topic;
};

struct agent_conf {
	struct agent_sec agent;
	struct tw_conf_list inputs;
	struct output output;
};

static const struct tw_conf_key http_keys[] = {
	{ .name = "listen", .type = TW_CONF_ADDR,
	    .offset = offsetof(struct http_conf, listen),
	    .def = "127.0.0.1:2021",
	    .desc = "Address of /metrics, /healthz and /readyz." },
	{ NULL },
};

static const char *const log_formats[] = { "text", "json", NULL };

static const struct tw_conf_key agent_keys[] = {
	{ .name = "id", .type = TW_CONF_STR,
	    .offset = offsetof(struct agent_sec, id),
	    .desc = "The agent's id; default: the host name." },
	{ .name = "data_dir", .type = TW_CONF_PATH,
	    .offset = offsetof(struct agent_sec, data_dir),
	    .flags = TW_CONF_REQUIRED, .desc = "Checkpoints and spool." },
	{ .name = "http", .type = TW_CONF_SECTION,
	    .offset = offsetof(struct agent_sec, http), .sub = http_keys,
	    .desc = "The HTTP endpoint." },
	{ .name = "flush", .type = TW_CONF_DURATION,
	    .offset = offsetof(struct agent_sec, flush_ms), .def = "1s",
	    .min = 10, .max = 3600000, .flags = TW_CONF_RELOADABLE,
	    .desc = "How often batches are sent." },
	{ .name = "spool_max", .type = TW_CONF_SIZE,
	    .offset = offsetof(struct agent_sec, spool_max), .def = "1GiB",
	    .min = 1 << 20, .max = TW_CONF_NOMAX,
	    .desc = "Spool ceiling | applies backpressure." },
	{ .name = "workers", .type = TW_CONF_INT,
	    .offset = offsetof(struct agent_sec, workers), .def = "4",
	    .min = 1, .max = 64, .desc = "Parser threads." },
	{ .name = "debug", .type = TW_CONF_BOOL,
	    .offset = offsetof(struct agent_sec, debug), .def = "false",
	    .flags = TW_CONF_RELOADABLE, .desc = "Debug logging." },
	{ .name = "log_format", .type = TW_CONF_ENUM,
	    .offset = offsetof(struct agent_sec, log_format), .def = "text",
	    .enum_values = log_formats, .desc = "Self-log format." },
	{ NULL },
};

static const struct tw_conf_key tail_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	    .offset = offsetof(struct input, type), .desc = "tail" },
	{ .name = "paths", .type = TW_CONF_STRLIST,
	    .offset = offsetof(struct input, paths),
	    .flags = TW_CONF_REQUIRED, .desc = "Globs of files to tail." },
	{ .name = "format", .type = TW_CONF_STR,
	    .offset = offsetof(struct input, format), .def = "auto",
	    .flags = TW_CONF_RELOADABLE, .desc = "A trawl parse format." },
	{ NULL },
};

static const struct tw_conf_key http_in_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	    .offset = offsetof(struct input, type), .desc = "http" },
	{ .name = "listen", .type = TW_CONF_ADDR,
	    .offset = offsetof(struct input, listen),
	    .flags = TW_CONF_REQUIRED, .desc = "Push receiver address." },
	{ .name = "format", .type = TW_CONF_STR,
	    .offset = offsetof(struct input, format), .def = "auto",
	    .desc = "A trawl parse format." },
	{ .name = "max_body", .type = TW_CONF_SIZE,
	    .offset = offsetof(struct input, max_body), .def = "8MiB",
	    .desc = "Largest request body." },
	{ NULL },
};

static const struct tw_conf_variant input_variants[] = {
	{ "tail", tail_keys },
	{ "http", http_in_keys },
	{ NULL, NULL },
};

static const struct tw_conf_key out_http_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	    .offset = offsetof(struct output, type) },
	{ .name = "url", .type = TW_CONF_STR,
	    .offset = offsetof(struct output, url),
	    .flags = TW_CONF_REQUIRED, .desc = "Collector URL." },
	{ .name = "token_file", .type = TW_CONF_PATH,
	    .offset = offsetof(struct output, token_file),
	    .flags = TW_CONF_SECRET, .desc = "File holding the token." },
	{ NULL },
};

static const struct tw_conf_key out_kafka_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	    .offset = offsetof(struct output, type) },
	{ .name = "brokers", .type = TW_CONF_STRLIST,
	    .offset = offsetof(struct output, brokers),
	    .flags = TW_CONF_REQUIRED, .desc = "Bootstrap brokers." },
	{ .name = "topic", .type = TW_CONF_STR,
	    .offset = offsetof(struct output, topic),
	    .flags = TW_CONF_REQUIRED, .desc = "Topic." },
	{ NULL },
};

static const struct tw_conf_variant output_variants[] = {
	{ "http", out_http_keys },
	{ "kafka", out_kafka_keys },
	{ NULL, NULL },
};

static const struct tw_conf_key agent_root[] = {
	{ .name = "agent", .type = TW_CONF_SECTION,
	    .offset = offsetof(struct agent_conf, agent), .sub = agent_keys,
	    .desc = "The agent itself." },
	{ .name = "inputs", .type = TW_CONF_LIST,
	    .offset = offsetof(struct agent_conf, inputs),
	    .item_size = sizeof(struct input), .variants = input_variants,
	    .desc = "What to read." },
	{ .name = "output", .type = TW_CONF_SECTION,
	    .offset = offsetof(struct agent_conf, output),
	    .variants = output_variants, .flags = TW_CONF_REQUIRED,
	    .desc = "Where records go." },
	{ NULL },
};

static const char agent_yaml[] =
    "# agent.yaml\n"
    "agent:\n"
    "  id: node-1                      # default: the host name\n"
    "  data_dir: /var/lib/trawl-agent  # checkpoints and spool\n"
    "  http: { listen: 127.0.0.1:2021 }  # /metrics /healthz /readyz\n"
    "inputs:\n"
    "  - type: tail\n"
    "    paths: [\"/var/log/containers/*.log\"]\n"
    "    format: cri                   # any trawl parse format, or auto\n"
    "  - type: http                    # push receiver for function logs\n"
    "    listen: 127.0.0.1:4243\n"
    "    format: lambda_telemetry\n"
    "output:\n"
    "  type: http                      # or kafka\n"
    "  url: http://127.0.0.1:7400\n"
    "  token_file: /etc/trawl/token    # optional\n";

/* ---- the DESIGN.md §9 collector.yaml ---- */

struct collector_sec {
	char *data_dir;
	char *listen;
	char *tokens_file;
	uint64_t flush_ms;
};

struct sink {
	char *type;
	char *path;
	char *url;
	char *secret_file;
	struct tw_conf_strv brokers;
	char *topic;
};

struct collector_conf {
	struct collector_sec collector;
	struct tw_conf_strv rules;
	struct tw_conf_list sinks;
};

static const struct tw_conf_key collector_keys[] = {
	{ .name = "data_dir", .type = TW_CONF_PATH,
	    .offset = offsetof(struct collector_sec, data_dir),
	    .flags = TW_CONF_REQUIRED, .desc = "Store, alert log, cursors." },
	{ .name = "listen", .type = TW_CONF_ADDR,
	    .offset = offsetof(struct collector_sec, listen),
	    .def = "127.0.0.1:7400", .desc = "Ingest and /metrics." },
	{ .name = "tokens_file", .type = TW_CONF_PATH,
	    .offset = offsetof(struct collector_sec, tokens_file),
	    .flags = TW_CONF_SECRET, .desc = "Agent tokens." },
	{ .name = "flush", .type = TW_CONF_DURATION,
	    .offset = offsetof(struct collector_sec, flush_ms), .def = "5s",
	    .desc = "Store flush interval." },
	{ NULL },
};

static const struct tw_conf_key sink_file_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	    .offset = offsetof(struct sink, type) },
	{ .name = "path", .type = TW_CONF_PATH,
	    .offset = offsetof(struct sink, path), .flags = TW_CONF_REQUIRED },
	{ NULL },
};

static const struct tw_conf_key sink_webhook_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	    .offset = offsetof(struct sink, type) },
	{ .name = "url", .type = TW_CONF_STR,
	    .offset = offsetof(struct sink, url), .flags = TW_CONF_REQUIRED },
	{ .name = "secret_file", .type = TW_CONF_PATH,
	    .offset = offsetof(struct sink, secret_file),
	    .flags = TW_CONF_SECRET },
	{ NULL },
};

static const struct tw_conf_key sink_kafka_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	    .offset = offsetof(struct sink, type) },
	{ .name = "brokers", .type = TW_CONF_STRLIST,
	    .offset = offsetof(struct sink, brokers),
	    .flags = TW_CONF_REQUIRED },
	{ .name = "topic", .type = TW_CONF_STR,
	    .offset = offsetof(struct sink, topic), .def = "trawl-alerts" },
	{ NULL },
};

static const struct tw_conf_variant sink_variants[] = {
	{ "file", sink_file_keys },
	{ "webhook", sink_webhook_keys },
	{ "kafka", sink_kafka_keys },
	{ NULL, NULL },
};

static const struct tw_conf_key collector_root[] = {
	{ .name = "collector", .type = TW_CONF_SECTION,
	    .offset = offsetof(struct collector_conf, collector),
	    .sub = collector_keys },
	{ .name = "rules", .type = TW_CONF_STRLIST,
	    .offset = offsetof(struct collector_conf, rules),
	    .def = "/etc/trawl/rules", .flags = TW_CONF_RELOADABLE },
	{ .name = "sinks", .type = TW_CONF_LIST,
	    .offset = offsetof(struct collector_conf, sinks),
	    .item_size = sizeof(struct sink), .variants = sink_variants,
	    .flags = TW_CONF_RELOADABLE },
	{ NULL },
};

static const char collector_yaml[] =
    "# collector.yaml\n"
    "collector:\n"
    "  data_dir: /var/lib/trawl        # store, alert log, cursors\n"
    "  listen: 127.0.0.1:7400          # ingest + /metrics /healthz /readyz\n"
    "  tokens_file: /etc/trawl/tokens  # optional; one token per line\n"
    "rules: [/etc/trawl/rules]         # files or directories\n"
    "sinks:\n"
    "  - type: file\n"
    "    path: /var/lib/trawl/alerts.jsonl\n"
    "  - type: webhook\n"
    "    url: http://127.0.0.1:9000/hook\n"
    "    secret_file: /etc/trawl/webhook-secret   # optional\n"
    "  - type: kafka\n"
    "    brokers: 127.0.0.1:9092\n"
    "    topic: trawl-alerts\n";

/* ---- one key of every scalar type ---- */

struct types {
	char *s;
	bool b;
	int64_t i;
	int64_t ib;
	uint64_t sz;
	uint64_t szb;
	uint64_t dur;
	uint64_t durb;
	int e;
	struct tw_conf_strv sl;
	char *addr;
	char *path;
};

static const char *const colours[] = { "red", "green", "blue", NULL };

static const struct tw_conf_key types_keys[] = {
	{ .name = "s", .type = TW_CONF_STR, .offset = offsetof(struct types, s) },
	{ .name = "b", .type = TW_CONF_BOOL, .offset = offsetof(struct types, b) },
	{ .name = "i", .type = TW_CONF_INT, .offset = offsetof(struct types, i) },
	{ .name = "ib", .type = TW_CONF_INT,
	    .offset = offsetof(struct types, ib), .min = 1, .max = 10 },
	{ .name = "sz", .type = TW_CONF_SIZE,
	    .offset = offsetof(struct types, sz) },
	{ .name = "szb", .type = TW_CONF_SIZE,
	    .offset = offsetof(struct types, szb), .min = 1024,
	    .max = 1 << 20 },
	{ .name = "dur", .type = TW_CONF_DURATION,
	    .offset = offsetof(struct types, dur) },
	{ .name = "durb", .type = TW_CONF_DURATION,
	    .offset = offsetof(struct types, durb), .min = 100, .max = 60000 },
	{ .name = "e", .type = TW_CONF_ENUM, .offset = offsetof(struct types, e),
	    .enum_values = colours },
	{ .name = "sl", .type = TW_CONF_STRLIST,
	    .offset = offsetof(struct types, sl) },
	{ .name = "addr", .type = TW_CONF_ADDR,
	    .offset = offsetof(struct types, addr) },
	{ .name = "path", .type = TW_CONF_PATH,
	    .offset = offsetof(struct types, path) },
	{ NULL },
};

static struct tw_conf_diag d;

/* Load text as "t.yaml" into out with a fresh d. */
static int
load(const char *text, const struct tw_conf_key *keys, void *out,
    unsigned opts)
{
	tw_conf_diag_cleanup(&d);
	tw_conf_diag_init(&d);
	return tw_conf_load_mem("t.yaml", text, strlen(text), keys, out, opts,
	    &d);
}

/* All messages of d, one per line (no trailing newline). */
static const char *
msgs(void)
{
	static char buf[16384];

	buf[0] = '\0';
	for (size_t i = 0; i < tw_conf_diag_count(&d); i++) {
		if (i > 0)
			strncat(buf, "\n", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, tw_conf_diag_msg(&d, i),
		    sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

static struct types t;

/* Load one document into t (freed first) with the types table. */
static int
ty(const char *text)
{
	tw_conf_free(types_keys, &t);
	memset(&t, 0, sizeof(t));
	return load(text, types_keys, &t, 0);
}

static void
test_design_agent(void)
{
	struct agent_conf c;
	struct input *in;
	int line, col;

	memset(&c, 0, sizeof(c));
	is_int(load(agent_yaml, agent_root, &c, 0), 0, "agent.yaml loads");
	is_str(msgs(), "", "agent.yaml: no messages");
	is_str(c.agent.id, "node-1", "agent.id");
	is_str(c.agent.data_dir, "/var/lib/trawl-agent", "agent.data_dir");
	is_str(c.agent.http.listen, "127.0.0.1:2021",
	    "flow mapping agent.http.listen");
	is_int(c.agent.flush_ms, 1000, "default duration 1s");
	ok(c.agent.spool_max == UINT64_C(1) << 30, "default size 1GiB");
	is_int(c.agent.workers, 4, "default int");
	is_int(c.agent.log_format, 0, "default enum");
	is_int(c.inputs.n, 2, "two inputs");
	in = c.inputs.items;
	is_str(in[0].type, "tail", "inputs[0].type");
	ok(in[0].paths.n == 1 &&
	    strcmp(in[0].paths.v[0], "/var/log/containers/*.log") == 0,
	    "inputs[0].paths");
	is_str(in[0].format, "cri", "inputs[0].format");
	ok(in[0].listen == NULL, "tail has no listen");
	is_str(in[1].type, "http", "inputs[1].type");
	is_str(in[1].listen, "127.0.0.1:4243", "inputs[1].listen");
	is_str(in[1].format, "lambda_telemetry", "inputs[1].format");
	ok(in[1].max_body == 8u << 20, "inputs[1].max_body default 8MiB");
	ok(in[1].paths.n == 0, "http has no paths");
	is_str(c.output.type, "http", "output.type (variant section)");
	is_str(c.output.url, "http://127.0.0.1:7400", "output.url");
	is_str(c.output.token_file, "/etc/trawl/token", "output.token_file");

	ok(tw_conf_pos(&d, "inputs[1].listen", &line, &col) == 0 &&
	    line == 11 && col == 13, "position of inputs[1].listen: %d:%d",
	    line, col);
	ok(tw_conf_pos(&d, "agent.http.listen", &line, &col) == 0 &&
	    line == 5 && col == 19, "position inside a flow mapping: %d:%d",
	    line, col);
	is_int(tw_conf_pos(&d, "agent.flush", &line, &col), TW_ENOTFOUND,
	    "a default has no position");
	tw_conf_diag_at(&d, "agent.data_dir", "data_dir must be on a local "
	    "file system");
	tw_conf_diag_at(&d, "agent.flush", "flush too slow");
	tw_conf_diag_at(&d, "nosuch.key", "no position");
	is_str(msgs(),
	    "t.yaml:4:13: data_dir must be on a local file system\n"
	    "t.yaml:3:3: flush too slow\n"
	    "t.yaml:1:1: no position",
	    "diag_at: value position, ancestor position, 1:1");
	tw_conf_diag_add(&d, "x.yaml", 3, 4, "custom %d", 5);
	tw_conf_diag_add(&d, "x.yaml", 0, 0, "no line");
	tw_conf_diag_add(&d, NULL, 0, 0, "bare");
	is_str(tw_conf_diag_msg(&d, 3), "x.yaml:3:4: custom 5", "diag_add");
	is_str(tw_conf_diag_msg(&d, 4), "x.yaml: no line", "diag_add no line");
	is_str(tw_conf_diag_msg(&d, 5), "bare", "diag_add no file");
	ok(tw_conf_diag_msg(&d, 6) == NULL, "diag_msg out of range");

	tw_conf_free(agent_root, &c);
	ok(c.agent.id == NULL && c.inputs.items == NULL && c.inputs.n == 0 &&
	    c.output.url == NULL, "free clears pointers");
	tw_conf_free(agent_root, &c);
	ok(1, "free twice is safe");
}

static void
test_design_collector(void)
{
	struct collector_conf c;
	struct sink *s;

	memset(&c, 0, sizeof(c));
	is_int(load(collector_yaml, collector_root, &c, 0), 0,
	    "collector.yaml loads");
	is_str(msgs(), "", "collector.yaml: no messages");
	is_str(c.collector.data_dir, "/var/lib/trawl", "collector.data_dir");
	is_str(c.collector.listen, "127.0.0.1:7400", "collector.listen");
	is_str(c.collector.tokens_file, "/etc/trawl/tokens",
	    "collector.tokens_file");
	ok(c.rules.n == 1 && strcmp(c.rules.v[0], "/etc/trawl/rules") == 0,
	    "rules flow sequence");
	is_int(c.sinks.n, 3, "three sinks");
	s = c.sinks.items;
	ok(strcmp(s[0].type, "file") == 0 &&
	    strcmp(s[0].path, "/var/lib/trawl/alerts.jsonl") == 0, "file sink");
	ok(strcmp(s[1].type, "webhook") == 0 &&
	    strcmp(s[1].url, "http://127.0.0.1:9000/hook") == 0 &&
	    strcmp(s[1].secret_file, "/etc/trawl/webhook-secret") == 0,
	    "webhook sink");
	ok(strcmp(s[2].type, "kafka") == 0 && s[2].brokers.n == 1 &&
	    strcmp(s[2].brokers.v[0], "127.0.0.1:9092") == 0 &&
	    strcmp(s[2].topic, "trawl-alerts") == 0,
	    "kafka sink, brokers scalar as a one-element list");
	tw_conf_free(collector_root, &c);
}

static void
test_types(void)
{
	is_int(ty("s: hello world\nb: yes\ni: -42\nib: 10\nsz: 64KiB\n"
	    "szb: 1 MiB\ndur: 1m30s\ndurb: 250ms\ne: blue\n"
	    "sl: [a, 'b c']\naddr: '[::1]:8080'\npath: /tmp/x\n"), 0,
	    "every type");
	is_str(msgs(), "", "every type: no messages");
	is_str(t.s, "hello world", "str");
	ok(t.b, "bool yes");
	is_int(t.i, -42, "int");
	is_int(t.ib, 10, "int at max");
	ok(t.sz == 65536, "size 64KiB");
	ok(t.szb == 1 << 20, "size '1 MiB' at max");
	ok(t.dur == 90000, "duration 1m30s");
	ok(t.durb == 250, "duration 250ms");
	is_int(t.e, 2, "enum index");
	ok(t.sl.n == 2 && strcmp(t.sl.v[1], "b c") == 0, "strlist");
	is_str(t.addr, "[::1]:8080", "v6 address");
	is_str(t.path, "/tmp/x", "path");

	/* strings */
	is_int(ty("s: \"a\\0b\"\n"), TW_ECONFIG, "NUL in a string");
	is_str(msgs(), "t.yaml:1:4: the value of 's' contains a NUL byte",
	    "NUL message");
	is_int(ty("s: ''\n"), 0, "empty quoted string");
	is_str(t.s, "", "empty string stored");
	is_int(ty("s: ~\n"), 0, "null string is absent");
	ok(t.s == NULL, "null string stays NULL");
	is_int(ty("s: 12\n"), 0, "number as a string");
	is_str(t.s, "12", "number text kept");
	is_int(ty("s: [a]\n"), TW_ECONFIG, "sequence for a string");
	is_str(msgs(), "t.yaml:1:4: expected a single value for 's', not a "
	    "sequence", "sequence for a string message");

	/* booleans */
	ok(ty("b: TRUE\n") == 0 && t.b, "TRUE");
	ok(ty("b: on\n") == 0 && t.b, "on");
	ok(ty("b: Off\n") == 0 && !t.b, "Off");
	ok(ty("b: no\n") == 0 && !t.b, "no");
	ok(ty("b: false\n") == 0 && !t.b, "false");
	is_int(ty("b: maybe\n"), TW_ECONFIG, "bad bool");
	is_str(msgs(), "t.yaml:1:4: invalid boolean 'maybe' for 'b': use true "
	    "or false", "bad bool message");

	/* integers */
	ok(ty("i: 9223372036854775807\n") == 0 && t.i == INT64_MAX, "INT64_MAX");
	ok(ty("i: -9223372036854775808\n") == 0 && t.i == INT64_MIN,
	    "INT64_MIN");
	ok(ty("i: +7\n") == 0 && t.i == 7, "explicit plus");
	ok(ty("i: '8'\n") == 0 && t.i == 8, "quoted int");
	is_int(ty("i: 9223372036854775808\n"), TW_ECONFIG, "int overflow");
	is_str(msgs(), "t.yaml:1:4: integer '9223372036854775808' for 'i' is "
	    "out of range", "int overflow message");
	is_int(ty("i: -9223372036854775809\n"), TW_ECONFIG, "int underflow");
	is_int(ty("i: 99999999999999999999999999\n"), TW_ECONFIG,
	    "int way over");
	is_int(ty("i: 12abc\n"), TW_ECONFIG, "int with junk");
	is_str(msgs(), "t.yaml:1:4: invalid integer '12abc' for 'i'",
	    "int junk message");
	is_int(ty("i: -\n"), TW_ECONFIG, "sign only");
	is_int(ty("i: 1.5\n"), TW_ECONFIG, "fraction");
	is_int(ty("ib: 0\n"), TW_ECONFIG, "int below min");
	is_str(msgs(), "t.yaml:1:5: value 0 for 'ib' is below the minimum 1",
	    "below min message");
	is_int(ty("ib: 11\n"), TW_ECONFIG, "int above max");
	is_str(msgs(), "t.yaml:1:5: value 11 for 'ib' is above the maximum 10",
	    "above max message");
	ok(ty("ib: 1\n") == 0 && t.ib == 1, "int at min");

	/* sizes */
	ok(ty("sz: 4096\n") == 0 && t.sz == 4096, "plain bytes");
	ok(ty("sz: 12B\n") == 0 && t.sz == 12, "B");
	ok(ty("sz: 8 MiB\n") == 0 && t.sz == 8u << 20, "8 MiB");
	ok(ty("sz: 1GiB\n") == 0 && t.sz == 1u << 30, "1GiB");
	ok(ty("sz: 2TiB\n") == 0 && t.sz == UINT64_C(2) << 40, "2TiB");
	ok(ty("sz: 16777215TiB\n") == 0 &&
	    t.sz == UINT64_C(16777215) << 40, "largest TiB");
	ok(ty("sz: 18446744073709551615\n") == 0 && t.sz == UINT64_MAX,
	    "UINT64_MAX bytes");
	is_int(ty("sz: 16777216TiB\n"), TW_ECONFIG, "size overflow by unit");
	is_str(msgs(), "t.yaml:1:5: size '16777216TiB' for 'sz' is too large",
	    "size overflow message");
	is_int(ty("sz: 18446744073709551616\n"), TW_ECONFIG,
	    "size overflow by digits");
	is_int(ty("sz: 10MB\n"), TW_ECONFIG, "MB refused");
	is_str(msgs(), "t.yaml:1:5: invalid size '10MB' for 'sz': use a number "
	    "of bytes, or a number with B, KiB, MiB, GiB or TiB",
	    "MB message");
	is_int(ty("sz: 1kib\n"), TW_ECONFIG, "unit case matters");
	is_int(ty("sz: '5 '\n"), TW_ECONFIG, "trailing space without unit");
	is_int(ty("sz: -1\n"), TW_ECONFIG, "negative size");
	is_int(ty("szb: 512\n"), TW_ECONFIG, "size below min");
	is_str(msgs(), "t.yaml:1:6: value 512B for 'szb' is below the minimum "
	    "1KiB", "size below min message");
	is_int(ty("szb: 2MiB\n"), TW_ECONFIG, "size above max");
	is_str(msgs(), "t.yaml:1:6: value 2MiB for 'szb' is above the maximum "
	    "1MiB", "size above max message");

	/* durations */
	ok(ty("dur: 250ms\n") == 0 && t.dur == 250, "ms");
	ok(ty("dur: 10s\n") == 0 && t.dur == 10000, "s");
	ok(ty("dur: 5m\n") == 0 && t.dur == 300000, "m");
	ok(ty("dur: 1h\n") == 0 && t.dur == 3600000, "h");
	ok(ty("dur: 1h2m3s4ms\n") == 0 && t.dur == 3723004, "combination");
	ok(ty("dur: 0s\n") == 0 && t.dur == 0, "zero with unit");
	is_int(ty("dur: 10\n"), TW_ECONFIG, "bare number");
	is_str(msgs(), "t.yaml:1:6: invalid duration '10' for 'dur': a "
	    "duration needs a unit: ms, s, m, h", "bare number message");
	is_int(ty("dur: 10 sec\n"), TW_ECONFIG, "10 sec");
	is_str(msgs(), "t.yaml:1:6: invalid duration '10 sec' for 'dur': use a "
	    "number with ms, s, m or h", "10 sec message");
	is_int(ty("dur: 30s1m\n"), TW_ECONFIG, "units out of order");
	is_int(ty("dur: 1m1m\n"), TW_ECONFIG, "unit twice");
	is_int(ty("dur: 1m30\n"), TW_ECONFIG, "trailing number");
	is_int(ty("dur: 1d\n"), TW_ECONFIG, "days are not a unit");
	is_int(ty("dur: 5124095576030432h\n"), TW_ECONFIG, "duration overflow");
	is_str(msgs(), "t.yaml:1:6: duration '5124095576030432h' for 'dur' is "
	    "too large", "duration overflow message");
	is_int(ty("dur: 5124095576030431h3600000s\n"), TW_ECONFIG,
	    "duration overflow in the sum");
	ok(ty("dur: 18446744073709551615ms\n") == 0 && t.dur == UINT64_MAX,
	    "UINT64_MAX ms");
	is_int(ty("durb: 50ms\n"), TW_ECONFIG, "duration below min");
	is_str(msgs(), "t.yaml:1:7: value 50ms for 'durb' is below the minimum "
	    "100ms", "duration below min message");
	is_int(ty("durb: 1m1ms\n"), TW_ECONFIG, "duration above max");
	is_str(msgs(), "t.yaml:1:7: value 1m1ms for 'durb' is above the "
	    "maximum 1m", "duration above max message");

	/* enums */
	ok(ty("e: red\n") == 0 && t.e == 0, "enum first");
	is_int(ty("e: gren\n"), TW_ECONFIG, "enum typo");
	is_str(msgs(), "t.yaml:1:4: invalid value 'gren' for 'e': expected one "
	    "of red, green, blue; did you mean 'green'?", "enum message");
	is_int(ty("e: purple\n"), TW_ECONFIG, "enum far off");
	is_str(msgs(), "t.yaml:1:4: invalid value 'purple' for 'e': expected "
	    "one of red, green, blue", "enum without suggestion");

	/* string lists */
	ok(ty("sl: single\n") == 0 && t.sl.n == 1 &&
	    strcmp(t.sl.v[0], "single") == 0, "strlist from a scalar");
	ok(ty("sl:\n  - a\n  - b\n  - c\n") == 0 && t.sl.n == 3 &&
	    strcmp(t.sl.v[2], "c") == 0, "strlist block sequence");
	ok(ty("sl: []\n") == 0 && t.sl.n == 0 && t.sl.v == NULL,
	    "empty strlist");
	is_int(ty("sl: [a, {x: 1}, ~]\n"), TW_ECONFIG, "strlist bad items");
	is_str(msgs(), "t.yaml:1:9: expected a string for 'sl[1]'\n"
	    "t.yaml:1:17: expected a string for 'sl[2]'",
	    "strlist item messages");
	is_int(ty("sl: {a: b}\n"), TW_ECONFIG, "strlist mapping");
	is_str(msgs(), "t.yaml:1:5: expected a string or a list of strings for "
	    "'sl'", "strlist mapping message");

	/* addresses */
	ok(ty("addr: 127.0.0.1:80\n") == 0, "v4 address");
	ok(ty("addr: ':9000'\n") == 0 && strcmp(t.addr, ":9000") == 0,
	    ":port");
	ok(ty("addr: localhost:0\n") == 0, "port 0");
	ok(ty("addr: '[::]:65535'\n") == 0, "[::]:65535");
	is_int(ty("addr: host:65536\n"), TW_ECONFIG, "port too big");
	is_str(msgs(), "t.yaml:1:7: invalid address 'host:65536' for 'addr': "
	    "the port must be a number from 0 to 65535", "port message");
	is_int(ty("addr: ::1:80\n"), TW_ECONFIG, "v6 without brackets");
	is_str(msgs(), "t.yaml:1:7: invalid address '::1:80' for 'addr': an "
	    "IPv6 address needs brackets, as in [::1]:80", "brackets message");
	is_int(ty("addr: host\n"), TW_ECONFIG, "no port");
	is_int(ty("addr: 'host:'\n"), TW_ECONFIG, "empty port");
	is_int(ty("addr: '[::1]80'\n"), TW_ECONFIG, "no colon after ]");
	is_int(ty("addr: '[zz]:80'\n"), TW_ECONFIG, "bad v6");
	is_int(ty("addr: '[::1:80'\n"), TW_ECONFIG, "no ]");
	is_int(ty("addr: 'a b:80'\n"), TW_ECONFIG, "space in host");
	is_int(ty("addr: 'h:8x'\n"), TW_ECONFIG, "port not a number");

	/* paths */
	is_int(ty("path: ''\n"), TW_ECONFIG, "empty path");
	is_str(msgs(), "t.yaml:1:7: empty path for 'path'", "empty path message");

	/* all bad values in one pass */
	is_int(ty("s: kept\nsl: [a]\nb: x\ni: y\nsz: z\n"), TW_ECONFIG,
	    "three bad values");
	is_int(tw_conf_diag_count(&d), 3, "three messages in one pass");
	ok(t.s == NULL && t.sl.v == NULL, "failure leaves nothing allocated");
	tw_conf_free(types_keys, &t);
}

static void
test_parse_public(void)
{
	uint64_t v = 0;

	ok(tw_conf_parse_size("8 MiB", &v) == 0 && v == 8u << 20,
	    "tw_conf_parse_size");
	is_int(tw_conf_parse_size("8MB", &v), TW_EINVAL, "parse_size MB");
	is_int(tw_conf_parse_size("99999999999999999999", &v), TW_ETOOBIG,
	    "parse_size overflow");
	ok(tw_conf_parse_duration("1h30m", &v) == 0 && v == 5400000,
	    "tw_conf_parse_duration");
	is_int(tw_conf_parse_duration("90", &v), TW_EINVAL,
	    "parse_duration bare number");
	is_int(tw_conf_parse_duration("", &v), TW_EINVAL,
	    "parse_duration empty");
}

static void
test_defaults(void)
{
	struct agent_conf c;
	static const struct tw_conf_key optional_root[] = {
		{ .name = "agent", .type = TW_CONF_SECTION,
		    .offset = offsetof(struct agent_conf, agent),
		    .sub = http_keys + 0 },
		{ NULL },
	};
	struct http_conf *h;

	memset(&c, 0, sizeof(c));
	is_int(load("", agent_root, &c, 0), TW_ECONFIG,
	    "empty file: required keys missing");
	is_str(msgs(), "t.yaml:1:1: missing required key 'agent.data_dir'\n"
	    "t.yaml:1:1: missing required key 'output'",
	    "missing required keys of an absent section, at 1:1");

	memset(&c, 0, sizeof(c));
	is_int(load("# nothing here\n\noutput: {type: http, url: u}\n"
	    "agent: {data_dir: /d}\n", agent_root, &c, 0), 0,
	    "minimal agent config");
	is_str(c.agent.http.listen, "127.0.0.1:2021",
	    "absent section gets its defaults");
	is_int(c.agent.workers, 4, "defaults in a present section");
	ok(c.agent.id == NULL, "no default: NULL");
	ok(c.inputs.n == 0 && c.inputs.items == NULL, "absent list is empty");
	ok(c.output.token_file == NULL, "optional secret absent");
	tw_conf_free(agent_root, &c);

	memset(&c, 0, sizeof(c));
	is_int(load("agent:\n  data_dir: /d\n  http:\noutput: {type: http, "
	    "url: u}\n", agent_root, &c, 0), 0, "null section");
	is_str(c.agent.http.listen, "127.0.0.1:2021",
	    "null section gets its defaults");
	tw_conf_free(agent_root, &c);

	/* A section reusing http_keys at offset 0 of agent_conf. */
	memset(&c, 0, sizeof(c));
	is_int(load("---\n", optional_root, &c, 0), 0, "empty document");
	h = (struct http_conf *)(void *)&c.agent;
	is_str(h->listen, "127.0.0.1:2021", "default in an absent section");
	tw_conf_free(optional_root, &c);
	ok(h->listen == NULL, "freed");

	memset(&t, 0, sizeof(t));
	is_int(load("- a\n- b\n", types_keys, &t, 0), TW_ECONFIG,
	    "top level sequence");
	is_str(msgs(), "t.yaml:1:1: expected a mapping of keys at the top level",
	    "top level message");
}

static void
test_required_unknown_duplicate(void)
{
	struct agent_conf c;

	memset(&c, 0, sizeof(c));
	is_int(load("agent:\n  data_dir: /d\n  http:\n    listn: :1\n"
	    "  wrkers: 3\n  zzz: 1\noutput: {type: http, url: u}\n",
	    agent_root, &c, 0), TW_ECONFIG, "unknown keys");
	is_str(msgs(),
	    "t.yaml:4:5: unknown key 'listn' in 'agent.http'; did you mean "
	    "'listen'?\n"
	    "t.yaml:5:3: unknown key 'wrkers' in 'agent'; did you mean "
	    "'workers'?\n"
	    "t.yaml:6:3: unknown key 'zzz' in 'agent'",
	    "unknown key messages with suggestions");
	ok(c.agent.data_dir == NULL, "failed load freed its strings");

	is_int(load("agent:\n  data_dir: /d\n  data_dir: /e\noutput: {type: "
	    "http, url: u}\ninputs:\n  - type: tail\n    paths: a\n"
	    "    paths: b\n", agent_root, &c, 0), TW_ECONFIG, "duplicate keys");
	is_str(msgs(),
	    "t.yaml:3:3: duplicate key 'data_dir' in 'agent' (first at line 2)\n"
	    "t.yaml:8:5: duplicate key 'paths' in 'inputs[0]' (first at line 7)",
	    "duplicate key messages");

	is_int(load("agent:\n  http: {}\noutput:\n  type: kafka\n"
	    "  topic: t\n", agent_root, &c, 0), TW_ECONFIG, "missing required");
	is_str(msgs(),
	    "t.yaml:2:3: missing required key 'agent.data_dir'\n"
	    "t.yaml:4:3: missing required key 'output.brokers'",
	    "missing required at the enclosing mapping");

	is_int(load("agent:\n  data_dir:\noutput: {type: http, url: u}\n",
	    agent_root, &c, 0), TW_ECONFIG, "required key with a null value");
	is_str(msgs(), "t.yaml:2:3: missing required key 'agent.data_dir'",
	    "null required value reported at its key");

	is_int(load("agent: [1]\ninputs: {a: 1}\noutput: x\n", agent_root, &c,
	    0), TW_ECONFIG, "wrong node kinds");
	is_str(msgs(),
	    "t.yaml:1:8: expected a mapping for 'agent'\n"
	    "t.yaml:2:9: expected a sequence of mappings for 'inputs'\n"
	    "t.yaml:3:9: expected a mapping for 'output'",
	    "wrong kind messages");

	is_int(load("? [a]\n: 1\n", agent_root, &c, 0), TW_ECONFIG,
	    "complex key");
	is_str(tw_conf_diag_msg(&d, 0), "t.yaml:1:3: a key must be a string, "
	    "not a sequence", "complex key message");
}

static void
test_variants(void)
{
	struct agent_conf c;
	struct input *in;

	memset(&c, 0, sizeof(c));
	is_int(load("agent: {data_dir: /d}\noutput: {type: http, url: u}\n"
	    "inputs:\n"
	    "  - type: tial\n    paths: a\n"
	    "  - type: tail\n    listen: :1\n    paths: a\n"
	    "  - paths: a\n"
	    "  - type: http\n    listen: :2\n    pahts: x\n"
	    "  - 5\n"
	    "  - type: [x]\n",
	    agent_root, &c, 0), TW_ECONFIG, "variant errors");
	is_str(msgs(),
	    "t.yaml:4:11: unknown type 'tial' for 'inputs[0]': expected one of "
	    "tail, http; did you mean 'tail'?\n"
	    "t.yaml:7:5: unknown key 'listen' in 'inputs[1]' for type 'tail' "
	    "(it is a key of type 'http')\n"
	    "t.yaml:9:5: missing required key 'inputs[2].type'\n"
	    "t.yaml:12:5: unknown key 'pahts' in 'inputs[3]' for type 'http'\n"
	    "t.yaml:13:5: expected a mapping for 'inputs[4]'\n"
	    "t.yaml:14:11: expected a type name for 'inputs[5].type': one of "
	    "tail, http",
	    "variant messages");

	memset(&c, 0, sizeof(c));
	is_int(load("agent: {data_dir: /d}\n"
	    "output: {type: kafka, brokers: [a:1, b:2], topic: t}\n"
	    "inputs:\n  - paths: x\n    type: tail\n", agent_root, &c, 0), 0,
	    "type key after other keys");
	in = c.inputs.items;
	ok(c.inputs.n == 1 && strcmp(in[0].type, "tail") == 0 &&
	    in[0].paths.n == 1 && strcmp(in[0].format, "auto") == 0,
	    "variant filled with its defaults");
	ok(strcmp(c.output.type, "kafka") == 0 && c.output.brokers.n == 2 &&
	    c.output.url == NULL, "kafka output variant");
	tw_conf_free(agent_root, &c);
	ok(c.output.type == NULL && c.output.brokers.v == NULL,
	    "variant section freed");
}

static void
test_interpolation(void)
{
	memset(&t, 0, sizeof(t));
	setenv("TW_TEST_A", "value", 1);
	setenv("TW_TEST_EMPTY", "", 1);
	setenv("TW_TEST_N", "7", 1);
	unsetenv("TW_TEST_UNSET");

	is_int(ty("s: ${TW_TEST_A}\n"), 0, "interpolation off");
	is_str(t.s, "${TW_TEST_A}", "off: literal");
	tw_conf_free(types_keys, &t);
	is_int(load("s: x-${TW_TEST_A}-y\n", types_keys, &t, TW_CONF_OPT_ENV),
	    0, "interpolation on");
	is_str(t.s, "x-value-y", "on: replaced");
	tw_conf_free(types_keys, &t);
	is_int(load("s: ${TW_TEST_UNSET:-dflt}\n", types_keys, &t,
	    TW_CONF_OPT_ENV), 0, "default when unset");
	is_str(t.s, "dflt", "default used");
	tw_conf_free(types_keys, &t);
	is_int(load("s: ${TW_TEST_EMPTY:-dflt}\n", types_keys, &t,
	    TW_CONF_OPT_ENV), 0, "default when empty");
	is_str(t.s, "dflt", "default used for empty");
	tw_conf_free(types_keys, &t);
	is_int(load("s: '${TW_TEST_EMPTY}'\n", types_keys, &t,
	    TW_CONF_OPT_ENV), 0, "empty without default");
	is_str(t.s, "", "empty value");
	tw_conf_free(types_keys, &t);
	is_int(load("s: a$${TW_TEST_A}$b$\n", types_keys, &t, TW_CONF_OPT_ENV),
	    0, "escape");
	is_str(t.s, "a${TW_TEST_A}$b$", "$${ escapes, lone $ stays");
	tw_conf_free(types_keys, &t);
	is_int(load("i: ${TW_TEST_N}\nsl: [\"${TW_TEST_A}\", b]\n", types_keys, &t,
	    TW_CONF_OPT_ENV), 0, "typed and list values");
	ok(t.i == 7 && strcmp(t.sl.v[0], "value") == 0, "typed values");
	tw_conf_free(types_keys, &t);
	is_int(load("${TW_TEST_A}: 1\n", types_keys, &t, TW_CONF_OPT_ENV),
	    TW_ECONFIG, "keys are not interpolated");
	is_int(load("s: ${TW_TEST_UNSET}\ni: ${TW_TEST_UNSET:?set the port}\n"
	    "b: ${1X}\npath: ${TW_TEST_A\n", types_keys, &t, TW_CONF_OPT_ENV),
	    TW_ECONFIG, "interpolation errors");
	is_str(msgs(),
	    "t.yaml:1:4: environment variable 'TW_TEST_UNSET' is not set (in "
	    "the value of 's')\n"
	    "t.yaml:2:4: environment variable 'TW_TEST_UNSET' is not set or "
	    "empty: set the port (in the value of 'i')\n"
	    "t.yaml:3:4: invalid variable reference '${1X}' in the value of "
	    "'b': use ${NAME}, ${NAME:-default} or ${NAME:?message}\n"
	    "t.yaml:4:7: unterminated '${' in the value of 'path'",
	    "interpolation messages");
}

static void
test_yaml_errors(void)
{
	char *deep;
	size_t n = 0;

	memset(&t, 0, sizeof(t));
	is_int(ty("s: a\nb: [1, 2\ni: 3\n"), TW_ECONFIG, "syntax error");
	is_str(msgs(), "t.yaml:3:2: syntax error: did not find expected ',' "
	    "or ']' (while parsing a flow sequence at 2:4)",
	    "syntax error position and problem");
	is_int(ty("s: a\n  b: c\n"), TW_ECONFIG, "bad indentation");
	is_str(msgs(), "t.yaml:2:4: syntax error: mapping values are not "
	    "allowed in this context", "indentation message");
	is_int(ty("s: &x a\ni: *x\n"), TW_ECONFIG, "alias");
	is_str(msgs(), "t.yaml:2:4: aliases are not supported (found '*x')",
	    "alias message");
	is_int(ty("s: a\n---\ns: b\n"), TW_ECONFIG, "two documents");
	is_str(msgs(), "t.yaml:2:1: a configuration file holds one YAML "
	    "document; this is a second one", "two documents message");
	is_int(ty("s: \"\\xff\"\n"), 0, "escaped byte is text");
	is_int(load("s: \xff\n", types_keys, &t, 0), TW_ECONFIG,
	    "invalid UTF-8");
	ok(strncmp(msgs(), "t.yaml:1:4: invalid input: ", 27) == 0,
	    "reader error position");
	diag("%s", msgs());

	deep = malloc(200);
	for (int i = 0; i < 33; i++)
		deep[n++] = '[';
	for (int i = 0; i < 33; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	is_int(load(deep, types_keys, &t, 0), TW_ECONFIG, "33 levels");
	is_str(msgs(), "t.yaml:1:33: nesting deeper than 32 levels",
	    "depth message");
	deep[0] = ' ';
	deep[65] = ' ';
	ok(load(deep, types_keys, &t, 0) == TW_ECONFIG &&
	    strstr(msgs(), "nesting") == NULL, "32 levels parse");
	free(deep);
	ok(tw_conf_load_mem("big", "", TW_CONF_FILE_MAX + 1, types_keys, &t, 0,
	    &d) == TW_ECONFIG && strstr(msgs(), "big:1:1: the configuration "
	    "is larger than 4 MiB") != NULL, "over 4 MiB refused");
	ok(tw_conf_load_mem("n", NULL, 0, types_keys, &t, 0, NULL) == 0,
	    "NULL text and NULL diag");

	is_int(ty("s: a\n\ni: 1\nb: \x01\n"), TW_ECONFIG,
	    "control character on line 4");
	is_str(msgs(), "t.yaml:4:4: invalid input: control characters are not "
	    "allowed (byte 0x01)", "reader error line and column");
	is_int(ty("\"a\\tbcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
	    "\\u00e9\": 1\n"), TW_ECONFIG, "long unknown key");
	is_str(msgs(), "t.yaml:1:1: unknown key 'a\\x09bcdefghijklmnopqrstuvwxyz"
	    "abcdefghijklmnopqrstu...'", "key escaped and cut in the message");
	is_int(ty("sz: 1kiB\n"), TW_ECONFIG, "kiB");
	is_int(ty("durb: 61s\n"), TW_ECONFIG, "61s above 1m");
	is_str(msgs(), "t.yaml:1:7: value 1m1s for 'durb' is above the maximum "
	    "1m", "duration formatting in messages");
}

static void
test_limits(void)
{
	struct tw_buf b;
	char *big;

	tw_buf_init(&b, 1 << 21);
	tw_ignore(tw_buf_adds(&b, "sl: [a"));
	for (int i = 0; i < TW_CONF_NODES_MAX; i++)
		tw_ignore(tw_buf_adds(&b, ",a"));
	tw_ignore(tw_buf_adds(&b, "]\n"));
	memset(&t, 0, sizeof(t));
	is_int(load(b.data, types_keys, &t, 0), TW_ECONFIG, "too many nodes");
	is_str(msgs(), "t.yaml:1:131072: more than 65536 YAML nodes",
	    "node cap message");
	tw_buf_cleanup(&b);

	big = malloc(TW_CONF_VALUE_MAX / 2 + 2);
	memset(big, 'x', TW_CONF_VALUE_MAX / 2 + 1);
	big[TW_CONF_VALUE_MAX / 2 + 1] = '\0';
	setenv("TW_TEST_BIG", big, 1);
	free(big);
	is_int(load("s: ${TW_TEST_BIG}\n", types_keys, &t, TW_CONF_OPT_ENV), 0,
	    "a big value");
	ok(t.s != NULL && strlen(t.s) == TW_CONF_VALUE_MAX / 2 + 1,
	    "big value kept");
	tw_conf_free(types_keys, &t);
	is_int(load("s: ${TW_TEST_BIG}${TW_TEST_BIG}\n", types_keys, &t,
	    TW_CONF_OPT_ENV), TW_ECONFIG, "value too big after interpolation");
	is_str(msgs(), "t.yaml:1:4: the value of 's' is longer than 1048576 "
	    "bytes after interpolation", "interpolation ceiling message");
	unsetenv("TW_TEST_BIG");
}

static void
test_three_mistakes(void)
{
	struct collector_conf c;

	memset(&c, 0, sizeof(c));
	is_int(load("collector:\n"
	    "  listn: 127.0.0.1:7400\n"
	    "  flush: 10 sec\n"
	    "sinks: []\n", collector_root, &c, 0), TW_ECONFIG,
	    "three mistakes");
	is_int(tw_conf_diag_count(&d), 3, "exactly three messages");
	is_str(tw_conf_diag_msg(&d, 0), "t.yaml:2:3: unknown key 'listn' in "
	    "'collector'; did you mean 'listen'?", "mistake 1: unknown key");
	is_str(tw_conf_diag_msg(&d, 1), "t.yaml:3:10: invalid duration "
	    "'10 sec' for 'collector.flush': use a number with ms, s, m or h",
	    "mistake 2: bad duration");
	is_str(tw_conf_diag_msg(&d, 2), "t.yaml:2:3: missing required key "
	    "'collector.data_dir'", "mistake 3: missing required key");
}

static void
test_too_many(void)
{
	struct tw_buf b;

	tw_buf_init(&b, 1 << 20);
	for (int i = 0; i < 150; i++)
		if (tw_buf_addf(&b, "k%d: 1\n", i) != 0)
			break;
	memset(&t, 0, sizeof(t));
	is_int(load(b.data, types_keys, &t, 0), TW_ECONFIG, "150 unknown keys");
	is_int(tw_conf_diag_count(&d), TW_CONF_DIAG_MAX + 1,
	    "messages capped");
	is_str(tw_conf_diag_msg(&d, TW_CONF_DIAG_MAX),
	    "t.yaml: too many errors; the rest are not shown", "cap message");
	tw_buf_cleanup(&b);
}

static void
test_table_check(void)
{
	static const struct tw_conf_key bad_secret[] = {
		{ .name = "token", .type = TW_CONF_STR,
		    .flags = TW_CONF_SECRET },
		{ NULL },
	};
	static const struct tw_conf_key bad_default[] = {
		{ .name = "flush", .type = TW_CONF_DURATION, .def = "10" },
		{ NULL },
	};
	static const struct tw_conf_key bad_bound_default[] = {
		{ .name = "n", .type = TW_CONF_INT, .def = "0", .min = 1,
		    .max = 5 },
		{ NULL },
	};
	static const struct tw_conf_key bad_enum[] = {
		{ .name = "e", .type = TW_CONF_ENUM },
		{ NULL },
	};
	static const struct tw_conf_key bad_required[] = {
		{ .name = "r", .type = TW_CONF_STR, .def = "x",
		    .flags = TW_CONF_REQUIRED },
		{ NULL },
	};
	static const struct tw_conf_key no_type[] = {
		{ .name = "x", .type = TW_CONF_STR },
		{ NULL },
	};
	static const struct tw_conf_variant no_type_variants[] = {
		{ "a", no_type },
		{ NULL, NULL },
	};
	static const struct tw_conf_key bad_variant[] = {
		{ .name = "l", .type = TW_CONF_LIST, .item_size = 64,
		    .variants = no_type_variants },
		{ NULL },
	};
	static const struct tw_conf_key bad_name[] = {
		{ .name = "Bad-Name", .type = TW_CONF_STR },
		{ NULL },
	};
	static const struct tw_conf_key bad_item[] = {
		{ .name = "l", .type = TW_CONF_LIST, .item_size = 4,
		    .sub = no_type },
		{ NULL },
	};
	static const struct tw_conf_key dup_name[] = {
		{ .name = "a", .type = TW_CONF_STR },
		{ .name = "a", .type = TW_CONF_INT },
		{ NULL },
	};
	static const struct tw_conf_key min_max[] = {
		{ .name = "n", .type = TW_CONF_INT, .min = 5, .max = 1 },
		{ NULL },
	};
	static const struct tw_conf_key neg_size[] = {
		{ .name = "n", .type = TW_CONF_SIZE, .min = -1, .max = 5 },
		{ NULL },
	};
	static const struct tw_conf_key both_sub_variants[] = {
		{ .name = "s", .type = TW_CONF_SECTION, .sub = no_type,
		    .variants = no_type_variants },
		{ NULL },
	};
	static const struct tw_conf_key no_item_size[] = {
		{ .name = "l", .type = TW_CONF_LIST, .sub = no_type },
		{ NULL },
	};
	static const struct tw_conf_key type_at_0[] = {
		{ .name = "type", .type = TW_CONF_STR, .offset = 0 },
		{ NULL },
	};
	static const struct tw_conf_key type_at_8[] = {
		{ .name = "type", .type = TW_CONF_STR, .offset = 8 },
		{ NULL },
	};
	static const struct tw_conf_variant moved_type_variants[] = {
		{ "a", type_at_0 },
		{ "b", type_at_8 },
		{ NULL, NULL },
	};
	static const struct tw_conf_key moved_type[] = {
		{ .name = "l", .type = TW_CONF_LIST, .item_size = 64,
		    .variants = moved_type_variants },
		{ NULL },
	};
	static const struct tw_conf_variant twice_variants[] = {
		{ "a", type_at_0 },
		{ "a", type_at_0 },
		{ NULL, NULL },
	};
	static const struct tw_conf_key twice[] = {
		{ .name = "s", .type = TW_CONF_SECTION,
		    .variants = twice_variants },
		{ NULL },
	};
	struct types tt;
	char *why = NULL;

	is_int(tw_conf_table_check(agent_root, &why), 0, "agent table ok");
	ok(why == NULL, "no why when ok");
	is_int(tw_conf_table_check(collector_root, NULL), 0,
	    "collector table ok");
	is_int(tw_conf_table_check(types_keys, NULL), 0, "types table ok");
	is_int(tw_conf_table_check(bad_secret, &why), TW_EINVAL,
	    "secret without _file");
	is_str(why, "key 'token' is TW_CONF_SECRET but its name does not end "
	    "in '_file'", "secret why");
	free(why);
	is_int(tw_conf_table_check(bad_default, &why), TW_EINVAL,
	    "unparsable default");
	is_str(why, "bad default: invalid duration '10' for 'flush': a "
	    "duration needs a unit: ms, s, m, h", "default why");
	free(why);
	is_int(tw_conf_table_check(bad_bound_default, &why), TW_EINVAL,
	    "default out of bounds");
	free(why);
	is_int(tw_conf_table_check(bad_enum, &why), TW_EINVAL,
	    "enum without values");
	is_str(why, "enum key 'e' has no values", "enum why");
	free(why);
	is_int(tw_conf_table_check(bad_required, NULL), TW_EINVAL,
	    "required with default");
	is_int(tw_conf_table_check(bad_variant, &why), TW_EINVAL,
	    "variant without a type key");
	is_str(why, "variant 'a' of 'l' needs a key 'type' of type "
	    "TW_CONF_STR", "variant why");
	free(why);
	is_int(tw_conf_table_check(bad_name, NULL), TW_EINVAL, "bad name");
	is_int(tw_conf_table_check(bad_item, NULL), TW_EINVAL,
	    "key outside its item");

	is_int(tw_conf_table_check(dup_name, &why), TW_EINVAL, "duplicate name");
	is_str(why, "key 'a' appears twice", "duplicate name why");
	free(why);
	is_int(tw_conf_table_check(min_max, NULL), TW_EINVAL, "min > max");
	is_int(tw_conf_table_check(neg_size, NULL), TW_EINVAL,
	    "negative size bound");
	is_int(tw_conf_table_check(both_sub_variants, NULL), TW_EINVAL,
	    "both sub and variants");
	is_int(tw_conf_table_check(no_item_size, NULL), TW_EINVAL,
	    "list without item_size");
	is_int(tw_conf_table_check(moved_type, &why), TW_EINVAL,
	    "type keys at different offsets");
	is_str(why, "the 'type' keys of the variants of 'l' are at different "
	    "offsets", "moved type why");
	free(why);
	is_int(tw_conf_table_check(twice, NULL), TW_EINVAL,
	    "two variants of one type");

	memset(&tt, 0, sizeof(tt));
	is_int(load("s: x\n", bad_secret, &tt, 0), TW_EINVAL,
	    "loading with a broken table");
	is_str(msgs(), "t.yaml: invalid key table: key 'token' is "
	    "TW_CONF_SECRET but its name does not end in '_file'",
	    "broken table message");
}

static void
test_reference(void)
{
	struct tw_buf b;

	tw_buf_init(&b, 1 << 20);
	is_int(tw_conf_write_reference(&b, agent_root, "trawl-agent"), 0,
	    "reference written");
	ok(strncmp(b.data, "## trawl-agent\n\n| Key | Type | Default | Bounds "
	    "| Reloadable | Description |\n|---|", 80) == 0, "heading");
	ok(strstr(b.data, "| `agent.http.listen` | address (host:port) | "
	    "`127.0.0.1:2021` |  | no | Address of /metrics, /healthz and "
	    "/readyz. |\n") != NULL, "section key row");
	ok(strstr(b.data, "| `agent.flush` | duration (ms, s, m, h) | `1s` | "
	    "10ms to 1h | yes | How often batches are sent. |\n") != NULL,
	    "duration row with bounds, reloadable");
	ok(strstr(b.data, "| `agent.spool_max` | size (B, KiB, MiB, GiB, TiB) "
	    "| `1GiB` | at least 1MiB | no | Spool ceiling \\| applies "
	    "backpressure. |\n") != NULL, "size row, pipe escaped");
	ok(strstr(b.data, "| `agent.data_dir` | path | required |") != NULL,
	    "required row");
	ok(strstr(b.data, "| `agent.log_format` | one of `text`, `json` | "
	    "`text` |") != NULL, "enum row");
	ok(strstr(b.data, "| `inputs[].type` | one of `tail`, `http` | "
	    "required |") != NULL, "variant discriminator row");
	ok(strstr(b.data, "| `inputs[].paths` (type `tail`) | string or list "
	    "of strings | required |") != NULL, "variant key row");
	ok(strstr(b.data, "| `output.token_file` (type `http`) | path (file "
	    "holding a secret) |") != NULL, "secret row");
	tw_buf_cleanup(&b);

	tw_buf_init(&b, 64);
	is_int(tw_conf_write_reference(&b, agent_root, NULL), TW_ETOOBIG,
	    "reference past the buffer's ceiling");
	tw_buf_cleanup(&b);
}

static void
test_reload(void)
{
	struct agent_conf a, b;
	struct collector_conf ca, cb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	is_int(load(agent_yaml, agent_root, &a, 0), 0, "old config");
	is_int(load("agent:\n"
	    "  id: node-1\n"
	    "  data_dir: /var/lib/other\n"
	    "  http: { listen: 127.0.0.1:2021 }\n"
	    "  flush: 2s\n"
	    "  debug: true\n"
	    "inputs:\n"
	    "  - type: tail\n"
	    "    paths: [\"/var/log/containers/*.log\"]\n"
	    "    format: json\n"
	    "  - type: tail\n"
	    "    paths: x\n"
	    "output:\n"
	    "  type: http\n"
	    "  url: http://127.0.0.1:7400\n"
	    "  token_file: /etc/trawl/token\n", agent_root, &b, 0), 0,
	    "new config");
	is_int(tw_conf_reload_check(agent_root, &a, &a, &d), 0,
	    "no change, no complaint");
	is_int(tw_conf_reload_check(agent_root, &a, &b, &d), TW_ECONFIG,
	    "non-reloadable changes");
	is_str(msgs(),
	    "t.yaml:3:13: 'agent.data_dir' cannot change on reload; restart "
	    "to apply\n"
	    "t.yaml:11:11: 'inputs[1].type' cannot change on reload; restart "
	    "to apply",
	    "reload messages: flush, debug and format are reloadable");
	tw_conf_free(agent_root, &b);
	memset(&b, 0, sizeof(b));
	is_int(load("agent:\n"
	    "  id: node-1\n"
	    "  data_dir: /var/lib/trawl-agent\n"
	    "  debug: yes\n"
	    "inputs:\n"
	    "  - type: tail\n"
	    "    paths: [\"/var/log/containers/*.log\"]\n"
	    "output:\n"
	    "  type: http\n"
	    "  url: http://127.0.0.1:7400\n"
	    "  token_file: /etc/trawl/token\n", agent_root, &b, 0), 0,
	    "new config with one input");
	is_int(tw_conf_reload_check(agent_root, &a, &b, &d), TW_ECONFIG,
	    "input removed");
	is_str(msgs(), "t.yaml:6:3: 'inputs' cannot change on reload; restart "
	    "to apply", "list length change reported at the list");
	tw_conf_free(agent_root, &a);
	tw_conf_free(agent_root, &b);

	memset(&ca, 0, sizeof(ca));
	memset(&cb, 0, sizeof(cb));
	is_int(load(collector_yaml, collector_root, &ca, 0), 0, "collector old");
	is_int(load("collector:\n  data_dir: /var/lib/trawl\n  listen: :7401\n"
	    "  tokens_file: /etc/trawl/tokens\nrules: [a, b]\n",
	    collector_root, &cb, 0), 0, "collector new");
	is_int(tw_conf_reload_check(collector_root, &ca, &cb, &d), TW_ECONFIG,
	    "listen changed");
	is_str(msgs(), "t.yaml:3:11: 'collector.listen' cannot change on "
	    "reload; restart to apply", "only listen reported");
	tw_conf_free(collector_root, &ca);
	tw_conf_free(collector_root, &cb);
}

static void
test_file(void)
{
	char path[] = "/tmp/test_conf.XXXXXX";
	struct collector_conf c;
	FILE *f;
	int fd;

	memset(&c, 0, sizeof(c));
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		ok(0, "temporary file");
		return;
	}
	fputs(collector_yaml, f);
	fclose(f);
	tw_conf_diag_cleanup(&d);
	tw_conf_diag_init(&d);
	is_int(tw_conf_load_file(path, collector_root, &c, 0, &d), 0,
	    "load_file");
	is_str(c.collector.data_dir, "/var/lib/trawl", "value from the file");
	tw_conf_free(collector_root, &c);

	ok(truncate(path, TW_CONF_FILE_MAX + 1) == 0, "grow the file");
	tw_conf_diag_cleanup(&d);
	tw_conf_diag_init(&d);
	is_int(tw_conf_load_file(path, collector_root, &c, 0, &d), TW_ECONFIG,
	    "file over 4 MiB");
	ok(strstr(msgs(), ": the file is larger than 4 MiB") != NULL,
	    "too large message");
	unlink(path);

	tw_conf_diag_cleanup(&d);
	tw_conf_diag_init(&d);
	is_int(tw_conf_load_file("/nonexistent/trawl.yaml", collector_root,
	    &c, 0, &d), TW_EIO, "missing file");
	is_str(msgs(), "/nonexistent/trawl.yaml: cannot read: No such file or "
	    "directory", "missing file message");
	tw_conf_diag_cleanup(&d);
	tw_conf_diag_init(&d);
	is_int(tw_conf_load_file("/", collector_root, &c, 0, &d), TW_EIO,
	    "directory");
	is_str(msgs(), "/: cannot read: Is a directory", "directory message");
}

int
main(void)
{
	tw_conf_diag_init(&d);
	test_design_agent();
	test_design_collector();
	test_types();
	test_parse_public();
	test_defaults();
	test_required_unknown_duplicate();
	test_variants();
	test_interpolation();
	test_yaml_errors();
	test_limits();
	test_three_mistakes();
	test_too_many();
	test_table_check();
	test_reference();
	test_reload();
	test_file();
	tw_conf_free(types_keys, &t);
	tw_conf_diag_cleanup(&d);
	return done_testing();
}

/* fuzz_conf.c: fuzz target for the YAML config loader (lib/conf). */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A table with every type: sections, a plain list, variant list/section. */
struct f_http {
	char *listen;
	uint64_t timeout_ms;
};

struct f_agent {
	char *id;
	char *data_dir;
	struct f_http http;
	uint64_t spool_max;
	int64_t workers;
	bool debug;
	int log_format;
	struct tw_conf_strv labels;
};

struct f_input {
	char *type;
	struct tw_conf_strv paths;
	char *format;
	char *listen;
	uint64_t max_body;
	bool multiline;
};

struct f_route {
	char *match;
	int64_t weight;
	struct f_http http;
};

struct f_output {
	char *type;
	char *url;
	char *token_file;
	struct tw_conf_strv brokers;
	char *topic;
	uint64_t linger_ms;
};

struct f_conf {
	struct f_agent agent;
	struct tw_conf_list inputs;
	struct tw_conf_list routes;
	struct f_output output;
	struct tw_conf_strv rules;
};

static const char *const f_formats[] = { "text", "json", NULL };

static const struct tw_conf_key f_http_keys[] = {
	{ .name = "listen", .type = TW_CONF_ADDR,
	    .offset = offsetof(struct f_http, listen),
	    .def = "127.0.0.1:2021" },
	{ .name = "timeout", .type = TW_CONF_DURATION,
	    .offset = offsetof(struct f_http, timeout_ms), .def = "30s",
	    .min = 1, .max = 3600000, .flags = TW_CONF_RELOADABLE },
	{ NULL },
};

static const struct tw_conf_key f_agent_keys[] = {
	{ .name = "id", .type = TW_CONF_STR,
	    .offset = offsetof(struct f_agent, id) },
	{ .name = "data_dir", .type = TW_CONF_PATH,
	    .offset = offsetof(struct f_agent, data_dir),
	    .flags = TW_CONF_REQUIRED },
	{ .name = "http", .type = TW_CONF_SECTION,
	    .offset = offsetof(struct f_agent, http), .sub = f_http_keys },
	{ .name = "spool_max", .type = TW_CONF_SIZE,
	    .offset = offsetof(struct f_agent, spool_max), .def = "1GiB",
	    .min = 1 << 20, .max = TW_CONF_NOMAX },
	{ .name = "workers", .type = TW_CONF_INT,
	    .offset = offsetof(struct f_agent, workers), .def = "4", .min = 1,
	    .max = 64 },
	{ .name = "debug", .type = TW_CONF_BOOL,
	    .offset = offsetof(struct f_agent, debug), .def = "no",
	    .flags = TW_CONF_RELOADABLE },
	{ .name = "log_format", .type = TW_CONF_ENUM,
	    .offset = offsetof(struct f_agent, log_format), .def = "text",
	    .enum_values = f_formats },
	{ .name = "labels", .type = TW_CONF_STRLIST,
	    .offset = offsetof(struct f_agent, labels) },
	{ NULL },
};

static const struct tw_conf_key f_tail_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	    .offset = offsetof(struct f_input, type) },
	{ .name = "paths", .type = TW_CONF_STRLIST,
	    .offset = offsetof(struct f_input, paths),
	    .flags = TW_CONF_REQUIRED },
	{ .name = "format", .type = TW_CONF_STR,
	    .offset = offsetof(struct f_input, format), .def = "auto" },
	{ .name = "multiline", .type = TW_CONF_BOOL,
	    .offset = offsetof(struct f_input, multiline) },
	{ NULL },
};

static const struct tw_conf_key f_http_in_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	    .offset = offsetof(struct f_input, type) },
	{ .name = "listen", .type = TW_CONF_ADDR,
	    .offset = offsetof(struct f_input, listen),
	    .flags = TW_CONF_REQUIRED },
	{ .name = "format", .type = TW_CONF_STR,
	    .offset = offsetof(struct f_input, format), .def = "auto" },
	{ .name = "max_body", .type = TW_CONF_SIZE,
	    .offset = offsetof(struct f_input, max_body), .def = "8MiB" },
	{ NULL },
};

static const struct tw_conf_variant f_input_variants[] = {
	{ "tail", f_tail_keys },
	{ "http", f_http_in_keys },
	{ NULL, NULL },
};

static const struct tw_conf_key f_route_keys[] = {
	{ .name = "match", .type = TW_CONF_STR,
	    .offset = offsetof(struct f_route, match),
	    .flags = TW_CONF_REQUIRED },
	{ .name = "weight", .type = TW_CONF_INT,
	    .offset = offsetof(struct f_route, weight), .def = "1" },
	{ .name = "http", .type = TW_CONF_SECTION,
	    .offset = offsetof(struct f_route, http), .sub = f_http_keys },
	{ NULL },
};

static const struct tw_conf_key f_out_http_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	    .offset = offsetof(struct f_output, type) },
	{ .name = "url", .type = TW_CONF_STR,
	    .offset = offsetof(struct f_output, url),
	    .flags = TW_CONF_REQUIRED },
	{ .name = "token_file", .type = TW_CONF_PATH,
	    .offset = offsetof(struct f_output, token_file),
	    .flags = TW_CONF_SECRET },
	{ NULL },
};

static const struct tw_conf_key f_out_kafka_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	    .offset = offsetof(struct f_output, type) },
	{ .name = "brokers", .type = TW_CONF_STRLIST,
	    .offset = offsetof(struct f_output, brokers),
	    .flags = TW_CONF_REQUIRED },
	{ .name = "topic", .type = TW_CONF_STR,
	    .offset = offsetof(struct f_output, topic), .def = "trawl" },
	{ .name = "linger", .type = TW_CONF_DURATION,
	    .offset = offsetof(struct f_output, linger_ms), .def = "5ms" },
	{ NULL },
};

static const struct tw_conf_variant f_output_variants[] = {
	{ "http", f_out_http_keys },
	{ "kafka", f_out_kafka_keys },
	{ NULL, NULL },
};

static const struct tw_conf_key f_root[] = {
	{ .name = "agent", .type = TW_CONF_SECTION,
	    .offset = offsetof(struct f_conf, agent), .sub = f_agent_keys },
	{ .name = "inputs", .type = TW_CONF_LIST,
	    .offset = offsetof(struct f_conf, inputs),
	    .item_size = sizeof(struct f_input), .variants = f_input_variants },
	{ .name = "routes", .type = TW_CONF_LIST,
	    .offset = offsetof(struct f_conf, routes),
	    .item_size = sizeof(struct f_route), .sub = f_route_keys,
	    .flags = TW_CONF_RELOADABLE },
	{ .name = "output", .type = TW_CONF_SECTION,
	    .offset = offsetof(struct f_conf, output),
	    .variants = f_output_variants },
	{ .name = "rules", .type = TW_CONF_STRLIST,
	    .offset = offsetof(struct f_conf, rules),
	    .def = "/etc/trawl/rules" },
	{ NULL },
};

/*
 * Load the bytes twice, with and without interpolation; compare the two
 * for reload, look up positions, and free everything. Every message must
 * be a non-empty string.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_conf_diag d;
	struct f_conf a, b;
	int ra, rb, line, col;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	tw_conf_diag_init(&d);
	ra = tw_conf_load_mem("fuzz.yaml", (const char *)data, size, f_root,
	    &a, 0, &d);
	rb = tw_conf_load_mem("fuzz.yaml", (const char *)data, size, f_root,
	    &b, TW_CONF_OPT_ENV, &d);
	if (ra == 0 && rb == 0) {
		tw_ignore(tw_conf_reload_check(f_root, &a, &b, &d));
		tw_conf_diag_at(&d, "inputs[0].paths", "post-load check");
	}
	if (tw_conf_pos(&d, "agent.http.listen", &line, &col) == 0 &&
	    (line < 1 || col < 1))
		abort();
	for (size_t i = 0; i < tw_conf_diag_count(&d); i++) {
		const char *m = tw_conf_diag_msg(&d, i);

		if (m == NULL || m[0] == '\0')
			abort();
	}
	/* A failed load leaves nothing to free, a good one everything. */
	if (ra != 0 && (a.agent.id != NULL || a.inputs.items != NULL ||
	    a.rules.v != NULL))
		abort();
	tw_conf_free(f_root, &a);
	tw_conf_free(f_root, &b);
	tw_conf_diag_cleanup(&d);
	return 0;
}

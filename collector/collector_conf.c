/* collector_conf.c: trawl-collector's configuration: key table and checks. */
#include "config.h"

#include <stddef.h>

#include "collector_conf.h"

static const struct tw_conf_key self_keys[] = {
	{ .name = "data_dir", .type = TW_CONF_PATH,
	  .offset = offsetof(struct collector_self, data_dir),
	  .flags = TW_CONF_REQUIRED,
	  .desc = "Directory of the store, the alert log and the cursors." },
	{ .name = "listen", .type = TW_CONF_ADDR,
	  .offset = offsetof(struct collector_self, listen),
	  .def = "127.0.0.1:7400",
	  .desc = "Address of ingest and of /metrics, /healthz, /readyz." },
	{ .name = "tokens_file", .type = TW_CONF_PATH,
	  .offset = offsetof(struct collector_self, tokens_file),
	  .flags = TW_CONF_SECRET | TW_CONF_RELOADABLE,
	  .desc = "File of agent tokens, one \"<agent-id> <token>\" a line." },
	{ NULL },
};

static const struct tw_conf_key file_sink_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	  .offset = offsetof(struct collector_sink, type),
	  .flags = TW_CONF_REQUIRED, .desc = "Sink type: file." },
	{ .name = "path", .type = TW_CONF_PATH,
	  .offset = offsetof(struct collector_sink, path),
	  .flags = TW_CONF_REQUIRED,
	  .desc = "File the alerts are appended to as JSON lines." },
	{ NULL },
};

static const struct tw_conf_key webhook_sink_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	  .offset = offsetof(struct collector_sink, type),
	  .flags = TW_CONF_REQUIRED, .desc = "Sink type: webhook." },
	{ .name = "url", .type = TW_CONF_STR,
	  .offset = offsetof(struct collector_sink, url),
	  .flags = TW_CONF_REQUIRED, .desc = "Endpoint the alerts are "
	      "POSTed to." },
	{ .name = "secret_file", .type = TW_CONF_PATH,
	  .offset = offsetof(struct collector_sink, secret_file),
	  .flags = TW_CONF_SECRET | TW_CONF_RELOADABLE,
	  .desc = "File holding the whsec_ signing secret; enables Standard "
	      "Webhooks signatures." },
	{ NULL },
};

static const struct tw_conf_key kafka_sink_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	  .offset = offsetof(struct collector_sink, type),
	  .flags = TW_CONF_REQUIRED, .desc = "Sink type: kafka." },
	{ .name = "brokers", .type = TW_CONF_STR,
	  .offset = offsetof(struct collector_sink, brokers),
	  .flags = TW_CONF_REQUIRED,
	  .desc = "Bootstrap brokers, host:port[,host:port...]." },
	{ .name = "topic", .type = TW_CONF_STR,
	  .offset = offsetof(struct collector_sink, topic),
	  .flags = TW_CONF_REQUIRED, .desc = "Topic of the alerts." },
	{ NULL },
};

static const struct tw_conf_variant sink_variants[] = {
	{ "file", file_sink_keys },
	{ "webhook", webhook_sink_keys },
	{ "kafka", kafka_sink_keys },
	{ NULL },
};

const struct tw_conf_key collector_conf_keys[] = {
	{ .name = "collector", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct collector_conf, collector),
	  .sub = self_keys, .flags = TW_CONF_REQUIRED,
	  .desc = "The collector itself." },
	{ .name = "rules", .type = TW_CONF_STRLIST,
	  .offset = offsetof(struct collector_conf, rules),
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "Rule files or directories, native or Sigma." },
	{ .name = "sinks", .type = TW_CONF_LIST,
	  .offset = offsetof(struct collector_conf, sinks),
	  .item_size = sizeof(struct collector_sink),
	  .variants = sink_variants,
	  .desc = "Where alerts are delivered." },
	{ NULL },
};

int
collector_conf_load(const char *path, unsigned opts, struct collector_conf *c,
    struct tw_conf_diag *d)
{
	return tw_conf_load_file(path, collector_conf_keys, c, opts, d);
}

void
collector_conf_free(struct collector_conf *c)
{
	tw_conf_free(collector_conf_keys, c);
}

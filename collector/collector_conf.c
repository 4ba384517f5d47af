/* collector_conf.c: trawl-collector's configuration: key table and checks. */
#include "config.h"

#include <stddef.h>

#include "collector_conf.h"
#include "store_format.h"

static const struct tw_conf_key limits_keys[] = {
	{ .name = "body_max", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct collector_limits, body_max),
	  .def = "8MiB", .min = 1024, .max = (int64_t)1 << 30,
	  .desc = "Largest compressed request body; larger gets 413 before "
	      "it is read." },
	{ .name = "batch_max", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct collector_limits, batch_max),
	  .def = "64MiB", .min = 4096, .max = (int64_t)1 << 31,
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "Largest decompressed batch (413)." },
	{ .name = "ratio_max", .type = TW_CONF_INT,
	  .offset = offsetof(struct collector_limits, ratio_max),
	  .def = "100", .min = 1, .max = 100000, .flags = TW_CONF_RELOADABLE,
	  .desc = "Largest decompression ratio, against zstd bombs (413)." },
	{ .name = "records_max", .type = TW_CONF_INT,
	  .offset = offsetof(struct collector_limits, records_max),
	  .def = "100000", .min = 1, .max = 10000000,
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "Most records in one batch (413)." },
	{ .name = "record_max", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct collector_limits, record_max),
	  .def = "1MiB", .min = 64, .max = (int64_t)1 << 30,
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "Largest encoded record (413)." },
	{ .name = "depth_max", .type = TW_CONF_INT,
	  .offset = offsetof(struct collector_limits, depth_max),
	  .def = "32", .min = 2, .max = 64, .flags = TW_CONF_RELOADABLE,
	  .desc = "Deepest msgpack nesting in a record (400)." },
	{ .name = "map_max", .type = TW_CONF_INT,
	  .offset = offsetof(struct collector_limits, map_max),
	  .def = "65536", .min = 16, .max = 16777216,
	  .flags = TW_CONF_RELOADABLE,
	  .desc = "Most pairs in a map or elements in an array (400)." },
	{ NULL },
};

static const char *const signing_values[] = { "none", "hmac-sha256",
	"ed25519", NULL };

static const struct tw_conf_key store_keys[] = {
	{ .name = "segment_max_bytes", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct collector_store, segment_max_bytes),
	  .def = "128MiB", .min = 4096, .max = (int64_t)1 << 40,
	  .desc = "Seal a segment when it would grow past this." },
	{ .name = "segment_max_age", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct collector_store, segment_max_age_ms),
	  .def = "1h", .min = 0, .max = TW_CONF_NOMAX,
	  .desc = "Seal a segment once its first block is this old; 0 seals "
	      "by size only." },
	{ .name = "retention_bytes", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct collector_store, retention_bytes),
	  .def = "0", .min = 0, .max = TW_CONF_NOMAX,
	  .desc = "Delete the oldest sealed segments while the store is "
	      "larger; 0 keeps everything." },
	{ .name = "retention_age", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct collector_store, retention_age_ms),
	  .def = "0s", .min = 0, .max = TW_CONF_NOMAX,
	  .desc = "Delete sealed segments whose newest block is older; 0 "
	      "keeps everything." },
	{ .name = "checkpoint_signing", .type = TW_CONF_ENUM,
	  .offset = offsetof(struct collector_store, checkpoint_signing),
	  .def = "none", .enum_values = signing_values,
	  .desc = "How sealed segments' checkpoints are signed." },
	{ .name = "checkpoint_key_file", .type = TW_CONF_PATH,
	  .offset = offsetof(struct collector_store, checkpoint_key_file),
	  .flags = TW_CONF_SECRET,
	  .desc = "The signing key: an HMAC secret, or an Ed25519 PEM private "
	      "key." },
	{ NULL },
};

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
	  .desc = "File of agent tokens, one \"<agent-id> <token>\" a line; "
	      "without it ingest takes no authentication." },
	{ .name = "drain_timeout", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct collector_self, drain_timeout_ms),
	  .def = "10s", .min = 0, .max = 3600000,
	  .desc = "On SIGTERM, how long requests in flight may take to "
	      "finish." },
	{ .name = "limits", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct collector_self, limits),
	  .sub = limits_keys, .desc = "Limits on every ingested batch." },
	{ .name = "store", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct collector_self, store),
	  .sub = store_keys, .desc = "The tamper-evident segment store." },
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
	const struct collector_store *st = &c->collector.store;
	int r;

	if ((r = tw_conf_load_file(path, collector_conf_keys, c, opts, d)) != 0)
		return r;
	if (st->checkpoint_signing != 0 && st->checkpoint_key_file == NULL) {
		tw_conf_diag_at(d, "collector.store.checkpoint_signing",
		    "checkpoint_signing '%s' needs "
		    "'collector.store.checkpoint_key_file'",
		    tw_store_sig_name((enum tw_store_sig)st->checkpoint_signing));
		return TW_ECONFIG;
	}
	return 0;
}

void
collector_conf_free(struct collector_conf *c)
{
	tw_conf_free(collector_conf_keys, c);
}

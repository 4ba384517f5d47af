/* collector_conf.c: trawl-collector's configuration: key table and checks. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "collector_conf.h"
#include "kafka_input.h"
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
	  .desc = "Largest decompression ratio past the first MiB, against "
	      "zstd bombs (413)." },
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

static const struct tw_conf_key tls_keys[] = {
	{ .name = "cert_file", .type = TW_CONF_PATH,
	  .offset = offsetof(struct collector_tls, cert_file),
	  .desc = "PEM certificate chain of the server, leaf first; with "
	      "key_file the port serves HTTPS only (TLS 1.2 and 1.3)." },
	{ .name = "key_file", .type = TW_CONF_PATH,
	  .offset = offsetof(struct collector_tls, key_file),
	  .flags = TW_CONF_SECRET,
	  .desc = "PEM private key of cert_file, unencrypted." },
	{ .name = "client_ca_file", .type = TW_CONF_PATH,
	  .offset = offsetof(struct collector_tls, client_ca_file),
	  .desc = "PEM CA certificates: every request must then present a "
	      "client certificate they issued (403 otherwise), except GET "
	      "/healthz and /readyz for probes; tokens are checked too." },
	{ NULL },
};

static const struct tw_conf_key detect_keys[] = {
	{ .name = "enabled", .type = TW_CONF_BOOL,
	  .offset = offsetof(struct collector_detect, enabled),
	  .def = "true",
	  .desc = "Run the detect stage: evaluate the rules on every stored "
	      "record and append the alerts to the alert log." },
	{ .name = "poll", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct collector_detect, poll_ms),
	  .def = "100ms", .min = 1, .max = 60000,
	  .desc = "How often the detect stage looks for new blocks once it "
	      "has caught up with the store." },
	{ .name = "linger", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct collector_detect, linger_ms),
	  .def = "200ms", .min = 0, .max = 60000,
	  .desc = "While catching up, longest an alert waits to be committed "
	      "to the alert log with others (caught up, it is committed at "
	      "once)." },
	{ .name = "alerts_max", .type = TW_CONF_INT,
	  .offset = offsetof(struct collector_detect, alerts_max),
	  .def = "1000", .min = 1, .max = 1000000,
	  .desc = "Most alerts in one alert log block." },
	{ .name = "replay", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct collector_detect, replay_ms),
	  .def = "48h", .min = 0, .max = (int64_t)366 * 86400000,
	  .desc = "At start-up, threshold and throttle state is rebuilt by "
	      "re-evaluating (without alerting) the blocks before the cursor "
	      "whose records are at most this much older than the newest "
	      "record seen; make it at least the longest rule window. 0 "
	      "starts with empty state." },
	{ .name = "replay_max_bytes", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct collector_detect, replay_max_bytes),
	  .def = "1GiB", .min = 0, .max = TW_CONF_NOMAX,
	  .desc = "Most compressed block bytes such a replay reads; older "
	      "blocks are left out." },
	{ .name = "drain_timeout", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct collector_detect, drain_timeout_ms),
	  .def = "10s", .min = 0, .max = 3600000,
	  .desc = "On SIGTERM, how long detection may take to catch up with "
	      "the store, and then each sink to deliver what is in the alert "
	      "log; what is left is resumed at the next start." },
	{ .name = "sigma_skip", .type = TW_CONF_BOOL,
	  .offset = offsetof(struct collector_detect, sigma_skip),
	  .def = "false", .flags = TW_CONF_RELOADABLE,
	  .desc = "Load the other rules when a Sigma rule uses an unsupported "
	      "construct (it is logged and left out) instead of refusing the "
	      "whole rule set." },
	{ NULL },
};

static const struct tw_conf_key alert_log_keys[] = {
	{ .name = "segment_max_bytes", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct collector_alert_log, segment_max_bytes),
	  .def = "16MiB", .min = 4096, .max = (int64_t)1 << 40,
	  .desc = "Seal an alert log segment when it would grow past this." },
	{ .name = "segment_max_age", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct collector_alert_log, segment_max_age_ms),
	  .def = "1h", .min = 0, .max = TW_CONF_NOMAX,
	  .desc = "Seal an alert log segment once its first block is this "
	      "old; 0 seals by size only." },
	{ .name = "retention_bytes", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct collector_alert_log, retention_bytes),
	  .def = "0", .min = 0, .max = TW_CONF_NOMAX,
	  .desc = "Delete the oldest sealed alert log segments while the log "
	      "is larger, delivered or not; 0 keeps everything." },
	{ .name = "retention_age", .type = TW_CONF_DURATION,
	  .offset = offsetof(struct collector_alert_log, retention_age_ms),
	  .def = "0s", .min = 0, .max = TW_CONF_NOMAX,
	  .desc = "Delete sealed alert log segments whose newest block is "
	      "older, delivered or not; 0 keeps everything." },
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
	{ .name = "tls", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct collector_self, tls),
	  .sub = tls_keys, .desc = "HTTPS and client certificates (mTLS); "
	      "without it the port speaks plain HTTP. Read at start." },
	{ .name = "detect", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct collector_self, detect),
	  .sub = detect_keys, .desc = "The detect stage, which runs the "
	      "rules over the store." },
	{ .name = "alert_log", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct collector_self, alert_log),
	  .sub = alert_log_keys, .desc = "The alert log (<data_dir>/alerts), "
	      "which every sink follows with its own cursor; same block "
	      "format and signing as the store." },
	{ NULL },
};

/* Keys every sink type has (collector/sink.h). */
#define SINK_COMMON_KEYS \
	{ .name = "name", .type = TW_CONF_STR, \
	  .offset = offsetof(struct collector_sink, name), \
	  .desc = "Name of the sink's cursor (<data_dir>/cursors/sink-<name>) " \
	      "and metric label; default <type>-<hash of the destination>. " \
	      "Set it to keep the cursor when the destination changes." }, \
	{ .name = "queue_max", .type = TW_CONF_INT, \
	  .offset = offsetof(struct collector_sink, queue_max), \
	  .def = "10000", .min = 1, .max = 1000000, \
	  .desc = "Most alerts in flight in this sink (read from the alert " \
	      "log, not yet delivered); past it the sink stops reading." }

static const struct tw_conf_key file_sink_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	  .offset = offsetof(struct collector_sink, type),
	  .flags = TW_CONF_REQUIRED, .desc = "Sink type: file." },
	{ .name = "path", .type = TW_CONF_PATH,
	  .offset = offsetof(struct collector_sink, path),
	  .flags = TW_CONF_REQUIRED,
	  .desc = "File the alerts are appended to as JSON lines (fsync'd "
	      "before the cursor moves; reopened on SIGUSR1)." },
	SINK_COMMON_KEYS,
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
	SINK_COMMON_KEYS,
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
	SINK_COMMON_KEYS,
	{ NULL },
};

static const struct tw_conf_variant sink_variants[] = {
	{ "file", file_sink_keys },
	{ "webhook", webhook_sink_keys },
	{ "kafka", kafka_sink_keys },
	{ NULL },
};

static const char *const start_values[] = { "earliest", "latest", NULL };

static const struct tw_conf_key kafka_input_keys[] = {
	{ .name = "type", .type = TW_CONF_STR,
	  .offset = offsetof(struct collector_input, type),
	  .flags = TW_CONF_REQUIRED, .desc = "Input type: kafka." },
	{ .name = "brokers", .type = TW_CONF_STR,
	  .offset = offsetof(struct collector_input, brokers),
	  .flags = TW_CONF_REQUIRED,
	  .desc = "Bootstrap brokers, host:port[,host:port...]." },
	{ .name = "topic", .type = TW_CONF_STR,
	  .offset = offsetof(struct collector_input, topic),
	  .flags = TW_CONF_REQUIRED,
	  .desc = "Topic the agents produce their batches to "
	      "(docs/protocol.md, Kafka transport)." },
	{ .name = "group_id", .type = TW_CONF_STR,
	  .offset = offsetof(struct collector_input, group_id),
	  .def = "trawl-collector",
	  .desc = "Consumer group; collectors sharing it share the topic's "
	      "partitions." },
	{ .name = "start", .type = TW_CONF_ENUM,
	  .offset = offsetof(struct collector_input, start),
	  .def = "earliest", .enum_values = start_values,
	  .desc = "Where a group with no committed offset begins reading." },
	{ .name = "properties", .type = TW_CONF_STRLIST,
	  .offset = offsetof(struct collector_input, properties),
	  .desc = "librdkafka consumer properties as \"name=value\" (TLS, "
	      "SASL, timeouts); offsets, group and brokers are the input's "
	      "own and cannot be set here." },
	{ .name = "sasl_password_file", .type = TW_CONF_PATH,
	  .offset = offsetof(struct collector_input, sasl_password_file),
	  .flags = TW_CONF_SECRET,
	  .desc = "File holding the SASL password (sets sasl.password)." },
	{ .name = "deadletter_max", .type = TW_CONF_SIZE,
	  .offset = offsetof(struct collector_input, deadletter_max),
	  .def = "1GiB", .min = 0, .max = TW_CONF_NOMAX,
	  .desc = "Most bytes of refused messages kept in data_dir's "
	      "deadletter directory; past it they are counted and "
	      "dropped." },
	{ NULL },
};

static const struct tw_conf_variant input_variants[] = {
	{ "kafka", kafka_input_keys },
	{ NULL },
};

const struct tw_conf_key collector_conf_keys[] = {
	{ .name = "collector", .type = TW_CONF_SECTION,
	  .offset = offsetof(struct collector_conf, collector),
	  .sub = self_keys, .flags = TW_CONF_REQUIRED,
	  .desc = "The collector itself." },
	{ .name = "inputs", .type = TW_CONF_LIST,
	  .offset = offsetof(struct collector_conf, inputs),
	  .item_size = sizeof(struct collector_input),
	  .variants = input_variants,
	  .desc = "Where batches come from besides HTTP ingest." },
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

/* cert_file and key_file go together; client_ca_file needs both. */
static int
tls_check(const struct collector_tls *t, struct tw_conf_diag *d)
{
	if ((t->cert_file == NULL) != (t->key_file == NULL)) {
		tw_conf_diag_at(d, t->cert_file != NULL ?
		    "collector.tls.cert_file" : "collector.tls.key_file",
		    "'collector.tls.%s' needs 'collector.tls.%s'",
		    t->cert_file != NULL ? "cert_file" : "key_file",
		    t->cert_file != NULL ? "key_file" : "cert_file");
		return TW_ECONFIG;
	}
	if (t->client_ca_file != NULL && t->cert_file == NULL) {
		tw_conf_diag_at(d, "collector.tls.client_ca_file",
		    "'collector.tls.client_ca_file' needs "
		    "'collector.tls.cert_file' and 'collector.tls.key_file'");
		return TW_ECONFIG;
	}
	return 0;
}

/* Sink names become file names and must not collide. */
static int
sinks_check(const struct collector_conf *c, struct tw_conf_diag *d)
{
	const struct collector_sink *sk = c->sinks.items;
	char where[64];
	int r = 0;

	for (size_t i = 0; i < c->sinks.n; i++) {
		const char *n = sk[i].name;

		if (n == NULL)
			continue;
		snprintf(where, sizeof(where), "sinks[%zu].name", i);
		if (n[0] == '\0' || n[0] == '.' || strlen(n) > 100 ||
		    strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-") != strlen(n)) {
			tw_conf_diag_at(d, where, "sink name '%s' must be 1-100 "
			    "of [A-Za-z0-9._-], not starting with '.'", n);
			r = TW_ECONFIG;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (sk[j].name != NULL && strcmp(sk[j].name, n) == 0) {
				tw_conf_diag_at(d, where, "sink name '%s' is "
				    "used twice", n);
				r = TW_ECONFIG;
			}
	}
	return r;
}

int
collector_conf_load(const char *path, unsigned opts, struct collector_conf *c,
    struct tw_conf_diag *d)
{
	const struct collector_store *st = &c->collector.store;
	int r;

	if ((r = tw_conf_load_file(path, collector_conf_keys, c, opts, d)) != 0)
		return r;
	r = tls_check(&c->collector.tls, d);
	if (sinks_check(c, d) != 0)
		r = TW_ECONFIG;
	for (size_t i = 0; i < c->inputs.n; i++)
		if (kafka_input_check((struct collector_input *)c->inputs.items +
		    i, i, d) != 0)
			r = TW_ECONFIG;
	if (st->checkpoint_signing != 0 && st->checkpoint_key_file == NULL) {
		tw_conf_diag_at(d, "collector.store.checkpoint_signing",
		    "checkpoint_signing '%s' needs "
		    "'collector.store.checkpoint_key_file'",
		    tw_store_sig_name((enum tw_store_sig)st->checkpoint_signing));
		return TW_ECONFIG;
	}
	return r;
}

void
collector_conf_free(struct collector_conf *c)
{
	tw_conf_free(collector_conf_keys, c);
}

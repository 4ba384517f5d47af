/* kafka_tool.c: test helper: a librdkafka mock Kafka cluster, a producer
 * and a consumer, for the Kafka integration tests (no JVM). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "base64.h"
#include "buf.h"
#include "json.h"

#define VALUE_MAX ((size_t)64 << 20)
#define TOPICS_MAX 16
#define HEADERS_MAX 32
#define LINE_MAX_BYTES 1024

static volatile sig_atomic_t stopping;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: kafka-tool serve [--brokers N] [--topic T]... "
	    "[--partitions P]\n"
	    "       kafka-tool produce --bootstrap B --topic T [--key K]\n"
	    "                  [--header NAME=VALUE]... [--partition P] "
	    "[--timeout-ms MS] FILE\n"
	    "       kafka-tool consume --bootstrap B --topic T --group G\n"
	    "                  [--timeout-ms MS] [--count N]\n"
	    "serve: start an in-process mock cluster of N brokers (default "
	    "3) with each\n"
	    "  topic T (P partitions, default 3), print BOOTSTRAP=<list> and "
	    "run until\n"
	    "  stdin reaches EOF or SIGTERM. Control lines on stdin, each "
	    "answered by a\n"
	    "  line \"ok\" or \"error: ...\": down B | up B | leader T P B | "
	    "topic T P |\n"
	    "  rtt B MS.\n"
	    "produce: send FILE's bytes (- for stdin) as one message with "
	    "acks=all and\n"
	    "  idempotence; print {\"partition\":P,\"offset\":O} and exit 0 "
	    "once delivered.\n"
	    "consume: print each message as a JSON line {partition, offset, "
	    "key, headers,\n"
	    "  value_b64} until N messages (exit 0) or the timeout (exit 1 "
	    "when --count\n"
	    "  was not reached).\n");
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Set one property; 0, or -1 with the reason on stderr. */
static int
conf_set(rd_kafka_conf_t *c, const char *key, const char *value)
{
	char err[512];

	if (rd_kafka_conf_set(c, key, value, err, sizeof(err)) ==
	    RD_KAFKA_CONF_OK)
		return 0;
	fprintf(stderr, "kafka-tool: %s: %s\n", key, err);
	return -1;
}

static bool
parse_int(const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return s[0] != '\0' && *end == '\0' && errno == 0 && *out >= min &&
	    *out <= max;
}

/* One control line of serve; the answer goes to stdout. */
static void
control(rd_kafka_mock_cluster_t *mc, int replicas, char *line)
{
	char *argv[5], *save = NULL;
	long a = 0, b = 0, c = 0;
	int argc = 0, r = -1;

	for (char *t = strtok_r(line, " \t\r", &save); t != NULL && argc < 5;
	    t = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = t;
	if (argc == 0)
		return;
	if (argc == 2 && strcmp(argv[0], "down") == 0 &&
	    parse_int(argv[1], 1, 1000, &a))
		r = rd_kafka_mock_broker_set_down(mc, (int32_t)a);
	else if (argc == 2 && strcmp(argv[0], "up") == 0 &&
	    parse_int(argv[1], 1, 1000, &a))
		r = rd_kafka_mock_broker_set_up(mc, (int32_t)a);
	else if (argc == 3 && strcmp(argv[0], "rtt") == 0 &&
	    parse_int(argv[1], 1, 1000, &a) &&
	    parse_int(argv[2], 0, 3600000, &b))
		r = rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b);
	else if (argc == 4 && strcmp(argv[0], "leader") == 0 &&
	    parse_int(argv[2], 0, 100000, &b) &&
	    parse_int(argv[3], -1, 1000, &c))
		r = rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)b,
		    (int32_t)c);
	else if (argc == 3 && strcmp(argv[0], "topic") == 0 &&
	    parse_int(argv[2], 1, 100000, &b))
		r = rd_kafka_mock_topic_create(mc, argv[1], (int)b, replicas);
	else {
		printf("error: unknown command\n");
		fflush(stdout);
		return;
	}
	if (r == 0)
		printf("ok\n");
	else
		printf("error: %s\n", rd_kafka_err2str((rd_kafka_resp_err_t)r));
	fflush(stdout);
}

static int
serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "topic", required_argument, NULL, 't' },
		{ "partitions", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *topics[TOPICS_MAX];
	rd_kafka_mock_cluster_t *mc = NULL;
	rd_kafka_t *owner = NULL;
	rd_kafka_conf_t *conf;
	char err[512], line[LINE_MAX_BYTES];
	size_t ntopics = 0, have = 0;
	long brokers = 3, partitions = 3;
	int opt, rc = 2;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'b' && parse_int(optarg, 1, 100, &brokers))
			continue;
		if (opt == 'p' && parse_int(optarg, 1, 10000, &partitions))
			continue;
		if (opt == 't' && ntopics < TOPICS_MAX) {
			topics[ntopics++] = optarg;
			continue;
		}
		usage(stderr);
		return 2;
	}
	catch_signals();
	/* The cluster lives inside an otherwise idle client handle. */
	conf = rd_kafka_conf_new();
	if (conf_set(conf, "client.id", "kafka-tool-mock") != 0 ||
	    conf_set(conf, "log_level", "3") != 0) {
		rd_kafka_conf_destroy(conf);
		return 2;
	}
	/* rd_kafka_new() owns conf only when it succeeds. */
	if ((owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err,
	    sizeof(err))) == NULL) {
		rd_kafka_conf_destroy(conf);
		fprintf(stderr, "kafka-tool: %s\n", err);
		return 2;
	}
	if ((mc = rd_kafka_mock_cluster_new(owner, (int)brokers)) == NULL) {
		fprintf(stderr, "kafka-tool: cannot start the mock cluster\n");
		goto out;
	}
	for (size_t i = 0; i < ntopics; i++)
		if (rd_kafka_mock_topic_create(mc, topics[i], (int)partitions,
		    (int)(brokers < 3 ? brokers : 3)) != 0) {
			fprintf(stderr, "kafka-tool: cannot create %s\n",
			    topics[i]);
			goto out;
		}
	printf("BOOTSTRAP=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (!stopping) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		ssize_t n;
		char *nl;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((n = read(0, line + have, sizeof(line) - 1 - have)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break; /* EOF: whoever started us is gone */
		}
		have += (size_t)n;
		line[have] = '\0';
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			control(mc, (int)(brokers < 3 ? brokers : 3), line);
			have -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, have + 1);
		}
		if (have == sizeof(line) - 1)
			have = 0; /* an overlong line is dropped */
	}
	rc = 0;
out:
	if (mc != NULL)
		rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(owner);
	return rc;
}

/* Read path (- for stdin) whole into b. */
static int
read_value(const char *path, struct tw_buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int r = 0;

	if (f == NULL) {
		fprintf(stderr, "kafka-tool: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		r = tw_buf_add(b, chunk, n);
	if (r != 0 || ferror(f)) {
		fprintf(stderr, "kafka-tool: %s: cannot read\n", path);
		r = -1;
	}
	if (f != stdin)
		fclose(f);
	return r;
}

struct delivery {
	bool done;
	rd_kafka_resp_err_t err;
	int32_t partition;
	int64_t offset;
};

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct delivery *d = m->_private; /* the msg_opaque of producev */

	(void)rk;
	(void)opaque;
	d->done = true;
	d->err = m->err;
	d->partition = m->partition;
	d->offset = m->offset;
}

static int
produce(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bootstrap", required_argument, NULL, 'b' },
		{ "topic", required_argument, NULL, 't' },
		{ "key", required_argument, NULL, 'k' },
		{ "header", required_argument, NULL, 'H' },
		{ "partition", required_argument, NULL, 'p' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bootstrap = NULL, *topic = NULL, *key = NULL;
	const char *headers[HEADERS_MAX];
	struct delivery d = { .err = RD_KAFKA_RESP_ERR_NO_ERROR };
	rd_kafka_headers_t *hdrs = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk = NULL;
	rd_kafka_resp_err_t e;
	struct tw_buf value;
	long partition = RD_KAFKA_PARTITION_UA, timeout = 10000;
	size_t nheaders = 0, key_len;
	char err[512], num[32];
	int opt, rc = 2;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'b')
			bootstrap = optarg;
		else if (opt == 't')
			topic = optarg;
		else if (opt == 'k')
			key = optarg;
		else if (opt == 'H' && nheaders < HEADERS_MAX &&
		    strchr(optarg, '=') != NULL)
			headers[nheaders++] = optarg;
		else if (opt == 'p' && parse_int(optarg, 0, INT32_MAX,
		    &partition))
			;
		else if (opt == 'T' && parse_int(optarg, 1, 3600000, &timeout))
			;
		else {
			usage(stderr);
			return 2;
		}
	}
	if (bootstrap == NULL || topic == NULL || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	tw_buf_init(&value, VALUE_MAX);
	if (read_value(argv[optind], &value) != 0)
		goto out;
	conf = rd_kafka_conf_new();
	snprintf(num, sizeof(num), "%zu", value.len + 4096 > 1000000 ?
	    value.len + 4096 : 1000000);
	if (conf_set(conf, "bootstrap.servers", bootstrap) != 0 ||
	    conf_set(conf, "acks", "all") != 0 ||
	    conf_set(conf, "enable.idempotence", "true") != 0 ||
	    conf_set(conf, "message.max.bytes", num) != 0 ||
	    conf_set(conf, "linger.ms", "0") != 0 ||
	    conf_set(conf, "log_level", "3") != 0) {
		rd_kafka_conf_destroy(conf);
		goto out;
	}
	snprintf(num, sizeof(num), "%ld", timeout);
	tw_ignore(conf_set(conf, "message.timeout.ms", num));
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	/* rd_kafka_new() owns conf only when it succeeds. */
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err,
	    sizeof(err))) == NULL) {
		rd_kafka_conf_destroy(conf);
		fprintf(stderr, "kafka-tool: %s\n", err);
		goto out;
	}
	hdrs = rd_kafka_headers_new(nheaders);
	for (size_t i = 0; i < nheaders; i++) {
		const char *eq = strchr(headers[i], '=');

		tw_ignore((int)rd_kafka_header_add(hdrs, headers[i],
		    eq - headers[i], eq + 1, -1)); /* fails only on a RO list */
	}
	key_len = key != NULL ? strlen(key) : 0; /* the macro casts bare */
	/* producev takes hdrs only when it succeeds; value is copied. */
	e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
	    RD_KAFKA_V_PARTITION((int32_t)partition),
	    RD_KAFKA_V_KEY(key, key_len),
	    RD_KAFKA_V_VALUE(value.data, value.len),
	    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_headers_destroy(hdrs);
		fprintf(stderr, "kafka-tool: produce: %s\n",
		    rd_kafka_err2str(e));
		goto out;
	}
	tw_ignore((int)rd_kafka_flush(rk, (int)timeout + 1000));
	if (!d.done || d.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "kafka-tool: not delivered: %s\n",
		    d.done ? rd_kafka_err2str(d.err) : "timed out");
		rc = 1;
		goto out;
	}
	printf("{\"partition\":%" PRId32 ",\"offset\":%" PRId64 "}\n",
	    d.partition, d.offset);
	rc = 0;
out:
	if (rk != NULL)
		rd_kafka_destroy(rk);
	tw_buf_cleanup(&value);
	return rc;
}

/* One message as a JSON line on stdout. */
static int
print_message(const rd_kafka_message_t *m, struct tw_buf *b)
{
	rd_kafka_headers_t *hdrs = NULL;
	const char *name;
	const void *v;
	size_t vlen;
	int r;

	tw_buf_reset(b);
	r = tw_buf_addf(b, "{\"partition\":%" PRId32 ",\"offset\":%" PRId64
	    ",\"key\":", m->partition, m->offset);
	if (r == 0)
		r = m->key != NULL ? tw_json_add_string(b, m->key, m->key_len) :
		    tw_buf_adds(b, "null");
	if (r == 0)
		r = tw_buf_adds(b, ",\"headers\":{");
	/* The headers stay owned by the message. */
	if (r == 0 && rd_kafka_message_headers(m, &hdrs) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR)
		for (size_t i = 0; r == 0 && rd_kafka_header_get_all(hdrs, i,
		    &name, &v, &vlen) == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
			if (i > 0)
				r = tw_buf_addc(b, ',');
			if (r == 0)
				r = tw_json_add_string(b, name, strlen(name));
			if (r == 0)
				r = tw_buf_addc(b, ':');
			if (r == 0)
				r = v != NULL ? tw_json_add_string(b, v, vlen) :
				    tw_buf_adds(b, "null");
		}
	if (r == 0)
		r = tw_buf_adds(b, "},\"value_b64\":\"");
	if (r == 0 && m->payload != NULL)
		r = tw_base64_encode(b, m->payload, m->len);
	if (r == 0)
		r = tw_buf_adds(b, "\"}\n");
	if (r == 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
		r = TW_EIO;
	fflush(stdout);
	return r;
}

static int
consume(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bootstrap", required_argument, NULL, 'b' },
		{ "topic", required_argument, NULL, 't' },
		{ "group", required_argument, NULL, 'g' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "count", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bootstrap = NULL, *topic = NULL, *group = NULL;
	rd_kafka_topic_partition_list_t *topics;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	struct tw_buf line;
	long timeout = 10000, count = 0, got = 0;
	int64_t deadline;
	char err[512];
	int opt, rc = 2;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'b')
			bootstrap = optarg;
		else if (opt == 't')
			topic = optarg;
		else if (opt == 'g')
			group = optarg;
		else if (opt == 'T' && parse_int(optarg, 1, 3600000, &timeout))
			;
		else if (opt == 'n' && parse_int(optarg, 0, INT32_MAX, &count))
			;
		else {
			usage(stderr);
			return 2;
		}
	}
	if (bootstrap == NULL || topic == NULL || group == NULL ||
	    optind != argc) {
		usage(stderr);
		return 2;
	}
	catch_signals();
	conf = rd_kafka_conf_new();
	if (conf_set(conf, "bootstrap.servers", bootstrap) != 0 ||
	    conf_set(conf, "group.id", group) != 0 ||
	    conf_set(conf, "auto.offset.reset", "earliest") != 0 ||
	    conf_set(conf, "log_level", "3") != 0) {
		rd_kafka_conf_destroy(conf);
		return 2;
	}
	/* rd_kafka_new() owns conf only when it succeeds. */
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err,
	    sizeof(err))) == NULL) {
		rd_kafka_conf_destroy(conf);
		fprintf(stderr, "kafka-tool: %s\n", err);
		return 2;
	}
	rd_kafka_poll_set_consumer(rk);
	topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
	if (rd_kafka_subscribe(rk, topics) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "kafka-tool: cannot subscribe to %s\n", topic);
		goto out;
	}
	tw_buf_init(&line, VALUE_MAX * 2);
	deadline = now_ms() + timeout;
	while (!stopping && (count == 0 || got < count) &&
	    now_ms() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			if (print_message(m, &line) != 0)
				fprintf(stderr, "kafka-tool: cannot print "
				    "offset %" PRId64 "\n", m->offset);
			got++;
		} else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			fprintf(stderr, "kafka-tool: %s\n",
			    rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
	}
	tw_buf_cleanup(&line);
	rc = count == 0 || got >= count ? 0 : 1;
out:
	rd_kafka_topic_partition_list_destroy(topics);
	rd_kafka_consumer_close(rk); /* commits (auto commit) and leaves */
	rd_kafka_destroy(rk);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "serve") == 0)
		return serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "produce") == 0)
		return produce(argc - 1, argv + 1);
	if (strcmp(argv[1], "consume") == 0)
		return consume(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}

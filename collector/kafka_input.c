/* kafka_input.c: inputs[] of type kafka: consume the agents' batch topic as
 * a consumer group member, store each message as a block, and commit its
 * offset only once that block is durable. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "batch.h"
#include "batch_sink.h"
#include "httpd.h"
#include "kafka_input.h"
#include "log.h"
#include "metrics.h"

/*
 * One thread owns the consumer and handles one message at a time, so when
 * rd_kafka_consumer_poll() returns, every message it returned before has
 * been stored, found a duplicate, or dead-lettered, and its offset stored
 * (rd_kafka_offsets_store). Commits (asynchronous every COMMIT_MS,
 * synchronous on revoke and close) send only those stored offsets: with
 * enable.auto.offset.store=false nothing else is ever stored.
 *
 * A store failure stores no offset: the partition is paused and sought
 * back to the failed message, and resumed after a backoff, so the message
 * comes again; later messages of that partition are never handled first.
 */

#define POLL_MS 100
#define COMMIT_MS 1000
#define LAG_MS 1000
#define SEEK_MS 5000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define SECRET_MAX 4096
#define TOPIC_MAX 249 /* Kafka's own limit */
#define NUM_MAX 20    /* digits of a u64 */

enum result {
	RES_STORED,
	RES_DUPLICATE,
	RES_REJECTED,
	RES_N
};

static const char *const result_names[RES_N] = {
	"stored", "duplicate", "rejected",
};

/* Properties the input sets itself; properties: may not touch them. */
static const char *const reserved[] = {
	"bootstrap.servers", "metadata.broker.list", "group.id",
	"enable.auto.commit", "auto.commit.enable", "enable.auto.offset.store",
	"auto.offset.reset", "sasl.password", NULL,
};

/*
 * Readiness is one flag for the whole collector: it reads not ready while
 * any input holds messages back, and never ready again once draining.
 */
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned inputs_failing;
static bool inputs_draining;

struct kafka_input {
	char *topic;
	char *deadletter_dir;
	uint64_t deadletter_max, deadletter_bytes;
	struct batch_sink *sink;
	struct tw_httpd *httpd;
	rd_kafka_t *rk;
	pthread_t thread;
	bool running; /* thread started */
	atomic_bool stopping;
	pthread_mutex_t limits_lock;
	struct tw_batch_limits limits;

	/* Owned by the consumer thread. */
	struct tw_batch_dec *dec;
	struct tw_buf scratch;
	rd_kafka_topic_partition_list_t *held; /* .offset: message to retry */
	bool paused;	  /* the held partitions wait for retry_at */
	bool failing;	  /* counted in inputs_failing */
	int64_t retry_at; /* ms */
	int64_t backoff_ms;
	bool dirty;	  /* offsets stored since the last commit */
	int64_t last_commit, last_lag;

	struct tw_counter *messages[RES_N];
	struct tw_counter *retries, *errors, *deadletter_discarded;
	struct tw_gauge *lag;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
topic_valid(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > TOPIC_MAX || strcmp(t, ".") == 0 ||
	    strcmp(t, "..") == 0)
		return false;
	return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

/*
 * Set inputs[i].properties on conf. A refused one is described in *why
 * (malloc'd) and, when d is not NULL, added to d; 0 or TW_ECONFIG.
 */
static int
set_properties(rd_kafka_conf_t *conf, const struct collector_input *in,
    size_t i, struct tw_conf_diag *d, char **why)
{
	char name[256], err[512], where[64], msg[1024];
	int r = 0;

	snprintf(where, sizeof(where), "inputs[%zu].properties", i);
	for (size_t k = 0; k < in->properties.n; k++) {
		const char *p = in->properties.v[k], *eq = strchr(p, '=');
		size_t n = eq != NULL ? (size_t)(eq - p) : 0;
		bool own = false;

		if (n == 0 || n >= sizeof(name))
			snprintf(msg, sizeof(msg), "'%s' is not \"name=value\"",
			    p);
		else {
			memcpy(name, p, n);
			name[n] = '\0';
			for (size_t j = 0; reserved[j] != NULL; j++)
				own |= strcasecmp(name, reserved[j]) == 0;
			if (own)
				snprintf(msg, sizeof(msg), "property '%s' is "
				    "the input's own (set it with brokers, "
				    "group_id, start or sasl_password_file, "
				    "or not at all)", name);
			else if (rd_kafka_conf_set(conf, name, eq + 1, err,
			    sizeof(err)) == RD_KAFKA_CONF_OK)
				continue;
			else
				snprintf(msg, sizeof(msg), "property '%s': %s",
				    name, err);
		}
		if (d != NULL)
			tw_conf_diag_at(d, where, "%s", msg);
		if (why != NULL && *why == NULL)
			*why = strdup(msg);
		r = TW_ECONFIG;
	}
	return r;
}

int
kafka_input_check(const struct collector_input *in, size_t i,
    struct tw_conf_diag *d)
{
	rd_kafka_conf_t *conf;
	char where[64];
	int r = 0;

	if (!topic_valid(in->topic)) {
		snprintf(where, sizeof(where), "inputs[%zu].topic", i);
		tw_conf_diag_at(d, where, "'%s' is not a Kafka topic name "
		    "(1-249 of a-z A-Z 0-9 . _ -)", in->topic);
		r = TW_ECONFIG;
	}
	if ((conf = rd_kafka_conf_new()) == NULL)
		return TW_ENOMEM;
	if (set_properties(conf, in, i, d, NULL) != 0)
		r = TW_ECONFIG;
	rd_kafka_conf_destroy(conf);
	return r;
}

/* Mark the collector (not) ready for this input's sake. */
static void
set_failing(struct kafka_input *ki, bool failing)
{
	if (ki->failing == failing)
		return;
	ki->failing = failing;
	pthread_mutex_lock(&ready_lock);
	if (failing)
		inputs_failing++;
	else
		inputs_failing--;
	if (!inputs_draining && inputs_failing == (failing ? 1u : 0u))
		tw_httpd_set_ready(ki->httpd, !failing, failing ?
		    "kafka input cannot store messages (retrying)" : NULL);
	pthread_mutex_unlock(&ready_lock);
}

static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	/* syslog levels: 0-3 error, 4 warning, 5-6 notice/info, 7 debug */
	tw_log(level <= 3 ? TW_LOG_ERROR : level == 4 ? TW_LOG_WARN :
	    level <= 6 ? TW_LOG_INFO : TW_LOG_DEBUG, "kafka", "librdkafka",
	    "facility", fac, "text", buf, (char *)NULL);
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_input *ki = opaque;
	char fatal[512];

	tw_counter_inc(ki->errors);
	if (err != RD_KAFKA_RESP_ERR__FATAL) {
		/* Transient (a broker down...): librdkafka retries. */
		tw_warn("kafka", "consumer error", "topic", ki->topic, "error",
		    rd_kafka_err2name((rd_kafka_resp_err_t)err), "reason",
		    reason);
		return;
	}
	/* Served by consume(), on the thread that owns ki. */
	rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
	tw_error("kafka", "fatal consumer error; restart the collector",
	    "topic", ki->topic, "reason", fatal);
	set_failing(ki, true);
}

static void
commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	struct kafka_input *ki = opaque;

	(void)rk;
	(void)offsets;
	/* NO_OFFSET: nothing new was stored; the next commit retries. */
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR &&
	    err != RD_KAFKA_RESP_ERR__NO_OFFSET)
		tw_warn("kafka", "cannot commit offsets", "topic", ki->topic,
		    "error", rd_kafka_err2str(err));
}

/*
 * Commit the stored offsets, asynchronously (commit_cb reports) or waiting
 * for the broker. With the coordinator unreachable librdkafka holds a
 * commit up to session.timeout.ms before failing it, and closing waits for
 * commits in flight: that bounds how long a shutdown during an outage may
 * take. Whatever is not committed is read again by the next owner, and
 * found a duplicate.
 */
static void
commit(struct kafka_input *ki, bool wait)
{
	rd_kafka_resp_err_t e;

	ki->dirty = false;
	ki->last_commit = now_ms();
	e = rd_kafka_commit(ki->rk, NULL, wait ? 0 : 1);
	if (wait && e != RD_KAFKA_RESP_ERR_NO_ERROR &&
	    e != RD_KAFKA_RESP_ERR__NO_OFFSET)
		tw_warn("kafka", "cannot commit offsets; the next owner of "
		    "the partitions reads again what was not committed",
		    "topic", ki->topic, "error", rd_kafka_err2str(e));
}

/* Forget held partitions that were revoked, resuming them first. */
static void
unhold(struct kafka_input *ki, const rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_topic_partition_list_t *one;

	if (ki->held == NULL)
		return;
	for (int i = 0; i < parts->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &parts->elems[i];

		if (rd_kafka_topic_partition_list_find(ki->held, p->topic,
		    p->partition) == NULL)
			continue;
		one = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(one, p->topic, p->partition);
		tw_ignore((int)rd_kafka_resume_partitions(ki->rk, one));
		rd_kafka_topic_partition_list_destroy(one);
		rd_kafka_topic_partition_list_del(ki->held, p->topic,
		    p->partition);
	}
	if (ki->held->cnt == 0) {
		rd_kafka_topic_partition_list_destroy(ki->held);
		ki->held = NULL;
		ki->paused = false;
		set_failing(ki, false); /* nothing held back any more */
	}
}

static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct kafka_input *ki = opaque;
	bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk),
	    "COOPERATIVE") == 0;
	rd_kafka_error_t *e = NULL;

	/* parts stays librdkafka's; it is freed when this returns. */
	switch (err) {
	case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
		tw_info("kafka", "partitions assigned", "topic", ki->topic);
		if (cooperative)
			e = rd_kafka_incremental_assign(rk, parts);
		else
			tw_ignore((int)rd_kafka_assign(rk, parts));
		break;
	case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
		tw_info("kafka", "partitions revoked", "topic", ki->topic);
		/* Everything handled is durable: hand it on committed. */
		if (ki->dirty && !rd_kafka_assignment_lost(rk))
			commit(ki, true);
		unhold(ki, parts);
		if (cooperative)
			e = rd_kafka_incremental_unassign(rk, parts);
		else
			tw_ignore((int)rd_kafka_assign(rk, NULL));
		break;
	default:
		tw_warn("kafka", "rebalance failed", "topic", ki->topic,
		    "error", rd_kafka_err2str(err));
		unhold(ki, parts);
		tw_ignore((int)rd_kafka_assign(rk, NULL));
		break;
	}
	if (e != NULL) {
		tw_warn("kafka", "cannot change the assignment", "topic",
		    ki->topic, "error", rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
	}
}

/* The message is dealt with for good: its offset may be committed. */
static void
done(struct kafka_input *ki, const rd_kafka_message_t *m)
{
	rd_kafka_topic_partition_list_t *one;
	rd_kafka_resp_err_t e;

	one = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(one, ki->topic,
	    m->partition)->offset = m->offset + 1; /* the next to read */
	e = rd_kafka_offsets_store(ki->rk, one);
	rd_kafka_topic_partition_list_destroy(one);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		tw_warn("kafka", "cannot store an offset", "topic", ki->topic,
		    "error", rd_kafka_err2str(e));
	else
		ki->dirty = true;
	if (ki->held != NULL && rd_kafka_topic_partition_list_del(ki->held,
	    ki->topic, m->partition) && ki->held->cnt == 0) {
		rd_kafka_topic_partition_list_destroy(ki->held);
		ki->held = NULL;
	}
	if (ki->held == NULL)
		set_failing(ki, false);
}

/* Seek one partition back to offset; 0 or -1 (logged). */
static int
seek_back(struct kafka_input *ki, int32_t partition, int64_t offset)
{
	rd_kafka_topic_partition_list_t *one;
	rd_kafka_error_t *e;
	int r = 0;

	one = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(one, ki->topic, partition)->offset =
	    offset;
	/* Also drops what was prefetched from this partition. */
	if ((e = rd_kafka_seek_partitions(ki->rk, one, SEEK_MS)) != NULL) {
		tw_warn("kafka", "cannot seek back; will try again", "topic",
		    ki->topic, "error", rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
		r = -1;
	} else if (one->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		tw_warn("kafka", "cannot seek back; will try again", "topic",
		    ki->topic, "error", rd_kafka_err2str(one->elems[0].err));
		r = -1;
	}
	rd_kafka_topic_partition_list_destroy(one);
	return r;
}

/*
 * The message could not be dealt with (the store failed): commit nothing
 * for it, pause its partition, seek back to it and retry after a backoff.
 */
static void
hold(struct kafka_input *ki, const rd_kafka_message_t *m, const char *why)
{
	rd_kafka_topic_partition_list_t *one;
	rd_kafka_topic_partition_t *p;
	char part[16], off[24], wait[24];

	tw_counter_inc(ki->retries);
	set_failing(ki, true);
	if (ki->held == NULL)
		ki->held = rd_kafka_topic_partition_list_new(4);
	if ((p = rd_kafka_topic_partition_list_find(ki->held, ki->topic,
	    m->partition)) == NULL)
		p = rd_kafka_topic_partition_list_add(ki->held, ki->topic,
		    m->partition);
	p->offset = m->offset;
	one = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(one, ki->topic, m->partition);
	tw_ignore((int)rd_kafka_pause_partitions(ki->rk, one));
	rd_kafka_topic_partition_list_destroy(one);
	/* A failed seek is repeated before the partition resumes. */
	p->err = seek_back(ki, m->partition, m->offset) == 0 ?
	    RD_KAFKA_RESP_ERR_NO_ERROR : RD_KAFKA_RESP_ERR__STATE;
	ki->backoff_ms = ki->backoff_ms == 0 ? BACKOFF_MIN_MS :
	    ki->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    ki->backoff_ms * 2;
	ki->retry_at = now_ms() + ki->backoff_ms;
	ki->paused = true;
	snprintf(part, sizeof(part), "%" PRId32, m->partition);
	snprintf(off, sizeof(off), "%" PRId64, m->offset);
	snprintf(wait, sizeof(wait), "%" PRId64 "ms", ki->backoff_ms);
	tw_error("kafka", "cannot store a message; will retry it", "topic",
	    ki->topic, "partition", part, "offset", off, "error", why,
	    "retry_in", wait);
}

/* The backoff is over: seek again where that failed, then resume. */
static void
retry_held(struct kafka_input *ki)
{
	for (int i = 0; i < ki->held->cnt; i++) {
		rd_kafka_topic_partition_t *p = &ki->held->elems[i];

		if (p->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			if (seek_back(ki, p->partition, p->offset) != 0) {
				ki->retry_at = now_ms() + ki->backoff_ms;
				return;
			}
			p->err = RD_KAFKA_RESP_ERR_NO_ERROR;
		}
	}
	tw_ignore((int)rd_kafka_resume_partitions(ki->rk, ki->held));
	ki->paused = false;
}

/*
 * Write a refused message's value to deadletter/<topic>-<partition>-<offset>
 * durably (tmp, fsync, rename, fsync the directory) before its offset may
 * be committed. 0 or TW_EIO (errno set).
 */
static int
dead_letter(struct kafka_input *ki, const rd_kafka_message_t *m,
    char *path, size_t size)
{
	char tmp[4096 + 8];
	const char *p = m->payload;
	size_t left = m->payload != NULL ? m->len : 0;
	int fd = -1, dfd = -1, r = TW_EIO;
	ssize_t n;

	snprintf(path, size, "%s/%s-%" PRId32 "-%" PRId64, ki->deadletter_dir,
	    ki->topic, m->partition, m->offset);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) ==
	    -1)
		goto out;
	for (; left > 0; p += n, left -= (size_t)n)
		if ((n = write(fd, p, left)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			goto out;
		}
	if (fsync(fd) == -1)
		goto out;
	n = close(fd);
	fd = -1;
	if (n == -1 || rename(tmp, path) == -1)
		goto out;
	if ((dfd = open(ki->deadletter_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || fsync(dfd) == -1)
		goto out;
	r = 0;
out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (r != 0) {
		int saved = errno;

		unlink(tmp);
		errno = saved;
	}
	return r;
}

/* Bytes in the dead-letter directory now (its files' sizes). */
static uint64_t
deadletter_size(const char *dir)
{
	struct dirent *de;
	struct stat st;
	uint64_t total = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    0 && S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	closedir(d);
	return total;
}

/*
 * The value of the only header called name, as a C string in buf; false
 * when it is missing, repeated, empty, too long or holds a NUL.
 */
static bool
header(rd_kafka_headers_t *hdrs, const char *name, char *buf, size_t size)
{
	const void *v, *again;
	size_t n, n2;

	if (hdrs == NULL || rd_kafka_header_get(hdrs, 0, name, &v, &n) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get(hdrs, 1, name, &again, &n2) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	if (v == NULL || n == 0 || n >= size || memchr(v, '\0', n) != NULL)
		return false;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return true;
}

/* The batch's identity from the message's headers (docs/protocol.md). */
static bool
identity(const rd_kafka_message_t *m, char *agent, uint64_t *seq,
    uint64_t *records)
{
	rd_kafka_headers_t *hdrs = NULL; /* owned by the message */
	char num[NUM_MAX + 1];

	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	if (!header(hdrs, TW_BATCH_KAFKA_AGENT, agent,
	    BATCH_AGENT_ID_MAX + 1) || !batch_agent_id_valid(agent,
	    strlen(agent)))
		return false;
	if (!header(hdrs, TW_BATCH_KAFKA_SEQ, num, sizeof(num)) ||
	    !batch_parse_u64(num, strlen(num), seq))
		return false;
	return header(hdrs, TW_BATCH_KAFKA_RECORDS, num, sizeof(num)) &&
	    batch_parse_u64(num, strlen(num), records);
}

static enum batch_verdict
refuse(struct batch_result *res, enum batch_reject why, const char *message)
{
	res->verdict = BATCH_REFUSED;
	res->reason = why;
	res->status = why == BATCH_REJ_LIMIT ? 413 : 400;
	res->message = message;
	return BATCH_REFUSED;
}

/* Validate, store and account for one message. */
static void
handle(struct kafka_input *ki, const rd_kafka_message_t *m)
{
	struct tw_batch_limits lim;
	struct batch_result res;
	enum batch_verdict v;
	char agent[BATCH_AGENT_ID_MAX + 1], part[16], off[24], path[4096];
	uint64_t seq = 0, records = 0;

	/* Prefetched before its partition was held: it comes again. */
	if (ki->paused && rd_kafka_topic_partition_list_find(ki->held,
	    ki->topic, m->partition) != NULL)
		return;
	pthread_mutex_lock(&ki->limits_lock);
	lim = ki->limits;
	pthread_mutex_unlock(&ki->limits_lock);
	if (!identity(m, agent, &seq, &records))
		v = refuse(&res, BATCH_REJ_BAD_REQUEST, "missing or invalid "
		    "trawl-agent, trawl-batch or trawl-records header");
	else if (records > lim.records_max)
		v = refuse(&res, BATCH_REJ_LIMIT,
		    "more records than records_max");
	else if (batch_sink_known(ki->sink, agent, seq))
		v = BATCH_DUPLICATE;
	else
		v = batch_sink_put(ki->sink, ki->dec, &ki->scratch, &lim,
		    agent, seq, (int64_t)records, m->payload,
		    m->payload != NULL ? m->len : 0, &res);
	switch (v) {
	case BATCH_STORED:
	case BATCH_DUPLICATE:
		ki->backoff_ms = 0;
		done(ki, m);
		tw_counter_inc(ki->messages[v == BATCH_STORED ? RES_STORED :
		    RES_DUPLICATE]);
		return;
	case BATCH_REFUSED:
		if (ki->deadletter_bytes + m->len > ki->deadletter_max) {
			tw_counter_inc(ki->deadletter_discarded);
			snprintf(path, sizeof(path), "(none: deadletter_max "
			    "reached)");
		} else if (dead_letter(ki, m, path, sizeof(path)) != 0) {
			hold(ki, m, "cannot write the dead letter");
			return;
		} else
			ki->deadletter_bytes += m->len;
		ki->backoff_ms = 0;
		done(ki, m);
		batch_sink_reject(ki->sink, res.reason);
		tw_counter_inc(ki->messages[RES_REJECTED]);
		snprintf(part, sizeof(part), "%" PRId32, m->partition);
		snprintf(off, sizeof(off), "%" PRId64, m->offset);
		tw_warn("kafka", "message refused", "topic",
		    ki->topic, "partition", part, "offset", off, "reason",
		    batch_reject_name(res.reason), "error", res.message,
		    "file", path);
		return;
	case BATCH_FAILED:
		hold(ki, m, res.message);
		return;
	}
}

/* Queue lag: high watermark minus position over the assignment. */
static void
update_lag(struct kafka_input *ki)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	int64_t lag = 0, lo, hi;

	ki->last_lag = now_ms();
	if (rd_kafka_assignment(ki->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	tw_ignore((int)rd_kafka_position(ki->rk, parts));
	for (int i = 0; i < parts->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &parts->elems[i];

		/* Cached watermarks (from fetches): no broker round trip. */
		if (p->offset >= 0 && rd_kafka_get_watermark_offsets(ki->rk,
		    p->topic, p->partition, &lo, &hi) ==
		    RD_KAFKA_RESP_ERR_NO_ERROR && hi > p->offset)
			lag += hi - p->offset;
	}
	rd_kafka_topic_partition_list_destroy(parts);
	tw_gauge_set(ki->lag, (double)lag);
}

static void *
consume(void *arg)
{
	struct kafka_input *ki = arg;
	rd_kafka_resp_err_t e;
	int64_t now;

	while (!atomic_load(&ki->stopping)) {
		rd_kafka_message_t *m;

		if (ki->paused && now_ms() >= ki->retry_at)
			retry_held(ki);
		/* Also serves the rebalance, error and commit callbacks. */
		if ((m = rd_kafka_consumer_poll(ki->rk, POLL_MS)) != NULL) {
			if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
				handle(ki, m);
			else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
				tw_counter_inc(ki->errors);
				tw_warn("kafka", "consumer error", "topic",
				    ki->topic, "error",
				    rd_kafka_message_errstr(m));
			}
			rd_kafka_message_destroy(m);
		}
		now = now_ms();
		if (ki->dirty && now - ki->last_commit >= COMMIT_MS)
			commit(ki, false);
		if (now - ki->last_lag >= LAG_MS)
			update_lag(ki);
	}
	/* Commit what is durable, then revoke (rebalance_cb) and leave. */
	if (ki->dirty && !rd_kafka_assignment_lost(ki->rk))
		commit(ki, true);
	if ((e = rd_kafka_consumer_close(ki->rk)) != RD_KAFKA_RESP_ERR_NO_ERROR)
		tw_warn("kafka", "cannot close the consumer cleanly", "topic",
		    ki->topic, "error", rd_kafka_err2str(e));
	set_failing(ki, false);
	tw_info("kafka", "consumer closed", "topic", ki->topic);
	return NULL;
}

/* The contents of a secret file, trailing newline cut; NULL on error. */
static char *
read_secret(const char *path, char **why)
{
	char buf[SECRET_MAX + 1], msg[512], *secret = NULL;
	size_t n = 0;
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
		*why = strdup(msg);
		return NULL;
	}
	while (n < sizeof(buf) - 1 &&
	    (got = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)got;
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n == 0 || n == SECRET_MAX || strcspn(buf, "\r\n") != n) {
		snprintf(msg, sizeof(msg), "%s: not one line of text under "
		    "%d bytes", path, SECRET_MAX);
		*why = strdup(msg);
	} else
		secret = strdup(buf); /* the caller wipes and frees it */
	explicit_bzero(buf, sizeof(buf));
	return secret;
}

/* The consumer's configuration; NULL with *why. */
static rd_kafka_conf_t *
make_conf(struct kafka_input *ki, const struct collector_input *in,
    char **why)
{
	const char *fixed[][2] = {
		{ "bootstrap.servers", in->brokers },
		{ "group.id", in->group_id },
		{ "auto.offset.reset", in->start == KAFKA_START_LATEST ?
		    "latest" : "earliest" },
		/* Offsets are stored and committed by hand, once durable. */
		{ "enable.auto.commit", "false" },
		{ "enable.auto.offset.store", "false" },
		{ "client.id", "trawl-collector" },
	};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512], msg[768], *password = NULL;
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(fixed) / sizeof(fixed[0]);
	    i++)
		if (rd_kafka_conf_set(conf, fixed[i][0], fixed[i][1], err,
		    sizeof(err)) != RD_KAFKA_CONF_OK) {
			snprintf(msg, sizeof(msg), "%s: %s", fixed[i][0], err);
			*why = strdup(msg);
			r = TW_ECONFIG;
		}
	if (r == 0)
		r = set_properties(conf, in, 0, NULL, why);
	if (r == 0 && in->sasl_password_file != NULL) {
		if ((password = read_secret(in->sasl_password_file, why)) ==
		    NULL)
			r = TW_ECONFIG;
		else if (rd_kafka_conf_set(conf, "sasl.password", password,
		    err, sizeof(err)) != RD_KAFKA_CONF_OK) {
			snprintf(msg, sizeof(msg), "sasl.password: %s", err);
			*why = strdup(msg);
			r = TW_ECONFIG;
		}
		if (password != NULL) {
			explicit_bzero(password, strlen(password));
			free(password);
		}
	}
	if (r != 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, ki);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);
	return conf;
}

static void
register_metrics(struct kafka_input *ki, struct tw_metrics *m)
{
	char labels[TOPIC_MAX + 16];

	for (size_t i = 0; i < RES_N; i++) {
		snprintf(labels, sizeof(labels), "result=\"%s\"",
		    result_names[i]);
		ki->messages[i] = tw_metrics_counter(m,
		    "trawl_collector_kafka_messages_total",
		    "Kafka messages dealt with, by result; their offsets may "
		    "be committed.", labels);
	}
	ki->retries = tw_metrics_counter(m,
	    "trawl_collector_kafka_store_retries_total",
	    "Kafka messages held back by a store failure, to be retried.",
	    NULL);
	ki->deadletter_discarded = tw_metrics_counter(m,
	    "trawl_collector_kafka_deadletter_discarded_total",
	    "Refused Kafka messages not written to the dead-letter directory "
	    "because it held deadletter_max bytes.", NULL);
	ki->errors = tw_metrics_counter(m,
	    "trawl_collector_kafka_errors_total",
	    "Consumer errors reported by librdkafka (brokers unreachable...).",
	    NULL);
	/* Topic names are [a-zA-Z0-9._-]: nothing to escape. */
	snprintf(labels, sizeof(labels), "topic=\"%s\"", ki->topic);
	ki->lag = tw_metrics_gauge(m, "trawl_collector_kafka_lag",
	    "Messages of the assigned partitions not read yet.", labels);
}

struct kafka_input *
kafka_input_new(const struct collector_conf *conf,
    const struct collector_input *in, struct batch_sink *sink,
    struct tw_metrics *m, struct tw_httpd *h, char **why)
{
	rd_kafka_topic_partition_list_t *topics;
	struct kafka_input *ki;
	rd_kafka_conf_t *kconf;
	rd_kafka_resp_err_t e;
	char err[512], msg[768];
	size_t n;

	if ((ki = calloc(1, sizeof(*ki))) == NULL)
		return NULL;
	ki->sink = sink;
	ki->httpd = h;
	tw_buf_init(&ki->scratch, (size_t)1 << 31);
	batch_limits_from_conf(&conf->collector.limits, &ki->limits);
	pthread_mutex_init(&ki->limits_lock, NULL);
	n = strlen(conf->collector.data_dir) + sizeof("/deadletter");
	if ((ki->topic = strdup(in->topic)) == NULL ||
	    (ki->deadletter_dir = malloc(n)) == NULL ||
	    (ki->dec = tw_batch_dec_new()) == NULL)
		goto fail;
	snprintf(ki->deadletter_dir, n, "%s/deadletter",
	    conf->collector.data_dir);
	if (mkdir(ki->deadletter_dir, 0750) == -1 && errno != EEXIST) {
		snprintf(msg, sizeof(msg), "%s: %s", ki->deadletter_dir,
		    strerror(errno));
		*why = strdup(msg);
		goto fail;
	}
	ki->deadletter_max = in->deadletter_max;
	ki->deadletter_bytes = deadletter_size(ki->deadletter_dir);
	register_metrics(ki, m);
	if ((kconf = make_conf(ki, in, why)) == NULL)
		goto fail;
	/* rd_kafka_new() takes kconf only when it succeeds. */
	if ((ki->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, err,
	    sizeof(err))) == NULL) {
		rd_kafka_conf_destroy(kconf);
		*why = strdup(err);
		goto fail;
	}
	/* One queue for messages and callbacks, served by consume(). */
	rd_kafka_poll_set_consumer(ki->rk);
	topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, ki->topic,
	    RD_KAFKA_PARTITION_UA);
	e = rd_kafka_subscribe(ki->rk, topics); /* copies topics */
	rd_kafka_topic_partition_list_destroy(topics);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(msg, sizeof(msg), "cannot subscribe to %s: %s",
		    ki->topic, rd_kafka_err2str(e));
		*why = strdup(msg);
		goto fail;
	}
	ki->last_commit = ki->last_lag = now_ms();
	/* Inherits the blocked signals of the caller (tw_daemon_main). */
	if (pthread_create(&ki->thread, NULL, consume, ki) != 0)
		goto fail;
	ki->running = true;
	tw_info("kafka", "consuming", "topic", ki->topic, "group",
	    in->group_id, "brokers", in->brokers);
	return ki;
fail:
	kafka_input_free(ki);
	return NULL;
}

void
kafka_input_reload(struct kafka_input *ki, const struct collector_conf *conf)
{
	struct tw_batch_limits lim;

	batch_limits_from_conf(&conf->collector.limits, &lim);
	pthread_mutex_lock(&ki->limits_lock);
	ki->limits = lim;
	pthread_mutex_unlock(&ki->limits_lock);
}

void
kafka_input_drain(struct kafka_input *ki)
{
	pthread_mutex_lock(&ready_lock);
	/* /readyz already says shutting down; nothing may undo that. */
	inputs_draining = true;
	pthread_mutex_unlock(&ready_lock);
	atomic_store(&ki->stopping, true);
}

void
kafka_input_free(struct kafka_input *ki)
{
	if (ki == NULL)
		return;
	if (ki->running) {
		kafka_input_drain(ki);
		pthread_join(ki->thread, NULL);
	}
	/* Closed by consume() if it ran; else this closes it. */
	if (ki->rk != NULL)
		rd_kafka_destroy(ki->rk);
	if (ki->held != NULL)
		rd_kafka_topic_partition_list_destroy(ki->held);
	tw_batch_dec_free(ki->dec);
	tw_buf_cleanup(&ki->scratch);
	pthread_mutex_destroy(&ki->limits_lock);
	free(ki->deadletter_dir);
	free(ki->topic);
	free(ki);
}

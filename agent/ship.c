/* ship.c: the shipper: sends spooled batches to the collector over HTTP(S)
 * and deals with every answer. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "batch.h"
#include "fsio.h"
#include "log.h"
#include "metrics.h"
#include "seq.h"
#include "ship.h"
#include "spool.h"

#define TOKEN_MAX 4096
#define RESP_MAX ((size_t)64 << 10)	/* response body kept */
#define RETRY_AFTER_DEFAULT_MS 5000
#define RETRY_AFTER_MAX_MS 3600000
#define POLL_MAX_MS 1000
#define CONNECT_TIMEOUT_MAX_MS 10000
#define BATCH_CONTENT_TYPE "application/vnd.trawl.batch+msgpack"

/* What a reload may change. */
struct ship_cfg {
	char *token; /* NULL: none */
	char *ca_file, *cert_file, *key_file;
	uint64_t timeout_ms, backoff_min_ms, backoff_max_ms, auth_retry_ms;
};

/* One spooled batch, queued or in flight. */
struct item {
	struct item *next;
	uint64_t seq, size;
	uint32_t records;
	char *agent;
	/* in flight */
	CURL *easy;
	struct curl_slist *hdrs;
	struct tw_buf file;
	struct spool_hdr hdr;
	const void *frame;
	struct tw_buf resp;
	char retry_after[64];
	char errbuf[CURL_ERROR_SIZE];
};

struct ship {
	struct spool *spool;
	struct seq *seq;
	char *url;
	unsigned max_in_flight;
	ship_space_fn space_fn;
	void *space_arg;

	pthread_mutex_t lock; /* guards the fields up to the thread's own */
	struct item *incoming;
	struct ship_cfg *cfg_next;
	bool stop, draining;
	int64_t drain_deadline_ms;

	pthread_t thread;
	bool started, curl_ready;
	CURLM *multi;
	/* The thread's own. */
	struct ship_cfg cfg;
	struct item *queue; /* by seq */
	struct item *inflight;
	unsigned ninflight;
	int64_t pause_until_ms;
	unsigned failures;
	bool auth_blocked;
	uint64_t rng;
	struct tw_batch_dec *dec;
	struct tw_batch_enc *enc;
	struct tw_buf scratch;

	struct tw_counter *sent, *acked, *duplicates, *records_acked;
	struct tw_counter *split, *retries;
	struct tw_counter *fail_network, *fail_server, *fail_throttled;
	struct tw_counter *fail_auth, *fail_other;
	struct tw_gauge *auth_failed, *in_flight, *queued;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- configuration --- */

static void
cfg_cleanup(struct ship_cfg *c)
{
	if (c->token != NULL)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	memset(c, 0, sizeof(*c));
}

/* The bearer token in path: one line, surrounding white space dropped. */
static int
read_token(const char *path, char **out, char **why)
{
	struct tw_buf b;
	size_t start = 0, end;
	int r;

	*out = NULL;
	tw_buf_init(&b, TOKEN_MAX + 1);
	if ((r = fsio_read_file(AT_FDCWD, path, TOKEN_MAX, &b)) != 0) {
		if (asprintf(why, "%s: %s", path, r == TW_EIO ?
		    strerror(errno) : r == TW_ENOTFOUND ? "no such file" :
		    tw_strerror(r)) < 0)
			*why = NULL;
		goto out;
	}
	end = b.len;
	while (start < end && isspace((unsigned char)b.data[start]))
		start++;
	while (end > start && isspace((unsigned char)b.data[end - 1]))
		end--;
	for (size_t i = start; i < end; i++)
		if ((unsigned char)b.data[i] < 0x21 ||
		    (unsigned char)b.data[i] > 0x7e) {
			r = TW_ECONFIG;
			break;
		}
	if (r != 0 || start == end) {
		r = TW_ECONFIG;
		if (asprintf(why, "%s: the token must be one word of "
		    "printable ASCII", path) < 0)
			*why = NULL;
		goto out;
	}
	if ((*out = strndup(b.data + start, end - start)) == NULL)
		r = TW_ENOMEM;
out:
	if (b.data != NULL)
		explicit_bzero(b.data, b.cap);
	tw_buf_cleanup(&b);
	return r;
}

static int
dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (s != NULL && (*out = strdup(s)) == NULL)
		return TW_ENOMEM;
	return 0;
}

static int
cfg_load(const struct agent_output *o, struct ship_cfg *c, char **why)
{
	int r;

	memset(c, 0, sizeof(*c));
	if (o->token_file != NULL &&
	    (r = read_token(o->token_file, &c->token, why)) != 0)
		goto fail;
	if ((r = dup_opt(o->ca_file, &c->ca_file)) != 0 ||
	    (r = dup_opt(o->cert_file, &c->cert_file)) != 0 ||
	    (r = dup_opt(o->key_file, &c->key_file)) != 0)
		goto fail;
	c->timeout_ms = o->timeout_ms;
	c->backoff_min_ms = o->backoff_min_ms;
	c->backoff_max_ms = o->backoff_max_ms;
	c->auth_retry_ms = o->auth_retry_ms;
	return 0;
fail:
	cfg_cleanup(c);
	return r;
}

/* --- items --- */

static void
item_free(struct item *it)
{
	if (it == NULL)
		return;
	curl_slist_free_all(it->hdrs);
	if (it->easy != NULL)
		curl_easy_cleanup(it->easy);
	tw_buf_cleanup(&it->file);
	tw_buf_cleanup(&it->resp);
	spool_hdr_cleanup(&it->hdr);
	free(it->agent);
	free(it);
}

/* Forget what a request held; the item can be queued again. */
static void
item_reset(struct item *it)
{
	curl_slist_free_all(it->hdrs);
	it->hdrs = NULL;
	if (it->easy != NULL)
		curl_easy_cleanup(it->easy);
	it->easy = NULL;
	tw_buf_cleanup(&it->file);
	tw_buf_cleanup(&it->resp);
	spool_hdr_cleanup(&it->hdr);
	it->frame = NULL;
	it->retry_after[0] = '\0';
	it->errbuf[0] = '\0';
}

static struct item *
item_new(uint64_t seq, uint64_t size, uint32_t records, const char *agent)
{
	struct item *it;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return NULL;
	if ((it->agent = strdup(agent)) == NULL) {
		free(it);
		return NULL;
	}
	it->seq = seq;
	it->size = size;
	it->records = records;
	return it;
}

/* Insert into a list kept in seq order. */
static void
insert_sorted(struct item **list, struct item *it)
{
	while (*list != NULL && (*list)->seq < it->seq)
		list = &(*list)->next;
	it->next = *list;
	*list = it;
}

static unsigned
list_len(const struct item *it)
{
	unsigned n = 0;

	for (; it != NULL; it = it->next)
		n++;
	return n;
}

static void
space_freed(struct ship *s)
{
	if (s->space_fn != NULL)
		s->space_fn(s->space_arg);
}

/* --- requests --- */

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct item *it = arg;
	size_t n = size * nmemb, room = RESP_MAX - it->resp.len;

	/* Only the start of the body is kept; the rest is read and
	 * dropped. */
	if (room > 0)
		tw_ignore(tw_buf_add(&it->resp, p, n < room ? n : room));
	return n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct item *it = arg;
	size_t n = size * nmemb, len = n;
	const char *v;

	if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		v = p + 12;
		len = n - 12;
		while (len > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			len--;
		}
		while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' ||
		    v[len - 1] == ' '))
			len--;
		if (len >= sizeof(it->retry_after))
			len = sizeof(it->retry_after) - 1;
		memcpy(it->retry_after, v, len);
		it->retry_after[len] = '\0';
	}
	return n;
}

static int
add_header(struct item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
add_header(struct item *it, const char *fmt, ...)
{
	struct curl_slist *l;
	char line[TOKEN_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	l = curl_slist_append(it->hdrs, line);
	explicit_bzero(line, sizeof(line));
	if (l == NULL)
		return TW_ENOMEM;
	it->hdrs = l;
	return 0;
}

/* Set up the POST of it's batch (loaded and checked already). */
static int
prepare(struct ship *s, struct item *it)
{
	const struct ship_cfg *c = &s->cfg;
	CURL *e;
	uint64_t connect_ms;
	int r = 0;

	if ((e = it->easy = curl_easy_init()) == NULL)
		return TW_ENOMEM;
	tw_buf_init(&it->resp, RESP_MAX + 1);
	if ((r = add_header(it, "Content-Type: %s", BATCH_CONTENT_TYPE)) != 0 ||
	    (r = add_header(it, "Content-Encoding: zstd")) != 0 ||
	    (r = add_header(it, "Trawl-Agent: %s", it->hdr.agent)) != 0 ||
	    (r = add_header(it, "Trawl-Batch: %" PRIu64, it->seq)) != 0 ||
	    (r = add_header(it, "Trawl-Records: %" PRIu32,
	    it->hdr.records)) != 0 ||
	    (r = add_header(it, "Expect:")) != 0)
		return r;
	if (c->token != NULL &&
	    (r = add_header(it, "Authorization: Bearer %s", c->token)) != 0)
		return r;
	connect_ms = c->timeout_ms < CONNECT_TIMEOUT_MAX_MS ? c->timeout_ms :
	    CONNECT_TIMEOUT_MAX_MS;
	if (curl_easy_setopt(e, CURLOPT_URL, s->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, it->frame) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)it->hdr.frame_len) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, it->hdrs) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "trawl-agent/"
	    PACKAGE_VERSION) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, it) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, it) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, it->errbuf) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, it) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)connect_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK)
		return TW_EINVAL;
	if (c->ca_file != NULL &&
	    curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) != CURLE_OK)
		return TW_EINVAL;
	if (c->cert_file != NULL &&
	    (curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file) != CURLE_OK))
		return TW_EINVAL;
	return 0;
}

/* Uniform in [0, n]. */
static uint64_t
jitter(struct ship *s, uint64_t n)
{
	/* xorshift64*: retry spreading, not cryptography. */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return n == 0 ? 0 : (s->rng * 0x2545F4914F6CDD1DULL) % (n + 1);
}

static void
pause_for(struct ship *s, uint64_t ms)
{
	int64_t until = mono_ms() + (int64_t)ms;

	if (until > s->pause_until_ms)
		s->pause_until_ms = until;
}

/* Back off after a failure: full jitter over an exponential cap. */
static void
backoff(struct ship *s)
{
	uint64_t cap = s->cfg.backoff_min_ms;

	if (s->failures < 40)
		s->failures++;
	for (unsigned i = 1; i < s->failures && cap < s->cfg.backoff_max_ms;
	    i++)
		cap *= 2;
	if (cap > s->cfg.backoff_max_ms)
		cap = s->cfg.backoff_max_ms;
	pause_for(s, jitter(s, cap));
}

/* Put an item back for later. */
static void
requeue(struct ship *s, struct item *it)
{
	item_reset(it);
	tw_counter_inc(s->retries);
	insert_sorted(&s->queue, it);
}

static void
drop(struct ship *s, struct item *it)
{
	item_free(it);
	space_freed(s);
}

static void
deadletter(struct ship *s, struct item *it, const char *why)
{
	char seq[32];

	snprintf(seq, sizeof(seq), "%" PRIu64, it->seq);
	tw_error("ship", "batch refused as malformed; moved to deadletter/",
	    "seq", seq, "reason", why);
	if (spool_deadletter(s->spool, it->seq, it->size) != 0)
		tw_error("ship", "cannot move a batch to deadletter/", "seq",
		    seq, "error", strerror(errno));
	drop(s, it);
}

/* Load it's file; false when the item was dealt with otherwise. */
static bool
load(struct ship *s, struct item *it)
{
	char seq[32], *why = NULL;
	int r;

	snprintf(seq, sizeof(seq), "%" PRIu64, it->seq);
	tw_buf_init(&it->file, SPOOL_HDR_MAX + SPOOL_FRAME_MAX);
	r = spool_load(s->spool, it->seq, &it->file, &it->hdr, &it->frame,
	    &why);
	if (r == 0)
		return true;
	if (r == TW_ENOTFOUND) {
		tw_warn("ship", "spooled batch is gone", "seq", seq);
		tw_ignore(spool_remove(s->spool, it->seq, it->size));
		drop(s, it);
	} else if (r == TW_EPARSE || r == TW_EEOF) {
		tw_error("ship", "corrupt spool file; quarantined", "seq", seq,
		    "error", why != NULL ? why : tw_strerror(r));
		if (spool_quarantine(s->spool, it->seq, it->size) != 0)
			tw_error("ship", "cannot quarantine a spool file",
			    "seq", seq, "error", strerror(errno));
		drop(s, it);
	} else {
		tw_error("ship", "cannot read a spooled batch; retrying",
		    "seq", seq, "error", why != NULL ? why : tw_strerror(r));
		backoff(s);
		requeue(s, it);
	}
	free(why);
	return false;
}

static void
start(struct ship *s, struct item *it)
{
	int r;

	if (!load(s, it))
		return;
	if ((r = prepare(s, it)) != 0 ||
	    curl_multi_add_handle(s->multi, it->easy) != CURLM_OK) {
		tw_error("ship", "cannot set up a request; retrying", "error",
		    tw_strerror(r != 0 ? r : TW_EIO));
		backoff(s);
		requeue(s, it);
		return;
	}
	it->next = s->inflight;
	s->inflight = it;
	s->ninflight++;
	tw_counter_inc(s->sent);
}

/*
 * Split it's batch in two halves with new seqs, written before it is
 * removed (the halves name it as their parent, so a crash in between
 * leaves no duplicate).
 */
static void
split(struct ship *s, struct item *it)
{
	struct tw_batch_limits lim;
	struct spool_batch b[2];
	struct tw_buf frames[2];
	struct tw_batch_info info;
	const uint8_t *rec;
	size_t off = 0, len, done, n = 0, half;
	char seq[32];
	int r;

	snprintf(seq, sizeof(seq), "%" PRIu64, it->seq);
	if (it->hdr.records <= 1) {
		deadletter(s, it, "a single record over the collector's limits");
		return;
	}
	memset(b, 0, sizeof(b));
	tw_buf_init(&frames[0], SPOOL_FRAME_MAX);
	tw_buf_init(&frames[1], SPOOL_FRAME_MAX);
	tw_batch_limits_default(&lim);
	lim.compressed_max = SPOOL_FRAME_MAX;
	lim.ratio_max = 0;
	tw_buf_reset(&s->scratch);
	if ((r = tw_batch_decode(s->dec, it->frame, it->hdr.frame_len, &lim,
	    -1, &s->scratch, &info)) != 0)
		goto fail;
	half = info.records / 2;
	tw_batch_enc_reset(s->enc);
	while ((r = tw_batch_next(&s->scratch, &off, &rec, &len)) == 1) {
		if ((r = tw_batch_enc_add(s->enc, rec, len)) != 0)
			goto fail;
		if (++n == half &&
		    (r = tw_batch_enc_finish(s->enc, &frames[0], &info)) != 0)
			goto fail;
		if (n == half) {
			b[0].hdr.records = info.records;
			b[0].hdr.raw_len = info.raw_len;
			b[0].hdr.time_min = info.time_min;
			b[0].hdr.time_max = info.time_max;
		}
	}
	if (r < 0 || (r = tw_batch_enc_finish(s->enc, &frames[1], &info)) != 0)
		goto fail;
	b[1].hdr.records = info.records;
	b[1].hdr.raw_len = info.raw_len;
	b[1].hdr.time_min = info.time_min;
	b[1].hdr.time_max = info.time_max;
	for (int i = 0; i < 2; i++) {
		if ((r = seq_next(s->seq, &b[i].hdr.seq)) != 0)
			goto fail;
		b[i].hdr.parent_seq = it->seq;
		memcpy(b[i].hdr.agent, it->hdr.agent, sizeof(b[i].hdr.agent));
		b[i].hdr.cov = it->hdr.cov;
		b[i].hdr.ncov = it->hdr.ncov;
		b[i].frame = frames[i].data;
		b[i].frame_len = frames[i].len;
	}
	if ((r = spool_commit(s->spool, b, 2, &done)) != 0)
		goto fail;
	if (spool_remove(s->spool, it->seq, it->size) != 0)
		tw_warn("ship", "cannot remove a split batch; it goes at the "
		    "next start", "seq", seq, "error", strerror(errno));
	tw_counter_inc(s->split);
	tw_info("ship", "batch over the collector's limits split in two",
	    "seq", seq);
	for (int i = 0; i < 2; i++) {
		struct item *h = item_new(b[i].hdr.seq, b[i].size,
		    b[i].hdr.records, it->hdr.agent);

		if (h == NULL) {
			tw_error("ship", "out of memory queueing a split batch; "
			    "it is sent after the next start");
			continue;
		}
		insert_sorted(&s->queue, h);
	}
	tw_buf_cleanup(&frames[0]);
	tw_buf_cleanup(&frames[1]);
	tw_batch_enc_reset(s->enc);
	item_free(it);
	return;
fail:
	tw_error("ship", "cannot split a batch; retrying", "seq", seq,
	    "error", r == TW_EIO ? strerror(errno) : tw_strerror(r));
	tw_buf_cleanup(&frames[0]);
	tw_buf_cleanup(&frames[1]);
	tw_batch_enc_reset(s->enc);
	backoff(s);
	requeue(s, it);
}

/* Milliseconds a Retry-After value asks for (seconds or an HTTP date). */
static uint64_t
retry_after_ms(const char *v)
{
	char *end;
	unsigned long long sec;
	time_t when;
	struct tm tm;

	if (v[0] == '\0')
		return RETRY_AFTER_DEFAULT_MS;
	errno = 0;
	sec = strtoull(v, &end, 10);
	if (errno == 0 && end != v && *end == '\0')
		return sec * 1000 > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS :
		    sec * 1000;
	memset(&tm, 0, sizeof(tm));
	if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm) != NULL &&
	    (when = timegm(&tm)) != (time_t)-1) {
		time_t now = time(NULL);

		if (when <= now)
			return 0;
		return (uint64_t)(when - now) * 1000 > RETRY_AFTER_MAX_MS ?
		    RETRY_AFTER_MAX_MS : (uint64_t)(when - now) * 1000;
	}
	return RETRY_AFTER_DEFAULT_MS;
}

/* A request ended: match the answer to its batch. */
static void
finish(struct ship *s, struct item *it, CURLcode res)
{
	long status = 0;
	char seq[32], code[16];

	snprintf(seq, sizeof(seq), "%" PRIu64, it->seq);
	curl_multi_remove_handle(s->multi, it->easy);
	curl_easy_getinfo(it->easy, CURLINFO_RESPONSE_CODE, &status);
	snprintf(code, sizeof(code), "%ld", status);
	if (res != CURLE_OK) {
		tw_warn("ship", "sending failed; backing off", "seq", seq,
		    "error", it->errbuf[0] != '\0' ? it->errbuf :
		    curl_easy_strerror(res));
		tw_counter_inc(s->fail_network);
		backoff(s);
		requeue(s, it);
		return;
	}
	switch (status) {
	case 200:
		if (it->resp.data != NULL &&
		    strstr(it->resp.data, "\"duplicate\":true") != NULL)
			tw_counter_inc(s->duplicates);
		tw_counter_inc(s->acked);
		tw_counter_add(s->records_acked, it->hdr.records);
		s->failures = 0;
		if (s->auth_blocked) {
			tw_info("ship", "the collector accepts the token again");
			s->auth_blocked = false;
			tw_gauge_set(s->auth_failed, 0);
		}
		if (spool_remove(s->spool, it->seq, it->size) != 0)
			tw_error("ship", "cannot remove an acknowledged batch",
			    "seq", seq, "error", strerror(errno));
		drop(s, it);
		return;
	case 400:
		deadletter(s, it, it->resp.data != NULL ? it->resp.data : "");
		return;
	case 401:
	case 403:
		tw_error("ship", "ALARM: the collector refuses this agent's "
		    "token; sending stops and is retried slowly", "status",
		    code, "seq", seq);
		tw_counter_inc(s->fail_auth);
		tw_gauge_set(s->auth_failed, 1);
		s->auth_blocked = true;
		pause_for(s, s->cfg.auth_retry_ms);
		requeue(s, it);
		return;
	case 413:
		split(s, it);
		return;
	case 429:
	case 503:
		tw_info("ship", "the collector asks to wait", "status", code,
		    "retry_after", it->retry_after);
		tw_counter_inc(s->fail_throttled);
		pause_for(s, retry_after_ms(it->retry_after));
		requeue(s, it);
		return;
	default:
		tw_warn("ship", "unexpected answer; backing off", "status",
		    code, "seq", seq);
		if (status >= 500)
			tw_counter_inc(s->fail_server);
		else
			tw_counter_inc(s->fail_other);
		backoff(s);
		requeue(s, it);
		return;
	}
}

/* Take what other threads handed over. */
static void
take_incoming(struct ship *s)
{
	struct item *in, *next;
	struct ship_cfg *cfg;

	pthread_mutex_lock(&s->lock);
	in = s->incoming;
	s->incoming = NULL;
	cfg = s->cfg_next;
	s->cfg_next = NULL;
	pthread_mutex_unlock(&s->lock);
	for (; in != NULL; in = next) {
		next = in->next;
		insert_sorted(&s->queue, in);
	}
	if (cfg != NULL) {
		cfg_cleanup(&s->cfg);
		s->cfg = *cfg;
		free(cfg);
		/* A new token deserves a try now. */
		if (s->auth_blocked)
			s->pause_until_ms = 0;
	}
}

static void
collect(struct ship *s)
{
	struct item **pp, *it;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		for (pp = &s->inflight; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->easy == msg->easy_handle)
				break;
		if ((it = *pp) == NULL)
			continue;
		*pp = it->next;
		s->ninflight--;
		finish(s, it, msg->data.result);
	}
}

static void *
ship_main(void *arg)
{
	struct ship *s = arg;
	struct item *it;
	int64_t now, wait;
	bool stop, draining;
	int running;
	long curl_wait;

	for (;;) {
		take_incoming(s);
		pthread_mutex_lock(&s->lock);
		stop = s->stop;
		draining = s->draining;
		pthread_mutex_unlock(&s->lock);
		now = mono_ms();
		if (stop)
			break;
		if (draining && ((s->queue == NULL && s->ninflight == 0) ||
		    now >= s->drain_deadline_ms))
			break;
		/* After a 401/403 only one batch at a time probes. */
		while (s->queue != NULL && now >= s->pause_until_ms &&
		    s->ninflight < (s->auth_blocked ? 1 : s->max_in_flight)) {
			it = s->queue;
			s->queue = it->next;
			it->next = NULL;
			start(s, it);
		}
		curl_multi_perform(s->multi, &running);
		collect(s);
		tw_gauge_set(s->in_flight, s->ninflight);
		tw_gauge_set(s->queued, list_len(s->queue));
		wait = POLL_MAX_MS;
		if (s->queue != NULL && s->ninflight < s->max_in_flight) {
			wait = s->pause_until_ms - mono_ms();
			if (wait < 0)
				wait = 0;
			if (wait > POLL_MAX_MS)
				wait = POLL_MAX_MS;
		}
		if (curl_multi_timeout(s->multi, &curl_wait) == CURLM_OK &&
		    curl_wait >= 0 && curl_wait < wait)
			wait = curl_wait;
		if (draining && s->drain_deadline_ms - mono_ms() < wait)
			wait = s->drain_deadline_ms - mono_ms();
		if (wait < 0)
			wait = 0;
		curl_multi_poll(s->multi, NULL, 0, (int)wait, NULL);
	}
	/* What is still in flight stays in the spool for the next start. */
	while ((it = s->inflight) != NULL) {
		s->inflight = it->next;
		curl_multi_remove_handle(s->multi, it->easy);
		item_free(it);
	}
	s->ninflight = 0;
	return NULL;
}

static void
register_metrics(struct ship *s, struct tw_metrics *m)
{
	const char *name = "trawl_agent_send_failures_total";
	const char *help = "Batches that were not acknowledged, by reason "
	    "(each is retried).";

	s->sent = tw_metrics_counter(m, "trawl_agent_batches_sent_total",
	    "Requests that carried a batch to the collector.", NULL);
	s->acked = tw_metrics_counter(m, "trawl_agent_batches_acked_total",
	    "Batches the collector acknowledged (stored or duplicate).", NULL);
	s->duplicates = tw_metrics_counter(m,
	    "trawl_agent_batches_duplicate_total",
	    "Acknowledgements that said the batch was stored before.", NULL);
	s->records_acked = tw_metrics_counter(m,
	    "trawl_agent_records_sent_total",
	    "Records in acknowledged batches.", NULL);
	s->split = tw_metrics_counter(m, "trawl_agent_batches_split_total",
	    "Batches split in two after a 413.", NULL);
	s->retries = tw_metrics_counter(m, "trawl_agent_send_retries_total",
	    "Batches queued again after a failed attempt.", NULL);
	s->fail_network = tw_metrics_counter(m, name, help,
	    "reason=\"network\"");
	s->fail_server = tw_metrics_counter(m, name, help,
	    "reason=\"server\"");
	s->fail_throttled = tw_metrics_counter(m, name, help,
	    "reason=\"throttled\"");
	s->fail_auth = tw_metrics_counter(m, name, help, "reason=\"auth\"");
	s->fail_other = tw_metrics_counter(m, name, help,
	    "reason=\"other\"");
	s->auth_failed = tw_metrics_gauge(m, "trawl_agent_output_auth_failed",
	    "1 while the collector refuses the agent's token (sending is "
	    "stopped).", NULL);
	s->in_flight = tw_metrics_gauge(m, "trawl_agent_batches_in_flight",
	    "Requests being sent.", NULL);
	s->queued = tw_metrics_gauge(m, "trawl_agent_batches_queued",
	    "Spooled batches waiting to be sent.", NULL);
}

struct ship *
ship_new(const struct agent_conf *conf, struct spool *sp, struct seq *seq,
    struct tw_metrics *m, char **why)
{
	const struct agent_output *o = &conf->output;
	struct ship *s;
	size_t len;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto nomem;
	s->spool = sp;
	s->seq = seq;
	s->max_in_flight = (unsigned)o->max_in_flight;
	pthread_mutex_init(&s->lock, NULL);
	tw_buf_init(&s->scratch, (size_t)64 << 20);
	s->rng = (uint64_t)mono_ms() * 0x9E3779B97F4A7C15ULL ^
	    (uint64_t)getpid() ^ (uint64_t)time(NULL);
	if (s->rng == 0)
		s->rng = 1;
	register_metrics(s, m);
	if (cfg_load(o, &s->cfg, why) != 0)
		goto fail;
	len = strlen(o->url);
	while (len > 0 && o->url[len - 1] == '/')
		len--;
	if (asprintf(&s->url, "%.*s/v1/batches", (int)len, o->url) < 0) {
		s->url = NULL;
		goto nomem;
	}
	/* Once, before any thread uses libcurl. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto nomem;
	s->curl_ready = true;
	if ((s->multi = curl_multi_init()) == NULL ||
	    (s->dec = tw_batch_dec_new()) == NULL ||
	    (s->enc = tw_batch_enc_new(1)) == NULL)
		goto nomem;
	curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)s->max_in_flight);
	return s;
nomem:
	if (why != NULL && *why == NULL)
		*why = strdup("out of memory");
fail:
	ship_free(s);
	return NULL;
}

void
ship_set_space_cb(struct ship *s, ship_space_fn fn, void *arg)
{
	s->space_fn = fn;
	s->space_arg = arg;
}

int
ship_start(struct ship *s)
{
	if (pthread_create(&s->thread, NULL, ship_main, s) != 0)
		return TW_EIO;
	s->started = true;
	return 0;
}

void
ship_enqueue(struct ship *s, uint64_t seq, uint64_t size, uint32_t records,
    const char *agent)
{
	struct item *it;
	char buf[32];

	if ((it = item_new(seq, size, records, agent)) == NULL) {
		snprintf(buf, sizeof(buf), "%" PRIu64, seq);
		tw_error("ship", "out of memory queueing a batch; it is sent "
		    "after the next start", "seq", buf);
		return;
	}
	pthread_mutex_lock(&s->lock);
	it->next = s->incoming;
	s->incoming = it;
	pthread_mutex_unlock(&s->lock);
	if (s->multi != NULL)
		curl_multi_wakeup(s->multi);
}

int
ship_reload(struct ship *s, const struct agent_conf *conf, char **why)
{
	struct ship_cfg *c;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return TW_ENOMEM;
	if ((r = cfg_load(&conf->output, c, why)) != 0) {
		free(c);
		return r;
	}
	pthread_mutex_lock(&s->lock);
	if (s->cfg_next != NULL) {
		cfg_cleanup(s->cfg_next);
		free(s->cfg_next);
	}
	s->cfg_next = c;
	pthread_mutex_unlock(&s->lock);
	if (s->multi != NULL)
		curl_multi_wakeup(s->multi);
	return 0;
}

void
ship_drain(struct ship *s, uint64_t timeout_ms)
{
	if (s == NULL || !s->started)
		return;
	pthread_mutex_lock(&s->lock);
	s->draining = true;
	s->drain_deadline_ms = mono_ms() + (int64_t)timeout_ms;
	pthread_mutex_unlock(&s->lock);
	curl_multi_wakeup(s->multi);
	pthread_join(s->thread, NULL);
	s->started = false;
}

void
ship_free(struct ship *s)
{
	struct item *it;

	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_mutex_unlock(&s->lock);
		curl_multi_wakeup(s->multi);
		pthread_join(s->thread, NULL);
		s->started = false;
	}
	take_incoming(s);
	while ((it = s->queue) != NULL) {
		s->queue = it->next;
		item_free(it);
	}
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	if (s->curl_ready)
		curl_global_cleanup();
	cfg_cleanup(&s->cfg);
	tw_batch_dec_free(s->dec);
	tw_batch_enc_free(s->enc);
	tw_buf_cleanup(&s->scratch);
	free(s->url);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

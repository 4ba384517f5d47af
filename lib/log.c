/* log.c: self-logging to stderr as logfmt or JSON, rate-limited repeats. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

#define LOG_LINE_MAX 8192
#define LOG_SLOTS 64

struct log_slot {
	uint64_t hash;
	uint64_t first_ms;
	uint64_t suppressed;
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum tw_log_level log_level = TW_LOG_INFO;
static enum tw_log_format log_format = TW_LOG_TEXT;
static int log_fd = 2;
static uint64_t log_window_ms = 10000;
static struct log_slot log_slots[LOG_SLOTS];
static _Atomic uint64_t log_counts[TW_LOG_ERROR + 1];
static _Atomic uint64_t log_suppressed_total;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int
tw_log_parse_level(const char *s, enum tw_log_level *out)
{
	for (int i = 0; i <= TW_LOG_ERROR; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum tw_log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = TW_LOG_WARN;
		return 0;
	}
	return TW_EINVAL;
}

int
tw_log_parse_format(const char *s, enum tw_log_format *out)
{
	if (strcmp(s, "text") == 0 || strcmp(s, "logfmt") == 0)
		*out = TW_LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = TW_LOG_JSON;
	else
		return TW_EINVAL;
	return 0;
}

void
tw_log_set_level(enum tw_log_level level)
{
	log_level = level;
}

void
tw_log_set_format(enum tw_log_format format)
{
	log_format = format;
}

void
tw_log_set_fd(int fd)
{
	log_fd = fd;
}

void
tw_log_set_rate_window(uint64_t window_ms)
{
	pthread_mutex_lock(&log_lock);
	log_window_ms = window_ms;
	memset(log_slots, 0, sizeof(log_slots));
	pthread_mutex_unlock(&log_lock);
}

uint64_t
tw_log_count(enum tw_log_level level)
{
	return atomic_load_explicit(&log_counts[level], memory_order_relaxed);
}

uint64_t
tw_log_suppressed(void)
{
	return atomic_load_explicit(&log_suppressed_total,
	    memory_order_relaxed);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
fnv1a(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Text values are quoted when they hold spaces, quotes, = or controls. */
static int
add_text_value(struct tw_buf *b, const char *v)
{
	int quote = *v == '\0';
	const char *p;
	int r = 0;

	for (p = v; *p != '\0' && !quote; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == '"' || c == '=' || c == 0x7f)
			quote = 1;
	}
	if (!quote)
		return tw_buf_adds(b, v);
	r |= tw_buf_addc(b, '"');
	for (p = v; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\')
			r |= tw_buf_addf(b, "\\%c", c);
		else if (c == '\n')
			r |= tw_buf_adds(b, "\\n");
		else if (c < ' ' || c == 0x7f)
			r |= tw_buf_addf(b, "\\x%02x", c);
		else
			r |= tw_buf_addc(b, (char)c);
	}
	r |= tw_buf_addc(b, '"');
	return r;
}

static int
add_json_string(struct tw_buf *b, const char *v)
{
	int r = tw_buf_addc(b, '"');

	for (const char *p = v; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\')
			r |= tw_buf_addf(b, "\\%c", c);
		else if (c == '\n')
			r |= tw_buf_adds(b, "\\n");
		else if (c < ' ' || c == 0x7f)
			r |= tw_buf_addf(b, "\\u%04x", c);
		else
			r |= tw_buf_addc(b, (char)c);
	}
	return r | tw_buf_addc(b, '"');
}

static void
add_pair(struct tw_buf *b, const char *k, const char *v)
{
	int r;

	if (log_format == TW_LOG_JSON) {
		r = tw_buf_addc(b, ',');
		r |= add_json_string(b, k);
		r |= tw_buf_addc(b, ':');
		r |= add_json_string(b, v);
	} else {
		r = tw_buf_addc(b, ' ');
		r |= tw_buf_adds(b, k);
		r |= tw_buf_addc(b, '=');
		r |= add_text_value(b, v);
	}
	tw_ignore(r); /* a line cut at LOG_LINE_MAX is still written */
}

/* Decide under the lock whether this line prints; returns N suppressed. */
static int
rate_check(const char *subsys, const char *msg, uint64_t *suppressed)
{
	uint64_t h = fnv1a(fnv1a(0xcbf29ce484222325ULL, subsys), msg);
	struct log_slot *s = &log_slots[h % LOG_SLOTS];
	uint64_t now = now_ms();

	*suppressed = 0;
	if (log_window_ms == 0)
		return 1;
	if (s->hash == h && now - s->first_ms < log_window_ms) {
		s->suppressed++;
		atomic_fetch_add_explicit(&log_suppressed_total, 1,
		    memory_order_relaxed);
		return 0;
	}
	if (s->hash == h)
		*suppressed = s->suppressed;
	s->hash = h;
	s->first_ms = now;
	s->suppressed = 0;
	return 1;
}

void
tw_log(enum tw_log_level level, const char *subsys, const char *msg, ...)
{
	char tsbuf[64], nbuf[24];
	struct tw_buf b;
	struct timespec ts;
	struct tm tm;
	uint64_t suppressed;
	const char *k, *v;
	va_list ap;
	int r;

	if (level < log_level)
		return;
	pthread_mutex_lock(&log_lock);
	if (!rate_check(subsys, msg, &suppressed)) {
		pthread_mutex_unlock(&log_lock);
		return;
	}
	atomic_fetch_add_explicit(&log_counts[level], 1, memory_order_relaxed);

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(tsbuf, sizeof(tsbuf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

	tw_buf_init(&b, LOG_LINE_MAX);
	if (log_format == TW_LOG_JSON) {
		r = tw_buf_adds(&b, "{\"ts\":");
		r |= add_json_string(&b, tsbuf);
		tw_ignore(r);
	} else {
		r = tw_buf_addf(&b, "ts=%s", tsbuf);
		tw_ignore(r);
	}
	add_pair(&b, "level", level_names[level]);
	add_pair(&b, "subsys", subsys);
	add_pair(&b, "msg", msg);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		add_pair(&b, k, v != NULL ? v : "");
	}
	va_end(ap);
	if (suppressed > 0) {
		snprintf(nbuf, sizeof(nbuf), "%llu",
		    (unsigned long long)suppressed);
		add_pair(&b, "suppressed", nbuf);
	}
	/* A line past the ceiling is cut; the newline always fits. */
	b.max = LOG_LINE_MAX + 2;
	if (log_format == TW_LOG_JSON)
		tw_ignore(tw_buf_addc(&b, '}'));
	tw_ignore(tw_buf_addc(&b, '\n'));
	if (b.data != NULL) {
		/* A failed write of a self-log line has nowhere to be reported. */
		ssize_t w = write(log_fd, b.data, b.len);
		(void)w;
	}
	pthread_mutex_unlock(&log_lock);
	tw_buf_cleanup(&b);
}

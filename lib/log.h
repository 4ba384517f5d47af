/* log.h: self-logging to stderr as logfmt or JSON, rate-limited repeats. */
#ifndef TW_LOG_H
#define TW_LOG_H

#include <stdint.h>

enum tw_log_level {
	TW_LOG_DEBUG = 0,
	TW_LOG_INFO,
	TW_LOG_WARN,
	TW_LOG_ERROR,
};

enum tw_log_format {
	TW_LOG_TEXT = 0, /* logfmt: ts=... level=... subsys=... msg="..." k=v */
	TW_LOG_JSON,
};

/* "debug", "info", "warn", "error" -> level; TW_EINVAL otherwise. */
int tw_log_parse_level(const char *s, enum tw_log_level *out);
/* "text" (or "logfmt"), "json" -> format; TW_EINVAL otherwise. */
int tw_log_parse_format(const char *s, enum tw_log_format *out);
void tw_log_set_level(enum tw_log_level level);
void tw_log_set_format(enum tw_log_format format);
/* Where lines go (default 2, stderr); for tests. */
void tw_log_set_fd(int fd);
/*
 * Repeats of one (subsys, msg) within window_ms of its first line are
 * counted, not printed; the next line after the window carries
 * suppressed=N. 0 turns rate limiting off. Default 10000.
 */
void tw_log_set_rate_window(uint64_t window_ms);
/* Lines written and lines suppressed, per level (for /metrics). */
uint64_t tw_log_count(enum tw_log_level level);
uint64_t tw_log_suppressed(void);

/*
 * Write one line: msg is a constant sentence, data goes in the key/value
 * string pairs that follow, ended by NULL. Record content must never be
 * logged above debug. Thread-safe.
 */
void tw_log(enum tw_log_level level, const char *subsys, const char *msg, ...)
    __attribute__((sentinel));

#define tw_debug(...) tw_log(TW_LOG_DEBUG, __VA_ARGS__, (char *)NULL)
#define tw_info(...) tw_log(TW_LOG_INFO, __VA_ARGS__, (char *)NULL)
#define tw_warn(...) tw_log(TW_LOG_WARN, __VA_ARGS__, (char *)NULL)
#define tw_error(...) tw_log(TW_LOG_ERROR, __VA_ARGS__, (char *)NULL)

#endif

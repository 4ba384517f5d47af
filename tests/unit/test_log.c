/* test_log.c: unit tests for self-logging: formats, levels, rate limiting. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "tap.h"

static char out[8192];

/* Run fn with the log going to a pipe; leave what it wrote in out. */
static void
capture(void (*fn)(void))
{
	int fds[2];
	ssize_t n;

	if (pipe(fds) == -1)
		abort();
	tw_log_set_fd(fds[1]);
	fn();
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	tw_log_set_fd(2);
}

static void
one_text(void)
{
	tw_warn("tail", "file rotated", "path", "/var/log/a b.log", "n", "3");
}

static void
one_debug(void)
{
	tw_debug("tail", "should not appear");
}

static void
repeated(void)
{
	for (int i = 0; i < 5; i++)
		tw_error("ship", "send failed", "code", "503");
}

static void
escapes(void)
{
	tw_info("x", "quote\"and\nnewline", "k", "v\"q");
}

int
main(void)
{
	enum tw_log_level lv;
	enum tw_log_format fm;

	ok(tw_log_parse_level("warn", &lv) == 0 && lv == TW_LOG_WARN,
	    "parse level warn");
	is_int(tw_log_parse_level("loud", &lv), TW_EINVAL, "bad level");
	ok(tw_log_parse_format("json", &fm) == 0 && fm == TW_LOG_JSON,
	    "parse format json");
	is_int(tw_log_parse_format("xml", &fm), TW_EINVAL, "bad format");

	tw_log_set_rate_window(0);
	capture(one_text);
	ok(strncmp(out, "ts=", 3) == 0, "text line starts with ts=");
	ok(strstr(out, " level=warn subsys=tail msg=\"file rotated\" "
	    "path=\"/var/log/a b.log\" n=3\n") != NULL, "logfmt fields");

	capture(one_debug);
	is_str(out, "", "debug filtered at info level");

	tw_log_set_format(TW_LOG_JSON);
	capture(one_text);
	ok(strncmp(out, "{\"ts\":\"", 7) == 0, "json line");
	ok(strstr(out, "\"level\":\"warn\",\"subsys\":\"tail\","
	    "\"msg\":\"file rotated\",\"path\":\"/var/log/a b.log\","
	    "\"n\":\"3\"}\n") != NULL, "json fields");
	capture(escapes);
	ok(strstr(out, "\"msg\":\"quote\\\"and\\nnewline\",\"k\":\"v\\\"q\"") !=
	    NULL, "json escapes");
	tw_log_set_format(TW_LOG_TEXT);

	tw_log_set_rate_window(60000);
	capture(repeated);
	{
		int lines = 0;
		for (char *p = out; *p != '\0'; p++)
			lines += *p == '\n';
		is_int(lines, 1, "4 repeats suppressed within the window");
	}
	is_int(tw_log_suppressed(), 4, "suppressed counted");
	tw_log_set_rate_window(1); /* resets the slots */
	ok(tw_log_count(TW_LOG_ERROR) >= 1, "error lines counted");
	return done_testing();
}

/* app_json.c: the "JSON app line" rule: a log line that is a JSON object. */
#include "config.h"

#include <string.h>

#include "app_json.h"
#include "json.h"
#include "mp.h"

/* The object of one line; a line is at most a record's message. */
#define APP_JSON_FIELDS_MAX ((size_t)16 << 20)


void
tw_app_json_init(struct tw_app_json *aj)
{
	memset(aj, 0, sizeof(*aj));
	tw_buf_init(&aj->fields, APP_JSON_FIELDS_MAX);
}

void
tw_app_json_cleanup(struct tw_app_json *aj)
{
	tw_buf_cleanup(&aj->fields);
}

size_t
tw_app_json_space(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return (p[0] >= 0x09 && p[0] <= 0x0d) ||
		    (p[0] >= 0x1c && p[0] <= 0x20) ? 1 : 0;
	if (n >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
		return 2;
	if (n < 3)
		return 0;
	if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) ||
	    (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) ||
	    (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) ||
	    (p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf)))
		return 3; /* the third byte of a valid sequence is >= 0x80 */
	return 0;
}

size_t
tw_app_json_space_end(const char *p, size_t n)
{
	if (n >= 1 && tw_app_json_space(p + n - 1, 1) == 1)
		return 1;
	if (n >= 2 && tw_app_json_space(p + n - 2, 2) == 2)
		return 2;
	if (n >= 3 && tw_app_json_space(p + n - 3, 3) == 3)
		return 3;
	return 0;
}

const char *
tw_app_json_level(const char *p, size_t n)
{
	/* common.py LEVELS of the reference generators, nothing more. */
#define W(word, level) { word, sizeof(word) - 1, level }
	static const struct {
		const char *word;
		size_t len;
		const char *level;
	} words[] = {
		W("trace", "trace"), W("debug", "debug"), W("dbg", "debug"),
		W("info", "info"), W("information", "info"),
		W("informational", "info"), W("notice", "info"),
		W("warn", "warn"), W("warning", "warn"),
		W("error", "error"), W("err", "error"),
		W("critical", "fatal"), W("crit", "fatal"),
		W("fatal", "fatal"), W("panic", "fatal"),
		W("alert", "fatal"), W("emergency", "fatal"),
		W("emerg", "fatal"),
	};
#undef W
	char low[16];
	size_t k;

	while ((k = tw_app_json_space(p, n)) != 0) {
		p += k;
		n -= k;
	}
	while ((k = tw_app_json_space_end(p, n)) != 0)
		n -= k;
	if (n < 3 || n > 13)
		return NULL;
	/* ASCII case folding is all strncasecmp does to these words. */
	for (k = 0; k < n; k++)
		low[k] = p[k] >= 'A' && p[k] <= 'Z' ? (char)(p[k] | 0x20) : p[k];
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (words[i].len == n && memcmp(words[i].word, low, n) == 0)
			return words[i].level;
	return NULL;
}

/*
 * Each level key's last value wins, as a JSON object's duplicate keys do
 * when read into a dictionary; only strings can name a level.
 */
static void
on_top(void *arg, const char *key, size_t klen, const struct tw_mp_obj *v)
{
	struct tw_app_json *aj = arg;
	int i;

	/*
	 * The level keys by priority: level, severity, lvl, log.level. Every
	 * key of every line comes here: told apart by length first.
	 */
	switch (klen) {
	case 5:
		i = memcmp(key, "level", 5) == 0 ? 0 : -1;
		break;
	case 8:
		i = memcmp(key, "severity", 8) == 0 ? 1 : -1;
		break;
	case 3:
		i = memcmp(key, "lvl", 3) == 0 ? 2 : -1;
		break;
	case 9:
		i = memcmp(key, "log.level", 9) == 0 ? 3 : -1;
		break;
	default:
		i = -1;
		break;
	}
	if (i < 0)
		return;
	aj->levels[i] = v->type == TW_MP_STR ?
	    tw_app_json_level(v->v.s.p, v->v.s.len) : NULL;
}

bool
tw_app_json_parse(struct tw_app_json *aj, const char *p, size_t n,
    unsigned flags, const char **level)
{
	struct tw_json_opts jo;
	struct tw_mpw fw;
	size_t k;

	*level = NULL;
	/* Most lines are not JSON, most JSON lines have no space around. */
	if (n > 0 && p[0] != '{' && !(flags & TW_APP_JSON_LSTRIP))
		return false;
	if (n < 2 || p[0] != '{' || p[n - 1] != '}') {
		if (flags & TW_APP_JSON_LSTRIP)
			while ((k = tw_app_json_space(p, n)) != 0) {
				p += k;
				n -= k;
			}
		while ((k = tw_app_json_space_end(p, n)) != 0)
			n -= k;
		if (n < 2 || p[0] != '{' || p[n - 1] != '}')
			return false;
	}
	memset(aj->levels, 0, sizeof(aj->levels));
	tw_buf_reset(&aj->fields);
	tw_mpw_init(&fw, &aj->fields);
	tw_json_opts_default(&jo);
	jo.max_bytes = APP_JSON_FIELDS_MAX;
	jo.on_top_scalar = on_top;
	jo.arg = aj;
	if (tw_json_to_mp(p, n, &fw, &jo, NULL) != 0)
		return false;
	for (int i = 0; i < TW_APP_JSON_LEVEL_KEYS; i++)
		if (aj->levels[i] != NULL) {
			*level = aj->levels[i];
			break;
		}
	return true;
}

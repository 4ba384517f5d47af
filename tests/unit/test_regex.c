/* test_regex.c: unit tests for detect/regex: the portable subset, literals, limits. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "regex.h"
#include "tap.h"

static struct tw_regex *
rx(struct tw_arena *a, const char *p, unsigned flags)
{
	struct tw_regex *r = NULL;
	char *why = NULL;

	if (tw_regex_compile(a, p, strlen(p), flags, &r, &why) != 0)
		diag("compile %s: %s", p, why ? why : "?");
	free(why);
	return r;
}

static void
lits_are(struct tw_arena *a, const char *p, const char *want)
{
	struct tw_regex *r = rx(a, p, 0);
	char got[512] = "";

	for (size_t i = 0; r != NULL && i < r->nlits; i++) {
		if (i > 0)
			strcat(got, "|");
		strncat(got, r->lits[i], 100);
	}
	if (r != NULL && r->nlits == 0)
		strcpy(got, "-");
	is_str(got, want, "required literals of %s", p);
}

static void
refused(const char *p)
{
	char *why = NULL;

	is_int(tw_regex_check(p, strlen(p), &why), TW_EPARSE,
	    "refused %s (%s)", p, why ? why : "");
	free(why);
}

static int
search(struct tw_regex *r, struct tw_rx_thread *t, const char *s)
{
	return tw_regex_search(r, t, s, strlen(s));
}

int
main(void)
{
	struct tw_arena *a = tw_arena_new(1 << 24);
	struct tw_rx_thread *t = tw_rx_thread_new();
	struct tw_regex *r;
	char *why = NULL, big[64];

	refused("a\\Z");
	refused("\\K");
	refused("\\p{L}");
	refused("\\x{41}");
	refused("(?|a)");
	refused("(?R)");
	refused("(*UTF)a");
	refused("[[:alpha:]]");
	refused("a{,3}");
	ok(tw_regex_check("\\\\Z", 3, NULL) == 0, "an escaped backslash then Z");
	is_int(tw_regex_compile(a, "(", 1, 0, &r, &why), TW_EPARSE,
	    "a bad pattern is a load error (%s)", why ? why : "");
	free(why);

	lits_are(a, "\\b(AKIA|ASIA)[0-9A-Z]{16}\\b", "akia|asia");
	lits_are(a, "-----BEGIN ((RSA|EC) )?PRIVATE KEY-----",
	    "private key-----");
	lits_are(a, "abc|de", "abc|de");
	lits_are(a, "ab?c", "a");
	lits_are(a, "ab+c", "ab");
	lits_are(a, "(?i)Hello", "hello");
	lits_are(a, "a|.*", "-");
	lits_are(a, "(?x) a b", "-");
	lits_are(a, "\\$\\{jndi:", "${jndi:");
	lits_are(a, "x(?:foo)y", "xfooy");
	lits_are(a, "[abc]+", "-");
	lits_are(a, "\\Qa.b\\E", "a.b");

	r = rx(a, "\\b(AKIA|ASIA)[0-9A-Z]{16}\\b", 0);
	is_int(search(r, t, "key AKIAABCDEFGHIJKLMNOP here"), 1, "finds a key");
	is_int(search(r, t, "\xe5\xaf\x86\xe9\x92\xa5" "AKIAABCDEFGHIJKLMNOP"), 1,
	    "a CJK byte is a non-word character");
	is_int(search(r, t, "xAKIAABCDEFGHIJKLMNOP"), 0, "word boundary");
	r = rx(a, "beta", TW_RX_CASELESS);
	is_int(search(r, t, "ALPHA BETA"), 1, "caseless");
	r = rx(a, "^b", TW_RX_MULTILINE);
	is_int(search(r, t, "a\nb"), 1, "multiline");
	r = rx(a, "a.b", TW_RX_DOTALL);
	is_int(search(r, t, "a\nb"), 1, "dotall");
	r = rx(a, "a.b", 0);
	is_int(search(r, t, "a\nb"), 0, "no dotall by default");
	/* A catastrophic pattern hits the match limit: not a match. */
	r = rx(a, "^(a+)+$", 0);
	memset(big, 'a', 40);
	big[40] = 'b';
	big[41] = '\0';
	is_int(search(r, t, big), TW_ELIMIT, "the match limit stops it");
	tw_rx_thread_free(t);
	tw_arena_free(a);
	return done_testing();
}

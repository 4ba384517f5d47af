/* test_ac.c: unit tests for detect/ac against a naive search. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ac.h"
#include "tap.h"
#include "value.h"

static bool
mark(void *arg, uint32_t id)
{
	((bool *)arg)[id] = true;
	return false;
}

int
main(void)
{
	static const char *pats[] = { "he", "she", "his", "hers", "AKIA",
	    "${jndi:", "x", "密钥" };
	static const char *texts[] = { "ushers", "HIS AND HERS", "nothing",
	    "a ${JNDI:ldap}", "key akia", "\xe5\xaf\x86\xe9\x92\xa5", "", "XX" };
	size_t np = sizeof(pats) / sizeof(pats[0]);
	struct tw_arena *a = tw_arena_new(1 << 24);
	struct tw_ac_builder *b = tw_ac_builder_new();
	struct tw_ac *ac;
	unsigned seed = 7;

	for (size_t i = 0; i < np; i++)
		ok(tw_ac_add(b, pats[i], strlen(pats[i]), (uint32_t)i) == 0,
		    "add %s", pats[i]);
	ok((ac = tw_ac_build(b, a)) != NULL, "build");
	tw_ac_builder_free(b);
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		bool got[16] = { false }, same = true;

		tw_ac_scan(ac, texts[t], strlen(texts[t]), mark, got);
		for (size_t i = 0; i < np; i++)
			same &= got[i] == (tw_memmem_fold(texts[t], strlen(texts[t]),
			    pats[i], strlen(pats[i]), true) != NULL);
		ok(same, "scan '%s' finds what a naive search finds", texts[t]);
	}
	/* Random patterns and texts over a small alphabet. */
	for (int round = 0; round < 50; round++) {
		char p[20][6], txt[200];
		bool got[20] = { false }, same = true;
		struct tw_ac_builder *rb = tw_ac_builder_new();
		struct tw_ac *rac;

		for (int i = 0; i < 20; i++) {
			int len = 1 + rand_r(&seed) % 5;

			for (int k = 0; k < len; k++)
				p[i][k] = "abAB"[rand_r(&seed) % 4];
			p[i][len] = '\0';
			tw_ignore(tw_ac_add(rb, p[i], strlen(p[i]), (uint32_t)i));
		}
		rac = tw_ac_build(rb, a);
		tw_ac_builder_free(rb);
		for (int k = 0; k < 199; k++)
			txt[k] = "abcAB"[rand_r(&seed) % 5];
		txt[199] = '\0';
		tw_ac_scan(rac, txt, 199, mark, got);
		for (int i = 0; i < 20; i++)
			same &= got[i] == (tw_memmem_fold(txt, 199, p[i],
			    strlen(p[i]), true) != NULL);
		ok(same, "random round %d", round);
	}
	tw_arena_free(a);
	return done_testing();
}

/* fuzz_rules_load.c: fuzz target for the rule loader (packs, overlays, Sigma) and the engine over it. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const records[] = {
	"{\"time\":1,\"source\":{\"kind\":\"k8s_audit\"},\"audit\":{\"action\":"
	"\"create\",\"actor\":{\"name\":\"a\"}},\"fields\":{\"verb\":\"create\","
	"\"objectRef\":{\"resource\":\"pods\"}}}",
	"{\"time\":2,\"source\":{\"kind\":\"container\"},\"message\":\"key "
	"AKIAABCDEFGHIJKLMNOP\",\"k8s\":{\"pod\":\"p\"}}",
	"{\"time\":3,\"source\":{\"kind\":\"cloud_audit\"},\"audit\":{\"kind\":"
	"\"cloudtrail\",\"action\":\"s3:DeleteBucket\"},\"fields\":"
	"{\"eventName\":\"DeleteBucket\",\"eventSource\":\"s3.amazonaws.com\"}}",
};

static int
discard(void *arg, const struct tw_alert *a)
{
	(void)arg;
	if (a->alert_id == NULL || strlen(a->alert_id) != 32)
		abort();
	return 0;
}

/*
 * The input is one rule file, or two (a pack, then an overlay) split at a
 * line "#---". A file that loads is run over a few records twice (state
 * carries over); every message must name the file.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n#---\n";
	const char *names[2] = { "pack.yaml", "overlay.yaml" };
	const char *texts[2];
	size_t lens[2], n = 1;
	struct tw_conf_diag d, w;
	struct tw_ruleset *rs = NULL;
	const char *p = (const char *)data, *cut;
	int r;

	texts[0] = p;
	lens[0] = size;
	if ((cut = memmem(p, size, sep, sizeof(sep) - 1)) != NULL) {
		lens[0] = (size_t)(cut - p);
		texts[1] = cut + sizeof(sep) - 1;
		lens[1] = size - lens[0] - (sizeof(sep) - 1);
		n = 2;
	}
	tw_conf_diag_init(&d);
	tw_conf_diag_init(&w);
	r = tw_ruleset_load_mem(names, texts, lens, n, TW_LOAD_SIGMA_SKIP, &rs,
	    &d, &w);
	for (size_t i = 0; i < tw_conf_diag_count(&d); i++) {
		const char *m = tw_conf_diag_msg(&d, i);

		if (m == NULL || (strncmp(m, "pack.yaml", 9) != 0 &&
		    strncmp(m, "overlay.yaml", 12) != 0))
			abort();
	}
	if ((r == 0) != (rs != NULL) || (r == TW_ECONFIG &&
	    tw_conf_diag_count(&d) == 0))
		abort();
	if (rs != NULL) {
		struct tw_engine_ctx *c = tw_engine_ctx_new();
		struct tw_state *st = tw_state_new(tw_ruleset_count(rs));
		struct tw_buf rec;

		tw_buf_init(&rec, 1 << 20);
		for (int round = 0; c != NULL && st != NULL && round < 2; round++)
			for (size_t i = 0; i < sizeof(records) / sizeof(records[0]);
			    i++) {
				struct tw_mpw mw;

				tw_buf_reset(&rec);
				tw_mpw_init(&mw, &rec);
				if (tw_record_from_json(records[i], strlen(records[i]),
				    &mw, NULL) != 0)
					abort();
				tw_ignore(tw_engine_eval(rs, c, st, rec.data, rec.len,
				    0, discard, NULL, NULL, NULL));
			}
		if (st != NULL)
			tw_state_flush(st, NULL, NULL);
		tw_buf_cleanup(&rec);
		tw_state_free(st);
		tw_engine_ctx_free(c);
	}
	tw_ruleset_free(rs);
	tw_conf_diag_cleanup(&d);
	tw_conf_diag_cleanup(&w);
	return 0;
}

/* fuzz_expr.c: fuzz target for the condition language (trawl query --where) and its evaluator. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *default_record =
    "{\"time\":1,\"source\":{\"kind\":\"container\"},\"message\":\"a AKIA b "
    "/etc/passwd 10.1.2.3\",\"fields\":{\"a\":[1,{\"b\":\"x\"},[2,null]],"
    "\"m\":{\"k\":\"v\",\"n\":3.5},\"s\":\"Hello\"},\"audit\":{\"addrs\":"
    "[\"10.0.0.1\",\"::ffff:10.0.0.2\"],\"flag\":true}}";

/* Symbols every input may use: a list, an alias, macros. */
static struct tw_symbols *
symbols(void)
{
	static const struct tw_scalar items[] = {
		{ TW_SCALAR_STR, "x", 1, 0, false },
		{ TW_SCALAR_INT, "3", 1, 3, false },
		{ TW_SCALAR_STR, "$l2", 3, 0, false },
	};
	static const struct tw_scalar items2[] = {
		{ TW_SCALAR_BOOL, "true", 4, 0, true },
	};
	static struct tw_path ta = { NULL, 0, "fields", true };
	static struct tw_seg sa = { TW_SEG_KEY, "fields", 6, 0 };
	static const struct tw_path *targets[] = { &ta, &ta };
	struct tw_symbols *s = tw_symbols_new();

	ta.segs = &sa;
	ta.n = 1;
	if (s == NULL)
		return NULL;
	tw_ignore(tw_symbols_add_list(s, "l1", items, 3));
	tw_ignore(tw_symbols_add_list(s, "l2", items2, 1));
	tw_ignore(tw_symbols_add_alias(s, "al", targets, 2));
	tw_ignore(tw_symbols_add_macro(s, "m1", "fields.s iregex 'h.l+o'"));
	tw_ignore(tw_symbols_add_macro(s, "m2", "m1 and not al.m.n < 3"));
	return s;
}

/*
 * The first line is a condition; the rest, if any, a JSON record (else a
 * default one). A condition that compiles is evaluated on the record.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t clen = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	struct tw_symbols *sym = symbols();
	struct tw_expr *e;
	struct tw_match *m = tw_match_new();
	struct tw_buf rec;
	struct tw_mpw w;
	char *cond, *why = NULL;
	int r;

	tw_buf_init(&rec, 1 << 22);
	if ((cond = malloc(clen + 1)) == NULL)
		goto out;
	memcpy(cond, data, clen);
	cond[clen] = '\0';
	e = tw_expr_compile(cond, sym, &why);
	/* A refusal says why (only running out of memory may not). */
	if (e != NULL && why != NULL)
		abort();
	free(why);
	free(cond);
	if (e == NULL)
		goto out;
	tw_mpw_init(&w, &rec);
	if (nl == NULL || tw_record_from_json(nl + 1, size - clen - 1, &w,
	    NULL) != 0) {
		tw_buf_reset(&rec);
		tw_mpw_init(&w, &rec);
		if (tw_record_from_json(default_record, strlen(default_record), &w,
		    NULL) != 0)
			abort();
	}
	r = tw_expr_eval(e, m, rec.data, rec.len);
	if (r != 0 && r != 1 && r != TW_ENOMEM && r != TW_EMSGPACK &&
	    r != TW_EDEPTH && r != TW_ELIMIT && r != TW_EEOF)
		abort();
	tw_expr_free(e);
out:
	tw_buf_cleanup(&rec);
	tw_match_free(m);
	tw_symbols_free(sym);
	return 0;
}

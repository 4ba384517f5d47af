/* test_ytree.c: unit tests for detect/ytree: positions, YAML 1.1 typing, refusals. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "ytree.h"

static struct tw_ynode *
parse(const char *text, struct tw_conf_diag *d)
{
	struct tw_ynode *root = NULL;

	if (tw_ytree_parse("t.yaml", text, strlen(text), &root, d) != 0)
		return NULL;
	return root;
}

static void
type_is(const char *scalar, enum tw_ytype want, const char *canon)
{
	struct tw_conf_diag d;
	struct tw_arena *a = tw_arena_new(1 << 16);
	struct tw_ynode *root;
	struct tw_scalar v;
	char doc[256];

	snprintf(doc, sizeof(doc), "v: %s\n", scalar);
	tw_conf_diag_init(&d);
	root = parse(doc, &d);
	is_int(root != NULL ? (int)tw_ytype(tw_ymap_get(root, "v")) : -1,
	    (int)want, "type of %s", scalar);
	if (canon != NULL)
		ok(root != NULL && tw_yscalar(tw_ymap_get(root, "v"), a, &v) == 0 &&
		    strcmp(v.s, canon) == 0, "value of %s is %s (%s)", scalar,
		    canon, root != NULL && tw_yscalar(tw_ymap_get(root, "v"), a,
		    &v) == 0 ? v.s : "?");
	tw_ytree_free(root);
	tw_conf_diag_cleanup(&d);
	tw_arena_free(a);
}

static void
err_is(const char *text, const char *want)
{
	struct tw_conf_diag d;
	struct tw_ynode *root;

	tw_conf_diag_init(&d);
	root = parse(text, &d);
	ok(root == NULL && tw_conf_diag_count(&d) > 0 &&
	    strstr(tw_conf_diag_msg(&d, 0), want) != NULL, "error %s (%s)", want,
	    tw_conf_diag_count(&d) > 0 ? tw_conf_diag_msg(&d, 0) : "none");
	tw_ytree_free(root);
	tw_conf_diag_cleanup(&d);
}

int
main(void)
{
	struct tw_conf_diag d;
	struct tw_ynode *root;
	const struct tw_ynode *n;

	type_is("yes", TW_YT_BOOL, "true");
	type_is("Off", TW_YT_BOOL, "false");
	type_is("~", TW_YT_NULL, NULL);
	type_is("null", TW_YT_NULL, NULL);
	type_is("017", TW_YT_INT, "15");
	type_is("0x1f", TW_YT_INT, "31");
	type_is("1_000", TW_YT_INT, "1000");
	type_is("190:20:30", TW_YT_INT, "685230");
	type_is("+007", TW_YT_INT, "7");
	type_is("123456789012345678901234567890", TW_YT_INT,
	    "123456789012345678901234567890");
	type_is("09", TW_YT_STR, "09");
	type_is("1e5", TW_YT_STR, "1e5");
	type_is("1.5e+10", TW_YT_FLOAT, "15000000000");
	type_is("3.0", TW_YT_FLOAT, "3");
	type_is(".5", TW_YT_FLOAT, "0.5");
	type_is("-.inf", TW_YT_FLOAT, "-Infinity");
	type_is("\"yes\"", TW_YT_STR, "yes");
	type_is("'017'", TW_YT_STR, "017");
	type_is("!!str 5", TW_YT_STR, "5");
	type_is("10.0.0.0/8", TW_YT_STR, "10.0.0.0/8");
	type_is("=", TW_YT_BAD, NULL);

	tw_conf_diag_init(&d);
	root = parse("a: 1\nlist:\n  - x\n  - \"y z\"\ncond: audit.x = 'q'\n", &d);
	ok(root != NULL, "parsed");
	n = tw_ymap_get(root, "list");
	ok(n != NULL && n->kind == TW_Y_SEQ && n->n == 2 &&
	    n->kids[1]->line == 4 && n->kids[1]->col == 5, "positions are "
	    "1-based line and column");
	n = tw_ymap_get(root, "cond");
	ok(n != NULL && n->verbatim && n->src_off == 33,
	    "a single-line plain scalar maps to its source bytes");
	n = tw_ymap_get(tw_ymap_get(root, "list"), "x");
	ok(n == NULL, "a sequence is not a map");
	tw_ytree_free(root);
	tw_conf_diag_cleanup(&d);

	err_is("a: &x 1\nb: *x\n", "aliases");
	err_is("a: 1\na: 2\n", "t.yaml:2:1: duplicate key 'a'");
	err_is("a: [1\n", "YAML syntax error");
	err_is("a: 1\n---\nb: 2\n", "second one");
	{
		char deep[300];
		int i;

		for (i = 0; i < 100; i++)
			deep[i] = '[';
		deep[i] = '\0';
		err_is(deep, "nesting deeper");
	}
	return done_testing();
}

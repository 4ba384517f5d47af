/* cmd_rules.c: `trawl rules check` and `trawl rules test` (DESIGN.md §9). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_rules.h"
#include "engine.h"
#include "json.h"
#include "record.h"
#include "timefmt.h"
#include "value.h"

#define LINE_MAX_BYTES ((size_t)64 << 20)

static void
rules_usage(FILE *f)
{
	fprintf(f,
	    "usage: trawl rules check [--sigma-skip] PATH...\n"
	    "       trawl rules test --rules PATH... [-v] [--alerts FILE] "
	    "[--now NS]\n"
	    "                        [--sigma-skip] [--exhaustive] "
	    "EVENTS.jsonl...\n"
	    "check: load and compile rule files and directories (native "
	    "packs,\n"
	    "  overlays, Sigma); print every error as file:line:col: message "
	    "on\n"
	    "  stderr; exit 0 when all load (\"ok: ...\" on stdout), 1 "
	    "otherwise.\n"
	    "test: replay labelled events (RULES.md §12) in file order through "
	    "one\n"
	    "  engine; print each mismatch; the last line is \"N passed, N "
	    "failed\";\n"
	    "  exit 0 only when none failed. EVENTS.alerts.jsonl beside an "
	    "events\n"
	    "  file holds the alert objects to compare (all but detected_at).\n"
	    "  --sigma-skip   a Sigma rule the loader refuses is a warning\n"
	    "  --alerts FILE  write {\"alert\", \"test_id\"} lines\n"
	    "  --now NS       detected_at of the alerts (default: the clock)\n"
	    "  --exhaustive   evaluate every rule of a kind (no index)\n"
	    "  -v             print every alert's output\n");
}

static void
print_diag(const struct tw_conf_diag *d, FILE *f)
{
	for (size_t i = 0; i < tw_conf_diag_count(d); i++)
		fprintf(f, "%s\n", tw_conf_diag_msg(d, i));
}

static int
rules_check(int argc, char **argv)
{
	struct tw_conf_diag d, w;
	struct tw_ruleset *rs = NULL;
	const char **paths;
	unsigned flags = 0;
	size_t n = 0;
	int r, rc = 1;

	if ((paths = calloc((size_t)argc + 1, sizeof(*paths))) == NULL)
		return 2;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sigma-skip") == 0)
			flags |= TW_LOAD_SIGMA_SKIP;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			rules_usage(stdout);
			free(paths);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "trawl rules check: unknown option %s\n",
			    argv[i]);
			free(paths);
			return 2;
		} else
			paths[n++] = argv[i];
	}
	if (n == 0) {
		rules_usage(stderr);
		free(paths);
		return 2;
	}
	tw_conf_diag_init(&d);
	tw_conf_diag_init(&w);
	r = tw_ruleset_load(paths, n, flags, &rs, &d, &w);
	/* As --check-config: problems on stderr, the verdict on stdout. */
	print_diag(&w, stderr);
	print_diag(&d, stderr);
	if (r == 0) {
		const struct tw_rules *ru = tw_ruleset_rules(rs);

		printf("ok: %zu rules from %zu files", ru->n, ru->files);
		if (ru->sigma_loaded > 0 || ru->sigma_refused > 0)
			printf(" (Sigma: %zu loaded, %zu refused)",
			    ru->sigma_loaded, ru->sigma_refused);
		printf("\n");
		rc = 0;
	} else if (r != TW_ECONFIG)
		fprintf(stderr, "trawl rules check: %s\n", tw_strerror(r));
	else
		fprintf(stderr, "%zu errors\n", tw_conf_diag_count(&d));
	tw_ruleset_free(rs);
	tw_conf_diag_cleanup(&d);
	tw_conf_diag_cleanup(&w);
	free(paths);
	return rc;
}

/* ---- rules test ---- */

/* An expected alert: the test it belongs to and its canonical text. */
struct expected {
	char *test_id;
	char *alert;
	bool used;
};

struct fired {
	char *rule;
	char *output;
	char *json;
};

struct tester {
	const struct tw_ruleset *rs;
	struct tw_engine_ctx *ctx;
	struct tw_state *st;
	int64_t now;
	bool now_set, verbose;
	FILE *alerts_out;
	size_t passed, failed;
	size_t *pos_cov, *neg_cov;
	struct fired *fired;
	size_t nfired, capfired;
	int err;
};

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Canonical JSON of a JSON object text, leaving out detected_at. */
static int
canonical(const char *json, size_t n, struct tw_buf *out)
{
	struct tw_buf mp;
	struct tw_mpw w;
	struct tw_mp_reader r;
	struct tw_value v;
	int rc;

	tw_buf_init(&mp, LINE_MAX_BYTES);
	tw_mpw_init(&w, &mp);
	tw_buf_reset(out);
	if ((rc = tw_json_to_mp(json, n, &w, NULL, NULL)) == 0) {
		tw_mp_reader_init(&r, mp.data, mp.len);
		if ((rc = tw_value_read(&r, (const uint8_t *)mp.data + mp.len,
		    &v)) == 0)
			rc = tw_value_cjson(out, &v, "detected_at");
	}
	tw_buf_cleanup(&mp);
	return rc;
}

/* The value of top-level key in the msgpack map p[0..n), as a tw_value. */
static bool
top_value(const void *p, size_t n, const char *key, struct tw_value *out)
{
	const uint8_t *end = (const uint8_t *)p + n;
	struct tw_mp_reader r;
	struct tw_value m, k, v;

	tw_mp_reader_init(&r, p, n);
	if (tw_value_read(&r, end, &m) != 0 || m.o.type != TW_MP_MAP)
		return false;
	for (uint32_t i = 0; i < m.o.v.count; i++) {
		if (tw_value_read(&r, end, &k) != 0 ||
		    tw_value_skip_rest(&r, &k) != 0 ||
		    tw_value_read(&r, end, &v) != 0)
			return false;
		if (k.o.type == TW_MP_STR && tw_mp_str_eq(&k.o, key)) {
			*out = v;
			return true;
		}
		if (tw_value_skip_rest(&r, &v) != 0)
			return false;
	}
	return false;
}

static char *
value_strdup(const struct tw_value *v)
{
	if (v->o.type != TW_MP_STR)
		return NULL;
	return strndup(v->o.v.s.p, v->o.v.s.len);
}

static int
load_expected(const char *path, struct expected **out, size_t *nout)
{
	struct expected *e = NULL, *ne;
	struct tw_buf mp, canon;
	struct tw_mpw w;
	struct tw_value tid, al;
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	FILE *f;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : TW_EIO;
	tw_buf_init(&mp, LINE_MAX_BYTES);
	tw_buf_init(&canon, LINE_MAX_BYTES);
	while ((len = getline(&line, &cap, f)) != -1) {
		struct tw_mp_reader r;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		tw_buf_reset(&mp);
		tw_mpw_init(&w, &mp);
		if ((rc = tw_json_to_mp(line, (size_t)len, &w, NULL, NULL)) != 0 ||
		    !top_value(mp.data, mp.len, "test_id", &tid) ||
		    !top_value(mp.data, mp.len, "alert", &al)) {
			rc = TW_EPARSE;
			break;
		}
		tw_buf_reset(&canon);
		tw_mp_reader_init(&r, al.p, (size_t)(al.end - al.p));
		if ((rc = tw_value_cjson(&canon, &al, "detected_at")) != 0)
			break;
		if ((ne = realloc(e, (n + 1) * sizeof(*e))) == NULL) {
			rc = TW_ENOMEM;
			break;
		}
		e = ne;
		e[n].test_id = value_strdup(&tid);
		e[n].alert = strdup(canon.data != NULL ? canon.data : "");
		e[n].used = false;
		n++;
	}
	fclose(f);
	free(line);
	tw_buf_cleanup(&mp);
	tw_buf_cleanup(&canon);
	*out = e;
	*nout = n;
	return rc;
}

static void
free_expected(struct expected *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].test_id);
		free(e[i].alert);
	}
	free(e);
}

static void
clear_fired(struct tester *t)
{
	for (size_t i = 0; i < t->nfired; i++) {
		free(t->fired[i].rule);
		free(t->fired[i].output);
		free(t->fired[i].json);
	}
	t->nfired = 0;
}

static int
on_alert(void *arg, const struct tw_alert *a)
{
	struct tester *t = arg;
	struct fired *f;

	if (t->nfired == t->capfired) {
		size_t cap = t->capfired != 0 ? t->capfired * 2 : 8;

		if ((f = realloc(t->fired, cap * sizeof(*f))) == NULL)
			return TW_ENOMEM;
		t->fired = f;
		t->capfired = cap;
	}
	f = &t->fired[t->nfired];
	f->rule = strdup(a->r->id);
	f->output = strndup(a->output, a->outlen);
	f->json = strndup(a->json, a->jsonlen);
	if (f->rule == NULL || f->output == NULL || f->json == NULL) {
		free(f->rule);
		free(f->output);
		free(f->json);
		return TW_ENOMEM;
	}
	t->nfired++;
	return 0;
}

/* -v: a throttle window that suppressed alerts ended. */
static void
on_summary(void *arg, const struct tw_throttle_summary *sum)
{
	struct tester *t = arg;
	struct tw_buf b;

	if (!t->verbose)
		return;
	tw_buf_init(&b, 1 << 20);
	if (tw_engine_summary_json(t->rs, sum, &b) == 0)
		printf("  SUMMARY %s\n", b.data);
	tw_buf_cleanup(&b);
}

/* Print a list of rule ids as the oracle does: ['a', 'b']. */
static void
print_ids(char **ids, size_t n)
{
	printf("[");
	for (size_t i = 0; i < n; i++)
		printf("%s'%s'", i > 0 ? ", " : "", ids[i]);
	printf("]");
}

/* Replay one labelled line. */
static int
test_line(struct tester *t, const char *line, size_t len, size_t lineno,
    const char *file, struct expected *exp, size_t nexp)
{
	struct tw_buf mp, json, rec, canon;
	struct tw_mpw w;
	struct tw_value v, kind, target, expect, record;
	char *id = NULL, **want = NULL, **got = NULL, *why = NULL;
	size_t nwant = 0;
	bool ok = true, near = false;
	int rc = 0;

	tw_buf_init(&mp, LINE_MAX_BYTES);
	tw_buf_init(&json, LINE_MAX_BYTES);
	tw_buf_init(&rec, LINE_MAX_BYTES);
	tw_buf_init(&canon, LINE_MAX_BYTES);
	clear_fired(t);
	tw_mpw_init(&w, &mp);
	if (tw_json_to_mp(line, len, &w, NULL, NULL) != 0 ||
	    !top_value(mp.data, mp.len, "record", &record) ||
	    record.o.type != TW_MP_MAP) {
		printf("FAIL %s:%zu: not a labelled event (JSON object with a "
		    "record)\n", file, lineno);
		t->failed++;
		goto out;
	}
	if (top_value(mp.data, mp.len, "id", &v))
		id = value_strdup(&v);
	if (id == NULL && asprintf(&id, "%s:%zu", file, lineno) == -1) {
		rc = TW_ENOMEM;
		goto out;
	}
	if (top_value(mp.data, mp.len, "expect", &expect) &&
	    expect.o.type == TW_MP_ARRAY) {
		struct tw_mp_reader r;

		if ((want = calloc(expect.o.v.count + 1, sizeof(*want))) == NULL) {
			rc = TW_ENOMEM;
			goto out;
		}
		tw_mp_reader_init(&r, expect.body,
		    (size_t)(expect.end - expect.body));
		for (uint32_t i = 0; i < expect.o.v.count; i++) {
			if (tw_value_read(&r, expect.end, &v) != 0 ||
			    tw_value_skip_rest(&r, &v) != 0)
				break;
			if ((want[nwant] = value_strdup(&v)) != NULL) {
				nwant++;
				for (size_t c = 0; c < tw_ruleset_count(t->rs);
				    c++)
					if (strcmp(tw_ruleset_rule(t->rs, c)->id,
					    want[nwant - 1]) == 0)
						t->pos_cov[c]++;
			}
		}
		qsort(want, nwant, sizeof(*want), str_cmp);
	}
	/* The record as the pipeline has it: canonical JSON -> msgpack. */
	{
		struct tw_mp_reader r;
		struct tw_mpw rw;

		tw_mp_reader_init(&r, record.p, (size_t)(record.end - record.p));
		tw_mpw_init(&rw, &rec);
		if ((rc = tw_json_from_mp(&json, &r, NULL, 0)) != 0 ||
		    (rc = tw_record_from_json(json.data, json.len, &rw,
		    &why)) != 0) {
			printf("FAIL %s: bad record: %s\n", id,
			    why != NULL ? why : tw_strerror(rc));
			t->failed++;
			rc = 0;
			goto out;
		}
	}
	rc = tw_engine_match(t->rs, t->ctx, rec.data, rec.len);
	if (rc == 0)
		rc = tw_engine_fire(t->rs, t->ctx, t->st, rec.data, rec.len,
		    t->now_set ? t->now : tw_time_now_ns(), on_alert, t,
		    on_summary, t);
	if (rc == TW_ENOMEM)
		goto out;
	if (rc != 0) {
		printf("FAIL %s: cannot evaluate the record: %s\n", id,
		    tw_strerror(rc));
		rc = 0;
	}
	if ((got = calloc(t->nfired + 1, sizeof(*got))) == NULL) {
		rc = TW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < t->nfired; i++)
		got[i] = t->fired[i].rule;
	qsort(got, t->nfired, sizeof(*got), str_cmp);
	if (nwant != t->nfired)
		ok = false;
	for (size_t i = 0; ok && i < nwant; i++)
		ok = strcmp(want[i], got[i]) == 0;
	if (!ok) {
		printf("FAIL %s: expected ", id);
		print_ids(want, nwant);
		printf(" got ");
		print_ids(got, t->nfired);
		printf("\n");
	}
	/* The alert objects, when a golden file is given. */
	if (ok && exp != NULL) {
		size_t k = 0;

		for (size_t i = 0; i < nexp && ok; i++) {
			if (exp[i].test_id == NULL || strcmp(exp[i].test_id, id) != 0)
				continue;
			if (k >= t->nfired) {
				printf("FAIL %s: missing alert, expected %s\n", id,
				    exp[i].alert);
				ok = false;
				break;
			}
			if ((rc = canonical(t->fired[k].json,
			    strlen(t->fired[k].json), &canon)) != 0)
				goto out;
			if (strcmp(canon.data, exp[i].alert) != 0) {
				printf("FAIL %s: alert of %s differs\n  expected %s\n"
				    "  got      %s\n", id, t->fired[k].rule,
				    exp[i].alert, canon.data);
				ok = false;
			}
			exp[i].used = true;
			k++;
		}
		if (ok && k != t->nfired) {
			printf("FAIL %s: %zu alerts, the golden file has %zu\n", id,
			    t->nfired, k);
			ok = false;
		}
	}
	if (ok)
		t->passed++;
	else
		t->failed++;
	if (top_value(mp.data, mp.len, "kind", &kind) &&
	    kind.o.type == TW_MP_STR && tw_mp_str_eq(&kind.o, "near_miss"))
		near = true;
	if (top_value(mp.data, mp.len, "rule", &target) &&
	    target.o.type == TW_MP_STR) {
		char *tr = value_strdup(&target);
		long ri = tr != NULL ? tw_ruleset_find(t->rs, tr) : -1;

		if (ri < 0)
			printf("WARN %s: unknown target rule %s\n", id,
			    tr != NULL ? tr : "?");
		if (near && ri >= 0) {
			const size_t *m;
			size_t nm = tw_engine_matched(t->ctx, &m);

			t->neg_cov[ri]++;
			for (size_t i = 0; i < nm; i++)
				if (m[i] == (size_t)ri &&
				    !tw_ruleset_rule(t->rs, ri)->threshold) {
					printf("FAIL %s: condition of %s matched "
					    "(alert hidden only by throttle?)\n", id,
					    tr);
					t->failed++;
				}
		}
		free(tr);
	}
	for (size_t i = 0; i < t->nfired; i++) {
		if (t->verbose)
			printf("  ALERT %-32s %s\n", t->fired[i].rule,
			    t->fired[i].output);
		if (t->alerts_out != NULL) {
			tw_buf_reset(&canon);
			if ((rc = tw_buf_add(&canon, "{\"alert\":", 9)) != 0 ||
			    (rc = tw_buf_adds(&canon, t->fired[i].json)) != 0 ||
			    (rc = tw_buf_adds(&canon, ",\"test_id\":")) != 0 ||
			    (rc = tw_cjson_str(&canon, id, strlen(id))) != 0 ||
			    (rc = tw_buf_add(&canon, "}\n", 2)) != 0)
				goto out;
			fwrite(canon.data, 1, canon.len, t->alerts_out);
		}
	}
out:
	for (size_t i = 0; i < nwant; i++)
		free(want[i]);
	free(want);
	free(got);
	free(id);
	free(why);
	tw_buf_cleanup(&mp);
	tw_buf_cleanup(&json);
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&canon);
	return rc;
}

static int
test_file(struct tester *t, const char *path)
{
	struct expected *exp = NULL;
	size_t nexp = 0, cap = 0, lineno = 0, plen = strlen(path);
	char *golden = NULL, *line = NULL;
	ssize_t len;
	FILE *f;
	int rc = 0;

	if (plen > 6 && strcmp(path + plen - 6, ".jsonl") == 0) {
		if (asprintf(&golden, "%.*s.alerts.jsonl", (int)(plen - 6),
		    path) == -1)
			return TW_ENOMEM;
		if ((rc = load_expected(golden, &exp, &nexp)) != 0) {
			fprintf(stderr, "trawl rules test: %s: cannot read: %s\n",
			    golden, tw_strerror(rc));
			free(golden);
			return rc;
		}
		if (exp == NULL && access(golden, F_OK) == 0) {
			/* an empty golden file: no alert at all is expected */
			exp = calloc(1, sizeof(*exp));
		}
	}
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "trawl rules test: %s: %s\n", path,
		    strerror(errno));
		free_expected(exp, nexp);
		free(golden);
		return TW_EIO;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
		    line[len - 1] == ' '))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if ((size_t)len > LINE_MAX_BYTES) {
			printf("FAIL %s:%zu: line longer than %zu bytes\n", path,
			    lineno, LINE_MAX_BYTES);
			t->failed++;
			continue;
		}
		if ((rc = test_line(t, line, (size_t)len, lineno, path, exp,
		    nexp)) != 0)
			break;
	}
	for (size_t i = 0; rc == 0 && i < nexp; i++)
		if (!exp[i].used) {
			printf("FAIL %s: golden alert of an event that fired "
			    "nothing or does not exist: %s\n",
			    exp[i].test_id != NULL ? exp[i].test_id : "?",
			    exp[i].alert);
			t->failed++;
		}
	fclose(f);
	free(line);
	free_expected(exp, nexp);
	free(golden);
	return rc;
}

static void
print_suppressed(const struct tester *t)
{
	bool first = true;
	char **ids;
	size_t n = tw_ruleset_count(t->rs), k = 0;

	printf("throttle-suppressed alerts: {");
	if ((ids = calloc(n + 1, sizeof(*ids))) != NULL) {
		for (size_t i = 0; i < n; i++)
			if (tw_state_suppressed(t->st, i) > 0)
				ids[k++] = (char *)tw_ruleset_rule(t->rs, i)->id;
		qsort(ids, k, sizeof(*ids), str_cmp);
		for (size_t i = 0; i < k; i++) {
			long ri = tw_ruleset_find(t->rs, ids[i]);

			printf("%s'%s': %llu", first ? "" : ", ", ids[i],
			    (unsigned long long)tw_state_suppressed(t->st,
			    (size_t)ri));
			first = false;
		}
		free(ids);
	}
	printf("}\n");
}

static int
rules_test(int argc, char **argv)
{
	struct tw_conf_diag d, w;
	struct tw_ruleset *rs = NULL;
	struct tester t;
	const char **paths = NULL, **events = NULL, *alerts = NULL;
	size_t npaths = 0, nevents = 0;
	unsigned flags = 0, eflags = 0;
	bool in_rules = false;
	int r, rc = 2;

	memset(&t, 0, sizeof(t));
	tw_conf_diag_init(&d);
	tw_conf_diag_init(&w);
	if ((paths = calloc((size_t)argc + 1, sizeof(*paths))) == NULL ||
	    (events = calloc((size_t)argc + 1, sizeof(*events))) == NULL)
		goto out;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t al = strlen(a);

		if (strcmp(a, "--rules") == 0) {
			in_rules = true;
		} else if (strncmp(a, "--rules=", 8) == 0) {
			paths[npaths++] = a + 8;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			t.verbose = true;
		} else if (strcmp(a, "--sigma-skip") == 0) {
			flags |= TW_LOAD_SIGMA_SKIP;
		} else if (strcmp(a, "--exhaustive") == 0) {
			eflags |= TW_ENGINE_EXHAUSTIVE;
		} else if (strcmp(a, "--alerts") == 0 && i + 1 < argc) {
			alerts = argv[++i];
		} else if (strcmp(a, "--now") == 0 && i + 1 < argc) {
			char *end;

			errno = 0;
			t.now = strtoll(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0') {
				fprintf(stderr, "trawl rules test: bad --now %s\n",
				    argv[i]);
				goto out;
			}
			t.now_set = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			rules_usage(stdout);
			rc = 0;
			goto out;
		} else if (strcmp(a, "--") == 0) {
			in_rules = false;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "trawl rules test: unknown option %s\n", a);
			goto out;
		} else if (in_rules && !(al > 6 &&
		    strcmp(a + al - 6, ".jsonl") == 0)) {
			paths[npaths++] = a;
		} else {
			in_rules = false;
			events[nevents++] = a;
		}
	}
	if (npaths == 0 || nevents == 0) {
		rules_usage(stderr);
		goto out;
	}
	r = tw_ruleset_load(paths, npaths, flags, &rs, &d, &w);
	print_diag(&w, stderr);
	if (r != 0) {
		print_diag(&d, stdout);
		if (r != TW_ECONFIG)
			printf("load error: %s\n", tw_strerror(r));
		printf("0 passed, 1 failed\n");
		goto out;
	}
	t.rs = rs;
	if ((t.ctx = tw_engine_ctx_new()) == NULL ||
	    (t.st = tw_state_new(tw_ruleset_count(rs))) == NULL ||
	    (t.pos_cov = calloc(tw_ruleset_count(rs) + 1,
	    sizeof(*t.pos_cov))) == NULL ||
	    (t.neg_cov = calloc(tw_ruleset_count(rs) + 1,
	    sizeof(*t.neg_cov))) == NULL) {
		fprintf(stderr, "trawl rules test: out of memory\n");
		goto out;
	}
	tw_engine_ctx_set_flags(t.ctx, eflags);
	if (alerts != NULL && (t.alerts_out = fopen(alerts, "w")) == NULL) {
		fprintf(stderr, "trawl rules test: %s: %s\n", alerts,
		    strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < nevents; i++) {
		if ((r = test_file(&t, events[i])) != 0) {
			if (r != TW_EIO)
				fprintf(stderr, "trawl rules test: %s\n",
				    tw_strerror(r));
			t.failed++;
		}
	}
	for (size_t i = 0; i < tw_ruleset_count(rs); i++)
		if (t.pos_cov[i] == 0 || t.neg_cov[i] == 0) {
			printf("COVERAGE %s: %zu positive, %zu near-miss tests\n",
			    tw_ruleset_rule(rs, i)->id, t.pos_cov[i],
			    t.neg_cov[i]);
			t.failed++;
		}
	tw_state_flush(t.st, on_summary, &t);
	print_suppressed(&t);
	printf("%zu passed, %zu failed\n", t.passed, t.failed);
	rc = t.failed == 0 ? 0 : 1;
out:
	if (t.alerts_out != NULL && fclose(t.alerts_out) != 0)
		rc = 2;
	clear_fired(&t);
	free(t.fired);
	free(t.pos_cov);
	free(t.neg_cov);
	tw_state_free(t.st);
	tw_engine_ctx_free(t.ctx);
	tw_ruleset_free(rs);
	tw_conf_diag_cleanup(&d);
	tw_conf_diag_cleanup(&w);
	free(paths);
	free(events);
	fflush(stdout);
	return rc;
}

int
cmd_rules(int argc, char **argv)
{
	if (argc < 2) {
		rules_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "check") == 0)
		return rules_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "test") == 0)
		return rules_test(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		rules_usage(stdout);
		return 0;
	}
	fprintf(stderr, "trawl rules: unknown subcommand '%s'\n", argv[1]);
	rules_usage(stderr);
	return 2;
}

/* kv.c: key=value pairs, unescaping and year-less times for line formats. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "timefmt.h"
#include "utf8.h"

#define NS_PER_SEC 1000000000LL
#define NS_PER_DAY (86400LL * NS_PER_SEC)

void
tw_kv_init(struct tw_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
}

void
tw_kv_cleanup(struct tw_kv *kv)
{
	free(kv->pairs);
	free(kv->slots);
	memset(kv, 0, sizeof(*kv));
}

void
tw_kv_reset(struct tw_kv *kv)
{
	kv->n = 0;
}

int
tw_kv_push(struct tw_kv *kv, const char *key, size_t klen, const char *val,
    size_t vlen, enum tw_kv_esc esc)
{
	struct tw_kv_pair *kp;

	if (kv->n >= TW_KV_PAIRS_MAX)
		return TW_ELIMIT;
	if (kv->n == kv->cap) {
		size_t cap = kv->cap == 0 ? 32 : kv->cap * 2;
		if (cap > TW_KV_PAIRS_MAX)
			cap = TW_KV_PAIRS_MAX;
		if ((kp = realloc(kv->pairs, cap * sizeof(*kp))) == NULL)
			return TW_ENOMEM;
		kv->pairs = kp;
		kv->cap = cap;
	}
	kp = &kv->pairs[kv->n++];
	kp->key = key;
	kp->klen = (uint32_t)klen;
	kp->val = val;
	kp->vlen = (uint32_t)vlen;
	kp->sub = 0;
	kp->esc = (uint8_t)esc;
	kp->dup = false;
	return 0;
}

/* The logfmt grammar of the reference generator, over bytes. */
int
tw_kv_logfmt(struct tw_kv *kv, const char *p, size_t n)
{
	size_t i = 0, j, k, eq;
	const char *sp;
	int with_eq = 0, r;

	while (i < n) {
		while (i < n && p[i] == ' ')
			i++;
		if (i >= n)
			break;
		for (j = i; j < n && p[j] != '=' && p[j] != ' '; j++)
			;
		if (j >= n || p[j] == ' ') {
			if ((r = tw_kv_push(kv, p + i, j - i, NULL, 0,
			    TW_KV_ESC_NONE)) != 0)
				return r;
			i = j;
			continue;
		}
		eq = j++;
		if (j < n && p[j] == '"') {
			for (k = ++j; k < n && p[k] != '"'; k++)
				if (p[k] == '\\' && k + 1 < n)
					k++;
			r = tw_kv_push(kv, p + i, eq - i, p + j, k - j,
			    TW_KV_ESC_ANY);
			i = k + 1;
		} else {
			sp = memchr(p + j, ' ', n - j);
			k = sp != NULL ? (size_t)(sp - p) : n;
			r = tw_kv_push(kv, p + i, eq - i, p + j, k - j,
			    TW_KV_ESC_NONE);
			i = k;
		}
		if (r != 0)
			return r;
		with_eq++;
	}
	return with_eq;
}

static uint32_t
hash_key(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 16777619u;
	return h;
}

uint32_t
tw_kv_dedupe(struct tw_kv *kv, size_t from, size_t to)
{
	size_t want = 16, mask;
	uint32_t distinct = 0;

	if (to <= from)
		return 0;
	if (to - from <= 8) {
		/* A few pairs: comparing is cheaper than hashing. */
		for (size_t i = to; i-- > from;) {
			struct tw_kv_pair *a = &kv->pairs[i];
			a->dup = false;
			for (size_t j = i + 1; j < to && !a->dup; j++)
				a->dup = kv->pairs[j].klen == a->klen &&
				    memcmp(kv->pairs[j].key, a->key,
				    a->klen) == 0;
			distinct += !a->dup;
		}
		return distinct;
	}
	while (want < (to - from) * 2)
		want *= 2;
	if (want > kv->nslots) {
		uint32_t *s = realloc(kv->slots, want * sizeof(*s));
		if (s == NULL) {
			/* No table: keep every pair (no worse than before). */
			for (size_t i = from; i < to; i++)
				kv->pairs[i].dup = false;
			return (uint32_t)(to - from);
		}
		kv->slots = s;
		kv->nslots = want;
	}
	memset(kv->slots, 0, want * sizeof(*kv->slots));
	mask = want - 1;
	for (size_t i = to; i-- > from;) {
		struct tw_kv_pair *a = &kv->pairs[i];
		size_t h = hash_key(a->key, a->klen) & mask;
		a->dup = false;
		while (kv->slots[h] != 0) {
			const struct tw_kv_pair *b =
			    &kv->pairs[kv->slots[h] - 1];
			if (b->klen == a->klen &&
			    memcmp(b->key, a->key, a->klen) == 0) {
				a->dup = true;
				break;
			}
			h = (h + 1) & mask;
		}
		if (!a->dup) {
			kv->slots[h] = (uint32_t)i + 1;
			distinct++;
		}
	}
	return distinct;
}

const struct tw_kv_pair *
tw_kv_get(const struct tw_kv *kv, size_t from, size_t to, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = to; i-- > from;)
		if (kv->pairs[i].klen == n &&
		    memcmp(kv->pairs[i].key, key, n) == 0)
			return &kv->pairs[i];
	return NULL;
}

/* Whether c after a backslash is an escape under esc. */
static bool
escapes(enum tw_kv_esc esc, char c)
{
	if (esc == TW_KV_ESC_ANY)
		return true;
	return c == '"' || c == '\\' || c == ']';
}

/* p[0..n) with escapes resolved, into scratch (reset first). */
static int
unescape(struct tw_buf *scratch, const char *p, size_t n, enum tw_kv_esc esc)
{
	const char *bs = memchr(p, '\\', n);
	size_t i = 0, at;
	int r;

	tw_buf_reset(scratch);
	while (bs != NULL) {
		at = (size_t)(bs - p);
		if ((r = tw_buf_add(scratch, p + i, at - i)) != 0)
			return r;
		if (at + 1 < n && escapes(esc, p[at + 1])) {
			r = tw_buf_addc(scratch, p[at + 1]);
			i = at + 2;
		} else {
			r = tw_buf_addc(scratch, '\\');
			i = at + 1;
		}
		if (r != 0)
			return r;
		bs = i < n ? memchr(p + i, '\\', n - i) : NULL;
	}
	return tw_buf_add(scratch, p + i, n - i);
}

bool
tw_kv_value(struct tw_buf *scratch, const struct tw_kv_pair *kp,
    const char **p, size_t *n)
{
	if (kp == NULL || kp->val == NULL)
		return false;
	*p = kp->val;
	*n = kp->vlen;
	if (kp->esc == TW_KV_ESC_NONE || memchr(*p, '\\', *n) == NULL)
		return true;
	if (unescape(scratch, *p, *n, (enum tw_kv_esc)kp->esc) != 0)
		return false;
	*p = scratch->data;
	*n = scratch->len;
	return true;
}

void
tw_kv_write_str(struct tw_mpw *w, struct tw_buf *scratch, const char *p,
    size_t n, enum tw_kv_esc esc)
{
	int r;

	if (esc == TW_KV_ESC_NONE || memchr(p, '\\', n) == NULL) {
		tw_mpw_str(w, p, n);
		return;
	}
	if ((r = unescape(scratch, p, n, esc)) != 0) {
		if (w->err == 0)
			w->err = r;
		return;
	}
	tw_mpw_str(w, scratch->data, scratch->len);
}

void
tw_kv_write_val(struct tw_mpw *w, struct tw_buf *scratch,
    const struct tw_kv_pair *kp)
{
	if (kp->val == NULL)
		tw_mpw_bool(w, true);
	else
		tw_kv_write_str(w, scratch, kp->val, kp->vlen,
		    (enum tw_kv_esc)kp->esc);
}

uint32_t
tw_kv_write_pairs(struct tw_mpw *w, struct tw_buf *scratch,
    const struct tw_kv *kv, size_t from, size_t to)
{
	uint32_t written = 0;

	for (size_t i = from; i < to; i++) {
		const struct tw_kv_pair *kp = &kv->pairs[i];
		if (kp->dup)
			continue;
		tw_mpw_str(w, kp->key, kp->klen);
		tw_kv_write_val(w, scratch, kp);
		written++;
	}
	return written;
}

int
tw_kv_line(struct tw_kv_line *l, struct tw_buf *clean, const char *p,
    size_t n)
{
	int r;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	l->p = p;
	l->n = n;
	l->raw = NULL;
	l->rawlen = 0;
	if (tw_utf8_valid(p, n))
		return 0;
	tw_buf_reset(clean);
	if ((r = tw_utf8_sanitize(clean, p, n)) != 0)
		return r;
	l->p = clean->data;
	l->n = clean->len;
	l->raw = p;
	l->rawlen = n;
	return 0;
}

uint32_t
tw_kv_write_raw(struct tw_mpw *w, const struct tw_kv_line *l)
{
	if (l->raw == NULL)
		return 0;
	tw_mpw_cstr(w, "raw");
	tw_mpw_bin(w, l->raw, l->rawlen);
	return 1;
}

uint32_t
tw_kv_write_time(struct tw_mpw *w, const struct tw_parse_opts *o, int64_t ns)
{
	tw_mpw_cstr(w, "time");
	tw_mpw_timestamp(w, ns);
	if (!o->observed_time)
		return 1;
	tw_mpw_cstr(w, "observed_time");
	tw_mpw_timestamp(w, o->now_ns);
	return 2;
}

bool
tw_kv_uint(const char *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	*v = x;
	return true;
}

int
tw_kv_month(const char *p)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (memcmp(names + 3 * i, p, 3) == 0)
			return i + 1;
	return 0;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil year of a day count since 1970-01-01. */
static int64_t
year_of_days(int64_t z)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return yoe + era * 400 + (mp >= 10);
}

int64_t
tw_kv_civil_ns(int64_t year, int mon, int day, int hour, int min, int sec,
    int64_t frac_ns)
{
	int64_t secs = days_from_civil(year, mon, day) * 86400 + hour * 3600 +
	    min * 60 + sec, t;

	/* Saturate rather than wrap for a clock near the ends of int64. */
	if (__builtin_mul_overflow(secs, NS_PER_SEC, &t) ||
	    __builtin_add_overflow(t, frac_ns, &t))
		return secs < 0 ? INT64_MIN : INT64_MAX;
	return t;
}

int64_t
tw_kv_yearless_ns(int64_t now_ns, int mon, int day, int hour, int min,
    int sec, int64_t frac_ns)
{
	int64_t days = now_ns / NS_PER_DAY, year, t;

	if (now_ns % NS_PER_DAY < 0)
		days--;
	year = year_of_days(days);
	t = tw_kv_civil_ns(year, mon, day, hour, min, sec, frac_ns);
	if (now_ns <= INT64_MAX - NS_PER_DAY && t > now_ns + NS_PER_DAY)
		t = tw_kv_civil_ns(year - 1, mon, day, hour, min, sec,
		    frac_ns);
	return t;
}

int
tw_kv_time(const char *p, size_t n, int64_t *ns)
{
	char z[32];

	if (tw_time_parse_rfc3339(p, n, ns) == 0)
		return 0;
	/* Without a zone: UTC, as the reference generators read it. */
	if (n < 19 || n > 29 || (n > 19 && p[19] != '.'))
		return TW_EPARSE;
	for (size_t i = 20; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return TW_EPARSE;
	memcpy(z, p, n);
	z[n] = 'Z';
	return tw_time_parse_rfc3339(z, n + 1, ns);
}

/* value.c: record values as rules see them: string form, numbers, canonical JSON. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "timefmt.h"
#include "utf8.h"
#include "value.h"

#define CJSON_DEPTH_MAX 64
#define NUM_TEXT_MAX 512 /* longer numeric strings are parsed from the heap */

int
tw_value_read(struct tw_mp_reader *r, const uint8_t *end, struct tw_value *v)
{
	int rc;

	v->p = r->p;
	v->end = end;
	if ((rc = tw_mp_read(r, &v->o)) != 0)
		return rc;
	v->body = r->p;
	return 0;
}

int
tw_value_skip_rest(struct tw_mp_reader *r, const struct tw_value *v)
{
	struct tw_mp_limits lim;

	if (v->o.type != TW_MP_MAP && v->o.type != TW_MP_ARRAY)
		return 0;
	/* Skip the whole value again from its first byte. */
	tw_mp_limits_default(&lim);
	lim.depth_max = CJSON_DEPTH_MAX;
	tw_mp_reader_init(r, v->p, (size_t)(v->end - v->p));
	return tw_mp_skip(r, &lim);
}

int
tw_value_span(const struct tw_value *v, size_t *len)
{
	struct tw_mp_reader r;
	int rc;

	if (v->o.type != TW_MP_MAP && v->o.type != TW_MP_ARRAY) {
		*len = (size_t)(v->body - v->p);
		return 0;
	}
	if ((rc = tw_value_skip_rest(&r, v)) != 0)
		return rc;
	*len = (size_t)(r.p - v->p);
	return 0;
}

bool
tw_value_int(const struct tw_value *v, int64_t *i, uint64_t *u, bool *neg)
{
	int64_t ns;

	switch (v->o.type) {
	case TW_MP_UINT:
		*u = v->o.v.u;
		*i = v->o.v.u > INT64_MAX ? INT64_MAX : (int64_t)v->o.v.u;
		*neg = false;
		return true;
	case TW_MP_INT:
		*i = v->o.v.i;
		*u = (uint64_t)(-(v->o.v.i + 1)) + 1;
		*neg = v->o.v.i < 0;
		if (!*neg)
			*u = (uint64_t)v->o.v.i;
		return true;
	case TW_MP_EXT:
		if (v->o.ext_type != TW_MP_EXT_TIMESTAMP ||
		    tw_time_from_mp_timestamp(v->o.v.s.p, v->o.v.s.len, &ns) != 0)
			return false;
		*i = ns;
		*neg = ns < 0;
		*u = *neg ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
		return true;
	default:
		return false;
	}
}

/* [+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)? over all of s. */
static bool
num_grammar(const char *s, size_t n)
{
	size_t i = 0, d = 0, f = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, d++;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, f++;
	}
	if (d == 0 && f == 0)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = 0;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, e++;
		if (e == 0)
			return false;
	}
	return i == n;
}

bool
tw_num_parse(const char *s, size_t n, double *d)
{
	char small[NUM_TEXT_MAX + 1], *t = small;

	if (n == 0 || !num_grammar(s, n))
		return false;
	if (n > NUM_TEXT_MAX && (t = malloc(n + 1)) == NULL)
		return false;
	memcpy(t, s, n);
	t[n] = '\0';
	*d = strtod(t, NULL);
	if (t != small)
		free(t);
	return true;
}

bool
tw_value_num(const struct tw_value *v, double *d)
{
	int64_t i;
	uint64_t u;
	bool neg;

	switch (v->o.type) {
	case TW_MP_FLOAT:
		*d = v->o.v.f;
		return true;
	case TW_MP_STR:
		return tw_num_parse(v->o.v.s.p, v->o.v.s.len, d);
	default:
		if (!tw_value_int(v, &i, &u, &neg))
			return false;
		*d = neg ? (double)i : (double)u;
		return true;
	}
}

void
tw_num_str(double d, char *buf)
{
	if (isnan(d)) {
		strcpy(buf, "NaN");
		return;
	}
	if (isinf(d)) {
		strcpy(buf, d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	if (d == floor(d) && fabs(d) < 9007199254740992.0) {
		snprintf(buf, TW_NUM_STR_MAX, "%lld", (long long)d);
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, TW_NUM_STR_MAX, "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

static int
add_int(struct tw_buf *out, const struct tw_value *v)
{
	int64_t i;
	uint64_t u;
	bool neg;

	if (!tw_value_int(v, &i, &u, &neg))
		return TW_EINVAL;
	if (neg)
		return tw_buf_addf(out, "-%llu", (unsigned long long)u);
	return tw_buf_addf(out, "%llu", (unsigned long long)u);
}

int
tw_cjson_num(struct tw_buf *out, double d)
{
	char t[TW_NUM_STR_MAX];

	if (isnan(d) || isinf(d))
		return tw_buf_add(out, "null", 4);
	tw_num_str(d, t);
	return tw_buf_adds(out, t);
}

int
tw_cjson_str(struct tw_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run, len, bad;
	int r;

	if ((r = tw_buf_addc(out, '"')) != 0)
		return r;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		/* Copy runs of plain printable ASCII at once. */
		run = i;
		while (run < n && (unsigned char)s[run] >= 0x20 &&
		    (unsigned char)s[run] < 0x80 && s[run] != '"' &&
		    s[run] != '\\')
			run++;
		if (run > i) {
			if ((r = tw_buf_add(out, s + i, run - i)) != 0)
				return r;
			i = run;
			continue;
		}
		if (c < 0x20 || c == '"' || c == '\\') {
			char e[7] = { '\\', 0, 0, 0, 0, 0, 0 };
			size_t el = 2;

			switch (c) {
			case '"': e[1] = '"'; break;
			case '\\': e[1] = '\\'; break;
			case '\b': e[1] = 'b'; break;
			case '\f': e[1] = 'f'; break;
			case '\n': e[1] = 'n'; break;
			case '\r': e[1] = 'r'; break;
			case '\t': e[1] = 't'; break;
			default:
				e[1] = 'u';
				e[2] = '0';
				e[3] = '0';
				e[4] = hex[c >> 4];
				e[5] = hex[c & 15];
				el = 6;
			}
			if ((r = tw_buf_add(out, e, el)) != 0)
				return r;
			i++;
			continue;
		}
		if ((len = tw_utf8_char(s + i, n - i, &bad)) == 0) {
			if ((r = tw_buf_add(out, "\xef\xbf\xbd", 3)) != 0)
				return r;
			i += bad;
			continue;
		}
		if ((r = tw_buf_add(out, s + i, len)) != 0)
			return r;
		i += len;
	}
	return tw_buf_addc(out, '"');
}

int
tw_value_str(const struct tw_value *v, struct tw_buf *tmp, const char **s,
    size_t *n)
{
	char t[TW_NUM_STR_MAX];
	int r = 0;

	tw_buf_reset(tmp);
	switch (v->o.type) {
	case TW_MP_STR:
		*s = v->o.v.s.p;
		*n = v->o.v.s.len;
		return 0;
	case TW_MP_BOOL:
		*s = v->o.v.b ? "true" : "false";
		*n = strlen(*s);
		return 0;
	case TW_MP_NIL:
		*s = "";
		*n = 0;
		return 0;
	case TW_MP_FLOAT:
		tw_num_str(v->o.v.f, t);
		r = tw_buf_adds(tmp, t);
		break;
	case TW_MP_UINT:
	case TW_MP_INT:
		r = add_int(tmp, v);
		break;
	case TW_MP_EXT:
		if (v->o.ext_type == TW_MP_EXT_TIMESTAMP && add_int(tmp, v) == 0)
			break;
		/* FALLTHROUGH */
	case TW_MP_BIN:
		r = tw_base64_encode(tmp, v->o.v.s.p, v->o.v.s.len);
		break;
	default:
		r = tw_value_cjson(tmp, v, NULL);
		break;
	}
	if (r != 0)
		return r;
	*s = tmp->data != NULL ? tmp->data : "";
	*n = tmp->len;
	return 0;
}

bool
tw_ascii_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tw_lower((unsigned char)a[i]) != tw_lower((unsigned char)b[i]))
			return false;
	return true;
}

const char *
tw_memmem_fold(const char *hay, size_t hn, const char *needle, size_t nn,
    bool fold)
{
	unsigned char first;

	if (nn == 0)
		return hay;
	if (nn > hn)
		return NULL;
	if (!fold)
		return memmem(hay, hn, needle, nn);
	first = tw_lower((unsigned char)needle[0]);
	for (size_t i = 0; i + nn <= hn; i++)
		if (tw_lower((unsigned char)hay[i]) == first &&
		    tw_ascii_eq(hay + i + 1, needle + 1, nn - 1))
			return hay + i;
	return NULL;
}

/* One member of a map being rendered in key order. */
struct member {
	const char *key;
	size_t klen;
	char *owned; /* the key text when it was not a string */
	struct tw_value val;
	size_t index;
};

static int
member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->index < y->index ? -1 : 1;
}

static int cjson_rec(struct tw_buf *out, struct tw_mp_reader *r,
    const uint8_t *end, int depth, const char *skip_key);

static int
cjson_map(struct tw_buf *out, const struct tw_value *v, struct tw_mp_reader *r,
    int depth, const char *skip_key)
{
	struct tw_buf tmp;
	struct member *m = NULL;
	struct tw_value key;
	struct tw_mp_reader vr;
	uint32_t n = v->o.v.count, k = 0;
	bool first = true;
	int rc = 0;

	tw_buf_init(&tmp, 1 << 20);
	if (n > 0 && (m = calloc(n, sizeof(*m))) == NULL)
		return TW_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const char *s;
		size_t len;

		if ((rc = tw_value_read(r, v->end, &key)) != 0)
			goto out;
		if (key.o.type == TW_MP_STR) {
			m[k].key = key.o.v.s.p;
			m[k].klen = key.o.v.s.len;
		} else {
			if (key.o.type == TW_MP_MAP || key.o.type == TW_MP_ARRAY) {
				rc = TW_EUNSUPPORTED;
				goto out;
			}
			if ((rc = tw_value_str(&key, &tmp, &s, &len)) != 0)
				goto out;
			if ((m[k].owned = malloc(len + 1)) == NULL) {
				rc = TW_ENOMEM;
				goto out;
			}
			memcpy(m[k].owned, s, len);
			m[k].key = m[k].owned;
			m[k].klen = len;
		}
		if ((rc = tw_value_read(r, v->end, &m[k].val)) != 0 ||
		    (rc = tw_value_skip_rest(r, &m[k].val)) != 0)
			goto out;
		m[k].index = i;
		if (skip_key != NULL && m[k].klen == strlen(skip_key) &&
		    memcmp(m[k].key, skip_key, m[k].klen) == 0) {
			free(m[k].owned);
			m[k].owned = NULL;
			continue;
		}
		k++;
	}
	if (k > 1)
		qsort(m, k, sizeof(*m), member_cmp);
	if ((rc = tw_buf_addc(out, '{')) != 0)
		goto out;
	for (uint32_t i = 0; i < k; i++) {
		/* Equal keys sort by position: the last one wins. */
		if (i + 1 < k && m[i].klen == m[i + 1].klen &&
		    memcmp(m[i].key, m[i + 1].key, m[i].klen) == 0)
			continue;
		if ((!first && (rc = tw_buf_addc(out, ',')) != 0) ||
		    (rc = tw_cjson_str(out, m[i].key, m[i].klen)) != 0 ||
		    (rc = tw_buf_addc(out, ':')) != 0)
			goto out;
		first = false;
		tw_mp_reader_init(&vr, m[i].val.p, (size_t)(v->end - m[i].val.p));
		if ((rc = cjson_rec(out, &vr, v->end, depth + 1, NULL)) != 0)
			goto out;
	}
	rc = tw_buf_addc(out, '}');
out:
	for (uint32_t i = 0; m != NULL && i < n; i++)
		free(m[i].owned);
	free(m);
	tw_buf_cleanup(&tmp);
	return rc;
}

static int
cjson_rec(struct tw_buf *out, struct tw_mp_reader *r, const uint8_t *end,
    int depth, const char *skip_key)
{
	struct tw_value v;
	char t[TW_NUM_STR_MAX];
	int rc;

	if (depth > CJSON_DEPTH_MAX)
		return TW_EDEPTH;
	if ((rc = tw_value_read(r, end, &v)) != 0)
		return rc;
	switch (v.o.type) {
	case TW_MP_NIL:
		return tw_buf_add(out, "null", 4);
	case TW_MP_BOOL:
		return tw_buf_adds(out, v.o.v.b ? "true" : "false");
	case TW_MP_FLOAT:
		if (isnan(v.o.v.f) || isinf(v.o.v.f))
			return tw_buf_add(out, "null", 4);
		tw_num_str(v.o.v.f, t);
		return tw_buf_adds(out, t);
	case TW_MP_UINT:
	case TW_MP_INT:
		return add_int(out, &v);
	case TW_MP_STR:
		return tw_cjson_str(out, v.o.v.s.p, v.o.v.s.len);
	case TW_MP_EXT:
		if (v.o.ext_type == TW_MP_EXT_TIMESTAMP && add_int(out, &v) == 0)
			return 0;
		/* FALLTHROUGH */
	case TW_MP_BIN:
		if ((rc = tw_buf_addc(out, '"')) != 0 ||
		    (rc = tw_base64_encode(out, v.o.v.s.p, v.o.v.s.len)) != 0)
			return rc;
		return tw_buf_addc(out, '"');
	case TW_MP_ARRAY:
		if ((rc = tw_buf_addc(out, '[')) != 0)
			return rc;
		for (uint32_t i = 0; i < v.o.v.count; i++) {
			if ((i > 0 && (rc = tw_buf_addc(out, ',')) != 0) ||
			    (rc = cjson_rec(out, r, end, depth + 1, NULL)) != 0)
				return rc;
		}
		return tw_buf_addc(out, ']');
	case TW_MP_MAP:
		return cjson_map(out, &v, r, depth, skip_key);
	}
	return TW_EINTERNAL;
}

int
tw_value_cjson(struct tw_buf *out, const struct tw_value *v,
    const char *skip_key)
{
	struct tw_mp_reader r;
	size_t start = out->len;
	int rc;

	tw_mp_reader_init(&r, v->p, (size_t)(v->end - v->p));
	if ((rc = cjson_rec(out, &r, v->end, 0, skip_key)) != 0 &&
	    out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	return rc;
}

static int
hex4(const char *s, unsigned *u)
{
	*u = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];

		*u <<= 4;
		if (c >= '0' && c <= '9')
			*u |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*u |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*u |= (unsigned)(c - 'A' + 10);
		else
			return TW_EPARSE;
	}
	return 0;
}

static int
add_cp(struct tw_buf *out, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return tw_buf_add(out, u, n);
}

int
tw_json_str_decode(const char *s, size_t n, struct tw_buf *out)
{
	size_t i = 1, start = out->len;
	unsigned cp, lo;
	int r = 0;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return TW_EPARSE;
	while (r == 0 && i < n - 1) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20) {
			r = TW_EPARSE;
			break;
		}
		if (c != '\\') {
			r = tw_buf_addc(out, (char)c);
			i++;
			continue;
		}
		if (i + 1 >= n - 1) {
			r = TW_EPARSE;
			break;
		}
		switch (s[i + 1]) {
		case '"': r = tw_buf_addc(out, '"'); break;
		case '\\': r = tw_buf_addc(out, '\\'); break;
		case '/': r = tw_buf_addc(out, '/'); break;
		case 'b': r = tw_buf_addc(out, '\b'); break;
		case 'f': r = tw_buf_addc(out, '\f'); break;
		case 'n': r = tw_buf_addc(out, '\n'); break;
		case 'r': r = tw_buf_addc(out, '\r'); break;
		case 't': r = tw_buf_addc(out, '\t'); break;
		case 'u':
			if (i + 6 > n - 1 || hex4(s + i + 2, &cp) != 0) {
				r = TW_EPARSE;
				break;
			}
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (i + 12 > n - 1 || s[i + 6] != '\\' ||
				    s[i + 7] != 'u' || hex4(s + i + 8, &lo) != 0 ||
				    lo < 0xdc00 || lo > 0xdfff) {
					r = TW_EPARSE;
					break;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				r = TW_EPARSE;
				break;
			}
			r = add_cp(out, cp);
			i += 4;
			break;
		default:
			r = TW_EPARSE;
			break;
		}
		i += 2;
	}
	if (r != 0 && out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	return r;
}

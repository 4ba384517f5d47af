/* timefmt.c: RFC 3339 timestamps and CLI time arguments as int64 UTC ns. */
#include "config.h"

#include <string.h>
#include <time.h>

#include "timefmt.h"

#define NS_PER_SEC 1000000000LL

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31,
		30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

/* sec + nsec/1e9 in ns; TW_ELIMIT when it does not fit. */
static int
to_ns(int64_t sec, int64_t nsec, int64_t *ns)
{
	int64_t v;

	/* Borrow a second so that the product stays in range near INT64_MIN. */
	if (sec < 0 && nsec > 0) {
		sec++;
		nsec -= NS_PER_SEC;
	}
	if (__builtin_mul_overflow(sec, NS_PER_SEC, &v) ||
	    __builtin_add_overflow(v, nsec, &v))
		return TW_ELIMIT;
	*ns = v;
	return 0;
}

/* Two decimal digits at p, or -1: the fields of a timestamp. */
static inline int
digits2(const char *p)
{
	unsigned a = (unsigned)(unsigned char)p[0] - '0';
	unsigned b = (unsigned)(unsigned char)p[1] - '0';

	return a > 9 || b > 9 ? -1 : (int)(a * 10 + b);
}

/*
 * The value of 8 decimal digits at p, or -1 when one is not a digit: a
 * few operations on one 64-bit word instead of 8 steps.
 */
static inline int64_t
digits8(const char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t x;

	memcpy(&x, p, 8);
	if ((x & 0xf0f0f0f0f0f0f0f0ULL) != 0x3030303030303030ULL ||
	    ((x + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) !=
	    0x3030303030303030ULL)
		return -1;
	x -= 0x3030303030303030ULL;
	x = x * 10 + (x >> 8);
	x = ((x & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32)) +
	    ((x >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32))) >>
	    32;
	return (int64_t)(uint32_t)x;
#else
	int64_t v = 0;

	for (int i = 0; i < 8; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
#endif
}

/*
 * YYYY-MM-DD(T|t| )HH:MM:SS, the first 19 bytes of a timestamp, as
 * seconds since the epoch; TW_EPARSE.
 */
static int
parse_seconds(const char *p, int64_t *secs)
{
	int year, mon, day, hh, mm, ss, c;

	if (p[4] != '-' || p[7] != '-' ||
	    (p[10] != 'T' && p[10] != 't' && p[10] != ' ') || p[13] != ':' ||
	    p[16] != ':')
		return TW_EPARSE;
	if ((c = digits2(p)) < 0 || (year = digits2(p + 2)) < 0 ||
	    (mon = digits2(p + 5)) < 0 || (day = digits2(p + 8)) < 0 ||
	    (hh = digits2(p + 11)) < 0 || (mm = digits2(p + 14)) < 0 ||
	    (ss = digits2(p + 17)) < 0)
		return TW_EPARSE;
	year += c * 100;
	if (mon < 1 || mon > 12 || day < 1 ||
	    (unsigned)day > days_in_month(year, (unsigned)mon) || hh > 23 ||
	    mm > 59 || ss > 59)
		return TW_EPARSE;
	*secs = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 +
	    hh * 3600 + mm * 60 + ss;
	return 0;
}

/*
 * What follows the seconds, p[0..n): [.1 to 9 digits] then the zone, as
 * ns and the zone's offset east of UTC in seconds; TW_EPARSE.
 */
static int
parse_fraction_zone(const char *p, size_t n, int64_t *frac, int *off)
{
	static const int32_t scale[10] = { 1000000000, 100000000, 10000000,
		1000000, 100000, 10000, 1000, 100, 10, 1 };
	int oh, om, sign;
	size_t i = 0, k = 0;
	int64_t f = 0, d8;

	/* The usual: nanoseconds and Z, as containerd and CRI-O write. */
	if (n == 11 && p[0] == '.' && p[10] == 'Z' &&
	    (d8 = digits8(p + 1)) >= 0 && p[9] >= '0' && p[9] <= '9') {
		*frac = d8 * 10 + (p[9] - '0');
		*off = 0;
		return 0;
	}
	if (n > 0 && p[0] == '.') {
		i = 1;
		/* Nanoseconds are the usual: 8 digits at once, then on. */
		if (n >= 9 && (d8 = digits8(p + 1)) >= 0) {
			f = d8;
			i = 9;
			k = 8;
		}
		/* 1 to 9 digits: a tenth digit is an error, not rounded */
		for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, k++) {
			if (k == 9)
				return TW_EPARSE;
			f = f * 10 + (p[i] - '0');
		}
		if (k == 0)
			return TW_EPARSE;
		f *= scale[k];
	}
	*frac = f;
	*off = 0;
	if (i < n && (p[i] == 'Z' || p[i] == 'z'))
		return i + 1 == n ? 0 : TW_EPARSE;
	if (i < n && (p[i] == '+' || p[i] == '-')) {
		sign = p[i] == '-' ? -1 : 1;
		if (n - i == 6 && p[i + 3] == ':') {
			oh = digits2(p + i + 1);
			om = digits2(p + i + 4);
		} else if (n - i == 5) {
			oh = digits2(p + i + 1);
			om = digits2(p + i + 3);
		} else {
			return TW_EPARSE;
		}
		if (oh < 0 || om < 0 || oh > 23 || om > 59)
			return TW_EPARSE;
		*off = sign * (oh * 3600 + om * 60);
		return 0;
	}
	/* No zone at all after a fraction: taken as UTC. */
	return i == n ? 0 : TW_EPARSE;
}

int
tw_time_parse_rfc3339(const char *p, size_t n, int64_t *ns)
{
	int64_t secs, frac;
	int off, r;

	if (n < 20)
		return TW_EPARSE;
	if ((r = parse_seconds(p, &secs)) != 0 ||
	    (r = parse_fraction_zone(p + 19, n - 19, &frac, &off)) != 0)
		return r;
	return to_ns(secs - off, frac, ns);
}

void
tw_time_cache_init(struct tw_time_cache *c)
{
	memset(c, 0, sizeof(*c));
}

int
tw_time_parse_rfc3339_cached(struct tw_time_cache *c, const char *p,
    size_t n, int64_t *ns)
{
	int64_t secs, frac;
	int off, r;

	if (n < 20)
		return TW_EPARSE;
	if (c->valid && memcmp(p, c->prefix, 16) == 0 &&
	    memcmp(p + 16, c->prefix + 16, 3) == 0) {
		secs = c->secs;
	} else {
		if ((r = parse_seconds(p, &secs)) != 0)
			return r;
		memcpy(c->prefix, p, sizeof(c->prefix));
		c->secs = secs;
		c->valid = true;
	}
	if ((r = parse_fraction_zone(p + 19, n - 19, &frac, &off)) != 0)
		return r;
	return to_ns(secs - off, frac, ns);
}

static char *
put2(char *o, unsigned v)
{
	o[0] = (char)('0' + v / 10);
	o[1] = (char)('0' + v % 10);
	return o + 2;
}

int
tw_time_format_rfc3339(struct tw_buf *out, int64_t ns)
{
	int64_t secs = ns / NS_PER_SEC, nsec = ns % NS_PER_SEC, days, rem, y;
	unsigned m, d;
	char s[40], *o = s;
	int k;

	if (nsec < 0) {
		nsec += NS_PER_SEC;
		secs--;
	}
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	/* int64 ns spans the years 1677 to 2262: always four digits. */
	o = put2(o, (unsigned)(y / 100));
	o = put2(o, (unsigned)(y % 100));
	*o++ = '-';
	o = put2(o, m);
	*o++ = '-';
	o = put2(o, d);
	*o++ = 'T';
	o = put2(o, (unsigned)(rem / 3600));
	*o++ = ':';
	o = put2(o, (unsigned)(rem / 60 % 60));
	*o++ = ':';
	o = put2(o, (unsigned)(rem % 60));
	if (nsec != 0) {
		*o++ = '.';
		for (k = 8; k >= 0; k--) {
			o[k] = (char)('0' + nsec % 10);
			nsec /= 10;
		}
		o += 9;
		while (o[-1] == '0')
			o--;
	}
	*o++ = 'Z';
	return tw_buf_add(out, s, (size_t)(o - s));
}

int64_t
tw_time_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* A duration such as "1h30m" in ns. */
static int
parse_duration(const char *s, int64_t *out)
{
	int64_t total = 0, v, unit;

	if (*s == '\0')
		return TW_EPARSE;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return TW_EPARSE;
		for (v = 0; *s >= '0' && *s <= '9'; s++) {
			if (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, *s - '0', &v))
				return TW_ELIMIT;
		}
		if (s[0] == 'm' && s[1] == 's') {
			unit = 1000000;
			s += 2;
		} else if (*s == 's') {
			unit = NS_PER_SEC;
			s++;
		} else if (*s == 'm') {
			unit = 60 * NS_PER_SEC;
			s++;
		} else if (*s == 'h') {
			unit = 3600 * NS_PER_SEC;
			s++;
		} else if (*s == 'd') {
			unit = 86400 * NS_PER_SEC;
			s++;
		} else {
			return TW_EPARSE;
		}
		if (__builtin_mul_overflow(v, unit, &v) ||
		    __builtin_add_overflow(total, v, &total))
			return TW_ELIMIT;
	}
	*out = total;
	return 0;
}

int
tw_time_parse_arg(const char *s, int64_t now_ns, int64_t *ns)
{
	size_t n = strlen(s), i;
	int64_t v = 0;
	int r;

	if (n >= 20 && s[4] == '-')
		return tw_time_parse_rfc3339(s, n, ns);
	if (strcmp(s, "now") == 0) {
		*ns = now_ns;
		return 0;
	}
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, s[i] - '0', &v))
			return TW_ELIMIT;
	}
	if (n > 0 && i == n) {
		*ns = v;
		return 0;
	}
	if ((r = parse_duration(s + (*s == '-'), &v)) != 0)
		return r;
	if (__builtin_sub_overflow(now_ns, v, &v))
		return TW_ELIMIT;
	*ns = v;
	return 0;
}

static uint64_t
be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

int
tw_time_from_mp_timestamp(const void *data, size_t len, int64_t *ns)
{
	const uint8_t *p = data;
	int64_t sec;
	uint64_t u;
	uint32_t nsec;

	switch (len) {
	case 4:
		sec = (int64_t)be(p, 4);
		nsec = 0;
		break;
	case 8:
		u = be(p, 8);
		sec = (int64_t)(u & 0x3ffffffffULL);
		nsec = (uint32_t)(u >> 34);
		break;
	case 12:
		nsec = (uint32_t)be(p, 4);
		sec = (int64_t)be(p + 4, 8);
		break;
	default:
		return TW_EMSGPACK;
	}
	if (nsec >= NS_PER_SEC)
		return TW_EMSGPACK;
	return to_ns(sec, nsec, ns);
}

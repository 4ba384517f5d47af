/* test_utf8.c: unit tests for lib/utf8 (validation, U+FFFD replacement). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "utf8.h"

/* Produced by python3: bytes.decode("utf-8", "replace").encode("utf-8"). */
static const struct {
	const char *in;
	size_t inlen;
	const char *out;
	size_t outlen;
} cases[] = {
	{ "", 0, "", 0 },
	{ "\x61\x62\x63", 3, "\x61\x62\x63", 3 },
	{ "\xe9\x20", 2, "\xef\xbf\xbd\x20", 4 },
	{ "\xff\xfe", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6 },
	{ "\xe2\x82", 2, "\xef\xbf\xbd", 3 },
	{ "\xe2\x82\xac", 3, "\xe2\x82\xac", 3 },
	{ "\xf0\x80\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 12 },
	{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 9 },
	{ "\xed\x9f\xbf", 3, "\xed\x9f\xbf", 3 },
	{ "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6 },
	{ "\xc1\xbf", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6 },
	{ "\xc2", 1, "\xef\xbf\xbd", 3 },
	{ "\xc2\x41", 2, "\xef\xbf\xbd\x41", 4 },
	{ "\xe0\x80\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 9 },
	{ "\xe0\xa0\x80", 3, "\xe0\xa0\x80", 3 },
	{ "\xe0\xa0", 2, "\xef\xbf\xbd", 3 },
	{ "\xf0\x90\x80", 3, "\xef\xbf\xbd", 3 },
	{ "\xf0\x90\x80\x80", 4, "\xf0\x90\x80\x80", 4 },
	{ "\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf", 4 },
	{ "\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 12 },
	{ "\xf5\x80\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 12 },
	{ "\xf8\x88\x80\x80\x80", 5, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 15 },
	{ "\x80", 1, "\xef\xbf\xbd", 3 },
	{ "\x80\x80", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6 },
	{ "\x61\xf0\x9f\x98", 4, "\x61\xef\xbf\xbd", 4 },
	{ "\x61\xf0\x9f\x98\x80\x62", 6, "\x61\xf0\x9f\x98\x80\x62", 6 },
	{ "\xef\xbf\xbd", 3, "\xef\xbf\xbd", 3 },
	{ "\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41", 9, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\x41", 13 },
	{ "\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64", 13, "\x61\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\x62\xef\xbf\xbd\x63\xef\xbf\xbd\xef\xbf\xbd\x64", 22 },
	{ "\x63\x61\x66\xc3\xa9\x20\xe2\x82\xac\x20\xf0\x9f\x98\x80\x20\xe4\xb8\xad", 18, "\x63\x61\x66\xc3\xa9\x20\xe2\x82\xac\x20\xf0\x9f\x98\x80\x20\xe4\xb8\xad", 18 },
	{ "\xfe", 1, "\xef\xbf\xbd", 3 },
	{ "\xed\xbf\xbf", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 9 },
	{ "\xee\x80\x80", 3, "\xee\x80\x80", 3 },
	{ "\xf3\xbf\xbf\xbf", 4, "\xf3\xbf\xbf\xbf", 4 },
	{ "\xf0\x8f\xbf\xbf", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 12 },
	{ "\xe0\x9f\xbf", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 9 },
	{ "\x61\x62\x63\x64\x65\x66\x67\x68\xff\x69\x6a\x6b\x6c\x6d\x6e\x6f\x70", 17, "\x61\x62\x63\x64\x65\x66\x67\x68\xef\xbf\xbd\x69\x6a\x6b\x6c\x6d\x6e\x6f\x70", 19 },
	{ "\x30\x31\x32\x33\x34\x35\x36\x37\x38\x39\x61\x62\x63\x64\x65\x66\xc3\xa9\x78\x79\x7a", 21, "\x30\x31\x32\x33\x34\x35\x36\x37\x38\x39\x61\x62\x63\x64\x65\x66\xc3\xa9\x78\x79\x7a", 21 },
	{ "\x00\x6e\x75\x6c\x00", 5, "\x00\x6e\x75\x6c\x00", 5 },
	{ "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 19, "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 19 },
	{ "\xf4\x8f\xbf", 3, "\xef\xbf\xbd", 3 },
	{ "\xf1\x80", 2, "\xef\xbf\xbd", 3 },
	{ "\xc3\xa9\xc3", 3, "\xc3\xa9\xef\xbf\xbd", 5 },
	{ "\xe2\x28\xa1", 3, "\xef\xbf\xbd\x28\xef\xbf\xbd", 7 },
	{ "\x50\x61\x79\x6d\x65\x6e\x74\x20\x66\x61\x69\x6c\x65\x64\x20\x66\x6f\x72\x20\x6f\x72\x64\x65\x72\x20\x31\x32\x33\x34\x20\xe9\x74\xe9\x20\xff\x20\x65\x6e\x64\x20\x6f\x66\x20\x61\x20\x6c\x6f\x6e\x67\x65\x72\x20\x61\x73\x63\x69\x69\x20\x6c\x69\x6e\x65\x20\x68\x65\x72\x65", 67, "\x50\x61\x79\x6d\x65\x6e\x74\x20\x66\x61\x69\x6c\x65\x64\x20\x66\x6f\x72\x20\x6f\x72\x64\x65\x72\x20\x31\x32\x33\x34\x20\xef\xbf\xbd\x74\xef\xbf\xbd\x20\xef\xbf\xbd\x20\x65\x6e\x64\x20\x6f\x66\x20\x61\x20\x6c\x6f\x6e\x67\x65\x72\x20\x61\x73\x63\x69\x69\x20\x6c\x69\x6e\x65\x20\x68\x65\x72\x65", 73 },
};

static void
test_python_table(void)
{
	struct tw_buf b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool same = cases[i].inlen == cases[i].outlen &&
		    memcmp(cases[i].in, cases[i].out, cases[i].inlen) == 0;
		tw_buf_init(&b, 1024);
		ok(tw_utf8_sanitize(&b, cases[i].in, cases[i].inlen) == 0 &&
		    b.len == cases[i].outlen &&
		    memcmp(b.data, cases[i].out, b.len) == 0,
		    "sanitize case %zu matches python", i);
		is_int(tw_utf8_valid(cases[i].in, cases[i].inlen), same,
		    "valid case %zu", i);
		/* The output is always valid and sanitising it is a no-op. */
		ok(tw_utf8_valid(b.data, b.len), "case %zu output valid", i);
		tw_buf_cleanup(&b);
	}
}

/* The definition, for brute force: decode, then refuse what 3629 forbids. */
static bool
ref_valid(const uint8_t *p, size_t n)
{
	size_t i = 0, k;
	uint32_t cp, min;

	while (i < n) {
		uint8_t c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 2;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 3;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (n - i < k)
			return false;
		for (size_t j = 1; j < k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k;
	}
	return true;
}

static void
test_brute_force(void)
{
	static const uint8_t tails[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
		0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xf4, 0xff };
	uint8_t s[4];
	unsigned long bad = 0, n = 0;

	/* Every string of 1 to 3 bytes. */
	for (uint32_t v = 0; v < (1u << 24); v++) {
		s[0] = (uint8_t)(v >> 16);
		s[1] = (uint8_t)(v >> 8);
		s[2] = (uint8_t)v;
		for (size_t len = 1; len <= 3; len++) {
			if (len < 3 && (v & ((1u << (8 * (3 - len))) - 1)) != 0)
				continue;
			n++;
			if (tw_utf8_valid((char *)s, len) != ref_valid(s, len))
				bad++;
		}
	}
	/* 4 bytes: every first two, interesting last two. */
	for (uint32_t v = 0; v < (1u << 16); v++) {
		for (size_t a = 0; a < sizeof(tails); a++)
			for (size_t b = 0; b < sizeof(tails); b++) {
				s[0] = (uint8_t)(v >> 8);
				s[1] = (uint8_t)v;
				s[2] = tails[a];
				s[3] = tails[b];
				n++;
				if (tw_utf8_valid((char *)s, 4) !=
				    ref_valid(s, 4))
					bad++;
			}
	}
	is_int(bad, 0, "valid agrees with the definition on %lu strings", n);
}

/* One bad byte at every offset of a long ASCII run (the 8-byte path). */
static void
test_fast_path(void)
{
	char s[80];
	struct tw_buf b;
	bool all = true;

	for (size_t at = 0; at < sizeof(s); at++) {
		memset(s, 'x', sizeof(s));
		s[at] = '\xff';
		tw_buf_init(&b, 1024);
		if (tw_utf8_valid(s, sizeof(s)) ||
		    tw_utf8_valid_len(s, sizeof(s)) != at ||
		    tw_utf8_sanitize(&b, s, sizeof(s)) != 0 ||
		    b.len != sizeof(s) + 2 ||
		    memcmp(b.data + at, "\xef\xbf\xbd", 3) != 0 ||
		    memcmp(b.data, s, at) != 0)
			all = false;
		tw_buf_cleanup(&b);
	}
	ok(all, "a bad byte is found at every offset of an ASCII run");
	memset(s, 'x', sizeof(s));
	memcpy(s + 70, "\xe2\x82\xac", 3);
	ok(tw_utf8_valid(s, sizeof(s)), "ASCII run then euro sign");
	ok(tw_utf8_valid_len(s, 72) == 70, "valid_len stops before a cut char");
}

static void
test_char(void)
{
	size_t bad = 0;

	is_int(tw_utf8_char("A", 1, &bad), 1, "char: ascii");
	is_int(tw_utf8_char("\xc3\xa9", 2, &bad), 2, "char: 2 bytes");
	is_int(tw_utf8_char("\xe2\x82\xac", 3, &bad), 3, "char: 3 bytes");
	is_int(tw_utf8_char("\xf0\x9f\x98\x80", 4, &bad), 4, "char: 4 bytes");
	ok(tw_utf8_char("\xf0\x9f\x98", 3, &bad) == 0 && bad == 3,
	    "char: truncated 4-byte is one subpart of 3");
	ok(tw_utf8_char("\xed\xa0\x80", 3, &bad) == 0 && bad == 1,
	    "char: surrogate lead is a subpart of 1");
}

static void
test_limits(void)
{
	struct tw_buf b;

	tw_buf_init(&b, 8);
	ok(tw_buf_add(&b, "ab", 2) == 0, "prefill");
	is_int(tw_utf8_sanitize(&b, "cdef\xff\xfe", 6), TW_ETOOBIG,
	    "sanitize past the ceiling");
	ok(b.len == 2 && strcmp(b.data, "ab") == 0, "buffer left as it was");
	is_int(tw_utf8_sanitize(&b, "cdef\xff", 5), TW_ETOOBIG,
	    "replacement past the ceiling");
	ok(b.len == 2 && strcmp(b.data, "ab") == 0, "buffer left as it was");
	tw_buf_cleanup(&b);
}

int
main(void)
{
	test_python_table();
	test_brute_force();
	test_fast_path();
	test_char();
	test_limits();
	return done_testing();
}

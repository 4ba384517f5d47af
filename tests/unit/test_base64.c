/* test_base64.c: unit tests for lib/base64. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "tap.h"

static const struct {
	const char *plain;
	const char *b64;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void
test_vectors(void)
{
	struct tw_buf b;
	size_t i, n;

	for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		tw_buf_init(&b, 64);
		ok(tw_base64_encode(&b, rfc4648[i].plain,
		    strlen(rfc4648[i].plain)) == 0 &&
		    strcmp(b.data != NULL ? b.data : "", rfc4648[i].b64) == 0,
		    "encode \"%s\"", rfc4648[i].plain);
		is_int(tw_base64_encoded_len(strlen(rfc4648[i].plain)),
		    strlen(rfc4648[i].b64), "encoded_len \"%s\"",
		    rfc4648[i].plain);
		tw_buf_reset(&b);
		ok(tw_base64_decode(&b, rfc4648[i].b64,
		    strlen(rfc4648[i].b64)) == 0 &&
		    b.len == strlen(rfc4648[i].plain) &&
		    memcmp(b.data, rfc4648[i].plain, b.len) == 0,
		    "decode \"%s\"", rfc4648[i].b64);
		/* The same without its padding. */
		n = strlen(rfc4648[i].b64);
		while (n > 0 && rfc4648[i].b64[n - 1] == '=')
			n--;
		tw_buf_reset(&b);
		ok(tw_base64_decode(&b, rfc4648[i].b64, n) == 0 &&
		    b.len == strlen(rfc4648[i].plain) &&
		    memcmp(b.data, rfc4648[i].plain, b.len) == 0,
		    "decode \"%.*s\" (unpadded)", (int)n, rfc4648[i].b64);
		is_int(tw_base64_decoded_len(rfc4648[i].b64, n),
		    strlen(rfc4648[i].plain), "decoded_len unpadded");
		is_int(tw_base64_decoded_len(rfc4648[i].b64,
		    strlen(rfc4648[i].b64)), strlen(rfc4648[i].plain),
		    "decoded_len padded");
		tw_buf_cleanup(&b);
	}
}

static void
test_bad(void)
{
	static const char *bad[] = { "Z", "Zg=", "Zg===", "=", "==", "====",
		"Zm9v!", "Zm 9v", "Zm9v\n", "Zh==", "Zm9=", "Zg==Zg==",
		"Z===", "Zm=v", "-_-_", "Zm9vYg=", "\xc3\xa9\xc3\xa9",
		"Zm9\0" };
	struct tw_buf b;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = i == sizeof(bad) / sizeof(bad[0]) - 1 ? 4 :
		    strlen(bad[i]);
		tw_buf_init(&b, 64);
		ok(tw_buf_add(&b, "keep", 4) == 0 &&
		    tw_base64_decode(&b, bad[i], n) == TW_EPARSE &&
		    b.len == 4 && strcmp(b.data, "keep") == 0,
		    "decode refuses bad case %zu, buffer unchanged", i);
		tw_buf_cleanup(&b);
	}
}

static void
test_roundtrip(void)
{
	uint8_t data[300];
	struct tw_buf e, d;
	bool all = true;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (size_t n = 0; n <= sizeof(data); n++) {
		tw_buf_init(&e, 1024);
		tw_buf_init(&d, 1024);
		if (tw_base64_encode(&e, data, n) != 0 ||
		    e.len != tw_base64_encoded_len(n) ||
		    tw_base64_decode(&d, e.data, e.len) != 0 || d.len != n ||
		    (n > 0 && memcmp(d.data, data, n) != 0))
			all = false;
		tw_buf_cleanup(&e);
		tw_buf_cleanup(&d);
	}
	ok(all, "encode/decode round-trips lengths 0 to 300");

	tw_buf_init(&e, 64);
	ok(tw_base64_encode(&e, "\xfb\xff\xbf", 3) == 0 &&
	    strcmp(e.data, "+/+/") == 0, "the two last letters are + and /");
	tw_buf_cleanup(&e);
}

static void
test_limits(void)
{
	struct tw_buf b;

	tw_buf_init(&b, 7);
	is_int(tw_base64_encode(&b, "foobar", 6), TW_ETOOBIG,
	    "encode past the ceiling");
	is_int(b.len, 0, "nothing appended");
	is_int(tw_base64_decode(&b, "Zm9vYmFyZm9vYmFy", 16), TW_ETOOBIG,
	    "decode past the ceiling");
	is_int(b.len, 0, "nothing appended");
	tw_buf_cleanup(&b);
	ok(tw_base64_encoded_len(SIZE_MAX) == SIZE_MAX, "encoded_len overflow");
}

int
main(void)
{
	test_vectors();
	test_bad();
	test_roundtrip();
	test_limits();
	return done_testing();
}

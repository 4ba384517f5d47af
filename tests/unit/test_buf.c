/* test_buf.c: unit tests for bounded buffers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

int
main(void)
{
	struct tw_buf b;
	char *p;
	size_t n;

	tw_buf_init(&b, 16);
	is_int(tw_buf_adds(&b, "hello"), 0, "add within the ceiling");
	is_str(b.data, "hello", "contents NUL-terminated");
	is_int(tw_buf_addf(&b, " %d%s", 42, "!"), 0, "addf");
	is_str(b.data, "hello 42!", "addf contents");
	is_int(tw_buf_adds(&b, "0123456789"), TW_ETOOBIG, "past the ceiling");
	is_str(b.data, "hello 42!", "failed append leaves contents");
	is_int(tw_buf_addf(&b, "%s", "0123456789"), TW_ETOOBIG,
	    "addf past the ceiling");
	is_int(tw_buf_add(&b, "1234567", 7), 0, "exactly to the ceiling");
	is_int(b.len, 16, "len at the ceiling");
	is_int(tw_buf_addc(&b, 'x'), TW_ETOOBIG, "one byte past");
	tw_buf_reset(&b);
	is_int(b.len, 0, "reset empties");
	is_int(tw_buf_reserve(&b, SIZE_MAX), TW_ETOOBIG, "reserve SIZE_MAX");
	is_int(tw_buf_adds(&b, "ab"), 0, "add after reset");
	p = tw_buf_take(&b, &n);
	ok(p != NULL && n == 2 && strcmp(p, "ab") == 0, "take hands over");
	ok(b.data == NULL && b.len == 0, "take resets");
	free(p);
	p = tw_buf_take(&b, &n);
	ok(p != NULL && n == 0 && p[0] == '\0', "take of empty gives \"\"");
	free(p);
	tw_buf_cleanup(&b);

	tw_buf_init(&b, 1 << 20);
	for (int i = 0; i < 100000; i++)
		if (tw_buf_addc(&b, (char)('a' + i % 26)) != 0)
			break;
	is_int(b.len, 100000, "many small appends");
	ok(b.data[99999] == 'a' + 99999 % 26, "last byte right");
	tw_buf_cleanup(&b);
	tw_buf_cleanup(&b);
	ok(1, "cleanup twice is safe");
	return done_testing();
}

/* fuzz_parse.c: one parser (FUZZ_FORMAT) over arbitrary bytes, fed as lines
 * or as one document, with the output checked for the schema invariants. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "parser.h"
#include "record.h"
#include "utf8.h"

#ifndef FUZZ_FORMAT
#error "FUZZ_FORMAT names the format under test"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_env[] = {
	"AWS_LAMBDA_FUNCTION_NAME=orders-api",
	"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
	"AWS_REGION=eu-west-1",
	"AWS_LAMBDA_LOG_STREAM_NAME=2024/06/14/[$LATEST]d4e5f6a7b8c94d0e8f1a",
	NULL,
};

/* Every string in a record is valid UTF-8; the record renders as JSON. */
static void
check_strings(struct tw_mp_reader *r, const struct tw_mp_limits *lim,
    int depth)
{
	struct tw_mp_obj o;

	if (depth > 64 || tw_mp_read(r, &o) != 0)
		abort();
	if (o.type == TW_MP_STR && !tw_utf8_valid(o.v.s.p, o.v.s.len))
		abort();
	if (o.type == TW_MP_ARRAY || o.type == TW_MP_MAP) {
		uint64_t n = (uint64_t)o.v.count * (o.type == TW_MP_MAP ? 2 : 1);
		for (uint64_t i = 0; i < n; i++)
			check_strings(r, lim, depth + 1);
	}
}

static int
check_record(void *arg, const uint8_t *rec, size_t len)
{
	struct tw_buf *json = arg;
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_mp_obj time;
	size_t used;

	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, rec, len);
	if (tw_mp_skip(&r, &lim) != 0 || tw_mp_remaining(&r) != 0)
		abort(); /* one well-formed value, nothing after it */
	tw_mp_reader_init(&r, rec, len);
	check_strings(&r, &lim, 0);
	if (tw_mp_path(rec, len, "time", &time) != 0 ||
	    time.type != TW_MP_EXT || time.ext_type != TW_MP_EXT_TIMESTAMP)
		abort(); /* time is required */
	tw_buf_reset(json);
	if (tw_record_to_json(json, rec, len, &used, 0) != 0 || used != len)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_parse_opts o;
	struct tw_parser *p;
	struct tw_buf json;
	const char *s = (const char *)data;
	size_t start = 0;

	tw_parse_opts_default(&o);
	o.now_ns = 1718409600000000000LL;
	o.path = "/var/log/containers/payments-api-7d9c8f5b6-x2k4t_prod_app-"
	    "b216aeb62f074fa237ca9e6e4c95f413d48e48a8873142996b08f0d09b71"
	    "61de.log";
	o.target = "/var/log/pods/prod_payments-api-7d9c8f5b6-x2k4t_5f0c3c9e-"
	    "1d2b-4c6a-9e8f-0a1b2c3d4e5f/app/0.log";
	o.env = fuzz_env;
	o.multiline_java = size > 0 && (data[0] & 1);
	if ((p = tw_parser_new(FUZZ_FORMAT, &o, NULL)) == NULL)
		abort();
	tw_buf_init(&json, (size_t)64 << 20);
	if (tw_parser_is_document(p)) {
		(void)tw_parser_feed(p, s, size, check_record, &json);
	} else {
		for (size_t i = 0; i <= size; i++) {
			if (i == size || s[i] == '\n') {
				if (i > start || i < size)
					(void)tw_parser_feed(p, s + start,
					    i - start, check_record, &json);
				start = i + 1;
			}
		}
	}
	(void)tw_parser_flush(p, check_record, &json);
	tw_parser_free(p);
	tw_buf_cleanup(&json);
	return 0;
}

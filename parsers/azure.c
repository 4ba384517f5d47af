/* azure.c: (being written by the parsers issue) */
#include "config.h"

#include "formats.h"

static int
stub_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	return TW_EUNSUPPORTED;
}

const struct tw_format tw_format_azure_function_app_logs = {
	.name = "azure_function_app_logs",
	.framing = TW_FRAMING_LINES,
	.parse = stub_parse,
};

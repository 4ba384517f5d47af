/* tokens.h: agent tokens from tokens_file: who may send batches as whom. */
#ifndef TRAWL_COLLECTOR_TOKENS_H
#define TRAWL_COLLECTOR_TOKENS_H

#include <stddef.h>

struct tokens;

enum tokens_verdict {
	TOKENS_OK = 0,
	TOKENS_MISSING,   /* no or malformed Authorization header: 401 */
	TOKENS_UNKNOWN,   /* a token nobody has: 401 */
	TOKENS_FORBIDDEN, /* a valid token of another agent id: 403 */
};

/*
 * Read path: one "<agent-id> <token>" a line; blank lines and lines
 * starting with # are skipped. NULL with a malloc'd *why ("path:3: ...")
 * when the file cannot be read or a line is malformed. An agent id may
 * hold several tokens (rotation).
 */
struct tokens *tokens_load(const char *path, char **why);
void tokens_free(struct tokens *t);
size_t tokens_count(const struct tokens *t);

/*
 * Check an Authorization header value ("Bearer <token>", may be NULL)
 * for agent_id. Tokens are compared in constant time. Thread-safe: the
 * table is never changed after loading (reload builds a new one).
 */
enum tokens_verdict tokens_check(const struct tokens *t, const char *agent_id,
    const char *authorization);

#endif

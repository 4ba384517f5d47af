/* tokens.c: agent tokens from tokens_file: who may send batches as whom. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "tokens.h"

#define TOKENS_FILE_MAX (4u << 20)
#define TOKEN_MAX 512

struct token {
	char *agent;
	char *token;
	size_t token_len;
};

struct tokens {
	struct token *v;
	size_t n;
};

static void
set_why(char **why, const char *path, int line, const char *msg)
{
	size_t n;

	if (why == NULL)
		return;
	n = strlen(path) + strlen(msg) + 32;
	if ((*why = malloc(n)) != NULL) {
		if (line > 0)
			snprintf(*why, n, "%s:%d: %s", path, line, msg);
		else
			snprintf(*why, n, "%s: %s", path, msg);
	}
}

/* Parse one line "<agent-id> <token>"; 0 for blank/comment lines. */
static int
parse_line(struct tokens *t, char *line, const char **err)
{
	char *agent, *token, *extra, *save;
	struct token *v;

	agent = strtok_r(line, " \t\r", &save);
	if (agent == NULL || agent[0] == '#')
		return 0;
	token = strtok_r(NULL, " \t\r", &save);
	extra = strtok_r(NULL, " \t\r", &save);
	if (token == NULL || extra != NULL) {
		*err = "expected \"<agent-id> <token>\"";
		return -1;
	}
	if (strlen(token) > TOKEN_MAX || strlen(token) < 16) {
		*err = "a token must have 16 to 512 characters";
		return -1;
	}
	if ((v = realloc(t->v, (t->n + 1) * sizeof(*v))) == NULL) {
		*err = "out of memory";
		return -1;
	}
	t->v = v;
	v[t->n].agent = strdup(agent);
	v[t->n].token = strdup(token);
	v[t->n].token_len = strlen(token);
	if (v[t->n].agent == NULL || v[t->n].token == NULL) {
		free(v[t->n].agent);
		free(v[t->n].token);
		*err = "out of memory";
		return -1;
	}
	t->n++;
	return 0;
}

struct tokens *
tokens_load(const char *path, char **why)
{
	struct tokens *t = NULL;
	struct tw_buf b;
	const char *err = NULL;
	char chunk[8192], *line, *next;
	FILE *f = NULL;
	size_t n;
	int lineno = 0;

	tw_buf_init(&b, TOKENS_FILE_MAX);
	if ((f = fopen(path, "r")) == NULL) {
		set_why(why, path, 0, strerror(errno));
		goto fail;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (tw_buf_add(&b, chunk, n) != 0) {
			set_why(why, path, 0, "file too large");
			goto fail;
		}
	}
	if (ferror(f)) {
		set_why(why, path, 0, strerror(errno));
		goto fail;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		set_why(why, path, 0, "out of memory");
		goto fail;
	}
	for (line = b.data; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (parse_line(t, line, &err) != 0) {
			set_why(why, path, lineno, err);
			goto fail;
		}
	}
	fclose(f);
	tw_buf_cleanup(&b);
	return t;
fail:
	if (f != NULL)
		fclose(f);
	tw_buf_cleanup(&b);
	tokens_free(t);
	return NULL;
}

void
tokens_free(struct tokens *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		/* Secrets do not linger in freed memory. */
		memset(t->v[i].token, 0, t->v[i].token_len);
		free(t->v[i].token);
		free(t->v[i].agent);
	}
	free(t->v);
	free(t);
}

size_t
tokens_count(const struct tokens *t)
{
	return t != NULL ? t->n : 0;
}

/* Equal in time that depends only on the lengths. */
static int
const_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char diff = alen != blen;
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

enum tokens_verdict
tokens_check(const struct tokens *t, const char *agent_id,
    const char *authorization)
{
	const char *token;
	size_t len;
	int found = 0, own = 0;

	if (authorization == NULL ||
	    strncasecmp(authorization, "Bearer ", 7) != 0)
		return TOKENS_MISSING;
	token = authorization + 7;
	while (*token == ' ')
		token++;
	len = strlen(token);
	if (len == 0)
		return TOKENS_MISSING;
	/* Look at every entry so the time does not tell which one matched. */
	for (size_t i = 0; i < t->n; i++) {
		int eq = const_eq(t->v[i].token, t->v[i].token_len, token, len);
		found |= eq;
		own |= eq && agent_id != NULL &&
		    strcmp(t->v[i].agent, agent_id) == 0;
	}
	if (!found)
		return TOKENS_UNKNOWN;
	return own ? TOKENS_OK : TOKENS_FORBIDDEN;
}

/* ops.h: the comparison primitives of the rule operators: glob, paths, CIDR. */
#ifndef TW_OPS_H
#define TW_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Anchored fnmatch of s against pat, both UTF-8, by code point (RULES.md
 * §5): * any run (also /), ? one character, [..] and [!..] classes with
 * ranges, no escape character, an unclosed [ literal. Case-sensitive: the
 * caller folds both sides for iglob. Pure, thread-safe.
 */
bool tw_glob_match(const char *pat, size_t pn, const char *s, size_t sn);

/*
 * The literal runs of a glob pattern (text outside * ? and classes), for the
 * prefilter: calls fn for each non-empty run. Pure.
 */
void tw_glob_runs(const char *pat, size_t pn,
    void (*fn)(void *arg, const char *run, size_t n), void *arg);

/*
 * Lexically normalise a slash path (collapse //, drop ., resolve .. never
 * above /, drop a trailing /) into out, which is reset first.
 */
int tw_pnorm(const char *s, size_t n, struct tw_buf *out) TW_WARN_UNUSED;

/* Whether the normalised a equals lit (peq) or lies under it (pmatch). */
bool tw_pmatch(const char *a, size_t an, const char *lit, size_t ln,
    bool prefix);

/* An IPv4 or IPv6 address (prefix = full) or network. */
struct tw_net {
	int family;       /* 4 or 6 */
	uint8_t addr[16]; /* network bits only for networks */
	int prefix;
	bool is_net;
};

/*
 * Parse s[0..n) as an address or, with a '/', a network (host bits
 * allowed; IPv4 netmask or hostmask forms too); IPv4-mapped IPv6 becomes
 * IPv4; a zone suffix (%eth0) is not an address. Returns false when it is
 * neither. Pure.
 */
bool tw_net_parse(const char *s, size_t n, struct tw_net *out);

/* Whether v (address or network) lies inside lit; false across families. */
bool tw_net_inside(const struct tw_net *v, const struct tw_net *lit);

/* Decode one UTF-8 code point at s[0..n) (n > 0); a bad byte is 0xdc00 + byte. */
uint32_t tw_utf8_next(const char *s, size_t n, size_t *len);

#endif

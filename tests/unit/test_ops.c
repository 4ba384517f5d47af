/* test_ops.c: unit tests for detect/ops: glob, path normalisation, CIDR. */
#include "config.h"

#include <string.h>

#include "ops.h"
#include "tap.h"

static int
glob(const char *p, const char *s)
{
	return tw_glob_match(p, strlen(p), s, strlen(s));
}

static void
test_glob(void)
{
	ok(glob("*", ""), "* matches empty");
	ok(glob("a*", "a/b/c"), "* also matches /");
	ok(glob("?", "密"), "? is one code point");
	ok(!glob("??", "密"), "not one byte");
	ok(glob("[a-c]x", "bx"), "range");
	ok(!glob("[!a-c]x", "bx"), "negated range");
	ok(glob("[*]", "*"), "[*] is a literal *");
	ok(glob("[[]", "["), "[[] is a literal [");
	ok(glob("a[", "a["), "an unclosed [ is literal");
	ok(glob("[]a]", "]"), "] first in a class is literal");
	ok(!glob("[z-a]", "z"), "an empty range matches nothing");
	ok(glob("[!z-a]", "q"), "its negation matches anything");
	ok(glob("[a-c-e]", "-") && glob("[a-c-e]", "e") && !glob("[a-c-e]", "d"),
	    "after a range a - is literal (Python fnmatch)");
	ok(glob("*.log", "x.log") && !glob("*.log", "x.logs"), "anchored");
	ok(glob("a*b*c", "aXbYbZc"), "backtracking");
	ok(!glob("a\\*", "a*x"), "no escape character");
}

static void
pn(const char *in, const char *want)
{
	struct tw_buf b;

	tw_buf_init(&b, 1 << 16);
	ok(tw_pnorm(in, strlen(in), &b) == 0 && strcmp(b.data, want) == 0,
	    "pnorm(%s) = %s", in, want);
	if (b.data != NULL && strcmp(b.data, want) != 0)
		diag("got %s", b.data);
	tw_buf_cleanup(&b);
}

static void
test_paths(void)
{
	pn("/etc/", "/etc");
	pn("//etc", "/etc");
	pn("/var/../etc", "/etc");
	pn("/../..", "/");
	pn("a/./b/../c", "a/c");
	pn("../x", "../x");
	pn("", ".");
	pn("/", "/");
	ok(tw_pmatch("/var/lib/kubelet/pki", 20, "/var/lib/kubelet", 16, true),
	    "pmatch: component prefix");
	ok(!tw_pmatch("/var/lib/kubelet2", 17, "/var/lib/kubelet", 16, true),
	    "pmatch: not a string prefix");
	ok(!tw_pmatch("/etc", 4, "/", 1, true), "a / literal matches only /");
	ok(!tw_pmatch("/etc/x", 6, "/etc", 4, false), "peq is equality");
}

static int
in(const char *v, const char *lit)
{
	struct tw_net a, l;

	if (!tw_net_parse(v, strlen(v), &a) || !tw_net_parse(lit, strlen(lit),
	    &l))
		return -1;
	return tw_net_inside(&a, &l);
}

static void
test_cidr(void)
{
	struct tw_net n;

	is_int(in("10.1.2.3", "10.0.0.0/8"), 1, "v4 inside");
	is_int(in("11.1.2.3", "10.0.0.0/8"), 0, "v4 outside");
	is_int(in("::ffff:10.0.0.7", "10.0.0.0/8"), 1, "v4-mapped is IPv4");
	is_int(in("10.0.0.0/24", "10.0.0.0/8"), 1, "a subnet");
	is_int(in("10.0.0.0/8", "10.0.0.0/24"), 0, "a supernet is not inside");
	is_int(in("2001:db8::1", "10.0.0.0/8"), 0, "family mismatch");
	is_int(in("2001:db8::1", "2001:db8::/32"), 1, "v6 inside");
	is_int(in("10.0.0.1", "10.0.0.1/32"), 1, "host route");
	is_int(in("10.9.9.9", "10.0.0.0/255.0.0.0"), 1, "netmask form");
	is_int(in("10.9.9.9", "10.0.0.0/0.255.255.255"), 1, "hostmask form");
	ok(!tw_net_parse("fe80::1%eth0", 12, &n), "a zone is not an address");
	ok(!tw_net_parse("010.0.0.1", 9, &n), "leading zeros are refused");
	ok(!tw_net_parse("10.0.0.0/33", 11, &n), "prefix too long");
	ok(!tw_net_parse("10.0.0.0/", 9, &n), "empty prefix");
	ok(tw_net_parse("10.1.2.3/8", 10, &n) && n.addr[1] == 0,
	    "host bits are dropped");
	ok(tw_net_parse("::ffff:10.0.0.0/104", 19, &n) && n.family == 4 &&
	    n.prefix == 8, "a v4-mapped network");
}

int
main(void)
{
	test_glob();
	test_paths();
	test_cidr();
	return done_testing();
}

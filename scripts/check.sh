#!/bin/sh
# The test command: installs what is missing, builds, runs the whole suite
# (C unit tests, fuzz-corpus replay, Python integration tests) and ends
# with one line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
scripts/deps.sh test || exit 1
scripts/build.sh || { echo "0 passed, 1 failed"; exit 1; }
rm -f tests/*/*.trs tests/*/*.log
make -j"$(nproc)" check >/dev/null 2>&1
status=$?
# Show what failed, then count every TAP result automake recorded.
grep -l '^:test-result: \(FAIL\|XPASS\|ERROR\)' tests/*/*.trs 2>/dev/null |
	while read -r trs; do
		echo "--- ${trs%.trs}.log"
		grep -v '^ok ' "${trs%.trs}.log" | tail -n 60
	done
cat tests/*/*.trs 2>/dev/null | awk '
	/^:test-result: (PASS|XFAIL)/ { p++ }
	/^:test-result: (FAIL|XPASS|ERROR)/ { f++ }
	/^:test-result: SKIP/ { s++ }
	END {
		if (p + f == 0) f = 1
		if (s > 0) printf "%d passed, %d failed, %d skipped\n", p, f, s
		else printf "%d passed, %d failed\n", p, f
	}'
[ "$status" -eq 0 ] && ! grep -q '^:test-result: \(FAIL\|XPASS\|ERROR\)' tests/*/*.trs

#!/bin/sh
# Runs the Python integration tests with Debian's pytest and reports them as TAP.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PYTHON3=${PYTHON3:-/usr/bin/python3}
export top_srcdir top_builddir
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
TW_TAP_FILE=$tap "$PYTHON3" -m pytest -q -p no:cacheprovider \
	"$top_srcdir/tests/integration" ${TW_PYTEST_ARGS:-} >&2
rc=$?
cat "$tap"
# 5 = no tests collected: nothing ran, and that is a failure of the suite.
if [ ! -s "$tap" ]; then
	echo "not ok 1 - pytest ran no test (exit $rc)"
	echo "1..1"
	exit 1
fi
exit 0

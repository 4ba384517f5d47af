#!/bin/sh
# Generates the CRI benchmark data, then times parsing it against zstd -1.
#
# usage: run-parse-bench.sh [--callgrind] [bench_parse options]
#   TW_BENCH_MIB   data size in MiB (default 256)
#   TW_BENCH_DATA  a directory that holds (or will keep) the generated
#                  files; without it they go to a temporary directory that
#                  is removed afterwards
#   --callgrind    also count instructions (valgrind) for parse and zstd
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PYTHON3=${PYTHON3:-/usr/bin/python3}
bench=$top_builddir/tests/bench/bench_parse
mib=${TW_BENCH_MIB:-256}
callgrind=no
if [ "${1:-}" = "--callgrind" ]; then
	callgrind=yes
	shift
fi

if [ ! -x "$bench" ]; then
	echo "run-parse-bench.sh: build $bench first (make bench)" >&2
	exit 1
fi
if [ -n "${TW_BENCH_DATA:-}" ]; then
	data=$TW_BENCH_DATA
	tmp=
else
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/trawl-bench.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT INT TERM
	data=$tmp
fi
if ! ls "$data"/containers/*.log >/dev/null 2>&1; then
	echo "# generating $mib MiB of CRI logs in $data" >&2
	"$PYTHON3" "$top_srcdir/tests/bench/gen.py" --out "$data/containers" \
	    --total-mib "$mib" >/dev/null 2>&1 || exit 1
fi

echo "# $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$bench" "$@" "$data"/containers/*.log || exit 1

if [ "$callgrind" = yes ]; then
	bytes=$(cat "$data"/containers/*.log | wc -c)
	for mode in parse zstd; do
		out=$(mktemp)
		valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		    --toggle-collect=bench_run_"$mode" "$bench" -r 1 -m "$mode" -C -A \
		    "$data"/containers/*.log 2>"$out" >/dev/null
		ir=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$out")
		rm -f "$out"
		echo "callgrind $mode: $ir instructions, $(awk "BEGIN { printf \"%.2f\", $ir / $bytes }") per input byte"
	done
fi

#!/bin/sh
# Configures (once) and builds trawl in the source tree.
# CONFIGURE_FLAGS adds configure options, e.g. "--enable-asan --enable-ubsan".
set -eu
cd "$(dirname "$0")/.."
flags="${CONFIGURE_FLAGS:-}"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	./autogen.sh >/dev/null 2>&1 || ./autogen.sh
fi
if [ ! -f Makefile ] || [ "$(cat .configure-flags 2>/dev/null)" != "$flags" ]; then
	# shellcheck disable=SC2086
	./configure -q $flags
	echo "$flags" > .configure-flags
fi
make -j"$(nproc)" >/dev/null

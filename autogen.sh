#!/bin/sh
# Regenerates the build system from configure.ac and the Makefile.am fragments.
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf -fi
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh

#!/bin/sh
# Installs the Debian packages trawl needs to build and test, when missing.
# Usage: scripts/deps.sh [build|test]   (test adds the Python test modules)
set -eu
want="build-essential autoconf automake pkg-config zstd
librdkafka-dev libzstd-dev libpcre2-dev libmsgpack-dev libcurl4-openssl-dev
libyaml-dev libmicrohttpd-dev libgnutls28-dev libssl-dev libyajl-dev zlib1g-dev"
if [ "${1:-build}" = test ]; then
	want="$want python3 python3-pytest python3-msgpack python3-zstandard curl openssl"
fi
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/deps.sh: run as root (or install:$missing)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/bin/sh
# bench/keys/run.sh: key providers in one run (file vs SoftHSM2 PKCS#11):
# rewrap rate and upload/download throughput.  Results: bench/README.md,
# "Key providers".
#
# Usage: bench/keys/run.sh [BUILD_DIR] [bench_keys.py options]
#   e.g. sh bench/keys/run.sh build -n 20000 --runs 3
#        sh bench/keys/run.sh build -n 1000000 --seed --runs 1 --no-xfer
# --seed adds the versions at store level (seed_versions.c, built here
# against BUILD_DIR's libraries) instead of uploading them one by one.
set -eu
BUILD_DIR=${1:-build}
[ $# -gt 0 ] && shift
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -e /usr/lib/softhsm/libsofthsm2.so ]; then
	echo "bench/keys: softhsm2 not installed (scripts/deps.sh); skipped"
	exit 0
fi
COFFER_BIN=$(cd "$BUILD_DIR" && pwd)/coffer
export COFFER_BIN
top=$(cd "$HERE/../.." && pwd)
build=$(cd "$BUILD_DIR" && pwd)
cmake --build "$build" --target cf_crypto cf_base >/dev/null
# shellcheck disable=SC2046
cc -O2 -g -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$top/src" \
    $(pkg-config --cflags p11-kit-1) -o "$build/seed_versions" \
    "$HERE/seed_versions.c" "$build/src/crypto/libcf_crypto.a" \
    "$build/src/base/libcf_base.a" $(pkg-config --libs sqlite3 gnutls \
    libsodium jansson liboath librhonabwy libqrencode libcurl zlib) -ldl \
    -lpthread
COFFER_SEED_BIN=$build/seed_versions
export COFFER_SEED_BIN
exec /usr/bin/python3 "$HERE/bench_keys.py" "$@"

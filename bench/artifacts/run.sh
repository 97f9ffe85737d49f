#!/bin/sh
# bench/artifacts/run.sh: build and run the artifact query benchmark.
#
#   bench/artifacts/run.sh [BUILD_DIR] [-n OBJECTS] [-a ARTIFACT_VERSIONS]
#
# BUILD_DIR (default build) must be a configured CMake build of this tree;
# the bench program is linked against its store and base libraries.  The
# database lives in /dev/shm (tmpfs: the fill is one fsync'ed transaction
# per write, as the server makes them) and is removed at the end.  The
# same queries end to end through a server and the CLI: cli_bench.py.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
[ $# -gt 0 ] && shift

cmake --build "$build" --target cf_store cf_crypto cf_base >/dev/null
libs="$build/src/store/libcf_store.a $build/src/crypto/libcf_crypto.a \
    $build/src/base/libcf_base.a"
pc=$(pkg-config --libs sqlite3 gnutls libsodium jansson)
cflags="-O2 -g -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I$top/src"
out=$build/bench-artifacts
mkdir -p "$out"
# shellcheck disable=SC2086
cc $cflags -o "$out/art_bench" "$top/bench/artifacts/art_bench.c" $libs \
    $pc -lpthread
if [ $# -eq 0 ]; then
	"$out/art_bench" -n 10000 -a 1000
	"$out/art_bench" -n 1000000 -a 100000
else
	"$out/art_bench" "$@"
fi

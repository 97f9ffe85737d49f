#!/bin/sh
# bench/route/run.sh: the cost of routing (bench_route.c), against
# BUILD_DIR's static libraries (default: build).
#
# Usage: sh bench/route/run.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
out="$here/out"
mkdir -p "$out"
libs=""
for l in server core policy audit store crypto base; do
	libs="$libs $build/src/$l/libcf_$l.a"
done
# shellcheck disable=SC2086
cc -O2 -g -I"$top/src" -o "$out/bench_route" "$here/bench_route.c" \
    $libs $(pkg-config --libs libmicrohttpd gnutls jansson sqlite3 \
    libsodium liboath libcurl) -lrhonabwy -lpthread
"$out/bench_route"

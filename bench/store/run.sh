#!/bin/sh
# bench/store/run.sh: build and run the store benchmarks.
#
#   bench/store/run.sh [BUILD_DIR] [DATA_DIR]
#
# BUILD_DIR (default build-store) must be a configured CMake build of this
# tree; the store, crypto and base libraries are built in it and the bench
# programs are linked against them.  DATA_DIR (default: a fresh directory
# under /var/tmp, i.e. a real disk, not tmpfs) receives the blobs.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build-store}
data=${2:-}

cmake --build "$build" --target cf_store cf_crypto cf_base >/dev/null
libs="$build/src/store/libcf_store.a $build/src/crypto/libcf_crypto.a \
    $build/src/base/libcf_base.a"
pc=$(pkg-config --libs sqlite3 gnutls libsodium jansson)
cflags="-O2 -g -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I$top/src"
out=$build/bench-store
mkdir -p "$out"
for b in blob_write_bench meta_list_bench; do
	# shellcheck disable=SC2086
	cc $cflags -o "$out/$b" "$top/bench/store/$b.c" $libs $pc -lpthread
done

cleanup=
if [ -z "$data" ]; then
	data=$(mktemp -d /var/tmp/cf-bench-store.XXXXXX)
	cleanup=$data
fi
"$out/blob_write_bench" "$data"
"$out/blob_write_bench" -b "$data"
# Listing: tmpfs, so that 100k fsync'ed inserts take seconds, not minutes.
"$out/meta_list_bench" -n 100000
if [ -n "$cleanup" ]; then
	rm -rf "$cleanup"
fi

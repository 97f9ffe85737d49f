#!/bin/sh
# bench/audit/build.sh: build audit_bench against the static libraries of
# a CMake build folder (default: build).  Usage: sh bench/audit/build.sh [BUILD]
set -eu
B=${1:-build}
cd "$(dirname "$0")/../.."
cmake --build "$B" --target cf_audit cf_crypto cf_base >/dev/null
mkdir -p "$B/bench"
${CC:-cc} -O2 -g -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc \
    bench/audit/audit_bench.c \
    "$B/src/audit/libcf_audit.a" "$B/src/crypto/libcf_crypto.a" \
    "$B/src/base/libcf_base.a" \
    $(pkg-config --libs gnutls libsodium jansson) -lpthread \
    -o "$B/bench/audit_bench"
echo "$B/bench/audit_bench"

#!/bin/sh
# bench/password/run.sh [BUILD] [ROUNDS]: build bench_password against
# BUILD's cf_crypto and cf_base (default build/) and print the median time
# of a real and of a dummy password verification (default 15 rounds).
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
ROUNDS=${2:-15}
cmake --build "$B" --target cf_crypto cf_base >/dev/null
OUT="$B/bench/password"
mkdir -p "$OUT"
# shellcheck disable=SC2046
cc -O2 -std=gnu17 -D_GNU_SOURCE -Isrc bench/password/bench_password.c \
    "$B/src/crypto/libcf_crypto.a" "$B/src/base/libcf_base.a" \
    $(pkg-config --cflags --libs gnutls libsodium jansson liboath \
    librhonabwy libqrencode) -lpthread -o "$OUT/bench_password"
"$OUT/bench_password" "$ROUNDS"

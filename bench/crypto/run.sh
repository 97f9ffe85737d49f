#!/bin/sh
# bench/crypto/run.sh [BUILD] [MiB]: build bench_crypto against BUILD's
# cf_crypto and cf_base (default build/), run it on a cache-resident 4 MiB
# blob and on a MiB-sized one (default 128), and print OpenSSL's raw
# AES-256-GCM speed on the same core for comparison.
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
MIB=${2:-128}
cmake --build "$B" --target cf_crypto cf_base >/dev/null
OUT="$B/bench/crypto"
mkdir -p "$OUT"
# shellcheck disable=SC2046
cc -O2 -std=gnu17 -D_GNU_SOURCE -Isrc bench/crypto/bench_crypto.c \
    "$B/src/crypto/libcf_crypto.a" "$B/src/base/libcf_base.a" \
    $(pkg-config --cflags --libs gnutls libsodium jansson) -lpthread \
    -o "$OUT/bench_crypto"
taskset -c 0 "$OUT/bench_crypto" 4
echo
taskset -c 0 "$OUT/bench_crypto" "$MIB"
echo
echo "openssl speed -evp aes-256-gcm (same core, CPU time, for comparison):"
taskset -c 0 openssl speed -seconds 2 -bytes 65536 \
    -evp aes-256-gcm 2>/dev/null | tail -n 2

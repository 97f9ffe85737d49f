#!/bin/sh
# bench/keys/run.sh: key providers in one run (file vs SoftHSM2 PKCS#11):
# rewrap rate and upload/download throughput.  Results: bench/README.md,
# "Key providers".
#
# Usage: bench/keys/run.sh [BUILD_DIR] [bench_keys.py options]
#   e.g. sh bench/keys/run.sh build -n 20000 --runs 3
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
exec /usr/bin/python3 "$HERE/bench_keys.py" "$@"

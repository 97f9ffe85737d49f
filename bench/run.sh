#!/bin/sh
# bench/run.sh BUILD_DIR: every benchmark (`make bench`).  The foundation
# HTTPS benchmark always runs; the subsystem benchmarks run when their
# scripts exist.  Each prints its own table (see bench/README.md).
set -eu
cd "$(dirname "$0")/.."
B=${1:-build}
status=0
sh bench/https/run.sh "$B" || status=1
for d in policy authz crypto password store audit keys; do
	if [ -f "bench/$d/run.sh" ]; then
		echo
		echo "== bench/$d =="
		sh "bench/$d/run.sh" "$B" || status=1
	fi
done
exit $status

#!/bin/sh
# scripts/run-tests.sh BUILD [ASAN_BUILD]: run every CTest suite (unit,
# conformance, fuzz replays, e2e) in each build folder given.  The e2e tests
# pick up the coffer binary of the build they are registered in.
set -eu
status=0
for b in "$@"; do
	echo "== ctest in $b"
	if ! ctest --test-dir "$b" --output-on-failure -j 2 --timeout 1200; then
		status=1
	fi
done
exit $status

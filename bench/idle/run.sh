#!/bin/sh
# bench/idle/run.sh: the memory cost of idle keep-alive TLS connections.
#
# Starts BUILD_DIR/coffer server (a fresh data directory, its self-signed
# certificate), raises the file descriptor limit, and has idle.py open N
# TLS connections (default 10,000), each served one GET /v1/health and
# then left idle; prints the server's VmRSS as they accumulate and checks
# that a new client is still served.  Results: bench/README.md, "Idle
# connections".
#
# Usage: bench/idle/run.sh [N]   (BUILD_DIR=build, BENCH_COFFER_SET="k=v ...")
set -eu
N=${1:-10000}
BUILD_DIR=${BUILD_DIR:-build}
BIN=$(cd "$BUILD_DIR" && pwd)/coffer
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/coffer-idle.XXXXXX)
PORT=${BENCH_PORT:-18443}
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
# Each connection is a descriptor on both sides (client and server).
ulimit -n $((2 * N + 1024)) 2>/dev/null || ulimit -n "$(ulimit -H -n)"
MAXC=$((N + 100))
set -- --data "$T/data" --listen "127.0.0.1:$PORT" \
    --set "max_connections=$MAXC" --set "max_connections_per_ip=$MAXC" \
    --set "connection_timeout=3600"
for kv in ${BENCH_COFFER_SET:-}; do set -- "$@" --set "$kv"; done
XDG_CONFIG_HOME="$T/xdg" "$BIN" server "$@" >"$T/out" 2>"$T/err" &
PID=$!
i=0
until grep -q "serving" "$T/out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 300 ] || { cat "$T/err"; echo "server did not start"; exit 1; }
	sleep 0.1
done
echo "coffer idle bench: $N connections, server pid $PID, ulimit -n $(ulimit -n)"
/usr/bin/python3 "$HERE/idle.py" --port "$PORT" --ca "$T/data/tls/server.crt" \
    --pid "$PID" -n "$N" --step "${BENCH_STEP:-1000}"

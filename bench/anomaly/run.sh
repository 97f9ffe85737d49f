#!/bin/sh
# bench/anomaly/run.sh: the anomaly detector, evaluated (bench/README.md,
# "Anomaly detection").
#
# Usage: sh bench/anomaly/run.sh [BUILD_DIR]
#
# 1. Detection: bench_anomaly (bench_anomaly.c) replays a month of
#    synthetic traffic of 200 principals with injected attacks through
#    the detector, for each seed in BENCH_SEEDS (default "1 2 3"), and
#    prints recall per attack kind, precision per flag kind, false
#    positives per day and the detector's cost per record.
# 2. Cost per request through a real server: two `coffer server`s on
#    loopback with the same certificate and setup, one with
#    anomaly_detection = yes and one with no; small (1 KiB) GETs with
#    wrk, the two interleaved BENCH_RUNS times (default 3; the order
#    alternates); medians (runs' range) and the ratio on/off.
#
# Knobs: BENCH_RUNS, BENCH_SEEDS, BENCH_WRK_SECS (10), BENCH_WRK_CONNS
# (64), BENCH_WRK_THREADS (2), BENCH_ANOMALY_ARGS (more bench_anomaly
# options: -p PRINCIPALS, -n ATTACKS_PER_KIND).  A Release build gives
# the README's numbers.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
B=${1:-build}
case $B in /*) ;; *) B="$ROOT/$B" ;; esac
COFFER="$B/coffer"
RUNS=${BENCH_RUNS:-3}
SEEDS=${BENCH_SEEDS:-1 2 3}
WRK_SECS=${BENCH_WRK_SECS:-10}
WRK_CONNS=${BENCH_WRK_CONNS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
OUT="$B/bench/anomaly"
SAMPLES="$OUT/samples"

die() { echo "bench/anomaly: $*" >&2; exit 1; }
note() { echo "bench/anomaly: $*" >&2; }

cmake --build "$B" --target coffer bench_anomaly >/dev/null ||
    die "build failed"
for t in wrk curl openssl awk; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing (sh scripts/deps.sh)"
done
grep -q '^CMAKE_BUILD_TYPE:STRING=Release' "$B/CMakeCache.txt" 2>/dev/null ||
    note "warning: $B is not a Release build"

rm -rf "$SAMPLES"
mkdir -p "$SAMPLES"
T=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/coffer-bench-anomaly.XXXXXX")
PIDS=
cleanup() {
	set +e
	for p in $PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then note "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$ROOT/bench/lib.sh"

# ---- 1. detection on synthetic traffic ----
echo "## Detection (bench_anomaly, seeds: $SEEDS)"
for s in $SEEDS; do
	echo
	echo "### seed $s"
	echo
	# shellcheck disable=SC2086 # options, split on purpose
	"$B/bench/anomaly/bench_anomaly" -s "$s" ${BENCH_ANOMALY_ARGS:-} |
	    tee "$SAMPLES/detect-$s.txt"
	sed -n 's/^cost: \([0-9]*\) ns.*/\1/p' "$SAMPLES/detect-$s.txt" \
	    >>"$SAMPLES/ns-per-record"
done
echo
echo "detector CPU per record (risk + observe), median of seeds:" \
    "$(med ns-per-record) ns ($(spread ns-per-record))"

# ---- 2. small GETs through a real server, detector on and off ----
make_cert
head -c 1024 /dev/urandom >"$T/small.bin"
CURL="curl -sS --http1.1 --cacert $T/tls/cert.pem"
jfield() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p"; }

start() {	# NAME yes|no: starts, sets up, writes $T/NAME.{url,hdr}
	start_coffer "$COFFER" "$T/$1" --set "anomaly_detection=$2"
	PIDS="$PIDS $CF_PID" url=$CF_URL adm=$CF_ADMIN
	for j in '/v1/ns {"name":"bench"}' \
	    '/v1/principals {"name":"bench-user","kind":"user"}' \
	    '/v1/bindings {"principal":"bench-user","role":"reader","ns":"bench"}'
	do
		$CURL -f -o /dev/null -X POST -H "Authorization: Bearer $adm" \
		    -H 'Content-Type: application/json' \
		    --data-binary "${j#* }" "$url${j%% *}" || die "setup $j"
	done
	tok=$($CURL -f -X POST -H "Authorization: Bearer $adm" \
	    -H 'Content-Type: application/json' \
	    --data-binary '{"principal":"bench-user"}' "$url/v1/tokens" |
	    jfield token)
	[ -n "$tok" ] || die "no token"
	c=$($CURL -o /dev/null -w '%{http_code}' \
	    -H "Authorization: Bearer $adm" -T "$T/small.bin" \
	    "$url/v1/ns/bench/objects/small.bin")
	[ "$c" = 201 ] || die "PUT small.bin: HTTP $c"
	printf 'Authorization: Bearer %s\n' "$tok" >"$T/$1.hdr"
	echo "$url/v1/ns/bench/objects/small.bin" >"$T/$1.url"
	c=$($CURL -o /dev/null -w '%{http_code}' -H @"$T/$1.hdr" \
	    "$(cat "$T/$1.url")")
	[ "$c" = 200 ] || die "GET on $1: HTTP $c"
}

wrk_run() {	# NAME
	w=$(BENCH_HEADERS="$T/$1.hdr" wrk -t "$WRK_THREADS" -c "$WRK_CONNS" \
	    -d "${WRK_SECS}s" --latency -s "$ROOT/bench/s3/headers.lua" \
	    "$(cat "$T/$1.url")" | grep '^BENCH ') || die "wrk $1 failed"
	echo "$w" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "=")
	    v[kv[1]] = kv[2] } }
	    END { e = v["errors_status"] + v["errors_connect"]
	    e += v["errors_read"] + v["errors_timeout"]
	    printf "%.0f %d %d %d\n", v["requests"] * 1e6 / v["duration_us"],
	    v["p50_us"], v["p99_us"], e }' |
	    { read -r rps p50 p99 errs
	      echo "$rps" >>"$SAMPLES/$1.rps"
	      echo "$p50" >>"$SAMPLES/$1.p50"
	      echo "$p99" >>"$SAMPLES/$1.p99"
	      echo "$errs" >>"$SAMPLES/$1.err"; }
}

start on yes
start off no
i=1
while [ "$i" -le "$RUNS" ]; do
	note "small GETs, run $i/$RUNS"
	if [ $((i % 2)) = 1 ]; then order="on off"; else order="off on"; fi
	for n in $order; do wrk_run "$n"; done
	i=$((i + 1))
done
echo
echo "## Small GETs through the server (wrk -t$WRK_THREADS -c$WRK_CONNS" \
    "-d${WRK_SECS}s, $RUNS runs, interleaved)"
echo
echo "| detector | req/s median (runs' range) | p50 µs | p99 µs | errors |"
echo "| --- | --- | --- | --- | --- |"
for n in on off; do
	echo "| $n | $(med $n.rps) ($(spread $n.rps)) | $(med $n.p50) |" \
	    "$(med $n.p99) | $(awk '{ s += $1 } END { print s + 0 }' \
	    "$SAMPLES/$n.err") |"
done
echo
echo "ratio on/off (medians): $(fdiv "$(med on.rps)" "$(med off.rps)")"

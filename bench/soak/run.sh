#!/bin/sh
# bench/soak/run.sh BUILD [MINUTES]: the soak of issue 15: MINUTES (30) of
# mixed load at SOAK_CONNS (256) connections against one Coffer server
# (Release build in BUILD), over TLS, with wrk and bench/soak/mix.lua:
# small and 1 MiB GETs, 4 KiB uploads (new versions), listings, denied
# and unauthenticated requests.  It reports:
#   - errors: socket errors, timeouts, any status but 200/201/401/403, and
#     401/403 counts that differ from what was sent to get them;
#   - unaudited requests: audit records added during the load (counted
#     offline by `coffer audit verify` before and after) against the
#     requests wrk completed; every request must have at least one;
#   - the server's RSS every SOAK_SAMPLE_S (10) seconds, as an ASCII chart
#     and its first/last/peak;
#   - `coffer audit verify` on the data directory afterwards.
# Environment: SOAK_CONNS [256] SOAK_THREADS [2] SOAK_SAMPLE_S [10]
#   BENCH_TMP [$TMPDIR|/tmp] BENCH_KEEP [0].  Needs wrk, curl, openssl.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B="$ROOT/$B" ;; esac
COFFER="$B/coffer"
MIN=${2:-30}
CONNS=${SOAK_CONNS:-256}
THREADS=${SOAK_THREADS:-2}
STEP=${SOAK_SAMPLE_S:-10}
die() { echo "bench/soak: $*" >&2; exit 1; }
note() { echo "bench/soak: $*" >&2; }
[ -x "$COFFER" ] || die "$COFFER not built"
for t in wrk curl openssl awk; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing (sh scripts/deps.sh)"
done
T=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/coffer-soak.XXXXXX")
SAMPLES="$T/samples"
mkdir -p "$SAMPLES" "$T/tls"
COFFER_PID=
cleanup() {
	set +e
	if [ -n "$COFFER_PID" ]; then
		kill "$COFFER_PID" 2>/dev/null
		wait "$COFFER_PID" 2>/dev/null
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then note "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$ROOT/bench/lib.sh"

make_cert
start_coffer "$COFFER" "$T/data"
COFFER_PID=$CF_PID URL=$CF_URL ADMIN=$CF_ADMIN
CURL="curl -sS --http1.1 --cacert $T/tls/cert.pem"
api() {
	$CURL -f -X "$1" -H "Authorization: Bearer $ADMIN" \
	    -H 'Content-Type: application/json' --data-binary "$3" "$URL$2"
}
tok_of() { sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p'; }
api POST /v1/ns '{"name":"soak"}' >/dev/null
for u in soak-reader:reader soak-writer:writer; do
	api POST /v1/principals "{\"name\":\"${u%%:*}\",\"kind\":\"user\"}" \
	    >/dev/null
	api POST /v1/bindings "{\"principal\":\"${u%%:*}\",\"role\":\"${u#*:}\",\"ns\":\"soak\"}" >/dev/null
done
READER=$(api POST /v1/tokens '{"principal":"soak-reader"}' | tok_of)
WRITER=$(api POST /v1/tokens '{"principal":"soak-writer"}' | tok_of)
[ -n "$READER" ] && [ -n "$WRITER" ] || die "no tokens"
head -c 1024 /dev/urandom >"$T/small"
head -c 1048576 /dev/urandom >"$T/big"
i=0
while [ $i -lt 200 ]; do
	$CURL -f -o /dev/null -H "Authorization: Bearer $WRITER" \
	    -T "$T/small" "$URL/v1/ns/soak/objects/small-$i" || die "seed $i"
	i=$((i + 1))
done
$CURL -f -o /dev/null -H "Authorization: Bearer $WRITER" -T "$T/big" \
    "$URL/v1/ns/soak/objects/big" || die "seed big"

records() {	# audit records in DATA, counted offline
	XDG_CONFIG_HOME="$T/data.xdg" "$COFFER" audit verify --data "$T/data" \
	    --json | sed -n 's/.*"records" *: *\([0-9]*\).*/\1/p'
}
R0=$(records)
[ -n "$R0" ] || die "audit verify failed before the load"

# RSS every STEP seconds while wrk runs.
( while kill -0 "$COFFER_PID" 2>/dev/null && [ ! -e "$T/stop" ]; do
	awk '/^VmRSS:/ { printf "%.1f\n", $2 / 1024 }' \
	    "/proc/$COFFER_PID/status" >>"$SAMPLES/rss"
	sleep "$STEP"
  done ) &
RSS_PID=$!
ulimit -n 65536 2>/dev/null || ulimit -n 4096 2>/dev/null || true
note "$MIN min, $CONNS connections, $THREADS threads, server pid $COFFER_PID"
SOAK_READER=$READER SOAK_WRITER=$WRITER SOAK_NS=soak wrk -t "$THREADS" \
    -c "$CONNS" -d "${MIN}m" --timeout 10s \
    -s "$ROOT/bench/soak/mix.lua" "$URL" >"$T/wrk.out" 2>&1 ||
    { cat "$T/wrk.out" >&2; die "wrk failed"; }
: >"$T/stop"
wait "$RSS_PID" 2>/dev/null || true
# Let the last records land, then stop the server (drains, SIGTERM).
kill "$COFFER_PID"
wait "$COFFER_PID" 2>/dev/null || true
COFFER_PID=
R1=$(records)
[ -n "$R1" ] || die "audit verify FAILED after the load"
VERIFY=$(XDG_CONFIG_HOME="$T/data.xdg" "$COFFER" audit verify --data "$T/data")

S=$(grep '^SOAK ' "$T/wrk.out") || { cat "$T/wrk.out" >&2; die "no summary"; }
kv() { echo "$S" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
REQ=$(kv requests); ERRS=$(( $(kv errors_connect) + $(kv errors_read) + \
    $(kv errors_write) + $(kv errors_timeout) + $(kv unexpected_status) ))
D403=$(kv s403); D401=$(kv s401)
DEN=$(kv sent_denied); UNA=$(kv sent_unauth)
# Requests generated but cut at the end: at most one per connection.
bad_count() { awk -v g="${1:-0}" -v s="$2" -v c="$CONNS" \
    'BEGIN { d = s - g; if (d < 0 || d > c) print 1; else print 0 }'; }
MISMATCH=$(( $(bad_count "$D403" "$DEN") + $(bad_count "$D401" "$UNA") ))
ADDED=$((R1 - R0))
echo "Soak: $MIN min, $CONNS connections, wrk -t$THREADS, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "requests completed: $REQ ($(fdiv "$REQ" "$((MIN * 60))" %.0f)/s); statuses:$(echo "$S" | tr ' ' '\n' | grep '^s[0-9]' | tr '\n' ' ')"
echo "errors: $ERRS (socket/timeout/unexpected status); 401/403 counts off: $MISMATCH"
echo "latency p50 $(kv p50_us) us, p99 $(kv p99_us) us"
echo "audit records added: $ADDED for $REQ requests ($(fdiv "$ADDED" "$REQ" %.4f) per request; >= 1: none unaudited)"
echo "audit verify afterwards: $VERIFY"
sort -g "$SAMPLES/rss" | awk 'NR == 1 { lo = $1 } { hi = $1 } END {
    printf "RSS MiB: min %s, max %s over %d samples\n", lo, hi, NR }'
echo "RSS every ${STEP}s (MiB; one row per sample, # = 4 MiB):"
awk '{ n = int($1 / 4); s = ""; for (i = 0; i < n; i++) s = s "#";
    printf "%5d s %7.1f %s\n", (NR - 1) * '"$STEP"', $1, s }' "$SAMPLES/rss"
[ "$ERRS" = 0 ] && [ "$MISMATCH" = 0 ] && [ "$ADDED" -ge "$REQ" ] ||
    die "soak FAILED (errors, mismatched denials or unaudited requests)"

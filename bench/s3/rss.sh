#!/bin/sh
# bench/s3/rss.sh [BUILD_DIR]: the server's resident memory while
# BENCH_RSS_N (10) boto3 multipart uploads of BENCH_MIB (1024) MiB each run
# in parallel (8 MiB parts, BENCH_RSS_THREADS (10) parts in flight per
# upload, so 100 part uploads at once by default) against Coffer's S3
# endpoint over TLS (issue 13: RSS < 128 MiB for 10 parallel 1 GiB
# uploads).  Each upload is a principal of its own (writer on the bucket,
# its own S3 key), as ten jobs of a team would be: one principal may have
# max_uploads_per_principal (64) uploads in flight, and 100 parts of one
# principal would be answered 503 SlowDown past that (and retried by
# botocore).  The server runs with its defaults but for
# max_connections_per_ip (every client is 127.0.0.1) and what
# BENCH_RSS_SET adds ("name=value ...", each passed as --set, e.g.
# request_memory_budget=67108864).  bench/s3/rss.py polls VmRSS every 100 ms and times each
# CompleteMultipartUpload; every object's size is checked by HeadObject
# and one is downloaded and compared byte for byte.
#
# Disk: the source file, N x BENCH_MIB of parts and as much again of the
# completed objects' blobs (the parts go when their upload completes) in
# BENCH_TMP (default $TMPDIR or /tmp); deleted at the end unless
# BENCH_KEEP=1.
# Output: the summary and curve on stdout and in
# BUILD_DIR/bench/s3/rss.md, samples in BUILD_DIR/bench/s3/rss/.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
B=${1:-build}
case $B in /*) ;; *) B="$ROOT/$B" ;; esac
COFFER="$B/coffer"
MIB=${BENCH_MIB:-1024}
N=${BENCH_RSS_N:-10}
THREADS=${BENCH_RSS_THREADS:-10}
OUT="$B/bench/s3"
SAMPLES="$OUT/rss"
PY=/usr/bin/python3

die() { echo "bench/s3/rss: $*" >&2; exit 1; }
note() { echo "bench/s3/rss: $*" >&2; }

[ -x "$COFFER" ] || die "$COFFER not built (cmake --build $B --target coffer)"
for t in curl openssl awk; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing (sh scripts/deps.sh)"
done
grep -q '^CMAKE_BUILD_TYPE:STRING=Release' "$B/CMakeCache.txt" 2>/dev/null ||
    note "warning: $B is not a Release build"

rm -rf "$SAMPLES"
mkdir -p "$SAMPLES"
T=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/coffer-bench-rss.XXXXXX")
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

# now, free_port, wait_https, admin_token
. "$ROOT/bench/lib.sh"

need=$(( (2 * N + 2) * MIB ))
avail=$(df -Pm "$T" | awk 'NR == 2 { print $4 }')
[ "$avail" -gt "$need" ] ||
    die "$need MiB needed in $T, $avail MiB free (BENCH_TMP, BENCH_MIB)"

mkdir -p "$T/tls" "$T/src" "$T/out"
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$T/src/big.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" 2>/dev/null
chmod 600 "$T/tls/key.pem"
SETS=
for kv in ${BENCH_RSS_SET:-}; do SETS="$SETS --set $kv"; done
PORT=$(free_port 5)
URL="https://127.0.0.1:$PORT"
XDG_CONFIG_HOME="$T/xdg" "$COFFER" server --data "$T/coffer" \
    --listen "127.0.0.1:$PORT" --set "tls_cert=$T/tls/cert.pem" \
    --set "tls_key=$T/tls/key.pem" --set "max_connections_per_ip=65536" \
    $SETS >"$T/coffer.log" 2>&1 &
COFFER_PID=$!
wait_https "$URL/v1/health" || { tail -n 30 "$T/coffer.log" >&2; die "no server"; }
ADMIN=$(admin_token "$URL" "$T/coffer") && [ -n "$ADMIN" ] || die "no admin"
CURL="curl -sS --http1.1 --cacert $T/tls/cert.pem"
api() {	# METHOD PATH JSON, as admin; fails on non-2xx
	$CURL -f -X "$1" -H "Authorization: Bearer $ADMIN" \
	    -H 'Content-Type: application/json' --data-binary "$3" "$URL$2"
}
jfield() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p"; }
api POST /v1/ns '{"name":"bench"}' >/dev/null
: >"$T/keys"
i=0
while [ $i -lt "$N" ]; do
	api POST /v1/principals "{\"name\":\"bench-$i\",\"kind\":\"user\"}" \
	    >/dev/null
	api POST /v1/bindings \
	    "{\"principal\":\"bench-$i\",\"role\":\"writer\",\"ns\":\"bench\"}" \
	    >/dev/null
	KEYJ=$(api POST /v1/s3-keys "{\"principal\":\"bench-$i\"}")
	AKID=$(echo "$KEYJ" | jfield access_key_id)
	SECRET=$(echo "$KEYJ" | jfield secret_access_key)
	[ -n "$AKID" ] && [ -n "$SECRET" ] || die "credentials"
	echo "$AKID $SECRET" >>"$T/keys"
	i=$((i + 1))
done
# rss.py gives each upload its own key; the download below uses the last.
export AWS_ACCESS_KEY_ID="$AKID" AWS_SECRET_ACCESS_KEY="$SECRET" \
    AWS_DEFAULT_REGION=us-east-1 AWS_CA_BUNDLE="$T/tls/cert.pem" \
    AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none"

note "$N uploads of $MIB MiB in parallel, $THREADS parts in flight each"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
rc=0
$PY "$ROOT/bench/s3/rss.py" "$COFFER_PID" "$URL" "$T/src/big.bin" "$T/keys" \
    "$THREADS" "$SAMPLES" >"$T/summary" || rc=$?
load1=$(cut -d' ' -f1-3 /proc/loadavg)
# one object back, byte for byte
$PY - "$URL" "$T/out/up-0" <<'PYEOF' || die "download of up-0 failed"
import sys
import boto3
from boto3.s3.transfer import TransferConfig
boto3.client("s3", endpoint_url=sys.argv[1]).download_file(
    "bench", "up-0", sys.argv[2],
    Config=TransferConfig(multipart_chunksize=8 << 20, max_concurrency=10))
PYEOF
if cmp -s "$T/src/big.bin" "$T/out/up-0"; then same=yes; else same=NO; rc=1; fi
{
	echo "bench/s3/rss $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $N x $MIB MiB, 8 MiB parts, $THREADS in flight each,${BENCH_RSS_SET:+ $BENCH_RSS_SET,} load average $load0 before, $load1 after"
	echo
	echo '```'
	cat "$T/summary"
	echo "up-0 downloaded and compared: $same"
	echo '```'
} | tee "$OUT/rss.md"
[ "$rc" = 0 ] || die "an upload failed or differs (see above)"

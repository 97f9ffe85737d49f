#!/bin/sh
# bench/s3/ab_upload.sh BUILD_A BUILD_B: single-upload throughput of two
# builds of Coffer in one run (an A/B of a change to the upload path).
# Starts one server of each (defaults, TLS on loopback, data in
# BENCH_TMP) and, BENCH_RUNS (5) times with the order alternating, uploads
# one random BENCH_MIB (1024) MiB file to each with
#   - curl -T to the REST API (one PUT), and
#   - boto3 upload_file to the S3 endpoint (8 MiB parts, 10 at a time, a
#     CompleteMultipartUpload at the end),
# reading the server's CPU time (utime + stime) before and after each and
# its VmHWM after.  Prints the medians (min-max) in MB/s and in server
# CPU seconds per upload (steadier than MB/s on a loaded machine), and
# the ratios B/A of the medians.  Output also in
# BUILD_B/bench/s3/ab_upload.md.  Disk: about 4 x BENCH_MIB in BENCH_TMP.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
[ $# -eq 2 ] || { echo "usage: $0 BUILD_A BUILD_B" >&2; exit 2; }
A=$1
B=$2
case $A in /*) ;; *) A="$ROOT/$A" ;; esac
case $B in /*) ;; *) B="$ROOT/$B" ;; esac
MIB=${BENCH_MIB:-1024}
RUNS=${BENCH_RUNS:-5}
PY=/usr/bin/python3
SAMPLES="$B/bench/s3/ab"
die() { echo "bench/s3/ab_upload: $*" >&2; exit 1; }
note() { echo "bench/s3/ab_upload: $*" >&2; }
[ -x "$A/coffer" ] && [ -x "$B/coffer" ] || die "coffer missing"
rm -rf "$SAMPLES"
mkdir -p "$SAMPLES"
T=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/coffer-bench-ab.XXXXXX")
PIDS=
cleanup() {
	set +e
	for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$ROOT/bench/lib.sh"

mkdir -p "$T/tls" "$T/src"
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$T/src/big.bin"
BYTES=$((MIB * 1024 * 1024))
make_cert
CURL="curl -sS --http1.1 --cacert $T/tls/cert.pem"

# start NAME BUILD: coffer_writer (bench/lib.sh): NAME_url, NAME_pid,
# NAME_token, NAME_akid, NAME_secret
start() { coffer_writer "$1" "$2"; }
start a "$A"
start b "$B"
export AWS_DEFAULT_REGION=us-east-1 AWS_CA_BUNDLE="$T/tls/cert.pem" \
    AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none"

hwm() { awk '/^VmHWM:/ { printf "%d\n", $2 / 1024 }' "/proc/$1/status"; }
# the server's CPU time so far (utime + stime), in clock ticks
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
HZ=$(getconf CLK_TCK)
cpu() {	# NAME KIND TICKS_BEFORE: the server CPU seconds of one upload
	awk -v a="$3" -v z="$(ticks "$4")" -v hz="$HZ" \
	    'BEGIN { printf "%.2f\n", (z - a) / hz }' >>"$SAMPLES/$1.$2_cpu"
}
rest() {	# NAME RUN
	eval "u=\$${1}_url t=\$${1}_token p=\$${1}_pid"
	c0=$(ticks "$p")
	t0=$(now)
	code=$($CURL -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" \
	    -T "$T/src/big.bin" "$u/v1/ns/bench/objects/big-$2")
	t1=$(now)
	[ "$code" = 201 ] || die "$1: REST PUT: HTTP $code"
	awk -v b="$BYTES" -v a="$t0" -v z="$t1" \
	    'BEGIN { printf "%.1f\n", b / (z - a) / 1e6 }' >>"$SAMPLES/$1.rest"
	cpu "$1" rest "$c0" "$p"
	hwm "$p" >>"$SAMPLES/$1.rest_hwm"
}
boto() {	# NAME RUN
	eval "u=\$${1}_url k=\$${1}_akid s=\$${1}_secret p=\$${1}_pid"
	c0=$(ticks "$p")
	t0=$(now)
	AWS_ACCESS_KEY_ID=$k AWS_SECRET_ACCESS_KEY=$s $PY - "$u" \
	    "$T/src/big.bin" "big-s3-$2" <<'EOF' || die "$1: boto3 upload"
import sys
import boto3
from boto3.s3.transfer import TransferConfig
cfg = TransferConfig(multipart_threshold=8 << 20,
                     multipart_chunksize=8 << 20, max_concurrency=10)
boto3.client("s3", endpoint_url=sys.argv[1]).upload_file(
    sys.argv[2], "bench", sys.argv[3], Config=cfg)
EOF
	t1=$(now)
	awk -v b="$BYTES" -v a="$t0" -v z="$t1" \
	    'BEGIN { printf "%.1f\n", b / (z - a) / 1e6 }' >>"$SAMPLES/$1.boto"
	cpu "$1" boto "$c0" "$p"
	hwm "$p" >>"$SAMPLES/$1.boto_hwm"
}
load0=$(cut -d' ' -f1-3 /proc/loadavg)
r=1
while [ "$r" -le "$RUNS" ]; do
	note "run $r of $RUNS"
	if [ $((r % 2)) = 1 ]; then o="a b"; else o="b a"; fi
	for n in $o; do rest "$n" "$r"; done
	for n in $o; do boto "$n" "$r"; done
	r=$((r + 1))
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "bench/s3/ab_upload $(date -u +%Y-%m-%dT%H:%MZ), A=$A, B=$B, $MIB MiB, $RUNS runs, load average $load0 before, $load1 after"
	echo
	echo "| upload (MB/s, median, min-max) | A | B | B/A |"
	echo "| --- | --- | --- | --- |"
	for x in rest boto; do
		echo "| $x | $(med a.$x) ($(spread a.$x)) | $(med b.$x) ($(spread b.$x)) | $(fdiv "$(med b.$x)" "$(med a.$x)") |"
	done
	echo "| **server CPU s per upload** | | | |"
	for x in rest boto; do
		echo "| $x | $(med a.${x}_cpu) ($(spread a.${x}_cpu)) | $(med b.${x}_cpu) ($(spread b.${x}_cpu)) | $(fdiv "$(med b.${x}_cpu)" "$(med a.${x}_cpu)") |"
	done
	echo "| server VmHWM after (MiB) | $(sort -g "$SAMPLES/a.boto_hwm" | tail -n 1) | $(sort -g "$SAMPLES/b.boto_hwm" | tail -n 1) | |"
} | tee "$SAMPLES/../ab_upload.md"

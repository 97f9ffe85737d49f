#!/bin/sh
# bench/s3/part_cost.sh BUILD_DIR: what one UploadPart costs the server,
# split into a fixed part and a part per byte.  One Coffer server, one
# boto3 client sending parts one at a time (no concurrency, so the
# figures do not depend on how the parts overlap): BENCH_PARTS (200)
# parts of 1 byte, then BENCH_BIG_PARTS (32) parts of 8 MiB, then one
# PutObject and one REST PUT (curl) of BENCH_BIG_PARTS x 8 MiB, each
# BENCH_RUNS (3) times; the server's CPU time (utime + stime from
# /proc/PID/stat) before and after each batch.  Prints medians (ranges)
# in ms per request and s per GiB.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
case $1 in /*) B=$1 ;; *) B="$ROOT/$1" ;; esac
RUNS=${BENCH_RUNS:-3}
NSMALL=${BENCH_PARTS:-200}
NBIG=${BENCH_BIG_PARTS:-32}
PY=/usr/bin/python3
SAMPLES="$B/bench/s3/part_cost"
die() { echo "bench/s3/part_cost: $*" >&2; exit 1; }
[ -x "$B/coffer" ] || die "$B/coffer not built"
rm -rf "$SAMPLES"
mkdir -p "$SAMPLES"
T=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/coffer-bench-part.XXXXXX")
PIDS=
cleanup() {
	set +e
	for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$ROOT/bench/lib.sh"

make_cert
coffer_writer one "$B"
CF_URL=$one_url CF_PID=$one_pid TOK=$one_token
CURL="curl -sS --http1.1 --cacert $T/tls/cert.pem"
export AWS_ACCESS_KEY_ID="$one_akid" AWS_SECRET_ACCESS_KEY="$one_secret" \
    AWS_DEFAULT_REGION=us-east-1 AWS_CA_BUNDLE="$T/tls/cert.pem" \
    AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none"
head -c $((NBIG * 8 * 1048576)) /dev/urandom >"$T/big.bin"

r=1
while [ "$r" -le "$RUNS" ]; do
	$PY - "$CF_URL" "$CF_PID" "$NSMALL" "$NBIG" "$T/big.bin" \
	    "$SAMPLES" <<'EOF' || die "boto3 failed"
import os, sys, boto3
url, pid, nsmall, nbig, path, out = sys.argv[1:7]
nsmall, nbig = int(nsmall), int(nbig)
hz = os.sysconf("SC_CLK_TCK")
def ticks():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
def keep(name, v):
    with open(os.path.join(out, name), "a") as f:
        f.write("%.3f\n" % v)
s3 = boto3.client("s3", endpoint_url=url)
big = open(path, "rb").read()
part = 8 << 20
u = s3.create_multipart_upload(Bucket="bench", Key="p")["UploadId"]
s3.upload_part(Bucket="bench", Key="p", UploadId=u, PartNumber=1, Body=b"x")
t0 = ticks()
for i in range(nsmall):
    s3.upload_part(Bucket="bench", Key="p", UploadId=u, PartNumber=i + 2,
                   Body=b"x")
keep("small_ms", (ticks() - t0) / hz / nsmall * 1e3)
s3.abort_multipart_upload(Bucket="bench", Key="p", UploadId=u)
u = s3.create_multipart_upload(Bucket="bench", Key="p")["UploadId"]
t0 = ticks()
for i in range(nbig):
    s3.upload_part(Bucket="bench", Key="p", UploadId=u, PartNumber=i + 1,
                   Body=big[i * part:(i + 1) * part])
c = (ticks() - t0) / hz
keep("part_ms", c / nbig * 1e3)
keep("part_gib", c * (1 << 30) / len(big))
s3.abort_multipart_upload(Bucket="bench", Key="p", UploadId=u)
t0 = ticks()
s3.put_object(Bucket="bench", Key="one", Body=big)
keep("put_gib", (ticks() - t0) / hz * (1 << 30) / len(big))
EOF
	c0=$(sed 's/.*) //' "/proc/$CF_PID/stat" | awk '{ print $12 + $13 }')
	$CURL -f -o /dev/null -H "Authorization: Bearer $TOK" -T "$T/big.bin" \
	    "$CF_URL/v1/ns/bench/objects/rest" || die "REST PUT failed"
	c1=$(sed 's/.*) //' "/proc/$CF_PID/stat" | awk '{ print $12 + $13 }')
	awk -v a="$c0" -v z="$c1" -v hz="$(getconf CLK_TCK)" \
	    -v b=$((NBIG * 8 * 1048576)) \
	    'BEGIN { printf "%.3f\n", (z - a) / hz * 1073741824 / b }' \
	    >>"$SAMPLES/rest_gib"
	r=$((r + 1))
done
echo "bench/s3/part_cost $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $RUNS runs, $NSMALL 1-byte parts, $NBIG x 8 MiB, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| server CPU, median (range) | |"
echo "| --- | ---: |"
echo "| UploadPart of 1 byte, ms | $(med small_ms) ($(spread small_ms)) |"
echo "| UploadPart of 8 MiB, ms | $(med part_ms) ($(spread part_ms)) |"
echo "| ... per GiB, s | $(med part_gib) ($(spread part_gib)) |"
echo "| one PutObject, per GiB, s | $(med put_gib) ($(spread put_gib)) |"
echo "| one REST PUT (curl), per GiB, s | $(med rest_gib) ($(spread rest_gib)) |"

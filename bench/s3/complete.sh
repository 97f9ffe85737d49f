#!/bin/sh
# bench/s3/complete.sh BUILD_DIR [BUILD_DIR...]: the time of one
# CompleteMultipartUpload of a BENCH_MIB (1024) object in BENCH_PART_MIB
# (8) MiB parts, as boto3 sends it.  Each build gets a server of its own;
# the runs of the builds are interleaved (alternating which goes first),
# so that builds compared in one call see the same load on a shared
# machine.  Each run uploads the parts (10 threads, as the issue's boto3
# upload_file), then times the Complete: wall time as the client sees
# it, and the server's CPU time (utime + stime of its process,
# /proc/PID/stat, before and after), so cpu/wall tells how much of the
# two cores it used; and the whole upload (CreateMultipartUpload, the
# parts, the Complete) as the client waits for it.  Each build's first
# run downloads the object and compares it with the source (byte-exact).
#
# Environment knobs: BENCH_RUNS [3]  BENCH_MIB [1024]  BENCH_PART_MIB [8]
#   BENCH_PERF [0: 1 records `perf record -g` of the first build's server
#   during its last Complete into its BUILD_DIR/bench/s3/complete.perf.data]
#   BENCH_TMP  BENCH_KEEP [0]
# Output: a markdown table on stdout and in the first
# BUILD_DIR/bench/s3/complete.md, raw samples in
# BUILD_DIR/bench/s3/complete-samples/.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
[ $# -ge 1 ] || set -- build
RUNS=${BENCH_RUNS:-3}
MIB=${BENCH_MIB:-1024}
PART_MIB=${BENCH_PART_MIB:-8}
PERF=${BENCH_PERF:-0}
PY=/usr/bin/python3

die() { echo "bench/s3/complete: $*" >&2; exit 1; }
note() { echo "bench/s3/complete: $*" >&2; }

abs() { case $1 in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
NB=0
for b in "$@"; do
	NB=$((NB + 1))
	b=$(abs "$b")
	[ -x "$b/coffer" ] || die "$b/coffer not built (cmake --build $b --target coffer)"
	grep -q '^CMAKE_BUILD_TYPE:STRING=Release' "$b/CMakeCache.txt" 2>/dev/null ||
	    note "warning: $b is not a Release build"
	eval "B$NB=\$b"
done
for t in curl openssl awk; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing (sh scripts/deps.sh)"
done
[ "$PERF" = 1 ] && { command -v perf >/dev/null 2>&1 || die "perf missing"; }
OUT="$(abs "$1")/bench/s3"
SAMPLES="$OUT/complete-samples"
rm -rf "$SAMPLES"
mkdir -p "$SAMPLES"
T=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/coffer-bench-mpc.XXXXXX")
PIDS=
cleanup() {
	set +e
	for sp in $PIDS; do kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null; done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then note "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# median, med, spread, now, fdiv, free_port, wait_https, admin_token
. "$ROOT/bench/lib.sh"

mkdir -p "$T/tls" "$T/src"
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$T/src/big.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" 2>/dev/null
chmod 600 "$T/tls/key.pem"
CURL="curl -sS --http1.1 --cacert $T/tls/cert.pem"
jfield() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p"; }

# start I: server I (build BI) in $T/sI; sets URLI, PIDI, AKIDI, SECRETI
start() {
	eval "sb=\$B$1"
	port=$(free_port $((5 + $1)))
	url="https://127.0.0.1:$port"
	XDG_CONFIG_HOME="$T/xdg$1" "$sb/coffer" server --data "$T/s$1" \
	    --listen "127.0.0.1:$port" --set "tls_cert=$T/tls/cert.pem" \
	    --set "tls_key=$T/tls/key.pem" >"$T/coffer$1.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	wait_https "$url/v1/health" ||
	    { tail -n 30 "$T/coffer$1.log" >&2; die "no server $1"; }
	admin=$(admin_token "$url" "$T/s$1") && [ -n "$admin" ] || die "no admin"
	api() {	# METHOD PATH JSON, as admin; fails on non-2xx
		$CURL -f -X "$1" -H "Authorization: Bearer $admin" \
		    -H 'Content-Type: application/json' --data-binary "$3" \
		    "$url$2"
	}
	api POST /v1/ns '{"name":"bench"}' >/dev/null
	api POST /v1/principals '{"name":"bench-user","kind":"user"}' >/dev/null
	api POST /v1/bindings \
	    '{"principal":"bench-user","role":"writer","ns":"bench"}' >/dev/null
	keyj=$(api POST /v1/s3-keys '{"principal":"bench-user"}')
	akid=$(echo "$keyj" | jfield access_key_id)
	secret=$(echo "$keyj" | jfield secret_access_key)
	[ -n "$akid" ] && [ -n "$secret" ] || die "credentials"
	eval "URL$1=\$url PID$1=\$pid AKID$1=\$akid SECRET$1=\$secret"
}
# (lib.sh's helpers use i and p: the loops here count in other names.)
bi=1
while [ "$bi" -le "$NB" ]; do start "$bi"; bi=$((bi + 1)); done

# measure I RUN: one upload and its Complete against server I
measure() {
	eval "url=\$URL$1 pid=\$PID$1 akid=\$AKID$1 secret=\$SECRET$1"
	perf_out=
	[ "$PERF" = 1 ] && [ "$1" = 1 ] && [ "$2" = "$RUNS" ] &&
	    perf_out="$OUT/complete.perf.data"
	$PY - "$url" "$T/tls/cert.pem" "$akid" "$secret" "$T/src/big.bin" \
	    "$PART_MIB" "$pid" "$2" "$perf_out" <<'EOF' >"$T/sample" ||
import hashlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

url, ca, akid, secret, src, part_mib, pid, run, perf = sys.argv[1:10]
part = int(part_mib) * 1024 * 1024
size = os.path.getsize(src)
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id=akid, aws_secret_access_key=secret,
                  verify=ca,
                  config=Config(s3={"addressing_style": "path"},
                                read_timeout=3600,
                                retries={"max_attempts": 1},
                                max_pool_connections=10))
key = "big-%s.bin" % run
u0 = time.monotonic()
up = s3.create_multipart_upload(Bucket="bench", Key=key)["UploadId"]


def put(n):
    with open(src, "rb") as f:
        f.seek((n - 1) * part)
        body = f.read(part)
    return s3.upload_part(Bucket="bench", Key=key, UploadId=up,
                          PartNumber=n, Body=body)["ETag"]


count = (size + part - 1) // part
with ThreadPoolExecutor(10) as ex:
    etags = list(ex.map(put, range(1, count + 1)))


def cpu():
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


rec = None
if perf:
    rec = subprocess.Popen(["perf", "record", "-g", "-q", "-o", perf,
                            "-p", pid], stdout=subprocess.DEVNULL)
    time.sleep(1)
c0 = cpu()
t0 = time.monotonic()
s3.complete_multipart_upload(
    Bucket="bench", Key=key, UploadId=up,
    MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e}
                               for i, e in enumerate(etags)]})
t1 = time.monotonic()
c1 = cpu()
if rec is not None:
    rec.send_signal(signal.SIGINT)
    rec.wait()
if run == "1":
    h = hashlib.sha256()
    with open(src, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    g = hashlib.sha256()
    body = s3.get_object(Bucket="bench", Key=key)["Body"]
    for b in iter(lambda: body.read(1 << 20), b""):
        g.update(b)
    if g.digest() != h.digest():
        sys.exit("the completed object differs from the source")
print("%.3f %.3f %.3f" % (t1 - t0, c1 - c0, t1 - u0))
EOF
	    die "build $1 run $2 failed"
	read -r w c a <"$T/sample"
	echo "$w" >>"$SAMPLES/wall.$1"
	echo "$c" >>"$SAMPLES/cpu.$1"
	echo "$a" >>"$SAMPLES/all.$1"
	note "build $1 run $2: Complete wall ${w}s, server cpu ${c}s; whole upload ${a}s; load $(cut -d' ' -f1 /proc/loadavg)"
}

note "$MIB MiB in $PART_MIB MiB parts, $RUNS runs, $NB builds, load $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ "$r" -le "$RUNS" ]; do
	if [ $((r % 2)) = 1 ]; then bi=1; step=1; else bi=$NB; step=-1; fi
	k=0
	while [ "$k" -lt "$NB" ]; do
		measure "$bi" "$r"
		bi=$((bi + step)); k=$((k + 1))
	done
	r=$((r + 1))
done

{
	echo "bench/s3/complete $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $RUNS runs, $MIB MiB in $PART_MIB MiB parts, load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| build | Complete wall s, median (range) | server CPU s, median (range) | Complete MiB/s | whole upload s (parts + Complete) | whole upload MiB/s |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	bi=1
	while [ "$bi" -le "$NB" ]; do
		eval "b=\$B$bi"
		echo "| $b | $(med wall.$bi) ($(spread wall.$bi)) | $(med cpu.$bi) ($(spread cpu.$bi)) | $(fdiv "$MIB" "$(med wall.$bi)" %.1f) | $(med all.$bi) ($(spread all.$bi)) | $(fdiv "$MIB" "$(med all.$bi)" %.1f) |"
		bi=$((bi + 1))
	done
} | tee "$OUT/complete.md"
[ "$PERF" = 1 ] && note "perf report -i $OUT/complete.perf.data --no-children"
exit 0

#!/bin/sh
# bench/s3/run.sh [BUILD_DIR]: Coffer's S3 endpoint against its own REST
# API and against Ceph radosgw, in one run, on loopback, same objects
# (issue 13):
#   - 1 KiB GETs/s with wrk (64 connections, keep-alive): REST with a
#     bearer token; S3 GetObject signed with SigV4 in headers; S3 with a
#     presigned URL (SigV4 in the query).  Both S3 forms are made by
#     botocore's signer (bench/s3/sign.py) for a writer's S3 key;
#   - a BENCH_MIB (1024) file up and down: REST with curl (-T / -o), S3 with
#     Debian's awscli (`aws s3 cp`) and python3-boto3 (upload_file /
#     download_file, 8 MiB parts, 10 threads);
#   - the same S3 clients and signed GETs against radosgw (Debian's Ceph,
#     one memstore OSD, beast over TLS with a certificate made like
#     Coffer's; bench/s3/rgw.sh), when Ceph is installed.
# Each measurement is repeated BENCH_RUNS times (REST, Coffer-S3 and
# radosgw interleaved, alternating which goes first); the tables give
# medians and the ratios Coffer-S3/REST (targets: small GETs >= 0.8,
# 1 GiB >= 0.9) and Coffer-S3/radosgw.
#
# Environment knobs: BENCH_RUNS [3]  BENCH_MIB [1024]  BENCH_WRK_SECS [10]
#   BENCH_WRK_CONNS [64]  BENCH_WRK_THREADS [2]  BENCH_MULTIPART [1: the
#   clients upload in 8 MiB parts, 10 at a time; 0: one PutObject (the
#   clients' thresholds above the file size)]  BENCH_CLIENTS ["aws boto":
#   the S3 clients of the large transfers]  BENCH_RGW [1 when Ceph is
#   installed: also measure radosgw; 0: not; 1 and Ceph missing: fail
#   with the apt-get line]  BENCH_AWS [/usr/bin/aws, Debian's awscli;
#   a newer awscli sends aws-chunked trailers that Pacific's radosgw
#   refuses]  BENCH_TMP  BENCH_KEEP [0]
# Output: markdown tables on stdout and in BUILD_DIR/bench/s3/results.md,
# raw samples in BUILD_DIR/bench/s3/samples/.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
B=${1:-build}
case $B in /*) ;; *) B="$ROOT/$B" ;; esac
COFFER="$B/coffer"
RUNS=${BENCH_RUNS:-3}
MIB=${BENCH_MIB:-1024}
WRK_SECS=${BENCH_WRK_SECS:-10}
WRK_CONNS=${BENCH_WRK_CONNS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
MULTIPART=${BENCH_MULTIPART:-1}
CLIENTS=${BENCH_CLIENTS:-aws boto}
AWS=${BENCH_AWS:-/usr/bin/aws}
OUT="$B/bench/s3"
SAMPLES="$OUT/samples"
PY=/usr/bin/python3

die() { echo "bench/s3: $*" >&2; exit 1; }
note() { echo "bench/s3: $*" >&2; }

# rgw_missing, rgw_start, rgw_stop, rgw_rss, RGW_APT
. "$ROOT/bench/s3/rgw.sh"
RGW=${BENCH_RGW:-}
if [ "$RGW" != 0 ] && m=$(rgw_missing); then
	[ "$RGW" = 1 ] && die "BENCH_RGW=1 but $m is missing: $RGW_APT"
	note "radosgw left out ($m missing; to measure it: $RGW_APT)"
	RGW=0
fi
[ "$RGW" = 0 ] || RGW=1

[ -x "$COFFER" ] || die "$COFFER not built (cmake --build $B --target coffer)"
for t in wrk curl openssl awk "$AWS"; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing (sh scripts/deps.sh)"
done
grep -q '^CMAKE_BUILD_TYPE:STRING=Release' "$B/CMakeCache.txt" 2>/dev/null ||
    note "warning: $B is not a Release build"

rm -rf "$SAMPLES"
mkdir -p "$SAMPLES"
T=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/coffer-bench-s3.XXXXXX")
COFFER_PID=
cleanup() {
	set +e
	rgw_stop
	if [ -n "$COFFER_PID" ]; then
		kill "$COFFER_PID" 2>/dev/null
		wait "$COFFER_PID" 2>/dev/null
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then note "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# median, med, spread, now, fdiv, free_port, wait_https, admin_token
. "$ROOT/bench/lib.sh"

# ---- server, objects, credentials ----

mkdir -p "$T/tls" "$T/src" "$T/out" "$T/aws"
BYTES=$((MIB * 1024 * 1024))
head -c "$BYTES" /dev/urandom >"$T/src/big.bin"
head -c 1024 /dev/urandom >"$T/src/small.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" 2>/dev/null
chmod 600 "$T/tls/key.pem"
PORT=$(free_port 3)
URL="https://127.0.0.1:$PORT"
XDG_CONFIG_HOME="$T/xdg" "$COFFER" server --data "$T/coffer" \
    --listen "127.0.0.1:$PORT" --set "tls_cert=$T/tls/cert.pem" \
    --set "tls_key=$T/tls/key.pem" --set "max_connections_per_ip=65536" \
    >"$T/coffer.log" 2>&1 &
COFFER_PID=$!
wait_https "$URL/v1/health" || { tail -n 30 "$T/coffer.log" >&2; die "no server"; }
ADMIN=$(admin_token "$URL" "$T/coffer") && [ -n "$ADMIN" ] || die "no admin"
CURL="curl -sS --http1.1 --cacert $T/tls/cert.pem"
api() {	# METHOD PATH [JSON], as admin; fails on non-2xx
	if [ $# -ge 3 ]; then
		$CURL -f -X "$1" -H "Authorization: Bearer $ADMIN" \
		    -H 'Content-Type: application/json' --data-binary "$3" "$URL$2"
	else
		$CURL -f -X "$1" -H "Authorization: Bearer $ADMIN" "$URL$2"
	fi
}
jfield() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p"; }
api POST /v1/ns '{"name":"bench"}' >/dev/null
api POST /v1/principals '{"name":"bench-user","kind":"user"}' >/dev/null
api POST /v1/bindings '{"principal":"bench-user","role":"writer","ns":"bench"}' \
    >/dev/null
TOKEN=$(api POST /v1/tokens '{"principal":"bench-user"}' | jfield token)
KEYJ=$(api POST /v1/s3-keys '{"principal":"bench-user"}')
AKID=$(echo "$KEYJ" | jfield access_key_id)
SECRET=$(echo "$KEYJ" | jfield secret_access_key)
[ -n "$TOKEN" ] && [ -n "$AKID" ] && [ -n "$SECRET" ] || die "credentials"
code=$($CURL -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -T "$T/src/small.bin" "$URL/v1/ns/bench/objects/small.bin")
[ "$code" = 201 ] || die "PUT small.bin: HTTP $code"

# awscli and boto3 read these; the profile has no other settings.  The
# commands against radosgw override the key (rgw_env).
export AWS_ACCESS_KEY_ID="$AKID" AWS_SECRET_ACCESS_KEY="$SECRET" \
    AWS_DEFAULT_REGION=us-east-1 AWS_CA_BUNDLE="$T/tls/cert.pem" \
    AWS_CONFIG_FILE="$T/aws/config" AWS_SHARED_CREDENTIALS_FILE="$T/aws/none"
if [ "$MULTIPART" = 1 ]; then THRESH=8MB; else THRESH=$((MIB + 1))MB; fi
cat >"$T/aws/config" <<EOF
[default]
s3 =
    multipart_threshold = $THRESH
    multipart_chunksize = 8MB
    max_concurrent_requests = 10
EOF

# ---- radosgw: same certificate, bucket, small object ----

if [ "$RGW" = 1 ]; then
	RGW_AKID=$(openssl rand -hex 10 | tr a-f A-F)
	RGW_SECRET=$(openssl rand -hex 20)
	note "starting radosgw (one mon, one memstore OSD)"
	rgw_t0=$(now)
	rgw_start "$T/ceph" "$(free_port 7)" "$T/tls/cert.pem" \
	    "$T/tls/key.pem" "$RGW_AKID" "$RGW_SECRET" \
	    $((4 * BYTES + 1073741824))
	note "radosgw answers at $RGW_URL after $(awk -v a="$rgw_t0" \
	    -v z="$(now)" 'BEGIN { printf "%.1f", z - a }') s"
	# in a subshell: an assignment before a function call may outlive it
	rgw_env() ( export AWS_ACCESS_KEY_ID="$RGW_AKID" \
	    AWS_SECRET_ACCESS_KEY="$RGW_SECRET"; "$@" )
	rgw_env "$AWS" --endpoint-url "$RGW_URL" s3 mb s3://bench >/dev/null ||
	    die "radosgw: mb"
	rgw_env "$AWS" --endpoint-url "$RGW_URL" s3 cp --only-show-errors \
	    "$T/src/small.bin" s3://bench/small.bin || die "radosgw: small.bin"
fi

# ---- small GETs ----

printf 'Authorization: Bearer %s\n' "$TOKEN" >"$T/h.rest"
$PY "$ROOT/bench/s3/sign.py" "$URL" us-east-1 "$AKID" "$SECRET" bench \
    small.bin header >"$T/h.sigv4"
PRESIGNED=$($PY "$ROOT/bench/s3/sign.py" "$URL" us-east-1 "$AKID" "$SECRET" \
    bench small.bin presign)
: >"$T/h.none"
# Each form answers 200 with the object before it is measured.
check_get() {	# HEADERS URL
	c=$($CURL -o "$T/out/check" -w '%{http_code}' -H @"$1" "$2") || true
	[ "$c" = 200 ] && cmp -s "$T/out/check" "$T/src/small.bin" ||
	    die "GET $2 with $1: HTTP $c"
}
check_get "$T/h.rest" "$URL/v1/ns/bench/objects/small.bin"
check_get "$T/h.sigv4" "$URL/bench/small.bin"
check_get "$T/h.none" "$PRESIGNED"
GETS="rest sigv4 presign"
if [ "$RGW" = 1 ]; then
	$PY "$ROOT/bench/s3/sign.py" "$RGW_URL" us-east-1 "$RGW_AKID" \
	    "$RGW_SECRET" bench small.bin header >"$T/h.rgw"
	RGW_PRESIGNED=$($PY "$ROOT/bench/s3/sign.py" "$RGW_URL" us-east-1 \
	    "$RGW_AKID" "$RGW_SECRET" bench small.bin presign)
	check_get "$T/h.rgw" "$RGW_URL/bench/small.bin"
	check_get "$T/h.none" "$RGW_PRESIGNED"
	GETS="$GETS rgw_sigv4 rgw_presign"
fi

wrk_run() {	# NAME HEADERS URL
	w=$(BENCH_HEADERS="$2" wrk -t "$WRK_THREADS" -c "$WRK_CONNS" \
	    -d "${WRK_SECS}s" --latency -s "$ROOT/bench/s3/headers.lua" "$3" |
	    grep '^BENCH ') || die "wrk $1 failed"
	echo "$w" >>"$SAMPLES/$1.raw"
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

# ---- large transfers ----

xfer() {	# NAME CMD...: MB/s appended to samples/NAME.mbs
	x_name=$1; shift
	x_t0=$(now)
	"$@" >/dev/null 2>"$T/xfer.err" || { cat "$T/xfer.err" >&2; die "$x_name failed"; }
	x_t1=$(now)
	awk -v b="$BYTES" -v a="$x_t0" -v z="$x_t1" \
	    'BEGIN { printf "%.1f\n", b / 1048576 / (z - a) }' >>"$SAMPLES/$x_name.mbs"
}
rest_up() { $CURL -f -H "Authorization: Bearer $TOKEN" -T "$T/src/big.bin" \
    "$URL/v1/ns/bench/objects/big.bin"; }
rest_down() { $CURL -f -H "Authorization: Bearer $TOKEN" -o "$T/out/big.rest" \
    "$URL/v1/ns/bench/objects/big.bin"; }
aws_up() { "$AWS" --endpoint-url "${1:-$URL}" s3 cp --only-show-errors \
    "$T/src/big.bin" s3://bench/big.bin; }
aws_down() { "$AWS" --endpoint-url "${1:-$URL}" s3 cp --only-show-errors \
    s3://bench/big.bin "$T/out/big.${2:-aws}"; }
boto() {	# up|down [URL [OUT_SUFFIX]]
	$PY - "$1" "${2:-$URL}" "$T/src/big.bin" "$T/out/big.${3:-boto}" \
	    "$MULTIPART" "$BYTES" <<'EOF'
import sys
import boto3
from boto3.s3.transfer import TransferConfig
mode, url, src, dst, multipart, size = sys.argv[1:7]
thresh = 8 * 1024 * 1024 if multipart == "1" else int(size) + 1
cfg = TransferConfig(multipart_threshold=thresh,
                     multipart_chunksize=8 * 1024 * 1024, max_concurrency=10)
s3 = boto3.client("s3", endpoint_url=url)
if mode == "up":
    s3.upload_file(src, "bench", "big.bin", Config=cfg)
else:
    s3.download_file("bench", "big.bin", dst, Config=cfg)
EOF
}
boto_up() { boto up; }
boto_down() { boto down; }
rgw_aws_up() { rgw_env aws_up "$RGW_URL"; }
rgw_aws_down() { rgw_env aws_down "$RGW_URL" rgw_aws; }
rgw_boto_up() { rgw_env boto up "$RGW_URL"; }
rgw_boto_down() { rgw_env boto down "$RGW_URL" rgw_boto; }

XFERS="rest $CLIENTS"
if [ "$RGW" = 1 ]; then
	for c in $CLIENTS; do XFERS="$XFERS rgw_$c"; done
fi
note "$MIB MiB, $RUNS runs, wrk ${WRK_SECS}s x $WRK_CONNS connections, radosgw: $([ "$RGW" = 1 ] && echo yes || echo no)"
reverse() { r_out=; for r_w in "$@"; do r_out="$r_w $r_out"; done; echo $r_out; }
r=1
while [ "$r" -le "$RUNS" ]; do
	note "run $r/$RUNS"
	# shellcheck disable=SC2086
	if [ $((r % 2)) = 1 ]; then order=$GETS; else order=$(reverse $GETS); fi
	for f in $order; do
		case $f in
		rest) wrk_run get-rest "$T/h.rest" \
		    "$URL/v1/ns/bench/objects/small.bin" ;;
		sigv4) wrk_run get-sigv4 "$T/h.sigv4" "$URL/bench/small.bin" ;;
		presign) wrk_run get-presign "$T/h.none" "$PRESIGNED" ;;
		rgw_sigv4) wrk_run get-rgw_sigv4 "$T/h.rgw" \
		    "$RGW_URL/bench/small.bin" ;;
		rgw_presign) wrk_run get-rgw_presign "$T/h.none" \
		    "$RGW_PRESIGNED" ;;
		esac
	done
	# shellcheck disable=SC2086
	if [ $((r % 2)) = 1 ]; then order=$XFERS; else order=$(reverse $XFERS); fi
	for f in $order; do
		xfer "up-$f" "${f}_up"
		xfer "down-$f" "${f}_down"
	done
	for f in $XFERS; do
		cmp -s "$T/src/big.bin" "$T/out/big.$f" ||
		    die "the $f download differs from the upload"
	done
	[ "$RGW" = 1 ] && note "radosgw+OSD RSS MiB: $(rgw_rss)"
	r=$((r + 1))
done

# ---- report ----

errs() { awk '{ s += $1 } END { print s + 0 }' "$SAMPLES/$1"; }
{
	echo "bench/s3 $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $RUNS runs, $MIB MiB, wrk -c$WRK_CONNS ${WRK_SECS}s, multipart uploads: $([ "$MULTIPART" = 1 ] && echo 'yes (8 MiB parts, 10 at a time)' || echo 'no (one PutObject)'), radosgw: $([ "$RGW" = 1 ] && echo "$(radosgw --version | awk '{ print $3 }') over TLS, memstore" || echo 'not measured'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	if [ "$RGW" = 1 ]; then
		echo "| 1 KiB GET | Coffer req/s median (runs' range) | p50 µs | p99 µs | errors | Coffer / REST | radosgw req/s median (runs' range) | p50 µs | p99 µs | errors | Coffer / radosgw |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	else
		echo "| 1 KiB GET | req/s median (runs' range) | p50 µs | p99 µs | errors | ratio to REST |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	fi
	base=$(med get-rest.rps)
	for f in rest sigv4 presign; do
		row="| $f | $(med get-$f.rps) ($(spread get-$f.rps)) | $(med get-$f.p50) | $(med get-$f.p99) | $(errs get-$f.err) | $(fdiv "$(med get-$f.rps)" "$base") |"
		if [ "$RGW" = 1 ] && [ "$f" = rest ]; then
			row="$row - | - | - | - | - |"
		elif [ "$RGW" = 1 ]; then
			g=rgw_$f
			row="$row $(med get-$g.rps) ($(spread get-$g.rps)) | $(med get-$g.p50) | $(med get-$g.p99) | $(errs get-$g.err) | $(fdiv "$(med get-$f.rps)" "$(med get-$g.rps)") |"
		fi
		echo "$row"
	done
	echo
	if [ "$RGW" = 1 ]; then
		echo "| ${MIB} MiB | Coffer MB/s median (runs' range) | Coffer / REST (curl) | radosgw MB/s median (runs' range) | Coffer / radosgw |"
		echo "| --- | ---: | ---: | ---: | ---: |"
	else
		echo "| ${MIB} MiB | MB/s median (runs' range) | ratio to REST (curl) |"
		echo "| --- | ---: | ---: |"
	fi
	for d in up down; do
		base=$(med $d-rest.mbs)
		for f in rest $CLIENTS; do
			row="| $d $f | $(med $d-$f.mbs) ($(spread $d-$f.mbs)) | $(fdiv "$(med $d-$f.mbs)" "$base") |"
			if [ "$RGW" = 1 ] && [ "$f" = rest ]; then
				row="$row - | - |"
			elif [ "$RGW" = 1 ]; then
				g=rgw_$f
				row="$row $(med $d-$g.mbs) ($(spread $d-$g.mbs)) | $(fdiv "$(med $d-$f.mbs)" "$(med $d-$g.mbs)") |"
			fi
			echo "$row"
		done
	done
} | tee "$OUT/results.md"

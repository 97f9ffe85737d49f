#!/bin/sh
# bench/s3/ceiling.sh BUILD_DIR [BUILD_DIR_B]: where the time of a large
# S3 transfer goes, and how fast the S3 clients can go at all on this
# machine (issue 13's 1 GiB target).  In one run, interleaved (the order
# alternating), BENCH_RUNS (3) times, one BENCH_MIB (1024) MiB file up
# and down with:
#   - curl on Coffer's REST API (-T / -o), the anchor of the target;
#   - Debian's awscli (`aws s3 cp`, /usr/bin/aws) and boto3
#     (upload_file/download_file, 8 MiB parts, 10 threads) on Coffer's
#     S3 endpoint, multipart ("mp") and, for boto3, also one PutObject
#     and one unranged GetObject ("single");
#   - the same S3 clients against an S3 "sink": nginx (Debian's, over the
#     same TLS certificate) that answers CreateMultipartUpload and
#     CompleteMultipartUpload with fixed XML, reads every PutObject and
#     UploadPart body into memory (the echo module's
#     echo_read_request_body) and answers 200 with an ETag, and serves
#     GET and HEAD (with Range) from a file: a server that does almost
#     nothing, so what the clients reach against it is their own ceiling.
# For every transfer: MB/s, the server's CPU seconds per GiB (utime +
# stime from /proc/PID/stat before and after; nginx: its workers) and the
# client's (utime + stime of the client and its children, from
# /usr/bin/time), so that the CPU figures hold on a loaded machine where
# MB/s do not.  With BUILD_DIR_B, a second Coffer (that build) gets the
# same Coffer rows, interleaved, for an A/B of a server change.
#
# Environment knobs: BENCH_RUNS [3]  BENCH_MIB [1024]  BENCH_SINK [1; 0
#   leaves nginx out]  BENCH_SINGLE [1; 0 leaves the single-request boto3
#   rows out]  BENCH_AWS [/usr/bin/aws]  BENCH_TMP  BENCH_KEEP [0]
#   BENCH_SET [extra `--set k=v` words for the Coffer servers]
# Output: a markdown table on stdout and in BUILD_DIR/bench/s3/ceiling.md,
# raw samples in BUILD_DIR/bench/s3/ceiling-samples/.  Disk: about
# 6 x BENCH_MIB in BENCH_TMP.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
[ $# -ge 1 ] && [ $# -le 2 ] ||
    { echo "usage: $0 BUILD_DIR [BUILD_DIR_B]" >&2; exit 2; }
abs() { case $1 in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
BA=$(abs "$1")
BB=
[ $# -eq 2 ] && BB=$(abs "$2")
RUNS=${BENCH_RUNS:-3}
MIB=${BENCH_MIB:-1024}
SINK=${BENCH_SINK:-1}
SINGLE=${BENCH_SINGLE:-1}
AWS=${BENCH_AWS:-/usr/bin/aws}
PY=/usr/bin/python3
OUT="$BA/bench/s3"
SAMPLES="$OUT/ceiling-samples"

die() { echo "bench/s3/ceiling: $*" >&2; exit 1; }
note() { echo "bench/s3/ceiling: $*" >&2; }

for b in $BA $BB; do
	[ -x "$b/coffer" ] || die "$b/coffer not built"
	grep -q '^CMAKE_BUILD_TYPE:STRING=Release' "$b/CMakeCache.txt" \
	    2>/dev/null || note "warning: $b is not a Release build"
done
for t in curl openssl awk /usr/bin/time "$AWS"; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing"
done
NGINX=
ECHO_MOD=/usr/lib/nginx/modules/ngx_http_echo_module.so
if [ "$SINK" = 1 ]; then
	NGINX=$(command -v nginx) && [ -f "$ECHO_MOD" ] ||
	    die "the sink needs nginx and its echo module (nginx-light, sh scripts/deps.sh), or BENCH_SINK=0"
fi

rm -rf "$SAMPLES"
mkdir -p "$SAMPLES"
T=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/coffer-bench-ceil.XXXXXX")
PIDS=
NGINX_PID=
cleanup() {
	set +e
	for p in $PIDS $NGINX_PID; do
		kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then note "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$ROOT/bench/lib.sh"

BYTES=$((MIB * 1024 * 1024))
mkdir -p "$T/src" "$T/out" "$T/aws" "$T/nginx/www/bench" "$T/nginx/tmp"
head -c "$BYTES" /dev/urandom >"$T/src/big.bin"
ln "$T/src/big.bin" "$T/nginx/www/bench/big.bin"
make_cert
CURL="curl -sS --http1.1 --cacert $T/tls/cert.pem"
jfield() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p"; }
HZ=$(getconf CLK_TCK)
# ticks PID...: utime + stime of those processes so far, in clock ticks
ticks() {
	for tp in "$@"; do sed 's/.*) //' "/proc/$tp/stat"; done |
	    awk '{ s += $12 + $13 } END { print s + 0 }'
}

# coffer NAME BUILD: a server with a writer "u", its token and S3 key
coffer() {
	# shellcheck disable=SC2086 # BENCH_SET is words
	start_coffer "$2/coffer" "$T/data-$1" ${BENCH_SET:-}
	url=$CF_URL pid=$CF_PID adm=$CF_ADMIN
	PIDS="$PIDS $pid"
	api() { $CURL -f -X POST -H "Authorization: Bearer $adm" \
	    -H 'Content-Type: application/json' --data-binary "$2" "$url$1"; }
	api /v1/ns '{"name":"bench"}' >/dev/null
	api /v1/principals '{"name":"u","kind":"user"}' >/dev/null
	api /v1/bindings '{"principal":"u","role":"writer","ns":"bench"}' \
	    >/dev/null
	tok=$(api /v1/tokens '{"principal":"u"}' | jfield token)
	kj=$(api /v1/s3-keys '{"principal":"u"}')
	eval "${1}_url=\$url ${1}_pids=\$pid ${1}_token=\$tok"
	eval "${1}_akid=$(echo "$kj" | jfield access_key_id)"
	eval "${1}_secret=$(echo "$kj" | jfield secret_access_key)"
}
SERVERS=a
coffer a "$BA"
if [ -n "$BB" ]; then coffer b "$BB"; SERVERS="a b"; fi

if [ "$SINK" = 1 ]; then
	NPORT=$(free_port 9)
	USER_LINE=
	[ "$(id -u)" = 0 ] && USER_LINE="user root;"
	CMU='<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bench</Bucket><Key>big.bin</Key><UploadId>sink</UploadId></InitiateMultipartUploadResult>'
	CMP='<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>x</Location><Bucket>bench</Bucket><Key>big.bin</Key><ETag>"00000000000000000000000000000000-1"</ETag></CompleteMultipartUploadResult>'
	cat >"$T/nginx/nginx.conf" <<EOF
# generated by bench/s3/ceiling.sh: an S3 sink
load_module $ECHO_MOD;
$USER_LINE
worker_processes 2;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 1024; }
http {
	default_type application/octet-stream;
	keepalive_requests 1000000;
	access_log $T/nginx/access.log;
	client_body_temp_path $T/nginx/tmp/body;
	proxy_temp_path $T/nginx/tmp/proxy;
	fastcgi_temp_path $T/nginx/tmp/fastcgi;
	uwsgi_temp_path $T/nginx/tmp/uwsgi;
	scgi_temp_path $T/nginx/tmp/scgi;
	map "\$request_method:\$args" \$s3op {
		~^POST:uploads		create;
		~^POST:.*uploadId=	complete;
		~^PUT:			put;
		default			static;
	}
	server {
		listen 127.0.0.1:$NPORT ssl;
		ssl_certificate $T/tls/cert.pem;
		ssl_certificate_key $T/tls/key.pem;
		ssl_protocols TLSv1.3;
		root $T/nginx/www;
		client_max_body_size 0;
		if (\$s3op != static) { rewrite ^ /_op/\$s3op last; }
		location / { }
		location = /_op/create {
			internal;
			default_type application/xml;
			return 200 '$CMU';
		}
		location = /_op/complete {
			internal;
			echo_read_request_body;
			default_type application/xml;
			echo '$CMP';
		}
		# the whole body is read into memory (a 1 GiB PutObject
		# included: client_body_buffer_size is its upper bound)
		location = /_op/put {
			internal;
			client_body_buffer_size 1100m;
			echo_read_request_body;
			add_header ETag '"00000000000000000000000000000000"';
			echo -n '';
		}
	}
}
EOF
	"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' \
	    >"$T/nginx/stdout.log" 2>&1 &
	NGINX_PID=$!
	sink_url=https://127.0.0.1:$NPORT
	wait_https "$sink_url/bench/big.bin" || {
		cat "$T/nginx/stdout.log" "$T/nginx/error.log" >&2
		die "nginx did not start"
	}
	sink_pids=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
	sink_akid=AKIDSINK sink_secret=sink
fi

export AWS_DEFAULT_REGION=us-east-1 AWS_CA_BUNDLE="$T/tls/cert.pem" \
    AWS_CONFIG_FILE="$T/aws/config" AWS_SHARED_CREDENTIALS_FILE="$T/aws/none"
cat >"$T/aws/config" <<EOF
[default]
s3 =
    multipart_threshold = 8MB
    multipart_chunksize = 8MB
    max_concurrent_requests = 10
EOF

# measure SERVER CLIENT DIR SAMPLE CMD...: runs CMD under /usr/bin/time
# and appends MB/s, server and client CPU s per GiB to the samples
measure() {
	m_srv=$1 m_name=$2.$1
	shift 2
	eval "m_pids=\$${m_srv}_pids"
	# shellcheck disable=SC2086
	m_c0=$(ticks $m_pids)
	m_t0=$(now)
	/usr/bin/time -f '%U %S' -o "$T/time" "$@" >/dev/null 2>"$T/err" ||
	    { cat "$T/err" >&2; die "$m_name failed"; }
	m_t1=$(now)
	# shellcheck disable=SC2086
	m_c1=$(ticks $m_pids)
	awk -v b="$BYTES" -v a="$m_t0" -v z="$m_t1" \
	    'BEGIN { printf "%.1f\n", b / (z - a) / 1e6 }' \
	    >>"$SAMPLES/$m_name.mbs"
	awk -v a="$m_c0" -v z="$m_c1" -v hz="$HZ" -v b="$BYTES" \
	    'BEGIN { printf "%.2f\n", (z - a) / hz * 1073741824 / b }' \
	    >>"$SAMPLES/$m_name.srv"
	tail -n 1 "$T/time" | awk -v b="$BYTES" \
	    '{ printf "%.2f\n", ($1 + $2) * 1073741824 / b }' \
	    >>"$SAMPLES/$m_name.cli"
}
cred() {	# SERVER: exports its S3 key
	eval "AWS_ACCESS_KEY_ID=\$${1}_akid AWS_SECRET_ACCESS_KEY=\$${1}_secret"
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
}
BOTO='
import sys
import boto3
from boto3.s3.transfer import TransferConfig
mode, url, path, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
single = mode.endswith("1")
thresh = size + 1 if single else 8 << 20
cfg = TransferConfig(multipart_threshold=thresh,
                     multipart_chunksize=8 << 20, max_concurrency=10)
s3 = boto3.client("s3", endpoint_url=url)
if mode.startswith("up"):
    s3.upload_file(path, "bench", "big.bin", Config=cfg)
else:
    s3.download_file("bench", "big.bin", path, Config=cfg)
'
one() {	# SERVER KIND
	eval "o_url=\$${1}_url"
	case $2 in
	up-rest) eval "o_tok=\$${1}_token"
		measure "$1" "$2" $CURL -f -H "Authorization: Bearer $o_tok" \
		    -T "$T/src/big.bin" "$o_url/v1/ns/bench/objects/big.bin" ;;
	down-rest) eval "o_tok=\$${1}_token"
		measure "$1" "$2" $CURL -f -H "Authorization: Bearer $o_tok" \
		    -o "$T/out/big" "$o_url/v1/ns/bench/objects/big.bin" ;;
	up-aws) cred "$1"; measure "$1" "$2" "$AWS" --endpoint-url "$o_url" \
		    s3 cp --only-show-errors "$T/src/big.bin" s3://bench/big.bin ;;
	down-aws) cred "$1"; measure "$1" "$2" "$AWS" --endpoint-url \
		    "$o_url" s3 cp --only-show-errors s3://bench/big.bin \
		    "$T/out/big" ;;
	up-boto) cred "$1"; measure "$1" "$2" $PY -c "$BOTO" up "$o_url" \
		    "$T/src/big.bin" "$BYTES" ;;
	down-boto) cred "$1"; measure "$1" "$2" $PY -c "$BOTO" down \
		    "$o_url" "$T/out/big" "$BYTES" ;;
	up-boto1) cred "$1"; measure "$1" "$2" $PY -c "$BOTO" up1 "$o_url" \
		    "$T/src/big.bin" "$BYTES" ;;
	down-boto1) cred "$1"; measure "$1" "$2" $PY -c "$BOTO" down1 \
		    "$o_url" "$T/out/big" "$BYTES" ;;
	esac
	case $1:$2 in
	sink:*) ;;
	*:down-*) cmp -s "$T/src/big.bin" "$T/out/big" ||
		die "$1 $2: the download differs" ;;
	esac
	rm -f "$T/out/big"
}

KINDS="rest aws boto"
[ "$SINGLE" = 1 ] && KINDS="$KINDS boto1"
ALL=
for s in $SERVERS; do for k in $KINDS; do ALL="$ALL $s:$k"; done; done
if [ "$SINK" = 1 ]; then
	for k in aws boto; do ALL="$ALL sink:$k"; done
	[ "$SINGLE" = 1 ] && ALL="$ALL sink:boto1"
fi
reverse() { r_out=; for r_w in "$@"; do r_out="$r_w $r_out"; done; echo $r_out; }
load0=$(cut -d' ' -f1-3 /proc/loadavg)
note "$MIB MiB, $RUNS runs: $ALL"
r=1
while [ "$r" -le "$RUNS" ]; do
	note "run $r/$RUNS, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	# shellcheck disable=SC2086
	if [ $((r % 2)) = 1 ]; then order=$ALL; else order=$(reverse $ALL); fi
	for x in $order; do
		s=${x%%:*} k=${x#*:}
		one "$s" "up-$k"
		one "$s" "down-$k"
	done
	r=$((r + 1))
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

row() {	# SERVER DIR KIND BASE_MBS
	f=$2-$3.$1
	[ -f "$SAMPLES/$f.mbs" ] || return 0
	echo "| $1 | $2 $3 | $(med "$f.mbs") ($(spread "$f.mbs")) | $(fdiv "$(med "$f.mbs")" "$4") | $(med "$f.srv") ($(spread "$f.srv")) | $(med "$f.cli") ($(spread "$f.cli")) |"
}
{
	echo "bench/s3/ceiling $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), A=$BA${BB:+, B=$BB}, $RUNS runs, $MIB MiB, load average $load0 before, $load1 after"
	echo
	echo "| server | transfer | MB/s median (range) | / REST curl (A for the sink) | server CPU s/GiB | client CPU s/GiB |"
	echo "| --- | --- | ---: | ---: | ---: | ---: |"
	for s in $SERVERS; do
		for d in up down; do
			base=$(med "$d-rest.$s.mbs")
			for k in $KINDS; do row "$s" "$d" "$k" "$base"; done
		done
	done
	if [ "$SINK" = 1 ]; then
		for d in up down; do
			base=$(med "$d-rest.a.mbs")
			for k in aws boto boto1; do row sink "$d" "$k" "$base"; done
		done
	fi
} | tee "$OUT/ceiling.md"

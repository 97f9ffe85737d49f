#!/bin/sh
# bench/https/run.sh [BUILD_DIR]: the foundation HTTPS benchmark.
#
# In one run, on loopback, against Coffer (BUILD_DIR/coffer server) and
# against Debian's nginx serving the same files with the same certificate
# and the same TLS 1.3 cipher suite (TLS_AES_256_GCM_SHA384):
#   - 1 GiB download: curl -o /dev/null (both) and `coffer get` (Coffer);
#   - 1 GiB upload:   curl -T (both; nginx stores it with dav PUT) and
#                     `coffer put` (Coffer);
#   - server RSS, polled every 100 ms, during each 1 GiB transfer;
#   - 1 KiB authenticated GETs/s with wrk (64 connections, keep-alive);
#   - the crypto ceiling: `openssl speed -evp aes-256-gcm` and sha256.
# Every measurement is repeated BENCH_RUNS times (nginx and Coffer
# interleaved, alternating which goes first) and reported as a median; the
# table gives ratios Coffer/nginx and checks the targets of bench/README.md.
#
# Environment knobs (defaults in brackets):
#   BENCH_RUNS [3]  BENCH_MIB [1024]  BENCH_WRK_SECS [10]  BENCH_WRK_CONNS [64]
#   BENCH_WRK_THREADS [2]  BENCH_NGINX_WORKERS [auto]  BENCH_TMP [$TMPDIR|/tmp]
#   BENCH_COFFER_SET ["" : extra NAME=VALUE server options, space separated]
#   BENCH_KEEP [0 : 1 keeps the temp dir]  BENCH_PERF [0 : 1 records
#   `perf record -g` of the server during one download and one upload]
#
# Output: a markdown table on stdout and in BUILD_DIR/bench/https/results.md,
# raw samples in BUILD_DIR/bench/https/samples/.
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
NGINX_WORKERS=${BENCH_NGINX_WORKERS:-auto}
SUITE=TLS_AES_256_GCM_SHA384
OUT="$B/bench/https"
SAMPLES="$OUT/samples"

die() { echo "bench/https: $*" >&2; exit 1; }
note() { echo "bench/https: $*" >&2; }

[ -x "$COFFER" ] || die "$COFFER not built (cmake --build $B --target coffer)"
for t in nginx wrk curl openssl awk; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing (sh scripts/deps.sh)"
done
NGINX=$(command -v nginx)
if grep -q '^CMAKE_BUILD_TYPE:STRING=Release' "$B/CMakeCache.txt" 2>/dev/null
then BTYPE=Release
else
	BTYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$B/CMakeCache.txt" \
	    2>/dev/null || true)
	note "warning: $B is not a Release build (${BTYPE:-no type})"
fi

# wrk holds WRK_CONNS connections, each a descriptor on both sides; nginx
# and Coffer need room for them too (wrk -c1000 is one of issue 15's
# targets; the default soft limit is often 1024).
NOFILE=$((2 * WRK_CONNS + 1024))
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$NOFILE" ] ||
    ulimit -n "$NOFILE" 2>/dev/null ||
    die "ulimit -n $NOFILE refused (hard limit $(ulimit -H -n))"

rm -rf "$SAMPLES"
mkdir -p "$SAMPLES"
T=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/coffer-bench.XXXXXX")
NGINX_PID=
COFFER_PID=
WATCH_PID=
cleanup() {
	set +e
	[ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null
	if [ -n "$COFFER_PID" ]; then
		kill "$COFFER_PID" 2>/dev/null
		wait "$COFFER_PID" 2>/dev/null
	fi
	if [ -n "$NGINX_PID" ]; then
		kill "$NGINX_PID" 2>/dev/null	# SIGTERM: fast shutdown
		wait "$NGINX_PID" 2>/dev/null
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		note "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers ----

# median, med, spread, now, fdiv, free_port, wait_https, admin_token
. "$ROOT/bench/lib.sh"

# rss_watch OUTFILE PID...: peak of the summed VmRSS (KiB) of PIDs, polled
# every 100 ms until OUTFILE.stop appears (bounded: 10 minutes).
rss_watch() {
	rw_out=$1; shift
	rw_max=0; rw_n=0
	while [ ! -e "$rw_out.stop" ] && [ $rw_n -lt 6000 ]; do
		rw_r=$(for rw_p in "$@"; do cat "/proc/$rw_p/status"; done \
		    2>/dev/null | awk '/^VmRSS:/ { s += $2 } END { print s + 0 }')
		[ "$rw_r" -gt "$rw_max" ] && rw_max=$rw_r
		sleep 0.1; rw_n=$((rw_n + 1))
	done
	echo "$rw_max" >"$rw_out"
}
# watch_start NAME PID...: start polling; watch_stop NAME SAMPLEFILE appends
# the peak in MiB to SAMPLEFILE.
watch_start() {
	ws_name=$1; shift
	rm -f "$T/rss.$ws_name" "$T/rss.$ws_name.stop"
	rss_watch "$T/rss.$ws_name" "$@" &
	WATCH_PID=$!
}
watch_stop() {
	: >"$T/rss.$1.stop"
	wait "$WATCH_PID" || true
	WATCH_PID=
	awk '{ printf "%.1f\n", $1 / 1024 }' "$T/rss.$1" >>"$SAMPLES/$2"
}

CURL="curl -sS --http1.1 --cacert $T/tls/cert.pem"

# ---- test files, certificate, servers ----

note "temp dir $T; ${MIB} MiB file, $RUNS runs"
mkdir -p "$T/tls" "$T/src" "$T/nginx/www/files" "$T/nginx/www/upload" \
    "$T/nginx/tmp" "$T/out"
BYTES=$((MIB * 1024 * 1024))
head -c "$BYTES" /dev/urandom >"$T/src/big.bin"
head -c 1024 /dev/urandom >"$T/src/small.bin"
ln "$T/src/big.bin" "$T/nginx/www/files/big.bin"
cp "$T/src/small.bin" "$T/nginx/www/files/small.bin"

# One certificate for both servers: ECDSA P-256, like Coffer's own.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" 2>/dev/null
chmod 600 "$T/tls/key.pem"

NPORT=$(free_port 1)
CPORT=$(free_port 2)
[ "$CPORT" != "$NPORT" ] || CPORT=$((NPORT + 1))

USER_LINE=
[ "$(id -u)" = 0 ] && USER_LINE="user root;"
cat >"$T/nginx/nginx.conf" <<EOF
# generated by bench/https/run.sh
$USER_LINE
worker_processes $NGINX_WORKERS;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections $((WRK_CONNS + 1024)); }
http {
	default_type application/octet-stream;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	access_log $T/nginx/access.log;
	client_body_temp_path $T/nginx/tmp/body;
	proxy_temp_path $T/nginx/tmp/proxy;
	fastcgi_temp_path $T/nginx/tmp/fastcgi;
	uwsgi_temp_path $T/nginx/tmp/uwsgi;
	scgi_temp_path $T/nginx/tmp/scgi;
	server {
		listen 127.0.0.1:$NPORT ssl;
		ssl_certificate $T/tls/cert.pem;
		ssl_certificate_key $T/tls/key.pem;
		ssl_protocols TLSv1.3;
		ssl_conf_command Ciphersuites $SUITE;
		root $T/nginx/www;
		location /files/ { }
		location /upload/ {
			dav_methods PUT;
			create_full_put_path on;
			client_max_body_size 0;
			client_body_buffer_size 1m;
		}
	}
}
EOF
"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' \
    >"$T/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
NURL="https://127.0.0.1:$NPORT"
wait_https "$NURL/files/small.bin" || {
	cat "$T/nginx/stdout.log" "$T/nginx/error.log" >&2 2>/dev/null
	die "nginx did not start"
}
NGINX_WORKER_PIDS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')

# Coffer: default configuration except the shared certificate, and the
# per-address connection limit (64 by default): every load generator
# here connects from 127.0.0.1, so it gets all of max_connections.  With
# more than 120 wrk connections, max_connections and the per-principal
# download limit (128) grow with them: wrk's connections are one reader
# token, one principal, where a real crowd would be many.
set -- --data "$T/coffer" --listen "127.0.0.1:$CPORT" \
    --set "tls_cert=$T/tls/cert.pem" --set "tls_key=$T/tls/key.pem" \
    --set "max_connections_per_ip=65536" \
    --set "max_connections=$((WRK_CONNS > 900 ? WRK_CONNS + 124 : 1024))" \
    --set "max_downloads_per_principal=$((WRK_CONNS > 120 ? WRK_CONNS + 8 : 128))"
for kv in ${BENCH_COFFER_SET:-}; do set -- "$@" --set "$kv"; done
# The master key goes to $XDG_CONFIG_HOME/coffer/keys: keep it in $T.
XDG_CONFIG_HOME="$T/xdg" "$COFFER" server "$@" >"$T/coffer.log" 2>&1 &
COFFER_PID=$!
CURL_C="https://127.0.0.1:$CPORT"
wait_https "$CURL_C/v1/health" || {
	tail -n 30 "$T/coffer.log" >&2
	die "coffer server did not start"
}
ADMIN=$(admin_token "$CURL_C" "$T/coffer") && [ -n "$ADMIN" ] ||
    die "no admin token"
AUTH="Authorization: Bearer $ADMIN"

# api METHOD PATH [JSON]: call the API as admin; fails on a non-2xx answer.
api() {
	if [ $# -ge 3 ]; then
		$CURL -f -X "$1" -H "$AUTH" -H 'Content-Type: application/json' \
		    --data-binary "$3" "$CURL_C$2"
	else
		$CURL -f -X "$1" -H "$AUTH" "$CURL_C$2"
	fi
}
api POST /v1/ns '{"name":"bench"}' >/dev/null
code=$($CURL -o /dev/null -w '%{http_code}' -H "$AUTH" -T "$T/src/big.bin" \
    "$CURL_C/v1/ns/bench/objects/big.bin")
[ "$code" = 201 ] || die "setup PUT big.bin: HTTP $code"
code=$($CURL -o /dev/null -w '%{http_code}' -H "$AUTH" -T "$T/src/small.bin" \
    "$CURL_C/v1/ns/bench/objects/small.bin")
[ "$code" = 201 ] || die "setup PUT small.bin: HTTP $code"
# The small GETs use a reader token: the ordinary, least-privilege path.
api POST /v1/principals '{"name":"bench-reader","kind":"user"}' >/dev/null
api POST /v1/bindings \
    '{"principal":"bench-reader","role":"reader","ns":"bench"}' >/dev/null
READER=$(api POST /v1/tokens '{"principal":"bench-reader"}' |
    sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
[ -n "$READER" ] || die "could not create the reader token"

# The CLI reads its server, token and CA from the environment.
export COFFER_SERVER="$CURL_C" COFFER_TOKEN="$ADMIN" \
    COFFER_CA_CERT="$T/tls/cert.pem" COFFER_CONFIG="$T/cli-config.json"

# ---- negotiated protocol and cipher ----
cipher_of() {	# URL -> "TLSv1.3 / TLS_AES_256_GCM_SHA384"
	curl -sv --http1.1 --cacert "$T/tls/cert.pem" -o /dev/null "$1" 2>&1 |
	    sed -n 's/.*SSL connection using \(.*\)$/\1/p' | head -n 1
}
s_client_of() {	# PORT -> "TLSv1.3 TLS_AES_256_GCM_SHA384" via openssl s_client
	openssl s_client -connect "127.0.0.1:$1" -CAfile "$T/tls/cert.pem" \
	    </dev/null 2>/dev/null | sed -n 's/^New, \(.*\), Cipher is \(.*\)$/\1 \2/p'
}
CIPHER_N="$(cipher_of "$NURL/files/small.bin") (curl); $(s_client_of "$NPORT") (s_client)"
CIPHER_C="$(cipher_of "$CURL_C/v1/health") (curl); $(s_client_of "$CPORT") (s_client)"
note "nginx:  $CIPHER_N"
note "coffer: $CIPHER_C"

# ---- measurements ----

# Both servers serve the 1 GiB file from the page cache: nginx's copy was
# just written through it, Coffer's blob went to disk with O_DIRECT, so
# one unmeasured read of each comes first (otherwise the first Coffer
# download measured the disk).
$CURL -o /dev/null "$NURL/files/big.bin" || die "warm-up read from nginx"
$CURL -o /dev/null -H "$AUTH" "$CURL_C/v1/ns/bench/objects/big.bin" ||
    die "warm-up read from coffer"

# One 1 GiB transfer.  xfer NAME CMD...: runs CMD under an RSS watch of the
# right server and appends MB/s to samples/NAME.mbs, RSS to NAME.rss.
# CMD must print its byte count on stdout (curl -w) or nothing (CLI: the
# file size is used).
xfer() {
	x_name=$1; shift
	# shellcheck disable=SC2086 # one argument per worker pid
	case $x_name in
	nginx*) watch_start "$x_name" $NGINX_WORKER_PIDS ;;
	*) watch_start "$x_name" "$COFFER_PID" ;;
	esac
	x_t0=$(now)
	x_out=$("$@") || { watch_stop "$x_name" "$x_name.rss"; die "$x_name: $* failed"; }
	x_t1=$(now)
	watch_stop "$x_name" "$x_name.rss"
	x_bytes=$(echo "$x_out" | awk 'NF { b = $1 } END { print b + 0 }')
	[ "$x_bytes" -gt 0 ] || x_bytes=$BYTES
	[ "$x_bytes" -eq "$BYTES" ] ||
	    die "$x_name: moved $x_bytes bytes, expected $BYTES"
	awk -v b="$x_bytes" -v t0="$x_t0" -v t1="$x_t1" \
	    'BEGIN { printf "%.1f\n", b / (t1 - t0) / 1e6 }' >>"$SAMPLES/$x_name.mbs"
}
# curl transfers print "BYTES HTTP_CODE"; check the code.
dl_curl() {	# URL [header]
	if [ $# -ge 2 ]; then
		r=$($CURL -o /dev/null -w '%{size_download} %{http_code}' -H "$2" "$1")
	else
		r=$($CURL -o /dev/null -w '%{size_download} %{http_code}' "$1")
	fi
	case $r in *" 200") echo "${r% *}" ;; *) echo "dl $1: $r" >&2; return 1 ;; esac
}
ul_curl() {	# URL [header]
	if [ $# -ge 2 ]; then
		r=$($CURL -o /dev/null -w '%{size_upload} %{http_code}' -H "$2" -T "$T/src/big.bin" "$1")
	else
		r=$($CURL -o /dev/null -w '%{size_upload} %{http_code}' -T "$T/src/big.bin" "$1")
	fi
	case $r in *" 20"[014]) echo "${r% *}" ;; *) echo "ul $1: $r" >&2; return 1 ;; esac
}
dl_cli() { "$COFFER" get bench/big.bin - >/dev/null; }
ul_cli() { "$COFFER" put "$1/big.bin" "$T/src/big.bin" >/dev/null; }

dl_nginx() { xfer nginx_dl dl_curl "$NURL/files/big.bin"; }
dl_coffer_curl() { xfer coffer_dl_curl dl_curl "$CURL_C/v1/ns/bench/objects/big.bin" "$AUTH"; }
dl_coffer_cli() { xfer coffer_dl_cli dl_cli; }
ul_nginx() {
	xfer nginx_ul ul_curl "$NURL/upload/big-$1.bin"
	sz=$(stat -c %s "$T/nginx/www/upload/big-$1.bin")
	[ "$sz" -eq "$BYTES" ] || die "nginx stored $sz bytes, expected $BYTES"
	rm -f "$T/nginx/www/upload/big-$1.bin"
}
# Each Coffer upload goes to a fresh namespace that is deleted afterwards
# (with its blobs), so the disk does not fill up over the runs.
ul_coffer() {	# curl|cli RUN
	ns="up-$1-$2"
	api POST /v1/ns "{\"name\":\"$ns\"}" >/dev/null
	if [ "$1" = curl ]; then
		xfer coffer_ul_curl ul_curl "$CURL_C/v1/ns/$ns/objects/big.bin" "$AUTH"
	else
		xfer coffer_ul_cli ul_cli "$ns"
	fi
	sz=$($CURL -I -H "$AUTH" "$CURL_C/v1/ns/$ns/objects/big.bin" |
	    sed -n 's/^[Cc]ontent-[Ll]ength: *\([0-9]*\).*/\1/p')
	api DELETE "/v1/ns/$ns/objects/big.bin" >/dev/null
	api DELETE "/v1/ns/$ns" >/dev/null
	[ -z "$sz" ] || [ "$sz" -eq "$BYTES" ] ||
	    die "coffer stored $sz bytes, expected $BYTES"
}

audit_seq() {
	api GET '/v1/audit?tail=1' | sed -n 's/.*"seq" *: *\([0-9]*\).*/\1/p' |
	    head -n 1
}
# cpu_ticks PID...: user + system CPU ticks of those processes so far.
cpu_ticks() {
	for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done |
	    awk '{ s += $1 } END { print s + 0 }'
}
# wrk_run NAME URL PID...: appends req/s to NAME.rps, and the server's
# CPU time per request (its processes PID...) to NAME.cpu: on a shared,
# loaded machine the CPU a request costs moves less than req/s does.
wrk_run() {
	wn=$1 wu=$2
	shift 2
	c0=$(cpu_ticks "$@")
	BENCH_TOKEN=$READER wrk -t "$WRK_THREADS" -c "$WRK_CONNS" \
	    -d "${WRK_SECS}s" -s bench/https/auth.lua "$wu" >"$T/wrk.out" 2>&1 ||
	    { cat "$T/wrk.out" >&2; die "wrk failed"; }
	c1=$(cpu_ticks "$@")
	set -- "$wn" "$wu"
	cat "$T/wrk.out" >>"$SAMPLES/$1.wrk.log"
	line=$(grep '^BENCH ' "$T/wrk.out") || die "wrk: no summary"
	req=$(echo "$line" | sed 's/.*requests=\([0-9]*\).*/\1/')
	us=$(echo "$line" | sed 's/.*duration_us=\([0-9]*\).*/\1/')
	errs=$(echo "$line" | awk '{ s = 0; for (i = 2; i <= NF; i++)
	    if ($i ~ /^errors_/) { split($i, a, "="); s += a[2] } print s }')
	echo "$errs" >>"$SAMPLES/$1.errors"
	echo "$line" | sed 's/.*errors_status=\([0-9]*\).*/\1/' >>"$SAMPLES/$1.non2xx"
	echo "$req" >>"$SAMPLES/$1.requests"
	echo "$line" | sed 's/.*p99_us=\([0-9]*\).*/\1/' >>"$SAMPLES/$1.p99"
	awk -v r="$req" -v u="$us" 'BEGIN { printf "%.0f\n", r / (u / 1e6) }' \
	    >>"$SAMPLES/$1.rps"
	awk -v r="$req" -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%.1f\n", (r > 0) ? t * 1e6 / hz / r : 0 }' \
	    >>"$SAMPLES/$1.cpu"
}
wrk_nginx() {
	# shellcheck disable=SC2086
	wrk_run nginx_get "$NURL/files/small.bin" $NGINX_WORKER_PIDS
}
wrk_coffer() {
	a0=$(audit_seq)
	wrk_run coffer_get "$CURL_C/v1/ns/bench/objects/small.bin" "$COFFER_PID"
	sleep 1	# let the last in-flight requests finish and be audited
	a1=$(audit_seq)
	# audit records written per completed request (>= 1: every request
	# is audited; the extra ones are the cut-off in-flight requests and
	# the audit read itself)
	fdiv $((a1 - a0)) "$(tail -n 1 "$SAMPLES/coffer_get.requests")" %.4f \
	    >>"$SAMPLES/coffer_get.audit"
}

ossl_speed() {	# ALG -> GB/s on 16 KiB blocks, one core
	openssl speed -elapsed -seconds 2 -bytes 16384 -evp "$1" 2>/dev/null |
	    tail -n 1 | awk '{ v = $NF; sub(/k$/, "", v); printf "%.2f\n", v * 1000 / 1e9 }'
}

if [ "${BENCH_PERF:-0}" = 1 ] && command -v perf >/dev/null; then
	note "perf: recording the server during one download and one upload"
	perf record -F 999 -g -o "$OUT/perf-dl.data" -p "$COFFER_PID" \
	    >/dev/null 2>&1 &
	PERF_PID=$!
	sleep 0.5
	dl_curl "$CURL_C/v1/ns/bench/objects/big.bin" "$AUTH" >/dev/null
	kill -INT "$PERF_PID"; wait "$PERF_PID" || true
	api POST /v1/ns '{"name":"up-perf"}' >/dev/null
	perf record -F 999 -g -o "$OUT/perf-ul.data" -p "$COFFER_PID" \
	    >/dev/null 2>&1 &
	PERF_PID=$!
	sleep 0.5
	ul_curl "$CURL_C/v1/ns/up-perf/objects/big.bin" "$AUTH" >/dev/null
	kill -INT "$PERF_PID"; wait "$PERF_PID" || true
	api DELETE /v1/ns/up-perf/objects/big.bin >/dev/null
	api DELETE /v1/ns/up-perf >/dev/null
	note "perf data in $OUT/perf-dl.data and $OUT/perf-ul.data"
fi

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
r=1
while [ $r -le "$RUNS" ]; do
	note "run $r/$RUNS"
	if [ $((r % 2)) = 1 ]; then
		dl_nginx; dl_coffer_curl; dl_coffer_cli
		ul_nginx "$r"; ul_coffer curl "$r"; ul_coffer cli "$r"
		wrk_nginx; wrk_coffer
	else
		dl_coffer_cli; dl_coffer_curl; dl_nginx
		ul_coffer cli "$r"; ul_coffer curl "$r"; ul_nginx "$r"
		wrk_coffer; wrk_nginx
	fi
	ossl_speed aes-256-gcm >>"$SAMPLES/aes.gbs"
	ossl_speed sha256 >>"$SAMPLES/sha256.gbs"
	r=$((r + 1))
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
HWM_C=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$COFFER_PID/status")

# ---- table ----

# verdict VALUE OP LIMIT
verdict() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
	ok = (op == ">=") ? (v >= l) : (v < l); print ok ? "**met**" : "**MISSED**" }'; }
row() {	# label coffer_sample nginx_sample unit target_ratio
	c=$(med "$2"); n=$(med "$3"); q=$(fdiv "$c" "$n")
	if [ -n "$5" ]; then
		# Judged on the exact ratio, not on the two decimals shown
		# (0.296 shows as 0.30 but misses a 0.30 target).
		v="$(verdict "$(fdiv "$c" "$n" %.6f)" ">=" "$5") (target >= $5)"
	else
		v="(no target)"
	fi
	printf '| %s | %s %s (%s) | %s %s (%s) | %s | %s |\n' "$1" "$c" "$4" \
	    "$(spread "$2")" "$n" "$4" "$(spread "$3")" "$q" "$v"
}
rss_row() {	# label sample
	c=$(med "$2")
	printf '| %s | %s MiB (%s) | %s | %s (target < 64 MiB) |\n' "$1" "$c" \
	    "$(spread "$2")" "$3" "$(verdict "$c" "<" 64)"
}
AES=$(med aes.gbs); SHA=$(med sha256.gbs)
ERR_C=$(awk '{ s += $1 } END { print s + 0 }' "$SAMPLES/coffer_get.errors")
ERR_N=$(awk '{ s += $1 } END { print s + 0 }' "$SAMPLES/nginx_get.errors")
ST_C=$(awk '{ s += $1 } END { print s + 0 }' "$SAMPLES/coffer_get.non2xx")
ST_N=$(awk '{ s += $1 } END { print s + 0 }' "$SAMPLES/nginx_get.non2xx")
{
echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo);" \
    "$RUNS runs, medians (min-max); ${MIB} MiB transfers; wrk -t$WRK_THREADS -c$WRK_CONNS -d${WRK_SECS}s;" \
    "coffer ${BTYPE:-?} build, nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') workers=$NGINX_WORKERS;" \
    "load average $LOAD0 at the start, $LOAD1 at the end."
echo
echo "| measurement | Coffer | nginx | Coffer/nginx | verdict |"
echo "| --- | --- | --- | --- | --- |"
row "download, curl (MB/s)" coffer_dl_curl.mbs nginx_dl.mbs MB/s 0.70
row "download, coffer get (MB/s)" coffer_dl_cli.mbs nginx_dl.mbs MB/s 0.70
row "upload, curl -T (MB/s)" coffer_ul_curl.mbs nginx_ul.mbs MB/s 0.60
row "upload, coffer put (MB/s)" coffer_ul_cli.mbs nginx_ul.mbs MB/s 0.60
row "1 KiB GET, wrk (req/s)" coffer_get.rps nginx_get.rps req/s 0.30
row "1 KiB GET p99 latency (us)" coffer_get.p99 nginx_get.p99 us ""
row "1 KiB GET, server CPU per request (us)" coffer_get.cpu nginx_get.cpu us ""
echo
echo "| server RSS peak during a 1 GiB transfer | Coffer | nginx (workers) | verdict |"
echo "| --- | --- | --- | --- |"
rss_row "download (curl)" coffer_dl_curl.rss "$(med nginx_dl.rss) MiB"
rss_row "download (coffer get)" coffer_dl_cli.rss "$(med nginx_dl.rss) MiB"
rss_row "upload (curl -T)" coffer_ul_curl.rss "$(med nginx_ul.rss) MiB"
rss_row "upload (coffer put)" coffer_ul_cli.rss "$(med nginx_ul.rss) MiB"
echo
echo "Coffer VmHWM over the whole run (incl. wrk): $HWM_C MiB."
echo "Small GETs over all runs: non-2xx answers Coffer $ST_C, nginx $ST_N;" \
    "all wrk errors (incl. socket errors and >2 s timeouts) Coffer $ERR_C, nginx $ERR_N;" \
    "audit records per completed Coffer request: $(med coffer_get.audit) (>= 1: every request audited)."
echo "Crypto ceiling (one core, 16 KiB blocks, openssl speed -evp): AES-256-GCM $AES GB/s, SHA-256 $SHA GB/s."
echo "Negotiated: nginx $CIPHER_N; Coffer $CIPHER_C."
} | tee "$OUT/results.md"

#!/bin/sh
# bench/https/handshake.sh BUILD_A [BUILD_B] [PAIRS]: what a TLS handshake
# costs the server.
#
# For each build (alternating A and B, PAIRS times, default 3) and for
# Debian's nginx with the same certificate (the anchor): a server on a
# fresh data directory, then `openssl s_time -new` (a new full TLS 1.3
# handshake per connection, one connection at a time, no request) for
# BENCH_SECS seconds (default 5).  Reported: handshakes per second and
# the server's CPU per handshake (utime + stime from /proc before and
# after; nginx: its workers).  Then, for each build, the server's CPU
# while BENCH_STALLED clients (default 4) hold a handshake half done
# (a ClientHello sent, the answer never read) for BENCH_SECS seconds:
# a server that waits for them uses ~0.
#
# Output: a markdown table on stdout.  Medians (min-max) over the runs.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
die() { echo "bench/https/handshake: $*" >&2; exit 1; }
A=${1:?usage: handshake.sh BUILD_A [BUILD_B] [PAIRS]}
B=${2:-}
PAIRS=${3:-3}
SECS=${BENCH_SECS:-5}
STALLED=${BENCH_STALLED:-4}
case $A in /*) ;; *) A="$ROOT/$A" ;; esac
[ -z "$B" ] || case $B in /*) ;; *) B="$ROOT/$B" ;; esac
for t in openssl nginx python3; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing"
done
T=$(mktemp -d "${TMPDIR:-/tmp}/coffer-hs.XXXXXX")
SAMPLES="$T/samples"
mkdir -p "$SAMPLES"
NGX_PID=
CF_PID=
cleanup() {
	set +e
	[ -n "$CF_PID" ] && kill "$CF_PID" 2>/dev/null && wait "$CF_PID"
	[ -n "$NGX_PID" ] && kill "$NGX_PID" 2>/dev/null && wait "$NGX_PID"
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$ROOT/bench/lib.sh"
make_cert

cpu_ticks() {	# PID...: utime + stime of the processes, in clock ticks
	for p in "$@"; do cat "/proc/$p/stat"; done |
	    awk '{ sub(/.*\) /, ""); t += $12 + $13 } END { print t }'
}

# s_time PORT NAME PID...: one run; appends to NAME.rate and NAME.cpu
s_time() {
	st_port=$1 st_name=$2
	shift 2
	st_c0=$(cpu_ticks "$@")
	st_out=$(openssl s_time -connect "127.0.0.1:$st_port" -new \
	    -time "$SECS" 2>&1) || die "s_time failed: $st_out"
	st_c1=$(cpu_ticks "$@")
	st_n=$(echo "$st_out" | sed -n \
	    's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p')
	[ -n "$st_n" ] && [ "$st_n" -gt 0 ] || die "s_time: $st_out"
	fdiv "$st_n" "$SECS" %.0f >>"$SAMPLES/$st_name.rate"
	awk -v c=$((st_c1 - st_c0)) -v n="$st_n" \
	    -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%.3f\n", c / hz / n * 1000 }' \
	    >>"$SAMPLES/$st_name.cpu"
}

# stalled PORT NAME PID: server CPU (ms) while STALLED handshakes hang
stalled() {
	sd_c0=$(cpu_ticks "$3")
	/usr/bin/python3 - "$1" "$STALLED" "$SECS" <<'EOF'
import socket, ssl, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
held = []
for _ in range(n):
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    try:
        ctx.wrap_bio(inc, out).do_handshake()
    except ssl.SSLWantReadError:
        pass
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(out.read())
    held.append(s)
time.sleep(secs)
EOF
	sd_c1=$(cpu_ticks "$3")
	awk -v c=$((sd_c1 - sd_c0)) -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%.0f\n", c / hz * 1000 }' >>"$SAMPLES/$2.stall"
}

# nginx: the same certificate, TLS 1.2 and 1.3, two workers
NPORT=$(free_port 11)
mkdir -p "$T/nginx"
cat >"$T/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/nginx/b; proxy_temp_path $T/nginx/p;
	fastcgi_temp_path $T/nginx/f; uwsgi_temp_path $T/nginx/u;
	scgi_temp_path $T/nginx/s;
	server {
		listen 127.0.0.1:$NPORT ssl;
		ssl_certificate $T/tls/cert.pem;
		ssl_certificate_key $T/tls/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		root $T/nginx;
	}
}
EOF
nginx -c "$T/nginx/nginx.conf" -p "$T/nginx" 2>"$T/nginx/stderr" &
NGX_PID=$!
wait_https "https://127.0.0.1:$NPORT/" || die "nginx did not start"
NGX_WORKERS=$(pgrep -P "$NGX_PID" | tr '\n' ' ')

# one_build NAME BUILD: a fresh server, one s_time run and one stall run
one_build() {
	start_coffer "$2/coffer" "$T/$1.${CF_STARTS:-0}"
	ob_port=${CF_URL##*:}
	s_time "$ob_port" "$1" "$CF_PID"
	stalled "$ob_port" "$1" "$CF_PID"
	kill "$CF_PID"
	wait "$CF_PID" 2>/dev/null || true
	CF_PID=
}

i=0
while [ $i -lt "$PAIRS" ]; do
	# shellcheck disable=SC2086 # the workers' pids, one word each
	s_time "$NPORT" nginx $NGX_WORKERS
	if [ $((i % 2)) -eq 0 ] || [ -z "$B" ]; then
		one_build a "$A"
		[ -z "$B" ] || one_build b "$B"
	else
		one_build b "$B"
		one_build a "$A"
	fi
	i=$((i + 1))
done

echo "bench/https/handshake $(date -u +%Y-%m-%dT%H:%MZ), $PAIRS runs of ${SECS} s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "A=$A${B:+ B=$B}"
echo
echo "| server | handshakes/s (openssl s_time -new) | server CPU per handshake, ms | server CPU with $STALLED stalled handshakes, ms per ${SECS} s |"
echo "| --- | ---: | ---: | ---: |"
echo "| nginx | $(med nginx.rate) ($(spread nginx.rate)) | $(med nginx.cpu) ($(spread nginx.cpu)) | - |"
for n in a ${B:+b}; do
	echo "| $n | $(med $n.rate) ($(spread $n.rate)) | $(med $n.cpu) ($(spread $n.cpu)) | $(med $n.stall) ($(spread $n.stall)) |"
done

#!/bin/sh
# bench/https/cpu.sh: the server's CPU time per operation, build A against
# build B, interleaved (A B A B ...).  On a shared, loaded machine the CPU
# a request costs the server moves much less than its throughput does.
#
# Usage: bench/https/cpu.sh BUILD_A BUILD_B [PAIRS]   (default 2 pairs)
# Each server starts on a fresh data directory (default configuration);
# per server, three rounds of: a 256 MiB upload and download with curl,
# then wrk -t2 -c64 -d5s on a 1 KiB object.  CPU is utime + stime of the
# server process from /proc/PID/stat before and after each operation.
# Prints one line per round: up_cpu_s, down_cpu_s, get_reqs and
# get_cpu_us_per_req.  Results: bench/README.md.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
die() { echo "bench/https/cpu: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: $0 BUILD_A BUILD_B [PAIRS]"
A=$(cd "$1" && pwd)/coffer
B=$(cd "$2" && pwd)/coffer
PAIRS=${3:-2}
MIB=${BENCH_MIB:-256}
for t in wrk curl; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing"
done

one() {	# BIN LABEL
	T=$(mktemp -d /tmp/coffer-cpu.XXXXXX)
	start_coffer "$1" "$T/d"
	PID=$CF_PID U=$CF_URL ADMIN=$CF_ADMIN
	C="curl -sS --http1.1 --cacert $T/tls/cert.pem"
	H="Authorization: Bearer $ADMIN"
	coffer_small
	head -c $((MIB << 20)) /dev/urandom >"$T/big"
	tk=$(getconf CLK_TCK)
	cpu() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
	for r in 1 2 3; do
		c0=$(cpu)
		$C -f -H "$H" -T "$T/big" "$U/v1/ns/bench/objects/big" >/dev/null
		c1=$(cpu)
		$C -f -H "$H" -o /dev/null "$U/v1/ns/bench/objects/big"
		c2=$(cpu)
		out=$(BENCH_TOKEN=$ADMIN wrk -t2 -c64 -d5s \
		    -s "$HERE/auth.lua" "$U/v1/ns/bench/objects/small" 2>&1)
		c3=$(cpu)
		n=$(echo "$out" | sed -n 's/.*BENCH requests=\([0-9]*\).*/\1/p')
		echo "$2 round $r up_cpu_s=$(fdiv $((c1 - c0)) "$tk")" \
		    "down_cpu_s=$(fdiv $((c2 - c1)) "$tk") get_reqs=$n" \
		    "get_cpu_us_per_req=$(fdiv $(((c3 - c2) * 1000000 / tk)) \
		    "$n" %.1f)"
	done
	kill "$PID"
	wait "$PID" 2>/dev/null || true
	rm -rf "$T"
}

echo "bench/https/cpu $(date -u +%Y-%m-%dT%H:%MZ): A=$1 B=$2, $PAIRS pairs," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
p=0
while [ $p -lt "$PAIRS" ]; do
	one "$A" A
	one "$B" B
	p=$((p + 1))
done
echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"

#!/bin/sh
# bench/https/instr.sh: user-space instructions per small authorized +
# audited GET, build A against build B, under valgrind's callgrind: a
# count that does not move with the machine's load (bench/https/cpu.sh
# measures CPU time, which does).  Kernel time (TLS records, the audit's
# fdatasync, scheduling) is not in it.
#
# Usage: bench/https/instr.sh BUILD_A BUILD_B [REQUESTS]   (default 1000)
# Each server starts under callgrind on a fresh data directory; one
# keep-alive client (python requests, so one TLS session) GETs a 1 KiB
# object 200 times to warm up, the counters are zeroed, REQUESTS more
# GETs are counted.  One client means one record per audit group commit,
# so the audit writer's per-commit work (the checkpoint) is counted per
# request here, where concurrent clients share it.  Prints, per build,
# the instructions per request and the inclusive share of the main
# parts; then B/A.  Needs valgrind; takes 2-5 minutes.  Results:
# bench/README.md.  INSTR_KEEP=DIR keeps each build's callgrind output
# as DIR/A.cg and DIR/B.cg, for callgrind_annotate --tree=caller.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
die() { echo "bench/https/instr: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: $0 BUILD_A BUILD_B [REQUESTS]"
A=$(cd "$1" && pwd)/coffer
B=$(cd "$2" && pwd)/coffer
N=${3:-1000}
for t in valgrind callgrind_control callgrind_annotate curl; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing"
done

gets() {	# URL TOKEN CA COUNT
	/usr/bin/python3 - "$@" <<'PY'
import sys, requests
u, tok, ca, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = requests.Session()
h = {"Authorization": "Bearer " + tok}
for _ in range(n):
    r = s.get(u + "/v1/ns/bench/objects/small", headers=h, verify=ca)
    assert r.status_code == 200, r.status_code
PY
}

one() {	# BIN LABEL: prints "LABEL instr_per_req=..." and the parts
	T=$(mktemp -d /tmp/coffer-instr.XXXXXX)
	CF_WRAP="valgrind --tool=callgrind --callgrind-out-file=$T/cg.out" \
	    start_coffer "$1" "$T/d"
	PID=$CF_PID U=$CF_URL ADMIN=$CF_ADMIN
	C="curl -sS --http1.1 --cacert $T/tls/cert.pem"
	H="Authorization: Bearer $ADMIN"
	coffer_small
	gets "$U" "$ADMIN" "$T/tls/cert.pem" 200
	sleep 1
	callgrind_control -z "$PID" >/dev/null 2>&1
	gets "$U" "$ADMIN" "$T/tls/cert.pem" "$N"
	sleep 1
	callgrind_control -d "$PID" >/dev/null 2>&1
	kill "$PID"
	wait "$PID" 2>/dev/null || true
	callgrind_annotate --inclusive=yes "$T"/cg.out.* 2>/dev/null |
	    awk -v n="$N" -v l="$2" '
	/PROGRAM TOTALS/ { gsub(",", "", $1); tot = $1
		printf "%s instr_per_req=%d\n", l, tot / n }
	/:(handler|serve_get|cf_core_authenticate|cf_core_get_open|cf_core_audit_submit|notify_main|uri_log) \[/ && !/=>/ {
		v = $1; gsub(",", "", v)
		match($0, /:[A-Za-z_0-9]+ \[/)
		f = substr($0, RSTART + 1, RLENGTH - 3)
		match($0, /[0-9.]+%/)
		p = substr($0, RSTART, RLENGTH)
		if (!(f in seen)) { seen[f] = 1
			printf "%s   %-22s %8d per req (%s)\n", l, f, v / n, p } }'
	if [ -n "${INSTR_KEEP:-}" ]; then
		mkdir -p "$INSTR_KEEP"
		cp "$(ls "$T"/cg.out.* | head -n 1)" "$INSTR_KEEP/$2.cg"
	fi
	rm -rf "$T"
}

echo "bench/https/instr $(date -u +%Y-%m-%dT%H:%MZ): A=$1 B=$2, $N GETs," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
ra=$(one "$A" A)
echo "$ra"
rb=$(one "$B" B)
echo "$rb"
a=$(echo "$ra" | sed -n 's/^A instr_per_req=//p')
b=$(echo "$rb" | sed -n 's/^B instr_per_req=//p')
echo "B/A $(fdiv "$b" "$a" %.3f)"

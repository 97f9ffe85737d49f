#!/bin/sh
# bench/policy/run.sh: the policy engine benchmark (issue 3).
#
# Usage: sh bench/policy/run.sh [BUILD_DIR] [NREQUESTS]
#
# Generates the ML-registry scenario, builds bench_policy against
# BUILD_DIR's static libraries (default: build), installs the reference
# implementation (@cedar-policy/cedar-wasm, pinned in package.json) into
# bench/policy/node_modules, runs both on the base scenario and on the one
# with 10,000 template-linked grants, checks that every decision, reason
# and error is identical, and prints the results table.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
nreq=${2:-10000}
# cedar-wasm takes about 0.3 s per decision with 10,000 linked policies (it
# evaluates every policy), so the links variant gives it only the first
# CEDAR_LINKS_REQUESTS requests (all of them for Coffer).
nlinks=${CEDAR_LINKS_REQUESTS:-200}
out="$here/out"
mkdir -p "$out"

if [ ! -f "$build/src/policy/libcf_policy.a" ]; then
	cmake --build "$build" --target cf_policy cf_base >/dev/null
fi
cc -O2 -g -I"$top/src" -o "$out/bench_policy" "$here/bench_policy.c" \
    "$build/src/policy/libcf_policy.a" "$build/src/base/libcf_base.a" \
    $(pkg-config --libs jansson) -lpthread
if [ ! -d "$here/node_modules/@cedar-policy/cedar-wasm" ]; then
	(cd "$here" && npm install --no-audit --no-fund --silent)
fi
node "$here/gen.mjs" "$out/data" "$nreq"

status=0
for v in base links; do
	"$out/bench_policy" "$out/data" $v "$out/coffer-$v.txt" \
	    > "$out/coffer-$v.json"
	lim=0
	[ $v = links ] && lim=$nlinks
	(cd "$here" && node cedar_bench.mjs "$out/data" $v \
	    "$out/cedar-$v.txt" $lim) > "$out/cedar-$v.json"
	n=$(wc -l < "$out/cedar-$v.txt")
	if head -n "$n" "$out/coffer-$v.txt" | cmp -s - "$out/cedar-$v.txt"
	then
		echo "$v: all $n decisions compared, reasons and errors" \
		    "included, identical to cedar-wasm" > "$out/same-$v.txt"
	else
		echo "$v: DECISIONS DIFFER from cedar-wasm" > "$out/same-$v.txt"
		head -n "$n" "$out/coffer-$v.txt" | diff - "$out/cedar-$v.txt" |
		    head -20 >&2
		status=1
	fi
done

node -e '
const fs = require("fs"), out = process.argv[1];
const r = (f) => JSON.parse(fs.readFileSync(`${out}/${f}`, "utf8"));
console.log("| scenario | implementation | decisions/s | p50 (µs) | p99 (µs) |");
console.log("| --- | --- | ---: | ---: | ---: |");
for (const v of ["base", "links"]) {
	const c = r(`coffer-${v}.json`), w = r(`cedar-${v}.json`);
	const name = v === "base" ? `base (${c.policies} policies)` :
	    `+10,000 linked grants (${c.policies} policies)`;
	console.log(`| ${name} | coffer | ${c.decisions_per_s.toLocaleString("en")} | ${c.p50_us.toFixed(2)} | ${c.p99_us.toFixed(2)} |`);
	console.log(`| ${name} | cedar-wasm ${w.version} | ${w.decisions_per_s.toLocaleString("en")} | ${w.p50_us.toFixed(1)} | ${w.p99_us.toFixed(1)} |`);
	console.log(`| ${name} | speed-up | ${(c.decisions_per_s / w.decisions_per_s).toFixed(0)}x | | |`);
}
const c = r("coffer-base.json");
console.log(`\nentity store: ${c.entities} entities in ${c.entity_store_mib} MiB (loaded in ${c.entities_load_ms} ms); ${c.requests} requests, ${c.allow} allowed`);
for (const v of ["base", "links"]) console.log(fs.readFileSync(`${out}/same-${v}.txt`, "utf8").trim());
' "$out"
exit $status

#!/bin/sh
# bench/authz/run.sh: the reference monitor's authorization benchmark
# (issue 11, section 5; bench/README.md).
#
# Usage: sh bench/authz/run.sh [BUILD_DIR] [RUNS]
#
# Builds bench_authz in BUILD_DIR (default: build; a Release build gives
# the numbers of the README), then runs it RUNS times (default 5): each
# run makes a fresh data directory on tmpfs through the real core and
# store (100,000 principals, 1,000 namespaces, 10,000 bindings, 200
# stored policies), times 20,000 authenticated requests in 5 rounds, and
# a policy change of 10,000 policies.  Prints a markdown table of the
# medians over the runs (each run's own figure is the median of its
# rounds), with the spread (min-max of the runs).
#
# Environment: BENCH_AUTHZ_ARGS: more bench_authz options (-p, -n, -b,
# -k, -q, -r, -R; see bench_authz.c).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
runs=${2:-5}
cmake --build "$build" --target bench_authz >/dev/null
bin="$build/bench/authz/bench_authz"
out="$build/bench/authz/out"
mkdir -p "$out"
rm -f "$out"/run-*.txt
i=1
while [ "$i" -le "$runs" ]; do
	echo "bench/authz: run $i/$runs" >&2
	# shellcheck disable=SC2086 # options, split on purpose
	"$bin" ${BENCH_AUTHZ_ARGS:-} >"$out/run-$i.txt" 2>"$out/run-$i.log"
	i=$((i + 1))
done
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")
btype=${btype:-RelWithDebInfo}
cat "$out"/run-*.txt | awk -v runs="$runs" -v btype="$btype" '
function med(name, k,    n, i, j, t, a) {
	n = cnt[name]
	for (i = 1; i <= n; i++) a[i] = v[name, k, i]
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	lo[name, k] = a[1]; hi[name, k] = a[n]
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
/^principals=/ { setup = $0 }
/^requests=/ { reqs = $0 }
/^(core_authorize|core_authz_decide|entities_context|ns_record) / {
	c = ++cnt[$1]
	for (k = 2; k <= 5; k++) v[$1, k, c] = $k
}
/^reload / {
	c = ++cnt["reload"]
	for (k = 2; k <= NF; k++) {
		split($k, kv, "=")
		r[kv[1], c] = kv[2]
		v["reload", kv[1], c] = kv[2]
	}
	rpol = r["policies", c]; rsets = r["sets", c]
}
END {
	printf "%s; %s; %d runs, %s build; load average %s.\n\n", setup, reqs,
	    runs, btype, load
	print "| measurement (us) | p50 | p90 | p99 | mean |"
	print "| --- | ---: | ---: | ---: | ---: |"
	split("core_authorize core_authz_decide entities_context ns_record", m, " ")
	label["core_authorize"] = "(a) core_authorize, whole"
	label["core_authz_decide"] = "(b) core_authz_decide"
	label["entities_context"] = "(c) entities + context"
	label["ns_record"] = "(d) of which the namespace record"
	for (i = 1; i <= 4; i++) {
		n = m[i]
		if (!cnt[n]) continue
		p50 = med(n, 2)
		printf "| %s | %.2f (%.2f-%.2f) | %.2f | %.2f | %.2f |\n",
		    label[n], p50, lo[n, 2], hi[n, 2], med(n, 3), med(n, 4),
		    med(n, 5)
	}
	if (cnt["reload"]) {
		printf "\npolicy change, %s policies in %s sets: %.1f ms " \
		    "(%.1f-%.1f); heap %.1f MiB, RSS +%.1f MiB.\n", rpol, rsets,
		    med("reload", "ms_median"), lo["reload", "ms_median"],
		    hi["reload", "ms_median"], med("reload", "heap_mib"),
		    med("reload", "rss_delta_mib")
	}
}' load="$(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/results.md"

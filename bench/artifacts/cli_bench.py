#!/usr/bin/python3
"""bench/artifacts/cli_bench.py: the same queries as art_bench, end to end
through a running `coffer server` and the `coffer` CLI (one process per
command, TLS, authentication, the decision and the audit record each).

    COFFER_BIN=build/coffer /usr/bin/python3 bench/artifacts/cli_bench.py \\
        BUILD_DIR [-n OBJECTS] [-a ARTIFACT_VERSIONS] [-k RUNS]

It starts a server on a fresh data directory under /dev/shm (the test
harness of tests/e2e), stops it, fills its metadata database with
`art_bench -f` (namespace "bench"; the object versions have no blobs, so
nothing reads file contents: `pull` is timed as its lookup, the REST GET
of the version by stage with its manifest), starts it again and times
each command K times (median, min, max wall time of the whole process or
request)."""
import os
import statistics
import subprocess
import sys
import time

top = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(top, "tests", "e2e"))
import conftest  # noqa: E402


def timed(fn, k):
    out = []
    for _ in range(k):
        t0 = time.monotonic()
        fn()
        out.append((time.monotonic() - t0) * 1000)
    return statistics.median(out), min(out), max(out)


def main():
    build = sys.argv[1]
    args = sys.argv[2:]
    n, na, k = "1000000", "100000", 20
    i = 0
    while i < len(args):
        if args[i] == "-n":
            n = args[i + 1]
        elif args[i] == "-a":
            na = args[i + 1]
        elif args[i] == "-k":
            k = int(args[i + 1])
        i += 2
    work = subprocess.check_output(
        ["mktemp", "-d", "/dev/shm/cf-cli-bench.XXXXXX"]).decode().strip()
    s = conftest.Server(work)
    try:
        s.start()
        s.stop()
        t0 = time.monotonic()
        subprocess.run([os.path.join(build, "bench-artifacts", "art_bench"),
                        "-f", os.path.join(s.data, "meta.db"), "-n", n,
                        "-a", na], check=True)
        fill = time.monotonic() - t0
        s.start()
        cli = conftest.Cli(s, os.path.join(work, "home"))
        arts = int(na) // 100
        dirs = max(1, (int(n) - int(na)) // 1000)
        pick = [0]

        def nxt(m):
            pick[0] = (pick[0] * 1103515245 + 12345) % (1 << 31)
            return pick[0] % m

        def run(*a):
            p = cli(*a)
            assert p.returncode == 0, (a, p.stderr)

        def get(path):
            r = s.get(path)
            assert r.status_code == 200, r.text

        rows = [
            ("coffer ls bench/dNNNN/ (~1000 keys)",
             lambda: run("ls", "bench/d%04d/" % nxt(dirs))),
            ("coffer versions bench/NAME (100)",
             lambda: run("versions", "bench/m%06d" % nxt(arts))),
            ("GET artifact @production (pull lookup)",
             lambda: get("/v1/ns/bench/artifacts/m%06d?version=production"
                         % nxt(arts))),
            ("coffer lineage bench/NAME@50 (up+down, depth 64)",
             lambda: run("lineage", "bench/m%06d@50" % nxt(arts))),
        ]
        print("cli_bench: %s object versions, %s artifact versions in one "
              "namespace (filled in %.0f s); %d runs each, ms "
              "median (min..max)" % (n, na, fill, k))
        for name, fn in rows:
            med, lo, hi = timed(fn, k)
            print("  %-48s %8.1f (%.1f..%.1f)" % (name, med, lo, hi))
    finally:
        if s.proc is not None:
            s.stop(check=False)
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main()

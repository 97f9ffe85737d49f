#!/usr/bin/python3
"""bench/keys/bench_keys.py: key providers compared in one run.

For the file provider and a SoftHSM2 token (PKCS#11), each on its own
fresh server and data directory:

  rewrap   N object versions are uploaded, then `POST /v1/keys` (coffer
           key rotate) is timed until `GET /v1/keys` reports nothing
           pending: DEKs rewrapped per second (unwrap under the old KEK,
           wrap under the new one, stored in batches of 256 with one
           audit record each).  Repeated --runs times (each run rotates
           again and rewraps all N).
  xfer     upload and download throughput: --big objects of --size bytes
           and --small objects of 4 KiB (requests per second), the two
           providers interleaved run by run.

With --seed, the N versions are added at store level instead
(seed_versions.c: one template version uploaded through the API, the
server stopped, N - 1 copies with fresh DEKs wrapped by the directory's
own provider written in large transactions, the server started again),
which makes N = 1,000,000 feasible; --no-xfer skips the transfers.

It reuses the e2e harness (tests/e2e/conftest.py's Server) to start real
servers.  Used by bench/keys/run.sh; results in bench/README.md."""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))
from conftest import Server  # noqa: E402

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
HSM_CONF = [None]
PIN = "1234"
NS = "bench-keys"


def softhsm(tmp):
    tokens = os.path.join(tmp, "tokens")
    os.makedirs(tokens)
    conf = os.path.join(tmp, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write("directories.tokendir = %s\nobjectstore.backend = file\n"
                "log.level = ERROR\n" % tokens)
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label",
                    "bench", "--pin", PIN, "--so-pin", "5678"], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return conf


def start(provider, tmp):
    wd = os.path.join(tmp, provider)
    if provider == "file":
        return Server(wd).start()
    conf = softhsm(os.path.join(tmp, "hsm"))
    HSM_CONF[0] = conf
    args = ["--set", "key_provider=pkcs11", "--set",
            "pkcs11_module=" + MODULE, "--set", "pkcs11_token_label=bench"]
    env = dict(os.environ, SOFTHSM2_CONF=conf, COFFER_PKCS11_PIN=PIN)
    s = Server(wd, args)
    env.update(s.env)
    subprocess.run([os.environ["COFFER_BIN"], "key", "init-hsm"] + args,
                   env=env, check=True, stdout=subprocess.DEVNULL)
    s.env.update({"SOFTHSM2_CONF": conf, "COFFER_PKCS11_PIN": PIN})
    return s.start()


def parallel(n, threads, fn):
    """fn(i) for i in range(n) on threads; raises on any failure."""
    errs = []

    def work(t):
        for i in range(t, n, threads):
            try:
                fn(i)
            except Exception as e:  # noqa: BLE001
                errs.append(e)
                return
    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise errs[0]


def put(s, key, data):
    r = s.put_obj(NS, key, data, token="admin-api")
    if r.status_code != 201:
        raise RuntimeError("put %s: %d %s" % (key, r.status_code, r.text))


def get(s, key, n):
    r = s.get_obj(NS, key, token="admin-api")
    if r.status_code != 200 or len(r.content) != n:
        raise RuntimeError("get %s: %d" % (key, r.status_code))


def seed(p, s, n, hsm_conf):
    """N versions at store level: a template uploaded, the server
    stopped, n - 1 copies seeded, the server started."""
    put(s, "v/template", b"x")
    r = s.get("/v1/ns/%s/versions/v/template" % NS)
    assert r.status_code == 200, r.text
    vid = r.json()["versions"][0]["version_id"]
    key = s.master_key
    s.stop()
    cmd = [os.environ["COFFER_SEED_BIN"], "--data", s.data, "--master-key",
           key, "--template", vid, "-n", str(n - 1)]
    env = dict(os.environ)
    if p == "pkcs11":
        cmd += ["--pkcs11", MODULE, "--label", "bench"]
        env.update(SOFTHSM2_CONF=hsm_conf, COFFER_PKCS11_PIN=PIN)
    subprocess.run(cmd, env=env, check=True)
    s.start()


def rewrap_once(s, poll):
    t0 = time.monotonic()
    r = s.post("/v1/keys")
    assert r.status_code == 200, r.text
    while True:
        st = s.get("/v1/keys").json()
        if st["rewrap"]["pending"] == 0:
            return time.monotonic() - t0, st
        time.sleep(poll)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--size", type=int, default=16 << 20)
    ap.add_argument("--big", type=int, default=8)
    ap.add_argument("--small", type=int, default=500)
    ap.add_argument("--seed", action="store_true",
                    help="add the N versions at store level")
    ap.add_argument("--no-xfer", action="store_true",
                    help="only the rewrap")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="coffer-bench-keys.")
    servers = {}
    try:
        for p in ("file", "pkcs11"):
            s = servers[p] = start(p, tmp)
            s.mkns(NS)
            t0 = time.monotonic()
            if a.seed:
                seed(p, s, a.n, HSM_CONF[0])
            else:
                parallel(a.n, a.threads,
                         lambda i, s=s: put(s, "v/%d" % i, b"x"))
            print("%-6s populated %d versions in %.1f s" %
                  (p, a.n, time.monotonic() - t0), flush=True)
        rates = {p: [] for p in servers}
        for run in range(a.runs):
            for p in (("file", "pkcs11") if run % 2 == 0 else
                      ("pkcs11", "file")):
                # GET /v1/keys counts every wrapped key: at a million,
                # polling it every 20 ms would slow the pass it measures.
                dt, st = rewrap_once(servers[p],
                                     0.02 if a.n <= 100000 else 1.0)
                moved = st["rewrap"]["total"]
                rates[p].append(moved / dt)
                print("%-6s rewrap run %d: %d keys in %.2f s = %.0f/s "
                      "(active %s)" % (p, run + 1, moved, dt, moved / dt,
                                       st["active"]), flush=True)
        big = os.urandom(a.size if not a.no_xfer else 1)
        small = os.urandom(4096)
        xf = {p: {"up": [], "down": [], "sput": [], "sget": []}
              for p in servers}
        for run in range(0 if a.no_xfer else a.runs):
            for p in (("file", "pkcs11") if run % 2 == 0 else
                      ("pkcs11", "file")):
                s = servers[p]
                t0 = time.monotonic()
                parallel(a.big, 2, lambda i, s=s: put(s, "big/%d" % i, big))
                xf[p]["up"].append(a.big * a.size / (time.monotonic() - t0))
                t0 = time.monotonic()
                parallel(a.big, 2, lambda i, s=s: get(s, "big/%d" % i,
                                                      a.size))
                xf[p]["down"].append(a.big * a.size /
                                     (time.monotonic() - t0))
                t0 = time.monotonic()
                parallel(a.small, a.threads,
                         lambda i, s=s: put(s, "s/%d" % i, small))
                xf[p]["sput"].append(a.small / (time.monotonic() - t0))
                t0 = time.monotonic()
                parallel(a.small, a.threads,
                         lambda i, s=s: get(s, "s/%d" % i, 4096))
                xf[p]["sget"].append(a.small / (time.monotonic() - t0))
                print("%-6s xfer run %d: up %.0f MiB/s down %.0f MiB/s "
                      "4KiB put %.0f/s get %.0f/s" % (
                          p, run + 1, xf[p]["up"][-1] / 2**20,
                          xf[p]["down"][-1] / 2**20, xf[p]["sput"][-1],
                          xf[p]["sget"][-1]), flush=True)
        med = statistics.median
        print("\nsummary (medians of %d runs; N=%d versions; big %d x %d "
              "bytes; small %d x 4 KiB; %d client threads)" %
              (a.runs, a.n, a.big, a.size, a.small, a.threads))
        print("%-22s %12s %12s %8s" % ("", "file", "pkcs11", "p/f"))
        rows = [("rewrap DEKs/s", rates["file"], rates["pkcs11"], 1),
                ("upload MiB/s", xf["file"]["up"], xf["pkcs11"]["up"],
                 2**20),
                ("download MiB/s", xf["file"]["down"],
                 xf["pkcs11"]["down"], 2**20),
                ("4 KiB puts/s", xf["file"]["sput"], xf["pkcs11"]["sput"],
                 1),
                ("4 KiB gets/s", xf["file"]["sget"], xf["pkcs11"]["sget"],
                 1)]
        if a.no_xfer:
            rows = rows[:1]
        for name, f, h, div in rows:
            print("%-22s %12.1f %12.1f %8.2f" % (
                name, med(f) / div, med(h) / div, med(h) / med(f)))
    finally:
        for s in servers.values():
            s.stop(check=False)
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()

"""bench/s3/rss.py: the server's RSS during N parallel multipart uploads
(bench/s3/rss.sh starts the server and calls this).

    rss.py PID ENDPOINT SRC KEYS THREADS OUT_DIR

Starts N processes (KEYS has N lines "ACCESS_KEY_ID SECRET", one S3 key
for each), each a boto3 upload_file of SRC to bench/up-I with
8 MiB parts and THREADS parts in flight (python3-boto3's TransferConfig),
all at once; reads VmRSS of PID every 100 ms from before the first until
after the last has finished; times each upload and, inside it, its
CompleteMultipartUpload (boto3's before-call / after-call events).  The
CA bundle and region come from the environment (AWS_*).
Writes OUT_DIR/rss.tsv (seconds, MiB) and OUT_DIR/uploads.tsv, prints a
summary and an ASCII curve."""
import json
import os
import subprocess
import sys
import time

UPLOAD = r"""
import json, sys, time
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
url, src, key, threads = sys.argv[1:5]
# read_timeout above botocore's 60 s default: a slow Complete is measured,
# not cut off and retried (the retry would find the upload gone).
s3 = boto3.client("s3", endpoint_url=url, config=Config(read_timeout=900))
marks = {}
def before(**kw):
    marks["c0"] = time.time()
def after(**kw):
    marks["c1"] = time.time()
s3.meta.events.register("before-call.s3.CompleteMultipartUpload", before)
s3.meta.events.register("after-call.s3.CompleteMultipartUpload", after)
cfg = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20,
                     max_concurrency=int(threads))
t0 = time.time()
s3.upload_file(src, "bench", key, Config=cfg)
t1 = time.time()
head = s3.head_object(Bucket="bench", Key=key)
print(json.dumps({"key": key, "t0": t0, "t1": t1,
                  "c0": marks.get("c0", 0), "c1": marks.get("c1", 0),
                  "size": head["ContentLength"], "etag": head["ETag"]}))
"""


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def curve(samples, width=72, height=12):
    """samples: [(seconds, MiB)]; the maximum of each column, as rows."""
    if not samples:
        return []
    t_end = samples[-1][0] or 1.0
    cols = [None] * width
    for t, m in samples:
        c = min(width - 1, int(t / t_end * width))
        cols[c] = m if cols[c] is None else max(cols[c], m)
    for c in range(width):  # a column without a sample: the one before
        if cols[c] is None:
            cols[c] = cols[c - 1] if c else 0.0
    top = max(cols)
    step = 16.0
    while top / step > height:
        step *= 2
    rows = int(top / step) + 1
    out = []
    for r in range(rows, 0, -1):
        lo = (r - 1) * step
        line = "".join("#" if v > lo else " " for v in cols)
        out.append("%5d MiB |%s" % (r * step, line))
    out.append("          +" + "-" * width)
    out.append("           0 s%s%.0f s" % (" " * (width - 7), t_end))
    return out


def main():
    pid, url, src, keys, threads, out = sys.argv[1:7]
    pid = int(pid)
    with open(keys) as f:
        creds = [line.split() for line in f if line.strip()]
    n = len(creds)
    base = rss_mib(pid)
    t_start = time.time()
    procs = []
    for i in range(n):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=creds[i][0],
                   AWS_SECRET_ACCESS_KEY=creds[i][1])
        procs.append(subprocess.Popen(
            [sys.executable, "-c", UPLOAD, url, src, "up-%d" % i, threads],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env))
    samples = []
    while True:
        samples.append((time.time() - t_start, rss_mib(pid)))
        if all(p.poll() is not None for p in procs):
            break
        time.sleep(0.1)
    results = []
    failed = 0
    for p in procs:
        o, e = p.communicate()
        if p.returncode != 0:
            failed += 1
            sys.stderr.write(e.decode(errors="replace")[-2000:])
            continue
        results.append(json.loads(o.decode().strip().splitlines()[-1]))
    with open(os.path.join(out, "rss.tsv"), "w") as f:
        for t, m in samples:
            f.write("%.2f\t%.1f\n" % (t, m))
    size = os.path.getsize(src)
    with open(os.path.join(out, "uploads.tsv"), "w") as f:
        f.write("key\tstart_s\tend_s\tcomplete_s\tsize\tetag\n")
        for r in results:
            f.write("%s\t%.2f\t%.2f\t%.2f\t%d\t%s\n" % (
                r["key"], r["t0"] - t_start, r["t1"] - t_start,
                r["c1"] - r["c0"], r["size"], r["etag"]))
    peak = max(m for _, m in samples)
    t_peak = [t for t, m in samples if m == peak][0]
    wall = samples[-1][0]
    comp = sorted(r["c1"] - r["c0"] for r in results)
    bad = [r["key"] for r in results if r["size"] != size]
    print("uploads: %d of %d done, %d failed, %d of the wrong size" % (
        len(results), n, failed, len(bad)))
    print("wall: %.1f s for %.0f MiB, %.1f MiB/s in all" % (
        wall, n * size / 1048576.0, n * size / 1048576.0 / wall))
    print("server RSS: %.0f MiB before, peak %.0f MiB at %.1f s, "
          "%.0f MiB at the end (%d samples, every 100 ms)" % (
              base, peak, t_peak, samples[-1][1], len(samples)))
    if comp:
        print("CompleteMultipartUpload: min %.2f s, median %.2f s, "
              "max %.2f s" % (comp[0], comp[len(comp) // 2], comp[-1]))
    print("")
    print("\n".join(curve(samples)))
    sys.exit(1 if failed or bad else 0)


if __name__ == "__main__":
    main()

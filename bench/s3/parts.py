#!/usr/bin/python3
"""bench/s3/parts.py BUILD_DIR: the server's CPU time per S3 request on
the parts of a completed multipart object (docs/s3.md, "Parts after
completion"): HeadObject of an object of one blob (the baseline), of
the whole multipart object and of one part,
GetObject of one part, and GetObjectAttributes with a page of 1000
parts, on an object of BENCH_PARTS (10000, S3's most) parts.

The parts are BENCH_PART_BYTES (1) bytes each through the test hook
COFFER_TEST_MP_PART_MIN, so BUILD_DIR must be a build with test hooks
(-DCF_TEST_HOOKS=ON); what is measured is the metadata path (the
segment rows read, the XML written), which does not depend on the parts'
sizes.  CPU time is utime + stime of the server process (/proc/PID/stat)
over BENCH_REQS (200) requests of one kind, sequential, one boto3 client;
BENCH_RUNS (5) rounds, the kinds interleaved in each.  Output: the
median and range of the rounds, in microseconds of server CPU per
request, as a markdown table."""

import concurrent.futures
import os
import statistics
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
os.environ["COFFER_BIN"] = os.path.join(build, "coffer")
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from conftest import Server, s3_client  # noqa: E402

PARTS = int(os.environ.get("BENCH_PARTS", "10000"))
PART_BYTES = int(os.environ.get("BENCH_PART_BYTES", "1"))
REQS = int(os.environ.get("BENCH_REQS", "200"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
B = "bench-parts"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_us(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e6 / TICK


def main():
    import tempfile
    work = tempfile.mkdtemp(prefix="coffer-bench-parts.")
    import pathlib
    s = Server(pathlib.Path(work))
    s.env["COFFER_TEST_MP_PART_MIN"] = "1"
    s.start()
    try:
        r = s.post("/v1/s3-keys", {}, token="admin")
        c = s3_client(s, r.json())
        c.create_bucket(Bucket=B)
        uid = c.create_multipart_upload(Bucket=B, Key="k",
                                        ChecksumAlgorithm="CRC32")["UploadId"]
        body = b"x" * PART_BYTES

        def put(n):
            e = c.upload_part(Bucket=B, Key="k", UploadId=uid, PartNumber=n,
                              Body=body, ChecksumAlgorithm="CRC32")
            return {"PartNumber": n, "ETag": e["ETag"],
                    "ChecksumCRC32": e["ChecksumCRC32"]}
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            done = list(ex.map(put, range(1, PARTS + 1)))
        c.complete_multipart_upload(Bucket=B, Key="k", UploadId=uid,
                                    MultipartUpload={"Parts": done})
        c.put_object(Bucket=B, Key="one", Body=body)
        mid = PARTS // 2
        kinds = {
            "HeadObject (an object of one blob)": lambda: c.head_object(
                Bucket=B, Key="one"),
            "HeadObject (whole)": lambda: c.head_object(Bucket=B, Key="k"),
            "HeadObject partNumber=%d" % mid: lambda: c.head_object(
                Bucket=B, Key="k", PartNumber=mid),
            "GetObject partNumber=%d" % mid: lambda: c.get_object(
                Bucket=B, Key="k", PartNumber=mid)["Body"].read(),
            "GetObjectAttributes (1000 parts)": lambda:
                c.get_object_attributes(
                    Bucket=B, Key="k", MaxParts=1000,
                    PartNumberMarker=mid,
                    ObjectAttributes=["ETag", "Checksum", "ObjectParts",
                                      "ObjectSize"]),
        }
        pid = s.proc.pid
        res = {k: [] for k in kinds}
        for _ in range(RUNS):
            for name, call in kinds.items():
                call()          # warm
                t0 = cpu_us(pid)
                for _ in range(REQS):
                    call()
                res[name].append((cpu_us(pid) - t0) / REQS)
        print("| request (%d parts) | server CPU per request, us: median "
              "(range) |" % PARTS)
        print("| --- | --- |")
        for name, v in res.items():
            print("| %s | %.0f (%.0f-%.0f) |" % (name, statistics.median(v),
                                                min(v), max(v)))
    finally:
        s.stop()


if __name__ == "__main__":
    main()

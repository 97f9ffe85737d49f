"""The AWS SDK for JavaScript v3 (@aws-sdk/client-s3 and lib-storage from
npm, exact versions in tests/e2e/js/package-lock.json) against a real
server over TLS: PutObject with a string and a stream body (the SDK
streams the latter aws-chunked with a CRC32 trailer), GetObject (the SDK
asks for and validates the stored checksum), a ranged GetObject,
HeadObject, ListObjectsV2, a multipart Upload with parts in parallel,
DeleteObject; the wire forms the SDK used are checked, and every request
is in the audit log.

The SDK is installed with `npm ci` into the build tree (BUILD/e2e-js,
next to the coffer binary under test), once per package-lock.json:
scripts/deps.sh installs node and npm, the npm registry must be
reachable the first time.  No node is a failure, not a skip."""

import base64
import fcntl
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import zlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent / "js"
BUCKET = "s3-sdkjs"


def sdk_dir():
    """BUILD/e2e-js with node_modules matching package-lock.json."""
    build = pathlib.Path(os.environ["COFFER_BIN"]).resolve().parent
    d = build / "e2e-js"
    d.mkdir(exist_ok=True)
    lock = (HERE / "package-lock.json").read_bytes()
    stamp = hashlib.sha256(lock + (HERE / "package.json").read_bytes()
                           ).hexdigest()
    with open(d / ".lock", "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        if (d / ".stamp").exists() and \
                (d / ".stamp").read_text() == stamp and \
                (d / "node_modules").is_dir():
            return d
        for f in ("package.json", "package-lock.json"):
            shutil.copyfile(HERE / f, d / f)
        npm = shutil.which("npm")
        assert npm is not None, "npm is missing: run scripts/deps.sh"
        p = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit",
                            "--no-fund", "--loglevel=error"], cwd=d,
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, ("npm ci failed", p.stdout, p.stderr)
        (d / ".stamp").write_text(stamp)
    return d


@pytest.fixture(scope="module")
def sdk():
    node = shutil.which("node") or shutil.which("nodejs")
    assert node is not None, "node is missing: run scripts/deps.sh"
    d = sdk_dir()
    shutil.copyfile(HERE / "sdk.mjs", d / "sdk.mjs")
    return node, d


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


@pytest.fixture(scope="module")
def run(server, key, sdk):
    node, d = sdk
    env = dict(os.environ)
    env.update({"S3_ENDPOINT": server.url, "S3_KEY": key["access_key_id"],
                "S3_SECRET": key["secret_access_key"], "S3_BUCKET": BUCKET,
                "NODE_EXTRA_CA_CERTS": server.ca})
    # The SDK reads no AWS profile or variable of the host.
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env["HOME"] = str(d)
    p = subprocess.run([node, str(d / "sdk.mjs")], cwd=d, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, (p.stdout[-4000:], p.stderr[-4000:])
    return json.loads(p.stdout)


def reqs(run, op):
    return [c for c in run["captured"] if c["op"] == op]


def test_put_string_and_stream_byte_exact(run):
    text = b"hello from the AWS SDK for JavaScript v3\n"
    assert run["put_string"]["etag"] == '"%s"' % hashlib.md5(text).hexdigest()
    assert run["get_string"]["body"] == text.decode()
    assert run["get_string"]["content_type"] == "text/plain"
    assert run["get_string"]["metadata"] == {"origin": "sdk-js"}
    ps = run["put_stream"]
    assert ps["etag"] == '"%s"' % ps["md5"]
    assert run["get_stream"]["sha256"] == ps["sha256"]
    assert run["get_stream"]["length"] == 300 * 1024 + 7
    assert run["head"] == {"length": 300 * 1024 + 7, "etag": ps["etag"]}
    assert run["get_range"]["sha256"] == run["get_range"]["want"]
    assert run["get_range"]["content_range"] == "bytes 100-199/307207"


def test_stream_put_is_aws_chunked_with_crc32_trailer(run):
    puts = [c for c in reqs(run, "PutObjectCommand")
            if c["headers"].get("content-encoding", "") != ""]
    assert puts, reqs(run, "PutObjectCommand")
    h = puts[0]["headers"]
    assert "aws-chunked" in h["content-encoding"]
    assert h["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert h["x-amz-trailer"] == "x-amz-checksum-crc32"
    assert h["x-amz-decoded-content-length"] == str(300 * 1024 + 7)
    assert h["authorization"].startswith("AWS4-HMAC-SHA256 ")


def test_get_asks_for_and_validates_stored_checksum(run):
    # The SDK sent x-amz-checksum-mode and checked the answer's CRC32
    # against the bytes (it throws on a mismatch): item of docs/s3.md,
    # "Checksums".
    gets = reqs(run, "GetObjectCommand")
    assert gets and all(g["headers"].get("x-amz-checksum-mode") ==
                        "ENABLED" for g in gets)
    data = bytes((i * 131 + 7) & 0xFF for i in range(300 * 1024 + 7))
    assert run["put_stream"]["crc32"] == crc32_b64(data)
    assert run["get_stream"]["crc32"] == crc32_b64(data)
    text = b"hello from the AWS SDK for JavaScript v3\n"
    assert run["get_string"]["crc32"] == crc32_b64(text)
    assert run["get_range"]["crc32"] is None


def test_multipart_upload_lib_storage(run):
    m = run["multipart"]
    assert m["sha256"] == m["want"]
    assert m["etag"].strip('"').endswith("-3")
    parts = reqs(run, "UploadPartCommand")
    assert len(parts) == 3
    assert reqs(run, "CompleteMultipartUploadCommand")


def test_list_and_delete(run):
    assert run["list"] == [["js/multi.bin", 12 * 1024 * 1024 + 5],
                           ["js/stream.bin", 300 * 1024 + 7],
                           ["js/string.txt", 41]]
    assert run["after_delete"] == "NoSuchKey"


def test_every_sdk_request_audited(run, server):
    recs = server.audit_records()
    ids = {x.get("request_id") for x in recs
           if x.get("authn") == "s3-sigv4"}
    puts = [x for x in recs if x.get("action") == "object:put" and
            x.get("resource", "").startswith("ns/%s/" % BUCKET)]
    assert puts and all(x["decision"] == "allow" for x in puts)
    assert len(ids) >= len(run["captured"])

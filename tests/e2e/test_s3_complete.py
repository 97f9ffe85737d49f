"""CompleteMultipartUpload by reference (docs/s3.md, "Multipart uploads"):
the version's segments are the parts' blobs, byte-exact for part sizes
that do not line up with the 64 KiB chunks or the store's read blocks,
and fail-closed: a part whose blob was removed or cut on disk makes the
Complete fail with nothing stored and the upload still there, so that the
client can upload that part again and complete; a part altered on disk
never reads back as if it were whole.  tests/e2e/test_s3_segments.py
covers every other consumer of a segmented version."""

import hashlib
import os
import re

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from conftest import s3_client  # noqa: E402

MiB = 1024 * 1024
BUCKET = "s3-complete"
HDR = 16            # blob header (src/crypto/aead.h)
CHUNK = 65536       # plaintext bytes per chunk
TAG = 16


def client(server):
    r = server.post("/v1/s3-keys", {}, token="admin")
    assert r.status_code == 201, r.text
    key = r.json()
    c = s3_client(server, key)
    c.create_bucket(Bucket=BUCKET)
    return c


@pytest.fixture(scope="module")
def s3(server):
    return client(server)


def mp_etag(parts):
    d = b"".join(hashlib.md5(p).digest() for p in parts)
    return '"%s-%d"' % (hashlib.md5(d).hexdigest(), len(parts))


def upload(server, s3, key, parts, order=None):
    """Upload parts (numbered from 1, in order); return the upload id,
    the ETags and the blob file of each part."""
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    etags, blobs = {}, {}
    for n in order or range(1, len(parts) + 1):
        before = set(server.blob_files())
        etags[n] = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up,
                                  PartNumber=n, Body=parts[n - 1])["ETag"]
        new = sorted(set(server.blob_files()) - before)
        assert len(new) == 1, new
        blobs[n] = new[0]
    return up, etags, blobs


def complete(s3, key, up, etags):
    return s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]}
                                   for n in sorted(etags)]})


def test_complete_byte_exact_at_odd_sizes(server, s3):
    # Sizes off the 64 KiB chunks and the store's 4 MiB read blocks, one
    # on them, one across three blocks, and a short last part.
    sizes = [5 * MiB + 12345, 6 * MiB, 5 * MiB + CHUNK - 1,
             9 * MiB + 1, 777]
    parts = [os.urandom(n) for n in sizes]
    before = set(server.blob_files())
    up, etags, _ = upload(server, s3, "odd/x", parts, order=[4, 2, 5, 1, 3])
    r = complete(s3, "odd/x", up, etags)
    assert r["ETag"] == mp_etag(parts)
    whole = b"".join(parts)
    got = s3.get_object(Bucket=BUCKET, Key="odd/x")
    assert got["ContentLength"] == len(whole)
    body = got["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(whole).digest()
    # Across the first part boundary.
    a = sizes[0] - 100
    rng = s3.get_object(Bucket=BUCKET, Key="odd/x",
                        Range="bytes=%d-%d" % (a, a + 199))["Body"].read()
    assert rng == whole[a:a + 200]
    # Completed by reference: the version's digest is that of its
    # parts' digests (docs/api.md, "Digests"), and its bytes stay in
    # the parts' blobs: no blob more, none less.
    v = server.get("/v1/ns/%s/versions/odd/x" % BUCKET, token="admin")
    assert v.status_code == 200, v.text
    assert hashlib.sha256(b"".join(hashlib.sha256(p).digest()
                                   for p in parts)).hexdigest() in v.text
    after = set(server.blob_files())
    assert len(after - before) == 5 and not (before - after)
    assert server.tmp_files() == []


def flip(path, off):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x01]))


def assert_nothing_stored(server, s3, key, up, blobs_before, nparts):
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=BUCKET, Key=key)
    assert e.value.response["Error"]["Code"] in ("404", "NoSuchKey")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=key)
    assert listed.get("KeyCount", 0) == 0
    assert set(server.blob_files()) == blobs_before
    assert server.tmp_files() == []
    # The upload is still there, with its parts.
    lp = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=up)
    assert [p["PartNumber"] for p in lp["Parts"]] == \
        list(range(1, nparts + 1))


@pytest.mark.parametrize("where", ["first-chunk", "last-chunk", "header"])
def test_tampered_part_never_reads_back(server, s3, where):
    """The Complete is by reference (it reads no part): a part altered
    on disk is found by every read that reaches it, as any blob's
    damage is; the other parts still read."""
    key = "tamper/%s" % where
    parts = [os.urandom(5 * MiB + 3), os.urandom(5 * MiB + 70000),
             os.urandom(1000)]
    up, etags, blobs = upload(server, s3, key, parts)
    size = os.path.getsize(blobs[2])
    off = {"first-chunk": HDR + 10, "last-chunk": size - TAG - 5,
           "header": 3}[where]
    flip(blobs[2], off)
    r = complete(s3, key, up, etags)
    assert r["ETag"] == mp_etag(parts)
    whole = b"".join(parts)
    try:
        got = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    except Exception:       # the answer cut mid-body, or a 500
        got = None
    assert got != whole
    part1 = s3.get_object(Bucket=BUCKET, Key=key,
                          Range="bytes=0-%d" % (len(parts[0]) - 1))
    assert part1["Body"].read() == parts[0]
    with pytest.raises(Exception):
        s3.get_object(Bucket=BUCKET, Key=key, Range="bytes=%d-%d" % (
            len(parts[0]), len(parts[0]) + len(parts[1]) - 1))[
            "Body"].read()
    recs = [x for x in server.audit_records()
            if x.get("resource", "").endswith("obj/" + key) and
            x.get("action") == "object:get"]
    assert recs
    assert server.tmp_files() == []


def test_missing_part_blob_fails_closed(server, s3):
    key = "missing/x"
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"end"]
    up, etags, blobs = upload(server, s3, key, parts)
    os.unlink(blobs[3])
    before = set(server.blob_files())
    with pytest.raises(ClientError) as e:
        complete(s3, key, up, etags)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert_nothing_stored(server, s3, key, up, before, 3)
    s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up)
    assert not os.path.exists(blobs[1]) and not os.path.exists(blobs[2])


def test_complete_within_the_least_memory_budget(make_server):
    """No room for the upload's stages or the parts' read blocks: the
    Complete runs unstaged through the page cache, same bytes, and gives
    back every byte of the budget."""
    srv = make_server(["--set", "request_memory_budget=65536"])
    c = client(srv)
    parts = [os.urandom(5 * MiB + 1), os.urandom(3 * MiB + 5)]
    up, etags, _ = upload(srv, c, "budget/x", parts)
    r = complete(c, "budget/x", up, etags)
    assert r["ETag"] == mp_etag(parts)
    got = c.get_object(Bucket=BUCKET, Key="budget/x")["Body"].read()
    assert got == b"".join(parts)
    m = re.search(r"^coffer_request_memory_bytes (\d+)$",
                  srv.get("/v1/metrics").text, re.M)
    assert m and int(m.group(1)) == 0
    assert srv.tmp_files() == []

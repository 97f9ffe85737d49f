"""CompleteMultipartUpload's copy of the parts into one version
(docs/s3.md, "Multipart uploads"): byte-exact for part sizes that do not
line up with the 64 KiB chunks or the store's read blocks, and fail-closed:
a part whose blob was altered or removed on disk makes the Complete fail
with nothing stored, no temporary file left and the upload still there, so
that the client can upload that part again and complete."""

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
    # The version's SHA-256 is that of the whole plaintext.
    v = server.get("/v1/ns/%s/versions/odd/x" % BUCKET, token="admin")
    assert v.status_code == 200, v.text
    assert hashlib.sha256(whole).hexdigest() in v.text
    # One blob more than before (the version's); the parts' are gone.
    after = set(server.blob_files())
    assert len(after - before) == 1 and not (before - after)
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
def test_tampered_part_fails_closed_then_completes(server, s3, where):
    key = "tamper/%s" % where
    parts = [os.urandom(5 * MiB + 3), os.urandom(5 * MiB + 70000),
             os.urandom(1000)]
    up, etags, blobs = upload(server, s3, key, parts)
    size = os.path.getsize(blobs[2])
    off = {"first-chunk": HDR + 10, "last-chunk": size - TAG - 5,
           "header": 3}[where]
    # Part 2's blob: the bytes of part 1 and most of part 2 are sealed
    # into the new version's blob before the bad chunk is found.
    flip(blobs[2], off)
    before = set(server.blob_files())
    with pytest.raises(ClientError) as e:
        complete(s3, key, up, etags)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert_nothing_stored(server, s3, key, up, before, 3)
    # Failed answers are audited too.
    recs = [x for x in server.audit_records()
            if x.get("resource", "").endswith("obj/" + key)]
    assert recs and recs[-1]["action"] == "object:put"
    # The client uploads the part again: the upload completes.
    etags[2] = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up,
                              PartNumber=2, Body=parts[1])["ETag"]
    assert not os.path.exists(blobs[2])     # the replaced part's blob
    r = complete(s3, key, up, etags)
    assert r["ETag"] == mp_etag(parts)
    got = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert got == b"".join(parts)
    assert not any(os.path.exists(b) for b in blobs.values())
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

"""Stored checksums (docs/s3.md, "Checksums"): the x-amz-checksum-* an
upload carried (header or aws-chunked trailer), verified, is kept with
the version and returned on GetObject and HeadObject when the request
says `x-amz-checksum-mode: ENABLED`, for the whole object only (not for
a Range), with x-amz-checksum-type FULL_OBJECT, or for a multipart object
S3's COMPOSITE of its parts' checksums.  boto3 (ChecksumMode)
and hand-built requests for every algorithm."""

import base64
import os

import pytest
import requests

boto3 = pytest.importorskip("boto3")

from conftest import s3_client  # noqa: E402
from test_s3_chunked import Signer, checksum, frame, gen  # noqa: E402

BUCKET = "s3-ck"
ALGS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")


@pytest.fixture(scope="module")
def s3(server, key):
    c = s3_client(server, key)
    c.create_bucket(Bucket=BUCKET)
    # Real version ids (a bucket made through S3 starts unversioned).
    c.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={
        "Status": "Enabled"})
    return c


@pytest.fixture(scope="module")
def signer(server, key):
    return Signer(server, key)


def send(server, signer, method, k, headers=None, body=b"", payload=None,
         query="", stream=False):
    path = "/%s/%s" % (BUCKET, k)
    h = dict(headers or {})
    signer.sign(method, path, h, payload or "UNSIGNED-PAYLOAD",
                query=query)
    url = server.url + path + ("?" + query if query else "")
    return requests.request(method, url, headers=h,
                            data=gen(body) if stream else body,
                            verify=server.ca, timeout=60)


def ck_headers(r):
    return {k.lower(): v for k, v in r.headers.items()
            if k.lower().startswith("x-amz-checksum-")}


@pytest.mark.parametrize("alg", ALGS)
def test_header_checksum_stored_and_returned(server, s3, signer, alg):
    data = os.urandom(3000)
    want = checksum(alg, data)
    r = send(server, signer, "PUT", "h/" + alg, body=data,
             headers={"x-amz-checksum-" + alg: want})
    assert r.status_code == 200, r.text
    for method in ("GET", "HEAD"):
        g = send(server, signer, method, "h/" + alg,
                 headers={"x-amz-checksum-mode": "ENABLED"})
        assert g.status_code == 200, g.text
        assert ck_headers(g) == {"x-amz-checksum-" + alg: want,
                                 "x-amz-checksum-type": "FULL_OBJECT"}
        if method == "GET":
            assert g.content == data
    # Not asked for: not given (as S3).
    g = send(server, signer, "GET", "h/" + alg)
    assert ck_headers(g) == {}


@pytest.mark.parametrize("alg", ("crc32", "sha256"))
def test_trailer_checksum_stored_and_returned(server, s3, signer, alg):
    data = os.urandom(200 * 1024 + 17)
    want = checksum(alg, data)
    name = "x-amz-checksum-" + alg
    body = frame(data, size=65536, trailer=(name, want))
    r = send(server, signer, "PUT", "t/" + alg, body=body, stream=True,
             payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
             headers={"Content-Encoding": "aws-chunked",
                      "x-amz-decoded-content-length": str(len(data)),
                      "x-amz-trailer": name,
                      "x-amz-sdk-checksum-algorithm": alg.upper()})
    assert r.status_code == 200, r.text
    g = send(server, signer, "GET", "t/" + alg,
             headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.content == data
    assert g.headers[name] == want
    assert g.headers["x-amz-checksum-type"] == "FULL_OBJECT"


def test_range_and_304_get_no_checksum(server, s3, signer):
    data = b"0123456789" * 100
    r = send(server, signer, "PUT", "rng", body=data,
             headers={"x-amz-checksum-crc32": checksum("crc32", data)})
    assert r.status_code == 200, r.text
    etag = r.headers["ETag"]
    g = send(server, signer, "GET", "rng",
             headers={"x-amz-checksum-mode": "ENABLED",
                      "Range": "bytes=0-9"})
    assert g.status_code == 206 and g.content == b"0123456789"
    assert ck_headers(g) == {}
    g = send(server, signer, "GET", "rng",
             headers={"x-amz-checksum-mode": "ENABLED",
                      "If-None-Match": etag})
    assert g.status_code == 304
    assert ck_headers(g) == {}


def test_boto3_checksum_mode(server, s3):
    data = os.urandom(50 * 1024)
    s3.put_object(Bucket=BUCKET, Key="b3", Body=data,
                  ChecksumAlgorithm="SHA256")
    got = s3.get_object(Bucket=BUCKET, Key="b3", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == checksum("sha256", data)
    assert got["Body"].read() == data
    h = s3.head_object(Bucket=BUCKET, Key="b3", ChecksumMode="ENABLED")
    assert h["ChecksumSHA256"] == checksum("sha256", data)
    assert "ChecksumSHA256" not in s3.head_object(Bucket=BUCKET, Key="b3")
    # Each version keeps its own; a version without one returns none.
    v1 = s3.head_object(Bucket=BUCKET, Key="b3")["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="b3", Body=b"plain")
    h = s3.head_object(Bucket=BUCKET, Key="b3", ChecksumMode="ENABLED")
    assert not [k for k in h if k.startswith("Checksum")]
    h = s3.head_object(Bucket=BUCKET, Key="b3", VersionId=v1,
                       ChecksumMode="ENABLED")
    assert h["ChecksumSHA256"] == checksum("sha256", data)


def test_copy_keeps_checksum_multipart_has_none(server, s3, signer):
    data = os.urandom(4096)
    r = send(server, signer, "PUT", "cp-src", body=data,
             headers={"x-amz-checksum-crc32c": checksum("crc32c", data)})
    assert r.status_code == 200, r.text
    s3.copy_object(Bucket=BUCKET, Key="cp-dst",
                   CopySource={"Bucket": BUCKET, "Key": "cp-src"})
    g = send(server, signer, "HEAD", "cp-dst",
             headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.headers["x-amz-checksum-crc32c"] == checksum("crc32c", data)
    # A multipart object: no full-object checksum is kept (documented).
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="mp")["UploadId"]
    p = send(server, signer, "PUT", "mp", body=data,
             query="partNumber=1&uploadId=" + uid,
             headers={"x-amz-checksum-crc32": checksum("crc32", data)})
    assert p.status_code == 200, p.text
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="mp", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": p.headers["ETag"]}]})
    g = send(server, signer, "GET", "mp",
             headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.content == data
    # Its parts' checksums make S3's composite (see the next test).
    assert ck_headers(g) == {"x-amz-checksum-crc32":
                             composite("crc32", [data]),
                             "x-amz-checksum-type": "COMPOSITE"}


def composite(alg, parts):
    """S3's checksum of a multipart object: the checksum of the parts'
    raw checksums, base64, then "-N"."""
    raw = b"".join(base64.b64decode(checksum(alg, p)) for p in parts)
    return "%s-%d" % (checksum(alg, raw), len(parts))


@pytest.mark.parametrize("alg", ALGS)
def test_multipart_composite_checksum(server, s3, signer, alg):
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(1000)]
    k = "mpc-" + alg
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=k)["UploadId"]
    done = []
    for n, data in enumerate(parts, 1):
        p = send(server, signer, "PUT", k, body=data,
                 query="partNumber=%d&uploadId=%s" % (n, uid),
                 headers={"x-amz-checksum-" + alg: checksum(alg, data)})
        assert p.status_code == 200, p.text
        done.append({"PartNumber": n, "ETag": p.headers["ETag"]})
    s3.complete_multipart_upload(Bucket=BUCKET, Key=k, UploadId=uid,
                                 MultipartUpload={"Parts": done})
    want = {"x-amz-checksum-" + alg: composite(alg, parts),
            "x-amz-checksum-type": "COMPOSITE"}
    for m in ("GET", "HEAD"):
        g = send(server, signer, m, k,
                 headers={"x-amz-checksum-mode": "ENABLED"})
        assert g.status_code == 200
        assert ck_headers(g) == want, m
        assert ck_headers(send(server, signer, m, k)) == {}, m
    # boto3 takes a composite for what it is and does not check it.
    r = s3.get_object(Bucket=BUCKET, Key=k, ChecksumMode="ENABLED")
    assert r["Body"].read() == b"".join(parts)


def test_multipart_checksum_needs_every_part(server, s3, signer):
    """A part without a checksum, or parts of two algorithms: no
    composite, so none is returned (as for an object uploaded without
    one)."""
    for k, algs in (("mpn-none", ["crc32", None]),
                    ("mpn-mixed", ["crc32", "sha256"])):
        parts = [os.urandom(5 * 1024 * 1024), b"end"]
        uid = s3.create_multipart_upload(Bucket=BUCKET, Key=k)["UploadId"]
        done = []
        for n, (data, alg) in enumerate(zip(parts, algs), 1):
            h = {"x-amz-checksum-" + alg: checksum(alg, data)} if alg \
                else {}
            p = send(server, signer, "PUT", k, body=data, headers=h,
                     query="partNumber=%d&uploadId=%s" % (n, uid))
            assert p.status_code == 200, p.text
            done.append({"PartNumber": n, "ETag": p.headers["ETag"]})
        s3.complete_multipart_upload(Bucket=BUCKET, Key=k, UploadId=uid,
                                     MultipartUpload={"Parts": done})
        g = send(server, signer, "HEAD", k,
                 headers={"x-amz-checksum-mode": "ENABLED"})
        assert ck_headers(g) == {}, k


def test_checksum_survives_restart(server, s3, signer):
    data = b"durable"
    r = send(server, signer, "PUT", "dur", body=data,
             headers={"x-amz-checksum-sha1": checksum("sha1", data)})
    assert r.status_code == 200, r.text
    server.restart()
    g = send(server, signer, "HEAD", "dur",
             headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.headers["x-amz-checksum-sha1"] == checksum("sha1", data)

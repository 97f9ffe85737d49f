"""A multipart object's parts after completion (docs/s3.md, "Parts after
completion"): GetObject and HeadObject with partNumber=N answer part N
(206, Content-Range, x-amz-mp-parts-count, the object's ETag, the part's
checksum with x-amz-checksum-mode), a single-part object is its own part
1; GetObjectAttributes answers the object's ETag, checksum, size and its
parts, paginated.  boto3, awscli and raw signed requests against a real
server over TLS; parts are small through the server's test hook
COFFER_TEST_MP_PART_MIN."""

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET
import zlib

import pytest
import requests

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from conftest import s3_client, small_part_server  # noqa: E402
from test_s3_chunked import Signer  # noqa: E402

AWS = "/usr/bin/aws" if os.access("/usr/bin/aws", os.X_OK) else None
B = "parts-b"
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def crc32(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def code_of(exc):
    return exc.value.response["Error"]["Code"]


def status_of(exc):
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def upload(c, k, parts, crc=False):
    """A multipart upload of parts {number: bytes}, completed; with crc
    the upload declares CRC32 (each part carries its CRC32).  Returns
    CompleteMultipartUpload's answer."""
    extra = {"ChecksumAlgorithm": "CRC32"} if crc else {}
    uid = c.create_multipart_upload(Bucket=B, Key=k, **extra)["UploadId"]
    done = []
    for n in sorted(parts):
        r = c.upload_part(Bucket=B, Key=k, UploadId=uid, PartNumber=n,
                          Body=parts[n], **extra)
        p = {"PartNumber": n, "ETag": r["ETag"]}
        if crc:
            assert r["ChecksumCRC32"] == crc32(parts[n])
            p["ChecksumCRC32"] = r["ChecksumCRC32"]
        done.append(p)
    return c.complete_multipart_upload(
        Bucket=B, Key=k, UploadId=uid, MultipartUpload={"Parts": done})


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    s, key, c = small_part_server(tmp_path_factory, B)
    c.put_bucket_versioning(Bucket=B, VersioningConfiguration={
        "Status": "Enabled"})
    yield {"server": s, "s3": c, "key": key, "signer": Signer(s, key)}
    s.stop()


def send(env, method, k, query=None, headers=None):
    q = "&".join("%s=%s" % (urllib.parse.quote(a, safe="-_.~"),
                            urllib.parse.quote(str(v), safe="-_.~"))
                 for a, v in sorted((query or {}).items()))
    path = "/%s/%s" % (B, k)
    h = dict(headers or {})
    env["signer"].sign(method, path, h, hashlib.sha256(b"").hexdigest(),
                       query=q)
    r = requests.request(method, env["server"].url + path +
                         ("?" + q if q else ""), headers=h,
                         verify=env["server"].ca, timeout=60)
    xml = r.content and "xml" in r.headers.get("Content-Type", "")
    return r, (ET.fromstring(r.content) if xml else None)


def text(root, name):
    e = root.find(NS + name)
    if e is None:
        e = root.find(name)
    return None if e is None else e.text


def record(env, rid):
    return env["server"].wait_audit(lambda a: a.get("request_id") == rid)


def part_layout(parts):
    """{number: (first, last)} of parts {number: bytes} in order."""
    out, pos = {}, 0
    for n in sorted(parts):
        out[n] = (pos, pos + len(parts[n]) - 1)
        pos += len(parts[n])
    return out, pos


def test_get_and_head_each_part_with_its_checksum(env):
    c = env["s3"]
    parts = {1: os.urandom(1000), 2: os.urandom(2000), 3: os.urandom(500)}
    done = upload(c, "crc", parts, crc=True)
    etag = done["ETag"]
    lay, total = part_layout(parts)
    for n, data in parts.items():
        # boto3 checks the CRC32 it is given against the bytes it reads:
        # the part's own checksum, end to end.
        g = c.get_object(Bucket=B, Key="crc", PartNumber=n,
                         ChecksumMode="ENABLED")
        assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert g["Body"].read() == data
        assert g["ContentLength"] == len(data)
        assert g["ContentRange"] == "bytes %d-%d/%d" % (lay[n] + (total,))
        assert g["PartsCount"] == 3
        assert g["ETag"] == etag
        assert g["ChecksumCRC32"] == crc32(data)
        assert g["ResponseMetadata"]["HTTPHeaders"][
            "x-amz-checksum-type"] == "COMPOSITE"
        h = c.head_object(Bucket=B, Key="crc", PartNumber=n,
                          ChecksumMode="ENABLED")
        assert h["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert h["ContentLength"] == len(data)
        # (boto3 1.29's HeadObject has no ContentRange member.)
        assert h["ResponseMetadata"]["HTTPHeaders"]["content-range"] == \
            g["ContentRange"]
        assert h["PartsCount"] == 3 and h["ETag"] == etag
        assert h["ChecksumCRC32"] == crc32(data)
    # Unasked, no checksum; a part the object does not have: 416.
    g = c.get_object(Bucket=B, Key="crc", PartNumber=2)
    assert "ChecksumCRC32" not in g and g["Body"].read() == parts[2]
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket=B, Key="crc", PartNumber=4)
    assert code_of(e) == "InvalidPartNumber" and status_of(e) == 416
    rec = record(env, e.value.response["ResponseMetadata"]["RequestId"])
    assert rec["action"] == "object:get" and rec["decision"] == "allow"
    assert rec["status"] == 416
    with pytest.raises(ClientError) as e:
        c.head_object(Bucket=B, Key="crc", PartNumber=4)
    assert status_of(e) == 416
    # A CopyObject copy shares the segments, and so their parts.
    c.copy_object(Bucket=B, Key="crc-copy",
                  CopySource={"Bucket": B, "Key": "crc"})
    g = c.get_object(Bucket=B, Key="crc-copy", PartNumber=2,
                     ChecksumMode="ENABLED")
    assert g["Body"].read() == parts[2] and g["PartsCount"] == 3
    assert g["ChecksumCRC32"] == crc32(parts[2])


@pytest.mark.parametrize("nparts", [1, 2])
def test_full_object_crc_parts(env, nparts):
    """A FULL_OBJECT CRC is the whole object's: S3 gives no checksum for
    one of several parts, and for the only part its own, the object's."""
    c, k = env["s3"], "full-%d" % nparts
    r, x = send(env, "POST", k, {"uploads": ""}, {
        "x-amz-checksum-algorithm": "CRC32",
        "x-amz-checksum-type": "FULL_OBJECT"})
    assert r.status_code == 200, r.text
    uid = text(x, "UploadId")
    parts = [os.urandom(200 + n) for n in range(nparts)]
    done = []
    for n, data in enumerate(parts, 1):
        e = c.upload_part(Bucket=B, Key=k, UploadId=uid, PartNumber=n,
                          Body=data, ChecksumAlgorithm="CRC32")
        done.append({"PartNumber": n, "ETag": e["ETag"],
                     "ChecksumCRC32": e["ChecksumCRC32"]})
    c.complete_multipart_upload(Bucket=B, Key=k, UploadId=uid,
                                MultipartUpload={"Parts": done})
    g = c.get_object(Bucket=B, Key=k, PartNumber=1, ChecksumMode="ENABLED")
    assert g["Body"].read() == parts[0] and g["PartsCount"] == nparts
    h = g["ResponseMetadata"]["HTTPHeaders"]
    if nparts == 1:
        assert g["ChecksumCRC32"] == crc32(parts[0])
        assert h["x-amz-checksum-type"] == "FULL_OBJECT"
    else:
        assert "ChecksumCRC32" not in g
        assert "x-amz-checksum-type" not in h
    # The whole object's CRC, as ever.
    g = c.get_object(Bucket=B, Key=k, ChecksumMode="ENABLED")
    assert g["ChecksumCRC32"] == crc32(b"".join(parts))


def test_parts_keep_their_numbers_and_versions(env):
    """Parts numbered with gaps are asked for by the numbers they were
    uploaded with; an older version answers for its parts after the key
    got a new one; an upload that declared no checksum answers none."""
    c = env["s3"]
    parts = {2: os.urandom(300), 5: os.urandom(700), 9: os.urandom(100)}
    done = upload(c, "gaps", parts)
    old = done["VersionId"]
    lay, total = part_layout(parts)
    g = c.get_object(Bucket=B, Key="gaps", PartNumber=5,
                     ChecksumMode="ENABLED")
    assert g["Body"].read() == parts[5]
    assert g["ContentRange"] == "bytes %d-%d/%d" % (lay[5] + (total,))
    assert g["PartsCount"] == 3
    assert "ChecksumCRC32" not in g
    for n in (1, 3, 10):
        with pytest.raises(ClientError) as e:
            c.get_object(Bucket=B, Key="gaps", PartNumber=n)
        assert code_of(e) == "InvalidPartNumber"
    c.put_object(Bucket=B, Key="gaps", Body=b"replaced")
    g = c.get_object(Bucket=B, Key="gaps", PartNumber=9, VersionId=old)
    assert g["Body"].read() == parts[9] and g["VersionId"] == old
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket=B, Key="gaps", PartNumber=9)
    assert code_of(e) == "InvalidPartNumber"


def test_single_part_object_is_its_own_part_one(env):
    c = env["s3"]
    data = os.urandom(1234)
    c.put_object(Bucket=B, Key="single", Body=data, ChecksumAlgorithm="CRC32")
    g = c.get_object(Bucket=B, Key="single", PartNumber=1,
                     ChecksumMode="ENABLED")
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["Body"].read() == data
    assert g["ContentRange"] == "bytes 0-1233/1234"
    assert "PartsCount" not in g
    assert g["ChecksumCRC32"] == crc32(data)
    h = c.head_object(Bucket=B, Key="single", PartNumber=1)
    assert h["ContentLength"] == 1234 and "PartsCount" not in h
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket=B, Key="single", PartNumber=2)
    assert code_of(e) == "InvalidPartNumber" and status_of(e) == 416


@pytest.mark.parametrize("pn", ["0", "10001", "abc", "-1", ""])
def test_bad_part_numbers_are_refused_and_recorded(env, pn):
    env["s3"].put_object(Bucket=B, Key="bad", Body=b"x")
    r, x = send(env, "GET", "bad", {"partNumber": pn})
    assert r.status_code == 400, r.text
    assert text(x, "Code") == "InvalidArgument"
    rec = record(env, r.headers["x-amz-request-id"])
    assert rec["action"] == "object:get" and rec["decision"] == "deny"


def test_part_number_with_range_is_invalid_request(env):
    env["s3"].put_object(Bucket=B, Key="rng", Body=b"0123456789")
    r, x = send(env, "GET", "rng", {"partNumber": 1},
                {"Range": "bytes=0-1"})
    assert r.status_code == 400 and text(x, "Code") == "InvalidRequest"
    rec = record(env, r.headers["x-amz-request-id"])
    assert rec["action"] == "object:get" and rec["decision"] == "deny"


def test_conditions_hold_for_a_part_as_for_the_object(env):
    c = env["s3"]
    parts = {1: os.urandom(100), 2: os.urandom(50)}
    etag = upload(c, "cond", parts)["ETag"]
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket=B, Key="cond", PartNumber=2,
                     IfNoneMatch=etag)
    assert status_of(e) == 304
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket=B, Key="cond", PartNumber=2,
                     IfMatch='"0123"')
    assert status_of(e) == 412
    g = c.get_object(Bucket=B, Key="cond", PartNumber=2, IfMatch=etag)
    assert g["Body"].read() == parts[2]


def test_get_object_attributes_of_a_multipart_object(env):
    c = env["s3"]
    parts = {n: os.urandom(100 + n) for n in range(1, 6)}
    done = upload(c, "attrs", parts, crc=True)
    a = c.get_object_attributes(Bucket=B, Key="attrs", ObjectAttributes=ALL)
    assert a["ETag"] == done["ETag"].strip('"')
    # S3 gives the composite here without its "-N".
    assert a["Checksum"]["ChecksumCRC32"] == \
        done["ChecksumCRC32"].rsplit("-", 1)[0]
    assert a["StorageClass"] == "STANDARD"
    assert a["ObjectSize"] == sum(len(p) for p in parts.values())
    assert a["VersionId"] == done["VersionId"]
    assert "LastModified" in a
    op = a["ObjectParts"]
    assert op["TotalPartsCount"] == 5 and op["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"], p["ChecksumCRC32"])
            for p in op["Parts"]] == \
        [(n, len(parts[n]), crc32(parts[n])) for n in range(1, 6)]
    # Pages of two, after a part-number marker.
    got, marker = [], 0
    while True:
        a = c.get_object_attributes(Bucket=B, Key="attrs", MaxParts=2,
                                    PartNumberMarker=marker,
                                    ObjectAttributes=["ObjectParts"])
        op = a["ObjectParts"]
        assert op["MaxParts"] == 2 and len(op["Parts"]) <= 2
        assert "ETag" not in a and "ObjectSize" not in a
        got += [p["PartNumber"] for p in op["Parts"]]
        if not op["IsTruncated"]:
            break
        marker = op["NextPartNumberMarker"]
    assert got == [1, 2, 3, 4, 5]
    rid = a["ResponseMetadata"]["RequestId"]
    rec = record(env, rid)
    assert rec["action"] == "object:get" and rec["decision"] == "allow"


def test_get_object_attributes_without_checksums_and_single(env):
    c = env["s3"]
    parts = {1: os.urandom(10), 2: os.urandom(20)}
    done = upload(c, "attrs-plain", parts)
    a = c.get_object_attributes(Bucket=B, Key="attrs-plain",
                                ObjectAttributes=ALL)
    # No checksum: S3 counts the parts but lists none.
    assert "Checksum" not in a
    assert a["ObjectParts"]["TotalPartsCount"] == 2
    assert "Parts" not in a["ObjectParts"]
    assert a["ETag"] == done["ETag"].strip('"')
    data = b"one blob"
    put = c.put_object(Bucket=B, Key="attrs-one", Body=data,
                       ChecksumAlgorithm="CRC32")
    a = c.get_object_attributes(Bucket=B, Key="attrs-one",
                                ObjectAttributes=ALL)
    assert "ObjectParts" not in a
    assert a["ETag"] == put["ETag"].strip('"')
    assert a["Checksum"]["ChecksumCRC32"] == crc32(data)
    assert a["ObjectSize"] == len(data)
    with pytest.raises(ClientError) as e:
        c.get_object_attributes(Bucket=B, Key="no-such-key",
                                ObjectAttributes=["ETag"])
    assert code_of(e) == "NoSuchKey"


@pytest.mark.parametrize("hdrs", [
    {}, {"x-amz-object-attributes": ""},
    {"x-amz-object-attributes": "ETag,Colour"},
    {"x-amz-object-attributes": "ETag", "x-amz-max-parts": "many"},
    {"x-amz-object-attributes": "ETag", "x-amz-part-number-marker": "-1"},
])
def test_get_object_attributes_bad_headers(env, hdrs):
    env["s3"].put_object(Bucket=B, Key="attrs-bad", Body=b"x")
    r, x = send(env, "GET", "attrs-bad", {"attributes": ""}, hdrs)
    assert r.status_code == 400, r.text
    assert text(x, "Code") == "InvalidArgument"
    rec = record(env, r.headers["x-amz-request-id"])
    assert rec["action"] == "object:get" and rec["decision"] == "deny"


def test_reader_denied_by_policy(env):
    s, c = env["server"], env["s3"]
    upload(c, "secret/p", {1: b"a" * 10, 2: b"b" * 10}, crc=True)
    s.principal("parts-reader")
    s.grant("parts-reader", "reader", B)
    r = s.post("/v1/s3-keys", {"principal": "parts-reader"})
    assert r.status_code == 201, r.text
    reader = s3_client(s, r.json())
    # The role lets the reader read the parts ...
    g = reader.get_object(Bucket=B, Key="secret/p", PartNumber=2)
    assert g["Body"].read() == b"b" * 10
    assert reader.get_object_attributes(
        Bucket=B, Key="secret/p",
        ObjectAttributes=["ObjectParts"])["ObjectParts"]["TotalPartsCount"] \
        == 2
    # ... until a bucket policy denies s3:GetObject there.
    c.put_bucket_policy(Bucket=B, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Sid": "NoParts", "Effect": "Deny",
            "Principal": {"AWS": ["arn:aws:iam:::user/parts-reader"]},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::%s/secret/*" % B}]}))
    try:
        calls = [
            ("object:get", lambda: reader.get_object(
                Bucket=B, Key="secret/p", PartNumber=1)),
            ("object:head", lambda: reader.head_object(
                Bucket=B, Key="secret/p", PartNumber=1)),
            ("object:get", lambda: reader.get_object_attributes(
                Bucket=B, Key="secret/p", ObjectAttributes=ALL)),
        ]
        for action, call in calls:
            with pytest.raises(ClientError) as e:
                call()
            assert status_of(e) == 403
            rid = e.value.response["ResponseMetadata"]["RequestId"]
            rec = record(env, rid)
            assert rec["action"] == action, rec
            assert rec["decision"] == "deny"
            assert rec["resource"].endswith("secret/p"), rec
            assert "s3.NoParts.object" in rec["reasons"], rec
    finally:
        # Removing a deny needs MFA: the admin's session does it.
        r = s.req("DELETE", "/v1/policies/s3-bucket-policy?ns=" + B)
        assert r.status_code in (200, 204), r.text


@pytest.mark.skipif(AWS is None, reason="awscli not installed")
def test_awscli_get_part_and_attributes(env, tmp_path):
    s, c = env["server"], env["s3"]
    parts = {1: os.urandom(4000), 2: os.urandom(3000)}
    done = upload(c, "cli", parts, crc=True)
    e = dict(os.environ, AWS_ACCESS_KEY_ID=env["key"]["access_key_id"],
             AWS_SECRET_ACCESS_KEY=env["key"]["secret_access_key"],
             AWS_DEFAULT_REGION="us-east-1", AWS_CA_BUNDLE=s.ca,
             AWS_CONFIG_FILE=str(tmp_path / "none"),
             AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
             HOME=str(tmp_path))

    def aws(*args):
        p = subprocess.run([AWS, "--endpoint-url", s.url, "s3api"] +
                           list(args), env=e, capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    out = tmp_path / "part2"
    got = aws("get-object", "--bucket", B, "--key", "cli",
              "--part-number", "2", "--checksum-mode", "ENABLED", str(out))
    assert out.read_bytes() == parts[2]
    assert got["PartsCount"] == 2
    assert got["ContentRange"] == "bytes 4000-6999/7000"
    assert got["ChecksumCRC32"] == crc32(parts[2])
    got = aws("head-object", "--bucket", B, "--key", "cli",
              "--part-number", "1")
    assert got["ContentLength"] == 4000 and got["PartsCount"] == 2
    got = aws("get-object-attributes", "--bucket", B, "--key", "cli",
              "--object-attributes", "ETag", "ObjectParts", "ObjectSize",
              "--max-parts", "1")
    assert got["ETag"] == done["ETag"].strip('"')
    assert got["ObjectSize"] == 7000
    op = got["ObjectParts"]
    assert op["TotalPartsCount"] == 2 and op["IsTruncated"] is True
    assert [p["PartNumber"] for p in op["Parts"]] == [1]
    assert op["Parts"][0]["ChecksumCRC32"] == crc32(parts[1])


def test_parts_completed_before_part_numbers_were_kept(env):
    """Segments written before schema step 26 have part number 0 and no
    checksum: their parts are numbered by position, without checksums.
    (Runs last: it restarts the module's server.)"""
    s, c = env["server"], env["s3"]
    parts = {3: os.urandom(30), 7: os.urandom(70)}
    vid = upload(c, "old", parts, crc=True)["VersionId"]
    s.stop()
    db = sqlite3.connect(os.path.join(s.data, "meta.db"))
    with db:
        n = db.execute("UPDATE segments SET part_number = 0, checksum = ''"
                       " WHERE version_id = ?", (vid,)).rowcount
    db.close()
    assert n == 2
    s.start()
    g = c.get_object(Bucket=B, Key="old", PartNumber=2,
                     ChecksumMode="ENABLED")
    assert g["Body"].read() == parts[7] and g["PartsCount"] == 2
    assert "ChecksumCRC32" not in g
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket=B, Key="old", PartNumber=3)
    assert code_of(e) == "InvalidPartNumber"
    op = c.get_object_attributes(Bucket=B, Key="old",
                                 ObjectAttributes=["ObjectParts"])
    op = op["ObjectParts"]
    assert [(p["PartNumber"], p["Size"], "ChecksumCRC32" in p)
            for p in op["Parts"]] == [(1, 30, False), (2, 70, False)]

"""Checksums of multipart uploads (docs/s3.md, "Checksums"): the
x-amz-checksum-algorithm and -type CreateMultipartUpload declares are
kept with the upload and echoed (its answer's headers, ListParts); each
part carries that algorithm (verified; computed by the server when the
part carries none; another algorithm refused); CompleteMultipartUpload
answers the object's checksum, COMPOSITE or FULL_OBJECT (the CRC of the
whole object, combined from the parts' CRCs), which GET and HEAD return
with x-amz-checksum-mode.  boto3 and raw requests; parts are small
through the server's test hook COFFER_TEST_MP_PART_MIN."""

import base64
import hashlib
import os
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests

boto3 = pytest.importorskip("boto3")
from conftest import small_part_server  # noqa: E402
from test_s3_chunked import Signer, checksum  # noqa: E402

B = "mp-ck"
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    s, key, c = small_part_server(tmp_path_factory, B)
    yield {"server": s, "s3": c, "signer": Signer(s, key)}
    s.stop()


def send(env, method, k, query=None, headers=None, body=b""):
    q = "&".join("%s=%s" % (urllib.parse.quote(a, safe="-_.~"),
                            urllib.parse.quote(str(v), safe="-_.~"))
                 for a, v in sorted((query or {}).items()))
    path = "/%s/%s" % (B, k)
    h = dict(headers or {})
    env["signer"].sign(method, path, h, hashlib.sha256(body).hexdigest(),
                       query=q)
    r = requests.request(method, env["server"].url + path +
                         ("?" + q if q else ""), headers=h, data=body,
                         verify=env["server"].ca, timeout=60)
    xml = r.content and "xml" in r.headers.get("Content-Type", "")
    return r, (ET.fromstring(r.content) if xml else None)


def el(root, name):
    e = root.find(NS + name)
    if e is None:
        e = root.find(name)
    return None if e is None else e.text


def composite(alg, parts):
    raw = b"".join(base64.b64decode(checksum(alg, p)) for p in parts)
    return "%s-%d" % (checksum(alg, raw), len(parts))


def create(env, k, alg, typ=None):
    h = {"x-amz-checksum-algorithm": alg}
    if typ is not None:
        h["x-amz-checksum-type"] = typ
    return send(env, "POST", k, {"uploads": ""}, h)


def part(env, k, uid, n, data, alg=None, value=None):
    h = {}
    if alg is not None:
        h["x-amz-checksum-" + alg] = value or checksum(alg, data)
    return send(env, "PUT", k, {"partNumber": n, "uploadId": uid}, h,
                data)


def complete(env, k, uid, etags):
    body = ("<CompleteMultipartUpload>" + "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (n, e)
        for n, e in enumerate(etags, 1)) +
        "</CompleteMultipartUpload>").encode()
    return send(env, "POST", k, {"uploadId": uid}, body=body)


def test_boto3_composite_crc32(env):
    c = env["s3"]
    parts = [os.urandom(1000 + n) for n in range(3)]
    up = c.create_multipart_upload(Bucket=B, Key="b3", ChecksumAlgorithm=
                                   "CRC32")
    assert up["ChecksumAlgorithm"] == "CRC32"
    done = []
    for n, p in enumerate(parts, 1):
        r = c.upload_part(Bucket=B, Key="b3", UploadId=up["UploadId"],
                          PartNumber=n, Body=p,
                          ChecksumCRC32=checksum("crc32", p))
        assert r["ChecksumCRC32"] == checksum("crc32", p)
        done.append({"PartNumber": n, "ETag": r["ETag"],
                     "ChecksumCRC32": r["ChecksumCRC32"]})
    lp = c.list_parts(Bucket=B, Key="b3", UploadId=up["UploadId"])
    assert lp["ChecksumAlgorithm"] == "CRC32"
    assert [p["ChecksumCRC32"] for p in lp["Parts"]] == \
        [checksum("crc32", p) for p in parts]
    r = c.complete_multipart_upload(Bucket=B, Key="b3",
                                    UploadId=up["UploadId"],
                                    MultipartUpload={"Parts": done})
    want = composite("crc32", parts)
    assert r["ChecksumCRC32"] == want
    h = c.head_object(Bucket=B, Key="b3", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == want
    assert h["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] \
        == "COMPOSITE"
    assert c.get_object(Bucket=B, Key="b3")["Body"].read() == \
        b"".join(parts)


@pytest.mark.parametrize("alg", ["crc32", "crc32c", "crc64nvme"])
def test_full_object_crc(env, alg):
    k = "full-" + alg
    parts = [os.urandom(5000), os.urandom(1), os.urandom(70000),
             os.urandom(333)]
    whole = b"".join(parts)
    r, x = create(env, k, alg.upper(), "FULL_OBJECT")
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-checksum-algorithm"] == alg.upper()
    assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
    uid = el(x, "UploadId")
    etags = []
    for n, p in enumerate(parts, 1):
        # The second part carries none: the server computes it.
        r, _ = part(env, k, uid, n, p, None if n == 2 else alg)
        assert r.status_code == 200, r.text
        assert r.headers["x-amz-checksum-" + alg] == checksum(alg, p)
        etags.append(r.headers["ETag"])
    r, x = send(env, "GET", k, {"uploadId": uid})
    assert el(x, "ChecksumAlgorithm") == alg.upper()
    assert el(x, "ChecksumType") == "FULL_OBJECT"
    r, x = complete(env, k, uid, etags)
    assert r.status_code == 200, r.text
    assert el(x, "Checksum" + alg.upper()) == checksum(alg, whole)
    assert el(x, "ChecksumType") == "FULL_OBJECT"
    for m in ("GET", "HEAD"):
        r, _ = send(env, m, k, headers={"x-amz-checksum-mode": "ENABLED"})
        assert r.status_code == 200
        assert r.headers["x-amz-checksum-" + alg] == checksum(alg, whole)
        assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
    r, _ = send(env, "GET", k)
    assert r.content == whole


def test_crc64nvme_defaults_to_full_object(env):
    r, x = create(env, "dflt", "CRC64NVME")
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
    r, x = create(env, "dflt", "SHA256")
    assert r.headers["x-amz-checksum-type"] == "COMPOSITE"


@pytest.mark.parametrize("alg,typ", [("SHA256", "FULL_OBJECT"),
                                     ("CRC64NVME", "COMPOSITE"),
                                     ("MD4", None), ("CRC32", "WHOLE"),
                                     (None, "COMPOSITE")])
def test_create_refuses_what_s3_refuses(env, alg, typ):
    s = env["server"]
    h = {}
    if alg is not None:
        h["x-amz-checksum-algorithm"] = alg
    if typ is not None:
        h["x-amz-checksum-type"] = typ
    r, x = send(env, "POST", "bad", {"uploads": ""}, h)
    assert r.status_code == 400, r.text
    assert el(x, "Code") == "InvalidRequest"
    rid = r.headers["x-amz-request-id"]
    rec = s.wait_audit(lambda a: a.get("request_id") == rid)
    assert rec["action"] == "object:put" and rec["status"] == 400
    r, x = send(env, "GET", "", {"uploads": "", "prefix": "bad"})
    assert x.findall(NS + "Upload") == []


def test_part_checksum_refusals(env):
    s = env["server"]
    k = "refuse"
    r, x = create(env, k, "CRC32", "FULL_OBJECT")
    uid = el(x, "UploadId")
    # A checksum that does not match: BadDigest, nothing stored.
    r, x = part(env, k, uid, 1, b"abc", "crc32", checksum("crc32", b"x"))
    assert r.status_code == 400 and el(x, "Code") == "BadDigest"
    # Another algorithm than the upload declared: InvalidRequest.
    r, x = part(env, k, uid, 1, b"abc", "sha256")
    assert r.status_code == 400 and el(x, "Code") == "InvalidRequest"
    rid = r.headers["x-amz-request-id"]
    rec = s.wait_audit(lambda a: a.get("request_id") == rid)
    assert rec["action"] == "object:put" and rec["status"] == 400
    r, x = send(env, "GET", k, {"uploadId": uid})
    assert x.findall(NS + "Part") == []
    r, _ = part(env, k, uid, 1, b"abc", "crc32")
    assert r.status_code == 200
    r, x = send(env, "GET", k, {"uploadId": uid})
    assert [el(p, "ChecksumCRC32") for p in x.findall(NS + "Part")] == \
        [checksum("crc32", b"abc")]


def test_part_copy_into_full_object_upload(env):
    c = env["s3"]
    src = os.urandom(4000)
    c.put_object(Bucket=B, Key="cp-src", Body=src)
    tail = os.urandom(100)
    r, x = create(env, "cp-dst", "CRC32C", "FULL_OBJECT")
    uid = el(x, "UploadId")
    cp = c.upload_part_copy(Bucket=B, Key="cp-dst", UploadId=uid,
                            PartNumber=1, CopySource={"Bucket": B,
                                                      "Key": "cp-src"})
    r, _ = part(env, "cp-dst", uid, 2, tail, "crc32c")
    r, x = complete(env, "cp-dst", uid, [cp["CopyPartResult"]["ETag"],
                                         r.headers["ETag"]])
    assert r.status_code == 200, r.text
    assert el(x, "ChecksumCRC32C") == checksum("crc32c", src + tail)


def test_undeclared_upload_keeps_composite(env):
    """No algorithm declared: the composite of what the parts carried,
    as before, and a part may carry none."""
    k = "undeclared"
    r, x = send(env, "POST", k, {"uploads": ""})
    assert r.status_code == 200
    assert "x-amz-checksum-algorithm" not in r.headers
    uid = el(x, "UploadId")
    parts = [b"one", b"two"]
    etags = [part(env, k, uid, n, p, "sha1")[0].headers["ETag"]
             for n, p in enumerate(parts, 1)]
    r, x = complete(env, k, uid, etags)
    assert el(x, "ChecksumSHA1") == composite("sha1", parts)
    assert el(x, "ChecksumType") == "COMPOSITE"


def test_complete_checks_the_objects_checksum(env):
    """x-amz-checksum-ALG (and -type) on CompleteMultipartUpload is the
    object's checksum as the client computed it: checked, BadDigest and
    nothing stored when it is not the object's."""
    s = env["server"]
    k = "expect"
    parts = [os.urandom(3000), os.urandom(10)]
    r, x = create(env, k, "CRC32", "FULL_OBJECT")
    uid = el(x, "UploadId")
    etags = [part(env, k, uid, n, p, "crc32")[0].headers["ETag"]
             for n, p in enumerate(parts, 1)]
    body = ("<CompleteMultipartUpload>" + "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (n, e)
        for n, e in enumerate(etags, 1)) +
        "</CompleteMultipartUpload>").encode()
    for h in ({"x-amz-checksum-crc32": checksum("crc32", b"other")},
              {"x-amz-checksum-crc32": checksum("crc32", b"".join(parts)),
               "x-amz-checksum-type": "COMPOSITE"}):
        r, x = send(env, "POST", k, {"uploadId": uid}, h, body)
        assert r.status_code == 400, r.text
        assert el(x, "Code") == "BadDigest"
        rid = r.headers["x-amz-request-id"]
        rec = s.wait_audit(lambda a: a.get("request_id") == rid)
        assert rec["action"] == "object:put" and rec["status"] == 400
        r, _ = send(env, "HEAD", k)
        assert r.status_code == 404
    whole = checksum("crc32", b"".join(parts))
    r, x = send(env, "POST", k, {"uploadId": uid},
                {"x-amz-checksum-crc32": whole,
                 "x-amz-checksum-type": "FULL_OBJECT"}, body)
    assert r.status_code == 200, r.text
    assert el(x, "ChecksumCRC32") == whole


def test_complete_body_part_checksums_are_checked(env):
    """A <ChecksumCRC32> of a Part in the Complete's body is compared
    with the part's (400 InvalidPart, nothing stored, when it is not);
    two checksums in one Part, or one that is not base64, are
    MalformedXML."""
    k = "body-ck"
    parts = [os.urandom(2000), os.urandom(20)]
    r, x = create(env, k, "CRC32")
    uid = el(x, "UploadId")
    etags = [part(env, k, uid, n, p, "crc32")[0].headers["ETag"]
             for n, p in enumerate(parts, 1)]

    def body(cks, extra=""):
        return ("<CompleteMultipartUpload>" + "".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>"
            "<ChecksumCRC32>%s</ChecksumCRC32>%s</Part>" % (
                n, e, c, extra)
            for n, (e, c) in enumerate(zip(etags, cks), 1)) +
            "</CompleteMultipartUpload>").encode()
    good = [checksum("crc32", p) for p in parts]
    r, x = send(env, "POST", k, {"uploadId": uid},
                body=body([good[0], checksum("crc32", b"no")]))
    assert r.status_code == 400 and el(x, "Code") == "InvalidPart", r.text
    assert send(env, "HEAD", k)[0].status_code == 404
    r, x = send(env, "POST", k, {"uploadId": uid}, body=body(
        good, "<ChecksumSHA1>%s</ChecksumSHA1>" % checksum("sha1", b"")))
    assert r.status_code == 400 and el(x, "Code") == "MalformedXML", r.text
    r, x = send(env, "POST", k, {"uploadId": uid},
                body=body([good[0], "not base64!"]))
    assert r.status_code == 400 and el(x, "Code") == "MalformedXML", r.text
    r, x = send(env, "POST", k, {"uploadId": uid}, body=body(good))
    assert r.status_code == 200, r.text
    assert el(x, "ChecksumCRC32") == composite("crc32", parts)

"""S3 UploadPartCopy (docs/s3.md, "UploadPartCopy"): a part of a multipart
upload taken server-side from (a byte range of) another object, decided
on both sides (object:get of the source, object:put of the target, each
recorded with the request's id) and stored encrypted like any other part.
boto3's upload_part_copy, awscli's bucket-to-bucket `cp` of a large
object, source versions, ranges out of bounds, copy-source conditions,
and a reader refused on the source."""

import datetime
import hashlib
import os
import subprocess

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from conftest import s3_client  # noqa: E402

MiB = 1024 * 1024
SRC = "s3-pc-src"
DST = "s3-pc-dst"
AWS = "/usr/bin/aws" if os.access("/usr/bin/aws", os.X_OK) else None


def mk(server, key):
    return s3_client(server, key)


@pytest.fixture(scope="module")
def s3(server, key):
    c = mk(server, key)
    # A bucket made through S3 starts unversioned (null version ids);
    # these tests read real version ids, so theirs are versioned.
    for b in (SRC, DST):
        c.create_bucket(Bucket=b)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={
            "Status": "Enabled"})
    return c


def code_of(exc):
    return exc.value.response["Error"]["Code"]


def status_of(exc):
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def recs_of(server, rid):
    return [x for x in server.audit_records() if x.get("request_id") == rid]


def md5q(b):
    return '"%s"' % hashlib.md5(b).hexdigest()


def test_upload_part_copy_ranges_byte_exact_and_audited(server, s3):
    data = os.urandom(11 * MiB + 5)
    small = b"the tail of the object"
    s3.put_object(Bucket=SRC, Key="big", Body=data)
    sv = s3.put_object(Bucket=SRC, Key="small", Body=small)["VersionId"]
    up = s3.create_multipart_upload(Bucket=DST, Key="joined",
                                    ContentType="application/x-joined")
    uid = up["UploadId"]
    parts = []
    for n, (a, b) in enumerate([(0, 6 * MiB - 1),
                                (6 * MiB, len(data) - 1)], 1):
        r = s3.upload_part_copy(Bucket=DST, Key="joined", UploadId=uid,
                                PartNumber=n,
                                CopySource={"Bucket": SRC, "Key": "big"},
                                CopySourceRange="bytes=%d-%d" % (a, b))
        assert r["CopyPartResult"]["ETag"] == md5q(data[a:b + 1])
        assert r["CopyPartResult"]["LastModified"]
        assert r["CopySourceVersionId"]
        parts.append({"PartNumber": n,
                      "ETag": r["CopyPartResult"]["ETag"]})
        rid = r["ResponseMetadata"]["RequestId"]
        assert sorted((x["action"], x["resource"], x["decision"])
                      for x in recs_of(server, rid)) == [
            ("object:get", "ns/%s/obj/big" % SRC, "allow"),
            ("object:put", "ns/%s/obj/joined" % DST, "allow")]
    # A whole object (no range) as the last part.
    r = s3.upload_part_copy(Bucket=DST, Key="joined", UploadId=uid,
                            PartNumber=3,
                            CopySource={"Bucket": SRC, "Key": "small"})
    assert r["CopyPartResult"]["ETag"] == md5q(small)
    assert r["CopySourceVersionId"] == sv
    parts.append({"PartNumber": 3, "ETag": r["CopyPartResult"]["ETag"]})
    lp = s3.list_parts(Bucket=DST, Key="joined", UploadId=uid)
    assert [(p["PartNumber"], p["Size"]) for p in lp["Parts"]] == [
        (1, 6 * MiB), (2, len(data) - 6 * MiB), (3, len(small))]
    s3.complete_multipart_upload(Bucket=DST, Key="joined", UploadId=uid,
                                 MultipartUpload={"Parts": parts})
    got = s3.get_object(Bucket=DST, Key="joined")
    assert got["Body"].read() == data + small
    assert got["ContentType"] == "application/x-joined"
    assert got["ETag"].endswith('-3"')


def test_upload_part_copy_is_encrypted_at_rest(server, s3):
    marker = b"PLAINTEXT-MARKER-" * 4096
    s3.put_object(Bucket=SRC, Key="plain", Body=marker)
    uid = s3.create_multipart_upload(Bucket=DST, Key="enc")["UploadId"]
    s3.upload_part_copy(Bucket=DST, Key="enc", UploadId=uid, PartNumber=1,
                        CopySource={"Bucket": SRC, "Key": "plain"})
    for f in server.blob_files():
        with open(f, "rb") as fh:
            assert b"PLAINTEXT-MARKER-PLAINTEXT" not in fh.read()
    s3.abort_multipart_upload(Bucket=DST, Key="enc", UploadId=uid)


def test_upload_part_copy_source_version(server, s3):
    v1 = s3.put_object(Bucket=SRC, Key="ver", Body=b"first version")
    s3.put_object(Bucket=SRC, Key="ver", Body=b"second version")
    uid = s3.create_multipart_upload(Bucket=DST, Key="v")["UploadId"]
    r = s3.upload_part_copy(Bucket=DST, Key="v", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": SRC, "Key": "ver",
                                        "VersionId": v1["VersionId"]},
                            CopySourceRange="bytes=0-4")
    assert r["CopySourceVersionId"] == v1["VersionId"]
    assert r["CopyPartResult"]["ETag"] == md5q(b"first")
    s3.complete_multipart_upload(
        Bucket=DST, Key="v", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=DST, Key="v")["Body"].read() == b"first"
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=DST, Key="v2", UploadId=uid,
                            PartNumber=1,
                            CopySource={"Bucket": SRC, "Key": "ver",
                                        "VersionId": "0" * 32})
    assert code_of(e) in ("NoSuchVersion", "NoSuchUpload")


def test_upload_part_copy_bad_ranges_store_nothing(server, s3):
    s3.put_object(Bucket=SRC, Key="r", Body=b"0123456789")
    uid = s3.create_multipart_upload(Bucket=DST, Key="r")["UploadId"]

    def copy(rng, **kw):
        return s3.upload_part_copy(Bucket=DST, Key="r", UploadId=uid,
                                   PartNumber=1,
                                   CopySource={"Bucket": SRC, "Key": "r"},
                                   CopySourceRange=rng, **kw)

    for rng in ("bytes=0-10", "bytes=10-12", "bytes=20-30"):
        with pytest.raises(ClientError) as e:
            copy(rng)
        assert code_of(e) == "InvalidRange", rng
        assert status_of(e) == 416
        rid = e.value.response["ResponseMetadata"]["RequestId"]
        # The source's decision is the answer's record.
        assert [(x["action"], x["decision"], x["status"])
                for x in recs_of(server, rid)] == [
            ("object:get", "allow", 416)]
    for rng in ("bytes=5-3", "bytes=-3", "bytes=3-", "items=0-1",
                "bytes=0-1,3-4", "bytes=a-b"):
        with pytest.raises(ClientError) as e:
            copy(rng)
        assert code_of(e) == "InvalidArgument", rng
    assert s3.list_parts(Bucket=DST, Key="r", UploadId=uid).get(
        "Parts", []) == []
    r = copy("bytes=9-9")
    assert r["CopyPartResult"]["ETag"] == md5q(b"9")
    s3.abort_multipart_upload(Bucket=DST, Key="r", UploadId=uid)


def test_upload_part_copy_source_conditions(server, s3):
    put = s3.put_object(Bucket=SRC, Key="cond", Body=b"conditional")
    uid = s3.create_multipart_upload(Bucket=DST, Key="cond")["UploadId"]
    src = {"Bucket": SRC, "Key": "cond"}
    r = s3.upload_part_copy(Bucket=DST, Key="cond", UploadId=uid,
                            PartNumber=1, CopySource=src,
                            CopySourceIfMatch=put["ETag"])
    assert r["CopyPartResult"]["ETag"] == put["ETag"]
    r = s3.upload_part_copy(Bucket=DST, Key="cond", UploadId=uid,
                            PartNumber=2, CopySource=src,
                            CopySourceIfNoneMatch='"%s"' % ("0" * 32))
    assert r["CopyPartResult"]["ETag"] == put["ETag"]
    for kw in ({"CopySourceIfMatch": '"%s"' % ("0" * 32)},
               {"CopySourceIfNoneMatch": put["ETag"]},
               {"CopySourceIfNoneMatch": "*"}):
        with pytest.raises(ClientError) as e:
            s3.upload_part_copy(Bucket=DST, Key="cond", UploadId=uid,
                                PartNumber=3, CopySource=src, **kw)
        assert code_of(e) == "PreconditionFailed", kw
        assert status_of(e) == 412
    past = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
    future = datetime.datetime(2999, 1, 1, tzinfo=datetime.timezone.utc)
    for kw in ({"CopySourceIfUnmodifiedSince": past},
               {"CopySourceIfModifiedSince": future},
               # A failing If-None-Match fails whatever the date says.
               {"CopySourceIfNoneMatch": put["ETag"],
                "CopySourceIfModifiedSince": past}):
        with pytest.raises(ClientError) as e:
            s3.upload_part_copy(Bucket=DST, Key="cond", UploadId=uid,
                                PartNumber=3, CopySource=src, **kw)
        assert code_of(e) == "PreconditionFailed", kw
    assert [p["PartNumber"] for p in s3.list_parts(
        Bucket=DST, Key="cond", UploadId=uid)["Parts"]] == [1, 2]
    # A holding If-Match overrides a failing If-Unmodified-Since (S3).
    for n, kw in ((3, {"CopySourceIfModifiedSince": past}),
                  (4, {"CopySourceIfUnmodifiedSince": future}),
                  (5, {"CopySourceIfMatch": put["ETag"],
                       "CopySourceIfUnmodifiedSince": past})):
        s3.upload_part_copy(Bucket=DST, Key="cond", UploadId=uid,
                            PartNumber=n, CopySource=src, **kw)
    assert [p["PartNumber"] for p in s3.list_parts(
        Bucket=DST, Key="cond", UploadId=uid)["Parts"]] == [1, 2, 3, 4, 5]
    s3.abort_multipart_upload(Bucket=DST, Key="cond", UploadId=uid)


def test_upload_part_copy_bad_date_refused(server, s3, key):
    from test_s3_chunked import Signer
    import requests
    s3.put_object(Bucket=SRC, Key="d", Body=b"d")
    uid = s3.create_multipart_upload(Bucket=DST, Key="d")["UploadId"]
    path = "/%s/d" % DST
    q = "partNumber=1&uploadId=" + uid
    h = {"x-amz-copy-source": "%s/d" % SRC,
         "x-amz-copy-source-if-modified-since": "yesterday"}
    Signer(server, key).sign("PUT", path, h,
                             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
                             "649b934ca495991b7852b855", query=q)
    r = requests.put(server.url + path + "?" + q, headers=h, data=b"",
                     verify=server.ca, timeout=60)
    assert r.status_code == 400, r.text
    assert "<Code>InvalidArgument</Code>" in r.text
    assert s3.list_parts(Bucket=DST, Key="d", UploadId=uid).get(
        "Parts", []) == []


def test_upload_part_copy_reader_refused_on_either_side(server, s3):
    s3.create_bucket(Bucket="s3-pc-priv")
    s3.put_object(Bucket="s3-pc-priv", Key="secret", Body=b"secret" * 100)
    s3.create_bucket(Bucket="s3-pc-ro")
    s3.put_object(Bucket=SRC, Key="open", Body=b"open")
    server.principal("s3pc")
    server.grant("s3pc", "writer", DST)
    server.grant("s3pc", "reader", SRC)
    server.grant("s3pc", "reader", "s3-pc-ro")
    r = server.post("/v1/s3-keys", {"principal": "s3pc"}, token="admin")
    assert r.status_code == 201, r.text
    w = mk(server, r.json())
    uid = w.create_multipart_upload(Bucket=DST, Key="stolen")["UploadId"]
    # No read on the source: refused, its decision is the record.
    with pytest.raises(ClientError) as e:
        w.upload_part_copy(Bucket=DST, Key="stolen", UploadId=uid,
                           PartNumber=1,
                           CopySource={"Bucket": "s3-pc-priv",
                                       "Key": "secret"})
    assert code_of(e) == "AccessDenied"
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    assert [(x["action"], x["decision"]) for x in recs_of(server, rid)] \
        == [("object:get", "deny")]
    assert w.list_parts(Bucket=DST, Key="stolen", UploadId=uid).get(
        "Parts", []) == []
    # Read on the source, no put on the target (an upload of the
    # admin's there): refused on the target.
    uid2 = s3.create_multipart_upload(Bucket="s3-pc-ro",
                                      Key="evil")["UploadId"]
    with pytest.raises(ClientError) as e:
        w.upload_part_copy(Bucket="s3-pc-ro", Key="evil", UploadId=uid2,
                           PartNumber=1,
                           CopySource={"Bucket": SRC, "Key": "open"})
    assert code_of(e) == "AccessDenied"
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    assert sorted((x["action"], x["decision"])
                  for x in recs_of(server, rid)) == [
        ("object:get", "allow"), ("object:put", "deny")]
    assert s3.list_parts(Bucket="s3-pc-ro", Key="evil",
                         UploadId=uid2).get("Parts", []) == []


def test_upload_part_copy_bad_requests(server, s3):
    uid = s3.create_multipart_upload(Bucket=DST, Key="bad")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=DST, Key="bad", UploadId=uid,
                            PartNumber=1,
                            CopySource={"Bucket": SRC, "Key": "missing"})
    assert code_of(e) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=DST, Key="bad", UploadId="f" * 32,
                            PartNumber=1,
                            CopySource={"Bucket": SRC, "Key": "small"})
    assert code_of(e) == "NoSuchUpload"
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=DST, Key="bad", UploadId=uid,
                            PartNumber=10001,
                            CopySource={"Bucket": SRC, "Key": "small"})
    assert code_of(e) == "InvalidArgument"
    s3.abort_multipart_upload(Bucket=DST, Key="bad", UploadId=uid)


@pytest.mark.skipif(AWS is None, reason="awscli not installed")
def test_awscli_cp_between_buckets_uses_upload_part_copy(server, key,
                                                         tmp_path, s3):
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": key["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": key["secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CA_BUNDLE": server.ca,
        "AWS_CONFIG_FILE": str(tmp_path / "cfg"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "creds"),
        "HOME": str(tmp_path)})
    for k, v in (("multipart_threshold", "5MB"),
                 ("multipart_chunksize", "5MB")):
        subprocess.run([AWS, "configure", "set", "default.s3." + k, v],
                       env=env, check=True, timeout=60)
    data = os.urandom(12 * MiB + 3)
    s3.put_object(Bucket=SRC, Key="cli/big", Body=data,
                  ContentType="application/x-cli")
    before = len(server.audit_records())
    p = subprocess.run([AWS, "--endpoint-url", server.url, "s3", "cp",
                        "s3://%s/cli/big" % SRC, "s3://%s/cli/big" % DST],
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, (p.stdout, p.stderr)
    got = s3.get_object(Bucket=DST, Key="cli/big")
    assert got["Body"].read() == data
    assert got["ETag"].endswith('-3"')     # 5 + 5 + 2 MiB, copied
    # Server-side: part copies (object:get of the source each), no
    # part bytes through the client.
    new = server.audit_records()[before:]
    gets = [x for x in new if x.get("action") == "object:get" and
            x.get("resource") == "ns/%s/obj/cli/big" % SRC]
    assert len(gets) == 3 and all(x["decision"] == "allow" for x in gets)


def test_get_object_tagging_is_empty_and_decided(server, s3):
    # awscli's multipart `cp` between buckets reads the source's tags
    # first; Coffer objects have none (PutObjectTagging is refused).
    v = s3.put_object(Bucket=SRC, Key="tags", Body=b"t")["VersionId"]
    r = s3.get_object_tagging(Bucket=SRC, Key="tags")
    assert r["TagSet"] == []
    assert r["VersionId"] == v
    rid = r["ResponseMetadata"]["RequestId"]
    assert [(x["action"], x["decision"]) for x in recs_of(server, rid)] \
        == [("object:head", "allow")]
    with pytest.raises(ClientError) as e:
        s3.get_object_tagging(Bucket=SRC, Key="no-such-key")
    assert code_of(e) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=SRC, Key="tags", Tagging={
            "TagSet": [{"Key": "a", "Value": "b"}]})
    assert code_of(e) == "NotImplemented"

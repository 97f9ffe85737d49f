"""S3 operations on many keys and versions (docs/s3.md): DeleteObjects
(boto3, and hand-signed with Content-MD5, x-amz-checksum-*, or neither;
each key decided and recorded as object:delete), ListObjectVersions
(versions and delete markers) and CopyObject (both sides decided,
server-side, metadata directive)."""

import base64
import hashlib
import os
import zlib

import pytest
import requests

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from conftest import s3_client  # noqa: E402

from test_s3_chunked import Signer  # noqa: E402

BUCKET = "s3-ops"


def mk(server, key):
    return s3_client(server, key)


def versioned(c, bucket):
    """A bucket made through S3 starts unversioned (null version ids);
    these tests read real version ids, so theirs are versioned."""
    c.create_bucket(Bucket=bucket)
    c.put_bucket_versioning(Bucket=bucket,
                            VersioningConfiguration={"Status": "Enabled"})


@pytest.fixture(scope="module")
def s3(server, key):
    c = mk(server, key)
    versioned(c, BUCKET)
    return c


@pytest.fixture(scope="module")
def signer(server, key):
    return Signer(server, key)


def code_of(exc):
    return exc.value.response["Error"]["Code"]


def keys(s3, prefix):
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for o in r.get("Contents", []))


def delete_body(names, quiet=False):
    objs = "".join("<Object><Key>%s</Key></Object>" % n for n in names)
    q = "<Quiet>true</Quiet>" if quiet else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><Delete xmlns='
            '"http://s3.amazonaws.com/doc/2006-03-01/">%s%s</Delete>'
            % (q, objs)).encode()


def post_delete(server, signer, body, headers=None, payload=None,
                bucket=BUCKET):
    path = "/%s" % bucket
    h = dict(headers or {})
    signer.sign("POST", path, h, payload or
                hashlib.sha256(body).hexdigest(), query="delete=")
    return requests.post(server.url + path + "?delete", headers=h,
                         data=body, verify=server.ca, timeout=60)


# ---- DeleteObjects ----

def test_delete_objects_boto3_with_content_md5(server, s3):
    for i in range(5):
        s3.put_object(Bucket=BUCKET, Key="dm/%d" % i, Body=b"x%d" % i)
    r = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [
        {"Key": "dm/0"}, {"Key": "dm/1"}, {"Key": "dm/missing"}]})
    got = sorted(d["Key"] for d in r["Deleted"])
    # A missing key is reported as deleted, as S3 does.
    assert got == ["dm/0", "dm/1", "dm/missing"]
    assert not r.get("Errors")
    assert [d for d in r["Deleted"] if d["Key"] == "dm/0"][0][
        "DeleteMarker"] is True
    assert keys(s3, "dm/") == ["dm/2", "dm/3", "dm/4"]
    rid = r["ResponseMetadata"]["RequestId"]
    recs = [x for x in server.audit_records()
            if x.get("request_id") == rid]
    acts = sorted(x["resource"] for x in recs
                  if x.get("action") == "object:delete")
    assert acts == ["ns/s3-ops/obj/dm/0", "ns/s3-ops/obj/dm/1",
                    "ns/s3-ops/obj/dm/missing"]
    assert all(x["decision"] == "allow" for x in recs)


def test_delete_objects_quiet(server, s3):
    s3.put_object(Bucket=BUCKET, Key="dq/a", Body=b"a")
    r = s3.delete_objects(Bucket=BUCKET, Delete={
        "Objects": [{"Key": "dq/a"}], "Quiet": True})
    assert not r.get("Deleted") and not r.get("Errors")
    assert keys(s3, "dq/") == []


@pytest.mark.parametrize("how", ["crc32", "neither", "unsigned-md5"])
def test_delete_objects_modern_and_bare_forms(server, s3, signer, how):
    names = ["df-%s/%d" % (how, i) for i in range(3)]
    for n in names:
        s3.put_object(Bucket=BUCKET, Key=n, Body=b"v")
    body = delete_body(names)
    h, payload = {}, None
    if how == "crc32":
        # Current boto3: no Content-MD5, only a CRC32.
        h["x-amz-sdk-checksum-algorithm"] = "CRC32"
        h["x-amz-checksum-crc32"] = base64.b64encode(
            zlib.crc32(body).to_bytes(4, "big")).decode()
    elif how == "unsigned-md5":
        h["Content-MD5"] = base64.b64encode(
            hashlib.md5(body).digest()).decode()
        payload = "UNSIGNED-PAYLOAD"
    r = post_delete(server, signer, body, h, payload)
    assert r.status_code == 200, r.text
    assert r.text.count("<Deleted>") == 3
    assert keys(s3, "df-%s/" % how) == []


@pytest.mark.parametrize("how", ["md5", "crc32", "sha256"])
def test_delete_objects_bad_digest_deletes_nothing(server, s3, signer, how):
    names = ["dbad-%s/a" % how, "dbad-%s/b" % how]
    for n in names:
        s3.put_object(Bucket=BUCKET, Key=n, Body=b"v")
    body = delete_body(names)
    other = delete_body(names[:1])
    h, payload = {}, None
    if how == "md5":
        h["Content-MD5"] = base64.b64encode(
            hashlib.md5(other).digest()).decode()
    elif how == "crc32":
        h["x-amz-checksum-crc32"] = base64.b64encode(
            zlib.crc32(other).to_bytes(4, "big")).decode()
    else:
        payload = hashlib.sha256(other).hexdigest()
    r = post_delete(server, signer, body, h, payload)
    assert r.status_code == 400, r.text
    assert ("<Code>BadDigest</Code>" in r.text or
            "<Code>XAmzContentSHA256Mismatch</Code>" in r.text)
    assert keys(s3, "dbad-%s/" % how) == names


def test_delete_objects_all_denied_is_access_denied(server, s3):
    s3.put_object(Bucket=BUCKET, Key="dp/a", Body=b"a")
    server.principal("s3del-rdr")
    server.grant("s3del-rdr", "reader", BUCKET)
    r = server.post("/v1/s3-keys", {"principal": "s3del-rdr"},
                    token="admin")
    assert r.status_code == 201, r.text
    rc = mk(server, r.json())
    with pytest.raises(ClientError) as e:
        rc.delete_objects(Bucket=BUCKET, Delete={"Objects": [
            {"Key": "dp/a"}, {"Key": "dp/b"}]})
    assert code_of(e) == "AccessDenied"
    assert keys(s3, "dp/") == ["dp/a"]
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    recs = [x for x in server.audit_records()
            if x.get("request_id") == rid and
            x.get("action") == "object:delete"]
    # Each key decided and recorded on its own.
    assert sorted(x["resource"] for x in recs) == [
        "ns/s3-ops/obj/dp/a", "ns/s3-ops/obj/dp/b"]
    assert all(x["decision"] == "deny" and
               x["principal"] == "s3del-rdr" for x in recs)


def test_delete_objects_per_key_errors(server, s3):
    s3.put_object(Bucket=BUCKET, Key="dv/a", Body=b"a")
    s3.put_object(Bucket=BUCKET, Key="dv/b", Body=b"b")
    vid = s3.head_object(Bucket=BUCKET, Key="dv/b")["VersionId"]
    server.principal("s3dv-rdr")
    server.grant("s3dv-rdr", "reader", BUCKET)
    r = server.post("/v1/s3-keys", {"principal": "s3dv-rdr"}, token="admin")
    assert r.status_code == 201, r.text
    with pytest.raises(ClientError) as e:
        mk(server, r.json()).delete_objects(Bucket=BUCKET, Delete={
            "Objects": [{"Key": "dv/b", "VersionId": vid}]})
    assert code_of(e) == "AccessDenied"
    out = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [
        {"Key": "dv/a"}, {"Key": "dv/b", "VersionId": vid}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["dv/a", "dv/b"]
    assert not out.get("Errors")
    # The version left S3's view; it is never removed through S3.
    assert keys(s3, "dv/") == []
    assert len(server.versions(BUCKET, "dv/b")) == 2


def test_delete_objects_no_such_bucket(server, s3):
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket="s3-ops-none", Delete={"Objects": [
            {"Key": "a"}]})
    assert code_of(e) == "NoSuchBucket"


@pytest.mark.parametrize("body", [
    b"<Delete><Object><Key>a</Key></Object>",
    b"<Nope/>",
    b"<Delete></Delete>",
    b'<!DOCTYPE d [<!ENTITY x "y">]><Delete><Object><Key>&x;</Key>'
    b"</Object></Delete>",
])
def test_delete_objects_garbled_xml(server, s3, signer, body):
    r = post_delete(server, signer, body)
    assert r.status_code == 400, r.text
    assert "<Code>MalformedXML</Code>" in r.text


def test_delete_objects_over_1000_keys(server, s3, signer):
    body = delete_body(["k%d" % i for i in range(1001)])
    r = post_delete(server, signer, body)
    assert r.status_code == 400, r.text
    assert "<Code>MalformedXML</Code>" in r.text


def test_delete_objects_1000_long_keys(server, s3):
    # 1000 keys of 200 bytes: a body well above max_json_body.
    names = ["dl/%04d-%s" % (i, "k" * 192) for i in range(1000)]
    s3.put_object(Bucket=BUCKET, Key=names[7], Body=b"x")
    r = s3.delete_objects(Bucket=BUCKET, Delete={
        "Objects": [{"Key": n} for n in names], "Quiet": True})
    assert not r.get("Errors")
    assert keys(s3, "dl/") == []


def test_complete_body_checked_against_its_signed_digest(server, s3, signer):
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="cm/k")["UploadId"]
    etag = s3.upload_part(Bucket=BUCKET, Key="cm/k", UploadId=up,
                          PartNumber=1, Body=b"part")["ETag"]
    body = ("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
            "<ETag>%s</ETag></Part></CompleteMultipartUpload>" % etag
            ).encode()
    path = "/%s/cm/k" % BUCKET
    h = {}
    # Signed for another body: a body swapped under a valid signature.
    signer.sign("POST", path, h, hashlib.sha256(b"other").hexdigest(),
                query="uploadId=%s" % up)
    r = requests.post(server.url + path + "?uploadId=" + up, headers=h,
                      data=body, verify=server.ca, timeout=60)
    assert r.status_code == 400, r.text
    assert "<Code>XAmzContentSHA256Mismatch</Code>" in r.text
    assert keys(s3, "cm/") == []
    h = {}
    signer.sign("POST", path, h, hashlib.sha256(body).hexdigest(),
                query="uploadId=%s" % up)
    r = requests.post(server.url + path + "?uploadId=" + up, headers=h,
                      data=body, verify=server.ca, timeout=60)
    assert r.status_code == 200, r.text
    assert keys(s3, "cm/") == ["cm/k"]


# ---- ListObjectVersions ----

def test_list_object_versions_with_delete_markers(server, s3):
    ids = []
    for body in (b"one", b"two"):
        ids.append(s3.put_object(Bucket=BUCKET, Key="lv/a",
                                 Body=body)["VersionId"])
    s3.put_object(Bucket=BUCKET, Key="lv/b", Body=b"b")
    s3.put_object(Bucket=BUCKET, Key="lv/d/x", Body=b"x")
    dm = s3.delete_object(Bucket=BUCKET, Key="lv/b")["VersionId"]
    r = s3.list_object_versions(Bucket=BUCKET, Prefix="lv/")
    vers = [(v["Key"], v["VersionId"], v["IsLatest"])
            for v in r["Versions"]]
    assert vers[:2] == [("lv/a", ids[1], True), ("lv/a", ids[0], False)]
    assert ("lv/b", True) not in [(k, l) for k, _, l in vers]
    assert [v["Key"] for v in r["Versions"]] == [
        "lv/a", "lv/a", "lv/b", "lv/d/x"]
    assert r["Versions"][0]["ETag"] == '"%s"' % hashlib.md5(
        b"two").hexdigest()
    assert r["Versions"][0]["Size"] == 3
    assert [(m["Key"], m["VersionId"], m["IsLatest"])
            for m in r["DeleteMarkers"]] == [("lv/b", dm, True)]
    assert r["IsTruncated"] is False
    # With a delimiter: lv/d/ is one common prefix.
    r = s3.list_object_versions(Bucket=BUCKET, Prefix="lv/",
                                Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["lv/d/"]
    assert "lv/d/x" not in [v["Key"] for v in r["Versions"]]


def test_list_object_versions_pages(server, s3):
    want = []
    for k in ("pg/a", "pg/b"):
        for i in range(3):
            v = s3.put_object(Bucket=BUCKET, Key=k, Body=b"%d" % i)
            want.insert(len(want) - i, (k, v["VersionId"]))
    s3.put_object(Bucket=BUCKET, Key="pg/c/d", Body=b"z")
    for size in (1, 2, 4):
        got, prefixes, kw = [], [], {}
        for _ in range(20):
            r = s3.list_object_versions(Bucket=BUCKET, Prefix="pg/",
                                        Delimiter="/", MaxKeys=size, **kw)
            got += [(v["Key"], v["VersionId"])
                    for v in r.get("Versions", [])]
            prefixes += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
            if not r["IsTruncated"]:
                break
            kw = {"KeyMarker": r["NextKeyMarker"]}
            if r.get("NextVersionIdMarker"):
                kw["VersionIdMarker"] = r["NextVersionIdMarker"]
        assert got == want, size
        assert prefixes == ["pg/c/"], size


def test_list_object_versions_bad_marker_and_reader(server, s3):
    s3.put_object(Bucket=BUCKET, Key="bm/a", Body=b"a")
    with pytest.raises(ClientError) as e:
        s3.list_object_versions(Bucket=BUCKET, KeyMarker="bm/a",
                                VersionIdMarker="0" * 32)
    assert code_of(e) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        s3.list_object_versions(Bucket="s3-ops-none")
    assert code_of(e) == "NoSuchBucket"


# ---- CopyObject ----

def blob_count(server):
    n = 0
    for root, _, files in os.walk(os.path.join(server.data, "blobs")):
        n += len(files)
    return n


def test_copy_object_server_side_both_sides_decided(server, s3):
    data = os.urandom(300 * 1024)
    src = s3.put_object(Bucket=BUCKET, Key="cp/src", Body=data,
                        ContentType="application/x-src",
                        Metadata={"a": "1"})
    versioned(s3, "s3-ops-dst")
    before = blob_count(server)
    assert before > 0
    r = s3.copy_object(Bucket="s3-ops-dst", Key="c/dst",
                       CopySource={"Bucket": BUCKET, "Key": "cp/src"})
    assert r["CopyObjectResult"]["ETag"] == src["ETag"]
    assert r["CopySourceVersionId"] == src["VersionId"]
    assert r["VersionId"] and r["VersionId"] != src["VersionId"]
    # Server-side and without a second copy of the ciphertext.
    assert blob_count(server) == before
    got = s3.get_object(Bucket="s3-ops-dst", Key="c/dst")
    assert got["Body"].read() == data
    assert got["ContentType"] == "application/x-src"
    assert got["Metadata"] == {"a": "1"}
    rid = r["ResponseMetadata"]["RequestId"]
    recs = [x for x in server.audit_records() if x.get("request_id") == rid]
    assert sorted((x["action"], x["resource"], x["decision"])
                  for x in recs) == [
        ("object:get", "ns/s3-ops/obj/cp/src", "allow"),
        ("object:put", "ns/s3-ops-dst/obj/c/dst", "allow")]


def test_copy_object_replace_metadata_and_version(server, s3):
    v1 = s3.put_object(Bucket=BUCKET, Key="cp/v", Body=b"first")
    s3.put_object(Bucket=BUCKET, Key="cp/v", Body=b"second")
    r = s3.copy_object(Bucket=BUCKET, Key="cp/v-old",
                       CopySource={"Bucket": BUCKET, "Key": "cp/v",
                                   "VersionId": v1["VersionId"]},
                       MetadataDirective="REPLACE",
                       ContentType="text/plain", Metadata={"b": "2"})
    assert r["CopySourceVersionId"] == v1["VersionId"]
    got = s3.get_object(Bucket=BUCKET, Key="cp/v-old")
    assert got["Body"].read() == b"first"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"b": "2"}
    # Onto itself with REPLACE: a new version with new metadata.
    s3.copy_object(Bucket=BUCKET, Key="cp/v", CopySource="%s/cp/v" % BUCKET,
                   MetadataDirective="REPLACE", Metadata={"c": "3"})
    got = s3.get_object(Bucket=BUCKET, Key="cp/v")
    assert got["Body"].read() == b"second"
    assert got["Metadata"] == {"c": "3"}
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=BUCKET, Key="cp/v",
                       CopySource="%s/cp/v" % BUCKET)
    assert code_of(e) == "InvalidRequest"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=BUCKET, Key="cp/x",
                       CopySource="%s/cp/missing" % BUCKET)
    assert code_of(e) == "NoSuchKey"


def test_copy_object_source_or_target_denied(server, s3):
    s3.create_bucket(Bucket="s3-ops-priv")
    s3.put_object(Bucket="s3-ops-priv", Key="secret", Body=b"secret")
    s3.create_bucket(Bucket="s3-ops-ro")
    s3.put_object(Bucket="s3-ops-ro", Key="pub", Body=b"pub")
    server.principal("s3cp")
    server.grant("s3cp", "writer", BUCKET)
    server.grant("s3cp", "reader", "s3-ops-ro")
    r = server.post("/v1/s3-keys", {"principal": "s3cp"}, token="admin")
    assert r.status_code == 201, r.text
    w = mk(server, r.json())
    # No read on the source: refused, nothing written.
    with pytest.raises(ClientError) as e:
        w.copy_object(Bucket=BUCKET, Key="cpd/stolen",
                      CopySource={"Bucket": "s3-ops-priv", "Key": "secret"})
    assert code_of(e) == "AccessDenied"
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    recs = [x for x in server.audit_records() if x.get("request_id") == rid]
    assert [(x["action"], x["decision"]) for x in recs] == [
        ("object:get", "deny")]
    # Read on the source but no put on the target: refused too.
    with pytest.raises(ClientError) as e:
        w.copy_object(Bucket="s3-ops-ro", Key="evil",
                      CopySource={"Bucket": BUCKET, "Key": "cp/src"})
    assert code_of(e) == "AccessDenied"
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    recs = [x for x in server.audit_records() if x.get("request_id") == rid]
    assert sorted((x["action"], x["decision"]) for x in recs) == [
        ("object:get", "allow"), ("object:put", "deny")]
    assert keys(s3, "cpd/") == []
    assert [o["Key"] for o in s3.list_objects_v2(
        Bucket="s3-ops-ro")["Contents"]] == ["pub"]


def test_copy_outlives_its_source_bucket(server, s3):
    s3.create_bucket(Bucket="s3-ops-gone")
    data = os.urandom(70 * 1024)
    s3.put_object(Bucket="s3-ops-gone", Key="f", Body=data)
    s3.copy_object(Bucket=BUCKET, Key="cpg/f",
                   CopySource={"Bucket": "s3-ops-gone", "Key": "f"})
    s3.delete_object(Bucket="s3-ops-gone", Key="f")
    s3.delete_bucket(Bucket="s3-ops-gone")
    # The shared blob is still referenced: the copy reads back.
    got = s3.get_object(Bucket=BUCKET, Key="cpg/f")["Body"].read()
    assert got == data


# ---- versioning ----

def test_bucket_versioning_served(server, s3):
    # The state and the null version: tests/e2e/test_s3_versioning.py.
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"

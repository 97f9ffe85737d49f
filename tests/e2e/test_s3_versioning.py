"""S3 bucket versioning (docs/s3.md, "Versioning"): Get/PutBucketVersioning
with S3's semantics as boto3 and awscli see them (a bucket made through
S3 starts unversioned, null version ids, Enabled and Suspended as on
AWS, never back to unversioned), while underneath every version stays:
the REST API lists all of them and the audit log records every change
of state."""

import hashlib
import json
import os
import subprocess

import pytest
import requests

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from conftest import s3_client  # noqa: E402

from test_s3_chunked import Signer  # noqa: E402

AWS = "/usr/bin/aws" if os.access("/usr/bin/aws", os.X_OK) else None
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def mk(server, key):
    return s3_client(server, key)


@pytest.fixture(scope="module")
def s3(server, key):
    return mk(server, key)


def code_of(exc):
    return exc.value.response["Error"]["Code"]


def rest_versions(server, ns, k):
    return server.versions(ns, k)


def s3_versions(s3, bucket, prefix=""):
    r = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    vers = [(v["Key"], v["VersionId"], v["IsLatest"])
            for v in r.get("Versions", [])]
    dms = [(m["Key"], m["VersionId"], m["IsLatest"])
           for m in r.get("DeleteMarkers", [])]
    return vers, dms


def records(server, rid):
    return [x for x in server.audit_records() if x.get("request_id") == rid]


def put_versioning(server, key, bucket, body):
    signer = Signer(server, key)
    path = "/%s" % bucket
    h = {}
    signer.sign("PUT", path, h, hashlib.sha256(body).hexdigest(),
                query="versioning=")
    return requests.put(server.url + path + "?versioning", headers=h,
                        data=body, verify=server.ca, timeout=60)


# ---- a bucket made through S3 starts unversioned ----

def test_fresh_bucket_is_unversioned_with_null_versions(server, s3):
    s3.create_bucket(Bucket="v-fresh")
    r = s3.get_bucket_versioning(Bucket="v-fresh")
    assert "Status" not in r and "MFADelete" not in r
    p = s3.put_object(Bucket="v-fresh", Key="k", Body=b"one")
    assert "VersionId" not in p
    s3.put_object(Bucket="v-fresh", Key="k", Body=b"two")
    # S3's view: one null version, the newest.
    vers, dms = s3_versions(s3, "v-fresh")
    assert vers == [("k", "null", True)] and dms == []
    got = s3.get_object(Bucket="v-fresh", Key="k", VersionId="null")
    assert got["Body"].read() == b"two"
    h = s3.head_object(Bucket="v-fresh", Key="k", VersionId="null")
    assert h["ContentLength"] == 3
    assert s3.get_object(Bucket="v-fresh", Key="k")["Body"].read() == b"two"
    # History: the REST API still lists both, the first out of S3's view.
    rv = rest_versions(server, "v-fresh", "k")
    assert len(rv) == 2
    assert [v["s3_null"] for v in rv] == [1, 1]
    assert [v["s3_hidden"] for v in rv] == [False, True]
    old = server.req("GET", "/v1/ns/v-fresh/objects/k?version=%s"
                     % rv[1]["version_id"])
    assert old.status_code == 200 and old.content == b"one"
    # A namespace made by REST reports Enabled (its ids are real).
    server.mkns("v-rest")
    assert s3.get_bucket_versioning(Bucket="v-rest")["Status"] == "Enabled"
    p = s3.put_object(Bucket="v-rest", Key="k", Body=b"r")
    assert len(p["VersionId"]) == 32


def test_delete_in_unversioned_bucket_is_a_null_marker(server, s3):
    s3.create_bucket(Bucket="v-del")
    s3.put_object(Bucket="v-del", Key="k", Body=b"a")
    d = s3.delete_object(Bucket="v-del", Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    vers, dms = s3_versions(s3, "v-del")
    # The marker is the null version now: it replaced the object's.
    assert vers == [] and dms == [("k", "null", True)]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="v-del", Key="k")
    assert code_of(e) == "NoSuchKey"
    # Underneath: the object's version and the marker, both kept.
    rv = rest_versions(server, "v-del", "k")
    assert [v["delete_marker"] for v in rv] == [True, False]


def test_delete_version_null_leaves_view_not_history(server, s3):
    s3.create_bucket(Bucket="v-dnull")
    s3.put_object(Bucket="v-dnull", Key="k", Body=b"a")
    d = s3.delete_object(Bucket="v-dnull", Key="k", VersionId="null")
    assert d["VersionId"] == "null"
    assert "DeleteMarker" not in d
    assert s3_versions(s3, "v-dnull") == ([], [])
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="v-dnull", Key="k")
    assert code_of(e) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="v-dnull", Key="k", VersionId="null")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert s3.list_objects_v2(Bucket="v-dnull").get("Contents") is None
    # Again: nothing there any more, answered as done (as S3 does).
    s3.delete_object(Bucket="v-dnull", Key="k", VersionId="null")
    # The REST view: the version and a marker, nothing destroyed.
    rv = rest_versions(server, "v-dnull", "k")
    assert [v["delete_marker"] for v in rv] == [True, False]
    assert all(v["s3_hidden"] for v in rv)
    first = server.req("GET", "/v1/ns/v-dnull/objects/k?version=%s"
                       % rv[1]["version_id"])
    assert first.status_code == 200 and first.content == b"a"
    # DeleteObjects with VersionId null: the same, per key.
    s3.put_object(Bucket="v-dnull", Key="m", Body=b"m")
    r = s3.delete_objects(Bucket="v-dnull", Delete={"Objects": [
        {"Key": "m", "VersionId": "null"}]})
    assert [(x["Key"], x["VersionId"]) for x in r["Deleted"]] == [
        ("m", "null")]
    assert s3_versions(s3, "v-dnull") == ([], [])
    assert len(rest_versions(server, "v-dnull", "m")) == 2


# ---- Enabled and Suspended ----

def test_enable_then_suspend_as_on_aws(server, s3):
    b = "v-states"
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"n0")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={
        "Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"v1")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"v2")["VersionId"]
    assert len({v1, v2}) == 2 and "null" not in (v1, v2)
    vers, _ = s3_versions(s3, b)
    assert vers == [("k", v2, True), ("k", v1, False), ("k", "null", False)]
    got = s3.get_object(Bucket=b, Key="k", VersionId="null")
    # Versioned now: S3 names the null version "null" in its answers.
    assert got["VersionId"] == "null" and got["Body"].read() == b"n0"
    # Suspended: new puts are the null version, replacing the old null
    # one in S3's view; the real versions stay listed.
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={
        "Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Suspended"
    p = s3.put_object(Bucket=b, Key="k", Body=b"s1")
    assert p["VersionId"] == "null"
    s3.put_object(Bucket=b, Key="k", Body=b"s2")
    vers, _ = s3_versions(s3, b)
    assert vers == [("k", "null", True), ("k", v2, False), ("k", v1, False)]
    assert s3.get_object(Bucket=b, Key="k", VersionId="null")[
        "Body"].read() == b"s2"
    got = s3.get_object(Bucket=b, Key="k")
    assert got["VersionId"] == "null" and got["Body"].read() == b"s2"
    # A delete while suspended: a null delete marker.
    d = s3.delete_object(Bucket=b, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    vers, dms = s3_versions(s3, b)
    assert dms == [("k", "null", True)]
    assert vers == [("k", v2, False), ("k", v1, False)]
    # Enabled again: a delete marker with a real id.
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={
        "Status": "Enabled"})
    s3.put_object(Bucket=b, Key="j", Body=b"j")
    d = s3.delete_object(Bucket=b, Key="j")
    assert d["DeleteMarker"] is True and len(d["VersionId"]) == 32
    # History: every version ever written, six of k, through REST.
    assert len(rest_versions(server, b, "k")) == 6


def test_list_versions_pages_through_null_versions(server, s3):
    b = "v-pages"
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="a", Body=b"0")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={
        "Status": "Enabled"})
    ids = [s3.put_object(Bucket=b, Key="a", Body=b"%d" % i)["VersionId"]
           for i in (1, 2)]
    s3.put_object(Bucket=b, Key="b", Body=b"b")
    want = [("a", ids[1]), ("a", ids[0]), ("a", "null")]
    got, kw = [], {}
    for _ in range(10):
        r = s3.list_object_versions(Bucket=b, MaxKeys=1, **kw)
        got += [(v["Key"], v["VersionId"]) for v in r.get("Versions", [])]
        if not r["IsTruncated"]:
            break
        kw = {"KeyMarker": r["NextKeyMarker"],
              "VersionIdMarker": r["NextVersionIdMarker"]}
    assert got[:3] == want and got[3][0] == "b"


def test_awscli_versioning(server, key, tmp_path):
    if AWS is None:
        pytest.skip("awscli not installed (scripts/deps.sh installs it)")
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": key["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": key["secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CA_BUNDLE": server.ca,
        "AWS_CONFIG_FILE": str(tmp_path / "cfg"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "creds"),
        "HOME": str(tmp_path)})

    def api(*args):
        p = subprocess.run([AWS, "--endpoint-url", server.url, "--output",
                            "json", "s3api"] + list(args), env=env,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else {}

    api("create-bucket", "--bucket", "v-cli")
    assert "Status" not in api("get-bucket-versioning", "--bucket", "v-cli")
    src = tmp_path / "f"
    src.write_bytes(b"cli")
    out = api("put-object", "--bucket", "v-cli", "--key", "f", "--body",
              str(src))
    assert "VersionId" not in out
    api("put-bucket-versioning", "--bucket", "v-cli",
        "--versioning-configuration", "Status=Enabled")
    assert api("get-bucket-versioning", "--bucket", "v-cli")[
        "Status"] == "Enabled"
    out = api("put-object", "--bucket", "v-cli", "--key", "f", "--body",
              str(src))
    assert len(out["VersionId"]) == 32
    lv = api("list-object-versions", "--bucket", "v-cli")
    assert [v["VersionId"] for v in lv["Versions"]] == [
        out["VersionId"], "null"]
    api("delete-object", "--bucket", "v-cli", "--key", "f", "--version-id",
        "null")
    lv = api("list-object-versions", "--bucket", "v-cli")
    assert [v["VersionId"] for v in lv["Versions"]] == [out["VersionId"]]
    # Underneath, both versions are Coffer's still.
    assert len(rest_versions(server, "v-cli", "f")) == 2


# ---- who may, and bad input ----

def test_reader_denied_put_bucket_versioning(server, s3):
    s3.create_bucket(Bucket="v-ro")
    server.principal("v-reader")
    server.grant("v-reader", "reader", "v-ro")
    r = server.post("/v1/s3-keys", {"principal": "v-reader"}, token="admin")
    assert r.status_code == 201, r.text
    rd = mk(server, r.json())
    # A reader reads the state ...
    assert "Status" not in rd.get_bucket_versioning(Bucket="v-ro")
    # ... and may not change it.
    with pytest.raises(ClientError) as e:
        rd.put_bucket_versioning(Bucket="v-ro", VersioningConfiguration={
            "Status": "Enabled"})
    assert code_of(e) == "AccessDenied"
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    recs = records(server, rid)
    assert [(x["action"], x["decision"], x["principal"]) for x in recs] == [
        ("ns:set-versioning", "deny", "v-reader")]
    assert "Status" not in s3.get_bucket_versioning(Bucket="v-ro")
    # The admin's change is recorded as an allowed ns:set-versioning.
    ok = s3.put_bucket_versioning(Bucket="v-ro", VersioningConfiguration={
        "Status": "Suspended"})
    recs = records(server, ok["ResponseMetadata"]["RequestId"])
    assert [(x["action"], x["decision"], x["resource"]) for x in recs] == [
        ("ns:set-versioning", "allow", "ns/v-ro")]


@pytest.mark.parametrize("body,code", [
    (b"<VersioningConfiguration", "MalformedXML"),
    (b"<Other><Status>Enabled</Status></Other>", "MalformedXML"),
    (b"<VersioningConfiguration " + NS.encode() +
     b"><Status>Enabled</Status><Status>Enabled</Status>"
     b"</VersioningConfiguration>", "MalformedXML"),
    (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]>'
     b"<VersioningConfiguration><Status>&x;</Status>"
     b"</VersioningConfiguration>", "MalformedXML"),
    (b"<VersioningConfiguration " + NS.encode() +
     b"><Status>On</Status></VersioningConfiguration>",
     "IllegalVersioningConfigurationException"),
    (b"<VersioningConfiguration " + NS.encode() +
     b"><Status>Unversioned</Status></VersioningConfiguration>",
     "IllegalVersioningConfigurationException"),
    (b"<VersioningConfiguration " + NS.encode() +
     b"></VersioningConfiguration>",
     "IllegalVersioningConfigurationException"),
])
def test_bad_versioning_bodies_refused_and_recorded(server, key, s3, body,
                                                    code):
    s3.create_bucket(Bucket="v-bad") if "v-bad" not in [
        x["Name"] for x in s3.list_buckets()["Buckets"]] else None
    r = put_versioning(server, key, "v-bad", body)
    assert r.status_code == 400, r.text
    assert "<Code>%s</Code>" % code in r.text
    recs = records(server, r.headers["x-amz-request-id"])
    assert [(x["action"], x["decision"]) for x in recs] == [
        ("ns:set-versioning", "deny")]
    assert "Status" not in s3.get_bucket_versioning(Bucket="v-bad")


def test_mfa_delete_refused_clearly(server, key, s3):
    s3.create_bucket(Bucket="v-mfa")
    body = ("<VersioningConfiguration %s><Status>Enabled</Status>"
            "<MfaDelete>Enabled</MfaDelete></VersioningConfiguration>"
            % NS).encode()
    r = put_versioning(server, key, "v-mfa", body)
    assert r.status_code == 501, r.text
    assert "<Code>NotImplemented</Code>" in r.text
    assert "MfaDelete" in r.text
    recs = records(server, r.headers["x-amz-request-id"])
    assert [(x["action"], x["decision"]) for x in recs] == [
        ("ns:set-versioning", "deny")]
    assert "Status" not in s3.get_bucket_versioning(Bucket="v-mfa")
    # MfaDelete Disabled is what S3 has anyway: accepted.
    body = ("<VersioningConfiguration %s><Status>Enabled</Status>"
            "<MfaDelete>Disabled</MfaDelete></VersioningConfiguration>"
            % NS).encode()
    r = put_versioning(server, key, "v-mfa", body)
    assert r.status_code == 200, r.text
    assert s3.get_bucket_versioning(Bucket="v-mfa")["Status"] == "Enabled"


def test_real_version_leaves_view_history_stays(server, s3):
    s3.create_bucket(Bucket="v-keep")
    s3.put_bucket_versioning(Bucket="v-keep", VersioningConfiguration={
        "Status": "Enabled"})
    v1 = s3.put_object(Bucket="v-keep", Key="k", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket="v-keep", Key="k", Body=b"2")["VersionId"]
    # An old version: out of S3's view, the current one untouched.
    d = s3.delete_object(Bucket="v-keep", Key="k", VersionId=v1)
    assert d["VersionId"] == v1 and "DeleteMarker" not in d
    assert s3_versions(s3, "v-keep") == ([("k", v2, True)], [])
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="v-keep", Key="k", VersionId=v1)
    assert code_of(e) == "NoSuchVersion"
    assert s3.get_object(Bucket="v-keep", Key="k")["Body"].read() == b"2"
    # The current one: the key reads as deleted, no version resurrected.
    s3.delete_object(Bucket="v-keep", Key="k", VersionId=v2)
    assert s3_versions(s3, "v-keep") == ([], [])
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="v-keep", Key="k")
    assert code_of(e) == "NoSuchKey"
    # Again, or a version that never was: done, as S3 answers.
    s3.delete_object(Bucket="v-keep", Key="k", VersionId=v2)
    s3.delete_object(Bucket="v-keep", Key="k", VersionId="0" * 32)
    # History: both versions (and the marker) through REST, readable.
    rv = rest_versions(server, "v-keep", "k")
    assert [v["version_id"] for v in rv if not v["delete_marker"]] == [
        v2, v1]
    r = server.req("GET", "/v1/ns/v-keep/objects/k?version=%s" % v1)
    assert r.status_code == 200 and r.content == b"1"


RCLONE = "/usr/bin/rclone" if os.access("/usr/bin/rclone", os.X_OK) else None


def rclone_cfg(server, key, tmp_path):
    cfg = tmp_path / "rclone.conf"
    cfg.write_text(
        "[coffer]\ntype = s3\nprovider = Other\n"
        "access_key_id = %s\nsecret_access_key = %s\n"
        "endpoint = %s\nregion = us-east-1\nforce_path_style = true\n"
        % (key["access_key_id"], key["secret_access_key"], server.url))
    # rclone 1.60 cannot combine --ca-cert with AWS_CA_BUNDLE.
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}

    def rclone(*args):
        return subprocess.run(
            [RCLONE, "--config", str(cfg), "--ca-cert", server.ca,
             "--retries", "1", "--low-level-retries", "1"] + list(args),
            env=env, capture_output=True, text=True, timeout=120)
    return rclone


@pytest.mark.skipif(RCLONE is None, reason="rclone not installed "
                    "(scripts/deps.sh)")
def test_rclone_on_rest_namespace_keeps_history(server, key, tmp_path):
    # A namespace made by REST reports Enabled: rclone sees versions
    # and deletes them by id; each only leaves S3's view.
    rclone = rclone_cfg(server, key, tmp_path)
    server.mkns("v-rc")
    for body in (b"1", b"2"):
        assert server.put_obj("v-rc", "d/k", body).status_code == 201
    assert server.put_obj("v-rc", "d/j", b"j").status_code == 201
    p = rclone("delete", "coffer:v-rc/d")
    assert p.returncode == 0, p.stderr
    assert rclone("ls", "coffer:v-rc").stdout.strip() == ""
    assert len(rest_versions(server, "v-rc", "d/k")) == 3
    # A legal hold: rclone purge fails, and nothing is erased.
    assert server.put_obj("v-rc", "h/k", b"held").status_code == 201
    r = server.post("/v1/holds", {"ns": "v-rc", "key": "h",
                                  "reason": "audit"})
    assert r.status_code in (200, 201), r.text
    p = rclone("purge", "coffer:v-rc")
    assert p.returncode != 0
    assert "v-rc" in rclone("lsd", "coffer:").stdout
    got = server.req("GET", "/v1/ns/v-rc/objects/h/k")
    assert got.status_code == 200 and got.content == b"held"
    assert len(rest_versions(server, "v-rc", "d/k")) == 3
    # Without the hold, rclone purge goes through (ending with
    # DeleteBucket, ns:delete); the audit log keeps every put.
    hid = r.json()["id"]
    assert server.req("DELETE", "/v1/holds/" + hid).status_code == 200
    p = rclone("purge", "coffer:v-rc")
    assert p.returncode == 0, p.stderr
    assert "v-rc" not in rclone("lsd", "coffer:").stdout
    puts = [x for x in server.audit_records()
            if x.get("action") == "object:put" and
            x.get("resource", "").startswith("ns/v-rc/obj/")]
    assert len(puts) == 4


def test_null_delete_respects_legal_hold(server, s3):
    s3.create_bucket(Bucket="v-held")
    s3.put_object(Bucket="v-held", Key="k", Body=b"k")
    r = server.post("/v1/holds", {"ns": "v-held", "key": "k",
                                  "reason": "litigation"})
    assert r.status_code in (200, 201), r.text
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket="v-held", Key="k", VersionId="null")
    assert code_of(e) == "ObjectUnderLegalHold"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket="v-held", Key="k")
    assert code_of(e) == "ObjectUnderLegalHold"
    assert s3_versions(s3, "v-held")[0] == [("k", "null", True)]


def test_a_policy_governs_put_bucket_versioning(server, s3):
    s3.create_bucket(Bucket="v-pol")
    # An owner of the bucket may set its state (the role floor) ...
    server.principal("v-owner")
    server.grant("v-owner", "owner", "v-pol")
    r = server.post("/v1/s3-keys", {"principal": "v-owner"}, token="admin")
    assert r.status_code == 201, r.text
    own = mk(server, r.json())
    own.put_bucket_versioning(Bucket="v-pol", VersioningConfiguration={
        "Status": "Enabled"})
    # ... unless a stored policy forbids it: decided by Cedar, recorded.
    text = ('@id("freeze-versioning")\nforbid (principal, action == '
            'Action::"ns:set-versioning", resource);\n')
    r = server.req("PUT", "/v1/policies/v-freeze", json={"text": text})
    assert r.status_code in (200, 201), r.text
    try:
        with pytest.raises(ClientError) as e:
            own.put_bucket_versioning(Bucket="v-pol",
                                      VersioningConfiguration={
                                          "Status": "Suspended"})
        assert code_of(e) == "AccessDenied"
        recs = records(server, e.value.response["ResponseMetadata"][
            "RequestId"])
        assert [(x["action"], x["decision"]) for x in recs] == [
            ("ns:set-versioning", "deny")]
        assert "freeze-versioning" in recs[0]["reasons"]
    finally:
        r = server.req("DELETE", "/v1/policies/v-freeze")
        assert r.status_code == 200, r.text
    assert own.get_bucket_versioning(Bucket="v-pol")["Status"] == "Enabled"


def test_copy_source_version_null(server, s3):
    s3.create_bucket(Bucket="v-copy")
    s3.put_object(Bucket="v-copy", Key="src", Body=b"old")
    s3.put_bucket_versioning(Bucket="v-copy", VersioningConfiguration={
        "Status": "Enabled"})
    s3.put_object(Bucket="v-copy", Key="src", Body=b"new")
    r = s3.copy_object(Bucket="v-copy", Key="dst", CopySource={
        "Bucket": "v-copy", "Key": "src", "VersionId": "null"})
    assert r["CopySourceVersionId"] == "null"
    assert len(r["VersionId"]) == 32
    assert s3.get_object(Bucket="v-copy", Key="dst")["Body"].read() == \
        b"old"


def multipart(s3, bucket, key, data):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    et = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1,
                        Body=data)["ETag"]
    return s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": et}]})


def test_complete_multipart_answers_the_version_id(server, s3):
    # As PutObject: a versioned bucket's Complete names the new version,
    # a suspended one "null", an unversioned one none.
    b = "v-mp"
    s3.create_bucket(Bucket=b)
    r = multipart(s3, b, "u", b"unversioned")
    assert "VersionId" not in r
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={
        "Status": "Enabled"})
    r = multipart(s3, b, "e", b"enabled")
    assert r["VersionId"] not in ("", "null")
    assert s3.head_object(Bucket=b, Key="e")["VersionId"] == r["VersionId"]
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={
        "Status": "Suspended"})
    r = multipart(s3, b, "s", b"suspended")
    assert r["VersionId"] == "null"

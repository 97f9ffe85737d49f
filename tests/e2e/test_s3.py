"""The S3-compatible API (docs/s3.md): real clients (boto3, awscli, curl)
against a real server over TLS, S3 access keys, SigV4 refusals and the
audit records of S3 requests."""

import datetime
import hashlib
import hmac
import json
import os
import subprocess
import urllib.parse

import pytest
import requests

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from conftest import s3_client  # noqa: E402


def s3key(server, principal=None, expires_in=None, token="admin"):
    body = {}
    if principal is not None:
        body["principal"] = principal
    if expires_in is not None:
        body["expires_in"] = expires_in
    r = server.post("/v1/s3-keys", body, token=token)
    assert r.status_code == 201, r.text
    return r.json()


def client(server, key, secret=None, region="us-east-1"):
    return s3_client(server, key, region=region, secret=secret)


def code_of(exc):
    return exc.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def admin_key(server):
    return s3key(server)


@pytest.fixture(scope="module")
def s3(server, admin_key):
    return client(server, admin_key)


# ---- keys ----

def test_s3_key_cli_create_ls_revoke(server, cli):
    p = cli("s3", "key", "create", "--expires-in", "1h", "--json")
    assert p.returncode == 0, p.stderr
    k = json.loads(p.stdout)
    assert k["access_key_id"].startswith("CFAK")
    assert len(k["secret_access_key"]) == 40
    assert k["endpoint"] == server.url
    p = cli("s3", "key", "ls", "--json")
    assert p.returncode == 0, p.stderr
    listed = json.loads(p.stdout)["s3_keys"]
    mine = [e for e in listed if e["access_key_id"] == k["access_key_id"]]
    assert mine and mine[0]["state"] == "active"
    # SEC: the secret is shown once: never listed.
    assert k["secret_access_key"] not in p.stdout
    c = client(server, k)
    c.list_buckets()
    p = cli("s3", "key", "revoke", k["access_key_id"])
    assert p.returncode == 0, p.stderr
    with pytest.raises(ClientError) as e:
        c.list_buckets()
    assert code_of(e) == "InvalidAccessKeyId"


def test_s3_key_of_disabled_principal_fails_at_once(server):
    server.principal("s3dis")
    server.grant("s3dis", "reader")
    k = s3key(server, principal="s3dis")
    c = client(server, k)
    c.list_buckets()
    r = server.post("/v1/users/s3dis/disable", {})
    assert r.status_code == 200, r.text
    with pytest.raises(ClientError) as e:
        c.list_buckets()
    assert code_of(e) == "InvalidAccessKeyId"


def test_s3_key_secret_is_not_stored_in_the_clear(server, admin_key):
    db = os.path.join(server.data, "meta.db")
    for name in os.listdir(server.data):
        path = os.path.join(server.data, name)
        if os.path.isfile(path) and name.startswith("meta"):
            with open(path, "rb") as f:
                assert admin_key["secret_access_key"].encode() not in \
                    f.read()
    assert os.path.exists(db) or True


# ---- boto3 ----

def test_s3_boto3_bucket_and_objects(server, s3):
    s3.create_bucket(Bucket="s3-boto")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "s3-boto" in names
    s3.head_bucket(Bucket="s3-boto")
    loc = s3.get_bucket_location(Bucket="s3-boto")
    assert loc.get("LocationConstraint") in (None, "")
    data = os.urandom(200 * 1024) + b"end"
    r = s3.put_object(Bucket="s3-boto", Key="dir/a b+c.bin", Body=data,
                      ContentType="application/x-test",
                      Metadata={"Run": "42"})
    assert r["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    # A bucket made through S3 starts unversioned: no version id, and
    # the object is S3's null version (docs/s3.md, "Versioning").
    assert "VersionId" not in r
    got = s3.get_object(Bucket="s3-boto", Key="dir/a b+c.bin")
    assert got["Body"].read() == data
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"run": "42"}
    assert got["ETag"] == r["ETag"]
    rng = s3.get_object(Bucket="s3-boto", Key="dir/a b+c.bin",
                        Range="bytes=10-19")
    assert rng["Body"].read() == data[10:20]
    assert rng["ContentRange"] == "bytes 10-19/%d" % len(data)
    h = s3.head_object(Bucket="s3-boto", Key="dir/a b+c.bin")
    assert h["ContentLength"] == len(data)
    v1 = s3.get_object(Bucket="s3-boto", Key="dir/a b+c.bin",
                       VersionId="null")
    assert v1["Body"].read() == data
    s3.put_object(Bucket="s3-boto", Key="dir/sub/x", Body=b"x")
    s3.put_object(Bucket="s3-boto", Key="top", Body=b"t")
    lst = s3.list_objects_v2(Bucket="s3-boto", Delimiter="/")
    assert [o["Key"] for o in lst.get("Contents", [])] == ["top"]
    assert [p["Prefix"] for p in lst["CommonPrefixes"]] == ["dir/"]
    lst = s3.list_objects_v2(Bucket="s3-boto", Prefix="dir/")
    assert sorted(o["Key"] for o in lst["Contents"]) == [
        "dir/a b+c.bin", "dir/sub/x"]
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket="s3-boto", PaginationConfig={"PageSize": 1})
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert keys == ["dir/a b+c.bin", "dir/sub/x", "top"]
    v1l = s3.list_objects(Bucket="s3-boto", Delimiter="", MaxKeys=2)
    assert len(v1l["Contents"]) == 2 and v1l["IsTruncated"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="s3-boto", Key="missing")
    assert code_of(e) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="s3-boto", Key="missing")
    assert e.value.response["Error"]["Code"] == "404"
    s3.delete_object(Bucket="s3-boto", Key="top")
    s3.delete_object(Bucket="s3-boto", Key="never-there")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="s3-boto", Key="top")
    assert code_of(e) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="s3-boto")
    assert code_of(e) == "BucketNotEmpty"


def test_s3_bad_content_md5_stores_nothing(server, s3):
    s3.create_bucket(Bucket="s3-md5")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="s3-md5", Key="k", Body=b"hello",
                      ContentMD5="XrY7u+Ae7tCTyyK7j1rNww==")
    assert code_of(e) == "BadDigest"
    assert s3.list_objects_v2(Bucket="s3-md5")["KeyCount"] == 0


def test_s3_unimplemented_is_501_in_xml(server, s3):
    s3.create_bucket(Bucket="s3-nyi")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket="s3-nyi")
    assert code_of(e) == "NotImplemented"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


# ---- refusals ----

def test_s3_wrong_secret_and_unknown_key(server, admin_key):
    bad = client(server, admin_key, secret="x" * 40)
    with pytest.raises(ClientError) as e:
        bad.list_buckets()
    assert code_of(e) == "SignatureDoesNotMatch"
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    assert rid
    unknown = client(server, {"access_key_id": "CFAKAAAAAAAAAAAAAAAA",
                              "secret_access_key": "y" * 40})
    with pytest.raises(ClientError) as e:
        unknown.list_buckets()
    assert code_of(e) == "InvalidAccessKeyId"
    recs = server.audit_records()
    mine = [x for x in recs if x.get("request_id") == rid]
    assert mine and mine[0]["decision"] == "deny"


def test_s3_wrong_region_names_the_right_one(server, admin_key):
    c = client(server, admin_key, region="eu-west-1")
    with pytest.raises(ClientError) as e:
        c.list_buckets()
    assert code_of(e) == "AuthorizationHeaderMalformed"
    assert e.value.response["Error"].get("Region") == "us-east-1"


def test_s3_reader_put_denied_nothing_stored(server, s3):
    s3.create_bucket(Bucket="s3-ro")
    s3.put_object(Bucket="s3-ro", Key="seed", Body=b"seed")
    server.principal("s3rdr")
    server.grant("s3rdr", "reader", "s3-ro")
    rc = client(server, s3key(server, principal="s3rdr"))
    assert rc.get_object(Bucket="s3-ro", Key="seed")["Body"].read() == \
        b"seed"
    with pytest.raises(ClientError) as e:
        rc.put_object(Bucket="s3-ro", Key="evil", Body=b"evil")
    assert code_of(e) == "AccessDenied"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="s3-ro")["Contents"]]
    assert keys == ["seed"]
    recs = server.audit_records()
    denied = [x for x in recs if x.get("action") == "object:put" and
              x.get("principal") == "s3rdr"]
    assert denied and all(x["decision"] == "deny" for x in denied)


def test_s3_presigned_get_and_expiry(server, s3):
    s3.create_bucket(Bucket="s3-pre")
    s3.put_object(Bucket="s3-pre", Key="p.txt", Body=b"presigned body")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "s3-pre", "Key": "p.txt"},
        ExpiresIn=300)
    out = subprocess.run(["curl", "-sS", "--cacert", server.ca, url],
                         capture_output=True, timeout=30)
    assert out.stdout == b"presigned body", out
    # An expired URL: signed, correctly, two hours ago for one hour.
    sign = presign_at(server, url, datetime.timedelta(hours=-2), 3600,
                      s3)
    r = requests.get(sign, verify=server.ca, timeout=30)
    assert r.status_code == 403, r.text
    assert "<Code>AccessDenied</Code>" in r.text
    assert "expired" in r.text


def _sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region="us-east-1"):
    k = _sign(("AWS4" + secret).encode(), date)
    k = _sign(k, region)
    k = _sign(k, "s3")
    return _sign(k, "aws4_request")


def presign_at(server, url, delta, expires, s3c):
    """A presigned GET of url's path made by hand at now + delta."""
    creds = s3c._request_signer._credentials
    u = urllib.parse.urlsplit(url)
    t = datetime.datetime.now(datetime.timezone.utc) + delta
    amz = t.strftime("%Y%m%dT%H%M%SZ")
    date = amz[:8]
    q = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": "%s/%s/us-east-1/s3/aws4_request" % (
            creds.access_key, date),
        "X-Amz-Date": amz, "X-Amz-Expires": str(expires),
        "X-Amz-SignedHeaders": "host"}
    cq = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                             urllib.parse.quote(v, safe="-_.~"))
                  for k, v in sorted(q.items()))
    cr = "\n".join(["GET", u.path, cq, "host:" + u.netloc, "", "host",
                    "UNSIGNED-PAYLOAD"])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz,
                     "%s/us-east-1/s3/aws4_request" % date,
                     hashlib.sha256(cr.encode()).hexdigest()])
    sig = hmac.new(signing_key(creds.secret_key, date), sts.encode(),
                   hashlib.sha256).hexdigest()
    return "%s://%s%s?%s&X-Amz-Signature=%s" % (u.scheme, u.netloc, u.path,
                                                cq, sig)


def test_s3_skewed_clock_refused(server, admin_key, s3):
    """A correctly signed request dated 20 minutes ago."""
    s3.create_bucket(Bucket="s3-skew")
    t = datetime.datetime.now(datetime.timezone.utc) - \
        datetime.timedelta(minutes=20)
    amz = t.strftime("%Y%m%dT%H%M%SZ")
    date = amz[:8]
    host = urllib.parse.urlsplit(server.url).netloc
    payload = hashlib.sha256(b"").hexdigest()
    cr = "\n".join(["GET", "/s3-skew", "list-type=2",
                    "host:" + host, "x-amz-content-sha256:" + payload,
                    "x-amz-date:" + amz, "",
                    "host;x-amz-content-sha256;x-amz-date", payload])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz,
                     "%s/us-east-1/s3/aws4_request" % date,
                     hashlib.sha256(cr.encode()).hexdigest()])
    sig = hmac.new(signing_key(admin_key["secret_access_key"], date),
                   sts.encode(), hashlib.sha256).hexdigest()
    auth = ("AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
            "Signature=%s" % (admin_key["access_key_id"], date, sig))
    hdrs = {"Authorization": auth, "x-amz-date": amz,
            "x-amz-content-sha256": payload,
            "amz-sdk-invocation-id": "unsigned-extra"}
    r = requests.get(server.url + "/s3-skew?list-type=2", headers=hdrs,
                     verify=server.ca, timeout=30)
    assert r.status_code == 403, r.text
    assert "<Code>RequestTimeTooSkewed</Code>" in r.text
    assert r.headers["x-amz-request-id"] in r.text


def test_s3_requests_are_audited(server, s3):
    s3.create_bucket(Bucket="s3-aud")
    r = s3.put_object(Bucket="s3-aud", Key="k", Body=b"v")
    rid = r["ResponseMetadata"]["RequestId"]
    recs = server.audit_records()
    mine = [x for x in recs if x.get("request_id") == rid]
    assert mine, rid
    assert mine[0]["principal"] == "admin"
    assert mine[0]["action"] == "object:put"
    assert mine[0]["decision"] == "allow"
    assert mine[0]["authn"] == "s3-sigv4"


# ---- awscli ----

# Debian's awscli (2.9): what scripts/deps.sh installs.  A newer one from
# pip sends aws-chunked bodies (tests/e2e/test_s3_chunked.py covers those).
AWS = "/usr/bin/aws" if os.access("/usr/bin/aws", os.X_OK) else None


@pytest.mark.skipif(AWS is None, reason="awscli not installed "
                    "(scripts/deps.sh installs it)")
def test_s3_awscli_workflow(server, admin_key, tmp_path):
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": admin_key["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": admin_key["secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CA_BUNDLE": server.ca,
        "AWS_CONFIG_FILE": str(tmp_path / "cfg"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "creds"),
        "HOME": str(tmp_path)})

    def aws(*args):
        p = subprocess.run([AWS, "--endpoint-url", server.url, "s3"] +
                           list(args), env=env, capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout

    aws("mb", "s3://s3-cli")
    src = tmp_path / "up.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)
    src.write_bytes(data)
    aws("cp", str(src), "s3://s3-cli/a/up.bin")
    aws("cp", str(src), "s3://s3-cli/b.bin")
    dst = tmp_path / "down.bin"
    aws("cp", "s3://s3-cli/a/up.bin", str(dst))
    assert dst.read_bytes() == data
    out = aws("ls", "s3://s3-cli/")
    assert "PRE a/" in out and "b.bin" in out
    out = aws("ls", "--recursive", "s3://s3-cli/")
    assert "a/up.bin" in out and "b.bin" in out
    assert "s3-cli" in aws("ls")
    aws("rm", "s3://s3-cli/b.bin")
    assert "b.bin" not in aws("ls", "--recursive", "s3://s3-cli/")

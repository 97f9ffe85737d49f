"""S3 multipart uploads (docs/s3.md): awscli and boto3 (threads, parts
in parallel and out of order) byte-exact over TLS, Complete bodies in
every client's dialect, the refusals (EntityTooSmall, InvalidPart,
10,001 parts, NoSuchUpload), and uploads in progress invisible to reads
and listings, encrypted at rest and gone once completed or aborted."""

import hashlib
import os
import subprocess

import pytest

boto3 = pytest.importorskip("boto3")
from boto3.s3.transfer import TransferConfig  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from conftest import s3_client  # noqa: E402

MiB = 1024 * 1024
BUCKET = "s3-mp"
AWS = "/usr/bin/aws" if os.access("/usr/bin/aws", os.X_OK) else None


@pytest.fixture(scope="module")
def s3(server, key):
    c = s3_client(server, key, max_pool_connections=10)
    c.create_bucket(Bucket=BUCKET)
    return c


def code_of(exc):
    return exc.value.response["Error"]["Code"]


def mp_etag(parts):
    d = b"".join(hashlib.md5(p).digest() for p in parts)
    return '"%s-%d"' % (hashlib.md5(d).hexdigest(), len(parts))


def keys(s3, prefix=""):
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for o in r.get("Contents", [])]


def test_boto3_upload_file_threads_byte_exact(s3, tmp_path):
    data = os.urandom(21 * MiB + 123)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MiB,
                         multipart_chunksize=5 * MiB, max_concurrency=10)
    s3.upload_file(str(src), BUCKET, "b/big.bin", Config=cfg,
                   ExtraArgs={"ContentType": "application/x-model",
                              "Metadata": {"run": "7"}})
    h = s3.head_object(Bucket=BUCKET, Key="b/big.bin")
    assert h["ContentLength"] == len(data)
    assert h["ETag"].endswith('-5"')
    assert h["ContentType"] == "application/x-model"
    assert h["Metadata"] == {"run": "7"}
    dst = tmp_path / "down.bin"
    s3.download_file(BUCKET, "b/big.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) \
        == []


def test_parts_out_of_order_and_etag(s3, server):
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"tail"]
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="o/x")["UploadId"]
    etags = {}
    for n in (3, 1, 2):
        etags[n] = s3.upload_part(Bucket=BUCKET, Key="o/x", UploadId=up,
                                  PartNumber=n, Body=parts[n - 1])["ETag"]
    assert etags[3] == '"%s"' % hashlib.md5(b"tail").hexdigest()
    # In progress: invisible to reads and listings.
    assert "o/x" not in keys(s3, "o/")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=BUCKET, Key="o/x")
    assert code_of(e) == "NoSuchKey"
    listed = s3.list_parts(Bucket=BUCKET, Key="o/x", UploadId=up)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    ups = s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]
    assert [u["UploadId"] for u in ups if u["Key"] == "o/x"] == [up]
    # SEC: the parts are encrypted at rest like everything else.
    blobs = os.path.join(server.data, "blobs")
    needle = parts[0][:4096]
    for root, _, files in os.walk(blobs):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert needle not in fh.read()
    r = s3.complete_multipart_upload(
        Bucket=BUCKET, Key="o/x", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]}
                                   for n in (1, 2, 3)]})
    assert r["ETag"] == mp_etag(parts)
    got = s3.get_object(Bucket=BUCKET, Key="o/x")
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == mp_etag(parts)
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=BUCKET, Key="o/x", UploadId=up)
    assert code_of(e) == "NoSuchUpload"


def _raw_complete(server, s3, key, up, body):
    """POST a hand-written Complete body, signed by botocore."""
    import botocore.auth
    import botocore.awsrequest
    import requests
    url = "%s/%s/%s?uploadId=%s" % (server.url, BUCKET, key, up)
    req = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body)
    creds = s3._request_signer._credentials
    botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    return requests.post(url, data=body, headers=dict(req.headers),
                         verify=server.ca, timeout=60)


def test_complete_bodies_of_every_client(s3, server):
    """s3cmd: no namespace, unquoted ETags; rclone: &#34; quotes."""
    for n, style in enumerate(["s3cmd", "rclone"]):
        k = "c/%s" % style
        up = s3.create_multipart_upload(Bucket=BUCKET, Key=k)["UploadId"]
        data = os.urandom(1000 + n)
        et = s3.upload_part(Bucket=BUCKET, Key=k, UploadId=up,
                            PartNumber=1, Body=data)["ETag"].strip('"')
        if style == "s3cmd":
            body = ("<CompleteMultipartUpload><Part><PartNumber>1"
                    "</PartNumber><ETag>%s</ETag></Part>"
                    "</CompleteMultipartUpload>" % et)
        else:
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<CompleteMultipartUpload xmlns="http://s3.amazonaws'
                    '.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber>'
                    '<ETag>&#34;%s&#34;</ETag><ChecksumCRC32>AAAAAA==' 
                    '</ChecksumCRC32></Part></CompleteMultipartUpload>' % et)
        r = _raw_complete(server, s3, k, up, body.encode())
        assert r.status_code == 200, r.text
        assert s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() == data


def test_refusals_store_nothing(s3, server):
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="r/x")["UploadId"]
    small = [s3.upload_part(Bucket=BUCKET, Key="r/x", UploadId=up,
                            PartNumber=n, Body=b"x" * 100)["ETag"]
             for n in (1, 2)]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=BUCKET, Key="r/x", UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": n + 1, "ETag": t}
                                       for n, t in enumerate(small)]})
    assert code_of(e) == "EntityTooSmall"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=BUCKET, Key="r/x", UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 1,
                                        "ETag": '"%s"' % ("0" * 32)}]})
    assert code_of(e) == "InvalidPart"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=BUCKET, Key="r/x", UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": small[1]},
                                       {"PartNumber": 1, "ETag": small[0]}]})
    assert code_of(e) == "InvalidPartOrder"
    body = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" %
        (n, small[0]) for n in range(1, 10002))
    r = _raw_complete(server, s3, "r/x", up, body.encode())
    assert r.status_code == 400, r.text
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=BUCKET, Key="r/x", UploadId=up,
                       PartNumber=10001, Body=b"x")
    assert code_of(e) == "InvalidArgument"
    r = _raw_complete(server, s3, "r/x", up, b"<Complete><oops")
    assert r.status_code == 400 and "MalformedXML" in r.text
    r = _raw_complete(server, s3, "r/x", up,
                      b'<!DOCTYPE a [<!ENTITY x "y">]>'
                      b"<CompleteMultipartUpload/>")
    assert r.status_code == 400 and "MalformedXML" in r.text
    assert "r/x" not in keys(s3, "r/")
    # Another key's upload id does not work here.
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=BUCKET, Key="r/other", UploadId=up,
                       PartNumber=1, Body=b"x")
    assert code_of(e) == "NoSuchUpload"
    s3.abort_multipart_upload(Bucket=BUCKET, Key="r/x", UploadId=up)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=BUCKET, Key="r/x", UploadId=up,
                       PartNumber=1, Body=b"x")
    assert code_of(e) == "NoSuchUpload"
    assert "r/x" not in keys(s3, "r/")
    recs = [x for x in server.audit_records()
            if x.get("resource", "").endswith("obj/r/x")]
    assert recs and all(x["action"] == "object:put" for x in recs)


@pytest.mark.skipif(AWS is None, reason="awscli not installed")
def test_awscli_cp_20mib_multipart(server, key, tmp_path, s3):
    cfg = tmp_path / "cfg"
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": key["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": key["secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CA_BUNDLE": server.ca,
        "AWS_CONFIG_FILE": str(cfg),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "creds"),
        "HOME": str(tmp_path)})
    subprocess.run([AWS, "configure", "set", "default.s3.multipart_threshold",
                    "5MB"], env=env, check=True, timeout=60)
    data = os.urandom(20 * MiB + 7)
    src = tmp_path / "up.bin"
    src.write_bytes(data)

    def aws(*args):
        p = subprocess.run([AWS, "--endpoint-url", server.url, "s3"] +
                           list(args), env=env, capture_output=True,
                           text=True, timeout=300)
        assert p.returncode == 0, (args, p.stdout, p.stderr)

    aws("cp", str(src), "s3://%s/cli/up.bin" % BUCKET)
    h = s3.head_object(Bucket=BUCKET, Key="cli/up.bin")
    assert h["ETag"].endswith('-3"')      # 8 + 8 + 4 MiB
    dst = tmp_path / "down.bin"
    aws("cp", "s3://%s/cli/up.bin" % BUCKET, str(dst))
    assert dst.read_bytes() == data

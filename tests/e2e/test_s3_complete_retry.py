"""A retried CompleteMultipartUpload (docs/s3.md, "Multipart uploads"):
a client whose first answer was lost sends the same Complete again.  S3
answers it 200 with the same result (the object it already made); so
does Coffer, for the same part list, decided and recorded like any
Complete and making nothing new.  A different part list for an upload
already completed is 404 NoSuchUpload, as is the upload id on another
key."""

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from conftest import s3_client  # noqa: E402

MiB = 1024 * 1024
B = "s3-mp-retry"


@pytest.fixture(scope="module")
def s3(server):
    r = server.post("/v1/s3-keys", {}, token="admin")
    assert r.status_code == 201, r.text
    c = s3_client(server, r.json())
    c.create_bucket(Bucket=B)
    c.put_bucket_versioning(Bucket=B, VersioningConfiguration={
        "Status": "Enabled"})
    return c


def code_of(exc):
    return exc.value.response["Error"]["Code"]


def recs_of(server, rid):
    return [x for x in server.audit_records() if x.get("request_id") == rid]


def upload(s3, key, bodies):
    uid = s3.create_multipart_upload(Bucket=B, Key=key)["UploadId"]
    parts = []
    for n, body in enumerate(bodies, 1):
        e = s3.upload_part(Bucket=B, Key=key, UploadId=uid, PartNumber=n,
                           Body=body)["ETag"]
        parts.append({"PartNumber": n, "ETag": e})
    return uid, parts


def versions(s3, key):
    return [v["VersionId"] for v in s3.list_object_versions(
        Bucket=B, Prefix=key).get("Versions", []) if v["Key"] == key]


def test_retried_complete_answers_the_same(server, s3):
    bodies = [b"a" * (5 * MiB), b"tail"]
    uid, parts = upload(s3, "k", bodies)
    first = s3.complete_multipart_upload(Bucket=B, Key="k", UploadId=uid,
                                         MultipartUpload={"Parts": parts})
    again = s3.complete_multipart_upload(Bucket=B, Key="k", UploadId=uid,
                                         MultipartUpload={"Parts": parts})
    for f in ("ETag", "VersionId", "Key", "Bucket"):
        assert again[f] == first[f], f
    assert versions(s3, "k") == [first["VersionId"]]
    assert s3.get_object(Bucket=B, Key="k")["Body"].read() == \
        b"".join(bodies)
    rid = again["ResponseMetadata"]["RequestId"]
    recs = recs_of(server, rid)
    assert [(x["action"], x["decision"], x["status"]) for x in recs] == [
        ("object:put", "allow", 200)]
    # Unquoted ETags name the same parts.
    bare = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"].strip('"')}
            for p in parts]
    again = s3.complete_multipart_upload(Bucket=B, Key="k", UploadId=uid,
                                         MultipartUpload={"Parts": bare})
    assert again["VersionId"] == first["VersionId"]
    # Still the same answer once a newer version is the key's latest.
    s3.put_object(Bucket=B, Key="k", Body=b"newer")
    again = s3.complete_multipart_upload(Bucket=B, Key="k", UploadId=uid,
                                         MultipartUpload={"Parts": parts})
    assert again["VersionId"] == first["VersionId"]
    assert again["ETag"] == first["ETag"]


def test_retried_complete_with_another_list_is_no_such_upload(server, s3):
    uid, parts = upload(s3, "k2", [b"b" * (5 * MiB), b"c" * 10])
    done = s3.complete_multipart_upload(Bucket=B, Key="k2", UploadId=uid,
                                        MultipartUpload={"Parts": parts})
    for other in (parts[:1], [parts[0], {"PartNumber": 2,
                                          "ETag": '"%s"' % ("0" * 32)}]):
        with pytest.raises(ClientError) as e:
            s3.complete_multipart_upload(Bucket=B, Key="k2", UploadId=uid,
                                         MultipartUpload={"Parts": other})
        assert code_of(e) == "NoSuchUpload"
    # The upload id of another key.
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=B, Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": parts})
    assert code_of(e) == "NoSuchUpload"
    assert versions(s3, "k2") == [done["VersionId"]]


def test_retried_complete_is_decided_first(server, s3):
    uid, parts = upload(s3, "k3", [b"d" * 100])
    s3.complete_multipart_upload(Bucket=B, Key="k3", UploadId=uid,
                                 MultipartUpload={"Parts": parts})
    server.principal("mpretry")
    server.grant("mpretry", "reader", B)
    r = server.post("/v1/s3-keys", {"principal": "mpretry"}, token="admin")
    assert r.status_code == 201, r.text
    rd = s3_client(server, r.json())
    with pytest.raises(ClientError) as e:
        rd.complete_multipart_upload(Bucket=B, Key="k3", UploadId=uid,
                                     MultipartUpload={"Parts": parts})
    assert code_of(e) == "AccessDenied"

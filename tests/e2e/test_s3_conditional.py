"""S3 conditional reads and copies (docs/s3.md, "Conditional requests"):
GetObject and HeadObject with If-Match, If-None-Match, If-Modified-Since
and If-Unmodified-Since, weighed as RFC 9110 and S3 weigh them, and
CopyObject with the x-amz-copy-source-if-* conditions on its source.
Every date is derived from the version's own Last-Modified, so nothing
depends on the clock."""

import datetime
import email.utils

import pytest

boto3 = pytest.importorskip("boto3")
import requests  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from conftest import s3_client  # noqa: E402
from test_s3_chunked import Signer  # noqa: E402

B = "s3-cond"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
OTHER = '"%s"' % ("0" * 32)


@pytest.fixture(scope="module")
def s3(server, key):
    c = s3_client(server, key)
    c.create_bucket(Bucket=B)
    c.put_bucket_versioning(Bucket=B, VersioningConfiguration={
        "Status": "Enabled"})
    return c


@pytest.fixture(scope="module")
def obj(s3):
    put = s3.put_object(Bucket=B, Key="k", Body=b"conditional body")
    head = s3.head_object(Bucket=B, Key="k")
    lm = head["LastModified"].astimezone(datetime.timezone.utc)
    return {"etag": put["ETag"], "lm": lm,
            "vid": put["VersionId"]}


def status_of(exc):
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def code_of(exc):
    return exc.value.response["Error"]["Code"]


def recs_of(server, rid):
    return [x for x in server.audit_records() if x.get("request_id") == rid]


SEC = datetime.timedelta(seconds=1)


def cases(o):
    """(kwargs, expected status) with S3's documented precedence."""
    lm, etag = o["lm"], o["etag"]
    return [
        ({"IfModifiedSince": lm - SEC}, 200),
        ({"IfModifiedSince": lm}, 304),
        ({"IfModifiedSince": lm + SEC}, 304),
        ({"IfUnmodifiedSince": lm}, 200),
        ({"IfUnmodifiedSince": lm + SEC}, 200),
        ({"IfUnmodifiedSince": lm - SEC}, 412),
        # If-Match true + If-Unmodified-Since false: 200 (S3).
        ({"IfMatch": etag, "IfUnmodifiedSince": lm - SEC}, 200),
        # If-Match false: 412 whatever the date says.
        ({"IfMatch": OTHER, "IfUnmodifiedSince": lm + SEC}, 412),
        # If-None-Match false + If-Modified-Since true: 304 (S3).
        ({"IfNoneMatch": etag, "IfModifiedSince": lm - SEC}, 304),
        # If-None-Match true: If-Modified-Since is not looked at.
        ({"IfNoneMatch": OTHER, "IfModifiedSince": lm}, 200),
        # 412 before 304 (RFC 9110, 13.2.2).
        ({"IfUnmodifiedSince": lm - SEC, "IfModifiedSince": lm}, 412),
        ({"IfMatch": OTHER, "IfNoneMatch": etag}, 412),
        ({"IfMatch": etag, "IfModifiedSince": lm}, 304),
        ({"IfMatch": etag.strip('"')}, 200),
        ({"IfMatch": "*"}, 200),
        ({"IfNoneMatch": "*"}, 304),
    ]


@pytest.mark.parametrize("op", ["get_object", "head_object"])
def test_conditional_read_with_boto3(server, s3, obj, op):
    for kw, want in cases(obj):
        if want == 200:
            r = getattr(s3, op)(Bucket=B, Key="k", **kw)
            assert r["ResponseMetadata"]["HTTPStatusCode"] == 200, kw
            if op == "get_object":
                assert r["Body"].read() == b"conditional body", kw
            continue
        with pytest.raises(ClientError) as e:
            getattr(s3, op)(Bucket=B, Key="k", **kw)
        assert status_of(e) == want, kw
        if want == 412 and op == "get_object":
            assert code_of(e) == "PreconditionFailed", kw
        rid = e.value.response["ResponseMetadata"]["RequestId"]
        recs = recs_of(server, rid)
        assert len(recs) == 1, kw
        assert recs[0]["action"] == ("object:get" if op == "get_object"
                                     else "object:head")
        assert recs[0]["status"] == want, kw


def raw_get(server, key, headers, path="/%s/k" % B, method="GET",
            query="", unsigned=None):
    h = dict(headers)
    Signer(server, key).sign(method, path, h, EMPTY, query=query)
    h.update(unsigned or {})
    return requests.request(method, server.url + path +
                            ("?" + query if query else ""), headers=h,
                            verify=server.ca, timeout=60)


def test_not_modified_has_no_body_and_keeps_validators(server, key, obj):
    d = email.utils.format_datetime(obj["lm"], usegmt=True)
    r = raw_get(server, key, {"If-Modified-Since": d})
    assert r.status_code == 304, r.text
    assert r.content == b""
    assert r.headers["ETag"] == obj["etag"]
    assert r.headers["Last-Modified"] == d
    # The version as S3 names it.
    r = raw_get(server, key, {"If-Modified-Since": d},
                query="versionId=" + obj["vid"])
    assert r.status_code == 304, r.text


def test_unparseable_dates_are_ignored(server, key, obj):
    for name in ("If-Modified-Since", "If-Unmodified-Since"):
        for bad in ("yesterday", "", "Sun, 31 Feb 2021 00:00:00 GMT",
                    "2021-01-01T00:00:00Z", "Sun, 06 Nov 1994 08:49:37"):
            r = raw_get(server, key, {name: bad})
            assert r.status_code == 200, (name, bad, r.text)
            assert r.content == b"conditional body"


def test_obsolete_date_forms_are_understood(server, key, obj):
    """RFC 9110 5.6.7: a recipient takes the RFC 850 and asctime forms
    too."""
    t = obj["lm"] - SEC
    rfc850 = t.strftime("%A, %d-%b-%y %H:%M:%S GMT")
    asctime = t.strftime("%a %b ") + ("%2d" % t.day) + t.strftime(
        " %H:%M:%S %Y")
    # Sent unsigned: asctime's two blanks are folded into one when
    # signed (SigV4), as the test's signer does not do.
    for d in (rfc850, asctime):
        r = raw_get(server, key, {}, unsigned={"If-Unmodified-Since": d})
        assert r.status_code == 412, (d, r.text)
        r = raw_get(server, key, {}, unsigned={"If-Modified-Since": d})
        assert r.status_code == 200, (d, r.text)


def test_range_with_conditions(server, key, obj):
    d = email.utils.format_datetime(obj["lm"], usegmt=True)
    r = raw_get(server, key, {"Range": "bytes=0-3",
                              "If-Unmodified-Since": d})
    assert r.status_code == 206, r.text
    assert r.content == b"cond"
    r = raw_get(server, key, {"Range": "bytes=0-3", "If-Modified-Since": d})
    assert r.status_code == 304, r.text


def versions_of(s3, key):
    return [v["VersionId"] for v in s3.list_object_versions(
        Bucket=B, Prefix=key).get("Versions", []) if v["Key"] == key]


def copy_cases(o):
    """(kwargs, copies?) for CopyObject's x-amz-copy-source-if-*: as
    GetObject's, but every failure is a 412."""
    lm, etag = o["lm"], o["etag"]
    return [
        ({"CopySourceIfMatch": etag}, True),
        ({"CopySourceIfMatch": OTHER}, False),
        ({"CopySourceIfNoneMatch": OTHER}, True),
        ({"CopySourceIfNoneMatch": etag}, False),
        ({"CopySourceIfNoneMatch": "*"}, False),
        ({"CopySourceIfModifiedSince": lm - SEC}, True),
        ({"CopySourceIfModifiedSince": lm}, False),
        ({"CopySourceIfUnmodifiedSince": lm}, True),
        ({"CopySourceIfUnmodifiedSince": lm - SEC}, False),
        ({"CopySourceIfMatch": etag,
          "CopySourceIfUnmodifiedSince": lm - SEC}, True),
        ({"CopySourceIfNoneMatch": etag,
          "CopySourceIfModifiedSince": lm - SEC}, False),
    ]


def test_copy_object_source_conditions(server, s3, obj):
    src = {"Bucket": B, "Key": "k"}
    for n, (kw, ok) in enumerate(copy_cases(obj)):
        dst = "copy-%d" % n
        if ok:
            r = s3.copy_object(Bucket=B, Key=dst, CopySource=src, **kw)
            assert r["CopyObjectResult"]["ETag"] == obj["etag"], kw
            got = s3.get_object(Bucket=B, Key=dst)["Body"].read()
            assert got == b"conditional body"
            continue
        with pytest.raises(ClientError) as e:
            s3.copy_object(Bucket=B, Key=dst, CopySource=src, **kw)
        assert status_of(e) == 412, kw
        assert code_of(e) == "PreconditionFailed", kw
        assert versions_of(s3, dst) == [], kw
        # The source's decision, with the 412, is the request's record;
        # the target was never decided.
        rid = e.value.response["ResponseMetadata"]["RequestId"]
        recs = recs_of(server, rid)
        assert [(x["action"], x["resource"], x["status"]) for x in recs] \
            == [("object:get", "ns/%s/obj/k" % B, 412)], kw


def test_copy_object_source_version_conditions(server, s3, obj):
    s3.put_object(Bucket=B, Key="k2", Body=b"first")
    first = s3.head_object(Bucket=B, Key="k2")
    s3.put_object(Bucket=B, Key="k2", Body=b"second")
    src = {"Bucket": B, "Key": "k2", "VersionId": first["VersionId"]}
    r = s3.copy_object(Bucket=B, Key="k2-copy", CopySource=src,
                       CopySourceIfMatch=first["ETag"])
    assert r["CopySourceVersionId"] == first["VersionId"]
    assert s3.get_object(Bucket=B, Key="k2-copy")["Body"].read() == \
        b"first"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=B, Key="k2-copy", CopySource={
            "Bucket": B, "Key": "k2"}, CopySourceIfMatch=first["ETag"])
    assert status_of(e) == 412


def test_copy_object_bad_date_and_range_refused(server, key, s3, obj):
    for h in ({"x-amz-copy-source-if-unmodified-since": "yesterday"},
              {"x-amz-copy-source-if-modified-since": "2021-01-01"},
              {"x-amz-copy-source-range": "bytes=0-3"}):
        hh = dict(h)
        hh["x-amz-copy-source"] = "%s/k" % B
        r = raw_get(server, key, hh, path="/%s/refused" % B, method="PUT")
        assert r.status_code == 400, (h, r.text)
        assert "<Code>InvalidArgument</Code>" in r.text, h
        rid = r.headers["x-amz-request-id"]
        recs = recs_of(server, rid)
        assert len(recs) == 1 and recs[0]["decision"] == "deny", h
    assert versions_of(s3, "refused") == []

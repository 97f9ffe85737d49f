"""Pagination of ListParts and ListMultipartUploads (docs/s3.md,
"Multipart uploads"): max-parts and part-number-marker, max-uploads,
key-marker, upload-id-marker, prefix, delimiter (CommonPrefixes) and
encoding-type=url, as S3 answers them; boto3's paginators over several
pages, awscli's list-parts, raw requests for the markers, and bad values
refused with 400 InvalidArgument in S3's XML, recorded.  Parts are small
through the server's test hook COFFER_TEST_MP_PART_MIN."""

import json
import os
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests

boto3 = pytest.importorskip("boto3")
from conftest import small_part_server  # noqa: E402
from test_s3_chunked import Signer  # noqa: E402

B = "mp-pages"
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
NPARTS = 25
AWS = "/usr/bin/aws" if os.access("/usr/bin/aws", os.X_OK) else None
KEYS = ["a/1", "a/2", "a/b/3", "b", "c d/e", "k", "k", "k", "z"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    s, key, c = small_part_server(tmp_path_factory, B)
    uid = c.create_multipart_upload(Bucket=B, Key="parts")["UploadId"]
    etags = {}
    for n in range(1, NPARTS + 1):
        etags[n] = c.upload_part(Bucket=B, Key="parts", UploadId=uid,
                                 PartNumber=n, Body=b"%d" % n)["ETag"]
    ups = []
    for k in KEYS:
        ups.append((k, c.create_multipart_upload(Bucket=B, Key=k)
                    ["UploadId"]))
    yield {"server": s, "s3": c, "key": key, "uid": uid, "etags": etags,
           "ups": ups, "signer": Signer(s, key)}
    s.stop()


def raw(env, path, query):
    """GET path?query (a dict), signed; (response, parsed XML or None)."""
    q = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                            urllib.parse.quote(str(v), safe="-_.~"))
                 for k, v in sorted(query.items()))
    h = {}
    env["signer"].sign("GET", path, h, "UNSIGNED-PAYLOAD", query=q)
    r = requests.get(env["server"].url + path + "?" + q, headers=h,
                     verify=env["server"].ca, timeout=60)
    root = ET.fromstring(r.content) if r.content else None
    return r, root


def text(root, name):
    e = root.find(NS + name)
    if e is None:
        e = root.find(name)     # <Error> has no namespace
    return None if e is None else e.text


def all_uploads(env, prefix=""):
    """(key, upload id) in S3's order: by key, then by upload id, which
    is the order the uploads of a key were begun in."""
    return sorted((k, u) for k, u in env["ups"] + [("parts", env["uid"])]
                  if k.startswith(prefix))


def test_list_parts_paginator(env):
    c = env["s3"]
    pages = list(c.get_paginator("list_parts").paginate(
        Bucket=B, Key="parts", UploadId=env["uid"],
        PaginationConfig={"PageSize": 10}))
    assert len(pages) == 3
    got = [p["PartNumber"] for pg in pages for p in pg.get("Parts", [])]
    assert got == list(range(1, NPARTS + 1))
    assert [pg["IsTruncated"] for pg in pages] == [True, True, False]
    assert [pg["MaxParts"] for pg in pages] == [10, 10, 10]
    assert [pg.get("PartNumberMarker", 0) for pg in pages] == [0, 10, 20]
    assert [pg["NextPartNumberMarker"] for pg in pages[:2]] == [10, 20]
    for pg in pages:
        for p in pg["Parts"]:
            assert p["ETag"] == env["etags"][p["PartNumber"]]
            assert p["Size"] == len(b"%d" % p["PartNumber"])


def test_list_parts_markers_raw(env):
    path = "/%s/parts" % B
    r, x = raw(env, path, {"uploadId": env["uid"]})
    assert r.status_code == 200, r.text
    assert text(x, "MaxParts") == "1000"
    assert text(x, "IsTruncated") == "false"
    assert text(x, "PartNumberMarker") == "0"
    assert len(x.findall(NS + "Part")) == NPARTS
    r, x = raw(env, path, {"uploadId": env["uid"], "max-parts": "7",
                           "part-number-marker": "3"})
    assert r.status_code == 200, r.text
    nums = [int(p.find(NS + "PartNumber").text)
            for p in x.findall(NS + "Part")]
    assert nums == list(range(4, 11))
    assert text(x, "IsTruncated") == "true"
    assert text(x, "NextPartNumberMarker") == "10"
    assert text(x, "PartNumberMarker") == "3"
    assert text(x, "MaxParts") == "7"
    # More than 1000 is 1000, as on S3; past the last part: none.
    r, x = raw(env, path, {"uploadId": env["uid"], "max-parts": "5000"})
    assert r.status_code == 200 and text(x, "MaxParts") == "1000"
    r, x = raw(env, path, {"uploadId": env["uid"],
                           "part-number-marker": str(NPARTS)})
    assert r.status_code == 200, r.text
    assert x.findall(NS + "Part") == []
    assert text(x, "IsTruncated") == "false"


@pytest.mark.parametrize("q", [{"max-parts": "x"}, {"max-parts": "-1"},
                               {"part-number-marker": "abc"},
                               {"part-number-marker": "-5"},
                               {"max-parts": ""}])
def test_list_parts_bad_values(env, q):
    s = env["server"]
    q = dict(q, uploadId=env["uid"])
    r, x = raw(env, "/%s/parts" % B, q)
    assert r.status_code == 400, r.text
    assert text(x, "Code") == "InvalidArgument"
    rid = r.headers["x-amz-request-id"]
    assert text(x, "RequestId") == rid
    rec = s.wait_audit(lambda a: a.get("request_id") == rid)
    assert rec["decision"] == "deny" and rec["action"] == "object:put"


def test_list_uploads_paginator(env):
    c = env["s3"]
    pages = list(c.get_paginator("list_multipart_uploads").paginate(
        Bucket=B, PaginationConfig={"PageSize": 3}))
    assert len(pages) == 4
    got = [(u["Key"], u["UploadId"]) for pg in pages
           for u in pg.get("Uploads", [])]
    assert got == all_uploads(env)
    assert [pg["IsTruncated"] for pg in pages] == [True, True, True, False]
    assert [pg["MaxUploads"] for pg in pages] == [3, 3, 3, 3]


def test_list_uploads_markers_raw(env):
    ups = all_uploads(env)
    ks = [u for u in ups if u[0] == "k"]
    assert len(ks) == 3
    r, x = raw(env, "/" + B, {"uploads": "", "max-uploads": "2",
                              "key-marker": "k",
                              "upload-id-marker": ks[0][1]})
    assert r.status_code == 200, r.text
    got = [(u.find(NS + "Key").text, u.find(NS + "UploadId").text)
           for u in x.findall(NS + "Upload")]
    assert got == ks[1:]
    assert text(x, "IsTruncated") == "true"
    assert text(x, "NextKeyMarker") == "k"
    assert text(x, "NextUploadIdMarker") == ks[2][1]
    assert text(x, "KeyMarker") == "k"
    assert text(x, "UploadIdMarker") == ks[0][1]
    assert text(x, "MaxUploads") == "2"
    # The next page: after the last upload of k.
    r, x = raw(env, "/" + B, {"uploads": "", "key-marker": "k",
                              "upload-id-marker": ks[2][1]})
    got = [(u.find(NS + "Key").text, u.find(NS + "UploadId").text)
           for u in x.findall(NS + "Upload")]
    assert got == [u for u in ups if u[0] > "k"]
    assert text(x, "IsTruncated") == "false"
    # key-marker alone: every upload of keys after it.
    r, x = raw(env, "/" + B, {"uploads": "", "key-marker": "k"})
    got = [u.find(NS + "Key").text for u in x.findall(NS + "Upload")]
    assert got == [u[0] for u in ups if u[0] > "k"]
    # upload-id-marker without key-marker is ignored, as on S3.
    r, x = raw(env, "/" + B, {"uploads": "", "upload-id-marker": "zz"})
    assert len(x.findall(NS + "Upload")) == len(ups)


def test_list_uploads_prefix_delimiter(env):
    c = env["s3"]
    pages = list(c.get_paginator("list_multipart_uploads").paginate(
        Bucket=B, Delimiter="/", PaginationConfig={"PageSize": 2}))
    keys = [u["Key"] for pg in pages for u in pg.get("Uploads", [])]
    cps = [p["Prefix"] for pg in pages for p in pg.get("CommonPrefixes",
                                                       [])]
    assert cps == ["a/", "c d/"]
    assert keys == ["b", "k", "k", "k", "parts", "z"]
    r = c.list_multipart_uploads(Bucket=B, Prefix="a/", Delimiter="/")
    assert [u["Key"] for u in r["Uploads"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/b/"]
    assert r["Prefix"] == "a/" and r["Delimiter"] == "/"
    # encoding-type=url: keys, prefixes and markers percent-encoded.
    r, x = raw(env, "/" + B, {"uploads": "", "encoding-type": "url",
                              "delimiter": "/", "prefix": "c d/"})
    assert r.status_code == 200, r.text
    assert text(x, "EncodingType") == "url"
    assert text(x, "Prefix") == "c%20d/"
    assert [u.find(NS + "Key").text for u in x.findall(NS + "Upload")] \
        == ["c%20d/e"]


@pytest.mark.parametrize("q", [{"max-uploads": "many"},
                               {"max-uploads": "-2"},
                               {"encoding-type": "base64"}])
def test_list_uploads_bad_values(env, q):
    s = env["server"]
    r, x = raw(env, "/" + B, dict(q, uploads=""))
    assert r.status_code == 400, r.text
    assert text(x, "Code") == "InvalidArgument"
    rid = r.headers["x-amz-request-id"]
    rec = s.wait_audit(lambda a: a.get("request_id") == rid)
    assert rec["decision"] == "deny" and rec["action"] == "object:list"


@pytest.mark.skipif(AWS is None, reason="awscli not installed")
def test_awscli_list_parts_pages(env, tmp_path):
    s = env["server"]
    e = dict(os.environ, AWS_ACCESS_KEY_ID=env["key"]["access_key_id"],
             AWS_SECRET_ACCESS_KEY=env["key"]["secret_access_key"],
             AWS_DEFAULT_REGION="us-east-1", AWS_CA_BUNDLE=s.ca,
             AWS_CONFIG_FILE=str(tmp_path / "none"),
             AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    p = subprocess.run([AWS, "--endpoint-url", s.url, "s3api",
                        "list-parts", "--bucket", B, "--key", "parts",
                        "--upload-id", env["uid"], "--page-size", "10"],
                       env=e, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    got = [x["PartNumber"] for x in json.loads(p.stdout)["Parts"]]
    assert got == list(range(1, NPARTS + 1))

"""`coffer get` of a version completed from many parts of many sizes
(docs/api.md, "Digests"): its layout does not fit the 8 KiB
X-Coffer-Segments header, so the REST GET leaves it out and the CLI asks
`GET /v1/ns/{ns}/segments/{key}` for it (object:get, the version
pinned), then checks the composite digest as for any segmented version.
The parts are small through the server's test hook
COFFER_TEST_MP_PART_MIN (S3's 5 MiB minimum would make this 6 GiB)."""

import concurrent.futures
import hashlib
import os

import pytest

boto3 = pytest.importorskip("boto3")
from conftest import Cli, obj_path, small_part_server  # noqa: E402

B = "seg-many"
NPARTS = 1200


def composite(parts):
    return hashlib.sha256(b"".join(hashlib.sha256(p).digest()
                                   for p in parts)).hexdigest()


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    s, _, c = small_part_server(tmp_path_factory, B)
    c.put_bucket_versioning(Bucket=B, VersioningConfiguration={
        "Status": "Enabled"})
    # Distinct sizes, so that the runs do not compress: "10001x1,..."
    parts = [os.urandom(10000 + n) for n in range(1, NPARTS + 1)]
    uid = c.create_multipart_upload(Bucket=B, Key="d/obj")["UploadId"]

    def put(n):
        return c.upload_part(Bucket=B, Key="d/obj", UploadId=uid,
                             PartNumber=n, Body=parts[n - 1])["ETag"]
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        etags = list(ex.map(put, range(1, NPARTS + 1)))
    done = c.complete_multipart_upload(
        Bucket=B, Key="d/obj", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
    yield {"server": s, "s3": c, "parts": parts, "whole": b"".join(parts),
           "vid": done["VersionId"]}
    s.stop()


def test_rest_get_leaves_the_layout_out(many):
    s = many["server"]
    r = s.req("HEAD", obj_path(B, "d/obj"))
    assert r.status_code == 200
    assert r.headers["X-Coffer-Segment-Count"] == str(NPARTS)
    assert r.headers["X-Coffer-SHA256-Segments"] == composite(many["parts"])
    assert "X-Coffer-Segments" not in r.headers


def test_segments_endpoint(many):
    s = many["server"]
    r = s.get("/v1/ns/%s/segments/d/obj" % B)
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["version_id"] == many["vid"]
    assert j["segment_count"] == NPARTS
    assert j["sha256_segments"] == composite(many["parts"])
    assert j["size"] == len(many["whole"])
    assert j["segments"] == [len(p) for p in many["parts"]]
    r = s.get("/v1/ns/%s/segments/d/obj?version=%s" % (B, many["vid"]))
    assert r.status_code == 200 and r.json()["version_id"] == many["vid"]
    rec = [x for x in s.audit_records() if x.get("request_id") ==
           r.headers.get("X-Request-Id")]
    assert [(x["action"], x["decision"]) for x in rec] == [
        ("object:get", "allow")]
    # A version of one blob has no segments.
    many["s3"].put_object(Bucket=B, Key="plain", Body=b"plain")
    r = s.get("/v1/ns/%s/segments/plain" % B)
    assert r.status_code == 200, r.text
    assert r.json()["segment_count"] == 0 and r.json()["segments"] == []
    assert r.json()["sha256"] == hashlib.sha256(b"plain").hexdigest()
    # Refused and missing, as a GET would be.
    r = s.get("/v1/ns/%s/segments/nothing" % B)
    assert r.status_code == 404, r.text
    s.principal("segnobody")
    tok = s.token("segnobody")["token"]
    r = s.get("/v1/ns/%s/segments/d/obj" % B, token=tok)
    assert r.status_code == 403, r.text
    assert r.json()["error"]


def test_coffer_get_of_many_segments_is_checked(many, tmp_path):
    s = many["server"]
    cli = Cli(s, tmp_path / "home")
    out = tmp_path / "dl"
    out.mkdir()
    p = cli("get", "%s/d/obj" % B, str(out / "obj"))
    assert p.returncode == 0, p.stderr
    assert (out / "obj").read_bytes() == many["whole"]
    p = cli("get", "%s/d/obj" % B, "--version", many["vid"],
            str(out) + "/")
    assert p.returncode == 0, p.stderr
    assert (out / "obj").read_bytes() == many["whole"]
    # To standard output too: the layout is asked for before any byte.
    p = cli("get", "%s/d/obj" % B, "-", text=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout == many["whole"]

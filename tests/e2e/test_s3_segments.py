"""tests/e2e/test_s3_segments.py: CompleteMultipartUpload by reference
(docs/s3.md, "Multipart uploads"; docs/internals/STORE.md, "Segments").

The completed version references its parts' blobs as ordered segments
(no byte is read or written by the Complete), and every consumer of a
version's blob handles them: GET, HEAD, Range reads across segment
boundaries, `coffer get` and its digest check, CopyObject and
UploadPartCopy from a segmented source, key rotation, erasure (and its
replay on a restored backup), purge, namespace deletion, the orphan sweep,
backup and restore, and the detection of a corrupted, truncated or
reordered segment.  No test waits on the clock."""

import hashlib
import json
import os
import sqlite3

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from conftest import (Cli, Server, obj_path, s3_client,  # noqa: E402
                      wait_until)

MiB = 1024 * 1024
CHUNK = 65536
HDR = 16
TAG = 16
DAY = 86400


def s3c(server, bucket):
    r = server.post("/v1/s3-keys", {}, token="admin")
    assert r.status_code == 201, r.text
    c = s3_client(server, r.json())
    c.create_bucket(Bucket=bucket)
    return c


def mp_etag(parts):
    d = b"".join(hashlib.md5(p).digest() for p in parts)
    return '"%s-%d"' % (hashlib.md5(d).hexdigest(), len(parts))


def composite(parts):
    return hashlib.sha256(b"".join(hashlib.sha256(p).digest()
                                   for p in parts)).hexdigest()


def upload(server, c, bucket, key, parts, use=None):
    """Upload parts (numbered from 1) and complete with those in use
    (default: all); return (Complete's answer, blob file of each part,
    blob files just before the Complete)."""
    up = c.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etags, blobs = {}, {}
    for n, p in enumerate(parts, 1):
        before = set(server.blob_files())
        etags[n] = c.upload_part(Bucket=bucket, Key=key, UploadId=up,
                                 PartNumber=n, Body=p)["ETag"]
        new = sorted(set(server.blob_files()) - before)
        assert len(new) == 1, new
        blobs[n] = new[0]
    before = set(server.blob_files())
    r = c.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]}
                                   for n in (use or sorted(etags))]})
    r["UploadId"] = up
    return r, blobs, before


def segments(data, version_id):
    db = sqlite3.connect(os.path.join(data, "meta.db"))
    try:
        return db.execute("SELECT n, blob_id, size, kek_id, wrapped_dek"
                          " FROM segments WHERE version_id = ?"
                          " ORDER BY n", (version_id,)).fetchall()
    finally:
        db.close()


def blob_path(data, blob_id):
    return os.path.join(data, "blobs", blob_id[:2], blob_id)


def flip(path, off):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x01]))


def rest_get(server, ns, key, **kw):
    return server.get(obj_path(ns, key), **kw)


SIZES = [5 * MiB + 12345, 6 * MiB, 5 * MiB + CHUNK - 1, 777]


@pytest.fixture(scope="module")
def mp(server):
    """One segmented object of four parts in bucket seg-main."""
    c = s3c(server, "seg-main")
    parts = [os.urandom(n) for n in SIZES]
    r, blobs, before = upload(server, c, "seg-main", "m/obj", parts)
    return {"c": c, "parts": parts, "whole": b"".join(parts),
            "complete": r, "blobs": blobs, "before": before}


def test_complete_references_the_parts(server, mp):
    c, parts, whole = mp["c"], mp["parts"], mp["whole"]
    assert mp["complete"]["ETag"] == mp_etag(parts)
    # No blob was written: the version's segments are the parts' blobs.
    assert set(server.blob_files()) == mp["before"]
    assert server.tmp_files() == []
    v = server.get("/v1/ns/seg-main/versions/m/obj").json()["versions"][0]
    assert v["segments"] == 4 and v["size"] == len(whole)
    assert v["sha256"] == composite(parts)
    segs = segments(server.data, v["version_id"])
    assert [s[2] for s in segs] == SIZES
    assert [blob_path(server.data, s[1]) for s in segs] == \
        [mp["blobs"][n] for n in (1, 2, 3, 4)]
    # The upload is gone: its parts are the object's now.
    with pytest.raises(ClientError) as e:
        c.list_parts(Bucket="seg-main", Key="m/obj",
                     UploadId=mp["complete"]["UploadId"])
    assert e.value.response["Error"]["Code"] == "NoSuchUpload"
    with pytest.raises(ClientError) as e:
        c.abort_multipart_upload(Bucket="seg-main", Key="m/obj",
                                 UploadId=mp["complete"]["UploadId"])
    assert e.value.response["Error"]["Code"] == "NoSuchUpload"
    assert all(os.path.exists(b) for b in mp["blobs"].values())


def test_get_and_ranges_across_segments(server, mp):
    c, whole = mp["c"], mp["whole"]
    got = c.get_object(Bucket="seg-main", Key="m/obj")
    assert got["ETag"] == mp_etag(mp["parts"])
    assert got["Body"].read() == whole
    h = c.head_object(Bucket="seg-main", Key="m/obj")
    assert h["ContentLength"] == len(whole)
    b1 = SIZES[0]
    b2 = b1 + SIZES[1]
    b3 = b2 + SIZES[2]
    for a, z in [(b1 - 1, b1), (b1 - 100, b1 + 99), (b2 - CHUNK, b2 + 5),
                 (b1 - 7, b3 + 3), (0, len(whole) - 1),
                 (len(whole) - 1, len(whole) - 1), (b3, b3),
                 (b2 + 1, b3 - 1), (b1 - 3 * MiB, b2 + 2 * MiB)]:
        rng = c.get_object(Bucket="seg-main", Key="m/obj",
                           Range="bytes=%d-%d" % (a, z))["Body"].read()
        assert rng == whole[a:z + 1], (a, z)
    # The REST path: its digest headers say what the digest is of.
    r = rest_get(server, "seg-main", "m/obj")
    assert r.status_code == 200 and r.content == whole
    assert "X-Coffer-SHA256" not in r.headers
    assert r.headers["X-Coffer-SHA256-Segments"] == composite(mp["parts"])
    assert r.headers["X-Coffer-Segment-Count"] == "4"
    assert r.headers["X-Coffer-Segments"] == ",".join(
        "%dx1" % n for n in SIZES)
    r = rest_get(server, "seg-main", "m/obj",
                 headers={"Range": "bytes=%d-%d" % (b1 - 10, b1 + 9)})
    assert r.status_code == 206 and r.content == whole[b1 - 10:b1 + 10]


def test_coffer_get_checks_the_segments_digest(server, mp, cli, tmp_path):
    out = tmp_path / "dl"
    out.mkdir()
    p = cli("get", "seg-main/m/obj", str(out) + "/")
    assert p.returncode == 0, p.stderr
    assert (out / "obj").read_bytes() == mp["whole"]
    p = cli("head", "seg-main/m/obj")
    assert p.returncode == 0, p.stderr
    assert "%s (of its segments' SHA-256s)" % composite(mp["parts"]) \
        in p.stdout
    # To standard output (a pipe): checked as the bytes stream by.
    p = cli("get", "seg-main/m/obj", "-", text=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout == mp["whole"]


def test_coffer_get_refuses_a_wrong_segments_digest(make_server,
                                                      tmp_path):
    """`coffer get` checks the composite digest: one that does not
    match the bytes (the metadata altered under a stopped server) fails
    with exit 7 and leaves no file."""
    s = make_server()
    c = s3c(s, "seg-dig")
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    upload(s, c, "seg-dig", "k", parts)
    cli = Cli(s, tmp_path / "home")
    out = tmp_path / "dl"
    out.mkdir()
    p = cli("get", "seg-dig/k", str(out) + "/")
    assert p.returncode == 0, p.stderr
    vid = s.get("/v1/ns/seg-dig/versions/k").json()["versions"][0][
        "version_id"]
    s.stop()
    db = sqlite3.connect(os.path.join(s.data, "meta.db"))
    db.execute("UPDATE versions SET sha256 = ? WHERE version_id = ?",
               ("0" * 64, vid))
    db.commit()
    db.close()
    s.start()
    p = cli("get", "seg-dig/k", str(out / "again"))
    assert p.returncode == 7, (p.stdout, p.stderr)
    assert "segments mismatch" in p.stderr
    assert not (out / "again").exists()


def test_share_link_download_of_segmented(server, mp):
    """A share link serves a segmented version through the same reader,
    with its segments' digest headers."""
    import requests

    r = server.post("/v1/shares", {"ns": "seg-main", "key": "m/obj"})
    assert r.status_code == 201, r.text
    got = requests.get(server.url + r.json()["path"], verify=server.verify,
                       timeout=60)
    assert got.status_code == 200 and got.content == mp["whole"]
    assert "X-Coffer-SHA256" not in got.headers
    assert got.headers["X-Coffer-SHA256-Segments"] == \
        composite(mp["parts"])
    assert got.headers["X-Coffer-Segments"] == ",".join(
        "%dx1" % n for n in SIZES)


def test_artifact_copy_of_a_segmented_file(server):
    """An artifact whose file is a segmented version: an artifact copy
    (the code path of a promotion: share_prepare) shares its segments'
    blobs, each key rebound to the new version."""
    c = s3c(server, "seg-art")
    parts = [os.urandom(5 * MiB + 11), os.urandom(4096)]
    upload(server, c, "seg-art", "model/weights.bin", parts)
    v = server.get("/v1/ns/seg-art/versions/model/weights.bin").json()[
        "versions"][0]
    r = server.post("/v1/ns/seg-art/artifacts/model", {"files": [
        {"path": "weights.bin", "version_id": v["version_id"],
         "sha256": v["sha256"], "size": v["size"]}]})
    assert r.status_code == 201, r.text
    server.mkns("seg-art2")
    before = set(server.blob_files())
    r = server.post("/v1/ns/seg-art2/artifact-copies/model",
                    {"from_ns": "seg-art"})
    assert r.status_code == 201, r.text
    assert set(server.blob_files()) == before
    got = rest_get(server, "seg-art2", "model/weights.bin")
    assert got.status_code == 200 and got.content == b"".join(parts)
    nv = server.get("/v1/ns/seg-art2/versions/model/weights.bin").json()[
        "versions"][0]
    assert nv["segments"] == 2 and nv["sha256"] == v["sha256"]
    s1 = segments(server.data, v["version_id"])
    s2 = segments(server.data, nv["version_id"])
    assert [x[1] for x in s1] == [x[1] for x in s2]
    assert all(x[4] != y[4] for x, y in zip(s1, s2))


def test_parts_from_an_older_server_are_copied(make_server):
    """Parts stored before parts kept their SHA-256 (an upload in flight
    across the upgrade) cannot make a composite digest: that upload is
    completed by copying, into one blob, as before."""
    s = make_server()
    c = s3c(s, "seg-old")
    parts = [os.urandom(5 * MiB + 1), os.urandom(77)]
    up = c.create_multipart_upload(Bucket="seg-old", Key="k")["UploadId"]
    etags = [c.upload_part(Bucket="seg-old", Key="k", UploadId=up,
                           PartNumber=n, Body=p)["ETag"]
             for n, p in enumerate(parts, 1)]
    s.stop()
    db = sqlite3.connect(os.path.join(s.data, "meta.db"))
    db.execute("UPDATE mp_parts SET sha256 = ''")
    db.commit()
    db.close()
    s.start()
    c = s3c(s, "seg-old2")
    before = set(s.blob_files())
    r = c.complete_multipart_upload(
        Bucket="seg-old", Key="k", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e}
                                   for n, e in enumerate(etags, 1)]})
    assert r["ETag"] == mp_etag(parts)
    after = set(s.blob_files())
    assert len(after - before) == 1 and len(before - after) == 2
    v = s.get("/v1/ns/seg-old/versions/k").json()["versions"][0]
    assert "segments" not in v
    assert v["sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()
    got = rest_get(s, "seg-old", "k")
    assert got.content == b"".join(parts)
    assert got.headers["X-Coffer-SHA256"] == v["sha256"]


def test_unused_part_deleted_used_parts_kept(server):
    c = s3c(server, "seg-unused")
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(100)]
    r, blobs, before = upload(server, c, "seg-unused", "k", parts,
                              use=[1, 3])
    assert r["ETag"] == mp_etag([parts[0], parts[2]])
    assert not os.path.exists(blobs[2])
    assert os.path.exists(blobs[1]) and os.path.exists(blobs[3])
    assert c.get_object(Bucket="seg-unused", Key="k")["Body"].read() == \
        parts[0] + parts[2]


def test_copy_and_partcopy_share_segments(server, mp):
    c, whole = mp["c"], mp["whole"]
    c.create_bucket(Bucket="seg-copy")
    before = set(server.blob_files())
    c.copy_object(Bucket="seg-copy", Key="copied",
                  CopySource={"Bucket": "seg-main", "Key": "m/obj"})
    c.copy_object(Bucket="seg-main", Key="m/copy2",
                  CopySource={"Bucket": "seg-main", "Key": "m/obj"})
    # Server-side, by reference: no new blob.
    assert set(server.blob_files()) == before
    got = c.get_object(Bucket="seg-copy", Key="copied")
    assert got["ETag"] == mp_etag(mp["parts"])
    assert got["Body"].read() == whole
    a = SIZES[0] - 1000
    assert c.get_object(Bucket="seg-main", Key="m/copy2",
                        Range="bytes=%d-%d" % (a, a + 2999))[
        "Body"].read() == whole[a:a + 3000]
    # The copy's segment keys are its own (bound to its id).
    src = server.get("/v1/ns/seg-main/versions/m/obj").json()[
        "versions"][0]["version_id"]
    dst = server.get("/v1/ns/seg-copy/versions/copied").json()[
        "versions"][0]["version_id"]
    s1, s2 = segments(server.data, src), segments(server.data, dst)
    assert [x[1] for x in s1] == [x[1] for x in s2]
    assert all(x[4] != y[4] for x, y in zip(s1, s2))
    # UploadPartCopy from the segmented source, across a boundary.
    up = c.create_multipart_upload(Bucket="seg-copy", Key="pc")["UploadId"]
    lo, hi = SIZES[0] - 3 * MiB, SIZES[0] + 3 * MiB - 1
    e1 = c.upload_part_copy(Bucket="seg-copy", Key="pc", UploadId=up,
                            PartNumber=1,
                            CopySource={"Bucket": "seg-main",
                                        "Key": "m/obj"},
                            CopySourceRange="bytes=%d-%d" % (lo, hi))
    e2 = c.upload_part(Bucket="seg-copy", Key="pc", UploadId=up,
                       PartNumber=2, Body=b"tail")
    c.complete_multipart_upload(
        Bucket="seg-copy", Key="pc", UploadId=up,
        MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": e1["CopyPartResult"]["ETag"]},
            {"PartNumber": 2, "ETag": e2["ETag"]}]})
    assert c.get_object(Bucket="seg-copy", Key="pc")["Body"].read() == \
        whole[lo:hi + 1] + b"tail"


def test_orphan_sweep_keeps_segments(make_server):
    """The start-up sweep runs alone (no grace): a blob a segment
    references is no orphan; an incomplete upload's parts stay too."""
    s = make_server()
    c = s3c(s, "seg-orph")
    parts = [os.urandom(5 * MiB + 1), os.urandom(4321)]
    upload(s, c, "seg-orph", "k", parts)
    pending = c.create_multipart_upload(Bucket="seg-orph",
                                        Key="p")["UploadId"]
    c.upload_part(Bucket="seg-orph", Key="p", UploadId=pending,
                  PartNumber=1, Body=b"pending part")
    blobs = set(s.blob_files())
    s.restart()
    assert set(s.blob_files()) == blobs
    c = s3c(s, "seg-orph2")
    assert c.get_object(Bucket="seg-orph", Key="k")["Body"].read() == \
        b"".join(parts)


@pytest.mark.parametrize("how", ["flip-first", "flip-last", "truncate",
                                 "swap", "drop-row"])
def test_damaged_segment_detected(make_server, how):
    s = make_server()
    c = s3c(s, "seg-bad")
    parts = [os.urandom(5 * MiB + 3), os.urandom(5 * MiB + 70000),
             os.urandom(1000)]
    upload(s, c, "seg-bad", "k", parts)
    whole = b"".join(parts)
    vid = s.get("/v1/ns/seg-bad/versions/k").json()["versions"][0][
        "version_id"]
    segs = segments(s.data, vid)
    p2 = blob_path(s.data, segs[1][1])
    if how == "flip-first":
        flip(p2, HDR + 10)
    elif how == "flip-last":
        flip(p2, os.path.getsize(p2) - TAG - 5)
    elif how == "truncate":
        with open(p2, "r+b") as f:
            f.truncate(os.path.getsize(p2) - 1)
    else:
        s.stop()
        db = sqlite3.connect(os.path.join(s.data, "meta.db"))
        if how == "swap":
            # Segments 0 and 1 change places (their rows, keys and all
            # but their numbers).
            db.execute("UPDATE segments SET n = n + 100 WHERE"
                       " version_id = ? AND n IN (0, 1)", (vid,))
            db.execute("UPDATE segments SET n = 1 WHERE version_id = ?"
                       " AND n = 100", (vid,))
            db.execute("UPDATE segments SET n = 0 WHERE version_id = ?"
                       " AND n = 101", (vid,))
        else:
            db.execute("DELETE FROM segments WHERE version_id = ?"
                       " AND n = 2", (vid,))
        db.commit()
        db.close()
        s.start()
    # Part 1's bytes alone still read where they are intact.
    if how in ("flip-first", "flip-last", "truncate"):
        r = rest_get(s, "seg-bad", "k",
                     headers={"Range": "bytes=0-99"})
        assert r.status_code == 206 and r.content == whole[:100]
    # The whole object never reads back as if it were fine.
    try:
        r = rest_get(s, "seg-bad", "k")
        ok = r.status_code == 200 and r.content == whole
    except Exception:       # the connection cut mid-body
        ok = False
    assert not ok
    b1 = len(parts[0])
    try:
        r = rest_get(s, "seg-bad", "k", headers={
            "Range": "bytes=%d-%d" % (b1 + 1, len(whole) - 1)})
        ok = r.status_code == 206 and r.content == whole[b1 + 1:]
    except Exception:
        ok = False
    assert not ok
    recs = [x for x in s.audit_records()
            if x.get("resource", "").endswith("/obj/k") and
            x.get("action") == "object:get"]
    assert recs


def test_key_rotation_rewraps_segments(make_server):
    s = make_server()
    c = s3c(s, "seg-rot")
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 9), b"x" * 10]
    upload(s, c, "seg-rot", "k", parts)
    vid = s.get("/v1/ns/seg-rot/versions/k").json()["versions"][0][
        "version_id"]
    assert {x[3] for x in segments(s.data, vid)} == {"kek-1"}
    assert s.post("/v1/keys").json()["active"] == "kek-2"
    # The rewrap runs in the background after the rotation's answer.
    assert wait_until(
        lambda: s.get("/v1/keys").json()["rewrap"]["pending"] == 0, 120)
    assert {x[3] for x in segments(s.data, vid)} == {"kek-2"}
    r = s.req("DELETE", "/v1/keys/kek-1")
    assert r.status_code == 200, r.text
    assert c.get_object(Bucket="seg-rot", Key="k")["Body"].read() == \
        b"".join(parts)
    c.copy_object(Bucket="seg-rot", Key="k2",
                  CopySource={"Bucket": "seg-rot", "Key": "k"})
    assert c.get_object(Bucket="seg-rot", Key="k2")["Body"].read() == \
        b"".join(parts)


def test_erase_shreds_every_segment(make_server, tmp_path):
    s = make_server()
    cli = Cli(s, tmp_path / "home")
    c = s3c(s, "seg-er")
    parts = [os.urandom(5 * MiB), os.urandom(2000)]
    _, blobs, _ = upload(s, c, "seg-er", "pii", parts)
    c.copy_object(Bucket="seg-er", Key="pii-copy",
                  CopySource={"Bucket": "seg-er", "Key": "pii"})
    vid = s.get("/v1/ns/seg-er/versions/pii").json()["versions"][0][
        "version_id"]
    p = cli("erase", "seg-er/pii", "--reason", "art. 17", "--json")
    assert p.returncode == 0, p.stderr
    vers = {v["key"] for v in json.loads(p.stdout)["versions"]}
    # The copy shares the segments' blobs: erased with them.
    assert vers == {"pii", "pii-copy"}
    for k in ("pii", "pii-copy"):
        r = rest_get(s, "seg-er", k)
        assert r.status_code == 410, r.text
        assert r.json()["error"]["code"] == "erased"
    assert not any(os.path.exists(b) for b in blobs.values())
    for n, blob, _size, kek, wrapped in segments(s.data, vid):
        assert blob == "" and kek == "erased" and wrapped == bytes(60)


def test_purge_drops_segment_blobs(make_server, tmp_path):
    s = make_server([], start=False)
    s.use_test_clock(0)
    s.start()
    cli = Cli(s, tmp_path / "home")
    c = s3c(s, "seg-pur")
    parts = [os.urandom(5 * MiB), os.urandom(3000)]
    _, blobs, _ = upload(s, c, "seg-pur", "k", parts)
    c.put_object(Bucket="seg-pur", Key="k", Body=b"newer")
    p = cli("ns", "set", "seg-pur", "--purge-after-days", "10")
    assert p.returncode == 0, p.stderr
    s.stop()
    s.set_clock(11 * DAY)
    s.start()
    s.set_clock(0)
    assert [x for x in s.audit_records()
            if x.get("action") == "privacy:purge"]
    assert not any(os.path.exists(b) for b in blobs.values())
    c = s3c(s, "seg-pur2")
    assert c.get_object(Bucket="seg-pur", Key="k")["Body"].read() == \
        b"newer"


def test_namespace_delete_removes_segment_blobs(make_server):
    s = make_server()
    c = s3c(s, "seg-nsa")
    c.create_bucket(Bucket="seg-nsb")
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"z"]
    _, blobs, _ = upload(s, c, "seg-nsa", "k", parts)
    c.copy_object(Bucket="seg-nsb", Key="k",
                  CopySource={"Bucket": "seg-nsa", "Key": "k"})
    c.delete_object(Bucket="seg-nsa", Key="k")
    r = s.req("DELETE", "/v1/ns/seg-nsa")
    assert r.status_code == 200, r.text
    # The copy in the other bucket still references them.
    assert all(os.path.exists(b) for b in blobs.values())
    assert c.get_object(Bucket="seg-nsb", Key="k")["Body"].read() == \
        b"".join(parts)
    c.delete_object(Bucket="seg-nsb", Key="k")
    r = s.req("DELETE", "/v1/ns/seg-nsb")
    assert r.status_code == 200, r.text
    assert not any(os.path.exists(b) for b in blobs.values())


def test_namespace_delete_counts_versions(server):
    """versions_destroyed counts versions (not delete markers): one for
    a version of three parts, one for a copy that shares its source's
    blob."""
    c = s3c(server, "seg-cnt")
    upload(server, c, "seg-cnt", "mp",
           [os.urandom(5 * MiB), os.urandom(5 * MiB), b"tail"])
    c.put_object(Bucket="seg-cnt", Key="plain", Body=b"one")
    c.put_object(Bucket="seg-cnt", Key="plain", Body=b"two")
    c.copy_object(Bucket="seg-cnt", Key="copy",
                  CopySource={"Bucket": "seg-cnt", "Key": "plain"})
    for k in ("mp", "plain", "copy"):
        c.delete_object(Bucket="seg-cnt", Key=k)
    r = server.req("DELETE", "/v1/ns/seg-cnt")
    assert r.status_code == 200, r.text
    assert r.json()["versions_destroyed"] == 4


def test_backup_restore_and_erase_replay(make_server, tmp_path):
    import shutil

    bd = tmp_path / "backups"
    bd.mkdir(mode=0o700)
    s = make_server(extra_args=["--set", "backup_dir=%s" % bd])
    cli = Cli(s, tmp_path / "home")
    c = s3c(s, "seg-bk")
    parts = [os.urandom(5 * MiB + 5), os.urandom(5 * MiB), b"end\n"]
    whole = b"".join(parts)
    upload(s, c, "seg-bk", "k", parts)
    vid = s.get("/v1/ns/seg-bk/versions/k").json()["versions"][0][
        "version_id"]
    p = cli("backup", "b1")
    assert p.returncode == 0, p.stderr
    b = os.path.join(str(bd), "b1")
    shutil.copytree(os.path.join(s.data, "blobs"), os.path.join(b, "blobs"),
                    ignore=shutil.ignore_patterns("tmp", ".lock"))
    p = cli("erase", "seg-bk/k", "--reason", "after the backup")
    assert p.returncode == 0, p.stderr

    def restored(name):
        r = Server(tmp_path / name)
        shutil.copytree(b, r.data)
        os.chmod(r.data, 0o700)
        r.env["COFFER_MASTER_KEY_FILE"] = s.master_key
        r.auto_admin = False
        r.admin_token = s.admin_api_token
        r.admin_api_token = s.admin_api_token
        return r

    r = restored("restored")
    r.start()
    try:
        got = r.get_obj("seg-bk", "k")
        assert got.status_code == 200 and got.content == whole
        a = len(parts[0]) - 50
        got = r.get(obj_path("seg-bk", "k"),
                    headers={"Range": "bytes=%d-%d" % (a, a + 99)})
        assert got.status_code == 206 and got.content == whole[a:a + 100]
    finally:
        r.stop()
    # The erasure made after the backup reaches the restore: every
    # segment's key and blob.
    segblobs = [blob_path(r.data, x[1]) for x in segments(r.data, vid)]
    assert len(segblobs) == 3 and all(os.path.exists(x) for x in segblobs)
    p = cli("erase", "--replay-on", r.data, "--from", s.data, "--json",
            env={"COFFER_MASTER_KEY_FILE": s.master_key},
            with_server=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["blobs_deleted"] == 3
    assert not any(os.path.exists(x) for x in segblobs)
    r.start()
    try:
        assert r.get_obj("seg-bk", "k").status_code == 410
    finally:
        r.stop()

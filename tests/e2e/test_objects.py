"""Objects: put/get/head/delete, listing, versions, digests, ranges,
metadata, large bodies and strange keys."""

import hashlib
import os
import subprocess
import urllib.parse

import pytest

from conftest import enc_key, obj_path, sha256, ver_path

NS = "objects-e2e"


@pytest.fixture(scope="module")
def ns(server):
    server.mkns(NS)
    return NS


def put(server, key, data, **kw):
    r = server.put_obj(NS, key, data, **kw)
    assert r.status_code == 201, (key, r.status_code, r.text)
    return r.json()


def test_put_get_head_delete(server, ns):
    data = b"hello coffer\n"
    v = put(server, "basic/one", data)
    assert v["ns"] == ns and v["key"] == "basic/one"
    assert v["size"] == len(data) and v["sha256"] == sha256(data)
    assert v["delete_marker"] is False and v["latest"] is True
    assert v["created_by"] == "admin"
    assert v["content_type"] == "application/octet-stream"

    r = server.get_obj(ns, "basic/one")
    assert r.status_code == 200 and r.content == data
    h = r.headers
    assert h["ETag"] == '"%s"' % sha256(data)
    assert h["X-Coffer-SHA256"] == sha256(data)
    assert h["X-Coffer-Version-Id"] == v["version_id"]
    assert h["Content-Length"] == str(len(data))
    assert h["Accept-Ranges"] == "bytes"
    assert h.get("Last-Modified")
    assert h["Content-Type"] == "application/octet-stream"

    r = server.req("HEAD", obj_path(ns, "basic/one"))
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == str(len(data))
    assert r.headers["X-Coffer-SHA256"] == sha256(data)
    assert r.headers["X-Coffer-Version-Id"] == v["version_id"]

    r = server.req("DELETE", obj_path(ns, "basic/one"))
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["delete_marker"] is True and d["key"] == "basic/one"
    assert d["version_id"] != v["version_id"]

    r = server.get_obj(ns, "basic/one")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_such_key"
    assert server.req("HEAD", obj_path(ns, "basic/one")).status_code == 404
    # The old version stays readable by id.
    r = server.get_obj(ns, "basic/one",
                       params={"version": v["version_id"]})
    assert r.status_code == 200 and r.content == data


def test_get_missing_key_and_namespace(server, ns):
    r = server.get_obj(ns, "never/was")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_such_key"
    put(server, "vmiss", b"x")
    r = server.get_obj(ns, "vmiss", params={"version": "0" * 32})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_such_version"


def test_get_in_missing_namespace_says_no_such_namespace(server):
    for method, path in (("GET", obj_path("no-such-ns", "k")),
                         ("DELETE", obj_path("no-such-ns", "k")),
                         ("GET", ver_path("no-such-ns", "k"))):
        r = server.req(method, path)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "no_such_namespace", \
            (method, path, r.text)


def test_versions_and_version_param(server, ns):
    bodies = [b"v1", b"version two", b"3"]
    made = [put(server, "ver/k", b) for b in bodies]
    vs = server.versions(ns, "ver/k")
    assert [v["version_id"] for v in vs] == \
        [m["version_id"] for m in reversed(made)]
    assert vs[0]["latest"] is True
    assert all(v["latest"] is False for v in vs[1:])
    assert [v["size"] for v in vs] == [1, 11, 2]
    for m, b in zip(made, bodies):
        r = server.get_obj(ns, "ver/k", params={"version": m["version_id"]})
        assert r.status_code == 200 and r.content == b
        assert r.headers["X-Coffer-Version-Id"] == m["version_id"]
    assert server.get_obj(ns, "ver/k").content == b"3"
    # A delete marker becomes the newest version.
    d = server.req("DELETE", obj_path(ns, "ver/k")).json()
    vs = server.versions(ns, "ver/k")
    assert len(vs) == 4
    assert vs[0]["version_id"] == d["version_id"]
    assert vs[0]["delete_marker"] is True
    r = server.req("HEAD", obj_path(ns, "ver/k"),
                   params={"version": made[1]["version_id"]})
    assert r.status_code == 200
    assert r.headers["Content-Length"] == "11"
    # Putting again resurrects the key.
    put(server, "ver/k", b"back")
    assert server.get_obj(ns, "ver/k").content == b"back"


def test_digest_header_ok_and_mismatch(server, ns):
    data = b"digest me" * 100
    v = put(server, "dig/ok", data, headers={"X-Coffer-SHA256": sha256(data)})
    assert v["sha256"] == sha256(data)
    before = server.versions(ns, "dig/ok")
    blobs = server.blob_files()
    r = server.put_obj(ns, "dig/ok", b"other bytes",
                       headers={"X-Coffer-SHA256": sha256(data)})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "digest_mismatch"
    assert server.versions(ns, "dig/ok") == before
    assert server.get_obj(ns, "dig/ok").content == data
    assert server.blob_files() == blobs
    assert server.tmp_files() == []
    # New key: nothing visible at all.
    r = server.put_obj(ns, "dig/new", b"abc",
                       headers={"X-Coffer-SHA256": "0" * 64})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "digest_mismatch"
    assert server.versions(ns, "dig/new") == []
    assert server.get_obj(ns, "dig/new").status_code == 404


def test_large_body_staged_round_trip_and_mismatch(server, ns):
    # Past 2 MiB a body is hashed and encrypted on a worker thread and
    # written by the blob writer's I/O thread: odd sizes across both
    # double buffers must round-trip exactly, and a digest mismatch must
    # still store nothing.
    data = os.urandom((9 << 20) + 12345)
    v = put(server, "big/ok", data, headers={"X-Coffer-SHA256": sha256(data)})
    assert v["sha256"] == sha256(data) and v["size"] == len(data)
    assert server.get_obj(ns, "big/ok").content == data
    blobs = server.blob_files()
    other = data[:-1] + bytes([data[-1] ^ 1])
    r = server.put_obj(ns, "big/ok", other,
                       headers={"X-Coffer-SHA256": sha256(data)})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "digest_mismatch"
    assert len(server.versions(ns, "big/ok")) == 1
    assert server.blob_files() == blobs
    assert server.tmp_files() == []


def test_malformed_digest_header(server, ns):
    r = server.put_obj(ns, "dig/bad", b"abc",
                       headers={"X-Coffer-SHA256": "nothex"})
    assert r.status_code == 400
    assert server.versions(ns, "dig/bad") == []


def test_content_type_and_user_metadata_round_trip(server, ns):
    v = put(server, "meta/k", b"{}", headers={
        "Content-Type": "application/json",
        "X-Coffer-Meta-Stage": "prod",
        "X-Coffer-Meta-Owner": "team-fraud"})
    meta = {k.lower(): val for k, val in v["meta"].items()}
    assert meta == {"stage": "prod", "owner": "team-fraud"}
    assert v["content_type"] == "application/json"
    for method in ("GET", "HEAD"):
        r = server.req(method, obj_path(ns, "meta/k"))
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["X-Coffer-Meta-Stage"] == "prod"
        assert r.headers["X-Coffer-Meta-Owner"] == "team-fraud"
    vs = server.versions(ns, "meta/k")
    assert {k.lower(): x for k, x in vs[0]["meta"].items()} == meta


def test_user_metadata_over_limit_rejected(server, ns):
    r = server.put_obj(ns, "meta/big", b"x",
                       headers={"X-Coffer-Meta-Big": "v" * 3000})
    assert r.status_code in (400, 413), r.text
    assert server.versions(ns, "meta/big") == []


# ---- ranges ----

@pytest.fixture(scope="module")
def ranged(server, ns):
    data = os.urandom(200 * 1024)
    put(server, "range/200k", data)
    return data


@pytest.mark.parametrize("spec,lo,hi", [
    ("bytes=0-9", 0, 9),
    ("bytes=10-", 10, 200 * 1024 - 1),
    ("bytes=-5", 200 * 1024 - 5, 200 * 1024 - 1),
    ("bytes=65530-65545", 65530, 65545),          # one chunk boundary
    ("bytes=65536-65536", 65536, 65536),          # first byte of chunk 2
    ("bytes=65535-131072", 65535, 131072),        # two boundaries
    ("bytes=1000-204799", 1000, 204799),          # all chunks
    ("bytes=131000-300000", 131000, 204799),      # end clamped
])
def test_range(server, ns, ranged, spec, lo, hi):
    r = server.get_obj(ns, "range/200k", headers={"Range": spec})
    assert r.status_code == 206, r.text[:200]
    assert r.content == ranged[lo:hi + 1]
    assert r.headers["Content-Range"] == "bytes %d-%d/%d" % (
        lo, hi, len(ranged))
    assert r.headers["Content-Length"] == str(hi - lo + 1)


@pytest.mark.parametrize("spec", ["bytes=204800-", "bytes=300000-300010"])
def test_range_outside_object_416(server, ns, ranged, spec):
    r = server.get_obj(ns, "range/200k", headers={"Range": spec})
    assert r.status_code == 416
    assert r.headers.get("Content-Range") == "bytes */%d" % len(ranged)
    assert r.json()["error"]["code"] == "invalid_range"


@pytest.mark.parametrize("spec", ["bytes=9-1", "bytes=abc", "pages=0-1",
                                  "bytes=1-2-3", "bytes=-"])
def test_range_malformed_never_partial_junk(server, ns, ranged, spec):
    r = server.get_obj(ns, "range/200k", headers={"Range": spec})
    # RFC 9110 lets a server ignore a bad Range (200 with everything).
    assert r.status_code in (200, 400, 416), r.status_code
    if r.status_code == 200:
        assert r.content == ranged
        assert "Content-Range" not in r.headers


@pytest.mark.parametrize("spec", ["bytes=9-1", "bytes=abc", "bytes=1-2-3",
                                  "items=0-1"])
def test_malformed_range_is_ignored(server, ns, ranged, spec):
    """docs/api.md: a Range that is not one well-formed byte range is
    ignored and the whole object is sent (RFC 9110 allows this)."""
    r = server.get_obj(ns, "range/200k", headers={"Range": spec})
    assert r.status_code == 200
    assert r.content == ranged
    assert "Content-Range" not in r.headers


# ---- sizes ----

def test_empty_object(server, ns):
    v = put(server, "size/empty", b"")
    assert v["size"] == 0 and v["sha256"] == sha256(b"")
    r = server.get_obj(ns, "size/empty")
    assert r.status_code == 200 and r.content == b""


def test_1kib_round_trip(server, ns):
    data = os.urandom(1024)
    v = put(server, "size/1k", data,
            headers={"X-Coffer-SHA256": sha256(data)})
    assert v["size"] == 1024
    r = server.get_obj(ns, "size/1k", stream=True)
    h = hashlib.sha256()
    n = 0
    for chunk in r.iter_content(4096):
        h.update(chunk)
        n += len(chunk)
    assert n == 1024 and h.hexdigest() == sha256(data)


def test_50mib_round_trip_streaming(server, ns, tmp_path):
    path = tmp_path / "big.bin"
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(50):
            block = os.urandom(1 << 20)
            h.update(block)
            f.write(block)
    digest = h.hexdigest()
    with open(path, "rb") as f:
        r = server.put_obj(ns, "size/50m", f,
                           headers={"X-Coffer-SHA256": digest})
    assert r.status_code == 201, r.text
    assert r.json()["size"] == 50 << 20 and r.json()["sha256"] == digest
    os.unlink(path)
    r = server.get_obj(ns, "size/50m", stream=True)
    assert r.status_code == 200
    assert r.headers["Content-Length"] == str(50 << 20)
    h2 = hashlib.sha256()
    n = 0
    for chunk in r.iter_content(1 << 20):
        h2.update(chunk)
        n += len(chunk)
    assert n == 50 << 20
    assert h2.hexdigest() == digest == r.headers["X-Coffer-SHA256"]


def test_chunked_upload_without_length(server, ns):
    parts = [os.urandom(70000), os.urandom(3), os.urandom(65536)]
    v = put(server, "size/chunked", (p for p in parts))
    data = b"".join(parts)
    assert v["size"] == len(data) and v["sha256"] == sha256(data)
    assert server.get_obj(ns, "size/chunked").content == data


# ---- listing ----

@pytest.fixture(scope="module")
def listing(server):
    name = "listing-e2e"
    server.mkns(name)
    keys = ["a/1", "a/2", "a/b/1", "a/b/2", "a/c/1", "b", "c/x", "c/y/z",
            "d"]
    for k in keys:
        assert server.put_obj(name, k, k.encode()).status_code == 201
    # A deleted key does not show.
    assert server.put_obj(name, "gone", b"x").status_code == 201
    assert server.req("DELETE", obj_path(name, "gone")).status_code == 200
    return name, keys


def lst(server, ns, **params):
    r = server.get("/v1/ns/%s/objects" % ns, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_list_all_in_byte_order(server, listing):
    ns, keys = listing
    out = lst(server, ns)
    assert [o["key"] for o in out["objects"]] == sorted(keys)
    assert out.get("prefixes", []) == []
    assert not out.get("truncated", False)
    o = out["objects"][0]
    assert o["size"] == 3 and o["sha256"] == sha256(b"a/1")
    assert o["version_id"] and o["created"] and o["content_type"]


def test_list_prefix(server, listing):
    ns, _ = listing
    out = lst(server, ns, prefix="a/b/")
    assert [o["key"] for o in out["objects"]] == ["a/b/1", "a/b/2"]
    assert lst(server, ns, prefix="zzz")["objects"] == []


def test_list_delimiter(server, listing):
    ns, _ = listing
    out = lst(server, ns, delimiter="/")
    assert [o["key"] for o in out["objects"]] == ["b", "d"]
    assert out["prefixes"] == ["a/", "c/"]
    out = lst(server, ns, prefix="a/", delimiter="/")
    assert [o["key"] for o in out["objects"]] == ["a/1", "a/2"]
    assert out["prefixes"] == ["a/b/", "a/c/"]


def test_list_pagination(server, listing):
    ns, keys = listing
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 2}
        if after is not None:
            params["after"] = after
        out = lst(server, ns, **params)
        pages += 1
        got = [o["key"] for o in out["objects"]]
        assert len(got) <= 2
        seen += got
        if not out["truncated"]:
            break
        after = out["next"]
        assert pages < 20
    assert seen == sorted(keys)
    assert pages == 5


def test_list_pagination_with_delimiter(server, listing):
    ns, _ = listing
    out = lst(server, ns, delimiter="/", limit=1)
    assert out["truncated"] is True
    assert out["prefixes"] == ["a/"] and out["objects"] == []
    assert out["next"] == "a/"
    items = ["a/"]
    while out["truncated"]:
        out = lst(server, ns, delimiter="/", limit=1, after=out["next"])
        items += out["prefixes"] + [o["key"] for o in out["objects"]]
    assert items == ["a/", "b", "c/", "d"]


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "x"])
def test_list_bad_limit(server, listing, limit):
    ns, _ = listing
    r = server.get("/v1/ns/%s/objects" % ns, params={"limit": limit})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_request"


# ---- keys are names, not paths ----

STRANGE_KEYS = ["../../x", "a//b", "\u00fcn\u00efc\u00f6d\u00e9/\u043a\u043b\u044e\u0447",
                "with space?and#hash", "./dot", "trailing/", "%41literal",
                "/leading"]


@pytest.mark.parametrize("key", STRANGE_KEYS)
def test_strange_keys_round_trip(server, ns, key):
    data = ("content of " + key).encode()
    v = put(server, "k/" + key if key.startswith("/") else key, data)
    stored = v["key"]
    assert stored == ("k/" + key if key.startswith("/") else key)
    assert server.get_obj(ns, stored).content == data
    assert server.versions(ns, stored)[0]["sha256"] == sha256(data)
    out = lst(server, ns, prefix=stored)
    assert stored in [o["key"] for o in out["objects"]]


def test_dot_segments_literal_with_curl_path_as_is(server, ns, tmp_path):
    src = tmp_path / "body"
    src.write_bytes(b"dotdot via curl")
    url = server.url + "/v1/ns/%s/objects/../../curl-x" % ns
    p = subprocess.run(
        ["curl", "-sS", "--path-as-is", "--cacert", server.ca, "-o",
         str(tmp_path / "resp"), "-w", "%{http_code}", "-H",
         "Authorization: Bearer " + server.admin_token, "-T", str(src), url],
        capture_output=True, text=True, timeout=60)
    assert p.stdout == "201", (p.stdout, p.stderr,
                               (tmp_path / "resp").read_text())
    assert server.get_obj(ns, "../../curl-x").content == b"dotdot via curl"


def test_no_file_created_from_key_names(server, ns):
    put(server, "../../x", b"escape attempt")
    put(server, "../../../../../../tmp/coffer-e2e-x", b"escape attempt")
    assert not os.path.exists("/tmp/coffer-e2e-x")
    for root, dirs, files in os.walk(server.workdir):
        assert "x" not in files, root
        assert "coffer-e2e-x" not in files
    d = server.data
    for up in range(1, 4):
        d = os.path.dirname(d)
        assert not os.path.exists(os.path.join(d, "x"))
    # Blob files are named by random ids, never by keys.
    for f in server.blob_files():
        name = os.path.basename(f)
        assert all(c in "0123456789abcdef" for c in name.lower()), f
        assert len(os.path.relpath(f, server.blobs).split(os.sep)) == 2, f


def test_key_length_limit(server, ns):
    k1024 = "k" * 1024
    put(server, k1024, b"long")
    assert server.get_obj(ns, k1024).content == b"long"
    r = server.put_obj(ns, "k" * 1025, b"too long")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_name"
    # Multi-byte characters count as bytes: 512 x 2-byte char = 1024 ok.
    put(server, "\u00e9" * 512, b"utf8 long")
    r = server.put_obj(ns, "\u00e9" * 512 + "x", b"too long")
    assert r.status_code == 400


@pytest.mark.parametrize("raw", ["bad%FFutf8", "nul%00byte", "%C0%AFover",
                                 "surrogate%ED%A0%80"])
def test_invalid_key_bytes_rejected(server, ns, raw):
    r = server.req("PUT", "/v1/ns/%s/objects/%s" % (ns, raw), data=b"x")
    assert r.status_code == 400, (raw, r.status_code, r.text)
    assert r.json()["error"]["code"] in ("invalid_name", "bad_request")
    r = server.get("/v1/ns/%s/objects" % ns, params={"prefix": "bad"})
    assert all(not o["key"].startswith("bad") for o in
               r.json()["objects"])


def test_empty_key_rejected(server, ns):
    r = server.req("PUT", "/v1/ns/%s/objects/" % ns, data=b"x")
    assert r.status_code in (400, 404, 405)
    assert r.status_code != 201


def test_put_to_missing_namespace(server):
    r = server.put_obj("no-such-ns-e2e", "k", b"x")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_such_namespace"


def test_delete_missing_key_404(server, ns):
    r = server.req("DELETE", obj_path(ns, "never/existed"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_such_key"


def test_method_not_allowed(server, ns):
    r = server.req("POST", obj_path(ns, "k"), data=b"x")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_version_param_on_delete_marker(server, ns):
    put(server, "dm/k", b"alive")
    d = server.req("DELETE", obj_path(ns, "dm/k")).json()
    r = server.get_obj(ns, "dm/k", params={"version": d["version_id"]})
    assert r.status_code == 404
    assert r.json()["error"]["code"] in ("no_such_key", "no_such_version")


def test_version_id_of_other_key_not_served(server, ns):
    a = put(server, "vx/a", b"secret of a")
    put(server, "vx/b", b"b")
    r = server.get_obj(ns, "vx/b", params={"version": a["version_id"]})
    assert r.status_code == 404
    assert b"secret of a" not in r.content


def test_multi_range_not_misserved(server, ns, ranged):
    r = server.get_obj(ns, "range/200k",
                       headers={"Range": "bytes=0-1,5-6"})
    assert r.status_code in (200, 400, 416), r.status_code
    if r.status_code == 200:
        assert r.content == ranged


def test_list_after_past_end(server, listing):
    ns, _ = listing
    out = lst(server, ns, after="zzzz")
    assert out["objects"] == [] and not out.get("truncated")


def test_metadata_header_bad_utf8_rejected(server, ns):
    r = server.req("PUT", obj_path(ns, "meta/badutf8"), data=b"x",
                   headers={"X-Coffer-Meta-Bad": b"\xff\xfe".decode(
                       "latin-1")})
    assert r.status_code == 400
    assert server.versions(ns, "meta/badutf8") == []


def test_request_ids_unique(server, ns):
    ids = {server.get("/v1/health", token=None).headers["X-Request-Id"]
           for _ in range(20)}
    assert len(ids) == 20

"""Hostile or broken input: bad JSON, oversize bodies and headers, clients
that vanish mid-upload, and a server killed mid-upload."""

import os
import socket
import ssl
import threading
import time

import pytest
import requests

from conftest import Cli, obj_path, sha256


def tls_socket(server, timeout=30):
    ctx = ssl.create_default_context(cafile=server.ca)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def read_status(sock, timeout=30):
    """Read a response head from sock; returns (status, head text) or
    (None, "") if the server closed without answering."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionError, ssl.SSLError, socket.timeout):
        pass
    if not data.startswith(b"HTTP/1."):
        return None, data.decode(errors="replace")
    head, _, body = data.partition(b"\r\n\r\n")
    want = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            want = int(line.split(b":", 1)[1])
    try:
        while len(body) < want:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    except (ConnectionError, ssl.SSLError, socket.timeout):
        pass
    return int(data.split(b" ", 2)[1]), (head + b"\r\n\r\n" +
                                          body).decode(errors="replace")


def chunk(b):
    return b"%x\r\n" % len(b) + b + b"\r\n"


MIDUPLOAD_BUG = ("bug: a response queued while the body is still arriving "
                 "(src/server/http.c handler(), upload branch: "
                 "respond_error/respond_cf_error mid-upload) is refused by "
                 "MHD_queue_response, so the connection is closed with no "
                 "answer instead of 413 too_large")


def head_bytes(server, method, path, headers):
    lines = ["%s %s HTTP/1.1" % (method, path),
             "Host: 127.0.0.1:%d" % server.port,
             "Authorization: Bearer " + server.admin_token]
    lines += ["%s: %s" % kv for kv in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture(scope="module")
def ns(server):
    server.mkns("limits-e2e")
    return "limits-e2e"


# ---- JSON bodies ----

@pytest.mark.parametrize("body", [
    b"{", b"not json", b'{"name": "abc"', b"[]", b'["abc"]', b"null",
    b'"abc"', b"42", b'{"name":"dup-a","name":"dup-b"}',
    b'{"name":"bad\xffutf8"}', b'{"name":"abc"} trailing', b"",
    b'{"name": 42}', b'{"name":"abc","env":["dev"]}'])
def test_bad_json_400(server, body):
    r = server.req("POST", "/v1/ns", data=body,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400, (body, r.status_code, r.text)
    assert r.json()["error"]["code"] in ("invalid_json", "invalid_name")
    # Nothing was created by a rejected body.
    names = [n["name"] for n in server.get("/v1/ns").json()["namespaces"]]
    assert "dup-a" not in names and "dup-b" not in names


def test_duplicate_keys_rejected_everywhere(server):
    r = server.req("POST", "/v1/principals",
                   data=b'{"name":"dupk","kind":"user","kind":"service"}')
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_json"


def big_json(name):
    return b'{"name":"%s","pad":"' % name.encode() + b"x" * (70 * 1024) + \
        b'"}'


def test_json_body_over_max_not_acted_on(server):
    try:
        server.req("POST", "/v1/ns", data=big_json("big-body"))
    except Exception:
        pass
    assert server.get("/v1/ns/big-body").status_code == 404
    assert server.get("/v1/health", token=None).status_code == 200
    assert server.alive()


def test_json_body_over_max_413(server):
    body = big_json("big-body2")
    with tls_socket(server) as s:
        s.sendall(head_bytes(server, "POST", "/v1/ns", {
            "Content-Length": str(len(body)),
            "Content-Type": "application/json"}) + body)
        status, resp = read_status(s, timeout=15)
    assert status == 413, resp[:300]
    assert "too_large" in resp


def test_json_body_over_max_chunked_413(server):
    with tls_socket(server) as s:
        s.sendall(head_bytes(server, "POST", "/v1/ns", {
            "Transfer-Encoding": "chunked"}))
        for _ in range(10):
            s.sendall(chunk(b" " * 8192))
        s.sendall(b"0\r\n\r\n")
        status, resp = read_status(s, timeout=15)
    assert status == 413, resp[:300]
    assert "too_large" in resp


def test_headers_over_limit(server):
    # libmicrohttpd answers once its 32 KiB buffer is full and closes
    # without reading the rest, so a client still sending may see a reset
    # instead of the answer (docs/api.md, "Errors"); either way nothing
    # is served and the server stays up.
    with tls_socket(server) as s:
        try:
            s.sendall(head_bytes(server, "GET", "/v1/whoami",
                                 {"X-Big": "a" * (1024 * 1024)}))
        except (ConnectionError, ssl.SSLError):
            pass
        status, head = read_status(s)
    assert status is None or 400 <= status < 500, head[:300]
    # Many headers rather than one long one.
    many = {"X-H%d" % i: "v" * 100 for i in range(12000)}
    with tls_socket(server) as s:
        try:
            s.sendall(head_bytes(server, "GET", "/v1/whoami", many))
        except (ConnectionError, ssl.SSLError):
            pass
        status, head = read_status(s)
    assert status is None or 400 <= status < 500, head[:300]
    assert server.get("/v1/whoami").status_code == 200
    assert server.alive()


def test_long_url_rejected(server, ns):
    # Over the 32 KiB connection buffer: libmicrohttpd answers 414 and
    # closes without reading the rest, so a client still sending may see
    # a reset instead (docs/api.md, "Errors"); nothing is served and the
    # server stays up.  Within the buffer, Coffer's JSON 431.
    try:
        r = server.get_obj(ns, "k" * (200 * 1024))
        assert 400 <= r.status_code < 500
    except requests.exceptions.ConnectionError:
        pass
    r = server.get_obj(ns, "k" * (20 * 1024))
    assert r.status_code == 431, r.text
    assert r.json()["error"]["code"] == "headers_too_large"
    assert server.get("/v1/health", token=None).status_code == 200


@pytest.mark.parametrize("cl", ["-1", "abc", "99999999999999999999999",
                                "1, 2"])
def test_bad_content_length(server, ns, cl):
    with tls_socket(server) as s:
        s.sendall(head_bytes(server, "PUT", obj_path(ns, "badcl"),
                             {"Content-Length": cl}))
        status, head = read_status(s, timeout=15)
    assert status is None or 400 <= status < 500, head[:300]
    assert server.versions(ns, "badcl") == []
    assert server.alive()


# ---- max_object_size ----

@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    from conftest import Server
    s = Server(tmp_path_factory.mktemp("small"),
               ["--set", "max_object_size=1048576"]).start()
    s.mkns("small-ns")
    yield s
    s.stop()


def test_object_at_limit_ok(small_server):
    data = os.urandom(1048576)
    r = small_server.put_obj("small-ns", "exact", data)
    assert r.status_code == 201, r.text
    assert small_server.get_obj("small-ns", "exact").content == data


def test_content_length_over_max_object_size_413(small_server):
    s = small_server
    blobs = s.blob_files()
    # Announce 2 MiB; the server must answer without reading it all.
    with tls_socket(s) as sock:
        sock.sendall(head_bytes(s, "PUT", obj_path("small-ns", "big"),
                                {"Content-Length": str(2 << 20)}))
        status, head = read_status(sock, timeout=15)
    assert status == 413, head[:400]
    assert "too_large" in head
    assert s.versions("small-ns", "big") == []
    assert s.blob_files() == blobs
    # And through requests, sending the whole body (the server may close
    # the connection after its early 413 while we still send).
    try:
        r = s.put_obj("small-ns", "big", os.urandom(2 << 20))
        assert r.status_code == 413, r.text
    except requests.RequestException:
        pass
    assert s.versions("small-ns", "big") == []
    assert s.get_obj("small-ns", "big").status_code == 404


def chunked_put_over_max(s, key):
    with tls_socket(s) as sock:
        sock.sendall(head_bytes(s, "PUT", obj_path("small-ns", key),
                                {"Transfer-Encoding": "chunked"}))
        try:
            for _ in range(40):          # 2.5 MiB, no Content-Length
                sock.sendall(chunk(b"z" * 65536))
            sock.sendall(b"0\r\n\r\n")
        except (ConnectionError, ssl.SSLError):
            pass
        return read_status(sock, timeout=15)


def test_chunked_upload_over_max_object_size_stores_nothing(small_server):
    s = small_server
    blobs = s.blob_files()
    chunked_put_over_max(s, "chunked-big")
    deadline = time.monotonic() + 10
    while s.tmp_files() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert s.versions("small-ns", "chunked-big") == []
    assert s.tmp_files() == []
    assert s.blob_files() == blobs
    assert s.alive()


def test_chunked_upload_over_max_object_size_413(small_server):
    status, resp = chunked_put_over_max(small_server, "chunked-big2")
    assert status == 413, resp[:300]
    assert "too_large" in resp


# ---- a client that vanishes mid-upload ----

def test_client_disconnect_mid_upload(server, ns):
    key = "aborted/upload"
    total = 10 << 20
    with tls_socket(server) as s:
        s.sendall(head_bytes(server, "PUT", obj_path(ns, key),
                             {"Content-Length": str(total)}))
        block = os.urandom(1 << 20)
        for _ in range(5):
            s.sendall(block)
        time.sleep(0.2)
    # The socket is closed with half the body sent.
    rec = server.wait_audit(lambda r: r["resource"] ==
                            "ns/%s/obj/%s" % (ns, key), timeout=15)
    assert rec is not None, "no audit record for the aborted upload"
    assert rec["result"] == "client_aborted", rec
    assert rec["action"] == "object:put"
    assert server.versions(ns, key) == []
    assert server.get_obj(ns, key).status_code == 404
    deadline = time.monotonic() + 10
    while server.tmp_files() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.tmp_files() == []
    assert server.put_obj(ns, "after-abort", b"fine").status_code == 201


def test_client_disconnect_mid_download(server, ns):
    data = os.urandom(8 << 20)
    assert server.put_obj(ns, "dl/big", data).status_code == 201
    with tls_socket(server) as s:
        req = head_bytes(server, "GET", obj_path(ns, "dl/big"), {})
        s.sendall(req)
        got = s.recv(65536)
        assert got.startswith(b"HTTP/1.1 200")
    rec = server.wait_audit(
        lambda r: r["resource"] == "ns/%s/obj/dl/big" % ns and
        r["action"] == "object:get", timeout=15)
    assert rec is not None
    assert rec["decision"] == "allow" and rec["status"] == 200
    # The server is fine and the object intact.
    assert server.get_obj(ns, "dl/big").content == data


# ---- SIGKILL in the middle of an upload ----

def test_sigkill_mid_upload_then_restart(make_server, tmp_path):
    s = make_server()
    s.mkns("crash-ns")
    acked = {}
    for i in range(6):
        data = os.urandom(1000 + i * 70000)
        r = s.put_obj("crash-ns", "acked/%d" % i, data)
        assert r.status_code == 201
        acked["acked/%d" % i] = (r.json()["version_id"], data)
    # Two versions of the same key: both must survive.
    r = s.put_obj("crash-ns", "acked/0", b"second version")
    acked_v2 = (r.json()["version_id"], b"second version")

    progress = {"sent": 0, "error": None}
    stop = threading.Event()

    def slow_upload():
        try:
            with tls_socket(s) as sock:
                sock.sendall(head_bytes(s, "PUT",
                                        obj_path("crash-ns", "interrupted"),
                                        {"Content-Length": str(64 << 20)}))
                block = os.urandom(256 * 1024)
                while not stop.is_set() and progress["sent"] < (64 << 20):
                    sock.sendall(block)
                    progress["sent"] += len(block)
                    time.sleep(0.01)
        except Exception as e:      # the server dies under us
            progress["error"] = e
    t = threading.Thread(target=slow_upload, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while progress["sent"] < (4 << 20) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert progress["sent"] >= (4 << 20), progress
    s.kill()
    stop.set()
    t.join(30)
    assert progress["sent"] < (64 << 20)

    s.start()
    for key, (vid, data) in acked.items():
        r = s.get_obj("crash-ns", key, params={"version": vid})
        assert r.status_code == 200, (key, r.text)
        assert r.content == data, key
        assert r.headers["X-Coffer-SHA256"] == sha256(data)
    r = s.get_obj("crash-ns", "acked/0")
    assert r.content == acked_v2[1]
    assert r.headers["X-Coffer-Version-Id"] == acked_v2[0]
    assert s.versions("crash-ns", "interrupted") == []
    assert s.get_obj("crash-ns", "interrupted").status_code == 404
    listed = [o["key"] for o in s.get(
        "/v1/ns/crash-ns/objects").json()["objects"]]
    assert listed == sorted(acked)
    deadline = time.monotonic() + 10
    while s.tmp_files() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert s.tmp_files() == [], s.tmp_files()
    cli = Cli(s, tmp_path / "home")
    p = cli("audit", "verify", "--data", s.data, with_server=False)
    assert p.returncode == 0, (p.stdout, p.stderr)
    # The server keeps working and appending to the same chain.
    assert s.put_obj("crash-ns", "after", b"after crash").status_code == 201
    s.stop()
    p = cli("audit", "verify", "--data", s.data, with_server=False)
    assert p.returncode == 0, (p.stdout, p.stderr)


def test_sigkill_idle_then_restart_keeps_everything(make_server, tmp_path):
    s = make_server()
    s.mkns("crash-idle")
    data = os.urandom(300000)
    assert s.put_obj("crash-idle", "k", data).status_code == 201
    tok = s.user("survivor", "reader", "crash-idle")
    s.kill()
    s.start()
    assert s.get_obj("crash-idle", "k", token=tok).content == data
    p = Cli(s, tmp_path / "h")("audit", "verify", "--data", s.data,
                               with_server=False)
    assert p.returncode == 0, (p.stdout, p.stderr)


def test_early_answer_reads_no_unbounded_body(server, ns):
    """A PUT answered from its headers alone (404: no such namespace):
    the rest of its body is not read without bound.  libmicrohttpd 0.9.75
    closes such a connection once the early answer is sent; should a
    version keep feeding the body to the handler, the handler discards at
    most 64 MiB (DRAIN_MAX in http.c, as after a refusal mid-body) and
    then cuts the connection."""
    total = 256 << 20
    sent = 0
    with tls_socket(server) as sock:
        sock.sendall(head_bytes(server, "PUT",
                                obj_path("no-such-ns-drain", "k"),
                                {"Content-Length": str(total)}))
        status, head = read_status(sock, timeout=15)
        assert status == 404, head[:400]
        block = bytes(1 << 20)
        try:
            while sent < total:
                sock.sendall(block)
                sent += len(block)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            pass
    # At most 64 MiB plus what the socket buffers hold.
    assert sent < (128 << 20), sent
    assert server.alive()
    assert server.get("/v1/health").status_code == 200


def test_over_limit_upload_is_audited(small_server):
    s = small_server
    with tls_socket(s) as sock:
        sock.sendall(head_bytes(s, "PUT", obj_path("small-ns", "aud-big"),
                                {"Content-Length": str(2 << 20)}))
        status, head = read_status(sock, timeout=15)
    assert status == 413
    rec = s.wait_audit(lambda r: r["resource"] ==
                       "ns/small-ns/obj/aud-big", timeout=10)
    assert rec is not None
    assert rec["status"] == 413 and rec["result"] == "too_large"


def test_oversize_header_request_is_audited(server):
    before = server.audit_count()
    with tls_socket(server) as s:
        try:
            s.sendall(head_bytes(server, "GET", "/v1/whoami",
                                 {"X-Big": "a" * (1024 * 1024)}))
        except (ConnectionError, ssl.SSLError):
            pass    # answered and closed before the rest was read
        status, head = read_status(s)
    assert status is None or 400 <= status < 500, head[:300]
    # libmicrohttpd answers 431 itself; the record is appended when the
    # connection closes (docs/api.md), so give it a moment.
    deadline = time.monotonic() + 10
    after = server.audit_records()[before:]
    while not after and time.monotonic() < deadline:
        time.sleep(0.1)
        after = server.audit_records()[before:]
    assert len(after) == 1, after
    assert after[0]["decision"] == "deny"
    assert after[0]["result"] == "refused_by_http_layer"


def _raw_exchange(server, data):
    with tls_socket(server, timeout=10) as s:
        s.sendall(data)
        status, _ = read_status(s, timeout=10)
    return status


def test_http_layer_refusals_as_documented(server):
    """docs/api.md, "Errors": a malformed header line is refused by the
    HTTP layer and recorded; a request line that cannot be parsed (here an
    unsupported version) is refused and leaves no record."""
    before = server.audit_count()
    status = _raw_exchange(server, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n"
                           b"NoColonHere\r\n\r\n")
    assert status == 400
    rec = server.wait_audit(lambda r: r["seq"] > before and
                            r["result"] == "refused_by_http_layer")
    assert rec is not None and rec["decision"] == "deny"
    before = server.audit_count()
    status = _raw_exchange(server, b"GET /v1/health HTTP/9.9\r\nHost: x"
                           b"\r\n\r\n")
    assert status == 505
    # A marker request after it: once its record is there, anything the
    # refused request would have left is there too (records are appended
    # at connection close at the latest, and that connection is closed).
    assert server.get("/v1/health").status_code == 200
    marker = server.wait_audit(lambda r: r["seq"] > before and
                               r["action"] == "health")
    assert marker is not None
    time.sleep(0.5)
    after = server.audit_records()[before:]
    assert [r["action"] for r in after] == ["health"], after


def test_large_header_block_gets_json_431(server):
    """Up to 16 KiB of request line and headers is served; between that
    and the 32 KiB connection buffer Coffer answers 431 in JSON (audited),
    and an upload refused this way stores nothing."""
    server.mkns("hdr-ns")
    big = {"X-Big": "a" * 14000}
    r = server.put_obj("hdr-ns", "ok", b"x" * 100, headers=big)
    assert r.status_code == 201, r.text
    r = server.get_obj("hdr-ns", "ok", headers=big)
    assert r.status_code == 200 and r.content == b"x" * 100
    bigger = {"X-Big": "a" * 17500}
    for method in ("GET", "PUT"):
        r = server.req(method, obj_path("hdr-ns", "nope"), headers=bigger,
                       data=b"y" * 100 if method == "PUT" else None)
        assert r.status_code == 431, r.text
        assert r.json()["error"]["code"] == "headers_too_large"
        rid = r.headers["X-Request-Id"]
        rec = server.wait_audit(lambda x: x["request_id"] == rid)
        assert rec is not None
        assert rec["decision"] == "deny" and rec["status"] == 431
    assert server.versions("hdr-ns", "nope") == []
    # The same connection keeps working afterwards.
    assert server.get_obj("hdr-ns", "ok").status_code == 200


# ---- the digest as a trailer of a chunked upload ----

def chunked_put(server, ns, key, body, trailer):
    """PUT body with Transfer-Encoding: chunked (odd chunk sizes) and
    `trailer` (a header line or None) after the last chunk."""
    with tls_socket(server) as s:
        s.sendall(head_bytes(server, "PUT", obj_path(ns, key),
                             {"Transfer-Encoding": "chunked",
                              "Trailer": "X-Coffer-SHA256"}))
        step = 777777
        for i in range(0, len(body), step):
            c = body[i:i + step]
            s.sendall(b"%x\r\n" % len(c) + c + b"\r\n")
        tail = b"0\r\n"
        if trailer is not None:
            tail += trailer.encode() + b"\r\n"
        s.sendall(tail + b"\r\n")
        return read_status(s)


@pytest.mark.parametrize("size", [1000, (3 << 20) + 17])
def test_digest_trailer(server, ns, size):
    body = os.urandom(size)
    key = "trailer/%d" % size
    st, _ = chunked_put(server, ns, key, body,
                        "X-Coffer-SHA256: " + sha256(body))
    assert st == 201
    assert server.get_obj(ns, key).content == body
    blobs = server.blob_files()
    # A wrong digest in the trailer: nothing stored, nothing left over.
    other = os.urandom(size)
    st, _ = chunked_put(server, ns, key, other,
                        "X-Coffer-SHA256: " + sha256(body))
    assert st == 400
    assert len(server.versions(ns, key)) == 1
    assert server.get_obj(ns, key).content == body
    assert server.blob_files() == blobs
    assert server.tmp_files() == []
    # A malformed trailer, or one that contradicts the header: refused.
    st, _ = chunked_put(server, ns, key, other, "X-Coffer-SHA256: nothex")
    assert st == 400
    with tls_socket(server) as s:
        s.sendall(head_bytes(server, "PUT", obj_path(ns, key),
                             {"Transfer-Encoding": "chunked",
                              "X-Coffer-SHA256": sha256(other)}))
        s.sendall(b"%x\r\n" % len(other) + other + b"\r\n0\r\n" +
                  b"X-Coffer-SHA256: " + sha256(body).encode() +
                  b"\r\n\r\n")
        st, _ = read_status(s)
    assert st == 400
    assert len(server.versions(ns, key)) == 1
    assert server.tmp_files() == []


# ---- the digest at the end of the body (X-Coffer-SHA256: trailing) ----

def trailing_put(server, ns, key, body, digest, chunked=False, step=65536):
    """PUT body + digest (64 hex) with X-Coffer-SHA256: trailing, sent in
    pieces of `step` bytes (odd steps cut the digest apart)."""
    payload = body + digest.encode()
    hdrs = {"X-Coffer-SHA256": "trailing"}
    if chunked:
        hdrs["Transfer-Encoding"] = "chunked"
    else:
        hdrs["Content-Length"] = str(len(payload))
    with tls_socket(server) as s:
        s.sendall(head_bytes(server, "PUT", obj_path(ns, key), hdrs))
        for i in range(0, len(payload), step):
            piece = payload[i:i + step]
            if chunked:
                piece = b"%x\r\n" % len(piece) + piece + b"\r\n"
            s.sendall(piece)
        if chunked:
            s.sendall(b"0\r\n\r\n")
        return read_status(s)


@pytest.mark.parametrize("size,chunked,step", [
    (0, False, 65536), (1, True, 7), (100000, False, 33),
    ((3 << 20) + 5, True, 1 << 20), ((3 << 20) + 5, False, 100003)])
def test_digest_trailing_in_body(server, ns, size, chunked, step):
    body = os.urandom(size)
    key = "trailing/%d-%d-%d" % (size, chunked, step)
    st, _ = trailing_put(server, ns, key, body, sha256(body), chunked, step)
    assert st == 201
    got = server.get_obj(ns, key)
    assert got.content == body
    assert got.headers["X-Coffer-SHA256"] == sha256(body)
    # A wrong digest: refused, the version and the blobs unchanged.
    blobs = server.blob_files()
    st, _ = trailing_put(server, ns, key, body, sha256(body + b"x"),
                         chunked, step)
    assert st == 400
    assert len(server.versions(ns, key)) == 1
    assert server.blob_files() == blobs
    assert server.tmp_files() == []


def test_digest_trailing_short_or_malformed(server, ns):
    # Shorter than a digest: refused before (Content-Length) or at the
    # end (chunked) of the body; a digest that is not hex: refused.
    for chunked in (False, True):
        st, _ = trailing_put(server, ns, "trailing/short", b"", "abc",
                             chunked)
        assert st == 400
    st, _ = trailing_put(server, ns, "trailing/short", b"data", "z" * 64)
    assert st == 400
    assert server.versions(ns, "trailing/short") == []
    assert server.tmp_files() == []


def test_upload_is_authorized_again_when_it_ends(server):
    """Access removed while a body streams in keeps the version out: the
    upload is authenticated and authorized again before it commits."""
    server.mkns("recheck-ns")
    tok = server.user("recheck-w", "writer", "recheck-ns")
    body = os.urandom(256 * 1024)

    def upload(key, meanwhile, ns="recheck-ns"):
        with tls_socket(server) as s:
            head = head_bytes(server, "PUT", obj_path(ns, key),
                              {"Content-Length": str(len(body))})
            head = head.replace(server.admin_token.encode(), tok.encode())
            s.sendall(head + body[:1000])
            time.sleep(0.3)     # the server has begun the upload
            meanwhile()
            s.sendall(body[1000:])
            return read_status(s)

    status, _ = upload("kept", lambda: None)
    assert status == 201

    def revoke():
        r = server.req("DELETE", "/v1/bindings", params={
            "principal": "recheck-w", "role": "writer", "ns": "recheck-ns"})
        assert r.status_code == 200, r.text

    status, _ = upload("revoked", revoke)
    assert status == 403
    assert server.versions("recheck-ns", "revoked") == []
    rec = server.wait_audit(lambda x: x["resource"] ==
                            "ns/recheck-ns/obj/revoked")
    assert rec is not None and rec["decision"] == "deny"
    # A namespace replaced meanwhile (now restricted, where no API token
    # may write) too.
    server.mkns("recheck-ns2")
    server.grant("recheck-w", "writer", "recheck-ns2")

    def replace():
        r = server.req("DELETE", "/v1/ns/recheck-ns2")
        assert r.status_code == 200, r.text
        r = server.post("/v1/ns", {"name": "recheck-ns2",
                                   "sensitivity": "restricted"})
        assert r.status_code == 201, r.text

    status, _ = upload("planted", replace, "recheck-ns2")
    assert status in (401, 403)
    # (An API token may not list a restricted namespace: the records
    # tell.)
    recs = [x for x in server.audit_records()
            if x["resource"] == "ns/recheck-ns2/obj/planted"]
    assert recs and all(x["decision"] == "deny" for x in recs), recs

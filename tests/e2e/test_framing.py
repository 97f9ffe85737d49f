"""HTTP framing and refusals after the request line: ambiguous message
framing (RFC 9112 section 6.3: a server that may sit behind a proxy must
refuse it), client bytes in error messages, too many query arguments,
control bytes bound for response headers, and an upload whose namespace is
replaced while the body streams in."""

import json
import os
import socket
import ssl
import subprocess

import pytest

from conftest import (COFFER_BIN, free_port, obj_path, sanitizer_env,
                      sha256)


def tls_socket(server, timeout=30):
    ctx = ssl.create_default_context(cafile=server.ca)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def read_response(sock, timeout=30):
    """One response from sock: (status, headers dict (lower-case names),
    body bytes); status None if the server closed without answering.
    Interim 1xx responses are skipped."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (ConnectionError, ssl.SSLError, socket.timeout):
            pass
        if not data.startswith(b"HTTP/1."):
            return None, {}, data
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            return None, {}, data
        status = int(head.split(b" ", 2)[1])
        if 100 <= status < 200:
            data = rest
            continue
        break
    hdrs = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode(
            errors="replace")
    want = int(hdrs.get("content-length", "0"))
    body = rest
    try:
        while len(body) < want:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    except (ConnectionError, ssl.SSLError, socket.timeout):
        pass
    sock.pending_extra = body[want:]
    return status, hdrs, body[:want]


def after_response(sock, timeout=10):
    """(closed, extra): whether the server closed the connection within
    timeout, and what it sent after the response (a smuggled second
    request must get nothing)."""
    sock.settimeout(timeout)
    extra = getattr(sock, "pending_extra", b"")
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            extra += chunk
    except socket.timeout:
        return False, extra
    except (ConnectionError, ssl.SSLError):
        pass
    return True, extra


def raw_head(server, method, path, lines, token=True):
    out = ["%s %s HTTP/1.1" % (method, path),
           "Host: 127.0.0.1:%d" % server.port]
    if token is True:
        token = server.admin_token
    if token:
        out.append("Authorization: Bearer " + token)
    out += lines
    return ("\r\n".join(out) + "\r\n\r\n").encode()


def record_of(server, hdrs):
    rid = hdrs.get("x-request-id")
    assert rid, hdrs
    rec = server.wait_audit(lambda r: r["request_id"] == rid)
    assert rec is not None, "no audit record for %s" % rid
    return rec


def assert_json_refusal(server, status, hdrs, body, want_status,
                        decision="deny"):
    assert status == want_status, (status, hdrs, body[:300])
    assert hdrs.get("content-type") == "application/json"
    err = json.loads(body)["error"]
    assert err["request_id"] == hdrs["x-request-id"]
    rec = record_of(server, hdrs)
    assert rec["status"] == want_status, rec
    if decision is not None:
        assert rec["decision"] == decision, rec
    return err, rec


@pytest.fixture(scope="module")
def ns(server):
    server.mkns("framing-e2e")
    return "framing-e2e"


@pytest.fixture(scope="module")
def nobody_token(server):
    """A user without any role: every data request is denied."""
    return server.user("framing-nobody")


# ---- ambiguous framing (RFC 9112 6.1, 6.3, 5.1) ----

SMUGGLED = b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"

# case: (header lines, body, status, error code); error code None: refused
# by libmicrohttpd itself (its own HTML 400, recorded as
# refused_by_http_layer; docs/api.md, "Errors").
FRAMING_CASES = {
    "cl_and_te": (["Content-Length: 5", "Transfer-Encoding: chunked"],
                  b"0\r\n\r\n" + SMUGGLED, 400, "bad_framing"),
    "te_and_cl": (["Transfer-Encoding: chunked", "Content-Length: 5"],
                  b"0\r\n\r\n" + SMUGGLED, 400, "bad_framing"),
    "two_content_lengths": (["Content-Length: 2", "Content-Length: 41"],
                            b"{}" + SMUGGLED, 400, "bad_framing"),
    "content_length_list": (["Content-Length: 2, 41"], b"{}" + SMUGGLED,
                            400, None),
    "space_before_colon": (["Content-Length : 41", "Content-Length: 2"],
                           b"{}" + SMUGGLED, 400, "bad_framing"),
    "tab_before_colon": (["Transfer-Encoding\t: chunked",
                          "Content-Length: 2"], b"{}" + SMUGGLED, 400,
                         "bad_framing"),
    "te_chunked_twice": (["Transfer-Encoding: chunked",
                          "Transfer-Encoding: chunked"],
                         b"0\r\n\r\n" + SMUGGLED, 400, "bad_framing"),
    "te_not_last": (["Transfer-Encoding: chunked, identity"],
                    b"0\r\n\r\n" + SMUGGLED, 400, "bad_framing"),
    "te_gzip": (["Transfer-Encoding: gzip, chunked"],
                b"0\r\n\r\n" + SMUGGLED, 501,
                "unsupported_transfer_coding"),
}


@pytest.mark.parametrize("case", sorted(FRAMING_CASES))
@pytest.mark.parametrize("method,path", [("POST", "/v1/ns"),
                                         ("PUT", "OBJ")])
def test_ambiguous_framing_refused_and_closed(server, ns, case, method,
                                              path):
    lines, body, want, code = FRAMING_CASES[case]
    if path == "OBJ":
        path = obj_path(ns, "framing-" + case)
    before = server.audit_count()
    with tls_socket(server) as s:
        s.sendall(raw_head(server, method, path, lines) + body)
        status, hdrs, rbody = read_response(s)
        if code is None:
            assert status == want, (status, rbody[:200])
            rec = server.wait_audit(
                lambda r: r["seq"] > before and
                r["result"] == "refused_by_http_layer")
            assert rec is not None and rec["decision"] == "deny"
        else:
            err, rec = assert_json_refusal(server, status, hdrs, rbody,
                                           want)
            assert err["code"] == code, err
            assert rec["result"] == code, rec
        assert hdrs.get("connection", "").lower() == "close", hdrs
        # The bytes after the refused head are never read as a request.
        # (libmicrohttpd 0.9.75 may keep a connection it refused open
        # until connection_timeout, but reads nothing more from it; its
        # own HTML body is longer than its Content-Length says.)
        closed, extra = after_response(s, timeout=3 if code is None
                                       else 10)
        if code is None:
            assert b"HTTP/1" not in extra, extra
        else:
            assert closed and extra == b"", extra
    after = [r for r in server.audit_records()[before:]
             if r["action"] == "health"]
    assert after == [], after
    if method == "PUT":
        assert server.versions(ns, "framing-" + case) == []


def test_single_framing_still_served(server, ns):
    """The refusals above are not over-broad: one Content-Length, chunked
    alone, and a repeated identical Content-Length are fine."""
    body = b"abcde"
    for lines, payload in (
            (["Content-Length: 5"], body),
            (["Transfer-Encoding: chunked"],
             b"5\r\nabcde\r\n0\r\n\r\n"),
            (["Content-Length: 5", "Content-Length: 5"], body)):
        with tls_socket(server) as s:
            s.sendall(raw_head(server, "PUT", obj_path(ns, "single"), lines)
                      + payload)
            status, hdrs, rbody = read_response(s)
        assert status == 201, (lines, status, rbody)
    assert server.get_obj(ns, "single").content == body


# ---- client bytes in error messages, too many arguments ----

@pytest.mark.parametrize("method,path", [
    ("GET", "/v1/ns/%ff%fe"),
    ("DELETE", "/v1/ns/%c3%28"),
    ("POST", "/v1/users/%ff%fe/disable"),
    ("DELETE", "/v1/tokens/%ff%fe"),
    ("GET", "/v1/ns/framing-e2e/objects/%ff%fe"),
    ("GET", "/v1/ns/framing-e2e/versions/%ff%fe"),
    ("GET", "/v1/nosuch/%ff%fe"),
    # A message cut at its size limit inside a multi-byte character.
    ("GET", "/v1/ns/framing-e2e/objects/" + "%c3%a9" * 200),
    ("PUT", "/v1/ns/no-such-ns/objects/" + "%e2%82%ac" * 200),
], ids=["ns", "ns-delete", "user", "token", "key", "versions", "route",
        "cut-2byte", "cut-3byte"])
@pytest.mark.parametrize("who", ["admin", "nobody"])
def test_invalid_utf8_in_path_gets_json_answer(server, ns, method, path,
                                               who, nobody_token):
    """Error messages name what was asked for (a denial names the
    resource); bytes that are not UTF-8 must not cost the answer."""
    tok = server.admin_token if who == "admin" else nobody_token
    with tls_socket(server) as s:
        s.sendall(raw_head(server, method, path, ["Content-Length: 0"],
                           token=tok))
        status, hdrs, body = read_response(s)
    assert status is not None and 400 <= status < 500, (status, body)
    assert hdrs.get("content-type") == "application/json"
    err = json.loads(body)["error"]
    rec = record_of(server, hdrs)
    assert rec["status"] == status and rec["result"] != "client_aborted"
    # The message may name what was asked for, but only as valid text.
    err["message"].encode("utf-8")


@pytest.mark.parametrize("nargs", [64, 65, 2000, 3500])
def test_many_query_arguments_get_json_answer(server, nargs):
    """At most 64 query arguments; more get a JSON 414 and a record (a
    few thousand used to exhaust the connection's memory before the
    handler ran: no answer, no record).  3500 is about 27 KiB of request
    line: the most that fits the 32 KiB connection buffer (beyond it the
    HTTP layer answers by itself: test_limits.py)."""
    q = "&".join("a%d=1" % i for i in range(nargs))
    with tls_socket(server) as s:
        s.sendall(raw_head(server, "GET", "/v1/health?" + q, []))
        status, hdrs, body = read_response(s)
    if nargs <= 64:
        assert status == 200, body
        return
    err, rec = assert_json_refusal(server, status, hdrs, body, 414)
    assert err["code"] == "too_many_arguments", err


# ---- control bytes bound for response headers ----

@pytest.mark.parametrize("hdr", [
    "Content-Type: text/plain\x01x",
    "Content-Type: text/\x7fplain",
    "X-Coffer-Meta-Note: a\x0bb",
    "X-Coffer-Meta-Note: a\x1b[31mb",
])
def test_control_bytes_in_stored_headers_refused(server, ns, hdr):
    key = "ctl-%s" % sha256(hdr.encode())[:8]
    with tls_socket(server) as s:
        s.sendall(raw_head(server, "PUT", obj_path(ns, key),
                           [hdr, "Content-Length: 3"]) + b"abc")
        status, hdrs, body = read_response(s)
    # Allowed by policy, refused as bad input (like a bad key).
    err, rec = assert_json_refusal(server, status, hdrs, body, 400,
                                   decision=None)
    assert rec["action"] == "object:put" and rec["result"] == "bad_request"
    assert "control character" in err["message"]
    assert server.versions(ns, key) == []


def test_tab_in_metadata_is_kept(server, ns):
    r = server.put_obj(ns, "tabbed", b"abc",
                       headers={"X-Coffer-Meta-Note": "a\tb",
                                "Content-Type": "text/plain; a=b"})
    assert r.status_code == 201, r.text
    g = server.get_obj(ns, "tabbed")
    assert g.headers["X-Coffer-Meta-Note"] == "a\tb"


# ---- --check applies the same listen rule as the start ----

@pytest.mark.parametrize("listen,ok", [
    ("127.0.0.1:%d", True), ("[::1]:%d", True), ("localhost:%d", True),
    ("0.0.0.0:%d", False), ("10.1.2.3:%d", False), ("[::]:%d", False)])
def test_check_insecure_http_same_rule_as_start(tmp_path, listen, ok):
    addr = listen % free_port()
    p = subprocess.run([COFFER_BIN, "server", "--check", "--insecure-http",
                        "--listen", addr], capture_output=True, text=True,
                       timeout=60, env=sanitizer_env(),
                       stdin=subprocess.DEVNULL)
    if ok:
        assert p.returncode == 0, p.stderr
        return
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "loopback" in p.stderr
    # The real start says the same, before it makes anything.
    data = tmp_path / "data"
    p = subprocess.run([COFFER_BIN, "server", "--insecure-http", "--listen",
                        addr, "--data", str(data)], capture_output=True,
                       text=True, timeout=60, env=sanitizer_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "loopback" in p.stderr
    assert not data.exists()


# ---- an upload is bound to the namespace it began in ----

@pytest.mark.parametrize("chunked", [False, True])
def test_namespace_replaced_during_upload_refused(server, uniq, chunked):
    name = uniq("race")
    server.mkns(name)
    body = os.urandom(300000)
    key = "racing"
    blobs = server.blob_files()
    hdrs = ["Expect: 100-continue"]
    hdrs.append("Transfer-Encoding: chunked" if chunked else
                "Content-Length: %d" % len(body))
    with tls_socket(server) as s:
        s.sendall(raw_head(server, "PUT", obj_path(name, key), hdrs))
        # The interim answer comes after the upload has been authorized
        # and opened (libmicrohttpd calls the handler first).
        s.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head:
            got = s.recv(4096)
            assert got, head
            head += got
        assert head.startswith(b"HTTP/1.1 100"), head
        first = body[:100000]
        s.sendall(b"%x\r\n" % len(first) + first + b"\r\n" if chunked
                  else first)
        r = server.req("DELETE", "/v1/ns/" + name)
        assert r.status_code == 200, r.text
        server.mkns(name)
        rest = body[100000:]
        s.sendall(b"%x\r\n" % len(rest) + rest + b"\r\n0\r\n\r\n"
                  if chunked else rest)
        status, rh, rbody = read_response(s)
    assert status == 409, (status, rbody)
    err = json.loads(rbody)["error"]
    assert err["code"] == "namespace_changed", err
    rec = record_of(server, rh)
    assert rec["status"] == 409 and rec["decision"] == "deny", rec
    assert server.versions(name, key) == []
    assert server.blob_files() == blobs
    assert server.tmp_files() == []
    # The new namespace works as usual.
    assert server.put_obj(name, key, b"ok").status_code == 201

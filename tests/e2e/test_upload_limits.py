"""tests/e2e/test_upload_limits.py: transfer governance (issue 15).

A principal holds at most max_uploads_per_principal uploads and
max_downloads_per_principal downloads at once (more get 429 with
Retry-After, recorded); an upload body that arrives slower than
min_upload_rate over upload_stall_timeout is cut and leaves nothing
stored.  Nothing here compares durations: the stall window is made small
and the tests only assert that a stalled upload is never stored and is
eventually cut, waiting far longer than the window before calling that a
failure (docs/operations.md, "Transfer governance").
"""

import select
import socket
import ssl
import subprocess
import time

import pytest

from conftest import COFFER_BIN, obj_path, sanitizer_env, wait_until

# How long past a deadline a stalled connection may stay open before the
# test calls it a failure (a loaded or sanitizer host).
SLACK = 25


def tls_ctx(server):
    return ssl.create_default_context(cafile=server.ca)


def read_until(tls, marker, timeout=30):
    """Read from tls until marker has arrived; what was read (b"" on a
    close before it)."""
    got = b""
    end = time.monotonic() + timeout
    while marker not in got and time.monotonic() < end:
        r, _, _ = select.select([tls], [], [], 0.2)
        if not r and tls.pending() == 0:
            continue
        try:
            chunk = tls.recv(65536)
        except OSError:
            return got
        if chunk == b"":
            return got
        got += chunk
    return got


def stalled_put(server, token, ns, key, length=1 << 20, first=b"x" * 100):
    """Begin a PUT of length bytes and send only `first`: the server has
    authorized it (and counts it) once it answers 100 Continue."""
    raw = socket.create_connection(("127.0.0.1", server.port), 30)
    tls = tls_ctx(server).wrap_socket(raw, server_hostname="127.0.0.1")
    head = ("PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer %s\r\nContent-Length: %d\r\n"
            "Expect: 100-continue\r\n\r\n" % (obj_path(ns, key), token,
                                              length))
    tls.sendall(head.encode())
    got = read_until(tls, b"\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 100"), got[:300]
    tls.sendall(first)
    return tls


def stalled_get(server, token, ns, key):
    """Begin a GET and read only its head: the body waits, unread."""
    raw = socket.create_connection(("127.0.0.1", server.port), 30)
    # A small receive buffer, so that the body cannot all leave at once.
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    tls = tls_ctx(server).wrap_socket(raw, server_hostname="127.0.0.1")
    head = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer %s\r\n\r\n" % (obj_path(ns, key), token))
    tls.sendall(head.encode())
    got = read_until(tls, b"\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 200"), got[:300]
    return tls


def is_closed(tls):
    r, _, _ = select.select([tls], [], [], 0)
    if not r and tls.pending() == 0:
        return False
    try:
        while True:
            chunk = tls.recv(65536)
            if chunk == b"":
                return True
            if tls.pending() == 0:
                r, _, _ = select.select([tls], [], [], 0)
                if not r:
                    return False
    except ssl.SSLWantReadError:
        return False
    except OSError:
        return True


def denied_for_limit(server, before, action, limit):
    return server.wait_audit(
        lambda r: r["seq"] > before and r["action"] == action and
        r["status"] == 429 and r["decision"] == "deny" and
        limit in r.get("reasons", "") + str(r.get("reason", "")))


def limits_server(make_server, threads, extra=()):
    return make_server(["--set", "threads=" + threads,
                        "--set", "max_uploads_per_principal=2",
                        "--set", "max_downloads_per_principal=1",
                        # Long: these tests stall uploads on purpose.
                        "--set", "upload_stall_timeout=600"] + list(extra))


@pytest.mark.parametrize("threads", ["0", "4"])
def test_uploads_over_the_limit_get_429(make_server, uniq, threads):
    s = limits_server(make_server, threads)
    ns = uniq("ul")
    s.mkns(ns)
    a = s.user(uniq("ua"), "writer", ns)
    b = s.user(uniq("ub"), "writer", ns)
    held = [stalled_put(s, a, ns, "held-%d" % i) for i in range(2)]
    try:
        before = s.audit_count()
        r = s.put_obj(ns, "third", b"data", token=a)
        assert r.status_code == 429, r.text
        assert r.json()["error"]["code"] == "too_many_transfers", r.text
        assert int(r.headers["Retry-After"]) >= 1, r.headers
        rec = denied_for_limit(s, before, "object:put",
                               "max_uploads_per_principal")
        assert rec is not None, s.audit_records()[before:]
        assert s.versions(ns, "third") == []
        # Another principal is not affected.
        r = s.put_obj(ns, "other", b"data", token=b)
        assert r.status_code == 201, r.text
    finally:
        for t in held:
            t.close()
    # Released once the stalled uploads end (the client went away): the
    # next upload succeeds, and the aborted ones left nothing.
    assert wait_until(lambda: s.put_obj(ns, "after", b"data",
                                        token=a).status_code == 201,
                      SLACK)
    assert s.versions(ns, "held-0") == [] and s.versions(ns, "held-1") == []
    assert wait_until(lambda: s.tmp_files() == [], SLACK), s.tmp_files()


@pytest.mark.parametrize("threads", ["0", "4"])
def test_downloads_over_the_limit_get_429(make_server, uniq, threads):
    s = limits_server(make_server, threads)
    ns = uniq("dl")
    s.mkns(ns)
    a = s.user(uniq("da"), "writer", ns)
    b = s.user(uniq("db"), "writer", ns)
    big = b"y" * (32 << 20)
    assert s.put_obj(ns, "big", big, token=a).status_code == 201
    held = stalled_get(s, a, ns, "big")
    try:
        before = s.audit_count()
        r = s.get_obj(ns, "big", token=a)
        assert r.status_code == 429, r.status_code
        assert r.json()["error"]["code"] == "too_many_transfers", r.text
        assert int(r.headers["Retry-After"]) >= 1, r.headers
        rec = denied_for_limit(s, before, "object:get",
                               "max_downloads_per_principal")
        assert rec is not None, s.audit_records()[before:]
        r = s.get_obj(ns, "big", token=b)
        assert r.status_code == 200 and len(r.content) == len(big)
    finally:
        held.close()
    assert wait_until(lambda: s.get_obj(ns, "big",
                                        token=a).status_code == 200, SLACK)


@pytest.mark.parametrize("threads,trickle", [("0", False), ("4", False),
                                             ("4", True)])
def test_stalled_upload_is_cut_and_stores_nothing(make_server, uniq,
                                                  threads, trickle):
    # 2 s window, 1024 B/s: fewer than 2048 bytes in a window cut it.
    s = make_server(["--set", "threads=" + threads,
                     "--set", "upload_stall_timeout=2",
                     "--set", "min_upload_rate=1024"])
    ns = uniq("st")
    s.mkns(ns)
    w = s.user(uniq("w"), "writer", ns)
    before = s.audit_count()
    blobs = s.blob_files()
    tls = stalled_put(s, w, ns, "stalled")
    closed = False
    try:
        end = time.monotonic() + 2 + SLACK
        while time.monotonic() < end and not closed:
            closed = is_closed(tls)
            if closed:
                break
            time.sleep(0.25)
            if trickle:
                # 100 bytes every 0.25 s: never idle, but too slow.
                try:
                    tls.sendall(b"z" * 100)
                except OSError:
                    closed = True
    finally:
        tls.close()
    assert closed
    rec = s.wait_audit(lambda r: r["seq"] > before and
                       r["action"] == "object:put" and
                       r["result"] == "upload_stalled", SLACK)
    assert rec is not None, s.audit_records()[before:]
    assert rec["status"] == 408, rec
    assert s.versions(ns, "stalled") == []
    assert s.blob_files() == blobs
    assert wait_until(lambda: s.tmp_files() == [], SLACK), s.tmp_files()
    # An upload at a normal rate is not affected.
    r = s.put_obj(ns, "normal", b"n" * (1 << 20), token=w)
    assert r.status_code == 201, r.text


def test_config_bounds(tmp_path):
    for bad in ("max_uploads_per_principal=0",
                "max_downloads_per_principal=0",
                "upload_stall_timeout=0"):
        p = subprocess.run([COFFER_BIN, "server", "--check", "--data",
                            str(tmp_path / "d"), "--set", bad],
                           capture_output=True, text=True,
                           env=sanitizer_env())
        assert p.returncode != 0, (bad, p.stdout, p.stderr)

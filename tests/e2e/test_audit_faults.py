"""The audit log under faults the server must live through: a file system
that runs out of space and gets it back (docs/operations.md, "Audit log
full"), and downloads whose client goes away half-way (the completion
record, docs/internals/AUDIT.md)."""

import json
import os
import resource
import signal
import socket
import ssl
import time

import requests

from conftest import EXIT_OK, Cli, obj_path

DEADLINE = 60


def records_of(srv, rid):
    return [r for r in srv.audit_records() if r.get("request_id") == rid]


def verify_offline(srv, tmp_path):
    p = Cli(srv, tmp_path / "h")("audit", "verify", "--data", srv.data,
                                 with_server=False)
    assert p.returncode == EXIT_OK, (p.stdout, p.stderr)


# ---- a full file system: refused while full, served again after ----

def test_log_resumes_when_space_returns(make_server, tmp_path):
    # The server runs with a soft file size limit just above its audit
    # log (RLIMIT_FSIZE, SIGXFSZ ignored: writes past it fail with EFBIG,
    # as they would with ENOSPC on a full disk).  Once the log cannot
    # grow, every request is refused with 503; then the test raises the
    # limit of the running server, and requests are served again without
    # a restart.
    s = make_server()
    s.mkns("full")
    assert s.put_obj("full", "k", b"x" * 1024).status_code == 201
    s.stop()
    biggest = max(os.path.getsize(os.path.join(d, f))
                  for d, _, fs in os.walk(s.data) for f in fs)
    limit = biggest + 16 * 1024

    def limits():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE,
                           (limit, resource.RLIM_INFINITY))
    s.preexec = limits
    s.start()
    end = time.monotonic() + DEADLINE
    while s.get("/v1/health", token=None).status_code != 503:
        assert time.monotonic() < end, "the log did not fill up"
    # Full: refused, and a change is not made.
    for _i in range(3):
        r = s.get_obj("full", "k")
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "unavailable"
    assert s.put_obj("full", "while-full", b"y").status_code == 503

    # Space returns (the limit of the running process is lifted).
    resource.prlimit(s.proc.pid, resource.RLIMIT_FSIZE,
                     (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    # The log is tried again at most once a second, by the requests that
    # arrive: poll until one is served.
    end = time.monotonic() + DEADLINE
    while True:
        r = s.get_obj("full", "k")
        if r.status_code == 200:
            break
        assert r.status_code == 503, r.text
        assert time.monotonic() < end, "the server did not recover"
        time.sleep(0.2)
    served = [r.headers["X-Request-Id"]]
    r = s.put_obj("full", "after", b"z" * 100)
    assert r.status_code == 201, r.text
    served.append(r.headers["X-Request-Id"])
    r = s.get_obj("full", "after")
    assert r.status_code == 200 and r.content == b"z" * 100
    served.append(r.headers["X-Request-Id"])
    assert s.get_obj("full", "while-full").status_code == 404
    assert s.stop() == 0
    # Every served request has its record, the recovery is recorded,
    # and the whole log verifies.
    recs = s.audit_records()
    logged = {r["request_id"] for r in recs}
    assert all(rid in logged for rid in served)
    rec = [r for r in recs if r["action"] == "audit:recover"]
    assert len(rec) == 1, rec
    assert "appends resumed" in rec[0]["reasons"], rec[0]
    assert [r["seq"] for r in recs] == list(range(1, len(recs) + 1))
    verify_offline(s, tmp_path)
    assert "appends resumed" in s.stderr()


# ---- downloads: the completion record ----

BIG = 32 << 20      # far above what socket buffers can hold


def tls_socket(srv, timeout=30):
    ctx = ssl.create_default_context(cafile=srv.ca)
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def end_record(srv, rid):
    """The completion record of download rid (written when the response
    ends, after the client may already have the body)."""
    rec = srv.wait_audit(lambda x: x["request_id"] == rid and
                         x["action"] == "object:get:end", timeout=30)
    assert rec is not None, records_of(srv, rid)
    return rec


def test_download_cut_short_is_recorded_incomplete(server):
    server.mkns("dl-ns")
    data = os.urandom(BIG)
    assert server.put_obj("dl-ns", "big", data).status_code == 201
    s = tls_socket(server)
    # A small receive buffer and an abortive close (RST): the server's
    # next write fails instead of filling buffers with the rest.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "\r\n" % (obj_path("dl-ns", "big"), server.admin_token)
               ).encode())
    got = b""
    while b"\r\n\r\n" not in got or len(got) < (1 << 20):
        chunk = s.recv(65536)
        assert chunk, got[:300]
        got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    rid = [ln.split(b":", 1)[1].strip().decode()
           for ln in head.split(b"\r\n")
           if ln.lower().startswith(b"x-request-id:")][0]
    s.close()
    # Recorded before the first byte, with the size about to be sent ...
    recs = records_of(server, rid)
    assert recs[0]["action"] == "object:get"
    assert recs[0]["result"] == "ok" and recs[0]["bytes"] == BIG
    # ... and completed by what actually left: fewer bytes, incomplete.
    end = end_record(server, rid)
    assert end["result"] == "incomplete", end
    assert len(body) <= end["bytes"] < BIG, (len(body), end)
    assert end["status"] == 200 and end["decision"] == "allow"
    assert end["principal"] == recs[0]["principal"]
    assert end["resource"] == recs[0]["resource"]
    assert end["reasons"] in ("with_error", "client_abort",
                              "read_error"), end
    assert end["seq"] > recs[0]["seq"]
    assert [x["action"] for x in records_of(server, rid)] == [
        "object:get", "object:get:end"]


def test_full_download_is_recorded_complete(server):
    server.mkns("dl-full")
    data = os.urandom(3 << 20)
    assert server.put_obj("dl-full", "k", data).status_code == 201
    r = server.get_obj("dl-full", "k")
    assert r.status_code == 200 and r.content == data
    rid = r.headers["X-Request-Id"]
    end = end_record(server, rid)
    assert end["result"] == "complete" and end["reasons"] == "completed_ok"
    assert end["bytes"] == len(data) and end["status"] == 200
    assert [x["action"] for x in records_of(server, rid)] == [
        "object:get", "object:get:end"]
    # A small object (served from memory) too.
    assert server.put_obj("dl-full", "small", b"0123456789").status_code \
        == 201
    r = server.get_obj("dl-full", "small")
    end = end_record(server, r.headers["X-Request-Id"])
    assert end["result"] == "complete" and end["bytes"] == 10


def test_range_download_records_the_range(server):
    server.mkns("dl-range")
    data = os.urandom(3 << 20)
    assert server.put_obj("dl-range", "k", data).status_code == 201
    for first, last in ((100, 1099), (1000, 1000 + (1 << 20) - 1)):
        r = server.get_obj("dl-range", "k", headers={
            "Range": "bytes=%d-%d" % (first, last)})
        assert r.status_code == 206 and r.content == data[first:last + 1]
        rid = r.headers["X-Request-Id"]
        main = records_of(server, rid)[0]
        assert main["bytes"] == last - first + 1
        end = end_record(server, rid)
        assert end["result"] == "complete", end
        assert end["bytes"] == last - first + 1 and end["status"] == 206


def test_no_completion_record_without_a_body(server):
    server.mkns("dl-none")
    assert server.put_obj("dl-none", "k", b"abc").status_code == 201
    assert server.put_obj("dl-none", "empty", b"").status_code == 201
    rids = [server.req("HEAD", obj_path("dl-none", "k")),
            server.get_obj("dl-none", "empty"),
            server.get_obj("dl-none", "missing")]
    assert [r.status_code for r in rids] == [200, 200, 404]
    # A download after them, waited for: its completion record comes
    # after any the requests above would have left (they ended first).
    r = server.get_obj("dl-none", "k")
    end_record(server, r.headers["X-Request-Id"])
    for x in rids:
        acts = [y["action"] for y in records_of(server,
                                                x.headers["X-Request-Id"])]
        assert len(acts) == 1 and not acts[0].endswith(":end"), acts


def test_completion_record_with_a_thread_per_connection(make_server):
    # threads = 0: the completion record is appended on the connection's
    # own thread instead of submitted; the same records result.
    s = make_server(extra_args=("--set", "threads=0"))
    s.mkns("dl-tpc")
    data = os.urandom(1 << 20)
    assert s.put_obj("dl-tpc", "k", data).status_code == 201
    r = s.get_obj("dl-tpc", "k")
    assert r.status_code == 200 and r.content == data
    end = end_record(s, r.headers["X-Request-Id"])
    assert end["result"] == "complete" and end["bytes"] == len(data)
    assert s.stop() == 0

"""tests/e2e/test_shutdown.py: SIGTERM while requests are still in flight.

The pool server suspends a connection while its identity request runs on a
slow thread, and while a response waits for its audit record to become
durable.  libmicrohttpd aborts (MHD_PANIC) if it is stopped with a
connection still suspended, so a SIGTERM must first answer or finish every
such request: the process then exits 0 with its audit log closed (final
checkpoint), verifiable and restartable (docs/operations.md, "Stopping").

A request is held on a slow thread by taking SQLite's write lock on
DATA/meta.db from outside: the login's write then busy-waits (10 s).
"""

import os
import re
import sqlite3
import threading
import time

import pytest
import requests

from conftest import HTTP_TIMEOUT, START_TIMEOUT, Cli, obj_path
from test_limits import head_bytes, read_status, tls_socket

PW = "correct horse battery staple"


def mkuser(srv, name):
    r = srv.post("/v1/users", {"name": name, "password": PW})
    assert r.status_code == 201, r.text


def lock_meta(srv):
    """Hold the write lock of DATA/meta.db until the connection closes."""
    con = sqlite3.connect(os.path.join(srv.data, "meta.db"),
                          isolation_level=None, timeout=30)
    con.execute("BEGIN IMMEDIATE")
    return con


def post_async(srv, path, body, out):
    """POST on its own connection in a thread; out gets the response or
    the exception."""
    def run():
        try:
            out.append(requests.post(srv.url + path, json=body,
                                     verify=srv.verify,
                                     timeout=HTTP_TIMEOUT))
        except requests.RequestException as e:
            out.append(e)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def wait_exit(srv, timeout):
    """The exit status of the server once it has exited (SIGTERM sent)."""
    try:
        return srv.proc.wait(timeout=timeout)
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()
        srv.proc = None


def audit_verify(srv, tmp_path):
    p = Cli(srv, tmp_path / "h")("audit", "verify", "--data", srv.data,
                                 with_server=False)
    assert p.returncode == 0, (p.stdout, p.stderr)
    return p


def check_clean_exit(srv, rc):
    err = srv.stderr()
    assert "Fatal error in GNU libmicrohttpd" not in err, \
        err[-4000:]
    assert srv.sanitizer_report() is None, err[-4000:]
    assert rc == 0, "server exited %r on SIGTERM:\n%s" % (rc, err[-4000:])


def test_sigterm_while_login_waits_for_the_metadata_lock(make_server,
                                                          tmp_path):
    """The reviewer's reproduction: a login blocked in SQLite's busy wait
    on a slow thread, then SIGTERM."""
    srv = make_server()
    mkuser(srv, "alice")
    keep = requests.Session()       # a keep-alive connection, open
    assert keep.get(srv.url + "/v1/health", verify=srv.verify,
                    timeout=HTTP_TIMEOUT).status_code == 200
    con = lock_meta(srv)
    out = []
    try:
        t = post_async(srv, "/v1/login", {"user": "alice", "password": PW},
                       out)
        time.sleep(1.0)     # the login is in its busy wait by now
        assert not out, out
        srv._session.close()
        srv.proc.terminate()
        time.sleep(0.5)
        # While the login finishes: no new connection is served, an open
        # one is, and told to close.
        with pytest.raises(requests.RequestException):
            requests.get(srv.url + "/v1/health", verify=srv.verify,
                         timeout=2)
        r = keep.get(srv.url + "/v1/health", verify=srv.verify,
                     timeout=HTTP_TIMEOUT)
        assert r.status_code == 200
        assert r.headers.get("Connection", "").lower() == "close"
        assert not out, out
        rc = wait_exit(srv, START_TIMEOUT + 60)
    finally:
        con.close()
        keep.close()
    t.join(HTTP_TIMEOUT)
    check_clean_exit(srv, rc)
    # The login was answered (its write failed after the busy timeout),
    # and only after its record was durable.
    assert len(out) == 1 and isinstance(out[0], requests.Response), out
    rid = out[0].headers.get("X-Request-Id")
    assert rid
    recs = [r for r in srv.audit_records() if r.get("request_id") == rid]
    assert len(recs) == 1 and recs[0]["status"] == out[0].status_code, recs
    audit_verify(srv, tmp_path)
    srv.start()
    assert srv.get("/v1/health").status_code == 200
    r = srv.post("/v1/login", {"user": "alice", "password": PW}, token=None)
    assert r.status_code == 201, r.text
    srv.stop()
    audit_verify(srv, tmp_path)


def test_sigterm_answers_queued_identity_requests(make_server, tmp_path):
    """More logins than slow threads: the running ones finish, the queued
    ones are refused at once with 503, every one audited."""
    srv = make_server()
    mkuser(srv, "bob")
    con = lock_meta(srv)
    out = []
    threads = []
    try:
        for _ in range(5):
            threads.append(post_async(srv, "/v1/login",
                                      {"user": "bob", "password": PW}, out))
        time.sleep(1.5)
        assert not out, out
        srv._session.close()
        srv.proc.terminate()
        # The queued logins are refused while the running ones still wait
        # for the lock.
        deadline = time.monotonic() + 5
        while len(out) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(out) >= 3, out
        rc = wait_exit(srv, START_TIMEOUT + 60)
    finally:
        con.close()
    for t in threads:
        t.join(HTTP_TIMEOUT)
    check_clean_exit(srv, rc)
    assert len(out) == 5, out
    for r in out:
        assert isinstance(r, requests.Response), out
    refused = [r for r in out if r.status_code == 503]
    assert len(refused) >= 3, [(r.status_code, r.text) for r in out]
    for r in refused:
        assert r.json()["error"]["code"] == "unavailable"
    recs = {r.get("request_id"): r for r in srv.audit_records()}
    for r in out:
        rec = recs.get(r.headers.get("X-Request-Id"))
        assert rec is not None and rec["status"] == r.status_code, rec
    audit_verify(srv, tmp_path)
    srv.start()
    assert srv.get("/v1/health").status_code == 200


def test_sigterm_thread_per_connection(make_server, tmp_path):
    """threads = 0 (no suspension): an idle keep-alive connection does not
    hold the stop up."""
    srv = make_server(extra_args=("--set", "threads=0"))
    keep = requests.Session()
    assert keep.get(srv.url + "/v1/health", verify=srv.verify,
                    timeout=HTTP_TIMEOUT).status_code == 200
    t0 = time.monotonic()
    srv._session.close()
    srv.proc.terminate()
    rc = wait_exit(srv, START_TIMEOUT)
    keep.close()
    check_clean_exit(srv, rc)
    assert time.monotonic() - t0 < 10
    audit_verify(srv, tmp_path)


# ---- graceful shutdown under load: shutdown_drain_timeout ----

def open_upload(srv, ns, key, total, first):
    """A kept-alive connection (one request served, so the server has
    accepted it) with an upload of `total` bytes begun: its head and the
    first `first` bytes sent."""
    s = tls_socket(srv)
    s.sendall(head_bytes(srv, "GET", "/v1/health", {}))
    status, _ = read_status(s)
    assert status == 200
    data = os.urandom(total)
    s.sendall(head_bytes(srv, "PUT", obj_path(ns, key),
                         {"Content-Length": str(total)}) + data[:first])
    return s, data


def wait_transfers(srv, n, timeout=START_TIMEOUT):
    """Wait until the server has n uploads or downloads in progress (its
    metrics say so): a request whose head it has not read yet is not in
    flight, and a SIGTERM then has nothing to drain."""
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(srv.url + "/v1/metrics", verify=srv.verify,
                         timeout=HTTP_TIMEOUT,
                         headers={"Authorization": "Bearer " +
                                  srv.admin_token})
        assert r.status_code == 200, r.text
        m = re.search(r"(?m)^coffer_transfers_active (\d+)", r.text)
        if m and int(m.group(1)) >= n:
            return
        assert time.monotonic() < deadline, r.text[-400:]
        time.sleep(0.02)


def wait_log(srv, needle, timeout=START_TIMEOUT):
    deadline = time.monotonic() + timeout
    while needle not in srv.stderr():
        assert time.monotonic() < deadline, "no %r in the log" % needle
        time.sleep(0.02)


def uploader(srv, ns, tag, stop, out):
    """Upload small objects in a loop until the server stops taking
    them; out gets (key, data, response or exception) per attempt."""
    sess = requests.Session()
    i = 0
    while not stop.is_set():
        key = "load/%s/%d" % (tag, i)
        data = os.urandom(1024 + i)
        try:
            r = sess.put(srv.url + obj_path(ns, key), data=data,
                         verify=srv.verify, timeout=HTTP_TIMEOUT,
                         headers={"Authorization": "Bearer " +
                                  srv.admin_token})
        except requests.RequestException as e:
            out.append((key, data, e))
            break
        out.append((key, data, r))
        i += 1
    sess.close()


def test_sigterm_drains_uploads_in_flight(make_server, tmp_path):
    """Uploads in progress when SIGTERM arrives finish and are answered
    (within shutdown_drain_timeout); clients that give up are recorded as
    aborted; concurrent uploaders see every acknowledged upload stored
    after a restart, and every answer has its record."""
    srv = make_server()
    srv.mkns("drain")
    total = 2 << 20
    going = [open_upload(srv, "drain", "inflight/%d" % i, total, 1 << 20)
             for i in range(3)]
    leaving = [open_upload(srv, "drain", "leaving/%d" % i, total, 1 << 20)
               for i in range(2)]
    wait_transfers(srv, 5)
    stop = threading.Event()
    outs = [[] for _ in range(4)]
    ths = [threading.Thread(target=uploader, daemon=True,
                            args=(srv, "drain", t, stop, outs[t]))
           for t in range(4)]
    for t in ths:
        t.start()
    while sum(len(o) for o in outs) < 8:     # the load is on
        time.sleep(0.02)
    srv._session.close()
    srv.proc.terminate()
    wait_log(srv, "event=shutdown_drain in_flight=")
    # Longer than the fixed 2 s the server used to give requests in
    # progress; far less than shutdown_drain_timeout (30 s).
    time.sleep(3)
    stop.set()
    answers = []
    for s, data in going:
        s.sendall(data[1 << 20:])
        answers.append(read_status(s))
        s.close()
    for s, _ in leaving:
        s.close()
    rc = wait_exit(srv, START_TIMEOUT + 60)
    for t in ths:
        t.join(HTTP_TIMEOUT)
    check_clean_exit(srv, rc)
    for status, head in answers:
        assert status == 201, head[:400]
    audit_verify(srv, tmp_path)

    recs = srv.audit_records()
    by_id = {}
    for r in recs:
        by_id.setdefault(r.get("request_id"), []).append(r)
    # The clients that left mid-body: recorded, nothing stored.
    for i in range(2):
        res = "ns/drain/obj/leaving/%d" % i
        mine = [r for r in recs if r["resource"] == res]
        assert [r["result"] for r in mine] == ["client_aborted"], mine
    # Every answer the load got has its record, with its status.
    acked = []
    for out in outs:
        for key, data, r in out:
            if isinstance(r, requests.Response):
                rid = r.headers.get("X-Request-Id")
                assert rid in by_id, (key, r.status_code)
                assert by_id[rid][0]["status"] == r.status_code
                if r.status_code == 201:
                    acked.append((key, data))
    assert acked
    srv.start()
    for i, (_, data) in enumerate(going):
        assert srv.get_obj("drain", "inflight/%d" % i).content == data
    for i in range(2):
        assert srv.get_obj("drain", "leaving/%d" % i).status_code == 404
    for key, data in acked:
        r = srv.get_obj("drain", key)
        assert r.status_code == 200 and r.content == data, key
    srv.stop()
    audit_verify(srv, tmp_path)


def test_sigterm_cuts_uploads_at_the_drain_deadline(make_server, tmp_path):
    """An upload still arriving at shutdown_drain_timeout is cut: nothing
    stored, recorded as server_shutdown, a clean exit."""
    srv = make_server(extra_args=("--set", "shutdown_drain_timeout=1"))
    srv.mkns("cut")
    s, _ = open_upload(srv, "cut", "stalled", 2 << 20, 1 << 20)
    wait_transfers(srv, 1)
    srv._session.close()
    srv.proc.terminate()
    rc = wait_exit(srv, START_TIMEOUT + 60)
    s.close()
    check_clean_exit(srv, rc)
    assert "event=shutdown_drain_timeout in_flight=1" in srv.stderr()
    mine = [r for r in srv.audit_records()
            if r["resource"] == "ns/cut/obj/stalled"]
    assert [(r["status"], r["result"]) for r in mine] == \
        [(0, "server_shutdown")], mine
    audit_verify(srv, tmp_path)
    srv.start()
    assert srv.get_obj("cut", "stalled").status_code == 404
    assert srv.tmp_files() == []

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

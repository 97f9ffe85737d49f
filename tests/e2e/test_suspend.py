"""tests/e2e/test_suspend.py: requests that wait for their audit record.

In the default mode (epoll threads), a response waits for its audit record
to become durable with its connection suspended: no thread waits for it.
A client that goes away meanwhile must leave a correct audit trail (the
decision's record, then a completion record saying its answer did not
reach it: docs/internals/AUDIT.md, "Completion records"), and the server
must neither send to it, nor leak the connection, nor crash.  Run this
file against a sanitizer build too (tests/e2e/README.md): the server's
exit then checks for leaks.

The group commit is held with the server's test hook
(COFFER_TEST_AUDIT_HOLD: SIGUSR1 holds, SIGUSR2 releases, each logs the
records waiting), so the test knows its request waits, without timing.
"""

import os
import re
import signal
import time

from conftest import START_TIMEOUT, obj_path
from test_limits import head_bytes, read_status, tls_socket

HOLD_RE = re.compile(r"event=test_audit_hold hold=(\d) pending=(\d+)")


def hold(srv, on):
    """Hold (or release) the group commit; the records waiting then."""
    before = len(HOLD_RE.findall(srv.stderr()))
    os.kill(srv.proc.pid, signal.SIGUSR1 if on else signal.SIGUSR2)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        got = HOLD_RE.findall(srv.stderr())
        if len(got) > before:
            assert got[-1][0] == ("1" if on else "0"), got
            return int(got[-1][1])
        assert time.monotonic() < deadline, "no test_audit_hold line"
        time.sleep(0.02)


def wait_pending(srv, n):
    """Wait until at least n records wait for the held commit."""
    deadline = time.monotonic() + START_TIMEOUT
    while hold(srv, True) < n:
        assert time.monotonic() < deadline, "the request never waited"
        time.sleep(0.02)


def held_server(make_server, *args):
    srv = make_server(extra_args=args, start=False)
    srv.env["COFFER_TEST_AUDIT_HOLD"] = "1"
    return srv.start()


def records_of(srv, rid):
    return [r for r in srv.audit_records() if r.get("request_id") == rid]


def test_client_leaving_while_its_record_waits(make_server):
    srv = held_server(make_server)
    srv.mkns("susp")
    data = os.urandom(4096)
    assert srv.put_obj("susp", "small", data).status_code == 201
    p0 = hold(srv, True)
    # Three requests wait for the held commit: a JSON answer and a
    # download whose clients leave, and one whose client stays.
    gone_ns = tls_socket(srv)
    gone_ns.sendall(head_bytes(srv, "GET", "/v1/ns/susp", {}))
    wait_pending(srv, p0 + 1)
    gone_ns.close()
    gone_dl = tls_socket(srv)
    gone_dl.sendall(head_bytes(srv, "GET", obj_path("susp", "small"), {}))
    wait_pending(srv, p0 + 2)
    gone_dl.close()
    stays = tls_socket(srv)
    stays.sendall(head_bytes(srv, "GET", "/v1/ns", {}))
    wait_pending(srv, p0 + 3)
    hold(srv, False)
    status, head = read_status(stays)
    stays.close()
    assert status == 200, head[:300]
    rid = re.search(r"(?im)^x-request-id: *(\S+)", head).group(1)

    end = srv.wait_audit(lambda r: r["action"] == "request:end" and
                         r["resource"] == "ns/susp", timeout=START_TIMEOUT)
    assert end is not None, srv.audit_records()[-5:]
    recs = records_of(srv, end["request_id"])
    assert [r["action"] for r in recs] == ["ns:get", "request:end"], recs
    first = recs[0]
    assert first["decision"] == "allow" and first["status"] == 200
    assert first["result"] == "ok"
    assert end["result"] == "client_aborted", end
    assert end["reasons"] == "client_left_while_waiting", end
    assert end["status"] == 200 and end["bytes"] == 0

    # The download's completion record: nothing of it was sent.
    dl_end = srv.wait_audit(lambda r: r["action"] == "object:get:end" and
                            r["resource"] == "ns/susp/obj/small" and
                            r["reasons"] == "client_left_while_waiting",
                            timeout=START_TIMEOUT)
    assert dl_end is not None, srv.audit_records()[-5:]
    assert dl_end["result"] == "incomplete" and dl_end["bytes"] == 0
    assert [r["action"] for r in records_of(srv, dl_end["request_id"])] \
        == ["object:get", "object:get:end"]

    # The client that stayed got its answer, with one record.
    assert [r["action"] for r in records_of(srv, rid)] == ["ns:list"]

    # The server goes on; its exit (checked by stop) finds no leak.
    assert srv.get("/v1/health").status_code == 200
    assert srv.get_obj("susp", "small").content == data
    srv.stop()
    assert "ERROR: AddressSanitizer" not in srv.stderr()
    assert "LeakSanitizer" not in srv.stderr()


def test_many_clients_leaving_while_records_wait(make_server):
    """Many suspended connections at once, every client gone: each gets
    its pair of records, none is answered, the server stays sound."""
    srv = held_server(make_server)
    srv.mkns("many")
    p0 = hold(srv, True)
    socks = []
    for i in range(20):
        s = tls_socket(srv)
        s.sendall(head_bytes(srv, "GET", "/v1/ns/many", {}))
        socks.append(s)
    wait_pending(srv, p0 + len(socks))
    for s in socks:
        s.close()
    hold(srv, False)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        ends = [r for r in srv.audit_records()
                if r["action"] == "request:end" and
                r["resource"] == "ns/many"]
        if len(ends) == len(socks):
            break
        assert time.monotonic() < deadline, len(ends)
        time.sleep(0.05)
    for e in ends:
        assert e["result"] == "client_aborted"
        assert [r["action"] for r in records_of(srv, e["request_id"])] \
            == ["ns:get", "request:end"]
    assert srv.get("/v1/health").status_code == 200
    srv.stop()

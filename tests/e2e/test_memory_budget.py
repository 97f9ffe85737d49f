"""tests/e2e/test_memory_budget.py: the global memory budget of request
buffers (issue 15, "a global memory budget for request buffers").

Request bodies being read (JSON, S3 XML) and the staging buffers of
large uploads all draw on one budget, request_memory_budget.  A body
that would go over it is refused with 503 server_busy and Retry-After,
and recorded; a large upload that cannot get staging buffers runs
unstaged instead (slower, never refused for it).  The tests hold bodies
open mid-way and read the held bytes from GET /v1/metrics, so nothing
depends on timing (docs/operations.md, "Connection governance")."""

import hashlib
import os
import re
import socket
import ssl
import subprocess
import time

from conftest import COFFER_BIN, sanitizer_env

BUDGET = 65536          # the least request_memory_budget allowed
STEP = 16384            # the server reserves body memory in 16 KiB steps


def metric(server, name):
    text = server.get("/v1/metrics").text
    m = re.search(r"^%s (\d+)$" % name, text, re.M)
    assert m, "%s missing from /v1/metrics" % name
    return int(m.group(1))


def wait_metric(server, name, want, timeout=60):
    end = time.monotonic() + timeout
    while True:
        got = metric(server, name)
        if got == want:
            return
        assert time.monotonic() < end, "%s: %d, want %d" % (name, got, want)
        time.sleep(0.05)


def held_json(server, token, sent, length):
    """A POST /v1/tokens whose JSON body stops after `sent` of its
    `length` bytes: the server holds what arrived."""
    raw = socket.create_connection(("127.0.0.1", server.port), 30)
    ctx = ssl.create_default_context(cafile=server.ca)
    tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    head = ("POST /v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (token, length))
    tls.sendall(head.encode() + b" " * sent)
    return tls


def budget_server(make_server, threads="4"):
    return make_server(["--set", "request_memory_budget=%d" % BUDGET,
                        "--set", "threads=" + threads])


def test_body_over_budget_is_refused_503_and_recorded(make_server):
    s = budget_server(make_server)
    assert metric(s, "coffer_request_memory_budget_bytes") == BUDGET
    tok = s.admin_api_token
    held = [held_json(s, tok, 20000, 40000) for _ in range(2)]
    try:
        # 20,000 bytes each, held in two 16 KiB steps: the whole budget.
        wait_metric(s, "coffer_request_memory_bytes", 2 * 2 * STEP)
        before = s.audit_count()
        r = s.post("/v1/tokens", {"principal": "admin",
                                  "description": "over budget"},
                   token=tok)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "server_busy", r.text
        assert int(r.headers["Retry-After"]) >= 1, r.headers
        rec = s.wait_audit(lambda x: x["seq"] > before and
                           x["status"] == 503 and
                           "request memory budget" in x.get("reasons", ""))
        assert rec["decision"] == "deny", rec
        assert metric(s, "coffer_request_memory_refusals_total") >= 1
        # Nothing was made by the refused request.
        toks = s.get("/v1/tokens").json()["tokens"]
        assert not [t for t in toks
                    if t.get("description") == "over budget"]
    finally:
        for t in held:
            t.close()
    # Released with the connections; the same request now goes through.
    wait_metric(s, "coffer_request_memory_bytes", 0)
    r = s.post("/v1/tokens", {"principal": "admin",
                              "description": "after release"}, token=tok)
    assert r.status_code == 201, r.text


def test_large_upload_runs_unstaged_within_budget(make_server, uniq):
    s = budget_server(make_server)
    ns = uniq("mb")
    s.mkns(ns)
    data = os.urandom(5 << 20)      # above the 2 MiB staging threshold
    before = metric(s, "coffer_uploads_unstaged_total")
    r = s.put_obj(ns, "big.bin", data)
    assert r.status_code == 201, r.text
    assert metric(s, "coffer_uploads_unstaged_total") == before + 1
    g = s.get_obj(ns, "big.bin")
    assert g.status_code == 200
    assert hashlib.sha256(g.content).digest() == \
        hashlib.sha256(data).digest()
    assert metric(s, "coffer_request_memory_bytes") == 0


def test_default_budget_stages_large_uploads(server, uniq):
    # With the default budget (256 MiB) a large upload is staged.
    ns = uniq("mbd")
    server.mkns(ns)
    before = metric(server, "coffer_uploads_unstaged_total")
    r = server.put_obj(ns, "big.bin", os.urandom(5 << 20))
    assert r.status_code == 201, r.text
    assert metric(server, "coffer_uploads_unstaged_total") == before
    assert metric(server, "coffer_request_memory_budget_bytes") == \
        256 << 20


def test_budget_out_of_range_is_refused_at_start(tmp_path):
    p = subprocess.run([COFFER_BIN, "server", "--data", str(tmp_path / "d"),
                        "--check", "--set", "request_memory_budget=1000"],
                       capture_output=True, text=True, timeout=60,
                       env=sanitizer_env())
    assert p.returncode == 2, p.stdout + p.stderr
    assert "request_memory_budget" in p.stderr

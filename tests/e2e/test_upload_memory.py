"""tests/e2e/test_upload_memory.py: what uploads in flight cost in server
memory (docs/operations.md, "Memory").

Every big buffer of an upload (the staging buffers of a large body, the
blob writer's disk buffers, a copying Complete's read blocks, a part
copy's buffer) comes from request_memory_budget; an upload the budget has no room
for goes on with small buffers, or none, and is never refused for it.  So
any number of concurrent uploads stay byte-exact, and the server's peak
resident memory grows by the budget plus a small per-connection cost, not
by the number of uploads times their buffers.

The uploads are made concurrent by construction, not by timing: every
request's head and body go out round-robin over its own TLS connection,
so no upload can end before the last round has begun.  The memory bound is
a peak (VmHWM), not a rate; the sanitizer builds' allocator changes
resident memory, so they leave that assertion out (the uploads still
run)."""

import hashlib
import os
import re
import socket
import ssl
import subprocess
import threading

from conftest import COFFER_BIN, enc_key, s3_client

MiB = 1024 * 1024
ROUND = 256 * 1024      # bytes sent per connection per round


def sanitized_build():
    out = subprocess.run(["ldd", COFFER_BIN], capture_output=True,
                         text=True).stdout
    return "libasan" in out or "libubsan" in out


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s" % field)


def metrics(server):
    text = server.get("/v1/metrics").text
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(r"^(coffer_\w+) (\d+)$", text, re.M)}


def read_response(tls):
    """The status and body of one HTTP/1.1 response (Content-Length)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        got = tls.recv(65536)
        assert got, "connection closed before the response head"
        buf += got
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    while len(body) < length:
        got = tls.recv(65536)
        assert got, "connection closed inside the response body"
        body += got
    return status, body


def concurrent_puts(server, token, ns, bodies):
    """PUT every body as ns/up-I at once: the heads first, then the
    bodies round-robin, ROUND bytes per connection per round; then the
    answers.  Returns the status of each."""
    ctx = ssl.create_default_context(cafile=server.ca)
    conns = []
    try:
        for i, body in enumerate(bodies):
            raw = socket.create_connection(("127.0.0.1", server.port), 120)
            tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            conns.append(tls)
            tls.sendall((
                "PUT /v1/ns/%s/objects/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\n"
                "Content-Type: application/octet-stream\r\n"
                "Content-Length: %d\r\n\r\n"
                % (ns, enc_key("up-%d" % i), token, len(body))).encode())
        for off in range(0, max(len(b) for b in bodies), ROUND):
            for tls, body in zip(conns, bodies):
                if off < len(body):
                    tls.sendall(body[off:off + ROUND])
        return [read_response(tls)[0] for tls in conns]
    finally:
        for tls in conns:
            tls.close()


def check_objects(server, ns, bodies):
    for i, body in enumerate(bodies):
        g = server.get_obj(ns, "up-%d" % i)
        assert g.status_code == 200, g.text
        assert hashlib.sha256(g.content).digest() == \
            hashlib.sha256(body).digest(), "up-%d differs" % i


def warm_up(server, ns):
    """One upload of each kind first: threads, TLS and the allocator are
    set up, so that the peak measured after is the uploads' own."""
    r = server.put_obj(ns, "warm", os.urandom(12 * MiB))
    assert r.status_code == 201, r.text


N = 12                  # uploads at once
SIZE = 12 * MiB         # each: staged, and past the writer's buffers
BUDGET = 4 * MiB        # room for the buffers of about three of them


def test_concurrent_uploads_cost_the_budget_not_their_number(make_server,
                                                             uniq):
    """N uploads of SIZE at once with a small budget: all stored byte for
    byte, and the peak RSS grows by about the budget, not by N times an
    upload's buffers (before: 8 MiB of writer buffers each, outside the
    budget, so 12 x 8 MiB here)."""
    s = make_server(["--set", "request_memory_budget=%d" % BUDGET,
                     "--set", "threads=%d" % (N + 4)])
    ns = uniq("mem")
    s.mkns(ns)
    warm_up(s, ns)
    pid = s.proc.pid
    hwm0 = status_kib(pid, "VmHWM")
    rss0 = status_kib(pid, "VmRSS")
    m0 = metrics(s)
    m0.setdefault("coffer_transfer_buffers_denied_total", 0)
    bodies = [os.urandom(SIZE) for _ in range(N)]
    statuses = concurrent_puts(s, s.admin_api_token, ns, bodies)
    assert statuses == [201] * N, statuses
    grown_kib = status_kib(pid, "VmHWM") - max(hwm0, rss0)
    # The budget, the idle cache, and per connection its TLS session and
    # buffers, the sealer's two 64 KiB chunks and the hash states (about
    # 300 KiB), with room to spare.
    bound_kib = (BUDGET + 4 * MiB + N * 512 * 1024 + 8 * MiB) // 1024
    print("peak RSS grew by %d KiB (bound %d KiB)" % (grown_kib, bound_kib))
    if not sanitized_build():
        assert grown_kib < bound_kib, \
            "peak RSS grew by %d KiB with %d uploads in flight " \
            "(bound %d KiB)" % (grown_kib, N, bound_kib)
    check_objects(s, ns, bodies)
    # The budget had no room for all of them: some went on with less.
    m1 = metrics(s)
    assert m1["coffer_transfer_buffers_denied_total"] > \
        m0["coffer_transfer_buffers_denied_total"]
    # Everything given back; idle buffers kept stay within their cap.
    assert m1["coffer_request_memory_bytes"] == 0
    assert m1["coffer_transfer_buffer_bytes"] == 0
    assert m1["coffer_transfer_buffer_idle_bytes"] <= 4 * MiB

def test_uploads_with_no_room_in_the_budget_are_byte_exact(make_server,
                                                           uniq):
    """The least budget (64 KiB; buffers may use 48 KiB of it): no
    upload gets a single buffer: unstaged, the blob written straight
    through the page cache, a part copy through one small buffer, then
    a Complete.  All byte-exact, none refused, and the budget entirely
    given back."""
    s = make_server(["--set", "request_memory_budget=65536"])
    ns = uniq("mem0")
    s.mkns(ns)
    m0 = metrics(s)
    bodies = [os.urandom(5 * MiB + 7) for _ in range(4)]
    statuses = concurrent_puts(s, s.admin_api_token, ns, bodies)
    assert statuses == [201] * 4, statuses
    check_objects(s, ns, bodies)
    m1 = metrics(s)
    assert m1["coffer_uploads_unstaged_total"] >= \
        m0["coffer_uploads_unstaged_total"] + 4
    assert m1["coffer_transfer_buffers_denied_total"] >= \
        m0["coffer_transfer_buffers_denied_total"] + 8

    # S3: parts in parallel, a part copy, then Complete.
    r = s.post("/v1/s3-keys", {}, token="admin")
    assert r.status_code == 201, r.text
    c = s3_client(s, r.json())
    c.create_bucket(Bucket="memb")
    parts = [os.urandom(5 * MiB + 3) for _ in range(3)]
    src = os.urandom(5 * MiB + 11)
    c.put_object(Bucket="memb", Key="src", Body=src)
    up = c.create_multipart_upload(Bucket="memb", Key="big")["UploadId"]
    etags = {}
    errors = []

    def put_part(n):
        try:
            etags[n] = c.upload_part(Bucket="memb", Key="big", UploadId=up,
                                     PartNumber=n,
                                     Body=parts[n - 1])["ETag"]
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    ts = [threading.Thread(target=put_part, args=(n,)) for n in (1, 2, 3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    etags[4] = c.upload_part_copy(
        Bucket="memb", Key="big", UploadId=up, PartNumber=4,
        CopySource={"Bucket": "memb", "Key": "src"})["CopyPartResult"]["ETag"]
    c.complete_multipart_upload(
        Bucket="memb", Key="big", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]}
                                   for n in (1, 2, 3, 4)]})
    got = c.get_object(Bucket="memb", Key="big")["Body"].read()
    assert hashlib.sha256(got).digest() == \
        hashlib.sha256(b"".join(parts) + src).digest()
    m2 = metrics(s)
    assert m2["coffer_request_memory_bytes"] == 0
    assert m2["coffer_transfer_buffer_bytes"] == 0
    assert s.tmp_files() == []

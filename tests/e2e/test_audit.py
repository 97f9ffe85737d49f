"""The audit log: one record per request, its fields, reading it through
the API and the CLI, and offline verification that catches tampering."""

import json
import os
import re
import shutil

import pytest

from conftest import EXIT_DENIED, EXIT_OK, obj_path

FIELDS = ("seq", "time", "request_id", "principal", "authn", "source",
          "action", "resource", "decision", "reasons", "status", "result",
          "bytes", "prev", "mac")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture(scope="module")
def env(server):
    server.mkns("audit-ns")
    server.mkns("audit-other")
    assert server.put_obj("audit-ns", "seed", b"seed").status_code == 201
    return {"reader": server.user("audit-rdr", "reader", "audit-ns")}


def one_record(server, fn):
    """Run fn() -> response; exactly one new audit record must appear, and
    it must carry the response's X-Request-Id.  A download (a GET with a
    body) also gets its completion record (object:get:end, written when
    the response has ended), which is waited for and then set aside."""
    before = server.audit_records()
    r = fn()
    after = server.audit_records()
    new = after[len(before):]
    if (new and new[0]["action"] == "object:get" and
            new[0]["status"] in (200, 206) and new[0]["bytes"] > 0):
        rid = r.headers["X-Request-Id"]
        server.wait_audit(lambda x: x["request_id"] == rid and
                          x["action"] == "object:get:end")
        after = server.audit_records()
        assert [x["action"] for x in after[len(before):]] == [
            "object:get", "object:get:end"], after[len(before):]
        assert after[-1]["request_id"] == rid
        after = after[:-1]
    assert len(after) == len(before) + 1, (
        "expected exactly one new record", after[len(before):])
    rec = after[-1]
    assert rec["request_id"] == r.headers["X-Request-Id"]
    assert rec["status"] == r.status_code
    for f in FIELDS:
        assert f in rec, (f, rec)
    assert rec["source"] == "127.0.0.1"
    assert TIME_RE.match(rec["time"]), rec["time"]
    assert rec["seq"] == before[-1]["seq"] + 1 if before else True
    assert rec["prev"] == (before[-1]["mac"] if before else rec["prev"])
    return r, rec


CASES = [
    # name, fn(server, env), expectations on the record
    ("health", lambda s, e: s.get("/v1/health", token=None),
     dict(action="health", decision="allow", status=200, authn="none")),
    ("whoami", lambda s, e: s.get("/v1/whoami", token="admin-api"),
     dict(action="whoami", decision="allow", principal="admin",
          authn="token")),
    ("ns-create", lambda s, e: s.post("/v1/ns", {"name": "audit-made"}),
     dict(action="ns:create", resource="ns/audit-made", decision="allow",
          status=201, reasons="role:admin")),
    ("ns-list", lambda s, e: s.get("/v1/ns"),
     dict(action="ns:list", decision="allow")),
    ("put", lambda s, e: s.put_obj("audit-ns", "a/k", b"0123456789"),
     dict(action="object:put", resource="ns/audit-ns/obj/a/k",
          decision="allow", status=201, result="ok", bytes=10)),
    ("get", lambda s, e: s.get_obj("audit-ns", "seed"),
     dict(action="object:get", resource="ns/audit-ns/obj/seed",
          decision="allow", status=200, bytes=4)),
    ("head", lambda s, e: s.req("HEAD", obj_path("audit-ns", "seed")),
     dict(action="object:head", decision="allow", status=200)),
    ("range", lambda s, e: s.get_obj("audit-ns", "seed",
                                     headers={"Range": "bytes=1-2"}),
     dict(action="object:get", status=206, bytes=2)),
    ("list", lambda s, e: s.get("/v1/ns/audit-ns/objects"),
     dict(action="object:list", decision="allow")),
    ("versions", lambda s, e: s.get("/v1/ns/audit-ns/versions/seed"),
     dict(action="object:versions", decision="allow")),
    ("get-missing", lambda s, e: s.get_obj("audit-ns", "nope"),
     dict(action="object:get", decision="allow", status=404,
          result="no_such_key")),
    ("reader-put-denied",
     lambda s, e: s.put_obj("audit-ns", "denied", b"xyz",
                            token=e["reader"]),
     dict(action="object:put", decision="deny", status=403,
          principal="audit-rdr", result="access_denied")),
    ("reader-other-ns-denied",
     lambda s, e: s.get("/v1/ns/audit-other/objects", token=e["reader"]),
     dict(action="object:list", decision="deny", status=403,
          principal="audit-rdr")),
    ("reader-audit-denied",
     lambda s, e: s.get("/v1/audit", token=e["reader"]),
     dict(action="audit:read", decision="deny", status=403)),
    ("no-token", lambda s, e: s.get("/v1/ns", token=None),
     dict(decision="deny", status=401, principal="",
          result="unauthenticated")),
    ("bad-token", lambda s, e: s.get("/v1/ns", token="cft_bogus"),
     dict(decision="deny", status=401, principal="")),
    ("unknown-route-unauthed", lambda s, e: s.get("/v1/nothing", token=None),
     dict(decision="deny", status=401)),
    ("unknown-route-authed", lambda s, e: s.get("/v1/nothing"),
     dict(status=404, result="not_found")),
    ("bad-json", lambda s, e: s.req("POST", "/v1/ns", data=b"{nope"),
     dict(action="ns:create", status=400, result="invalid_json")),
    ("digest-mismatch",
     lambda s, e: s.put_obj("audit-ns", "dm", b"abc",
                            headers={"X-Coffer-SHA256": "0" * 64}),
     dict(action="object:put", decision="allow", status=400,
          result="digest_mismatch")),
    ("ns-delete-non-empty", lambda s, e: s.req("DELETE", "/v1/ns/audit-ns"),
     dict(action="ns:delete", decision="allow", status=409,
          result="namespace_not_empty")),
    ("delete", lambda s, e: s.req("DELETE", obj_path("audit-ns", "a/k")),
     dict(action="object:delete", decision="allow", status=200)),
]


@pytest.mark.parametrize("name,fn,want", CASES, ids=[c[0] for c in CASES])
def test_exactly_one_record_per_request(server, env, name, fn, want):
    r, rec = one_record(server, lambda: fn(server, env))
    for k, v in want.items():
        assert rec[k] == v, (k, rec)
    if rec["decision"] == "deny":
        assert rec["status"] >= 400
    if rec["status"] in (401, 403):
        assert rec["decision"] == "deny"
    if rec["status"] == 401:
        assert rec["principal"] == ""
    assert isinstance(rec["bytes"], int) and isinstance(rec["mfa"], bool)


def test_denied_record_has_reasons(server, env):
    r, rec = one_record(server, lambda: server.put_obj(
        "audit-ns", "denied2", b"x", token=env["reader"]))
    assert rec["decision"] == "deny"
    assert isinstance(rec["reasons"], str)


def test_strange_key_logged_escaped(server, env):
    key = 'evil"\\key\u2028{"decision":"allow"}'
    r, rec = one_record(server, lambda: server.put_obj(
        "audit-ns", key, b"x"))
    assert rec["resource"] == "ns/audit-ns/obj/" + key
    # Still one JSON object per line.
    assert server.audit_records()


def test_huge_key_truncated_not_dropped(server, env):
    key = "k" * 1024
    r, rec = one_record(server, lambda: server.put_obj("audit-ns", key, b"x"))
    assert r.status_code == 201
    assert rec["resource"].startswith("ns/audit-ns/obj/kkk")


def test_api_audit_tail_and_after(server, env):
    r = server.get("/v1/audit", params={"tail": 5})
    assert r.status_code == 200, r.text
    recs = r.json()["records"]
    assert len(recs) == 5
    seqs = [x["seq"] for x in recs]
    assert seqs == sorted(seqs) and seqs[-1] - seqs[0] == 4
    on_disk = {x["seq"]: x for x in server.audit_records()}
    for x in recs:
        assert x == on_disk[x["seq"]]
    r = server.get("/v1/audit", params={"after": 0, "limit": 3})
    j = r.json()
    assert [x["seq"] for x in j["records"]] == [1, 2, 3]
    assert j["next_after"] == 3
    r = server.get("/v1/audit", params={"after": j["next_after"],
                                        "limit": 2})
    assert [x["seq"] for x in r.json()["records"]] == [4, 5]


def test_api_audit_tail_beyond_a_page(server, env):
    # More records than the default page of 100 and than the tail asked.
    while server.audit_count() < 230:
        server.get("/v1/health", token=None)
    for n in (150, 10000):
        r = server.get("/v1/audit", params={"tail": n})
        assert r.status_code == 200, r.text
        recs = r.json()["records"]
        on_disk = server.audit_records()
        # The read's own record comes after the records it returns.
        last = recs[-1]["seq"]
        want = [x["seq"] for x in on_disk if x["seq"] <= last][-n:]
        assert [x["seq"] for x in recs] == want, (n, recs[0]["seq"])
        assert r.json()["next_after"] == last


@pytest.mark.parametrize("params", [
    {"tail": 0}, {"tail": 10001}, {"tail": "x"}, {"tail": 5, "after": 3},
    {"tail": 5, "limit": 3}])
def test_api_audit_bad_tail_is_400(server, env, params):
    before = server.audit_count()
    r = server.get("/v1/audit", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_request"
    assert "tail" in r.json()["error"]["message"]
    rec = server.audit_records()[before]
    assert rec["action"] == "audit:read" and rec["status"] == 400


def test_cli_audit_tail_pages_beyond_the_api_maximum(server, env, cli):
    while server.audit_count() < 10050:
        # Cheap records: unauthenticated health checks, in bulk.
        import concurrent.futures
        import requests

        def burst(_):
            with requests.Session() as sess:
                for _i in range(200):
                    sess.get(server.url + "/v1/health", verify=server.ca,
                             timeout=30)
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            list(ex.map(burst, range(4)))
    p = cli("audit", "tail", "-n", "10020", "--json")
    assert p.returncode == EXIT_OK, p.stderr
    seqs = [json.loads(l)["seq"] for l in p.stdout.splitlines()]
    assert len(seqs) == 10020
    assert seqs == list(range(seqs[0], seqs[0] + 10020))
    p = cli("audit", "tail", "-n", "1000001")
    assert p.returncode != EXIT_OK and "1000000" in p.stderr, p.stderr


def test_api_audit_forbidden_for_non_admin(server, env):
    r = server.get("/v1/audit", params={"tail": 5}, token=env["reader"])
    assert r.status_code == 403
    assert "records" not in r.json()


def test_cli_audit_tail(server, env, cli):
    p = cli("audit", "tail", "-n", "5")
    assert p.returncode == EXIT_OK, p.stderr
    assert len(p.stdout.strip().splitlines()) == 5
    p = cli("audit", "tail", "-n", "5", "--json")
    assert p.returncode == EXIT_OK, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 5
    recs = [json.loads(l) for l in lines]
    assert all("seq" in x and "action" in x for x in recs)
    p = cli("audit", "tail", "-n", "5", token=env["reader"])
    assert p.returncode == EXIT_DENIED, (p.returncode, p.stderr)
    assert p.stdout == ""


def test_cli_audit_verify_live(server, env, cli):
    n = server.audit_count()
    p = cli("audit", "verify", "--data", server.data, with_server=False)
    assert p.returncode == EXIT_OK, (p.stdout, p.stderr)
    assert "OK" in p.stdout
    m = re.search(r"(\d+) records", p.stdout)
    assert m and int(m.group(1)) >= n
    p = cli("audit", "verify", "--data", server.data, "--json",
            with_server=False)
    assert p.returncode == EXIT_OK
    json.loads(p.stdout)


# ---- tampering (on copies of a stopped server's data directory) ----

@pytest.fixture(scope="module")
def stopped_log(make_server_module):
    s = make_server_module
    s.mkns("tamper-audit")
    for i in range(12):
        s.put_obj("tamper-audit", "k%d" % i, b"v%d" % i)
        s.get("/v1/ns", token=None)       # denied, unauthenticated
    s.stop()
    return s


@pytest.fixture(scope="module")
def make_server_module(tmp_path_factory):
    from conftest import Server
    s = Server(tmp_path_factory.mktemp("audit-tamper")).start()
    yield s
    s.stop()


def copy_data(src, dst):
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("blobs"))
    return str(dst)


def lines_of(d):
    with open(os.path.join(d, "audit", "audit.log"), "rb") as f:
        return f.read().splitlines(keepends=True)


def write_lines(d, lines):
    with open(os.path.join(d, "audit", "audit.log"), "wb") as f:
        f.write(b"".join(lines))


def verify(cli, d):
    return cli("audit", "verify", "--data", d, with_server=False)


def test_verify_untampered_copy_ok(stopped_log, cli, tmp_path):
    d = copy_data(stopped_log.data, tmp_path / "d")
    p = verify(cli, d)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "OK" in p.stdout


def assert_fails_at(p, seq):
    out = p.stdout + p.stderr
    assert p.returncode != 0, out
    assert "FAILED" in out or "fail" in out.lower(), out
    assert re.search(r"\b%d\b" % seq, out), ("record %d not named" % seq, out)


def test_verify_detects_edited_decision(stopped_log, cli, tmp_path):
    d = copy_data(stopped_log.data, tmp_path / "d")
    lines = lines_of(d)
    idx = next(i for i, l in enumerate(lines)
               if b'"decision":"deny"' in l and i > 3)
    seq = json.loads(lines[idx])["seq"]
    lines[idx] = lines[idx].replace(b'"decision":"deny"',
                                    b'"decision":"allow"')
    write_lines(d, lines)
    assert_fails_at(verify(cli, d), seq)


def test_verify_detects_edited_bytes_same_length(stopped_log, cli, tmp_path):
    d = copy_data(stopped_log.data, tmp_path / "d")
    lines = lines_of(d)
    idx = 5
    seq = json.loads(lines[idx])["seq"]
    lines[idx] = lines[idx].replace(b'"source":"127.0.0.1"',
                                    b'"source":"127.0.0.2"')
    write_lines(d, lines)
    assert_fails_at(verify(cli, d), seq)


def test_verify_detects_deleted_line(stopped_log, cli, tmp_path):
    d = copy_data(stopped_log.data, tmp_path / "d")
    lines = lines_of(d)
    seq = json.loads(lines[7])["seq"]
    del lines[7]
    write_lines(d, lines)
    p = verify(cli, d)
    # The gap shows at the record after the deleted one.
    assert p.returncode != 0
    assert re.search(r"\b(%d|%d)\b" % (seq, seq + 1), p.stdout + p.stderr)


def test_verify_detects_swapped_lines(stopped_log, cli, tmp_path):
    d = copy_data(stopped_log.data, tmp_path / "d")
    lines = lines_of(d)
    s1, s2 = json.loads(lines[4])["seq"], json.loads(lines[5])["seq"]
    lines[4], lines[5] = lines[5], lines[4]
    write_lines(d, lines)
    p = verify(cli, d)
    assert p.returncode != 0
    assert re.search(r"\b(%d|%d)\b" % (s1, s2), p.stdout + p.stderr)


@pytest.mark.parametrize("drop", [1, 3])
def test_verify_detects_truncated_tail(stopped_log, cli, tmp_path, drop):
    d = copy_data(stopped_log.data, tmp_path / "d")
    lines = lines_of(d)
    last = json.loads(lines[-1])["seq"]
    write_lines(d, lines[:-drop])
    p = verify(cli, d)
    assert p.returncode != 0, p.stdout
    out = p.stdout + p.stderr
    assert re.search(r"\b(%d|%d)\b" % (last, last - drop), out), out


def test_verify_detects_partial_last_line(stopped_log, cli, tmp_path):
    d = copy_data(stopped_log.data, tmp_path / "d")
    path = os.path.join(d, "audit", "audit.log")
    size = os.path.getsize(path)
    os.truncate(path, size - 10)
    assert verify(cli, d).returncode != 0


def test_verify_detects_inserted_line(stopped_log, cli, tmp_path):
    d = copy_data(stopped_log.data, tmp_path / "d")
    lines = lines_of(d)
    lines.insert(3, lines[2])
    write_lines(d, lines)
    assert verify(cli, d).returncode != 0


def test_verify_detects_deleted_checkpoint(stopped_log, cli, tmp_path):
    d = copy_data(stopped_log.data, tmp_path / "d")
    os.unlink(os.path.join(d, "audit", "checkpoint"))
    assert verify(cli, d).returncode != 0


def test_verify_detects_tail_cut_after_a_crash(make_server, cli, tmp_path):
    # Killed right after acknowledged requests (no clean close, no final
    # checkpoint), then the last record cut off: the checkpoint already
    # names it, so verify fails.
    s = make_server()
    for _i in range(20):
        assert s.get("/v1/whoami").status_code == 200
    s.kill()
    d = copy_data(s.data, tmp_path / "d")
    assert verify(cli, d).returncode == 0
    lines = lines_of(d)
    last = json.loads(lines[-1])["seq"]
    write_lines(d, lines[:-1])
    p = verify(cli, d)
    assert p.returncode != 0, p.stdout
    assert re.search(r"\b%d\b" % last, p.stdout + p.stderr), p.stdout


def test_verify_with_wrong_master_key_fails(stopped_log, cli, tmp_path):
    d = copy_data(stopped_log.data, tmp_path / "d")
    other = copy_data(stopped_log.data, tmp_path / "o")
    # A log re-chained under another key would need that key: a record
    # set verified with the wrong key must fail.
    with open(stopped_log.master_key) as f:
        text = f.read()
    flipped = ("1" if text[0] != "1" else "2") + text[1:]
    mk = str(tmp_path / "flipped.key")
    with open(mk, "w") as f:
        f.write(flipped)
    os.chmod(mk, 0o600)
    p = cli("audit", "verify", "--data", d, with_server=False,
            env={"COFFER_MASTER_KEY_FILE": mk})
    assert p.returncode != 0
    assert verify(cli, other).returncode == 0


def test_restarted_server_appends_to_verified_chain(stopped_log, cli):
    s = stopped_log
    n = len(s.audit_records())
    s.start()
    assert s.get("/v1/whoami").status_code == 200
    recs = s.audit_records()
    assert len(recs) > n
    assert recs[n]["prev"] == recs[n - 1]["mac"]
    p = verify(cli, s.data)
    assert p.returncode == 0, (p.stdout, p.stderr)


# ---- fail closed when the log cannot take a record ----

def test_log_that_cannot_grow_refuses_every_request(make_server):
    # The server runs with a file size limit just above its audit log
    # (RLIMIT_FSIZE, SIGXFSZ ignored: writes past it fail with EFBIG).
    # Requests on 8 threads at once, so most responses wait parked for
    # their records: every 200 must have its record in the log, the
    # rest are 503 (never a response without its record), and once the
    # log broke every later request is refused.
    import concurrent.futures
    import resource
    import signal

    import requests

    s = make_server()
    s.mkns("failclosed")
    assert s.put_obj("failclosed", "k", b"x" * 1024).status_code == 201
    assert s.get_obj("failclosed", "k").status_code == 200
    s.stop()
    # Above every file the server has (the database is the largest), so
    # only the growing audit log reaches it.
    biggest = max(os.path.getsize(os.path.join(d, f))
                  for d, _, fs in os.walk(s.data) for f in fs)
    limit = biggest + 16 * 1024

    def limits():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    s.preexec = limits
    s.start()
    url = s.url + obj_path("failclosed", "k")
    hdr = {"Authorization": "Bearer " + s.admin_token}

    def one(_):
        with requests.Session() as sess:
            out = []
            for _i in range(100):
                r = sess.get(url, headers=hdr, verify=s.ca, timeout=30)
                out.append((r.status_code, r.headers.get("X-Request-Id")))
            return out

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        got = [x for part in ex.map(one, range(8)) for x in part]
    codes = {c for c, _ in got}
    assert codes <= {200, 503}, codes
    assert 200 in codes and 503 in codes, codes
    # While the log cannot grow, nothing gets through (the retries fail
    # the same way; test_audit_faults.py lifts the limit).
    for _i in range(5):
        r = requests.get(url, headers=hdr, verify=s.ca, timeout=30)
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "unavailable"
    s.stop()
    logged = set()
    with open(s.audit_path, "rb") as f:
        for line in f:
            try:
                logged.add(json.loads(line)["request_id"])
            except ValueError:
                pass            # the torn last line, cut at the limit
    ok = [rid for c, rid in got if c == 200]
    assert ok and all(rid in logged for rid in ok)


def test_change_is_undone_when_its_record_cannot_be_written(make_server,
                                                             cli):
    """Audit, then act: a change's record is made durable before the
    change commits.  With the log broken every change answers 503 and,
    after a restart, none of them happened."""
    import time

    import resource
    import signal

    s = make_server()
    s.mkns("keep")
    s.mkns("gone")
    s.principal("mallory")
    s.stop()
    # The log cannot grow past a file size limit just above the biggest
    # file (RLIMIT_FSIZE, SIGXFSZ ignored: writes past it fail): the
    # log breaks once health checks have filled it up, and stays broken
    # (the retries fail the same way).
    biggest = max(os.path.getsize(os.path.join(d, f))
                  for d, _, fs in os.walk(s.data) for f in fs)
    limit = biggest + 16 * 1024

    def limits():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    s.preexec = limits
    s.start()
    deadline = time.monotonic() + 60
    while s.get("/v1/health", token=None).status_code != 503:
        assert time.monotonic() < deadline, "the log did not break"
    changes = [
        ("POST", "/v1/bindings",
         {"principal": "mallory", "role": "owner", "ns": "keep"}),
        ("POST", "/v1/ns", {"name": "made-while-broken"}),
        ("DELETE", "/v1/ns/gone", None),
        ("POST", "/v1/principals", {"name": "eve", "kind": "user"}),
        ("POST", "/v1/tokens", {"principal": "mallory"}),
        ("POST", "/v1/users", {"name": "frank"}),
        ("POST", "/v1/roles/writer/mfa-required", {"required": True}),
    ]
    for method, path, body in changes:
        r = s.req(method, path, json=body)
        assert r.status_code == 503, (method, path, r.text)
        assert r.json()["error"]["code"] == "unavailable"
    s.stop()
    s.preexec = None
    s.start()
    assert s.get("/v1/ns/made-while-broken").status_code == 404
    assert s.get("/v1/ns/gone").status_code == 200
    r = s.get("/v1/bindings?principal=mallory")
    assert r.status_code == 200 and r.json()["bindings"] == [], r.text
    names = [p["name"] for p in s.get("/v1/principals").json()["principals"]]
    assert "eve" not in names and "frank" not in names, names
    r = s.get("/v1/tokens?principal=mallory")
    assert r.status_code == 200 and r.json()["tokens"] == [], r.text
    p = cli("audit", "verify", "--data", s.data, with_server=False)
    assert p.returncode == EXIT_OK, p.stdout + p.stderr

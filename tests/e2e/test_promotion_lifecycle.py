"""Promotion requests over their life (docs/artifacts.md "Promotion"):
expiry by the server's test clock (COFFER_TEST_CLOCK_FILE, never by
waiting), a source removed before the last approval (409 source_gone,
nothing in the target), the requester withdrawing its own request, and a
crash (SIGKILL-like _exit at a named point) between the shared version's
rows and the commit: after a restart the request is still open, nothing
is half-promoted, and a new approval completes it."""
import os

from conftest import EXIT_DENIED, EXIT_OK
from test_identity import err_code, mkuser
from test_promotion import approve, make_tree, ok, same_tree

CRASH_STATUS = 86


def clocked(make_server, args=()):
    s = make_server(list(args), start=False)
    s.use_test_clock()
    return s.start()



def push(cli, ref, tmp_path, files):
    src = tmp_path / ("src-" + ref.replace("/", "-"))
    make_tree(src, files)
    ok(cli("push", ref, src, "--kind", "model"))
    return src


def test_expiry_by_clock(make_server, uniq, tmp_path):
    from conftest import Cli
    s = clocked(make_server, ["--set", "promotion_ttl=60"])
    cli = Cli(s, tmp_path / "home")
    dev, stg = uniq("pdev"), uniq("pstg")
    s.mkns(dev, "dev")
    s.mkns(stg, "staging")
    push(cli, dev + "/m", tmp_path, {"w.bin": b"w"})
    req = cli.json("promote", dev + "/m@1", "--to", stg, "--json")
    tok = s.user(uniq("stgowner"), role="owner", ns=stg)
    s.set_clock(59)
    assert cli.json("promotion", "show", req["id"],
                    "--json")["state"] == "open"
    s.set_clock(61)
    assert cli.json("promotion", "show", req["id"],
                    "--json")["state"] == "expired"
    r = approve(s, req["id"], tok)
    assert r.status_code == 409 and err_code(r) == "expired", r.text
    assert s.get("/v1/ns/%s/artifacts/m" % stg).status_code == 404
    recs = [x for x in s.audit_records()
            if x.get("action") == "promotion:approve"
            and x.get("status") == 409]
    assert recs, "the refusal is recorded"
    # A fresh request made now lives 60 s of the moved clock.
    req2 = cli.json("promote", dev + "/m@1", "--to", stg, "--json")
    r = approve(s, req2["id"], tok)
    assert r.status_code == 200 and r.json()["state"] == "completed"


def test_source_gone(server, cli, uniq, tmp_path):
    dev, stg = uniq("pdev"), uniq("pstg")
    server.mkns(dev, "dev")
    server.mkns(stg, "staging")
    push(cli, dev + "/m", tmp_path, {"w.bin": b"w", "c.json": b"{}"})
    req = cli.json("promote", dev + "/m@1", "--to", stg, "--json")
    tok = server.user(uniq("stgowner"), role="owner", ns=stg)
    # The source namespace goes, with every version in it.
    for k in ("m/w.bin", "m/c.json"):
        r = server.req("DELETE", "/v1/ns/%s/objects/%s" % (dev, k))
        assert r.status_code == 200, r.text
    r = server.req("DELETE", "/v1/ns/" + dev)
    assert r.status_code == 200, r.text
    r = approve(server, req["id"], tok)
    assert r.status_code == 409 and err_code(r) == "source_gone", r.text
    assert server.get("/v1/ns/%s/artifacts/m" % stg).status_code == 404
    j = cli.json("promotion", "show", req["id"], "--json")
    assert j["state"] == "open" and j["approvals"] == [], j


def test_withdraw(server, cli, uniq, tmp_path):
    dev, prod = uniq("pdev"), uniq("pprod")
    server.mkns(dev, "dev")
    server.mkns(prod, "prod")
    w = uniq("writer")
    wt = server.user(w, role="writer", ns=dev)
    push(cli, dev + "/m", tmp_path, {"w.bin": b"w"})
    req = cli.json("promote", dev + "/m@1", "--to", prod, "--json", token=wt)
    assert req["requester"] == w
    # Someone else, even an admin or another writer: not theirs.
    other = server.user(uniq("writer2"), role="writer", ns=dev)
    r = server.post("/v1/promotions/%s/withdraw" % req["id"], token=other)
    assert r.status_code == 403 and err_code(r) == "not_requester", r.text
    p = cli("promotion", "withdraw", req["id"])
    assert p.returncode == EXIT_DENIED, p.stderr
    # Unknown id: 404 to an admin, 403 to others.
    r = server.post("/v1/promotions/0123456789abcdef/withdraw")
    assert r.status_code == 404 and err_code(r) == "no_such_promotion"
    r = server.post("/v1/promotions/0123456789abcdef/withdraw", token=wt)
    assert r.status_code == 403
    # The requester.
    j = cli.json("promotion", "withdraw", req["id"], "--json", token=wt)
    assert j["state"] == "withdrawn" and j["closed_by"] == w, j
    p = cli("promotion", "withdraw", req["id"], token=wt)
    assert p.returncode != EXIT_OK
    r = server.post("/v1/promotions/%s/withdraw" % req["id"], token=wt)
    assert r.status_code == 409 and err_code(r) == "not_open", r.text
    a = uniq("appr")
    mkuser(server, a, role="owner", ns=prod)
    t, _ = server.mfa_session(a)
    r = approve(server, req["id"], t)
    assert r.status_code == 409 and err_code(r) == "not_open", r.text
    recs = [(x.get("principal"), x.get("status")) for x in
            server.audit_records()
            if x.get("action") == "promotion:withdraw"]
    assert (w, 200) in recs and (w, 409) in recs, recs
    assert ("admin", 403) in recs, recs


def test_crash_during_completion(make_server, uniq, tmp_path, monkeypatch):
    from conftest import Cli
    s = make_server()
    cli = Cli(s, tmp_path / "home")
    dev, stg = uniq("pdev"), uniq("pstg")
    s.mkns(dev, "dev")
    s.mkns(stg, "staging")
    src = push(cli, dev + "/m", tmp_path,
               {"w.bin": os.urandom(40000), "c.json": b"{}"})
    req = cli.json("promote", dev + "/m@1", "--to", stg, "--json")
    tok = s.user(uniq("stgowner"), role="owner", ns=stg)
    s.stop()
    monkeypatch.setenv("COFFER_TEST_CRASH", "art_share_written")
    s.start()
    monkeypatch.delenv("COFFER_TEST_CRASH")
    try:
        approve(s, req["id"], tok)
    except Exception:
        pass            # the connection dies with the server
    assert s.proc.wait(timeout=60) == CRASH_STATUS, s.stderr()[-2000:]
    assert "event=test_crash point=art_share_written" in s.stderr()
    s.proc = None
    s.start()
    # The old state: open, no approval, nothing in the target.
    j = cli.json("promotion", "show", req["id"], "--json")
    assert j["state"] == "open" and j["approvals"] == [], j
    assert s.get("/v1/ns/%s/artifacts/m" % stg).status_code == 404
    r = s.get("/v1/ns/%s/objects?prefix=m/" % stg)
    assert r.status_code in (200, 404), r.text
    if r.status_code == 200:
        assert "m/w.bin" not in r.text, r.text
    # The approval again completes it, with everything.
    r = approve(s, req["id"], tok)
    assert r.status_code == 200 and r.json()["state"] == "completed", r.text
    dst = tmp_path / "dst"
    ok(cli("pull", stg + "/m@1", dst))
    same_tree(src, dst)
    # The audit log is intact across the crash.
    p = cli("audit", "verify", "--data", s.data, with_server=False)
    assert p.returncode == EXIT_OK, p.stdout + p.stderr

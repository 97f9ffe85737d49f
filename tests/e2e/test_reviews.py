"""tests/e2e/test_reviews.py: access that does not pile up
(docs/reviews.md) through the real server and CLI: expiring grants
(`coffer grant ... --expires-in`), time-bounded shares to a named
principal (`coffer share grant`) and stale access (`coffer access
stale`).  Time moves by the server's test clock (COFFER_TEST_CLOCK_FILE),
never by waiting.  Requests after a clock move use the admin's API token:
the admin session's MFA would look old by the moved clock."""

import os

import pytest

from conftest import Cli, Server


def make(tmp_path_factory, extra=()):
    s = Server(tmp_path_factory.mktemp("srv"), extra_args=list(extra))
    s.clock = os.path.join(s.workdir, "clock")
    with open(s.clock, "w") as f:
        f.write("0\n")
    s.env["COFFER_TEST_CLOCK_FILE"] = s.clock
    return s.start()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make(tmp_path_factory)
    yield s
    s.stop()


def set_clock(s, secs):
    with open(s.clock, "w") as f:
        f.write("%d\n" % secs)


def records(s, action):
    return [x for x in s.audit_records() if x.get("action") == action]


def setup_obj(s, uniq, key="m/a.bin", data=b"review bytes\n"):
    ns = uniq("rv")
    s.mkns(ns)
    r = s.put_obj(ns, key, data)
    assert r.status_code == 201, r.text
    return ns, key


def test_expiring_grant_stops_at_expiry(srv, uniq, tmp_path):
    ns, key = setup_obj(srv, uniq)
    user = uniq("u")
    srv.principal(user)
    tok = srv.token(user)["token"]
    cli = Cli(srv, tmp_path / "home")
    p = cli("grant", "reader", user, "--ns", ns, "--expires-in", "1h")
    assert p.returncode == 0, p.stderr
    assert "until" in p.stdout
    g = [b for b in cli.json("grant", "ls", "--ns", ns, "--json")
         ["bindings"] if b["principal"] == user]
    assert len(g) == 1 and g[0]["expires"] is not None
    assert g[0]["expired"] is False
    assert srv.get_obj(ns, key, token=tok).status_code == 200
    try:
        set_clock(srv, 3590)
        assert srv.get_obj(ns, key, token=tok).status_code == 200
        set_clock(srv, 3610)
        r = srv.get_obj(ns, key, token=tok)
        assert r.status_code == 403, r.text
        assert r.json()["error"]
        # Listing sweeps it: one binding:expire record, never two.
        api = srv.admin_api_token
        lst = cli.json("grant", "ls", "--ns", ns, "--json", token=api)
        assert user not in [b["principal"] for b in lst["bindings"]]
        cli.json("grant", "ls", "--json", token=api)
        exp = [x for x in records(srv, "binding:expire")
               if x["resource"] == "ns/%s/bindings/%s/reader" % (ns, user)]
        assert len(exp) == 1, exp
        assert "role:reader@" + ns in exp[0]["reasons"]
        assert srv.get_obj(ns, key, token=tok).status_code == 403
    finally:
        set_clock(srv, 0)
    # Gone for good: the clock going back does not bring it back.
    assert srv.get_obj(ns, key, token=tok).status_code == 403


def test_grant_again_changes_expiry(srv, uniq):
    ns, key = setup_obj(srv, uniq)
    user = uniq("u")
    srv.principal(user)
    tok = srv.token(user)["token"]
    r = srv.post("/v1/bindings", {"principal": user, "role": "reader",
                                  "ns": ns, "expires_in": 60})
    assert r.status_code == 201, r.text
    assert r.json()["expires"] is not None
    rec = [x for x in records(srv, "binding:create")
           if x["resource"] == "ns/%s/bindings/%s/reader" % (ns, user)]
    assert "expires_in=60" in rec[-1]["reasons"]
    srv.grant(user, "reader", ns)      # again, without expiry
    try:
        set_clock(srv, 120)
        assert srv.get_obj(ns, key, token=tok).status_code == 200
    finally:
        set_clock(srv, 0)


@pytest.mark.parametrize("bad", [0, -5, "1h", 10 * 366 * 86400 + 1])
def test_bad_expiry_refused_and_audited(srv, uniq, bad):
    ns = uniq("rv")
    srv.mkns(ns)
    user = uniq("u")
    srv.principal(user)
    n = srv.audit_count()
    r = srv.post("/v1/bindings", {"principal": user, "role": "reader",
                                  "ns": ns, "expires_in": bad})
    assert r.status_code == 400, r.text
    assert r.json()["error"]
    new = srv.audit_records()[n:]
    assert any(x.get("action") == "binding:create" and
               x.get("result") != "ok" for x in new), new

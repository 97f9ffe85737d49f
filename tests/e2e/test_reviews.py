"""tests/e2e/test_reviews.py: access that does not pile up
(docs/reviews.md) through the real server and CLI: expiring grants
(`coffer grant ... --expires-in`), time-bounded shares to a named
principal (`coffer share grant`) and stale access (`coffer access
stale`).  Time moves by the server's test clock (COFFER_TEST_CLOCK_FILE),
never by waiting.  Requests after a clock move use the admin's API token:
the admin session's MFA would look old by the moved clock."""


import pytest

from conftest import Cli, Server, obj_path


def make(tmp_path_factory, extra=()):
    s = Server(tmp_path_factory.mktemp("srv"), extra_args=list(extra))
    s.use_test_clock()
    return s.start()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make(tmp_path_factory)
    yield s
    s.stop()



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
        srv.set_clock(3590)
        assert srv.get_obj(ns, key, token=tok).status_code == 200
        srv.set_clock(3610)
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
        srv.set_clock(0)
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
        srv.set_clock(120)
        assert srv.get_obj(ns, key, token=tok).status_code == 200
    finally:
        srv.set_clock(0)


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


# ---- stale access (coffer access stale) ----

def stale_of(cli, *args, **kw):
    return cli.json("access", "stale", "--json", *args, **kw)


def binds(out, ns):
    return {(b["principal"], b["role"]) for b in out["bindings"]
            if b["ns"] == ns}


def test_access_stale_lists_unused_grants_and_tokens(srv, uniq, tmp_path):
    ns, key = setup_obj(srv, uniq)
    used, idle = uniq("used"), uniq("idle")
    tok = srv.user(used, "reader", ns)
    srv.user(idle, "reader", ns)
    never = uniq("never")
    srv.principal(never)
    t_never = srv.token(never, description="migration")
    assert srv.get_obj(ns, key, token=tok).status_code == 200
    cli = Cli(srv, tmp_path / "home")
    out = stale_of(cli, "--unused-for", "90d")
    assert out["complete"] is True and out["unused_for"] == 90 * 86400
    got = binds(out, ns)
    assert (idle, "reader") in got
    assert (used, "reader") not in got
    e = [b for b in out["bindings"] if b["principal"] == idle][0]
    assert e["last_used"] is None
    ids = {t["id"]: t for t in out["tokens"]}
    assert t_never["id"] in ids
    assert ids[t_never["id"]]["last_used"] is None
    assert ids[t_never["id"]]["principal"] == never
    assert not any(t["principal"] == used for t in out["tokens"])
    # Human output names them too.
    p = cli("access", "stale", "--unused-for", "90d")
    assert p.returncode == 0, p.stderr
    assert idle in p.stdout and t_never["id"] in p.stdout
    # The period ends at the server's clock: 100 days on, the use is
    # old, and it is listed with when it was.
    try:
        srv.set_clock(100 * 86400)
        out = stale_of(cli, "--unused-for", "90d",
                       token=srv.admin_api_token)
        got = binds(out, ns)
        assert (used, "reader") in got and (idle, "reader") in got
        e = [b for b in out["bindings"] if b["principal"] == used][0]
        assert e["last_used"] is not None
        assert any(t["principal"] == used for t in out["tokens"])
    finally:
        srv.set_clock(0)


def test_access_stale_global_binding_and_denied_use(srv, uniq):
    ns, key = setup_obj(srv, uniq)
    g = uniq("g")
    tok = srv.user(g, "reader")              # global reader
    other = uniq("o")
    srv.mkns(other)
    out = srv.get("/v1/access/stale").json()
    assert (g, "reader") in {(b["principal"], b["role"])
                             for b in out["bindings"] if b["ns"] is None}
    assert srv.get_obj(ns, key, token=tok).status_code == 200
    out = srv.get("/v1/access/stale?unused_for=3600").json()
    assert g not in [b["principal"] for b in out["bindings"]]
    # A refused request is no use of a grant.
    d = uniq("d")
    dt = srv.user(d, "reader", other)
    assert srv.get_obj(ns, key, token=dt).status_code == 403
    out = srv.get("/v1/access/stale?unused_for=3600").json()
    assert (d, "reader") in {(b["principal"], b["role"])
                             for b in out["bindings"]}


@pytest.mark.parametrize("q", ["0", "-1", "90d", "x",
                               str(10 * 366 * 86400 + 1)])
def test_access_stale_bad_period_refused_and_audited(srv, q):
    n = srv.audit_count()
    r = srv.get("/v1/access/stale?unused_for=" + q)
    assert r.status_code == 400, r.text
    assert r.json()["error"]
    assert any(x.get("action") == "access:stale" and
               x.get("result") != "ok" for x in srv.audit_records()[n:])


def test_access_stale_admin_only(srv, uniq):
    ns = uniq("rv")
    srv.mkns(ns)
    u = uniq("own")
    tok = srv.user(u, "owner", ns)
    n = srv.audit_count()
    r = srv.get("/v1/access/stale", token=tok)
    assert r.status_code == 403, r.text
    assert r.json()["error"]
    assert any(x.get("action") == "access:stale" and
               x.get("decision") == "deny"
               for x in srv.audit_records()[n:])
    assert srv.get("/v1/access/stale", token=None).status_code == 401


# ---- share to a named principal (coffer share grant) ----

def test_share_grant_until_the_clock_passes(srv, uniq, tmp_path):
    ns, key = setup_obj(srv, uniq)
    srv.put_obj(ns, "other.bin", b"not shared\n")
    bob = uniq("bob")
    tok = srv.user(bob)
    assert srv.get_obj(ns, key, token=tok).status_code == 403
    cli = Cli(srv, tmp_path / "home")
    g = cli.json("share", "grant", "%s/%s" % (ns, key), "--to", bob,
                 "--for", "7d", "--json")
    gid = g["id"]
    assert gid.startswith("share-grant.") and g["to"] == bob
    assert g["ns"] == ns and g["key"] == key and g["expires"]
    assert srv.get_obj(ns, key, token=tok).status_code == 200
    assert srv.req("HEAD", obj_path(ns, key), token=tok).status_code == 200
    # That one object only, and only reading.
    assert srv.get_obj(ns, "other.bin", token=tok).status_code == 403
    assert srv.put_obj(ns, key, b"x", token=tok).status_code == 403
    # A stored policy of the namespace, listed as a share grant.
    pol = srv.get("/v1/policies/%s?ns=%s" % (gid, ns))
    assert pol.status_code == 200, pol.text
    ls = cli.json("share", "grant", "ls", "--json")["grants"]
    assert [x["to"] for x in ls if x["id"] == gid] == [bob]
    rec = [x for x in records(srv, "object:share")
           if x["resource"].startswith("share-grant/")]
    assert rec and "to:" + bob in rec[-1]["reasons"]
    reads = [x for x in records(srv, "object:get")
             if x["principal"] == bob and x["decision"] == "allow"]
    assert reads and gid in reads[-1]["reasons"]
    try:
        srv.set_clock(7 * 86400 - 60)
        assert srv.get_obj(ns, key, token=tok).status_code == 200
        srv.set_clock(7 * 86400 + 60)
        assert srv.get_obj(ns, key, token=tok).status_code == 403
    finally:
        srv.set_clock(0)


def test_share_grant_revoke_and_refusals(srv, uniq, tmp_path):
    ns, key = setup_obj(srv, uniq)
    bob, rd = uniq("bob"), uniq("rd")
    tok = srv.user(bob)
    rtok = srv.user(rd, "reader", ns)
    cli = Cli(srv, tmp_path / "home")
    g = cli.json("share", "grant", "%s/%s" % (ns, key), "--to", bob,
                 "--for", "1d", "--json")
    assert srv.get_obj(ns, key, token=tok).status_code == 200
    p = cli("share", "revoke", g["id"])
    assert p.returncode == 0, p.stderr
    assert srv.get_obj(ns, key, token=tok).status_code == 403
    assert g["id"] not in [x["id"] for x in cli.json(
        "share", "grant", "ls", "--json")["grants"]]
    # The creator must be allowed to read: bob may not share it.
    r = srv.post("/v1/share-grants", {"ns": ns, "key": key, "to": rd,
                                      "for": 3600}, token=tok)
    assert r.status_code == 403, r.text
    assert r.json()["error"]
    # Bad input: unknown principal, missing object, bad lifetime.
    for body, st in (({"to": uniq("nobody"), "for": 60}, 404),
                     ({"to": bob, "for": 0}, 400),
                     ({"to": bob, "for": 400 * 86400}, 400),
                     ({"to": bob, "key": "nope.bin", "for": 60}, 404)):
        b = dict({"ns": ns, "key": key}, **body)
        n = srv.audit_count()
        r = srv.post("/v1/share-grants", b)
        assert r.status_code == st, (b, r.text)
        assert r.json()["error"]
        assert any(x.get("action") == "object:share" and
                   x.get("result") != "ok"
                   for x in srv.audit_records()[n:])
    # The name is reserved: a policy set cannot pose as a share grant.
    r = srv.req("PUT", "/v1/policies/share-grant.x",
                json={"ns": ns, "text": 'permit (principal, action == '
                      'Action::"object:get", resource);'})
    assert r.status_code == 400, r.text
    del rtok


def test_share_grant_key_with_quotes_and_backslashes(srv, uniq):
    # The key goes into a Cedar string literal: escaped, never code.
    ns, key = setup_obj(srv, uniq, key='q"uo\\te") || true; //.bin')
    srv.put_obj(ns, "other.bin", b"x\n")
    bob = uniq("bob")
    tok = srv.user(bob)
    r = srv.post("/v1/share-grants", {"ns": ns, "key": key, "to": bob,
                                      "for": 3600})
    assert r.status_code == 201, r.text
    assert r.json()["key"] == key
    assert srv.get_obj(ns, key, token=tok).status_code == 200
    assert srv.get_obj(ns, "other.bin", token=tok).status_code == 403
    # A control character cannot be written into one: refused.
    k2 = "line\nbreak.bin"
    assert srv.put_obj(ns, k2, b"y\n").status_code == 201
    r = srv.post("/v1/share-grants", {"ns": ns, "key": k2, "to": bob,
                                      "for": 3600})
    assert r.status_code == 400, r.text
    assert r.json()["error"]

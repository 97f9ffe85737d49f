"""tests/e2e/test_review_campaigns.py: access review campaigns (`coffer
review`) and least-privilege suggestions (`coffer access suggest`)
through the real server and CLI (docs/reviews.md).  Due dates move by
the server's test clock (COFFER_TEST_CLOCK_FILE), never by waiting;
requests after a clock move use the admin's API token (the admin
session's MFA would look old by the moved clock)."""

import json

import pytest

from conftest import Cli


def make(tmp_path_factory, extra=()):
    from conftest import Server
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


def setup_ns(s, uniq, obj=True):
    ns = uniq("rc")
    s.mkns(ns)
    if obj:
        r = s.put_obj(ns, "m/a.bin", b"campaign\n")
        assert r.status_code == 201, r.text
    return ns


def item_of(show, principal, role=None):
    got = [i for i in show["items"] if i["principal"] == principal and
           (role is None or i.get("role") == role)]
    assert len(got) == 1, (principal, show["items"])
    return got[0]


def start(s, body, token="admin"):
    r = s.post("/v1/reviews", body, token=token)
    assert r.status_code == 201, r.text
    return r.json()


def show(s, rid, token="admin-api"):
    r = s.get("/v1/reviews/" + rid, token=token)
    assert r.status_code == 200, r.text
    return r.json()


def decide(s, rid, n, decision, token="admin", note=None):
    body = {"item": n, "decision": decision}
    if note is not None:
        body["note"] = note
    return s.post("/v1/reviews/%s/decisions" % rid, body, token=token)


def test_campaign_items_decide_report_verify(srv, uniq, tmp_path):
    ns = setup_ns(srv, uniq)
    dana, erin = uniq("dana"), uniq("erin")
    dtok = srv.user(dana, "reader", ns)
    srv.user(erin, "writer", ns)
    assert srv.get_obj(ns, "m/a.bin", token=dtok).status_code == 200
    cli = Cli(srv, tmp_path / "home")
    st = cli.json("review", "start", "--ns", ns, "--due", "7d", "--json")
    rid = st["id"]
    assert st["ns"] == ns and st["items"] >= 3 and st["reviewer"]
    sh = cli.json("review", "show", rid, "--json")
    d = item_of(sh, dana)
    assert d["kind"] == "binding" and d["role"] == "reader"
    assert d["ns"] == ns and d["state"] == "open"
    assert "object:get" in d["actions"] and "object:put" not in d["actions"]
    assert d["namespaces"] == [ns]
    assert d["last_used"] is not None           # from the audit log
    e = item_of(sh, erin)
    assert "object:put" in e["actions"] and e["last_used"] is None
    # The global admin binding reaches the namespace too.
    admins = [i for i in sh["items"] if i.get("role") == "admin" and
              i["ns"] is None]
    assert admins, sh["items"]
    # Revoke: the binding goes, as the reviewer's audited decision.
    p = cli("review", "decide", rid, d["n"], "revoke", "--note",
            "left the team")
    assert p.returncode == 0, p.stderr
    assert srv.get_obj(ns, "m/a.bin", token=dtok).status_code == 403
    lst = cli.json("grant", "ls", "--ns", ns, "--json")
    assert dana not in [b["principal"] for b in lst["bindings"]]
    rec = [x for x in records(srv, "review:decide")
           if x["resource"] == "reviews/%s/items/%d" % (rid, d["n"])]
    assert len(rec) == 1 and rec[0]["decision"] == "allow"
    assert "revoke binding reader@%s of %s" % (ns, dana) in \
        rec[0]["reasons"]
    assert rec[0]["principal"] == "admin"
    r = decide(srv, rid, e["n"], "keep", note="needs it")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "kept" and r.json()["note"] == "needs it"
    # Deciding again: 409 with a JSON body, audited.
    n = srv.audit_count()
    r = decide(srv, rid, e["n"], "revoke")
    assert r.status_code == 409 and r.json()["error"]["code"] == \
        "item_closed"
    assert any(x["action"] == "review:decide" and x["decision"] == "deny"
               or x["action"] == "review:decide" and x["result"] != "ok"
               for x in srv.audit_records()[n:])
    # SEC: nobody decides about their own access, admin or not.
    own = [i for i in sh["items"] if i["principal"] == "admin"][0]
    assert own["reviewer"] != "admin"
    n = srv.audit_count()
    r = decide(srv, rid, own["n"], "keep")
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "own_access"
    assert any(x["action"] == "review:decide" and x["decision"] == "deny"
               for x in srv.audit_records()[n:])
    # The signed report, checked offline; an altered one fails.
    out = tmp_path / "report.json"
    p = cli("review", "report", rid, "--out", out)
    assert p.returncode == 0, p.stderr
    rep = json.loads(out.read_text())
    assert rep["report"]["type"] == "coffer-access-review"
    assert rep["report"]["summary"]["revoked"] == 1
    assert rep["report"]["summary"]["kept"] == 1
    assert rep["signature"]["alg"] == "Ed25519"
    key = cli("erase", "key").stdout.strip()
    p = cli("review", "verify", out, "--key", key, with_server=False)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "verifies" in p.stdout
    rep["report"]["summary"]["revoked"] = 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(rep))
    p = cli("review", "verify", bad, "--key", key, with_server=False)
    assert p.returncode == 7, (p.stdout, p.stderr)
    assert "NOT verify" in p.stderr
    # An erasure certificate's signature is not a report's.
    cert = {"report": rep["report"], "signature": rep["signature"]}
    cert["report"]["summary"]["revoked"] = 1
    (tmp_path / "ok.json").write_text(json.dumps(cert))
    p = cli("erase", "verify", tmp_path / "ok.json", "--key", key,
            with_server=False)
    assert p.returncode != 0
    # ls shows it.
    ls = cli.json("review", "ls", "--json")
    assert rid in [x["id"] for x in ls["reviews"]]


def test_due_date_revokes_unanswered(srv, uniq):
    ns = setup_ns(srv, uniq)
    fay = uniq("fay")
    ftok = srv.user(fay, "reader", ns)
    rid = start(srv, {"ns": ns, "due_s": 3600,
                      "on_timeout": "revoke"})["id"]
    n = item_of(show(srv, rid), fay)["n"]
    try:
        srv.set_clock(3590)
        assert item_of(show(srv, rid), fay)["state"] == "open"
        assert srv.get_obj(ns, "m/a.bin", token=ftok).status_code == 200
        srv.set_clock(3610)
        # Listing is an access too: the due date is handled first.
        ls = srv.get("/v1/reviews", token="admin-api").json()["reviews"]
        assert [x for x in ls if x["id"] == rid][0]["due_passed"] is True
        it = item_of(show(srv, rid), fay)
        assert it["state"] == "revoked" and it["decided_by"] == "system"
        assert "due date" in it["outcome"]
        assert srv.get_obj(ns, "m/a.bin", token=ftok).status_code == 403
        sw = [x for x in records(srv, "review:sweep")
              if x["resource"] == "reviews/%s/items/%d" % (rid, n)]
        assert len(sw) == 1 and sw[0]["principal"] == "system"
        assert "revoke binding reader@" + ns in sw[0]["reasons"]
        # SEC: never the last global admin's binding: escalated.
        adm = [i for i in show(srv, rid)["items"]
               if i["principal"] == "admin" and i.get("role") == "admin"]
        assert adm and adm[0]["state"] == "open" and adm[0]["escalated"]
        assert srv.get("/v1/reviews", token="admin-api").status_code == 200
        # Read again: nothing more happens.
        show(srv, rid)
        assert len([x for x in records(srv, "review:sweep")
                    if x["resource"] ==
                    "reviews/%s/items/%d" % (rid, n)]) == 1
    finally:
        srv.set_clock(0)


def test_due_date_escalates_and_reviewer_self_service(srv, uniq):
    ns = setup_ns(srv, uniq)
    rita, gus, hal = uniq("rita"), uniq("gus"), uniq("hal")
    rtok = srv.user(rita, "reader", ns)
    srv.user(gus, "reader", ns)
    srv.user(hal, "writer", ns)
    rid = start(srv, {"ns": ns, "due_s": 600, "reviewer": rita})["id"]
    sh = show(srv, rid)
    assert sh["on_timeout"] == "escalate"
    # The reviewer's own item goes to the campaign's creator.
    assert item_of(sh, rita)["reviewer"] == "admin"
    assert item_of(sh, gus)["reviewer"] == rita
    # A reviewer without admin lists, shows and decides its items.
    r = srv.get("/v1/reviews", token=rtok)
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["reviews"]] == [rid]
    assert srv.get("/v1/reviews/" + rid, token=rtok).status_code == 200
    r = decide(srv, rid, item_of(sh, gus)["n"], "keep", token=rtok)
    assert r.status_code == 200, r.text
    r = decide(srv, rid, item_of(sh, rita)["n"], "keep", token=rtok)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "own_access"
    # Nor may it start one.
    r = srv.post("/v1/reviews", {"ns": ns}, token=rtok)
    assert r.status_code == 403, r.text
    try:
        srv.set_clock(700)
        h = item_of(show(srv, rid), hal)
        assert h["state"] == "open" and h["escalated"] is True
        assert h["reviewer"] == "admin"
        # No longer the reviewer's to decide.
        r = decide(srv, rid, h["n"], "revoke", token=rtok)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "not_reviewer"
        r = decide(srv, rid, h["n"], "revoke", token="admin-api")
        assert r.status_code == 200, r.text
        sw = [x for x in records(srv, "review:sweep")
              if x["resource"] == "reviews/%s/items/%d" % (rid, h["n"])]
        assert sw and "escalate to admin" in sw[0]["reasons"]
    finally:
        srv.set_clock(0)


def test_namespace_deleted_mid_campaign(srv, uniq, tmp_path):
    ns = setup_ns(srv, uniq, obj=False)
    ivy = uniq("ivy")
    srv.user(ivy, "reader", ns)
    rid = start(srv, {"ns": ns})["id"]
    n = item_of(show(srv, rid), ivy)["n"]
    r = srv.req("DELETE", "/v1/ns/" + ns)
    assert r.status_code in (200, 204), r.text
    it = item_of(show(srv, rid), ivy)
    assert it["state"] == "gone" and it["outcome"] == "namespace deleted"
    r = decide(srv, rid, n, "revoke")
    assert r.status_code == 409, r.text
    rep = srv.get("/v1/reviews/%s/report" % rid).json()["report"]
    assert rep["summary"]["gone"] >= 1
    assert [i for i in rep["items"] if i["principal"] == ivy][0][
        "outcome"] == "namespace deleted"


def test_binding_changed_mid_campaign(srv, uniq):
    ns = setup_ns(srv, uniq)
    jo, kim = uniq("jo"), uniq("kim")
    jtok = srv.user(jo)
    srv.user(kim, "reader", ns)
    r = srv.post("/v1/bindings", {"principal": jo, "role": "reader",
                                  "ns": ns, "expires_in": 86400})
    assert r.status_code == 201, r.text
    rid = start(srv, {"ns": ns})["id"]
    j = item_of(show(srv, rid), jo)
    assert j["expires"] is not None and "changed" not in j
    srv.grant(jo, "reader", ns)         # again, now without expiry
    j = item_of(show(srv, rid), jo)
    assert j["changed"] is True and j["expires_now"] is None
    # Reviewed as it is now: the revocation removes it all the same.
    r = decide(srv, rid, j["n"], "revoke")
    assert r.status_code == 200, r.text
    assert srv.get_obj(ns, "m/a.bin", token=jtok).status_code == 403
    # Revoked outside the campaign: the item closes as gone.
    r = srv.req("DELETE", "/v1/bindings", params={"principal": kim,
                                                  "role": "reader",
                                                  "ns": ns})
    assert r.status_code == 200, r.text
    k = item_of(show(srv, rid), kim)
    assert k["state"] == "gone" and "binding" in k["outcome"]


def test_policy_item_revoked_takes_set_out_of_force(srv, uniq):
    ns = setup_ns(srv, uniq)
    lu = uniq("lu")
    ltok = srv.user(lu)
    # A share grant: a stored policy set of ns naming lu.
    r = srv.post("/v1/share-grants", {"ns": ns, "key": "m/a.bin",
                                      "to": lu, "for": 3600})
    assert r.status_code == 201, r.text
    assert srv.get_obj(ns, "m/a.bin", token=ltok).status_code == 200
    rid = start(srv, {"ns": ns})["id"]
    it = item_of(show(srv, rid), lu)
    assert it["kind"] == "policy" and it["policy"].startswith(
        "share-grant.")
    assert it["last_used"] is not None
    r = decide(srv, rid, it["n"], "revoke")
    assert r.status_code == 200, r.text
    assert srv.get_obj(ns, "m/a.bin", token=ltok).status_code == 403


@pytest.mark.parametrize("body,status", [
    ({}, 400),
    ({"ns": "x-ns", "all": True}, 400),
    ({"all": True, "due_s": 0}, 400),
    ({"all": True, "on_timeout": "ignore"}, 400),
    ({"ns": "no-such-ns-here"}, 404),
    ({"all": True, "reviewer": "no-such-person"}, 404),
])
def test_bad_start_refused_and_audited(srv, body, status):
    n = srv.audit_count()
    r = srv.post("/v1/reviews", body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"]
    assert any(x.get("action") == "review:start" and x.get("result") != "ok"
               for x in srv.audit_records()[n:])


def test_unknown_review_and_bad_decision(srv, uniq):
    r = srv.get("/v1/reviews/rv-00000000000000000000")
    assert r.status_code == 404 and r.json()["error"]["code"] == \
        "no_such_review"
    ns = setup_ns(srv, uniq)
    mo = uniq("mo")
    srv.user(mo, "reader", ns)
    rid = start(srv, {"ns": ns})["id"]
    n = item_of(show(srv, rid), mo)["n"]
    assert decide(srv, rid, n, "maybe").status_code == 400
    assert decide(srv, rid, 99999, "keep").status_code == 404
    r = decide(srv, rid, n, "keep", note="bad\nnote")
    assert r.status_code == 400, r.text
    assert srv.get("/v1/reviews", token=None).status_code == 401


def test_all_scope_campaign(srv, uniq):
    a, b = setup_ns(srv, uniq), setup_ns(srv, uniq)
    ned = uniq("ned")
    srv.user(ned, "reader", a)
    srv.grant(ned, "writer", b)
    rid = start(srv, {"all": True})["id"]
    sh = show(srv, rid)
    assert sh["ns"] is None
    roles = sorted((i["role"], i["ns"]) for i in sh["items"]
                   if i["principal"] == ned)
    assert roles == sorted([("reader", a), ("writer", b)])


def test_suggest_admin_who_only_read_gets_reader(srv, uniq, tmp_path):
    ns = setup_ns(srv, uniq)
    sam = uniq("sam")
    stok = srv.user(sam, "admin")
    for _ in range(3):
        assert srv.get_obj(ns, "m/a.bin", token=stok).status_code == 200
    r = srv.req("GET", "/v1/ns/%s/objects" % ns, token=stok)
    assert r.status_code == 200, r.text
    cli = Cli(srv, tmp_path / "home")
    v = cli.json("access", "suggest", "--principal", sam, "--since", "1d",
                 "--json")
    assert [b["principal"] for b in v["bindings"]] == [sam]
    b = v["bindings"][0]
    assert b["role"] == "admin" and b["ns"] is None
    assert b["used"] == ["object:get", "object:list"]
    assert b["uses"] == 4
    sg = b["suggestion"]
    assert sg["kind"] == "builtin" and sg["role"] == "reader"
    assert sg["role_actions"] < sg["held_actions"]
    assert sg["command"] == ("coffer grant reader %s && coffer revoke "
                             "admin %s" % (sam, sam))
    assert b["proposed"]["actions"] == ["object:get", "object:list"]
    assert b["proposed"]["command"].startswith("coffer role create lp-")
    # Where: per namespace; a global binding used on one namespace only
    # could be a binding on it.
    assert b["by_ns"] == {ns: ["object:get", "object:list"]}
    assert b["per_namespace"]["role"] == "reader"
    assert b["per_namespace"]["namespaces"] == [ns]
    assert b["per_namespace"]["command"] == (
        "coffer grant reader %s --ns %s && coffer revoke admin %s" %
        (sam, ns, sam))
    p = cli("access", "suggest", "--principal", sam)
    assert p.returncode == 0 and "narrower: reader" in p.stdout
    # An unused binding: revoke.
    una = uniq("una")
    srv.user(una, "writer", ns)
    v = cli.json("access", "suggest", "--principal", una, "--json")
    assert v["bindings"][0]["suggestion"]["kind"] == "revoke"
    # Bad input: 400 / 404 with JSON bodies, audited.
    n = srv.audit_count()
    r = srv.get("/v1/access/suggest?since=0")
    assert r.status_code == 400 and r.json()["error"]
    r = srv.get("/v1/access/suggest?principal=nobody-here")
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "no_such_principal"
    new = [x for x in srv.audit_records()[n:]
           if x.get("action") == "access:suggest"]
    assert len(new) == 2 and all(x["result"] != "ok" for x in new)
    # Not for a non-admin.
    assert srv.get("/v1/access/suggest",
                   token=srv.user(uniq("vi"))).status_code == 403


def test_config_sets_the_default_on_timeout(tmp_path_factory, uniq):
    s = make(tmp_path_factory, ["--set", "review_on_timeout=revoke"])
    try:
        ns = setup_ns(s, uniq)
        oz = uniq("oz")
        otok = s.user(oz, "reader", ns)
        st = start(s, {"ns": ns, "due_s": 60})
        assert st["on_timeout"] == "revoke"
        # The campaign's own choice wins over the server's.
        assert start(s, {"ns": ns, "on_timeout": "escalate"})[
            "on_timeout"] == "escalate"
        s.set_clock(120)
        it = item_of(show(s, st["id"]), oz)
        assert it["state"] == "revoked"
        assert s.get_obj(ns, "m/a.bin", token=otok).status_code == 403
    finally:
        s.stop()

"""tests/e2e/test_share.py: share links (docs/sharing.md) through the real
server, with python requests, curl and the CLI: downloads without an
account, lifetimes (by the server's test clock, COFFER_TEST_CLOCK_FILE,
never by waiting), one-use links, revocation (of the link, of its
creator's role, of its creator), address binding, passwords (JSON and
the browser's HTML form), the default refusal for pii data and a policy
that allows it, and guessed tokens (rate limited and audited)."""

import json
import subprocess

import pytest
import requests

from conftest import COFFER_BIN, HTTP_TIMEOUT, Cli, Server, obj_path


def make(tmp_path_factory, extra=()):
    s = Server(tmp_path_factory.mktemp("srv"), extra_args=list(extra))
    s.use_test_clock()
    return s.start()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make(tmp_path_factory)
    yield s
    s.stop()



def setup_obj(s, uniq, data=b"shared bytes\n", key="m/model.bin"):
    ns = uniq("sh")
    s.mkns(ns)
    r = s.put_obj(ns, key, data)
    assert r.status_code == 201, r.text
    user = uniq("u")
    tok = s.user(user, "reader", ns)
    return ns, key, user, tok


def create(s, tok, ns, key, **kw):
    body = {"ns": ns, "key": key}
    body.update(kw)
    return s.post("/v1/shares", body, token=tok)


def fetch(s, path, method="GET", **kw):
    kw.setdefault("timeout", HTTP_TIMEOUT)
    kw.setdefault("verify", s.verify)
    return requests.request(method, s.url + path, **kw)


def share_records(s, link_id=None):
    out = [x for x in s.audit_records() if x.get("action") ==
           "share:download"]
    if link_id is not None:
        out = [x for x in out if x["resource"].startswith(
            "share/%s/" % link_id)]
    return out


def test_download_without_account_audited(srv, uniq):
    ns, key, user, tok = setup_obj(srv, uniq)
    r = create(srv, tok, ns, key, recipient="dana@example.org")
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["path"].startswith("/v1/share/cfl_")
    assert j["creator"] == user and j["state"] == "active"
    # The token is shown once: never listed, never in the record.
    r = fetch(srv, j["path"])
    assert r.status_code == 200, r.text
    assert r.content == b"shared bytes\n"
    assert 'filename="model.bin"' in r.headers["Content-Disposition"]
    assert r.headers["Referrer-Policy"] == "no-referrer"
    # curl, as a recipient would.
    p = subprocess.run(["curl", "-sS", "--fail", "--cacert", srv.ca,
                        srv.url + j["path"]], capture_output=True,
                       timeout=HTTP_TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"shared bytes\n"
    recs = share_records(srv, j["id"])
    assert len(recs) == 2
    for x in recs:
        assert x["decision"] == "allow" and x["status"] == 200
        assert x["source"] == "127.0.0.1"
        assert x["principal"] == "" and x["authn"] == "share-link"
        assert j["id"] in x["reasons"] and user in x["reasons"]
        assert j["token"] not in json.dumps(x)
    lst = srv.get("/v1/shares", token=tok).json()["shares"]
    mine = [x for x in lst if x["id"] == j["id"]]
    assert mine[0]["downloads"] == 2
    assert "token" not in mine[0]
    assert j["token"] not in json.dumps(lst)


def test_expired_by_clock(srv, uniq):
    ns, key, _, tok = setup_obj(srv, uniq)
    r = create(srv, tok, ns, key, expires_in=3600)
    assert r.status_code == 201, r.text
    path = r.json()["path"]
    try:
        srv.set_clock(3500)
        assert fetch(srv, path).status_code == 200
        srv.set_clock(3700)
        r = fetch(srv, path)
        assert r.status_code == 410, r.text
        assert r.json()["error"]["code"] == "link_expired"
    finally:
        srv.set_clock(0)


def test_lifetime_capped_by_sensitivity(srv, uniq):
    ns, key, _, tok = setup_obj(srv, uniq)
    # internal data: at most share_max_lifetime_internal (7 days).
    r = create(srv, tok, ns, key, expires_in=8 * 86400)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "lifetime_too_long"
    r = create(srv, tok, ns, key, expires_in=7 * 86400)
    assert r.status_code == 201, r.text


def test_one_use(srv, uniq):
    ns, key, _, tok = setup_obj(srv, uniq)
    j = create(srv, tok, ns, key, max_downloads=1).json()
    assert fetch(srv, j["path"]).status_code == 200
    r = fetch(srv, j["path"])
    assert r.status_code == 410
    assert r.json()["error"]["code"] == "link_used_up"
    assert [x["decision"] for x in share_records(srv, j["id"])] == [
        "allow", "deny"]


def test_revoked(srv, uniq):
    ns, key, _, tok = setup_obj(srv, uniq)
    j = create(srv, tok, ns, key).json()
    other = srv.user(uniq("o"), "reader", ns)
    # Another non-admin cannot revoke it (nor learn it exists).
    r = srv.req("DELETE", "/v1/shares/" + j["id"], token=other)
    assert r.status_code == 403, r.text
    r = srv.req("DELETE", "/v1/shares/" + j["id"], token=tok)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "revoked"
    r = fetch(srv, j["path"])
    assert r.status_code == 410
    assert r.json()["error"]["code"] == "link_revoked"


def test_creator_losing_access_kills_link(srv, uniq):
    ns, key, user, tok = setup_obj(srv, uniq)
    j = create(srv, tok, ns, key).json()
    assert fetch(srv, j["path"]).status_code == 200
    r = srv.req("DELETE", "/v1/bindings", params={
        "principal": user, "role": "reader", "ns": ns})
    assert r.status_code == 200, r.text
    r = fetch(srv, j["path"])
    assert r.status_code == 410, r.text
    assert r.json()["error"]["code"] == "link_revoked"
    rec = share_records(srv, j["id"])[-1]
    assert rec["decision"] == "deny"
    assert "creator object:get" in rec["reasons"]
    # Given back: the link works again (it was never the link's state).
    srv.grant(user, "reader", ns)
    assert fetch(srv, j["path"]).status_code == 200
    # A disabled creator: refused.
    r = srv.post("/v1/users/%s/disable" % user, {})
    assert r.status_code == 200, r.text
    r = fetch(srv, j["path"])
    assert r.status_code == 410
    assert "creator disabled" in share_records(srv, j["id"])[-1]["reasons"]


def test_address_binding(srv, uniq):
    ns, key, _, tok = setup_obj(srv, uniq)
    r = create(srv, tok, ns, key, allow_ip="10.0.0.0/8")
    assert r.status_code == 201, r.text
    r = fetch(srv, r.json()["path"])
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "address_not_allowed"
    j = create(srv, tok, ns, key, allow_ip="127.0.0.0/8").json()
    assert fetch(srv, j["path"]).status_code == 200
    r = create(srv, tok, ns, key, allow_ip="not-an-address")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_cidr"


def test_password_api_and_browser_form(srv, uniq):
    ns, key, _, tok = setup_obj(srv, uniq)
    j = create(srv, tok, ns, key, password="correct horse").json()
    assert j["password"] is True
    path = j["path"]
    r = fetch(srv, path)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "password_required"
    # A browser gets a small form posting to the link itself.
    r = fetch(srv, path, headers={"Accept": "text/html,*/*"})
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("text/html")
    assert '<form method="post">' in r.text
    assert 'type="password" name="password"' in r.text
    assert "form-action 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in r.headers
    r = fetch(srv, path, method="POST", data={"password": "wrong one"},
              headers={"Accept": "text/html"})
    assert r.status_code == 401
    assert "Wrong password" in r.text
    r = fetch(srv, path, method="POST", data={"password": "correct horse"},
              headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    assert r.content == b"shared bytes\n"
    r = fetch(srv, path, method="POST", json={"password": "correct horse"})
    assert r.status_code == 200
    recs = share_records(srv, j["id"])
    assert [x["result"] for x in recs] == [
        "password_required", "password_required", "wrong_password", "ok",
        "ok"]
    # Too short a password is refused at creation.
    r = create(srv, tok, ns, key, password="short")
    assert r.status_code == 400


def test_pii_refused_unless_a_policy_allows(srv, uniq):
    ns, key, _, tok = setup_obj(srv, uniq)
    r = srv.req("PUT", "/v1/ns/%s/labels/%s" % (ns, key),
                json={"pii": "true"})
    assert r.status_code == 200, r.text
    r = create(srv, tok, ns, key)
    assert r.status_code == 403, r.text
    r = srv.req("PUT", "/v1/policies/share-" + ns, json={
        "ns": ns, "text": 'permit (principal, action == '
        'Action::"object:share", resource in Namespace::"%s");' % ns})
    assert r.status_code in (200, 201), r.text
    r = create(srv, tok, ns, key)
    assert r.status_code == 201, r.text
    assert fetch(srv, r.json()["path"]).status_code == 200


def test_needs_read_access(srv, uniq):
    ns, key, _, _ = setup_obj(srv, uniq)
    stranger = srv.user(uniq("x"))
    r = create(srv, stranger, ns, key)
    assert r.status_code == 403, r.text
    rec = [x for x in srv.audit_records() if x.get("action") ==
           "object:share"][-1]
    assert rec["decision"] == "deny" and rec["reasons"].startswith("read:")
    r = srv.post("/v1/shares", {"ns": ns, "key": key}, token=None)
    assert r.status_code == 401


def test_cli(srv, uniq, tmp_path):
    ns, key, user, tok = setup_obj(srv, uniq)
    cli = Cli(srv, tmp_path / "home")
    p = cli("share", "create", "%s/%s" % (ns, key), "--max-downloads", "1",
            "--expires-in", "2h", "--recipient", "dana", token=tok)
    assert p.returncode == 0, p.stderr
    url = p.stdout.strip()
    assert url.startswith(srv.url + "/v1/share/cfl_")
    assert "shown only this once" in p.stderr
    r = requests.get(url, verify=srv.ca, timeout=HTTP_TIMEOUT)
    assert r.content == b"shared bytes\n"
    lst = cli.json("share", "ls", "--json", token=tok)["shares"]
    assert lst[0]["state"] == "used_up" and lst[0]["recipient"] == "dana"
    p = cli("share", "ls", token=tok)
    assert "used_up" in p.stdout
    p = cli("share", "revoke", lst[0]["id"], token=tok)
    assert p.returncode == 0, p.stderr
    p = cli("share", "create", "%s/%s" % (ns, key), "--password-stdin",
            "--json", token=tok, input="a long password\n")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j["password"] is True and j["url"].startswith(srv.url)


def test_guessed_tokens_rate_limited_and_audited(tmp_path_factory, uniq):
    s = make(tmp_path_factory, ["--set", "share_guess_limit=3"])
    try:
        ns, key, _, tok = setup_obj(s, uniq)
        good = create(s, tok, ns, key).json()["path"]
        for i in range(3):
            r = fetch(s, "/v1/share/cfl_" + "%064x" % i)
            assert r.status_code == 404, r.text
            assert r.json()["error"]["code"] == "no_such_link"
        r = fetch(s, "/v1/share/cfl_" + "%064x" % 99)
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "too_many_attempts"
        assert int(r.headers["Retry-After"]) > 0
        # The address is locked: even a good link waits.
        assert fetch(s, good).status_code == 429
        recs = share_records(s)
        guesses = [x for x in recs if x["resource"] == "share/unknown"]
        assert len(guesses) >= 4
        assert all(x["decision"] == "deny" and x["source"] == "127.0.0.1"
                   for x in guesses)
        assert [x["reasons"] for x in guesses[:3]] == ["no such link"] * 3
        # The lock ends (the test clock moves past it).
        s.set_clock(1000)
        assert fetch(s, good).status_code == 200
    finally:
        s.stop()


def test_network_isolation_holds_for_links(tmp_path_factory, uniq):
    """A link to a namespace of an environment with an allow list is
    downloaded only from that list's networks: a link is no way around
    env.<env>.allow (the client's address as the trusted proxy names
    it)."""
    s = make(tmp_path_factory, ["--set", "env.prod.allow=10.0.0.0/8",
                                "--set", "trusted_proxies=127.0.0.1/32"])
    try:
        inside = {"X-Forwarded-For": "10.1.2.3"}
        ns = uniq("shp")
        r = s.post("/v1/ns", {"name": ns, "env": "prod"}, headers=inside)
        assert r.status_code == 201, r.text
        r = s.req("PUT", obj_path(ns, "m.bin"), data=b"prod bytes",
                  headers=inside)
        assert r.status_code == 201, r.text
        r = s.post("/v1/shares", {"ns": ns, "key": "m.bin"},
                   headers=inside)
        assert r.status_code == 201, r.text
        path, link = r.json()["path"], r.json()["id"]
        r = fetch(s, path, headers=inside)
        assert r.status_code == 200 and r.content == b"prod bytes"
        r = fetch(s, path, headers={"X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "network_refused"
        recs = share_records(s, link)
        assert recs[-1]["decision"] == "deny"
        assert recs[-1]["source"] == "203.0.113.9"
    finally:
        s.stop()

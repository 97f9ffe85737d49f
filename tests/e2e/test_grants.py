"""tests/e2e/test_grants.py: the grant rule and the bootstrap session
(docs/security.md, "Who can hand out access").

No credential without a human second factor may, directly or through the
principals, bindings, tokens or enrollments it creates, reach restricted
data or an MFA-gated action.  So creating users, setting another user's
password, binding roles, minting tokens for others, resetting MFA and
dropping MFA flags need a credential with MFA, and API tokens (which never
carry MFA) cannot do them at all.  The first start's credential is a
session of the admin user that must enroll MFA before it can grant.
"""

import os

from conftest import Totp

PW = "correct horse battery staple"


def err_code(r):
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def assert_mfa_required(r):
    assert r.status_code == 401, r.text
    assert err_code(r) == "mfa_required", r.text


def last_record(srv, action):
    recs = [x for x in srv.audit_records() if x.get("action") == action]
    assert recs, "no audit record for " + action
    return recs[-1]


def mfa_session(srv, name):
    tok, totp = srv.mfa_session(name, PW)
    return tok, totp


def test_admin_api_token_cannot_reach_restricted_data_through_a_user(
        server, uniq):
    """The reviewed attack, step by step, with an admin API token: every
    step that hands out access is refused, and each refusal recorded."""
    ns = uniq("rx")
    r = server.post("/v1/ns", {"name": ns, "sensitivity": "restricted"})
    assert r.status_code == 201, r.text
    assert server.put_obj(ns, "secret", b"crown jewels").status_code == 201
    api = "admin-api"
    eve = uniq("eve")
    r = server.post("/v1/users", {"name": eve, "password": PW}, token=api)
    assert_mfa_required(r)
    rec = last_record(server, "user:create")
    assert rec["decision"] == "deny" and rec["status"] == 401
    # Nothing was created.
    assert server.get("/v1/users", token=api).status_code in (200, 401)
    r = server.post("/v1/login", {"user": eve, "password": PW}, token=None)
    assert r.status_code == 401, r.text
    # A plain principal of kind user is a human too.
    r = server.post("/v1/principals", {"name": eve, "kind": "user"},
                    token=api)
    assert_mfa_required(r)
    # Binding a role and minting a token for someone else.
    bob = uniq("bob")
    r = server.post("/v1/users", {"name": bob, "password": PW})
    assert r.status_code == 201, r.text
    r = server.post("/v1/bindings", {"principal": bob, "role": "reader"},
                    token=api)
    assert_mfa_required(r)
    assert last_record(server, "binding:create")["decision"] == "deny"
    r = server.post("/v1/bindings", {"principal": bob, "role": "reader",
                                     "ns": ns}, token=api)
    assert_mfa_required(r)
    r = server.post("/v1/tokens", {"principal": bob}, token=api)
    assert_mfa_required(r)
    # Taking over an existing account: its password, its MFA.
    r = server.post("/v1/users/%s/password" % bob, {"password": PW + "!"},
                    token=api)
    assert_mfa_required(r)
    r = server.post("/v1/users/%s/mfa-reset" % bob, token=api)
    assert_mfa_required(r)
    r = server.post("/v1/users/%s/mfa-required" % bob,
                    {"required": False}, token=api)
    assert_mfa_required(r)
    r = server.post("/v1/roles/admin/mfa-required", {"required": False},
                    token=api)
    assert_mfa_required(r)
    # bob has no role: with MFA he still cannot read.
    tok, _ = mfa_session(server, bob)
    assert server.get_obj(ns, "secret", token=tok).status_code == 403
    # The same API token still does what automation needs.
    assert server.post("/v1/ns", {"name": uniq("auto")},
                       token=api).status_code == 201
    assert server.get_obj(ns, "secret", token=api).status_code == 401


def test_admin_with_mfa_grants(server, uniq):
    """The same steps with the admin's MFA session succeed."""
    ns = uniq("rx")
    r = server.post("/v1/ns", {"name": ns, "sensitivity": "restricted"})
    assert r.status_code == 201, r.text
    assert server.put_obj(ns, "k", b"data").status_code == 201
    carol = uniq("carol")
    r = server.post("/v1/users", {"name": carol, "password": PW})
    assert r.status_code == 201, r.text
    server.grant(carol, "reader", ns)
    tok, _ = mfa_session(server, carol)
    r = server.get_obj(ns, "k", token=tok)
    assert r.status_code == 200 and r.content == b"data"


def test_session_without_mfa_cannot_self_mint_admin_token(server, uniq):
    """An admin signed in without MFA must not mint an API token, which
    is not held to mfa_admin_actions; a non-admin may."""
    adm = uniq("adm")
    assert server.post("/v1/users", {"name": adm, "password": PW}
                       ).status_code == 201
    server.grant(adm, "admin")
    r = server.post("/v1/login", {"user": adm, "password": PW}, token=None)
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    r = server.post("/v1/tokens", {"principal": adm}, token=tok)
    assert_mfa_required(r)
    rec = last_record(server, "token:create")
    assert rec["decision"] == "deny" and rec["principal"] == adm
    # An owned service account with the admin role: the same rule.
    svc = uniq("svc")
    r = server.post("/v1/principals", {"name": svc, "kind": "service",
                                       "owner": adm})
    assert r.status_code == 201, r.text
    server.grant(svc, "admin")
    r = server.post("/v1/tokens", {"principal": svc, "expires_in": 600},
                    token=tok)
    assert_mfa_required(r)
    # A reader mints for itself without MFA.
    rd = uniq("rd")
    assert server.post("/v1/users", {"name": rd, "password": PW}
                       ).status_code == 201
    server.grant(rd, "reader", None)
    r = server.post("/v1/login", {"user": rd, "password": PW}, token=None)
    rtok = r.json()["token"]
    r = server.post("/v1/tokens", {"principal": rd}, token=rtok)
    assert r.status_code == 201, r.text
    # With MFA the admin mints.
    mtok, _ = mfa_session(server, adm)
    r = server.post("/v1/tokens", {"principal": adm}, token=mtok)
    assert r.status_code == 201, r.text


def test_admin_api_token_cannot_set_its_first_password(server, uniq):
    """An admin's API token setting its own first password would reach
    MFA through an enrollment it made."""
    adm = uniq("adm")
    assert server.post("/v1/users", {"name": adm}).status_code == 201
    server.grant(adm, "admin")
    r = server.post("/v1/tokens", {"principal": adm})
    api = r.json()["token"]
    r = server.post("/v1/users/%s/password" % adm, {"password": PW},
                    token=api)
    assert r.status_code == 403, r.text


def test_bootstrap_session_must_enroll_mfa_first(make_server):
    s = make_server(start=False)
    s.auto_admin = False
    s.start()
    path = os.path.join(s.data, "bootstrap-token")
    assert os.stat(path).st_mode & 0o077 == 0, "bootstrap file not 0600"
    with open(path) as f:
        boot = f.read().strip()
    assert boot.startswith("cfs_"), "the bootstrap credential is a session"
    r = s.get("/v1/whoami", token=boot)
    assert r.status_code == 200 and r.json()["principal"] == "admin"
    # Before MFA it can neither administer nor grant.
    assert_mfa_required(s.post("/v1/ns", {"name": "early"}, token=boot))
    assert_mfa_required(s.post("/v1/users", {"name": "eve", "password": PW},
                               token=boot))
    assert_mfa_required(s.post("/v1/tokens", {"principal": "admin"},
                               token=boot))
    # It may set the admin's password, then enroll.
    r = s.post("/v1/users/admin/password", {"password": PW}, token=boot)
    assert r.status_code == 200, r.text
    r = s.post("/v1/mfa/enroll", token=boot)
    assert r.status_code == 200, r.text
    totp = Totp(r.json()["secret"])
    r = s.post("/v1/mfa/confirm", {"code": totp.fresh()}, token=boot)
    assert r.status_code == 200, r.text
    new = r.json()["token"]
    # SEC: the old token (and any copy of the file) is dead, and the file
    # is gone.
    assert not os.path.exists(path)
    assert s.get("/v1/whoami", token=boot).status_code == 401
    assert s.post("/v1/ns", {"name": "later"}, token=new).status_code == 201
    # Both the bootstrap session and its replacement expire
    # (bootstrap_ttl, 24 h by default).
    r = s.get("/v1/tokens", params={"principal": "admin"}, token=new)
    assert r.status_code == 200, r.text
    mine = [t for t in r.json()["tokens"] if t["description"] == "bootstrap"]
    assert len(mine) == 2, mine
    assert all(t["kind"] == "session" and t["expires"] for t in mine)
    assert sum(1 for t in mine if t["revoked"]) == 1
    r = s.post("/v1/users", {"name": "alice", "password": PW}, token=new)
    assert r.status_code == 201, r.text


def test_bootstrap_file_removed_once_its_session_ended(make_server):
    s = make_server(start=False)
    s.auto_admin = False
    s.start()
    path = os.path.join(s.data, "bootstrap-token")
    with open(path) as f:
        boot = f.read().strip()
    r = s.post("/v1/logout", token=boot)
    assert r.status_code == 200, r.text
    s.restart()
    assert not os.path.exists(path)
    assert "bootstrap_spent" in s.stderr() + s.stdout()


def test_step_up_replaces_the_session(server, uniq):
    """Step-up rotates: the pre-MFA token never gains the second
    factor."""
    u = uniq("su")
    assert server.post("/v1/users", {"name": u, "password": PW}
                       ).status_code == 201
    _, totp = mfa_session(server, u)
    r = server.post("/v1/login", {"user": u, "password": PW,
                                  "code": totp.fresh()}, token=None)
    assert r.status_code == 201, r.text
    old = r.json()["token"]
    r = server.post("/v1/session/mfa", {"code": totp.fresh()}, token=old)
    assert r.status_code == 200, r.text
    new = r.json()["token"]
    assert new != old and r.json()["mfa"] is True
    assert server.get("/v1/whoami", token=old).status_code == 401
    r = server.get("/v1/whoami", token=new)
    assert r.status_code == 200 and r.json()["mfa"] is True


def test_owner_lists_and_revokes_service_account_tokens(server, uniq):
    """The owner of a service account can mint its tokens, so it can also
    list and revoke them; nobody else but an admin can."""
    owner, other, svc = uniq("own"), uniq("oth"), uniq("svc")
    for u in (owner, other):
        r = server.post("/v1/users", {"name": u, "password": PW})
        assert r.status_code == 201, r.text
    r = server.post("/v1/principals", {"name": svc, "kind": "service",
                                       "owner": owner})
    assert r.status_code == 201, r.text
    r = server.post("/v1/login", {"user": owner, "password": PW}, token=None)
    otok = r.json()["token"]
    r = server.post("/v1/tokens", {"principal": svc, "expires_in": 3600},
                    token=otok)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    r = server.get("/v1/tokens", params={"principal": svc}, token=otok)
    assert r.status_code == 200, r.text
    assert [t["id"] for t in r.json()["tokens"]] == [tid]
    assert last_record(server, "token:list")["reasons"] == "owner"
    # Another user: 403, and no hint whether the account exists.
    r = server.post("/v1/login", {"user": other, "password": PW}, token=None)
    xtok = r.json()["token"]
    r = server.get("/v1/tokens", params={"principal": svc}, token=xtok)
    assert r.status_code == 403, r.text
    r = server.get("/v1/tokens", params={"principal": uniq("none")},
                   token=xtok)
    assert r.status_code == 403, r.text
    r = server.req("DELETE", "/v1/tokens/" + tid, token=xtok)
    assert r.status_code == 403, r.text
    # The owner revokes it.
    r = server.req("DELETE", "/v1/tokens/" + tid, token=otok)
    assert r.status_code == 200, r.text
    assert last_record(server, "token:revoke")["reasons"] == "owner"
    r = server.get("/v1/tokens", params={"principal": svc}, token=otok)
    assert r.json()["tokens"][0]["revoked"]

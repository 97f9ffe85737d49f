"""tests/e2e/test_identity.py: local users, passwords, MFA (TOTP and
recovery codes), sessions, step-up, lockout, scoped tokens and service
accounts (issue 4; the contract is docs/api.md "Identity").

Codes are computed here with RFC 6238 (hmac/hashlib only).  The server
accepts a code of the steps T-1..T+1 once, and only a step above the last
one used by that user, so Totp.fresh() hands out increasing steps and waits
for the clock when it must.

CLI runs use their own session (start_new_session=True), so the CLI has no
controlling terminal: it can never prompt, and must take --password-stdin,
--code or COFFER_MFA_CODE, or fail cleanly.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import subprocess
import time

import pytest

from conftest import (COFFER_BIN, EXIT_AUTH, EXIT_DENIED, EXIT_INPUT,
                      EXIT_NOTFOUND, EXIT_OK, EXIT_USAGE, HTTP_TIMEOUT,
                      SANITIZER_MARKERS, Cli, Server, Totp)

EXIT_LIMITED = 11   # 429: too many attempts / locked (client.h)

PW = "correct horse battery staple"
PW2 = "another long passphrase 42"


# ---- helpers ----

def err_code(r):
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def mkuser(srv, name, password=PW, role=None, ns=None):
    body = {"name": name}
    if password is not None:
        body["password"] = password
    r = srv.post("/v1/users", body)
    assert r.status_code == 201, r.text
    if role is not None:
        srv.grant(name, role, ns)
    return r.json()


def login(srv, user, password=PW, code=None, recovery=None):
    body = {"user": user, "password": password}
    if code is not None:
        body["code"] = code
    if recovery is not None:
        body["recovery_code"] = recovery
    return srv.post("/v1/login", body, token=None)


def session(srv, user, password=PW, code=None):
    r = login(srv, user, password, code)
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    assert tok.startswith("cfs_")
    return tok


def enroll(srv, tok):
    """Enroll and confirm MFA for the session tok's user; returns
    (Totp, recovery codes)."""
    r = srv.post("/v1/mfa/enroll", token=tok)
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["uri"].startswith("otpauth://totp/")
    assert "secret=" in e["uri"]
    assert len(e["recovery_codes"]) == 10
    t = Totp(e["secret"])
    r = srv.post("/v1/mfa/confirm", {"code": t.fresh()}, token=tok)
    assert r.status_code == 200, r.text
    assert r.json()["mfa_enabled"] is True
    # Confirming replaces the session by one with MFA (tok is revoked).
    t.session = r.json()["token"]
    return t, e["recovery_codes"]


def whoami(srv, tok):
    return srv.get("/v1/whoami", token=tok)


def run_cli(cli, *args, token="admin", input=None, env=None, stdin=None):
    """As Cli.__call__, but in a new session: no controlling terminal.
    stdin: an open file to read standard input from instead of input."""
    if stdin is None and input is None:
        stdin = subprocess.DEVNULL
    p = subprocess.run([COFFER_BIN] + [str(a) for a in args], input=input,
                       stdin=stdin, capture_output=True, text=True,
                       timeout=HTTP_TIMEOUT, env=cli.env(token, env),
                       start_new_session=True)
    for m in SANITIZER_MARKERS:
        assert m not in p.stderr, "sanitizer report from CLI:\n" + p.stderr
    return p


def login_records(srv):
    return [r for r in srv.audit_records()
            if r.get("action") == "session:login"]


# The module's shared server must not throttle the deliberate failures of
# one test into the next (they all come from 127.0.0.1): lockout has its
# own servers below.
NO_LOCK_ARGS = ["--set", "auth_free_failures=1000", "--set",
                "auth_lock_failures=100000"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("srv"), NO_LOCK_ARGS).start()
    yield s
    s.stop()


@pytest.fixture
def ns(server, uniq):
    name = uniq("idn")
    server.mkns(name)
    return name


# ---- users and passwords ----

def test_user_create_and_list(server, uniq):
    a, b = uniq("u"), uniq("u")
    mkuser(server, a)
    mkuser(server, b, password=None)
    r = server.get("/v1/users")
    assert r.status_code == 200, r.text
    users = {u["name"]: u for u in r.json()["users"]}
    assert users[a]["has_password"] is True
    assert users[a]["disabled"] is False
    assert users[a]["mfa_enabled"] is False
    assert users[b]["has_password"] is False
    # Users are principals.
    names = [p["name"] for p in server.get("/v1/principals").json()[
        "principals"]]
    assert a in names and b in names
    # Not for non-admins.
    tok = session(server, a)
    assert server.get("/v1/users", token=tok).status_code == 403
    assert server.post("/v1/users", {"name": uniq("u"), "password": PW},
                       token=tok).status_code == 403
    # Duplicate.
    r = server.post("/v1/users", {"name": a, "password": PW})
    assert r.status_code == 409


@pytest.mark.parametrize("why,pw", [
    ("short", "Tr0ub4dor&3"),              # 11 characters
    ("common", "123456789012"),            # in the shipped list
    ("contains user name", "xx-{user}-yy-zz-ww"),
])
def test_weak_passwords_refused(server, uniq, why, pw):
    name = uniq("weak")
    r = server.post("/v1/users", {"name": name,
                                  "password": pw.format(user=name)})
    assert r.status_code == 400, (why, r.text)
    assert err_code(r) == "weak_password", r.text
    assert r.json()["error"]["message"], "the reason is given"
    # Nothing was created.
    users = [u["name"] for u in server.get("/v1/users").json()["users"]]
    assert name not in users


def test_weak_password_on_change_refused(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    tok = session(server, name)
    r = server.post("/v1/users/%s/password" % name,
                    {"password": "short", "current_password": PW}, token=tok)
    assert r.status_code == 400 and err_code(r) == "weak_password"
    assert login(server, name).status_code == 201


def test_login_ok_session_works(server, uniq, ns):
    name = uniq("u")
    mkuser(server, name, role="writer", ns=ns)
    r = login(server, name)
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["principal"] == name
    assert j["mfa"] is False
    assert j["expires"]
    tok = j["token"]
    w = whoami(server, tok)
    assert w.status_code == 200 and w.json()["principal"] == name
    assert server.put_obj(ns, "a", b"x", token=tok).status_code == 201
    # Listed as a session among the user's tokens.
    toks = server.get("/v1/tokens?principal=%s" % name).json()["tokens"]
    assert any(t.get("kind") == "session" for t in toks), toks
    # Audited with how the caller authenticated.
    rec = server.wait_audit(lambda a: a.get("action") == "session:login"
                            and a.get("principal") == name
                            and a.get("decision") == "allow")
    assert rec is not None
    # A session token is not a stored secret in the audit log.
    with open(server.audit_path, "rb") as f:
        assert tok.encode() not in f.read()


def test_login_failures_look_the_same(server, uniq):
    good, disabled, nopw = uniq("u"), uniq("u"), uniq("u")
    mkuser(server, good)
    mkuser(server, disabled)
    mkuser(server, nopw, password=None)
    assert server.post("/v1/users/%s/disable" % disabled, {}).status_code == 200
    answers = [
        login(server, good, "wrong password entirely"),
        login(server, uniq("nobody"), PW),
        login(server, disabled, PW),
        login(server, nopw, PW),
    ]
    for r in answers:
        assert r.status_code == 401, r.text
        assert err_code(r) == "invalid_credentials", r.text
    msgs = {r.json()["error"]["message"] for r in answers}
    assert len(msgs) == 1, "failures must not tell why: %r" % msgs
    # Audited as failures.
    recs = [r for r in login_records(server) if r.get("decision") == "deny"]
    assert len(recs) >= 4


def test_login_bad_input(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    for body in ({}, {"user": name}, {"password": PW},
                 {"user": 5, "password": PW}, {"user": name, "password": 7},
                 {"user": name, "password": PW, "code": 123456}):
        r = server.post("/v1/login", body, token=None)
        assert r.status_code in (400, 401), (body, r.text)
    r = server.req("POST", "/v1/login", token=None, data=b"{not json",
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert server.alive()


def test_oversized_credentials(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    t0 = time.monotonic()
    r = login(server, name, "p" * 5000)
    assert r.status_code in (400, 401, 413), r.text
    # Refused before any hashing work of that size.
    assert time.monotonic() - t0 < 10
    r = login(server, "n" * 5000, PW)
    assert r.status_code in (400, 401), r.text
    r = server.post("/v1/login", {"user": name, "password": "x" * 200000},
                    token=None)
    assert r.status_code == 413, r.text
    r = server.post("/v1/users", {"name": uniq("u"), "password": "p" * 5000})
    assert r.status_code == 400, r.text
    # A huge bearer token is refused like any other bad one.
    r = server.get("/v1/whoami", token="cfs_" + "A" * 20000)
    assert r.status_code in (400, 401, 431)
    assert server.alive()
    assert login(server, name).status_code == 201


def test_disabled_user_is_locked_out_everywhere(server, uniq, ns):
    name = uniq("u")
    mkuser(server, name, role="reader", ns=ns)
    sess = session(server, name)
    api = server.token(name)["token"]
    assert whoami(server, sess).status_code == 200
    assert whoami(server, api).status_code == 200
    r = server.post("/v1/users/%s/disable" % name, {})
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert whoami(server, sess).status_code == 401
    assert whoami(server, api).status_code == 401
    assert login(server, name).status_code == 401
    assert server.post("/v1/users/%s/enable" % name, {}).status_code == 200
    assert login(server, name).status_code == 201


def test_own_password_change(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    tok = session(server, name)
    path = "/v1/users/%s/password" % name
    # The current password is required, and must be right.
    r = server.post(path, {"password": PW2}, token=tok)
    assert r.status_code in (400, 401, 403), r.text
    r = server.post(path, {"password": PW2,
                           "current_password": "not it at all"}, token=tok)
    assert r.status_code in (401, 403), r.text
    r = server.post(path, {"password": PW2, "current_password": PW},
                    token=tok)
    assert r.status_code == 200, r.text
    assert login(server, name, PW).status_code == 401
    assert login(server, name, PW2).status_code == 201


def test_password_of_another_user_needs_admin(server, uniq):
    a, b = uniq("u"), uniq("u")
    mkuser(server, a)
    mkuser(server, b)
    tok = session(server, a)
    r = server.post("/v1/users/%s/password" % b,
                    {"password": PW2, "current_password": PW}, token=tok)
    assert r.status_code == 403, r.text
    assert login(server, b, PW).status_code == 201


def test_admin_reset(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    r = server.post("/v1/users/%s/password" % name, {"password": PW2})
    assert r.status_code == 200, r.text
    assert login(server, name, PW).status_code == 401
    assert login(server, name, PW2).status_code == 201
    # A user without a password gets one.
    other = uniq("u")
    mkuser(server, other, password=None)
    assert server.post("/v1/users/%s/password" % other,
                       {"password": PW}).status_code == 200
    assert login(server, other).status_code == 201
    r = server.post("/v1/users/%s/password" % uniq("nobody"),
                    {"password": PW})
    assert r.status_code == 404


# ---- MFA ----

def test_mfa_enroll_confirm_and_login(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    tok = session(server, name)
    r = server.post("/v1/mfa/enroll", token=tok)
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["uri"].startswith("otpauth://totp/")
    assert name in e["uri"]
    t = Totp(e["secret"])
    # Pending until confirmed: login still needs no code.
    assert login(server, name).status_code == 201
    users = {u["name"]: u for u in server.get("/v1/users").json()["users"]}
    assert users[name]["mfa_enabled"] is False
    r = server.post("/v1/mfa/confirm", {"code": t.wrong()}, token=tok)
    assert r.status_code == 401 and err_code(r) == "invalid_code", r.text
    r = server.post("/v1/mfa/confirm", {"code": t.fresh()}, token=tok)
    assert r.status_code == 200, r.text
    users = {u["name"]: u for u in server.get("/v1/users").json()["users"]}
    assert users[name]["mfa_enabled"] is True
    # Now the password alone is not enough, and issues no session.
    r = login(server, name)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    assert "token" not in r.text
    r = login(server, name, code=t.wrong())
    assert r.status_code == 401 and err_code(r) == "invalid_code"
    # A code with the wrong password says nothing about the code.
    r = login(server, name, "wrong password entirely", code=t.fresh())
    assert r.status_code == 401 and err_code(r) == "invalid_credentials"
    code = t.fresh()
    r = login(server, name, code=code)
    assert r.status_code == 201, r.text
    assert r.json()["mfa"] is True
    # Replay of the same code is refused.
    r = login(server, name, code=code)
    assert r.status_code == 401 and err_code(r) == "invalid_code", r.text
    for bad in ("12345", "abcdef", "1234567890", "", "1" * 5000):
        r = login(server, name, code=bad)
        assert r.status_code in (400, 401, 413), (bad, r.text)
    r = login(server, name, recovery="r" * 5000)
    assert r.status_code in (400, 401, 413), r.text


def test_mfa_recovery_code_works_once(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    t, rec = enroll(server, session(server, name))
    r = login(server, name, recovery=rec[0])
    assert r.status_code == 201, r.text
    assert r.json()["mfa"] is True
    r = login(server, name, recovery=rec[0])
    assert r.status_code == 401 and err_code(r) == "invalid_code", r.text
    # Case and dashes of another code are taken as typed by people.
    r = login(server, name, recovery=rec[1].upper())
    assert r.status_code == 201, r.text
    r = login(server, name, recovery="aaaa-bbbb-cccc-dddd")
    assert r.status_code == 401


def test_mfa_enroll_needs_login_and_is_self_only(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    assert server.post("/v1/mfa/enroll", token=None).status_code == 401
    # Confirm without a pending enrollment.
    tok = session(server, name)
    r = server.post("/v1/mfa/confirm", {"code": "123456"}, token=tok)
    assert r.status_code in (400, 401, 409), r.text


def test_mfa_disable_needs_password_and_code(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    t, _rec = enroll(server, session(server, name))
    tok = session(server, name, code=t.fresh())
    r = server.post("/v1/mfa/disable", {"password": PW}, token=tok)
    assert r.status_code in (400, 401), r.text
    r = server.post("/v1/mfa/disable", {"code": t.fresh()}, token=tok)
    assert r.status_code in (400, 401), r.text
    r = server.post("/v1/mfa/disable", {"password": "wrong password now",
                                        "code": t.fresh()}, token=tok)
    assert r.status_code == 401, r.text
    r = server.post("/v1/mfa/disable", {"password": PW,
                                        "code": t.wrong()}, token=tok)
    assert r.status_code == 401, r.text
    r = server.post("/v1/mfa/disable", {"password": PW, "code": t.fresh()},
                    token=tok)
    assert r.status_code == 200, r.text
    assert r.json()["mfa_enabled"] is False
    assert login(server, name).status_code == 201


def test_mfa_disable_with_recovery_code(server, uniq):
    """Lost phone (docs/authentication.md): log in with a recovery code,
    turn MFA off with the password and another unused one, enroll the new
    phone and log in with it."""
    name = uniq("u")
    mkuser(server, name)
    _t, rec = enroll(server, session(server, name))
    r = login(server, name, recovery=rec[0])
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    # Still enrolled: enroll refuses, as the reviewer found.
    assert server.post("/v1/mfa/enroll", token=tok).status_code == 409
    # The code just used to log in is spent; a wrong one is no better.
    for bad in (rec[0], "aaaa-bbbb-cccc-dddd"):
        r = server.post("/v1/mfa/disable", {"password": PW,
                                            "recovery_code": bad},
                        token=tok)
        assert r.status_code == 401 and err_code(r) == "invalid_code", \
            r.text
    r = server.post("/v1/mfa/disable", {"password": "wrong password now",
                                        "recovery_code": rec[1]}, token=tok)
    assert r.status_code == 401 and err_code(r) == "invalid_credentials"
    r = server.post("/v1/mfa/disable", {"password": PW, "recovery_code":
                                        rec[1] + "-" * 70}, token=tok)
    assert r.status_code == 400, r.text
    r = server.post("/v1/mfa/disable", {"password": PW,
                                        "recovery_code": rec[1]}, token=tok)
    assert r.status_code == 200, r.text
    assert r.json()["mfa_enabled"] is False
    recs = [x for x in server.audit_records()
            if x["action"] == "mfa:disable"
            and x["resource"] == "user/%s/mfa" % name]
    assert [(x["decision"], x["status"]) for x in recs] == \
        [("deny", 401)] * 3 + [("deny", 400), ("allow", 200)], recs
    assert recs[-1]["reasons"] == "self+recovery"
    assert all(rec[1] not in json.dumps(x) for x in recs)
    # A new phone.
    assert login(server, name).status_code == 201
    t2, _rec2 = enroll(server, tok)
    r = login(server, name)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    # The old recovery codes went with the old enrollment.
    r = login(server, name, recovery=rec[2])
    assert r.status_code == 401 and err_code(r) == "invalid_code", r.text
    r = login(server, name, code=t2.fresh())
    assert r.status_code == 201, r.text
    assert r.json()["mfa"] is True


def test_mfa_disable_code_or_recovery_code_required(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    t, rec = enroll(server, session(server, name))
    tok = session(server, name, code=t.fresh())
    r = server.post("/v1/mfa/disable", {"password": PW}, token=tok)
    assert r.status_code == 400 and err_code(r) == "invalid_json", r.text
    assert "recovery_code" in r.json()["error"]["message"]
    r = server.post("/v1/mfa/disable", {"password": PW,
                                        "recovery_code": 5}, token=tok)
    assert r.status_code == 400, r.text
    # Without MFA, a recovery code is refused like a code (409).
    other = uniq("u")
    mkuser(server, other)
    r = server.post("/v1/mfa/disable", {"password": PW,
                                        "recovery_code": rec[0]},
                    token=session(server, other))
    assert r.status_code == 409, r.text


def audit_tail(srv, n=50):
    r = srv.get("/v1/audit", params={"tail": n})
    assert r.status_code == 200, r.text
    return r.json()["records"]


def test_admin_mfa_reset(server, uniq):
    """No recovery code left: an admin resets the user's MFA; the user's
    sessions end, and the user logs in with the password and enrolls
    again."""
    name = uniq("u")
    mkuser(server, name)
    t, rec = enroll(server, session(server, name))
    # A user who has used up every code is stuck without an admin.
    for c in rec[:-1]:
        assert login(server, name, recovery=c).status_code == 201
    r = login(server, name, recovery=rec[-1])
    assert r.status_code == 201, r.text
    s1 = r.json()["token"]
    r = login(server, name, recovery=rec[0])
    assert r.status_code == 401 and err_code(r) == "invalid_code", r.text
    api = server.token(name)["token"]
    stok = session(server, name, code=t.fresh())
    # Not an admin: 403, and audited as a denial.
    other = uniq("u")
    mkuser(server, other, role="owner", ns=None)
    otok = server.token(other)["token"]
    r = server.post("/v1/users/%s/mfa-reset" % name, token=otok)
    assert r.status_code == 403 and err_code(r) == "access_denied", r.text
    # Nor may the user reset their own (that is mfa disable).
    r = server.post("/v1/users/%s/mfa-reset" % name, token=stok)
    assert r.status_code == 403, r.text
    # An admin's session needs MFA for it (mfa_admin_actions).
    adm = uniq("adm")
    mkuser(server, adm, role="admin")
    r = server.post("/v1/users/%s/mfa-reset" % name,
                    token=session(server, adm))
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    r = server.post("/v1/users/%s/mfa-reset" % uniq("nobody"))
    assert r.status_code == 404 and err_code(r) == "no_such_principal"
    r = server.get("/v1/users/%s/mfa-reset" % name)
    assert r.status_code == 405, r.text
    # Nor an admin their own (here with an API token, which never carries
    # MFA): one's own second factor goes only by mfa disable.
    r = server.post("/v1/users/admin/mfa-reset")
    assert r.status_code == 403 and err_code(r) == "access_denied", r.text
    assert login(server, name).status_code == 401
    r = server.post("/v1/users/%s/mfa-reset" % name)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == name and r.json()["mfa_enabled"] is False
    recs = [x for x in audit_tail(server)
            if x["action"] == "user:mfa-reset"
            and x["resource"] == "user/%s/mfa" % name]
    assert [(x["principal"], x["decision"], x["status"]) for x in recs] == [
        (other, "deny", 403), (name, "deny", 403), (adm, "deny", 401),
        ("admin", "allow", 200)], recs
    # The sessions end (API tokens stay, as after a password reset).
    assert whoami(server, stok).status_code == 401
    assert whoami(server, s1).status_code == 401
    assert whoami(server, api).status_code == 200
    # The password alone works again; the user enrolls a new phone.
    tok = session(server, name)
    t2, _rec2 = enroll(server, tok)
    r = login(server, name)
    assert r.status_code == 401 and err_code(r) == "mfa_required"
    r = login(server, name, code=t2.fresh())
    assert r.status_code == 201 and r.json()["mfa"] is True, r.text


def test_totp_secret_not_stored_in_clear(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    tok = session(server, name)
    e = server.post("/v1/mfa/enroll", token=tok).json()
    secret = e["secret"].encode()
    raw = base64.b32decode(e["secret"] + "=" * (-len(e["secret"]) % 8))
    for root, _dirs, files in os.walk(server.data):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                data = fh.read()
            assert secret not in data, f
            assert raw not in data, f
            for rc in e["recovery_codes"]:
                assert rc.encode() not in data, f


# ---- MFA required and step-up ----

def test_user_flag_requires_mfa_and_stepup(server, uniq, ns):
    name = uniq("u")
    mkuser(server, name, role="reader", ns=ns)
    tok = session(server, name)             # before MFA: mfa=false
    # Enroll from another session (confirming proves the code's
    # possession, which may count as MFA for the enrolling session).
    t, _rec = enroll(server, session(server, name))
    lst = "/v1/ns/%s/objects" % ns
    assert server.get(lst, token=tok).status_code == 200
    r = server.post("/v1/users/%s/mfa-required" % name, {"required": True})
    assert r.status_code == 200, r.text
    assert r.json()["mfa_required"] is True
    r = server.get(lst, token=tok)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    # Step-up: wrong code, then a good one; the same session then works.
    r = server.post("/v1/session/mfa", {"code": t.wrong()}, token=tok)
    assert r.status_code == 401 and err_code(r) == "invalid_code"
    r = server.post("/v1/session/mfa", {"code": t.fresh()}, token=tok)
    assert r.status_code == 200, r.text
    assert r.json()["mfa"] is True
    # Step-up replaced the session; the old token is dead.
    assert server.get(lst, token=tok).status_code == 401
    tok = r.json()["token"]
    assert server.get(lst, token=tok).status_code == 200
    rec = server.wait_audit(lambda a: a.get("action") == "object:list" and
                            a.get("principal") == name and
                            a.get("mfa") is True)
    assert rec is not None
    # An API token carries no MFA: the flagged user's token is refused.
    api = server.token(name)["token"]
    r = server.get(lst, token=api)
    assert r.status_code == 401 and err_code(r) == "mfa_required"
    r = server.post("/v1/session/mfa", {"code": t.fresh()}, token=api)
    assert r.status_code in (400, 401, 403), r.text
    server.post("/v1/users/%s/mfa-required" % name, {"required": False})
    assert server.get(lst, token=api).status_code == 200


def test_flagged_user_without_mfa_cannot_extend_own_access(server, uniq):
    """A flagged user whose MFA is off (e.g. after an admin's reset) may,
    from a password session, only get to MFA (enroll, confirm, step up)
    and look at or drop credentials; not change the password or mint a
    token (docs/authentication.md, "No recovery codes left")."""
    name = uniq("u")
    mkuser(server, name)
    r = server.post("/v1/users/%s/mfa-required" % name, {"required": True})
    assert r.status_code == 200, r.text
    tok = session(server, name)
    r = server.post("/v1/tokens", {"principal": name}, token=tok)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    r = server.post("/v1/users/%s/password" % name,
                    {"password": PW + "-new", "current_password": PW},
                    token=tok)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    assert server.get("/v1/tokens", token=tok).status_code == 200
    # The way out: enroll, confirm, step up; then both work.
    r = server.post("/v1/mfa/enroll", token=tok)
    assert r.status_code == 200, r.text
    t = Totp(r.json()["secret"])
    r = server.post("/v1/mfa/confirm", {"code": t.fresh()}, token=tok)
    assert r.status_code == 200, r.text
    tok = r.json()["token"]
    r = server.post("/v1/session/mfa", {"code": t.fresh()}, token=tok)
    assert r.status_code == 200, r.text
    tok = r.json()["token"]
    r = server.post("/v1/tokens", {"principal": name, "expires_in": 3600},
                    token=tok)
    assert r.status_code == 201, r.text
    recs = [a for a in audit_tail(server) if a.get("principal") == name and
            a.get("action") in ("token:create", "user:passwd")]
    assert [(a["action"], a["decision"]) for a in recs] == [
        ("token:create", "deny"), ("user:passwd", "deny"),
        ("token:create", "allow")], recs


def test_role_flag_requires_mfa(server, uniq):
    a, b = uniq("rns"), uniq("rns")
    server.mkns(a)
    server.mkns(b)
    name = uniq("u")
    mkuser(server, name, role="reader", ns=a)
    server.grant(name, "owner", b)
    tok = session(server, name)
    r = server.post("/v1/roles/owner/mfa-required", {"required": True})
    assert r.status_code == 200, r.text
    assert r.json() == {"role": "owner", "mfa_required": True} or \
        r.json()["mfa_required"] is True
    try:
        assert server.get("/v1/ns/%s/objects" % a, token=tok).status_code \
            == 200
        r = server.put_obj(b, "k", b"x", token=tok)
        assert r.status_code == 401 and err_code(r) == "mfa_required"
        # Non-admins cannot flip the flag.
        r = server.post("/v1/roles/owner/mfa-required", {"required": False},
                        token=tok)
        assert r.status_code in (401, 403)
    finally:
        server.post("/v1/roles/owner/mfa-required", {"required": False})
    assert server.put_obj(b, "k", b"x", token=tok).status_code == 201


def test_admin_actions_need_mfa_with_sessions(server, uniq):
    name = uniq("adm")
    mkuser(server, name, role="admin")
    tok = session(server, name)
    r = server.post("/v1/ns", {"name": uniq("mfa-ns")}, token=tok)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    # An admin API token is not affected (automation keeps working).
    assert server.post("/v1/ns", {"name": uniq("mfa-ns")},
                       token="admin-api").status_code == 201
    t, _rec = enroll(server, tok)
    tok = t.session
    r = server.post("/v1/session/mfa", {"code": t.fresh()}, token=tok)
    assert r.status_code == 200, r.text
    tok = r.json()["token"]
    assert server.post("/v1/ns", {"name": uniq("mfa-ns")},
                       token=tok).status_code == 201


# ---- sessions ----

def test_logout_revokes_session(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    tok = session(server, name)
    other = session(server, name)
    r = server.post("/v1/logout", token=tok)
    assert r.status_code == 200, r.text
    assert r.json()["revoked"]
    assert whoami(server, tok).status_code == 401
    assert whoami(server, other).status_code == 200
    # Revoking through the token API works for sessions too.
    toks = server.get("/v1/tokens?principal=%s" % name).json()["tokens"]
    live = [t for t in toks if t.get("kind") == "session" and
            not t.get("revoked")]
    assert len(live) == 1
    r = server.req("DELETE", "/v1/tokens/%s" % live[0]["id"], token=other)
    assert r.status_code == 200
    assert whoami(server, other).status_code == 401


def test_session_expires(make_server, uniq):
    srv = make_server(extra_args=["--set", "session_ttl=2"])
    name = uniq("u")
    mkuser(srv, name)
    tok = session(srv, name)
    assert whoami(srv, tok).status_code == 200
    time.sleep(3.2)
    r = whoami(srv, tok)
    assert r.status_code == 401 and err_code(r) == "unauthenticated"


def test_session_tokens_are_hashed_at_rest(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    tok = session(server, name)
    for root, _dirs, files in os.walk(server.data):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert tok.encode() not in fh.read(), f


# ---- lockout ----

LOCK_ARGS = ["--set", "auth_free_failures=2", "--set",
             "auth_lock_failures=4", "--set", "auth_lock_seconds=4"]


def lock_server(make_server, args):
    """A server whose clock stands still (the test clock's frozen mode):
    the login delays and locks are then judged by a clock the test moves,
    not by how fast this host runs it."""
    srv = make_server(start=False, extra_args=args)
    srv.use_test_clock()
    srv.frozen_at = int(time.time())
    srv.freeze_clock(srv.frozen_at)
    return srv.start()


def advance(srv, secs):
    srv.frozen_at += secs
    srv.freeze_clock(srv.frozen_at)


def fail_until_locked(srv, user_of, password="wrong password again"):
    """Fail logins (user_of(i) gives the name) until the server answers
    429 locked, moving the server's frozen clock by each Retry-After it
    is told; returns the answers."""
    seen = []
    for i in range(40):
        r = login(srv, user_of(i), password)
        seen.append(r)
        if r.status_code == 429:
            assert r.headers.get("Retry-After", "").isdigit(), r.headers
            if err_code(r) == "locked":
                return seen
            assert err_code(r) == "too_many_attempts", r.text
            advance(srv, int(r.headers["Retry-After"]))
        else:
            assert r.status_code == 401, r.text
    pytest.fail("never locked: %r" % [(x.status_code, err_code(x))
                                      for x in seen])


def test_retry_after_is_honest(make_server, uniq):
    """A client that waits the Retry-After of a delayed login is let
    through: a refused (too early) attempt is not counted and does not
    move the delay's start either.  It did: every refusal restarted the
    delay, so a client that came back after 1 s of a 2 s delay got
    "Retry-After: 1" from then on, for ever (CI saw 37 refusals in a row
    on a loaded host).  The server's clock is the test clock (whole
    seconds ahead of the real one), so nothing here depends on timing."""
    srv = make_server(start=False, extra_args=[
        "--set", "auth_free_failures=2", "--set", "auth_lock_failures=100",
        "--set", "auth_addr_free_failures=1000",
        "--set", "auth_addr_lock_failures=1000"])
    clock = os.path.join(srv.workdir, "clock")

    def set_clock(secs):
        with open(clock, "w") as f:
            f.write("%d\n" % secs)
    set_clock(0)
    srv.env["COFFER_TEST_CLOCK_FILE"] = clock
    srv.start()
    name = uniq("u")
    mkuser(srv, name)
    bad = "wrong password again"
    # Six counted failures, each well past any delay: the next attempt
    # must wait 2**(6-2) = 16 s after the sixth.
    for t in (0, 0, 100, 200, 300, 400):
        set_clock(t)
        r = login(srv, name, bad)
        assert r.status_code == 401, r.text
    set_clock(408)
    r = login(srv, name, bad)
    assert r.status_code == 429 and err_code(r) == "too_many_attempts"
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= 8, r.headers
    # Exactly when told: counted again (401), not refused.
    set_clock(408 + wait)
    r = login(srv, name, bad)
    assert r.status_code == 401, (wait, r.status_code, r.text)


def test_lockout_per_user(make_server, uniq):
    srv = lock_server(make_server, LOCK_ARGS)
    name = uniq("u")
    mkuser(srv, name)
    seen = fail_until_locked(srv, lambda i: name)
    codes = [(r.status_code, err_code(r)) for r in seen]
    # auth_free_failures=2, auth_lock_failures=4: the first two failures
    # are counted without delay; after the k-th (k = 2, 3) the next
    # attempt must wait 2**(k-2) s, and the clock stands still until the
    # test moves it by the Retry-After, so each delay is seen exactly
    # once; the answer after the fourth counted failure is the lock.
    bad = (401, "invalid_credentials")
    assert codes == [bad, bad, (429, "too_many_attempts"), bad,
                     (429, "too_many_attempts"), bad,
                     (429, "locked")], codes
    assert [int(r.headers["Retry-After"]) for r in seen
            if err_code(r) == "too_many_attempts"] == [1, 2]
    # Locked: even the right password is refused.
    r = login(srv, name)
    assert r.status_code == 429 and err_code(r) == "locked"
    # Audited.
    assert srv.wait_audit(lambda a: a.get("action") == "session:login" and
                          "lock" in str(a.get("result"))) is not None
    # Still locked one second before auth_lock_seconds (4) have passed
    # since the lock, let in after.
    advance(srv, 3)
    assert err_code(login(srv, name)) == "locked"
    advance(srv, 2)
    r = login(srv, name)
    assert r.status_code == 201, r.text
    # The success reset the counter: one failure is plain 401 again.
    assert login(srv, name, "wrong password again").status_code == 401


def test_lockout_unknown_user_same_as_known(make_server, uniq):
    srv = lock_server(make_server, LOCK_ARGS)
    ghost = uniq("ghost")
    seen = fail_until_locked(srv, lambda i: ghost, PW)
    assert seen[-1].status_code == 429


ADDR_LOCK_ARGS = LOCK_ARGS + ["--set", "auth_addr_free_failures=2",
                              "--set", "auth_addr_lock_failures=4"]


def test_lockout_per_address(make_server, uniq):
    srv = lock_server(make_server, ADDR_LOCK_ARGS)
    victim = uniq("u")
    mkuser(srv, victim)
    # A spray over many names from one address: every name is new, so only
    # the address counter grows: delays after 2 failures, lock at 4.
    seen = fail_until_locked(srv, lambda i: "%s-spray-%d" % (victim, i))
    assert "too_many_attempts" in [err_code(x) for x in seen], \
        [(x.status_code, err_code(x)) for x in seen]
    # The address is locked, whoever the user is.
    r = login(srv, victim)
    assert r.status_code == 429, r.text
    assert srv.wait_audit(lambda a: a.get("action") == "session:login" and
                          "lock" in str(a.get("result"))) is not None


# ---- scoped tokens and service accounts ----

def test_scoped_token_cannot_exceed_scope(server, uniq):
    a, b = uniq("sc"), uniq("sc")
    server.mkns(a)
    server.mkns(b)
    name = uniq("u")
    mkuser(server, name, role="writer", ns=a)
    server.grant(name, "writer", b)
    assert server.put_obj(a, "k", b"data").status_code == 201
    assert server.put_obj(b, "k", b"data").status_code == 201
    r = server.post("/v1/tokens", {
        "principal": name, "expires_in": 3600,
        "scope": {"actions": ["object:get", "object:list"],
                  "namespaces": [a]}})
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    assert server.get_obj(a, "k", token=tok).status_code == 200
    assert server.get("/v1/ns/%s/objects" % a, token=tok).status_code == 200
    assert server.put_obj(a, "k2", b"x", token=tok).status_code == 403
    assert server.get_obj(b, "k", token=tok).status_code == 403
    assert server.req("DELETE", "/v1/ns/%s/objects/k" % a,
                      token=tok).status_code == 403
    # Listing namespaces is an action of its own: not in this scope.
    assert server.get("/v1/ns", token=tok).status_code == 403
    r = server.post("/v1/tokens", {
        "principal": name, "expires_in": 3600,
        "scope": {"actions": ["ns:list"], "namespaces": [a]}})
    assert r.status_code == 201, r.text
    r = server.get("/v1/ns", token=r.json()["token"])
    assert r.status_code == 200, r.text
    assert [x["name"] for x in r.json()["namespaces"]] == [a]


def test_bindings_per_principal_are_capped(server, uniq):
    """A namespace owner cannot bind a principal (an admin, say) on so
    many namespaces that its authentication fails: binding:create
    refuses beyond 48 stored bindings."""
    owner = uniq("own")
    mkuser(server, owner)
    nss = []
    for _i in range(17):
        n = uniq("capns")
        server.mkns(n)
        server.grant(owner, "owner", n)
        nss.append(n)
    otok, _ = server.mfa_session(owner, PW)   # granting needs MFA
    victim = uniq("vic")
    mkuser(server, victim, role="admin")
    vtok = server.token(victim)["token"]
    codes = []
    for n in nss:
        for role in ("reader", "writer", "owner"):
            r = server.post("/v1/bindings", {"principal": victim,
                                             "role": role, "ns": n},
                            token=otok)
            codes.append(r.status_code)
            if r.status_code != 201:
                assert r.status_code == 400, r.text
                assert r.json()["error"]["code"] == "too_many_bindings"
    assert codes.count(201) == 47, codes     # + the global admin one
    # Re-adding an existing binding is still fine; the victim still works.
    r = server.post("/v1/bindings", {"principal": victim, "role": "reader",
                                     "ns": nss[0]}, token=otok)
    assert r.status_code == 201, r.text
    r = server.get("/v1/whoami", token=vtok)
    assert r.status_code == 200, r.text
    assert len(r.json()["bindings"]) == 48
    assert server.get("/v1/ns", token=vtok).status_code == 200


def test_scoped_token_cannot_exceed_owner(server, uniq, ns):
    name = uniq("u")
    mkuser(server, name, role="reader", ns=ns)
    r = server.post("/v1/tokens", {
        "principal": name, "scope": {"actions": ["object:put",
                                                 "ns:create"]}})
    if r.status_code == 201:
        tok = r.json()["token"]
        assert server.put_obj(ns, "k", b"x", token=tok).status_code == 403
        assert server.post("/v1/ns", {"name": uniq("nsx")},
                           token=tok).status_code == 403
    else:
        assert r.status_code in (400, 403), r.text


def test_scope_bad_input(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    for scope in ({"actions": ["object:steal"]}, {"actions": "object:get"},
                  {"namespaces": [5]}, {"actions": ["x" * 5000]},
                  {"actions": ["object:get"] * 5000}, "all", {"bogus": []}):
        r = server.post("/v1/tokens", {"principal": name, "scope": scope})
        assert r.status_code in (400, 413), (scope, r.text)


def test_user_creates_own_scoped_token(server, uniq, ns):
    name = uniq("u")
    mkuser(server, name, role="writer", ns=ns)
    tok = session(server, name)
    r = server.post("/v1/tokens", {"principal": name, "expires_in": 600,
                                   "scope": {"actions": ["object:get"]}},
                    token=tok)
    assert r.status_code == 201, r.text
    other = uniq("u")
    mkuser(server, other)
    r = server.post("/v1/tokens", {"principal": other}, token=tok)
    assert r.status_code == 403


def test_service_accounts_need_owner_and_expiry(server, uniq, ns):
    owner, stranger = uniq("u"), uniq("u")
    mkuser(server, owner, role="writer", ns=ns)
    mkuser(server, stranger)
    svc = uniq("ci")
    r = server.post("/v1/principals", {"name": svc, "kind": "service"})
    assert r.status_code == 400, r.text
    r = server.post("/v1/principals", {"name": svc, "kind": "service",
                                       "owner": uniq("nobody")})
    assert r.status_code in (400, 404), r.text
    r = server.post("/v1/principals", {"name": svc, "kind": "service",
                                       "owner": owner})
    assert r.status_code == 201, r.text
    server.grant(svc, "reader", ns)
    # Tokens of a service account must expire.
    r = server.post("/v1/tokens", {"principal": svc})
    assert r.status_code == 400, r.text
    r = server.post("/v1/tokens", {"principal": svc, "expires_in": 600})
    assert r.status_code == 201, r.text
    assert r.json()["expires"]
    assert whoami(server, r.json()["token"]).json()["principal"] == svc
    # The owner may mint tokens for it; a stranger may not.
    otok = session(server, owner)
    r = server.post("/v1/tokens", {"principal": svc, "expires_in": 600},
                    token=otok)
    assert r.status_code == 201, r.text
    stok = session(server, stranger)
    r = server.post("/v1/tokens", {"principal": svc, "expires_in": 600},
                    token=stok)
    assert r.status_code == 403, r.text
    # Service accounts cannot log in with a password.
    assert login(server, svc, PW).status_code == 401


def test_expired_api_token_refused(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    tok = server.token(name, expires_in=1)["token"]
    assert whoami(server, tok).status_code == 200
    time.sleep(2.2)
    r = whoami(server, tok)
    assert r.status_code == 401 and err_code(r) == "unauthenticated"


# ---- the CLI ----

@pytest.fixture
def icli(server, tmp_path):
    return Cli(server, tmp_path / "home")


def cli_login(icli, name, password=PW, *extra):
    return run_cli(icli, "login", "--server", icli.server.url, "--ca-cert",
                   icli.server.ca, "--user", name, "--password-stdin",
                   *extra, token=None, input=password + "\n")


def test_cli_user_commands(server, icli, uniq):
    name = uniq("cu")
    p = run_cli(icli, "user", "create", name, "--password-stdin",
                input=PW + "\n")
    assert p.returncode == EXIT_OK, p.stderr
    assert PW not in p.stdout + p.stderr
    p = run_cli(icli, "user", "create", uniq("cu"), "--password-stdin",
                input="short\n")
    assert p.returncode == EXIT_INPUT, p.stderr
    assert "weak_password" in p.stderr
    # No terminal and no --password-stdin: a clear error, no prompt.
    p = run_cli(icli, "user", "create", uniq("cu"))
    assert p.returncode != EXIT_OK
    assert "terminal" in p.stderr
    users = json.loads(run_cli(icli, "user", "ls", "--json").stdout)
    assert any(u["name"] == name for u in users["users"])
    p = run_cli(icli, "user", "ls")
    assert name in p.stdout and "PASSWORD" in p.stdout
    assert run_cli(icli, "user", "disable", name).returncode == EXIT_OK
    assert cli_login(icli, name).returncode == EXIT_AUTH
    assert run_cli(icli, "user", "enable", name).returncode == EXIT_OK
    assert cli_login(icli, name).returncode == EXIT_OK
    # Admin reset (one line), then own change (current, new).
    p = run_cli(icli, "user", "passwd", name, "--password-stdin",
                input=PW2 + "\n")
    assert p.returncode == EXIT_OK, p.stderr
    assert login(server, name, PW2).status_code == 201
    assert cli_login(icli, name, PW2).returncode == EXIT_OK
    p = run_cli(icli, "user", "passwd", "--password-stdin", token=None,
                input=PW2 + "\n" + PW + "\n")
    assert p.returncode == EXIT_OK, p.stderr
    assert "password changed" in p.stdout
    assert login(server, name, PW).status_code == 201
    p = run_cli(icli, "user", "require-mfa", name)
    assert p.returncode == EXIT_OK, p.stderr
    u = {x["name"]: x for x in server.get("/v1/users").json()["users"]}
    assert u[name]["mfa_required"] is True
    assert run_cli(icli, "user", "require-mfa", name,
                   "--off").returncode == EXIT_OK
    u = {x["name"]: x for x in server.get("/v1/users").json()["users"]}
    assert u[name]["mfa_required"] is False
    assert run_cli(icli, "user", "bogus").returncode == EXIT_USAGE


def test_cli_login_logout(server, icli, uniq):
    name = uniq("cu")
    mkuser(server, name)
    p = cli_login(icli, name)
    assert p.returncode == EXIT_OK, p.stderr
    assert "session expires" in p.stdout
    cfg = os.path.join(icli.home, ".config", "coffer", "config.json")
    assert os.stat(cfg).st_mode & 0o777 == 0o600
    with open(cfg) as f:
        saved = json.load(f)
    assert saved["token"].startswith("cfs_")
    tok = saved["token"]
    # The saved session is used (no COFFER_TOKEN / COFFER_SERVER).
    p = run_cli(icli, "whoami", "--json", token=None,
                env={"COFFER_SERVER": "", "COFFER_CA_CERT": ""})
    assert p.returncode == EXIT_OK, p.stderr
    assert json.loads(p.stdout)["principal"] == name
    p = run_cli(icli, "logout", token=None)
    assert p.returncode == EXIT_OK, p.stderr
    assert "revoked" in p.stdout
    with open(cfg) as f:
        assert "token" not in json.load(f)
    assert whoami(server, tok).status_code == 401
    # Wrong password: exit 3, nothing saved; no password echoed.
    p = cli_login(icli, name, "not the password")
    assert p.returncode == EXIT_AUTH
    assert "not the password" not in p.stdout + p.stderr
    with open(cfg) as f:
        assert "token" not in json.load(f)
    # No terminal and no --password-stdin.
    p = run_cli(icli, "login", "--server", server.url, "--user", name,
                token=None)
    assert p.returncode != EXIT_OK and "terminal" in p.stderr
    p = run_cli(icli, "login", "--server", server.url, token=None)
    assert p.returncode == EXIT_USAGE


def test_cli_mfa_enroll_login_and_stepup(server, icli, uniq, ns):
    name = uniq("cu")
    mkuser(server, name, role="writer", ns=ns)
    assert cli_login(icli, name).returncode == EXIT_OK
    p = run_cli(icli, "mfa", "enroll", "--json", token=None)
    assert p.returncode == EXIT_OK, p.stderr
    e = json.loads(p.stdout)
    t = Totp(e["secret"])
    p = run_cli(icli, "mfa", "confirm", "--code", t.wrong(), token=None)
    assert p.returncode == EXIT_AUTH
    p = run_cli(icli, "mfa", "confirm", "--code", t.fresh(), token=None)
    assert p.returncode == EXIT_OK, p.stderr
    # Login now needs a code: without one (and no terminal) it fails
    # cleanly; with --code it works; a replayed code fails.
    p = cli_login(icli, name)
    assert p.returncode == EXIT_AUTH and "--code" in p.stderr
    code = t.fresh()
    p = cli_login(icli, name, PW, "--code", code)
    assert p.returncode == EXIT_OK, p.stderr
    assert "with multi-factor" in p.stdout
    p = cli_login(icli, name, PW, "--code", code)
    assert p.returncode == EXIT_AUTH
    p = cli_login(icli, name, PW, "--recovery-code", e["recovery_codes"][3])
    assert p.returncode == EXIT_OK, p.stderr


def test_cli_lost_phone(server, icli, uniq):
    """The documented lost-phone procedure, with the CLI: log in with a
    recovery code, mfa disable with another one, enroll again."""
    name = uniq("cu")
    mkuser(server, name)
    assert cli_login(icli, name).returncode == EXIT_OK
    p = run_cli(icli, "mfa", "enroll", "--json", token=None)
    assert p.returncode == EXIT_OK, p.stderr
    e = json.loads(p.stdout)
    rec = e["recovery_codes"]
    p = run_cli(icli, "mfa", "confirm", "--code", Totp(e["secret"]).fresh(),
                token=None)
    assert p.returncode == EXIT_OK, p.stderr
    p = cli_login(icli, name, PW, "--recovery-code", rec[0])
    assert p.returncode == EXIT_OK, p.stderr
    assert "with multi-factor" in p.stdout

    def disable(*extra):
        return run_cli(icli, "mfa", "disable", "--password-stdin", *extra,
                       token=None, input=PW + "\n")
    # What the docs review tried: a recovery code is not a --code; the
    # CLI says where it goes.
    p = disable("--code", rec[1])
    assert p.returncode == EXIT_AUTH, p.stderr
    assert "--recovery-code" in p.stderr
    p = disable("--code", "123456", "--recovery-code", rec[1])
    assert p.returncode == EXIT_USAGE, p.stderr
    p = disable("--recovery-code", rec[0])
    assert p.returncode == EXIT_AUTH, p.stderr
    assert "invalid" in p.stderr
    p = disable("--recovery-code", rec[1])
    assert p.returncode == EXIT_OK, p.stderr
    assert "multi-factor authentication is off" in p.stdout
    assert rec[1] not in p.stdout + p.stderr
    p = run_cli(icli, "mfa", "enroll", "--json", token=None)
    assert p.returncode == EXIT_OK, p.stderr
    t2 = Totp(json.loads(p.stdout)["secret"])
    p = run_cli(icli, "mfa", "confirm", "--code", t2.fresh(), token=None)
    assert p.returncode == EXIT_OK, p.stderr
    p = cli_login(icli, name, PW, "--code", t2.fresh())
    assert p.returncode == EXIT_OK, p.stderr
    assert "with multi-factor" in p.stdout
    p = run_cli(icli, "mfa", "enroll", "--recovery-code", rec[2],
                token=None)
    assert p.returncode == EXIT_USAGE
    p = run_cli(icli, "mfa", "--help", token=None)
    assert "--recovery-code" in p.stdout


def test_cli_stepup_retries_request(server, icli, uniq, ns, tmp_path):
    name = uniq("cu")
    mkuser(server, name, role="writer", ns=ns)
    # Session without MFA, then MFA enrolled, then the user flagged.
    assert cli_login(icli, name).returncode == EXIT_OK
    t, _rec = enroll(server, session(server, name))
    server.post("/v1/users/%s/mfa-required" % name, {"required": True})
    try:
        # No code, no terminal: exit 3 naming the way out.
        p = run_cli(icli, "ls", ns, token=None)
        assert p.returncode == EXIT_AUTH
        assert "mfa_required" in p.stderr and "--code" in p.stderr
        # A wrong code: the step-up fails, exit 3.
        p = run_cli(icli, "ls", ns, "--code", t.wrong(), token=None)
        assert p.returncode == EXIT_AUTH
        # --code: step-up, then the listing is retried and succeeds.
        p = run_cli(icli, "ls", ns, "--code", t.fresh(), token=None)
        assert p.returncode == EXIT_OK, p.stderr
        # The session now has MFA: no code needed any more.
        f = tmp_path / "up.bin"
        f.write_bytes(b"payload")
        p = run_cli(icli, "put", "%s/k" % ns, f, token=None)
        assert p.returncode == EXIT_OK, p.stderr
    finally:
        server.post("/v1/users/%s/mfa-required" % name, {"required": False})


def cli_user_without_mfa_session(server, icli, name, ns):
    """A user logged in through the CLI with a session made before MFA was
    enrolled (so the session has none); returns the user's Totp."""
    mkuser(server, name, role="writer", ns=ns)
    assert cli_login(icli, name).returncode == EXIT_OK
    t, _rec = enroll(server, session(server, name))
    return t


def test_cli_stepup_upload_from_pipe_and_file(server, icli, uniq, tmp_path):
    bns = uniq("sns")
    server.mkns(bns)
    t = cli_user_without_mfa_session(server, icli, uniq("cu"), bns)
    r = server.post("/v1/roles/writer/mfa-required", {"required": True})
    assert r.status_code == 200, r.text
    try:
        # A pipe cannot be replayed: the step-up happens (code from the
        # environment), the upload does not, and the message says to run
        # it again.
        p = run_cli(icli, "put", "%s/piped" % bns, "-", token=None,
                    input="from a pipe", env={"COFFER_MFA_CODE": t.fresh()})
        assert p.returncode == EXIT_AUTH, p.stderr
        assert "again" in p.stderr
        assert server.get_obj(bns, "piped").status_code == 404
        # Now the session has MFA: the same upload goes through.
        p = run_cli(icli, "put", "%s/piped" % bns, "-", token=None,
                    input="from a pipe")
        assert p.returncode == EXIT_OK, p.stderr
        # A file is sent again after the step-up (another user whose
        # session has no MFA).
        icli2 = Cli(server, tmp_path / "home2")
        t2 = cli_user_without_mfa_session(server, icli2, uniq("cu"), bns)
        f = tmp_path / "model.bin"
        f.write_bytes(os.urandom(300000))
        p = run_cli(icli2, "put", "%s/file" % bns, f, "--code", t2.fresh(),
                    token=None)
        assert p.returncode == EXIT_OK, p.stderr
        # Downloads are retried too (a third session without MFA).
        icli3 = Cli(server, tmp_path / "home3")
        t3 = cli_user_without_mfa_session(server, icli3, uniq("cu"), bns)
        out = tmp_path / "back.bin"
        p = run_cli(icli3, "get", "%s/file" % bns, out, "--code",
                    t3.fresh(), token=None)
    finally:
        server.post("/v1/roles/writer/mfa-required", {"required": False})
    assert p.returncode == EXIT_OK, p.stderr
    assert out.read_bytes() == f.read_bytes()
    assert server.get_obj(bns, "file").content == f.read_bytes()


def test_cli_stepup_upload_from_stdin_at_an_offset(server, icli, uniq,
                                                   tmp_path):
    # Standard input is a file already partly read: the upload retried
    # after the step-up starts again where the first began, not at 0.
    bns = uniq("sns")
    server.mkns(bns)
    t = cli_user_without_mfa_session(server, icli, uniq("cu"), bns)
    data = os.urandom(300000)
    f = tmp_path / "model.bin"
    f.write_bytes(data)
    r = server.post("/v1/roles/writer/mfa-required", {"required": True})
    assert r.status_code == 200, r.text
    try:
        with open(f, "rb") as fh:
            fh.seek(1000)
            p = run_cli(icli, "put", "%s/offset" % bns, "-", "--code",
                        t.fresh(), token=None, stdin=fh)
    finally:
        server.post("/v1/roles/writer/mfa-required", {"required": False})
    assert p.returncode == EXIT_OK, p.stderr
    assert server.get_obj(bns, "offset").content == data[1000:]


def test_cli_lockout_exit_code(make_server, tmp_path, uniq):
    srv = lock_server(make_server, LOCK_ARGS)
    c = Cli(srv, tmp_path / "home")
    name = uniq("cu")
    mkuser(srv, name)
    codes = []
    for _ in range(12):
        p = cli_login(c, name, "wrong password again")
        codes.append(p.returncode)
        if p.returncode == EXIT_LIMITED and "locked" in p.stderr:
            break
        if p.returncode == EXIT_LIMITED:
            assert "retry after" in p.stderr
            advance(srv, 2)
    assert EXIT_LIMITED in codes, codes
    assert set(codes) <= {EXIT_AUTH, EXIT_LIMITED}


def test_cli_scoped_token_and_service_account(server, icli, uniq, ns):
    owner = uniq("cu")
    mkuser(server, owner, role="writer", ns=ns)
    server.put_obj(ns, "k", b"data")
    p = run_cli(icli, "token", "create", owner, "--scope-action",
                "object:get", "--scope-action", "object:list", "--scope-ns",
                ns, "--expires", "1h")
    assert p.returncode == EXIT_OK, p.stderr
    tok = p.stdout.strip()
    assert server.get_obj(ns, "k", token=tok).status_code == 200
    assert server.put_obj(ns, "k", b"x", token=tok).status_code == 403
    svc = uniq("ci")
    p = run_cli(icli, "principal", "create", svc, "--service")
    assert p.returncode == EXIT_INPUT, p.stderr
    p = run_cli(icli, "principal", "create", svc, "--owner", owner)
    assert p.returncode == EXIT_USAGE
    p = run_cli(icli, "principal", "create", svc, "--service", "--owner",
                owner)
    assert p.returncode == EXIT_OK, p.stderr
    p = run_cli(icli, "token", "create", svc)
    assert p.returncode == EXIT_INPUT, p.stderr
    p = run_cli(icli, "token", "create", svc, "--expires", "2h")
    assert p.returncode == EXIT_OK, p.stderr
    assert p.stdout.strip().startswith("cft_")


def test_cli_user_mfa_reset(server, icli, uniq):
    name = uniq("cu")
    mkuser(server, name)
    enroll(server, session(server, name))
    p = run_cli(icli, "user", "mfa-reset", name)
    assert p.returncode == EXIT_OK, p.stderr
    assert "reset" in p.stdout
    u = {x["name"]: x for x in server.get("/v1/users").json()["users"]}
    assert u[name]["mfa_enabled"] is False
    assert login(server, name).status_code == 201
    p = run_cli(icli, "user", "mfa-reset", name, "--json")
    assert p.returncode == EXIT_OK, p.stderr
    assert json.loads(p.stdout)["mfa_enabled"] is False
    p = run_cli(icli, "user", "mfa-reset", uniq("nobody"))
    assert p.returncode == EXIT_NOTFOUND, p.stderr
    p = run_cli(icli, "user", "mfa-reset", name,
                token=server.token(name)["token"])
    assert p.returncode == EXIT_DENIED, p.stderr
    assert run_cli(icli, "user", "mfa-reset").returncode == EXIT_USAGE
    p = run_cli(icli, "user", "mfa-reset", "--help")
    assert p.returncode == EXIT_OK and "mfa-reset NAME" in p.stdout


def test_cli_role_require_mfa(server, icli):
    p = run_cli(icli, "role", "require-mfa", "reader")
    assert p.returncode == EXIT_OK, p.stderr
    try:
        assert "required" in p.stdout
    finally:
        p = run_cli(icli, "role", "require-mfa", "reader", "--off")
    assert p.returncode == EXIT_OK, p.stderr
    assert run_cli(icli, "role", "nope").returncode == EXIT_USAGE


# ---- hardening (issue 4 follow-up) ----

def test_code_for_user_without_mfa_refused(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    # Only after the password: a wrong one still says invalid_credentials.
    r = login(server, name, "wrong password entirely", code="123456")
    assert r.status_code == 401 and err_code(r) == "invalid_credentials"
    r = login(server, name, code="123456")
    assert r.status_code == 400 and err_code(r) == "bad_request", r.text
    assert "no MFA" in r.json()["error"]["message"]
    assert "token" not in r.json()
    r = login(server, name, recovery="aaaa-bbbb-cccc-dddd")
    assert r.status_code == 400, r.text
    assert login(server, name).status_code == 201


def test_admin_role_flag_needs_mfa(server, uniq):
    # An admin API token (no MFA) cannot flag admin.
    r = server.post("/v1/roles/admin/mfa-required", {"required": True},
                    token="admin-api")
    assert r.status_code == 400 and err_code(r) == "bad_request", r.text
    assert "MFA" in r.json()["error"]["message"]
    assert server.get("/v1/users", token="admin-api").status_code == 200
    # An admin with an MFA session can, and can clear it again.
    name = uniq("adm")
    mkuser(server, name, role="admin")
    tok = session(server, name)
    r = server.post("/v1/roles/admin/mfa-required", {"required": True},
                    token=tok)
    assert r.status_code in (400, 401), r.text
    t, _ = enroll(server, tok)
    mtok = session(server, name, code=t.fresh())
    try:
        r = server.post("/v1/roles/admin/mfa-required", {"required": True},
                        token=mtok)
        assert r.status_code == 200, r.text
        r = server.get("/v1/users", token="admin-api")
        assert r.status_code == 401 and err_code(r) == "mfa_required"
    finally:
        r = server.post("/v1/roles/admin/mfa-required", {"required": False},
                        token=mtok)
    assert r.status_code == 200, r.text
    assert server.get("/v1/users").status_code == 200


def test_password_reset_and_disable_end_sessions(server, uniq):
    name = uniq("u")
    mkuser(server, name)
    s1, s2 = session(server, name), session(server, name)
    r = server.post("/v1/tokens", {"principal": name}, token=s1)
    assert r.status_code == 201, r.text
    api = r.json()["token"]
    # Own change: the other sessions end, this one and API tokens stay.
    r = server.post("/v1/users/%s/password" % name,
                    {"password": PW2, "current_password": PW}, token=s1)
    assert r.status_code == 200, r.text
    assert whoami(server, s2).status_code == 401
    assert whoami(server, s1).status_code == 200
    assert whoami(server, api).status_code == 200
    # Admin reset: every session ends.
    r = server.post("/v1/users/%s/password" % name, {"password": PW})
    assert r.status_code == 200, r.text
    assert whoami(server, s1).status_code == 401
    assert whoami(server, api).status_code == 200
    # Disable, enable: the API token is back, the session is not.
    s3 = session(server, name)
    assert server.post("/v1/users/%s/disable" % name).status_code == 200
    assert whoami(server, api).status_code == 401
    assert server.post("/v1/users/%s/enable" % name).status_code == 200
    assert whoami(server, api).status_code == 200
    assert whoami(server, s3).status_code == 401


def test_token_cannot_add_first_password_or_mfa(server, uniq):
    """A leaked API token of a passwordless account (token-only or OIDC)
    must not be able to add a password, then MFA, and so keep the
    account after the token is revoked: an admin sets the first password,
    and MFA is enrolled from a password session only."""
    name = uniq("u")
    assert server.post("/v1/users", {"name": name}).status_code == 201
    r = server.post("/v1/tokens", {"principal": name})
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    r = server.post("/v1/users/%s/password" % name, {"password": PW},
                    token=tok)
    assert r.status_code == 403, r.text
    assert login(server, name).status_code == 401
    for path in ("/v1/mfa/enroll", "/v1/mfa/confirm"):
        r = server.post(path, {"code": "123456"}, token=tok)
        assert r.status_code == 403, (path, r.text)
    # Once an admin has set a password, the token still cannot enroll...
    r = server.post("/v1/users/%s/password" % name, {"password": PW})
    assert r.status_code == 200, r.text
    assert server.post("/v1/mfa/enroll", token=tok).status_code == 403
    # ...and a password session can.
    t, _rec = enroll(server, session(server, name))
    assert login(server, name, code=t.fresh()).status_code == 201


# ---- secrets do not linger in the server's memory ----

def memory_hits(pid, needles):
    """needle -> number of copies in the writable mappings of process pid
    (heap, thread stacks, anonymous memory; not the huge sanitizer
    shadow).  None if this user may not read the process's memory."""
    hits = {n: 0 for n in needles}
    try:
        with open("/proc/%d/maps" % pid) as f:
            maps = f.read().splitlines()
        fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY)
    except OSError:
        return None
    try:
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if not f[1].startswith("rw") or hi - lo > (1 << 30):
                continue
            try:
                data = os.pread(fd, hi - lo, lo)
            except OSError:
                continue
            for n in needles:
                hits[n] += data.count(n)
    except PermissionError:
        return None
    finally:
        os.close(fd)
    return hits


def test_secrets_wiped_from_server_memory(make_server):
    """Passwords in request bodies and the secrets of responses (a session
    token, an API token, a TOTP secret and recovery codes) leave no copy
    in the server's memory once answered: the body buffer wipes what it
    leaves behind as it grows, response bodies are wiped when sent, and
    the JSON objects that held them before they are freed.  Plain HTTP,
    so GnuTLS's record buffers (not ours) hold none of it; the connection
    stays open, so libmicrohttpd has cleared its buffers (it does between
    requests).  Freed memory keeps its contents under ASan (quarantine),
    which is where this is sharpest."""
    srv = make_server(insecure_http=True)
    name = "memwipe"
    pw = "pw-" + base64.b32encode(os.urandom(20)).decode()
    mkuser(srv, name, password=pw)
    # A body well over the buffer's first 64 bytes, so it grows (and
    # moves) several times with the password in it.
    body = json.dumps({"user": name, "password": pw,
                       "comment": "y" * 20000})
    r = srv.req("POST", "/v1/login", token=None, data=body,
                headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    r = srv.post("/v1/tokens", {"principal": name})
    assert r.status_code == 201, r.text
    api = r.json()["token"]
    r = srv.post("/v1/mfa/enroll", token=tok)
    assert r.status_code == 200, r.text
    enrolled = r.json()
    secrets = {"password": pw, "session token": tok, "API token": api,
               "TOTP secret": enrolled["secret"],
               "recovery code": enrolled["recovery_codes"][0]}
    time.sleep(0.3)     # the answers have left
    hits = memory_hits(srv.proc.pid, [s.encode() for s in
                                      secrets.values()])
    if hits is None:
        pytest.skip("cannot read the server's memory here")
    left = {k: hits[v.encode()] for k, v in secrets.items()
            if hits[v.encode()] > 0}
    assert not left, "copies left in server memory: %r" % left

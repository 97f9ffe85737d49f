"""tests/e2e/test_mfa_age.py: MFA has a maximum age per class of
requirement (issue 11; docs/authentication.md "How old MFA may be").

An OIDC token's MFA age comes from its auth_time (else iat), which a test
can set in the past: those tests are deterministic.  A session's MFA age
is real time since its step-up, so the session tests run a server with a
2-second limit and wait (polling whoami, never a fixed sleep compared with
a deadline) until the server itself reports the MFA older than that; the
only upper bound is the step-up and its retry by the CLI happening within
2 s of each other, in one process.
"""

import json
import os
import subprocess
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from conftest import (ADMIN_MFA_REFRESH, COFFER_BIN, EXIT_AUTH, EXIT_OK,
                      HTTP_TIMEOUT, SANITIZER_MARKERS, Cli, Totp,
                      refresh_admins)

PW = "correct horse battery staple"
ISSUER = "https://idp.example.test/realms/mfa-age"
AUDIENCE = "coffer"


def err(r):
    try:
        return r.json()["error"]
    except (ValueError, KeyError, TypeError):
        return {}


def assert_too_old(r, option, hint="POST /v1/session/mfa"):
    """r is the refusal of an MFA older than option allows."""
    assert r.status_code == 401, r.text
    e = err(r)
    assert e.get("code") == "mfa_required", r.text
    assert option in e["message"] and "old" in e["message"], r.text
    assert hint in e["message"], r.text


def wait_mfa_older(srv, tok, seconds):
    """Poll whoami until the server reports tok's MFA older than seconds
    (the per-test timeout bounds the wait)."""
    while True:
        r = srv.get("/v1/whoami", token=tok)
        assert r.status_code == 200, r.text
        assert r.json()["mfa"] is True, r.text
        if r.json()["mfa_age"] > seconds:
            return
        time.sleep(0.25)


def audit_deny(srv, action, reasons):
    return srv.wait_audit(lambda a: a.get("action") == action and
                          a.get("decision") == "deny" and
                          a.get("reasons") == reasons and
                          a.get("status") == 401)


def run_cli(cli, *args, token=None, env=None):
    """The CLI without a controlling terminal (no prompts)."""
    p = subprocess.run([COFFER_BIN] + [str(a) for a in args],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=HTTP_TIMEOUT,
                       env=cli.env(token, env), start_new_session=True)
    for m in SANITIZER_MARKERS:
        assert m not in p.stderr, "sanitizer report from CLI:\n" + p.stderr
    return p


def settings_token(cli):
    path = os.path.join(cli.home, ".config", "coffer", "config.json")
    with open(path) as f:
        return json.load(f)["token"]


# ---- sessions ----

def test_session_mfa_too_old_then_cli_steps_up(make_server, tmp_path, uniq):
    """An admin session whose MFA is older than mfa_max_age_admin is
    refused admin work like one without MFA (401 mfa_required, audited);
    the CLI steps up on its own, retries, and saves the replacement
    session in its settings file."""
    # 5 s: the CLI's step-up and its retry must land within the limit of
    # each other, on a loaded machine under ASan too (the wait below
    # polls, so the limit only sets how long the test takes).
    srv = make_server(["--set", "mfa_max_age_admin=5"])
    r = srv.post("/v1/users", {"name": "root", "password": PW})
    assert r.status_code == 201, r.text
    srv.grant("root", "admin")
    ns = uniq("open")
    srv.mkns(ns)
    cli = Cli(srv, tmp_path / "home")
    p = subprocess.run(
        [COFFER_BIN, "login", "--server", srv.url, "--ca-cert", srv.ca,
         "--user", "root", "--password-stdin"], input=PW + "\n",
        capture_output=True, text=True, timeout=HTTP_TIMEOUT,
        env=cli.env(None), start_new_session=True)
    assert p.returncode == EXIT_OK, p.stderr
    p = run_cli(cli, "mfa", "enroll", "--json")
    assert p.returncode == EXIT_OK, p.stderr
    t = Totp(json.loads(p.stdout)["secret"])
    p = run_cli(cli, "mfa", "confirm", "--code", t.fresh())
    assert p.returncode == EXIT_OK, p.stderr
    old = settings_token(cli)

    wait_mfa_older(srv, old, 5)
    r = srv.get("/v1/users", token=old)
    assert_too_old(r, "mfa_max_age_admin")
    assert audit_deny(srv, "user:list", "mfa too old (admin)") is not None
    # What needs no MFA still works with it: data, through the global
    # admin role, on a namespace that is not restricted.
    r = srv.get("/v1/ns/%s/objects" % ns, token=old)
    assert r.status_code == 200, r.text
    # The CLI without a code (and no terminal): exit 3, nothing changed.
    p = run_cli(cli, "user", "list")
    assert p.returncode == EXIT_AUTH, p.stderr
    assert "--code" in p.stderr and "new multi-factor" in p.stderr
    assert settings_token(cli) == old
    # With a code: step-up, the session is replaced and saved, and the
    # request is sent again.
    p = run_cli(cli, "user", "list", "--code", t.fresh())
    assert p.returncode == EXIT_OK, p.stderr
    assert "root" in p.stdout
    new = settings_token(cli)
    assert new != old and new.startswith("cfs_")
    assert srv.get("/v1/whoami", token=old).status_code == 401
    r = srv.get("/v1/whoami", token=new)
    assert r.status_code == 200 and r.json()["mfa"] is True, r.text


def test_restricted_session_too_old(make_server, uniq):
    """mfa_max_age_restricted is separate from the admin limit."""
    srv = make_server(["--set", "mfa_max_age_restricted=2"])
    ns = uniq("vault")
    r = srv.post("/v1/ns", {"name": ns, "sensitivity": "restricted"})
    assert r.status_code == 201, r.text
    r = srv.post("/v1/users", {"name": "bob", "password": PW})
    assert r.status_code == 201, r.text
    srv.grant("bob", "reader", ns)
    tok, totp = srv.mfa_session("bob", PW)
    wait_mfa_older(srv, tok, 2)
    r = srv.get("/v1/ns/%s/objects" % ns, token=tok)
    assert_too_old(r, "mfa_max_age_restricted")
    assert audit_deny(srv, "object:list",
                      "mfa too old (restricted data)") is not None
    r = srv.post("/v1/session/mfa", {"code": totp.fresh()}, token=tok)
    assert r.status_code == 200, r.text
    tok = r.json()["token"]
    r = srv.get("/v1/ns/%s/objects" % ns, token=tok)
    assert r.status_code == 200, r.text


def test_conftest_admin_steps_up_again(make_server):
    """The e2e admin (Server.req with the default token) steps up on its
    own when its MFA is too old, so long modules keep working; a copy of
    the token given explicitly gets the refusal."""
    srv = make_server(["--set", "mfa_max_age_admin=2"])
    old = srv.admin_token
    wait_mfa_older(srv, old, 2)
    assert_too_old(srv.get("/v1/users", token=old), "mfa_max_age_admin")
    r = srv.get("/v1/users")
    assert r.status_code == 200, r.text
    assert srv.admin_token != old


def test_conftest_refreshes_old_admin_before_tests(make_server):
    """Before each test, an admin session older than ADMIN_MFA_REFRESH
    (by the harness's own count) is stepped up; a young one is left."""
    srv = make_server()
    young = srv.admin_token
    refresh_admins()
    assert srv.admin_token == young
    srv.admin_mfa_at -= ADMIN_MFA_REFRESH + 1
    refresh_admins()
    assert srv.admin_token != young
    assert srv.get("/v1/whoami", token=young).status_code == 401
    assert srv.admin_mfa_age() < ADMIN_MFA_REFRESH
    assert srv.get("/v1/users").status_code == 200


# ---- OIDC: auth_time ----

@pytest.fixture
def oidc(make_server, tmp_path, uniq):
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "age-1", "use": "sig", "alg": "ES256"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    ns = uniq("vault")

    def start(*extra):
        srv = make_server([
            "--set", "oidc_issuer=" + ISSUER,
            "--set", "oidc_audience=" + AUDIENCE,
            "--set", "oidc_jwks_file=" + str(path),
            "--set", "oidc_provision=yes",
            "--set", "oidc_group_roles=ml-admins=admin,vault-readers="
            "reader@" + ns] + list(extra))
        r = srv.post("/v1/ns", {"name": ns, "sensitivity": "restricted"})
        assert r.status_code == 201, r.text
        return srv

    def token(groups, **claims):
        now = int(time.time())
        c = {"iss": ISSUER, "aud": AUDIENCE, "sub": "id-alice",
             "preferred_username": "alice", "iat": now, "nbf": now - 5,
             "exp": now + 3600, "groups": groups, "amr": ["pwd", "mfa"]}
        c.update(claims)
        c = {k: v for k, v in c.items() if v is not None}
        return jwt.encode(c, key, algorithm="ES256",
                          headers={"kid": "age-1"})

    return start, token, ns


def test_oidc_old_auth_time_refused(oidc):
    """A token issued now from a sign-in an hour ago (a refreshed token)
    carries hour-old MFA: refused for admin work and restricted data; a
    fresh sign-in is accepted.  Without auth_time, iat counts."""
    start, token, ns = oidc
    srv = start()
    hour_ago = int(time.time()) - 3600
    hint = "sign in again"
    r = srv.get("/v1/users", token=token(["ml-admins"], auth_time=hour_ago))
    assert_too_old(r, "mfa_max_age_admin", hint)
    assert audit_deny(srv, "user:list", "mfa too old (admin)") is not None
    r = srv.get("/v1/users", token=token(["ml-admins"],
                                         auth_time=int(time.time())))
    assert r.status_code == 200, r.text
    r = srv.get("/v1/users", token=token(["ml-admins"], iat=hour_ago,
                                         nbf=hour_ago))
    assert_too_old(r, "mfa_max_age_admin", hint)
    r = srv.get("/v1/ns/%s/objects" % ns,
                token=token(["vault-readers"], auth_time=hour_ago))
    assert_too_old(r, "mfa_max_age_restricted", hint)
    assert audit_deny(srv, "object:list",
                      "mfa too old (restricted data)") is not None
    r = srv.get("/v1/ns/%s/objects" % ns,
                token=token(["vault-readers"], auth_time=int(time.time())))
    assert r.status_code == 200, r.text


def test_oidc_limit_zero_is_no_limit(oidc):
    start, token, _ns = oidc
    srv = start("--set", "mfa_max_age_admin=0")
    day_ago = int(time.time()) - 86400
    r = srv.get("/v1/users", token=token(["ml-admins"], auth_time=day_ago))
    assert r.status_code == 200, r.text

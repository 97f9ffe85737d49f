"""tests/e2e/test_oidc.py: OIDC bearer tokens (docs/api.md "OIDC single
sign-on").

A small HTTP server on 127.0.0.1 (http.server in a thread) plays the
identity provider's JWKS endpoint with RSA, EC P-256 and Ed25519 keys the
test generates (python3-cryptography); tokens are signed with PyJWT
(python3-jwt), and the bad ones (alg none, HS256 keyed with the RSA public
key, tampered payloads) are assembled by hand.  If the server insists on an
https JWKS URL, the same JWKS is given as oidc_jwks_file instead (and the
key-rotation test is skipped).
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import threading
import time
import urllib.parse

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from conftest import COFFER_BIN, EXIT_AUTH, EXIT_OK, Cli, sanitizer_env

ISSUER = "https://idp.example.test/realms/ml"
AUDIENCE = "coffer"


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Key:
    def __init__(self, kind, kid):
        self.kind, self.kid = kind, kid
        if kind == "RS256":
            self.priv = rsa.generate_private_key(65537, 2048)
            jwk = RSAAlgorithm.to_jwk(self.priv.public_key())
        elif kind == "ES256":
            self.priv = ec.generate_private_key(ec.SECP256R1())
            jwk = ECAlgorithm.to_jwk(self.priv.public_key())
        else:
            self.priv = ed25519.Ed25519PrivateKey.generate()
            jwk = OKPAlgorithm.to_jwk(self.priv.public_key())
        self.jwk = json.loads(jwk)
        self.jwk.update({"kid": kid, "use": "sig", "alg": kind})

    @property
    def public_pem(self):
        return self.priv.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, claims, headers=None):
        h = {"kid": self.kid}
        h.update(headers or {})
        return jwt.encode(claims, self.priv, algorithm=self.kind, headers=h)


class Jwks:
    """The JWKS endpoint: keys can be swapped while it runs; hits counts
    the fetches."""

    def __init__(self, keys):
        self.keys = list(keys)
        self.hits = 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.split("?")[0] != "/jwks.json":
                    self.send_error(404)
                    return
                outer.hits += 1
                body = json.dumps(outer.document()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/jwks.json" % self.port

    def document(self):
        return {"keys": [k.jwk for k in self.keys]}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def keys():
    return {"RS256": Key("RS256", "rsa-1"), "ES256": Key("ES256", "ec-1"),
            "EdDSA": Key("EdDSA", "ed-1")}


@pytest.fixture
def jwks(keys):
    j = Jwks(keys.values())
    yield j
    j.close()


class Idp:
    """A coffer server configured for the test IdP."""

    def __init__(self, srv, jwks, keys, file_mode):
        self.srv, self.jwks, self.keys = srv, jwks, keys
        self.file_mode = file_mode

    def claims(self, user, **kw):
        now = int(time.time())
        c = {"iss": ISSUER, "aud": AUDIENCE, "sub": "id-" + user,
             "preferred_username": user, "iat": now, "nbf": now - 5,
             "exp": now + 300, "groups": []}
        c.update(kw)
        return {k: v for k, v in c.items() if v is not None}

    def token(self, user, alg="RS256", **kw):
        return self.keys[alg].sign(self.claims(user, **kw))

    def whoami(self, tok):
        return self.srv.get("/v1/whoami", token=tok)


def start_idp(make_server, jwks, keys, tmp_path, extra=()):
    ns_groups = "ml-admins=admin,ml-readers=reader@oidc-ns," \
                "ml-writers=writer@oidc-ns"
    base = ["--set", "oidc_issuer=" + ISSUER,
            "--set", "oidc_audience=" + AUDIENCE,
            "--set", "oidc_group_roles=" + ns_groups,
            "--set", "oidc_jwks_min_refresh=1"] + list(extra)
    srv = make_server(start=False,
                      extra_args=base + ["--set", "oidc_jwks_url=" +
                                         jwks.url])
    srv.use_test_clock()
    file_mode = False
    try:
        srv.start()
    except pytest.fail.Exception:
        # The server may require https for JWKS URLs: use a file.
        path = os.path.join(str(tmp_path), "jwks.json")
        with open(path, "w") as f:
            json.dump(jwks.document(), f)
        srv.extra_args = base + ["--set", "oidc_jwks_file=" + path]
        srv.proc = None
        srv.start()
        file_mode = True
    r = srv.post("/v1/ns", {"name": "oidc-ns"})
    assert r.status_code in (201, 409), r.text
    return Idp(srv, jwks, keys, file_mode)


def link(srv, name, subject, issuer=ISSUER, token="admin"):
    return srv.post("/v1/users/%s/oidc-links" % name,
                    {"issuer": issuer, "subject": subject}, token=token)


@pytest.fixture
def idp(make_server, jwks, keys, tmp_path):
    i = start_idp(make_server, jwks, keys, tmp_path)
    for name in ("alice", "bob", "root"):
        r = i.srv.post("/v1/principals", {"name": name, "kind": "user"})
        assert r.status_code == 201, r.text
        # Bound by (iss, sub), never by the name claim.
        r = link(i.srv, name, "id-" + name)
        assert r.status_code == 201, r.text
    return i


def err_code(r):
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


# ---- accepted ----

@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_valid_token_accepted(idp, alg):
    r = idp.whoami(idp.token("alice", alg))
    assert r.status_code == 200, r.text
    assert r.json()["principal"] == "alice"
    rec = idp.srv.wait_audit(lambda a: a.get("principal") == "alice" and
                             a.get("decision") == "allow")
    assert rec is not None
    assert "oidc" in str(rec.get("authn")), rec


def test_groups_map_to_roles(idp):
    tok = idp.token("alice", groups=["ml-readers", "unrelated"])
    assert idp.srv.put_obj("oidc-ns", "k", b"v").status_code == 201
    r = idp.srv.get_obj("oidc-ns", "k", token=tok)
    assert r.status_code == 200 and r.content == b"v"
    assert idp.srv.put_obj("oidc-ns", "k2", b"x",
                           token=tok).status_code == 403
    tok = idp.token("bob", groups=["ml-writers"])
    assert idp.srv.put_obj("oidc-ns", "k2", b"x", token=tok).status_code \
        == 201
    # No group, no role.
    tok = idp.token("bob")
    assert idp.srv.get_obj("oidc-ns", "k", token=tok).status_code == 403


def test_amr_mfa_and_admin_actions(idp):
    tok = idp.token("root", groups=["ml-admins"])
    r = idp.srv.post("/v1/ns", {"name": "oidc-admin-1"}, token=tok)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    tok = idp.token("root", groups=["ml-admins"], amr=["pwd", "otp"])
    r = idp.srv.post("/v1/ns", {"name": "oidc-admin-2"}, token=tok)
    assert r.status_code == 201, r.text
    tok = idp.token("root", groups=["ml-admins"], amr=["mfa"],
                    alg="ES256")
    r = idp.srv.post("/v1/ns", {"name": "oidc-admin-3"}, token=tok)
    assert r.status_code == 201, r.text
    rec = idp.srv.wait_audit(lambda a: a.get("action") == "ns:create" and
                             a.get("principal") == "root" and
                             a.get("mfa") is True)
    assert rec is not None


def test_mfa_age_counts_from_auth_time(idp):
    """The MFA happened at sign-in (auth_time), not when this token was
    issued (iat): a refreshed token does not make an old MFA fresh."""
    now = int(time.time())
    tok = idp.token("alice", amr=["mfa"], auth_time=now - 3000)
    r = idp.whoami(tok)
    assert r.status_code == 200, r.text
    assert 2990 <= r.json()["mfa_age"] <= 3100, r.json()
    tok = idp.token("alice", amr=["mfa"])      # no auth_time: iat
    assert idp.whoami(tok).json()["mfa_age"] <= 100
    tok = idp.token("alice", amr=["mfa"], auth_time=now + 3600)
    assert idp.whoami(tok).status_code == 401


def test_unknown_kid_refreshes_jwks(idp):
    # http:// is accepted for a literal loopback JWKS URL (docs/
    # coffer.conf.5.md), so the server must not have fallen back to a file.
    assert not idp.file_mode
    # The server's clock stands still (the test clock's frozen mode) and
    # moves only when told: "within oidc_jwks_min_refresh (1 s here) of
    # the last fetch" then means exactly that, however slow this host.
    t = int(time.time()) + 10
    idp.srv.freeze_clock(t)
    ghost = Key("RS256", "rsa-ghost")
    # Long after the start-up fetch: an unknown kid fetches once.
    before = idp.jwks.hits
    assert idp.whoami(ghost.sign(idp.claims("alice"))).status_code == 401
    assert idp.jwks.hits == before + 1
    assert idp.whoami(idp.token("alice")).status_code == 200
    new = Key("RS256", "rsa-2")
    idp.jwks.keys.append(new)
    tok = new.sign(idp.claims("alice"))
    # Within the interval an unknown kid triggers no fetch: refused, and
    # the IdP sees nothing.
    before = idp.jwks.hits
    r = idp.whoami(tok)
    assert r.status_code == 401, r.text
    assert idp.jwks.hits == before
    # Once the interval has passed, the unknown kid fetches the set again
    # and the new key works.
    idp.srv.freeze_clock(t + 2)
    r = idp.whoami(tok)
    assert r.status_code == 200, r.text
    assert idp.jwks.hits == before + 1
    # A kid that is nowhere, even after a refresh, is refused; a flood of
    # them costs one fetch per interval: here exactly one.
    idp.srv.freeze_clock(t + 4)
    hits = idp.jwks.hits
    for _ in range(5):
        r = idp.whoami(ghost.sign(idp.claims("alice")))
        assert r.status_code == 401
    assert idp.jwks.hits == hits + 1
    # Rotated out: the old key's tokens stop working after a refresh.
    old = idp.token("alice")
    assert idp.whoami(old).status_code == 200
    idp.jwks.keys = [k for k in idp.jwks.keys if k.kid != "rsa-1"]
    idp.srv.freeze_clock(t + 6)
    assert idp.whoami(Key("RS256", "rsa-3").sign(
        idp.claims("alice"))).status_code == 401
    assert idp.whoami(old).status_code == 401
    assert idp.whoami(tok).status_code == 200
    assert idp.srv.alive()


def test_unknown_user_refused(idp):
    r = idp.whoami(idp.token("mallory"))
    assert r.status_code == 401 and err_code(r) == "unauthenticated"
    names = [p["name"] for p in idp.srv.get("/v1/principals").json()[
        "principals"]]
    assert "mallory" not in names


def test_provisioning_creates_user(make_server, jwks, keys, tmp_path):
    idp = start_idp(make_server, jwks, keys, tmp_path,
                    ["--set", "oidc_provision=yes"])
    r = idp.whoami(idp.token("newbie", groups=["ml-readers"]))
    assert r.status_code == 200, r.text
    assert r.json()["principal"] == "newbie"
    names = [p["name"] for p in idp.srv.get("/v1/principals").json()[
        "principals"]]
    assert "newbie" in names
    # Provisioning has its own record, before the request's.
    recs = [x for x in idp.srv.audit_records()
            if x["request_id"] == r.headers["X-Request-Id"]]
    assert [x["action"] for x in recs] == ["user:provision", "whoami"]
    assert recs[0]["resource"] == "user/newbie"
    assert recs[0]["decision"] == "allow" and recs[0]["status"] == 201


def test_cli_uses_oidc_token(idp, tmp_path):
    c = Cli(idp.srv, tmp_path / "home")
    tok = idp.token("alice", groups=["ml-readers"])
    p = c("whoami", "--json", token=tok)
    assert p.returncode == EXIT_OK, p.stderr
    assert json.loads(p.stdout)["principal"] == "alice"
    p = c("whoami", token=idp.token("alice", exp=int(time.time()) - 600))
    assert p.returncode == EXIT_AUTH


# ---- identities are bound by (iss, sub) ----

def test_name_claim_never_takes_over_an_account(idp):
    """A token whose name claim is "admin" (or any existing user) is not
    that user: without a link it is refused, whatever its groups."""
    tok = idp.token("admin", sub="attacker", groups=["ml-admins"],
                    amr=["mfa"])
    r = refused(idp, tok)
    rec = idp.srv.wait_audit(
        lambda a: a.get("request_id") == r.headers["X-Request-Id"])
    assert rec["authn"] == "oidc-unlinked-subject", rec
    # alice's name with another subject: not alice.
    refused(idp, idp.token("alice", sub="someone-else"))


def test_provisioning_never_attaches_to_an_existing_name(
        make_server, jwks, keys, tmp_path):
    i = start_idp(make_server, jwks, keys, tmp_path,
                  ["--set", "oidc_provision=yes"])
    r = i.srv.post("/v1/users", {"name": "carol",
                                 "password": "e2e Violet kettle 93 drums"})
    assert r.status_code == 201, r.text
    for name in ("admin", "carol"):
        r = refused(i, i.token(name, sub="evil-" + name,
                               groups=["ml-admins"], amr=["mfa"]))
        rec = i.srv.wait_audit(
            lambda a: a.get("request_id") == r.headers["X-Request-Id"])
        assert rec["authn"] == "oidc-name-taken", rec
    # A newcomer is provisioned and linked; another subject with the same
    # name is then refused, the first one still works.
    assert i.whoami(i.token("newbie")).status_code == 200
    refused(i, i.token("newbie", sub="id-impostor"))
    assert i.whoami(i.token("newbie")).json()["principal"] == "newbie"
    users = {u["name"]: u for u in i.srv.get("/v1/users").json()["users"]}
    assert users["newbie"]["oidc_links"] == [
        {"issuer": ISSUER, "subject": "id-newbie"}]
    assert users["admin"]["oidc_links"] == []


def test_link_and_unlink(idp, tmp_path):
    srv = idp.srv
    assert srv.post("/v1/users", {"name": "dana"}).status_code == 201
    # SEC: linking hands out an account: the grant rule (no API token).
    r = link(srv, "dana", "sub-dana", token="admin-api")
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    # Not configured issuer, missing member, unknown user, no auth.
    r = link(srv, "dana", "sub-dana", issuer=ISSUER + "/")
    assert r.status_code == 400, r.text
    r = srv.post("/v1/users/dana/oidc-links", {"issuer": ISSUER})
    assert r.status_code == 400, r.text
    assert link(srv, "nobody", "x").status_code == 404
    assert link(srv, "dana", "x", token=None).status_code == 401
    refused(idp, idp.token("dana-at-idp", sub="sub-dana"))
    # The CLI links; the token (whatever its name claim) is dana.
    c = Cli(srv, tmp_path / "home")
    p = c("user", "link-oidc", "dana", "--issuer", ISSUER, "--subject",
          "sub-dana")
    assert p.returncode == EXIT_OK, p.stderr
    r = idp.whoami(idp.token("dana-at-idp", sub="sub-dana"))
    assert r.status_code == 200 and r.json()["principal"] == "dana"
    # Again: no error (200); to another user: 409.
    assert link(srv, "dana", "sub-dana").status_code == 200
    r = link(srv, "alice", "sub-dana")
    assert r.status_code == 409 and err_code(r) == "already_linked"
    rec = srv.wait_audit(lambda a: a.get("action") == "user:link-oidc" and
                         a.get("resource") == "user/dana/oidc-links" and
                         a.get("decision") == "allow")
    assert rec is not None
    # Unlink (CLI), then the token is refused.
    p = c("user", "unlink-oidc", "dana", "--issuer", ISSUER, "--subject",
          "sub-dana")
    assert p.returncode == EXIT_OK, p.stderr
    refused(idp, idp.token("dana-at-idp", sub="sub-dana"))
    r = srv.req("DELETE", "/v1/users/dana/oidc-links?issuer=%s&subject=x"
                % urllib.parse.quote(ISSUER, safe=""))
    assert r.status_code == 404 and err_code(r) == "no_such_link", r.text
    assert srv.alive()


# ---- refused ----

def forge(header, payload, signing_input_key=None, sig=b""):
    h = b64u(json.dumps(header, separators=(",", ":")))
    p = b64u(json.dumps(payload, separators=(",", ":")))
    if signing_input_key is not None:
        sig = hmac.new(signing_input_key, ("%s.%s" % (h, p)).encode(),
                       hashlib.sha256).digest()
    return "%s.%s.%s" % (h, p, b64u(sig))


def refused(idp, tok):
    r = idp.whoami(tok)
    assert r.status_code == 401, r.text
    assert err_code(r) == "unauthenticated", r.text
    assert "WWW-Authenticate" in r.headers
    return r


def test_expired(idp):
    now = int(time.time())
    refused(idp, idp.token("alice", exp=now - 3600, iat=now - 7200,
                           nbf=now - 7200))


def test_not_yet_valid(idp):
    now = int(time.time())
    refused(idp, idp.token("alice", nbf=now + 3600, exp=now + 7200))
    refused(idp, idp.token("alice", iat=now + 3600, nbf=None,
                           exp=now + 7200))


def test_missing_exp(idp):
    refused(idp, idp.token("alice", exp=None))


def test_wrong_audience(idp):
    refused(idp, idp.token("alice", aud="someone-else"))
    refused(idp, idp.token("alice", aud=["someone-else", "other"]))
    refused(idp, idp.token("alice", aud=None))


def test_wrong_issuer(idp):
    refused(idp, idp.token("alice", iss="https://evil.example.test/"))
    refused(idp, idp.token("alice", iss=ISSUER + "/"))
    refused(idp, idp.token("alice", iss=None))


def test_alg_none(idp):
    c = idp.claims("alice")
    refused(idp, forge({"alg": "none", "typ": "JWT"}, c))
    refused(idp, forge({"alg": "none", "kid": "rsa-1"}, c))
    refused(idp, forge({"alg": "None", "kid": "rsa-1"}, c))


def test_hs256_with_rsa_public_key(idp, keys):
    """Algorithm confusion: an HMAC keyed with the RSA public key (PEM and
    JWK forms) must never verify."""
    c = idp.claims("alice")
    pem = keys["RS256"].public_pem
    refused(idp, forge({"alg": "HS256", "kid": "rsa-1"}, c, pem))
    refused(idp, forge({"alg": "HS256", "kid": "rsa-1"}, c,
                       json.dumps(keys["RS256"].jwk).encode()))
    refused(idp, forge({"alg": "HS512", "kid": "rsa-1"}, c, pem))


def test_wrong_algorithm_for_key(idp, keys):
    # An ES256 header on the RSA key's kid, signed by the EC key.
    tok = jwt.encode(idp.claims("alice"), keys["ES256"].priv,
                     algorithm="ES256", headers={"kid": "rsa-1"})
    refused(idp, tok)
    # RS384 / PS256: not in the accepted list.
    for alg in ("RS384", "PS256"):
        tok = jwt.encode(idp.claims("alice"), keys["RS256"].priv,
                         algorithm=alg, headers={"kid": "rsa-1"})
        refused(idp, tok)


def test_tampered_payload(idp):
    tok = idp.token("alice", groups=["ml-readers"])
    h, p, s = tok.split(".")
    payload = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    payload["preferred_username"] = "root"
    payload["groups"] = ["ml-admins"]
    refused(idp, "%s.%s.%s" % (h, b64u(json.dumps(payload)), s))
    # A flipped signature bit.
    sig = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    sig[10] ^= 1
    refused(idp, "%s.%s.%s" % (h, p, b64u(bytes(sig))))
    # Signature stripped.
    refused(idp, "%s.%s." % (h, p))


def test_malformed(idp):
    for tok in ("a.b", "a.b.c.d", "...", "eyJ.eyJ.sig", "not-a-jwt",
                b64u("{}") + "." + b64u("{}") + ".", "%%%.%%%.%%%",
                b64u("[1,2]") + "." + b64u("{}") + "." + b64u("x"),
                b64u('{"alg":"RS256","kid":"rsa-1"}') + "." +
                b64u("not json") + "." + b64u("x")):
        r = idp.whoami(tok)
        assert r.status_code in (400, 401), (tok, r.text)
    assert idp.srv.alive()


def test_oversized_token(idp):
    # Within the 32 KiB connection buffer but over the 16 KiB head limit:
    # Coffer's JSON 431.
    r = idp.whoami(idp.token("alice", pad="x" * 18000))
    assert r.status_code == 431, r.status_code
    assert r.json()["error"]["code"] == "headers_too_large"
    # Beyond the buffer (a 200 KB claim; 5000 groups, ~40 KB): the HTTP
    # layer answers and closes without reading the rest, so the client
    # may see a reset instead (docs/api.md, "Errors").
    for tok in (idp.token("alice", pad="x" * 200000),
                idp.token("alice", groups=["g%d" % i for i in range(5000)])):
        try:
            r = idp.whoami(tok)
            assert r.status_code in (400, 401, 413, 414, 431), \
                r.status_code
        except requests.exceptions.ConnectionError:
            pass
    assert idp.srv.alive()
    assert idp.whoami(idp.token("alice")).status_code == 200


def test_username_claim_must_be_sane(idp):
    for bad in ("", "a" * 5000, 42, None, ["alice"]):
        r = idp.whoami(idp.token("alice", preferred_username=bad))
        assert r.status_code in (400, 401), (bad, r.text)
    # For a linked subject the name claim is display only: a strange one
    # names nobody (it is alice's sub that decides).
    r = idp.whoami(idp.token("alice", preferred_username="../../etc"))
    assert r.status_code == 200 and r.json()["principal"] == "alice"


def test_refusals_are_audited(idp):
    now = int(time.time())
    refused(idp, idp.token("alice", exp=now - 3600, iat=now - 7200,
                           nbf=now - 7200))
    rec = idp.srv.wait_audit(lambda a: a.get("decision") == "deny" and
                             a.get("status") == 401)
    assert rec is not None


def _flip_sig(tok):
    h, p, s = tok.split(".")
    sig = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    sig[10] ^= 1
    return "%s.%s.%s" % (h, p, b64u(bytes(sig)))


def _reason_token(idp, keys, reason):
    now = int(time.time())
    if reason == "expired":
        return idp.token("alice", exp=now - 3600, iat=now - 7200,
                         nbf=now - 7200)
    if reason == "not-yet-valid":
        return idp.token("alice", nbf=now + 3600, exp=now + 7200)
    if reason == "wrong-audience":
        return idp.token("alice", aud="someone-else")
    if reason == "wrong-issuer":            # no iss at all
        return idp.token("alice", iss=None)
    if reason == "unknown-issuer":
        return idp.token("alice", iss="https://evil.example.test/")
    if reason == "unknown-kid":
        return Key("RS256", "rsa-ghost").sign(idp.claims("alice"))
    if reason == "bad-signature":
        return _flip_sig(idp.token("alice"))
    if reason == "bad-alg":
        return forge({"alg": "HS256", "kid": "rsa-1"}, idp.claims("alice"),
                     keys["RS256"].public_pem)
    if reason == "malformed":
        return b64u("not json") + "." + b64u(json.dumps(
            idp.claims("alice"))) + "." + b64u("x")
    if reason == "bad-claim":
        return idp.token("alice", exp=None)
    if reason == "bad-username":
        return idp.token("alice", preferred_username=None)
    if reason == "unlinked-subject":
        return idp.token("mallory")
    raise AssertionError(reason)


@pytest.mark.parametrize("reason", [
    "expired", "not-yet-valid", "wrong-audience", "wrong-issuer",
    "unknown-issuer", "unknown-kid", "bad-signature", "bad-alg",
    "malformed", "bad-claim", "bad-username", "unlinked-subject"])
def test_refusal_reason_in_audit_record(idp, keys, reason):
    """docs/authentication.md: the audit record of a refused token says
    which rule failed (authn "oidc-<reason>"), while the answer stays the
    same 401 for all of them."""
    r = refused(idp, _reason_token(idp, keys, reason))
    rid = r.headers["X-Request-Id"]
    rec = idp.srv.wait_audit(lambda a: a.get("request_id") == rid)
    assert rec is not None, rid
    assert rec["authn"] == "oidc-" + reason, rec
    assert rec["decision"] == "deny" and rec["status"] == 401, rec
    assert rec.get("principal", "") == "", rec


# ---- several issuers (oidc_config_file) ----

ISSUER_B = "https://idp-b.example.test"


def test_two_issuers_via_config_file(make_server, jwks, keys, tmp_path):
    """Issuer A from the oidc_* options (JWKS by URL, keys "keys"), issuer
    B from oidc_config_file (its own key with the same kid as A's ES256
    key, in a file).  The token's iss picks the key set; a token of one
    issuer signed with the other's key is refused."""
    key_b = Key("ES256", "ec-1")
    jwks_b = os.path.join(str(tmp_path), "b.jwks.json")
    with open(jwks_b, "w") as f:
        json.dump({"keys": [key_b.jwk]}, f)
    conf = os.path.join(str(tmp_path), "issuers.json")
    with open(conf, "w") as f:
        json.dump([{"issuer": ISSUER_B, "audience": "coffer-b",
                    "jwks_file": jwks_b, "provision": True,
                    "group_roles": "b-admins=admin", "skew": 30}], f)
    i = start_idp(make_server, jwks, keys, tmp_path,
                  extra=["--set", "oidc_config_file=" + conf])
    assert i.srv.post("/v1/principals", {"name": "alice", "kind": "user"}
                      ).status_code == 201
    assert link(i.srv, "alice", "id-alice").status_code == 201
    assert link(i.srv, "alice", "id-alice", issuer=ISSUER_B).status_code \
        == 201
    # A: unchanged.
    assert i.whoami(i.token("alice", "ES256")).status_code == 200
    # B: its key, its audience, its provisioning and groups.
    cb = i.claims("carol", iss=ISSUER_B, aud="coffer-b",
                  groups=["b-admins"])
    r = i.whoami(key_b.sign(cb))
    assert r.status_code == 200, r.text
    assert r.json()["principal"] == "carol"
    assert any(b["role"] == "admin" for b in r.json()["bindings"])
    # Cross-signed tokens are refused, both ways.
    refused(i, key_b.sign(i.claims("alice")))
    refused(i, keys["ES256"].sign(i.claims("alice", iss=ISSUER_B,
                                           aud="coffer-b")))
    # B's token with A's audience, and an unknown issuer.
    refused(i, key_b.sign(i.claims("alice", iss=ISSUER_B)))
    refused(i, keys["ES256"].sign(i.claims("alice",
                                           iss="https://evil.example")))
    # A does not provision.
    refused(i, i.token("dave", "ES256"))


@pytest.mark.parametrize("doc,needle", [
    ('[{"issuer":"https://x","audience":"a","jwks_url":"https://x/j",'
     '"colour":"red"}]', "unknown member"),
    ('{"issuer":"https://x"}', "array"),
    ('[' + ','.join(['{"issuer":"https://x%d","audience":"a",'
                     '"jwks_url":"https://x/j"}' % n for n in range(9)])
     + ']', "more than 8"),
])
def test_bad_oidc_config_file_refused(make_server, tmp_path, doc, needle):
    conf = os.path.join(str(tmp_path), "issuers.json")
    with open(conf, "w") as f:
        f.write(doc)
    srv = make_server(start=False,
                      extra_args=["--set", "oidc_config_file=" + conf])
    with pytest.raises(pytest.fail.Exception) as e:
        srv.start()
    assert needle in str(e.value)
    # `coffer server --check` finds the same mistake, without starting.
    p = subprocess.run([COFFER_BIN, "server", "--check", "--set",
                        "oidc_config_file=" + conf], capture_output=True,
                       text=True, timeout=60, env=sanitizer_env())
    assert p.returncode == 2 and needle in p.stderr, (p.returncode,
                                                      p.stderr)


def test_check_accepts_a_good_oidc_config_file(tmp_path):
    conf = os.path.join(str(tmp_path), "issuers.json")
    with open(conf, "w") as f:
        f.write('[{"issuer":"https://x","audience":"a",'
                '"jwks_url":"https://x/j"}]')
    p = subprocess.run([COFFER_BIN, "server", "--check", "--set",
                        "oidc_config_file=" + conf], capture_output=True,
                       text=True, timeout=60, env=sanitizer_env())
    assert p.returncode == 0, p.stderr
    assert "oidc_config_file = " + conf in p.stdout


def test_oidc_admin_without_mfa_cannot_mint_itself_a_token(idp):
    """The reviewed case: an admin's OIDC token with amr ["pwd"] minted a
    non-expiring API token, which then did every admin action that
    mfa_admin_actions withholds from the OIDC token itself.  Minting a
    token for oneself while holding admin needs MFA (the grant rule)."""
    tok = idp.token("root", groups=["ml-admins"], amr=["pwd"])
    r = idp.srv.post("/v1/tokens", {"principal": "root"}, token=tok)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    rec = idp.srv.wait_audit(lambda a: a.get("action") == "token:create"
                             and a.get("principal") == "root")
    assert rec is not None and rec["decision"] == "deny", rec
    r = idp.srv.post("/v1/ns", {"name": "oidc-pwd-only"}, token=tok)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    # With MFA it may.
    tok = idp.token("root", groups=["ml-admins"], amr=["pwd", "otp"])
    r = idp.srv.post("/v1/tokens", {"principal": "root",
                                    "expires_in": 600}, token=tok)
    assert r.status_code == 201, r.text


def test_oidc_stored_admin_without_mfa_cannot_mint(idp):
    """The same with the admin role bound to the user (not from a group):
    the minted token would carry it."""
    idp.srv.grant("bob", "admin")
    tok = idp.token("bob", amr=["pwd"])
    r = idp.srv.post("/v1/tokens", {"principal": "bob"}, token=tok)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text

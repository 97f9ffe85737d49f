"""Authentication (tokens) and authorization (roles and bindings)."""

import time

import pytest

from conftest import obj_path


def assert_401(r):
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.json()["error"]["code"] == "unauthenticated"
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert r.headers.get("X-Request-Id")


def assert_403(r):
    assert r.status_code == 403, (r.status_code, r.text)
    assert r.json()["error"]["code"] == "access_denied"


@pytest.fixture(scope="module")
def world(server):
    """Two namespaces and one principal per role."""
    server.mkns("auth-one")
    server.mkns("auth-two")
    assert server.put_obj("auth-one", "seed", b"seed one").status_code == 201
    assert server.put_obj("auth-two", "seed", b"seed two").status_code == 201
    t = {
        "reader": server.user("rdr", "reader", "auth-one"),
        "writer": server.user("wrt", "writer", "auth-one"),
        "owner": server.user("own", "owner", "auth-one"),
        "nobody": server.user("nobody"),
        "greader": server.user("greader", "reader"),   # global reader
    }
    return t


# ---- authentication ----

@pytest.mark.parametrize("hdr", [
    None, "Bearer", "Bearer ", "Bearer garbage", "Basic YWRtaW46YWRtaW4=",
    "Bearer cft_" + "0" * 40, "bearer cft_xyz", "Bearer cft_\x01x",
    "Bearer " + "x" * 5000])
def test_bad_tokens_401(server, hdr):
    headers = {} if hdr is None else {"Authorization": hdr}
    r = server.req("GET", "/v1/whoami", token=None, headers=headers)
    assert_401(r)
    r = server.req("GET", "/v1/ns", token=None, headers=headers)
    assert_401(r)


def test_unknown_token_with_right_shape_401(server):
    tok = server.admin_token
    # Same prefix and length, last character changed.
    bad = tok[:-1] + ("A" if tok[-1] != "A" else "B")
    assert_401(server.get("/v1/whoami", token=bad))


def test_expired_token_401(server):
    server.principal("shortlived")
    t = server.token("shortlived", expires_in=1)
    assert t["expires"] is not None
    assert server.get("/v1/whoami", token=t["token"]).status_code == 200
    time.sleep(2.2)
    assert_401(server.get("/v1/whoami", token=t["token"]))


def test_revoked_token_401(server):
    server.principal("revokee")
    t = server.token("revokee", description="to revoke")
    assert server.get("/v1/whoami", token=t["token"]).status_code == 200
    r = server.req("DELETE", "/v1/tokens/" + t["id"])
    assert r.status_code == 200, r.text
    assert r.json()["id"] == t["id"] and r.json()["revoked"]
    assert_401(server.get("/v1/whoami", token=t["token"]))
    toks = server.get("/v1/tokens", params={"principal": "revokee"}).json()
    assert [x["revoked"] for x in toks["tokens"] if x["id"] == t["id"]][0]


def test_token_secret_not_listed(server):
    server.principal("lister")
    t = server.token("lister")
    r = server.get("/v1/tokens")
    assert r.status_code == 200
    assert t["token"] not in r.text
    ids = [x["id"] for x in r.json()["tokens"]]
    assert t["id"] in ids


def test_whoami(server, world):
    r = server.get("/v1/whoami", token=world["writer"])
    assert r.status_code == 200
    j = r.json()
    assert j["principal"] == "wrt" and j["kind"] == "user"
    assert {"role": "writer", "ns": "auth-one"} in j["bindings"]


def test_unknown_route_404_authed_401_unauthed(server):
    r = server.get("/v1/no-such-route")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert_401(server.get("/v1/no-such-route", token=None))
    # Every path outside /v1 is the S3 API (docs/s3.md): S3's refusals,
    # in S3's XML, and a Coffer bearer token is no S3 credential.
    r = server.get("/totally/elsewhere", token=None)
    assert r.status_code == 403
    assert "<Code>AccessDenied</Code>" in r.text
    r = server.get("/totally/elsewhere")
    assert r.status_code == 400
    assert "<Code>AuthorizationHeaderMalformed</Code>" in r.text


def test_own_tokens_list_and_revoke_without_admin(server, world):
    server.principal("selfserv")
    t1 = server.token("selfserv")
    t2 = server.token("selfserv")
    r = server.get("/v1/tokens", token=t1["token"])
    assert r.status_code == 200, r.text
    assert {x["principal"] for x in r.json()["tokens"]} == {"selfserv"}
    assert server.req("DELETE", "/v1/tokens/" + t2["id"],
                      token=t1["token"]).status_code == 200
    assert_401(server.get("/v1/whoami", token=t2["token"]))
    # But not somebody else's.
    other = server.token("rdr")
    assert_403(server.req("DELETE", "/v1/tokens/" + other["id"],
                          token=t1["token"]))
    assert server.get("/v1/whoami", token=other["token"]).status_code == 200
    assert_403(server.get("/v1/tokens", params={"principal": "rdr"},
                          token=t1["token"]))


def test_token_cannot_mint_a_longer_lived_token(server):
    """A leaked short-lived API token must not become a permanent one: it
    can mint tokens for itself that expire no later than itself."""
    server.principal("mint-capped")
    t = server.token("mint-capped", expires_in=3600)["token"]
    for body in ({"principal": "mint-capped"},
                 {"principal": "mint-capped", "expires_in": 7200}):
        r = server.post("/v1/tokens", body, token=t)
        assert r.status_code == 400, r.text
        assert "no later than itself" in r.json()["error"]["message"]
    r = server.post("/v1/tokens", {"principal": "mint-capped",
                                   "expires_in": 600}, token=t)
    assert r.status_code == 201, r.text
    # A token that never expires, and an admin, are not limited.
    forever = server.token("mint-capped")["token"]
    r = server.post("/v1/tokens", {"principal": "mint-capped"},
                    token=forever)
    assert r.status_code == 201, r.text


# ---- authorization ----

def test_reader(server, world):
    t = world["reader"]
    assert server.get_obj("auth-one", "seed", token=t).content == b"seed one"
    assert server.req("HEAD", obj_path("auth-one", "seed"),
                      token=t).status_code == 200
    assert server.get("/v1/ns/auth-one/objects", token=t).status_code == 200
    assert server.get("/v1/ns/auth-one/versions/seed",
                      token=t).status_code == 200
    assert server.get("/v1/ns/auth-one", token=t).status_code == 200
    assert_403(server.put_obj("auth-one", "r-put", b"x", token=t))
    assert server.versions("auth-one", "r-put") == []
    assert_403(server.req("DELETE", obj_path("auth-one", "seed"), token=t))
    assert server.get_obj("auth-one", "seed").status_code == 200
    assert_403(server.post("/v1/bindings", {"principal": "nobody",
                                            "role": "reader",
                                            "ns": "auth-one"}, token=t))


def test_writer(server, world):
    t = world["writer"]
    r = server.put_obj("auth-one", "w-put", b"by writer", token=t)
    assert r.status_code == 201
    assert r.json()["created_by"] == "wrt"
    assert server.get_obj("auth-one", "w-put", token=t).content == \
        b"by writer"
    assert server.req("DELETE", obj_path("auth-one", "w-put"),
                      token=t).status_code == 200
    assert_403(server.post("/v1/bindings", {"principal": "nobody",
                                            "role": "reader",
                                            "ns": "auth-one"}, token=t))
    assert_403(server.post("/v1/ns", {"name": "by-writer"}, token=t))
    assert_403(server.req("DELETE", "/v1/ns/auth-one", token=t))
    assert_403(server.post("/v1/principals", {"name": "x1", "kind": "user"},
                           token=t))
    # A user may mint tokens for itself (docs/api.md, scoped tokens), never
    # for someone else.
    assert server.post("/v1/tokens", {"principal": "wrt", "expires_in": 60},
                       token=t).status_code == 201
    assert_403(server.post("/v1/tokens", {"principal": "admin"}, token=t))
    assert_403(server.get("/v1/audit", token=t))


def test_owner_grants_on_own_namespace_only(server, world):
    server.principal("granted")
    # SEC: the owner's API token cannot grant (the grant rule,
    # test_grants.py); its MFA session can.
    r = server.post("/v1/bindings", {"principal": "granted",
                                     "role": "reader", "ns": "auth-one"},
                    token=world["owner"])
    assert r.status_code == 401 and "mfa_required" in r.text, r.text
    t, _ = server.mfa_session("own")
    r = server.post("/v1/bindings", {"principal": "granted",
                                     "role": "reader", "ns": "auth-one"},
                    token=t)
    assert r.status_code == 201, r.text
    r = server.get("/v1/bindings", params={"ns": "auth-one"}, token=t)
    assert r.status_code == 200
    assert {"principal": "granted", "role": "reader", "ns": "auth-one",
            "expires": None, "expired": False} in r.json()["bindings"]
    # Not admin, not global, not on another namespace.
    assert_403(server.post("/v1/bindings", {"principal": "granted",
                                            "role": "admin"}, token=t))
    assert_403(server.post("/v1/bindings", {"principal": "granted",
                                            "role": "admin",
                                            "ns": "auth-one"}, token=t))
    assert_403(server.post("/v1/bindings", {"principal": "granted",
                                            "role": "reader"}, token=t))
    assert_403(server.post("/v1/bindings", {"principal": "granted",
                                            "role": "reader",
                                            "ns": "auth-two"}, token=t))
    assert_403(server.get("/v1/bindings", params={"ns": "auth-two"},
                          token=t))
    # Roles up to owner on its own namespace are fine.
    r = server.post("/v1/bindings", {"principal": "granted",
                                     "role": "owner", "ns": "auth-one"},
                    token=t)
    assert r.status_code == 201, r.text
    assert server.req("DELETE", "/v1/bindings", token=t, params={
        "principal": "granted", "role": "owner",
        "ns": "auth-one"}).status_code == 200
    # An owner may not delete the namespace or read the audit log.
    assert_403(server.req("DELETE", "/v1/ns/auth-one", token=t))
    assert_403(server.get("/v1/audit", token=t))
    # Revoke what it granted.
    r = server.req("DELETE", "/v1/bindings", token=t, params={
        "principal": "granted", "role": "reader", "ns": "auth-one"})
    assert r.status_code == 200, r.text
    r = server.get("/v1/bindings", params={"principal": "granted"})
    assert r.json()["bindings"] == []


def test_bindings_do_not_leak_across_namespaces(server, world):
    for role in ("reader", "writer", "owner"):
        t = world[role]
        r = server.get_obj("auth-two", "seed", token=t)
        assert_403(r)
        assert b"seed two" not in r.content
        assert_403(server.put_obj("auth-two", "x-" + role, b"x", token=t))
        assert_403(server.get("/v1/ns/auth-two/objects", token=t))
        assert_403(server.get("/v1/ns/auth-two", token=t))
    assert server.versions("auth-two", "x-writer") == []
    t = world["nobody"]
    assert_403(server.get_obj("auth-one", "seed", token=t))
    assert_403(server.get("/v1/ns/auth-one/objects", token=t))


def test_ns_list_filtered_per_principal(server, world):
    def names(tok):
        r = server.get("/v1/ns", token=tok)
        assert r.status_code == 200, r.text
        return {n["name"] for n in r.json()["namespaces"]}
    assert names(world["reader"]) == {"auth-one"}
    assert names(world["owner"]) == {"auth-one"}
    assert names(world["nobody"]) == set()
    everything = names("admin")
    assert {"auth-one", "auth-two"} <= everything
    assert names(world["greader"]) == everything


def test_global_reader(server, world):
    t = world["greader"]
    assert server.get_obj("auth-two", "seed", token=t).content == b"seed two"
    assert_403(server.put_obj("auth-two", "g", b"x", token=t))


def test_missing_namespace_denied_not_revealed(server, world):
    # A principal with no rights learns nothing about what exists.
    t = world["nobody"]
    a = server.get_obj("auth-one", "seed", token=t)
    b = server.get_obj("does-not-exist", "seed", token=t)
    assert a.status_code == b.status_code == 403


def test_binding_validation(server, world):
    r = server.post("/v1/bindings", {"principal": "nobody", "role": "god",
                                     "ns": "auth-one"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_name", r.text
    r = server.req("DELETE", "/v1/bindings", params={
        "principal": "nobody", "role": "god"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_name", r.text
    r = server.post("/v1/bindings", {"principal": "ghost", "role": "reader",
                                     "ns": "auth-one"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_such_principal"
    r = server.req("DELETE", "/v1/bindings", params={
        "principal": "nobody", "role": "reader", "ns": "auth-one"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_such_binding"


def test_binding_on_unknown_namespace(server, world):
    """A missing namespace is no_such_namespace, as everywhere else, not
    the principal's 404."""
    r = server.post("/v1/bindings", {"principal": "nobody", "role": "reader",
                                     "ns": "no-such-ns"})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "no_such_namespace", r.text
    assert "no-such-ns" in r.json()["error"]["message"]
    r = server.req("DELETE", "/v1/bindings", params={
        "principal": "nobody", "role": "reader", "ns": "no-such-ns"})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "no_such_namespace", r.text
    # Both unknown: the principal is looked up first.
    r = server.post("/v1/bindings", {"principal": "ghost", "role": "reader",
                                     "ns": "no-such-ns"})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "no_such_principal", r.text
    rec = server.wait_audit(lambda x: x["action"] == "binding:create"
                            and x["resource"] ==
                            "ns/no-such-ns/bindings/nobody/reader")
    assert rec is not None and rec["status"] == 404, rec


def test_principal_validation(server):
    # A service account needs an owner (docs/api.md).
    r = server.post("/v1/principals", {"name": "dup-p", "kind": "service"})
    assert r.status_code == 400
    r = server.post("/v1/principals", {"name": "dup-p", "kind": "service",
                                       "owner": "admin"})
    assert r.status_code == 201
    assert r.json()["kind"] == "service" and r.json()["disabled"] is False
    r = server.post("/v1/principals", {"name": "dup-p", "kind": "service",
                                       "owner": "admin"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "already_exists"
    r = server.post("/v1/principals", {"name": "bad name!", "kind": "user"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_name"
    r = server.post("/v1/principals", {"name": "x-kind", "kind": "robot"})
    assert r.status_code == 400
    r = server.post("/v1/tokens", {"principal": "ghost"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_such_principal"
    r = server.get("/v1/principals")
    assert "dup-p" in [p["name"] for p in r.json()["principals"]]


def test_revoked_binding_takes_effect_immediately(server, world):
    server.principal("temp-w")
    server.grant("temp-w", "writer", "auth-one")
    t = server.token("temp-w")["token"]
    assert server.put_obj("auth-one", "tw", b"1", token=t).status_code == 201
    r = server.req("DELETE", "/v1/bindings", params={
        "principal": "temp-w", "role": "writer", "ns": "auth-one"})
    assert r.status_code == 200
    assert_403(server.put_obj("auth-one", "tw", b"2", token=t))
    assert server.get_obj("auth-one", "tw").content == b"1"


@pytest.mark.parametrize("exp", [-5, "soon", 1.5, 10 ** 20, None])
def test_bad_expires_in_rejected(server, exp):
    body = {"principal": "admin", "expires_in": exp}
    r = server.post("/v1/tokens", body)
    assert r.status_code == 400, (exp, r.status_code, r.text)
    assert r.json()["error"]["code"] in ("invalid_json", "bad_request")


def test_expires_in_zero_rejected(server):
    r = server.post("/v1/tokens", {"principal": "admin", "expires_in": 0})
    assert r.status_code == 400, r.text

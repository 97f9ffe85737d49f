"""whoami and token scopes: whoami describes the credential itself, so any
authenticated token may call it (`coffer login --token` checks a token with
it), and the answer shows the token's scope, so a scoped token's holder
sees that its owner's bindings are narrowed by it (docs/api.md)."""


def test_whoami_shows_scope(server, uniq):
    name = uniq("who")
    server.principal(name)
    scope = {"actions": ["object:get"], "namespaces": ["only-here"]}
    r = server.post("/v1/tokens", {"principal": name, "scope": scope})
    assert r.status_code == 201, r.text
    scoped = r.json()["token"]
    r = server.get("/v1/whoami", token=scoped)
    assert r.status_code == 200, r.text
    assert r.json()["principal"] == name
    assert r.json()["scope"] == scope
    rid = r.headers["X-Request-Id"]
    rec = server.wait_audit(lambda x: x["request_id"] == rid)
    assert rec is not None and rec["action"] == "whoami"
    # Unscoped: null.
    plain = server.token(name)["token"]
    r = server.get("/v1/whoami", token=plain)
    assert r.status_code == 200 and r.json()["scope"] is None, r.text

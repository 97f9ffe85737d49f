"""tests/e2e/test_routes.py: every route docs/api.md documents declares its
action, and the server records exactly that action for it.

The route table rows of docs/api.md ("| `METHOD /v1/...` | `action` |")
are sent to a real server without a credential (and once more with a
credential that holds no role); each request's audit record (found by its
X-Request-Id) must name the documented action, and the action must be in
the registry (docs/api.md "Actions", which test_actions checks against
src/core/actions.c).  An undocumented route is denied as `unknown`.
"""

import http.client
import json
import os
import re
import ssl

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ROW = re.compile(r"^\| `(GET|POST|PUT|DELETE|PATCH|HEAD) (/v1/[^`]*)`"
                 r"(?: / `\.\.\./([a-z-]+)`)? \| `([a-z:-]+)`", re.M)
# Routes api.md documents in prose rather than in a table row.
PROSE = [("GET", "/v1/health", "health"), ("GET", "/v1/whoami", "whoami"),
         ("GET", "/v1/audit?tail=5", "audit:read")]
FILL = {"{ns}": "routes-ns", "{key}": "a/b.txt", "{name}": "alice",
        "{id}": "0123456789abcdef", "{role}": "reader"}


def documented():
    with open(os.path.join(ROOT, "docs", "api.md")) as f:
        text = f.read()
    routes = list(PROSE)
    for method, path, alt, action in ROW.findall(text):
        path = re.sub(r"\[[^\]]*\]", "", path)      # optional parts
        for k, v in FILL.items():
            path = path.replace(k, v)
        path = path.replace("...", "x")
        routes.append((method, path, action))
        if alt:                                    # ".../enable"
            routes.append((method, path.rsplit("/", 1)[0] + "/" + alt,
                           action))
    actions = set(re.findall(r"^\| `([a-z:-]+)` \|", text, re.M))
    return routes, actions


ROUTES, REGISTERED = documented()


def test_the_docs_have_routes():
    assert len(ROUTES) >= 35, ROUTES
    assert "object:get" in REGISTERED and "unknown" in REGISTERED


def record_of(srv, rid):
    return srv.wait_audit(lambda a: a.get("request_id") == rid and
                          a.get("action") != "object:get:end")


@pytest.mark.parametrize("method,path,action", ROUTES,
                         ids=["%s %s" % (m, p) for m, p, _a in ROUTES])
def test_route_records_its_action(server, method, path, action):
    assert action in REGISTERED, "%s is not in the Actions table" % action
    body = {} if method in ("POST", "PATCH") else None
    for token in (None, "norole"):
        if token == "norole":
            if not hasattr(server, "_norole"):
                server._norole = server.user("routes-norole")
            token = server._norole
        kw = {"json": body} if body is not None else {}
        if method == "PUT":
            kw = {"data": b"x"}
        r = server.req(method, path, token=token, **kw)
        rid = r.headers.get("X-Request-Id")
        assert rid, (method, path, r.status_code)
        rec = record_of(server, rid)
        assert rec is not None, (method, path, r.status_code)
        assert rec["action"] == action, (method, path, rec)
        if action in ("health", "session:login"):
            continue
        if token is not None and (
                action in ("whoami", "ns:list", "token:list",
                           "breakglass:list", "share:list",
                           "privacy:key", "review:list") or
                (method, path) == ("GET", "/v1/promotions") or
                (method, path) == ("GET", "/v1/policies")):
            # One's own: who one is, the namespaces one can read (none),
            # one's own tokens, break-glass grants and share links, the
            # public key that checks erasure certificates, the
            # policy sets one manages (none), one's own promotion requests
            # (none), the access reviews one reviews (none).
            assert r.status_code == 200, r.text
            continue
        # Without a role nothing but one's own account is reachable.
        assert r.status_code in (400, 401, 403, 404, 409), \
            (method, path, token, r.status_code, r.text)


def test_undocumented_route_is_unknown_and_denied(server):
    for method, path in (("GET", "/v1/nothing-here"), ("POST", "/v1/ns/x/y"),
                         ("PATCH", "/v1/tokens")):
        r = server.req(method, path)
        assert r.status_code in (401, 404, 405), (method, path, r.text)
        rec = record_of(server, r.headers["X-Request-Id"])
        assert rec["action"] == "unknown" and rec["decision"] == "deny"


def test_405_lists_the_route_methods_in_allow(server):
    """RFC 9110: a 405 says which methods the path has (the route
    table's), and is still recorded; a 401 or 404 has no Allow."""
    r = server.req("PATCH", "/v1/tokens")
    assert r.status_code == 405, r.text
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert sorted(r.headers["Allow"].split(", ")) == ["GET", "POST"]
    rec = record_of(server, r.headers["X-Request-Id"])
    assert rec["action"] == "unknown" and rec["status"] == 405
    r = server.req("POST", "/v1/ns/x/objects/some/key")
    assert r.status_code == 405, r.text
    assert sorted(r.headers["Allow"].split(", ")) == [
        "DELETE", "GET", "HEAD", "PUT"]
    r = server.req("GET", "/v1/nothing-here")
    assert r.status_code == 404 and "Allow" not in r.headers
    r = server.req("PATCH", "/v1/tokens", token=None)
    assert r.status_code == 401 and "Allow" not in r.headers


@pytest.mark.parametrize("purpose", [
    "", "has space", "a/b", "x" * 65, "caf\u00e9".encode().decode("latin-1"),
])
def test_bad_purpose_is_refused_and_recorded(server, purpose):
    # Any caller, before routing (like 414 and 431): the header is refused
    # with a JSON 400 and a deny record, whatever the route.
    for path in ("/v1/whoami", "/v1/nothing-here"):
        r = server.req("GET", path, headers={"X-Coffer-Purpose": purpose})
        assert r.status_code == 400, (path, r.status_code, r.text)
        assert r.json()["error"]["code"] == "bad_purpose"
        rec = record_of(server, r.headers["X-Request-Id"])
        assert rec["action"] == "unknown" and rec["decision"] == "deny"
        assert rec["status"] == 400 and rec["result"] == "bad_purpose"


def test_purpose_twice_is_refused(server):
    ctx = ssl.create_default_context(cafile=server.ca)
    conn = http.client.HTTPSConnection("127.0.0.1", server.port,
                                       context=ctx, timeout=30)
    conn.putrequest("GET", "/v1/whoami")
    conn.putheader("Authorization", "Bearer " + server.admin_token)
    conn.putheader("X-Coffer-Purpose", "a")
    conn.putheader("X-Coffer-Purpose", "b")
    conn.endheaders()
    r = conn.getresponse()
    body = json.loads(r.read())
    conn.close()
    assert r.status == 400 and body["error"]["code"] == "bad_purpose"


def test_good_purpose_and_user_agent_are_accepted(server):
    r = server.req("GET", "/v1/whoami",
                   headers={"X-Coffer-Purpose": "incident:INC-4711_a.b-c",
                            "User-Agent": "x\ty" + "z" * 400})
    assert r.status_code == 200, r.text
    rec = record_of(server, r.headers["X-Request-Id"])
    assert rec["action"] == "whoami" and rec["decision"] == "allow"

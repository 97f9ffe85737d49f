"""The small GET's path: a GET or HEAD of an object without a body is
answered at its header block, in one read snapshot with its
authentication; one with a body takes the ordinary path.  Either way the
answer, the decision and the audit record are the same, and a token's
last-used time is still written."""

import pytest

from conftest import obj_path, sha256

NS = "getpath-e2e"
DATA = b"g" * 1024


@pytest.fixture(scope="module")
def ns(server):
    server.mkns(NS)
    r = server.put_obj(NS, "one", DATA)
    assert r.status_code == 201, r.text
    return NS


def records_of(server, before, action):
    return [x for x in server.audit_records()[before:]
            if x["action"] == action]


def chunks():
    yield b"abc"
    yield b"def"


@pytest.mark.parametrize("body", [None, b"xyz", b"", "chunked"])
def test_get_with_and_without_body(server, ns, body):
    before = server.audit_count()
    kw = {}
    if body == "chunked":
        kw["data"] = chunks()
    elif body is not None:
        kw["data"] = body
    r = server.req("GET", obj_path(ns, "one"), **kw)
    assert r.status_code == 200, r.text
    assert r.content == DATA
    assert r.headers["X-Coffer-SHA256"] == sha256(DATA)
    rec = server.wait_audit(
        lambda x: x["action"] == "object:get" and
        x.get("resource", "").endswith("/one") and
        x.get("status") == 200)
    assert rec["decision"] == "allow"
    assert len([x for x in records_of(server, before, "object:get")
                if x["status"] == 200]) == 1


def test_head_and_missing_key(server, ns):
    r = server.req("HEAD", obj_path(ns, "one"))
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == str(len(DATA))
    r = server.get_obj(ns, "none-such")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_such_key"


def test_denied_and_unauthenticated_gets_are_recorded(server, ns):
    tok = server.user("getpath-nobody")
    before = server.audit_count()
    r = server.get_obj(ns, "one", token=tok)
    assert r.status_code == 403
    r = server.get_obj(ns, "one", token="cft_not-a-token")
    assert r.status_code == 401
    r = server.get_obj(ns, "one", token=None)
    assert r.status_code == 401
    server.wait_audit(lambda x: x["action"] == "object:get" and
                      x["status"] == 401 and x["authn"] == "none")
    recs = records_of(server, before, "object:get")
    assert sorted(x["status"] for x in recs) == [401, 401, 403]
    assert all(x["decision"] == "deny" for x in recs)


def test_get_records_the_tokens_first_use(server, ns):
    """The last-used time, due inside the GET's read snapshot, is written
    after it."""
    tok = server.user("getpath-reader", "reader", ns)
    mine = [t for t in server.get("/v1/tokens?principal=getpath-reader")
            .json()["tokens"] if not t["revoked"]]
    assert len(mine) == 1 and mine[0]["last_used"] is None
    r = server.get_obj(ns, "one", token=tok)
    assert r.status_code == 200 and r.content == DATA
    mine = [t for t in server.get("/v1/tokens?principal=getpath-reader")
            .json()["tokens"] if t["id"] == mine[0]["id"]]
    assert mine[0]["last_used"] is not None

"""tests/e2e/test_labels.py: user attributes and labels (docs/api.md
"Attributes and labels"): set, remove and show them through REST and the
CLI; bounds refused with 400 and nothing changed; who may change them
(admin for attributes, the namespace owner for labels; both only with
MFA, never with an API token); labels through versions, delete markers
and namespace deletion; attributes from OIDC claims (oidc_claim_attrs).
"""
import json
import subprocess
import urllib.parse

import pytest

from conftest import (COFFER_BIN, EXIT_AUTH, EXIT_INPUT, EXIT_OK, obj_path,
                      sanitizer_env)
from test_oidc import jwks, keys, start_idp  # noqa: F401 (fixtures)


def err_code(r):
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def q(s):
    return urllib.parse.quote(s, safe="")


def attrs_url(user):
    return "/v1/users/%s/attributes" % user


def labels_url(ns, key=None):
    if key is None:
        return "/v1/ns/%s/labels" % ns
    return "/v1/ns/%s/labels/%s" % (ns, q(key))


def put(srv, path, body, token="admin"):
    return srv.req("PUT", path, json=body, token=token)


def user_attrs(srv, user):
    r = srv.get("/v1/users/" + user)
    assert r.status_code == 200, r.text
    return r.json()["attributes"]


def labels(srv, ns, key=None, token="admin"):
    r = srv.get(labels_url(ns, key), token=token)
    assert r.status_code == 200, r.text
    return r.json()["labels"]


def records(srv, action):
    return [a for a in srv.audit_records() if a.get("action") == action]


# ---- user attributes ----

def test_user_attributes_rest(server, uniq):
    u = uniq("attr")
    server.principal(u)
    r = put(server, attrs_url(u), {"department": "risk", "clearance": "3"})
    assert r.status_code == 200, r.text
    assert r.json() == {"name": u, "attributes": {"department": "risk",
                                                  "clearance": "3"}}
    assert user_attrs(server, u) == {"department": "risk", "clearance": "3"}
    # null removes; the list shows them too.
    r = put(server, attrs_url(u), {"clearance": None, "site": "b\u00e9rn"})
    assert r.status_code == 200, r.text
    assert user_attrs(server, u) == {"department": "risk",
                                     "site": "b\u00e9rn"}
    users = server.get("/v1/users").json()["users"]
    assert [x["attributes"] for x in users if x["name"] == u] == \
        [{"department": "risk", "site": "b\u00e9rn"}]
    recs = records(server, "user:attr")
    assert recs and recs[-1]["decision"] == "allow", recs
    assert recs[-1]["resource"] == "user/%s/attributes" % u
    # Unknown user.
    r = put(server, attrs_url(u + "-none"), {"a": "b"})
    assert r.status_code == 404 and err_code(r) == "no_such_principal"
    # Other methods: 405, audited.
    for m in ("GET", "DELETE", "POST"):
        r = server.req(m, attrs_url(u))
        assert r.status_code == 405, (m, r.text)
    r = server.req("PUT", "/v1/users/" + u, json={"a": "b"})
    assert r.status_code == 405, r.text


@pytest.mark.parametrize("body,code", [
    ({"Department": "x"}, "invalid_name"),
    ({"1dept": "x"}, "invalid_name"),
    ({"a" * 64: "x"}, "invalid_name"),
    ({"dept": "x" * 257}, "invalid_value"),
    ({"dept": "a\tb"}, "invalid_value"),
    ({"dept": "a\u0085b"}, "invalid_value"),
    ({"dept": 3}, "invalid_value"),
    ({"dept": ["x"]}, "invalid_value"),
    ({}, "bad_request"),
])
def test_user_attributes_bounds(server, uniq, body, code):
    u = uniq("attrb")
    server.principal(u)
    assert put(server, attrs_url(u), {"keep": "me"}).status_code == 200
    # A valid change next to the bad one is not applied either.
    body = dict(body)
    if body:
        body["keep"] = "changed"
    r = put(server, attrs_url(u), body)
    assert r.status_code == 400 and err_code(r) == code, r.text
    assert user_attrs(server, u) == {"keep": "me"}
    assert records(server, "user:attr")[-1]["status"] == 400


def test_user_attributes_count_and_edges(server, uniq):
    u = uniq("attrn")
    server.principal(u)
    full = {"a%d" % i: "v" for i in range(64)}
    full["a0"] = "x" * 256          # the longest value
    full["a1"] = ""                 # the shortest
    assert put(server, attrs_url(u), full).status_code == 200
    r = put(server, attrs_url(u), {"a65": "v"})
    assert r.status_code == 400 and err_code(r) == "too_many_attributes", \
        r.text
    assert user_attrs(server, u) == full
    # Replace one: still 64.
    r = put(server, attrs_url(u), {"a63": None, "a65": "v"})
    assert r.status_code == 200, r.text
    assert len(user_attrs(server, u)) == 64


def test_user_attributes_who(server, uniq):
    u = uniq("attrw")
    tok = server.user(u, role="admin")
    # An API token never sets attributes (the grant rule), not even an
    # admin's.
    for t in ("admin-api", tok):
        r = put(server, attrs_url(u), {"department": "risk"}, token=t)
        assert r.status_code == 401 and err_code(r) == "mfa_required", \
            r.text
    # A non-admin with MFA: 403.
    v = uniq("attrv")
    server.principal(v)
    sess, _ = server.mfa_session(v)
    r = put(server, attrs_url(u), {"department": "risk"}, token=sess)
    assert r.status_code == 403, r.text
    r = put(server, attrs_url(v), {"department": "risk"}, token=sess)
    assert r.status_code == 403, r.text
    r = server.get("/v1/users/" + v, token=sess)
    assert r.status_code == 403, r.text
    assert user_attrs(server, u) == {}
    assert user_attrs(server, v) == {}
    r = put(server, attrs_url(u), {"department": "risk"}, token=None)
    assert r.status_code == 401, r.text
    deny = [a for a in records(server, "user:attr")
            if a["decision"] == "deny"]
    assert len(deny) >= 5, deny


def test_user_attributes_cli(server, cli, uniq):
    u = uniq("attrc")
    server.principal(u)
    p = cli("user", "set", u, "--attr", "department=risk", "--attr",
            "tmp=1", "--attr", "empty=")
    assert p.returncode == EXIT_OK, p.stderr
    assert "attribute department: risk" in p.stdout
    p = cli("user", "set", u, "--unset", "tmp")
    assert p.returncode == EXIT_OK, p.stderr
    v = cli.json("user", "show", u, "--json")
    assert v["attributes"] == {"department": "risk", "empty": ""}
    p = cli("user", "show", u)
    assert p.returncode == EXIT_OK and "attribute department: risk" in \
        p.stdout, p.stdout
    p = cli("user", "set", u, "--attr", "Bad=x")
    assert p.returncode == EXIT_INPUT, (p.returncode, p.stderr)
    assert "invalid" in p.stderr
    p = cli("user", "set", u, "--attr", "noequals")
    assert p.returncode != EXIT_OK
    p = cli("user", "set", u, "--attr", "x=y", token=server.admin_api_token)
    assert p.returncode == EXIT_AUTH, (p.returncode, p.stderr)
    assert user_attrs(server, u) == {"department": "risk", "empty": ""}


# ---- labels ----

def test_labels_rest_lifecycle(server, uniq):
    ns = uniq("lab")
    server.mkns(ns)
    r = put(server, labels_url(ns), {"pii": "true", "team": "risk"})
    assert r.status_code == 200, r.text
    assert r.json() == {"ns": ns, "key": None,
                        "labels": {"pii": "true", "team": "risk"}}
    # Only live objects get labels.
    r = put(server, labels_url(ns, "m/model.bin"), {"stage": "eval"})
    assert r.status_code == 404 and err_code(r) == "no_such_key", r.text
    assert server.put_obj(ns, "m/model.bin", b"v1").status_code == 201
    r = put(server, labels_url(ns, "m/model.bin"), {"stage": "eval",
                                                    "pii": "false"})
    assert r.status_code == 200, r.text
    assert r.json()["key"] == "m/model.bin"
    assert labels(server, ns) == {"pii": "true", "team": "risk"}
    # HEAD, GET and the listing show them.
    r = server.req("HEAD", obj_path(ns, "m/model.bin"))
    assert r.status_code == 200
    assert r.headers["X-Coffer-Label-stage"] == "eval"
    assert r.headers["X-Coffer-Label-pii"] == "false"
    r = server.get_obj(ns, "m/model.bin")
    assert r.headers["X-Coffer-Label-stage"] == "eval"
    lst = server.get("/v1/ns/%s/objects" % ns).json()["objects"]
    assert lst[0]["labels"] == {"stage": "eval", "pii": "false"}
    # A new version keeps them; a delete marker keeps them.
    assert server.put_obj(ns, "m/model.bin", b"v2").status_code == 201
    assert labels(server, ns, "m/model.bin") == {"stage": "eval",
                                                 "pii": "false"}
    assert server.req("DELETE", obj_path(ns, "m/model.bin")).status_code \
        == 200
    assert labels(server, ns, "m/model.bin") == {"stage": "eval",
                                                 "pii": "false"}
    r = put(server, labels_url(ns, "m/model.bin"), {"x": "y"})
    assert r.status_code == 404 and err_code(r) == "no_such_key", r.text
    r = server.req("DELETE", labels_url(ns, "m/model.bin") + "?names=pii")
    assert r.status_code == 200, r.text
    assert r.json()["labels"] == {"stage": "eval"}
    assert server.put_obj(ns, "m/model.bin", b"v3").status_code == 201
    assert server.req("HEAD", obj_path(ns, "m/model.bin")).headers[
        "X-Coffer-Label-stage"] == "eval"
    # Removal of several; of one that is not there: no error.
    r = server.req("DELETE", labels_url(ns) + "?names=pii,team,nothere")
    assert r.status_code == 200 and r.json()["labels"] == {}, r.text
    # A key never there: 404 for reading its labels.
    r = server.get(labels_url(ns, "never"))
    assert r.status_code == 404 and err_code(r) == "no_such_key"
    for a in ("label:set", "label:rm"):
        assert records(server, a)[-1]["decision"] == "allow"
    # Deleting the namespace takes its labels; a new one starts bare.
    assert put(server, labels_url(ns), {"pii": "true"}).status_code == 200
    assert server.req("DELETE", obj_path(ns, "m/model.bin")).status_code \
        == 200
    assert server.req("DELETE", "/v1/ns/" + ns).status_code == 200
    server.mkns(ns)
    assert labels(server, ns) == {}
    assert server.put_obj(ns, "m/model.bin", b"new").status_code == 201
    assert labels(server, ns, "m/model.bin") == {}


@pytest.mark.parametrize("body,code", [
    ({"PII": "x"}, "invalid_name"),
    ({"pii": "x" * 257}, "invalid_value"),
    ({"pii": "a\nb"}, "invalid_value"),
    ({"pii": True}, "invalid_value"),
    ({}, "bad_request"),
])
def test_labels_bounds(server, uniq, body, code):
    ns = uniq("labb")
    server.mkns(ns)
    assert put(server, labels_url(ns), {"keep": "me"}).status_code == 200
    body = dict(body)
    if body:
        body["keep"] = "changed"
    r = put(server, labels_url(ns), body)
    assert r.status_code == 400 and err_code(r) == code, r.text
    assert labels(server, ns) == {"keep": "me"}
    assert records(server, "label:set")[-1]["status"] == 400


def test_labels_count(server, uniq):
    ns = uniq("labn")
    server.mkns(ns)
    full = {"l%d" % i: "v" for i in range(64)}
    assert put(server, labels_url(ns), full).status_code == 200
    r = put(server, labels_url(ns), {"l64": "v"})
    assert r.status_code == 400 and err_code(r) == "too_many_labels", r.text
    assert labels(server, ns) == full
    r = server.req("DELETE", labels_url(ns) + "?names=Bad")
    assert r.status_code == 400 and err_code(r) == "invalid_name", r.text


def test_labels_who(server, uniq):
    ns = uniq("labw")
    server.mkns(ns)
    assert server.put_obj(ns, "k", b"v").status_code == 201
    owner = uniq("own")
    owner_api = server.user(owner, role="owner", ns=ns)
    writer = uniq("wri")
    writer_api = server.user(writer, role="writer", ns=ns)
    reader = uniq("rea")
    reader_api = server.user(reader, role="reader", ns=ns)
    owner_sess, _ = server.mfa_session(owner)
    writer_sess, _ = server.mfa_session(writer)
    # The owner with MFA may; with an API token not (the grant rule), and
    # neither may an admin's API token.
    for tok in (owner_api, "admin-api"):
        for path in (labels_url(ns), labels_url(ns, "k")):
            r = put(server, path, {"pii": "true"}, token=tok)
            assert r.status_code == 401 and \
                err_code(r) == "mfa_required", r.text
        r = server.req("DELETE", labels_url(ns) + "?names=pii", token=tok)
        assert r.status_code == 401 and err_code(r) == "mfa_required"
    for tok in (writer_sess, writer_api, reader_api):
        r = put(server, labels_url(ns, "k"), {"pii": "true"}, token=tok)
        assert r.status_code in (401, 403), r.text
        if tok == writer_sess:
            assert r.status_code == 403, r.text
    assert labels(server, ns, "k") == {}
    r = put(server, labels_url(ns, "k"), {"pii": "true"}, token=owner_sess)
    assert r.status_code == 200, r.text
    r = put(server, labels_url(ns), {"pii": "true"}, token=owner_sess)
    assert r.status_code == 200, r.text
    # Readers read them (ns:get, object:head).
    assert labels(server, ns, "k", token=reader_api) == {"pii": "true"}
    assert labels(server, ns, token=reader_api) == {"pii": "true"}
    # Owning one namespace gives nothing on another.
    other = uniq("labo")
    server.mkns(other)
    r = put(server, labels_url(other), {"pii": "true"}, token=owner_sess)
    assert r.status_code == 403, r.text
    r = server.req("DELETE", labels_url(ns) + "?names=pii",
                   token=writer_sess)
    assert r.status_code == 403, r.text
    assert labels(server, ns) == {"pii": "true"}
    denies = [a for a in records(server, "label:set") + records(
        server, "label:rm") if a["decision"] == "deny"]
    assert len(denies) >= 9, denies


def test_labels_cli(server, cli, uniq):
    ns = uniq("labc")
    server.mkns(ns)
    assert server.put_obj(ns, "dir/model.bin", b"weights").status_code == 201
    p = cli("label", "set", ns, "pii=true", "team=risk")
    assert p.returncode == EXIT_OK, p.stderr
    assert "label pii: true" in p.stdout
    p = cli("label", "set", ns + "/dir/model.bin", "stage=eval", "x=1")
    assert p.returncode == EXIT_OK, p.stderr
    p = cli("label", "rm", ns + "/dir/model.bin", "x")
    assert p.returncode == EXIT_OK, p.stderr
    assert cli.json("label", "ls", ns + "/dir/model.bin", "--json")[
        "labels"] == {"stage": "eval"}
    assert cli.json("label", "ls", ns, "--json")["labels"] == {
        "pii": "true", "team": "risk"}
    p = cli("head", ns + "/dir/model.bin")
    assert p.returncode == EXIT_OK and "label stage: eval" in p.stdout, \
        p.stdout
    assert cli.json("head", ns + "/dir/model.bin", "--json")["labels"] == \
        {"stage": "eval"}
    v = cli.json("ls", ns + "/", "--recursive", "--json")
    assert [o["labels"] for o in v["objects"]] == [{"stage": "eval"}]
    p = cli("label", "set", ns, "PII=x")
    assert p.returncode == EXIT_INPUT, (p.returncode, p.stderr)
    p = cli("label", "set", ns, "pii=false", token=server.admin_api_token)
    assert p.returncode == EXIT_AUTH, (p.returncode, p.stderr)
    assert cli.json("label", "ls", ns, "--json")["labels"]["pii"] == "true"


# ---- OIDC claims ----

def test_oidc_claim_attrs(make_server, jwks, keys, tmp_path):  # noqa: F811
    idp = start_idp(make_server, jwks, keys, tmp_path, extra=[
        "--set", "oidc_claim_attrs=department:department,"
        "clearance_level:clearance,org.unit:unit,roles:roles"])
    srv = idp.srv
    srv.principal("carol")
    r = srv.post("/v1/users/carol/oidc-links",
                 {"issuer": "https://idp.example.test/realms/ml",
                  "subject": "id-carol"})
    assert r.status_code == 201, r.text
    before = len(records(srv, "user:oidc-attrs"))
    tok = idp.token("carol", department="risk", clearance_level=3,
                    org={"unit": "fraud"}, roles=["a", "b"])
    assert idp.whoami(tok).status_code == 200
    assert user_attrs(srv, "carol") == {"department": "risk",
                                        "clearance": "3", "unit": "fraud"}
    recs = records(srv, "user:oidc-attrs")
    assert len(recs) == before + 1, recs
    assert recs[-1]["principal"] == "carol" and \
        recs[-1]["decision"] == "allow"
    # An array is ignored (logged), never a reason to refuse.
    log = srv.stderr()
    assert "event=oidc_claim_ignored" in log and "claim=roles" in log, log
    # The same claims again: nothing written.
    assert idp.whoami(tok).status_code == 200
    assert len(records(srv, "user:oidc-attrs")) == before + 1
    # A claim gone removes its attribute; an admin's other attributes
    # stay; a boolean is its JSON text.
    assert put(srv, attrs_url("carol"), {"site": "bern"}).status_code == 200
    tok = idp.token("carol", department=None, clearance_level=True)
    assert idp.whoami(tok).status_code == 200
    assert user_attrs(srv, "carol") == {"clearance": "true", "site": "bern"}
    assert len(records(srv, "user:oidc-attrs")) == before + 2


def test_oidc_claim_attrs_config_checked(keys, tmp_path):  # noqa: F811
    path = str(tmp_path / "jwks.json")
    with open(path, "w") as f:
        json.dump({"keys": [keys["RS256"].jwk]}, f)
    base = [COFFER_BIN, "server", "--check",
            "--set", "oidc_issuer=https://idp.example.test/realms/ml",
            "--set", "oidc_audience=coffer",
            "--set", "oidc_jwks_file=" + path, "--set"]
    p = subprocess.run(base + ["oidc_claim_attrs=dept:department"],
                       capture_output=True, text=True, timeout=60,
                       env=sanitizer_env())
    assert p.returncode == 0, p.stderr
    for bad in ("department", "department:Dept", "a:x,b:x", ":x"):
        p = subprocess.run(base + ["oidc_claim_attrs=" + bad],
                           capture_output=True, text=True, timeout=60,
                           env=sanitizer_env())
        assert p.returncode != 0, (bad, p.stdout, p.stderr)
        assert "oidc_claim_attrs" in p.stderr, (bad, p.stderr)

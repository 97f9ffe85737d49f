"""tests/e2e/test_sensitivity.py: namespace sensitivity and the
restricted-data MFA rule (issue 4; docs/api.md "Namespaces" and "MFA
required").

Every action on a restricted namespace needs a credential with MFA, for
every kind of credential: sessions and OIDC tokens can step up; API tokens
cannot carry MFA, so they cannot touch restricted data at all (the admin's
included).  Creating a restricted namespace is allowed: it does not exist
yet.
"""

import json

from conftest import EXIT_AUTH, EXIT_NOTFOUND, EXIT_OK, EXIT_USAGE
from test_identity import enroll, err_code, mkuser, session


def mkns(srv, name, sensitivity=None, token="admin"):
    body = {"name": name}
    if sensitivity is not None:
        body["sensitivity"] = sensitivity
    return srv.post("/v1/ns", body, token=token)


def list_objs(srv, ns, tok):
    return srv.get("/v1/ns/%s/objects" % ns, token=tok)


def test_sensitivity_default_values_and_validation(server, uniq):
    a, b = uniq("sn"), uniq("sn")
    r = mkns(server, a)
    assert r.status_code == 201, r.text
    assert r.json()["sensitivity"] == "internal"
    r = mkns(server, b, "confidential")
    assert r.status_code == 201, r.text
    assert server.get("/v1/ns/" + b).json()["sensitivity"] == "confidential"
    r = mkns(server, uniq("sn"), "secret")
    assert r.status_code == 400, r.text
    r = mkns(server, uniq("sn"), 3)
    assert r.status_code == 400, r.text
    listed = {n["name"]: n for n in server.get("/v1/ns").json()["namespaces"]}
    assert listed[a]["sensitivity"] == "internal"
    assert listed[b]["sensitivity"] == "confidential"


def test_restricted_namespace_needs_mfa(server, uniq):
    vault, other = uniq("vault"), uniq("open")
    # The admin API token may create it: it does not exist yet.
    r = mkns(server, vault, "restricted")
    assert r.status_code == 201, r.text
    assert r.json()["sensitivity"] == "restricted"
    assert mkns(server, other).status_code == 201
    user = uniq("su")
    mkuser(server, user, role="writer")        # global writer
    api = server.token(user)["token"]

    # API tokens, admin included: 401 mfa_required on everything there.
    for tok in (api, "admin-api"):
        for r in (server.put_obj(vault, "k", b"x", token=tok),
                  server.get_obj(vault, "k", token=tok),
                  list_objs(server, vault, tok)):
            assert r.status_code == 401, r.text
            assert err_code(r) == "mfa_required"
    r = server.get("/v1/ns/" + vault, token="admin-api")
    assert r.status_code == 401 and err_code(r) == "mfa_required"
    r = server.post("/v1/bindings", {"principal": user, "role": "reader",
                                     "ns": vault}, token="admin-api")
    assert r.status_code == 401 and err_code(r) == "mfa_required"
    r = server.req("DELETE", "/v1/ns/" + vault, token="admin-api")
    assert r.status_code == 401 and err_code(r) == "mfa_required"
    r = server.req("PATCH", "/v1/ns/" + vault, token="admin-api",
                   json={"sensitivity": "internal"})
    assert r.status_code == 401 and err_code(r) == "mfa_required"
    # The other namespaces are unaffected.
    assert server.put_obj(other, "k", b"x", token=api).status_code == 201
    assert server.get_obj(other, "k", token=api).content == b"x"
    assert list_objs(server, other, api).status_code == 200

    # A session without MFA: 401 mfa_required; after step-up it works.
    tok = session(server, user)
    for r in (server.put_obj(vault, "k", b"x", token=tok),
              server.get_obj(vault, "k", token=tok),
              list_objs(server, vault, tok)):
        assert r.status_code == 401, r.text
        assert err_code(r) == "mfa_required"
    assert server.put_obj(other, "k2", b"y", token=tok).status_code == 201
    t, _codes = enroll(server, tok)
    tok = t.session              # confirming replaced the session
    r = server.post("/v1/session/mfa", {"code": t.fresh()}, token=tok)
    assert r.status_code == 200, r.text
    tok = r.json()["token"]      # and so does a step-up
    r = server.put_obj(vault, "k", b"secret", token=tok)
    assert r.status_code == 201, r.text
    r = server.get_obj(vault, "k", token=tok)
    assert r.status_code == 200 and r.content == b"secret"
    r = list_objs(server, vault, tok)
    assert r.status_code == 200, r.text
    assert [o["key"] for o in r.json()["objects"]] == ["k"]
    # Still nothing for the API token.
    r = server.get_obj(vault, "k", token=api)
    assert r.status_code == 401 and err_code(r) == "mfa_required"

    # The refusals are audited with their reason.
    recs = [x for x in server.audit_records()
            if x.get("resource", "").startswith("ns/%s/" % vault)
            and x.get("decision") == "deny"]
    assert recs
    assert all(x["reasons"] == "mfa required (restricted data)"
               for x in recs)


def test_sensitivity_patch(server, uniq):
    name = uniq("pn")
    assert mkns(server, name).status_code == 201
    # Raising is not an action on restricted data: an API token may.
    r = server.req("PATCH", "/v1/ns/" + name,
                   json={"sensitivity": "restricted"})
    assert r.status_code == 200, r.text
    assert r.json()["sensitivity"] == "restricted"
    # Lowering it again needs MFA.
    r = server.req("PATCH", "/v1/ns/" + name, token="admin-api",
                   json={"sensitivity": "public"})
    assert r.status_code == 401 and err_code(r) == "mfa_required"
    r = server.req("PATCH", "/v1/ns/" + uniq("pn"),
                   json={"sensitivity": "public"})
    assert r.status_code == 404, r.text
    other = uniq("pn")
    assert mkns(server, other).status_code == 201
    r = server.req("PATCH", "/v1/ns/" + other, json={"sensitivity": "x"})
    assert r.status_code == 400, r.text
    r = server.req("PATCH", "/v1/ns/" + other, json={})
    assert r.status_code == 400, r.text
    r = server.req("PATCH", "/v1/ns/" + other, token=None,
                   json={"sensitivity": "public"})
    assert r.status_code == 401, r.text
    # Not for non-admins.
    user = uniq("su")
    mkuser(server, user, role="owner", ns=other)
    r = server.req("PATCH", "/v1/ns/" + other, token=server.token(user)[
        "token"], json={"sensitivity": "public"})
    assert r.status_code == 403, r.text


def test_mfa_restricted_data_off(make_server, uniq):
    srv = make_server(["--set", "mfa_restricted_data=no"])
    name = uniq("vault")
    assert mkns(srv, name, "restricted").status_code == 201
    r = srv.put_obj(name, "k", b"x")
    assert r.status_code == 201, r.text


def test_cli_sensitivity(server, cli, uniq):
    name = uniq("clis")
    p = cli("ns", "create", name, "--sensitivity", "confidential")
    assert p.returncode == EXIT_OK, p.stderr
    assert "sensitivity confidential" in p.stdout
    p = cli("ns", "ls")
    assert p.returncode == EXIT_OK, p.stderr
    line = [ln for ln in p.stdout.splitlines() if ln.startswith(name + " ")]
    assert len(line) == 1 and "confidential" in line[0].split()
    j = json.loads(cli("ns", "ls", "--json").stdout)
    assert {n["name"]: n for n in j["namespaces"]}[name][
        "sensitivity"] == "confidential"
    p = cli("ns", "create", uniq("clis"), "--sensitivity", "secret")
    assert p.returncode == EXIT_USAGE
    # The admin's API token cannot use a restricted namespace.
    vault = uniq("clis")
    p = cli("ns", "create", vault, "--sensitivity", "restricted")
    assert p.returncode == EXIT_OK, p.stderr
    p = cli("put", vault + "/k", "-", input="x",
            token=server.admin_api_token)
    assert p.returncode == EXIT_AUTH
    assert "MFA" in p.stderr or "multi-factor" in p.stderr


def test_cli_ns_set_sensitivity(server, cli, uniq):
    name = uniq("clis")
    assert cli("ns", "create", name).returncode == EXIT_OK
    p = cli("ns", "set", name, "--sensitivity", "confidential")
    assert p.returncode == EXIT_OK, p.stderr
    assert p.stdout.strip() == "namespace %s is now confidential" % name
    assert server.get("/v1/ns/" + name).json()["sensitivity"] == \
        "confidential"
    j = json.loads(cli("ns", "set", name, "--sensitivity", "public",
                       "--json").stdout)
    assert j["name"] == name and j["sensitivity"] == "public"
    # Usage errors: no level, a bad level, no name.
    assert cli("ns", "set", name).returncode == EXIT_USAGE
    assert cli("ns", "set", name, "--sensitivity",
               "secret").returncode == EXIT_USAGE
    assert cli("ns", "set", "--sensitivity", "public").returncode == \
        EXIT_USAGE
    # An unknown namespace: not found; made restricted, the admin's API
    # token can no longer change it back (restricted data needs MFA).
    p = cli("ns", "set", uniq("nope"), "--sensitivity", "public")
    assert p.returncode == EXIT_NOTFOUND, (p.stdout, p.stderr)
    assert cli("ns", "set", name, "--sensitivity",
               "restricted").returncode == EXIT_OK
    p = cli("ns", "set", name, "--sensitivity", "internal",
            token=server.admin_api_token)
    assert p.returncode == EXIT_AUTH, (p.stdout, p.stderr)

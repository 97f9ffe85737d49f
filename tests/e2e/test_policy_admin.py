"""Custom policy sets stored on the server (docs/api.md "Policies",
docs/policy.md "Managing policies on the server"): versioned, validated
before anything is stored, audited with the digests of the change, MFA
for every change, and a namespace owner confined to the namespace."""
import hashlib
import json

import pytest

# Valid sets that never apply (no such user): the module's server is
# shared, and a set in force decides for every test after it.
GOOD = ('permit(principal == User::"nobody-here", action =='
        ' Action::"object:get", resource);\n')
GOOD2 = ('@id("readers")\n'
         'permit(principal == User::"nobody-here", action in'
         ' [Action::"object:get", Action::"object:list"], resource);\n')


def digest(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def put(server, name, text, ns=None, token="admin"):
    body = {"text": text}
    if ns is not None:
        body["ns"] = ns
    return server.req("PUT", "/v1/policies/" + name, json=body, token=token)


def q(ns):
    return "" if ns is None else "?ns=" + ns


def show(server, name, ns=None, token="admin", version=None):
    path = "/v1/policies/" + name + q(ns)
    if version is not None:
        path += ("&" if ns else "?") + "version=%d" % version
    return server.get(path, token=token)


def err(r):
    return r.json()["error"]


def last_record(server, action):
    recs = [x for x in server.audit_records() if x["action"] == action]
    return recs[-1] if recs else None


# ---- REST ----

def test_set_show_history_rm_rest(server, uniq):
    name = uniq("p")
    r = put(server, name, GOOD)
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["name"] == name and v["ns"] is None and v["version"] == 1
    assert v["digest"] == digest(GOOD)
    rec = last_record(server, "policy:set")
    assert rec["decision"] == "allow" and rec["status"] == 201
    assert rec["resource"] == "policies/" + name
    assert rec["reasons"].endswith("none->" + digest(GOOD))

    r = put(server, name, GOOD2)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2
    rec = last_record(server, "policy:set")
    assert rec["reasons"].endswith(digest(GOOD) + "->" + digest(GOOD2))

    # The same text again: nothing new.
    r = put(server, name, GOOD2)
    assert r.status_code == 200, r.text
    assert r.json()["unchanged"] is True and r.json()["version"] == 2

    r = show(server, name)
    assert r.status_code == 200, r.text
    assert r.json()["text"] == GOOD2 and r.json()["version"] == 2
    r = show(server, name, version=1)
    assert r.status_code == 200 and r.json()["text"] == GOOD
    r = show(server, name, version=9)
    assert r.status_code == 404 and err(r)["code"] == "no_such_policy"
    r = server.get("/v1/policies/%s?version=zero" % name)
    assert r.status_code == 400

    r = server.get("/v1/policies")
    assert r.status_code == 200
    mine = [p for p in r.json()["policies"] if p["name"] == name]
    assert len(mine) == 1 and mine[0]["version"] == 2
    assert "text" not in mine[0]

    r = server.req("DELETE", "/v1/policies/" + name)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3 and r.json()["deleted"] is True
    rec = last_record(server, "policy:rm")
    assert rec["reasons"].endswith(digest(GOOD2) + "->none")
    assert show(server, name).status_code == 404
    r = server.req("DELETE", "/v1/policies/" + name)
    assert r.status_code == 404 and err(r)["code"] == "no_such_policy"
    r = server.get("/v1/policies")
    assert name not in [p["name"] for p in r.json()["policies"]]

    r = server.get("/v1/policies/%s/history" % name)
    assert r.status_code == 200, r.text
    vs = r.json()["versions"]
    assert [x["version"] for x in vs] == [3, 2, 1]
    assert [x["deleted"] for x in vs] == [True, False, False]
    assert vs[0]["digest"] is None and vs[2]["digest"] == digest(GOOD)

    # Set again after rm: numbering goes on.
    r = put(server, name, GOOD)
    assert r.status_code == 201 and r.json()["version"] == 4


def test_invalid_policy_changes_nothing(server, uniq):
    name = uniq("p")
    assert put(server, name, GOOD).status_code == 201
    n = server.audit_count()
    r = put(server, name, 'permit(principal,\n  action ==, resource);\n')
    assert r.status_code == 400, r.text
    e = err(r)
    assert e["code"] == "invalid_policy"
    assert e["message"].startswith("2:"), e["message"]
    # Refused and recorded; the previous version is still in force.
    recs = server.audit_records()[n:]
    assert any(x["action"] == "policy:set" and x["status"] == 400
               for x in recs)
    r = show(server, name)
    assert r.json()["version"] == 1 and r.json()["text"] == GOOD
    r = server.get("/v1/policies/%s/history" % name)
    assert len(r.json()["versions"]) == 1
    # Not UTF-8 Cedar at all, a NUL, a bad name, a bad body.
    r = put(server, name, "permit(principal, action, resource);\x00")
    assert r.status_code == 400
    assert err(r)["code"] in ("invalid_json", "invalid_policy")
    r = put(server, "Bad/Name", GOOD)
    assert r.status_code in (400, 404)
    r = put(server, "-bad", GOOD)
    assert r.status_code == 400 and err(r)["code"] == "invalid_name"
    r = server.req("PUT", "/v1/policies/" + name, data=b"not json",
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and err(r)["code"] == "invalid_json"
    r = server.req("PUT", "/v1/policies/" + name, json={"txt": GOOD})
    assert r.status_code == 400
    assert show(server, name).json()["version"] == 1


def test_text_size_limit(server, uniq):
    name = uniq("p")
    big = "// " + "x" * (1 << 20) + "\n"
    r = put(server, name, big)
    assert r.status_code == 413, r.text
    ok = "//" + "x" * ((1 << 20) - 3) + "\n"
    assert len(ok) == 1 << 20
    r = put(server, name, ok)
    assert r.status_code == 201, r.text
    assert show(server, name).json()["size"] == 1 << 20


def test_change_needs_mfa(server, uniq):
    name = uniq("p")
    # An admin API token: the grant rule refuses every change.
    r = put(server, name, GOOD, token="admin-api")
    assert r.status_code == 401 and err(r)["code"] == "mfa_required"
    assert last_record(server, "policy:set")["decision"] == "deny"
    assert put(server, name, GOOD).status_code == 201
    r = server.req("DELETE", "/v1/policies/" + name, token="admin-api")
    assert r.status_code == 401 and err(r)["code"] == "mfa_required"
    # A session of an admin that did not do MFA.
    adm = uniq("adm")
    server.principal(adm)
    server.grant(adm, "admin")
    pw = "e2e Violet kettle 93 drums"
    assert server.post("/v1/users/%s/password" % adm,
                       {"password": pw}).status_code == 200
    r = server.post("/v1/login", {"user": adm, "password": pw}, token=None)
    assert r.status_code == 201, r.text
    sess = r.json()["token"]
    r = put(server, name, GOOD2, token=sess)
    assert r.status_code == 401 and err(r)["code"] == "mfa_required"
    # Reading is no grant: an admin API token may.
    assert show(server, name, token="admin-api").status_code == 200
    assert server.get("/v1/policies", token="admin-api").status_code == 200
    assert show(server, name).json()["version"] == 1
    # Nobody without a credential, nor without admin.
    assert put(server, name, GOOD2, token=None).status_code == 401
    tok = server.user(uniq("u"))
    assert put(server, name, GOOD2, token=tok).status_code == 403
    assert show(server, name, token=tok).status_code == 403


@pytest.fixture
def owner(server, uniq):
    """A namespace, its owner with an MFA session, and another namespace."""
    ns = uniq("pns")
    other = uniq("pns")
    server.mkns(ns)
    server.mkns(other)
    user = uniq("own")
    server.principal(user)
    server.grant(user, "owner", ns)
    sess, _ = server.mfa_session(user)
    return ns, other, sess


def test_owner_manages_own_namespace_only(server, owner, uniq):
    ns, other, sess = owner
    name = uniq("p")
    r = put(server, name, GOOD2, ns=ns, token=sess)
    assert r.status_code == 201, r.text
    assert r.json()["ns"] == ns
    rec = last_record(server, "policy:set")
    assert rec["resource"] == "ns/%s/policies/%s" % (ns, name)
    # ?ns= works as well as the body's ns; they must agree.
    r = server.req("PUT", "/v1/policies/%s?ns=%s" % (name, ns),
                   json={"text": GOOD}, token=sess)
    assert r.status_code == 201 and r.json()["version"] == 2
    r = server.req("PUT", "/v1/policies/%s?ns=%s" % (name, other),
                   json={"text": GOOD, "ns": ns}, token=sess)
    assert r.status_code == 400
    assert show(server, name, ns=ns, token=sess).json()["text"] == GOOD
    r = server.get("/v1/policies/%s/history?ns=%s" % (name, ns), token=sess)
    assert r.status_code == 200 and len(r.json()["versions"]) == 2
    # The owner's listing: this namespace's sets, no global ones.
    assert put(server, uniq("g"), GOOD).status_code == 201
    r = server.get("/v1/policies", token=sess)
    assert r.status_code == 200
    assert {p["ns"] for p in r.json()["policies"]} == {ns}
    assert server.get("/v1/policies?ns=" + ns, token=sess).status_code == 200
    # Not the global sets, not another namespace's.
    for path in ("/v1/policies?ns=", "/v1/policies?ns=" + other):
        assert server.get(path, token=sess).status_code == 403, path
    assert put(server, uniq("g"), GOOD, token=sess).status_code == 403
    assert put(server, name, GOOD, ns=other, token=sess).status_code == 403
    assert put(server, name, GOOD, ns=other).status_code == 201
    r = server.req("DELETE", "/v1/policies/%s?ns=%s" % (name, other),
                   token=sess)
    assert r.status_code == 403
    assert show(server, name, ns=other, token=sess).status_code == 403
    # The same name in two scopes is two sets.
    assert show(server, name, ns=other).json()["version"] == 1
    r = server.req("DELETE", "/v1/policies/%s?ns=%s" % (name, ns),
                   token=sess)
    assert r.status_code == 200, r.text
    assert show(server, name, ns=other).status_code == 200
    # A namespace that does not exist.
    r = put(server, name, GOOD, ns="no-such-ns-here")
    assert r.status_code == 404 and err(r)["code"] == "no_such_namespace"


HOSTILE = [
    # an open action scope: about every action, everywhere
    "permit(principal, action, resource);",
    'forbid(principal == User::"admin", action, resource);',
    # admin actions
    'permit(principal, action == Action::"user:create", resource);',
    'permit(principal, action == Action::"principal:create", resource);',
    'permit(principal, action in [Action::"object:get",'
    ' Action::"token:create"], resource);',
    'permit(principal, action == Action::"ns:create", resource);',
    'permit(principal, action == Action::"ns:delete", resource);',
    'permit(principal, action == Action::"audit:read", resource);',
    'permit(principal, action == Action::"role:mfa-required", resource);',
    # the administration of access itself
    'permit(principal, action == Action::"policy:set", resource);',
    'permit(principal, action == Action::"policy:rm", resource);',
    'permit(principal, action == Action::"binding:create", resource);',
    # an action group, or an action that does not exist
    'permit(principal, action in Action::"all", resource);',
    'permit(principal, action == Action::"object:steal", resource);',
    # hidden in a condition
    'permit(principal, action == Action::"object:get", resource)'
    ' when { action == Action::"user:create" };',
    'permit(principal, action == Action::"object:get", resource);\n'
    'permit(principal, action, resource) when { true };',
    # a template is checked too
    'permit(principal == ?principal, action, resource);',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_namespace_policies_refused(server, owner, uniq, text):
    ns, _, sess = owner
    name = uniq("h")
    r = put(server, name, text, ns=ns, token=sess)
    assert r.status_code == 400, (text, r.text)
    assert err(r)["code"] == "invalid_policy"
    assert show(server, name, ns=ns, token=sess).status_code == 404
    # Not for an admin either: a namespace's set is about the namespace.
    r = put(server, name, text, ns=ns)
    assert r.status_code == 400, (text, r.text)


def test_namespace_policies_allowed_actions(server, owner, uniq):
    ns, _, sess = owner
    text = ('permit(principal, action in [Action::"ns:get",'
            ' Action::"object:get", Action::"object:head",'
            ' Action::"object:list", Action::"object:versions",'
            ' Action::"object:put", Action::"object:delete"], resource)'
            ' when { context.mfa };\n'
            'forbid(principal, action == Action::"object:delete", resource)'
            ' unless { principal == User::"boss" };\n')
    r = put(server, uniq("ok"), text, ns=ns, token=sess)
    assert r.status_code == 201, r.text
    # Global sets may name any action (this one never applies).
    r = put(server, uniq("g"), "forbid(principal, action, resource)"
            " when { false };")
    assert r.status_code == 201, r.text


def test_changes_apply_without_restart(server, owner, uniq):
    """A stored set decides at once; a namespace's set only ever on its
    namespace, whatever it says."""
    ns, other, sess = owner
    reader = uniq("rd")
    tok = server.user(reader)
    for n in (ns, other):
        assert server.put_obj(n, "k", b"data").status_code == 201
        assert server.get_obj(n, "k", token=tok).status_code == 403
    # The owner lets reader read ns: allowed there, nowhere else, even
    # though the policy names no namespace at all.
    name = uniq("let")
    text = ('permit(principal == User::"%s", action in'
            ' [Action::"object:get", Action::"object:head"], resource);'
            % reader)
    r = put(server, name, text, ns=ns, token=sess)
    assert r.status_code == 201, r.text
    assert server.get_obj(ns, "k", token=tok).status_code == 200
    assert server.get_obj(other, "k", token=tok).status_code == 403
    assert server.get("/v1/policies", token=tok).json()["policies"] == []
    # A global forbid (admin) overrides it, at once; removing it lifts it.
    g = uniq("deny")
    r = put(server, g, 'forbid(principal == User::"%s", action, resource);'
            % reader)
    assert r.status_code == 201, r.text
    assert server.get_obj(ns, "k", token=tok).status_code == 403
    assert server.req("DELETE", "/v1/policies/" + g).status_code == 200
    assert server.get_obj(ns, "k", token=tok).status_code == 200
    # The owner's removal takes the access back.
    r = server.req("DELETE", "/v1/policies/%s?ns=%s" % (name, ns),
                   token=sess)
    assert r.status_code == 200, r.text
    assert server.get_obj(ns, "k", token=tok).status_code == 403


def test_namespace_delete_removes_its_policies(server, uniq):
    ns = uniq("pns")
    server.mkns(ns)
    name = uniq("p")
    assert put(server, name, GOOD, ns=ns).status_code == 201
    r = server.req("DELETE", "/v1/ns/" + ns)
    assert r.status_code == 200, r.text
    server.mkns(ns)
    r = show(server, name, ns=ns)
    assert r.status_code == 404 and err(r)["code"] == "no_such_policy"
    r = server.get("/v1/policies?ns=" + ns)
    assert r.status_code == 200 and r.json()["policies"] == []


def test_policies_survive_restart(fresh_server, uniq):
    s = fresh_server
    name = uniq("p")
    assert put(s, name, GOOD).status_code == 201
    assert put(s, name, GOOD2).status_code == 201
    ns = uniq("pns")
    s.mkns(ns)
    assert s.put_obj(ns, "k", b"x").status_code == 201
    reader = uniq("rd")
    tok = s.user(reader)
    assert put(s, uniq("let"), 'permit(principal == User::"%s", action =='
               ' Action::"object:get", resource);' % reader,
               ns=ns).status_code == 201
    s.restart()
    r = show(s, name)
    assert r.status_code == 200 and r.json()["text"] == GOOD2
    assert r.json()["version"] == 2
    # Loaded from the store at start.
    assert s.get_obj(ns, "k", token=tok).status_code == 200


def test_routes_and_methods(server, uniq):
    r = server.req("POST", "/v1/policies", json={})
    assert r.status_code == 405
    r = server.req("PATCH", "/v1/policies/x")
    assert r.status_code == 405
    r = server.req("PUT", "/v1/policies/x/history", json={})
    assert r.status_code == 405
    r = server.get("/v1/policies", token=None)
    assert r.status_code == 401
    r = server.get("/v1/policies/x/y/z")
    assert r.status_code == 404


# ---- CLI ----

def test_cli_set_ls_show_history_rm(server, cli, uniq, tmp_path):
    name = uniq("c")
    f = tmp_path / "p.cedar"
    f.write_text(GOOD)
    p = cli("policy", "set", name, "--file", f)
    assert p.returncode == 0, p.stderr
    assert "version 1" in p.stdout and digest(GOOD)[:19] in p.stdout
    p = cli("policy", "set", name, "--file", f)
    assert p.returncode == 0 and "unchanged" in p.stdout
    f.write_text(GOOD2)
    v = cli.json("policy", "set", name, "--file", f, "--json")
    assert v["version"] == 2 and v["digest"] == digest(GOOD2)

    p = cli("policy", "ls")
    assert p.returncode == 0, p.stderr
    line = [l for l in p.stdout.splitlines() if name in l]
    assert len(line) == 1 and "(global)" in line[0]
    v = cli.json("policy", "ls", "--json")
    assert name in [x["name"] for x in v["policies"]]

    p = cli("policy", "show", name)
    assert p.returncode == 0 and p.stdout == GOOD2
    p = cli("policy", "show", name, "--version", "1")
    assert p.returncode == 0 and p.stdout == GOOD
    p = cli("policy", "show", name, "--version", "x")
    assert p.returncode == 2

    p = cli("policy", "rm", name)
    assert p.returncode == 0, p.stderr
    assert "version 3" in p.stdout
    p = cli("policy", "show", name)
    assert p.returncode == 5, (p.returncode, p.stderr)
    v = cli.json("policy", "history", name, "--json")
    assert [x["version"] for x in v["versions"]] == [3, 2, 1]
    p = cli("policy", "history", name)
    assert p.returncode == 0 and "(removed)" in p.stdout
    assert len(p.stdout.splitlines()) == 3


def test_cli_invalid_file_names_file_line_col(server, cli, uniq, tmp_path):
    name = uniq("c")
    f = tmp_path / "good.cedar"
    f.write_text(GOOD)
    assert cli("policy", "set", name, "--file", f).returncode == 0
    bad = tmp_path / "bad.cedar"
    bad.write_text("permit(principal,\n  action ==, resource);\n")
    p = cli("policy", "set", name, "--file", bad)
    assert p.returncode == 10, (p.returncode, p.stderr)
    assert p.stderr.startswith(str(bad) + ":2:"), p.stderr
    assert cli("policy", "show", name).stdout == GOOD
    # Refused by the server (a namespace's set naming an admin action):
    # the file is named too, and nothing changes.
    ns = uniq("pns")
    server.mkns(ns)
    hostile = tmp_path / "hostile.cedar"
    hostile.write_text(
        'permit(principal, action == Action::"user:create", resource);\n')
    p = cli("policy", "set", name, "--file", hostile, "--ns", ns)
    assert p.returncode == 10, (p.returncode, p.stderr)
    assert p.stderr.startswith(str(hostile) + ": "), p.stderr
    assert "invalid_policy" in p.stderr and "user:create" in p.stderr
    p = cli("policy", "ls", "--ns", ns, "--json")
    assert json.loads(p.stdout)["policies"] == []
    p = cli("policy", "set", name, "--file", tmp_path / "missing.cedar")
    assert p.returncode != 0
    p = cli("policy", "set", name)
    assert p.returncode == 2


def test_cli_owner_and_api_token(server, cli, owner, uniq, tmp_path):
    ns, other, sess = owner
    name = uniq("c")
    f = tmp_path / "p.cedar"
    f.write_text(GOOD2)
    p = cli("policy", "set", name, "--file", f, "--ns", ns, token=sess)
    assert p.returncode == 0, p.stderr
    p = cli("policy", "ls", token=sess)
    assert p.returncode == 0 and ns in p.stdout and name in p.stdout
    p = cli("policy", "show", name, "--ns", ns, token=sess)
    assert p.stdout == GOOD2
    p = cli("policy", "set", name, "--file", f, "--ns", other, token=sess)
    assert p.returncode == 4, p.stderr
    p = cli("policy", "set", name, "--file", f, token=sess)
    assert p.returncode == 4, p.stderr
    # An API token cannot change policies (the grant rule), and the CLI
    # has no code to step up with.
    p = cli("policy", "rm", name, "--ns", ns,
            token=server.admin_api_token)
    assert p.returncode == 3, p.stderr
    assert "mfa" in p.stderr.lower()
    p = cli("policy", "rm", name, "--ns", ns, token=sess)
    assert p.returncode == 0, p.stderr

"""tests/e2e/test_policy_explain.py: explain, who-can and replay
(docs/policy.md, "Testing a change before applying it").

Each answers a question about the server's policies with the decision
code itself, and none of them changes anything: explain names the policy
that decides (role:reader@NS ...) and the guard rails that would refuse,
who-can lists the principals a namespace's bindings let in, and replay
decides the audit log's requests again under a draft and reports what
would change, leaving the policies in force as they were.
"""

import json
import os
import subprocess

from conftest import COFFER_BIN

PW = "correct horse battery staple"


def explain(srv, principal, action, resource=None, context=None,
            token="admin"):
    body = {"principal": principal, "action": action}
    if resource is not None:
        body["resource"] = resource
    if context is not None:
        body["context"] = context
    return srv.post("/v1/explain", body, token=token)


def last_record(srv, action):
    recs = [x for x in srv.audit_records() if x.get("action") == action]
    assert recs, "no audit record for " + action
    return recs[-1]


def test_explain_names_the_deciding_binding(server, cli, uniq):
    ns = uniq("ex")
    server.mkns(ns)
    alice = uniq("alice")
    server.user(alice, "reader", ns)
    r = explain(server, alice, "object:get", ns + "/model.bin")
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["decision"] == "allow" and v["policy_decision"] == "allow"
    assert v["reasons"] == ["role:reader@" + ns]
    assert v["errors"] == [] and v["conditional"] == []
    assert v["resource"] == "ns/%s/obj/model.bin" % ns
    uids = [(e["uid"]["type"], e["uid"]["id"]) for e in v["entities"]]
    assert ("User", alice) in uids
    assert ("Object", ns + "/model.bin") in uids
    assert ("Namespace", ns) in uids
    assert v["context"]["mfa"] is False
    assert v["context"]["authn"] == "session"
    # A write: no binding allows it, nothing determines the deny.
    r = explain(server, alice, "object:put", ns + "/model.bin")
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "deny"
    assert r.json()["reasons"] == []
    # The same through the CLI.
    v = cli.json("policy", "explain", "--principal", alice, "--action",
                 "object:get", "--resource", ns + "/model.bin@v1",
                 "--json")
    assert v["reasons"] == ["role:reader@" + ns]
    p = cli("policy", "explain", "--principal", alice, "--action",
            "object:delete", "--resource", ns + "/k")
    assert p.returncode == 0, p.stderr
    assert "decision: deny" in p.stdout
    # The explanation is recorded, as the admin's own request.
    rec = last_record(server, "policy:explain")
    assert rec["decision"] == "allow" and rec["principal"] == "admin"


def test_explain_reports_the_guard_rails(server, uniq):
    ns = uniq("rx")
    r = server.post("/v1/ns", {"name": ns, "sensitivity": "restricted"})
    assert r.status_code == 201, r.text
    bob = uniq("bob")
    server.user(bob, "reader", ns)
    v = explain(server, bob, "object:get", ns + "/k").json()
    # The policies allow, the restricted-data rule refuses without MFA.
    assert v["policy_decision"] == "allow" and v["decision"] == "deny"
    g = [x for x in v["guards"] if x["guard"] == "restricted_data"]
    assert g and g[0]["refuses"] is True, v["guards"]
    v = explain(server, bob, "object:get", ns + "/k",
                {"mfa": True, "mfa_age_s": 10}).json()
    assert v["decision"] == "allow", v
    assert v["context"]["mfa_age_s"] == 10
    # An API token cannot carry MFA: the guard says so.
    v = explain(server, bob, "object:get", ns + "/k",
                {"authn": "token"}).json()
    assert v["decision"] == "deny"
    # The grant rule is reported for actions that hand out access.
    v = explain(server, "admin", "binding:create", None,
                {"mfa": False}).json()
    assert v["policy_decision"] == "allow"
    g = [x for x in v["guards"] if x["guard"] == "grant_rule"]
    assert g and g[0]["refuses"] is True
    # Extra context members go to Cedar as given.
    v = explain(server, bob, "ns:get", ns, {"purpose": "audit"}).json()
    assert v["context"]["purpose"] == "audit"


def test_explain_refusals(server, uniq):
    ns = uniq("er")
    server.mkns(ns)
    carol = uniq("carol")
    tok = server.user(carol, "owner", ns)
    r = explain(server, carol, "object:get", ns, token=tok)
    assert r.status_code == 403, r.text
    assert last_record(server, "policy:explain")["decision"] == "deny"
    r = explain(server, "nobody-here", "object:get", ns)
    assert r.status_code == 404 and \
        r.json()["error"]["code"] == "no_such_principal"
    for body in ({"principal": carol, "action": "no:such"},
                 {"principal": carol, "action": "whoami"},
                 {"principal": carol, "action": "object:get"},
                 {"principal": carol, "action": "object:get",
                  "resource": ns, "context": {"mfa": "yes"}}):
        r = server.post("/v1/explain", body)
        assert r.status_code == 400, (body, r.text)


def test_who_lists_the_readers_and_writers(server, cli, uniq):
    ns = uniq("who")
    server.mkns(ns)
    reader, writer, owner, other = (uniq("r"), uniq("w"), uniq("o"),
                                    uniq("x"))
    server.user(reader, "reader", ns)
    server.user(writer, "writer", ns)
    otok = server.user(owner, "owner", ns)
    elsewhere = uniq("elsewhere")
    server.mkns(elsewhere)
    server.user(other, "reader", elsewhere)
    r = server.get("/v1/access/who?ns=%s&action=object:get" % ns)
    assert r.status_code == 200, r.text
    v = r.json()
    names = {e["name"] for e in v["actions"]["object:get"]}
    assert {reader, writer, owner, "admin"} <= names
    assert other not in names
    assert all(e["allowed"] and not e["conditional"]
               for e in v["actions"]["object:get"])
    v = cli.json("access", "who", ns, "--json")
    puts = {e["name"] for e in v["actions"]["object:put"]}
    assert writer in puts and owner in puts and reader not in puts
    assert "ns:get" in v["actions"] and "object:get" in v["actions"]
    assert "user:create" not in v["actions"]
    # An object: the object actions.
    v = cli.json("access", "who", ns + "/some/key", "--json")
    assert "object:get" in v["actions"] and "ns:get" not in v["actions"]
    # The owner may ask about the namespace, a reader may not.
    p = cli("access", "who", ns, "--action", "object:put", token=otok)
    assert p.returncode == 0, p.stderr
    assert writer in p.stdout and reader not in p.stdout
    rtok = server.token(reader)["token"]
    r = server.get("/v1/access/who?ns=" + ns, token=rtok)
    assert r.status_code == 403, r.text
    r = server.get("/v1/access/who?ns=" + uniq("none"))
    assert r.status_code == 404, r.text


def write_draft(tmp_path, name, text):
    d = tmp_path / "draft"
    d.mkdir(exist_ok=True)
    (d / (name + ".cedar")).write_text(text)
    return d


def test_replay_reports_allow_to_deny_and_applies_nothing(
        server, cli, uniq, tmp_path):
    ns = uniq("rp")
    server.mkns(ns)
    dave = uniq("dave")
    tok = server.user(dave, "reader", ns)
    assert server.put_obj(ns, "k", b"data").status_code == 201
    for _ in range(2):
        assert server.get_obj(ns, "k", token=tok).status_code == 200
    rec = [x for x in server.audit_records()
           if x["action"] == "object:get" and x["principal"] == dave][-1]
    assert rec["ctx"]["ns"] == ns and rec["ctx"]["decision"] == "allow"
    assert rec["ctx"]["context"]["authn"] == "token"
    d = write_draft(tmp_path, "deny-dave",
                    'forbid (principal == User::"%s", '
                    'action == Action::"object:get", '
                    'resource in Namespace::"%s");\n' % (dave, ns))
    v = cli.json("policy", "replay", "--draft", d, "--since", "1h",
                 "--json")
    assert v["changed"]["allow_to_deny"] == 2, v
    assert v["changed"]["deny_to_allow"] == 0
    ex = [e for e in v["examples"] if e["principal"] == dave]
    assert ex and ex[0]["current"] == "allow" and ex[0]["draft"] == "deny"
    assert ex[0]["reasons"] == ["deny-dave/draft:policy0"]
    assert ex[0]["resource"] == "ns/%s/obj/k" % ns
    assert v["skipped"], v
    p = cli("policy", "replay", "--draft", d / "deny-dave.cedar")
    assert p.returncode == 0, p.stderr
    assert "allow -> deny 2" in p.stdout
    # Nothing was applied: the same request is still allowed.
    assert server.get_obj(ns, "k", token=tok).status_code == 200
    r = explain(server, dave, "object:get", ns + "/k")
    assert r.json()["decision"] == "allow"
    assert last_record(server, "policy:replay")["decision"] == "allow"


def test_replay_refuses_a_draft_that_does_not_validate(
        server, cli, uniq, tmp_path):
    d = write_draft(tmp_path, "bad",
                    'permit (principal, action, resource);\n'
                    'forbid (principal, action == Action::"no:such",\n'
                    '    resource);\n')
    p = cli("policy", "replay", "--draft", d)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "bad.cedar:2:" in p.stdout, p.stdout
    d2 = write_draft(tmp_path, "syntax", "permit (principal,\n")
    p = cli("policy", "replay", "--draft", d2 / "syntax.cedar")
    assert p.returncode == 1 and "syntax.cedar:" in p.stdout
    # The server checks as well, and lists the problems.
    r = server.post("/v1/replay", {"sets": [
        {"name": "bad", "text": 'forbid (principal, action == '
         'Action::"no:such", resource);'}]})
    assert r.status_code == 400, r.text
    e = r.json()["error"]
    assert e["code"] == "invalid_policy"
    assert e["problems"][0]["set"] == "bad" and e["problems"][0]["line"] == 1
    assert last_record(server, "policy:replay")["status"] == 400


def test_decision_context_recorded_and_log_verifies(fresh_server,
                                                    fresh_cli):
    srv, cli = fresh_server, fresh_cli
    srv.mkns("ctx-ns")
    assert srv.get("/v1/ns/ctx-ns").status_code == 200
    recs = srv.audit_records()
    get = [x for x in recs if x["action"] == "ns:get"][-1]
    assert get["ctx"]["ns"] == "ctx-ns" and get["ctx"]["data_ns"] == "ctx-ns"
    assert get["ctx"]["context"]["time"]["__extn"]["fn"] == "datetime"
    # Records not decided by the policies carry none.
    assert all("ctx" not in x for x in recs
               if x["action"] in ("health", "session:login", "whoami"))
    p = cli("audit", "verify", "--data", srv.data, with_server=False)
    assert p.returncode == 0, (p.stdout, p.stderr)


def put_policy(srv, name, text, ns=None):
    path = "/v1/policies/" + name + ("?ns=" + ns if ns else "")
    r = srv.req("PUT", path, json={"text": text})
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_stored_policies_take_part(server, cli, uniq, tmp_path):
    """A stored forbid determines explain's deny, takes the principal out
    of who-can, and a draft that replaces it turns recorded denies into
    allows; a stored policy that reads the context makes who-can's answer
    conditional."""
    ns = uniq("sp")
    server.mkns(ns)
    erin, fred = uniq("erin"), uniq("fred")
    etok = server.user(erin, "reader", ns)
    server.user(fred, "reader", ns)
    assert server.put_obj(ns, "k", b"x").status_code == 201
    put_policy(server, "no-erin",
               'forbid (principal == User::"%s", action == '
               'Action::"object:get", resource);\n' % erin, ns)
    try:
        v = explain(server, erin, "object:get", ns + "/k").json()
        assert v["decision"] == "deny", v
        assert v["reasons"] == ["no-erin@%s/v1:policy0" % ns], v
        assert server.get_obj(ns, "k", token=etok).status_code == 403
        v = server.get("/v1/access/who?ns=%s&action=object:get"
                       % ns).json()
        names = {e["name"] for e in v["actions"]["object:get"]}
        assert fred in names and erin not in names
        # A draft that replaces the stored set: the denies become allows.
        d = write_draft(tmp_path, "no-erin",
                        'forbid (principal, action == Action::"object:get",'
                        ' resource) when { false };\n')
        v = cli.json("policy", "replay", "--draft", d, "--ns", ns,
                     "--json")
        assert v["changed"]["deny_to_allow"] >= 1, v
        ex = [e for e in v["examples"] if e["principal"] == erin]
        assert ex and ex[0]["current"] == "deny" and \
            ex[0]["draft"] == "allow"
        # Nothing applied.
        assert server.get_obj(ns, "k", token=etok).status_code == 403
        # A policy that reads the context: who-can says so.
        put_policy(server, "mfa-only",
                   'forbid (principal, action == Action::"object:get",'
                   ' resource) unless { context.mfa };\n', ns)
        v = server.get("/v1/access/who?ns=%s&action=object:get"
                       % ns).json()
        fe = [e for e in v["actions"]["object:get"] if e["name"] == fred]
        assert fe and fe[0]["conditional"] is True, v
        assert "mfa-only@%s/v1:policy0" % ns in fe[0]["policies"]
    finally:
        for name in ("no-erin", "mfa-only"):
            server.req("DELETE", "/v1/policies/%s?ns=%s" % (name, ns))


def test_explained_entities_conform_to_the_schema(server, cli, uniq,
                                                  tmp_path):
    # What the server builds for a decision (explain --json shows it) is
    # what its own schema says: `coffer policy validate --entities` on
    # it, against `coffer policy schema`, finds nothing, for a namespace,
    # an object with labels, a user with attributes, and a policy set
    # attached to a namespace.
    ns = uniq("conf")
    server.mkns(ns, env="prod")
    assert server.put_obj(ns, "dir/model.bin", b"w").status_code == 201
    assert cli("label", "set", ns, "pii=true").returncode == 0
    assert cli("label", "set", ns + "/dir/model.bin",
               "stage=eval").returncode == 0
    eve = uniq("eve")
    server.user(eve, "reader", ns)
    assert cli("user", "set", eve, "--attr", "team=risk").returncode == 0
    cases = [("object:get", ns + "/dir/model.bin", "Object",
              ns + "/dir/model.bin"),
             ("object:list", ns, "Namespace", ns),
             ("label:set", ns + "/dir/model.bin", "Object",
              ns + "/dir/model.bin"),
             ("ns:get", ns, "Namespace", ns),
             ("policy:set", ns, "Namespace", ns),
             ("binding:create", None, "Store", "coffer"),
             ("user:create", None, "Store", "coffer")]
    for action, resource, rtype, rid in cases:
        args = ["policy", "explain", "--principal", eve, "--action",
                action, "--json"]
        if resource is not None:
            args += ["--resource", resource]
        v = cli.json(*args)
        uids = {(e["uid"]["type"], e["uid"]["id"]) for e in v["entities"]}
        assert (rtype, rid) in uids, (action, uids)
        if action == "object:get":
            obj = [e for e in v["entities"] if e["uid"]["type"] == "Object"]
            assert obj[0]["tags"] == {"stage": "eval"}
            user = [e for e in v["entities"] if e["uid"]["type"] == "User"]
            assert user[0]["tags"] == {"team": "risk"}
        ents = tmp_path / "entities.json"
        req = tmp_path / "request.json"
        ents.write_text(json.dumps(v["entities"]))
        req.write_text(json.dumps({
            "principal": {"type": "User", "id": eve},
            "action": {"type": "Action", "id": action},
            "resource": {"type": rtype, "id": rid},
            "context": v["context"]}))
        p = subprocess.run(
            ["bash", "-c", '"$0" policy validate --schema <("$0" policy '
             'schema) --entities "$1" --request "$2"', COFFER_BIN,
             str(ents), str(req)], capture_output=True, text=True,
            timeout=60)
        assert p.returncode == 0, (action, p.stdout, p.stderr)
    # And the check is not vacuous: an attribute the server never sets.
    bad = json.loads(ents.read_text())
    bad[0]["attrs"]["clearance"] = 3
    ents.write_text(json.dumps(bad))
    p = subprocess.run(
        ["bash", "-c", '"$0" policy validate --schema <("$0" policy '
         'schema) --entities "$1"', COFFER_BIN, str(ents)],
        capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert 'User::"%s": attrs.clearance: attribute not declared' % eve \
        in p.stdout

"""Cedar decides (docs/policy.md "How the server decides"): stored policy
sets take part in every decision with the built-in role templates, one
condition kind at a time, through the real server.

Each test stores its set under a unique name, applies it to principals
and namespaces of its own, and removes it at the end, so the module's
shared server is left as it was."""
import contextlib

import pytest


def put_policy(server, name, text, ns=None):
    body = {"text": text}
    if ns is not None:
        body["ns"] = ns
    r = server.req("PUT", "/v1/policies/" + name, json=body)
    assert r.status_code in (200, 201), r.text
    return r.json()


@contextlib.contextmanager
def policy(server, name, text, ns=None):
    v = put_policy(server, name, text, ns)
    try:
        yield v
    finally:
        r = server.req("DELETE", "/v1/policies/" + name +
                       ("?ns=" + ns if ns else ""))
        assert r.status_code == 200, r.text


def last(server, action, principal):
    recs = [x for x in server.audit_records()
            if x["action"] == action and x["principal"] == principal]
    return recs[-1]


@pytest.fixture
def setup(server, uniq):
    """A namespace with an object, and a reader of it (API token)."""
    ns = uniq("pd")
    server.mkns(ns)
    assert server.put_obj(ns, "m.bin", b"weights").status_code == 201
    name = uniq("rd")
    tok = server.user(name, "reader", ns)
    return ns, name, tok


def test_builtin_role_decides_and_is_named(server, setup):
    ns, name, tok = setup
    assert server.get_obj(ns, "m.bin", token=tok).status_code == 200
    rec = last(server, "object:get", name)
    assert rec["decision"] == "allow"
    assert rec["reasons"] == "role:reader@" + ns


def test_explicit_deny_overrides_role(server, setup, uniq):
    ns, name, tok = setup
    pname = uniq("deny")
    text = ('@id("offboard")\nforbid (principal == User::"%s", action, '
            'resource);\n' % name)
    with policy(server, pname, text) as v:
        r = server.get_obj(ns, "m.bin", token=tok)
        assert r.status_code == 403, r.text
        rec = last(server, "object:get", name)
        assert rec["decision"] == "deny"
        assert rec["reasons"] == "%s/v%d:offboard" % (pname, v["version"])
    # Removed: the role decides again, no restart.
    assert server.get_obj(ns, "m.bin", token=tok).status_code == 200


def test_forbid_by_network(server, setup, uniq):
    ns, name, tok = setup
    pname = uniq("net")
    outside = ('@id("internal-only")\n'
               'forbid (principal == User::"%s", action, resource is Object)\n'
               'unless { context has source_ip &&\n'
               '  context.source_ip.isInRange(ip("10.0.0.0/8")) };\n' % name)
    with policy(server, pname, outside):
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 403
    loopback = outside.replace("10.0.0.0/8", "127.0.0.0/8")
    with policy(server, pname, loopback):
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 200


def test_forbid_by_time_window(server, setup, uniq):
    ns, name, tok = setup
    pname = uniq("time")
    # The window is in the past (deterministic whatever the clock).
    text = ('@id("until-2001")\n'
            'permit (principal, action, resource) when { false };\n'
            '@id("expired")\n'
            'forbid (principal == User::"%s", action in Action::"read",\n'
            '  resource in Namespace::"%s")\n'
            'unless { context.time < datetime("2001-01-01T00:00:00Z") };\n'
            % (name, ns))
    with policy(server, pname, text):
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 403
        rec = last(server, "object:get", name)
        assert rec["reasons"].endswith(":expired")
    hours = ('@id("any-hour")\n'
             'forbid (principal == User::"%s", action, resource)\n'
             'unless { context.hour >= 0 && context.hour <= 23 &&\n'
             '  context.weekday >= 0 && context.weekday <= 6 };\n' % name)
    with policy(server, pname, hours):
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 200


def test_forbid_by_mfa_age(server, setup, uniq):
    ns, name, tok = setup
    pname = uniq("mfa")
    text = ('@id("recent-mfa")\n'
            'forbid (principal == User::"%s", action in Action::"read",\n'
            '  resource)\n'
            'unless { context has mfa_age_s && context.mfa_age_s <= 900 };\n'
            % name)
    with policy(server, pname, text):
        # An API token carries no MFA.
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 403
        sess, _ = server.mfa_session(name)
        assert server.get_obj(ns, "m.bin", token=sess).status_code == 200


def test_forbid_by_sensitivity(server, uniq):
    conf = uniq("conf")
    r = server.post("/v1/ns", {"name": conf, "sensitivity": "confidential"})
    assert r.status_code == 201, r.text
    internal = uniq("int")
    server.mkns(internal)
    name = uniq("ctr")
    tok = server.user(name, "reader")          # a global reader
    for ns in (conf, internal):
        assert server.put_obj(ns, "x", b"1").status_code == 201
        assert server.get_obj(ns, "x", token=tok).status_code == 200
    pname = uniq("sens")
    text = ('@id("below-confidential")\n'
            'forbid (principal == User::"%s", action, resource is Object)\n'
            'when { resource.sensitivity >= 2 };\n' % name)
    with policy(server, pname, text):
        assert server.get_obj(conf, "x", token=tok).status_code == 403
        assert server.get_obj(internal, "x", token=tok).status_code == 200


def test_permit_without_binding(server, setup, uniq):
    """A stored permit grants on its own: no role binding needed."""
    ns, _, _ = setup
    name = uniq("nb")
    tok = server.user(name)
    assert server.get_obj(ns, "m.bin", token=tok).status_code == 403
    pname = uniq("grant")
    text = ('@id("one-object")\n'
            'permit (principal == User::"%s", action == Action::"object:get",'
            '\n  resource == Object::"%s/m.bin");\n' % (name, ns))
    with policy(server, pname, text) as v:
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 200
        rec = last(server, "object:get", name)
        assert rec["reasons"] == "%s/v%d:one-object" % (pname, v["version"])
        # Only that action.
        r = server.get("/v1/ns/%s/objects" % ns, token=tok)
        assert r.status_code == 403


def test_erroring_forbid_denies(server, setup, uniq):
    """Validation rules out missing attributes and type errors; what is
    left (an overflow here) makes a forbid apply, never skips it."""
    ns, name, tok = setup
    pname = uniq("ovf")
    text = ('@id("overflows")\n'
            'forbid (principal == User::"%s", action, resource)\n'
            'when { 9223372036854775807 + context.weekday + 1 > 0 };\n'
            % name)
    with policy(server, pname, text):
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 403
        rec = last(server, "object:get", name)
        assert rec["decision"] == "deny"
        assert ":overflows" in rec["reasons"]
        assert "errors=" in rec["reasons"]


def test_namespace_policy_only_in_its_namespace(server, uniq):
    a, b = uniq("nsa"), uniq("nsb")
    server.mkns(a)
    server.mkns(b)
    name = uniq("gr")
    tok = server.user(name, "reader")
    for ns in (a, b):
        assert server.put_obj(ns, "k", b"1").status_code == 201
    pname = uniq("local")
    text = ('@id("no-reads-here")\n'
            'forbid (principal == User::"%s", action == Action::"object:get",'
            '\n  resource);\n' % name)
    with policy(server, pname, text, ns=a):
        assert server.get_obj(a, "k", token=tok).status_code == 403
        assert server.get_obj(b, "k", token=tok).status_code == 200


def test_schema_invalid_policy_refused_with_location(server, setup, uniq):
    ns, name, tok = setup
    pname = uniq("bad")
    good = ('forbid (principal == User::"%s", action, resource is Object)\n'
            'when { resource.sensitivity >= 3 };\n' % name)
    put_policy(server, pname, good)
    try:
        # source_ip is optional: reading it without `has` is refused.
        bad = ('forbid (principal, action, resource)\n'
               'unless { context.source_ip.isInRange(ip("10.0.0.0/8")) };\n')
        r = server.req("PUT", "/v1/policies/" + pname, json={"text": bad})
        assert r.status_code == 400, r.text
        e = r.json()["error"]
        assert e["code"] == "invalid_policy"
        assert e["message"].startswith("2:10: policy policy0:"), e
        # Nothing changed: the good version is still the one in force.
        r = server.get("/v1/policies/" + pname)
        assert r.json()["version"] == 1 and r.json()["text"] == good
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 200
    finally:
        server.req("DELETE", "/v1/policies/" + pname)


def test_schema_and_builtin_from_cli(cli, tmp_path):
    schema = cli("policy", "schema")
    assert schema.returncode == 0
    assert 'action "object:get" in ["read"]' in schema.stdout
    builtin = cli("policy", "builtin")
    assert builtin.returncode == 0
    assert '@id("ns:reader")' in builtin.stdout
    (tmp_path / "s.cedarschema").write_text(schema.stdout)
    (tmp_path / "b.cedar").write_text(builtin.stdout)
    r = cli("policy", "validate", "--schema", str(tmp_path / "s.cedarschema"),
            "--policies", str(tmp_path / "b.cedar"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_custom_role(server, cli, uniq):
    """coffer role create: a template over the named actions, granted like
    a built-in role, globally or on one namespace."""
    ns, other = uniq("cr"), uniq("cr")
    server.mkns(ns)
    server.mkns(other)
    role = "upl-" + uniq("r")[-6:]
    r = cli("role", "create", role, "--actions", "object:put,object:list")
    assert r.returncode == 0, r.stdout + r.stderr
    ls = cli("role", "ls")
    assert role in ls.stdout and "reader" in ls.stdout
    shown = cli("role", "show", role)
    assert '@id("ns:%s")' % role in shown.stdout

    name = uniq("up")
    tok = server.user(name)
    server.grant(name, role, ns)
    assert server.put_obj(ns, "a", b"1", token=tok).status_code == 201
    rec = [x for x in server.audit_records()
           if x["action"] == "object:put" and x["principal"] == name][-1]
    assert rec["reasons"] == "role:%s@%s" % (role, ns)
    assert server.get("/v1/ns/%s/objects" % ns, token=tok).status_code == 200
    # Only its actions, only on its namespace.
    assert server.get_obj(ns, "a", token=tok).status_code == 403
    assert server.put_obj(other, "a", b"1", token=tok).status_code == 403

    # Unknown actions and built-in names are refused before any request.
    bad = cli("role", "create", "x" + role[1:], "--actions", "object:fly")
    assert bad.returncode == 2 and "object:fly" in bad.stderr
    bad = cli("role", "create", "reader", "--actions", "object:get")
    assert bad.returncode == 2
    # A role that does not exist cannot be granted.
    r = server.post("/v1/bindings", {"principal": name, "role": "nosuch",
                                     "ns": ns})
    assert r.status_code == 400 and r.json()["error"]["code"] == \
        "invalid_name"

    # Removed: the binding grants nothing, at once.
    r = cli("role", "rm", role)
    assert r.returncode == 0, r.stdout + r.stderr
    assert server.put_obj(ns, "b", b"1", token=tok).status_code == 403


def test_purpose_and_user_agent(server, setup, uniq):
    """Personal data needs a declared purpose (X-Coffer-Purpose); the
    User-Agent is in the context too."""
    ns, name, tok = setup
    pname = uniq("purp")
    text = ('@id("pii-needs-purpose")\n'
            'forbid (principal == User::"%s", action in Action::"read",\n'
            '  resource is Object)\n'
            'unless { context has purpose && context.purpose == "dsar" };\n'
            '@id("no-curl")\n'
            'forbid (principal == User::"%s", action, resource)\n'
            'when { context has user_agent &&\n'
            '  context.user_agent like "evil-bot/*" };\n' % (name, name))
    with policy(server, pname, text):
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 403
        r = server.get_obj(ns, "m.bin", token=tok,
                           headers={"X-Coffer-Purpose": "dsar"})
        assert r.status_code == 200, r.text
        r = server.get_obj(ns, "m.bin", token=tok,
                           headers={"X-Coffer-Purpose": "marketing"})
        assert r.status_code == 403
        r = server.get_obj(ns, "m.bin", token=tok,
                           headers={"X-Coffer-Purpose": "dsar",
                                    "User-Agent": "evil-bot/1.0"})
        assert r.status_code == 403
        rec = last(server, "object:get", name)
        assert rec["reasons"].endswith(":no-curl")


def test_user_attribute_against_label(server, setup, uniq):
    """A label on the object (a tag) against an attribute of the user (a
    tag): only the team named by both may read."""
    ns, name, tok = setup
    r = server.req("PUT", "/v1/ns/%s/labels/m.bin" % ns,
                   json={"team": "risk", "pii": "true"})
    assert r.status_code == 200, r.text
    pname = uniq("team")
    text = ('@id("same-team")\n'
            'forbid (principal, action in Action::"read", resource is Object)'
            '\nwhen { resource.hasTag("team") }\n'
            'unless { principal.hasTag("team") &&\n'
            '  principal.getTag("team") == resource.getTag("team") };\n')
    with policy(server, pname, text):
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 403
        r = server.req("PUT", "/v1/users/%s/attributes" % name,
                       json={"team": "risk"})
        assert r.status_code == 200, r.text
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 200
        r = server.req("PUT", "/v1/users/%s/attributes" % name,
                       json={"team": "growth"})
        assert r.status_code == 200, r.text
        assert server.get_obj(ns, "m.bin", token=tok).status_code == 403
        # A namespace label counts for the namespace resource.
        r = server.req("PUT", "/v1/ns/%s/labels" % ns, json={"team": "x"})
        assert r.status_code == 200, r.text
    ns_text = ('@id("ns-team")\n'
               'forbid (principal == User::"%s", action == Action::"ns:get",'
               '\n  resource is Namespace)\n'
               'when { resource.hasTag("team") && '
               'resource.getTag("team") == "x" };\n' % name)
    with policy(server, pname, ns_text):
        assert server.get("/v1/ns/" + ns, token=tok).status_code == 403
    assert server.get("/v1/ns/" + ns, token=tok).status_code == 200


def test_role_entities(server, uniq):
    """The principal's bindings are also its Role parents."""
    ns = uniq("re")
    server.mkns(ns)
    name = uniq("wr")
    tok = server.user(name, "writer", ns)
    assert server.put_obj(ns, "k", b"1", token=tok).status_code == 201
    pname = uniq("role")
    text = ('@id("writers-never-delete")\n'
            'forbid (principal in Role::"writer@%s",\n'
            '  action == Action::"object:delete", resource);\n' % ns)
    with policy(server, pname, text):
        r = server.req("DELETE", "/v1/ns/%s/objects/k" % ns, token=tok)
        assert r.status_code == 403, r.text
        assert server.put_obj(ns, "k", b"2", token=tok).status_code == 201


def test_show_builtin(server, cli):
    r = cli("policy", "show", "builtin")
    assert r.returncode == 0, r.stderr
    assert r.stdout == cli("policy", "builtin").stdout
    r = server.req("PUT", "/v1/policies/builtin",
                   json={"text": "permit(principal, action, resource);"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_name"


def test_version_read_is_decided(server, uniq):
    """A read decides on the version it would return: resource.version
    (id, digest, created_by)."""
    ns = uniq("ver")
    server.mkns(ns)
    name = uniq("vr")
    tok = server.user(name, "writer", ns)
    r = server.put_obj(ns, "m", b"by admin")
    assert r.status_code == 201, r.text
    first = r.json()["version_id"]
    pname = uniq("prov")
    text = ('@id("only-admin-built")\n'
            'forbid (principal == User::"%s", action in Action::"read",\n'
            '  resource is Object)\n'
            'when { resource has version &&\n'
            '  resource.version.created_by != "admin" };\n' % name)
    with policy(server, pname, text):
        assert server.get_obj(ns, "m", token=tok).status_code == 200
        r = server.put_obj(ns, "m", b"by the writer", token=tok)
        assert r.status_code == 201, r.text
        # The latest is the writer's: refused; the admin's by id: read.
        assert server.get_obj(ns, "m", token=tok).status_code == 403
        r = server.req("GET", "/v1/ns/%s/objects/m?version=%s" %
                       (ns, first), token=tok)
        assert r.status_code == 200, r.text
        assert r.content == b"by admin"
        # A key that does not exist: decided (no version), then 404.
        assert server.get_obj(ns, "nope", token=tok).status_code == 404


def test_policy_doc_examples_validate(cli, tmp_path):
    """Every server policy example in docs/policy.md (from "How the
    server decides" to the worked examples) validates against the
    server's schema, except the one shown as unsafe."""
    import os
    import re
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    doc = open(os.path.join(root, "docs", "policy.md")).read()
    part = doc[doc.index("## How the server decides"):
               doc.index("## Checking and trying policies")]
    blocks = [b for b in re.findall(r"```cedar\n(.*?)```", part, re.S)
              if "UNSAFE" not in b]
    assert len(blocks) >= 10
    schema = tmp_path / "coffer.cedarschema"
    schema.write_text(cli("policy", "schema").stdout)
    for i, b in enumerate(blocks):
        f = tmp_path / ("ex%d.cedar" % i)
        f.write_text(b)
        r = cli("policy", "validate", "--schema", str(schema),
                "--policies", str(f))
        assert r.returncode == 0, (b, r.stdout, r.stderr)


def test_context_time_follows_the_servers_clock(tmp_path, uniq):
    """context.time is the core's clock, the one every expiry follows
    (links, break-glass, grants): a time-bounded permit ends when that
    clock passes its bound, so a test can move it."""
    import datetime as dt
    import os

    from conftest import Server
    s = Server(tmp_path / "srv")
    clock = os.path.join(s.workdir, "clock")
    with open(clock, "w") as f:
        f.write("0\n")
    s.env["COFFER_TEST_CLOCK_FILE"] = clock
    s.start()
    try:
        ns = uniq("tc")
        s.mkns(ns)
        assert s.put_obj(ns, "m.bin", b"w").status_code == 201
        name = uniq("tcu")
        s.principal(name)
        tok = s.token(name)["token"]
        until = (dt.datetime.now(dt.timezone.utc) +
                 dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = ('@id("for-a-week")\n'
                'permit (principal == User::"%s",\n'
                '        action == Action::"object:get", resource)\n'
                'when { context.time < datetime("%s") };\n' % (name, until))
        put_policy(s, uniq("week"), text, ns=ns)
        assert s.get_obj(ns, "m.bin", token=tok).status_code == 200
        with open(clock, "w") as f:
            f.write("%d\n" % (8 * 86400))
        assert s.get_obj(ns, "m.bin", token=tok).status_code == 403
    finally:
        s.stop()

"""tests/e2e/test_policy_validate.py: `coffer policy validate`, the
offline check of Cedar policies against a Cedar schema (docs/cli.md,
docs/policy.md).  No server is started."""
import json
import subprocess

from conftest import COFFER_BIN

SCHEMA = """
namespace App {
  entity User = { name: String, age?: Long };
  entity Doc;
  action read appliesTo { principal: [User], resource: [Doc] };
}
"""


def run(tmp_path, schema, policies, *extra):
    s = tmp_path / "s.cedarschema"
    p = tmp_path / "p.cedar"
    s.write_text(schema)
    p.write_text(policies)
    r = subprocess.run([COFFER_BIN, "policy", "validate", "--schema",
                        str(s), "--policies", str(p)] + list(extra),
                       capture_output=True, text=True, timeout=60)
    return r, str(p)


def test_valid_policies_exit_0_silently(tmp_path):
    r, _ = run(tmp_path, SCHEMA, 'permit(principal, action, resource) '
               'when { principal has age && principal.age > 3 };')
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""


def test_errors_name_file_line_col_and_policy(tmp_path):
    r, p = run(tmp_path, SCHEMA, '@id("p1")\npermit(principal, action, '
               'resource) when {\n  principal.age > 3 };')
    assert r.returncode == 1
    assert r.stdout.startswith(p + ":3:3: policy p1: attribute `age` is "
                               "optional")


def test_json_output(tmp_path):
    r, _ = run(tmp_path, SCHEMA, 'permit(principal, action == '
               'App::Action::"write", resource);', "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["valid"] is False
    assert {e["policy"] for e in out["errors"]} == {"policy0"}
    assert any("unrecognized action" in e["message"]
               for e in out["errors"])
    r, _ = run(tmp_path, SCHEMA, 'permit(principal, action, resource);',
               "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"valid": True, "errors": []}


def test_policy_syntax_error_is_invalid(tmp_path):
    r, _ = run(tmp_path, SCHEMA, 'permit(principal, action, resource) '
               'when { 1 + };', "--json")
    assert r.returncode == 1
    err = json.loads(r.stdout)["errors"][0]
    assert err["policy"] is None and err["line"] == 1


def test_schema_errors_and_usage_exit_2(tmp_path):
    r, _ = run(tmp_path, "entity A { x: Nope };", "permit(principal, "
               "action, resource);")
    assert r.returncode == 2
    assert "1:15: undeclared type `Nope`" in r.stderr
    r = subprocess.run([COFFER_BIN, "policy", "validate", "--schema",
                        str(tmp_path / "missing")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    r, _ = run(tmp_path, SCHEMA, "")
    assert r.returncode == 0


def test_coffer_schema_parses_and_builtin_roles_validate(tmp_path):
    # Coffer's own schema (`coffer policy schema`) is what policies for
    # the server are checked against; its built-in role templates must
    # validate against it.
    s = tmp_path / "coffer.cedarschema"
    p = tmp_path / "builtin.cedar"
    for cmd, path in (("schema", s), ("builtin", p)):
        r = subprocess.run([COFFER_BIN, "policy", cmd], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        path.write_text(r.stdout)
    r = subprocess.run([COFFER_BIN, "policy", "validate", "--schema", str(s),
                        "--policies", str(p)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    bad = p.read_text().replace("resource is Object", "resource.nope == 1")
    p.write_text(bad)
    r = subprocess.run([COFFER_BIN, "policy", "validate", "--schema", str(s),
                        "--policies", str(p)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert "attribute `nope` not found" in r.stdout


# ---- entities and requests (--entities, --request) ----

def run_ents(tmp_path, schema, entities=None, request=None, *extra):
    s = tmp_path / "s.cedarschema"
    s.write_text(schema)
    args = [COFFER_BIN, "policy", "validate", "--schema", str(s)]
    for name, value in (("entities", entities), ("request", request)):
        if value is None:
            continue
        f = tmp_path / (name + ".json")
        f.write_text(value if isinstance(value, str) else json.dumps(value))
        args += ["--" + name, str(f)]
    return subprocess.run(args + list(extra), capture_output=True,
                          text=True, timeout=60)


def uid(t, i):
    return {"type": t, "id": i}


def test_entities_valid_exit_0_silently(tmp_path):
    ents = [{"uid": uid("App::User", "a"), "attrs": {"name": "A", "age": 3},
             "parents": []},
            {"uid": uid("App::Doc", "d"), "attrs": {}, "parents": []}]
    req = {"principal": uid("App::User", "a"),
           "action": uid("App::Action", "read"),
           "resource": uid("App::Doc", "d")}
    r = run_ents(tmp_path, SCHEMA, ents, req)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""
    r = run_ents(tmp_path, SCHEMA, ents, None, "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"valid": True, "errors": []}


def test_entity_violations_name_entity_and_path(tmp_path):
    ents = [{"uid": uid("App::User", "a"), "attrs": {"age": "3", "x": 1},
             "parents": [uid("App::Doc", "d")]},
            {"uid": uid("App::Nope", "n"), "attrs": {}, "parents": []}]
    r = run_ents(tmp_path, SCHEMA, ents)
    assert r.returncode == 1, r.stderr
    f = str(tmp_path / "entities.json")
    lines = r.stdout.splitlines()
    assert f + ': App::User::"a": attrs.name: required attribute name ' \
        'is missing' in lines
    assert f + ': App::User::"a": attrs.age: type mismatch: expected ' \
        'Long, found String' in lines
    assert f + ': App::User::"a": attrs.x: attribute not declared in ' \
        'the schema' in lines
    assert any(x.startswith(f + ': App::User::"a": parents[0]: an entity '
                            'of type App::User may not be in one of type '
                            'App::Doc') for x in lines)
    assert f + ': App::Nope::"n": entity type App::Nope is not declared ' \
        'in the schema' in lines
    out = json.loads(run_ents(tmp_path, SCHEMA, ents, None,
                              "--json").stdout)
    assert out["valid"] is False
    assert {"file": f, "entity": 'App::User::"a"', "path": "attrs.x",
            "message": "attribute not declared in the schema"} \
        in out["errors"]


def test_requests_and_loader_problems(tmp_path):
    reqs = [{"principal": uid("App::Doc", "d"),
             "action": uid("App::Action", "read"),
             "resource": uid("App::Doc", "d"), "context": {"x": 1}},
            {"principal": uid("App::User", "a"),
             "action": uid("App::Action", "write"),
             "resource": uid("App::Doc", "d")}]
    r = run_ents(tmp_path, SCHEMA, None, reqs)
    assert r.returncode == 1, r.stderr
    f = str(tmp_path / "request.json")
    lines = r.stdout.splitlines()
    assert any(x.startswith(f + ": request[0]: principal: action "
                            'App::Action::"read" does not apply')
               for x in lines)
    assert f + ": request[0]: context.x: attribute not declared in the " \
        "schema" in lines
    assert f + ': request[1]: action: action App::Action::"write" is ' \
        'not declared in the schema' in lines
    # JSON that does not parse, and a cycle the engine's loader refuses,
    # are violations too; a missing file is not a verdict.
    r = run_ents(tmp_path, SCHEMA, "[{")
    assert r.returncode == 1
    cyc = "entity A in [A];"
    r = run_ents(tmp_path, cyc, [
        {"uid": uid("A", "x"), "attrs": {}, "parents": [uid("A", "y")]},
        {"uid": uid("A", "y"), "attrs": {}, "parents": [uid("A", "x")]}])
    assert r.returncode == 1
    assert "cycle" in r.stdout
    r = subprocess.run([COFFER_BIN, "policy", "validate", "--schema",
                        str(tmp_path / "s.cedarschema"), "--entities",
                        str(tmp_path / "missing.json")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    r = subprocess.run([COFFER_BIN, "policy", "validate", "--schema",
                        str(tmp_path / "s.cedarschema"), "--policies",
                        str(tmp_path / "p"), "--entities",
                        str(tmp_path / "e")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2

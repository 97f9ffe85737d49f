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

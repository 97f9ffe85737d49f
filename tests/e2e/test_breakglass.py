"""tests/e2e/test_breakglass.py: break-glass grants (docs/security.md
"Break-glass", docs/api.md "Break-glass", docs/cli.md).

A principal allowed breakglass:open (admins; here an on-call user through a
policy) takes owner access to one namespace for a bounded time, with fresh
MFA and a reason; the opening is its own record, every request made under
the grant names it in its record, and it can be listed and revoked.  The
grant's expiry by the clock is tested in tests/unit/test_core.c
(test_core_breakglass, with the core's injected clock), not by waiting.
"""

from conftest import EXIT_CONFLICT, EXIT_DENIED, EXIT_OK, EXIT_USAGE
from test_identity import err_code, mkuser, session


def put_policy(srv, name, text):
    r = srv.req("PUT", "/v1/policies/" + name, json={"text": text})
    assert r.status_code in (200, 201), r.text


def records(srv, pred):
    return [r for r in srv.audit_records() if pred(r)]


def test_breakglass_open_use_list_revoke(server, cli, uniq):
    prod = uniq("bgprod")
    server.mkns(prod, "prod")
    oncall, other = uniq("oncall"), uniq("bystander")
    mkuser(server, oncall)
    mkuser(server, other)
    tok, _ = server.mfa_session(oncall)
    otok, _ = server.mfa_session(other)
    path = "/v1/ns/%s/breakglass" % prod

    # No right yet: refused, and no access to the namespace.
    r = server.post(path, {"reason": "INC-1", "seconds": 600}, token=tok)
    assert r.status_code == 403, r.text
    assert server.put_obj(prod, "m", b"x", token=tok).status_code == 403
    p = cli("breakglass", "--ns", prod, "--reason", "INC-1", "--for", "10m",
            token=tok)
    assert p.returncode == EXIT_DENIED, p.stderr

    # A policy gives the on-call user the right on prod namespaces.
    put_policy(server, uniq("oncall-bg"),
               'permit(principal == User::"%s", action == '
               'Action::"breakglass:open", resource)\n'
               'when { resource has env && resource.env == "prod" };'
               % oncall)
    # Bad input: a duration over breakglass_max, no reason.
    r = server.post(path, {"reason": "INC-1", "seconds": 4 * 3600 + 1},
                    token=tok)
    assert r.status_code == 400 and err_code(r) == "bad_request", r.text
    r = server.post(path, {"reason": "", "seconds": 60}, token=tok)
    assert r.status_code == 400, r.text
    r = server.post(path, {"reason": "a\nb", "seconds": 60}, token=tok)
    assert r.status_code == 400, r.text
    r = server.post("/v1/ns/%s/breakglass" % uniq("nosuch"),
                    {"reason": "x", "seconds": 60}, token=tok)
    assert r.status_code in (403, 404), r.text
    p = cli("breakglass", "--ns", prod, "--reason", "x", "--for", "soon",
            token=tok)
    assert p.returncode == EXIT_USAGE, p.stderr
    p = cli("breakglass", "--ns", prod, "--for", "1h", token=tok)
    assert p.returncode == EXIT_USAGE, p.stderr
    # An API token never carries MFA: refused.
    api = server.token(oncall)["token"]
    r = server.post(path, {"reason": "INC-1", "seconds": 60}, token=api)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text

    # Opened through the CLI, with fresh MFA.
    g = cli.json("breakglass", "--ns", prod, "--reason",
                 "INC-4711 roll back the model", "--for", "30m", "--json",
                 token=tok)
    assert g["state"] == "active" and g["ns"] == prod
    assert g["principal"] == oncall
    gid = g["id"]
    rec = records(server, lambda x: x["action"] == "breakglass:open" and
                  x["status"] == 201 and x["principal"] == oncall)
    assert len(rec) == 1, rec
    rec = rec[0]
    assert rec["resource"] == "ns/" + prod and rec["mfa"] is True
    assert rec["status"] == 201
    assert rec["ctx"]["breakglass"] == gid
    assert rec["ctx"]["breakglass_open"]["reason"] == \
        "INC-4711 roll back the model"
    assert rec["ctx"]["breakglass_open"]["expires"] == g["expires"]

    # Owner access now, every request marked with the grant.
    r = server.put_obj(prod, "m", b"fixed", token=tok)
    assert r.status_code == 201, r.text
    rid = r.headers["X-Request-Id"]
    rec = records(server, lambda x: x["request_id"] == rid)[0]
    assert rec["ctx"]["breakglass"] == gid
    r = server.get("/v1/ns/%s/objects" % prod, token=tok)
    assert r.status_code == 200, r.text
    rid = r.headers["X-Request-Id"]
    assert records(server, lambda x: x["request_id"] == rid)[0][
        "ctx"]["breakglass"] == gid
    # Only on that namespace.
    dev = uniq("bgdev")
    server.mkns(dev, "dev")
    assert server.put_obj(dev, "m", b"x", token=tok).status_code == 403
    # The admin's own requests there are not under it.
    r = server.get("/v1/ns/%s/objects" % prod)
    rid = r.headers["X-Request-Id"]
    assert "breakglass" not in records(
        server, lambda x: x["request_id"] == rid)[0].get("ctx", {})

    # Listing: one's own; the admin sees everyone's.
    p = cli("breakglass", "ls", token=tok)
    assert p.returncode == EXIT_OK and gid in p.stdout, p.stderr
    mine = cli.json("breakglass", "ls", "--json", token=tok)["grants"]
    assert [x["id"] for x in mine] == [gid]
    assert cli.json("breakglass", "ls", "--json",
                    token=otok)["grants"] == []
    alls = cli.json("breakglass", "ls", "--json")["grants"]
    assert gid in [x["id"] for x in alls]

    # Someone else cannot revoke it (nor learn whether it exists).
    p = cli("breakglass", "revoke", gid, token=otok)
    assert p.returncode == EXIT_DENIED, p.stderr
    r = server.req("DELETE", "/v1/breakglass/ffffffffffffffff", token=otok)
    assert r.status_code == 403, r.text
    r = server.req("DELETE", "/v1/breakglass/ffffffffffffffff")
    assert r.status_code == 404 and err_code(r) == "no_such_grant", r.text
    # Its holder ends it early; access ends with it.
    g = cli.json("breakglass", "revoke", gid, "--json", token=tok)
    assert g["state"] == "revoked" and g["revoked_by"] == oncall
    assert server.put_obj(prod, "m", b"y", token=tok).status_code == 403
    p = cli("breakglass", "revoke", gid)
    assert p.returncode == EXIT_CONFLICT, p.stderr
    assert cli.json("breakglass", "ls", "--json", token=tok)["grants"] == []
    hist = cli.json("breakglass", "ls", "--all", "--json",
                    token=tok)["grants"]
    assert [x["state"] for x in hist] == ["revoked"]
    rec = records(server, lambda x: x["action"] == "breakglass:revoke" and
                  x["decision"] == "allow")
    assert rec and rec[-1]["resource"] == "breakglass/" + gid


def test_breakglass_needs_mfa_even_for_admin(server, uniq):
    """An admin whose session has no MFA is refused (401 mfa_required,
    recorded as a deny); the 5-minute age limit itself is tested with an
    injected clock in tests/unit/test_core.c."""
    ns = uniq("bgadm")
    server.mkns(ns, "prod")
    name = uniq("bgnomfa")
    mkuser(server, name, role="admin")
    tok = session(server, name)
    r = server.post("/v1/ns/%s/breakglass" % ns,
                    {"reason": "x", "seconds": 60}, token=tok)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    rec = records(server, lambda x: x["action"] == "breakglass:open" and
                  x["principal"] == name)
    assert rec and rec[-1]["decision"] == "deny"
    assert rec[-1]["reasons"].startswith("mfa required")

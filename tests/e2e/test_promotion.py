"""Promotion of artifact versions between environments (docs/artifacts.md
"Promotion", docs/api.md "Promotion", docs/cli.md): a request, distinct
approvers other than the requester (MFA for prod), completion into the
target with the same digest and a lineage link, without re-uploading;
rejection, bad input, context.op for the policies, and a policy that makes
promotion the only way into a prod namespace."""
import filecmp
import hashlib
import os
from datetime import datetime

from conftest import EXIT_DENIED, EXIT_INPUT, EXIT_NOTFOUND, EXIT_OK
from test_identity import err_code, mkuser


def ok(p):
    assert p.returncode == EXIT_OK, (p.returncode, p.stdout, p.stderr)
    return p


def make_tree(root, files):
    for rel, data in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)


def same_tree(a, b):
    c = filecmp.dircmp(a, b)
    assert not c.left_only and not c.right_only and not c.diff_files, \
        (c.left_only, c.right_only, c.diff_files)
    for d in c.common_dirs:
        same_tree(os.path.join(a, d), os.path.join(b, d))


def approve(srv, pid, tok):
    return srv.post("/v1/promotions/%s/approve" % pid, token=tok)


def test_promotion_to_prod(server, cli, uniq, tmp_path):
    dev, dev2, prod = uniq("pdev"), uniq("pdev2"), uniq("pprod")
    server.mkns(dev, "dev")
    server.mkns(dev2, "dev")
    server.mkns(prod, "prod")
    src = tmp_path / "src"
    make_tree(src, {"config.json": b'{"layers": 2}',
                    "weights/a.bin": os.urandom(70000),
                    "weights/b.bin": b"b" * 1000})
    v1 = cli.json("push", dev + "/churn", src, "--kind", "model", "--meta",
                  "framework=pytorch", "--json")

    # Bad input: the same environment, no such target, no such version,
    # a missing --to.
    p = cli("promote", dev + "/churn@1", "--to", dev2)
    assert p.returncode == EXIT_INPUT and "same_environment" in p.stderr, \
        p.stderr
    p = cli("promote", dev + "/churn@1", "--to", uniq("nosuch"))
    assert p.returncode == EXIT_NOTFOUND, p.stderr
    p = cli("promote", dev + "/churn@7", "--to", prod)
    assert p.returncode == EXIT_NOTFOUND, p.stderr
    p = cli("promote", dev + "/churn@1")
    assert p.returncode != EXIT_OK
    r = server.post("/v1/ns/%s/promotions/churn" % dev,
                    {"to": prod, "reason": "a\x01b"})
    assert r.status_code == 400 and err_code(r) == "bad_request", r.text

    req = cli.json("promote", dev + "/churn@1", "--to", prod, "--reason",
                   "CHG-1 ship churn", "--json")
    pid = req["id"]
    assert req["state"] == "open" and req["required"] == 2
    assert req["approvals"] == [] and req["target_version"] is None
    assert (req["ns"], req["name"], req["version"], req["to"]) == \
        (dev, "churn", 1, prod)
    # Nothing in the target yet.
    assert server.get("/v1/ns/%s/artifacts/churn" % prod).status_code == 404

    # One's own: refused (403 own_request), recorded.
    r = approve(server, pid, "admin")
    assert r.status_code == 403 and err_code(r) == "own_request", r.text
    # Approvers: owners of the target.  Without MFA: 401 for prod.
    a1, a2, a3 = uniq("appr1"), uniq("appr2"), uniq("appr3")
    for a in (a1, a2):
        mkuser(server, a, role="owner", ns=prod)
    t1, _ = server.mfa_session(a1)
    t2, _ = server.mfa_session(a2)
    t3 = server.user(a3, role="owner", ns=prod)
    r = approve(server, pid, t3)
    assert r.status_code == 401 and err_code(r) == "mfa_required", r.text
    # A reader of the source who is nothing on the target: 403.
    t4 = server.user(uniq("outsider"), role="reader", ns=dev)
    assert approve(server, pid, t4).status_code == 403
    # Unknown id: 404 for an admin, 403 for others.
    r = approve(server, "0123456789abcdef", "admin")
    assert r.status_code == 404 and err_code(r) == "no_such_promotion"
    assert approve(server, "0123456789abcdef", t1).status_code == 403

    r = approve(server, pid, t1)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "open" and r.json()["approvals"] == [a1]
    # Approving twice does not count twice.
    r = approve(server, pid, t1)
    assert r.status_code == 409 and err_code(r) == "already_approved"
    p = cli("promotion", "approve", pid, token=t2)
    ok(p)
    done = cli.json("promotion", "show", pid, "--json")
    assert done["state"] == "completed" and done["target_version"] == 1
    assert sorted(done["approvals"]) == sorted([a1, a2])
    # Completed: no more approvals or rejections.
    r = approve(server, pid, t1)
    assert r.status_code == 409
    r = server.post("/v1/promotions/%s/reject" % pid)
    assert r.status_code == 409 and err_code(r) == "not_open", r.text

    # The target has the same tree, the same digest, the metadata and a
    # lineage link to the source.
    dst = tmp_path / "dst"
    ok(cli("pull", prod + "/churn@1", dst))
    same_tree(src, dst)
    pv = cli.json("versions", prod + "/churn", "--json")["versions"][0]
    assert pv["digest"] == v1["digest"] and pv["kind"] == "model"
    assert pv["meta"]["framework"] == "pytorch"
    lin = cli.json("lineage", prod + "/churn@1", "--up", "--json")
    assert any(n.get("ns") == dev and n.get("name") == "churn"
               for n in lin["nodes"]), lin
    # Listed for its requester and the target's owners.
    ls = cli.json("promotion", "ls", "--json")["promotions"]
    assert any(x["id"] == pid and x["state"] == "completed" for x in ls)
    assert any(x["id"] == pid for x in
               cli.json("promotion", "ls", "--json", token=t1)["promotions"])
    assert not any(x["id"] == pid for x in cli.json(
        "promotion", "ls", "--json", token=t4)["promotions"])
    text = ok(cli("promotion", "ls")).stdout
    assert pid in text and "completed" in text

    # Every step is recorded with context.op for the policies.
    recs = [r for r in server.audit_records()
            if str(r.get("action", "")).startswith("promotion:")
            and r.get("ctx", {}).get("context", {}).get("op", {}).get(
                "id") == pid]
    acts = [(r["action"], r["status"]) for r in recs]
    assert ("promotion:request", 201) in acts
    assert ("promotion:approve", 403) in acts
    assert ("promotion:approve", 409) in acts
    assert acts.count(("promotion:approve", 200)) == 2
    op = recs[-1]["ctx"]["context"]["op"]
    assert op == {"name": "promotion", "id": pid, "source_ns": dev,
                  "source_env": "dev", "target_ns": prod,
                  "target_env": "prod", "source": "churn@1"}, op



def test_reject_and_no_approval_env(server, cli, uniq, tmp_path):
    stg, dev = uniq("pstg"), uniq("pdev")
    server.mkns(stg, "staging")
    server.mkns(dev, "dev")
    src = tmp_path / "src"
    make_tree(src, {"m.bin": b"model"})
    ok(cli("push", dev + "/m", src, "--kind", "model"))
    req = cli.json("promote", dev + "/m", "--to", stg, "--json")
    assert req["required"] == 1 and req["version"] == 1
    ok(cli("promotion", "reject", req["id"]))
    assert cli.json("promotion", "show", req["id"],
                    "--json")["state"] == "rejected"
    a = uniq("stgowner")
    tok = server.user(a, role="owner", ns=stg)
    r = approve(server, req["id"], tok)
    assert r.status_code == 409 and err_code(r) == "not_open", r.text
    # Staging needs no MFA; one approval completes.
    req = cli.json("promote", dev + "/m@1", "--to", stg, "--json")
    r = approve(server, req["id"], tok)
    assert r.status_code == 200 and r.json()["state"] == "completed", r.text
    # Into dev: no approval needed, completed at once for one who may
    # approve there; refused for one who may not.
    back = uniq("pdev3")
    server.mkns(back, "dev")
    done = cli.json("promote", stg + "/m@1", "--to", back, "--json")
    assert done["state"] == "completed" and done["target_version"] == 1
    w = uniq("stgwriter")
    wt = server.user(w, role="writer", ns=stg)
    p = cli("promote", stg + "/m@1", "--to", back, token=wt)
    assert p.returncode == EXIT_DENIED, p.stderr
    p = cli("promote", stg + "/m@1", "--to", back, "--json", token=wt)
    assert p.returncode == EXIT_DENIED


def test_policy_makes_promotion_the_only_way_into_prod(server, cli, uniq,
                                                       tmp_path):
    dev, prod = uniq("pdev"), uniq("pprod")
    server.mkns(dev, "dev")
    server.mkns(prod, "prod")
    name = uniq("prod-only-by-promotion")
    # The example of docs/artifacts.md, "Promotion", for this namespace.
    text = ('@id("prod-only-by-promotion")\n'
            'forbid (principal, action in [Action::"object:put", '
            'Action::"artifact:push"], resource)\n'
            'when { resource.ns == "%s" };' % prod)
    r = server.req("PUT", "/v1/policies/" + name, json={"text": text})
    assert r.status_code in (200, 201), r.text
    try:
        src = tmp_path / "src"
        make_tree(src, {"w.bin": b"weights"})
        p = cli("push", prod + "/m", src, "--kind", "model")
        assert p.returncode == EXIT_DENIED, p.stderr
        assert server.put_obj(prod, "x", b"x").status_code == 403
        ok(cli("push", dev + "/m", src, "--kind", "model"))
        req = cli.json("promote", dev + "/m@1", "--to", prod, "--json")
        toks = []
        for i in range(2):
            a = uniq("pa%d" % i)
            mkuser(server, a, role="owner", ns=prod)
            toks.append(server.mfa_session(a)[0])
        for t in toks:
            assert approve(server, req["id"], t).status_code == 200
        dst = tmp_path / "dst"
        ok(cli("pull", prod + "/m@1", dst))
        same_tree(src, dst)
    finally:
        r = server.req("DELETE", "/v1/policies/" + name)
        assert r.status_code in (200, 204), r.text


def test_promotion_ttl_configured(make_server, uniq):
    """promotion_ttl sets a request's expiry.  (The refusal of an expired
    request is decided by the store inside the approval's transaction,
    against expires_us; the server's clock is not moved here.)"""
    srv = make_server(["--set", "promotion_ttl=60"])
    dev, stg = uniq("pdev"), uniq("pstg")
    srv.mkns(dev, "dev")
    srv.mkns(stg, "staging")
    assert srv.put_obj(dev, "m/w.bin", b"w").status_code == 201
    vid = srv.versions(dev, "m/w.bin")[0]["version_id"]
    r = srv.post("/v1/ns/%s/artifacts/m" % dev, {"files": [{
        "path": "w.bin", "version_id": vid,
        "sha256": hashlib.sha256(b"w").hexdigest(), "size": 1}]})
    assert r.status_code == 201, r.text
    r = srv.post("/v1/ns/%s/promotions/m" % dev, {"to": stg})
    assert r.status_code == 201, r.text
    j = r.json()

    def t(s):
        return datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
    d = (t(j["expires"]) - t(j["created"])).total_seconds()
    assert 59 <= d <= 61, j

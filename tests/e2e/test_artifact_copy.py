"""Server-side copy of artifact versions (coffer cp; docs/artifacts.md
"Copy", docs/api.md "Artifacts"): no download and no new blob, the same
digest, kind and metadata, a lineage link to the source; decided as
artifact:get on the source and artifact:copy on the target, both recorded;
into a prod namespace only where a stored policy permits it."""
import os

from conftest import EXIT_DENIED, EXIT_INPUT, EXIT_NOTFOUND, EXIT_OK
from test_identity import err_code
from test_promotion import make_tree, ok, same_tree


def copy(srv, dst_ns, dst_name, from_ns, name, version=None, token="admin"):
    body = {"from_ns": from_ns, "from": name}
    if version is not None:
        body["version"] = version
    return srv.post("/v1/ns/%s/artifact-copies/%s" % (dst_ns, dst_name),
                    body, token=token)


def test_cp_shares_blobs_and_links_lineage(server, cli, uniq, tmp_path):
    a, b = uniq("cpa"), uniq("cpb")
    server.mkns(a, "dev")
    server.mkns(b, "staging")
    src = tmp_path / "src"
    make_tree(src, {"config.json": b'{"l": 1}',
                    "weights/w.bin": os.urandom(50000)})
    v1 = cli.json("push", a + "/model", src, "--kind", "model", "--meta",
                  "framework=pytorch", "--json")
    ok(cli("stage", "set", a + "/model@1", "production"))
    blobs = len(server.blob_files())

    out = ok(cli("cp", a + "/model@production", b + "/churn")).stdout
    assert b + "/churn@1" in out and v1["digest"] in out, out
    # No new blob: the copy shares the source's encrypted blobs.
    assert len(server.blob_files()) == blobs
    cv = cli.json("versions", b + "/churn", "--json")["versions"][0]
    assert cv["digest"] == v1["digest"] and cv["kind"] == "model"
    assert cv["meta"]["framework"] == "pytorch"
    dst = tmp_path / "dst"
    ok(cli("pull", b + "/churn@1", dst))
    same_tree(src, dst)
    lin = cli.json("lineage", b + "/churn@1", "--up", "--json")
    assert any(n.get("ns") == a and n.get("name") == "model"
               for n in lin["nodes"]), lin
    # A second copy is the next version of the target.
    j = cli.json("cp", a + "/model", b + "/churn", "--json")
    assert j["version"] == 2 and j["digest"] == v1["digest"]
    # The source is untouched and still reads.
    dst2 = tmp_path / "dst2"
    ok(cli("pull", a + "/model@1", dst2))
    same_tree(src, dst2)

    rec = [r for r in server.audit_records()
           if r.get("action") == "artifact:copy" and r.get("status") == 201]
    assert len(rec) == 2, rec
    op = rec[0]["ctx"]["context"]["op"]
    assert op == {"name": "copy", "source_ns": a, "source_env": "dev",
                  "target_ns": b, "target_env": "staging",
                  "source": "model@1"}, op


def test_cp_refusals(server, cli, uniq, tmp_path):
    a, b = uniq("cpa"), uniq("cpb")
    server.mkns(a, "dev")
    server.mkns(b, "dev")
    src = tmp_path / "src"
    make_tree(src, {"f.bin": b"data"})
    ok(cli("push", a + "/m", src))
    # A writer of the target who may not read the source: refused on
    # the source (artifact:get), whether or not the source exists.
    w = uniq("cpw")
    wt = server.user(w, role="writer", ns=b)
    r = copy(server, b, "m", a, "m", token=wt)
    assert r.status_code == 403, r.text
    r2 = copy(server, b, "m", a, "nosuch", token=wt)
    assert r2.status_code == 403, r2.text
    # A reader of both: refused on the target (artifact:copy).
    rd = uniq("cpr")
    rt = server.user(rd, role="reader", ns=a)
    server.grant(rd, "reader", ns=b)
    r = copy(server, b, "m", a, "m", token=rt)
    assert r.status_code == 403, r.text
    recs = [(x.get("principal"), x.get("action"), x.get("status"))
            for x in server.audit_records()
            if x.get("principal") in (w, rd)]
    assert (w, "artifact:get", 403) in recs, recs
    assert (rd, "artifact:copy", 403) in recs, recs
    # Missing things, to an admin.
    p = cli("cp", a + "/m@9", b + "/m")
    assert p.returncode == EXIT_NOTFOUND, p.stderr
    p = cli("cp", a + "/nosuch", b + "/m")
    assert p.returncode == EXIT_NOTFOUND, p.stderr
    p = cli("cp", a + "/m", uniq("nons") + "/m")
    assert p.returncode == EXIT_NOTFOUND, p.stderr
    r = copy(server, b, "m", a, "m", version="9")
    assert r.status_code == 404 and err_code(r) == "no_such_version"
    p = cli("cp", a + "/m", b + "/m@3")
    assert p.returncode == EXIT_INPUT, p.stderr
    r = copy(server, b, "bad@name", a, "m")
    assert r.status_code == 400 and err_code(r) == "invalid_name", r.text
    assert server.get("/v1/ns/%s/artifacts/m" % b).status_code == 404


def test_cp_into_prod_needs_a_policy(server, cli, uniq, tmp_path):
    dev, prod = uniq("cpdev"), uniq("cpprod")
    server.mkns(dev, "dev")
    server.mkns(prod, "prod")
    src = tmp_path / "src"
    make_tree(src, {"w.bin": b"weights"})
    ok(cli("push", dev + "/m", src, "--kind", "model"))
    # Not even an admin: roles alone never copy into prod.
    p = cli("cp", dev + "/m@1", prod + "/m")
    assert p.returncode == EXIT_DENIED, p.stderr
    assert "promotion_required" in p.stderr or "promote" in p.stderr
    r = copy(server, prod, "m", dev, "m")
    assert r.status_code == 403 and err_code(r) == "promotion_required"
    assert server.get("/v1/ns/%s/artifacts/m" % prod).status_code == 404
    rec = [x for x in server.audit_records()
           if x.get("action") == "artifact:copy" and x.get("status") == 403
           and x.get("ctx", {}).get("context", {}).get("op", {}).get(
               "target_ns") == prod]
    assert rec and "no policy permits" in rec[-1]["reasons"], rec
    # A stored policy that permits it.
    name = uniq("copy-into-prod")
    text = ('@id("copy-into-prod")\n'
            'permit (principal, action == Action::"artifact:copy", '
            'resource)\n'
            'when { resource.ns == "%s" };' % prod)
    r = server.req("PUT", "/v1/policies/" + name, json={"text": text})
    assert r.status_code in (200, 201), r.text
    try:
        j = cli.json("cp", dev + "/m@1", prod + "/m", "--json")
        assert j["version"] == 1
        dst = tmp_path / "dst"
        ok(cli("pull", prod + "/m@1", dst))
        same_tree(src, dst)
    finally:
        r = server.req("DELETE", "/v1/policies/" + name)
        assert r.status_code in (200, 204), r.text

"""Bad input of issue 12 section 6 not covered elsewhere (test_artifacts.py
has an unknown kind and one oversized value; test_promotion.py one's own
approval, a second approval and dev -> dev): metadata too large as a
whole, by entry count at the boundary and through `meta set`; kinds are
exact; the CLI's exit codes for one's own and a repeated approval;
promotion between namespaces of the same environment for prod and for
namespaces without an environment.  Nothing refused leaves a version."""
from conftest import EXIT_CONFLICT, EXIT_DENIED, EXIT_INPUT
from test_identity import err_code
from test_promotion import make_tree, ok


def vpath(ns, name):
    return "/v1/ns/%s/artifact-versions/%s" % (ns, name)


def test_metadata_too_large(server, cli, uniq, tmp_path):
    ns = uniq("badin")
    server.mkns(ns, "dev")
    src = tmp_path / "s"
    make_tree(src, {"a": b"a"})
    # Each entry is valid, the whole is over 4095 bytes of JSON.
    big = {"k%02d" % i: "v" * 250 for i in range(20)}
    r = server.post("/v1/ns/%s/artifacts/m" % ns, {"files": [],
                                                    "meta": big})
    assert r.status_code == 400 and err_code(r) == "metadata_too_large", \
        r.text
    args = []
    for k, v in big.items():
        args += ["--meta", "%s=%s" % (k, v)]
    p = cli("push", ns + "/m", src, *args)
    assert p.returncode == EXIT_INPUT, p.stderr
    assert server.get(vpath(ns, "m")).status_code == 404
    # 32 entries are allowed, 33 are not.
    meta = {"k%02d" % i: "v" for i in range(32)}
    r = server.post("/v1/ns/%s/artifacts/m" % ns, {"files": [],
                                                    "meta": meta})
    assert r.status_code == 201, r.text
    meta["k32"] = "v"
    r = server.post("/v1/ns/%s/artifacts/m" % ns, {"files": [],
                                                    "meta": meta})
    assert r.status_code == 400 and err_code(r) == "metadata_too_large"
    # meta set: the merged result is bounded too, and nothing changes.
    ok(cli("push", ns + "/n", src, "--meta", "a=" + "x" * 250))
    for i in range(14):
        ok(cli("meta", "set", ns + "/n@1", "b%02d=%s" % (i, "y" * 250)))
    p = cli("meta", "set", ns + "/n@1", "c=" + "z" * 250)
    assert p.returncode == EXIT_INPUT, p.stderr
    r = server.req("PATCH", "/v1/ns/%s/artifacts/n?version=1" % ns,
                   json={"c": "z" * 250})
    assert r.status_code == 400 and err_code(r) == "metadata_too_large"
    v = cli.json("versions", ns + "/n", "--json")["versions"][0]
    assert "c" not in v["meta"] and len(v["meta"]) == 15


def test_kind_is_exact(server, cli, uniq, tmp_path):
    ns = uniq("badin")
    server.mkns(ns, "dev")
    for kind in ("Model", "model ", "", "x" * 100):
        r = server.post("/v1/ns/%s/artifacts/k" % ns,
                        {"files": [], "kind": kind})
        assert r.status_code == 400 and err_code(r) == "invalid_kind", \
            (kind, r.text)
    r = server.post("/v1/ns/%s/artifacts/k" % ns, {"files": [], "kind": 3})
    assert r.status_code == 400, r.text
    assert server.get(vpath(ns, "k")).status_code == 404


def test_promotion_bad_input(server, cli, uniq, tmp_path):
    p1, p2, n1, n2, stg = (uniq("bprod"), uniq("bprod"), uniq("bnone"),
                           uniq("bnone"), uniq("bstg"))
    server.mkns(p1, "prod")
    server.mkns(p2, "prod")
    server.mkns(n1)
    server.mkns(n2)
    server.mkns(stg, "staging")
    src = tmp_path / "s"
    make_tree(src, {"w": b"w"})
    r = server.post("/v1/ns/%s/artifacts/m" % p1, {"files": []})
    assert r.status_code == 201, r.text
    ok(cli("push", n1 + "/m", src))
    for a, b in ((p1, p2), (n1, n2)):
        r = server.post("/v1/ns/%s/promotions/m" % a, {"to": b})
        assert r.status_code == 400 and err_code(r) == "same_environment", \
            r.text
    # Into itself: the same environment as well.
    r = server.post("/v1/ns/%s/promotions/m" % n1, {"to": n1})
    assert r.status_code == 400 and err_code(r) == "same_environment"
    ok(cli("push", stg + "/m", src))
    # Back from staging to a namespace without environment: another one.
    req = cli.json("promote", n1 + "/m@1", "--to", stg, "--json")
    # The CLI's exit codes: one's own approval 4, a second approval 6.
    p = cli("promotion", "approve", req["id"])
    assert p.returncode == EXIT_DENIED, p.stderr
    tok = server.user(uniq("stgowner"), role="owner", ns=stg)
    w = server.user(uniq("w2"), role="writer", ns=n1)
    req2 = cli.json("promote", n1 + "/m@1", "--to", p1, "--json", token=w)
    a = uniq("pown")
    from test_identity import mkuser
    mkuser(server, a, role="owner", ns=p1)
    t1, _ = server.mfa_session(a)
    ok(cli("promotion", "approve", req2["id"], token=t1))
    p = cli("promotion", "approve", req2["id"], token=t1)
    assert p.returncode == EXIT_CONFLICT, p.stderr
    # Reject / withdraw of a completed request.
    ok(cli("promotion", "approve", req["id"], token=tok))
    p = cli("promotion", "reject", req["id"])
    assert p.returncode == EXIT_CONFLICT, p.stderr

"""Artifacts through the real server and CLI (docs/artifacts.md): push and
pull of a folder as one version, kinds and metadata, sensitivity and
lineage, stages; with the bad inputs of each."""
import filecmp
import hashlib
import json
import os
import urllib.parse

import pytest
from conftest import (EXIT_DENIED, EXIT_INPUT, EXIT_NOTFOUND, EXIT_OK)

NS = "art-e2e"
OTHER = "art-e2e-other"


@pytest.fixture(scope="module")
def ns(server):
    server.mkns(NS)
    server.mkns(OTHER)
    return NS


def ok(p):
    assert p.returncode == EXIT_OK, (p.returncode, p.stdout, p.stderr)
    return p


def make_tree(root, files):
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return files


def same_tree(a, b):
    def walk(c):
        assert c.left_only == [] and c.right_only == [], \
            (c.left, c.left_only, c.right_only)
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right,
                                               c.common_files, shallow=False)
        assert mismatch == [] and errors == [], (mismatch, errors)
        for sub in c.subdirs.values():
            walk(sub)
    walk(filecmp.dircmp(a, b))


def manifest_digest(files):
    """The documented digest: SHA-256 over the canonical manifest."""
    h = hashlib.sha256(b"coffer-manifest-v1\n")
    for rel in sorted(files, key=lambda s: s.encode()):
        data = files[rel]
        h.update(("%s %d " % (hashlib.sha256(data).hexdigest(),
                              len(data))).encode() + rel.encode() + b"\n")
    return h.hexdigest()


def art_path(what, ns, name, **q):
    p = "/v1/ns/%s/%s/%s" % (ns, what, name)
    if q:
        p += "?" + "&".join("%s=%s" % kv for kv in q.items())
    return p


# ---- push, pull, versions ----

def test_push_pull_versions(server, cli, ns, tmp_path):
    src = tmp_path / "model"
    files = make_tree(src, {"config.json": b'{"layers": 2}',
                            "weights/shard-0.bin": os.urandom(3000),
                            "weights/shard-1.bin": os.urandom(5000),
                            "tokenizer/vocab.txt": b"a\nb\n"})
    j = json.loads(ok(cli("push", NS + "/churn", src, "--kind", "model",
                          "--meta", "framework=pytorch",
                          "--json")).stdout)
    assert j["version"] == 1 and j["kind"] == "model"
    assert j["files"] == 4
    assert j["size"] == sum(len(d) for d in files.values())
    assert j["meta"] == {"framework": "pytorch"}
    assert j["digest"] == manifest_digest(files)
    assert len(j["version_id"]) == 32
    # The same tree again: version 2, the same digest, nothing uploaded.
    j2 = json.loads(ok(cli("push", NS + "/churn", src, "--json")).stdout)
    assert j2["version"] == 2 and j2["digest"] == j["digest"]
    assert j2["kind"] == "other"
    assert len(server.versions(NS, "churn/config.json")) == 1
    # A changed file: version 3, a new digest.
    (src / "config.json").write_bytes(b'{"layers": 3}')
    j3 = json.loads(ok(cli("push", NS + "/churn", src, "--kind", "model",
                           "--json")).stdout)
    assert j3["version"] == 3 and j3["digest"] != j["digest"]

    dst = tmp_path / "v1"
    ok(cli("pull", NS + "/churn@1", dst))
    want = tmp_path / "want1"
    files["config.json"] = b'{"layers": 2}'
    make_tree(want, files)
    same_tree(want, dst)
    latest = tmp_path / "latest"
    ok(cli("pull", NS + "/churn", latest))
    same_tree(src, latest)
    # By long id too.
    byid = tmp_path / "byid"
    ok(cli("pull", NS + "/churn@" + j["version_id"], byid))
    same_tree(want, byid)

    v = cli.json("versions", NS + "/churn", "--json")
    assert [x["version"] for x in v["versions"]] == [3, 2, 1]
    for x in v["versions"]:
        assert x["created_by"] and x["created"] and x["digest"]
        assert x["size"] > 0
    assert v["versions"][2]["kind"] == "model"
    text = ok(cli("versions", NS + "/churn")).stdout
    assert "model" in text and j["digest"][:16] in text
    # Objects keep their own versions (--object, or no artifact).
    o = cli.json("versions", NS + "/churn/config.json", "--json")
    assert len(o["versions"]) == 2
    # Audited as artifact:push.
    assert any(r.get("action") == "artifact:push"
               for r in server.audit_records())


def test_head_shows_the_artifact(server, cli, ns, tmp_path):
    """`coffer head NS/NAME` of an artifact (no object of that key) shows
    its latest version: kind, digest, metadata, sensitivity."""
    src = tmp_path / "h"
    files = make_tree(src, {"w.bin": b"weights", "cfg.json": b"{}"})
    ok(cli("push", NS + "/headed", src, "--kind", "dataset", "--meta",
           "owner=ml-team"))
    p = ok(cli("head", NS + "/headed"))
    assert "artifact:      %s/headed@1" % NS in p.stdout
    assert "kind:          dataset" in p.stdout
    assert "digest:        " + manifest_digest(files) in p.stdout
    assert "meta owner: ml-team" in p.stdout
    j = json.loads(ok(cli("head", NS + "/headed", "--json")).stdout)
    assert j["kind"] == "dataset" and j["version"] == 1
    assert j["meta"] == {"owner": "ml-team"} and "manifest" not in j
    # Neither an object nor an artifact: the object's 404.
    p = cli("head", NS + "/nothing-here")
    assert p.returncode == EXIT_NOTFOUND, p.stderr


def test_pull_as_of(server, cli, ns, tmp_path):
    src = tmp_path / "d"
    make_tree(src, {"a.csv": b"1\n"})
    v1 = cli.json("push", NS + "/asof", src, "--kind", "dataset", "--json")
    (src / "a.csv").write_bytes(b"2\n")
    ok(cli("push", NS + "/asof", src))
    dst = tmp_path / "o"
    ok(cli("pull", NS + "/asof", dst, "--as-of", v1["created"]))
    assert (dst / "a.csv").read_bytes() == b"1\n"
    p = cli("pull", NS + "/asof", tmp_path / "x", "--as-of",
            "2000-01-01T00:00:00Z")
    assert p.returncode == EXIT_NOTFOUND, p.stderr


def test_interrupted_push_leaves_no_version_and_retry_completes(
        server, cli, ns, tmp_path):
    src = tmp_path / "m"
    files = make_tree(src, {"f%d" % i: os.urandom(100 + i)
                            for i in range(5)})
    p = cli("push", NS + "/interrupted", src,
            env={"COFFER_TEST_PUSH_STOP_AFTER": "2"})
    assert p.returncode != EXIT_OK
    # Two files went up as objects; no artifact version exists.
    assert len(server.versions(NS, "interrupted/f0")) == 1
    r = server.get(art_path("artifact-versions", NS, "interrupted"))
    assert r.status_code == 404 and \
        r.json()["error"]["code"] == "no_such_artifact", r.text
    # A commit naming an object version that is not there is refused
    # whole: still no version.
    body = {"files": [{"path": "f0", "version_id": "0" * 32,
                       "sha256": hashlib.sha256(files["f0"]).hexdigest(),
                       "size": len(files["f0"])}]}
    r = server.post(art_path("artifacts", NS, "interrupted"), body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_manifest"
    r = server.get(art_path("artifact-versions", NS, "interrupted"))
    assert r.status_code == 404
    # The retry reuses the two files and completes.
    j = cli.json("push", NS + "/interrupted", src, "--json")
    assert j["version"] == 1 and j["files"] == 5
    assert j["digest"] == manifest_digest(files)
    assert len(server.versions(NS, "interrupted/f0")) == 1
    dst = tmp_path / "back"
    ok(cli("pull", NS + "/interrupted", dst))
    same_tree(src, dst)


def test_manifest_cannot_name_other_objects(server, ns):
    # An object version of another key (or namespace) is not a file of
    # the artifact, whatever its digest.
    data = b"secret"
    r = server.put_obj(OTHER, "x/f", data)
    assert r.status_code == 201
    body = {"files": [{"path": "f", "version_id": r.json()["version_id"],
                       "sha256": hashlib.sha256(data).hexdigest(),
                       "size": len(data)}]}
    r = server.post(art_path("artifacts", NS, "x"), body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_manifest"


def test_bad_input(server, cli, ns, tmp_path):
    src = tmp_path / "s"
    make_tree(src, {"a": b"a"})
    p = cli("push", NS + "/bad", src, "--kind", "weights")
    assert p.returncode == EXIT_INPUT and "kind" in p.stderr, p.stderr
    r = server.post(art_path("artifacts", NS, "bad"),
                    {"files": [], "kind": "weights"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_kind"
    p = cli("push", NS + "/bad", src, "--meta", "notes=" + "x" * 300)
    assert p.returncode == EXIT_INPUT, p.stderr
    many = []
    for i in range(40):
        many += ["--meta", "k%d=v" % i]
    p = cli("push", NS + "/bad", src, *many)
    assert p.returncode == EXIT_INPUT, p.stderr
    r = server.post(art_path("artifacts", NS, "bad"),
                    {"files": [], "meta": {"k": "x" * 300}})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "metadata_too_large"
    for bad in ("a/../b", "a//b", "./a", "a@b", "a/"):
        # Encoded, so that the HTTP client does not tidy the path.
        r = server.post(art_path("artifacts", NS,
                                 urllib.parse.quote(bad, safe="")),
                        {"files": []})
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid_name", r.text
    # None of it made a version.
    r = server.get(art_path("artifact-versions", NS, "bad"))
    assert r.status_code == 404


def test_meta_set(server, cli, ns, tmp_path):
    src = tmp_path / "s"
    make_tree(src, {"a": b"a"})
    ok(cli("push", NS + "/metas", src, "--meta", "framework=pytorch"))
    ok(cli("meta", "set", NS + "/metas@1", "accuracy=0.93"))
    v = cli.json("versions", NS + "/metas", "--json")["versions"][0]
    assert v["meta"] == {"framework": "pytorch", "accuracy": "0.93"}
    ok(cli("meta", "rm", NS + "/metas@1", "framework"))
    v = cli.json("versions", NS + "/metas", "--json")["versions"][0]
    assert v["meta"] == {"accuracy": "0.93"}
    p = cli("meta", "set", NS + "/metas@1", "big=" + "y" * 400)
    assert p.returncode == EXIT_INPUT, p.stderr
    p = cli("meta", "set", NS + "/metas@9", "a=b")
    assert p.returncode == EXIT_NOTFOUND, p.stderr


# ---- stages ----

def test_stages(server, cli, ns, tmp_path):
    src = tmp_path / "s"
    make_tree(src, {"w": b"one"})
    ok(cli("push", NS + "/staged", src, "--kind", "model"))
    (src / "w").write_bytes(b"two")
    ok(cli("push", NS + "/staged", src, "--kind", "model"))
    ok(cli("stage", "set", NS + "/staged@1", "production"))
    ok(cli("stage", "set", NS + "/staged@2", "staging"))
    dst = tmp_path / "p"
    ok(cli("pull", NS + "/staged@production", dst))
    assert (dst / "w").read_bytes() == b"one"
    ok(cli("stage", "set", NS + "/staged@2", "production"))
    dst2 = tmp_path / "p2"
    ok(cli("pull", NS + "/staged@production", dst2))
    assert (dst2 / "w").read_bytes() == b"two"
    s = cli.json("stage", "ls", NS + "/staged", "--json")
    assert s["stages"] == {"production": 2, "staging": 2}
    assert [(h["stage"], h["number"]) for h in s["history"]] == \
        [("production", 1), ("staging", 2), ("production", 2)]
    assert all(h["by"] and h["at"] for h in s["history"])
    v = cli.json("versions", NS + "/staged", "--json")
    assert sorted(v["versions"][0]["stages"]) == ["production", "staging"]
    # A stage on a missing version: 404, nothing moves.
    p = cli("stage", "set", NS + "/staged@7", "production")
    assert p.returncode == EXIT_NOTFOUND, p.stderr
    r = server.req("PUT", art_path("stages", NS, "nosuch"),
                   json={"stage": "production", "version": 1})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_such_artifact"
    assert cli.json("stage", "ls", NS + "/staged",
                    "--json")["stages"]["production"] == 2
    p = cli("stage", "set", NS + "/staged@1", "Bad Name")
    assert p.returncode == EXIT_INPUT
    ok(cli("stage", "rm", NS + "/staged", "staging"))
    s = cli.json("stage", "ls", NS + "/staged", "--json")
    assert s["stages"] == {"production": 2}
    assert s["history"][-1]["number"] is None
    p = cli("pull", NS + "/staged@staging", tmp_path / "none")
    assert p.returncode == EXIT_NOTFOUND
    recs = [r for r in server.audit_records()
            if r.get("action") == "version:set-stage"]
    assert recs
    # The policies see the stage as context.op.stage, and so does the
    # record of the decision.
    assert all(r["ctx"]["context"]["op"] == {"name": "stage",
                                             "stage": "production"}
               for r in recs if r.get("status") == 200
               and r["ctx"]["context"].get("op", {}).get("stage") ==
               "production")
    assert any(r["ctx"]["context"].get("op", {}).get("stage") == "staging"
               for r in recs)


# ---- sensitivity and lineage ----

def test_lineage_and_sensitivity(server, cli, ns, tmp_path):
    d = tmp_path / "d"
    make_tree(d, {"rows.csv": b"x,y\n"})
    ds = cli.json("push", NS + "/customers", d, "--kind", "dataset",
                  "--meta", "pii=true", "--sensitivity", "restricted",
                  "--json")
    assert ds["sensitivity"] == "restricted"
    m = tmp_path / "m"
    make_tree(m, {"w.bin": b"weights"})
    # Too low for what it was made from.
    p = cli("push", NS + "/fraud-model", m, "--derived-from",
            NS + "/customers@1", "--sensitivity", "internal")
    assert p.returncode == EXIT_INPUT, p.stderr
    mv = cli.json("push", NS + "/fraud-model", m, "--kind", "model",
                  "--derived-from", NS + "/customers@1", "--json")
    assert mv["sensitivity"] == "restricted"
    assert mv["meta"]["pii"] == "true"
    e = tmp_path / "e"
    make_tree(e, {"metrics.json": b'{"auc": 0.9}'})
    ev = cli.json("push", NS + "/fraud-eval", e, "--kind", "evaluation",
                  "--derived-from", NS + "/fraud-model@1", "--json")
    assert ev["sensitivity"] == "restricted"
    # pii cannot be dropped from a derived version.
    p = cli("meta", "rm", NS + "/fraud-model@1", "pii")
    assert p.returncode == EXIT_INPUT

    up = cli.json("lineage", NS + "/fraud-eval@1", "--up", "--json")
    ids = sorted(n["id"] for n in up["nodes"])
    assert ids == [NS + "/customers@1", NS + "/fraud-model@1"]
    assert {"from": NS + "/fraud-model@1", "to": NS + "/fraud-eval@1"} \
        in up["edges"]
    down = cli.json("lineage", NS + "/customers@1", "--down", "--json")
    assert sorted(n["id"] for n in down["nodes"]) == \
        [NS + "/fraud-eval@1", NS + "/fraud-model@1"]
    assert down["hidden"] == 0

    # Raising needs write; lowering needs admin with MFA and a reason.
    ok(cli("classify", NS + "/fraud-eval@1", "restricted"))
    p = cli("classify", NS + "/fraud-eval@1", "internal")
    assert p.returncode != EXIT_OK
    writer = server.user("art-writer", "writer", NS)
    p = cli("classify", NS + "/fraud-eval@1", "internal", "--reason",
            "aggregate metrics only", token=writer)
    assert p.returncode in (EXIT_DENIED, 3), p.stderr
    r = server.req("PUT", art_path("artifact-sensitivity", NS, "fraud-eval",
                                   version="1"),
                   json={"sensitivity": "confidential",
                         "reason": "aggregate metrics only"})
    assert r.status_code == 200, r.text
    assert r.json()["sensitivity"] == "confidential"
    assert r.json()["declassified"] == "aggregate metrics only"
    # The reason is in the decision's record, not only on the version.
    rid = r.headers["X-Request-Id"]
    rec = server.wait_audit(lambda a: a.get("request_id") == rid)
    assert rec["action"] == "artifact:set-sensitivity"
    assert rec["ctx"]["context"]["op"] == {
        "name": "declassify", "reason": "aggregate metrics only"}, rec
    v = cli.json("versions", NS + "/fraud-eval", "--json")["versions"][0]
    assert v["sensitivity"] == "confidential"


def test_derived_from_missing_and_unreadable_look_the_same(
        server, cli, ns, tmp_path):
    d = tmp_path / "d"
    make_tree(d, {"a": b"a"})
    ok(cli("push", OTHER + "/hidden-ds", d, "--kind", "dataset"))
    user = server.user("art-lineage-user", "writer", NS)
    answers = []
    for ref in (OTHER + "/hidden-ds@1", OTHER + "/no-such-ds@1",
                NS + "/no-such@1"):
        r = server.post(art_path("artifacts", NS, "derived"),
                        {"files": [], "derived_from": [ref]}, token=user)
        assert r.status_code == 400, r.text
        err = r.json()["error"]
        answers.append((r.status_code, err["code"],
                        err["message"].replace(ref, "REF")))
    assert answers[0] == answers[1] == answers[2], answers
    assert answers[0][1] == "invalid_source"
    # The admin may read it: accepted; the user's lineage of that
    # version counts the source as hidden, never names it.
    r = server.post(art_path("artifacts", NS, "derived"),
                    {"files": [], "derived_from": [OTHER + "/hidden-ds@1"]})
    assert r.status_code == 201, r.text
    server.grant("art-lineage-user", "reader", NS)
    r = server.get(art_path("lineage", NS, "derived", version="1",
                            direction="up"), token=user)
    assert r.status_code == 200, r.text
    assert r.json()["nodes"] == [] and r.json()["hidden"] == 1
    assert "hidden-ds" not in r.text


def test_reader_cannot_push_or_move_stages(server, cli, ns, tmp_path):
    d = tmp_path / "d"
    make_tree(d, {"a": b"a"})
    ok(cli("push", NS + "/guarded", d))
    reader = server.user("art-reader", "reader", NS)
    p = cli("stage", "set", NS + "/guarded@1", "production", token=reader)
    assert p.returncode == EXIT_DENIED, p.stderr
    r = server.post(art_path("artifacts", NS, "guarded"), {"files": []},
                    token=reader)
    assert r.status_code == 403
    dst = tmp_path / "r"
    ok(cli("pull", NS + "/guarded", dst, token=reader))
    assert (dst / "a").read_bytes() == b"a"

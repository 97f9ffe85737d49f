"""Cedar policies decide on the artifact model (docs/artifacts.md
"Policies on artifacts"): resource.artifact (number, kind, sensitivity,
version id, stages) on artifact actions and on reads of an artifact's
files, context.op.stage on version:set-stage, and an artifact version's own
sensitivity raising the Object's.  Through the real server and CLI."""
import contextlib
import json

import pytest
from conftest import EXIT_DENIED, EXIT_INPUT, EXIT_OK

NS = "artpol"


def ok(p):
    assert p.returncode == EXIT_OK, (p.returncode, p.stdout, p.stderr)
    return p


@contextlib.contextmanager
def policy(server, name, text, ns=None):
    body = {"text": text}
    if ns is not None:
        body["ns"] = ns
    r = server.req("PUT", "/v1/policies/" + name, json=body)
    assert r.status_code in (200, 201), r.text
    try:
        yield r.json()
    finally:
        r = server.req("DELETE", "/v1/policies/" + name +
                       ("?ns=" + ns if ns else ""))
        assert r.status_code == 200, r.text


def push(cli, tmp_path, name, data, *extra):
    d = tmp_path / ("src-" + name.replace("/", "_") + str(len(data)))
    d.mkdir(exist_ok=True)
    (d / "w.bin").write_bytes(data)
    return json.loads(ok(cli("push", NS + "/" + name, d, "--json",
                             *extra)).stdout)


def file_version(server, name, number):
    r = server.get("/v1/ns/%s/artifacts/%s?version=%d" % (NS, name, number))
    assert r.status_code == 200, r.text
    (f,) = r.json()["manifest"]
    return f["version_id"]


def last(server, action, principal):
    recs = [x for x in server.audit_records()
            if x.get("action") == action and x.get("principal") == principal]
    assert recs, (action, principal)
    return recs[-1]


@pytest.fixture(scope="module")
def ns(server):
    server.mkns(NS)
    return NS


def test_consumers_read_only_production(server, cli, ns, tmp_path):
    """Version-level access: a consumer reads only the version staged
    production, through the artifact API and through its files' objects
    alike, and loses the old one when the stage moves."""
    tok = server.user("consumer", "reader", NS)
    push(cli, tmp_path, "churn", b"one", "--kind", "model")
    push(cli, tmp_path, "churn", b"two", "--kind", "model")
    ok(cli("stage", "set", NS + "/churn@1", "production"))
    v1 = file_version(server, "churn", 1)
    v2 = file_version(server, "churn", 2)
    text = ('@id("prod-only")\n'
            'forbid (principal == User::"consumer",\n'
            '        action in [Action::"artifact:get", Action::"object:get",\n'
            '                   Action::"object:head"],\n'
            '        resource)\n'
            'unless { resource has artifact &&\n'
            '         resource.artifact.stages.contains("production") };\n')
    with policy(server, "prod-only", text, ns=NS):
        d = tmp_path / "p1"
        ok(cli("pull", NS + "/churn@production", d, token=tok))
        assert (d / "w.bin").read_bytes() == b"one"
        p = cli("pull", NS + "/churn@2", tmp_path / "p2", token=tok)
        assert p.returncode == EXIT_DENIED, p.stderr
        rec = last(server, "artifact:get", "consumer")
        assert rec["decision"] == "deny"
        assert "prod-only" in rec["reasons"]
        # The files are objects: reading them directly is decided on the
        # artifact versions they belong to.
        r = server.get("/v1/ns/%s/objects/churn/w.bin?version=%s" %
                       (NS, v1), token=tok)
        assert r.status_code == 200 and r.content == b"one"
        r = server.get("/v1/ns/%s/objects/churn/w.bin?version=%s" %
                       (NS, v2), token=tok)
        assert r.status_code == 403, r.text
        r = server.get("/v1/ns/%s/objects/churn/w.bin" % NS, token=tok)
        assert r.status_code == 403, r.text    # the latest is v2's file
        # Moving the stage moves the access, at once.
        ok(cli("stage", "set", NS + "/churn@2", "production"))
        r = server.get("/v1/ns/%s/objects/churn/w.bin" % NS, token=tok)
        assert r.status_code == 200 and r.content == b"two"
        r = server.get("/v1/ns/%s/objects/churn/w.bin?version=%s" %
                       (NS, v1), token=tok)
        assert r.status_code == 403, r.text
        p = cli("pull", NS + "/churn@1", tmp_path / "p3", token=tok)
        assert p.returncode == EXIT_DENIED
    # Without the policy the reader role reads every version.
    r = server.get("/v1/ns/%s/objects/churn/w.bin?version=%s" % (NS, v1),
                   token=tok)
    assert r.status_code == 200


def test_only_some_move_production(server, cli, ns, tmp_path):
    """context.op.stage: a writer may move staging but not production."""
    tok = server.user("trainer", "writer", NS)
    push(cli, tmp_path, "ranker", b"r1", "--kind", "model")
    text = ('@id("release-managers")\n'
            'forbid (principal == User::"trainer",\n'
            '        action == Action::"version:set-stage", resource)\n'
            'when { context has op && context.op has stage &&\n'
            '       context.op.stage == "production" };\n')
    with policy(server, "release", text, ns=NS):
        ok(cli("stage", "set", NS + "/ranker@1", "staging", token=tok))
        p = cli("stage", "set", NS + "/ranker@1", "production", token=tok)
        assert p.returncode == EXIT_DENIED, p.stderr
        rec = last(server, "version:set-stage", "trainer")
        assert rec["decision"] == "deny"
        # Removing a stage is moving it too.
        ok(cli("stage", "set", NS + "/ranker@1", "production"))
        p = cli("stage", "rm", NS + "/ranker", "production", token=tok)
        assert p.returncode == EXIT_DENIED, p.stderr
    s = cli.json("stage", "ls", NS + "/ranker", "--json")
    assert s["stages"] == {"production": 1, "staging": 1}


def test_policy_by_kind(server, cli, ns, tmp_path):
    tok = server.user("modeler", "reader", NS)
    push(cli, tmp_path, "users-ds", b"rows", "--kind", "dataset")
    push(cli, tmp_path, "scorer", b"net", "--kind", "model")
    text = ('@id("no-datasets")\n'
            'forbid (principal == User::"modeler",\n'
            '        action in [Action::"artifact:get", Action::"object:get"],\n'
            '        resource)\n'
            'when { resource has artifact &&\n'
            '       resource.artifact.kind == "dataset" };\n')
    with policy(server, "kinds", text, ns=NS):
        ok(cli("pull", NS + "/scorer", tmp_path / "m", token=tok))
        p = cli("pull", NS + "/users-ds", tmp_path / "d", token=tok)
        assert p.returncode == EXIT_DENIED, p.stderr
        r = server.get("/v1/ns/%s/objects/users-ds/w.bin" % NS, token=tok)
        assert r.status_code == 403, r.text


def test_artifact_sensitivity_raises_the_object(server, cli, ns, tmp_path):
    """A restricted artifact version in an internal namespace: its files
    are restricted data (MFA), and policies see the higher level."""
    tok = server.user("analyst", "reader", NS)
    push(cli, tmp_path, "secret-ds", b"pii rows", "--kind", "dataset")
    r = server.get("/v1/ns/%s/objects/secret-ds/w.bin" % NS, token=tok)
    assert r.status_code == 200
    ok(cli("classify", NS + "/secret-ds@1", "restricted"))
    # An API token carries no MFA: the file is restricted data now.
    r = server.get("/v1/ns/%s/objects/secret-ds/w.bin" % NS, token=tok)
    assert r.status_code in (401, 403), r.text
    assert r.json()["error"]["code"] == "mfa_required"
    assert "restricted" in r.json()["error"]["message"]
    p = cli("pull", NS + "/secret-ds", tmp_path / "s", token=tok)
    assert p.returncode != EXIT_OK
    # A policy on resource.sensitivity sees the artifact's level.
    push(cli, tmp_path, "conf-ds", b"c", "--kind", "dataset")
    ok(cli("classify", NS + "/conf-ds@1", "confidential"))
    text = ('@id("no-confidential")\n'
            'forbid (principal == User::"analyst",\n'
            '        action == Action::"object:get", resource)\n'
            'when { resource has sensitivity && resource.sensitivity >= 2 };\n')
    with policy(server, "sens", text, ns=NS):
        r = server.get("/v1/ns/%s/objects/conf-ds/w.bin" % NS, token=tok)
        assert r.status_code == 403, r.text
        push(cli, tmp_path, "open-ds", b"o", "--kind", "dataset")
        r = server.get("/v1/ns/%s/objects/open-ds/w.bin" % NS, token=tok)
        assert r.status_code == 200, r.text


def test_stage_limit(server, cli, ns, tmp_path):
    push(cli, tmp_path, "many", b"m")
    for i in range(16):
        ok(cli("stage", "set", NS + "/many@1", "s%d" % i))
    p = cli("stage", "set", NS + "/many@1", "one-too-many")
    assert p.returncode == EXIT_INPUT, p.stderr
    assert "at most 16 stages" in p.stderr
    r = server.req("PUT", "/v1/ns/%s/stages/many" % NS,
                   json={"stage": "again", "version": 1})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "too_many_stages"
    # Moving an existing stage is no new stage.
    ok(cli("stage", "set", NS + "/many@1", "s3"))
    s = cli.json("stage", "ls", NS + "/many", "--json")
    assert len(s["stages"]) == 16


def test_schema_declares_the_artifact(cli):
    text = ok(cli("policy", "schema")).stdout
    assert "artifact?: Artifact" in text
    assert "stages: Set<String>" in text
    assert "stage?: String" in text    # context.op.stage

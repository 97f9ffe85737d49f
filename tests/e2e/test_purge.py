"""tests/e2e/test_purge.py: the purge job (docs/privacy.md, "Purge")
through the real server and CLI.  Time moves by the server's test clock
(COFFER_TEST_CLOCK_FILE), never by waiting: the job runs a pass at every
start, so a test moves the clock, restarts the server and puts the clock
back.  Holds and retention always win; an artifact's latest and staged
versions keep their files; every purged version has its own audit record
(privacy:purge, principal system) and answers 410 erased afterwards."""

import json
import subprocess

from conftest import Cli, obj_path

DAY = 86400


def clocked(make_server, args=()):
    s = make_server(list(args), start=False)
    s.use_test_clock()
    return s.start()



def purge_at(s, secs):
    """Restart with the clock at secs (the start-up pass runs then), and
    put the clock back so that sessions stay fresh."""
    s.stop()
    s.set_clock(secs)
    s.start()
    s.set_clock(0)


def put(s, ns, key, data):
    r = s.put_obj(ns, key, data)
    assert r.status_code == 201, r.text
    return r.json()["version_id"]


def get_version(s, ns, key, vid):
    return s.get(obj_path(ns, key) + "?version=" + vid)


def purged(s):
    return [x for x in s.audit_records()
            if x.get("action") == "privacy:purge"]


def test_purge_noncurrent_holds_and_retention_win(make_server, uniq,
                                                  tmp_path):
    s = clocked(make_server)
    cli = Cli(s, tmp_path / "home")
    ns, ret = uniq("pur"), uniq("purret")
    s.mkns(ns)
    s.mkns(ret)
    k1 = put(s, ns, "k", b"one\n")
    k2 = put(s, ns, "k", b"two\n")
    k3 = put(s, ns, "k", b"three\n")
    h1 = put(s, ns, "held/x", b"held one\n")
    put(s, ns, "held/x", b"held two\n")
    r1 = put(s, ret, "k", b"kept one\n")
    put(s, ret, "k", b"kept two\n")
    blobs_before = set(s.blob_files())
    # The CLI sets it (admin with MFA); an API token cannot.
    p = cli("ns", "set", ns, "--purge-after-days", "10")
    assert p.returncode == 0, p.stderr
    assert "purged after 10 days" in p.stdout
    r = s.req("PATCH", "/v1/ns/" + ns, json={"purge_after_days": 10},
              token="admin-api")
    assert r.status_code == 401, r.text
    r = s.req("PATCH", "/v1/ns/" + ns, json={"purge_after_days": 5,
                                              "retain_days": 5})
    assert r.status_code == 400, r.text
    assert s.get("/v1/ns/" + ns).json()["purge_after_days"] == 10
    assert cli("ns", "set", ret, "--purge-after-days", "10").returncode == 0
    assert cli("ns", "set", ret, "--retain-days", "60").returncode == 0
    hold = json.loads(cli("hold", "set", ns + "/held", "--reason",
                          "case 9", "--json").stdout)
    # Nine days on: nothing is old enough.
    purge_at(s, 9 * DAY)
    assert purged(s) == []
    # Twenty days on: the non-current versions of k go; the current one,
    # the held key and the namespace under retention stay.
    purge_at(s, 20 * DAY)
    recs = purged(s)
    assert sorted(x["resource"] for x in recs) == \
        ["ns/%s/obj/k" % ns] * 2, recs
    for x in recs:
        assert x["principal"] == "system" and x["decision"] == "allow"
        assert "purge_after_days=10" in x["reasons"]
    assert {k1, k2} == {v for x in recs for v in [k1, k2]
                        if "version=" + v in x["reasons"]}
    for vid in (k1, k2):
        r = get_version(s, ns, "k", vid)
        assert r.status_code == 410, r.text
        assert r.json()["error"]["code"] == "erased"
        assert "purge" in r.json()["error"]["message"]
    assert s.get_obj(ns, "k").content == b"three\n"
    assert get_version(s, ns, "k", k3).status_code == 200
    assert get_version(s, ns, "held/x", h1).content == b"held one\n"
    assert get_version(s, ret, "k", r1).content == b"kept one\n"
    # Their blobs are gone (shredded keys, deleted ciphertext).
    assert len(blobs_before - set(s.blob_files())) == 2
    # The hold lifted and the retention passed: the rest goes.
    assert cli("hold", "rm", hold["id"]).returncode == 0
    purge_at(s, 61 * DAY)
    assert get_version(s, ns, "held/x", h1).status_code == 410
    assert get_version(s, ret, "k", r1).status_code == 410
    assert s.get_obj(ret, "k").content == b"kept two\n"
    assert len(purged(s)) == 4
    # Nothing twice.
    purge_at(s, 90 * DAY)
    assert len(purged(s)) == 4
    p = cli("audit", "verify", "--data", s.data, with_server=False)
    assert p.returncode == 0, p.stdout + p.stderr


def test_purge_keeps_latest_and_staged_artifact_files(make_server, uniq,
                                                      tmp_path):
    s = clocked(make_server)
    cli = Cli(s, tmp_path / "home")
    ns = uniq("purart")
    s.mkns(ns)
    for i in (1, 2, 3):
        d = tmp_path / ("m%d" % i)
        d.mkdir()
        (d / "w.bin").write_bytes(b"weights %d\n" % i)
        p = cli("push", ns + "/m", str(d))
        assert p.returncode == 0, p.stderr
    vids = [v["version_id"] for v in s.versions(ns, "m/w.bin")]
    assert len(vids) == 3
    p = cli("stage", "set", ns + "/m@1", "production")
    assert p.returncode == 0, p.stderr
    assert cli("ns", "set", ns, "--purge-after-days", "1").returncode == 0
    purge_at(s, 5 * DAY)
    # m@3 is the latest, m@1 is staged: only m@2's file goes.
    recs = purged(s)
    assert len(recs) == 1, recs
    dst = tmp_path / "pulled"
    assert cli("pull", ns + "/m@1", str(dst)).returncode == 0
    assert (dst / "w.bin").read_bytes() == b"weights 1\n"
    assert cli("pull", ns + "/m@3", str(tmp_path / "p3")).returncode == 0
    p = cli("pull", ns + "/m@2", str(tmp_path / "p2"))
    assert p.returncode != 0


def test_purge_job_runs_on_its_interval(make_server, uniq):
    """The periodic pass (purge_interval), not only the one at start."""
    s = clocked(make_server, ["--set", "purge_interval=1"])
    ns = uniq("purint")
    s.mkns(ns)
    v1 = put(s, ns, "k", b"a")
    put(s, ns, "k", b"b")
    r = s.req("PATCH", "/v1/ns/" + ns, json={"purge_after_days": 1})
    assert r.status_code == 200, r.text
    assert r.json() == {"name": ns, "purge_after_days": 1}
    s.set_clock(2 * DAY)
    assert s.wait_audit(lambda x: x.get("action") == "privacy:purge",
                        timeout=30) is not None
    s.set_clock(0)
    assert get_version(s, ns, "k", v1).status_code == 410


def test_purge_crash_after_commit(make_server, uniq):
    """A crash between a purged version's commit and its blob's deletion
    (COFFER_TEST_CRASH=purge_committed): purged whole, the blob goes with
    the orphan sweep, the rest with the next pass."""
    s = clocked(make_server)
    ns = uniq("purcr")
    s.mkns(ns)
    v1 = put(s, ns, "k", b"a")
    v2 = put(s, ns, "k", b"b")
    put(s, ns, "k", b"c")
    r = s.req("PATCH", "/v1/ns/" + ns, json={"purge_after_days": 1})
    assert r.status_code == 200, r.text
    before = set(s.blob_files())
    s.stop()
    s.set_clock(2 * DAY)
    # The start-up pass crashes before the server serves.
    env = s.server_env()
    env["COFFER_TEST_CRASH"] = "purge_committed"
    p = subprocess.run(s.argv(), env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60)
    assert p.returncode == 86, p.stderr[-2000:]
    assert b"event=test_crash point=purge_committed" in p.stderr
    s.start()
    s.set_clock(0)
    for vid in (v1, v2):
        assert get_version(s, ns, "k", vid).status_code == 410
    assert len(before - set(s.blob_files())) == 2
    assert len(purged(s)) == 2

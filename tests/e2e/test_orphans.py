"""Orphan blobs: a crash between an upload's blob commit and its version
row leaves a blob nothing references; the orphan sweep reclaims it,
audited (docs/operations.md, "Orphan blobs").

The crash is real: COFFER_TEST_CRASH=after_blob_commit makes the server
_exit() right after the blob is durable (src/core/orphans.c)."""

import fcntl
import os
import subprocess

import pytest
import requests

from conftest import COFFER_BIN, EXIT_OK, EXIT_USAGE, Cli, obj_path

NS = "orphans-e2e"
CRASH_STATUS = 86


def put_ok(s, key, data):
    r = s.put_obj(NS, key, data)
    assert r.status_code == 201, r.text
    return r.json()


def crash_upload(s, monkeypatch, key, data):
    """Restart s with the crash hook, upload, see it die; return the path
    of the one blob file the upload left."""
    s.stop()
    monkeypatch.setenv("COFFER_TEST_CRASH", "after_blob_commit")
    s.start()
    monkeypatch.delenv("COFFER_TEST_CRASH")
    before = set(s.blob_files())
    with pytest.raises(requests.RequestException):
        s.put_obj(NS, key, data)
    assert s.proc.wait(timeout=30) == CRASH_STATUS, s.stderr()[-2000:]
    assert "event=test_crash point=after_blob_commit" in s.stderr()
    s.proc = None
    new = sorted(set(s.blob_files()) - before)
    assert len(new) == 1, new
    assert s.tmp_files() == []
    return new[0]


def reclaim_records(s):
    return [r for r in s.audit_records() if r["action"] == "blob:reclaim"]


@pytest.fixture
def store(make_server):
    """A server with objects of every kind a version row can be: a live
    version, an older version under it, and a version under a delete
    marker."""
    s = make_server()
    s.mkns(NS)
    objs = {
        "live": b"live object" * 1000,
        "old": b"first version",
        "marked": b"deleted but kept as a version",
    }
    vers = {k: put_ok(s, k, v)["version_id"] for k, v in objs.items()}
    put_ok(s, "old", b"second version")
    assert s.req("DELETE", obj_path(NS, "marked")).status_code == 200
    return s, objs, vers


def check_intact(s, objs, vers):
    r = s.get_obj(NS, "live")
    assert r.status_code == 200 and r.content == objs["live"]
    r = s.get_obj(NS, "old")
    assert r.status_code == 200 and r.content == b"second version"
    assert s.get_obj(NS, "marked").status_code == 404
    for k in ("old", "marked"):
        r = s.get(obj_path(NS, k) + "?version=" + vers[k])
        assert r.status_code == 200, r.text
        assert r.content == objs[k], k


def test_crash_after_blob_commit_orphan_reclaimed_at_restart(
        store, monkeypatch, tmp_path):
    s, objs, vers = store
    kept = set(s.blob_files())
    data = os.urandom(200000)
    orphan = crash_upload(s, monkeypatch, "lost", data)
    size = os.path.getsize(orphan)
    oid = os.path.basename(orphan)
    n = s.audit_count()

    # Alone on the data directory at start-up: no upload can be in
    # flight, so the orphan goes now, whatever orphan_grace says.
    s.start()
    assert not os.path.exists(orphan)
    assert set(s.blob_files()) == kept
    recs = [r for r in s.audit_records()[n:]
            if r["action"] == "blob:reclaim"]
    assert len(recs) == 1, recs
    rec = recs[0]
    assert rec["principal"] == "system"
    assert rec["authn"] == "internal"
    assert rec["decision"] == "allow" and rec["result"] == "ok"
    assert rec["resource"] == "blobs/" + oid
    assert "count=1" in rec["reasons"]
    assert rec["bytes"] == size
    assert "event=orphans_reclaimed count=1" in s.stderr()

    # The upload never happened; everything else is intact.
    assert s.get_obj(NS, "lost").status_code == 404
    check_intact(s, objs, vers)
    # Uploads work again, and a restart finds nothing more to reclaim.
    put_ok(s, "after", b"after the crash")
    s.restart()
    assert len(reclaim_records(s)) == 1
    check_intact(s, objs, vers)
    assert s.get_obj(NS, "after").content == b"after the crash"

    s.stop()
    p = Cli(s, tmp_path / "home")("audit", "verify", "--data", s.data,
                                   with_server=False)
    assert p.returncode == EXIT_OK, (p.stdout, p.stderr)


def test_young_orphan_kept_while_another_server_has_the_store(
        store, monkeypatch):
    """With another store open on the directory (another server), an
    orphan younger than orphan_grace may be an upload in flight: kept,
    by the start-up sweep and by the periodic one (every second here)."""
    s, objs, vers = store
    orphan = crash_upload(s, monkeypatch, "lost", b"x" * 5000)
    fd = os.open(os.path.join(s.blobs, ".lock"), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        s.extra_args = ["--set", "orphan_interval=1"]
        s.start()
        for i in range(5):
            put_ok(s, "more-%d" % i, b"more" * i)
        assert os.path.exists(orphan)
        assert reclaim_records(s) == []
        check_intact(s, objs, vers)
        s.stop()
    finally:
        os.close(fd)
    s.extra_args = []
    s.start()
    assert not os.path.exists(orphan)
    assert len(reclaim_records(s)) == 1
    check_intact(s, objs, vers)
    for i in range(5):
        assert s.get_obj(NS, "more-%d" % i).content == b"more" * i


@pytest.mark.parametrize("opt,ok", [
    ("orphan_grace=60", True), ("orphan_grace=59", False),
    ("orphan_grace=0", False), ("orphan_interval=0", True),
    ("orphan_interval=2592001", False)])
def test_orphan_options_bounds(tmp_path, opt, ok):
    p = subprocess.run([COFFER_BIN, "server", "--data",
                        str(tmp_path / "d"), "--check", "--set", opt],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == (EXIT_OK if ok else EXIT_USAGE), p.stderr
    if ok:
        assert opt.replace("=", " = ") in p.stdout or opt in p.stdout


def test_many_orphans_each_batch_recorded_in_full(store):
    """More orphans than one batch (32), spread over many shards: one
    record per batch, every id named in full, the counts and bytes adding
    up."""
    s, objs, vers = store
    kept = set(s.blob_files())
    s.stop()
    made = {}
    for i in range(70):
        oid = os.urandom(16).hex()
        d = os.path.join(s.blobs, oid[:2])
        os.makedirs(d, mode=0o700, exist_ok=True)
        with open(os.path.join(d, oid), "wb") as f:
            f.write(os.urandom(100 + i))
        made[oid] = 100 + i
    n = s.audit_count()
    s.start()
    assert set(s.blob_files()) == kept
    recs = [r for r in s.audit_records()[n:]
            if r["action"] == "blob:reclaim"]
    # 70 orphans and the store's few live blobs: batches of 32 blobs
    # examined, across shards.
    assert len(recs) == 3, recs
    named = []
    for r in recs:
        assert r["resource"].startswith("blobs/")
        ids = r["resource"][len("blobs/"):].split(",")
        assert 1 <= len(ids) <= 32
        assert "count=%d" % len(ids) in r["reasons"]
        assert r["bytes"] == sum(made[i] for i in ids)
        named += ids
    assert sorted(named) == sorted(made)
    check_intact(s, objs, vers)

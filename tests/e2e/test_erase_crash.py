"""tests/e2e/test_erase_crash.py: a crash in the middle of an erasure
(docs/privacy.md, "Erasure by crypto-shredding").  The crash is real:
COFFER_TEST_CRASH=POINT makes the server _exit(86) at that named point,
as a SIGKILL would (no cleanup, no flush): after the erasure's audit
record is durable but before its transaction commits
(erase_recorded), after the commit before any blob is deleted
(erase_committed), and after the first blob is deleted
(erase_blob_deleted).  After a restart the erasure either happened
completely or not at all: every version of the object is either
readable with its data key and blob and no tombstone, or erased with
its key zeroed, its blob gone and a tombstone; and erasing again
finishes it."""

import os
import sqlite3

import pytest

from conftest import Cli

CRASH_STATUS = 86


def rows(s, ns, key):
    """(version_id, kek_id, wrapped key all zero, blob_id, tombstone) of
    every version of ns/key, from the metadata database."""
    db = sqlite3.connect("file:%s?mode=ro" %
                         os.path.join(s.data, "meta.db"), uri=True)
    try:
        q = db.execute(
            "SELECT v.version_id, v.kek_id, v.wrapped_dek, v.blob_id,"
            " e.erasure_id FROM versions v JOIN namespaces n"
            " ON n.id = v.ns_id LEFT JOIN erasures e"
            " ON e.version_id = v.version_id WHERE n.name = ?"
            " AND v.key = ? ORDER BY v.seq", (ns, key.encode()))
        return [(r[0], r[1], not any(r[2]), r[3], r[4]) for r in q]
    finally:
        db.close()


def blob_path(s, blob_id):
    for f in s.blob_files():
        if os.path.basename(f) == blob_id:
            return f
    return None


def check_all_or_nothing(s, ns, key, data):
    """Every version whole or erased whole; returns 'none' or 'all'."""
    states = set()
    for vid, kek, zero, blob, tomb in rows(s, ns, key):
        r = s.get("/v1/ns/%s/objects/%s?version=%s" % (ns, key, vid))
        if kek == "erased":
            # SEC: erased: key destroyed, blob gone, tombstone kept.
            assert zero and blob == "" and tomb is not None, vid
            assert r.status_code == 410, r.text
            assert r.json()["error"]["code"] == "erased"
            states.add("erased")
        else:
            # Whole: a key, a blob, no tombstone, the data readable.
            assert not zero and blob != "" and tomb is None, vid
            assert blob_path(s, blob) is not None, vid
            assert r.status_code == 200 and r.content in data, r.text
            states.add("whole")
    assert len(states) == 1, states
    return "all" if states == {"erased"} else "none"


@pytest.mark.parametrize("point,done", [
    ("erase_recorded", "none"),
    ("erase_committed", "all"),
    ("erase_blob_deleted", "all"),
])
def test_crash_mid_erasure(make_server, uniq, tmp_path, monkeypatch, point,
                           done):
    s = make_server()
    cli = Cli(s, tmp_path / "home")
    ns = uniq("ecr")
    s.mkns(ns)
    data = [b"v1 alice\n", b"v2 alice\n", b"v3 alice\n"]
    for d in data:
        assert s.put_obj(ns, "p/alice.json", d).status_code == 201
    blobs = {b for _, _, _, b, _ in rows(s, ns, "p/alice.json")}
    assert len(blobs) == 3
    s.stop()
    monkeypatch.setenv("COFFER_TEST_CRASH", point)
    s.start()
    monkeypatch.delenv("COFFER_TEST_CRASH")
    try:
        cli("erase", ns + "/p/alice.json", "--reason", "art. 17 #9")
    except Exception:
        pass            # the connection dies with the server
    assert s.proc.wait(timeout=60) == CRASH_STATUS, s.stderr()[-2000:]
    assert "event=test_crash point=%s" % point in s.stderr()
    s.proc = None
    s.start()
    assert check_all_or_nothing(s, ns, "p/alice.json", data) == done
    if done == "all":
        # The blobs a crash left behind went with the start-up sweep.
        assert all(blob_path(s, b) is None for b in blobs)
        r = s.post("/v1/ns/%s/erase/p/alice.json" % ns, {"reason": "x"})
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] == "already_erased"
    else:
        # Erasing again finishes it.
        p = cli("erase", ns + "/p/alice.json", "--reason", "art. 17 #9")
        assert p.returncode == 0, p.stderr
        assert check_all_or_nothing(s, ns, "p/alice.json", data) == "all"
        assert all(blob_path(s, b) is None for b in blobs)
    # The audit log is intact across the crash.
    p = cli("audit", "verify", "--data", s.data, with_server=False)
    assert p.returncode == 0, p.stdout + p.stderr

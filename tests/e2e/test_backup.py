"""tests/e2e/test_backup.py: `coffer backup` (an online, consistent
backup of the metadata and sealed keys through the running server,
docs/operations.md "Backups"), restoring one by pointing a server at it,
and `coffer erase --replay-on` (docs/privacy.md "Backups"): an erasure
made after a backup reaches a restore of it, so the restore cannot bring
erased data back.  No test waits on the clock."""

import json
import os
import shutil
import sqlite3
import stat

import pytest

from conftest import EXIT_CONFLICT, Cli, Server, obj_path


def err(r):
    return r.json()["error"]


def bserver(make_server, tmp_path):
    bd = tmp_path / "backups"
    bd.mkdir(mode=0o700)
    s = make_server(extra_args=["--set", "backup_dir=%s" % bd])
    return s, str(bd)


def copy_blobs(src_data, dst_dir):
    """What docs/operations.md has the operator do after `coffer
    backup`: copy the blobs (immutable once written), without uploads in
    flight (tmp/) and the lock file."""
    shutil.copytree(os.path.join(src_data, "blobs"),
                    os.path.join(dst_dir, "blobs"),
                    ignore=shutil.ignore_patterns("tmp", ".lock"))


def restore(live, backup_dir, workdir):
    """The documented restore: the backup (with its blobs) becomes the
    data directory of a server that gets the live master key
    (COFFER_MASTER_KEY_FILE: the key is never in a backup).  The
    restored metadata has the live server's tokens as of the backup, so
    the admin API token made at the live server's start reads there."""
    r = Server(workdir)
    shutil.copytree(backup_dir, r.data)
    os.chmod(r.data, 0o700)
    r.env["COFFER_MASTER_KEY_FILE"] = live.master_key
    r.auto_admin = False
    r.admin_token = live.admin_api_token
    r.admin_api_token = live.admin_api_token
    return r


def blob_of(data_dir, version_id):
    db = sqlite3.connect(os.path.join(data_dir, "meta.db"))
    try:
        row = db.execute("SELECT blob_id FROM versions WHERE version_id=?",
                         (version_id,)).fetchone()
    finally:
        db.close()
    return row[0] if row else None


def blob_path(data_dir, blob_id):
    return os.path.join(data_dir, "blobs", blob_id[:2], blob_id)


def backup_records(s):
    return [x for x in s.audit_records() if x.get("action") == "store:backup"]


def test_backup_refusals_are_audited(make_server, tmp_path, uniq):
    # Without backup_dir, backups are off.
    s0 = make_server()
    r = s0.post("/v1/backup", {"dest": "b"})
    assert r.status_code == 409 and err(r)["code"] == "backup_disabled", \
        r.text
    assert any(x.get("status") == 409 for x in backup_records(s0))
    s, bd = bserver(make_server, tmp_path)
    # An API token carries no MFA (the grant rule).
    r = s.post("/v1/backup", {"dest": "b"}, token="admin-api")
    assert r.status_code == 401 and err(r)["code"] == "mfa_required", r.text
    # A user who is not admin.
    name = uniq("u")
    s.principal(name)
    r = s.post("/v1/backup", {"dest": "b"}, token=s.token(name)["token"])
    assert r.status_code == 403, r.text
    # Only a new name in backup_dir (or a path directly in it).
    for dest in ("../b", "/tmp/b", ".hidden", "", "a/b",
                 bd + "/../b", bd + "/x/y"):
        r = s.post("/v1/backup", {"dest": dest})
        assert r.status_code == 400, (dest, r.text)
        assert err(r)["code"] == "invalid_backup_dest", r.text
    os.mkdir(os.path.join(bd, "taken"))
    r = s.post("/v1/backup", {"dest": "taken"})
    assert r.status_code == 409 and err(r)["code"] == "backup_exists"
    assert os.listdir(os.path.join(bd, "taken")) == []
    # Not even a directory was made by any refusal.
    assert sorted(os.listdir(bd)) == ["taken"]
    recs = backup_records(s)
    assert [x for x in recs if x.get("decision") == "deny"]
    assert {x.get("status") for x in recs} >= {401, 403, 400, 409}


def test_backup_and_restore(make_server, tmp_path, uniq):
    s, bd = bserver(make_server, tmp_path)
    c = Cli(s, tmp_path / "home")
    ns = uniq("bk")
    s.mkns(ns)
    assert s.put_obj(ns, "a.txt", b"before the backup\n").status_code == 201
    p = c("backup", "nightly-1", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    b = os.path.join(bd, "nightly-1")
    assert out["dir"] == os.path.realpath(b)
    names = {f["name"] for f in out["files"]}
    assert {"meta.db", "keyring", "id", "tls/server.crt",
            "tls/server.key"} <= names
    # Private: directory 0700, files 0600, whatever the server's umask.
    assert stat.S_IMODE(os.stat(b).st_mode) == 0o700
    for n in names | {"backup.json"}:
        assert stat.S_IMODE(os.stat(os.path.join(b, n)).st_mode) == 0o600
    man = json.load(open(os.path.join(b, "backup.json")))
    assert man["format"] == "coffer-backup-v1" and man["by"] == "admin"
    # Never the master key (nor its hex) in the backup.
    key = open(s.master_key).read().strip()
    for root, _dirs, files in os.walk(b):
        for f in files:
            data = open(os.path.join(root, f), "rb").read()
            assert key.encode() not in data and \
                bytes.fromhex(key) not in data, f
    # The database is a complete, consistent SQLite file.
    db = sqlite3.connect(os.path.join(b, "meta.db"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    # An absolute path directly in backup_dir works too; the CLI line.
    p = c("backup", os.path.join(bd, "nightly-2"))
    assert p.returncode == 0, p.stderr
    assert "copy the blobs" in p.stdout
    assert os.path.exists(os.path.join(bd, "nightly-2", "backup.json"))
    ok = [x for x in backup_records(s) if x.get("status") == 201]
    assert len(ok) == 2 and ok[0]["decision"] == "allow"
    copy_blobs(s.data, b)
    assert s.put_obj(ns, "later.txt", b"after\n").status_code == 201
    # Restore: a server on a copy of the backup.
    r = restore(s, b, tmp_path / "restored")
    r.start()
    try:
        got = r.get_obj(ns, "a.txt")
        assert got.status_code == 200 and got.content == \
            b"before the backup\n", got.text
        assert r.get_obj(ns, "later.txt").status_code == 404
    finally:
        r.stop()
    # The restored directory's audit log (a new chain) verifies.
    p = c("audit", "verify", "--data", r.data,
          env={"COFFER_MASTER_KEY_FILE": s.master_key}, with_server=False)
    assert p.returncode == 0, p.stdout + p.stderr


def test_erase_replay_on_restored_backup(make_server, tmp_path, uniq):
    s, bd = bserver(make_server, tmp_path)
    c = Cli(s, tmp_path / "home")
    ns = uniq("rp")
    s.mkns(ns)
    secret = b"alice, 1970-01-01, alice@example.org\n"
    assert s.put_obj(ns, "people/alice", secret).status_code == 201
    assert s.put_obj(ns, "people/alice", secret + b"v2\n").status_code == 201
    assert s.put_obj(ns, "people/bob", b"bob\n").status_code == 201
    vids = [v["version_id"] for v in s.versions(ns, "people/alice")]
    assert len(vids) == 2
    blobs = {v: blob_of(s.data, v) for v in vids}
    b = os.path.join(bd, "before-erasure")
    p = c("backup", "before-erasure")
    assert p.returncode == 0, p.stderr
    copy_blobs(s.data, b)
    # The erasure on the live server, after the backup.
    p = c("erase", ns + "/people/alice", "--reason", "art. 17 #9", "--json")
    assert p.returncode == 0, p.stderr
    erasure = json.loads(p.stdout)["erasure_id"]
    assert s.get_obj(ns, "people/alice").status_code == 410

    # Without the replay, the restore brings the erased data back: this
    # is what the replay is for (and shows the test is real).
    r = restore(s, b, tmp_path / "restored")
    r.start()
    try:
        got = r.get_obj(ns, "people/alice")
        assert got.status_code == 200 and got.content.startswith(secret)
    finally:
        r.stop()

    # The replay: offline, from the live data directory (its server
    # running), with the master key of the restored directory.
    key_env = {"COFFER_MASTER_KEY_FILE": s.master_key}
    p = c("erase", "--replay-on", r.data, "--from", s.data, "--json",
          env=key_env, with_server=False)
    assert p.returncode == 0, p.stdout + p.stderr
    res = json.loads(p.stdout)
    assert res["erasures"] == 1 and res["versions"] == 2, res
    assert res["blobs_deleted"] == 2, res
    # The DEKs are destroyed in the restored metadata, with the live
    # server's tombstones.
    db = sqlite3.connect(os.path.join(r.data, "meta.db"))
    for v in vids:
        kek, dek, bid = db.execute(
            "SELECT kek_id, wrapped_dek, blob_id FROM versions WHERE "
            "version_id=?", (v,)).fetchone()
        assert kek == "erased" and bid == "" and set(dek) <= {0}, v
        assert db.execute("SELECT erasure_id FROM erasures WHERE "
                          "version_id=?", (v,)).fetchone()[0] == erasure
        assert not os.path.exists(blob_path(r.data, blobs[v]))
    assert db.execute("SELECT count(*) FROM erasure_certs WHERE id=?",
                      (erasure,)).fetchone()[0] == 1
    db.close()
    # A leftover copy of a blob (another backup, a snapshot) opens
    # nothing: its key is gone.
    for v in vids:
        os.makedirs(os.path.dirname(blob_path(r.data, blobs[v])),
                    exist_ok=True)
        shutil.copy2(blob_path(b, blobs[v]), blob_path(r.data, blobs[v]))
    # Replayed twice: nothing more to do.
    p = c("erase", "--replay-on", r.data, "--from", s.data, "--json",
          env=key_env, with_server=False)
    assert p.returncode == 0, p.stderr
    again = json.loads(p.stdout)
    assert again["erasures"] == 0 and again["already"] == 1, again
    for v in vids:
        os.makedirs(os.path.dirname(blob_path(r.data, blobs[v])),
                    exist_ok=True)
        shutil.copy2(blob_path(b, blobs[v]), blob_path(r.data, blobs[v]))
    r.start()
    try:
        got = r.get_obj(ns, "people/alice")
        assert got.status_code == 410, got.text
        assert err(got)["code"] == "erased"
        assert erasure in err(got)["message"]
        assert secret not in got.content
        for v in vids:
            got = r.req("GET", obj_path(ns, "people/alice") +
                        "?version=" + v)
            assert got.status_code == 410 and secret not in got.content
        assert r.get_obj(ns, "people/bob").content == b"bob\n"
        # Refused while a server runs on the restored directory.
        p = c("erase", "--replay-on", r.data, "--from", s.data,
              env=key_env, with_server=False)
        assert p.returncode == EXIT_CONFLICT, p.stderr
        assert "stop it first" in p.stderr
    finally:
        r.stop()
    # The replay is in the restored directory's audit log, which
    # verifies.
    recs = [json.loads(x) for x in open(r.audit_path) if x.strip()]
    rep = [x for x in recs if x.get("action") == "privacy:erase"]
    assert rep and "replay" in rep[0].get("reasons", "")
    p = c("audit", "verify", "--data", r.data, env=key_env,
          with_server=False)
    assert p.returncode == 0, p.stdout + p.stderr


def test_erase_replay_usage(make_server, tmp_path):
    s = make_server()
    c = Cli(s, tmp_path / "home")
    p = c("erase", "--replay-on", s.data, with_server=False)
    assert p.returncode == 2 and "--from" in p.stderr
    p = c("erase", "--replay-on", s.data, "--from", s.data,
          env={"COFFER_MASTER_KEY_FILE": s.master_key}, with_server=False)
    assert p.returncode != 0 and "itself" in p.stderr, p.stderr

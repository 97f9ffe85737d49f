"""Master key rotation for the file key provider (docs/keys.md, "Master
key rotation"): `coffer key rotate-master` on a stopped server re-seals
the keyring and the self-signed TLS key under a new master key and
carries the audit MAC key over, so that old objects stay readable, the
audit log still verifies and TLS still works, while the old master key
file opens nothing any more.  A crash before the commit point rolls the
rotation back and one after it rolls it forward, at the next start.

The crashes are real: COFFER_TEST_CRASH=rotate_master_prepared or
rotate_master_committed makes the command _exit() there, as SIGKILL
would (src/core/datadir.c)."""

import os
import shutil
import subprocess

from conftest import COFFER_BIN, free_port

CRASH_STATUS = 86
NS = "mrot"


def rotate(cli, s, crash=None):
    env = {"COFFER_TEST_CRASH": crash} if crash else None
    return cli("key", "rotate-master", "--data", s.data, env=env,
               with_server=False)


def verify(cli, s, key=None):
    env = {"COFFER_MASTER_KEY_FILE": key} if key else None
    return cli("audit", "verify", "--data", s.data, env=env,
               with_server=False)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def populate(s):
    s.mkns(NS)
    for i in range(3):
        r = s.put_obj(NS, "obj-%d" % i, b"payload %d" % i)
        assert r.status_code in (200, 201), r.text


def check_objects(s):
    for i in range(3):
        r = s.get_obj(NS, "obj-%d" % i)
        assert r.status_code == 200, r.text
        assert r.content == b"payload %d" % i


def server_fails_with_key(s, key):
    """Start `coffer server` on s's data with another master key file:
    it must refuse (exit non-zero) before serving."""
    env = s.server_env()
    env["COFFER_MASTER_KEY_FILE"] = key
    p = subprocess.run([COFFER_BIN, "server", "--data", s.data, "--listen",
                        "127.0.0.1:%d" % free_port()], env=env,
                       capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    return p


def test_rotate_master(make_server, cli, tmp_path):
    s = make_server()
    populate(s)
    cli.server = s
    s.stop()
    old = str(tmp_path / "old.key")
    shutil.copy(s.master_key, old)
    tls_before = read(os.path.join(s.data, "tls", "server.key"))
    cert_before = read(s.ca)
    assert verify(cli, s).returncode == 0

    p = rotate(cli, s)
    assert p.returncode == 0, p.stderr
    assert read(s.master_key) != read(old)
    # The TLS key is encrypted again; its certificate stays.
    assert read(os.path.join(s.data, "tls", "server.key")) != tls_before
    assert read(s.ca) == cert_before
    assert os.path.exists(os.path.join(s.data, "keys.carry"))
    p = verify(cli, s)
    assert p.returncode == 0, p.stdout + p.stderr
    recs = [l for l in read(s.audit_path).splitlines()
            if b'"key:rotate-master"' in l]
    assert len(recs) == 1

    s.start()
    check_objects(s)            # the keyring opens, TLS (s.ca) works
    r = s.put_obj(NS, "after", b"new data")
    assert r.status_code in (200, 201), r.text
    s.stop()
    assert verify(cli, s).returncode == 0

    # The old key file opens neither the keyring nor the carried keys.
    p = server_fails_with_key(s, old)
    assert p.returncode != 0
    assert verify(cli, s, key=old).returncode != 0


def test_rotate_master_refused_while_running(make_server, cli):
    s = make_server()
    cli.server = s
    before = read(s.master_key)
    p = rotate(cli, s)
    assert p.returncode != 0
    assert "stop it first" in p.stderr
    assert read(s.master_key) == before
    assert not os.path.exists(s.master_key + ".new")


def test_rotate_master_crash_before_commit(make_server, cli):
    s = make_server()
    populate(s)
    cli.server = s
    s.stop()
    before = read(s.master_key)
    p = rotate(cli, s, crash="rotate_master_prepared")
    assert p.returncode == CRASH_STATUS, p.stderr
    assert os.path.exists(s.master_key + ".new")
    assert os.path.exists(os.path.join(s.data, "keyring.new"))
    # The next start rolls back: the old key rules, nothing .new is left.
    s.start()
    check_objects(s)
    s.stop()
    assert read(s.master_key) == before
    assert not os.path.exists(s.master_key + ".new")
    assert not os.path.exists(os.path.join(s.data, "keyring.new"))
    assert not os.path.exists(os.path.join(s.data, "keys.carry"))
    assert verify(cli, s).returncode == 0
    # And a rotation then goes through.
    assert rotate(cli, s).returncode == 0


def test_rotate_master_crash_after_commit(make_server, cli, tmp_path):
    s = make_server()
    populate(s)
    cli.server = s
    s.stop()
    old = str(tmp_path / "old.key")
    shutil.copy(s.master_key, old)
    p = rotate(cli, s, crash="rotate_master_committed")
    assert p.returncode == CRASH_STATUS, p.stderr
    assert read(s.master_key) != read(old)
    assert not os.path.exists(s.master_key + ".new")
    assert os.path.exists(os.path.join(s.data, "keyring.new"))
    # The next start rolls forward under the new key.
    s.start()
    check_objects(s)
    s.stop()
    for n in ("keyring.new", "keys.carry.new", "tls/server.key.new"):
        assert not os.path.exists(os.path.join(s.data, n)), n
    assert verify(cli, s).returncode == 0
    assert server_fails_with_key(s, old).returncode != 0


def test_rotate_master_sealed(make_server, tmp_path):
    """A passphrase-sealed master key: rotate-master asks the passphrase
    and seals the new key with it (never in the clear on disk); without
    it, refused and nothing changes."""
    s = make_server()
    populate(s)
    s.stop()
    pw = "correct horse sealing wax 7"
    p = subprocess.run([COFFER_BIN, "master-key", "seal", "--data", s.data,
                        "--passphrase-stdin"], input=pw + "\n" + pw + "\n",
                       capture_output=True, text=True, timeout=60,
                       env=s.server_env())
    assert p.returncode == 0, p.stderr
    before = read(s.master_key)
    rm = [COFFER_BIN, "key", "rotate-master", "--data", s.data]
    p = subprocess.run(rm, capture_output=True, text=True, timeout=60,
                       env=s.server_env(), stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert "Passphrase of the master key" in p.stderr
    assert read(s.master_key) == before
    good = tmp_path / "pass"
    good.write_text(pw + "\n")
    env = dict(s.server_env(), COFFER_MASTER_KEY_PASSPHRASE_FILE=str(good))
    p = subprocess.run(rm, capture_output=True, text=True, timeout=60,
                       env=env, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    after = read(s.master_key)
    assert after != before
    assert after.startswith(b"coffer-sealed-master-key-v1 argon2id ")
    p = subprocess.run([COFFER_BIN, "audit", "verify", "--data", s.data],
                       capture_output=True, text=True, timeout=60, env=env,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    s.extra_args += ["--set", "master_key_passphrase_file=%s" % good]
    s.start()
    check_objects(s)


def test_erasure_key_survives_rotation(make_server, cli):
    """The erasure signing key is carried over: the public key that
    verifies earlier certificates is the same after a rotation."""
    s = make_server()
    cli.server = s
    r = s.get("/v1/erasure-key")
    assert r.status_code == 200, r.text
    before = r.json()
    s.stop()
    assert rotate(cli, s).returncode == 0
    s.start()
    r = s.get("/v1/erasure-key")
    assert r.status_code == 200, r.text
    assert r.json() == before


def test_recovery_leaves_a_running_rotation_alone(make_server, cli):
    """The .new files of a rotation that holds the audit log's lock (one
    running now) are not a crash's: an offline command on the directory
    leaves them; once the lock is free, the next open rolls back."""
    import fcntl
    s = make_server()
    populate(s)
    cli.server = s
    s.stop()
    p = rotate(cli, s, crash="rotate_master_prepared")
    assert p.returncode == CRASH_STATUS, p.stderr
    with open(s.audit_path, "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert verify(cli, s).returncode == 0
        assert os.path.exists(s.master_key + ".new")
        assert os.path.exists(os.path.join(s.data, "keyring.new"))
    assert verify(cli, s).returncode == 0
    assert not os.path.exists(s.master_key + ".new")
    assert not os.path.exists(os.path.join(s.data, "keyring.new"))

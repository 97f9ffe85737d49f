"""Health, TLS, the plain-HTTP guard and a clean shutdown."""

import os
import signal
import socket
import ssl
import subprocess
import time
import warnings

import pytest
import requests

from conftest import COFFER_BIN, Server, free_port, sanitizer_env


def test_health_needs_no_token(server):
    r = requests.get(server.url + "/v1/health", verify=server.ca, timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["version"]
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("X-Request-Id")


def test_startup_prints_url_and_writes_bootstrap_token(server):
    out = server.stdout()
    assert "coffer: serving https://127.0.0.1:%d" % server.port in out
    # The bootstrap session (0600, test_grants.py) was spent by the
    # fixture's MFA enrollment; what replaced it is an admin session.
    assert "bootstrap admin" in out
    assert server.admin_token.startswith("cfs_")
    r = server.get("/v1/whoami")
    assert r.status_code == 200, r.text
    assert r.json()["principal"] == "admin"


def _tls_connect(server, version, cafile=None, check_hostname=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile or server.ca)
    ctx.check_hostname = check_hostname
    # Let the client offer old versions, so a refusal is the server's.
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = version
        ctx.maximum_version = version
    with socket.create_connection(("127.0.0.1", server.port), 10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            return t.version(), t.cipher()


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_tls_old_versions_refused(server, version):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        v = getattr(ssl.TLSVersion, version)
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)) as ei:
        _tls_connect(server, v)
    # The client did offer the version: it is the server that refused.
    assert "NO_PROTOCOLS_AVAILABLE" not in str(ei.value)
    assert server.alive()


def test_tls12_accepted_and_tls13_negotiated_by_default(server):
    ver, cipher = _tls_connect(server, ssl.TLSVersion.TLSv1_2)
    assert ver == "TLSv1.2"
    assert "GCM" in cipher[0] or "CHACHA20" in cipher[0]
    # Default client settings negotiate TLS 1.3, verifying cert + hostname.
    ctx = ssl.create_default_context(cafile=server.ca)
    with socket.create_connection(("127.0.0.1", server.port), 10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            assert t.version() == "TLSv1.3"
            cert = t.getpeercert()
            sans = [v for k, v in cert.get("subjectAltName", ())]
            assert "127.0.0.1" in sans


def test_tls_cert_does_not_verify_without_ca(server, tmp_path):
    # The system store does not know the self-signed cert: fail closed.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url + "/v1/health", timeout=10)
    # curl with the CA file works, without it fails.
    ok = subprocess.run(["curl", "-sS", "--cacert", server.ca,
                         server.url + "/v1/health"], capture_output=True,
                        text=True, timeout=30)
    assert ok.returncode == 0 and '"ok"' in ok.stdout
    bad = subprocess.run(["curl", "-sS", server.url + "/v1/health"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0


def test_plain_http_on_tls_port_gets_no_data(server):
    with socket.create_connection(("127.0.0.1", server.port), 10) as s:
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(10)
        try:
            data = s.recv(4096)
        except (ConnectionError, socket.timeout):
            data = b""
    assert b"status" not in data
    assert server.alive()


def test_insecure_http_refused_on_non_loopback(tmp_path):
    port = free_port()
    p = subprocess.run(
        [COFFER_BIN, "server", "--data", str(tmp_path / "d"), "--listen",
         "0.0.0.0:%d" % port, "--insecure-http"],
        capture_output=True, text=True, timeout=60, env=sanitizer_env(),
        stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert "coffer: serving" not in p.stdout
    assert p.stderr.strip(), "no reason given on stderr"
    for m in ("ERROR: AddressSanitizer", "runtime error:"):
        assert m not in p.stderr


def test_insecure_http_works_on_loopback(make_server):
    s = make_server(insecure_http=True)
    assert "serving http://127.0.0.1:%d" % s.port in s.stdout()
    r = requests.get(s.url + "/v1/health", timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = s.get("/v1/whoami")
    assert r.status_code == 200 and r.json()["principal"] == "admin"


def test_sigterm_clean_exit_and_restart_keeps_data(make_server):
    s = make_server()
    s.mkns("keep-me")
    r = s.put_obj("keep-me", "k", b"persisted")
    assert r.status_code == 201, r.text
    token = s.admin_token
    rc = s.stop()  # checks rc 0 and no sanitizer report
    assert rc == 0
    s.start()
    # The bootstrap token is written once and still works after restart.
    assert s.admin_token == token
    r = s.get_obj("keep-me", "k")
    assert r.status_code == 200 and r.content == b"persisted"


def test_data_directory_open_to_others_is_warned_about(make_server):
    """A restore that loses the modes (docs/operations.md, "Backups"):
    the server starts, and says which parts group or others may read."""
    s = make_server()
    assert "insecure_mode" not in s.stderr()
    assert s.stop() == 0
    os.chmod(s.data, 0o755)
    os.chmod(os.path.join(s.data, "meta.db"), 0o644)
    s.start()
    warned = [l for l in s.stderr().splitlines() if "insecure_mode" in l]
    paths = sorted(l.split("path=")[1].split()[0] for l in warned)
    assert paths == sorted([s.data, os.path.join(s.data, "meta.db")]), warned
    assert s.get("/v1/health").status_code == 200


def test_sigterm_during_idle_keepalive_connection(make_server):
    s = make_server()
    sess = requests.Session()
    assert sess.get(s.url + "/v1/health", verify=s.ca,
                    timeout=10).status_code == 200
    # A client holds a keep-alive connection open; shutdown still ends.
    t0 = time.monotonic()
    assert s.stop() == 0
    assert time.monotonic() - t0 < 20
    sess.close()


def test_unknown_server_option_is_usage_error(tmp_path):
    p = subprocess.run([COFFER_BIN, "server", "--data", str(tmp_path),
                        "--no-such-option", "x"], capture_output=True,
                       text=True, timeout=30, env=sanitizer_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2
    assert "unknown option" in p.stderr


def test_config_examples_in_man_page_pass_check(tmp_path):
    """Every configuration block of coffer.conf.5.md's EXAMPLE section is
    accepted by --check (it once had a trailing "# 256 GiB" comment, which
    the parser takes as part of the number)."""
    man = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "..", "docs", "coffer.conf.5.md")
    with open(man) as f:
        text = f.read()
    example = text[text.index("## EXAMPLE"):]
    blocks, cur = [], []
    for line in example.splitlines() + [""]:
        if line.startswith("    "):
            cur.append(line[4:])
        elif cur:
            blocks.append(cur)
            cur = []
    assert blocks
    for i, block in enumerate(blocks):
        conf = tmp_path / ("example%d.conf" % i)
        conf.write_text("\n".join(block) + "\n")
        p = subprocess.run([COFFER_BIN, "server", "--check", "--config",
                            str(conf)], capture_output=True, text=True,
                           timeout=60, env=sanitizer_env(),
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0, (block, p.stderr)
    # A comment after a value is part of it: a number is refused, clearly.
    conf = tmp_path / "trailing.conf"
    conf.write_text("max_object_size = 274877906944   # 256 GiB\n")
    p = subprocess.run([COFFER_BIN, "server", "--check", "--config",
                        str(conf)], capture_output=True, text=True,
                       timeout=60, env=sanitizer_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2
    assert "%s:1: max_object_size: expected a number" % conf in p.stderr
    assert "comment must be on a line of its own" in p.stderr


def test_data_dir_secrets_are_private(server):
    for rel in ("keyring", "tls/server.key", "audit/audit.log", "meta.db"):
        p = os.path.join(server.data, rel)
        assert os.stat(p).st_mode & 0o077 == 0, rel
    assert os.stat(server.data).st_mode & 0o077 == 0
    assert os.stat(server.master_key).st_mode & 0o077 == 0
    assert os.stat(os.path.dirname(server.master_key)).st_mode & 0o077 == 0


def test_master_key_outside_the_data_dir_by_default(make_server):
    """SEC: a copy of the data directory (a snapshot, a backup) holds no
    key: the first start puts the master key in the service user's config
    directory, says where, and the directory itself has none."""
    s = make_server()
    assert not os.path.exists(os.path.join(s.data, "master.key"))
    key = s.master_key
    assert key.startswith(s.env["XDG_CONFIG_HOME"] + "/coffer/keys/")
    assert os.path.isfile(key)
    assert "master key created at %s" % key in s.stdout()
    assert "insecure_key_location" not in s.stderr()
    # No key-looking file anywhere in the data directory.
    with open(key) as f:
        hexkey = f.read().strip()
    for root, _dirs, files in os.walk(s.data):
        for name in files:
            try:
                with open(os.path.join(root, name), "rb") as f:
                    assert hexkey.encode() not in f.read(), name
            except FileNotFoundError:
                pass
    # The path is printed once: not again on the next start.
    s.restart()
    assert "master key created" not in s.stdout()
    p = subprocess.run([COFFER_BIN, "master-key", "path", "--data", s.data],
                       capture_output=True, text=True, timeout=60,
                       env=s.server_env(), stdin=subprocess.DEVNULL)
    assert p.returncode == 0 and p.stdout.strip() == key, p


def test_key_inside_the_data_dir_is_warned_about(make_server):
    """A data directory from before the key moved out keeps working, with
    a loud warning at every start."""
    s = make_server()
    s.mkns("legacy-ns")
    assert s.put_obj("legacy-ns", "k", b"old layout").status_code == 201
    s.stop()
    os.rename(s.master_key, os.path.join(s.data, "master.key"))
    s.start()
    assert "event=insecure_key_location" in s.stderr()
    assert s.get_obj("legacy-ns", "k").content == b"old layout"


def test_wrong_master_key_refuses_to_start(make_server):
    s = make_server()
    s.mkns("mk-ns")
    assert s.put_obj("mk-ns", "k", b"sealed").status_code == 201
    s.stop()
    mk = s.master_key
    with open(mk) as f:
        orig = f.read()
    # Same format, other key material: the keyring cannot be unsealed.
    flipped = "".join(("0" if c != "0" else "1") if c in "0123456789abcdef"
                      else c for c in orig[:10]) + orig[10:]
    with open(mk, "w") as f:
        f.write(flipped)
    p = subprocess.run(s.argv(), capture_output=True, text=True,
                       timeout=60, env=s.server_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert "coffer: serving" not in p.stdout
    assert p.stderr.strip()
    with open(mk, "w") as f:
        f.write(orig)
    s.start()
    assert s.get_obj("mk-ns", "k").content == b"sealed"


def _stop_and_move_key(make_server, tmp_path, ns):
    s = make_server()
    s.mkns(ns)
    assert s.put_obj(ns, "k", b"moved key").status_code == 201
    s.stop()
    outside = tmp_path / "master.key"
    os.rename(s.master_key, outside)
    return s, outside


def test_master_key_file_elsewhere(make_server, tmp_path):
    s, outside = _stop_and_move_key(make_server, tmp_path, "mkf-ns")
    os.environ["COFFER_MASTER_KEY_FILE"] = str(outside)
    try:
        s.start()
    finally:
        del os.environ["COFFER_MASTER_KEY_FILE"]
    assert s.get_obj("mkf-ns", "k").content == b"moved key"
    assert not os.path.exists(os.path.join(s.data, "master.key"))
    p = subprocess.run(
        [COFFER_BIN, "audit", "verify", "--data", s.data],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env=dict(sanitizer_env(), COFFER_MASTER_KEY_FILE=str(outside)))
    assert p.returncode == 0, (p.stdout, p.stderr)
    # The same with the master_key_file setting instead.
    s.stop()
    s.extra_args += ["--set", "master_key_file=%s" % outside]
    s.start()
    assert s.get_obj("mkf-ns", "k").content == b"moved key"


def test_missing_master_key_refuses_to_start(make_server, tmp_path):
    s, outside = _stop_and_move_key(make_server, tmp_path, "mkm-ns")
    p = subprocess.run(s.argv(), capture_output=True, text=True,
                       timeout=60, env=s.server_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode != 0, p.stdout
    assert "coffer: serving" not in p.stdout
    assert "is missing but" in p.stderr


def test_missing_master_key_not_recreated(make_server, tmp_path):
    s, outside = _stop_and_move_key(make_server, tmp_path, "mkr-ns")
    key = s.master_key
    p = subprocess.run(s.argv(), capture_output=True, text=True,
                       timeout=60, env=s.server_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert not os.path.exists(key)
    assert not os.path.exists(os.path.join(s.data, "master.key"))


def test_sealed_master_key(make_server, tmp_path):
    """A passphrase-sealed key: a copy of the key file alone opens
    nothing; the server starts with the passphrase from a file
    descriptor or master_key_passphrase_file, and refuses without it or
    with a wrong one."""
    s = make_server()
    s.mkns("seal-ns")
    assert s.put_obj("seal-ns", "k", b"under seal").status_code == 201
    s.stop()
    pw = "correct horse sealing wax 7"
    mk = ["master-key", "seal", "--data", s.data, "--passphrase-stdin"]
    p = subprocess.run([COFFER_BIN] + mk, input=pw + "\n" + pw + "\n",
                       capture_output=True, text=True, timeout=60,
                       env=s.server_env())
    assert p.returncode == 0, (p.stdout, p.stderr)
    with open(s.master_key) as f:
        sealed = f.read()
    assert sealed.startswith("coffer-sealed-master-key-v1 argon2id ")
    assert os.stat(s.master_key).st_mode & 0o077 == 0
    # Without the passphrase (no terminal): refused, and says why.
    p = subprocess.run(s.argv(), capture_output=True, text=True,
                       timeout=60, env=s.server_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode != 0 and "sealed with a passphrase" in p.stderr
    # A wrong one: refused.
    bad = tmp_path / "bad-pass"
    bad.write_text("not the passphrase\n")
    p = subprocess.run(s.argv() + ["--set", "master_key_passphrase_file=%s"
                                   % bad], capture_output=True, text=True,
                       timeout=60, env=s.server_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode != 0 and "wrong passphrase" in p.stderr
    # From a file descriptor: starts, and the data is there.
    r, w = os.pipe()
    os.write(w, (pw + "\n").encode())
    os.close(w)
    s.extra_args += ["--passphrase-fd", str(r)]
    s.pass_fds = (r,)
    s.start()
    os.close(r)
    assert s.get_obj("seal-ns", "k").content == b"under seal"
    s.stop()
    # Offline tools ask for it too (here from a file).
    good = tmp_path / "pass"
    good.write_text(pw + "\n")
    p = subprocess.run([COFFER_BIN, "audit", "verify", "--data", s.data],
                       capture_output=True, text=True, timeout=60,
                       env=dict(s.server_env(),
                                COFFER_MASTER_KEY_PASSPHRASE_FILE=str(good)),
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, (p.stdout, p.stderr)
    # Unseal: the plain key is back, and the server starts without one.
    p = subprocess.run([COFFER_BIN, "master-key", "unseal", "--data",
                        s.data], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL,
                       env=dict(s.server_env(),
                                COFFER_MASTER_KEY_PASSPHRASE_FILE=str(good)))
    assert p.returncode == 0, (p.stdout, p.stderr)
    s.extra_args = s.extra_args[:-2]
    s.pass_fds = ()
    s.start()
    assert s.get_obj("seal-ns", "k").content == b"under seal"

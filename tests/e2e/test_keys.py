"""Key providers and KEK rotation (docs/keys.md): the PKCS#11 provider
against a SoftHSM2 token made by the test in its own directory, a missing
module refused at start, rotation under concurrent uploads and downloads
without a failed request, a rewrap that a crash interrupts and a restart
completes, and retire refused until the rewrap is complete.

The crash is real: COFFER_TEST_CRASH=rewrap_batch makes the server
_exit() right after the first rewrap batch committed, as SIGKILL would
(src/core/keys.c)."""

import os
import shutil
import subprocess
import threading
import time

import pytest

from conftest import COFFER_BIN, free_port, s3_client

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "1234"
CRASH_STATUS = 86
NS = "keys-e2e"

needs_softhsm = pytest.mark.skipif(
    not os.path.exists(SOFTHSM_MODULE) or
    shutil.which("softhsm2-util") is None,
    reason="softhsm2 not installed (scripts/deps.sh)")


def softhsm(tmp, label="coffer"):
    """A SoftHSM2 token in tmp: the config, the token, and the
    environment that finds it."""
    tokens = os.path.join(str(tmp), "tokens")
    os.makedirs(tokens, exist_ok=True)
    conf = os.path.join(str(tmp), "softhsm2.conf")
    with open(conf, "w") as f:
        f.write("directories.tokendir = %s\n"
                "objectstore.backend = file\nlog.level = ERROR\n" % tokens)
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label",
                    label, "--pin", PIN, "--so-pin", "5678"], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return {"SOFTHSM2_CONF": conf}


def hsm_args(module=SOFTHSM_MODULE, label="coffer"):
    return ["--set", "key_provider=pkcs11", "--set",
            "pkcs11_module=" + module, "--set", "pkcs11_token_label=" + label]


def init_hsm(env, args):
    e = dict(os.environ, **env)
    e["COFFER_PKCS11_PIN"] = PIN
    return subprocess.run([COFFER_BIN, "key", "init-hsm"] + args, env=e,
                          capture_output=True, text=True, timeout=60)


def hsm_server(make_server, tmp_path, extra_env=None):
    env = softhsm(tmp_path / "hsm")
    r = init_hsm(env, hsm_args())
    assert r.returncode == 0, r.stderr
    assert "hsm-1" in r.stdout
    s = make_server(extra_args=hsm_args(), start=False)
    s.env.update(env)
    s.env["COFFER_PKCS11_PIN"] = PIN
    s.env.update(extra_env or {})
    return s.start()


def status(s):
    r = s.get("/v1/keys")
    assert r.status_code == 200, r.text
    return r.json()


def wait_rewrapped(s, timeout=120):
    """Poll key status until nothing waits for the rewrap (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        st = status(s)
        if st["rewrap"]["pending"] == 0:
            return st
        assert time.monotonic() < deadline, st
        time.sleep(0.05)


def counts(st):
    return {k["id"]: k["versions"] for k in st["keks"]}


@needs_softhsm
def test_hsm_put_get(make_server, tmp_path):
    s = hsm_server(make_server, tmp_path)
    s.mkns(NS)
    data = os.urandom(300000)
    assert s.put_obj(NS, "a", data).status_code == 201
    r = s.get_obj(NS, "a")
    assert r.status_code == 200 and r.content == data
    st = status(s)
    assert st["provider"] == "pkcs11" and st["active"] == "hsm-1"
    assert st["reachable"] is True
    assert counts(st)["hsm-1"] == 1
    assert [k["where"] for k in st["keks"]] == ["pkcs11"]
    # The KEK cannot be read out of the token, and a restart unwraps.
    s.restart()
    assert s.get_obj(NS, "a").content == data


@needs_softhsm
def test_hsm_missing_module_refuses_start(tmp_path):
    env = dict(os.environ, COFFER_PKCS11_PIN=PIN,
               XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    r = subprocess.run(
        [COFFER_BIN, "server", "--data", str(tmp_path / "d"), "--listen",
         "127.0.0.1:%d" % free_port()] +
        hsm_args(module=str(tmp_path / "nope.so")),
        env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "pkcs11" in r.stderr and "nope.so" in r.stderr, r.stderr


@needs_softhsm
def test_hsm_wrong_pin_and_no_pin(tmp_path):
    env = softhsm(tmp_path / "hsm")
    e = dict(env, COFFER_PKCS11_PIN="9999")
    r = subprocess.run([COFFER_BIN, "key", "init-hsm"] + hsm_args(),
                       env=dict(os.environ, **e), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and "refused the PIN" in r.stderr
    e = dict(os.environ, **env)
    e.pop("COFFER_PKCS11_PIN", None)
    r = subprocess.run([COFFER_BIN, "key", "init-hsm"] + hsm_args(),
                       env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "COFFER_PKCS11_PIN" in r.stderr


@needs_softhsm
def test_hsm_token_without_kek_refuses_start(tmp_path, make_server):
    env = softhsm(tmp_path / "hsm")
    s = make_server(extra_args=hsm_args(), start=False)
    s.port = free_port()
    e = dict(os.environ, **env)
    e.update(s.env)
    e["COFFER_PKCS11_PIN"] = PIN
    r = subprocess.run(s.argv(), env=e, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0 and "init-hsm" in r.stderr, r.stderr


def load(s, keys, stop, failures, counter):
    """Upload and download in a loop until stop; every non-2xx answer is
    a failure."""
    i = 0
    while not stop.is_set():
        k = keys[i % len(keys)]
        data = (b"%d-" % i) * 500
        r = s.put_obj(NS, k, data, token="admin-api")
        if r.status_code != 201:
            failures.append(("put", r.status_code, r.text))
        r = s.get_obj(NS, k, token="admin-api")
        if r.status_code != 200:
            failures.append(("get", r.status_code, r.text))
        i += 1
        counter[0] += 1


@pytest.mark.parametrize("provider", ["file", "pkcs11"])
def test_rotation_under_load(make_server, tmp_path, provider):
    if provider == "pkcs11":
        if not os.path.exists(SOFTHSM_MODULE):
            pytest.skip("softhsm2 not installed")
        s = hsm_server(make_server, tmp_path)
        old, new = "hsm-1", "hsm-2"
    else:
        s = make_server()
        old, new = "kek-1", "kek-2"
    s.mkns(NS)
    for i in range(40):
        assert s.put_obj(NS, "pre-%d" % i, b"x" * i).status_code == 201
    stop = threading.Event()
    failures = []
    counters = [[0], [0], [0]]
    threads = [threading.Thread(target=load, args=(
        s, ["w%d-%d" % (t, j) for j in range(5)], stop, failures,
        counters[t])) for t in range(3)]
    for t in threads:
        t.start()
    try:
        # Rotate while the load runs (each worker did a round first).
        deadline = time.monotonic() + 60
        while min(c[0] for c in counters) < 2:
            assert time.monotonic() < deadline and not failures, failures
            time.sleep(0.01)
        r = s.post("/v1/keys")
        assert r.status_code == 200, r.text
        assert r.json()["active"] == new
        st = wait_rewrapped(s)
        base = [c[0] for c in counters]
        while min(c[0] - b for c, b in zip(counters, base)) < 2:
            assert time.monotonic() < deadline and not failures, failures
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    st = wait_rewrapped(s)
    assert counts(st).get(old, 0) == 0
    assert counts(st)[new] >= 40
    for i in range(40):
        assert s.get_obj(NS, "pre-%d" % i).content == b"x" * i
    # Retired once nothing is wrapped under it; then it is gone.
    r = s.req("DELETE", "/v1/keys/" + old)
    assert r.status_code == 200, r.text
    assert old not in counts(status(s))
    for i in range(40):
        assert s.get_obj(NS, "pre-%d" % i).content == b"x" * i
    recs = s.audit_records()
    assert any(x.get("action") == "key:rotate" for x in recs)
    assert any(x.get("action") == "key:rewrap" for x in recs)
    assert any(x.get("action") == "key:retire" for x in recs)


def test_retire_refused_until_rewrap_completes(make_server, monkeypatch):
    monkeypatch.setenv("COFFER_TEST_REWRAP", "off")
    s = make_server()
    monkeypatch.delenv("COFFER_TEST_REWRAP")
    s.mkns(NS)
    for i in range(5):
        assert s.put_obj(NS, "k%d" % i, b"v%d" % i).status_code == 201
    assert s.post("/v1/keys").json()["active"] == "kek-2"
    # New versions use the new KEK at once.
    assert s.put_obj(NS, "after", b"new").status_code == 201
    st = status(s)
    assert counts(st) == {"kek-1": 5, "kek-2": 1}
    # The five versions' DEKs and the admin's TOTP secret.
    assert st["rewrap"]["pending"] == 6
    r = s.req("DELETE", "/v1/keys/kek-1")
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "rewrap_incomplete"
    msg = r.json()["error"]["message"]
    assert "5 object version keys, 1 MFA secrets" in msg, msg
    r = s.req("DELETE", "/v1/keys/kek-2")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "kek_active"
    # An API token has no MFA: refused before anything.
    r = s.req("DELETE", "/v1/keys/kek-1", token="admin-api")
    assert r.status_code == 401
    recs = [x for x in s.audit_records() if x.get("action") == "key:retire"]
    assert len(recs) == 3 and all(x.get("decision") == "deny" or
                                  x.get("status", 0) >= 400 for x in recs)
    # A restart without the hook completes the rewrap; then retire works.
    s.restart()
    wait_rewrapped(s)
    assert s.req("DELETE", "/v1/keys/kek-1").status_code == 200
    for i in range(5):
        assert s.get_obj(NS, "k%d" % i).content == b"v%d" % i


def test_rewrap_crash_resumes(make_server, monkeypatch):
    s = make_server()
    s.mkns(NS)
    for i in range(12):
        assert s.put_obj(NS, "k%d" % i, b"v%d" % i).status_code == 201
    s.stop()
    monkeypatch.setenv("COFFER_TEST_REWRAP_BATCH", "3")
    monkeypatch.setenv("COFFER_TEST_CRASH", "rewrap_batch")
    s.start()
    monkeypatch.delenv("COFFER_TEST_CRASH")
    r = s.post("/v1/keys")
    assert r.status_code == 200
    assert s.proc.wait(timeout=60) == CRASH_STATUS, s.stderr()[-2000:]
    assert "event=test_crash point=rewrap_batch" in s.stderr()
    s.proc = None
    s.start()
    st = wait_rewrapped(s)
    assert counts(st).get("kek-1", 0) == 0 and counts(st)["kek-2"] == 12
    for i in range(12):
        assert s.get_obj(NS, "k%d" % i).content == b"v%d" % i
    rw = [x for x in s.audit_records() if x.get("action") == "key:rewrap"]
    assert len(rw) >= 4


@needs_softhsm
def test_hsm_lost_while_running(make_server, tmp_path):
    """The token goes away under a running server: uploads and downloads
    fail closed (503 key_provider_unavailable), each answer audited; when
    it is back, both work again without a restart."""
    lost = str(tmp_path / "unplugged")
    s = hsm_server(make_server, tmp_path,
                   {"COFFER_TEST_HSM_LOST_FILE": lost})
    s.mkns(NS)
    assert s.put_obj(NS, "a", b"before").status_code == 201
    open(lost, "w").close()
    r = s.put_obj(NS, "b", b"during")
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "key_provider_unavailable"
    assert "not reachable" in r.json()["error"]["message"]
    r = s.get_obj(NS, "a")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "key_provider_unavailable"
    assert status(s)["reachable"] is False
    recs = [x for x in s.audit_records()
            if x.get("action") in ("object:put", "object:get") and
            x.get("status") == 503]
    assert len(recs) == 2, recs
    assert "event=key_provider_unavailable" in s.stderr()
    os.unlink(lost)
    assert s.get_obj(NS, "a").content == b"before"
    assert s.put_obj(NS, "b", b"after").status_code == 201
    assert status(s)["reachable"] is True


def test_s3_keys_rewrapped_before_retire(make_server):
    """S3 access keys are sealed by the key provider too: the rewrap
    moves them, key status counts them, and retiring the old KEK leaves
    them working."""
    pytest.importorskip("boto3")
    s = make_server()
    s.mkns(NS)
    r = s.post("/v1/s3-keys", {})
    assert r.status_code == 201, r.text
    k = r.json()
    assert s.post("/v1/keys").json()["active"] == "kek-2"
    st = wait_rewrapped(s)
    assert {x["id"]: x.get("s3_keys") for x in st["keks"]}["kek-2"] == 1
    assert s.req("DELETE", "/v1/keys/kek-1").status_code == 200
    c = s3_client(s, k)
    c.put_object(Bucket=NS, Key="s3obj", Body=b"hello")
    assert c.get_object(Bucket=NS, Key="s3obj")["Body"].read() == b"hello"


@needs_softhsm
def test_hsm_token_absent_refuses_start(make_server, tmp_path):
    """A server whose token is not there (another label, or the token
    removed after init-hsm) does not start, and says which token."""
    s = hsm_server(make_server, tmp_path)
    s.mkns(NS)
    assert s.put_obj(NS, "a", b"x").status_code == 201
    s.stop()
    # The token's files gone, as an unplugged HSM.
    shutil.rmtree(str(tmp_path / "hsm" / "tokens"))
    os.makedirs(str(tmp_path / "hsm" / "tokens"))
    s.port = free_port()
    e = dict(os.environ, **s.env)
    r = subprocess.run(s.argv(), env=e, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    assert 'no token' in r.stderr and '"coffer"' in r.stderr, r.stderr
    assert "pkcs11" in r.stderr


def wait_stderr(s, needle, timeout=60):
    deadline = time.monotonic() + timeout
    while needle not in s.stderr():
        assert s.proc.poll() is None, s.stderr()[-2000:]
        assert time.monotonic() < deadline, s.stderr()[-2000:]
        time.sleep(0.02)


@needs_softhsm
def test_hsm_sigkill_mid_rewrap_resumes(make_server, tmp_path):
    """SIGKILL while the rewrap is half done (the test hook holds it
    after two batches of three): the restarted server finishes it, no
    version is lost or half-moved, and only then retire succeeds."""
    s = hsm_server(make_server, tmp_path, {
        "COFFER_TEST_REWRAP_BATCH": "3",
        "COFFER_TEST_REWRAP_PAUSE_AFTER": "2"})
    s.mkns(NS)
    data = {"k%d" % i: os.urandom(1000 + i) for i in range(12)}
    for k, v in data.items():
        assert s.put_obj(NS, k, v).status_code == 201
    assert s.post("/v1/keys").json()["active"] == "hsm-2"
    wait_stderr(s, "event=test_rewrap_paused")
    st = status(s)
    assert counts(st) == {"hsm-1": 6, "hsm-2": 6}, st
    assert st["rewrap"]["running"] is True
    r = s.req("DELETE", "/v1/keys/hsm-1")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "rewrap_incomplete"
    s.kill()
    del s.env["COFFER_TEST_REWRAP_PAUSE_AFTER"]
    s.start()
    st = wait_rewrapped(s)
    assert counts(st).get("hsm-1", 0) == 0 and counts(st)["hsm-2"] == 12
    for k, v in data.items():
        assert s.get_obj(NS, k).content == v
    assert s.req("DELETE", "/v1/keys/hsm-1").status_code == 200
    assert [k["id"] for k in status(s)["keks"]] == ["hsm-2"]
    for k, v in data.items():
        assert s.get_obj(NS, k).content == v

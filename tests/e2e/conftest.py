"""tests/e2e/conftest.py: fixtures that run real `coffer server` processes.

Every test talks to a real server over real HTTPS on 127.0.0.1, with the
server's own self-signed certificate as the CA.  Nothing here touches the
user's real configuration: CLI runs get a private HOME and XDG_CONFIG_HOME.

Fixtures
  server        one server per test module (tests that need a pristine
                data directory or kill the server use fresh_server)
  fresh_server  one server for this test only
  cli           run the coffer CLI against `server`
  make_server   factory: start servers with extra options

The binary is $COFFER_BIN (CTest passes the build's), else
/work/main/build/coffer.
"""

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import struct
import subprocess
import time
import urllib.parse

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
COFFER_BIN = os.environ.get("COFFER_BIN", "/work/main/build/coffer")
# Sanitizer builds are several times slower; everything waits this long.
START_TIMEOUT = float(os.environ.get("COFFER_E2E_START_TIMEOUT", "30"))
HTTP_TIMEOUT = float(os.environ.get("COFFER_E2E_HTTP_TIMEOUT", "120"))
# Per-test wall-clock limit (SIGALRM): no pytest-timeout plugin needed.
TEST_TIMEOUT = int(os.environ.get("COFFER_E2E_TEST_TIMEOUT", "240"))
# The admin session's MFA counts for admin work for mfa_max_age_admin
# (900 s by default), and a module's server lives longer than that on a
# slow machine: before each test, a running server's admin steps up again
# once its MFA is this old (seconds), so that no test sees it expire.
ADMIN_MFA_REFRESH = 900 - TEST_TIMEOUT - 120

# A broken invariant (CF_NEVER, src/base/check.h) aborts a Debug build
# but only logs in a Release one: the marker makes both fail the test.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:",
                     "ERROR: LeakSanitizer", "event=invariant_broken")

# Exit codes of the CLI (src/client/client.h, docs/cli.md).
EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_DENIED = 4
EXIT_NOTFOUND = 5
EXIT_CONFLICT = 6
EXIT_INTEGRITY = 7
EXIT_NETWORK = 8
EXIT_SERVER = 9
EXIT_INPUT = 10


# ---- TOTP (RFC 6238 / RFC 4226) ----

def hotp(key, counter, digits=6):
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    n = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return str(n % (10 ** digits)).zfill(digits)


class Totp:
    """A user's authenticator: fresh() gives a code the server has not
    seen yet (its step is above the last one used)."""

    def __init__(self, secret_b32):
        s = secret_b32.strip().replace(" ", "").upper()
        self.key = base64.b32decode(s + "=" * (-len(s) % 8))
        self.last = None

    def at(self, step):
        return hotp(self.key, step)

    def fresh(self):
        while True:
            now = time.time()
            t = int(now // 30)
            left = 30 - (now % 30)
            cands = ([t - 1] if left > 4 else []) + [t, t + 1]
            cands = [c for c in cands if self.last is None or c > self.last]
            if cands:
                self.last = cands[0]
                return self.at(cands[0])
            time.sleep(min(left + 0.2, 31))

    def wrong(self):
        """A well-formed code that matches no step of the window."""
        t = int(time.time() // 30)
        window = {self.at(s) for s in range(t - 3, t + 4)}
        for s in range(t + 100, t + 200):
            c = self.at(s)
            if c not in window:
                return c
        return "000000"


def sanitizer_env(env=None):
    env = dict(os.environ if env is None else env)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    return env


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def enc_key(key):
    """Percent-encode an object key for a URL path.  Slashes stay; "." and
    ".." segments are encoded (%2E) because urllib3 would otherwise remove
    dot segments, and the API says a key is taken literally."""
    parts = []
    for seg in key.split("/"):
        q = urllib.parse.quote(seg, safe="")
        if seg in (".", ".."):
            q = q.replace(".", "%2E")
        parts.append(q)
    return "/".join(parts)


def obj_path(ns, key):
    return "/v1/ns/%s/objects/%s" % (ns, enc_key(key))


def ver_path(ns, key):
    return "/v1/ns/%s/versions/%s" % (ns, enc_key(key))


# Data directory id -> the master key file of the server that made it, so
# offline tools run on a directory (or a copy of it) can be given its key.
_KEYS = {}


def master_key_for(data_dir):
    try:
        with open(os.path.join(str(data_dir), "id")) as f:
            return _KEYS.get(f.read().strip())
    except OSError:
        return None


def mfa_too_old(r):
    """Is r the refusal of an MFA older than its class allows?"""
    if r.status_code != 401:
        return False
    try:
        e = r.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return (e.get("code") == "mfa_required" and
            "mfa_max_age_" in e.get("message", ""))


_TEST_BUILD = []


def is_test_build(binary):
    """Whether binary honours the COFFER_TEST_* hooks (a build made with
    -DCF_TEST_HOOKS=ON says so in --version)."""
    p = subprocess.run([binary, "--version"], capture_output=True,
                       text=True, timeout=30, env=sanitizer_env())
    return p.returncode == 0 and "test build" in p.stdout


def require_test_build():
    """The suite drives servers through test hooks (a clock file, crash
    points): a binary without them would fail tests for the wrong
    reason, so say what is wrong once, up front."""
    if not _TEST_BUILD:
        _TEST_BUILD.append(is_test_build(COFFER_BIN))
    if not _TEST_BUILD[0]:
        pytest.fail("%s is not a test build: configure it with "
                    "-DCF_TEST_HOOKS=ON (make build and make build-asan "
                    "do)" % COFFER_BIN)


def wait_until(pred, timeout):
    """Poll pred (every 0.1 s) until it is true or timeout seconds have
    passed; whether it became true.  For a state that follows an event
    the test already saw (a purge's record is durable before its commit
    is visible), never for timing."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


class Server:
    """A `coffer server` process on a data directory it keeps across
    restarts."""

    running = []    # started and not yet stopped (ADMIN_MFA_REFRESH)

    def __init__(self, workdir, extra_args=(), insecure_http=False,
                 listen_host="127.0.0.1"):
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.data = os.path.join(self.workdir, "data")
        self.extra_args = list(extra_args)
        self.insecure_http = insecure_http
        self.listen_host = listen_host
        self.proc = None
        self.bin = COFFER_BIN   # the coffer binary this server runs
        self.preexec = None     # run in the child before exec (limits)
        self.port = None
        self.starts = 0
        self.admin_token = None       # admin session with MFA
        self.admin_api_token = None   # admin API token (no MFA)
        self.admin_totp = None
        self.admin_mfa_at = None      # time.monotonic() of its MFA
        self.auto_admin = True        # enroll the bootstrap admin at start
        # The master key lives outside the data directory, by default in
        # $XDG_CONFIG_HOME/coffer/keys: a private one per server.
        self.env = {"XDG_CONFIG_HOME": os.path.join(self.workdir, "xdg")}
        self.pass_fds = ()            # file descriptors the server gets
        self._session = None
        self.stdout_path = self.stderr_path = None

    # ---- paths ----
    @property
    def ca(self):
        return os.path.join(self.data, "tls", "server.crt")

    @property
    def verify(self):
        return False if self.insecure_http else self.ca

    @property
    def url(self):
        scheme = "http" if self.insecure_http else "https"
        return "%s://127.0.0.1:%d" % (scheme, self.port)

    def server_env(self):
        """The environment the server runs in (and offline tools on its
        data directory need)."""
        env = sanitizer_env()
        env.update(self.env)
        return env

    @property
    def master_key(self):
        """Where the server keeps its master key (coffer master-key
        path): $XDG_CONFIG_HOME/coffer/keys/ID.key, ID from DATA/id."""
        if os.environ.get("COFFER_MASTER_KEY_FILE"):
            return os.environ["COFFER_MASTER_KEY_FILE"]
        with open(os.path.join(self.data, "id")) as f:
            ident = f.read().strip()
        base = self.env.get("XDG_CONFIG_HOME") or os.path.join(
            self.env.get("HOME", os.environ["HOME"]), ".config")
        return os.path.join(base, "coffer", "keys", ident + ".key")

    @property
    def audit_path(self):
        return os.path.join(self.data, "audit", "audit.log")

    @property
    def blobs(self):
        return os.path.join(self.data, "blobs")

    # ---- the test clock (COFFER_TEST_CLOCK_FILE, a test build's hook) --
    def use_test_clock(self, secs=0):
        """Run the server on the test clock, secs ahead of the real one;
        call before start()."""
        self.clock = os.path.join(self.workdir, "clock")
        self.set_clock(secs)
        self.env["COFFER_TEST_CLOCK_FILE"] = self.clock
        return self

    def set_clock(self, secs):
        """The server's clock runs secs whole seconds ahead of the real
        one from its next reading on."""
        with open(self.clock, "w") as f:
            f.write("%d\n" % secs)

    def freeze_clock(self, at):
        """The server's clock stands at `at` (whole seconds since the
        epoch) until moved again: what happens "within one second" does
        not depend on how fast this host runs the test."""
        with open(self.clock, "w") as f:
            f.write("@%d\n" % at)

    # ---- process control ----
    def argv(self):
        args = [self.bin, "server", "--data", self.data, "--listen",
                "%s:%d" % (self.listen_host, self.port)]
        if self.insecure_http:
            args.append("--insecure-http")
        return args + self.extra_args

    def start(self):
        assert self.proc is None
        if not os.access(self.bin, os.X_OK):
            pytest.fail("coffer binary not found at %s (set COFFER_BIN)"
                        % self.bin)
        if self.bin == COFFER_BIN:
            require_test_build()
        last = ""
        for _attempt in range(3):
            if self.port is None or _attempt > 0:
                self.port = free_port()
            self.starts += 1
            self.stdout_path = os.path.join(
                self.workdir, "server.%d.out" % self.starts)
            self.stderr_path = os.path.join(
                self.workdir, "server.%d.err" % self.starts)
            with open(self.stdout_path, "wb") as out, \
                    open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen(
                    self.argv(), stdout=out, stderr=err,
                    stdin=subprocess.DEVNULL, env=self.server_env(),
                    preexec_fn=self.preexec, pass_fds=self.pass_fds)
            if self._wait_ready():
                break
            last = self.stderr()
            self.proc = None
            if "in use" not in last.lower() and "bind" not in last.lower():
                pytest.fail("coffer server did not start:\n" + last)
        else:
            pytest.fail("coffer server did not start:\n" + last)
        self._session = requests.Session()
        try:
            with open(os.path.join(self.data, "id")) as f:
                _KEYS[f.read().strip()] = self.master_key
        except OSError:
            pass    # an operator-named key (COFFER_MASTER_KEY_FILE)
        if self not in Server.running:
            Server.running.append(self)
        if self.admin_token is None and self.auto_admin:
            self._bootstrap_admin()
        return self

    def _bootstrap_admin(self):
        """What docs/quickstart.md has a person do on the first start:
        take the bootstrap session, enroll MFA (confirming replaces the
        session by one with MFA and removes the file), and mint an admin
        API token for the tests that need one."""
        path = os.path.join(self.data, "bootstrap-token")
        with open(path) as f:
            boot = f.read().strip()
        r = self.post("/v1/mfa/enroll", token=boot)
        assert r.status_code == 200, r.text
        self.admin_totp = Totp(r.json()["secret"])
        self.admin_mfa_at = time.monotonic()
        r = self.post("/v1/mfa/confirm", {"code": self.admin_totp.fresh()},
                      token=boot)
        assert r.status_code == 200, r.text
        self.admin_token = r.json()["token"]
        assert self.admin_token.startswith("cfs_")
        assert not os.path.exists(path), "bootstrap file left behind"
        r = self.post("/v1/tokens", {"principal": "admin",
                                     "description": "e2e admin API token"})
        assert r.status_code == 201, r.text
        self.admin_api_token = r.json()["token"]

    def admin_stepup(self):
        """Step the admin session up again (POST /v1/session/mfa, as the
        CLI does on 401 mfa_required): it is replaced by a new one."""
        at = time.monotonic()
        r = self.post("/v1/session/mfa", {"code": self.admin_totp.fresh()},
                      token=self.admin_token)
        assert r.status_code == 200, r.text
        assert r.json()["mfa"] is True
        self.admin_token = r.json()["token"]
        self.admin_mfa_at = at

    def admin_mfa_age(self):
        """Seconds since the admin session's MFA (an upper bound)."""
        if self.admin_mfa_at is None:
            return None
        return time.monotonic() - self.admin_mfa_at

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with open(self.stdout_path) as f:
                    started = "coffer: serving" in f.read()
            except OSError:
                started = False
            if started:
                try:
                    r = requests.get(self.url + "/v1/health",
                                     verify=self.verify, timeout=5)
                    if r.status_code == 200:
                        return True
                except requests.RequestException:
                    pass
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        return False

    def stdout(self):
        with open(self.stdout_path, errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def sanitizer_report(self):
        text = self.stderr()
        for m in SANITIZER_MARKERS:
            if m in text:
                return text
        return None

    def stop(self, check=True):
        """SIGTERM and wait; with check, the exit status must be 0 and the
        stderr free of sanitizer reports."""
        if self.proc is None:
            return None
        if self._session is not None:
            self._session.close()
        if self in Server.running:
            Server.running.remove(self)
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            if check:
                pytest.fail("coffer server ignored SIGTERM")
            return None
        self.proc = None
        if check:
            rep = self.sanitizer_report()
            assert rep is None, "sanitizer report from server:\n" + rep
            assert rc == 0, "server exited %d on SIGTERM:\n%s" % (
                rc, self.stderr()[-4000:])
        return rc

    def kill(self):
        if self.proc is None:
            return
        if self._session is not None:
            self._session.close()
        if self in Server.running:
            Server.running.remove(self)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # ---- HTTP ----
    def req(self, method, path, token="admin", headers=None, **kw):
        """One request; token "admin" means the bootstrap admin token,
        None means no Authorization header.  With "admin", a refusal
        because the admin's MFA is too old (mfa_max_age_admin) steps the
        session up and sends the request again, as the CLI does; any
        other token gets the refusal."""
        h = dict(headers or {})
        admin = token == "admin"
        if admin:
            token = self.admin_token
        elif token == "admin-api":
            token = self.admin_api_token
        if token is not None:
            h["Authorization"] = "Bearer " + token
        kw.setdefault("timeout", HTTP_TIMEOUT)
        kw.setdefault("verify", self.verify)
        r = self._session.request(method, self.url + path, headers=h, **kw)
        if (admin and self.admin_totp is not None and
                isinstance(kw.get("data"), (type(None), bytes, str)) and
                mfa_too_old(r)):
            self.admin_stepup()
            h["Authorization"] = "Bearer " + self.admin_token
            r = self._session.request(method, self.url + path, headers=h,
                                      **kw)
        return r

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, json=body, **kw)

    def put_obj(self, ns, key, data, token="admin", headers=None, **kw):
        return self.req("PUT", obj_path(ns, key), data=data, token=token,
                        headers=headers, **kw)

    def get_obj(self, ns, key, token="admin", **kw):
        return self.req("GET", obj_path(ns, key), token=token, **kw)

    def versions(self, ns, key, token="admin"):
        r = self.req("GET", ver_path(ns, key), token=token)
        if r.status_code == 404:
            return []
        assert r.status_code == 200, r.text
        return r.json()["versions"]

    def mkns(self, name, env=None):
        body = {"name": name}
        if env:
            body["env"] = env
        r = self.post("/v1/ns", body)
        assert r.status_code == 201, r.text
        return r.json()

    def principal(self, name, kind="user"):
        r = self.post("/v1/principals", {"name": name, "kind": kind})
        assert r.status_code == 201, r.text
        return r.json()

    def token(self, principal, expires_in=None, description=None):
        body = {"principal": principal}
        if expires_in is not None:
            body["expires_in"] = expires_in
        if description is not None:
            body["description"] = description
        r = self.post("/v1/tokens", body)
        assert r.status_code == 201, r.text
        return r.json()

    def grant(self, principal, role, ns=None, token="admin"):
        body = {"principal": principal, "role": role}
        if ns is not None:
            body["ns"] = ns
        r = self.post("/v1/bindings", body, token=token)
        assert r.status_code == 201, r.text
        return r.json()

    def user(self, name, role=None, ns=None, kind="user"):
        """Create principal name, optionally bind role (on ns), and return
        a fresh token secret for it."""
        self.principal(name, kind)
        if role is not None:
            self.grant(name, role, ns)
        return self.token(name)["token"]

    def mfa_session(self, name, password=None):
        """A session with MFA for user name: an admin sets its password
        (unless given one it already has), it logs in, enrolls and
        confirms.  Returns (session token, Totp)."""
        if password is None:
            password = "e2e Violet kettle 93 drums"
            r = self.post("/v1/users/%s/password" % name,
                          {"password": password})
            assert r.status_code == 200, r.text
        r = self.post("/v1/login", {"user": name, "password": password},
                      token=None)
        assert r.status_code == 201, r.text
        tok = r.json()["token"]
        r = self.post("/v1/mfa/enroll", token=tok)
        assert r.status_code == 200, r.text
        totp = Totp(r.json()["secret"])
        r = self.post("/v1/mfa/confirm", {"code": totp.fresh()}, token=tok)
        assert r.status_code == 200, r.text
        assert r.json()["mfa"] is True
        return r.json()["token"], totp

    # ---- audit ----
    def audit_records(self):
        try:
            with open(self.audit_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        # The server may be appending while we read: a record whose write
        # is still in progress has no newline yet, so only whole lines count.
        data = data[:data.rfind(b"\n") + 1]
        return [json.loads(l) for l in data.splitlines() if l.strip()]

    def audit_count(self):
        return len(self.audit_records())

    def wait_audit(self, pred, timeout=10):
        """Wait until some audit record satisfies pred; return it."""
        deadline = time.monotonic() + timeout
        while True:
            for rec in self.audit_records():
                if pred(rec):
                    return rec
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    # ---- data directory ----
    def blob_files(self):
        """Every committed blob file under DIR/blobs (not tmp, not .lock)."""
        out = []
        for root, dirs, files in os.walk(self.blobs):
            if os.path.relpath(root, self.blobs).split(os.sep)[0] == "tmp":
                continue
            for f in files:
                if f.startswith("."):
                    continue
                out.append(os.path.join(root, f))
        return sorted(out)

    def tmp_files(self):
        d = os.path.join(self.blobs, "tmp")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []


class Cli:
    """Runs the coffer CLI with a private HOME and the server settings in
    the environment."""

    def __init__(self, server, home):
        self.server = server
        self.home = str(home)
        os.makedirs(os.path.join(self.home, ".config"), exist_ok=True)

    def env(self, token="admin", extra=None, with_server=True):
        env = sanitizer_env()
        for k in list(env):
            if k.startswith("COFFER_") and k != "COFFER_BIN":
                del env[k]
        env["HOME"] = self.home
        env["XDG_CONFIG_HOME"] = os.path.join(self.home, ".config")
        if with_server and self.server is not None:
            env["COFFER_SERVER"] = self.server.url
            if not self.server.insecure_http:
                env["COFFER_CA_CERT"] = self.server.ca
            if token == "admin":
                token = self.server.admin_token
            if token is not None:
                env["COFFER_TOKEN"] = token
        env.update(extra or {})
        return env

    def __call__(self, *args, token="admin", input=None, cwd=None,
                 env=None, with_server=True, timeout=HTTP_TIMEOUT,
                 text=True):
        if isinstance(input, str) and not text:
            input = input.encode()
        args = [str(a) for a in args]
        if "--data" in args[:-1] and not (env or {}).get(
                "COFFER_MASTER_KEY_FILE"):
            # An offline tool on a data directory (or a copy of one) gets
            # its master key as an operator would tell it.
            key = master_key_for(args[args.index("--data") + 1])
            if key is not None:
                env = dict(env or {}, COFFER_MASTER_KEY_FILE=key)
        p = subprocess.run(
            [COFFER_BIN] + [str(a) for a in args], input=input,
            capture_output=True, cwd=cwd, timeout=timeout, text=text,
            env=self.env(token, env, with_server),
            stdin=None if input is not None else subprocess.DEVNULL)
        err = p.stderr if text else p.stderr.decode(errors="replace")
        for m in SANITIZER_MARKERS:
            assert m not in err, "sanitizer report from CLI:\n" + err
        return p

    def json(self, *args, **kw):
        p = self(*args, **kw)
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        return json.loads(p.stdout)


# ---- fixtures ----

@pytest.fixture(autouse=True)
def _per_test_timeout():
    """A wall-clock limit per test, so one hang cannot eat CTest's whole
    budget (there is no pytest-timeout plugin installed)."""
    def on_alarm(signum, frame):
        raise TimeoutError("test exceeded %ds" % TEST_TIMEOUT)
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def refresh_admins(max_age=ADMIN_MFA_REFRESH):
    """Step up the admin session of every running server whose admin MFA
    is older than max_age seconds."""
    for s in list(Server.running):
        age = s.admin_mfa_age()
        if (s.alive() and s.admin_totp is not None and age is not None and
                age > max_age):
            s.admin_stepup()


@pytest.fixture(autouse=True)
def _fresh_admin_mfa():
    """Before each test, every running server whose admin MFA is getting
    old steps its admin session up (ADMIN_MFA_REFRESH), so that a long
    module (a slow machine, sanitizers) does not run into
    mfa_max_age_admin in the middle of a test that copied the token."""
    refresh_admins()
    yield


@pytest.fixture
def make_server(tmp_path_factory):
    """Factory: make_server(extra_args=(...), insecure_http=False,
    start=True).  Every server made is stopped (and checked) at the end."""
    made = []

    def make(extra_args=(), insecure_http=False, start=True,
             listen_host="127.0.0.1"):
        s = Server(tmp_path_factory.mktemp("srv"), extra_args,
                   insecure_http, listen_host)
        made.append(s)
        if start:
            s.start()
        return s
    yield make
    for s in made:
        s.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("srv")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def key(server):
    """An S3 key of the admin on the module's server (POST /v1/s3-keys'
    answer: access_key_id, secret_access_key, endpoint)."""
    r = server.post("/v1/s3-keys", {}, token="admin")
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def fresh_server(make_server):
    return make_server()


@pytest.fixture
def cli(server, tmp_path):
    return Cli(server, tmp_path / "home")


@pytest.fixture
def fresh_cli(fresh_server, tmp_path):
    return Cli(fresh_server, tmp_path / "home")


_counter = [0]


@pytest.fixture
def uniq():
    """uniq("ns") -> a fresh valid name (namespaces, principals)."""
    def make(prefix="t"):
        _counter[0] += 1
        return "%s-%d-%d" % (prefix, os.getpid() % 10000, _counter[0])
    return make


def small_part_server(tmp_path_factory, bucket):
    """A server whose multipart parts may be as small as 1 byte (the
    test hook COFFER_TEST_MP_PART_MIN; S3's 5 MiB would make many-part
    tests gigabytes), an admin S3 key on it, a boto3 client of that key
    and the bucket made: (server, key, client).  The caller stops the
    server."""
    s = Server(tmp_path_factory.mktemp("srv"))
    s.env["COFFER_TEST_MP_PART_MIN"] = "1"
    s.start()
    r = s.post("/v1/s3-keys", {}, token="admin")
    assert r.status_code == 201, r.text
    key = r.json()
    c = s3_client(s, key)
    c.create_bucket(Bucket=bucket)
    return s, key, c


def s3_client(server, key, region="us-east-1", secret=None, **config):
    """A boto3 S3 client of the S3 key `key` (POST /v1/s3-keys' answer)
    on `server`: path-style, SigV4, no retries (a retry would hide the
    answer under test); `config` adds botocore Config options."""
    import boto3
    from botocore.config import Config
    opts = {"s3": {"addressing_style": "path"}, "signature_version": "s3v4",
            "retries": {"max_attempts": 1}}
    opts.update(config)
    return boto3.client(
        "s3", endpoint_url=server.url, region_name=region,
        aws_access_key_id=key["access_key_id"],
        aws_secret_access_key=secret or key["secret_access_key"],
        verify=server.ca, config=Config(**opts))

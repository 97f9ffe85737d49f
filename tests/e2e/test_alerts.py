"""Alert rules (issue 16, section 1; docs/monitoring.md, "Alerts"): rules
over audit records fire through a webhook sink to a local HTTPS receiver
(its own CA, made here with python3-cryptography), signed with HMAC-SHA256;
a rule with a window fires once per window; a webhook that is down gets
the alert after retries while requests go on; `coffer alert ls|test`;
every alert has an audit record of its own.  The syslog sink's line is
unit-tested (tests/unit/test_alert.c): there is no syslog daemon here."""

import datetime
import hashlib
import hmac
import http.server
import ipaddress
import json
import os
import ssl
import threading
import time

import pytest

from conftest import EXIT_FAIL, EXIT_NOTFOUND, Cli, free_port

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa
from cryptography.hazmat.primitives.asymmetric import ec  # noqa
from cryptography.x509.oid import NameOID  # noqa

SECRET = b"an-alert-webhook-secret-0123456789"


def make_pki(d):
    """A CA and a certificate for 127.0.0.1 signed by it: (ca, cert,
    key) paths."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                            "alert test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name)
          .issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                         critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False,
                                       True, True, False, False),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(
                NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = [os.path.join(d, n) for n in ("ca.pem", "cert.pem", "key.pem")]
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


class Receiver:
    """An HTTPS server on 127.0.0.1:port that keeps every POST."""

    def __init__(self, port, cert, key):
        self.port = port
        self.cert, self.key = cert, key
        self.got = []
        self.httpd = None

    def start(self):
        got = self.got

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                got.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port),
                                                     H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                            server_side=True)
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    def wait(self, n, timeout=60):
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.got


def verify(headers, body):
    """The body's signature checks with the shared secret; the body."""
    want = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Coffer-Signature"], want)
    assert headers["Content-Type"] == "application/json"
    return json.loads(body)


@pytest.fixture
def alerting(make_server, tmp_path):
    """A server with rules: denials (3 of one principal within an hour,
    to the receiver and syslog), late (every denial of 'latecomer', to a
    receiver that is not started yet)."""
    ca, cert, key = make_pki(str(tmp_path))
    secret = tmp_path / "hook.secret"
    secret.write_bytes(SECRET + b"\n")
    os.chmod(secret, 0o600)
    up = Receiver(free_port(), cert, key).start()
    down = Receiver(free_port(), cert, key)
    rules = tmp_path / "alerts.conf"
    rules.write_text(
        "sink local syslog facility=local0\n"
        "sink hook webhook url=https://127.0.0.1:%d/hook \\\n"
        "    secret_file=%s ca_file=%s retry_delay_ms=50\n"
        "sink late webhook url=https://127.0.0.1:%d/late \\\n"
        "    secret_file=%s ca_file=%s retries=30 retry_delay_ms=100 \\\n"
        "    timeout_ms=2000\n"
        "rule denials severity=warning sinks=hook,local \\\n"
        "    decision=deny status=403 principal=nosy-* count=3 "
        "window=3600\n"
        "rule late sinks=late decision=deny principal=latecomer\n"
        % (up.port, secret, ca, down.port, secret, ca))
    srv = make_server(extra_args=["--set", "alert_rules_file=%s" % rules])
    yield srv, up, down
    up.stop()
    down.stop()


def alert_records(srv, rule):
    return [r for r in srv.audit_records()
            if r["action"] == "alert:fired" and
            r["resource"] == "alerts/" + rule]


def test_many_denials_fire_once_per_window(alerting, tmp_path, uniq):
    srv, up, _ = alerting
    name = uniq("nosy")
    srv.user(name)
    tok = srv.token(name)["token"]
    ids = []
    for _ in range(7):
        r = srv.get("/v1/users", token=tok)
        assert r.status_code == 403, r.text
        ids.append(r.headers["X-Request-Id"])
    got = up.wait(1)
    assert len(got) == 1
    headers, body = got[0]
    a = verify(headers, body)
    assert headers["X-Coffer-Alert"] == "denials"
    assert a["alert"] == "denials" and a["severity"] == "warning"
    assert a["test"] is False and a["count"] == 3 and a["key"] == name
    assert a["window_s"] == 3600 and a["by"] == "principal"
    t = a["trigger"]
    assert t["request_id"] == ids[2]
    assert (t["principal"], t["action"], t["decision"], t["status"]) == (
        name, "user:list", "deny", 403)
    # Once per window: the other four denials fired nothing.
    cli = Cli(srv, tmp_path / "home")
    ls = cli.json("alert", "ls", "--json")
    rule = [x for x in ls["rules"] if x["name"] == "denials"][0]
    assert rule["fired"] == 1 and rule["last_trigger"] == ids[2]
    assert rule["sinks"] == ["hook", "local"]
    assert rule["condition"]["count"] == 3
    # The alert's own record, naming the rule and the trigger; its id is
    # the one the alert carries.  It triggers nothing itself.
    rec = srv.wait_audit(lambda x: x["action"] == "alert:fired" and
                         x["resource"] == "alerts/denials")
    assert rec is not None
    assert rec["principal"] == "system" and rec["decision"] == "allow"
    assert "trigger=%s" % ids[2] in rec["reasons"]
    assert rec["request_id"] == a["id"]
    assert len(alert_records(srv, "denials")) == 1
    p = cli("alert", "ls")
    assert p.returncode == 0 and "denials" in p.stdout, p.stderr


def test_down_webhook_gets_alert_after_retries(alerting, tmp_path):
    srv, _, down = alerting
    srv.user("latecomer")
    tok = srv.token("latecomer")["token"]
    r = srv.get("/v1/users", token=tok)
    assert r.status_code == 403
    rid = r.headers["X-Request-Id"]
    cli = Cli(srv, tmp_path / "home")

    def sink(name):
        ls = cli.json("alert", "ls", "--json")
        return [s for s in ls["sinks"] if s["name"] == name][0]
    deadline = time.monotonic() + 60
    while sink("late")["failed_attempts"] < 1:
        assert time.monotonic() < deadline, sink("late")
        time.sleep(0.05)
    s = sink("late")
    assert s["sent"] == 0 and s["last_error"]
    # Requests are served while the sink retries.
    for _ in range(3):
        assert srv.get("/v1/health", token=None).status_code == 200
        assert srv.get("/v1/whoami", token=tok).status_code == 200
    down.start()
    got = down.wait(1)
    assert len(got) == 1, sink("late")
    a = verify(*got[0])
    assert a["alert"] == "late" and a["trigger"]["request_id"] == rid
    deadline = time.monotonic() + 30
    while sink("late")["sent"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert sink("late")["gave_up"] == 0
    rec = srv.wait_audit(lambda x: x["action"] == "alert:fired" and
                         "trigger=%s" % rid in x["reasons"])
    assert rec is not None and rec["request_id"] == a["id"]


def test_alert_test_command(alerting, tmp_path, uniq):
    srv, up, _ = alerting
    cli = Cli(srv, tmp_path / "home")
    p = cli("alert", "test", "denials")
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "hook" in p.stdout and "local" in p.stdout
    got = up.wait(1)
    assert len(got) == 1
    a = verify(*got[0])
    assert a["test"] is True and a["alert"] == "denials"
    rec = srv.wait_audit(lambda x: x["request_id"] == a["id"])
    assert rec["action"] == "alert:test" and rec["decision"] == "allow"
    # A sink that is down: reported, exit 1, nothing retried.
    p = cli("alert", "test", "late", "--json")
    assert p.returncode == EXIT_FAIL, (p.stdout, p.stderr)
    out = json.loads(p.stdout)
    assert out["ok"] is False and out["sinks"][0]["ok"] is False
    assert out["sinks"][0]["error"]
    p = cli("alert", "test", "no-such-rule")
    assert p.returncode == EXIT_NOTFOUND, p.stderr
    # Admin only, and the refusal is audited.
    name = uniq("plain")
    srv.user(name)
    tok = srv.token(name)["token"]
    for method, path in (("GET", "/v1/alerts"),
                         ("POST", "/v1/alerts/denials/test")):
        r = srv.req(method, path, token=tok)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"]
        rid = r.headers["X-Request-Id"]
        rec = srv.wait_audit(lambda x: x["request_id"] == rid)
        assert rec["decision"] == "deny"
        assert rec["action"] in ("alert:list", "alert:test")
    assert len(up.got) == 1
    assert alert_records(srv, "denials") == []


def test_no_rules_and_bad_rules(make_server, tmp_path):
    srv = make_server()
    cli = Cli(srv, tmp_path / "home")
    ls = cli.json("alert", "ls", "--json")
    assert ls["rules"] == [] and ls["sinks"] == []
    assert ls["rules_file"] is None
    # A rules file with an error stops the server, file:line named.
    bad = tmp_path / "bad.conf"
    bad.write_text("sink s syslog\nrule r sinks=s colour=red\n")
    p = cli("server", "--check", "--data", str(tmp_path / "d"),
            "--set", "alert_rules_file=%s" % bad, with_server=False)
    assert p.returncode == 2
    assert "bad.conf:2: rule r: colour: unknown key" in p.stderr

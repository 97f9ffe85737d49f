"""The server's TLS certificate: the names of the self-signed certificate
(tls_names, the host name), the warning when a kept certificate lacks
names asked for later, its renewal, and the expiry warning."""

import datetime
import ipaddress
import os
import re
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import COFFER_BIN, START_TIMEOUT, free_port, sanitizer_env

x509 = pytest.importorskip("cryptography.x509")


def _sans(path):
    with open(path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    ext = cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    return (set(ext.get_values_for_type(x509.DNSName)),
            set(ext.get_values_for_type(x509.IPAddress)))


def _conf(tmp_path, text, name="coffer.conf"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def _curl(server, host, port=None):
    """GET /v1/health at https://HOST:PORT/ with HOST resolved to
    127.0.0.1 and the server's own certificate as the CA."""
    port = port or server.port
    return subprocess.run(
        ["curl", "-sS", "--max-time", "20", "--resolve",
         "%s:%d:127.0.0.1" % (host, port), "--cacert", server.ca,
         "https://%s:%d/v1/health" % (host, port)],
        capture_output=True, text=True, timeout=60)


def _tls_hostname_ok(server, hostname):
    """Python's default client, connecting to 127.0.0.1 and checking the
    certificate against hostname (a DNS name or an IP)."""
    ctx = ssl.create_default_context(cafile=server.ca)
    with socket.create_connection(("127.0.0.1", server.port), 10) as s:
        try:
            with ctx.wrap_socket(s, server_hostname=hostname):
                return True
        except ssl.SSLCertVerificationError:
            return False


def _valid_dns_name(name):
    label = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
    return (len(name) <= 253 and
            re.fullmatch(r"%s(\.%s)*" % (label, label), name) is not None and
            not name.split(".")[-1].isdigit())


def test_tls_names_in_self_signed_certificate(make_server, tmp_path):
    conf = _conf(tmp_path, "# names clients use\n"
                 "tls_names = coffer.test, 10.1.2.3\n")
    s = make_server(extra_args=("--config", conf))
    dns, ips = _sans(s.ca)
    assert {"localhost", "coffer.test"} <= dns
    assert {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"),
            ipaddress.ip_address("10.1.2.3")} <= ips
    host = socket.gethostname()
    if _valid_dns_name(host):
        assert host in dns
    # openssl agrees (the names as an operator would read them).
    p = subprocess.run(["openssl", "x509", "-noout", "-ext",
                        "subjectAltName", "-in", s.ca],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    for want in ("DNS:localhost", "DNS:coffer.test", "IP Address:10.1.2.3",
                 "IP Address:127.0.0.1"):
        assert want in p.stdout, p.stdout
    assert 'names="localhost,127.0.0.1,::1,coffer.test,10.1.2.3' in \
        s.stderr()
    assert "tls_names_missing" not in s.stderr()

    # A client that knows the server as coffer.test verifies it.
    ok = _curl(s, "coffer.test")
    assert ok.returncode == 0, ok.stderr
    assert '"ok"' in ok.stdout
    assert _tls_hostname_ok(s, "coffer.test")
    assert _tls_hostname_ok(s, "10.1.2.3")
    # A name that is not in the certificate still fails closed.
    bad = _curl(s, "other.test")
    assert bad.returncode != 0
    assert not _tls_hostname_ok(s, "other.test")
    assert not _tls_hostname_ok(s, "10.1.2.4")

    # The key of the certificate is still stored encrypted.
    with open(os.path.join(s.data, "tls", "server.key")) as f:
        key = f.read()
    assert "BEGIN ENCRYPTED PRIVATE KEY" in key
    assert "BEGIN PRIVATE KEY" not in key


@pytest.mark.parametrize("value, why", [
    ("coffer.test, bad_name.test", "bad_name.test"),
    ("10.1.2.300", "all digits"),
    ("*.coffer.test", "wildcards"),
    ("coffer.test,", "empty name"),
    ("coffer.test:8443", "coffer.test:8443"),
    (", ".join("n%d.test" % i for i in range(17)), "at most 16"),
])
def test_tls_names_invalid_is_refused(tmp_path, value, why):
    conf = _conf(tmp_path, "listen = 127.0.0.1:%d\ntls_names = %s\n"
                 % (free_port(), value))
    p = subprocess.run([COFFER_BIN, "server", "--check", "--config", conf],
                       capture_output=True, text=True, timeout=60,
                       env=sanitizer_env(), stdin=subprocess.DEVNULL)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "%s:2: tls_names: " % conf in p.stderr
    assert why in p.stderr
    # Starting with it fails the same way, before anything is made.
    data = tmp_path / "data"
    p = subprocess.run([COFFER_BIN, "server", "--config", conf, "--data",
                        str(data)], capture_output=True, text=True,
                       timeout=60, env=sanitizer_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "%s:2: tls_names: " % conf in p.stderr
    assert not data.exists()
    # --set says the same without FILE:LINE.
    p = subprocess.run([COFFER_BIN, "server", "--check", "--set",
                        "tls_names=" + value], capture_output=True,
                       text=True, timeout=60, env=sanitizer_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2
    assert "coffer server: tls_names: " in p.stderr


def test_tls_names_long_value_via_set(tmp_path):
    names = ",".join("%s%d.coffer.test" % ("n" * 40, i) for i in range(16))
    assert len(names) > 256
    p = subprocess.run([COFFER_BIN, "server", "--check", "--set",
                        "tls_names=" + names], capture_output=True,
                       text=True, timeout=60, env=sanitizer_env(),
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert "tls_names = " + names in p.stdout


def test_names_missing_from_kept_certificate_are_warned(make_server):
    s = make_server(extra_args=("--set", "tls_names=coffer.test"))
    with open(s.ca, "rb") as f:
        first = f.read()
    s.stop()
    # A later start asks for more names: the certificate is kept (clients
    # pin it), and the missing names are logged once with the remedy.
    s.extra_args = ["--set", "tls_names=coffer.test, new.test, 10.9.9.9"]
    s.start()
    with open(s.ca, "rb") as f:
        assert f.read() == first
    err = s.stderr()
    warnings = [l for l in err.splitlines() if "tls_names_missing" in l]
    assert len(warnings) == 1, err
    w = warnings[0]
    assert " warn " in w
    assert 'missing="new.test,10.9.9.9"' in w
    assert os.path.join(s.data, "tls", "server.crt") in w
    assert os.path.join(s.data, "tls", "server.key") in w
    assert "stop the server" in w
    assert _curl(s, "coffer.test").returncode == 0
    assert _curl(s, "new.test").returncode != 0
    s.stop()

    # The documented renewal: move both files away, start again.
    tls = os.path.join(s.data, "tls")
    for f in ("server.crt", "server.key"):
        os.rename(os.path.join(tls, f), os.path.join(tls, f + ".old"))
    s.start()
    assert "tls_names_missing" not in s.stderr()
    dns, ips = _sans(s.ca)
    assert {"coffer.test", "new.test"} <= dns
    assert ipaddress.ip_address("10.9.9.9") in ips
    assert _curl(s, "new.test").returncode == 0
    with open(os.path.join(tls, "server.key")) as f:
        assert "BEGIN ENCRYPTED PRIVATE KEY" in f.read()


def _own_cert(tmp_path, not_before, not_after):
    """A certificate for 127.0.0.1 and its unencrypted key, as files."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME,
                                         "operator cert")])
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    cp, kp = tmp_path / "cert.pem", tmp_path / "key.pem"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    os.chmod(kp, 0o600)
    return str(cp), str(kp)


def _run_until_serving(args, workdir):
    """Start the server, wait for it to serve, stop it; its stderr."""
    out_p, err_p = os.path.join(workdir, "o"), os.path.join(workdir, "e")
    with open(out_p, "wb") as out, open(err_p, "wb") as err:
        proc = subprocess.Popen([COFFER_BIN, "server"] + args, stdout=out,
                                stderr=err, stdin=subprocess.DEVNULL,
                                env=sanitizer_env())
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            with open(out_p) as f:
                if "coffer: serving" in f.read():
                    break
            time.sleep(0.05)
        else:
            pytest.fail("server did not start: " + open(err_p).read())
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=START_TIMEOUT)
    assert rc == 0
    with open(err_p) as f:
        return f.read()


@pytest.mark.parametrize("days_left, event", [
    (10, "event=tls_cert_expiring"),
    (-1, "event=tls_cert_expired"),
    (90, None),
])
def test_expiry_warning_for_configured_certificate(tmp_path, days_left,
                                                    event):
    now = datetime.datetime.now(datetime.timezone.utc)
    cp, kp = _own_cert(tmp_path, now - datetime.timedelta(days=30),
                       now + datetime.timedelta(days=days_left))
    err = _run_until_serving(
        ["--data", str(tmp_path / "data"), "--listen",
         "127.0.0.1:%d" % free_port(), "--set", "tls_cert=" + cp,
         "--set", "tls_key=" + kp, "--set", "tls_names=ignored.test"],
        str(tmp_path))
    assert "event=tls_names_ignored" in err
    # A configured certificate is never checked for tls_names.
    assert "tls_names_missing" not in err
    if event is None:
        assert "tls_cert_expir" not in err
        return
    lines = [l for l in err.splitlines() if event in l]
    assert len(lines) == 1, err
    assert "cert=" + cp in lines[0]
    assert "replace tls_cert and tls_key" in lines[0]
    if days_left > 0:
        assert "days_left=%d" % (days_left - 1) in lines[0] or \
            "days_left=%d" % days_left in lines[0]


# ---- cipher suites ----

def _s_client(server, *args):
    return subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % server.port,
         "-servername", "localhost", "-CAfile", server.ca] + list(args),
        capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL)


def _negotiated(p):
    m = re.search(r"Cipher is (\S+)", p.stdout)
    return m.group(1) if m else None


@pytest.mark.parametrize("suite", [
    "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
    "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384",
    "AES128-SHA", "AES256-SHA", "AES128-SHA256", "AES128-GCM-SHA256"])
def test_tls12_refuses_cbc_and_static_rsa(server, suite):
    """TLS 1.2 offers AEAD suites with forward secrecy only: no CBC
    (SHA-1 or SHA-2 MACs), no static RSA key exchange."""
    p = _s_client(server, "-tls1_2", "-cipher", suite)
    assert p.returncode != 0 and _negotiated(p) in (None, "(NONE)"), \
        (suite, p.stdout[-800:])


@pytest.mark.parametrize("suite", [
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"])
def test_tls12_accepts_aead(server, suite):
    p = _s_client(server, "-tls1_2", "-cipher", suite)
    assert p.returncode == 0, p.stderr[-800:]
    assert _negotiated(p) in suite.split(":"), p.stdout[-800:]


def test_tls13_and_no_older(server):
    p = _s_client(server, "-tls1_3")
    assert p.returncode == 0 and _negotiated(p).startswith("TLS_"), \
        p.stdout[-800:]
    p = _s_client(server, "-tls1_1")
    assert p.returncode != 0

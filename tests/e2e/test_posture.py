"""tests/e2e/test_posture.py: `coffer posture` (GET /v1/posture,
docs/posture.md) against a deliberately weak deployment, where every
check must fire, and a hardened one, where those findings are gone.

The weak server: its master key inside the data directory, a certificate
of its own that ends in ten days, an admin without MFA, an API token
without expiry, a world-readable file in the data directory, a namespace
labelled pii and the bootstrap token file put back; a second one keeps
its bootstrap session unspent and runs with mfa_admin_actions off.  A
non-admin is refused (403, audited), and so is a bad query (400).
"""

import datetime
import ipaddress
import json
import os

import pytest

from conftest import EXIT_DENIED, EXIT_OK, Cli, Server

x509 = pytest.importorskip("cryptography.x509")

EXIT_FINDINGS = 12      # src/client/client.h, docs/cli.md


class OwnCertServer(Server):
    """A server given tls_cert/tls_key: clients trust that certificate."""

    cert_path = None

    @property
    def ca(self):
        return self.cert_path


def _cert(tmp_path, days_left):
    """A self-signed EC certificate for 127.0.0.1 ending in days_left."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME,
                                         "posture test")])
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now + datetime.timedelta(days=days_left))
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


def _by_id(answer):
    out = {}
    for f in answer["findings"]:
        assert set(f) == {"id", "severity", "title", "detail", "fix", "doc"}
        assert f["doc"] == "docs/posture.md#" + f["id"]
        out[f["id"]] = f
    return out


def _check_shape(answer):
    sevs = ["critical", "high", "medium", "low", "info"]
    assert set(answer["summary"]) == set(sevs)
    ranks = [sevs.index(f["severity"]) for f in answer["findings"]]
    assert ranks == sorted(ranks), "findings not sorted by severity"
    for s in sevs:
        assert answer["summary"][s] == sum(
            1 for f in answer["findings"] if f["severity"] == s)
    assert answer["checked_at"]
    names = {c["check"] for c in answer["checks"]}
    assert names == {"admins", "tokens", "policies", "pii", "master-key",
                     "tls", "settings", "audit", "modes", "libraries"}
    failed = [c for c in answer["checks"] if c["result"] == "error"]
    assert not failed, failed


def test_weak_deployment_every_check_fires(tmp_path):
    cp, kp = _cert(tmp_path, 10)
    s = OwnCertServer(tmp_path / "weak")
    s.cert_path = cp
    key_in_data = os.path.join(s.data, "master.key")
    s.extra_args = ["--set", "tls_cert=" + cp, "--set", "tls_key=" + kp,
                    "--set", "master_key_file=" + key_in_data]
    # A test hook left in the environment (read by nothing: the check
    # looks at the names).
    s.env["COFFER_TEST_POSTURE_PROBE"] = "secret-value"
    s.auto_admin = False
    try:
        s.start()
        boot_path = os.path.join(s.data, "bootstrap-token")
        with open(boot_path) as f:
            boot = f.read()
        s._bootstrap_admin()            # spends it, removes the file
        with open(boot_path, "w") as f:  # ... which is put back
            f.write(boot)
        os.chmod(boot_path, 0o600)

        s.principal("ops")
        s.grant("ops", "admin")          # an admin without MFA
        s.mkns("crm-pii")
        r = s.req("PUT", "/v1/ns/crm-pii/labels", json={"pii": "true"})
        assert r.status_code == 200, r.text
        notes = os.path.join(s.data, "notes.txt")
        with open(notes, "w") as f:
            f.write("left here by someone\n")
        os.chmod(notes, 0o644)

        cli = Cli(s, tmp_path / "home")
        p = cli("posture", "--json")
        assert p.returncode == EXIT_FINDINGS, (p.stdout, p.stderr)
        ans = json.loads(p.stdout)
        _check_shape(ans)
        got = _by_id(ans)

        assert got["test-hooks-set"]["severity"] == "critical"
        assert "COFFER_TEST_POSTURE_PROBE" in got["test-hooks-set"]["detail"]
        assert "secret-value" not in json.dumps(ans)
        assert got["master-key-in-data-dir"]["severity"] == "critical"
        assert "master.key" in got["master-key-in-data-dir"]["detail"]
        assert got["tls-cert-expiring"]["severity"] == "high"
        assert cp in got["tls-cert-expiring"]["detail"]
        assert got["tls-cert-self-signed"]["severity"] == "info"
        assert got["admin-without-mfa"]["severity"] == "high"
        assert "ops" in got["admin-without-mfa"]["detail"]
        assert "admin," not in got["admin-without-mfa"]["detail"]
        assert got["token-no-expiry"]["severity"] == "medium"
        assert "(admin)" in got["token-no-expiry"]["detail"]
        assert got["data-dir-world-readable"]["severity"] == "high"
        assert "notes.txt" in got["data-dir-world-readable"]["detail"]
        assert got["pii-without-retention"]["severity"] == "medium"
        assert "crm-pii" in got["pii-without-retention"]["detail"]
        assert got["bootstrap-file-left"]["severity"] == "low"
        # The admin's own enrollment spent the session: not "unused".
        assert "bootstrap-token-unused" not in got
        assert ans["summary"]["critical"] >= 1

        # The table: most severe first, every id, the same exit code.
        p = cli("posture")
        assert p.returncode == EXIT_FINDINGS, p.stderr
        lines = [l for l in p.stdout.splitlines()
                 if l and not l.startswith(" ")]
        assert lines[0].startswith("critical")
        for fid in got:
            assert fid in p.stdout
        assert "see:  docs/posture.md#master-key-in-data-dir" in p.stdout

        # --unused-days: a token made now is not unused for 1 day, and
        # the option reaches the server.
        p = cli("posture", "--json", "--unused-days", "1")
        assert p.returncode == EXIT_FINDINGS
        assert "token-unused" not in _by_id(json.loads(p.stdout))
        assert any("more than 1 days" in c["detail"]
                   for c in json.loads(p.stdout)["checks"])

        # Each check is audited like any request.
        rec = s.wait_audit(lambda r: r["action"] == "posture:read" and
                           r["decision"] == "allow" and r["status"] == 200)
        assert rec is not None
        assert rec["principal"] == "admin"
    finally:
        s.stop()


def test_unspent_bootstrap_session(make_server):
    s = make_server(extra_args=["--set", "mfa_admin_actions=no"],
                    start=False)
    s.auto_admin = False
    s.start()
    with open(os.path.join(s.data, "bootstrap-token")) as f:
        boot = f.read().strip()
    # mfa_admin_actions off: the bootstrap session (no MFA) may ask.
    r = s.get("/v1/posture", token=boot)
    assert r.status_code == 200, r.text
    got = _by_id(r.json())
    f = got["bootstrap-token-unused"]
    assert f["severity"] == "high"
    assert "of admin" in f["detail"] and "is present" in f["detail"]
    assert "admin" in got["admin-without-mfa"]["detail"]
    assert got["mfa-admin-actions-off"]["severity"] == "high"
    assert "bootstrap-file-left" not in got


def test_hardened_deployment(make_server, tmp_path):
    s = make_server()
    cli = Cli(s, tmp_path / "home")
    # The only API token (the fixture's, without expiry) is revoked.
    r = s.get("/v1/tokens")
    assert r.status_code == 200, r.text
    for t in r.json()["tokens"]:
        if t.get("description") == "e2e admin API token":
            d = s.req("DELETE", "/v1/tokens/" + t["id"])
            assert d.status_code == 200, d.text
    p = cli("posture", "--json")
    assert p.returncode == EXIT_OK, (p.stdout, p.stderr)
    ans = json.loads(p.stdout)
    _check_shape(ans)
    got = _by_id(ans)
    assert ans["summary"]["critical"] == 0 and ans["summary"]["high"] == 0
    for fid in ("master-key-in-data-dir", "master-key-beside-data",
                "bootstrap-token-unused", "bootstrap-file-left",
                "admin-without-mfa", "token-no-expiry", "token-unused",
                "tls-cert-expiring", "tls-cert-expired",
                "data-dir-world-readable", "data-dir-world-writable",
                "data-dir-group-access", "pii-without-retention",
                "audit-log-tampered", "policy-invalid", "library-outdated",
                "check-failed"):
        assert fid not in got, got[fid]
    # What a single-disk test host cannot avoid, reported lower.
    assert set(got) <= {"master-key-same-filesystem", "tls-cert-self-signed"}
    audit = [c for c in ans["checks"] if c["check"] == "audit"][0]
    assert "records verified" in audit["detail"]
    p = cli("posture")
    assert p.returncode == EXIT_OK
    assert "0 critical, 0 high" in p.stdout


def test_non_admin_is_refused_and_audited(server, cli, uniq):
    name = uniq("viewer")
    ns = uniq("pns")
    server.mkns(ns)
    tok = server.user(name, "owner", ns)
    r = server.get("/v1/posture", token=tok)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"]
    rec = server.wait_audit(lambda x: x["action"] == "posture:read" and
                            x["principal"] == name)
    assert rec is not None and rec["decision"] == "deny"
    assert rec["status"] == 403
    p = cli("posture", token=tok)
    assert p.returncode == EXIT_DENIED, (p.stdout, p.stderr)
    r = server.get("/v1/posture", token=None)
    assert r.status_code == 401
    # A bad query is refused (and audited) before any check runs.
    r = server.get("/v1/posture?unused_days=0")
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_request"
    rec = server.wait_audit(lambda x: x["action"] == "posture:read" and
                            x["status"] == 400)
    assert rec is not None and rec["decision"] == "deny"

"""tests/e2e/test_privacy.py: legal holds, retention and erasure by
crypto-shredding (docs/privacy.md) through the real server and CLI: holds
refuse deletes and erasures even for an admin, retention refuses deletes
by the server's test clock (COFFER_TEST_CLOCK_FILE, never by waiting),
erasure answers 410 afterwards, leaves nothing an old copy of the
metadata could open, follows artifact lineage, and issues a certificate
that verifies offline while a tampered one is refused."""

import json
import os
import sqlite3

import pytest

from conftest import Cli, Server, obj_path

DAY = 86400


def make(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("srv"))
    s.use_test_clock()
    return s.start()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make(tmp_path_factory)
    yield s
    s.stop()


@pytest.fixture
def pcli(srv, tmp_path):
    return Cli(srv, tmp_path)



def err(r):
    return r.json()["error"]


def test_hold_refuses_delete_and_erase_even_for_admin(srv, pcli, uniq):
    ns = uniq("hold")
    srv.mkns(ns)
    assert srv.put_obj(ns, "cases/a.csv", b"alice,42\n").status_code == 201
    assert srv.put_obj(ns, "other.csv", b"bob\n").status_code == 201
    p = pcli("hold", "set", ns + "/cases", "--reason", "litigation 42",
             "--json")
    assert p.returncode == 0, p.stderr
    hold = json.loads(p.stdout)
    assert hold["id"].startswith("hold-") and hold["key"] == "cases"
    # An API token carries no MFA: refused (the grant rule).
    r = srv.post("/v1/holds", {"ns": ns, "reason": "x"}, token="admin-api")
    assert r.status_code == 401, r.text
    # The admin (with MFA) cannot delete nor erase what the hold covers.
    r = srv.req("DELETE", obj_path(ns, "cases/a.csv"))
    assert r.status_code == 409, r.text
    assert err(r)["code"] == "held"
    assert hold["id"] in err(r)["message"]
    assert "litigation 42" in err(r)["message"]
    r = srv.req("DELETE", "/v1/ns/" + ns)
    assert r.status_code == 409 and err(r)["code"] == "held", r.text
    p = pcli("erase", ns + "/cases/a.csv", "--reason", "gdpr")
    assert p.returncode != 0
    assert hold["id"] in p.stderr, p.stderr
    # Outside the hold: a key that only shares the prefix text.
    assert srv.req("DELETE", obj_path(ns, "other.csv")).status_code == 200
    assert srv.get_obj(ns, "cases/a.csv").content == b"alice,42\n"
    ls = json.loads(pcli("hold", "ls", "--json").stdout)["holds"]
    assert any(h["id"] == hold["id"] for h in ls)
    recs = srv.audit_records()
    assert any(x.get("action") == "hold:set" and
               x.get("decision") == "allow" for x in recs)
    assert any(x.get("action") == "object:delete" and
               x.get("decision") == "deny" for x in recs)
    assert pcli("hold", "rm", hold["id"]).returncode == 0
    r = srv.req("DELETE", obj_path(ns, "cases/a.csv"))
    assert r.status_code == 200, r.text


def test_retention_refuses_deletes_by_the_clock(srv, pcli, uniq):
    ns = uniq("ret")
    srv.mkns(ns)
    p = pcli("ns", "set", ns, "--retain-days", "30")
    assert p.returncode == 0, p.stderr
    assert srv.get("/v1/ns/" + ns).json()["retain_days"] == 30
    assert srv.put_obj(ns, "k", b"kept\n").status_code == 201
    try:
        srv.set_clock(29 * DAY)
        r = srv.req("DELETE", obj_path(ns, "k"))
        assert r.status_code == 409, r.text
        assert err(r)["code"] == "retention"
        r = srv.post("/v1/ns/%s/erase/k" % ns, {"reason": "x"})
        assert r.status_code == 409 and err(r)["code"] == "retention"
        srv.set_clock(31 * DAY)
        r = srv.req("DELETE", obj_path(ns, "k"))
        assert r.status_code == 200, r.text
    finally:
        srv.set_clock(0)


def backup_meta(s, dst):
    src = sqlite3.connect(os.path.join(s.data, "meta.db"))
    out = sqlite3.connect(dst)
    src.backup(out)
    out.close()
    src.close()


def test_erase_end_to_end(make_server, tmp_path, uniq):
    s = make_server()
    c = Cli(s, tmp_path / "home")
    ns = uniq("er")
    s.mkns(ns)
    assert s.put_obj(ns, "users/alice.json", b"v1 alice\n").status_code == 201
    assert s.put_obj(ns, "users/alice.json", b"v2 alice\n").status_code == 201
    before = set(s.blob_files())
    old_db = str(tmp_path / "old-meta.db")
    backup_meta(s, old_db)
    p = c("erase", ns + "/users/alice.json", "--dry-run", "--json")
    assert p.returncode == 0, p.stderr
    assert len(json.loads(p.stdout)["versions"]) == 2
    assert s.get_obj(ns, "users/alice.json").status_code == 200
    # An API token cannot erase.
    r = s.post("/v1/ns/%s/erase/users/alice.json" % ns, {"reason": "x"},
               token="admin-api")
    assert r.status_code == 401
    cert_path = str(tmp_path / "cert.json")
    p = c("erase", ns + "/users/alice.json", "--reason", "art. 17 #7",
          "--cert-out", cert_path)
    assert p.returncode == 0, p.stderr
    cert = json.load(open(cert_path))
    er = cert["erasure"]
    assert er["reason"] == "art. 17 #7" and len(er["versions"]) == 2
    # The certificate names the audit record of the erasure.
    recs = [x for x in s.audit_records()
            if x.get("action") == "privacy:erase" and
            x.get("decision") == "allow"]
    assert recs and recs[-1].get("request_id") == er["request_id"]
    r = s.get_obj(ns, "users/alice.json")
    assert r.status_code == 410, r.text
    assert err(r)["code"] == "erased"
    assert er["id"] in err(r)["message"]
    # The blobs are gone.
    assert len(before - set(s.blob_files())) == 2
    # Verify: against the server's key, and offline against a key file.
    p = c("erase", "verify", cert_path)
    assert p.returncode == 0, p.stderr
    key = c("erase", "key").stdout.strip()
    assert key == s.get("/v1/erasure-key").json()["public_key"]
    kf = tmp_path / "key.hex"
    kf.write_text(key + "\n")
    p = c("erase", "verify", cert_path, "--key-file", str(kf))
    assert p.returncode == 0, p.stderr
    # Tampered: one digest changed.
    er["versions"][0]["sha256"] = "0" * 64
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(cert))
    p = c("erase", "verify", str(bad), "--key-file", str(kf))
    assert p.returncode != 0 and "NOT verify" in p.stderr, p.stderr
    # Erasing again: nothing left to erase.
    r = s.post("/v1/ns/%s/erase/users/alice.json" % ns, {"reason": "x"})
    assert r.status_code == 409 and err(r)["code"] == "already_erased"
    # An older metadata database with the current data directory opens
    # nothing: its wrapped keys name blobs that are gone.
    s.stop()
    os.replace(old_db, os.path.join(s.data, "meta.db"))
    for ext in ("-wal", "-shm"):
        try:
            os.unlink(os.path.join(s.data, "meta.db" + ext))
        except FileNotFoundError:
            pass
    s.start()
    r = s.get_obj(ns, "users/alice.json")
    assert r.status_code >= 400
    assert b"v1 alice" not in r.content and b"v2 alice" not in r.content


def test_erase_with_derived_follows_lineage(srv, pcli, uniq, tmp_path):
    ns = uniq("lin")
    srv.mkns(ns)
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "rows.csv").write_text("alice\n")
    model = tmp_path / "model"
    model.mkdir()
    (model / "w.bin").write_text("weights\n")
    assert pcli("push", ns + "/customers", str(ds)).returncode == 0
    p = pcli("push", ns + "/churn", str(model), "--derived-from",
             ns + "/customers@1")
    assert p.returncode == 0, p.stderr
    p = pcli("erase", ns + "/customers/rows.csv", "--with-derived",
             "--dry-run", "--json")
    assert p.returncode == 0, p.stderr
    got = {(v["key"], v["why"]) for v in json.loads(p.stdout)["versions"]}
    assert got == {("customers/rows.csv", "named"),
                   ("churn/w.bin", "derived")}
    # A hold on what lineage reaches refuses the whole erasure.
    h = json.loads(pcli("hold", "set", ns + "/churn", "--reason", "audit",
                        "--json").stdout)
    r = srv.post("/v1/ns/%s/erase/customers/rows.csv" % ns,
                 {"reason": "x", "with_derived": True})
    assert r.status_code == 409 and err(r)["code"] == "held", r.text
    assert pcli("hold", "rm", h["id"]).returncode == 0
    r = srv.post("/v1/ns/%s/erase/customers/rows.csv" % ns,
                 {"reason": "x", "with_derived": True})
    assert r.status_code == 200, r.text
    assert srv.get_obj(ns, "churn/w.bin").status_code == 410

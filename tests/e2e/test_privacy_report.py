"""tests/e2e/test_privacy_report.py: `coffer privacy report`
(docs/privacy.md, "The privacy report") through the real server and CLI:
personal data by label and by artifact metadata (inherited through
lineage), its lineage, retention, holds, and the accesses of the period
with their declared purposes (X-Coffer-Purpose, from the audit log);
admin only, bounded, bad arguments refused with a JSON 400 and a
record."""

import json

from conftest import Cli, obj_path


def report(cli, *args):
    p = cli("privacy", "report", "--json", *args)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def item(rep, kind, ns, name=None):
    for it in rep["items"]:
        if it["kind"] == kind and it["ns"] == ns and it.get("name") == name:
            return it
    return None


def test_privacy_report(server, uniq, tmp_path):
    cli = Cli(server, tmp_path / "home")
    a, b = uniq("rpa"), uniq("rpb")
    server.mkns(a)
    server.mkns(b)
    r = server.req("PUT", "/v1/ns/%s/labels" % a, json={"pii": "true"})
    assert r.status_code == 200, r.text
    assert server.put_obj(b, "crm.csv", b"alice\n").status_code == 201
    assert server.put_obj(b, "other.csv", b"x\n").status_code == 201
    r = server.req("PUT", "/v1/ns/%s/labels/crm.csv" % b,
                   json={"pii": "true"})
    assert r.status_code == 200, r.text
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "rows.csv").write_text("alice\n")
    p = cli("push", b + "/customers", str(ds), "--meta", "pii=true")
    assert p.returncode == 0, p.stderr
    m = tmp_path / "m"
    m.mkdir()
    (m / "w.bin").write_text("w\n")
    p = cli("push", b + "/churn", str(m), "--derived-from",
            b + "/customers@1")
    assert p.returncode == 0, p.stderr
    assert cli("ns", "set", b, "--retain-days", "7").returncode == 0
    hold = json.loads(cli("hold", "set", b + "/crm.csv", "--reason",
                          "case 5", "--json").stdout)
    # Accesses: two with a purpose, one without, one refused.
    for purpose in ("dsar", "dsar", None):
        h = {"X-Coffer-Purpose": purpose} if purpose else {}
        r = server.get(obj_path(b, "crm.csv"), headers=h)
        assert r.status_code == 200, r.text
    tok = server.user(uniq("nobody"))
    r = server.get(obj_path(b, "crm.csv"), token=tok,
                   headers={"X-Coffer-Purpose": "curious"})
    assert r.status_code in (403, 404), r.text
    r = server.get(obj_path(b, "customers/rows.csv"),
                   headers={"X-Coffer-Purpose": "training"})
    assert r.status_code == 200, r.text

    rep = report(cli, "--ns", b)
    assert rep["truncated"] is False and rep["audit"]["truncated"] is False
    assert item(rep, "object", b, "other.csv") is None
    crm = item(rep, "object", b, "crm.csv")
    assert crm["pii"] == "label"
    assert crm["retention"] == {"retain_days": 7, "purge_after_days": 0}
    assert [h["id"] for h in crm["holds"]] == [hold["id"]]
    acc = {(x["principal"], x["action"]): x for x in crm["access"]}
    get = acc[("admin", "object:get")]
    assert get["count"] == 3, get
    assert get["purposes"] == {"dsar": 2, "(none)": 1}, get
    assert get["last"] is not None
    denied = [x for x in crm["access"] if x["denied"] > 0]
    assert denied and denied[0]["principal"] != "admin", crm["access"]
    cust = item(rep, "artifact", b, "customers")
    assert cust["pii"] == "metadata"
    v = cust["versions"][0]
    assert v["number"] == 1 and v["sources"] == []
    assert v["derived"] == [{"ns": b, "name": "churn", "number": 1}]
    # Its files are its data: the read of rows.csv counts, with purpose.
    acc = {(x["principal"], x["action"]): x for x in cust["access"]}
    assert acc[("admin", "object:get")]["purposes"] == {"training": 1}
    churn = item(rep, "artifact", b, "churn")
    assert churn["pii"] == "lineage"
    assert churn["versions"][0]["sources"] == [
        {"ns": b, "name": "customers", "number": 1}]
    # Every namespace: the labelled one too, with the label's changes.
    rep = report(cli)
    nsi = item(rep, "namespace", a)
    assert nsi is not None and nsi["pii"] == "label"
    assert any(x["action"] == "label:set" for x in nsi["access"])
    # A period before the accesses: the items, with none.
    rep = report(cli, "--ns", b, "--since", "2001-01-01", "--until",
                 "2001-01-02")
    assert item(rep, "object", b, "crm.csv")["access"] == []
    assert rep["period"]["since"].startswith("2001-01-01T00:00:00")
    assert rep["period"]["until"].startswith("2001-01-02T23:59:59")
    # Bounded: a cap says so.
    rep = report(cli, "--ns", b, "--limit", "1")
    assert rep["truncated"] is True and len(rep["items"]) == 1
    p = cli("privacy", "report", "--ns", b, "--limit", "1")
    assert p.returncode == 0 and "TRUNCATED" in p.stdout, p.stdout
    assert "crm.csv" not in p.stdout or "purposes" in p.stdout
    p = cli("privacy", "report", "--ns", b)
    assert "dsar=2" in p.stdout and "(none)=1" in p.stdout, p.stdout
    # Refusals: JSON 4xx, recorded.
    r = server.get("/v1/privacy/report?since=yesterday")
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_request"
    r = server.get("/v1/privacy/report?limit=0")
    assert r.status_code == 400, r.text
    r = server.get("/v1/privacy/report", token=tok)
    assert r.status_code == 403, r.text
    recs = [x for x in server.audit_records()
            if x.get("action") == "privacy:report"]
    assert {x["status"] for x in recs} >= {200, 400, 403}, recs

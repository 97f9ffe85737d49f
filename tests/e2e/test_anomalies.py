"""tests/e2e/test_anomalies.py: anomaly detection (docs/monitoring.md,
"Anomaly detection") through the real server and CLI: a new network
(clients forwarded by a trusted proxy), bulk download, enumeration, a
dormant account (the server's test clock moved, never waited for), a
policy that forbids on context.risk, the flags' audit records and the
alert rule that fires on them, `coffer anomalies` and its refusals, and
the flags read back after a restart.

A test that moves the server's clock (COFFER_TEST_CLOCK_FILE) sets it
back when done, so the tests may run in any order (the admin's session
and TOTP codes follow the real time)."""

import json
import os
import time

import pytest

from conftest import Cli, Server, obj_path

XFF = "X-Forwarded-For"
DAY = 86400


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    work = tmp_path_factory.mktemp("anom")
    rules = os.path.join(str(work), "alerts.conf")
    with open(rules, "w") as f:
        f.write("sink local syslog facility=auth\n"
                "rule anomaly-flagged severity=warning sinks=local "
                "action=anomaly:flag\n")
    s = Server(work / "srv", ["--set", "trusted_proxies=127.0.0.1/32",
                              "--set", "anomaly_min_events=5",
                              "--set", "anomaly_bulk_min_objects=5",
                              "--set", "anomaly_enum_denials=8",
                              "--set", "alert_rules_file=" + rules])
    s.clock = os.path.join(s.workdir, "clock")
    s.offset = 0
    with open(s.clock, "w") as f:
        f.write("0\n")
    s.env["COFFER_TEST_CLOCK_FILE"] = s.clock
    s.start()
    yield s
    s.stop()


@pytest.fixture
def acli(srv, tmp_path):
    return Cli(srv, tmp_path)


def set_clock(s, secs):
    """The server's clock runs secs ahead of the real one."""
    s.offset = int(secs)
    with open(s.clock, "w") as f:
        f.write("%d\n" % s.offset)


def at_hour_start(s):
    """Move the clock to one minute past the next full hour, so that an
    hour's counts are not split by the hour turning."""
    now = int(time.time())
    set_clock(s, 3600 - now % 3600 + 60)


def user(s, uniq, role="reader", ns=None):
    name = uniq("an")
    return name, s.user(name, role, ns)


def flags(acli, principal):
    v = acli.json("anomalies", "--principal", principal, "--since", "400d",
                  "--json")
    assert v["enabled"] is True
    return v["anomalies"]


def one(fl, kind):
    got = [f for f in fl if f["kind"] == kind]
    assert len(got) == 1, fl
    return got[0]


def test_new_network_flagged_recorded_and_alerted(srv, acli, uniq):
    ns = uniq("annet")
    srv.mkns(ns)
    name, tok = user(srv, uniq, "reader", ns)
    for i in range(6):
        r = srv.get("/v1/ns/%s/objects" % ns, token=tok,
                    headers={XFF: "10.20.0.%d" % (i + 1)})
        assert r.status_code == 200, r.text
    assert flags(acli, name) == []
    r = srv.get("/v1/ns/%s/objects" % ns, token=tok,
                headers={XFF: "198.51.100.7"})
    assert r.status_code == 200
    f = one(flags(acli, name), "new_network")
    assert f["feature"] == "source_network"
    assert f["observed"] == "198.51.100.0/24"
    assert "10.20.0.0/24" in f["baseline"]
    assert f["source"] == "198.51.100.7" and f["score"] == 30
    assert f["explanation"].startswith("source_network: baseline ")
    # The trigger is the request's own record.
    trig = [x for x in srv.audit_records()
            if x["request_id"] == f["trigger"]]
    assert trig and trig[0]["source"] == "198.51.100.7"
    # The flag's own record, and the alert rule that fired on it.
    rec = srv.wait_audit(lambda x: x["action"] == "anomaly:flag" and
                         x["resource"] == "anomalies/" + name)
    assert rec["principal"] == "system" and rec["authn"] == "internal"
    assert rec["reasons"].startswith("flag=new_network,principal=%s,"
                                     % name)
    assert rec["ctx"]["anomaly"]["observed"] == "198.51.100.0/24"
    alert = srv.wait_audit(lambda x: x["action"] == "alert:fired" and
                           "trigger=%s," % rec["request_id"] in
                           x["reasons"])
    assert alert["resource"] == "alerts/anomaly-flagged"
    # Human output explains it too.
    p = acli("anomalies", "--principal", name, "--since", "400d")
    assert p.returncode == 0, p.stderr
    assert "new_network" in p.stdout and "198.51.100.0/24" in p.stdout


def test_bulk_download(srv, acli, uniq):
    ns = uniq("anbulk")
    srv.mkns(ns)
    for i in range(8):
        assert srv.put_obj(ns, "f%d" % i, b"x" * 100).status_code == 201
    name, tok = user(srv, uniq, "reader", ns)
    at_hour_start(srv)
    try:
        for i in range(5):
            assert srv.get_obj(ns, "f%d" % i, token=tok).status_code == 200
        assert flags(acli, name) == []
        # The sixth object this hour is above the floor of 5 (no
        # history).
        assert srv.get_obj(ns, "f5", token=tok).status_code == 200
        f = one(flags(acli, name), "bulk_download")
        assert f["feature"] == "objects_per_hour"
        assert f["observed"] == "6 objects in the last hour"
        assert "threshold 5" in f["baseline"]
        # Once per hour, not once per object.
        assert srv.get_obj(ns, "f6", token=tok).status_code == 200
        assert len(flags(acli, name)) == 1
    finally:
        set_clock(srv, 0)


def test_enumeration(srv, acli, uniq):
    ns = uniq("anenum")
    srv.mkns(ns)
    assert srv.put_obj(ns, "secret", b"s").status_code == 201
    name, tok = user(srv, uniq, None)
    for i in range(7):
        r = srv.get_obj(ns, "k%d" % i, token=tok)
        assert r.status_code == 403, r.text
    assert flags(acli, name) == []
    assert srv.get_obj(ns, "k7", token=tok).status_code == 403
    f = one(flags(acli, name), "enumeration")
    assert f["feature"] == "denials"
    assert f["observed"].startswith("8 401/403/404 within ")


def test_policy_forbids_on_context_risk(srv, acli, uniq):
    ns = uniq("anrisk")
    srv.mkns(ns)
    assert srv.put_obj(ns, "m.bin", b"weights").status_code == 201
    name, tok = user(srv, uniq, "reader", ns)
    pname = uniq("risky")
    text = ('@id("deny-risky-reads")\n'
            'forbid (principal, action == Action::"object:get", resource)\n'
            'when { context has risk && context.risk.score >= 30 };\n')
    r = srv.req("PUT", "/v1/policies/" + pname,
                json={"text": text, "ns": ns})
    assert r.status_code in (200, 201), r.text
    try:
        for i in range(5):
            r = srv.req("HEAD", obj_path(ns, "m.bin"), token=tok,
                        headers={XFF: "10.30.0.%d" % (i + 1)})
            assert r.status_code == 200, r.text
        r = srv.get_obj(ns, "m.bin", token=tok, headers={XFF: "10.30.0.9"})
        assert r.status_code == 200, r.text
        rec = [x for x in srv.audit_records()
               if x["action"] == "object:get" and x["principal"] == name]
        assert rec[-1]["ctx"]["context"]["risk"] == {"score": 0,
                                                     "flags": []}
        # From a network the principal never used, minutes after the
        # token was used from another /16: the risk of a new network (30)
        # and of a token in two places (70), and the policy refuses
        # before any flag is raised.
        r = srv.get_obj(ns, "m.bin", token=tok,
                        headers={XFF: "203.0.113.50"})
        assert r.status_code == 403, r.text
        rid = r.json()["error"]["request_id"]
        rec = [x for x in srv.audit_records()
               if x["request_id"] == rid][0]
        assert rec["decision"] == "deny"
        assert "deny-risky-reads" in rec["reasons"]
        risk = rec["ctx"]["context"]["risk"]
        assert risk == {"score": 100,
                        "flags": ["new_network", "token_two_networks"]}
        # The flag counts for an hour, from any network.
        r = srv.get_obj(ns, "m.bin", token=tok,
                        headers={XFF: "10.30.0.1"})
        assert r.status_code == 403, r.text
        # Refused, so not learned: an hour later the usual network is
        # fine again, the new one still risky.
        set_clock(srv, 2 * 3600)
        r = srv.get_obj(ns, "m.bin", token=tok,
                        headers={XFF: "10.30.0.1"})
        assert r.status_code == 200, r.text
        r = srv.get_obj(ns, "m.bin", token=tok,
                        headers={XFF: "203.0.113.50"})
        assert r.status_code == 403, r.text
    finally:
        set_clock(srv, 0)
        r = srv.req("DELETE", "/v1/policies/%s?ns=%s" % (pname, ns))
        assert r.status_code == 200, r.text


def test_anomalies_refused_without_admin_and_bad_query(srv, acli, uniq):
    name, tok = user(srv, uniq, None)
    p = acli("anomalies", "--json", token=tok)
    assert p.returncode != 0
    r = srv.get("/v1/anomalies", token=tok)
    assert r.status_code == 403
    assert r.json()["error"]["code"]
    rid = r.json()["error"]["request_id"]
    rec = [x for x in srv.audit_records() if x["request_id"] == rid][0]
    assert rec["action"] == "anomaly:list" and rec["decision"] == "deny"
    for q in ("since=0", "since=abc", "limit=0", "limit=10001"):
        r = srv.get("/v1/anomalies?" + q)
        assert r.status_code == 400, (q, r.text)
        assert r.json()["error"]["code"] == "bad_request"
    p = acli("anomalies", "--since", "bogus")
    assert p.returncode != 0


def test_dormant_account_and_restart(srv, acli, uniq):
    ns = uniq("andorm")
    srv.mkns(ns)
    name, tok = user(srv, uniq, "reader", ns)
    assert srv.get("/v1/ns/%s/objects" % ns, token=tok).status_code == 200
    set_clock(srv, 31 * DAY)
    try:
        r = srv.get("/v1/ns/%s/objects" % ns, token=tok)
        assert r.status_code == 200, r.text
    finally:
        set_clock(srv, 0)
    rec = srv.wait_audit(lambda x: x["action"] == "anomaly:flag" and
                         x["resource"] == "anomalies/" + name)
    a = rec["ctx"]["anomaly"]
    assert a["kind"] == "dormant_account"
    assert a["feature"] == "last_activity"
    assert a["observed"] == "active again after 31 days"
    # The flags are read back from the audit log at start-up.
    srv.restart()
    v = acli.json("anomalies", "--principal", name, "--since", "400d",
                  "--json")
    assert [f["kind"] for f in v["anomalies"]] == ["dormant_account"]

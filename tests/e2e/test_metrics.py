"""GET /v1/metrics (issue 16, section 1): Prometheus' text format, read by
the real things: python3-prometheus-client's parser, and Debian's
prometheus server scraping Coffer over TLS with a scoped token
(docs/monitoring.md)."""

import os
import shutil
import subprocess
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import free_port


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def sample(fams, name, **labels):
    """The value of the sample `name` with exactly these labels (0 if
    absent)."""
    for fam in fams.values():
        for s in fam.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return 0.0


def test_metrics_count_requests_and_parse(server, uniq):
    r = server.get("/v1/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    before = families(r.text)
    ns = uniq("met")
    server.mkns(ns)
    assert server.put_obj(ns, "k", b"x" * 1000).status_code in (200, 201)
    assert server.get_obj(ns, "k").status_code == 200
    assert server.get_obj(ns, "nope").status_code == 404
    after = families(server.get("/v1/metrics").text)
    for action, code in (("ns:create", "201"), ("object:get", "200"),
                         ("object:get", "404")):
        b = sample(before, "coffer_requests_total", action=action,
                   decision="allow", code=code)
        a = sample(after, "coffer_requests_total", action=action,
                   decision="allow", code=code)
        assert a >= b + 1, (action, code, b, a)
    assert (sample(after, "coffer_request_bytes_total") >=
            sample(before, "coffer_request_bytes_total") + 1000)
    assert (sample(after, "coffer_key_operations_total", op="wrap") >=
            sample(before, "coffer_key_operations_total", op="wrap") + 1)
    assert (sample(after, "coffer_key_operations_total", op="unwrap") >=
            sample(before, "coffer_key_operations_total", op="unwrap") + 1)
    # Histograms are well formed: +Inf equals the count.
    h = after["coffer_policy_evaluation_seconds"]
    inf = [s.value for s in h.samples
           if s.name.endswith("_bucket") and s.labels["le"] == "+Inf"]
    cnt = [s.value for s in h.samples if s.name.endswith("_count")]
    assert inf == cnt and cnt[0] > 0
    assert sample(after, "coffer_audit_records_total") > 0
    assert sample(after, "coffer_connections_active") >= 1
    assert sample(after, "process_resident_memory_bytes") > 0
    # No principal, namespace or key ever becomes a label.
    assert ns not in server.get("/v1/metrics").text


def test_metrics_need_the_action(server, uniq):
    name = uniq("nometrics")
    server.user(name, role="reader")
    tok = server.token(name)["token"]
    r = server.get("/v1/metrics", token=tok)
    assert r.status_code == 403, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    rid = r.headers["X-Request-Id"]
    rec = server.wait_audit(lambda x: x["request_id"] == rid)
    assert rec["action"] == "metrics:read" and rec["decision"] == "deny"
    r = server.get("/v1/metrics", token=None)
    assert r.status_code == 401, r.text
    # A token scoped to metrics:read only, of a principal that may.
    svc = uniq("prom")
    server.principal(svc)
    server.grant(svc, "admin")
    r = server.post("/v1/tokens", {"principal": svc,
                                   "scope": {"actions": ["metrics:read"]}})
    assert r.status_code == 201, r.text
    scoped = r.json()["token"]
    assert server.get("/v1/metrics", token=scoped).status_code == 200
    assert server.get("/v1/ns", token=scoped).status_code == 403


PROM = shutil.which("prometheus")


@pytest.mark.skipif(PROM is None and not os.environ.get("CF_REQUIRE_ALL"),
                    reason="Debian's prometheus is not installed")
def test_prometheus_scrapes_coffer(server, uniq, tmp_path):
    assert PROM is not None, "prometheus missing (scripts/deps.sh)"
    svc = uniq("scraper")
    server.principal(svc)
    server.grant(svc, "admin")
    r = server.post("/v1/tokens", {"principal": svc,
                                   "scope": {"actions": ["metrics:read"]}})
    assert r.status_code == 201, r.text
    tokfile = tmp_path / "token"
    tokfile.write_text(r.json()["token"])
    os.chmod(tokfile, 0o600)
    port = free_port()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text("""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: coffer
    scheme: https
    metrics_path: /v1/metrics
    tls_config:
      ca_file: %s
    authorization:
      credentials_file: %s
    static_configs:
      - targets: ['127.0.0.1:%d']
""" % (server.ca, tokfile, server.port))
    # The counter the test moves: namespaces created.
    ns = uniq("scraped")
    server.mkns(ns)
    proc = subprocess.Popen(
        [PROM, "--config.file=%s" % cfg,
         "--storage.tsdb.path=%s" % (tmp_path / "tsdb"),
         "--web.listen-address=127.0.0.1:%d" % port],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prom.log", "w"))
    try:
        q = ('sum(coffer_requests_total{job="coffer",action="ns:create",'
             'decision="allow"})')
        got, up = None, None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                r = requests.get("http://127.0.0.1:%d/api/v1/query" % port,
                                 params={"query": q}, timeout=5)
                res = r.json()["data"]["result"]
                if res:
                    got = float(res[0]["value"][1])
                    break
                r = requests.get("http://127.0.0.1:%d/api/v1/targets" % port,
                                 timeout=5)
                up = r.json()["data"]["activeTargets"]
            except (requests.ConnectionError, KeyError, ValueError):
                pass
            time.sleep(0.5)
        assert got is not None, (up, (tmp_path / "prom.log").read_text()[-2000:])
        assert got >= 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # Prometheus' scrapes are requests like any other: audited.
    assert server.wait_audit(lambda x: x["action"] == "metrics:read" and
                             x["principal"] == svc) is not None

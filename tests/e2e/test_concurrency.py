"""Many clients at once: versions are not lost, the audit chain stays
intact and every request still gets exactly one record."""

import concurrent.futures
import os

import pytest
import requests

from conftest import Cli, obj_path, sha256


def test_parallel_puts_same_and_different_keys(fresh_server, tmp_path):
    s = fresh_server
    s.mkns("conc-ns")
    start = s.audit_count()
    nthreads, per = 8, 12

    def worker(t):
        out = []
        with requests.Session() as sess:
            for i in range(per):
                data = os.urandom(1000 + 37 * i) + b"%d-%d" % (t, i)
                key = "same" if i % 2 == 0 else "own/%d/%d" % (t, i)
                r = sess.put(s.url + obj_path("conc-ns", key), data=data,
                             verify=s.ca, timeout=60, headers={
                                 "Authorization": "Bearer " + s.admin_token,
                                 "X-Coffer-SHA256": sha256(data)})
                assert r.status_code == 201, r.text
                out.append((key, r.json()["version_id"], data))
        return out
    with concurrent.futures.ThreadPoolExecutor(nthreads) as ex:
        results = [x for f in [ex.submit(worker, t) for t in
                               range(nthreads)] for x in f.result()]
    assert len(results) == nthreads * per
    same = [r for r in results if r[0] == "same"]
    vs = s.versions("conc-ns", "same")
    assert len(vs) == len(same)
    assert {v["version_id"] for v in vs} == {r[1] for r in same}
    assert sum(1 for v in vs if v["latest"]) == 1
    for key, vid, data in results[::7]:
        r = s.get_obj("conc-ns", key, params={"version": vid})
        assert r.status_code == 200 and r.content == data
    recs = s.audit_records()
    puts = [r for r in recs[start:] if r["action"] == "object:put"]
    assert len(puts) == nthreads * per
    seqs = [r["seq"] for r in recs]
    assert seqs == list(range(1, len(recs) + 1))
    for a, b in zip(recs, recs[1:]):
        assert b["prev"] == a["mac"]
    # One record per request id (a download's completion record,
    # object:get:end, shares its request's id).
    ids = [r["request_id"] for r in recs if r["action"] != "object:get:end"]
    assert len(set(ids)) == len(ids)
    p = Cli(s, tmp_path / "h")("audit", "verify", "--data", s.data,
                               with_server=False)
    assert p.returncode == 0, (p.stdout, p.stderr)


def test_parallel_reads_of_a_large_object(fresh_server):
    s = fresh_server
    s.mkns("conc-read")
    data = os.urandom(3 << 20)
    assert s.put_obj("conc-read", "big", data).status_code == 201

    def reader(i):
        lo = (i * 100003) % len(data)
        with requests.Session() as sess:
            h = {"Authorization": "Bearer " + s.admin_token}
            r = sess.get(s.url + obj_path("conc-read", "big"), headers=h,
                         verify=s.ca, timeout=60)
            assert r.status_code == 200 and r.content == data
            h["Range"] = "bytes=%d-" % lo
            r = sess.get(s.url + obj_path("conc-read", "big"), headers=h,
                         verify=s.ca, timeout=60)
            assert r.status_code == 206 and r.content == data[lo:]
        return True
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        assert all(ex.map(reader, range(16)))


def test_audit_verify_while_server_busy(fresh_server, tmp_path):
    """`coffer audit verify` reads a log that is being appended to: it must
    not report tampering for a record or checkpoint written meanwhile."""
    import threading
    s = fresh_server
    s.mkns("busy-ns")
    stop = threading.Event()
    errors = []

    def hammer(t):
        with requests.Session() as sess:
            i = 0
            while not stop.is_set():
                try:
                    r = sess.put(s.url + obj_path("busy-ns", "k%d" % t),
                                 data=b"%d" % i, verify=s.ca, timeout=30,
                                 headers={"Authorization": "Bearer " +
                                          s.admin_token})
                    if r.status_code != 201:
                        errors.append(r.text)
                    sess.get(s.url + "/v1/ns", verify=s.ca, timeout=30)
                except requests.RequestException as e:
                    errors.append(repr(e))
                i += 1
    threads = [threading.Thread(target=hammer, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    cli = Cli(s, tmp_path / "h")
    results = []
    try:
        for _ in range(6):
            p = cli("audit", "verify", "--data", s.data, with_server=False)
            results.append((p.returncode, p.stdout.strip(),
                            p.stderr.strip()))
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert errors == []
    assert all(r[0] == 0 for r in results), results


@pytest.mark.parametrize("threads", ["0", "1"])
def test_other_threading_modes(make_server, threads):
    # threads = 0 (a thread per connection, blocking audit appends) and a
    # single event thread (everything parked on one loop): concurrent
    # writes and reads still come back right, each with its record.
    s = make_server(extra_args=("--set", "threads=" + threads))
    s.mkns("modes")
    start = s.audit_count()
    hdr = {"Authorization": "Bearer " + s.admin_token}

    def worker(t):
        with requests.Session() as sess:
            for i in range(10):
                data = os.urandom(500 + t * 100 + i)
                url = s.url + obj_path("modes", "k%d/%d" % (t, i))
                r = sess.put(url, data=data, headers=hdr, verify=s.ca,
                             timeout=60)
                assert r.status_code == 201, r.text
                r = sess.get(url, headers=hdr, verify=s.ca, timeout=60)
                assert r.status_code == 200 and r.content == data
        return True
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        assert all(ex.map(worker, range(6)))
    recs = s.audit_records()[start:]
    assert sum(1 for r in recs if r["action"] == "object:put") == 60
    assert sum(1 for r in recs if r["action"] == "object:get") == 60

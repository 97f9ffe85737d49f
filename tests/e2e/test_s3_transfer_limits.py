"""The transfer limits (max_uploads_per_principal,
max_downloads_per_principal; docs/operations.md, "Transfer governance")
on the S3 endpoint: one transfer over the limit is refused with S3's
throttling answer, 503 SlowDown in XML with Retry-After (botocore and
awscli retry it with backoff), recorded as a deny naming the limit under
the operation's action, and the server goes on.  Found by bench/s3/rss.sh:
ten boto3 uploads of one principal, ten parts in flight each, crashed
the server at the 65th part (the refusal read the REST route of a request
that has none).  A body past request_memory_budget is answered the same
way.  Nothing here compares durations."""

import pytest

from test_memory_budget import STEP, budget_server, held_json, wait_metric
from test_s3 import client, s3key
from test_upload_limits import (limits_server, stalled_get, stalled_put,
                                wait_until, SLACK)

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402


def denied_for_limit(server, before, action, limit):
    return server.wait_audit(
        lambda r: r["seq"] > before and r["action"] == action and
        r["status"] == 503 and r["decision"] == "deny" and
        limit in r.get("reasons", "") + str(r.get("reason", "")))


def slow_down(exc):
    """The refusal is S3's throttling answer: 503 SlowDown, XML, with
    Retry-After."""
    resp = exc.value.response
    meta = resp["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 503, resp
    assert resp["Error"]["Code"] == "SlowDown", resp
    assert int(meta["HTTPHeaders"]["retry-after"]) >= 1, meta
    assert meta["HTTPHeaders"]["content-type"].startswith(
        "application/xml"), meta


@pytest.mark.parametrize("threads", ["0", "4"])
def test_s3_upload_over_the_limit_is_slow_down(make_server, uniq, threads):
    s = limits_server(make_server, threads)
    ns = uniq("su")
    s.mkns(ns)
    name = uniq("sa")
    tok = s.user(name, "writer", ns)
    c = client(s, s3key(s, principal=name))
    held = [stalled_put(s, tok, ns, "held-%d" % i) for i in range(2)]
    try:
        before = s.audit_count()
        with pytest.raises(ClientError) as e:
            c.put_object(Bucket=ns, Key="third", Body=b"data")
        slow_down(e)
        assert s.alive()
        rec = denied_for_limit(s, before, "object:put",
                               "max_uploads_per_principal")
        assert rec is not None, s.audit_records()[before:]
        assert s.versions(ns, "third") == []
        # A multipart part is an upload too.
        up = c.create_multipart_upload(Bucket=ns, Key="mp")["UploadId"]
        with pytest.raises(ClientError) as e:
            c.upload_part(Bucket=ns, Key="mp", UploadId=up, PartNumber=1,
                          Body=b"p" * 1024)
        slow_down(e)
        assert s.alive()
    finally:
        for t in held:
            t.close()
    assert wait_until(lambda: s.put_obj(ns, "after", b"data",
                                        token=tok).status_code == 201,
                      SLACK)
    c.put_object(Bucket=ns, Key="third", Body=b"data")
    assert c.get_object(Bucket=ns, Key="third")["Body"].read() == b"data"


@pytest.mark.parametrize("threads", ["0", "4"])
def test_s3_download_over_the_limit_is_slow_down(make_server, uniq,
                                                 threads):
    s = limits_server(make_server, threads)
    ns = uniq("sd")
    s.mkns(ns)
    name = uniq("sb")
    tok = s.user(name, "writer", ns)
    c = client(s, s3key(s, principal=name))
    big = b"y" * (32 << 20)
    assert s.put_obj(ns, "big", big, token=tok).status_code == 201
    held = stalled_get(s, tok, ns, "big")
    try:
        before = s.audit_count()
        with pytest.raises(ClientError) as e:
            c.get_object(Bucket=ns, Key="big")
        slow_down(e)
        assert s.alive()
        rec = denied_for_limit(s, before, "object:get",
                               "max_downloads_per_principal")
        assert rec is not None, s.audit_records()[before:]
    finally:
        held.close()
    assert wait_until(lambda: s.get_obj(ns, "big",
                                        token=tok).status_code == 200, SLACK)
    assert c.get_object(Bucket=ns, Key="big")["Body"].read() == big


def test_s3_body_over_memory_budget_is_slow_down(make_server):
    """A body past request_memory_budget: 503 SlowDown on S3 as
    server_busy on REST (it was 500 InternalError)."""
    s = budget_server(make_server)
    c = client(s, s3key(s))
    ns = "budget-s3"
    c.create_bucket(Bucket=ns)
    c.put_object(Bucket=ns, Key="k", Body=b"data")
    tok = s.admin_api_token
    held = [held_json(s, tok, 20000, 40000) for _ in range(2)]
    try:
        wait_metric(s, "coffer_request_memory_bytes", 2 * 2 * STEP)
        before = s.audit_count()
        with pytest.raises(ClientError) as e:
            c.delete_objects(Bucket=ns, Delete={"Objects": [{"Key": "k"}]})
        slow_down(e)
        rec = s.wait_audit(lambda x: x["seq"] > before and
                           x["status"] == 503 and
                           "request memory budget" in x.get("reasons", ""))
        assert rec["decision"] == "deny", rec
    finally:
        for t in held:
            t.close()
    wait_metric(s, "coffer_request_memory_bytes", 0)
    assert c.get_object(Bucket=ns, Key="k")["Body"].read() == b"data"

"""tests/e2e/test_network.py: network isolation per environment and
trusted proxies (docs/security.md "Network isolation" and "Trusted
proxies"; docs/coffer.conf.5.md env.<env>.allow, trusted_proxies,
forwarded_header).

A request addressed to a namespace of an environment with an allow list
is refused (403 network_refused, audited) before authentication when its
client is outside the list.  The client is the socket peer; only a peer
in trusted_proxies may name another one, in the configured header.  The
tests reach the server from two loopback addresses (127.0.0.1 and
127.0.0.2: the whole of 127/8 is local on Linux).
"""

import http.client
import json
import re
import ssl
import subprocess

import pytest

from conftest import COFFER_BIN, obj_path


def raw(srv, method, path, source="127.0.0.1", token=None, headers=None,
        body=None):
    """One request from the given local address; (status, json body)."""
    ctx = ssl.create_default_context(cafile=srv.ca)
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx,
                                       source_address=(source, 0),
                                       timeout=60)
    h = dict(headers or {})
    if token == "admin":
        token = srv.admin_token
    if token is not None:
        h["Authorization"] = "Bearer " + token
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    try:
        j = json.loads(data) if data else None
    except ValueError:
        j = None
    return r.status, j


def last_record(srv, pred):
    rec = srv.wait_audit(pred)
    assert rec is not None, "no matching audit record"
    return rec


def list_path(ns):
    return "/v1/ns/%s/objects" % ns


def test_prod_refused_from_other_network_before_auth(make_server, uniq):
    srv = make_server(["--set", "env.prod.allow=127.0.0.1/32, 10.0.0.0/8"])
    prod, dev = uniq("prod"), uniq("dev")
    srv.mkns(prod, "prod")
    srv.mkns(dev, "dev")
    assert srv.put_obj(prod, "m", b"weights").status_code == 201

    # Allowed network: served.
    st, j = raw(srv, "GET", list_path(prod), token="admin")
    assert st == 200, j
    # Another network: refused before the credential is looked at, with
    # or without one, and audited as a deny with the client address.
    st, j = raw(srv, "GET", list_path(prod), source="127.0.0.2")
    assert st == 403 and j["error"]["code"] == "network_refused", j
    st, j = raw(srv, "GET", obj_path(prod, "m"), source="127.0.0.2",
                token="admin")
    assert st == 403 and j["error"]["code"] == "network_refused", j
    rid = j["error"]["request_id"]
    rec = last_record(srv, lambda r: r["request_id"] == rid)
    assert rec["decision"] == "deny" and rec["status"] == 403
    assert rec["source"] == "127.0.0.2"
    assert rec["action"] == "object:get"
    assert rec["resource"] == "ns/" + prod
    assert rec["principal"] == ""          # not authenticated
    assert rec["reasons"] == "network not allowed (env prod)"
    # A dev namespace has no list: the request goes on to authentication.
    st, j = raw(srv, "GET", list_path(dev), source="127.0.0.2")
    assert st == 401, j
    st, j = raw(srv, "GET", list_path(dev), source="127.0.0.2",
                token="admin")
    assert st == 200, j
    # A namespace that does not exist answers as a prod one would: the
    # refusal does not tell that network which names exist.
    st, j = raw(srv, "GET", list_path(uniq("nosuch")), source="127.0.0.2",
                token="admin")
    assert st == 403 and j["error"]["code"] == "network_refused", j
    # Uploads are refused before any body byte is taken.
    st, j = raw(srv, "PUT", obj_path(prod, "x"), source="127.0.0.2",
                token="admin", body=b"y" * 1000)
    assert st == 403, j
    assert [v["size"] for v in srv.versions(prod, "x")] == []


def test_forged_forwarded_for_ignored_without_trusted_proxy(make_server,
                                                           uniq):
    srv = make_server(["--set", "env.prod.allow=10.0.0.0/8"])
    prod = uniq("prod")
    srv.mkns(prod, "prod")
    for h in ({"X-Forwarded-For": "10.0.0.5"},
              {"Forwarded": "for=10.0.0.5"}):
        st, j = raw(srv, "GET", list_path(prod), token="admin", headers=h)
        assert st == 403 and j["error"]["code"] == "network_refused", j
        rid = j["error"]["request_id"]
        rec = last_record(srv, lambda r: r["request_id"] == rid)
        assert rec["source"] == "127.0.0.1"


def test_trusted_proxy_forwards_the_client(make_server, uniq):
    srv = make_server(["--set", "env.prod.allow=10.0.0.0/8",
                       "--set", "trusted_proxies=127.0.0.1/32"])
    prod = uniq("prod")
    srv.mkns(prod, "prod")
    xff = "X-Forwarded-For"
    # The proxy's entry names a client inside the allowed network.
    st, j = raw(srv, "GET", list_path(prod), token="admin",
                headers={xff: "10.1.2.3"})
    assert st == 200, j
    rec = last_record(srv, lambda r: r["action"] == "object:list" and
                      r["decision"] == "allow" and
                      r["source"] == "10.1.2.3")
    # Policies see the resolved address, and the record the proxy.
    assert rec["ctx"]["context"]["source_ip"]["__extn"]["arg"] == \
        "10.1.2.3"
    assert rec["ctx"]["peer"] == "127.0.0.1"
    # Whatever the client wrote further left is not believed: the
    # rightmost entry that is not one of our proxies is the client.
    st, j = raw(srv, "GET", list_path(prod), token="admin",
                headers={xff: "203.0.113.9, 10.1.2.3"})
    assert st == 200, j
    st, j = raw(srv, "GET", list_path(prod), token="admin",
                headers={xff: "10.1.2.3, 203.0.113.9"})
    assert st == 403, j
    rid = j["error"]["request_id"]
    rec = last_record(srv, lambda r: r["request_id"] == rid)
    assert rec["source"] == "203.0.113.9"
    assert rec["reasons"] == \
        "network not allowed (env prod, via 127.0.0.1)"
    # Our own proxies in the chain are skipped.
    st, j = raw(srv, "GET", list_path(prod), token="admin",
                headers={xff: "10.9.9.9, 127.0.0.1"})
    assert st == 200, j
    # No blank after the comma is the same list.
    st, j = raw(srv, "GET", list_path(prod), token="admin",
                headers={xff: "10.1.2.3,203.0.113.9"})
    assert st == 403, j
    # An entry that names no address: the client is unknown, refused.
    st, j = raw(srv, "GET", list_path(prod), token="admin",
                headers={xff: "unknown"})
    assert st == 403, j
    # The other header is not the one configured: ignored, the client
    # is the proxy itself (outside 10/8).
    st, j = raw(srv, "GET", list_path(prod), token="admin",
                headers={"Forwarded": "for=10.1.2.3"})
    assert st == 403, j
    # No header from the proxy: the proxy is the client.
    st, j = raw(srv, "GET", list_path(prod), token="admin")
    assert st == 403, j
    # A peer that is not a trusted proxy is not believed.
    st, j = raw(srv, "GET", list_path(prod), token="admin",
                source="127.0.0.2", headers={xff: "10.1.2.3"})
    assert st == 403, j
    rid = j["error"]["request_id"]
    assert last_record(srv, lambda r: r["request_id"] == rid)[
        "source"] == "127.0.0.2"


def test_forwarded_rfc7239(make_server, uniq):
    srv = make_server(["--set", "env.prod.allow=10.0.0.0/8",
                       "--set", "trusted_proxies=127.0.0.1",
                       "--set", "forwarded_header=forwarded"])
    prod = uniq("prod")
    srv.mkns(prod, "prod")
    fw = "Forwarded"
    st, j = raw(srv, "GET", list_path(prod), token="admin",
                headers={fw: 'for="[2001:db8::1]:4711";proto=https, '
                         'for=10.1.2.3;by=127.0.0.1'})
    assert st == 200, j
    st, j = raw(srv, "GET", list_path(prod), token="admin",
                headers={fw: 'for=10.1.2.3, for="[2001:db8::1]"'})
    assert st == 403, j
    rid = j["error"]["request_id"]
    assert last_record(srv, lambda r: r["request_id"] == rid)[
        "source"] == "2001:db8::1"
    # for=unknown, an obfuscated node, an element without for=: unknown.
    for v in ("for=unknown", "for=_hidden", "proto=https"):
        st, j = raw(srv, "GET", list_path(prod), token="admin",
                    headers={fw: v})
        assert st == 403, (v, j)
    # X-Forwarded-For is not the configured header: ignored.
    st, j = raw(srv, "GET", list_path(prod), token="admin",
                headers={"X-Forwarded-For": "10.1.2.3"})
    assert st == 403, j
    # Malformed: refused with 400, audited, never guessed at.
    for v in ("for", 'for="10.1.2.3', "for=10.1.2.3;for=10.1.2.4",
              "for=10.1.2.3 junk"):
        st, j = raw(srv, "GET", list_path(prod), token="admin",
                    headers={fw: v})
        assert st == 400 and j["error"]["code"] == "bad_forwarded", (v, j)
        rid = j["error"]["request_id"]
        rec = last_record(srv, lambda r: r["request_id"] == rid)
        assert rec["decision"] == "deny" and rec["status"] == 400


def test_network_config_is_checked(tmp_path):
    for opt, why in (("env.prod.allow=10.0.0.1/8", "host bits"),
                     ("env.prod.allow=10.0.0.0/33", "prefix length"),
                     ("env.staging.allow=example.com", "not an IP"),
                     ("trusted_proxies=10.0.0.0/8,", "empty entry"),
                     ("forwarded_header=x-real-ip", "forwarded")):
        p = subprocess.run([COFFER_BIN, "server", "--check", "--data",
                            str(tmp_path / "d"), "--set", opt],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 2, (opt, p.stdout, p.stderr)
        assert why in p.stderr, (opt, p.stderr)
    p = subprocess.run([COFFER_BIN, "server", "--check", "--data",
                        str(tmp_path / "d"), "--set",
                        "env.prod.allow=10.0.0.0/8, 192.168.1.0/24, "
                        "2001:db8::/32, ::ffff:172.16.0.0/108"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "env.prod.allow = 10.0.0.0/8, 192.168.1.0/24" in p.stdout


def s3_raw(srv, key, method, path, source, secret=None):
    """One S3 request signed by botocore with `key` (or with `secret`
    instead of its own), sent from the given local address; (status,
    body, headers)."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    url = srv.url + path
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=b"")
    creds = botocore.credentials.Credentials(
        key["access_key_id"], secret or key["secret_access_key"])
    botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    ctx = ssl.create_default_context(cafile=srv.ca)
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx,
                                       source_address=(source, 0),
                                       timeout=60)
    try:
        conn.request(method, path, headers=dict(req.headers))
        r = conn.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        conn.close()


def test_s3_refused_from_other_network_before_auth(make_server, uniq):
    """The S3 endpoint is held to the same rule as REST, at the same
    point: the bucket's environment is checked before the signature, so
    a network outside the list learns nothing of keys or signatures
    (an unknown key, a wrong secret and a good key all get the same
    AccessDenied), and the refusal is audited unauthenticated."""
    pytest.importorskip("botocore")
    srv = make_server(["--set", "env.prod.allow=127.0.0.1/32"])
    prod, dev = uniq("prod"), uniq("dev")
    srv.mkns(prod, "prod")
    srv.mkns(dev, "dev")
    assert srv.put_obj(prod, "m", b"weights").status_code == 201
    r = srv.post("/v1/s3-keys", {})
    assert r.status_code == 201, r.text
    key = r.json()
    bogus = {"access_key_id": "CFAK" + "Z" * 16,
             "secret_access_key": "x" * 40}

    st, body, _ = s3_raw(srv, key, "GET", "/%s/m" % prod, "127.0.0.1")
    assert st == 200 and body == b"weights"
    for k, secret in ((key, None), (key, "y" * 40), (bogus, None)):
        st, body, _ = s3_raw(srv, k, "GET", "/%s/m" % prod, "127.0.0.2",
                             secret)
        assert st == 403, body
        assert b"<Code>AccessDenied</Code>" in body, body
        assert b"cannot be reached from 127.0.0.2" in body, body
    rid = re.search(rb"<RequestId>([^<]+)</RequestId>", body).group(1)
    rec = last_record(srv, lambda x: x["request_id"] == rid.decode())
    assert rec["decision"] == "deny" and rec["status"] == 403
    assert rec["principal"] == "" and rec["source"] == "127.0.0.2"
    assert rec["action"] == "object:get"
    assert rec["resource"] == "ns/" + prod
    assert rec["reasons"] == "network not allowed (env prod)"
    # A bucket that does not exist answers as a prod one would; a
    # bucket-less request (ListBuckets) and a dev bucket go on to the
    # signature check.
    st, body, _ = s3_raw(srv, bogus, "GET", "/%s/m" % uniq("nosuch"),
                         "127.0.0.2")
    assert st == 403 and b"cannot be reached" in body, body
    st, body, _ = s3_raw(srv, bogus, "GET", "/%s/m" % dev, "127.0.0.2")
    assert st == 403 and b"InvalidAccessKeyId" in body, body
    st, body, _ = s3_raw(srv, bogus, "GET", "/", "127.0.0.2")
    assert st == 403 and b"InvalidAccessKeyId" in body, body
    st, body, _ = s3_raw(srv, key, "GET", "/%s/m" % dev, "127.0.0.2")
    assert st == 404, body
    # HEAD: the same refusal, without a body.
    st, body, _ = s3_raw(srv, bogus, "HEAD", "/%s/m" % prod, "127.0.0.2")
    assert st == 403 and body == b""

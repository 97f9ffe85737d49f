"""S3 bucket policies and ACL answers (docs/s3.md, "Bucket policies",
"ACLs"): the IAM JSON is compiled into the bucket's namespace policy set
s3-bucket-policy, stored, validated and audited by the policy
administration, and then decides like any stored policy.  boto3 and
awscli against a real server over TLS."""

import json
import os
import subprocess

import pytest
import requests

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from conftest import s3_client  # noqa: E402

AWS = "/usr/bin/aws" if os.access("/usr/bin/aws", os.X_OK) else None
NAME = "s3-bucket-policy"


def s3key(server, principal=None):
    body = {} if principal is None else {"principal": principal}
    r = server.post("/v1/s3-keys", body)
    assert r.status_code == 201, r.text
    return r.json()


def client(server, key):
    return s3_client(server, key)


def code_of(exc):
    return exc.value.response["Error"]["Code"]


def msg_of(exc):
    return exc.value.response["Error"]["Message"]


def stmt(effect, principal, action, resource, sid=None, condition=None):
    s = {"Effect": effect, "Principal": principal, "Action": action,
         "Resource": resource}
    if sid is not None:
        s["Sid"] = sid
    if condition is not None:
        s["Condition"] = condition
    return s


def doc(*stmts):
    return json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})


def last(server, pred):
    recs = [r for r in server.audit_records() if pred(r)]
    return recs[-1] if recs else None


def set_with_mfa(server, ns, text):
    """The MFA path (an admin session): PUT /v1/policies/s3-bucket-policy,
    as coffer policy set does."""
    r = server.req("PUT", "/v1/policies/" + NAME,
                   json={"ns": ns, "text": text})
    assert r.status_code in (200, 201), r.text
    return r


class World:
    pass


@pytest.fixture(scope="module")
def w(server):
    x = World()
    x.bucket = "bp-data"
    server.mkns(x.bucket)
    for name, role in (("bp-owner", "owner"), ("bp-reader", "reader"),
                       ("bp-guest", None)):
        server.principal(name)
        if role is not None:
            server.grant(name, role, x.bucket)
    x.owner = client(server, s3key(server, "bp-owner"))
    x.reader = client(server, s3key(server, "bp-reader"))
    x.guest = client(server, s3key(server, "bp-guest"))
    x.owner_key = s3key(server, "bp-owner")
    for k in ("secret/a.txt", "public/b.txt"):
        x.owner.put_object(Bucket=x.bucket, Key=k, Body=b"data " + k.encode())
    return x


@pytest.fixture(autouse=True)
def _clean(server, w):
    yield
    r = server.req("DELETE", "/v1/policies/%s?ns=%s" % (NAME, w.bucket))
    assert r.status_code in (200, 404), r.text


DENY_SECRET = stmt("Deny", {"AWS": ["arn:aws:iam:::user/bp-reader"]},
                   "s3:GetObject", "arn:aws:s3:::bp-data/secret/*",
                   sid="NoSecrets")


def test_deny_on_a_prefix_denies_what_the_role_allows(server, w, cli):
    assert w.reader.get_object(Bucket=w.bucket,
                               Key="secret/a.txt")["Body"].read()
    # Deny statements only take access away: the owner's S3 key (no
    # MFA) may add them.
    w.owner.put_bucket_policy(Bucket=w.bucket, Policy=doc(DENY_SECRET))
    rec = last(server, lambda r: r["action"] == "policy:set")
    assert rec["decision"] == "allow" and rec["status"] == 204
    assert rec["resource"] == "ns/bp-data/policies/" + NAME
    with pytest.raises(ClientError) as e:
        w.reader.get_object(Bucket=w.bucket, Key="secret/a.txt")
    assert code_of(e) == "AccessDenied"
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    rec = last(server, lambda r: r.get("request_id") == rid)
    assert rec["action"] == "object:get" and rec["decision"] == "deny"
    assert "s3.NoSecrets.object" in rec["reasons"], rec
    # HeadObject is s3:GetObject's too; other keys and principals are
    # untouched.
    with pytest.raises(ClientError) as e:
        w.reader.head_object(Bucket=w.bucket, Key="secret/a.txt")
    assert w.reader.get_object(Bucket=w.bucket,
                               Key="public/b.txt")["Body"].read()
    assert w.owner.get_object(Bucket=w.bucket,
                              Key="secret/a.txt")["Body"].read()
    # GetBucketPolicy: the JSON as stored (compact).
    got = w.owner.get_bucket_policy(Bucket=w.bucket)["Policy"]
    assert json.loads(got) == json.loads(doc(DENY_SECRET))
    # The policy tools see the compiled set.
    p = cli("policy", "show", NAME, "--ns", w.bucket, "--json")
    assert p.returncode == 0, p.stderr
    text = json.loads(p.stdout)["text"]
    assert text.startswith("// s3-bucket-policy {")
    assert '@id("s3.NoSecrets.object")' in text and "forbid" in text
    assert 'resource.key like "secret/*"' in text
    p = cli("policy", "ls", "--ns", w.bucket, "--json")
    assert p.returncode == 0 and NAME in p.stdout


def test_a_grant_needs_mfa_which_s3_keys_never_carry(server, w):
    allow = doc(stmt("Allow", {"AWS": "bp-guest"}, "s3:GetObject",
                     "arn:aws:s3:::bp-data/public/*"))
    with pytest.raises(ClientError) as e:
        w.owner.put_bucket_policy(Bucket=w.bucket, Policy=allow)
    assert code_of(e) == "AccessDenied"
    rec = last(server, lambda r: r["action"] == "policy:set")
    assert rec["decision"] == "deny" and "mfa" in rec["reasons"]
    with pytest.raises(ClientError) as e:
        w.owner.get_bucket_policy(Bucket=w.bucket)
    assert code_of(e) == "NoSuchBucketPolicy"
    # With MFA (an admin session through the policy API) it is stored,
    # and GetBucketPolicy answers it.
    set_with_mfa(server, w.bucket, allow)
    assert json.loads(w.owner.get_bucket_policy(
        Bucket=w.bucket)["Policy"]) == json.loads(allow)
    assert w.guest.get_object(Bucket=w.bucket,
                              Key="public/b.txt")["Body"].read()
    with pytest.raises(ClientError) as e:
        w.guest.get_object(Bucket=w.bucket, Key="secret/a.txt")
    assert code_of(e) == "AccessDenied"
    # Removing an Allow only takes access away: the S3 key may.
    w.owner.delete_bucket_policy(Bucket=w.bucket)
    with pytest.raises(ClientError) as e:
        w.guest.get_object(Bucket=w.bucket, Key="public/b.txt")
    assert code_of(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        w.owner.get_bucket_policy(Bucket=w.bucket)
    assert code_of(e) == "NoSuchBucketPolicy"
    # Deleting when there is none: 204, as on AWS.
    w.owner.delete_bucket_policy(Bucket=w.bucket)


def test_removing_a_deny_needs_mfa(server, w):
    w.owner.put_bucket_policy(Bucket=w.bucket, Policy=doc(DENY_SECRET))
    with pytest.raises(ClientError) as e:
        w.owner.delete_bucket_policy(Bucket=w.bucket)
    assert code_of(e) == "AccessDenied"
    rec = last(server, lambda r: r["action"] == "policy:rm")
    assert rec["decision"] == "deny"
    # Nor may it be replaced by one without that Deny.
    with pytest.raises(ClientError) as e:
        w.owner.put_bucket_policy(Bucket=w.bucket, Policy=doc(
            stmt("Deny", "*", "s3:DeleteObject", "arn:aws:s3:::bp-data/*")))
    assert code_of(e) == "AccessDenied"
    # Adding one more Deny to it is fine.
    w.owner.put_bucket_policy(Bucket=w.bucket, Policy=doc(
        DENY_SECRET,
        stmt("Deny", "*", "s3:DeleteObject", "arn:aws:s3:::bp-data/*")))
    with pytest.raises(ClientError) as e:
        w.reader.get_object(Bucket=w.bucket, Key="secret/a.txt")
    assert code_of(e) == "AccessDenied"


def test_allow_with_an_ip_condition(server, w, cli, tmp_path):
    def allow_from(cidr):
        return doc(stmt("Allow", {"AWS": ["coffer:user/bp-guest"]},
                        ["s3:GetObject", "s3:ListBucket"],
                        ["arn:aws:s3:::bp-data", "arn:aws:s3:::bp-data/*"],
                        condition={"IpAddress": {"aws:SourceIp": cidr}}))

    # coffer policy set under the reserved name compiles IAM JSON (the
    # admin's CLI session has MFA).
    f = tmp_path / "allow.json"
    f.write_text(allow_from("127.0.0.0/8"))
    p = cli("policy", "set", NAME, "--ns", w.bucket, "--file", f)
    assert p.returncode == 0, p.stderr
    assert w.guest.get_object(Bucket=w.bucket,
                              Key="public/b.txt")["Body"].read()
    keys = [o["Key"] for o in w.guest.list_objects_v2(
        Bucket=w.bucket)["Contents"]]
    assert "public/b.txt" in keys
    set_with_mfa(server, w.bucket, allow_from(["10.0.0.0/8", "::1"]))
    with pytest.raises(ClientError) as e:
        w.guest.get_object(Bucket=w.bucket, Key="public/b.txt")
    assert code_of(e) == "AccessDenied"
    # NotIpAddress in a Deny: everyone but the listed networks.
    w.owner.delete_bucket_policy(Bucket=w.bucket)
    w.owner.put_bucket_policy(Bucket=w.bucket, Policy=doc(stmt(
        "Deny", "*", "s3:GetObject", "arn:aws:s3:::bp-data/public/*",
        condition={"NotIpAddress": {"aws:SourceIp": "10.1.0.0/16"}})))
    with pytest.raises(ClientError) as e:
        w.reader.get_object(Bucket=w.bucket, Key="public/b.txt")
    assert code_of(e) == "AccessDenied"


def test_date_conditions(server, w):
    def allow(op, when):
        return doc(stmt("Allow", {"AWS": "bp-guest"}, "s3:GetObject",
                        "arn:aws:s3:::bp-data/public/*",
                        condition={op: {"aws:CurrentTime": when}}))

    set_with_mfa(server, w.bucket, allow("DateLessThan", "2000-01-01"))
    with pytest.raises(ClientError) as e:
        w.guest.get_object(Bucket=w.bucket, Key="public/b.txt")
    assert code_of(e) == "AccessDenied"
    set_with_mfa(server, w.bucket,
                 allow("DateLessThan", "2999-12-31T23:59:59Z"))
    assert w.guest.get_object(Bucket=w.bucket,
                              Key="public/b.txt")["Body"].read()
    set_with_mfa(server, w.bucket,
                 allow("DateGreaterThan", "2999-12-31T23:59:59Z"))
    with pytest.raises(ClientError) as e:
        w.guest.get_object(Bucket=w.bucket, Key="public/b.txt")
    assert code_of(e) == "AccessDenied"


def test_prefix_conditions_on_listings(server, w):
    # A Deny on what a listing asks for (s3:prefix: context.op.prefix).
    w.owner.put_bucket_policy(Bucket=w.bucket, Policy=doc(stmt(
        "Deny", {"AWS": "bp-reader"},
        ["s3:ListBucket", "s3:ListBucketVersions"], "arn:aws:s3:::bp-data",
        condition={"StringLike": {"s3:prefix": "secret*"}})))
    with pytest.raises(ClientError) as e:
        w.reader.list_objects_v2(Bucket=w.bucket, Prefix="secret/")
    assert code_of(e) == "AccessDenied"
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    rec = last(server, lambda r: r.get("request_id") == rid)
    assert rec["action"] == "object:list" and rec["decision"] == "deny"
    assert rec["ctx"]["context"]["op"] == {"name": "list",
                                           "prefix": "secret/"}
    with pytest.raises(ClientError) as e:
        w.reader.list_object_versions(Bucket=w.bucket, Prefix="secret/a")
    assert code_of(e) == "AccessDenied"
    got = w.reader.list_objects_v2(Bucket=w.bucket, Prefix="public/")
    assert [o["Key"] for o in got["Contents"]] == ["public/b.txt"]
    # An Allow of one prefix only (StringEquals), through the MFA path.
    set_with_mfa(server, w.bucket, doc(stmt(
        "Allow", {"AWS": "bp-guest"}, "s3:ListBucket",
        "arn:aws:s3:::bp-data",
        condition={"StringEquals": {"s3:prefix": "public/"}})))
    got = w.guest.list_objects_v2(Bucket=w.bucket, Prefix="public/")
    assert [o["Key"] for o in got["Contents"]] == ["public/b.txt"]
    for prefix in ("", "secret/", "public"):
        with pytest.raises(ClientError) as e:
            w.guest.list_objects_v2(Bucket=w.bucket, Prefix=prefix)
        assert code_of(e) == "AccessDenied", prefix


R = "arn:aws:s3:::bp-data/*"
UNMAPPABLE = [
    ({"Effect": "Deny", "NotPrincipal": {"AWS": "bp-guest"},
      "Action": "s3:GetObject", "Resource": R}, "NotPrincipal"),
    ({"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject",
      "Resource": R}, "NotAction"),
    ({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
      "NotResource": R}, "NotResource"),
    (stmt("Deny", "*", "s3:GetObject", "arn:aws:s3:::other-bucket/*"),
     "Resource"),
    (stmt("Deny", "*", "s3:PutBucketTagging", R), "Action"),
    (stmt("Deny", "*", "s3:GetObject", R,
          condition={"NumericLessThan": {"s3:max-keys": "10"}}),
     "Condition.NumericLessThan"),
    (stmt("Deny", "*", "s3:GetObject", R,
          condition={"IpAddress": {"aws:Referer": "x"}}),
     "Condition.IpAddress.aws:Referer"),
    (stmt("Deny", {"AWS": "nobody-at-all"}, "s3:GetObject", R),
     "Principal"),
    (stmt("Deny", {"Federated": "x"}, "s3:GetObject", R),
     "Principal.Federated"),
]


@pytest.mark.parametrize("s,elem", UNMAPPABLE,
                         ids=[u[1] for u in UNMAPPABLE])
def test_unmappable_elements_are_refused_naming_them(server, w, s, elem):
    with pytest.raises(ClientError) as e:
        w.owner.put_bucket_policy(Bucket=w.bucket, Policy=doc(s))
    assert code_of(e) == "MalformedPolicy"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Statement[0]." + elem in msg_of(e), msg_of(e)
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    rec = last(server, lambda r: r.get("request_id") == rid)
    assert rec["action"] == "policy:set" and rec["status"] == 400
    with pytest.raises(ClientError) as e:
        w.owner.get_bucket_policy(Bucket=w.bucket)
    assert code_of(e) == "NoSuchBucketPolicy"


def test_oversized_and_garbled_json_is_refused(server, w):
    big = doc(*[stmt("Deny", "*", "s3:GetObject",
                     "arn:aws:s3:::bp-data/k%05d/*" % i)
                for i in range(60)])
    big = big[:-2] + " " * (21 * 1024) + big[-2:]
    for text in (big, '{"Statement": [', "\x00\x01", "[]",
                 '{"Statement": {"Effect": "Deny", "Effect": "Allow"}}'):
        with pytest.raises(ClientError) as e:
            w.owner.put_bucket_policy(Bucket=w.bucket, Policy=text)
        assert code_of(e) == "MalformedPolicy", text[:40]
    rec = last(server, lambda r: r["action"] == "policy:set")
    assert rec["status"] == 400


def test_a_bucket_policy_grants_nothing_beyond_the_bucket(server, w):
    # s3:* compiles to the namespace's data actions only; the set is
    # confined to the namespace like any owner's.
    set_with_mfa(server, w.bucket, doc(stmt(
        "Allow", {"AWS": "bp-guest"}, "s3:*",
        ["arn:aws:s3:::bp-data", "arn:aws:s3:::bp-data/*"])))
    r = server.get("/v1/policies/%s?ns=%s" % (NAME, w.bucket))
    text = r.json()["text"]
    acts = {a for a in ("object:get", "object:head", "object:put",
                        "object:delete", "object:list", "object:versions",
                        "ns:get") if '"%s"' % a in text}
    assert len(acts) == 7
    for a in ("policy:", "binding:", "ns:delete", "ns:create"):
        assert '"' + a not in text
    assert 'resource in Namespace::"bp-data"' in text
    # The guest can read this bucket and nothing else.
    server.mkns("bp-other")
    with pytest.raises(ClientError) as e:
        w.guest.list_objects_v2(Bucket="bp-other")
    assert code_of(e) == "AccessDenied"
    # And cannot administer the bucket's policy.
    with pytest.raises(ClientError) as e:
        w.guest.get_bucket_policy(Bucket=w.bucket)
    assert code_of(e) == "AccessDenied"


def test_a_reader_cannot_write_the_policy(server, w):
    with pytest.raises(ClientError) as e:
        w.reader.put_bucket_policy(Bucket=w.bucket, Policy=doc(DENY_SECRET))
    assert code_of(e) == "AccessDenied"
    rec = last(server, lambda r: r["action"] == "policy:set")
    assert rec["decision"] == "deny" and rec["principal"] == "bp-reader"
    with pytest.raises(ClientError) as e:
        w.owner.put_bucket_policy(Bucket="bp-nosuch",
                                  Policy=doc(DENY_SECRET))
    assert code_of(e) in ("NoSuchBucket", "AccessDenied")


@pytest.mark.skipif(AWS is None, reason="awscli not installed "
                    "(scripts/deps.sh installs it)")
def test_awscli_put_get_delete_bucket_policy(server, w, tmp_path):
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": w.owner_key["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": w.owner_key["secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CA_BUNDLE": server.ca,
        "AWS_CONFIG_FILE": str(tmp_path / "cfg"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "creds"),
        "HOME": str(tmp_path)})

    def aws(*args):
        return subprocess.run([AWS, "--endpoint-url", server.url, "s3api"] +
                              list(args), env=env, capture_output=True,
                              text=True, timeout=120)

    pol = tmp_path / "p.json"
    pol.write_text(doc(DENY_SECRET))
    p = aws("put-bucket-policy", "--bucket", w.bucket, "--policy",
            "file://" + str(pol))
    assert p.returncode == 0, p.stderr
    p = aws("get-bucket-policy", "--bucket", w.bucket)
    assert p.returncode == 0, p.stderr
    assert json.loads(json.loads(p.stdout)["Policy"]) == \
        json.loads(doc(DENY_SECRET))
    with pytest.raises(ClientError) as e:
        w.reader.get_object(Bucket=w.bucket, Key="secret/a.txt")
    assert code_of(e) == "AccessDenied"
    bad = tmp_path / "bad.json"
    bad.write_text(doc({"Effect": "Deny", "NotPrincipal": "*",
                        "Action": "s3:GetObject", "Resource": R}))
    p = aws("put-bucket-policy", "--bucket", w.bucket, "--policy",
            "file://" + str(bad))
    assert p.returncode != 0
    assert "MalformedPolicy" in p.stderr and "NotPrincipal" in p.stderr
    # Removing the Deny widens access: refused without MFA.
    p = aws("delete-bucket-policy", "--bucket", w.bucket)
    assert p.returncode != 0 and "AccessDenied" in p.stderr


# ---- ACLs ----

def test_acl_answers_are_owner_only(server, w):
    acl = w.reader.get_bucket_acl(Bucket=w.bucket)
    assert acl["Owner"]["ID"] == "admin"
    assert len(acl["Grants"]) == 1
    g = acl["Grants"][0]
    assert g["Permission"] == "FULL_CONTROL"
    assert g["Grantee"]["ID"] == "admin"
    assert g["Grantee"]["Type"] == "CanonicalUser"
    acl = w.reader.get_object_acl(Bucket=w.bucket, Key="public/b.txt")
    assert acl["Owner"]["ID"] == "admin"
    assert [x["Permission"] for x in acl["Grants"]] == ["FULL_CONTROL"]
    with pytest.raises(ClientError) as e:
        w.reader.get_object_acl(Bucket=w.bucket, Key="no/such")
    assert code_of(e) == "NoSuchKey"
    # A guest without a role learns nothing.
    with pytest.raises(ClientError) as e:
        w.guest.get_bucket_acl(Bucket=w.bucket)
    assert code_of(e) == "AccessDenied"


def test_only_the_private_acl_is_accepted(server, w):
    w.owner.put_bucket_acl(Bucket=w.bucket, ACL="private")
    w.owner.put_object_acl(Bucket=w.bucket, Key="public/b.txt",
                           ACL="private")
    for kw in ({"ACL": "public-read"}, {"ACL": "authenticated-read"},
               {"GrantRead": "uri=http://acs.amazonaws.com/groups/global/"
                             "AllUsers"}):
        with pytest.raises(ClientError) as e:
            w.owner.put_bucket_acl(Bucket=w.bucket, **kw)
        assert code_of(e) == "AccessDenied", kw
        rid = e.value.response["ResponseMetadata"]["RequestId"]
        rec = last(server, lambda r: r.get("request_id") == rid)
        assert rec["decision"] == "deny" and rec["action"] == "policy:get"
        with pytest.raises(ClientError) as e:
            w.owner.put_object_acl(Bucket=w.bucket, Key="public/b.txt",
                                   **kw)
        assert code_of(e) == "AccessDenied", kw
    owner = {"ID": "admin", "DisplayName": "admin"}
    mine = {"Owner": owner, "Grants": [
        {"Grantee": dict(owner, Type="CanonicalUser"),
         "Permission": "FULL_CONTROL"}]}
    w.owner.put_object_acl(Bucket=w.bucket, Key="public/b.txt",
                           AccessControlPolicy=mine)
    for extra in ({"Grantee": {"Type": "CanonicalUser", "ID": "bp-guest"},
                   "Permission": "READ"},
                  {"Grantee": {"Type": "Group", "URI": "http://acs."
                               "amazonaws.com/groups/global/AllUsers"},
                   "Permission": "READ"}):
        other = {"Owner": owner, "Grants": mine["Grants"] + [extra]}
        with pytest.raises(ClientError) as e:
            w.owner.put_object_acl(Bucket=w.bucket, Key="public/b.txt",
                                   AccessControlPolicy=other)
        assert code_of(e) == "AccessDenied"
        rec = last(server, lambda r: r["action"] == "object:put")
        assert rec["decision"] == "deny"
    # A reader may read the ACL but not restate it.
    with pytest.raises(ClientError) as e:
        w.reader.put_object_acl(Bucket=w.bucket, Key="public/b.txt",
                                ACL="private")
    assert code_of(e) == "AccessDenied"


def test_anonymous_policy_and_acl_requests_are_refused(server, w):
    for path in ("/bp-data?policy", "/bp-data?acl",
                 "/bp-data/public/b.txt?acl"):
        for method in ("GET", "PUT", "DELETE"):
            r = requests.request(method, server.url + path, verify=server.ca,
                                 data=b"{}" if method == "PUT" else None,
                                 timeout=30)
            assert r.status_code in (403, 501), (method, path, r.text)
            if r.status_code == 403:
                assert "<Code>AccessDenied</Code>" in r.text
    r = requests.get(server.url + "/bp-data?policy", verify=server.ca,
                     timeout=30)
    assert r.status_code == 403
    rec = last(server, lambda r: r.get("authn") in (None, "none") and
               r["decision"] == "deny")
    assert rec is not None


def test_policy_api_compiles_the_reserved_name(server, w, cli, tmp_path):
    # Through the policy API too, what does not map is refused, named,
    # recorded, and nothing is stored.
    bad = doc({"Effect": "Deny", "Principal": "*", "NotAction": "s3:*",
               "Resource": R})
    r = server.req("PUT", "/v1/policies/" + NAME,
                   json={"ns": w.bucket, "text": bad})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "malformed_policy"
    assert "Statement[0].NotAction" in r.json()["error"]["message"]
    rec = last(server, lambda x: x["action"] == "policy:set")
    assert rec["status"] == 400
    assert server.get("/v1/policies/%s?ns=%s" % (NAME, w.bucket)
                      ).status_code == 404
    f = tmp_path / "bad.json"
    f.write_text(bad)
    p = cli("policy", "set", NAME, "--ns", w.bucket, "--file", f)
    assert p.returncode != 0 and "NotAction" in p.stderr
    # A bucket policy is a namespace's: never global.
    r = server.req("PUT", "/v1/policies/" + NAME,
                   json={"text": doc(DENY_SECRET)})
    assert r.status_code == 400, r.text

"""S3 upload bodies (docs/s3.md, "Payloads"): aws-chunked framing in
every STREAMING-* mode, chunk and trailer signatures, trailer and header
checksums, Content-MD5, and bodies whose framing lies.  The requests are
built and signed by hand (Debian's botocore sends none of these forms);
nothing may be stored when any check fails."""

import base64
import datetime
import hashlib
import hmac
import os
import urllib.parse
import zlib

import pytest
import requests

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from conftest import s3_client  # noqa: E402

EMPTY = hashlib.sha256(b"").hexdigest()
BUCKET = "s3-chunk"


def _crc_table(poly, width):
    tab = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        tab.append(c)
    return tab


_C32C = _crc_table(0x82F63B78, 32)
_C64 = _crc_table(0x9A6C9329AC4BC9B5, 64)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ _C32C[(c ^ b) & 0xFF]
    return (c ^ 0xFFFFFFFF).to_bytes(4, "big")


def crc64nvme(data):
    c = 0xFFFFFFFFFFFFFFFF
    for b in data:
        c = (c >> 8) ^ _C64[(c ^ b) & 0xFF]
    return (c ^ 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")


def checksum(alg, data):
    raw = {
        "crc32": lambda d: zlib.crc32(d).to_bytes(4, "big"),
        "crc32c": crc32c, "crc64nvme": crc64nvme,
        "sha1": lambda d: hashlib.sha1(d).digest(),
        "sha256": lambda d: hashlib.sha256(d).digest(),
    }[alg](data)
    return base64.b64encode(raw).decode()


def _hm(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256)


class Signer:
    def __init__(self, server, key):
        self.server = server
        self.ak = key["access_key_id"]
        self.sk = key["secret_access_key"]
        self.host = urllib.parse.urlsplit(server.url).netloc

    def skey(self, date):
        k = _hm(("AWS4" + self.sk).encode(), date).digest()
        for part in ("us-east-1", "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        return k

    def sign(self, method, path, headers, payload, query=""):
        """Headers (a dict) get x-amz-date, x-amz-content-sha256 and
        Authorization; every header given is signed.  Returns the seed
        signature and the signing context for chunk signatures."""
        amz = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y%m%dT%H%M%SZ")
        date = amz[:8]
        headers["x-amz-date"] = amz
        headers["x-amz-content-sha256"] = payload
        h = {k.lower(): str(v).strip() for k, v in headers.items()}
        h["host"] = self.host
        names = sorted(h)
        cr = "\n".join([method, urllib.parse.quote(path, safe="/-_.~"),
                        query] + ["%s:%s" % (n, h[n]) for n in names] +
                       ["", ";".join(names), payload])
        scope = "%s/us-east-1/s3/aws4_request" % date
        sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                         hashlib.sha256(cr.encode()).hexdigest()])
        k = self.skey(date)
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (
            "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
            "Signature=%s" % (self.ak, scope, ";".join(names), sig))
        return {"key": k, "amz": amz, "scope": scope, "prev": sig}

    @staticmethod
    def chunk_sig(ctx, data, trailer=False):
        if trailer:
            sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", ctx["amz"],
                             ctx["scope"], ctx["prev"],
                             hashlib.sha256(data).hexdigest()])
        else:
            sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", ctx["amz"],
                             ctx["scope"], ctx["prev"], EMPTY,
                             hashlib.sha256(data).hexdigest()])
        sig = hmac.new(ctx["key"], sts.encode(), hashlib.sha256).hexdigest()
        ctx["prev"] = sig
        return sig


def frame(data, size=65536, ctx=None, trailer=None, bad_chunk=None,
          bad_trailer_sig=False):
    """aws-chunked framing of data: signed chunks if ctx, then the final
    chunk, the trailer (name, value) and, signed, its signature."""
    out = b""
    chunks = [data[i:i + size] for i in range(0, len(data), size)] + [b""]
    for n, c in enumerate(chunks):
        ext = b""
        if ctx is not None:
            sig = Signer.chunk_sig(ctx, c)
            if n == bad_chunk:
                sig = "0" * 64
            ext = b";chunk-signature=" + sig.encode()
        out += b"%x" % len(c) + ext + b"\r\n" + c
        if c:
            out += b"\r\n"
    if trailer is not None:
        line = ("%s:%s" % trailer).encode()
        out += line + b"\r\n"
        if ctx is not None:
            sig = Signer.chunk_sig(ctx, line + b"\n", trailer=True)
            if bad_trailer_sig:
                sig = "f" * 64
            out += b"x-amz-trailer-signature:" + sig.encode() + b"\r\n"
    out += b"\r\n"
    return out


def gen(body, piece=7000):
    """A body streamed in pieces: HTTP chunked, no Content-Length."""
    for i in range(0, len(body), piece):
        yield body[i:i + piece]


@pytest.fixture(scope="module")
def s3(server, key):
    c = s3_client(server, key)
    c.create_bucket(Bucket=BUCKET)
    return c


@pytest.fixture(scope="module")
def signer(server, key):
    return Signer(server, key)


def put(server, signer, key, body, payload, headers=None, chunked=True,
        sign_ctx=None):
    path = "/%s/%s" % (BUCKET, key)
    h = dict(headers or {})
    ctx = signer.sign("PUT", path, h, payload)
    if sign_ctx is not None:
        sign_ctx.update(ctx)
    data = body(ctx) if callable(body) else body
    return requests.put(server.url + path, headers=h,
                        data=gen(data) if chunked else data,
                        verify=server.ca, timeout=60)


def stored(s3, key):
    try:
        s3.head_object(Bucket=BUCKET, Key=key)
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] in ("404", "NoSuchKey")
        return False


def streaming_headers(n, trailer="x-amz-checksum-crc32", enc="aws-chunked"):
    h = {"Content-Encoding": enc, "x-amz-decoded-content-length": str(n)}
    if trailer is not None:
        h["x-amz-trailer"] = trailer
    return h


def test_unsigned_trailer_crc32_like_modern_boto3(server, s3, signer):
    data = os.urandom(200 * 1024 + 5)
    body = frame(data, trailer=("x-amz-checksum-crc32",
                                checksum("crc32", data)))
    r = put(server, signer, "u/crc32.bin", body,
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            streaming_headers(len(data), enc="gzip,aws-chunked"))
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    assert r.headers["x-amz-checksum-crc32"] == checksum("crc32", data)
    got = s3.get_object(Bucket=BUCKET, Key="u/crc32.bin")
    assert got["Body"].read() == data
    # The framing is gone from the stored Content-Encoding; the rest is
    # stored and echoed, never applied.
    assert got["ContentEncoding"] == "gzip"


@pytest.mark.parametrize("alg", ["crc32c", "crc64nvme", "sha1", "sha256"])
def test_unsigned_trailer_other_checksums(server, s3, signer, alg):
    data = os.urandom(70000)
    name = "x-amz-checksum-" + alg
    body = frame(data, size=8192, trailer=(name, checksum(alg, data)))
    r = put(server, signer, "u/" + alg, body,
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            streaming_headers(len(data), trailer=name))
    assert r.status_code == 200, r.text
    got = s3.get_object(Bucket=BUCKET, Key="u/" + alg)
    assert got["Body"].read() == data
    assert "ContentEncoding" not in got


def test_wrong_trailer_checksum_stores_nothing(server, s3, signer):
    data = os.urandom(100000)
    body = frame(data, trailer=("x-amz-checksum-crc32",
                                checksum("crc32", data + b"x")))
    r = put(server, signer, "u/badsum", body,
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            streaming_headers(len(data)))
    assert r.status_code == 400, r.text
    assert "<Code>BadDigest</Code>" in r.text
    assert not stored(s3, "u/badsum")
    recs = [x for x in server.audit_records()
            if x.get("request_id") == r.headers["x-amz-request-id"]]
    assert recs and recs[-1]["action"] == "object:put"


@pytest.mark.parametrize("how", ["short", "long", "garbled", "decoded",
                                 "no-trailer", "truncated"])
def test_chunk_sizes_that_lie_store_nothing(server, s3, signer, how):
    data = os.urandom(50000)
    trailer = ("x-amz-checksum-crc32", checksum("crc32", data))
    good = frame(data, size=20000, trailer=trailer)
    n = len(data)
    if how == "short":      # says more than it carries
        body = good.replace(b"4e20\r\n", b"4e30\r\n", 1)
    elif how == "long":     # says less than it carries
        body = good.replace(b"4e20\r\n", b"4e10\r\n", 1)
    elif how == "garbled":
        body = good.replace(b"4e20\r\n", b"zz\r\n", 1)
    elif how == "decoded":  # x-amz-decoded-content-length lies
        body = good
        n = len(data) + 1
    elif how == "no-trailer":
        body = frame(data, size=20000)
    else:
        body = good[:len(good) // 2]
    r = put(server, signer, "u/lie-" + how, body,
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER", streaming_headers(n))
    assert r.status_code == 400, r.text
    assert "<Code>IncompleteBody</Code>" in r.text or \
        "<Code>InvalidRequest</Code>" in r.text, r.text
    assert not stored(s3, "u/lie-" + how)


def test_signed_chunks(server, s3, signer):
    data = os.urandom(3 * 65536 + 100)
    r = put(server, signer, "s/ok", lambda ctx: frame(data, ctx=ctx),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            streaming_headers(len(data), trailer=None))
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=BUCKET, Key="s/ok")["Body"].read() == data


@pytest.mark.parametrize("bad", [0, 3])
def test_signed_chunk_with_a_wrong_signature_stores_nothing(
        server, s3, signer, bad):
    data = os.urandom(3 * 65536 + 100)
    r = put(server, signer, "s/bad%d" % bad,
            lambda ctx: frame(data, ctx=ctx, bad_chunk=bad),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            streaming_headers(len(data), trailer=None))
    assert r.status_code == 403, r.text
    assert "<Code>SignatureDoesNotMatch</Code>" in r.text
    assert not stored(s3, "s/bad%d" % bad)


def test_signed_chunks_with_trailer(server, s3, signer):
    data = os.urandom(100000)
    tr = ("x-amz-checksum-sha256", checksum("sha256", data))
    r = put(server, signer, "st/ok", lambda ctx: frame(data, ctx=ctx,
                                                       trailer=tr),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            streaming_headers(len(data), trailer=tr[0]))
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=BUCKET, Key="st/ok")["Body"].read() == data
    r = put(server, signer, "st/bad",
            lambda ctx: frame(data, ctx=ctx, trailer=tr,
                              bad_trailer_sig=True),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            streaming_headers(len(data), trailer=tr[0]))
    assert r.status_code == 403, r.text
    assert not stored(s3, "st/bad")


def test_aws_chunked_without_streaming_payload_refused(server, s3, signer):
    r = put(server, signer, "u/plain-ac", b"abc", "UNSIGNED-PAYLOAD",
            {"Content-Encoding": "aws-chunked"}, chunked=False)
    assert r.status_code == 400, r.text
    assert not stored(s3, "u/plain-ac")


@pytest.mark.parametrize("alg", ["crc32", "sha256", "crc32c"])
def test_plain_put_checksum_headers(server, s3, signer, alg):
    data = os.urandom(30000)
    hdr = {"x-amz-checksum-" + alg: checksum(alg, data),
           "x-amz-sdk-checksum-algorithm": alg.upper()}
    r = put(server, signer, "p/" + alg, data, "UNSIGNED-PAYLOAD", hdr,
            chunked=False)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=BUCKET, Key="p/" + alg)["Body"].read() == \
        data
    hdr = {"x-amz-checksum-" + alg: checksum(alg, data[1:])}
    r = put(server, signer, "p/bad-" + alg, data, "UNSIGNED-PAYLOAD", hdr,
            chunked=False)
    assert r.status_code == 400, r.text
    assert "<Code>BadDigest</Code>" in r.text
    assert not stored(s3, "p/bad-" + alg)


def test_plain_put_content_md5_and_sha256(server, s3, signer):
    data = b"hello world"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    r = put(server, signer, "p/md5", data, "UNSIGNED-PAYLOAD",
            {"Content-MD5": md5}, chunked=False)
    assert r.status_code == 200, r.text
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    r = put(server, signer, "p/md5-bad", data, "UNSIGNED-PAYLOAD",
            {"Content-MD5": bad}, chunked=False)
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text
    r = put(server, signer, "p/sha-bad", data,
            hashlib.sha256(b"other").hexdigest(), chunked=False)
    assert r.status_code == 400
    assert "<Code>XAmzContentSHA256Mismatch</Code>" in r.text
    assert not stored(s3, "p/md5-bad") and not stored(s3, "p/sha-bad")

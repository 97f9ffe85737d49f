"""Encryption at rest and tamper detection on the blob files.

Blob layout (src/crypto/aead.h): a 16-byte header, then chunks of 65536
plaintext bytes, each followed by a 16-byte GCM tag."""

import os

import pytest
import requests

from conftest import EXIT_INTEGRITY, obj_path, sha256

NS = "integrity-e2e"
HDR = 16
CHUNK = 65536
TAG = 16
MARKER = b"COFFER-E2E-PLAINTEXT-MARKER:"


@pytest.fixture(scope="module")
def ns(server):
    server.mkns(NS)
    return NS


def put_blob(server, key, data):
    """PUT data and return the path of the one new blob file."""
    before = set(server.blob_files())
    r = server.put_obj(NS, key, data)
    assert r.status_code == 201, r.text
    new = sorted(set(server.blob_files()) - before)
    assert len(new) == 1, new
    return r.json(), new[0]


def fetch(server, key, **kw):
    """GET; return (status, body bytes received, error-or-None)."""
    # A connection of its own: a cut one must not go back to the pool.
    headers = {"Authorization": "Bearer " + server.admin_token}
    headers.update(kw.pop("headers", {}))
    with requests.Session() as s:
        try:
            r = s.get(server.url + obj_path(NS, key), headers=headers,
                      verify=server.ca, stream=True, timeout=60, **kw)
        except requests.RequestException as e:
            return None, b"", e
        body = b""
        try:
            for chunk in r.iter_content(8192):
                body += chunk
        except requests.RequestException as e:
            return r.status_code, body, e
        return r.status_code, body, None


def assert_integrity_error(server, key, plaintext, **kw):
    """The download must fail: 500 integrity_error before anything was
    sent, or a cut connection, and never a byte that is not a prefix of
    authenticated plaintext."""
    status, body, err = fetch(server, key, **kw)
    if status == 500:
        j = __import__("json").loads(body)
        assert j["error"]["code"] == "integrity_error", j
        assert plaintext[:16] not in body
        return "500"
    assert status in (200, 206, None), status
    # Cut short: a strict prefix of the plaintext, never all of it.
    assert err is not None or len(body) < len(plaintext), \
        "tampered object served in full"
    assert len(body) < len(plaintext)
    return "cut"


def test_plaintext_never_on_disk(server, ns):
    data = (MARKER * (1 + (1 << 20) // len(MARKER)))[:1 << 20]
    put_blob(server, "secret/plain", data)
    assert server.get_obj(NS, "secret/plain").content == data
    # Also through a multi-part upload and as a small object.
    server.put_obj(NS, "secret/small", MARKER + b"small")

    def scan():
        hits = []
        for root, dirs, files in os.walk(server.data):
            for f in files:
                p = os.path.join(root, f)
                try:
                    with open(p, "rb") as fh:
                        content = fh.read()
                except FileNotFoundError:
                    continue    # a temporary file renamed meanwhile
                    # (audit/checkpoint.tmp): its successor is scanned
                if MARKER in content or MARKER[:20] in content:
                    hits.append(p)
        return hits
    assert scan() == []
    # After a restart (SQLite checkpointed, audit flushed) as well.
    server.restart()
    assert scan() == []
    assert server.get_obj(NS, "secret/plain").content == data


def test_blob_size_is_ciphertext_layout(server, ns):
    data = os.urandom(200 * 1024)
    _, blob = put_blob(server, "layout/200k", data)
    nchunks = -(-len(data) // CHUNK)
    assert os.path.getsize(blob) == HDR + len(data) + nchunks * TAG


def test_bit_flip_single_chunk(server, ns):
    data = MARKER * 100
    _, blob = put_blob(server, "tamper/flip", data)
    assert server.get_obj(NS, "tamper/flip").content == data
    with open(blob, "r+b") as f:
        f.seek(HDR + 10)
        b = f.read(1)
        f.seek(HDR + 10)
        f.write(bytes([b[0] ^ 0x01]))
    r = server.get_obj(NS, "tamper/flip")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "integrity_error"
    assert MARKER not in r.content
    # A range read of the same chunk fails too.
    r = server.get_obj(NS, "tamper/flip", headers={"Range": "bytes=0-3"})
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "integrity_error"
    assert server.alive()


def test_bit_flip_in_header(server, ns):
    data = b"header tamper " * 10
    _, blob = put_blob(server, "tamper/hdr", data)
    with open(blob, "r+b") as f:
        b = f.read(1)
        f.seek(0)
        f.write(bytes([b[0] ^ 0x80]))
    assert assert_integrity_error(server, "tamper/hdr", data) == "500"


def test_bit_flip_in_tag(server, ns):
    data = b"tag tamper " * 10
    _, blob = put_blob(server, "tamper/tag", data)
    size = os.path.getsize(blob)
    with open(blob, "r+b") as f:
        f.seek(size - 1)
        b = f.read(1)
        f.seek(size - 1)
        f.write(bytes([b[0] ^ 0x01]))
    assert assert_integrity_error(server, "tamper/tag", data) == "500"


@pytest.mark.parametrize("cut", [1, 65552])
def test_truncated_blob(server, ns, cut):
    data = os.urandom(200 * 1024)
    _, blob = put_blob(server, "tamper/trunc-%d" % cut, data)
    size = os.path.getsize(blob)
    os.truncate(blob, size - cut)
    assert_integrity_error(server, "tamper/trunc-%d" % cut, data)


def test_truncated_at_chunk_boundary_small_object(server, ns):
    # Two chunks; drop the whole last chunk exactly: the final-chunk flag
    # must catch what would otherwise be a valid-looking shorter blob.
    data = os.urandom(CHUNK + 100)
    _, blob = put_blob(server, "tamper/lastchunk", data)
    os.truncate(blob, HDR + CHUNK + TAG)
    assert_integrity_error(server, "tamper/lastchunk", data)


@pytest.mark.parametrize("extra", [b"\x00", os.urandom(65552)])
def test_appended_bytes(server, ns, extra):
    data = os.urandom(100 * 1024)
    key = "tamper/append-%d" % len(extra)
    _, blob = put_blob(server, key, data)
    with open(blob, "ab") as f:
        f.write(extra)
    status, body, err = fetch(server, key)
    # Either refused, or cut short; it must not pass as a good download.
    assert status == 500 or err is not None or len(body) < len(data), \
        (status, len(body), err)
    if status != 500:
        assert body == data[:len(body)]


def test_swapped_blobs_between_versions(server, ns):
    a = MARKER + b"A" * 5000
    b = MARKER + b"B" * 5000
    _, blob_a = put_blob(server, "tamper/swap", a)
    _, blob_b = put_blob(server, "tamper/swap", b)
    assert os.path.getsize(blob_a) == os.path.getsize(blob_b)
    ca = open(blob_a, "rb").read()
    cb = open(blob_b, "rb").read()
    open(blob_a, "wb").write(cb)
    open(blob_b, "wb").write(ca)
    vs = server.versions(NS, "tamper/swap")
    for v in vs:
        r = server.get_obj(NS, "tamper/swap",
                           params={"version": v["version_id"]})
        assert r.status_code == 500, (r.status_code, r.content[:40])
        assert r.json()["error"]["code"] == "integrity_error"


def test_swapped_blobs_between_keys(server, ns):
    a = b"first key  " * 500
    b = b"second key " * 500
    _, blob_a = put_blob(server, "tamper/swapk-a", a)
    _, blob_b = put_blob(server, "tamper/swapk-b", b)
    ca = open(blob_a, "rb").read()
    open(blob_a, "wb").write(open(blob_b, "rb").read())
    open(blob_b, "wb").write(ca)
    for k in ("tamper/swapk-a", "tamper/swapk-b"):
        r = server.get_obj(NS, k)
        assert r.status_code == 500
        assert r.json()["error"]["code"] == "integrity_error"


def test_missing_blob_file(server, ns):
    data = b"vanishing " * 10
    _, blob = put_blob(server, "tamper/missing", data)
    os.unlink(blob)
    r = server.get_obj(NS, "tamper/missing")
    assert r.status_code >= 500
    assert data not in r.content


def test_log_line_escapes_the_key(server, ns):
    """The server log's integrity_failure line names the key: a key with
    a double quote and an ESC byte must come out escaped (\\xHH), so it
    can neither end the quoted msg="..." value early nor send terminal
    control sequences."""
    key = 'tamper/inj" forged=yes \x1b[31mred'
    _, blob = put_blob(server, key, b"logged " * 10)
    os.unlink(blob)
    r = server.get_obj(NS, key)
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "integrity_error"
    rid = r.headers["X-Request-Id"]
    lines = [l for l in server.stderr().splitlines()
             if "event=integrity_failure" in l and rid in l]
    assert len(lines) == 1, server.stderr()[-2000:]
    line = lines[0]
    assert "\x1b" not in line
    assert '" forged=yes' not in line
    assert "tamper/inj\\x22 forged=yes \\x1b[31mred" in line, line
    assert line.endswith('"')
    assert line.count('"') == 2, line


def test_late_chunk_tamper_cuts_download(server, ns):
    data = os.urandom(5 * CHUNK + 1234)
    _, blob = put_blob(server, "tamper/late", data)
    off = HDR + 3 * (CHUNK + TAG) + 500          # inside chunk 3
    with open(blob, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x04]))
    status, body, err = fetch(server, "tamper/late")
    if status == 500:
        assert b"integrity_error" in body
    else:
        assert status == 200
        # At most the three good chunks, all authentic.
        assert len(body) <= 3 * CHUNK, len(body)
        assert body == data[:len(body)]
    # A range wholly before the bad chunk still reads.
    r = server.get_obj(NS, "tamper/late",
                       headers={"Range": "bytes=0-%d" % (CHUNK - 1)})
    assert r.status_code == 206 and r.content == data[:CHUNK]
    # A range inside the bad chunk fails.
    r = server.get_obj(NS, "tamper/late", headers={
        "Range": "bytes=%d-%d" % (3 * CHUNK + 10, 3 * CHUNK + 20)})
    assert r.status_code == 500


def test_late_chunk_tamper_cli_get_fails_without_output(server, ns, cli,
                                                       tmp_path):
    data = os.urandom(6 * CHUNK)
    _, blob = put_blob(server, "tamper/cli", data)
    off = HDR + 4 * (CHUNK + TAG) + 7
    with open(blob, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x10]))
    out = tmp_path / "out.bin"
    p = cli("get", NS + "/tamper/cli", str(out))
    assert p.returncode == EXIT_INTEGRITY, (p.returncode, p.stderr)
    assert not out.exists()
    assert os.listdir(tmp_path / "home") is not None
    leftovers = [f for f in os.listdir(tmp_path) if f.startswith("out")]
    assert leftovers == [], leftovers
    assert p.stderr.strip()
    # To stdout: exit code says integrity, even if bytes were written.
    p = cli("get", NS + "/tamper/cli", "-", text=False)
    assert p.returncode == EXIT_INTEGRITY
    assert len(p.stdout) < len(data)


def test_untampered_neighbours_still_read(server, ns):
    # Damage to one object must not affect another.
    data = b"neighbour " * 1000
    r = server.put_obj(NS, "tamper/ok", data)
    assert r.status_code == 201
    assert server.get_obj(NS, "tamper/ok").content == data
    assert server.get_obj(NS, "tamper/ok").headers["X-Coffer-SHA256"] == \
        sha256(data)


def read_ahead_count(server):
    text = server.get("/v1/metrics").text
    for line in text.splitlines():
        if line.startswith("coffer_downloads_read_ahead_total "):
            return int(line.split()[1])
    raise AssertionError("coffer_downloads_read_ahead_total missing")


def test_read_ahead_download_is_exact(server, ns):
    # A large download read in order is decrypted a block ahead on a
    # second thread (issue 15): the bytes are the same.
    data = os.urandom(3 * 1024 * 1024 + 777)
    put_blob(server, "ahead/good", data)
    before = read_ahead_count(server)
    status, body, err = fetch(server, "ahead/good")
    assert status == 200 and err is None
    assert body == data
    assert read_ahead_count(server) == before + 1
    # A range request that starts mid-object is read ahead too, exactly.
    r = server.get_obj(NS, "ahead/good",
                       headers={"Range": "bytes=100000-2999999"})
    assert r.status_code == 206 and r.content == data[100000:3000000]


def test_read_ahead_stops_at_a_tampered_chunk(server, ns):
    # SEC: the block read ahead is authenticated like any other: a bad
    # chunk far into the object cuts the download there, and nothing
    # after the last good chunk is sent.
    data = os.urandom(3 * 1024 * 1024)
    _, blob = put_blob(server, "ahead/late", data)
    bad = 40                                         # of 48 chunks
    off = HDR + bad * (CHUNK + TAG) + 100
    with open(blob, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x10]))
    before = read_ahead_count(server)
    status, body, err = fetch(server, "ahead/late")
    assert status == 200
    assert len(body) <= bad * CHUNK, len(body)
    assert body == data[:len(body)]
    assert read_ahead_count(server) == before + 1
    assert server.get("/v1/health").status_code == 200

"""Debian's s3cmd and rclone against Coffer's S3 endpoint over TLS
(docs/s3.md): each client's ordinary workflow (make a bucket, put and get
byte-exact, multipart, server-side copy, ls, sync twice, recursive
delete), with the configuration file the test writes as docs/s3.md
says."""

import hashlib
import os
import shutil
import subprocess
import urllib.parse

import pytest

MiB = 1024 * 1024
S3CMD = shutil.which("s3cmd")
RCLONE = shutil.which("rclone")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = digest(p)
    return out


def make_tree(root):
    files = {"a.txt": b"alpha\n", "sub/b.bin": os.urandom(70 * 1024),
             "sub/deeper/c d.bin": os.urandom(3000), "empty": b""}
    for name, data in files.items():
        p = os.path.join(root, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return tree(root)


def copied_server_side(server, src, dst):
    """Was dst written by a CopyObject of src (one request: object:get
    of the source, object:put of the target)?"""
    recs = server.audit_records()
    puts = {x["request_id"] for x in recs if x.get("action") ==
            "object:put" and x.get("resource") == dst and
            x.get("decision") == "allow"}
    return any(x.get("action") == "object:get" and x.get("resource") == src
               and x.get("request_id") in puts for x in recs)


def run(argv, timeout=300, env=None):
    p = subprocess.run(argv, capture_output=True, text=True,
                       timeout=timeout, env=env)
    assert p.returncode == 0, (argv[-2:], p.stdout[-2000:],
                               p.stderr[:3000])
    return p.stdout


@pytest.mark.skipif(S3CMD is None, reason="s3cmd not installed "
                    "(scripts/deps.sh)")
def test_s3cmd_workflow(server, key, tmp_path):
    host = urllib.parse.urlsplit(server.url).netloc
    cfg = tmp_path / "s3cfg"
    cfg.write_text(
        "[default]\n"
        "access_key = %s\nsecret_key = %s\n"
        "host_base = %s\nhost_bucket = %s\n"
        "use_https = True\nca_certs_file = %s\n"
        "check_ssl_certificate = True\nsignature_v2 = False\n"
        "bucket_location = us-east-1\n"
        % (key["access_key_id"], key["secret_access_key"], host, host,
           server.ca))

    def s3cmd(*args):
        return run([S3CMD, "-c", str(cfg), "--no-progress"] + list(args))

    s3cmd("mb", "s3://s3cmd-b")
    assert "s3://s3cmd-b" in s3cmd("ls")
    small = tmp_path / "small.bin"
    small.write_bytes(os.urandom(100 * 1024 + 7))
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(17 * MiB + 5))   # multipart at 15 MiB
    s3cmd("put", str(small), "s3://s3cmd-b/up/small.bin")
    s3cmd("put", str(big), "s3://s3cmd-b/up/big.bin")
    for name, src in (("small.bin", small), ("big.bin", big)):
        out = tmp_path / ("got-" + name)
        s3cmd("get", "s3://s3cmd-b/up/" + name, str(out))
        assert digest(out) == digest(src)
    # Server-side copy.
    s3cmd("cp", "s3://s3cmd-b/up/small.bin", "s3://s3cmd-b/cp/small.bin")
    assert copied_server_side(server, "ns/s3cmd-b/obj/up/small.bin",
                              "ns/s3cmd-b/obj/cp/small.bin")
    out = tmp_path / "got-copy"
    s3cmd("get", "s3://s3cmd-b/cp/small.bin", str(out))
    assert digest(out) == digest(small)
    listing = s3cmd("ls", "s3://s3cmd-b/up/")
    assert "up/small.bin" in listing and "up/big.bin" in listing
    assert "DIR" in s3cmd("ls", "s3://s3cmd-b/")
    # sync up twice: the second sends nothing; then down, byte-exact.
    src = tmp_path / "tree"
    want = make_tree(str(src))
    s3cmd("sync", str(src) + "/", "s3://s3cmd-b/sync/")
    second = s3cmd("sync", str(src) + "/", "s3://s3cmd-b/sync/")
    assert "upload:" not in second
    down = tmp_path / "down"
    down.mkdir()
    s3cmd("sync", "s3://s3cmd-b/sync/", str(down) + "/")
    assert tree(str(down)) == want
    s3cmd("del", "--recursive", "--force", "s3://s3cmd-b/")
    assert s3cmd("ls", "--recursive", "s3://s3cmd-b/").strip() == ""
    s3cmd("rb", "s3://s3cmd-b")


@pytest.mark.skipif(RCLONE is None, reason="rclone not installed "
                    "(scripts/deps.sh)")
def test_rclone_workflow(server, key, tmp_path):
    cfg = tmp_path / "rclone.conf"
    cfg.write_text(
        "[coffer]\ntype = s3\nprovider = Other\n"
        "access_key_id = %s\nsecret_access_key = %s\n"
        "endpoint = %s\nregion = us-east-1\nforce_path_style = true\n"
        % (key["access_key_id"], key["secret_access_key"], server.url))

    # rclone 1.60 cannot combine --ca-cert with AWS_CA_BUNDLE ("failed
    # to load custom CA bundle ... unsupported transport"): docs/s3.md.
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}

    def rclone(*args):
        return run(env=env, argv=[RCLONE, "--config", str(cfg), "--ca-cert", server.ca,
                    "--retries", "1", "--low-level-retries", "1",
                    "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"] +
                   list(args))

    rclone("mkdir", "coffer:rclone-b")
    assert "rclone-b" in rclone("lsd", "coffer:")
    small = tmp_path / "small.bin"
    small.write_bytes(os.urandom(200 * 1024 + 3))
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * MiB + 11))   # multipart, 5 MiB parts
    rclone("copyto", str(small), "coffer:rclone-b/up/small.bin")
    rclone("copyto", str(big), "coffer:rclone-b/up/big.bin")
    for name, src in (("small.bin", small), ("big.bin", big)):
        out = tmp_path / ("got-" + name)
        rclone("copyto", "coffer:rclone-b/up/" + name, str(out))
        assert digest(out) == digest(src)
    # Server-side copy.
    rclone("copyto", "coffer:rclone-b/up/small.bin",
           "coffer:rclone-b/cp/small.bin")
    assert copied_server_side(server, "ns/rclone-b/obj/up/small.bin",
                              "ns/rclone-b/obj/cp/small.bin")
    out = tmp_path / "got-copy"
    rclone("copyto", "coffer:rclone-b/cp/small.bin", str(out))
    assert digest(out) == digest(small)
    listing = rclone("ls", "coffer:rclone-b/up")
    assert "small.bin" in listing and "big.bin" in listing
    src = tmp_path / "tree"
    want = make_tree(str(src))
    rclone("sync", str(src), "coffer:rclone-b/sync")
    rclone("sync", str(src), "coffer:rclone-b/sync")
    # A second sync changes nothing: check agrees both ways.
    rclone("check", str(src), "coffer:rclone-b/sync")
    down = tmp_path / "down"
    rclone("sync", "coffer:rclone-b/sync", str(down))
    assert tree(str(down)) == want
    rclone("purge", "coffer:rclone-b")
    assert "rclone-b" not in rclone("lsd", "coffer:")

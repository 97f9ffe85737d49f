"""The coffer CLI against a real server: every command, --json, exit
codes, config file handling and safe directory pulls."""

import concurrent.futures
import filecmp
import json
import os
import pathlib
import re
import stat
import subprocess
import time

import pytest
import requests

from conftest import (COFFER_BIN, EXIT_AUTH, EXIT_CONFLICT, EXIT_DENIED,
                      EXIT_INPUT, EXIT_INTEGRITY, EXIT_NETWORK, EXIT_NOTFOUND,
                      EXIT_OK, EXIT_USAGE, Cli, obj_path, sha256)

NS = "cli-e2e"
ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ns(server):
    server.mkns(NS)
    return NS


def ok(p):
    """Success: exit 0 and, stderr not being a terminal, no progress bar
    or chatter on stderr."""
    assert p.returncode == EXIT_OK, (p.returncode, p.stdout, p.stderr)
    assert p.stderr in ("", b""), ("stderr not empty on success", p.stderr)
    return p


# ---- login and config ----

def logged_in(server, tmp_path):
    """A CLI with a private HOME, logged in as the bootstrap admin."""
    cli = Cli(server, tmp_path / "home")
    tokfile = tmp_path / "tok"
    tokfile.write_text(server.admin_token)
    ok(cli("login", "--server", server.url, "--token-file", str(tokfile),
           "--ca-cert", server.ca, with_server=False))
    return cli


def config_path(tmp_path):
    return tmp_path / "home" / ".config" / "coffer" / "config.json"


def test_login_writes_private_config(server, tmp_path):
    cli = Cli(server, tmp_path / "home")
    tokfile = tmp_path / "tok"
    tokfile.write_text(server.admin_token + "\n")
    p = cli("login", "--server", server.url, "--token-file", str(tokfile),
            "--ca-cert", server.ca, with_server=False)
    assert p.returncode == 0, p.stderr
    cfg = tmp_path / "home" / ".config" / "coffer" / "config.json"
    assert cfg.exists()
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o600
    j = json.loads(cfg.read_text())
    assert server.admin_token in json.dumps(j)
    # Later commands need nothing but the config file.
    p = ok(cli("whoami", "--json", with_server=False))
    assert json.loads(p.stdout)["principal"] == "admin"
    # The real user config was not touched.
    assert not (tmp_path / "home" / "coffer").exists()


def test_login_with_bad_token_saves_nothing(server, tmp_path):
    cli = Cli(server, tmp_path / "home")
    tokfile = tmp_path / "tok"
    tokfile.write_text("cft_not_a_real_token\n")
    p = cli("login", "--server", server.url, "--token-file", str(tokfile),
            "--ca-cert", server.ca, with_server=False)
    assert p.returncode == EXIT_AUTH, (p.returncode, p.stderr)
    cfg = tmp_path / "home" / ".config" / "coffer" / "config.json"
    assert not cfg.exists()


def test_login_without_ca_fails_tls(server, tmp_path):
    cli = Cli(server, tmp_path / "home")
    tokfile = tmp_path / "tok"
    tokfile.write_text(server.admin_token)
    p = cli("login", "--server", server.url, "--token-file", str(tokfile),
            with_server=False)
    assert p.returncode == EXIT_NETWORK, (p.returncode, p.stderr)


def test_no_config_is_usage_error(server, tmp_path):
    cli = Cli(server, tmp_path / "home")
    p = cli("ls", NS, with_server=False)
    assert p.returncode not in (0,)
    assert "login" in p.stderr


def test_unreachable_server_exit_code(server, tmp_path):
    cli = Cli(server, tmp_path / "home")
    p = cli("whoami", env={"COFFER_SERVER": "https://127.0.0.1:1"})
    assert p.returncode == EXIT_NETWORK


def test_unknown_command_and_option(cli):
    assert cli("frobnicate").returncode == EXIT_USAGE
    assert cli("ls", "--no-such-flag", NS).returncode == EXIT_USAGE
    p = cli("put", "--help")
    assert p.returncode == 0 and "usage" in p.stdout


def test_top_level_help_lists_every_documented_command(cli):
    """Every command docs/cli.md documents is named by `coffer --help`
    and answers its own --help."""
    doc = (ROOT / "docs" / "cli.md").read_text()
    names = set(re.findall(r"`coffer ([a-z][a-z-]*[a-z])", doc)) - {"server"}
    assert {"logout", "whoami", "user", "role", "mfa"} <= names
    top = cli("--help")
    assert top.returncode == 0
    listed = set(re.findall(r"[a-z][a-z-]*[a-z]", top.stdout))
    for name in sorted(names):
        assert name in listed, name
        p = cli(name, "--help")
        assert p.returncode == 0 and "usage" in p.stdout, (name, p.stderr)


# ---- namespaces ----

def test_ns_create_ls_rm(server, cli, uniq):
    name = uniq("clins")
    ok(cli("ns", "create", name, "--env", "staging"))
    assert server.get("/v1/ns/" + name).json()["env"] == "staging"
    p = ok(cli("ns", "ls"))
    assert name in p.stdout
    j = json.loads(ok(cli("ns", "ls", "--json")).stdout)
    names = [n["name"] for n in
             (j["namespaces"] if isinstance(j, dict) else j)]
    assert name in names
    assert cli("ns", "create", name).returncode == EXIT_CONFLICT
    ok(cli("put", name + "/k", "-", input="x"))
    assert cli("ns", "rm", name).returncode == EXIT_CONFLICT
    ok(cli("rm", name + "/k"))
    ok(cli("ns", "rm", name))
    assert server.get("/v1/ns/" + name).status_code == 404
    assert cli("ns", "rm", name).returncode == EXIT_NOTFOUND
    assert cli("ns", "create", "AB").returncode == EXIT_INPUT


def test_ns_create_json(cli, uniq):
    name = uniq("clijs")
    j = json.loads(ok(cli("ns", "create", name, "--json")).stdout)
    assert j["name"] == name and j["env"] == "dev"


# ---- objects ----

def test_put_get_file_and_stdout(server, cli, ns, tmp_path):
    src = tmp_path / "model.bin"
    data = os.urandom(300 * 1024)
    src.write_bytes(data)
    ok(cli("put", NS + "/models/m.bin", src, "--content-type",
           "application/x-model", "--meta", "stage=prod"))
    r = server.get_obj(NS, "models/m.bin")
    assert r.content == data
    assert r.headers["Content-Type"] == "application/x-model"
    assert r.headers["X-Coffer-Meta-Stage"] == "prod"
    out = tmp_path / "out.bin"
    ok(cli("get", NS + "/models/m.bin", out))
    assert out.read_bytes() == data
    p = cli("get", NS + "/models/m.bin", text=False)
    ok(p)
    assert p.stdout == data
    p = cli("get", NS + "/models/m.bin", "-", text=False)
    assert p.returncode == 0 and p.stdout == data
    # Into a directory: the last path component is the name.
    d = tmp_path / "dir"
    d.mkdir()
    ok(cli("get", NS + "/models/m.bin", d))
    assert (d / "m.bin").read_bytes() == data


def test_put_from_stdin_and_json(server, cli, ns):
    p = ok(cli("put", NS + "/stdin/k", "-", "--json", input="from stdin"))
    v = json.loads(p.stdout)
    assert v["size"] == 10 and v["sha256"] == sha256(b"from stdin")
    assert server.get_obj(NS, "stdin/k").content == b"from stdin"


def test_put_from_stdin_at_an_offset(server, cli, ns, tmp_path):
    # Standard input may be a file already partly read ("(head -c 10;
    # coffer put ns/k -) <file"): what is stored is the rest of it, from
    # the current offset, not a size taken from st_size.
    data = os.urandom((300 << 10) + 7)
    f = tmp_path / "offset.bin"
    f.write_bytes(data)
    for off in (12345, len(data), len(data) + 100):
        with open(f, "rb") as fh:
            fh.seek(off)
            p = subprocess.run(
                [COFFER_BIN, "put", "--json", NS + "/stdin/off", "-"],
                stdin=fh, capture_output=True, text=True, env=cli.env(),
                timeout=120)
        ok(p)
        rest = data[off:]
        v = json.loads(p.stdout)
        assert v["size"] == len(rest) and v["sha256"] == sha256(rest), off
        r = server.get_obj(NS, "stdin/off")
        assert r.content == rest, off
        assert r.headers["X-Coffer-SHA256"] == sha256(rest), off


def test_head_versions_rm_and_get_version(server, cli, ns, tmp_path):
    ok(cli("put", NS + "/hv/k", "-", input="one"))
    ok(cli("put", NS + "/hv/k", "-", input="two!"))
    j = json.loads(ok(cli("head", NS + "/hv/k", "--json")).stdout)
    assert j["size"] == 4 and j["sha256"] == sha256(b"two!")
    p = ok(cli("head", NS + "/hv/k"))
    assert sha256(b"two!") in p.stdout
    vs = json.loads(ok(cli("versions", NS + "/hv/k", "--json")).stdout)
    vs = vs["versions"] if isinstance(vs, dict) else vs
    assert [v["size"] for v in vs] == [4, 3]
    p = ok(cli("versions", NS + "/hv/k"))
    assert vs[0]["version_id"] in p.stdout and vs[1]["version_id"] in \
        p.stdout
    ok(cli("rm", NS + "/hv/k"))
    assert cli("get", NS + "/hv/k", tmp_path / "x").returncode == \
        EXIT_NOTFOUND
    assert not (tmp_path / "x").exists()
    assert cli("head", NS + "/hv/k").returncode == EXIT_NOTFOUND
    p = ok(cli("get", NS + "/hv/k", "--version", vs[1]["version_id"]))
    assert p.stdout == "one"
    vs2 = json.loads(ok(cli("versions", NS + "/hv/k", "--json")).stdout)
    vs2 = vs2["versions"] if isinstance(vs2, dict) else vs2
    assert vs2[0]["delete_marker"] is True and len(vs2) == 3


def test_ls(server, cli, ns):
    for k in ("ls/a/1", "ls/a/2", "ls/b", "ls/c/d/e"):
        assert server.put_obj(NS, k, b"z").status_code == 201
    p = ok(cli("ls", NS + "/ls/"))
    lines = p.stdout.splitlines()
    assert any("a/" in l and "PRE" in l for l in lines), p.stdout
    assert any(l.rstrip().endswith("ls/b") or l.rstrip().endswith(" b")
               for l in lines), p.stdout
    assert "ls/a/1" not in p.stdout
    p = ok(cli("ls", NS + "/ls/", "--recursive"))
    for k in ("ls/a/1", "ls/a/2", "ls/b", "ls/c/d/e"):
        assert k in p.stdout
    j = json.loads(ok(cli("ls", NS + "/ls/", "--recursive",
                          "--json")).stdout)
    assert sorted(o["key"] for o in j["objects"]) == \
        ["ls/a/1", "ls/a/2", "ls/b", "ls/c/d/e"]
    j = json.loads(ok(cli("ls", NS + "/ls/", "--json")).stdout)
    assert sorted(j["prefixes"]) == ["ls/a/", "ls/c/"]


def test_ls_follows_pagination(server, cli):
    name = "cli-many"
    server.mkns(name)
    # The server pages at 1000 at most: 1003 keys need two pages.
    keys = ["k%04d" % i for i in range(1003)]

    def put_some(ks):
        with requests.Session() as sess:
            for k in ks:
                r = sess.put(server.url + obj_path(name, k), data=b"",
                             verify=server.ca, timeout=60, headers={
                                 "Authorization": "Bearer " +
                                 server.admin_token})
                assert r.status_code == 201, r.text
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        for f in [ex.submit(put_some, keys[i::16]) for i in range(16)]:
            f.result()
    j = json.loads(ok(cli("ls", name, "--recursive", "--json")).stdout)
    assert [o["key"] for o in j["objects"]] == keys


def test_strange_key_via_cli(server, cli, ns, tmp_path):
    key = "sp ace/\u00fcml?#%/x"
    ok(cli("put", NS + "/" + key, "-", input="strange"))
    assert server.get_obj(NS, key).content == b"strange"
    p = ok(cli("get", NS + "/" + key))
    assert p.stdout == "strange"


def make_tree(root):
    files = {
        "config.json": b'{"layers": 12}',
        "weights/part-0.bin": os.urandom(200 * 1024),
        "weights/part-1.bin": os.urandom(70 * 1024),
        "weights/deep/er/nested.txt": b"nested\n",
        "tokenizer/vocab.txt": b"a\nb\nc\n",
        "empty.txt": b"",
        "sp ace/\u00fcn\u00efc\u00f6d\u00e9.txt": b"unicode name",
    }
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return files


def compare_trees(a, b):
    cmp = filecmp.dircmp(a, b)

    def walk(c):
        assert c.left_only == [] and c.right_only == [], \
            (c.left, c.left_only, c.right_only)
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right,
                                               c.common_files, shallow=False)
        assert mismatch == [] and errors == [], (mismatch, errors)
        for sub in c.subdirs.values():
            walk(sub)
    walk(cmp)


def test_push_pull_tree(server, cli, ns, tmp_path):
    src = tmp_path / "model"
    files = make_tree(src)
    ok(cli("push", NS + "/models/churn", src))
    for rel, data in files.items():
        r = server.get_obj(NS, "models/churn/" + rel)
        assert r.status_code == 200, rel
        assert r.content == data, rel
    dst = tmp_path / "pulled"
    ok(cli("pull", NS + "/models/churn", dst))
    compare_trees(src, dst)
    # Pull into an existing directory again: same result.
    ok(cli("pull", NS + "/models/churn/", dst))
    compare_trees(src, dst)
    j = ok(cli("push", NS + "/models/churn2", src, "--json"))
    json.loads(j.stdout.splitlines()[-1] if j.stdout.strip() else "{}")


def test_pull_refuses_escaping_keys(server, cli, ns, tmp_path):
    for k in ("m/good.txt", "m/../../evil", "m/sub/../../../evil2",
              "m//abs", "m/./dot"):
        assert server.put_obj(NS, k, b"payload " + k.encode()) \
            .status_code == 201
    work = tmp_path / "w"
    work.mkdir()
    dst = work / "a" / "b"
    p = cli("pull", NS + "/m", dst, cwd=work)
    assert p.returncode == EXIT_INPUT, (p.returncode, p.stdout, p.stderr)
    assert (dst / "good.txt").read_bytes() == b"payload m/good.txt"
    # Nothing was written anywhere outside dst.
    for root, dirs, fs in os.walk(tmp_path):
        for f in fs:
            full = os.path.join(root, f)
            if full.startswith(str(dst) + os.sep):
                continue
            assert "evil" not in f, full
            with open(full, "rb") as fh:
                assert b"payload m/" not in fh.read(), full
    assert not os.path.exists("/evil") and not os.path.exists("/evil2")
    assert p.stderr.strip()


def test_pull_does_not_follow_symlink(server, cli, ns, tmp_path):
    assert server.put_obj(NS, "sl/target", b"new").status_code == 201
    dst = tmp_path / "dst"
    dst.mkdir()
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    os.symlink(victim, dst / "target")
    p = cli("pull", NS + "/sl", dst)
    # SEC: the file the link points to is never written through it.
    assert victim.read_bytes() == b"keep me"
    if p.returncode == 0:
        # Replaced the link itself (rename over it), not its target.
        assert not os.path.islink(dst / "target")
        assert (dst / "target").read_bytes() == b"new"
    else:
        assert os.path.islink(dst / "target")


# ---- identities and access ----

def test_principal_token_grant_revoke(server, cli, ns, uniq, tmp_path):
    name = uniq("clip")
    ok(cli("principal", "create", name))
    j = json.loads(ok(cli("principal", "ls", "--json")).stdout)
    lst = j["principals"] if isinstance(j, dict) else j
    assert name in [x["name"] for x in lst]
    assert name in ok(cli("principal", "ls")).stdout
    svc = uniq("clisvc")
    j = json.loads(ok(cli("principal", "create", svc, "--service",
                          "--owner", "admin", "--json")).stdout)
    assert j["kind"] == "service"

    p = cli("token", "create", name, "--expires", "1h",
            "--description", "laptop")
    assert p.returncode == 0, p.stderr
    # stdout is the secret alone (scriptable); the notice goes to stderr.
    tok = p.stdout.strip()
    assert tok.startswith("cft_")
    j = json.loads(ok(cli("token", "create", name, "--json")).stdout)
    tok2, tok2_id = j["token"], j["id"]
    j = json.loads(ok(cli("token", "ls", "--principal", name,
                          "--json")).stdout)
    toks = j["tokens"] if isinstance(j, dict) else j
    assert len(toks) == 2
    assert tok not in json.dumps(j) and tok2 not in json.dumps(j)
    assert any(t["description"] == "laptop" for t in toks)

    # No rights yet.
    assert cli("get", NS + "/stdin/k", token=tok).returncode == EXIT_DENIED
    ok(cli("grant", "reader", name, "--ns", NS))
    p = ok(cli("get", NS + "/stdin/k", token=tok))
    assert p.stdout == "from stdin"
    p = cli("put", NS + "/ro/k", "-", input="x", token=tok)
    assert p.returncode == EXIT_DENIED
    assert p.stderr.strip()
    j = json.loads(ok(cli("whoami", "--json", token=tok)).stdout)
    assert {"role": "reader", "ns": NS} in j["bindings"]
    ok(cli("revoke", "reader", name, "--ns", NS))
    assert cli("get", NS + "/stdin/k", token=tok).returncode == EXIT_DENIED
    assert cli("revoke", "reader", name, "--ns", NS).returncode == \
        EXIT_NOTFOUND

    # A principal lists and revokes its own tokens.
    j = json.loads(ok(cli("token", "ls", "--json", token=tok)).stdout)
    toks = j["tokens"] if isinstance(j, dict) else j
    assert {t["principal"] for t in toks} == {name}
    ok(cli("token", "revoke", tok2_id, token=tok))
    assert cli("whoami", token=tok2).returncode == EXIT_AUTH
    assert cli("token", "revoke", "0" * 16).returncode == EXIT_NOTFOUND


def test_exit_codes(server, cli, ns, tmp_path):
    nobody = server.user("cli-nobody")
    assert cli("ls", NS, token="cft_garbage").returncode == EXIT_AUTH
    assert cli("ls", NS, token=nobody).returncode == EXIT_DENIED
    assert cli("get", NS + "/no/such/key").returncode == EXIT_NOTFOUND
    assert cli("ls", "no-such-ns-cli").returncode == EXIT_NOTFOUND
    assert cli("principal", "create", "cli-nobody").returncode == \
        EXIT_CONFLICT
    assert cli("principal", "ls", token=nobody).returncode == EXIT_DENIED
    p = cli("put", NS + "/k", tmp_path / "does-not-exist")
    assert p.returncode != 0 and p.stderr.strip()
    # The failing commands print one error line each on stderr.
    p = cli("get", NS + "/no/such/key")
    assert p.stdout == "" and "no_such_key" in p.stderr


def test_json_outputs_parse(server, cli, ns):
    server.put_obj(NS, "j/k", b"json")
    for args in (["whoami", "--json"], ["ns", "ls", "--json"],
                 ["ls", NS, "--json"], ["head", NS + "/j/k", "--json"],
                 ["versions", NS + "/j/k", "--json"],
                 ["principal", "ls", "--json"], ["token", "ls", "--json"],
                 ["rm", NS + "/j/k", "--json"]):
        p = ok(cli(*args))
        json.loads(p.stdout)
    p = ok(cli("audit", "tail", "-n", "3", "--json"))
    for line in p.stdout.splitlines():
        json.loads(line)


def test_large_transfer_quiet_stderr(server, cli, ns, tmp_path):
    src = tmp_path / "big"
    data = os.urandom(8 << 20)
    src.write_bytes(data)
    ok(cli("put", NS + "/big/8m", src))
    out = tmp_path / "big.out"
    ok(cli("get", NS + "/big/8m", out))
    assert out.read_bytes() == data


def test_cli_requests_are_audited(server, cli, ns):
    before = server.audit_count()
    ok(cli("whoami"))
    recs = server.audit_records()[before:]
    assert [r["action"] for r in recs] == ["whoami"]


def test_push_skips_symlinks(server, cli, ns, tmp_path):
    src = tmp_path / "tree"
    src.mkdir()
    (src / "real.txt").write_bytes(b"real")
    secret = tmp_path / "outside-secret"
    secret.write_bytes(b"do not upload me")
    os.symlink(secret, src / "link.txt")
    os.symlink("/etc", src / "etc-link")
    p = cli("push", NS + "/symtree", src)
    assert p.returncode == 0, p.stderr
    assert "link" in p.stderr          # the documented warning
    keys = [o["key"] for o in server.get(
        "/v1/ns/%s/objects" % NS, params={"prefix": "symtree/"}).json()[
        "objects"]]
    assert keys == ["symtree/real.txt"]


def test_group_readable_config_warns(server, tmp_path):
    cli = logged_in(server, tmp_path)
    cfg = config_path(tmp_path)
    os.chmod(cfg, 0o644)
    p = cli("whoami", with_server=False)
    assert p.returncode == 0
    assert p.stderr.strip(), "no warning for a group/world-readable config"


def test_env_overrides_config(server, tmp_path):
    cli = logged_in(server, tmp_path)
    p = cli("whoami", with_server=False, env={"COFFER_TOKEN": "cft_bogus"})
    assert p.returncode == EXIT_AUTH


def tree(d):
    """Every path below d, relative, hidden files included."""
    return sorted(os.path.relpath(os.path.join(r, n), d)
                  for r, ds, fs in os.walk(d) for n in ds + fs)


def test_get_into_missing_directory_fails_cleanly(server, cli, ns, tmp_path):
    # A missing local directory is a missing local path: exit 5, a message
    # naming it, and nothing (not even a temporary file) created.
    server.put_obj(NS, "gm/k", b"x")
    missing = tmp_path / "no" / "such" / "dir"
    (tmp_path / "afile").write_bytes(b"in the way")
    before = tree(tmp_path)
    for target, named in ((missing / "f", missing),
                          (str(missing) + "/", missing),
                          (tmp_path / "afile" / "f", tmp_path / "afile")):
        p = cli("get", NS + "/gm/k", target)
        assert p.returncode == EXIT_NOTFOUND, (target, p.returncode,
                                               p.stderr)
        assert p.stdout == "" and str(named) in p.stderr, p.stderr
        assert tree(tmp_path) == before
    assert (tmp_path / "afile").read_bytes() == b"in the way"


def test_missing_local_paths_exit_5(server, cli, ns, tmp_path):
    # put and push of a path that does not exist, pull into a path with a
    # file in the way: exit 5 naming the path, nothing created or sent.
    server.put_obj(NS, "ml/k", b"x")
    (tmp_path / "afile").write_bytes(b"in the way")
    before = tree(tmp_path)
    for args, named in (
            (("put", NS + "/ml/new", tmp_path / "nope"), tmp_path / "nope"),
            (("put", NS + "/ml/new", tmp_path / "afile" / "x"),
             tmp_path / "afile" / "x"),
            (("push", NS + "/ml/new", tmp_path / "nodir"),
             tmp_path / "nodir"),
            (("pull", NS + "/ml", tmp_path / "afile" / "sub"),
             tmp_path / "afile" / "sub"),
            (("pull", NS + "/ml", tmp_path / "afile"), tmp_path / "afile")):
        p = cli(*args)
        assert p.returncode == EXIT_NOTFOUND, (args, p.returncode, p.stderr)
        assert p.stdout == "" and str(named) in p.stderr, p.stderr
        assert tree(tmp_path) == before
    assert server.versions(NS, "ml/new") == []
    assert (tmp_path / "afile").read_bytes() == b"in the way"


def test_put_reads_once_and_sends_the_digest_last(server, cli, ns, tmp_path):
    # The file is read once: its digest ends the body (X-Coffer-SHA256:
    # trailing) and the server checks it before committing.  The audit
    # record shows the upload; the stored digest is the file's.
    data = os.urandom((5 << 20) + 3)
    f = tmp_path / "once.bin"
    f.write_bytes(data)
    v = json.loads(ok(cli("put", "--json", ns + "/once/x", f)).stdout)
    assert v["sha256"] == sha256(data) and v["size"] == len(data)
    assert server.get_obj(ns, "once/x").content == data
    # --one-pass is still accepted (it is the only way now).
    ok(cli("put", "--one-pass", ns + "/once/y", f))
    assert server.get_obj(ns, "once/y").content == data


def test_put_of_a_file_changed_meanwhile_stores_nothing(server, cli, ns,
                                                        tmp_path):
    # SEC: a file modified while it is sent could reach the server as a
    # mix of old and new bytes that its digest would vouch for; the CLI
    # sees the change at the end (size, mtime, ctime) and aborts, so the
    # server stores nothing.
    f = tmp_path / "moving.bin"
    with open(f, "wb") as fh:
        fh.truncate(256 << 20)      # sparse: cheap to create and read
    before = set(server.tmp_files())
    p = subprocess.Popen([COFFER_BIN, "put", ns + "/moving/x", str(f)],
                         env=cli.env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while set(server.tmp_files()) == before and p.poll() is None and \
            time.monotonic() < deadline:
        time.sleep(0.002)
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
    out, err = p.communicate(timeout=120)
    assert p.returncode == EXIT_INTEGRITY, (p.returncode, out, err)
    assert "changed while it was being sent" in err
    assert server.versions(ns, "moving/x") == []
    deadline = time.monotonic() + 10
    while server.tmp_files() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.tmp_files() == []


def test_config_server_without_scheme_is_refused(server, tmp_path):
    """A hand-edited server without https:// must not quietly become
    plain HTTP with the token on it: checked like --server."""
    cli = logged_in(server, tmp_path)
    cfg = config_path(tmp_path)
    j = json.loads(cfg.read_text())
    for bad in ("127.0.0.1:%d" % server.port, "HTTP://127.0.0.1:1"):
        j["server"] = bad
        cfg.write_text(json.dumps(j))
        os.chmod(cfg, 0o600)
        p = cli("whoami", with_server=False)
        assert p.returncode == EXIT_INPUT, (bad, p.returncode, p.stderr)
        assert "https://" in p.stderr


def test_hostile_server_text_is_sanitized(tmp_path):
    """What a server sends reaches the terminal without control bytes,
    and --json prints something even for a header that is not UTF-8."""
    import http.server
    import threading

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if "/versions/" in self.path:
                body = json.dumps({"versions": [{
                    "version_id": "v1\x1b[31m", "created": "x",
                    "created_by": "eve", "size": 1,
                    "sha256": "\x1b[31mEVIL", "latest": True}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_HEAD(self):
            self.send_response(200)
            self.send_header("Content-Length", "1")
            self.send_header("Content-Type", "text/\xffplain")
            self.send_header("X-Coffer-Version-Id", "v1")
            self.send_header("X-Coffer-SHA256", "a" * 64)
            self.end_headers()

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(
            tmp_path / ".config"), COFFER_SERVER="http://127.0.0.1:%d" %
            srv.server_port, COFFER_TOKEN="cft_x")
        p = subprocess.run([COFFER_BIN, "versions", "ns1/k"], env=env,
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        assert b"\x1b" not in p.stdout and b"EVIL" in p.stdout
        p = subprocess.run([COFFER_BIN, "head", "ns1/k", "--json"],
                           env=env, capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["content_type"] == "text/?plain"
    finally:
        srv.shutdown()

"""tests/e2e/test_docs.py: the first fifteen minutes, as the docs tell them.

Runs every ```sh block of README.md and then of docs/quickstart.md, in
order, one command (one logical line) at a time, the way a reader at one
terminal would: in a real /bin/sh, in one working folder, with a private
HOME, answering the password and code prompts on a pseudo-terminal (the
CLI reads them from /dev/tty).  Exported variables and the working folder
carry over from one command to the next, as in a terminal; aliases and
other shell-local state do not (a doc must not rely on them: readers paste
commands into scripts too).

Every command must exit 0.  Some outputs are checked as well: the login
saves the session, the enrollment removes the bootstrap file and leaves a
session with MFA, whoami says so, a pull reproduces exactly what was
pushed, a token handed to a colleague reads and does nothing else, and the
audit log verifies after the server has stopped.

The only liberties taken with the docs:

- `make run` is replaced by a server the test starts the way the Makefile's
  `run` target does (`coffer server --data coffer-data`, in the working
  folder), but on a free port: every `https://127.0.0.1:8443` in a command
  is replaced by that port's URL.  A second `make run` fails the test (the
  server is running already: the docs must not start it twice).
- `make test` is skipped (it runs this very suite).
- `./build/coffer` and `./build-release/coffer` (the Makefile's REL_BUILD,
  which `make run` serves) are the binary under test (symbolic links in
  TMP to $COFFER_BIN).
- `coffer audit verify` is run after stopping the server with SIGINT (the
  Ctrl-C the docs ask for); a later command that needs the server fails.
- A code prompt gets a TOTP code (RFC 6238) computed from the secret that
  `coffer mfa enroll` printed, one the server has not seen (Totp.fresh()).
"""

import errno
import fcntl
import hashlib
import json
import os
import re
import select
import shlex
import signal
import stat
import subprocess
import termios
import time

from conftest import (COFFER_BIN, HTTP_TIMEOUT, SANITIZER_MARKERS,
                      START_TIMEOUT, Server, Totp, sanitizer_env)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DOCS = ("README.md", os.path.join("docs", "quickstart.md"))
DOC_URL = "https://127.0.0.1:8443"
PASSWORD = "docs Amber lantern 47 rivers"
# One command's limit; a fresh TOTP code may wait up to one 30 s step.
CMD_TIMEOUT = max(HTTP_TIMEOUT, 90)

PROMPT_RE = re.compile(r"([^\n]*): $")
SECRET_RE = re.compile(r"secret:\s*([A-Z2-7]{16,})")


def sh_blocks(relpath):
    """The ```sh blocks of a Markdown file, each a list of logical lines
    (backslash continuations joined; blank and comment-only lines out)."""
    with open(os.path.join(ROOT, relpath)) as f:
        text = f.read()
    # A shell block under another name would escape this test.
    other = re.findall(r"^```(bash|shell|console|zsh|shell-session)\b",
                       text, re.M)
    assert not other, "%s: write shell blocks as ```sh, not %s" % (
        relpath, other)
    blocks = []
    for m in re.finditer(r"^```sh[ \t]*\n(.*?)^```[ \t]*$", text,
                         re.M | re.S):
        cmds, cur = [], ""
        for line in m.group(1).splitlines():
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            if cur.strip() and not cur.strip().startswith("#"):
                cmds.append(cur.strip())
            cur = ""
        assert not cur, "%s: a block ends in a backslash" % relpath
        blocks.append(cmds)
    return blocks


def makefile_var(name):
    with open(os.path.join(ROOT, "Makefile")) as f:
        for line in f:
            m = re.match(r"^%s\s*[?:]?=\s*(\S+)" % name, line)
            if m:
                return m.group(1)
    return None


def tree(d):
    """{relative path: sha256} of every regular file below d."""
    out = {}
    for root, _dirs, files in os.walk(d):
        for name in files:
            p = os.path.join(root, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, d)] = hashlib.sha256(
                    f.read()).hexdigest()
    return out


class Terminal:
    """One reader at one terminal: runs commands in /bin/sh on a
    pseudo-terminal, in `cwd`, keeping exported variables and the working
    folder from one command to the next."""

    def __init__(self, tmp_path):
        self.cwd = str(tmp_path / "term")
        self.state = str(tmp_path / "shell-state")
        for d in ("build", makefile_var("REL_BUILD")):
            os.makedirs(os.path.join(self.cwd, d))
            os.symlink(os.path.abspath(COFFER_BIN),
                       os.path.join(self.cwd, d, "coffer"))
        os.makedirs(self.state)
        # A reader's login shell: a private HOME (no XDG_CONFIG_HOME, so
        # the config is ~/.config/coffer/config.json as the docs say) and
        # nothing of the test's own environment.
        self.home = str(tmp_path / "home")
        os.makedirs(self.home)
        base = sanitizer_env({
            "HOME": self.home, "PATH": "/usr/local/bin:/usr/bin:/bin",
            "TERM": "dumb", "LANG": "C.UTF-8", "USER": "reader"})
        with open(os.path.join(self.state, "env"), "w") as f:
            for k, v in sorted(base.items()):
                if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k):
                    f.write("export %s=%s\n" % (k, shlex.quote(v)))
        with open(os.path.join(self.state, "pwd"), "w") as f:
            f.write(self.cwd + "\n")
        self.totp = None
        self.password = PASSWORD

    def answer(self, prompt):
        """The answer to a prompt, or None for a line that only looks like
        one (an unanswered real prompt ends as a hung command)."""
        p = prompt.lower()
        if "password" in p:
            return self.password
        if "code" in p:
            assert self.totp is not None, \
                "asked for a code before any enrollment: %r" % prompt
            return self.totp.fresh()
        return None

    def run(self, cmd):
        """Run one command line; return (exit status, terminal output)."""
        script = (
            '. "$CF_DOC_STATE/env"\n'
            'cd "$(cat "$CF_DOC_STATE/pwd")" || exit 99\n'
            + cmd + "\n"
            'cf_doc_rc=$?\n'
            'export -p > "$CF_DOC_STATE/env.new" && '
            'mv "$CF_DOC_STATE/env.new" "$CF_DOC_STATE/env"\n'
            'pwd > "$CF_DOC_STATE/pwd"\n'
            'exit $cf_doc_rc\n')
        env = {"CF_DOC_STATE": self.state, "PATH": "/usr/bin:/bin"}
        master, slave = os.openpty()

        def child():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        proc = subprocess.Popen(
            ["/bin/sh", "-c", script], stdin=slave, stdout=slave,
            stderr=slave, cwd=self.cwd, env=env, start_new_session=True,
            preexec_fn=child)
        os.close(slave)
        raw, out, seen = b"", "", 0
        deadline = time.monotonic() + CMD_TIMEOUT
        try:
            while True:
                if time.monotonic() > deadline:
                    os.killpg(proc.pid, signal.SIGKILL)
                    raise AssertionError("command hung: %s\n%s"
                                         % (cmd, out))
                r, _, _ = select.select([master], [], [], 0.2)
                if not r:
                    continue
                try:
                    data = os.read(master, 65536)
                except OSError as e:
                    if e.errno != errno.EIO:
                        raise
                    break       # every holder of the slave side is gone
                if not data:
                    break
                raw += data     # decoded whole: no UTF-8 split by reads
                out = raw.decode(errors="replace").replace("\r\n", "\n")
                m = SECRET_RE.search(out)
                if m and (self.totp is None or
                          self.totp.key != Totp(m.group(1)).key):
                    self.totp = Totp(m.group(1))    # a new enrollment
                m = PROMPT_RE.search(out, seen)
                reply = None
                if m and m.end() == len(out):
                    reply = self.answer(m.group(1))
                if reply is not None:
                    os.write(master, (reply + "\n").encode())
                    seen = len(out)
        finally:
            os.close(master)
        rc = proc.wait(timeout=START_TIMEOUT)
        for marker in SANITIZER_MARKERS:
            assert marker not in out, "sanitizer report:\n" + out
        return rc, out


class Walkthrough:
    """The server, the terminal and what the docs have done so far."""

    def __init__(self, tmp_path):
        self.term = Terminal(tmp_path)
        self.data = os.path.join(self.term.cwd, "coffer-data")
        self.server = Server(tmp_path / "srv")
        self.server.data = self.data
        self.server.auto_admin = False      # the docs do the bootstrap
        # The reader's HOME: the master key goes to ~/.config/coffer/keys
        # there, where the documented `coffer audit verify` finds it.
        self.server.env = {"HOME": self.term.home}
        self.started = False
        self.pushed = {}        # "ns/prefix" -> tree() of the pushed DIR
        self.grants = {}        # principal -> [(role, ns)]
        self.log = []

    @property
    def config(self):
        with open(os.path.join(self.term.home, ".config", "coffer",
                               "config.json")) as f:
            return json.load(f)

    def step(self, doc, cmd):
        words = shlex.split(cmd, comments=True)
        if words[:2] == ["make", "run"]:
            assert not self.started, \
                "%s starts the server again (make run)" % doc
            self.server.start()
            self.started = True
            assert os.path.isfile(os.path.join(self.data, "bootstrap-token"))
            return
        if words[:2] == ["make", "test"]:
            return
        coffer = None
        if words and os.path.basename(words[0]) == "coffer":
            coffer = words[1:]
        if coffer and coffer[:2] == ["audit", "verify"]:
            self.stop_server()
        if self.started:
            cmd = cmd.replace(DOC_URL, self.server.url)
        rc, out = self.term.run(cmd)
        self.log.append("$ %s\n%s" % (cmd, out))
        assert rc == 0, "%s: `%s` exited %d:\n%s" % (doc, cmd, rc, out)
        if coffer:
            self.check(coffer, out)

    def stop_server(self):
        """Ctrl-C, as the docs say, then check the exit."""
        s = self.server
        if s.proc is None:
            return
        s.proc.send_signal(signal.SIGINT)
        rc = s.proc.wait(timeout=START_TIMEOUT)
        s.proc = None
        assert s.sanitizer_report() is None, s.stderr()
        assert rc == 0, "server exited %d on SIGINT:\n%s" % (rc, s.stderr())

    def colleague(self, name, tok):
        """The token handed to a colleague lists what the docs granted
        and can do nothing else."""
        s = self.server
        who = s.get("/v1/whoami", token=tok)
        assert who.status_code == 200, who.text
        assert who.json()["principal"] == name
        for role, ns in self.grants.get(name, []):
            if role == "reader" and ns is not None:
                r = s.get("/v1/ns/%s/objects" % ns, token=tok)
                assert r.status_code == 200, r.text
                r = s.put_obj(ns, "not-allowed", b"x", token=tok)
                assert r.status_code == 403, r.text
        r = s.post("/v1/ns", {"name": "docs-colleague-ns"}, token=tok)
        assert r.status_code == 403, r.text

    def check(self, args, out):
        """What a reader would look at after each kind of command."""
        pos = [a for a in args if not a.startswith("-")]
        sub = pos[:2]
        if sub[:1] == ["login"]:
            cfg = self.config
            assert cfg["server"] == self.server.url
            assert cfg["token"].startswith("cfs_"), cfg
            assert os.path.isabs(cfg["ca_cert"])
            path = os.path.join(self.term.home, ".config", "coffer",
                                "config.json")
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        elif sub == ["mfa", "enroll"]:
            assert self.term.totp is not None, "no secret printed:\n" + out
            assert "multi-factor authentication is on" in out, out
            assert not os.path.exists(os.path.join(self.data,
                                                   "bootstrap-token"))
            who = self.server.get("/v1/whoami", token=self.config["token"])
            assert who.status_code == 200, who.text
            assert who.json()["mfa"] is True
        elif sub == ["whoami"]:
            assert re.search(r"^principal:\s+admin\b", out, re.M), out
            assert re.search(r"^mfa:\s+yes\b", out, re.M), out
        elif sub[:1] == ["push"] and len(pos) >= 3:
            d = os.path.join(self.term.cwd, pos[2])
            self.pushed[pos[1].rstrip("/")] = tree(d)
        elif sub[:1] == ["pull"] and len(pos) >= 3:
            want = self.pushed.get(pos[1].rstrip("/"))
            assert want, "pull of %s, which no step pushed" % pos[1]
            got = tree(os.path.join(self.term.cwd, pos[2]))
            assert got == want, (got, want)
        elif sub[:1] == ["ls"] and len(pos) >= 2:
            pre = pos[1].rstrip("/")
            for rel in self.pushed.get(pre, {}):
                top = rel.split(os.sep)[0]
                assert top in out, (rel, out)
        elif sub[:1] == ["grant"] and len(pos) >= 3:
            ns = args[args.index("--ns") + 1] if "--ns" in args else None
            self.grants.setdefault(pos[2], []).append((pos[1], ns))
        elif sub[:2] == ["token", "create"] and len(pos) >= 3:
            m = re.search(r"\bcft_[A-Za-z0-9_\-]+", out)
            assert m, out
            self.colleague(pos[2], m.group(0))
        elif sub[:2] == ["audit", "tail"]:
            assert len([l for l in out.splitlines() if l.strip()]) >= 2, out
        elif sub[:2] == ["audit", "verify"]:
            m = re.search(r"^OK: (\d+) records verified", out, re.M)
            assert m and int(m.group(1)) > 10, out


def test_readme_then_quickstart(tmp_path):
    # The test's server is the Makefile's `make run`.
    assert os.path.normpath(makefile_var("DATA")) == "coffer-data"
    assert makefile_var("LISTEN") == DOC_URL.split("//")[1]
    w = Walkthrough(tmp_path)
    steps = []
    for doc in DOCS:
        blocks = sh_blocks(doc)
        assert blocks, "%s has no ```sh block" % doc
        steps += [(doc, c) for b in blocks for c in b]
    try:
        for doc, cmd in steps:
            w.step(doc, cmd)
        assert w.started, "no doc starts the server"
    finally:
        if w.server.proc is not None:
            w.server.stop()
        print("\n".join(w.log))

"""The test suite's COFFER_TEST_* hooks exist only in a test build.

A hook left in a production server's environment would move its clock
(every expiry: grants, tokens, links, retention) or make it exit at a
crash point.  The Release build (`make build-release`, what `make run`
serves) must ignore them; the test builds (`make build`, `make
build-asan`, -DCF_TEST_HOOKS=ON) honour them.  Each scenario runs on both
binaries: the test build's outcome shows the hook is really exercised,
the Release build's that it is really gone.

The Release binary comes from $COFFER_RELEASE_BIN, which `make test` sets;
without it (`make test-fast`) the Release half is skipped."""

import os
import subprocess

import pytest

from conftest import COFFER_BIN, Server, is_test_build

RELEASE_BIN = os.environ.get("COFFER_RELEASE_BIN")


def release_bin():
    if not RELEASE_BIN:
        pytest.skip("COFFER_RELEASE_BIN not set (make test sets it)")
    assert os.access(RELEASE_BIN, os.X_OK), \
        "COFFER_RELEASE_BIN=%s is not an executable" % RELEASE_BIN
    return RELEASE_BIN


def server(tmp_path, binary, env):
    s = Server(tmp_path / ("srv-%s" % os.path.basename(
        os.path.dirname(binary))))
    s.bin = binary
    s.env.update(env)
    return s


def expiring_grant_after_clock_move(tmp_path, binary):
    """A reader granted for one hour, then the clock file moved two hours
    ahead: the status of the reader's GET."""
    clock = tmp_path / ("clock-%d" % abs(hash(binary)))
    clock.write_text("0\n")
    s = server(tmp_path, binary, {"COFFER_TEST_CLOCK_FILE": str(clock)})
    s.start()
    try:
        s.mkns("hooks")
        assert s.put_obj("hooks", "a.bin", b"hook bytes").status_code == 201
        s.principal("rdr")
        tok = s.token("rdr")["token"]
        r = s.post("/v1/bindings", {"principal": "rdr", "role": "reader",
                                    "ns": "hooks", "expires_in": 3600})
        assert r.status_code == 201, r.text
        assert s.get_obj("hooks", "a.bin", token=tok).status_code == 200
        clock.write_text("7200\n")
        return s.get_obj("hooks", "a.bin", token=tok).status_code
    finally:
        s.stop()


def upload_with_crash_point(tmp_path, binary):
    """An upload with COFFER_TEST_CRASH=after_blob_commit: the upload's
    status (None when the server died) and the server's exit status."""
    s = server(tmp_path, binary,
               {"COFFER_TEST_CRASH": "after_blob_commit"})
    s.start()
    try:
        s.mkns("crash")
        try:
            status = s.put_obj("crash", "b.bin", b"x" * 100).status_code
        except Exception:   # the connection died with the server
            status = None
        try:
            code = s.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        return status, code
    finally:
        if s.proc is not None and s.proc.poll() is None:
            s.stop()


def test_version_names_the_build():
    assert is_test_build(COFFER_BIN)
    p = subprocess.run([release_bin(), "--version"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("coffer ")
    assert "test build" not in p.stdout


def test_clock_hook_only_in_test_build(tmp_path):
    # Test build: the moved clock expired the grant.
    assert expiring_grant_after_clock_move(tmp_path, COFFER_BIN) == 403
    # Release build: the same file is ignored; the grant still holds.
    assert expiring_grant_after_clock_move(tmp_path, release_bin()) == 200


def test_crash_hook_only_in_test_build(tmp_path):
    status, code = upload_with_crash_point(tmp_path, COFFER_BIN)
    assert status is None and code == 86
    status, code = upload_with_crash_point(tmp_path, release_bin())
    assert status == 201 and code is None


def test_release_build_logs_no_test_build_warning(tmp_path):
    s = server(tmp_path, release_bin(), {})
    s.start()
    try:
        assert s.get("/v1/health").status_code == 200
    finally:
        s.stop()
    assert "event=test_build" not in s.stderr()
    t = server(tmp_path / "t", COFFER_BIN, {})
    t.start()
    t.stop()
    assert "event=test_build" in t.stderr()


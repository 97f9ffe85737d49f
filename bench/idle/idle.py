#!/usr/bin/python3
"""bench/idle/idle.py: open N idle keep-alive TLS connections to a Coffer
server and report its resident memory (VmRSS) as they accumulate.

Each connection completes a TLS handshake and one GET /v1/health (so the
server has served it and it is an idle keep-alive connection, not a
request head being awaited), then stays open, idle.  At every step the
server's VmRSS is read from /proc/PID/status, and once all are open a new
client must still be served.  Used by bench/idle/run.sh."""

import argparse
import resource
import socket
import ssl
import time


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def health(ctx, port, keep):
    raw = socket.create_connection(("127.0.0.1", port), 30)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed before an answer")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    want = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            want = int(line.split(b":", 1)[1])
    while len(body) < want:
        body += s.recv(4096)
    status = int(head.split(b" ", 2)[1])
    if not keep:
        s.close()
        return status, None
    return status, s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--step", type=int, default=1000)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = ssl.create_default_context(cafile=a.ca)
    conns = []
    errors = 0
    t0 = time.monotonic()
    base = rss_kib(a.pid)
    print("connections  server_VmRSS_MiB  per_connection_KiB  elapsed_s")
    print("%11d  %16.1f  %18s  %9.1f" % (0, base / 1024, "-", 0))
    while len(conns) < a.n:
        try:
            st, s = health(ctx, a.port, True)
            if st != 200:
                errors += 1
            conns.append(s)
        except (OSError, ssl.SSLError) as e:
            errors += 1
            if errors > 100:
                print("too many errors, last: %r" % e)
                break
        if len(conns) % a.step == 0 and conns:
            r = rss_kib(a.pid)
            print("%11d  %16.1f  %18.1f  %9.1f" % (
                len(conns), r / 1024, (r - base) / len(conns),
                time.monotonic() - t0))
    time.sleep(2)       # let the server settle, then measure again
    r = rss_kib(a.pid)
    print("idle: %d connections open, server VmRSS %.1f MiB "
          "(%.1f KiB per connection over the %.1f MiB at start), "
          "%d errors" % (len(conns), r / 1024, (r - base) / max(1,
                         len(conns)), base / 1024, errors))
    t = time.monotonic()
    st, _ = health(ctx, a.port, False)
    print("new client with all of them open: HTTP %d in %.1f ms"
          % (st, (time.monotonic() - t) * 1000))
    for s in conns:
        s.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tests/data/audit/gen.py: an independent implementation of the audit log
format (docs/internals/AUDIT.md), written from the document rather than from
src/audit, that generates the known-answer vectors in this folder:

  good/audit/{audit.log,checkpoint}   must verify (6 records)
  <case>/audit/...                    tampered copies, see cases.txt

The unit test (tests/unit/test_audit.c) verifies every case and also checks
that the C writer, given the same six records, produces audit.log byte for
byte.  Regenerate with `python3 tests/data/audit/gen.py` (output is
deterministic) and commit the result."""
import hashlib
import hmac
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
AUDIT_KEY = bytes(range(32))          # the "audit key" given to the API
WRONG_KEY = bytes([0xff] * 32)


def hkdf(ikm, info):
    prk = hmac.new(b"", ikm, hashlib.sha256).digest()    # empty salt
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def keys(k):
    return (hkdf(k, b"coffer audit record v1"),
            hkdf(k, b"coffer audit checkpoint v1"))


def jstr(s):
    """JSON string as jansson writes it with JSON_ENSURE_ASCII, plus DEL."""
    out = ['"']
    short = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f',
             '\n': '\\n', '\r': '\\r', '\t': '\\t'}
    for ch in s:
        c = ord(ch)
        if ch in short:
            out.append(short[ch])
        elif c < 0x20 or c == 0x7f or (0x7f < c < 0x10000):
            out.append('\\u%04X' % c)
        elif c >= 0x10000:
            c -= 0x10000
            out.append('\\u%04X\\u%04X' % (0xd800 + (c >> 10),
                                          0xdc00 + (c & 0x3ff)))
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def rfc3339(us):
    import datetime
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%06dZ' % (us % 1000000)


def mac(key, canon):
    """MAC rule: HMAC-SHA256 over the line up to its final member + '}'."""
    return hmac.new(key, canon.encode() + b"}", hashlib.sha256).hexdigest()


# Keep in sync with kat_recs[] in tests/unit/test_audit.c.
T0 = 1795000000000000
RECS = [
    (T0, "req-0001", "admin", "token", True, "127.0.0.1", "ns:create",
     "ns/ml", "allow", "role:admin", 201, "ok", 0),
    (T0 + 1500, "req-0002", "", "none", False, "10.0.0.7", "object:get",
     "ns/prod-fraud/obj/model.bin", "deny", "", 401, "auth", 0),
    (T0 + 3000, "req-0003", "", "bad-token", False, "10.0.0.7",
     "object:get", "ns/prod-fraud/obj/model.bin", "deny", "", 401, "auth",
     0),
    (T0 + 4500, "req-0004", "alice", "token", True, "192.0.2.10",
     "object:put", "ns/ml/obj/model.bin", "allow",
     "role:writer,policy:pii-mfa", 201, "ok", 1048576),
    (T0 + 6000, "r\"5\n", "mallory\u202e", "token", False, "192.0.2.66",
     "object:get", "ns/ml/obj/caf\u00e9 \"x\"\\y\t\x7f", "deny",
     "policy:deny-pii", 403, "denied", 0),
    (T0 + 7500, "req-0006", "bob", "token", False, "[2001:db8::1]:443",
     "object:get", "ns/ml/obj/model.bin", "allow", "role:reader", 200,
     "ok", 123456789),
]
NAMES = ["request_id", "principal", "authn", "mfa", "source", "action",
         "resource", "decision", "reasons", "status", "result", "bytes"]


def seal(rkey, seq, r, prev):
    parts = ['"seq":%d' % seq, '"time":"%s"' % rfc3339(r[0])]
    for name, v in zip(NAMES, r[1:]):
        if isinstance(v, bool):
            parts.append('"%s":%s' % (name, "true" if v else "false"))
        elif isinstance(v, int):
            parts.append('"%s":%d' % (name, v))
        else:
            parts.append('"%s":%s' % (name, jstr(v)))
    parts.append('"prev":"%s"' % prev)
    canon = "{" + ",".join(parts)
    m = mac(rkey, canon)
    return canon + ',"mac":"%s"}\n' % m, m


def chain(rkey, recs, first=1, prev="0" * 64):
    lines = []
    for i, r in enumerate(recs):
        line, prev = seal(rkey, first + i, r, prev)
        lines.append(line)
    return lines


def checkpoint(ckey, seq, m, us=T0 + 10 ** 6):
    canon = '{"seq":%d,"mac":"%s","time":"%s"' % (seq, m, rfc3339(us))
    return canon + ',"sig":"%s"}\n' % mac(ckey, canon)


def write(case, lines, ckpt):
    d = os.path.join(HERE, case, "audit")
    shutil.rmtree(os.path.join(HERE, case), ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, "audit.log"), "w", newline="") as f:
        f.write("".join(lines))
    if ckpt is not None:
        with open(os.path.join(d, "checkpoint"), "w", newline="") as f:
            f.write(ckpt)


def lastmac(line):
    return line[-67:-3]


def main():
    rkey, ckey = keys(AUDIT_KEY)
    wkey, wckey = keys(WRONG_KEY)
    good = chain(rkey, RECS)
    ck = checkpoint(ckey, 6, lastmac(good[5]))
    cases = []

    def case(name, lines, ckpt, expect, bad, count, msg):
        write(name, lines, ckpt)
        cases.append("%s %s %d %d %s" % (name, expect, bad, count, msg))

    case("good", good, ck, "ok", 0, 6, "-")
    case("torn-tail", good + ['{"seq":7,"time":"20'], ck, "ok", 0, 6, "-")
    case("empty", [], checkpoint(ckey, 0, "0" * 64), "ok", 0, 0, "-")
    l = list(good)
    l[1] = l[1].replace('"decision":"deny"', '"decision":"allow"')
    case("edit-decision", l, ck, "integrity", 2, 0, "mac mismatch")
    l = list(good)
    l[3] = l[3].replace('"bytes":1048576', '"bytes":1')
    case("edit-bytes", l, ck, "integrity", 4, 0, "mac mismatch")
    case("delete", good[:2] + good[3:], ck, "integrity", 3, 0,
         "seq 4 follows 2")
    forged, _ = seal(wkey, 4, RECS[3], lastmac(good[2]))
    case("insert-forged", good[:3] + [forged] + good[3:], ck, "integrity",
         4, 0, "mac mismatch")
    case("reorder", good[:2] + [good[3], good[2]] + good[4:], ck,
         "integrity", 3, 0, "seq 4 follows 2")
    case("duplicate", good[:3] + [good[2]] + good[3:], ck, "integrity", 4,
         0, "repeats")
    case("truncate", good[:4], ck, "integrity", 5, 0,
         "log ends at 4 but checkpoint says 6")
    # Re-chained with the wrong key from record 4 on: caught at 4.
    rechained = good[:3] + chain(wkey, RECS[3:], 4, lastmac(good[2]))
    case("rechain-wrong-key", rechained, ck, "integrity", 4, 0,
         "mac mismatch")
    l = list(good)
    l[0] = l[0][:-67] + l[0][-67:-3].upper() + l[0][-3:]
    case("mac-uppercase", l, ck, "integrity", 1, 0, "malformed")
    case("crlf", [x[:-1] + "\r\n" for x in good], ck, "integrity", 1, 0,
         "malformed")
    case("ckpt-forged", good, checkpoint(wckey, 6, lastmac(good[5])),
         "integrity", 0, 0, "bad signature")
    case("ckpt-missing", good, None, "integrity", 0, 0,
         "checkpoint missing")
    case("ckpt-other-mac", good, checkpoint(ckey, 6, lastmac(good[4])),
         "integrity", 6, 0, "differs from the checkpoint")
    with open(os.path.join(HERE, "cases.txt"), "w") as f:
        f.write("# name expect bad_seq count message-substring "
                "(generated by gen.py)\n")
        f.write("\n".join(cases) + "\n")


if __name__ == "__main__":
    main()

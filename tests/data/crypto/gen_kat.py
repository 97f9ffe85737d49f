#!/usr/bin/env python3
"""tests/data/crypto/gen_kat.py: writes the known-answer files of
tests/unit/test_crypto.c from an implementation of docs/internals/CRYPTO.md
that shares no code with src/crypto/ (Python's hmac/hashlib and the
`cryptography` package's AESGCM, both OpenSSL; Coffer uses GnuTLS).

Run once when the format is defined; the outputs are checked in and must
never change for a released format version (a change means old blobs no
longer open).  Usage: python3 gen_kat.py [OUTDIR]  (default: this folder).

With --fuzz-seeds DIR it writes instead the seed corpus of
fuzz/fuzz_blob_reader.c (its DEK and ad, valid blobs and a few near
misses): python3 gen_kat.py --fuzz-seeds ../../../fuzz/corpus/blob_reader

RFC vectors are not generated: they are literal RFC text, and this script
only checks that Python agrees with them before writing them out.
"""
import hashlib
import hmac
import os
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CHUNK = 65536
TAG = 16
HDR = bytes([0x43, 0x46, 0x41, 0x45,  # "CFAE"
             0x01,                    # format version 1
             0x01,                    # suite 1: AES-256-GCM, 16-byte tag
             0x10,                    # log2(chunk) = 16
             0x00]) + bytes(8)        # flags 0, reserved zero


def pattern(n):
    """The KAT plaintext: byte i is (7*i + (i >> 11)) mod 256."""
    return bytes((7 * i + (i >> 11)) & 0xFF for i in range(n))


def nonce(i, final):
    return bytes([1 if final else 0, 0, 0, 0]) + i.to_bytes(8, "big")


def seal(dek, ad, plain):
    g = AESGCM(dek)
    n = 1 if len(plain) == 0 else (len(plain) + CHUNK - 1) // CHUNK
    out = bytearray(HDR)
    for i in range(n):
        part = plain[i * CHUNK:(i + 1) * CHUNK]
        out += g.encrypt(nonce(i, i == n - 1), part, HDR + ad)
    return bytes(out)


def hkdf(salt, ikm, info, length):
    prk = hmac.new(salt if salt else bytes(32), ikm, hashlib.sha256).digest()
    okm, t, i = b"", b"", 1
    while len(okm) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
        i += 1
    return okm[:length]


def rec(f, **kv):
    for k, v in kv.items():
        f.write("%s = %s\n" % (k, v))
    f.write("\n")


def header(f, what):
    f.write("# %s\n# Written by gen_kat.py; do not edit.\n\n" % what)


def fuzz_seeds(out):
    dek = bytes([0x66] * 32)                     # as in fuzz_blob_reader.c
    ad = b"fuzz-version-0000000000000000000"
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for name, n in (("empty", 0), ("1", 1), ("100", 100),
                    ("chunk-minus-1", CHUNK - 1), ("chunk-plus-1", CHUNK + 1)):
        seeds["valid-" + name] = seal(dek, ad, pattern(n))
    b = bytearray(seeds["valid-100"])
    b[40] ^= 1
    seeds["bad-flipped-bit"] = bytes(b)
    seeds["bad-truncated"] = seeds["valid-chunk-plus-1"][:-1]
    seeds["bad-other-ad"] = seal(dek, b"other", pattern(100))
    for name, blob in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--fuzz-seeds":
        fuzz_seeds(sys.argv[2])
        return
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))

    # --- RFC vectors, checked against Python before being written ---
    sha = [
        (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ]
    million_a = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    with open(os.path.join(out, "sha256.txt"), "w") as f:
        header(f, "SHA-256 (FIPS 180-2 appendix B / NIST CAVS examples)")
        for m, md in sha:
            assert hashlib.sha256(m).hexdigest() == md
            rec(f, msg=m.hex() if m else "-", md=md)
        assert hashlib.sha256(b"a" * 1000000).hexdigest() == million_a
        rec(f, repeat="61 1000000", md=million_a)

    # RFC 4231 test cases 1-4.  HMAC pads a key shorter than the 64-byte
    # block with zeros, so these keys zero-padded to 32 bytes (what
    # cf_hmac_sha256 takes) give the RFC's MACs.
    hm = [
        (bytes([0x0B] * 20), b"Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (b"Jefe", b"what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (bytes([0xAA] * 20), bytes([0xDD] * 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (bytes(range(1, 26)), bytes([0xCD] * 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    ]
    with open(os.path.join(out, "hmac_sha256.txt"), "w") as f:
        header(f, "HMAC-SHA-256, RFC 4231 test cases 1-4 (keys zero-padded "
               "to 32 bytes: same MAC)")
        for k, m, mac in hm:
            assert hmac.new(k, m, hashlib.sha256).hexdigest() == mac
            k32 = k + bytes(32 - len(k))
            assert hmac.new(k32, m, hashlib.sha256).hexdigest() == mac
            rec(f, key=k32.hex(), msg=m.hex(), mac=mac)

    hk = [
        (bytes([0x0B] * 22), bytes(range(0x00, 0x0D)),
         bytes(range(0xF0, 0xFA)), 42,
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
         "34007208d5b887185865"),
        (bytes(range(0x00, 0x50)), bytes(range(0x60, 0xB0)),
         bytes(range(0xB0, 0x100)), 82,
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
         "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
         "cc30c58179ec3e87c14c01d5c1f3434f1d87"),
        (bytes([0x0B] * 22), b"", b"", 42,
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
         "9d201395faa4b61a96c8"),
    ]
    with open(os.path.join(out, "hkdf_sha256.txt"), "w") as f:
        header(f, "HKDF-SHA-256, RFC 5869 test cases 1-3")
        for ikm, salt, info, n, okm in hk:
            assert hkdf(salt, ikm, info, n).hex() == okm
            rec(f, ikm=ikm.hex(), salt=salt.hex() or "-",
                info=info.hex() or "-", len=n, okm=okm)

    # --- Coffer's own derivations and blob format ---
    master = bytes(range(32))
    with open(os.path.join(out, "derive_kat.txt"), "w") as f:
        header(f, "cf_key_derive: HKDF-SHA-256(salt empty, ikm master, "
               "info label), 32 bytes")
        for label in ("coffer keyring v1", "coffer audit mac v1",
                      "coffer tls key v1"):
            rec(f, master=master.hex(), label=label,
                key=hkdf(b"", master, label.encode(), 32).hex())

    # Each vector has its own DEK, as in production: one DEK sealing two
    # blobs would reuse GCM nonces.
    def dek(i):
        if i == 0:
            return bytes(range(32))
        return hashlib.sha256(b"coffer kat dek %d" % i).digest()

    ver1 = b"0123456789abcdef0123456789abcdef"
    ver2 = b"fedcba9876543210fedcba9876543210"
    vectors = [
        ("empty", dek(0), ver1, 0),
        ("one-byte", dek(1), ver2, 1),
        ("short", dek(2), ver2, 33),
        ("chunk-minus-1", dek(3), ver1, CHUNK - 1),
        ("one-chunk", dek(4), ver1, CHUNK),
        ("chunk-plus-1", dek(5), ver2, CHUNK + 1),
        ("three-chunks-and-5", dek(6), ver1, 3 * CHUNK + 5),
        ("no-ad", dek(7), b"", 100),
    ]
    with open(os.path.join(out, "aead_kat.txt"), "w") as f:
        header(f, "Blob format v1 (docs/internals/CRYPTO.md): plaintext "
               "byte i = (7*i + (i >> 11)) mod 256")
        for name, key, ad, n in vectors:
            blob = seal(key, ad, pattern(n))
            kv = dict(name=name, dek=key.hex(), ad=ad.hex() or "-",
                      plain_len=n, blob_len=len(blob))
            if len(blob) <= 512:
                kv["blob"] = blob.hex()
            kv["blob_sha256"] = hashlib.sha256(blob).hexdigest()
            rec(f, **kv)


if __name__ == "__main__":
    main()

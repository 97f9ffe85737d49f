/* tests/unit/test_crypto.c: src/crypto/ — primitives against RFC vectors,
 * the blob format against known answers from an independent
 * implementation (tests/data/crypto/gen_kat.py) and against plain GnuTLS
 * following docs/internals/CRYPTO.md, round trips, every tamper case of
 * the issue, range reads, keyring, master key and TLS files, and NOMEM
 * paths of the constructors.
 *
 * cf-link: cf_crypto cf_base */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base/error.h"
#include "base/mem.h"
#include "base/str.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"
#include "crypto/keyring.h"
#include "crypto/tlscert.h"

#define C		CF_AEAD_CHUNK
#define CT		(CF_AEAD_CHUNK + CF_AEAD_TAG_LEN)
#define H		CF_AEAD_HDR_LEN
#define VER_A		"0123456789abcdef0123456789abcdef"
#define VER_B		"fedcba9876543210fedcba9876543210"
#define POISON		0xa5

/* ------------------------------------------------------------------ */
/* helpers */

static uint8_t
pat(size_t i)
{
	return (uint8_t)(7 * i + (i >> 11));
}

static uint8_t *
pattern(size_t n)
{
	uint8_t	*p = malloc(n + 1);
	size_t	 i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		p[i] = pat(i);
	return p;
}

static void
hex2bin(const char *hex, uint8_t *out, size_t outlen)
{
	struct cf_error	err;

	cf_error_clear(&err);
	assert_int_equal(cf_hex_decode(hex, strlen(hex), out, outlen, &err),
	    CF_OK);
}

/* An in-memory blob: sealer sink and opener reader, with counters and
 * injectable failures. */
struct mem {
	uint8_t		*p;
	size_t		 len, cap;
	unsigned	 sink_calls, rd_calls;
	int		 fail_sink;	/* fail the n-th sink call */
	int		 fail_rd;	/* fail the n-th read with CF_E_IO */
};

static cf_err
sink_mem(void *arg, const void *p, size_t len, struct cf_error *err)
{
	struct mem	*m = arg;

	m->sink_calls++;
	if (m->fail_sink > 0 && (int)m->sink_calls == m->fail_sink)
		return cf_error_set(err, CF_E_IO, "injected sink failure");
	if (m->len + len > m->cap) {
		m->cap = (m->len + len) * 2;
		m->p = realloc(m->p, m->cap);
		assert_non_null(m->p);
	}
	memcpy(m->p + m->len, p, len);
	m->len += len;
	return CF_OK;
}

static cf_err
rd_mem(void *arg, void *buf, size_t len, uint64_t off, struct cf_error *err)
{
	struct mem	*m = arg;

	m->rd_calls++;
	if (m->fail_rd > 0 && (int)m->rd_calls == m->fail_rd)
		return cf_error_set(err, CF_E_IO, "injected read failure");
	if (off > m->len || len > m->len - off)
		return cf_error_set(err, CF_E_INTEGRITY, "blob too short");
	memcpy(buf, m->p + off, len);
	return CF_OK;
}

static void
mem_free(struct mem *m)
{
	free(m->p);
	memset(m, 0, sizeof(*m));
}

static void
mem_copy(struct mem *dst, const struct mem *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->cap = src->len + 1;
	dst->p = malloc(dst->cap);
	assert_non_null(dst->p);
	memcpy(dst->p, src->p, src->len);
	dst->len = src->len;
}

/* Seal plain[0..n) in writes of wsz bytes (0: one write). */
static void
seal(const struct cf_key *dek, const char *ad, const uint8_t *plain,
    size_t n, size_t wsz, struct mem *out)
{
	struct cf_error	 err;
	struct cf_sealer *s;
	size_t		 off, k;

	memset(out, 0, sizeof(*out));
	cf_error_clear(&err);
	assert_int_equal(cf_sealer_new(dek, ad, ad ? strlen(ad) : 0, sink_mem,
	    out, &s, &err), CF_OK);
	if (wsz == 0)
		wsz = n > 0 ? n : 1;
	for (off = 0; off < n; off += k) {
		k = n - off < wsz ? n - off : wsz;
		assert_int_equal(cf_sealer_write(s, plain + off, k, &err),
		    CF_OK);
	}
	assert_int_equal(cf_sealer_plain_size(s), n);
	assert_int_equal(cf_sealer_finish(s, &err), CF_OK);
	cf_sealer_free(s);
	assert_int_equal(out->len, cf_aead_blob_size(n));
}

/* True when buf holds nothing but the poison and wiped zeros. */
static bool
clean(const uint8_t *buf, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (buf[i] != POISON && buf[i] != 0)
			return false;
	return true;
}

/* Open and read everything in reads of rsz; returns the first error.  On
 * success out == expect; on failure, no plaintext byte reached out. */
static cf_err
open_all(const struct cf_key *dek, const char *ad, uint64_t plain_size,
    struct mem *blob, size_t rsz, const uint8_t *expect)
{
	struct cf_error	 err;
	struct cf_opener *o;
	uint8_t		*out;
	uint64_t	 pos;
	size_t		 got;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_opener_new(dek, ad, ad ? strlen(ad) : 0, plain_size,
	    blob->len, rd_mem, blob, &o, &err);
	if (rc != CF_OK) {
		assert_null(o);
		return rc;
	}
	out = malloc(plain_size + 1);
	assert_non_null(out);
	for (pos = 0; pos < plain_size; pos += got) {
		size_t want = plain_size - pos < rsz ? plain_size - pos : rsz;

		memset(out + pos, POISON, want);
		got = 12345;
		rc = cf_opener_read(o, pos, out + pos, want, &got, &err);
		if (rc != CF_OK) {
			assert_int_equal(got, 0);
			assert_true(clean(out + pos, want));
			break;
		}
		assert_true(got > 0 && got <= want);
		if (expect != NULL)
			assert_memory_equal(out + pos, expect + pos, got);
	}
	if (rc == CF_E_INTEGRITY)
		assert_non_null(strstr(err.msg, "authentication"));
	free(out);
	cf_opener_free(o);
	return rc;
}

static struct cf_key *
key_of(uint8_t fill)
{
	struct cf_error	 err;
	struct cf_key	*k;
	uint8_t		 b[CF_KEY_LEN];

	memset(b, fill, sizeof(b));
	cf_error_clear(&err);
	assert_int_equal(cf_key_from_bytes(b, &k, &err), CF_OK);
	return k;
}

/* Records of "key = value" lines separated by blank lines. */
#define KV_MAX	12
struct kv {
	int	 n;
	char	*k[KV_MAX];
	char	*v[KV_MAX];
};

static const char *
kv_get(const struct kv *r, const char *k)
{
	int	i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->k[i], k) == 0)
			return r->v[i];
	return NULL;
}

/* A decimal size from a vector file (bounded; no atol). */
static size_t
kv_size(const char *v)
{
	uint64_t	n = 0;

	assert_int_equal(cf_parse_u64(v, 0, 1ULL << 32, &n, NULL), CF_OK);
	return (size_t)n;
}

/* Parse file into at most max records; returns how many.  *text keeps
 * the storage (free it). */
static int
kv_load(const char *name, struct kv *recs, int max, char **text)
{
	char	 path[512], *s, *line, *save = NULL, *eq;
	FILE	*f;
	long	 n;
	int	 nrec = 0;

	(void)snprintf(path, sizeof(path), "%s/crypto/%s", CF_TEST_DATA,
	    name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	memset(recs, 0, sizeof(*recs) * (size_t)max);
	/* A blank line ends a record. */
	for (line = s; line != NULL; line = save) {
		if ((save = strchr(line, '\n')) != NULL)
			*save++ = '\0';
		if (line[0] == '\0') {
			if (nrec > 0 && recs[nrec - 1].n > 0 && nrec < max)
				nrec++;
			continue;
		}
		if (line[0] == '#' || (eq = strstr(line, " = ")) == NULL)
			continue;
		*eq = '\0';
		if (nrec == 0)
			nrec = 1;
		assert_true(recs[nrec - 1].n < KV_MAX);
		recs[nrec - 1].k[recs[nrec - 1].n] = line;
		recs[nrec - 1].v[recs[nrec - 1].n] = eq + 3;
		recs[nrec - 1].n++;
	}
	if (nrec > 0 && recs[nrec - 1].n == 0)
		nrec--;
	*text = s;
	return nrec;
}

/* Bytes of a hex field, "-" being empty; *len set. */
static uint8_t *
kv_bytes(const struct kv *r, const char *k, size_t *len)
{
	const char	*v = kv_get(r, k);
	uint8_t		*b;

	assert_non_null(v);
	*len = strcmp(v, "-") == 0 ? 0 : strlen(v) / 2;
	b = malloc(*len + 1);
	assert_non_null(b);
	if (*len > 0)
		hex2bin(v, b, *len);
	b[*len] = '\0';
	return b;
}

static char tmpdir[64];

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int
setup_tmp(void **state)
{
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/cf-test-crypto-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmp(void **state)
{
	return nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void
tpath(char *buf, size_t n, const char *name)
{
	(void)snprintf(buf, n, "%s/%s", tmpdir, name);
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	char		*p;
	struct cf_error	 err;

	cf_error_clear(&err);
	assert_int_equal(cf_file_read(path, 1 << 20, &p, len, &err), CF_OK);
	return (uint8_t *)p;
}

static void
spit(const char *path, const void *p, size_t len, mode_t mode)
{
	int	fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static mode_t
mode_of(const char *path)
{
	struct stat	st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* ------------------------------------------------------------------ */
/* primitives */

static void
test_init(void **state)
{
	struct cf_error	err;

	cf_error_clear(&err);
	assert_int_equal(cf_crypto_init(&err), CF_OK);
	assert_int_equal(cf_crypto_init(&err), CF_OK);
	assert_string_equal(CF_LABEL_KEYRING, "coffer keyring v1");
	assert_string_equal(CF_LABEL_AUDIT, "coffer audit mac v1");
	assert_string_equal(CF_LABEL_TLS, "coffer tls key v1");
}

static void
test_harden(void **state)
{
	pid_t	pid;
	int	status;

	/* In a child: the test process itself must stay debuggable. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit	rl;

		cf_crypto_harden_process();
		if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 ||
		    rl.rlim_max != 0)
			_exit(1);
		if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
			_exit(2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_sha256_vectors(void **state)
{
	struct kv		 r[8];
	struct cf_sha256	*h;
	struct cf_error		 err;
	char			*text;
	uint8_t			*msg, md[32], want[32];
	size_t			 len, i, split;
	int			 n, j;

	n = kv_load("sha256.txt", r, 8, &text);
	assert_int_equal(n, 4);
	cf_error_clear(&err);
	for (j = 0; j < n; j++) {
		hex2bin(kv_get(&r[j], "md"), want, 32);
		if (kv_get(&r[j], "repeat") != NULL) {
			len = 1000000;
			msg = malloc(len);
			memset(msg, 'a', len);
			assert_string_equal(kv_get(&r[j], "repeat"),
			    "61 1000000");
		} else
			msg = kv_bytes(&r[j], "msg", &len);
		cf_sha256(msg, len, md);
		assert_memory_equal(md, want, 32);
		/* Streaming, split anywhere, gives the same digest. */
		for (split = 0; split <= len; split += len / 3 + 1) {
			assert_int_equal(cf_sha256_new(&h, &err), CF_OK);
			cf_sha256_update(h, msg, split);
			for (i = split; i < len; i += 4097)
				cf_sha256_update(h, msg + i,
				    len - i < 4097 ? len - i : 4097);
			cf_sha256_final(h, md);
			cf_sha256_free(h);
			assert_memory_equal(md, want, 32);
		}
		free(msg);
	}
	free(text);
}

static void
test_hmac_vectors(void **state)
{
	struct kv	 r[8];
	struct cf_hmac	*h;
	struct cf_key	*k;
	struct cf_error	 err;
	char		*text;
	uint8_t		*kb, *msg, mac[32], want[32];
	size_t		 klen, len, i;
	int		 n, j;

	n = kv_load("hmac_sha256.txt", r, 8, &text);
	assert_int_equal(n, 4);
	cf_error_clear(&err);
	for (j = 0; j < n; j++) {
		kb = kv_bytes(&r[j], "key", &klen);
		assert_int_equal(klen, CF_KEY_LEN);
		msg = kv_bytes(&r[j], "msg", &len);
		hex2bin(kv_get(&r[j], "mac"), want, 32);
		assert_int_equal(cf_key_from_bytes(kb, &k, &err), CF_OK);
		assert_int_equal(cf_hmac_sha256(k, msg, len, mac, &err), CF_OK);
		assert_memory_equal(mac, want, 32);
		assert_int_equal(cf_hmac_new(k, &h, &err), CF_OK);
		for (i = 0; i < len; i++)
			cf_hmac_update(h, msg + i, 1);
		cf_hmac_final(h, mac);
		cf_hmac_free(h);
		assert_memory_equal(mac, want, 32);
		cf_key_free(k);
		free(kb);
		free(msg);
	}
	free(text);
}

/* A handle reused through cf_hmac_final_reset MACs each message as a
 * fresh one would: the known answers in turn, each message twice, and
 * the final with nothing updated (the empty message) in between. */
static void
test_hmac_final_reset_reuses_the_key(void **state)
{
	struct kv	 r[8];
	struct cf_hmac	*h;
	struct cf_key	*k;
	struct cf_error	 err;
	char		*text;
	uint8_t		*kb, *msg, mac[32], want[32], empty[32];
	size_t		 klen, len, i;
	int		 n, j, t;

	(void)state;
	n = kv_load("hmac_sha256.txt", r, 8, &text);
	assert_int_equal(n, 4);
	cf_error_clear(&err);
	for (j = 0; j < n; j++) {
		kb = kv_bytes(&r[j], "key", &klen);
		msg = kv_bytes(&r[j], "msg", &len);
		hex2bin(kv_get(&r[j], "mac"), want, 32);
		assert_int_equal(cf_key_from_bytes(kb, &k, &err), CF_OK);
		assert_int_equal(cf_hmac_sha256(k, "", 0, empty, &err), CF_OK);
		assert_int_equal(cf_hmac_new(k, &h, &err), CF_OK);
		for (t = 0; t < 2; t++) {
			for (i = 0; i < len; i++)
				cf_hmac_update(h, msg + i, 1);
			cf_hmac_final_reset(h, mac);
			assert_memory_equal(mac, want, 32);
			cf_hmac_final_reset(h, mac);
			assert_memory_equal(mac, empty, 32);
		}
		cf_hmac_update(h, msg, len);
		cf_hmac_final(h, mac);
		assert_memory_equal(mac, want, 32);
		cf_hmac_free(h);
		cf_key_free(k);
		free(kb);
		free(msg);
	}
	free(text);
}

static void
test_hkdf_vectors(void **state)
{
	struct kv	 r[8];
	struct cf_error	 err;
	char		*text;
	uint8_t		*ikm, *salt, *info, okm[128], want[128];
	size_t		 il, sl, nl, len;
	int		 n, j;

	n = kv_load("hkdf_sha256.txt", r, 8, &text);
	assert_int_equal(n, 3);
	cf_error_clear(&err);
	for (j = 0; j < n; j++) {
		ikm = kv_bytes(&r[j], "ikm", &il);
		salt = kv_bytes(&r[j], "salt", &sl);
		info = kv_bytes(&r[j], "info", &nl);
		{
			uint64_t l64;
			assert_int_equal(cf_parse_u64(kv_get(&r[j], "len"), 1,
			    sizeof(okm), &l64, NULL), CF_OK);
			len = (size_t)l64;
		}
		hex2bin(kv_get(&r[j], "okm"), want, len);
		assert_int_equal(cf_hkdf_sha256(salt, sl, ikm, il, info, nl,
		    okm, len, &err), CF_OK);
		assert_memory_equal(okm, want, len);
		free(ikm);
		free(salt);
		free(info);
	}
	free(text);
	assert_int_equal(cf_hkdf_sha256(NULL, 0, "x", 1, NULL, 0, okm, 0,
	    &err), CF_E_INVAL);
}

static void
test_derive(void **state)
{
	struct kv	 r[4];
	struct cf_key	*m, *k, *k2;
	struct cf_error	 err;
	char		*text;
	uint8_t		 mb[32], want[32];
	int		 n, j;

	n = kv_load("derive_kat.txt", r, 4, &text);
	assert_int_equal(n, 3);
	cf_error_clear(&err);
	for (j = 0; j < n; j++) {
		hex2bin(kv_get(&r[j], "master"), mb, 32);
		hex2bin(kv_get(&r[j], "key"), want, 32);
		assert_int_equal(cf_key_from_bytes(mb, &m, &err), CF_OK);
		assert_int_equal(cf_key_derive(m, kv_get(&r[j], "label"), &k,
		    &err), CF_OK);
		assert_memory_equal(cf_key_bytes(k), want, 32);
		cf_key_free(k);
		cf_key_free(m);
	}
	free(text);
	/* The #defines are the labels the vectors were made with. */
	m = key_of(1);
	assert_int_equal(cf_key_derive(m, CF_LABEL_AUDIT, &k, &err), CF_OK);
	assert_int_equal(cf_key_derive(m, CF_LABEL_TLS, &k2, &err), CF_OK);
	assert_memory_not_equal(cf_key_bytes(k), cf_key_bytes(k2), 32);
	assert_memory_not_equal(cf_key_bytes(k), cf_key_bytes(m), 32);
	cf_key_free(k);
	cf_key_free(k2);
	assert_int_equal(cf_key_derive(m, "", &k, &err), CF_E_INVAL);
	assert_null(k);
	cf_key_free(m);
	cf_key_free(NULL);
}

static void
test_keys_random(void **state)
{
	struct cf_key	*a, *b;
	struct cf_error	 err;
	uint8_t		 r1[64], r2[64], z[CF_KEY_LEN] = { 0 };

	cf_error_clear(&err);
	assert_int_equal(cf_random(r1, sizeof(r1), &err), CF_OK);
	assert_int_equal(cf_random(r2, sizeof(r2), &err), CF_OK);
	assert_memory_not_equal(r1, r2, sizeof(r1));
	assert_int_equal(cf_random(r1, 0, &err), CF_OK);
	assert_int_equal(cf_key_new_random(&a, &err), CF_OK);
	assert_int_equal(cf_key_new_random(&b, &err), CF_OK);
	assert_memory_not_equal(cf_key_bytes(a), cf_key_bytes(b), CF_KEY_LEN);
	assert_memory_not_equal(cf_key_bytes(a), z, CF_KEY_LEN);
	cf_key_free(a);
	cf_key_free(b);
}

static void
test_ct_equal(void **state)
{
	uint8_t	a[40], b[40];

	memset(a, 7, sizeof(a));
	memset(b, 7, sizeof(b));
	assert_true(cf_ct_equal(a, b, sizeof(a)));
	assert_true(cf_ct_equal(a, b, 0));
	b[39] ^= 1;
	assert_false(cf_ct_equal(a, b, sizeof(a)));
	b[39] ^= 1;
	b[0] ^= 0x80;
	assert_false(cf_ct_equal(a, b, sizeof(a)));
}

/* ------------------------------------------------------------------ */
/* blob format */

static void
test_blob_size(void **state)
{
	assert_int_equal(cf_aead_blob_size(0), H + 16);
	assert_int_equal(cf_aead_blob_size(1), H + 1 + 16);
	assert_int_equal(cf_aead_blob_size(C), H + C + 16);
	assert_int_equal(cf_aead_blob_size(C + 1), H + C + 1 + 32);
	assert_int_equal(cf_aead_blob_size(3 * C + 5), H + 3 * C + 5 + 64);
	assert_int_equal(cf_aead_blob_size(UINT64_MAX), UINT64_MAX);
}

static void
test_blob_kat(void **state)
{
	struct kv	 r[10];
	struct cf_key	*dek;
	struct cf_error	 err;
	struct mem	 m;
	char		*text;
	uint8_t		*kb, *ad, *plain, *blob, md[32], want[32];
	size_t		 kl, al, bl, n;
	int		 nrec, j;

	nrec = kv_load("aead_kat.txt", r, 10, &text);
	assert_int_equal(nrec, 8);
	cf_error_clear(&err);
	for (j = 0; j < nrec; j++) {
		kb = kv_bytes(&r[j], "dek", &kl);
		ad = kv_bytes(&r[j], "ad", &al);
		n = kv_size(kv_get(&r[j], "plain_len"));
		plain = pattern(n);
		assert_int_equal(cf_key_from_bytes(kb, &dek, &err), CF_OK);
		/* Sealing in odd pieces gives the same bytes as one write. */
		seal(dek, al ? (char *)ad : NULL, plain, n, 4099, &m);
		assert_int_equal(m.len, kv_size(kv_get(&r[j],
		    "blob_len")));
		hex2bin(kv_get(&r[j], "blob_sha256"), want, 32);
		cf_sha256(m.p, m.len, md);
		assert_memory_equal(md, want, 32);
		if (kv_get(&r[j], "blob") != NULL) {
			blob = kv_bytes(&r[j], "blob", &bl);
			assert_int_equal(bl, m.len);
			assert_memory_equal(blob, m.p, bl);
			free(blob);
		}
		assert_int_equal(open_all(dek, al ? (char *)ad : NULL, n, &m,
		    1000, plain), CF_OK);
		mem_free(&m);
		cf_key_free(dek);
		free(kb);
		free(ad);
		free(plain);
	}
	free(text);
}

/* Decrypt chunk i of blob with GnuTLS alone, nonce and ad built as the
 * format document says. */
static int
doc_decrypt(const uint8_t *key, const uint8_t *blob, const void *ad,
    size_t adlen, uint64_t i, size_t len, int final, uint8_t *out)
{
	gnutls_aead_cipher_hd_t	h;
	gnutls_datum_t		k = { (unsigned char *)(uintptr_t)key, 32 };
	uint8_t			nonce[12], fullad[16 + 256];
	size_t			outlen = len;
	int			rc, b;

	/* nonce: byte 0 = 0x01 on the final chunk else 0x00, bytes 1-3
	 * zero, bytes 4-11 the chunk index, big-endian. */
	memset(nonce, 0, sizeof(nonce));
	nonce[0] = final ? 1 : 0;
	for (b = 0; b < 8; b++)
		nonce[4 + b] = (uint8_t)(i >> (56 - 8 * b));
	/* ad: the 16 header bytes, then the caller's ad (version id). */
	memcpy(fullad, blob, 16);
	memcpy(fullad + 16, ad, adlen);
	assert_int_equal(gnutls_aead_cipher_init(&h,
	    GNUTLS_CIPHER_AES_256_GCM, &k), 0);
	/* chunk i starts at 16 + i * (65536 + 16): ciphertext, then tag. */
	rc = gnutls_aead_cipher_decrypt(h, nonce, 12, fullad, 16 + adlen, 16,
	    blob + 16 + i * (65536 + 16), len + 16, out, &outlen);
	gnutls_aead_cipher_deinit(h);
	return rc;
}

static void
test_blob_format_doc(void **state)
{
	struct kv	 r[10];
	char		*text;
	uint8_t		*kb, *ad, *plain, out[C];
	size_t		 kl, al, n;
	struct cf_key	*dek;
	struct cf_error	 err;
	struct mem	 m;
	int		 nrec, j;
	static const uint8_t hdr[16] = { 'C', 'F', 'A', 'E', 1, 1, 16, 0 };

	nrec = kv_load("aead_kat.txt", r, 10, &text);
	for (j = 0; j < nrec; j++)
		if (strcmp(kv_get(&r[j], "name"), "three-chunks-and-5") == 0)
			break;
	assert_true(j < nrec);
	kb = kv_bytes(&r[j], "dek", &kl);
	ad = kv_bytes(&r[j], "ad", &al);
	n = kv_size(kv_get(&r[j], "plain_len"));
	assert_int_equal(n, 3 * C + 5);
	plain = pattern(n);
	cf_error_clear(&err);
	assert_int_equal(cf_key_from_bytes(kb, &dek, &err), CF_OK);
	seal(dek, (char *)ad, plain, n, 0, &m);
	assert_memory_equal(m.p, hdr, 16);
	/* A middle chunk and the final one, each decrypted on its own. */
	assert_int_equal(doc_decrypt(kb, m.p, ad, al, 1, C, 0, out), 0);
	assert_memory_equal(out, plain + C, C);
	assert_int_equal(doc_decrypt(kb, m.p, ad, al, 3, 5, 1, out), 0);
	assert_memory_equal(out, plain + 3 * C, 5);
	/* The final flag and the index are in the nonce, the header and the
	 * version id in the ad: changing any one fails. */
	assert_int_equal(doc_decrypt(kb, m.p, ad, al, 1, C, 1, out),
	    GNUTLS_E_DECRYPTION_FAILED);
	assert_int_equal(doc_decrypt(kb, m.p, ad, al, 3, 5, 0, out),
	    GNUTLS_E_DECRYPTION_FAILED);
	assert_int_equal(doc_decrypt(kb, m.p, VER_B, 32, 1, C, 0, out),
	    GNUTLS_E_DECRYPTION_FAILED);
	m.p[15] ^= 1;
	assert_int_equal(doc_decrypt(kb, m.p, ad, al, 1, C, 0, out),
	    GNUTLS_E_DECRYPTION_FAILED);
	mem_free(&m);
	cf_key_free(dek);
	free(kb);
	free(ad);
	free(plain);
	free(text);
}

static void
test_roundtrip(void **state)
{
	static const size_t sizes[] = { 0, 1, C - 1, C, C + 1, 3 * C + 5 };
	static const size_t wsz[] = { 0, 1, 7, 4096, C - 1, C, C + 1,
	    2 * C + 3 };
	static const size_t rsz[] = { 1, 1000, C - 1, C, C + 1, 4 * C };
	struct cf_key	*dek = key_of(0x42);
	struct mem	 m, ref;
	uint8_t		*plain;
	size_t		 i, w, r;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		plain = pattern(sizes[i]);
		seal(dek, VER_A, plain, sizes[i], 0, &ref);
		for (w = 0; w < sizeof(wsz) / sizeof(wsz[0]); w++) {
			if (wsz[w] == 1 && sizes[i] > C + 1)
				continue;	/* slow and nothing new */
			seal(dek, VER_A, plain, sizes[i], wsz[w], &m);
			/* Deterministic: any write pattern, same blob. */
			assert_int_equal(m.len, ref.len);
			assert_memory_equal(m.p, ref.p, m.len);
			mem_free(&m);
		}
		for (r = 0; r < sizeof(rsz) / sizeof(rsz[0]); r++) {
			if (rsz[r] == 1 && sizes[i] > C + 1)
				continue;
			assert_int_equal(open_all(dek, VER_A, sizes[i], &ref,
			    rsz[r], plain), CF_OK);
		}
		mem_free(&ref);
		free(plain);
	}
	cf_key_free(dek);
}

static void
test_sealer_chunks_to_sink(void **state)
{
	struct cf_key	*dek = key_of(1);
	struct mem	 m;
	uint8_t		*plain = pattern(3 * C + 5);

	/* One sink call per chunk, the header riding with the first. */
	seal(dek, VER_A, plain, 3 * C + 5, 100, &m);
	assert_int_equal(m.sink_calls, 4);
	mem_free(&m);
	seal(dek, VER_A, plain, 0, 0, &m);
	assert_int_equal(m.sink_calls, 1);
	assert_int_equal(m.len, 32);
	mem_free(&m);
	free(plain);
	cf_key_free(dek);
}

static void
test_range_reads(void **state)
{
	struct cf_key	*dek = key_of(9);
	struct cf_opener *o;
	struct cf_error	 err;
	struct mem	 m;
	size_t		 n = 3 * C + 5, got, len, i;
	uint8_t		*plain = pattern(n), *buf = malloc(n);
	uint64_t	 pos, seed = 88172645463325252ULL;
	unsigned	 before;

	seal(dek, VER_A, plain, n, 0, &m);
	cf_error_clear(&err);
	for (i = 0; i < 300; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		pos = seed % n;
		len = 1 + (size_t)((seed >> 32) % (i % 3 == 0 ? 2 * C : 200));
		m.rd_calls = 0;
		assert_int_equal(cf_opener_new(dek, VER_A, 32, n, m.len,
		    rd_mem, &m, &o, &err), CF_OK);
		assert_int_equal(m.rd_calls, 1);	/* the header */
		assert_int_equal(cf_opener_read(o, pos, buf, len, &got, &err),
		    CF_OK);
		assert_int_equal(got, len < n - pos ? len : n - pos);
		assert_memory_equal(buf, plain + pos, got);
		/* Only the chunks the range touches were read. */
		assert_int_equal(m.rd_calls, 1 + (pos + got - 1) / C -
		    pos / C + 1);
		cf_opener_free(o);
	}
	/* Sequential small reads decrypt each chunk once (the cache). */
	assert_int_equal(cf_opener_new(dek, VER_A, 32, n, m.len, rd_mem, &m,
	    &o, &err), CF_OK);
	m.rd_calls = 0;
	for (pos = 0; pos < n; pos += got) {
		assert_int_equal(cf_opener_read(o, pos, buf, 999, &got, &err),
		    CF_OK);
		assert_memory_equal(buf, plain + pos, got);
	}
	assert_int_equal(m.rd_calls, 4);
	/* Going back to a cached chunk costs nothing, another one a read. */
	before = m.rd_calls;
	assert_int_equal(cf_opener_read(o, 3 * C + 1, buf, 2, &got, &err),
	    CF_OK);
	assert_int_equal(m.rd_calls, before);
	assert_int_equal(cf_opener_read(o, 5, buf, 2, &got, &err), CF_OK);
	assert_int_equal(m.rd_calls, before + 1);
	assert_memory_equal(buf, plain + 5, 2);
	/* Misuse. */
	assert_int_equal(cf_opener_read(o, n, buf, 1, &got, &err),
	    CF_E_INVAL);
	assert_int_equal(got, 0);
	cf_error_clear(&err);
	assert_int_equal(cf_opener_read(o, 0, buf, 0, &got, &err),
	    CF_E_INVAL);
	cf_opener_free(o);
	mem_free(&m);
	free(plain);
	free(buf);
	cf_key_free(dek);
}

/* Open with (plain_size, blob) and read all: must be CF_E_INTEGRITY. */
static void
expect_bad(const struct cf_key *dek, const char *ad, uint64_t plain_size,
    struct mem *blob, const uint8_t *plain)
{
	assert_int_equal(open_all(dek, ad, plain_size, blob, 3 * C, plain),
	    CF_E_INTEGRITY);
}

static void
test_tamper_bits(void **state)
{
	struct cf_key	*dek = key_of(3);
	struct cf_opener *o;
	struct cf_error	 err;
	struct mem	 m, t;
	size_t		 n = 3 * C + 5, i, got, clen;
	uint8_t		*plain = pattern(n), buf[64];
	uint64_t	 cstart;

	seal(dek, VER_A, plain, n, 0, &m);
	cf_error_clear(&err);
	/* Each header byte: refused when opening. */
	for (i = 0; i < H; i++) {
		mem_copy(&t, &m);
		t.p[i] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(cf_opener_new(dek, VER_A, 32, n, t.len,
		    rd_mem, &t, &o, &err), CF_E_INTEGRITY);
		assert_null(o);
		cf_error_clear(&err);
		mem_free(&t);
	}
	/* Each chunk: a bit in its first, middle and last ciphertext byte
	 * and in its tag.  Only that chunk fails; the others still read. */
	for (i = 0; i < 4; i++) {
		size_t	flips[4], f;

		cstart = H + i * CT;
		clen = i < 3 ? C : 5;
		flips[0] = cstart;
		flips[1] = cstart + clen / 2;
		flips[2] = cstart + clen - 1;
		flips[3] = cstart + clen + 7;	/* in the tag */
		for (f = 0; f < 4; f++) {
			mem_copy(&t, &m);
			t.p[flips[f]] ^= 0x10;
			expect_bad(dek, VER_A, n, &t, plain);
			assert_int_equal(cf_opener_new(dek, VER_A, 32, n, t.len,
			    rd_mem, &t, &o, &err), CF_OK);
			memset(buf, POISON, sizeof(buf));
			assert_int_equal(cf_opener_read(o, i * C + 1, buf, 10,
			    &got, &err), CF_E_INTEGRITY);
			assert_true(clean(buf, sizeof(buf)));
			cf_error_clear(&err);
			/* A read spanning a good and the bad chunk gives
			 * nothing at all, not the good part. */
			if (i > 0) {
				memset(buf, POISON, sizeof(buf));
				assert_int_equal(cf_opener_read(o, i * C - 20,
				    buf, 40, &got, &err), CF_E_INTEGRITY);
				assert_int_equal(got, 0);
				assert_true(clean(buf, sizeof(buf)));
				cf_error_clear(&err);
			}
			assert_int_equal(cf_opener_read(o, (i + 1) % 4 * C, buf,
			    5, &got, &err), CF_OK);
			assert_memory_equal(buf, plain + (i + 1) % 4 * C, 5);
			cf_opener_free(o);
			mem_free(&t);
		}
	}
	/* Whole chunks are decrypted straight into the caller's buffer:
	 * chunk 0 good, chunk 1 bad, one read of both: an error, and not a
	 * byte of either left in the buffer. */
	{
		uint8_t	*big = malloc(3 * C);

		assert_non_null(big);
		mem_copy(&t, &m);
		t.p[H + CT + C / 2] ^= 0x10;
		assert_int_equal(cf_opener_new(dek, VER_A, 32, n, t.len,
		    rd_mem, &t, &o, &err), CF_OK);
		memset(big, POISON, 3 * C);
		assert_int_equal(cf_opener_read(o, 0, big, 3 * C, &got, &err),
		    CF_E_INTEGRITY);
		assert_int_equal(got, 0);
		assert_true(clean(big, 3 * C));
		cf_error_clear(&err);
		/* The good chunk alone still reads, directly. */
		assert_int_equal(cf_opener_read(o, 0, big, C, &got, &err),
		    CF_OK);
		assert_int_equal(got, C);
		assert_memory_equal(big, plain, C);
		cf_opener_free(o);
		mem_free(&t);
		free(big);
	}
	mem_free(&m);
	/* The empty blob's only chunk is checked when opening. */
	seal(dek, VER_A, plain, 0, 0, &m);
	assert_int_equal(open_all(dek, VER_A, 0, &m, 1, NULL), CF_OK);
	for (i = 0; i < m.len; i++) {
		mem_copy(&t, &m);
		t.p[i] ^= 0x01;
		assert_int_equal(cf_opener_new(dek, VER_A, 32, 0, t.len,
		    rd_mem, &t, &o, &err), CF_E_INTEGRITY);
		cf_error_clear(&err);
		mem_free(&t);
	}
	mem_free(&m);
	free(plain);
	cf_key_free(dek);
}

static void
test_tamper_length(void **state)
{
	struct cf_key	*dek = key_of(4);
	struct cf_error	 err;
	struct cf_opener *o;
	struct mem	 m, t, m2, m3;
	size_t		 n = 3 * C + 5;
	uint8_t		*plain = pattern(n), *big = pattern(4 * C);

	seal(dek, VER_A, plain, n, 0, &m);
	cf_error_clear(&err);

	/* Truncated by one byte: the size no longer matches the metadata. */
	mem_copy(&t, &m);
	t.len--;
	assert_int_equal(cf_opener_new(dek, VER_A, 32, n, t.len, rd_mem, &t,
	    &o, &err), CF_E_INTEGRITY);
	cf_error_clear(&err);
	/* ... and if the metadata were changed to match, the last tag. */
	expect_bad(dek, VER_A, n - 1, &t, plain);
	/* Truncated at a chunk boundary: sizes agree with 3 * C bytes, but
	 * chunk 2 was sealed as not final. */
	t.len = H + 3 * CT;
	assert_int_equal(t.len, cf_aead_blob_size(3 * C));
	expect_bad(dek, VER_A, 3 * C, &t, plain);
	t.len = H + 2 * CT;
	expect_bad(dek, VER_A, 2 * C, &t, plain);
	t.len = H + CT;
	expect_bad(dek, VER_A, C, &t, plain);
	/* Down to the header: an empty blob needs its empty final chunk. */
	t.len = H;
	assert_int_equal(cf_opener_new(dek, VER_A, 32, 0, t.len, rd_mem, &t,
	    &o, &err), CF_E_INTEGRITY);
	cf_error_clear(&err);
	/* Lying about the blob size with a short blob behind it. */
	assert_int_equal(cf_opener_new(dek, VER_A, 32, 0, 32, rd_mem, &t, &o,
	    &err), CF_E_INTEGRITY);
	cf_error_clear(&err);
	mem_free(&t);

	/* Extended by one byte. */
	mem_copy(&t, &m);
	sink_mem(&t, "x", 1, &err);
	assert_int_equal(cf_opener_new(dek, VER_A, 32, n, t.len, rd_mem, &t,
	    &o, &err), CF_E_INTEGRITY);
	cf_error_clear(&err);
	expect_bad(dek, VER_A, n + 1, &t, NULL);
	mem_free(&t);

	/* Extended by a whole valid chunk: chunk 3 of a 4-chunk blob sealed
	 * with the same DEK and ad appended to a 3-chunk one.  The old final
	 * chunk now is not final: fails. */
	seal(dek, VER_A, big, 3 * C, 0, &m3);
	seal(dek, VER_A, big, 4 * C, 0, &m2);
	mem_copy(&t, &m3);
	sink_mem(&t, m2.p + H + 3 * CT, CT, &err);
	assert_int_equal(t.len, cf_aead_blob_size(4 * C));
	expect_bad(dek, VER_A, 4 * C, &t, big);
	mem_free(&t);
	/* ... and the blob's own final chunk repeated. */
	mem_copy(&t, &m3);
	sink_mem(&t, m3.p + H + 2 * CT, CT, &err);
	expect_bad(dek, VER_A, 4 * C, &t, NULL);
	mem_free(&t);
	/* ... and a non-final chunk of a longer blob appended: the flag. */
	mem_copy(&t, &m3);
	t.len = H + 2 * CT;
	sink_mem(&t, m2.p + H + 2 * CT, CT, &err);
	expect_bad(dek, VER_A, 3 * C, &t, big);
	mem_free(&t);

	mem_free(&m);
	mem_free(&m2);
	mem_free(&m3);
	free(plain);
	free(big);
	cf_key_free(dek);
}

static void
test_tamper_swap(void **state)
{
	struct cf_key	*dek = key_of(5), *dek2 = key_of(6);
	struct cf_error	 err;
	struct mem	 m, t, e;
	size_t		 n = 3 * C + 5;
	uint8_t		*plain = pattern(n), *tmp = malloc(CT);

	seal(dek, VER_A, plain, n, 0, &m);
	cf_error_clear(&err);
	/* Two chunks swapped. */
	mem_copy(&t, &m);
	memcpy(tmp, t.p + H, CT);
	memcpy(t.p + H, t.p + H + CT, CT);
	memcpy(t.p + H + CT, tmp, CT);
	expect_bad(dek, VER_A, n, &t, plain);
	mem_free(&t);
	/* Version A's blob opened as version B (same DEK: the ad alone). */
	expect_bad(dek, VER_B, n, &m, plain);
	expect_bad(dek, NULL, n, &m, plain);
	seal(dek, VER_A, plain, 0, 0, &e);
	assert_int_equal(open_all(dek, VER_B, 0, &e, 1, NULL), CF_E_INTEGRITY);
	mem_free(&e);
	/* Wrong DEK. */
	expect_bad(dek2, VER_A, n, &m, plain);
	mem_free(&m);
	free(plain);
	free(tmp);
	cf_key_free(dek);
	cf_key_free(dek2);
}

static void
test_aead_errors(void **state)
{
	struct cf_key	 *dek = key_of(7);
	struct cf_sealer *s;
	struct cf_opener *o;
	struct cf_error	  err;
	struct mem	  m;
	uint8_t		 *plain = pattern(2 * C + 1), ad[CF_AEAD_AD_MAX + 1];
	size_t		  got;

	cf_error_clear(&err);
	memset(ad, 'v', sizeof(ad));
	memset(&m, 0, sizeof(m));
	assert_int_equal(cf_sealer_new(dek, ad, sizeof(ad), sink_mem, &m, &s,
	    &err), CF_E_INVAL);
	assert_null(s);
	cf_error_clear(&err);
	assert_int_equal(cf_sealer_new(dek, ad, CF_AEAD_AD_MAX, sink_mem, &m,
	    &s, &err), CF_OK);
	assert_int_equal(cf_sealer_write(s, plain, 10, &err), CF_OK);
	assert_int_equal(cf_sealer_finish(s, &err), CF_OK);
	assert_int_equal(cf_sealer_write(s, plain, 1, &err), CF_E_INVAL);
	cf_error_clear(&err);
	assert_int_equal(cf_sealer_finish(s, &err), CF_E_INVAL);
	cf_error_clear(&err);
	cf_sealer_free(s);
	assert_int_equal(cf_opener_new(dek, ad, sizeof(ad), 10, m.len, rd_mem,
	    &m, &o, &err), CF_E_INVAL);
	cf_error_clear(&err);
	assert_int_equal(cf_opener_new(dek, ad, CF_AEAD_AD_MAX, 10, m.len,
	    rd_mem, &m, &o, &err), CF_OK);
	assert_int_equal(cf_opener_read(o, 0, ad, 10, &got, &err), CF_OK);
	assert_memory_equal(ad, plain, 10);
	cf_opener_free(o);
	mem_free(&m);

	/* A failing sink fails the sealer for good. */
	m.fail_sink = 2;
	assert_int_equal(cf_sealer_new(dek, VER_A, 32, sink_mem, &m, &s, &err),
	    CF_OK);
	assert_int_equal(cf_sealer_write(s, plain, 2 * C + 1, &err), CF_E_IO);
	assert_non_null(strstr(err.msg, "injected"));
	cf_error_clear(&err);
	assert_int_equal(cf_sealer_write(s, plain, 1, &err), CF_E_INVAL);
	cf_error_clear(&err);
	assert_int_equal(cf_sealer_finish(s, &err), CF_E_INVAL);
	cf_error_clear(&err);
	cf_sealer_free(s);
	mem_free(&m);

	/* A failing reader's error comes through, with nothing copied. */
	seal(dek, VER_A, plain, 2 * C + 1, 0, &m);
	m.fail_rd = 1;
	assert_int_equal(cf_opener_new(dek, VER_A, 32, 2 * C + 1, m.len,
	    rd_mem, &m, &o, &err), CF_E_IO);
	cf_error_clear(&err);
	m.rd_calls = 0;
	m.fail_rd = 3;
	assert_int_equal(cf_opener_new(dek, VER_A, 32, 2 * C + 1, m.len,
	    rd_mem, &m, &o, &err), CF_OK);
	memset(ad, POISON, sizeof(ad));
	assert_int_equal(cf_opener_read(o, C - 5, ad, 10, &got, &err),
	    CF_E_IO);
	assert_int_equal(got, 0);
	assert_true(clean(ad, sizeof(ad)));
	cf_error_clear(&err);
	/* The failure is not sticky: the next attempt reads again. */
	assert_int_equal(cf_opener_read(o, C - 5, ad, 10, &got, &err), CF_OK);
	assert_memory_equal(ad, plain + C - 5, 10);
	cf_opener_free(o);
	/* Blob size that cannot be: huge plaintext. */
	assert_int_equal(cf_opener_new(dek, VER_A, 32, UINT64_MAX, UINT64_MAX,
	    rd_mem, &m, &o, &err), CF_E_INTEGRITY);
	mem_free(&m);
	free(plain);
	cf_key_free(dek);
}

/* ------------------------------------------------------------------ */
/* master key and keyring */

static void
test_master_key(void **state)
{
	struct cf_key	*a, *b;
	struct cf_error	 err;
	char		 p[256], q[256];
	char		 hex[80];
	size_t		 len;
	uint8_t		*f;

	tpath(p, sizeof(p), "master.key");
	cf_error_clear(&err);
	assert_int_equal(cf_master_key_create(p, &a, &err), CF_OK);
	assert_int_equal(mode_of(p), 0600);
	f = slurp(p, &len);
	assert_int_equal(len, 65);
	assert_int_equal(f[64], '\n');
	free(f);
	assert_int_equal(cf_master_key_load(p, &b, &err), CF_OK);
	assert_memory_equal(cf_key_bytes(a), cf_key_bytes(b), CF_KEY_LEN);
	cf_key_free(b);
	/* Never overwritten. */
	assert_int_equal(cf_master_key_create(p, &b, &err), CF_E_CONFLICT);
	assert_null(b);
	cf_error_clear(&err);
	assert_int_equal(cf_master_key_load(p, &b, &err), CF_OK);
	assert_memory_equal(cf_key_bytes(a), cf_key_bytes(b), CF_KEY_LEN);
	cf_key_free(b);

	/* Readable by group or others: refused, naming the mode. */
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(cf_master_key_load(p, &b, &err), CF_E_INPUT);
	assert_null(b);
	assert_non_null(strstr(err.msg, "0644"));
	cf_error_clear(&err);
	assert_int_equal(chmod(p, 0640), 0);
	assert_int_equal(cf_master_key_load(p, &b, &err), CF_E_INPUT);
	cf_error_clear(&err);
	assert_int_equal(chmod(p, 0400), 0);
	assert_int_equal(cf_master_key_load(p, &b, &err), CF_OK);
	cf_key_free(b);

	/* Operator-made files: with and without newline; bad ones. */
	tpath(q, sizeof(q), "op.key");
	cf_hex_encode(cf_key_bytes(a), CF_KEY_LEN, hex);
	spit(q, hex, 64, 0600);
	assert_int_equal(cf_master_key_load(q, &b, &err), CF_OK);
	assert_memory_equal(cf_key_bytes(a), cf_key_bytes(b), CF_KEY_LEN);
	cf_key_free(b);
	spit(q, hex, 63, 0600);
	assert_int_equal(cf_master_key_load(q, &b, &err), CF_E_INPUT);
	cf_error_clear(&err);
	hex[64] = '\n';
	hex[65] = '\n';
	spit(q, hex, 66, 0600);
	assert_int_equal(cf_master_key_load(q, &b, &err), CF_E_INPUT);
	cf_error_clear(&err);
	hex[64] = '\r';
	spit(q, hex, 66, 0600);
	assert_int_equal(cf_master_key_load(q, &b, &err), CF_E_INPUT);
	cf_error_clear(&err);
	hex[10] = 'g';
	spit(q, hex, 64, 0600);
	assert_int_equal(cf_master_key_load(q, &b, &err), CF_E_INPUT);
	/* The message shows no key material. */
	hex[10] = '\0';
	assert_null(strstr(err.msg, hex + 2));
	cf_error_clear(&err);
	spit(q, "", 0, 0600);
	assert_int_equal(cf_master_key_load(q, &b, &err), CF_E_INPUT);
	cf_error_clear(&err);
	tpath(q, sizeof(q), "absent.key");
	assert_int_equal(cf_master_key_load(q, &b, &err), CF_E_NOTFOUND);
	cf_error_clear(&err);
	assert_int_equal(cf_master_key_load(tmpdir, &b, &err), CF_E_INPUT);
	cf_key_free(a);
}

/* Open path's keyring with GnuTLS alone, as the document describes. */
static void
doc_keyring(const char *path, const struct cf_key *master, size_t nkeks,
    uint8_t kek_out[CF_KEY_LEN], const char *kek_id)
{
	gnutls_aead_cipher_hd_t	 h;
	gnutls_datum_t		 k;
	struct cf_key		*seal_key;
	struct cf_error		 err;
	uint8_t			*f, *pl, *p;
	size_t			 len, plen, i;
	int			 found = 0;

	f = slurp(path, &len);
	assert_memory_equal(f, "CFKR\x01\0\0\0", 8);
	cf_error_clear(&err);
	assert_int_equal(cf_key_derive(master, CF_LABEL_KEYRING, &seal_key,
	    &err), CF_OK);
	k.data = (unsigned char *)(uintptr_t)cf_key_bytes(seal_key);
	k.size = 32;
	assert_int_equal(gnutls_aead_cipher_init(&h,
	    GNUTLS_CIPHER_AES_256_GCM, &k), 0);
	plen = len - 20 - 16;
	pl = malloc(plen);
	assert_int_equal(gnutls_aead_cipher_decrypt(h, f + 8, 12, f, 20, 16,
	    f + 20, len - 20, pl, &plen), 0);
	gnutls_aead_cipher_deinit(h);
	cf_key_free(seal_key);
	p = pl;
	assert_int_equal(p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3], nkeks);
	p += 8;
	for (i = 0; i < nkeks; i++) {
		size_t idlen = *p++;

		assert_true(idlen > 0 && idlen < CF_KEK_ID_MAX);
		if (idlen == strlen(kek_id) &&
		    memcmp(p, kek_id, idlen) == 0) {
			memcpy(kek_out, p + idlen + 8, CF_KEY_LEN);
			found = 1;
		}
		p += idlen + 8 + CF_KEY_LEN;
	}
	assert_int_equal((size_t)(p - pl), plen);
	assert_true(found);
	free(pl);
	free(f);
}

static void
test_keyring(void **state)
{
	struct cf_keyring *kr, *kr2;
	struct cf_key	  *m, *m2, *dek, *dek2;
	struct cf_error	   err;
	char		   p[256], id1[CF_KEK_ID_MAX], id2[CF_KEK_ID_MAX];
	uint8_t		   w1[CF_WRAPPED_DEK_LEN], w2[CF_WRAPPED_DEK_LEN];
	uint8_t		   wt[CF_WRAPPED_DEK_LEN], kek[CF_KEY_LEN], out[32];
	uint8_t		   ad[64];
	gnutls_aead_cipher_hd_t h;
	gnutls_datum_t	   k = { kek, 32 };
	size_t		   i, outlen;

	tpath(p, sizeof(p), "keyring");
	m = key_of(0x11);
	m2 = key_of(0x12);
	dek = key_of(0x21);
	dek2 = key_of(0x22);
	cf_error_clear(&err);
	assert_int_equal(cf_keyring_open(p, m, false, &kr, &err),
	    CF_E_NOTFOUND);
	assert_null(kr);
	cf_error_clear(&err);
	assert_int_equal(cf_keyring_open(p, m, true, &kr, &err), CF_OK);
	assert_int_equal(mode_of(p), 0600);
	assert_string_equal(cf_keyring_active_id(kr), "kek-1");
	assert_int_equal(cf_keyring_wrap(kr, dek, VER_A, 32, id1, w1, &err),
	    CF_OK);
	assert_string_equal(id1, "kek-1");
	/* Random nonce: wrapping twice differs. */
	assert_int_equal(cf_keyring_wrap(kr, dek, VER_A, 32, id1, wt, &err),
	    CF_OK);
	assert_memory_not_equal(w1, wt, sizeof(w1));
	cf_key_free(dek2);
	assert_int_equal(cf_keyring_unwrap(kr, id1, VER_A, 32, w1, &dek2,
	    &err), CF_OK);
	assert_memory_equal(cf_key_bytes(dek), cf_key_bytes(dek2), 32);
	cf_key_free(dek2);

	/* The document's wrap layout, checked with GnuTLS alone. */
	doc_keyring(p, m, 1, kek, "kek-1");
	memcpy(ad, "coffer dek v1\0kek-1\0", 20);
	memcpy(ad + 20, VER_A, 32);
	assert_int_equal(gnutls_aead_cipher_init(&h,
	    GNUTLS_CIPHER_AES_256_GCM, &k), 0);
	outlen = sizeof(out);
	assert_int_equal(gnutls_aead_cipher_decrypt(h, w1, 12, ad, 52, 16,
	    w1 + 12, 48, out, &outlen), 0);
	gnutls_aead_cipher_deinit(h);
	assert_int_equal(outlen, 32);
	assert_memory_equal(out, cf_key_bytes(dek), 32);

	/* Wrong ad, unknown KEK, any flipped byte. */
	assert_int_equal(cf_keyring_unwrap(kr, id1, VER_B, 32, w1, &dek2,
	    &err), CF_E_INTEGRITY);
	assert_null(dek2);
	cf_error_clear(&err);
	assert_int_equal(cf_keyring_unwrap(kr, "kek-9", VER_A, 32, w1, &dek2,
	    &err), CF_E_NOTFOUND);
	cf_error_clear(&err);
	assert_int_equal(cf_keyring_unwrap(kr, "\x01\"x", VER_A, 32, w1, &dek2,
	    &err), CF_E_NOTFOUND);
	assert_null(strchr(err.msg, '\x01'));
	cf_error_clear(&err);
	for (i = 0; i < CF_WRAPPED_DEK_LEN; i++) {
		memcpy(wt, w1, sizeof(wt));
		wt[i] ^= 0x04;
		assert_int_equal(cf_keyring_unwrap(kr, id1, VER_A, 32, wt,
		    &dek2, &err), CF_E_INTEGRITY);
		cf_error_clear(&err);
	}

	/* Rotate: new active KEK, old DEKs still unwrap, persisted. */
	assert_int_equal(cf_keyring_rotate(kr, &err), CF_OK);
	assert_string_equal(cf_keyring_active_id(kr), "kek-2");
	assert_int_equal(mode_of(p), 0600);
	assert_int_equal(cf_keyring_wrap(kr, dek, VER_B, 32, id2, w2, &err),
	    CF_OK);
	assert_string_equal(id2, "kek-2");
	/* A DEK wrapped under kek-2 does not unwrap as kek-1's. */
	assert_int_equal(cf_keyring_unwrap(kr, id1, VER_B, 32, w2, &dek2,
	    &err), CF_E_INTEGRITY);
	cf_error_clear(&err);
	cf_keyring_close(kr);
	assert_int_equal(cf_keyring_open(p, m, false, &kr, &err), CF_OK);
	assert_string_equal(cf_keyring_active_id(kr), "kek-2");
	assert_int_equal(cf_keyring_unwrap(kr, id1, VER_A, 32, w1, &dek2,
	    &err), CF_OK);
	assert_memory_equal(cf_key_bytes(dek), cf_key_bytes(dek2), 32);
	cf_key_free(dek2);
	assert_int_equal(cf_keyring_unwrap(kr, id2, VER_B, 32, w2, &dek2,
	    &err), CF_OK);
	assert_memory_equal(cf_key_bytes(dek), cf_key_bytes(dek2), 32);
	cf_key_free(dek2);
	doc_keyring(p, m, 2, kek, "kek-2");
	assert_int_equal(cf_keyring_rotate(kr, &err), CF_OK);
	assert_string_equal(cf_keyring_active_id(kr), "kek-3");
	/* open with create on an existing file opens it. */
	assert_int_equal(cf_keyring_open(p, m, true, &kr2, &err), CF_OK);
	assert_string_equal(cf_keyring_active_id(kr2), "kek-3");
	cf_keyring_close(kr2);
	cf_keyring_close(kr);

	/* Wrong master key. */
	assert_int_equal(cf_keyring_open(p, m2, false, &kr, &err),
	    CF_E_INTEGRITY);
	assert_null(kr);
	cf_error_clear(&err);
	assert_int_equal(cf_keyring_open(p, m2, true, &kr, &err),
	    CF_E_INTEGRITY);
	cf_error_clear(&err);
	cf_key_free(m);
	cf_key_free(m2);
	cf_key_free(dek);
}

static void
test_keyring_tamper(void **state)
{
	struct cf_keyring *kr;
	struct cf_key	  *m = key_of(0x31);
	struct cf_error	   err;
	char		   p[256];
	uint8_t		  *orig, *t;
	size_t		   len, i;

	tpath(p, sizeof(p), "keyring-t");
	cf_error_clear(&err);
	assert_int_equal(cf_keyring_open(p, m, true, &kr, &err), CF_OK);
	assert_int_equal(cf_keyring_rotate(kr, &err), CF_OK);
	cf_keyring_close(kr);
	orig = slurp(p, &len);
	t = malloc(len + 1);
	/* Every byte of the file: flipped, the file refused. */
	for (i = 0; i < len; i++) {
		memcpy(t, orig, len);
		t[i] ^= 0x40;
		spit(p, t, len, 0600);
		assert_int_equal(cf_keyring_open(p, m, false, &kr, &err),
		    CF_E_INTEGRITY);
		assert_null(kr);
		cf_error_clear(&err);
	}
	/* Truncated, extended, emptied. */
	spit(p, orig, len - 1, 0600);
	assert_int_equal(cf_keyring_open(p, m, false, &kr, &err),
	    CF_E_INTEGRITY);
	cf_error_clear(&err);
	memcpy(t, orig, len);
	t[len] = 0;
	spit(p, t, len + 1, 0600);
	assert_int_equal(cf_keyring_open(p, m, false, &kr, &err),
	    CF_E_INTEGRITY);
	cf_error_clear(&err);
	spit(p, "", 0, 0600);
	assert_int_equal(cf_keyring_open(p, m, true, &kr, &err),
	    CF_E_INTEGRITY);
	cf_error_clear(&err);
	/* Restored: fine again. */
	spit(p, orig, len, 0600);
	assert_int_equal(cf_keyring_open(p, m, false, &kr, &err), CF_OK);
	assert_string_equal(cf_keyring_active_id(kr), "kek-2");
	cf_keyring_close(kr);
	free(orig);
	free(t);
	cf_key_free(m);
}

struct kr_thread {
	struct cf_keyring	*kr;
	struct cf_key		*dek;
	int			 bad;
};

static void *
kr_worker(void *arg)
{
	struct kr_thread	*t = arg;
	struct cf_key		*d;
	char			 id[CF_KEK_ID_MAX];
	uint8_t			 w[CF_WRAPPED_DEK_LEN];
	int			 i;

	for (i = 0; i < 300; i++) {
		if (cf_keyring_wrap(t->kr, t->dek, VER_A, 32, id, w, NULL) !=
		    CF_OK ||
		    cf_keyring_unwrap(t->kr, id, VER_A, 32, w, &d, NULL) !=
		    CF_OK) {
			t->bad = 1;
			break;
		}
		if (memcmp(cf_key_bytes(d), cf_key_bytes(t->dek), 32) != 0)
			t->bad = 1;
		cf_key_free(d);
		(void)cf_keyring_active_id(t->kr);
	}
	return NULL;
}

static void
test_keyring_threads(void **state)
{
	struct kr_thread	 t[3];
	pthread_t		 th[3];
	struct cf_keyring	*kr;
	struct cf_key		*m = key_of(0x41);
	struct cf_error		 err;
	char			 p[256];
	int			 i;

	tpath(p, sizeof(p), "keyring-threads");
	cf_error_clear(&err);
	assert_int_equal(cf_keyring_open(p, m, true, &kr, &err), CF_OK);
	for (i = 0; i < 3; i++) {
		t[i].kr = kr;
		t[i].dek = key_of((uint8_t)(0x70 + i));
		t[i].bad = 0;
		assert_int_equal(pthread_create(&th[i], NULL, kr_worker, &t[i]),
		    0);
	}
	for (i = 0; i < 6; i++)
		assert_int_equal(cf_keyring_rotate(kr, &err), CF_OK);
	for (i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_false(t[i].bad);
		cf_key_free(t[i].dek);
	}
	assert_string_equal(cf_keyring_active_id(kr), "kek-7");
	cf_keyring_close(kr);
	cf_key_free(m);
}

/* ------------------------------------------------------------------ */
/* TLS */

static void
test_tls(void **state)
{
	static const char *const extra[] = { "coffer.example", "10.1.2.3",
	    NULL };
	struct cf_key	*m = key_of(0x51), *m2 = key_of(0x52);
	struct cf_error	 err;
	char		 cp[256], kp[256], pp[256], cp2[256], kp2[256];
	char		*cert, *key;
	uint8_t		*f;
	size_t		 len, i;
	gnutls_x509_crt_t crt;
	gnutls_datum_t	 d;
	char		 san[256];
	size_t		 sl;
	unsigned int	 bits, critical;
	int		 found[5] = { 0 }, type;
	time_t		 exp;

	tpath(cp, sizeof(cp), "server.crt");
	tpath(kp, sizeof(kp), "server.key");
	cf_error_clear(&err);
	assert_int_equal(cf_tls_selfsigned_create(cp, kp, m, extra, &err),
	    CF_OK);
	assert_int_equal(mode_of(cp), 0644);
	assert_int_equal(mode_of(kp), 0600);
	f = slurp(kp, &len);
	assert_non_null(strstr((char *)f, "BEGIN ENCRYPTED PRIVATE KEY"));
	assert_null(strstr((char *)f, "BEGIN PRIVATE KEY"));
	assert_null(strstr((char *)f, "BEGIN EC PRIVATE KEY"));
	free(f);
	/* Not overwritten. */
	assert_int_equal(cf_tls_selfsigned_create(cp, kp, m, NULL, &err),
	    CF_E_CONFLICT);
	cf_error_clear(&err);

	assert_int_equal(cf_tls_load_pem(cp, kp, m, &cert, &key, &err), CF_OK);
	assert_non_null(strstr(key, "BEGIN PRIVATE KEY"));
	assert_non_null(strstr(cert, "BEGIN CERTIFICATE"));

	/* The certificate: P-256, SANs, validity. */
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	d.data = (unsigned char *)cert;
	d.size = (unsigned int)strlen(cert);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM),
	    0);
	assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, &bits),
	    GNUTLS_PK_ECDSA);
	for (i = 0;; i++) {
		sl = sizeof(san);
		type = gnutls_x509_crt_get_subject_alt_name(crt, (unsigned)i,
		    san, &sl, &critical);
		if (type < 0)
			break;
		if (type == GNUTLS_SAN_DNSNAME && sl == 9 &&
		    memcmp(san, "localhost", 9) == 0)
			found[0] = 1;
		if (type == GNUTLS_SAN_IPADDRESS && sl == 4 &&
		    memcmp(san, "\x7f\0\0\x01", 4) == 0)
			found[1] = 1;
		if (type == GNUTLS_SAN_IPADDRESS && sl == 16 &&
		    memcmp(san, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16) == 0)
			found[2] = 1;
		if (type == GNUTLS_SAN_DNSNAME && sl == 14 &&
		    memcmp(san, "coffer.example", 14) == 0)
			found[3] = 1;
		if (type == GNUTLS_SAN_IPADDRESS && sl == 4 &&
		    memcmp(san, "\x0a\x01\x02\x03", 4) == 0)
			found[4] = 1;
	}
	for (i = 0; i < 5; i++)
		assert_true(found[i]);
	exp = gnutls_x509_crt_get_expiration_time(crt);
	assert_true(exp > time(NULL) + 824L * 86400 &&
	    exp <= time(NULL) + 825L * 86400);
	assert_true(gnutls_x509_crt_get_activation_time(crt) <= time(NULL));
	assert_int_equal(gnutls_x509_crt_get_ca_status(crt, &critical), 0);
	/* Self-signed and verifying as its own trust anchor. */
	{
		unsigned int	status = 1;

		assert_int_equal(gnutls_x509_crt_list_verify(&crt, 1, &crt, 1,
		    NULL, 0, 0, &status), 0);
		assert_int_equal(status, 0);
	}
	gnutls_x509_crt_deinit(crt);

	/* An operator's plain key + cert load without the master key. */
	tpath(pp, sizeof(pp), "plain.key");
	spit(pp, key, strlen(key), 0600);
	cf_tls_pem_free(key);
	cf_tls_pem_free(cert);
	assert_int_equal(cf_tls_load_pem(cp, pp, NULL, &cert, &key, &err),
	    CF_OK);
	assert_non_null(strstr(key, "BEGIN PRIVATE KEY"));
	cf_tls_pem_free(key);
	cf_tls_pem_free(cert);
	/* A plain key is refused where the encrypted one is expected. */
	assert_int_equal(cf_tls_load_pem(cp, pp, m, &cert, &key, &err),
	    CF_E_INTEGRITY);
	assert_null(cert);
	assert_null(key);
	cf_error_clear(&err);
	/* The encrypted one is not a plain key. */
	assert_int_equal(cf_tls_load_pem(cp, kp, NULL, &cert, &key, &err),
	    CF_E_INPUT);
	cf_error_clear(&err);
	/* Wrong master key. */
	assert_int_equal(cf_tls_load_pem(cp, kp, m2, &cert, &key, &err),
	    CF_E_INTEGRITY);
	assert_null(key);
	cf_error_clear(&err);
	/* Certificate of another key pair. */
	tpath(cp2, sizeof(cp2), "other.crt");
	tpath(kp2, sizeof(kp2), "other.key");
	assert_int_equal(cf_tls_selfsigned_create(cp2, kp2, m, NULL, &err),
	    CF_OK);
	assert_int_equal(cf_tls_load_pem(cp2, kp, m, &cert, &key, &err),
	    CF_E_INPUT);
	assert_non_null(strstr(err.msg, "does not match"));
	cf_error_clear(&err);
	/* Missing files. */
	tpath(pp, sizeof(pp), "absent.crt");
	assert_int_equal(cf_tls_load_pem(pp, kp, m, &cert, &key, &err),
	    CF_E_NOTFOUND);
	cf_error_clear(&err);
	/* A bad extra name. */
	tpath(cp2, sizeof(cp2), "bad.crt");
	tpath(kp2, sizeof(kp2), "bad.key");
	{
		static const char *const bad[] = { "", NULL };

		assert_int_equal(cf_tls_selfsigned_create(cp2, kp2, m, bad,
		    &err), CF_E_INPUT);
		assert_int_equal(access(kp2, F_OK), -1);
		cf_error_clear(&err);
	}
	cf_tls_pem_free(NULL);
	cf_key_free(m);
	cf_key_free(m2);
}

/* Names for the certificate: IP literals, DNS host names, nothing else. */
static void
test_tls_name_check(void **state)
{
	static const char *const good[] = { "localhost", "coffer.test", "a",
	    "COFFER.Example", "a-b.c-d", "xn--bcher-kva.example", "1a.example",
	    "example.123a", "10.1.2.3", "0.0.0.0", "::1", "fe80::1",
	    "2001:db8::10", "::ffff:10.1.2.3", NULL };
	static const char *const bad[] = { "", "-a.example", "a-.example",
	    "a..b", ".a", "a.", "*.example", "a_b.example", "coffer test",
	    "10.1.2.300", "1.2.3", "256.1.1.1", "10.1.2.3.4", "[::1]",
	    "fe80::1%eth0", "::1:8443x", "\xc3\xa9.example", "a,b", "a\nb",
	    "a/b", "coffer.test:8443", NULL };
	struct cf_error	err;
	char		long_label[70], long_name[260];
	size_t		i;

	(void)state;
	for (i = 0; good[i] != NULL; i++) {
		cf_error_clear(&err);
		if (cf_tls_name_check(good[i], &err) != CF_OK)
			fail_msg("\"%s\" refused: %s", good[i], err.msg);
	}
	for (i = 0; bad[i] != NULL; i++) {
		cf_error_clear(&err);
		if (cf_tls_name_check(bad[i], &err) != CF_E_INPUT)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(strstr(err.msg, "neither an IP address nor"));
		assert_null(strchr(err.msg, '\n'));
	}
	cf_error_clear(&err);
	assert_int_equal(cf_tls_name_check("a_b.example", &err), CF_E_INPUT);
	assert_non_null(strstr(err.msg, "\"a_b.example\""));
	cf_error_clear(&err);
	assert_int_equal(cf_tls_name_check("10.1.2.300", &err), CF_E_INPUT);
	assert_non_null(strstr(err.msg, "all digits"));
	cf_error_clear(&err);
	assert_int_equal(cf_tls_name_check(NULL, &err), CF_E_INVAL);

	/* 63 bytes a label, 253 a name. */
	memset(long_label, 'a', 63);
	(void)snprintf(long_label + 63, sizeof(long_label) - 63, ".test");
	cf_error_clear(&err);
	assert_int_equal(cf_tls_name_check(long_label, &err), CF_OK);
	memset(long_label, 'a', 64);
	(void)snprintf(long_label + 64, sizeof(long_label) - 64, ".test");
	assert_int_equal(cf_tls_name_check(long_label, &err), CF_E_INPUT);
	assert_non_null(strstr(err.msg, "63"));
	for (i = 0; i < 253; i++)
		long_name[i] = (i % 50 == 49) ? '.' : 'b';
	long_name[253] = '\0';
	cf_error_clear(&err);
	assert_int_equal(cf_tls_name_check(long_name, &err), CF_OK);
	long_name[253] = 'b';
	long_name[254] = '\0';
	assert_int_equal(cf_tls_name_check(long_name, &err), CF_E_INPUT);
	assert_non_null(strstr(err.msg, "253"));

	assert_true(cf_tls_name_is_ip("10.1.2.3"));
	assert_true(cf_tls_name_is_ip("::1"));
	assert_false(cf_tls_name_is_ip("coffer.test"));
	assert_false(cf_tls_name_is_ip(NULL));
	assert_true(cf_tls_name_equal("::1", "0:0::1"));
	assert_true(cf_tls_name_equal("COFFER.test", "coffer.TEST"));
	assert_false(cf_tls_name_equal("coffer.test", "coffer.test2"));
	assert_false(cf_tls_name_equal("10.1.2.3", "10.1.2.4"));
	assert_false(cf_tls_name_equal("localhost", "127.0.0.1"));
	assert_false(cf_tls_name_equal("::ffff:10.1.2.3", "10.1.2.3"));
}

/* The subjectAltName of a fresh certificate: the base names, then each
 * extra name once, in order; names missing from it; its expiry. */
static void
test_tls_san(void **state)
{
	static const char *const extra[] = { "Coffer.Test", "10.1.2.3",
	    "coffer.test", "127.0.0.1", "0::1", "LOCALHOST", "fe80::1",
	    "10.1.2.3", NULL };
	static const char *const want_ask[] = { "coffer.test", "10.1.2.3",
	    "::1", "other.test", "localhost", "10.9.9.9", NULL };
	struct cf_key	*m = key_of(0x53);
	struct cf_error	 err;
	char		 cp[256], kp[256], san[256], miss[64];
	const char	*many[CF_TLS_EXTRA_MAX + 2];
	char		*pem;
	size_t		 len, sl, i, n;
	gnutls_x509_crt_t crt;
	gnutls_datum_t	 d;
	unsigned int	 critical;
	int		 type;
	time_t		 exp;

	(void)state;
	tpath(cp, sizeof(cp), "san.crt");
	tpath(kp, sizeof(kp), "san.key");
	cf_error_clear(&err);
	assert_int_equal(cf_tls_selfsigned_create(cp, kp, m, extra, &err),
	    CF_OK);
	pem = (char *)slurp(cp, &len);

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	d.data = (unsigned char *)pem;
	d.size = (unsigned int)len;
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM),
	    0);
	{
		static const struct {
			int		 type;
			const char	*v;
			size_t		 len;
		} want[] = {
			{ GNUTLS_SAN_DNSNAME, "localhost", 9 },
			{ GNUTLS_SAN_IPADDRESS, "\x7f\0\0\x01", 4 },
			{ GNUTLS_SAN_IPADDRESS,
			    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16 },
			{ GNUTLS_SAN_DNSNAME, "Coffer.Test", 11 },
			{ GNUTLS_SAN_IPADDRESS, "\x0a\x01\x02\x03", 4 },
			{ GNUTLS_SAN_IPADDRESS,
			    "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16 },
		};

		for (i = 0;; i++) {
			sl = sizeof(san);
			type = gnutls_x509_crt_get_subject_alt_name(crt,
			    (unsigned)i, san, &sl, &critical);
			if (type < 0)
				break;
			assert_true(i < sizeof(want) / sizeof(want[0]));
			assert_int_equal(type, want[i].type);
			assert_int_equal(sl, want[i].len);
			assert_memory_equal(san, want[i].v, sl);
		}
		assert_int_equal(i, sizeof(want) / sizeof(want[0]));
	}
	gnutls_x509_crt_deinit(crt);

	/* Which names it lacks. */
	assert_int_equal(cf_tls_cert_missing_names(pem, want_ask, miss,
	    sizeof(miss), &n, &err), CF_OK);
	assert_int_equal(n, 2);
	assert_string_equal(miss, "other.test,10.9.9.9");
	assert_int_equal(cf_tls_cert_missing_names(pem, want_ask, miss, 8, &n,
	    &err), CF_OK);
	assert_int_equal(n, 2);
	assert_string_equal(miss, "othe...");
	assert_int_equal(cf_tls_cert_missing_names(pem, NULL, miss,
	    sizeof(miss), &n, &err), CF_OK);
	assert_int_equal(n, 0);
	assert_string_equal(miss, "");
	assert_int_equal(cf_tls_cert_missing_names("not a certificate",
	    want_ask, miss, sizeof(miss), &n, &err), CF_E_INPUT);
	cf_error_clear(&err);

	/* 825 days from now. */
	assert_int_equal(cf_tls_cert_expiration(pem, &exp, &err), CF_OK);
	assert_true(exp > time(NULL) + 824L * 86400 &&
	    exp <= time(NULL) + 825L * 86400);
	assert_int_equal(cf_tls_cert_expiration("", &exp, &err), CF_E_INPUT);
	cf_error_clear(&err);
	cf_free(pem);

	/* Bounded: at most CF_TLS_EXTRA_MAX extra names; none is made. */
	(void)unlink(cp);
	(void)unlink(kp);
	for (i = 0; i < CF_TLS_EXTRA_MAX + 1; i++)
		many[i] = "coffer.test";
	many[CF_TLS_EXTRA_MAX + 1] = NULL;
	assert_int_equal(cf_tls_selfsigned_create(cp, kp, m, many, &err),
	    CF_E_LIMIT);
	cf_error_clear(&err);
	many[CF_TLS_EXTRA_MAX] = NULL;
	assert_int_equal(cf_tls_selfsigned_create(cp, kp, m, many, &err),
	    CF_OK);
	(void)unlink(cp);
	(void)unlink(kp);
	/* An invalid name: refused with its reason, no files left. */
	{
		static const char *const bad[] = { "ok.test", "a_b.test",
		    NULL };

		assert_int_equal(cf_tls_selfsigned_create(cp, kp, m, bad,
		    &err), CF_E_INPUT);
		assert_non_null(strstr(err.msg, "a_b.test"));
		assert_int_equal(access(cp, F_OK), -1);
		assert_int_equal(access(kp, F_OK), -1);
		cf_error_clear(&err);
	}
	cf_key_free(m);
}

/* ------------------------------------------------------------------ */
/* allocation failures */

/* Run fn with the n-th allocation failing, n = 1, 2, ... until it
 * succeeds; every failure must be CF_E_NOMEM (ASan's leak check proves
 * the cleanup).  Returns the number of failure points seen. */
static unsigned
alloc_loop(cf_err (*fn)(void *), void *arg)
{
	unsigned	n;
	cf_err		rc;

	for (n = 1; n < 500; n++) {
		cf_test_fail_alloc_after(n);
		rc = fn(arg);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			return n - 1;
		assert_int_equal(rc, CF_E_NOMEM);
	}
	fail_msg("no success after 500 allocation failures");
	return 0;
}

struct actx {
	struct cf_key		*k;
	struct cf_keyring	*kr;
	struct mem		 m;
	char			 path[256], path2[256];
	char			 id[CF_KEK_ID_MAX];
	uint8_t			 w[CF_WRAPPED_DEK_LEN];
};

static cf_err
a_key_random(void *arg)
{
	struct cf_key	*k;
	cf_err		 rc = cf_key_new_random(&k, NULL);

	if (rc == CF_OK)
		cf_key_free(k);
	return rc;
}

static cf_err
a_key_bytes(void *arg)
{
	struct cf_key	*k;
	uint8_t		 b[CF_KEY_LEN] = { 1 };
	cf_err		 rc = cf_key_from_bytes(b, &k, NULL);

	if (rc == CF_OK)
		cf_key_free(k);
	return rc;
}

static cf_err
a_key_derive(void *arg)
{
	struct actx	*a = arg;
	struct cf_key	*k;
	cf_err		 rc = cf_key_derive(a->k, CF_LABEL_AUDIT, &k, NULL);

	if (rc == CF_OK)
		cf_key_free(k);
	return rc;
}

static cf_err
a_sha_hmac(void *arg)
{
	struct actx		*a = arg;
	struct cf_sha256	*s;
	struct cf_hmac		*h;
	cf_err			 rc;

	if ((rc = cf_sha256_new(&s, NULL)) != CF_OK)
		return rc;
	cf_sha256_free(s);
	if ((rc = cf_hmac_new(a->k, &h, NULL)) != CF_OK)
		return rc;
	cf_hmac_free(h);
	return CF_OK;
}

static cf_err
a_sealer(void *arg)
{
	struct actx	 *a = arg;
	struct cf_sealer *s;
	struct mem	  m;
	cf_err		  rc;

	memset(&m, 0, sizeof(m));
	if ((rc = cf_sealer_new(a->k, VER_A, 32, sink_mem, &m, &s, NULL)) !=
	    CF_OK)
		return rc;
	cf_sealer_free(s);
	mem_free(&m);
	return CF_OK;
}

static cf_err
a_opener(void *arg)
{
	struct actx	 *a = arg;
	struct cf_opener *o;
	cf_err		  rc;

	if ((rc = cf_opener_new(a->k, VER_A, 32, 5, a->m.len, rd_mem, &a->m,
	    &o, NULL)) != CF_OK)
		return rc;
	cf_opener_free(o);
	return CF_OK;
}

static cf_err
a_keyring_create(void *arg)
{
	struct actx		*a = arg;
	struct cf_keyring	*kr;
	cf_err			 rc;

	(void)unlink(a->path);
	if ((rc = cf_keyring_open(a->path, a->k, true, &kr, NULL)) != CF_OK) {
		assert_int_equal(access(a->path, F_OK), -1);
		return rc;
	}
	cf_keyring_close(kr);
	return CF_OK;
}

static cf_err
a_keyring_open(void *arg)
{
	struct actx		*a = arg;
	struct cf_keyring	*kr;
	cf_err			 rc;

	if ((rc = cf_keyring_open(a->path, a->k, false, &kr, NULL)) != CF_OK)
		return rc;
	cf_keyring_close(kr);
	return CF_OK;
}

static cf_err
a_wrap_unwrap(void *arg)
{
	struct actx	*a = arg;
	struct cf_key	*d;
	cf_err		 rc;

	if ((rc = cf_keyring_wrap(a->kr, a->k, VER_A, 32, a->id, a->w,
	    NULL)) != CF_OK)
		return rc;
	if ((rc = cf_keyring_unwrap(a->kr, a->id, VER_A, 32, a->w, &d,
	    NULL)) != CF_OK)
		return rc;
	assert_memory_equal(cf_key_bytes(d), cf_key_bytes(a->k), CF_KEY_LEN);
	cf_key_free(d);
	return CF_OK;
}

static cf_err
a_rotate(void *arg)
{
	struct actx		*a = arg;
	struct cf_keyring	*disk;
	char			 before[CF_KEK_ID_MAX];
	cf_err			 rc;

	(void)cf_strlcpy(before, cf_keyring_active_id(a->kr), sizeof(before));
	rc = cf_keyring_rotate(a->kr, NULL);
	if (rc != CF_OK) {
		/* Memory still matches the disk. */
		assert_string_equal(cf_keyring_active_id(a->kr), before);
		assert_int_equal(cf_keyring_open(a->path, a->k, false, &disk,
		    NULL), CF_OK);
		assert_string_equal(cf_keyring_active_id(disk), before);
		cf_keyring_close(disk);
	}
	return rc;
}

static cf_err
a_master_load(void *arg)
{
	struct actx	*a = arg;
	struct cf_key	*k;
	cf_err		 rc;

	if ((rc = cf_master_key_load(a->path2, &k, NULL)) != CF_OK)
		return rc;
	cf_key_free(k);
	return CF_OK;
}

static cf_err
a_tls_load(void *arg)
{
	struct actx	*a = arg;
	char		*c, *k;
	cf_err		 rc;

	if ((rc = cf_tls_load_pem(a->path, a->path2, a->k, &c, &k, NULL)) !=
	    CF_OK)
		return rc;
	cf_tls_pem_free(c);
	cf_tls_pem_free(k);
	return CF_OK;
}

static cf_err
a_tls_create(void *arg)
{
	struct actx	*a = arg;

	(void)unlink(a->path);
	(void)unlink(a->path2);
	return cf_tls_selfsigned_create(a->path, a->path2, a->k, NULL, NULL);
}

static void
test_alloc_failures(void **state)
{
	struct actx	 a;
	struct cf_key	*mk;
	struct cf_error	 err;
	uint8_t		*plain = pattern(5);

	memset(&a, 0, sizeof(a));
	a.k = key_of(0x61);
	cf_error_clear(&err);
	assert_true(alloc_loop(a_key_random, &a) >= 1);
	assert_true(alloc_loop(a_key_bytes, &a) >= 1);
	assert_true(alloc_loop(a_key_derive, &a) >= 1);
	assert_true(alloc_loop(a_sha_hmac, &a) >= 2);
	assert_true(alloc_loop(a_sealer, &a) >= 3);
	seal(a.k, VER_A, plain, 5, 0, &a.m);
	assert_true(alloc_loop(a_opener, &a) >= 2);
	mem_free(&a.m);

	tpath(a.path, sizeof(a.path), "alloc-keyring");
	assert_true(alloc_loop(a_keyring_create, &a) >= 5);
	assert_true(alloc_loop(a_keyring_open, &a) >= 5);
	assert_int_equal(cf_keyring_open(a.path, a.k, false, &a.kr, &err),
	    CF_OK);
	assert_true(alloc_loop(a_wrap_unwrap, &a) >= 3);
	assert_true(alloc_loop(a_rotate, &a) >= 3);
	assert_true(alloc_loop(a_rotate, &a) >= 3);
	assert_string_equal(cf_keyring_active_id(a.kr), "kek-3");
	assert_true(alloc_loop(a_wrap_unwrap, &a) >= 3);
	cf_keyring_close(a.kr);

	tpath(a.path2, sizeof(a.path2), "alloc-master");
	assert_int_equal(cf_master_key_create(a.path2, &mk, &err), CF_OK);
	cf_key_free(mk);
	assert_true(alloc_loop(a_master_load, &a) >= 1);

	tpath(a.path, sizeof(a.path), "alloc.crt");
	tpath(a.path2, sizeof(a.path2), "alloc.key");
	assert_true(alloc_loop(a_tls_create, &a) >= 1);
	assert_true(alloc_loop(a_tls_load, &a) >= 3);
	cf_key_free(a.k);
	free(plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_harden),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_hmac_vectors),
		cmocka_unit_test(test_hmac_final_reset_reuses_the_key),
		cmocka_unit_test(test_hkdf_vectors),
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_keys_random),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_blob_size),
		cmocka_unit_test(test_blob_kat),
		cmocka_unit_test(test_blob_format_doc),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_sealer_chunks_to_sink),
		cmocka_unit_test(test_range_reads),
		cmocka_unit_test(test_tamper_bits),
		cmocka_unit_test(test_tamper_length),
		cmocka_unit_test(test_tamper_swap),
		cmocka_unit_test(test_aead_errors),
		cmocka_unit_test(test_master_key),
		cmocka_unit_test(test_keyring),
		cmocka_unit_test(test_keyring_tamper),
		cmocka_unit_test(test_keyring_threads),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_tls_name_check),
		cmocka_unit_test(test_tls_san),
		cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}

/* fuzz/fuzz_blob_reader.c: the input is a stored blob; open it with a
 * fixed DEK and version id and read it all, in pieces and by range.
 *
 * Oracles (abort on violation):
 * - the opener never crashes, overreads or leaks (ASan/UBSan);
 * - a failure is CF_E_INTEGRITY (the reader never fails otherwise) and
 *   leaves no byte in the caller's buffer;
 * - a success means the input is exactly the blob that sealing the
 *   returned plaintext gives (the format is deterministic), so the opener
 *   never returns plaintext for anything but a valid blob.
 *
 * plain_size is the one the input's length implies; inputs of no valid
 * length use their first two bytes, which must fail the size check.
 * Seeds (fuzz/corpus/blob_reader/) are made by
 * tests/data/crypto/gen_kat.py --fuzz-seeds with the same DEK and ad.
 *
 * cf-link: cf_crypto cf_base */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"

#define FUZZ_AD		"fuzz-version-0000000000000000000"
#define POISON		0xa5

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
	const uint8_t	*p;
	size_t		 len;
};

struct out {
	uint8_t		*p;
	size_t		 len, cap;
};

static cf_err
rd(void *arg, void *buf, size_t len, uint64_t off, struct cf_error *err)
{
	const struct in	*in = arg;

	if (off > in->len || len > in->len - off)
		return cf_error_set(err, CF_E_INTEGRITY, "blob too short");
	memcpy(buf, in->p + off, len);
	return CF_OK;
}

static cf_err
sink(void *arg, const void *p, size_t len, struct cf_error *err)
{
	struct out	*o = arg;

	if (len > o->cap - o->len)
		abort();
	memcpy(o->p + o->len, p, len);
	o->len += len;
	return CF_OK;
}

/* The plaintext size whose blob is size bytes long, if any. */
static int
plain_of(size_t size, uint64_t *plain)
{
	const uint64_t	ct = CF_AEAD_CHUNK + CF_AEAD_TAG_LEN;
	uint64_t	r, k, rem, p;

	if (size < CF_AEAD_HDR_LEN + CF_AEAD_TAG_LEN)
		return 0;
	r = size - CF_AEAD_HDR_LEN;
	k = r / ct;
	rem = r % ct;
	if (rem == 0)
		p = k * CF_AEAD_CHUNK;
	else if (rem >= CF_AEAD_TAG_LEN)
		p = k * CF_AEAD_CHUNK + (rem - CF_AEAD_TAG_LEN);
	else
		return 0;
	if (cf_aead_blob_size(p) != size)
		return 0;
	*plain = p;
	return 1;
}

static int
clean(const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (p[i] != POISON && p[i] != 0)
			return 0;
	return 1;
}

static struct cf_key *
fuzz_key(void)
{
	static struct cf_key	*dek;
	uint8_t			 b[CF_KEY_LEN];

	if (dek == NULL) {
		memset(b, 0x66, sizeof(b));
		if (cf_crypto_init(NULL) != CF_OK ||
		    cf_key_from_bytes(b, &dek, NULL) != CF_OK)
			abort();
	}
	return dek;
}

/* A success: sealing the plaintext must give back the input exactly. */
static void
check_reseal(const struct cf_key *dek, const uint8_t *plain, size_t n,
    const uint8_t *data, size_t size)
{
	struct cf_sealer	*s;
	struct out		 o;

	o.cap = size;
	o.len = 0;
	o.p = malloc(size > 0 ? size : 1);
	if (o.p == NULL)
		abort();
	if (cf_sealer_new(dek, FUZZ_AD, strlen(FUZZ_AD), sink, &o, &s,
	    NULL) != CF_OK || cf_sealer_write(s, plain, n, NULL) != CF_OK ||
	    cf_sealer_finish(s, NULL) != CF_OK)
		abort();
	cf_sealer_free(s);
	if (o.len != size || memcmp(o.p, data, size) != 0)
		abort();	/* plaintext from a blob that is not valid */
	free(o.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct cf_key	*dek = fuzz_key();
	struct cf_opener	*o;
	struct cf_error		 err;
	struct in		 in = { data, size };
	uint64_t		 plain = 0, pos;
	uint8_t			*buf;
	size_t			 rsz, got, want;
	cf_err			 rc;
	int			 valid_len;

	valid_len = plain_of(size, &plain);
	if (!valid_len)
		plain = size >= 2 ? (uint64_t)data[0] | (uint64_t)data[1] << 8 :
		    0;
	cf_error_clear(&err);
	rc = cf_opener_new(dek, FUZZ_AD, strlen(FUZZ_AD), plain, size, rd, &in,
	    &o, &err);
	if (rc != CF_OK) {
		if (rc != CF_E_INTEGRITY || o != NULL)
			abort();
		return 0;
	}
	if (!valid_len)
		abort();	/* a size mismatch was let through */
	buf = malloc(plain + 1);
	if (buf == NULL)
		abort();
	memset(buf, POISON, plain + 1);
	/* Read sizes vary with the length: 1 .. 2 chunks. */
	rsz = 1 + (size_t)((size * 2654435761u) % (2 * CF_AEAD_CHUNK));
	for (pos = 0; pos < plain; pos += got) {
		want = plain - pos < rsz ? (size_t)(plain - pos) : rsz;
		got = 0;
		rc = cf_opener_read(o, pos, buf + pos, want, &got, &err);
		if (rc != CF_OK) {
			if (rc != CF_E_INTEGRITY || got != 0 ||
			    !clean(buf + pos, want))
				abort();
			break;
		}
		if (got == 0 || got > want)
			abort();
	}
	if (rc == CF_OK) {
		check_reseal(dek, buf, plain, data, size);
		/* A range read of an authentic blob agrees with the whole. */
		if (plain > 2) {
			uint8_t	r[64];
			size_t	n = plain / 2 < sizeof(r) ? plain / 2 :
				    sizeof(r);

			if (cf_opener_read(o, plain / 3, r, n, &got, NULL) !=
			    CF_OK || memcmp(r, buf + plain / 3, got) != 0)
				abort();
		}
	}
	free(buf);
	cf_opener_free(o);
	return 0;
}

/* src/crypto/aead.c: the chunked AES-256-GCM blob format; see aead.h and
 * docs/internals/CRYPTO.md ("Blob format").
 *
 * Copies: the sealer encrypts straight from the caller's buffer into its
 * output buffer whenever a whole non-final chunk is available, and buffers
 * only what might be the final chunk.  The opener reads a chunk's
 * ciphertext into its own buffer, decrypts it there in place and copies
 * out only authenticated bytes; a whole chunk the caller wants entirely
 * is decrypted straight into the caller's buffer.  GnuTLS writes the
 * plaintext before it checks the tag, so SEC: on a bad tag every buffer
 * that held it is wiped before the call returns, and the read fails as a
 * whole (*got = 0): unauthenticated plaintext is never returned. */
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "base/mem.h"
#include "crypto/aead.h"
#include "crypto/internal.h"

#define NONCE_LEN	12u
#define CHUNK_CT	((uint64_t)CF_AEAD_CHUNK + CF_AEAD_TAG_LEN)
#define FLAG_FINAL	0x01u
/* Largest plaintext a blob may hold: far beyond any object, and small
 * enough that blob sizes and offsets never overflow a uint64_t. */
#define PLAIN_MAX	(UINT64_C(1) << 62)
#define NO_CHUNK	UINT64_MAX

/* Version 1 header: every byte is fixed (docs/internals/CRYPTO.md). */
static const uint8_t hdr_v1[CF_AEAD_HDR_LEN] = {
	'C', 'F', 'A', 'E',	/* magic */
	0x01,			/* format version */
	0x01,			/* suite: AES-256-GCM, 16-byte tags */
	0x10,			/* log2(chunk size): 65536 */
	0x00,			/* flags: none defined */
	0, 0, 0, 0, 0, 0, 0, 0	/* reserved, zero */
};

_Static_assert(CF_AEAD_CHUNK == 1u << 16, "header encodes log2 chunk 16");

struct cf_sealer {
	gnutls_aead_cipher_hd_t	 h;
	cf_sink_fn		 sink;
	void			*sink_arg;
	uint8_t			 ad[CF_AEAD_HDR_LEN + CF_AEAD_AD_MAX];
	size_t			 adlen;		/* header + caller ad */
	uint64_t		 idx;		/* next chunk's index */
	uint64_t		 plain;		/* bytes accepted */
	size_t			 pend;		/* bytes buffered in pt */
	int			 state;		/* S_* */
	uint8_t			*pt;		/* CF_AEAD_CHUNK */
	uint8_t			*out;		/* header + chunk + tag */
};

enum { S_OPEN, S_DONE, S_FAILED };

struct cf_opener {
	gnutls_aead_cipher_hd_t	 h;
	cf_pread_fn		 rd;
	void			*rd_arg;
	uint8_t			 ad[CF_AEAD_HDR_LEN + CF_AEAD_AD_MAX];
	size_t			 adlen;
	uint64_t		 plain_size;
	uint64_t		 nchunks;
	uint64_t		 cached;	/* chunk in buf, or NO_CHUNK */
	size_t			 cached_len;
	uint8_t			*buf;		/* chunk + tag */
	size_t			 bufsz;		/* largest chunk + tag */
};

uint64_t
cf_aead_blob_size(uint64_t plain_size)
{
	uint64_t	nchunks;

	if (plain_size > PLAIN_MAX)
		return UINT64_MAX;
	nchunks = plain_size == 0 ? 1 :
	    (plain_size - 1) / CF_AEAD_CHUNK + 1;
	return CF_AEAD_HDR_LEN + plain_size + nchunks * CF_AEAD_TAG_LEN;
}

static void
make_nonce(uint8_t n[NONCE_LEN], uint64_t idx, int final)
{
	int	i;

	n[0] = final ? FLAG_FINAL : 0;
	n[1] = n[2] = n[3] = 0;
	for (i = 0; i < 8; i++)
		n[4 + i] = (uint8_t)(idx >> (56 - 8 * i));
}

static cf_err
cipher_init(gnutls_aead_cipher_hd_t *h, const struct cf_key *dek,
    struct cf_error *err)
{
	gnutls_datum_t	k;
	int		rc;

	k = cf_datum(cf_key_bytes(dek), CF_KEY_LEN);
	if ((rc = gnutls_aead_cipher_init(h, GNUTLS_CIPHER_AES_256_GCM,
	    &k)) < 0)
		return cf_gnutls_fail(err, rc, "aes-256-gcm init");
	return CF_OK;
}

/* --- sealer --- */

cf_err
cf_sealer_new(const struct cf_key *dek, const void *ad, size_t adlen,
    cf_sink_fn sink, void *sink_arg, struct cf_sealer **out,
    struct cf_error *err)
{
	struct cf_sealer	*s;
	cf_err			 rc;

	*out = NULL;
	if (dek == NULL || sink == NULL || (ad == NULL && adlen > 0))
		return cf_error_set(err, CF_E_INVAL, "sealer: bad arguments");
	if (adlen > CF_AEAD_AD_MAX)
		return cf_error_set(err, CF_E_INVAL,
		    "sealer: associated data over %u bytes", CF_AEAD_AD_MAX);
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((s = cf_calloc(1, sizeof(*s))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "sealer: out of memory");
	s->pt = cf_malloc(CF_AEAD_CHUNK);
	s->out = cf_malloc(CF_AEAD_HDR_LEN + CHUNK_CT);
	if (s->pt == NULL || s->out == NULL) {
		cf_free(s->pt);
		cf_free(s->out);
		cf_free(s);
		return cf_error_set(err, CF_E_NOMEM, "sealer: out of memory");
	}
	if ((rc = cipher_init(&s->h, dek, err)) != CF_OK) {
		cf_free(s->pt);
		cf_free(s->out);
		cf_free(s);
		return rc;
	}
	memcpy(s->ad, hdr_v1, CF_AEAD_HDR_LEN);
	if (adlen > 0)
		memcpy(s->ad + CF_AEAD_HDR_LEN, ad, adlen);
	s->adlen = CF_AEAD_HDR_LEN + adlen;
	s->sink = sink;
	s->sink_arg = sink_arg;
	s->state = S_OPEN;
	*out = s;
	return CF_OK;
}

/* Seal n bytes at p as chunk s->idx and hand it to the sink; the first
 * chunk goes out behind the header, in the same sink call. */
static cf_err
seal_chunk(struct cf_sealer *s, const uint8_t *p, size_t n, int final,
    struct cf_error *err)
{
	uint8_t	nonce[NONCE_LEN];
	size_t	off = 0, ctlen;
	cf_err	rc;
	int	grc;

	if (s->idx == 0) {
		memcpy(s->out, hdr_v1, CF_AEAD_HDR_LEN);
		off = CF_AEAD_HDR_LEN;
	}
	make_nonce(nonce, s->idx, final);
	ctlen = n + CF_AEAD_TAG_LEN;
	grc = gnutls_aead_cipher_encrypt(s->h, nonce, NONCE_LEN, s->ad,
	    s->adlen, CF_AEAD_TAG_LEN, n > 0 ? p : s->pt, n, s->out + off,
	    &ctlen);
	if (grc < 0 || ctlen != n + CF_AEAD_TAG_LEN) {
		s->state = S_FAILED;
		return cf_gnutls_fail(err, grc < 0 ? grc :
		    GNUTLS_E_INTERNAL_ERROR, "aes-256-gcm encrypt");
	}
	if ((rc = s->sink(s->sink_arg, s->out, off + ctlen, err)) != CF_OK) {
		s->state = S_FAILED;
		return rc;
	}
	s->idx++;
	return CF_OK;
}

cf_err
cf_sealer_write(struct cf_sealer *s, const void *vp, size_t len,
    struct cf_error *err)
{
	const uint8_t	*p = vp;
	size_t		 n;
	cf_err		 rc;

	if (s->state != S_OPEN)
		return cf_error_set(err, CF_E_INVAL, s->state == S_DONE ?
		    "sealer: write after finish" : "sealer: failed earlier");
	if (len == 0)
		return CF_OK;
	if (p == NULL)
		return cf_error_set(err, CF_E_INVAL, "sealer: NULL data");
	if (len > PLAIN_MAX - s->plain) {
		s->state = S_FAILED;
		return cf_error_set(err, CF_E_LIMIT, "sealer: blob too large");
	}
	s->plain += len;
	while (len > 0) {
		/* A full buffer with more data behind it is not final. */
		if (s->pend == CF_AEAD_CHUNK) {
			if ((rc = seal_chunk(s, s->pt, CF_AEAD_CHUNK, 0,
			    err)) != CF_OK)
				return rc;
			s->pend = 0;
		}
		/* More than a chunk in hand: seal one from the caller's
		 * memory directly, no copy. */
		if (s->pend == 0 && len > CF_AEAD_CHUNK) {
			if ((rc = seal_chunk(s, p, CF_AEAD_CHUNK, 0, err)) !=
			    CF_OK)
				return rc;
			p += CF_AEAD_CHUNK;
			len -= CF_AEAD_CHUNK;
			continue;
		}
		n = CF_AEAD_CHUNK - s->pend;
		if (n > len)
			n = len;
		memcpy(s->pt + s->pend, p, n);
		s->pend += n;
		p += n;
		len -= n;
	}
	return CF_OK;
}

cf_err
cf_sealer_finish(struct cf_sealer *s, struct cf_error *err)
{
	cf_err	rc;

	if (s->state != S_OPEN)
		return cf_error_set(err, CF_E_INVAL, s->state == S_DONE ?
		    "sealer: finished twice" : "sealer: failed earlier");
	rc = seal_chunk(s, s->pt, s->pend, 1, err);
	cf_wipe(s->pt, s->pend);
	s->pend = 0;
	if (rc == CF_OK)
		s->state = S_DONE;
	return rc;
}

uint64_t
cf_sealer_plain_size(const struct cf_sealer *s)
{
	return s->plain;
}

void
cf_sealer_free(struct cf_sealer *s)
{
	if (s == NULL)
		return;
	gnutls_aead_cipher_deinit(s->h);
	cf_wipe(s->pt, CF_AEAD_CHUNK);
	cf_wipe(s->out, CF_AEAD_HDR_LEN + CHUNK_CT);
	cf_free(s->pt);
	cf_free(s->out);
	cf_wipe(s, sizeof(*s));
	cf_free(s);
}

/* --- opener --- */

static size_t
chunk_len(const struct cf_opener *o, uint64_t i)
{
	if (o->plain_size == 0)
		return 0;
	if (i + 1 < o->nchunks)
		return CF_AEAD_CHUNK;
	return (size_t)(o->plain_size - i * CF_AEAD_CHUNK);
}

/* Read, authenticate and decrypt chunk i into dst (NULL: into o->buf,
 * in place, and cache it).  On any failure both buffers are wiped and
 * nothing is cached: SEC: no unauthenticated byte stays in either. */
static cf_err
load_chunk_to(struct cf_opener *o, uint64_t i, uint8_t *dst,
    struct cf_error *err)
{
	uint8_t		nonce[NONCE_LEN];
	size_t		len = chunk_len(o, i), ptlen;
	uint64_t	off = CF_AEAD_HDR_LEN + i * CHUNK_CT;
	uint8_t		*out = dst != NULL ? dst : o->buf;
	cf_err		rc;
	int		grc;

	o->cached = NO_CHUNK;
	o->cached_len = 0;
	rc = o->rd(o->rd_arg, o->buf, len + CF_AEAD_TAG_LEN, off, err);
	if (rc != CF_OK) {
		cf_wipe(o->buf, len + CF_AEAD_TAG_LEN);
		return rc;
	}
	make_nonce(nonce, i, i + 1 == o->nchunks);
	/* In place: the ciphertext in o->buf becomes the plaintext.  GnuTLS's
	 * own in-place API (decryptv2) runs the same backend decrypt
	 * primitive with dst == src, and a backend that broke in-place use
	 * would fail every tag (fail closed; the known-answer tests would
	 * show it).  decrypt is ~12% faster here than decryptv2, which takes
	 * GnuTLS's piecemeal path. */
	ptlen = len;
	grc = gnutls_aead_cipher_decrypt(o->h, nonce, NONCE_LEN, o->ad,
	    o->adlen, CF_AEAD_TAG_LEN, o->buf, len + CF_AEAD_TAG_LEN, out,
	    &ptlen);
	if (grc >= 0 && ptlen != len)
		grc = GNUTLS_E_INTERNAL_ERROR;
	if (grc < 0) {
		cf_wipe(o->buf, len + CF_AEAD_TAG_LEN);
		if (dst != NULL)
			cf_wipe(dst, len);
		if (grc == GNUTLS_E_DECRYPTION_FAILED)
			return cf_error_set(err, CF_E_INTEGRITY,
			    "blob chunk %llu failed authentication",
			    (unsigned long long)i);
		return cf_gnutls_fail(err, grc, "aes-256-gcm decrypt");
	}
	if (dst == NULL) {
		o->cached = i;
		o->cached_len = len;
	}
	return CF_OK;
}

static cf_err
load_chunk(struct cf_opener *o, uint64_t i, struct cf_error *err)
{
	return load_chunk_to(o, i, NULL, err);
}

cf_err
cf_opener_new(const struct cf_key *dek, const void *ad, size_t adlen,
    uint64_t plain_size, uint64_t blob_size, cf_pread_fn rd, void *rd_arg,
    struct cf_opener **out, struct cf_error *err)
{
	struct cf_opener	*o;
	cf_err			 rc;

	*out = NULL;
	if (dek == NULL || rd == NULL || (ad == NULL && adlen > 0))
		return cf_error_set(err, CF_E_INVAL, "opener: bad arguments");
	if (adlen > CF_AEAD_AD_MAX)
		return cf_error_set(err, CF_E_INVAL,
		    "opener: associated data over %u bytes", CF_AEAD_AD_MAX);
	if (plain_size > PLAIN_MAX ||
	    blob_size != cf_aead_blob_size(plain_size))
		return cf_error_set(err, CF_E_INTEGRITY,
		    "blob is %llu bytes, %llu expected for %llu bytes of data",
		    (unsigned long long)blob_size,
		    (unsigned long long)cf_aead_blob_size(plain_size),
		    (unsigned long long)plain_size);
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((o = cf_calloc(1, sizeof(*o))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "opener: out of memory");
	o->plain_size = plain_size;
	o->nchunks = plain_size == 0 ? 1 :
	    (plain_size - 1) / CF_AEAD_CHUNK + 1;
	/* Sized to the largest chunk of this blob: a small object neither
	 * allocates nor wipes a whole 64 KiB chunk buffer (freed memory goes
	 * back to the host here, and touching it again costs page faults). */
	o->bufsz = chunk_len(o, 0) + CF_AEAD_TAG_LEN;
	if ((o->buf = cf_malloc(o->bufsz)) == NULL) {
		cf_free(o);
		return cf_error_set(err, CF_E_NOMEM, "opener: out of memory");
	}
	if ((rc = cipher_init(&o->h, dek, err)) != CF_OK) {
		cf_free(o->buf);
		cf_free(o);
		return rc;
	}
	o->rd = rd;
	o->rd_arg = rd_arg;
	o->cached = NO_CHUNK;
	/* The header: it is also in every chunk's ad, so a changed header
	 * would fail there; checking it first gives the clearer error. */
	if ((rc = rd(rd_arg, o->ad, CF_AEAD_HDR_LEN, 0, err)) != CF_OK)
		goto fail;
	if (memcmp(o->ad, hdr_v1, CF_AEAD_HDR_LEN) != 0) {
		rc = cf_error_set(err, CF_E_INTEGRITY,
		    "blob header is not a version 1 AES-256-GCM header");
		goto fail;
	}
	if (adlen > 0)
		memcpy(o->ad + CF_AEAD_HDR_LEN, ad, adlen);
	o->adlen = CF_AEAD_HDR_LEN + adlen;
	/* An empty object is never read, so authenticate its one empty
	 * final chunk now: a GET of it still proves the blob. */
	if (plain_size == 0 && (rc = load_chunk(o, 0, err)) != CF_OK)
		goto fail;
	*out = o;
	return CF_OK;
fail:
	cf_opener_free(o);
	return rc;
}

cf_err
cf_opener_read(struct cf_opener *o, uint64_t pos, void *vbuf, size_t max,
    size_t *got, struct cf_error *err)
{
	uint8_t		*buf = vbuf;
	uint64_t	 i;
	size_t		 off, n, total = 0;
	cf_err		 rc;

	*got = 0;
	if (buf == NULL || max == 0 || pos >= o->plain_size)
		return cf_error_set(err, CF_E_INVAL,
		    "opener: read of %zu bytes at %llu of %llu", max,
		    (unsigned long long)pos,
		    (unsigned long long)o->plain_size);
	while (total < max && pos < o->plain_size) {
		i = pos / CF_AEAD_CHUNK;
		off = (size_t)(pos % CF_AEAD_CHUNK);
		n = chunk_len(o, i);
		if (off == 0 && n == CF_AEAD_CHUNK && o->cached != i &&
		    max - total >= n) {
			/* A whole full chunk wanted: decrypt it straight into
			 * the caller's buffer (one copy less per byte; a
			 * partial last chunk still goes through the cache). */
			if ((rc = load_chunk_to(o, i, buf + total, err)) !=
			    CF_OK) {
				cf_wipe(buf, total);
				return rc;
			}
			total += n;
			pos += n;
			continue;
		}
		if (o->cached != i && (rc = load_chunk(o, i, err)) != CF_OK) {
			/* All or nothing: take back what this call copied. */
			cf_wipe(buf, total);
			return rc;
		}
		n = o->cached_len - off;
		if (n > max - total)
			n = max - total;
		memcpy(buf + total, o->buf + off, n);
		total += n;
		pos += n;
	}
	*got = total;
	return CF_OK;
}

void
cf_opener_free(struct cf_opener *o)
{
	if (o == NULL)
		return;
	gnutls_aead_cipher_deinit(o->h);
	cf_wipe(o->buf, o->bufsz);
	cf_free(o->buf);
	cf_wipe(o, sizeof(*o));
	cf_free(o);
}

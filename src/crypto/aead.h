/* src/crypto/aead.h: the chunked AES-256-GCM stream that encrypts every
 * object version at rest (format: docs/internals/CRYPTO.md).
 *
 * A blob is a 16-byte header followed by chunks.  Chunk i holds up to
 * CF_AEAD_CHUNK plaintext bytes and a 16-byte tag; its 96-bit nonce is
 * (final flag || i), and its associated data is the header plus the caller's
 * ad (the object version id), so truncation, extension, reordering and
 * swapping blobs between versions all fail authentication.  Each version
 * has its own DEK, so (key, nonce) pairs never repeat.  An empty plaintext
 * is one empty final chunk.
 *
 * SEC: no plaintext leaves cf_opener_read() before its chunk's tag checked.
 * SEC: a DEK seals exactly one blob, once: sealing twice with one DEK
 * repeats GCM nonces.  Sealers and openers are single-threaded objects.
 */
#ifndef CF_CRYPTO_AEAD_H
#define CF_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "crypto/crypto.h"

#define CF_AEAD_CHUNK		65536u	/* plaintext bytes per chunk */
#define CF_AEAD_TAG_LEN		16u
#define CF_AEAD_HDR_LEN		16u
#define CF_AEAD_AD_MAX		256u	/* caller ad bytes, at most */

/* Receives ciphertext from the sealer (e.g. cf_blob_write). */
typedef cf_err (*cf_sink_fn)(void *arg, const void *p, size_t len,
    struct cf_error *err);
/* Reads exactly len bytes at off into buf (e.g. cf_blob_pread); a short
 * read is an error (CF_E_INTEGRITY if the blob is too short). */
typedef cf_err (*cf_pread_fn)(void *arg, void *buf, size_t len, uint64_t off,
    struct cf_error *err);

/* Size in bytes of the blob that seals plain_size bytes. */
uint64_t cf_aead_blob_size(uint64_t plain_size);

struct cf_sealer;
/* dek and ad are copied/borrowed only for the call (the sealer keeps its
 * own cipher state).  Ciphertext goes to sink as whole chunks.  */
cf_err	cf_sealer_new(const struct cf_key *dek, const void *ad, size_t adlen,
	    cf_sink_fn sink, void *sink_arg, struct cf_sealer **out,
	    struct cf_error *err);
/* Any amount of plaintext; buffers at most one chunk. */
cf_err	cf_sealer_write(struct cf_sealer *s, const void *p, size_t len,
	    struct cf_error *err);
/* Seal the final chunk (possibly empty).  No writes afterwards. */
cf_err	cf_sealer_finish(struct cf_sealer *s, struct cf_error *err);
uint64_t cf_sealer_plain_size(const struct cf_sealer *s);
void	cf_sealer_free(struct cf_sealer *s);	/* wipes buffers */

struct cf_opener;
/* plain_size is the trusted size from metadata; blob_size the stored
 * blob's size: a mismatch with cf_aead_blob_size(plain_size) fails with
 * CF_E_INTEGRITY here.  The header is read and checked. */
cf_err	cf_opener_new(const struct cf_key *dek, const void *ad, size_t adlen,
	    uint64_t plain_size, uint64_t blob_size, cf_pread_fn rd,
	    void *rd_arg, struct cf_opener **out, struct cf_error *err);
/* Copy up to max plaintext bytes starting at pos (< plain_size) into buf,
 * decrypting and authenticating only the chunks needed (the last one is
 * cached, so sequential reads decrypt each chunk once).  *got > 0 on
 * success.  CF_E_INTEGRITY if a tag fails: nothing is copied then (not
 * even bytes of earlier good chunks of the same call: *got is 0 and the
 * part of buf written by the call is zeroed).  An empty blob's single
 * chunk is authenticated by cf_opener_new() already. */
cf_err	cf_opener_read(struct cf_opener *o, uint64_t pos, void *buf,
	    size_t max, size_t *got, struct cf_error *err);
void	cf_opener_free(struct cf_opener *o);	/* wipes buffers */

#endif

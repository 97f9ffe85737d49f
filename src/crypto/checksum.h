/* src/crypto/checksum.h: the data checksums of S3 (x-amz-checksum-*):
 * CRC32 (zlib), CRC32C and CRC64/NVME (tables here), SHA-1 and SHA-256
 * (GnuTLS).  Integrity checks a client asks for, never a security
 * decision: nothing here is keyed. */
#ifndef CF_CRYPTO_CHECKSUM_H
#define CF_CRYPTO_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum cf_cksum_alg {
	CF_CKSUM_NONE,
	CF_CKSUM_CRC32,
	CF_CKSUM_CRC32C,
	CF_CKSUM_CRC64NVME,
	CF_CKSUM_SHA1,
	CF_CKSUM_SHA256
};
#define CF_CKSUM_MAX	32	/* the longest digest (SHA-256) */

/* The algorithm of a name as S3 spells it after "x-amz-checksum-"
 * ("crc32", "crc32c", "crc64nvme", "sha1", "sha256"; any case), or
 * CF_CKSUM_NONE. */
enum cf_cksum_alg cf_cksum_alg_of(const char *name);
/* Its lower-case name ("crc32", ...); "" for CF_CKSUM_NONE. */
const char	*cf_cksum_name(enum cf_cksum_alg alg);
/* The digest length in bytes (CRCs big-endian, as S3 encodes them). */
size_t		 cf_cksum_len(enum cf_cksum_alg alg);

struct cf_cksum;
/* CF_E_INVAL for CF_CKSUM_NONE. */
cf_err	cf_cksum_new(enum cf_cksum_alg alg, struct cf_cksum **out,
	    struct cf_error *err);
void	cf_cksum_update(struct cf_cksum *h, const void *p, size_t len);
/* out gets cf_cksum_len() bytes; once only. */
void	cf_cksum_final(struct cf_cksum *h, uint8_t out[CF_CKSUM_MAX]);
void	cf_cksum_free(struct cf_cksum *h);	/* NULL is a no-op */
/* The CRC (CRC32, CRC32C or CRC64NVME) of A||B from a and b, the CRCs of
 * A and B as cf_cksum_final gives them, and len_b, the length of B: S3's
 * FULL_OBJECT checksum of a multipart object from its parts', without
 * reading a byte.  out gets cf_cksum_len() bytes.  CF_E_INVAL for
 * another algorithm. */
cf_err	cf_cksum_combine(enum cf_cksum_alg alg, const uint8_t *a,
	    const uint8_t *b, uint64_t len_b, uint8_t out[CF_CKSUM_MAX]);

#endif

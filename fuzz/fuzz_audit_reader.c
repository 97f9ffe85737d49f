/* fuzz/fuzz_audit_reader.c: the audit log verifier over hostile input.
 *
 * The input is the content of audit.log, optionally followed by the
 * separator "\0CKPT\0" (a log never holds a NUL) and the content of the
 * checkpoint file.
 * It is verified with a fixed key (bytes 00..1f, the key of the seeds and
 * of tests/data/audit), so seeds made from real logs reach past the MAC
 * checks into the chain, seq and checkpoint logic.  The verifier must
 * neither crash nor leak, and must agree with itself: a log that verifies
 * has as many records as complete lines.
 *
 * cf-link: cf_audit cf_crypto cf_base */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_int.h"
#include "base/error.h"
#include "crypto/crypto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sep[] = "\0CKPT\0";	/* 6 bytes, with the NULs */

static struct cf_key *
fuzz_key(void)
{
	static struct cf_key	*k;
	uint8_t			 b[CF_KEY_LEN];
	size_t			 i;

	if (k != NULL)
		return k;
	if (cf_crypto_init(NULL) != CF_OK)
		abort();
	for (i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)i;
	if (cf_key_from_bytes(b, &k, NULL) != CF_OK)
		abort();
	return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_error	 e;
	const uint8_t	*ck = NULL, *p;
	size_t		 loglen = size, cklen = 0, i, lines = 0;
	uint64_t	 count = 0, bad = 0;
	cf_err		 rc;

	p = memmem(data, size, sep, sizeof(sep) - 1);
	if (p != NULL) {
		loglen = (size_t)(p - data);
		ck = p + sizeof(sep) - 1;
		cklen = size - loglen - (sizeof(sep) - 1);
	}
	for (i = 0; i < loglen; i++)
		if (data[i] == '\n')
			lines++;
	cf_error_clear(&e);
	rc = cf_audit_verify_buf(fuzz_key(), data, loglen, ck, cklen, &count,
	    &bad, &e);
	/* Agreement with the input: every complete line is a record, and
	 * the first bad one is at most one past the last line. */
	if (rc == CF_OK && count != lines)
		abort();
	if (rc == CF_E_INTEGRITY && (bad > lines + 1 || e.msg[0] == '\0'))
		abort();
	if (rc != CF_OK && rc != CF_E_INTEGRITY && rc != CF_E_NOMEM)
		abort();
	return 0;
}

/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * fuzz/fuzz_awschunked.c: the aws-chunked decoder (server/awschunked.c)
 * on arbitrary bodies in every mode, cut into pieces of hostile sizes.
 * Input: a mode byte, a piece-size byte, then the body.  Signatures are
 * accepted unless they begin with 'f', so both paths are reached.
 * Oracles: the bytes passed on never exceed what the chunk sizes
 * announced nor the input; no input is taken after a failure. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/awschunked.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	uint64_t	out;
	int		fail_at;	/* output call that fails; -1 none */
	int		calls;
};

static cf_err
fz_out(void *arg, const uint8_t *p, size_t n, struct cf_error *err)
{
	struct fz	*f = arg;

	(void)p;
	if (f->calls++ == f->fail_at)
		return cf_error_set(err, CF_E_LIMIT, "consumer failed");
	f->out += n;
	return CF_OK;
}

static bool
fz_sig(void *arg, bool trailer, const uint8_t hash[32], const char *sig)
{
	(void)arg;
	(void)trailer;
	(void)hash;
	return strlen(sig) == 64 && sig[0] != 'f';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_awsc	d;
	struct fz	f = { 0, -1, 0 };
	enum cf_awsc_mode mode;
	size_t		piece, off, n;
	cf_err		rc;

	if (size < 2)
		return 0;
	mode = (enum cf_awsc_mode)(data[0] % 3);
	if (data[0] & 0x80)
		f.fail_at = (data[0] >> 2) & 0x1f;
	piece = (size_t)data[1] + 1;
	data += 2;
	size -= 2;
	rc = cf_awsc_init(&d, mode, mode == CF_AWSC_SIGNED ? NULL :
	    "x-amz-checksum-crc32", fz_out, &f, fz_sig, NULL, NULL);
	if (rc != CF_OK)
		abort();
	for (off = 0; rc == CF_OK && off < size; off += n) {
		n = size - off < piece ? size - off : piece;
		rc = cf_awsc_feed(&d, data + off, n, NULL);
	}
	if (f.out > size || f.out != d.decoded)
		abort();
	if (rc != CF_OK) {
		/* SEC: no input after a failure. */
		if (cf_awsc_feed(&d, (const uint8_t *)"0", 1, NULL) == CF_OK)
			abort();
	} else
		(void)cf_awsc_finish(&d, NULL);
	cf_awsc_free(&d);
	return 0;
}

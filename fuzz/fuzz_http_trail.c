/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * fuzz/fuzz_http_trail.c: a request body that ends with its own digest
 * (`X-Coffer-SHA256: trailing`), cut into pieces of hostile sizes.
 * Input: two bytes that seed the piece sizes (0 to 130 bytes, so every
 * branch of the hold-back is reached) and, when the first has its top bit
 * set, which call of the consumer fails; then the body.
 *
 * Oracles (abort on violation): never more than CF_HTTP_TRAIL_LEN bytes
 * are held; what the consumer received plus what is held is always
 * exactly the body so far, in order; at the end the digest is the body's
 * last CF_HTTP_TRAIL_LEN bytes (NULL when shorter); after a consumer
 * failure the feed reports it and the consumer is not called again by
 * that feed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "server/http_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	const uint8_t	*body;
	size_t		 got;
	size_t		 calls;
	size_t		 fail_at;
	bool		 failed;
};

static cf_err
consume(void *arg, const char *p, size_t n, struct cf_error *err)
{
	struct out	*o = arg;

	if (o->failed)
		abort();	/* called again after its failure */
	o->calls++;
	if (o->fail_at != 0 && o->calls == o->fail_at) {
		o->failed = true;
		return cf_error_set(err, CF_E_IO, "consumer failed");
	}
	if (memcmp(p, o->body + o->got, n) != 0)
		abort();	/* out of order or altered */
	o->got += n;
	return CF_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_http_trail	 t;
	struct out		 o;
	const uint8_t		*body;
	const char		*d;
	uint32_t		 x;
	size_t			 n, off, piece;
	cf_err			 rc;

	if (size < 2)
		return 0;
	x = (uint32_t)data[0] << 8 | data[1];
	body = data + 2;
	n = size - 2;
	memset(&t, 0, sizeof(t));
	memset(&o, 0, sizeof(o));
	o.body = body;
	o.fail_at = (data[0] & 0x80) != 0 ? (size_t)(data[1] % 5) + 1 : 0;
	for (off = 0; off < n; off += piece) {
		x = x * 1103515245u + 12345u;
		piece = (x >> 16) % 131;
		if (piece > n - off)
			piece = n - off;
		rc = cf_http_trail_feed(&t, (const char *)body + off, piece,
		    consume, &o, NULL);
		if (o.failed) {
			if (rc != CF_E_IO)
				abort();	/* the failure was lost */
			return 0;
		}
		if (rc != CF_OK || t.len > CF_HTTP_TRAIL_LEN ||
		    o.got + t.len != off + piece ||
		    memcmp(t.held, body + o.got, t.len) != 0)
			abort();
	}
	d = cf_http_trail_digest(&t);
	if (n < CF_HTTP_TRAIL_LEN) {
		if (d != NULL || o.got != 0)
			abort();
		return 0;
	}
	if (d == NULL || o.got != n - CF_HTTP_TRAIL_LEN ||
	    memcmp(d, body + o.got, CF_HTTP_TRAIL_LEN) != 0 ||
	    d[CF_HTTP_TRAIL_LEN] != '\0')
		abort();
	return 0;
}

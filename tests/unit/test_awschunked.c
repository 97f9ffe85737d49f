/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * tests/unit/test_awschunked.c: the aws-chunked decoder
 * (server/awschunked.c), its chunk signature chain (core/ops_s3.c)
 * against AWS's documented example ("Signature Calculations for the
 * Authorization Header: Transferring Payload in Multiple Chunks"), and
 * the S3 checksums (crypto/checksum.c) against their check values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/core.h"
#include "crypto/checksum.h"
#include "crypto/crypto.h"
#include "server/awschunked.h"

#define AWS_SECRET	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define AWS_SEED \
	"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define AWS_SIG1 \
	"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define AWS_SIG2 \
	"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define AWS_SIG3 \
	"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"

/* A CRC of A||B from the CRCs of A and B and B's length: for every
 * CRC S3 knows, lengths around the matrix steps, empty parts too, and
 * only for the CRCs. */
static void
test_checksum_combine(void **state)
{
	static const enum cf_cksum_alg crcs[] = { CF_CKSUM_CRC32,
	    CF_CKSUM_CRC32C, CF_CKSUM_CRC64NVME };
	static const size_t lens[] = { 0, 1, 2, 3, 7, 8, 9, 100, 1023, 4096,
	    65537 };
	uint8_t		*buf, ca[CF_CKSUM_MAX], cb[CF_CKSUM_MAX];
	uint8_t		 whole[CF_CKSUM_MAX], got[CF_CKSUM_MAX];
	struct cf_cksum	*h;
	size_t		 i, j, k, n = 2 * 65537;
	uint32_t	 x = 12345;

	(void)state;
	buf = malloc(n);
	assert_non_null(buf);
	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;	/* any bytes will do */
		buf[i] = (uint8_t)(x >> 16);
	}
	for (i = 0; i < sizeof(crcs) / sizeof(crcs[0]); i++)
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
			for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
				size_t la = lens[j], lb = lens[k];

				assert_int_equal(cf_cksum_new(crcs[i], &h,
				    NULL), CF_OK);
				cf_cksum_update(h, buf, la);
				cf_cksum_final(h, ca);
				cf_cksum_free(h);
				assert_int_equal(cf_cksum_new(crcs[i], &h,
				    NULL), CF_OK);
				cf_cksum_update(h, buf + la, lb);
				cf_cksum_final(h, cb);
				cf_cksum_free(h);
				assert_int_equal(cf_cksum_new(crcs[i], &h,
				    NULL), CF_OK);
				cf_cksum_update(h, buf, la + lb);
				cf_cksum_final(h, whole);
				cf_cksum_free(h);
				assert_int_equal(cf_cksum_combine(crcs[i], ca,
				    cb, lb, got), CF_OK);
				assert_memory_equal(got, whole,
				    cf_cksum_len(crcs[i]));
			}
	assert_int_equal(cf_cksum_combine(CF_CKSUM_SHA256, ca, cb, 1, got),
	    CF_E_INVAL);
	assert_int_equal(cf_cksum_combine(CF_CKSUM_NONE, ca, cb, 1, got),
	    CF_E_INVAL);
	free(buf);
}

static void
test_checksum_check_values(void **state)
{
	static const struct {
		enum cf_cksum_alg	 alg;
		const char		*hex;
	} kv[] = {
		{ CF_CKSUM_CRC32, "cbf43926" },
		{ CF_CKSUM_CRC32C, "e3069283" },
		{ CF_CKSUM_CRC64NVME, "ae8b14860a799888" },
		{ CF_CKSUM_SHA1, "f7c3bc1d808e04732adf679965ccc34ca7ae3441" },
		{ CF_CKSUM_SHA256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce"
		    "94c65fbc8c3312448eb225" },
	};
	uint8_t		 out[CF_CKSUM_MAX], one[CF_CKSUM_MAX], buf[1000];
	char		 hex[2 * CF_CKSUM_MAX + 1];
	struct cf_cksum	*h, *g;
	size_t		 i, j;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		assert_int_equal(cf_cksum_alg_of(cf_cksum_name(kv[i].alg)),
		    kv[i].alg);
		assert_int_equal(cf_cksum_new(kv[i].alg, &h, NULL), CF_OK);
		cf_cksum_update(h, "1234", 4);
		cf_cksum_update(h, "56789", 5);
		cf_cksum_final(h, out);
		cf_cksum_free(h);
		cf_hex_encode(out, cf_cksum_len(kv[i].alg), hex);
		assert_string_equal(hex, kv[i].hex);
		/* Eight at a time (the tables) equals one at a time. */
		assert_int_equal(cf_cksum_new(kv[i].alg, &h, NULL), CF_OK);
		assert_int_equal(cf_cksum_new(kv[i].alg, &g, NULL), CF_OK);
		cf_cksum_update(h, buf, sizeof(buf));
		for (j = 0; j < sizeof(buf); j++)
			cf_cksum_update(g, buf + j, 1);
		cf_cksum_final(h, out);
		cf_cksum_final(g, one);
		assert_memory_equal(out, one, cf_cksum_len(kv[i].alg));
		cf_cksum_free(h);
		cf_cksum_free(g);
	}
	assert_int_equal(cf_cksum_alg_of("CRC32"), CF_CKSUM_CRC32);
	assert_int_equal(cf_cksum_alg_of("mode"), CF_CKSUM_NONE);
	assert_int_not_equal(cf_cksum_new(CF_CKSUM_NONE, &h, NULL), CF_OK);
}

/* ---- the decoder ---- */

struct sink {
	struct cf_buf		 out;
	struct cf_s3_chain	*chain;
	int			 sigs;
};

static cf_err
sink_out(void *arg, const uint8_t *p, size_t n, struct cf_error *err)
{
	struct sink	*s = arg;

	return cf_buf_append(&s->out, p, n, err);
}

static bool
sink_sig(void *arg, bool trailer, const uint8_t hash[32], const char *sig)
{
	struct sink	*s = arg;

	s->sigs++;
	return cf_s3_chain_next(s->chain, trailer, hash, sig);
}

/* AWS's example: 65536 + 1024 bytes of 'a' in chunks of 64 KiB. */
static void
aws_body(struct cf_buf *b, const char *sig1)
{
	static uint8_t	a[65536];

	memset(a, 'a', sizeof(a));
	assert_int_equal(cf_buf_printf(b, NULL, "10000;chunk-signature=%s\r\n",
	    sig1), CF_OK);
	assert_int_equal(cf_buf_append(b, a, 65536, NULL), CF_OK);
	assert_int_equal(cf_buf_printf(b, NULL, "\r\n400;chunk-signature=%s"
	    "\r\n", AWS_SIG2), CF_OK);
	assert_int_equal(cf_buf_append(b, a, 1024, NULL), CF_OK);
	assert_int_equal(cf_buf_printf(b, NULL, "\r\n0;chunk-signature=%s"
	    "\r\n\r\n", AWS_SIG3), CF_OK);
}

static struct cf_s3_chain *
aws_chain(void)
{
	struct cf_s3_auth	 a;
	struct cf_s3_chain	*ch = NULL;
	uint8_t			 sk[32];

	assert_int_equal(cf_s3_signing_key(AWS_SECRET, strlen(AWS_SECRET),
	    "20130524", "us-east-1", "s3", sk, NULL), CF_OK);
	memset(&a, 0, sizeof(a));
	a.date = "20130524";
	a.region = "us-east-1";
	a.service = "s3";
	a.amz_date = "20130524T000000Z";
	a.signature = AWS_SEED;
	assert_int_equal(cf_s3_chain_new(&a, sk, &ch, NULL), CF_OK);
	return ch;
}

/* Decode body in pieces of piece bytes; the result of finish (or of the
 * first failing feed). */
static cf_err
decode(enum cf_awsc_mode mode, const char *trailer, const struct cf_buf *b,
    size_t piece, struct sink *s, struct cf_awsc *d)
{
	size_t	off, n;
	cf_err	rc;

	cf_buf_init(&s->out, 1 << 20);
	rc = cf_awsc_init(d, mode, trailer, sink_out, s, sink_sig, s, NULL);
	for (off = 0; rc == CF_OK && off < b->len; off += n) {
		n = b->len - off < piece ? b->len - off : piece;
		rc = cf_awsc_feed(d, (const uint8_t *)b->data + off, n, NULL);
	}
	if (rc == CF_OK)
		rc = cf_awsc_finish(d, NULL);
	cf_awsc_free(d);
	return rc;
}

static void
test_awschunked_aws_signed_example(void **state)
{
	static const size_t	pieces[] = { 1, 2, 7, 64, 65537, 1 << 20 };
	struct cf_buf		b;
	struct cf_awsc		d;
	struct sink		s;
	size_t			i, j;

	(void)state;
	cf_buf_init(&b, 1 << 20);
	aws_body(&b, AWS_SIG1);
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		memset(&s, 0, sizeof(s));
		s.chain = aws_chain();
		assert_int_equal(decode(CF_AWSC_SIGNED, NULL, &b, pieces[i],
		    &s, &d), CF_OK);
		assert_int_equal(s.out.len, 66560);
		assert_int_equal(s.sigs, 3);
		for (j = 0; j < s.out.len; j++)
			assert_int_equal(s.out.data[j], 'a');
		cf_buf_free(&s.out);
		cf_s3_chain_free(s.chain);
	}
	cf_buf_free(&b);
	/* A wrong first signature: refused as a signature, not framing. */
	cf_buf_init(&b, 1 << 20);
	aws_body(&b, AWS_SIG2);
	memset(&s, 0, sizeof(s));
	s.chain = aws_chain();
	assert_int_equal(decode(CF_AWSC_SIGNED, NULL, &b, 4096, &s, &d),
	    CF_E_AUTH);
	assert_int_equal(d.why, CF_AWSC_SIGNATURE);
	cf_buf_free(&s.out);
	cf_s3_chain_free(s.chain);
	cf_buf_free(&b);
}

static cf_err
unsigned_case(const char *text, const char *trailer, struct sink *s,
    struct cf_awsc *d)
{
	struct cf_buf	b;
	cf_err		rc;

	cf_buf_init(&b, 1 << 16);
	assert_int_equal(cf_buf_append_str(&b, text, NULL), CF_OK);
	memset(s, 0, sizeof(*s));
	rc = decode(CF_AWSC_UNSIGNED_TRAILER, trailer, &b, 3, s, d);
	cf_buf_free(&b);
	return rc;
}

static void
test_awschunked_unsigned_trailer(void **state)
{
	static const char *const bad[] = {
		"5\r\nhello\r\n0\r\n\r\n",		/* no trailer */
		"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n",
		"6\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n",
		"4\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n",
		"5\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n",
		"5;x=y\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n",
		"g\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n",
		"1000000000000000\r\nhello\r\n",
		"5\r\nhello\r\n0\r\nx-amz-checksum-sha1:AAAA\r\n\r\n",
		"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n"
		    "x-amz-checksum-crc32:AAAA\r\n\r\n",
		"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\nmore",
		"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:\r\n\r\n",
		"",
	};
	struct sink	s;
	struct cf_awsc	d;
	size_t		i;
	char		big[CF_AWSC_LINE_MAX + 64];

	(void)state;
	assert_int_equal(unsigned_case("5\r\nhello\r\n3\r\nabc\r\n0\r\n"
	    "X-Amz-Checksum-CRC32: AAAA \r\n\r\n", "x-amz-checksum-crc32", &s,
	    &d), CF_OK);
	assert_int_equal(s.out.len, 8);
	assert_memory_equal(s.out.data, "helloabc", 8);
	assert_string_equal(cf_awsc_trailer_value(&d), "AAAA");
	cf_buf_free(&s.out);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(unsigned_case(bad[i], "x-amz-checksum-crc32",
		    &s, &d), CF_E_INPUT);
		cf_buf_free(&s.out);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(unsigned_case(big, "x-amz-checksum-crc32", &s, &d),
	    CF_E_INPUT);
	cf_buf_free(&s.out);
	/* A -TRAILER mode needs its trailer named; others refuse one. */
	assert_int_not_equal(cf_awsc_init(&d, CF_AWSC_UNSIGNED_TRAILER, NULL,
	    sink_out, &s, NULL, NULL, NULL), CF_OK);
	assert_int_not_equal(cf_awsc_init(&d, CF_AWSC_SIGNED, "x-amz-checksum"
	    "-crc32", sink_out, &s, sink_sig, &s, NULL), CF_OK);
}

static void
test_awschunked_survives_every_alloc_failure(void **state)
{
	struct cf_buf	b;
	struct cf_awsc	d;
	struct sink	s;
	unsigned int	n;
	cf_err		rc;

	(void)state;
	cf_buf_init(&b, 1 << 20);
	aws_body(&b, AWS_SIG1);
	for (n = 1;; n++) {
		memset(&s, 0, sizeof(s));
		s.chain = aws_chain();
		cf_test_fail_alloc_after(n);
		rc = decode(CF_AWSC_SIGNED, NULL, &b, 5000, &s, &d);
		cf_test_fail_alloc_after(0);
		cf_buf_free(&s.out);
		cf_s3_chain_free(s.chain);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
	}
	cf_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_check_values),
		cmocka_unit_test(test_checksum_combine),
		cmocka_unit_test(test_awschunked_aws_signed_example),
		cmocka_unit_test(test_awschunked_unsigned_trailer),
		cmocka_unit_test(test_awschunked_survives_every_alloc_failure),
	};

	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

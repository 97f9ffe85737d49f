/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * tests/unit/test_sigv4.c: SigV4 parsing and canonicalisation
 * (server/sigv4.c) and the signing key (core/ops_s3.c), against the
 * values AWS documents ("Signature Calculations for the Authorization
 * Header", example GET Object). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/str.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "server/sigv4.h"

#define EMPTY_SHA \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define AWS_SECRET	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static const char aws_cr[] =
    "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n"
    "range:bytes=0-9\nx-amz-content-sha256:" EMPTY_SHA "\n"
    "x-amz-date:20130524T000000Z\n\n"
    "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA;

static const char aws_sts[] =
    "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/"
    "aws4_request\n"
    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972";

/* Header case and spacing variants, an unsigned extra header and the
 * s3cmd "," separator give AWS's canonical request. */
static void
test_sigv4_aws_get_object_example(void **state)
{
	static const struct cf_sigv4_header h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "Range", "  bytes=0-9 " },
		{ "X-Amz-Content-SHA256", EMPTY_SHA },
		{ "x-amz-date", "20130524T000000Z" },
		{ "amz-sdk-invocation-id", "not signed" },
	};
	struct cf_sigv4_auth	a;
	struct cf_sigv4_query	q;
	struct cf_buf		cr, sts;
	uint8_t			k[32], mac[32];
	char			hex[65];

	(void)state;
	assert_int_equal(cf_sigv4_parse_header("AWS4-HMAC-SHA256 "
	    "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
	    "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;"
	    "x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f01"
	    "70aba48dd91039c6036bdb41", &a, NULL), CF_OK);
	assert_string_equal(a.key_id, "AKIAIOSFODNN7EXAMPLE");
	assert_string_equal(a.region, "us-east-1");
	cf_strlcpy(a.amz_date, "20130524T000000Z", sizeof(a.amz_date));
	assert_int_equal(cf_sigv4_query_parse("", &q, NULL), CF_OK);
	cf_buf_init(&cr, 65536);
	cf_buf_init(&sts, 4096);
	assert_int_equal(cf_sigv4_canonical("GET", "/test.txt", &q, h,
	    sizeof(h) / sizeof(h[0]), &a, EMPTY_SHA, &cr, NULL), CF_OK);
	assert_string_equal(cr.data, aws_cr);
	assert_int_equal(cf_sigv4_string_to_sign(&a, cr.data, cr.len, &sts,
	    NULL), CF_OK);
	assert_string_equal(sts.data, aws_sts);
	assert_int_equal(cf_s3_signing_key(AWS_SECRET, strlen(AWS_SECRET),
	    "20130524", "us-east-1", "s3", k, NULL), CF_OK);
	assert_int_equal(cf_hmac_sha256_raw(k, sizeof(k), sts.data, sts.len,
	    mac, NULL), CF_OK);
	cf_hex_encode(mac, sizeof(mac), hex);
	assert_string_equal(hex, a.signature);
	cf_buf_free(&cr);
	cf_buf_free(&sts);
	cf_sigv4_query_free(&q);
}

/* Value-less sub-resources (?uploads, ?uploads=) canonicalise alike; the
 * query is sorted and encoded; X-Amz-Signature is left out. */
static void
test_sigv4_query_canonical(void **state)
{
	static const struct cf_sigv4_header h[] = { { "host", "h" } };
	struct cf_sigv4_auth	a;
	struct cf_sigv4_query	q1, q2;
	struct cf_buf		b1, b2;

	(void)state;
	memset(&a, 0, sizeof(a));
	cf_strlcpy(a.signed_headers, "host", sizeof(a.signed_headers));
	assert_int_equal(cf_sigv4_query_parse("uploads&prefix=a%20b&"
	    "X-Amz-Signature=00", &q1, NULL), CF_OK);
	assert_int_equal(cf_sigv4_query_parse("prefix=a%20b&uploads=", &q2,
	    NULL), CF_OK);
	cf_buf_init(&b1, 4096);
	cf_buf_init(&b2, 4096);
	assert_int_equal(cf_sigv4_canonical("POST", "/b/a%2Bb c", &q1, h, 1,
	    &a, "UNSIGNED-PAYLOAD", &b1, NULL), CF_OK);
	assert_int_equal(cf_sigv4_canonical("POST", "/b/a+b%20c", &q2, h, 1,
	    &a, "UNSIGNED-PAYLOAD", &b2, NULL), CF_OK);
	assert_string_equal(b1.data, b2.data);
	assert_non_null(strstr(b1.data, "\n/b/a%2Bb%20c\nprefix=a%20b&"
	    "uploads=\n"));
	/* A signed header that is missing, or unsorted names: refused. */
	cf_strlcpy(a.signed_headers, "host;x-amz-date",
	    sizeof(a.signed_headers));
	assert_int_equal(cf_sigv4_canonical("GET", "/", &q1, h, 1, &a, "x",
	    &b1, NULL), CF_E_INPUT);
	cf_strlcpy(a.signed_headers, "x;host", sizeof(a.signed_headers));
	assert_int_equal(cf_sigv4_canonical("GET", "/", &q1, h, 1, &a, "x",
	    &b1, NULL), CF_E_INPUT);
	cf_buf_free(&b1);
	cf_buf_free(&b2);
	cf_sigv4_query_free(&q1);
	cf_sigv4_query_free(&q2);
}

static void
test_sigv4_parse_refusals(void **state)
{
	struct cf_sigv4_auth	a;
	int64_t			t;

	(void)state;
	assert_int_equal(cf_sigv4_parse_header("AWS AK:sig", &a, NULL),
	    CF_E_INPUT);
	assert_int_equal(cf_sigv4_parse_header("AWS4-HMAC-SHA256 "
	    "Credential=AK/2013/us-east-1/s3/aws4_request, SignedHeaders=host,"
	    " Signature=00", &a, NULL), CF_E_INPUT);
	assert_int_equal(cf_sigv4_parse_header("AWS4-HMAC-SHA256 "
	    "SignedHeaders=host", &a, NULL), CF_E_INPUT);
	assert_int_equal(cf_sigv4_parse_date("20130524T000000Z", &t, NULL),
	    CF_OK);
	assert_int_equal(t, 1369353600);
	assert_int_equal(cf_sigv4_parse_date("20131324T000000Z", &t, NULL),
	    CF_E_INPUT);
	assert_int_equal(cf_sigv4_parse_date("2013-05-24", &t, NULL),
	    CF_E_INPUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigv4_aws_get_object_example),
		cmocka_unit_test(test_sigv4_query_canonical),
		cmocka_unit_test(test_sigv4_parse_refusals),
	};

	if (cf_crypto_init(NULL) != CF_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

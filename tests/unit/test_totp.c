/* cf-link: cf_crypto cf_base */
/* tests/unit/test_totp.c: src/crypto/totp.c and qr.c — RFC 6238 Appendix
 * B vectors (SHA1, the 20-byte secret "12345678901234567890"), the
 * verification window and its edges, replay refusal, malformed codes,
 * base32, the otpauth:// URI, recovery codes, the terminal QR code, and
 * NOMEM paths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/mem.h"
#include "crypto/qr.h"
#include "crypto/totp.h"

static const uint8_t rfc_secret[20] = "12345678901234567890";

/* RFC 6238 Appendix B, SHA1 column; our 6 digits are the last 6 of its 8
 * (both are the same truncated value mod 10^d). */
static const struct {
	int64_t		 t;
	const char	*code8;
} rfc[] = {
	{ 59, "94287082" },
	{ 1111111109, "07081804" },
	{ 1111111111, "14050471" },
	{ 1234567890, "89005924" },
	{ 2000000000, "69279037" },
	{ 20000000000LL, "65353130" },
};

static void
test_totp_rfc6238_vectors(void **state)
{
	char	code[CF_TOTP_DIGITS + 1];
	int64_t	m;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		assert_int_equal(cf_totp_generate(rfc_secret, 20,
		    cf_totp_step(rfc[i].t), code, NULL), CF_OK);
		assert_string_equal(code, rfc[i].code8 + 2);
		m = -7;
		assert_int_equal(cf_totp_verify(rfc_secret, 20,
		    rfc[i].code8 + 2, 6, rfc[i].t, 0, -1, &m, NULL), CF_OK);
		assert_int_equal(m, rfc[i].t / 30);
	}
	assert_int_equal(cf_totp_step(-5), 0);
	assert_int_equal(cf_totp_step(59), 1);
}

static void
test_totp_replay_refused(void **state)
{
	struct cf_error	e;
	int64_t		m = -1, m2 = -1;
	const char	*code = "050471";	/* t = 1111111111 */

	(void)state;
	assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6, 1111111111,
	    1, -1, &m, NULL), CF_OK);
	assert_int_equal(m, 1111111111 / 30);
	/* The same code again, same step, recorded as used: refused. */
	cf_error_clear(&e);
	assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6, 1111111111,
	    1, m, &m2, &e), CF_E_AUTH);
	assert_non_null(strstr(e.msg, "already used"));
	assert_int_equal(m2, -1);		/* untouched */
	/* ...and still refused later in its window. */
	assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6,
	    1111111111 + 30, 1, m, &m2, NULL), CF_E_AUTH);
	/* A later step's code is fine after it. */
	{
		char	next[7];

		assert_int_equal(cf_totp_generate(rfc_secret, 20, m + 1, next,
		    NULL), CF_OK);
		assert_int_equal(cf_totp_verify(rfc_secret, 20, next, 6,
		    1111111111 + 30, 1, m, &m2, NULL), CF_OK);
		assert_int_equal(m2, m + 1);
		/* An older (still in-window) code after a newer one: no. */
		assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6,
		    1111111111 + 30, 1, m2, &m, NULL), CF_E_AUTH);
	}
}

static void
test_totp_window_edges(void **state)
{
	char		 code[7];
	int64_t		 now = 1700000015, t = now / 30, m;
	struct cf_error	 e;
	int		 d;

	(void)state;
	for (d = -3; d <= 3; d++) {
		assert_int_equal(cf_totp_generate(rfc_secret, 20, t + d, code,
		    NULL), CF_OK);
		cf_error_clear(&e);
		m = -1;
		if (d >= -1 && d <= 1) {
			assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6,
			    now, 1, -1, &m, &e), CF_OK);
			assert_int_equal(m, t + d);
		} else {
			assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6,
			    now, 1, -1, &m, &e), CF_E_AUTH);
			assert_non_null(strstr(e.msg, "wrong"));
		}
		/* Window 0: only the current step. */
		assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6, now,
		    0, -1, &m, NULL), d == 0 ? CF_OK : CF_E_AUTH);
		/* Window 3 takes them all. */
		assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6, now,
		    3, -1, &m, NULL), CF_OK);
	}
	/* Step boundaries: the last and first second of a step. */
	assert_int_equal(cf_totp_generate(rfc_secret, 20, 1000, code, NULL),
	    CF_OK);
	assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6, 1000 * 30,
	    0, -1, &m, NULL), CF_OK);
	assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6,
	    1000 * 30 + 29, 0, -1, &m, NULL), CF_OK);
	assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6,
	    1000 * 30 + 30, 0, -1, &m, NULL), CF_E_AUTH);
	assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6,
	    1000 * 30 - 1, 0, -1, &m, NULL), CF_E_AUTH);
	/* Near the epoch the window is clipped, not wrapped. */
	assert_int_equal(cf_totp_generate(rfc_secret, 20, 0, code, NULL),
	    CF_OK);
	assert_int_equal(cf_totp_verify(rfc_secret, 20, code, 6, 5, 2, -1, &m,
	    NULL), CF_OK);
	assert_int_equal(m, 0);
}

static void
test_totp_malformed_codes(void **state)
{
	const char	*bad[] = {
		"", "12345", "1234567", "12345a", " 23456", "123456\n",
		"+12345", "-12345", "12 456", "\xd9\xa1\xd9\xa2\xd9\xa3",
		"0x1234",
	};
	int64_t		 m = 42;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(cf_totp_code_valid(bad[i], strlen(bad[i])));
		assert_int_equal(cf_totp_verify(rfc_secret, 20, bad[i],
		    strlen(bad[i]), 59, 1, -1, &m, NULL), CF_E_INPUT);
	}
	/* Embedded NUL with the right length. */
	assert_int_equal(cf_totp_verify(rfc_secret, 20, "287\0" "82", 6, 59,
	    1, -1, &m, NULL), CF_E_INPUT);
	assert_int_equal(m, 42);
	assert_true(cf_totp_code_valid("287082", 6));
	/* API misuse. */
	assert_int_equal(cf_totp_verify(rfc_secret, 20, "287082", 6, 59,
	    CF_TOTP_WINDOW_MAX + 1, -1, &m, NULL), CF_E_INVAL);
	assert_int_equal(cf_totp_verify(rfc_secret, 0, "287082", 6, 59, 1, -1,
	    &m, NULL), CF_E_INVAL);
	assert_int_equal(cf_totp_verify(NULL, 20, "287082", 6, 59, 1, -1, &m,
	    NULL), CF_E_INVAL);
	/* A wrong secret. */
	assert_int_equal(cf_totp_verify((const uint8_t *)"x2345678901234567890",
	    20, "287082", 6, 59, 1, -1, &m, NULL), CF_E_AUTH);
}

static void
test_totp_base32(void **state)
{
	char	b32[CF_TOTP_B32_MAX], small[8];
	uint8_t	out[CF_TOTP_SECRET_MAX];
	size_t	n = 0;
	uint8_t	sec[CF_TOTP_SECRET_LEN], sec2[CF_TOTP_SECRET_LEN];

	(void)state;
	assert_int_equal(cf_totp_b32_encode(rfc_secret, 20, b32, sizeof(b32),
	    NULL), CF_OK);
	assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	assert_int_equal(cf_totp_b32_encode(rfc_secret, 20, small,
	    sizeof(small), NULL), CF_E_LIMIT);
	assert_int_equal(cf_totp_b32_encode(rfc_secret, 0, b32, sizeof(b32),
	    NULL), CF_E_LIMIT);
	/* Padding is stripped. */
	assert_int_equal(cf_totp_b32_encode((const uint8_t *)"1", 1, b32,
	    sizeof(b32), NULL), CF_OK);
	assert_string_equal(b32, "GE");
	assert_int_equal(cf_totp_b32_decode(
	    "gezdgnbv gy3tqojq GEZDGNBVGY3TQOJQ", 34, out, sizeof(out), &n,
	    NULL), CF_OK);
	assert_int_equal(n, 20);
	assert_memory_equal(out, rfc_secret, 20);
	assert_int_equal(cf_totp_b32_decode("GEZDGNB1", 8, out, sizeof(out),
	    &n, NULL), CF_E_INPUT);
	assert_int_equal(cf_totp_b32_decode("GEZ\0GNBV", 8, out, sizeof(out),
	    &n, NULL), CF_E_INPUT);
	assert_int_equal(cf_totp_b32_decode("GEZDGNBVGY3TQOJQ", 16, out, 4, &n,
	    NULL), CF_E_LIMIT);
	{
		char	big[CF_TOTP_B32_MAX + 2];

		memset(big, 'A', sizeof(big));
		assert_int_equal(cf_totp_b32_decode(big, sizeof(big), out,
		    sizeof(out), &n, NULL), CF_E_LIMIT);
	}
	/* Fresh secrets round-trip and differ. */
	assert_int_equal(cf_totp_secret_new(sec, NULL), CF_OK);
	assert_int_equal(cf_totp_secret_new(sec2, NULL), CF_OK);
	assert_memory_not_equal(sec, sec2, sizeof(sec));
	assert_int_equal(cf_totp_b32_encode(sec, sizeof(sec), b32,
	    sizeof(b32), NULL), CF_OK);
	assert_int_equal(strlen(b32), 32);
	assert_int_equal(cf_totp_b32_decode(b32, strlen(b32), out, sizeof(out),
	    &n, NULL), CF_OK);
	assert_int_equal(n, sizeof(sec));
	assert_memory_equal(out, sec, sizeof(sec));
}

static void
test_totp_uri(void **state)
{
	char		 uri[CF_TOTP_URI_MAX], label[CF_TOTP_LABEL_MAX + 2];
	struct cf_error	 e;
	unsigned int	 n;
	cf_err		 rc;

	(void)state;
	assert_int_equal(cf_totp_uri("Coffer", "alice@example.com",
	    rfc_secret, 20, uri, NULL), CF_OK);
	assert_string_equal(uri, "otpauth://totp/Coffer:alice%40example.com"
	    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Coffer"
	    "&algorithm=SHA1&digits=6&period=30");
	assert_int_equal(cf_totp_uri("ACME ML/Prod", "j\xc3\xb6rg&x=1?#",
	    rfc_secret, 20, uri, NULL), CF_OK);
	assert_string_equal(uri, "otpauth://totp/ACME%20ML%2FProd:"
	    "j%C3%B6rg%26x%3D1%3F%23?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	    "&issuer=ACME%20ML%2FProd&algorithm=SHA1&digits=6&period=30");
	cf_error_clear(&e);
	assert_int_equal(cf_totp_uri("Co:ffer", "alice", rfc_secret, 20, uri,
	    &e), CF_E_INPUT);
	assert_int_equal(cf_totp_uri("Coffer", "al:ice", rfc_secret, 20, uri,
	    NULL), CF_E_INPUT);
	assert_int_equal(cf_totp_uri("Coffer", "al\nice", rfc_secret, 20, uri,
	    NULL), CF_E_INPUT);
	assert_int_equal(cf_totp_uri("Coffer", "", rfc_secret, 20, uri, NULL),
	    CF_E_INPUT);
	assert_int_equal(cf_totp_uri("Coffer", "\xff\xfe", rfc_secret, 20,
	    uri, NULL), CF_E_INPUT);
	memset(label, 'a', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	assert_int_equal(cf_totp_uri("Coffer", label, rfc_secret, 20, uri,
	    NULL), CF_E_INPUT);
	/* Longest labels, all percent-encoded: still fits. */
	memset(label, '%', CF_TOTP_LABEL_MAX);
	label[CF_TOTP_LABEL_MAX] = '\0';
	rc = cf_totp_uri(label, label, rfc_secret, 20, uri, NULL);
	assert_true(rc == CF_OK || rc == CF_E_LIMIT);
	/* NOMEM paths. */
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_totp_uri("Coffer", "alice", rfc_secret, 20, uri, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
	}
}

static void
test_recovery_codes(void **state)
{
	char		 codes[CF_RECOVERY_CODES_DEFAULT]
			    [CF_RECOVERY_CODE_LEN + 1];
	uint8_t		 hashes[CF_RECOVERY_CODES_DEFAULT][CF_SHA256_LEN];
	uint8_t		 h[CF_SHA256_LEN];
	char		 typed[64], big[CF_RECOVERY_CODE_INPUT_MAX + 2];
	struct cf_error	 e;
	size_t		 i, j, k, idx;

	(void)state;
	for (i = 0; i < CF_RECOVERY_CODES_DEFAULT; i++) {
		assert_int_equal(cf_recovery_code_new(codes[i], hashes[i],
		    NULL), CF_OK);
		assert_int_equal(strlen(codes[i]), CF_RECOVERY_CODE_LEN);
		for (j = 0; j < CF_RECOVERY_CODE_LEN; j++) {
			if (j % 5 == 4)
				assert_int_equal(codes[i][j], '-');
			else
				assert_non_null(strchr(
				    "abcdefghijklmnopqrstuvwxyz234567",
				    codes[i][j]));
		}
		for (k = 0; k < i; k++)
			assert_string_not_equal(codes[i], codes[k]);
	}
	for (i = 0; i < CF_RECOVERY_CODES_DEFAULT; i++) {
		idx = 99;
		assert_int_equal(cf_recovery_code_verify(codes[i],
		    strlen(codes[i]), hashes, CF_RECOVERY_CODES_DEFAULT, &idx,
		    NULL), CF_OK);
		assert_int_equal(idx, i);
	}
	/* As typed: upper case, spaces, no dashes. */
	for (i = 0, j = 0; codes[3][i] != '\0'; i++) {
		if (codes[3][i] == '-') {
			typed[j++] = ' ';
			continue;
		}
		typed[j++] = (char)(codes[3][i] >= 'a' && codes[3][i] <= 'z' ?
		    codes[3][i] - 32 : codes[3][i]);
	}
	typed[j] = '\0';
	assert_int_equal(cf_recovery_code_verify(typed, strlen(typed), hashes,
	    CF_RECOVERY_CODES_DEFAULT, &idx, NULL), CF_OK);
	assert_int_equal(idx, 3);
	/* Used codes are deleted by the caller: a shorter list misses it. */
	cf_error_clear(&e);
	assert_int_equal(cf_recovery_code_verify(codes[9], strlen(codes[9]),
	    hashes, 9, &idx, &e), CF_E_AUTH);
	assert_int_equal(cf_recovery_code_verify(codes[0], strlen(codes[0]),
	    NULL, 0, &idx, NULL), CF_E_AUTH);
	/* Wrong and malformed. */
	assert_int_equal(cf_recovery_code_verify("aaaa-aaaa-aaaa-aaaa", 19,
	    hashes, CF_RECOVERY_CODES_DEFAULT, &idx, NULL), CF_E_AUTH);
	assert_int_equal(cf_recovery_code_hash("aaaa-aaaa-aaaa-aaa", 18, h,
	    NULL), CF_E_INPUT);
	assert_int_equal(cf_recovery_code_hash("aaaa-aaaa-aaaa-aaaaa", 20, h,
	    NULL), CF_E_INPUT);
	assert_int_equal(cf_recovery_code_hash("aaaa-aaaa-aaaa-aaa1", 19, h,
	    NULL), CF_E_INPUT);
	assert_int_equal(cf_recovery_code_hash("aaaa-aaaa\0aaaa-aaaa", 19, h,
	    NULL), CF_E_INPUT);
	memset(big, '-', sizeof(big));
	assert_int_equal(cf_recovery_code_hash(big, sizeof(big), h, NULL),
	    CF_E_LIMIT);
	/* The digest is domain-separated, not a bare SHA-256 of the code. */
	assert_int_equal(cf_recovery_code_hash("aaaaaaaaaaaaaaaa", 16, h,
	    NULL), CF_OK);
	{
		uint8_t	bare[CF_SHA256_LEN];

		cf_sha256("aaaaaaaaaaaaaaaa", 16, bare);
		assert_memory_not_equal(h, bare, sizeof(h));
	}
}

static void
test_qr_render(void **state)
{
	FILE	*f;
	char	 line[4096];
	int	 lines = 0, width = -1, w;
	char	*p;

	(void)state;
	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(cf_qr_render_utf8("otpauth://totp/Coffer:alice?"
	    "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Coffer", false, f,
	    NULL), CF_OK);
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		/* Count cells: ASCII space or one 3-byte block character. */
		for (p = line, w = 0; *p != '\n' && *p != '\0'; w++)
			p += *p == ' ' ? 1 : 3;
		if (width < 0)
			width = w;
		assert_int_equal(w, width);
		lines++;
	}
	/* A version-N code is 17 + 4N modules, plus 2 x 2 of margin. */
	assert_int_equal((width - 4 - 17) % 4, 0);
	assert_int_equal(lines, (width + 1) / 2);
	/* The top margin row is all light: full blocks when not inverted. */
	rewind(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(strncmp(line, "\xe2\x96\x88\xe2\x96\x88", 6), 0);
	(void)fclose(f);
	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(cf_qr_render_utf8("x", true, f, NULL), CF_OK);
	rewind(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(line[0], ' ');
	(void)fclose(f);
	assert_int_equal(cf_qr_render_utf8("", false, stdout, NULL),
	    CF_E_INPUT);
	{
		char	big[CF_QR_TEXT_MAX + 2];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(cf_qr_render_utf8(big, false, stdout, NULL),
		    CF_E_INPUT);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totp_rfc6238_vectors),
		cmocka_unit_test(test_totp_replay_refused),
		cmocka_unit_test(test_totp_window_edges),
		cmocka_unit_test(test_totp_malformed_codes),
		cmocka_unit_test(test_totp_base32),
		cmocka_unit_test(test_totp_uri),
		cmocka_unit_test(test_recovery_codes),
		cmocka_unit_test(test_qr_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

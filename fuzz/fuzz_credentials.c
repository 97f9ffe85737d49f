/* cf-link: cf_crypto cf_base
 * fuzz/fuzz_credentials.c: the credential parsers on arbitrary bytes.  The
 * first byte picks the target, the rest is the input:
 *   0  password policy (against a fixed user name) and the common list
 *   1  stored password hash strings (parsed only: no KDF is run)
 *   2  TOTP code verification against a fixed secret and time
 *   3  recovery code verification against fixed digests
 *   4  base32 decode, then encode/decode round trip
 *   5  otpauth:// URI labels (input split at the first NUL: issuer, user)
 * Invariants that must hold are checked with abort(). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/str.h"
#include "crypto/password.h"
#include "crypto/totp.h"

#define NOW	1111111111LL

static const uint8_t secret[20] = "12345678901234567890";

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_policy(const uint8_t *p, size_t n)
{
	cf_err	rc;

	rc = cf_password_check(NULL, p, n, "alice.admin", NULL);
	if (rc == CF_OK && (n < CF_PASSWORD_MIN_DEFAULT ||
	    n > CF_PASSWORD_MAX || !cf_utf8_valid(p, n) ||
	    cf_password_is_common(p, n)))
		abort();
	if (rc == CF_E_LIMIT && n <= CF_PASSWORD_MAX)
		abort();
}

static void
fuzz_stored(const uint8_t *p, size_t n)
{
	char	s[CF_PWHASH_STR_MAX + 8];

	if (n >= sizeof(s))
		n = sizeof(s) - 1;
	memcpy(s, p, n);
	s[n] = '\0';
	(void)cf_password_needs_rehash(s, NULL);
}

static void
fuzz_totp(const uint8_t *p, size_t n)
{
	int64_t	m = -1;
	cf_err	rc;

	rc = cf_totp_verify(secret, sizeof(secret), (const char *)p, n, NOW, 1,
	    -1, &m, NULL);
	if (rc == CF_OK) {
		/* Only the codes of the three window steps may pass. */
		if (m < NOW / 30 - 1 || m > NOW / 30 + 1 ||
		    !cf_totp_code_valid((const char *)p, n))
			abort();
		/* ...and never twice. */
		if (cf_totp_verify(secret, sizeof(secret), (const char *)p, n,
		    NOW, 1, m, &m, NULL) == CF_OK)
			abort();
	}
	if (rc == CF_E_INPUT && cf_totp_code_valid((const char *)p, n))
		abort();
}

static void
fuzz_recovery(const uint8_t *p, size_t n)
{
	static uint8_t	hashes[3][CF_SHA256_LEN];
	static int	ready;
	size_t		idx;

	if (!ready) {
		if (cf_recovery_code_hash("aaaa-bbbb-cccc-dddd", 19, hashes[0],
		    NULL) != CF_OK ||
		    cf_recovery_code_hash("2345-6723-4567-2345", 19, hashes[1],
		    NULL) != CF_OK ||
		    cf_recovery_code_hash("zzzz-zzzz-zzzz-zzzz", 19, hashes[2],
		    NULL) != CF_OK)
			abort();
		ready = 1;
	}
	if (cf_recovery_code_verify((const char *)p, n, hashes, 3, &idx,
	    NULL) == CF_OK && idx >= 3)
		abort();
}

static void
fuzz_base32(const uint8_t *p, size_t n)
{
	uint8_t	out[CF_TOTP_SECRET_MAX], back[CF_TOTP_SECRET_MAX];
	char	txt[CF_TOTP_B32_MAX];
	size_t	len = 0, len2 = 0;

	if (cf_totp_b32_decode((const char *)p, n, out, sizeof(out), &len,
	    NULL) != CF_OK || len == 0)
		return;
	if (cf_totp_b32_encode(out, len, txt, sizeof(txt), NULL) != CF_OK)
		abort();
	if (cf_totp_b32_decode(txt, strlen(txt), back, sizeof(back), &len2,
	    NULL) != CF_OK || len2 != len || memcmp(out, back, len) != 0)
		abort();
}

static void
fuzz_uri(const uint8_t *p, size_t n)
{
	char		 buf[2 * CF_TOTP_LABEL_MAX + 4];
	char		 uri[CF_TOTP_URI_MAX];
	const char	*user;

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	user = memchr(buf, '\0', n) != NULL ? buf + strlen(buf) + 1 : "alice";
	if (cf_totp_uri(buf, user, secret, sizeof(secret), uri, NULL) ==
	    CF_OK && (strncmp(uri, "otpauth://totp/", 15) != 0 ||
	    strchr(uri + 15, ' ') != NULL))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 6) {
	case 0:
		fuzz_policy(data + 1, size - 1);
		break;
	case 1:
		fuzz_stored(data + 1, size - 1);
		break;
	case 2:
		fuzz_totp(data + 1, size - 1);
		break;
	case 3:
		fuzz_recovery(data + 1, size - 1);
		break;
	case 4:
		fuzz_base32(data + 1, size - 1);
		break;
	default:
		fuzz_uri(data + 1, size - 1);
		break;
	}
	return 0;
}

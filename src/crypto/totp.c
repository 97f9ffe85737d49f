/* src/crypto/totp.c: RFC 6238 TOTP through liboath, the otpauth:// URI,
 * and one-time recovery codes; see totp.h and docs/internals/IDENTITY.md.
 *
 * SEC: liboath's base32 helpers return malloc'ed buffers holding the
 * secret; each is wiped before free().  Codes computed for comparison are
 * wiped on every path. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "crypto/totp.h"

#define RECOVERY_LABEL	"coffer recovery v1"
static const char b32_lower[] = "abcdefghijklmnopqrstuvwxyz234567";

static pthread_once_t	oath_once = PTHREAD_ONCE_INIT;
static int		oath_init_rc = -1;

static void
oath_start(void)
{
	oath_init_rc = oath_init();
}

static cf_err
oath_ready(struct cf_error *err)
{
	(void)pthread_once(&oath_once, oath_start);
	if (oath_init_rc != OATH_OK)
		return cf_error_set(err, CF_E_CRYPTO, "oath_init: %s",
		    oath_strerror(oath_init_rc));
	return CF_OK;
}

cf_err
cf_totp_secret_new(uint8_t secret[CF_TOTP_SECRET_LEN], struct cf_error *err)
{
	return cf_random(secret, CF_TOTP_SECRET_LEN, err);
}

cf_err
cf_totp_b32_encode(const uint8_t *secret, size_t len, char *out,
    size_t outsz, struct cf_error *err)
{
	char	*enc = NULL;
	size_t	 enclen = 0, n;
	int	 orc;
	cf_err	 rc;

	if (secret == NULL || len == 0 || len > CF_TOTP_SECRET_MAX)
		return cf_error_set(err, CF_E_LIMIT,
		    "TOTP secret must be 1..%d bytes", CF_TOTP_SECRET_MAX);
	rc = oath_ready(err);
	if (rc != CF_OK)
		goto out;
	orc = oath_base32_encode((const char *)secret, len, &enc, &enclen);
	if (orc != OATH_OK) {
		rc = cf_error_set(err, orc == OATH_MALLOC_ERROR ? CF_E_NOMEM :
		    CF_E_CRYPTO, "base32 encode: %s", oath_strerror(orc));
		goto out;
	}
	n = enclen;
	while (n > 0 && enc[n - 1] == '=')
		n--;
	if (n + 1 > outsz) {
		rc = cf_error_set(err, CF_E_LIMIT,
		    "base32 text needs %zu bytes, have %zu", n + 1, outsz);
		goto out;
	}
	memcpy(out, enc, n);
	out[n] = '\0';
out:
	if (enc != NULL) {
		cf_wipe(enc, enclen);
		free(enc);
	}
	return rc;
}

cf_err
cf_totp_b32_decode(const char *s, size_t slen, uint8_t *out, size_t outcap,
    size_t *outlen, struct cf_error *err)
{
	char	*dec = NULL;
	size_t	 declen = 0;
	int	 orc;
	cf_err	 rc;

	if (s == NULL || slen > CF_TOTP_B32_MAX)
		return cf_error_set(err, CF_E_LIMIT,
		    "base32 text longer than %d bytes", CF_TOTP_B32_MAX);
	if (memchr(s, '\0', slen) != NULL)
		return cf_error_set(err, CF_E_INPUT, "NUL in base32 text");
	rc = oath_ready(err);
	if (rc != CF_OK)
		goto out;
	orc = oath_base32_decode(s, slen, &dec, &declen);
	if (orc != OATH_OK) {
		rc = cf_error_set(err, orc == OATH_MALLOC_ERROR ? CF_E_NOMEM :
		    CF_E_INPUT, "base32 decode: %s", oath_strerror(orc));
		goto out;
	}
	if (declen > outcap) {
		rc = cf_error_set(err, CF_E_LIMIT,
		    "base32 text decodes to more than %zu bytes", outcap);
		goto out;
	}
	if (declen > 0)
		memcpy(out, dec, declen);
	*outlen = declen;
out:
	if (dec != NULL) {
		cf_wipe(dec, declen);
		free(dec);
	}
	return rc;
}

/* A label (issuer or user) for the key URI. */
static cf_err
label_check(const char *what, const char *s, struct cf_error *err)
{
	size_t	n, i;

	if (s == NULL)
		return cf_error_set(err, CF_E_INVAL, "%s is NULL", what);
	n = strnlen(s, CF_TOTP_LABEL_MAX + 1);
	if (n == 0 || n > CF_TOTP_LABEL_MAX)
		return cf_error_set(err, CF_E_INPUT,
		    "%s must be 1..%d bytes", what, CF_TOTP_LABEL_MAX);
	if (!cf_utf8_valid(s, n))
		return cf_error_set(err, CF_E_INPUT,
		    "%s is not valid UTF-8", what);
	for (i = 0; i < n; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == ':')
			return cf_error_set(err, CF_E_INPUT,
			    "%s contains a control character or ':'", what);
	}
	return CF_OK;
}

/* Percent-encode s (RFC 3986: only unreserved bytes stay literal). */
static cf_err
pct_append(struct cf_buf *b, const char *s, struct cf_error *err)
{
	static const char	hex[] = "0123456789ABCDEF";
	cf_err			rc = CF_OK;
	char			e[3];

	for (; *s != '\0' && rc == CF_OK; s++) {
		unsigned char	c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			rc = cf_buf_append(b, s, 1, err);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		rc = cf_buf_append(b, e, 3, err);
	}
	return rc;
}

cf_err
cf_totp_uri(const char *issuer, const char *user, const uint8_t *secret,
    size_t len, char out[CF_TOTP_URI_MAX], struct cf_error *err)
{
	struct cf_buf	b;
	char		b32[CF_TOTP_B32_MAX];
	cf_err		rc;

	cf_buf_init_secret(&b, CF_TOTP_URI_MAX - 1);
	rc = label_check("issuer", issuer, err);
	if (rc == CF_OK)
		rc = label_check("user", user, err);
	if (rc == CF_OK)
		rc = cf_totp_b32_encode(secret, len, b32, sizeof(b32), err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "otpauth://totp/", err);
	if (rc == CF_OK)
		rc = pct_append(&b, issuer, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, ":", err);
	if (rc == CF_OK)
		rc = pct_append(&b, user, err);
	if (rc == CF_OK)
		rc = cf_buf_printf(&b, err, "?secret=%s&issuer=", b32);
	if (rc == CF_OK)
		rc = pct_append(&b, issuer, err);
	if (rc == CF_OK)
		rc = cf_buf_printf(&b, err,
		    "&algorithm=SHA1&digits=%d&period=%d", CF_TOTP_DIGITS,
		    CF_TOTP_PERIOD);
	if (rc != CF_OK)
		goto out;
	memcpy(out, b.data, b.len + 1);
out:
	cf_buf_free(&b);
	cf_wipe(b32, sizeof(b32));
	return rc;
}

int64_t
cf_totp_step(int64_t now)
{
	return now < 0 ? 0 : now / CF_TOTP_PERIOD;
}

static cf_err
secret_check(const uint8_t *secret, size_t len, struct cf_error *err)
{
	if (secret == NULL || len == 0 || len > CF_TOTP_SECRET_MAX)
		return cf_error_set(err, CF_E_INVAL,
		    "TOTP secret must be 1..%d bytes", CF_TOTP_SECRET_MAX);
	return CF_OK;
}

cf_err
cf_totp_generate(const uint8_t *secret, size_t len, int64_t step,
    char code[CF_TOTP_DIGITS + 1], struct cf_error *err)
{
	char	tmp[CF_TOTP_DIGITS + 1];
	int	orc;
	cf_err	rc;

	rc = secret_check(secret, len, err);
	if (rc != CF_OK)
		return rc;
	if (step < 0 || step > INT64_MAX / CF_TOTP_PERIOD)
		return cf_error_set(err, CF_E_INVAL, "TOTP step out of range");
	rc = oath_ready(err);
	if (rc != CF_OK)
		return rc;
	orc = oath_totp_generate((const char *)secret, len,
	    (time_t)(step * CF_TOTP_PERIOD), CF_TOTP_PERIOD, 0,
	    CF_TOTP_DIGITS, tmp);
	if (orc != OATH_OK) {
		rc = cf_error_set(err, CF_E_CRYPTO, "oath_totp_generate: %s",
		    oath_strerror(orc));
		goto out;
	}
	memcpy(code, tmp, sizeof(tmp));
out:
	cf_wipe(tmp, sizeof(tmp));
	return rc;
}

bool
cf_totp_code_valid(const char *code, size_t codelen)
{
	size_t	i;

	if (code == NULL || codelen != CF_TOTP_DIGITS)
		return false;
	for (i = 0; i < codelen; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

cf_err
cf_totp_verify(const uint8_t *secret, size_t len, const char *code,
    size_t codelen, int64_t now, unsigned int window, int64_t last_used_step,
    int64_t *matched_step, struct cf_error *err)
{
	char		cand[CF_TOTP_DIGITS + 1];
	int64_t		t, s, match_step = -1;
	unsigned int	found = 0, replay = 0, m, fresh, take;
	int64_t		i;
	cf_err		rc;

	rc = secret_check(secret, len, err);
	if (rc != CF_OK)
		return rc;
	if (window > CF_TOTP_WINDOW_MAX)
		return cf_error_set(err, CF_E_INVAL,
		    "TOTP window %u over %d", window, CF_TOTP_WINDOW_MAX);
	if (!cf_totp_code_valid(code, codelen))
		return cf_error_set(err, CF_E_INPUT,
		    "TOTP code must be %d digits", CF_TOTP_DIGITS);
	t = cf_totp_step(now);
	/* SEC: compute and compare every step of the window, keeping the
	 * first fresh match with masks rather than returning early, so the
	 * time taken does not depend on which step matched. */
	for (i = -(int64_t)window; i <= (int64_t)window; i++) {
		s = t + i;
		if (s < 0)
			continue;	/* depends on the clock only */
		rc = cf_totp_generate(secret, len, s, cand, err);
		if (rc != CF_OK)
			goto out;
		m = cf_ct_equal(cand, code, CF_TOTP_DIGITS) ? 1u : 0u;
		fresh = s > last_used_step ? 1u : 0u;
		take = m & fresh & (found ^ 1u);
		match_step = take ? s : match_step;
		found |= take;
		replay |= m & (fresh ^ 1u);
	}
	if (found) {
		*matched_step = match_step;
		rc = CF_OK;
	} else if (replay)
		rc = cf_error_set(err, CF_E_AUTH, "TOTP code already used");
	else
		rc = cf_error_set(err, CF_E_AUTH, "wrong TOTP code");
out:
	cf_wipe(cand, sizeof(cand));
	return rc;
}

cf_err
cf_recovery_code_new(char code[CF_RECOVERY_CODE_LEN + 1],
    uint8_t hash[CF_SHA256_LEN], struct cf_error *err)
{
	uint8_t		rnd[CF_RECOVERY_CODE_CHARS * 5 / 8];
	char		txt[CF_RECOVERY_CODE_LEN + 1];
	unsigned int	acc = 0, bits = 0, v = 0;
	size_t		i, j = 0, n = 0;
	cf_err		rc;

	_Static_assert(CF_RECOVERY_CODE_CHARS * 5 % 8 == 0,
	    "recovery code bits must fill whole bytes");
	rc = cf_random(rnd, sizeof(rnd), err);
	if (rc != CF_OK)
		goto out;
	for (i = 0; i < sizeof(rnd); i++) {
		acc = (acc << 8) | rnd[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			v = (acc >> bits) & 31;
			if (n > 0 && n % 4 == 0)
				txt[j++] = '-';
			txt[j++] = b32_lower[v];
			n++;
		}
	}
	txt[j] = '\0';
	rc = cf_recovery_code_hash(txt, j, hash, err);
	if (rc != CF_OK)
		goto out;
	memcpy(code, txt, sizeof(txt));
out:
	cf_wipe(rnd, sizeof(rnd));
	cf_wipe(txt, sizeof(txt));
	/* SEC: acc and v held bits of the code; a plain store to a dying
	 * local is dropped by the compiler, cf_wipe is not. */
	cf_wipe(&acc, sizeof(acc));
	cf_wipe(&v, sizeof(v));
	return rc;
}

cf_err
cf_recovery_code_hash(const char *input, size_t len,
    uint8_t hash[CF_SHA256_LEN], struct cf_error *err)
{
	char	norm[sizeof(RECOVERY_LABEL) + CF_RECOVERY_CODE_CHARS];
	size_t	i, n = sizeof(RECOVERY_LABEL);	/* label and its NUL */
	cf_err	rc = CF_OK;
	char	c;

	if (input == NULL || len > CF_RECOVERY_CODE_INPUT_MAX)
		return cf_error_set(err, CF_E_LIMIT,
		    "recovery code longer than %d bytes",
		    CF_RECOVERY_CODE_INPUT_MAX);
	memcpy(norm, RECOVERY_LABEL, sizeof(RECOVERY_LABEL));
	for (i = 0; i < len; i++) {
		c = input[i];
		if (c == '-' || c == ' ')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) ||
		    n == sizeof(norm)) {
			rc = cf_error_set(err, CF_E_INPUT,
			    "malformed recovery code");
			goto out;
		}
		norm[n++] = c;
	}
	if (n != sizeof(norm)) {
		rc = cf_error_set(err, CF_E_INPUT, "malformed recovery code");
		goto out;
	}
	cf_sha256(norm, n, hash);
out:
	cf_wipe(norm, sizeof(norm));
	return rc;
}

cf_err
cf_recovery_code_verify(const char *input, size_t len,
    const uint8_t (*hashes)[CF_SHA256_LEN], size_t n, size_t *index,
    struct cf_error *err)
{
	uint8_t		h[CF_SHA256_LEN];
	size_t		i, idx = 0;
	unsigned int	found = 0, m;
	cf_err		rc;

	if (hashes == NULL && n != 0)
		return cf_error_set(err, CF_E_INVAL, "NULL recovery hashes");
	rc = cf_recovery_code_hash(input, len, h, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: every stored digest is compared; no early exit. */
	for (i = 0; i < n; i++) {
		m = cf_ct_equal(h, hashes[i], CF_SHA256_LEN) ? 1u : 0u;
		idx = (m & (found ^ 1u)) ? i : idx;
		found |= m;
	}
	if (!found) {
		rc = cf_error_set(err, CF_E_AUTH, "wrong recovery code");
		goto out;
	}
	*index = idx;
out:
	cf_wipe(h, sizeof(h));
	return rc;
}

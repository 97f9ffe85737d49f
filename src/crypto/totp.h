/* src/crypto/totp.h: TOTP second factor (RFC 6238 over RFC 4226, via
 * liboath) and one-time recovery codes.
 *
 * TOTP parameters are fixed to what every authenticator app supports:
 * HMAC-SHA1, 6 digits, 30-second steps, T0 = 0, a 20-byte (160-bit) random
 * secret (RFC 4226 section 4 recommends 160 bits).
 *
 * The TOTP secret is needed in the clear to verify a code, so it cannot be
 * hashed: the caller stores it sealed (AEAD under a keyring key) and keeps
 * the decrypted copy only for the call, wiping it afterwards.
 *
 * Replay: cf_totp_verify() returns the time step that matched, and refuses
 * any step <= the last step the caller recorded as used for this user.  The
 * caller stores the matched step atomically with accepting the login, so a
 * code is good once even inside its window (RFC 6238 section 5.2).
 *
 * Recovery codes: CF_RECOVERY_CODE_CHARS random base32 characters (80
 * bits), shown once as "xxxx-xxxx-xxxx-xxxx" and stored as SHA-256 digests;
 * see cf_recovery_code_hash().
 *
 * Thread-safe.  See docs/internals/IDENTITY.md. */
#ifndef CF_CRYPTO_TOTP_H
#define CF_CRYPTO_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "crypto/crypto.h"

#define CF_TOTP_SECRET_LEN	20	/* bytes */
#define CF_TOTP_SECRET_MAX	64	/* largest secret accepted */
#define CF_TOTP_B32_MAX		128	/* base32 text of a secret, with NUL */
#define CF_TOTP_DIGITS		6
#define CF_TOTP_PERIOD		30	/* seconds */
#define CF_TOTP_WINDOW_MAX	10	/* steps either side */
#define CF_TOTP_URI_MAX		1024	/* otpauth:// URI, with NUL */
#define CF_TOTP_LABEL_MAX	128	/* issuer or user name, bytes */

/* Fill secret with CF_TOTP_SECRET_LEN random bytes. */
cf_err	cf_totp_secret_new(uint8_t secret[CF_TOTP_SECRET_LEN],
	    struct cf_error *err);

/* RFC 4648 base32 of secret[0..len), upper case, without '=' padding (the
 * form authenticator apps expect), into out (capacity outsz).  CF_E_LIMIT
 * if len > CF_TOTP_SECRET_MAX or out is too small.  The caller wipes out. */
cf_err	cf_totp_b32_encode(const uint8_t *secret, size_t len, char *out,
	    size_t outsz, struct cf_error *err);

/* Decode base32 text s[0..slen) (either case; spaces and '=' padding
 * ignored; non-zero trailing bits tolerated, as liboath does) into out
 * (capacity outcap); *outlen is the byte count (0 for empty text).
 * CF_E_INPUT on a bad character or length, CF_E_LIMIT when it would exceed
 * outcap or slen > CF_TOTP_B32_MAX.  out written only on success. */
cf_err	cf_totp_b32_decode(const char *s, size_t slen, uint8_t *out,
	    size_t outcap, size_t *outlen, struct cf_error *err);

/* Build the key URI for enrollment (Google Authenticator's Key Uri Format):
 *   otpauth://totp/ISSUER:USER?secret=B32&issuer=ISSUER&algorithm=SHA1
 *       &digits=6&period=30
 * with ISSUER and USER percent-encoded (RFC 3986 unreserved bytes kept).
 * issuer and user: 1..CF_TOTP_LABEL_MAX bytes of valid UTF-8 without
 * control characters; neither may contain ':' (CF_E_INPUT), the label's
 * separator.
 * SEC: the URI contains the secret: show it once, never log it; the
 * caller wipes out. */
cf_err	cf_totp_uri(const char *issuer, const char *user,
	    const uint8_t *secret, size_t len, char out[CF_TOTP_URI_MAX],
	    struct cf_error *err);

/* The time step containing now (seconds since the epoch): now / 30.
 * Negative now is treated as 0. */
int64_t	cf_totp_step(int64_t now);

/* The code for time step `step` into code (6 digits and NUL).  For tests
 * and for a CLI that shows the expected code; the server only verifies. */
cf_err	cf_totp_generate(const uint8_t *secret, size_t len, int64_t step,
	    char code[CF_TOTP_DIGITS + 1], struct cf_error *err);

/* True when code[0..codelen) is exactly CF_TOTP_DIGITS ASCII digits. */
bool	cf_totp_code_valid(const char *code, size_t codelen);

/* Verify code[0..codelen) for the secret at time now, accepting the steps
 * cf_totp_step(now) - window .. + window (window <= CF_TOTP_WINDOW_MAX;
 * 1 is the usual choice).  A step <= last_used_step is never accepted
 * (pass -1 when nothing was used yet).  On CF_OK *matched_step is the
 * accepted step, which the caller records as the new last_used_step.
 * Errors: CF_E_INPUT when the code is not exactly 6 digits; CF_E_AUTH when
 * it matches no step, or ("code already used") only steps <= last_used;
 * CF_E_INVAL for window or secret length out of range.
 * SEC: every step of the window is computed and compared with
 * cf_ct_equal, with no early exit, so timing does not tell which step (if
 * any) matched. */
cf_err	cf_totp_verify(const uint8_t *secret, size_t len, const char *code,
	    size_t codelen, int64_t now, unsigned int window,
	    int64_t last_used_step, int64_t *matched_step,
	    struct cf_error *err) __attribute__((warn_unused_result));

/* ---- recovery codes ---- */

#define CF_RECOVERY_CODE_CHARS	16	/* base32 characters, 80 bits */
#define CF_RECOVERY_CODE_LEN	19	/* "xxxx-xxxx-xxxx-xxxx" */
#define CF_RECOVERY_CODE_INPUT_MAX 64	/* longer input is CF_E_LIMIT */
#define CF_RECOVERY_CODES_DEFAULT 10

/* One new recovery code: code gets the display form (lower case, NUL
 * terminated), hash its digest for storage.  The caller shows code once,
 * stores only hash, and wipes code. */
cf_err	cf_recovery_code_new(char code[CF_RECOVERY_CODE_LEN + 1],
	    uint8_t hash[CF_SHA256_LEN], struct cf_error *err);

/* Digest of a code as typed: '-' and ' ' are ignored and letters folded
 * to lower case, then exactly CF_RECOVERY_CODE_CHARS base32 characters
 * must remain (CF_E_INPUT otherwise; CF_E_LIMIT when
 * len > CF_RECOVERY_CODE_INPUT_MAX).  hash = SHA-256("coffer recovery v1"
 * NUL || normalized code).
 * SEC: a plain hash, no KDF: the code is 80 random bits, so an offline
 * search of even every stored digest at once is out of reach, and a slow
 * KDF would only add cost to the server. */
cf_err	cf_recovery_code_hash(const char *input, size_t len,
	    uint8_t hash[CF_SHA256_LEN], struct cf_error *err);

/* Look input up among the n stored digests.  CF_OK with *index set to the
 * matching entry (the caller then deletes that entry: a code is good
 * once); CF_E_AUTH when none matches; errors of cf_recovery_code_hash().
 * SEC: all n digests are compared with cf_ct_equal, no early exit. */
cf_err	cf_recovery_code_verify(const char *input, size_t len,
	    const uint8_t (*hashes)[CF_SHA256_LEN], size_t n, size_t *index,
	    struct cf_error *err) __attribute__((warn_unused_result));

#endif

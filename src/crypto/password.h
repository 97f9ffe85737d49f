/* src/crypto/password.h: password hashing (argon2id, libsodium) and the
 * password policy for local users.
 *
 * Stored form: libsodium's PHC string, e.g.
 *   $argon2id$v=19$m=65536,t=3,p=1$<salt b64>$<hash b64>
 * (at most CF_PWHASH_STR_MAX bytes with the NUL).  Only argon2id strings
 * are accepted on verification: an argon2i/argon2d string in the store is
 * refused, so a tampered row cannot downgrade the algorithm, and the
 * memory and time costs parsed from a stored string are bounded
 * (CF_PWHASH_MEM_MAX, CF_PWHASH_OPS_MAX) so that it cannot make one login
 * allocate gigabytes.
 *
 * Passwords are byte strings (pw, len): no NUL termination required, NULs
 * inside are refused by the policy.  Every function refuses len >
 * CF_PASSWORD_MAX with CF_E_LIMIT before doing any work (oversized
 * credentials are cheap to refuse and never reach the KDF).
 *
 * Thread-safe.  See docs/internals/IDENTITY.md. */
#ifndef CF_CRYPTO_PASSWORD_H
#define CF_CRYPTO_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define CF_PWHASH_STR_MAX	128	/* == crypto_pwhash_STRBYTES */
#define CF_PASSWORD_MAX		1024	/* bytes; longer is CF_E_LIMIT */
#define CF_PASSWORD_MIN_DEFAULT	12	/* characters (code points) */

/* Defaults: OWASP's current recommendation for argon2id, 19 MiB, t=2, p=1
 * (libsodium always uses p=1).  64 MiB / t=3 was measured at 0.5-1 s per
 * verification on the build host (docs/internals/IDENTITY.md), far over
 * the ~100 ms budget, so the floor is also the default; raise it in the
 * configuration on faster hosts. */
#define CF_PWHASH_MEM_DEFAULT	(19u * 1024 * 1024)
#define CF_PWHASH_OPS_DEFAULT	2
/* Accepted range, for configuration and for strings read from the store.
 * The minimum is OWASP's recommendation; lower is CF_E_INVAL. */
#define CF_PWHASH_MEM_MIN	(19u * 1024 * 1024)
#define CF_PWHASH_MEM_MAX	(1024u * 1024 * 1024)
#define CF_PWHASH_OPS_MIN	2
#define CF_PWHASH_OPS_MAX	16

struct cf_pwhash_params {
	uint64_t	ops;		/* argon2 t (passes) */
	size_t		mem;		/* argon2 m, in bytes */
};

/* Fill p with CF_PWHASH_OPS_DEFAULT / CF_PWHASH_MEM_DEFAULT. */
void	cf_pwhash_params_default(struct cf_pwhash_params *p);

/* CF_E_INVAL unless p is inside [CF_PWHASH_*_MIN, CF_PWHASH_*_MAX]; for
 * checking configuration at startup. */
cf_err	cf_pwhash_params_check(const struct cf_pwhash_params *p,
	    struct cf_error *err);

/* Hash pw[0..len) with argon2id and a random salt into out (a PHC string,
 * NUL-terminated).  p NULL means the defaults.  Does not apply the policy:
 * call cf_password_check() first when the password is being set.
 * Errors: CF_E_LIMIT (len > CF_PASSWORD_MAX), CF_E_INVAL (p out of range),
 * CF_E_NOMEM (argon2 could not allocate its memory), CF_E_CRYPTO.
 * out is written only on success. */
cf_err	cf_password_hash(const void *pw, size_t len,
	    const struct cf_pwhash_params *p, char out[CF_PWHASH_STR_MAX],
	    struct cf_error *err) __attribute__((warn_unused_result));

/* Check pw[0..len) against a stored PHC string.  CF_OK on a match;
 * CF_E_AUTH on a mismatch; CF_E_INPUT when stored is not an argon2id
 * string within the accepted cost range (a corrupt or tampered row);
 * CF_E_LIMIT when len > CF_PASSWORD_MAX; CF_E_NOMEM.
 * SEC: the comparison inside libsodium is constant time; the time taken
 * depends on the stored costs, not on the password. */
cf_err	cf_password_verify(const char *stored, const void *pw, size_t len,
	    struct cf_error *err) __attribute__((warn_unused_result));

/* For a login naming a user that does not exist (or has no password):
 * runs one argon2id verification with costs p (NULL: defaults) against a
 * fixed internal hash, and always returns CF_E_AUTH (CF_E_LIMIT when
 * len > CF_PASSWORD_MAX, like cf_password_verify).
 * SEC: callers use it so that neither timing nor the result reveals
 * whether the user exists; pass the same p used for new hashes.  The
 * internal hash is computed once per distinct p and cached. */
cf_err	cf_password_verify_dummy(const void *pw, size_t len,
	    const struct cf_pwhash_params *p, struct cf_error *err);

/* True when stored was made with costs other than p (NULL: defaults) or is
 * not a valid argon2id string: after a successful verification the caller
 * re-hashes the password it just checked and replaces the stored string. */
bool	cf_password_needs_rehash(const char *stored,
	    const struct cf_pwhash_params *p);

/* Password policy (NIST SP 800-63B style: length, a blocklist and a
 * check for guessable patterns, no composition rules). */
struct cf_password_policy {
	size_t	min_len;	/* code points; >= 8, default 12 */
	size_t	max_len;	/* bytes; <= CF_PASSWORD_MAX (default) */
	bool	check_common;	/* refuse the shipped common list (default) */
	bool	check_strength;	/* the distinct and predictable rules
				 * (default) */
};

void	cf_password_policy_default(struct cf_password_policy *pol);

/* Check a new password for user username (NULL: no user checks).
 * pol NULL means the defaults.  Refused with CF_E_LIMIT: longer than
 * pol->max_len bytes (checked first, before reading the bytes).  Refused
 * with CF_E_INPUT, in this order:
 *   text         not valid UTF-8, or a NUL or other control character;
 *   min_length   fewer than pol->min_len code points;
 *   user_name    equal to the user name, or (names of 3 characters or
 *                more) containing it forwards or backwards, ASCII
 *                case-insensitively;
 *   common       in the shipped list of common passwords
 *                (src/crypto/common_passwords.txt, ASCII
 *                case-insensitive);
 *   distinct     (check_strength) fewer than 5 different characters;
 *   predictable  (check_strength) fewer than 8 (or min_len - 2, if lower)
 *                characters that are not a repeat of the one before (aa),
 *                the next or previous letter or digit (abc, 321), a
 *                neighbouring key on a QWERTY keyboard (qwe, 1qa), or
 *                inside a chunk of 3 or more that repeats an earlier part
 *                (passpass: the copy counts as one character).
 * CF_E_INVAL when pol is out of range.  The message names the rule
 * ("(rule predictable)") and never echoes the password.  No allocation;
 * copies live on the stack and are wiped. */
cf_err	cf_password_check(const struct cf_password_policy *pol,
	    const void *pw, size_t len, const char *username,
	    struct cf_error *err) __attribute__((warn_unused_result));

/* True when pw[0..len) is in the shipped common list (case-insensitive).
 * Exposed for tests and the CLI's early warning. */
bool	cf_password_is_common(const void *pw, size_t len);

#endif

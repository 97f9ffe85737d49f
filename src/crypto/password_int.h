/* src/crypto/password_int.h: the shipped common-password list, generated
 * by src/crypto/CMakeLists.txt from common_passwords.txt, and a test hook.
 * Private to password.c (and its unit test). */
#ifndef CF_CRYPTO_PASSWORD_INT_H
#define CF_CRYPTO_PASSWORD_INT_H

#include <stddef.h>

#include "crypto/password.h"

/* Lower-case, sorted by strcmp (byte order), no duplicates. */
extern const char *const cf_common_passwords[];
extern const size_t cf_common_passwords_n;

/* Test hook: while t is not NULL, every argon2id verification (by
 * cf_password_verify and cf_password_verify_dummy alike) adds one to t->n
 * and stores in t->last the costs of the string it verified against.  The
 * unit test uses it to prove that a login for an unknown user does the
 * same KDF work as one for a real user, without timing anything (the
 * measured times are in bench/password).  NULL stops tracing.  Not
 * thread-safe: for unit tests only. */
struct cf_pwverify_trace {
	unsigned int		n;
	struct cf_pwhash_params	last;
};

void	cf_password_test_trace(struct cf_pwverify_trace *t);

#endif

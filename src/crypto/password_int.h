/* src/crypto/password_int.h: the shipped common-password list, generated
 * by src/crypto/CMakeLists.txt from common_passwords.txt.  Private to
 * password.c (and its unit test). */
#ifndef CF_CRYPTO_PASSWORD_INT_H
#define CF_CRYPTO_PASSWORD_INT_H

#include <stddef.h>

/* Lower-case, sorted by strcmp (byte order), no duplicates. */
extern const char *const cf_common_passwords[];
extern const size_t cf_common_passwords_n;

#endif

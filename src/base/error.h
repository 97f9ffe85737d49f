/* src/base/error.h: the one error type of Coffer.
 *
 * Every fallible function returns a cf_err (CF_OK == 0) and takes a nullable
 * struct cf_error * last, into which detail is written.  The first error set
 * is kept (later ones do not overwrite it), so the message names the root
 * cause.  Messages never carry secrets or plaintext.
 *
 * The numeric values are visible outside the program (CLI exit codes, JSON
 * error codes): add new values last, never reuse or renumber one. */
#ifndef CF_BASE_ERROR_H
#define CF_BASE_ERROR_H

#include <stddef.h>

typedef enum {
	CF_OK = 0,
	CF_E_NOMEM = 1,		/* allocation failed */
	CF_E_INVAL = 2,		/* API misuse: a bug in the caller */
	CF_E_INPUT = 3,		/* untrusted input rejected */
	CF_E_LIMIT = 4,		/* a configured limit was exceeded */
	CF_E_NOTFOUND = 5,	/* no such thing */
	CF_E_DENIED = 6,	/* authorization refused */
	CF_E_AUTH = 7,		/* authentication missing or failed */
	CF_E_IO = 8,		/* operating system or storage failure */
	CF_E_INTERNAL = 9,	/* invariant broken; should not happen */
	CF_E_INTEGRITY = 10,	/* authentication tag / MAC / digest mismatch */
	CF_E_CONFLICT = 11,	/* exists already, not empty, wrong state */
	CF_E_CRYPTO = 12,	/* crypto library failure */
	CF_E_UNAVAILABLE = 13	/* a needed service (the HSM) is not there */
} cf_err;

#define CF_ERROR_MSG_LEN 256

struct cf_error {
	cf_err	code;
	char	msg[CF_ERROR_MSG_LEN];
};

/* Reset err to CF_OK and an empty message.  NULL is a no-op. */
void	cf_error_clear(struct cf_error *err);

/* Record code and a printf-style message in err (NULL allowed) unless an
 * error is already recorded there; CR and LF are replaced by spaces.
 * Returns code, so callers write `return cf_error_set(err, ...)`.
 * Declared cold: the compiler moves the paths that call it out of line,
 * so the code a request runs when nothing fails is packed in fewer cache
 * lines (bench/README.md, bench/authz, h-authz6). */
cf_err	cf_error_set(struct cf_error *err, cf_err code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), cold));

/* As cf_error_set(err, code, "%s%s...", ...) of the strings given, up
 * to a NULL: the same text, without formatting (the reference monitor's
 * denials, made for every denied request). */
cf_err	cf_error_join(struct cf_error *err, cf_err code, ...)
	    __attribute__((sentinel));

/* As cf_error_set, then appends ": " and strerror(errno) (errno read on
 * entry). */
cf_err	cf_error_sys(struct cf_error *err, cf_err code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), cold));

/* Stable lower-case name of a code ("nomem", "input", ...). */
const char *cf_err_name(cf_err code);

#endif

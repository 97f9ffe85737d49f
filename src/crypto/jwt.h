/* src/crypto/jwt.h: verification of OIDC bearer tokens (JWS compact JWTs)
 * against the keys of a JWKS, for `Authorization: Bearer <JWT>`.
 *
 * Signatures are checked by rhonabwy (on GnuTLS); everything around them
 * is ours and strict: the token's size and alphabet, the header (parsed
 * with cf_json_parse: no duplicate members), the algorithm allowlist, the
 * key choice and the claims.  Keys come only from the configured JWKS;
 * "jwk", "jku", "x5u" and "x5c" headers are never used.
 *
 * Refused: alg "none"; any alg outside RS256, ES256, EdDSA (Ed25519) and
 * the rules' mask; a key whose type does not fit the alg (RSA >= 2048 for
 * RS256, EC P-256 for ES256, OKP Ed25519 for EdDSA), which is what stops
 * algorithm confusion (an HS256 token "signed" with a public key as the
 * HMAC secret finds no key it may use); a key whose own "alg" differs; a
 * missing kid when more than one key fits; an unknown kid (after one
 * rate-limited JWKS refresh); a bad signature; JWE (5-part) tokens; a
 * "crit" header; "b64": false; tokens over the size cap; malformed base64url
 * or JSON; wrong iss; aud (string or array) without the audience; exp
 * missing or in the past beyond the skew; nbf or iat in the future beyond
 * the skew; iat older than max_age; a missing or over-long user name
 * claim; more than CF_JWT_GROUPS_MAX groups.
 *
 * Errors say which rule failed, for the server's log; the server answers
 * every failure with the same 401.  Messages never include the token.
 * See docs/internals/IDENTITY.md. */
#ifndef CF_CRYPTO_JWT_H
#define CF_CRYPTO_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

#define CF_JWT_MAX_DEFAULT	8192	/* token bytes */
#define CF_JWT_MAX_LIMIT	65536	/* largest configurable cap */
#define CF_JWT_SKEW_MAX		600	/* seconds */
#define CF_JWT_MAX_AGE_MAX	(400LL * 86400)	/* seconds */
#define CF_JWT_NAME_MAX		128	/* user name claim, bytes */
#define CF_JWT_SUB_MAX		255	/* sub, bytes (OIDC: <= 255 ASCII) */
#define CF_JWT_GROUPS_MAX	32	/* groups accepted per token */
#define CF_JWT_GROUP_MAX	128	/* bytes per group name */
#define CF_JWT_AUD_MAX		16	/* entries of an aud array */
#define CF_JWT_KID_MAX		128	/* bytes of a kid */
#define CF_JWT_ATTRS_MAX	16	/* claims read as attributes */
#define CF_JWT_ATTR_MAX		256	/* bytes of one such value */

/* Algorithm mask for cf_jwt_rules.algs. */
#define CF_JWT_ALG_RS256	0x1u
#define CF_JWT_ALG_ES256	0x2u
#define CF_JWT_ALG_EDDSA	0x4u	/* Ed25519 only */
#define CF_JWT_ALG_ALL		0x7u

/* A set of verification keys, shared by all request threads (internally
 * locked).  Opaque. */
struct cf_jwks;

/* A JWKS source: append the JWKS document (JSON) to out, whose maximum is
 * the configured size cap (appending beyond it fails with CF_E_LIMIT).
 * Called with the JWKS lock held, at most once per min_refresh seconds.
 * arg is the pointer given to cf_jwks_new_fetch(). */
typedef cf_err	(*cf_jwks_fetch_fn)(void *arg, struct cf_buf *out,
		    struct cf_error *err);

struct cf_jwks_opts {
	int64_t		 ttl;		/* seconds keys are used before a
					 * refetch; default 3600 */
	int64_t		 min_refresh;	/* seconds between two fetches (an
					 * unknown kid); default 60 */
	size_t		 max_bytes;	/* JWKS document cap; default 256 KiB */
	long		 timeout_ms;	/* URL: whole transfer; default 5000 */
	const char	*ca_file;	/* URL: CA bundle; NULL = system */
	bool		 allow_http_loopback; /* URL: also http:// to
					 * 127.0.0.1 or [::1] (tests) */
};

void	cf_jwks_opts_default(struct cf_jwks_opts *o);

/* A fixed key set from a JWKS document json[0..len) ({"keys": [...]}).
 * Keys that cannot be used to verify (kty "oct", "use" other than "sig",
 * unsupported curves, RSA under 2048 bits, private keys) are skipped; a
 * set with no usable key, or over 32 keys, is CF_E_INPUT.  Never
 * refreshed. */
cf_err	cf_jwks_new_json(const char *json, size_t len, struct cf_jwks **out,
	    struct cf_error *err);

/* Keys from a source: fetched on first use and after ttl seconds; an
 * unknown kid triggers at most one fetch per min_refresh seconds.  When a
 * refetch fails, the previous keys stay in use (logged) and the next try
 * waits min_refresh.  fn and arg are borrowed and must outlive the set.
 * o NULL means the defaults.  Does not fetch: call cf_jwks_refresh() to
 * fail fast at startup. */
cf_err	cf_jwks_new_fetch(cf_jwks_fetch_fn fn, void *arg,
	    const struct cf_jwks_opts *o, struct cf_jwks **out,
	    struct cf_error *err);

/* Keys from a file, re-read like a fetched source (so rotating the file
 * and presenting a new kid picks up the new key).  path is copied. */
cf_err	cf_jwks_new_file(const char *path, const struct cf_jwks_opts *o,
	    struct cf_jwks **out, struct cf_error *err);

/* Keys from an https:// URL via libcurl: no redirects, TLS peer and host
 * verified, o->timeout_ms for the whole transfer, o->max_bytes cap, HTTP
 * status 200 required.  url is copied.  CF_E_INVAL for a URL that is not
 * https:// (nor, with allow_http_loopback, http://127.0.0.1 or
 * http://[::1]). */
cf_err	cf_jwks_new_url(const char *url, const struct cf_jwks_opts *o,
	    struct cf_jwks **out, struct cf_error *err);

/* The fetcher behind cf_jwks_new_url(), for tests and `coffer server
 * --check`: GET url into out (its max is the size cap).  CF_E_IO on a
 * transport failure or non-200 status, CF_E_LIMIT over the cap. */
cf_err	cf_jwks_fetch_url(const char *url, const struct cf_jwks_opts *o,
	    struct cf_buf *out, struct cf_error *err);

/* Fetch now (for a fetched set) and replace the keys if the document is
 * valid.  A fixed set: CF_OK, nothing done.  now: seconds since the
 * epoch. */
cf_err	cf_jwks_refresh(struct cf_jwks *ks, int64_t now, struct cf_error *err);

/* Number of usable keys currently held; fetches counted so far (tests). */
size_t	cf_jwks_count(struct cf_jwks *ks);
unsigned int cf_jwks_fetches(struct cf_jwks *ks);

void	cf_jwks_free(struct cf_jwks *ks);	/* NULL is a no-op */

/* What a token must satisfy.  Strings are borrowed for the call. */
struct cf_jwt_rules {
	const char	*issuer;	/* required: iss must equal it */
	const char	*audience;	/* required: aud must be or
					 * contain it */
	unsigned int	 algs;		/* CF_JWT_ALG_* mask; 0 = ALL */
	int64_t		 skew;		/* seconds, 0..CF_JWT_SKEW_MAX */
	int64_t		 max_age;	/* seconds since iat, up to
					 * CF_JWT_MAX_AGE_MAX; 0 = unchecked */
	const char	*username_claim; /* NULL = "sub" */
	const char	*groups_claim;	/* NULL = no groups */
	size_t		 max_len;	/* token cap; 0 = CF_JWT_MAX_DEFAULT */
	/* Claims (dotted paths) copied into cf_jwt_claims.attrs, at most
	 * CF_JWT_ATTRS_MAX; never a reason to refuse a token. */
	const char	*const *attr_claims;
	size_t		 nattr_claims;
};

/* What a token says of one of cf_jwt_rules.attr_claims. */
enum cf_jwt_attr {
	CF_JWT_ATTR_ABSENT = 0,		/* no such claim, or null */
	CF_JWT_ATTR_SET,		/* a string, or a number or boolean
					 * as its JSON text */
	CF_JWT_ATTR_IGNORED		/* an array or object, or a string
					 * over CF_JWT_ATTR_MAX bytes or with
					 * control characters */
};

/* What a verified token says.  Plain data, no ownership: lives on the
 * stack of the caller. */
struct cf_jwt_claims {
	char		username[CF_JWT_NAME_MAX + 1];
	char		subject[CF_JWT_SUB_MAX + 1];	/* "" when absent */
	char		groups[CF_JWT_GROUPS_MAX][CF_JWT_GROUP_MAX + 1];
	size_t		ngroups;
	bool		mfa;		/* amr contains "mfa" or "otp" */
	int64_t		iat;		/* 0 when absent */
	int64_t		auth_time;	/* when the user signed in (OIDC);
					 * 0 when absent */
	int64_t		exp;
	char		alg[8];		/* "RS256", "ES256" or "EdDSA" */
	char		kid[CF_JWT_KID_MAX + 1];	/* "" when absent */
	/* attrs[i]: what the token says of rules->attr_claims[i]. */
	enum cf_jwt_attr attr_state[CF_JWT_ATTRS_MAX];
	char		attrs[CF_JWT_ATTRS_MAX][CF_JWT_ATTR_MAX + 1];
};

/* Why a token was refused, one class per rule (see cf_jwt_verify_why).
 * Stable: the server names them in the audit record (docs/
 * authentication.md lists them); add values, never renumber. */
enum cf_jwt_fail {
	CF_JWT_FAIL_NONE = 0,		/* verified */
	CF_JWT_FAIL_MALFORMED,		/* not a compact JWS: shape, alphabet,
					 * base64url, JSON, header members
					 * (crit, b64, zip, enc, kid), JWE,
					 * no signature */
	CF_JWT_FAIL_TOO_LARGE,		/* over the size cap */
	CF_JWT_FAIL_BAD_ALG,		/* none, HMAC, not on the allowlist
					 * or the rules' mask, or an alg the
					 * key with the token's kid cannot
					 * do */
	CF_JWT_FAIL_UNKNOWN_KID,	/* no key has the kid (after the
					 * allowed refresh) */
	CF_JWT_FAIL_NO_KEY,		/* no kid, and no key or several
					 * keys fit the alg */
	CF_JWT_FAIL_JWKS_UNAVAILABLE,	/* no keys could be fetched */
	CF_JWT_FAIL_BAD_SIGNATURE,
	CF_JWT_FAIL_WRONG_ISSUER,
	CF_JWT_FAIL_WRONG_AUDIENCE,
	CF_JWT_FAIL_EXPIRED,		/* exp passed, beyond the skew */
	CF_JWT_FAIL_NOT_YET_VALID,	/* nbf, iat or auth_time in the
					 * future, beyond the skew */
	CF_JWT_FAIL_TOO_OLD,		/* iat older than max_age, or no iat
					 * while max_age is set */
	CF_JWT_FAIL_BAD_CLAIM,		/* exp missing; a claim of the wrong
					 * type or out of range (aud, dates,
					 * sub, groups, amr) */
	CF_JWT_FAIL_BAD_USERNAME,	/* the user name claim is missing or
					 * not a short, printable string */
	CF_JWT_FAIL_TOO_MANY_GROUPS,	/* over CF_JWT_GROUPS_MAX */
	CF_JWT_FAIL_ERROR,		/* not the token's fault: memory,
					 * crypto library, rules out of
					 * range */
};

/* Verify token[0..len) against ks and rules at time now (seconds since the
 * epoch) and fill *out (written only on CF_OK).  May fetch the JWKS (see
 * cf_jwks_new_fetch).  Errors:
 *   CF_E_LIMIT	token over the cap; too many groups; over-long claims
 *   CF_E_INPUT	malformed token, header or claims; JWE; alg none or not
 *		allowed; crit; b64
 *   CF_E_NOTFOUND	no key for the kid / alg (after a refresh)
 *   CF_E_INTEGRITY	bad signature
 *   CF_E_AUTH	iss, aud, exp, nbf, iat, max_age or user name claim
 *   CF_E_INVAL	rules out of range (a configuration bug)
 *   CF_E_IO	the JWKS could not be fetched and no keys are held
 *   CF_E_NOMEM, CF_E_CRYPTO */
cf_err	cf_jwt_verify(struct cf_jwks *ks, const char *token, size_t len,
	    const struct cf_jwt_rules *rules, int64_t now,
	    struct cf_jwt_claims *out, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* cf_jwt_verify, and *why (nullable) gets the class of the refusal, or
 * CF_JWT_FAIL_NONE on CF_OK.  Written on success and on failure. */
cf_err	cf_jwt_verify_why(struct cf_jwks *ks, const char *token, size_t len,
	    const struct cf_jwt_rules *rules, int64_t now,
	    struct cf_jwt_claims *out, enum cf_jwt_fail *why,
	    struct cf_error *err)
	    __attribute__((warn_unused_result));

/* Read the iss claim of token[0..len) WITHOUT verifying anything, only to
 * choose which configured issuer's keys and rules to verify it with; iss
 * (isssz bytes) gets it.  SEC: the result is untrusted: use it for that
 * choice alone, then cf_jwt_verify() the token against the chosen issuer
 * (which checks iss again).  Same size cap, alphabet and shape checks as
 * cf_jwt_verify.  CF_E_LIMIT (over max_len, 0 = CF_JWT_MAX_DEFAULT, or an
 * iss longer than isssz - 1), CF_E_INPUT (malformed, no string iss),
 * CF_E_NOMEM.  *why (nullable), as for cf_jwt_verify_why: TOO_LARGE,
 * MALFORMED, WRONG_ISSUER (no string iss, or too long), ERROR, or NONE
 * on CF_OK. */
cf_err	cf_jwt_peek_issuer(const char *token, size_t len, size_t max_len,
	    char *iss, size_t isssz, enum cf_jwt_fail *why,
	    struct cf_error *err)
	    __attribute__((warn_unused_result));

#endif

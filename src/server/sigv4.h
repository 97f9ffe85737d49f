/* src/server/sigv4.h: AWS Signature Version 4 request parsing and
 * canonicalisation for the S3 front end (pure: no I/O, no secrets).
 *
 * The front end parses the Authorization header (or the presigned
 * query), builds the canonical request and the string to sign exactly as
 * AWS documents them ("Create a canonical request for Signature Version
 * 4"; S3 does not normalise the path), and hands the string to sign to
 * the reference monitor (cf_core_s3_authenticate), which alone holds the
 * secrets.  Fuzzed by fuzz/fuzz_sigv4.c. */
#ifndef CF_SERVER_SIGV4_H
#define CF_SERVER_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

#define CF_SIGV4_ALG		"AWS4-HMAC-SHA256"
#define CF_SIGV4_KEYID_MAX	64
#define CF_SIGV4_REGION_MAX	32
#define CF_SIGV4_SIGNED_MAX	1024	/* SignedHeaders text */
#define CF_SIGV4_HEADERS_MAX	64	/* signed header names */
#define CF_SIGV4_QUERY_MAX	64	/* query parameters */

/* The parts of a SigV4 credential, from either form. */
struct cf_sigv4_auth {
	char	key_id[CF_SIGV4_KEYID_MAX];
	char	date[9];			/* YYYYMMDD */
	char	region[CF_SIGV4_REGION_MAX];
	char	service[16];
	char	signed_headers[CF_SIGV4_SIGNED_MAX];	/* "a;b;c" */
	char	signature[65];
	char	amz_date[17];			/* YYYYMMDDTHHMMSSZ */
	int64_t	expires;			/* presigned; -1 */
	bool	presigned;
};

/* One request header as received (name in any case). */
struct cf_sigv4_header {
	const char	*name;
	const char	*value;
};

/* Parse an Authorization header value: "AWS4-HMAC-SHA256
 * Credential=AK/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
 * Signature=HEX", separators "," with or without blanks, parts in any
 * order.  CF_E_INPUT (err says what) for anything else. */
cf_err	cf_sigv4_parse_header(const char *value, struct cf_sigv4_auth *out,
	    struct cf_error *err);

/* A raw query string (after '?', percent-encoded as sent; NULL or "":
 * none), split and decoded: names and values in q->name/value (value ""
 * for a parameter without '=').  At most CF_SIGV4_QUERY_MAX. */
struct cf_sigv4_query {
	size_t	 n;
	char	*name[CF_SIGV4_QUERY_MAX];
	char	*value[CF_SIGV4_QUERY_MAX];
	char	*store;			/* owns the strings */
};
cf_err	cf_sigv4_query_parse(const char *raw, struct cf_sigv4_query *q,
	    struct cf_error *err);
void	cf_sigv4_query_free(struct cf_sigv4_query *q);
/* The decoded value of name (exact, case-sensitive), or NULL. */
const char *cf_sigv4_query_get(const struct cf_sigv4_query *q,
	    const char *name);
bool	cf_sigv4_query_has(const struct cf_sigv4_query *q, const char *name);

/* The presigned form's X-Amz-* parameters of q into out; *found false
 * (and CF_OK) when q has no X-Amz-Algorithm. */
cf_err	cf_sigv4_parse_query(const struct cf_sigv4_query *q,
	    struct cf_sigv4_auth *out, bool *found, struct cf_error *err);

/* AWS's UriEncode of s[0..len) appended to b: unreserved characters
 * (A-Z a-z 0-9 - . _ ~) as they are, '/' too when keep_slash, every other
 * byte as %XX (upper-case hex). */
cf_err	cf_sigv4_uri_encode(struct cf_buf *b, const char *s, size_t len,
	    bool keep_slash, struct cf_error *err);

/* Percent-decode s[0..len) into out (capacity outsz, NUL-terminated);
 * CF_E_INPUT for a bad escape, a NUL byte or no room.  '+' stays '+'. */
cf_err	cf_sigv4_decode(const char *s, size_t len, char *out, size_t outsz,
	    size_t *outlen, struct cf_error *err);

/* The canonical request of a request: method, path (percent-encoded as
 * sent: decoded, then encoded again as AWS does), the query (without
 * X-Amz-Signature), the signed headers (names from a->signed_headers,
 * values of every header of that name joined by ",", blanks trimmed and
 * runs of blanks made one) and payload_hash.  CF_E_INPUT when a signed
 * header is missing, the names are not sorted lower-case, or "host" is
 * not among them. */
cf_err	cf_sigv4_canonical(const char *method, const char *raw_path,
	    const struct cf_sigv4_query *q, const struct cf_sigv4_header *h,
	    size_t nh, const struct cf_sigv4_auth *a,
	    const char *payload_hash, struct cf_buf *out,
	    struct cf_error *err);

/* The string to sign of a canonical request (cr[0..len)). */
cf_err	cf_sigv4_string_to_sign(const struct cf_sigv4_auth *a,
	    const char *cr, size_t len, struct cf_buf *out,
	    struct cf_error *err);

/* X-Amz-Date (YYYYMMDDTHHMMSSZ) as seconds since 1970; CF_E_INPUT. */
cf_err	cf_sigv4_parse_date(const char *s, int64_t *out,
	    struct cf_error *err);

#endif

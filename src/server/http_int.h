/* src/server/http_int.h: request parsing of the HTTP front end, split out
 * so that unit tests and fuzzers can reach it (fuzz/fuzz_http_request.c). */
#ifndef CF_SERVER_HTTP_INT_H
#define CF_SERVER_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum route_id {
	R_UNKNOWN = 0,
	R_HEALTH, R_WHOAMI, R_NS, R_NS_ONE, R_OBJECTS, R_OBJECT, R_VERSIONS,
	R_PRINCIPALS, R_TOKENS, R_TOKEN_ONE, R_BINDINGS, R_AUDIT,
	/* identity (issue 4); *rest is the user or role name */
	R_LOGIN, R_LOGOUT, R_SESSION_MFA, R_USERS, R_USER_PASSWORD,
	R_USER_DISABLE, R_USER_ENABLE, R_USER_MFA_REQUIRED,
	R_ROLE_MFA_REQUIRED, R_MFA_ENROLL, R_MFA_CONFIRM, R_MFA_DISABLE,
	R_USER_MFA_RESET, R_USER_OIDC_LINKS,
	R_POLICY_EXPLAIN, R_POLICY_REPLAY, R_ACCESS_WHO,
	/* custom policy sets; *rest is the set's name */
	R_POLICIES, R_POLICY_ONE, R_POLICY_HISTORY
};

/* Resolve an (unescaped) URL path to a route.  On success *ns and *rest
 * (the object key or token id, *restlen bytes) may be set: the caller frees
 * them with cf_free, also when R_UNKNOWN is returned. */
enum route_id cf_http_resolve(const char *url, char **ns, char **rest,
	    size_t *restlen);

/* Parse one "bytes=" Range value against an object of size bytes.
 * 0: no usable range (serve everything), 1: [*first, *last] to serve,
 * -1: not satisfiable (416). */
int	cf_http_parse_range(const char *h, uint64_t size, uint64_t *first,
	    uint64_t *last);

/* Percent-decode s in place; a %00 becomes byte 0xff (invalid UTF-8) so
 * that it is rejected as a name rather than silently truncating one.
 * Returns the new length. */
size_t	cf_http_unescape(char *s);

/* The number of query arguments in a raw request URI (the '&'-separated
 * parts after the first '?'); 0 without a query. */
size_t	cf_http_query_args(const char *uri);

/* Copy in to out (outsz bytes, NUL-terminated) as valid UTF-8 for a JSON
 * string: every byte that does not start a valid sequence becomes U+FFFD,
 * and a copy that does not fit is cut between characters.  Returns the
 * length written. */
size_t	cf_http_text_safe(const char *in, char *out, size_t outsz);

/* Message framing (RFC 9112 6.1, 6.3): the request's header fields, fed
 * one by one to cf_http_framing_add (f zeroed first), then judged by
 * cf_http_framing_verdict.  SEC: a request that a proxy in front of us
 * could frame differently (Content-Length and Transfer-Encoding together,
 * Content-Length values that differ, a coding after chunked, whitespace
 * or other non-token bytes in a field name) is refused, so nobody can
 * smuggle a second request inside its body. */
struct cf_http_framing {
	unsigned	ncl;		/* Content-Length values seen */
	unsigned	nte;		/* transfer codings seen */
	char		cl[24];		/* the first Content-Length */
	bool		cl_bad;		/* not a number, or values differ */
	bool		te_chunked;
	bool		te_after_chunked;	/* or an empty field */
	bool		te_other;	/* a coding other than chunked */
	bool		bad_name;
};
void	cf_http_framing_add(struct cf_http_framing *f, const char *name,
	    const char *value);
/* 0 if the framing is unambiguous; else the HTTP status to refuse with
 * (400, or 501 for a coding we do not implement), *code the API error
 * code and *msg a fixed message.  http10: the request is HTTP/1.0, which
 * has no Transfer-Encoding. */
int	cf_http_framing_verdict(const struct cf_http_framing *f, bool http10,
	    const char **code, const char **msg);

/* A body that ends with its own digest (`X-Coffer-SHA256: trailing`): the
 * last CF_HTTP_TRAIL_LEN bytes are the hex SHA-256 of everything before
 * them.  The body arrives in pieces of any size, so the last
 * CF_HTTP_TRAIL_LEN bytes seen so far are held back, and everything before
 * them is passed on, in order, as soon as it is known not to be part of
 * the digest.  Memory is fixed: the struct is all there is. */
#define CF_HTTP_TRAIL_LEN	64
struct cf_http_trail {
	size_t	len;				/* bytes held */
	char	held[CF_HTTP_TRAIL_LEN + 1];	/* + NUL for the digest */
};

/* Where the released bytes go; a failure stops the feed. */
typedef cf_err	(*cf_http_trail_out)(void *arg, const char *p, size_t n,
	    struct cf_error *err);

/* Feed the next len bytes of the body (t zeroed before the first).
 * Calls out for every byte that can no longer be part of the digest,
 * and returns the first failure of out, or CF_OK. */
cf_err	cf_http_trail_feed(struct cf_http_trail *t, const char *data,
	    size_t len, cf_http_trail_out out, void *arg,
	    struct cf_error *err);

/* At the end of the body: the digest (NUL-terminated, not validated), or
 * NULL if fewer than CF_HTTP_TRAIL_LEN bytes arrived in all. */
const char *cf_http_trail_digest(struct cf_http_trail *t);

#endif

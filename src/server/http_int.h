/* src/server/http_int.h: request parsing of the HTTP front end, split out
 * so that unit tests and fuzzers can reach it (fuzz/fuzz_http_request.c). */
#ifndef CF_SERVER_HTTP_INT_H
#define CF_SERVER_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "base/error.h"
#include "core/core.h"

/* The route table (one row per method and path pattern; the rows are in
 * http.c, next to their handlers) and its matcher (routes.c).  See
 * docs/internals/HTTP.md. */
struct conn;				/* http.c's request state */

/* A row's handler: answers the request (through respond()). */
typedef enum MHD_Result	(*cf_route_fn)(struct MHD_Connection *mc,
			    struct conn *c);

#define CF_ROUTE_SLOW	0x01	/* run on an identity thread (password
				 * hashing must not hold an event thread) */
#define CF_ROUTE_SECRET	0x02	/* the answer holds secrets: wiped after */
#define CF_ROUTE_READ	0x04	/* reads only: without a body, answered at
				 * the header block, in one read snapshot
				 * with its authentication (head_in) */

struct cf_route {
	const char	*method;	/* "GET", "HEAD", ... exactly */
	const char	*pattern;	/* "/v1/ns/{ns}/objects/{key...}" */
	const char	*action;	/* the registry's name for it */
	const char	*refine;	/* NULL, or the one other action its
					 * handler may decide instead (by the
					 * body or query) */
	unsigned int	 flags;		/* CF_ROUTE_* */
	cf_route_fn	 begin;		/* at the header block (a streamed
					 * body), or NULL */
	cf_route_fn	 fn;		/* once the body has arrived */
};

/* The table; *n gets its number of rows. */
const struct cf_route *cf_http_routes(size_t *n);

#define CF_ROUTE_CAPS	2		/* captures per pattern, at most */
struct cf_route_cap {
	const char	*name;	/* "ns", "name", "role", "id", "key..." */
	size_t		 off, len;	/* where in the path */
};
struct cf_route_match {
	const struct cf_route	*route;	/* NULL: no row for this method */
	bool			 path_known;	/* some row's pattern matched */
	size_t			 ncap;
	struct cf_route_cap	 cap[CF_ROUTE_CAPS];
};

/* Match an (unescaped) URL path and a method against tab[0..n): the
 * first row, in table order, whose pattern matches path and whose method
 * is method.  The table's patterns are disjoint (a unit test checks), so
 * the order decides nothing today.  Without allocation; m is always
 * filled (m->route NULL for no match).  A capture of type {ns}, {name}
 * or {role} is one non-empty segment under the store's name limit, {id}
 * one non-empty segment, {key...} the rest of the path (may be empty). */
void	cf_route_match(const struct cf_route *tab, size_t n,
	    const char *method, const char *path, struct cf_route_match *m);

/* The methods of the rows of tab[0..n) whose pattern matches path, in
 * table order, each once, joined by ", " (an Allow header's value) into
 * out; "" when none.  Returns how many.  CF_ROUTE_ALLOW_LEN holds every
 * method the table may use. */
#define CF_ROUTE_ALLOW_LEN	64
size_t	cf_route_allow(const struct cf_route *tab, size_t n, const char *path,
	    char out[CF_ROUTE_ALLOW_LEN]);

/* Is pat a well-formed pattern: "/v1/" first, every capture a known type
 * that fills whole segments, {key...} last, at most CF_ROUTE_CAPS? */
bool	cf_route_pattern_ok(const char *pat);

/* A header value for the request context (User-Agent): copied into out
 * (outsz bytes, NUL-terminated), valid UTF-8 (as cf_http_text_safe, cut
 * between characters), with every control character (C0 and DEL)
 * replaced by '?'.  Returns the length written. */
size_t	cf_http_header_text(const char *in, char *out, size_t outsz);

/* The client address behind trusted proxies (forwarded.c;
 * docs/security.md, "Trusted proxies").  Only for a request whose socket
 * peer is in trusted: the caller checks that first.  hdr: the configured
 * header's value, every field of it joined by ", " (NULL or "": none);
 * forwarded: RFC 7239 Forwarded (its for= parameters) rather than
 * X-Forwarded-For.  The hops are walked from the right (the nearest
 * proxy appends last): each address in trusted is a proxy of ours and is
 * skipped; the first one that is not is the client.  When every hop is
 * trusted, the leftmost is the client.  A hop that names no address
 * (Forwarded's "unknown", an obfuscated node, an element without for=,
 * an X-Forwarded-For entry that is not an address) ends the walk: the
 * client is out = "unknown", which no network rule matches.  out holds
 * CF_IP_TEXT_MAX bytes; "" when hdr has no hop (use the peer).
 * CF_E_INPUT for a malformed header, CF_E_LIMIT past
 * CF_FORWARDED_HOPS_MAX hops or CF_FORWARDED_MAX bytes: the request is
 * refused, never guessed. */
#define CF_FORWARDED_MAX	4096
#define CF_FORWARDED_HOPS_MAX	32
struct cf_cidr_list;
cf_err	cf_http_forwarded_client(const char *hdr, bool forwarded,
	    const struct cf_cidr_list *trusted, char *out, size_t outsz,
	    struct cf_error *err);

/* Is s a valid X-Coffer-Purpose: 1..CF_PURPOSE_MAX characters of
 * [A-Za-z0-9_.:-]? */
bool	cf_http_purpose_ok(const char *s);

/* Parse one "bytes=" Range value against an object of size bytes.
 * 0: no usable range (serve everything), 1: [*first, *last] to serve,
 * -1: not satisfiable (416). */
int	cf_http_parse_range(const char *h, uint64_t size, uint64_t *first,
	    uint64_t *last);

/* Percent-decode s in place; a %00 becomes byte 0xff (invalid UTF-8) so
 * that it is rejected as a name rather than silently truncating one.
 * Returns the new length. */
size_t	cf_http_unescape(char *s);

/* The value of the first field name of an application/x-www-form-
 * urlencoded body[0..len) ('+' a space, %XX decoded) into out (outsz
 * bytes, NUL-terminated), its length in *outlen.  CF_E_NOTFOUND without
 * such a field; CF_E_INPUT for a bad escape, a NUL (as %00 or a byte) or
 * a value that does not fit (out is wiped then). */
cf_err	cf_http_form_value(const char *body, size_t len, const char *name,
	    char *out, size_t outsz, size_t *outlen);

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

/* ---- the S3 front end (s3.c) and what http.c does for it ---- */
struct cf_s3;			/* s3.c's state of one request */
struct cf_buf;
struct cf_put;
struct cf_get;

/* Is this request path (or raw URI) an S3 one: not /v1 or under it. */
bool	cf_s3_path(const char *url);
/* The head of an S3 request is in: authenticate (SigV4), decide the
 * operation and, for an upload, start it; or answer at once. */
enum MHD_Result	cf_s3_begin(struct MHD_Connection *mc, struct conn *c,
		    const char *method);
/* Its body (if any) has arrived: finish the operation and answer. */
enum MHD_Result	cf_s3_end(struct MHD_Connection *mc, struct conn *c);
/* Answer a refusal made while the body arrived, in S3's XML. */
enum MHD_Result	cf_s3_refuse(struct MHD_Connection *mc, struct conn *c,
		    int status, const char *code, const char *msg);
void	cf_s3_free(struct cf_s3 *s);
/* The next bytes of an S3 upload's body, for put: decoded (aws-chunked)
 * and checksummed as the request says, then written.  A failure names
 * its S3 answer, which cf_s3_refuse then gives. */
cf_err	cf_s3_feed(struct cf_s3 *s, struct cf_put *put, const char *data,
	    size_t len, struct cf_error *err);

struct cf_req	*cf_http_req(struct conn *c);
struct cf_core	*cf_http_core(struct conn *c);
const char	*cf_http_s3_region(const struct conn *c);
const char	*cf_http_raw_uri(const struct conn *c);	/* NULL: none */
struct cf_s3	**cf_http_s3(struct conn *c);
/* The action the request is decided under (route_action_held). */
void		 cf_http_set_action(struct conn *c, const char *action);
/* A second action the request may end up decided under (CopyObject:
 * object:get of its source, when that is refused). */
void		 cf_http_set_refine(struct conn *c, const char *action);
/* The upload the body streams into (http.c feeds it), and take it back
 * at the end. */
void		 cf_http_set_put(struct conn *c, struct cf_put *p);
struct cf_put	*cf_http_take_put(struct conn *c);
const struct cf_buf *cf_http_body(const struct conn *c);
/* Room for a body of up to max bytes (an XML request body), when
 * max_json_body allows less; before the body arrives. */
void		 cf_http_body_max(struct conn *c, size_t max);
uint64_t	 cf_http_bytes_in(const struct conn *c);
/* The body that follows is discarded (an answer is pending). */
void		 cf_http_set_failed(struct conn *c);
/* A transfer slot (max_*_per_principal); false: *ret answered. */
bool		 cf_http_xfer(struct MHD_Connection *mc, struct conn *c,
		    bool up, enum MHD_Result *ret);
/* The response body of g's bytes [first, first + len), from memory or
 * streamed (takes g); the download's end is recorded (dl_end). */
cf_err		 cf_http_object_body(struct conn *c, struct cf_get *g,
		    uint64_t first, uint64_t len, struct MHD_Response **out,
		    struct cf_error *err);
/* SEC: the one way out for S3: audit (unless done), then queue resp
 * (takes it) once the record is durable. */
enum MHD_Result	cf_http_send(struct MHD_Connection *mc, struct conn *c,
		    int status, struct MHD_Response *resp, const char *result,
		    uint64_t bytes);

#endif

/* src/server/awschunked.h: the aws-chunked body framing of S3
 * (Content-Encoding: aws-chunked; x-amz-content-sha256
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD
 * and STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER), decoded as it
 * streams in, after the HTTP chunking is gone:
 *
 *   SIZE-HEX [;chunk-signature=SIG] CRLF DATA CRLF ... 0[;chunk-signature=SIG]
 *   CRLF [TRAILER-NAME:VALUE CRLF [x-amz-trailer-signature:SIG CRLF]] CRLF
 *
 * Pure: no I/O and no secrets.  Memory is fixed (the struct and one line
 * of at most CF_AWSC_LINE_MAX bytes); data bytes are passed on as they
 * arrive, never buffered.  Chunk and trailer signatures are checked by a
 * callback (the reference monitor holds the key).  Fuzzed by
 * fuzz/fuzz_awschunked.c. */
#ifndef CF_SERVER_AWSCHUNKED_H
#define CF_SERVER_AWSCHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct cf_sha256;

#define CF_AWSC_LINE_MAX	512	/* a chunk header or trailer line */
#define CF_AWSC_TRAILER_MAX	128	/* a trailer value */

enum cf_awsc_mode {
	CF_AWSC_UNSIGNED_TRAILER,	/* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
	CF_AWSC_SIGNED,			/* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
	CF_AWSC_SIGNED_TRAILER		/* ...-PAYLOAD-TRAILER */
};

/* The mode of an x-amz-content-sha256 value; false if it is none. */
bool	cf_awsc_mode_of(const char *content_sha256, enum cf_awsc_mode *out);

/* Where decoded data goes; a failure stops the decoder. */
typedef cf_err	(*cf_awsc_out_fn)(void *arg, const uint8_t *p, size_t n,
	    struct cf_error *err);
/* Is sig (64 hex digits, NUL-terminated) the next signature of the
 * request's chain, over a chunk whose data has SHA-256 hash (trailer
 * false) or over the trailer whose canonical text ("name:value\n") has
 * SHA-256 hash (trailer true)? */
typedef bool	(*cf_awsc_sig_fn)(void *arg, bool trailer,
	    const uint8_t hash[32], const char *sig);

/* Why a feed or finish failed (beyond the cf_err: the S3 answer). */
enum cf_awsc_fail {
	CF_AWSC_OK,
	CF_AWSC_FRAMING,	/* malformed framing (400) */
	CF_AWSC_INCOMPLETE,	/* the body ended early (IncompleteBody) */
	CF_AWSC_SIGNATURE,	/* a chunk or trailer signature is wrong */
	CF_AWSC_OUTPUT		/* the out callback failed */
};

struct cf_awsc {
	enum cf_awsc_mode	 mode;
	const char		*trailer;	/* the trailer's name; NULL */
	cf_awsc_out_fn		 out;
	void			*out_arg;
	cf_awsc_sig_fn		 sig;
	void			*sig_arg;
	/* state */
	int			 st;
	uint64_t		 left;		/* data bytes of this chunk */
	uint64_t		 decoded;	/* data bytes passed on */
	struct cf_sha256	*h;		/* signed: this chunk's hash */
	char			 chunk_sig[65];
	char			 line[CF_AWSC_LINE_MAX + 1];
	size_t			 nline;
	char			 tvalue[CF_AWSC_TRAILER_MAX + 1];
	bool			 have_trailer;
	bool			 have_tsig;
	enum cf_awsc_fail	 why;
};

/* Set d up (zeroes it); trailer: the x-amz-trailer header's value (the
 * one trailer accepted; required by the -TRAILER modes, NULL
 * otherwise); sig: required by the signed modes. */
cf_err	cf_awsc_init(struct cf_awsc *d, enum cf_awsc_mode mode,
	    const char *trailer, cf_awsc_out_fn out, void *out_arg,
	    cf_awsc_sig_fn sig, void *sig_arg, struct cf_error *err);
/* The next n bytes of the body.  CF_E_INPUT (d->why says more) or the
 * out callback's error; after a failure, d takes no more input. */
cf_err	cf_awsc_feed(struct cf_awsc *d, const uint8_t *p, size_t n,
	    struct cf_error *err);
/* At the end of the body: CF_OK only if the framing ended completely. */
cf_err	cf_awsc_finish(struct cf_awsc *d, struct cf_error *err);
/* The trailer's value (as sent), or NULL if none arrived. */
const char *cf_awsc_trailer_value(const struct cf_awsc *d);
void	cf_awsc_free(struct cf_awsc *d);	/* releases the hash */

#endif

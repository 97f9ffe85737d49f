/* src/base/str.h: bounded parsing and string helpers. */
#ifndef CF_BASE_STR_H
#define CF_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Parse a whole decimal string into [min, max] (OpenBSD strtonum).  No sign,
 * no spaces, no trailing bytes.  *out is written only on success. */
cf_err	cf_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
	    struct cf_error *err);
/* As cf_parse_u64, for a signed value. */
cf_err	cf_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out,
	    struct cf_error *err);

/* Parse a duration such as "90s", "15m", "12h", "30d" or a plain number of
 * seconds, into seconds in [1, max]. */
cf_err	cf_parse_duration(const char *s, uint64_t max, uint64_t *secs,
	    struct cf_error *err);

/* True when p[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF).  NUL bytes are rejected. */
bool	cf_utf8_valid(const void *p, size_t len);

/* Lower-case hex: out must hold 2*len+1 bytes; it is NUL-terminated. */
void	cf_hex_encode(const void *p, size_t len, char *out);
/* Decode exactly 2*outlen hex digits (either case) from s. */
cf_err	cf_hex_decode(const char *s, size_t slen, void *out, size_t outlen,
	    struct cf_error *err);

/* Unpadded base64url.  Encode: out must hold cf_b64url_len(len)+1 bytes. */
size_t	cf_b64url_len(size_t len);
void	cf_b64url_encode(const void *p, size_t len, char *out);
/* Decode into out (capacity outcap); *outlen is the decoded length. */
cf_err	cf_b64url_decode(const char *s, size_t slen, void *out, size_t outcap,
	    size_t *outlen, struct cf_error *err);

/* Standard base64 (RFC 4648 section 4, padded), as Content-MD5 and S3's
 * x-amz-checksum-* carry it.  Decode: true when s is exactly n bytes (at
 * most 64).  Encode: out must hold 4 * ((n + 2) / 3) + 1 bytes. */
bool	cf_b64std_decode(const char *s, void *out, size_t n);
void	cf_b64std_encode(const void *p, size_t n, char *out);

/* strlcpy / strlcat semantics (always terminate, return strlen(src) / the
 * length tried to create). */
size_t	cf_strlcpy(char *dst, const char *src, size_t dstsize);
size_t	cf_strlcat(char *dst, const char *src, size_t dstsize);

bool	cf_str_has_prefix(const char *s, const char *prefix);
/* True when s may be an HTTP header field value (RFC 9110 5.5): visible
 * characters, space, tab and bytes >= 0x80 (UTF-8 is checked
 * separately); no control byte (CR, LF, ESC, ...) and no DEL. */
bool	cf_str_field_value_ok(const char *s);
/* The next element of an HTTP list (RFC 9110 5.6.1: elements separated
 * by commas, optional whitespace around each, empty elements skipped),
 * read from *p: *elem and *len (neither bound empty), *p moved past it.
 * False at the end of the string. */
bool	cf_http_list_next(const char **p, const char **elem, size_t *len);

#endif

/* src/server/awschunked.c: the aws-chunked decoder (awschunked.h).
 *
 * SEC: every size on the wire is bounded before it is used (a chunk size
 * has at most 15 hex digits, a line CF_AWSC_LINE_MAX bytes), a chunk
 * size that lies shows as framing that does not line up (data where a
 * CRLF or a size must be, or a body that ends inside a chunk), and the
 * decoder never accepts input after a failure or after the final empty
 * line, so nothing the client frames wrongly reaches the store as data
 * of an upload that then commits. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/str.h"
#include "crypto/crypto.h"
#include "server/awschunked.h"

enum {
	ST_HDR, ST_DATA, ST_DATA_CR, ST_DATA_LF, ST_TRL, ST_DONE, ST_FAIL
};

#define SIG_EXT		";chunk-signature="
#define TRAILER_SIG	"x-amz-trailer-signature"

/* SHA-256 of the empty string: the hash of the final, empty chunk. */
static const uint8_t empty_hash[32] = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
	0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
	0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55
};

bool
cf_awsc_mode_of(const char *v, enum cf_awsc_mode *out)
{
	if (v == NULL)
		return false;
	if (strcmp(v, "STREAMING-UNSIGNED-PAYLOAD-TRAILER") == 0)
		*out = CF_AWSC_UNSIGNED_TRAILER;
	else if (strcmp(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") == 0)
		*out = CF_AWSC_SIGNED;
	else if (strcmp(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") == 0)
		*out = CF_AWSC_SIGNED_TRAILER;
	else
		return false;
	return true;
}

static bool
signed_mode(const struct cf_awsc *d)
{
	return d->mode != CF_AWSC_UNSIGNED_TRAILER;
}

static bool
trailer_mode(const struct cf_awsc *d)
{
	return d->mode != CF_AWSC_SIGNED;
}

static cf_err
fail(struct cf_awsc *d, enum cf_awsc_fail why, struct cf_error *err,
    const char *msg)
{
	d->st = ST_FAIL;
	d->why = why;
	return cf_error_set(err, why == CF_AWSC_SIGNATURE ? CF_E_AUTH :
	    CF_E_INPUT, "%s", msg);
}

cf_err
cf_awsc_init(struct cf_awsc *d, enum cf_awsc_mode mode, const char *trailer,
    cf_awsc_out_fn out, void *out_arg, cf_awsc_sig_fn sig, void *sig_arg,
    struct cf_error *err)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->out = out;
	d->out_arg = out_arg;
	d->sig = sig;
	d->sig_arg = sig_arg;
	d->st = ST_HDR;
	if (trailer_mode(d) && (trailer == NULL || trailer[0] == '\0' ||
	    strlen(trailer) >= 64))
		return fail(d, CF_AWSC_FRAMING, err, "this payload mode needs "
		    "an x-amz-trailer header");
	if (!trailer_mode(d) && trailer != NULL)
		return fail(d, CF_AWSC_FRAMING, err, "x-amz-trailer needs a "
		    "-TRAILER payload mode");
	if (signed_mode(d) && sig == NULL)
		return cf_error_set(err, CF_E_INVAL, "no signature check");
	d->trailer = trailer;
	return CF_OK;
}

void
cf_awsc_free(struct cf_awsc *d)
{
	if (d == NULL)
		return;
	cf_sha256_free(d->h);
	d->h = NULL;
}

const char *
cf_awsc_trailer_value(const struct cf_awsc *d)
{
	return d->have_trailer ? d->tvalue : NULL;
}

static bool
hex64(const char *s, size_t n)
{
	size_t	i;

	if (n != 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A chunk header line (without its CRLF). */
static cf_err
chunk_header(struct cf_awsc *d, struct cf_error *err)
{
	const char	*semi;
	size_t		 i, nhex;
	uint64_t	 size = 0;

	semi = memchr(d->line, ';', d->nline);
	nhex = semi != NULL ? (size_t)(semi - d->line) : d->nline;
	if (nhex == 0 || nhex > 15)
		return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: bad chunk "
		    "size");
	for (i = 0; i < nhex; i++) {
		char	ch = d->line[i];
		int	v;

		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v = ch - 'A' + 10;
		else
			return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: bad "
			    "chunk size");
		size = size << 4 | (uint64_t)v;
	}
	if (signed_mode(d)) {
		size_t	elen = strlen(SIG_EXT);

		if (semi == NULL || d->nline - nhex != elen + 64 ||
		    memcmp(semi, SIG_EXT, elen) != 0 ||
		    !hex64(semi + elen, 64))
			return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: a "
			    "signed chunk needs ;chunk-signature=<64 hex>");
		memcpy(d->chunk_sig, semi + elen, 64);
		d->chunk_sig[64] = '\0';
	} else if (semi != NULL)
		return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: chunk "
		    "extension in an unsigned payload");
	d->left = size;
	if (size == 0) {
		if (signed_mode(d) && !d->sig(d->sig_arg, false, empty_hash,
		    d->chunk_sig))
			return fail(d, CF_AWSC_SIGNATURE, err, "aws-chunked: "
			    "the final chunk's signature does not match");
		d->st = ST_TRL;
		return CF_OK;
	}
	if (signed_mode(d) && cf_sha256_new(&d->h, err) != CF_OK) {
		d->st = ST_FAIL;
		d->why = CF_AWSC_OUTPUT;
		return err != NULL ? err->code : CF_E_NOMEM;
	}
	d->st = ST_DATA;
	return CF_OK;
}

/* The end of a chunk's data (after its CRLF). */
static cf_err
chunk_end(struct cf_awsc *d, struct cf_error *err)
{
	uint8_t	h[32];
	bool	ok;

	if (!signed_mode(d))
		return CF_OK;
	cf_sha256_final(d->h, h);
	cf_sha256_free(d->h);
	d->h = NULL;
	ok = d->sig(d->sig_arg, false, h, d->chunk_sig);
	if (!ok)
		return fail(d, CF_AWSC_SIGNATURE, err, "aws-chunked: a "
		    "chunk's signature does not match");
	return CF_OK;
}

/* A trailer line (without its CRLF), or the empty line that ends all. */
static cf_err
trailer_line(struct cf_awsc *d, struct cf_error *err)
{
	char		 name[64], canon[256];
	const char	*colon, *v;
	size_t		 nlen, vlen, i;
	uint8_t		 h[32];

	if (d->nline == 0) {
		if (trailer_mode(d) && !d->have_trailer)
			return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: the "
			    "trailer named by x-amz-trailer is missing");
		if (d->mode == CF_AWSC_SIGNED_TRAILER && !d->have_tsig)
			return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: the "
			    "trailer signature is missing");
		d->st = ST_DONE;
		return CF_OK;
	}
	colon = memchr(d->line, ':', d->nline);
	if (!trailer_mode(d) || colon == NULL || d->have_tsig)
		return fail(d, CF_AWSC_FRAMING, err,
		    "aws-chunked: bad trailer");
	nlen = (size_t)(colon - d->line);
	if (nlen == 0 || nlen >= sizeof(name))
		return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: bad trailer "
		    "name");
	for (i = 0; i < nlen; i++) {
		char ch = d->line[i];

		name[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	name[nlen] = '\0';
	v = colon + 1;
	vlen = d->nline - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (d->mode == CF_AWSC_SIGNED_TRAILER &&
	    strcmp(name, TRAILER_SIG) == 0) {
		char sig[65];

		if (!d->have_trailer || !hex64(v, vlen))
			return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: bad "
			    "trailer signature");
		memcpy(sig, v, 64);
		sig[64] = '\0';
		/* The canonical trailer: "name:value\n", as AWS hashes it. */
		(void)snprintf(canon, sizeof(canon), "%s:%s\n", d->trailer,
		    d->tvalue);
		for (i = 0; canon[i] != ':' && canon[i] != '\0'; i++)
			if (canon[i] >= 'A' && canon[i] <= 'Z')
				canon[i] = (char)(canon[i] - 'A' + 'a');
		cf_sha256(canon, strlen(canon), h);
		if (!d->sig(d->sig_arg, true, h, sig))
			return fail(d, CF_AWSC_SIGNATURE, err,
			    "aws-chunked: the trailer signature does not "
			    "match");
		d->have_tsig = true;
		return CF_OK;
	}
	if (d->have_trailer || strcasecmp(name, d->trailer) != 0)
		return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: a trailer "
		    "that x-amz-trailer does not name");
	if (vlen == 0 || vlen > CF_AWSC_TRAILER_MAX)
		return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: bad trailer "
		    "value");
	memcpy(d->tvalue, v, vlen);
	d->tvalue[vlen] = '\0';
	d->have_trailer = true;
	return CF_OK;
}

/* One byte of a line; a complete line (CRLF-terminated) is handled. */
static cf_err
line_byte(struct cf_awsc *d, char ch, struct cf_error *err)
{
	cf_err	rc;

	if (ch != '\n') {
		if (d->nline >= CF_AWSC_LINE_MAX)
			return fail(d, CF_AWSC_FRAMING, err,
			    "aws-chunked: line too long");
		d->line[d->nline++] = ch;
		return CF_OK;
	}
	if (d->nline == 0 || d->line[d->nline - 1] != '\r')
		return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: a line must "
		    "end with CRLF");
	d->nline--;
	d->line[d->nline] = '\0';
	if (memchr(d->line, '\r', d->nline) != NULL ||
	    memchr(d->line, '\0', d->nline) != NULL)
		return fail(d, CF_AWSC_FRAMING, err, "aws-chunked: stray byte "
		    "in a line");
	if (d->st == ST_HDR)
		rc = chunk_header(d, err);
	else
		rc = trailer_line(d, err);
	d->nline = 0;
	return rc;
}

cf_err
cf_awsc_feed(struct cf_awsc *d, const uint8_t *p, size_t n,
    struct cf_error *err)
{
	size_t	k;
	cf_err	rc;

	while (n > 0) {
		switch (d->st) {
		case ST_HDR:
		case ST_TRL:
			rc = line_byte(d, (char)*p, err);
			if (rc != CF_OK)
				return rc;
			p++;
			n--;
			break;
		case ST_DATA:
			k = n < d->left ? n : (size_t)d->left;
			if (d->h != NULL)
				cf_sha256_update(d->h, p, k);
			rc = d->out(d->out_arg, p, k, err);
			if (rc != CF_OK) {
				d->st = ST_FAIL;
				d->why = CF_AWSC_OUTPUT;
				return rc;
			}
			d->decoded += k;
			d->left -= k;
			p += k;
			n -= k;
			if (d->left == 0)
				d->st = ST_DATA_CR;
			break;
		case ST_DATA_CR:
		case ST_DATA_LF:
			if (*p != (d->st == ST_DATA_CR ? '\r' : '\n'))
				return fail(d, CF_AWSC_FRAMING, err,
				    "aws-chunked: a chunk's data is longer "
				    "than its size");
			p++;
			n--;
			if (d->st == ST_DATA_CR) {
				d->st = ST_DATA_LF;
				break;
			}
			d->st = ST_HDR;
			rc = chunk_end(d, err);
			if (rc != CF_OK)
				return rc;
			break;
		case ST_DONE:
			return fail(d, CF_AWSC_FRAMING, err,
			    "aws-chunked: data after the final chunk");
		default:
			return cf_error_set(err, CF_E_INPUT, "aws-chunked: "
			    "input after a failure");
		}
	}
	return CF_OK;
}

cf_err
cf_awsc_finish(struct cf_awsc *d, struct cf_error *err)
{
	if (d->st == ST_DONE)
		return CF_OK;
	if (d->st == ST_FAIL)
		return cf_error_set(err, CF_E_INPUT, "aws-chunked: failed");
	return fail(d, CF_AWSC_INCOMPLETE, err, "aws-chunked: the body ended "
	    "inside its framing");
}

/* src/core/ops_partcopy.c: S3 UploadPartCopy (core.h, cf_core_mp_part_copy;
 * docs/s3.md, "UploadPartCopy").
 *
 * A part of a multipart upload whose bytes come from (a range of) a
 * version of another object, server-side: the source is opened and read
 * as a GET of it would be (each chunk authenticated), and the bytes go
 * through the ordinary part upload (ops_multipart.c, ops_object.c:
 * sealed under a fresh data key, decided again at the end, recorded,
 * then the row).  Unlike CopyObject the ciphertext is not shared: a
 * part is a range of one object and later a piece of another, which no
 * single blob's chunk layout can be.
 *
 * SEC: two decisions, each recorded with the request's id: object:get
 * of the source version first (refused, missing, out of range or a
 * failed condition: that decision is the request's record and nothing
 * else happens), then object:put of the target (cf_core_mp_part_begin),
 * so a part copy never reads what a GET could not, nor writes what a
 * PutObject could not. */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "core/core_int.h"
#include "crypto/aead.h"

/* The copy's buffer, from the memory budget; without room there, a
 * small one (one AEAD chunk, outside it). */
#define COPY_BUF	(256u * 1024)
#define COPY_MIN	CF_AEAD_CHUNK

/* Open the source under sub (a copy of r with no decision yet), decide
 * it, check range and conditions; on success sub's allowed decision is
 * recorded. */
static cf_err
source_open(struct cf_core *c, struct cf_req *sub,
    const struct cf_copy_src *src, struct cf_get **g, uint64_t *first,
    uint64_t *len, struct cf_error *err)
{
	const struct cf_object_view	*v;
	cf_err				 rc;

	rc = cf_core_get_open(c, sub, src->ns, src->key, src->version_id,
	    false, g, err);
	if (rc != CF_OK)
		return rc;
	v = cf_core_get_view(*g);
	/* A copy has no 304: a condition that fails is a 412 (S3). */
	if (cf_core_precond(&src->cond, v) != CF_PRECOND_HOLDS) {
		sub->errcode = "precondition_failed";
		return cf_error_set(err, CF_E_INPUT, "a copy-source "
		    "condition does not hold for the source version");
	}
	*first = 0;
	*len = v->size;
	if (src->ranged) {
		/* SEC: only bytes of the source; a range past its end (or
		 * any range of an empty object) is refused, never cut. */
		if (src->first > src->last || src->last >= v->size) {
			sub->errcode = "invalid_range";
			return cf_error_set(err, CF_E_INPUT, "the range "
			    "bytes=%llu-%llu is not within the source's %llu "
			    "bytes", (unsigned long long)src->first,
			    (unsigned long long)src->last,
			    (unsigned long long)v->size);
		}
		*first = src->first;
		*len = src->last - src->first + 1;
	}
	return cf_core_audit(c, sub, 200, "ok", 0, err);
}

cf_err
cf_core_mp_part_copy(struct cf_core *c, struct cf_req *r,
    const struct cf_copy_src *src, const char *ns, const char *key,
    const char *upload_id, int64_t number, json_t **out,
    struct cf_error *err)
{
	struct cf_req	*sub = NULL;
	struct cf_get	*g = NULL;
	struct cf_put	*p = NULL;
	uint8_t		*buf = NULL;
	char		 svid[CF_VERSION_ID_LEN + 1];
	uint64_t	 first = 0, len = 0, pos;
	size_t		 want, got, bufsz = COPY_BUF;
	bool		 mapped = true;
	cf_err		 rc;

	sub = cf_malloc(sizeof(*sub));
	if (sub == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	*sub = *r;
	sub->audited = false;
	sub->allowed = false;
	sub->action = NULL;
	sub->errcode = NULL;
	sub->resource[0] = '\0';
	rc = source_open(c, sub, src, &g, &first, &len, err);
	if (rc != CF_OK) {
		/* The source's refusal (or failure) is the answer. */
		*r = *sub;
		goto out;
	}
	cf_strlcpy(svid, cf_core_get_view(g)->version_id, sizeof(svid));
	rc = cf_core_mp_part_begin(c, r, ns, key, upload_id, number,
	    (int64_t)len, &p, err);
	if (rc == CF_OK &&
	    (buf = cf_membudget_buf_get(c->mb, COPY_BUF)) == NULL) {
		mapped = false;
		bufsz = COPY_MIN;
		if ((buf = cf_malloc(COPY_MIN)) == NULL)
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	for (pos = 0; rc == CF_OK && pos < len; pos += got) {
		want = len - pos < bufsz ? (size_t)(len - pos) : bufsz;
		rc = cf_core_get_read(g, first + pos, buf, want, &got, err);
		if (rc == CF_OK && got == 0)
			rc = cf_error_set(err, CF_E_INTEGRITY, "the source "
			    "version ends early");
		if (rc == CF_OK && got > want)
			got = want;
		if (rc == CF_OK)
			rc = cf_core_put_write(p, buf, got, err);
	}
	if (rc != CF_OK)
		goto out;
	rc = cf_core_put_finish(p, NULL, out, err);
	p = NULL;
	if (rc != CF_OK)
		goto out;
	if (json_object_set_new(*out, "source_version_id",
	    json_string(svid)) != 0 || json_object_set_new(*out, "created",
	    core_time_json(core_now_us(c))) != 0) {
		json_decref(*out);
		*out = NULL;
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
out:
	cf_core_put_abort(p);
	if (buf != NULL) {
		/* SEC: plaintext of the source. */
		cf_wipe(buf, bufsz);
		if (mapped)
			cf_membudget_buf_put(c->mb, buf, COPY_BUF);
		else
			cf_free(buf);
	}
	cf_core_get_close(g);
	cf_free(sub);
	return rc;
}

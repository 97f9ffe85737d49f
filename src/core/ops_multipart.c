/* src/core/ops_multipart.c: S3 multipart uploads (core.h, "S3 multipart
 * uploads"; docs/s3.md).
 *
 * An upload in progress is a row and its parts, each part an encrypted
 * blob of its own streamed in through the ordinary upload path
 * (ops_object.c: authorize, seal under a fresh data key, re-authorize,
 * commit, audit, then the row).  None of it is an object: reads and
 * listings never see it.  Completing is by reference (mp_complete_ref):
 * the parts named become, in order, the segments of the new version
 * (core/segments.c), each keeping its blob and sealed_as, its key
 * rewrapped for its place; the version row, its segments and the removal
 * of the upload's rows are one transaction, and the blobs of the parts
 * not named go afterwards (a crash in between leaves orphans for the
 * sweep, never a visible half).  An upload whose parts have no SHA-256
 * (stored by an older server) is completed by copying, as before: read
 * back, each chunk authenticated, streamed into one ordinary upload.
 *
 * SEC: every step is decided on the key (object:put) like a PutObject;
 * the upload must belong to the namespace (by identity) and the key the
 * request names, so an upload id is no capability beyond them. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/testhook.h"
#include "base/timeutil.h"
#include "crypto/aead.h"
#include "crypto/checksum.h"
#include "core/core_int.h"
#include "crypto/aead.h"

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

static int64_t
expiry_us(const struct cf_core *c)
{
	int64_t	s = c->cfg.s3_multipart_expiry > 0 ?
	    c->cfg.s3_multipart_expiry : 7 * 86400;

	return s * 1000000;
}

static cf_err
expire_cb(void *arg, const struct cf_mp_upload_rec *u, struct cf_error *err)
{
	struct cf_core		*c = arg;
	struct cf_req		 r;
	struct core_act		 act;
	cf_err			 rc;

	cf_req_init(&r, "local");
	r.authenticated = true;
	r.authn = "internal";
	(void)cf_strlcpy(r.principal.name, "system", sizeof(r.principal.name));
	r.action = "blob:reclaim";
	r.allowed = true;
	(void)snprintf(r.resource, sizeof(r.resource), "s3-upload/%s", u->id);
	(void)cf_strlcpy(r.reasons, "s3-multipart-expiry", sizeof(r.reasons));
	rc = core_act_begin(&act, c, &r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_mp_delete(c->meta, &act.au, u->id, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = CF_OK;
	}
	return rc;
}

/* Remove uploads past s3_multipart_expiry (their part blobs become
 * orphans, reclaimed by the sweep).  Best effort: a failure is logged,
 * and such uploads stay invisible anyway. */
static void
mp_expire(struct cf_core *c)
{
	struct cf_error	err;

	cf_error_clear(&err);
	if (cf_meta_mp_list(c->meta, -1, core_now_us(c) - expiry_us(c),
	    NULL, expire_cb, c, &err) != CF_OK)
		log_warnx("event=s3_multipart_expiry_failed");
}

static cf_err
no_such_upload(struct cf_req *r, const char *id, struct cf_error *err)
{
	cf_error_clear(err);
	r->errcode = "no_such_upload";
	return cf_error_set(err, CF_E_NOTFOUND, "no upload \"%s\" of this key "
	    "(aborted, completed, expired or never begun)", id);
}

/* The checksum an upload declared (cf_mp_upload_rec.checksum,
 * "ALG:TYPE"): its algorithm (CF_CKSUM_NONE: none) and whether it is
 * FULL_OBJECT. */
static enum cf_cksum_alg
declared(const struct cf_mp_upload_rec *u, bool *full)
{
	const char	*colon = strchr(u->checksum, ':');
	char		 name[16];
	size_t		 n;

	*full = false;
	if (colon == NULL || (n = (size_t)(colon - u->checksum)) >=
	    sizeof(name))
		return CF_CKSUM_NONE;
	memcpy(name, u->checksum, n);
	name[n] = '\0';
	*full = strcmp(colon + 1, "FULL_OBJECT") == 0;
	return cf_cksum_alg_of(name);
}

/* S3's upper-case name of alg ("CRC32", ...) into out[16]. */
static void
alg_upper(enum cf_cksum_alg alg, char out[16])
{
	const char	*s = cf_cksum_name(alg);
	size_t		 i;

	for (i = 0; s[i] != '\0' && i < 15; i++)
		out[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
	out[i] = '\0';
}

/* x-amz-checksum-algorithm and -type of CreateMultipartUpload as S3
 * takes them: u->checksum, or why not. */
static const char *
declare(const char *alg_name, const char *type, struct cf_mp_upload_rec *u)
{
	enum cf_cksum_alg	alg;
	bool			full, crc;

	u->checksum[0] = '\0';
	if (alg_name == NULL)
		return type == NULL ? NULL : "x-amz-checksum-type needs "
		    "x-amz-checksum-algorithm";
	alg = cf_cksum_alg_of(alg_name);
	if (alg == CF_CKSUM_NONE)
		return "x-amz-checksum-algorithm must be CRC32, CRC32C, "
		    "CRC64NVME, SHA1 or SHA256";
	crc = alg == CF_CKSUM_CRC32 || alg == CF_CKSUM_CRC32C ||
	    alg == CF_CKSUM_CRC64NVME;
	if (type == NULL)
		full = alg == CF_CKSUM_CRC64NVME;
	else if (strcasecmp(type, "FULL_OBJECT") == 0)
		full = true;
	else if (strcasecmp(type, "COMPOSITE") == 0)
		full = false;
	else
		return "x-amz-checksum-type must be COMPOSITE or FULL_OBJECT";
	if (full && !crc)
		return "FULL_OBJECT needs CRC32, CRC32C or CRC64NVME";
	if (!full && alg == CF_CKSUM_CRC64NVME)
		return "CRC64NVME is FULL_OBJECT only";
	(void)snprintf(u->checksum, sizeof(u->checksum), "%s:%s",
	    cf_cksum_name(alg), full ? "FULL_OBJECT" : "COMPOSITE");
	return NULL;
}

static const char *
str_of(const json_t *j)
{
	const char	*s = json_string_value(j);

	return s != NULL ? s : "";
}

/* Decide action on ns/key, then find upload id of that namespace and key
 * (and not expired). */
static cf_err
mp_find(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns, const char *key, const char *id,
    struct cf_mp_upload_rec *u, struct cf_ns_rec *nsr, struct cf_error *err)
{
	cf_err	rc;

	rc = core_object_authorize(c, r, action, ns, key, err);
	if (rc == CF_OK)
		rc = core_ns_must_exist(c, r, ns, nsr, err);
	if (rc != CF_OK)
		return rc;
	mp_expire(c);
	if (id == NULL || strlen(id) != CF_VERSION_ID_LEN)
		return no_such_upload(r, id != NULL ? id : "", err);
	rc = cf_meta_mp_get(c->meta, id, u, err);
	if (rc == CF_E_NOTFOUND || (rc == CF_OK && (u->ns_id != nsr->id ||
	    strcmp(u->key, key) != 0 ||
	    u->created_us < core_now_us(c) - expiry_us(c))))
		return no_such_upload(r, id, err);
	return rc;
}

cf_err
cf_core_mp_create(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *content_type, const char *content_encoding,
    const char *meta_json, const char *ck_alg, const char *ck_type,
    json_t **out, struct cf_error *err)
{
	struct cf_mp_upload_rec	*u = NULL;
	struct cf_ns_rec	 nsr;
	struct cf_put		*probe = NULL;
	struct core_act		 act;
	enum cf_cksum_alg	 alg;
	uint8_t			 raw[CF_VERSION_ID_LEN / 2];
	const char		*why;
	char			 up[16];
	bool			 full;
	cf_err			 rc;

	rc = core_object_authorize(c, r, "object:put", ns, key, err);
	if (rc == CF_OK)
		rc = core_ns_must_exist(c, r, ns, &nsr, err);
	if (rc != CF_OK)
		return rc;
	mp_expire(c);
	/* The type, metadata and encoding checked as an upload's are. */
	rc = core_put_new(c, r, nsr.id, ns, key, content_type, NULL,
	    meta_json, 0, &probe, err);
	if (rc == CF_OK && content_encoding != NULL)
		rc = cf_core_put_encoding(probe, content_encoding, err);
	cf_core_put_abort(probe);
	if (rc != CF_OK)
		return rc;
	u = cf_calloc(1, sizeof(*u));
	if (u == NULL)
		return nomem(err);
	why = declare(ck_alg, ck_type, u);
	if (why != NULL) {
		r->errcode = "invalid_request";
		rc = cf_error_set(err, CF_E_INPUT, "%s", why);
		goto out;
	}
	rc = cf_random(raw, sizeof(raw), err);
	if (rc != CF_OK)
		goto out;
	u->created_us = core_now_us(c);
	/* The time first, so that a key's upload ids sort in the order
	 * they were begun (ListMultipartUploads' order, and its
	 * upload-id-marker compares ids); 80 random bits after it. */
	(void)snprintf(u->id, sizeof(u->id), "%012llx",
	    (unsigned long long)(u->created_us / 1000) & 0xffffffffffffULL);
	cf_hex_encode(raw, (CF_VERSION_ID_LEN - 12) / 2, u->id + 12);
	u->ns_id = nsr.id;
	cf_strlcpy(u->key, key, sizeof(u->key));
	cf_strlcpy(u->content_type, content_type != NULL &&
	    content_type[0] != '\0' ? content_type :
	    "application/octet-stream", sizeof(u->content_type));
	cf_strlcpy(u->content_encoding, content_encoding != NULL ?
	    content_encoding : "", sizeof(u->content_encoding));
	cf_strlcpy(u->user_meta, meta_json != NULL ? meta_json : "",
	    sizeof(u->user_meta));
	cf_strlcpy(u->created_by, r->principal.name, sizeof(u->created_by));
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_mp_create(c->meta, &act.au, u, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		goto out;
	alg = declared(u, &full);
	alg_upper(alg, up);
	*out = json_pack("{s:s,s:s,s:s}", "upload_id", u->id,
	    "checksum_algorithm", up, "checksum_type", alg == CF_CKSUM_NONE ?
	    "" : full ? "FULL_OBJECT" : "COMPOSITE");
	if (*out == NULL)
		rc = nomem(err);
out:
	cf_free(u);
	return rc;
}

cf_err
cf_core_mp_part_begin(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *upload_id, int64_t number,
    int64_t content_length, const char *ck_alg, struct cf_put **out,
    struct cf_error *err)
{
	struct cf_mp_upload_rec	*u;
	struct cf_mp_part_rec	*part = NULL;
	struct cf_ns_rec	 nsr;
	struct cf_put		*p = NULL;
	enum cf_cksum_alg	 alg = CF_CKSUM_NONE;
	bool			 full;
	cf_err			 rc;

	u = cf_calloc(1, sizeof(*u));
	if (u == NULL)
		return nomem(err);
	rc = mp_find(c, r, "object:put", ns, key, upload_id, u, &nsr, err);
	if (rc == CF_OK && (number < 1 || number > CF_MP_PARTS_MAX)) {
		r->errcode = "invalid_argument";
		rc = cf_error_set(err, CF_E_INPUT, "part number must be 1 to "
		    "%d", CF_MP_PARTS_MAX);
	}
	if (rc == CF_OK)
		alg = declared(u, &full);
	/* S3's rule: a part carries the upload's algorithm or none (the
	 * front end then computes it), never another. */
	if (rc == CF_OK && alg != CF_CKSUM_NONE && ck_alg != NULL &&
	    cf_cksum_alg_of(ck_alg) != alg) {
		r->errcode = "invalid_request";
		rc = cf_error_set(err, CF_E_INPUT, "the upload declared "
		    "checksum %s; this part carries %s", cf_cksum_name(alg),
		    ck_alg);
	}
	if (rc == CF_OK && (part = cf_calloc(1, sizeof(*part))) == NULL)
		rc = nomem(err);
	if (rc == CF_OK)
		rc = core_put_new(c, r, nsr.id, ns, key, NULL, NULL, NULL,
		    content_length, &p, err);
	if (rc == CF_OK)
		rc = cf_core_put_md5(p, NULL, err);
	if (rc != CF_OK) {
		cf_core_put_abort(p);
		cf_free(part);
		cf_free(u);
		return rc;
	}
	cf_strlcpy(part->upload_id, u->id, sizeof(part->upload_id));
	part->number = number;
	core_put_set_part(p, part, cf_cksum_name(alg));
	cf_free(u);
	*out = p;
	return CF_OK;
}

struct parts_ctx {
	struct cf_mp_part_rec	*v;
	size_t			 n, cap;
};

static cf_err
parts_cb(void *arg, const struct cf_mp_part_rec *p, struct cf_error *err)
{
	struct parts_ctx	*x = arg;
	struct cf_mp_part_rec	*nv;

	if (x->n == x->cap) {
		size_t cap = x->cap == 0 ? 16 : 2 * x->cap;

		if (cap > CF_MP_PARTS_MAX)
			cap = CF_MP_PARTS_MAX;
		if (x->n >= cap)
			return cf_error_set(err, CF_E_INTERNAL, "too many "
			    "parts stored");
		nv = cf_reallocarray(x->v, cap, sizeof(*nv));
		if (nv == NULL)
			return nomem(err);
		x->v = nv;
		x->cap = cap;
	}
	x->v[x->n++] = *p;
	return CF_OK;
}

static void
parts_free(struct parts_ctx *x)
{
	if (x->v != NULL)
		cf_wipe(x->v, x->cap * sizeof(*x->v));
	cf_free(x->v);
	x->v = NULL;
}

static const struct cf_mp_part_rec *
part_of(const struct parts_ctx *x, int64_t number)
{
	size_t	lo = 0, hi = x->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (x->v[mid].number == number)
			return &x->v[mid];
		if (x->v[mid].number < number)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Bytes of plaintext per read when the upload could not be staged (the
 * budget was full): one AEAD chunk, outside the budget. */
#define BOUNCE	CF_AEAD_CHUNK

static cf_err
refuse(struct cf_req *r, const char *code, struct cf_error *err,
    const char *msg)
{
	r->errcode = code;
	return cf_error_set(err, CF_E_INPUT, "%s", msg);
}

/* Part pr's blob is there, as long as its size says (a stat, not a
 * read): a part lost or cut on disk fails the Complete, nothing stored,
 * as it did when the Complete copied the parts.  Its content is checked
 * chunk by chunk by every read, as any blob's. */
static cf_err
part_present(struct cf_core *c, const struct cf_mp_part_rec *pr,
    struct cf_error *err)
{
	struct cf_blob_reader	*br = NULL;
	cf_err			 rc;

	rc = cf_blob_open(c->blobs, pr->blob_id, &br, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		return cf_error_set(err, CF_E_INTEGRITY, "stored data of part "
		    "%lld is missing", (long long)pr->number);
	}
	if (rc == CF_OK && cf_blob_size(br) != cf_aead_blob_size(pr->size))
		rc = cf_error_set(err, CF_E_INTEGRITY, "stored data of part "
		    "%lld has the wrong length", (long long)pr->number);
	cf_blob_close(br);
	return rc;
}

/* Complete by reference: the version's segments are the parts named,
 * in order, each keeping its blob, its sealed_as (the part id) and its
 * data key, which is unwrapped and wrapped again for the segment's place
 * in the new version (cf_segment_ad) by the KEK active now; nothing is
 * read, decrypted or written but metadata.  The version's row, its
 * segments and the removal of the upload's rows are one transaction,
 * which also checks that every part named is still the one read here;
 * the blobs of the parts not named go afterwards.  sha_hex: the
 * version's digest (the SHA-256 of the parts' SHA-256s). */
/* S3's checksum of a multipart object (x-amz-checksum-type COMPOSITE):
 * when every part named carried a checksum of one algorithm, that
 * algorithm's checksum of their raw checksums in order, in base64, then
 * "-N": "ALG:BASE64-N" in out.  Else "": none is kept, as for an upload
 * that carried none (clients then skip their check). */
static void
mp_composite(const struct parts_ctx *x, const struct cf_mp_want *want,
    size_t n, char out[CF_CHECKSUM_TEXT_MAX])
{
	const struct cf_mp_part_rec	*pr;
	struct cf_cksum			*h = NULL;
	enum cf_cksum_alg		 alg = CF_CKSUM_NONE, a;
	uint8_t				 d[CF_CKSUM_MAX];
	char				 name[16];
	char				 b64[4 * (CF_CKSUM_MAX + 2) / 3 + 1];
	const char			*colon;
	size_t				 i;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		pr = part_of(x, want[i].number);
		colon = pr != NULL ? strchr(pr->checksum, ':') : NULL;
		if (colon == NULL || (size_t)(colon - pr->checksum) >=
		    sizeof(name))
			goto out;
		memcpy(name, pr->checksum, (size_t)(colon - pr->checksum));
		name[colon - pr->checksum] = '\0';
		a = cf_cksum_alg_of(name);
		if (a == CF_CKSUM_NONE || (i > 0 && a != alg))
			goto out;
		if (i == 0 && cf_cksum_new(a, &h, NULL) != CF_OK)
			goto out;
		alg = a;
		if (!cf_b64std_decode(colon + 1, d, cf_cksum_len(alg)))
			goto out;
		cf_cksum_update(h, d, cf_cksum_len(alg));
	}
	if (h == NULL)
		goto out;
	cf_cksum_final(h, d);
	cf_b64std_encode(d, cf_cksum_len(alg), b64);
	(void)snprintf(out, CF_CHECKSUM_TEXT_MAX, "%s:%s-%zu",
	    cf_cksum_name(alg), b64, n);
out:
	cf_cksum_free(h);
}

/* The object's checksum (v->checksum) when the upload declared one:
 * every part named carries it (UploadPart verified or computed it);
 * COMPOSITE is mp_composite's, FULL_OBJECT the CRC of the whole object,
 * combined from the parts' CRCs and sizes (no byte read).  Else S3's
 * composite of what the parts carried, as before.  CF_E_INPUT
 * (invalid_part) for a part without the declared checksum (stored
 * before the upload kept its declaration: upload it again). */
static cf_err
mp_checksum(struct cf_req *r, const struct cf_mp_upload_rec *u,
    const struct parts_ctx *x, const struct cf_mp_want *want, size_t n,
    char out[CF_CHECKSUM_TEXT_MAX], struct cf_error *err)
{
	const struct cf_mp_part_rec	*pr;
	enum cf_cksum_alg		 alg;
	uint8_t				 acc[CF_CKSUM_MAX], d[CF_CKSUM_MAX];
	char				 b64[4 * (CF_CKSUM_MAX + 2) / 3 + 1];
	const char			*name;
	size_t				 i, len;
	bool				 full;

	out[0] = '\0';
	alg = declared(u, &full);
	if (alg == CF_CKSUM_NONE) {
		mp_composite(x, want, n, out);
		return CF_OK;
	}
	name = cf_cksum_name(alg);
	len = strlen(name);
	for (i = 0; i < n; i++) {
		pr = part_of(x, want[i].number);
		if (pr == NULL || strncmp(pr->checksum, name, len) != 0 ||
		    pr->checksum[len] != ':' || !cf_b64std_decode(
		    pr->checksum + len + 1, d, cf_cksum_len(alg)))
			return refuse(r, "invalid_part", err, "a part carries "
			    "no checksum of the upload's algorithm; upload it "
			    "again");
		if (!full)
			continue;
		if (i == 0)
			memcpy(acc, d, cf_cksum_len(alg));
		else if (cf_cksum_combine(alg, acc, d, pr->size, acc) !=
		    CF_OK)
			return cf_error_set(err, CF_E_INTERNAL, "checksum "
			    "combine");
	}
	if (!full) {
		mp_composite(x, want, n, out);
		return CF_OK;
	}
	cf_b64std_encode(acc, cf_cksum_len(alg), b64);
	(void)snprintf(out, CF_CHECKSUM_TEXT_MAX, "%s:%s", name, b64);
	return CF_OK;
}

/* The checksum a Complete says the object has (expect, expect_type;
 * NULL: not said) against the one it has (ck, "ALG:BASE64[-N]"). */
static cf_err
expect_check(struct cf_req *r, const char *expect, const char *expect_type,
    const char *ck, struct cf_error *err)
{
	const char	*type = strchr(ck, '-') != NULL ? "COMPOSITE" :
			    "FULL_OBJECT";

	if ((expect != NULL && strcmp(expect, ck) != 0) ||
	    (expect_type != NULL && (ck[0] == '\0' ||
	    strcasecmp(expect_type, type) != 0))) {
		r->errcode = "bad_digest";
		return cf_error_set(err, CF_E_INPUT, "the checksum you "
		    "specified is not the object's (%s); nothing was stored",
		    ck[0] != '\0' ? ck : "it has none");
	}
	return CF_OK;
}

static cf_err
mp_complete_ref(struct cf_core *c, struct cf_req *r,
    const struct cf_ns_rec *nsr, const struct cf_mp_upload_rec *u,
    const char *ns, const char *key, const struct parts_ctx *x,
    const struct cf_mp_want *want, size_t n, const char *etag,
    const char *sha_hex, uint64_t total, const char *expect,
    const char *expect_type, json_t **out, struct cf_error *err)
{
	struct cf_version_rec		*v = NULL;
	struct cf_segment_rec		*segs = NULL;
	const struct cf_mp_part_rec	*pr;
	struct cf_key			*dek = NULL;
	bool				*used = NULL;
	char				 ad[CF_SEGMENT_AD_MAX];
	size_t				 i, adlen;
	bool				 locked = false;
	cf_err				 rc;

	if (total > c->cfg.max_object_size)
		return cf_error_set(err, CF_E_LIMIT, "object of %llu bytes "
		    "exceeds the limit of %llu", (unsigned long long)total,
		    (unsigned long long)c->cfg.max_object_size);
	v = cf_calloc(1, sizeof(*v));
	segs = cf_calloc(n, sizeof(*segs));
	used = cf_calloc(x->n > 0 ? x->n : 1, sizeof(*used));
	if (v == NULL || segs == NULL || used == NULL) {
		rc = nomem(err);
		goto out;
	}
	cf_strlcpy(v->ns, ns, sizeof(v->ns));
	cf_strlcpy(v->key, key, sizeof(v->key));
	v->ns_id = nsr->id;
	cf_strlcpy(v->content_type, u->content_type, sizeof(v->content_type));
	cf_strlcpy(v->content_encoding, u->content_encoding,
	    sizeof(v->content_encoding));
	cf_strlcpy(v->user_meta, u->user_meta, sizeof(v->user_meta));
	cf_strlcpy(v->created_by, r->principal.name, sizeof(v->created_by));
	cf_strlcpy(v->md5, etag, sizeof(v->md5));
	cf_strlcpy(v->sha256, sha_hex, sizeof(v->sha256));
	cf_strlcpy(v->mp_upload, u->id, sizeof(v->mp_upload));
	cf_strlcpy(v->kek_id, CF_KEK_SEGMENTS, sizeof(v->kek_id));
	v->size = total;
	rc = mp_checksum(r, u, x, want, n, v->checksum, err);
	if (rc == CF_OK)
		rc = expect_check(r, expect, expect_type, v->checksum, err);
	if (rc == CF_OK)
		rc = core_new_version_id(v->version_id, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: the segments' keys are wrapped by the KEK active now and
	 * the row written before any KEK can be retired (keys.c). */
	(void)pthread_rwlock_rdlock(&c->kek_lock);
	locked = true;
	for (i = 0; rc == CF_OK && i < n; i++) {
		pr = part_of(x, want[i].number);
		used[pr - x->v] = true;
		segs[i].n = (uint32_t)i;
		cf_strlcpy(segs[i].blob_id, pr->blob_id,
		    sizeof(segs[i].blob_id));
		cf_strlcpy(segs[i].sealed_as, pr->part_id,
		    sizeof(segs[i].sealed_as));
		segs[i].size = pr->size;
		/* The part it was, for GetObject partNumber and
		 * GetObjectAttributes after the Complete. */
		segs[i].part_number = (uint32_t)pr->number;
		cf_strlcpy(segs[i].checksum, pr->checksum,
		    sizeof(segs[i].checksum));
		rc = part_present(c, pr, err);
		if (rc != CF_OK)
			break;
		rc = cf_keyprov_unwrap(c->kp, pr->kek_id, pr->part_id,
		    strlen(pr->part_id), pr->wrapped_dek, &dek, err);
		if (rc != CF_OK)
			break;
		core_metrics_key_op(c, CORE_METRIC_KEY_UNWRAP);
		adlen = cf_segment_ad(v->version_id, (uint32_t)i, ad);
		rc = cf_keyprov_wrap(c->kp, dek, ad, adlen, segs[i].kek_id,
		    segs[i].wrapped_dek, err);
		cf_key_free(dek);
		dek = NULL;
		if (rc == CF_OK)
			core_metrics_key_op(c, CORE_METRIC_KEY_WRAP);
	}
	if (rc == CF_E_UNAVAILABLE)
		r->errcode = "key_provider_unavailable";
	if (rc != CF_OK)
		goto out;
	v->segs = segs;
	v->nsegs = (uint32_t)n;
	v->created_us = cf_now_us();
	rc = core_version_insert(c, r, v, out, err);
	(void)pthread_rwlock_unlock(&c->kek_lock);
	locked = false;
	if (rc == CF_E_CONFLICT && r->errcode == NULL) {
		/* A part uploaded again, or the namespace replaced, while
		 * this completed: nothing was stored; the client may
		 * complete again. */
		cf_error_clear(err);
		rc = refuse(r, "invalid_part", err, "a part was uploaded "
		    "again, or the bucket replaced, while the upload "
		    "completed");
	}
	if (rc == CF_E_NOTFOUND && r->errcode == NULL)
		rc = no_such_upload(r, u->id, err);
	if (rc != CF_OK)
		goto out;
	if (json_object_set_new(*out, "checksum", json_string(v->checksum))
	    != 0) {
		/* Stored and recorded: say so, without the checksum. */
		log_warnx("event=s3_complete_checksum_nomem");
	}
	/* The parts not named are no object's: their blobs go (a crash
	 * here leaves orphans for the sweep). */
	for (i = 0; i < x->n; i++)
		if (!used[i])
			(void)cf_blob_delete(c->blobs, x->v[i].blob_id, NULL);
out:
	if (locked)
		(void)pthread_rwlock_unlock(&c->kek_lock);
	core_segs_free(segs, n);
	if (v != NULL)
		cf_wipe(v, sizeof(*v));
	cf_free(v);
	cf_free(used);
	return rc;
}

/* The least size of a part that is not the last: S3's 5 MiB.  Tests
 * make objects of thousands of parts with smaller ones through the hook
 * COFFER_TEST_MP_PART_MIN (a test build only: base/testhook.h). */
static uint64_t
part_min(void)
{
	const char	*env = cf_test_hook("COFFER_TEST_MP_PART_MIN");
	uint64_t	 v;

	if (env != NULL && cf_parse_u64(env, 0, CF_MP_PART_MIN, &v, NULL) ==
	    CF_OK)
		return v;
	return CF_MP_PART_MIN;
}

/* A Complete of an upload that was completed already: the client's
 * first answer was lost and it sends the same Complete again.  S3
 * answers it with the object it made; so does this, when want names the
 * same parts (their ETags, in order, make the version's multipart ETag)
 * and the version is still there (else: no_such_upload, as for any upload
 * id that names no upload).  r is decided already (object:put of the
 * key); nothing is written. */
static cf_err
mp_completed(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *upload_id, const struct cf_mp_want *want,
    size_t n, json_t **out, struct cf_error *err)
{
	struct cf_version_rec	*v = NULL;
	struct cf_md5		*md5 = NULL;
	struct cf_error		 e2;
	uint8_t			 d[CF_MD5_LEN];
	char			 vid[CF_VERSION_ID_LEN + 1], etag[48];
	size_t			 i;
	cf_err			 rc;

	cf_error_clear(&e2);
	if (upload_id == NULL || strlen(upload_id) != CF_VERSION_ID_LEN ||
	    n == 0 || n > CF_MP_PARTS_MAX)
		return no_such_upload(r, upload_id != NULL ? upload_id : "",
		    err);
	rc = cf_meta_mp_completed(c->meta, upload_id, vid, &e2);
	if (rc == CF_E_NOTFOUND)
		return no_such_upload(r, upload_id, err);
	if (rc != CF_OK)
		return cf_error_set(err, rc, "%s", e2.msg);
	v = cf_calloc(1, sizeof(*v));
	if (v == NULL)
		return nomem(err);
	rc = cf_meta_version_get(c->meta, ns, key, vid, v, &e2);
	if (rc == CF_OK)
		rc = cf_md5_new(&md5, &e2);
	for (i = 0; rc == CF_OK && i < n; i++) {
		if ((i > 0 && want[i].number <= want[i - 1].number) ||
		    strlen(want[i].etag) != 2 * CF_MD5_LEN ||
		    cf_hex_decode(want[i].etag, strlen(want[i].etag), d,
		    sizeof(d), NULL) != CF_OK)
			rc = CF_E_NOTFOUND;
		else
			cf_md5_update(md5, d, sizeof(d));
	}
	if (rc == CF_OK) {
		cf_md5_final(md5, d);
		cf_hex_encode(d, sizeof(d), etag);
		(void)snprintf(etag + 32, sizeof(etag) - 32, "-%zu", n);
		if (v->delete_marker || strcmp(etag, v->md5) != 0)
			rc = CF_E_NOTFOUND;
	}
	if (rc == CF_E_NOTFOUND)
		rc = no_such_upload(r, upload_id, err);
	else if (rc != CF_OK)
		rc = cf_error_set(err, rc, "%s", e2.msg);
	if (rc == CF_OK && (*out = core_version_json(v, false)) == NULL)
		rc = nomem(err);
	if (rc == CF_OK && json_object_set_new(*out, "checksum",
	    json_string(v->checksum)) != 0)
		log_warnx("event=s3_complete_checksum_nomem");
	cf_md5_free(md5);
	if (v != NULL)
		cf_wipe(v, sizeof(*v));
	cf_free(v);
	return rc;
}

cf_err
cf_core_mp_complete(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *upload_id, const struct cf_mp_want *want,
    size_t n, const char *expect, const char *expect_type, json_t **out,
    struct cf_error *err)
{
	struct cf_mp_upload_rec		*u;
	struct cf_ns_rec		 nsr;
	struct parts_ctx		 x = { NULL, 0, 0 };
	const struct cf_mp_part_rec	*pr;
	struct cf_md5			*md5 = NULL;
	struct cf_sha256		*sha = NULL;
	struct cf_put			*p = NULL;
	struct cf_get			*g = NULL, *nx = NULL;
	uint8_t				 d[CF_MD5_LEN], *buf = NULL, *dst;
	uint8_t				 sd[CF_SHA256_LEN];
	char				 etag[48];
	char				 sha_hex[CF_SHA256_HEX_LEN + 1];
	uint64_t			 total = 0, pos;
	size_t				 i, got, room;
	bool				 staged, byref = true;
	cf_err				 rc;

	u = cf_calloc(1, sizeof(*u));
	if (u == NULL)
		return nomem(err);
	rc = mp_find(c, r, "object:put", ns, key, upload_id, u, &nsr, err);
	/* Allowed, but no upload in progress: perhaps completed already. */
	if (rc == CF_E_NOTFOUND && r->allowed && r->errcode != NULL &&
	    strcmp(r->errcode, "no_such_upload") == 0) {
		rc = mp_completed(c, r, ns, key, upload_id, want, n, out, err);
		if (rc == CF_OK) {
			rc = expect_check(r, expect, expect_type, str_of(
			    json_object_get(*out, "checksum")), err);
			if (rc != CF_OK) {
				json_decref(*out);
				*out = NULL;
			}
		}
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	if (n == 0) {
		rc = refuse(r, "malformed_xml", err, "the upload names no "
		    "part");
		goto out;
	}
	if (n > CF_MP_PARTS_MAX) {
		rc = refuse(r, "too_many_parts", err, "more than 10000 parts");
		goto out;
	}
	rc = cf_meta_mp_parts(c->meta, u->id, parts_cb, &x, err);
	if (rc != CF_OK)
		goto out;
	for (i = 1; i < n; i++)
		if (want[i].number <= want[i - 1].number) {
			rc = refuse(r, "invalid_part_order", err, "the parts "
			    "must be listed in ascending order");
			goto out;
		}
	rc = cf_md5_new(&md5, err);
	if (rc == CF_OK)
		rc = cf_sha256_new(&sha, err);
	for (i = 0; rc == CF_OK && i < n; i++) {
		pr = part_of(&x, want[i].number);
		if (pr == NULL || strcmp(pr->md5, want[i].etag) != 0) {
			rc = refuse(r, "invalid_part", err, "a part was not "
			    "uploaded, or its ETag does not match");
			break;
		}
		/* A part that carried no checksum has none to compare
		 * (rclone names a placeholder one for such parts). */
		if (want[i].checksum[0] != '\0' && pr->checksum[0] != '\0' &&
		    strcmp(want[i].checksum, pr->checksum) != 0) {
			rc = refuse(r, "invalid_part", err, "a part's checksum "
			    "is not the one it was uploaded with");
			break;
		}
		if (i + 1 < n && pr->size < part_min()) {
			rc = refuse(r, "entity_too_small", err, "a part other "
			    "than the last is smaller than 5 MiB");
			break;
		}
		if (cf_hex_decode(pr->md5, strlen(pr->md5), d, sizeof(d),
		    NULL) != CF_OK) {
			rc = cf_error_set(err, CF_E_INTEGRITY, "a stored part "
			    "MD5 is malformed");
			break;
		}
		cf_md5_update(md5, d, sizeof(d));
		/* A part stored before parts kept their SHA-256 cannot be
		 * referenced (the version's digest is made of them): such
		 * an upload is completed by copying, as before. */
		if (cf_hex_decode(pr->sha256, strlen(pr->sha256), sd,
		    sizeof(sd), NULL) != CF_OK || strlen(pr->sha256) !=
		    CF_SHA256_HEX_LEN)
			byref = false;
		else
			cf_sha256_update(sha, sd, sizeof(sd));
		total += pr->size;
	}
	if (rc != CF_OK)
		goto out;
	cf_md5_final(md5, d);
	cf_hex_encode(d, sizeof(d), etag);
	(void)snprintf(etag + 32, sizeof(etag) - 32, "-%zu", n);
	if (byref) {
		cf_sha256_final(sha, sd);
		cf_hex_encode(sd, sizeof(sd), sha_hex);
		rc = mp_complete_ref(c, r, &nsr, u, ns, key, &x, want, n, etag,
		    sha_hex, total, expect, expect_type, out, err);
		goto out;
	}
	/* Parts of an older server: no checksum to check a claim by. */
	rc = expect_check(r, expect, expect_type, "", err);
	if (rc != CF_OK)
		goto out;
	rc = core_put_new(c, r, nsr.id, ns, key, u->content_type, NULL,
	    u->user_meta[0] != '\0' ? u->user_meta : NULL, (int64_t)total,
	    &p, err);
	/* No MD5 of the whole plaintext: the version's ETag is the MD5 of
	 * the parts' MD5s, made above from what UploadPart computed (an MD5
	 * pass over every byte cost about a third of the Complete's CPU). */
	if (rc == CF_OK && u->content_encoding[0] != '\0')
		rc = cf_core_put_encoding(p, u->content_encoding, err);
	if (rc != CF_OK)
		goto out;
	core_put_set_etag(p, etag, u->id);
	/* The parts' plaintext, authenticated chunk by chunk, in order,
	 * decrypted straight into the upload's stage (core_put_stage_room)
	 * while its worker hashes and seals the other stage, and each
	 * part's blob read ahead by its reader's thread; the next part is
	 * opened (its first block asked for) while this one's last block
	 * is used, so the disk does not wait at part boundaries. */
	for (i = 0; rc == CF_OK && i < n; i++) {
		pr = part_of(&x, want[i].number);
		if (nx != NULL) {
			g = nx;
			nx = NULL;
		} else
			rc = core_part_open(c, pr, &g, err);
		for (pos = 0; rc == CF_OK && pos < pr->size; pos += got) {
			if (nx == NULL && i + 1 < n &&
			    pr->size - pos <= cf_blob_block_size())
				rc = core_part_open(c,
				    part_of(&x, want[i + 1].number), &nx, err);
			if (rc != CF_OK)
				break;
			staged = core_put_stage_room(p, &dst, &room);
			if (!staged) {
				if (buf == NULL &&
				    (buf = cf_malloc(BOUNCE)) == NULL) {
					rc = nomem(err);
					break;
				}
				dst = buf;
				room = BOUNCE;
			}
			rc = core_part_read(g, pos, dst, room, &got, err);
			if (rc == CF_OK && got == 0)
				rc = cf_error_set(err, CF_E_INTEGRITY,
				    "part %lld ends early",
				    (long long)pr->number);
			if (rc == CF_OK)
				rc = staged ? core_put_stage_fill(p, got, err) :
				    cf_core_put_write(p, buf, got, err);
		}
		cf_core_get_close(g);
		g = NULL;
	}
	if (rc != CF_OK)
		goto out;
	rc = cf_core_put_finish(p, NULL, out, err);
	p = NULL;
	if (rc == CF_E_NOTFOUND && r->errcode == NULL)
		rc = no_such_upload(r, u->id, err);
	if (rc != CF_OK)
		goto out;
	/* The version holds the bytes now: the parts' blobs go. */
	for (i = 0; i < x.n; i++)
		(void)cf_blob_delete(c->blobs, x.v[i].blob_id, NULL);
out:
	cf_core_put_abort(p);
	cf_core_get_close(nx);
	if (buf != NULL) {
		cf_wipe(buf, BOUNCE);
		cf_free(buf);
	}
	cf_md5_free(md5);
	cf_sha256_free(sha);
	parts_free(&x);
	cf_free(u);
	return rc;
}

cf_err
cf_core_mp_abort(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *upload_id, json_t **out,
    struct cf_error *err)
{
	struct cf_mp_upload_rec	*u;
	struct cf_ns_rec	 nsr;
	struct parts_ctx	 x = { NULL, 0, 0 };
	struct core_act		 act;
	size_t			 i;
	cf_err			 rc;

	u = cf_calloc(1, sizeof(*u));
	if (u == NULL)
		return nomem(err);
	rc = mp_find(c, r, "object:put", ns, key, upload_id, u, &nsr, err);
	if (rc == CF_OK)
		rc = cf_meta_mp_parts(c->meta, u->id, parts_cb, &x, err);
	if (rc == CF_OK)
		rc = core_act_begin(&act, c, r, 204, err);
	if (rc == CF_OK) {
		rc = cf_meta_mp_delete(c->meta, &act.au, u->id, err);
		rc = core_act_end(&act, rc);
		if (rc == CF_E_NOTFOUND)
			rc = no_such_upload(r, u->id, err);
	}
	/* SEC: the parts' ciphertext goes with the upload (a crash here
	 * leaves orphans, reclaimed by the sweep). */
	for (i = 0; rc == CF_OK && i < x.n; i++)
		(void)cf_blob_delete(c->blobs, x.v[i].blob_id, NULL);
	if (rc == CF_OK && (*out = json_object()) == NULL)
		rc = nomem(err);
	parts_free(&x);
	cf_free(u);
	return rc;
}

cf_err
cf_core_mp_parts(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *upload_id, int64_t marker, size_t max,
    json_t **out, struct cf_error *err)
{
	struct cf_mp_upload_rec	*u;
	struct cf_ns_rec	 nsr;
	struct parts_ctx	 x = { NULL, 0, 0 };
	json_t			*arr = NULL, *e;
	int64_t			 next = marker;
	enum cf_cksum_alg	 alg;
	char			 up[16];
	size_t			 i, listed = 0;
	bool			 more = false, full;
	cf_err			 rc;

	u = cf_calloc(1, sizeof(*u));
	if (u == NULL)
		return nomem(err);
	rc = mp_find(c, r, "object:put", ns, key, upload_id, u, &nsr, err);
	if (rc == CF_OK)
		rc = cf_meta_mp_parts(c->meta, u->id, parts_cb, &x, err);
	if (rc == CF_OK && (arr = json_array()) == NULL)
		rc = nomem(err);
	/* x is by number: the page is the parts after marker. */
	for (i = 0; rc == CF_OK && i < x.n; i++) {
		if (x.v[i].number <= marker)
			continue;
		if (listed == max) {
			more = max > 0;
			break;
		}
		e = json_pack("{s:I,s:s,s:I,s:o,s:s}", "number",
		    (json_int_t)x.v[i].number, "md5", x.v[i].md5, "size",
		    (json_int_t)x.v[i].size, "created",
		    core_time_json(x.v[i].created_us), "checksum",
		    x.v[i].checksum);
		if (e == NULL || json_array_append_new(arr, e) != 0)
			rc = nomem(err);
		listed++;
		next = x.v[i].number;
	}
	if (rc == CF_OK) {
		alg = declared(u, &full);
		alg_upper(alg, up);
		*out = json_pack("{s:O,s:s,s:b,s:I,s:s,s:s}", "parts", arr,
		    "created_by", u->created_by, "truncated", more, "next",
		    (json_int_t)next, "checksum_algorithm", up,
		    "checksum_type", alg == CF_CKSUM_NONE ? "" : full ?
		    "FULL_OBJECT" : "COMPOSITE");
		if (*out == NULL)
			rc = nomem(err);
	}
	json_decref(arr);
	parts_free(&x);
	cf_free(u);
	return rc;
}

struct ups_ctx {
	const struct cf_mp_page	*pg;
	json_t			*ups, *cps;
	int64_t			 cut;
	size_t			 listed;
	bool			 more, stopped;
	char			 cp[CF_OBJKEY_MAX];	/* the last prefix */
	char			 next_key[CF_OBJKEY_MAX];
	char			 next_id[CF_VERSION_ID_LEN + 1];
};

/* Walk stopped: one entry past the page was seen (not an error). */
#define UPS_FULL	CF_E_LIMIT

static cf_err
ups_cb(void *arg, const struct cf_mp_upload_rec *u, struct cf_error *err)
{
	struct ups_ctx		*x = arg;
	const struct cf_mp_page	*pg = x->pg;
	const char		*km = pg->key_marker, *d = NULL;
	char			 cp[CF_OBJKEY_MAX];
	size_t			 plen, n;
	json_t			*e;
	int			 cmp;

	plen = pg->prefix != NULL ? strlen(pg->prefix) : 0;
	if (u->created_us < x->cut || (plen > 0 &&
	    strncmp(u->key, pg->prefix, plen) != 0))
		return CF_OK;
	cp[0] = '\0';
	if (pg->delimiter != NULL && pg->delimiter[0] != '\0')
		d = strstr(u->key + plen, pg->delimiter);
	if (d != NULL) {
		n = (size_t)(d - u->key) + strlen(pg->delimiter);
		if (n >= sizeof(cp))
			return CF_OK;
		memcpy(cp, u->key, n);
		cp[n] = '\0';
		/* Rolled up into cp: listed once, not again on a later
		 * page (whose key_marker is cp, or past it). */
		if ((km != NULL && strcmp(cp, km) <= 0) ||
		    strcmp(cp, x->cp) == 0)
			return CF_OK;
	} else if (km != NULL) {
		cmp = strcmp(u->key, km);
		if (cmp < 0 || (cmp == 0 && (pg->upload_id_marker == NULL ||
		    strcmp(u->id, pg->upload_id_marker) <= 0)))
			return CF_OK;
	}
	if (x->listed == pg->max) {
		x->more = pg->max > 0;
		x->stopped = true;
		return UPS_FULL;
	}
	x->listed++;
	if (cp[0] != '\0') {
		cf_strlcpy(x->cp, cp, sizeof(x->cp));
		cf_strlcpy(x->next_key, cp, sizeof(x->next_key));
		x->next_id[0] = '\0';
		e = json_string(cp);
		if (e == NULL || json_array_append_new(x->cps, e) != 0)
			return nomem(err);
		return CF_OK;
	}
	cf_strlcpy(x->next_key, u->key, sizeof(x->next_key));
	cf_strlcpy(x->next_id, u->id, sizeof(x->next_id));
	e = json_pack("{s:s,s:s,s:o,s:s}", "key", u->key, "upload_id", u->id,
	    "created", core_time_json(u->created_us), "created_by",
	    u->created_by);
	if (e == NULL || json_array_append_new(x->ups, e) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_mp_uploads(struct cf_core *c, struct cf_req *r, const char *ns,
    const struct cf_mp_page *pg, json_t **out, struct cf_error *err)
{
	struct cf_ns_rec	 nsr;
	struct ups_ctx		*x;
	const char		*from = NULL;
	cf_err			 rc;

	rc = core_object_authorize(c, r, "object:list", ns, NULL, err);
	if (rc == CF_OK)
		rc = core_ns_must_exist(c, r, ns, &nsr, err);
	if (rc != CF_OK)
		return rc;
	mp_expire(c);
	x = cf_calloc(1, sizeof(*x));
	if (x == NULL)
		return nomem(err);
	x->pg = pg;
	x->cut = core_now_us(c) - expiry_us(c);
	x->ups = json_array();
	x->cps = json_array();
	if (x->ups == NULL || x->cps == NULL) {
		rc = nomem(err);
		goto out;
	}
	/* The walk starts at the later of the marker and the prefix. */
	if (pg->key_marker != NULL)
		from = pg->key_marker;
	if (pg->prefix != NULL && (from == NULL || strcmp(pg->prefix,
	    from) > 0))
		from = pg->prefix;
	rc = cf_meta_mp_list(c->meta, nsr.id, 0, from, ups_cb, x, err);
	if (rc == UPS_FULL && x->stopped)
		rc = CF_OK;
	if (rc == CF_OK && (*out = json_pack("{s:O,s:O,s:b,s:s,s:s}",
	    "uploads", x->ups, "prefixes", x->cps, "truncated", x->more,
	    "next_key", x->next_key, "next_upload_id", x->next_id)) == NULL)
		rc = nomem(err);
out:
	json_decref(x->ups);
	json_decref(x->cps);
	cf_free(x);
	return rc;
}

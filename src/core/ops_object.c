/* src/core/ops_object.c: object versions: streaming encrypted upload and
 * authenticated download, delete markers, listings.
 *
 * Upload order (crash safety and "no unaudited access"):
 *   authorize -> stream body through SHA-256 and the sealer into a
 *   temporary blob -> check size and digest -> authenticate and authorize
 *   again (the state may have changed meanwhile; the namespace must still
 *   be the one it began in, by identity, not by name) -> commit the blob
 *   (durable, not yet referenced) -> append the audit record -> insert
 *   the version row (the version becomes visible) -> respond.
 * A crash before the row is inserted leaves at most an unreferenced blob of
 * ciphertext; nothing half-written is ever visible.  The orphan sweep
 * (core/orphans.c) reclaims such blobs once they are older than
 * orphan_grace, so that window must stay short of it. */
#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "base/worker.h"
#include "crypto/aead.h"
#include "core/core_int.h"

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

/* The key provider could not be reached: say so in the log (the
 * answer, a 503, is audited by the front end). */
static void
key_unavailable(struct cf_req *r, const struct cf_error *err)
{
	r->errcode = "key_provider_unavailable";
	log_warnx("event=key_provider_unavailable action=%s msg=\"%s\"",
	    r->action != NULL ? r->action : "-", err != NULL ? err->msg : "");
}

static void
obj_resource(char *out, size_t outsz, const char *ns, const char *key)
{
	(void)snprintf(out, outsz, "ns/%s/obj/%s", ns, key);
}

/* context.op of a listing: {name: "list", prefix}, so that a policy can
 * guard what a listing asks for (S3's s3:prefix, docs/s3.md).  A prefix
 * that could not be in the context (too long, not UTF-8) is left out:
 * the listing then refuses it right after the decision, so nothing is
 * listed under a decision that did not see it. */
static void
list_op(struct cf_req *r, const char *prefix)
{
	memset(&r->op, 0, sizeof(r->op));
	cf_strlcpy(r->op.name, "list", sizeof(r->op.name));
	if (prefix != NULL && strlen(prefix) < sizeof(r->op.prefix) &&
	    cf_utf8_valid(prefix, strlen(prefix)))
		cf_strlcpy(r->op.prefix, prefix, sizeof(r->op.prefix));
}

/* Validate ns and key, then authorize action on them. */
static cf_err
object_authorize(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns, const char *key, struct cf_error *err)
{
	char	res[CF_RESOURCE_MAX];
	cf_err	rc;

	obj_resource(res, sizeof(res), ns, key != NULL ? key : "");
	rc = core_authorize(c, r, action, ns, res, err);
	if (rc != CF_OK)
		return rc;
	if (!cf_name_ns_valid(ns))
		return cf_error_set(err, CF_E_INPUT, "invalid namespace name");
	if (key != NULL && !cf_name_key_valid(key, strlen(key)))
		return cf_error_set(err, CF_E_INPUT, "invalid object key "
		    "(1-1024 bytes of UTF-8)");
	return CF_OK;
}

/* The namespace of an object operation, with a specific error code. */
static cf_err
ns_must_exist(struct cf_core *c, struct cf_req *r, const char *ns,
    struct cf_ns_rec *out, struct cf_error *err)
{
	cf_err	rc;

	rc = cf_meta_ns_get(c->meta, ns, out, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_namespace";
		return cf_error_set(err, CF_E_NOTFOUND,
		    "no namespace \"%s\"", ns);
	}
	return rc;
}

/* On a lookup that found nothing: is it the namespace that is missing?
 * Then err says so (and r->errcode), and the answer is true. */
static bool
ns_missing(struct cf_core *c, struct cf_req *r, const char *ns,
    struct cf_error *err)
{
	struct cf_ns_rec	nsr;

	if (cf_meta_ns_get(c->meta, ns, &nsr, NULL) != CF_E_NOTFOUND)
		return false;
	cf_error_clear(err);
	r->errcode = "no_such_namespace";
	(void)cf_error_set(err, CF_E_NOTFOUND, "no namespace \"%s\"", ns);
	return true;
}

/* The namespace of an upload was deleted, and one of the same name
 * created, while the body streamed in: refused (the new namespace may
 * have other owners, sensitivity or bindings than the one authorized). */
static cf_err
ns_replaced(struct cf_req *r, const char *ns, struct cf_error *err)
{
	cf_error_clear(err);
	r->allowed = false;
	r->errcode = "namespace_changed";
	cf_strlcpy(r->reasons, "namespace replaced during the upload",
	    sizeof(r->reasons));
	return cf_error_set(err, CF_E_CONFLICT, "namespace \"%s\" was "
	    "deleted and re-created during the upload; nothing was stored",
	    ns);
}

/* SEC: the content type and every metadata name and value are sent back
 * as response headers on download: control bytes (CR, LF, ESC, ...) are
 * refused here, whichever front end the upload came through. */
static cf_err
meta_fields_ok(json_t *mj, struct cf_error *err)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(mj, k, v) {
		if (!json_is_string(v))
			return cf_error_set(err, CF_E_INPUT,
			    "user metadata values must be strings");
		if (!cf_str_field_value_ok(k) ||
		    !cf_str_field_value_ok(json_string_value(v)))
			return cf_error_set(err, CF_E_INPUT,
			    "user metadata holds a control character");
	}
	return CF_OK;
}

static json_t *
version_json(const struct cf_version_rec *v, bool latest)
{
	json_t	*meta = NULL, *j;

	if (v->user_meta[0] != '\0')
		meta = json_loads(v->user_meta, 0, NULL);
	if (meta == NULL)
		meta = json_object();
	/* s3_null, s3_hidden: its place in S3's view (docs/s3.md). */
	j = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:o,s:s,s:b,s:b,s:o,s:i,"
	    "s:b}", "ns", v->ns, "key", v->key, "version_id", v->version_id,
	    "size", (json_int_t)v->size, "sha256", v->sha256, "content_type",
	    v->content_type, "created", core_time_json(v->created_us),
	    "created_by", v->created_by, "delete_marker", v->delete_marker,
	    "latest", latest, "meta", meta, "s3_null", v->s3_null,
	    "s3_hidden", v->s3_hidden);
	/* The MD5 of the plaintext, when it was computed (S3 uploads). */
	if (j != NULL && v->md5[0] != '\0' &&
	    json_object_set_new(j, "md5", json_string(v->md5)) != 0) {
		json_decref(j);
		j = NULL;
	}
	/* Completed by reference: sha256 is then of its segments'
	 * digests (docs/api.md, "Digests"). */
	if (j != NULL && v->nsegs > 0 && json_object_set_new(j, "segments",
	    json_integer((json_int_t)v->nsegs)) != 0) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static cf_err
new_version_id(char id[CF_VERSION_ID_LEN + 1], struct cf_error *err)
{
	return core_new_version_id(id, err);
}

cf_err
core_new_version_id(char id[CF_VERSION_ID_LEN + 1], struct cf_error *err)
{
	uint8_t	raw[CF_VERSION_ID_LEN / 2];
	cf_err	rc;

	rc = cf_random(raw, sizeof(raw), err);
	if (rc == CF_OK)
		cf_hex_encode(raw, sizeof(raw), id);
	return rc;
}

cf_err
core_dek_rebind(struct cf_core *c, const struct cf_version_rec *src,
    struct cf_version_rec *dst, struct cf_error *err)
{
	struct cf_key	*dek = NULL;
	char		 sealed[CF_VERSION_ID_LEN + 1];
	char		 sid[CF_VERSION_ID_LEN + 1];
	uint32_t	 nsegs = src->nsegs;
	cf_err		 rc;

	if (nsegs > 0) {
		/* Completed by reference: every segment's key is bound to
		 * the new id, the blobs shared as they are. */
		cf_strlcpy(sid, src->version_id, sizeof(sid));
		rc = core_new_version_id(dst->version_id, err);
		if (rc == CF_OK)
			rc = core_segs_rebind(c, sid, nsegs, dst->version_id,
			    &dst->segs, err);
		if (rc != CF_OK)
			return rc;
		dst->nsegs = nsegs;
		dst->sealed_as[0] = '\0';
		return CF_OK;
	}
	/* src may be dst: what is read of it is read first. */
	cf_strlcpy(sealed, src->sealed_as[0] != '\0' ? src->sealed_as :
	    src->version_id, sizeof(sealed));
	rc = cf_keyprov_unwrap(c->kp, src->kek_id, src->version_id,
	    strlen(src->version_id), src->wrapped_dek, &dek, err);
	if (rc != CF_OK)
		return rc;
	core_metrics_key_op(c, CORE_METRIC_KEY_UNWRAP);
	/* SEC: the chunks keep the id they were sealed under (the first
	 * version of the chain); the data key is bound to the new id. */
	cf_strlcpy(dst->sealed_as, sealed, sizeof(dst->sealed_as));
	rc = core_new_version_id(dst->version_id, err);
	if (rc == CF_OK)
		rc = cf_keyprov_wrap(c->kp, dek, dst->version_id,
		    CF_VERSION_ID_LEN, dst->kek_id, dst->wrapped_dek, err);
	cf_key_free(dek);
	if (rc == CF_OK)
		core_metrics_key_op(c, CORE_METRIC_KEY_WRAP);
	return rc;
}

struct cf_put {
	struct cf_core		*c;
	struct cf_req		*r;
	struct cf_version_rec	 v;
	struct cf_blob_writer	*bw;
	struct cf_sealer	*sealer;
	struct cf_sha256	*sha;
	struct cf_md5		*md5;		/* S3: the ETag; NULL */
	struct cf_key		*dek;
	uint8_t			 expect[CF_SHA256_LEN];
	bool			 have_expect;
	uint8_t			 md5_expect[CF_MD5_LEN]; /* Content-MD5 */
	bool			 have_md5_expect;
	uint64_t		 size;
	int64_t			 content_length;
	/* A large body is hashed and encrypted on a worker thread while
	 * the connection thread receives (and decrypts TLS): the body is
	 * staged in two plaintext buffers of the memory budget (wiped when
	 * the upload ends). */
	struct cf_worker	*wk;
	bool			 staged;	/* wk runs; stage[] exist */
	bool			 wk_failed;	/* stay on this thread */
	uint8_t			*stage[2];
	size_t			 stage_cap[2];
	int			 cur;
	size_t			 fill;
	/* S3 multipart: the part this upload is (else a version), and the
	 * ETag a completed upload gets instead of its MD5. */
	struct cf_mp_part_rec	*part;
	char			 etag[48];
	/* the checksum algorithm the part's upload declared ("": none),
	 * which the part must carry */
	char			 part_alg[16];
};

static cf_err	part_put(struct cf_put *p, struct core_act *act,
		    struct cf_error *err);

/* Above PUT_STAGE_MIN bytes of body the upload is staged (see struct
 * cf_put) in two buffers of PUT_STAGE: with its blob writer's two
 * buffers (blob_fs.c) an upload in flight holds 768 KiB of the budget
 * (bench/README.md, "Server RSS during parallel multipart uploads"). */
#define PUT_STAGE	(128u * 1024)
#define PUT_STAGE_MIN	(2u << 20)
/* Past PUT_BIG_AFTER bytes (a long upload, a Complete; never an 8 MiB
 * part) a stage is swapped for a PUT_BIG one as it comes free, when the
 * budget is mostly idle (cf_membudget_buf_get_spare): fewer hand-overs
 * to the worker, so less CPU, when few upload at once. */
#define PUT_BIG		(2u << 20)
#define PUT_BIG_AFTER	(16u << 20)

/* Hash and encrypt p[0..n) (on the worker, or here when not staged). */
static cf_err
put_process(void *arg, const uint8_t *data, size_t n, struct cf_error *err)
{
	struct cf_put	*p = arg;

	cf_sha256_update(p->sha, data, n);
	if (p->md5 != NULL)
		cf_md5_update(p->md5, data, n);
	return cf_sealer_write(p->sealer, data, n, err);
}

static bool
put_stage_start(struct cf_put *p)
{
	if (p->staged)
		return true;
	if (p->wk_failed)
		return false;
	p->wk_failed = true;
	/* Staging is a speed-up: past the request memory budget the
	 * upload runs on the connection's thread, unstaged. */
	p->stage[0] = cf_membudget_buf_get(p->c->mb, PUT_STAGE);
	p->stage[1] = p->stage[0] == NULL ? NULL :
	    cf_membudget_buf_get(p->c->mb, PUT_STAGE);
	if (p->stage[1] == NULL)
		(void)atomic_fetch_add_explicit(&p->c->mem_unstaged, 1,
		    memory_order_relaxed);
	if (p->stage[1] == NULL ||
	    cf_worker_start(put_process, p, &p->wk, NULL) != CF_OK) {
		cf_membudget_buf_put(p->c->mb, p->stage[0], PUT_STAGE);
		cf_membudget_buf_put(p->c->mb, p->stage[1], PUT_STAGE);
		p->stage[0] = p->stage[1] = NULL;
		return false;
	}
	p->stage_cap[0] = p->stage_cap[1] = PUT_STAGE;
	p->staged = true;
	p->wk_failed = false;
	return true;
}

/* End the worker, first processing what is staged if flush; afterwards
 * this thread alone uses the hash and the sealer. */
static cf_err
put_stage_end(struct cf_put *p, bool flush, struct cf_error *err)
{
	cf_err	rc;

	if (!p->staged)
		return CF_OK;
	rc = cf_worker_wait(p->wk, err);
	if (rc == CF_OK && flush && p->fill > 0)
		rc = put_process(p, p->stage[p->cur], p->fill, err);
	p->fill = 0;
	cf_worker_stop(p->wk);
	p->wk = NULL;
	cf_wipe(p->stage[0], p->stage_cap[0]);
	cf_wipe(p->stage[1], p->stage_cap[1]);
	cf_membudget_buf_put(p->c->mb, p->stage[0], p->stage_cap[0]);
	cf_membudget_buf_put(p->c->mb, p->stage[1], p->stage_cap[1]);
	p->stage[0] = p->stage[1] = NULL;
	p->staged = false;
	return rc;
}

cf_err
cf_core_put_expect(struct cf_put *p, const char *hex, struct cf_error *err)
{
	uint8_t	d[CF_SHA256_LEN];

	if (strlen(hex) != 2 * CF_SHA256_LEN ||
	    cf_hex_decode(hex, strlen(hex), d, sizeof(d), NULL) != CF_OK)
		return cf_error_set(err, CF_E_INPUT,
		    "X-Coffer-SHA256 must be 64 hex digits");
	if (p->have_expect && !cf_ct_equal(d, p->expect, sizeof(d)))
		return cf_error_set(err, CF_E_INPUT,
		    "X-Coffer-SHA256 header and trailer differ");
	memcpy(p->expect, d, sizeof(d));
	p->have_expect = true;
	return CF_OK;
}

cf_err
cf_core_put_md5(struct cf_put *p, const uint8_t *expect,
    struct cf_error *err)
{
	cf_err	rc = CF_OK;

	if (p->size > 0)
		return cf_error_set(err, CF_E_INVAL,
		    "MD5 asked for after the body began");
	if (p->md5 == NULL)
		rc = cf_md5_new(&p->md5, err);
	if (rc == CF_OK && expect != NULL) {
		memcpy(p->md5_expect, expect, CF_MD5_LEN);
		p->have_md5_expect = true;
	}
	return rc;
}

cf_err
cf_core_put_encoding(struct cf_put *p, const char *enc, struct cf_error *err)
{
	if (strlen(enc) >= sizeof(p->v.content_encoding) ||
	    !cf_utf8_valid(enc, strlen(enc)) || !cf_str_field_value_ok(enc))
		return cf_error_set(err, CF_E_INPUT, "Content-Encoding too "
		    "long or not a clean header value");
	cf_strlcpy(p->v.content_encoding, enc, sizeof(p->v.content_encoding));
	return CF_OK;
}

cf_err
cf_core_put_checksum(struct cf_put *p, const char *alg, const char *b64,
    struct cf_error *err)
{
	static const char *const algs[] = { "crc32", "crc32c", "crc64nvme",
	    "sha1", "sha256" };
	size_t	i, n = strlen(b64);
	bool	known = false;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(alg, algs[i]) == 0)
			known = true;
	/* SEC: sent back as a header value: base64 characters only. */
	for (i = 0; i < n; i++)
		if (!((b64[i] >= 'A' && b64[i] <= 'Z') || (b64[i] >= 'a' &&
		    b64[i] <= 'z') || (b64[i] >= '0' && b64[i] <= '9') ||
		    b64[i] == '+' || b64[i] == '/' || b64[i] == '='))
			known = false;
	if (!known || n == 0 || strlen(alg) + 1 + n >= sizeof(p->v.checksum))
		return cf_error_set(err, CF_E_INPUT, "unknown checksum "
		    "algorithm or malformed checksum");
	/* SEC: a part of an upload that declared a checksum carries that
	 * one (the object's is made of them). */
	if (p->part != NULL && p->part_alg[0] != '\0' &&
	    strcmp(alg, p->part_alg) != 0) {
		p->r->errcode = "invalid_request";
		return cf_error_set(err, CF_E_INPUT, "the upload declared "
		    "checksum %s; this part carries %s", p->part_alg, alg);
	}
	i = strlen(alg);
	memcpy(p->v.checksum, alg, i);
	p->v.checksum[i] = ':';
	memcpy(p->v.checksum + i + 1, b64, n + 1);
	return CF_OK;
}

void
cf_core_put_abort(struct cf_put *p)
{
	if (p == NULL)
		return;
	/* The worker first: it may be using the sealer and the writer. */
	(void)put_stage_end(p, false, NULL);
	cf_blob_abort(p->bw);
	cf_sealer_free(p->sealer);
	cf_sha256_free(p->sha);
	cf_md5_free(p->md5);
	cf_key_free(p->dek);
	if (p->part != NULL)
		cf_wipe(p->part, sizeof(*p->part));
	cf_free(p->part);
	cf_wipe(p, sizeof(*p));
	cf_free(p);
}

cf_err
cf_core_put_begin(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *content_type, const char *expected_sha256,
    const char *meta_json, int64_t content_length, struct cf_put **out,
    struct cf_error *err)
{
	struct cf_ns_rec	 nsr;
	cf_err			 rc;

	rc = object_authorize(c, r, "object:put", ns, key, err);
	if (rc != CF_OK)
		return rc;
	if (content_length >= 0 &&
	    (uint64_t)content_length > c->cfg.max_object_size)
		return cf_error_set(err, CF_E_LIMIT,
		    "object of %lld bytes exceeds the limit of %llu",
		    (long long)content_length,
		    (unsigned long long)c->cfg.max_object_size);
	rc = ns_must_exist(c, r, ns, &nsr, err);
	if (rc != CF_OK)
		return rc;
	return core_put_new(c, r, nsr.id, ns, key, content_type,
	    expected_sha256, meta_json, content_length, out, err);
}

cf_err
core_put_new(struct cf_core *c, struct cf_req *r, int64_t ns_id,
    const char *ns, const char *key, const char *content_type,
    const char *expected_sha256, const char *meta_json,
    int64_t content_length, struct cf_put **out, struct cf_error *err)
{
	struct cf_put	*p = NULL;
	json_t		*mj = NULL;
	cf_err		 rc;

	if (content_length >= 0 &&
	    (uint64_t)content_length > c->cfg.max_object_size)
		return cf_error_set(err, CF_E_LIMIT,
		    "object of %lld bytes exceeds the limit of %llu",
		    (long long)content_length,
		    (unsigned long long)c->cfg.max_object_size);
	p = cf_calloc(1, sizeof(*p));
	if (p == NULL)
		return nomem(err);
	p->c = c;
	p->r = r;
	p->content_length = content_length;
	/* SEC: the upload belongs to this namespace, not to its name. */
	p->v.ns_id = ns_id;
	if (expected_sha256 != NULL &&
	    (rc = cf_core_put_expect(p, expected_sha256, err)) != CF_OK)
		goto out;
	if (content_type == NULL || *content_type == '\0')
		content_type = "application/octet-stream";
	if (strlen(content_type) >= sizeof(p->v.content_type) ||
	    !cf_utf8_valid(content_type, strlen(content_type))) {
		rc = cf_error_set(err, CF_E_INPUT, "Content-Type too long");
		goto out;
	}
	if (!cf_str_field_value_ok(content_type)) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "Content-Type holds a control character");
		goto out;
	}
	if (meta_json != NULL && *meta_json != '\0') {
		if (strlen(meta_json) >= sizeof(p->v.user_meta)) {
			rc = cf_error_set(err, CF_E_INPUT,
			    "user metadata exceeds %zu bytes",
			    sizeof(p->v.user_meta) - 1);
			goto out;
		}
		mj = json_loads(meta_json, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(mj)) {
			rc = cf_error_set(err, CF_E_INPUT,
			    "user metadata must be a JSON object");
			goto out;
		}
		if ((rc = meta_fields_ok(mj, err)) != CF_OK)
			goto out;
		cf_strlcpy(p->v.user_meta, meta_json, sizeof(p->v.user_meta));
	}
	cf_strlcpy(p->v.ns, ns, sizeof(p->v.ns));
	cf_strlcpy(p->v.key, key, sizeof(p->v.key));
	cf_strlcpy(p->v.content_type, content_type, sizeof(p->v.content_type));
	cf_strlcpy(p->v.created_by, r->principal.name, sizeof(p->v.created_by));
	rc = new_version_id(p->v.version_id, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_key_new_random(&p->dek, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: wrapped before any byte is taken, so that an unreachable
	 * key provider refuses the upload at once (fail closed, 503
	 * key_provider_unavailable, audited by the answer). */
	rc = cf_keyprov_wrap(c->kp, p->dek, p->v.version_id, CF_VERSION_ID_LEN,
	    p->v.kek_id, p->v.wrapped_dek, err);
	if (rc == CF_E_UNAVAILABLE)
		key_unavailable(r, err);
	if (rc != CF_OK)
		goto out;
	core_metrics_key_op(c, CORE_METRIC_KEY_WRAP);
	rc = cf_sha256_new(&p->sha, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_blob_create(c->blobs, &p->bw, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: the version id is the associated data of every chunk, so a
	 * blob cannot be passed off as another version's. */
	rc = cf_sealer_new(p->dek, p->v.version_id, CF_VERSION_ID_LEN,
	    cf_blob_write, p->bw, &p->sealer, err);
out:
	json_decref(mj);
	if (rc != CF_OK) {
		cf_core_put_abort(p);
		return rc;
	}
	*out = p;
	return CF_OK;
}

/* Count len more bytes of the body against max_object_size. */
static cf_err
put_count(struct cf_put *p, size_t len, struct cf_error *err)
{
	if (len > p->c->cfg.max_object_size - p->size)
		return cf_error_set(err, CF_E_LIMIT,
		    "object exceeds the limit of %llu bytes",
		    (unsigned long long)p->c->cfg.max_object_size);
	p->size += len;
	core_metrics_bytes_in(p->c, len);
	return CF_OK;
}

/* A full stage goes to the worker, which takes it once done with the
 * other; filling goes on in the other. */
static cf_err
put_stage_submit(struct cf_put *p, struct cf_error *err)
{
	uint8_t	*big;
	int	 c;
	cf_err	 rc;

	rc = cf_worker_submit(p->wk, p->stage[p->cur], p->fill, err);
	if (rc != CF_OK)
		return rc;
	p->cur ^= 1;
	p->fill = 0;
	/* stage[cur] is free now (the worker has the other). */
	c = p->cur;
	if (p->stage_cap[c] < PUT_BIG && p->size >= PUT_BIG_AFTER &&
	    (big = cf_membudget_buf_get_spare(p->c->mb, PUT_BIG)) != NULL) {
		cf_wipe(p->stage[c], p->stage_cap[c]);
		cf_membudget_buf_put(p->c->mb, p->stage[c], p->stage_cap[c]);
		p->stage[c] = big;
		p->stage_cap[c] = PUT_BIG;
	}
	return CF_OK;
}

cf_err
cf_core_put_write(struct cf_put *p, const void *data, size_t len,
    struct cf_error *err)
{
	size_t	n;
	cf_err	rc;

	if ((rc = put_count(p, len, err)) != CF_OK)
		return rc;
	if (!p->staged && (p->size <= PUT_STAGE_MIN || !put_stage_start(p)))
		return put_process(p, data, len, err);
	while (len > 0) {
		n = p->stage_cap[p->cur] - p->fill;
		if (n > len)
			n = len;
		memcpy(p->stage[p->cur] + p->fill, data, n);
		p->fill += n;
		data = (const uint8_t *)data + n;
		len -= n;
		if (p->fill < p->stage_cap[p->cur])
			break;
		if ((rc = put_stage_submit(p, err)) != CF_OK)
			return rc;
	}
	return CF_OK;
}

bool
core_put_stage_room(struct cf_put *p, uint8_t **at, size_t *room)
{
	/* A small body is not worth a thread. */
	if (!p->staged && p->content_length >= 0 &&
	    (uint64_t)p->content_length <= PUT_STAGE_MIN)
		return false;
	if (!put_stage_start(p))
		return false;
	*at = p->stage[p->cur] + p->fill;
	*room = p->stage_cap[p->cur] - p->fill;
	return true;
}

cf_err
core_put_stage_fill(struct cf_put *p, size_t n, struct cf_error *err)
{
	cf_err	rc;

	if (CF_NEVER(!p->staged || n > p->stage_cap[p->cur] - p->fill))
		return cf_error_set(err, CF_E_INTERNAL,
		    "a stage filled past its end");
	if ((rc = put_count(p, n, err)) != CF_OK)
		return rc;
	p->fill += n;
	if (p->fill < p->stage_cap[p->cur])
		return CF_OK;
	return put_stage_submit(p, err);
}

/* Wrap p's DEK again if a rotation made another KEK active since
 * put_begin (caller holds kek_lock's read side). */
static cf_err
put_wrap_active(struct cf_core *c, struct cf_put *p, struct cf_error *err)
{
	char	active[CF_KEK_ID_MAX];
	cf_err	rc;

	cf_keyprov_active_id(c->kp, active);
	if (strcmp(active, p->v.kek_id) == 0)
		return CF_OK;
	rc = cf_keyprov_wrap(c->kp, p->dek, p->v.version_id,
	    CF_VERSION_ID_LEN, p->v.kek_id, p->v.wrapped_dek, err);
	if (rc == CF_E_UNAVAILABLE)
		key_unavailable(p->r, err);
	return rc;
}

cf_err
cf_core_put_finish(struct cf_put *p, const char *bearer, json_t **out,
    struct cf_error *err)
{
	struct cf_core		*c = p->c;
	struct cf_req		*r = p->r;
	struct cf_ns_rec	 nsr;
	struct core_act		 act;
	uint8_t			 digest[CF_SHA256_LEN];
	uint8_t			 md5[CF_MD5_LEN];
	cf_err			 rc;

	if ((rc = put_stage_end(p, true, err)) != CF_OK)
		goto out;
	if (p->part != NULL && p->part_alg[0] != '\0' &&
	    (strncmp(p->v.checksum, p->part_alg, strlen(p->part_alg)) != 0 ||
	    p->v.checksum[strlen(p->part_alg)] != ':')) {
		/* The front end computes it when the request has none: a
		 * part without one here is a bug; fail closed. */
		p->r->errcode = "invalid_request";
		rc = cf_error_set(err, CF_E_INPUT, "this part carries no %s "
		    "checksum, which its upload declared", p->part_alg);
		goto out;
	}
	if (p->content_length >= 0 && (uint64_t)p->content_length != p->size) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "body ended after %llu of %lld bytes",
		    (unsigned long long)p->size, (long long)p->content_length);
		goto out;
	}
	rc = cf_sealer_finish(p->sealer, err);
	if (rc != CF_OK)
		goto out;
	cf_sha256_final(p->sha, digest);
	if (p->have_expect && !cf_ct_equal(digest, p->expect, sizeof(digest))) {
		rc = cf_error_set(err, CF_E_INTEGRITY,
		    "body does not match X-Coffer-SHA256; nothing was stored");
		goto out;
	}
	if (p->md5 != NULL) {
		cf_md5_final(p->md5, md5);
		if (p->have_md5_expect &&
		    !cf_ct_equal(md5, p->md5_expect, sizeof(md5))) {
			r->errcode = "bad_digest";
			rc = cf_error_set(err, CF_E_INTEGRITY, "body does not "
			    "match Content-MD5; nothing was stored");
			goto out;
		}
		cf_hex_encode(md5, sizeof(md5), p->v.md5);
	}
	if (p->etag[0] != '\0')
		cf_strlcpy(p->v.md5, p->etag, sizeof(p->v.md5));
	/* SEC: decided again at the end, on the state of now: a binding
	 * removed, a user disabled, a token revoked or the namespace
	 * replaced (say, by a restricted one) while the body streamed in
	 * keeps the version out. */
	if (bearer == NULL && r->s3_key_id[0] != '\0')
		rc = core_s3_reauth(c, r, err);
	else
		rc = cf_core_authenticate(c, r, bearer, err);
	if (rc == CF_OK)
		rc = object_authorize(c, r, "object:put", p->v.ns, p->v.key,
		    err);
	if (rc == CF_OK)
		rc = ns_must_exist(c, r, p->v.ns, &nsr, err);
	if (rc == CF_OK && nsr.id != p->v.ns_id)
		rc = ns_replaced(r, p->v.ns, err);
	if (rc != CF_OK)
		goto out;
	cf_hex_encode(digest, sizeof(digest), p->v.sha256);
	p->v.size = p->size;
	p->v.created_us = cf_now_us();
	rc = cf_blob_commit(p->bw, p->v.blob_id, err);
	p->bw = NULL;		/* freed by commit whatever the outcome */
	if (rc != CF_OK)
		goto out;
	core_test_crash(c, "after_blob_commit");
	/* SEC: audited before the version becomes visible or is reported:
	 * recorded before the insert's transaction begins, so that the
	 * record's fdatasync is shared with concurrent uploads (group
	 * commit) rather than made under the store's write lock; the insert
	 * then finds its act recorded. */
	/* SEC: the version commits wrapped under the KEK active now, not
	 * the one of put_begin (a rotation while the body streamed in):
	 * held until the insert, so that no KEK can be retired between
	 * this look and the row (keys.c, cf_core_key_retire). */
	(void)pthread_rwlock_rdlock(&c->kek_lock);
	rc = put_wrap_active(c, p, err);
	if (rc == CF_OK)
		rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = core_act_record(&act, p->size, err);
	if (rc != CF_OK) {
		(void)pthread_rwlock_unlock(&c->kek_lock);
		(void)cf_blob_delete(c->blobs, p->v.blob_id, NULL);
		goto out;
	}
	if (p->part != NULL)
		rc = part_put(p, &act, err);
	else
		rc = cf_meta_version_put(c->meta, &act.au, &p->v, err);
	(void)pthread_rwlock_unlock(&c->kek_lock);
	/* After a failure the record above said 201; the answer's own
	 * record says what really happened. */
	rc = core_act_end(&act, rc);
	if (rc != CF_OK) {
		(void)cf_blob_delete(c->blobs, p->v.blob_id, NULL);
		/* Replaced between the check above and the insert. */
		if (rc == CF_E_CONFLICT)
			rc = ns_replaced(r, p->v.ns, err);
		goto out;
	}
	if (p->part != NULL) {
		if (p->part->blob_id[0] != '\0')
			(void)cf_blob_delete(c->blobs, p->part->blob_id, NULL);
		*out = json_pack("{s:s,s:I,s:I}", "md5", p->v.md5,
		    "part_number", (json_int_t)p->part->number, "size",
		    (json_int_t)p->v.size);
	} else
		*out = version_json(&p->v, true);
	if (*out == NULL)
		rc = nomem(err);
out:
	cf_core_put_abort(p);
	return rc;
}

/* A part's row (the blob is committed): p->part->blob_id then names the
 * blob of the part it replaced, or "". */
static cf_err
part_put(struct cf_put *p, struct core_act *act, struct cf_error *err)
{
	struct cf_mp_part_rec	*pr = p->part;
	char			 old[CF_BLOB_ID_LEN + 1];
	cf_err			 rc;

	cf_strlcpy(pr->part_id, p->v.version_id, sizeof(pr->part_id));
	cf_strlcpy(pr->blob_id, p->v.blob_id, sizeof(pr->blob_id));
	pr->size = p->v.size;
	cf_strlcpy(pr->md5, p->v.md5, sizeof(pr->md5));
	cf_strlcpy(pr->sha256, p->v.sha256, sizeof(pr->sha256));
	cf_strlcpy(pr->checksum, p->v.checksum, sizeof(pr->checksum));
	cf_strlcpy(pr->kek_id, p->v.kek_id, sizeof(pr->kek_id));
	memcpy(pr->wrapped_dek, p->v.wrapped_dek, sizeof(pr->wrapped_dek));
	pr->created_us = p->v.created_us;
	rc = cf_meta_mp_part_put(p->c->meta, &act->au, pr, old, err);
	cf_strlcpy(pr->blob_id, old, sizeof(pr->blob_id));
	return rc;
}

json_t *
core_version_json(const struct cf_version_rec *v, bool latest)
{
	return version_json(v, latest);
}

cf_err
core_version_insert(struct cf_core *c, struct cf_req *r,
    struct cf_version_rec *v, json_t **out, struct cf_error *err)
{
	struct core_act	act;
	cf_err		rc;

	if (CF_NEVER(!r->allowed))
		return cf_error_set(err, CF_E_INTERNAL,
		    "an insert without an allowed decision");
	/* SEC: recorded before the version becomes visible, as an
	 * upload's. */
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = core_act_record(&act, v->size, err);
	if (rc == CF_OK)
		rc = cf_meta_version_put(c->meta, &act.au, v, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	*out = version_json(v, true);
	if (*out == NULL)
		return nomem(err);
	return CF_OK;
}

void
core_put_set_part(struct cf_put *p, struct cf_mp_part_rec *part,
    const char *alg)
{
	p->part = part;
	cf_strlcpy(p->part_alg, alg != NULL ? alg : "", sizeof(p->part_alg));
}

const char *
cf_core_put_part_alg(const struct cf_put *p)
{
	return p->part != NULL ? p->part_alg : "";
}

void
core_put_set_etag(struct cf_put *p, const char *etag, const char *upload)
{
	cf_strlcpy(p->etag, etag, sizeof(p->etag));
	cf_strlcpy(p->v.mp_upload, upload, sizeof(p->v.mp_upload));
}

cf_err
core_object_authorize(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns, const char *key, struct cf_error *err)
{
	return object_authorize(c, r, action, ns, key, err);
}

cf_err
core_ns_must_exist(struct cf_core *c, struct cf_req *r, const char *ns,
    struct cf_ns_rec *out, struct cf_error *err)
{
	return ns_must_exist(c, r, ns, out, err);
}


/* The labels of (ns, key) (in the caller's read scope, if any): one
 * query, the namespace joined by name. */
static cf_err
key_labels(struct cf_core *c, const char *ns, const char *key,
    json_t **out, struct cf_error *err)
{
	return cf_meta_labels_get_ns(c->meta, ns, key, out, err);
}

struct cf_get {
	struct cf_core		*c;
	struct cf_version_rec	 v;		/* the store's: core only */
	struct cf_object_view	 view;		/* what the front end sees;
						 * right after v (get_open) */
	struct cf_blob_reader	*br;
	struct cf_opener	*op;
	struct core_segs	*segs;		/* a segmented version's
						 * reader, instead of br/op */
	char			*layout;	/* view.segments */
	struct cf_object_part	*parts;		/* cf_core_get_open_attrs */
	size_t			 nparts;
	json_t			*labels;
	/* Read-ahead (a large download read in order): while the front
	 * end sends one block, a worker thread reads and decrypts the
	 * next into ra (plaintext, wiped on close), so that decryption
	 * and TLS run on two cores.  ra_pos/ra_got: the block it holds
	 * (ra_got 0: none); next: where the last read ended. */
	struct cf_worker	*wk;
	uint8_t			*ra;
	size_t			 ra_cap, ra_want, ra_got;
	uint64_t		 ra_pos, next;
	unsigned		 seq_reads;	/* reads in a row, in order */
	bool			 ra_off;	/* never again for this get */
	cf_err			 ra_rc;
};
/* get_open zeroes all of it but v: nothing may sit between v and view. */
_Static_assert(offsetof(struct cf_get, view) - offsetof(struct cf_get, v) <
    sizeof(struct cf_version_rec) + _Alignof(struct cf_object_view),
    "struct cf_get: view right after v");

/* Plaintext at pos: of the one blob, or of the segments. */
static cf_err
get_pread(struct cf_get *g, uint64_t pos, void *buf, size_t max,
    size_t *got, struct cf_error *err)
{
	if (g->segs != NULL)
		return core_segs_read(g->segs, pos, buf, max, got, err);
	return cf_opener_read(g->op, pos, buf, max, got, err);
}

/* The worker's job: read ra_want bytes at ra_pos into ra. */
static cf_err
get_ahead(void *arg, const uint8_t *p, size_t n, struct cf_error *err)
{
	struct cf_get	*g = arg;

	(void)p;
	(void)n;
	g->ra_got = 0;
	g->ra_rc = get_pread(g, g->ra_pos, g->ra, g->ra_want, &g->ra_got,
	    err);
	return g->ra_rc;
}

/* End the read-ahead for good (its block, if any, is dropped). */
static void
get_ahead_stop(struct cf_get *g)
{
	g->ra_off = true;
	if (g->wk != NULL) {
		cf_worker_stop(g->wk);
		g->wk = NULL;
	}
	if (g->ra != NULL) {
		cf_wipe(g->ra, g->ra_cap);
		cf_membudget_buf_put(g->c->mb, g->ra, g->ra_cap);
		g->ra = NULL;
	}
	g->ra_got = 0;
}

/* The read-ahead starts at the third read in a row that begins where
 * the last ended, for blocks of at least GET_AHEAD_MIN: a large
 * download, not a few ranges.  Its buffer comes from the request memory
 * budget; without it (or a thread) the download goes on unpipelined. */
#define GET_AHEAD_MIN	(64u * 1024)
#define GET_AHEAD_MAX	(1u << 20)
static bool
get_ahead_start(struct cf_get *g, size_t max)
{
	if (g->ra_off || max < GET_AHEAD_MIN || max > GET_AHEAD_MAX)
		return false;
	if (g->wk != NULL)
		return max <= g->ra_cap;
	if ((g->ra = cf_membudget_buf_get(g->c->mb, max)) == NULL) {
		g->ra_off = true;
		return false;
	}
	g->ra_cap = max;
	if (cf_worker_start(get_ahead, g, &g->wk, NULL) != CF_OK) {
		get_ahead_stop(g);
		return false;
	}
	(void)atomic_fetch_add_explicit(&g->c->dl_ahead, 1,
	    memory_order_relaxed);
	return true;
}

/* The answer to a read of an erased version: its tombstone. */
static cf_err
erased(struct cf_core *c, struct cf_req *r, const struct cf_version_rec *v,
    struct cf_error *err)
{
	struct cf_erasure_rec	e;
	char			ts[CF_TIME_STR_LEN];

	r->errcode = "erased";
	if (cf_meta_erasure_get(c->meta, v->version_id, &e, NULL) != CF_OK)
		return cf_error_set(err, CF_E_NOTFOUND, "version %s of \"%s\" "
		    "was erased", v->version_id, v->key);
	cf_time_format(e.at_us, ts);
	return cf_error_set(err, CF_E_NOTFOUND, "version %s of \"%s\" was "
	    "erased (%s) at %s by %s, request %s: %s", v->version_id, v->key,
	    e.id, ts, e.by, e.request_id, e.reason);
}

void
cf_core_get_close(struct cf_get *g)
{
	if (g == NULL)
		return;
	get_ahead_stop(g);
	json_decref(g->labels);
	cf_opener_free(g->op);
	cf_blob_close(g->br);
	core_segs_close(g->segs);
	cf_free(g->layout);
	cf_free(g->parts);
	cf_free(g);
}

/* How a get is opened: head (metadata only), decided (by the caller:
 * no decision here), the action decided (NULL: object:get or
 * object:head), the S3 part asked for (0: none), and whether to keep the
 * list of parts (GetObjectAttributes). */
struct get_how {
	bool		 head;
	bool		 decided;
	const char	*action;
	uint32_t	 part;
	bool		 parts;
};

/* A segment's S3 part number: kept since the store kept it, else its
 * position (docs/s3.md, "Parts after completion"). */
static uint32_t
seg_part_number(const struct cf_segment_rec *sg)
{
	return sg->part_number != 0 ? sg->part_number : sg->n + 1;
}

/* The parts of segments v[0..n) into g: the view's part (how->part), and
 * the whole list when how->parts. */
static cf_err
get_parts_of(struct cf_get *g, const struct cf_segment_rec *v, size_t n,
    const struct get_how *how, struct cf_error *err)
{
	struct cf_object_part	p;
	uint64_t		first = 0;
	size_t			i;

	if (how->parts) {
		g->parts = cf_calloc(n > 0 ? n : 1, sizeof(*g->parts));
		if (g->parts == NULL)
			return nomem(err);
		g->nparts = n;
	}
	for (i = 0; i < n; i++) {
		memset(&p, 0, sizeof(p));
		p.number = seg_part_number(&v[i]);
		p.first = first;
		p.size = v[i].size;
		cf_strlcpy(p.checksum, v[i].checksum, sizeof(p.checksum));
		if (how->parts)
			g->parts[i] = p;
		if (how->part != 0 && p.number == how->part) {
			g->view.part = p;
			g->view.part_found = true;
		}
		/* Sizes were checked to add up to the version's. */
		first += v[i].size;
	}
	return CF_OK;
}

/* decided: the caller has decided the request already (a share link,
 * core/ops_share.c): no object:get decision here. */
static cf_err
get_open_how(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *version_id, const struct get_how *how,
    struct cf_get **out, struct cf_error *err)
{
	struct cf_get	*g = NULL;
	struct cf_key	*dek = NULL;
	const char	*sealed, *action = how->action;
	uint64_t	 blob_size;
	bool		 head = how->head, decided = how->decided;
	cf_err		 rc;

	/* Zeroed but for v (about 5 KiB), which only a found version
	 * fills, and nothing reads otherwise. */
	g = cf_malloc(sizeof(*g));
	if (g == NULL)
		return nomem(err);
	memset(g, 0, offsetof(struct cf_get, v));
	memset(&g->view, 0, sizeof(*g) - offsetof(struct cf_get, view));
	g->c = c;
	/* The version the read would get is what the policies decide on
	 * (resource.version); its lookup's outcome is only told after the
	 * decision, so a refused caller learns nothing of it. */
	rc = cf_meta_version_get(c->meta, ns, key, version_id, &g->v, err);
	if (rc == CF_OK && !g->v.delete_marker) {
		cf_strlcpy(r->version_id, g->v.version_id,
		    sizeof(r->version_id));
		cf_strlcpy(r->version_sha256, g->v.sha256,
		    sizeof(r->version_sha256));
		cf_strlcpy(r->version_by, g->v.created_by,
		    sizeof(r->version_by));
		/* A file of artifact versions is read as theirs
		 * (resource.artifact); an error reading that fails the
		 * request after the decision, as the lookup's would. */
		rc = core_art_of_object(c, r, g->v.version_id, err);
	}
	if (!decided) {
		struct cf_error	aerr;
		cf_err		arc;

		/* Decided first, whatever the lookup found. */
		cf_error_clear(&aerr);
		arc = object_authorize(c, r, action != NULL ? action :
		    head ? "object:head" : "object:get", ns, key, &aerr);
		if (arc != CF_OK) {
			if (err != NULL)
				*err = aerr;
			rc = arc;
			goto out;
		}
	}
	if (rc != CF_OK && rc != CF_E_NOTFOUND)
		goto out;
	if (rc == CF_E_NOTFOUND && ns_missing(c, r, ns, err))
		goto out;
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = version_id != NULL ? "no_such_version" :
		    "no_such_key";
		rc = version_id != NULL ?
		    cf_error_set(err, CF_E_NOTFOUND, "no version %s of \"%s\"",
		    version_id, key) :
		    cf_error_set(err, CF_E_NOTFOUND, "no object \"%s\" in "
		    "namespace \"%s\"", key, ns);
	}
	if (rc != CF_OK)
		goto out;
	if (g->v.delete_marker) {
		r->errcode = "no_such_key";
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "object \"%s\" was deleted", key);
		goto out;
	}
	if (strcmp(g->v.kek_id, CF_KEK_ERASED) == 0) {
		rc = erased(c, r, &g->v, err);
		goto out;
	}
	cf_strlcpy(g->view.version_id, g->v.version_id,
	    sizeof(g->view.version_id));
	g->view.size = g->v.size;
	cf_strlcpy(g->view.sha256, g->v.sha256, sizeof(g->view.sha256));
	cf_strlcpy(g->view.md5, g->v.md5, sizeof(g->view.md5));
	cf_strlcpy(g->view.content_encoding, g->v.content_encoding,
	    sizeof(g->view.content_encoding));
	cf_strlcpy(g->view.content_type, g->v.content_type,
	    sizeof(g->view.content_type));
	cf_strlcpy(g->view.user_meta, g->v.user_meta,
	    sizeof(g->view.user_meta));
	cf_strlcpy(g->view.checksum, g->v.checksum, sizeof(g->view.checksum));
	g->view.created_us = g->v.created_us;
	g->view.s3_null = g->v.s3_null;
	g->view.s3_hidden = g->v.s3_hidden;
	g->view.key = g->v.key;
	rc = key_labels(c, ns, key, &g->labels, err);
	if (rc != CF_OK)
		goto out;
	g->view.labels = g->labels;
	g->view.nsegs = g->v.nsegs;
	if (head && g->v.nsegs > 0) {
		struct cf_segment_rec	*sv = NULL;
		size_t			 sn = 0;

		rc = core_segs_load(c, g->v.version_id, g->v.nsegs, &sv, &sn,
		    err);
		if (rc == CF_OK)
			rc = core_segs_layout(sv, sn, &g->layout, err);
		if (rc == CF_OK)
			rc = get_parts_of(g, sv, sn, how, err);
		core_segs_free(sv, sn);
		g->view.segments = g->layout;
		goto out;
	}
	/* A version of one blob is its own part 1, whole. */
	if (how->part == 1 && g->v.nsegs == 0) {
		g->view.part.number = 1;
		g->view.part.size = g->v.size;
		cf_strlcpy(g->view.part.checksum, g->v.checksum,
		    sizeof(g->view.part.checksum));
		g->view.part_found = true;
	}
	if (head)
		goto out;
	/* Completed by reference: the segments, each with its own key,
	 * opened as the reads reach them. */
	if (g->v.nsegs > 0) {
		rc = core_segs_open(c, &g->v, &g->segs, err);
		if (rc == CF_E_UNAVAILABLE)
			key_unavailable(r, err);
		if (rc == CF_OK)
			rc = core_segs_layout_of(g->segs, &g->layout, err);
		if (rc == CF_OK) {
			const struct cf_segment_rec	*sv;
			size_t				 sn;

			sv = core_segs_recs(g->segs, &sn);
			rc = get_parts_of(g, sv, sn, how, err);
		}
		g->view.segments = g->layout;
		goto out;
	}
	/* One unwrap per version read, never per chunk: the opener keeps
	 * the DEK for the whole download. */
	rc = cf_keyprov_unwrap(c->kp, g->v.kek_id, g->v.version_id,
	    strlen(g->v.version_id), g->v.wrapped_dek, &dek, err);
	if (rc == CF_E_UNAVAILABLE)
		key_unavailable(r, err);
	if (rc != CF_OK)
		goto out;
	core_metrics_key_op(c, CORE_METRIC_KEY_UNWRAP);
	/* A small blob (one chunk) is read whole at once: three system
	 * calls instead of five, none of them later.  Its size is known
	 * (the version's); one of another size fails the opener below. */
	blob_size = cf_aead_blob_size(g->v.size);
	if (blob_size <= CF_BLOB_WHOLE_MAX)
		rc = cf_blob_open_whole(c->blobs, g->v.blob_id,
		    (size_t)blob_size, &g->br, err);
	else
		rc = cf_blob_open(c->blobs, g->v.blob_id, &g->br, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = cf_error_set(err, CF_E_INTEGRITY,
		    "stored data of \"%s\" is missing", key);
	}
	if (rc != CF_OK)
		goto out;
	/* SEC: the chunks' associated data is the version id they were
	 * sealed under: the version's own, or for a promoted version its
	 * source's, whose blob it shares (its data key is wrapped under its
	 * own id all the same, so the pair cannot be moved to another
	 * version; docs/internals/CRYPTO.md). */
	sealed = g->v.sealed_as[0] != '\0' ? g->v.sealed_as : g->v.version_id;
	rc = cf_opener_new(dek, sealed, strlen(sealed), g->v.size,
	    cf_blob_size(g->br), cf_blob_pread, g->br, &g->op, err);
	/* SEC: the wrapped data key is not needed past this point. */
	cf_wipe(g->v.wrapped_dek, sizeof(g->v.wrapped_dek));
out:
	cf_key_free(dek);
	if (rc != CF_OK) {
		cf_core_get_close(g);
		return rc;
	}
	*out = g;
	return CF_OK;
}

static cf_err
get_open(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *version_id, bool head, bool decided,
    const char *action, struct cf_get **out, struct cf_error *err)
{
	struct get_how	how = { head, decided, action, 0, false };

	return get_open_how(c, r, ns, key, version_id, &how, out, err);
}

cf_err
cf_core_get_open_part(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *version_id, bool head, uint32_t part,
    struct cf_get **out, struct cf_error *err)
{
	struct get_how	how = { head, false, NULL, part, false };
	cf_err		rc;

	if (part < 1 || part > CF_SEGMENTS_MAX)
		return cf_error_set(err, CF_E_INVAL, "part %u is not 1 to "
		    "%u", (unsigned)part, (unsigned)CF_SEGMENTS_MAX);
	if ((rc = cf_meta_scope_begin(c->meta, err)) != CF_OK)
		return rc;
	rc = get_open_how(c, r, ns, key, version_id, &how, out, err);
	cf_meta_scope_end(c->meta);
	return rc;
}

cf_err
cf_core_get_open_attrs(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *version_id, struct cf_get **out,
    struct cf_error *err)
{
	struct get_how	how = { true, false, "object:get", 0, true };
	cf_err		rc;

	/* SEC: decided and looked up as a GET of the version, in one
	 * snapshot; opened as a HEAD: no key unwrapped, no blob opened. */
	if ((rc = cf_meta_scope_begin(c->meta, err)) != CF_OK)
		return rc;
	rc = get_open_how(c, r, ns, key, version_id, &how, out, err);
	cf_meta_scope_end(c->meta);
	return rc;
}

size_t
cf_core_get_parts(const struct cf_get *g, uint32_t after,
    struct cf_object_part *out, size_t max)
{
	size_t	i, k = 0;

	for (i = 0; i < g->nparts && k < max; i++)
		if (g->parts[i].number > after)
			out[k++] = g->parts[i];
	return k;
}

cf_err
cf_core_get_open(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *version_id, bool head, struct cf_get **out,
    struct cf_error *err)
{
	cf_err	rc;

	/* One snapshot for the decision and the version it lets through:
	 * one read transaction instead of one per query. */
	if ((rc = cf_meta_scope_begin(c->meta, err)) != CF_OK)
		return rc;
	rc = get_open(c, r, ns, key, version_id, head, false, NULL, out, err);
	cf_meta_scope_end(c->meta);
	return rc;
}

cf_err
cf_core_object_segments(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *version_id, json_t **out,
    struct cf_error *err)
{
	struct cf_get		*g = NULL;
	struct cf_segment_rec	*sv = NULL;
	json_t			*sizes = NULL, *j = NULL;
	size_t			 sn = 0, i;
	cf_err			 rc;

	/* SEC: decided and looked up exactly as a GET of the version (the
	 * segments' sizes are the layout of its bytes), in one snapshot;
	 * no key is unwrapped and no blob opened. */
	if ((rc = cf_meta_scope_begin(c->meta, err)) != CF_OK)
		return rc;
	rc = get_open(c, r, ns, key, version_id, true, false, "object:get",
	    &g, err);
	if (rc == CF_OK && g->v.nsegs > 0)
		rc = core_segs_load(c, g->v.version_id, g->v.nsegs, &sv, &sn,
		    err);
	cf_meta_scope_end(c->meta);
	if (rc != CF_OK)
		goto out;
	if ((sizes = json_array()) == NULL) {
		rc = nomem(err);
		goto out;
	}
	for (i = 0; i < sn; i++)
		if (json_array_append_new(sizes,
		    json_integer((json_int_t)sv[i].size)) != 0) {
			rc = nomem(err);
			goto out;
		}
	/* The digest under its own name, as the GET's headers give it
	 * (docs/api.md, "Digests"): never a composite under "sha256". */
	j = json_pack("{s:s,s:s,s:s,s:I,s:I,s:O}", "ns", ns, "key", key,
	    "version_id", g->v.version_id, "size", (json_int_t)g->v.size,
	    "segment_count", (json_int_t)sn, "segments", sizes);
	if (j == NULL || json_object_set_new(j, sn > 0 ? "sha256_segments" :
	    "sha256", json_string(g->v.sha256)) != 0) {
		rc = nomem(err);
		goto out;
	}
	*out = j;
	j = NULL;
out:
	json_decref(j);
	json_decref(sizes);
	core_segs_free(sv, sn);
	cf_core_get_close(g);
	return rc;
}

cf_err
core_get_open_decided(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *version_id, struct cf_get **out,
    struct cf_error *err)
{
	if (CF_NEVER(!r->allowed))
		return cf_error_set(err, CF_E_INTERNAL,
		    "a read without an allowed decision");
	return get_open(c, r, ns, key, version_id, false, true, NULL, out,
	    err);
}

const struct cf_object_view *
cf_core_get_view(const struct cf_get *g)
{
	return &g->view;
}

cf_err
cf_core_get_read(struct cf_get *g, uint64_t pos, void *buf, size_t max,
    size_t *got, struct cf_error *err)
{
	uint64_t	size = g->view.size;
	cf_err		rc;

	if (g->op == NULL && g->segs == NULL)
		return cf_error_set(err, CF_E_INVAL, "opened for HEAD only");
	*got = 0;
	if (g->wk != NULL) {
		/* The job in flight is done before anything else reads. */
		if (cf_worker_wait(g->wk, NULL) != CF_OK || g->ra_rc != CF_OK)
			get_ahead_stop(g);	/* read it here: same error */
		else if (g->ra_got > 0 && g->ra_pos == pos &&
		    g->ra_got <= max) {
			memcpy(buf, g->ra, g->ra_got);
			*got = g->ra_got;
		}
		g->ra_got = 0;
	}
	if (*got == 0) {
		rc = get_pread(g, pos, buf, max, got, err);
		if (rc != CF_OK)
			return rc;
	}
	g->seq_reads = pos == g->next ? g->seq_reads + 1 : 0;
	g->next = pos + *got;
	/* SEC: the block read ahead is authenticated plaintext like any
	 * other (cf_opener_read checks each chunk's tag first); it stays in
	 * this get and is wiped when the get closes. */
	if (g->seq_reads >= 2 && g->next < size && *got == max &&
	    get_ahead_start(g, max)) {
		g->ra_pos = g->next;
		g->ra_want = size - g->next < max ? (size_t)(size - g->next) :
		    max;
		if (cf_worker_submit(g->wk, g->ra, g->ra_want, NULL) != CF_OK)
			get_ahead_stop(g);
	}
	return CF_OK;
}

cf_err
cf_core_object_delete(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, json_t **out, struct cf_error *err)
{
	struct cf_version_rec	*v = NULL;
	struct core_act		 act;
	cf_err			 rc;

	rc = object_authorize(c, r, "object:delete", ns, key, err);
	if (rc != CF_OK)
		return rc;
	v = cf_calloc(1, sizeof(*v));
	if (v == NULL)
		return nomem(err);
	rc = cf_meta_version_get(c->meta, ns, key, NULL, v, err);
	if (rc == CF_E_NOTFOUND && ns_missing(c, r, ns, err))
		goto out;
	if (rc == CF_E_NOTFOUND || (rc == CF_OK && v->delete_marker)) {
		cf_error_clear(err);
		r->errcode = "no_such_key";
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "no object \"%s\" in namespace \"%s\"", key, ns);
	}
	/* SEC: a legal hold or the namespace's retention period stops the
	 * delete whoever asks (the current version's age counts). */
	if (rc == CF_OK)
		rc = core_privacy_guard(c, r, ns, key, v->created_us, err);
	if (rc != CF_OK)
		goto out;
	memset(v, 0, sizeof(*v));
	cf_strlcpy(v->ns, ns, sizeof(v->ns));
	cf_strlcpy(v->key, key, sizeof(v->key));
	v->delete_marker = true;
	cf_strlcpy(v->created_by, r->principal.name, sizeof(v->created_by));
	v->created_us = cf_now_us();
	rc = new_version_id(v->version_id, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: audited before the marker becomes visible (recorded first,
	 * as for an upload). */
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = core_act_record(&act, 0, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_meta_version_put(c->meta, &act.au, v, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s,s:s,s:s,s:b,s:i}", "ns", ns, "key", key,
	    "version_id", v->version_id, "delete_marker", 1, "s3_null",
	    v->s3_null);
	if (*out == NULL)
		rc = nomem(err);
out:
	cf_free(v);
	return rc;
}

struct list_ctx {
	json_t	*objs;
	json_t	*prefixes;
};

static cf_err
list_obj_cb(void *arg, const struct cf_version_rec *v, struct cf_error *err)
{
	struct list_ctx	*x = arg;
	json_t		*j;

	j = json_pack("{s:s,s:s,s:I,s:s,s:o,s:s,s:s}", "key", v->key,
	    "version_id", v->version_id, "size", (json_int_t)v->size, "sha256",
	    v->sha256, "created", core_time_json(v->created_us),
	    "content_type", v->content_type, "md5", v->md5);
	if (j == NULL || json_array_append_new(x->objs, j) != 0)
		return nomem(err);
	return CF_OK;
}

/* Each listed object gets its labels (one indexed read each, after the
 * listing's statement is done). */
static cf_err
list_labels(struct cf_core *c, const struct cf_ns_rec *nsr, json_t *objs,
    struct cf_error *err)
{
	json_t	*o, *labels;
	size_t	 i;
	cf_err	 rc;

	json_array_foreach(objs, i, o) {
		labels = NULL;
		rc = cf_meta_labels_get(c->meta, nsr->id, json_string_value(
		    json_object_get(o, "key")), &labels, err);
		if (rc != CF_OK)
			return rc;
		if (json_object_set_new(o, "labels", labels) != 0)
			return nomem(err);
	}
	return CF_OK;
}

static cf_err
list_prefix_cb(void *arg, const char *prefix, struct cf_error *err)
{
	struct list_ctx	*x = arg;

	if (json_array_append_new(x->prefixes, json_string(prefix)) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_object_list(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *prefix, const char *delimiter, const char *after,
    size_t limit, json_t **out, struct cf_error *err)
{
	struct list_ctx		 x = { NULL, NULL };
	struct cf_ns_rec	 nsr;
	char			*next = NULL;
	bool			 truncated = false;
	cf_err			 rc;

	list_op(r, prefix);
	rc = object_authorize(c, r, "object:list", ns, NULL, err);
	if (rc != CF_OK)
		return rc;
	if (prefix == NULL)
		prefix = "";
	if (!cf_utf8_valid(prefix, strlen(prefix)))
		return cf_error_set(err, CF_E_INPUT, "prefix is not UTF-8");
	if (delimiter == NULL)
		delimiter = "";
	if (after == NULL)
		after = "";
	if (strlen(prefix) >= CF_OBJKEY_MAX || strlen(after) >= CF_OBJKEY_MAX ||
	    strlen(delimiter) > 16)
		return cf_error_set(err, CF_E_INPUT,
		    "prefix, after or delimiter too long");
	if (limit == 0 || limit > 1000)
		return cf_error_set(err, CF_E_INPUT, "limit must be 1-1000");
	rc = ns_must_exist(c, r, ns, &nsr, err);
	if (rc != CF_OK)
		return rc;
	next = cf_calloc(1, CF_OBJKEY_MAX);
	x.objs = json_array();
	x.prefixes = json_array();
	if (next == NULL || x.objs == NULL || x.prefixes == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = cf_meta_object_list(c->meta, ns, prefix, delimiter, after, limit,
	    list_obj_cb, list_prefix_cb, &x, &truncated, next, err);
	if (rc == CF_OK)
		rc = list_labels(c, &nsr, x.objs, err);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:O,s:O,s:b,s:s?}", "objects", x.objs, "prefixes",
	    x.prefixes, "truncated", truncated, "next",
	    truncated ? next : NULL);
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(x.objs);
	json_decref(x.prefixes);
	cf_free(next);
	return rc;
}

struct versions_ctx {
	json_t	*arr;
	bool	 first;
};

static cf_err
versions_cb(void *arg, const struct cf_version_rec *v, struct cf_error *err)
{
	struct versions_ctx	*x = arg;
	json_t			*j;

	j = version_json(v, x->first);
	x->first = false;
	if (j == NULL || json_array_append_new(x->arr, j) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_object_versions(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, json_t **out, struct cf_error *err)
{
	struct versions_ctx	x;
	cf_err			rc;

	rc = object_authorize(c, r, "object:versions", ns, key, err);
	if (rc != CF_OK)
		return rc;
	x.arr = json_array();
	x.first = true;
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_version_list(c->meta, ns, key, versions_cb, &x, err);
	if (rc == CF_OK && json_array_size(x.arr) == 0 &&
	    ns_missing(c, r, ns, err))
		rc = CF_E_NOTFOUND;
	else if (rc == CF_OK && json_array_size(x.arr) == 0) {
		r->errcode = "no_such_key";
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "no object \"%s\" in namespace \"%s\"", key, ns);
	}
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "versions", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

/* The metadata a copy gets instead of its source's (S3's REPLACE),
 * checked as an upload's. */
static cf_err
copy_meta(struct cf_version_rec *v, const struct cf_copy_meta *m,
    struct cf_error *err)
{
	const char	*ct = m->content_type, *enc = m->content_encoding;
	json_t		*mj = NULL;
	cf_err		 rc = CF_OK;

	if (ct == NULL || *ct == '\0')
		ct = "application/octet-stream";
	if (enc == NULL)
		enc = "";
	if (strlen(ct) >= sizeof(v->content_type) ||
	    !cf_utf8_valid(ct, strlen(ct)) || !cf_str_field_value_ok(ct))
		return cf_error_set(err, CF_E_INPUT, "Content-Type too long "
		    "or not a clean header value");
	if (strlen(enc) >= sizeof(v->content_encoding) ||
	    !cf_utf8_valid(enc, strlen(enc)) || !cf_str_field_value_ok(enc))
		return cf_error_set(err, CF_E_INPUT, "Content-Encoding too "
		    "long or not a clean header value");
	v->user_meta[0] = '\0';
	if (m->user_meta != NULL && *m->user_meta != '\0') {
		if (strlen(m->user_meta) >= sizeof(v->user_meta))
			return cf_error_set(err, CF_E_INPUT, "user metadata "
			    "exceeds %zu bytes", sizeof(v->user_meta) - 1);
		mj = json_loads(m->user_meta, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(mj))
			rc = cf_error_set(err, CF_E_INPUT,
			    "user metadata must be a JSON object");
		if (rc == CF_OK)
			rc = meta_fields_ok(mj, err);
		json_decref(mj);
		if (rc != CF_OK)
			return rc;
		cf_strlcpy(v->user_meta, m->user_meta, sizeof(v->user_meta));
	}
	cf_strlcpy(v->content_type, ct, sizeof(v->content_type));
	cf_strlcpy(v->content_encoding, enc, sizeof(v->content_encoding));
	return CF_OK;
}

cf_err
cf_core_object_copy(struct cf_core *c, struct cf_req *r,
    const struct cf_copy_src *src, const char *ns, const char *key,
    const struct cf_copy_meta *replace, json_t **out, struct cf_error *err)
{
	struct cf_req		*sub = NULL;
	struct cf_get		*g = NULL;
	struct cf_version_rec	*v = NULL;
	struct cf_key		*dek = NULL;
	struct cf_ns_rec	 nsr;
	struct core_act		 act;
	bool			 locked = false;
	cf_err			 rc;

	if (src->ranged)
		return cf_error_set(err, CF_E_INVAL, "CopyObject copies a "
		    "whole version");
	sub = cf_malloc(sizeof(*sub));
	v = cf_calloc(1, sizeof(*v));
	if (sub == NULL || v == NULL) {
		rc = nomem(err);
		goto out;
	}
	/* SEC: the source is read: an object:get of that version, decided
	 * and recorded on its own (with the request's id) before anything
	 * else; the target is the request's own decision (object:put). */
	*sub = *r;
	sub->audited = false;
	sub->allowed = false;
	sub->action = NULL;
	sub->errcode = NULL;
	sub->resource[0] = '\0';
	rc = cf_meta_scope_begin(c->meta, err);
	if (rc == CF_OK) {
		rc = get_open(c, sub, src->ns, src->key, src->version_id,
		    true, false, "object:get", &g, err);
		cf_meta_scope_end(c->meta);
	}
	/* The conditions are on the version the source's decision allowed
	 * (a copy has no 304: whatever fails is a 412, S3's answer). */
	if (rc == CF_OK && cf_core_precond(&src->cond, &g->view) !=
	    CF_PRECOND_HOLDS) {
		sub->errcode = "precondition_failed";
		rc = cf_error_set(err, CF_E_INPUT, "a copy-source condition "
		    "does not hold for the source version");
	}
	if (rc == CF_OK)
		rc = cf_core_audit(c, sub, 200, "ok", 0, err);
	if (rc != CF_OK) {
		/* The source's refusal (or failure) is the answer. */
		*r = *sub;
		goto out;
	}
	rc = object_authorize(c, r, "object:put", ns, key, err);
	if (rc != CF_OK)
		goto out;
	if (g->v.size > c->cfg.max_object_size) {
		rc = cf_error_set(err, CF_E_LIMIT, "object of %llu bytes "
		    "exceeds the limit of %llu", (unsigned long long)g->v.size,
		    (unsigned long long)c->cfg.max_object_size);
		goto out;
	}
	rc = ns_must_exist(c, r, ns, &nsr, err);
	if (rc != CF_OK)
		goto out;
	*v = g->v;
	if (replace != NULL && (rc = copy_meta(v, replace, err)) != CF_OK)
		goto out;
	cf_strlcpy(v->ns, ns, sizeof(v->ns));
	cf_strlcpy(v->key, key, sizeof(v->key));
	v->ns_id = nsr.id;
	v->seq = 0;
	cf_strlcpy(v->created_by, r->principal.name, sizeof(v->created_by));
	v->created_us = cf_now_us();
	/* SEC: server-side and without a second copy of the data: the
	 * copy shares the source's encrypted blob, whose chunks stay
	 * sealed under the id they were written for (sealed_as), while its
	 * data key is rewrapped under the copy's own id, as a promotion's
	 * (docs/internals/CRYPTO.md).  Under kek_lock's read side, so that
	 * no KEK is retired between the wrap and the row. */
	(void)pthread_rwlock_rdlock(&c->kek_lock);
	locked = true;
	rc = core_dek_rebind(c, &g->v, v, err);
	if (rc == CF_E_UNAVAILABLE)
		key_unavailable(r, err);
	if (rc != CF_OK)
		goto out;
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_version_put(c->meta, &act.au, v, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s,s:s,s:s,s:s,s:o,s:I,s:s,s:i,s:i}", "ns", ns,
	    "key", key, "version_id", v->version_id, "source_version_id",
	    g->v.version_id, "created", core_time_json(v->created_us), "size",
	    (json_int_t)v->size, "md5", v->md5[0] != '\0' ? v->md5 :
	    v->sha256, "s3_null", v->s3_null, "source_s3_null",
	    g->v.s3_null);
	if (*out == NULL)
		rc = nomem(err);
out:
	if (locked)
		(void)pthread_rwlock_unlock(&c->kek_lock);
	cf_key_free(dek);
	if (v != NULL) {
		core_segs_free(v->segs, v->nsegs);
		cf_wipe(v, sizeof(*v));
	}
	cf_free(v);
	cf_core_get_close(g);
	cf_free(sub);
	return rc;
}

struct vscan_ctx {
	json_t	*vers;
	json_t	*prefixes;
	char	 last_vid[CF_VERSION_ID_LEN + 1];
	bool	 last_null;
};

static cf_err
vscan_cb(void *arg, const struct cf_version_rec *v, bool latest,
    struct cf_error *err)
{
	struct vscan_ctx	*x = arg;
	json_t			*j;

	j = version_json(v, latest);
	if (j == NULL || json_array_append_new(x->vers, j) != 0)
		return nomem(err);
	cf_strlcpy(x->last_vid, v->version_id, sizeof(x->last_vid));
	x->last_null = v->s3_null != 0;
	return CF_OK;
}

static cf_err
vscan_prefix_cb(void *arg, const char *prefix, struct cf_error *err)
{
	struct vscan_ctx	*x = arg;

	if (json_array_append_new(x->prefixes, json_string(prefix)) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_object_versions_scan(struct cf_core *c, struct cf_req *r,
    const char *ns, const char *prefix, const char *delimiter,
    const char *key_marker, const char *vid_marker, size_t limit,
    json_t **out, struct cf_error *err)
{
	struct vscan_ctx	 x;
	struct cf_ns_rec	 nsr;
	struct cf_version_rec	*nullv = NULL;
	char			*next = NULL, nvid[CF_VERSION_ID_LEN + 1];
	bool			 truncated = false;
	cf_err			 rc;

	memset(&x, 0, sizeof(x));
	list_op(r, prefix);
	rc = object_authorize(c, r, "object:versions", ns, NULL, err);
	if (rc != CF_OK)
		return rc;
	if (prefix != NULL && !cf_utf8_valid(prefix, strlen(prefix)))
		return cf_error_set(err, CF_E_INPUT, "prefix is not UTF-8");
	if ((prefix != NULL && strlen(prefix) >= CF_OBJKEY_MAX) ||
	    (key_marker != NULL && strlen(key_marker) >= CF_OBJKEY_MAX) ||
	    (vid_marker != NULL && strlen(vid_marker) > CF_VERSION_ID_LEN) ||
	    (delimiter != NULL && strlen(delimiter) > 16))
		return cf_error_set(err, CF_E_INPUT, "prefix, marker or "
		    "delimiter too long");
	if (vid_marker != NULL && vid_marker[0] != '\0' &&
	    (key_marker == NULL || key_marker[0] == '\0'))
		return cf_error_set(err, CF_E_INPUT, "a version id marker "
		    "needs a key marker");
	if (limit == 0 || limit > 1000)
		return cf_error_set(err, CF_E_INPUT, "limit must be 1-1000");
	rc = ns_must_exist(c, r, ns, &nsr, err);
	if (rc != CF_OK)
		return rc;
	next = cf_calloc(1, CF_OBJKEY_MAX);
	x.vers = json_array();
	x.prefixes = json_array();
	if (next == NULL || x.vers == NULL || x.prefixes == NULL) {
		rc = nomem(err);
		goto out;
	}
	/* S3's "null" marker: the key marker's null version, by its id
	 * (none: from the key marker's first version, as before). */
	if (vid_marker != NULL && strcmp(vid_marker, "null") == 0) {
		nullv = cf_calloc(1, sizeof(*nullv));
		if (nullv == NULL) {
			rc = nomem(err);
			goto out;
		}
		rc = cf_meta_version_get(c->meta, ns, key_marker, "null",
		    nullv, err);
		if (rc == CF_E_NOTFOUND) {
			cf_error_clear(err);
			rc = CF_OK;
			vid_marker = NULL;
		} else if (rc == CF_OK)
			vid_marker = nullv->version_id;
		else
			goto out;
	}
	rc = cf_meta_version_scan(c->meta, ns, prefix, delimiter, key_marker,
	    vid_marker, limit, vscan_cb, vscan_prefix_cb, &x, &truncated, next,
	    nvid, err);
	/* The next page's marker is S3's id of the last version given. */
	if (rc == CF_OK && x.last_null && strcmp(nvid, x.last_vid) == 0)
		cf_strlcpy(nvid, "null", sizeof(nvid));
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "bad_version_marker";
		rc = cf_error_set(err, CF_E_INPUT, "the version id marker is "
		    "not a version of the key marker");
	}
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:O,s:O,s:b,s:s?,s:s?}", "versions", x.vers,
	    "prefixes", x.prefixes, "truncated", truncated, "next_key",
	    truncated ? next : NULL, "next_version_id", truncated &&
	    nvid[0] != '\0' ? nvid : NULL);
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(x.vers);
	json_decref(x.prefixes);
	cf_free(next);
	cf_free(nullv);
	return rc;
}

#define PART_SEQ_MIN	(1u << 20)	/* bytes; smaller parts: cf_blob_open */

cf_err
core_part_open(struct cf_core *c, const struct cf_mp_part_rec *pr,
    struct cf_get **out, struct cf_error *err)
{
	struct cf_get	*g = NULL;
	struct cf_key	*dek = NULL;
	cf_err		 rc;

	g = cf_calloc(1, sizeof(*g));
	if (g == NULL)
		return nomem(err);
	g->c = c;
	g->view.size = pr->size;
	rc = cf_keyprov_unwrap(c->kp, pr->kek_id, pr->part_id,
	    strlen(pr->part_id), pr->wrapped_dek, &dek, err);
	if (rc == CF_OK)
		core_metrics_key_op(c, CORE_METRIC_KEY_UNWRAP);
	/* Read once, front to back, around the page cache, the next block
	 * on the reader's thread (blob.h): with the budget for its two
	 * blocks; without, the plain reader does the same, slower.  A small
	 * part (the last one may be) is not worth the blocks. */
	if (rc == CF_OK)
		rc = pr->size >= PART_SEQ_MIN ?
		    cf_blob_open_seq(c->blobs, pr->blob_id, &g->br, err) :
		    cf_blob_open(c->blobs, pr->blob_id, &g->br, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = cf_error_set(err, CF_E_INTEGRITY, "stored data of part "
		    "%lld is missing", (long long)pr->number);
	}
	if (rc == CF_OK)
		rc = cf_opener_new(dek, pr->part_id, strlen(pr->part_id),
		    pr->size, cf_blob_size(g->br), cf_blob_pread, g->br,
		    &g->op, err);
	cf_key_free(dek);
	if (rc != CF_OK) {
		cf_core_get_close(g);
		return rc;
	}
	*out = g;
	return CF_OK;
}

cf_err
core_part_read(struct cf_get *g, uint64_t pos, void *buf, size_t max,
    size_t *got, struct cf_error *err)
{
	/* SEC: cf_opener_read copies out only chunks whose tag checked (on
	 * a failure it wipes what this call wrote: nothing unauthenticated
	 * is left in buf, even a stage of the upload). */
	return cf_opener_read(g->op, pos, buf, max, got, err);
}

/* S3's DeleteObject?versionId=V: version V (or the key's null version)
 * leaves S3's view; nothing is removed (cf_meta_version_s3_delete).
 * Decided as object:delete of the key, and guarded by holds and
 * retention like a delete: S3 clients mean to delete it. */
cf_err
cf_core_object_version_s3_delete(struct cf_core *c, struct cf_req *r,
    const char *ns, const char *key, const char *vid, json_t **out,
    struct cf_error *err)
{
	struct cf_version_rec	*v = NULL, *mk = NULL;
	struct core_act		 act;
	bool			 marked = false;
	cf_err			 rc;

	rc = object_authorize(c, r, "object:delete", ns, key, err);
	if (rc != CF_OK)
		return rc;
	if (vid == NULL || vid[0] == '\0' || strlen(vid) > CF_VERSION_ID_LEN)
		return cf_error_set(err, CF_E_INPUT, "invalid version id");
	v = cf_calloc(1, sizeof(*v));
	mk = cf_calloc(1, sizeof(*mk));
	if (v == NULL || mk == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = cf_meta_version_get(c->meta, ns, key, vid, v, err);
	if (rc == CF_E_NOTFOUND && ns_missing(c, r, ns, err))
		goto out;
	/* Out of S3's view already: as gone as S3 can tell. */
	if (rc == CF_E_NOTFOUND || (rc == CF_OK && v->s3_hidden)) {
		cf_error_clear(err);
		r->errcode = "no_such_version";
		rc = cf_error_set(err, CF_E_NOTFOUND, "no version %s of "
		    "\"%s\" in S3's view", vid, key);
	}
	if (rc == CF_OK)
		rc = core_privacy_guard(c, r, ns, key, v->created_us, err);
	if (rc != CF_OK)
		goto out;
	cf_strlcpy(mk->ns, ns, sizeof(mk->ns));
	cf_strlcpy(mk->key, key, sizeof(mk->key));
	mk->delete_marker = true;
	cf_strlcpy(mk->created_by, r->principal.name, sizeof(mk->created_by));
	mk->created_us = cf_now_us();
	rc = new_version_id(mk->version_id, err);
	if (rc != CF_OK)
		goto out;
	rc = core_act_begin(&act, c, r, 204, err);
	if (rc == CF_OK)
		rc = cf_meta_version_s3_delete(c->meta, &act.au, ns, key,
		    v->version_id, mk, &marked, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_CONFLICT) {
		r->errcode = "conflict";
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s,s:s,s:s,s:s,s:b,s:i,s:s?}", "ns", ns, "key",
	    key, "version_id", v->version_id, "removed_from_view",
	    v->version_id, "delete_marker", v->delete_marker, "s3_null",
	    v->s3_null, "marker_version_id", marked ? mk->version_id : NULL);
	if (*out == NULL)
		rc = nomem(err);
out:
	cf_free(v);
	cf_free(mk);
	return rc;
}

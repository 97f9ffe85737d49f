/* src/core/ops_privacy.c: legal holds, retention and erasure by
 * crypto-shredding (core.h, "privacy"; docs/privacy.md).
 *
 * SEC: holds and retention are checked by the core after the decision,
 * so no role or policy (not even an admin's) gets past them: only
 * removing the hold, or the time passing by the core's clock, does.  An
 * erasure overwrites the wrapped data keys of the versions it names in
 * one audited transaction (tombstones kept), then deletes their blobs;
 * a crash in between leaves blobs no version names, which the orphan
 * sweep deletes at the next start.  Without its data key a blob is
 * ciphertext nobody can open, and without its blob an old copy of the
 * metadata (and so of the wrapped key) opens nothing. */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/core_int.h"
#include "crypto/sign.h"

#define US_PER_DAY	(86400LL * 1000000LL)
#define ERASE_MAX	4096	/* versions one erasure may reach */

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

/* A refusal after the decision allowed: recorded as denied, with why. */
static cf_err
refuse(struct cf_req *r, const char *code, const char *why,
    struct cf_error *err)
{
	cf_error_clear(err);
	r->allowed = false;
	r->errcode = code;
	cf_strlcpy(r->reasons, why, sizeof(r->reasons));
	return CF_E_CONFLICT;
}

cf_err
core_privacy_guard(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, int64_t created_us, struct cf_error *err)
{
	struct cf_hold_rec	h;
	struct cf_ns_rec	nsr;
	int64_t			now, young = created_us;
	bool			found = false;
	cf_err			rc;

	rc = cf_meta_hold_find(c->meta, ns, key, &h, &found, err);
	if (rc != CF_OK)
		return rc;
	if (found) {
		(void)refuse(r, "held", "legal hold", err);
		return cf_error_set(err, CF_E_CONFLICT, "%s%s%s is under "
		    "legal hold %s (%s): nothing under it can be deleted or "
		    "erased until the hold is removed", ns, h.key[0] != '\0' ?
		    "/" : "", h.key, h.id, h.reason);
	}
	rc = cf_meta_ns_get(c->meta, ns, &nsr, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		return CF_OK;	/* the operation says so itself */
	}
	if (rc != CF_OK || nsr.retain_days == 0)
		return rc;
	if (key == NULL) {
		rc = cf_meta_ns_youngest(c->meta, ns, &young, err);
		if (rc != CF_OK)
			return rc;
	}
	if (young == 0)
		return CF_OK;
	now = core_now_us(c);
	if (now - young >= nsr.retain_days * US_PER_DAY)
		return CF_OK;
	(void)refuse(r, "retention", "retention period", err);
	return cf_error_set(err, CF_E_CONFLICT, "namespace %s keeps versions "
	    "for %lld days: a version of %s is %lld days old and cannot be "
	    "deleted or erased yet", ns, (long long)nsr.retain_days,
	    key != NULL ? key : "it", (long long)((now - young) / US_PER_DAY));
}

static cf_err
new_id(const char *prefix, char *out, size_t outsz, struct cf_error *err)
{
	uint8_t	raw[7];
	char	hex[sizeof(raw) * 2 + 1];
	cf_err	rc;

	rc = cf_random(raw, sizeof(raw), err);
	if (rc != CF_OK)
		return rc;
	cf_hex_encode(raw, sizeof(raw), hex);
	(void)snprintf(out, outsz, "%s%s", prefix, hex);
	return CF_OK;
}

static json_t *
hold_json(const struct cf_hold_rec *h)
{
	return json_pack("{s:s,s:s,s:s?,s:s,s:s,s:o}", "id", h->id, "ns", h->ns,
	    "key", h->key[0] != '\0' ? h->key : NULL, "reason", h->reason,
	    "created_by", h->created_by, "created",
	    core_time_json(h->created_us));
}

static cf_err
reason_ok(const char *reason, struct cf_error *err)
{
	size_t	n;

	n = reason != NULL ? strnlen(reason, CF_PRIV_REASON_MAX) : 0;
	if (n == 0 || n >= CF_PRIV_REASON_MAX)
		return cf_error_set(err, CF_E_INPUT, "a reason of 1-%d bytes "
		    "is required", CF_PRIV_REASON_MAX - 1);
	for (; *reason != '\0'; reason++)
		if ((unsigned char)*reason < 0x20 || *reason == 0x7f)
			return cf_error_set(err, CF_E_INPUT, "the reason must "
			    "be text without control characters");
	return CF_OK;
}

cf_err
cf_core_hold_set(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *reason, json_t **out, struct cf_error *err)
{
	struct cf_hold_rec	h;
	struct cf_ns_rec	nsr;
	struct core_act		act;
	char			res[CF_RESOURCE_MAX];
	cf_err			rc;

	if (key != NULL && key[0] == '\0')
		key = NULL;
	(void)snprintf(res, sizeof(res), "ns/%s%s%s", ns, key != NULL ?
	    "/obj/" : "", key != NULL ? key : "");
	/* SEC: the grant rule: a hold stops deletions, so setting or
	 * lifting one needs a human with MFA. */
	rc = core_authorize_grant(c, r, "hold:set", NULL, res, err);
	if (rc != CF_OK)
		return rc;
	if (!cf_name_ns_valid(ns))
		return cf_error_set(err, CF_E_INPUT, "invalid namespace name");
	if (key != NULL && !cf_name_key_valid(key, strlen(key)))
		return cf_error_set(err, CF_E_INPUT, "invalid object key");
	rc = reason_ok(reason, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_meta_ns_get(c->meta, ns, &nsr, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_namespace";
		return cf_error_set(err, CF_E_NOTFOUND, "no namespace \"%s\"",
		    ns);
	}
	if (rc != CF_OK)
		return rc;
	memset(&h, 0, sizeof(h));
	rc = new_id("hold-", h.id, sizeof(h.id), err);
	if (rc != CF_OK)
		return rc;
	cf_strlcpy(h.ns, ns, sizeof(h.ns));
	cf_strlcpy(h.key, key != NULL ? key : "", sizeof(h.key));
	cf_strlcpy(h.reason, reason, sizeof(h.reason));
	cf_strlcpy(h.created_by, r->principal.name, sizeof(h.created_by));
	h.created_us = core_now_us(c);
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_hold_insert(c->meta, &act.au, &h, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	*out = hold_json(&h);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_hold_rm(struct cf_core *c, struct cf_req *r, const char *id,
    json_t **out, struct cf_error *err)
{
	struct cf_hold_rec	h;
	struct core_act		act;
	char			res[CF_RESOURCE_MAX];
	cf_err			rc;

	(void)snprintf(res, sizeof(res), "hold/%s", id);
	rc = core_authorize_grant(c, r, "hold:rm", NULL, res, err);
	if (rc != CF_OK)
		return rc;
	if (strnlen(id, CF_HOLD_ID_LEN + 1) > CF_HOLD_ID_LEN) {
		r->errcode = "no_such_hold";
		return cf_error_set(err, CF_E_NOTFOUND, "no hold %.32s", id);
	}
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_hold_delete(c->meta, &act.au, id, &h, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_NOTFOUND)
		r->errcode = "no_such_hold";
	if (rc != CF_OK)
		return rc;
	*out = json_pack("{s:o}", "removed", hold_json(&h));
	return *out == NULL ? nomem(err) : CF_OK;
}

static cf_err
hold_list_cb(void *arg, const struct cf_hold_rec *h, struct cf_error *err)
{
	if (json_array_append_new(arg, hold_json(h)) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_hold_list(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	json_t	*arr;
	cf_err	 rc;

	rc = core_authorize(c, r, "hold:list", NULL, "holds", err);
	if (rc != CF_OK)
		return rc;
	arr = json_array();
	if (arr == NULL)
		return nomem(err);
	rc = cf_meta_hold_list(c->meta, hold_list_cb, arr, err);
	if (rc != CF_OK) {
		json_decref(arr);
		return rc;
	}
	*out = json_pack("{s:o}", "holds", arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_ns_set_retention(struct cf_core *c, struct cf_req *r, const char *ns,
    int64_t days, json_t **out, struct cf_error *err)
{
	struct core_act	act;
	char		res[CF_RESOURCE_MAX];
	cf_err		rc;

	(void)snprintf(res, sizeof(res), "ns/%s", ns);
	/* SEC: the grant rule: shortening retention lets data go. */
	/* Decided on the namespace (its env, sensitivity, labels) by a
	 * global role, as ns:set-sensitivity is. */
	rc = core_authorize_data(c, r, "ns:set-retention", NULL, ns, res, err);
	if (rc == CF_OK)
		rc = core_grant_check(c, r, err);
	if (rc != CF_OK)
		return rc;
	if (days < 0 || days > CF_RETAIN_DAYS_MAX)
		return cf_error_set(err, CF_E_INPUT, "retain_days must be "
		    "0-%d", CF_RETAIN_DAYS_MAX);
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_ns_set_retention(c->meta, &act.au, ns, days, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_namespace";
		return cf_error_set(err, CF_E_NOTFOUND, "no namespace \"%s\"",
		    ns);
	}
	if (rc != CF_OK)
		return rc;
	*out = json_pack("{s:s,s:I}", "name", ns, "retain_days",
	    (json_int_t)days);
	return *out == NULL ? nomem(err) : CF_OK;
}

static json_t *
items_json(const struct cf_erase_item *it, size_t n)
{
	json_t	*arr;
	size_t	 i;

	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,"
		    "s:I,s:s}", "ns", it[i].ns, "key", it[i].key, "version_id",
		    it[i].version_id, "sha256", it[i].sha256, "size",
		    (json_int_t)it[i].size, "why", it[i].why)) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

/* The signed certificate of erasure e of items (a new reference). */
static cf_err
certificate(struct cf_core *c, const struct cf_erasure_rec *e,
    const char *target, bool derived, const struct cf_erase_item *it,
    size_t n, json_t **out, struct cf_error *err)
{
	uint8_t	sig[CF_SIGN_SIG_LEN], pk[CF_SIGN_PK_LEN];
	char	sighex[CF_SIGN_SIG_LEN * 2 + 1], pkhex[CF_SIGN_PK_LEN * 2 + 1];
	json_t	*payload;
	cf_err	 rc;

	if (c->erase_seed == NULL)
		return cf_error_set(err, CF_E_INTERNAL,
		    "no certificate signing key");
	payload = json_pack("{s:s,s:s,s:o,s:I,s:s,s:s,s:s,s:s,s:b,s:o}",
	    "type", "coffer-erasure", "id", e->id, "erased_at",
	    core_time_json(e->at_us), "erased_at_us", (json_int_t)e->at_us,
	    "erased_by", e->by, "reason", e->reason, "request_id",
	    e->request_id, "target", target, "with_derived", derived,
	    "versions", items_json(it, n));
	if (payload == NULL)
		return nomem(err);
	rc = cf_sign_public(c->erase_seed, pk, err);
	if (rc == CF_OK)
		rc = cf_sign_doc(c->erase_seed, CF_ERASURE_CERT_CONTEXT,
		    payload, sig, err);
	if (rc != CF_OK) {
		json_decref(payload);
		return rc;
	}
	cf_hex_encode(sig, sizeof(sig), sighex);
	cf_hex_encode(pk, sizeof(pk), pkhex);
	*out = json_pack("{s:o,s:{s:s,s:s,s:s}}", "erasure", payload,
	    "signature", "alg", "Ed25519", "public_key", pkhex, "value",
	    sighex);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_erase(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *version_id, int64_t artnum,
    const char *reason, bool derived, bool dry_run, json_t **out,
    struct cf_error *err)
{
	struct cf_erase_item	*it = NULL;
	struct cf_erasure_rec	 e;
	struct core_act		 act;
	struct core_blobset	 segblobs = { NULL, 0, 0 };
	json_t			*cert = NULL;
	char			 res[CF_RESOURCE_MAX], target[1200];
	char			*certtext = NULL;
	size_t			 n = 0, i, gone = 0;
	cf_err			 rc;

	(void)snprintf(res, sizeof(res), "ns/%s/obj/%s", ns, key);
	/* SEC: the grant rule always, whoever the policies let erase: an
	 * erasure cannot be undone. */
	rc = core_authorize_grant(c, r, "privacy:erase", ns, res, err);
	if (rc != CF_OK)
		return rc;
	if (!cf_name_ns_valid(ns))
		return cf_error_set(err, CF_E_INPUT, "invalid namespace name");
	if (!cf_name_key_valid(key, strlen(key)))
		return cf_error_set(err, CF_E_INPUT, "invalid object key");
	if (!dry_run && (rc = reason_ok(reason, err)) != CF_OK)
		return rc;
	rc = cf_meta_erase_plan(c->meta, ns, key, version_id, artnum, derived,
	    ERASE_MAX, &it, &n, err);
	if (rc == CF_E_NOTFOUND)
		r->errcode = "no_such_key";
	if (rc == CF_E_CONFLICT)
		r->errcode = "already_erased";
	if (rc != CF_OK)
		goto out;
	if (dry_run) {
		*out = json_pack("{s:b,s:o}", "dry_run", 1, "versions",
		    items_json(it, n));
		if (*out == NULL)
			rc = nomem(err);
		goto out;
	}
	/* Every version reached, wherever lineage led. */
	for (i = 0; i < n; i++) {
		rc = core_privacy_guard(c, r, it[i].ns, it[i].key,
		    it[i].created_us, err);
		if (rc != CF_OK)
			goto out;
	}
	/* The blobs of segmented versions, known only until the erasure
	 * forgets them. */
	for (i = 0; i < n; i++) {
		rc = core_segs_blobs_by_id(c, it[i].version_id, &segblobs,
		    err);
		if (rc != CF_OK)
			goto out;
	}
	memset(&e, 0, sizeof(e));
	rc = new_id("erasure-", e.id, sizeof(e.id), err);
	if (rc != CF_OK)
		goto out;
	cf_strlcpy(e.by, r->principal.name, sizeof(e.by));
	e.at_us = core_now_us(c);
	cf_strlcpy(e.reason, reason, sizeof(e.reason));
	cf_strlcpy(e.request_id, r->request_id, sizeof(e.request_id));
	if (version_id != NULL)
		(void)snprintf(target, sizeof(target), "%s/%s@%s", ns, key,
		    version_id);
	else if (artnum > 0)
		(void)snprintf(target, sizeof(target), "%s/%s@%lld", ns, key,
		    (long long)artnum);
	else
		(void)snprintf(target, sizeof(target), "%s/%s", ns, key);
	/* Signed before the change, so that the certificate commits with
	 * it: it names this request's audit record. */
	rc = certificate(c, &e, target, derived, it, n, &cert, err);
	if (rc != CF_OK)
		goto out;
	certtext = cf_json_dumps_flags(cert, JSON_COMPACT | JSON_SORT_KEYS);
	if (certtext == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = core_act_begin(&act, c, r, 200, err);
	/* Test: a crash between the durable record and the commit must
	 * leave nothing erased. */
	act.crash_recorded = "erase_recorded";
	if (rc == CF_OK)
		rc = cf_meta_erase_apply(c->meta, &act.au, &e, it, n, certtext,
		    err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		goto out;
	core_test_crash(c, "erase_committed");
	/* The keys are gone; the blobs go now (or, after a crash, with
	 * the orphan sweep: no version names them any more). */
	for (i = 0; i < n; i++) {
		if (it[i].blob_id[0] == '\0')
			continue;
		if (cf_blob_delete(c->blobs, it[i].blob_id, NULL) != CF_OK)
			gone++;
		core_test_crash(c, "erase_blob_deleted");
	}
	/* A segment blob also named by a version not erased (none: copies
	 * are erased with their source) would stay. */
	gone += core_blobset_drop(&segblobs, c->meta, c->blobs);
	if (gone > 0)
		log_warnx("event=erase_blob_left erasure=%s blobs=%zu", e.id,
		    gone);
	*out = json_pack("{s:s,s:O,s:O}", "erasure_id", e.id, "versions",
	    json_object_get(json_object_get(cert, "erasure"), "versions"),
	    "certificate", cert);
	if (*out == NULL)
		rc = nomem(err);
out:
	core_blobset_free(&segblobs);
	json_decref(cert);
	cf_json_free(certtext);
	cf_free(it);
	return rc;
}

cf_err
cf_core_erasure_key(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	uint8_t	pk[CF_SIGN_PK_LEN];
	char	hex[CF_SIGN_PK_LEN * 2 + 1];
	cf_err	rc;

	rc = core_authorize_self(c, r, "privacy:key", "erasure-key", err);
	if (rc != CF_OK)
		return rc;
	if (c->erase_seed == NULL)
		return cf_error_set(err, CF_E_INTERNAL,
		    "no certificate signing key");
	rc = cf_sign_public(c->erase_seed, pk, err);
	if (rc != CF_OK)
		return rc;
	cf_hex_encode(pk, sizeof(pk), hex);
	*out = json_pack("{s:s,s:s}", "alg", "Ed25519", "public_key", hex);
	return *out == NULL ? nomem(err) : CF_OK;
}

/* src/core/ops_s3.c: S3 access keys and SigV4 authentication.
 *
 * An S3 access key belongs to a principal and is authenticated here, in
 * the reference monitor, like any other credential: the front end
 * (server/s3.c, server/sigv4.c) only parses the request and builds the
 * string to sign; the secret, the HMAC and the comparison stay in core.
 *
 * SEC: SigV4 is an HMAC keyed by the secret itself, so the server needs
 * the secret, not a hash of it.  Each secret is the text of 30 bytes of
 * a random 256-bit key; the key is stored only wrapped by the keyring's
 * active KEK (AES-256-GCM) with "s3key:ID:PRINCIPAL_ID" as associated
 * data, so a database copy alone reveals nothing and a wrapped key moved
 * to another row (another id or principal) fails to unwrap.
 * docs/internals/CRYPTO.md, "S3 access keys". */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/core_int.h"
#include "crypto/totp.h"

#define S3KEY_PREFIX	"CFAK"
#define S3KEY_RAND	10	/* bytes: 16 base32 characters */
#define S3_SECRET_RAW	30	/* bytes of the key: 40 characters */
#define S3_SECRET_LEN	40

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

void
core_s3key_ad(const char *id, int64_t pid, char *out, size_t outsz)
{
	(void)snprintf(out, outsz, "s3key:%s:%lld", id, (long long)pid);
}

/* The secret text of key k (S3_SECRET_LEN characters + NUL). */
static void
secret_text(const struct cf_key *k, char out[S3_SECRET_LEN + 1])
{
	cf_b64url_encode(cf_key_bytes(k), S3_SECRET_RAW, out);
}

cf_err
cf_s3_signing_key(const char *secret, size_t slen, const char *date,
    const char *region, const char *service, uint8_t out[32],
    struct cf_error *err)
{
	uint8_t	k[32], buf[4 + 128];
	cf_err	rc;

	if (slen > sizeof(buf) - 4)
		return cf_error_set(err, CF_E_INPUT, "secret too long");
	memcpy(buf, "AWS4", 4);
	memcpy(buf + 4, secret, slen);
	rc = cf_hmac_sha256_raw(buf, 4 + slen, date, strlen(date), k, err);
	if (rc == CF_OK)
		rc = cf_hmac_sha256_raw(k, sizeof(k), region, strlen(region), k,
		    err);
	if (rc == CF_OK)
		rc = cf_hmac_sha256_raw(k, sizeof(k), service, strlen(service),
		    k, err);
	if (rc == CF_OK)
		rc = cf_hmac_sha256_raw(k, sizeof(k), "aws4_request", 12, out,
		    err);
	cf_wipe(buf, sizeof(buf));
	cf_wipe(k, sizeof(k));
	return rc;
}

/* The key of rec, unwrapped; the caller frees it. */
static cf_err
s3key_unwrap(struct cf_core *c, const struct cf_s3key_rec *rec,
    struct cf_key **key, struct cf_error *err)
{
	char	ad[64];
	cf_err	rc;

	core_s3key_ad(rec->id, rec->principal_id, ad, sizeof(ad));
	(void)pthread_mutex_lock(&c->kr_lock);
	rc = cf_keyprov_unwrap(c->kp, rec->kek_id, ad, strlen(ad),
	    rec->wrapped, key, err);
	(void)pthread_mutex_unlock(&c->kr_lock);
	return rc;
}

/* SEC: the key's state and its principal's, as they are now, in one
 * read scope; *ok false (r->authn says why) for a key that must not
 * work. */
static cf_err
s3key_state(struct cf_core *c, struct cf_req *r,
    const struct cf_s3key_rec *rec, bool *ok, struct cf_error *err)
{
	*ok = false;
	if (rec->revoked_us != 0) {
		r->authn = "revoked-s3-key";
		return CF_OK;
	}
	if (rec->expires_us != 0 && rec->expires_us <= core_now_us(c)) {
		r->authn = "expired-s3-key";
		return CF_OK;
	}
	return core_authn_principal(c, r, rec->principal_id, ok, err);
}

static void
authn_reset(struct cf_req *r)
{
	r->authenticated = false;
	r->nbindings = 0;
	r->mfa = false;
	r->mfa_age = -1;
	r->interactive = false;
	r->scope[0] = '\0';
	r->token_id[0] = '\0';
	r->s3_key_id[0] = '\0';
}

struct cf_s3_chain {
	struct cf_key	*skey;		/* the signing key */
	char		 amz_date[17];
	char		 scope[96];	/* DATE/REGION/SERVICE/aws4_request */
	char		 prev[65];
};

void
cf_s3_chain_free(struct cf_s3_chain *ch)
{
	if (ch == NULL)
		return;
	cf_key_free(ch->skey);
	cf_wipe(ch, sizeof(*ch));
	cf_free(ch);
}

bool
cf_s3_chain_next(struct cf_s3_chain *ch, bool trailer, const uint8_t hash[32],
    const char *sig)
{
	char	sts[512], hx[65];
	uint8_t	mac[32], want[32];
	bool	ok;

	if (sig == NULL || strlen(sig) != 64 ||
	    cf_hex_decode(sig, 64, want, sizeof(want), NULL) != CF_OK)
		return false;
	cf_hex_encode(hash, 32, hx);
	(void)snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256-%s\n%s\n%s\n%s\n"
	    "%s%s", trailer ? "TRAILER" : "PAYLOAD", ch->amz_date, ch->scope,
	    ch->prev, trailer ? "" : "e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
	    "649b934ca495991b7852b855\n", hx);
	if (cf_hmac_sha256_raw(cf_key_bytes(ch->skey), CF_KEY_LEN, sts,
	    strlen(sts), mac, NULL) != CF_OK)
		return false;
	/* SEC: constant time, over fixed-size MACs. */
	ok = cf_ct_equal(mac, want, sizeof(mac));
	if (ok)
		cf_strlcpy(ch->prev, sig, sizeof(ch->prev));
	cf_wipe(mac, sizeof(mac));
	return ok;
}

cf_err
cf_s3_chain_new(const struct cf_s3_auth *a, const uint8_t skey[32],
    struct cf_s3_chain **out, struct cf_error *err)
{
	struct cf_s3_chain	*ch;
	cf_err			 rc;

	if (a->amz_date == NULL || strlen(a->amz_date) >= sizeof(ch->amz_date))
		return cf_error_set(err, CF_E_INPUT, "no X-Amz-Date");
	ch = cf_calloc(1, sizeof(*ch));
	if (ch == NULL)
		return nomem(err);
	rc = cf_key_from_bytes(skey, &ch->skey, err);
	if (rc != CF_OK) {
		cf_free(ch);
		return rc;
	}
	cf_strlcpy(ch->amz_date, a->amz_date, sizeof(ch->amz_date));
	(void)snprintf(ch->scope, sizeof(ch->scope), "%s/%s/%s/aws4_request",
	    a->date, a->region, a->service);
	cf_strlcpy(ch->prev, a->signature, sizeof(ch->prev));
	*out = ch;
	return CF_OK;
}

cf_err
cf_core_s3_authenticate(struct cf_core *c, struct cf_req *r,
    const struct cf_s3_auth *a, enum cf_s3_authn *res, struct cf_error *err)
{
	struct cf_s3key_rec	 rec;
	struct cf_key		*key = NULL;
	char			 secret[S3_SECRET_LEN + 1];
	uint8_t			 skey[32], mac[32], want[32];
	int64_t			 now;
	bool			 ok = false, scope = false;
	cf_err			 rc;

	authn_reset(r);
	*res = CF_S3_AUTHN_UNKNOWN_KEY;
	r->authn = "bad-s3-key";
	memset(&rec, 0, sizeof(rec));
	if (a->key_id == NULL ||
	    strlen(a->key_id) != CF_S3_KEY_ID_LEN)
		return CF_OK;
	rc = cf_meta_scope_begin(c->meta, err);
	if (rc != CF_OK)
		return rc;
	scope = true;
	rc = cf_meta_s3key_get(c->meta, a->key_id, &rec, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = CF_OK;
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	*res = CF_S3_AUTHN_BAD_SIGNATURE;
	r->authn = "bad-s3-signature";
	if (a->signature == NULL || strlen(a->signature) != 64 ||
	    cf_hex_decode(a->signature, 64, want, sizeof(want), NULL) !=
	    CF_OK)
		goto out;
	rc = s3key_unwrap(c, &rec, &key, err);
	if (rc != CF_OK)
		goto out;
	secret_text(key, secret);
	rc = cf_s3_signing_key(secret, S3_SECRET_LEN, a->date, a->region,
	    a->service, skey, err);
	if (rc == CF_OK)
		rc = cf_hmac_sha256_raw(skey, sizeof(skey), a->string_to_sign,
		    strlen(a->string_to_sign), mac, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: constant time, over fixed-size MACs. */
	if (!cf_ct_equal(mac, want, sizeof(mac)))
		goto out;
	*res = CF_S3_AUTHN_INACTIVE;
	rc = s3key_state(c, r, &rec, &ok, err);
	if (rc != CF_OK || !ok)
		goto out;
	now = core_now_us(c) / 1000000;
	if (a->expires < 0) {
		if (a->signed_at < now - CF_S3_SKEW_S ||
		    a->signed_at > now + CF_S3_SKEW_S) {
			*res = CF_S3_AUTHN_SKEWED;
			r->authn = "s3-clock-skew";
			goto out;
		}
	} else if (a->signed_at > now + CF_S3_SKEW_S ||
	    a->expires > CF_S3_PRESIGN_MAX_S ||
	    now > a->signed_at + a->expires) {
		*res = CF_S3_AUTHN_EXPIRED;
		r->authn = "expired-s3-presign";
		goto out;
	}
	if (a->chain != NULL &&
	    (rc = cf_s3_chain_new(a, skey, a->chain, err)) != CF_OK)
		goto out;
	*res = CF_S3_AUTHN_OK;
	r->authn = a->expires < 0 ? "s3-sigv4" : "s3-presigned";
	r->authenticated = true;
	cf_strlcpy(r->s3_key_id, rec.id, sizeof(r->s3_key_id));
out:
	if (scope)
		cf_meta_scope_end(c->meta);
	if (*res != CF_S3_AUTHN_OK) {
		const char *why = r->authn;

		authn_reset(r);
		r->authn = why;
	}
	if (rc != CF_OK) {
		authn_reset(r);
		r->authn = "error";
	}
	cf_key_free(key);
	cf_wipe(secret, sizeof(secret));
	cf_wipe(skey, sizeof(skey));
	cf_wipe(&rec, sizeof(rec));
	return rc;
}

cf_err
core_s3_reauth(struct cf_core *c, struct cf_req *r, struct cf_error *err)
{
	struct cf_s3key_rec	rec;
	char			id[CF_S3_KEY_ID_LEN + 1];
	const char		*how = r->authn;
	bool			ok = false;
	cf_err			rc;

	cf_strlcpy(id, r->s3_key_id, sizeof(id));
	authn_reset(r);
	r->authn = "bad-s3-key";
	rc = cf_meta_scope_begin(c->meta, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_meta_s3key_get(c->meta, id, &rec, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = CF_OK;
	} else if (rc == CF_OK)
		rc = s3key_state(c, r, &rec, &ok, err);
	cf_meta_scope_end(c->meta);
	cf_wipe(&rec, sizeof(rec));
	if (rc == CF_OK && ok) {
		r->authenticated = true;
		r->authn = how;
		cf_strlcpy(r->s3_key_id, id, sizeof(r->s3_key_id));
	} else if (rc != CF_OK) {
		authn_reset(r);
		r->authn = "error";
	}
	return rc;
}

/* ---- key management ---- */

/* The caller itself, or a service account it owns. */
static bool
owns(const struct cf_req *r, const struct cf_principal_rec *p)
{
	return p->id == r->principal.id || (strcmp(p->kind, "service") == 0 &&
	    p->owner_id == r->principal.id);
}

static cf_err
new_key_id(char id[CF_S3_KEY_ID_LEN + 1], struct cf_error *err)
{
	uint8_t	raw[S3KEY_RAND];
	char	b32[32];
	cf_err	rc;

	rc = cf_random(raw, sizeof(raw), err);
	if (rc == CF_OK)
		rc = cf_totp_b32_encode(raw, sizeof(raw), b32, sizeof(b32),
		    err);
	if (rc == CF_OK)
		(void)snprintf(id, CF_S3_KEY_ID_LEN + 1, "%s%.16s",
		    S3KEY_PREFIX, b32);
	return rc;
}

cf_err
cf_core_s3key_create(struct cf_core *c, struct cf_req *r,
    const char *principal, uint64_t expires_in, const char *description,
    json_t **out, struct cf_error *err)
{
	struct cf_principal_rec	 p;
	struct cf_s3key_rec	 rec;
	struct cf_key		*key = NULL;
	struct core_act		 act;
	char			 res[CF_RESOURCE_MAX], ad[64];
	char			 secret[S3_SECRET_LEN + 1];
	bool			 self_mint = false, kek_held = false;
	cf_err			 rc;

	memset(&rec, 0, sizeof(rec));
	secret[0] = '\0';
	if (principal == NULL && r->authenticated)
		principal = r->principal.name;
	(void)snprintf(res, sizeof(res), "principal/%s/s3-keys",
	    principal != NULL ? principal : "");
	if (!r->authenticated)
		return core_authorize(c, r, "s3key:create", NULL, res, err);
	rc = cf_meta_principal_get(c->meta, principal, &p, err);
	if (rc == CF_OK && owns(r, &p)) {
		self_mint = true;
		rc = core_authorize_self(c, r, "s3key:create", res, err);
		if (rc == CF_OK && p.id != r->principal.id)
			cf_strlcpy(r->reasons, "owner", sizeof(r->reasons));
	} else {
		/* SEC: non-admins learn nothing about who exists. */
		cf_error_clear(err);
		rc = core_authorize_grant(c, r, "s3key:create", NULL, res,
		    err);
		if (rc == CF_OK)
			rc = cf_meta_principal_get(c->meta, principal, &p, err);
	}
	if (rc != CF_OK)
		return rc;
	/* SEC: as for API tokens: a short-lived token mints no permanent
	 * key, and a session without MFA mints none for an admin. */
	if (self_mint && (rc = core_mint_limit(c, r, expires_in, err)) != CF_OK)
		return rc;
	if (self_mint && (rc = core_self_mint_mfa(c, r, &p, err)) != CF_OK)
		return rc;
	if (description != NULL && strlen(description) >= CF_DESC_MAX)
		return cf_error_set(err, CF_E_INPUT,
		    "description longer than %d bytes", CF_DESC_MAX - 1);
	if (expires_in > 10ULL * 365 * 86400)
		return cf_error_set(err, CF_E_INPUT,
		    "expires_in longer than ten years");
	rec.principal_id = p.id;
	rec.created_us = cf_now_us();
	rec.expires_us = expires_in != 0 ?
	    rec.created_us + (int64_t)expires_in * 1000000 : 0;
	cf_strlcpy(rec.description, description != NULL ? description : "",
	    sizeof(rec.description));
	rc = new_key_id(rec.id, err);
	if (rc == CF_OK)
		rc = cf_key_new_random(&key, err);
	if (rc != CF_OK)
		goto out;
	core_s3key_ad(rec.id, rec.principal_id, ad, sizeof(ad));
	/* SEC: from the wrap to the row, no KEK may be retired (keys.c). */
	(void)pthread_rwlock_rdlock(&c->kek_lock);
	kek_held = true;
	(void)pthread_mutex_lock(&c->kr_lock);
	rc = cf_keyprov_wrap(c->kp, key, ad, strlen(ad), rec.kek_id,
	    rec.wrapped, err);
	(void)pthread_mutex_unlock(&c->kr_lock);
	if (rc != CF_OK)
		goto out;
	secret_text(key, secret);
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_s3key_insert(c->meta, &act.au, &rec, err);
	rc = core_act_end(&act, rc);
	(void)pthread_rwlock_unlock(&c->kek_lock);
	kek_held = false;
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s,s:s,s:s,s:o,s:s}", "access_key_id", rec.id,
	    "secret_access_key", secret, "principal", p.name, "expires",
	    core_time_json(rec.expires_us), "description", rec.description);
	if (*out == NULL)
		rc = nomem(err);
out:
	if (kek_held)
		(void)pthread_rwlock_unlock(&c->kek_lock);
	cf_key_free(key);
	cf_wipe(secret, sizeof(secret));
	cf_wipe(&rec, sizeof(rec));
	return rc;
}

struct s3key_list_ctx {
	struct cf_core	*c;
	json_t		*arr;
	int64_t		 now_us;
};

static cf_err
s3key_list_cb(void *arg, const struct cf_s3key_rec *k, struct cf_error *err)
{
	struct s3key_list_ctx	*x = arg;
	struct cf_principal_rec	 p;
	const char		*state = "active";
	json_t			*j;

	if (cf_meta_principal_get_id(x->c->meta, k->principal_id, &p, NULL) !=
	    CF_OK)
		cf_strlcpy(p.name, "?", sizeof(p.name));
	if (k->revoked_us != 0)
		state = "revoked";
	else if (k->expires_us != 0 && k->expires_us <= x->now_us)
		state = "expired";
	j = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:s}", "access_key_id", k->id,
	    "principal", p.name, "description", k->description, "created",
	    core_time_json(k->created_us), "expires",
	    core_time_json(k->expires_us), "revoked",
	    core_time_json(k->revoked_us), "state", state);
	if (j == NULL || json_array_append_new(x->arr, j) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_s3key_list(struct cf_core *c, struct cf_req *r, const char *principal,
    json_t **out, struct cf_error *err)
{
	struct s3key_list_ctx	x;
	struct cf_principal_rec	p;
	int64_t			pid = -1;
	cf_err			rc;

	if (!r->authenticated)
		return core_authorize(c, r, "s3key:list", NULL, "s3-keys", err);
	if (core_can(c, r, "s3key:list", NULL)) {
		rc = core_authorize(c, r, "s3key:list", NULL, "s3-keys", err);
		if (rc != CF_OK)
			return rc;
		if (principal != NULL) {
			rc = cf_meta_principal_get(c->meta, principal, &p, err);
			if (rc != CF_OK)
				return rc;
			pid = p.id;
		}
	} else {
		pid = r->principal.id;
		if (principal != NULL &&
		    strcmp(principal, r->principal.name) != 0) {
			rc = cf_meta_principal_get(c->meta, principal, &p, err);
			if (rc == CF_E_NOTFOUND) {
				cf_error_clear(err);
				rc = CF_OK;
				p.id = -1;
			}
			if (rc != CF_OK)
				return rc;
			/* SEC: others learn nothing about who exists. */
			if (p.id < 0 || !owns(r, &p))
				return core_authorize(c, r, "s3key:list", NULL,
				    "s3-keys", err);
			pid = p.id;
		}
		rc = core_authorize_self(c, r, "s3key:list", "s3-keys", err);
		if (rc != CF_OK)
			return rc;
	}
	x.c = c;
	x.now_us = core_now_us(c);
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_s3key_list(c->meta, pid, s3key_list_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "s3_keys", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_s3key_revoke(struct cf_core *c, struct cf_req *r, const char *id,
    json_t **out, struct cf_error *err)
{
	struct cf_s3key_rec	k;
	struct cf_principal_rec	p;
	struct core_act		act;
	char			res[CF_RESOURCE_MAX];
	bool			own = false;
	cf_err			rc;

	memset(&k, 0, sizeof(k));
	(void)snprintf(res, sizeof(res), "s3-key/%s", id);
	if (!r->authenticated)
		return core_authorize(c, r, "s3key:revoke", NULL, res, err);
	rc = cf_meta_s3key_get(c->meta, id, &k, err);
	if (rc == CF_E_INPUT)
		rc = CF_E_NOTFOUND;
	if (rc == CF_E_NOTFOUND && !core_can(c, r, "s3key:revoke", NULL)) {
		/* SEC: non-admins learn nothing about others' keys. */
		cf_error_clear(err);
		return core_authorize(c, r, "s3key:revoke", NULL, res, err);
	}
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = core_authorize(c, r, "s3key:revoke", NULL, res, err);
		if (rc == CF_OK) {
			r->errcode = "no_such_s3_key";
			rc = cf_error_set(err, CF_E_NOTFOUND,
			    "no S3 key \"%s\"", id);
		}
		return rc;
	}
	if (rc != CF_OK)
		return rc;
	cf_wipe(k.wrapped, sizeof(k.wrapped));
	rc = cf_meta_principal_get_id(c->meta, k.principal_id, &p, err);
	if (rc == CF_OK)
		own = owns(r, &p);
	else if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = CF_OK;
	}
	if (rc != CF_OK)
		return rc;
	if (own && !core_can(c, r, "s3key:revoke", NULL))
		rc = core_authorize_self(c, r, "s3key:revoke", res, err);
	else
		rc = core_authorize(c, r, "s3key:revoke", NULL, res, err);
	if (rc != CF_OK)
		return rc;
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_s3key_revoke(c->meta, &act.au, id, cf_now_us(),
		    err);
	rc = core_act_end(&act, rc);
	if (rc == CF_OK)
		rc = cf_meta_s3key_get(c->meta, id, &k, err);
	if (rc != CF_OK)
		return rc;
	cf_wipe(k.wrapped, sizeof(k.wrapped));
	*out = json_pack("{s:s,s:o}", "access_key_id", id, "revoked",
	    core_time_json(k.revoked_us));
	return *out == NULL ? nomem(err) : CF_OK;
}

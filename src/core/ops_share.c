/* src/core/ops_share.c: share links (docs/sharing.md).
 *
 * A link is a capability for one object version: a 256-bit random token
 * of which only the SHA-256 is stored.  It is made by a principal allowed
 * both object:get and object:share on the object (object:share is in no
 * role: the built-in policy share-default allows it below restricted and
 * without a pii label, stored policies may allow more), and bounded by a
 * lifetime (at most share_max_lifetime_<sensitivity>), a number of
 * downloads, an address prefix and a password.
 *
 * SEC: a link never outlives its creator's access.  Every download
 * decides again, now, whether the policies let the creator read and
 * share the version (the creator's current bindings, a disabled creator
 * or owner refuses), so revoking the creator's role or disabling the
 * creator kills every link they made.  The guard rails of credentials
 * (token scope, MFA) were the creator's credential's, at creation; the
 * download has no credential of the creator to check them on.
 *
 * SEC: the download route needs no credential, so the token is all an
 * attacker can guess: failed lookups and wrong passwords are counted per
 * source address (and per link), refused past share_guess_limit for
 * share_guess_lock_seconds, and recorded like every refusal. */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/actions.h"
#include "core/core_int.h"
#include "crypto/password.h"
#include "policy/policy.h"

#define SHARE_PREFIX		"cfl_"
#define SHARE_RAW_LEN		32	/* 256-bit secret */
#define SHARE_TOKEN_LEN		(4 + 2 * SHARE_RAW_LEN)
#define SHARE_PW_MIN		8	/* bytes of a link password */
#define SHARE_DL_MAX		1000000000LL

static const char *const levels[] = { "public", "internal", "confidential",
    "restricted" };

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

static int
level_of(const char *sens)
{
	int	i;

	for (i = 0; i < 4; i++)
		if (strcmp(sens, levels[i]) == 0)
			return i;
	return 3;	/* unknown: the strictest */
}

/* out = a b c, cut to outsz (a record's text may be cut; never
 * unterminated). */
static void
join3(char *out, size_t outsz, const char *a, const char *b, const char *c)
{
	cf_strlcpy(out, a, outsz);
	(void)cf_strlcat(out, b, outsz);
	(void)cf_strlcat(out, c, outsz);
}

static void
obj_res(char *out, size_t outsz, const char *ns, const char *key)
{
	(void)snprintf(out, outsz, "ns/%s/obj/%s", ns, key);
}

/* Nothing in a recipient note may be a control character (it is shown
 * in listings and records). */
static bool
recipient_ok(const char *s)
{
	size_t	n = strlen(s);

	if (n >= CF_SHARE_RECIPIENT_MAX || !cf_utf8_valid(s, n))
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static json_t *
share_json(const struct cf_share_rec *s, int64_t now)
{
	const char	*state = "active";

	if (s->revoked_us != 0)
		state = "revoked";
	else if (s->expires_us <= now)
		state = "expired";
	else if (s->max_downloads > 0 && s->downloads >= s->max_downloads)
		state = "used_up";
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:I,s:s,s:b,s:s,"
	    "s:o,s:s}", "id", s->id, "ns", s->ns, "key", s->key, "version_id",
	    s->version_id, "creator", s->creator, "created",
	    core_time_json(s->created_us), "expires",
	    core_time_json(s->expires_us), "max_downloads",
	    (json_int_t)s->max_downloads, "downloads",
	    (json_int_t)s->downloads, "allow_ip", s->allow_cidr, "password",
	    s->pwhash[0] != '\0', "recipient", s->recipient, "revoked",
	    core_time_json(s->revoked_us), "state", state);
}

/* The link's checks that need no store write: its parameters. */
static cf_err
params_check(struct cf_core *c, struct cf_req *r,
    const struct cf_share_params *p, int level, int64_t *life,
    struct cf_error *err)
{
	int64_t	max = c->cfg.share_max_lifetime[level];

	if (max <= 0)
		max = 86400;
	*life = p->expires_in != 0 ? (int64_t)(p->expires_in > (uint64_t)
	    INT64_MAX / 1000000 ? INT64_MAX / 1000000 : p->expires_in) :
	    c->cfg.share_default_lifetime;
	if (*life <= 0)
		*life = 86400;
	if (p->expires_in == 0 && *life > max)
		*life = max;	/* the default, cut to the level's maximum */
	if (*life > max) {
		r->errcode = "lifetime_too_long";
		return cf_error_set(err, CF_E_INPUT, "a share link of %s data "
		    "lives at most %lld s (share_max_lifetime_%s)",
		    levels[level], (long long)max, levels[level]);
	}
	if (p->max_downloads < 0 || p->max_downloads > SHARE_DL_MAX) {
		r->errcode = "invalid_max_downloads";
		return cf_error_set(err, CF_E_INPUT, "max_downloads must be "
		    "0 (no limit) to %lld", (long long)SHARE_DL_MAX);
	}
	if (p->allow_ip != NULL && (strlen(p->allow_ip) >= CF_SHARE_CIDR_MAX ||
	    cf_policy_ip_in_range(p->allow_ip, p->allow_ip) < 0)) {
		r->errcode = "invalid_cidr";
		return cf_error_set(err, CF_E_INPUT, "allow_ip must be an "
		    "address or a prefix such as 192.0.2.0/24");
	}
	if (p->password != NULL && (p->pwlen < SHARE_PW_MIN ||
	    p->pwlen > CF_PASSWORD_MAX ||
	    memchr(p->password, '\0', p->pwlen) != NULL)) {
		r->errcode = "invalid_password";
		return cf_error_set(err, CF_E_INPUT, "a link password has %d "
		    "to %d bytes, without NUL", SHARE_PW_MIN, CF_PASSWORD_MAX);
	}
	if (p->recipient != NULL && !recipient_ok(p->recipient)) {
		r->errcode = "invalid_recipient";
		return cf_error_set(err, CF_E_INPUT, "recipient: at most %d "
		    "bytes of printable UTF-8", CF_SHARE_RECIPIENT_MAX - 1);
	}
	return CF_OK;
}

cf_err
cf_core_share_create(struct cf_core *c, struct cf_req *r,
    const struct cf_share_params *p, json_t **out, struct cf_error *err)
{
	struct cf_share_rec	*s = NULL;
	struct cf_version_rec	*v = NULL;
	struct cf_ns_rec	 nsr;
	struct cf_pwhash_params	 pwp;
	struct core_act		 act;
	json_t			*j = NULL;
	char			 res[CF_RESOURCE_MAX], reasons[CF_REASONS_MAX];
	char			 token[SHARE_TOKEN_LEN + 1], path[128];
	uint8_t			 raw[SHARE_RAW_LEN], idb[CF_SHARE_ID_LEN / 2];
	int64_t			 now = core_now_us(c), life = 0;
	cf_err			 rc, vrc;

	memset(token, 0, sizeof(token));
	obj_res(res, sizeof(res), p->ns, p->key);
	s = cf_calloc(1, sizeof(*s));
	v = cf_calloc(1, sizeof(*v));
	if (s == NULL || v == NULL) {
		rc = nomem(err);
		goto out;
	}
	/* The version a link names is fixed now (the latest, or the one
	 * asked for); the read decision sees it (resource.version). */
	vrc = cf_meta_version_get(c->meta, p->ns, p->key, p->version_id, v,
	    NULL);
	if (vrc == CF_OK && !v->delete_marker) {
		cf_strlcpy(r->version_id, v->version_id, sizeof(r->version_id));
		cf_strlcpy(r->version_sha256, v->sha256,
		    sizeof(r->version_sha256));
		cf_strlcpy(r->version_by, v->created_by,
		    sizeof(r->version_by));
	}
	/* SEC: the creator must be allowed to read the version, then to
	 * share it: both decided, the record is the share's. */
	rc = core_authorize(c, r, "object:get", p->ns, res, err);
	if (rc != CF_OK) {
		join3(reasons, sizeof(reasons), "read: ", r->reasons, "");
		cf_strlcpy(r->reasons, reasons, sizeof(r->reasons));
		r->action = "object:share";
		r->decided = false;
		goto out;
	}
	rc = core_authorize(c, r, "object:share", p->ns, res, err);
	if (rc != CF_OK)
		goto out;
	if (!cf_name_ns_valid(p->ns) ||
	    !cf_name_key_valid(p->key, strlen(p->key))) {
		r->errcode = "invalid_name";
		rc = cf_error_set(err, CF_E_INPUT, "invalid namespace or key");
		goto out;
	}
	rc = cf_meta_ns_get(c->meta, p->ns, &nsr, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_namespace";
		rc = cf_error_set(err, CF_E_NOTFOUND, "no namespace \"%s\"",
		    p->ns);
	}
	if (rc != CF_OK)
		goto out;
	if (vrc != CF_OK || v->delete_marker) {
		r->errcode = p->version_id != NULL ? "no_such_version" :
		    "no_such_key";
		rc = vrc != CF_OK && vrc != CF_E_NOTFOUND ?
		    cf_error_set(err, vrc, "version lookup failed") :
		    cf_error_set(err, CF_E_NOTFOUND, "no such object version "
		    "of \"%s\"", p->key);
		goto out;
	}
	rc = params_check(c, r, p, level_of(nsr.sensitivity), &life, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_random(raw, sizeof(raw), err);
	if (rc == CF_OK)
		rc = cf_random(idb, sizeof(idb), err);
	if (rc != CF_OK)
		goto out;
	memcpy(token, SHARE_PREFIX, 4);
	cf_hex_encode(raw, sizeof(raw), token + 4);
	cf_hex_encode(idb, sizeof(idb), s->id);
	cf_sha256(token, strlen(token), s->hash);
	cf_strlcpy(s->ns, p->ns, sizeof(s->ns));
	cf_strlcpy(s->key, p->key, sizeof(s->key));
	cf_strlcpy(s->version_id, v->version_id, sizeof(s->version_id));
	cf_strlcpy(s->sensitivity, nsr.sensitivity, sizeof(s->sensitivity));
	s->creator_id = r->principal.id;
	cf_strlcpy(s->creator, r->principal.name, sizeof(s->creator));
	s->created_us = now;
	s->expires_us = now + life * 1000000;
	s->max_downloads = p->max_downloads;
	if (p->allow_ip != NULL)
		cf_strlcpy(s->allow_cidr, p->allow_ip, sizeof(s->allow_cidr));
	if (p->recipient != NULL)
		cf_strlcpy(s->recipient, p->recipient, sizeof(s->recipient));
	if (p->password != NULL) {
		core_pw_params(c, &pwp);
		rc = cf_password_hash(p->password, p->pwlen, &pwp, s->pwhash,
		    err);
		if (rc != CF_OK)
			goto out;
	}
	join3(r->resource, sizeof(r->resource), "share/", s->id, "/");
	(void)cf_strlcat(r->resource, res, sizeof(r->resource));
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_share_insert(c->meta, &act.au, s, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		goto out;
	(void)snprintf(path, sizeof(path), "/v1/share/%s", token);
	j = share_json(s, now);
	if (j == NULL || json_object_set_new(j, "token",
	    json_string(token)) != 0 || json_object_set_new(j, "path",
	    json_string(path)) != 0) {
		rc = nomem(err);
		goto out;
	}
	if (c->cfg.share_url_base != NULL && c->cfg.share_url_base[0] != '\0') {
		char url[1024];

		(void)snprintf(url, sizeof(url), "%s%s",
		    c->cfg.share_url_base, path);
		if (json_object_set_new(j, "url", json_string(url)) != 0)
			rc = nomem(err);
		cf_wipe(url, sizeof(url));
	}
	cf_wipe(path, sizeof(path));
	if (rc == CF_OK) {
		*out = j;
		j = NULL;
	}
out:
	json_decref(j);
	cf_wipe(raw, sizeof(raw));
	cf_wipe(token, sizeof(token));
	if (s != NULL)
		cf_wipe(s, sizeof(*s));
	cf_free(s);
	cf_free(v);
	return rc;
}

struct list_ctx {
	json_t	*arr;
	int64_t	 now;
};

static cf_err
list_cb(void *arg, const struct cf_share_rec *s, struct cf_error *err)
{
	struct list_ctx	*x = arg;

	if (json_array_append_new(x->arr, share_json(s, x->now)) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_share_list(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	struct list_ctx	x;
	int64_t		creator = -1;
	cf_err		rc;

	if (!r->authenticated)
		return core_authorize(c, r, "share:list", NULL, "shares", err);
	if (core_can(c, r, "share:list", NULL))
		rc = core_authorize(c, r, "share:list", NULL, "shares", err);
	else {
		/* Everyone may list the links they made. */
		creator = r->principal.id;
		rc = core_authorize_self(c, r, "share:list", "shares", err);
	}
	if (rc != CF_OK)
		return rc;
	x.arr = json_array();
	x.now = core_now_us(c);
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_share_list(c->meta, creator, list_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "shares", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_share_revoke(struct cf_core *c, struct cf_req *r, const char *id,
    json_t **out, struct cf_error *err)
{
	struct cf_share_rec	*s = NULL;
	struct core_act		 act;
	char			 res[CF_RESOURCE_MAX];
	cf_err			 rc;

	(void)snprintf(res, sizeof(res), "share/%s", id);
	if (!r->authenticated)
		return core_authorize(c, r, "share:revoke", NULL, res, err);
	s = cf_calloc(1, sizeof(*s));
	if (s == NULL)
		return nomem(err);
	rc = cf_meta_share_get(c->meta, id, s, err);
	if ((rc == CF_E_NOTFOUND || rc == CF_E_INPUT) &&
	    !core_can(c, r, "share:revoke", NULL)) {
		/* SEC: others learn nothing about link ids. */
		cf_error_clear(err);
		rc = core_authorize(c, r, "share:revoke", NULL, res, err);
		goto out;
	}
	if (rc == CF_E_NOTFOUND || rc == CF_E_INPUT) {
		cf_error_clear(err);
		rc = core_authorize(c, r, "share:revoke", NULL, res, err);
		if (rc == CF_OK) {
			r->errcode = "no_such_link";
			rc = cf_error_set(err, CF_E_NOTFOUND, "no share link "
			    "%s", id);
		}
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	if (s->creator_id == r->principal.id)
		rc = core_authorize_self(c, r, "share:revoke", res, err);
	else
		rc = core_authorize(c, r, "share:revoke", NULL, res, err);
	if (rc != CF_OK)
		goto out;
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_share_revoke(c->meta, &act.au, id, core_now_us(c),
		    err);
	rc = core_act_end(&act, rc);
	if (rc == CF_OK)
		rc = cf_meta_share_get(c->meta, id, s, err);
	if (rc != CF_OK)
		goto out;
	*out = share_json(s, core_now_us(c));
	if (*out == NULL)
		rc = nomem(err);
out:
	if (s != NULL)
		cf_wipe(s, sizeof(*s));
	cf_free(s);
	return rc;
}

/* ---- downloads ---- */

/* A refusal of a download: the decision (denied), the reason for the
 * record, the API error. */
static cf_err
dl_refuse(struct cf_req *r, cf_err code, const char *errcode,
    const char *reason, struct cf_error *err, const char *msg)
{
	r->allowed = false;
	r->errcode = errcode;
	cf_strlcpy(r->reasons, reason, sizeof(r->reasons));
	return cf_error_set(err, code, "%s", msg);
}

/* Is key (an address's or a link's) refused for too many failures? */
static cf_err
guess_locked(struct cf_core *c, struct cf_req *r, const char *key,
    int64_t now, bool *locked, struct cf_error *err)
{
	struct cf_authfail_rec	f;
	cf_err			rc;

	*locked = false;
	rc = cf_meta_authfail_get(c->meta, key, &f, err);
	if (rc != CF_OK)
		return rc;
	if (f.locked_until_us > now) {
		*locked = true;
		r->retry_after = (f.locked_until_us - now + 999999) / 1000000;
	}
	return CF_OK;
}

/* Count one failure on key; a failure to count refuses (fail closed:
 * the caller answers with the error). */
static cf_err
guess_fail(struct cf_core *c, const char *key, int64_t now,
    struct cf_error *err)
{
	struct cf_authfail_rec	f;
	cf_err			rc;

	rc = cf_meta_authfail_add(c->meta, key, now, c->cfg.share_guess_limit,
	    c->cfg.share_guess_lock_seconds * 1000000, &f, err);
	if (rc != CF_OK)
		log_warnx("event=authfail_store_failed key=%s", key);
	else if (f.locked_until_us != 0 && f.prev_locked_until_us == 0)
		log_warnx("event=share_guess_locked key=%s seconds=%lld", key,
		    (long long)c->cfg.share_guess_lock_seconds);
	return rc;
}

/* SEC: the creator's access, decided again now: a request of the creator
 * (current record and bindings; disabled, or a service account whose
 * owner is disabled: refused) for object:get and object:share of the
 * version, in this download's context (address, time).  *ok false with
 * why set when refused. */
static cf_err
creator_can(struct cf_core *c, const struct cf_req *r,
    const struct cf_share_rec *s, bool *ok, char *why, size_t whysz,
    struct cf_error *err)
{
	static const char *const acts[] = { "object:get", "object:share" };
	struct cf_req		*sc = NULL;
	struct cf_version_rec	*v = NULL;
	char			 res[CF_RESOURCE_MAX], role[CF_ROLE_MAX];
	bool			 allow = false, found = false;
	size_t			 i;
	cf_err			 rc;

	*ok = false;
	sc = cf_calloc(1, sizeof(*sc));
	v = cf_calloc(1, sizeof(*v));
	if (sc == NULL || v == NULL) {
		rc = nomem(err);
		goto out;
	}
	cf_req_init(sc, r->source);
	sc->time_us = r->time_us;
	cf_strlcpy(sc->user_agent, r->user_agent, sizeof(sc->user_agent));
	cf_strlcpy(sc->purpose, r->purpose, sizeof(sc->purpose));
	rc = core_authn_principal(c, sc, s->creator_id, &found, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = CF_OK;
	}
	if (rc != CF_OK)
		goto out;
	if (!found) {
		cf_strlcpy(why, "creator disabled or gone", whysz);
		goto out;
	}
	sc->authenticated = true;
	sc->authn = "share-link";
	rc = cf_meta_version_get(c->meta, s->ns, s->key, s->version_id, v,
	    err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		cf_strlcpy(why, "version gone", whysz);
		rc = CF_OK;
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	if (v->delete_marker) {
		cf_strlcpy(why, "version gone", whysz);
		goto out;
	}
	cf_strlcpy(sc->version_id, v->version_id, sizeof(sc->version_id));
	cf_strlcpy(sc->version_sha256, v->sha256, sizeof(sc->version_sha256));
	cf_strlcpy(sc->version_by, v->created_by, sizeof(sc->version_by));
	obj_res(res, sizeof(res), s->ns, s->key);
	for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		sc->action = acts[i];
		rc = core_authz_decide(c, sc, cf_action_find(acts[i]), s->ns,
		    s->ns, res, role, sizeof(role), &allow, NULL, err);
		if (rc != CF_OK)
			goto out;
		if (!allow) {
			join3(why, whysz, "creator ", acts[i], ": ");
			(void)cf_strlcat(why, sc->reasons, whysz);
			goto out;
		}
	}
	*ok = true;
out:
	cf_free(sc);
	cf_free(v);
	return rc;
}

/* The network rule of the link's namespace for the holder's address
 * (the record keeps the link's resource); a store error fails closed. */
static cf_err
link_net_check(struct cf_core *c, struct cf_req *r,
    const struct cf_share_rec *s, struct cf_error *err)
{
	struct cf_ns_rec	nsr;
	cf_err			rc;

	rc = cf_meta_ns_get(c->meta, s->ns, &nsr, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		return core_net_ns_check(c, r, s->ns, NULL, err);
	}
	if (rc != CF_OK) {
		r->allowed = false;
		cf_strlcpy(r->reasons, "error", sizeof(r->reasons));
		return rc;
	}
	return core_net_ns_check(c, r, s->ns, &nsr, err);
}

/* The checks of a found link, in the order a holder can do something
 * about them. */
static cf_err
link_check(struct cf_core *c, struct cf_req *r, const struct cf_share_rec *s,
    const char *password, size_t pwlen, const char *akey, int64_t now,
    struct cf_error *err)
{
	char	lkey[CF_AUTHKEY_MAX], why[CF_REASONS_MAX];
	bool	locked, ok;
	cf_err	rc;

	if (s->revoked_us != 0)
		return dl_refuse(r, CF_E_DENIED, "link_revoked", "link revoked",
		    err, "this link was revoked");
	if (s->expires_us <= now)
		return dl_refuse(r, CF_E_DENIED, "link_expired", "link expired",
		    err, "this link has expired");
	if (s->max_downloads > 0 && s->downloads >= s->max_downloads)
		return dl_refuse(r, CF_E_DENIED, "link_used_up",
		    "link used up", err, "this link has no downloads left");
	if (s->allow_cidr[0] != '\0' &&
	    cf_policy_ip_in_range(r->source, s->allow_cidr) != 1)
		return dl_refuse(r, CF_E_DENIED, "address_not_allowed",
		    "address not allowed", err, "this link may not be used "
		    "from this address");
	/* SEC: a link is no way around env.<env>.allow: the holder's
	 * address must be one the link's namespace may be reached from. */
	rc = link_net_check(c, r, s, err);
	if (rc != CF_OK)
		return rc;
	if (s->pwhash[0] != '\0') {
		(void)snprintf(lkey, sizeof(lkey), "share:%s", s->id);
		rc = guess_locked(c, r, lkey, now, &locked, err);
		if (rc != CF_OK)
			return rc;
		if (locked)
			return dl_refuse(r, CF_E_LIMIT, "too_many_attempts",
			    "link locked (wrong passwords)", err, "too many "
			    "wrong passwords: try again later");
		if (password == NULL)
			return dl_refuse(r, CF_E_AUTH, "password_required",
			    "password required", err, "this link needs its "
			    "password");
		rc = cf_password_verify(s->pwhash, password, pwlen, NULL);
		if (rc != CF_OK) {
			if (rc == CF_E_INPUT)
				log_warnx("event=bad_password_hash share=%s",
				    s->id);
			rc = guess_fail(c, akey, now, err);
			if (rc == CF_OK)
				rc = guess_fail(c, lkey, now, err);
			if (rc != CF_OK)
				return rc;
			return dl_refuse(r, CF_E_AUTH, "wrong_password",
			    "wrong password", err, "wrong password");
		}
	}
	rc = creator_can(c, r, s, &ok, why, sizeof(why), err);
	if (rc != CF_OK)
		return rc;
	if (!ok)
		return dl_refuse(r, CF_E_DENIED, "link_revoked", why, err,
		    "this link is no longer valid: its creator's access "
		    "ended");
	return CF_OK;
}

cf_err
cf_core_share_open(struct cf_core *c, struct cf_req *r, const char *token,
    const char *password, size_t pwlen, struct cf_get **out,
    struct cf_error *err)
{
	struct cf_share_rec	*s = NULL;
	struct cf_get		*g = NULL;
	struct core_act		 act;
	char			 akey[CF_AUTHKEY_MAX + 8], addr[CF_AUTHKEY_MAX];
	char			 res[CF_RESOURCE_MAX];
	uint8_t			 h[CF_SHA256_LEN];
	int64_t			 now = core_now_us(c);
	size_t			 n;
	bool			 locked = false;
	cf_err			 rc;

	rc = core_authorize_open(c, r, "share:download", "share/unknown",
	    false, err);
	if (rc != CF_OK)
		return rc;
	/* No credential is looked at: the link is the capability. */
	r->authenticated = false;
	r->authn = "share-link";
	core_addr_key(r->source, addr, sizeof(addr));
	(void)snprintf(akey, sizeof(akey), "share:%s", addr);
	rc = guess_locked(c, r, akey, now, &locked, err);
	if (rc != CF_OK)
		return dl_refuse(r, rc, NULL, "error", err, "cannot check the "
		    "link now");
	if (locked)
		return dl_refuse(r, CF_E_LIMIT, "too_many_attempts",
		    "address locked (failed link lookups)", err, "too many "
		    "failed attempts from this address: try again later");
	s = cf_calloc(1, sizeof(*s));
	if (s == NULL)
		return nomem(err);
	n = token != NULL ? strnlen(token, SHARE_TOKEN_LEN + 1) : 0;
	rc = CF_E_NOTFOUND;
	if (n == SHARE_TOKEN_LEN && cf_str_has_prefix(token, SHARE_PREFIX)) {
		cf_sha256(token, n, h);
		rc = cf_meta_share_find(c->meta, h, s, err);
		/* SEC: an index seek found it; the digests are compared in
		 * constant time anyway. */
		if (rc == CF_OK && !cf_ct_equal(h, s->hash, sizeof(h)))
			rc = CF_E_NOTFOUND;
	}
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = guess_fail(c, akey, now, err);
		if (rc == CF_OK)
			rc = dl_refuse(r, CF_E_NOTFOUND, "no_such_link",
			    "no such link", err, "no such share link");
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	obj_res(res, sizeof(res), s->ns, s->key);
	join3(r->resource, sizeof(r->resource), "share/", s->id, "/");
	(void)cf_strlcat(r->resource, res, sizeof(r->resource));
	rc = link_check(c, r, s, password, pwlen, akey, now, err);
	if (rc != CF_OK)
		goto out;
	r->allowed = true;
	(void)snprintf(r->reasons, sizeof(r->reasons), "link %s of %s%s%s",
	    s->id, s->creator, s->recipient[0] != '\0' ? " for " : "",
	    s->recipient);
	rc = core_get_open_decided(c, r, s->ns, s->key, s->version_id, &g,
	    err);
	if (rc != CF_OK) {
		r->allowed = false;
		goto out;
	}
	/* SEC: counted and recorded in one transaction, before a byte is
	 * sent: a one-use link serves one download, whatever races it. */
	rc = core_act_begin(&act, c, r, 200, err);
	act.bytes = cf_core_get_view(g)->size;
	if (rc == CF_OK)
		rc = cf_meta_share_use(c->meta, &act.au, s->id, now, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_LIMIT) {
		cf_error_clear(err);
		rc = dl_refuse(r, CF_E_DENIED, "link_used_up", "link used up",
		    err, "this link has no downloads left");
	}
	if (rc != CF_OK) {
		r->allowed = false;
		goto out;
	}
	*out = g;
	g = NULL;
out:
	cf_core_get_close(g);
	if (s != NULL)
		cf_wipe(s, sizeof(*s));
	cf_free(s);
	cf_wipe(h, sizeof(h));
	return rc;
}

/* ---- share grants: one object, one named principal, for a while
 * (docs/sharing.md, "Share to a principal").  A grant is a policy set of
 * the object's namespace, named share-grant.<id>, whose one permit
 * allows object:get and object:head on that object to that principal
 * while context.time is before its end; its first line, a comment,
 * carries what the listing shows.  The name is reserved (ops_policy.c),
 * so no other set poses as a grant. ---- */

#define GRANT_ID_BYTES	8

/* s as the inside of a Cedar string literal; CF_E_INPUT for a control
 * character. */
static cf_err
cedar_str(struct cf_buf *b, const char *s, struct cf_error *err)
{
	cf_err	rc = CF_OK;

	for (; *s != '\0' && rc == CF_OK; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return cf_error_set(err, CF_E_INPUT, "a control "
			    "character in a name");
		if (*s == '"' || *s == '\\')
			rc = cf_buf_append(b, "\\", 1, err);
		if (rc == CF_OK)
			rc = cf_buf_append(b, s, 1, err);
	}
	return rc;
}

static cf_err
grant_text(struct cf_buf *b, const struct cf_principal_rec *to,
    const char *ns, const char *key, const char *name, const char *until,
    const char *creator, struct cf_error *err)
{
	json_t	*meta;
	char	*m = NULL;
	cf_err	 rc;

	meta = json_pack("{s:s, s:s, s:s, s:s}", "to", to->name, "key", key,
	    "expires", until, "creator", creator);
	if (meta != NULL)
		m = cf_json_dumps(meta);
	json_decref(meta);
	if (m == NULL)
		return nomem(err);
	rc = cf_buf_printf(b, err, "// share-grant %s\n@id(\"%s\")\n"
	    "permit (principal == %s::\"", m, name, core_principal_type(to));
	cf_json_free(m);
	if (rc == CF_OK)
		rc = cedar_str(b, to->name, err);
	if (rc == CF_OK)
		rc = cf_buf_printf(b, err, "\",\n  action in [Action::"
		    "\"object:get\", Action::\"object:head\"],\n"
		    "  resource == Object::\"");
	if (rc == CF_OK)
		rc = cedar_str(b, ns, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, "/", 1, err);
	if (rc == CF_OK)
		rc = cedar_str(b, key, err);
	if (rc == CF_OK)
		rc = cf_buf_printf(b, err, "\")\nwhen { context.time < "
		    "datetime(\"%s\") };\n", until);
	return rc;
}

/* The listing's view of a grant's text (NULL if it is not one). */
static json_t *
grant_json(const struct cf_policy_rec *p, const char *text)
{
	json_t	*meta, *j = NULL;
	size_t	 pl = strlen("// share-grant ");

	if (strncmp(text, "// share-grant ", pl) != 0)
		return NULL;
	meta = json_loadb(text + pl, strcspn(text + pl, "\n"), 0, NULL);
	if (meta != NULL)
		j = json_pack("{s:s, s:s, s:O?, s:O?, s:O?, s:O?, s:o}", "id",
		    p->name, "ns", p->ns, "key", json_object_get(meta, "key"),
		    "to", json_object_get(meta, "to"), "expires",
		    json_object_get(meta, "expires"), "creator",
		    json_object_get(meta, "creator"), "created",
		    core_time_json(p->created_us));
	json_decref(meta);
	return j;
}

cf_err
cf_core_share_grant(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *to, uint64_t for_s, json_t **out,
    struct cf_error *err)
{
	struct cf_principal_rec	*p = NULL;
	struct cf_version_rec	*v = NULL;
	struct cf_policy_rec	 rec;
	struct cf_ns_rec	 nsr;
	struct cf_share_params	 sp;
	struct cf_buf		 text;
	char			 res[CF_RESOURCE_MAX], reasons[CF_REASONS_MAX];
	char			 name[CF_POLICY_NAME_MAX];
	char			 until[CF_TIME_STR_LEN];
	uint8_t			 idb[GRANT_ID_BYTES];
	int64_t			 life = 0, now = core_now_us(c);
	cf_err			 rc, vrc = CF_E_NOTFOUND;

	cf_buf_init(&text, 8192);
	obj_res(res, sizeof(res), ns, key);
	p = cf_calloc(1, sizeof(*p));
	v = cf_calloc(1, sizeof(*v));
	if (p == NULL || v == NULL) {
		rc = nomem(err);
		goto out;
	}
	if (r->authenticated)
		vrc = cf_meta_version_get(c->meta, ns, key, NULL, v, NULL);
	if (vrc == CF_OK && !v->delete_marker) {
		cf_strlcpy(r->version_id, v->version_id, sizeof(r->version_id));
		cf_strlcpy(r->version_sha256, v->sha256,
		    sizeof(r->version_sha256));
		cf_strlcpy(r->version_by, v->created_by,
		    sizeof(r->version_by));
	}
	/* SEC: as for a link: the creator must be allowed to read the
	 * object, then to share it. */
	rc = core_authorize(c, r, "object:get", ns, res, err);
	if (rc != CF_OK) {
		join3(reasons, sizeof(reasons), "read: ", r->reasons, "");
		cf_strlcpy(r->reasons, reasons, sizeof(r->reasons));
		r->action = "object:share";
		r->decided = false;
		goto out;
	}
	rc = core_authorize(c, r, "object:share", ns, res, err);
	if (rc != CF_OK)
		goto out;
	if (!cf_name_ns_valid(ns) || !cf_name_key_valid(key, strlen(key))) {
		r->errcode = "invalid_name";
		rc = cf_error_set(err, CF_E_INPUT, "invalid namespace or key");
		goto out;
	}
	rc = cf_meta_ns_get(c->meta, ns, &nsr, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_namespace";
		rc = cf_error_set(err, CF_E_NOTFOUND, "no namespace \"%s\"",
		    ns);
	}
	if (rc != CF_OK)
		goto out;
	if (vrc != CF_OK || v->delete_marker) {
		r->errcode = "no_such_key";
		rc = cf_error_set(err, CF_E_NOTFOUND, "no object \"%s\"", key);
		goto out;
	}
	rc = cf_meta_principal_get(c->meta, to, p, err);
	if (rc == CF_E_NOTFOUND || rc == CF_E_INPUT) {
		cf_error_clear(err);
		r->errcode = "no_such_principal";
		rc = cf_error_set(err, CF_E_NOTFOUND, "no principal \"%s\"",
		    to);
	}
	if (rc != CF_OK)
		goto out;
	/* The lifetime: 1 s to a link's maximum for the data's level. */
	memset(&sp, 0, sizeof(sp));
	sp.expires_in = for_s;
	if (for_s == 0) {
		r->errcode = "invalid_lifetime";
		rc = cf_error_set(err, CF_E_INPUT, "for: a number of seconds, "
		    "at least 1");
		goto out;
	}
	rc = params_check(c, r, &sp, level_of(nsr.sensitivity), &life, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_random(idb, sizeof(idb), err);
	if (rc != CF_OK)
		goto out;
	(void)cf_strlcpy(name, CORE_SHARE_GRANT_PREFIX, sizeof(name));
	cf_hex_encode(idb, sizeof(idb), name + strlen(name));
	/* Cedar's datetime to the second: the end rounded down. */
	cf_time_format(now + life * 1000000, until);
	until[19] = 'Z';
	until[20] = '\0';
	rc = grant_text(&text, p, ns, key, name, until, r->principal.name,
	    err);
	if (rc != CF_OK) {
		if (rc == CF_E_INPUT)
			r->errcode = "invalid_name";
		goto out;
	}
	join3(r->resource, sizeof(r->resource), "share-grant/",
	    name + strlen(CORE_SHARE_GRANT_PREFIX), "/");
	(void)cf_strlcat(r->resource, res, sizeof(r->resource));
	join3(reasons, sizeof(reasons), r->reasons, ",to:", p->name);
	(void)cf_strlcat(reasons, ",until:", sizeof(reasons));
	(void)cf_strlcat(reasons, until, sizeof(reasons));
	cf_strlcpy(r->reasons, reasons, sizeof(r->reasons));
	rc = core_policy_put_internal(c, r, ns, name, text.data, 201, &rec,
	    err);
	if (rc != CF_OK)
		goto out;
	*out = grant_json(&rec, text.data);
	if (*out == NULL)
		rc = nomem(err);
out:
	cf_buf_free(&text);
	cf_free(p);
	cf_free(v);
	return rc;
}

struct grant_walk {
	json_t		*arr;
	const char	*creator;	/* NULL: every grant */
	const char	*id;		/* revoke: the one looked for */
	char		*id_creator;	/* revoke: its creator (owned) */
	char		 ns[CF_NS_NAME_MAX];
	bool		 found;
};

static cf_err
grant_cb(void *arg, const struct cf_policy_rec *p, const char *text,
    size_t len, struct cf_error *err)
{
	struct grant_walk	*x = arg;
	json_t			*j;
	const char		*cr;

	(void)len;
	if (!cf_str_has_prefix(p->name, CORE_SHARE_GRANT_PREFIX))
		return CF_OK;
	j = grant_json(p, text);
	if (j == NULL)
		return CF_OK;
	cr = json_string_value(json_object_get(j, "creator"));
	if (x->id != NULL) {
		if (strcmp(p->name, x->id) == 0) {
			x->found = true;
			cf_strlcpy(x->ns, p->ns, sizeof(x->ns));
			cf_free(x->id_creator);
			x->id_creator = cr != NULL ? cf_strdup(cr) : NULL;
		}
		json_decref(j);
		return CF_OK;
	}
	if (x->creator != NULL && (cr == NULL || strcmp(cr, x->creator) != 0)) {
		json_decref(j);
		return CF_OK;
	}
	if (json_array_append_new(x->arr, j) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_share_grant_list(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	struct grant_walk	x;
	cf_err			rc;

	memset(&x, 0, sizeof(x));
	if (!r->authenticated)
		return core_authorize(c, r, "share:list", NULL, "share-grants",
		    err);
	if (core_can(c, r, "share:list", NULL))
		rc = core_authorize(c, r, "share:list", NULL, "share-grants",
		    err);
	else {
		/* Everyone may list the grants they made. */
		x.creator = r->principal.name;
		rc = core_authorize_self(c, r, "share:list", "share-grants",
		    err);
	}
	if (rc != CF_OK)
		return rc;
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_policy_current(c->meta, grant_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "grants", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_share_grant_revoke(struct cf_core *c, struct cf_req *r,
    const char *id, json_t **out, struct cf_error *err)
{
	struct grant_walk	x;
	struct cf_policy_rec	rec;
	char			res[CF_RESOURCE_MAX];
	bool			own;
	cf_err			rc;

	memset(&x, 0, sizeof(x));
	(void)snprintf(res, sizeof(res), "share-grant/%s", id);
	if (!r->authenticated)
		return core_authorize(c, r, "share:revoke", NULL, res, err);
	x.id = id;
	rc = cf_meta_policy_current(c->meta, grant_cb, &x, err);
	if (rc != CF_OK)
		goto out;
	own = x.found && x.id_creator != NULL &&
	    strcmp(x.id_creator, r->principal.name) == 0;
	if (own)
		rc = core_authorize_self(c, r, "share:revoke", res, err);
	else
		rc = core_authorize(c, r, "share:revoke", NULL, res, err);
	if (rc != CF_OK)
		goto out;
	if (!x.found) {
		r->errcode = "no_such_grant";
		rc = cf_error_set(err, CF_E_NOTFOUND, "no share grant %s", id);
		goto out;
	}
	rc = core_policy_put_internal(c, r, x.ns, id, NULL, 200, &rec, err);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s, s:s, s:b}", "id", id, "ns", x.ns, "revoked",
	    1);
	if (*out == NULL)
		rc = nomem(err);
out:
	cf_free(x.id_creator);
	return rc;
}

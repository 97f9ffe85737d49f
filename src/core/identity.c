/* src/core/identity.c: local users, passwords, TOTP MFA, sessions,
 * brute-force protection and OIDC bearer tokens (issue 4; docs/api.md,
 * "Identity", and docs/internals/IDENTITY.md).
 *
 * SEC: neither the answer nor the work done tells whether a user exists:
 * an unknown user, a disabled one and one without a password all cost one
 * argon2id verification and give the same error; failure counters are
 * kept per user name whether or not it exists.  Secrets (passwords,
 * codes, TOTP keys, session tokens) are never logged and are wiped after
 * use. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/core_int.h"
#include "crypto/jwt.h"
#include "crypto/password.h"
#include "crypto/totp.h"

#define CODE_MAX	64	/* bytes of a TOTP or recovery code input */
#define DELAY_MAX_S	60	/* longest brute-force delay */
#define TOTP_ISSUER	"Coffer"
/* Per source address, delays and the lock start (by default) after this
 * many times the per-name numbers: several people behind one address
 * (NAT, a bastion) should not slow each other down with ordinary typos,
 * while a spray over many names from one address is still slowed and then
 * stopped (each name also has its own delays and lock). */
#define ADDR_FACTOR	5

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

static void
pw_params(const struct cf_core *c, struct cf_pwhash_params *p)
{
	cf_pwhash_params_default(p);
	if (c->cfg.pwhash_memory != 0)
		p->mem = c->cfg.pwhash_memory;
	if (c->cfg.pwhash_ops != 0)
		p->ops = c->cfg.pwhash_ops;
}

/* ---- setup ---- */

static cf_err
parse_group_roles(struct core_issuer *c, const char *spec,
    struct cf_error *err)
{
	char		 buf[4096], *p, *next, *eq, *at;
	struct core_group_map *g;

	if (spec == NULL || *spec == '\0')
		return CF_OK;
	if (cf_strlcpy(buf, spec, sizeof(buf)) >= sizeof(buf))
		return cf_error_set(err, CF_E_INPUT,
		    "oidc_group_roles too long");
	for (p = buf; p != NULL; p = next) {
		next = strchr(p, ',');
		if (next != NULL)
			*next++ = '\0';
		while (*p == ' ')
			p++;
		if (*p == '\0')
			continue;
		if (c->ngmap >= CF_GROUP_MAP_MAX)
			return cf_error_set(err, CF_E_INPUT,
			    "oidc_group_roles: more than %d entries",
			    CF_GROUP_MAP_MAX);
		g = &c->gmap[c->ngmap];
		eq = strchr(p, '=');
		if (eq == NULL || eq == p)
			return cf_error_set(err, CF_E_INPUT,
			    "oidc_group_roles: expected group=role[@ns]");
		*eq = '\0';
		at = strchr(eq + 1, '@');
		if (at != NULL)
			*at = '\0';
		if (cf_strlcpy(g->group, p, sizeof(g->group)) >=
		    sizeof(g->group) ||
		    cf_strlcpy(g->role, eq + 1, sizeof(g->role)) >=
		    sizeof(g->role) || !cf_name_role_valid(g->role))
			return cf_error_set(err, CF_E_INPUT,
			    "oidc_group_roles: bad entry for group \"%s\"", p);
		g->ns[0] = '\0';
		if (at != NULL && (cf_strlcpy(g->ns, at + 1, sizeof(g->ns)) >=
		    sizeof(g->ns) || !cf_name_ns_valid(g->ns) ||
		    strcmp(g->role, "admin") == 0))
			return cf_error_set(err, CF_E_INPUT,
			    "oidc_group_roles: bad namespace for group \"%s\"",
			    p);
		c->ngmap++;
	}
	return CF_OK;
}

/* claim_attrs: "claim:attribute,..." (a claim is a dotted path). */
static cf_err
parse_claim_attrs(struct core_issuer *c, const char *spec,
    struct cf_error *err)
{
	char	 buf[4096], *p, *next, *colon;
	size_t	 i;

	if (spec == NULL || *spec == '\0')
		return CF_OK;
	if (cf_strlcpy(buf, spec, sizeof(buf)) >= sizeof(buf))
		return cf_error_set(err, CF_E_INPUT,
		    "oidc_claim_attrs too long");
	for (p = buf; p != NULL; p = next) {
		next = strchr(p, ',');
		if (next != NULL)
			*next++ = '\0';
		while (*p == ' ')
			p++;
		if (*p == '\0')
			continue;
		if (c->nattr >= CF_JWT_ATTRS_MAX)
			return cf_error_set(err, CF_E_INPUT,
			    "oidc_claim_attrs: more than %d entries",
			    CF_JWT_ATTRS_MAX);
		colon = strchr(p, ':');
		if (colon == NULL || colon == p)
			return cf_error_set(err, CF_E_INPUT,
			    "oidc_claim_attrs: expected claim:attribute");
		*colon = '\0';
		if (cf_strlcpy(c->attr_claim[c->nattr], p,
		    sizeof(c->attr_claim[0])) >= sizeof(c->attr_claim[0]) ||
		    cf_strlcpy(c->attr_name[c->nattr], colon + 1,
		    sizeof(c->attr_name[0])) >= sizeof(c->attr_name[0]) ||
		    !cf_meta_attr_name_valid(c->attr_name[c->nattr]))
			return cf_error_set(err, CF_E_INPUT,
			    "oidc_claim_attrs: bad entry for claim \"%.64s\" "
			    "(an attribute is a-z, then up to 62 of "
			    "a-z 0-9 _ . -)", p);
		/* SEC: one source per attribute, or two claims would
		 * overwrite each other on every sign-in. */
		for (i = 0; i < c->nattr; i++)
			if (strcmp(c->attr_name[i],
			    c->attr_name[c->nattr]) == 0)
				return cf_error_set(err, CF_E_INPUT,
				    "oidc_claim_attrs: attribute %s mapped "
				    "twice", c->attr_name[i]);
		c->attr_claim_p[c->nattr] = c->attr_claim[c->nattr];
		c->attr_name_p[c->nattr] = c->attr_name[c->nattr];
		c->nattr++;
	}
	return CF_OK;
}

static bool
set(const char *s)
{
	return s != NULL && *s != '\0';
}

/* One issuer's settings, from the oidc_* options or one entry of
 * oidc_config_file.  Strings borrowed. */
struct issuer_spec {
	const char	*issuer, *audience, *jwks_url, *jwks_file, *jwks_json;
	const char	*username_claim, *groups_claim, *group_roles;
	const char	*claim_attrs;
	bool		 provision;
	int64_t		 skew, min_refresh;
};

static void
issuer_spec_init(struct issuer_spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->username_claim = "preferred_username";
	sp->groups_claim = "groups";
	sp->skew = 60;
	sp->min_refresh = 60;
}

static cf_err
issuer_add(struct cf_core *c, const struct issuer_spec *sp,
    struct cf_error *err)
{
	struct core_issuer	*is;
	struct cf_jwks_opts	 o;
	size_t			 i, nsrc;
	cf_err			 rc;

	if (c->niss >= CF_OIDC_ISSUERS_MAX)
		return cf_error_set(err, CF_E_INPUT,
		    "more than %d OIDC issuers", CF_OIDC_ISSUERS_MAX);
	if (!set(sp->issuer))
		return cf_error_set(err, CF_E_INPUT, "issuer is required");
	if (!set(sp->audience))
		return cf_error_set(err, CF_E_INPUT,
		    "issuer %s: audience is required", sp->issuer);
	if (sp->skew < 0 || sp->skew > CF_JWT_SKEW_MAX)
		return cf_error_set(err, CF_E_INPUT, "issuer %s: skew must "
		    "be 0..%d seconds", sp->issuer, CF_JWT_SKEW_MAX);
	if (sp->min_refresh < 1 || sp->min_refresh > 86400)
		return cf_error_set(err, CF_E_INPUT, "issuer %s: "
		    "jwks_min_refresh must be 1..86400 seconds", sp->issuer);
	nsrc = (set(sp->jwks_url) ? 1 : 0) + (set(sp->jwks_file) ? 1 : 0) +
	    (set(sp->jwks_json) ? 1 : 0);
	if (nsrc != 1)
		return cf_error_set(err, CF_E_INPUT, "issuer %s: exactly one "
		    "of jwks_url and jwks_file is required", sp->issuer);
	/* SEC: the issuer is chosen by iss, so two entries with one iss
	 * would make the choice ambiguous. */
	for (i = 0; i < c->niss; i++)
		if (strcmp(c->iss[i].issuer, sp->issuer) == 0)
			return cf_error_set(err, CF_E_INPUT,
			    "issuer %s configured twice", sp->issuer);
	is = &c->iss[c->niss];
	memset(is, 0, sizeof(*is));
	if (cf_strlcpy(is->issuer, sp->issuer, sizeof(is->issuer)) >=
	    sizeof(is->issuer) ||
	    cf_strlcpy(is->audience, sp->audience, sizeof(is->audience)) >=
	    sizeof(is->audience) ||
	    cf_strlcpy(is->username_claim, set(sp->username_claim) ?
	    sp->username_claim : "preferred_username",
	    sizeof(is->username_claim)) >= sizeof(is->username_claim) ||
	    cf_strlcpy(is->groups_claim, sp->groups_claim != NULL ?
	    sp->groups_claim : "", sizeof(is->groups_claim)) >=
	    sizeof(is->groups_claim))
		return cf_error_set(err, CF_E_INPUT,
		    "issuer %.64s: a setting is too long", sp->issuer);
	is->provision = sp->provision;
	is->skew = sp->skew;
	rc = parse_group_roles(is, sp->group_roles, err);
	if (rc == CF_OK)
		rc = parse_claim_attrs(is, sp->claim_attrs, err);
	if (rc != CF_OK)
		return rc;
	cf_jwks_opts_default(&o);
	/* A JWKS served over plain HTTP is accepted only from loopback (a
	 * local sidecar or a test IdP); anything else needs https://. */
	o.allow_http_loopback = true;
	o.min_refresh = sp->min_refresh;
	if (set(sp->jwks_json))
		rc = cf_jwks_new_json(sp->jwks_json, strlen(sp->jwks_json),
		    &is->jwks, err);
	else if (set(sp->jwks_file))
		rc = cf_jwks_new_file(sp->jwks_file, &o, &is->jwks, err);
	else
		rc = cf_jwks_new_url(sp->jwks_url, &o, &is->jwks, err);
	if (rc != CF_OK)
		return rc;
	c->niss++;
	if (c->check_only)
		return CF_OK;	/* no network for a configuration check */
	if (cf_jwks_refresh(is->jwks, cf_now_us() / 1000000, NULL) != CF_OK)
		log_warnx("event=oidc_jwks_unavailable issuer=\"%s\" "
		    "msg=\"JWKS "
		    "not fetched at startup; will retry on use\"", is->issuer);
	return CF_OK;
}

/* One entry of oidc_config_file: every member known and of its type. */
static cf_err
issuer_from_json(struct cf_core *c, json_t *e, struct cf_error *err)
{
	static const char *const known[] = {
		"issuer", "audience", "jwks_url", "jwks_file",
		"username_claim", "groups_claim", "group_roles",
		"claim_attrs", "provision",
		"skew", "jwks_min_refresh",
	};
	struct issuer_spec	 sp;
	const char		*k;
	json_t			*v;
	size_t			 i;
	bool			 ok;
	cf_err			 rc = CF_OK;

	if (!json_is_object(e))
		return cf_error_set(err, CF_E_INPUT,
		    "each issuer must be a JSON object");
	json_object_foreach(e, k, v) {
		ok = false;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok = ok || strcmp(k, known[i]) == 0;
		if (!ok)
			return cf_error_set(err, CF_E_INPUT,
			    "unknown member \"%.64s\"", k);
	}
	issuer_spec_init(&sp);
	rc = cf_json_get_str(e, "issuer", true, &sp.issuer, err);
	if (rc == CF_OK)
		rc = cf_json_get_str(e, "audience", true, &sp.audience, err);
	if (rc == CF_OK)
		rc = cf_json_get_str(e, "jwks_url", false, &sp.jwks_url, err);
	if (rc == CF_OK)
		rc = cf_json_get_str(e, "jwks_file", false, &sp.jwks_file,
		    err);
	if (rc == CF_OK)
		rc = cf_json_get_str(e, "username_claim", false,
		    &sp.username_claim, err);
	if (rc == CF_OK)
		rc = cf_json_get_str(e, "groups_claim", false,
		    &sp.groups_claim, err);
	if (rc == CF_OK)
		rc = cf_json_get_str(e, "claim_attrs", false, &sp.claim_attrs,
		    err);
	if (rc == CF_OK)
		rc = cf_json_get_str(e, "group_roles", false, &sp.group_roles,
		    err);
	if (rc == CF_OK)
		rc = cf_json_get_bool(e, "provision", false, &sp.provision,
		    err);
	if (rc == CF_OK)
		rc = cf_json_get_int(e, "skew", false, &sp.skew, err);
	if (rc == CF_OK)
		rc = cf_json_get_int(e, "jwks_min_refresh", false,
		    &sp.min_refresh, err);
	if (rc == CF_E_NOTFOUND)
		rc = cf_error_set(err, CF_E_INPUT, "%s", err != NULL ?
		    err->msg : "missing member");
	if (rc != CF_OK)
		return rc;
	return issuer_add(c, &sp, err);
}

/* SEC: the file is trusted configuration, but still read bounded and
 * parsed strictly (no duplicate members, no unknown ones), so a typo
 * stops the server instead of silently weakening a rule. */
static cf_err
load_issuer_file(struct cf_core *c, const char *path, struct cf_error *err)
{
	struct cf_error	 e2;
	FILE		*fp = NULL;
	char		*buf = NULL;
	json_t		*arr = NULL, *e;
	size_t		 n, i;
	cf_err		 rc = CF_OK;

	cf_error_clear(&e2);
	fp = fopen(path, "re");
	if (fp == NULL) {
		rc = cf_error_sys(err, CF_E_INPUT, "oidc_config_file %s", path);
		goto out;
	}
	buf = cf_malloc(CF_OIDC_FILE_MAX + 1);
	if (buf == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	n = fread(buf, 1, CF_OIDC_FILE_MAX + 1, fp);
	if (ferror(fp)) {
		rc = cf_error_sys(err, CF_E_IO, "oidc_config_file %s", path);
		goto out;
	}
	if (n > CF_OIDC_FILE_MAX) {
		rc = cf_error_set(err, CF_E_INPUT, "oidc_config_file %s: "
		    "larger than %d bytes", path, CF_OIDC_FILE_MAX);
		goto out;
	}
	rc = cf_json_parse(buf, n, CF_OIDC_FILE_MAX, 4, &arr, &e2);
	if (rc == CF_OK && (!json_is_array(arr) || json_array_size(arr) == 0))
		rc = cf_error_set(&e2, CF_E_INPUT,
		    "expected a non-empty JSON array of issuers");
	if (rc == CF_OK && json_array_size(arr) > CF_OIDC_ISSUERS_MAX)
		rc = cf_error_set(&e2, CF_E_INPUT, "more than %d issuers",
		    CF_OIDC_ISSUERS_MAX);
	if (rc != CF_OK) {
		rc = cf_error_set(err, rc == CF_E_NOMEM ? CF_E_NOMEM :
		    CF_E_INPUT, "oidc_config_file %s: %s", path, e2.msg);
		goto out;
	}
	json_array_foreach(arr, i, e) {
		cf_error_clear(&e2);
		rc = issuer_from_json(c, e, &e2);
		if (rc != CF_OK) {
			rc = cf_error_set(err, rc,
			    "oidc_config_file %s: issuer "
			    "%zu: %s", path, i + 1, e2.msg);
			goto out;
		}
	}
out:
	json_decref(arr);
	cf_free(buf);
	if (fp != NULL)
		(void)fclose(fp);
	return rc;
}

cf_err
core_identity_open(struct cf_core *c, struct cf_error *err)
{
	struct cf_pwhash_params	p;
	struct issuer_spec	sp;
	cf_err			rc;

	pw_params(c, &p);
	rc = cf_pwhash_params_check(&p, err);
	if (rc != CF_OK)
		return rc;
	if (c->cfg.password_min_length == 0)
		c->cfg.password_min_length = CF_PASSWORD_MIN_DEFAULT;
	if (c->cfg.session_ttl <= 0)
		c->cfg.session_ttl = 43200;
	if (c->cfg.auth_lock_failures <= 0)
		c->cfg.auth_lock_failures = 10;
	if (c->cfg.auth_lock_seconds <= 0)
		c->cfg.auth_lock_seconds = 900;
	if (!set(c->cfg.oidc_issuer) && !set(c->cfg.oidc_config_file))
		return CF_OK;
	c->iss = cf_calloc(CF_OIDC_ISSUERS_MAX, sizeof(*c->iss));
	if (c->iss == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	if (set(c->cfg.oidc_issuer)) {
		issuer_spec_init(&sp);
		sp.issuer = c->cfg.oidc_issuer;
		sp.audience = c->cfg.oidc_audience;
		sp.jwks_url = c->cfg.oidc_jwks_url;
		sp.jwks_file = c->cfg.oidc_jwks_file;
		sp.jwks_json = c->cfg.oidc_jwks_json;
		/* A fixed JWKS (tests) wins over the others, as before. */
		if (set(sp.jwks_json))
			sp.jwks_url = sp.jwks_file = NULL;
		else if (set(sp.jwks_file))
			sp.jwks_url = NULL;
		if (c->cfg.oidc_username_claim != NULL)
			sp.username_claim = c->cfg.oidc_username_claim;
		sp.groups_claim = c->cfg.oidc_groups_claim;
		sp.group_roles = c->cfg.oidc_group_roles;
		sp.claim_attrs = c->cfg.oidc_claim_attrs;
		sp.provision = c->cfg.oidc_provision;
		sp.skew = c->cfg.oidc_skew;
		if (c->cfg.oidc_jwks_min_refresh > 0)
			sp.min_refresh = c->cfg.oidc_jwks_min_refresh;
		if (!set(sp.audience))
			return cf_error_set(err, CF_E_INPUT,
			    "oidc_audience is required with oidc_issuer");
		if (!set(sp.jwks_json) && !set(sp.jwks_file) &&
		    !set(sp.jwks_url))
			return cf_error_set(err, CF_E_INPUT,
			    "oidc_jwks_url or oidc_jwks_file is required with "
			    "oidc_issuer");
		rc = issuer_add(c, &sp, err);
		if (rc != CF_OK)
			return rc;
	}
	if (set(c->cfg.oidc_config_file))
		rc = load_issuer_file(c, c->cfg.oidc_config_file, err);
	return rc;
}

cf_err
cf_core_check_identity(const struct cf_core_config *cfg,
    struct cf_error *err)
{
	struct cf_core	*c;
	cf_err		 rc;

	if ((c = cf_calloc(1, sizeof(*c))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	c->cfg = *cfg;
	c->check_only = true;
	rc = core_identity_open(c, err);
	core_identity_close(c);
	cf_free(c);
	return rc;
}

void
core_identity_close(struct cf_core *c)
{
	size_t	i;

	if (c->iss != NULL)
		for (i = 0; i < c->niss; i++)
			cf_jwks_free(c->iss[i].jwks);
	CF_FREE(c->iss);
	c->niss = 0;
}

/* ---- brute-force protection ---- */

struct fail_keys {
	char			user[CF_AUTHKEY_MAX];
	char			addr[CF_AUTHKEY_MAX];
	struct cf_authfail_rec	rec[2];		/* after the reservation */
	bool			reserved;
};

/* The address key: an IPv4 address as it is (/32), an IPv6 address by
 * its /64, since one host or customer commonly holds a whole /64 and
 * could otherwise spread its guesses over 2^64 keys. */
static void
addr_key(const char *source, char *out, size_t outsz)
{
	struct in6_addr	a6;
	char		txt[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, source, &a6) == 1 &&
	    !IN6_IS_ADDR_V4MAPPED(&a6)) {
		memset(&a6.s6_addr[8], 0, 8);
		if (inet_ntop(AF_INET6, &a6, txt, sizeof(txt)) != NULL) {
			(void)snprintf(out, outsz, "addr:%s/64", txt);
			return;
		}
	}
	(void)snprintf(out, outsz, "addr:%s", source);
}

static void
fail_keys_init(struct fail_keys *k, const struct cf_req *r, const char *user)
{
	uint8_t	h[CF_SHA256_LEN];
	char	hex[33];

	memset(k, 0, sizeof(*k));
	if (user != NULL && cf_name_principal_valid(user))
		(void)snprintf(k->user, sizeof(k->user), "user:%s", user);
	else {
		/* Not a possible name: counted under a digest of it. */
		cf_sha256(user != NULL ? user : "", user != NULL ?
		    strnlen(user, 4096) : 0, h);
		cf_hex_encode(h, 16, hex);
		(void)snprintf(k->user, sizeof(k->user), "user:#%s", hex);
	}
	addr_key(r->source, k->addr, sizeof(k->addr));
}

/* The thresholds of key i (0: the user name, 1: the source address). */
static int64_t
free_failures(const struct cf_core *c, size_t i)
{
	if (i == 0)
		return c->cfg.auth_free_failures;
	return c->cfg.auth_addr_free_failures > 0 ?
	    c->cfg.auth_addr_free_failures :
	    c->cfg.auth_free_failures * ADDR_FACTOR;
}

static int64_t
lock_failures(const struct cf_core *c, size_t i)
{
	if (i == 0)
		return c->cfg.auth_lock_failures;
	return c->cfg.auth_addr_lock_failures > 0 ?
	    c->cfg.auth_addr_lock_failures :
	    c->cfg.auth_lock_failures * ADDR_FACTOR;
}

/* Take back the reservation of both keys (the attempt was refused before
 * its credential was checked, or it succeeded).  Best effort: a failed
 * release over-counts, which errs on the safe side. */
static void
throttle_release(struct cf_core *c, struct fail_keys *k, bool clear_user)
{
	if (!k->reserved)
		return;
	k->reserved = false;
	if (clear_user)
		(void)cf_meta_authfail_clear(c->meta, k->user, NULL);
	else
		(void)cf_meta_authfail_release(c->meta, k->user,
		    lock_failures(c, 0), &k->rec[0], NULL);
	(void)cf_meta_authfail_release(c->meta, k->addr, lock_failures(c, 1),
	    &k->rec[1], NULL);
}

/* SEC: an attempt is counted as a failure *before* its credential is
 * checked (a reservation, one write transaction per key), and the
 * decision to let it through is made on the count that transaction saw.
 * So parallel guesses are each counted and judged in turn, and a count
 * that cannot be written refuses the attempt (fail closed).  A refused
 * attempt gives its reservation back; a success clears the user's count
 * and gives back only its own reservation of the address's, so that
 * logging in to an account one owns never resets the address's count. */
static cf_err
throttle_check(struct cf_core *c, struct cf_req *r, struct fail_keys *k,
    struct cf_error *err)
{
	const char		*keys[2] = { k->user, k->addr };
	const struct cf_authfail_rec *f;
	int64_t			 now = core_now_us(c), wait_us, over;
	size_t			 i;
	cf_err			 rc;

	for (i = 0; i < 2; i++) {
		rc = cf_meta_authfail_add(c->meta, keys[i], now,
		    lock_failures(c, i), c->cfg.auth_lock_seconds * 1000000,
		    &k->rec[i], err);
		if (rc != CF_OK) {
			if (i == 1)
				(void)cf_meta_authfail_release(c->meta,
				    k->user, lock_failures(c, 0), &k->rec[0],
				    NULL);
			log_warnx("event=authfail_store_failed key=%s",
			    keys[i]);
			cf_strlcpy(r->reasons, "error", sizeof(r->reasons));
			return rc;
		}
	}
	k->reserved = true;
	for (i = 0; i < 2; i++) {
		f = &k->rec[i];
		if (f->prev_locked_until_us > now) {
			r->errcode = "locked";
			r->retry_after = (f->prev_locked_until_us - now +
			    999999) / 1000000;
			(void)snprintf(r->reasons, sizeof(r->reasons),
			    "locked %s", i == 0 ? "user" : "address");
			throttle_release(c, k, false);
			return cf_error_set(err, CF_E_LIMIT, "too many failed "
			    "attempts: locked, try again in %lld s",
			    (long long)r->retry_after);
		}
		if (f->prev_count < free_failures(c, i))
			continue;
		over = f->prev_count - free_failures(c, i);
		wait_us = (over >= 6 ? DELAY_MAX_S : (1LL << over)) * 1000000;
		if (wait_us > DELAY_MAX_S * 1000000LL)
			wait_us = DELAY_MAX_S * 1000000LL;
		if (now < f->prev_last_us + wait_us) {
			r->errcode = "too_many_attempts";
			r->retry_after = (f->prev_last_us + wait_us - now +
			    999999) / 1000000;
			(void)snprintf(r->reasons, sizeof(r->reasons),
			    "delayed %s", i == 0 ? "user" : "address");
			throttle_release(c, k, false);
			return cf_error_set(err, CF_E_LIMIT, "too many failed "
			    "attempts: try again in %lld s",
			    (long long)r->retry_after);
		}
	}
	return CF_OK;
}

/* The attempt failed: it stays counted (reserved by throttle_check); a
 * lock that this failure set is logged and recorded in the request's
 * reasons (the audit record). */
static void
throttle_fail(struct cf_core *c, struct cf_req *r, struct fail_keys *k,
    const char *why)
{
	const char	*keys[2] = { k->user, k->addr };
	size_t		 i;
	bool		 locked = false;

	cf_strlcpy(r->reasons, why, sizeof(r->reasons));
	for (i = 0; k->reserved && i < 2; i++) {
		if (k->rec[i].locked_until_us == 0 ||
		    k->rec[i].prev_locked_until_us != 0)
			continue;
		log_warnx("event=auth_locked key=%s seconds=%lld", keys[i],
		    (long long)c->cfg.auth_lock_seconds);
		(void)cf_strlcat(r->reasons, i == 0 ? "; locked user" :
		    "; locked address", sizeof(r->reasons));
		locked = true;
	}
	core_metrics_login_failed(c, locked);
	k->reserved = false;
	log_info("event=auth_failed request=%s key=%s source=%s reason=%s",
	    r->request_id, k->user, r->source, why);
}

static void
throttle_ok(struct cf_core *c, struct fail_keys *k)
{
	throttle_release(c, k, true);
}

/* ---- credential checks ---- */

/* CF_OK when pw matches p's password.  p NULL (unknown user) or without
 * a password costs one dummy verification.  CF_E_AUTH on any mismatch;
 * other codes are server-side failures. */
static cf_err
check_password(struct cf_core *c, const struct cf_principal_rec *p,
    const char *pw, size_t len, struct cf_error *err)
{
	struct cf_pwhash_params	 params;
	char			 stored[CF_PWHASH_MAX];
	char			 fresh[CF_PWHASH_STR_MAX];
	cf_err			 rc;

	pw_params(c, &params);
	if (pw == NULL) {
		pw = "";
		len = 0;
	}
	if (p == NULL || !p->has_password) {
		(void)cf_password_verify_dummy(pw, len, &params, NULL);
		return CF_E_AUTH;
	}
	rc = cf_meta_password_get(c->meta, p->id, stored, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_password_verify(stored, pw, len, NULL);
	if (rc == CF_E_INPUT)
		log_warnx("event=bad_password_hash principal=%s", p->name);
	if (rc == CF_OK && cf_password_needs_rehash(stored, &params)) {
		/* Best effort: the login succeeds either way. */
		if (cf_password_hash(pw, len, &params, fresh, NULL) == CF_OK &&
		    cf_meta_password_rehash(c->meta, p->id, stored, fresh,
		    NULL) == CF_OK)
			log_info("event=password_rehashed principal=%s",
			    p->name);
		cf_wipe(fresh, sizeof(fresh));
	}
	cf_wipe(stored, sizeof(stored));
	if (rc == CF_E_NOMEM)
		return cf_error_set(err, rc, "out of memory");
	return rc == CF_OK ? CF_OK : CF_E_AUTH;
}

/* The TOTP key of an enrollment, unwrapped; the caller frees it. */
static cf_err
mfa_key(struct cf_core *c, const struct cf_mfa_rec *m, struct cf_key **key,
    struct cf_error *err)
{
	char	ad[64];
	cf_err	rc;

	(void)snprintf(ad, sizeof(ad), "mfa:%lld", (long long)m->principal_id);
	(void)pthread_mutex_lock(&c->kr_lock);
	rc = cf_keyprov_unwrap(c->kp, m->kek_id, ad, strlen(ad), m->wrapped,
	    key, err);
	(void)pthread_mutex_unlock(&c->kr_lock);
	return rc;
}

/* Check a TOTP code for pid and record its step (replay-safe).  pending:
 * also accept an enrollment not yet confirmed.  CF_E_AUTH on a wrong,
 * malformed or reused code; CF_E_CONFLICT when not enrolled. */
static cf_err
check_code(struct cf_core *c, int64_t pid, const char *code, bool pending,
    struct cf_error *err)
{
	struct cf_mfa_rec	 m;
	struct cf_key		*key = NULL;
	int64_t			 step = 0;
	size_t			 n;
	cf_err			 rc;

	rc = cf_meta_mfa_get(c->meta, pid, &m, err);
	if (rc == CF_E_NOTFOUND || (rc == CF_OK && !m.enabled && !pending)) {
		cf_error_clear(err);
		return cf_error_set(err, CF_E_CONFLICT,
		    "MFA is not enabled for this user");
	}
	if (rc != CF_OK)
		return rc;
	if (code == NULL)
		return CF_E_AUTH;
	n = strnlen(code, CODE_MAX);
	rc = mfa_key(c, &m, &key, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_totp_verify(cf_key_bytes(key), CF_TOTP_SECRET_LEN, code, n,
	    cf_now_us() / 1000000, 1, m.last_step, &step, NULL);
	if (rc == CF_OK)
		rc = cf_meta_mfa_use_step(c->meta, pid, step, NULL);
	if (rc != CF_OK)
		rc = CF_E_AUTH;
out:
	cf_key_free(key);
	cf_wipe(&m, sizeof(m));
	return rc;
}

/* Check a recovery code and, with consume, mark it used (a commit of its
 * own, outside any audited transaction).  CF_E_AUTH when it does not match
 * an unused code; CF_E_CONFLICT when MFA is not enabled (SEC: the codes
 * of an enrollment not yet confirmed prove nothing). */
static cf_err
check_recovery(struct cf_core *c, int64_t pid, const char *input,
    bool consume, struct cf_error *err)
{
	struct cf_mfa_rec	m;
	uint8_t			hashes[CF_RECOVERY_MAX][CF_SHA256_LEN];
	size_t			n = 0, idx = 0;
	cf_err			rc;

	rc = cf_meta_mfa_get(c->meta, pid, &m, err);
	if (rc == CF_E_NOTFOUND || (rc == CF_OK && !m.enabled)) {
		cf_wipe(&m, sizeof(m));
		cf_error_clear(err);
		return cf_error_set(err, CF_E_CONFLICT,
		    "MFA is not enabled for this user");
	}
	cf_wipe(&m, sizeof(m));
	if (rc != CF_OK)
		return rc;
	if (input == NULL)
		return CF_E_AUTH;
	rc = cf_meta_recovery_list(c->meta, pid, hashes, CF_RECOVERY_MAX, &n,
	    err);
	if (rc != CF_OK)
		goto out;
	if (n == 0) {
		rc = CF_E_AUTH;
		goto out;
	}
	rc = cf_recovery_code_verify(input, strnlen(input, CODE_MAX),
	    (const uint8_t (*)[CF_SHA256_LEN])hashes, n, &idx, NULL);
	if (rc == CF_OK && consume)
		rc = cf_meta_recovery_use(c->meta, pid, hashes[idx],
		    cf_now_us(), NULL);
	if (rc != CF_OK)
		rc = CF_E_AUTH;
out:
	cf_wipe(hashes, sizeof(hashes));
	return rc;
}

static cf_err
auth_fail(struct cf_req *r, const char *code, const char *msg,
    struct cf_error *err)
{
	r->allowed = false;
	r->errcode = code;
	return cf_error_set(err, CF_E_AUTH, "%s", msg);
}

/* ---- sessions ---- */

cf_err
cf_core_login(struct cf_core *c, struct cf_req *r, const char *user,
    const char *password, size_t pwlen, const char *code,
    const char *recovery, json_t **out, struct cf_error *err)
{
	struct cf_principal_rec	 p;
	struct cf_mfa_rec	 m;
	struct cf_token_rec	 tok;
	struct fail_keys	 k;
	struct core_act		 act;
	char			 token[CF_TOKEN_STR_MAX];
	char			 res[CF_RESOURCE_MAX];
	bool			 found = false, mfa = false;
	int64_t			 now;
	cf_err			 rc;

	memset(&p, 0, sizeof(p));
	if (user != NULL && cf_name_principal_valid(user))
		(void)snprintf(res, sizeof(res), "user/%s", user);
	else
		cf_strlcpy(res, "user/?", sizeof(res));
	/* Needs no credential: the password (and code) decide below. */
	rc = core_authorize_open(c, r, "session:login", res, false, err);
	if (rc != CF_OK)
		return rc;
	if ((code != NULL && strnlen(code, CODE_MAX + 1) > 16) ||
	    (recovery != NULL && strnlen(recovery, CODE_MAX + 1) > CODE_MAX))
		return cf_error_set(err, CF_E_INPUT, "code too long");
	fail_keys_init(&k, r, user);
	rc = throttle_check(c, r, &k, err);
	if (rc != CF_OK)
		return rc;
	if (user != NULL && cf_name_principal_valid(user)) {
		rc = cf_meta_principal_get(c->meta, user, &p, err);
		if (rc == CF_OK)
			found = strcmp(p.kind, "user") == 0;
		else if (rc == CF_E_NOTFOUND) {
			cf_error_clear(err);
			rc = CF_OK;
		} else
			return rc;
	}
	/* SEC: the same work for every failure (see the top comment). */
	rc = check_password(c, found ? &p : NULL, password, pwlen, err);
	if (rc == CF_OK && p.disabled)
		rc = CF_E_AUTH;
	if (rc == CF_E_AUTH) {
		throttle_fail(c, r, &k, "invalid credentials");
		return auth_fail(r, "invalid_credentials",
		    "invalid user name or password", err);
	}
	if (rc != CF_OK)
		return rc;
	rc = cf_meta_mfa_get(c->meta, p.id, &m, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		m.enabled = false;
	} else if (rc != CF_OK)
		return rc;
	if (!m.enabled && (code != NULL || recovery != NULL)) {
		/* Only after the password verified, so this says nothing
		 * about a user to someone without the password.  Refused
		 * rather than ignored: a caller who believes the account has
		 * MFA must learn that it has none. */
		cf_wipe(&m, sizeof(m));
		throttle_release(c, &k, false);
		cf_strlcpy(r->reasons, "code given, no MFA",
		    sizeof(r->reasons));
		return cf_error_set(err, CF_E_INPUT, "this user has no MFA: "
		    "log in without a code");
	}
	if (m.enabled) {
		cf_wipe(&m, sizeof(m));
		if (code == NULL && recovery == NULL) {
			/* The password was right: not a failed guess. */
			throttle_release(c, &k, false);
			cf_strlcpy(r->reasons, "mfa required",
			    sizeof(r->reasons));
			return auth_fail(r, "mfa_required", "this user has MFA "
			    "enabled: give a code (or a recovery code)", err);
		}
		if (code != NULL)
			rc = check_code(c, p.id, code, false, err);
		else
			rc = check_recovery(c, p.id, recovery, true, err);
		if (rc == CF_E_AUTH || rc == CF_E_CONFLICT) {
			cf_error_clear(err);
			throttle_fail(c, r, &k, "invalid code");
			return auth_fail(r, "invalid_code",
			    "invalid or already used code", err);
		}
		if (rc != CF_OK)
			return rc;
		mfa = true;
	}
	now = cf_now_us();
	/* The record of the login is made before the session exists. */
	r->principal = p;
	r->authenticated = true;
	r->authn = "password";
	r->mfa = mfa;
	r->mfa_age = mfa ? 0 : -1;
	r->allowed = true;
	cf_strlcpy(r->reasons, mfa ? (code != NULL ? "password+totp" :
	    "password+recovery") : "password", sizeof(r->reasons));
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = core_token_mint(c, &act, p.id, "session",
		    (uint64_t)c->cfg.session_ttl, "session", mfa ? now : 0,
		    NULL, &tok, token, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	throttle_ok(c, &k);
	cf_strlcpy(r->token_id, tok.id, sizeof(r->token_id));
	log_info("event=login principal=%s source=%s mfa=%s session=%s",
	    p.name, r->source, mfa ? "yes" : "no", tok.id);
	*out = json_pack("{s:s,s:s,s:s,s:o,s:b}", "token", token, "id",
	    tok.id, "principal", p.name, "expires",
	    core_time_json(tok.expires_us), "mfa", mfa);
	cf_wipe(token, sizeof(token));
	return *out == NULL ? nomem(err) : CF_OK;
}

static bool
is_session(const struct cf_req *r)
{
	return r->authenticated && strcmp(r->authn, "session") == 0;
}

/* SEC: MFA is enrolled from a password session only: an API token (or an
 * OIDC token) that leaked must not be able to attach its holder's
 * authenticator to the account. */
static cf_err
need_session(struct cf_req *r, struct cf_error *err)
{
	if (is_session(r))
		return CF_OK;
	r->allowed = false;
	cf_strlcpy(r->reasons, "needs a password session",
	    sizeof(r->reasons));
	return cf_error_set(err, CF_E_DENIED, "MFA is enrolled from a "
	    "password session (POST /v1/login, coffer login --user)");
}

cf_err
cf_core_logout(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	struct core_act	act;
	char		res[CF_RESOURCE_MAX];
	cf_err		rc;

	(void)snprintf(res, sizeof(res), "session/%s", r->token_id);
	rc = core_authorize_self(c, r, "session:logout", res, err);
	if (rc != CF_OK)
		return rc;
	if (!is_session(r))
		return cf_error_set(err, CF_E_INPUT,
		    "not a session (revoke API tokens with DELETE "
		    "/v1/tokens/{id})");
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_token_revoke(c->meta, &act.au, r->token_id,
		    cf_now_us(), err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	*out = json_pack("{s:s}", "revoked", r->token_id);
	return *out == NULL ? nomem(err) : CF_OK;
}

/* SEC: a session that proves its second factor (step-up, or confirming
 * an enrollment) is replaced by a new one with MFA, and the old one is
 * revoked: a copy of the old token (taken from a file, a log, a shared
 * terminal, or the bootstrap file before the admin enrolled) never
 * gains the second factor.  The new session ends when the old one would
 * have.  covering: the caller's act whose record (written already)
 * covers the rotation too (confirming an enrollment records that
 * change), or NULL: the rotation is the request's own act.  The token's
 * JSON goes to *tokj. */
static cf_err
session_rotate(struct cf_core *c, struct cf_req *r, int64_t now,
    struct core_act *covering, json_t **tokj, struct cf_error *err)
{
	struct cf_token_rec	 old, tok;
	struct core_act		 own, *act = covering;
	char			 token[CF_TOKEN_STR_MAX];
	int64_t			 left;
	cf_err			 rc;

	rc = cf_meta_token_get(c->meta, r->token_id, &old, err);
	if (rc != CF_OK)
		return rc;
	left = old.expires_us > now ? (old.expires_us - now + 999999) /
	    1000000 : 1;
	/* The old one is revoked first, in the same audited act as the
	 * mint: if the mint fails the caller logs in again, never holds
	 * two. */
	if (act == NULL) {
		act = &own;
		rc = core_act_begin(act, c, r, 200, err);
	}
	if (rc == CF_OK)
		rc = cf_meta_token_revoke(c->meta, &act->au, old.id, now, err);
	if (rc == CF_OK)
		rc = core_token_mint(c, act, r->principal.id, "session",
		    (uint64_t)left, old.description, now, NULL, &tok, token,
		    err);
	if (act == &own)
		rc = core_act_end(act, rc);
	if (rc == CF_OK) {
		*tokj = json_pack("{s:s,s:s,s:o}", "token", token, "id",
		    tok.id, "expires", core_time_json(tok.expires_us));
		if (*tokj == NULL)
			rc = nomem(err);
	}
	if (rc == CF_OK && strcmp(old.description, "bootstrap") == 0)
		core_bootstrap_spent(c);
	cf_wipe(token, sizeof(token));
	cf_wipe(old.hash, sizeof(old.hash));
	return rc;
}

cf_err
cf_core_session_mfa(struct cf_core *c, struct cf_req *r, const char *code,
    json_t **out, struct cf_error *err)
{
	struct fail_keys	k;
	char			res[CF_RESOURCE_MAX];
	json_t			*tokj = NULL;
	int64_t			now;
	cf_err			rc;

	(void)snprintf(res, sizeof(res), "session/%s", r->token_id);
	rc = core_authorize_self(c, r, "session:stepup", res, err);
	if (rc != CF_OK)
		return rc;
	if (!is_session(r))
		return cf_error_set(err, CF_E_INPUT, "not a session (log in "
		    "with POST /v1/login)");
	fail_keys_init(&k, r, r->principal.name);
	rc = throttle_check(c, r, &k, err);
	if (rc != CF_OK) {
		r->allowed = false;
		return rc;
	}
	rc = check_code(c, r->principal.id, code, false, err);
	if (rc == CF_E_AUTH) {
		throttle_fail(c, r, &k, "invalid code");
		return auth_fail(r, "invalid_code",
		    "invalid or already used code", err);
	}
	if (rc != CF_OK) {
		r->allowed = false;
		return rc;
	}
	now = cf_now_us();
	r->mfa = true;
	r->mfa_age = 0;
	cf_strlcpy(r->reasons, "self+totp", sizeof(r->reasons));
	rc = session_rotate(c, r, now, NULL, &tokj, err);
	if (rc != CF_OK)
		return rc;
	throttle_ok(c, &k);
	if (json_object_set_new(tokj, "mfa", json_true()) != 0 ||
	    json_object_set_new(tokj, "mfa_at", core_time_json(now)) != 0) {
		json_decref(tokj);
		return nomem(err);
	}
	*out = tokj;
	return CF_OK;
}

/* ---- users ---- */

static cf_err
link_json(void *arg, const struct cf_oidc_link_rec *l, struct cf_error *err)
{
	json_t	*o;

	o = json_pack("{s:s,s:s}", "issuer", l->issuer, "subject",
	    l->subject);
	if (o == NULL || json_array_append_new(arg, o) != 0)
		return nomem(err);
	return CF_OK;
}

/* NULL when out of memory (or the links cannot be read: fail closed
 * rather than show a user as unlinked). */
static json_t *
user_json(struct cf_core *c, const struct cf_principal_rec *p)
{
	struct cf_mfa_rec	m;
	bool			mfa_enabled = false;
	json_t			*links, *attrs = NULL;

	if (cf_meta_mfa_get(c->meta, p->id, &m, NULL) == CF_OK)
		mfa_enabled = m.enabled;
	cf_wipe(&m, sizeof(m));
	links = json_array();
	if (links == NULL || cf_meta_oidc_link_list(c->meta, p->id, link_json,
	    links, NULL) != CF_OK ||
	    cf_meta_attrs_get(c->meta, p->id, &attrs, NULL) != CF_OK) {
		json_decref(links);
		return NULL;
	}
	return json_pack("{s:s,s:s,s:b,s:b,s:b,s:b,s:b,s:o,s:o,s:o}", "name",
	    p->name, "kind", p->kind, "disabled", p->disabled, "has_password",
	    p->has_password, "mfa_enabled", mfa_enabled, "mfa_required",
	    p->mfa_required, "provisioned", p->provisioned, "oidc_links",
	    links, "attributes", attrs, "created",
	    core_time_json(p->created_us));
}

/* Policy check and hash of a new password for user. */
static cf_err
new_password(struct cf_core *c, struct cf_req *r, const char *user,
    const char *pw, size_t len, char out[CF_PWHASH_STR_MAX],
    struct cf_error *err)
{
	struct cf_password_policy	pol;
	struct cf_pwhash_params		params;
	cf_err				rc;

	cf_password_policy_default(&pol);
	pol.min_len = c->cfg.password_min_length;
	rc = cf_password_check(&pol, pw, len, user, err);
	if (rc == CF_E_INPUT || rc == CF_E_LIMIT) {
		r->errcode = "weak_password";
		return CF_E_INPUT;
	}
	if (rc != CF_OK)
		return rc;
	pw_params(c, &params);
	return cf_password_hash(pw, len, &params, out, err);
}

cf_err
cf_core_user_create(struct cf_core *c, struct cf_req *r, const char *name,
    const char *password, size_t pwlen, json_t **out, struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct core_act		act;
	char			res[CF_RESOURCE_MAX], hash[CF_PWHASH_STR_MAX];
	cf_err			rc;

	hash[0] = '\0';
	(void)snprintf(res, sizeof(res), "user/%s", name);
	rc = core_authorize_grant(c, r, "user:create", NULL, res, err);
	if (rc != CF_OK)
		return rc;
	if (!cf_name_principal_valid(name)) {
		r->errcode = "invalid_name";
		return cf_error_set(err, CF_E_INPUT, "invalid user name "
		    "(1-63 of a-z 0-9 . _ -, starting with a letter or digit)");
	}
	if (password != NULL) {
		rc = new_password(c, r, name, password, pwlen, hash, err);
		if (rc != CF_OK)
			goto out;
	}
	memset(&p, 0, sizeof(p));
	cf_strlcpy(p.name, name, sizeof(p.name));
	cf_strlcpy(p.kind, "user", sizeof(p.kind));
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_principal_create(c->meta, &act.au, &p, err);
	if (rc == CF_OK && hash[0] != '\0') {
		rc = cf_meta_password_set(c->meta, &act.au, p.id, hash, 0, NULL,
		    NULL, err);
		p.has_password = true;
	}
	rc = core_act_end(&act, rc);
	if (rc == CF_OK) {
		*out = user_json(c, &p);
		if (*out == NULL)
			rc = nomem(err);
	}
out:
	cf_wipe(hash, sizeof(hash));
	return rc;
}

struct user_list_ctx {
	struct cf_core	*c;
	json_t		*arr;
};

static cf_err
user_list_cb(void *arg, const struct cf_principal_rec *p, struct cf_error *err)
{
	struct user_list_ctx	*x = arg;

	if (strcmp(p->kind, "user") != 0)
		return CF_OK;
	if (json_array_append_new(x->arr, user_json(x->c, p)) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_user_list(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	struct user_list_ctx	x;
	cf_err			rc;

	rc = core_authorize(c, r, "user:list", NULL, "users", err);
	if (rc != CF_OK)
		return rc;
	x.c = c;
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_principal_list(c->meta, user_list_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "users", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

/* The user named name (kind user); CF_E_NOTFOUND otherwise. */
static cf_err
get_user(struct cf_core *c, const char *name, struct cf_principal_rec *p,
    struct cf_error *err)
{
	cf_err	rc;

	if (!cf_name_principal_valid(name))
		return cf_error_set(err, CF_E_NOTFOUND, "no such user");
	rc = cf_meta_principal_get(c->meta, name, p, err);
	if (rc == CF_OK && strcmp(p->kind, "user") != 0)
		rc = cf_error_set(err, CF_E_NOTFOUND, "no such user");
	return rc;
}

/* An admin operation on user name: authorize action on the resource
 * "user/NAME/WHAT", then load the user (CF_E_NOTFOUND if none). */
static cf_err
admin_on_user(struct cf_core *c, struct cf_req *r, const char *action,
    const char *name, const char *what, struct cf_principal_rec *p,
    struct cf_error *err)
{
	char	res[CF_RESOURCE_MAX];
	cf_err	rc;

	(void)snprintf(res, sizeof(res), "user/%s/%s", name, what);
	rc = core_authorize(c, r, action, NULL, res, err);
	if (rc != CF_OK)
		return rc;
	return get_user(c, name, p, err);
}

cf_err
cf_core_user_get(struct cf_core *c, struct cf_req *r, const char *name,
    json_t **out, struct cf_error *err)
{
	struct cf_principal_rec	p;
	char			res[CF_RESOURCE_MAX];
	cf_err			rc;

	(void)snprintf(res, sizeof(res), "user/%s", name);
	rc = core_authorize(c, r, "user:list", NULL, res, err);
	if (rc == CF_OK)
		rc = get_user(c, name, &p, err);
	if (rc != CF_OK)
		return rc;
	*out = user_json(c, &p);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_user_passwd(struct cf_core *c, struct cf_req *r, const char *name,
    const char *password, size_t pwlen, const char *current, size_t curlen,
    json_t **out, struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct fail_keys	k;
	struct core_act		act;
	char			res[CF_RESOURCE_MAX], hash[CF_PWHASH_STR_MAX];
	size_t			nrev = 0;
	bool			self;
	cf_err			rc;

	hash[0] = '\0';
	(void)snprintf(res, sizeof(res), "user/%s/password", name);
	self = r->authenticated && strcmp(name, r->principal.name) == 0;
	if (self)
		rc = core_authorize_self(c, r, "user:passwd", res, err);
	else
		rc = core_authorize_grant(c, r, "user:passwd", NULL, res,
		    err);
	if (rc != CF_OK)
		return rc;
	rc = get_user(c, name, &p, err);
	if (rc != CF_OK)
		return rc;
	if (self && !p.has_password && (!r->interactive ||
	    !core_can(c, r, "user:passwd", NULL))) {
		/* SEC: an account without a password (API tokens or OIDC
		 * only) gets its first one from an admin.  Otherwise anyone
		 * holding one of its tokens could add a password, then MFA,
		 * and keep the account after the token is revoked or the
		 * identity provider drops the user.  An admin signed in (the
		 * bootstrap session) may; an admin's API token may not, or
		 * it would reach MFA through an enrollment it made. */
		r->allowed = false;
		cf_strlcpy(r->reasons, "first password needs admin",
		    sizeof(r->reasons));
		return cf_error_set(err, CF_E_DENIED, "this account has no "
		    "password: an admin sets the first one");
	}
	if (self) {
		/* SEC: changing one's own password needs the current one,
		 * so a stolen session cannot take the account over. */
		fail_keys_init(&k, r, name);
		rc = throttle_check(c, r, &k, err);
		if (rc != CF_OK) {
			r->allowed = false;
			return rc;
		}
		if (current == NULL && p.has_password) {
			throttle_release(c, &k, false);
			r->allowed = false;
			return cf_error_set(err, CF_E_INPUT,
			    "current_password is required");
		}
		if (p.has_password) {
			rc = check_password(c, &p, current, curlen, err);
			if (rc == CF_E_AUTH) {
				throttle_fail(c, r, &k, "invalid credentials");
				return auth_fail(r, "invalid_credentials",
				    "current password is wrong", err);
			}
			if (rc != CF_OK)
				return rc;
		}
		throttle_ok(c, &k);
	}
	rc = new_password(c, r, name, password, pwlen, hash, err);
	if (rc != CF_OK) {
		cf_wipe(hash, sizeof(hash));
		return rc;
	}
	/* SEC: a new password ends the sessions opened with the old one
	 * (all of them after an admin reset; the others when one changes
	 * one's own), in the same transaction.  API tokens are not sessions
	 * and stay. */
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_password_set(c->meta, &act.au, p.id, hash,
		    cf_now_us(), self && is_session(r) ? r->token_id : NULL,
		    &nrev, err);
	cf_wipe(hash, sizeof(hash));
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	p.has_password = true;
	log_info("event=password_changed principal=%s by=%s "
	    "sessions_revoked=%zu", name, r->principal.name, nrev);
	*out = user_json(c, &p);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_user_disable(struct cf_core *c, struct cf_req *r, const char *name,
    bool disable, json_t **out, struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct core_act		act;
	cf_err			rc;

	rc = admin_on_user(c, r, "user:disable", name,
	    disable ? "disable" : "enable", &p, err);
	if (rc != CF_OK)
		return rc;
	/* SEC: a disabled user's credentials are refused at once anyway
	 * (cf_core_authenticate); revoking the sessions as well (in the
	 * same transaction) means that enabling the user again does not
	 * bring them back.  API tokens work again after enable. */
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_principal_set_disabled(c->meta, &act.au, p.id,
		    disable, disable ? cf_now_us() : 0, NULL, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	p.disabled = disable;
	*out = user_json(c, &p);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_user_mfa_required(struct cf_core *c, struct cf_req *r,
    const char *name, bool required, json_t **out, struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct core_act		act;
	cf_err			rc;

	rc = admin_on_user(c, r, "user:mfa-required", name, "mfa-required",
	    &p, err);
	/* SEC: dropping the flag lowers what a credential needs: the grant
	 * rule.  Setting it only raises the bar. */
	if (rc == CF_OK && !required)
		rc = core_grant_check(c, r, err);
	if (rc != CF_OK)
		return rc;
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_principal_set_mfa_required(c->meta, &act.au,
		    p.id, required, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	p.mfa_required = required;
	*out = user_json(c, &p);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_user_mfa_reset(struct cf_core *c, struct cf_req *r, const char *name,
    json_t **out, struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct core_act		act;
	size_t			nrev = 0;
	cf_err			rc;

	rc = admin_on_user(c, r, "user:mfa-reset", name, "mfa", &p, err);
	/* SEC: a reset opens the account to a new authenticator: the grant
	 * rule. */
	if (rc == CF_OK)
		rc = core_grant_check(c, r, err);
	if (rc != CF_OK)
		return rc;
	if (strcmp(name, r->principal.name) == 0) {
		/* SEC: one's own second factor goes only with proof of both
		 * factors (mfa:disable); otherwise an admin API token alone,
		 * which never carries MFA, could strip its owner's. */
		r->allowed = false;
		cf_strlcpy(r->reasons, "own MFA: use mfa disable",
		    sizeof(r->reasons));
		return cf_error_set(err, CF_E_DENIED, "to turn off your own "
		    "MFA use mfa disable (password and a code or recovery "
		    "code)");
	}
	/* SEC: a reset is for a lost or stolen second factor, so the
	 * sessions that may have been opened with it end, as after an admin
	 * password reset, in the same transaction (never MFA gone and the
	 * sessions alive).  API tokens are not sessions and stay. */
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_mfa_delete(c->meta, &act.au, p.id, cf_now_us(),
		    &nrev, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	log_info("event=mfa_reset principal=%s by=%s sessions_revoked=%zu",
	    name, r->principal.name, nrev);
	*out = user_json(c, &p);
	return *out == NULL ? nomem(err) : CF_OK;
}

/* An OIDC issuer or subject from an admin: printable UTF-8 of 1..max
 * bytes. */
static bool
oidc_text_ok(const char *s, size_t max)
{
	size_t	n, i;

	if (s == NULL)
		return false;
	n = strnlen(s, max + 1);
	if (n == 0 || n > max || !cf_utf8_valid(s, n))
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Shared by link and unlink: authorize, check the input, load the user.
 * SEC: a link hands the account to whoever the IdP says holds the
 * subject, so linking is held to the grant rule like user:create. */
static cf_err
oidc_link_prepare(struct cf_core *c, struct cf_req *r, bool link,
    const char *name, const char *issuer, const char *subject,
    struct cf_principal_rec *p, struct cf_error *err)
{
	size_t	i;
	bool	known = false;
	cf_err	rc;

	rc = admin_on_user(c, r, link ? "user:link-oidc" : "user:unlink-oidc",
	    name, "oidc-links", p, err);
	if (rc == CF_OK && link)
		rc = core_grant_check(c, r, err);
	if (rc != CF_OK)
		return rc;
	if (!oidc_text_ok(issuer, CF_OIDC_ISS_MAX - 1) ||
	    !oidc_text_ok(subject, CF_JWT_SUB_MAX)) {
		r->allowed = false;
		r->errcode = "bad_request";
		cf_strlcpy(r->reasons, "bad issuer or subject",
		    sizeof(r->reasons));
		return cf_error_set(err, CF_E_INPUT, "issuer and subject must "
		    "be non-empty printable text (subject at most %d bytes)",
		    CF_JWT_SUB_MAX);
	}
	for (i = 0; i < c->niss; i++)
		known = known || strcmp(c->iss[i].issuer, issuer) == 0;
	/* Unlinking works for an issuer no longer configured (clean-up);
	 * linking to one that is not configured is a typo. */
	if (link && !known) {
		r->allowed = false;
		r->errcode = "bad_request";
		cf_strlcpy(r->reasons, "issuer not configured",
		    sizeof(r->reasons));
		return cf_error_set(err, CF_E_INPUT, "issuer \"%.200s\" is not "
		    "configured (oidc_issuer, oidc_config_file); it must match "
		    "the tokens' iss exactly", issuer);
	}
	return CF_OK;
}

cf_err
cf_core_user_oidc_link(struct cf_core *c, struct cf_req *r, const char *name,
    const char *issuer, const char *subject, bool *created, json_t **out,
    struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct core_act		act;
	bool			made = false;
	cf_err			rc;

	rc = oidc_link_prepare(c, r, true, name, issuer, subject, &p, err);
	if (rc != CF_OK)
		return rc;
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_oidc_link_add(c->meta, &act.au, issuer,
		    subject, p.id, false, core_now_us(c), &made, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_CONFLICT) {
		r->errcode = "already_linked";
		return cf_error_set(err, CF_E_CONFLICT, "that issuer and "
		    "subject are linked to another user; unlink them there "
		    "first");
	}
	if (rc != CF_OK)
		return rc;
	log_info("event=oidc_linked principal=%s by=%s", name,
	    r->principal.name);
	if (created != NULL)
		*created = made;
	*out = user_json(c, &p);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_user_oidc_unlink(struct cf_core *c, struct cf_req *r,
    const char *name, const char *issuer, const char *subject, json_t **out,
    struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct core_act		act;
	cf_err			rc;

	rc = oidc_link_prepare(c, r, false, name, issuer, subject, &p, err);
	if (rc != CF_OK)
		return rc;
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_oidc_link_remove(c->meta, &act.au, issuer,
		    subject, p.id, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_NOTFOUND) {
		r->errcode = "no_such_link";
		return cf_error_set(err, CF_E_NOTFOUND,
		    "no such link for this user");
	}
	if (rc != CF_OK)
		return rc;
	log_info("event=oidc_unlinked principal=%s by=%s", name,
	    r->principal.name);
	*out = user_json(c, &p);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_role_mfa_required(struct cf_core *c, struct cf_req *r,
    const char *role, bool required, json_t **out, struct cf_error *err)
{
	struct core_act	act;
	char		res[CF_RESOURCE_MAX];
	cf_err		rc;

	(void)snprintf(res, sizeof(res), "role/%s/mfa-required", role);
	rc = core_authorize(c, r, "role:mfa-required", NULL, res, err);
	if (rc == CF_OK && !required)
		rc = core_grant_check(c, r, err);
	if (rc != CF_OK)
		return rc;
	if (!cf_name_role_valid(role) &&
	    !core_authz_role_exists(c, role, true) &&
	    !core_authz_role_exists(c, role, false)) {
		r->errcode = "invalid_name";
		return cf_error_set(err, CF_E_INPUT, "invalid role (reader, "
		    "writer, owner, admin or a custom role: coffer role ls)");
	}
	/* SEC: flagging admin makes every admin request need MFA; made
	 * without MFA, it could leave no admin able to get in (the
	 * bootstrap admin has only an API token).  Whoever sets it must
	 * show that MFA works for them now. */
	if (required && strcmp(role, "admin") == 0 &&
	    !core_mfa_fresh(c, r, CORE_MFA_ADMIN)) {
		r->allowed = false;
		r->errcode = "bad_request";
		cf_strlcpy(r->reasons, "admin flag needs mfa",
		    sizeof(r->reasons));
		return cf_error_set(err, CF_E_INPUT, "flagging the admin role "
		    "as MFA-required needs a request made with recent MFA (a "
		    "session after a code, or an OIDC token with amr mfa, "
		    "within mfa_max_age_admin), so that an admin can still get "
		    "in afterwards");
	}
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_role_mfa_set(c->meta, &act.au, role, required,
		    err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	*out = json_pack("{s:s,s:b}", "role", role, "mfa_required", required);
	return *out == NULL ? nomem(err) : CF_OK;
}

/* ---- MFA enrollment ---- */

cf_err
cf_core_mfa_enroll(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	struct cf_mfa_rec	 m;
	struct cf_key		*key = NULL;
	uint8_t			 hashes[CF_RECOVERY_CODES_DEFAULT]
				    [CF_SHA256_LEN];
	char			 codes[CF_RECOVERY_CODES_DEFAULT]
				    [CF_RECOVERY_CODE_LEN + 1];
	char			 b32[CF_TOTP_B32_MAX], uri[CF_TOTP_URI_MAX];
	char			 ad[64], res[CF_RESOURCE_MAX];
	struct core_act		 act;
	json_t			*arr = NULL;
	size_t			 i;
	bool			 kek_held = false;
	cf_err			 rc;

	memset(codes, 0, sizeof(codes));
	b32[0] = uri[0] = '\0';
	(void)snprintf(res, sizeof(res), "user/%s/mfa", r->principal.name);
	rc = core_authorize_self(c, r, "mfa:enroll", res, err);
	if (rc != CF_OK)
		return rc;
	if ((rc = need_session(r, err)) != CF_OK)
		return rc;
	if (strcmp(r->principal.kind, "user") != 0)
		return cf_error_set(err, CF_E_INPUT,
		    "only users can enroll in MFA");
	rc = cf_meta_mfa_get(c->meta, r->principal.id, &m, err);
	if (rc == CF_OK && m.enabled) {
		cf_wipe(&m, sizeof(m));
		return cf_error_set(err, CF_E_CONFLICT,
		    "MFA is already enabled (disable it first)");
	}
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = CF_OK;
	}
	if (rc != CF_OK)
		return rc;
	/* SEC: the TOTP secret is the first 20 bytes of a random key that
	 * is stored only wrapped by the keyring, bound to the principal. */
	memset(&m, 0, sizeof(m));
	m.principal_id = r->principal.id;
	m.created_us = cf_now_us();
	rc = cf_key_new_random(&key, err);
	if (rc != CF_OK)
		goto out;
	(void)snprintf(ad, sizeof(ad), "mfa:%lld", (long long)m.principal_id);
	/* SEC: from the wrap to the row, no KEK may be retired (keys.c,
	 * cf_core_key_retire counts rows under the write side). */
	(void)pthread_rwlock_rdlock(&c->kek_lock);
	kek_held = true;
	(void)pthread_mutex_lock(&c->kr_lock);
	rc = cf_keyprov_wrap(c->kp, key, ad, strlen(ad), m.kek_id, m.wrapped,
	    err);
	(void)pthread_mutex_unlock(&c->kr_lock);
	if (rc != CF_OK)
		goto out;
	rc = cf_totp_b32_encode(cf_key_bytes(key), CF_TOTP_SECRET_LEN, b32,
	    sizeof(b32), err);
	if (rc == CF_OK)
		rc = cf_totp_uri(TOTP_ISSUER, r->principal.name,
		    cf_key_bytes(key), CF_TOTP_SECRET_LEN, uri, err);
	for (i = 0; rc == CF_OK && i < CF_RECOVERY_CODES_DEFAULT; i++)
		rc = cf_recovery_code_new(codes[i], hashes[i], err);
	if (rc == CF_OK) {
		rc = core_act_begin(&act, c, r, 200, err);
		if (rc == CF_OK)
			rc = cf_meta_mfa_put(c->meta, &act.au, &m,
			    (const uint8_t (*)[32])hashes,
			    CF_RECOVERY_CODES_DEFAULT, err);
		rc = core_act_end(&act, rc);
	}
	(void)pthread_rwlock_unlock(&c->kek_lock);
	kek_held = false;
	if (rc != CF_OK)
		goto out;
	arr = json_array();
	for (i = 0; arr != NULL && i < CF_RECOVERY_CODES_DEFAULT; i++)
		if (json_array_append_new(arr, json_string(codes[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	if (arr == NULL) {
		rc = nomem(err);
		goto out;
	}
	log_info("event=mfa_enroll principal=%s", r->principal.name);
	*out = json_pack("{s:s,s:s,s:o}", "secret", b32, "uri", uri,
	    "recovery_codes", arr);
	if (*out == NULL)
		rc = nomem(err);
out:
	if (kek_held)
		(void)pthread_rwlock_unlock(&c->kek_lock);
	cf_key_free(key);
	cf_wipe(codes, sizeof(codes));
	cf_wipe(hashes, sizeof(hashes));
	cf_wipe(b32, sizeof(b32));
	cf_wipe(uri, sizeof(uri));
	return rc;
}

cf_err
cf_core_mfa_confirm(struct cf_core *c, struct cf_req *r, const char *code,
    json_t **out, struct cf_error *err)
{
	struct cf_mfa_rec	m;
	struct fail_keys	k;
	struct core_act		act;
	char			res[CF_RESOURCE_MAX];
	json_t			*tokj = NULL;
	int64_t			now;
	cf_err			rc;

	(void)snprintf(res, sizeof(res), "user/%s/mfa", r->principal.name);
	rc = core_authorize_self(c, r, "mfa:confirm", res, err);
	if (rc != CF_OK)
		return rc;
	if ((rc = need_session(r, err)) != CF_OK)
		return rc;
	rc = cf_meta_mfa_get(c->meta, r->principal.id, &m, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		return cf_error_set(err, CF_E_CONFLICT,
		    "no MFA enrollment to confirm (POST /v1/mfa/enroll)");
	}
	if (rc != CF_OK)
		return rc;
	if (m.enabled) {
		cf_wipe(&m, sizeof(m));
		return cf_error_set(err, CF_E_CONFLICT,
		    "MFA is already enabled");
	}
	cf_wipe(&m, sizeof(m));
	fail_keys_init(&k, r, r->principal.name);
	rc = throttle_check(c, r, &k, err);
	if (rc != CF_OK) {
		r->allowed = false;
		return rc;
	}
	rc = check_code(c, r->principal.id, code, true, err);
	if (rc == CF_E_AUTH) {
		throttle_fail(c, r, &k, "invalid code");
		return auth_fail(r, "invalid_code",
		    "invalid or already used code", err);
	}
	if (rc == CF_OK) {
		throttle_ok(c, &k);
		rc = core_act_begin(&act, c, r, 200, err);
		if (rc == CF_OK)
			rc = cf_meta_mfa_enable(c->meta, &act.au,
			    r->principal.id, err);
		rc = core_act_end(&act, rc);
	}
	if (rc != CF_OK)
		return rc;
	log_info("event=mfa_enabled principal=%s", r->principal.name);
	/* The code just checked proves the second factor, on a session
	 * that proved the first: the session is replaced by one with MFA,
	 * as after a step-up.  If that fails, MFA is on all the same and
	 * the client steps up as usual. */
	now = cf_now_us();
	r->mfa = true;
	r->mfa_age = 0;
	if (session_rotate(c, r, now, &act, &tokj, NULL) != CF_OK) {
		json_decref(tokj);
		tokj = json_object();
		if (tokj == NULL)
			return nomem(err);
	} else if (json_object_set_new(tokj, "mfa", json_true()) != 0) {
		json_decref(tokj);
		return nomem(err);
	}
	if (json_object_set_new(tokj, "mfa_enabled", json_true()) != 0) {
		json_decref(tokj);
		return nomem(err);
	}
	*out = tokj;
	return CF_OK;
}

cf_err
cf_core_mfa_disable(struct cf_core *c, struct cf_req *r, const char *password,
    size_t pwlen, const char *code, const char *recovery, json_t **out,
    struct cf_error *err)
{
	struct fail_keys	k;
	struct core_act		act;
	char			res[CF_RESOURCE_MAX];
	cf_err			rc;

	(void)snprintf(res, sizeof(res), "user/%s/mfa", r->principal.name);
	rc = core_authorize_self(c, r, "mfa:disable", res, err);
	if (rc != CF_OK)
		return rc;
	/* As for login: a longer recovery code would be cut, not refused,
	 * by check_recovery. */
	if (recovery != NULL && strnlen(recovery, CODE_MAX + 1) > CODE_MAX) {
		r->allowed = false;
		cf_strlcpy(r->reasons, "code too long", sizeof(r->reasons));
		return cf_error_set(err, CF_E_INPUT, "code too long");
	}
	fail_keys_init(&k, r, r->principal.name);
	rc = throttle_check(c, r, &k, err);
	if (rc != CF_OK) {
		r->allowed = false;
		return rc;
	}
	/* SEC: a fresh password and a fresh code, whatever the session. */
	rc = check_password(c, &r->principal, password, pwlen, err);
	if (rc == CF_E_AUTH) {
		throttle_fail(c, r, &k, "invalid credentials");
		return auth_fail(r, "invalid_credentials",
		    "invalid password", err);
	}
	if (rc != CF_OK)
		return rc;
	/* The second factor: a current code or, for a lost phone, an unused
	 * recovery code (consumed), as for login. */
	if (code != NULL || recovery == NULL)
		rc = check_code(c, r->principal.id, code, false, err);
	else
		/* Not consumed here: disabling deletes every code, inside
		 * the audited transaction, so a disable that fails (or
		 * whose record cannot be written) leaves the code usable. */
		rc = check_recovery(c, r->principal.id, recovery, false,
		    err);
	if (rc == CF_E_AUTH) {
		throttle_fail(c, r, &k, "invalid code");
		return auth_fail(r, "invalid_code",
		    "invalid or already used code", err);
	}
	if (rc == CF_OK) {
		cf_strlcpy(r->reasons, code != NULL || recovery == NULL ?
		    "self+totp" : "self+recovery", sizeof(r->reasons));
		rc = core_act_begin(&act, c, r, 200, err);
		if (rc == CF_OK)
			rc = cf_meta_mfa_delete(c->meta, &act.au,
			    r->principal.id, 0, NULL, err);
		rc = core_act_end(&act, rc);
	}
	if (rc != CF_OK) {
		r->allowed = false;
		return rc;
	}
	throttle_ok(c, &k);
	log_info("event=mfa_disabled principal=%s with=%s", r->principal.name,
	    code != NULL || recovery == NULL ? "totp" : "recovery");
	*out = json_pack("{s:b}", "mfa_enabled", 0);
	return *out == NULL ? nomem(err) : CF_OK;
}

/* ---- OIDC ---- */

_Static_assert(CF_REQ_GROUPS_MAX >= CF_JWT_GROUPS_MAX &&
    CF_REQ_GROUP_MAX >= CF_JWT_GROUP_MAX, "a token's groups fit a request");

static cf_err
jwt_binding(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	struct cf_req	*r = arg;

	if (r->nbindings >= CF_MAX_BINDINGS) {
		/* Fail closed, not out: a role that does not fit is not
		 * granted, and the request goes on without it. */
		(void)err;
		log_warnx("event=oidc_bindings_dropped principal=%s role=%s",
		    r->principal.name, b->role);
		return CF_OK;
	}
	r->bindings[r->nbindings++] = *b;
	return CF_OK;
}

/* Run a change made during authentication (create and link a new user,
 * or adopt one) as its own audited action (action on resource
 * "user/NAME", status), its record durable before the change: the
 * request itself is decided and recorded afterwards. */
struct authn_change {
	const char	*issuer, *subject;
	bool		 adopt;		/* else create r->principal */
};

static cf_err
authn_change(struct cf_core *c, struct cf_req *r, const char *action,
    const char *reasons, int status, const struct authn_change *ch,
    struct cf_error *err)
{
	struct core_act	act;
	cf_err		rc;

	r->authenticated = true;
	r->authn = "oidc";
	r->action = action;
	(void)snprintf(r->resource, sizeof(r->resource), "user/%s",
	    r->principal.name);
	r->allowed = true;
	cf_strlcpy(r->reasons, reasons, sizeof(r->reasons));
	rc = core_act_begin(&act, c, r, status, err);
	if (rc == CF_OK && ch->adopt)
		rc = cf_meta_oidc_link_add(c->meta, &act.au, ch->issuer,
		    ch->subject, r->principal.id, true, core_now_us(c), NULL,
		    err);
	else if (rc == CF_OK)
		rc = cf_meta_principal_create_linked(c->meta, &act.au,
		    &r->principal, ch->issuer, ch->subject, err);
	rc = core_act_end(&act, rc);
	r->authenticated = false;
	r->authn = "bad-token";
	r->action = "unknown";
	r->resource[0] = '\0';
	r->allowed = false;
	r->reasons[0] = '\0';
	r->audited = false;
	return rc;
}

/* The principal for a verified token: the one linked to (iss, sub);
 * else, with provisioning, a new user named by the name claim, or a user
 * provisioned before links existed (adopted once).  SEC: never any other
 * existing principal by name: a name claim is whatever the IdP (or a
 * user allowed to edit it there) says, so it must not reach the
 * bootstrap admin or an account with a password or MFA.  *refusal gets
 * the authn of a refusal (r->principal unset), or stays NULL. */
static cf_err
jwt_principal(struct cf_core *c, struct cf_req *r,
    const struct core_issuer *is, const struct cf_jwt_claims *cl,
    const char **refusal, struct cf_error *err)
{
	struct authn_change	 ch;
	int64_t			 pid = 0;
	int			 tries;
	cf_err			 rc;

	*refusal = NULL;
	if (cl->subject[0] == '\0') {
		*refusal = "oidc-no-subject";
		return CF_OK;
	}
	ch.issuer = is->issuer;
	ch.subject = cl->subject;
	/* Twice at most: a concurrent first use may create the link
	 * between our lookup and our change. */
	for (tries = 0; tries < 2; tries++) {
		rc = cf_meta_oidc_link_get(c->meta, is->issuer, cl->subject,
		    &pid, err);
		if (rc == CF_OK)
			return cf_meta_principal_get_id(c->meta, pid,
			    &r->principal, err);
		if (rc != CF_E_NOTFOUND)
			return rc;
		cf_error_clear(err);
		if (!is->provision) {
			*refusal = "oidc-unlinked-subject";
			return CF_OK;
		}
		if (!cf_name_principal_valid(cl->username)) {
			*refusal = "oidc-bad-username";
			return CF_OK;
		}
		rc = cf_meta_principal_get(c->meta, cl->username,
		    &r->principal, err);
		if (rc == CF_OK && !r->principal.oidc_adoptable) {
			*refusal = "oidc-name-taken";
			return CF_OK;
		}
		if (rc == CF_OK && r->principal.disabled) {
			*refusal = "disabled-principal";
			return CF_OK;
		}
		if (rc == CF_OK) {
			ch.adopt = true;
			rc = authn_change(c, r, "user:link-oidc",
			    "oidc adopt: provisioned before links", 200, &ch,
			    err);
			if (rc == CF_OK)
				log_info("event=oidc_adopted principal=%s",
				    r->principal.name);
		} else if (rc == CF_E_NOTFOUND) {
			cf_error_clear(err);
			memset(&r->principal, 0, sizeof(r->principal));
			cf_strlcpy(r->principal.name, cl->username,
			    sizeof(r->principal.name));
			cf_strlcpy(r->principal.kind, "user",
			    sizeof(r->principal.kind));
			r->principal.provisioned = true;
			ch.adopt = false;
			rc = authn_change(c, r, "user:provision",
			    "oidc provision", 201, &ch, err);
			if (rc == CF_OK)
				log_info("event=oidc_provisioned principal=%s",
				    r->principal.name);
		}
		if (rc != CF_E_CONFLICT)
			return rc;
		/* Name taken (or no longer adoptable) meanwhile, or the
		 * subject linked meanwhile: look again. */
		cf_error_clear(err);
	}
	*refusal = "oidc-name-taken";
	return CF_OK;
}

/* The user attributes that the issuer maps from claims (claim_attrs),
 * stored when they differ from the token's (core_oidc_attrs_sync), so
 * that audit, listings and every later decision see them.  A claim that
 * is an array or object, or a string unfit to be a value, is ignored
 * (logged): the attribute keeps what it had.  An absent (or null)
 * claim removes the attribute. */
static cf_err
jwt_attrs(struct cf_core *c, struct cf_req *r, const struct core_issuer *is,
    const struct cf_jwt_claims *cl, struct cf_error *err)
{
	const char	*names[CF_JWT_ATTRS_MAX], *authn = r->authn;
	json_t		*want;
	size_t		 i, n = 0;
	cf_err		 rc = CF_OK;

	if (is->nattr == 0)
		return CF_OK;
	want = json_object();
	if (want == NULL)
		return nomem(err);
	for (i = 0; i < is->nattr && rc == CF_OK; i++) {
		if (cl->attr_state[i] == CF_JWT_ATTR_SET &&
		    !cf_meta_attr_value_valid(cl->attrs[i],
		    strlen(cl->attrs[i])))
			goto ignored;
		if (cl->attr_state[i] == CF_JWT_ATTR_IGNORED)
			goto ignored;
		names[n++] = is->attr_name[i];
		if (cl->attr_state[i] == CF_JWT_ATTR_SET &&
		    json_object_set_new(want, is->attr_name[i],
		    json_string(cl->attrs[i])) != 0)
			rc = nomem(err);
		continue;
ignored:
		log_info("event=oidc_claim_ignored request=%s principal=%s "
		    "claim=%s attribute=%s msg=\"not a string, number or "
		    "boolean fit to be a value\"", r->request_id,
		    r->principal.name, is->attr_claim[i], is->attr_name[i]);
	}
	if (rc == CF_OK) {
		r->authn = "oidc";
		rc = core_oidc_attrs_sync(c, r, want, names, n, err);
		r->authn = authn;
	}
	json_decref(want);
	return rc;
}

/* The audit record's authn for each way a token fails verification
 * (docs/authentication.md, "Why a token was refused"). */
static const char *
jwt_fail_authn(enum cf_jwt_fail why)
{
	switch (why) {
	case CF_JWT_FAIL_NONE:			break;
	case CF_JWT_FAIL_MALFORMED:		return "oidc-malformed";
	case CF_JWT_FAIL_TOO_LARGE:		return "oidc-too-large";
	case CF_JWT_FAIL_BAD_ALG:		return "oidc-bad-alg";
	case CF_JWT_FAIL_UNKNOWN_KID:		return "oidc-unknown-kid";
	case CF_JWT_FAIL_NO_KEY:		return "oidc-no-key";
	case CF_JWT_FAIL_JWKS_UNAVAILABLE:	return "oidc-jwks-unavailable";
	case CF_JWT_FAIL_BAD_SIGNATURE:		return "oidc-bad-signature";
	case CF_JWT_FAIL_WRONG_ISSUER:		return "oidc-wrong-issuer";
	case CF_JWT_FAIL_WRONG_AUDIENCE:	return "oidc-wrong-audience";
	case CF_JWT_FAIL_EXPIRED:		return "oidc-expired";
	case CF_JWT_FAIL_NOT_YET_VALID:		return "oidc-not-yet-valid";
	case CF_JWT_FAIL_TOO_OLD:		return "oidc-too-old";
	case CF_JWT_FAIL_BAD_CLAIM:		return "oidc-bad-claim";
	case CF_JWT_FAIL_BAD_USERNAME:		return "oidc-bad-username";
	case CF_JWT_FAIL_TOO_MANY_GROUPS:	return "oidc-too-many-groups";
	case CF_JWT_FAIL_ERROR:			break;
	}
	/* Fail closed with a name that still says "refused". */
	return "oidc-error";
}

/* SEC: every refusal leaves r unauthenticated (the caller answers 401)
 * with the reason in r->authn and the server log, never in the answer. */
cf_err
core_authn_jwt(struct cf_core *c, struct cf_req *r, const char *jwt,
    struct cf_error *err)
{
	struct cf_jwt_rules	 rules;
	struct cf_jwt_claims	 cl;
	struct cf_error		 e2;
	struct cf_binding_rec	 b;
	const struct core_issuer *is;
	enum cf_jwt_fail	 why = CF_JWT_FAIL_ERROR;
	const char		*refusal = NULL;
	char			 issbuf[512], esc[2 * CF_ERROR_MSG_LEN];
	char			 esc2[2 * CF_ERROR_MSG_LEN];
	/* The core's clock (a test build may move it): the token's times
	 * and the JWKS refresh throttle are judged by it. */
	int64_t			 now = core_now_us(c) / 1000000, at;
	size_t			 i, j;
	cf_err			 rc;

	/* SEC: the unverified iss only picks whose keys and rules to use;
	 * cf_jwt_verify then checks everything, iss included, against that
	 * issuer, so a token of issuer A signed with B's key fails. */
	cf_error_clear(&e2);
	rc = cf_jwt_peek_issuer(jwt, strlen(jwt), 0, issbuf, sizeof(issbuf),
	    &why, &e2);
	is = NULL;
	for (i = 0; rc == CF_OK && i < c->niss; i++)
		if (strcmp(c->iss[i].issuer, issbuf) == 0)
			is = &c->iss[i];
	if (is == NULL) {
		r->authn = rc != CF_OK ? jwt_fail_authn(why) :
		    "oidc-unknown-issuer";
		/* The token's text may be in the message: escaped. */
		cf_log_escape(rc != CF_OK ? e2.msg : "iss not configured", esc,
		    sizeof(esc));
		log_info("event=oidc_rejected request=%s reason=%s "
		    "msg=\"%s\"", r->request_id, r->authn, esc);
		return CF_OK;
	}
	memset(&rules, 0, sizeof(rules));
	rules.issuer = is->issuer;
	rules.audience = is->audience;
	rules.skew = is->skew;
	rules.username_claim = is->username_claim;
	rules.groups_claim = set(is->groups_claim) ? is->groups_claim : NULL;
	rules.attr_claims = is->attr_claim_p;
	rules.nattr_claims = is->nattr;
	cf_error_clear(&e2);
	rc = cf_jwt_verify_why(is->jwks, jwt, strlen(jwt), &rules, now, &cl,
	    &why, &e2);
	if (rc != CF_OK) {
		r->authn = jwt_fail_authn(why);
		cf_log_escape(e2.msg, esc, sizeof(esc));
		log_info("event=oidc_rejected request=%s reason=%s msg=\"%s\"",
		    r->request_id, r->authn, esc);
		return CF_OK;
	}
	rc = jwt_principal(c, r, is, &cl, &refusal, err);
	if (rc != CF_OK)
		return rc;
	if (refusal != NULL) {
		r->authn = refusal;
		/* The subject is not secret, and it is what an admin needs
		 * for `coffer user link-oidc`; both come from a verified
		 * token but are escaped like any text. */
		cf_log_escape(cl.subject, esc, sizeof(esc));
		cf_log_escape(is->issuer, esc2, sizeof(esc2));
		log_info("event=oidc_rejected request=%s reason=%s "
		    "issuer=\"%s\" subject=\"%s\"", r->request_id, refusal,
		    esc2, esc);
		return CF_OK;
	}
	if (strcmp(r->principal.kind, "user") != 0) {
		r->authn = "oidc-not-a-user";
		return CF_OK;
	}
	if (r->principal.disabled) {
		r->authn = "disabled-principal";
		return CF_OK;
	}
	rc = cf_meta_binding_list(c->meta, r->principal.id, NULL,
	    core_now_us(c), jwt_binding, r, err);
	if (rc != CF_OK)
		return rc;
	/* The groups are the principal's parents in policies. */
	for (i = 0; i < cl.ngroups && i < CF_REQ_GROUPS_MAX; i++)
		cf_strlcpy(r->groups[i], cl.groups[i], sizeof(r->groups[i]));
	r->ngroups = i;
	/* Groups map to request-local bindings; nothing is stored. */
	for (i = 0; i < cl.ngroups; i++)
		for (j = 0; j < is->ngmap; j++) {
			if (strcmp(cl.groups[i], is->gmap[j].group) != 0)
				continue;
			memset(&b, 0, sizeof(b));
			b.principal_id = r->principal.id;
			cf_strlcpy(b.principal, r->principal.name,
			    sizeof(b.principal));
			cf_strlcpy(b.role, is->gmap[j].role, sizeof(b.role));
			cf_strlcpy(b.ns, is->gmap[j].ns, sizeof(b.ns));
			rc = jwt_binding(r, &b, err);
			if (rc != CF_OK)
				return rc;
		}
	rc = jwt_attrs(c, r, is, &cl, err);
	if (rc != CF_OK)
		return rc;
	r->authn = "oidc";
	r->interactive = true;
	r->mfa = cl.mfa;
	/* MFA happened when the user signed in (auth_time), which may be
	 * long before this token was issued (iat).  SEC: a token that says
	 * neither has MFA of unknown age (-1), which no limit accepts. */
	at = cl.auth_time != 0 ? cl.auth_time : cl.iat;
	if (cl.mfa && at != 0)
		r->mfa_age = at < now ? now - at : 0;
	r->authenticated = true;
	return CF_OK;
}

void
core_pw_params(const struct cf_core *c, struct cf_pwhash_params *p)
{
	pw_params(c, p);
}

void
core_addr_key(const char *source, char *out, size_t outsz)
{
	addr_key(source, out, outsz);
}

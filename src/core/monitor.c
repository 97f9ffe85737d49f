/* src/core/monitor.c: the reference monitor: authentication, the
 * authorization decision and the audit record of every request.
 *
 * The decision is made on (principal, action, resource, context) so that
 * the Cedar engine (src/policy) can take it over without changing any
 * caller: today the built-in roles decide. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/check.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/actions.h"
#include "core/core_int.h"

_Static_assert(offsetof(struct cf_req, bindings) <
    offsetof(struct cf_req, nbindings) &&
    offsetof(struct cf_req, nbindings) < offsetof(struct cf_req, groups) &&
    offsetof(struct cf_req, groups) < offsetof(struct cf_req, ngroups),
    "cf_req_init zeroes around bindings[] and groups[]");

void
cf_req_init(struct cf_req *r, const char *source)
{
	uint8_t	id[CF_REQ_ID_LEN / 2];
	char	*b = (char *)r;
	size_t	 ob = offsetof(struct cf_req, bindings);
	size_t	 onb = offsetof(struct cf_req, nbindings);
	size_t	 og = offsetof(struct cf_req, groups);
	size_t	 ong = offsetof(struct cf_req, ngroups);

	/* Everything zeroed but the bindings and the groups (14 of the
	 * struct's 21 KiB), whose counts are: every reader stops at the
	 * count (SEC: nothing past it is ever read), and zeroing them for
	 * every request wrote 14 KiB and pushed a decision's working set
	 * out of the L1 cache before it ran (bench/authz). */
	memset(b, 0, ob);
	memset(b + onb, 0, og - onb);
	memset(b + ong, 0, sizeof(*r) - ong);
	if (cf_random(id, sizeof(id), NULL) != CF_OK)
		memset(id, 0, sizeof(id));
	cf_hex_encode(id, sizeof(id), r->request_id);
	cf_strlcpy(r->source, source != NULL ? source : "", sizeof(r->source));
	cf_strlcpy(r->peer, r->source, sizeof(r->peer));
	r->time_us = cf_now_us();
	r->authn = "none";
	r->action = "unknown";
}

static cf_err
add_binding(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	struct cf_req	*r = arg;

	if (r->nbindings >= CF_MAX_BINDINGS)
		return cf_error_set(err, CF_E_LIMIT,
		    "principal has more than %d bindings", CF_MAX_BINDINGS);
	r->bindings[r->nbindings++] = *b;
	return CF_OK;
}

cf_err
core_authn_principal(struct cf_core *c, struct cf_req *r, int64_t pid,
    bool *ok, struct cf_error *err)
{
	struct cf_principal_rec	owner;
	cf_err			rc;

	*ok = false;
	rc = cf_meta_principal_get_id(c->meta, pid, &r->principal, err);
	if (rc != CF_OK)
		return rc;
	if (r->principal.disabled) {
		r->authn = "disabled-principal";
		return CF_OK;
	}
	/* A service account works only while its owner does. */
	if (strcmp(r->principal.kind, "service") == 0 &&
	    r->principal.owner_id != 0) {
		rc = cf_meta_principal_get_id(c->meta, r->principal.owner_id,
		    &owner, err);
		if (rc == CF_E_NOTFOUND) {
			cf_error_clear(err);
			rc = CF_OK;
			owner.disabled = true;
		}
		if (rc != CF_OK)
			return rc;
		if (owner.disabled) {
			r->authn = "disabled-owner";
			return CF_OK;
		}
	}
	r->nbindings = 0;
	rc = cf_meta_binding_list(c->meta, pid, NULL, core_now_us(c),
	    add_binding, r, err);
	if (rc == CF_OK)
		*ok = true;
	return rc;
}

/* An API or session token (cft_ / cfs_).  Runs in a read scope; sets
 * *touch when the token's last-used time is due for an update, which the
 * caller makes after the scope (a write there would end the snapshot). */
static cf_err
authn_token(struct cf_core *c, struct cf_req *r, const char *bearer,
    bool *touch, struct cf_error *err)
{
	struct cf_token_rec	tok;
	uint8_t			h[CF_SHA256_LEN];
	size_t			n;
	bool			session, ok = false;
	cf_err			rc = CF_OK;

	memset(&tok, 0, sizeof(tok));
	n = strnlen(bearer, CF_TOKEN_STR_MAX);
	if (n >= CF_TOKEN_STR_MAX)
		return CF_OK;
	session = cf_str_has_prefix(bearer, CF_SESSION_PREFIX);
	/* SEC: the stored value is the SHA-256 of a 256-bit random token, so
	 * an indexed lookup by hash reveals nothing; the final comparison is
	 * constant time anyway. */
	cf_sha256(bearer, n, h);
	rc = cf_meta_token_find(c->meta, h, &tok, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = CF_OK;
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	if (!cf_ct_equal(h, tok.hash, sizeof(h)))
		goto out;
	/* The prefix is part of the hashed secret; the kinds must agree. */
	if (session != (strcmp(tok.kind, "session") == 0))
		goto out;
	if (tok.revoked_us != 0) {
		r->authn = "revoked-token";
		goto out;
	}
	if (tok.expires_us != 0 && tok.expires_us <= r->time_us) {
		r->authn = "expired-token";
		goto out;
	}
	rc = core_authn_principal(c, r, tok.principal_id, &ok, err);
	if (rc != CF_OK || !ok)
		goto out;
	cf_strlcpy(r->token_id, tok.id, sizeof(r->token_id));
	cf_strlcpy(r->scope, tok.scope, sizeof(r->scope));
	if (session) {
		r->authn = "session";
		r->interactive = true;
		if (tok.mfa_at_us != 0) {
			r->mfa = true;
			r->mfa_age = (r->time_us - tok.mfa_at_us) / 1000000;
			if (r->mfa_age < 0)
				r->mfa_age = 0;
		}
	} else
		r->authn = "token";
	r->authenticated = true;
	*touch = r->time_us - tok.last_used_us > CF_TOKEN_TOUCH_US;
out:
	cf_wipe(h, sizeof(h));
	cf_wipe(tok.hash, sizeof(tok.hash));
	return rc;
}

/* Three non-empty base64url parts separated by dots. */
static bool
looks_like_jwt(const char *s)
{
	size_t	dots = 0, run = 0;

	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (run == 0)
				return false;
			dots++;
			run = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
		run++;
	}
	return dots == 2 && run > 0;
}

/* One break-glass grant in force: an owner binding on its namespace
 * for this request, and its id for the record. */
static cf_err
add_grant(void *arg, const struct cf_breakglass_rec *b, struct cf_error *err)
{
	struct cf_req		*r = arg;
	struct cf_binding_rec	*bd;

	if (r->nbg >= CF_REQ_BG_MAX)
		return CF_OK;		/* the newest count */
	if (r->nbindings >= CF_MAX_BINDINGS)
		return cf_error_set(err, CF_E_LIMIT,
		    "principal has more than %d bindings", CF_MAX_BINDINGS);
	bd = &r->bindings[r->nbindings++];
	memset(bd, 0, sizeof(*bd));
	bd->principal_id = r->principal.id;
	cf_strlcpy(bd->principal, r->principal.name, sizeof(bd->principal));
	cf_strlcpy(bd->role, "owner", sizeof(bd->role));
	cf_strlcpy(bd->ns, b->ns, sizeof(bd->ns));
	cf_strlcpy(r->bg_id[r->nbg], b->id, sizeof(r->bg_id[0]));
	cf_strlcpy(r->bg_ns[r->nbg], b->ns, sizeof(r->bg_ns[0]));
	r->nbg++;
	return CF_OK;
}

/* SEC: a grant counts while it is neither revoked nor expired by the
 * core's clock (injectable: tests expire grants without waiting). */
static cf_err
load_grants(struct cf_core *c, struct cf_req *r, struct cf_error *err)
{
	return cf_meta_breakglass_list(c->meta, r->principal.id,
	    core_now_us(c), add_grant, r, err);
}

/* Best effort: a failed touch must not fail the request. */
static void
token_touch(struct cf_core *c, struct cf_req *r)
{
	if (cf_meta_token_touch(c->meta, r->token_id, r->time_us, NULL) !=
	    CF_OK)
		log_warnx("event=token_touch_failed token=%s", r->token_id);
}

static bool
coffer_token(const char *bearer)
{
	return bearer != NULL && (cf_str_has_prefix(bearer, CF_TOKEN_PREFIX) ||
	    cf_str_has_prefix(bearer, CF_SESSION_PREFIX));
}

bool
cf_core_snapshot_begin_s3(struct cf_core *c, struct cf_req *r)
{
	if (r->snapshot)
		return false;
	if (cf_meta_scope_begin(c->meta, NULL) != CF_OK)
		return false;
	r->snapshot = true;
	r->touch_due = false;
	return true;
}

bool
cf_core_snapshot_begin(struct cf_core *c, struct cf_req *r,
    const char *bearer)
{
	/* An OIDC token may provision its principal (a write): not in a
	 * read snapshot.  An S3 key's verification writes nothing either
	 * (the same snapshot, cf_core_snapshot_begin_s3). */
	if (!coffer_token(bearer))
		return false;
	return cf_core_snapshot_begin_s3(c, r);
}

void
cf_core_snapshot_end(struct cf_core *c, struct cf_req *r)
{
	if (!r->snapshot)
		return;
	r->snapshot = false;
	cf_meta_scope_end(c->meta);
	/* SEC: the write comes after the snapshot, never inside it (a
	 * write there would end the read transaction that the request's
	 * decision and lookup share). */
	if (r->touch_due) {
		r->touch_due = false;
		token_touch(c, r);
	}
}

cf_err
cf_core_authenticate(struct cf_core *c, struct cf_req *r, const char *bearer,
    struct cf_error *err)
{
	bool	touch = false;
	cf_err	rc = CF_OK;

	r->authenticated = false;
	r->nbindings = 0;
	r->mfa = false;
	r->mfa_age = -1;
	r->interactive = false;
	r->scope[0] = '\0';
	r->token_id[0] = '\0';
	r->nbg = 0;
	r->bg_used[0] = '\0';
	if (bearer == NULL) {
		r->authn = "none";
		return CF_OK;
	}
	r->authn = "bad-token";
	if (coffer_token(bearer)) {
		/* One snapshot (and one read transaction) for the token,
		 * its principal, its bindings and its break-glass grants
		 * (joining the request's, cf_core_snapshot_begin). */
		rc = cf_meta_scope_begin(c->meta, err);
		if (rc == CF_OK) {
			rc = authn_token(c, r, bearer, &touch, err);
			if (rc == CF_OK && r->authenticated)
				rc = load_grants(c, r, err);
			cf_meta_scope_end(c->meta);
		}
		if (rc == CF_OK && r->authenticated && touch) {
			if (r->snapshot)
				r->touch_due = true;
			else
				token_touch(c, r);
		}
	} else if (c->niss > 0 && looks_like_jwt(bearer)) {
		rc = core_authn_jwt(c, r, bearer, err);
		if (rc == CF_OK && r->authenticated)
			rc = load_grants(c, r, err);
	}
	if (rc != CF_OK || !r->authenticated) {
		r->nbg = 0;
		r->authenticated = false;
		r->nbindings = 0;
		r->mfa = false;
		r->mfa_age = -1;
		r->interactive = false;
		r->scope[0] = '\0';
		if (rc != CF_OK)
			r->authn = "error";
	}
	return rc;
}

/* The least role an action needs on its namespace (the registry,
 * core/actions.h); admin for what no role decides; above every role for
 * an action the registry does not know: default deny. */
static int
def_rank(const struct cf_action_def *def)
{
	if (def == NULL)
		return CF_ROLE_ADMIN + 1;
	return def->role != CF_ROLE_NONE ? def->role : CF_ROLE_ADMIN;
}

static int
action_rank(const char *action)
{
	return def_rank(cf_action_find(action));
}

/* A question, not a decision of the request: would the policies allow
 * action on ns (NULL: global) for r's principal, within its token's
 * namespaces?  Errors answer no.  r's decision is left as it was. */
bool
core_can(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns)
{
	const struct cf_action_def	*def = cf_action_find(action);
	struct cf_error			 err;
	char				 saved[CF_REASONS_MAX];
	char				 role[CF_ROLE_MAX];
	bool				 allow = false;

	if (!r->authenticated || def == NULL ||
	    !core_scope_allows(r, NULL, ns))
		return false;
	cf_error_clear(&err);
	cf_strlcpy(saved, r->reasons, sizeof(saved));
	if (core_authz_decide(c, r, def, ns, NULL, NULL, role, sizeof(role),
	    &allow, NULL, &err) != CF_OK)
		allow = false;
	cf_strlcpy(r->reasons, saved, sizeof(r->reasons));
	return allow;
}

static bool
json_array_has(const json_t *a, const char *s)
{
	size_t	 i;
	json_t	*v;

	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

/* The parsed token scopes (core_scope_json): a table of recent texts,
 * direct-mapped by a hash of the text.  An entry owns one reference to
 * its object; a lookup hands out another, so an entry replaced while a
 * decision reads its object frees nothing under it (jansson's reference
 * counts are atomic).  The objects are never changed once parsed.
 * Texts that do not parse are not kept: they fail in every decision. */
#define SCOPE_CACHE_SLOTS	256

/* Sharing parsed objects between threads needs atomic reference counts
 * and encoders that do not mark the objects they visit (jansson 2.14
 * tracks loops in a table of its own). */
#if JANSSON_VERSION_HEX < 0x020e00 || !(JSON_HAVE_ATOMIC_BUILTINS || \
    JSON_HAVE_SYNC_BUILTINS)
#error "core_scope_json shares parsed objects: needs jansson >= 2.14"
#endif

struct scope_slot {
	uint64_t	 h;
	char		*text;
	json_t		*j;
};

static struct scope_slot	scope_cache[SCOPE_CACHE_SLOTS];
static pthread_mutex_t		scope_mu = PTHREAD_MUTEX_INITIALIZER;

json_t *
core_scope_json(const char *text, bool *bad)
{
	struct scope_slot	*sl;
	const unsigned char	*p;
	uint64_t		 h = 0xcbf29ce484222325ULL;
	json_t			*j = NULL, *old = NULL;
	char			*copy, *oldtext = NULL;

	*bad = false;
	if (*text == '\0')
		return NULL;
	for (p = (const unsigned char *)text; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	sl = &scope_cache[h % SCOPE_CACHE_SLOTS];
	(void)pthread_mutex_lock(&scope_mu);
	if (sl->j != NULL && sl->h == h && strcmp(sl->text, text) == 0)
		j = json_incref(sl->j);
	(void)pthread_mutex_unlock(&scope_mu);
	if (j != NULL)
		return j;
	j = json_loads(text, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		*bad = true;		/* SEC: the caller fails closed */
		return NULL;
	}
	/* Kept when the copy can be made; the answer is j either way. */
	copy = cf_strdup(text);
	if (copy == NULL)
		return j;
	(void)pthread_mutex_lock(&scope_mu);
	old = sl->j;
	oldtext = sl->text;
	sl->h = h;
	sl->text = copy;
	sl->j = json_incref(j);
	(void)pthread_mutex_unlock(&scope_mu);
	json_decref(old);
	cf_free(oldtext);
	return j;
}

/* The scope check: action (NULL: any) must be listed if the scope lists
 * actions; with_ns, ns (NULL: a global action) must be listed if it lists
 * namespaces. */
static bool
scope_check(const struct cf_req *r, const char *action, bool with_ns,
    const char *ns)
{
	json_t	*j, *acts, *nss;
	bool	 ok = true, bad;

	if (r->scope[0] == '\0')
		return true;
	j = core_scope_json(r->scope, &bad);
	if (j == NULL)
		return false;		/* SEC: fail closed */
	acts = json_object_get(j, "actions");
	nss = json_object_get(j, "namespaces");
	if (action != NULL && acts != NULL && !json_array_has(acts, action))
		ok = false;
	/* A namespace restriction excludes every global action. */
	if (with_ns && nss != NULL && (ns == NULL || !json_array_has(nss, ns)))
		ok = false;
	json_decref(j);
	return ok;
}

bool
core_scope_allows(const struct cf_req *r, const char *action, const char *ns)
{
	return scope_check(r, action, true, ns);
}

bool
core_scope_has_action(const struct cf_req *r, const char *action)
{
	return scope_check(r, action, false, NULL);
}

static int64_t
mfa_limit(const struct cf_core *c, enum core_mfa_class k)
{
	switch (k) {
	case CORE_MFA_ADMIN:
	case CORE_MFA_GRANT:
		return c->cfg.mfa_max_age_admin;
	case CORE_MFA_RESTRICTED:
		return c->cfg.mfa_max_age_restricted;
	case CORE_MFA_FLAGGED:
		return c->cfg.mfa_max_age_flagged;
	}
	return 1;			/* SEC: not reached; fail closed */
}

static const char *
mfa_class_name(enum core_mfa_class k)
{
	switch (k) {
	case CORE_MFA_ADMIN:
		return "admin";
	case CORE_MFA_GRANT:
		return "grant";
	case CORE_MFA_RESTRICTED:
		return "restricted data";
	case CORE_MFA_FLAGGED:
		return "flagged";
	}
	return "?";
}

static const char *
mfa_class_option(enum core_mfa_class k)
{
	switch (k) {
	case CORE_MFA_ADMIN:
	case CORE_MFA_GRANT:
		return "mfa_max_age_admin";
	case CORE_MFA_RESTRICTED:
		return "mfa_max_age_restricted";
	case CORE_MFA_FLAGGED:
		return "mfa_max_age_flagged";
	}
	return "?";
}

/* SEC: MFA counts for a class only while it is younger than the class's
 * limit (issue 11): a session's step-up does not vouch for the holder
 * for the session's whole life.  An age of -1 with MFA (an OIDC token
 * that says neither auth_time nor iat) is unknown and passes no limit. */
bool
core_mfa_fresh(const struct cf_core *c, const struct cf_req *r,
    enum core_mfa_class k)
{
	int64_t	max = mfa_limit(c, k);

	if (!r->mfa)
		return false;
	if (max <= 0)
		return true;
	return r->mfa_age >= 0 && r->mfa_age <= max;
}

/* Refuse r, which has MFA older than class k allows: the same answer as
 * missing MFA (401 mfa_required), so that the CLI steps up the same way. */
static cf_err
mfa_too_old(const struct cf_core *c, struct cf_req *r, enum core_mfa_class k,
    struct cf_error *err)
{
	const char	*hint;
	char		 age[32];

	r->allowed = false;
	(void)snprintf(r->reasons, sizeof(r->reasons), "mfa too old (%s)",
	    mfa_class_name(k));
	r->errcode = "mfa_required";
	if (r->mfa_age >= 0)
		(void)snprintf(age, sizeof(age), "is %lld s old",
		    (long long)r->mfa_age);
	else
		cf_strlcpy(age, "has no known age", sizeof(age));
	hint = strcmp(r->authn, "oidc") == 0 ? "sign in again at the "
	    "identity provider for a new token" : "step up again (POST "
	    "/v1/session/mfa with a code)";
	return cf_error_set(err, CF_E_AUTH, "%s needs multi-factor "
	    "authentication at most %lld s old (%s); this credential's %s: "
	    "%s", r->action, (long long)mfa_limit(c, k), mfa_class_option(k),
	    age, hint);
}

/* SEC: MFA requirements, after the role decision: the user's flag, the
 * flag of the role that decided (class flagged), and for interactive
 * credentials admin-only actions (class admin).  Where both apply, both
 * limits hold. */
static cf_err
mfa_check(struct cf_core *c, struct cf_req *r, int rank, const char *role,
    struct cf_error *err)
{
	bool	admin, flagged = r->principal.mfa_required;
	cf_err	rc;

	admin = r->interactive && c->cfg.mfa_admin_actions && rank >= 4;
	if (!flagged && role != NULL) {
		rc = cf_meta_role_mfa_cached(c->meta, role, &flagged, err);
		if (rc != CF_OK) {
			cf_strlcpy(r->reasons, "error", sizeof(r->reasons));
			return rc;
		}
	}
	if (!admin && !flagged)
		return CF_OK;
	if (!r->mfa) {
		cf_strlcpy(r->reasons, "mfa required", sizeof(r->reasons));
		r->errcode = "mfa_required";
		return cf_error_set(err, CF_E_AUTH, "%s needs multi-factor "
		    "authentication (log in with a code or POST "
		    "/v1/session/mfa)", r->action);
	}
	if (admin && !core_mfa_fresh(c, r, CORE_MFA_ADMIN))
		return mfa_too_old(c, r, CORE_MFA_ADMIN, err);
	if (flagged && !core_mfa_fresh(c, r, CORE_MFA_FLAGGED))
		return mfa_too_old(c, r, CORE_MFA_FLAGGED, err);
	return CF_OK;
}

/* SEC: the restricted-data rule (issue 4).  Every action on a namespace
 * whose sensitivity is "restricted" needs a credential with MFA, whatever
 * the role: a session or OIDC token that stepped up.  API tokens never
 * carry MFA, so they cannot touch restricted data at all; that is the
 * point: a leaked or scripted long-lived token must not reach it.  A
 * namespace that does not exist (yet) is not restricted: creating one
 * is allowed, and any other operation on it answers 404 later.  A lookup
 * error fails closed. */
static cf_err
restricted_check(struct cf_core *c, struct cf_req *r, const char *data_ns,
    const struct core_authz_seen *seen, struct cf_error *err)
{
	struct cf_ns_rec	nsr;
	char			what[CF_NS_NAME_MAX + 32];
	cf_err			rc;

	if (!c->cfg.mfa_restricted_data || data_ns == NULL ||
	    *data_ns == '\0' || core_mfa_fresh(c, r, CORE_MFA_RESTRICTED))
		return CF_OK;
	/* The record the decision read (same read scope), else a read. */
	if (seen != NULL && seen->ns_read && strcmp(seen->ns, data_ns) == 0) {
		nsr = seen->nsr;
		rc = seen->ns_found ? CF_OK : CF_E_NOTFOUND;
	} else
		rc = cf_meta_ns_get_cached(c->meta, data_ns, &nsr, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		return CF_OK;
	}
	if (rc != CF_OK) {
		cf_strlcpy(r->reasons, "error", sizeof(r->reasons));
		return rc;
	}
	/* An artifact's version (or a file of one) may be restricted in a
	 * namespace that is not. */
	if (strcmp(nsr.sensitivity, "restricted") != 0 && !(r->art.set &&
	    strcmp(r->art.sensitivity, "restricted") == 0))
		return CF_OK;
	if (r->mfa)
		return mfa_too_old(c, r, CORE_MFA_RESTRICTED, err);
	cf_strlcpy(r->reasons, "mfa required (restricted data)",
	    sizeof(r->reasons));
	r->errcode = "mfa_required";
	if (strcmp(nsr.sensitivity, "restricted") == 0)
		(void)snprintf(what, sizeof(what), "namespace %s", data_ns);
	else
		(void)snprintf(what, sizeof(what), "artifact version %s",
		    r->art.version_id);
	if (!r->interactive)
		return cf_error_set(err, CF_E_AUTH, "%s holds restricted "
		    "data: %s needs multi-factor authentication, which API "
		    "tokens cannot carry (use a session with MFA or an OIDC "
		    "token)", what, r->action);
	return cf_error_set(err, CF_E_AUTH, "%s holds restricted data: %s "
	    "needs multi-factor authentication (log in with a code or POST "
	    "/v1/session/mfa)", what, r->action);
}

/* An allowed request on a namespace the principal holds a break-glass
 * grant on is made under it: its record names the grant, whether or not
 * another role would have allowed it too (the grant was in force). */
static void
mark_breakglass(struct cf_req *r, const char *ns, const char *data_ns)
{
	size_t	i;

	for (i = 0; i < r->nbg; i++)
		if ((ns != NULL && strcmp(r->bg_ns[i], ns) == 0) ||
		    (data_ns != NULL && strcmp(r->bg_ns[i], data_ns) == 0)) {
			cf_strlcpy(r->bg_used, r->bg_id[i],
			    sizeof(r->bg_used));
			return;
		}
}

/* The network rule for namespace ns (NULL or "": none), with the record
 * the decision read when it is ns's. */
static cf_err
net_check(struct cf_core *c, struct cf_req *r, const char *ns,
    const struct core_authz_seen *seen, struct cf_error *err)
{
	struct cf_ns_rec	nsr;
	cf_err			rc;

	if (!c->net_any || ns == NULL || *ns == '\0')
		return CF_OK;
	if (seen->ns_read && strcmp(seen->ns, ns) == 0)
		return core_net_ns_check(c, r, ns, seen->ns_found ? &seen->nsr :
		    NULL, err);
	rc = cf_meta_ns_get(c->meta, ns, &nsr, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		return core_net_ns_check(c, r, ns, NULL, err);
	}
	if (rc != CF_OK) {
		cf_strlcpy(r->reasons, "error", sizeof(r->reasons));
		return rc;
	}
	return core_net_ns_check(c, r, ns, &nsr, err);
}

cf_err
core_authorize(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns, const char *resource, struct cf_error *err)
{
	return core_authorize_data(c, r, action, ns, ns, resource, err);
}

cf_err
core_authorize_data(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns, const char *data_ns, const char *resource,
    struct cf_error *err)
{
	const struct cf_action_def	*def;
	struct core_authz_seen		 seen;
	char				 role[CF_ROLE_MAX];
	bool				 allow;
	int				 rank;
	cf_err				 rc;

	r->action = action;
	cf_strlcpy(r->resource, resource != NULL ? resource : "",
	    sizeof(r->resource));
	r->allowed = false;
	r->decided = false;
	if (!r->authenticated) {
		cf_strlcpy(r->reasons, "unauthenticated", sizeof(r->reasons));
		return cf_error_set(err, CF_E_AUTH,
		    "authentication required (Authorization: Bearer <token>)");
	}
	/* SEC: an action the registry does not know is denied before any
	 * policy sees it (no policy can allow it). */
	def = cf_action_find(action);
	if (def == NULL) {
		cf_strlcpy(r->reasons, "unknown action", sizeof(r->reasons));
		return cf_error_set(err, CF_E_DENIED,
		    "%s is not allowed to %s %s", r->principal.name, action,
		    r->resource);
	}
	/* Cedar decides: the role templates linked with the principal's
	 * bindings, and the stored policies (authz.c). */
	rc = core_authz_decide(c, r, def, ns, data_ns, resource, role,
	    sizeof(role), &allow, &seen, err);
	if (rc != CF_OK)
		return rc;
	r->decided = true;
	r->decided_allow = allow;
	/* For the anomaly detector (off-hours access to restricted
	 * data): what the decision read, no lookup of its own. */
	r->data_restricted = (seen.ns_read && seen.ns_found &&
	    strcmp(seen.nsr.sensitivity, "restricted") == 0) ||
	    (r->art.set && strcmp(r->art.sensitivity, "restricted") == 0);
	cf_strlcpy(r->decided_ns, ns != NULL ? ns : "",
	    sizeof(r->decided_ns));
	cf_strlcpy(r->decided_data_ns, data_ns != NULL ? data_ns : "",
	    sizeof(r->decided_data_ns));
	/* The denial's text (the error body and the audit's message),
	 * joined rather than formatted: one is made for every denial. */
	if (!allow) {
		if (strcmp(r->reasons, "no matching role") == 0)
			return cf_error_join(err, CF_E_DENIED,
			    r->principal.name, " is not allowed to ", action,
			    " ", r->resource, NULL);
		return cf_error_join(err, CF_E_DENIED, r->principal.name,
		    " is not allowed to ", action, " ", r->resource,
		    " (policy: ", r->reasons, ")", NULL);
	}
	/* SEC: a scoped token can do only what both its scope and its
	 * owner's roles allow. */
	if (!core_scope_allows(r, action, ns)) {
		cf_strlcpy(r->reasons, "outside token scope",
		    sizeof(r->reasons));
		return cf_error_join(err, CF_E_DENIED,
		    "the token's scope does not allow ", action, " ",
		    r->resource, NULL);
	}
	/* The MFA rules hold whatever the policies say: admin-class
	 * actions by the action's rank (global actions count as admin),
	 * the flag of the weakest role that allowed. */
	rank = def_rank(def);
	if (ns == NULL && rank < CF_ROLE_ADMIN)
		rank = CF_ROLE_ADMIN;
	rc = mfa_check(c, r, rank, role[0] != '\0' ? role : NULL, err);
	if (rc != CF_OK)
		return rc;
	rc = restricted_check(c, r, data_ns, &seen, err);
	if (rc != CF_OK)
		return rc;
	/* SEC: network isolation holds in every decision on a namespace,
	 * whichever way the request named it (core/network.c). */
	rc = net_check(c, r, ns, &seen, err);
	if (rc == CF_OK && data_ns != NULL && (ns == NULL ||
	    strcmp(ns, data_ns) != 0))
		rc = net_check(c, r, data_ns, &seen, err);
	if (rc != CF_OK)
		return rc;
	mark_breakglass(r, ns, data_ns);
	r->allowed = true;
	return CF_OK;
}

/* SEC: the grant rule.  Actions that make or hand out credentials or
 * access (creating a user, setting another user's password, binding a
 * role, minting a token for someone else, removing MFA or an MFA flag)
 * need a credential that carries a human second factor, whatever the
 * role: otherwise a credential without one (an API token, a session
 * that did not step up) could create a human, give it a role and enroll
 * an authenticator its holder controls, and so reach restricted data and
 * MFA-gated actions at one remove.  API tokens never carry MFA, so they
 * cannot grant at all; automation creates namespaces, service accounts
 * and data, and a human with MFA grants it roles. */
cf_err
core_authorize_grant(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns, const char *resource, struct cf_error *err)
{
	cf_err	rc;

	rc = core_authorize(c, r, action, ns, resource, err);
	if (rc != CF_OK)
		return rc;
	return core_grant_check(c, r, err);
}

cf_err
core_grant_check(struct cf_core *c, struct cf_req *r, struct cf_error *err)
{
	if (core_mfa_fresh(c, r, CORE_MFA_GRANT))
		return CF_OK;
	if (r->mfa)
		return mfa_too_old(c, r, CORE_MFA_GRANT, err);
	r->allowed = false;
	cf_strlcpy(r->reasons, "mfa required (grant)", sizeof(r->reasons));
	r->errcode = "mfa_required";
	if (!r->interactive)
		return cf_error_set(err, CF_E_AUTH, "%s hands out access and "
		    "needs a human second factor, which API tokens cannot "
		    "carry (sign in with MFA: coffer login --user)",
		    r->action);
	return cf_error_set(err, CF_E_AUTH, "%s hands out access and needs "
	    "multi-factor authentication (log in with a code or POST "
	    "/v1/session/mfa)", r->action);
}

/* SEC: an action asked to be decided in a way the registry does not
 * give it (a bug): denied, never allowed. */
static cf_err
not_this_way(struct cf_req *r, const char *how, struct cf_error *err)
{
	r->allowed = false;
	cf_strlcpy(r->reasons, "error", sizeof(r->reasons));
	return cf_error_set(err, CF_E_INTERNAL, "%s is not a %s action",
	    r->action, how);
}

/* The start of every decision: the request names its action and
 * resource, is not allowed yet, and the registry entry of the action is
 * returned if it has the flag the way of deciding needs (NULL: it does
 * not, or the action is unknown). */
static const struct cf_action_def *
decide_begin(struct cf_req *r, const char *action, const char *resource,
    unsigned int need)
{
	const struct cf_action_def	*def = cf_action_find(action);

	r->action = action;
	cf_strlcpy(r->resource, resource != NULL ? resource : "",
	    sizeof(r->resource));
	r->allowed = false;
	r->decided = false;
	if (def == NULL || (def->flags & need) == 0)
		return NULL;
	return def;
}

cf_err
core_authorize_open(struct cf_core *c, struct cf_req *r, const char *action,
    const char *resource, bool allow, struct cf_error *err)
{
	(void)c;
	if (decide_begin(r, action, resource, CF_ACT_NOAUTH) == NULL)
		return not_this_way(r, "credential-free", err);
	r->allowed = allow;
	cf_strlcpy(r->reasons, allow ? "public" : "credential check",
	    sizeof(r->reasons));
	return CF_OK;
}

cf_err
core_authorize_listing(struct cf_core *c, struct cf_req *r,
    const char *action, const char *resource, struct cf_error *err)
{
	(void)c;
	if (decide_begin(r, action, resource, CF_ACT_NS) == NULL)
		return not_this_way(r, "per-namespace", err);
	if (!r->authenticated) {
		cf_strlcpy(r->reasons, "unauthenticated", sizeof(r->reasons));
		return cf_error_set(err, CF_E_AUTH, "authentication required");
	}
	/* SEC: a scoped token lists only if its scope has the action. */
	if (!core_scope_has_action(r, action)) {
		cf_strlcpy(r->reasons, "token scope", sizeof(r->reasons));
		return cf_error_set(err, CF_E_DENIED,
		    "the token's scope does not include %s", action);
	}
	r->allowed = true;
	cf_strlcpy(r->reasons, "filtered", sizeof(r->reasons));
	return CF_OK;
}

cf_err
core_authorize_self(struct cf_core *c, struct cf_req *r, const char *action,
    const char *resource, struct cf_error *err)
{
	const struct cf_action_def	*def;

	/* SEC: only what the registry calls a self action is decided so. */
	def = decide_begin(r, action, resource, CF_ACT_SELF);
	if (def == NULL)
		return not_this_way(r, "self", err);
	if (!r->authenticated) {
		cf_strlcpy(r->reasons, "unauthenticated", sizeof(r->reasons));
		return cf_error_set(err, CF_E_AUTH,
		    "authentication required (Authorization: Bearer <token>)");
	}
	/* A self action that no scope can name (whoami: it describes the
	 * credential itself) is open to every scope. */
	if ((def->flags & CF_ACT_SCOPABLE) != 0 &&
	    !core_scope_allows(r, action, NULL)) {
		cf_strlcpy(r->reasons, "outside token scope",
		    sizeof(r->reasons));
		return cf_error_set(err, CF_E_DENIED,
		    "the token's scope does not allow %s", action);
	}
	/* SEC: a user flagged mfa_required does everything with MFA, on
	 * the own account too, except what only looks at or reduces access
	 * (listing and revoking tokens, logging out) or leads to MFA
	 * (enroll, confirm, step-up; disable needs both factors itself).
	 * Otherwise whoever holds the password of a flagged user without a
	 * second factor (after an admin's MFA reset, say) could change the
	 * password or mint API tokens before the owner enrolls again. */
	if (r->principal.mfa_required &&
	    !core_mfa_fresh(c, r, CORE_MFA_FLAGGED) &&
	    (strcmp(action, "token:create") == 0 ||
	    strcmp(action, "user:passwd") == 0)) {
		if (r->mfa)
			return mfa_too_old(c, r, CORE_MFA_FLAGGED, err);
		cf_strlcpy(r->reasons, "mfa required", sizeof(r->reasons));
		r->errcode = "mfa_required";
		return cf_error_set(err, CF_E_AUTH, "%s needs multi-factor "
		    "authentication (enroll, then log in with a code or POST "
		    "/v1/session/mfa)", action);
	}
	r->allowed = true;
	cf_strlcpy(r->reasons, "self", sizeof(r->reasons));
	return CF_OK;
}

void
cf_core_reject(struct cf_core *c, struct cf_req *r, const char *action,
    const char *reason)
{
	(void)c;
	r->action = action;
	r->allowed = false;
	r->decided = false;
	cf_strlcpy(r->reasons, reason, sizeof(r->reasons));
}

/* The most a decision's ctx text may take while it is written: every
 * part is bounded (user agent, scope, purpose, operation fields), so
 * this is never reached; the record itself keeps at most 8 KiB of it
 * (AUDIT_CTX_MAX, {"truncated":true} beyond). */
#define CTX_TEXT_MAX	(256u * 1024)

/* "key":"ns" or "key":null for "" */
static cf_err
put_ns(struct cf_buf *b, const char *key, const char *ns,
    struct cf_error *err)
{
	cf_err	rc;

	rc = cf_buf_append_strs(b, err, "\"", key, "\":", NULL);
	if (rc == CF_OK)
		rc = ns[0] != '\0' ? cf_audit_json_string(b, ns, err) :
		    cf_buf_append(b, "null", 4, err);
	return rc;
}

/* The "ctx" member of r's record, written to b: the inputs of its last
 * policy decision (docs/internals/AUDIT.md).  False when the policies
 * did not decide, or it could not be written (the record is then
 * written without it).  Written directly, not built as a jansson object
 * and dumped: that cost about 7 % of a small GET's server CPU. */
static bool
decision_ctx(const struct cf_req *r, struct cf_buf *b)
{
	const struct cf_action_def	*def = cf_action_find(r->action);
	struct cf_error			 err;
	char				 ts[CF_TIME_STR_LEN];
	cf_err				 rc;

	/* A record of an event after the request (a download's end) is
	 * not the decision. */
	if (!r->decided || def == NULL || (def->flags & CF_ACT_RECORD) != 0)
		return false;
	cf_error_clear(&err);
	rc = cf_buf_append(b, "{", 1, &err);
	if (rc == CF_OK)
		rc = put_ns(b, "ns", r->decided_ns, &err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, ",", 1, &err);
	if (rc == CF_OK)
		rc = put_ns(b, "data_ns", r->decided_data_ns, &err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, r->decided_allow ?
		    ",\"decision\":\"allow\",\"context\":" :
		    ",\"decision\":\"deny\",\"context\":", &err);
	if (rc == CF_OK)
		rc = core_authz_context_write(r, b, &err);
	/* A client a trusted proxy forwarded: the proxy (the record's
	 * source is the client). */
	if (rc == CF_OK && strcmp(r->peer, r->source) != 0) {
		rc = cf_buf_append_str(b, ",\"peer\":", &err);
		if (rc == CF_OK)
			rc = cf_audit_json_string(b, r->peer, &err);
	}
	/* Under a break-glass grant: which (docs/security.md). */
	if (rc == CF_OK && r->bg_used[0] != '\0') {
		rc = cf_buf_append_str(b, ",\"breakglass\":", &err);
		if (rc == CF_OK)
			rc = cf_audit_json_string(b, r->bg_used, &err);
	}
	if (rc == CF_OK && r->bg_reason != NULL) {
		rc = cf_buf_append_str(b, ",\"breakglass_open\":"
		    "{\"reason\":", &err);
		if (rc == CF_OK)
			rc = cf_audit_json_string(b, r->bg_reason, &err);
		if (rc == CF_OK && r->bg_expires_us == 0)
			rc = cf_buf_append_str(b, ",\"expires\":null}", &err);
		else if (rc == CF_OK) {
			cf_time_format(r->bg_expires_us, ts);
			rc = cf_buf_append_strs(b, &err, ",\"expires\":\"", ts,
			    "\"}", NULL);
		}
	}
	if (rc == CF_OK)
		rc = cf_buf_append(b, "}", 1, &err);
	return rc == CF_OK;
}

static void
audit_rec_of(const struct cf_req *r, int status, const char *result,
    uint64_t bytes, struct cf_audit_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->time_us = r->time_us;
	rec->request_id = r->request_id;
	rec->principal = r->authenticated ? r->principal.name : "";
	rec->authn = r->authn;
	rec->mfa = r->mfa;
	rec->source = r->source;
	rec->action = r->action;
	rec->resource = r->resource;
	rec->decision = r->allowed ? "allow" : "deny";
	rec->reasons = r->reasons;
	rec->status = status;
	rec->result = result;
	rec->bytes = bytes;
}

/* Append r's record and wait until it is durable; r->audited is the
 * caller's. */
static cf_err
audit_append(struct cf_core *c, const struct cf_req *r, int status,
    const char *result, uint64_t bytes, struct cf_error *err)
{
	struct cf_audit_rec	 rec;
	struct cf_buf		 ctx;
	uint64_t		 seq;
	cf_err			 rc;

	audit_rec_of(r, status, result, bytes, &rec);
	cf_buf_init(&ctx, CTX_TEXT_MAX);
	if (decision_ctx(r, &ctx)) {
		rec.ctx_text = ctx.data;
		rec.ctx_len = ctx.len;
	}
	rc = cf_audit_append(c->audit, &rec, &seq, err);
	rec.ctx_text = NULL;
	cf_buf_free(&ctx);
	if (rc == CF_OK) {
		core_metrics_record(c, r, status, bytes);
		core_alerts_record(c, &rec);
		core_anom_record(c, r, &rec);
	}
	if (rc != CF_OK)
		log_warnx("event=audit_failed request=%s", r->request_id);
	return rc;
}

cf_err
core_audit_extra(struct cf_core *c, struct cf_req *r, const char *name,
    const json_t *v, struct cf_error *err)
{
	struct cf_audit_rec	 rec;
	json_t			*ctx;
	uint64_t		 seq;
	cf_err			 rc;

	audit_rec_of(r, 0, "ok", 0, &rec);
	ctx = json_pack("{s:O}", name, v);
	if (ctx == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	rec.ctx = ctx;
	rc = cf_audit_append(c->audit, &rec, &seq, err);
	if (rc == CF_OK) {
		core_metrics_record(c, r, 0, 0);
		core_alerts_record(c, &rec);
		r->audited = true;
	} else
		log_warnx("event=audit_failed request=%s", r->request_id);
	json_decref(ctx);
	return rc;
}

cf_err
cf_core_audit(struct cf_core *c, struct cf_req *r, int status,
    const char *result, uint64_t bytes, struct cf_error *err)
{
	cf_err	rc;

	rc = audit_append(c, r, status, result, bytes, err);
	if (rc == CF_OK)
		r->audited = true;
	return rc;
}

/* The act's record function (struct cf_meta_audit): the first call
 * writes the record, every later one is covered by it.  A failed write
 * is tried again by the next call (each store call is all or nothing). */
static cf_err
act_record(void *arg, struct cf_error *err)
{
	struct core_act	*a = arg;
	cf_err		 rc;

	if (a->recorded)
		return CF_OK;
	rc = audit_append(a->c, a->r, a->status, "ok", a->bytes, err);
	if (rc == CF_OK)
		a->recorded = true;
	if (rc == CF_OK && a->crash_recorded != NULL)
		core_test_crash(a->c, a->crash_recorded);
	return rc;
}

cf_err
core_act_begin(struct core_act *a, struct cf_core *c, struct cf_req *r,
    int status, struct cf_error *err)
{
	memset(a, 0, sizeof(*a));
	a->c = c;
	a->r = r;
	a->status = status;
	/* SEC: an obligation only from an allowed decision that names its
	 * action; otherwise a.au stays unarmed, which the store refuses. */
	if (CF_NEVER(r == NULL) || CF_NEVER(!r->allowed) ||
	    CF_NEVER(r->action == NULL))
		return cf_error_set(err, CF_E_INTERNAL,
		    "a change without an allowed decision");
	a->au.record = act_record;
	a->au.arg = a;
	return CF_OK;
}

static cf_err
offline_record(void *arg, struct cf_error *err)
{
	struct core_offline_act	*a = arg;
	uint64_t		 seq;
	cf_err			 rc;

	if (a->recorded)
		return CF_OK;
	rc = cf_audit_append(a->audit, a->rec, &seq, err);
	if (rc == CF_OK)
		a->recorded = true;
	return rc;
}

void
core_offline_act_begin(struct core_offline_act *a, struct cf_audit *audit,
    const struct cf_audit_rec *rec)
{
	memset(a, 0, sizeof(*a));
	a->audit = audit;
	a->rec = rec;
	/* SEC: armed only with a log to write to and a record to write. */
	if (CF_NEVER(audit == NULL) || CF_NEVER(rec == NULL))
		return;
	a->au.record = offline_record;
	a->au.arg = a;
}

cf_err
core_act_record(struct core_act *a, uint64_t bytes, struct cf_error *err)
{
	if (CF_NEVER(a->au.record == NULL))
		return cf_error_set(err, CF_E_INTERNAL,
		    "a record without an allowed decision");
	a->bytes = bytes;
	return act_record(a, err);
}

cf_err
core_act_end(struct core_act *a, cf_err rc)
{
	/* A change that failed after its record: the answer's own record
	 * says what happened. */
	if (a->recorded)
		a->r->audited = rc == CF_OK;
	return rc;
}

cf_err
cf_core_audit_submit(struct cf_core *c, struct cf_req *r, int status,
    const char *result, uint64_t bytes, uint64_t *seq, struct cf_error *err)
{
	const struct cf_action_def	*def = cf_action_find(r->action);
	struct cf_audit_rec		 rec;
	struct cf_buf			 ctx;
	cf_err				 rc;

	audit_rec_of(r, status, result, bytes, &rec);
	cf_buf_init(&ctx, CTX_TEXT_MAX);
	if (decision_ctx(r, &ctx)) {
		rec.ctx_text = ctx.data;
		rec.ctx_len = ctx.len;
	}
	/* The completion record of a request already recorded (and so
	 * answered: its answer waited for that record), object:get:end or
	 * request:end: nobody waits for it, so it need not cost a commit of
	 * its own (docs/internals/AUDIT.md, "Submitting without waiting"). */
	if (r->audited && def != NULL && (def->flags & CF_ACT_RECORD) != 0)
		rc = cf_audit_submit_later(c->audit, &rec, seq, err);
	else
		rc = cf_audit_submit(c->audit, &rec, seq, err);
	rec.ctx_text = NULL;
	cf_buf_free(&ctx);
	if (rc == CF_OK) {
		core_metrics_record(c, r, status, bytes);
		core_alerts_record(c, &rec);
		core_anom_record(c, r, &rec);
	}
	if (rc != CF_OK) {
		log_warnx("event=audit_failed request=%s", r->request_id);
		return rc;
	}
	r->audited = true;
	return CF_OK;
}

int
cf_core_audit_state(struct cf_core *c, uint64_t seq)
{
	return cf_audit_state(c->audit, seq);
}

void
cf_core_test_audit_hold(struct cf_core *c, bool hold, uint64_t *pending)
{
	bool	gathering;

	cf_audit_test_hold(c->audit, hold);
	cf_audit_test_queue(c->audit, pending, &gathering);
}

void
cf_core_audit_notify_stop(struct cf_core *c)
{
	cf_audit_stop_notify(c->audit);
}

cf_err
cf_core_audit_notify(struct cf_core *c, cf_audit_notify_fn fn, void *arg,
    struct cf_error *err)
{
	return cf_audit_set_notify(c->audit, fn, arg, err);
}

json_t *
core_time_json(int64_t us)
{
	char	ts[CF_TIME_STR_LEN];

	if (us == 0)
		return json_null();
	cf_time_format(us, ts);
	return json_string(ts);
}

/* The actions under the grant rule (core_authorize_grant and the
 * core_grant_check calls of their operations), with when it applies. */
static const struct {
	const char	*action;
	const char	*when;
} grant_rule[] = {
	{ "binding:create", "always" },
	{ "hold:rm", "always" },
	{ "hold:set", "always" },
	{ "ns:set-retention", "always" },
	{ "principal:create", "for a user (not a service account)" },
	{ "privacy:erase", "always" },
	{ "role:mfa-required", "when removing the flag" },
	{ "token:create", "for another principal" },
	{ "user:create", "always" },
	{ "user:link-oidc", "always" },
	{ "user:mfa-required", "when removing the flag" },
	{ "user:mfa-reset", "always" },
	{ "user:passwd", "when an admin sets another user's password" },
};

static int
add_guard(json_t *arr, const char *guard, const char *when, bool refuses,
    const char *msg)
{
	return json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s}",
	    "guard", guard, "when", when, "refuses", refuses ? 1 : 0,
	    "message", msg));
}

cf_err
core_explain_guards(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns, const char *data_ns, const char *role, json_t **out,
    struct cf_error *err)
{
	struct cf_error	 e;
	json_t		*arr;
	size_t		 i;
	int		 rank, bad = 0;
	bool		 admin, flagged = r->principal.mfa_required;
	cf_err		 rc;

	arr = json_array();
	if (arr == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	if (r->scope[0] != '\0')
		bad |= add_guard(arr, "token_scope", "the credential has a "
		    "scope", !core_scope_allows(r, action, ns),
		    core_scope_allows(r, action, ns) ? "within the scope" :
		    "the token's scope does not allow this");
	rank = action_rank(action);
	if (ns == NULL && rank < CF_ROLE_ADMIN)
		rank = CF_ROLE_ADMIN;
	admin = r->interactive && c->cfg.mfa_admin_actions && rank >= 4;
	if (!flagged && role != NULL && role[0] != '\0') {
		rc = cf_meta_role_mfa_cached(c->meta, role, &flagged, err);
		if (rc != CF_OK)
			goto out;
	}
	if (admin || flagged) {
		cf_error_clear(&e);
		rc = mfa_check(c, r, rank, role != NULL && role[0] != '\0' ?
		    role : NULL, &e);
		if (rc != CF_OK && rc != CF_E_AUTH) {
			if (err != NULL)
				*err = e;
			goto out;
		}
		bad |= add_guard(arr, "mfa", admin ? (flagged ? "an admin "
		    "action, and the user or role is flagged mfa_required" :
		    "an admin action with an interactive credential") :
		    "the user or the deciding role is flagged mfa_required",
		    rc != CF_OK, rc != CF_OK ? e.msg : "MFA fresh enough");
	}
	if (c->cfg.mfa_restricted_data && data_ns != NULL &&
	    *data_ns != '\0') {
		cf_error_clear(&e);
		rc = restricted_check(c, r, data_ns, NULL, &e);
		if (rc != CF_OK && rc != CF_E_AUTH) {
			if (err != NULL)
				*err = e;
			goto out;
		}
		bad |= add_guard(arr, "restricted_data", "the namespace is "
		    "restricted (mfa_restricted_data)", rc != CF_OK,
		    rc != CF_OK ? e.msg : "not restricted, or MFA fresh "
		    "enough");
	}
	for (i = 0; i < sizeof(grant_rule) / sizeof(grant_rule[0]); i++) {
		if (strcmp(grant_rule[i].action, action) != 0)
			continue;
		cf_error_clear(&e);
		r->action = action;
		rc = core_grant_check(c, r, &e);
		bad |= add_guard(arr, "grant_rule", grant_rule[i].when,
		    rc != CF_OK, rc != CF_OK ? e.msg : "MFA fresh enough");
	}
	rc = bad ? cf_error_set(err, CF_E_NOMEM, "out of memory") : CF_OK;
out:
	if (rc != CF_OK)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

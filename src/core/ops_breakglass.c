/* src/core/ops_breakglass.c: break-glass grants (docs/security.md,
 * "Break-glass").
 *
 * In an emergency a person allowed to (breakglass:open: admin by default,
 * a policy may allow an on-call group) takes owner access to one
 * namespace for a bounded time, with a stated reason and a fresh second
 * factor.  The grant is a row of its own, never a binding: it ends by
 * itself (the monitor counts it only while it is in force, by the core's
 * clock), it can be revoked early, and every request made under it names
 * it in its audit record (monitor.c, mark_breakglass). */
#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "core/core_int.h"

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

static json_t *
grant_json(const struct cf_breakglass_rec *b, int64_t now_us)
{
	const char	*state;

	state = b->revoked_us != 0 ? "revoked" : b->expires_us <= now_us ?
	    "expired" : "active";
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s}",
	    "id", b->id, "principal", b->principal, "ns", b->ns, "reason",
	    b->reason, "created", core_time_json(b->created_us), "expires",
	    core_time_json(b->expires_us), "revoked",
	    core_time_json(b->revoked_us), "revoked_by", b->revoked_by,
	    "state", state);
}

/* A reason a reviewer can read: 1..512 bytes of UTF-8 without control
 * characters. */
static bool
reason_ok(const char *s)
{
	size_t	n, i;

	if (s == NULL)
		return false;
	n = strnlen(s, CF_BG_REASON_MAX);
	if (n == 0 || n >= CF_BG_REASON_MAX || !cf_utf8_valid(s, n))
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

cf_err
cf_core_breakglass_open(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *reason, int64_t secs, json_t **out, struct cf_error *err)
{
	struct cf_breakglass_rec	 b;
	struct core_act			 act;
	char				 res[CF_RESOURCE_MAX];
	uint8_t				 id[CF_BG_ID_LEN / 2];
	int64_t				 now;
	cf_err				 rc;

	(void)snprintf(res, sizeof(res), "ns/%s", ns);
	rc = core_authorize(c, r, "breakglass:open", ns, res, err);
	if (rc != CF_OK)
		return rc;
	/* SEC: a fresh second factor, whatever the credential and the
	 * configured MFA ages: whoever breaks the glass proves to be the
	 * person now, not whoever holds a session from this morning. */
	if (!r->mfa || r->mfa_age < 0 || r->mfa_age > CF_BREAKGLASS_MFA_AGE) {
		r->allowed = false;
		cf_strlcpy(r->reasons, r->mfa ? "mfa too old (break-glass)" :
		    "mfa required (break-glass)", sizeof(r->reasons));
		r->errcode = "mfa_required";
		return cf_error_set(err, CF_E_AUTH, "breakglass:open needs "
		    "multi-factor authentication at most %d s old (step up: "
		    "POST /v1/session/mfa with a code)",
		    CF_BREAKGLASS_MFA_AGE);
	}
	if (!reason_ok(reason)) {
		r->errcode = "bad_request";
		return cf_error_set(err, CF_E_INPUT, "reason: 1 to %d bytes "
		    "of text without control characters",
		    CF_BG_REASON_MAX - 1);
	}
	if (secs < 1 || secs > c->cfg.breakglass_max) {
		r->errcode = "bad_request";
		return cf_error_set(err, CF_E_INPUT, "duration: 1 to %lld "
		    "seconds (breakglass_max)",
		    (long long)c->cfg.breakglass_max);
	}
	memset(&b, 0, sizeof(b));
	rc = cf_random(id, sizeof(id), err);
	if (rc != CF_OK)
		return rc;
	cf_hex_encode(id, sizeof(id), b.id);
	b.principal_id = r->principal.id;
	cf_strlcpy(b.principal, r->principal.name, sizeof(b.principal));
	cf_strlcpy(b.ns, ns, sizeof(b.ns));
	cf_strlcpy(b.reason, reason, sizeof(b.reason));
	now = core_now_us(c);
	b.created_us = now;
	b.expires_us = now + secs * 1000000;
	/* What an alert needs is in the record: who (principal, source,
	 * mfa), where (resource), why and until when (ctx.breakglass_open),
	 * and the grant's id (ctx.breakglass). */
	cf_strlcpy(r->bg_used, b.id, sizeof(r->bg_used));
	r->bg_reason = b.reason;
	r->bg_expires_us = b.expires_us;
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_breakglass_insert(c->meta, &act.au, &b, err);
	rc = core_act_end(&act, rc);
	r->bg_reason = NULL;
	if (rc == CF_E_NOTFOUND)
		r->errcode = "no_such_namespace";
	if (rc != CF_OK)
		return rc;
	*out = grant_json(&b, now);
	return *out == NULL ? nomem(err) : CF_OK;
}

struct list_ctx {
	json_t	*arr;
	int64_t	 now;
};

static cf_err
list_cb(void *arg, const struct cf_breakglass_rec *b, struct cf_error *err)
{
	struct list_ctx	*x = arg;

	if (json_array_append_new(x->arr, grant_json(b, x->now)) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_breakglass_list(struct cf_core *c, struct cf_req *r, bool all,
    json_t **out, struct cf_error *err)
{
	struct list_ctx	x;
	int64_t		pid = -1;
	cf_err		rc;

	if (r->authenticated && !core_can(c, r, "breakglass:list", NULL)) {
		pid = r->principal.id;
		rc = core_authorize_self(c, r, "breakglass:list", "breakglass",
		    err);
	} else
		rc = core_authorize(c, r, "breakglass:list", NULL,
		    "breakglass", err);
	if (rc != CF_OK)
		return rc;
	x.now = core_now_us(c);
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_breakglass_list(c->meta, pid, all ? 0 : x.now, list_cb,
	    &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "grants", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_breakglass_revoke(struct cf_core *c, struct cf_req *r, const char *id,
    json_t **out, struct cf_error *err)
{
	struct cf_breakglass_rec	b;
	struct core_act			act;
	char				res[CF_RESOURCE_MAX];
	bool				found;
	cf_err				rc;

	(void)snprintf(res, sizeof(res), "breakglass/%s", id);
	if (!r->authenticated)
		return core_authorize(c, r, "breakglass:revoke", NULL, res,
		    err);
	rc = cf_meta_breakglass_get(c->meta, id, &b, err);
	found = rc == CF_OK;
	if (rc == CF_E_NOTFOUND)
		cf_error_clear(err);
	else if (rc != CF_OK)
		return rc;
	/* SEC: one's own grant needs no right; any other (or an unknown
	 * id) needs breakglass:revoke, so nobody else learns which ids
	 * exist. */
	if (found && b.principal_id == r->principal.id &&
	    !core_can(c, r, "breakglass:revoke", NULL))
		rc = core_authorize_self(c, r, "breakglass:revoke", res, err);
	else
		rc = core_authorize(c, r, "breakglass:revoke", NULL, res, err);
	if (rc != CF_OK)
		return rc;
	if (!found) {
		r->errcode = "no_such_grant";
		return cf_error_set(err, CF_E_NOTFOUND,
		    "no break-glass grant %s", id);
	}
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_breakglass_revoke(c->meta, &act.au, id,
		    r->principal.name, core_now_us(c), err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_CONFLICT)
		r->errcode = "already_revoked";
	if (rc != CF_OK)
		return rc;
	rc = cf_meta_breakglass_get(c->meta, id, &b, err);
	if (rc != CF_OK)
		return rc;
	*out = grant_json(&b, core_now_us(c));
	return *out == NULL ? nomem(err) : CF_OK;
}

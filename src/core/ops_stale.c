/* src/core/ops_stale.c: `coffer access stale` (GET /v1/access/stale):
 * grants and API tokens nobody used for a period (docs/reviews.md).
 *
 * A binding's use is an allowed audit record of its principal whose
 * reasons name it ("role:ROLE@NS", or "role:ROLE" for a global one: the
 * ids the authorizer writes).  The log is read through cf_audit_read's
 * tail mode, at most STALE_SCAN_MAX records, so the cost is bounded
 * whatever the log's size; when the records read do not reach back to
 * the period's start the answer says so ("complete": false) instead of
 * pretending.  The period ends at the core's clock. */
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/core_int.h"

#define STALE_SCAN_MAX		100000	/* audit records read, at most */
#define STALE_BINDINGS_MAX	100000	/* bindings looked at, at most */

struct sb {
	char	principal[CF_PRINCIPAL_MAX];
	char	role[CF_ROLE_MAX];
	char	ns[CF_NS_NAME_MAX];
	char	id[CF_ROLE_MAX + CF_NS_NAME_MAX + 8];	/* role:R[@NS] */
	int64_t	last_us;				/* 0: not seen */
};

struct stale {
	struct cf_core	*c;
	struct sb	*b;
	size_t		 n, cap;
	int64_t		 cutoff_us, now_us;
	int64_t		 first_us;		/* oldest record read */
	uint64_t	 first_seq, scanned;
	json_t		*tokens;
};

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

static int
sb_cmp(const void *a, const void *b)
{
	const struct sb	*x = a, *y = b;
	int		 d;

	d = strcmp(x->principal, y->principal);
	return d != 0 ? d : strcmp(x->id, y->id);
}

static cf_err
binding_cb(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	struct stale	*x = arg;
	struct sb	*nb, *e;
	size_t		 ncap;

	if (x->n >= STALE_BINDINGS_MAX)
		return cf_error_set(err, CF_E_LIMIT, "more than %d bindings",
		    STALE_BINDINGS_MAX);
	if (x->n == x->cap) {
		ncap = x->cap == 0 ? 64 : x->cap * 2;
		nb = cf_reallocarray(x->b, ncap, sizeof(*nb));
		if (nb == NULL)
			return nomem(err);
		x->b = nb;
		x->cap = ncap;
	}
	e = &x->b[x->n++];
	memset(e, 0, sizeof(*e));
	(void)cf_strlcpy(e->principal, b->principal, sizeof(e->principal));
	(void)cf_strlcpy(e->role, b->role, sizeof(e->role));
	(void)cf_strlcpy(e->ns, b->ns, sizeof(e->ns));
	if (b->ns[0] != '\0')
		(void)snprintf(e->id, sizeof(e->id), "role:%s@%s", b->role,
		    b->ns);
	else
		(void)snprintf(e->id, sizeof(e->id), "role:%s", b->role);
	return CF_OK;
}

/* One audit record: every "role:..." id in an allowed record's reasons
 * is a use of that binding of the record's principal. */
static cf_err
record_cb(void *arg, json_t *rec, struct cf_error *err)
{
	struct stale	*x = arg;
	struct sb	 key, *hit;
	const char	*pname, *dec, *reasons, *ts, *p, *q;
	int64_t		 t = 0;
	size_t		 len;

	(void)err;
	x->scanned++;
	ts = json_string_value(json_object_get(rec, "time"));
	if (ts == NULL || cf_time_parse(ts, &t, NULL) != CF_OK)
		return CF_OK;
	if (x->first_seq == 0) {
		x->first_seq = (uint64_t)json_integer_value(
		    json_object_get(rec, "seq"));
		x->first_us = t;
	}
	pname = json_string_value(json_object_get(rec, "principal"));
	dec = json_string_value(json_object_get(rec, "decision"));
	reasons = json_string_value(json_object_get(rec, "reasons"));
	if (pname == NULL || *pname == '\0' || dec == NULL ||
	    strcmp(dec, "allow") != 0 || reasons == NULL)
		return CF_OK;
	if (cf_strlcpy(key.principal, pname, sizeof(key.principal)) >=
	    sizeof(key.principal))
		return CF_OK;
	for (p = reasons; *p != '\0'; p = *q == ',' ? q + 1 : q) {
		q = strchr(p, ',');
		if (q == NULL)
			q = p + strlen(p);
		len = (size_t)(q - p);
		if (len < 6 || strncmp(p, "role:", 5) != 0 ||
		    len >= sizeof(key.id))
			continue;
		memcpy(key.id, p, len);
		key.id[len] = '\0';
		hit = bsearch(&key, x->b, x->n, sizeof(*x->b), sb_cmp);
		if (hit != NULL && t > hit->last_us)
			hit->last_us = t;
	}
	return CF_OK;
}

static void
principal_name(struct cf_core *c, int64_t id, char out[CF_PRINCIPAL_MAX])
{
	struct cf_principal_rec	p;
	struct cf_error		e;

	if (cf_meta_principal_get_id(c->meta, id, &p, &e) == CF_OK)
		(void)cf_strlcpy(out, p.name, CF_PRINCIPAL_MAX);
	else
		(void)snprintf(out, CF_PRINCIPAL_MAX, "#%lld", (long long)id);
}

/* Live API tokens (not revoked, not expired) never used, or last used
 * before the period.  Sessions are left out: they are short-lived and
 * made by logging in. */
static cf_err
token_cb(void *arg, const struct cf_token_rec *t, struct cf_error *err)
{
	struct stale	*x = arg;
	char		 who[CF_PRINCIPAL_MAX];
	json_t		*j;

	if ((t->kind[0] != '\0' && strcmp(t->kind, "api") != 0) ||
	    t->revoked_us != 0 || (t->expires_us != 0 &&
	    t->expires_us <= x->now_us))
		return CF_OK;
	if (t->last_used_us != 0 && t->last_used_us >= x->cutoff_us)
		return CF_OK;
	principal_name(x->c, t->principal_id, who);
	j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", t->id,
	    "principal", who, "description", t->description, "created",
	    core_time_json(t->created_us), "expires",
	    core_time_json(t->expires_us), "last_used",
	    core_time_json(t->last_used_us));
	if (j == NULL || json_array_append_new(x->tokens, j) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_access_stale(struct cf_core *c, struct cf_req *r, uint64_t unused_s,
    json_t **out, struct cf_error *err)
{
	struct stale	 x;
	json_t		*arr = NULL, *j;
	size_t		 i;
	bool		 scope = false;
	cf_err		 rc;

	memset(&x, 0, sizeof(x));
	rc = core_authorize(c, r, "access:stale", NULL, "access/stale", err);
	if (rc != CF_OK)
		return rc;
	if (unused_s < 1 || unused_s > CF_STALE_PERIOD_MAX)
		return cf_error_set(err, CF_E_INPUT, "unused_for must be a "
		    "number of seconds, 1-%llu",
		    (unsigned long long)CF_STALE_PERIOD_MAX);
	x.c = c;
	x.now_us = core_now_us(c);
	x.cutoff_us = x.now_us - (int64_t)unused_s * 1000000;
	x.tokens = json_array();
	arr = json_array();
	if (x.tokens == NULL || arr == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = cf_meta_scope_begin(c->meta, err);
	if (rc != CF_OK)
		goto out;
	scope = true;
	rc = cf_meta_binding_list(c->meta, -1, NULL, x.now_us, binding_cb,
	    &x, err);
	if (rc == CF_OK)
		rc = cf_meta_token_list(c->meta, -1, token_cb, &x, err);
	if (rc != CF_OK)
		goto out;
	if (x.n > 1)
		qsort(x.b, x.n, sizeof(*x.b), sb_cmp);
	rc = cf_audit_read(c->data_dir, 0, 0, STALE_SCAN_MAX, record_cb, &x,
	    err);
	if (rc != CF_OK)
		goto out;
	for (i = 0; i < x.n; i++) {
		if (x.b[i].last_us >= x.cutoff_us)
			continue;
		j = json_pack("{s:s, s:s, s:s?, s:o}", "principal",
		    x.b[i].principal, "role", x.b[i].role, "ns",
		    x.b[i].ns[0] != '\0' ? x.b[i].ns : NULL, "last_used",
		    core_time_json(x.b[i].last_us));
		if (j == NULL || json_array_append_new(arr, j) != 0) {
			rc = nomem(err);
			goto out;
		}
	}
	/* Complete when the records read reach back before the period or
	 * are the whole log (the first record is seq 1). */
	*out = json_pack("{s:I, s:o, s:o, s:O, s:O, s:I, s:b}",
	    "unused_for", (json_int_t)unused_s, "since",
	    core_time_json(x.cutoff_us), "until", core_time_json(x.now_us),
	    "bindings", arr, "tokens", x.tokens, "scanned",
	    (json_int_t)x.scanned, "complete", x.first_seq <= 1 ||
	    x.first_us < x.cutoff_us);
	if (*out == NULL)
		rc = nomem(err);
out:
	if (scope)
		cf_meta_scope_end(c->meta);
	json_decref(arr);
	json_decref(x.tokens);
	cf_free(x.b);
	return rc;
}

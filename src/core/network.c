/* src/core/network.c: network isolation per environment (docs/security.md,
 * "Network isolation").
 *
 * Each environment may have a list of client networks (env.<env>.allow);
 * a request addressed to a namespace of that environment from anywhere
 * else is refused.  The front end asks before authentication
 * (cf_core_net_check: a refusal costs one indexed read, no password hash,
 * no token lookup), and the monitor asks again in every decision on a
 * namespace (core_authorize_data), so that a namespace a request reaches
 * other than through its URL (a promotion's source, say) is held to the
 * same rule.  The client address is r->source: the socket peer's, or what
 * trusted proxies forwarded (the front end decides which). */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/netaddr.h"
#include "base/str.h"
#include "core/core_int.h"

static const char *const envs[3] = { "dev", "staging", "prod" };

static int
env_index(const char *env)
{
	int	i;

	for (i = 0; i < 3; i++)
		if (strcmp(env, envs[i]) == 0)
			return i;
	return -1;
}

cf_err
cf_core_net_list_check(const char *value, struct cf_error *err)
{
	struct cf_cidr_list	*l;
	cf_err			 rc;

	l = cf_calloc(1, sizeof(*l));
	if (l == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	rc = cf_cidr_list_parse(value, l, err);
	cf_free(l);
	return rc;
}

cf_err
core_net_open(struct cf_core *c, struct cf_error *err)
{
	const char	*v[3];
	int		 i;
	cf_err		 rc;

	v[0] = c->cfg.env_allow_dev;
	v[1] = c->cfg.env_allow_staging;
	v[2] = c->cfg.env_allow_prod;
	for (i = 0; i < 3; i++) {
		if (v[i] == NULL || v[i][0] == '\0')
			continue;
		c->env_allow[i] = cf_calloc(1, sizeof(*c->env_allow[i]));
		if (c->env_allow[i] == NULL)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		rc = cf_cidr_list_parse(v[i], c->env_allow[i], err);
		if (rc != CF_OK)
			return cf_error_set(err, rc, "env.%s.allow", envs[i]);
		c->net_any = true;
	}
	return CF_OK;
}

void
core_net_close(struct cf_core *c)
{
	int	i;

	for (i = 0; i < 3; i++)
		CF_FREE(c->env_allow[i]);
}

/* May r's client reach environment i?  An address that is not one
 * ("unknown", a socket without IP) matches no list. */
static bool
env_allows(const struct cf_core *c, const struct cf_req *r, int i)
{
	struct cf_ip	ip;

	if (i < 0 || c->env_allow[i] == NULL)
		return true;
	return cf_ip_parse(r->source, strlen(r->source), &ip) &&
	    cf_cidr_list_match(c->env_allow[i], &ip);
}

static cf_err
refuse(struct cf_req *r, const char *env, const char *ns,
    struct cf_error *err)
{
	r->allowed = false;
	r->decided = false;
	r->errcode = "network_refused";
	/* SEC: the reasons say where the request came from when a proxy
	 * forwarded it (the record's source is the client's). */
	if (strcmp(r->source, r->peer) != 0)
		(void)snprintf(r->reasons, sizeof(r->reasons), "network not "
		    "allowed (env %s, via %s)", env, r->peer);
	else
		(void)snprintf(r->reasons, sizeof(r->reasons), "network not "
		    "allowed (env %s)", env);
	return cf_error_set(err, CF_E_DENIED, "namespace %s cannot be "
	    "reached from %s (env.%s.allow)", ns, r->source, env);
}

cf_err
core_net_ns_check(struct cf_core *c, struct cf_req *r, const char *ns,
    const struct cf_ns_rec *nsr, struct cf_error *err)
{
	int	i;

	if (!c->net_any)
		return CF_OK;
	if (nsr != NULL) {
		i = env_index(nsr->env);
		if (env_allows(c, r, i))
			return CF_OK;
		return refuse(r, nsr->env, ns, err);
	}
	/* No such namespace: refused if any list refuses (see core.h). */
	for (i = 0; i < 3; i++)
		if (!env_allows(c, r, i))
			return refuse(r, envs[i], ns, err);
	return CF_OK;
}

cf_err
cf_core_net_check(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns, struct cf_error *err)
{
	struct cf_ns_rec	nsr;
	cf_err			rc;

	if (!c->net_any || ns == NULL || ns[0] == '\0')
		return CF_OK;
	rc = cf_meta_ns_get(c->meta, ns, &nsr, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = core_net_ns_check(c, r, ns, NULL, err);
	} else if (rc == CF_OK)
		rc = core_net_ns_check(c, r, ns, &nsr, err);
	else {
		/* SEC: fail closed: the store could not say. */
		r->allowed = false;
		cf_strlcpy(r->reasons, "error", sizeof(r->reasons));
	}
	if (rc != CF_OK) {
		r->action = action;
		(void)snprintf(r->resource, sizeof(r->resource), "ns/%s", ns);
	}
	return rc;
}

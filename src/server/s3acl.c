/* src/server/s3acl.c: the AccessControlPolicy body of Put*Acl
 * (s3acl.h).
 *
 * SEC: expat with a DOCTYPE and entity declarations refused (no entity
 * expansion), depth, text and grants bounded, the first error stops the
 * parser.  Only the elements that say who gets what are read; anything
 * that could name someone else (a URI or e-mail grantee, another ID,
 * another permission) makes the body not owner-only. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <expat.h>

#include "server/s3acl.h"

#define DEPTH_MAX	16
#define TEXT_MAX	256
#define GRANTS_MAX	100

struct acx {
	XML_Parser	 p;
	const char	*owner;
	int		 depth;
	/* The element path's local names at depths 1..4. */
	char		 path[5][32];
	char		 text[TEXT_MAX + 1];
	size_t		 ntext;
	bool		 in_text;
	/* The Grant being read. */
	bool		 g_owner, g_other, g_full;
	size_t		 grants;
	bool		 owner_only;
	cf_err		 rc;
	const char	*why;
};

static const char *
local(const char *name)
{
	const char	*c = strrchr(name, ':');

	return c != NULL ? c + 1 : name;
}

static void
stop(struct acx *x, cf_err rc, const char *why)
{
	if (x->rc == CF_OK) {
		x->rc = rc;
		x->why = why;
	}
	(void)XML_StopParser(x->p, XML_FALSE);
}

static bool
at(const struct acx *x, int depth, const char *a, const char *b,
    const char *c, const char *d)
{
	const char	*want[4] = { a, b, c, d };
	int		 i;

	if (x->depth != depth)
		return false;
	for (i = 0; i < depth && i < 4; i++)
		if (want[i] == NULL || strcmp(x->path[i + 1], want[i]) != 0)
			return false;
	return true;
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct acx	*x = ud;
	const char	*l = local(name);

	(void)attrs;
	if (++x->depth > DEPTH_MAX)
		return stop(x, CF_E_INPUT, "XML nested too deeply");
	if (x->depth <= 4) {
		if (strlen(l) >= sizeof(x->path[0]))
			return stop(x, CF_E_INPUT, "an unknown element");
		memcpy(x->path[x->depth], l, strlen(l) + 1);
	}
	if (x->depth == 1 && strcmp(l, "AccessControlPolicy") != 0)
		return stop(x, CF_E_INPUT, "the root must be "
		    "AccessControlPolicy");
	if (at(x, 3, "AccessControlPolicy", "AccessControlList", "Grant",
	    NULL)) {
		if (++x->grants > GRANTS_MAX)
			return stop(x, CF_E_LIMIT, "too many grants");
		x->g_owner = x->g_other = x->g_full = false;
	}
	x->ntext = 0;
	x->in_text = true;
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct acx	*x = ud;

	if (!x->in_text || len <= 0)
		return;
	if (x->ntext + (size_t)len > TEXT_MAX)
		return stop(x, CF_E_INPUT, "XML text too long");
	memcpy(x->text + x->ntext, s, (size_t)len);
	x->ntext += (size_t)len;
}

static const char *
trimmed(struct acx *x)
{
	char	*t = x->text;
	size_t	 n = x->ntext;

	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\n' ||
	    t[n - 1] == '\r' || t[n - 1] == '\t'))
		n--;
	t[n] = '\0';
	while (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t')
		t++;
	return t;
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct acx	*x = ud;
	const char	*t = trimmed(x);

	if (at(x, 3, "AccessControlPolicy", "Owner", "ID", NULL) &&
	    strcmp(t, x->owner) != 0)
		x->owner_only = false;
	/* A child of Grant/Grantee: who the grant is for. */
	if (x->depth == 5 && strcmp(x->path[1], "AccessControlPolicy") == 0 &&
	    strcmp(x->path[2], "AccessControlList") == 0 &&
	    strcmp(x->path[3], "Grant") == 0 &&
	    strcmp(x->path[4], "Grantee") == 0) {
		if (strcmp(local(name), "ID") == 0 && strcmp(t, x->owner) == 0)
			x->g_owner = true;
		else if (strcmp(local(name), "DisplayName") != 0)
			x->g_other = true;
	}
	if (at(x, 4, "AccessControlPolicy", "AccessControlList", "Grant",
	    "Permission") && strcmp(t, "FULL_CONTROL") == 0)
		x->g_full = true;
	if (at(x, 3, "AccessControlPolicy", "AccessControlList", "Grant",
	    NULL) && (!x->g_owner || x->g_other || !x->g_full))
		x->owner_only = false;
	x->ntext = 0;
	x->in_text = false;
	x->depth--;
}

static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	stop(ud, CF_E_INPUT, "a DOCTYPE is not accepted");
}

static void XMLCALL
on_entity(void *ud, const XML_Char *name, int is_param,
    const XML_Char *value, int value_length, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_length;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	stop(ud, CF_E_INPUT, "entity declarations are not accepted");
}

cf_err
cf_s3acl_owner_only(const char *xml, size_t len, const char *owner,
    bool *owner_only, struct cf_error *err)
{
	struct acx	x;

	if (len > CF_S3ACL_MAX)
		return cf_error_set(err, CF_E_LIMIT, "XML body too large");
	memset(&x, 0, sizeof(x));
	x.owner = owner;
	x.owner_only = true;
	x.p = XML_ParserCreate("UTF-8");
	if (x.p == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, on_start, on_end);
	XML_SetCharacterDataHandler(x.p, on_text);
	XML_SetStartDoctypeDeclHandler(x.p, on_doctype);
	XML_SetEntityDeclHandler(x.p, on_entity);
	if (XML_Parse(x.p, xml != NULL ? xml : "", (int)len, XML_TRUE) ==
	    XML_STATUS_ERROR && x.rc == CF_OK) {
		x.rc = CF_E_INPUT;
		x.why = XML_ErrorString(XML_GetErrorCode(x.p));
	}
	XML_ParserFree(x.p);
	if (x.rc == CF_OK && x.depth != 0)
		x.rc = CF_E_INPUT;
	if (x.rc != CF_OK)
		return cf_error_set(err, x.rc, "XML: %s", x.why != NULL ?
		    x.why : "malformed");
	*owner_only = x.owner_only;
	return CF_OK;
}

/* src/server/s3xml.c: S3's XML request bodies (s3xml.h).
 *
 * SEC: expat with a DOCTYPE refused outright (no internal subset, so no
 * entity expansion of any size), element depth and text bounded, the
 * number of parts bounded before anything grows, and the first error
 * stops the parser. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <expat.h>

#include "base/mem.h"
#include "base/str.h"
#include "crypto/checksum.h"
#include "server/s3xml.h"

#define DEPTH_MAX	16
#define TEXT_MAX	256
#define KEYTEXT_MAX	1024	/* an object key: 1024 bytes of UTF-8 */

struct cx {
	XML_Parser		 p;
	bool			 del;		/* a Delete body */
	int			 depth;
	int			 where;		/* 0 root, 1 part, 2 field */
	int			 field;		/* 1 number, 2 etag; Delete:
						 * 3 key, 4 version, 5 quiet */
	char			 text[KEYTEXT_MAX + 1];
	size_t			 ntext;
	size_t			 tmax;		/* of the field being read */
	/* Delete: the objects so far, the one being read, Quiet. */
	struct cf_s3xml_obj	*objs;
	struct cf_s3xml_obj	 obj;
	bool			 have_key, have_vid, quiet, have_quiet;
	bool			 have_num, have_etag;
	struct cf_mp_want	 cur;
	struct cf_mp_want	*v;
	size_t			 n, cap, max;
	cf_err			 rc;
	const char		*why;
};

static void	trim(char *s);

/* The local name of an element ("ns:Part" -> "Part"). */
static const char *
local(const char *name)
{
	const char	*c = strrchr(name, ':');

	return c != NULL ? c + 1 : name;
}

static void
stop(struct cx *x, cf_err rc, const char *why)
{
	if (x->rc == CF_OK) {
		x->rc = rc;
		x->why = why;
	}
	(void)XML_StopParser(x->p, XML_FALSE);
}

/* ---- Delete (DeleteObjects) ---- */

static void
del_start(struct cx *x, const char *l)
{
	if (x->where == 2)
		return stop(x, CF_E_INPUT, "an element inside a field");
	if (x->depth == 1) {
		if (strcmp(l, "Delete") != 0)
			stop(x, CF_E_INPUT, "the root must be Delete");
		return;
	}
	if (x->depth == 2 && strcmp(l, "Object") == 0) {
		x->where = 1;
		x->have_key = x->have_vid = false;
		memset(&x->obj, 0, sizeof(x->obj));
		return;
	}
	if (x->depth == 2 && strcmp(l, "Quiet") == 0) {
		if (x->have_quiet)
			return stop(x, CF_E_INPUT, "more than one Quiet");
		x->where = 2;
		x->field = 5;
		x->ntext = 0;
		x->tmax = 16;
		return;
	}
	if (x->depth == 3 && x->where == 1) {
		x->field = strcmp(l, "Key") == 0 ? 3 :
		    strcmp(l, "VersionId") == 0 ? 4 : 0;
		x->ntext = 0;
		x->tmax = x->field == 3 ? KEYTEXT_MAX : TEXT_MAX;
		if (x->field != 0)
			x->where = 2;
	}
}

/* The end of a Key, VersionId or Quiet. */
static void
del_field_end(struct cx *x)
{
	x->text[x->ntext] = '\0';
	if (x->field == 5) {
		trim(x->text);
		if (strcmp(x->text, "true") != 0 &&
		    strcmp(x->text, "false") != 0)
			return stop(x, CF_E_INPUT, "Quiet must be true or "
			    "false");
		x->quiet = strcmp(x->text, "true") == 0;
		x->have_quiet = true;
		return;
	}
	if (x->field == 4) {
		trim(x->text);
		if (x->have_vid || strlen(x->text) >= sizeof(x->obj.version_id))
			return stop(x, CF_E_INPUT, "bad VersionId");
		cf_strlcpy(x->obj.version_id, x->text,
		    sizeof(x->obj.version_id));
		x->have_vid = true;
		return;
	}
	/* SEC: a key is taken as is (blanks are part of it); its NUL
	 * would cut it, so it is refused. */
	if (x->have_key || x->ntext == 0 ||
	    memchr(x->text, '\0', x->ntext) != NULL)
		return stop(x, CF_E_INPUT, "bad Key");
	x->obj.key = cf_malloc(x->ntext + 1);
	if (x->obj.key == NULL)
		return stop(x, CF_E_NOMEM, "out of memory");
	memcpy(x->obj.key, x->text, x->ntext + 1);
	x->have_key = true;
}

static void
del_end(struct cx *x)
{
	struct cf_s3xml_obj	*nv;
	size_t			 cap;

	if (x->where == 2 && ((x->depth == 3 && x->field != 5) ||
	    (x->depth == 2 && x->field == 5))) {
		del_field_end(x);
		x->where = x->field == 5 ? 0 : 1;
		return;
	}
	if (x->depth != 2 || x->where != 1)
		return;
	x->where = 0;
	if (!x->have_key) {
		CF_FREE(x->obj.key);
		return stop(x, CF_E_INPUT, "an Object needs a Key");
	}
	if (x->n >= x->max) {
		CF_FREE(x->obj.key);
		return stop(x, CF_E_LIMIT, "too many objects");
	}
	if (x->n == x->cap) {
		cap = x->cap == 0 ? 16 : 2 * x->cap;
		nv = cf_reallocarray(x->objs, cap, sizeof(*nv));
		if (nv == NULL) {
			CF_FREE(x->obj.key);
			return stop(x, CF_E_NOMEM, "out of memory");
		}
		x->objs = nv;
		x->cap = cap;
	}
	x->objs[x->n++] = x->obj;
	memset(&x->obj, 0, sizeof(x->obj));
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct cx	*x = ud;
	const char	*l = local(name);

	(void)attrs;
	if (++x->depth > DEPTH_MAX)
		return stop(x, CF_E_INPUT, "XML nested too deeply");
	if (x->del)
		return del_start(x, l);
	if (x->depth == 1) {
		if (strcmp(l, "CompleteMultipartUpload") != 0)
			stop(x, CF_E_INPUT, "the root must be "
			    "CompleteMultipartUpload");
		return;
	}
	if (x->depth == 2 && strcmp(l, "Part") == 0) {
		x->where = 1;
		x->have_num = x->have_etag = false;
		memset(&x->cur, 0, sizeof(x->cur));
		return;
	}
	if (x->depth == 3 && x->where == 1) {
		x->field = strcmp(l, "PartNumber") == 0 ? 1 :
		    strcmp(l, "ETag") == 0 ? 2 : 0;
		/* <ChecksumCRC32> ...: the part's checksum as the client
		 * has it, "alg:" then the text. */
		if (x->field == 0 && strncmp(l, "Checksum", 8) == 0 &&
		    cf_cksum_alg_of(l + 8) != CF_CKSUM_NONE) {
			if (x->cur.checksum[0] != '\0')
				return stop(x, CF_E_INPUT, "a Part has one "
				    "checksum");
			(void)snprintf(x->cur.checksum,
			    sizeof(x->cur.checksum), "%s:",
			    cf_cksum_name(cf_cksum_alg_of(l + 8)));
			x->field = 6;
		}
		x->ntext = 0;
		x->tmax = TEXT_MAX;
		if (x->field != 0)
			x->where = 2;
	}
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct cx	*x = ud;

	if (x->where != 2 || len <= 0)
		return;
	if (x->ntext + (size_t)len > x->tmax)
		return stop(x, CF_E_INPUT, "XML text too long");
	memcpy(x->text + x->ntext, s, (size_t)len);
	x->ntext += (size_t)len;
}

static void
trim(char *s)
{
	size_t	n = strlen(s), i = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' ||
	    s[n - 1] == '\r' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
		i++;
	memmove(s, s + i, n - i + 1);
}

static void
field_end(struct cx *x)
{
	uint64_t	num;
	size_t		n;
	char		*t = x->text;

	t[x->ntext] = '\0';
	trim(t);
	if (x->field == 6) {
		n = strlen(x->cur.checksum);
		if (strlen(t) == 0 || strlen(t) + n >=
		    sizeof(x->cur.checksum) || strspn(t, "ABCDEFGHIJKLMNOPQRS"
		    "TUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
		    strlen(t))
			return stop(x, CF_E_INPUT, "bad part checksum");
		memcpy(x->cur.checksum + n, t, strlen(t) + 1);
		return;
	}
	if (x->field == 1) {
		if (x->have_num || cf_parse_u64(t, 1, 1000000, &num, NULL) !=
		    CF_OK)
			return stop(x, CF_E_INPUT, "bad PartNumber");
		x->cur.number = (int64_t)num;
		x->have_num = true;
		return;
	}
	n = strlen(t);
	if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
		t[n - 1] = '\0';
		t++;
		n -= 2;
	}
	if (x->have_etag || n == 0 || n >= sizeof(x->cur.etag))
		return stop(x, CF_E_INPUT, "bad ETag");
	memcpy(x->cur.etag, t, n + 1);
	x->have_etag = true;
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct cx		*x = ud;
	struct cf_mp_want	*nv;
	size_t			 cap;

	(void)name;
	if (x->del) {
		del_end(x);
		x->depth--;
		return;
	}
	if (x->depth == 3 && x->where == 2) {
		field_end(x);
		x->where = 1;
	} else if (x->depth == 2 && x->where == 1) {
		x->where = 0;
		if (!x->have_num || !x->have_etag)
			return stop(x, CF_E_INPUT, "a Part needs PartNumber "
			    "and ETag");
		if (x->n >= x->max)
			return stop(x, CF_E_LIMIT, "too many parts");
		if (x->n == x->cap) {
			cap = x->cap == 0 ? 16 : 2 * x->cap;
			nv = cf_reallocarray(x->v, cap, sizeof(*nv));
			if (nv == NULL)
				return stop(x, CF_E_NOMEM, "out of memory");
			x->v = nv;
			x->cap = cap;
		}
		x->v[x->n++] = x->cur;
	}
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

/* Parse xml[0..len) with x's handlers; x->rc and x->why say how it
 * went. */
static cf_err
run(struct cx *x, const char *xml, size_t len, struct cf_error *err)
{
	if (len > CF_S3XML_MAX || len > INT32_MAX)
		return cf_error_set(err, CF_E_LIMIT, "XML body too large");
	x->p = XML_ParserCreate("UTF-8");
	if (x->p == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	XML_SetEntityDeclHandler(x->p, on_entity);
	if (XML_Parse(x->p, xml != NULL ? xml : "", (int)len, XML_TRUE) ==
	    XML_STATUS_ERROR && x->rc == CF_OK) {
		x->rc = CF_E_INPUT;
		x->why = XML_ErrorString(XML_GetErrorCode(x->p));
	}
	XML_ParserFree(x->p);
	x->p = NULL;
	if (x->rc == CF_OK && x->depth != 0)
		x->rc = CF_E_INPUT;
	if (x->rc != CF_OK)
		return cf_error_set(err, x->rc, "XML: %s", x->why != NULL ?
		    x->why : "malformed");
	return CF_OK;
}

cf_err
cf_s3xml_complete(const char *xml, size_t len, size_t max,
    struct cf_mp_want **out, size_t *n, struct cf_error *err)
{
	struct cx	x;
	cf_err		rc;

	memset(&x, 0, sizeof(x));
	x.max = max;
	rc = run(&x, xml, len, err);
	if (rc != CF_OK) {
		cf_free(x.v);
		return rc;
	}
	*out = x.v;
	*n = x.n;
	return CF_OK;
}

void
cf_s3xml_delete_free(struct cf_s3xml_delete *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		cf_free(d->objs[i].key);
	cf_free(d->objs);
	memset(d, 0, sizeof(*d));
}

cf_err
cf_s3xml_delete(const char *xml, size_t len, size_t max,
    struct cf_s3xml_delete *out, struct cf_error *err)
{
	struct cf_s3xml_delete	d;
	struct cx		x;
	cf_err			rc;

	memset(&x, 0, sizeof(x));
	x.del = true;
	x.max = max;
	rc = run(&x, xml, len, err);
	if (rc == CF_OK && x.n == 0)
		rc = cf_error_set(err, CF_E_INPUT, "XML: a Delete needs at "
		    "least one Object");
	d.objs = x.objs;
	d.n = x.n;
	d.quiet = x.quiet;
	cf_free(x.obj.key);
	if (rc != CF_OK) {
		cf_s3xml_delete_free(&d);
		return rc;
	}
	*out = d;
	return CF_OK;
}

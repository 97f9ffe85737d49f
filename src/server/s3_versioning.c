/* src/server/s3_versioning.c: S3's bucket versioning, the pure parts
 * (s3_versioning.h).
 *
 * SEC: expat with a DOCTYPE refused outright (no entity expansion), the
 * depth and every text bounded, and the first error stops the parser,
 * as in s3xml.c. */
#include <stdbool.h>
#include <string.h>

#include <expat.h>

#include "base/str.h"
#include "server/s3_versioning.h"

#define DEPTH_MAX	8
#define TEXT_MAX	32

#define MALFORMED	"MalformedXML"
#define ILLEGAL		"IllegalVersioningConfigurationException"

struct vx {
	XML_Parser		 p;
	int			 depth;
	int			 field;		/* 0, 1 Status, 2 MfaDelete */
	bool			 have_status, have_mfa;
	char			 text[TEXT_MAX + 1];
	size_t			 ntext;
	struct cf_s3v_conf	*out;
	cf_err			 rc;
	const char		*code;
	const char		*msg;
};

static const char *
local(const char *name)
{
	const char	*c = strrchr(name, ':');

	return c != NULL ? c + 1 : name;
}

static void
stop(struct vx *x, cf_err rc, const char *code, const char *msg)
{
	if (x->rc == CF_OK) {
		x->rc = rc;
		x->code = code;
		x->msg = msg;
	}
	(void)XML_StopParser(x->p, XML_FALSE);
}

static void XMLCALL
on_start(void *ud, const char *name, const char **attrs)
{
	struct vx	*x = ud;
	const char	*l = local(name);

	(void)attrs;
	x->depth++;
	if (x->depth > DEPTH_MAX)
		return stop(x, CF_E_INPUT, MALFORMED, "elements nested too "
		    "deep");
	if (x->field != 0)
		return stop(x, CF_E_INPUT, MALFORMED, "an element inside a "
		    "field");
	if (x->depth == 1) {
		if (strcmp(l, "VersioningConfiguration") != 0)
			stop(x, CF_E_INPUT, MALFORMED, "the root must be "
			    "VersioningConfiguration");
		return;
	}
	if (x->depth != 2)
		return;
	if (strcmp(l, "Status") == 0)
		x->field = 1;
	else if (strcmp(l, "MfaDelete") == 0 || strcmp(l, "MFADelete") == 0)
		x->field = 2;
	else
		return stop(x, CF_E_INPUT, MALFORMED, "VersioningConfiguration "
		    "holds Status and MfaDelete only");
	if ((x->field == 1 && x->have_status) ||
	    (x->field == 2 && x->have_mfa))
		return stop(x, CF_E_INPUT, MALFORMED, "a field given twice");
	x->ntext = 0;
}

static void
trim(char *s)
{
	size_t	n = strlen(s), i = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	memmove(s, s + i, n - i + 1);
}

static void XMLCALL
on_end(void *ud, const char *name)
{
	struct vx	*x = ud;

	(void)name;
	x->depth--;
	if (x->field == 0)
		return;
	x->text[x->ntext] = '\0';
	trim(x->text);
	if (x->field == 1) {
		x->have_status = true;
		if (strcmp(x->text, "Enabled") == 0)
			cf_strlcpy(x->out->status, "enabled",
			    sizeof(x->out->status));
		else if (strcmp(x->text, "Suspended") == 0)
			cf_strlcpy(x->out->status, "suspended",
			    sizeof(x->out->status));
		else
			stop(x, CF_E_INPUT, ILLEGAL, "Status must be Enabled "
			    "or Suspended");
	} else {
		x->have_mfa = true;
		if (strcmp(x->text, "Enabled") == 0 ||
		    strcmp(x->text, "Disabled") == 0)
			cf_strlcpy(x->out->mfa_delete, x->text,
			    sizeof(x->out->mfa_delete));
		else
			stop(x, CF_E_INPUT, ILLEGAL, "MfaDelete must be "
			    "Enabled or Disabled");
	}
	x->field = 0;
}

static void XMLCALL
on_text(void *ud, const char *s, int len)
{
	struct vx	*x = ud;

	if (x->rc != CF_OK || len <= 0)
		return;
	if (x->field == 0) {
		/* Between elements: blanks only. */
		int i;

		for (i = 0; i < len; i++)
			if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
			    s[i] != '\r')
				return stop(x, CF_E_INPUT, MALFORMED, "text "
				    "outside a field");
		return;
	}
	if ((size_t)len > TEXT_MAX - x->ntext)
		return stop(x, CF_E_INPUT, ILLEGAL, "a field's value is too "
		    "long");
	memcpy(x->text + x->ntext, s, (size_t)len);
	x->ntext += (size_t)len;
}

static void XMLCALL
on_doctype(void *ud, const char *name, const char *sysid, const char *pubid,
    int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	stop(ud, CF_E_INPUT, MALFORMED, "a DOCTYPE is not allowed");
}

cf_err
cf_s3v_parse(const char *xml, size_t len, struct cf_s3v_conf *out,
    const char **why, struct cf_error *err)
{
	struct vx	x;
	cf_err		rc;

	*why = MALFORMED;
	memset(&x, 0, sizeof(x));
	if (len > 64 * 1024 || len > (size_t)INT32_MAX)
		return cf_error_set(err, CF_E_INPUT, "the body is too large");
	x.out = out;
	memset(out, 0, sizeof(*out));
	x.p = XML_ParserCreate("UTF-8");
	if (x.p == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, on_start, on_end);
	XML_SetCharacterDataHandler(x.p, on_text);
	XML_SetStartDoctypeDeclHandler(x.p, on_doctype);
	if (XML_Parse(x.p, xml != NULL ? xml : "", (int)len, XML_TRUE) ==
	    XML_STATUS_ERROR && x.rc == CF_OK) {
		x.rc = CF_E_INPUT;
		x.code = MALFORMED;
		x.msg = XML_ErrorString(XML_GetErrorCode(x.p));
	}
	XML_ParserFree(x.p);
	rc = x.rc;
	if (rc != CF_OK) {
		memset(out, 0, sizeof(*out));
		*why = x.code != NULL ? x.code : MALFORMED;
		return cf_error_set(err, rc, "%s", x.msg != NULL ? x.msg :
		    "malformed XML");
	}
	return CF_OK;
}

cf_err
cf_s3v_answer(struct cf_buf *b, const char *state, struct cf_error *err)
{
	const char	*st = NULL;

	if (state != NULL && strcmp(state, "enabled") == 0)
		st = "Enabled";
	else if (state != NULL && strcmp(state, "suspended") == 0)
		st = "Suspended";
	return cf_buf_printf(b, err, "<?xml version=\"1.0\" encoding="
	    "\"UTF-8\"?>\n<VersioningConfiguration xmlns=\"http://s3."
	    "amazonaws.com/doc/2006-03-01/\">%s%s%s</VersioningConfiguration>",
	    st != NULL ? "<Status>" : "", st != NULL ? st : "",
	    st != NULL ? "</Status>" : "");
}

const char *
cf_s3v_id(int s3_null, const char *vid)
{
	return s3_null != 0 ? "null" : vid;
}

const char *
cf_s3v_header(int s3_null, const char *vid)
{
	return s3_null == 1 ? NULL : cf_s3v_id(s3_null, vid);
}

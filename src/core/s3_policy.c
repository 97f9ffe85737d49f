/* src/core/s3_policy.c: the IAM-JSON-to-Cedar compiler of S3 bucket
 * policies (s3_policy.h; docs/s3.md, "Bucket policies", has the mapping
 * table).
 *
 * Each statement becomes at most two Cedar policies of the same effect:
 * one for its object actions on the keys its object Resources match
 * (resource.key like "PATTERN"), one for its bucket actions when it
 * names the bucket itself.  Principal, Condition and the key patterns
 * become `when` clauses, so a statement applies exactly when every one
 * of them holds, as on AWS.  Everything the compiler does not know is
 * refused with the element named, never skipped.
 *
 * SEC: the output is only ever a namespace's policy set: its scope is
 * `resource in Namespace::"BUCKET"`, its actions are named (object and
 * ns:get actions of the registry), and it is validated and confined by
 * the policy administration that stores it (ops_policy.c) like any
 * namespace owner's policy.  Text from the JSON reaches Cedar only as
 * escaped string literals, and only after the checks below. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/netaddr.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/core.h"
#include "core/s3_policy.h"

#define DEPTH_MAX	8
#define STMT_MAX	64		/* statements in one policy */
/* principals, actions, resources, values in one list */
#define LIST_MAX	64
/* a compiled statement: linear in the JSON */
#define CEDAR_MAX	(256u * 1024)

/* The Coffer actions a bucket policy can name; a statement's actions are
 * a mask of these. */
static const struct {
	const char	*name;
	bool		 object;	/* decided on an object's key */
} coffer_acts[] = {
	{ "object:get", true }, { "object:head", true },
	{ "object:put", true }, { "object:delete", true },
	{ "object:list", false }, { "object:versions", false },
	{ "ns:get", false },
};

#define A_GET		(1u << 0)
#define A_HEAD		(1u << 1)
#define A_PUT		(1u << 2)
#define A_DELETE	(1u << 3)
#define A_LIST		(1u << 4)
#define A_VERSIONS	(1u << 5)
#define A_NSGET		(1u << 6)
#define A_OBJECT	(A_GET | A_HEAD | A_PUT | A_DELETE)
#define A_BUCKET	(A_LIST | A_VERSIONS | A_NSGET)

/* The S3 actions that map (matched without regard to case, as AWS does),
 * and what each means in Coffer. */
static const struct {
	const char	*name;
	unsigned	 acts;
} s3_acts[] = {
	{ "s3:AbortMultipartUpload", A_PUT },
	{ "s3:DeleteObject", A_DELETE },
	{ "s3:GetBucketLocation", A_NSGET },
	{ "s3:GetObject", A_GET | A_HEAD },
	{ "s3:GetObjectVersion", A_GET | A_HEAD },
	{ "s3:ListBucket", A_LIST },
	{ "s3:ListBucketMultipartUploads", A_LIST },
	{ "s3:ListBucketVersions", A_VERSIONS },
	{ "s3:ListMultipartUploadParts", A_PUT },
	{ "s3:PutObject", A_PUT },
};

struct pol {
	bool	 forbid;
	char	*text;
};

struct cf_s3_policy {
	char		*cedar;
	char		*json;
	size_t		 n;
	struct pol	 p[2 * STMT_MAX];
};

/* One statement while it is compiled. */
struct stmt {
	char		 where[48];	/* "Statement[3]" */
	char		 id[80];	/* the @id stem */
	bool		 forbid;
	unsigned	 acts;
	bool		 bucket;	/* names the bucket itself */
	bool		 any_key;	/* names BUCKET/ * */
	json_t		*keys;		/* patterns of object Resources */
	struct cf_buf	 who;		/* the principal clause, or empty */
	struct cf_buf	 cond;		/* when-clauses of Condition */
};

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

static cf_err
bad(struct cf_error *err, const char *where, const char *elem,
    const char *why)
{
	return cf_error_set(err, CF_E_INPUT, "%s%s%s: %s", where,
	    where[0] != '\0' && elem[0] != '\0' ? "." : "", elem, why);
}

/* s as a Cedar string literal's inside; control characters refused (no
 * name or key holds one). */
static cf_err
cedar_str(struct cf_buf *b, const char *s, struct cf_error *err)
{
	cf_err	rc = CF_OK;

	for (; *s != '\0' && rc == CF_OK; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return cf_error_set(err, CF_E_INPUT, "a control "
			    "character in a string");
		if (*s == '"' || *s == '\\')
			rc = cf_buf_append(b, "\\", 1, err);
		if (rc == CF_OK)
			rc = cf_buf_append(b, s, 1, err);
	}
	return rc;
}

/* A JSON value that is a string or a list of strings (at most LIST_MAX),
 * as an array (*out, the caller's). */
static cf_err
str_list(json_t *v, const char *where, const char *elem, json_t **out,
    struct cf_error *err)
{
	json_t	*a, *e;
	size_t	 i;

	if (json_is_string(v)) {
		a = json_array();
		if (a == NULL || json_array_append(a, v) != 0) {
			json_decref(a);
			return nomem(err);
		}
		*out = a;
		return CF_OK;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		return bad(err, where, elem, "must be a string or a non-empty "
		    "list of strings");
	if (json_array_size(v) > LIST_MAX)
		return bad(err, where, elem, "too many entries (at most 64)");
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return bad(err, where, elem, "must be a string or a "
			    "non-empty list of strings");
	}
	*out = json_incref(v);
	return CF_OK;
}

/* AWS's wildcard match: '*' any run, '?' any one character; letters
 * compared without regard to case (action names). */
static bool
glob_ci(const char *p, const char *s)
{
	const char	*star = NULL, *mark = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = p++;
			mark = s;
		} else if (*p == '?' || (*p != '\0' &&
		    ((*p | 0x20) == (*s | 0x20) || *p == *s))) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++mark;
		} else
			return false;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static cf_err
do_action(struct stmt *st, json_t *v, struct cf_error *err)
{
	json_t		*l = NULL;
	const char	*a;
	unsigned	 got;
	size_t		 i, k;
	cf_err		 rc = CF_OK;

	rc = str_list(v, st->where, "Action", &l, err);
	if (rc != CF_OK)
		return rc;
	for (i = 0; i < json_array_size(l) && rc == CF_OK; i++) {
		a = json_string_value(json_array_get(l, i));
		if (strcmp(a, "*") == 0 || strncasecmp(a, "s3:", 3) != 0) {
			rc = cf_error_set(err, CF_E_INPUT,
			    "%s.Action: \"%.64s\" "
			    "is not an s3 action (write s3:ACTION)",
			    st->where, a);
			break;
		}
		got = 0;
		for (k = 0; k < sizeof(s3_acts) / sizeof(s3_acts[0]); k++)
			if (glob_ci(a, s3_acts[k].name))
				got |= s3_acts[k].acts;
		if (got == 0)
			rc = cf_error_set(err, CF_E_INPUT,
			    "%s.Action: \"%.64s\" "
			    "does not map onto a Coffer action (docs/s3.md, "
			    "\"Bucket policies\")", st->where, a);
		st->acts |= got;
	}
	json_decref(l);
	return rc;
}

/* "arn:aws:iam::ACCOUNT:user/NAME", "coffer:user/NAME",
 * "coffer:service/NAME" or "NAME": the name, and the type it must have
 * (NULL: either). */
static const char *
principal_name(const char *s, const char **want)
{
	const char	*p;

	*want = NULL;
	if (strncmp(s, "arn:aws:iam::", 13) == 0) {
		p = strchr(s + 13, ':');
		if (p == NULL || strncmp(p + 1, "user/", 5) != 0)
			return NULL;
		*want = "User";
		return p + 6;
	}
	if (strncmp(s, "coffer:user/", 12) == 0) {
		*want = "User";
		return s + 12;
	}
	if (strncmp(s, "coffer:service/", 15) == 0) {
		*want = "Service";
		return s + 15;
	}
	return s;
}

static cf_err
do_principal(struct stmt *st, json_t *v, cf_s3_principal_fn fn,
    void *arg, struct cf_error *err)
{
	json_t		*l = NULL;
	const char	*s, *name, *want, *type;
	const char	*key;
	json_t		*val;
	size_t		 i;
	bool		 any = false;
	cf_err		 rc = CF_OK;

	if (json_is_string(v)) {
		if (strcmp(json_string_value(v), "*") != 0)
			return bad(err, st->where, "Principal", "a string "
			    "Principal must be \"*\" (write {\"AWS\": "
			    "[...]} for named principals)");
		return CF_OK;
	}
	if (!json_is_object(v) || json_object_size(v) == 0)
		return bad(err, st->where, "Principal", "must be \"*\" or "
		    "{\"AWS\": ...}");
	json_object_foreach(v, key, val) {
		if (strcmp(key, "AWS") != 0)
			return cf_error_set(err, CF_E_INPUT,
			    "%s.Principal.%.32s: "
			    "only AWS principals map onto Coffer principals",
			    st->where, key);
	}
	rc = str_list(json_object_get(v, "AWS"), st->where, "Principal.AWS",
	    &l, err);
	if (rc != CF_OK)
		return rc;
	for (i = 0; i < json_array_size(l); i++)
		if (strcmp(json_string_value(json_array_get(l, i)), "*") == 0)
			any = true;
	/* "*" among others: anyone authenticated, the others add nothing. */
	for (i = 0; !any && i < json_array_size(l) && rc == CF_OK; i++) {
		s = json_string_value(json_array_get(l, i));
		name = principal_name(s, &want);
		if (name == NULL || !cf_name_principal_valid(name)) {
			rc = cf_error_set(err, CF_E_INPUT, "%s.Principal: "
			    "\"%.64s\" is not a Coffer principal (write "
			    "arn:aws:iam:::user/NAME, coffer:user/NAME, "
			    "coffer:service/NAME or NAME)", st->where, s);
			break;
		}
		type = want != NULL ? want : "User";
		if (fn != NULL) {
			rc = fn(arg, name, &type, err);
			if (rc == CF_E_NOTFOUND) {
				cf_error_clear(err);
				rc = cf_error_set(err, CF_E_INPUT,
				    "%s.Principal: "
				    "no principal \"%s\"", st->where, name);
				break;
			}
			if (rc != CF_OK)
				break;
			if (want != NULL && strcmp(want, type) != 0) {
				rc = cf_error_set(err, CF_E_INPUT,
				    "%s.Principal: "
				    "\"%s\" is a %s, not a %s", st->where, name,
				    type, want);
				break;
			}
		}
		rc = cf_buf_printf(&st->who, err, "%sprincipal == %s::\"",
		    i == 0 ? "" : " ||\n      ", type);
		if (rc == CF_OK)
			rc = cedar_str(&st->who, name, err);
		if (rc == CF_OK)
			rc = cf_buf_append(&st->who, "\"", 1, err);
	}
	if (any)
		cf_buf_reset(&st->who);
	json_decref(l);
	return rc;
}

static cf_err
do_resource(struct stmt *st, json_t *v, const char *bucket,
    struct cf_error *err)
{
	json_t		*l = NULL;
	const char	*s, *rest;
	size_t		 i, bl = strlen(bucket);
	cf_err		 rc = CF_OK;

	rc = str_list(v, st->where, "Resource", &l, err);
	if (rc != CF_OK)
		return rc;
	for (i = 0; i < json_array_size(l) && rc == CF_OK; i++) {
		s = json_string_value(json_array_get(l, i));
		if (strncmp(s, "arn:aws:s3:::", 13) != 0 ||
		    strncmp(s + 13, bucket, bl) != 0 ||
		    (s[13 + bl] != '\0' && s[13 + bl] != '/')) {
			rc = cf_error_set(err, CF_E_INPUT, "%s.Resource: "
			    "\"%.80s\" is not in this bucket (write "
			    "arn:aws:s3:::%s or arn:aws:s3:::%s/KEY-PATTERN)",
			    st->where, s, bucket, bucket);
			break;
		}
		rest = s + 13 + bl;
		if (*rest == '\0') {
			st->bucket = true;
			continue;
		}
		rest++;
		if (strchr(rest, '?') != NULL) {
			rc = cf_error_set(err, CF_E_INPUT,
			    "%s.Resource: \"%.80s\""
			    ": '?' wildcards are not supported (only '*')",
			    st->where, s);
			break;
		}
		if (strlen(rest) > 1024 || !cf_utf8_valid(rest,
		    strlen(rest))) {
			rc = bad(err, st->where, "Resource", "a key pattern "
			    "is 0 to 1024 bytes of UTF-8");
			break;
		}
		if (strcmp(rest, "*") == 0)
			st->any_key = true;
		else if (json_array_append_new(st->keys,
		    json_string(rest)) != 0)
			rc = nomem(err);
	}
	json_decref(l);
	return rc;
}

/* "2026-01-31T00:00:00Z", with a fraction, or "2026-01-31": as Cedar
 * takes it.  Anything else (epoch seconds, offsets) is refused, so that
 * no forbid ever errors on a bad datetime at evaluation. */
static bool
cedar_datetime(const char *s, char out[40])
{
	char		 buf[48];
	struct tm	 tm;
	time_t		 t;
	int64_t		 us;
	size_t		 n = strlen(s);

	if (n == 10)
		(void)snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
	else if (n < sizeof(buf))
		cf_strlcpy(buf, s, sizeof(buf));
	else
		return false;
	if (cf_time_parse(buf, &us, NULL) != CF_OK || us < 0 ||
	    us > 253402300799LL * 1000000)
		return false;
	t = (time_t)(us / 1000000);
	if (gmtime_r(&t, &tm) == NULL)
		return false;
	if (us % 1000000 / 1000 != 0) {
		char	sec[24];

		(void)strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
		(void)snprintf(out, 40, "%s.%03dZ", sec,
		    (int)(us % 1000000 / 1000));
	} else
		(void)strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return true;
}

/* The condition operators that map, the one key each takes, and the
 * clause around the values' disjunction.  A negated operator is true
 * when its key is absent, as on AWS. */
enum opkind { K_IP, K_DATE, K_BOOL, K_STR };

static const struct {
	const char	*op;
	enum opkind	 kind;
	const char	*key;
	const char	*open, *close;
	const char	*rel;		/* dates: the comparison; strings:
					 * == or like */
} cond_ops[] = {
	{ "IpAddress", K_IP, "aws:SourceIp",
	    "context has source_ip && (", ")", NULL },
	{ "NotIpAddress", K_IP, "aws:SourceIp",
	    "!(context has source_ip && (", "))", NULL },
	{ "DateLessThan", K_DATE, "aws:CurrentTime", "", "", "<" },
	{ "DateLessThanEquals", K_DATE, "aws:CurrentTime", "", "", "<=" },
	{ "DateGreaterThan", K_DATE, "aws:CurrentTime", "", "", ">" },
	{ "DateGreaterThanEquals", K_DATE, "aws:CurrentTime", "", "", ">=" },
	{ "Bool", K_BOOL, "aws:SecureTransport", "", "", NULL },
	{ "StringEquals", K_STR, "s3:prefix",
	    "context has op && context.op has prefix && (", ")", "==" },
	{ "StringLike", K_STR, "s3:prefix",
	    "context has op && context.op has prefix && (", ")", "like" },
	{ "StringNotEquals", K_STR, "s3:prefix",
	    "!(context has op && context.op has prefix && (", "))", "==" },
	{ "StringNotLike", K_STR, "s3:prefix",
	    "!(context has op && context.op has prefix && (", "))", "like" },
};

/* One value of a condition, as a Cedar expression onto b. */
static cf_err
cond_value(struct cf_buf *b, size_t k, const char *where, const char *key,
    const char *s, struct cf_error *err)
{
	struct cf_cidr_list	cl;
	char			ip[CF_IP_TEXT_MAX], dt[40];
	cf_err			rc;

	switch (cond_ops[k].kind) {
	case K_IP:
		if (strchr(s, ',') != NULL || cf_cidr_list_parse(s, &cl,
		    NULL) != CF_OK || cl.n != 1)
			return cf_error_set(err, CF_E_INPUT, "%s.%s: \"%.64s\" "
			    "is not an address or CIDR network", where, key,
			    s);
		cf_ip_format(&cl.e[0].ip, ip);
		return cf_buf_printf(b, err, "context.source_ip.isInRange("
		    "ip(\"%s/%u\"))", ip, cl.e[0].bits);
	case K_DATE:
		if (!cedar_datetime(s, dt))
			return cf_error_set(err, CF_E_INPUT, "%s.%s: \"%.64s\" "
			    "is not a date (YYYY-MM-DDThh:mm:ssZ)", where, key,
			    s);
		return cf_buf_printf(b, err, "context.time %s datetime(\"%s\")",
		    cond_ops[k].rel, dt);
	case K_BOOL:
		/* SEC: every request here came over TLS: true always
		 * holds, false never. */
		if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
			return cf_error_set(err, CF_E_INPUT, "%s.%s: must be "
			    "true or false", where, key);
		return cf_buf_append_str(b, s, err);
	case K_STR:
		if (strcmp(cond_ops[k].rel, "like") == 0 &&
		    strchr(s, '?') != NULL)
			return cf_error_set(err, CF_E_INPUT,
			    "%s.%s: \"%.64s\": "
			    "'?' wildcards are not supported (only '*')",
			    where, key, s);
		rc = cf_buf_printf(b, err, "context.op.prefix %s \"",
		    cond_ops[k].rel);
		if (rc == CF_OK)
			rc = cedar_str(b, s, err);
		if (rc == CF_OK)
			rc = cf_buf_append(b, "\"", 1, err);
		return rc;
	}
	return cf_error_set(err, CF_E_INTERNAL, "condition kind");
}

/* One "Operator": {"key": values} of Condition, appended to st->cond:
 * one when-clause per key, its values or'ed. */
static cf_err
do_cond_op(struct stmt *st, const char *op, json_t *body,
    struct cf_error *err)
{
	struct cf_buf	*b = &st->cond;
	const char	*key;
	char		 where[128];
	json_t		*val, *l = NULL, *e;
	size_t		 i, k;
	cf_err		 rc = CF_OK;

	for (k = 0; k < sizeof(cond_ops) / sizeof(cond_ops[0]); k++)
		if (strcmp(op, cond_ops[k].op) == 0)
			break;
	if (k == sizeof(cond_ops) / sizeof(cond_ops[0]))
		return cf_error_set(err, CF_E_INPUT, "%s.Condition.%.40s: "
		    "unknown or unsupported condition operator", st->where,
		    op);
	if (!json_is_object(body) || json_object_size(body) == 0)
		return cf_error_set(err, CF_E_INPUT, "%s.Condition.%.40s: must "
		    "be an object of condition keys", st->where, op);
	(void)snprintf(where, sizeof(where), "%s.Condition.%s", st->where,
	    op);
	json_object_foreach(body, key, val) {
		/* Condition keys are case-insensitive on AWS. */
		if (strcasecmp(key, cond_ops[k].key) != 0)
			return cf_error_set(err, CF_E_INPUT,
			    "%s.%.40s: unknown "
			    "or unsupported condition key for %s (it takes "
			    "%s)", where, key, op, cond_ops[k].key);
		if (json_is_boolean(val)) {
			l = json_pack("[s]", json_is_true(val) ? "true" :
			    "false");
			if (l == NULL)
				return nomem(err);
		} else {
			rc = str_list(val, where, key, &l, err);
			if (rc != CF_OK)
				return rc;
		}
		rc = cf_buf_printf(b, err, "\nwhen { %s", cond_ops[k].open);
		json_array_foreach(l, i, e) {
			if (rc == CF_OK && i > 0)
				rc = cf_buf_append_str(b, " || ", err);
			if (rc == CF_OK)
				rc = cond_value(b, k, where, key,
				    json_string_value(e), err);
			if (rc != CF_OK)
				break;
		}
		if (rc == CF_OK)
			rc = cf_buf_printf(b, err, "%s }", cond_ops[k].close);
		json_decref(l);
		l = NULL;
		if (rc != CF_OK)
			return rc;
	}
	return CF_OK;
}

static cf_err
do_condition(struct stmt *st, json_t *v, struct cf_error *err)
{
	const char	*op;
	json_t		*body;
	cf_err		 rc;

	if (!json_is_object(v))
		return bad(err, st->where, "Condition", "must be an object of "
		    "condition operators");
	json_object_foreach(v, op, body) {
		rc = do_cond_op(st, op, body, err);
		if (rc != CF_OK)
			return rc;
	}
	return CF_OK;
}

/* One Cedar policy of st: the object or the bucket part. */
static cf_err
emit(struct cf_s3_policy *out, const struct stmt *st, bool object,
    const char *bucket, struct cf_error *err)
{
	struct cf_buf	 b;
	unsigned	 mask = st->acts & (object ? A_OBJECT : A_BUCKET);
	size_t		 i, k;
	bool		 first = true;
	cf_err		 rc;

	cf_buf_init(&b, CEDAR_MAX);
	rc = cf_buf_printf(&b, err, "@id(\"%s.%s\")\n%s (\n    principal,\n"
	    "    action in [", st->id, object ? "object" : "bucket",
	    st->forbid ? "forbid" : "permit");
	for (i = 0; i < sizeof(coffer_acts) / sizeof(coffer_acts[0]) &&
	    rc == CF_OK; i++) {
		if ((mask & (1u << i)) == 0)
			continue;
		rc = cf_buf_printf(&b, err, "%sAction::\"%s\"", first ? "" :
		    ", ", coffer_acts[i].name);
		first = false;
	}
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "],\n    resource in Namespace::\"",
		    err);
	if (rc == CF_OK)
		rc = cedar_str(&b, bucket, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "\"\n)", err);
	if (rc == CF_OK && st->who.len > 0) {
		rc = cf_buf_append_str(&b, "\nwhen { ", err);
		if (rc == CF_OK)
			rc = cf_buf_append(&b, st->who.data, st->who.len, err);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, " }", err);
	}
	if (rc == CF_OK && object && !st->any_key) {
		rc = cf_buf_append_str(&b, "\nwhen { ", err);
		for (k = 0; k < json_array_size(st->keys) && rc == CF_OK;
		    k++) {
			rc = cf_buf_printf(&b, err, "%sresource.key like \"",
			    k == 0 ? "" : " ||\n      ");
			if (rc == CF_OK)
				rc = cedar_str(&b, json_string_value(
				    json_array_get(st->keys, k)), err);
			if (rc == CF_OK)
				rc = cf_buf_append(&b, "\"", 1, err);
		}
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, " }", err);
	}
	if (rc == CF_OK && st->cond.len > 0)
		rc = cf_buf_append(&b, st->cond.data, st->cond.len, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, ";\n", err);
	if (rc == CF_OK) {
		out->p[out->n].forbid = st->forbid;
		out->p[out->n].text = cf_buf_take(&b);
		if (out->p[out->n].text == NULL)
			rc = nomem(err);
		else
			out->n++;
	}
	cf_buf_free(&b);
	if (rc == CF_E_LIMIT)
		rc = cf_error_set(err, CF_E_INPUT, "%s: compiles to too long "
		    "a policy", st->where);
	return rc;
}

static cf_err
do_statement(struct cf_s3_policy *out, json_t *s, size_t idx,
    const char *bucket, json_t *sids, cf_s3_principal_fn fn, void *arg,
    struct cf_error *err)
{
	struct stmt	 st;
	const char	*key, *sid = NULL, *eff;
	json_t		*v;
	size_t		 i, n0 = out->n;
	cf_err		 rc = CF_OK;

	memset(&st, 0, sizeof(st));
	cf_buf_init(&st.who, CEDAR_MAX);
	cf_buf_init(&st.cond, CEDAR_MAX);
	(void)snprintf(st.where, sizeof(st.where), "Statement[%zu]", idx);
	st.keys = json_array();
	if (st.keys == NULL) {
		rc = nomem(err);
		goto out;
	}
	if (!json_is_object(s)) {
		rc = bad(err, st.where, "", "must be an object");
		goto out;
	}
	json_object_foreach(s, key, v) {
		if (strcmp(key, "Sid") != 0 && strcmp(key, "Effect") != 0 &&
		    strcmp(key, "Principal") != 0 &&
		    strcmp(key, "Action") != 0 &&
		    strcmp(key, "Resource") != 0 &&
		    strcmp(key, "Condition") != 0) {
			rc = cf_error_set(err, CF_E_INPUT, "%s.%.32s: not "
			    "supported (a bucket policy here takes Sid, "
			    "Effect, Principal, Action, Resource and "
			    "Condition)", st.where, key);
			goto out;
		}
	}
	v = json_object_get(s, "Sid");
	if (v != NULL) {
		sid = json_string_value(v);
		for (i = 0; sid != NULL && sid[i] != '\0'; i++)
			if (!((sid[i] >= 'a' && sid[i] <= 'z') ||
			    (sid[i] >= 'A' && sid[i] <= 'Z') ||
			    (sid[i] >= '0' && sid[i] <= '9')))
				break;
		if (sid == NULL || sid[i] != '\0' || i > 64) {
			rc = bad(err, st.where, "Sid", "must be 0 to 64 "
			    "letters and digits");
			goto out;
		}
		if (sid[0] != '\0' && json_object_get(sids, sid) != NULL) {
			rc = bad(err, st.where, "Sid", "statement ids must "
			    "be unique");
			goto out;
		}
		if (sid[0] != '\0' && json_object_set_new(sids, sid,
		    json_true()) != 0) {
			rc = nomem(err);
			goto out;
		}
	}
	/* Ids are unique: a Sid is letters and digits, the stem of the
	 * others "#N". */
	if (sid != NULL && sid[0] != '\0')
		(void)snprintf(st.id, sizeof(st.id), "s3.%s", sid);
	else
		(void)snprintf(st.id, sizeof(st.id), "s3.#%zu", idx);
	eff = json_string_value(json_object_get(s, "Effect"));
	if (eff == NULL || (strcmp(eff, "Allow") != 0 &&
	    strcmp(eff, "Deny") != 0)) {
		rc = bad(err, st.where, "Effect", "must be Allow or Deny");
		goto out;
	}
	st.forbid = strcmp(eff, "Deny") == 0;
	if ((v = json_object_get(s, "Principal")) == NULL) {
		rc = bad(err, st.where, "Principal", "missing (a bucket "
		    "policy names whom it is about; \"*\": anyone "
		    "authenticated)");
		goto out;
	}
	rc = do_principal(&st, v, fn, arg, err);
	if (rc != CF_OK)
		goto out;
	if ((v = json_object_get(s, "Action")) == NULL) {
		rc = bad(err, st.where, "Action", "missing");
		goto out;
	}
	rc = do_action(&st, v, err);
	if (rc != CF_OK)
		goto out;
	if ((v = json_object_get(s, "Resource")) == NULL) {
		rc = bad(err, st.where, "Resource", "missing");
		goto out;
	}
	rc = do_resource(&st, v, bucket, err);
	if (rc != CF_OK)
		goto out;
	if ((v = json_object_get(s, "Condition")) != NULL) {
		rc = do_condition(&st, v, err);
		if (rc != CF_OK)
			goto out;
	}
	if ((st.acts & A_OBJECT) != 0 && (st.any_key ||
	    json_array_size(st.keys) > 0))
		rc = emit(out, &st, true, bucket, err);
	if (rc == CF_OK && (st.acts & A_BUCKET) != 0 && st.bucket)
		rc = emit(out, &st, false, bucket, err);
	if (rc == CF_OK && out->n == n0)
		rc = bad(err, st.where, "Action", "no action applies to the "
		    "statement's Resource (object actions need "
		    "arn:aws:s3:::BUCKET/KEY, bucket actions "
		    "arn:aws:s3:::BUCKET)");
out:
	json_decref(st.keys);
	cf_buf_free(&st.who);
	cf_buf_free(&st.cond);
	return rc;
}

void
cf_s3_policy_free(struct cf_s3_policy *p)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		cf_free(p->p[i].text);
	cf_free(p->cedar);
	cf_json_free(p->json);
	cf_free(p);
}

cf_err
cf_s3_policy_compile(const char *bucket, const void *json, size_t len,
    cf_s3_principal_fn fn, void *arg, struct cf_s3_policy **out,
    struct cf_error *err)
{
	struct cf_s3_policy	*p = NULL;
	struct cf_buf		 b;
	json_t			*doc = NULL, *stmts = NULL, *sids = NULL, *v;
	const char		*key, *ver;
	size_t			 i;
	cf_err			 rc;

	cf_buf_init(&b, 2 * CEDAR_MAX);
	if (bucket == NULL || !cf_name_ns_valid(bucket)) {
		rc = cf_error_set(err, CF_E_INPUT, "invalid bucket name");
		goto out;
	}
	if (len > CF_S3_POLICY_MAX) {
		rc = cf_error_set(err, CF_E_LIMIT, "the policy is %zu bytes, "
		    "at most %u are allowed", len, CF_S3_POLICY_MAX);
		goto out;
	}
	rc = cf_json_parse(json, len, CF_S3_POLICY_MAX, DEPTH_MAX, &doc, err);
	if (rc == CF_E_LIMIT || rc == CF_E_INPUT) {
		char	msg[CF_ERROR_MSG_LEN];

		cf_strlcpy(msg, err != NULL ? err->msg : "", sizeof(msg));
		cf_error_clear(err);
		rc = cf_error_set(err, CF_E_INPUT, "the policy is not valid "
		    "JSON: %s", msg);
	}
	if (rc != CF_OK)
		goto out;
	if (!json_is_object(doc)) {
		rc = cf_error_set(err, CF_E_INPUT, "the policy must be a JSON "
		    "object");
		goto out;
	}
	json_object_foreach(doc, key, v) {
		if (strcmp(key, "Version") != 0 && strcmp(key, "Id") != 0 &&
		    strcmp(key, "Statement") != 0) {
			rc = cf_error_set(err, CF_E_INPUT,
			    "%.32s: not supported "
			    "(a policy has Version, Id and Statement)", key);
			goto out;
		}
	}
	v = json_object_get(doc, "Version");
	ver = json_string_value(v);
	if (v != NULL && (ver == NULL || (strcmp(ver, "2012-10-17") != 0 &&
	    strcmp(ver, "2008-10-17") != 0))) {
		rc = cf_error_set(err, CF_E_INPUT, "Version: must be "
		    "\"2012-10-17\" or \"2008-10-17\"");
		goto out;
	}
	v = json_object_get(doc, "Id");
	if (v != NULL && !json_is_string(v)) {
		rc = cf_error_set(err, CF_E_INPUT, "Id: must be a string");
		goto out;
	}
	v = json_object_get(doc, "Statement");
	if (json_is_object(v))
		stmts = json_pack("[O]", v);
	else if (json_is_array(v) && json_array_size(v) > 0)
		stmts = json_incref(v);
	else {
		rc = cf_error_set(err, CF_E_INPUT, "Statement: must be a "
		    "statement or a non-empty list of them");
		goto out;
	}
	sids = json_object();
	p = cf_calloc(1, sizeof(*p));
	if (stmts == NULL || sids == NULL || p == NULL) {
		rc = nomem(err);
		goto out;
	}
	if (json_array_size(stmts) > STMT_MAX) {
		rc = cf_error_set(err, CF_E_INPUT, "Statement: at most %d "
		    "statements", STMT_MAX);
		goto out;
	}
	for (i = 0; i < json_array_size(stmts); i++) {
		rc = do_statement(p, json_array_get(stmts, i), i, bucket, sids,
		    fn, arg, err);
		if (rc != CF_OK)
			goto out;
	}
	p->json = cf_json_dumps_flags(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (p->json == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = cf_buf_printf(&b, err, CF_S3_POLICY_MAGIC "%s\n// The bucket "
	    "policy of %s (PutBucketPolicy), compiled by Coffer: the line "
	    "above is\n// what GetBucketPolicy answers.\n", p->json, bucket);
	for (i = 0; i < p->n && rc == CF_OK; i++)
		rc = cf_buf_printf(&b, err, "\n%s", p->p[i].text);
	if (rc == CF_E_LIMIT)
		rc = cf_error_set(err, CF_E_INPUT, "the policy compiles to "
		    "too long a text");
	if (rc != CF_OK)
		goto out;
	p->cedar = cf_buf_take(&b);
	if (p->cedar == NULL) {
		rc = nomem(err);
		goto out;
	}
	*out = p;
	p = NULL;
out:
	cf_buf_free(&b);
	cf_s3_policy_free(p);
	json_decref(stmts);
	json_decref(sids);
	json_decref(doc);
	return rc;
}

const char *
cf_s3_policy_cedar(const struct cf_s3_policy *p)
{
	return p->cedar;
}

const char *
cf_s3_policy_json(const struct cf_s3_policy *p)
{
	return p->json;
}

bool
cf_s3_policy_permits(const struct cf_s3_policy *p)
{
	size_t	i;

	for (i = 0; p != NULL && i < p->n; i++)
		if (!p->p[i].forbid)
			return true;
	return false;
}

static bool
has_policy(const struct cf_s3_policy *p, bool forbid, const char *text)
{
	size_t	i;

	for (i = 0; p != NULL && i < p->n; i++)
		if (p->p[i].forbid == forbid && strcmp(p->p[i].text,
		    text) == 0)
			return true;
	return false;
}

bool
cf_s3_policy_narrows(const struct cf_s3_policy *old,
    const struct cf_s3_policy *new)
{
	size_t	i;

	for (i = 0; new != NULL && i < new->n; i++)
		if (!new->p[i].forbid && !has_policy(old, false,
		    new->p[i].text))
			return false;
	for (i = 0; old != NULL && i < old->n; i++)
		if (old->p[i].forbid && !has_policy(new, true,
		    old->p[i].text))
			return false;
	return true;
}

cf_err
cf_s3_policy_stored_json(const char *text, size_t len, char **json,
    struct cf_error *err)
{
	size_t	ml = strlen(CF_S3_POLICY_MAGIC), n;
	char	*s;

	if (len < ml || strncmp(text, CF_S3_POLICY_MAGIC, ml) != 0)
		return cf_error_set(err, CF_E_INPUT, "not a compiled bucket "
		    "policy");
	for (n = ml; n < len && text[n] != '\n'; n++)
		;
	s = cf_memdup_str(text + ml, n - ml);
	if (s == NULL)
		return nomem(err);
	*json = s;
	return CF_OK;
}

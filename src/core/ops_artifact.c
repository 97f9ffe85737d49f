/* src/core/ops_artifact.c: artifacts (docs/artifacts.md): versions as
 * immutable manifests of object versions, kind and user metadata,
 * sensitivity and lineage, stages.
 *
 * A push uploads each file as an ordinary object version at key
 * NAME/PATH (object:put, one request per file), then commits the
 * manifest here (artifact:push) in one transaction that checks every
 * file against the object version it names.  Until that commit no
 * artifact version exists, so an interrupted push leaves only object
 * versions behind, and a retry commits with the ones already there.
 *
 * The digest of a version is SHA-256 over its canonical manifest:
 *
 *	"coffer-manifest-v1\n"
 *	then per file, in byte order of path:  SHA256HEX " " SIZE " " PATH "\n"
 *
 * (SIZE in decimal; a path holds no control character, so no newline).
 * It depends only on the tree's contents, not on who pushed it when, so
 * the same tree always has the same digest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "crypto/crypto.h"
#include "core/actions.h"
#include "core/core_int.h"

#define ART_FILES_MAX	100000	/* files per version */
#define ART_SOURCES_MAX	32	/* derived-from per version */
#define ART_META_KEYS	32	/* user metadata entries */
#define LINEAGE_NODES	1000	/* nodes a lineage answer shows */
#define LINEAGE_DEPTH	64

static const char *const kinds[] = { "model", "dataset", "features",
    "evaluation", "hyperparameters", "code", "other" };
static const char *const levels[] = { "public", "internal", "confidential",
    "restricted" };

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

static int
level_of(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(s, levels[i]) == 0)
			return (int)i;
	return 1;	/* "" and unknown: internal, the default */
}

bool
cf_art_kind_valid(const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(s, kinds[i]) == 0)
			return true;
	return false;
}

/* A path of '/'-separated segments: UTF-8, no control character, no
 * empty, "." or ".." segment; with no_at, no '@' either (an artifact
 * name, which the CLI follows with @VERSION). */
static bool
path_ok(const char *s, size_t max, bool no_at)
{
	size_t		 n, i, seg = 0;
	unsigned char	 ch;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > max || !cf_utf8_valid(s, n))
		return false;
	for (i = 0; i <= n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '/' || ch == '\0') {
			if (i == seg || (i - seg == 1 && s[seg] == '.') ||
			    (i - seg == 2 && s[seg] == '.' &&
			    s[seg + 1] == '.'))
				return false;
			seg = i + 1;
			continue;
		}
		if (ch < 0x20 || ch == 0x7f || (no_at && ch == '@'))
			return false;
	}
	return true;
}

bool
cf_art_name_valid(const char *s)
{
	return path_ok(s, CF_ART_NAME_MAX - 1, true);
}

/* Stage names: [a-z][a-z0-9._-]{0,31}, not "latest" (a selector). */
bool
cf_art_stage_valid(const char *s)
{
	size_t	n, i;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n < 1 || n > CF_STAGE_MAX - 1 || s[0] < 'a' || s[0] > 'z' ||
	    strcmp(s, "latest") == 0)
		return false;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* A selector: "" / NULL / "latest" the latest, digits a number, 32 hex
 * digits a long version id, else a stage.  CF_E_INPUT for anything
 * else. */
static cf_err
parse_sel(const char *s, const char *as_of, struct cf_art_sel *sel,
    struct cf_error *err)
{
	uint64_t	n;
	size_t		len, i;

	memset(sel, 0, sizeof(*sel));
	if (as_of != NULL && *as_of != '\0') {
		if (s != NULL && *s != '\0')
			return cf_error_set(err, CF_E_INPUT, "give a version "
			    "or as_of, not both");
		if (cf_time_parse(as_of, &sel->as_of_us, err) != CF_OK ||
		    sel->as_of_us <= 0)
			return cf_error_set(err, CF_E_INPUT, "as_of must be "
			    "an RFC 3339 UTC time (2026-01-31T12:00:00Z)");
		return CF_OK;
	}
	if (s == NULL || *s == '\0' || strcmp(s, "latest") == 0)
		return CF_OK;
	len = strlen(s);
	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == len) {
		if (cf_parse_u64(s, 1, INT64_MAX / 2, &n, err) != CF_OK)
			return cf_error_set(err, CF_E_INPUT,
			    "bad version number");
		sel->number = (int64_t)n;
		return CF_OK;
	}
	if (len == CF_VERSION_ID_LEN) {
		for (i = 0; i < len && ((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')); i++)
			;
		if (i == len) {
			sel->version_id = s;
			return CF_OK;
		}
	}
	if (!cf_art_stage_valid(s))
		return cf_error_set(err, CF_E_INPUT, "bad version \"%.40s\": "
		    "a number, a version id or a stage name", s);
	sel->stage = s;
	return CF_OK;
}

static void
art_resource(char *out, size_t outsz, const char *ns, const char *name)
{
	(void)snprintf(out, outsz, "ns/%s/obj/%s", ns, name);
}

/* The artifact attributes of a decision (resource.artifact).  The
 * stages pointing at v are read here; an error reading them fails the
 * request (the decision may depend on them). */
static cf_err
req_art_set(struct cf_core *c, struct cf_req *r, const struct cf_art_rec *v,
    struct cf_error *err)
{
	cf_err	rc = CF_OK;

	memset(&r->art, 0, sizeof(r->art));
	if (v != NULL) {
		rc = cf_meta_art_version_stages(c->meta, v->artifact_id,
		    v->number, r->art.stages, err);
		r->art.set = true;
		r->art.number = v->number;
		cf_strlcpy(r->art.kind, v->kind, sizeof(r->art.kind));
		cf_strlcpy(r->art.sensitivity, v->sensitivity,
		    sizeof(r->art.sensitivity));
		cf_strlcpy(r->art.version_id, v->version_id,
		    sizeof(r->art.version_id));
	}
	return rc;
}

cf_err
core_art_of_object(struct cf_core *c, struct cf_req *r,
    const char *version_id, struct cf_error *err)
{
	struct cf_art_rec	*v;
	cf_err			 rc;

	memset(&r->art, 0, sizeof(r->art));
	/* Not zeroed (5 KiB): read only once the store filled it. */
	v = cf_malloc(sizeof(*v));
	if (v == NULL)
		return nomem(err);
	rc = cf_meta_art_of_version(c->meta, version_id, v, r->art.stages,
	    err);
	if (rc == CF_OK) {
		r->art.set = true;
		r->art.number = v->number;
		cf_strlcpy(r->art.kind, v->kind, sizeof(r->art.kind));
		cf_strlcpy(r->art.sensitivity, v->sensitivity,
		    sizeof(r->art.sensitivity));
		cf_strlcpy(r->art.version_id, v->version_id,
		    sizeof(r->art.version_id));
	} else
		memset(&r->art, 0, sizeof(r->art));
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = CF_OK;
	}
	cf_free(v);
	return rc;
}

/* The effective sensitivity of v: never below its namespace's. */
static int
eff_level(const struct cf_art_rec *v, const struct cf_ns_rec *nsr)
{
	int	a = level_of(v->sensitivity), b = level_of(nsr->sensitivity);

	return a > b ? a : b;
}

/* Validate, then authorize action on (ns, name): the artifact is the
 * Object of its name.  Names are checked after the decision, so that a
 * refused caller learns nothing from the answer. */
static cf_err
art_authorize(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns, const char *name, struct cf_error *err)
{
	char	res[CF_RESOURCE_MAX];
	cf_err	rc;

	art_resource(res, sizeof(res), ns, name != NULL ? name : "");
	rc = core_authorize(c, r, action, ns, res, err);
	if (rc != CF_OK)
		return rc;
	if (!cf_name_ns_valid(ns)) {
		r->errcode = "invalid_name";
		return cf_error_set(err, CF_E_INPUT, "invalid namespace name");
	}
	if (!cf_art_name_valid(name)) {
		r->errcode = "invalid_name";
		return cf_error_set(err, CF_E_INPUT, "invalid artifact name "
		    "(1-255 bytes of '/'-separated segments, no \".\", "
		    "\"..\", empty segment, '@' or control character)");
	}
	return CF_OK;
}

/* SEC: restricted data needs MFA (as for a restricted namespace, whose
 * rule core_authorize applied already): an artifact version whose own
 * sensitivity is restricted is restricted data wherever it lives. */
static cf_err
art_restricted(struct cf_core *c, struct cf_req *r,
    const struct cf_art_rec *v, const struct cf_ns_rec *nsr,
    struct cf_error *err)
{
	if (!c->cfg.mfa_restricted_data || eff_level(v, nsr) < 3 ||
	    core_mfa_fresh(c, r, CORE_MFA_RESTRICTED))
		return CF_OK;
	r->allowed = false;
	cf_strlcpy(r->reasons, "mfa required (restricted data)",
	    sizeof(r->reasons));
	r->errcode = "mfa_required";
	return cf_error_set(err, CF_E_AUTH, "%s/%s@%lld is restricted data: "
	    "%s needs multi-factor authentication", v->ns, v->name,
	    (long long)v->number, r->action);
}

/* Could r read version v (artifact:get on its artifact), by the
 * policies, the token scope and the restricted-data rule?  r's decision
 * is left as it was.  Errors answer no. */
static bool
can_read(struct cf_core *c, struct cf_req *r, const struct cf_art_rec *v)
{
	const struct cf_action_def	*def = cf_action_find("artifact:get");
	struct cf_error			 err;
	struct cf_ns_rec		 nsr;
	struct cf_req_art		 saved_art = r->art;
	char				 saved[CF_REASONS_MAX];
	char				 role[CF_ROLE_MAX];
	char				 res[CF_RESOURCE_MAX];
	bool				 allow = false;

	if (!r->authenticated || def == NULL ||
	    !core_scope_allows(r, "artifact:get", v->ns))
		return false;
	cf_error_clear(&err);
	if (cf_meta_ns_get(c->meta, v->ns, &nsr, &err) != CF_OK)
		return false;
	if (c->cfg.mfa_restricted_data && eff_level(v, &nsr) == 3 &&
	    !core_mfa_fresh(c, r, CORE_MFA_RESTRICTED))
		return false;
	cf_strlcpy(saved, r->reasons, sizeof(saved));
	art_resource(res, sizeof(res), v->ns, v->name);
	if (req_art_set(c, r, v, &err) != CF_OK) {
		r->art = saved_art;
		cf_strlcpy(r->reasons, saved, sizeof(r->reasons));
		return false;
	}
	if (core_authz_decide(c, r, def, v->ns, NULL, res, role, sizeof(role),
	    &allow, NULL, &err) != CF_OK)
		allow = false;
	r->art = saved_art;
	cf_strlcpy(r->reasons, saved, sizeof(r->reasons));
	return allow;
}

static json_t *
art_json(const struct cf_art_rec *v, const struct cf_ns_rec *nsr)
{
	json_t	*meta, *j;

	meta = json_loads(v->meta, 0, NULL);
	if (meta == NULL)
		meta = json_object();
	j = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:o, s:s, "
	    "s:o, s:s}", "ns", v->ns, "name", v->name, "version",
	    (json_int_t)v->number, "version_id", v->version_id, "kind",
	    v->kind, "digest", v->digest, "size", (json_int_t)v->size,
	    "files", (json_int_t)v->files, "meta", meta, "sensitivity",
	    levels[nsr != NULL ? eff_level(v, nsr) :
	    level_of(v->sensitivity)], "created",
	    core_time_json(v->created_us), "created_by", v->created_by);
	if (j != NULL && v->declassified[0] != '\0' &&
	    json_object_set_new(j, "declassified",
	    json_string(v->declassified)) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The namespace of an artifact operation: 404 no_such_namespace. */
static cf_err
art_ns(struct cf_core *c, struct cf_req *r, const char *ns,
    struct cf_ns_rec *out, struct cf_error *err)
{
	cf_err	rc;

	rc = cf_meta_ns_get(c->meta, ns, out, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_namespace";
		return cf_error_set(err, CF_E_NOTFOUND,
		    "no namespace \"%s\"", ns);
	}
	return rc;
}

/* A lookup that found nothing: which thing is missing. */
static cf_err
art_notfound(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *name, const struct cf_art_sel *sel, struct cf_error *err)
{
	struct cf_art_sel	any;
	struct cf_art_rec	*tmp = NULL;
	struct cf_ns_rec	 nsr;
	cf_err			 rc;

	cf_error_clear(err);
	if (art_ns(c, r, ns, &nsr, err) != CF_OK)
		return CF_E_NOTFOUND;
	memset(&any, 0, sizeof(any));
	tmp = cf_malloc(sizeof(*tmp));
	rc = tmp == NULL ? CF_E_NOMEM :
	    cf_meta_art_get(c->meta, ns, name, &any, tmp, NULL);
	cf_free(tmp);
	if (rc == CF_E_NOMEM)
		return nomem(err);
	if (rc != CF_OK || sel == NULL) {
		r->errcode = "no_such_artifact";
		return cf_error_set(err, CF_E_NOTFOUND, "no artifact \"%s\" "
		    "in namespace \"%s\"", name, ns);
	}
	r->errcode = "no_such_version";
	if (sel->stage != NULL)
		return cf_error_set(err, CF_E_NOTFOUND, "artifact \"%s\" has "
		    "no stage \"%s\"", name, sel->stage);
	if (sel->as_of_us > 0)
		return cf_error_set(err, CF_E_NOTFOUND, "artifact \"%s\" had "
		    "no version yet at that time", name);
	return cf_error_set(err, CF_E_NOTFOUND, "artifact \"%s\" has no "
	    "such version", name);
}

/* Look up the version sel names, then decide action on it (the
 * decision sees the version's attributes); then the lookup's outcome.
 * With stage, the context's stage.  *nsr gets the namespace. */
static cf_err
art_open(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns, const char *name, const char *selstr, const char *as_of,
    const char *stage, struct cf_art_rec *v, struct cf_ns_rec *nsr,
    struct cf_error *err)
{
	struct cf_art_sel	sel;
	struct cf_error		aerr;
	cf_err			rc, arc, src;

	src = parse_sel(selstr, as_of, &sel, err);
	rc = CF_E_NOTFOUND;
	if (src == CF_OK && cf_name_ns_valid(ns) && cf_art_name_valid(name))
		rc = cf_meta_art_get(c->meta, ns, name, &sel, v, NULL);
	cf_error_clear(&aerr);
	/* An error reading the stages fails the request after the
	 * decision, as a lookup error does. */
	if (rc == CF_OK)
		rc = req_art_set(c, r, v, err);
	else
		(void)req_art_set(c, r, NULL, NULL);
	arc = art_authorize(c, r, action, ns, name, &aerr);
	if (arc != CF_OK) {
		if (err != NULL)
			*err = aerr;
		return arc;
	}
	if (src != CF_OK) {
		r->errcode = "bad_request";
		return src;
	}
	if (rc == CF_E_NOTFOUND)
		return art_notfound(c, r, ns, name, &sel, err);
	if (rc != CF_OK)
		return cf_error_set(err, rc, "artifact lookup failed");
	rc = art_ns(c, r, ns, nsr, err);
	if (rc == CF_OK)
		rc = art_restricted(c, r, v, nsr, err);
	return rc;
}

/* ---- push ---- */

static int
cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct cf_art_file *)a)->path,
	    ((const struct cf_art_file *)b)->path);
}

static bool
hex64(const char *s)
{
	size_t	i;

	if (s == NULL || strlen(s) != CF_SHA256_HEX_LEN)
		return false;
	for (i = 0; i < CF_SHA256_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* files (the body's "files") into out[0..*n), sorted, with the digest
 * and total size; strings borrowed from files. */
static cf_err
parse_files(const json_t *files, const char *name, struct cf_art_file **out,
    size_t *n, uint64_t *total, char digest[CF_SHA256_HEX_LEN + 1],
    struct cf_error *err)
{
	struct cf_art_file	*f = NULL;
	struct cf_sha256	*h = NULL;
	uint8_t			 d[CF_SHA256_LEN];
	char			 line[128];
	json_t			*e, *sz;
	size_t			 i, cnt;
	cf_err			 rc = CF_OK;

	*total = 0;
	if (!json_is_array(files))
		return cf_error_set(err, CF_E_INPUT, "files must be an array "
		    "of {path, version_id, sha256, size}");
	cnt = json_array_size(files);
	if (cnt > ART_FILES_MAX)
		return cf_error_set(err, CF_E_INPUT, "more than %d files",
		    ART_FILES_MAX);
	f = cf_calloc(cnt + 1, sizeof(*f));
	if (f == NULL)
		return nomem(err);
	json_array_foreach(files, i, e) {
		f[i].path = json_string_value(json_object_get(e, "path"));
		f[i].version_id = json_string_value(json_object_get(e,
		    "version_id"));
		f[i].sha256 = json_string_value(json_object_get(e, "sha256"));
		sz = json_object_get(e, "size");
		if (!path_ok(f[i].path, CF_OBJKEY_MAX - 2 - strlen(name),
		    false) || f[i].version_id == NULL ||
		    strlen(f[i].version_id) != CF_VERSION_ID_LEN ||
		    !hex64(f[i].sha256) || !json_is_integer(sz) ||
		    json_integer_value(sz) < 0) {
			rc = cf_error_set(err, CF_E_INPUT, "files[%zu]: needs "
			    "a path (relative, no \".\", \"..\" or empty "
			    "segment, no control character), a version_id, "
			    "a sha256 (64 lowercase hex) and a size", i);
			goto out;
		}
		f[i].size = (uint64_t)json_integer_value(sz);
		*total += f[i].size;
	}
	if (cnt > 0)
		qsort(f, cnt, sizeof(*f), cmp_file);
	rc = cf_sha256_new(&h, err);
	if (rc != CF_OK)
		goto out;
	cf_sha256_update(h, "coffer-manifest-v1\n", 19);
	for (i = 0; i < cnt; i++) {
		if (i > 0 && strcmp(f[i - 1].path, f[i].path) == 0) {
			rc = cf_error_set(err, CF_E_INPUT, "file \"%s\" is "
			    "listed twice", f[i].path);
			goto out;
		}
		(void)snprintf(line, sizeof(line), "%s %llu ", f[i].sha256,
		    (unsigned long long)f[i].size);
		cf_sha256_update(h, line, strlen(line));
		cf_sha256_update(h, f[i].path, strlen(f[i].path));
		cf_sha256_update(h, "\n", 1);
	}
	cf_sha256_final(h, d);
	cf_hex_encode(d, sizeof(d), digest);
	*out = f;
	*n = cnt;
	f = NULL;
out:
	cf_sha256_free(h);
	cf_free(f);
	return rc;
}

/* Metadata: a JSON object of at most ART_META_KEYS names
 * ([a-z][a-z0-9_.-]{0,62}) -> strings (0-256 bytes of UTF-8 without
 * control characters), CF_ART_META_MAX - 1 bytes as compact JSON. */
static cf_err
meta_check(struct cf_req *r, const json_t *m, char out[CF_ART_META_MAX],
    struct cf_error *err)
{
	const char	*k;
	json_t		*v;
	char		*txt;
	size_t		 n;

	if (!json_is_object(m)) {
		r->errcode = "invalid_metadata";
		return cf_error_set(err, CF_E_INPUT,
		    "metadata must be an object of strings");
	}
	if (json_object_size(m) > ART_META_KEYS) {
		r->errcode = "metadata_too_large";
		return cf_error_set(err, CF_E_INPUT, "metadata has more "
		    "than %d entries", ART_META_KEYS);
	}
	json_object_foreach((json_t *)(uintptr_t)m, k, v) {
		if (!cf_meta_attr_name_valid(k) || !json_is_string(v) ||
		    !cf_meta_attr_value_valid(json_string_value(v),
		    json_string_length(v))) {
			if (json_is_string(v) && json_string_length(v) >
			    CF_ATTR_VALUE_MAX - 1)
				r->errcode = "metadata_too_large";
			else
				r->errcode = "invalid_metadata";
			return cf_error_set(err, CF_E_INPUT,
			    "metadata \"%.64s\": names are "
			    "[a-z][a-z0-9_.-]{0,62}, values strings of at most "
			    "256 bytes without control characters", k);
		}
	}
	txt = cf_json_dumps_flags(m, JSON_COMPACT | JSON_SORT_KEYS);
	if (txt == NULL)
		return nomem(err);
	n = strlen(txt);
	if (n >= CF_ART_META_MAX) {
		cf_json_free(txt);
		r->errcode = "metadata_too_large";
		return cf_error_set(err, CF_E_INPUT, "metadata is %zu bytes "
		    "as JSON; at most %d", n, CF_ART_META_MAX - 1);
	}
	memcpy(out, txt, n + 1);
	cf_json_free(txt);
	return CF_OK;
}

/* "NS/NAME@SEL" of a derived-from into its version, if r may read it.
 * SEC: a source that does not exist and one r may not read get the same
 * answer, so that derived-from cannot probe for names. */
static cf_err
resolve_source(struct cf_core *c, struct cf_req *r, const char *ref,
    struct cf_art_rec *out, struct cf_error *err)
{
	struct cf_art_sel	 sel;
	char			 buf[CF_NS_NAME_MAX + CF_ART_NAME_MAX + 64];
	char			*slash, *at;
	cf_err			 rc;

	if (ref == NULL || cf_strlcpy(buf, ref, sizeof(buf)) >= sizeof(buf))
		goto bad;
	slash = strchr(buf, '/');
	at = strrchr(buf, '@');
	if (slash == NULL || at == NULL || at < slash)
		goto bad;
	*slash = '\0';
	*at = '\0';
	if (!cf_name_ns_valid(buf) || !cf_art_name_valid(slash + 1) ||
	    parse_sel(at + 1, NULL, &sel, NULL) != CF_OK || at[1] == '\0')
		goto bad;
	rc = cf_meta_art_get(c->meta, buf, slash + 1, &sel, out, err);
	if (rc != CF_OK && rc != CF_E_NOTFOUND)
		return rc;
	if (rc == CF_OK && can_read(c, r, out))
		return CF_OK;
	cf_error_clear(err);
	r->errcode = "invalid_source";
	return cf_error_set(err, CF_E_INPUT, "derived-from \"%.300s\": no such "
	    "artifact version, or not one you may read", ref);
bad:
	r->errcode = "invalid_source";
	return cf_error_set(err, CF_E_INPUT, "derived-from must be "
	    "\"NS/NAME@VERSION\" strings");
}

static const char *
json_meta_get(const char *meta, const char *name, char *buf, size_t bufsz)
{
	json_t		*j = json_loads(meta, 0, NULL);
	const char	*s;

	buf[0] = '\0';
	s = json_string_value(json_object_get(j, name));
	if (s != NULL)
		cf_strlcpy(buf, s, bufsz);
	json_decref(j);
	return buf;
}

cf_err
cf_core_art_push(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *name, const json_t *body, json_t **out, struct cf_error *err)
{
	struct cf_art_rec	*v = NULL, *src = NULL;
	struct cf_art_file	*files = NULL;
	struct cf_ns_rec	 nsr;
	struct core_act		 act;
	int64_t			(*links)[2] = NULL;
	const json_t		*df, *mj, *e;
	const char		*kind = NULL, *sens = NULL;
	json_t			*meta = NULL, *labels = NULL;
	char			 pii[16];
	size_t			 nfiles = 0, nsrc = 0, i, k;
	int			 floor = 0, want;
	bool			 inherit_pii = false;
	cf_err			 rc;

	rc = art_authorize(c, r, "artifact:push", ns, name, err);
	if (rc != CF_OK)
		return rc;
	rc = art_ns(c, r, ns, &nsr, err);
	if (rc != CF_OK)
		return rc;
	v = cf_calloc(1, sizeof(*v));
	src = cf_calloc(1, sizeof(*src));
	links = cf_calloc(ART_SOURCES_MAX, sizeof(*links));
	if (v == NULL || src == NULL || links == NULL) {
		rc = nomem(err);
		goto out;
	}
	if ((rc = cf_json_get_str(body, "kind", false, &kind, err)) != CF_OK ||
	    (rc = cf_json_get_str(body, "sensitivity", false, &sens, err)) !=
	    CF_OK)
		goto out;
	if (kind == NULL) {
		/* The namespace's label "kind", if it names one, else
		 * "other". */
		if (cf_meta_labels_get(c->meta, nsr.id, "", &labels, NULL) ==
		    CF_OK)
			kind = json_string_value(json_object_get(labels,
			    "kind"));
		if (!cf_art_kind_valid(kind))
			kind = "other";
	}
	if (!cf_art_kind_valid(kind)) {
		r->errcode = "invalid_kind";
		rc = cf_error_set(err, CF_E_INPUT, "unknown kind \"%.32s\": "
		    "model, dataset, features, evaluation, hyperparameters, "
		    "code or other", kind);
		goto out;
	}
	if (sens != NULL && !cf_name_sensitivity_valid(sens)) {
		rc = cf_error_set(err, CF_E_INPUT, "sensitivity must be "
		    "public, internal, confidential or restricted");
		goto out;
	}
	rc = parse_files(json_object_get(body, "files"), name, &files, &nfiles,
	    &v->size, v->digest, err);
	if (rc != CF_OK)
		goto out;
	mj = json_object_get(body, "meta");
	meta = mj != NULL ? json_deep_copy(mj) : json_object();
	if (meta == NULL) {
		rc = nomem(err);
		goto out;
	}
	df = json_object_get(body, "derived_from");
	if (df != NULL && (!json_is_array(df) ||
	    json_array_size(df) > ART_SOURCES_MAX)) {
		r->errcode = "invalid_source";
		rc = cf_error_set(err, CF_E_INPUT, "derived_from must be an "
		    "array of at most %d \"NS/NAME@VERSION\"", ART_SOURCES_MAX);
		goto out;
	}
	json_array_foreach(df, i, e) {
		rc = resolve_source(c, r, json_string_value(e), src, err);
		if (rc != CF_OK)
			goto out;
		for (k = 0; k < nsrc; k++)
			if (links[k][0] == src->artifact_id &&
			    links[k][1] == src->number)
				break;
		if (k < nsrc)
			continue;
		links[nsrc][0] = src->artifact_id;
		links[nsrc++][1] = src->number;
		/* SEC: what a version was made from bounds what it is. */
		{
			struct cf_ns_rec	snr;

			if (cf_meta_ns_get(c->meta, src->ns, &snr, NULL) !=
			    CF_OK)
				snr.sensitivity[0] = '\0';
			if (eff_level(src, &snr) > floor)
				floor = eff_level(src, &snr);
		}
		if (strcmp(json_meta_get(src->meta, "pii", pii, sizeof(pii)),
		    "true") == 0)
			inherit_pii = true;
	}
	if (inherit_pii) {
		const char *mine = json_string_value(json_object_get(meta,
		    "pii"));

		if (mine != NULL && strcmp(mine, "true") != 0) {
			r->errcode = "invalid_metadata";
			rc = cf_error_set(err, CF_E_INPUT, "pii: a source is "
			    "pii=true, and so is what is derived from it");
			goto out;
		}
		if (json_object_set_new(meta, "pii", json_string("true")) !=
		    0) {
			rc = nomem(err);
			goto out;
		}
	}
	if ((rc = meta_check(r, meta, v->meta, err)) != CF_OK)
		goto out;
	want = sens != NULL ? level_of(sens) : 0;
	if (sens != NULL && want < floor) {
		r->errcode = "sensitivity_too_low";
		rc = cf_error_set(err, CF_E_INPUT, "derived from %s data: the "
		    "version is at least %s (an admin may declassify it after "
		    "the push, with a reason)", levels[floor], levels[floor]);
		goto out;
	}
	if (floor > want)
		want = floor;
	if (level_of(nsr.sensitivity) > want)
		want = level_of(nsr.sensitivity);
	v->ns_id = nsr.id;
	cf_strlcpy(v->ns, ns, sizeof(v->ns));
	cf_strlcpy(v->name, name, sizeof(v->name));
	cf_strlcpy(v->kind, kind, sizeof(v->kind));
	cf_strlcpy(v->sensitivity, levels[want], sizeof(v->sensitivity));
	cf_strlcpy(v->created_by, r->principal.name, sizeof(v->created_by));
	v->created_us = cf_now_us();
	v->files = nfiles;
	{
		uint8_t	raw[CF_VERSION_ID_LEN / 2];

		if ((rc = cf_random(raw, sizeof(raw), err)) != CF_OK)
			goto out;
		cf_hex_encode(raw, sizeof(raw), v->version_id);
	}
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_art_push(c->meta, &act.au, v, files, nfiles,
		    (const int64_t (*)[2])links, nsrc, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_INPUT)
		r->errcode = "invalid_manifest";
	else if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "invalid_source";
		rc = cf_error_set(err, CF_E_INPUT, "a derived-from version "
		    "was removed during the push");
	} else if (rc == CF_E_CONFLICT) {
		cf_error_clear(err);
		r->errcode = "namespace_changed";
		rc = cf_error_set(err, CF_E_CONFLICT, "namespace \"%s\" was "
		    "replaced during the push", ns);
	}
	if (rc != CF_OK)
		goto out;
	*out = art_json(v, &nsr);
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(meta);
	json_decref(labels);
	cf_free(files);
	cf_free(links);
	cf_free(src);
	cf_free(v);
	return rc;
}

/* ---- reads ---- */

cf_err
cf_core_art_get(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *name, const char *sel, const char *as_of, json_t **out,
    struct cf_error *err)
{
	struct cf_art_rec	*v = NULL;
	struct cf_ns_rec	 nsr;
	json_t			*files = NULL, *j = NULL;
	cf_err			 rc;

	v = cf_calloc(1, sizeof(*v));
	if (v == NULL)
		return nomem(err);
	rc = art_open(c, r, "artifact:get", ns, name, sel, as_of, NULL, v,
	    &nsr, err);
	if (rc == CF_OK)
		rc = cf_meta_art_files(c->meta, v->artifact_id, v->number,
		    &files, err);
	if (rc != CF_OK)
		goto out;
	j = art_json(v, &nsr);
	if (j == NULL || json_object_set_new(j, "manifest", files) != 0) {
		files = NULL;
		rc = nomem(err);
		goto out;
	}
	files = NULL;
	*out = j;
	j = NULL;
out:
	json_decref(files);
	json_decref(j);
	cf_free(v);
	return rc;
}

struct versions_ctx {
	json_t			*arr;
	json_t			*stages;	/* stage -> number */
	const struct cf_ns_rec	*nsr;
};

static cf_err
versions_cb(void *arg, const struct cf_art_rec *v, struct cf_error *err)
{
	struct versions_ctx	*x = arg;
	json_t			*j, *st;
	const char		*k;
	json_t			*n;

	j = art_json(v, x->nsr);
	st = json_array();
	if (j == NULL || st == NULL) {
		json_decref(j);
		json_decref(st);
		return nomem(err);
	}
	json_object_foreach(x->stages, k, n)
		if (json_integer_value(n) == v->number &&
		    json_array_append_new(st, json_string(k)) != 0) {
			json_decref(st);
			json_decref(j);
			return nomem(err);
		}
	if (json_object_set_new(j, "stages", st) != 0 ||
	    json_array_append_new(x->arr, j) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_art_versions(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *name, json_t **out, struct cf_error *err)
{
	struct cf_art_rec	*v = NULL;
	struct versions_ctx	 x = { NULL, NULL, NULL };
	struct cf_ns_rec	 nsr;
	cf_err			 rc;

	v = cf_calloc(1, sizeof(*v));
	if (v == NULL)
		return nomem(err);
	rc = art_open(c, r, "artifact:versions", ns, name, NULL, NULL, NULL,
	    v, &nsr, err);
	if (rc != CF_OK)
		goto out;
	x.arr = json_array();
	x.nsr = &nsr;
	if (x.arr == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = cf_meta_art_stages(c->meta, v->artifact_id, &x.stages, NULL, err);
	if (rc == CF_OK)
		rc = cf_meta_art_list(c->meta, ns, name, versions_cb, &x, err);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s, s:s, s:O, s:O}", "ns", ns, "name", name,
	    "versions", x.arr, "stages", x.stages);
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(x.arr);
	json_decref(x.stages);
	cf_free(v);
	return rc;
}

cf_err
cf_core_art_stages(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *name, json_t **out, struct cf_error *err)
{
	struct cf_art_rec	*v = NULL;
	struct cf_ns_rec	 nsr;
	json_t			*cur = NULL, *hist = NULL, *e;
	size_t			 i;
	cf_err			 rc;

	v = cf_calloc(1, sizeof(*v));
	if (v == NULL)
		return nomem(err);
	rc = art_open(c, r, "artifact:versions", ns, name, NULL, NULL, NULL,
	    v, &nsr, err);
	if (rc == CF_OK)
		rc = cf_meta_art_stages(c->meta, v->artifact_id, &cur, &hist,
		    err);
	if (rc != CF_OK)
		goto out;
	json_array_foreach(hist, i, e) {
		/* microseconds -> the API's time format */
		if (json_object_set_new(e, "at", core_time_json(
		    json_integer_value(json_object_get(e, "at_us")))) != 0 ||
		    json_object_del(e, "at_us") != 0) {
			rc = nomem(err);
			goto out;
		}
		if (json_integer_value(json_object_get(e, "number")) == 0 &&
		    json_object_set_new(e, "number", json_null()) != 0) {
			rc = nomem(err);
			goto out;
		}
	}
	*out = json_pack("{s:s, s:s, s:O, s:O}", "ns", ns, "name", name,
	    "stages", cur, "history", hist);
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(cur);
	json_decref(hist);
	cf_free(v);
	return rc;
}

/* ---- changes to a version ---- */

/* Is any direct source of v pii=true? */
static cf_err
pii_inherited(struct cf_core *c, const struct cf_art_rec *v, bool *yes,
    struct cf_error *err);

static cf_err
pii_cb(void *arg, const struct cf_art_rec *v, struct cf_error *err)
{
	bool	*yes = arg;
	char	 pii[16];

	(void)err;
	if (strcmp(json_meta_get(v->meta, "pii", pii, sizeof(pii)), "true") ==
	    0)
		*yes = true;
	return CF_OK;
}

static cf_err
pii_inherited(struct cf_core *c, const struct cf_art_rec *v, bool *yes,
    struct cf_error *err)
{
	*yes = false;
	return cf_meta_art_links(c->meta, v->artifact_id, v->number, true,
	    pii_cb, yes, NULL, err);
}

cf_err
cf_core_art_meta_set(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *name, const char *sel, const json_t *changes, json_t **out,
    struct cf_error *err)
{
	struct cf_art_rec	*v = NULL;
	struct cf_ns_rec	 nsr;
	struct core_act		 act;
	json_t			*meta = NULL, *val;
	const char		*k;
	bool			 pii = false;
	cf_err			 rc;

	v = cf_calloc(1, sizeof(*v));
	if (v == NULL)
		return nomem(err);
	rc = art_open(c, r, "artifact:meta-set", ns, name, sel, NULL, NULL, v,
	    &nsr, err);
	if (rc != CF_OK)
		goto out;
	if (!json_is_object(changes) || json_object_size(changes) >
	    2 * ART_META_KEYS) {
		r->errcode = "invalid_metadata";
		rc = cf_error_set(err, CF_E_INPUT, "body must be an object of "
		    "name: string (set) or null (remove)");
		goto out;
	}
	meta = json_loads(v->meta, 0, NULL);
	if (!json_is_object(meta)) {
		json_decref(meta);
		meta = json_object();
	}
	if (meta == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = pii_inherited(c, v, &pii, err);
	if (rc != CF_OK)
		goto out;
	json_object_foreach((json_t *)(uintptr_t)changes, k, val) {
		if (pii && strcmp(k, "pii") == 0 && !(json_is_string(val) &&
		    strcmp(json_string_value(val), "true") == 0)) {
			r->errcode = "invalid_metadata";
			rc = cf_error_set(err, CF_E_INPUT, "pii: a source is "
			    "pii=true, and so is this version");
			goto out;
		}
		if (json_is_null(val))
			(void)json_object_del(meta, k);
		else if (json_object_set(meta, k, val) != 0) {
			rc = nomem(err);
			goto out;
		}
	}
	if ((rc = meta_check(r, meta, v->meta, err)) != CF_OK)
		goto out;
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_art_meta_set(c->meta, &act.au, v->artifact_id,
		    v->number, v->meta, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		goto out;
	*out = art_json(v, &nsr);
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(meta);
	cf_free(v);
	return rc;
}

/* The least level v may have: its namespace's and, unless declassified,
 * its sources'. */
struct floor_ctx {
	struct cf_core	*c;
	int		 level;
};

static cf_err
floor_cb(void *arg, const struct cf_art_rec *v, struct cf_error *err)
{
	struct floor_ctx	*x = arg;
	struct cf_ns_rec	 nsr;

	(void)err;
	if (cf_meta_ns_get(x->c->meta, v->ns, &nsr, NULL) != CF_OK)
		nsr.sensitivity[0] = '\0';
	if (eff_level(v, &nsr) > x->level)
		x->level = eff_level(v, &nsr);
	return CF_OK;
}

cf_err
cf_core_art_set_sensitivity(struct cf_core *c, struct cf_req *r,
    const char *ns, const char *name, const char *sel, const char *level,
    const char *reason, json_t **out, struct cf_error *err)
{
	struct cf_art_rec	*v = NULL;
	struct cf_ns_rec	 nsr;
	struct core_act		 act;
	struct floor_ctx	 fl;
	int			 want, cur;
	cf_err			 rc;

	v = cf_calloc(1, sizeof(*v));
	if (v == NULL)
		return nomem(err);
	rc = art_open(c, r, "artifact:set-sensitivity", ns, name, sel, NULL,
	    NULL, v, &nsr, err);
	if (rc != CF_OK)
		goto out;
	if (level == NULL || !cf_name_sensitivity_valid(level)) {
		r->errcode = "bad_request";
		rc = cf_error_set(err, CF_E_INPUT, "sensitivity must be "
		    "public, internal, confidential or restricted");
		goto out;
	}
	if (reason == NULL)
		reason = "";
	if (strlen(reason) >= CF_ART_REASON_MAX ||
	    !cf_str_field_value_ok(reason)) {
		r->errcode = "bad_request";
		rc = cf_error_set(err, CF_E_INPUT, "reason: at most 256 bytes "
		    "without control characters");
		goto out;
	}
	want = level_of(level);
	cur = level_of(v->sensitivity);
	if (want < level_of(nsr.sensitivity)) {
		r->errcode = "sensitivity_too_low";
		rc = cf_error_set(err, CF_E_INPUT, "namespace \"%s\" is %s: "
		    "its artifacts are never less", ns, nsr.sensitivity);
		goto out;
	}
	if (want < cur) {
		/* SEC: lowering is a declassification: a global admin's,
		 * with fresh MFA, and a reason kept with the version. */
		if (!core_can(c, r, "ns:set-sensitivity", ns)) {
			r->allowed = false;
			cf_strlcpy(r->reasons, "lowering needs admin",
			    sizeof(r->reasons));
			rc = cf_error_set(err, CF_E_DENIED, "lowering an "
			    "artifact's sensitivity needs a global admin");
			goto out;
		}
		if ((rc = core_grant_check(c, r, err)) != CF_OK)
			goto out;
		if (*reason == '\0') {
			r->errcode = "reason_required";
			rc = cf_error_set(err, CF_E_INPUT, "lowering the "
			    "sensitivity needs a reason (--reason)");
			goto out;
		}
		fl.c = c;
		fl.level = 0;
		rc = cf_meta_art_links(c->meta, v->artifact_id, v->number,
		    true, floor_cb, &fl, NULL, err);
		if (rc != CF_OK)
			goto out;
		if (want >= fl.level)
			reason = v->declassified;	/* not below sources */
		/* The reason goes into the decision's record too
		 * (context.op.reason), not only onto the version. */
		memset(&r->op, 0, sizeof(r->op));
		cf_strlcpy(r->op.name, "declassify", sizeof(r->op.name));
		cf_strlcpy(r->op.reason, *reason != '\0' ? reason :
		    v->declassified, sizeof(r->op.reason));
	} else
		reason = v->declassified;
	cf_strlcpy(v->sensitivity, level, sizeof(v->sensitivity));
	if (reason != v->declassified)
		cf_strlcpy(v->declassified, reason, sizeof(v->declassified));
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_art_sens_set(c->meta, &act.au, v->artifact_id,
		    v->number, v->sensitivity, v->declassified, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		goto out;
	*out = art_json(v, &nsr);
	if (*out == NULL)
		rc = nomem(err);
out:
	cf_free(v);
	return rc;
}

cf_err
cf_core_art_stage_set(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *name, const char *stage, const char *sel, json_t **out,
    struct cf_error *err)
{
	struct cf_art_rec	*v = NULL;
	struct cf_ns_rec	 nsr;
	struct core_act		 act;
	bool			 remove = sel == NULL;
	cf_err			 rc;

	v = cf_calloc(1, sizeof(*v));
	if (v == NULL)
		return nomem(err);
	/* context.op.stage: the policies may guard a stage by its name. */
	memset(&r->op, 0, sizeof(r->op));
	if (stage != NULL && cf_art_stage_valid(stage)) {
		cf_strlcpy(r->op.name, "stage", sizeof(r->op.name));
		cf_strlcpy(r->op.stage, stage, sizeof(r->op.stage));
	}
	rc = art_open(c, r, "version:set-stage", ns, name,
	    remove ? stage : sel, NULL, stage, v, &nsr, err);
	if (rc != CF_OK)
		goto out;
	if (!cf_art_stage_valid(stage)) {
		r->errcode = "invalid_name";
		rc = cf_error_set(err, CF_E_INPUT, "stage names are "
		    "[a-z][a-z0-9._-]{0,31}, not \"latest\"");
		goto out;
	}
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_art_stage_set(c->meta, &act.au, v->artifact_id,
		    stage, remove ? 0 : v->number, r->principal.name,
		    cf_now_us(), err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_LIMIT) {
		r->errcode = "too_many_stages";
		rc = CF_E_INPUT;
	}
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_version";
		rc = cf_error_set(err, CF_E_NOTFOUND, "the version went "
		    "away");
	}
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s, s:s, s:s, s:o}", "ns", ns, "name", name,
	    "stage", stage, "version", remove ? json_null() :
	    json_integer(v->number));
	if (*out == NULL)
		rc = nomem(err);
out:
	cf_free(v);
	return rc;
}

/* ---- lineage ---- */

struct lin {
	struct cf_core	*c;
	struct cf_req	*r;
	json_t		*nodes;		/* "ns/name@n" -> node */
	json_t		*edges;
	json_t		*queue;		/* [[artifact_id, number, depth]] */
	size_t		 hidden;
	size_t		 gone;
	bool		 up;
	int		 depth;
	const char	*from;		/* the node being expanded */
	bool		 truncated;
};

static void
node_id(const struct cf_art_rec *v, char *out, size_t outsz)
{
	(void)snprintf(out, outsz, "%s/%s@%lld", v->ns, v->name,
	    (long long)v->number);
}

static cf_err
lin_cb(void *arg, const struct cf_art_rec *v, struct cf_error *err)
{
	struct lin	*x = arg;
	char		 id[CF_NS_NAME_MAX + CF_ART_NAME_MAX + 32];
	json_t		*n, *e;

	if (!can_read(x->c, x->r, v)) {
		x->hidden++;
		return CF_OK;
	}
	node_id(v, id, sizeof(id));
	e = json_pack("{s:s, s:s}", "from", x->up ? id : x->from, "to",
	    x->up ? x->from : id);
	if (e == NULL || json_array_append_new(x->edges, e) != 0)
		return nomem(err);
	if (json_object_get(x->nodes, id) != NULL)
		return CF_OK;
	if (json_object_size(x->nodes) >= LINEAGE_NODES) {
		x->truncated = true;
		return CF_OK;
	}
	n = art_json(v, NULL);
	if (n == NULL || json_object_set_new(n, "depth",
	    json_integer(x->depth)) != 0 ||
	    json_object_set_new(x->nodes, id, n) != 0)
		return nomem(err);
	if (json_array_append_new(x->queue, json_pack("[I, I, i, s]",
	    (json_int_t)v->artifact_id, (json_int_t)v->number, x->depth,
	    id)) != 0)
		return nomem(err);
	return CF_OK;
}

/* Breadth first from root in one direction, to max_depth. */
static cf_err
lin_walk(struct lin *x, const struct cf_art_rec *root, const char *rootid,
    bool up, int max_depth, struct cf_error *err)
{
	json_t	*q;
	size_t	 i, gone;
	cf_err	 rc = CF_OK;

	x->up = up;
	json_array_clear(x->queue);
	if (json_array_append_new(x->queue, json_pack("[I, I, i, s]",
	    (json_int_t)root->artifact_id, (json_int_t)root->number, 0,
	    rootid)) != 0)
		return nomem(err);
	for (i = 0; i < json_array_size(x->queue) && rc == CF_OK; i++) {
		q = json_array_get(x->queue, i);
		x->depth = (int)json_integer_value(json_array_get(q, 2)) + 1;
		if (x->depth > max_depth) {
			x->truncated = true;
			continue;
		}
		x->from = json_string_value(json_array_get(q, 3));
		gone = 0;
		rc = cf_meta_art_links(x->c->meta, json_integer_value(
		    json_array_get(q, 0)), json_integer_value(
		    json_array_get(q, 1)), up, lin_cb, x, &gone, err);
		x->gone += gone;
	}
	return rc;
}

cf_err
cf_core_art_lineage(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *name, const char *sel, const char *direction, int max_depth,
    json_t **out, struct cf_error *err)
{
	struct cf_art_rec	*v = NULL;
	struct cf_ns_rec	 nsr;
	struct lin		 x;
	char			 id[CF_NS_NAME_MAX + CF_ART_NAME_MAX + 32];
	json_t			*root = NULL, *nodes = NULL;
	bool			 up = true, down = true;
	const char		*k;
	json_t			*n;
	cf_err			 rc;

	memset(&x, 0, sizeof(x));
	v = cf_calloc(1, sizeof(*v));
	if (v == NULL)
		return nomem(err);
	rc = art_open(c, r, "artifact:lineage", ns, name, sel, NULL, NULL, v,
	    &nsr, err);
	if (rc != CF_OK)
		goto out;
	if (direction != NULL && strcmp(direction, "up") == 0)
		down = false;
	else if (direction != NULL && strcmp(direction, "down") == 0)
		up = false;
	else if (direction != NULL && *direction != '\0' &&
	    strcmp(direction, "both") != 0) {
		r->errcode = "bad_request";
		rc = cf_error_set(err, CF_E_INPUT,
		    "direction is up, down or both");
		goto out;
	}
	if (max_depth <= 0 || max_depth > LINEAGE_DEPTH)
		max_depth = LINEAGE_DEPTH;
	x.c = c;
	x.r = r;
	x.nodes = json_object();
	x.edges = json_array();
	x.queue = json_array();
	root = art_json(v, &nsr);
	nodes = json_array();
	if (x.nodes == NULL || x.edges == NULL || x.queue == NULL ||
	    root == NULL || nodes == NULL) {
		rc = nomem(err);
		goto out;
	}
	node_id(v, id, sizeof(id));
	if (up)
		rc = lin_walk(&x, v, id, true, max_depth, err);
	if (rc == CF_OK && down)
		rc = lin_walk(&x, v, id, false, max_depth, err);
	if (rc != CF_OK)
		goto out;
	json_object_foreach(x.nodes, k, n)
		if (json_object_set_new(n, "id", json_string(k)) != 0 ||
		    json_array_append(nodes, n) != 0) {
			rc = nomem(err);
			goto out;
		}
	if (json_object_set_new(root, "id", json_string(id)) != 0) {
		rc = nomem(err);
		goto out;
	}
	*out = json_pack("{s:O, s:O, s:O, s:I, s:I, s:b}", "root", root,
	    "nodes", nodes, "edges", x.edges, "hidden", (json_int_t)x.hidden,
	    "gone", (json_int_t)x.gone, "truncated", x.truncated);
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(root);
	json_decref(nodes);
	json_decref(x.nodes);
	json_decref(x.edges);
	json_decref(x.queue);
	cf_free(v);
	return rc;
}

/* ---- begin: promotion ----
 *
 * A promotion brings an artifact version into a namespace of another
 * environment, once enough distinct principals other than the requester
 * approve (promotion_approvals_<env> of the target's environment).  On
 * completion the target gets, in one transaction with the request's
 * completion and its audit record, an object version per file that
 * shares the source's encrypted blob (its data key rewrapped under the
 * new version id; the chunks stay sealed under the id they were written
 * with: sealed_as), and an artifact version with the same manifest
 * digest, kind and metadata, derived from the source (lineage). */

static int64_t
approvals_for(const struct cf_core *c, const char *env)
{
	if (strcmp(env, "prod") == 0)
		return c->cfg.promotion_approvals_prod;
	if (strcmp(env, "staging") == 0)
		return c->cfg.promotion_approvals_staging;
	return c->cfg.promotion_approvals_dev;
}

/* context.op of a promotion or copy (name); the environments of the
 * namespaces that exist. */
static void
share_op(struct cf_core *c, struct cf_req *r, const char *name,
    const char *id, const char *src_ns, const char *dst_ns)
{
	struct cf_ns_rec	nsr;

	memset(&r->op, 0, sizeof(r->op));
	cf_strlcpy(r->op.name, name, sizeof(r->op.name));
	if (id != NULL)
		cf_strlcpy(r->op.id, id, sizeof(r->op.id));
	if (src_ns != NULL && cf_name_ns_valid(src_ns)) {
		cf_strlcpy(r->op.src_ns, src_ns, sizeof(r->op.src_ns));
		if (cf_meta_ns_get(c->meta, src_ns, &nsr, NULL) == CF_OK)
			cf_strlcpy(r->op.src_env, nsr.env,
			    sizeof(r->op.src_env));
	}
	if (dst_ns != NULL && cf_name_ns_valid(dst_ns)) {
		cf_strlcpy(r->op.dst_ns, dst_ns, sizeof(r->op.dst_ns));
		if (cf_meta_ns_get(c->meta, dst_ns, &nsr, NULL) == CF_OK)
			cf_strlcpy(r->op.dst_env, nsr.env,
			    sizeof(r->op.dst_env));
	}
}

static void
promo_op(struct cf_core *c, struct cf_req *r, const char *id,
    const char *src_ns, const char *dst_ns)
{
	share_op(c, r, "promotion", id, src_ns, dst_ns);
}

static json_t *
promo_json(const struct cf_promotion_rec *p, int64_t now_us)
{
	json_t		*a, *j;
	const char	*state = p->state;
	size_t		 i;

	if (strcmp(state, "open") == 0 && p->expires_us <= now_us)
		state = "expired";
	a = json_array();
	for (i = 0; a != NULL && i < p->napprovals; i++)
		if (json_array_append_new(a, json_string(p->approvers[i])) !=
		    0) {
			json_decref(a);
			return NULL;
		}
	if (a == NULL)
		return NULL;
	j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:o, s:s, "
	    "s:o, s:o, s:o, s:s, s:o}", "id", p->id, "ns", p->src_ns, "name",
	    p->src_name, "version", (json_int_t)p->src_number, "to",
	    p->dst_ns, "requester", p->requester, "reason", p->reason,
	    "required", (json_int_t)p->required, "approvals", a, "state",
	    state, "created", core_time_json(p->created_us), "expires",
	    core_time_json(p->expires_us), "closed",
	    core_time_json(p->closed_us), "closed_by", p->closed_by,
	    "target_version", p->dst_number > 0 ?
	    json_integer((json_int_t)p->dst_number) : json_null());
	return j;
}

/* A reason: up to 512 bytes of UTF-8 without control characters. */
static bool
promo_reason_ok(const char *s)
{
	size_t	n, i;

	n = strnlen(s, CF_PROMO_REASON_MAX);
	if (n >= CF_PROMO_REASON_MAX || !cf_utf8_valid(s, n))
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* What completing p writes into the target dnr. */
struct promo_new {
	struct cf_promotion_new	 nv;
	struct cf_version_rec	*objs;
	struct cf_art_file	*files;
	struct cf_art_rec	 art;
	json_t			*manifest;
};

static void
promo_new_free(struct promo_new *pn)
{
	size_t	i;

	for (i = 0; pn->objs != NULL && i < pn->nv.nobjs; i++)
		core_segs_free(pn->objs[i].segs, pn->objs[i].nsegs);
	if (pn->objs != NULL)
		cf_wipe(pn->objs, pn->nv.nobjs * sizeof(pn->objs[0]));
	cf_free(pn->objs);
	cf_free(pn->files);
	json_decref(pn->manifest);
	memset(pn, 0, sizeof(*pn));
}

/* Where a shared copy of an artifact version comes from and goes: the
 * source version (ns, name, artifact id, number), the target namespace
 * dnr and artifact name, and who creates it.  Promotion and copy. */
struct share_ref {
	const char		*src_ns;
	const char		*src_name;
	int64_t			 src_aid;
	int64_t			 src_number;
	const struct cf_ns_rec	*dnr;
	const char		*dst_name;
	const char		*creator;
};

/* Test hook: a crash with the shared version written but not committed
 * (COFFER_TEST_CRASH=art_share_written). */
static void
share_crash_hook(void *arg)
{
	core_test_crash(arg, "art_share_written");
}

/* One file of the manifest into the target: the source's object version
 * with a new id whose data key is rewrapped under it. */
static cf_err
share_file(struct cf_core *c, const struct share_ref *sr, const json_t *f,
    struct cf_version_rec *o, struct cf_art_file *af, int64_t now_us,
    struct cf_error *err)
{
	const char	*path = json_string_value(json_object_get(f, "path"));
	const char	*vid = json_string_value(json_object_get(f,
	    "version_id"));
	char		 key[CF_OBJKEY_MAX];
	cf_err		 rc;
	int		 n;

	if (path == NULL || vid == NULL)
		return cf_error_set(err, CF_E_INTEGRITY, "manifest entry");
	n = snprintf(key, sizeof(key), "%s/%s", sr->src_name, path);
	if (n < 0 || (size_t)n >= sizeof(key))
		return cf_error_set(err, CF_E_INTEGRITY, "manifest key");
	rc = cf_meta_version_get(c->meta, sr->src_ns, key, vid, o, err);
	if (rc != CF_OK)
		return rc;
	n = snprintf(o->key, sizeof(o->key), "%s/%s", sr->dst_name, path);
	if (n < 0 || (size_t)n >= sizeof(o->key))
		return cf_error_set(err, CF_E_INPUT, "\"%s/%.64s\" is too "
		    "long a key", sr->dst_name, path);
	rc = core_dek_rebind(c, o, o, err);
	if (rc != CF_OK)
		return rc;
	cf_strlcpy(o->ns, sr->dnr->name, sizeof(o->ns));
	o->ns_id = sr->dnr->id;
	o->seq = 0;
	cf_strlcpy(o->created_by, sr->creator, sizeof(o->created_by));
	o->created_us = now_us;
	af->path = path;
	af->version_id = o->version_id;
	af->sha256 = o->sha256;
	af->size = o->size;
	return CF_OK;
}

/* Prepare a shared copy of sr's source version into its target: object
 * versions sharing the source's blobs, an artifact version with the
 * same digest, kind and metadata, its sensitivity never below either
 * namespace's.  CF_E_CONFLICT (errcode source_gone) when the source
 * version or one of its files is gone.  The caller holds kek_lock
 * (read) until the commit. */
static cf_err
share_prepare(struct cf_core *c, struct cf_req *r, const struct share_ref *sr,
    struct promo_new *pn, struct cf_error *err)
{
	struct cf_ns_rec	snr;
	const json_t		*f;
	int64_t			now = core_now_us(c);
	size_t			n, i;
	int			lvl;
	cf_err			rc;

	memset(pn, 0, sizeof(*pn));
	rc = cf_meta_art_get_id(c->meta, sr->src_aid, sr->src_number,
	    &pn->art, err);
	if (rc == CF_OK)
		rc = cf_meta_art_files(c->meta, sr->src_aid, sr->src_number,
		    &pn->manifest, err);
	if (rc != CF_OK)
		goto out;
	n = json_array_size(pn->manifest);
	pn->objs = cf_calloc(n > 0 ? n : 1, sizeof(*pn->objs));
	pn->files = cf_calloc(n > 0 ? n : 1, sizeof(*pn->files));
	if (pn->objs == NULL || pn->files == NULL) {
		rc = nomem(err);
		goto out;
	}
	pn->nv.nobjs = n;
	json_array_foreach(pn->manifest, i, f) {
		rc = share_file(c, sr, f, &pn->objs[i], &pn->files[i], now,
		    err);
		if (rc != CF_OK)
			goto out;
	}
	lvl = level_of(pn->art.sensitivity);
	if (cf_meta_ns_get(c->meta, sr->src_ns, &snr, NULL) == CF_OK &&
	    eff_level(&pn->art, &snr) > lvl)
		lvl = eff_level(&pn->art, &snr);
	if (level_of(sr->dnr->sensitivity) > lvl)
		lvl = level_of(sr->dnr->sensitivity);
	cf_strlcpy(pn->art.sensitivity, levels[lvl],
	    sizeof(pn->art.sensitivity));
	pn->art.ns_id = sr->dnr->id;
	cf_strlcpy(pn->art.ns, sr->dnr->name, sizeof(pn->art.ns));
	cf_strlcpy(pn->art.name, sr->dst_name, sizeof(pn->art.name));
	pn->art.artifact_id = 0;
	pn->art.number = 0;
	cf_strlcpy(pn->art.created_by, sr->creator,
	    sizeof(pn->art.created_by));
	pn->art.created_us = now;
	rc = core_new_version_id(pn->art.version_id, err);
	pn->nv.objs = pn->objs;
	pn->nv.art = &pn->art;
	pn->nv.files = pn->files;
	pn->nv.nfiles = n;
	pn->nv.hook = share_crash_hook;
	pn->nv.hook_arg = c;
out:
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "source_gone";
		rc = cf_error_set(err, CF_E_CONFLICT, "the source version "
		    "%s/%s@%lld no longer exists", sr->src_ns, sr->src_name,
		    (long long)sr->src_number);
	}
	if (rc != CF_OK)
		promo_new_free(pn);
	return rc;
}

/* Prepare the completion of p into dnr (share_prepare). */
static cf_err
promo_prepare(struct cf_core *c, struct cf_req *r,
    const struct cf_promotion_rec *p, const struct cf_ns_rec *dnr,
    struct promo_new *pn, struct cf_error *err)
{
	struct share_ref	sr;

	sr.src_ns = p->src_ns;
	sr.src_name = p->src_name;
	sr.src_aid = p->src_artifact_id;
	sr.src_number = p->src_number;
	sr.dnr = dnr;
	sr.dst_name = p->src_name;
	sr.creator = p->requester;
	return share_prepare(c, r, &sr, pn, err);
}

/* The request as stored now, as JSON. */
static cf_err
promo_answer(struct cf_core *c, const char *id, json_t **out,
    struct cf_error *err)
{
	struct cf_promotion_rec	*p;
	cf_err			 rc;

	p = cf_calloc(1, sizeof(*p));
	if (p == NULL)
		return nomem(err);
	rc = cf_meta_promotion_get(c->meta, id, p, err);
	if (rc == CF_OK) {
		*out = promo_json(p, core_now_us(c));
		if (*out == NULL)
			rc = nomem(err);
	}
	cf_free(p);
	return rc;
}

cf_err
cf_core_promote(struct cf_core *c, struct cf_req *r, const char *src_ns,
    const char *name, const char *sel, const char *dst_ns,
    const char *reason, json_t **out, struct cf_error *err)
{
	struct cf_promotion_rec	*p = NULL;
	struct cf_art_rec	*v = NULL;
	struct cf_ns_rec	 snr, dnr;
	struct promo_new	 pn;
	struct core_act		 act;
	char			 res[CF_RESOURCE_MAX];
	uint8_t			 raw[CF_PROMO_ID_LEN / 2];
	bool			 have_dst;
	cf_err			 rc;

	memset(&pn, 0, sizeof(pn));
	if (reason == NULL)
		reason = "";
	promo_op(c, r, NULL, src_ns, dst_ns);
	have_dst = cf_name_ns_valid(dst_ns) &&
	    cf_meta_ns_get(c->meta, dst_ns, &dnr, NULL) == CF_OK;
	/* SEC: where no approval is needed, the requester completes the
	 * promotion alone, so it must be one who may approve it. */
	if (have_dst && approvals_for(c, dnr.env) == 0) {
		(void)snprintf(res, sizeof(res), "ns/%s", dst_ns);
		rc = core_authorize(c, r, "promotion:approve", dst_ns, res,
		    err);
		if (rc != CF_OK)
			return rc;
	}
	v = cf_calloc(1, sizeof(*v));
	p = cf_calloc(1, sizeof(*p));
	if (v == NULL || p == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = art_open(c, r, "promotion:request", src_ns, name, sel, NULL,
	    NULL, v, &snr, err);
	if (rc != CF_OK)
		goto out;
	if (!promo_reason_ok(reason)) {
		r->errcode = "bad_request";
		rc = cf_error_set(err, CF_E_INPUT, "reason: at most %d bytes "
		    "of text without control characters",
		    CF_PROMO_REASON_MAX - 1);
		goto out;
	}
	if (!cf_name_ns_valid(dst_ns)) {
		r->errcode = "invalid_name";
		rc = cf_error_set(err, CF_E_INPUT, "invalid target namespace");
		goto out;
	}
	rc = art_ns(c, r, dst_ns, &dnr, err);
	if (rc != CF_OK)
		goto out;
	if (strcmp(snr.env, dnr.env) == 0) {
		r->errcode = "same_environment";
		rc = cf_error_set(err, CF_E_INPUT, "\"%s\" and \"%s\" are both "
		    "%s namespaces: a promotion goes to another environment "
		    "(use coffer cp within one)", src_ns, dst_ns,
		    dnr.env[0] != '\0' ? dnr.env : "unset-environment");
		goto out;
	}
	if ((rc = cf_random(raw, sizeof(raw), err)) != CF_OK)
		goto out;
	cf_hex_encode(raw, sizeof(raw), p->id);
	cf_strlcpy(r->op.id, p->id, sizeof(r->op.id));
	(void)snprintf(r->op.source, sizeof(r->op.source), "%s@%lld", name,
	    (long long)v->number);
	cf_strlcpy(p->src_ns, src_ns, sizeof(p->src_ns));
	cf_strlcpy(p->src_name, name, sizeof(p->src_name));
	p->src_artifact_id = v->artifact_id;
	p->src_number = v->number;
	cf_strlcpy(p->dst_ns, dst_ns, sizeof(p->dst_ns));
	cf_strlcpy(p->requester, r->principal.name, sizeof(p->requester));
	cf_strlcpy(p->reason, reason, sizeof(p->reason));
	cf_strlcpy(p->state, "open", sizeof(p->state));
	p->required = approvals_for(c, dnr.env);
	p->created_us = core_now_us(c);
	p->expires_us = p->created_us + c->cfg.promotion_ttl * 1000000;
	/* SEC: the new versions' data keys are wrapped under the KEK
	 * active now and committed before any rotation can retire it
	 * (kek_lock, as an upload holds it: ops_object.c). */
	(void)pthread_rwlock_rdlock(&c->kek_lock);
	if (p->required == 0 &&
	    (rc = promo_prepare(c, r, p, &dnr, &pn, err)) != CF_OK) {
		(void)pthread_rwlock_unlock(&c->kek_lock);
		goto out;
	}
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_promotion_insert(c->meta, &act.au, p,
		    p->required == 0 ? &pn.nv : NULL, err);
	(void)pthread_rwlock_unlock(&c->kek_lock);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_NOTFOUND)
		r->errcode = "no_such_namespace";
	if (rc == CF_OK)
		rc = promo_answer(c, p->id, out, err);
out:
	promo_new_free(&pn);
	cf_free(p);
	cf_free(v);
	return rc;
}

/* Request id for a decision on its target: its record into *p and
 * r->op set; an unknown id is decided as action on the store (admins
 * learn it does not exist, others are refused). */
static cf_err
promo_open(struct cf_core *c, struct cf_req *r, const char *action,
    const char *id, struct cf_promotion_rec *p, struct cf_error *err)
{
	char	res[CF_RESOURCE_MAX];
	cf_err	rc;

	rc = CF_E_NOTFOUND;
	if (id != NULL && strlen(id) == CF_PROMO_ID_LEN)
		rc = cf_meta_promotion_get(c->meta, id, p, NULL);
	if (rc != CF_OK && rc != CF_E_NOTFOUND)
		return cf_error_set(err, rc, "promotion lookup failed");
	if (rc == CF_E_NOTFOUND) {
		promo_op(c, r, NULL, NULL, NULL);
		rc = core_authorize(c, r, action, NULL, "promotions", err);
		if (rc != CF_OK)
			return rc;
		r->errcode = "no_such_promotion";
		return cf_error_set(err, CF_E_NOTFOUND, "no such promotion");
	}
	promo_op(c, r, p->id, p->src_ns, p->dst_ns);
	(void)snprintf(r->op.source, sizeof(r->op.source), "%s@%lld",
	    p->src_name, (long long)p->src_number);
	/* promotion:withdraw is the requester's, on the source artifact;
	 * the others are decided on the target. */
	if (strcmp(action, "promotion:withdraw") == 0) {
		art_resource(res, sizeof(res), p->src_ns, p->src_name);
		return core_authorize(c, r, action, p->src_ns, res, err);
	}
	(void)snprintf(res, sizeof(res), "ns/%s", p->dst_ns);
	return core_authorize(c, r, action, p->dst_ns, res, err);
}

cf_err
cf_core_promotion_approve(struct cf_core *c, struct cf_req *r,
    const char *id, json_t **out, struct cf_error *err)
{
	struct cf_promotion_rec	*p = NULL;
	struct cf_ns_rec	 dnr;
	struct promo_new	 pn;
	struct core_act		 act;
	bool			 done = false;
	size_t			 i;
	cf_err			 rc;

	memset(&pn, 0, sizeof(pn));
	p = cf_calloc(1, sizeof(*p));
	if (p == NULL)
		return nomem(err);
	rc = promo_open(c, r, "promotion:approve", id, p, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: approving is the control; it is not the requester's. */
	if (strcmp(p->requester, r->principal.name) == 0) {
		r->allowed = false;
		cf_strlcpy(r->reasons, "own promotion", sizeof(r->reasons));
		r->errcode = "own_request";
		rc = cf_error_set(err, CF_E_DENIED, "one may not approve "
		    "one's own promotion");
		goto out;
	}
	if (strcmp(r->op.dst_env, "prod") == 0 &&
	    !core_mfa_fresh(c, r, CORE_MFA_ADMIN)) {
		r->allowed = false;
		cf_strlcpy(r->reasons, "mfa required (promotion to prod)",
		    sizeof(r->reasons));
		r->errcode = "mfa_required";
		rc = cf_error_set(err, CF_E_AUTH, "approving a promotion into "
		    "prod needs multi-factor authentication (step up: coffer "
		    "login --mfa)");
		goto out;
	}
	for (i = 0; i < p->napprovals; i++)
		if (strcmp(p->approvers[i], r->principal.name) == 0)
			break;
	if (i < p->napprovals) {
		r->errcode = "already_approved";
		rc = cf_error_set(err, CF_E_CONFLICT, "you approved this "
		    "promotion already");
		goto out;
	}
	if (strcmp(p->state, "open") != 0) {
		r->errcode = "not_open";
		rc = cf_error_set(err, CF_E_CONFLICT, "the promotion is %s",
		    p->state);
		goto out;
	}
	if (p->expires_us <= core_now_us(c)) {
		r->errcode = "expired";
		rc = cf_error_set(err, CF_E_CONFLICT, "the promotion expired");
		goto out;
	}
	rc = art_ns(c, r, p->dst_ns, &dnr, err);
	if (rc != CF_OK)
		goto out;
	(void)pthread_rwlock_rdlock(&c->kek_lock);	/* as above */
	rc = promo_prepare(c, r, p, &dnr, &pn, err);
	if (rc != CF_OK) {
		(void)pthread_rwlock_unlock(&c->kek_lock);
		goto out;
	}
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_promotion_approve(c->meta, &act.au, p->id,
		    r->principal.name, core_now_us(c), &pn.nv, &done, err);
	(void)pthread_rwlock_unlock(&c->kek_lock);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_CONFLICT && r->errcode == NULL)
		r->errcode = "not_open";
	if (rc == CF_OK) {
		log_info("event=promotion_%s id=%s by=%s", done ?
		    "completed" : "approved", p->id, r->principal.name);
		rc = promo_answer(c, p->id, out, err);
	}
out:
	promo_new_free(&pn);
	cf_free(p);
	return rc;
}

/* Close request id as state by r: "rejected" (promotion:reject, on the
 * target) or "withdrawn" (promotion:withdraw, the requester only). */
static cf_err
promo_close(struct cf_core *c, struct cf_req *r, const char *action,
    const char *state, const char *id, json_t **out, struct cf_error *err)
{
	struct cf_promotion_rec	*p = NULL;
	struct core_act		 act;
	cf_err			 rc;

	p = cf_calloc(1, sizeof(*p));
	if (p == NULL)
		return nomem(err);
	rc = promo_open(c, r, action, id, p, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: only the requester withdraws (the target's owners reject). */
	if (strcmp(state, "withdrawn") == 0 &&
	    strcmp(p->requester, r->principal.name) != 0) {
		r->allowed = false;
		cf_strlcpy(r->reasons, "not the requester", sizeof(r->reasons));
		r->errcode = "not_requester";
		rc = cf_error_set(err, CF_E_DENIED, "only the requester may "
		    "withdraw a promotion request (the target's owners may "
		    "reject it)");
		goto out;
	}
	if (strcmp(p->state, "open") != 0) {
		r->errcode = "not_open";
		rc = cf_error_set(err, CF_E_CONFLICT, "the promotion is %s",
		    p->state);
		goto out;
	}
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_promotion_close(c->meta, &act.au, p->id, state,
		    r->principal.name, core_now_us(c), err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_CONFLICT)
		r->errcode = "not_open";
	if (rc == CF_OK)
		rc = promo_answer(c, p->id, out, err);
out:
	cf_free(p);
	return rc;
}

cf_err
cf_core_promotion_reject(struct cf_core *c, struct cf_req *r,
    const char *id, json_t **out, struct cf_error *err)
{
	return promo_close(c, r, "promotion:reject", "rejected", id, out, err);
}

cf_err
cf_core_promotion_withdraw(struct cf_core *c, struct cf_req *r,
    const char *id, json_t **out, struct cf_error *err)
{
	return promo_close(c, r, "promotion:withdraw", "withdrawn", id, out,
	    err);
}

struct promo_list {
	struct cf_core	*c;
	struct cf_req	*r;
	json_t		*arr;
	int64_t		 now;
};

static cf_err
promo_list_cb(void *arg, const struct cf_promotion_rec *p,
    struct cf_error *err)
{
	struct promo_list	*x = arg;

	/* One's own requests, and those into namespaces one may list
	 * promotions of. */
	if (strcmp(p->requester, x->r->principal.name) != 0 &&
	    !core_can(x->c, x->r, "promotion:list", p->dst_ns))
		return CF_OK;
	if (json_array_append_new(x->arr, promo_json(p, x->now)) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_promotion_list(struct cf_core *c, struct cf_req *r, const char *id,
    json_t **out, struct cf_error *err)
{
	struct cf_promotion_rec	*p = NULL;
	struct promo_list	 x;
	cf_err			 rc;

	if (id != NULL) {
		p = cf_calloc(1, sizeof(*p));
		if (p == NULL)
			return nomem(err);
		rc = promo_open(c, r, "promotion:list", id, p, err);
		if (rc == CF_OK) {
			*out = promo_json(p, core_now_us(c));
			if (*out == NULL)
				rc = nomem(err);
		}
		cf_free(p);
		return rc;
	}
	rc = core_authorize_listing(c, r, "promotion:list", "promotions", err);
	if (rc != CF_OK)
		return rc;
	x.c = c;
	x.r = r;
	x.now = core_now_us(c);
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_promotion_list(c->meta, 1000, promo_list_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "promotions", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}
/* ---- end: promotion ---- */

/* ---- begin: copy ----
 *
 * A server-side copy of an artifact version into a namespace (of any
 * environment but prod, unless a stored policy permits): the same
 * blob-sharing as a promotion's completion (share_prepare), at once. */

/* SEC: did a stored policy (reasons "NAME/vN:ID"), not only a built-in
 * role template ("role:R[@NS]") or built-in policy, allow r? */
static bool
stored_policy_allowed(const struct cf_req *r)
{
	const char	*p = r->reasons, *end, *e;
	size_t		 n;

	end = strstr(p, " errors=");
	if (end == NULL)
		end = p + strlen(p);
	while (p < end) {
		n = strcspn(p, ",");
		if (p + n > end)
			n = (size_t)(end - p);
		e = memchr(p, '/', n);
		if (strncmp(p, "role:", 5) != 0 && e != NULL &&
		    e + 2 <= p + n && e[1] == 'v')
			return true;
		p += n;
		if (*p == ',')
			p++;
		else
			break;
	}
	return false;
}

cf_err
cf_core_art_copy(struct cf_core *c, struct cf_req *r, const char *src_ns,
    const char *name, const char *sel, const char *dst_ns,
    const char *dst_name, json_t **out, struct cf_error *err)
{
	struct cf_art_rec	*v = NULL;
	struct cf_ns_rec	 snr, dnr;
	struct share_ref	 sr;
	struct promo_new	 pn;
	struct core_act		 act;
	cf_err			 rc;

	memset(&pn, 0, sizeof(pn));
	share_op(c, r, "copy", NULL, src_ns, dst_ns);
	v = cf_calloc(1, sizeof(*v));
	if (v == NULL)
		return nomem(err);
	/* Without a principal nothing is looked up: refused, and recorded,
	 * as this request's own action. */
	if (!r->authenticated) {
		rc = art_authorize(c, r, "artifact:copy", dst_ns, dst_name,
		    err);
		if (CF_NEVER(rc == CF_OK))
			rc = cf_error_set(err, CF_E_INTERNAL, "unauthenticated "
			    "copy allowed");
		goto out;
	}
	/* The source: read access to the version, decided with its
	 * attributes. */
	rc = art_open(c, r, "artifact:get", src_ns, name, sel, NULL, NULL, v,
	    &snr, err);
	if (rc != CF_OK)
		goto out;
	(void)snprintf(r->op.source, sizeof(r->op.source), "%s@%lld",
	    v->name, (long long)v->number);
	/* The target: artifact:copy there (this request's record). */
	rc = art_authorize(c, r, "artifact:copy", dst_ns, dst_name, err);
	if (rc != CF_OK)
		goto out;
	rc = art_ns(c, r, dst_ns, &dnr, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: a copy is no way around promotion: into prod, only where a
	 * stored policy permits artifact:copy (roles alone do not). */
	if (strcmp(dnr.env, "prod") == 0 && !stored_policy_allowed(r)) {
		r->allowed = false;
		cf_strlcpy(r->reasons, "prod target: no policy permits "
		    "artifact:copy", sizeof(r->reasons));
		r->errcode = "promotion_required";
		rc = cf_error_set(err, CF_E_DENIED, "\"%s\" is a prod "
		    "namespace: copying into it needs a policy that permits "
		    "artifact:copy there (use coffer promote)", dst_ns);
		goto out;
	}
	sr.src_ns = v->ns;
	sr.src_name = v->name;
	sr.src_aid = v->artifact_id;
	sr.src_number = v->number;
	sr.dnr = &dnr;
	sr.dst_name = dst_name;
	sr.creator = r->principal.name;
	/* SEC: as a promotion's completion (kek_lock until the commit). */
	(void)pthread_rwlock_rdlock(&c->kek_lock);
	rc = share_prepare(c, r, &sr, &pn, err);
	if (rc != CF_OK) {
		(void)pthread_rwlock_unlock(&c->kek_lock);
		goto out;
	}
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_art_copy(c->meta, &act.au, &pn.nv, v->artifact_id,
		    v->number, err);
	(void)pthread_rwlock_unlock(&c->kek_lock);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "source_gone";
		rc = cf_error_set(err, CF_E_CONFLICT, "the source version "
		    "was removed during the copy");
	} else if (rc == CF_E_CONFLICT && r->errcode == NULL) {
		cf_error_clear(err);
		r->errcode = "namespace_changed";
		rc = cf_error_set(err, CF_E_CONFLICT, "namespace \"%s\" was "
		    "replaced during the copy", dst_ns);
	}
	if (rc != CF_OK)
		goto out;
	*out = art_json(&pn.art, &dnr);
	if (*out == NULL)
		rc = nomem(err);
out:
	promo_new_free(&pn);
	cf_free(v);
	return rc;
}
/* ---- end: copy ---- */

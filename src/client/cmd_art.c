/* src/client/cmd_art.c: artifact commands (docs/cli.md, docs/artifacts.md):
 * `coffer versions` of an artifact, `meta`, `stage`, `lineage`,
 * `classify`, and the helpers push and pull (cmd_dir.c) share. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

cf_err
cf_cli_art_ref(const char *arg, char **ns, char **name, char **sel,
    struct cf_error *err)
{
	char	*n = NULL, *k = NULL, *at;
	size_t	 len;
	cf_err	 rc;

	rc = cf_cli_split_nskey(arg, true, &n, &k, err);
	if (rc != CF_OK)
		return rc;
	*sel = NULL;
	at = strrchr(k, '@');
	if (at != NULL) {
		*at = '\0';
		*sel = cf_strdup(at + 1);
		if (*sel == NULL) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
	}
	/* NS/NAME/ names NAME (a prefix spelt as one). */
	len = strlen(k);
	while (len > 0 && k[len - 1] == '/')
		k[--len] = '\0';
	if (len == 0) {
		rc = cf_error_set(err, CF_E_INPUT, "\"%s\": expected "
		    "NS/NAME[@VERSION]", arg);
		goto out;
	}
	*ns = n;
	*name = k;
	n = k = NULL;
out:
	if (rc != CF_OK) {
		cf_free(*sel);
		*sel = NULL;
	}
	cf_free(n);
	cf_free(k);
	return rc;
}

cf_err
cf_cli_art_path(struct cf_buf *b, const char *ns, const char *what,
    const char *name, const char *q1, const char *v1, const char *q2,
    const char *v2, struct cf_error *err)
{
	cf_err	rc;

	rc = cf_cli_obj_path(b, ns, what, name, err);
	if (rc == CF_OK && v1 != NULL && *v1 != '\0') {
		rc = cf_buf_printf(b, err, "?%s=", q1);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(b, v1, false, err);
	}
	if (rc == CF_OK && v2 != NULL && *v2 != '\0') {
		rc = cf_buf_printf(b, err, "%s%s=", v1 != NULL &&
		    *v1 != '\0' ? "&" : "?", q2);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(b, v2, false, err);
	}
	return rc;
}

/* One line per version. */
static void
print_versions(const json_t *v)
{
	const json_t	*arr = json_object_get(v, "versions"), *e, *st, *s;
	char		 by[128], date[24], dig[17], kind[20], sz[32];
	char		 stages[256], one[40];
	size_t		 i, j;

	(void)printf("%-5s %-19s %-12s %-10s %-15s %9s  %-16s %s\n", "VER",
	    "CREATED", "BY", "KIND", "SENSITIVITY", "SIZE", "DIGEST",
	    "STAGES");
	json_array_foreach(arr, i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "created_by", "-"), by,
		    sizeof(by));
		cf_cli_fmt_time(cf_cli_jstr(e, "created", "-"), date,
		    sizeof(date));
		cf_cli_sanitize(cf_cli_jstr(e, "digest", "-"), dig,
		    sizeof(dig));
		cf_cli_sanitize(cf_cli_jstr(e, "kind", "-"), kind,
		    sizeof(kind));
		cf_cli_fmt_size((uint64_t)json_integer_value(json_object_get(e,
		    "size")), sz, sizeof(sz));
		stages[0] = '\0';
		st = json_object_get(e, "stages");
		json_array_foreach(st, j, s) {
			cf_cli_sanitize(json_string_value(s) != NULL ?
			    json_string_value(s) : "?", one, sizeof(one));
			if (stages[0] != '\0')
				(void)cf_strlcat(stages, ",", sizeof(stages));
			(void)cf_strlcat(stages, one, sizeof(stages));
		}
		(void)printf("%-5lld %-19s %-12s %-10s %-15s %9s  %-16s %s\n",
		    (long long)json_integer_value(json_object_get(e,
		    "version")), date, by, kind, cf_cli_jstr(e,
		    "sensitivity", "-"), sz, dig, stages);
	}
}

cf_err
cf_cli_art_versions(struct cf_cli_sess *s, const struct cf_cli_opts *o,
    const char *ns, const char *name, struct cf_error *err, bool *fallback)
{
	struct cf_buf	 url;
	json_t		*v = NULL;
	const char	*code;
	cf_err		 rc;

	*fallback = false;
	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	rc = cf_cli_obj_path(&url, ns, "artifact-versions", name, err);
	if (rc == CF_OK)
		rc = cf_http_json(s->h, "GET", url.data, NULL, &v, err);
	if (rc != CF_OK) {
		code = cf_http_error_code(s->h);
		/* Any 404 (an older server has no such route): the
		 * object's versions answer for themselves. */
		if (rc == CF_E_NOTFOUND || strcmp(code, "invalid_name") == 0) {
			cf_error_clear(err);
			*fallback = true;
			rc = CF_OK;
		}
		goto out;
	}
	if (o->json)
		cf_cli_print_json(v);
	else if (!o->quiet)
		print_versions(v);
out:
	json_decref(v);
	cf_buf_free(&url);
	return rc;
}

/* ---- coffer meta set|rm NS/NAME@V ... ---- */

static const char meta_usage[] =
    "usage: coffer meta set NS/NAME[@VERSION] NAME=VALUE...\n"
    "       coffer meta rm NS/NAME[@VERSION] NAME...\n"
    "\n"
    "Change the user metadata of an artifact version (the latest without\n"
    "@VERSION) without uploading anything again.  At most 32 entries;\n"
    "names [a-z][a-z0-9_.-]{0,62}, values up to 256 bytes\n"
    "(docs/artifacts.md).\n";

int
cf_cmd_meta(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	char			**ops, *ns = NULL, *name = NULL, *sel = NULL;
	char			*eq;
	json_t			*body = NULL, *v = NULL;
	bool			 set;
	int			 nops, ex, i;
	cf_err			 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	ex = cf_cli_parse(argc, argv, meta_usage, CF_CLI_COMMON_SHORTOPTS, lo,
	    NULL, NULL, 3, 64, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	set = strcmp(ops[0], "set") == 0;
	if (!set && strcmp(ops[0], "rm") != 0) {
		(void)fputs(meta_usage, stderr);
		ex = CF_EXIT_USAGE;
		goto done;
	}
	body = json_object();
	if (body == NULL) {
		rc = cf_error_set(&err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 2; i < nops; i++) {
		eq = set ? strchr(ops[i], '=') : NULL;
		if (set && eq == NULL) {
			rc = cf_error_set(&err, CF_E_INPUT, "\"%s\": expected "
			    "NAME=VALUE", ops[i]);
			goto out;
		}
		if (eq != NULL)
			*eq = '\0';
		if (json_object_set_new(body, ops[i], eq != NULL ?
		    json_string(eq + 1) : json_null()) != 0) {
			rc = cf_error_set(&err, CF_E_INPUT, "\"%s\": not "
			    "UTF-8", ops[i]);
			goto out;
		}
	}
	rc = cf_cli_art_ref(ops[1], &ns, &name, &sel, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_cli_art_path(&url, ns, "artifacts", name, "version",
		    sel, NULL, NULL, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "PATCH", url.data, body, &v, &err);
	if (rc != CF_OK)
		goto out;
	if (o.json)
		cf_cli_print_json(v);
	else if (!o.quiet)
		(void)printf("metadata of %s/%s@%lld updated\n", ns, name,
		    (long long)json_integer_value(json_object_get(v,
		    "version")));
out:
	ex = cf_cli_finish(&s, rc, &err);
done:
	json_decref(body);
	json_decref(v);
	cf_free(ns);
	cf_free(name);
	cf_free(sel);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

/* ---- coffer stage set|rm|ls ---- */

static const char stage_usage[] =
    "usage: coffer stage set NS/NAME@VERSION STAGE\n"
    "       coffer stage rm NS/NAME STAGE\n"
    "       coffer stage ls NS/NAME [--json]\n"
    "\n"
    "Point a stage (an alias: production, staging, champion, ...) at one\n"
    "version of an artifact, remove it, or list the stages with their\n"
    "history.  `coffer pull NS/NAME@STAGE` pulls the version a stage\n"
    "names.  Moving a stage is the action version:set-stage.\n";

static void
print_stages(const json_t *v)
{
	const json_t	*cur = json_object_get(v, "stages");
	const json_t	*hist = json_object_get(v, "history"), *e, *n;
	const char	*k;
	char		 st[40], by[128], date[24];
	size_t		 i;

	json_object_foreach((json_t *)(uintptr_t)cur, k, n) {
		cf_cli_sanitize(k, st, sizeof(st));
		(void)printf("%-20s %lld\n", st,
		    (long long)json_integer_value(n));
	}
	if (json_array_size(hist) > 0)
		(void)printf("\nhistory:\n");
	json_array_foreach(hist, i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "stage", "?"), st, sizeof(st));
		cf_cli_sanitize(cf_cli_jstr(e, "by", "-"), by, sizeof(by));
		cf_cli_fmt_time(cf_cli_jstr(e, "at", "-"), date, sizeof(date));
		n = json_object_get(e, "number");
		if (json_is_integer(n))
			(void)printf("  %s  %-20s -> %lld  by %s\n", date, st,
			    (long long)json_integer_value(n), by);
		else
			(void)printf("  %s  %-20s removed  by %s\n", date, st,
			    by);
	}
}

int
cf_cmd_stage(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	char			**ops, *ns = NULL, *name = NULL, *sel = NULL;
	json_t			*body = NULL, *v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	ex = cf_cli_parse(argc, argv, stage_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, NULL, NULL, 2, 3, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	if (!((strcmp(ops[0], "set") == 0 && nops == 3) ||
	    (strcmp(ops[0], "rm") == 0 && nops == 3) ||
	    (strcmp(ops[0], "ls") == 0 && nops == 2))) {
		(void)fputs(stage_usage, stderr);
		ex = CF_EXIT_USAGE;
		goto done;
	}
	rc = cf_cli_art_ref(ops[1], &ns, &name, &sel, &err);
	if (rc == CF_OK && ops[0][0] == 's' && (sel == NULL || *sel == '\0'))
		rc = cf_error_set(&err, CF_E_INPUT, "stage set needs "
		    "NS/NAME@VERSION");
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc != CF_OK)
		goto out;
	if (strcmp(ops[0], "set") == 0) {
		body = json_pack("{s:s, s:s}", "stage", ops[2], "version",
		    sel);
		rc = body == NULL ? cf_error_set(&err, CF_E_INPUT, "bad "
		    "stage name") : cf_cli_obj_path(&url, ns, "stages", name,
		    &err);
		if (rc == CF_OK)
			rc = cf_http_json(s.h, "PUT", url.data, body, &v, &err);
	} else if (strcmp(ops[0], "rm") == 0) {
		rc = cf_cli_art_path(&url, ns, "stages", name, "stage",
		    ops[2], NULL, NULL, &err);
		if (rc == CF_OK)
			rc = cf_http_json(s.h, "DELETE", url.data, NULL, &v,
			    &err);
	} else {
		rc = cf_cli_obj_path(&url, ns, "stages", name, &err);
		if (rc == CF_OK)
			rc = cf_http_json(s.h, "GET", url.data, NULL, &v, &err);
	}
	if (rc != CF_OK)
		goto out;
	if (o.json)
		cf_cli_print_json(v);
	else if (o.quiet)
		;
	else if (strcmp(ops[0], "ls") == 0)
		print_stages(v);
	else if (strcmp(ops[0], "set") == 0)
		(void)printf("%s/%s: %s -> %lld\n", ns, name, ops[2],
		    (long long)json_integer_value(json_object_get(v,
		    "version")));
	else
		(void)printf("%s/%s: %s removed\n", ns, name, ops[2]);
out:
	ex = cf_cli_finish(&s, rc, &err);
done:
	json_decref(body);
	json_decref(v);
	cf_free(ns);
	cf_free(name);
	cf_free(sel);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

/* ---- coffer lineage ---- */

static const char lineage_usage[] =
    "usage: coffer lineage NS/NAME[@VERSION] [--up|--down] [--depth N]"
    " [--json]\n"
    "\n"
    "Show what a version was derived from (--up), what was derived from it\n"
    "(--down), or both.  Versions you may not read are counted as hidden,\n"
    "never named.\n";

struct lin_opts {
	const char	*dir;
	const char	*depth;
};

static bool
lin_opt(void *arg, int ch, char *val)
{
	struct lin_opts	*l = arg;

	if (ch == 'U')
		l->dir = "up";
	else if (ch == 'D')
		l->dir = "down";
	else if (ch == 'd')
		l->depth = val;
	else
		return false;
	return true;
}

int
cf_cmd_lineage(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "up", no_argument, NULL, 'U' },
		{ "down", no_argument, NULL, 'D' },
		{ "depth", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct lin_opts		 l = { NULL, NULL };
	struct cf_buf		 url;
	char			**ops, *ns = NULL, *name = NULL, *sel = NULL;
	char			 id[400], to[400], kind[20];
	const json_t		*e, *n;
	json_t			*v = NULL;
	size_t			 i;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	ex = cf_cli_parse(argc, argv, lineage_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, lin_opt, &l, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	rc = cf_cli_art_ref(ops[0], &ns, &name, &sel, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_cli_art_path(&url, ns, "lineage", name, "version", sel,
		    "direction", l.dir, &err);
	if (rc == CF_OK && l.depth != NULL)
		rc = cf_buf_printf(&url, &err, "%sdepth=%s",
		    strchr(url.data, '?') != NULL ? "&" : "?", l.depth);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "GET", url.data, NULL, &v, &err);
	if (rc != CF_OK)
		goto out;
	if (o.json) {
		cf_cli_print_json(v);
		goto out;
	}
	n = json_object_get(v, "root");
	cf_cli_sanitize(cf_cli_jstr(n, "id", "?"), id, sizeof(id));
	(void)printf("%s (%s, %s)\n", id, cf_cli_jstr(n, "kind", "-"),
	    cf_cli_jstr(n, "sensitivity", "-"));
	json_array_foreach(json_object_get(v, "edges"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "from", "?"), id, sizeof(id));
		cf_cli_sanitize(cf_cli_jstr(e, "to", "?"), to, sizeof(to));
		(void)printf("  %s -> %s\n", id, to);
	}
	json_array_foreach(json_object_get(v, "nodes"), i, n) {
		cf_cli_sanitize(cf_cli_jstr(n, "id", "?"), id, sizeof(id));
		cf_cli_sanitize(cf_cli_jstr(n, "kind", "-"), kind,
		    sizeof(kind));
		(void)printf("  node %s: %s, %s, digest %.16s\n", id, kind,
		    cf_cli_jstr(n, "sensitivity", "-"), cf_cli_jstr(n,
		    "digest", "-"));
	}
	if (json_integer_value(json_object_get(v, "hidden")) > 0)
		(void)printf("  (%lld hidden: versions you may not read)\n",
		    (long long)json_integer_value(json_object_get(v,
		    "hidden")));
out:
	ex = cf_cli_finish(&s, rc, &err);
done:
	json_decref(v);
	cf_free(ns);
	cf_free(name);
	cf_free(sel);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

/* ---- coffer classify ---- */

static const char classify_usage[] =
    "usage: coffer classify NS/NAME[@VERSION] LEVEL [--reason TEXT]\n"
    "\n"
    "Set an artifact version's sensitivity (public, internal, confidential,\n"
    "restricted; never below its namespace's).  Raising it needs write;\n"
    "lowering it (declassifying) needs a global admin with MFA and a\n"
    "--reason, which is kept with the version.\n";

static bool
classify_opt(void *arg, int ch, char *val)
{
	const char	**reason = arg;

	if (ch != 'r')
		return false;
	*reason = val;
	return true;
}

int
cf_cmd_classify(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	const char		*reason = NULL;
	char			**ops, *ns = NULL, *name = NULL, *sel = NULL;
	json_t			*body = NULL, *v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	ex = cf_cli_parse(argc, argv, classify_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, classify_opt, &reason, 2, 2, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	body = json_pack("{s:s, s:s*}", "sensitivity", ops[1], "reason",
	    reason);
	rc = body == NULL ? cf_error_set(&err, CF_E_INPUT, "bad argument") :
	    cf_cli_art_ref(ops[0], &ns, &name, &sel, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_cli_art_path(&url, ns, "artifact-sensitivity", name,
		    "version", sel, NULL, NULL, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "PUT", url.data, body, &v, &err);
	if (rc != CF_OK)
		goto out;
	if (o.json)
		cf_cli_print_json(v);
	else if (!o.quiet)
		(void)printf("%s/%s@%lld is %s\n", ns, name,
		    (long long)json_integer_value(json_object_get(v,
		    "version")), cf_cli_jstr(v, "sensitivity", "?"));
out:
	ex = cf_cli_finish(&s, rc, &err);
done:
	json_decref(body);
	json_decref(v);
	cf_free(ns);
	cf_free(name);
	cf_free(sel);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

/* src/client/cmd_obj.c: single-object commands: put, get, head, rm, ls,
 * versions. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

#define META_MAX	32
#define LIST_LIMIT	1000
#define LIST_MAX	10000000	/* entries in one listing */

/* ---- put ---- */

static const char put_usage[] =
    "usage: coffer put NS/KEY FILE [--content-type TYPE]\n"
    "                  [--meta NAME=VALUE]... [--one-pass] [--json] [--quiet]\n"
    "\n"
    "Upload FILE (\"-\" for standard input) as a new version of KEY in\n"
    "namespace NS.  The data is read once and hashed while sent; its SHA-256\n"
    "ends the upload and the server stores nothing if the bytes it received\n"
    "do not match.  A file that changes while it is sent is not stored\n"
    "(exit code 7).  --one-pass is accepted for compatibility (it is the\n"
    "only behaviour now).\n";

struct put_ctx {
	bool		 one_pass;
	const char	*ctype;
	char		*meta[META_MAX + 1];
	size_t		 nmeta;
};

static bool
meta_name_ok(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_'))
			return false;
	return true;
}

static bool
put_opt(void *arg, int ch, char *val)
{
	struct put_ctx	*c = arg;
	const char	*eq, *p;
	struct cf_buf	 b;

	if (ch == 'T') {
		for (p = val; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				cf_cli_errx("put: bad --content-type");
				return false;
			}
		c->ctype = val;
		return true;
	}
	if (ch == '1') {
		c->one_pass = true;
		return true;
	}
	if (ch != 'M')
		return false;
	eq = strchr(val, '=');
	if (eq == NULL || !meta_name_ok(val, (size_t)(eq - val))) {
		cf_cli_errx("put: --meta wants NAME=VALUE with NAME of "
		    "letters, digits, '-' and '_'");
		return false;
	}
	for (p = eq + 1; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			cf_cli_errx("put: --meta value has a control "
			    "character");
			return false;
		}
	if (c->nmeta == META_MAX) {
		cf_cli_errx("put: at most %d --meta options", META_MAX);
		return false;
	}
	cf_buf_init(&b, 4096);
	if (cf_buf_printf(&b, NULL, "X-Coffer-Meta-%.*s: %s",
	    (int)(eq - val), val, eq + 1) != CF_OK) {
		cf_buf_free(&b);
		cf_cli_errx("put: --meta too long");
		return false;
	}
	c->meta[c->nmeta] = cf_buf_take(&b);
	if (c->meta[c->nmeta] == NULL)
		return false;
	c->nmeta++;
	return true;
}

static void
print_version_line(const char *verb, const json_t *v)
{
	const char	*ns, *key, *vid, *sha;
	json_int_t	 size;
	char		 s1[128], s2[1100], s3[160], s4[65], sz[32];

	ns = json_string_value(json_object_get(v, "ns"));
	key = json_string_value(json_object_get(v, "key"));
	vid = json_string_value(json_object_get(v, "version_id"));
	sha = json_string_value(json_object_get(v, "sha256"));
	size = json_integer_value(json_object_get(v, "size"));
	cf_cli_sanitize(ns != NULL ? ns : "?", s1, sizeof(s1));
	cf_cli_sanitize(key != NULL ? key : "?", s2, sizeof(s2));
	cf_cli_sanitize(vid != NULL ? vid : "?", s3, sizeof(s3));
	/* SEC: what the server sends never reaches the terminal raw. */
	cf_cli_sanitize(sha != NULL ? sha : "?", s4, sizeof(s4));
	cf_cli_fmt_size((uint64_t)size, sz, sizeof(sz));
	(void)printf("%s %s/%s  version %s  %s  sha256 %s\n", verb, s1, s2,
	    s3, sz, s4);
}

int
cf_cmd_put(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "content-type", required_argument, NULL, 'T' },
		{ "meta", required_argument, NULL, 'M' },
		{ "one-pass", no_argument, NULL, '1' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct put_ctx		 c = { 0 };
	char			**ops, *ns = NULL, *key = NULL;
	json_t			*v = NULL;
	size_t			 i;
	int			 nops, ex;
	cf_err			 rc;

	ex = cf_cli_parse(argc, argv, put_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, put_opt, &c, 2, 2, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	rc = cf_cli_split_nskey(ops[0], true, &ns, &key, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_cli_put_file(s.h, ns, key, ops[1], c.ctype,
		    (const char *const *)c.meta, c.one_pass, &v, &err);
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(v);
		else if (!o.quiet)
			print_version_line("uploaded", v);
	}
	ex = cf_cli_finish(&s, rc, &err);
done:
	for (i = 0; i < c.nmeta; i++)
		cf_free(c.meta[i]);
	json_decref(v);
	cf_free(ns);
	cf_free(key);
	cf_cli_sess_close(&s);
	return ex;
}

/* ---- get ---- */

static const char get_usage[] =
    "usage: coffer get NS/KEY [FILE] [--version ID] [--json] [--quiet]\n"
    "\n"
    "Download the latest version of KEY (or version ID) to FILE, or to\n"
    "standard output without FILE (or with \"-\").  If FILE is a directory,\n"
    "the object's last path component is used as the name inside it.  A\n"
    "file is written to a temporary name and renamed only once its SHA-256\n"
    "matches the server's; on a mismatch or a cut-short download nothing is\n"
    "left behind and the exit code is 7.\n";

static bool
get_opt(void *arg, int ch, char *val)
{
	const char	**vid = arg;

	if (ch != 'V')
		return false;
	*vid = val;
	return true;
}

/* Split FILE into the directory to open and the name inside it. */
static cf_err
target_of(const char *file, const char *key, char *dir, size_t dirsz,
    const char **name, struct cf_error *err)
{
	struct stat	 st;
	const char	*slash, *base;
	size_t		 n;

	base = strrchr(key, '/');
	base = base != NULL ? base + 1 : key;
	n = strlen(file);
	if ((stat(file, &st) == 0 && S_ISDIR(st.st_mode)) ||
	    (n > 0 && file[n - 1] == '/')) {
		if (*base == '\0' || strcmp(base, ".") == 0 ||
		    strcmp(base, "..") == 0)
			return cf_error_set(err, CF_E_INPUT, "the key has no "
			    "usable file name; give a file name");
		if (cf_strlcpy(dir, file, dirsz) >= dirsz)
			return cf_error_set(err, CF_E_LIMIT, "path too long");
		*name = base;
		return CF_OK;
	}
	slash = strrchr(file, '/');
	if (slash == NULL) {
		(void)cf_strlcpy(dir, ".", dirsz);
		*name = file;
	} else {
		n = (size_t)(slash - file);
		if (n == 0)
			n = 1;	/* "/name" */
		if (n >= dirsz)
			return cf_error_set(err, CF_E_LIMIT, "path too long");
		memcpy(dir, file, n);
		dir[n] = '\0';
		*name = slash + 1;
	}
	return CF_OK;
}

/* A JSON string even when s is not UTF-8 (a header from a broken or
 * hostile server, a key given on the command line): other bytes above
 * 0x7f become '?', so --json never prints nothing. */
static json_t *
jstr_lossy(const char *s)
{
	json_t	*j;
	char	*c;
	size_t	 i;

	if ((j = json_string(s)) != NULL || (c = strdup(s)) == NULL)
		return j;
	for (i = 0; c[i] != '\0'; i++)
		if ((unsigned char)c[i] >= 0x80)
			c[i] = '?';
	j = json_string(c);
	free(c);
	return j;
}

static void
info_json(const struct cf_obj_info *in, const char *ns, const char *key,
    const char *file)
{
	json_t	*v;

	v = json_pack("{s:o, s:o, s:o, s:I, s:o, s:o, s:o}", "ns",
	    jstr_lossy(ns), "key", jstr_lossy(key), "version_id",
	    jstr_lossy(in->version_id), "size", (json_int_t)in->size,
	    "sha256", jstr_lossy(in->sha256[0] != '\0' || in->sha256_segs[0] ==
	    '\0' ? in->sha256 : in->sha256_segs), "content_type",
	    jstr_lossy(in->content_type), "last_modified",
	    jstr_lossy(in->last_modified));
	if (v == NULL) {
		cf_cli_warnx("out of memory printing --json");
		return;
	}
	/* Completed by reference: sha256 is of its segments' digests
	 * (docs/api.md, "Digests"). */
	if (in->sha256[0] == '\0' && in->sha256_segs[0] != '\0')
		(void)json_object_set_new(v, "sha256_of", json_string(
		    "segments"));
	if (file != NULL)
		(void)json_object_set_new(v, "file", jstr_lossy(file));
	if (in->meta != NULL)
		(void)json_object_set(v, "meta", in->meta);
	(void)json_object_set_new(v, "labels", in->labels != NULL ?
	    json_incref(in->labels) : json_object());
	cf_cli_print_json(v);
	json_decref(v);
}

int
cf_cmd_get(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "version", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_obj_info	 info;
	struct cf_buf		 url;
	const char		*vid = NULL, *name = NULL;
	char			**ops, *ns = NULL, *key = NULL;
	char			 dir[CF_CLI_PATH_MAX], sz[32], sk[1100];
	int			 nops, ex, dfd = -1;
	bool			 to_stdout;
	cf_err			 rc;

	memset(&info, 0, sizeof(info));
	cf_obj_info_clear(&info);
	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	ex = cf_cli_parse(argc, argv, get_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, get_opt, &vid, 1, 2, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	to_stdout = nops == 1 || strcmp(ops[1], "-") == 0;
	rc = cf_cli_split_nskey(ops[0], true, &ns, &key, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc != CF_OK)
		goto out;
	if (to_stdout) {
		rc = cf_cli_obj_path(&url, ns, "objects", key, &err);
		if (rc == CF_OK && vid != NULL) {
			rc = cf_buf_append_str(&url, "?version=", &err);
			if (rc == CF_OK)
				rc = cf_cli_urlenc(&url, vid, false, &err);
		}
		if (rc == CF_OK)
			rc = cf_http_get_fd(s.h, url.data, STDOUT_FILENO, key,
			    &info, &err);
		goto out;
	}
	rc = target_of(ops[1], key, dir, sizeof(dir), &name, &err);
	if (rc != CF_OK)
		goto out;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		/* A directory that does not exist (or a file in its path) is
		 * a missing local path, exit 5 as for put's input file. */
		rc = cf_error_sys(&err, errno == ENOENT || errno == ENOTDIR ?
		    CF_E_NOTFOUND : CF_E_IO, "cannot open directory %s", dir);
		goto out;
	}
	rc = cf_cli_get_to_file(s.h, ns, key, vid, dfd, name, key, &info,
	    &err);
	if (rc != CF_OK)
		goto out;
	if (o.json)
		info_json(&info, ns, key, ops[1]);
	else if (!o.quiet) {
		cf_cli_fmt_size((uint64_t)info.size, sz, sizeof(sz));
		cf_cli_sanitize(key, sk, sizeof(sk));
		(void)printf("downloaded %s/%s -> %s%s%s  version %s  %s  "
		    "sha256 verified\n", ns, sk, dir, dir[strlen(dir) - 1] ==
		    '/' ? "" : "/", name, info.version_id, sz);
	}
out:
	ex = cf_cli_finish(&s, rc, &err);
done:
	if (dfd != -1)
		(void)close(dfd);
	cf_obj_info_clear(&info);
	cf_buf_free(&url);
	cf_free(ns);
	cf_free(key);
	cf_cli_sess_close(&s);
	return ex;
}

/* ---- head ---- */

static const char head_usage[] =
    "usage: coffer head NS/KEY [--version ID] [--json]\n"
    "\n"
    "Show the size, SHA-256, version, content type, time and metadata of\n"
    "the latest version of KEY (or version ID), and the labels of KEY,\n"
    "without downloading it.  When KEY is no object but an artifact's\n"
    "name, show its latest version: number, kind, digest, size, files,\n"
    "sensitivity and metadata.\n";

/* KEY is no object: its latest artifact version, if it names one
 * (printed; CF_E_NOTFOUND when it does not). */
static cf_err
head_artifact(struct cf_cli_sess *s, const struct cf_cli_opts *o,
    const char *ns, const char *name, struct cf_error *err)
{
	struct cf_buf	 url;
	json_t		*v = NULL, *mv;
	const char	*mk;
	char		 sv[512], date[24];
	cf_err		 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	rc = cf_cli_obj_path(&url, ns, "artifacts", name, err);
	if (rc == CF_OK)
		rc = cf_http_json(s->h, "GET", url.data, NULL, &v, err);
	if (rc != CF_OK)
		goto out;
	if (o->json) {
		(void)json_object_del(v, "manifest");
		cf_cli_print_json(v);
		goto out;
	}
	cf_cli_sanitize(name, sv, sizeof(sv));
	(void)printf("artifact:      %s/%s@%lld\n", ns, sv,
	    (long long)json_integer_value(json_object_get(v, "version")));
	(void)printf("version:       %s\n", cf_cli_jstr(v, "version_id",
	    "-"));
	(void)printf("kind:          %s\n", cf_cli_jstr(v, "kind", "-"));
	(void)printf("digest:        %s\n", cf_cli_jstr(v, "digest", "-"));
	(void)printf("size:          %lld\n",
	    (long long)json_integer_value(json_object_get(v, "size")));
	(void)printf("files:         %lld\n",
	    (long long)json_integer_value(json_object_get(v, "files")));
	(void)printf("sensitivity:   %s\n", cf_cli_jstr(v, "sensitivity",
	    "-"));
	cf_cli_fmt_time(cf_cli_jstr(v, "created", "-"), date, sizeof(date));
	cf_cli_sanitize(cf_cli_jstr(v, "created_by", "-"), sv, sizeof(sv));
	(void)printf("created:       %s by %s\n", date, sv);
	json_object_foreach(json_object_get(v, "meta"), mk, mv) {
		cf_cli_sanitize(json_string_value(mv), sv, sizeof(sv));
		(void)printf("meta %s: %s\n", mk, sv);
	}
out:
	json_decref(v);
	cf_buf_free(&url);
	return rc;
}

int
cf_cmd_head(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "version", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_obj_info	 info;
	struct cf_buf		 url;
	const char		*vid = NULL, *mk;
	char			**ops, *ns = NULL, *key = NULL;
	char			 sv[512];
	json_t			*mv;
	int			 nops, ex;
	cf_err			 rc;

	memset(&info, 0, sizeof(info));
	cf_obj_info_clear(&info);
	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	ex = cf_cli_parse(argc, argv, head_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, get_opt, &vid, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	rc = cf_cli_split_nskey(ops[0], true, &ns, &key, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_cli_obj_path(&url, ns, "objects", key, &err);
	if (rc == CF_OK && vid != NULL) {
		rc = cf_buf_append_str(&url, "?version=", &err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, vid, false, &err);
	}
	if (rc == CF_OK)
		rc = cf_http_head(s.h, url.data, &info, &err);
	if (rc == CF_E_NOTFOUND && vid == NULL) {
		struct cf_error	aerr = { 0 };

		/* No object: perhaps an artifact of that name.  If not,
		 * the object's 404 is the answer. */
		if (head_artifact(&s, &o, ns, key, &aerr) == CF_OK) {
			cf_error_clear(&err);
			rc = CF_OK;
		}
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	if (o.json) {
		info_json(&info, ns, key, NULL);
		goto out;
	}
	cf_cli_sanitize(key, sv, sizeof(sv));
	(void)printf("key:           %s/%s\n", ns, sv);
	(void)printf("version:       %s\n", info.version_id);
	(void)printf("size:          %lld\n", (long long)info.size);
	if (info.sha256[0] == '\0' && info.sha256_segs[0] != '\0')
		(void)printf("sha256:        %s (of its segments' SHA-256s)\n",
		    info.sha256_segs);
	else
		(void)printf("sha256:        %s\n", info.sha256);
	(void)printf("content type:  %s\n", info.content_type);
	(void)printf("last modified: %s\n", info.last_modified);
	json_object_foreach(info.meta, mk, mv) {
		cf_cli_sanitize(json_string_value(mv), sv, sizeof(sv));
		(void)printf("meta %s: %s\n", mk, sv);
	}
	json_object_foreach(info.labels, mk, mv) {
		cf_cli_sanitize(json_string_value(mv), sv, sizeof(sv));
		(void)printf("label %s: %s\n", mk, sv);
	}
out:
	ex = cf_cli_finish(&s, rc, &err);
done:
	cf_obj_info_clear(&info);
	cf_buf_free(&url);
	cf_free(ns);
	cf_free(key);
	cf_cli_sess_close(&s);
	return ex;
}

/* ---- rm ---- */

static const char rm_usage[] =
    "usage: coffer rm NS/KEY [--json] [--quiet]\n"
    "\n"
    "Delete KEY: adds a delete marker as its latest version.  Older versions\n"
    "stay readable with `coffer get --version`.\n";

int
cf_cmd_rm(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	char			**ops, *ns = NULL, *key = NULL, sk[1100];
	char			 sv[160];
	const char		*vid;
	json_t			*v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	ex = cf_cli_parse(argc, argv, rm_usage, CF_CLI_COMMON_SHORTOPTS, lo,
	    NULL, NULL, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	rc = cf_cli_split_nskey(ops[0], true, &ns, &key, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_cli_obj_path(&url, ns, "objects", key, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "DELETE", url.data, NULL, &v, &err);
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(v);
		else if (!o.quiet) {
			vid = json_string_value(json_object_get(v,
			    "version_id"));
			cf_cli_sanitize(key, sk, sizeof(sk));
			cf_cli_sanitize(vid != NULL ? vid : "?", sv,
			    sizeof(sv));
			(void)printf("deleted %s/%s (delete marker %s)\n",
			    ns, sk, sv);
		}
	}
	ex = cf_cli_finish(&s, rc, &err);
done:
	json_decref(v);
	cf_buf_free(&url);
	cf_free(ns);
	cf_free(key);
	cf_cli_sess_close(&s);
	return ex;
}

/* ---- ls ---- */

static const char ls_usage[] =
    "usage: coffer ls NS[/PREFIX] [--recursive] [--json]\n"
    "\n"
    "List the objects of namespace NS whose keys start with PREFIX.  Like\n"
    "`aws s3 ls`, keys are rolled up at the next '/' after the prefix and\n"
    "shown as \"PRE name/\" lines; --recursive lists every key.  Follows\n"
    "pagination to the end.  --json prints one object\n"
    "{\"objects\":[...],\"prefixes\":[...]}.\n";

static bool
ls_opt(void *arg, int ch, char *val)
{
	bool	*rec = arg;

	if (ch != 'r')
		return false;
	*rec = true;
	return true;
}

cf_err
cf_cli_list(struct cf_http *h, const char *ns, const char *prefix,
    bool recursive, cf_cli_list_cb cb, void *arg, struct cf_error *err)
{
	struct cf_buf	 url;
	json_t		*page = NULL, *arr, *e;
	char		*after = NULL;
	const char	*next;
	size_t		 i, total = 0;
	cf_err		 rc = CF_OK;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 8);
	for (;;) {
		cf_buf_reset(&url);
		rc = cf_buf_append_str(&url, "/v1/ns/", err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, ns, false, err);
		if (rc == CF_OK)
			rc = cf_buf_printf(&url, err,
			    "/objects?limit=%d%s&prefix=", LIST_LIMIT,
			    recursive ? "" : "&delimiter=%2F");
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, prefix, false, err);
		if (rc == CF_OK && after != NULL) {
			rc = cf_buf_append_str(&url, "&after=", err);
			if (rc == CF_OK)
				rc = cf_cli_urlenc(&url, after, false, err);
		}
		if (rc != CF_OK)
			goto out;
		json_decref(page);
		page = NULL;
		rc = cf_http_json(h, "GET", url.data, NULL, &page, err);
		if (rc != CF_OK)
			goto out;
		if (!json_is_object(page)) {
			rc = cf_error_set(err, CF_E_INPUT, "bad listing from "
			    "the server");
			goto out;
		}
		arr = json_object_get(page, "prefixes");
		json_array_foreach(arr, i, e) {
			if (!json_is_string(e))
				continue;
			total++;
			rc = cb(arg, NULL, json_string_value(e), err);
			if (rc != CF_OK)
				goto out;
		}
		arr = json_object_get(page, "objects");
		json_array_foreach(arr, i, e) {
			if (!json_is_string(json_object_get(e, "key")))
				continue;
			total++;
			rc = cb(arg, e, NULL, err);
			if (rc != CF_OK)
				goto out;
		}
		if (!json_is_true(json_object_get(page, "truncated")))
			break;
		/* SEC: a server that pages forever (keys made up without
		 * end) must not keep us, or the memory of pull and
		 * ls --json, busy forever. */
		if (total > LIST_MAX) {
			rc = cf_error_set(err, CF_E_LIMIT, "the server's "
			    "listing exceeds %d entries", LIST_MAX);
			goto out;
		}
		next = json_string_value(json_object_get(page, "next"));
		if (next == NULL || *next == '\0' ||
		    (after != NULL && strcmp(next, after) <= 0)) {
			/* A server that does not advance would loop us. */
			rc = cf_error_set(err, CF_E_INPUT, "the server's "
			    "listing does not advance");
			goto out;
		}
		cf_free(after);
		after = cf_strdup(next);
		if (after == NULL) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
	}
out:
	cf_free(after);
	json_decref(page);
	cf_buf_free(&url);
	return rc;
}

struct ls_ctx {
	bool	 json;
	json_t	*objs;
	json_t	*pres;
	size_t	 n;
};

static cf_err
ls_cb(void *arg, const json_t *obj, const char *prefix, struct cf_error *err)
{
	struct ls_ctx	*c = arg;
	char		 sk[1100], date[24];
	json_int_t	 size;
	int		 rc;

	c->n++;
	if (c->json) {
		if (obj != NULL)
			rc = json_array_append(c->objs, (json_t *)(uintptr_t)
			    obj);
		else
			rc = json_array_append_new(c->pres,
			    json_string(prefix));
		if (rc != 0)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		return CF_OK;
	}
	if (prefix != NULL) {
		cf_cli_sanitize(prefix, sk, sizeof(sk));
		(void)printf("%30s %s\n", "PRE", sk);
		return CF_OK;
	}
	size = json_integer_value(json_object_get(obj, "size"));
	cf_cli_sanitize(cf_cli_jstr(obj, "key", "?"), sk, sizeof(sk));
	cf_cli_fmt_time(cf_cli_jstr(obj, "created", "-"), date, sizeof(date));
	(void)printf("%19s %10lld %s\n", date, (long long)size, sk);
	return CF_OK;
}

int
cf_cmd_ls(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "recursive", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct ls_ctx		 c = { 0 };
	char			**ops, *ns = NULL, *prefix = NULL;
	bool			 rec = false;
	json_t			*v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	ex = cf_cli_parse(argc, argv, ls_usage, CF_CLI_COMMON_SHORTOPTS "r",
	    lo, ls_opt, &rec, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	c.json = o.json;
	c.objs = json_array();
	c.pres = json_array();
	if (c.objs == NULL || c.pres == NULL) {
		rc = cf_error_set(&err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	rc = cf_cli_split_nskey(ops[0], false, &ns, &prefix, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_cli_list(s.h, ns, prefix, rec, ls_cb, &c, &err);
	if (rc == CF_OK && o.json) {
		v = json_pack("{s:O, s:O}", "objects", c.objs, "prefixes",
		    c.pres);
		if (v == NULL)
			rc = cf_error_set(&err, CF_E_NOMEM, "out of memory");
		else
			cf_cli_print_json(v);
	}
out:
	ex = cf_cli_finish(&s, rc, &err);
done:
	json_decref(v);
	json_decref(c.objs);
	json_decref(c.pres);
	cf_free(ns);
	cf_free(prefix);
	cf_cli_sess_close(&s);
	return ex;
}

/* ---- versions ---- */

static const char versions_usage[] =
    "usage: coffer versions NS/NAME [--object] [--json]\n"
    "\n"
    "List the versions of artifact NAME (number, time, creator, kind,\n"
    "sensitivity, size, digest, stages), newest first; with --object, or\n"
    "when there is no artifact of that name, every version of object KEY,\n"
    "delete markers included.\n";

static bool
versions_opt(void *arg, int ch, char *val)
{
	bool	*object_only = arg;

	(void)val;
	if (ch != 'O')
		return false;
	*object_only = true;
	return true;
}

int
cf_cmd_versions(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "object", no_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 }
	};
	bool			 object_only = false, fallback = false;
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	char			**ops, *ns = NULL, *key = NULL;
	char			 vid[160], by[128], date[24], sha[13];
	json_t			*v = NULL, *arr, *e;
	size_t			 i;
	bool			 latest;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	ex = cf_cli_parse(argc, argv, versions_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, versions_opt, &object_only, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	rc = cf_cli_split_nskey(ops[0], true, &ns, &key, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	/* An artifact's versions; an object's when there is no artifact
	 * of that name (or with --object). */
	if (rc == CF_OK && !object_only) {
		rc = cf_cli_art_versions(&s, &o, ns, key, &err, &fallback);
		if (rc != CF_OK || !fallback)
			goto out;
	}
	if (rc == CF_OK)
		rc = cf_cli_obj_path(&url, ns, "versions", key, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "GET", url.data, NULL, &v, &err);
	if (rc != CF_OK)
		goto out;
	if (o.json) {
		cf_cli_print_json(v);
		goto out;
	}
	arr = json_object_get(v, "versions");
	json_array_foreach(arr, i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "version_id", "?"), vid,
		    sizeof(vid));
		cf_cli_sanitize(cf_cli_jstr(e, "created_by", "-"), by,
		    sizeof(by));
		cf_cli_fmt_time(cf_cli_jstr(e, "created", "-"), date,
		    sizeof(date));
		cf_cli_sanitize(cf_cli_jstr(e, "sha256", "-"), sha,
		    sizeof(sha));
		latest = json_is_true(json_object_get(e, "latest"));
		if (json_is_true(json_object_get(e, "delete_marker")))
			(void)printf("%s  %19s  %10s  %-12s delete marker%s\n",
			    vid, date, "-", by, latest ? " (latest)" : "");
		else
			(void)printf("%s  %19s  %10lld  %-12s %.12s%s\n", vid,
			    date, (long long)json_integer_value(
			    json_object_get(e, "size")), by, sha,
			    latest ? "  (latest)" : "");
	}
out:
	ex = cf_cli_finish(&s, rc, &err);
done:
	json_decref(v);
	cf_buf_free(&url);
	cf_free(ns);
	cf_free(key);
	cf_cli_sess_close(&s);
	return ex;
}

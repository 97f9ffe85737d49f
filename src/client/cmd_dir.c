/* src/client/cmd_dir.c: whole directories: `coffer push` and `coffer pull`.
 *
 * push walks DIR with openat()/fdopendir() (so a directory renamed during
 * the walk cannot redirect it), uploads each regular file to
 * PREFIX/relative/path in byte order, and skips symlinks and special
 * files with a warning.
 *
 * pull lists PREFIX recursively and downloads each object to DIR/relative
 * path.  SEC: keys are chosen by whoever can write the namespace, so each
 * relative path is checked by cf_cli_relpath_safe() ("..", absolute,
 * empty components are refused), and the directories below DIR are
 * opened one component at a time with O_NOFOLLOW, so neither a crafted key
 * nor a symlink planted in DIR can make us write outside DIR. */
#include <dirent.h>
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
#include "base/testhook.h"
#include "crypto/crypto.h"
#include "client/client.h"
#include "client/client_int.h"

#define WALK_DEPTH_MAX	128

/* Normalize a prefix for push/pull: "" stays "", else it ends with '/'. */
static cf_err
dir_prefix(const char *p, char **out, struct cf_error *err)
{
	struct cf_buf	b;
	size_t		n = strlen(p);

	cf_buf_init(&b, CF_CLI_PATH_MAX);
	if (cf_buf_append_str(&b, p, err) != CF_OK ||
	    (n > 0 && p[n - 1] != '/' && cf_buf_append_str(&b, "/", err) !=
	    CF_OK)) {
		cf_buf_free(&b);
		return cf_error_set(err, CF_E_LIMIT, "prefix too long");
	}
	*out = cf_buf_take(&b);
	if (*out == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
}

/* ---- push ---- */

static const char push_usage[] =
    "usage: coffer push NS/NAME DIR [--kind KIND] [--meta NAME=VALUE]...\n"
    "           [--derived-from NS/NAME@VERSION]... [--sensitivity LEVEL]\n"
    "           [--one-pass] [--json] [--quiet]\n"
    "\n"
    "Push DIR as the next version of artifact NAME: upload every regular\n"
    "file below DIR to NS as NAME/relative/path (a file whose latest\n"
    "version there has the same SHA-256 is not uploaded again), then commit\n"
    "the manifest as one version.  Until then no version exists, so a push\n"
    "that stops half-way leaves none; running it again completes it.\n"
    "KIND: model, dataset, features, evaluation, hyperparameters, code,\n"
    "other.  Symlinks and special files are skipped with a warning.\n";

struct push_ctx {
	struct cf_http		*h;
	const struct cf_cli_opts *o;
	const char		*ns;
	const char		*prefix;
	const char		*root;
	json_t			*done;		/* version records (--json) */
	json_t			*skipped;
	json_t			*manifest;	/* [{path, version_id, ...}] */
	json_t			*meta;		/* --meta */
	json_t			*derived;	/* --derived-from */
	const char		*kind;
	const char		*sens;
	bool			 one_pass;
	bool			 bad_opt;
	uint64_t		 files;
	uint64_t		 bytes;
	uint64_t		 uploads;	/* files sent (not reused) */
	uint64_t		 stop_after;	/* test hook; 0: none */
};

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read the entry names of the directory dfd (not "." or ".."), sorted.
 * dfd is duplicated, the caller keeps its own. */
static cf_err
read_names(int dfd, const char *path, char ***out, size_t *count,
    struct cf_error *err)
{
	DIR		 *d = NULL;
	struct dirent	 *de;
	char		**v = NULL, **nv;
	size_t		  n = 0, cap = 0, i;
	int		  fd;
	cf_err		  rc = CF_OK;

	fd = dup(dfd);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		rc = cf_error_sys(err, CF_E_IO, "cannot read %s", path);
		if (fd != -1)
			(void)close(fd);
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = cf_error_sys(err, CF_E_IO,
				    "cannot read %s", path);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			nv = cf_reallocarray(v, cap, sizeof(*v));
			if (nv == NULL) {
				rc = cf_error_set(err, CF_E_NOMEM,
				    "out of memory");
				goto out;
			}
			v = nv;
		}
		v[n] = cf_strdup(de->d_name);
		if (v[n] == NULL) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (rc != CF_OK)
		goto out;
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_names);
	*out = v;
	*count = n;
	v = NULL;
out:
	if (v != NULL) {
		for (i = 0; i < n; i++)
			cf_free(v[i]);
		cf_free(v);
	}
	if (d != NULL)
		(void)closedir(d);
	return rc;
}

/* The SHA-256 (hex) of fd's contents; fd is rewound. */
static cf_err
hash_fd(int fd, const char *label, char hex[CF_SHA256_LEN * 2 + 1],
    uint64_t *size, struct cf_error *err)
{
	struct cf_sha256	*h = NULL;
	uint8_t			 d[CF_SHA256_LEN], buf[65536];
	ssize_t			 n;
	cf_err			 rc;

	*size = 0;
	rc = cf_sha256_new(&h, err);
	if (rc != CF_OK)
		return rc;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cf_sha256_free(h);
			return cf_error_sys(err, CF_E_IO, "cannot read %s",
			    label);
		}
		cf_sha256_update(h, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	cf_sha256_final(h, d);
	cf_sha256_free(h);
	cf_hex_encode(d, sizeof(d), hex);
	if (lseek(fd, 0, SEEK_SET) == -1)
		return cf_error_sys(err, CF_E_IO, "cannot rewind %s", label);
	return CF_OK;
}

static cf_err
push_file(struct push_ctx *c, int dfd, const char *name, const char *rel,
    struct cf_error *err)
{
	struct cf_buf		 key, url;
	struct cf_obj_info	 info;
	json_t			*v = NULL, *m;
	char			 sz[32], hex[CF_SHA256_LEN * 2 + 1];
	uint64_t		 size;
	bool			 reused = false;
	int			 fd = -1;
	cf_err			 rc;

	cf_buf_init(&key, CF_CLI_PATH_MAX * 2);
	cf_buf_init(&url, CF_CLI_PATH_MAX * 8);
	rc = cf_buf_printf(&key, err, "%s%s", c->prefix, rel);
	if (rc != CF_OK)
		goto out;
	/* SEC: O_NOFOLLOW: the entry was a regular file when we looked;
	 * if it has been swapped for a link since, refuse. */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "cannot open %s/%s", c->root,
		    rel);
		goto out;
	}
	/* A retry of a push that stopped: a file already there (its
	 * latest version has this content) is not sent again. */
	rc = hash_fd(fd, rel, hex, &size, err);
	if (rc == CF_OK)
		rc = cf_cli_obj_path(&url, c->ns, "objects", key.data, err);
	if (rc != CF_OK)
		goto out;
	memset(&info, 0, sizeof(info));
	cf_obj_info_clear(&info);
	if (cf_http_head(c->h, url.data, &info, err) == CF_OK &&
	    info.status == 200 && strcmp(info.sha256, hex) == 0 &&
	    info.size >= 0 && (uint64_t)info.size == size &&
	    strlen(info.version_id) == 32) {
		v = json_pack("{s:s, s:s, s:s, s:I}", "key", key.data,
		    "version_id", info.version_id, "sha256", hex, "size",
		    (json_int_t)size);
		reused = v != NULL;
	}
	cf_obj_info_clear(&info);
	cf_error_clear(err);
	if (!reused) {
		if (c->stop_after > 0 && c->uploads >= c->stop_after) {
			rc = cf_error_set(err, CF_E_IO, "push stopped after "
			    "%llu uploads (COFFER_TEST_PUSH_STOP_AFTER)",
			    (unsigned long long)c->uploads);
			goto out;
		}
		rc = cf_cli_put_fd(c->h, c->ns, key.data, fd, rel, NULL, NULL,
		    c->one_pass, &v, err);
		if (rc != CF_OK)
			goto out;
		c->uploads++;
	}
	if (v == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	m = json_pack("{s:s, s:O, s:O, s:O}", "path", rel, "version_id",
	    json_object_get(v, "version_id"), "sha256", json_object_get(v,
	    "sha256"), "size", json_object_get(v, "size"));
	if (m == NULL || json_array_append_new(c->manifest, m) != 0) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	c->files++;
	c->bytes += (uint64_t)json_integer_value(json_object_get(v, "size"));
	if (c->o->json) {
		if (json_array_append(c->done, v) != 0) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
	} else if (!c->o->quiet) {
		cf_cli_fmt_size((uint64_t)json_integer_value(json_object_get(v,
		    "size")), sz, sizeof(sz));
		(void)printf("%s %s -> %s/%s (%s)\n", reused ? "unchanged" :
		    "uploaded", rel, c->ns, key.data, sz);
	}
out:
	if (fd != -1)
		(void)close(fd);
	json_decref(v);
	cf_buf_free(&key);
	cf_buf_free(&url);
	return rc;
}

static cf_err
push_dir(struct push_ctx *c, int dfd, const char *relbase, int depth,
    struct cf_error *err)
{
	struct stat	  st;
	struct cf_buf	  rel;
	char		**names = NULL;
	size_t		  n = 0, i;
	int		  sub = -1;
	cf_err		  rc;

	cf_buf_init(&rel, CF_CLI_PATH_MAX);
	if (depth > WALK_DEPTH_MAX) {
		rc = cf_error_set(err, CF_E_LIMIT, "%s/%s: directories nested "
		    "deeper than %d", c->root, relbase, WALK_DEPTH_MAX);
		goto out;
	}
	rc = read_names(dfd, *relbase != '\0' ? relbase : c->root, &names,
	    &n, err);
	if (rc != CF_OK)
		goto out;
	for (i = 0; i < n; i++) {
		cf_buf_reset(&rel);
		rc = cf_buf_printf(&rel, err, "%s%s%s", relbase,
		    *relbase != '\0' ? "/" : "", names[i]);
		if (rc != CF_OK)
			goto out;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == -1) {
			rc = cf_error_sys(err, CF_E_IO, "cannot stat %s/%s",
			    c->root, rel.data);
			goto out;
		}
		if (S_ISLNK(st.st_mode) || (!S_ISREG(st.st_mode) &&
		    !S_ISDIR(st.st_mode))) {
			cf_cli_warnx("skipping %s %s/%s", S_ISLNK(st.st_mode) ?
			    "symlink" : "special file", c->root, rel.data);
			(void)json_array_append_new(c->skipped,
			    json_string(rel.data));
			continue;
		}
		if (S_ISREG(st.st_mode)) {
			rc = push_file(c, dfd, names[i], rel.data, err);
			if (rc != CF_OK)
				goto out;
			continue;
		}
		sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (sub == -1) {
			rc = cf_error_sys(err, CF_E_IO, "cannot open %s/%s",
			    c->root, rel.data);
			goto out;
		}
		rc = push_dir(c, sub, rel.data, depth + 1, err);
		(void)close(sub);
		sub = -1;
		if (rc != CF_OK)
			goto out;
	}
out:
	for (i = 0; i < n; i++)
		cf_free(names[i]);
	cf_free(names);
	cf_buf_free(&rel);
	return rc;
}

static bool
push_opt(void *arg, int ch, char *val)
{
	struct push_ctx	*c = arg;
	char		*eq;

	switch (ch) {
	case '1':
		c->one_pass = true;
		return true;
	case 'k':
		c->kind = val;
		return true;
	case 'S':
		c->sens = val;
		return true;
	case 'm':
		eq = strchr(val, '=');
		if (eq == NULL) {
			cf_cli_errx("--meta %s: expected NAME=VALUE", val);
			c->bad_opt = true;
			return true;
		}
		*eq = '\0';
		if (json_object_set_new(c->meta, val, json_string(eq + 1)) !=
		    0)
			c->bad_opt = true;
		return true;
	case 'd':
		if (json_array_append_new(c->derived, json_string(val)) != 0)
			c->bad_opt = true;
		return true;
	default:
		return false;
	}
}

/* Commit the manifest: the artifact version. */
static cf_err
push_commit(struct push_ctx *c, const char *name, json_t **out,
    struct cf_error *err)
{
	struct cf_buf	 url;
	json_t		*body;
	cf_err		 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	body = json_pack("{s:O, s:O, s:O, s:s*, s:s*}", "files", c->manifest,
	    "meta", c->meta, "derived_from", c->derived, "kind", c->kind,
	    "sensitivity", c->sens);
	if (body == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	rc = cf_cli_obj_path(&url, c->ns, "artifacts", name, err);
	if (rc == CF_OK)
		rc = cf_http_json(c->h, "POST", url.data, body, out, err);
out:
	json_decref(body);
	cf_buf_free(&url);
	return rc;
}

int
cf_cmd_push(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "one-pass", no_argument, NULL, '1' },
		{ "kind", required_argument, NULL, 'k' },
		{ "meta", required_argument, NULL, 'm' },
		{ "derived-from", required_argument, NULL, 'd' },
		{ "sensitivity", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct push_ctx		 c;
	char			**ops, *ns = NULL, *p0 = NULL, *prefix = NULL;
	char			*sel = NULL;
	const char		*stop;
	char			 sz[32];
	json_t			*v, *art = NULL;
	uint64_t		 n;
	int			 nops, ex, dfd = -1;
	cf_err			 rc;

	memset(&c, 0, sizeof(c));
	c.meta = json_object();
	c.derived = json_array();
	c.manifest = json_array();
	c.done = json_array();
	c.skipped = json_array();
	ex = cf_cli_parse(argc, argv, push_usage, CF_CLI_COMMON_SHORTOPTS, lo,
	    push_opt, &c, 2, 2, &o, &ops, &nops);
	if (ex < 0 && c.bad_opt)
		ex = CF_EXIT_USAGE;
	if (ex >= 0) {
		json_decref(c.meta);
		json_decref(c.derived);
		json_decref(c.manifest);
		json_decref(c.done);
		json_decref(c.skipped);
		return ex;
	}
	if (c.done == NULL || c.skipped == NULL || c.meta == NULL ||
	    c.derived == NULL || c.manifest == NULL) {
		rc = cf_error_set(&err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	stop = cf_test_hook("COFFER_TEST_PUSH_STOP_AFTER");
	if (stop != NULL && cf_parse_u64(stop, 1, UINT32_MAX, &n, NULL) ==
	    CF_OK)
		c.stop_after = n;
	rc = cf_cli_art_ref(ops[0], &ns, &p0, &sel, &err);
	if (rc == CF_OK && sel != NULL)
		rc = cf_error_set(&err, CF_E_INPUT, "push makes the next "
		    "version: NS/NAME without @VERSION");
	if (rc == CF_OK)
		rc = dir_prefix(p0, &prefix, &err);
	if (rc != CF_OK)
		goto out;
	dfd = open(ops[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		rc = cf_error_sys(&err, errno == ENOENT ? CF_E_NOTFOUND :
		    CF_E_INPUT, "cannot open directory %s", ops[1]);
		goto out;
	}
	rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc != CF_OK)
		goto out;
	c.h = s.h;
	c.o = &o;
	c.ns = ns;
	c.prefix = prefix;
	c.root = ops[1];
	rc = push_dir(&c, dfd, "", 0, &err);
	if (rc == CF_OK)
		rc = push_commit(&c, p0, &art, &err);
	if (rc != CF_OK)
		goto out;
	if (o.json) {
		v = json_pack("{s:I, s:O, s:O}", "bytes", (json_int_t)c.bytes,
		    "uploaded", c.done, "skipped", c.skipped);
		if (v != NULL && json_object_update_missing(v, art) == 0)
			cf_cli_print_json(v);
		json_decref(v);
	} else if (!o.quiet) {
		cf_cli_fmt_size(c.bytes, sz, sizeof(sz));
		(void)printf("pushed %s/%s@%lld: %llu files (%s), kind %s, "
		    "digest %s\n", ns, p0, (long long)json_integer_value(
		    json_object_get(art, "version")),
		    (unsigned long long)c.files, sz, cf_cli_jstr(art, "kind",
		    "?"), cf_cli_jstr(art, "digest", "?"));
	}
out:
	ex = cf_cli_finish(&s, rc, &err);
	if (dfd != -1)
		(void)close(dfd);
	json_decref(c.done);
	json_decref(c.skipped);
	json_decref(c.meta);
	json_decref(c.derived);
	json_decref(c.manifest);
	json_decref(art);
	cf_free(ns);
	cf_free(p0);
	cf_free(sel);
	cf_free(prefix);
	cf_cli_sess_close(&s);
	return ex;
}

/* ---- pull ---- */

static const char pull_usage[] =
    "usage: coffer pull NS/NAME[@VERSION|@STAGE] DIR [--as-of TIME]\n"
    "           [--json] [--quiet]\n"
    "\n"
    "Download a version of artifact NAME (the latest, number VERSION, the\n"
    "one a stage names, or the latest at TIME, RFC 3339 UTC) into DIR,\n"
    "verifying each file's SHA-256 against the manifest.  When there is no\n"
    "artifact NAME, every object under the prefix NAME/ is downloaded\n"
    "instead.  Keys whose relative path is not a plain relative path\n"
    "(\"..\" or empty components, a leading '/') are refused and never\n"
    "written; the others are downloaded and the exit code is then 10.\n"
    "Stops at the first transfer failure.\n";

static cf_err	open_parent(int rootfd, const char *rel, const char *root,
		    int *out, const char **base, struct cf_error *err);

/* Pull the artifact version art (its manifest) into rootfd. */
static cf_err
pull_artifact(struct cf_http *h, const struct cf_cli_opts *o, const char *ns,
    const json_t *art, int rootfd, const char *root, json_t *done,
    json_t *refused, uint64_t *files, uint64_t *bytes, struct cf_error *err)
{
	struct cf_obj_info	 info;
	struct cf_buf		 key;
	const char		*rel, *base = NULL, *name, *sha;
	char			 sk[1100], sz[32];
	json_t			*e, *v;
	size_t			 i;
	int			 dfd = -1;
	cf_err			 rc = CF_OK;

	cf_buf_init(&key, CF_CLI_PATH_MAX * 2);
	memset(&info, 0, sizeof(info));
	cf_obj_info_clear(&info);
	name = cf_cli_jstr(art, "name", "");
	json_array_foreach(json_object_get(art, "manifest"), i, e) {
		rel = cf_cli_jstr(e, "path", "");
		sha = cf_cli_jstr(e, "sha256", "");
		if (!cf_cli_relpath_safe(rel)) {
			/* SEC: never write outside DIR. */
			cf_cli_sanitize(rel, sk, sizeof(sk));
			cf_cli_errx("pull: refusing path \"%s\": not a plain "
			    "relative path below %s", sk, root);
			(void)json_array_append_new(refused, json_string(rel));
			continue;
		}
		cf_buf_reset(&key);
		rc = cf_buf_printf(&key, err, "%s/%s", name, rel);
		if (rc == CF_OK)
			rc = open_parent(rootfd, rel, root, &dfd, &base, err);
		if (rc != CF_OK)
			goto out;
		/* The version the manifest names, whatever came later. */
		rc = cf_cli_get_to_file(h, ns, key.data, cf_cli_jstr(e,
		    "version_id", NULL), dfd, base, rel, &info, err);
		(void)close(dfd);
		dfd = -1;
		if (rc != CF_OK)
			goto out;
		/* SEC: the manifest's digest, not only the one the object
		 * download came with. */
		if (strcmp(info.sha256, sha) != 0) {
			(void)unlinkat(rootfd, rel, 0);
			rc = cf_error_set(err, CF_E_INTEGRITY, "%s: SHA-256 "
			    "differs from the manifest's", rel);
			goto out;
		}
		(*files)++;
		*bytes += info.size > 0 ? (uint64_t)info.size : 0;
		if (o->json) {
			v = json_pack("{s:s, s:s, s:s, s:I, s:s}", "key",
			    key.data, "file", rel, "version_id",
			    info.version_id, "size", (json_int_t)info.size,
			    "sha256", info.sha256);
			if (v == NULL || json_array_append_new(done, v) != 0) {
				rc = cf_error_set(err, CF_E_NOMEM,
				    "out of memory");
				goto out;
			}
		} else if (!o->quiet) {
			cf_cli_sanitize(rel, sk, sizeof(sk));
			cf_cli_fmt_size((uint64_t)info.size, sz, sizeof(sz));
			(void)printf("downloaded %s/%s (%s, sha256 verified)\n",
			    root, sk, sz);
		}
		cf_obj_info_clear(&info);
	}
out:
	if (dfd != -1)
		(void)close(dfd);
	cf_obj_info_clear(&info);
	cf_buf_free(&key);
	return rc;
}

static cf_err
collect_cb(void *arg, const json_t *obj, const char *prefix,
    struct cf_error *err)
{
	json_t	*list = arg;

	(void)prefix;
	if (obj == NULL)
		return CF_OK;
	if (json_array_append(list, (json_t *)(uintptr_t)obj) != 0)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
}

/* Open (creating as needed) the directory holding rel below rootfd, one
 * component at a time and never through a symlink.  *base points into
 * rel at the file name. */
static cf_err
open_parent(int rootfd, const char *rel, const char *root, int *out,
    const char **base, struct cf_error *err)
{
	char		 comp[CF_CLI_PATH_MAX];
	const char	*p, *slash;
	size_t		 n;
	int		 dfd, nfd;

	dfd = dup(rootfd);
	if (dfd == -1)
		return cf_error_sys(err, CF_E_IO, "dup");
	p = rel;
	for (;;) {
		slash = strchr(p, '/');
		if (slash == NULL)
			break;
		n = (size_t)(slash - p);
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (mkdirat(dfd, comp, 0777) == -1 && errno != EEXIST) {
			(void)close(dfd);
			return cf_error_sys(err, CF_E_IO, "cannot create "
			    "%s/%.*s", root, (int)(slash - rel), rel);
		}
		/* SEC: O_NOFOLLOW: a symlink here would lead outside. */
		nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		(void)close(dfd);
		if (nfd == -1)
			return cf_error_sys(err, CF_E_IO, "cannot open "
			    "directory %s/%.*s%s", root, (int)(slash - rel),
			    rel, errno == ELOOP || errno == ENOTDIR ?
			    " (a symlink or file is in the way)" : "");
		dfd = nfd;
		p = slash + 1;
	}
	*out = dfd;
	*base = p;
	return CF_OK;
}

static cf_err
mkdir_p(const char *dir, struct cf_error *err)
{
	char	p[CF_CLI_PATH_MAX];
	size_t	i;

	if (cf_strlcpy(p, dir, sizeof(p)) >= sizeof(p))
		return cf_error_set(err, CF_E_LIMIT, "path too long");
	/* ENOTDIR: a file stands where a directory of the path should be;
	 * like a missing directory for get, CF_E_NOTFOUND (exit 5). */
	for (i = 1; p[i] != '\0'; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0777) == -1 && errno != EEXIST)
			return cf_error_sys(err, errno == ENOTDIR ?
			    CF_E_NOTFOUND : CF_E_IO, "cannot create %s", p);
		p[i] = '/';
	}
	if (mkdir(p, 0777) == -1 && errno != EEXIST)
		return cf_error_sys(err, errno == ENOTDIR ? CF_E_NOTFOUND :
		    CF_E_IO, "cannot create %s", p);
	return CF_OK;
}

static bool
pull_opt(void *arg, int ch, char *val)
{
	const char	**as_of = arg;

	if (ch != 'A')
		return false;
	*as_of = val;
	return true;
}

int
cf_cmd_pull(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "as-of", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_obj_info	 info;
	struct cf_buf		 url;
	const char		*as_of = NULL;
	char			*sel = NULL;
	json_t			*art = NULL;
	char			**ops, *ns = NULL, *p0 = NULL, *prefix = NULL;
	char			 sk[1100], sz[32];
	const char		*key, *rel, *base = NULL, *vid;
	json_t			*list = NULL, *done = NULL, *refused = NULL;
	json_t			*e, *v;
	uint64_t		 files = 0, bytes = 0;
	size_t			 i;
	int			 nops, ex, rootfd = -1, dfd = -1;
	cf_err			 rc;

	memset(&info, 0, sizeof(info));
	cf_obj_info_clear(&info);
	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	ex = cf_cli_parse(argc, argv, pull_usage, CF_CLI_COMMON_SHORTOPTS, lo,
	    pull_opt, &as_of, 2, 2, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	list = json_array();
	done = json_array();
	refused = json_array();
	if (list == NULL || done == NULL || refused == NULL) {
		rc = cf_error_set(&err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	rc = cf_cli_split_nskey(ops[0], false, &ns, &p0, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	/* An artifact version, if NAME is an artifact. */
	if (rc == CF_OK && *p0 != '\0') {
		cf_free(ns);
		cf_free(p0);
		ns = p0 = NULL;
		rc = cf_cli_art_ref(ops[0], &ns, &p0, &sel, &err);
		if (rc == CF_OK)
			rc = cf_cli_art_path(&url, ns, "artifacts", p0,
			    "version", sel, "as_of", as_of, &err);
		if (rc == CF_OK)
			rc = cf_http_json(s.h, "GET", url.data, NULL, &art,
			    &err);
		if (rc != CF_OK && sel == NULL && as_of == NULL &&
		    (strcmp(cf_http_error_code(s.h), "no_such_artifact") ==
		    0 || strcmp(cf_http_error_code(s.h), "invalid_name") ==
		    0)) {
			/* No such artifact: the objects under NAME/. */
			cf_error_clear(&err);
			cf_free(ns);
			cf_free(p0);
			ns = p0 = NULL;
			rc = cf_cli_split_nskey(ops[0], false, &ns, &p0, &err);
		}
	} else if (rc == CF_OK && (as_of != NULL))
		rc = cf_error_set(&err, CF_E_INPUT, "--as-of needs NS/NAME");
	if (rc == CF_OK && art != NULL) {
		rc = mkdir_p(ops[1], &err);
		if (rc == CF_OK) {
			rootfd = open(ops[1], O_RDONLY | O_DIRECTORY |
			    O_CLOEXEC);
			if (rootfd == -1)
				rc = cf_error_sys(&err, errno == ENOENT ||
				    errno == ENOTDIR ? CF_E_NOTFOUND : CF_E_IO,
				    "cannot open directory %s", ops[1]);
		}
		if (rc == CF_OK)
			rc = pull_artifact(s.h, &o, ns, art, rootfd, ops[1],
			    done, refused, &files, &bytes, &err);
		if (rc == CF_OK && !o.json && !o.quiet) {
			cf_cli_fmt_size(bytes, sz, sizeof(sz));
			(void)printf("pulled %s/%s@%lld: %llu files (%s) into "
			    "%s\n", ns, p0, (long long)json_integer_value(
			    json_object_get(art, "version")),
			    (unsigned long long)files, sz, ops[1]);
		} else if (rc == CF_OK) {
			v = json_pack("{s:I, s:I, s:O, s:O, s:O}", "files",
			    (json_int_t)files, "bytes", (json_int_t)bytes,
			    "downloaded", done, "refused", refused, "artifact",
			    art);
			if (v != NULL && o.json)
				cf_cli_print_json(v);
			json_decref(v);
		}
		goto out;
	}
	if (rc == CF_OK)
		rc = dir_prefix(p0, &prefix, &err);
	if (rc == CF_OK)
		rc = cf_cli_list(s.h, ns, prefix, true, collect_cb, list, &err);
	if (rc == CF_OK)
		rc = mkdir_p(ops[1], &err);
	if (rc != CF_OK)
		goto out;
	rootfd = open(ops[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd == -1) {
		rc = cf_error_sys(&err, errno == ENOENT || errno == ENOTDIR ?
		    CF_E_NOTFOUND : CF_E_IO, "cannot open directory %s",
		    ops[1]);
		goto out;
	}
	json_array_foreach(list, i, e) {
		key = cf_cli_jstr(e, "key", "");
		rel = cf_cli_key_rel(key, prefix);
		if (rel == NULL || !cf_cli_relpath_safe(rel)) {
			/* SEC: never write outside DIR. */
			cf_cli_sanitize(key, sk, sizeof(sk));
			cf_cli_errx("pull: refusing key \"%s\": its path is "
			    "not a plain relative path below %s (\"..\", "
			    "empty component or leading '/')", sk, ops[1]);
			(void)json_array_append_new(refused,
			    json_string(key));
			continue;
		}
		rc = open_parent(rootfd, rel, ops[1], &dfd, &base, &err);
		if (rc != CF_OK)
			goto out;
		/* The version listed, so a concurrent put cannot mix. */
		vid = cf_cli_jstr(e, "version_id", NULL);
		rc = cf_cli_get_to_file(s.h, ns, key, vid, dfd, base, rel,
		    &info, &err);
		(void)close(dfd);
		dfd = -1;
		if (rc != CF_OK)
			goto out;
		files++;
		bytes += info.size > 0 ? (uint64_t)info.size : 0;
		if (o.json) {
			v = json_pack("{s:s, s:s, s:s, s:I, s:s}", "key", key,
			    "file", rel, "version_id", info.version_id, "size",
			    (json_int_t)info.size, "sha256", info.sha256);
			if (v == NULL || json_array_append_new(done, v) != 0) {
				rc = cf_error_set(&err, CF_E_NOMEM,
				    "out of memory");
				goto out;
			}
		} else if (!o.quiet) {
			cf_cli_sanitize(rel, sk, sizeof(sk));
			cf_cli_fmt_size((uint64_t)info.size, sz, sizeof(sz));
			(void)printf("downloaded %s/%s (%s, sha256 verified)\n",
			    ops[1], sk, sz);
		}
	}
	if (o.json) {
		v = json_pack("{s:I, s:I, s:O, s:O}", "files",
		    (json_int_t)files, "bytes", (json_int_t)bytes,
		    "downloaded", done, "refused", refused);
		if (v != NULL)
			cf_cli_print_json(v);
		json_decref(v);
	} else if (!o.quiet) {
		cf_cli_fmt_size(bytes, sz, sizeof(sz));
		(void)printf("pulled %llu files (%s) into %s%s\n",
		    (unsigned long long)files, sz, ops[1],
		    json_array_size(refused) > 0 ? "; some keys refused" : "");
	}
out:
	ex = cf_cli_finish(&s, rc, &err);
	if (ex == CF_EXIT_OK && json_array_size(refused) > 0)
		ex = CF_EXIT_INPUT;
	if (dfd != -1)
		(void)close(dfd);
	if (rootfd != -1)
		(void)close(rootfd);
	cf_obj_info_clear(&info);
	json_decref(list);
	json_decref(done);
	json_decref(refused);
	json_decref(art);
	cf_free(ns);
	cf_free(p0);
	cf_free(sel);
	cf_free(prefix);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

/* src/client/config.c: the user's CLI config file and the COFFER_*
 * environment.
 *
 * The file is JSON: {"server": URL, "token": "cft_...", "ca_cert": PATH}.
 * SEC: it holds the API token, like ~/.aws/credentials: it is created with
 * mode 0600 in a 0700 directory and written atomically, and every copy of
 * the token we hold is wiped when freed. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "client/client_int.h"

#define CFG_FILE_MAX	(64u << 10)

static void
free_secret(char *s)
{
	if (s != NULL) {
		cf_wipe(s, strlen(s));
		cf_free(s);
	}
}

void
cf_cfg_free(struct cf_cfg *c)
{
	if (c == NULL)
		return;
	cf_free(c->server);
	free_secret(c->token);
	cf_free(c->ca_cert);
	cf_free(c);
}

cf_err
cf_cfg_set(char **field, const char *val, struct cf_error *err)
{
	char	*v = NULL;

	if (val != NULL) {
		v = cf_strdup(val);
		if (v == NULL)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	free_secret(*field);
	*field = v;
	return CF_OK;
}

cf_err
cf_cfg_path(char *out, size_t outsz, struct cf_error *err)
{
	const char	*env, *home;
	struct passwd	*pw;
	int		 n;

	env = getenv(CF_ENV_CONFIG);
	if (env != NULL && *env != '\0') {
		if (cf_strlcpy(out, env, outsz) >= outsz)
			return cf_error_set(err, CF_E_LIMIT,
			    "%s is too long", CF_ENV_CONFIG);
		return CF_OK;
	}
	env = getenv("XDG_CONFIG_HOME");
	/* The XDG spec says relative values are invalid and ignored. */
	if (env != NULL && env[0] == '/') {
		n = snprintf(out, outsz, "%s/coffer/config.json", env);
	} else {
		home = getenv("HOME");
		if (home == NULL || *home == '\0') {
			pw = getpwuid(getuid());
			home = pw != NULL ? pw->pw_dir : NULL;
		}
		if (home == NULL || *home == '\0')
			return cf_error_set(err, CF_E_INPUT,
			    "cannot find the config directory: set HOME, "
			    "XDG_CONFIG_HOME or %s", CF_ENV_CONFIG);
		n = snprintf(out, outsz, "%s/.config/coffer/config.json",
		    home);
	}
	if (n < 0 || (size_t)n >= outsz)
		return cf_error_set(err, CF_E_LIMIT, "config path too long");
	return CF_OK;
}

/* Read a whole small file into a secret buffer (the config and token files
 * hold the token).  CF_E_NOTFOUND when it does not exist. */
static cf_err
read_small_file(const char *path, size_t max, struct cf_buf *b,
    struct stat *stp, struct cf_error *err)
{
	char	 chunk[4096];
	ssize_t	 n;
	int	 fd = -1;
	cf_err	 rc = CF_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		rc = cf_error_sys(err, errno == ENOENT ? CF_E_NOTFOUND :
		    CF_E_IO, "cannot open %s", path);
		goto out;
	}
	if (fstat(fd, stp) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "cannot stat %s", path);
		goto out;
	}
	if (!S_ISREG(stp->st_mode)) {
		rc = cf_error_set(err, CF_E_INPUT, "%s is not a regular file",
		    path);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = cf_error_sys(err, CF_E_IO, "cannot read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		if (b->len + (size_t)n > max) {
			rc = cf_error_set(err, CF_E_LIMIT,
			    "%s is larger than %zu bytes", path, max);
			goto out;
		}
		rc = cf_buf_append(b, chunk, (size_t)n, err);
		if (rc != CF_OK)
			goto out;
	}
out:
	cf_wipe(chunk, sizeof(chunk));
	if (fd != -1)
		(void)close(fd);
	return rc;
}

static cf_err
get_opt_str(json_t *root, const char *name, const char *path, char **field,
    struct cf_error *err)
{
	json_t	*v;

	v = json_object_get(root, name);
	if (v == NULL || json_is_null(v))
		return CF_OK;
	if (!json_is_string(v))
		return cf_error_set(err, CF_E_INPUT,
		    "%s: \"%s\" must be a string", path, name);
	return cf_cfg_set(field, json_string_value(v), err);
}

cf_err
cf_cfg_load(const char *path, struct cf_cfg **out, struct cf_error *err)
{
	struct cf_cfg	*c = NULL;
	struct cf_buf	 b;
	struct stat	 st;
	struct cf_error	 rerr;
	json_t		*root = NULL;
	cf_err		 rc;

	cf_buf_init_secret(&b, CFG_FILE_MAX);
	c = cf_calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	cf_error_clear(&rerr);
	rc = read_small_file(path, CFG_FILE_MAX, &b, &st, &rerr);
	if (rc == CF_E_NOTFOUND) {
		rc = CF_OK;
		goto done;
	}
	if (rc != CF_OK) {
		rc = cf_error_set(err, rc, "%s", rerr.msg);
		goto out;
	}
	if ((st.st_mode & 077) != 0)
		cf_cli_warnx("%s is readable by others (mode %03o); it holds "
		    "your token: chmod 600 it", path,
		    (unsigned int)(st.st_mode & 0777));
	rc = cf_json_parse(b.data != NULL ? b.data : "", b.len, CFG_FILE_MAX,
	    8, &root, err);
	if (rc != CF_OK) {
		(void)cf_error_set(err, CF_E_INPUT, "%s: not valid JSON",
		    path);
		rc = CF_E_INPUT;
		goto out;
	}
	if (!json_is_object(root)) {
		rc = cf_error_set(err, CF_E_INPUT, "%s: not a JSON object",
		    path);
		goto out;
	}
	rc = get_opt_str(root, "server", path, &c->server, err);
	if (rc == CF_OK && c->server != NULL) {
		/* SEC: checked like --server: a hand-edited "host:port"
		 * would otherwise go out as plain HTTP, token included,
		 * without the warning. */
		char	*norm = NULL;

		rc = cf_cli_norm_server(c->server, &norm, err);
		if (rc == CF_E_INPUT && err != NULL) {
			char	msg[CF_ERROR_MSG_LEN];

			cf_strlcpy(msg, err->msg, sizeof(msg));
			(void)cf_error_set(err, CF_E_INPUT, "%s: %s", path,
			    msg);
		}
		if (rc != CF_OK)
			goto out;
		cf_free(c->server);
		c->server = norm;
	}
	if (rc == CF_OK)
		rc = get_opt_str(root, "token", path, &c->token, err);
	if (rc == CF_OK)
		rc = get_opt_str(root, "ca_cert", path, &c->ca_cert, err);
	if (rc != CF_OK)
		goto out;
	if (c->token != NULL && !cf_cli_token_ok(c->token)) {
		rc = cf_error_set(err, CF_E_INPUT, "%s: the token contains a "
		    "space or a control character", path);
		goto out;
	}
done:
	*out = c;
	c = NULL;
out:
	if (root != NULL) {
		/* SEC: jansson's copy of the token cannot be wiped in place
		 * through its API; overwrite it before release. */
		json_t *t = json_object_get(root, "token");
		if (json_is_string(t))
			cf_wipe((void *)(uintptr_t)json_string_value(t),
			    json_string_length(t));
		json_decref(root);
	}
	cf_buf_free(&b);
	cf_cfg_free(c);
	return rc;
}

cf_err
cf_cfg_apply_env(struct cf_cfg *c, struct cf_error *err)
{
	const char	*v;
	char		*norm = NULL;
	cf_err		 rc = CF_OK;

	v = getenv(CF_ENV_SERVER);
	if (v != NULL && *v != '\0') {
		rc = cf_cli_norm_server(v, &norm, err);
		if (rc != CF_OK)
			goto out;
		cf_free(c->server);
		c->server = norm;
		norm = NULL;
	}
	v = getenv(CF_ENV_TOKEN);
	if (v != NULL && *v != '\0') {
		if (!cf_cli_token_ok(v)) {
			rc = cf_error_set(err, CF_E_INPUT, "%s contains a "
			    "space or a control character", CF_ENV_TOKEN);
			goto out;
		}
		rc = cf_cfg_set(&c->token, v, err);
		if (rc != CF_OK)
			goto out;
	}
	v = getenv(CF_ENV_CA_CERT);
	if (v != NULL && *v != '\0')
		rc = cf_cfg_set(&c->ca_cert, v, err);
out:
	cf_free(norm);
	return rc;
}

/* mkdir -p for the config directory, new levels mode 0700. */
static cf_err
mkdirs(const char *dir, struct cf_error *err)
{
	char	 p[CF_CLI_PATH_MAX];
	size_t	 i;

	if (cf_strlcpy(p, dir, sizeof(p)) >= sizeof(p))
		return cf_error_set(err, CF_E_LIMIT, "path too long");
	for (i = 1; p[i] != '\0'; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			return cf_error_sys(err, CF_E_IO, "cannot create %s",
			    p);
		p[i] = '/';
	}
	if (mkdir(p, 0700) == -1 && errno != EEXIST)
		return cf_error_sys(err, CF_E_IO, "cannot create %s", p);
	return CF_OK;
}

cf_err
cf_cfg_save(const struct cf_cfg *c, const char *path, struct cf_error *err)
{
	char		 dir[CF_CLI_PATH_MAX], tmp[CF_CLI_PATH_MAX];
	char		*slash, *text = NULL;
	json_t		*root = NULL;
	size_t		 len, off;
	ssize_t		 n;
	int		 fd = -1, k;
	cf_err		 rc = CF_OK;

	tmp[0] = '\0';
	if (cf_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return cf_error_set(err, CF_E_LIMIT, "config path too long");
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		rc = mkdirs(dir, err);
		if (rc != CF_OK)
			goto out;
	}
	root = json_object();
	if (root == NULL ||
	    (c->server != NULL && json_object_set_new(root, "server",
	    json_string(c->server)) != 0) ||
	    (c->token != NULL && json_object_set_new(root, "token",
	    json_string(c->token)) != 0) ||
	    (c->ca_cert != NULL && json_object_set_new(root, "ca_cert",
	    json_string(c->ca_cert)) != 0)) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	text = cf_json_dumps_flags(root, JSON_INDENT(2));
	if (text == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	k = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
	if (k < 0 || (size_t)k >= sizeof(tmp)) {
		tmp[0] = '\0';
		rc = cf_error_set(err, CF_E_LIMIT, "config path too long");
		goto out;
	}
	/* SEC: mkstemp creates the file 0600 with O_EXCL. */
	fd = mkstemp(tmp);
	if (fd == -1) {
		tmp[0] = '\0';
		rc = cf_error_sys(err, CF_E_IO, "cannot create a file next "
		    "to %s", path);
		goto out;
	}
	if (fchmod(fd, 0600) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "chmod %s", tmp);
		goto out;
	}
	len = strlen(text);
	for (off = 0; off < len; off += (size_t)n) {
		n = write(fd, text + off, len - off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1) {
			rc = cf_error_sys(err, CF_E_IO, "write %s", tmp);
			goto out;
		}
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "write %s", tmp);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = cf_error_sys(err, CF_E_IO, "close %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "rename %s to %s", tmp, path);
		goto out;
	}
	tmp[0] = '\0';
out:
	if (fd != -1)
		(void)close(fd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	if (text != NULL) {
		cf_wipe(text, strlen(text));
		free(text);
	}
	cf_cli_json_wipe_token(root);
	json_decref(root);
	return rc;
}

bool
cf_cli_token_ok(const char *tok)
{
	const char	*p;

	if (*tok == '\0' || strlen(tok) > CF_CLI_TOKEN_MAX)
		return false;
	/* SEC: the token goes into an HTTP header line. */
	for (p = tok; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

cf_err
cf_cli_read_token_file(const char *path, char **out, struct cf_error *err)
{
	struct cf_buf	 b;
	struct stat	 st;
	const char	*s, *e, *p;
	char		*tok = NULL;
	cf_err		 rc;

	cf_buf_init_secret(&b, CF_CLI_TOKEN_MAX + 4096);
	rc = read_small_file(path, CF_CLI_TOKEN_MAX + 4096, &b, &st, err);
	if (rc != CF_OK)
		goto out;
	s = b.data != NULL ? b.data : "";
	e = s + b.len;
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' ||
	    *s == '\n'))
		s++;
	/* First line only. */
	p = memchr(s, '\n', (size_t)(e - s));
	if (p != NULL)
		e = p;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	if (s == e) {
		rc = cf_error_set(err, CF_E_INPUT, "%s holds no token", path);
		goto out;
	}
	if ((size_t)(e - s) > CF_CLI_TOKEN_MAX) {
		rc = cf_error_set(err, CF_E_INPUT, "%s: token too long", path);
		goto out;
	}
	tok = cf_strndup(s, (size_t)(e - s));
	if (tok == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	if (!cf_cli_token_ok(tok)) {
		rc = cf_error_set(err, CF_E_INPUT, "%s: the token contains a "
		    "space or a control character", path);
		goto out;
	}
	*out = tok;
	tok = NULL;
out:
	free_secret(tok);
	cf_buf_free(&b);
	return rc;
}

cf_err
cf_cli_norm_server(const char *url, char **out, struct cf_error *err)
{
	char	*s;
	size_t	 n, i, scheme;

	if (!cf_str_has_prefix(url, "https://") &&
	    !cf_str_has_prefix(url, "http://"))
		return cf_error_set(err, CF_E_INPUT, "server URL \"%s\" must "
		    "start with https:// (or http://)", url);
	scheme = cf_str_has_prefix(url, "https://") ? 8 : 7;
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n <= scheme)
		return cf_error_set(err, CF_E_INPUT, "server URL \"%s\" has "
		    "no host", url);
	for (i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f)
			return cf_error_set(err, CF_E_INPUT, "server URL has "
			    "a space or a control character");
	s = cf_strndup(url, n);
	if (s == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	*out = s;
	return CF_OK;
}

cf_err
cf_cli_effective_cfg(const struct cf_cli_opts *o, bool need_token,
    struct cf_cfg **out, struct cf_error *err)
{
	struct cf_cfg	*c = NULL;
	char		 path[CF_CLI_PATH_MAX];
	char		*norm = NULL;
	cf_err		 rc;

	rc = cf_cfg_path(path, sizeof(path), err);
	if (rc != CF_OK)
		goto out;
	rc = cf_cfg_load(path, &c, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_cfg_apply_env(c, err);
	if (rc != CF_OK)
		goto out;
	if (o->server != NULL) {
		rc = cf_cli_norm_server(o->server, &norm, err);
		if (rc != CF_OK)
			goto out;
		cf_free(c->server);
		c->server = norm;
		norm = NULL;
	}
	if (o->ca_cert != NULL) {
		rc = cf_cfg_set(&c->ca_cert, o->ca_cert, err);
		if (rc != CF_OK)
			goto out;
	}
	if (c->server == NULL) {
		rc = cf_error_set(err, CF_E_INPUT, "no server configured: run "
		    "`coffer login --server URL --token-file FILE` or set %s",
		    CF_ENV_SERVER);
		goto out;
	}
	if (need_token && c->token == NULL) {
		rc = cf_error_set(err, CF_E_INPUT, "no token configured: run "
		    "`coffer login --server URL --token-file FILE` or set %s",
		    CF_ENV_TOKEN);
		goto out;
	}
	*out = c;
	c = NULL;
out:
	cf_free(norm);
	cf_cfg_free(c);
	return rc;
}

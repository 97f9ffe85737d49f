/* tests/unit/test_client.c: the offline parts of the CLI: URL and key
 * encoding, NS/KEY arguments, pull's path-escape refusal, the config file
 * and its environment overrides, token files, error bodies, exit codes,
 * option parsing, durations; the download sink, and the HTTP layer against
 * a scripted local server.
 * cf-link: cf_client cf_core cf_audit cf_store cf_policy cf_crypto cf_base */
#include <stdarg.h>
#include <stddef.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"
#include "crypto/crypto.h"

static char	tmpdir[256];

static int
setup_tmp(void **state)
{
	(void)state;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/cf-test-client-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	unsetenv(CF_ENV_CONFIG);
	unsetenv(CF_ENV_SERVER);
	unsetenv(CF_ENV_TOKEN);
	unsetenv(CF_ENV_CA_CERT);
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown_tmp(void **state)
{
	(void)state;
	/* Depth-first removal of the temporary tree, without a shell. */
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)),
	    (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* ---- encoding ---- */

static char *
enc(const char *s, bool keep_slash)
{
	struct cf_buf	b;

	cf_buf_init(&b, 4096);
	assert_int_equal(cf_cli_urlenc(&b, s, keep_slash, NULL), CF_OK);
	return cf_buf_take(&b);
}

static void
test_client_urlenc(void **state)
{
	char	*s;

	(void)state;
	s = enc("a b/c?d#%\xc3\xa9~_.-Z9", true);
	assert_string_equal(s, "a%20b/c%3Fd%23%25%C3%A9~_.-Z9");
	cf_free(s);
	s = enc("a/b", false);
	assert_string_equal(s, "a%2Fb");
	cf_free(s);
	/* Dot segments are sent literally (CURLOPT_PATH_AS_IS). */
	s = enc("../../etc/passwd", true);
	assert_string_equal(s, "../../etc/passwd");
	cf_free(s);
	s = enc("", true);
	assert_string_equal(s, "");
	cf_free(s);
	s = enc("+&=\x01\x7f\xff", false);
	assert_string_equal(s, "%2B%26%3D%01%7F%FF");
	cf_free(s);
}

static void
test_client_obj_path(void **state)
{
	struct cf_buf	b;

	(void)state;
	cf_buf_init(&b, 4096);
	assert_int_equal(cf_cli_obj_path(&b, "ml", "objects",
	    "models/churn v2/model.bin", NULL), CF_OK);
	assert_string_equal(b.data,
	    "/v1/ns/ml/objects/models/churn%20v2/model.bin");
	assert_int_equal(cf_cli_obj_path(&b, "ml", "versions", "../x", NULL),
	    CF_OK);
	assert_string_equal(b.data, "/v1/ns/ml/versions/../x");
	/* A '/' in a namespace argument cannot split the route. */
	assert_int_equal(cf_cli_obj_path(&b, "a/b", "objects", "k", NULL),
	    CF_OK);
	assert_string_equal(b.data, "/v1/ns/a%2Fb/objects/k");
	cf_buf_free(&b);
}

/* ---- NS/KEY ---- */

static void
test_client_split_nskey(void **state)
{
	struct cf_error	 err;
	char		*ns = NULL, *key = NULL;

	(void)state;
	assert_int_equal(cf_cli_split_nskey("ml/models/a.bin", true, &ns,
	    &key, NULL), CF_OK);
	assert_string_equal(ns, "ml");
	assert_string_equal(key, "models/a.bin");
	CF_FREE(ns);
	CF_FREE(key);

	/* Only the first '/' splits; the key keeps the rest verbatim. */
	assert_int_equal(cf_cli_split_nskey("ml/../x//y", true, &ns, &key,
	    NULL), CF_OK);
	assert_string_equal(ns, "ml");
	assert_string_equal(key, "../x//y");
	CF_FREE(ns);
	CF_FREE(key);

	assert_int_equal(cf_cli_split_nskey("ml", false, &ns, &key, NULL),
	    CF_OK);
	assert_string_equal(ns, "ml");
	assert_string_equal(key, "");
	CF_FREE(ns);
	CF_FREE(key);
	assert_int_equal(cf_cli_split_nskey("ml/", false, &ns, &key, NULL),
	    CF_OK);
	assert_string_equal(key, "");
	CF_FREE(ns);
	CF_FREE(key);

	cf_error_clear(&err);
	assert_int_equal(cf_cli_split_nskey("ml", true, &ns, &key, &err),
	    CF_E_INPUT);
	assert_non_null(strstr(err.msg, "NS/KEY"));
	assert_null(ns);
	assert_null(key);
	assert_int_equal(cf_cli_split_nskey("ml/", true, &ns, &key, NULL),
	    CF_E_INPUT);
	assert_int_equal(cf_cli_split_nskey("/key", true, &ns, &key, NULL),
	    CF_E_INPUT);
	assert_int_equal(cf_cli_split_nskey("", false, &ns, &key, NULL),
	    CF_E_INPUT);
	assert_null(ns);
	assert_null(key);
}

static void
test_client_split_nskey_survives_every_alloc_failure(void **state)
{
	char		*ns = NULL, *key = NULL;
	unsigned int	 n;
	cf_err		 rc;

	(void)state;
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_cli_split_nskey("ml/a/b", true, &ns, &key, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(ns);
		assert_null(key);
	}
	assert_string_equal(key, "a/b");
	cf_free(ns);
	cf_free(key);
}

/* ---- pull's path-escape refusal ---- */

static void
test_client_relpath_safe(void **state)
{
	static const char *const good[] = { "a", "a/b.bin", "a/.hidden",
	    "..a", "a..", "a/..b/c", "...", "x y/z", "\xc3\xa9t\xc3\xa9" };
	static const char *const bad[] = { "", "/a", "/", "..", "../a",
	    "a/../b", "a/..", ".", "./a", "a/./b", "a/.", "a//b", "a/",
	    "//a", "a\nb", "a\x1b[2J", "a\x7f" };
	char	long_path[CF_CLI_PATH_MAX + 10];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(cf_cli_relpath_safe(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cf_cli_relpath_safe(bad[i]))
			fail_msg("accepted unsafe path \"%s\"", bad[i]);
	}
	assert_false(cf_cli_relpath_safe(NULL));
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	assert_false(cf_cli_relpath_safe(long_path));
}

static void
test_client_key_rel(void **state)
{
	(void)state;
	assert_string_equal(cf_cli_key_rel("models/churn/a.bin",
	    "models/churn/"), "a.bin");
	assert_string_equal(cf_cli_key_rel("a/b", ""), "a/b");
	assert_null(cf_cli_key_rel("models/churn2/a", "models/churn/"));
	/* The server lists by prefix; a key with ".." after it must still
	 * be refused by relpath_safe. */
	assert_false(cf_cli_relpath_safe(cf_cli_key_rel(
	    "models/../../etc/x", "models/")));
	assert_false(cf_cli_relpath_safe(cf_cli_key_rel("models//etc/x",
	    "models/")));
	assert_false(cf_cli_relpath_safe(cf_cli_key_rel("models/", "models/")));
}

/* ---- config ---- */

static void
test_client_config_save_load(void **state)
{
	struct cf_cfg	*c = NULL, *l = NULL;
	struct cf_error	 err;
	struct stat	 st;
	char		 path[600], dir[400];

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/new/coffer", tmpdir);
	(void)snprintf(path, sizeof(path), "%s/config.json", dir);
	c = cf_calloc(1, sizeof(*c));
	assert_non_null(c);
	assert_int_equal(cf_cfg_set(&c->server, "https://127.0.0.1:8443",
	    NULL), CF_OK);
	assert_int_equal(cf_cfg_set(&c->token, "cft_secret", NULL), CF_OK);
	assert_int_equal(cf_cfg_set(&c->ca_cert, "/etc/ca.pem", NULL), CF_OK);
	assert_int_equal(cf_cfg_save(c, path, NULL), CF_OK);

	/* SEC: 0600 file in a 0700 directory, whatever the umask. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	assert_int_equal(cf_cfg_load(path, &l, NULL), CF_OK);
	assert_string_equal(l->server, "https://127.0.0.1:8443");
	assert_string_equal(l->token, "cft_secret");
	assert_string_equal(l->ca_cert, "/etc/ca.pem");
	cf_cfg_free(l);
	l = NULL;

	/* Saving again replaces the file atomically, mode kept. */
	assert_int_equal(cf_cfg_set(&c->ca_cert, NULL, NULL), CF_OK);
	assert_int_equal(cf_cfg_save(c, path, NULL), CF_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(cf_cfg_load(path, &l, NULL), CF_OK);
	assert_null(l->ca_cert);
	cf_cfg_free(l);
	l = NULL;

	/* A missing file is an empty config. */
	(void)snprintf(path, sizeof(path), "%s/none.json", tmpdir);
	assert_int_equal(cf_cfg_load(path, &l, NULL), CF_OK);
	assert_null(l->server);
	assert_null(l->token);
	cf_cfg_free(l);
	l = NULL;

	/* Bad files are input errors. */
	(void)snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
	write_file(path, "{\"server\": 5}", 0600);
	cf_error_clear(&err);
	assert_int_equal(cf_cfg_load(path, &l, &err), CF_E_INPUT);
	assert_non_null(strstr(err.msg, "server"));
	write_file(path, "{not json", 0600);
	assert_int_equal(cf_cfg_load(path, &l, NULL), CF_E_INPUT);
	write_file(path, "[1]", 0600);
	assert_int_equal(cf_cfg_load(path, &l, NULL), CF_E_INPUT);
	write_file(path, "{\"token\": \"a\\r\\nX-Evil: 1\"}", 0600);
	assert_int_equal(cf_cfg_load(path, &l, NULL), CF_E_INPUT);
	assert_null(l);
	/* A server without https:// is refused, not used as plain HTTP. */
	write_file(path, "{\"server\": \"h.example:8443\"}", 0600);
	cf_error_clear(&err);
	assert_int_equal(cf_cfg_load(path, &l, &err), CF_E_INPUT);
	assert_non_null(strstr(err.msg, "https://"));
	assert_null(l);
	cf_cfg_free(c);
}

static void
test_client_config_load_survives_every_alloc_failure(void **state)
{
	struct cf_cfg	*c = NULL;
	char		 path[512];
	unsigned int	 n;
	cf_err		 rc;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/alloc.json", tmpdir);
	write_file(path, "{\"server\":\"https://h\",\"token\":\"cft_t\","
	    "\"ca_cert\":\"/c.pem\"}", 0600);
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_cfg_load(path, &c, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(c);
	}
	assert_string_equal(c->token, "cft_t");
	cf_cfg_free(c);
}

static void
test_client_config_path(void **state)
{
	char	path[512];

	(void)state;
	setenv(CF_ENV_CONFIG, "/x/y/config.json", 1);
	assert_int_equal(cf_cfg_path(path, sizeof(path), NULL), CF_OK);
	assert_string_equal(path, "/x/y/config.json");
	unsetenv(CF_ENV_CONFIG);

	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	assert_int_equal(cf_cfg_path(path, sizeof(path), NULL), CF_OK);
	assert_string_equal(path, "/xdg/coffer/config.json");
	/* A relative XDG_CONFIG_HOME is ignored (XDG spec). */
	setenv("XDG_CONFIG_HOME", "rel", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(cf_cfg_path(path, sizeof(path), NULL), CF_OK);
	assert_string_equal(path, "/home/u/.config/coffer/config.json");
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(cf_cfg_path(path, sizeof(path), NULL), CF_OK);
	assert_string_equal(path, "/home/u/.config/coffer/config.json");
	assert_int_equal(cf_cfg_path(path, 8, NULL), CF_E_LIMIT);
}

static void
test_client_config_env_override(void **state)
{
	struct cf_cli_opts	 o = { 0 };
	struct cf_cfg		*c = NULL;
	struct cf_error		 err;
	char			 path[512];

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/cfg.json", tmpdir);
	write_file(path, "{\"server\":\"https://file:1\",\"token\":\"cft_f\","
	    "\"ca_cert\":\"/f.pem\",\"future\":1}", 0600);
	setenv(CF_ENV_CONFIG, path, 1);

	assert_int_equal(cf_cli_effective_cfg(&o, true, &c, NULL), CF_OK);
	assert_string_equal(c->server, "https://file:1");
	assert_string_equal(c->token, "cft_f");
	assert_string_equal(c->ca_cert, "/f.pem");
	cf_cfg_free(c);
	c = NULL;

	setenv(CF_ENV_SERVER, "https://env:2/", 1);
	setenv(CF_ENV_TOKEN, "cft_e", 1);
	setenv(CF_ENV_CA_CERT, "/e.pem", 1);
	assert_int_equal(cf_cli_effective_cfg(&o, true, &c, NULL), CF_OK);
	assert_string_equal(c->server, "https://env:2");
	assert_string_equal(c->token, "cft_e");
	assert_string_equal(c->ca_cert, "/e.pem");
	cf_cfg_free(c);
	c = NULL;

	/* Command-line options beat the environment. */
	o.server = "https://opt:3";
	o.ca_cert = "/o.pem";
	assert_int_equal(cf_cli_effective_cfg(&o, true, &c, NULL), CF_OK);
	assert_string_equal(c->server, "https://opt:3");
	assert_string_equal(c->ca_cert, "/o.pem");
	assert_string_equal(c->token, "cft_e");
	cf_cfg_free(c);
	c = NULL;

	/* SEC: a token that would split the header line is refused. */
	setenv(CF_ENV_TOKEN, "cft_x\r\nHost: evil", 1);
	assert_int_equal(cf_cli_effective_cfg(&o, true, &c, NULL),
	    CF_E_INPUT);
	assert_null(c);
	setenv(CF_ENV_SERVER, "ftp://x", 1);
	setenv(CF_ENV_TOKEN, "cft_e", 1);
	o.server = NULL;
	assert_int_equal(cf_cli_effective_cfg(&o, true, &c, NULL),
	    CF_E_INPUT);

	/* Nothing configured: a hint to log in. */
	unsetenv(CF_ENV_SERVER);
	unsetenv(CF_ENV_TOKEN);
	unsetenv(CF_ENV_CA_CERT);
	(void)snprintf(path, sizeof(path), "%s/absent.json", tmpdir);
	setenv(CF_ENV_CONFIG, path, 1);
	cf_error_clear(&err);
	assert_int_equal(cf_cli_effective_cfg(&o, true, &c, &err),
	    CF_E_INPUT);
	assert_non_null(strstr(err.msg, "coffer login"));
	setenv(CF_ENV_SERVER, "https://s", 1);
	cf_error_clear(&err);
	assert_int_equal(cf_cli_effective_cfg(&o, true, &c, &err),
	    CF_E_INPUT);
	assert_non_null(strstr(err.msg, "token"));
	assert_int_equal(cf_cli_effective_cfg(&o, false, &c, NULL), CF_OK);
	cf_cfg_free(c);
	unsetenv(CF_ENV_SERVER);
	unsetenv(CF_ENV_CONFIG);
}

static void
test_client_token_file(void **state)
{
	char	 path[512];
	char	*tok = NULL;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/tok", tmpdir);
	write_file(path, "  cft_abc123\r\nsecond line\n", 0600);
	assert_int_equal(cf_cli_read_token_file(path, &tok, NULL), CF_OK);
	assert_string_equal(tok, "cft_abc123");
	cf_free(tok);
	tok = NULL;
	write_file(path, "cft_a b\n", 0600);
	assert_int_equal(cf_cli_read_token_file(path, &tok, NULL),
	    CF_E_INPUT);
	write_file(path, "\n\n", 0600);
	assert_int_equal(cf_cli_read_token_file(path, &tok, NULL),
	    CF_E_INPUT);
	write_file(path, "cft_\x01x", 0600);
	assert_int_equal(cf_cli_read_token_file(path, &tok, NULL),
	    CF_E_INPUT);
	assert_null(tok);
	(void)snprintf(path, sizeof(path), "%s/missing", tmpdir);
	assert_int_equal(cf_cli_read_token_file(path, &tok, NULL),
	    CF_E_NOTFOUND);
}

static void
test_client_norm_server(void **state)
{
	char	*s = NULL;

	(void)state;
	assert_int_equal(cf_cli_norm_server("https://h:8443//", &s, NULL),
	    CF_OK);
	assert_string_equal(s, "https://h:8443");
	CF_FREE(s);
	assert_int_equal(cf_cli_norm_server("http://h", &s, NULL), CF_OK);
	assert_string_equal(s, "http://h");
	CF_FREE(s);
	assert_int_equal(cf_cli_norm_server("https://", &s, NULL), CF_E_INPUT);
	assert_int_equal(cf_cli_norm_server("h:8443", &s, NULL), CF_E_INPUT);
	assert_int_equal(cf_cli_norm_server("https://h/\r\n", &s, NULL),
	    CF_E_INPUT);
	assert_null(s);
}

/* ---- durations (token create --expires) ---- */

static void
test_client_duration(void **state)
{
	uint64_t	s = 0;

	(void)state;
	assert_int_equal(cf_parse_duration("90s", UINT64_MAX, &s, NULL),
	    CF_OK);
	assert_int_equal(s, 90);
	assert_int_equal(cf_parse_duration("15m", UINT64_MAX, &s, NULL),
	    CF_OK);
	assert_int_equal(s, 900);
	assert_int_equal(cf_parse_duration("12h", UINT64_MAX, &s, NULL),
	    CF_OK);
	assert_int_equal(s, 43200);
	assert_int_equal(cf_parse_duration("30d", UINT64_MAX, &s, NULL),
	    CF_OK);
	assert_int_equal(s, 2592000);
	assert_int_not_equal(cf_parse_duration("5x", UINT64_MAX, &s, NULL),
	    CF_OK);
	assert_int_not_equal(cf_parse_duration("-1d", UINT64_MAX, &s, NULL),
	    CF_OK);
	assert_int_not_equal(cf_parse_duration("0s", UINT64_MAX, &s, NULL),
	    CF_OK);
	assert_int_not_equal(cf_parse_duration("99999d", 86400 * 3660, &s,
	    NULL), CF_OK);
}

/* ---- response headers (from a server that may be hostile) ---- */

static void
hdr(struct cf_obj_info *in, const char *line)
{
	cf_cli_parse_header(in, line, strlen(line));
}

static void
test_client_headers(void **state)
{
	static const char bad[] = "X-Coffer-Meta-Bad: \xff\xfe\r\n";
	struct cf_obj_info	 in;
	char			 big[400], *out;

	(void)state;
	memset(&in, 0, sizeof(in));
	cf_obj_info_clear(&in);
	hdr(&in, "HTTP/1.1 200 OK\r\n");
	hdr(&in, "content-length: 1234\r\n");
	hdr(&in, "X-Coffer-SHA256:   abcd  \r\n");
	hdr(&in, "X-Request-Id: r1\x1b[2J\r\n");
	hdr(&in, "X-Coffer-Meta-Framework: pytorch\r\n");
	hdr(&in, "X-Coffer-Meta-Note: caf\xc3\xa9\r\n");
	hdr(&in, bad);
	hdr(&in, "Content-Length: -7\r\n");	/* ignored */
	assert_int_equal(in.size, 1234);
	assert_string_equal(in.sha256, "abcd");
	/* SEC: no escape sequence reaches the terminal. */
	assert_string_equal(in.request_id, "r1?[2J");
	assert_non_null(in.meta);
	assert_string_equal(json_string_value(json_object_get(in.meta,
	    "framework")), "pytorch");
	assert_string_equal(json_string_value(json_object_get(in.meta,
	    "note")), "caf\xc3\xa9");
	/* Not UTF-8: dropped, so `head --json` can still print the rest. */
	assert_null(json_object_get(in.meta, "bad"));
	out = cf_json_dumps(in.meta);
	assert_non_null(out);
	free(out);
	/* Oversized values are cut to their field. */
	memset(big, 'v', sizeof(big));
	memcpy(big, "X-Coffer-Version-Id: ", 21);
	big[sizeof(big) - 1] = '\0';
	hdr(&in, big);
	assert_int_equal(strlen(in.version_id), sizeof(in.version_id) - 1);
	/* A new status line (after 100 Continue) starts over. */
	hdr(&in, "HTTP/1.1 404 Not Found\r\n");
	assert_int_equal(in.size, -1);
	assert_string_equal(in.sha256, "");
	assert_null(in.meta);
	cf_obj_info_clear(&in);
}

/* ---- error bodies and exit codes ---- */

static void
test_client_error_body(void **state)
{
	static const char body[] = "{\"error\":{\"code\":\"no_such_key\","
	    "\"message\":\"no object \\\"a/b\\\" in namespace \\\"ml\\\"\","
	    "\"request_id\":\"c0f1\"}}";
	const char	*b;
	char		 msg[CF_ERROR_MSG_LEN];

	(void)state;
	cf_cli_error_body(404, body, strlen(body), "hdr", msg, sizeof(msg));
	assert_string_equal(msg,
	    "no object \"a/b\" in namespace \"ml\" "
	    "(no_such_key, request c0f1)");
	/* Not JSON: status text, request id from the header. */
	cf_cli_error_body(502, "<html>bad gateway</html>", 24, "r9", msg,
	    sizeof(msg));
	assert_string_equal(msg, "HTTP 502 server error (502, request r9)");
	cf_cli_error_body(500, NULL, 0, NULL, msg, sizeof(msg));
	assert_string_equal(msg, "HTTP 500 server error (500)");
	/* JSON without the id: the header's. */
	b = "{\"error\":{\"code\":\"access_denied\",\"message\":\"denied\"}}";
	cf_cli_error_body(403, b, strlen(b), "h1", msg, sizeof(msg));
	assert_string_equal(msg, "denied (access_denied, request h1)");
	/* SEC: a server cannot put escape sequences on our terminal. */
	b = "{\"error\":{\"code\":\"x\",\"message\":\"a\\u001b[2Jb\\nc\"}}";
	cf_cli_error_body(400, b, strlen(b), NULL, msg, sizeof(msg));
	assert_string_equal(msg, "a?[2Jb?c (x)");
	/* Wrong shapes are tolerated. */
	b = "{\"error\":\"conflict\"}";
	cf_cli_error_body(409, b, strlen(b), NULL, msg, sizeof(msg));
	assert_string_equal(msg, "HTTP 409 conflict (409)");
	b = "{\"error\":{\"code\":5}}";
	cf_cli_error_body(409, b, strlen(b), NULL, msg, sizeof(msg));
	assert_string_equal(msg, "HTTP 409 conflict (409)");
}

static void
test_client_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(cf_cli_exit_for_status(401), CF_EXIT_AUTH);
	assert_int_equal(cf_cli_exit_for_status(403), CF_EXIT_DENIED);
	assert_int_equal(cf_cli_exit_for_status(404), CF_EXIT_NOTFOUND);
	assert_int_equal(cf_cli_exit_for_status(409), CF_EXIT_CONFLICT);
	assert_int_equal(cf_cli_exit_for_status(400), CF_EXIT_INPUT);
	assert_int_equal(cf_cli_exit_for_status(413), CF_EXIT_INPUT);
	assert_int_equal(cf_cli_exit_for_status(416), CF_EXIT_INPUT);
	assert_int_equal(cf_cli_exit_for_status(500), CF_EXIT_SERVER);
	assert_int_equal(cf_cli_exit_for_status(503), CF_EXIT_SERVER);
	assert_int_equal(cf_cli_exit_for_err(CF_E_INTEGRITY),
	    CF_EXIT_INTEGRITY);
	assert_int_equal(cf_cli_exit_for_err(CF_E_INPUT), CF_EXIT_INPUT);
	assert_int_equal(cf_cli_exit_for_err(CF_E_IO), CF_EXIT_FAIL);
	assert_int_equal(cf_cli_exit_for_err(CF_OK), CF_EXIT_OK);
	assert_int_equal(cf_cli_err_for_status(401), CF_E_AUTH);
	assert_int_equal(cf_cli_err_for_status(416), CF_E_INPUT);
	/* The published numbers never change. */
	assert_int_equal(CF_EXIT_INTEGRITY, 7);
	assert_int_equal(CF_EXIT_NETWORK, 8);
	assert_int_equal(CF_EXIT_INPUT, 10);
}

/* ---- option parsing ---- */

static bool
test_opt(void *arg, int ch, char *optarg)
{
	const char	**v = arg;

	if (ch != 'V')
		return false;
	*v = optarg;
	return true;
}

static void
test_client_parse_options(void **state)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "version", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char	 a0[] = "get", a1[] = "ml/k", a2[] = "out", a3[] = "--json";
	char	 a4[] = "--version", a5[] = "v1", a6[] = "-q";
	char	 b1[] = "--bogus", h1[] = "--help";
	char	*argv1[] = { a0, a1, a2, a3, a4, a5, a6, NULL };
	char	*argv2[] = { a0, b1, a1, NULL };
	char	*argv3[] = { a0, h1, NULL };
	char	*argv4[] = { a0, NULL };
	struct cf_cli_opts o;
	const char	*vid = NULL;
	char		**ops;
	int		 nops, fd, saved;

	(void)state;
	memset(&o, 0, sizeof(o));
	/* Options may follow the operands. */
	assert_int_equal(cf_cli_parse(7, argv1, "usage\n", "qh", lo, test_opt,
	    &vid, 1, 2, &o, &ops, &nops), -1);
	assert_int_equal(nops, 2);
	assert_string_equal(ops[0], "ml/k");
	assert_string_equal(ops[1], "out");
	assert_true(o.json);
	assert_true(o.quiet);
	assert_string_equal(vid, "v1");

	/* Keep usage text off the test output. */
	saved = dup(STDERR_FILENO);
	fd = open("/dev/null", O_WRONLY);
	(void)dup2(fd, STDERR_FILENO);
	memset(&o, 0, sizeof(o));
	assert_int_equal(cf_cli_parse(3, argv2, "usage\n", "qh", lo, test_opt,
	    &vid, 1, 2, &o, &ops, &nops), CF_EXIT_USAGE);
	memset(&o, 0, sizeof(o));
	assert_int_equal(cf_cli_parse(1, argv4, "usage\n", "qh", lo, test_opt,
	    &vid, 1, 2, &o, &ops, &nops), CF_EXIT_USAGE);
	(void)dup2(saved, STDERR_FILENO);
	(void)close(saved);

	saved = dup(STDOUT_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	memset(&o, 0, sizeof(o));
	assert_int_equal(cf_cli_parse(2, argv3, "usage\n", "qh", lo, test_opt,
	    &vid, 1, 2, &o, &ops, &nops), CF_EXIT_OK);
	(void)fflush(stdout);
	(void)dup2(saved, STDOUT_FILENO);
	(void)close(saved);
	(void)close(fd);
}

static void
test_client_fmt(void **state)
{
	char	out[32];

	(void)state;
	cf_cli_fmt_size(512, out, sizeof(out));
	assert_string_equal(out, "512 B");
	cf_cli_fmt_size(1536, out, sizeof(out));
	assert_string_equal(out, "1.5 KiB");
	cf_cli_fmt_size(3ull << 30, out, sizeof(out));
	assert_string_equal(out, "3.0 GiB");
	cf_cli_fmt_time("2026-11-27T10:49:27.123456Z", out, sizeof(out));
	assert_string_equal(out, "2026-11-27 10:49:27");
	cf_cli_sanitize("a\x1b]0;x\x07", out, sizeof(out));
	assert_string_equal(out, "a?]0;x?");
}

/* ---- the HTTP layer against a scripted local server ----
 *
 * A plain-HTTP server on 127.0.0.1 answers each connection with a canned
 * response chosen by the request path, so the client's handling of bad
 * digests, cut-short bodies and error bodies is tested without a real
 * Coffer server (tests/e2e covers that). */

struct fake {
	int		 stepped;		/* POST /v1/session/mfa ok */
	int		 stepups;		/* step-up requests seen */
	int		 limited;		/* /v1/limited requests */
	int		 busy_left;		/* 429s before "busy" is 201 */
	int		 busy_seen;		/* PUTs of "busy" seen */
	int		 lfd;
	int		 port;
	pthread_t	 thr;
	char		 last_req[8192];	/* last request head */
	size_t		 last_body;		/* PUT body bytes read */
	char		 last_tail[65];		/* its last 64 bytes */
};

#define HELLO_SHA \
	"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

/* The body of /v1/ns/t/objects/big (and bigbad, with a wrong digest):
 * larger than the sink's buffers together, an awkward length. */
#define BIG_LEN		((size_t)(9u << 20) + 12345)
static uint8_t	*big_body;
static char	 big_hex[2 * CF_SHA256_LEN + 1];

/* Deterministic bytes that no buffer boundary lines up with. */
static void
fill_pattern(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t	x = seed | 1;
	size_t		i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 29);
	}
}

static void
big_init(void)
{
	uint8_t	d[CF_SHA256_LEN];

	if (big_body != NULL)
		return;
	big_body = malloc(BIG_LEN);
	assert_non_null(big_body);
	fill_pattern(big_body, BIG_LEN, 42);
	cf_sha256(big_body, BIG_LEN, d);
	cf_hex_encode(d, sizeof(d), big_hex);
}

static void
send_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		/* The client may hang up mid-body (a failed download). */
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Keep the last 64 bytes of a stream in t (NUL-terminated). */
static void
tail_add(char t[65], const char *p, size_t n)
{
	size_t	have = strlen(t), keep;

	if (n >= 64) {
		memcpy(t, p + n - 64, 64);
		t[64] = '\0';
		return;
	}
	keep = have + n > 64 ? 64 - n : have;
	memmove(t, t + have - keep, keep);
	memcpy(t + keep, p, n);
	t[keep + n] = '\0';
}

static void
fake_answer(struct fake *f, int fd)
{
	char		 req[8192], resp[1024], bigx[128], *end, *cl;
	size_t		 len = 0, want = 0, have, blen;
	ssize_t		 n;
	const char	*body = "", *status = "200 OK", *extra = "";
	const char	*errb = "{\"error\":{\"code\":\"unavailable\","
	    "\"message\":\"audit log unavailable\",\"request_id\":\"rq1\"}}";
	char		 buf[65536];
	int		 k, truncate = 0;

	for (;;) {
		n = read(fd, req + len, sizeof(req) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		end = strstr(req, "\r\n\r\n");
		if (end != NULL)
			break;
		if (len == sizeof(req) - 1)
			return;
	}
	memcpy(f->last_req, req, (size_t)(end - req));
	f->last_req[end - req] = '\0';
	/* Consume a request body (small, Content-Length only). */
	cl = strcasestr(req, "Content-Length:");
	if (cl != NULL && cl < end)
		want = (size_t)strtoul(cl + 15, NULL, 10);
	have = len - (size_t)(end + 4 - req);
	f->last_tail[0] = '\0';
	tail_add(f->last_tail, end + 4, have);
	buf[0] = '\0';
	while (have < want) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			break;
		buf[n] = '\0';
		have += (size_t)n;
		tail_add(f->last_tail, buf, (size_t)n);
	}
	f->last_body = have;
	if (strstr(req, " /v1/ns/t/objects/ok ") != NULL) {
		body = "hello";
		extra = "X-Coffer-SHA256: " HELLO_SHA "\r\n";
	} else if (strstr(req, " /v1/ns/t/objects/big") != NULL &&
	    big_body != NULL) {
		body = (const char *)big_body;
		(void)snprintf(bigx, sizeof(bigx), "X-Coffer-SHA256: %s\r\n",
		    strstr(req, "/big ") != NULL ? big_hex : HELLO_SHA);
		extra = bigx;
	} else if (strstr(req, " /v1/ns/t/objects/bad ") != NULL) {
		body = "hellO";
		extra = "X-Coffer-SHA256: " HELLO_SHA "\r\n";
	} else if (strstr(req, " /v1/ns/t/objects/trunc ") != NULL) {
		body = "hello";
		truncate = 1;
		extra = "X-Coffer-SHA256: " HELLO_SHA "\r\n";
	} else if (strstr(req, " /v1/ns/t/objects/nosha ") != NULL) {
		body = "hello";
	} else if (strstr(req, " /v1/ns/t/objects/e503 ") != NULL) {
		status = "503 Service Unavailable";
		body = errb;
	} else if (strstr(req, " /v1/ns/t/objects/e401 ") != NULL) {
		status = "401 Unauthorized";
		body = "{\"error\":{\"code\":\"unauthenticated\",\"message\":"
		    "\"authentication required\",\"request_id\":\"rq2\"}}";
	} else if (strstr(req, " /v1/session/mfa ") != NULL) {
		f->stepups++;
		/* The code must be the body; "123456" is the right one. */
		if (strstr(buf, "\"123456\"") != NULL ||
		    strstr(end + 4, "\"123456\"") != NULL) {
			f->stepped = 1;
			body = "{\"mfa\":true}";
		} else {
			status = "401 Unauthorized";
			body = "{\"error\":{\"code\":\"invalid_code\","
			    "\"message\":\"wrong code\"}}";
		}
	} else if (strstr(req, " /v1/mfa-needed ") != NULL) {
		if (f->stepped)
			body = "{\"ok\":true}";
		else {
			status = "401 Unauthorized";
			body = "{\"error\":{\"code\":\"mfa_required\","
			    "\"message\":\"multi-factor authentication "
			    "required\"}}";
		}
	} else if (strstr(req, " /v1/locked ") != NULL) {
		status = "429 Too Many Requests";
		extra = "Retry-After: 7\r\n";
		body = "{\"error\":{\"code\":\"locked\","
		    "\"message\":\"locked\"}}";
	} else if (strstr(req, " /v1/ns/t/objects/busy ") != NULL &&
	    strncmp(req, "PUT ", 4) == 0 && f->busy_seen++ >= 0 &&
	    f->busy_left > 0) {
		f->busy_left--;
		status = "429 Too Many Requests";
		extra = "Retry-After: 2\r\n";
		body = "{\"error\":{\"code\":\"too_many_transfers\","
		    "\"message\":\"busy\"}}";
	} else if (strstr(req, " /v1/limited ") != NULL) {
		f->limited++;
		status = "429 Too Many Requests";
		extra = "Retry-After: 7\r\n";
		body = "{\"error\":{\"code\":\"too_many_attempts\","
		    "\"message\":\"slow down\"}}";
	} else if (strncmp(req, "PUT ", 4) == 0) {
		status = "201 Created";
		body = strstr(req, "/up-wrong ") != NULL ?
		    "{\"sha256\":\"00\",\"size\":5}" :
		    "{\"sha256\":\"" HELLO_SHA "\",\"size\":5}";
	} else {
		status = "404 Not Found";
		body = "{\"error\":{\"code\":\"not_found\",\"message\":"
		    "\"no such route\",\"request_id\":\"rq3\"}}";
	}
	blen = body == (const char *)big_body ? BIG_LEN : strlen(body);
	k = snprintf(resp, sizeof(resp), "HTTP/1.1 %s\r\nContent-Length: "
	    "%zu\r\n%sX-Request-Id: hdr-id\r\nConnection: close\r\n\r\n",
	    status, blen + (truncate ? 95 : 0), extra);
	send_all(fd, resp, (size_t)k);
	send_all(fd, body, blen);
}

static void *
fake_main(void *arg)
{
	struct fake	*f = arg;
	int		 fd;

	for (;;) {
		fd = accept(f->lfd, NULL, NULL);
		if (fd == -1)
			return NULL;
		fake_answer(f, fd);
		(void)shutdown(fd, SHUT_RDWR);
		(void)close(fd);
	}
}

static void
fake_start(struct fake *f)
{
	struct sockaddr_in	sa;
	socklen_t		sl = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->lfd != -1);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&f->thr, NULL, fake_main, f), 0);
}

static void
fake_stop(struct fake *f)
{
	(void)shutdown(f->lfd, SHUT_RDWR);
	(void)close(f->lfd);
	(void)pthread_join(f->thr, NULL);
}

/* Count the entries of dir other than "." and "..". */
static int
count_entries(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	(void)closedir(d);
	return n;
}

/* Start the fake server and open a CLI handle on it; the handle keeps
 * pointers into url and the settings, which must outlive it (one handle
 * at a time).  The plain-HTTP warning goes to /dev/null. */
static struct cf_http *
fake_client(struct fake *f, char *url, size_t urlsz)
{
	static struct cf_cfg		cfg;
	static struct cf_cli_opts	o;
	struct cf_http		*h = NULL;
	int			 saved, devnull;
	cf_err			 rc;

	fake_start(f);
	(void)snprintf(url, urlsz, "http://127.0.0.1:%d", f->port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = url;
	cfg.token = (char *)(uintptr_t)"cft_testtoken";
	memset(&o, 0, sizeof(o));
	o.quiet = true;
	saved = dup(STDERR_FILENO);
	devnull = open("/dev/null", O_WRONLY);
	(void)dup2(devnull, STDERR_FILENO);
	rc = cf_http_open(&cfg, &o, &h, NULL);
	(void)dup2(saved, STDERR_FILENO);
	(void)close(saved);
	(void)close(devnull);
	assert_int_equal(rc, CF_OK);
	return h;
}

static void
test_client_http_integrity(void **state)
{
	struct fake		 f;
	struct cf_http		*h = NULL;
	struct cf_obj_info	 info;
	struct cf_error		 err;
	char			 url[64], dir[300], path[400], buf[16];
	int			 dfd, fd, i;
	json_t			*v = NULL;
	cf_err			 rc;

	(void)state;
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	h = fake_client(&f, url, sizeof(url));

	(void)snprintf(dir, sizeof(dir), "%s/dl", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd != -1);
	memset(&info, 0, sizeof(info));
	cf_obj_info_clear(&info);

	/* A good download lands under its name, token sent as a header. */
	rc = cf_cli_get_to_file(h, "t", "ok", NULL, dfd, "out", "ok", &info,
	    NULL);
	assert_int_equal(rc, CF_OK);
	assert_non_null(strstr(f.last_req,
	    "Authorization: Bearer cft_testtoken"));
	assert_string_equal(info.sha256, HELLO_SHA);
	assert_string_equal(info.request_id, "hdr-id");
	(void)snprintf(path, sizeof(path), "%s/out", dir);
	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	assert_int_equal(read(fd, buf, sizeof(buf)), 5);
	(void)close(fd);
	assert_memory_equal(buf, "hello", 5);

	/* SEC: wrong digest, cut-short body, no digest: CF_E_INTEGRITY,
	 * the existing file untouched, no temporary file left. */
	cf_error_clear(&err);
	rc = cf_cli_get_to_file(h, "t", "bad", NULL, dfd, "out", "bad", &info,
	    &err);
	assert_int_equal(rc, CF_E_INTEGRITY);
	assert_non_null(strstr(err.msg, "SHA-256 mismatch"));
	assert_int_equal(cf_http_exit(h, rc), CF_EXIT_INTEGRITY);
	rc = cf_cli_get_to_file(h, "t", "trunc", NULL, dfd, "out", "trunc",
	    &info, NULL);
	assert_int_equal(rc, CF_E_INTEGRITY);
	assert_int_equal(cf_http_exit(h, rc), CF_EXIT_INTEGRITY);
	rc = cf_cli_get_to_file(h, "t", "nosha", NULL, dfd, "new", "nosha",
	    &info, NULL);
	assert_int_equal(rc, CF_E_INTEGRITY);
	assert_int_equal(count_entries(dir), 1);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 5);
	(void)close(fd);
	assert_memory_equal(buf, "hello", 5);

	/* Error statuses: message from the JSON body, exit from status. */
	cf_error_clear(&err);
	rc = cf_cli_get_to_file(h, "t", "e503", NULL, dfd, "x", "e503", &info,
	    &err);
	assert_int_not_equal(rc, CF_OK);
	assert_string_equal(err.msg, "audit log unavailable (unavailable, "
	    "request rq1)");
	assert_int_equal(cf_http_exit(h, rc), CF_EXIT_SERVER);
	cf_error_clear(&err);
	rc = cf_http_json(h, "GET", "/v1/ns/t/objects/e401", NULL, &v, &err);
	assert_int_equal(rc, CF_E_AUTH);
	assert_int_equal(cf_http_exit(h, rc), CF_EXIT_AUTH);
	assert_null(v);
	cf_error_clear(&err);
	rc = cf_http_head(h, "/v1/nowhere", &info, &err);
	assert_int_equal(cf_http_exit(h, rc), CF_EXIT_NOTFOUND);
	assert_non_null(strstr(err.msg, "request hdr-id"));
	assert_int_equal(count_entries(dir), 1);

	/* Keys go out literally: no dot-segment collapsing. */
	rc = cf_http_json(h, "GET", "/v1/ns/t/objects/../../x%20y", NULL, &v,
	    NULL);
	assert_int_equal(rc, CF_E_NOTFOUND);
	assert_non_null(strstr(f.last_req,
	    "GET /v1/ns/t/objects/../../x%20y HTTP/1.1"));

	/* Upload: read once, the digest ends the body (X-Coffer-SHA256:
	 * trailing; --one-pass changes nothing), and the server's digest is
	 * checked afterwards too. */
	(void)snprintf(path, sizeof(path), "%s/up.txt", tmpdir);
	write_file(path, "hello", 0600);
	for (i = 0; i < 2; i++) {
		rc = cf_cli_put_file(h, "t", "up", path, NULL, NULL, i == 1,
		    &v, NULL);
		assert_int_equal(rc, CF_OK);
		assert_non_null(strstr(f.last_req,
		    "X-Coffer-SHA256: trailing"));
		assert_non_null(strstr(f.last_req, "Content-Length: 69"));
		assert_non_null(strstr(f.last_req,
		    "PUT /v1/ns/t/objects/up "));
		assert_int_equal(f.last_body, 5 + 64);
		assert_string_equal(f.last_tail, HELLO_SHA);
		json_decref(v);
		v = NULL;
	}
	rc = cf_cli_put_file(h, "t", "up-wrong", path, NULL, NULL, true, &v,
	    NULL);
	assert_int_equal(rc, CF_E_INTEGRITY);
	assert_null(v);

	/* Nobody listening: a network error. */
	fake_stop(&f);
	rc = cf_http_json(h, "GET", "/v1/whoami", NULL, &v, NULL);
	assert_int_not_equal(rc, CF_OK);
	assert_int_equal(cf_http_exit(h, rc), CF_EXIT_NETWORK);

	cf_obj_info_clear(&info);
	(void)close(dfd);
	cf_http_close(h);
}

/* ---- the download sink ---- */

/* Chunk sizes as libcurl might hand them over, and worse: around and
 * across the sink's 1 MiB buffers. */
static const size_t sink_chunks[] = {
	1, 7, 16384, (1u << 20) - 1, 2, (1u << 20) + 1, 4095,
	(3u << 20) + 5, 65537, 500000, 16383
};

/* Feed n bytes of p to s in those chunks; the first failure. */
static cf_err
sink_feed(struct cf_cli_sink *s, const uint8_t *p, size_t n,
    struct cf_error *err)
{
	size_t	i = 0, k;
	cf_err	rc;

	while (n > 0) {
		k = sink_chunks[i++ % (sizeof(sink_chunks) /
		    sizeof(sink_chunks[0]))];
		if (k > n)
			k = n;
		rc = cf_cli_sink_write(s, p, k, err);
		if (rc != CF_OK)
			return rc;
		p += k;
		n -= k;
	}
	return CF_OK;
}

/* The other end of a pipe: reads in small, odd pieces (so the writer
 * often waits for a buffer), keeps up to cap bytes, and closes its end
 * after stop_after bytes or at EOF. */
struct drain {
	int		 fd;
	uint8_t		*buf;		/* may be NULL */
	size_t		 cap;
	size_t		 stop_after;
	size_t		 got;
	pthread_t	 thr;
};

static void *
drain_main(void *arg)
{
	struct drain	*d = arg;
	uint8_t		 tmp[3001];
	size_t		 want;
	ssize_t		 n;

	while (d->got < d->stop_after) {
		want = d->stop_after - d->got;
		if (want > sizeof(tmp))
			want = sizeof(tmp);
		n = read(d->fd, tmp, want);
		if (n <= 0)
			break;
		if (d->buf != NULL && d->got + (size_t)n <= d->cap)
			memcpy(d->buf + d->got, tmp, (size_t)n);
		d->got += (size_t)n;
	}
	(void)close(d->fd);
	return NULL;
}

/* Start a drain on a new pipe; returns the write end. */
static int
drain_start(struct drain *d, uint8_t *buf, size_t cap, size_t stop_after)
{
	int	p[2];

	assert_int_equal(pipe(p), 0);
	memset(d, 0, sizeof(*d));
	d->fd = p[0];
	d->buf = buf;
	d->cap = cap;
	d->stop_after = stop_after;
	assert_int_equal(pthread_create(&d->thr, NULL, drain_main, d), 0);
	return p[1];
}

static void
test_client_sink_stream(void **state)
{
	struct cf_cli_sink	*s = NULL;
	struct drain		 dr;
	uint8_t			 d[CF_SHA256_LEN], want[CF_SHA256_LEN];
	uint8_t			*back;
	char			 path[400], small[1000];
	int			 fd;

	(void)state;
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	big_init();
	cf_sha256(big_body, BIG_LEN, want);
	back = malloc(BIG_LEN);
	assert_non_null(back);

	/* A file: exactly the bytes, in order, and their digest. */
	(void)snprintf(path, sizeof(path), "%s/sink.bin", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(cf_cli_sink_new(fd, &s, NULL), CF_OK);
	assert_int_equal(sink_feed(s, big_body, BIG_LEN, NULL), CF_OK);
	assert_int_equal(cf_cli_sink_final(s, d, NULL), CF_OK);
	cf_cli_sink_free(s);
	assert_memory_equal(d, want, sizeof(d));
	assert_int_equal(pread(fd, back, BIG_LEN, 0), (ssize_t)BIG_LEN);
	assert_memory_equal(back, big_body, BIG_LEN);
	(void)close(fd);

	/* A slow pipe: the caller waits for free buffers. */
	memset(back, 0, BIG_LEN);
	fd = drain_start(&dr, back, BIG_LEN, SIZE_MAX);
	assert_int_equal(cf_cli_sink_new(fd, &s, NULL), CF_OK);
	assert_int_equal(sink_feed(s, big_body, BIG_LEN, NULL), CF_OK);
	assert_int_equal(cf_cli_sink_final(s, d, NULL), CF_OK);
	cf_cli_sink_free(s);
	(void)close(fd);
	assert_int_equal(pthread_join(dr.thr, NULL), 0);
	assert_int_equal(dr.got, BIG_LEN);
	assert_memory_equal(back, big_body, BIG_LEN);
	assert_memory_equal(d, want, sizeof(d));

	/* Below one buffer everything is written before write returns. */
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(cf_cli_sink_new(fd, &s, NULL), CF_OK);
	assert_int_equal(cf_cli_sink_write(s, big_body, 600, NULL), CF_OK);
	assert_int_equal(cf_cli_sink_write(s, big_body + 600, 400, NULL),
	    CF_OK);
	assert_int_equal(pread(fd, small, sizeof(small), 0), 1000);
	assert_memory_equal(small, big_body, 1000);
	assert_int_equal(cf_cli_sink_final(s, d, NULL), CF_OK);
	cf_sha256(big_body, 1000, want);
	assert_memory_equal(d, want, sizeof(d));
	/* Once only, and nothing after the end. */
	assert_int_equal(cf_cli_sink_final(s, d, NULL), CF_E_INVAL);
	assert_int_equal(cf_cli_sink_write(s, "x", 1, NULL), CF_E_INVAL);
	cf_cli_sink_free(s);
	(void)close(fd);

	/* An empty body. */
	assert_int_equal(cf_cli_sink_new(-1, &s, NULL), CF_OK);
	assert_int_equal(cf_cli_sink_final(s, d, NULL), CF_OK);
	cf_cli_sink_free(s);
	cf_sha256("", 0, want);
	assert_memory_equal(d, want, sizeof(d));

	/* Freed in the middle (no finish): the thread is stopped. */
	fd = open("/dev/null", O_WRONLY);
	assert_true(fd != -1);
	assert_int_equal(cf_cli_sink_new(fd, &s, NULL), CF_OK);
	assert_int_equal(sink_feed(s, big_body, BIG_LEN / 2, NULL), CF_OK);
	cf_cli_sink_free(s);
	(void)close(fd);
	free(back);
}

static void
test_client_sink_write_error(void **state)
{
	struct cf_cli_sink	*s = NULL;
	struct cf_error		 err;
	struct drain		 dr;
	uint8_t			 d[CF_SHA256_LEN];
	void			(*old)(int);
	size_t			 off;
	int			 fd;
	cf_err			 rc;

	(void)state;
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	big_init();

	/* ENOSPC in a synchronous write: at once. */
	fd = open("/dev/full", O_WRONLY);
	assert_true(fd != -1);
	assert_int_equal(cf_cli_sink_new(fd, &s, NULL), CF_OK);
	cf_error_clear(&err);
	assert_int_equal(cf_cli_sink_write(s, big_body, 100, &err), CF_E_IO);
	assert_int_equal(cf_cli_sink_errno(s), ENOSPC);
	assert_string_equal(err.msg, "cannot write the download: No space "
	    "left on device");
	assert_int_equal(cf_cli_sink_write(s, big_body, 100, NULL), CF_E_IO);
	assert_int_equal(cf_cli_sink_final(s, d, NULL), CF_E_IO);
	cf_cli_sink_free(s);
	(void)close(fd);

	/* EPIPE on the thread: the reader leaves after 1.5 MiB.  A later
	 * write reports it, every write after it too, and the end. */
	old = signal(SIGPIPE, SIG_IGN);
	fd = drain_start(&dr, NULL, 0, (3u << 20) / 2);
	assert_int_equal(cf_cli_sink_new(fd, &s, NULL), CF_OK);
	rc = CF_OK;
	for (off = 0; off + 65536 <= BIG_LEN && rc == CF_OK; off += 65536)
		rc = cf_cli_sink_write(s, big_body + off, 65536, NULL);
	assert_int_equal(rc, CF_E_IO);
	assert_int_equal(cf_cli_sink_errno(s), EPIPE);
	assert_int_equal(cf_cli_sink_write(s, big_body, 1, NULL), CF_E_IO);
	cf_error_clear(&err);
	assert_int_equal(cf_cli_sink_final(s, d, &err), CF_E_IO);
	assert_non_null(strstr(err.msg, "Broken pipe"));
	cf_cli_sink_free(s);
	(void)close(fd);
	assert_int_equal(pthread_join(dr.thr, NULL), 0);
	assert_int_equal(dr.got, (3u << 20) / 2);

	/* A failure in the partly filled last buffer, which only the end
	 * writes: 1 MiB synchronously, 2 MiB in two full buffers, then 100
	 * bytes; the reader takes exactly the 3 MiB, then leaves. */
	fd = drain_start(&dr, NULL, 0, 3u << 20);
	assert_int_equal(cf_cli_sink_new(fd, &s, NULL), CF_OK);
	assert_int_equal(cf_cli_sink_write(s, big_body, 1u << 20, NULL),
	    CF_OK);
	assert_int_equal(cf_cli_sink_write(s, big_body + (1u << 20),
	    2u << 20, NULL), CF_OK);
	assert_int_equal(cf_cli_sink_write(s, big_body + (3u << 20), 100,
	    NULL), CF_OK);
	assert_int_equal(pthread_join(dr.thr, NULL), 0);
	assert_int_equal(dr.got, 3u << 20);
	cf_error_clear(&err);
	assert_int_equal(cf_cli_sink_finish(s, &err), CF_E_IO);
	assert_int_equal(cf_cli_sink_errno(s), EPIPE);
	assert_int_equal(cf_cli_sink_finish(s, NULL), CF_E_IO);
	assert_int_equal(cf_cli_sink_final(s, d, NULL), CF_E_IO);
	cf_cli_sink_free(s);
	(void)close(fd);
	(void)signal(SIGPIPE, old);
}

/* Every allocation failure: NOMEM from new, or (the buffers) a sink that
 * stays synchronous and is just as correct. */
static void
test_client_sink_survives_every_alloc_failure(void **state)
{
	struct cf_cli_sink	*s;
	uint8_t			 d[CF_SHA256_LEN], want[CF_SHA256_LEN];
	char			 path[400];
	unsigned int		 n;
	int			 fd;
	cf_err			 rc;

	(void)state;
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	big_init();
	cf_sha256(big_body, (3u << 20) + 7, want);
	(void)snprintf(path, sizeof(path), "%s/sink-nomem.bin", tmpdir);
	for (n = 1; n <= 8; n++) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_true(fd != -1);
		s = NULL;
		cf_test_fail_alloc_after(n);
		rc = cf_cli_sink_new(fd, &s, NULL);
		if (rc == CF_OK) {
			rc = sink_feed(s, big_body, (3u << 20) + 7, NULL);
			if (rc == CF_OK)
				rc = cf_cli_sink_final(s, d, NULL);
		}
		cf_test_fail_alloc_after(0);
		if (s == NULL)
			assert_int_equal(rc, CF_E_NOMEM);
		else {
			assert_int_equal(rc, CF_OK);
			assert_memory_equal(d, want, sizeof(d));
			assert_int_equal(lseek(fd, 0, SEEK_END),
			    (off_t)(3u << 20) + 7);
		}
		cf_cli_sink_free(s);
		(void)close(fd);
	}
}

/* A download larger than the sink's buffers, through the HTTP layer. */
static void
test_client_http_big_download(void **state)
{
	struct fake		 f;
	struct cf_http		*h = NULL;
	struct cf_obj_info	 info;
	struct cf_error		 err;
	struct drain		 dr;
	void			(*old)(int);
	char			 url[64], dir[300], path[400];
	uint8_t			*back;
	int			 dfd, fd;
	cf_err			 rc;

	(void)state;
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	big_init();
	back = malloc(BIG_LEN);
	assert_non_null(back);
	h = fake_client(&f, url, sizeof(url));
	(void)snprintf(dir, sizeof(dir), "%s/bigdl", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd != -1);
	memset(&info, 0, sizeof(info));
	cf_obj_info_clear(&info);

	/* Verified and renamed into place, every byte right. */
	rc = cf_cli_get_to_file(h, "t", "big", NULL, dfd, "out", "big", &info,
	    NULL);
	assert_int_equal(rc, CF_OK);
	assert_int_equal(info.size, (int64_t)BIG_LEN);
	(void)snprintf(path, sizeof(path), "%s/out", dir);
	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	assert_int_equal(pread(fd, back, BIG_LEN, 0), (ssize_t)BIG_LEN);
	(void)close(fd);
	assert_memory_equal(back, big_body, BIG_LEN);

	/* SEC: a wrong digest still fails, and leaves nothing behind. */
	cf_error_clear(&err);
	rc = cf_cli_get_to_file(h, "t", "bigbad", NULL, dfd, "out", "bigbad",
	    &info, &err);
	assert_int_equal(rc, CF_E_INTEGRITY);
	assert_non_null(strstr(err.msg, "SHA-256 mismatch"));
	assert_int_equal(count_entries(dir), 1);

	/* A full disk: reported as the write error it is. */
	fd = open("/dev/full", O_WRONLY);
	assert_true(fd != -1);
	cf_error_clear(&err);
	rc = cf_http_get_fd(h, "/v1/ns/t/objects/big", fd, "big", &info,
	    &err);
	(void)close(fd);
	assert_int_equal(rc, CF_E_IO);
	assert_string_equal(err.msg, "cannot write the download: No space "
	    "left on device");
	assert_int_equal(cf_http_exit(h, rc), cf_cli_exit_for_err(CF_E_IO));

	/* A reader that leaves half-way (stdout into `head -c`, with
	 * SIGPIPE ignored): the thread's EPIPE, reported the same way. */
	old = signal(SIGPIPE, SIG_IGN);
	fd = drain_start(&dr, NULL, 0, (5u << 20) / 2);
	cf_error_clear(&err);
	rc = cf_http_get_fd(h, "/v1/ns/t/objects/big", fd, "big", &info,
	    &err);
	(void)close(fd);
	assert_int_equal(pthread_join(dr.thr, NULL), 0);
	(void)signal(SIGPIPE, old);
	assert_int_equal(rc, CF_E_IO);
	assert_string_equal(err.msg, "cannot write the download: Broken "
	    "pipe");
	assert_int_equal(cf_http_exit(h, rc), cf_cli_exit_for_err(CF_E_IO));

	/* The handle still works afterwards. */
	rc = cf_cli_get_to_file(h, "t", "ok", NULL, dfd, "small", "ok", &info,
	    NULL);
	assert_int_equal(rc, CF_OK);

	cf_obj_info_clear(&info);
	(void)close(dfd);
	cf_http_close(h);
	fake_stop(&f);
	free(back);
}

static void
test_client_error_code(void **state)
{
	char	c[64];
	const char *b = "{\"error\":{\"code\":\"mfa_required\",\"message\":"
	    "\"m\"}}";

	(void)state;
	assert_true(cf_cli_error_code(b, strlen(b), c, sizeof(c)));
	assert_string_equal(c, "mfa_required");
	assert_false(cf_cli_error_code("{}", 2, c, sizeof(c)));
	assert_string_equal(c, "");
	assert_false(cf_cli_error_code("not json", 8, c, sizeof(c)));
	assert_false(cf_cli_error_code(NULL, 0, c, sizeof(c)));
	b = "{\"error\":{\"code\":\"a\\u001b[31mb\"}}";
	assert_true(cf_cli_error_code(b, strlen(b), c, sizeof(c)));
	assert_null(strchr(c, 0x1b));		/* sanitized */
	b = "{\"error\":{\"code\":\"abcdefghijklmnop\"}}";
	assert_true(cf_cli_error_code(b, strlen(b), c, 5));
	assert_int_equal(strlen(c), 4);
}

static void
test_client_totp_code_shape(void **state)
{
	(void)state;
	assert_true(cf_cli_is_totp_code("123456"));
	assert_true(cf_cli_is_totp_code("12345678"));
	assert_false(cf_cli_is_totp_code("12345"));
	assert_false(cf_cli_is_totp_code("123456789"));
	assert_false(cf_cli_is_totp_code("abcd-efgh-ijkl-mnop"));
	assert_false(cf_cli_is_totp_code("12 3456"));
	assert_false(cf_cli_is_totp_code(""));
}

static void
test_client_exit_limited(void **state)
{
	(void)state;
	assert_int_equal(cf_cli_exit_for_status(429), CF_EXIT_LIMITED);
	assert_int_equal(CF_EXIT_LIMITED, 11);
	assert_int_equal(cf_cli_exit_for_status(400), CF_EXIT_INPUT);
}

/* Write text into a pipe and return its read end. */
static int
pipe_with(const char *text, size_t len)
{
	int	p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], text, len), (ssize_t)len);
	(void)close(p[1]);
	return p[0];
}

static void
test_client_read_line(void **state)
{
	char	buf[16], big[5000];
	int	fd;

	(void)state;
	/* Lines one at a time: the second read gets the second line. */
	fd = pipe_with("current pw\nnew pw\r\n", 19);
	assert_int_equal(cf_cli_read_line(fd, buf, sizeof(buf), NULL), CF_OK);
	assert_string_equal(buf, "current pw");
	assert_int_equal(cf_cli_read_line(fd, buf, sizeof(buf), NULL), CF_OK);
	assert_string_equal(buf, "new pw");
	assert_int_equal(cf_cli_read_line(fd, buf, sizeof(buf), NULL),
	    CF_E_INPUT);
	(void)close(fd);
	/* No final newline. */
	fd = pipe_with("last", 4);
	assert_int_equal(cf_cli_read_line(fd, buf, sizeof(buf), NULL), CF_OK);
	assert_string_equal(buf, "last");
	(void)close(fd);
	/* An empty line is an empty string, not end of input. */
	fd = pipe_with("\nx\n", 3);
	assert_int_equal(cf_cli_read_line(fd, buf, sizeof(buf), NULL), CF_OK);
	assert_string_equal(buf, "");
	(void)close(fd);
	/* Too long: refused, buffer wiped, the rest of the line consumed. */
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 3] = '\n';
	big[sizeof(big) - 2] = 'z';
	big[sizeof(big) - 1] = '\n';
	fd = pipe_with(big, sizeof(big));
	assert_int_equal(cf_cli_read_line(fd, buf, sizeof(buf), NULL),
	    CF_E_LIMIT);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(cf_cli_read_line(fd, buf, sizeof(buf), NULL), CF_OK);
	assert_string_equal(buf, "z");
	(void)close(fd);
	/* Exactly 15 bytes fit a 16-byte buffer. */
	fd = pipe_with("123456789012345\n", 16);
	assert_int_equal(cf_cli_read_line(fd, buf, sizeof(buf), NULL), CF_OK);
	assert_int_equal(strlen(buf), 15);
	(void)close(fd);
	/* A NUL byte is refused. */
	fd = pipe_with("a\0b\n", 4);
	assert_int_equal(cf_cli_read_line(fd, buf, sizeof(buf), NULL),
	    CF_E_INPUT);
	(void)close(fd);
	/* --password-stdin with a fresh password: one line. */
	fd = pipe_with("long new password\n", 18);
	assert_int_equal(cf_cli_new_password(fd, "New password", big,
	    sizeof(big), NULL), CF_OK);
	assert_string_equal(big, "long new password");
	(void)close(fd);
}

static void
test_client_json_wipe(void **state)
{
	json_t		*v;
	const char	*p;

	(void)state;
	v = json_pack("{s:s, s:[s,s]}", "password", "hunter2hunter2",
	    "recovery_codes", "aaaa-bbbb", "cccc-dddd");
	assert_non_null(v);
	p = json_string_value(json_object_get(v, "password"));
	cf_cli_json_wipe_member(v, "password");
	assert_int_equal(p[0], '\0');
	cf_cli_json_wipe_array(v, "recovery_codes");
	assert_int_equal(json_string_value(json_array_get(json_object_get(v,
	    "recovery_codes"), 1))[0], '\0');
	cf_cli_json_wipe_member(v, "absent");	/* no-op */
	cf_cli_json_wipe_member(NULL, "x");
	json_decref(v);
}

static unsigned	slept;		/* seconds the retries "waited" */

static void
count_sleep(unsigned secs)
{
	slept += secs;
}

/* Busy servers: cf_cli_retry_wanted's rules. */
static void
test_client_retry_rules(void **state)
{
	unsigned	secs = 99;

	(void)state;
	assert_true(cf_cli_retry_wanted(429, "too_many_transfers", "5", 0, 3,
	    &secs));
	assert_int_equal(secs, 5);
	assert_true(cf_cli_retry_wanted(429, "", "0", 2, 3, &secs));
	assert_int_equal(secs, 0);
	assert_false(cf_cli_retry_wanted(429, "x", "5", 3, 3, &secs));
	assert_false(cf_cli_retry_wanted(503, "x", "5", 0, 3, &secs));
	assert_false(cf_cli_retry_wanted(429, "x", "", 0, 3, &secs));
	assert_false(cf_cli_retry_wanted(429, "x", NULL, 0, 3, &secs));
	assert_false(cf_cli_retry_wanted(429, "locked", "5", 0, 3, &secs));
	assert_false(cf_cli_retry_wanted(429, "x", "61", 0, 3, &secs));
	assert_false(cf_cli_retry_wanted(429, "x",
	    "Wed, 21 Oct 2015 07:28:00 GMT", 0, 3, &secs));
	assert_false(cf_cli_retry_wanted(429, "x", "-1", 0, 3, &secs));
	unsetenv(CF_ENV_RETRIES);
	assert_int_equal(cf_cli_retries(), CF_CLI_RETRIES_DEFAULT);
	(void)setenv(CF_ENV_RETRIES, "5", 1);
	assert_int_equal(cf_cli_retries(), 5);
	(void)setenv(CF_ENV_RETRIES, "11", 1);
	assert_int_equal(cf_cli_retries(), CF_CLI_RETRIES_DEFAULT);
	unsetenv(CF_ENV_RETRIES);
}

/* Step-up: 401 mfa_required -> POST /v1/session/mfa with the code from
 * --code, then the request is retried once; a code is used only once, and
 * without a code (and no terminal) the error names the way out. */
static void
test_client_stepup(void **state)
{
	struct fake		 f;
	struct cf_cfg		 cfg = { 0 };
	struct cf_cli_opts	 o = { 0 };
	struct cf_http		*h = NULL;
	struct cf_error		 err;
	char			 url[64];
	json_t			*v = NULL;
	cf_err			 rc;

	(void)state;
	fake_start(&f);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%d", f.port);
	cfg.server = url;
	cfg.token = (char *)"cfs_test";
	o.quiet = true;
	unsetenv(CF_ENV_MFA_CODE);

	/* No code and (under ctest) no terminal: fails, says mfa_required. */
	o.code = NULL;
	assert_int_equal(cf_http_open(&cfg, &o, &h, NULL), CF_OK);
	if (!cf_cli_have_tty()) {
		cf_error_clear(&err);
		rc = cf_http_json(h, "GET", "/v1/mfa-needed", NULL, &v, &err);
		assert_int_equal(rc, CF_E_AUTH);
		assert_int_equal(cf_http_exit(h, rc), CF_EXIT_AUTH);
		assert_non_null(strstr(err.msg, "mfa_required"));
		assert_string_equal(cf_http_error_code(h), "mfa_required");
		assert_int_equal(f.stepups, 0);
	}
	cf_http_close(h);
	h = NULL;

	/* A wrong code: the step-up fails with its own error. */
	o.code = "000000";
	assert_int_equal(cf_http_open(&cfg, &o, &h, NULL), CF_OK);
	cf_error_clear(&err);
	rc = cf_http_json(h, "GET", "/v1/mfa-needed", NULL, &v, &err);
	assert_int_equal(rc, CF_E_AUTH);
	assert_non_null(strstr(err.msg, "invalid_code"));
	assert_int_equal(f.stepups, 1);
	cf_http_close(h);
	h = NULL;

	/* The right code: step-up, then the retry succeeds. */
	o.code = "123456";
	assert_int_equal(cf_http_open(&cfg, &o, &h, NULL), CF_OK);
	cf_error_clear(&err);
	rc = cf_http_json(h, "GET", "/v1/mfa-needed", NULL, &v, &err);
	assert_int_equal(rc, CF_OK);
	assert_true(json_is_true(json_object_get(v, "ok")));
	assert_int_equal(f.stepups, 2);
	json_decref(v);
	v = NULL;
	/* Step-up off (login): the 401 comes back as is. */
	f.stepped = 0;
	cf_http_set_stepup(h, false);
	rc = cf_http_json(h, "GET", "/v1/mfa-needed", NULL, &v, NULL);
	assert_int_equal(rc, CF_E_AUTH);
	assert_int_equal(f.stepups, 2);
	cf_http_set_stepup(h, true);
	/* The code was used: no second step-up with it. */
	if (!cf_cli_have_tty()) {
		rc = cf_http_json(h, "GET", "/v1/mfa-needed", NULL, &v, NULL);
		assert_int_equal(rc, CF_E_AUTH);
		assert_int_equal(f.stepups, 2);
	}

	/* 429: sent again after Retry-After (the wait injected), at most
	 * CF_CLI_RETRIES_DEFAULT times; then exit code 11 and the delay in
	 * the message. */
	cf_cli_set_retry_sleep(count_sleep);
	slept = 0;
	unsetenv(CF_ENV_RETRIES);
	cf_error_clear(&err);
	rc = cf_http_json(h, "POST", "/v1/limited", NULL, &v, &err);
	assert_int_not_equal(rc, CF_OK);
	assert_int_equal(cf_http_exit(h, rc), CF_EXIT_LIMITED);
	assert_non_null(strstr(err.msg, "retry after 7 s"));
	assert_int_equal(f.limited, 1 + CF_CLI_RETRIES_DEFAULT);
	assert_int_equal(slept, 7 * CF_CLI_RETRIES_DEFAULT);
	/* COFFER_RETRIES=0: no retry; a locked account: never retried. */
	(void)setenv(CF_ENV_RETRIES, "0", 1);
	rc = cf_http_json(h, "POST", "/v1/limited", NULL, &v, NULL);
	assert_int_equal(f.limited, 2 + CF_CLI_RETRIES_DEFAULT);
	unsetenv(CF_ENV_RETRIES);
	slept = 0;
	rc = cf_http_json(h, "POST", "/v1/locked", NULL, &v, NULL);
	assert_int_equal(cf_http_exit(h, rc), CF_EXIT_LIMITED);
	assert_int_equal(slept, 0);
	/* An upload refused twice, then taken: the file is sent again
	 * whole each time. */
	{
		char	 path[] = "/tmp/cf-test-retry-XXXXXX";
		int	 fd = mkstemp(path);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "hello", 5), 5);
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		f.busy_left = 2;
		f.busy_seen = 0;
		rc = cf_http_put_fd(h, "/v1/ns/t/objects/busy", fd, 5, NULL,
		    NULL, NULL, "busy", &v, NULL);
		assert_int_equal(rc, CF_OK);
		assert_int_equal(f.busy_seen, 3);
		/* The file and its trailing digest (64 hex digits). */
		assert_int_equal(f.last_body, 5 + 64);
		assert_int_equal(slept, 4);
		json_decref(v);
		v = NULL;
		(void)close(fd);
		(void)unlink(path);
	}
	cf_cli_set_retry_sleep(NULL);

	/* A handle without a token never steps up. */
	assert_int_equal(cf_http_set_token(h, NULL, NULL), CF_OK);
	f.stepped = 0;
	rc = cf_http_json(h, "GET", "/v1/mfa-needed", NULL, &v, NULL);
	assert_int_equal(rc, CF_E_AUTH);
	assert_int_equal(f.stepups, 2);
	assert_int_equal(cf_http_set_token(h, "bad token", NULL),
	    CF_E_INPUT);
	cf_http_close(h);
	fake_stop(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_urlenc),
		cmocka_unit_test(test_client_obj_path),
		cmocka_unit_test(test_client_split_nskey),
		cmocka_unit_test(
		    test_client_split_nskey_survives_every_alloc_failure),
		cmocka_unit_test(test_client_relpath_safe),
		cmocka_unit_test(test_client_key_rel),
		cmocka_unit_test(test_client_config_save_load),
		cmocka_unit_test(
		    test_client_config_load_survives_every_alloc_failure),
		cmocka_unit_test(test_client_config_path),
		cmocka_unit_test(test_client_config_env_override),
		cmocka_unit_test(test_client_token_file),
		cmocka_unit_test(test_client_norm_server),
		cmocka_unit_test(test_client_duration),
		cmocka_unit_test(test_client_headers),
		cmocka_unit_test(test_client_error_body),
		cmocka_unit_test(test_client_exit_codes),
		cmocka_unit_test(test_client_parse_options),
		cmocka_unit_test(test_client_fmt),
		cmocka_unit_test(test_client_http_integrity),
		cmocka_unit_test(test_client_sink_stream),
		cmocka_unit_test(test_client_sink_write_error),
		cmocka_unit_test(test_client_sink_survives_every_alloc_failure),
		cmocka_unit_test(test_client_http_big_download),
		cmocka_unit_test(test_client_error_code),
		cmocka_unit_test(test_client_totp_code_shape),
		cmocka_unit_test(test_client_exit_limited),
		cmocka_unit_test(test_client_read_line),
		cmocka_unit_test(test_client_json_wipe),
		cmocka_unit_test(test_client_stepup),
		cmocka_unit_test(test_client_retry_rules),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}

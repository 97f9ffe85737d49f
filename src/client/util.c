/* src/client/util.c: offline helpers of the CLI: option handling, exit
 * codes, URL and key encoding, NS/KEY arguments, safe relative paths,
 * error bodies and output formatting.  No libcurl, no crypto: the unit
 * tests link this file alone. */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

bool
cf_cli_common_opt(int ch, const char *arg, struct cf_cli_opts *o)
{
	switch (ch) {
	case CF_CLI_OPT_JSON:
		o->json = true;
		return true;
	case 'q':
		o->quiet = true;
		return true;
	case CF_CLI_OPT_SERVER:
		o->server = arg;
		return true;
	case CF_CLI_OPT_CA_CERT:
		o->ca_cert = arg;
		return true;
	case CF_CLI_OPT_INSECURE:
		o->insecure = true;
		return true;
	case CF_CLI_OPT_CODE:
		o->code = arg;
		return true;
	case 'h':
		o->help = true;
		return true;
	default:
		return false;
	}
}

void
cf_cli_getopt_begin(void)
{
	optind = 0;	/* GNU: full re-initialization */
	opterr = 0;	/* we print our own messages */
}

int
cf_cli_nextopt(int argc, char **argv, const char *shortopts,
    const struct option *lo, struct cf_cli_opts *o)
{
	int	ch;

	ch = getopt_long(argc, argv, shortopts, lo, NULL);
	if (ch == -1)
		return -1;
	if (ch == '?' || ch == ':') {
		if (optopt != 0 && optopt < 0x100 &&
		    strchr(shortopts, optopt) != NULL)
			cf_cli_errx("%s: option -%c needs an argument",
			    argv[0], optopt);
		else
			cf_cli_errx("%s: unknown option or missing argument: "
			    "%s (try coffer %s --help)", argv[0],
			    argv[optind - 1], argv[0]);
		return '?';
	}
	if (cf_cli_common_opt(ch, optarg, o))
		return 0;
	return ch;
}

char *
cf_cli_optarg(void)
{
	return optarg;
}

int
cf_cli_optind(void)
{
	return optind;
}

int
cf_cli_parse(int argc, char **argv, const char *usage,
    const char *shortopts, const struct option *lo, cf_cli_optfn fn,
    void *ctx, int min_ops, int max_ops, struct cf_cli_opts *o,
    char ***ops, int *nops)
{
	int	ch, n;

	cf_cli_getopt_begin();
	for (;;) {
		ch = cf_cli_nextopt(argc, argv, shortopts, lo, o);
		if (ch == -1)
			break;
		if (ch == 0)
			continue;
		if (ch == '?' || fn == NULL || !fn(ctx, ch, optarg)) {
			(void)fputs(usage, stderr);
			return CF_EXIT_USAGE;
		}
	}
	if (o->help) {
		(void)fputs(usage, stdout);
		return CF_EXIT_OK;
	}
	n = argc - optind;
	if (n < min_ops || (max_ops >= 0 && n > max_ops)) {
		(void)fputs(usage, stderr);
		return CF_EXIT_USAGE;
	}
	*ops = argv + optind;
	*nops = n;
	return -1;
}

void
cf_cli_errx(const char *fmt, ...)
{
	va_list	ap;

	(void)fputs("coffer: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

void
cf_cli_warnx(const char *fmt, ...)
{
	va_list	ap;

	(void)fputs("coffer: warning: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

static volatile sig_atomic_t	got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

void
cf_cli_signals_install(void)
{
	static const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction	 sa;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked read or connect returns EINTR. */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

int
cf_cli_interrupted(void)
{
	return (int)got_signal;
}

void
cf_cli_reraise(void)
{
	int	sig = (int)got_signal;

	if (sig == 0)
		return;
	(void)fflush(stdout);
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

int
cf_cli_exit_for_err(cf_err rc)
{
	switch (rc) {
	case CF_OK:
		return CF_EXIT_OK;
	case CF_E_INPUT:
	case CF_E_LIMIT:
		return CF_EXIT_INPUT;
	case CF_E_NOTFOUND:
		return CF_EXIT_NOTFOUND;
	case CF_E_DENIED:
		return CF_EXIT_DENIED;
	case CF_E_AUTH:
		return CF_EXIT_AUTH;
	case CF_E_INTEGRITY:
		return CF_EXIT_INTEGRITY;
	case CF_E_CONFLICT:
		return CF_EXIT_CONFLICT;
	default:
		return CF_EXIT_FAIL;
	}
}

int
cf_cli_exit_for_status(long status)
{
	if (status == 401)
		return CF_EXIT_AUTH;
	if (status == 403)
		return CF_EXIT_DENIED;
	if (status == 404)
		return CF_EXIT_NOTFOUND;
	if (status == 409)
		return CF_EXIT_CONFLICT;
	if (status == 429)
		return CF_EXIT_LIMITED;
	if (status >= 400 && status < 500)
		return CF_EXIT_INPUT;
	if (status >= 500)
		return CF_EXIT_SERVER;
	return CF_EXIT_FAIL;
}

cf_err
cf_cli_err_for_status(long status)
{
	if (status == 401)
		return CF_E_AUTH;
	if (status == 403)
		return CF_E_DENIED;
	if (status == 404)
		return CF_E_NOTFOUND;
	if (status == 409)
		return CF_E_CONFLICT;
	if (status >= 400 && status < 500)
		return CF_E_INPUT;
	return CF_E_INTERNAL;
}

static bool
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

cf_err
cf_cli_urlenc(struct cf_buf *b, const char *s, bool keep_slash,
    struct cf_error *err)
{
	static const char	 hexd[] = "0123456789ABCDEF";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 run;
	char			 esc[3];
	cf_err			 rc;

	while (*p != '\0') {
		/* Copy runs of kept bytes at once: keys are mostly plain. */
		run = 0;
		while (p[run] != '\0' &&
		    (unreserved(p[run]) || (keep_slash && p[run] == '/')))
			run++;
		if (run > 0) {
			rc = cf_buf_append(b, p, run, err);
			if (rc != CF_OK)
				return rc;
			p += run;
			continue;
		}
		esc[0] = '%';
		esc[1] = hexd[*p >> 4];
		esc[2] = hexd[*p & 0xf];
		rc = cf_buf_append(b, esc, sizeof(esc), err);
		if (rc != CF_OK)
			return rc;
		p++;
	}
	return CF_OK;
}

cf_err
cf_cli_split_nskey(const char *arg, bool need_key, char **ns, char **key,
    struct cf_error *err)
{
	const char	*slash;
	char		*n = NULL, *k = NULL;
	cf_err		 rc = CF_OK;

	slash = strchr(arg, '/');
	if (slash == arg) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "\"%s\": expected NS/KEY (no namespace)", arg);
		goto out;
	}
	if (*arg == '\0') {
		rc = cf_error_set(err, CF_E_INPUT,
		    "empty argument: expected NS/KEY");
		goto out;
	}
	if (slash == NULL) {
		n = cf_strdup(arg);
		k = cf_strdup("");
	} else {
		n = cf_strndup(arg, (size_t)(slash - arg));
		k = cf_strdup(slash + 1);
	}
	if (n == NULL || k == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	if (need_key && *k == '\0') {
		rc = cf_error_set(err, CF_E_INPUT,
		    "\"%s\": expected NS/KEY (no key after the namespace)",
		    arg);
		goto out;
	}
	*ns = n;
	*key = k;
	n = NULL;
	k = NULL;
out:
	cf_free(n);
	cf_free(k);
	return rc;
}

cf_err
cf_cli_obj_path(struct cf_buf *b, const char *ns, const char *what,
    const char *key, struct cf_error *err)
{
	cf_err	rc;

	cf_buf_reset(b);
	rc = cf_buf_append_str(b, "/v1/ns/", err);
	if (rc == CF_OK)
		rc = cf_cli_urlenc(b, ns, false, err);
	if (rc == CF_OK)
		rc = cf_buf_printf(b, err, "/%s/", what);
	if (rc == CF_OK)
		rc = cf_cli_urlenc(b, key, true, err);
	return rc;
}

bool
cf_cli_relpath_safe(const char *rel)
{
	const char	*p, *comp;
	size_t		 n;

	if (rel == NULL || *rel == '\0' || *rel == '/')
		return false;
	if (strlen(rel) >= CF_CLI_PATH_MAX)
		return false;
	for (p = rel; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	comp = rel;
	for (;;) {
		p = strchr(comp, '/');
		n = p == NULL ? strlen(comp) : (size_t)(p - comp);
		/* Empty ("a//b", "a/"), "." and ".." components. */
		if (n == 0 || (n == 1 && comp[0] == '.') ||
		    (n == 2 && comp[0] == '.' && comp[1] == '.'))
			return false;
		if (p == NULL)
			return true;
		comp = p + 1;
	}
}

const char *
cf_cli_key_rel(const char *key, const char *prefix)
{
	size_t	n = strlen(prefix);

	if (strncmp(key, prefix, n) != 0)
		return NULL;
	return key + n;
}

void
cf_cli_sanitize(const char *s, char *out, size_t outsz)
{
	size_t	i;

	if (outsz == 0)
		return;
	for (i = 0; s[i] != '\0' && i + 1 < outsz; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ?
		    '?' : s[i];
	out[i] = '\0';
}

static const char *
status_text(long status)
{
	switch (status) {
	case 400: return "bad request";
	case 401: return "not authenticated (missing, unknown, expired or "
	    "revoked token)";
	case 403: return "access denied";
	case 404: return "not found";
	case 405: return "method not allowed";
	case 409: return "conflict";
	case 413: return "too large";
	case 416: return "range not satisfiable";
	case 503: return "server unavailable";
	default: return status >= 500 ? "server error" : "request failed";
	}
}

void
cf_cli_error_body(long status, const void *body, size_t len,
    const char *reqid, char *msg, size_t msgsz)
{
	json_t		*root = NULL, *e;
	const char	*code = NULL, *m = NULL, *rid = NULL;
	char		 sm[200], sc[64], sr[96];

	if (body != NULL && len > 0 &&
	    cf_json_parse(body, len, CF_CLI_ERRBODY_MAX, 16, &root,
	    NULL) == CF_OK) {
		e = json_object_get(root, "error");
		if (json_is_object(e)) {
			(void)cf_json_get_str(e, "code", false, &code, NULL);
			(void)cf_json_get_str(e, "message", false, &m, NULL);
			(void)cf_json_get_str(e, "request_id", false, &rid,
			    NULL);
		}
	}
	if (rid == NULL || *rid == '\0')
		rid = reqid;
	cf_cli_sanitize(m != NULL && *m != '\0' ? m : "", sm, sizeof(sm));
	if (sm[0] == '\0')
		(void)snprintf(sm, sizeof(sm), "HTTP %ld %s", status,
		    status_text(status));
	cf_cli_sanitize(code != NULL ? code : "", sc, sizeof(sc));
	if (sc[0] == '\0')
		(void)snprintf(sc, sizeof(sc), "%ld", status);
	if (rid != NULL && *rid != '\0') {
		cf_cli_sanitize(rid, sr, sizeof(sr));
		(void)snprintf(msg, msgsz, "%s (%s, request %s)", sm, sc, sr);
	} else
		(void)snprintf(msg, msgsz, "%s (%s)", sm, sc);
	json_decref(root);
}

void
cf_cli_fmt_size(uint64_t n, char *out, size_t outsz)
{
	static const char	*units[] = { "KiB", "MiB", "GiB", "TiB",
	    "PiB" };
	double			 v = (double)n;
	size_t			 u = 0;

	if (n < 1024) {
		(void)snprintf(out, outsz, "%llu B", (unsigned long long)n);
		return;
	}
	v /= 1024.0;
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	(void)snprintf(out, outsz, "%.1f %s", v, units[u]);
}

void
cf_cli_print_json(const json_t *v)
{
	char	*text = cf_json_dumps(v);

	if (text == NULL) {
		cf_cli_warnx("out of memory: cannot print the JSON answer");
		return;
	}
	(void)fputs(text, stdout);
	(void)fputc('\n', stdout);
	cf_json_free(text);
}

const char *
cf_cli_jstr(const json_t *o, const char *name, const char *def)
{
	const char	*v;

	v = json_string_value(json_object_get(o, name));
	return v != NULL ? v : def;
}

void
cf_cli_fmt_time(const char *t, char *out, size_t outsz)
{
	char	tmp[20];

	(void)snprintf(tmp, sizeof(tmp), "%.19s", t);
	if (strlen(tmp) > 10 && tmp[10] == 'T')
		tmp[10] = ' ';
	cf_cli_sanitize(tmp, out, outsz);
}

void
cf_cli_json_wipe_token(json_t *v)
{
	json_t	*t;

	t = json_object_get(v, "token");
	if (json_is_string(t))
		/* jansson offers no mutable view; the cast through uintptr_t
		 * is deliberate: the string is ours and about to die. */
		cf_wipe((void *)(uintptr_t)json_string_value(t),
		    json_string_length(t));
}

void
cf_cli_json_wipe_member(json_t *v, const char *name)
{
	json_t	*t;

	t = json_object_get(v, name);
	if (json_is_string(t))
		cf_wipe((void *)(uintptr_t)json_string_value(t),
		    json_string_length(t));
}

void
cf_cli_json_wipe_array(json_t *v, const char *name)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(json_object_get(v, name), i, e)
		if (json_is_string(e))
			cf_wipe((void *)(uintptr_t)json_string_value(e),
			    json_string_length(e));
}

bool
cf_cli_error_code(const void *body, size_t len, char *out, size_t outsz)
{
	json_t		*v = NULL;
	const char	*c;
	bool		 ok = false;

	if (outsz == 0)
		return false;
	out[0] = '\0';
	if (body == NULL || len == 0 || len > CF_CLI_ERRBODY_MAX)
		return false;
	if (cf_json_parse(body, len, CF_CLI_ERRBODY_MAX, 8, &v, NULL) !=
	    CF_OK)
		return false;
	c = json_string_value(json_object_get(json_object_get(v, "error"),
	    "code"));
	if (c != NULL && *c != '\0') {
		cf_cli_sanitize(c, out, outsz);
		ok = true;
	}
	json_decref(v);
	return ok;
}

bool
cf_cli_is_totp_code(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n++;
	}
	return n >= 6 && n <= 8;
}

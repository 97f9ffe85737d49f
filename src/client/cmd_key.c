/* src/client/cmd_key.c: `coffer key status|rotate|retire` (over the API,
 * docs/api.md "Keys"); `coffer key init-hsm` is offline (main.c hands it
 * to the server's configuration code).  docs/keys.md is the guide. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

static const char key_usage[] =
    "usage: coffer key status\n"
    "       coffer key rotate\n"
    "       coffer key retire KEK_ID\n"
    "       coffer key init-hsm [--config FILE] [--set NAME=VALUE]...\n"
    "       coffer key rotate-master --data DIR\n"
    "\n"
    "status    the key provider, every KEK with the object versions, MFA\n"
    "          secrets and S3 keys wrapped under it, and the rewrap's\n"
    "          progress\n"
    "rotate    make a new active KEK: new versions use it at once, and\n"
    "          the server rewraps every DEK under it in the background\n"
    "          (no blob is re-encrypted)\n"
    "retire    destroy an old KEK, refused until nothing is wrapped\n"
    "          under it any more (coffer key status: versions 0)\n"
    "init-hsm  offline: generate the first KEK in the PKCS#11 token the\n"
    "          server configuration names (key_provider pkcs11; PIN from\n"
    "          pkcs11_pin_file or COFFER_PKCS11_PIN)\n"
    "rotate-master  offline, server stopped: a new master key; the\n"
    "          keyring and the self-signed TLS key are sealed again under\n"
    "          it, the audit MAC key and erasure signing key carried over\n"
    "\n"
    "status needs admin; rotate and retire need admin and a session with\n"
    "MFA.  Common options: --json, --quiet, --server, --ca-cert,\n"
    "--insecure, --code.  docs/keys.md has the rotation runbook.\n";

static void
print_status(const json_t *v)
{
	const json_t	*keks = json_object_get(v, "keks"), *k, *rw;
	size_t		 i;

	(void)printf("provider  %s%s\n", json_string_value(json_object_get(v,
	    "provider")), json_is_false(json_object_get(v, "reachable")) ?
	    " (NOT REACHABLE)" : "");
	(void)printf("active    %s\n", json_string_value(json_object_get(v,
	    "active")));
	(void)printf("%-12s %-8s %-7s %10s %6s %8s\n", "KEK", "WHERE",
	    "ACTIVE", "VERSIONS", "MFA", "S3_KEYS");
	json_array_foreach(keks, i, k) {
		(void)printf("%-12s %-8s %-7s %10lld %6lld %8lld\n",
		    json_string_value(json_object_get(k, "id")),
		    json_string_value(json_object_get(k, "where")),
		    json_is_true(json_object_get(k, "active")) ? "yes" : "",
		    (long long)json_integer_value(json_object_get(k,
		    "versions")), (long long)json_integer_value(
		    json_object_get(k, "mfa_secrets")),
		    (long long)json_integer_value(json_object_get(k,
		    "s3_keys")));
	}
	rw = json_object_get(v, "rewrap");
	(void)printf("rewrap    %lld of %lld wrapped keys still to move%s\n",
	    (long long)json_integer_value(json_object_get(rw, "pending")),
	    (long long)json_integer_value(json_object_get(rw, "total")),
	    json_is_true(json_object_get(rw, "running")) ? " (running)" : "");
	if (json_string_length(json_object_get(rw, "last_error")) > 0)
		(void)printf("last error: %s\n", json_string_value(
		    json_object_get(rw, "last_error")));
}

int
cf_cmd_key(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	const char		*sub, *method;
	char			**ops;
	json_t			*v = NULL;
	int			 nops, ex, want;
	cf_err			 rc = CF_OK;

	cf_buf_init(&url, CF_CLI_PATH_MAX);
	sub = argc >= 2 ? argv[1] : "";
	if (strcmp(sub, "rotate-master") == 0)
		return cf_cmd_key_rotate_master(argc - 1, argv + 1);
	if (strcmp(sub, "status") != 0 && strcmp(sub, "rotate") != 0 &&
	    strcmp(sub, "retire") != 0) {
		if (argc >= 2 && (strcmp(sub, "--help") == 0 ||
		    strcmp(sub, "-h") == 0)) {
			(void)fputs(key_usage, stdout);
			ex = CF_EXIT_OK;
			goto done;
		}
		if (argc >= 2)
			cf_cli_errx("key: unknown subcommand \"%s\"", sub);
		(void)fputs(key_usage, stderr);
		ex = CF_EXIT_USAGE;
		goto done;
	}
	want = strcmp(sub, "retire") == 0 ? 1 : 0;
	ex = cf_cli_parse(argc - 1, argv + 1, key_usage,
	    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, want, want, &o, &ops,
	    &nops);
	if (ex >= 0)
		goto done;
	rc = cf_buf_append_str(&url, "/v1/keys", &err);
	if (rc == CF_OK && want == 1) {
		rc = cf_buf_append_str(&url, "/", &err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, ops[0], false, &err);
	}
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	method = sub[0] == 's' ? "GET" : sub[1] == 'o' ? "POST" : "DELETE";
	if (rc == CF_OK)
		rc = cf_http_json(s.h, method, url.data, NULL, &v, &err);
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(v);
		else if (!o.quiet && sub[0] == 's')
			print_status(v);
		else if (!o.quiet && sub[1] == 'o')
			(void)printf("active KEK %s; rewrap started (coffer "
			    "key status)\n", json_string_value(
			    json_object_get(v, "active")));
		else if (!o.quiet)
			(void)printf("retired %s\n", ops[0]);
	}
	ex = cf_cli_finish(&s, rc, &err);
done:
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

/* src/client/cmd_privacy.c: `coffer hold set|rm|ls` and `coffer erase`
 * (with `erase key` and the offline `erase verify`) (docs/cli.md,
 * docs/privacy.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"
#include "crypto/sign.h"

#define CERT_MAX	(16u << 20)

static const char hold_usage[] =
    "usage: coffer hold set NS[/KEY] --reason TEXT [--json]\n"
    "       coffer hold rm ID [--json]\n"
    "       coffer hold ls [--json]\n"
    "\n"
    "A legal hold on a namespace, or on a key and every key under KEY/,\n"
    "stops every delete and erasure of what it covers, whoever asks,\n"
    "until it is removed.  set and rm need admin with MFA.\n";

static const char erase_usage[] =
    "usage: coffer erase NS/KEY[@VERSION] --reason TEXT [--with-derived]\n"
    "                    [--dry-run] [--cert-out FILE] [--json]\n"
    "       coffer erase key [--json]\n"
    "       coffer erase verify CERT_FILE [--key HEX | --key-file FILE]\n"
    "       coffer erase --replay-on RESTORED_DIR --from DATA_DIR [--json]\n"
    "\n"
    "erase crypto-shreds the versions of an object (or VERSION), or the\n"
    "files of an artifact (VERSION: its number), and with --with-derived\n"
    "every version downstream in lineage; --dry-run lists them.  The\n"
    "server signs a certificate (written to --cert-out, else printed).\n"
    "key prints the public key that checks certificates; verify checks\n"
    "one offline against it (--key, --key-file, else the server's).\n"
    "--replay-on (offline, no server on RESTORED_DIR) applies to a\n"
    "restored backup every erasure DATA_DIR (the live data directory, or\n"
    "a newer backup) records, so the restore cannot bring erased data\n"
    "back (docs/privacy.md, \"Backups\").\n";

struct popts {
	const char	*reason;
	const char	*cert_out;
	const char	*key;
	const char	*key_file;
	const char	*replay_on;
	const char	*from;
	bool		 derived;
	bool		 dry;
};

static bool
popt(void *arg, int ch, char *val)
{
	struct popts	*p = arg;

	switch (ch) {
	case 'r':
		p->reason = val;
		return true;
	case 'c':
		p->cert_out = val;
		return true;
	case 'k':
		p->key = val;
		return true;
	case 'K':
		p->key_file = val;
		return true;
	case 'R':
		p->replay_on = val;
		return true;
	case 'F':
		p->from = val;
		return true;
	case 'd':
		p->derived = true;
		return true;
	case 'n':
		p->dry = true;
		return true;
	default:
		return false;
	}
}

static const struct option plo[] = {
	CF_CLI_COMMON_LONGOPTS,
	{ "reason", required_argument, NULL, 'r' },
	{ "cert-out", required_argument, NULL, 'c' },
	{ "key", required_argument, NULL, 'k' },
	{ "key-file", required_argument, NULL, 'K' },
	{ "with-derived", no_argument, NULL, 'd' },
	{ "replay-on", required_argument, NULL, 'R' },
	{ "from", required_argument, NULL, 'F' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 }
};
#define PSHORT	CF_CLI_COMMON_SHORTOPTS

/* One request; *v gets the answer. */
static cf_err
call(const struct cf_cli_opts *o, struct cf_cli_sess *s, const char *method,
    const char *path, json_t *body, json_t **v, struct cf_error *err)
{
	cf_err	rc;

	rc = cf_cli_sess_open(o, true, s, err);
	if (rc == CF_OK)
		rc = cf_http_json(s->h, method, path, body, v, err);
	return rc;
}

static void
print_hold(const json_t *h)
{
	char	id[64], ns[128], key[1100], why[600];

	cf_cli_sanitize(cf_cli_jstr(h, "id", ""), id, sizeof(id));
	cf_cli_sanitize(cf_cli_jstr(h, "ns", ""), ns, sizeof(ns));
	cf_cli_sanitize(cf_cli_jstr(h, "key", ""), key, sizeof(key));
	cf_cli_sanitize(cf_cli_jstr(h, "reason", ""), why, sizeof(why));
	(void)printf("%s  %s%s%s  %s\n", id, ns, key[0] != '\0' ? "/" : "",
	    key, why);
}

int
cf_cmd_hold(int argc, char **argv)
{
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct popts		 p = { 0 };
	struct cf_buf		 url;
	const char		*sub;
	char			**ops, *ns = NULL, *key = NULL;
	json_t			*body = NULL, *v = NULL, *h;
	size_t			 i;
	int			 nops, ex;
	cf_err			 rc = CF_OK;

	cf_buf_init(&url, 4096);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		(void)fputs(hold_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CF_EXIT_USAGE : CF_EXIT_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "set") != 0 && strcmp(sub, "rm") != 0 &&
	    strcmp(sub, "ls") != 0) {
		cf_cli_errx("hold: unknown subcommand \"%s\"", sub);
		(void)fputs(hold_usage, stderr);
		return CF_EXIT_USAGE;
	}
	ex = cf_cli_parse(argc - 1, argv + 1, hold_usage, PSHORT, plo, popt,
	    &p, strcmp(sub, "ls") == 0 ? 0 : 1, strcmp(sub, "ls") == 0 ? 0 : 1,
	    &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	if (strcmp(sub, "set") == 0) {
		if (p.reason == NULL) {
			cf_cli_errx("hold set: --reason is required");
			return CF_EXIT_USAGE;
		}
		rc = cf_cli_split_nskey(ops[0], false, &ns, &key, &err);
		if (rc == CF_OK) {
			body = json_pack("{s:s,s:s}", "ns", ns, "reason",
			    p.reason);
			if (body != NULL && key[0] != '\0')
				(void)json_object_set_new(body, "key",
				    json_string(key));
			if (body == NULL)
				rc = cf_error_set(&err, CF_E_INPUT,
				    "not valid UTF-8");
		}
		if (rc == CF_OK)
			rc = call(&o, &s, "POST", "/v1/holds", body, &v, &err);
	} else if (strcmp(sub, "rm") == 0) {
		rc = cf_buf_append_str(&url, "/v1/holds/", &err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, ops[0], false, &err);
		if (rc == CF_OK)
			rc = call(&o, &s, "DELETE", url.data, NULL, &v, &err);
	} else
		rc = call(&o, &s, "GET", "/v1/holds", NULL, &v, &err);
	if (rc == CF_OK && o.json)
		cf_cli_print_json(v);
	else if (rc == CF_OK && !o.quiet) {
		if (strcmp(sub, "set") == 0)
			print_hold(v);
		else if (strcmp(sub, "rm") == 0) {
			(void)printf("removed ");
			print_hold(json_object_get(v, "removed"));
		} else
			json_array_foreach(json_object_get(v, "holds"), i, h)
				print_hold(h);
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(body);
	json_decref(v);
	cf_free(ns);
	cf_free(key);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

/* Read a whole small file into *out (cf_free). */
static cf_err
slurp(const char *path, char **out, struct cf_error *err)
{
	struct cf_buf	 b;
	FILE		*fp;
	char		 chunk[4096];
	size_t		 n;
	cf_err		 rc = CF_OK;

	fp = fopen(path, "rb");
	if (fp == NULL)
		return cf_error_sys(err, CF_E_IO, "open %s", path);
	cf_buf_init(&b, CERT_MAX);
	while (rc == CF_OK && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		rc = cf_buf_append(&b, chunk, n, err);
	if (rc == CF_OK && ferror(fp))
		rc = cf_error_sys(err, CF_E_IO, "read %s", path);
	(void)fclose(fp);
	if (rc == CF_OK)
		rc = cf_buf_append(&b, "", 1, err);
	if (rc != CF_OK) {
		cf_buf_free(&b);
		return rc;
	}
	*out = cf_strdup((const char *)b.data);
	cf_buf_free(&b);
	return *out == NULL ? cf_error_set(err, CF_E_NOMEM, "out of memory") :
	    CF_OK;
}

/* The public key to check with: --key, --key-file, else the server's. */
static cf_err
verify_key(const struct cf_cli_opts *o, struct cf_cli_sess *s,
    const struct popts *p, uint8_t pk[CF_SIGN_PK_LEN], struct cf_error *err)
{
	json_t		*v = NULL;
	char		*txt = NULL, *e;
	const char	*hex = p->key;
	cf_err		 rc = CF_OK;

	if (hex == NULL && p->key_file != NULL) {
		rc = slurp(p->key_file, &txt, err);
		if (rc != CF_OK)
			return rc;
		for (e = txt + strlen(txt); e > txt && (e[-1] == '\n' ||
		    e[-1] == '\r' || e[-1] == ' '); e--)
			e[-1] = '\0';
		hex = txt;
	}
	if (hex == NULL) {
		rc = call(o, s, "GET", "/v1/erasure-key", NULL, &v, err);
		if (rc == CF_OK)
			hex = cf_cli_jstr(v, "public_key", "");
	}
	if (rc == CF_OK && (strlen(hex) != CF_SIGN_PK_LEN * 2 ||
	    cf_hex_decode(hex, strlen(hex), pk, CF_SIGN_PK_LEN, NULL) !=
	    CF_OK))
		rc = cf_error_set(err, CF_E_INPUT, "the public key must be "
		    "%d hex digits", CF_SIGN_PK_LEN * 2);
	json_decref(v);
	cf_free(txt);
	return rc;
}

static int
erase_verify(const struct cf_cli_opts *o, const struct popts *p,
    const char *file)
{
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	uint8_t			 pk[CF_SIGN_PK_LEN], sig[CF_SIGN_SIG_LEN];
	char			*txt = NULL, id[64];
	const char		*sh;
	json_t			*cert = NULL, *payload;
	int			 ex;
	cf_err			 rc;

	rc = slurp(file, &txt, &err);
	if (rc == CF_OK)
		rc = cf_json_parse(txt, strlen(txt), CERT_MAX, 64, &cert, &err);
	if (rc == CF_OK)
		rc = verify_key(o, &s, p, pk, &err);
	payload = cert != NULL ? json_object_get(cert, "erasure") : NULL;
	sh = cf_cli_jstr(json_object_get(cert, "signature"), "value", "");
	if (rc == CF_OK && (!json_is_object(payload) ||
	    strlen(sh) != CF_SIGN_SIG_LEN * 2 ||
	    cf_hex_decode(sh, strlen(sh), sig, sizeof(sig), NULL) != CF_OK))
		rc = cf_error_set(&err, CF_E_INPUT, "%s is not an erasure "
		    "certificate", file);
	/* SEC: only the key given (or fetched), never the one the file
	 * names, decides: anyone can sign a forged file with their own. */
	if (rc == CF_OK)
		rc = cf_sign_doc_verify(pk, CF_ERASURE_CERT_CONTEXT, payload,
		    sig, &err);
	if (rc == CF_E_INTEGRITY) {
		cf_error_clear(&err);
		rc = cf_error_set(&err, CF_E_INTEGRITY, "certificate %s does "
		    "NOT verify: it was altered or signed by another key",
		    file);
	}
	if (rc == CF_OK && !o->quiet) {
		cf_cli_sanitize(cf_cli_jstr(payload, "id", ""), id,
		    sizeof(id));
		(void)printf("certificate %s verifies: %zu versions erased\n",
		    id, json_array_size(json_object_get(payload,
		    "versions")));
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(cert);
	cf_free(txt);
	cf_cli_sess_close(&s);
	return ex;
}

static cf_err
write_file(const char *path, const json_t *v, struct cf_error *err)
{
	FILE	*fp;
	char	*txt;
	size_t	 n;
	int	 r;

	txt = cf_json_dumps_flags(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (txt == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	fp = fopen(path, "w");
	if (fp == NULL) {
		cf_json_free(txt);
		return cf_error_sys(err, CF_E_IO, "create %s", path);
	}
	n = strlen(txt);
	r = fwrite(txt, 1, n, fp) == n ? 0 : -1;
	cf_json_free(txt);
	if (fclose(fp) != 0 || r != 0)
		return cf_error_sys(err, CF_E_IO, "write %s", path);
	return CF_OK;
}

int
cf_cmd_erase(int argc, char **argv)
{
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct popts		 p = { 0 };
	struct cf_buf		 url;
	char			**ops, *ns = NULL, *key = NULL, *at, kb[1100];
	char			 id[64];
	json_t			*body = NULL, *v = NULL, *it;
	int64_t			 num;
	size_t			 i;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, 8192);
	ex = cf_cli_parse(argc, argv, erase_usage, PSHORT, plo, popt, &p, 0,
	    2, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	if (p.replay_on != NULL && nops == 0)
		return cf_cli_erase_replay(&o, p.replay_on, p.from);
	if (nops == 0 || p.replay_on != NULL || p.from != NULL) {
		(void)fputs(erase_usage, stderr);
		return CF_EXIT_USAGE;
	}
	if (strcmp(ops[0], "verify") == 0 && nops == 2)
		return erase_verify(&o, &p, ops[1]);
	if (strcmp(ops[0], "key") == 0 && nops == 1) {
		rc = call(&o, &s, "GET", "/v1/erasure-key", NULL, &v, &err);
		if (rc == CF_OK && o.json)
			cf_cli_print_json(v);
		else if (rc == CF_OK)
			(void)printf("%s\n", cf_cli_jstr(v, "public_key", ""));
		goto out;
	}
	if (nops != 1) {
		(void)fputs(erase_usage, stderr);
		return CF_EXIT_USAGE;
	}
	if (p.reason == NULL && !p.dry) {
		cf_cli_errx("erase: --reason is required");
		return CF_EXIT_USAGE;
	}
	rc = cf_cli_split_nskey(ops[0], true, &ns, &key, &err);
	if (rc != CF_OK)
		goto out;
	body = json_pack("{s:s,s:b,s:b}", "reason", p.reason != NULL ?
	    p.reason : "", "with_derived", p.derived, "dry_run", p.dry);
	if (body == NULL) {
		rc = cf_error_set(&err, CF_E_INPUT, "not valid UTF-8");
		goto out;
	}
	at = strrchr(key, '@');
	if (at != NULL) {
		*at++ = '\0';
		if (strlen(at) < 16 && cf_parse_i64(at, 1, INT64_MAX, &num,
		    NULL) == CF_OK)
			(void)json_object_set_new(body, "artifact_version",
			    json_integer(num));
		else
			(void)json_object_set_new(body, "version",
			    json_string(at));
	}
	rc = cf_buf_append_str(&url, "/v1/ns/", &err);
	if (rc == CF_OK)
		rc = cf_cli_urlenc(&url, ns, false, &err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&url, "/erase/", &err);
	if (rc == CF_OK)
		rc = cf_cli_urlenc(&url, key, true, &err);
	if (rc == CF_OK)
		rc = call(&o, &s, "POST", url.data, body, &v, &err);
	if (rc == CF_OK && p.cert_out != NULL && !p.dry)
		rc = write_file(p.cert_out, json_object_get(v, "certificate"),
		    &err);
	if (rc != CF_OK)
		goto out;
	if (o.json || (!p.dry && p.cert_out == NULL && !o.quiet)) {
		cf_cli_print_json(o.json ? v : json_object_get(v,
		    "certificate"));
		goto out;
	}
	if (o.quiet)
		goto out;
	json_array_foreach(json_object_get(v, "versions"), i, it) {
		cf_cli_sanitize(cf_cli_jstr(it, "key", ""), kb, sizeof(kb));
		(void)printf("%s %s/%s@%s (%s)\n", p.dry ? "would erase" :
		    "erased", cf_cli_jstr(it, "ns", ""), kb,
		    cf_cli_jstr(it, "version_id", ""), cf_cli_jstr(it, "why",
		    ""));
	}
	if (!p.dry) {
		cf_cli_sanitize(cf_cli_jstr(v, "erasure_id", ""), id,
		    sizeof(id));
		(void)printf("erasure %s; certificate in %s\n", id,
		    p.cert_out);
	}
out:
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(body);
	json_decref(v);
	cf_free(ns);
	cf_free(key);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

/* src/client/cmd_label.c: `coffer label set|rm|ls NS[/KEY]`: the labels
 * of a namespace or of an object key (docs/api.md "Attributes and
 * labels"). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

static const char label_usage[] =
    "usage: coffer label set NS[/KEY] NAME=VALUE...\n"
    "       coffer label rm NS[/KEY] NAME...\n"
    "       coffer label ls NS[/KEY]\n"
    "\n"
    "Labels are NAME=VALUE pairs on a namespace (NS) or on an object key\n"
    "(NS/KEY) that policies read (resource.getTag(\"pii\")).  set adds or\n"
    "changes them, rm removes them, ls shows them.  An object's labels\n"
    "belong to its key: new versions keep them, and they go when the last\n"
    "version of the key is removed.  set and rm need the owner role on NS\n"
    "and a session with MFA.  Names: a-z, then up to 62 of a-z 0-9 _ . -;\n"
    "values: up to 256 bytes; at most 64 labels each.  Common options:\n"
    "--json, --quiet, --server, --ca-cert, --insecure, --code.\n";

/* "/v1/ns/{ns}/labels[/{key}]" into b. */
static cf_err
label_path(struct cf_buf *b, const char *ns, const char *key,
    struct cf_error *err)
{
	cf_err	rc;

	if (*key != '\0')
		return cf_cli_obj_path(b, ns, "labels", key, err);
	cf_buf_reset(b);
	rc = cf_buf_append_str(b, "/v1/ns/", err);
	if (rc == CF_OK)
		rc = cf_cli_urlenc(b, ns, false, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, "/labels", err);
	return rc;
}

int
cf_cmd_label(int argc, char **argv)
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
	char			**ops, *ns = NULL, *key = NULL;
	json_t			*ch = NULL, *v = NULL;
	int			 nops, ex, i;
	cf_err			 rc = CF_OK;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	sub = argc >= 2 ? argv[1] : "";
	if (strcmp(sub, "set") != 0 && strcmp(sub, "rm") != 0 &&
	    strcmp(sub, "ls") != 0) {
		if (argc >= 2 && (strcmp(sub, "--help") == 0 ||
		    strcmp(sub, "-h") == 0)) {
			(void)fputs(label_usage, stdout);
			ex = CF_EXIT_OK;
			goto done;
		}
		if (argc >= 2)
			cf_cli_errx("label: unknown subcommand \"%s\"", sub);
		(void)fputs(label_usage, stderr);
		ex = CF_EXIT_USAGE;
		goto done;
	}
	ex = cf_cli_parse(argc - 1, argv + 1, label_usage,
	    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, sub[0] == 'l' ? 1 : 2,
	    sub[0] == 'l' ? 1 : -1, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	for (i = 1; i < nops; i++)
		if (!cf_cli_kv_change(&ch, ops[i], sub[0] == 'r')) {
			ex = CF_EXIT_USAGE;
			goto done;
		}
	rc = cf_cli_split_nskey(ops[0], false, &ns, &key, &err);
	if (rc == CF_OK)
		rc = label_path(&url, ns, key, &err);
	if (rc == CF_OK && sub[0] == 'r') {
		/* DELETE ?names=a,b: a name never holds a comma. */
		const char *k;
		json_t *nv;
		bool first = true;
		rc = cf_buf_append_str(&url, "?names=", &err);
		json_object_foreach(ch, k, nv) {
			(void)nv;
			if (rc == CF_OK && !first)
				rc = cf_buf_append_str(&url, ",", &err);
			if (rc == CF_OK)
				rc = cf_cli_urlenc(&url, k, false, &err);
			first = false;
		}
	}
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	method = sub[0] == 's' ? "PUT" : sub[0] == 'r' ? "DELETE" : "GET";
	if (rc == CF_OK)
		rc = cf_http_json(s.h, method, url.data, sub[0] == 's' ? ch :
		    NULL, &v, &err);
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(v);
		else if (!o.quiet)
			cf_cli_pr_kv("label", json_object_get(v, "labels"));
	}
	ex = cf_cli_finish(&s, rc, &err);
done:
	json_decref(ch);
	json_decref(v);
	cf_buf_free(&url);
	cf_free(ns);
	cf_free(key);
	cf_cli_sess_close(&s);
	return ex;
}

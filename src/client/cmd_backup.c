/* src/client/cmd_backup.c: `coffer backup DEST` (over the API,
 * POST /v1/backup; docs/operations.md, "Backups") and the offline
 * `coffer erase --replay-on DIR --from SRC` (docs/privacy.md,
 * "Backups"). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "client/client.h"
#include "client/client_int.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"

static const char backup_usage[] =
    "usage: coffer backup DEST [--json]\n"
    "\n"
    "The server writes a consistent backup of its metadata (SQLite online\n"
    "backup) and sealed keys (keyring, keys.carry, id, tls/) into the new\n"
    "directory DEST: a name in the server's backup_dir, or an absolute\n"
    "path directly in it.  Never the master key, never a plaintext key,\n"
    "not the blobs: copy DATA/blobs afterwards (docs/operations.md).\n"
    "Needs admin and a session with MFA.\n";

int
cf_cmd_backup(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	char			**ops, dir[4200];
	json_t			*body = NULL, *v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	ex = cf_cli_parse(argc, argv, backup_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, NULL, NULL, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	body = json_pack("{s:s}", "dest", ops[0]);
	if (body == NULL) {
		rc = cf_error_set(&err, CF_E_INPUT, "not valid UTF-8");
		goto out;
	}
	rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "POST", "/v1/backup", body, &v, &err);
	if (rc != CF_OK)
		goto out;
	if (o.json) {
		cf_cli_print_json(v);
		goto out;
	}
	if (o.quiet)
		goto out;
	cf_cli_sanitize(cf_cli_jstr(v, "dir", ""), dir, sizeof(dir));
	(void)printf("backup written to %s\n"
	    "now copy the blobs: rsync -a DATA/blobs/ %s/blobs/\n", dir, dir);
out:
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(body);
	json_decref(v);
	cf_cli_sess_close(&s);
	return ex;
}

int
cf_cli_erase_replay(const struct cf_cli_opts *o, const char *dir,
    const char *from)
{
	struct cf_error	 err = { 0 };
	struct cf_key	*master = NULL;
	const char	*who;
	char		 path[4096];
	json_t		*v = NULL;
	cf_err		 rc;

	if (from == NULL) {
		cf_cli_errx("erase --replay-on: --from DATA_DIR (the live data "
		    "directory, or a newer backup of it) is required");
		return CF_EXIT_USAGE;
	}
	who = getenv("USER");
	rc = cf_crypto_init(&err);
	if (rc == CF_OK)
		rc = cf_cli_master_key(dir, &master, path, sizeof(path), &err);
	if (rc == CF_OK)
		rc = cf_core_erase_replay(dir, from, master, who != NULL &&
		    *who != '\0' ? who : "local", &v, &err);
	cf_key_free(master);
	cf_master_passphrase_clear();
	if (rc != CF_OK) {
		cf_cli_errx("erase --replay-on: %s", err.msg);
		return cf_cli_exit_for_err(rc);
	}
	if (o->json)
		cf_cli_print_json(v);
	else if (!o->quiet)
		(void)printf("replayed %lld erasures (%lld versions) on %s; "
		    "%lld blobs deleted; %lld already applied\n",
		    (long long)json_integer_value(json_object_get(v,
		    "erasures")), (long long)json_integer_value(
		    json_object_get(v, "versions")), dir,
		    (long long)json_integer_value(json_object_get(v,
		    "blobs_deleted")), (long long)json_integer_value(
		    json_object_get(v, "already")));
	json_decref(v);
	return CF_EXIT_OK;
}

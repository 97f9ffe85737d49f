/* src/client/cmd_masterkey.c: `coffer master-key path|seal|unseal`
 * (offline, on a data directory) and the master key loader of the
 * offline tools (cf_cli_master_key), which asks for the passphrase of a
 * sealed key. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"
#include "core/datadir.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"

static const char mk_usage[] =
    "usage: coffer master-key path --data DIR\n"
    "       coffer master-key seal --data DIR [--passphrase-stdin]\n"
    "       coffer master-key unseal --data DIR\n"
    "\n"
    "Offline, on the data directory DIR (stop the server for seal and\n"
    "unseal).  The master key lives outside the data directory, by\n"
    "default in ~/.config/coffer/keys/ID.key (ID: DIR/id);\n"
    "$COFFER_MASTER_KEY_FILE names another file.\n"
    "\n"
    "path    print where the master key of DIR is, and whether sealed\n"
    "seal    seal the key file with a passphrase (argon2id): a copy of\n"
    "        the file is then of no use without it.  The passphrase is\n"
    "        asked twice (at least 12 characters), or read from the\n"
    "        first line of standard input with --passphrase-stdin.\n"
    "        The server then needs it at every start (--passphrase-fd,\n"
    "        master_key_passphrase_file, or at the terminal).\n"
    "unseal  write the key back in the clear (asks the passphrase)\n"
    "\n"
    "A sealed key's passphrase is read from the file named by\n"
    "$" CF_ENV_MK_PASS_FILE " when set, else asked at the terminal.\n";

struct mk_args {
	const char	*dir;
	bool		 pw_stdin;
};

static bool
mk_opt(void *arg, int ch, char *val)
{
	struct mk_args	*a = arg;

	if (ch == 'D')
		a->dir = val;
	else if (ch == 'P')
		a->pw_stdin = true;
	else
		return false;
	return true;
}

/* The passphrase of a sealed key: the file named by the environment,
 * else the terminal. */
static cf_err
read_passphrase(const char *path, char *pw, size_t pwsz,
    struct cf_error *err)
{
	const char	*file = getenv(CF_ENV_MK_PASS_FILE);
	char		 prompt[4200];
	int		 fd;
	cf_err		 rc;

	if (file != NULL && *file != '\0') {
		fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return cf_error_sys(err, CF_E_IO, "open %s", file);
		rc = cf_cli_read_line(fd, pw, pwsz, err);
		(void)close(fd);
	} else {
		(void)snprintf(prompt, sizeof(prompt), "Passphrase of the "
		    "master key %s", path);
		rc = cf_cli_prompt_secret(prompt, pw, pwsz, err);
	}
	if (rc == CF_OK)
		rc = cf_master_passphrase_set(pw, strlen(pw), err);
	return rc;
}

static cf_err
ask_passphrase(const char *path, struct cf_error *err)
{
	char	pw[CF_MK_PASS_MAX + 2];
	cf_err	rc;

	rc = read_passphrase(path, pw, sizeof(pw), err);
	cf_wipe(pw, sizeof(pw));
	return rc;
}

cf_err
cf_cli_master_key(const char *dir, struct cf_key **out, char *path,
    size_t pathsz, struct cf_error *err)
{
	bool	managed;
	cf_err	rc;

	rc = cf_dd_master_key_path(dir, NULL, false, path, pathsz, &managed,
	    err);
	if (rc == CF_OK && cf_master_key_sealed(path))
		rc = ask_passphrase(path, err);
	if (rc == CF_OK)
		rc = cf_dd_master_key(dir, NULL, false, out, NULL, path,
		    pathsz, err);
	cf_master_passphrase_clear();
	return rc;
}

static int
mk_path(const struct mk_args *a)
{
	struct cf_error	err = { 0 };
	char		path[4096];
	bool		managed;

	if (cf_dd_master_key_path(a->dir, NULL, false, path, sizeof(path),
	    &managed, &err) != CF_OK) {
		cf_cli_errx("master-key: %s", err.msg);
		return cf_cli_exit_for_err(err.code);
	}
	(void)printf("%s%s%s%s\n", path, access(path, F_OK) != 0 ?
	    " (missing)" : "", cf_master_key_sealed(path) ? " (sealed)" : "",
	    cf_dd_inside(a->dir, path) ? " (inside the data directory: "
	    "move it out)" : "");
	return CF_EXIT_OK;
}

static int
mk_seal(const struct mk_args *a, bool seal)
{
	struct cf_error	 err = { 0 };
	struct cf_key	*k = NULL;
	char		 path[4096], pw[CF_MK_PASS_MAX + 2];
	cf_err		 rc;

	pw[0] = '\0';
	rc = cf_crypto_init(&err);
	if (rc == CF_OK)
		rc = cf_cli_master_key(a->dir, &k, path, sizeof(path), &err);
	if (rc != CF_OK)
		goto out;
	if (seal == cf_master_key_sealed(path)) {
		rc = cf_error_set(&err, CF_E_CONFLICT, "%s is %s", path,
		    seal ? "sealed already" : "not sealed");
		goto out;
	}
	if (!seal) {
		rc = cf_master_key_write(path, k, &err);
		goto out;
	}
	rc = cf_cli_new_password(a->pw_stdin ? 0 : -1, "Master key passphrase",
	    pw, sizeof(pw), &err);
	if (rc == CF_OK)
		rc = cf_master_key_seal(path, k, pw, strlen(pw), &err);
out:
	cf_wipe(pw, sizeof(pw));
	cf_key_free(k);
	if (rc != CF_OK) {
		cf_cli_errx("master-key %s: %s", seal ? "seal" : "unseal",
		    err.msg);
		return cf_cli_exit_for_err(rc);
	}
	(void)printf("%s %s\n", path, seal ? "sealed: the server now needs "
	    "the passphrase at every start" : "unsealed");
	return CF_EXIT_OK;
}

int
cf_cmd_master_key(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "data", required_argument, NULL, 'D' },
		{ "passphrase-stdin", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct mk_args		 a = { NULL, false };
	const char		*sub;
	char			**ops;
	int			 nops, ex;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		(void)fputs(mk_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CF_EXIT_USAGE : CF_EXIT_OK;
	}
	sub = argv[1];
	ex = cf_cli_parse(argc - 1, argv + 1, mk_usage,
	    CF_CLI_COMMON_SHORTOPTS "D:", lo, mk_opt, &a, 0, 0, &o, &ops,
	    &nops);
	if (ex >= 0)
		return ex;
	if (a.dir == NULL) {
		cf_cli_errx("master-key: --data DIR is required");
		(void)fputs(mk_usage, stderr);
		return CF_EXIT_USAGE;
	}
	if (strcmp(sub, "path") == 0)
		return mk_path(&a);
	if (strcmp(sub, "seal") == 0)
		return mk_seal(&a, true);
	if (strcmp(sub, "unseal") == 0)
		return mk_seal(&a, false);
	cf_cli_errx("master-key: unknown subcommand \"%s\"", sub);
	(void)fputs(mk_usage, stderr);
	return CF_EXIT_USAGE;
}

static const char rm_usage[] =
    "usage: coffer key rotate-master --data DIR\n"
    "\n"
    "Offline, with the server stopped: replace the master key of DIR by a\n"
    "new one.  The keyring and the self-signed TLS key are sealed again\n"
    "under it; the audit MAC key and the erasure signing key are carried\n"
    "over (DIR/keys.carry), so the audit log and erasure certificates\n"
    "still verify.  A sealed master key's passphrase is asked (or read\n"
    "from $" CF_ENV_MK_PASS_FILE ")\n"
    "and seals the new key too.  See docs/keys.md, \"Master key\n"
    "rotation\".\n";

int
cf_cmd_key_rotate_master(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "data", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct mk_args		 a = { NULL, false };
	struct cf_error		 err = { 0 };
	const char		*who;
	char			**ops;
	char			 path[4096], pw[CF_MK_PASS_MAX + 2];
	bool			 managed, sealed = false;
	int			 nops, ex;
	cf_err			 rc;

	ex = cf_cli_parse(argc, argv, rm_usage, CF_CLI_COMMON_SHORTOPTS "D:",
	    lo, mk_opt, &a, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	if (a.dir == NULL) {
		cf_cli_errx("key rotate-master: --data DIR is required");
		(void)fputs(rm_usage, stderr);
		return CF_EXIT_USAGE;
	}
	who = getenv("USER");
	pw[0] = '\0';
	rc = cf_crypto_init(&err);
	if (rc == CF_OK)
		rc = cf_dd_master_key_path(a.dir, NULL, false, path,
		    sizeof(path), &managed, &err);
	if (rc == CF_OK && cf_master_key_sealed(path)) {
		rc = read_passphrase(path, pw, sizeof(pw), &err);
		sealed = true;
	}
	if (rc == CF_OK)
		rc = cf_dd_master_rotate(a.dir, NULL, sealed ? pw : NULL,
		    who != NULL && *who != '\0' ? who : "local", &err);
	cf_wipe(pw, sizeof(pw));
	cf_master_passphrase_clear();
	if (rc != CF_OK) {
		cf_cli_errx("key rotate-master: %s", err.msg);
		return cf_cli_exit_for_err(rc);
	}
	(void)printf("master key of %s rotated: the old key file no longer "
	    "opens the keyring\n", a.dir);
	return CF_EXIT_OK;
}

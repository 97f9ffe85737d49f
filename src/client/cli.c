/* src/client/cli.c: subcommand table of the `coffer` CLI.  Every command
 * takes its own argv (argv[0] is its name) and returns an exit code from
 * client.h; docs/cli.md documents them all. */
#include <stdio.h>
#include <string.h>

#include "client/client.h"
#include "client/client_int.h"

struct cmd {
	const char	*name;
	int		(*fn)(int, char **);
};

static const struct cmd cmds[] = {
	{ "login", cf_cmd_login },
	{ "logout", cf_cmd_logout },
	{ "user", cf_cmd_user },
	{ "role", cf_cmd_role },
	{ "mfa", cf_cmd_mfa },
	{ "whoami", cf_cmd_whoami },
	{ "ns", cf_cmd_ns },
	{ "put", cf_cmd_put },
	{ "get", cf_cmd_get },
	{ "head", cf_cmd_head },
	{ "rm", cf_cmd_rm },
	{ "ls", cf_cmd_ls },
	{ "versions", cf_cmd_versions },
	{ "label", cf_cmd_label },
	{ "push", cf_cmd_push },
	{ "pull", cf_cmd_pull },
	{ "principal", cf_cmd_principal },
	{ "token", cf_cmd_token },
	{ "grant", cf_cmd_grant },
	{ "access", cf_cmd_access },
	{ "revoke", cf_cmd_revoke },
	{ "audit", cf_cmd_audit },
	{ "posture", cf_cmd_posture },
	{ "master-key", cf_cmd_master_key },
	{ "key", cf_cmd_key },
	{ "policy", cf_cmd_policy },
	{ "breakglass", cf_cmd_breakglass },
	{ "promote", cf_cmd_promote },
	{ "promotion", cf_cmd_promotion },
	{ "cp", cf_cmd_cp },
	{ "s3", cf_cmd_s3 },
	{ "meta", cf_cmd_meta },
	{ "stage", cf_cmd_stage },
	{ "lineage", cf_cmd_lineage },
	{ "classify", cf_cmd_classify },
	{ "alert", cf_cmd_alert },
	{ "share", cf_cmd_share },
	{ "hold", cf_cmd_hold },
	{ "erase", cf_cmd_erase },
	{ "privacy", cf_cmd_privacy },
	{ "backup", cf_cmd_backup },
};

int
cf_client_main(int argc, char **argv)
{
	size_t	i;
	int	ex;

	if (argc < 1 || argv[0] == NULL) {
		(void)fprintf(stderr, "coffer: no command (try coffer "
		    "--help)\n");
		return CF_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name) != 0)
			continue;
		ex = cmds[i].fn(argc, argv);
		/* Output that did not reach its file is a failure (a full
		 * disk must not lose `token create`'s token silently). */
		if ((fflush(stdout) != 0 || ferror(stdout)) &&
		    ex == CF_EXIT_OK) {
			(void)fprintf(stderr, "coffer: cannot write to "
			    "standard output\n");
			ex = CF_EXIT_FAIL;
		}
		return ex;
	}
	(void)fprintf(stderr, "coffer: unknown command \"%s\" "
	    "(try coffer --help)\n", argv[0]);
	return CF_EXIT_USAGE;
}

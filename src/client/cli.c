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
	{ "whoami", cf_cmd_whoami },
	{ "ns", cf_cmd_ns },
	{ "put", cf_cmd_put },
	{ "get", cf_cmd_get },
	{ "head", cf_cmd_head },
	{ "rm", cf_cmd_rm },
	{ "ls", cf_cmd_ls },
	{ "versions", cf_cmd_versions },
	{ "push", cf_cmd_push },
	{ "pull", cf_cmd_pull },
	{ "principal", cf_cmd_principal },
	{ "token", cf_cmd_token },
	{ "grant", cf_cmd_grant },
	{ "revoke", cf_cmd_revoke },
	{ "audit", cf_cmd_audit },
	{ "policy", cf_cmd_policy },
};

int
cf_client_main(int argc, char **argv)
{
	size_t	i;

	if (argc < 1 || argv[0] == NULL) {
		(void)fprintf(stderr, "coffer: no command (try coffer "
		    "--help)\n");
		return CF_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	(void)fprintf(stderr, "coffer: unknown command \"%s\" "
	    "(try coffer --help)\n", argv[0]);
	return CF_EXIT_USAGE;
}

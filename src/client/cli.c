/* src/client/cli.c: subcommand table of the `coffer` CLI. */
#include <stdio.h>
#include <string.h>

#include "client.h"

struct cmd {
	const char	*name;
	int		(*fn)(int, char **);
};

static const struct cmd cmds[] = {
	{ "policy", cf_cmd_policy },
};

int
cf_client_main(int argc, char **argv)
{
	size_t	i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	(void)fprintf(stderr, "coffer: unknown command \"%s\" "
	    "(try coffer --help)\n", argv[0]);
	return CF_EXIT_USAGE;
}

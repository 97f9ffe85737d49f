/* src/client/client.h: the `coffer` command-line front end.
 *
 * Every subcommand other than `server` lives here.  Each command is a
 * function `int cmd(int argc, char **argv)` taking its own argv (argv[0] is
 * the command name) and returning a documented exit code (docs/cli.md). */
#ifndef CF_CLIENT_CLIENT_H
#define CF_CLIENT_CLIENT_H

/* Exit codes, stable once published (add last, never reuse). */
#define CF_EXIT_OK		0
#define CF_EXIT_FAIL		1	/* generic failure / policy invalid */
#define CF_EXIT_USAGE		2	/* bad command line */
#define CF_EXIT_AUTH		3	/* not authenticated (401) */
#define CF_EXIT_DENIED		4	/* not authorized (403) */
#define CF_EXIT_NOTFOUND	5	/* no such thing (404) */
#define CF_EXIT_CONFLICT	6	/* exists / not empty (409) */
#define CF_EXIT_INTEGRITY	7	/* digest or tag mismatch */
#define CF_EXIT_NETWORK		8	/* cannot reach the server / TLS */
#define CF_EXIT_SERVER		9	/* server error (5xx) */
#define CF_EXIT_INPUT		10	/* rejected input (400, 413, ...) */
#define CF_EXIT_LIMITED		11	/* too many attempts / locked (429) */
#define CF_EXIT_FINDINGS	12	/* posture: critical or high findings */

/* Dispatch argv[0] (a subcommand name) to its implementation. */
int	cf_client_main(int argc, char **argv);

/* `coffer policy check|eval ...` (src/client/cmd_policy.c). */
int	cf_cmd_policy(int argc, char **argv);
/* cmd_policy_tools.c: `policy explain` and `policy replay` (argv[0] is
 * the subcommand). */
int	cf_cmd_policy_explain(int argc, char **argv);
int	cf_cmd_policy_replay(int argc, char **argv);
int	cf_cmd_access(int argc, char **argv);
int	cf_cmd_review(int argc, char **argv);

#endif

/* src/server/server.h: the HTTPS front end (`coffer server`). */
#ifndef CF_SERVER_SERVER_H
#define CF_SERVER_SERVER_H

/* Run `coffer server ...` (argv[0] is "server"); returns an exit code. */
int	cf_server_main(int argc, char **argv);
/* `coffer key init-hsm`: make the first KEK in the configured PKCS#11
 * token (argv[0] is the subcommand). */
int	cf_server_key_main(int argc, char **argv);

#endif

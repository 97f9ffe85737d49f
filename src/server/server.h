/* src/server/server.h: the HTTPS front end (`coffer server`). */
#ifndef CF_SERVER_SERVER_H
#define CF_SERVER_SERVER_H

/* Run `coffer server ...` (argv[0] is "server"); returns an exit code. */
int	cf_server_main(int argc, char **argv);

#endif

/* src/main.c: the single `coffer` program.  `coffer server` runs the
 * service; every other subcommand is a client of it or an offline tool. */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/testhook.h"
#include "client/client.h"
#include "server/server.h"

static void
usage(FILE *f)
{
	(void)fprintf(f,
	    "usage: coffer COMMAND [ARGS...]\n"
	    "\n"
	    "  server      run the Coffer service (coffer server --help)\n"
	    "  login       save the server URL and token for later commands\n"
	    "  logout      forget the saved token (and end its session)\n"
	    "  whoami      show who the saved credentials belong to\n"
	    "  ns          create, list and remove namespaces\n"
	    "  put get head rm ls versions   single objects\n"
	    "  push pull   artifacts: a folder as one numbered version\n"
	    "  cp          copy an artifact version server-side\n"
	    "  meta stage lineage classify   artifact metadata, stages,\n"
	    "              lineage and sensitivity (docs/artifacts.md)\n"
	    "  label       labels of namespaces and objects, for policies\n"
	    "  principal token grant revoke  identities and access\n"
	    "  user        local users: passwords, attributes, MFA rules\n"
	    "  role        MFA rules for a role\n"
	    "  mfa         enroll, confirm or disable your own MFA\n"
	    "  audit       read and verify the audit log\n"
	    "  posture     check the deployment against best practice\n"
	    "  master-key  where the master key is; seal it with a passphrase\n"
	    "  key         KEKs: status, rotate, retire; init-hsm (PKCS#11)\n"
	    "  policy      check and evaluate Cedar policies\n"
	    "  breakglass  temporary owner access in an emergency (audited)\n"
	    "  promote     promote an artifact version to another environment\n"
	    "  promotion   list, approve and reject promotion requests\n"
	    "  s3          S3 access keys for S3 clients (docs/s3.md)\n"
	    "  share       time-limited download links (docs/sharing.md)\n"
	    "  alert       the server's alert rules: list, test\n"
	    "  anomalies   what the anomaly detector flagged, explained\n"
	    "  hold        legal holds that stop deletes and erasure\n"
	    "  erase       crypto-shred data, with a signed certificate;\n"
	    "              erase verify checks one (docs/privacy.md)\n"
	    "  privacy     privacy report: personal data, its lineage,\n"
	    "              retention, holds and accesses by purpose\n"
	    "  backup      a consistent backup of metadata and sealed keys\n"
	    "              (docs/operations.md)\n"
	    "  review      access review campaigns with a signed report;\n"
	    "              review verify checks one (docs/reviews.md)\n"
	    "  access      stale grants and tokens, least-privilege\n"
	    "              suggestions (docs/reviews.md)\n"
	    "\n"
	    "Run `coffer COMMAND --help` for the options of a command.\n"
	    "Documentation: docs/cli.md\n");
}

int
main(int argc, char **argv)
{
	/* SEC: before any JSON is parsed, so that no password or code
	 * jansson copies is ever freed unwiped (base/json.h). */
	cf_json_alloc_install();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		/* A test build says so: its COFFER_TEST_* hooks are live. */
		(void)printf("coffer 0.1.0%s\n", cf_test_hooks_built() ?
		    " (test build: COFFER_TEST_* hooks compiled in)" : "");
		return 0;
	}
	if (strcmp(argv[1], "server") == 0)
		return cf_server_main(argc - 1, argv + 1);
	/* Offline, on the server's configuration: the token's first KEK. */
	if (strcmp(argv[1], "key") == 0 && argc >= 3 &&
	    strcmp(argv[2], "init-hsm") == 0)
		return cf_server_key_main(argc - 2, argv + 2);
	return cf_client_main(argc - 1, argv + 1);
}

/* bench/keys/seed_versions.c: add N object versions to a stopped
 * server's data directory at store level, for the rewrap benchmark at
 * N = 1,000,000 (bench/keys/run.sh --seed; bench/README.md, "Key
 * providers").  Uploading a million versions through the API runs at a
 * few hundred per second here; this writes them in large transactions.
 *
 * Each new row is a copy of a template version (one the benchmark
 * uploaded) with a fresh version id, a key "seed/N" and a fresh random
 * DEK wrapped by the data directory's own key provider under its active
 * KEK, with the version id as associated data, exactly as an upload
 * wraps it: the rewrap must unwrap and wrap each one for real.  The rows
 * share the template's blob, so they cannot be read (the blob is sealed
 * under the template's DEK and id); the rewrap never reads blobs.
 *
 * Usage: seed_versions --data DIR --master-key FILE --template VID -n N
 *            [--pkcs11 MODULE --label LABEL]    (PIN: $COFFER_PKCS11_PIN)
 * Bench-only code: it writes the database directly, outside the audit
 * obligation every server change takes; never use it on real data. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <sqlite3.h>

#include "base/error.h"
#include "crypto/crypto.h"
#include "crypto/keyprov.h"
#include "crypto/keyring.h"

#define BATCH	20000

static void
die(const char *what, const struct cf_error *err)
{
	(void)fprintf(stderr, "seed_versions: %s: %s\n", what,
	    err != NULL ? err->msg : "");
	exit(1);
}

static void
sqldie(sqlite3 *db, const char *what)
{
	(void)fprintf(stderr, "seed_versions: %s: %s\n", what,
	    sqlite3_errmsg(db));
	exit(1);
}

static void
exec_sql(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		sqldie(db, sql);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "master-key", required_argument, NULL, 'm' },
		{ "template", required_argument, NULL, 't' },
		{ "pkcs11", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_keyprov_pkcs11_cfg pc;
	struct cf_error	 err = { 0 };
	struct cf_keyprov *kp = NULL;
	struct cf_key	*master = NULL, *dek = NULL;
	const char	*data = NULL, *mk = NULL, *tmpl = NULL, *module = NULL;
	const char	*label = NULL, *pin;
	char		 path[4096], sql[8192], cols[4096], kek[CF_KEK_ID_MAX];
	char		 vid[33], key[64];
	uint8_t		 w[CF_WRAPPED_DEK_LEN], rnd[16];
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;
	long		 n = 0, i;
	size_t		 k;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'm': mk = optarg; break;
		case 't': tmpl = optarg; break;
		case 'p': module = optarg; break;
		case 'l': label = optarg; break;
		case 'n': n = strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (data == NULL || mk == NULL || tmpl == NULL || n <= 0) {
		(void)fprintf(stderr, "usage: seed_versions --data DIR "
		    "--master-key FILE --template VID -n N [--pkcs11 MODULE "
		    "--label LABEL]\n");
		return 2;
	}
	if (cf_crypto_init(&err) != CF_OK ||
	    cf_master_key_load(mk, &master, &err) != CF_OK)
		die("master key", &err);
	(void)snprintf(path, sizeof(path), "%s/keyring", data);
	if (module == NULL) {
		if (cf_keyprov_file_open(path, master, false, &kp, &err) !=
		    CF_OK)
			die("file provider", &err);
	} else {
		pin = getenv("COFFER_PKCS11_PIN");
		memset(&pc, 0, sizeof(pc));
		pc.module = module;
		pc.token_label = label;
		pc.pin = pin != NULL ? pin : "";
		pc.pinlen = strlen(pc.pin);
		if (cf_keyprov_pkcs11_open(&pc, false, &kp, &err) != CF_OK)
			die("pkcs11 provider", &err);
	}
	(void)snprintf(path, sizeof(path), "%s/meta.db", data);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		sqldie(db, path);
	exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
	/* Every column but those a copy changes. */
	cols[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info("
	    "'versions')", -1, &st, NULL) != SQLITE_OK)
		sqldie(db, "table_info");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);

		if (strcmp(c, "seq") == 0 || strcmp(c, "version_id") == 0 ||
		    strcmp(c, "key") == 0 || strcmp(c, "kek_id") == 0 ||
		    strcmp(c, "wrapped_dek") == 0)
			continue;
		k = strlen(cols);
		(void)snprintf(cols + k, sizeof(cols) - k, ", %s", c);
	}
	sqlite3_finalize(st);
	(void)snprintf(sql, sizeof(sql), "INSERT INTO versions (version_id,"
	    " key, kek_id, wrapped_dek%s) SELECT ?1, ?2, ?3, ?4%s FROM"
	    " versions WHERE version_id = ?5", cols, cols);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		sqldie(db, "prepare insert");
	exec_sql(db, "BEGIN");
	for (i = 0; i < n; i++) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) != 0)
			die("random", NULL);
		for (k = 0; k < sizeof(rnd); k++)
			(void)snprintf(vid + 2 * k, 3, "%02x", rnd[k]);
		(void)snprintf(key, sizeof(key), "seed/%ld", i);
		if (cf_key_new_random(&dek, &err) != CF_OK ||
		    cf_keyprov_wrap(kp, dek, vid, strlen(vid), kek, w, &err) !=
		    CF_OK)
			die("wrap", &err);
		cf_key_free(dek);
		dek = NULL;
		(void)sqlite3_bind_text(st, 1, vid, -1, SQLITE_TRANSIENT);
		(void)sqlite3_bind_blob(st, 2, key, (int)strlen(key),
		    SQLITE_TRANSIENT);
		(void)sqlite3_bind_text(st, 3, kek, -1, SQLITE_TRANSIENT);
		(void)sqlite3_bind_blob(st, 4, w, sizeof(w), SQLITE_TRANSIENT);
		(void)sqlite3_bind_text(st, 5, tmpl, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			sqldie(db, "insert");
		if (sqlite3_changes(db) != 1)
			die("no template version", NULL);
		(void)sqlite3_reset(st);
		if ((i + 1) % BATCH == 0) {
			exec_sql(db, "COMMIT; BEGIN");
			(void)fprintf(stderr, "\rseeded %ld", i + 1);
		}
	}
	exec_sql(db, "COMMIT");
	sqlite3_finalize(st);
	exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	(void)sqlite3_close(db);
	(void)fprintf(stderr, "\rseeded %ld versions under %s\n", n, kek);
	cf_keyprov_close(kp);
	cf_key_free(master);
	return 0;
}

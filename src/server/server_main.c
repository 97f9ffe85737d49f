/* src/server/server_main.c: `coffer server`: options, first-run set-up,
 * TLS material, the HTTP front end, and a clean shutdown on SIGINT or
 * SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/testhook.h"
#include "base/timeutil.h"
#include "core/core.h"
#include "core/datadir.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "crypto/tlscert.h"
#include "server/config.h"
#include "server/http.h"
#include "server/server.h"

static void
usage(FILE *f)
{
	(void)fprintf(f,
	    "usage: coffer server [--data DIR] [--listen ADDR:PORT] "
	    "[--config FILE]\n"
	    "                     [--insecure-http] [--check] "
	    "[--set NAME=VALUE]...\n"
	    "\n"
	    "Runs the Coffer service.  An empty data directory is initialized\n"
	    "(master key, keyring, TLS certificate, metadata, audit log and a\n"
	    "bootstrap admin session in DIR/bootstrap-token).\n"
	    "\n"
	    "  --data DIR         data directory (default ./coffer-data)\n"
	    "  --listen ADDR:PORT address to serve (default 127.0.0.1:8443)\n"
	    "  --config FILE      configuration file (docs/coffer.conf.5.md)\n"
	    "  --insecure-http    plain HTTP; only on a loopback address\n"
	    "  --check            check the configuration, print it and exit\n"
	    "  --set NAME=VALUE   set one configuration option\n"
	    "  --passphrase-fd N  read the passphrase of a sealed master key\n"
	    "                     from file descriptor N\n"
	    "\n"
	    "The master key is kept outside the data directory, by default in\n"
	    "~/.config/coffer/keys/ (master_key_file, or the environment\n"
	    "variable COFFER_MASTER_KEY_FILE, name another file).\n");
}

#define CERT_WARN_DAYS	30	/* warn when the certificate ends sooner */

/* Warn when the certificate has expired or expires within CERT_WARN_DAYS;
 * renew says how to replace it.  Checked at each start only. */
static cf_err
check_expiry(const char *cert, const char *cert_pem, const char *renew,
    struct cf_error *err)
{
	char	ts[CF_TIME_STR_LEN];
	time_t	exp, now = time(NULL);
	cf_err	rc;

	if ((rc = cf_tls_cert_expiration(cert_pem, &exp, err)) != CF_OK)
		return rc;
	cf_time_format((int64_t)exp * 1000000, ts);
	if (exp <= now)
		log_warnx("event=tls_cert_expired cert=%s not_after=%s "
		    "msg=\"the TLS certificate has expired and clients will "
		    "refuse it; %s\"", cert, ts, renew);
	else if (exp - now < (time_t)CERT_WARN_DAYS * 86400)
		log_warnx("event=tls_cert_expiring cert=%s not_after=%s "
		    "days_left=%lld msg=\"the TLS certificate expires within "
		    "%d days; %s\"", cert, ts,
		    (long long)((exp - now) / 86400), CERT_WARN_DAYS, renew);
	return CF_OK;
}

/* SEC: the self-signed certificate is never replaced here, even when it
 * lacks names the configuration now asks for: clients trust exactly that
 * certificate (it is their CA file), and a silent new one would break them
 * all, or teach them to accept certificate changes.  Say what is missing
 * and how to renew instead. */
static cf_err
check_names(const char *cert, const char *key, const char *cert_pem,
    const struct cf_cert_names *names, struct cf_error *err)
{
	char	missing[512];
	size_t	n;
	cf_err	rc;

	rc = cf_tls_cert_missing_names(cert_pem, names->list, missing,
	    sizeof(missing), &n, err);
	if (rc != CF_OK || n == 0)
		return rc;
	log_warnx("event=tls_names_missing missing=\"%s\" cert=%s "
	    "msg=\"the self-signed certificate lacks these names, so clients "
	    "that connect by them fail verification; it is never replaced "
	    "automatically (clients pin it).  To renew: stop the server, move "
	    "%s and %s away, start it (a new certificate with every "
	    "configured name is made), and give clients the new %s\"",
	    missing, cert, cert, key, cert);
	return CF_OK;
}

/* Read a passphrase from fd (to a newline or the end) into buf; *len gets
 * its length.  With echo_off, fd is a terminal: echo is turned off. */
static cf_err
read_passphrase(int fd, bool echo_off, char *buf, size_t bufsz,
    size_t *len, struct cf_error *err)
{
	struct termios	old, quiet;
	size_t		n = 0;
	ssize_t		r;
	bool		restore = false;
	char		ch;

	if (echo_off && tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	for (;;) {
		r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n')
			break;
		if (n + 1 >= bufsz) {
			n = bufsz;
			break;
		}
		buf[n++] = ch;
	}
	if (restore) {
		(void)tcsetattr(fd, TCSAFLUSH, &old);
		(void)fputc('\n', stderr);
	}
	if (n >= bufsz) {
		cf_wipe(buf, bufsz);
		return cf_error_set(err, CF_E_LIMIT, "passphrase too long");
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return CF_OK;
}

/* The master key: its passphrase when sealed (--passphrase-fd,
 * master_key_passphrase_file, else the terminal), then the key itself,
 * created on the first start outside the data directory; its place is
 * printed once, and a key inside the data directory is warned about. */
static cf_err
master_key_setup(const struct cf_config *cfg, uint64_t pass_fd,
    struct cf_error *err)
{
	struct cf_key	*master = NULL;
	char		 path[4096], pw[CF_MK_PASS_MAX + 2];
	size_t		 len = 0;
	bool		 managed, created = false, have = false;
	int		 fd = -1;
	cf_err		 rc;

	rc = cf_dd_master_key_path(cfg->data_dir, cfg->master_key_file, false,
	    path, sizeof(path), &managed, err);
	if (rc == CF_E_NOTFOUND) {	/* no DIR/id yet: a first start */
		cf_error_clear(err);
		rc = CF_OK;
		path[0] = '\0';
	}
	if (rc != CF_OK)
		return rc;
	if (pass_fd != UINT64_MAX) {
		rc = read_passphrase((int)pass_fd, false, pw, sizeof(pw),
		    &len, err);
		have = true;
	} else if (cfg->master_key_passphrase_file[0] != '\0') {
		fd = open(cfg->master_key_passphrase_file, O_RDONLY |
		    O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return cf_error_sys(err, CF_E_IO, "open %s",
			    cfg->master_key_passphrase_file);
		rc = read_passphrase(fd, false, pw, sizeof(pw), &len, err);
		(void)close(fd);
		have = true;
	} else if (path[0] != '\0' && cf_master_key_sealed(path) &&
	    isatty(STDIN_FILENO) == 1) {
		(void)fprintf(stderr, "Passphrase of the master key %s: ",
		    path);
		rc = read_passphrase(STDIN_FILENO, true, pw, sizeof(pw), &len,
		    err);
		have = true;
	}
	if (rc == CF_OK && have)
		rc = cf_master_passphrase_set(pw, len, err);
	cf_wipe(pw, sizeof(pw));
	if (rc != CF_OK)
		return rc;
	rc = cf_dd_master_key(cfg->data_dir, cfg->master_key_file, true,
	    &master, &created, path, sizeof(path), err);
	cf_key_free(master);
	if (rc != CF_OK)
		return rc;
	if (created)
		(void)printf("coffer: master key created at %s: keep a copy "
		    "apart from the data directory (without it nothing in "
		    "%s can be read)\n", path, cfg->data_dir);
	if (cf_dd_inside(cfg->data_dir, path))
		log_warnx("event=insecure_key_location key=%s data=%s "
		    "msg=\"the master key is inside the data directory, so "
		    "every copy of the directory (snapshot, backup) holds the "
		    "key to it: move it out (docs/operations.md, The master "
		    "key)\"", path, cfg->data_dir);
	return CF_OK;
}

/* Self-signed certificate on first run unless one is configured; returns
 * the PEM texts (key_pem is secret: cf_tls_pem_free wipes it). */
static cf_err
tls_material(const struct cf_config *cfg, char **cert_pem, char **key_pem,
    struct cf_error *err)
{
	static const char	 own_renew[] = "renew it: stop the server, "
	    "move server.crt and server.key out of DATA/tls, start it, and "
	    "give clients the new server.crt";
	static const char	 cfg_renew[] = "replace tls_cert and tls_key "
	    "with a renewed certificate and restart the server";
	struct cf_key		*master = NULL;
	struct cf_cert_names	 names;
	char			 cert[4096], key[4096], dir[4096];
	char			 host[256], all[1024], mkpath[4096];
	bool			 created = false;
	size_t			 i;
	cf_err			 rc;

	if (cfg->tls_cert[0] != '\0' || cfg->tls_key[0] != '\0') {
		if (cfg->tls_cert[0] == '\0' || cfg->tls_key[0] == '\0')
			return cf_error_set(err, CF_E_INPUT,
			    "tls_cert and tls_key must be set together");
		if (cfg->tls_names[0] != '\0')
			log_warnx("event=tls_names_ignored msg=\"tls_names "
			    "applies only to the self-signed certificate, "
			    "and tls_cert is set\"");
		rc = cf_tls_load_pem(cfg->tls_cert, cfg->tls_key, NULL,
		    cert_pem, key_pem, err);
		if (rc == CF_OK)
			rc = check_expiry(cfg->tls_cert, *cert_pem, cfg_renew,
			    err);
		return rc;
	}
	/* The names to have beyond localhost and the loopback addresses. */
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if ((rc = cf_config_cert_names(cfg, host, &names, err)) != CF_OK)
		return rc;
	rc = cf_dd_master_key(cfg->data_dir, cfg->master_key_file, true,
	    &master, NULL, mkpath, sizeof(mkpath), err);
	if (rc != CF_OK)
		return rc;
	rc = cf_dd_path(cfg->data_dir, CF_DD_TLS_CERT, cert, sizeof(cert), err);
	if (rc == CF_OK)
		rc = cf_dd_path(cfg->data_dir, CF_DD_TLS_KEY, key, sizeof(key),
		    err);
	if (rc == CF_OK)
		rc = cf_dd_path(cfg->data_dir, "tls", dir, sizeof(dir), err);
	if (rc != CF_OK)
		goto out;
	if (access(cert, F_OK) != 0) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			rc = cf_error_sys(err, CF_E_IO, "mkdir %s", dir);
			goto out;
		}
		rc = cf_tls_selfsigned_create(cert, key, master, names.list,
		    err);
		if (rc != CF_OK)
			goto out;
		created = true;
		(void)cf_strlcpy(all, "localhost,127.0.0.1,::1", sizeof(all));
		for (i = 0; i < names.n; i++) {
			(void)cf_strlcat(all, ",", sizeof(all));
			(void)cf_strlcat(all, names.list[i], sizeof(all));
		}
		log_info("event=init msg=\"created self-signed certificate\" "
		    "cert=%s names=\"%s\"", cert, all);
	}
	rc = cf_tls_load_pem(cert, key, master, cert_pem, key_pem, err);
	if (rc == CF_OK && !created)
		rc = check_names(cert, key, *cert_pem, &names, err);
	if (rc == CF_OK)
		rc = check_expiry(cert, *cert_pem, own_renew, err);
out:
	cf_key_free(master);
	return rc;
}

/* The core's settings from the server's. */
/* Test hook: with COFFER_TEST_CLOCK_FILE set, the core's clock (link
 * lifetimes, brute-force counting, decisions' time, the JWKS refresh
 * throttle) runs ahead of the real one by the whole seconds that file
 * holds ("0" or missing: none), or stands still at "@SECONDS" (whole
 * seconds since the epoch: a frozen clock, for tests that count what
 * happens within one interval).  The file is read at every call, so that
 * an end-to-end test moves a running server's time without waiting.
 * Only in a test build (base/testhook.h): elsewhere cf_test_hook() is
 * NULL and the real clock runs. */
static const char	*test_clock_file;

static int64_t
test_clock_us(void)
{
	char	buf[32];
	int64_t	off = 0;
	size_t	n;
	FILE	*fp;

	fp = fopen(test_clock_file, "r");
	if (fp != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		(void)fclose(fp);
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
			n--;
		buf[n] = '\0';
		if (buf[0] == '@' && cf_parse_i64(buf + 1, 1,
		    1000LL * 365 * 86400, &off, NULL) == CF_OK)
			return off * 1000000;	/* frozen */
		if (cf_parse_i64(buf, 0, 100LL * 365 * 86400, &off, NULL) !=
		    CF_OK)
			off = 0;
	}
	return cf_now_us() + off * 1000000;
}

static void
core_config_of(const struct cf_config *cfg, struct cf_core_config *ccfg)
{
	cf_core_config_defaults(ccfg);
	ccfg->data_dir = cfg->data_dir;
	ccfg->session_ttl = (int64_t)cfg->session_ttl;
	ccfg->bootstrap_ttl = (int64_t)cfg->bootstrap_ttl;
	ccfg->master_key_file = cfg->master_key_file;
	ccfg->password_min_length = (size_t)cfg->password_min_length;
	ccfg->pwhash_memory = (size_t)cfg->pwhash_memory;
	ccfg->pwhash_ops = cfg->pwhash_ops;
	ccfg->auth_free_failures = (int64_t)cfg->auth_free_failures;
	ccfg->auth_lock_failures = (int64_t)cfg->auth_lock_failures;
	ccfg->auth_lock_seconds = (int64_t)cfg->auth_lock_seconds;
	ccfg->auth_addr_free_failures = (int64_t)cfg->auth_addr_free_failures;
	ccfg->auth_addr_lock_failures = (int64_t)cfg->auth_addr_lock_failures;
	ccfg->mfa_admin_actions = cfg->mfa_admin_actions;
	ccfg->mfa_restricted_data = cfg->mfa_restricted_data;
	ccfg->mfa_max_age_admin = (int64_t)cfg->mfa_max_age_admin;
	ccfg->mfa_max_age_restricted = (int64_t)cfg->mfa_max_age_restricted;
	ccfg->mfa_max_age_flagged = (int64_t)cfg->mfa_max_age_flagged;
	ccfg->oidc_issuer = cfg->oidc_issuer;
	ccfg->oidc_audience = cfg->oidc_audience;
	ccfg->oidc_jwks_url = cfg->oidc_jwks_url;
	ccfg->oidc_jwks_file = cfg->oidc_jwks_file;
	ccfg->oidc_username_claim = cfg->oidc_username_claim;
	ccfg->oidc_groups_claim = cfg->oidc_groups_claim;
	ccfg->oidc_group_roles = cfg->oidc_group_roles;
	ccfg->oidc_claim_attrs = cfg->oidc_claim_attrs;
	ccfg->oidc_provision = cfg->oidc_provision;
	ccfg->oidc_skew = (int64_t)cfg->oidc_skew;
	ccfg->oidc_jwks_min_refresh = (int64_t)cfg->oidc_jwks_min_refresh;
	ccfg->oidc_config_file = cfg->oidc_config_file;
	ccfg->max_object_size = cfg->max_object_size;
	ccfg->max_json_body = (size_t)cfg->max_json_body;
	ccfg->request_memory_budget = cfg->request_memory_budget;
	ccfg->orphan_grace = (int64_t)cfg->orphan_grace;
	ccfg->s3_multipart_expiry = (int64_t)cfg->s3_multipart_expiry;
	ccfg->orphan_interval = (int64_t)cfg->orphan_interval;
	ccfg->purge_interval = (int64_t)cfg->purge_interval;
	ccfg->env_allow_dev = cfg->env_dev_allow;
	ccfg->env_allow_staging = cfg->env_staging_allow;
	ccfg->env_allow_prod = cfg->env_prod_allow;
	ccfg->breakglass_max = (int64_t)cfg->breakglass_max;
	ccfg->promotion_approvals_dev = (int64_t)cfg->promotion_approvals_dev;
	ccfg->promotion_approvals_staging =
	    (int64_t)cfg->promotion_approvals_staging;
	ccfg->promotion_approvals_prod = (int64_t)cfg->promotion_approvals_prod;
	ccfg->promotion_ttl = (int64_t)cfg->promotion_ttl;
	ccfg->key_provider = cfg->key_provider;
	ccfg->review_on_timeout = cfg->review_on_timeout;
	ccfg->pkcs11_module = cfg->pkcs11_module;
	ccfg->pkcs11_token_label = cfg->pkcs11_token_label;
	ccfg->pkcs11_pin_file = cfg->pkcs11_pin_file;
	ccfg->key_rotate_days = (int64_t)cfg->key_rotate_days;
	ccfg->backup_dir = cfg->backup_dir;
	ccfg->alert_rules_file = cfg->alert_rules_file;
	ccfg->share_default_lifetime = (int64_t)cfg->share_default_lifetime;
	ccfg->share_max_lifetime[0] = (int64_t)cfg->share_max_lifetime_public;
	ccfg->share_max_lifetime[1] =
	    (int64_t)cfg->share_max_lifetime_internal;
	ccfg->share_max_lifetime[2] =
	    (int64_t)cfg->share_max_lifetime_confidential;
	ccfg->share_max_lifetime[3] =
	    (int64_t)cfg->share_max_lifetime_restricted;
	ccfg->share_guess_limit = (int64_t)cfg->share_guess_limit;
	ccfg->share_guess_lock_seconds =
	    (int64_t)cfg->share_guess_lock_seconds;
	ccfg->share_url_base = cfg->share_url_base;
	ccfg->anomaly_detection = cfg->anomaly_detection;
	ccfg->anomaly_max_principals = (int64_t)cfg->anomaly_max_principals;
	ccfg->anomaly_min_events = (int64_t)cfg->anomaly_min_events;
	ccfg->anomaly_bulk_factor = (int64_t)cfg->anomaly_bulk_factor;
	ccfg->anomaly_bulk_min_bytes = (int64_t)cfg->anomaly_bulk_min_bytes;
	ccfg->anomaly_bulk_min_objects =
	    (int64_t)cfg->anomaly_bulk_min_objects;
	ccfg->anomaly_enum_denials = (int64_t)cfg->anomaly_enum_denials;
	ccfg->anomaly_dormant_days = (int64_t)cfg->anomaly_dormant_days;
	ccfg->anomaly_rebuild_records = (int64_t)cfg->anomaly_rebuild_records;
	test_clock_file = cf_test_hook("COFFER_TEST_CLOCK_FILE");
	if (test_clock_file != NULL && test_clock_file[0] != '\0')
		ccfg->clock_us = test_clock_us;
}

/* The options of `coffer server` (and of the offline `coffer key`
 * commands, prog names which) into cfg: the config file first, so that
 * command-line options override it.  -1 to go on, else the exit
 * status. */
static int
server_args(int argc, char **argv, const char *prog, struct cf_config *cfg,
    bool *check, uint64_t *pass_fd)
{
	struct cf_error	 err;
	const char	*config_file = NULL;
	char		*eq;
	int		 i;

	cf_error_clear(&err);
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_file = argv[i + 1];
	if (config_file != NULL &&
	    cf_config_load(cfg, config_file, &err) != CF_OK) {
		(void)fprintf(stderr, "coffer %s: %s\n", prog, err.msg);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		cf_err rc = CF_OK;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--check") == 0) {
			*check = true;
			continue;
		} else if (strcmp(a, "--insecure-http") == 0) {
			cfg->insecure_http = true;
			continue;
		}
		if (v == NULL) {
			(void)fprintf(stderr, "coffer %s: %s needs a value "
			    "(try --help)\n", prog, a);
			return 2;
		}
		if (strcmp(a, "--data") == 0)
			rc = cf_config_set(cfg, "data", v, &err);
		else if (strcmp(a, "--passphrase-fd") == 0)
			rc = cf_parse_u64(v, 0, 1024, pass_fd, &err);
		else if (strcmp(a, "--listen") == 0)
			rc = cf_config_set(cfg, "listen", v, &err);
		else if (strcmp(a, "--config") == 0)
			rc = CF_OK;
		else if (strcmp(a, "--set") == 0) {
			/* Only the name is copied: a value may be long
			 * (tls_names, paths). */
			char	opt[256];
			eq = strchr(v, '=');
			if (eq == NULL || (size_t)(eq - v) >= sizeof(opt)) {
				(void)fprintf(stderr, "coffer %s: --set "
				    "needs NAME=VALUE\n", prog);
				return 2;
			}
			memcpy(opt, v, (size_t)(eq - v));
			opt[eq - v] = '\0';
			rc = cf_config_set(cfg, opt, eq + 1, &err);
		} else {
			(void)fprintf(stderr, "coffer %s: unknown option "
			    "%s (try --help)\n", prog, a);
			return 2;
		}
		if (rc != CF_OK) {
			(void)fprintf(stderr, "coffer %s: %s\n", prog,
			    err.msg);
			return 2;
		}
		i++;
	}
	return -1;
}

int
cf_server_key_main(int argc, char **argv)
{
	struct cf_config	 cfg;
	struct cf_core_config	 ccfg;
	struct cf_error		 err;
	char			 id[64];
	uint64_t		 pass_fd = UINT64_MAX;
	bool			 check = false;
	int			 i;

	cf_error_clear(&err);
	cf_config_defaults(&cfg);
	if (argc < 1 || strcmp(argv[0], "init-hsm") != 0) {
		(void)fprintf(stderr, "usage: coffer key init-hsm [--config "
		    "FILE] [--set NAME=VALUE]...\n");
		return 2;
	}
	i = server_args(argc, argv, "key init-hsm", &cfg, &check, &pass_fd);
	if (i >= 0)
		return i;
	core_config_of(&cfg, &ccfg);
	ccfg.key_init = true;
	if (cf_crypto_init(&err) != CF_OK ||
	    cf_core_key_init(&ccfg, id, sizeof(id), &err) != CF_OK) {
		(void)fprintf(stderr, "coffer key init-hsm: %s\n", err.msg);
		return 1;
	}
	(void)printf("token \"%s\": active KEK %s (AES-256, sensitive, not "
	    "extractable)\n", cfg.pkcs11_token_label, id);
	return 0;
}

int
cf_server_main(int argc, char **argv)
{
	struct cf_config	 cfg;
	struct cf_core_config	 ccfg;
	struct cf_core		*core = NULL;
	struct cf_http		*http = NULL;
	struct cf_error		 err;
	char			 bootstrap[4096];
	char			*cert_pem = NULL, *key_pem = NULL;
	uint64_t		 pass_fd = UINT64_MAX;
	bool			 check = false, test_hold = false;
	sigset_t		 set;
	int			 i, sig, status = 1;

	cf_error_clear(&err);
	cf_config_defaults(&cfg);
	i = server_args(argc, argv, "server", &cfg, &check, &pass_fd);
	if (i >= 0)
		return i;
	if (check) {
		/* The identity settings are the core's to judge: password
		 * hashing, OIDC issuers, oidc_config_file, JWKS files. */
		core_config_of(&cfg, &ccfg);
		if (cf_http_check_listen(&cfg, &err) != CF_OK ||
		    cf_crypto_init(&err) != CF_OK ||
		    cf_core_check_identity(&ccfg, &err) != CF_OK ||
		    cf_core_check_alerts(&ccfg, &err) != CF_OK) {
			(void)fprintf(stderr, "coffer server: %s\n", err.msg);
			return 2;
		}
		cf_config_dump(&cfg, stdout);
		return 0;
	}
	cf_log_set_level(strcmp(cfg.log_level, "debug") == 0 ? CF_LOG_DEBUG :
	    strcmp(cfg.log_level, "warn") == 0 ? CF_LOG_WARN :
	    strcmp(cfg.log_level, "error") == 0 ? CF_LOG_ERR : CF_LOG_INFO);
	cf_crypto_harden_process();
	if (cf_crypto_init(&err) != CF_OK) {
		(void)fprintf(stderr, "coffer server: %s\n", err.msg);
		return 1;
	}
	/* Signals are taken synchronously by the main thread; every other
	 * thread inherits the mask. */
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGINT);
	(void)sigaddset(&set, SIGTERM);
	(void)sigaddset(&set, SIGHUP);
	/* Test hook: with COFFER_TEST_AUDIT_HOLD set, SIGUSR1 holds the
	 * audit log's group commits (requests wait for durability as long
	 * as a slow disk would make them) and SIGUSR2 releases them; each
	 * logs event=test_audit_hold with the records waiting. */
	test_hold = cf_test_hook("COFFER_TEST_AUDIT_HOLD") != NULL;
	if (test_hold) {
		(void)sigaddset(&set, SIGUSR1);
		(void)sigaddset(&set, SIGUSR2);
	}
	(void)pthread_sigmask(SIG_BLOCK, &set, NULL);
	(void)signal(SIGPIPE, SIG_IGN);

	/* A listener that cannot start is refused before anything is made
	 * (the same rule as --check). */
	if (cf_http_check_listen(&cfg, &err) != CF_OK) {
		(void)fprintf(stderr, "coffer server: %s\n", err.msg);
		return 2;
	}
	if (mkdir(cfg.data_dir, 0700) != 0 && errno != EEXIST) {
		(void)fprintf(stderr, "coffer server: mkdir %s: %s\n",
		    cfg.data_dir, strerror(errno));
		return 1;
	}
	if (master_key_setup(&cfg, pass_fd, &err) != CF_OK)
		goto fail;
	if (!cfg.insecure_http &&
	    tls_material(&cfg, &cert_pem, &key_pem, &err) != CF_OK)
		goto fail;
	/* SEC: a test build in production would be a mistake: say so. */
	if (cf_test_hooks_built())
		log_warnx("event=test_build msg=\"this build honours the "
		    "test suite's COFFER_TEST_* hooks: do not run it in "
		    "production (build without -DCF_TEST_HOOKS)\"");
	core_config_of(&cfg, &ccfg);
	if (cf_core_open(&ccfg, &core, bootstrap, &err) != CF_OK)
		goto fail;
	/* SEC: every key from the master key is derived by now. */
	cf_master_passphrase_clear();
	if (cf_http_start(core, &cfg, cert_pem, key_pem, &http, &err) != CF_OK)
		goto fail;
	/* SEC: the TLS key is inside GnuTLS now; drop our copy. */
	cf_tls_pem_free(key_pem);
	key_pem = NULL;
	(void)printf("coffer: serving %s://%s (data %s)\n",
	    cfg.insecure_http ? "http" : "https", cfg.listen, cfg.data_dir);
	if (!cfg.insecure_http && cfg.tls_cert[0] == '\0')
		(void)printf("coffer: certificate %s/%s\n", cfg.data_dir,
		    CF_DD_TLS_CERT);
	if (bootstrap[0] != '\0')
		(void)printf("coffer: bootstrap admin session written to %s "
		    "(valid %llu s): log in with it and enroll MFA now "
		    "(coffer mfa enroll); enrolling removes the file\n",
		    bootstrap, (unsigned long long)cfg.bootstrap_ttl);
	(void)fflush(stdout);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (test_hold && (sig == SIGUSR1 || sig == SIGUSR2)) {
			uint64_t pending = 0;

			cf_core_test_audit_hold(core, sig == SIGUSR1,
			    &pending);
			log_warnx("event=test_audit_hold hold=%d pending=%llu",
			    sig == SIGUSR1, (unsigned long long)pending);
		}
	}
	log_info("event=shutdown signal=%d", sig);
	status = 0;
	goto out;
fail:
	(void)fprintf(stderr, "coffer server: %s\n", err.msg);
	status = 1;
out:
	cf_http_stop(http);
	cf_core_close(core);
	cf_free(cert_pem);
	cf_tls_pem_free(key_pem);
	return status;
}

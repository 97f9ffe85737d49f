/* src/server/config.c: the configuration table and its parser. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/str.h"
#include "core/core.h"
#include "server/config.h"

enum opt_type { OPT_STR, OPT_U64, OPT_BOOL };

#define OPT_SECRET	0x1	/* never printed by the dumper */

struct opt {
	const char	*name;
	enum opt_type	 type;
	size_t		 off;
	size_t		 size;		/* OPT_STR: buffer size */
	uint64_t	 min, max;	/* OPT_U64 bounds */
	const char	*def;
	int		 flags;
	const char	*help;
};

#define STR(n, f, d, h) { n, OPT_STR, offsetof(struct cf_config, f), \
	sizeof(((struct cf_config *)0)->f), 0, 0, d, 0, h }
#define U64(n, f, lo, hi, d, h) { n, OPT_U64, \
	offsetof(struct cf_config, f), 0, lo, hi, d, 0, h }
#define BOOL(n, f, d, h) { n, OPT_BOOL, offsetof(struct cf_config, f), 0, \
	0, 1, d, 0, h }

static const struct opt opts[] = {
	STR("listen", listen, "127.0.0.1:8443", "address and port to serve"),
	STR("data", data_dir, "./coffer-data", "data directory"),
	STR("tls_cert", tls_cert, "", "PEM certificate chain (default: "
	    "self-signed DIR/tls/server.crt)"),
	STR("tls_key", tls_key, "", "PEM private key of tls_cert"),
	STR("tls_names", tls_names, "", "more DNS names and IP addresses of "
	    "the self-signed certificate, comma separated"),
	BOOL("insecure_http", insecure_http, "no",
	    "serve plain HTTP (loopback addresses only)"),
	U64("max_object_size", max_object_size, 0, 1ULL << 50,
	    "1099511627776", "bytes per object version (1 TiB)"),
	U64("max_json_body", max_json_body, 256, 16 << 20, "65536",
	    "bytes per JSON request body"),
	U64("request_memory_budget", request_memory_budget, 65536,
	    1ULL << 40, "268435456",
	    "bytes of request buffers all requests may hold together"),
	U64("threads", threads, 0, 1024, "auto",
	    "event threads (auto: two per core, 4 to 64; 0: one thread per "
	    "connection)"),
	U64("max_connections", max_connections, 1, 65536, "1024",
	    "concurrent connections"),
	U64("max_connections_per_ip", max_connections_per_ip, 1, 65536, "64",
	    "concurrent connections from one client address"),
	U64("connection_timeout", connection_timeout, 1, 86400, "120",
	    "idle seconds before a connection is closed"),
	U64("request_head_timeout", request_head_timeout, 1, 86400, "10",
	    "seconds to receive a whole request head (line and headers)"),
	U64("max_uploads_per_principal", max_uploads_per_principal, 1,
	    65536, "64", "concurrent uploads of one principal"),
	U64("max_downloads_per_principal", max_downloads_per_principal, 1,
	    65536, "128", "concurrent downloads of one principal"),
	U64("min_upload_rate", min_upload_rate, 0, 1ULL << 40, "1024",
	    "bytes/s a request body must average over upload_stall_timeout "
	    "(0: no minimum)"),
	U64("upload_stall_timeout", upload_stall_timeout, 1, 86400, "30",
	    "seconds over which min_upload_rate is measured"),
	U64("shutdown_drain_timeout", shutdown_drain_timeout, 0, 86400, "30",
	    "seconds requests in progress get to finish after SIGTERM"),
	STR("log_level", log_level, "info", "error, warn, info or debug"),
	U64("session_ttl", session_ttl, 1, 30 * 86400, "43200",
	    "seconds a login session lasts (12 h)"),
	STR("master_key_file", master_key_file, "", "master key file "
	    "(default: ~/.config/coffer/keys/ID.key, outside the data "
	    "directory; COFFER_MASTER_KEY_FILE overrides)"),
	STR("master_key_passphrase_file", master_key_passphrase_file, "",
	    "file holding the passphrase of a sealed master key"),
	U64("bootstrap_ttl", bootstrap_ttl, 60, 7 * 86400, "86400",
	    "seconds the first start's bootstrap admin session lasts (24 h)"),
	U64("password_min_length", password_min_length, 8, 256, "12",
	    "characters a new password needs at least"),
	U64("pwhash_memory", pwhash_memory, 19ULL << 20, 1ULL << 30,
	    "19922944", "argon2id memory in bytes (OWASP: 19 MiB)"),
	U64("pwhash_ops", pwhash_ops, 2, 16, "2", "argon2id passes"),
	U64("auth_free_failures", auth_free_failures, 0, 1000, "3",
	    "failed logins before delays start"),
	U64("auth_lock_failures", auth_lock_failures, 1, 100000, "10",
	    "failed logins that lock the name or address"),
	U64("auth_lock_seconds", auth_lock_seconds, 1, 30 * 86400, "900",
	    "seconds a lock lasts"),
	U64("auth_addr_free_failures", auth_addr_free_failures, 0, 1000000,
	    "0", "failed logins from one address before delays start "
	    "(0: 5 x auth_free_failures)"),
	U64("auth_addr_lock_failures", auth_addr_lock_failures, 0, 1000000,
	    "0", "failed logins that lock an address "
	    "(0: 5 x auth_lock_failures)"),
	BOOL("mfa_admin_actions", mfa_admin_actions, "yes",
	    "admin-only actions need MFA with sessions and OIDC tokens"),
	BOOL("mfa_restricted_data", mfa_restricted_data, "yes",
	    "every action on a restricted namespace needs MFA (API tokens "
	    "cannot reach it)"),
	U64("mfa_max_age_admin", mfa_max_age_admin, 0, 30 * 86400, "900",
	    "seconds MFA counts for admin-only actions and for granting "
	    "access (0: no limit)"),
	U64("mfa_max_age_restricted", mfa_max_age_restricted, 0, 30 * 86400,
	    "900", "seconds MFA counts on restricted namespaces (0: no "
	    "limit)"),
	U64("mfa_max_age_flagged", mfa_max_age_flagged, 0, 30 * 86400,
	    "43200", "seconds MFA counts for users and roles flagged "
	    "mfa_required (0: no limit)"),
	STR("oidc_issuer", oidc_issuer, "", "OIDC issuer (iss); empty: off"),
	STR("oidc_audience", oidc_audience, "", "required aud value"),
	STR("oidc_jwks_url", oidc_jwks_url, "", "https:// URL of the JWKS"),
	STR("oidc_jwks_file", oidc_jwks_file, "", "JWKS file (instead of "
	    "a URL)"),
	STR("oidc_username_claim", oidc_username_claim, "preferred_username",
	    "claim that names the user"),
	STR("oidc_groups_claim", oidc_groups_claim, "groups",
	    "claim that lists the groups"),
	STR("oidc_group_roles", oidc_group_roles, "",
	    "group=role[@namespace], comma separated"),
	STR("oidc_claim_attrs", oidc_claim_attrs, "",
	    "claim:attribute, comma separated: user attributes from claims"),
	BOOL("oidc_provision", oidc_provision, "no",
	    "create unknown OIDC users on first use"),
	U64("oidc_skew", oidc_skew, 0, 600, "60",
	    "seconds of clock skew allowed for exp, nbf, iat"),
	U64("oidc_jwks_min_refresh", oidc_jwks_min_refresh, 1, 86400, "60",
	    "least seconds between JWKS fetches for unknown kids"),
	STR("oidc_config_file", oidc_config_file, "",
	    "JSON file with an array of (more) OIDC issuers"),
	U64("orphan_grace", orphan_grace, 60, 30 * 86400, "3600",
	    "seconds before an unreferenced blob counts as an orphan (the "
	    "longest an upload may take from blob commit to version row)"),
	U64("orphan_interval", orphan_interval, 0, 30 * 86400, "3600",
	    "seconds between orphan sweeps (0: only at start-up)"),
	U64("purge_interval", purge_interval, 0, 30 * 86400, "3600",
	    "seconds between passes of the purge job (namespaces with "
	    "purge_after_days; 0: only at start-up)"),
	STR("env.dev.allow", env_dev_allow, "", "client networks that may "
	    "reach dev namespaces, CIDR, CIDR, ... (empty: any)"),
	STR("env.staging.allow", env_staging_allow, "", "client networks "
	    "that may reach staging namespaces (empty: any)"),
	STR("env.prod.allow", env_prod_allow, "", "client networks that may "
	    "reach prod namespaces (empty: any)"),
	STR("trusted_proxies", trusted_proxies, "", "proxies (CIDR, ...) "
	    "whose forwarded_header names the client (empty: none; the "
	    "socket address is the client)"),
	U64("breakglass_max", breakglass_max, 60, 7 * 86400, "14400",
	    "longest break-glass grant in seconds (4 h)"),
	U64("promotion_approvals_dev", promotion_approvals_dev, 0, 16, "0",
	    "distinct approvers a promotion into a dev namespace needs"),
	U64("promotion_approvals_staging", promotion_approvals_staging, 0, 16,
	    "1", "distinct approvers a promotion into staging needs"),
	U64("promotion_approvals_prod", promotion_approvals_prod, 0, 16, "2",
	    "distinct approvers a promotion into prod needs"),
	U64("promotion_ttl", promotion_ttl, 60, 90 * 86400, "604800",
	    "seconds a promotion request stays open (7 days)"),
	STR("forwarded_header", forwarded_header, "x-forwarded-for",
	    "the header trusted_proxies set: x-forwarded-for or forwarded "
	    "(RFC 7239); the other is ignored"),
	STR("s3_region", s3_region, "us-east-1", "the region S3 clients "
	    "sign requests for (SigV4)"),
	STR("s3_endpoint", s3_endpoint, "", "the S3 endpoint URL "
	    "`coffer s3 key create` reports (default: the CLI's server URL)"),
	STR("key_provider", key_provider, "file", "where the KEKs live: "
	    "file (the keyring sealed by the master key) or pkcs11 (an HSM)"),
	STR("pkcs11_module", pkcs11_module, "", "path of the PKCS#11 module "
	    "(key_provider pkcs11), e.g. /usr/lib/softhsm/libsofthsm2.so"),
	STR("pkcs11_token_label", pkcs11_token_label, "", "label of the "
	    "token holding the KEKs (key_provider pkcs11)"),
	STR("pkcs11_pin_file", pkcs11_pin_file, "", "file holding the "
	    "token's user PIN (mode 0600; else COFFER_PKCS11_PIN)"),
	U64("key_rotate_days", key_rotate_days, 0, 36500, "0",
	    "days after which a new KEK is made and the DEKs rewrapped "
	    "under it (0: only coffer key rotate)"),
	STR("backup_dir", backup_dir, "", "the directory coffer backup "
	    "writes into (one new directory per backup; outside the data "
	    "directory); empty: backups off"),
	STR("review_on_timeout", review_on_timeout, "escalate", "what "
	    "happens at an access review's due date to items nobody decided, "
	    "when the campaign does not say: escalate or revoke"),
	STR("alert_rules_file", alert_rules_file, "", "alert rules and "
	    "sinks (docs/monitoring.md, \"Alerts\"); empty: no alerts"),
	U64("share_default_lifetime", share_default_lifetime, 60,
	    365 * 86400, "86400", "seconds a share link lives without "
	    "--expires-in (cut to the maximum of its data's sensitivity)"),
	U64("share_max_lifetime_public", share_max_lifetime_public, 60,
	    365 * 86400, "2592000", "longest life of a share link of public "
	    "data, seconds"),
	U64("share_max_lifetime_internal", share_max_lifetime_internal, 60,
	    365 * 86400, "604800", "longest life of a share link of internal "
	    "data, seconds"),
	U64("share_max_lifetime_confidential", share_max_lifetime_confidential,
	    60, 365 * 86400, "86400", "longest life of a share link of "
	    "confidential data, seconds"),
	U64("share_max_lifetime_restricted", share_max_lifetime_restricted,
	    60, 365 * 86400, "86400", "longest life of a share link of "
	    "restricted data (which a policy must allow sharing), seconds"),
	U64("share_guess_limit", share_guess_limit, 1, 100000, "20",
	    "failed share link lookups and wrong link passwords from one "
	    "address (or on one link) before they are refused"),
	U64("share_guess_lock_seconds", share_guess_lock_seconds, 1,
	    30 * 86400, "900", "seconds the share link lookups of such an "
	    "address (or link) stay refused"),
	STR("share_url_base", share_url_base, "", "the https://HOST:PORT "
	    "share links are made with (default: the CLI's server URL)"),
	BOOL("anomaly_detection", anomaly_detection, "yes", "learn "
	    "per-principal baselines from the audit log, flag anomalies and "
	    "give policies context.risk (docs/monitoring.md)"),
	U64("anomaly_max_principals", anomaly_max_principals, 16, 1000000,
	    "10000", "profiles (principals and addresses) the anomaly "
	    "detector keeps, about 4.5 KiB each"),
	U64("anomaly_min_events", anomaly_min_events, 1, 1000000, "50",
	    "records of a principal before its usual networks, hours and "
	    "namespaces count"),
	U64("anomaly_bulk_factor", anomaly_bulk_factor, 2, 1000, "10",
	    "downloads this many times a principal's baseline are bulk"),
	U64("anomaly_bulk_min_bytes", anomaly_bulk_min_bytes, 1,
	    1ULL << 50, "1073741824", "bytes downloaded in a day below which "
	    "nothing is bulk"),
	U64("anomaly_bulk_min_objects", anomaly_bulk_min_objects, 1,
	    100000000, "500", "objects downloaded in an hour below which "
	    "nothing is bulk"),
	U64("anomaly_enum_denials", anomaly_enum_denials, 2, 1000000, "20",
	    "401/403/404 answers to one principal or address within 5 "
	    "minutes that are enumeration"),
	U64("anomaly_dormant_days", anomaly_dormant_days, 1, 3650, "30",
	    "days without activity after which a principal's next request "
	    "is a dormant account waking up"),
	U64("anomaly_rebuild_records", anomaly_rebuild_records, 0,
	    100000000, "1000000", "records at the end of the audit log the "
	    "detector learns at start-up"),
	U64("s3_multipart_expiry", s3_multipart_expiry, 3600, 365 * 86400,
	    "604800", "seconds after which an S3 multipart upload that was "
	    "neither completed nor aborted is removed"),
};

/* Split a tls_names value at commas into names[0..*n-1] (blanks around
 * each name trimmed), each checked by cf_tls_name_check; "" or blanks
 * only is the empty list. */
static cf_err
split_names(const char *value, char names[][CF_TLS_NAME_MAX + 1],
    size_t max, size_t *n, struct cf_error *err)
{
	struct cf_error	 e2;
	const char	*p = value, *e, *comma;
	size_t		 len, k = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	while (*p != '\0') {
		comma = strchr(p, ',');
		e = comma != NULL ? comma : p + strlen(p);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		len = (size_t)(e - p);
		if (len == 0)
			return cf_error_set(err, CF_E_INPUT, "tls_names: an "
			    "empty name (expected name, name, ...)");
		if (len > CF_TLS_NAME_MAX)
			return cf_error_set(err, CF_E_INPUT, "tls_names: a "
			    "name is longer than %d bytes", CF_TLS_NAME_MAX);
		if (k >= max)
			return cf_error_set(err, CF_E_LIMIT, "tls_names: at "
			    "most %zu names", max);
		memcpy(names[k], p, len);
		names[k][len] = '\0';
		cf_error_clear(&e2);
		if (cf_tls_name_check(names[k], &e2) != CF_OK)
			return cf_error_set(err, CF_E_INPUT, "tls_names: %s",
			    e2.msg);
		k++;
		if (comma == NULL)
			break;
		p = comma + 1;
		if (*p == '\0')
			return cf_error_set(err, CF_E_INPUT, "tls_names: an "
			    "empty name (expected name, name, ...)");
	}
	*n = k;
	return CF_OK;
}

static cf_err
check_names(const char *value, struct cf_error *err)
{
	char	names[CF_CONFIG_TLS_NAMES_MAX][CF_TLS_NAME_MAX + 1];
	size_t	n;

	return split_names(value, names, CF_CONFIG_TLS_NAMES_MAX, &n, err);
}

static const struct opt *
find_opt(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

/* threads = auto: two event threads per online core, 4 to 64.  More
 * threads than cores let a thread blocked on the disk or the database
 * not hold up the others' connections; many more only share the cores
 * among more TLS handshakes at once, which under a burst of new
 * connections finishes all of them late instead of most of them early
 * (16 threads on 2 cores served nothing to wrk -c1000 in 6 of 7 loaded
 * runs, 2 or 4 never failed; bench/README.md). */
static uint64_t
auto_threads(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 2)
		n = 2;
	if (n > 32)
		n = 32;
	return (uint64_t)n * 2;
}

cf_err
cf_config_set(struct cf_config *cfg, const char *name, const char *value,
    struct cf_error *err)
{
	const struct opt	*o;
	char			*base = (char *)cfg;
	uint64_t		 v;
	cf_err			 rc;

	o = find_opt(name);
	if (o == NULL)
		return cf_error_set(err, CF_E_INPUT, "unknown option \"%s\"",
		    name);
	switch (o->type) {
	case OPT_STR:
		if (strlen(value) >= o->size)
			return cf_error_set(err, CF_E_INPUT,
			    "%s: value too long", name);
		if (strcmp(name, "log_level") == 0 &&
		    strcmp(value, "error") != 0 && strcmp(value, "warn") != 0 &&
		    strcmp(value, "info") != 0 && strcmp(value, "debug") != 0)
			return cf_error_set(err, CF_E_INPUT,
			    "log_level: error, warn, info or debug");
		if (strcmp(name, "review_on_timeout") == 0 &&
		    strcmp(value, "escalate") != 0 &&
		    strcmp(value, "revoke") != 0)
			return cf_error_set(err, CF_E_INPUT,
			    "review_on_timeout: escalate or revoke");
		if (strcmp(name, "key_provider") == 0 &&
		    strcmp(value, "file") != 0 && strcmp(value, "pkcs11") != 0)
			return cf_error_set(err, CF_E_INPUT,
			    "key_provider: file or pkcs11");
		if (strcmp(name, "tls_names") == 0 &&
		    (rc = check_names(value, err)) != CF_OK)
			return rc;
		if (strcmp(name, "trusted_proxies") == 0 ||
		    strncmp(name, "env.", 4) == 0) {
			struct cf_error e2;

			cf_error_clear(&e2);
			rc = cf_core_net_list_check(value, &e2);
			if (rc != CF_OK)
				return cf_error_set(err, rc, "%s: %s", name,
				    e2.msg);
		}
		if (strcmp(name, "forwarded_header") == 0 &&
		    strcmp(value, "x-forwarded-for") != 0 &&
		    strcmp(value, "forwarded") != 0)
			return cf_error_set(err, CF_E_INPUT,
			    "forwarded_header: x-forwarded-for or forwarded");
		cf_strlcpy(base + o->off, value, o->size);
		return CF_OK;
	case OPT_U64:
		if (strcmp(name, "threads") == 0 &&
		    strcmp(value, "auto") == 0) {
			v = auto_threads();
			memcpy(base + o->off, &v, sizeof(v));
			return CF_OK;
		}
		/* NULL: the first error is kept, and this one names the
		 * option and its bounds. */
		rc = cf_parse_u64(value, o->min, o->max, &v, NULL);
		if (rc != CF_OK)
			return cf_error_set(err, CF_E_INPUT,
			    "%s: expected a number in [%llu, %llu]%s", name,
			    (unsigned long long)o->min,
			    (unsigned long long)o->max,
			    strchr(value, '#') != NULL ? " (a comment must be "
			    "on a line of its own)" : "");
		memcpy(base + o->off, &v, sizeof(v));
		return CF_OK;
	case OPT_BOOL:
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
			*(bool *)(base + o->off) = true;
		else if (strcmp(value, "no") == 0 ||
		    strcmp(value, "false") == 0)
			*(bool *)(base + o->off) = false;
		else
			return cf_error_set(err, CF_E_INPUT,
			    "%s: expected yes or no", name);
		return CF_OK;
	}
	return cf_error_set(err, CF_E_INTERNAL, "bad option type");
}

void
cf_config_defaults(struct cf_config *cfg)
{
	size_t	i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (cf_config_set(cfg, opts[i].name, opts[i].def, NULL) !=
		    CF_OK)
			abort();	/* the table's defaults are ours */
}

static char *
trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

cf_err
cf_config_parse(struct cf_config *cfg, const char *fname, const char *buf,
    size_t len, struct cf_error *err)
{
	char		line[8192], *name, *value, *eq;
	size_t		i = 0, n, lineno = 0;
	struct cf_error	e2;

	if (len > 64 * 1024)
		return cf_error_set(err, CF_E_LIMIT,
		    "%s: larger than 64 KiB", fname);
	while (i < len) {
		lineno++;
		n = 0;
		while (i < len && buf[i] != '\n') {
			if (buf[i] == '\0')
				return cf_error_set(err, CF_E_INPUT,
				    "%s:%zu: NUL byte", fname, lineno);
			if (n + 1 >= sizeof(line))
				return cf_error_set(err, CF_E_INPUT,
				    "%s:%zu: line too long", fname, lineno);
			line[n++] = buf[i++];
		}
		i++;
		line[n] = '\0';
		name = trim(line);
		if (*name == '\0' || *name == '#')
			continue;
		eq = strchr(name, '=');
		if (eq == NULL)
			return cf_error_set(err, CF_E_INPUT,
			    "%s:%zu: expected \"name = value\"", fname, lineno);
		*eq = '\0';
		value = trim(eq + 1);
		name = trim(name);
		cf_error_clear(&e2);
		if (cf_config_set(cfg, name, value, &e2) != CF_OK)
			return cf_error_set(err, e2.code, "%s:%zu: %s", fname,
			    lineno, e2.msg);
	}
	return CF_OK;
}

cf_err
cf_config_load(struct cf_config *cfg, const char *path, struct cf_error *err)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 n;
	cf_err	 rc;

	f = fopen(path, "r");
	if (f == NULL)
		return cf_error_sys(err, CF_E_IO, "open %s", path);
	buf = cf_malloc(64 * 1024 + 1);
	if (buf == NULL) {
		(void)fclose(f);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	n = fread(buf, 1, 64 * 1024 + 1, f);
	if (ferror(f))
		rc = cf_error_sys(err, CF_E_IO, "read %s", path);
	else
		rc = cf_config_parse(cfg, path, buf, n, err);
	(void)fclose(f);
	cf_free(buf);
	return rc;
}

/* Append name to out unless it is there already or is one of the names
 * every self-signed certificate has. */
static void
add_name(struct cf_cert_names *out, const char *name)
{
	static const char *const always[] = { "localhost", "127.0.0.1",
	    "::1" };
	size_t	i;

	for (i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		if (cf_tls_name_equal(name, always[i]))
			return;
	for (i = 0; i < out->n; i++)
		if (cf_tls_name_equal(name, out->name[i]))
			return;
	if (out->n >= CF_CERT_NAMES_MAX)
		return;		/* cannot happen: 16 + listen + host */
	cf_strlcpy(out->name[out->n], name, sizeof(out->name[0]));
	out->n++;
}

/* The host of listen ("ADDR:PORT", "[V6]:PORT") in host when it is an IP
 * literal that is neither loopback nor unspecified; else "". */
static void
listen_ip(const char *listen, char *host, size_t hostsz)
{
	unsigned char	 a[16];
	const char	*colon = strrchr(listen, ':');
	size_t		 hl;

	host[0] = '\0';
	if (colon == NULL)
		return;
	hl = (size_t)(colon - listen);
	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
		listen++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostsz)
		return;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, a) == 1) {
		if (a[0] == 127 || (a[0] | a[1] | a[2] | a[3]) == 0)
			host[0] = '\0';
		return;
	}
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char any[16], one[16] = { [15] = 1 };

		if (memcmp(a, any, 16) == 0 || memcmp(a, one, 16) == 0)
			host[0] = '\0';
		return;
	}
	host[0] = '\0';
}

cf_err
cf_config_cert_names(const struct cf_config *cfg, const char *hostname,
    struct cf_cert_names *out, struct cf_error *err)
{
	char		names[CF_CONFIG_TLS_NAMES_MAX][CF_TLS_NAME_MAX + 1];
	char		ip[128];
	size_t		n, i;
	cf_err		rc;

	rc = split_names(cfg->tls_names, names, CF_CONFIG_TLS_NAMES_MAX, &n,
	    err);
	if (rc != CF_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		add_name(out, names[i]);
	listen_ip(cfg->listen, ip, sizeof(ip));
	if (ip[0] != '\0')
		add_name(out, ip);
	if (hostname != NULL && hostname[0] != '\0' &&
	    !cf_tls_name_is_ip(hostname) &&
	    cf_tls_name_check(hostname, NULL) == CF_OK)
		add_name(out, hostname);
	for (i = 0; i < out->n; i++)
		out->list[i] = out->name[i];
	out->list[out->n] = NULL;
	return CF_OK;
}

void
cf_config_dump(const struct cf_config *cfg, FILE *f)
{
	const char	*base = (const char *)cfg;
	size_t		 i;
	uint64_t	 v;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const struct opt *o = &opts[i];
		if (o->flags & OPT_SECRET) {
			(void)fprintf(f, "%s = (secret)\n", o->name);
			continue;
		}
		switch (o->type) {
		case OPT_STR:
			(void)fprintf(f, "%s = %s\n", o->name, base + o->off);
			break;
		case OPT_U64:
			memcpy(&v, base + o->off, sizeof(v));
			(void)fprintf(f, "%s = %llu\n", o->name,
			    (unsigned long long)v);
			break;
		case OPT_BOOL:
			(void)fprintf(f, "%s = %s\n", o->name,
			    *(const bool *)(base + o->off) ? "yes" : "no");
			break;
		}
	}
}

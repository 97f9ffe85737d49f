/* src/server/config.h: the server's configuration: one declarative table
 * (config.c) of name, type, bounds, default and flags; documented in
 * docs/coffer.conf.5.md.  File syntax: `name = value` lines; a line whose
 * first non-blank character is `#` is a comment, and a `#` anywhere else
 * is part of the value (values are taken verbatim).  Unknown names and
 * out-of-range values are errors reported as "file:line: message". */
#ifndef CF_SERVER_CONFIG_H
#define CF_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "base/error.h"
#include "crypto/tlscert.h"

#define CF_CONFIG_TLS_NAMES_MAX	16	/* names in tls_names */

struct cf_config {
	char		listen[128];		/* ADDR:PORT */
	char		data_dir[4096];
	char		tls_cert[4096];		/* "" = self-signed in
						 * DIR/tls */
	char		tls_key[4096];
	char		tls_names[4096];	/* extra names of the
						 * self-signed cert, comma
						 * separated */
	bool		insecure_http;		/* loopback only */
	uint64_t	max_object_size;
	uint64_t	max_json_body;
	uint64_t	request_memory_budget;
	uint64_t	threads;
	uint64_t	max_connections;
	uint64_t	max_connections_per_ip;
	uint64_t	connection_timeout;	/* seconds, idle */
	uint64_t	request_head_timeout;	/* seconds, whole head */
	uint64_t	max_uploads_per_principal;
	uint64_t	max_downloads_per_principal;
	uint64_t	min_upload_rate;	/* bytes/s; 0: none */
	uint64_t	upload_stall_timeout;	/* seconds, its window */
	uint64_t	shutdown_drain_timeout;	/* seconds after SIGTERM */
	char		log_level[16];
	/* identity (issue 4) */
	uint64_t	session_ttl;		/* seconds */
	uint64_t	bootstrap_ttl;		/* seconds */
	char		master_key_file[4096];	/* "": the default */
	char		master_key_passphrase_file[4096];
	uint64_t	password_min_length;
	uint64_t	pwhash_memory;		/* bytes */
	uint64_t	pwhash_ops;
	uint64_t	auth_free_failures;
	uint64_t	auth_lock_failures;
	uint64_t	auth_lock_seconds;
	uint64_t	auth_addr_free_failures;	/* 0: 5 x user's */
	uint64_t	auth_addr_lock_failures;	/* 0: 5 x user's */
	bool		mfa_admin_actions;
	bool		mfa_restricted_data;
	uint64_t	mfa_max_age_admin;	/* seconds; 0: no limit */
	uint64_t	mfa_max_age_restricted;	/* seconds; 0: no limit */
	uint64_t	mfa_max_age_flagged;	/* seconds; 0: no limit */
	char		oidc_issuer[512];
	char		oidc_audience[256];
	char		oidc_jwks_url[1024];
	char		oidc_jwks_file[4096];
	char		oidc_username_claim[64];
	char		oidc_groups_claim[64];
	char		oidc_group_roles[4096];
	char		oidc_claim_attrs[4096];
	bool		oidc_provision;
	uint64_t	oidc_skew;		/* seconds */
	uint64_t	oidc_jwks_min_refresh;	/* seconds */
	char		oidc_config_file[4096];
	uint64_t	orphan_grace;		/* seconds */
	uint64_t	orphan_interval;	/* seconds; 0: start-up only */
	uint64_t	purge_interval;		/* seconds; 0: start-up only */
	/* network isolation (core/network.c, server/forwarded.c) */
	char		env_dev_allow[4096];	/* "CIDR, ..."; "": any */
	char		env_staging_allow[4096];
	char		env_prod_allow[4096];
	char		trusted_proxies[4096];	/* "": none */
	char		forwarded_header[32];	/* x-forwarded-for or
						 * forwarded */
	uint64_t	breakglass_max;		/* seconds */
	uint64_t	promotion_approvals_dev;	/* approvers needed */
	uint64_t	promotion_approvals_staging;
	uint64_t	promotion_approvals_prod;
	uint64_t	promotion_ttl;		/* seconds */
	/* share links (docs/sharing.md) */
	uint64_t	share_default_lifetime;
	uint64_t	share_max_lifetime_public;
	uint64_t	share_max_lifetime_internal;
	uint64_t	share_max_lifetime_confidential;
	uint64_t	share_max_lifetime_restricted;
	uint64_t	share_guess_limit;
	uint64_t	share_guess_lock_seconds;
	char		share_url_base[512];
	char		s3_region[32];		/* SigV4 region */
	uint64_t	s3_multipart_expiry;	/* seconds */
	char		s3_endpoint[512];	/* the S3 URL given to clients;
						 * "": none */
	/* key providers (crypto/keyprov.h) */
	char		key_provider[16];	/* "file" or "pkcs11" */
	char		pkcs11_module[4096];
	char		pkcs11_token_label[33];
	char		pkcs11_pin_file[4096];
	uint64_t	key_rotate_days;	/* 0: no scheduled rotation */
	char		backup_dir[4096];	/* "": backups off */
	char		alert_rules_file[4096];	/* "": no alerts */
};

void	cf_config_defaults(struct cf_config *cfg);
/* Apply one setting (from a file or the command line). */
cf_err	cf_config_set(struct cf_config *cfg, const char *name,
	    const char *value, struct cf_error *err);
/* Read a config file over the current values.  Max 64 KiB. */
cf_err	cf_config_load(struct cf_config *cfg, const char *path,
	    struct cf_error *err);
/* Parse from a buffer (for tests and fuzzing); fname names it in errors. */
cf_err	cf_config_parse(struct cf_config *cfg, const char *fname,
	    const char *buf, size_t len, struct cf_error *err);
/* The extra names of the self-signed certificate. */
#define CF_CERT_NAMES_MAX	(CF_CONFIG_TLS_NAMES_MAX + 2)
struct cf_cert_names {
	size_t		 n;
	const char	*list[CF_CERT_NAMES_MAX + 1];	/* name[0..n-1], NULL */
	char		 name[CF_CERT_NAMES_MAX][CF_TLS_NAME_MAX + 1];
};

/* Fill *out with the names the self-signed certificate should have beyond
 * localhost, 127.0.0.1 and ::1 (which it always has, so they are left
 * out): each name of tls_names; the listen address when it is an IP
 * other than a loopback or unspecified (0.0.0.0, ::) one; hostname (may
 * be NULL or "") when it is a DNS name by cf_tls_name_check and not an IP
 * literal.  Each name once (cf_tls_name_equal).  CF_E_INPUT if tls_names
 * is not valid (cf_config_set refuses such a value already). */
cf_err	cf_config_cert_names(const struct cf_config *cfg,
	    const char *hostname, struct cf_cert_names *out,
	    struct cf_error *err);
/* Print the effective configuration (SECRET options masked). */
void	cf_config_dump(const struct cf_config *cfg, FILE *f);

#endif

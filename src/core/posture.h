/* src/core/posture.h: the checks of `coffer posture` that need neither
 * the store nor a request (docs/posture.md): version comparison, the TLS
 * certificate, the master key's place, the modes of the data directory.
 * Each appends findings to a JSON array; the clock is a parameter, so
 * the unit tests decide what "now" is.
 *
 * A finding is {id, severity, title, detail, fix, doc}: id names the
 * check's result and is the anchor of its section in docs/posture.md
 * (doc is "docs/posture.md#ID"); detail says what was seen (names,
 * counts, dates); fix is one sentence. */
#ifndef CF_CORE_POSTURE_H
#define CF_CORE_POSTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "crypto/tlscert.h"

/* Severities, ordered. */
enum cf_sev {
	CF_SEV_INFO,
	CF_SEV_LOW,
	CF_SEV_MEDIUM,
	CF_SEV_HIGH,
	CF_SEV_CRITICAL
};
#define CF_SEV_N		5
#define CF_POSTURE_DOC		"docs/posture.md#"
#define CF_POSTURE_DETAIL_MAX	1024	/* bytes of a detail (cut) */
#define CF_POSTURE_CERT_DAYS	30	/* a certificate ending sooner */
#define CF_POSTURE_WALK_MAX	200000	/* entries the mode walk looks at */
#define CF_POSTURE_WALK_DEPTH	16	/* directory levels below DIR */
#define CF_POSTURE_NAMES	5	/* names quoted in one detail */

/* "info" .. "critical"; NULL for anything else. */
const char *cf_sev_name(int sev);
/* The severity named s; -1 for anything else. */
int	cf_sev_parse(const char *s);

/* Append a finding to arr (a JSON array).  detail is formatted (cut at
 * CF_POSTURE_DETAIL_MAX).  CF_E_NOMEM. */
cf_err	cf_posture_add(json_t *arr, const char *id, int sev,
	    const char *title, const char *fix, struct cf_error *err,
	    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Compare dotted versions numerically, component by component ("3.7.10"
 * > "3.7.9"; "3.40" == "3.40.0"); anything after the digits of a
 * component ("1.0.18-stable", "3.7.9-rc1") is ignored.  <0, 0, >0. */
int	cf_posture_version_cmp(const char *a, const char *b);

/* One library the process runs with: version (its runtime version
 * function's answer) against minimum; network_facing libraries below it
 * are high, the others medium (finding library-outdated). */
struct cf_posture_lib {
	const char	*name;
	const char	*version;
	const char	*minimum;
	bool		 network_facing;
};
cf_err	cf_posture_check_libs(const struct cf_posture_lib *libs, size_t n,
	    json_t *arr, struct cf_error *err);

/* The served certificate at now_s (seconds since 1970): expired
 * (critical), ending within CF_POSTURE_CERT_DAYS (high), not valid yet
 * (high), a weak key (RSA or DSA below 2048 bits, EC below 256: high),
 * a weak signature (MD5, SHA-1: high), self-signed (info; own: the data
 * directory's own certificate, which clients pin).  path names it in
 * the details. */
cf_err	cf_posture_check_cert(const struct cf_tls_cert_info *ci,
	    const char *path, bool own, int64_t now_s, json_t *arr,
	    struct cf_error *err);

/* The TLS priority string the server serves with: protocols older than
 * TLS 1.2 enabled (high). */
cf_err	cf_posture_check_tls_priorities(const char *prio, json_t *arr,
	    struct cf_error *err);

/* Where the master key file key_path is against the data directory dir:
 * inside it (master-key-in-data-dir, critical), in the same parent
 * directory (master-key-beside-data, high), on the same filesystem
 * (master-key-same-filesystem, medium), or apart (nothing).  A key
 * sealed with a passphrase is reported low instead (info on the same
 * filesystem): a copy of the disk alone does not open it.  A key file
 * group or others may access: master-key-file-mode (high).  A key file
 * that cannot be looked at: master-key-unknown (info). */
cf_err	cf_posture_check_master_key(const char *dir, const char *key_path,
	    bool sealed, json_t *arr, struct cf_error *err);

/* Walk dir (lstat: symbolic links are neither followed nor judged),
 * at most max_entries entries and CF_POSTURE_WALK_DEPTH levels, and
 * report the entries others may write (data-dir-world-writable,
 * critical), others may read or enter (data-dir-world-readable, high),
 * the group may use (data-dir-group-access, medium), each with a count
 * and the first names (relative to dir); a walk cut short by the bounds
 * or an unreadable directory: data-dir-walk-incomplete (info).
 * public_paths (NULL-terminated, nullable): paths below dir that others
 * may read (not write), such as the certificate.  *entries (nullable)
 * gets the number looked at.  CF_E_IO when dir itself cannot be
 * opened. */
cf_err	cf_posture_walk_modes(const char *dir,
	    const char *const *public_paths, size_t max_entries, json_t *arr,
	    size_t *entries, struct cf_error *err);

/* Sort arr by severity, highest first (stable), and count each
 * severity into counts[CF_SEV_N]. */
cf_err	cf_posture_sort(json_t *arr, size_t counts[CF_SEV_N],
	    struct cf_error *err);

#endif

/* src/core/posture.c: the posture checks that need neither the store nor
 * a request (see posture.h; what each finding means and how to fix it:
 * docs/posture.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/datadir.h"
#include "core/posture.h"

static const char *const sev_names[CF_SEV_N] = {
	"info", "low", "medium", "high", "critical"
};

const char *
cf_sev_name(int sev)
{
	return sev >= 0 && sev < CF_SEV_N ? sev_names[sev] : NULL;
}

int
cf_sev_parse(const char *s)
{
	int	i;

	for (i = 0; s != NULL && i < CF_SEV_N; i++)
		if (strcmp(s, sev_names[i]) == 0)
			return i;
	return -1;
}

cf_err
cf_posture_add(json_t *arr, const char *id, int sev, const char *title,
    const char *fix, struct cf_error *err, const char *fmt, ...)
{
	char	 detail[CF_POSTURE_DETAIL_MAX], doc[128];
	json_t	*f;
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (n < 0)
		detail[0] = '\0';
	else if ((size_t)n >= sizeof(detail))
		memcpy(detail + sizeof(detail) - 4, "...", 4);
	(void)snprintf(doc, sizeof(doc), "%s%s", CF_POSTURE_DOC, id);
	f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "severity",
	    cf_sev_name(sev), "title", title, "detail", detail, "fix", fix,
	    "doc", doc);
	if (f == NULL || json_array_append_new(arr, f) != 0)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
}

/* --- versions --- */

/* The number at *p (digits only; none: 0), *p moved past the component
 * and its dot. */
static unsigned long long
component(const char **p)
{
	unsigned long long	v = 0;
	const char		*s = *p;

	while (*s >= '0' && *s <= '9') {
		if (v < ULLONG_MAX / 10)
			v = v * 10 + (unsigned long long)(*s - '0');
		s++;
	}
	/* A suffix ("-rc1", "-stable") ends the version. */
	if (*s == '.')
		s++;
	else
		s += strlen(s);
	*p = s;
	return v;
}

int
cf_posture_version_cmp(const char *a, const char *b)
{
	unsigned long long	x, y;

	if (a == NULL)
		a = "";
	if (b == NULL)
		b = "";
	while (*a != '\0' || *b != '\0') {
		x = component(&a);
		y = component(&b);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

cf_err
cf_posture_check_libs(const struct cf_posture_lib *libs, size_t n,
    json_t *arr, struct cf_error *err)
{
	size_t	i;
	cf_err	rc;

	for (i = 0; i < n; i++) {
		if (libs[i].version == NULL || libs[i].version[0] == '\0' ||
		    cf_posture_version_cmp(libs[i].version,
		    libs[i].minimum) >= 0)
			continue;
		rc = cf_posture_add(arr, "library-outdated",
		    libs[i].network_facing ? CF_SEV_HIGH : CF_SEV_MEDIUM,
		    "A library is older than the supported minimum",
		    "Upgrade the library to a supported release (the "
		    "distribution's security updates) and restart the server.",
		    err, "%s %s is running; the minimum is %s", libs[i].name,
		    libs[i].version, libs[i].minimum);
		if (rc != CF_OK)
			return rc;
	}
	return CF_OK;
}

/* --- TLS --- */

static void
date_of(int64_t s, char out[CF_TIME_STR_LEN])
{
	cf_time_format(s * 1000000, out);
}

cf_err
cf_posture_check_cert(const struct cf_tls_cert_info *ci, const char *path,
    bool own, int64_t now_s, json_t *arr, struct cf_error *err)
{
	char		 na[CF_TIME_STR_LEN], nb[CF_TIME_STR_LEN];
	const char	*renew;
	int64_t		 left;
	bool		 weak_key = false;
	cf_err		 rc = CF_OK;

	date_of((int64_t)ci->not_after, na);
	date_of((int64_t)ci->not_before, nb);
	renew = own ? "Replace the self-signed certificate (move DATA/tls/"
	    "server.crt and server.key away and restart) or configure "
	    "tls_cert and tls_key, and give clients the new one." :
	    "Replace tls_cert and tls_key with a renewed certificate and "
	    "restart the server.";
	left = (int64_t)ci->not_after - now_s;
	if (left <= 0)
		rc = cf_posture_add(arr, "tls-cert-expired", CF_SEV_CRITICAL,
		    "The TLS certificate has expired", renew, err,
		    "%s ended %s (%lld days ago); clients refuse it", path, na,
		    (long long)(-left / 86400));
	else if (left < (int64_t)CF_POSTURE_CERT_DAYS * 86400)
		rc = cf_posture_add(arr, "tls-cert-expiring", CF_SEV_HIGH,
		    "The TLS certificate expires soon", renew, err,
		    "%s ends %s (in %lld days, less than %d)", path, na,
		    (long long)(left / 86400), CF_POSTURE_CERT_DAYS);
	if (rc == CF_OK && (int64_t)ci->not_before > now_s)
		rc = cf_posture_add(arr, "tls-cert-not-yet-valid", CF_SEV_HIGH,
		    "The TLS certificate is not valid yet",
		    "Check the server's clock, or serve a certificate whose "
		    "validity has begun.", err,
		    "%s is valid from %s; clients refuse it until then", path,
		    nb);
	if (strcmp(ci->key_alg, "RSA") == 0 || strcmp(ci->key_alg, "DSA") ==
	    0 || strcmp(ci->key_alg, "RSA-PSS") == 0)
		weak_key = ci->key_bits < 2048 || strcmp(ci->key_alg, "DSA") ==
		    0;
	else if (cf_str_has_prefix(ci->key_alg, "EC"))
		weak_key = ci->key_bits < 256;
	if (rc == CF_OK && weak_key)
		rc = cf_posture_add(arr, "tls-key-weak", CF_SEV_HIGH,
		    "The TLS key is weak",
		    "Serve a certificate with an EC P-256 (or larger) or RSA "
		    "3072-bit key.", err, "%s has a %u-bit %s key", path,
		    ci->key_bits, ci->key_alg);
	if (rc == CF_OK && ci->sig_weak)
		rc = cf_posture_add(arr, "tls-cert-weak-signature", CF_SEV_HIGH,
		    "The TLS certificate has a weak signature",
		    "Reissue the certificate signed with SHA-256 or better.",
		    err, "%s is signed with %s", path, ci->sig_alg);
	if (rc == CF_OK && ci->self_signed)
		rc = cf_posture_add(arr, "tls-cert-self-signed", CF_SEV_INFO,
		    "A self-signed TLS certificate is in use",
		    "Either distribute it to every client as its CA file "
		    "(COFFER_CA_CERT), or configure a certificate from your "
		    "CA with tls_cert and tls_key.", err,
		    "%s is self-signed%s (valid until %s)", path,
		    own ? " (the data directory's own)" : "", na);
	return rc;
}

cf_err
cf_posture_check_tls_priorities(const char *prio, json_t *arr,
    struct cf_error *err)
{
	char	names[128];
	bool	weak = false;
	cf_err	rc;

	rc = cf_tls_priority_weak(prio, &weak, names, sizeof(names), err);
	if (rc != CF_OK || !weak)
		return rc;
	return cf_posture_add(arr, "tls-old-protocols", CF_SEV_HIGH,
	    "TLS versions older than 1.2 are enabled",
	    "Serve TLS 1.2 and 1.3 only.", err,
	    "the priority string \"%s\" enables %s", prio, names);
}

/* --- the master key --- */

/* The parent directory of the resolved path p, into out. */
static bool
parent_of(const char *p, char *out, size_t outsz)
{
	char	*slash;

	if (cf_strlcpy(out, p, outsz) >= outsz)
		return false;
	slash = strrchr(out, '/');
	if (slash == NULL)
		return false;
	if (slash == out)
		slash[1] = '\0';
	else
		*slash = '\0';
	return true;
}

cf_err
cf_posture_check_master_key(const char *dir, const char *key_path,
    bool sealed, json_t *arr, struct cf_error *err)
{
	char		 rd[PATH_MAX], rk[PATH_MAX], pd[PATH_MAX], pk[PATH_MAX];
	struct stat	 sd, sk;
	const char	*how = sealed ? " (sealed with a passphrase)" : "";
	static const char fix_move[] = "Move the master key off the data "
	    "directory's disk (master_key_file, or COFFER_MASTER_KEY_FILE: a "
	    "separate volume or a secrets mount), or seal it with a "
	    "passphrase (coffer master-key seal).";
	cf_err		 rc = CF_OK;

	if (realpath(dir, rd) == NULL || realpath(key_path, rk) == NULL ||
	    stat(rd, &sd) != 0 || stat(rk, &sk) != 0)
		return cf_posture_add(arr, "master-key-unknown", CF_SEV_INFO,
		    "The master key's place could not be checked",
		    "Check that the server may look at the master key file "
		    "and the data directory.", err,
		    "%s or %s cannot be resolved", key_path, dir);
	if ((sk.st_mode & 077) != 0)
		rc = cf_posture_add(arr, "master-key-file-mode", CF_SEV_HIGH,
		    "Others may access the master key file",
		    "chmod 600 the master key file (and 700 its directory).",
		    err, "%s has mode %04o", rk,
		    (unsigned)(sk.st_mode & 07777));
	if (rc != CF_OK)
		return rc;
	if (cf_dd_inside(rd, rk))
		return cf_posture_add(arr, "master-key-in-data-dir",
		    sealed ? CF_SEV_LOW : CF_SEV_CRITICAL,
		    "The master key is inside the data directory", fix_move,
		    err, "%s is inside %s%s: a copy or backup of the data "
		    "directory holds the key to it", rk, rd, how);
	if (parent_of(rd, pd, sizeof(pd)) && parent_of(rk, pk, sizeof(pk)) &&
	    strcmp(pd, pk) == 0)
		return cf_posture_add(arr, "master-key-beside-data",
		    sealed ? CF_SEV_LOW : CF_SEV_HIGH,
		    "The master key is beside the data directory", fix_move,
		    err, "%s is in %s, the data directory's parent%s: one "
		    "copy of that folder takes both", rk, pd, how);
	if (sd.st_dev == sk.st_dev)
		return cf_posture_add(arr, "master-key-same-filesystem",
		    sealed ? CF_SEV_INFO : CF_SEV_MEDIUM,
		    "The master key is on the data directory's filesystem",
		    fix_move, err, "%s and %s are on one filesystem%s: a "
		    "disk image or snapshot holds both", rk, rd, how);
	return CF_OK;
}

/* --- the data directory's modes --- */

struct walk {
	const char *const *public_paths;
	size_t		 seen, max;
	bool		 cut;		/* bounds reached */
	size_t		 unreadable;
	/* per class: 0 others write, 1 others read, 2 group */
	size_t		 n[3];
	char		 names[3][CF_POSTURE_NAMES][256];
};

static void
walk_note(struct walk *w, int k, const char *rel)
{
	if (w->n[k] < CF_POSTURE_NAMES)
		(void)cf_strlcpy(w->names[k][w->n[k]], rel[0] != '\0' ? rel :
		    ".", sizeof(w->names[k][0]));
	w->n[k]++;
}

static bool
walk_public(const struct walk *w, const char *rel)
{
	size_t	i;

	for (i = 0; w->public_paths != NULL && w->public_paths[i] != NULL;
	    i++)
		if (strcmp(w->public_paths[i], rel) == 0)
			return true;
	return false;
}

static void
walk_judge(struct walk *w, const struct stat *st, const char *rel)
{
	if (S_ISLNK(st->st_mode))
		return;
	/* A public file (the certificate) may be read, never written. */
	if ((st->st_mode & (S_IWOTH | S_IWGRP)) == 0 && walk_public(w, rel))
		return;
	if ((st->st_mode & S_IWOTH) != 0)
		walk_note(w, 0, rel);
	else if ((st->st_mode & (S_IROTH | S_IXOTH)) != 0)
		walk_note(w, 1, rel);
	else if ((st->st_mode & S_IRWXG) != 0)
		walk_note(w, 2, rel);
}

/* Walk the directory open at fd (taken: closed here), rel its path below
 * the top ("" for the top). */
static void
walk_dir(struct walk *w, int fd, const char *rel, int depth)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	char		 sub[PATH_MAX];
	int		 cfd;

	d = fdopendir(fd);
	if (d == NULL) {
		(void)close(fd);
		w->unreadable++;
		return;
	}
	while (!w->cut) {
		errno = 0;
		e = readdir(d);
		if (e == NULL) {
			if (errno != 0)
				w->unreadable++;
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") ==
		    0)
			continue;
		if (w->seen >= w->max) {
			w->cut = true;
			break;
		}
		w->seen++;
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel,
		    rel[0] != '\0' ? "/" : "", e->d_name) >= sizeof(sub)) {
			w->unreadable++;
			continue;
		}
		/* SEC: lstat: a link is never followed out of the tree. */
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			w->unreadable++;
			continue;
		}
		walk_judge(w, &st, sub);
		if (!S_ISDIR(st.st_mode))
			continue;
		if (depth >= CF_POSTURE_WALK_DEPTH) {
			w->cut = true;
			continue;
		}
		cfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (cfd == -1) {
			w->unreadable++;
			continue;
		}
		walk_dir(w, cfd, sub, depth + 1);
	}
	(void)closedir(d);
}

static cf_err
walk_report(const struct walk *w, int k, json_t *arr, struct cf_error *err)
{
	static const char *const ids[3] = {
		"data-dir-world-writable", "data-dir-world-readable",
		"data-dir-group-access"
	};
	static const char *const titles[3] = {
		"Others may write to parts of the data directory",
		"Others may read parts of the data directory",
		"The group may use parts of the data directory"
	};
	static const int sevs[3] = {
		CF_SEV_CRITICAL, CF_SEV_HIGH, CF_SEV_MEDIUM
	};
	char	list[CF_POSTURE_NAMES * 260];
	size_t	i, used = 0;

	if (w->n[k] == 0)
		return CF_OK;
	list[0] = '\0';
	for (i = 0; i < w->n[k] && i < CF_POSTURE_NAMES; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
		    "%s%s", i > 0 ? ", " : "", w->names[k][i]);
	return cf_posture_add(arr, ids[k], sevs[k], titles[k],
	    "chmod -R go-rwx the data directory (the server creates "
	    "everything 0600/0700; a copy or an extraction changed that).",
	    err, "%zu entr%s: %s%s", w->n[k], w->n[k] == 1 ? "y" : "ies",
	    list, w->n[k] > CF_POSTURE_NAMES ? ", ..." : "");
}

cf_err
cf_posture_walk_modes(const char *dir, const char *const *public_paths,
    size_t max_entries, json_t *arr, size_t *entries, struct cf_error *err)
{
	struct walk	*w;
	struct stat	 st;
	int		 fd, k;
	cf_err		 rc = CF_OK;

	/* The top is followed if it is a link: the operator named it. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return cf_error_sys(err, CF_E_IO, "open %s", dir);
	if (fstat(fd, &st) != 0) {
		rc = cf_error_sys(err, CF_E_IO, "stat %s", dir);
		(void)close(fd);
		return rc;
	}
	w = cf_calloc(1, sizeof(*w));
	if (w == NULL) {
		(void)close(fd);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	w->max = max_entries;
	w->public_paths = public_paths;
	walk_judge(w, &st, "");
	walk_dir(w, fd, "", 1);
	for (k = 0; k < 3 && rc == CF_OK; k++)
		rc = walk_report(w, k, arr, err);
	if (rc == CF_OK && (w->cut || w->unreadable > 0))
		rc = cf_posture_add(arr, "data-dir-walk-incomplete",
		    CF_SEV_INFO, "The data directory was not looked at whole",
		    "Check the modes by hand (find DIR -perm /077), or give "
		    "the server's user access to every part.", err,
		    "%zu entries looked at%s; %zu could not be read",
		    w->seen, w->cut ? " (the walk's bound was reached)" : "",
		    w->unreadable);
	if (rc == CF_OK && entries != NULL)
		*entries = w->seen;
	cf_free(w);
	return rc;
}

/* --- ordering --- */

static int
sev_of(const json_t *f)
{
	return cf_sev_parse(json_string_value(json_object_get(f,
	    "severity")));
}

cf_err
cf_posture_sort(json_t *arr, size_t counts[CF_SEV_N], struct cf_error *err)
{
	json_t	*sorted, *f;
	size_t	 i;
	int	 s;

	sorted = json_array();
	if (sorted == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	for (s = 0; s < CF_SEV_N; s++)
		counts[s] = 0;
	for (s = CF_SEV_N - 1; s >= 0; s--) {
		json_array_foreach(arr, i, f) {
			if (sev_of(f) != s)
				continue;
			counts[s]++;
			if (json_array_append(sorted, f) != 0) {
				json_decref(sorted);
				return cf_error_set(err, CF_E_NOMEM,
				    "out of memory");
			}
		}
	}
	if (json_array_clear(arr) != 0 || json_array_extend(arr, sorted) != 0) {
		json_decref(sorted);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	json_decref(sorted);
	return CF_OK;
}

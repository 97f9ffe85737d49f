/* src/core/alert.c: alert rules: the rules file, matching audit records
 * against the rules, and what an alert says (see alert.h).
 *
 * Rules file syntax (docs/monitoring.md, "Alerts"): one statement per
 * line, a line ending in a backslash continues on the next, `#` starts
 * a comment line, blank lines are ignored:
 *
 *   sink NAME syslog [facility=auth]
 *   sink NAME webhook url=https://... secret_file=PATH [ca_file=PATH]
 *        [timeout_ms=5000] [retries=6] [retry_delay_ms=1000] [queue=256]
 *   rule NAME sinks=A[,B] [severity=warning] [action=GLOB[,GLOB]]
 *        [decision=allow|deny] [status=403,4xx] [result=GLOB,...]
 *        [principal=GLOB,...] [reason=GLOB,...] [admin=yes|no]
 *        [count=N] [bytes=N] [window=SECONDS] [by=principal|source|none]
 *        [max_keys=1024]
 *
 * A value may be double-quoted (it may then hold blanks).  Patterns are
 * fnmatch(3) globs.  Every key is checked: an unknown one is an error
 * (a typo must not silently widen or disable a rule). */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/actions.h"
#include "core/alert.h"
#include "crypto/crypto.h"

#define STATUS_MAX	8	/* status ranges per rule */

/* One key's window (a principal's or an address's). */
struct trk {
	char		key[CF_ALERT_KEY_MAX];
	uint32_t	hash;
	int32_t		next;		/* chain; -1 ends */
	bool		used;
	bool		fired;		/* this window fired already */
	int64_t		start_us;	/* the window opened */
	int64_t		last_us;	/* last seen (LRU) */
	uint64_t	count;
	uint64_t	bytes;
};

struct rule {
	char		 name[CF_ALERT_NAME_MAX];
	enum cf_alert_sev sev;
	char		 action[CF_ALERT_PAT_MAX];	/* "": any */
	char		 result[CF_ALERT_PAT_MAX];
	char		 principal[CF_ALERT_PAT_MAX];
	char		 reason[CF_ALERT_PAT_MAX];
	int		 decision;	/* -1 any, 0 deny, 1 allow */
	int		 admin;		/* -1 any, 0 not admin, 1 admin */
	int		 st_lo[STATUS_MAX], st_hi[STATUS_MAX];
	size_t		 nst;
	uint64_t	 count;		/* records that fire (1) */
	uint64_t	 bytes;		/* bytes that fire (0: not) */
	uint64_t	 window_s;	/* 0: every match fires */
	enum cf_alert_by by;
	size_t		 max_keys;
	size_t		 sinks[CF_ALERT_SINKS_MAX];
	size_t		 nsinks;
	/* the windows (window_s > 0): max_keys slots, nb chain heads */
	struct trk	*trk;
	int32_t		*heads;
	size_t		 nb;		/* a power of two */
	size_t		 ntrk;		/* slots in use */
};

struct cf_alerts {
	pthread_mutex_t		 mu;	/* guards every rule's windows */
	struct rule		 rules[CF_ALERT_RULES_MAX];
	size_t			 nrules;
	struct cf_alert_sink	 sinks[CF_ALERT_SINKS_MAX];
	size_t			 nsinks;
};

const char *
cf_alert_sev_name(enum cf_alert_sev s)
{
	switch (s) {
	case CF_ALERT_INFO:
		return "info";
	case CF_ALERT_WARNING:
		return "warning";
	case CF_ALERT_CRITICAL:
		return "critical";
	}
	return "?";
}

static bool
name_ok(const char *s)
{
	size_t	i;

	if (s[0] == '\0' || strlen(s) >= CF_ALERT_NAME_MAX)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || (i > 0 && (s[i] == '-' || s[i] == '_' ||
		    s[i] == '.'))))
			return false;
	return true;
}

static const struct {
	const char	*name;
	int		 fac;
} facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

/* The words of one statement: kind, name, then key=value pairs. */
#define WORDS_MAX	32
struct stmt {
	const char	*fname;
	size_t		 line;
	char		*kind, *name;
	char		*key[WORDS_MAX], *val[WORDS_MAX];
	size_t		 n;
};

/* Split s (modified in place) into st's words. */
static cf_err
split(char *s, struct stmt *st, struct cf_error *err)
{
	char	*w[WORDS_MAX + 2], *p = s, *eq, *o;
	size_t	 n = 0, i;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n >= WORDS_MAX + 2)
			return cf_error_set(err, CF_E_INPUT, "%s:%zu: too many "
			    "words", st->fname, st->line);
		w[n++] = p;
		/* A word ends at a blank outside double quotes; the quotes
		 * are removed. */
		for (o = p; *p != '\0' && *p != ' ' && *p != '\t'; p++) {
			if (*p != '"') {
				*o++ = *p;
				continue;
			}
			for (p++; *p != '\0' && *p != '"'; p++)
				*o++ = *p;
			if (*p == '\0')
				return cf_error_set(err, CF_E_INPUT, "%s:%zu: "
				    "unterminated quote", st->fname, st->line);
		}
		if (*p != '\0')
			p++;
		*o = '\0';
	}
	if (n < 2)
		return cf_error_set(err, CF_E_INPUT, "%s:%zu: expected "
		    "\"rule NAME ...\" or \"sink NAME TYPE ...\"", st->fname,
		    st->line);
	st->kind = w[0];
	st->name = w[1];
	st->n = 0;
	for (i = 2; i < n; i++) {
		eq = strchr(w[i], '=');
		if (eq == NULL) {
			st->key[st->n] = w[i];
			st->val[st->n] = NULL;
		} else {
			*eq = '\0';
			st->key[st->n] = w[i];
			st->val[st->n] = eq + 1;
		}
		st->n++;
	}
	return CF_OK;
}

static cf_err
bad(const struct stmt *st, const char *key, const char *what,
    struct cf_error *err)
{
	return cf_error_set(err, CF_E_INPUT, "%s:%zu: %s %s: %s%s%s",
	    st->fname, st->line, st->kind, st->name, key != NULL ? key : "",
	    key != NULL ? ": " : "", what);
}

static cf_err
get_u64(const struct stmt *st, size_t i, uint64_t lo, uint64_t hi,
    uint64_t *out, struct cf_error *err)
{
	char	msg[96];

	if (cf_parse_u64(st->val[i], lo, hi, out, NULL) == CF_OK)
		return CF_OK;
	(void)snprintf(msg, sizeof(msg), "expected a number in [%" PRIu64
	    ", %" PRIu64 "]", lo, hi);
	return bad(st, st->key[i], msg, err);
}

static cf_err
get_str(const struct stmt *st, size_t i, char *out, size_t outsz,
    struct cf_error *err)
{
	if (st->val[i][0] == '\0')
		return bad(st, st->key[i], "empty value", err);
	if (cf_strlcpy(out, st->val[i], outsz) >= outsz)
		return bad(st, st->key[i], "value too long", err);
	return CF_OK;
}

/* SEC: the secret is read from a file only the server's user may read
 * (never from the command line or the rules file, which are easier to
 * leak); blanks at its end (a newline) are not part of it. */
static cf_err
read_secret(const struct stmt *st, const char *path,
    struct cf_alert_sink *k, struct cf_error *err)
{
	unsigned char	buf[CF_ALERT_SECRET_MAX + 2];
	struct stat	sb;
	ssize_t		got;
	size_t		n = 0;
	int		fd;
	cf_err		rc = CF_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return cf_error_set(err, CF_E_IO, "%s:%zu: sink %s: "
		    "secret_file %s: %s", st->fname, st->line, st->name, path,
		    strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = cf_error_set(err, CF_E_IO, "%s:%zu: sink %s: secret_file "
		    "%s: not a regular file", st->fname, st->line, st->name,
		    path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		rc = cf_error_set(err, CF_E_INPUT, "%s:%zu: sink %s: "
		    "secret_file %s: readable by group or others (chmod 600)",
		    st->fname, st->line, st->name, path);
		goto out;
	}
	for (;;) {
		got = read(fd, buf + n, sizeof(buf) - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = cf_error_sys(err, CF_E_IO, "read %s", path);
			goto out;
		}
		if (got == 0 || (n += (size_t)got) == sizeof(buf))
			break;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n > CF_ALERT_SECRET_MAX || n < CF_ALERT_SECRET_MIN) {
		rc = cf_error_set(err, CF_E_INPUT, "%s:%zu: sink %s: "
		    "secret_file %s: the secret must be %d to %d bytes",
		    st->fname, st->line, st->name, path, CF_ALERT_SECRET_MIN,
		    CF_ALERT_SECRET_MAX);
		goto out;
	}
	k->secret = cf_malloc(n);
	if (k->secret == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(k->secret, buf, n);
	k->secret_len = n;
out:
	cf_wipe(buf, sizeof(buf));
	(void)close(fd);
	return rc;
}

static cf_err
parse_sink(struct cf_alerts *a, struct stmt *st, struct cf_error *err)
{
	struct cf_alert_sink	*k;
	char			 secret_file[4096] = "";
	size_t			 i, j;
	cf_err			 rc = CF_OK;

	if (a->nsinks >= CF_ALERT_SINKS_MAX)
		return cf_error_set(err, CF_E_LIMIT, "%s:%zu: at most %d "
		    "sinks", st->fname, st->line, CF_ALERT_SINKS_MAX);
	if (!name_ok(st->name))
		return bad(st, NULL, "a name is 1..63 of [a-z0-9._-], "
		    "starting with a letter or digit", err);
	for (i = 0; i < a->nsinks; i++)
		if (strcmp(a->sinks[i].name, st->name) == 0)
			return bad(st, NULL, "defined twice", err);
	if (st->n == 0 || st->val[0] != NULL)
		return bad(st, NULL, "expected a type: syslog or webhook",
		    err);
	k = &a->sinks[a->nsinks];
	memset(k, 0, sizeof(*k));
	cf_strlcpy(k->name, st->name, sizeof(k->name));
	k->facility = LOG_AUTH;
	k->timeout_ms = 5000;
	k->retries = 6;
	k->retry_delay_ms = 1000;
	k->queue = 256;
	if (strcmp(st->key[0], "syslog") == 0)
		k->type = CF_ALERT_SYSLOG;
	else if (strcmp(st->key[0], "webhook") == 0)
		k->type = CF_ALERT_WEBHOOK;
	else
		return bad(st, st->key[0], "unknown type (syslog, webhook; "
		    "e-mail is not offered: docs/monitoring.md)", err);
	for (i = 1; i < st->n && rc == CF_OK; i++) {
		const char *key = st->key[i];

		if (st->val[i] == NULL)
			rc = bad(st, key, "expected key=value", err);
		else if (k->type == CF_ALERT_SYSLOG &&
		    strcmp(key, "facility") == 0) {
			for (j = 0; j < sizeof(facilities) /
			    sizeof(facilities[0]); j++)
				if (strcmp(facilities[j].name, st->val[i]) ==
				    0)
					break;
			if (j == sizeof(facilities) / sizeof(facilities[0]))
				rc = bad(st, key, "auth, authpriv, daemon, "
				    "user or local0..local7", err);
			else
				k->facility = facilities[j].fac;
		} else if (k->type != CF_ALERT_WEBHOOK)
			rc = bad(st, key, "unknown key", err);
		else if (strcmp(key, "url") == 0) {
			rc = get_str(st, i, k->url, sizeof(k->url), err);
			/* SEC: alerts name principals and resources: only
			 * over TLS. */
			if (rc == CF_OK && !cf_str_has_prefix(k->url,
			    "https://"))
				rc = bad(st, key, "must be https://", err);
		} else if (strcmp(key, "secret_file") == 0)
			rc = get_str(st, i, secret_file, sizeof(secret_file),
			    err);
		else if (strcmp(key, "ca_file") == 0)
			rc = get_str(st, i, k->ca_file, sizeof(k->ca_file),
			    err);
		else if (strcmp(key, "timeout_ms") == 0)
			rc = get_u64(st, i, 100, 120000, &k->timeout_ms, err);
		else if (strcmp(key, "retries") == 0)
			rc = get_u64(st, i, 0, 100, &k->retries, err);
		else if (strcmp(key, "retry_delay_ms") == 0)
			rc = get_u64(st, i, 10, 600000, &k->retry_delay_ms,
			    err);
		else if (strcmp(key, "queue") == 0)
			rc = get_u64(st, i, 1, 65536, &k->queue, err);
		else
			rc = bad(st, key, "unknown key", err);
	}
	if (rc == CF_OK && k->type == CF_ALERT_WEBHOOK && k->url[0] == '\0')
		rc = bad(st, NULL, "a webhook needs url=", err);
	if (rc == CF_OK && k->type == CF_ALERT_WEBHOOK &&
	    secret_file[0] == '\0')
		rc = bad(st, NULL, "a webhook needs secret_file= (the HMAC "
		    "key of X-Coffer-Signature)", err);
	if (rc == CF_OK && k->type == CF_ALERT_WEBHOOK)
		rc = read_secret(st, secret_file, k, err);
	if (rc == CF_OK)
		a->nsinks++;
	else if (k->secret != NULL) {
		cf_wipe(k->secret, k->secret_len);
		CF_FREE(k->secret);
	}
	return rc;
}

/* "403", "4xx" or "401-403" into [lo, hi]. */
static bool
status_range(const char *s, int *lo, int *hi)
{
	uint64_t	a, b;
	char		buf[16];
	const char	*dash;

	if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && s[1] == 'x' &&
	    s[2] == 'x') {
		*lo = (s[0] - '0') * 100;
		*hi = *lo + 99;
		return true;
	}
	dash = strchr(s, '-');
	if (dash == NULL) {
		if (cf_parse_u64(s, 100, 599, &a, NULL) != CF_OK)
			return false;
		*lo = *hi = (int)a;
		return true;
	}
	if ((size_t)(dash - s) >= sizeof(buf))
		return false;
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = '\0';
	if (cf_parse_u64(buf, 100, 599, &a, NULL) != CF_OK ||
	    cf_parse_u64(dash + 1, 100, 599, &b, NULL) != CF_OK || b < a)
		return false;
	*lo = (int)a;
	*hi = (int)b;
	return true;
}

static cf_err
parse_status(const struct stmt *st, size_t i, struct rule *ru,
    struct cf_error *err)
{
	char	buf[CF_ALERT_PAT_MAX], *p, *comma;

	if (cf_strlcpy(buf, st->val[i], sizeof(buf)) >= sizeof(buf))
		return bad(st, st->key[i], "value too long", err);
	for (p = buf; p != NULL; p = comma != NULL ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		if (ru->nst >= STATUS_MAX)
			return bad(st, st->key[i], "at most 8 statuses", err);
		if (!status_range(p, &ru->st_lo[ru->nst], &ru->st_hi[ru->nst]))
			return bad(st, st->key[i], "expected codes like 403, "
			    "4xx or 401-403, comma separated", err);
		ru->nst++;
	}
	return CF_OK;
}

static cf_err
parse_sinks(const struct cf_alerts *a, const struct stmt *st, size_t i,
    struct rule *ru, struct cf_error *err)
{
	char	buf[CF_ALERT_PAT_MAX], *p, *comma, msg[128];
	size_t	j;

	if (cf_strlcpy(buf, st->val[i], sizeof(buf)) >= sizeof(buf))
		return bad(st, st->key[i], "value too long", err);
	for (p = buf; p != NULL; p = comma != NULL ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		for (j = 0; j < a->nsinks; j++)
			if (strcmp(a->sinks[j].name, p) == 0)
				break;
		if (j == a->nsinks) {
			(void)snprintf(msg, sizeof(msg), "no sink \"%.64s\" "
			    "(define sinks before the rules using them)", p);
			return bad(st, st->key[i], msg, err);
		}
		if (ru->nsinks >= CF_ALERT_SINKS_MAX)
			return bad(st, st->key[i], "too many sinks", err);
		ru->sinks[ru->nsinks++] = j;
	}
	return CF_OK;
}

static cf_err
parse_rule(struct cf_alerts *a, struct stmt *st, struct cf_error *err)
{
	struct rule	*ru;
	bool		 has_window = false, has_count = false;
	size_t		 i;
	uint64_t	 v;
	cf_err		 rc = CF_OK;

	if (a->nrules >= CF_ALERT_RULES_MAX)
		return cf_error_set(err, CF_E_LIMIT, "%s:%zu: at most %d rules",
		    st->fname, st->line, CF_ALERT_RULES_MAX);
	if (!name_ok(st->name))
		return bad(st, NULL, "a name is 1..63 of [a-z0-9._-], "
		    "starting with a letter or digit", err);
	for (i = 0; i < a->nrules; i++)
		if (strcmp(a->rules[i].name, st->name) == 0)
			return bad(st, NULL, "defined twice", err);
	ru = &a->rules[a->nrules];
	memset(ru, 0, sizeof(*ru));
	cf_strlcpy(ru->name, st->name, sizeof(ru->name));
	ru->sev = CF_ALERT_WARNING;
	ru->decision = -1;
	ru->admin = -1;
	ru->count = 1;
	ru->by = CF_ALERT_BY_PRINCIPAL;
	ru->max_keys = CF_ALERT_KEYS_DEFAULT;
	for (i = 0; i < st->n && rc == CF_OK; i++) {
		const char *key = st->key[i], *val = st->val[i];

		if (val == NULL)
			rc = bad(st, key, "expected key=value", err);
		else if (strcmp(key, "sinks") == 0)
			rc = parse_sinks(a, st, i, ru, err);
		else if (strcmp(key, "severity") == 0) {
			if (strcmp(val, "info") == 0)
				ru->sev = CF_ALERT_INFO;
			else if (strcmp(val, "warning") == 0)
				ru->sev = CF_ALERT_WARNING;
			else if (strcmp(val, "critical") == 0)
				ru->sev = CF_ALERT_CRITICAL;
			else
				rc = bad(st, key, "info, warning or critical",
				    err);
		} else if (strcmp(key, "action") == 0)
			rc = get_str(st, i, ru->action, sizeof(ru->action),
			    err);
		else if (strcmp(key, "result") == 0)
			rc = get_str(st, i, ru->result, sizeof(ru->result),
			    err);
		else if (strcmp(key, "principal") == 0)
			rc = get_str(st, i, ru->principal,
			    sizeof(ru->principal), err);
		else if (strcmp(key, "reason") == 0)
			rc = get_str(st, i, ru->reason, sizeof(ru->reason),
			    err);
		else if (strcmp(key, "decision") == 0) {
			if (strcmp(val, "allow") == 0)
				ru->decision = 1;
			else if (strcmp(val, "deny") == 0)
				ru->decision = 0;
			else
				rc = bad(st, key, "allow or deny", err);
		} else if (strcmp(key, "admin") == 0) {
			if (strcmp(val, "yes") == 0)
				ru->admin = 1;
			else if (strcmp(val, "no") == 0)
				ru->admin = 0;
			else
				rc = bad(st, key, "yes or no", err);
		} else if (strcmp(key, "status") == 0)
			rc = parse_status(st, i, ru, err);
		else if (strcmp(key, "count") == 0) {
			rc = get_u64(st, i, 1, 1000000000, &ru->count, err);
			has_count = true;
		} else if (strcmp(key, "bytes") == 0)
			rc = get_u64(st, i, 1, UINT64_MAX / 2, &ru->bytes,
			    err);
		else if (strcmp(key, "window") == 0) {
			rc = get_u64(st, i, 1, 30 * 86400, &ru->window_s,
			    err);
			has_window = true;
		} else if (strcmp(key, "by") == 0) {
			if (strcmp(val, "principal") == 0)
				ru->by = CF_ALERT_BY_PRINCIPAL;
			else if (strcmp(val, "source") == 0)
				ru->by = CF_ALERT_BY_SOURCE;
			else if (strcmp(val, "none") == 0)
				ru->by = CF_ALERT_BY_NONE;
			else
				rc = bad(st, key, "principal, source or none",
				    err);
		} else if (strcmp(key, "max_keys") == 0) {
			rc = get_u64(st, i, 1, CF_ALERT_KEYS_MAX, &v, err);
			ru->max_keys = (size_t)v;
		} else
			rc = bad(st, key, "unknown key", err);
	}
	if (rc != CF_OK)
		return rc;
	if (ru->nsinks == 0)
		return bad(st, NULL, "needs sinks=", err);
	/* A threshold needs a window to count in (a minute by default). */
	if ((ru->count > 1 || ru->bytes > 0) && !has_window)
		ru->window_s = 60;
	if (!has_count && ru->bytes > 0)
		ru->count = UINT64_MAX;		/* bytes alone decide */
	if (ru->window_s > 0) {
		for (ru->nb = 1; ru->nb < ru->max_keys * 2; ru->nb <<= 1)
			;
		ru->trk = cf_calloc(ru->max_keys, sizeof(*ru->trk));
		ru->heads = cf_calloc(ru->nb, sizeof(*ru->heads));
		if (ru->trk == NULL || ru->heads == NULL) {
			CF_FREE(ru->trk);
			CF_FREE(ru->heads);
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		}
		for (i = 0; i < ru->nb; i++)
			ru->heads[i] = -1;
	}
	a->nrules++;
	return CF_OK;
}

void
cf_alerts_free(struct cf_alerts *a)
{
	size_t	i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nrules; i++) {
		cf_free(a->rules[i].trk);
		cf_free(a->rules[i].heads);
	}
	for (i = 0; i < a->nsinks; i++)
		if (a->sinks[i].secret != NULL) {
			cf_wipe(a->sinks[i].secret, a->sinks[i].secret_len);
			cf_free(a->sinks[i].secret);
		}
	(void)pthread_mutex_destroy(&a->mu);
	cf_free(a);
}

cf_err
cf_alerts_parse(const char *fname, const char *buf, size_t len,
    struct cf_alerts **out, struct cf_error *err)
{
	struct cf_alerts	*a;
	struct stmt		 st;
	char			 line[8192];
	size_t			 i = 0, n = 0, lineno = 0, first = 0;
	bool			 cont;
	cf_err			 rc = CF_OK;

	if (len > CF_ALERT_FILE_MAX)
		return cf_error_set(err, CF_E_LIMIT, "%s: larger than %d "
		    "bytes", fname, CF_ALERT_FILE_MAX);
	a = cf_calloc(1, sizeof(*a));
	if (a == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		cf_free(a);
		return cf_error_set(err, CF_E_INTERNAL, "mutex init");
	}
	while (i < len && rc == CF_OK) {
		lineno++;
		if (n == 0)
			first = lineno;
		while (i < len && buf[i] != '\n') {
			if (buf[i] == '\0') {
				rc = cf_error_set(err, CF_E_INPUT, "%s:%zu: "
				    "NUL byte", fname, lineno);
				break;
			}
			if (n + 1 >= sizeof(line)) {
				rc = cf_error_set(err, CF_E_INPUT, "%s:%zu: "
				    "statement too long", fname, lineno);
				break;
			}
			line[n++] = buf[i++];
		}
		i++;
		if (rc != CF_OK)
			break;
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
		    line[n - 1] == '\t'))
			n--;
		cont = n > 0 && line[n - 1] == '\\';
		if (cont) {
			line[n - 1] = ' ';
			if (i < len)
				continue;
		}
		line[n] = '\0';
		n = 0;
		memset(&st, 0, sizeof(st));
		st.fname = fname;
		st.line = first;
		{
			char *p = line;

			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\0' || *p == '#')
				continue;
			rc = split(p, &st, err);
		}
		if (rc != CF_OK)
			break;
		if (strcmp(st.kind, "sink") == 0)
			rc = parse_sink(a, &st, err);
		else if (strcmp(st.kind, "rule") == 0)
			rc = parse_rule(a, &st, err);
		else
			rc = cf_error_set(err, CF_E_INPUT, "%s:%zu: expected "
			    "\"rule\" or \"sink\", not \"%.32s\"", fname,
			    first, st.kind);
	}
	cf_wipe(line, sizeof(line));
	if (rc != CF_OK) {
		cf_alerts_free(a);
		return rc;
	}
	*out = a;
	return CF_OK;
}

cf_err
cf_alerts_load(const char *path, struct cf_alerts **out,
    struct cf_error *err)
{
	char	*buf;
	size_t	 n = 0;
	ssize_t	 got;
	int	 fd;
	cf_err	 rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return cf_error_sys(err, CF_E_IO, "open %s", path);
	buf = cf_malloc(CF_ALERT_FILE_MAX + 1);
	if (buf == NULL) {
		(void)close(fd);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	for (;;) {
		got = read(fd, buf + n, CF_ALERT_FILE_MAX + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || (n += (size_t)got) == CF_ALERT_FILE_MAX + 1)
			break;
	}
	if (got < 0)
		rc = cf_error_sys(err, CF_E_IO, "read %s", path);
	else
		rc = cf_alerts_parse(path, buf, n, out, err);
	(void)close(fd);
	cf_free(buf);
	return rc;
}

size_t
cf_alerts_nrules(const struct cf_alerts *a)
{
	return a != NULL ? a->nrules : 0;
}

size_t
cf_alerts_nsinks(const struct cf_alerts *a)
{
	return a != NULL ? a->nsinks : 0;
}

const struct cf_alert_sink *
cf_alerts_sink(const struct cf_alerts *a, size_t i)
{
	return &a->sinks[i];
}

const char *
cf_alerts_rule_name(const struct cf_alerts *a, size_t i)
{
	return a->rules[i].name;
}

enum cf_alert_sev
cf_alerts_rule_severity(const struct cf_alerts *a, size_t i)
{
	return a->rules[i].sev;
}

void
cf_alerts_rule_sinks(const struct cf_alerts *a, size_t i,
    const size_t **sinks, size_t *n)
{
	*sinks = a->rules[i].sinks;
	*n = a->rules[i].nsinks;
}

long
cf_alerts_find(const struct cf_alerts *a, const char *name)
{
	size_t	i;

	for (i = 0; a != NULL && i < a->nrules; i++)
		if (strcmp(a->rules[i].name, name) == 0)
			return (long)i;
	return -1;
}

static json_t *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
cf_alerts_rule_json(const struct cf_alerts *a, size_t i)
{
	static const char *const by[] = { "principal", "source", "none" };
	const struct rule	*ru = &a->rules[i];
	json_t			*st, *j;
	char			 buf[16];
	size_t			 k;

	st = json_array();
	for (k = 0; st != NULL && k < ru->nst; k++) {
		if (ru->st_lo[k] == ru->st_hi[k])
			(void)snprintf(buf, sizeof(buf), "%d", ru->st_lo[k]);
		else
			(void)snprintf(buf, sizeof(buf), "%d-%d",
			    ru->st_lo[k], ru->st_hi[k]);
		if (json_array_append_new(st, json_string(buf)) != 0) {
			json_decref(st);
			return NULL;
		}
	}
	if (st == NULL)
		return NULL;
	j = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, "
	    "s:s, s:I}", "action", str_or_null(ru->action), "decision",
	    ru->decision < 0 ? json_null() : json_string(ru->decision ?
	    "allow" : "deny"), "status", st, "result",
	    str_or_null(ru->result), "principal", str_or_null(ru->principal),
	    "reason", str_or_null(ru->reason), "admin", ru->admin < 0 ?
	    json_null() : json_boolean(ru->admin), "count",
	    ru->count == UINT64_MAX ? json_null() :
	    json_integer((json_int_t)ru->count), "bytes",
	    (json_int_t)ru->bytes, "window_s", (json_int_t)ru->window_s,
	    "by", by[ru->by], "max_keys", (json_int_t)ru->max_keys);
	return j;
}

/* Does s match one of the comma-separated globs of pats ("": any)? */
static bool
pats_match(const char *pats, const char *s)
{
	char		 pat[CF_ALERT_PAT_MAX];
	const char	*p = pats, *comma;
	size_t		 n;

	if (pats[0] == '\0')
		return true;
	while (*p != '\0') {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = '\0';
			if (fnmatch(pat, s, 0) == 0)
				return true;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return false;
}

static bool
rule_matches(const struct rule *ru, const struct cf_audit_rec *rec)
{
	const struct cf_action_def	*def;
	size_t				 i;
	bool				 admin;

	if (ru->decision >= 0 && (strcmp(rec->decision, "allow") == 0) !=
	    (ru->decision == 1))
		return false;
	if (ru->nst > 0) {
		for (i = 0; i < ru->nst; i++)
			if (rec->status >= ru->st_lo[i] &&
			    rec->status <= ru->st_hi[i])
				break;
		if (i == ru->nst)
			return false;
	}
	if (ru->admin >= 0) {
		/* Admin: the registry's role floor is admin, or no role
		 * decides it (global management). */
		def = cf_action_find(rec->action);
		admin = def != NULL && (def->role == CF_ROLE_ADMIN ||
		    (def->role == CF_ROLE_NONE && (def->flags &
		    (CF_ACT_SELF | CF_ACT_NOAUTH | CF_ACT_RECORD)) == 0));
		if (admin != (ru->admin == 1))
			return false;
	}
	return pats_match(ru->action, rec->action) &&
	    pats_match(ru->result, rec->result != NULL ? rec->result : "") &&
	    pats_match(ru->principal, rec->principal) &&
	    pats_match(ru->reason, rec->reasons != NULL ? rec->reasons : "");
}

static uint32_t
fnv1a(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static void
chain_remove(struct rule *ru, int32_t idx)
{
	int32_t	*pp = &ru->heads[ru->trk[idx].hash & (ru->nb - 1)];

	while (*pp != -1 && *pp != idx)
		pp = &ru->trk[*pp].next;
	if (*pp == idx)
		*pp = ru->trk[idx].next;
}

/* The window of key in ru, made (evicting the least recently seen key
 * when all max_keys slots are in use) if it is not tracked. */
static struct trk *
trk_get(struct rule *ru, const char *key, int64_t now)
{
	struct trk	*t;
	uint32_t	 h = fnv1a(key);
	int32_t		 i, victim = 0;
	size_t		 k;

	for (i = ru->heads[h & (ru->nb - 1)]; i != -1; i = ru->trk[i].next)
		if (ru->trk[i].hash == h && strcmp(ru->trk[i].key, key) == 0)
			return &ru->trk[i];
	if (ru->ntrk < ru->max_keys)
		victim = (int32_t)ru->ntrk++;
	else {
		/* SEC: bounded memory whatever the number of principals or
		 * addresses: the stalest window goes (a linear scan, only
		 * when a new key arrives at a full table). */
		for (k = 1; k < ru->max_keys; k++)
			if (ru->trk[k].last_us < ru->trk[victim].last_us)
				victim = (int32_t)k;
		chain_remove(ru, victim);
	}
	t = &ru->trk[victim];
	memset(t, 0, sizeof(*t));
	cf_strlcpy(t->key, key, sizeof(t->key));
	t->hash = h;
	t->used = true;
	t->start_us = now;
	t->next = ru->heads[h & (ru->nb - 1)];
	ru->heads[h & (ru->nb - 1)] = victim;
	return t;
}

size_t
cf_alerts_tracked(struct cf_alerts *a, size_t i)
{
	size_t	n;

	(void)pthread_mutex_lock(&a->mu);
	n = a->rules[i].ntrk;
	(void)pthread_mutex_unlock(&a->mu);
	return n;
}

/* cf_strlcpy, cut back to a whole UTF-8 character (jansson refuses
 * anything else). */
static void
copy_text(char *dst, const char *src, size_t dstsz)
{
	size_t	n;

	cf_strlcpy(dst, src != NULL ? src : "", dstsz);
	n = strlen(dst);
	while (n > 0 && !cf_utf8_valid(dst, n))
		dst[--n] = '\0';
}

static void
trigger_of(const struct cf_audit_rec *rec, struct cf_alert_trigger *t)
{
	memset(t, 0, sizeof(*t));
	copy_text(t->request_id, rec->request_id, sizeof(t->request_id));
	t->time_us = rec->time_us;
	copy_text(t->principal, rec->principal, sizeof(t->principal));
	copy_text(t->source, rec->source, sizeof(t->source));
	copy_text(t->action, rec->action, sizeof(t->action));
	copy_text(t->resource, rec->resource, sizeof(t->resource));
	copy_text(t->decision, rec->decision, sizeof(t->decision));
	t->status = rec->status;
	copy_text(t->result, rec->result, sizeof(t->result));
	t->bytes = rec->bytes;
}

void
cf_alerts_match(struct cf_alerts *a, const struct cf_audit_rec *rec,
    int64_t now_us, struct cf_alert_fire *fires, size_t max, size_t *n,
    uint64_t *lost)
{
	struct rule	*ru;
	struct trk	*t;
	const char	*key;
	size_t		 i;
	bool		 fire;

	*n = 0;
	/* SEC: an alert's own record never matches, so that no rule can
	 * make alerts feed on themselves. */
	if (a == NULL || a->nrules == 0 || rec->action == NULL ||
	    strcmp(rec->action, CF_ALERT_ACTION) == 0)
		return;
	(void)pthread_mutex_lock(&a->mu);
	for (i = 0; i < a->nrules; i++) {
		ru = &a->rules[i];
		if (!rule_matches(ru, rec))
			continue;
		key = ru->by == CF_ALERT_BY_PRINCIPAL ? rec->principal :
		    ru->by == CF_ALERT_BY_SOURCE ? rec->source : "";
		if (key == NULL)
			key = "";
		t = NULL;
		if (ru->window_s == 0)
			fire = true;
		else {
			t = trk_get(ru, key, now_us);
			if (now_us - t->start_us >= (int64_t)ru->window_s *
			    1000000) {
				t->start_us = now_us;
				t->count = 0;
				t->bytes = 0;
				t->fired = false;
			}
			t->last_us = now_us;
			t->count++;
			t->bytes = t->bytes + rec->bytes < t->bytes ?
			    UINT64_MAX : t->bytes + rec->bytes;
			fire = !t->fired && (t->count >= ru->count ||
			    (ru->bytes > 0 && t->bytes >= ru->bytes));
			if (fire)
				t->fired = true;
		}
		if (!fire)
			continue;
		if (*n >= max) {
			if (lost != NULL)
				(*lost)++;
			continue;
		}
		fires[*n].rule = i;
		fires[*n].count = t != NULL ? t->count : 1;
		fires[*n].bytes = t != NULL ? t->bytes : rec->bytes;
		fires[*n].window_start_us = t != NULL ? t->start_us : now_us;
		cf_strlcpy(fires[*n].key, key, sizeof(fires[*n].key));
		trigger_of(rec, &fires[*n].trigger);
		(*n)++;
	}
	(void)pthread_mutex_unlock(&a->mu);
}

json_t *
cf_alert_json(const struct cf_alerts *a, const struct cf_alert_fire *f,
    const char *alert_id, bool test, int64_t now_us)
{
	static const char *const by[] = { "principal", "source", "none" };
	const struct rule		*ru = &a->rules[f->rule];
	const struct cf_alert_trigger	*t = &f->trigger;
	char				 now[CF_TIME_STR_LEN];
	char				 at[CF_TIME_STR_LEN];

	cf_time_format(now_us, now);
	cf_time_format(t->time_us, at);
	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:I, s:I, s:I, s:s, "
	    "s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I}}",
	    "alert", ru->name, "severity", cf_alert_sev_name(ru->sev),
	    "id", alert_id, "test", test ? 1 : 0, "time", now,
	    "count", (json_int_t)f->count, "bytes", (json_int_t)(f->bytes >
	    (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : f->bytes), "window_s",
	    (json_int_t)ru->window_s, "by", by[ru->by], "key", f->key,
	    "trigger", "request_id", t->request_id, "time", at, "principal",
	    t->principal, "source", t->source, "action", t->action,
	    "resource", t->resource, "decision", t->decision, "status",
	    t->status, "result", t->result, "bytes",
	    (json_int_t)(t->bytes > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX :
	    t->bytes));
}

void
cf_alert_syslog_line(const struct cf_alerts *a,
    const struct cf_alert_fire *f, const char *alert_id, bool test,
    char *out, size_t outsz)
{
	const struct rule		*ru = &a->rules[f->rule];
	const struct cf_alert_trigger	*t = &f->trigger;
	char				 key[CF_ALERT_KEY_MAX * 4];
	char				 pr[CF_ALERT_KEY_MAX * 4];
	char				 src[CF_ALERT_KEY_MAX * 4];
	char				 act[CF_ALERT_KEY_MAX * 4];
	char				 res[256];
	char				 result[CF_ALERT_KEY_MAX * 4];

	/* SEC: names, addresses and resources come from requests:
	 * escaped, so that none can forge a field or a line. */
	cf_log_escape(f->key, key, sizeof(key));
	cf_log_escape(t->principal, pr, sizeof(pr));
	cf_log_escape(t->source, src, sizeof(src));
	cf_log_escape(t->action, act, sizeof(act));
	cf_log_escape(t->resource, res, sizeof(res));
	cf_log_escape(t->result, result, sizeof(result));
	(void)snprintf(out, outsz, "event=alert alert=%s severity=%s id=%s "
	    "test=%s count=%" PRIu64 " bytes=%" PRIu64 " window_s=%" PRIu64
	    " key=\"%s\" trigger=%s action=\"%s\" principal=\"%s\" "
	    "source=\"%s\" resource=\"%s\" decision=%s status=%d "
	    "result=\"%s\"", ru->name, cf_alert_sev_name(ru->sev), alert_id,
	    test ? "yes" : "no", f->count, f->bytes, ru->window_s, key,
	    t->request_id, act, pr, src, res, t->decision[0] != '\0' ?
	    t->decision : "-", t->status, result);
}

int
cf_alert_syslog_pri(const struct cf_alert_sink *k, enum cf_alert_sev s)
{
	return k->facility | (s == CF_ALERT_CRITICAL ? LOG_CRIT :
	    s == CF_ALERT_WARNING ? LOG_WARNING : LOG_INFO);
}

cf_err
cf_alert_signature(const struct cf_alert_sink *k, const void *body,
    size_t len, char out[7 + 64 + 1], struct cf_error *err)
{
	uint8_t	mac[CF_MAC_LEN];
	cf_err	rc;

	if (k->secret == NULL)
		return cf_error_set(err, CF_E_INVAL, "sink %s has no secret",
		    k->name);
	rc = cf_hmac_sha256_raw(k->secret, k->secret_len, body, len, mac,
	    err);
	if (rc != CF_OK)
		return rc;
	memcpy(out, "sha256=", 7);
	cf_hex_encode(mac, sizeof(mac), out + 7);
	cf_wipe(mac, sizeof(mac));
	return CF_OK;
}

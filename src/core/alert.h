/* src/core/alert.h: alert rules over audit records (docs/monitoring.md,
 * "Alerts").
 *
 * A rules file names sinks (where an alert goes: syslog, a webhook) and
 * rules (a condition over audit records: which records match, how many
 * or how many bytes of them by one principal or address within a
 * window, a severity and the sinks).  This part is pure: the parser,
 * the matcher (given a clock value, so that tests inject time), the
 * alert's JSON, its syslog line and its webhook signature.  The core's
 * side (core/ops_alert.c) feeds it every audit record the monitor
 * writes, records each alert in the audit log and delivers it from
 * threads of its own. */
#ifndef CF_CORE_ALERT_H
#define CF_CORE_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "base/error.h"

#define CF_ALERT_NAME_MAX	64	/* rule and sink names, with NUL */
#define CF_ALERT_RULES_MAX	64
#define CF_ALERT_SINKS_MAX	16
#define CF_ALERT_FILE_MAX	(64 * 1024)	/* bytes of a rules file */
#define CF_ALERT_PAT_MAX	256	/* a comma list of patterns */
#define CF_ALERT_KEYS_DEFAULT	1024	/* tracked keys per rule */
#define CF_ALERT_KEYS_MAX	65536
#define CF_ALERT_SECRET_MAX	1024	/* bytes of a webhook secret */
#define CF_ALERT_SECRET_MIN	16
#define CF_ALERT_KEY_MAX	64	/* a principal name or address */
#define CF_ALERT_ACTION	"alert:fired"	/* the record of an alert */

enum cf_alert_sev { CF_ALERT_INFO, CF_ALERT_WARNING, CF_ALERT_CRITICAL };
enum cf_alert_by { CF_ALERT_BY_PRINCIPAL, CF_ALERT_BY_SOURCE,
	CF_ALERT_BY_NONE };
enum cf_alert_sink_type { CF_ALERT_SYSLOG, CF_ALERT_WEBHOOK };

struct cf_alert_sink {
	char			 name[CF_ALERT_NAME_MAX];
	enum cf_alert_sink_type	 type;
	int			 facility;	/* syslog: LOG_AUTH, ... */
	char			 url[1024];	/* webhook: https:// */
	char			 ca_file[4096];	/* "": the system's CAs */
	/* SEC: read from secret_file at parse time, wiped by free. */
	unsigned char		*secret;
	size_t			 secret_len;
	uint64_t		 timeout_ms;	/* one attempt */
	uint64_t		 retries;	/* attempts after the first */
	uint64_t		 retry_delay_ms;	/* first backoff */
	uint64_t		 queue;		/* deliveries waiting, most */
};

/* A record that fired a rule, copied (the record is borrowed). */
struct cf_alert_trigger {
	char		request_id[33];
	int64_t		time_us;
	char		principal[CF_ALERT_KEY_MAX];
	char		source[CF_ALERT_KEY_MAX];
	char		action[CF_ALERT_KEY_MAX];
	char		resource[256];
	char		decision[8];
	int		status;
	char		result[CF_ALERT_KEY_MAX];
	uint64_t	bytes;
};

/* One firing: the rule, what was counted in its window and by whom. */
struct cf_alert_fire {
	size_t			 rule;		/* index */
	uint64_t		 count;		/* records in the window */
	uint64_t		 bytes;		/* their bytes */
	int64_t			 window_start_us;
	char			 key[CF_ALERT_KEY_MAX];	/* "" by none */
	struct cf_alert_trigger	 trigger;
};

struct cf_alerts;

/* Parse a rules file's text buf[0..len) (fname names it in errors as
 * "fname:line: message").  Secret files are read now (they must not be
 * readable by group or others).  *out (cf_alerts_free) on success.
 * CF_E_INPUT for bad text, CF_E_IO for an unreadable secret file,
 * CF_E_LIMIT past the limits above. */
cf_err	cf_alerts_parse(const char *fname, const char *buf, size_t len,
	    struct cf_alerts **out, struct cf_error *err);
/* cf_alerts_parse of the file path. */
cf_err	cf_alerts_load(const char *path, struct cf_alerts **out,
	    struct cf_error *err);
void	cf_alerts_free(struct cf_alerts *a);	/* NULL is a no-op */

size_t	cf_alerts_nrules(const struct cf_alerts *a);
size_t	cf_alerts_nsinks(const struct cf_alerts *a);
const struct cf_alert_sink *cf_alerts_sink(const struct cf_alerts *a,
	    size_t i);
const char *cf_alerts_rule_name(const struct cf_alerts *a, size_t i);
enum cf_alert_sev cf_alerts_rule_severity(const struct cf_alerts *a,
	    size_t i);
/* The sink indexes of rule i in sinks[0..*n). */
void	cf_alerts_rule_sinks(const struct cf_alerts *a, size_t i,
	    const size_t **sinks, size_t *n);
/* Rule i's condition as JSON ({action, decision, status, result,
 * principal, reason, admin, count, bytes, window_s, by, max_keys}). */
json_t	*cf_alerts_rule_json(const struct cf_alerts *a, size_t i);
/* The index of rule name, or -1. */
long	cf_alerts_find(const struct cf_alerts *a, const char *name);
const char *cf_alert_sev_name(enum cf_alert_sev s);

/* Match rec against every rule at time now_us (the core's clock): each
 * rule that fires now goes to fires[0..*n) (at most max; more are
 * dropped and counted in *lost, nullable).  Thread-safe.  Records of
 * alerts (action CF_ALERT_ACTION) never match: an alert cannot fire
 * another.  Windows: a rule with a window opens one for a key at the
 * first matching record; it fires once, when the count or the bytes
 * reach the rule's threshold; the next matching record after the window
 * ends opens a new one.  At most max_keys keys are tracked per rule;
 * past that the least recently seen is forgotten. */
void	cf_alerts_match(struct cf_alerts *a, const struct cf_audit_rec *rec,
	    int64_t now_us, struct cf_alert_fire *fires, size_t max,
	    size_t *n, uint64_t *lost);
/* Keys rule i tracks now (tests). */
size_t	cf_alerts_tracked(struct cf_alerts *a, size_t i);

/* The alert's JSON body (a new reference, NULL on NOMEM): alert_id is
 * the request id of its audit record, now_us its time. */
json_t	*cf_alert_json(const struct cf_alerts *a,
	    const struct cf_alert_fire *f, const char *alert_id, bool test,
	    int64_t now_us);
/* The syslog line of an alert (untrusted strings escaped, one line). */
void	cf_alert_syslog_line(const struct cf_alerts *a,
	    const struct cf_alert_fire *f, const char *alert_id, bool test,
	    char *out, size_t outsz);
/* The syslog priority of severity s for sink k (facility | level). */
int	cf_alert_syslog_pri(const struct cf_alert_sink *k,
	    enum cf_alert_sev s);
/* "sha256=" and the hex HMAC-SHA256 of body under sink k's secret. */
cf_err	cf_alert_signature(const struct cf_alert_sink *k, const void *body,
	    size_t len, char out[7 + 64 + 1], struct cf_error *err);

#endif

/* src/core/anomaly.h: anomaly detection over audit records
 * (docs/monitoring.md, "Anomaly detection").
 *
 * Per-principal baselines learned from the records (usual hours, source
 * networks by /24 or /64, namespaces, actions, bytes and objects
 * downloaded per day and per hour, denials), over a rolling window of
 * CF_ANOM_DAYS days, kept in memory and bounded: at most max_principals
 * profiles (the least recently seen one is dropped for a new one) and
 * CF_ANOM_FEATS networks, namespaces and actions each per profile (the
 * least recently seen dropped).  Each record is scored as it is
 * observed; what stands out is a flag that says which feature, its
 * baseline and the value observed.
 *
 * This part is pure: no I/O, no clock (every event carries its time,
 * so that tests and the bench move time as they like), no lock (the
 * caller serializes: core/ops_anomaly.c holds a mutex).  The core's side
 * feeds it every audit record the monitor writes, records each flag in
 * the audit log (action anomaly:flag) and puts the request's risk into
 * the policies' context (context.risk). */
#ifndef CF_CORE_ANOMALY_H
#define CF_CORE_ANOMALY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define CF_ANOM_DAYS		30	/* the baseline window, days */
#define CF_ANOM_FEATS		32	/* networks, namespaces, actions
					 * each, per profile */
#define CF_ANOM_KEY_MAX		80	/* a principal, or "@" and an
					 * address */
#define CF_ANOM_TEXT_MAX	96	/* a feature's baseline or value */
#define CF_ANOM_ACTION		"anomaly:flag"	/* a flag's record */

/* The flags, each with its weight in the risk score (anomaly.c). */
enum cf_anom_kind {
	CF_ANOM_NEW_NETWORK,		/* first access from a network */
	CF_ANOM_OFF_HOURS,		/* restricted data outside the usual
					 * hours */
	CF_ANOM_BULK,			/* downloads many times the usual */
	CF_ANOM_ENUMERATION,		/* many 401/403/404 in a short time */
	CF_ANOM_TWO_NETWORKS,		/* one credential from two /16s
					 * within minutes */
	CF_ANOM_DORMANT,		/* no activity for a long time */
	CF_ANOM_NAMESPACES,		/* many new namespaces in an hour */
	CF_ANOM_NKINDS
};

struct cf_anom_config {
	size_t		max_principals;	/* profiles kept; 10000 */
	uint64_t	min_events;	/* events before a profile's habits
					 * (networks, hours, namespaces)
					 * count; 50 */
	uint64_t	bulk_factor;	/* times the baseline; 10 */
	uint64_t	bulk_min_bytes;	/* a day's download floor; 1 GiB */
	uint64_t	bulk_min_objects;	/* an hour's floor; 500 */
	uint64_t	enum_denials;	/* 401/403/404 within enum_window_s */
	int64_t		enum_window_s;	/* 300 */
	int64_t		dormant_s;	/* silence before a wake-up; 30 d */
	int64_t		travel_s;	/* two networks within; 600 */
	uint64_t	ns_spread;	/* new namespaces in an hour; 5 */
	int64_t		risk_window_s;	/* a flag counts in the risk for;
					 * 3600 */
	int64_t		cooldown_s;	/* one flag of a kind per profile
					 * per; 3600 */
};

/* One audit record (or a request about to be decided).  Strings are
 * borrowed, NULL taken as "". */
struct cf_anom_event {
	int64_t		 time_us;
	const char	*request_id;
	const char	*principal;	/* "": unauthenticated (the profile
					 * is the address's, "@ADDR") */
	const char	*credential;	/* token id, or "" (the principal's
					 * credentials as one) */
	const char	*source;	/* the client's address */
	const char	*action;
	const char	*ns;		/* the namespace; "" none */
	bool		 allowed;
	int		 status;
	uint64_t	 bytes;
	bool		 restricted;	/* the data is restricted */
};

/* One flag: what, whose, and why (feature, baseline, observed). */
struct cf_anom_flag {
	enum cf_anom_kind	kind;
	int			score;		/* the kind's weight */
	int64_t			time_us;
	char			principal[CF_ANOM_KEY_MAX];
	char			request_id[33];	/* the record that raised it */
	char			source[64];
	char			feature[32];
	char			baseline[CF_ANOM_TEXT_MAX];
	char			observed[CF_ANOM_TEXT_MAX];
};

struct cf_anom;

/* The defaults above into cfg. */
void	cf_anom_config_defaults(struct cf_anom_config *cfg);
/* A detector with cfg (copied; zero fields take their defaults).  On
 * success *out owns it (cf_anom_free); CF_E_NOMEM. */
cf_err	cf_anom_new(const struct cf_anom_config *cfg, struct cf_anom **out,
	    struct cf_error *err);
void	cf_anom_free(struct cf_anom *a);	/* NULL is a no-op */

/* Learn ev and score it: up to max flags into out[] (out NULL or max
 * 0: learn only, as when rebuilding from the log); their number.
 * Records out of time order are learned as of their own time. */
size_t	cf_anom_observe(struct cf_anom *a, const struct cf_anom_event *ev,
	    struct cf_anom_flag *out, size_t max);
/* A flag raised earlier (read back from the log): it counts in the
 * risk and the cooldown of its profile as if just raised. */
void	cf_anom_note(struct cf_anom *a, const struct cf_anom_flag *f);
/* The risk of ev, a request about to be decided (nothing learned): the
 * flags of its profile raised within risk_window_s before ev's time,
 * and those ev would raise itself (a new network, a dormant account, a
 * credential from a second network); *kinds gets them as bits (1 <<
 * kind).  The score is the sum of their weights, at most 100. */
int	cf_anom_risk(struct cf_anom *a, const struct cf_anom_event *ev,
	    uint32_t *kinds);
/* The profiles kept, and those dropped to make room. */
void	cf_anom_stats(const struct cf_anom *a, size_t *profiles,
	    uint64_t *evicted);

/* "new_network", ...; NULL for a kind out of range. */
const char *cf_anom_kind_name(enum cf_anom_kind k);
/* The kind named s; -1 for none. */
int	cf_anom_kind_parse(const char *s);
int	cf_anom_kind_weight(enum cf_anom_kind k);
/* The profile key of an unauthenticated source: "@ADDR". */
void	cf_anom_addr_key(const char *source, char *out, size_t outsz);
/* The IPv4 network of a with its first keep (0-4) octets as text,
 * "A.B.C.0/24" for keep 3, cut to outsz as snprintf cuts (what
 * "%u.%u.%u.0/24" makes; without snprintf, for every decision). */
void	cf_anom_net4_text(const uint8_t a[4], unsigned int keep, char *out,
	    size_t outsz);

#endif

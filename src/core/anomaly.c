/* src/core/anomaly.c: the anomaly detector (see anomaly.h).
 *
 * A profile per principal (or per address, for records without one)
 * holds a ring of CF_ANOM_DAYS day slots (events, denials, bytes and
 * objects downloaded, the busiest hour's objects, the hours of the day
 * with activity) and small LRU sets of networks, namespaces and
 * actions.  Baselines are read from the day slots before today: the
 * mean over the days with activity (a day off does not halve the
 * baseline), and the hours of the day active on at least two of them.
 * Memory: about 4.5 KiB per profile, so 10000 profiles take 45 MiB.
 *
 * Habits (networks, namespaces, hours) count only once a profile has
 * min_events allowed events, so a new principal's first days raise nothing but
 * the absolute floors (bulk, enumeration).  Networks and namespaces are
 * learned from allowed records only: a request refused because it came
 * from a new network does not make that network known. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "base/netaddr.h"
#include "base/str.h"
#include "core/anomaly.h"

#define US		1000000LL
#define DAY_US		(86400LL * US)
#define HOUR_US		(3600LL * US)
#define RECENT_MAX	4	/* credentials remembered per profile */
#define NSNEW_MAX	16	/* new namespaces counted in an hour */
#define NET_TEXT_MAX	56

struct day {
	int64_t		day;		/* days since the epoch; -1: empty */
	uint64_t	events, denials, bytes, objs, peak_objs;
	uint32_t	hours;		/* bit h: active in hour h (UTC) */
};

struct net {
	uint64_t	h;
	int64_t		last_us;
	char		text[NET_TEXT_MAX];
};

struct feat {
	uint64_t	h;
	int64_t		last_us;
};

struct recent {
	uint64_t	cred;
	uint32_t	net16;
	int64_t		at_us;
	char		text[NET_TEXT_MAX];	/* the /16 */
};

struct prof {
	struct prof	*next;		/* hash chain */
	uint64_t	 h;
	char		 key[CF_ANOM_KEY_MAX];
	uint64_t	 events;
	uint64_t	 allowed;	/* of them allowed: what networks
					 * and namespaces are learned from */
	int64_t		 first_us, last_us;
	struct day	 days[CF_ANOM_DAYS];
	int64_t		 hour_abs;	/* hours since the epoch */
	uint64_t	 hour_objs;
	uint64_t	 prev_hour_objs;	/* of hour_abs - 1 */
	uint64_t	 win_objs;	/* the last 60 minutes, estimated */
	int64_t		 deny_start_us;
	uint64_t	 deny_n;
	int64_t		 nsnew_hour;
	uint64_t	 nsnew[NSNEW_MAX];
	size_t		 nnsnew;
	struct net	 nets[CF_ANOM_FEATS];
	size_t		 nnets;
	struct feat	 nss[CF_ANOM_FEATS];
	size_t		 nnss;
	struct feat	 acts[CF_ANOM_FEATS];
	size_t		 nacts;
	struct recent	 recent[RECENT_MAX];
	int64_t		 flag_us[CF_ANOM_NKINDS];	/* last raised */
};

struct cf_anom {
	struct cf_anom_config	 cfg;
	struct prof		**tab;
	size_t			 nbuckets;	/* a power of two */
	size_t			 n;
	uint64_t		 evicted;
};

static const struct {
	const char	*name;
	int		 weight;
} kinds[CF_ANOM_NKINDS] = {
	[CF_ANOM_NEW_NETWORK] = { "new_network", 30 },
	[CF_ANOM_OFF_HOURS] = { "off_hours_restricted", 30 },
	[CF_ANOM_BULK] = { "bulk_download", 60 },
	[CF_ANOM_ENUMERATION] = { "enumeration", 50 },
	[CF_ANOM_TWO_NETWORKS] = { "token_two_networks", 70 },
	[CF_ANOM_DORMANT] = { "dormant_account", 40 },
	[CF_ANOM_NAMESPACES] = { "unusual_namespaces", 30 },
};

const char *
cf_anom_kind_name(enum cf_anom_kind k)
{
	if ((int)k < 0 || k >= CF_ANOM_NKINDS)
		return NULL;
	return kinds[k].name;
}

int
cf_anom_kind_parse(const char *s)
{
	int	k;

	for (k = 0; s != NULL && k < CF_ANOM_NKINDS; k++)
		if (strcmp(s, kinds[k].name) == 0)
			return k;
	return -1;
}

int
cf_anom_kind_weight(enum cf_anom_kind k)
{
	if ((int)k < 0 || k >= CF_ANOM_NKINDS)
		return 0;
	return kinds[k].weight;
}

void
cf_anom_config_defaults(struct cf_anom_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_principals = 10000;
	cfg->min_events = 50;
	cfg->bulk_factor = 10;
	cfg->bulk_min_bytes = 1ULL << 30;
	cfg->bulk_min_objects = 500;
	cfg->enum_denials = 20;
	cfg->enum_window_s = 300;
	cfg->dormant_s = 30LL * 86400;
	cfg->travel_s = 600;
	cfg->ns_spread = 5;
	cfg->risk_window_s = 3600;
	cfg->cooldown_s = 3600;
}

static uint64_t
hash_str(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* Joined, not formatted: one is made for every decision while the
 * detector runs (cf_anom_risk), and snprintf's code and work were a
 * tenth of a decision's (bench/authz).  The same bytes, cut alike. */
void
cf_anom_addr_key(const char *source, char *out, size_t outsz)
{
	if (outsz == 0)
		return;
	out[0] = '\0';
	if (outsz > 1) {
		out[0] = '@';
		(void)cf_strlcpy(out + 1, nz(source), outsz - 1);
	}
}

void
cf_anom_net4_text(const uint8_t a[4], unsigned int keep, char *out,
    size_t outsz)
{
	char		buf[24];
	size_t		n = 0;
	unsigned int	i, v, bits = keep * 8;

	for (i = 0; i < 4; i++) {
		v = i < keep ? a[i] : 0;
		if (i > 0)
			buf[n++] = '.';
		if (v >= 100)
			buf[n++] = (char)('0' + v / 100);
		if (v >= 10)
			buf[n++] = (char)('0' + v / 10 % 10);
		buf[n++] = (char)('0' + v % 10);
	}
	buf[n++] = '/';
	if (bits >= 10)
		buf[n++] = (char)('0' + bits / 10);
	buf[n++] = (char)('0' + bits % 10);
	buf[n] = '\0';
	if (outsz > 0)
		(void)cf_strlcpy(out, buf, outsz);
}

cf_err
cf_anom_new(const struct cf_anom_config *cfg, struct cf_anom **out,
    struct cf_error *err)
{
	struct cf_anom_config	 d;
	struct cf_anom		*a;

	cf_anom_config_defaults(&d);
#define TAKE(f)	do { if (cfg != NULL && cfg->f != 0) d.f = cfg->f; } while (0)
	TAKE(max_principals);
	TAKE(min_events);
	TAKE(bulk_factor);
	TAKE(bulk_min_bytes);
	TAKE(bulk_min_objects);
	TAKE(enum_denials);
	TAKE(enum_window_s);
	TAKE(dormant_s);
	TAKE(travel_s);
	TAKE(ns_spread);
	TAKE(risk_window_s);
	TAKE(cooldown_s);
#undef TAKE
	a = cf_calloc(1, sizeof(*a));
	if (a == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	a->cfg = d;
	a->nbuckets = 64;
	while (a->nbuckets < d.max_principals && a->nbuckets < (1u << 24))
		a->nbuckets <<= 1;
	a->tab = cf_calloc(a->nbuckets, sizeof(*a->tab));
	if (a->tab == NULL) {
		cf_free(a);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	*out = a;
	return CF_OK;
}

void
cf_anom_free(struct cf_anom *a)
{
	struct prof	*p, *next;
	size_t		 i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nbuckets; i++)
		for (p = a->tab[i]; p != NULL; p = next) {
			next = p->next;
			cf_free(p);
		}
	cf_free(a->tab);
	cf_free(a);
}

void
cf_anom_stats(const struct cf_anom *a, size_t *profiles, uint64_t *evicted)
{
	*profiles = a->n;
	*evicted = a->evicted;
}

static struct prof *
find(const struct cf_anom *a, const char *key, uint64_t h)
{
	struct prof	*p;

	for (p = a->tab[h & (a->nbuckets - 1)]; p != NULL; p = p->next)
		if (p->h == h && strcmp(p->key, key) == 0)
			return p;
	return NULL;
}

/* Make room: drop the least recently seen profile (a linear scan, only
 * when the table is full and a new key arrives). */
static void
evict_one(struct cf_anom *a)
{
	struct prof	**pp, **victim = NULL;
	size_t		  i;

	for (i = 0; i < a->nbuckets; i++)
		for (pp = &a->tab[i]; *pp != NULL; pp = &(*pp)->next)
			if (victim == NULL ||
			    (*pp)->last_us < (*victim)->last_us)
				victim = pp;
	if (victim != NULL) {
		struct prof *p = *victim;

		*victim = p->next;
		cf_free(p);
		a->n--;
		a->evicted++;
	}
}

static struct prof *
get(struct cf_anom *a, const char *key, uint64_t h)
{
	struct prof	*p;
	size_t		 i;

	p = find(a, key, h);
	if (p != NULL)
		return p;
	if (a->n >= a->cfg.max_principals)
		evict_one(a);
	p = cf_calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->h = h;
	(void)cf_strlcpy(p->key, key, sizeof(p->key));
	for (i = 0; i < CF_ANOM_DAYS; i++)
		p->days[i].day = -1;
	p->hour_abs = -1;
	p->nsnew_hour = -1;
	p->next = a->tab[h & (a->nbuckets - 1)];
	a->tab[h & (a->nbuckets - 1)] = p;
	a->n++;
	return p;
}

/* The network of source: its /24 (IPv4) or /64 (IPv6) as text and a
 * hash, and its /16 (IPv6: /32) for the two-networks rule.  Anything
 * that is not an address is its own network. */
struct netinfo {
	uint64_t	h;
	uint32_t	net16;
	char		text[NET_TEXT_MAX];
	char		text16[NET_TEXT_MAX];
};

static void
net_of(const char *source, struct netinfo *ni)
{
	struct cf_ip	ip;
	char		buf[CF_IP_TEXT_MAX], tmp[CF_IP_TEXT_MAX];
	const char	*s = nz(source), *e;
	size_t		n;

	memset(ni, 0, sizeof(*ni));
	if (*s == '[') {
		e = strchr(s, ']');
		s++;
		n = e != NULL ? (size_t)(e - s) : strlen(s);
	} else
		n = strlen(s);
	if (n < sizeof(buf))
		memcpy(buf, s, n);
	buf[n < sizeof(buf) ? n : 0] = '\0';
	if (!cf_ip_parse(buf, strlen(buf), &ip)) {
		(void)cf_strlcpy(ni->text, nz(source), sizeof(ni->text));
		(void)cf_strlcpy(ni->text16, ni->text, sizeof(ni->text16));
		ni->h = hash_str(ni->text);
		ni->net16 = (uint32_t)ni->h;
		return;
	}
	if (ip.family == 4) {
		cf_anom_net4_text(ip.a, 3, ni->text, sizeof(ni->text));
		cf_anom_net4_text(ip.a, 2, ni->text16, sizeof(ni->text16));
		ni->net16 = (uint32_t)ip.a[0] << 8 | ip.a[1];
	} else {
		memset(ip.a + 8, 0, 8);
		cf_ip_format(&ip, tmp);
		(void)snprintf(ni->text, sizeof(ni->text), "%s/64", tmp);
		memset(ip.a + 4, 0, 4);
		cf_ip_format(&ip, tmp);
		(void)snprintf(ni->text16, sizeof(ni->text16), "%s/32", tmp);
		ni->net16 = 0x80000000u ^ ((uint32_t)ip.a[0] << 24 |
		    (uint32_t)ip.a[1] << 16 | (uint32_t)ip.a[2] << 8 |
		    ip.a[3]);
	}
	ni->h = hash_str(ni->text);
}

static bool
is_denial(int status)
{
	return status == 401 || status == 403 || status == 404;
}

static bool
is_download(const struct cf_anom_event *ev)
{
	return ev->allowed && ev->status >= 200 && ev->status < 300 &&
	    strcmp(nz(ev->action), "object:get") == 0;
}

/* Records that are not anyone's doing: the detector's and the alerts'
 * own, and the completion records of requests already counted. */
static bool
skipped(const struct cf_anom_event *ev)
{
	const char	*act = nz(ev->action);

	return strcmp(act, CF_ANOM_ACTION) == 0 ||
	    strcmp(act, "alert:fired") == 0 ||
	    strcmp(act, "object:get:end") == 0 ||
	    strcmp(act, "request:end") == 0 ||
	    strcmp(nz(ev->principal), "system") == 0;
}

static struct day *
day_slot(struct prof *p, int64_t day)
{
	struct day	*d = &p->days[(size_t)(day % CF_ANOM_DAYS)];

	if (d->day != day) {
		memset(d, 0, sizeof(*d));
		d->day = day;
	}
	return d;
}

/* Baselines over the days before today in the window. */
struct base {
	uint64_t	active_days, events, denials;
	double		bytes_day, peak_objs;
	uint32_t	hour_days[24];	/* days active in each hour */
};

/* Read only when a rule needs it (most records need none): *have
 * says whether b holds it already.  Today's slot is not read, so this
 * may come before or after today's record is learned. */
static void
baseline(const struct prof *p, int64_t today, bool hours, struct base *b,
    bool *have)
{
	const struct day	*d;
	uint64_t		 bytes = 0, peak = 0;
	size_t			 i, h;

	if (*have)
		return;
	*have = true;
	memset(b, 0, sizeof(*b));
	for (i = 0; i < CF_ANOM_DAYS; i++) {
		d = &p->days[i];
		if (d->day < 0 || d->day >= today ||
		    d->day <= today - CF_ANOM_DAYS || d->events == 0)
			continue;
		b->active_days++;
		b->events += d->events;
		b->denials += d->denials;
		bytes += d->bytes;
		peak += d->peak_objs;
		for (h = 0; hours && h < 24; h++)
			if ((d->hours >> h & 1) != 0)
				b->hour_days[h]++;
	}
	if (b->active_days > 0) {
		b->bytes_day = (double)bytes / (double)b->active_days;
		b->peak_objs = (double)peak / (double)b->active_days;
	}
}

/* An hour is usual when it, or an hour next to it, was active on two
 * days of the window (one day, with fewer than four days of history). */
static bool
usual_hour(const struct base *b, int hour)
{
	uint32_t	need = b->active_days < 4 ? 1 : 2;
	int		k;

	for (k = -1; k <= 1; k++)
		if (b->hour_days[(hour + k + 24) % 24] >= need)
			return true;
	return false;
}

static void
hours_text(const struct base *b, char *out, size_t outsz)
{
	size_t	h, n = 0;
	int	w;

	w = snprintf(out, outsz, "usual hours (UTC):");
	n = w > 0 ? (size_t)w : 0;
	for (h = 0; h < 24 && n < outsz; h++) {
		if (b->hour_days[h] < (b->active_days < 4 ? 1u : 2u))
			continue;
		w = snprintf(out + n, outsz - n, " %02zu", h);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

static void
fmt_time(int64_t us, char out[32])
{
	time_t		t = (time_t)(us / US);
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	(void)strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A flag of kind for p, unless one was raised within the cooldown. */
static bool
raise_flag(struct cf_anom *a, struct prof *p,
    const struct cf_anom_event *ev, enum cf_anom_kind k,
    struct cf_anom_flag *out, size_t max, size_t *nout,
    const char *feature, const char *baseline_text, const char *observed)
{
	struct cf_anom_flag	*f;

	if (out == NULL || *nout >= max)
		return false;
	if (p->flag_us[k] != 0 && ev->time_us >= p->flag_us[k] &&
	    ev->time_us - p->flag_us[k] < a->cfg.cooldown_s * US)
		return false;
	p->flag_us[k] = ev->time_us;
	f = &out[(*nout)++];
	memset(f, 0, sizeof(*f));
	f->kind = k;
	f->score = kinds[k].weight;
	f->time_us = ev->time_us;
	(void)cf_strlcpy(f->principal, p->key, sizeof(f->principal));
	(void)cf_strlcpy(f->request_id, nz(ev->request_id),
	    sizeof(f->request_id));
	(void)cf_strlcpy(f->source, nz(ev->source), sizeof(f->source));
	(void)cf_strlcpy(f->feature, feature, sizeof(f->feature));
	(void)cf_strlcpy(f->baseline, baseline_text, sizeof(f->baseline));
	(void)cf_strlcpy(f->observed, observed, sizeof(f->observed));
	return true;
}

static struct net *
net_find(struct prof *p, uint64_t h, int64_t now)
{
	size_t	i;

	for (i = 0; i < p->nnets; i++)
		if (p->nets[i].h == h &&
		    now - p->nets[i].last_us < CF_ANOM_DAYS * DAY_US)
			return &p->nets[i];
	return NULL;
}

static bool
feat_has(const struct feat *v, size_t n, uint64_t h, int64_t now)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (v[i].h == h && now - v[i].last_us < CF_ANOM_DAYS * DAY_US)
			return true;
	return false;
}

/* Add or refresh h in v[0..*n), dropping the least recently seen one
 * when full; returns the slot. */
static size_t
feat_touch(struct feat *v, size_t *n, uint64_t h, int64_t now)
{
	size_t	i, old = 0;

	for (i = 0; i < *n; i++)
		if (v[i].h == h) {
			if (now > v[i].last_us)
				v[i].last_us = now;
			return i;
		}
	if (*n < CF_ANOM_FEATS)
		i = (*n)++;
	else {
		for (i = 1; i < *n; i++)
			if (v[i].last_us < v[old].last_us)
				old = i;
		i = old;
	}
	v[i].h = h;
	v[i].last_us = now;
	return i;
}

static void
net_touch(struct prof *p, const struct netinfo *ni, int64_t now)
{
	size_t	i, old = 0;

	for (i = 0; i < p->nnets; i++)
		if (p->nets[i].h == ni->h) {
			if (now > p->nets[i].last_us)
				p->nets[i].last_us = now;
			return;
		}
	if (p->nnets < CF_ANOM_FEATS)
		i = p->nnets++;
	else {
		for (i = 1; i < p->nnets; i++)
			if (p->nets[i].last_us < p->nets[old].last_us)
				old = i;
		i = old;
	}
	p->nets[i].h = ni->h;
	p->nets[i].last_us = now;
	(void)cf_strlcpy(p->nets[i].text, ni->text, sizeof(p->nets[i].text));
}

static void
nets_text(const struct prof *p, int64_t now, char *out, size_t outsz)
{
	size_t	i, k = 0, n;
	int	w;

	w = snprintf(out, outsz, "known networks:");
	n = w > 0 ? (size_t)w : 0;
	for (i = 0; i < p->nnets && n < outsz; i++) {
		if (now - p->nets[i].last_us >= CF_ANOM_DAYS * DAY_US)
			continue;
		if (k++ == 3) {
			(void)snprintf(out + n, outsz - n, " ...");
			break;
		}
		w = snprintf(out + n, outsz - n, " %s", p->nets[i].text);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/* The credential of ev as a key: its token, else its principal's. */
static uint64_t
cred_of(const struct cf_anom_event *ev)
{
	return hash_str(*nz(ev->credential) != '\0' ? ev->credential :
	    nz(ev->principal)) | 1;
}

static const struct recent *
travel(const struct prof *p, const struct cf_anom_event *ev,
    const struct netinfo *ni, uint64_t cred, int64_t travel_us)
{
	size_t	i;

	for (i = 0; i < RECENT_MAX; i++) {
		const struct recent *r = &p->recent[i];

		if (r->cred == cred && r->net16 != ni->net16 &&
		    ev->time_us >= r->at_us &&
		    ev->time_us - r->at_us <= travel_us)
			return r;
	}
	return NULL;
}

static void
recent_touch(struct prof *p, const struct netinfo *ni, uint64_t cred,
    int64_t now)
{
	size_t	i, old = 0;

	for (i = 0; i < RECENT_MAX; i++)
		if (p->recent[i].cred == cred &&
		    p->recent[i].net16 == ni->net16) {
			if (now > p->recent[i].at_us)
				p->recent[i].at_us = now;
			return;
		}
	for (i = 1; i < RECENT_MAX; i++)
		if (p->recent[i].at_us < p->recent[old].at_us)
			old = i;
	p->recent[old].cred = cred;
	p->recent[old].net16 = ni->net16;
	p->recent[old].at_us = now;
	(void)cf_strlcpy(p->recent[old].text, ni->text16,
	    sizeof(p->recent[old].text));
}

static void
profile_key(const struct cf_anom_event *ev, char key[CF_ANOM_KEY_MAX])
{
	if (*nz(ev->principal) != '\0')
		(void)cf_strlcpy(key, ev->principal, CF_ANOM_KEY_MAX);
	else
		cf_anom_addr_key(ev->source, key, CF_ANOM_KEY_MAX);
}

size_t
cf_anom_observe(struct cf_anom *a, const struct cf_anom_event *ev,
    struct cf_anom_flag *out, size_t max)
{
	char			 key[CF_ANOM_KEY_MAX], bt[CF_ANOM_TEXT_MAX];
	char			 ot[CF_ANOM_TEXT_MAX], ts[32];
	struct netinfo		 ni;
	struct base		 b;
	struct prof		*p;
	struct day		*d;
	const struct recent	*rt;
	const char		*ns = nz(ev->ns);
	uint64_t		 cred, nsh = 0, thr;
	int64_t			 t = ev->time_us, today, hour_abs;
	int			 hour;
	size_t			 nout = 0, i;
	bool			 authn, learned, seen_ns, denial;
	bool			 have_b = false;

	if (skipped(ev) || t < 0)
		return 0;
	profile_key(ev, key);
	p = get(a, key, hash_str(key));
	if (p == NULL)
		return 0;		/* NOMEM: the event is not learned */
	authn = *nz(ev->principal) != '\0';
	net_of(ev->source, &ni);
	today = t / DAY_US;
	hour_abs = t / HOUR_US;
	hour = (int)(hour_abs % 24);
	/* A principal only ever refused has no habits to break. */
	learned = p->allowed >= a->cfg.min_events;
	cred = cred_of(ev);
	denial = is_denial(ev->status);

	/* ---- before learning: what the profile did not know ---- */
	if (authn && p->events > 0 && t - p->last_us >= a->cfg.dormant_s *
	    US) {
		fmt_time(p->last_us, ts);
		(void)snprintf(bt, sizeof(bt), "last active %s", ts);
		(void)snprintf(ot, sizeof(ot), "active again after %lld days",
		    (long long)((t - p->last_us) / DAY_US));
		(void)raise_flag(a, p, ev, CF_ANOM_DORMANT, out, max, &nout,
		    "last_activity", bt, ot);
	}
	if (authn && learned && net_find(p, ni.h, t) == NULL) {
		nets_text(p, t, bt, sizeof(bt));
		(void)raise_flag(a, p, ev, CF_ANOM_NEW_NETWORK, out, max,
		    &nout, "source_network", bt, ni.text);
	}
	if (authn && (rt = travel(p, ev, &ni, cred,
	    a->cfg.travel_s * US)) != NULL) {
		fmt_time(rt->at_us, ts);
		(void)snprintf(bt, sizeof(bt), "%s %.50s at %.24s",
		    *nz(ev->credential) != '\0' ? "token" : "credentials",
		    rt->text, ts);
		(void)snprintf(ot, sizeof(ot), "%s %lld s later", ni.text16,
		    (long long)((t - rt->at_us) / US));
		(void)raise_flag(a, p, ev, CF_ANOM_TWO_NETWORKS, out, max,
		    &nout, "credential_network", bt, ot);
	}
	if (authn && learned && ev->restricted)
		baseline(p, today, true, &b, &have_b);
	/* A week of history at least: hours learned from two or three
	 * days are not habits yet. */
	if (authn && learned && ev->restricted && b.active_days >= 4 &&
	    !usual_hour(&b, hour)) {
		hours_text(&b, bt, sizeof(bt));
		(void)snprintf(ot, sizeof(ot), "hour %02d UTC (restricted "
		    "data in %.40s)", hour, ns);
		(void)raise_flag(a, p, ev, CF_ANOM_OFF_HOURS, out, max, &nout,
		    "hour_of_day", bt, ot);
	}
	if (*ns != '\0')
		nsh = hash_str(ns);
	seen_ns = *ns == '\0' || feat_has(p->nss, p->nnss, nsh, t);
	if (authn && learned && !seen_ns) {
		if (p->nsnew_hour != hour_abs) {
			p->nsnew_hour = hour_abs;
			p->nnsnew = 0;
		}
		for (i = 0; i < p->nnsnew && p->nsnew[i] != nsh; i++)
			;
		if (i == p->nnsnew && p->nnsnew < NSNEW_MAX)
			p->nsnew[p->nnsnew++] = nsh;
		if (p->nnsnew >= a->cfg.ns_spread) {
			(void)snprintf(bt, sizeof(bt), "%zu namespaces used "
			    "in %d days", p->nnss, CF_ANOM_DAYS);
			(void)snprintf(ot, sizeof(ot), "%zu new namespaces "
			    "within an hour (last %.40s)", p->nnsnew, ns);
			(void)raise_flag(a, p, ev, CF_ANOM_NAMESPACES, out,
			    max, &nout, "namespaces", bt, ot);
		}
	}

	/* ---- learn ---- */
	if (p->events == 0 || t < p->first_us)
		p->first_us = t;
	if (t > p->last_us)
		p->last_us = t;
	p->events++;
	d = day_slot(p, today);
	d->events++;
	d->hours |= 1u << hour;
	if (denial)
		d->denials++;
	if (is_download(ev)) {
		if (p->hour_abs != hour_abs) {
			p->prev_hour_objs = p->hour_abs == hour_abs - 1 ?
			    p->hour_objs : 0;
			p->hour_abs = hour_abs;
			p->hour_objs = 0;
		}
		p->hour_objs++;
		/* A sliding hour, not the clock's: this hour's count and the
		 * part of the last one still inside the 60 minutes (taken as
		 * spread evenly), so a burst across the hour's turn counts
		 * whole. */
		p->win_objs = p->hour_objs + (uint64_t)((double)
		    p->prev_hour_objs * (1.0 - (double)(t % HOUR_US) /
		    (double)HOUR_US));
		d->objs++;
		d->bytes += ev->bytes;
		if (p->win_objs > d->peak_objs)
			d->peak_objs = p->win_objs;
	}
	if (ev->allowed) {
		p->allowed++;
		net_touch(p, &ni, t);
		if (*ns != '\0')
			(void)feat_touch(p->nss, &p->nnss, nsh, t);
	}
	(void)feat_touch(p->acts, &p->nacts, hash_str(nz(ev->action)), t);
	if (authn)
		recent_touch(p, &ni, cred, t);

	/* ---- after learning: counts that crossed a line ---- */
	if (is_download(ev)) {
		baseline(p, today, false, &b, &have_b);
		thr = (uint64_t)(b.bytes_day * (double)a->cfg.bulk_factor);
		if (thr < a->cfg.bulk_min_bytes)
			thr = a->cfg.bulk_min_bytes;
		if (d->bytes > thr && d->bytes - ev->bytes <= thr) {
			(void)snprintf(bt, sizeof(bt), "%.0f bytes/day (mean "
			    "of %llu days); threshold %llu", b.bytes_day,
			    (unsigned long long)b.active_days,
			    (unsigned long long)thr);
			(void)snprintf(ot, sizeof(ot), "%llu bytes today",
			    (unsigned long long)d->bytes);
			(void)raise_flag(a, p, ev, CF_ANOM_BULK, out, max,
			    &nout, "bytes_per_day", bt, ot);
		}
		thr = (uint64_t)(b.peak_objs * (double)a->cfg.bulk_factor);
		if (thr < a->cfg.bulk_min_objects)
			thr = a->cfg.bulk_min_objects;
		if (p->win_objs > thr) {
			(void)snprintf(bt, sizeof(bt), "%.1f objects in the "
			    "busiest hour (mean of %llu days); threshold %llu",
			    b.peak_objs, (unsigned long long)b.active_days,
			    (unsigned long long)thr);
			(void)snprintf(ot, sizeof(ot), "%llu objects in the "
			    "last hour", (unsigned long long)p->win_objs);
			(void)raise_flag(a, p, ev, CF_ANOM_BULK, out, max,
			    &nout, "objects_per_hour", bt, ot);
		}
	}
	if (denial) {
		if (p->deny_n == 0 || t < p->deny_start_us ||
		    t - p->deny_start_us > a->cfg.enum_window_s * US) {
			p->deny_start_us = t;
			p->deny_n = 0;
		}
		p->deny_n++;
		if (p->deny_n == a->cfg.enum_denials) {
			baseline(p, today, false, &b, &have_b);
			(void)snprintf(bt, sizeof(bt), "%llu of %llu requests "
			    "refused or not found in %llu days",
			    (unsigned long long)b.denials,
			    (unsigned long long)b.events,
			    (unsigned long long)b.active_days);
			(void)snprintf(ot, sizeof(ot), "%llu 401/403/404 "
			    "within %lld s", (unsigned long long)p->deny_n,
			    (long long)((t - p->deny_start_us) / US));
			(void)raise_flag(a, p, ev, CF_ANOM_ENUMERATION, out,
			    max, &nout, "denials", bt, ot);
		}
	}
	return nout;
}

void
cf_anom_note(struct cf_anom *a, const struct cf_anom_flag *f)
{
	struct prof	*p;

	if ((int)f->kind < 0 || f->kind >= CF_ANOM_NKINDS)
		return;
	p = get(a, f->principal, hash_str(f->principal));
	if (p != NULL && f->time_us > p->flag_us[f->kind])
		p->flag_us[f->kind] = f->time_us;
}

static uint32_t
recent_kinds(const struct cf_anom *a, const struct prof *p, int64_t t)
{
	uint32_t	m = 0;
	int		k;

	for (k = 0; k < CF_ANOM_NKINDS; k++)
		if (p->flag_us[k] != 0 && t >= p->flag_us[k] &&
		    t - p->flag_us[k] < a->cfg.risk_window_s * US)
			m |= 1u << k;
	return m;
}

int
cf_anom_risk(struct cf_anom *a, const struct cf_anom_event *ev,
    uint32_t *kinds_out)
{
	char		 key[CF_ANOM_KEY_MAX];
	struct netinfo	 ni;
	struct prof	*p;
	uint32_t	 m = 0;
	int		 score = 0, k;

	cf_anom_addr_key(ev->source, key, sizeof(key));
	p = find(a, key, hash_str(key));
	if (p != NULL)
		m |= recent_kinds(a, p, ev->time_us);
	if (*nz(ev->principal) != '\0') {
		p = find(a, ev->principal, hash_str(ev->principal));
		if (p != NULL) {
			m |= recent_kinds(a, p, ev->time_us);
			net_of(ev->source, &ni);
			if (p->events > 0 && ev->time_us - p->last_us >=
			    a->cfg.dormant_s * US)
				m |= 1u << CF_ANOM_DORMANT;
			if (p->allowed >= a->cfg.min_events &&
			    net_find(p, ni.h, ev->time_us) == NULL)
				m |= 1u << CF_ANOM_NEW_NETWORK;
			if (travel(p, ev, &ni, cred_of(ev),
			    a->cfg.travel_s * US) != NULL)
				m |= 1u << CF_ANOM_TWO_NETWORKS;
		}
	}
	for (k = 0; k < CF_ANOM_NKINDS; k++)
		if ((m >> k & 1) != 0)
			score += kinds[k].weight;
	*kinds_out = m;
	return score > 100 ? 100 : score;
}

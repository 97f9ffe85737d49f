/* src/policy/value.c: arenas, entity references, Cedar values, the
 * extension types' string formats, and Cedar's JSON value format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "policy_int.h"

/*
 * Arenas.
 */
#define ARENA_CHUNK	(16u * 1024)

struct cf_pol_chunk {
	struct cf_pol_chunk	*next;
	size_t			 cap;
	size_t			 used;
	size_t			 pad;
	unsigned char		 data[];
};

void
cf_pol_arena_init(struct cf_pol_arena *a)
{
	a->head = NULL;
	a->total = 0;
	a->first = 0;
}

void *
cf_pol_arena_alloc(struct cf_pol_arena *a, size_t n)
{
	struct cf_pol_chunk	*c = a->head;
	size_t			 cap, sz;
	void			*p;

	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (c == NULL || c->cap - c->used < n) {
		cap = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
		/* A store kept for long starts small (cf_entities_build_over
		 * with CF_ENTITIES_SMALL). */
		if (c == NULL && a->first != 0 && n <= a->first)
			cap = a->first;
		if (c != NULL && c->cap >= ARENA_CHUNK && cap == ARENA_CHUNK &&
		    c->cap < 1024 * 1024)
			cap = c->cap * 2;	/* grow geometrically */
		if (!cf_add_ok(cap, sizeof(*c), &sz))
			return NULL;
		c = cf_malloc(sz);
		if (c == NULL)
			return NULL;
		c->cap = cap;
		c->used = 0;
		if (n > ARENA_CHUNK / 4 && a->head != NULL) {
			/* A big one-off: keep filling the current chunk. */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
		a->total += sz;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

void *
cf_pol_arena_calloc(struct cf_pol_arena *a, size_t nmemb, size_t sz)
{
	size_t	 n;
	void	*p;

	if (!cf_mul_ok(nmemb, sz, &n))
		return NULL;
	p = cf_pol_arena_alloc(a, n);
	if (p != NULL)
		memset(p, 0, n);
	return p;
}

char *
cf_pol_arena_strdup(struct cf_pol_arena *a, const char *s, size_t n)
{
	char	*p;
	size_t	 sz;

	if (!cf_add_ok(n, 1, &sz))
		return NULL;
	p = cf_pol_arena_alloc(a, sz);
	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
cf_pol_arena_reset(struct cf_pol_arena *a)
{
	struct cf_pol_chunk	*c, *next;

	if (a->head == NULL)
		return;
	for (c = a->head->next; c != NULL; c = next) {
		next = c->next;
		cf_free(c);
	}
	a->head->next = NULL;
	a->head->used = 0;
	a->total = a->head->cap + sizeof(*a->head);
}

void
cf_pol_arena_free(struct cf_pol_arena *a)
{
	struct cf_pol_chunk	*c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		cf_free(c);
	}
	a->head = NULL;
	a->total = 0;
}

/*
 * Entity references.
 */
uint64_t
cf_pol_hash(const char *type, size_t tlen, const char *id, size_t ilen)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	size_t		i;

	for (i = 0; i < tlen; i++) {
		h ^= (unsigned char)type[i];
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff;		/* separator: no type/id split collides */
	h *= 0x100000001b3ULL;
	for (i = 0; i < ilen; i++) {
		h ^= (unsigned char)id[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

const struct cf_pol_uid *
cf_pol_uid_new(struct cf_pol_arena *a, const char *type, size_t tlen,
    const char *id, size_t ilen)
{
	struct cf_pol_uid	*u;
	char			*t, *i;
	size_t			 sz;

	if (tlen > UINT32_MAX || ilen > UINT32_MAX)
		return NULL;
	/* One allocation: the uid, then its type and id, each with a NUL
	 * (entities are built for every decision). */
	if (!cf_add_ok(sizeof(*u), tlen, &sz) || !cf_add_ok(sz, ilen, &sz) ||
	    !cf_add_ok(sz, 2, &sz))
		return NULL;
	u = cf_pol_arena_alloc(a, sz);
	if (u == NULL)
		return NULL;
	t = (char *)(u + 1);
	i = t + tlen + 1;
	if (tlen > 0)
		memcpy(t, type, tlen);
	t[tlen] = '\0';
	if (ilen > 0)
		memcpy(i, id, ilen);
	i[ilen] = '\0';
	u->type = t;
	u->id = i;
	u->tlen = (uint32_t)tlen;
	u->ilen = (uint32_t)ilen;
	u->hash = cf_pol_hash(type, tlen, id, ilen);
	return u;
}

void
cf_pol_escape(const char *p, size_t n, char *out, size_t outsz)
{
	size_t	i, o = 0;

	if (outsz == 0)
		return;
	for (i = 0; i < n && o + 8 < outsz; i++) {
		unsigned char	c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else {
			(void)snprintf(out + o, outsz - o, "\\x%02x", c);
			o += 4;
		}
	}
	if (i < n && o + 4 <= outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/*
 * Values.
 */
const char *
cf_pol_kind_name(int kind)
{
	switch (kind) {
	case PV_BOOL:
		return "bool";
	case PV_LONG:
		return "long";
	case PV_STR:
		return "string";
	case PV_ENTITY:
		return "entity";
	case PV_SET:
		return "set";
	case PV_RECORD:
		return "record";
	case PV_DECIMAL:
		return "decimal";
	case PV_IP:
		return "ipaddr";
	case PV_DATETIME:
		return "datetime";
	case PV_DURATION:
		return "duration";
	default:
		return "unknown";
	}
}

int
cf_pol_key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t	n = an < bn ? an : bn;
	int	c;

	c = n == 0 ? 0 : memcmp(a, b, n);
	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn ? 1 : 0;
}

static int
field_cmp(const void *x, const void *y)
{
	const struct cf_pol_field	*a = x, *b = y;

	/* Most keys differ in their first byte: decided without memcmp
	 * (cf_pol_key_cmp's order: bytewise, unsigned). */
	if (a->kn > 0 && b->kn > 0 && a->k[0] != b->k[0])
		return (unsigned char)a->k[0] < (unsigned char)b->k[0] ?
		    -1 : 1;
	return cf_pol_key_cmp(a->k, a->kn, b->k, b->kn);
}

bool
cf_pol_rec_sort(struct cf_pol_rec *r)
{
	struct cf_pol_field	tmp;
	size_t			i, j;
	int			c;

	/* Records of a few fields (the entities and context a program
	 * builds for each decision) are sorted in place: qsort's set-up
	 * cost more than the sort. */
	if (r->n <= 16) {
		/* Inserting a key into the sorted ones before it meets an
		 * equal key, if any, before a smaller one: duplicates are
		 * found here, without a second pass. */
		for (i = 1; i < r->n; i++) {
			tmp = r->f[i];
			for (j = i; j > 0; j--) {
				c = field_cmp(&r->f[j - 1], &tmp);
				if (c == 0)
					return false;
				if (c < 0)
					break;
				r->f[j] = r->f[j - 1];
			}
			r->f[j] = tmp;
		}
		return true;
	}
	qsort(r->f, r->n, sizeof(r->f[0]), field_cmp);
	for (i = 1; i < r->n; i++)
		if (field_cmp(&r->f[i - 1], &r->f[i]) == 0)
			return false;
	return true;
}

/* Records up to this size are searched linearly, comparing lengths
 * first: the entities and contexts of a decision hold a few fields, and
 * the binary search's full comparisons cost more (bench/authz). */
#define REC_LINEAR	12

const struct cf_pol_val *
cf_pol_rec_get(const struct cf_pol_rec *r, const char *k, size_t kn)
{
	size_t	lo = 0, hi = r->n, mid;
	int	c;

	if (r->n <= REC_LINEAR) {
		for (mid = 0; mid < r->n; mid++)
			if (r->f[mid].kn == kn && (kn == 0 ||
			    memcmp(r->f[mid].k, k, kn) == 0))
				return &r->f[mid].v;
		return NULL;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = cf_pol_key_cmp(r->f[mid].k, r->f[mid].kn, k, kn);
		if (c == 0)
			return &r->f[mid].v;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
set_has(const struct cf_pol_set *s, const struct cf_pol_val *v,
    uint64_t *budget)
{
	size_t	i;
	int	r;

	for (i = 0; i < s->n; i++) {
		r = cf_pol_val_eq_budget(&s->v[i], v, budget);
		if (r != 0)
			return r;
	}
	return 0;
}

int
cf_pol_val_eq_budget(const struct cf_pol_val *x, const struct cf_pol_val *y,
    uint64_t *budget)
{
	size_t	i;
	int	r;

	/* SEC: sets compare in quadratic time and nest, so every pair of
	 * values compared is paid for: large entity data cannot make one
	 * comparison take unbounded time. */
	if (*budget == 0)
		return -1;
	(*budget)--;
	if (x->kind != y->kind)
		return 0;
	switch (x->kind) {
	case PV_BOOL:
		return x->u.b == y->u.b;
	case PV_LONG:
	case PV_DECIMAL:
	case PV_DATETIME:
	case PV_DURATION:
		return x->u.i == y->u.i;
	case PV_STR:
		return x->u.s.n == y->u.s.n && (x->u.s.n == 0 ||
		    memcmp(x->u.s.p, y->u.s.p, x->u.s.n) == 0);
	case PV_ENTITY:
		return cf_pol_uid_eq(x->u.e, y->u.e);
	case PV_IP:
		return x->ipv6 == y->ipv6 && x->prefix == y->prefix &&
		    memcmp(x->u.ip, y->u.ip, 16) == 0;
	case PV_SET:
		/* Sets may hold duplicates: compare as sets. */
		for (i = 0; i < x->u.set->n; i++) {
			r = set_has(y->u.set, &x->u.set->v[i], budget);
			if (r != 1)
				return r;
		}
		for (i = 0; i < y->u.set->n; i++) {
			r = set_has(x->u.set, &y->u.set->v[i], budget);
			if (r != 1)
				return r;
		}
		return 1;
	case PV_RECORD:
		if (x->u.rec->n != y->u.rec->n)
			return 0;
		for (i = 0; i < x->u.rec->n; i++) {
			if (cf_pol_key_cmp(x->u.rec->f[i].k, x->u.rec->f[i].kn,
			    y->u.rec->f[i].k, y->u.rec->f[i].kn) != 0)
				return 0;
			r = cf_pol_val_eq_budget(&x->u.rec->f[i].v,
			    &y->u.rec->f[i].v, budget);
			if (r != 1)
				return r;
		}
		return 1;
	default:
		return 0;
	}
}

bool
cf_pol_val_eq(const struct cf_pol_val *x, const struct cf_pol_val *y)
{
	uint64_t	budget = UINT64_MAX;

	return cf_pol_val_eq_budget(x, y, &budget) == 1;
}

/*
 * Extension types.
 */
static bool
isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* decimal: -?[0-9]+\.[0-9]{1,4}, scaled by 10^4, within int64. */
int
cf_pol_parse_decimal(const char *s, size_t n, int64_t *out)
{
	size_t		i = 0, fd = 0;
	bool		neg = false;
	uint64_t	mag = 0, lim;

	if (i < n && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= n || !isdig(s[i]))
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n && isdig(s[i]); i++) {
		if (mag > (UINT64_MAX - 9) / 10)
			return -1;
		mag = mag * 10 + (uint64_t)(s[i] - '0');
		if (mag > lim)
			return -1;
	}
	if (i >= n || s[i] != '.')
		return -1;
	i++;
	if (mag > lim / 10000)
		return -1;
	mag *= 10000;
	for (; i < n && isdig(s[i]); i++, fd++) {
		if (fd >= 4)
			return -1;
	}
	if (fd == 0 || i != n)
		return -1;
	{
		uint64_t	frac = 0;
		size_t		k, start = n - fd;

		for (k = 0; k < 4; k++)
			frac = frac * 10 + (k < fd ?
			    (uint64_t)(s[start + k] - '0') : 0);
		if (mag > lim - frac)
			return -1;
		mag += frac;
	}
	if (neg)
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
		    -(int64_t)mag;
	else
		*out = (int64_t)mag;
	return 0;
}

/* Rust's Ipv4Addr syntax: four decimal octets without leading zeros. */
static int
parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
	size_t		i = 0, part, nd;
	unsigned int	v;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return -1;
			i++;
		}
		v = 0;
		nd = 0;
		while (i < n && isdig(s[i]) && nd < 3) {
			v = v * 10 + (unsigned int)(s[i] - '0');
			i++;
			nd++;
		}
		if (nd == 0 || v > 255 || (nd > 1 && s[i - nd] == '0'))
			return -1;
		out[part] = (uint8_t)v;
	}
	return i == n ? 0 : -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read up to limit groups of 1-4 hex digits separated by ':'; returns the
 * count, advancing *ip past what was consumed. */
static size_t
read_groups(const char *s, size_t n, size_t *ip, uint16_t *g, size_t limit)
{
	size_t		i = *ip, k, save, nd;
	unsigned int	v;
	int		h;

	for (k = 0; k < limit; k++) {
		save = i;
		if (k > 0) {
			if (i >= n || s[i] != ':') {
				*ip = save;
				return k;
			}
			i++;
		}
		v = 0;
		nd = 0;
		while (i < n && nd < 4 && (h = hexval(s[i])) >= 0) {
			v = v * 16 + (unsigned int)h;
			i++;
			nd++;
		}
		if (nd == 0) {
			*ip = save;
			return k;
		}
		g[k] = (uint16_t)v;
		*ip = i;
	}
	return limit;
}

/* Rust's Ipv6Addr syntax without embedded IPv4 (Cedar rejects that). */
static int
parse_ipv6(const char *s, size_t n, uint8_t out[16])
{
	uint16_t	head[8] = { 0 }, tail[7] = { 0 };
	size_t		i = 0, nh, nt, k;

	nh = read_groups(s, n, &i, head, 8);
	if (nh < 8) {
		if (i + 1 >= n || s[i] != ':' || s[i + 1] != ':')
			return -1;
		i += 2;
		nt = read_groups(s, n, &i, tail, 8 - (nh + 1));
		for (k = 0; k < nt; k++)
			head[8 - nt + k] = tail[k];
	}
	if (i != n)
		return -1;
	for (k = 0; k < 8; k++) {
		out[2 * k] = (uint8_t)(head[k] >> 8);
		out[2 * k + 1] = (uint8_t)head[k];
	}
	return 0;
}

static int
parse_addr(const char *s, size_t n, struct cf_pol_val *out)
{
	memset(out->u.ip, 0, 16);
	if (parse_ipv4(s, n, out->u.ip) == 0) {
		out->ipv6 = 0;
		return 0;
	}
	if (parse_ipv6(s, n, out->u.ip) == 0) {
		out->ipv6 = 1;
		return 0;
	}
	return -1;
}

static size_t
count_char(const char *s, size_t n, char c)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++)
		if (s[i] == c)
			k++;
	return k;
}

int
cf_pol_parse_ip(const char *s, size_t n, struct cf_pol_val *out)
{
	const char	*slash;
	size_t		 an, pn, i;
	unsigned int	 pfx = 0, max;

	if (n > 43)
		return -1;
	if (count_char(s, n, ':') >= 2 && count_char(s, n, '.') >= 2)
		return -1;
	out->kind = PV_IP;
	slash = memchr(s, '/', n);
	if (slash == NULL) {
		if (parse_addr(s, n, out) != 0)
			return -1;
		out->prefix = out->ipv6 ? 128 : 32;
		return 0;
	}
	an = (size_t)(slash - s);
	pn = n - an - 1;
	if (parse_addr(s, an, out) != 0)
		return -1;
	max = out->ipv6 ? 128 : 32;
	if (pn == 0 || pn > (out->ipv6 ? 3u : 2u))
		return -1;
	for (i = 0; i < pn; i++) {
		if (!isdig(slash[1 + i]))
			return -1;
		pfx = pfx * 10 + (unsigned int)(slash[1 + i] - '0');
	}
	if ((pn > 1 && slash[1] == '0') || pfx > max)
		return -1;
	out->prefix = (uint8_t)pfx;
	return 0;
}

static int
digits(const char *s, size_t n, size_t at, size_t k, unsigned int *out)
{
	size_t		i;
	unsigned int	v = 0;

	if (at + k > n)
		return -1;
	for (i = 0; i < k; i++) {
		if (!isdig(s[at + i]))
			return -1;
		v = v * 10 + (unsigned int)(s[at + i] - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t		era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
leap(unsigned int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* YYYY-MM-DD, optionally followed by Thh:mm:ss then Z, .SSSZ, (+|-)hhmm
 * or .SSS(+|-)hhmm.  The value is ms since the epoch, UTC. */
int
cf_pol_parse_datetime(const char *s, size_t n, int64_t *out)
{
	static const unsigned int mdays[12] = { 31, 28, 31, 30, 31, 30, 31,
	    31, 30, 31, 30, 31 };
	unsigned int	y, mo, d, h = 0, mi = 0, se = 0, ms = 0, oh = 0, om = 0;
	size_t		i = 10;
	int64_t		v, off = 0;
	unsigned int	dim;

	if (digits(s, n, 0, 4, &y) != 0 || n < 10 || s[4] != '-' ||
	    digits(s, n, 5, 2, &mo) != 0 || s[7] != '-' ||
	    digits(s, n, 8, 2, &d) != 0)
		return -1;
	if (n > 10) {
		if (s[10] != 'T' || digits(s, n, 11, 2, &h) != 0 ||
		    n < 14 || s[13] != ':' || digits(s, n, 14, 2, &mi) != 0 ||
		    n < 17 || s[16] != ':' || digits(s, n, 17, 2, &se) != 0)
			return -1;
		i = 19;
		if (i < n && s[i] == '.') {
			if (digits(s, n, i + 1, 3, &ms) != 0)
				return -1;
			i += 4;
		}
		if (i >= n)
			return -1;
		if (s[i] == 'Z') {
			i++;
		} else if (s[i] == '+' || s[i] == '-') {
			if (digits(s, n, i + 1, 2, &oh) != 0 ||
			    digits(s, n, i + 3, 2, &om) != 0)
				return -1;
			off = (int64_t)oh * 3600 + (int64_t)om * 60;
			if (s[i] == '+')
				off = -off;
			i += 5;
		} else
			return -1;
		if (i != n)
			return -1;
	}
	if (mo < 1 || mo > 12 || d < 1)
		return -1;
	dim = mdays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0);
	if (d > dim)
		return -1;
	if (h > 23 || mi > 59 || se > 59)
		return -1;
	if (oh >= 24 || om >= 60)
		return -1;
	v = days_from_civil((int64_t)y, mo, d) * 86400 + (int64_t)h * 3600 +
	    (int64_t)mi * 60 + se + off;
	*out = v * 1000 + ms;
	return 0;
}

/* -?(Nd)?(Nh)?(Nm)?(Ns)?(Nms)?, at least one part, within int64 ms. */
int
cf_pol_parse_duration(const char *s, size_t n, int64_t *out)
{
	static const struct {
		const char	*u;
		size_t		 ulen;
		int64_t		 mul;
	} units[5] = {
		{ "d", 1, 86400000 }, { "h", 1, 3600000 }, { "m", 1, 60000 },
		{ "s", 1, 1000 }, { "ms", 2, 1 }
	};
	uint64_t	q[5] = { 0 };
	size_t		i = 0, u = 0, st, k;
	bool		neg = false, any = false;
	__int128	acc = 0;

	if (i < n && s[i] == '-') {
		neg = true;
		i++;
	}
	while (i < n) {
		uint64_t	v = 0;
		bool		ovf = false;

		st = i;
		while (i < n && isdig(s[i])) {
			if (v > (UINT64_MAX - 9) / 10 &&
			    (v > UINT64_MAX / 10 ||
			    (uint64_t)(s[i] - '0') > UINT64_MAX - v * 10))
				ovf = true;
			else
				v = v * 10 + (uint64_t)(s[i] - '0');
			i++;
		}
		if (i == st)
			return -1;
		/* Find the unit: "ms" must be tried before "m". */
		for (k = u; k < 5; k++) {
			if (k == 2 && i + 1 < n && s[i] == 'm' &&
			    s[i + 1] == 's')
				continue;
			if (i + units[k].ulen <= n &&
			    memcmp(s + i, units[k].u, units[k].ulen) == 0)
				break;
		}
		if (k == 5)
			return -1;
		if (ovf)
			return -2;
		q[k] = v;
		i += units[k].ulen;
		u = k + 1;
		any = true;
	}
	if (!any)
		return -1;
	/* Cedar adds ms, s, m, h, d in this order, each checked. */
	for (k = 5; k-- > 0;) {
		__int128	t;

		if (k < 4 && q[k] > (uint64_t)INT64_MAX)
			return -2;
		t = (__int128)q[k] * units[k].mul;
		if (k < 4 && t > INT64_MAX)
			return -2;
		acc += neg ? -t : t;
		if (acc > INT64_MAX || acc < INT64_MIN)
			return -2;
	}
	*out = (int64_t)acc;
	return 0;
}

/*
 * Cedar's JSON value format, without a schema.
 */
cf_err
cf_pol_json_uid(struct cf_pol_arena *a, const json_t *j, const char *what,
    const struct cf_pol_uid **out, struct cf_error *err)
{
	const json_t		*t, *i, *e;
	const struct cf_pol_uid	*u;

	if (!json_is_object(j))
		return cf_error_set(err, CF_E_INPUT,
		    "%s: expected an entity reference object", what);
	/* As in Cedar, members beside these are ignored. */
	e = json_object_get(j, "__entity");
	if (e != NULL) {
		j = e;
		if (!json_is_object(j))
			return cf_error_set(err, CF_E_INPUT,
			    "%s: __entity must be an object", what);
	}
	t = json_object_get(j, "type");
	i = json_object_get(j, "id");
	if (!json_is_string(t) || !json_is_string(i))
		return cf_error_set(err, CF_E_INPUT,
		    "%s: expected {\"type\": string, \"id\": string}", what);
	if (!cf_pol_valid_type(json_string_value(t), json_string_length(t)))
		return cf_error_set(err, CF_E_INPUT,
		    "%s: invalid entity type name", what);
	u = cf_pol_uid_new(a, json_string_value(t), json_string_length(t),
	    json_string_value(i), json_string_length(i));
	if (u == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	*out = u;
	return CF_OK;
}

static cf_err
json_extn(struct cf_pol_arena *a, const json_t *x, struct cf_pol_val *out,
    int depth, struct cf_error *err)
{
	const json_t		*fn, *arg, *args;
	struct cf_pol_val	 av[2];
	const char		*f, *msg = NULL;
	size_t			 n, i;
	bool			 method;
	int			 id, r;
	cf_err			 rc;

	if (!json_is_object(x))
		return cf_error_set(err, CF_E_INPUT,
		    "__extn must be an object");
	fn = json_object_get(x, "fn");
	arg = json_object_get(x, "arg");
	args = json_object_get(x, "args");
	if (!json_is_string(fn) || (arg == NULL && args == NULL))
		return cf_error_set(err, CF_E_INPUT, "__extn must be "
		    "{\"fn\": string, \"arg\": value} or {\"fn\": string, "
		    "\"args\": [values]}");
	f = json_string_value(fn);
	id = cf_pol_fn_lookup(f, json_string_length(fn), &method);
	if (id == 0)
		return cf_error_set(err, CF_E_INPUT,
		    "unknown extension function \"%s\"", f);
	if (arg != NULL) {		/* extra members are ignored */
		n = 1;
		rc = cf_pol_json_value(a, arg, &av[0], depth + 1, err);
		if (rc != CF_OK)
			return rc;
	} else {
		if (!json_is_array(args))
			return cf_error_set(err, CF_E_INPUT,
			    "__extn args must be an array");
		n = json_array_size(args);
		if (n != (size_t)cf_pol_ext_arity(id))
			return cf_error_set(err, CF_E_INPUT, "wrong number of "
			    "arguments to extension function %s", f);
		for (i = 0; i < n; i++) {
			rc = cf_pol_json_value(a, json_array_get(args, i),
			    &av[i], depth + 1, err);
			if (rc != CF_OK)
				return rc;
		}
	}
	r = cf_pol_ext_call(a, id, av, n, out, &msg);
	if (r == -2)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	if (r != 0)
		return cf_error_set(err, CF_E_INPUT, "extension function %s: "
		    "%s", f, msg != NULL ? msg : "failed");
	(void)method;
	return CF_OK;
}

cf_err
cf_pol_json_value(struct cf_pol_arena *a, const json_t *j,
    struct cf_pol_val *out, int depth, struct cf_error *err)
{
	struct cf_pol_set	*set;
	struct cf_pol_rec	*rec;
	const json_t		*m;
	const char		*k;
	size_t			 i, kn, n;
	cf_err			 rc;

	if (depth > CF_POLICY_MAX_JSON_DEPTH)
		return cf_error_set(err, CF_E_LIMIT, "value nested too deeply");
	memset(out, 0, sizeof(*out));
	switch (json_typeof(j)) {
	case JSON_TRUE:
	case JSON_FALSE:
		out->kind = PV_BOOL;
		out->u.b = json_is_true(j);
		return CF_OK;
	case JSON_INTEGER:
		out->kind = PV_LONG;
		out->u.i = (int64_t)json_integer_value(j);
		return CF_OK;
	case JSON_STRING:
		out->kind = PV_STR;
		out->u.s.n = json_string_length(j);
		out->u.s.p = cf_pol_arena_strdup(a, json_string_value(j),
		    out->u.s.n);
		if (out->u.s.p == NULL)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		return CF_OK;
	case JSON_ARRAY:
		n = json_array_size(j);
		set = cf_pol_arena_calloc(a, 1, sizeof(*set) +
		    n * sizeof(set->v[0]));
		if (set == NULL)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		for (i = 0; i < n; i++) {
			rc = cf_pol_json_value(a, json_array_get(j, i),
			    &set->v[i], depth + 1, err);
			if (rc != CF_OK)
				return rc;
		}
		set->n = n;
		out->kind = PV_SET;
		out->u.set = set;
		return CF_OK;
	case JSON_OBJECT:
		if (json_object_get(j, "__entity") != NULL) {
			out->kind = PV_ENTITY;
			return cf_pol_json_uid(a, j, "entity", &out->u.e, err);
		}
		if ((m = json_object_get(j, "__extn")) != NULL)
			return json_extn(a, m, out, depth, err);
		if (json_object_get(j, "__expr") != NULL)
			return cf_error_set(err, CF_E_INPUT,
			    "the __expr escape is not supported");
		n = json_object_size(j);
		rec = cf_pol_arena_calloc(a, 1, sizeof(*rec) +
		    n * sizeof(rec->f[0]));
		if (rec == NULL)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		i = 0;
		json_object_keylen_foreach((json_t *)(uintptr_t)j, k, kn, m) {
			if (i >= n)
				break;
			rec->f[i].kn = kn;
			rec->f[i].k = cf_pol_arena_strdup(a, k, kn);
			if (rec->f[i].k == NULL)
				return cf_error_set(err, CF_E_NOMEM,
				    "out of memory");
			rc = cf_pol_json_value(a, m, &rec->f[i].v, depth + 1,
			    err);
			if (rc != CF_OK)
				return rc;
			i++;
		}
		rec->n = i;
		if (!cf_pol_rec_sort(rec))
			return cf_error_set(err, CF_E_INPUT,
			    "duplicate key in record");
		out->kind = PV_RECORD;
		out->u.rec = rec;
		return CF_OK;
	case JSON_REAL:
		return cf_error_set(err, CF_E_INPUT,
		    "numbers must be integers");
	case JSON_NULL:
	default:
		return cf_error_set(err, CF_E_INPUT, "null is not a value");
	}
}

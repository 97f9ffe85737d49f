/* src/server/routes.c: the route matcher of the HTTP front end (see
 * http_int.h; the table itself is in http.c, next to its handlers, and
 * docs/internals/HTTP.md describes both).
 *
 * A pattern is literal bytes and typed captures, "{ns}", "{name}",
 * "{role}", "{id}" (one path segment each, with the bounds below) and
 * "{key...}" (the rest of the path, slashes included, possibly empty).
 * Matching walks the pattern and the path once, byte by byte: no
 * allocation, no recursion, no backtracking, O(pattern + path) per row.
 * The path is the one libmicrohttpd hands us, already percent-decoded by
 * cf_http_unescape (a malformed escape stays literal, %00 becomes 0xff),
 * so "%2F" in a name has become a '/' that ends its segment. */
#include <stdio.h>
#include <string.h>

#include "store/meta.h"
#include "server/http_int.h"

/* The capture types.  SEC: the segment bounds are the store's name
 * limits, so an oversized name never reaches the core as one: the path
 * matches no route and is denied as unknown. */
static const struct captype {
	const char	*name;
	size_t		 min, max;	/* bytes */
	bool		 rest;		/* the rest of the path */
} captypes[] = {
	{ "ns", 1, CF_NS_NAME_MAX - 1, false },
	{ "name", 1, CF_PRINCIPAL_MAX - 1, false },
	{ "role", 1, CF_PRINCIPAL_MAX - 1, false },
	{ "id", 1, SIZE_MAX, false },		/* a token id: any length */
	{ "key...", 0, SIZE_MAX, true },	/* an object key, literal */
};

static const struct captype *
captype(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(captypes) / sizeof(captypes[0]); i++)
		if (strlen(captypes[i].name) == len &&
		    memcmp(captypes[i].name, name, len) == 0)
			return &captypes[i];
	return NULL;
}

/* Does path match pat, both from their byte skip on (a prefix they
 * share)?  On a match the captures go to caps[0..*ncap), their offsets
 * from the start of path. */
static bool
match_one(const char *pat, const char *path, size_t skip,
    struct cf_route_cap *caps, size_t *ncap)
{
	const struct captype	*t;
	const char		*p = pat + skip, *s = path + skip, *close, *end;
	size_t			 n = 0, len;

	while (*p != '\0') {
		if (*p != '{') {
			if (*p != *s)
				return false;
			p++;
			s++;
			continue;
		}
		close = strchr(p, '}');
		if (close == NULL || n >= CF_ROUTE_CAPS)
			return false;
		t = captype(p + 1, (size_t)(close - p - 1));
		if (t == NULL)
			return false;
		if (t->rest)
			end = s + strlen(s);
		else
			for (end = s; *end != '\0' && *end != '/'; end++)
				;
		len = (size_t)(end - s);
		if (len < t->min || len > t->max)
			return false;
		caps[n].name = t->name;
		caps[n].off = (size_t)(s - path);
		caps[n].len = len;
		n++;
		s = end;
		p = close + 1;
	}
	if (*s != '\0')
		return false;
	*ncap = n;
	return true;
}

void
cf_route_match(const struct cf_route *tab, size_t n, const char *method,
    const char *path, struct cf_route_match *m)
{
	struct cf_route_cap	 caps[CF_ROUTE_CAPS];
	const char		*prev = NULL;
	size_t			 i, ncap = 0;
	bool			 hit = false;

	memset(m, 0, sizeof(*m));
	/* Every pattern starts with "/v1/" (cf_route_pattern_ok), and
	 * then mostly with a literal byte: most rows are ruled out by one
	 * comparison. */
	if (strncmp(path, "/v1/", 4) != 0)
		return;
	for (i = 0; i < n; i++) {
		/* The rows of one pattern are adjacent: one walk decides
		 * them all. */
		if (prev == NULL || (tab[i].pattern != prev &&
		    strcmp(tab[i].pattern, prev) != 0)) {
			prev = tab[i].pattern;
			hit = (prev[4] == '{' || prev[4] == path[4]) &&
			    strncmp(prev, "/v1/", 4) == 0 &&
			    match_one(prev, path, 4, caps, &ncap);
		}
		if (!hit)
			continue;
		m->path_known = true;
		if (strcmp(tab[i].method, method) != 0)
			continue;
		m->route = &tab[i];
		m->ncap = ncap;
		memcpy(m->cap, caps, sizeof(caps));
		return;
	}
}

/* Is method in the ", "-joined list? */
static bool
allow_has(const char *list, const char *method)
{
	size_t	len = strlen(method);
	const char *p = list;

	while ((p = strstr(p, method)) != NULL) {
		if ((p == list || p[-1] == ' ') &&
		    (p[len] == '\0' || p[len] == ','))
			return true;
		p += len;
	}
	return false;
}

size_t
cf_route_allow(const struct cf_route *tab, size_t n, const char *path,
    char out[CF_ROUTE_ALLOW_LEN])
{
	struct cf_route_match	m;
	size_t			i, k = 0, len;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (allow_has(out, tab[i].method))
			continue;
		/* The first row of this method for path: it is tab[i]'s
		 * method that is allowed if any row of it matches. */
		cf_route_match(tab, n, tab[i].method, path, &m);
		if (m.route == NULL)
			continue;
		len = strlen(out);
		if (len + strlen(tab[i].method) + 3 > CF_ROUTE_ALLOW_LEN)
			break;		/* a method list this long: a bug */
		(void)snprintf(out + len, CF_ROUTE_ALLOW_LEN - len, "%s%s",
		    len > 0 ? ", " : "", tab[i].method);
		k++;
	}
	return k;
}

bool
cf_route_pattern_ok(const char *pat)
{
	const struct captype	*t;
	const char		*p, *close;
	size_t			 n = 0;

	if (strncmp(pat, "/v1/", 4) != 0)
		return false;
	for (p = pat; *p != '\0'; p++) {
		if (*p == '}')
			return false;
		if (*p != '{')
			continue;
		/* A capture starts a segment and ends one (or the path). */
		close = strchr(p, '}');
		if (close == NULL || p[-1] != '/' || ++n > CF_ROUTE_CAPS)
			return false;
		t = captype(p + 1, (size_t)(close - p - 1));
		if (t == NULL || (close[1] != '\0' && close[1] != '/') ||
		    (t->rest && close[1] != '\0'))
			return false;
		p = close;
	}
	return true;
}

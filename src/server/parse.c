/* src/server/parse.c: request parsing of the HTTP front end: routes,
 * Range headers, URL unescaping, bodies ending with their digest; see
 * http_int.h. */
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "store/meta.h"
#include "server/http_int.h"

/* "PREFIX/{name}/SUFFIX" with a name free of '/': the name into *rest. */
static bool
named(const char *p, const char *prefix, const char *suffix, char **rest,
    size_t *restlen)
{
	size_t		 pl = strlen(prefix), sl = strlen(suffix), n;
	const char	*name, *slash;

	if (strncmp(p, prefix, pl) != 0)
		return false;
	name = p + pl;
	slash = strchr(name, '/');
	if (slash == NULL || slash == name || strcmp(slash + 1, suffix) != 0)
		return false;
	n = (size_t)(slash - name);
	if (n >= CF_PRINCIPAL_MAX || sl == 0)
		return false;
	*rest = cf_strndup(name, n);
	if (*rest == NULL)
		return false;
	*restlen = n;
	return true;
}

static enum route_id
resolve_identity(const char *p, char **rest, size_t *restlen)
{
	static const struct {
		const char	*path;
		enum route_id	 id;
	} fixed[] = {
		{ "login", R_LOGIN }, { "logout", R_LOGOUT },
		{ "session/mfa", R_SESSION_MFA }, { "users", R_USERS },
		{ "mfa/enroll", R_MFA_ENROLL },
		{ "mfa/confirm", R_MFA_CONFIRM },
		{ "mfa/disable", R_MFA_DISABLE },
	};
	static const struct {
		const char	*suffix;
		enum route_id	 id;
	} user[] = {
		{ "password", R_USER_PASSWORD }, { "disable", R_USER_DISABLE },
		{ "enable", R_USER_ENABLE },
		{ "mfa-required", R_USER_MFA_REQUIRED },
		{ "mfa-reset", R_USER_MFA_RESET },
	};
	size_t	i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(p, fixed[i].path) == 0)
			return fixed[i].id;
	for (i = 0; i < sizeof(user) / sizeof(user[0]); i++)
		if (named(p, "users/", user[i].suffix, rest, restlen))
			return user[i].id;
	if (named(p, "roles/", "mfa-required", rest, restlen))
		return R_ROLE_MFA_REQUIRED;
	return R_UNKNOWN;
}

/* Split the path after /v1/ into the route and its parameters. */
enum route_id
cf_http_resolve(const char *url, char **ns, char **rest, size_t *restlen)
{
	const char	*p, *slash;
	size_t		 n;
	enum route_id	 id;

	if (strncmp(url, "/v1/", 4) != 0)
		return R_UNKNOWN;
	p = url + 4;
	if (strcmp(p, "health") == 0)
		return R_HEALTH;
	if (strcmp(p, "whoami") == 0)
		return R_WHOAMI;
	if (strcmp(p, "ns") == 0)
		return R_NS;
	if (strcmp(p, "principals") == 0)
		return R_PRINCIPALS;
	if (strcmp(p, "tokens") == 0)
		return R_TOKENS;
	if (strcmp(p, "bindings") == 0)
		return R_BINDINGS;
	if (strcmp(p, "audit") == 0)
		return R_AUDIT;
	id = resolve_identity(p, rest, restlen);
	if (id != R_UNKNOWN)
		return id;
	if (strncmp(p, "tokens/", 7) == 0 && p[7] != '\0' &&
	    strchr(p + 7, '/') == NULL) {
		*rest = cf_strdup(p + 7);
		*restlen = strlen(p + 7);
		return *rest == NULL ? R_UNKNOWN : R_TOKEN_ONE;
	}
	if (strncmp(p, "ns/", 3) != 0)
		return R_UNKNOWN;
	p += 3;
	slash = strchr(p, '/');
	n = slash == NULL ? strlen(p) : (size_t)(slash - p);
	if (n == 0 || n >= CF_NS_NAME_MAX)
		return R_UNKNOWN;
	*ns = cf_strndup(p, n);
	if (*ns == NULL)
		return R_UNKNOWN;
	if (slash == NULL)
		return R_NS_ONE;
	p = slash + 1;
	if (strcmp(p, "objects") == 0)
		return R_OBJECTS;
	if (strncmp(p, "objects/", 8) == 0) {
		p += 8;
	} else if (strncmp(p, "versions/", 9) == 0) {
		p += 9;
	} else
		return R_UNKNOWN;
	/* The key is the rest of the path, taken literally. */
	*restlen = strlen(p);
	*rest = cf_memdup_str(p, *restlen);
	if (*rest == NULL)
		return R_UNKNOWN;
	return slash[1] == 'o' ? R_OBJECT : R_VERSIONS;
}

/* Parse a single "bytes=" range against size.  Returns 0 with no (or an
 * ignorable) Range header, 1 with a satisfiable range, -1 when it cannot
 * be satisfied (416). */
int
cf_http_parse_range(const char *h, uint64_t size, uint64_t *first,
    uint64_t *last)
{
	char		a[24], b[24];
	const char	*dash;
	uint64_t	x, y;
	size_t		la, lb;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0)
		return 0;
	h += 6;
	if (strchr(h, ',') != NULL)
		return 0;	/* multiple ranges: serve the whole object */
	dash = strchr(h, '-');
	if (dash == NULL)
		return 0;
	la = (size_t)(dash - h);
	lb = strlen(dash + 1);
	if (la >= sizeof(a) || lb >= sizeof(b))
		return 0;
	memcpy(a, h, la);
	a[la] = '\0';
	memcpy(b, dash + 1, lb + 1);
	if (la == 0) {
		/* suffix: the last N bytes */
		if (cf_parse_u64(b, 1, UINT64_MAX, &y, NULL) != CF_OK)
			return lb == 0 ? 0 : -1;
		if (size == 0)
			return -1;
		*first = y >= size ? 0 : size - y;
		*last = size - 1;
		return 1;
	}
	if (cf_parse_u64(a, 0, UINT64_MAX, &x, NULL) != CF_OK)
		return 0;
	if (lb == 0)
		y = UINT64_MAX;
	else if (cf_parse_u64(b, 0, UINT64_MAX, &y, NULL) != CF_OK || y < x)
		return 0;
	if (x >= size)
		return -1;
	*first = x;
	*last = y >= size ? size - 1 : y;
	return 1;
}

/* URL unescaping that never produces NUL (a %00 becomes an invalid UTF-8
 * byte, so names containing it are rejected instead of truncated). */
size_t
cf_http_unescape(char *s)
{
	char	*r = s, *w = s;
	int	 hi, lo;

	while (*r != '\0') {
		if (*r == '%' && r[1] != '\0' && r[2] != '\0') {
			hi = r[1] >= 'a' ? r[1] - 'a' + 10 :
			    r[1] >= 'A' ? r[1] - 'A' + 10 : r[1] - '0';
			lo = r[2] >= 'a' ? r[2] - 'a' + 10 :
			    r[2] >= 'A' ? r[2] - 'A' + 10 : r[2] - '0';
			if (hi >= 0 && hi < 16 && lo >= 0 && lo < 16) {
				int v = hi * 16 + lo;
				*w++ = v == 0 ? (char)0xff : (char)v;
				r += 3;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}


cf_err
cf_http_trail_feed(struct cf_http_trail *t, const char *data, size_t len,
    cf_http_trail_out out, void *arg, struct cf_error *err)
{
	size_t	over;
	cf_err	rc;

	if (len >= CF_HTTP_TRAIL_LEN) {
		/* Everything held, and all of this piece but its end, is
		 * body. */
		if (t->len > 0) {
			rc = out(arg, t->held, t->len, err);
			if (rc != CF_OK)
				return rc;
		}
		rc = out(arg, data, len - CF_HTTP_TRAIL_LEN, err);
		if (rc != CF_OK)
			return rc;
		memcpy(t->held, data + len - CF_HTTP_TRAIL_LEN,
		    CF_HTTP_TRAIL_LEN);
		t->len = CF_HTTP_TRAIL_LEN;
		return CF_OK;
	}
	/* A short piece: release the oldest held bytes beyond
	 * CF_HTTP_TRAIL_LEN (fewer than t->len, since len is short). */
	if (t->len + len > CF_HTTP_TRAIL_LEN) {
		over = t->len + len - CF_HTTP_TRAIL_LEN;
		rc = out(arg, t->held, over, err);
		if (rc != CF_OK)
			return rc;
		memmove(t->held, t->held + over, t->len - over);
		t->len -= over;
	}
	memcpy(t->held + t->len, data, len);
	t->len += len;
	return CF_OK;
}

const char *
cf_http_trail_digest(struct cf_http_trail *t)
{
	if (t->len != CF_HTTP_TRAIL_LEN)
		return NULL;
	t->held[CF_HTTP_TRAIL_LEN] = '\0';
	return t->held;
}

/* src/server/forwarded.c: the client address behind trusted proxies:
 * X-Forwarded-For and RFC 7239 Forwarded (see http_int.h).
 *
 * SEC: the headers are the client's to write, and each proxy only appends
 * to them.  So the one trustworthy entry is the one our nearest proxy
 * appended (the rightmost), and an entry further left is believed only
 * while the entry right of it is an address of one of our proxies. */
#include <string.h>
#include <strings.h>

#include "base/netaddr.h"
#include "base/str.h"
#include "server/http_int.h"

struct hop {
	bool		known;		/* an address was given */
	struct cf_ip	ip;
};

struct hops {
	size_t		n;
	struct hop	h[CF_FORWARDED_HOPS_MAX];
};

static bool
tok_char(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static cf_err
add_hop(struct hops *hs, bool known, const struct cf_ip *ip,
    struct cf_error *err)
{
	if (hs->n >= CF_FORWARDED_HOPS_MAX)
		return cf_error_set(err, CF_E_LIMIT, "more than %d forwarding "
		    "hops", CF_FORWARDED_HOPS_MAX);
	hs->h[hs->n].known = known;
	if (known)
		hs->h[hs->n].ip = *ip;
	hs->n++;
	return CF_OK;
}

/* A node as proxies write it: IPv4, IPv4:port, IPv6, [IPv6],
 * [IPv6]:port.  False: no address (unknown, obfuscated, a name). */
static bool
node_ip(const char *p, size_t len, struct cf_ip *ip)
{
	const char	*e, *colon;

	if (len > 0 && p[0] == '[') {
		e = memchr(p, ']', len);
		if (e == NULL)
			return false;
		if ((size_t)(e - p) + 1 < len) {
			/* Only a port may follow: ":" and digits. */
			size_t	i = (size_t)(e - p) + 1;

			if (p[i] != ':' || i + 1 == len)
				return false;
			for (i++; i < len; i++)
				if (p[i] < '0' || p[i] > '9')
					return false;
		}
		return cf_ip_parse(p + 1, (size_t)(e - p) - 1, ip) &&
		    ip->family == 6;
	}
	if (cf_ip_parse(p, len, ip))
		return true;		/* IPv4, or bare IPv6 */
	colon = memchr(p, ':', len);
	if (colon == NULL || memchr(colon + 1, ':', len - (size_t)(colon -
	    p) - 1) != NULL)
		return false;
	for (e = colon + 1; e < p + len; e++)
		if (*e < '0' || *e > '9')
			return false;
	return colon + 1 < p + len && cf_ip_parse(p, (size_t)(colon - p), ip) &&
	    ip->family == 4;
}

/* X-Forwarded-For: addresses separated by commas. */
static cf_err
parse_xff(const char *s, struct hops *hs, struct cf_error *err)
{
	const char	*p = s, *e, *comma;
	struct cf_ip	 ip;
	cf_err		 rc;

	while (*p != '\0') {
		comma = strchr(p, ',');
		e = comma != NULL ? comma : p + strlen(p);
		p = skip_ows(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		/* Empty list elements are allowed (RFC 9110 5.6.1). */
		if (e > p) {
			bool known = node_ip(p, (size_t)(e - p), &ip);

			rc = add_hop(hs, known, &ip, err);
			if (rc != CF_OK)
				return rc;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return CF_OK;
}

/* A quoted-string (RFC 9110 5.6.4) at *pp (after its opening quote)
 * into buf; *pp past the closing quote. */
static cf_err
quoted(const char **pp, char *buf, size_t bufsz, size_t *len,
    struct cf_error *err)
{
	const char	*p = *pp;
	size_t		 n = 0;

	for (;;) {
		unsigned char c = (unsigned char)*p;

		if (c == '\0')
			return cf_error_set(err, CF_E_INPUT, "Forwarded: an "
			    "unterminated quoted string");
		if (c == '"')
			break;
		if (c == '\\') {
			p++;
			c = (unsigned char)*p;
			if (c == '\0')
				return cf_error_set(err, CF_E_INPUT,
				    "Forwarded: an unterminated quoted "
				    "string");
		} else if (c < 0x20 && c != '\t')
			return cf_error_set(err, CF_E_INPUT, "Forwarded: a "
			    "control character in a quoted string");
		if (n + 1 >= bufsz)
			return cf_error_set(err, CF_E_INPUT, "Forwarded: a "
			    "value is too long");
		buf[n++] = (char)c;
		p++;
	}
	buf[n] = '\0';
	*len = n;
	*pp = p + 1;
	return CF_OK;
}

/* Forwarded: elements separated by commas, each pairs name=value
 * separated by semicolons; the hop is the element's for=. */
static cf_err
parse_forwarded(const char *s, struct hops *hs, struct cf_error *err)
{
	const char	*p = s, *name;
	char		 val[256];
	size_t		 nlen, vlen = 0;
	struct cf_ip	 ip;
	bool		 has_for, known, pairs;
	cf_err		 rc;

	memset(&ip, 0, sizeof(ip));
	for (;;) {
		has_for = known = pairs = false;
		for (;;) {
			p = skip_ows(p);
			if (*p == ',' || *p == '\0')
				break;		/* the element ends */
			name = p;
			while (tok_char((unsigned char)*p))
				p++;
			nlen = (size_t)(p - name);
			if (nlen == 0 || *p != '=')
				return cf_error_set(err, CF_E_INPUT,
				    "Forwarded: expected name=value");
			p++;
			if (*p == '"') {
				p++;
				rc = quoted(&p, val, sizeof(val), &vlen, err);
				if (rc != CF_OK)
					return rc;
			} else {
				const char *v = p;

				while (tok_char((unsigned char)*p))
					p++;
				vlen = (size_t)(p - v);
				if (vlen == 0 || vlen >= sizeof(val))
					return cf_error_set(err, CF_E_INPUT,
					    "Forwarded: a bad value");
				memcpy(val, v, vlen);
				val[vlen] = '\0';
			}
			pairs = true;
			if (nlen == 3 && strncasecmp(name, "for", 3) == 0) {
				if (has_for)
					return cf_error_set(err, CF_E_INPUT,
					    "Forwarded: for= twice in one "
					    "element");
				has_for = true;
				known = node_ip(val, vlen, &ip);
			}
			p = skip_ows(p);
			if (*p == ';') {
				p++;
				continue;
			}
			if (*p != ',' && *p != '\0')
				return cf_error_set(err, CF_E_INPUT,
				    "Forwarded: expected ';' or ','");
		}
		/* An empty element is allowed; one without for= is a hop
		 * that did not say who sent it. */
		if (pairs) {
			rc = add_hop(hs, has_for && known, &ip, err);
			if (rc != CF_OK)
				return rc;
		}
		if (*p == '\0')
			break;
		p++;
	}
	return CF_OK;
}

cf_err
cf_http_forwarded_client(const char *hdr, bool forwarded,
    const struct cf_cidr_list *trusted, char *out, size_t outsz,
    struct cf_error *err)
{
	struct hops	 hs;
	char		 ip[CF_IP_TEXT_MAX];
	size_t		 i;
	cf_err		 rc;

	if (outsz < CF_IP_TEXT_MAX)
		return cf_error_set(err, CF_E_INVAL, "buffer too small");
	out[0] = '\0';
	if (hdr == NULL)
		return CF_OK;
	if (strnlen(hdr, CF_FORWARDED_MAX + 1) > CF_FORWARDED_MAX)
		return cf_error_set(err, CF_E_LIMIT, "%s is longer than %d "
		    "bytes", forwarded ? "Forwarded" : "X-Forwarded-For",
		    CF_FORWARDED_MAX);
	hs.n = 0;
	rc = forwarded ? parse_forwarded(hdr, &hs, err) :
	    parse_xff(hdr, &hs, err);
	if (rc != CF_OK)
		return rc;
	if (hs.n == 0)
		return CF_OK;
	for (i = hs.n; i > 0; i--) {
		if (!hs.h[i - 1].known) {
			cf_strlcpy(out, "unknown", outsz);
			return CF_OK;
		}
		if (i == 1 || !cf_cidr_list_match(trusted, &hs.h[i - 1].ip))
			break;
	}
	cf_ip_format(&hs.h[i - 1].ip, ip);
	cf_strlcpy(out, ip, outsz);
	return CF_OK;
}

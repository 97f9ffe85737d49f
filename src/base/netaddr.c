/* src/base/netaddr.c: IP addresses and CIDR lists (see netaddr.h). */
#include <arpa/inet.h>
#include <string.h>

#include "base/mem.h"
#include "base/netaddr.h"
#include "base/str.h"

bool
cf_ip_parse(const char *s, size_t len, struct cf_ip *out)
{
	static const uint8_t	mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	char			buf[CF_IP_TEXT_MAX];
	struct cf_ip		ip;
	size_t			i;

	if (len == 0 || len >= sizeof(buf))
		return false;
	/* inet_pton stops at NUL and takes no zone or blank: check the
	 * characters first, so "1.2.3.4\0junk" is no address. */
	for (i = 0; i < len; i++)
		if (strchr("0123456789abcdefABCDEF.:", s[i]) == NULL ||
		    s[i] == '\0')
			return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(&ip, 0, sizeof(ip));
	if (inet_pton(AF_INET, buf, ip.a) == 1)
		ip.family = 4;
	else if (inet_pton(AF_INET6, buf, ip.a) == 1) {
		ip.family = 6;
		if (memcmp(ip.a, mapped, sizeof(mapped)) == 0) {
			memmove(ip.a, ip.a + 12, 4);
			memset(ip.a + 4, 0, 12);
			ip.family = 4;
		}
	} else
		return false;
	*out = ip;
	return true;
}

void
cf_ip_format(const struct cf_ip *ip, char out[CF_IP_TEXT_MAX])
{
	if (inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->a, out,
	    CF_IP_TEXT_MAX) == NULL)
		cf_strlcpy(out, "?", CF_IP_TEXT_MAX);
}

/* Does ip fall in the first bits of net? */
static bool
prefix_match(const uint8_t *net, const uint8_t *ip, unsigned bits)
{
	unsigned	full = bits / 8, rest = bits % 8;
	uint8_t		mask;

	if (memcmp(net, ip, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (net[full] & mask) == (ip[full] & mask);
}

/* One entry, p[0..len) without blanks. */
static cf_err
parse_entry(const char *p, size_t len, struct cf_cidr *out,
    struct cf_error *err)
{
	const char	*slash = memchr(p, '/', len);
	size_t		 alen = slash != NULL ? (size_t)(slash - p) : len;
	char		 num[4];
	uint64_t	 bits;
	unsigned	 max, i;
	struct cf_cidr	 c;

	memset(&c, 0, sizeof(c));
	if (!cf_ip_parse(p, alen, &c.ip))
		return cf_error_set(err, CF_E_INPUT, "\"%.*s\" is not an IP "
		    "address or CIDR network", (int)(len > 64 ? 64 : len), p);
	/* A mapped IPv6 network (::ffff:10.0.0.0/104) is an IPv4 one. */
	max = c.ip.family == 4 ? 32 : 128;
	bits = max;
	if (slash != NULL) {
		size_t nl = len - alen - 1;

		if (nl == 0 || nl >= sizeof(num))
			return cf_error_set(err, CF_E_INPUT, "\"%.*s\": bad "
			    "prefix length", (int)(len > 64 ? 64 : len), p);
		memcpy(num, slash + 1, nl);
		num[nl] = '\0';
		if (memchr(p, ':', alen) != NULL && c.ip.family == 4 &&
		    cf_parse_u64(num, 96, 128, &bits, NULL) == CF_OK)
			bits -= 96;
		else if (cf_parse_u64(num, 0, max, &bits, NULL) != CF_OK)
			return cf_error_set(err, CF_E_INPUT, "\"%.*s\": prefix "
			    "length must be 0 to %u",
			    (int)(len > 64 ? 64 : len), p, max);
	}
	c.bits = (unsigned)bits;
	for (i = c.bits; i < max; i++)
		if ((c.ip.a[i / 8] >> (7 - i % 8)) & 1)
			return cf_error_set(err, CF_E_INPUT, "\"%.*s\": host "
			    "bits set below the prefix (did you mean the "
			    "network address?)", (int)(len > 64 ? 64 : len),
			    p);
	*out = c;
	return CF_OK;
}

cf_err
cf_cidr_list_parse(const char *s, struct cf_cidr_list *out,
    struct cf_error *err)
{
	struct cf_cidr_list	*l = NULL;
	const char		*p = s, *e, *comma;
	cf_err			 rc = CF_OK;

	if (strnlen(s, CF_CIDR_TEXT_MAX) >= CF_CIDR_TEXT_MAX)
		return cf_error_set(err, CF_E_LIMIT, "a network list is "
		    "longer than %d bytes", CF_CIDR_TEXT_MAX - 1);
	/* The list is large (a few KiB): built aside, copied on success. */
	l = cf_calloc(1, sizeof(*l));
	if (l == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p != '\0') {
		comma = strchr(p, ',');
		e = comma != NULL ? comma : p + strlen(p);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == p) {
			rc = cf_error_set(err, CF_E_INPUT, "an empty entry in "
			    "a network list (expected CIDR, CIDR, ...)");
			goto out;
		}
		if (l->n >= CF_CIDR_LIST_MAX) {
			rc = cf_error_set(err, CF_E_LIMIT, "at most %d "
			    "networks in a list", CF_CIDR_LIST_MAX);
			goto out;
		}
		rc = parse_entry(p, (size_t)(e - p), &l->e[l->n], err);
		if (rc != CF_OK)
			goto out;
		l->n++;
		if (comma == NULL)
			break;
		p = comma + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0') {
			rc = cf_error_set(err, CF_E_INPUT, "an empty entry in "
			    "a network list (expected CIDR, CIDR, ...)");
			goto out;
		}
	}
	*out = *l;
out:
	cf_free(l);
	return rc;
}

bool
cf_cidr_list_match(const struct cf_cidr_list *l, const struct cf_ip *ip)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (l->e[i].ip.family == ip->family &&
		    prefix_match(l->e[i].ip.a, ip->a, l->e[i].bits))
			return true;
	return false;
}

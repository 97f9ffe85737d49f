/* src/base/netaddr.h: IP addresses and CIDR lists, for the network
 * rules (env.<env>.allow, trusted_proxies; docs/security.md, "Network
 * isolation").  Pure parsing: no name resolution, no I/O.  Every parser
 * is bounded and fuzzed (fuzz/fuzz_netaddr.c). */
#ifndef CF_BASE_NETADDR_H
#define CF_BASE_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CF_CIDR_LIST_MAX	64	/* entries in one list */
#define CF_CIDR_TEXT_MAX	4096	/* bytes of a list's text */
#define CF_IP_TEXT_MAX		46	/* INET6_ADDRSTRLEN */

/* An address: family 4 (a[0..4)) or 6 (a[0..16)).  An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is taken as the IPv4 address, so that one
 * rule matches a client however the socket reports it. */
struct cf_ip {
	uint8_t	family;
	uint8_t	a[16];
};

struct cf_cidr {
	struct cf_ip	ip;
	unsigned	bits;		/* prefix length */
};

struct cf_cidr_list {
	size_t		n;
	struct cf_cidr	e[CF_CIDR_LIST_MAX];
};

/* Parse a whole textual address (IPv4 dotted quad or IPv6, no brackets,
 * no port, no zone).  False for anything else; *out written only on
 * success. */
bool	cf_ip_parse(const char *s, size_t len, struct cf_ip *out);

/* Parse "CIDR, CIDR, ..." (blanks around each entry allowed; a bare
 * address is one host: /32 or /128).  The empty string (or blanks) is
 * the empty list.  CF_E_INPUT naming the bad entry: not an address, a
 * prefix length out of range, host bits set below the prefix (a typo
 * such as 10.0.0.1/8 is refused rather than guessed); CF_E_LIMIT past
 * CF_CIDR_LIST_MAX entries or CF_CIDR_TEXT_MAX bytes.  *out is written
 * only on success. */
cf_err	cf_cidr_list_parse(const char *s, struct cf_cidr_list *out,
	    struct cf_error *err);

/* Does ip fall in one of l's networks?  An IPv4 address never matches an
 * IPv6 network and the other way round (mapped addresses are IPv4). */
bool	cf_cidr_list_match(const struct cf_cidr_list *l,
	    const struct cf_ip *ip);

/* The address as text (inet_ntop); out holds CF_IP_TEXT_MAX bytes. */
void	cf_ip_format(const struct cf_ip *ip, char out[CF_IP_TEXT_MAX]);

#endif

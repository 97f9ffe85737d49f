/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * fuzz/fuzz_netaddr.c: the network rules' parsers: CIDR lists
 * (env.<env>.allow, trusted_proxies) and the forwarding headers
 * (X-Forwarded-For, RFC 7239 Forwarded).
 * Input: a selector byte, then the text (cut at the first NUL).
 *
 * Oracles (abort on violation): a parsed list has at most
 * CF_CIDR_LIST_MAX entries, prefixes within their family, no host bits,
 * and each network contains its own address; a client address found
 * is "", "unknown", or an address that parses back; a failure leaves
 * no address behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/netaddr.h"
#include "server/http_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char	trusted_text[] = "127.0.0.0/8, 10.0.0.0/8, ::1, "
    "2001:db8::/32";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cf_cidr_list	l, trusted;
	struct cf_ip			ip;
	char				text[CF_FORWARDED_MAX + 64];
	char				out[CF_IP_TEXT_MAX];
	size_t				n, i;
	cf_err				rc;

	if (size < 1)
		return 0;
	n = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
	memcpy(text, data + 1, n);
	text[n] = '\0';
	if ((data[0] & 3) == 0) {
		memset(&l, 0, sizeof(l));
		rc = cf_cidr_list_parse(text, &l, NULL);
		if (rc != CF_OK)
			return 0;
		if (l.n > CF_CIDR_LIST_MAX)
			abort();
		for (i = 0; i < l.n; i++) {
			if ((l.e[i].ip.family == 4 && l.e[i].bits > 32) ||
			    (l.e[i].ip.family == 6 && l.e[i].bits > 128) ||
			    (l.e[i].ip.family != 4 && l.e[i].ip.family != 6))
				abort();
			if (!cf_cidr_list_match(&l, &l.e[i].ip))
				abort();
		}
		return 0;
	}
	if ((data[0] & 3) == 1) {
		if (cf_ip_parse(text, n, &ip)) {
			cf_ip_format(&ip, out);
			if (!cf_ip_parse(out, strlen(out), &l.e[0].ip) ||
			    memcmp(&l.e[0].ip, &ip, sizeof(ip)) != 0)
				abort();
		}
		return 0;
	}
	if (cf_cidr_list_parse(trusted_text, &trusted, NULL) != CF_OK)
		abort();
	memset(out, 'x', sizeof(out));
	rc = cf_http_forwarded_client(text, (data[0] & 3) == 3, &trusted,
	    out, sizeof(out), NULL);
	if (rc != CF_OK)
		return 0;
	if (memchr(out, '\0', sizeof(out)) == NULL)
		abort();
	if (out[0] != '\0' && strcmp(out, "unknown") != 0 &&
	    !cf_ip_parse(out, strlen(out), &ip))
		abort();
	return 0;
}

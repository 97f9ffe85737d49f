/* cf-link: cf_client cf_core cf_audit cf_store cf_policy cf_crypto cf_base
 * fuzz/fuzz_client.c: what the CLI parses from a server it talks to (which
 * may be hostile or broken) and from its arguments.  The first byte picks
 * the target, the rest is the input:
 *   0  response header lines (split at '\n'), as libcurl hands them over
 *   1  an error body (the next byte is the HTTP status - 300 + 400..)
 *   2  a key from a listing turned into a local path by `coffer pull`
 *      (input split at the first NUL: prefix, key)
 *   3  URL encoding of a key or namespace (next byte: keep '/')
 *   4  an NS/KEY argument
 *   5  a duration (`token create --expires`)
 * Oracles (abort on violation): fields stay NUL-terminated inside their
 * arrays with no control characters; collected X-Coffer-Meta-* metadata
 * can always be printed as JSON; error messages have no control
 * characters; a path pull accepts stays inside the target directory
 * (checked by an independent lexical walk); URL encoding decodes back to
 * its input and uses only unreserved characters and %XX; NS/KEY splits
 * back into the argument; a duration is in range. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "client/client_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s is NUL-terminated within n bytes and has no control character. */
static void
clean_field(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
	if (i == n)
		abort();
}

static void
headers(const uint8_t *p, size_t n)
{
	struct cf_obj_info	 info;
	const uint8_t		*nl;
	size_t			 len;
	char			*out;

	memset(&info, 0, sizeof(info));
	cf_obj_info_clear(&info);
	while (n > 0) {
		nl = memchr(p, '\n', n);
		len = nl != NULL ? (size_t)(nl - p) + 1 : n;
		cf_cli_parse_header(&info, (const char *)p, len);
		p += len;
		n -= len;
	}
	clean_field(info.sha256, sizeof(info.sha256));
	clean_field(info.version_id, sizeof(info.version_id));
	clean_field(info.content_type, sizeof(info.content_type));
	clean_field(info.last_modified, sizeof(info.last_modified));
	clean_field(info.request_id, sizeof(info.request_id));
	clean_field(info.retry_after, sizeof(info.retry_after));
	if (info.size < -1)
		abort();
	if (info.meta != NULL) {
		/* `coffer head --json` prints it: it must be printable. */
		out = cf_json_dumps(info.meta);
		if (out == NULL)
			abort();
		free(out);
	}
	cf_obj_info_clear(&info);
}

static void
error_body(const uint8_t *p, size_t n)
{
	char	msg[512], code[64];
	long	status;

	if (n == 0)
		return;
	status = 300 + p[0] + 100;
	cf_cli_error_body(status, p + 1, n - 1, "req-1", msg, sizeof(msg));
	clean_field(msg, sizeof(msg));
	if (cf_cli_error_code(p + 1, n - 1, code, sizeof(code)))
		clean_field(code, sizeof(code));
	else if (code[0] != '\0')
		abort();
}

/* Independent of cf_cli_relpath_safe: walking rel's components from the
 * target directory never leaves it, never names the directory itself and
 * never has an empty component. */
static bool
stays_inside(const char *rel)
{
	const char	*c = rel, *slash;
	size_t		 n;
	long		 depth = 0;

	if (*rel == '/')
		return false;
	for (;;) {
		slash = strchr(c, '/');
		n = slash != NULL ? (size_t)(slash - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			return false;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (--depth < 0)
				return false;
		} else
			depth++;
		if (slash == NULL)
			return depth > 0;
		c = slash + 1;
	}
}

static void
pull_path(const uint8_t *p, size_t n)
{
	char		*s, *key;
	const char	*rel;
	size_t		 i;

	s = cf_memdup_str(p, n);
	if (s == NULL)
		return;
	key = s + strlen(s);
	if ((size_t)(key - s) < n)
		key = s + strlen(s) + 1;	/* after the first NUL */
	else
		key = s;			/* no NUL: prefix "" */
	rel = key == s ? s : cf_cli_key_rel(key, s);
	if (key != s && rel != NULL &&
	    (strncmp(key, s, strlen(s)) != 0 || rel != key + strlen(s)))
		abort();
	if (rel != NULL && cf_cli_relpath_safe(rel)) {
		if (!stays_inside(rel) || strlen(rel) >= CF_CLI_PATH_MAX)
			abort();
		for (i = 0; rel[i] != '\0'; i++)
			if ((unsigned char)rel[i] < 0x20 || rel[i] == 0x7f)
				abort();
	}
	cf_free(s);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
urlenc(const uint8_t *p, size_t n)
{
	struct cf_buf	 b;
	char		*s, *d;
	size_t		 i, j;
	bool		 keep;
	int		 hi, lo;

	if (n == 0)
		return;
	keep = (p[0] & 1) != 0;
	s = cf_memdup_str(p + 1, n - 1);
	if (s == NULL)
		return;
	cf_buf_init(&b, 1u << 20);
	if (cf_cli_urlenc(&b, s, keep, NULL) == CF_OK) {
		d = cf_malloc(b.len + 1);
		if (d == NULL)
			abort();
		for (i = 0, j = 0; i < b.len; i++) {
			char c = ((const char *)b.data)[i];

			if (c == '%') {
				if (i + 2 >= b.len)
					abort();	/* a cut escape */
				hi = hexval(((const char *)b.data)[i + 1]);
				lo = hexval(((const char *)b.data)[i + 2]);
				if (hi < 0 || lo < 0)
					abort();
				d[j++] = (char)(hi * 16 + lo);
				i += 2;
			} else if ((c >= 'A' && c <= 'Z') ||
			    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '.' || c == '_' || c == '~' ||
			    (keep && c == '/'))
				d[j++] = c;
			else
				abort();	/* a byte that needed
						 * escaping */
		}
		d[j] = '\0';
		if (strcmp(d, s) != 0)
			abort();	/* does not decode back */
		cf_free(d);
	}
	cf_buf_free(&b);
	cf_free(s);
}

static void
nskey(const uint8_t *p, size_t n)
{
	char	*s, *ns = NULL, *key = NULL, *join;
	size_t	 l;

	s = cf_memdup_str(p, n);
	if (s == NULL)
		return;
	if (cf_cli_split_nskey(s, (n & 1) != 0, &ns, &key, NULL) == CF_OK) {
		if (*ns == '\0' || strchr(ns, '/') != NULL)
			abort();
		l = strlen(ns) + 1 + strlen(key) + 1;
		join = cf_malloc(l);
		if (join == NULL)
			abort();
		(void)snprintf(join, l, "%s/%s", ns, key);
		/* "NS" alone splits into NS and "". */
		if (strcmp(join, s) != 0 &&
		    !(key[0] == '\0' && strcmp(ns, s) == 0))
			abort();
		cf_free(join);
		cf_free(ns);
		cf_free(key);
	}
	cf_free(s);
}

static void
duration(const uint8_t *p, size_t n)
{
	char		*s;
	uint64_t	 secs = 0, max = 400ULL * 86400;

	s = cf_memdup_str(p, n);
	if (s == NULL)
		return;
	if (cf_parse_duration(s, max, &secs, NULL) == CF_OK &&
	    (secs < 1 || secs > max))
		abort();
	cf_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 65536)
		return 0;
	switch (data[0] % 6) {
	case 0: headers(data + 1, size - 1); break;
	case 1: error_body(data + 1, size - 1); break;
	case 2: pull_path(data + 1, size - 1); break;
	case 3: urlenc(data + 1, size - 1); break;
	case 4: nskey(data + 1, size - 1); break;
	default: duration(data + 1, size - 1); break;
	}
	return 0;
}

/* src/core/names.c: validation of names from the wire; see core.h. */
#include <string.h>

#include "base/str.h"
#include "core/core.h"

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool
cf_name_ns_valid(const char *s)
{
	size_t	n, i, dots = 0;
	bool	all_digits_dots = true;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n < 3 || n > 63)
		return false;
	if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			dots++;
			if (i > 0 && s[i - 1] == '.')
				return false;
		} else if (s[i] == '-')
			all_digits_dots = false;
		else if (!is_lower_alnum(s[i]))
			return false;
		else if (s[i] < '0' || s[i] > '9')
			all_digits_dots = false;
	}
	/* Not shaped like an IPv4 address (S3). */
	if (all_digits_dots && dots == 3)
		return false;
	if (strncmp(s, "xn--", 4) == 0)
		return false;
	return true;
}

bool
cf_name_key_valid(const char *s, size_t len)
{
	if (s == NULL || len == 0 || len > CF_OBJKEY_MAX - 1)
		return false;
	return cf_utf8_valid(s, len);
}

bool
cf_name_principal_valid(const char *s)
{
	size_t	n, i;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n < 1 || n > CF_PRINCIPAL_MAX - 1 || !is_lower_alnum(s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '.' && s[i] != '_' &&
		    s[i] != '-')
			return false;
	return true;
}

bool
cf_name_env_valid(const char *s)
{
	return s != NULL && (strcmp(s, "dev") == 0 ||
	    strcmp(s, "staging") == 0 || strcmp(s, "prod") == 0);
}

bool
cf_name_sensitivity_valid(const char *s)
{
	return s != NULL && (strcmp(s, "public") == 0 ||
	    strcmp(s, "internal") == 0 || strcmp(s, "confidential") == 0 ||
	    strcmp(s, "restricted") == 0);
}

bool
cf_name_role_valid(const char *s)
{
	return s != NULL && (strcmp(s, "reader") == 0 ||
	    strcmp(s, "writer") == 0 || strcmp(s, "owner") == 0 ||
	    strcmp(s, "admin") == 0);
}

bool
cf_name_policy_valid(const char *s)
{
	/* The same alphabet and length as principal names.  "builtin" is
	 * the built-in role templates (GET /v1/policies/builtin), so no
	 * stored set may be called so. */
	return cf_name_principal_valid(s) &&
	    strlen(s) <= CF_POLICY_NAME_MAX - 1 &&
	    strcmp(s, "builtin") != 0;
}

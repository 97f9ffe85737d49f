/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 *
 * tests/unit/test_s3acl.c: the Put*Acl body parser (src/server/s3acl.c):
 * what is the owner's FULL_CONTROL only, what names anyone else, what is
 * malformed or too big. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/mem.h"
#include "server/s3acl.h"

#define NS	" xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
#define XSI	" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
#define OWNER	"<Owner><ID>admin</ID><DisplayName>admin</DisplayName></Owner>"
#define FULL	"<Grant><Grantee" XSI " xsi:type=\"CanonicalUser\"><ID>admin" \
		"</ID><DisplayName>admin</DisplayName></Grantee><Permission>" \
		"FULL_CONTROL</Permission></Grant>"

static int
owner_only(const char *xml)
{
	struct cf_error	err;
	bool		only = false;
	cf_err		rc;

	cf_error_clear(&err);
	rc = cf_s3acl_owner_only(xml, strlen(xml), "admin", &only, &err);
	if (rc != CF_OK)
		return -(int)rc;
	return only ? 1 : 0;
}

static void
test_s3acl_owner_only(void **state)
{
	(void)state;
	assert_int_equal(owner_only("<AccessControlPolicy" NS ">" OWNER
	    "<AccessControlList>" FULL "</AccessControlList>"
	    "</AccessControlPolicy>"), 1);
	/* Without the namespace, without an Owner, without grants. */
	assert_int_equal(owner_only("<AccessControlPolicy><AccessControlList>"
	    FULL "</AccessControlList></AccessControlPolicy>"), 1);
	assert_int_equal(owner_only("<AccessControlPolicy/>"), 1);
}

static void
test_s3acl_anyone_else(void **state)
{
	(void)state;
	/* Another owner, another grantee, another permission, a group. */
	assert_int_equal(owner_only("<AccessControlPolicy><Owner><ID>bob</ID>"
	    "</Owner></AccessControlPolicy>"), 0);
	assert_int_equal(owner_only("<AccessControlPolicy>" OWNER
	    "<AccessControlList>" FULL "<Grant><Grantee" XSI " xsi:type=\""
	    "CanonicalUser\"><ID>bob</ID></Grantee><Permission>READ"
	    "</Permission></Grant></AccessControlList></AccessControlPolicy>"),
	    0);
	assert_int_equal(owner_only("<AccessControlPolicy><AccessControlList>"
	    "<Grant><Grantee><ID>admin</ID></Grantee><Permission>READ"
	    "</Permission></Grant></AccessControlList></AccessControlPolicy>"),
	    0);
	assert_int_equal(owner_only("<AccessControlPolicy><AccessControlList>"
	    "<Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/"
	    "AllUsers</URI></Grantee><Permission>FULL_CONTROL</Permission>"
	    "</Grant></AccessControlList></AccessControlPolicy>"), 0);
	assert_int_equal(owner_only("<AccessControlPolicy><AccessControlList>"
	    "<Grant><Grantee><ID>admin</ID><EmailAddress>x@example.com"
	    "</EmailAddress></Grantee><Permission>FULL_CONTROL</Permission>"
	    "</Grant></AccessControlList></AccessControlPolicy>"), 0);
	/* A grant without a grantee grants to nobody we know: refused. */
	assert_int_equal(owner_only("<AccessControlPolicy><AccessControlList>"
	    "<Grant><Permission>FULL_CONTROL</Permission></Grant>"
	    "</AccessControlList></AccessControlPolicy>"), 0);
}

static void
test_s3acl_malformed(void **state)
{
	char	*big;
	size_t	 n = CF_S3ACL_MAX + 1;

	(void)state;
	assert_int_equal(owner_only("<Other/>"), -CF_E_INPUT);
	assert_int_equal(owner_only("<AccessControlPolicy>"), -CF_E_INPUT);
	assert_int_equal(owner_only(""), -CF_E_INPUT);
	assert_int_equal(owner_only("<!DOCTYPE x [<!ENTITY a \"b\">]>"
	    "<AccessControlPolicy/>"), -CF_E_INPUT);
	big = cf_malloc(n + 1);
	assert_non_null(big);
	memset(big, ' ', n);
	big[n] = '\0';
	assert_int_equal(owner_only(big), -CF_E_LIMIT);
	cf_free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3acl_owner_only),
		cmocka_unit_test(test_s3acl_anyone_else),
		cmocka_unit_test(test_s3acl_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

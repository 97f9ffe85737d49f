/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * tests/unit/test_s3_versioning.c: S3's bucket versioning, the pure
 * parts (server/s3_versioning.c): the PutBucketVersioning body (what
 * is taken, what is MalformedXML and what is an illegal
 * configuration), the GetBucketVersioning answer, and the version id
 * S3 shows of a version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "server/s3_versioning.h"

#define NS	"xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static cf_err
parse(const char *xml, struct cf_s3v_conf *c, const char **why)
{
	return cf_s3v_parse(xml, strlen(xml), c, why, NULL);
}

static void
test_s3_versioning_parse_accepts(void **state)
{
	struct cf_s3v_conf	 c;
	const char		*why = NULL;

	(void)state;
	assert_int_equal(parse("<VersioningConfiguration " NS "><Status>"
	    "Enabled</Status></VersioningConfiguration>", &c, &why), CF_OK);
	assert_string_equal(c.status, "enabled");
	assert_string_equal(c.mfa_delete, "");
	/* boto3's form: a prefix-less root, blanks around the values. */
	assert_int_equal(parse("<?xml version=\"1.0\"?>\n"
	    "<VersioningConfiguration>\n <Status> Suspended </Status>\n"
	    " <MfaDelete>Disabled</MfaDelete>\n</VersioningConfiguration>",
	    &c, &why), CF_OK);
	assert_string_equal(c.status, "suspended");
	assert_string_equal(c.mfa_delete, "Disabled");
	/* A namespace prefix, and no Status (the caller refuses that). */
	assert_int_equal(parse("<s3:VersioningConfiguration xmlns:s3=\"x\">"
	    "<s3:MFADelete>Enabled</s3:MFADelete>"
	    "</s3:VersioningConfiguration>", &c, &why), CF_OK);
	assert_string_equal(c.status, "");
	assert_string_equal(c.mfa_delete, "Enabled");
}

static void
test_s3_versioning_parse_refuses(void **state)
{
	static const struct {
		const char	*xml;
		const char	*code;
	} bad[] = {
		{ "", "MalformedXML" },
		{ "<VersioningConfiguration>", "MalformedXML" },
		{ "<Other><Status>Enabled</Status></Other>", "MalformedXML" },
		{ "<VersioningConfiguration><Status>Enabled</Status><Status>"
		    "Enabled</Status></VersioningConfiguration>",
		    "MalformedXML" },
		{ "<VersioningConfiguration><Status><b/>Enabled</Status>"
		    "</VersioningConfiguration>", "MalformedXML" },
		{ "<VersioningConfiguration>x<Status>Enabled</Status>"
		    "</VersioningConfiguration>", "MalformedXML" },
		{ "<VersioningConfiguration><Other/>"
		    "</VersioningConfiguration>", "MalformedXML" },
		{ "<!DOCTYPE a [<!ENTITY x \"Enabled\">]>"
		    "<VersioningConfiguration><Status>&x;</Status>"
		    "</VersioningConfiguration>", "MalformedXML" },
		{ "<VersioningConfiguration><Status>enabled</Status>"
		    "</VersioningConfiguration>",
		    "IllegalVersioningConfigurationException" },
		{ "<VersioningConfiguration><Status>Unversioned</Status>"
		    "</VersioningConfiguration>",
		    "IllegalVersioningConfigurationException" },
		{ "<VersioningConfiguration><Status>EnabledEnabledEnabled"
		    "EnabledEnabledEnabled</Status></VersioningConfiguration>",
		    "IllegalVersioningConfigurationException" },
		{ "<VersioningConfiguration><MfaDelete>On</MfaDelete>"
		    "</VersioningConfiguration>",
		    "IllegalVersioningConfigurationException" },
	};
	struct cf_s3v_conf	 c;
	struct cf_error		 e;
	const char		*why;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		cf_error_clear(&e);
		assert_int_equal(cf_s3v_parse(bad[i].xml, strlen(bad[i].xml),
		    &c, &why, &e), CF_E_INPUT);
		assert_non_null(why);
		assert_string_equal(why, bad[i].code);
		assert_true(e.msg[0] != '\0');
		/* Nothing half-parsed is left for the caller. */
		assert_string_equal(c.status, "");
	}
}

static void
test_s3_versioning_answer_and_ids(void **state)
{
	struct cf_buf	b;

	(void)state;
	cf_buf_init(&b, 4096);
	assert_int_equal(cf_s3v_answer(&b, "unversioned", NULL), CF_OK);
	assert_null(strstr(b.data, "<Status>"));
	assert_non_null(strstr(b.data, "<VersioningConfiguration"));
	cf_buf_free(&b);
	cf_buf_init(&b, 4096);
	assert_int_equal(cf_s3v_answer(&b, "suspended", NULL), CF_OK);
	assert_non_null(strstr(b.data, "<Status>Suspended</Status>"));
	cf_buf_free(&b);
	cf_buf_init(&b, 4096);
	assert_int_equal(cf_s3v_answer(&b, "enabled", NULL), CF_OK);
	assert_non_null(strstr(b.data, "<Status>Enabled</Status>"));
	cf_buf_free(&b);
	assert_string_equal(cf_s3v_id(0, "abc"), "abc");
	assert_string_equal(cf_s3v_id(1, "abc"), "null");
	assert_string_equal(cf_s3v_id(2, "abc"), "null");
	assert_null(cf_s3v_header(1, "abc"));
	assert_string_equal(cf_s3v_header(2, "abc"), "null");
	assert_string_equal(cf_s3v_header(0, "abc"), "abc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_versioning_parse_accepts),
		cmocka_unit_test(test_s3_versioning_parse_refuses),
		cmocka_unit_test(test_s3_versioning_answer_and_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

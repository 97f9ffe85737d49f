/* cf-link: cf_policy cf_base
 *
 * tests/unit/test_policy_entcheck.c: entity and request validation
 * against a schema (src/policy/entcheck.c): each kind of violation, with
 * the entity and the path it names, the limits and the failure paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/mem.h"
#include "policy/policy.h"

static const char schema_src[] =
    "type Addr = { city: String, zip?: Long };\n"
    "entity Group;\n"
    "entity Team in [Group];\n"
    "entity User in [Team] { name: String, age?: Long, addr: Addr,\n"
    "    ip: ipaddr, roles: Set<Role>, boss?: User, t?: datetime,\n"
    "    d?: duration, dec?: decimal } tags String;\n"
    "entity Role enum [\"admin\", \"viewer\"];\n"
    "entity Doc { owner: User };\n"
    "action read, write in [\"all\"] appliesTo {\n"
    "  principal: [User], resource: Doc,\n"
    "  context: { mfa: Bool, when?: datetime }\n"
    "};\n"
    "action \"all\";\n"
    "action lone;\n"
    "action pick appliesTo { principal: User, resource: Role };\n";

/* A valid user; %s is spliced in as more attributes. */
#define USER(id, more)							\
    "{\"uid\": {\"type\": \"User\", \"id\": \"" id "\"},"		\
    " \"attrs\": {\"name\": \"A\", \"addr\": {\"city\": \"Oslo\"},"	\
    " \"ip\": {\"__extn\": {\"fn\": \"ip\", \"arg\": \"10.0.0.1\"}},"	\
    " \"roles\": [{\"__entity\": {\"type\": \"Role\", \"id\": \"admin\"}}]" \
    more "}, \"parents\": [{\"type\": \"Team\", \"id\": \"t\"}]}"

static const char valid_src[] = "["
    USER("alice", ", \"age\": 30, \"boss\": {\"__entity\": {\"type\": "
    "\"User\", \"id\": \"bob\"}}, \"t\": {\"__extn\": {\"fn\": "
    "\"datetime\", \"arg\": \"2024-01-01T00:00:00Z\"}}, \"d\": "
    "{\"__extn\": {\"fn\": \"duration\", \"arg\": \"1h\"}}, \"dec\": "
    "{\"__extn\": {\"fn\": \"decimal\", \"arg\": \"1.5\"}}, \"zzz\": 1")
    ","
    "{\"uid\": {\"type\": \"Team\", \"id\": \"t\"}, \"attrs\": {},"
    " \"parents\": [{\"__entity\": {\"type\": \"Group\", \"id\": \"g\"}}]},"
    "{\"uid\": {\"type\": \"Group\", \"id\": \"g\"}, \"attrs\": {},"
    " \"parents\": []},"
    "{\"uid\": {\"type\": \"Role\", \"id\": \"viewer\"}, \"attrs\": {},"
    " \"parents\": []},"
    "{\"uid\": {\"type\": \"Doc\", \"id\": \"d\"}, \"attrs\": {\"owner\":"
    " {\"__entity\": {\"type\": \"User\", \"id\": \"alice\"}}},"
    " \"parents\": []},"
    "{\"uid\": {\"type\": \"Action\", \"id\": \"read\"}, \"attrs\": {},"
    " \"parents\": [{\"type\": \"Action\", \"id\": \"all\"}]},"
    "{\"uid\": {\"type\": \"Action\", \"id\": \"all\"}, \"attrs\": {},"
    " \"parents\": []}"
    "]";

static struct cf_schema *
schema(void)
{
	struct cf_schema	*s = NULL;
	struct cf_error		 err;

	cf_error_clear(&err);
	if (cf_schema_parse(schema_src, sizeof(schema_src) - 1, &s, &err) !=
	    CF_OK)
		fail_msg("schema: %s", err.msg);
	return s;
}

static json_t *
json(const char *text)
{
	json_t		*j = NULL;
	struct cf_error	 err;

	cf_error_clear(&err);
	if (cf_policy_json_parse(text, strlen(text), &j, &err) != CF_OK)
		fail_msg("json: %s: %s", err.msg, text);
	return j;
}

static void
dump(const struct cf_entity_check *ec)
{
	size_t	i;

	for (i = 0; i < cf_entity_check_error_count(ec); i++)
		(void)fprintf(stderr, "  %s: %s: %s\n",
		    cf_entity_check_error_entity(ec, i),
		    cf_entity_check_error_path(ec, i),
		    cf_entity_check_error_msg(ec, i));
}

static struct cf_entity_check *
check_entities(const struct cf_schema *s, const char *text)
{
	struct cf_entity_check	*ec = NULL;
	json_t			*j = json(text);

	assert_int_equal(cf_entity_check_new(&ec, NULL), CF_OK);
	assert_int_equal(cf_schema_check_entities(s, j, ec, NULL), CF_OK);
	json_decref(j);
	return ec;
}

/* ec holds a violation about entity at path whose message has msg. */
static void
expect(const struct cf_entity_check *ec, const char *entity,
    const char *path, const char *msg)
{
	size_t	i;

	assert_false(cf_entity_check_ok(ec));
	for (i = 0; i < cf_entity_check_error_count(ec); i++)
		if (strcmp(cf_entity_check_error_entity(ec, i), entity) == 0 &&
		    strcmp(cf_entity_check_error_path(ec, i), path) == 0 &&
		    strstr(cf_entity_check_error_msg(ec, i), msg) != NULL)
			return;
	dump(ec);
	fail_msg("no violation %s: %s: %s", entity, path, msg);
}

/* The entities text has exactly one violation, the one named. */
static void
expect_one(const struct cf_schema *s, const char *text, const char *entity,
    const char *path, const char *msg)
{
	struct cf_entity_check	*ec = check_entities(s, text);

	if (cf_entity_check_error_count(ec) != 1) {
		dump(ec);
		fail_msg("want one violation, got %zu: %s",
		    cf_entity_check_error_count(ec), text);
	}
	expect(ec, entity, path, msg);
	cf_entity_check_free(ec);
}

/* The valid user "a", with attribute key set to the JSON val (NULL:
 * removed), as an entity array. */
static json_t *
user(const char *key, const char *val)
{
	json_t	*arr = json("[" USER("a", "") "]"), *v;

	if (val == NULL) {
		assert_int_equal(json_object_del(json_object_get(
		    json_array_get(arr, 0), "attrs"), key), 0);
		return arr;
	}
	v = json_loads(val, JSON_DECODE_ANY, NULL);
	if (v == NULL)
		fail_msg("json: %s", val);
	assert_int_equal(json_object_set_new(json_object_get(json_array_get(
	    arr, 0), "attrs"), key, v), 0);
	return arr;
}

/* User "a" with key set to val has one violation, at path. */
static void
expect_user(const struct cf_schema *s, const char *key, const char *val,
    const char *path, const char *msg)
{
	struct cf_entity_check	*ec = NULL;
	json_t			*arr = user(key, val);

	assert_int_equal(cf_entity_check_new(&ec, NULL), CF_OK);
	assert_int_equal(cf_schema_check_entities(s, arr, ec, NULL), CF_OK);
	if (cf_entity_check_error_count(ec) != 1) {
		dump(ec);
		fail_msg("want one violation, got %zu: %s = %s",
		    cf_entity_check_error_count(ec), key, val);
	}
	expect(ec, "User::\"a\"", path, msg);
	cf_entity_check_free(ec);
	json_decref(arr);
}

static void
test_policy_entcheck_valid(void **state)
{
	struct cf_schema	*s = schema();
	struct cf_entity_check	*ec;
	json_t			*o;

	(void)state;
	/* zzz is undeclared: take it out for the valid set. */
	ec = check_entities(s, "[]");
	assert_true(cf_entity_check_ok(ec));
	cf_entity_check_free(ec);
	ec = check_entities(s, valid_src);
	expect(ec, "User::\"alice\"", "attrs.zzz", "not declared");
	assert_int_equal(cf_entity_check_error_count(ec), 1);
	o = cf_entity_check_to_json(ec);
	assert_non_null(o);
	assert_true(json_is_false(json_object_get(o, "valid")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "errors"), 0), "path")), "attrs.zzz");
	json_decref(o);
	/* Cleared, a check starts afresh. */
	cf_entity_check_clear(ec);
	assert_true(cf_entity_check_ok(ec));
	cf_entity_check_free(ec);
	cf_entity_check_free(NULL);
	/* The same entities pass the schema-less parser. */
	{
		struct cf_entities	*es = NULL;

		assert_int_equal(cf_entities_parse(valid_src,
		    sizeof(valid_src) - 1, &es, NULL), CF_OK);
		cf_entities_free(es);
	}
	cf_schema_free(s);
}

static void
test_policy_entcheck_types_and_attrs(void **state)
{
	struct cf_schema	*s = schema();

	(void)state;
	expect_one(s, "[{\"uid\": {\"type\": \"Nope\", \"id\": \"x\"}, "
	    "\"attrs\": {}, \"parents\": []}]", "Nope::\"x\"", "",
	    "entity type Nope is not declared");
	/* Required, undeclared, mistyped. */
	expect_one(s, "[{\"uid\": {\"type\": \"Doc\", \"id\": \"d\"}, "
	    "\"attrs\": {}, \"parents\": []}]", "Doc::\"d\"", "attrs.owner",
	    "required attribute owner is missing");
	expect_user(s, "name", NULL, "attrs.name",
	    "required attribute name is missing");
	expect_user(s, "x", "true", "attrs.x",
	    "attribute not declared in the schema");
	expect_user(s, "age", "\"3\"", "attrs.age",
	    "type mismatch: expected Long, found String");
	expect_user(s, "age", "3.5", "attrs.age",
	    "found a number that is not an integer");
	expect_user(s, "name", "null", "attrs.name", "found null");
	/* Records, recursively. */
	expect_user(s, "addr", "{\"city\": 1}", "attrs.addr.city",
	    "expected String, found Long");
	expect_user(s, "addr", "{\"zip\": 1}", "attrs.addr.city",
	    "required attribute city is missing");
	expect_user(s, "addr", "{\"city\": \"x\", \"street\": \"y\"}",
	    "attrs.addr.street", "not declared");
	expect_user(s, "addr", "\"Oslo\"", "attrs.addr",
	    "expected a record, found String");
	expect_user(s, "addr", "{\"__entity\": {\"type\": \"User\", "
	    "\"id\": \"b\"}}", "attrs.addr",
	    "expected a record, found an entity reference");
	/* Sets, element by element. */
	expect_user(s, "roles", "[{\"__entity\": {\"type\": \"Role\", "
	    "\"id\": \"viewer\"}}, \"admin\"]", "attrs.roles[1]",
	    "expected an entity of type Role, found String");
	expect_user(s, "roles", "{}", "attrs.roles",
	    "expected Set<an entity of type Role>, found a record");
	cf_schema_free(s);
}

static void
test_policy_entcheck_references(void **state)
{
	struct cf_schema	*s = schema();

	(void)state;
	expect_user(s, "boss", "{\"__entity\": {\"type\": \"Doc\", "
	    "\"id\": \"d\"}}", "attrs.boss",
	    "expected an entity of type User, found one of type Doc");
	/* The bare form Cedar takes with a schema reads as a record here. */
	expect_user(s, "boss", "{\"type\": \"User\", \"id\": \"b\"}",
	    "attrs.boss", "found a record");
	expect_user(s, "boss", "{\"__entity\": {\"type\": \"User\"}}",
	    "attrs.boss", "expected {");
	/* Enum ids, as values and as entities. */
	expect_user(s, "roles", "[{\"__entity\": {\"type\": \"Role\", "
	    "\"id\": \"root\"}}]", "attrs.roles[0]",
	    "\"root\" is not one of the ids");
	expect_one(s, "[{\"uid\": {\"type\": \"Role\", \"id\": \"root\"}, "
	    "\"attrs\": {}, \"parents\": []}]", "Role::\"root\"", "",
	    "not one of the ids the schema declares for the enumerated type "
	    "Role");
	cf_schema_free(s);
}

static void
test_policy_entcheck_extensions(void **state)
{
	struct cf_schema	*s = schema();

	(void)state;
	expect_user(s, "ip", "{\"__extn\": {\"fn\": \"ip\", \"arg\": "
	    "\"10.0.0.300\"}}", "attrs.ip", "invalid extension value");
	expect_user(s, "ip", "{\"__extn\": {\"fn\": \"decimal\", \"arg\": "
	    "\"1.0\"}}", "attrs.ip", "expected ipaddr, found decimal");
	/* The bare form Cedar takes with a schema reads as a string. */
	expect_user(s, "ip", "\"10.0.0.1\"", "attrs.ip",
	    "expected ipaddr, found String");
	expect_user(s, "t", "{\"__extn\": {\"fn\": \"datetime\", \"arg\": "
	    "\"yesterday\"}}", "attrs.t", "invalid extension value");
	expect_user(s, "d", "{\"__extn\": {\"fn\": \"nope\", \"arg\": "
	    "\"1h\"}}", "attrs.d", "unknown extension function");
	expect_user(s, "dec", "{\"__extn\": {\"fn\": \"duration\", \"arg\": "
	    "\"1h\"}}", "attrs.dec", "expected decimal, found duration");
	expect_user(s, "name", "{\"__extn\": {\"fn\": \"ip\", \"arg\": "
	    "\"::1\"}}", "attrs.name",
	    "expected String, found an extension value");
	cf_schema_free(s);
}

static void
test_policy_entcheck_parents_and_tags(void **state)
{
	struct cf_schema	*s = schema();
	struct cf_entity_check	*ec;
	json_t			*arr;

	(void)state;
	expect_one(s, "[{\"uid\": {\"type\": \"Doc\", \"id\": \"d\"}, "
	    "\"attrs\": {\"owner\": {\"__entity\": {\"type\": \"User\", "
	    "\"id\": \"a\"}}}, \"parents\": [{\"type\": \"Group\", "
	    "\"id\": \"g\"}]}]", "Doc::\"d\"", "parents[0]",
	    "an entity of type Doc may not be in one of type Group (the "
	    "schema allows: none)");
	/* Group is above Team: a User may be in one directly (as in Cedar,
	 * the allowed ancestor types are closed transitively). */
	arr = user("name", "\"A\"");
	assert_int_equal(json_array_append_new(json_object_get(
	    json_array_get(arr, 0), "parents"), json_pack("{s:s, s:s}",
	    "type", "Group", "id", "g")), 0);
	ec = NULL;
	assert_int_equal(cf_entity_check_new(&ec, NULL), CF_OK);
	assert_int_equal(cf_schema_check_entities(s, arr, ec, NULL), CF_OK);
	assert_true(cf_entity_check_ok(ec));
	cf_entity_check_free(ec);
	json_decref(arr);
	ec = check_entities(s, "["
	    "{\"uid\": {\"type\": \"Team\", \"id\": \"t\"}, "
	    "\"attrs\": {}, \"parents\": [{\"type\": \"Group\", "
	    "\"id\": \"g\"}, {\"type\": \"Team\", \"id\": \"u\"}, "
	    "{\"type\": \"Nope\", \"id\": \"n\"}, {\"type\": "
	    "\"Action\", \"id\": \"read\"}, {\"type\": \"Group\"}]}]");
	assert_int_equal(cf_entity_check_error_count(ec), 4);
	expect(ec, "Team::\"t\"", "parents[1]", "may not be in one "
	    "of type Team (the schema allows: Group)");
	expect(ec, "Team::\"t\"", "parents[2]",
	    "entity type Nope is not declared");
	expect(ec, "Team::\"t\"", "parents[3]", "of type Action");
	expect(ec, "Team::\"t\"", "parents[4]", "expected {");
	cf_entity_check_free(ec);
	/* Tags only where declared, of the declared type. */
	expect_one(s, "[{\"uid\": {\"type\": \"Group\", \"id\": \"g\"}, "
	    "\"attrs\": {}, \"parents\": [], \"tags\": {\"k\": \"v\"}}]",
	    "Group::\"g\"", "tags", "the schema declares none for type Group");
	expect_one(s, "[{\"uid\": {\"type\": \"Group\", \"id\": \"g\"}, "
	    "\"attrs\": {}, \"parents\": [], \"tags\": []}]", "Group::\"g\"",
	    "tags", "tags must be an object");
	arr = user("name", "\"A\"");
	assert_int_equal(json_object_set_new(json_array_get(arr, 0), "tags",
	    json_pack("{s:s, s:i}", "ok", "v", "bad", 1)), 0);
	ec = NULL;
	assert_int_equal(cf_entity_check_new(&ec, NULL), CF_OK);
	assert_int_equal(cf_schema_check_entities(s, arr, ec, NULL), CF_OK);
	assert_int_equal(cf_entity_check_error_count(ec), 1);
	expect(ec, "User::\"a\"", "tags.bad", "expected String, found Long");
	cf_entity_check_free(ec);
	json_decref(arr);
	cf_schema_free(s);
}

static void
test_policy_entcheck_actions_and_format(void **state)
{
	struct cf_schema	*s = schema();
	struct cf_entity_check	*ec;

	(void)state;
	expect_one(s, "[{\"uid\": {\"type\": \"Action\", \"id\": \"nope\"}, "
	    "\"attrs\": {}, \"parents\": []}]", "Action::\"nope\"", "",
	    "action Action::\"nope\" is not declared");
	expect_one(s, "[{\"uid\": {\"type\": \"Action\", \"id\": \"read\"}, "
	    "\"attrs\": {}, \"parents\": []}]", "Action::\"read\"", "",
	    "the schema puts the action in Action::\"all\", the entities do "
	    "not");
	expect_one(s, "[{\"uid\": {\"type\": \"Action\", \"id\": \"all\"}, "
	    "\"attrs\": {}, \"parents\": [{\"type\": \"Action\", \"id\": "
	    "\"write\"}]}]", "Action::\"all\"", "", "the entities put the "
	    "action in Action::\"write\", the schema does not");
	expect_one(s, "[{\"uid\": {\"type\": \"Action\", \"id\": \"all\"}, "
	    "\"attrs\": {\"a\": 1}, \"parents\": []}]", "Action::\"all\"",
	    "attrs", "actions have no attributes");
	expect_one(s, "[{\"uid\": {\"type\": \"Action\", \"id\": \"read\"}, "
	    "\"attrs\": {}, \"parents\": [{\"type\": \"Doc\", \"id\": "
	    "\"all\"}, {\"type\": \"Action\", \"id\": \"all\"}]}]",
	    "Action::\"read\"", "parents[0]", "an action may only be in "
	    "actions");
	/* The format itself. */
	expect_one(s, "{}", "entities", "", "must be a JSON array");
	ec = check_entities(s, "[1, {\"attrs\": {}, \"parents\": []}, "
	    "{\"uid\": {\"type\": \"Group\", \"id\": \"g\"}, "
	    "\"attrs\": [], \"parents\": {}}, "
	    "{\"uid\": {\"type\": \"Group\", \"id\": \"h\"}, "
	    "\"parents\": []}, "
	    "{\"uid\": {\"type\": \"Group\", \"id\": \"h\"}, "
	    "\"attrs\": {}, \"parents\": []}]");
	expect(ec, "entities[0]", "", "must be an object");
	expect(ec, "entities[1]", "uid", "no uid");
	expect(ec, "Group::\"g\"", "attrs", "attrs must be an object");
	expect(ec, "Group::\"g\"", "parents", "parents must be an array");
	expect(ec, "Group::\"h\"", "attrs", "no attrs");
	expect(ec, "Group::\"h\"", "", "listed twice");
	assert_int_equal(cf_entity_check_error_count(ec), 6);
	cf_entity_check_free(ec);
	cf_schema_free(s);
}

static struct cf_entity_check *
check_request(const struct cf_schema *s, const char *text)
{
	struct cf_entity_check	*ec = NULL;
	json_t			*j = json(text);

	assert_int_equal(cf_entity_check_new(&ec, NULL), CF_OK);
	assert_int_equal(cf_schema_check_request_json(s, j, ec, NULL), CF_OK);
	json_decref(j);
	return ec;
}

#define REQ(p, a, r, ctx)						\
    "{\"principal\": {\"type\": \"" p "\", \"id\": \"alice\"},"	\
    " \"action\": {\"type\": \"Action\", \"id\": \"" a "\"},"		\
    " \"resource\": {\"type\": \"" r "\", \"id\": \"root\"}" ctx "}"

static void
test_policy_entcheck_requests(void **state)
{
	struct cf_schema		*s = schema();
	struct cf_entity_check		*ec;
	struct cf_entity_check_request	 rq;

	(void)state;
	ec = check_request(s, REQ("User", "read", "Doc", ", \"context\": "
	    "{\"mfa\": true, \"when\": {\"__extn\": {\"fn\": \"datetime\", "
	    "\"arg\": \"2024-01-01\"}}}"));
	if (!cf_entity_check_ok(ec))
		dump(ec);
	assert_true(cf_entity_check_ok(ec));
	cf_entity_check_free(ec);
	ec = check_request(s, REQ("User", "nope", "Doc", ""));
	expect(ec, "request", "action", "action Action::\"nope\" is not "
	    "declared");
	assert_int_equal(cf_entity_check_error_count(ec), 1);
	cf_entity_check_free(ec);
	ec = check_request(s, REQ("Doc", "read", "Nope", ", \"context\": "
	    "{\"mfa\": 1, \"x\": 2}"));
	expect(ec, "request", "principal", "action Action::\"read\" does "
	    "not apply to a principal of type Doc (its appliesTo: User)");
	expect(ec, "request", "resource", "entity type Nope is not declared");
	expect(ec, "request", "context.mfa", "expected Bool, found Long");
	expect(ec, "request", "context.x", "not declared");
	assert_int_equal(cf_entity_check_error_count(ec), 4);
	cf_entity_check_free(ec);
	/* No context is {}: mfa is required. */
	ec = check_request(s, REQ("User", "write", "Doc", ""));
	expect(ec, "request", "context.mfa", "required attribute mfa");
	cf_entity_check_free(ec);
	/* An action without appliesTo applies to nothing. */
	ec = check_request(s, REQ("User", "lone", "Doc", ""));
	expect(ec, "request", "principal", "(its appliesTo: none)");
	expect(ec, "request", "resource", "(its appliesTo: none)");
	cf_entity_check_free(ec);
	/* Enum ids of the request's entities. */
	ec = check_request(s, REQ("User", "pick", "Role", ""));
	expect(ec, "request", "resource", "\"root\" is not one of the ids");
	cf_entity_check_free(ec);
	ec = check_request(s, "{\"principal\": 1, \"action\": {\"type\": "
	    "\"Action\", \"id\": \"read\"}}");
	expect(ec, "request", "principal", "expected {");
	expect(ec, "request", "resource", "expected {");
	cf_entity_check_free(ec);
	ec = check_request(s, "[]");
	expect(ec, "request", "", "must be a JSON object");
	/* The typed form: no ids, context not checked. */
	cf_entity_check_clear(ec);
	memset(&rq, 0, sizeof(rq));
	rq.principal_type = "User";
	rq.action_type = "Action";
	rq.action_id = "read";
	rq.resource_type = "Doc";
	assert_int_equal(cf_schema_check_request(s, &rq, ec, NULL), CF_OK);
	assert_true(cf_entity_check_ok(ec));
	rq.action_id = NULL;
	assert_int_equal(cf_schema_check_request(s, &rq, ec, NULL),
	    CF_E_INVAL);
	cf_entity_check_free(ec);
	cf_schema_free(s);
}

static void
test_policy_entcheck_limits(void **state)
{
	struct cf_schema	*s = schema();
	struct cf_entity_check	*ec = NULL;
	json_t			*arr, *o;
	size_t			 i;
	char			 id[32];

	(void)state;
	/* Violations past the limit are counted, not kept. */
	arr = json_array();
	for (i = 0; i < CF_ENTCHECK_MAX_ERRORS + 50; i++) {
		(void)snprintf(id, sizeof(id), "n%zu", i);
		assert_int_equal(json_array_append_new(arr, json_pack(
		    "{s:{s:s, s:s}, s:{}, s:[]}", "uid", "type", "Nope", "id",
		    id, "attrs", "parents")), 0);
	}
	assert_int_equal(cf_entity_check_new(&ec, NULL), CF_OK);
	assert_int_equal(cf_schema_check_entities(s, arr, ec, NULL), CF_OK);
	assert_int_equal(cf_entity_check_error_count(ec),
	    CF_ENTCHECK_MAX_ERRORS);
	assert_int_equal(cf_entity_check_dropped(ec), 50);
	assert_false(cf_entity_check_ok(ec));
	o = cf_entity_check_to_json(ec);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "more_errors")), 50);
	json_decref(o);
	json_decref(arr);
	/* Deep nesting beyond the schema's types is one mismatch. */
	cf_entity_check_clear(ec);
	arr = user("addr", "{\"city\": [[[[[[[[[[[[]]]]]]]]]]]]}");
	assert_int_equal(cf_schema_check_entities(s, arr, ec, NULL), CF_OK);
	assert_int_equal(cf_entity_check_error_count(ec), 1);
	expect(ec, "User::\"a\"", "attrs.addr.city", "found a set");
	json_decref(arr);
	assert_int_equal(cf_schema_check_entities(NULL, NULL, ec, NULL),
	    CF_E_INVAL);
	cf_entity_check_free(ec);
	cf_schema_free(s);
}

static void
test_policy_entcheck_survives_every_alloc_failure(void **state)
{
	struct cf_schema	*s = schema();
	struct cf_entity_check	*ec = NULL;
	json_t			*ents, *req;
	unsigned int		 n;
	size_t			 want;
	cf_err			 rc;

	(void)state;
	ents = json(valid_src);
	req = json(REQ("Doc", "read", "Doc", ", \"context\": {\"x\": 1}"));
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_entity_check_new(&ec, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(ec);
	}
	for (n = 1;; n++) {
		cf_entity_check_clear(ec);
		cf_test_fail_alloc_after(n);
		rc = cf_schema_check_entities(s, ents, ec, NULL);
		if (rc == CF_OK)
			rc = cf_schema_check_request_json(s, req, ec, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
	}
	/* attrs.zzz; principal; context.mfa missing; context.x. */
	want = 4;
	if (cf_entity_check_error_count(ec) != want)
		dump(ec);
	assert_int_equal(cf_entity_check_error_count(ec), want);
	cf_entity_check_free(ec);
	json_decref(ents);
	json_decref(req);
	cf_schema_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_entcheck_valid),
		cmocka_unit_test(test_policy_entcheck_types_and_attrs),
		cmocka_unit_test(test_policy_entcheck_references),
		cmocka_unit_test(test_policy_entcheck_extensions),
		cmocka_unit_test(test_policy_entcheck_parents_and_tags),
		cmocka_unit_test(test_policy_entcheck_actions_and_format),
		cmocka_unit_test(test_policy_entcheck_requests),
		cmocka_unit_test(test_policy_entcheck_limits),
		cmocka_unit_test(
		    test_policy_entcheck_survives_every_alloc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

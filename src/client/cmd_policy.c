/* src/client/cmd_policy.c: `coffer policy check`, `coffer policy eval`
 * and `coffer policy validate`, offline tools over Cedar policy files
 * (src/policy); `explain` and `replay` ask the server
 * (cmd_policy_tools.c), and the dispatch of the policy sets stored on
 * the server (cmd_policy_admin.c).
 *
 *   check FILE...   report syntax errors as file:line:col: message
 *   eval            decide each request of a JSON array, one JSON line each
 *   validate        typecheck policies against a Cedar schema (strict), or
 *                   check entities and requests against one
 *   set, ls, show, history, rm   see cmd_policy_admin.c
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/json.h"
#include "base/mem.h"
#include "client/client.h"
#include "client/client_int.h"
#include "core/core.h"
#include "policy/policy.h"

#define POLICY_FILE_MAX	(64u * 1024 * 1024)

static const char policy_usage[] =
    "usage: coffer policy check FILE...\n"
    "       coffer policy eval --policies FILE --entities FILE "
    "--requests FILE\n"
    "                          [--links FILE]\n"
    "       coffer policy validate --schema FILE --policies FILE "
    "[--json]\n"
    "       coffer policy validate --schema FILE [--entities FILE] "
    "[--request FILE]\n"
    "                              [--json]\n"
    "       coffer policy set|ls|show|history|rm ...   (policy sets on the "
    "server;\n"
    "                          coffer policy set --help)\n"
    "\n"
    "check  parse each Cedar policy file; print every syntax error as\n"
    "       FILE:LINE:COL: message and exit 1, print nothing and exit 0\n"
    "       when all are valid.\n"
    "eval   evaluate each request of --requests (a JSON array of\n"
    "       {\"principal\": {\"type\": .., \"id\": ..}, \"action\": {..},\n"
    "       \"resource\": {..}, \"context\": {..}}) against the policies and\n"
    "       the entities (Cedar's JSON entity format), printing one line\n"
    "       per request: {\"decision\": \"allow\"|\"deny\", "
    "\"reasons\": [..],\n"
    "       \"errors\": [{\"policy\": .., \"message\": ..}]}.  "
    "--links names a\n"
    "       JSON array of template links {\"template\": .., \"id\": ..,\n"
    "       \"principal\": {..}, \"resource\": {..}}.\n"
    "validate  check the policies against a Cedar schema (.cedarschema)\n"
    "       as `cedar validate` does (strict mode); print each error as\n"
    "       POLICIES:LINE:COL: policy ID: message and exit 1 if any, exit\n"
    "       0 when valid, 2 on usage, I/O or schema syntax errors.  With\n"
    "       --json print {\"valid\": .., \"errors\": [{\"policy\", "
    "\"line\",\n"
    "       \"col\", \"message\"}]} instead.\n"
    "       With --entities and/or --request instead of --policies: check\n"
    "       the entities (Cedar's JSON entity format) and the request(s)\n"
    "       (a JSON object or array of them, as eval takes) against the\n"
    "       schema as Cedar does when given one; print each violation as\n"
    "       FILE: ENTITY: PATH: message (--json: {\"valid\": ..,\n"
    "       \"errors\": [{\"file\", \"entity\", \"path\", "
    "\"message\"}]}), exit\n"
    "       as above.\n"
    "\n"
    "       coffer policy schema\n"
    "       coffer policy builtin\n"
    "\n"
    "schema   print Coffer's Cedar schema: the entity types, context and\n"
    "         actions the server's decisions use.\n"
    "builtin  print the built-in role templates the server links with\n"
    "         every binding.\n"
    "\n"
    "       coffer policy explain --principal P --action A "
    "[--resource NS[/KEY]] ...\n"
    "       coffer policy replay --draft FILE_OR_DIR [--since DURATION] "
    "...\n"
    "\n"
    "explain  how the server would decide a request (admin; see\n"
    "         coffer policy explain --help).\n"
    "replay   decide the audit log's requests again under a draft policy\n"
    "         set, applying nothing (admin; coffer policy replay --help).\n";

/* Read a whole file (at most POLICY_FILE_MAX bytes) into a new buffer. */
static cf_err
slurp(const char *path, char **out, size_t *len, struct cf_error *err)
{
	FILE	*f;
	char	*buf = NULL, *nb;
	size_t	 n = 0, cap = 0, r;
	cf_err	 rc = CF_OK;

	f = fopen(path, "rb");
	if (f == NULL)
		return cf_error_sys(err, CF_E_IO, "%s", path);
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > POLICY_FILE_MAX + 1)
				cap = POLICY_FILE_MAX + 1;
			if (n == cap) {
				rc = cf_error_set(err, CF_E_LIMIT,
				    "%s: larger than %u bytes", path,
				    POLICY_FILE_MAX);
				goto out;
			}
			nb = cf_realloc(buf, cap);
			if (nb == NULL) {
				rc = cf_error_set(err, CF_E_NOMEM,
				    "out of memory");
				goto out;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0) {
			if (ferror(f))
				rc = cf_error_sys(err, CF_E_IO, "%s", path);
			break;
		}
	}
out:
	(void)fclose(f);
	if (rc != CF_OK) {
		cf_free(buf);
		return rc;
	}
	*out = buf != NULL ? buf : cf_strdup("");
	*len = n;
	return *out != NULL ? CF_OK : cf_error_set(err, CF_E_NOMEM, "nomem");
}

static int
cmd_check(int argc, char **argv)
{
	struct cf_policy_set	*ps;
	struct cf_error		 err;
	char			*text;
	size_t			 len;
	int			 i, status = CF_EXIT_OK;

	if (argc < 2) {
		(void)fputs(policy_usage, stderr);
		return CF_EXIT_USAGE;
	}
	for (i = 1; i < argc; i++) {
		cf_error_clear(&err);
		text = NULL;
		if (slurp(argv[i], &text, &len, &err) != CF_OK) {
			(void)fprintf(stderr, "coffer: %s\n", err.msg);
			status = CF_EXIT_FAIL;
			continue;
		}
		ps = NULL;
		if (cf_policy_set_parse(text, len, &ps, &err) != CF_OK) {
			/* err.msg is "line:col: message". */
			(void)printf("%s:%s\n", argv[i], err.msg);
			status = CF_EXIT_FAIL;
		}
		cf_policy_set_free(ps);
		cf_free(text);
	}
	return status;
}

static cf_err
load_json(const char *path, json_t **out, struct cf_error *err)
{
	char	*text = NULL;
	size_t	 len;
	cf_err	 rc;

	rc = slurp(path, &text, &len, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_policy_json_parse(text, len, out, err);
	cf_free(text);
	return rc;
}

static const char *
uid_part(const json_t *o, const char *which, const char *part)
{
	const json_t	*u = json_object_get(o, which);

	if (json_object_get(u, "__entity") != NULL)
		u = json_object_get(u, "__entity");
	return json_string_value(json_object_get(u, part));
}

static cf_err
apply_links(struct cf_policy_set *ps, const json_t *links,
    struct cf_error *err)
{
	const json_t	*l;
	size_t		 i;
	cf_err		 rc;

	if (!json_is_array(links))
		return cf_error_set(err, CF_E_INPUT,
		    "links must be a JSON array");
	json_array_foreach(links, i, l) {
		const char	*t = json_string_value(json_object_get(l,
		    "template"));
		const char	*id = json_string_value(json_object_get(l,
		    "id"));

		if (t == NULL || id == NULL)
			return cf_error_set(err, CF_E_INPUT, "link %zu: needs "
			    "\"template\" and \"id\"", i);
		rc = cf_policy_set_link(ps, t, id,
		    uid_part(l, "principal", "type"),
		    uid_part(l, "principal", "id"),
		    uid_part(l, "resource", "type"),
		    uid_part(l, "resource", "id"), err);
		if (rc != CF_OK)
			return rc;
	}
	return CF_OK;
}

static int
cmd_eval(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "policies", required_argument, NULL, 'p' },
		{ "entities", required_argument, NULL, 'e' },
		{ "requests", required_argument, NULL, 'r' },
		{ "links", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char		*pfile = NULL, *efile = NULL, *rfile = NULL;
	const char		*lfile = NULL;
	struct cf_policy_set	*ps = NULL;
	struct cf_entities	*es = NULL;
	struct cf_response	*resp = NULL;
	struct cf_request	*req = NULL;
	json_t			*ej = NULL, *rj = NULL, *lj = NULL, *r, *out;
	struct cf_error		 err;
	char			*text = NULL, *line;
	size_t			 len, i;
	int			 ch, status = CF_EXIT_FAIL;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'p': pfile = optarg; break;
		case 'e': efile = optarg; break;
		case 'r': rfile = optarg; break;
		case 'l': lfile = optarg; break;
		case 'h':
			(void)fputs(policy_usage, stdout);
			return CF_EXIT_OK;
		default:
			(void)fputs(policy_usage, stderr);
			return CF_EXIT_USAGE;
		}
	}
	if (pfile == NULL || efile == NULL || rfile == NULL ||
	    optind != argc) {
		(void)fputs(policy_usage, stderr);
		return CF_EXIT_USAGE;
	}
	cf_error_clear(&err);
	if (slurp(pfile, &text, &len, &err) != CF_OK)
		goto fail;
	if (cf_policy_set_parse(text, len, &ps, &err) != CF_OK) {
		(void)fprintf(stderr, "%s:%s\n", pfile, err.msg);
		goto out;
	}
	if (lfile != NULL && (load_json(lfile, &lj, &err) != CF_OK ||
	    apply_links(ps, lj, &err) != CF_OK))
		goto fail;
	if (load_json(efile, &ej, &err) != CF_OK ||
	    cf_entities_from_json(ej, &es, &err) != CF_OK)
		goto fail;
	if (load_json(rfile, &rj, &err) != CF_OK)
		goto fail;
	if (!json_is_array(rj)) {
		(void)cf_error_set(&err, CF_E_INPUT, "%s: expected a JSON "
		    "array of requests", rfile);
		goto fail;
	}
	if (cf_response_new(&resp, &err) != CF_OK)
		goto fail;
	json_array_foreach(rj, i, r) {
		if (cf_request_from_json(r, &req, &err) != CF_OK) {
			(void)fprintf(stderr, "coffer: %s: request %zu: %s\n",
			    rfile, i, err.msg);
			status = CF_EXIT_INPUT;
			goto out;
		}
		if (cf_policy_authorize(ps, es, req, resp, &err) != CF_OK)
			goto fail;
		cf_request_free(req);
		req = NULL;
		out = cf_response_to_json(resp);
		line = out != NULL ? cf_json_dumps_flags(out, JSON_COMPACT |
		    JSON_ENSURE_ASCII) : NULL;
		json_decref(out);
		if (line == NULL) {
			(void)cf_error_set(&err, CF_E_NOMEM, "out of memory");
			goto fail;
		}
		(void)printf("%s\n", line);
		free(line);
	}
	status = CF_EXIT_OK;
	goto out;
fail:
	(void)fprintf(stderr, "coffer: %s\n", err.msg);
	status = err.code == CF_E_INPUT ? CF_EXIT_INPUT : CF_EXIT_FAIL;
out:
	if (fflush(stdout) != 0 && status == CF_EXIT_OK)
		status = CF_EXIT_FAIL;
	cf_request_free(req);
	cf_response_free(resp);
	cf_entities_free(es);
	cf_policy_set_free(ps);
	json_decref(ej);
	json_decref(rj);
	json_decref(lj);
	cf_free(text);
	return status;
}

/* A policy syntax error as a validation result: err.msg is
 * "line:col: message". */
static void
print_syntax_error(const char *pfile, const struct cf_error *err,
    bool as_json)
{
	unsigned int	 line = 0, col = 0;
	const char	*msg = err->msg, *p;
	json_t		*o;
	char		*text;

	if (sscanf(err->msg, "%u:%u:", &line, &col) == 2) {
		p = strstr(err->msg, ": ");
		if (p != NULL)
			msg = p + 2;
	}
	if (!as_json) {
		(void)printf("%s:%s\n", pfile, err->msg);
		return;
	}
	o = json_pack("{s:b, s:[{s:n, s:I, s:I, s:s}]}", "valid", 0,
	    "errors", "policy", "line", (json_int_t)line, "col",
	    (json_int_t)col, "message", msg);
	text = o != NULL ? cf_json_dumps_flags(o, JSON_COMPACT |
	    JSON_ENSURE_ASCII) : NULL;
	(void)printf("%s\n", text != NULL ? text : "{\"valid\":false}");
	free(text);
	json_decref(o);
}

/* Violations of one check into out (JSON) or stdout (text); label is
 * the entity name to use instead of "request" (NULL: keep). */
static int
print_violations(const struct cf_entity_check *ec, const char *file,
    const char *label, json_t *out)
{
	const char	*ent, *path;
	size_t		 i;
	json_t		*e;

	for (i = 0; i < cf_entity_check_error_count(ec); i++) {
		ent = cf_entity_check_error_entity(ec, i);
		path = cf_entity_check_error_path(ec, i);
		if (label != NULL && strcmp(ent, "request") == 0)
			ent = label;
		if (out == NULL) {
			(void)printf("%s: %s: %s%s%s\n", file, ent, path,
			    path[0] != '\0' ? ": " : "",
			    cf_entity_check_error_msg(ec, i));
			continue;
		}
		e = json_pack("{s:s, s:s, s:s, s:s}", "file", file, "entity",
		    ent, "path", path, "message",
		    cf_entity_check_error_msg(ec, i));
		if (e == NULL || json_array_append_new(out, e) != 0)
			return -1;
	}
	if (cf_entity_check_dropped(ec) > 0 && out == NULL)
		(void)printf("%s: (%zu more violations)\n", file,
		    cf_entity_check_dropped(ec));
	return 0;
}

/* One problem that is not a schema violation (unreadable JSON, what the
 * schema-less loader refuses) as a violation of the file. */
static int
print_problem(const char *file, const char *msg, json_t *out)
{
	if (out == NULL) {
		(void)printf("%s: %s\n", file, msg);
		return 0;
	}
	return json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}",
	    "file", file, "entity", "", "path", "", "message", msg));
}

/* validate --entities/--request: exit 0 valid, 1 violations (or JSON
 * that does not parse), 2 unreadable files or schema. */
static int
validate_entities(const char *sfile, const char *efile, const char *rfile,
    bool as_json)
{
	struct cf_schema	*sch = NULL;
	struct cf_entity_check	*ec = NULL;
	struct cf_entities	*es = NULL;
	struct cf_error		 err;
	char			*stext = NULL, *etext = NULL, *rtext = NULL;
	char			*line = NULL, label[48];
	size_t			 slen, elen = 0, rlen = 0, i, n;
	json_t			*ej = NULL, *rj = NULL, *errs = NULL, *o;
	bool			 valid = true;
	int			 status = CF_EXIT_USAGE;

	cf_error_clear(&err);
	if (slurp(sfile, &stext, &slen, &err) != CF_OK ||
	    (efile != NULL && slurp(efile, &etext, &elen, &err) != CF_OK) ||
	    (rfile != NULL && slurp(rfile, &rtext, &rlen, &err) != CF_OK)) {
		(void)fprintf(stderr, "coffer: %s\n", err.msg);
		goto out;
	}
	if (cf_schema_parse(stext, slen, &sch, &err) != CF_OK) {
		(void)fprintf(stderr, "%s:%s\n", sfile, err.msg);
		goto out;
	}
	status = CF_EXIT_FAIL;
	if (as_json && (errs = json_array()) == NULL)
		goto nomem;
	if (cf_entity_check_new(&ec, &err) != CF_OK)
		goto nomem;
	if (efile != NULL) {
		cf_error_clear(&err);
		if (cf_policy_json_parse(etext, elen, &ej, &err) != CF_OK) {
			if (err.code == CF_E_NOMEM)
				goto nomem;
			valid = false;
			if (print_problem(efile, err.msg, errs) != 0)
				goto nomem;
		} else {
			if (cf_schema_check_entities(sch, ej, ec, &err) !=
			    CF_OK)
				goto nomem;
			valid = cf_entity_check_ok(ec);
			if (print_violations(ec, efile, NULL, errs) != 0)
				goto nomem;
			/* What the engine's own loader refuses too (a
			 * hierarchy cycle): the entities would not load. */
			cf_error_clear(&err);
			if (valid && cf_entities_from_json(ej, &es, &err) !=
			    CF_OK) {
				if (err.code == CF_E_NOMEM)
					goto nomem;
				valid = false;
				if (print_problem(efile, err.msg, errs) != 0)
					goto nomem;
			}
		}
	}
	if (rfile != NULL) {
		cf_error_clear(&err);
		if (cf_policy_json_parse(rtext, rlen, &rj, &err) != CF_OK) {
			if (err.code == CF_E_NOMEM)
				goto nomem;
			valid = false;
			if (print_problem(rfile, err.msg, errs) != 0)
				goto nomem;
		} else {
			n = json_is_array(rj) ? json_array_size(rj) : 1;
			for (i = 0; i < n; i++) {
				cf_entity_check_clear(ec);
				if (cf_schema_check_request_json(sch,
				    json_is_array(rj) ? json_array_get(rj, i) :
				    rj, ec, &err) != CF_OK)
					goto nomem;
				(void)snprintf(label, sizeof(label),
				    "request[%zu]", i);
				if (!cf_entity_check_ok(ec))
					valid = false;
				if (print_violations(ec, rfile,
				    json_is_array(rj) ? label : NULL, errs) !=
				    0)
					goto nomem;
			}
		}
	}
	if (as_json) {
		o = json_pack("{s:b, s:O}", "valid", valid, "errors", errs);
		line = o != NULL ? cf_json_dumps_flags(o, JSON_COMPACT |
		    JSON_ENSURE_ASCII) : NULL;
		json_decref(o);
		if (line == NULL)
			goto nomem;
		(void)printf("%s\n", line);
	}
	status = valid ? CF_EXIT_OK : CF_EXIT_FAIL;
	goto out;
nomem:
	(void)fprintf(stderr, "coffer: out of memory\n");
	status = CF_EXIT_FAIL;
out:
	if (fflush(stdout) != 0 && status == CF_EXIT_OK)
		status = CF_EXIT_FAIL;
	free(line);
	json_decref(errs);
	json_decref(ej);
	json_decref(rj);
	cf_entities_free(es);
	cf_entity_check_free(ec);
	cf_schema_free(sch);
	cf_free(stext);
	cf_free(etext);
	cf_free(rtext);
	return status;
}

static int
cmd_validate(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "schema", required_argument, NULL, 's' },
		{ "policies", required_argument, NULL, 'p' },
		{ "entities", required_argument, NULL, 'e' },
		{ "request", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char		*sfile = NULL, *pfile = NULL, *efile = NULL;
	const char		*rfile = NULL;
	struct cf_schema	*sch = NULL;
	struct cf_policy_set	*ps = NULL;
	struct cf_validation	*v = NULL;
	struct cf_error		 err;
	char			*stext = NULL, *ptext = NULL, *line;
	size_t			 slen, plen, i;
	json_t			*out;
	bool			 as_json = false;
	int			 ch, status = CF_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 's': sfile = optarg; break;
		case 'p': pfile = optarg; break;
		case 'e': efile = optarg; break;
		case 'r': rfile = optarg; break;
		case 'j': as_json = true; break;
		case 'h':
			(void)fputs(policy_usage, stdout);
			return CF_EXIT_OK;
		default:
			(void)fputs(policy_usage, stderr);
			return CF_EXIT_USAGE;
		}
	}
	/* Policies, or entities and requests: one verdict each. */
	if (sfile == NULL || optind != argc || (pfile == NULL) ==
	    (efile == NULL && rfile == NULL)) {
		(void)fputs(policy_usage, stderr);
		return CF_EXIT_USAGE;
	}
	if (pfile == NULL)
		return validate_entities(sfile, efile, rfile, as_json);
	cf_error_clear(&err);
	if (slurp(sfile, &stext, &slen, &err) != CF_OK ||
	    slurp(pfile, &ptext, &plen, &err) != CF_OK) {
		(void)fprintf(stderr, "coffer: %s\n", err.msg);
		goto out;
	}
	if (cf_schema_parse(stext, slen, &sch, &err) != CF_OK) {
		/* No schema, nothing to validate against: not a verdict. */
		(void)fprintf(stderr, "%s:%s\n", sfile, err.msg);
		goto out;
	}
	if (cf_policy_set_parse(ptext, plen, &ps, &err) != CF_OK) {
		if (err.code != CF_E_INPUT) {
			(void)fprintf(stderr, "coffer: %s: %s\n", pfile,
			    err.msg);
			goto out;
		}
		print_syntax_error(pfile, &err, as_json);
		status = CF_EXIT_FAIL;
		goto out;
	}
	if (cf_validation_new(&v, &err) != CF_OK ||
	    cf_policy_validate(sch, ps, v, &err) != CF_OK) {
		(void)fprintf(stderr, "coffer: %s\n", err.msg);
		status = CF_EXIT_FAIL;
		goto out;
	}
	if (as_json) {
		out = cf_validation_to_json(v);
		line = out != NULL ? cf_json_dumps_flags(out, JSON_COMPACT |
		    JSON_ENSURE_ASCII) : NULL;
		json_decref(out);
		if (line == NULL) {
			(void)fprintf(stderr, "coffer: out of memory\n");
			status = CF_EXIT_FAIL;
			goto out;
		}
		(void)printf("%s\n", line);
		free(line);
	} else
		for (i = 0; i < cf_validation_error_count(v); i++)
			(void)printf("%s:%u:%u: policy %s: %s\n", pfile,
			    cf_validation_error_line(v, i),
			    cf_validation_error_col(v, i),
			    cf_validation_error_policy(v, i),
			    cf_validation_error_msg(v, i));
	status = cf_validation_ok(v) ? CF_EXIT_OK : CF_EXIT_FAIL;
out:
	if (fflush(stdout) != 0 && status == CF_EXIT_OK)
		status = CF_EXIT_FAIL;
	cf_validation_free(v);
	cf_policy_set_free(ps);
	cf_schema_free(sch);
	cf_free(stext);
	cf_free(ptext);
	return status;
}

static int
cmd_schema(void)
{
	struct cf_buf	b;
	struct cf_error	err;
	int		status = CF_EXIT_OK;

	cf_error_clear(&err);
	cf_buf_init(&b, 1u << 20);
	if (cf_core_policy_schema(&b, &err) != CF_OK) {
		(void)fprintf(stderr, "coffer: policy schema: %s\n", err.msg);
		status = CF_EXIT_FAIL;
	} else if (fwrite(b.data, 1, b.len, stdout) != b.len)
		status = CF_EXIT_FAIL;
	cf_buf_free(&b);
	return status;
}

int
cf_cmd_policy(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		(void)fputs(policy_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CF_EXIT_USAGE : CF_EXIT_OK;
	}
	if (strcmp(argv[1], "check") == 0) {
		if (argc == 3 && strcmp(argv[2], "--help") == 0) {
			(void)fputs(policy_usage, stdout);
			return CF_EXIT_OK;
		}
		return cmd_check(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "eval") == 0)
		return cmd_eval(argc - 1, argv + 1);
	if (strcmp(argv[1], "validate") == 0)
		return cmd_validate(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return cf_cmd_policy_explain(argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return cf_cmd_policy_replay(argc - 1, argv + 1);
	if (strcmp(argv[1], "schema") == 0 && argc == 2)
		return cmd_schema();
	if (strcmp(argv[1], "builtin") == 0 && argc == 2)
		return fputs(cf_core_builtin_policies(), stdout) < 0 ?
		    CF_EXIT_FAIL : CF_EXIT_OK;
	if (cf_cmd_policy_admin_has(argv[1]))
		return cf_cmd_policy_admin(argc, argv);
	(void)fprintf(stderr, "coffer: policy: unknown subcommand \"%s\"\n%s",
	    argv[1], policy_usage);
	return CF_EXIT_USAGE;
}

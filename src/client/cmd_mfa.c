/* src/client/cmd_mfa.c: `coffer mfa enroll|confirm|disable`: TOTP
 * enrollment of the calling user (docs/api.md "Users and MFA
 * enrollment").
 *
 * SEC: enroll shows the TOTP secret (as an otpauth:// URI, a QR code and
 * base32 text) and the one-time recovery codes exactly once, on standard
 * output, as the user asked; every copy we hold is wiped afterwards and
 * none is logged.  The answer is not a credential until confirmed with a
 * valid code. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"
#include "crypto/qr.h"

static const char mfa_usage[] =
    "usage: coffer mfa enroll [--no-qr] [--invert] [--code CODE]\n"
    "       coffer mfa confirm [--code CODE]\n"
    "       coffer mfa disable [--password-stdin]\n"
    "                          [--code CODE | --recovery-code CODE]\n"
    "\n"
    "enroll starts multi-factor authentication for your user: it shows an\n"
    "otpauth:// URI and a QR code for an authenticator app, and ten one-time\n"
    "recovery codes (shown once: store them safely), then asks for a code\n"
    "from the app and confirms.  Without a terminal and without --code,\n"
    "confirm later with coffer mfa confirm --code CODE.  --invert draws the\n"
    "QR code for dark text on a light background.  disable asks for your\n"
    "password and a current code; with a lost phone, give one of your\n"
    "recovery codes instead (--recovery-code, or type it when asked), then\n"
    "enroll the new phone.\n";

#define MFA_OPT_NOQR	0x201
#define MFA_OPT_INVERT	0x202
#define MFA_OPT_PWSTDIN	0x203
#define MFA_OPT_RECOVERY	0x204

struct mfa_ctx {
	bool		 noqr;
	bool		 invert;
	bool		 pwstdin;
	const char	*recovery;	/* --recovery-code, borrowed */
};

static bool
mfa_opt(void *arg, int ch, char *val)
{
	struct mfa_ctx	*c = arg;

	if (ch == MFA_OPT_NOQR)
		c->noqr = true;
	else if (ch == MFA_OPT_INVERT)
		c->invert = true;
	else if (ch == MFA_OPT_PWSTDIN)
		c->pwstdin = true;
	else if (ch == MFA_OPT_RECOVERY)
		c->recovery = val;
	else
		return false;
	return true;
}

/* The code: --code, else asked on the terminal. */
static cf_err
get_code(const struct cf_cli_opts *o, const char *prompt, char *buf,
    size_t bufsz, struct cf_error *err)
{
	if (o->code != NULL) {
		if (cf_strlcpy(buf, o->code, bufsz) >= bufsz)
			return cf_error_set(err, CF_E_LIMIT, "the code is too "
			    "long");
		return CF_OK;
	}
	return cf_cli_prompt_secret(prompt, buf, bufsz, err);
}

static cf_err
confirm(struct cf_http *h, const struct cf_cli_opts *o,
    struct cf_error *err)
{
	char	 code[CF_CLI_SECRET_MAX + 1];
	json_t	*body = NULL, *v = NULL;
	cf_err	 rc;

	rc = get_code(o, "Code from your authenticator app", code,
	    sizeof(code), err);
	if (rc != CF_OK)
		goto out;
	body = json_pack("{s:s}", "code", code);
	if (body == NULL) {
		rc = cf_error_set(err, CF_E_INPUT, "the code is not valid "
		    "UTF-8");
		goto out;
	}
	rc = cf_http_json(h, "POST", "/v1/mfa/confirm", body, &v, err);
	if (rc == CF_OK)
		rc = cf_http_adopt_session(h, v, err);
	if (rc == CF_OK && !o->quiet && !o->json)
		(void)printf("multi-factor authentication is on\n");
out:
	cf_cli_json_wipe_member(body, "code");
	json_decref(body);
	json_decref(v);
	cf_wipe(code, sizeof(code));
	return rc;
}

static void
print_enroll(const json_t *v, const struct mfa_ctx *c)
{
	const char	*uri, *secret;
	json_t		*e;
	size_t		 i;
	struct cf_error	 err = { 0 };
	char		 line[1100];

	uri = cf_cli_jstr(v, "uri", "");
	secret = cf_cli_jstr(v, "secret", "");
	(void)printf("Add this account to your authenticator app:\n\n");
	if (!c->noqr && *uri != '\0') {
		(void)fflush(stdout);
		if (cf_qr_render_utf8(uri, c->invert, stdout, &err) != CF_OK)
			cf_cli_warnx("cannot draw the QR code: %s", err.msg);
		(void)printf("\n");
	}
	cf_cli_sanitize(uri, line, sizeof(line));
	(void)printf("  URI:    %s\n", line);
	cf_cli_sanitize(secret, line, sizeof(line));
	(void)printf("  secret: %s\n\n", line);
	(void)printf("Recovery codes (each works once; store them somewhere "
	    "safe, they are not shown again):\n");
	json_array_foreach(json_object_get(v, "recovery_codes"), i, e) {
		cf_cli_sanitize(json_string_value(e) != NULL ?
		    json_string_value(e) : "?", line, sizeof(line));
		(void)printf("  %s\n", line);
	}
	(void)printf("\n");
	(void)fflush(stdout);
	cf_wipe(line, sizeof(line));
}

static int
mfa_enroll(const struct cf_cli_opts *o, const struct mfa_ctx *c)
{
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	json_t			*v = NULL;
	int			 ex;
	cf_err			 rc;

	rc = cf_cli_sess_open(o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "POST", "/v1/mfa/enroll", NULL, &v,
		    &err);
	if (rc != CF_OK)
		goto out;
	if (o->json)
		cf_cli_print_json(v);
	else
		print_enroll(v, c);
	if (o->code == NULL && !cf_cli_have_tty()) {
		if (!o->json)
			(void)printf("Confirm with: coffer mfa confirm --code "
			    "CODE\n");
		goto out;
	}
	rc = confirm(s.h, o, &err);
out:
	ex = cf_cli_finish(&s, rc, &err);
	cf_cli_json_wipe_member(v, "secret");
	cf_cli_json_wipe_member(v, "uri");
	cf_cli_json_wipe_array(v, "recovery_codes");
	json_decref(v);
	cf_cli_sess_close(&s);
	return ex;
}

static int
mfa_confirm(const struct cf_cli_opts *o)
{
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	int			 ex;
	cf_err			 rc;

	rc = cf_cli_sess_open(o, true, &s, &err);
	if (rc == CF_OK)
		rc = confirm(s.h, o, &err);
	if (rc == CF_OK && o->json)
		(void)printf("{\"mfa_enabled\":true}\n");
	ex = cf_cli_finish(&s, rc, &err);
	cf_cli_sess_close(&s);
	return ex;
}

static int
mfa_disable(const struct cf_cli_opts *o, const struct mfa_ctx *c)
{
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	char			 pw[CF_CLI_SECRET_MAX + 1];
	char			 code[CF_CLI_SECRET_MAX + 1];
	const char		*member = "code";
	json_t			*body = NULL, *v = NULL;
	int			 ex;
	cf_err			 rc;

	pw[0] = code[0] = '\0';
	rc = cf_cli_sess_open(o, true, &s, &err);
	if (rc != CF_OK)
		goto out;
	if (c->pwstdin)
		rc = cf_cli_read_line(0, pw, sizeof(pw), &err);
	else
		rc = cf_cli_prompt_secret("Password", pw, sizeof(pw), &err);
	if (rc == CF_OK && c->recovery != NULL) {
		member = "recovery_code";
		if (cf_strlcpy(code, c->recovery, sizeof(code)) >=
		    sizeof(code))
			rc = cf_error_set(&err, CF_E_LIMIT, "the recovery "
			    "code is too long");
	} else if (rc == CF_OK) {
		rc = get_code(o, "Code from your authenticator app (or a "
		    "recovery code)", code, sizeof(code), &err);
		/* Typed: a recovery code is told from a TOTP code by its
		 * form, as at login; --code is always a TOTP code. */
		if (rc == CF_OK && o->code == NULL &&
		    !cf_cli_is_totp_code(code))
			member = "recovery_code";
	}
	if (rc != CF_OK)
		goto out;
	body = json_pack("{s:s, s:s}", "password", pw, member, code);
	if (body == NULL) {
		rc = cf_error_set(&err, CF_E_INPUT, "password or code is not "
		    "valid UTF-8");
		goto out;
	}
	/* The code here is the fresh proof itself: no step-up around it. */
	cf_http_set_stepup(s.h, false);
	rc = cf_http_json(s.h, "POST", "/v1/mfa/disable", body, &v, &err);
	if (rc != CF_OK)
		goto out;
	if (o->json)
		cf_cli_print_json(v);
	else if (!o->quiet)
		(void)printf("multi-factor authentication is off\n");
out:
	ex = cf_cli_finish(&s, rc, &err);
	if (rc == CF_E_AUTH && s.h != NULL && o->code != NULL &&
	    !cf_cli_is_totp_code(o->code) &&
	    strcmp(cf_http_error_code(s.h), "invalid_code") == 0)
		cf_cli_warnx("--code takes a code from your authenticator "
		    "app; give a recovery code with --recovery-code");
	cf_cli_json_wipe_member(body, "password");
	cf_cli_json_wipe_member(body, "code");
	cf_cli_json_wipe_member(body, "recovery_code");
	json_decref(body);
	json_decref(v);
	cf_wipe(pw, sizeof(pw));
	cf_wipe(code, sizeof(code));
	cf_cli_sess_close(&s);
	return ex;
}

int
cf_cmd_mfa(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "no-qr", no_argument, NULL, MFA_OPT_NOQR },
		{ "invert", no_argument, NULL, MFA_OPT_INVERT },
		{ "password-stdin", no_argument, NULL, MFA_OPT_PWSTDIN },
		{ "recovery-code", required_argument, NULL,
		    MFA_OPT_RECOVERY },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct mfa_ctx		 c = { 0 };
	char			**ops;
	const char		*sub;
	int			 nops, ex;

	sub = argc >= 2 ? argv[1] : "";
	if (strcmp(sub, "enroll") != 0 && strcmp(sub, "confirm") != 0 &&
	    strcmp(sub, "disable") != 0) {
		if (argc >= 2 && (strcmp(sub, "--help") == 0 ||
		    strcmp(sub, "-h") == 0)) {
			(void)fputs(mfa_usage, stdout);
			return CF_EXIT_OK;
		}
		if (argc >= 2)
			cf_cli_errx("mfa: unknown subcommand \"%s\"", sub);
		(void)fputs(mfa_usage, stderr);
		return CF_EXIT_USAGE;
	}
	ex = cf_cli_parse(argc - 1, argv + 1, mfa_usage,
	    CF_CLI_COMMON_SHORTOPTS, lo, mfa_opt, &c, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	if (c.recovery != NULL && (o.code != NULL ||
	    strcmp(sub, "disable") != 0)) {
		(void)fputs(mfa_usage, stderr);
		return CF_EXIT_USAGE;
	}
	if (strcmp(sub, "enroll") == 0)
		return mfa_enroll(&o, &c);
	if (strcmp(sub, "confirm") == 0)
		return mfa_confirm(&o);
	return mfa_disable(&o, &c);
}

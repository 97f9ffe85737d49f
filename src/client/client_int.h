/* src/client/client_int.h: shared internals of the `coffer` CLI (config,
 * HTTP layer, argument helpers).  Only src/client/ and its unit test
 * include this header.
 *
 * Split by what each part links against, so the offline pieces (util.c,
 * config.c) can be unit-tested without libcurl or the crypto library:
 *   util.c    URL/key encoding, NS/KEY parsing, safe relative paths, error
 *             bodies, exit codes, option helpers, output formatting
 *   config.c  the user's config file and the COFFER_* environment
 *   http.c    libcurl: JSON requests, streaming upload/download, progress
 *   sink.c    a download's body: written to its fd and hashed, large ones
 *             on a thread of their own
 *   cmd_*.c   the commands */
#ifndef CF_CLIENT_CLIENT_INT_H
#define CF_CLIENT_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/error.h"
#include "crypto/crypto.h"

#define CF_CLI_VERSION		"0.1.0"

/* Environment variables (they override the config file; command-line
 * options override them). */
#define CF_ENV_CONFIG		"COFFER_CONFIG"
#define CF_ENV_SERVER		"COFFER_SERVER"
#define CF_ENV_TOKEN		"COFFER_TOKEN"
#define CF_ENV_CA_CERT		"COFFER_CA_CERT"
#define CF_ENV_MFA_CODE		"COFFER_MFA_CODE"	/* step-up code */
#define CF_ENV_RETRIES		"COFFER_RETRIES"	/* 429 retries */

#define CF_CLI_PATH_MAX		4096
#define CF_CLI_TOKEN_MAX	8192	/* longest token (OIDC JWTs) */
#define CF_CLI_JSON_MAX		(64u << 20)	/* largest JSON response */
#define CF_CLI_ERRBODY_MAX	(64u << 10)	/* largest error body kept */
#define CF_CLI_SECRET_MAX	4096	/* longest password or code typed */

/* ---- options shared by every networked command (util.c) ---- */

struct cf_cli_opts {
	bool		 json;		/* --json: machine-readable output */
	bool		 quiet;		/* --quiet: no progress, less chatter */
	bool		 insecure;	/* --insecure: no TLS verification */
	bool		 help;		/* --help was given */
	const char	*server;	/* --server URL (borrowed from argv) */
	const char	*ca_cert;	/* --ca-cert FILE (borrowed) */
	const char	*code;		/* --code: MFA code for step-up */
};

/* getopt_long entries for the options above; commands copy them into
 * their own tables with CF_CLI_COMMON_LONGOPTS. */
#define CF_CLI_OPT_JSON		0x101
#define CF_CLI_OPT_SERVER	0x102
#define CF_CLI_OPT_CA_CERT	0x103
#define CF_CLI_OPT_INSECURE	0x104
#define CF_CLI_OPT_CODE		0x105
#define CF_CLI_COMMON_LONGOPTS						\
	{ "json", no_argument, NULL, CF_CLI_OPT_JSON },			\
	{ "quiet", no_argument, NULL, 'q' },				\
	{ "server", required_argument, NULL, CF_CLI_OPT_SERVER },	\
	{ "ca-cert", required_argument, NULL, CF_CLI_OPT_CA_CERT },	\
	{ "insecure", no_argument, NULL, CF_CLI_OPT_INSECURE },		\
	{ "code", required_argument, NULL, CF_CLI_OPT_CODE },		\
	{ "help", no_argument, NULL, 'h' }
#define CF_CLI_COMMON_SHORTOPTS	"qh"

/* Handle one common option returned by getopt_long; true when ch was one
 * of them (optarg is borrowed into o). */
bool	cf_cli_common_opt(int ch, const char *arg, struct cf_cli_opts *o);

/* Option parsing over getopt_long (GNU: options may follow operands).
 * Call cf_cli_getopt_begin() before the first cf_cli_nextopt() of a
 * command.  cf_cli_nextopt returns -1 at the end, 0 for a common option
 * (recorded in o), '?' after printing a message for an unknown option or
 * a missing argument, else the command's own option character (its
 * argument is cf_cli_optarg()).  Operands are argv[cf_cli_optind()..]. */
struct option;
void	 cf_cli_getopt_begin(void);
int	 cf_cli_nextopt(int argc, char **argv, const char *shortopts,
	    const struct option *lo, struct cf_cli_opts *o);
char	*cf_cli_optarg(void);
int	 cf_cli_optind(void);

/* A command's own options: handle ch (argument arg); false means a usage
 * error (the callback may print why). */
typedef bool (*cf_cli_optfn)(void *ctx, int ch, char *arg);
/* Parse a command line: common options into o, the command's own through
 * fn (may be NULL), then check the operand count is in [min_ops, max_ops]
 * (max_ops < 0: no limit).  Returns -1 to go on, with the operands in
 * *ops / *nops, or the exit code to return at once: CF_EXIT_OK after
 * printing usage to stdout for --help, CF_EXIT_USAGE after printing it to
 * stderr. */
int	cf_cli_parse(int argc, char **argv, const char *usage,
	    const char *shortopts, const struct option *lo, cf_cli_optfn fn,
	    void *ctx, int min_ops, int max_ops, struct cf_cli_opts *o,
	    char ***ops, int *nops);

/* Print "coffer: <msg>\n" to stderr (the error line of every command). */
void	cf_cli_errx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	cf_cli_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* SIGINT/SIGTERM/SIGHUP: the handler only records the signal; transfers
 * poll cf_cli_interrupted() and abort, so temporary files are removed,
 * then cf_cli_finish() re-raises the signal with its default action (the
 * shell sees the usual death by signal). */
void	cf_cli_signals_install(void);
int	cf_cli_interrupted(void);	/* the signal number, or 0 */

/* Answers 429 with a Retry-After are sent again after that many seconds
 * (docs/cli.md, "Busy servers"): at most CF_CLI_RETRIES_DEFAULT times, or
 * COFFER_RETRIES (0 .. CF_CLI_RETRIES_MAX), and only when Retry-After is
 * a number of seconds up to CF_CLI_RETRY_AFTER_MAX; never for a locked
 * account (errcode "locked": waiting does not help).  done: retries made
 * so far.  True, with *secs, when the request should be sent again. */
#define CF_CLI_RETRIES_DEFAULT	3
#define CF_CLI_RETRIES_MAX	10
#define CF_CLI_RETRY_AFTER_MAX	60
bool	cf_cli_retry_wanted(long status, const char *errcode,
	    const char *retry_after, unsigned done, unsigned max,
	    unsigned *secs);
/* The retries allowed (COFFER_RETRIES, else the default; a bad value is
 * the default). */
unsigned cf_cli_retries(void);
/* Tests: replace the wait between retries (NULL: sleep, interruptible by
 * SIGINT/SIGTERM). */
typedef void	(*cf_cli_sleep_fn)(unsigned secs);
void	cf_cli_set_retry_sleep(cf_cli_sleep_fn fn);
void	cf_cli_reraise(void);		/* no-op when not interrupted */

/* Exit code for a local (non-HTTP) error code. */
int	cf_cli_exit_for_err(cf_err rc);
/* Exit code for an HTTP status >= 400 (401 AUTH, 403 DENIED, 404
 * NOTFOUND, 409 CONFLICT, 429 LIMITED, 400/413/416/other 4xx INPUT, 5xx
 * SERVER). */
int	cf_cli_exit_for_status(long status);
/* cf_err matching an HTTP status >= 400, for struct cf_error codes. */
cf_err	cf_cli_err_for_status(long status);

/* ---- encoding and parsing (util.c) ---- */

/* Append s to b percent-encoded byte-wise: unreserved characters
 * (A-Z a-z 0-9 - . _ ~) are kept, and '/' too when keep_slash; every other
 * byte becomes %XX (upper-case hex). */
cf_err	cf_cli_urlenc(struct cf_buf *b, const char *s, bool keep_slash,
	    struct cf_error *err);

/* Split "NS/KEY" at the first '/'.  *ns and *key are new strings (free
 * with cf_free).  need_key: KEY must be non-empty (objects); otherwise
 * "NS" and "NS/" give an empty key (listing prefixes).  CF_E_INPUT for an
 * empty NS or, with need_key, a missing key. */
cf_err	cf_cli_split_nskey(const char *arg, bool need_key, char **ns,
	    char **key, struct cf_error *err);

/* Build "/v1/ns/{ns}/{what}/{key}" (what: "objects" or "versions") with
 * both parts percent-encoded into b (reset first). */
cf_err	cf_cli_obj_path(struct cf_buf *b, const char *ns, const char *what,
	    const char *key, struct cf_error *err);

/* SEC: true when rel is safe to create under a directory: not empty, not
 * absolute, no empty, "." or ".." component, no trailing '/', no control
 * characters, and no longer than CF_CLI_PATH_MAX.  pull uses it so that
 * a key chosen by whoever wrote the namespace can never make us write
 * outside the target directory. */
bool	cf_cli_relpath_safe(const char *rel);

/* For `pull NS/PREFIX DIR`: the path of key below prefix, where prefix
 * is "" or ends with '/'.  Returns a pointer into key, or NULL when key
 * does not start with prefix. */
const char *cf_cli_key_rel(const char *key, const char *prefix);

/* Parse an error body {"error":{"code","message","request_id"}} of an
 * HTTP response with the given status into msg (msgsz):
 * "<message> (<code>, request <id>)".  Falls back to the status text
 * ("HTTP 502") when the body is not such an object; the request id from
 * the X-Request-Id header (reqid, may be NULL) is used when the body has
 * none.  Untrusted text is sanitized (control characters dropped). */
void	cf_cli_error_body(long status, const void *body, size_t len,
	    const char *reqid, char *msg, size_t msgsz);

/* The API error code ("mfa_required") of an error body into out (outsz),
 * sanitized; false (out "") when the body is not an API error object. */
bool	cf_cli_error_code(const void *body, size_t len, char *out,
	    size_t outsz);

/* SEC: overwrite the bytes of v's string member name, if any (passwords,
 * codes, secrets), before v is released. */
void	cf_cli_json_wipe_member(json_t *v, const char *name);
/* SEC: as cf_cli_json_wipe_member for every string of an array member. */
void	cf_cli_json_wipe_array(json_t *v, const char *name);

/* ---- secrets typed by the user (prompt.c) ---- */

/* Read one line from fd (no buffering beyond the line, so the next call
 * reads the next line) into buf (bufsz), without its CR/LF.  CF_E_LIMIT
 * when the line does not fit (the rest of the line is consumed),
 * CF_E_INPUT at end of input before any byte or for a NUL byte, CF_E_IO
 * on a read error.  SEC: buf is wiped on failure. */
cf_err	cf_cli_read_line(int fd, char *buf, size_t bufsz,
	    struct cf_error *err);

/* true when /dev/tty can be opened (someone can answer a prompt). */
bool	cf_cli_have_tty(void);

/* Print prompt on /dev/tty and read one line from it with echo off
 * (termios), restoring the terminal even on SIGINT.  CF_E_INPUT when
 * there is no terminal (hint: --password-stdin / --code) or the answer
 * is empty; otherwise as cf_cli_read_line. */
cf_err	cf_cli_prompt_secret(const char *prompt, char *buf, size_t bufsz,
	    struct cf_error *err);

/* A new password: from fd (one line) when fd >= 0, else prompted twice on
 * the terminal, which must match.  prompt names it ("New password"). */
cf_err	cf_cli_new_password(int fd, const char *prompt, char *buf,
	    size_t bufsz, struct cf_error *err);

/* true when s looks like a TOTP code (6-8 digits);
 * otherwise a typed "code" is sent as a recovery code. */
bool	cf_cli_is_totp_code(const char *s);

/* Human-readable size ("1.5 MiB") into out. */
void	cf_cli_fmt_size(uint64_t n, char *out, size_t outsz);

/* The string member name of o, or def when absent or not a string. */
const char *cf_cli_jstr(const json_t *o, const char *name, const char *def);

/* "2026-11-27T10:49:27.123456Z" -> "2026-11-27 10:49:27" (out >= 20). */
void	cf_cli_fmt_time(const char *rfc3339, char *out, size_t outsz);

/* SEC: overwrite the bytes of v's "token" string member, if any, before v
 * is released (token create). */
void	cf_cli_json_wipe_token(json_t *v);

/* Print v to stdout as one compact JSON line. */
void	cf_cli_print_json(const json_t *v);

/* Copy an untrusted string for the terminal: control characters become
 * '?' so a server cannot inject escape sequences. */
void	cf_cli_sanitize(const char *s, char *out, size_t outsz);

/* ---- configuration (config.c) ---- */

struct cf_cfg {
	char	*server;	/* base URL, no trailing '/'; NULL if unset */
	char	*token;		/* SEC: secret; wiped by cf_cfg_free */
	char	*ca_cert;	/* CA bundle path; NULL: system store */
};

/* The config file path: $COFFER_CONFIG, else
 * $XDG_CONFIG_HOME/coffer/config.json, else ~/.config/coffer/config.json
 * (HOME, or the password database). */
cf_err	cf_cfg_path(char *out, size_t outsz, struct cf_error *err);

/* Load the config file at path.  A missing file gives an empty config
 * (CF_OK).  Unknown members are ignored; a member of the wrong type or an
 * unparsable file is CF_E_INPUT.  Warns on stderr when the file is
 * readable by group or others.  On success *out owns a config. */
cf_err	cf_cfg_load(const char *path, struct cf_cfg **out,
	    struct cf_error *err);

/* Override fields from COFFER_SERVER, COFFER_TOKEN, COFFER_CA_CERT. */
cf_err	cf_cfg_apply_env(struct cf_cfg *c, struct cf_error *err);

/* Replace *field with a copy of val (NULL clears); the old value is
 * wiped before it is freed. */
cf_err	cf_cfg_set(char **field, const char *val, struct cf_error *err);

/* Write c to path atomically: the parent directory is created (0700) if
 * missing, the file is written to a temporary file of mode 0600 in the
 * same directory, fsync'ed and renamed over path.
 * SEC: the file holds the token; it is never created with wider mode. */
cf_err	cf_cfg_save(const struct cf_cfg *c, const char *path,
	    struct cf_error *err);

void	cf_cfg_free(struct cf_cfg *c);		/* wipes; NULL is a no-op */

/* SEC: true when tok is 1..CF_CLI_TOKEN_MAX printable ASCII bytes with no
 * space: it is sent in an HTTP header, so CR/LF must never get through. */
bool	cf_cli_token_ok(const char *tok);

/* Read a token from a file (first line, surrounding whitespace trimmed)
 * into a new string.  SEC: refuses control characters and spaces (the
 * token goes into an HTTP header) and more than CF_CLI_TOKEN_MAX bytes. */
cf_err	cf_cli_read_token_file(const char *path, char **out,
	    struct cf_error *err);

/* Normalize a server URL: must start with https:// or http://, a trailing
 * '/' is dropped.  New string in *out. */
cf_err	cf_cli_norm_server(const char *url, char **out, struct cf_error *err);

/* Load config, apply env and the command-line options of o: the
 * effective settings of a command.  CF_E_INPUT (with a hint to run
 * `coffer login`) when there is no server or no token. */
cf_err	cf_cli_effective_cfg(const struct cf_cli_opts *o, bool need_token,
	    struct cf_cfg **out, struct cf_error *err);

/* ---- download sink (sink.c) ---- */

/* Where a download's body goes: every byte given to cf_cli_sink_write is
 * written to fd (all of it, retrying after EINTR) and then hashed, in
 * order.  Once more than 1 MiB has arrived this happens on a thread of
 * the sink's own, through a few fixed 1 MiB buffers (the caller copies
 * and waits when all are queued); below that, or when the thread or its
 * buffers cannot be had, synchronously in the caller.  Not thread-safe:
 * one caller thread per sink. */
struct cf_cli_sink;

/* A sink writing to fd (borrowed; it must stay open until the sink is
 * finished).  *out owns it, for cf_cli_sink_free. */
cf_err	cf_cli_sink_new(int fd, struct cf_cli_sink **out,
	    struct cf_error *err);

/* Add len bytes of p (copied or written before returning).  CF_E_IO when
 * this or an earlier write to fd failed, also one made by the thread:
 * then nothing more is written, and cf_cli_sink_errno() tells why. */
cf_err	cf_cli_sink_write(struct cf_cli_sink *s, const void *p, size_t len,
	    struct cf_error *err);

/* The end of the body (also after an aborted transfer): write what is
 * buffered, stop the thread and wait for it.  No write may follow.
 * Idempotent.  CF_E_IO as for cf_cli_sink_write. */
cf_err	cf_cli_sink_finish(struct cf_cli_sink *s, struct cf_error *err);

/* The errno of the first failed write, or 0. */
int	cf_cli_sink_errno(const struct cf_cli_sink *s);

/* Finish, then the SHA-256 of exactly the bytes written into d.  Once
 * only.  CF_E_IO (d untouched) when a write failed. */
cf_err	cf_cli_sink_final(struct cf_cli_sink *s, uint8_t d[CF_SHA256_LEN],
	    struct cf_error *err);

/* Stop the thread (without writing a partly filled buffer) and release
 * the sink.  NULL is a no-op. */
void	cf_cli_sink_free(struct cf_cli_sink *s);

/* ---- HTTP (http.c) ---- */

struct cf_http;		/* opaque: one libcurl handle, reused */

/* What a download or HEAD learnt from the response headers. */
struct cf_obj_info {
	long	 status;
	int64_t	 size;			/* Content-Length, -1 unknown */
	char	 sha256[65];		/* X-Coffer-SHA256, "" if absent */
	/* A version completed by reference (docs/api.md, "Digests"):
	 * X-Coffer-SHA256-Segments and X-Coffer-Segments, "" if absent */
	char	 sha256_segs[65];
	char	 segments[8193];
	char	 version_id[129];
	char	 content_type[257];
	char	 last_modified[65];
	char	 request_id[129];
	char	 retry_after[24];	/* Retry-After, "" if absent */
	json_t	*meta;			/* X-Coffer-Meta-*: object or NULL */
	json_t	*labels;		/* X-Coffer-Label-*: object or NULL */
};
void	cf_obj_info_clear(struct cf_obj_info *info);
/* One response header line (untrusted: from the server) into info; a
 * status line starts over.  Values are cut to their fields and control
 * characters replaced. */
void	cf_cli_parse_header(struct cf_obj_info *info, const char *buf,
	    size_t len);

/* Prepare a client for cfg (borrowed for the handle's life).  Prints the
 * --insecure warning once.  *out owns the handle. */
cf_err	cf_http_open(const struct cf_cfg *cfg, const struct cf_cli_opts *o,
	    struct cf_http **out, struct cf_error *err);
void	cf_http_close(struct cf_http *h);	/* wipes the token header */

/* Replace the token sent as Authorization (NULL: none); the old header is
 * wiped.  tok is copied. */
/* After a step-up or an MFA confirmation the server replaces the
 * session: take v's "token" (if any) for h, and save it in the settings
 * file when that held the old one (with COFFER_TOKEN set, warn that it is
 * stale).  v is borrowed. */
cf_err	cf_http_adopt_session(struct cf_http *h, const json_t *v,
	    struct cf_error *err);
cf_err	cf_http_set_token(struct cf_http *h, const char *tok,
	    struct cf_error *err);

/* Step-up (docs/api.md "MFA required"): a request answered 401
 * mfa_required is retried once after POST /v1/session/mfa with a code
 * taken from --code / COFFER_MFA_CODE (each used once) or asked on the
 * terminal.  Off for handles without a token and while logging in. */
void	cf_http_set_stepup(struct cf_http *h, bool on);

/* The API error code of the last error response ("" if none). */
const char *cf_http_error_code(const struct cf_http *h);

/* Send a JSON request (body may be NULL) to path ("/v1/...", encoded).
 * On 2xx, *out (may be NULL) receives the parsed body, or NULL if empty.
 * On 4xx/5xx the error body becomes err's message and the code follows
 * the status. */
cf_err	cf_http_json(struct cf_http *h, const char *method, const char *path,
	    const json_t *body, json_t **out, struct cf_error *err);

/* PUT the contents of fd, from its current offset to its end, to path.
 * size: the number of those bytes (the body's length and the progress
 * line), < 0 unknown (chunked).  sha256_hex: sent as X-Coffer-SHA256
 * when non-NULL (with Content-Length = size); NULL: hashed while sent,
 * the digest ending the body.  ctype may be NULL.
 * meta: NULL-terminated "Name: value" header lines (X-Coffer-Meta-...),
 * may be NULL.  label names the transfer on the progress line.  On 2xx
 * *out (may be NULL) receives the version record. */
cf_err	cf_http_put_fd(struct cf_http *h, const char *path, int fd,
	    int64_t size, const char *sha256_hex, const char *ctype,
	    const char *const *meta, const char *label, json_t **out,
	    struct cf_error *err);

/* GET path and write the body to fd, hashing it.  After the transfer the
 * body's length is checked against Content-Length and its SHA-256 against
 * X-Coffer-SHA256; CF_E_INTEGRITY on a mismatch or a body cut short.
 * Nothing is written to fd unless the status is 2xx.  info (may be NULL)
 * receives the headers. */
cf_err	cf_http_get_fd(struct cf_http *h, const char *path, int fd,
	    const char *label, struct cf_obj_info *info, struct cf_error *err);

/* HEAD path; info receives the headers.  On an error status the message
 * is built from the status and X-Request-Id (a HEAD has no body). */
cf_err	cf_http_head(struct cf_http *h, const char *path,
	    struct cf_obj_info *info, struct cf_error *err);

/* Exit code for the result rc of the handle's last request: the HTTP
 * status if it was an error, CF_EXIT_NETWORK if the server could not be
 * reached, else by rc. */
int	cf_http_exit(const struct cf_http *h, cf_err rc);

/* A command's connection: effective config and HTTP handle. */
struct cf_cli_sess {
	struct cf_cfg	*cfg;
	struct cf_http	*h;
};
/* Load the effective config (cf_cli_effective_cfg) and open a handle.
 * s must be zeroed; cf_cli_sess_close releases it (also on failure). */
cf_err	cf_cli_sess_open(const struct cf_cli_opts *o, bool need_token,
	    struct cf_cli_sess *s, struct cf_error *err);
void	cf_cli_sess_close(struct cf_cli_sess *s);
/* Print err's message and return the exit code for rc (0 if CF_OK). */
int	cf_cli_finish(const struct cf_cli_sess *s, cf_err rc,
	    const struct cf_error *err);

/* ---- listing (cmd_obj.c) ---- */

/* Called for every entry of a listing: exactly one of obj (an object
 * record, borrowed for the call) and prefix is non-NULL. */
typedef cf_err (*cf_cli_list_cb)(void *arg, const json_t *obj,
    const char *prefix, struct cf_error *err);
/* List ns under prefix (delimiter "/" unless recursive), following
 * pagination to the end. */
cf_err	cf_cli_list(struct cf_http *h, const char *ns, const char *prefix,
	    bool recursive, cf_cli_list_cb cb, void *arg,
	    struct cf_error *err);

/* ---- transfers (xfer.c) ---- */

/* Upload the file at path (or stdin for "-", from its current offset) to
 * ns/key; prints nothing.  CF_E_NOTFOUND when path does not exist.
 * The data is read once, hashed while sent, and its digest sent as an
 * X-Coffer-SHA256 trailer (the server refuses a mismatch and stores
 * nothing); a regular file that changes meanwhile aborts the upload.
 * one_pass is accepted and ignored (it used to select this behaviour).
 * *out (may be NULL) receives the version record. */
cf_err	cf_cli_put_file(struct cf_http *h, const char *ns, const char *key,
	    const char *path, const char *ctype, const char *const *meta,
	    bool one_pass, json_t **out, struct cf_error *err);

/* As cf_cli_put_file for an open fd (name is for messages). */
cf_err	cf_cli_put_fd(struct cf_http *h, const char *ns, const char *key,
	    int fd, const char *name, const char *ctype,
	    const char *const *meta, bool one_pass, json_t **out,
	    struct cf_error *err);

/* Download ns/key (?version=vid when vid != NULL) into name inside the
 * directory dirfd, through a temporary file that is renamed only once the
 * body is complete and its digest verified.  nofollow: refuse to replace
 * a symlink (pull).  label names the transfer on the progress line. */
cf_err	cf_cli_get_to_file(struct cf_http *h, const char *ns,
	    const char *key, const char *vid, int dirfd, const char *name,
	    const char *label, struct cf_obj_info *info, struct cf_error *err);

/* ---- commands ---- */

/* ---- artifacts (cmd_art.c) ---- */
/* "NS/NAME[@SEL]" (a trailing '/' of NAME dropped): *sel NULL without
 * '@'.  Each out string is the caller's (cf_free). */
cf_err	cf_cli_art_ref(const char *arg, char **ns, char **name, char **sel,
	    struct cf_error *err);
/* /v1/ns/NS/WHAT/NAME, then ?q1=v1 and &q2=v2 for each non-empty v. */
cf_err	cf_cli_art_path(struct cf_buf *b, const char *ns, const char *what,
	    const char *name, const char *q1, const char *v1, const char *q2,
	    const char *v2, struct cf_error *err);
/* Print the versions of artifact (ns, name); *fallback true (and CF_OK)
 * when there is no such artifact (the caller lists object versions). */
cf_err	cf_cli_art_versions(struct cf_cli_sess *s,
	    const struct cf_cli_opts *o, const char *ns, const char *name,
	    struct cf_error *err, bool *fallback);
int	cf_cmd_meta(int argc, char **argv);
int	cf_cmd_stage(int argc, char **argv);
int	cf_cmd_lineage(int argc, char **argv);
int	cf_cmd_classify(int argc, char **argv);
int	cf_cmd_share(int argc, char **argv);
int	cf_cmd_hold(int argc, char **argv);
int	cf_cmd_erase(int argc, char **argv);
int	cf_cmd_privacy(int argc, char **argv);
/* `coffer backup DEST` (cmd_backup.c). */
int	cf_cmd_backup(int argc, char **argv);
/* `coffer erase --replay-on DIR --from SRC` (offline; cmd_backup.c). */
int	cf_cli_erase_replay(const struct cf_cli_opts *o, const char *dir,
	    const char *from);

int	cf_cmd_login(int argc, char **argv);
int	cf_cmd_whoami(int argc, char **argv);
int	cf_cmd_ns(int argc, char **argv);
int	cf_cmd_put(int argc, char **argv);
int	cf_cmd_get(int argc, char **argv);
int	cf_cmd_head(int argc, char **argv);
int	cf_cmd_rm(int argc, char **argv);
int	cf_cmd_ls(int argc, char **argv);
int	cf_cmd_versions(int argc, char **argv);
int	cf_cmd_push(int argc, char **argv);
int	cf_cmd_pull(int argc, char **argv);
int	cf_cmd_principal(int argc, char **argv);
int	cf_cmd_token(int argc, char **argv);
int	cf_cmd_breakglass(int argc, char **argv);
int	cf_cmd_promote(int argc, char **argv);
int	cf_cmd_promotion(int argc, char **argv);
int	cf_cmd_cp(int argc, char **argv);
int	cf_cmd_s3(int argc, char **argv);
int	cf_cmd_alert(int argc, char **argv);
int	cf_cmd_grant(int argc, char **argv);
int	cf_cmd_revoke(int argc, char **argv);
int	cf_cmd_audit(int argc, char **argv);
int	cf_cmd_posture(int argc, char **argv);
int	cf_cmd_anomalies(int argc, char **argv);
int	cf_cmd_master_key(int argc, char **argv);
/* `coffer key rotate-master --data DIR` (offline; cmd_masterkey.c). */
int	cf_cmd_key_rotate_master(int argc, char **argv);
int	cf_cmd_key(int argc, char **argv);

/* The master key of data directory dir for an offline tool (path gets
 * where it is): a sealed key's passphrase comes from the file named by
 * $COFFER_MASTER_KEY_PASSPHRASE_FILE or the terminal. */
struct cf_key;
cf_err	cf_cli_master_key(const char *dir, struct cf_key **out, char *path,
	    size_t pathsz, struct cf_error *err);
int	cf_cmd_logout(int argc, char **argv);
int	cf_cmd_user(int argc, char **argv);
int	cf_cmd_label(int argc, char **argv);
/* K=V (or, unset, K) from the command line into *changes (a JSON object
 * name -> value or null, created on first use); false after saying why
 * (cmd_user.c). */
bool	cf_cli_kv_change(json_t **changes, const char *arg, bool unset);
/* Print "what NAME: VALUE" lines of obj (sanitized), or "what: none". */
void	cf_cli_pr_kv(const char *what, const json_t *obj);
int	cf_cmd_role(int argc, char **argv);
/* `coffer role create|ls|show|rm` (cmd_role.c): argv[1] is the
 * subcommand. */
int	cf_cmd_role_def(int argc, char **argv);
int	cf_cmd_mfa(int argc, char **argv);
/* `coffer policy set|ls|show|history|rm` (cmd_policy_admin.c): argv[1]
 * is the subcommand, one for which cf_cmd_policy_admin_has is true. */
int	cf_cmd_policy_admin(int argc, char **argv);
bool	cf_cmd_policy_admin_has(const char *sub);

/* Check a signed JSON document in file ({MEMBER: payload, signature:
 * {value}}) against key (hex), key_file, else the server's erasure key
 * (GET /v1/erasure-key), as signed under context (cmd_privacy.c).  On
 * success *doc gets the whole document; CF_E_INTEGRITY when it does not
 * verify. */
cf_err	cf_cli_verify_signed(const struct cf_cli_opts *o,
	    struct cf_cli_sess *s, const char *key, const char *key_file,
	    const char *file, const char *context, const char *member,
	    json_t **doc, struct cf_error *err);

#endif

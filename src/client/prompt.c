/* src/client/prompt.c: secrets typed by the user: passwords and MFA codes
 * read from the terminal without echo, or one line at a time from a file
 * descriptor (--password-stdin, for scripts and tests).
 *
 * SEC: secrets are read into the caller's buffer only (no stdio buffer
 * holds a copy), the buffer is wiped on failure, and the terminal's echo
 * is restored before we return, also after SIGINT (the handler only
 * records the signal; the read returns EINTR). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/mem.h"
#include "client/client_int.h"

cf_err
cf_cli_read_line(int fd, char *buf, size_t bufsz, struct cf_error *err)
{
	size_t	 n = 0;
	ssize_t	 r;
	char	 c;
	bool	 over = false, any = false;
	cf_err	 rc = CF_OK;

	if (bufsz == 0)
		return cf_error_set(err, CF_E_INVAL, "no buffer");
	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR && cf_cli_interrupted() == 0)
			continue;
		if (r == -1) {
			rc = cf_error_sys(err, CF_E_IO, "cannot read the "
			    "input");
			goto out;
		}
		if (r == 0 || c == '\n')
			break;
		any = true;
		if (c == '\0') {
			rc = cf_error_set(err, CF_E_INPUT, "the input holds "
			    "a NUL byte");
			goto out;
		}
		if (n + 1 >= bufsz) {
			over = true;	/* consume the rest of the line */
			continue;
		}
		buf[n++] = c;
	}
	if (over) {
		rc = cf_error_set(err, CF_E_LIMIT, "the input line is longer "
		    "than %zu bytes", bufsz - 1);
		goto out;
	}
	if (!any && r == 0) {
		rc = cf_error_set(err, CF_E_INPUT, "no input (end of file)");
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
out:
	c = '\0';
	if (rc != CF_OK)
		cf_wipe(buf, bufsz);
	return rc;
}

bool
cf_cli_have_tty(void)
{
	int	fd;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return false;
	(void)close(fd);
	return true;
}

cf_err
cf_cli_prompt_secret(const char *prompt, char *buf, size_t bufsz,
    struct cf_error *err)
{
	struct termios	 old, quiet;
	bool		 restore = false;
	ssize_t		 w;
	int		 fd = -1;
	cf_err		 rc;

	/* SIGINT must not kill us with the terminal's echo off. */
	cf_cli_signals_install();
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		cf_wipe(buf, bufsz);
		return cf_error_set(err, CF_E_INPUT, "no terminal to ask for "
		    "%s (use --password-stdin or --code)", prompt);
	}
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
		quiet.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
			restore = true;
	}
	w = write(fd, prompt, strlen(prompt));
	if (w >= 0)
		w = write(fd, ": ", 2);
	(void)w;
	rc = cf_cli_read_line(fd, buf, bufsz, err);
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &old);
	w = write(fd, "\n", 1);	/* the user's Enter was not echoed */
	(void)w;
	(void)close(fd);
	if (rc == CF_OK && buf[0] == '\0')
		rc = cf_error_set(err, CF_E_INPUT, "empty answer");
	if (cf_cli_interrupted() != 0 && rc == CF_OK)
		rc = cf_error_set(err, CF_E_IO, "interrupted");
	if (rc != CF_OK)
		cf_wipe(buf, bufsz);
	return rc;
}

cf_err
cf_cli_new_password(int fd, const char *prompt, char *buf, size_t bufsz,
    struct cf_error *err)
{
	char	again[CF_CLI_SECRET_MAX + 1];
	char	p2[128];
	cf_err	rc;

	if (fd >= 0) {
		rc = cf_cli_read_line(fd, buf, bufsz, err);
		if (rc == CF_OK && buf[0] == '\0')
			rc = cf_error_set(err, CF_E_INPUT, "empty password");
		return rc;
	}
	rc = cf_cli_prompt_secret(prompt, buf, bufsz, err);
	if (rc != CF_OK)
		return rc;
	(void)snprintf(p2, sizeof(p2), "%s (again)", prompt);
	rc = cf_cli_prompt_secret(p2, again, sizeof(again), err);
	if (rc == CF_OK && strcmp(buf, again) != 0)
		rc = cf_error_set(err, CF_E_INPUT, "the passwords do not "
		    "match");
	cf_wipe(again, sizeof(again));
	if (rc != CF_OK)
		cf_wipe(buf, bufsz);
	return rc;
}

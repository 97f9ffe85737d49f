/* src/base/log.c: one-line diagnostic logging to stderr; see log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"

int cf_log_level_current = CF_LOG_INFO;

static const char *lvlname[] = { "error", "warn", "info", "debug" };

void
cf_log_set_level(enum cf_log_level lvl)
{
	cf_log_level_current = (int)lvl;
}

static void log_vemit(enum cf_log_level, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
log_vemit(enum cf_log_level lvl, int with_errno, const char *fmt, va_list ap)
{
	char	line[1024], ts[CF_TIME_STR_LEN], ebuf[128];
	int	saved = errno;
	size_t	n;

	cf_time_format(cf_now_us(), ts);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	if (with_errno) {
		const char *es = strerror_r(saved, ebuf, sizeof(ebuf));
		n = strlen(line);
		(void)snprintf(line + n, sizeof(line) - n, ": %s", es);
	}
	for (n = 0; line[n] != '\0'; n++)
		if (line[n] == '\n' || line[n] == '\r')
			line[n] = ' ';
	(void)fprintf(stderr, "%s %s %s\n", ts, lvlname[lvl], line);
	errno = saved;
}

void
cf_log_emit(enum cf_log_level lvl, int with_errno, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit(lvl, with_errno, fmt, ap);
	va_end(ap);
}

void
cf_log_fatal(int with_errno, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit(CF_LOG_ERR, with_errno, fmt, ap);
	va_end(ap);
	exit(1);
}

void
cf_log_escape(const char *s, char *out, size_t outsz)
{
	static const char	hx[] = "0123456789abcdef";
	size_t			o = 0;
	unsigned char		c;

	if (outsz == 0)
		return;
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (o + 8 >= outsz) {
			if (outsz >= 4) {
				o = o < outsz - 4 ? o : outsz - 4;
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hx[c >> 4];
			out[o++] = hx[c & 15];
		} else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

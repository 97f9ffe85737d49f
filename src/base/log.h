/* src/base/log.h: diagnostic logging (httpd's API).
 *
 * One line per event on stderr: `time level msg`.  Callers format messages
 * as key=value pairs; untrusted strings go through cf_log_escape() first.
 * Diagnostic logs may be lost; the audit log (src/audit) may not. */
#ifndef CF_BASE_LOG_H
#define CF_BASE_LOG_H

#include <stddef.h>

enum cf_log_level {
	CF_LOG_ERR = 0,
	CF_LOG_WARN = 1,
	CF_LOG_INFO = 2,
	CF_LOG_DEBUG = 3
};

extern int cf_log_level_current;

void	cf_log_set_level(enum cf_log_level lvl);
void	cf_log_emit(enum cf_log_level lvl, int with_errno, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	cf_log_fatal(int with_errno, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/* Copy s into out (capacity outsz) with bytes outside printable ASCII, '"'
 * and '\\' written as \xHH, truncating with "..." if needed. */
void	cf_log_escape(const char *s, char *out, size_t outsz);

/* The level is checked before the arguments are evaluated (Redis). */
#define log_warn(...)  do { if (cf_log_level_current >= CF_LOG_WARN) \
	cf_log_emit(CF_LOG_WARN, 1, __VA_ARGS__); } while (0)
#define log_warnx(...) do { if (cf_log_level_current >= CF_LOG_WARN) \
	cf_log_emit(CF_LOG_WARN, 0, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (cf_log_level_current >= CF_LOG_INFO) \
	cf_log_emit(CF_LOG_INFO, 0, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (cf_log_level_current >= CF_LOG_DEBUG) \
	cf_log_emit(CF_LOG_DEBUG, 0, __VA_ARGS__); } while (0)
#define fatal(...)  cf_log_fatal(1, __VA_ARGS__)
#define fatalx(...) cf_log_fatal(0, __VA_ARGS__)

#endif

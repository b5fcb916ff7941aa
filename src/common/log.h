/* log.h: one key=value line per event on stderr, the web server's error log. */
#ifndef MCPAUTH_LOG_H
#define MCPAUTH_LOG_H

#include "err.h"

enum mcpauth_log_level {
	MCPAUTH_LOG_ERROR,
	MCPAUTH_LOG_WARN,
	MCPAUTH_LOG_INFO,
	MCPAUTH_LOG_DEBUG,
};

/* program is borrowed for the life of the process (a string literal). */
void mcpauth_log_init(const char *program);
void mcpauth_log_set_level(enum mcpauth_log_level level);
/* The current request id, copied; NULL clears it. */
void mcpauth_log_set_request(const char *id);

/*
 * Writes "mcpauth program=P pid=N [req=ID] level=L <message>" and a newline.
 * Control characters and backslashes in the formatted message are escaped
 * (\n, \xNN), so one event is always one line. Never pass secrets here.
 */
void mcpauth_log(enum mcpauth_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Logs an error with its code, status, description, detail and source. */
void mcpauth_log_err(const struct mcpauth_err *err);

/*
 * Escapes src into dst (size dstsz, always NUL-terminated, truncated with
 * "..." when too long). Exposed for tests.
 */
void mcpauth_log_escape(char *dst, size_t dstsz, const char *src);

#endif

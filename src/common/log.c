/* log.c: one escaped key=value line per event on stderr (OpenBSD log.c semantics). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *log_program = "mcpauth";
static enum mcpauth_log_level log_level = MCPAUTH_LOG_INFO;
static char log_request[32];

static const char *const level_names[] = {
	[MCPAUTH_LOG_ERROR] = "error",
	[MCPAUTH_LOG_WARN] = "warn",
	[MCPAUTH_LOG_INFO] = "info",
	[MCPAUTH_LOG_DEBUG] = "debug",
};

void mcpauth_log_init(const char *program)
{
	log_program = program;
}

void mcpauth_log_set_level(enum mcpauth_log_level level)
{
	log_level = level;
}

void mcpauth_log_set_request(const char *id)
{
	if (id == NULL)
		log_request[0] = '\0';
	else
		snprintf(log_request, sizeof(log_request), "%s", id);
}

/* The escape of one byte into tmp (size >= 5); returns its length. */
static size_t escape_one(unsigned char c, char *tmp)
{
	if (c == '\n')
		return (size_t)snprintf(tmp, 5, "\\n");
	if (c == '\r')
		return (size_t)snprintf(tmp, 5, "\\r");
	if (c == '\t')
		return (size_t)snprintf(tmp, 5, "\\t");
	if (c == '\\')
		return (size_t)snprintf(tmp, 5, "\\\\");
	if (c < 0x20 || c == 0x7f)
		return (size_t)snprintf(tmp, 5, "\\x%02x", c);
	tmp[0] = (char)c;
	tmp[1] = '\0';
	return 1;
}

void mcpauth_log_escape(char *dst, size_t dstsz, const char *src)
{
	const unsigned char *p;
	size_t need = 0, room, o = 0;
	char tmp[5];

	if (dstsz == 0)
		return;
	for (p = (const unsigned char *)src; *p; p++)
		need += escape_one(*p, tmp);
	/* When it does not fit, whole escapes up to room, then "...". */
	room = need < dstsz ? dstsz - 1 : (dstsz > 4 ? dstsz - 4 : 0);
	for (p = (const unsigned char *)src; *p; p++) {
		size_t n = escape_one(*p, tmp);
		if (o + n > room)
			break;
		memcpy(dst + o, tmp, n);
		o += n;
	}
	if (need >= dstsz && dstsz > 4) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

void mcpauth_log(enum mcpauth_log_level level, const char *fmt, ...)
{
	char msg[2048], esc[4096];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mcpauth_log_escape(esc, sizeof(esc), msg);
	if (log_request[0] != '\0')
		fprintf(stderr, "mcpauth program=%s pid=%ld req=%s level=%s %s\n",
			log_program, (long)getpid(), log_request,
			level_names[level], esc);
	else
		fprintf(stderr, "mcpauth program=%s pid=%ld level=%s %s\n",
			log_program, (long)getpid(), level_names[level], esc);
	fflush(stderr);
}

void mcpauth_log_err(const struct mcpauth_err *err)
{
	if (err == NULL || err->code == NULL)
		return;
	mcpauth_log(err->status >= 500 ? MCPAUTH_LOG_ERROR : MCPAUTH_LOG_INFO,
		    "event=error status=%d error=%s description=\"%s\"%s%s%s "
		    "at=%s:%d:%s",
		    err->status, err->code, err->description,
		    err->detail[0] ? " detail=\"" : "", err->detail,
		    err->detail[0] ? "\"" : "", err->file ? err->file : "?",
		    err->line, err->func ? err->func : "?");
}

/* log.c: one escaped key=value line per event on stderr (OpenBSD log.c semantics). */
#include <stdarg.h>
#include <stdbool.h>
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

void mcpauth_log_escape(char *dst, size_t dstsz, const char *src)
{
	size_t o = 0;
	bool truncated = false;

	if (dstsz == 0)
		return;
	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		char tmp[5];
		size_t n;

		if (*p == '\n')
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\n");
		else if (*p == '\r')
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\r");
		else if (*p == '\t')
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\t");
		else if (*p == '\\')
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\\\");
		else if (*p < 0x20 || *p == 0x7f)
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
		else {
			tmp[0] = (char)*p;
			tmp[1] = '\0';
			n = 1;
		}
		if (o + n >= dstsz) {
			truncated = true;
			break;
		}
		memcpy(dst + o, tmp, n);
		o += n;
	}
	/* Mark the cut so a reader knows the line is partial. */
	if (truncated && dstsz >= 4) {
		if (o > dstsz - 4)
			o = dstsz - 4;
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

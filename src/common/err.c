/* err.c: setting and clearing struct mcpauth_err. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

void mcpauth_err_set(struct mcpauth_err *err, const char *file, int line,
		     const char *func, int status, const char *code,
		     const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->status = status;
	err->code = code;
	err->file = file;
	err->line = line;
	err->func = func;
	err->detail[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->description, sizeof(err->description), fmt, ap);
	va_end(ap);
}

void mcpauth_err_detail(struct mcpauth_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

void mcpauth_err_clear(struct mcpauth_err *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

bool mcpauth_err_isset(const struct mcpauth_err *err)
{
	return err != NULL && err->code != NULL;
}

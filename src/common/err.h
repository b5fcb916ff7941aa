/* err.h: the error carried out of every fallible function (mod_auth_openidc style). */
#ifndef MCPAUTH_ERR_H
#define MCPAUTH_ERR_H

#include <stdbool.h>

/*
 * One error per request. status and code are what the client sees (code is an
 * RFC error code, a static string), description is safe to show the client;
 * detail is for the log only (sqlite3_errmsg, GnuTLS codes, paths).
 */
struct mcpauth_err {
	int status;
	const char *code;
	char description[256];
	char detail[1024]; /* room for two paths and a fix */
	const char *file;
	int line;
	const char *func;
};

/* Sets every field; a NULL err is allowed and ignored. */
void mcpauth_err_set(struct mcpauth_err *err, const char *file, int line,
		     const char *func, int status, const char *code,
		     const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* Adds log-only detail to an error already set. */
void mcpauth_err_detail(struct mcpauth_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void mcpauth_err_clear(struct mcpauth_err *err);

/* True once an error was set. */
bool mcpauth_err_isset(const struct mcpauth_err *err);

#define MCPAUTH_ERR(err, status, code, ...)                                   \
	mcpauth_err_set((err), __FILE__, __LINE__, __func__, (status), (code), \
			__VA_ARGS__)

/* An internal failure: the client sees 500 server_error, the log the detail. */
#define MCPAUTH_ERR_INTERNAL(err, ...)                                        \
	do {                                                                  \
		mcpauth_err_set((err), __FILE__, __LINE__, __func__, 500,     \
				"server_error", "internal error");            \
		mcpauth_err_detail((err), __VA_ARGS__);                       \
	} while (0)

#endif

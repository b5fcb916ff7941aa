/*
 * fcgi.h: the request loop. The only file that includes libfcgi. Handlers
 * receive a struct mcpauth_req and fill a struct mcpauth_resp; the same
 * binary serves one request as plain CGI when not started by a FastCGI
 * manager.
 */
#ifndef MCPAUTH_FCGI_H
#define MCPAUTH_FCGI_H

#include <stdbool.h>

#include "conf.h"
#include "err.h"
#include "keys.h"
#include "req.h"
#include "store.h"

/* Per process: loaded once, used by every request. */
struct mcpauth_ctx {
	const char *program;
	const char *config_path; /* what mcpauth_ctx_open loaded */
	struct mcpauth_conf *conf;
	struct mcpauth_store *store;
	struct mcpauth_keys *keys;
	long long now; /* unix seconds at the start of the request */
};

typedef bool (*mcpauth_handler)(struct mcpauth_ctx *ctx,
				const struct mcpauth_req *req,
				struct mcpauth_resp *resp,
				struct mcpauth_err *err);

/*
 * Loads the configuration (path NULL: mcpauth_conf_default_path()), opens
 * the store, checks its schema version and loads the keys. On failure ctx is
 * left closed.
 */
bool mcpauth_ctx_open(struct mcpauth_ctx *ctx, const char *program,
		      const char *config_path, struct mcpauth_err *err);
void mcpauth_ctx_close(struct mcpauth_ctx *ctx);

/*
 * Runs handler for req into resp; a failed handler's error becomes the OAuth
 * error response and one log line.
 */
void mcpauth_dispatch(struct mcpauth_ctx *ctx, mcpauth_handler handler,
		      const struct mcpauth_req *req, struct mcpauth_resp *resp);

/* main() of every program: return mcpauth_serve("token", token_handle); */
int mcpauth_serve(const char *program, mcpauth_handler handler);

#endif

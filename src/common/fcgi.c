/*
 * fcgi.c: the request loop, the only file that includes libfcgi. Per process
 * it loads the configuration, opens the store, checks the schema and sets up
 * keys; per request it copies the request out of the FastCGI (or CGI)
 * environment, runs the handler and writes the response.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#include "fcgi.h"
#include "jose.h"
#include "log.h"
#include "safety.h"

extern char **environ;

bool mcpauth_ctx_open(struct mcpauth_ctx *ctx, const char *program,
		      const char *config_path, struct mcpauth_err *err)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->program = program;
	if (config_path == NULL)
		config_path = mcpauth_conf_default_path();
	ctx->config_path = config_path;
	if (!mcpauth_conf_load(config_path, &ctx->conf, err) ||
	    !mcpauth_store_open(ctx->conf->database, 0, &ctx->store, err) ||
	    !mcpauth_store_ready(ctx->store, err) ||
	    !mcpauth_keys_new(ctx->conf, &ctx->keys, err)) {
		mcpauth_ctx_close(ctx);
		return false;
	}
	return true;
}

void mcpauth_ctx_close(struct mcpauth_ctx *ctx)
{
	mcpauth_keys_free(ctx->keys);
	mcpauth_store_free(ctx->store);
	mcpauth_conf_free(ctx->conf);
	ctx->keys = NULL;
	ctx->store = NULL;
	ctx->conf = NULL;
}

void mcpauth_dispatch(struct mcpauth_ctx *ctx, mcpauth_handler handler,
		      const struct mcpauth_req *req, struct mcpauth_resp *resp)
{
	struct mcpauth_err err = { 0 };

	ctx->now = (long long)time(NULL);
	if (!handler(ctx, req, resp, &err)) {
		if (err.code == NULL)
			MCPAUTH_ERR_INTERNAL(&err, "handler failed without "
					     "saying why");
		mcpauth_log_err(&err);
		mcpauth_resp_error(resp, &err);
	}
}

/* The I/O of one request: FastCGI streams or the CGI process's stdio. */
struct io {
	FCGX_Stream *in, *out;
};

static bool read_fcgi(void *p, char *buf, size_t len, size_t *got)
{
	struct io *io = p;
	int n = FCGX_GetStr(buf, len > 65536 ? 65536 : (int)len, io->in);

	if (n < 0)
		return false;
	*got = (size_t)n;
	return true;
}

static bool read_stdio(void *p, char *buf, size_t len, size_t *got)
{
	(void)p;
	*got = fread(buf, 1, len, stdin);
	return !ferror(stdin);
}

static void write_out(struct io *io, const char *data, size_t len)
{
	if (io->out != NULL) {
		FCGX_PutStr(data, (int)len, io->out);
	} else {
		fwrite(data, 1, len, stdout);
		fflush(stdout);
	}
}

/* What a client sees while the process cannot serve. */
static void not_ready(struct mcpauth_resp *resp, const struct mcpauth_err *why)
{
	struct mcpauth_err pub = *why;

	/* 503s carry descriptions written to be public; others may hold paths. */
	if (why->status != 503)
		snprintf(pub.description, sizeof(pub.description),
			 "the authorization server is not configured "
			 "correctly; its error log says why");
	pub.status = 503;
	pub.code = "temporarily_unavailable";
	mcpauth_resp_header(resp, "Retry-After", "10");
	mcpauth_resp_error(resp, &pub);
}

/* Whether the process can serve, and why not: kept across requests. */
struct state {
	bool ready;
	long long last_try;
	struct mcpauth_err why;
	/* The document roots last checked (safety.h), when, the answer. */
	char docroot[2 * PATH_MAX + 2];
	long long docroot_at;
	bool docroot_ok;
	struct mcpauth_err docroot_why;
};

/*
 * Loads configuration, store and keys and checks the files' modes; on
 * failure keeps and logs why.
 */
static void try_open(struct mcpauth_ctx *ctx, struct state *state)
{
	state->last_try = (long long)time(NULL);
	mcpauth_err_clear(&state->why);
	state->ready = mcpauth_ctx_open(ctx, ctx->program, NULL,
					&state->why) &&
		       mcpauth_safety_files(ctx->config_path, ctx->conf,
					    &state->why);
	if (!state->ready) {
		mcpauth_ctx_close(ctx);
		mcpauth_log_err(&state->why);
	}
}

/*
 * Whether the files lie outside the request's document root: the web
 * server's DOCUMENT_ROOT and Apache's CONTEXT_DOCUMENT_ROOT (the folder a
 * ~user URL or an Alias maps to, which DOCUMENT_ROOT does not name).
 * Checked again when they change, and at most once a second, so that
 * moving the files out heals a running process.
 */
static bool docroot_safe(struct mcpauth_ctx *ctx, char **envp,
			 struct state *state, long long now)
{
	const char *root = mcpauth_env_get(envp, "DOCUMENT_ROOT");
	const char *context = mcpauth_env_get(envp, "CONTEXT_DOCUMENT_ROOT");
	char key[sizeof(state->docroot)];

	if (root == NULL)
		root = "";
	if (context == NULL)
		context = "";
	snprintf(key, sizeof(key), "%s\n%s", root, context);
	if (state->docroot_at == now && !strcmp(key, state->docroot))
		return state->docroot_ok;
	snprintf(state->docroot, sizeof(state->docroot), "%s", key);
	state->docroot_at = now;
	mcpauth_err_clear(&state->docroot_why);
	state->docroot_ok = mcpauth_safety_docroot(root, ctx->config_path,
						   ctx->conf,
						   &state->docroot_why) &&
			    mcpauth_safety_docroot(context, ctx->config_path,
						   ctx->conf,
						   &state->docroot_why);
	if (!state->docroot_ok)
		mcpauth_log_err(&state->docroot_why);
	return state->docroot_ok;
}

static void serve_one(struct mcpauth_ctx *ctx, mcpauth_handler handler,
		      char **envp, struct io *io, struct state *state)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_req *req = NULL;
	struct mcpauth_resp *resp = mcpauth_resp_new();
	long long now = (long long)time(NULL);
	size_t len = 0;
	char *out;

	if (resp == NULL)
		return;
	/* A process that could not start retries at most once a second. */
	if (!state->ready && now != state->last_try) {
		try_open(ctx, state);
		if (state->ready)
			mcpauth_log(MCPAUTH_LOG_INFO, "event=ready");
	}
	if (!mcpauth_req_from_env(envp,
				  ctx->conf ? ctx->conf->max_body : 65536,
				  io->out ? read_fcgi : read_stdio, io, &req,
				  &err)) {
		mcpauth_log_err(&err);
		mcpauth_resp_error(resp, &err);
	} else {
		mcpauth_log_set_request(req->id);
		if (!state->ready) {
			not_ready(resp, &state->why);
		} else if (!docroot_safe(ctx, envp, state, now)) {
			not_ready(resp, &state->docroot_why);
		} else {
			mcpauth_dispatch(ctx, handler, req, resp);
		}
	}
	out = mcpauth_resp_serialize(resp,
				     req != NULL && !strcmp(req->method, "HEAD"),
				     &len);
	if (out != NULL)
		write_out(io, out, len);
	free(out);
	mcpauth_log_set_request(NULL);
	mcpauth_req_free(req);
	mcpauth_resp_free(resp);
}

int mcpauth_serve(const char *program, mcpauth_handler handler)
{
	struct mcpauth_ctx ctx = { .program = program };
	struct mcpauth_err err = { 0 };
	struct state state = { 0 };

	mcpauth_log_init(program);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !mcpauth_jose_init(&err)) {
		mcpauth_log(MCPAUTH_LOG_ERROR, "event=init_failed");
		return 1;
	}
	try_open(&ctx, &state);

	if (FCGX_IsCGI()) {
		/* Plain CGI: one request from the environment, then exit. */
		struct io io = { NULL, NULL };
		serve_one(&ctx, handler, environ, &io, &state);
	} else {
		FCGX_Request r;

		mcpauth_log(MCPAUTH_LOG_INFO, "event=start mode=fastcgi "
			    "version=%s ready=%s", MCPAUTH_VERSION,
			    state.ready ? "yes" : "no");
		if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0) {
			mcpauth_log(MCPAUTH_LOG_ERROR, "event=fcgi_init_failed");
			return 1;
		}
		while (FCGX_Accept_r(&r) >= 0) {
			struct io io = { r.in, r.out };
			serve_one(&ctx, handler, r.envp, &io, &state);
			FCGX_Finish_r(&r);
		}
		FCGX_Free(&r, 1);
	}
	mcpauth_ctx_close(&ctx);
	mcpauth_jose_cleanup();
	curl_global_cleanup();
	return 0;
}

/*
 * register.c: mcpauth-register, dynamic client registration (RFC 7591) at
 * <issuer>/register and its management protocol (RFC 7592) at
 * <issuer>/register/<client_id>. Metadata rules live in client.c; this file
 * holds the endpoint: routing, the operator's limits (initial access token,
 * per-address rate, client cap), secrets handed out once, and the audit
 * trail of every registration, read, update, deletion and refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "crypto.h"
#include "handlers.h"
#include "json.h"
#include "log.h"

/* Retry-After when the client cap is reached: gc frees room daily at best. */
#define CAP_RETRY_AFTER 3600

/* What one request did, for its audit row and log line. */
struct event {
	const char *name; /* register, read, update, delete */
	const char *client_id;
	const char *software_id;
	const char *client_name;
	char software_buf[MCPAUTH_CLIENT_MAX_NAME + 1];
	char name_buf[MCPAUTH_CLIENT_MAX_NAME + 1];
	int retry_after; /* seconds, 0: none */
	int status;        /* of a success, for the audit row */
	char rate_key[64]; /* the address, or its /64 for IPv6 */
	bool bearer_error; /* a 401 from a bearer token */
	bool bearer_missing; /* ... when none was sent (RFC 6750 §3.1) */
	bool no_audit;     /* log the refusal only */
};

static void cors(struct mcpauth_resp *resp)
{
	/* No cookies here: the bearer tokens are the credentials. */
	mcpauth_resp_header(resp, "Access-Control-Allow-Origin", "*");
}

/*
 * One log line per event. Every value a client chose is quoted and cleaned
 * (mcpauth_client_text_copy), so it cannot pose as another field; client
 * ids are ours or passed id_ok(), the address comes from the web server.
 */
static void log_event(const struct mcpauth_req *req, const struct event *ev,
		      const struct mcpauth_err *err)
{
	char desc[sizeof(err->description)] = "";

	if (err != NULL)
		mcpauth_client_text_copy(desc, sizeof(desc), err->description);
	mcpauth_log(err != NULL ? MCPAUTH_LOG_WARN : MCPAUTH_LOG_INFO,
		    "event=%s outcome=%s client_id=%s address=%s "
		    "software_id=\"%s\" client_name=\"%s\"%s%s%s%s%s",
		    ev->name, err != NULL ? "refused" : "ok",
		    ev->client_id ? ev->client_id : "-",
		    req->remote_addr ? req->remote_addr : "-",
		    ev->software_id ? ev->software_id : "",
		    ev->client_name ? ev->client_name : "",
		    err != NULL ? " error=" : "", err != NULL ? err->code : "",
		    err != NULL ? " description=\"" : "", desc,
		    err != NULL ? "\"" : "");
}

static struct mcpauth_audit audit_of(struct mcpauth_ctx *ctx,
				     const struct mcpauth_req *req,
				     const struct event *ev,
				     const struct mcpauth_err *err)
{
	struct mcpauth_audit a = {
		.at = ctx->now,
		.event = ev->name,
		.refused = err != NULL,
		.actor = "client",
		.client_id = ev->client_id,
		.address = req->remote_addr,
		.software_id = ev->software_id,
		.client_name = ev->client_name,
		.error = err != NULL ? err->code : NULL,
		.detail = err != NULL ? err->description : NULL,
		.status = err != NULL ? err->status : ev->status,
		.rate_key = ev->rate_key[0] != '\0' ? ev->rate_key : NULL,
	};
	return a;
}

/*
 * Copies what the client says it is into ev's own buffers, cleaned, for the
 * audit row and log line (the body and the client may be gone by then).
 */
static void remember(struct event *ev, const char *software_id,
		     const char *client_name)
{
	ev->software_id = NULL;
	ev->client_name = NULL;
	if (software_id != NULL) {
		mcpauth_client_text_copy(ev->software_buf,
					 sizeof(ev->software_buf), software_id);
		ev->software_id = ev->software_buf;
	}
	if (client_name != NULL) {
		mcpauth_client_text_copy(ev->name_buf, sizeof(ev->name_buf),
					 client_name);
		ev->client_name = ev->name_buf;
	}
}

/* The token of "Authorization: Bearer <token>" (RFC 6750 §2.1), or NULL. */
static const char *bearer(const struct mcpauth_req *req)
{
	const char *t;

	if (req->authorization == NULL ||
	    strncasecmp(req->authorization, "Bearer ", 7) != 0)
		return NULL;
	t = req->authorization + 7;
	while (*t == ' ')
		t++;
	if (*t == '\0' || strlen(t) > 512 ||
	    strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789-._~+/=") != strlen(t))
		return NULL;
	return t;
}

static bool bad_token(struct event *ev, struct mcpauth_err *err,
		      const char *what)
{
	ev->bearer_error = true;
	MCPAUTH_ERR(err, 401, "invalid_token", "%s", what);
	return false;
}

/* The JSON object body (RFC 7591 §3.1: Content-Type application/json). */
static bool json_body(const struct mcpauth_req *req, struct json_object **out,
		      struct mcpauth_err *err)
{
	const char *ct = req->content_type;
	size_t n = strlen("application/json");

	if (ct != NULL && strncasecmp(ct, "application/json", n) == 0)
		ct += n + strspn(ct + n, " \t");
	else
		ct = "x";
	/* Parameters (charset) may follow; another media type may not. */
	if (*ct != '\0' && *ct != ';') {
		MCPAUTH_ERR(err, 400, "invalid_client_metadata",
			    "the body must be client metadata in JSON "
			    "(Content-Type: application/json)");
		return false;
	}
	if (!mcpauth_json_parse(req->body, req->body_len,
				"invalid_client_metadata", out, err))
		return false;
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		MCPAUTH_ERR(err, 400, "invalid_client_metadata",
			    "the body must be a JSON object");
		return false;
	}
	return true;
}

/*
 * A sliding-window limit per rate key over the audit trail: registration
 * attempts, or refused management requests (guessing registration access
 * tokens). A flood stays out of the audit trail: the limit's first refusal
 * in a window is recorded, every one is logged.
 */
static bool rate_ok(struct mcpauth_ctx *ctx, enum mcpauth_rate_kind kind,
		    struct event *ev, struct mcpauth_err *err)
{
	const struct mcpauth_conf *conf = ctx->conf;
	struct mcpauth_rate rate = {
		.key = ev->rate_key,
		.limit = conf->registration_rate_limit,
		.since = ctx->now - conf->registration_rate_window + 1,
	};
	long count = 0, limited = 0;

	if (rate.limit <= 0 || ev->rate_key[0] == '\0')
		return true;
	if (!mcpauth_store_rate_count(ctx->store, kind, &rate, &count,
				      &limited, err))
		return false;
	if (count < rate.limit)
		return true;
	ev->no_audit = limited > 0;
	ev->retry_after = (int)(rate.oldest + conf->registration_rate_window -
				ctx->now);
	if (ev->retry_after < 1)
		ev->retry_after = 1;
	if (kind == MCPAUTH_RATE_REGISTER)
		MCPAUTH_ERR(err, 429, "temporarily_unavailable",
			    "too many registrations from this address: at "
			    "most %ld per %ld seconds; retry later",
			    conf->registration_rate_limit,
			    conf->registration_rate_window);
	else
		MCPAUTH_ERR(err, 429, "temporarily_unavailable",
			    "too many refused requests from this address; "
			    "retry later");
	return false;
}

/* RFC 7591 §3: the initial access token, when the operator requires one. */
static bool initial_token(struct mcpauth_ctx *ctx,
			  const struct mcpauth_req *req, long long *id,
			  struct event *ev, struct mcpauth_err *err)
{
	const char *t = bearer(req);
	char *hash;
	bool ok;

	*id = 0;
	if (!ctx->conf->initial_access_token_required)
		return true;
	if (t == NULL) {
		ev->bearer_missing = req->authorization == NULL;
		return bad_token(ev, err,
				 "this server requires an initial access "
				 "token (Authorization: Bearer) to register");
	}
	hash = mcpauth_crypto_sha256_b64url(t);
	if (hash == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	ok = mcpauth_store_initial_token_find(ctx->store, hash, ctx->now, id,
					      err);
	free(hash);
	if (!ok)
		return false;
	if (*id == 0)
		return bad_token(ev, err,
				 "the initial access token is unknown, "
				 "revoked or expired");
	return true;
}

/* A new secret for c, expiring after client_secret_lifetime (0: never). */
static bool issue_secret(struct mcpauth_ctx *ctx, struct mcpauth_client *c,
			 char **secret, struct mcpauth_err *err)
{
	long life = ctx->conf->client_secret_lifetime;

	free(c->secret_hash);
	c->secret_hash = NULL;
	if (!mcpauth_client_new_secret(secret, &c->secret_hash, err))
		return false;
	c->secret_expires_at = life > 0 ? ctx->now + life : 0;
	return true;
}

/* New random credentials for client: id, registration token, secret. */
static bool credentials(struct mcpauth_ctx *ctx, struct mcpauth_client *c,
			char **token, char **secret, struct mcpauth_err *err)
{
	/*
	 * Never a leading '-': an id like "-Mx..." would read as an option
	 * on the command line (mcpauth-admin client show ID). One draw in
	 * 64 is redrawn, which leaves 126 random bits.
	 */
	do {
		free(c->client_id);
		c->client_id = NULL;
		if (!mcpauth_crypto_random_token(MCPAUTH_CLIENT_ID_BYTES,
						 &c->client_id, err))
			return false;
	} while (c->client_id[0] == '-');
	if (!mcpauth_client_new_secret(token, &c->registration_token_hash,
				       err))
		return false;
	if (!mcpauth_client_method_has_secret(c->auth_method))
		return true;
	return issue_secret(ctx, c, secret, err);
}

/* POST <issuer>/register (RFC 7591 §3). */
static bool do_register(struct mcpauth_ctx *ctx, const struct mcpauth_req *req,
			struct mcpauth_resp *resp, struct event *ev,
			struct mcpauth_client *c, struct mcpauth_err *err)
{
	struct json_object *in = NULL;
	struct mcpauth_audit audit;
	struct mcpauth_rate rate = { 0 };
	char *token = NULL, *secret = NULL;
	long long iat = 0;
	bool ok = false;

	if (!ctx->conf->dynamic_registration) {
		/* No endpoint, nothing to audit (probes would fill it). */
		ev->no_audit = true;
		MCPAUTH_ERR(err, 404, "invalid_request",
			    "dynamic client registration is disabled on this "
			    "server");
		return false;
	}
	if (!rate_ok(ctx, MCPAUTH_RATE_REGISTER, ev, err) ||
	    !initial_token(ctx, req, &iat, ev, err) ||
	    !json_body(req, &in, err))
		goto out;
	remember(ev, mcpauth_json_get_str(in, "software_id"),
		 mcpauth_json_get_str(in, "client_name"));
	if (!mcpauth_client_from_metadata(ctx->conf, in,
					  MCPAUTH_CLIENT_ORIGIN_DYNAMIC, c,
					  err))
		goto out;
	remember(ev, c->software_id, c->client_name);
	c->source = strdup("dynamic");
	c->registered_from = req->remote_addr ? strdup(req->remote_addr)
					      : NULL;
	c->initial_token_id = iat;
	c->created_at = c->updated_at = ctx->now;
	if (c->source == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	if (!credentials(ctx, c, &token, &secret, err))
		goto out;
	ev->client_id = c->client_id;
	ev->status = 201;
	audit = audit_of(ctx, req, ev, NULL);
	rate.key = ev->rate_key;
	rate.limit = ev->rate_key[0] != '\0'
			     ? ctx->conf->registration_rate_limit
			     : 0;
	rate.since = ctx->now - ctx->conf->registration_rate_window + 1;
	if (!mcpauth_store_client_add(ctx->store, c,
				      ctx->conf->max_dynamic_clients, &rate,
				      &audit, err)) {
		if (err->status == 503)
			ev->retry_after = CAP_RETRY_AFTER;
		if (err->status == 429) {
			ev->retry_after =
				(int)(rate.oldest +
				      ctx->conf->registration_rate_window -
				      ctx->now);
			if (ev->retry_after < 1)
				ev->retry_after = 1;
		}
		/* Not stored: the refusal must not name an unissued id. */
		ev->client_id = NULL;
		goto out;
	}
	mcpauth_resp_json(resp, 201,
			  mcpauth_client_to_json(ctx->conf, c, secret, token));
	ok = true;
out:
	mcpauth_crypto_free_secret(token);
	mcpauth_crypto_free_secret(secret);
	json_object_put(in);
	return ok;
}

/*
 * The client of a management request, authenticated by its registration
 * access token (RFC 7592 §3). Unknown client and wrong token get the same
 * answer.
 */
static bool managed_client(struct mcpauth_ctx *ctx,
			   const struct mcpauth_req *req, const char *client_id,
			   struct mcpauth_client **out, struct event *ev,
			   struct mcpauth_err *err)
{
	struct mcpauth_client *c = NULL;
	const char *t = bearer(req);
	char *hash = NULL;
	bool ok = false;

	if (t == NULL) {
		ev->bearer_missing = req->authorization == NULL;
		return bad_token(ev, err,
				 "send the registration access token "
				 "(Authorization: Bearer)");
	}
	if (!mcpauth_store_client_get(ctx->store, client_id, &c, err))
		return false;
	hash = mcpauth_crypto_sha256_b64url(t);
	if (hash == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	if (c == NULL || c->registration_token_hash == NULL ||
	    !mcpauth_crypto_streq(hash, c->registration_token_hash)) {
		bad_token(ev, err,
			  "the registration access token is not valid for "
			  "this client");
		goto out;
	}
	remember(ev, c->software_id, c->client_name);
	*out = c;
	c = NULL;
	ok = true;
out:
	free(hash);
	mcpauth_client_free(c);
	return ok;
}

/* PUT <issuer>/register/<id> (RFC 7592 §2.2): replaces the metadata. */
static bool do_update(struct mcpauth_ctx *ctx, const struct mcpauth_req *req,
		      struct mcpauth_resp *resp, struct event *ev,
		      struct mcpauth_client *c, struct mcpauth_err *err)
{
	struct json_object *in = NULL;
	struct mcpauth_audit audit;
	const char *id, *sent_secret;
	char *secret = NULL;
	bool had_secret = c->secret_hash != NULL, found = false, ok = false;

	if (!json_body(req, &in, err))
		goto out;
	id = mcpauth_json_get_str(in, "client_id");
	if (id == NULL || strcmp(id, c->client_id) != 0) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "the body's client_id must be this client's "
			    "(RFC 7592 §2.2)");
		goto out;
	}
	sent_secret = mcpauth_json_get_str(in, "client_secret");
	if (sent_secret != NULL &&
	    !mcpauth_client_secret_ok(c, sent_secret, ctx->now)) {
		MCPAUTH_ERR(err, 400, "invalid_client_metadata",
			    "client_secret does not match this client's "
			    "secret");
		goto out;
	}
	if (!mcpauth_client_from_metadata(
		    ctx->conf, in,
		    had_secret ? MCPAUTH_CLIENT_ORIGIN_DYNAMIC_CONFIDENTIAL
			       : MCPAUTH_CLIENT_ORIGIN_DYNAMIC,
		    c, err))
		goto out;
	remember(ev, c->software_id, c->client_name);
	if (!mcpauth_client_method_has_secret(c->auth_method)) {
		free(c->secret_hash);
		c->secret_hash = NULL;
		c->secret_expires_at = 0;
	} else if (!had_secret && !issue_secret(ctx, c, &secret, err)) {
		/* Becoming confidential: a secret, shown in this answer only. */
		goto out;
	}
	c->updated_at = ctx->now;
	ev->status = 200;
	audit = audit_of(ctx, req, ev, NULL);
	if (!mcpauth_store_client_replace(ctx->store, c, &audit, &found, err))
		goto out;
	if (!found) {
		bad_token(ev, err, "this client no longer exists");
		goto out;
	}
	mcpauth_resp_json(resp, 200,
			  mcpauth_client_to_json(ctx->conf, c, secret, NULL));
	ok = true;
out:
	mcpauth_crypto_free_secret(secret);
	json_object_put(in);
	return ok;
}

/* <issuer>/register/<id>: GET, PUT, DELETE (RFC 7592 §2). */
static bool manage(struct mcpauth_ctx *ctx, const struct mcpauth_req *req,
		   struct mcpauth_resp *resp, const char *client_id,
		   struct event *ev, struct mcpauth_client **c,
		   struct mcpauth_err *err)
{
	struct mcpauth_audit audit;
	bool found = false;

	if (!rate_ok(ctx, MCPAUTH_RATE_MANAGE_REFUSED, ev, err) ||
	    !managed_client(ctx, req, client_id, c, ev, err))
		return false;
	if (!strcmp(req->method, "GET")) {
		ev->status = 200;
		audit = audit_of(ctx, req, ev, NULL);
		if (!mcpauth_store_audit_add(ctx->store, &audit, err))
			return false;
		mcpauth_resp_json(resp, 200,
				  mcpauth_client_to_json(ctx->conf, *c, NULL,
							 NULL));
		return true;
	}
	if (!strcmp(req->method, "PUT"))
		return do_update(ctx, req, resp, ev, *c, err);
	ev->status = 204;
	audit = audit_of(ctx, req, ev, NULL);
	if (!mcpauth_store_client_delete(ctx->store, client_id, &audit, &found,
					 err))
		return false;
	if (!found)
		return bad_token(ev, err, "this client no longer exists");
	mcpauth_resp_body(resp, 204, NULL, NULL, 0);
	return true;
}

/* A client id as we issue them: base64url, nothing a path could hide. */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-_") == n;
}

bool register_handle(struct mcpauth_ctx *ctx, const struct mcpauth_req *req,
		     struct mcpauth_resp *resp, struct mcpauth_err *err)
{
	const char *ip = ctx->conf->issuer_path, *rest;
	const char *allow, *client_id = NULL;
	struct mcpauth_client *c = NULL;
	struct event ev = { 0 };
	bool ok;

	cors(resp);
	rest = strncmp(req->path, ip, strlen(ip)) == 0 ? req->path + strlen(ip)
						       : "";
	if (!strcmp(rest, "/register")) {
		allow = "POST, OPTIONS";
		ev.name = "register";
	} else if (!strncmp(rest, "/register/", 10) && id_ok(rest + 10)) {
		allow = "GET, PUT, DELETE, OPTIONS";
		client_id = rest + 10;
		ev.client_id = client_id;
	} else {
		MCPAUTH_ERR(err, 404, "invalid_request",
			    "no registration endpoint at this path");
		return false;
	}
	if (!strcmp(req->method, "OPTIONS")) {
		mcpauth_resp_preflight(resp, allow,
				       "Authorization, Content-Type, "
				       "MCP-Protocol-Version");
		return true;
	}
	if (client_id == NULL ? strcmp(req->method, "POST") != 0
			      : strcmp(req->method, "GET") != 0 &&
					strcmp(req->method, "PUT") != 0 &&
					strcmp(req->method, "DELETE") != 0) {
		mcpauth_resp_header(resp, "Allow", allow);
		MCPAUTH_ERR(err, 405, "invalid_request",
			    "use %s here", allow);
		return false;
	}
	if (client_id != NULL)
		ev.name = !strcmp(req->method, "GET")   ? "read"
			  : !strcmp(req->method, "PUT") ? "update"
							: "delete";
	mcpauth_resp_header(resp, "Cache-Control", "no-store");
	mcpauth_resp_header(resp, "Pragma", "no-cache");
	mcpauth_req_rate_key(req, ev.rate_key, sizeof(ev.rate_key));
	if (client_id != NULL) {
		ok = manage(ctx, req, resp, client_id, &ev, &c, err);
	} else if ((c = calloc(1, sizeof(*c))) == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	} else {
		ok = do_register(ctx, req, resp, &ev, c, err);
	}
	if (ok) {
		log_event(req, &ev, NULL);
	} else {
		struct mcpauth_audit audit = audit_of(ctx, req, &ev, err);
		struct mcpauth_err ignored = { 0 };
		char n[16];

		if (!ev.no_audit &&
		    !mcpauth_store_audit_add(ctx->store, &audit, &ignored))
			mcpauth_log_err(&ignored);
		/* RFC 6750 §3.1: no error code when no token was sent. */
		if (ev.bearer_error)
			mcpauth_resp_header(resp, "WWW-Authenticate",
					    ev.bearer_missing
						    ? "Bearer"
						    : "Bearer error=\"invalid_token\"");
		if (ev.retry_after > 0) {
			snprintf(n, sizeof(n), "%d", ev.retry_after);
			mcpauth_resp_header(resp, "Retry-After", n);
		}
		/*
		 * Refusals are answered here, with the event's one log line;
		 * internal errors go to the adapter, which logs their detail.
		 */
		if (err->status < 500 || err->status == 503) {
			log_event(req, &ev, err);
			mcpauth_resp_error(resp, err);
			ok = true;
		}
	}
	mcpauth_client_free(c);
	return ok;
}

#ifndef MCPAUTH_NO_MAIN
int main(void)
{
	return mcpauth_serve("register", register_handle);
}
#endif

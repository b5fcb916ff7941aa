/*
 * authorize.c: mcpauth-authorize, the authorization endpoint (RFC 6749 §4.1,
 * OAuth 2.1) and the pages of the browser's part of the flow: sign-in and
 * consent. GET <issuer>/authorize validates a request and stores it; the
 * login and consent forms POST back to the same URL, naming the stored
 * request; the answer is a 303 to the client's redirect URI with a code (or
 * an error) and iss (RFC 9207). Until the client and redirect URI are known
 * to be valid, errors are pages, never redirects (RFC 6749 §4.1.2.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "client.h"
#include "crypto.h"
#include "form.h"
#include "handlers.h"
#include "html.h"
#include "log.h"
#include "pkce.h"
#include "scope.h"
#include "signin.h"
#include "tokens.h"

/*
 * Cookies: __Host- names are Secure, Path=/ and host-only by rule (RFC 6265bis
 * §4.1.3.2), so another host cannot plant them. Path=/ means every issuer
 * on one host receives them: each name ends in a hash of the issuer, so
 * issuers at /t1 and /t2 keep separate sessions. (Issuers that must not
 * trust each other need origins of their own: a cookie's path is no
 * security boundary.)
 */
#define SESSION_COOKIE "__Host-mcpauth-session-"
#define FLOW_COOKIE "__Host-mcpauth-flow-"
/* How long a started authorization may wait for sign-in and consent. */
#define REQUEST_LIFETIME 600
/* The flow cookie outlives one request: one per browser. */
#define FLOW_LIFETIME 86400
/* Unanswered requests one address may have stored at a time. */
#define MAX_PENDING 50
/* The longest state kept (clients send 20 to 50 characters). */
#define MAX_STATE 1024
/*
 * Failed sign-ins allowed per address and per username in LOGIN_WINDOW,
 * counted before argon2 runs: guessing and making the server hash are
 * both bounded. Per username a little lower: a guess spread over many
 * addresses still meets it (and can hold a user out for a window).
 */
#define LOGIN_WINDOW 900
#define MAX_FAILS_PER_ADDRESS 20
#define MAX_FAILS_PER_USER 10

/* One request's state, freed at the end of the handler. */
struct flow {
	struct mcpauth_ctx *ctx;
	const struct mcpauth_req *req;
	struct mcpauth_resp *resp;
	struct mcpauth_form *form;
	struct mcpauth_client *client;
	struct mcpauth_authz_request *ar;
	char *id_hash;      /* the stored request's */
	char *flow_value;   /* this browser's flow cookie */
	char *session_hash; /* the signed-in session's, or NULL */
	char session_cookie[64]; /* SESSION_COOKIE + the issuer's hash */
	char rate_key[64];       /* mcpauth_req_rate_key */
	char flow_cookie[64];
	long long user_id;
	long long auth_time;
	/*
	 * Errors become pages, not redirects, for a dynamically registered
	 * client that has never been given a code (SECURITY.md: no automatic
	 * redirect to a newly registered client before the user has
	 * authenticated; else /authorize is an open redirector).
	 */
	bool no_redirect;
	/* f->client's metadata document was fetched by this request (one
	 * that forbids caching expires at once, yet counts as fresh here) */
	bool document_fetched;
	bool client_unsaved; /* f->client is pending_client's, not stored */
	int status; /* of the next page, 0: 200 */
};

/* --- answers -------------------------------------------------------------- */

/* Renders www/<name>.html into resp with the page headers. */
static bool page(struct flow *f, int status, const char *name,
		 struct mcpauth_html_var *vars, size_t nvars,
		 struct mcpauth_err *err)
{
	char *html = NULL, *stat = mcpauth_conf_url(f->ctx->conf, "/static");
	struct mcpauth_html_var all[16];
	bool ok;

	if (stat == NULL || nvars + 1 > sizeof(all) / sizeof(all[0])) {
		free(stat);
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	memcpy(all, vars, nvars * sizeof(*vars));
	memset(&all[nvars], 0, sizeof(all[nvars]));
	all[nvars].name = "static";
	all[nvars].value = stat;
	ok = mcpauth_html_render(f->ctx->conf->www_dir, name, all, nvars + 1,
				 &html, err);
	free(stat);
	if (ok)
		mcpauth_html_page(f->resp, status, html);
	return ok;
}

/*
 * An error the browser's user reads: the request cannot go back to the
 * client (unknown client, unregistered redirect URI, expired request).
 */
static bool error_page(struct flow *f, const struct mcpauth_err *e,
		       struct mcpauth_err *err)
{
	struct mcpauth_html_var vars[] = {
		{ .name = "title", .value = "This sign-in cannot continue" },
		{ .name = "description", .value = e->description },
		{ .name = "code", .value = e->code },
	};

	char desc[sizeof(e->description)];

	mcpauth_client_text_copy(desc, sizeof(desc), e->description);
	mcpauth_log(MCPAUTH_LOG_WARN, "event=authorize outcome=error_page "
		    "error=%s description=\"%s\"", e->code, desc);
	return page(f, e->status >= 400 ? e->status : 400, "error", vars, 3,
		    err);
}

/* Appends "&name=value" (or "?" first) with value percent-encoded. */
static bool append(char **url, const char *name, const char *value)
{
	char *esc, *n;
	size_t len;

	if (value == NULL)
		return true;
	esc = curl_easy_escape(NULL, value, 0);
	if (esc == NULL)
		return false;
	len = strlen(*url) + strlen(name) + strlen(esc) + 3;
	n = malloc(len);
	if (n != NULL)
		snprintf(n, len, "%s%c%s=%s", *url,
			 strchr(*url, '?') != NULL ? '&' : '?', name, esc);
	curl_free(esc);
	free(*url);
	*url = n;
	return n != NULL;
}

/*
 * 303 to the client's redirect URI with the parameters, state and iss
 * (RFC 9207). The URI keeps its own query; a fragment cannot be there.
 */
static bool redirect(struct flow *f, const char *redirect_uri,
		     const char *const *params, const char *state,
		     struct mcpauth_err *err)
{
	char *url = strdup(redirect_uri);
	bool ok = url != NULL;

	for (size_t i = 0; ok && params[i] != NULL; i += 2)
		ok = append(&url, params[i], params[i + 1]);
	ok = ok && append(&url, "state", state) &&
	     append(&url, "iss", f->ctx->conf->issuer);
	if (!ok) {
		free(url);
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	mcpauth_resp_header(f->resp, "Location", url);
	mcpauth_resp_header(f->resp, "Cache-Control", "no-store");
	mcpauth_resp_body(f->resp, 303, NULL, NULL, 0);
	free(url);
	return true;
}

/* An OAuth error sent back to the client (RFC 6749 §4.1.2.1). */
static bool redirect_error(struct flow *f, const char *redirect_uri,
			   const char *state, const struct mcpauth_err *e,
			   struct mcpauth_err *err)
{
	const char *params[] = { "error", e->code, "error_description",
				 e->description, NULL };

	char desc[sizeof(e->description)];

	if (f->no_redirect)
		return error_page(f, e, err);
	mcpauth_client_text_copy(desc, sizeof(desc), e->description);
	mcpauth_log(MCPAUTH_LOG_INFO, "event=authorize outcome=refused "
		    "client_id=%s error=%s description=\"%s\"",
		    f->client != NULL ? f->client->client_id : "-", e->code,
		    desc);
	return redirect(f, redirect_uri, params, state, err);
}

static bool set_cookie(struct flow *f, const char *name, const char *value,
		       long max_age)
{
	char buf[256];

	snprintf(buf, sizeof(buf),
		 "%s=%s; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=%ld",
		 name, value, max_age);
	return mcpauth_resp_header(f->resp, "Set-Cookie", buf);
}

/* --- validation of a new request ------------------------------------------- */

/* The length of the host at the start of an authority ([::1] whole). */
static size_t host_len(const char *a)
{
	if (*a == '[')
		return strcspn(a, "]") + (strchr(a, ']') != NULL ? 1 : 0);
	return strcspn(a, ":/?");
}

/*
 * The registered redirect URI the request names (RFC 6749 §3.1.2.3): the
 * same string, or for a native client's loopback URI the same but for the
 * port (RFC 8252 §7.3). None given: the only registered one.
 */
static const char *match_redirect(const struct mcpauth_client *c,
				  const char *given)
{
	if (given == NULL)
		return c->nredirect_uris == 1 ? c->redirect_uris[0] : NULL;
	for (size_t i = 0; i < c->nredirect_uris; i++)
		if (!strcmp(c->redirect_uris[i], given))
			return c->redirect_uris[i];
	if (strcmp(c->application_type, "native") != 0 ||
	    !mcpauth_client_redirect_uri_loopback(given))
		return NULL;
	for (size_t i = 0; i < c->nredirect_uris; i++) {
		const char *r = c->redirect_uris[i];
		const char *rh, *gh = given + 7, *rrest, *grest;
		size_t rhost, ghost;

		/* Both are http://host[:port]/...: look inside r only then. */
		if (!mcpauth_client_redirect_uri_loopback(r))
			continue;
		/* Compare all but the digits of the port. */
		rh = r + 7;
		rhost = host_len(rh);
		ghost = host_len(gh);
		if (rhost != ghost || strncmp(r, given, 7 + rhost) != 0)
			continue;
		rrest = rh + rhost;
		grest = gh + ghost;
		if (*rrest == ':')
			rrest += 1 + strspn(rrest + 1, "0123456789");
		if (*grest == ':')
			grest += 1 + strspn(grest + 1, "0123456789");
		if (!strcmp(rrest, grest))
			return given;
	}
	return NULL;
}

/* The resource's scopes, offline_access and the client's registration. */
static bool check_scope(const struct mcpauth_conf *conf,
			const struct mcpauth_resource *res,
			const struct mcpauth_client *c, const char *requested,
			char **out, struct mcpauth_err *err)
{
	char *granted = NULL;
	bool refresh = mcpauth_scope_has(c->grant_types, "refresh_token");

	if (requested == NULL || strspn(requested, " ") == strlen(requested)) {
		/* None asked: the resource's defaults that the client has. */
		granted = calloc(1, 1);
		for (size_t i = 0; granted != NULL && i < res->ndefault_scopes;
		     i++) {
			const char *s = res->default_scopes[i];
			char *u;
			if (!mcpauth_scope_has(c->scope, s) ||
			    (!strcmp(s, "offline_access") && !refresh))
				continue;
			u = mcpauth_scope_union(granted, s);
			free(granted);
			granted = u;
		}
		if (granted == NULL) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			return false;
		}
		*out = granted;
		return true;
	}
	(void)conf;
	granted = strdup(requested);
	if (granted == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	for (char *save = NULL, *t = strtok_r(granted, " ", &save); t != NULL;
	     t = strtok_r(NULL, " ", &save)) {
		bool offered = !strcmp(t, "offline_access");
		for (size_t i = 0; !offered && i < res->nscopes; i++)
			offered = !strcmp(res->scopes[i], t);
		if (!offered || !mcpauth_scope_has(c->scope, t) ||
		    (!strcmp(t, "offline_access") && !refresh)) {
			char shown[64];
			snprintf(shown, sizeof(shown), "%s", t);
			free(granted);
			MCPAUTH_ERR(err, 400, "invalid_scope",
				    "scope '%s' is not available to this client "
				    "at this resource",
				    shown);
			return false;
		}
	}
	free(granted);
	/* The request's own text, normalised to single spaces. */
	granted = mcpauth_scope_union("", requested);
	if (granted == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	*out = granted;
	return true;
}

/* --- sessions ---------------------------------------------------------------- */

/* Finds the signed-in session from the cookie, if any. */
static bool load_session(struct flow *f, struct mcpauth_err *err)
{
	char *id = mcpauth_req_cookie(f->req, f->session_cookie);
	bool found = false;

	if (id == NULL)
		return true;
	f->session_hash = mcpauth_crypto_sha256_b64url(id);
	mcpauth_crypto_free_secret(id);
	if (f->session_hash == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	if (!mcpauth_store_session_get(f->ctx->store, f->session_hash,
				       f->ctx->now, &f->user_id, &f->auth_time,
				       &found, err))
		return false;
	if (!found) {
		free(f->session_hash);
		f->session_hash = NULL;
	}
	return true;
}

/* --- Client ID Metadata Documents ---------------------------------------------- */

/*
 * The client an https client_id has before its document is fetched: the
 * authorization request needs a client row, and the fetch waits for
 * sign-in (SEP-991). Made in memory; stored (INSERT OR IGNORE) only with a
 * request that passed every check, right before the request itself. No
 * redirect URIs (none is ever verified), every offered scope (the
 * document narrows them), and never a code or token (document_ready,
 * do_consent and the token endpoint all want a fetched document).
 */
static bool pending_client(struct flow *f, const char *url,
			   struct mcpauth_err *err)
{
	const char **all = NULL;
	size_t n = mcpauth_conf_scopes(f->ctx->conf, &all);
	struct mcpauth_client *c = calloc(1, sizeof(*c));
	char *scopes = calloc(1, 1);

	for (size_t i = 0; scopes != NULL && i < n; i++) {
		char *u = mcpauth_scope_union(scopes, all[i]);
		free(scopes);
		scopes = u;
	}
	free(all);
	if (c == NULL || scopes == NULL) {
		free(c);
		free(scopes);
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	c->scope = scopes;
	c->client_id = strdup(url);
	c->source = strdup("metadata_document");
	c->auth_method = strdup("none");
	c->application_type = strdup("web");
	c->grant_types = strdup("authorization_code refresh_token");
	c->metadata = strdup("{}");
	c->registered_from = f->req->remote_addr != NULL
				     ? strdup(f->req->remote_addr)
				     : NULL;
	c->created_at = c->updated_at = f->ctx->now;
	f->client = c;
	f->client_unsaved = true;
	if (c->client_id == NULL || c->source == NULL ||
	    c->auth_method == NULL || c->application_type == NULL ||
	    c->grant_types == NULL || c->metadata == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	return true;
}

static bool is_document_client(const struct mcpauth_client *c)
{
	return !strcmp(c->source, "metadata_document");
}

/* Fetches f->client's document when it was never fetched or expired. */
static bool refresh_document(struct flow *f, struct mcpauth_err *e)
{
	struct mcpauth_client *fresh = NULL;

	if (f->document_fetched ||
	    f->client->document_expires_at > f->ctx->now)
		return true;
	if (!mcpauth_client_document_fetch(f->ctx->store, f->ctx->conf,
					   f->client->client_id,
					   f->req->remote_addr, f->ctx->now,
					   &fresh, e))
		return false;
	mcpauth_client_free(f->client);
	f->client = fresh;
	f->document_fetched = true;
	f->client_unsaved = false;
	return true;
}

/*
 * A request stored before the document was fetched keeps only the scopes
 * the document registers (offline_access with the refresh_token grant).
 */
static bool narrow_scope(struct flow *f, bool persist,
			 struct mcpauth_err *err)
{
	bool refresh = mcpauth_scope_has(f->client->grant_types,
					 "refresh_token");
	char *copy = strdup(f->ar->scope), *kept = calloc(1, 1);

	for (char *save = NULL, *t = copy ? strtok_r(copy, " ", &save) : NULL;
	     t != NULL && kept != NULL; t = strtok_r(NULL, " ", &save)) {
		char *u;
		if (!mcpauth_scope_has(f->client->scope, t) ||
		    (!strcmp(t, "offline_access") && !refresh))
			continue;
		u = mcpauth_scope_union(kept, t);
		free(kept);
		kept = u;
	}
	free(copy);
	if (kept == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	/* Stored, so that a consent approves no more than its page showed,
	 * whatever the document says by then (resume narrows again). */
	if (persist && strcmp(kept, f->ar->scope) != 0 &&
	    !mcpauth_store_authz_set_scope(f->ctx->store, f->id_hash, kept,
					   err)) {
		free(kept);
		return false;
	}
	free(f->ar->scope);
	f->ar->scope = kept;
	return true;
}

/*
 * After sign-in: the document of a metadata document client is fetched
 * (when not cached) and the stored request checked against it. When it
 * cannot go on, *answered is set: an error page is in f->resp.
 */
static bool document_ready(struct flow *f, bool *answered,
			   struct mcpauth_err *err)
{
	struct mcpauth_err e = { 0 };

	if (!is_document_client(f->client))
		return true;
	if (!refresh_document(f, &e)) {
		if (e.status >= 500) {
			*err = e;
			return false;
		}
	} else if (match_redirect(f->client, f->ar->redirect_uri) == NULL) {
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "the redirect_uri is not one this application "
			    "registered");
	} else {
		return narrow_scope(f, true, err);
	}
	*answered = true;
	mcpauth_store_authz_delete(f->ctx->store, f->id_hash, NULL, err);
	return error_page(f, &e, err);
}

/* The host of a metadata document client's URL, or NULL (free it). */
static char *document_host(const struct mcpauth_client *c)
{
	char *host = NULL;

	if (!is_document_client(c) ||
	    !mcpauth_client_document_url_ok(c->client_id, &host, NULL))
		return NULL;
	return host;
}

/* True when the operator trusts documents from host. */
static bool document_trusted(const struct flow *f, const char *host)
{
	return mcpauth_conf_host_listed(
		f->ctx->conf->metadata_document_trusted_hosts,
		f->ctx->conf->nmetadata_document_trusted_hosts, host);
}

/*
 * Whether errors may be redirected to a metadata document client: its
 * host is trusted, or the signed-in user consented to it (at resource, or
 * the default one). Sets err only on an internal failure.
 */
static bool document_vouched(struct flow *f, const char *resource,
			     struct mcpauth_err *err)
{
	char *host = document_host(f->client), *granted = NULL;
	bool trusted = host != NULL && document_trusted(f, host);

	free(host);
	if (trusted)
		return true;
	if (resource == NULL)
		resource = f->ctx->conf->default_resource;
	if (f->session_hash == NULL || resource == NULL)
		return false;
	if (!mcpauth_store_consent_get(f->ctx->store, f->user_id,
				       f->client->client_id, resource,
				       &granted, err))
		return false;
	free(granted);
	return granted != NULL;
}

/* --- the steps ------------------------------------------------------------------ */

static bool login_page(struct flow *f, const char *request_id,
		       const char *csrf, const char *error,
		       const char *username, struct mcpauth_err *err)
{
	char *action = mcpauth_conf_url(f->ctx->conf, "/authorize");
	const char *host = NULL;
	char hostbuf[256] = "";
	struct mcpauth_html_var vars[] = {
		{ .name = "action", .value = action },
		{ .name = "client_name", .value = f->client->client_name },
		{ .name = "client_host", .value = hostbuf },
		{ .name = "error", .value = error },
		{ .name = "username", .value = username },
		{ .name = "csrf", .value = csrf },
		{ .name = "request_id", .value = request_id },
	};
	bool ok;

	host = strstr(f->ar->redirect_uri, "://");
	/* A document not fetched yet vouches for no redirect host. */
	if (host != NULL &&
	    match_redirect(f->client, f->ar->redirect_uri) != NULL)
		snprintf(hostbuf, sizeof(hostbuf), "%.*s",
			 (int)strcspn(host + 3, "/?#"), host + 3);
	ok = action != NULL &&
	     page(f, f->status ? f->status : 200, "login", vars,
		  sizeof(vars) / sizeof(vars[0]), err);
	if (action == NULL)
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
	free(action);
	return ok;
}

static bool consent_page(struct flow *f, const char *request_id,
			 const char *csrf, struct mcpauth_err *err)
{
	const struct mcpauth_resource *res =
		mcpauth_conf_resource(f->ctx->conf, f->ar->resource);
	char *action = mcpauth_conf_url(f->ctx->conf, "/authorize");
	char hostbuf[256] = "", *scopes = strdup(f->ar->scope);
	const char **list = NULL, *host;
	size_t n = 0;
	struct mcpauth_user *user = NULL;
	char *doc_host = NULL;
	bool ok = false, loopback, trusted = false, only_loopback = false;

	/* Every scope is shown: no more tokens than half the string's length. */
	if (scopes != NULL)
		list = calloc(strlen(scopes) / 2 + 1, sizeof(*list));
	if (action == NULL || scopes == NULL || list == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	for (char *save = NULL, *t = strtok_r(scopes, " ", &save); t != NULL;
	     t = strtok_r(NULL, " ", &save))
		list[n++] = t;
	host = strstr(f->ar->redirect_uri, "://");
	if (host != NULL)
		snprintf(hostbuf, sizeof(hostbuf), "%.*s",
			 (int)strcspn(host + 3, "/?#"), host + 3);
	loopback = mcpauth_client_redirect_uri_loopback(f->ar->redirect_uri);
	if ((doc_host = document_host(f->client)) != NULL) {
		/* Anyone can publish a document naming itself anything: only
		 * an https redirect ties the app to a host. */
		trusted = document_trusted(f, doc_host);
		only_loopback = f->client->nredirect_uris > 0;
		for (size_t i = 0; i < f->client->nredirect_uris; i++)
			only_loopback &= mcpauth_client_redirect_uri_loopback(
				f->client->redirect_uris[i]);
		if (trusted)
			loopback = only_loopback = false;
	}
	if (!mcpauth_store_user_get_id(f->ctx->store, f->user_id, &user, err))
		goto out;
	{
		struct mcpauth_html_var vars[] = {
			{ .name = "action", .value = action },
			{ .name = "client_name",
			  .value = f->client->client_name != NULL
					   ? f->client->client_name
					   : f->client->client_id },
			{ .name = "client_host",
			  .value = host != NULL ? hostbuf : f->ar->redirect_uri },
			{ .name = "resource", .value = f->ar->resource },
			{ .name = "resource_name",
			  .value = res != NULL ? res->name : NULL },
			{ .name = "scopes", .values = list, .nvalues = n },
			{ .name = "localhost_warning",
			  .value = loopback ? "yes" : NULL },
			{ .name = "document_host", .value = doc_host },
			{ .name = "document_warning",
			  .value = only_loopback ? "yes" : NULL },
			{ .name = "username",
			  .value = user != NULL ? user->username : NULL },
			{ .name = "csrf", .value = csrf },
			{ .name = "request_id", .value = request_id },
		};
		ok = page(f, 200, "consent", vars,
			  sizeof(vars) / sizeof(vars[0]), err);
	}
out:
	mcpauth_user_free(user);
	free(doc_host);
	free(action);
	free(list);
	free(scopes);
	return ok;
}

/* Issues the code and sends the browser back to the client. */
static bool issue_code(struct flow *f, struct mcpauth_err *err)
{
	struct mcpauth_code code = {
		.client_id = f->ar->client_id,
		.user_id = f->user_id,
		.redirect_uri = f->ar->redirect_uri,
		.code_challenge = f->ar->code_challenge,
		.resource = f->ar->resource,
		.scope = f->ar->scope,
		.auth_time = f->auth_time,
		.created_at = f->ctx->now,
		.expires_at = f->ctx->now + f->ctx->conf->code_lifetime,
	};
	const char *params[] = { "code", NULL, NULL };
	char *value = NULL, *hash = NULL;
	bool ok = false, taken = false;

	/*
	 * One request, one code: the request is taken (deleted) in the same
	 * transaction that stores the code, and only by one of concurrent
	 * submissions of the same form.
	 */
	if (!mcpauth_tokens_random(&value, &hash, err) ||
	    !mcpauth_store_begin(f->ctx->store, err))
		goto out;
	if (!mcpauth_store_authz_delete(f->ctx->store, f->id_hash, &taken,
					err) ||
	    (taken && !mcpauth_store_code_add(f->ctx->store, hash, &code,
					      err)) ||
	    !mcpauth_store_commit(f->ctx->store, err)) {
		mcpauth_store_rollback(f->ctx->store);
		goto out;
	}
	if (!taken) {
		struct mcpauth_err e = { 0 };
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "this sign-in was already answered; start again "
			    "from the application if it did not continue");
		ok = error_page(f, &e, err);
		goto out;
	}
	mcpauth_store_client_touch(f->ctx->store, f->ar->client_id,
				   f->ctx->now, err);
	params[1] = value;
	mcpauth_log(MCPAUTH_LOG_INFO, "event=authorize outcome=code "
		    "client_id=%s user_id=%lld resource=%s scope=\"%s\"",
		    f->ar->client_id, f->user_id, f->ar->resource,
		    f->ar->scope);
	ok = redirect(f, f->ar->redirect_uri, params, f->ar->state, err);
out:
	mcpauth_crypto_free_secret(value);
	free(hash);
	return ok;
}

/*
 * Where a stored request goes next: sign-in, consent, or the code. The
 * page's forms carry request_id and a fresh CSRF token.
 */
static bool proceed(struct flow *f, const char *request_id, const char *csrf,
		    struct mcpauth_err *err)
{
	char *granted = NULL;
	bool consented, answered = false;

	if (f->session_hash == NULL || f->ar->force_login ||
	    (f->ar->session_hash != NULL &&
	     strcmp(f->ar->session_hash, f->session_hash) != 0))
		return login_page(f, request_id, csrf, NULL, NULL, err);
	if (!document_ready(f, &answered, err) || answered)
		return !mcpauth_err_isset(err);
	if (f->ar->session_hash == NULL &&
	    !mcpauth_store_authz_set_session(f->ctx->store, f->id_hash,
					     f->session_hash, err))
		return false;
	if (!mcpauth_store_consent_get(f->ctx->store, f->user_id,
				       f->ar->client_id, f->ar->resource,
				       &granted, err))
		return false;
	consented = granted != NULL &&
		    mcpauth_scope_subset(f->ar->scope, granted);
	free(granted);
	if (!f->ar->force_consent && (consented || f->client->first_party))
		return issue_code(f, err);
	return consent_page(f, request_id, csrf, err);
}

/*
 * A new request id and CSRF token for the stored request f->ar; the
 * caller stores it. Both returned values are owned by the caller.
 */
static bool new_ids(struct flow *f, char **request_id, char **csrf,
		    struct mcpauth_err *err)
{
	char *csrf_hash = NULL;

	if (!mcpauth_tokens_random(request_id, &f->id_hash, err))
		return false;
	if (!mcpauth_tokens_random(csrf, &csrf_hash, err))
		return false;
	free(f->ar->csrf_hash);
	f->ar->csrf_hash = csrf_hash;
	return true;
}

/* The browser's flow cookie, made when it has none. */
static bool flow_cookie(struct flow *f, struct mcpauth_err *err)
{
	char *hash = NULL;

	f->flow_value = mcpauth_req_cookie(f->req, f->flow_cookie);
	if (f->flow_value != NULL && strlen(f->flow_value) == 43)
		return true;
	mcpauth_crypto_free_secret(f->flow_value);
	f->flow_value = NULL;
	if (!mcpauth_tokens_random(&f->flow_value, &hash, err))
		return false;
	free(hash);
	return set_cookie(f, f->flow_cookie, f->flow_value, FLOW_LIFETIME);
}

static const char *param(const struct flow *f, const char *name)
{
	const char *v = mcpauth_form_get(f->form, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* GET /authorize?response_type=code&... : a new authorization request. */
static bool start(struct flow *f, struct mcpauth_err *err)
{
	const struct mcpauth_conf *conf = f->ctx->conf;
	const struct mcpauth_resource *res = NULL;
	struct mcpauth_err e = { 0 };
	const char *client_id = param(f, "client_id");
	const char *redirect_uri, *state = param(f, "state");
	const char *rt = param(f, "response_type");
	const char *challenge = param(f, "code_challenge");
	const char *method = param(f, "code_challenge_method");
	const char *resource = param(f, "resource");
	const char *prompt = param(f, "prompt");
	char *scope = NULL, *request_id = NULL, *csrf = NULL;
	bool ok = false, prompt_none, pending;

	if (client_id == NULL) {
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "the request has no client_id");
		return error_page(f, &e, err);
	}
	if (mcpauth_client_id_is_url(client_id)) {
		/* draft-ietf-oauth-client-id-metadata-document: checked
		 * before anything is fetched. */
		char *host = NULL;
		bool denied;
		if (!conf->client_id_metadata_documents) {
			MCPAUTH_ERR(&e, 400, "invalid_client",
				    "this server does not accept Client ID "
				    "Metadata Documents (https client_id "
				    "URLs)");
			return error_page(f, &e, err);
		}
		if (!mcpauth_client_document_url_ok(client_id, &host, &e))
			return e.status >= 500 ? (*err = e, false)
					       : error_page(f, &e, err);
		denied = mcpauth_conf_host_listed(
			conf->metadata_document_denied_hosts,
			conf->nmetadata_document_denied_hosts, host);
		free(host);
		if (denied) {
			MCPAUTH_ERR(&e, 400, "invalid_client",
				    "the operator does not accept applications "
				    "from this host");
			return error_page(f, &e, err);
		}
	}
	if (!mcpauth_store_client_get(f->ctx->store, client_id, &f->client,
				      err))
		return false;
	if (f->client == NULL && mcpauth_client_id_is_url(client_id) &&
	    !pending_client(f, client_id, err))
		return false;
	if (f->client == NULL) {
		MCPAUTH_ERR(&e, 400, "invalid_client",
			    "the application is not registered here (unknown "
			    "client_id); it should register again");
		return error_page(f, &e, err);
	}
	if (f->client->disabled_at != 0) {
		MCPAUTH_ERR(&e, 400, "invalid_client",
			    "the operator has disabled this application");
		return error_page(f, &e, err);
	}
	if (!load_session(f, err))
		return false;
	/*
	 * A metadata document is fetched only for a signed-in user (SEP-991:
	 * no fetches for anonymous requests); until then the redirect URI
	 * cannot be checked, so errors are pages, and the continuation after
	 * sign-in checks it (document_ready).
	 */
	if (is_document_client(f->client) && f->session_hash != NULL &&
	    !refresh_document(f, &e))
		return e.status >= 500 ? (*err = e, false)
				       : error_page(f, &e, err);
	pending = is_document_client(f->client) && !f->document_fetched &&
		  f->client->document_expires_at <= f->ctx->now;
	/*
	 * Whoever is signed in: a victim's session must not turn an
	 * attacker's fresh registration into a redirector. The client's
	 * first code makes it used.
	 */
	f->no_redirect = pending || (f->client->last_used_at == 0 &&
				     !strcmp(f->client->source, "dynamic"));
	/* Anyone can publish a document listing any redirect URI: until
	 * this user has consented to it (or the operator trusts its host),
	 * errors are pages, not redirects. */
	if (is_document_client(f->client) && !f->no_redirect &&
	    !document_vouched(f, param(f, "resource"), err)) {
		if (mcpauth_err_isset(err))
			return false;
		f->no_redirect = true;
	}
	redirect_uri = pending ? param(f, "redirect_uri")
			       : match_redirect(f->client,
						param(f, "redirect_uri"));
	if (pending && (redirect_uri == NULL ||
			strlen(redirect_uri) > MCPAUTH_CLIENT_MAX_URI)) {
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "redirect_uri is required");
		return error_page(f, &e, err);
	}
	if (redirect_uri == NULL) {
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "the redirect_uri is not one this application "
			    "registered");
		return error_page(f, &e, err);
	}
	/* From here on, errors go back to the client. */
	if (state != NULL && strlen(state) > MAX_STATE) {
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "state is longer than %d characters", MAX_STATE);
		return redirect_error(f, redirect_uri, NULL, &e, err);
	}
	if (rt == NULL || strcmp(rt, "code") != 0) {
		MCPAUTH_ERR(&e, 400, "unsupported_response_type",
			    "response_type must be code");
		return redirect_error(f, redirect_uri, state, &e, err);
	}
	if (challenge == NULL) {
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "code_challenge is required (PKCE with S256)");
		return redirect_error(f, redirect_uri, state, &e, err);
	}
	/* RFC 7636 §4.3: absent means plain, which OAuth 2.1 retires. */
	if (method == NULL || strcmp(method, "S256") != 0) {
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "code_challenge_method must be S256");
		return redirect_error(f, redirect_uri, state, &e, err);
	}
	if (!mcpauth_pkce_challenge_ok(challenge)) {
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "code_challenge is not an S256 challenge (43 "
			    "base64url characters)");
		return redirect_error(f, redirect_uri, state, &e, err);
	}
	if (resource == NULL)
		resource = conf->default_resource;
	if (resource == NULL) {
		MCPAUTH_ERR(&e, 400, "invalid_target",
			    "resource is required: this server protects "
			    "several (RFC 8707)");
		return redirect_error(f, redirect_uri, state, &e, err);
	}
	res = mcpauth_conf_resource(conf, resource);
	if (res == NULL) {
		MCPAUTH_ERR(&e, 400, "invalid_target",
			    "resource is not a resource this server protects");
		return redirect_error(f, redirect_uri, state, &e, err);
	}
	if (!check_scope(conf, res, f->client, param(f, "scope"), &scope,
			 &e)) {
		if (e.status >= 500) {
			*err = e;
			return false;
		}
		return redirect_error(f, redirect_uri, state, &e, err);
	}
	prompt_none = prompt != NULL && mcpauth_scope_has(prompt, "none");
	f->ar = calloc(1, sizeof(*f->ar));
	if (f->ar == NULL || !flow_cookie(f, err)) {
		free(scope);
		if (f->ar == NULL)
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	f->ar->client_id = strdup(client_id);
	f->ar->redirect_uri = strdup(redirect_uri);
	f->ar->scope = scope;
	f->ar->resource = strdup(res->url);
	f->ar->state = state != NULL ? strdup(state) : NULL;
	f->ar->code_challenge = strdup(challenge);
	f->ar->force_login = prompt != NULL && mcpauth_scope_has(prompt, "login");
	f->ar->force_consent =
		prompt != NULL && mcpauth_scope_has(prompt, "consent");
	f->ar->browser_hash = mcpauth_crypto_sha256_b64url(f->flow_value);
	f->ar->created_at = f->ctx->now;
	f->ar->expires_at = f->ctx->now + REQUEST_LIFETIME;
	f->ar->rate_key = strdup(f->rate_key);
	if (f->ar->client_id == NULL || f->ar->redirect_uri == NULL ||
	    f->ar->resource == NULL || f->ar->code_challenge == NULL ||
	    f->ar->browser_hash == NULL || f->ar->rate_key == NULL ||
	    (state != NULL && !f->ar->state)) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	if (!new_ids(f, &request_id, &csrf, err))
		goto out;
	if (f->client_unsaved &&
	    !mcpauth_store_client_document_pending(f->ctx->store, f->client,
						   err))
		goto out;
	if (!mcpauth_store_authz_add(f->ctx->store, f->id_hash, f->ar,
				     MAX_PENDING, err)) {
		if (err->status == 429) {
			e = *err;
			mcpauth_err_clear(err);
			ok = error_page(f, &e, err);
		}
		goto out;
	}
	if (prompt_none) {
		/* OIDC Core §3.1.2.1: no page may be shown. */
		char *granted = NULL;
		if (f->session_hash == NULL || f->ar->force_login) {
			MCPAUTH_ERR(&e, 400, "login_required",
				    "prompt=none but nobody is signed in");
		} else if (!mcpauth_store_consent_get(
				   f->ctx->store, f->user_id, client_id,
				   f->ar->resource, &granted, err)) {
			goto out;
		} else if (!f->client->first_party &&
			   (f->ar->force_consent || granted == NULL ||
			    !mcpauth_scope_subset(f->ar->scope, granted))) {
			MCPAUTH_ERR(&e, 400, "consent_required",
				    "prompt=none but consent is needed");
		}
		free(granted);
		if (e.code != NULL) {
			mcpauth_store_authz_delete(f->ctx->store, f->id_hash,
						   NULL, err);
			ok = redirect_error(f, redirect_uri, state, &e, err);
			goto out;
		}
	}
	ok = proceed(f, request_id, csrf, err);
out:
	mcpauth_crypto_free_secret(request_id);
	mcpauth_crypto_free_secret(csrf);
	return ok;
}

/*
 * The stored request a form or a continuation names, from the browser that
 * started it. With check_csrf, the form's csrf must match too. When it
 * cannot continue, *answered is set: an error page is in f->resp.
 */
static bool resume(struct flow *f, bool check_csrf, bool *answered,
		   struct mcpauth_err *err)
{
	struct mcpauth_err e = { 0 };
	const char *request_id = param(f, "request_id");
	char *browser = NULL;
	bool same;

	f->flow_value = mcpauth_req_cookie(f->req, f->flow_cookie);
	if (request_id == NULL || f->flow_value == NULL) {
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "this sign-in has no request to continue; start "
			    "again from the application");
		return (*answered = true) && error_page(f, &e, err);
	}
	f->id_hash = mcpauth_crypto_sha256_b64url(request_id);
	browser = mcpauth_crypto_sha256_b64url(f->flow_value);
	if (f->id_hash == NULL || browser == NULL) {
		free(browser);
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	if (!mcpauth_store_authz_get(f->ctx->store, f->id_hash, f->ctx->now,
				     &f->ar, err)) {
		free(browser);
		return false;
	}
	same = f->ar != NULL &&
	       mcpauth_crypto_streq(browser, f->ar->browser_hash);
	free(browser);
	if (!same) {
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "this sign-in expired or was started in another "
			    "browser; start again from the application");
		return (*answered = true) && error_page(f, &e, err);
	}
	if (check_csrf) {
		const char *csrf = param(f, "csrf");
		char *h = csrf != NULL ? mcpauth_crypto_sha256_b64url(csrf)
				       : NULL;
		bool good = h != NULL && mcpauth_crypto_streq(h, f->ar->csrf_hash);
		free(h);
		if (!good) {
			MCPAUTH_ERR(&e, 403, "invalid_request",
				    "the form is stale or was not sent from "
				    "this page (CSRF check failed)");
			return (*answered = true) && error_page(f, &e, err);
		}
	}
	if (!mcpauth_store_client_get(f->ctx->store, f->ar->client_id,
				      &f->client, err))
		return false;
	if (f->client == NULL || f->client->disabled_at != 0) {
		MCPAUTH_ERR(&e, 400, "invalid_client",
			    "the application was removed or disabled");
		return (*answered = true) && error_page(f, &e, err);
	}
	if (is_document_client(f->client) && !narrow_scope(f, false, err))
		return false;
	return load_session(f, err);
}

/*
 * The continuation after sign-in: GET /authorize?request_id=... A new CSRF
 * token is made for the page (the stored hash replaced).
 */
static bool resume_and_proceed(struct flow *f, struct mcpauth_err *err)
{
	char *request_id = NULL, *csrf = NULL, *csrf_hash = NULL;
	bool ok = false, found = false;
	bool answered = false;

	if (!resume(f, false, &answered, err) || answered)
		return !mcpauth_err_isset(err);
	request_id = strdup(param(f, "request_id"));
	if (request_id == NULL ||
	    !mcpauth_tokens_random(&csrf, &csrf_hash, err)) {
		if (request_id == NULL)
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	/* The page gets a new CSRF token; a request answered meanwhile is gone. */
	if (!mcpauth_store_authz_set_csrf(f->ctx->store, f->id_hash, csrf_hash,
					  &found, err))
		goto out;
	if (!found) {
		struct mcpauth_err e = { 0 };
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "this sign-in was already answered; start again "
			    "from the application if it did not continue");
		ok = error_page(f, &e, err);
		goto out;
	}
	free(f->ar->csrf_hash);
	f->ar->csrf_hash = csrf_hash;
	csrf_hash = NULL;
	ok = proceed(f, request_id, csrf, err);
out:
	free(request_id);
	mcpauth_crypto_free_secret(csrf);
	free(csrf_hash);
	return ok;
}

/*
 * One audit row and log line per sign-in attempt: the username tried (never
 * the password), so that failures can be counted per address and per user.
 */
static void audit_login(struct flow *f, const char *username, bool ok)
{
	struct mcpauth_err ignored = { 0 };
	char name[128] = "";
	struct mcpauth_audit a = {
		.at = f->ctx->now,
		.event = "login",
		.refused = !ok,
		.actor = "user",
		.client_id = f->ar->client_id,
		.address = f->req->remote_addr,
		.error = ok ? NULL : "access_denied",
		.detail = ok ? NULL : "wrong username or password",
		.status = ok ? 303 : 200,
		.rate_key = f->rate_key[0] ? f->rate_key : NULL,
		.username = name,
	};

	mcpauth_client_text_copy(name, sizeof(name),
				 username != NULL ? username : "");
	if (!mcpauth_store_audit_add(f->ctx->store, &a, &ignored))
		mcpauth_log_err(&ignored);
	mcpauth_log(ok ? MCPAUTH_LOG_INFO : MCPAUTH_LOG_WARN,
		    "event=login outcome=%s user=\"%s\" client_id=%s address=%s",
		    ok ? "ok" : "refused", name, f->ar->client_id,
		    f->req->remote_addr ? f->req->remote_addr : "-");
}

/* POST step=login: the sign-in form. */
static bool do_login(struct flow *f, struct mcpauth_err *err)
{
	struct mcpauth_user *user = NULL;
	const char *username = param(f, "username");
	char *sid = NULL, *sid_hash = NULL, *next = NULL, *csrf = NULL;
	char *csrf_hash = NULL;
	bool found = false;
	bool ok = false;

	bool answered = false;

	if (!resume(f, true, &answered, err) || answered)
		return !mcpauth_err_isset(err);
	{
		long by_key = 0, by_user = 0;
		if (!mcpauth_store_login_failures(
			    f->ctx->store, f->rate_key[0] ? f->rate_key : NULL,
			    username, f->ctx->now - LOGIN_WINDOW + 1, &by_key,
			    &by_user, err))
			return false;
		if (by_key >= MAX_FAILS_PER_ADDRESS ||
		    by_user >= MAX_FAILS_PER_USER) {
			mcpauth_log(MCPAUTH_LOG_WARN, "event=login "
				    "outcome=throttled address=%s",
				    f->req->remote_addr ? f->req->remote_addr
							: "-");
			f->status = 429;
			return login_page(f, param(f, "request_id"),
					  param(f, "csrf"),
					  "Too many failed sign-ins. Wait a "
					  "quarter of an hour, then try again.",
					  username, err);
		}
	}
	if (!mcpauth_signin_password(f->ctx->store, username,
				     param(f, "password"), f->ctx->now, &user,
				     err))
		return false;
	audit_login(f, username, user != NULL);
	if (user == NULL) {
		/* Same request, same CSRF token: the form can be sent again. */
		return login_page(f, param(f, "request_id"), param(f, "csrf"),
				  "Wrong username or password.", username,
				  err);
	}
	/* A new session id at every sign-in (no fixation); the old one ends. */
	if (f->session_hash != NULL)
		mcpauth_store_session_delete(f->ctx->store, f->session_hash,
					     err);
	/*
	 * The login form's CSRF token ends here: the consent form gets its
	 * own at the continuation, so this one cannot approve.
	 */
	if (!mcpauth_tokens_random(&sid, &sid_hash, err) ||
	    !mcpauth_tokens_random(&csrf, &csrf_hash, err) ||
	    !mcpauth_store_session_add(f->ctx->store, sid_hash, user->id,
				       f->ctx->now, f->ctx->now,
				       f->ctx->now +
					       f->ctx->conf->session_lifetime,
				       err) ||
	    !mcpauth_store_authz_set_csrf(f->ctx->store, f->id_hash, csrf_hash,
					  &found, err) ||
	    !mcpauth_store_authz_set_session(f->ctx->store, f->id_hash,
					     sid_hash, err))
		goto out;
	next = mcpauth_conf_url(f->ctx->conf, "/authorize");
	if (next == NULL || !append(&next, "request_id", param(f, "request_id"))) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	set_cookie(f, f->session_cookie, sid, f->ctx->conf->session_lifetime);
	mcpauth_resp_header(f->resp, "Location", next);
	mcpauth_resp_header(f->resp, "Cache-Control", "no-store");
	mcpauth_resp_body(f->resp, 303, NULL, NULL, 0);
	ok = true;
out:
	mcpauth_user_free(user);
	mcpauth_crypto_free_secret(sid);
	mcpauth_crypto_free_secret(csrf);
	free(csrf_hash);
	free(sid_hash);
	free(next);
	return ok;
}

/* POST step=consent: Approve or Deny. */
static bool do_consent(struct flow *f, struct mcpauth_err *err)
{
	struct mcpauth_err e = { 0 };
	const char *decision = param(f, "decision");
	char *granted = NULL, *all = NULL;
	bool ok;

	bool answered = false;

	if (!resume(f, true, &answered, err) || answered)
		return !mcpauth_err_isset(err);
	if (f->session_hash == NULL || f->ar->session_hash == NULL ||
	    strcmp(f->session_hash, f->ar->session_hash) != 0) {
		MCPAUTH_ERR(&e, 403, "invalid_request",
			    "sign in again: the consent belongs to another "
			    "sign-in");
		return error_page(f, &e, err);
	}
	/* Only a consent page shown after the document was checked leads
	 * here; a form from elsewhere (the login page's) must not skip it. */
	if (is_document_client(f->client) &&
	    (f->client->document_fetched_at == 0 ||
	     match_redirect(f->client, f->ar->redirect_uri) == NULL)) {
		MCPAUTH_ERR(&e, 400, "invalid_request",
			    "this application's metadata document was not "
			    "checked for this sign-in; start again from the "
			    "application");
		mcpauth_store_authz_delete(f->ctx->store, f->id_hash, NULL,
					   err);
		return error_page(f, &e, err);
	}
	if (decision == NULL || strcmp(decision, "approve") != 0) {
		MCPAUTH_ERR(&e, 400, "access_denied",
			    "the user denied the request");
		mcpauth_store_authz_delete(f->ctx->store, f->id_hash, NULL,
					   err);
		return redirect_error(f, f->ar->redirect_uri, f->ar->state, &e,
				      err);
	}
	if (!mcpauth_store_consent_get(f->ctx->store, f->user_id,
				       f->ar->client_id, f->ar->resource,
				       &granted, err))
		return false;
	all = mcpauth_scope_union(granted, f->ar->scope);
	free(granted);
	if (all == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	ok = mcpauth_store_consent_set(f->ctx->store, f->user_id,
				       f->ar->client_id, f->ar->resource, all,
				       f->ctx->now, err) &&
	     issue_code(f, err);
	free(all);
	return ok;
}

/* GET <issuer>/static/style.css: the pages' one stylesheet. */
static bool stylesheet(struct flow *f, struct mcpauth_err *err)
{
	char path[4096];
	FILE *fp;
	char *buf = NULL;
	size_t n;

	snprintf(path, sizeof(path), "%s/style.css", f->ctx->conf->www_dir);
	fp = fopen(path, "r");
	if (fp == NULL) {
		MCPAUTH_ERR(err, 404, "invalid_request", "no stylesheet");
		return false;
	}
	buf = malloc(256 * 1024);
	n = buf != NULL ? fread(buf, 1, 256 * 1024, fp) : 0;
	fclose(fp);
	if (buf == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	mcpauth_resp_header(f->resp, "Cache-Control", "public, max-age=3600");
	mcpauth_resp_header(f->resp, "X-Content-Type-Options", "nosniff");
	mcpauth_resp_body(f->resp, 200, "text/css; charset=utf-8", buf, n);
	return true;
}

/* The issuer's origin (scheme://host[:port]) equals origin. */
static bool same_origin(const struct mcpauth_conf *conf, const char *origin)
{
	size_t n = strlen(conf->issuer) - strlen(conf->issuer_path);

	return strlen(origin) == n && !strncmp(conf->issuer, origin, n);
}

bool authorize_handle(struct mcpauth_ctx *ctx, const struct mcpauth_req *req,
		      struct mcpauth_resp *resp, struct mcpauth_err *err)
{
	const char *ip = ctx->conf->issuer_path, *rest;
	struct flow f = { .ctx = ctx, .req = req, .resp = resp };
	struct mcpauth_err e = { 0 };
	const char *src;
	size_t len;
	bool ok = false, post;

	rest = strncmp(req->path, ip, strlen(ip)) == 0 ? req->path + strlen(ip)
						       : "";
	{
		unsigned char h[MCPAUTH_SHA256_LEN];
		mcpauth_crypto_sha256(ctx->conf->issuer,
				      strlen(ctx->conf->issuer), h);
		snprintf(f.session_cookie, sizeof(f.session_cookie),
			 "%s%02x%02x%02x%02x", SESSION_COOKIE, h[0], h[1], h[2],
			 h[3]);
		snprintf(f.flow_cookie, sizeof(f.flow_cookie),
			 "%s%02x%02x%02x%02x", FLOW_COOKIE, h[0], h[1], h[2],
			 h[3]);
	}
	mcpauth_req_rate_key(req, f.rate_key, sizeof(f.rate_key));
	if (!strcmp(rest, "/static/style.css") &&
	    (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD")))
		return stylesheet(&f, err);
	if (strcmp(rest, "/authorize") != 0) {
		MCPAUTH_ERR(&e, 404, "invalid_request", "no page here");
		return error_page(&f, &e, err);
	}
	post = !strcmp(req->method, "POST");
	if (!post && strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0) {
		mcpauth_resp_header(resp, "Allow", "GET, HEAD, POST");
		MCPAUTH_ERR(&e, 405, "invalid_request",
			    "use GET, or POST from the sign-in pages");
		return error_page(&f, &e, err);
	}
	if (post) {
		/* Forms come from our own pages only (SECURITY: Origin). */
		/*
		 * Our pages send Referrer-Policy: same-origin, so browsers
		 * name our origin here; "null" (a sandboxed frame, a page
		 * with no-referrer) is another site's.
		 */
		if (req->origin != NULL && !same_origin(ctx->conf, req->origin)) {
			MCPAUTH_ERR(&e, 403, "invalid_request",
				    "the form was sent from another site");
			return error_page(&f, &e, err);
		}
		if (req->content_type == NULL ||
		    strncasecmp(req->content_type,
				"application/x-www-form-urlencoded", 33) != 0) {
			MCPAUTH_ERR(&e, 400, "invalid_request",
				    "the form must be urlencoded");
			return error_page(&f, &e, err);
		}
		src = req->body;
		len = req->body_len;
	} else {
		src = req->query;
		len = strlen(req->query);
	}
	if (!mcpauth_form_parse(src, len, &f.form, &e)) {
		if (e.status >= 500) {
			*err = e;
			return false;
		}
		return error_page(&f, &e, err);
	}
	if (post && param(&f, "step") != NULL &&
	    !strcmp(param(&f, "step"), "login"))
		ok = do_login(&f, err);
	else if (post && param(&f, "step") != NULL &&
		 !strcmp(param(&f, "step"), "consent"))
		ok = do_consent(&f, err);
	else if (post) {
		MCPAUTH_ERR(&e, 400, "invalid_request", "unknown form");
		ok = error_page(&f, &e, err);
	} else if (param(&f, "request_id") != NULL &&
		   param(&f, "client_id") == NULL)
		ok = resume_and_proceed(&f, err);
	else
		ok = start(&f, err);
	mcpauth_form_free(f.form);
	mcpauth_client_free(f.client);
	mcpauth_authz_request_free(f.ar);
	free(f.id_hash);
	mcpauth_crypto_free_secret(f.flow_value);
	free(f.session_hash);
	return ok;
}

#ifndef MCPAUTH_NO_MAIN
int main(void)
{
	return mcpauth_serve("authorize", authorize_handle);
}
#endif

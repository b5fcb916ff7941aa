/*
 * discovery.c: mcpauth-discovery, the public documents: authorization server
 * metadata (RFC 8414) and OpenID discovery at every well-known URL clients
 * try, the JWKS (RFC 7517), and protected resource metadata (RFC 9728) for
 * each configured MCP server. Routes on the request path only: every URL in
 * the documents comes from the configured issuer, never from Host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "json.h"
#include "keys.h"

#define WK_AS "/.well-known/oauth-authorization-server"
#define WK_OIDC "/.well-known/openid-configuration"
#define WK_PRM "/.well-known/oauth-protected-resource"

/* The JWKS changes at rotation: cached for less time than metadata. */
#define JWKS_MAX_AGE 300

static const char *const secret_methods[] = { "client_secret_basic",
					      "client_secret_post" };

/* Signing algorithms accepted in client assertions (RFC 7523). */
static const char *const assertion_algs[] = { "ES256", "EdDSA", "RS256" };

/* a followed by b equals path. */
static bool path_is(const char *path, const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(path, a, n) == 0 && strcmp(path + n, b) == 0;
}

static void add_url(struct json_object *obj, const struct mcpauth_conf *conf,
		    const char *key, const char *suffix)
{
	char *s = mcpauth_conf_url(conf, suffix);

	mcpauth_json_add_str(obj, key, s);
	free(s);
}

/*
 * RFC 8414 §2 metadata, also served as OpenID discovery: one document, so
 * whichever URL a client tries it sees the same issuer and endpoints. It
 * lists only what is enabled.
 */
static struct json_object *as_metadata(const struct mcpauth_conf *conf)
{
	struct json_object *m = json_object_new_object();
	const char *grants[3] = { "authorization_code", "refresh_token" };
	const char *methods[4] = { "none" };
	const char *code[] = { "code" };
	const char *s256[] = { "S256" };
	const char *query[] = { "query" };
	const char *pub[] = { "public" };
	const char *alg[] = { conf->signing_alg };
	const char **scopes = NULL;
	size_t ngrants = 2, nmethods = 1, nscopes;

	mcpauth_json_add_str(m, "issuer", conf->issuer);
	add_url(m, conf, "authorization_endpoint", "/authorize");
	add_url(m, conf, "token_endpoint", "/token");
	add_url(m, conf, "jwks_uri", "/jwks");
	if (conf->dynamic_registration)
		add_url(m, conf, "registration_endpoint", "/register");
	/* RFC 7009 and RFC 7662, authenticated like the token endpoint. */
	add_url(m, conf, "revocation_endpoint", "/revoke");
	add_url(m, conf, "introspection_endpoint", "/introspect");
	nscopes = mcpauth_conf_scopes(conf, &scopes);
	mcpauth_json_add_strs(m, "scopes_supported", scopes, nscopes);
	free(scopes);
	mcpauth_json_add_strs(m, "response_types_supported", code, 1);
	mcpauth_json_add_strs(m, "response_modes_supported", query, 1);
	if (conf->client_credentials)
		grants[ngrants++] = "client_credentials";
	mcpauth_json_add_strs(m, "grant_types_supported", grants, ngrants);
	if (conf->confidential_registration || conf->client_credentials) {
		methods[nmethods++] = "client_secret_basic";
		methods[nmethods++] = "client_secret_post";
	}
	if (conf->private_key_jwt)
		methods[nmethods++] = "private_key_jwt";
	mcpauth_json_add_strs(m, "token_endpoint_auth_methods_supported",
			      methods, nmethods);
	mcpauth_json_add_strs(m, "revocation_endpoint_auth_methods_supported",
			      methods, nmethods);
	/* Introspection answers confidential clients only (RFC 7662 §2.1). */
	mcpauth_json_add_strs(m, "introspection_endpoint_auth_methods_supported",
			      secret_methods, 2);
	if (conf->private_key_jwt)
		mcpauth_json_add_strs(
			m, "token_endpoint_auth_signing_alg_values_supported",
			assertion_algs, 3);
	mcpauth_json_add_strs(m, "code_challenge_methods_supported", s256, 1);
	json_object_object_add(m, "authorization_response_iss_parameter_supported",
			       json_object_new_boolean(1));
	json_object_object_add(m, "client_id_metadata_document_supported",
			       json_object_new_boolean(
				       conf->client_id_metadata_documents));
	/* OpenID Discovery requires these two; clients' schemas check them. */
	mcpauth_json_add_strs(m, "subject_types_supported", pub, 1);
	mcpauth_json_add_strs(m, "id_token_signing_alg_values_supported", alg,
			      1);
	return m;
}

/* RFC 9728 §2 protected resource metadata. */
static struct json_object *prm(const struct mcpauth_conf *conf,
			       const struct mcpauth_resource *r)
{
	struct json_object *m = json_object_new_object();
	const char *issuer[] = { conf->issuer };
	const char *header[] = { "header" };

	mcpauth_json_add_str(m, "resource", r->url);
	mcpauth_json_add_strs(m, "authorization_servers", issuer, 1);
	mcpauth_json_add_strs(m, "scopes_supported",
			      (const char *const *)r->scopes, r->nscopes);
	mcpauth_json_add_strs(m, "bearer_methods_supported", header, 1);
	mcpauth_json_add_str(m, "resource_name", r->name);
	return m;
}

/*
 * The resource for a protected-resource-metadata path: the path-aware form
 * (RFC 9728 §3.1) names the resource's path; the root form answers when only
 * one resource can be meant. Several resources with one path on different
 * hosts are told apart by Host, compared against configured values only.
 */
static const struct mcpauth_resource *find_resource(
	const struct mcpauth_conf *conf, const struct mcpauth_req *req,
	const char *rpath)
{
	const struct mcpauth_resource *found = NULL;
	size_t matches = 0;

	for (size_t pass = 0; pass < 2; pass++) {
		found = NULL;
		matches = 0;
		for (size_t i = 0; i < conf->nresources; i++) {
			const struct mcpauth_resource *r = &conf->resources[i];
			if (*rpath != '\0' && strcmp(r->path, rpath) != 0)
				continue;
			if (pass == 1 &&
			    (req->host == NULL || strcmp(r->authority, req->host)))
				continue;
			found = r;
			matches++;
		}
		if (matches == 1)
			return found;
		if (matches == 0 && pass == 0)
			return NULL;
	}
	return NULL;
}

static void cors(struct mcpauth_resp *resp)
{
	/* Public documents without credentials: any origin may read them. */
	mcpauth_resp_header(resp, "Access-Control-Allow-Origin", "*");
}

bool discovery_handle(struct mcpauth_ctx *ctx, const struct mcpauth_req *req,
		      struct mcpauth_resp *resp, struct mcpauth_err *err)
{
	const struct mcpauth_conf *conf = ctx->conf;
	const char *ip = conf->issuer_path, *path = req->path;
	const struct mcpauth_resource *res = NULL;
	enum { NONE, AS, JWKS, PRM } doc = NONE;
	char cache[64];

	if (path_is(path, WK_AS, ip) || path_is(path, WK_OIDC, ip) ||
	    path_is(path, ip, WK_OIDC) || path_is(path, ip, WK_AS))
		doc = AS;
	else if (path_is(path, ip, "/jwks"))
		doc = JWKS;
	else if (strncmp(path, WK_PRM, strlen(WK_PRM)) == 0 &&
		 (path[strlen(WK_PRM)] == '\0' || path[strlen(WK_PRM)] == '/')) {
		res = find_resource(conf, req, path + strlen(WK_PRM));
		if (res != NULL)
			doc = PRM;
	}
	cors(resp);
	if (doc == NONE) {
		MCPAUTH_ERR(err, 404, "invalid_request",
			    "no metadata document at this path");
		return false;
	}
	if (!strcmp(req->method, "OPTIONS")) {
		/* CORS preflight: browser clients send MCP-Protocol-Version. */
		mcpauth_resp_preflight(resp, "GET, HEAD, OPTIONS",
				       "MCP-Protocol-Version, Authorization, "
				       "Content-Type");
		return true;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		mcpauth_resp_header(resp, "Allow", "GET, HEAD, OPTIONS");
		MCPAUTH_ERR(err, 405, "invalid_request",
			    "metadata is read with GET");
		return false;
	}
	snprintf(cache, sizeof(cache), "public, max-age=%ld",
		 doc == JWKS ? (conf->metadata_max_age < JWKS_MAX_AGE
					? conf->metadata_max_age
					: JWKS_MAX_AGE)
			     : conf->metadata_max_age);
	mcpauth_resp_header(resp, "Cache-Control", cache);
	if (doc == JWKS) {
		char *jwks = NULL;
		if (!mcpauth_keys_jwks(ctx->store, ctx->now, &jwks, err))
			return false;
		mcpauth_resp_body(resp, 200, "application/json", jwks,
				  strlen(jwks));
	} else {
		mcpauth_resp_json(resp, 200,
				  doc == AS ? as_metadata(conf)
					    : prm(conf, res));
	}
	return true;
}

#ifndef MCPAUTH_NO_MAIN
int main(void)
{
	return mcpauth_serve("discovery", discovery_handle);
}
#endif

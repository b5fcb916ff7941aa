/*
 * token.c: mcpauth-token, the token endpoint (RFC 6749 §3.2, OAuth 2.1):
 * authorization_code with PKCE (RFC 7636) and refresh_token with rotation
 * (RFC 9700 §4.14.2). Each grant writes in one BEGIN IMMEDIATE transaction:
 * of many simultaneous redemptions of a code or refresh token exactly one
 * wins, and everything it issues is recorded before the answer. Tokens are
 * signed before that transaction, never while holding the write lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "client.h"
#include "crypto.h"
#include "form.h"
#include "handlers.h"
#include "json.h"
#include "log.h"
#include "pkce.h"
#include "scope.h"
#include "tokens.h"

/*
 * What one grant hands out. The access token is signed and the refresh
 * token drawn before the write transaction (prepare); their rows are
 * written in it (record).
 */
struct issued {
	char *access;
	char *refresh; /* NULL: none */
	char *scope;   /* granted */
	struct mcpauth_access row;	  /* borrows the claims' strings */
	char *refresh_hash;		  /* with refresh */
	struct mcpauth_refresh refresh_row; /* borrows its template's */
};

static void issued_clear(struct issued *t)
{
	mcpauth_crypto_free_secret(t->access);
	mcpauth_crypto_free_secret(t->refresh);
	free(t->refresh_hash);
	t->access = t->refresh = t->refresh_hash = NULL;
}

static const char *param(const struct mcpauth_form *form, const char *name)
{
	const char *v = mcpauth_form_get(form, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

#define BAD_GRANT(err, ...) MCPAUTH_ERR((err), 400, "invalid_grant", __VA_ARGS__)

/*
 * Signs the access token of claims and, when refresh is not NULL, draws a
 * refresh token like it (same family, client, user, resource, scope and
 * auth_time; new lifetime). Nothing is written: a grant does this before
 * BEGIN IMMEDIATE, because the ES256 signature is most of its CPU time and
 * a write lock held through it queues every other writer (bench/).
 */
static bool prepare(struct mcpauth_ctx *ctx,
		    const struct mcpauth_token_claims *claims,
		    const struct mcpauth_refresh *refresh, struct issued *out,
		    struct mcpauth_err *err)
{
	if (!mcpauth_tokens_access(ctx->conf, ctx->keys, ctx->store, claims,
				   ctx->now, &out->access, &out->row, err))
		return false;
	if (refresh == NULL)
		return true;
	out->refresh_row = *refresh;
	out->refresh_row.created_at = ctx->now;
	out->refresh_row.expires_at =
		ctx->now + ctx->conf->refresh_token_lifetime;
	out->refresh_row.rotated_at = 0;
	out->refresh_row.revoked_at = 0;
	return mcpauth_tokens_random(&out->refresh, &out->refresh_hash, err);
}

/* Writes what prepare() made, in the caller's transaction. */
static bool record(struct mcpauth_ctx *ctx, const struct issued *t,
		   struct mcpauth_err *err)
{
	return mcpauth_store_access_add(ctx->store, &t->row, err) &&
	       (t->refresh == NULL ||
		mcpauth_store_refresh_add(ctx->store, t->refresh_hash,
					  &t->refresh_row, err));
}

/* The user tokens are for: enabled, or the grant fails. */
static bool live_user(struct mcpauth_ctx *ctx, long long id,
		      struct mcpauth_user **out, struct mcpauth_err *err)
{
	if (!mcpauth_store_user_get_id(ctx->store, id, out, err))
		return false;
	if (*out == NULL || (*out)->disabled_at != 0) {
		BAD_GRANT(err, "the user's account is disabled");
		return false;
	}
	return true;
}

/*
 * grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5). The code
 * is checked and the tokens made without a lock; then, in one BEGIN
 * IMMEDIATE transaction, the code is consumed only if nobody has (one
 * UPDATE wins) and the tokens are recorded. A redemption that loses that
 * race is a code used twice, exactly as if it had come later.
 */
static bool code_grant(struct mcpauth_ctx *ctx, const struct mcpauth_form *form,
		       const struct mcpauth_client *client,
		       struct issued *out, struct mcpauth_err *err)
{
	const char *code = param(form, "code");
	const char *verifier = param(form, "code_verifier");
	const char *redirect_uri = param(form, "redirect_uri");
	const char *resource = param(form, "resource");
	struct mcpauth_code *c = NULL;
	struct mcpauth_user *user = NULL;
	char *hash = NULL, family[33];
	bool won = false, ok = false, replay = false;

	if (code == NULL || verifier == NULL) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "code and code_verifier are required");
		return false;
	}
	if (!mcpauth_pkce_verifier_ok(verifier)) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "code_verifier must be 43 to 128 characters of "
			    "[A-Za-z0-9-._~] (RFC 7636 §4.1)");
		return false;
	}
	hash = mcpauth_crypto_sha256_b64url(code);
	if (hash == NULL || !mcpauth_crypto_random_hex(16, family, err)) {
		free(hash);
		if (!mcpauth_err_isset(err))
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	if (!mcpauth_store_code_get(ctx->store, hash, &c, err))
		goto out;
	if (c == NULL) {
		BAD_GRANT(err, "the code is unknown");
		goto out;
	}
	if (c->consumed_at != 0) {
		if (!mcpauth_store_begin(ctx->store, err))
			goto out;
		goto replayed;
	}
	if (c->expires_at <= ctx->now) {
		BAD_GRANT(err, "the code has expired");
		goto out;
	}
	if (strcmp(c->client_id, client->client_id) != 0) {
		BAD_GRANT(err, "the code was issued to another client");
		goto out;
	}
	/*
	 * RFC 6749 §4.1.3: required when the authorization request had it.
	 * We do not record whether it did; we let it be omitted only when the
	 * code's URI is the client's one registered URI, which is all an
	 * authorization request without it can have used.
	 */
	if (redirect_uri == NULL && client->nredirect_uris == 1 &&
	    !strcmp(client->redirect_uris[0], c->redirect_uri))
		redirect_uri = c->redirect_uri;
	if (redirect_uri == NULL || strcmp(redirect_uri, c->redirect_uri) != 0) {
		BAD_GRANT(err, "redirect_uri does not match the authorization "
			       "request's");
		goto out;
	}
	if (!mcpauth_pkce_verify(verifier, c->code_challenge)) {
		BAD_GRANT(err, "code_verifier does not match the "
			       "code_challenge");
		goto out;
	}
	if (resource != NULL && strcmp(resource, c->resource) != 0) {
		MCPAUTH_ERR(err, 400, "invalid_target",
			    "resource differs from the authorization "
			    "request's");
		goto out;
	}
	if (!live_user(ctx, c->user_id, &user, err))
		goto out;
	{
		struct mcpauth_token_claims claims = {
			.client_id = client->client_id,
			.subject = user->subject,
			.user_id = user->id,
			.auth_time = c->auth_time,
			.resource = c->resource,
			.scope = c->scope,
			.family_id = family,
		};
		struct mcpauth_refresh like = {
			.family_id = family,
			.client_id = client->client_id,
			.user_id = user->id,
			.resource = c->resource,
			.scope = c->scope,
			.auth_time = c->auth_time,
		};
		bool refresh = mcpauth_scope_has(client->grant_types,
						 "refresh_token");
		if (!prepare(ctx, &claims, refresh ? &like : NULL, out, err))
			goto out;
	}
	if (!mcpauth_store_begin(ctx->store, err))
		goto out;
	if (!mcpauth_store_code_consume(ctx->store, hash, family, ctx->now,
					&won, err))
		goto fail;
	if (!won) {
		/* Redeemed by another request since the read above. */
		mcpauth_code_free(c);
		c = NULL;
		if (!mcpauth_store_code_get(ctx->store, hash, &c, err))
			goto fail;
		if (c == NULL) {
			BAD_GRANT(err, "the code is unknown");
			goto fail;
		}
		goto replayed;
	}
	if (!record(ctx, out, err))
		goto fail;
	goto commit;
replayed:
	/*
	 * RFC 6749 §4.1.2: a code used twice revokes what it issued; the
	 * revocation commits although the request fails.
	 */
	if (c->family_id != NULL &&
	    !mcpauth_store_family_revoke(ctx->store, c->family_id, ctx->now,
					 err))
		goto fail;
	replay = true;
	BAD_GRANT(err, "the code was already used; the tokens issued for it "
		       "are revoked");
commit:
	if (!mcpauth_store_commit(ctx->store, err))
		goto fail;
	ok = !replay;
	if (ok) {
		/* Handed to out only now: a failed commit frees it below. */
		out->scope = c->scope;
		c->scope = NULL;
	}
	goto out;
fail:
	mcpauth_store_rollback(ctx->store);
out:
	if (!ok)
		issued_clear(out);
	mcpauth_code_free(c);
	mcpauth_user_free(user);
	free(hash);
	return ok;
}

/*
 * Whether client may redeem refresh token r now. When not, *err says why
 * and *revoke whether the token's family is to be revoked: a rotated token
 * used again after refresh_grace (RFC 9700 §4.14.2). Within the grace it
 * is taken for the same client's concurrent refresh and refused without
 * revoking (it gets no token either way).
 */
static bool redeemable(struct mcpauth_ctx *ctx,
		       const struct mcpauth_client *client,
		       const struct mcpauth_refresh *r, bool *revoke,
		       struct mcpauth_err *err)
{
	*revoke = false;
	if (r == NULL || strcmp(r->client_id, client->client_id) != 0) {
		/* Another client's token proves nothing: no revocation. */
		BAD_GRANT(err, "the refresh token is unknown");
		return false;
	}
	if (r->revoked_at != 0) {
		BAD_GRANT(err, "the refresh token was revoked");
		return false;
	}
	if (r->rotated_at != 0) {
		if (ctx->now - r->rotated_at > ctx->conf->refresh_grace) {
			*revoke = true;
			BAD_GRANT(err, "the refresh token was already used; "
				       "its family is revoked");
			return false;
		}
		BAD_GRANT(err, "the refresh token was just used by another "
			       "request");
		return false;
	}
	if (r->expires_at <= ctx->now) {
		BAD_GRANT(err, "the refresh token has expired");
		return false;
	}
	return true;
}

/*
 * grant_type=refresh_token (RFC 6749 §6), rotating (RFC 9700 §4.14.2).
 * Checked and made without a lock like a code; in the transaction the old
 * token is rotated only if it still is the family's current member, and a
 * request that loses is judged again on the row it lost to.
 */
static bool refresh_grant(struct mcpauth_ctx *ctx,
			  const struct mcpauth_form *form,
			  const struct mcpauth_client *client,
			  struct issued *out, struct mcpauth_err *err)
{
	const char *token = param(form, "refresh_token");
	const char *scope = param(form, "scope");
	const char *resource = param(form, "resource");
	struct mcpauth_refresh *r = NULL;
	struct mcpauth_user *user = NULL;
	char *hash = NULL, *granted = NULL;
	bool won = false, ok = false, revoke = false;

	if (token == NULL) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "refresh_token is required");
		return false;
	}
	hash = mcpauth_crypto_sha256_b64url(token);
	if (hash == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	if (!mcpauth_store_refresh_get(ctx->store, hash, &r, err))
		goto out;
	if (!redeemable(ctx, client, r, &revoke, err)) {
		if (!revoke || !mcpauth_store_begin(ctx->store, err))
			goto out;
		goto revoked;
	}
	if (resource != NULL && strcmp(resource, r->resource) != 0) {
		MCPAUTH_ERR(err, 400, "invalid_target",
			    "resource differs from the refresh token's");
		goto out;
	}
	/* RFC 6749 §6: a narrower scope may be asked for, never a wider one. */
	if (scope != NULL && !mcpauth_scope_subset(scope, r->scope)) {
		MCPAUTH_ERR(err, 400, "invalid_scope",
			    "scope is wider than the refresh token's");
		goto out;
	}
	granted = mcpauth_scope_union("", scope != NULL ? scope : r->scope);
	if (granted == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	if (!live_user(ctx, r->user_id, &user, err))
		goto out;
	/* The new member keeps the family's scope; the access token is narrowed. */
	{
		struct mcpauth_token_claims claims = {
			.client_id = client->client_id,
			.subject = user->subject,
			.user_id = user->id,
			.auth_time = r->auth_time,
			.resource = r->resource,
			.scope = granted,
			.family_id = r->family_id,
		};
		if (!prepare(ctx, &claims, r, out, err))
			goto out;
	}
	if (!mcpauth_store_begin(ctx->store, err))
		goto out;
	if (!mcpauth_store_refresh_rotate(ctx->store, hash, ctx->now, &won,
					  err))
		goto fail;
	if (!won) {
		/* Rotated or revoked by another request since the read. */
		mcpauth_refresh_free(r);
		r = NULL;
		if (!mcpauth_store_refresh_get(ctx->store, hash, &r, err))
			goto fail;
		if (redeemable(ctx, client, r, &revoke, err)) {
			MCPAUTH_ERR_INTERNAL(err, "a refresh token that could "
						  "not be rotated is current");
			goto fail;
		}
		if (!revoke)
			goto fail;
		goto revoked;
	}
	if (!record(ctx, out, err))
		goto fail;
	goto commit;
revoked:
	/* The reason is in *err already; the revocation still commits. */
	if (!mcpauth_store_family_revoke(ctx->store, r->family_id, ctx->now,
					 err))
		goto fail;
commit:
	if (!mcpauth_store_commit(ctx->store, err))
		goto fail;
	ok = !revoke;
	if (ok) {
		out->scope = granted; /* handed to out */
		granted = NULL;
	}
	goto out;
fail:
	mcpauth_store_rollback(ctx->store);
out:
	if (!ok)
		issued_clear(out);
	mcpauth_refresh_free(r);
	mcpauth_user_free(user);
	free(granted);
	free(hash);
	return ok;
}

/*
 * grant_type=client_credentials (RFC 6749 §4.4): a machine's own token,
 * for operator-provisioned confidential clients only. resource and scope
 * within what the operator allowed; no refresh token (§4.4.3).
 */
static bool credentials_grant(struct mcpauth_ctx *ctx,
			      const struct mcpauth_form *form,
			      const struct mcpauth_client *client,
			      struct issued *out, struct mcpauth_err *err)
{
	const struct mcpauth_resource *res = NULL;
	const char *resource = param(form, "resource");
	const char *scope = param(form, "scope");
	char *allowed = NULL, *granted = NULL;
	bool ok = false;

	/* Authenticated for real: a secret or an assertion, never none. */
	if (strcmp(client->source, "operator") != 0 ||
	    !strcmp(client->auth_method, "none")) {
		MCPAUTH_ERR(err, 400, "unauthorized_client",
			    "client_credentials is for confidential clients "
			    "the operator provisions");
		return false;
	}
	if (resource == NULL && client->allowed_resources != NULL &&
	    strchr(client->allowed_resources, ' ') == NULL)
		resource = client->allowed_resources;
	if (resource == NULL)
		resource = ctx->conf->default_resource;
	if (resource != NULL)
		res = mcpauth_conf_resource(ctx->conf, resource);
	if (res == NULL || (client->allowed_resources != NULL &&
			    !mcpauth_scope_has(client->allowed_resources,
					       res->url))) {
		MCPAUTH_ERR(err, 400, "invalid_target",
			    resource == NULL
				    ? "resource is required (RFC 8707)"
				    : "this client may not have tokens for "
				      "that resource");
		return false;
	}
	/* What the client may have at this resource: its scope ∩ theirs. */
	allowed = calloc(1, strlen(client->scope) + 1);
	if (allowed == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	for (size_t i = 0; i < res->nscopes; i++) {
		if (!mcpauth_scope_has(client->scope, res->scopes[i]))
			continue;
		if (allowed[0] != '\0')
			strcat(allowed, " ");
		strcat(allowed, res->scopes[i]);
	}
	if (scope != NULL && !mcpauth_scope_subset(scope, allowed)) {
		MCPAUTH_ERR(err, 400, "invalid_scope",
			    "scope is outside what this client may have at "
			    "that resource");
		goto out;
	}
	granted = mcpauth_scope_union("", scope != NULL ? scope : allowed);
	if (granted == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	{
		struct mcpauth_token_claims claims = {
			.client_id = client->client_id,
			.resource = res->url,
			.scope = granted,
		};
		if (!prepare(ctx, &claims, NULL, out, err) ||
		    !mcpauth_store_begin(ctx->store, err))
			goto out;
		if (!record(ctx, out, err) ||
		    !mcpauth_store_commit(ctx->store, err)) {
			mcpauth_store_rollback(ctx->store);
			goto out;
		}
	}
	out->scope = granted;
	granted = NULL;
	ok = true;
out:
	if (!ok)
		issued_clear(out);
	free(allowed);
	free(granted);
	return ok;
}

/*
 * What a presented token is: one of our refresh tokens (*r) or access
 * tokens (*a), or neither. Access tokens are JWTs: the signature is checked
 * before the jti is looked up, so a forged JWT naming a real jti is nothing.
 */
static bool find_token(struct mcpauth_ctx *ctx, const char *token,
		       struct mcpauth_refresh **r, struct mcpauth_access **a,
		       struct mcpauth_err *err)
{
	struct mcpauth_err ignored = { 0 };
	struct json_object *claims = NULL;
	char *hash = NULL, *json = NULL;
	const char *jti;
	bool ok = false;

	*r = NULL;
	*a = NULL;
	if (strchr(token, '.') == NULL) {
		hash = mcpauth_crypto_sha256_b64url(token);
		if (hash == NULL) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			return false;
		}
		ok = mcpauth_store_refresh_get(ctx->store, hash, r, err);
		free(hash);
		return ok;
	}
	if (!mcpauth_keys_verify(ctx->store, ctx->now, token, &json,
				 &ignored)) {
		/* Not ours: neither. A failing store is not an answer. */
		if (ignored.status >= 500) {
			*err = ignored;
			return false;
		}
		return true;
	}
	claims = json_tokener_parse(json);
	jti = mcpauth_json_get_str(claims, "jti");
	ok = jti == NULL || mcpauth_store_access_get(ctx->store, jti, a, err);
	json_object_put(claims);
	free(json);
	return ok;
}

/* POST IP/revoke (RFC 7009): always 200 for a token the client may not see. */
static bool revoke(struct mcpauth_ctx *ctx, const struct mcpauth_form *form,
		   const struct mcpauth_client *client,
		   struct mcpauth_resp *resp, struct mcpauth_err *err)
{
	const char *token = param(form, "token");
	struct mcpauth_refresh *r = NULL;
	struct mcpauth_access *a = NULL;
	bool ok = false, found = false;

	if (token == NULL) {
		MCPAUTH_ERR(err, 400, "invalid_request", "token is required");
		return false;
	}
	if (!find_token(ctx, token, &r, &a, err))
		return false;
	/* RFC 7009 §2.1: a refresh token takes its access tokens along. */
	if (r != NULL && !strcmp(r->client_id, client->client_id)) {
		if (!mcpauth_store_begin(ctx->store, err))
			goto out;
		if (!mcpauth_store_family_revoke(ctx->store, r->family_id,
						 ctx->now, err) ||
		    !mcpauth_store_commit(ctx->store, err)) {
			mcpauth_store_rollback(ctx->store);
			goto out;
		}
		mcpauth_log(MCPAUTH_LOG_INFO, "event=revoke kind=refresh_token "
			    "client_id=%s family=%s", client->client_id,
			    r->family_id);
	} else if (a != NULL && !strcmp(a->client_id, client->client_id)) {
		if (!mcpauth_store_access_revoke(ctx->store, a->jti, ctx->now,
						 &found, err))
			goto out;
		mcpauth_log(MCPAUTH_LOG_INFO, "event=revoke kind=access_token "
			    "client_id=%s jti=%s", client->client_id, a->jti);
	}
	mcpauth_resp_header(resp, "Cache-Control", "no-store");
	mcpauth_resp_body(resp, 200, NULL, NULL, 0);
	ok = true;
out:
	mcpauth_refresh_free(r);
	mcpauth_access_free(a);
	return ok;
}

/*
 * POST IP/introspect (RFC 7662) for a confidential client, such as an
 * operator's resource server: active and the token's facts, or only
 * {"active":false}.
 */
static bool introspect(struct mcpauth_ctx *ctx, const struct mcpauth_form *form,
		       const struct mcpauth_client *client,
		       struct mcpauth_resp *resp, struct mcpauth_err *err)
{
	const char *token = param(form, "token");
	struct mcpauth_refresh *r = NULL;
	struct mcpauth_access *a = NULL;
	struct mcpauth_user *user = NULL;
	struct json_object *o = json_object_new_object();
	const char *cid = NULL, *scope = NULL, *aud = NULL, *type = NULL;
	long long uid = 0, exp = 0, iat = 0;
	bool ok = false, active = false;

	if (client->secret_hash == NULL) {
		MCPAUTH_ERR(err, 401, "invalid_client",
			    "introspection is for confidential clients");
		goto out;
	}
	if (token == NULL) {
		MCPAUTH_ERR(err, 400, "invalid_request", "token is required");
		goto out;
	}
	if (!find_token(ctx, token, &r, &a, err))
		goto out;
	if (r != NULL && r->revoked_at == 0 && r->rotated_at == 0 &&
	    r->expires_at > ctx->now) {
		active = true;
		cid = r->client_id;
		scope = r->scope;
		aud = r->resource;
		uid = r->user_id;
		exp = r->expires_at;
		iat = r->created_at;
		type = "refresh_token";
	} else if (a != NULL && a->revoked_at == 0 && a->expires_at > ctx->now) {
		active = true;
		cid = a->client_id;
		scope = a->scope;
		aud = a->resource;
		uid = a->user_id;
		exp = a->expires_at;
		iat = a->issued_at;
		type = "Bearer";
	}
	/*
	 * RFC 7662 §4: only for whom the token is meant to be shown: the
	 * client it was issued to, or a resource server the operator named
	 * in introspection_clients of the token's resource. Anyone else
	 * learns only that it is not active for them.
	 */
	if (active && strcmp(cid, client->client_id) != 0) {
		const struct mcpauth_resource *res =
			mcpauth_conf_resource(ctx->conf, aud);
		bool allowed = false;
		for (size_t i = 0; res != NULL &&
				   i < res->nintrospection_clients;
		     i++)
			allowed |= !strcmp(res->introspection_clients[i],
					   client->client_id);
		active = allowed;
	}
	if (active && uid != 0 &&
	    (!mcpauth_store_user_get_id(ctx->store, uid, &user, err) ||
	     user == NULL || user->disabled_at != 0)) {
		if (mcpauth_err_isset(err))
			goto out;
		active = false;
	}
	json_object_object_add(o, "active", json_object_new_boolean(active));
	if (active) {
		mcpauth_json_add_str(o, "scope", scope);
		mcpauth_json_add_str(o, "client_id", cid);
		mcpauth_json_add_str(o, "token_type", type);
		json_object_object_add(o, "exp", json_object_new_int64(exp));
		json_object_object_add(o, "iat", json_object_new_int64(iat));
		if (user != NULL) {
			mcpauth_json_add_str(o, "sub", user->subject);
		} else {
			char sub[300];
			snprintf(sub, sizeof(sub), "client:%s", cid);
			mcpauth_json_add_str(o, "sub", sub);
		}
		mcpauth_json_add_str(o, "principal_type",
				     user != NULL ? "user" : "client");
		mcpauth_json_add_str(o, "aud", aud);
		mcpauth_json_add_str(o, "iss", ctx->conf->issuer);
		if (a != NULL)
			mcpauth_json_add_str(o, "jti", a->jti);
	}
	mcpauth_resp_header(resp, "Cache-Control", "no-store");
	mcpauth_resp_json(resp, 200, o);
	o = NULL;
	ok = true;
out:
	json_object_put(o);
	mcpauth_refresh_free(r);
	mcpauth_access_free(a);
	mcpauth_user_free(user);
	return ok;
}

/* The token response (RFC 6749 §5.1). */
static void answer(struct mcpauth_ctx *ctx, struct mcpauth_resp *resp,
		   const struct issued *t)
{
	struct json_object *o = json_object_new_object();

	mcpauth_json_add_str(o, "access_token", t->access);
	mcpauth_json_add_str(o, "token_type", "Bearer");
	json_object_object_add(
		o, "expires_in",
		json_object_new_int64(ctx->conf->access_token_lifetime));
	mcpauth_json_add_str(o, "scope", t->scope);
	mcpauth_json_add_str(o, "refresh_token", t->refresh);
	mcpauth_resp_header(resp, "Cache-Control", "no-store");
	mcpauth_resp_header(resp, "Pragma", "no-cache");
	mcpauth_resp_json(resp, 200, o);
}

bool token_handle(struct mcpauth_ctx *ctx, const struct mcpauth_req *req,
		  struct mcpauth_resp *resp, struct mcpauth_err *err)
{
	const char *ip = ctx->conf->issuer_path, *rest, *grant;
	struct mcpauth_form *form = NULL;
	struct mcpauth_client *client = NULL;
	struct issued t = { 0 };
	enum { TOKEN, REVOKE, INTROSPECT } endpoint;
	bool ok = false;

	/* Browser-based clients call this endpoint: no cookies, any origin. */
	mcpauth_resp_header(resp, "Access-Control-Allow-Origin", "*");
	rest = strncmp(req->path, ip, strlen(ip)) == 0 ? req->path + strlen(ip)
						       : "";
	if (!strcmp(rest, "/token"))
		endpoint = TOKEN;
	else if (!strcmp(rest, "/revoke"))
		endpoint = REVOKE;
	else if (!strcmp(rest, "/introspect"))
		endpoint = INTROSPECT;
	else {
		MCPAUTH_ERR(err, 404, "invalid_request", "no endpoint here");
		return false;
	}
	if (!strcmp(req->method, "OPTIONS")) {
		mcpauth_resp_preflight(resp, "POST, OPTIONS",
				       "Authorization, Content-Type, "
				       "MCP-Protocol-Version");
		return true;
	}
	if (strcmp(req->method, "POST") != 0) {
		mcpauth_resp_header(resp, "Allow", "POST, OPTIONS");
		MCPAUTH_ERR(err, 405, "invalid_request",
			    "this endpoint takes POST");
		return false;
	}
	if (req->content_type == NULL ||
	    strncasecmp(req->content_type, "application/x-www-form-urlencoded",
			33) != 0) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "the body must be application/x-www-form-urlencoded");
		return false;
	}
	if (!mcpauth_form_parse(req->body, req->body_len, &form, err))
		return false;
	grant = param(form, "grant_type");
	if (endpoint == TOKEN && grant == NULL) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "grant_type is required");
		goto out;
	}
	if (!mcpauth_client_authenticate(ctx->store, ctx->conf,
					 req->authorization, form,
					 ctx->now, &client, err)) {
		goto out;
	}
	if (endpoint == REVOKE) {
		ok = revoke(ctx, form, client, resp, err);
		goto out;
	}
	if (endpoint == INTROSPECT) {
		ok = introspect(ctx, form, client, resp, err);
		goto out;
	}
	if (strcmp(grant, "authorization_code") != 0 &&
	    strcmp(grant, "refresh_token") != 0 &&
	    strcmp(grant, "client_credentials") != 0) {
		MCPAUTH_ERR(err, 400, "unsupported_grant_type",
			    "grant_type must be authorization_code, "
			    "refresh_token or client_credentials");
		goto out;
	}
	if (!strcmp(grant, "client_credentials") &&
	    !ctx->conf->client_credentials) {
		MCPAUTH_ERR(err, 400, "unsupported_grant_type",
			    "client_credentials is switched off on this server "
			    "(client_credentials = no)");
		goto out;
	}
	if (!mcpauth_scope_has(client->grant_types, grant)) {
		MCPAUTH_ERR(err, 400, "unauthorized_client",
			    "this client did not register the %s grant",
			    grant);
		goto out;
	}
	if (!strcmp(grant, "authorization_code"))
		ok = code_grant(ctx, form, client, &t, err);
	else if (!strcmp(grant, "refresh_token"))
		ok = refresh_grant(ctx, form, client, &t, err);
	else
		ok = credentials_grant(ctx, form, client, &t, err);
	if (!ok)
		goto out;
	/* At most once a minute: a write per token would queue every
	 * request of a busy client behind the lock (gc counts days). */
	if (client->last_used_at + 60 <= ctx->now)
		mcpauth_store_client_touch(ctx->store, client->client_id,
					   ctx->now, err);
	mcpauth_log(MCPAUTH_LOG_INFO, "event=token grant=%s client_id=%s "
		    "scope=\"%s\" refresh=%s",
		    grant, client->client_id, t.scope ? t.scope : "",
		    t.refresh != NULL ? "yes" : "no");
	answer(ctx, resp, &t);
out:
	if (!ok && mcpauth_err_isset(err)) {
		/* Errors are never cached either (RFC 6749 §5.2). */
		mcpauth_resp_header(resp, "Pragma", "no-cache");
		/* RFC 6749 §5.2: 401 invalid_client names the scheme. */
		if (err->status == 401)
			mcpauth_resp_header(resp, "WWW-Authenticate",
					    "Basic realm=\"mcpauth\"");
	}
	issued_clear(&t);
	free(t.scope);
	mcpauth_client_free(client);
	mcpauth_form_free(form);
	return ok;
}

#ifndef MCPAUTH_NO_MAIN
int main(void)
{
	return mcpauth_serve("token", token_handle);
}
#endif

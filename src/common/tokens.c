/* tokens.c: RFC 9068 access tokens and the random values behind codes and refresh tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "crypto.h"
#include "json.h"
#include "tokens.h"

bool mcpauth_tokens_random(char **value, char **hash, struct mcpauth_err *err)
{
	char *v = NULL, *h = NULL;

	if (!mcpauth_crypto_random_token(MCPAUTH_TOKEN_BYTES, &v, err))
		return false;
	h = mcpauth_crypto_sha256_b64url(v);
	if (h == NULL) {
		mcpauth_crypto_free_secret(v);
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	*value = v;
	*hash = h;
	return true;
}

bool mcpauth_tokens_access(const struct mcpauth_conf *conf,
			   struct mcpauth_keys *keys,
			   struct mcpauth_store *store,
			   const struct mcpauth_token_claims *c, long long now,
			   char **jwt, struct mcpauth_access *rec,
			   struct mcpauth_err *err)
{
	const struct mcpauth_jose_signer *signer = NULL;
	struct json_object *o = NULL;
	char jti[33], *claims = NULL, *token = NULL;
	bool ok = false;

	if (!mcpauth_crypto_random_hex(16, jti, err) ||
	    !mcpauth_keys_signer(keys, store, &signer, err))
		goto out;
	/* RFC 9068 §2.2 */
	o = json_object_new_object();
	mcpauth_json_add_str(o, "iss", conf->issuer);
	if (c->subject != NULL) {
		mcpauth_json_add_str(o, "sub", c->subject);
	} else {
		/*
		 * A machine's sub is "client:" + client_id: user subjects are
		 * base64url, which has no ':', so the two never collide.
		 */
		size_t n = strlen("client:") + strlen(c->client_id) + 1;
		char *sub = malloc(n);
		if (sub == NULL) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			goto out;
		}
		snprintf(sub, n, "client:%s", c->client_id);
		mcpauth_json_add_str(o, "sub", sub);
		free(sub);
	}
	/* Said outright, for policy engines: who the token speaks for. */
	mcpauth_json_add_str(o, "principal_type",
			     c->subject != NULL ? "user" : "client");
	mcpauth_json_add_str(o, "aud", c->resource);
	mcpauth_json_add_str(o, "client_id", c->client_id);
	mcpauth_json_add_str(o, "scope", c->scope);
	json_object_object_add(o, "iat", json_object_new_int64(now));
	json_object_object_add(
		o, "exp", json_object_new_int64(now + conf->access_token_lifetime));
	mcpauth_json_add_str(o, "jti", jti);
	if (c->auth_time > 0)
		json_object_object_add(o, "auth_time",
				       json_object_new_int64(c->auth_time));
	claims = mcpauth_json_dump(o);
	if (claims == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	if (!mcpauth_jose_sign(signer, "at+jwt", claims, &token, err))
		goto out;
	memset(rec, 0, sizeof(*rec));
	snprintf(rec->jti, sizeof(rec->jti), "%s", jti);
	snprintf(rec->family_id, sizeof(rec->family_id), "%s",
		 c->family_id != NULL ? c->family_id : "");
	rec->client_id = (char *)c->client_id;
	rec->user_id = c->user_id;
	rec->resource = (char *)c->resource;
	rec->scope = (char *)c->scope;
	rec->issued_at = now;
	rec->expires_at = now + conf->access_token_lifetime;
	*jwt = token;
	token = NULL;
	ok = true;
out:
	json_object_put(o);
	free(claims);
	mcpauth_crypto_free_secret(token);
	return ok;
}

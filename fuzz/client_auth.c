/*
 * client_auth.c (fuzz target): client authentication at the token endpoint
 * (mcpauth_client_authenticate): the Authorization header (HTTP Basic,
 * RFC 6749 §2.3.1), client_id and client_secret in the body, and client
 * assertions (RFC 7523), against a store holding one client of each kind.
 * Input: the Authorization header (empty for none), a newline, the
 * urlencoded body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "crypto.h"
#include "form.h"
#include "fuzz.h"
#include "store.h"

static struct mcpauth_conf *conf;
static struct mcpauth_store *store;

/* Adds one client as mcpauth-admin client add does; aborts on failure. */
static void add(const char *id, const char *source, const char *method,
		const char *secret, const char *jwks_pub, const char *alg,
		long long expires, long long disabled)
{
	char *uris[] = { "https://bot.example.com/cb" };
	char *hash = secret ? mcpauth_crypto_sha256_b64url(secret) : NULL;
	char *old = mcpauth_crypto_sha256_b64url("old-secret-0123456789");
	char jwks[2048];
	struct mcpauth_err err = { 0 };
	struct mcpauth_client c = {
		.client_id = (char *)id,
		.source = (char *)source,
		.auth_method = (char *)method,
		.application_type = "web",
		.redirect_uris = uris,
		.nredirect_uris = 1,
		.grant_types = "authorization_code refresh_token "
			       "client_credentials",
		.scope = "files:read files:write mail:read",
		.metadata = "{}",
		.secret_hash = hash,
		.secret_expires_at = expires,
		.previous_secret_hash = hash != NULL ? old : NULL,
		.previous_secret_until = FUZZ_NOW + 100,
		.jwks = NULL,
		.signing_alg = (char *)alg,
		.created_at = FUZZ_NOW - 100,
		.updated_at = FUZZ_NOW - 100,
		.disabled_at = disabled,
	};
	struct mcpauth_audit a = { .at = FUZZ_NOW - 100,
				   .event = "register",
				   .actor = "admin",
				   .client_id = id };

	if (jwks_pub != NULL) {
		snprintf(jwks, sizeof(jwks), "{\"keys\":[%s]}", jwks_pub);
		c.jwks = jwks;
	}
	FUZZ_ASSERT(mcpauth_store_client_add(store, &c, 0, NULL, &a, &err));
	free(hash);
	free(old);
}

void fuzz_setup(void)
{
	conf = fuzz_conf("auth", "private_key_jwt = yes\n"
				 "client_credentials = yes");
	store = fuzz_store(conf);
	add("pub", "dynamic", "none", NULL, NULL, NULL, 0, 0);
	add("conf", "dynamic", "client_secret_basic",
	    "s3cret-conf-0123456789", NULL, NULL, 0, 0);
	add("post", "operator", "client_secret_post",
	    "p0st-secret-0123456789", NULL, NULL, FUZZ_NOW + 1000, 0);
	add("odd:id", "operator", "client_secret_basic", "p%ss word", NULL,
	    NULL, 0, 0);
	add("expired", "dynamic", "client_secret_basic", "x", NULL, NULL,
	    FUZZ_NOW - 1, 0);
	add("disabled", "operator", "client_secret_post", "x", NULL, NULL, 0,
	    FUZZ_NOW - 10);
	add("key-bot", "operator", "private_key_jwt", NULL, fuzz_es256_pub,
	    "ES256", 0, 0);
	add("ed-bot", "operator", "private_key_jwt", NULL, fuzz_eddsa_pub,
	    "EdDSA", 0, 0);
	add("rs-bot", "operator", "private_key_jwt", NULL, fuzz_rs256_pub,
	    "RS256", 0, 0);
	add("https://app.example.com/oauth/client.json", "metadata_document",
	    "none", NULL, NULL, NULL, 0, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_form *form = NULL;
	struct mcpauth_client *client = NULL;
	char *authorization = NULL, *body = NULL;
	size_t len = 0;

	if (!fuzz_split(data, size, &authorization, &body, &len))
		return 0;
	if (mcpauth_form_parse(body, len, &form, &err)) {
		if (mcpauth_client_authenticate(store, conf,
						*authorization ? authorization
							       : NULL,
						form, FUZZ_NOW, &client,
						&err)) {
			FUZZ_ASSERT(client != NULL);
			FUZZ_ASSERT(client->disabled_at == 0);
			if (!strcmp(client->auth_method, "private_key_jwt"))
				FUZZ_ASSERT(mcpauth_form_get(
					form, "client_assertion") != NULL);
			mcpauth_client_free(client);
		} else {
			FUZZ_ASSERT(client == NULL);
			/* Never an internal error: the store is healthy. */
			FUZZ_ASSERT(err.status == 400 || err.status == 401);
		}
		mcpauth_form_free(form);
	}
	free(authorization);
	free(body);
	return 0;
}

/*
 * document.c (fuzz target): a Client ID Metadata Document as fetched from
 * its URL (mcpauth_client_from_document), under a configuration with
 * private_key_jwt on (documents may carry keys) and a default one. Input:
 * the document; its client_id must be DOC_URL to get past the first check.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "fuzz.h"

#define DOC_URL "https://app.example.com/oauth/client.json"

static struct mcpauth_conf *plain, *keys_conf;

void fuzz_setup(void)
{
	plain = fuzz_conf("plain", "");
	keys_conf = fuzz_conf("keys", "private_key_jwt = yes");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mcpauth_conf *confs[] = { keys_conf, plain };

	for (size_t i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		struct mcpauth_err err = { 0 };
		struct mcpauth_client *c = calloc(1, sizeof(*c));
		size_t n = 0;
		char *jwks = NULL;

		FUZZ_ASSERT(c != NULL);
		if (!mcpauth_client_from_document(confs[i], DOC_URL,
						  (const char *)data, size, c,
						  &err)) {
			FUZZ_ASSERT(err.status == 400 || err.status == 500);
			FUZZ_ASSERT(err.status == 500 ||
				    !strcmp(err.code, "invalid_client"));
			mcpauth_client_free(c);
			continue;
		}
		fuzz_check_client(confs[i], MCPAUTH_CLIENT_ORIGIN_DOCUMENT, c);
		FUZZ_ASSERT(c->client_name != NULL);
		if (!strcmp(c->auth_method, "private_key_jwt")) {
			/* Keys at a URL or inline, checked, never both. */
			FUZZ_ASSERT(c->signing_alg != NULL);
			FUZZ_ASSERT((c->jwks == NULL) != (c->jwks_uri == NULL));
			if (c->jwks_uri != NULL)
				FUZZ_ASSERT(!strncmp(c->jwks_uri, "https://",
						     8));
			if (c->jwks != NULL) {
				FUZZ_ASSERT(mcpauth_client_jwks_parse(
					c->jwks, strlen(c->jwks),
					c->signing_alg, "alg", &jwks, &n,
					&err));
				free(jwks);
			}
		} else {
			FUZZ_ASSERT(!strcmp(c->auth_method, "none"));
			FUZZ_ASSERT(c->jwks == NULL && c->jwks_uri == NULL &&
				    c->signing_alg == NULL);
		}
		mcpauth_client_free(c);
	}
	return 0;
}

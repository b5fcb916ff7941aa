/*
 * register.c (fuzz target): a registration body (RFC 7591 §2) as
 * mcpauth-register reads it: mcpauth_json_parse, then
 * mcpauth_client_from_metadata for every origin, under a default
 * configuration and one with confidential registration and private_key_jwt
 * on; then the answer (mcpauth_client_to_json). Input: the JSON body.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client.h"
#include "fuzz.h"
#include "json.h"

static struct mcpauth_conf *plain, *open_conf;

static const struct {
	struct mcpauth_conf **conf;
	enum mcpauth_client_origin origin;
} runs[] = {
	{ &plain, MCPAUTH_CLIENT_ORIGIN_DYNAMIC },
	{ &open_conf, MCPAUTH_CLIENT_ORIGIN_DYNAMIC },
	{ &plain, MCPAUTH_CLIENT_ORIGIN_DYNAMIC_CONFIDENTIAL },
	{ &open_conf, MCPAUTH_CLIENT_ORIGIN_DOCUMENT },
};

/* A client as an RFC 7592 update finds it: every field set already. */
static struct mcpauth_client *stored(void)
{
	struct mcpauth_client *c = calloc(1, sizeof(*c));

	FUZZ_ASSERT(c != NULL);
	c->client_id = strdup("old-id");
	c->auth_method = strdup("none");
	c->application_type = strdup("web");
	c->redirect_uris = calloc(1, sizeof(char *));
	FUZZ_ASSERT(c->redirect_uris != NULL);
	c->redirect_uris[0] = strdup("https://old.example.com/cb");
	c->nredirect_uris = 1;
	c->grant_types = strdup("authorization_code");
	c->scope = strdup("files:read");
	c->client_name = strdup("Old");
	c->software_id = strdup("old-sw");
	c->software_version = strdup("1");
	c->metadata = strdup("{}");
	c->registration_token_hash = strdup("hash");
	return c;
}

void fuzz_setup(void)
{
	plain = fuzz_conf("plain", "");
	open_conf = fuzz_conf("open", "confidential_registration = yes\n"
				      "private_key_jwt = yes\n"
				      "registration_default_scopes = "
				      "files:read mail:read");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcpauth_err err = { 0 };
	struct json_object *in = NULL;

	if (!mcpauth_json_parse((const char *)data, size,
				"invalid_client_metadata", &in, &err))
		return 0;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		const struct mcpauth_conf *conf = *runs[i].conf;
		struct mcpauth_client *c = stored();
		char **uris = c->redirect_uris, *metadata = c->metadata;

		mcpauth_err_clear(&err);
		if (mcpauth_client_from_metadata(conf, in, runs[i].origin, c,
						 &err)) {
			fuzz_check_client(conf, runs[i].origin, c);
		} else {
			/* *out is not touched on failure. */
			FUZZ_ASSERT(c->redirect_uris == uris &&
				    c->metadata == metadata);
			FUZZ_ASSERT(err.status == 400 || err.status == 500);
			FUZZ_ASSERT(
				err.status == 500 ||
				!strcmp(err.code, "invalid_client_metadata") ||
				!strcmp(err.code, "invalid_redirect_uri"));
		}
		mcpauth_client_free(c);
	}
	json_object_put(in);
	return 0;
}

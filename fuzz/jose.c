/*
 * jose.c (fuzz target): compact JWS as the token endpoint verifies client
 * assertions and the introspection endpoint our own tokens
 * (mcpauth_jose_verify: rhonabwy's parser and verification, with our
 * algorithm pinning), against the fixed test key of each algorithm.
 * rhonabwy is not instrumented, so libFuzzer sees little of its parser:
 * the structured form lets mutations land in the JSON it reads rather than
 * in base64. Input: a compact token (up to its first NUL) or, when it
 * starts with '{', the header JSON, a newline, the payload, a newline, the
 * raw signature bytes, which the target encodes and joins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "b64.h"
#include "fuzz.h"
#include "jose.h"

static const struct {
	const char *key;
	const char *alg;
} keys[] = {
	{ fuzz_es256_pub, "ES256" },
	{ fuzz_eddsa_pub, "EdDSA" },
	{ fuzz_rs256_pub, "RS256" },
};

/* header.payload.signature from the structured form. */
static char *compose(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size, *part[3] = { data, NULL, NULL };
	size_t len[3];
	char *enc[3] = { NULL, NULL, NULL }, *jwt = NULL;

	for (int i = 1; i < 3; i++) {
		const uint8_t *nl = memchr(part[i - 1], '\n',
					   (size_t)(end - part[i - 1]));
		if (nl == NULL)
			return NULL;
		len[i - 1] = (size_t)(nl - part[i - 1]);
		part[i] = nl + 1;
	}
	len[2] = (size_t)(end - part[2]);
	for (int i = 0; i < 3; i++)
		if ((enc[i] = mcpauth_b64url_encode(part[i], len[i])) == NULL)
			goto out;
	jwt = malloc(strlen(enc[0]) + strlen(enc[1]) + strlen(enc[2]) + 3);
	if (jwt != NULL)
		sprintf(jwt, "%s.%s.%s", enc[0], enc[1], enc[2]);
out:
	for (int i = 0; i < 3; i++)
		free(enc[i]);
	return jwt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *jwt = size > 0 && data[0] == '{' ? compose(data, size)
					      : fuzz_str(data, size);

	if (jwt == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct mcpauth_err err = { 0 };
		char *header = NULL, *claims = NULL;
		struct json_object *h, *alg;

		if (!mcpauth_jose_verify(keys[i].key, keys[i].alg, jwt, &header,
					 &claims, &err)) {
			FUZZ_ASSERT(header == NULL && claims == NULL);
			FUZZ_ASSERT(err.status == 400 || err.status == 500);
			continue;
		}
		/* Verified: the header names the pinned algorithm. */
		FUZZ_ASSERT(header != NULL && claims != NULL);
		h = json_tokener_parse(header);
		FUZZ_ASSERT(h != NULL);
		FUZZ_ASSERT(json_object_object_get_ex(h, "alg", &alg));
		FUZZ_ASSERT(!strcmp(json_object_get_string(alg), keys[i].alg));
		json_object_put(h);
		free(header);
		free(claims);
	}
	free(jwt);
	return 0;
}

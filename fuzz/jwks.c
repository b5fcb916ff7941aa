/*
 * jwks.c (fuzz target): a client's keys as the admin CLI, a metadata
 * document or a jwks_uri provide them (mcpauth_client_jwks_parse for each
 * algorithm), then each accepted key imported to verify a token
 * (mcpauth_jose_verify), as the token endpoint does with an assertion.
 * Input: the JWKS.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "b64.h"
#include "client.h"
#include "fuzz.h"
#include "jose.h"
#include "json.h"

static const struct {
	const char *alg;
	const char *jwt; /* signed by pub */
	const char *pub;
} algs[] = {
	{ "ES256", fuzz_es256_jwt, fuzz_es256_pub },
	{ "EdDSA", fuzz_eddsa_jwt, fuzz_eddsa_pub },
	{ "RS256", fuzz_rs256_jwt, fuzz_rs256_pub },
};

/*
 * The value of the base64url member name of o, leading zero bytes dropped
 * (an RSA modulus or exponent may be sent with them), in buf; its length,
 * or -1 when absent or malformed.
 */
static long member(struct json_object *o, const char *name,
		   unsigned char *buf, size_t size)
{
	const char *s = mcpauth_json_get_str(o, name);
	unsigned char *d = NULL;
	size_t n = 0, z = 0;

	if (s == NULL || !mcpauth_b64url_decode(s, strlen(s), &d, &n))
		return -1;
	while (z < n && d[z] == 0)
		z++;
	n -= z;
	if (n > size) {
		free(d);
		return -1;
	}
	memcpy(buf, d + z, n);
	free(d);
	return (long)n;
}

/*
 * key and the test key pub are the same public key: the members of pub's
 * key type agree (RFC 7638 §3.2 lists them).
 */
static bool same_key(struct json_object *key, const char *pub)
{
	static const char *const ec[] = { "x", "y" }, *const okp[] = { "x" },
				 *const rsa[] = { "n", "e" };
	struct json_object *p = json_tokener_parse(pub);
	const char *kty = mcpauth_json_get_str(p, "kty");
	const char *const *members = rsa;
	size_t count = 2;
	unsigned char a[1024], b[1024];
	bool same = true;

	FUZZ_ASSERT(p != NULL && kty != NULL);
	if (!strcmp(kty, "EC")) {
		members = ec;
	} else if (!strcmp(kty, "OKP")) {
		members = okp;
		count = 1;
	}
	for (size_t i = 0; i < count; i++) {
		long la = member(key, members[i], a, sizeof(a));
		long lb = member(p, members[i], b, sizeof(b));
		if (la != lb || (la > 0 && memcmp(a, b, (size_t)la) != 0))
			same = false;
	}
	json_object_put(p);
	return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		struct mcpauth_err err = { 0 };
		struct json_object *jwks = NULL, *keys = NULL;
		char *out = NULL;
		size_t n = 0;

		if (!mcpauth_client_jwks_parse((const char *)data, size,
					       algs[i].alg, algs[i].alg, &out,
					       &n, &err)) {
			FUZZ_ASSERT(out == NULL);
			FUZZ_ASSERT(err.status == 400 || err.status == 500);
			continue;
		}
		FUZZ_ASSERT(n >= 1 && n <= MCPAUTH_CLIENT_JWKS_MAX_KEYS);
		/* What is stored parses again, with the same keys. */
		FUZZ_ASSERT(mcpauth_json_parse(out, strlen(out), "x", &jwks,
					       &err));
		FUZZ_ASSERT(json_object_object_get_ex(jwks, "keys", &keys));
		FUZZ_ASSERT(json_object_array_length(keys) == n);
		for (size_t k = 0; k < n; k++) {
			struct json_object *key =
				json_object_array_get_idx(keys, k);
			const char *text = json_object_to_json_string_ext(
				key, JSON_C_TO_STRING_PLAIN);
			char *claims = NULL;

			FUZZ_ASSERT(!json_object_object_get_ex(key, "d", NULL));
			mcpauth_err_clear(&err);
			if (mcpauth_jose_verify(text, algs[i].alg, algs[i].jwt,
						NULL, &claims, &err)) {
				/* Only the key that signed it verifies it. */
				FUZZ_ASSERT(same_key(key, algs[i].pub));
				free(claims);
			}
		}
		json_object_put(jwks);
		free(out);
	}
	return 0;
}

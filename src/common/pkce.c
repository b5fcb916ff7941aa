/* pkce.c: PKCE S256 checks (RFC 7636); plain is never accepted. */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "pkce.h"

#define B64URL                                                          \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

bool mcpauth_pkce_challenge_ok(const char *challenge)
{
	size_t n = challenge != NULL ? strlen(challenge) : 0;

	/* 32 bytes: 43 characters whose last carries 4 bits (A, E, I, ...). */
	return n == 43 && strspn(challenge, B64URL) == n &&
	       strchr("AEIMQUYcgkosw048", challenge[42]) != NULL;
}

bool mcpauth_pkce_verifier_ok(const char *verifier)
{
	size_t n = verifier != NULL ? strlen(verifier) : 0;

	return n >= 43 && n <= 128 && strspn(verifier, B64URL ".~") == n;
}

bool mcpauth_pkce_verify(const char *verifier, const char *challenge)
{
	char *computed;
	bool ok;

	if (!mcpauth_pkce_verifier_ok(verifier) ||
	    !mcpauth_pkce_challenge_ok(challenge))
		return false;
	computed = mcpauth_crypto_sha256_b64url(verifier);
	if (computed == NULL)
		return false;
	ok = mcpauth_crypto_streq(computed, challenge);
	free(computed);
	return ok;
}

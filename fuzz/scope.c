/*
 * scope.c (fuzz target): scope strings as sets (mcpauth_scope_has, _subset,
 * _union) and PKCE (mcpauth_pkce_*), all of which take what clients send.
 * Input: two strings separated by the first newline.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pkce.h"
#include "scope.h"

/* Every token shorter than scope.c's 256-byte buffer. */
static bool short_tokens(const char *s)
{
	while (*s != '\0') {
		size_t n = strcspn(s, " ");
		if (n >= 256)
			return false;
		s += n;
		s += strspn(s, " ");
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = NULL, *b = NULL, *u;

	if (!fuzz_split(data, size, &a, &b, NULL))
		return 0;
	mcpauth_scope_has(a, b);
	mcpauth_scope_subset(a, b);
	u = mcpauth_scope_union(a, b);
	FUZZ_ASSERT(u != NULL);
	if (short_tokens(a) && short_tokens(b)) {
		FUZZ_ASSERT(mcpauth_scope_subset(a, u));
		FUZZ_ASSERT(mcpauth_scope_subset(b, u));
		FUZZ_ASSERT(mcpauth_scope_subset(u, a) ==
			    mcpauth_scope_subset(b, a));
	}
	free(u);
	if (mcpauth_pkce_verify(a, b)) {
		FUZZ_ASSERT(mcpauth_pkce_verifier_ok(a));
		FUZZ_ASSERT(mcpauth_pkce_challenge_ok(b));
	}
	mcpauth_pkce_challenge_ok(a);
	mcpauth_pkce_verifier_ok(b);
	free(a);
	free(b);
	return 0;
}

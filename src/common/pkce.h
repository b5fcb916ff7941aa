/* pkce.h: Proof Key for Code Exchange (RFC 7636), S256 only. */
#ifndef MCPAUTH_PKCE_H
#define MCPAUTH_PKCE_H

#include <stdbool.h>

/*
 * A code_challenge as S256 makes it (RFC 7636 §4.2): base64url of 32 bytes,
 * 43 characters.
 */
bool mcpauth_pkce_challenge_ok(const char *challenge);

/* A code_verifier (RFC 7636 §4.1): 43 to 128 of [A-Za-z0-9-._~]. */
bool mcpauth_pkce_verifier_ok(const char *verifier);

/*
 * base64url(SHA-256(verifier)) equals challenge (RFC 7636 §4.6), compared
 * in constant time; false for a malformed verifier.
 */
bool mcpauth_pkce_verify(const char *verifier, const char *challenge);

#endif

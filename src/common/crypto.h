/* crypto.h: randomness, hashing and constant-time comparison (the only GnuTLS user). */
#ifndef MCPAUTH_CRYPTO_H
#define MCPAUTH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define MCPAUTH_SHA256_LEN 32

/* Fills buf with len bytes from the system RNG (GnuTLS GNUTLS_RND_KEY). */
bool mcpauth_crypto_random(void *buf, size_t len, struct mcpauth_err *err);

/*
 * A new base64url string of nbytes random bytes (nbytes >= 16), for ids,
 * codes and secrets. Owned by the caller: wipe and free secrets.
 */
bool mcpauth_crypto_random_token(size_t nbytes, char **out,
				 struct mcpauth_err *err);

/* Lowercase hex of nbytes random bytes into out (size >= 2*nbytes+1). */
bool mcpauth_crypto_random_hex(size_t nbytes, char *out,
			       struct mcpauth_err *err);

/* SHA-256 of data into out. */
bool mcpauth_crypto_sha256(const void *data, size_t len,
			   unsigned char out[MCPAUTH_SHA256_LEN]);

/* base64url(SHA-256(s)): how tokens, codes and secrets are stored. */
char *mcpauth_crypto_sha256_b64url(const char *s);

/* HMAC-SHA-256 of data with key into out. */
bool mcpauth_crypto_hmac_sha256(const void *key, size_t keylen,
				const void *data, size_t len,
				unsigned char out[MCPAUTH_SHA256_LEN]);

/* Constant-time equality of two equal-length buffers. */
bool mcpauth_crypto_equal(const void *a, const void *b, size_t len);

/* Constant-time equality of two strings (time depends only on the lengths). */
bool mcpauth_crypto_streq(const char *a, const char *b);

/* Overwrites len bytes with zeros in a way the compiler keeps. */
void mcpauth_crypto_wipe(void *buf, size_t len);

/* Wipes and frees a NUL-terminated secret; NULL is a no-op. */
void mcpauth_crypto_free_secret(char *s);

#endif

/* crypto.c: randomness, SHA-256, HMAC and constant-time comparison (GnuTLS). */
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "b64.h"
#include "crypto.h"

bool mcpauth_crypto_random(void *buf, size_t len, struct mcpauth_err *err)
{
	int rc = gnutls_rnd(GNUTLS_RND_KEY, buf, len);

	if (rc < 0) {
		MCPAUTH_ERR_INTERNAL(err, "gnutls_rnd: %s", gnutls_strerror(rc));
		return false;
	}
	return true;
}

bool mcpauth_crypto_random_token(size_t nbytes, char **out,
				 struct mcpauth_err *err)
{
	unsigned char buf[128];
	char *s;

	if (nbytes < 16 || nbytes > sizeof(buf)) {
		MCPAUTH_ERR_INTERNAL(err, "random token of %u bytes",
				     (unsigned)nbytes);
		return false;
	}
	if (!mcpauth_crypto_random(buf, nbytes, err))
		return false;
	s = mcpauth_b64url_encode(buf, nbytes);
	mcpauth_crypto_wipe(buf, sizeof(buf));
	if (s == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	*out = s;
	return true;
}

bool mcpauth_crypto_random_hex(size_t nbytes, char *out,
			       struct mcpauth_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[64];

	if (nbytes > sizeof(buf)) {
		MCPAUTH_ERR_INTERNAL(err, "random hex of %u bytes",
				     (unsigned)nbytes);
		return false;
	}
	if (!mcpauth_crypto_random(buf, nbytes, err))
		return false;
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[buf[i] >> 4];
		out[2 * i + 1] = hex[buf[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return true;
}

bool mcpauth_crypto_sha256(const void *data, size_t len,
			   unsigned char out[MCPAUTH_SHA256_LEN])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) == 0;
}

char *mcpauth_crypto_sha256_b64url(const char *s)
{
	unsigned char d[MCPAUTH_SHA256_LEN];

	if (!mcpauth_crypto_sha256(s, strlen(s), d))
		return NULL;
	return mcpauth_b64url_encode(d, sizeof(d));
}

bool mcpauth_crypto_hmac_sha256(const void *key, size_t keylen,
				const void *data, size_t len,
				unsigned char out[MCPAUTH_SHA256_LEN])
{
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, keylen, data, len,
				out) == 0;
}

bool mcpauth_crypto_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

bool mcpauth_crypto_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	const volatile unsigned char *x = (const unsigned char *)a;
	const volatile unsigned char *y = (const unsigned char *)b;

	/* Walk the longer string against itself where the other ended. */
	for (size_t i = 0; i < (la > lb ? la : lb); i++)
		d |= (i < la ? x[i] : 0) ^ (i < lb ? y[i] : 0);
	return d == 0;
}

void mcpauth_crypto_wipe(void *buf, size_t len)
{
	gnutls_memset(buf, 0, len);
}

void mcpauth_crypto_free_secret(char *s)
{
	if (s == NULL)
		return;
	gnutls_memset(s, 0, strlen(s));
	free(s);
}

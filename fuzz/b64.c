/*
 * b64.c (fuzz target): base64url (JWS parts, PKCE) and padded base64 (HTTP
 * Basic credentials), both strict, so decoding then encoding again gives
 * back the very input. Input: the raw bytes, decoded both ways and encoded.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *src = (const char *)data;
	unsigned char *dec = NULL, *back = NULL;
	size_t declen = 0, backlen = 0;
	char *enc;

	if (mcpauth_b64url_decode(src, size, &dec, &declen)) {
		FUZZ_ASSERT(dec != NULL && dec[declen] == '\0');
		/* Strict: one spelling per value (no padding, zero bits). */
		enc = mcpauth_b64url_encode(dec, declen);
		FUZZ_ASSERT(enc != NULL);
		FUZZ_ASSERT(strlen(enc) == size && !memcmp(enc, src, size));
		free(enc);
		free(dec);
	}
	dec = NULL;
	if (mcpauth_b64_decode(src, size, &dec, &declen)) {
		FUZZ_ASSERT(dec != NULL && dec[declen] == '\0');
		FUZZ_ASSERT(size % 4 == 0 && declen <= size / 4 * 3);
		free(dec);
	}
	/* Any bytes encode, and decode back. */
	enc = mcpauth_b64url_encode(data, size);
	FUZZ_ASSERT(enc != NULL);
	FUZZ_ASSERT(mcpauth_b64url_decode(enc, strlen(enc), &back, &backlen));
	FUZZ_ASSERT(backlen == size);
	FUZZ_ASSERT(size == 0 || !memcmp(back, data, size));
	free(back);
	free(enc);
	return 0;
}

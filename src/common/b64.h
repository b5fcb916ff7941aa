/*
 * b64.h: base64url without padding (RFC 4648 §5, as JOSE and PKCE use it),
 * and decoding of padded base64 (§4) for HTTP Basic credentials.
 */
#ifndef MCPAUTH_B64_H
#define MCPAUTH_B64_H

#include <stdbool.h>
#include <stddef.h>

/* New NUL-terminated string (free), or NULL on allocation failure. */
char *mcpauth_b64url_encode(const unsigned char *src, size_t len);

/*
 * Decodes strictly: only [A-Za-z0-9_-], no padding, no whitespace, length not
 * 1 mod 4, unused trailing bits zero. *out is owned by the caller (free) and
 * NUL-terminated for convenience; *outlen excludes the NUL.
 */
bool mcpauth_b64url_decode(const char *src, size_t len, unsigned char **out,
			   size_t *outlen);

/*
 * Decodes padded base64 (RFC 4648 §4): only [A-Za-z0-9+/], length a multiple
 * of 4, '=' only as the last one or two characters. *out as above.
 */
bool mcpauth_b64_decode(const char *src, size_t len, unsigned char **out,
			size_t *outlen);

#endif

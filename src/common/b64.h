/* b64.h: base64url without padding (RFC 4648 §5, as JOSE and PKCE use it). */
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

#endif

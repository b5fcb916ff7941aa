/* b64.c: base64url (RFC 4648 §5) without padding, over GnuTLS's base64. */
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "b64.h"

char *mcpauth_b64url_encode(const unsigned char *src, size_t len)
{
	gnutls_datum_t in = { (unsigned char *)src, (unsigned int)len };
	gnutls_datum_t out = { NULL, 0 };
	char *s;
	size_t n;

	if (len == 0)
		return strdup("");
	if (gnutls_base64_encode2(&in, &out) < 0)
		return NULL;
	s = malloc(out.size + 1);
	if (s == NULL) {
		gnutls_free(out.data);
		return NULL;
	}
	n = 0;
	for (unsigned int i = 0; i < out.size; i++) {
		char c = (char)out.data[i];
		if (c == '=' || c == '\n' || c == '\r')
			continue;
		s[n++] = c == '+' ? '-' : c == '/' ? '_' : c;
	}
	s[n] = '\0';
	gnutls_memset(out.data, 0, out.size);
	gnutls_free(out.data);
	return s;
}

static bool url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool mcpauth_b64url_decode(const char *src, size_t len, unsigned char **out,
			   size_t *outlen)
{
	gnutls_datum_t in = { NULL, 0 }, dec = { NULL, 0 };
	unsigned char *res = NULL;
	char *std = NULL, *check = NULL;
	bool ok = false;
	size_t padded;

	if (len % 4 == 1)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!url_char(src[i]))
			return false;
	if (len == 0) {
		res = calloc(1, 1);
		if (res == NULL)
			return false;
		*out = res;
		*outlen = 0;
		return true;
	}
	padded = (len + 3) / 4 * 4;
	std = malloc(padded + 1);
	if (std == NULL)
		goto out;
	for (size_t i = 0; i < len; i++)
		std[i] = src[i] == '-' ? '+' : src[i] == '_' ? '/' : src[i];
	memset(std + len, '=', padded - len);
	std[padded] = '\0';
	in.data = (unsigned char *)std;
	in.size = (unsigned int)padded;
	if (gnutls_base64_decode2(&in, &dec) < 0)
		goto out;
	/* Canonical form only: re-encoding must give the input back. */
	check = mcpauth_b64url_encode(dec.data, dec.size);
	if (check == NULL || strlen(check) != len ||
	    memcmp(check, src, len) != 0)
		goto out;
	res = malloc(dec.size + 1);
	if (res == NULL)
		goto out;
	memcpy(res, dec.data, dec.size);
	res[dec.size] = '\0';
	*out = res;
	*outlen = dec.size;
	ok = true;
out:
	if (dec.data != NULL) {
		gnutls_memset(dec.data, 0, dec.size);
		gnutls_free(dec.data);
	}
	free(std);
	free(check);
	return ok;
}

static bool std_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

bool mcpauth_b64_decode(const char *src, size_t len, unsigned char **out,
			size_t *outlen)
{
	gnutls_datum_t in = { (unsigned char *)src, (unsigned int)len };
	gnutls_datum_t dec = { NULL, 0 };
	unsigned char *res = NULL;
	size_t pad = 0;

	if (len == 0 || len % 4 != 0 || len > 65536)
		return false;
	while (pad < 2 && src[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++)
		if (!std_char(src[i]))
			return false;
	if (gnutls_base64_decode2(&in, &dec) < 0)
		return false;
	res = malloc(dec.size + 1);
	if (res != NULL) {
		memcpy(res, dec.data, dec.size);
		res[dec.size] = '\0';
		*out = res;
		*outlen = dec.size;
	}
	gnutls_memset(dec.data, 0, dec.size);
	gnutls_free(dec.data);
	return res != NULL;
}

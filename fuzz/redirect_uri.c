/*
 * redirect_uri.c (fuzz target): the URIs a client registers or names as its
 * client_id: mcpauth_client_redirect_uri_ok (web and native),
 * mcpauth_client_redirect_uri_loopback, mcpauth_client_id_is_url and
 * mcpauth_client_document_url_ok. Input: one URI (up to its first NUL).
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "fuzz.h"

/* No space, control character, or fragment: what every check refuses. */
static bool plain(const char *uri)
{
	for (const char *p = uri; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f ||
		    *p == '#')
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcpauth_err err = { 0 };
	char *uri = fuzz_str(data, size), *host = NULL;
	bool web, native;

	if (uri == NULL)
		return 0;
	web = mcpauth_client_redirect_uri_ok(uri, false, &err);
	FUZZ_ASSERT(web || err.status == 400 || err.status == 500);
	mcpauth_err_clear(&err);
	native = mcpauth_client_redirect_uri_ok(uri, true, &err);
	FUZZ_ASSERT(native || err.status == 400 || err.status == 500);
	/* What a web client may register, a native one may too. */
	FUZZ_ASSERT(!web || native);
	if (web)
		FUZZ_ASSERT(!strncmp(uri, "https://", 8));
	if (native) {
		FUZZ_ASSERT(plain(uri));
		FUZZ_ASSERT(strlen(uri) <= MCPAUTH_CLIENT_MAX_URI);
		/* RFC 8252 §7.3: http only on a loopback host. */
		if (!strncmp(uri, "http:", 5))
			FUZZ_ASSERT(mcpauth_client_redirect_uri_loopback(uri));
	}
	mcpauth_client_redirect_uri_loopback(uri);

	mcpauth_err_clear(&err);
	mcpauth_client_id_is_url(uri);
	if (mcpauth_client_document_url_ok(uri, &host, &err)) {
		FUZZ_ASSERT(host != NULL && *host != '\0');
		FUZZ_ASSERT(!strncmp(uri, "https://", 8) && plain(uri));
		FUZZ_ASSERT(mcpauth_client_id_is_url(uri));
		for (const char *h = host; *h; h++)
			FUZZ_ASSERT(!(*h >= 'A' && *h <= 'Z'));
		free(host);
	} else {
		FUZZ_ASSERT(host == NULL);
		FUZZ_ASSERT(err.status == 400 || err.status == 500);
	}
	free(uri);
	return 0;
}

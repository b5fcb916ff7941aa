/* fetch.h: every outbound HTTP request mcpauth makes, made safely. */
#ifndef MCPAUTH_FETCH_H
#define MCPAUTH_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "conf.h"
#include "err.h"

/* Largest JWKS fetched from a client's jwks_uri. */
#define MCPAUTH_FETCH_JWKS_MAX (64 * 1024)

/* A document fetched: owned by the caller, free with mcpauth_fetch_free. */
struct mcpauth_fetch {
	char *body;         /* NUL-terminated; len bytes */
	size_t len;
	char *content_type; /* as sent, or NULL */
	/* seconds the server lets it be cached: -1 when it says nothing,
	 * 0 for no-store/no-cache */
	long max_age;
};

void mcpauth_fetch_free(struct mcpauth_fetch *fetch);

/*
 * GETs url and returns the body of a 200 answer, under these rules
 * (draft-ietf-oauth-client-id-metadata-document §6, shared/SECURITY.md):
 * - https only; no user information or fragment in the URL; redirects are
 *   never followed (a 3xx is an error); no proxy from the environment;
 * - at most max_bytes of body and conf->fetch_timeout seconds in all;
 *   no content decoding (no compressed bombs);
 * - each address the name resolves to is checked right before the socket
 *   is opened (CURLOPT_OPENSOCKETFUNCTION): curl resolves once and connects
 *   only to checked addresses, so DNS rebinding has no window. Loopback,
 *   private, link-local, multicast and other special-use addresses are
 *   refused unless conf->fetch_allow names the host or the address.
 * On failure err is 400 invalid_client (callers about other documents
 * replace the code) with a description safe to show, and the URL in the
 * log detail only.
 */
bool mcpauth_fetch_get(const struct mcpauth_conf *conf, const char *url,
		       size_t max_bytes, struct mcpauth_fetch **out,
		       struct mcpauth_err *err);

/*
 * The host of url in one spelling, whatever the URL wrote (lower case, no
 * final dot, IPv6 in inet_ntop's form, IPv4-mapped as IPv4) into out: what
 * fetch_allow host names are compared with, and what per-host limits count.
 * False when url is no URL.
 */
bool mcpauth_fetch_host_key(const char *url, char *out, size_t size);

/*
 * Why an address must not be fetched from ("loopback", "private", ...), or
 * NULL for a global unicast address. IPv4-mapped and NAT64 IPv6 addresses
 * are judged by the IPv4 address inside. Exposed for tests.
 */
const char *mcpauth_fetch_special_use(const struct sockaddr *sa);

/* True when conf->fetch_allow lists the address. Exposed for tests. */
bool mcpauth_fetch_address_allowed(const struct mcpauth_conf *conf,
				   const struct sockaddr *sa);

#endif

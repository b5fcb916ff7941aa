/*
 * client.h: OAuth clients: their registered metadata (RFC 7591 §2) and how
 * they authenticate at the token endpoint (RFC 6749 §2.3). The registration
 * endpoint, the admin CLI and later Client ID Metadata Documents validate
 * metadata here, so the rules are the same for every way a client arrives.
 */
#ifndef MCPAUTH_CLIENT_H
#define MCPAUTH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "conf.h"
#include "err.h"
#include "form.h"

struct mcpauth_store;

/* At most this many redirect URIs per client, each at most this long. */
#define MCPAUTH_CLIENT_MAX_REDIRECT_URIS 10
#define MCPAUTH_CLIENT_MAX_URI 2000
/* client_name, software_id and software_version: at most this many bytes. */
#define MCPAUTH_CLIENT_MAX_NAME 200

/* Random bytes in each generated value: 128-bit ids, 256-bit secrets. */
#define MCPAUTH_CLIENT_ID_BYTES 16
#define MCPAUTH_CLIENT_SECRET_BYTES 32

/* A client as stored. Every string is owned; free with mcpauth_client_free. */
struct mcpauth_client {
	char *client_id;
	char *source;      /* "dynamic", "operator", "metadata_document" */
	char *client_name; /* may be NULL */
	char *auth_method; /* token_endpoint_auth_method */
	char *application_type; /* "web" or "native" */
	char **redirect_uris;
	size_t nredirect_uris;
	char *grant_types; /* space-separated */
	char *scope;       /* space-separated */
	char *software_id; /* may be NULL */
	char *software_version; /* may be NULL */
	char *metadata;    /* JSON object text: the registered metadata */
	char *secret_hash; /* base64url SHA-256, NULL for public clients */
	long long secret_expires_at; /* 0: never */
	char *registration_token_hash; /* NULL when not manageable (RFC 7592) */
	char *registered_from; /* address, may be NULL */
	long long initial_token_id; /* 0: none */
	long long created_at;
	long long updated_at;
	long long last_used_at; /* 0: never used */
	bool first_party; /* the operator's own: no consent page */
	long long disabled_at; /* 0: enabled */
	char *allowed_resources; /* space-separated; NULL: any resource */
	char *jwks;        /* private_key_jwt: the client's public keys */
	char *signing_alg; /* private_key_jwt: its one algorithm */
	char *previous_secret_hash;      /* after a rotation, or NULL */
	long long previous_secret_until; /* ... valid until then */
	char *jwks_uri;    /* private_key_jwt: where the keys are, or NULL */
	long long jwks_fetched_at; /* jwks came from jwks_uri then; 0 never */
	long long jwks_expires_at; /* ... and is fetched again after */
	long long document_fetched_at; /* metadata_document clients */
	long long document_expires_at;
};

void mcpauth_client_free(struct mcpauth_client *client);

/* How the metadata arrived, which decides what it may ask for. */
enum mcpauth_client_origin {
	/* RFC 7591 registration: secrets only when confidential_registration
	 * is on; never client_credentials. */
	MCPAUTH_CLIENT_ORIGIN_DYNAMIC,
	/* An RFC 7592 update of a client that holds a secret already: it may
	 * keep a secret method after confidential_registration is turned
	 * off. */
	MCPAUTH_CLIENT_ORIGIN_DYNAMIC_CONFIDENTIAL,
	/* A Client ID Metadata Document: none or private_key_jwt, never a
	 * secret. */
	MCPAUTH_CLIENT_ORIGIN_DOCUMENT,
};

/*
 * Validates client metadata (RFC 7591 §2) and fills the metadata fields of
 * *out (auth_method, application_type, redirect_uris, grant_types, scope,
 * client_name, software_id, software_version, metadata) with defaults for
 * what is omitted. Unknown members are ignored (RFC 7591 §2), as are
 * client_id and client_secret. Errors: 400 invalid_redirect_uri or
 * invalid_client_metadata, the description naming the member and the rule.
 * *out is not touched on failure; on success its previous metadata fields
 * are replaced.
 */
bool mcpauth_client_from_metadata(const struct mcpauth_conf *conf,
				  struct json_object *in,
				  enum mcpauth_client_origin origin,
				  struct mcpauth_client *out,
				  struct mcpauth_err *err);

/*
 * Checks one redirect URI for a client of application_type native (true) or
 * web (false): absolute, no fragment or userinfo, never javascript:, data:,
 * or another scheme a browser runs; web clients https only; native clients
 * https, http on a loopback host (127.0.0.1, [::1], localhost), or a
 * private-use scheme (RFC 8252 §7). 400 invalid_redirect_uri.
 */
bool mcpauth_client_redirect_uri_ok(const char *uri, bool native,
				    struct mcpauth_err *err);

/* True when uri is http on a loopback host (RFC 8252 §7.3). */
bool mcpauth_client_redirect_uri_loopback(const char *uri);

/*
 * Copies client-chosen text for a log line or an audit row: at most size - 1
 * bytes, cut between characters; invalid UTF-8, control and text-direction
 * characters become '?', double quotes single ones (so a value quoted in a
 * key="value" log line stays one value).
 */
void mcpauth_client_text_copy(char *dst, size_t size, const char *src);

/* True when method stores a secret (client_secret_basic/_post). */
bool mcpauth_client_method_has_secret(const char *method);

/*
 * A new secret (MCPAUTH_CLIENT_SECRET_BYTES, base64url) in *secret and its
 * stored form in *hash: for client secrets, registration access tokens and
 * initial access tokens alike. Both owned by the caller; wipe and free the secret
 * with mcpauth_crypto_free_secret.
 */
bool mcpauth_client_new_secret(char **secret, char **hash,
			       struct mcpauth_err *err);

/*
 * The full registration response of RFC 7591 §3.2.1 / RFC 7592 §3: the
 * stored metadata plus client_id, client_id_issued_at,
 * client_secret_expires_at for confidential clients, and
 * registration_client_uri (under issuer) when the client is manageable.
 * secret and registration_token (may be NULL) are added when just issued.
 */
struct json_object *mcpauth_client_to_json(const struct mcpauth_conf *conf,
					   const struct mcpauth_client *client,
					   const char *secret,
					   const char *registration_token);

/* The registration_client_uri of client_id (RFC 7592 §1); free it. */
char *mcpauth_client_registration_uri(const struct mcpauth_conf *conf,
				      const char *client_id);

/*
 * The stored secret matches presented (constant time) and has not expired.
 */
bool mcpauth_client_secret_ok(const struct mcpauth_client *client,
			      const char *presented, long long now);

/*
 * Client authentication at the token endpoint (RFC 6749 §2.3.1, OAuth 2.1
 * §2.4): client_secret_basic from the Authorization header, or
 * client_secret_post or client_id alone from the form. *out is the stored
 * client, owned by the caller.
 *
 * - Two methods in one request (Basic and a client_secret or a different
 *   client_id in the body): 400 invalid_request.
 * - A malformed Basic header, an unknown client, a wrong or expired secret, a
 *   confidential client without its secret: 401 invalid_client. The caller
 *   adds WWW-Authenticate: Basic when the request used Basic (RFC 6749
 *   §5.2).
 * - A confidential client may use either secret method, whichever it
 *   registered: both carry the same secret.
 * - A public client (none) is never authenticated: a secret it presents
 *   anyway is ignored, as some clients send one they were never issued
 *   (PKCE protects its codes).
 * - private_key_jwt (RFC 7523 §2.2): the client is the assertion's iss
 *   (client_id may be left out); the signature must verify with one of
 *   the client's keys and its registered algorithm; iss = sub = client_id,
 *   aud the issuer or issuer/token, exp within 300 s, jti single use.
 * - A disabled client fails whatever it presents; after a secret rotation
 *   the old secret works until previous_secret_until.
 */
/* At most this many keys in a client's JWKS. */
#define MCPAUTH_CLIENT_JWKS_MAX_KEYS 10

/*
 * Checks a private_key_jwt client's JWKS (RFC 7517 §5): an object with a
 * non-empty "keys" array of at most MCPAUTH_CLIENT_JWKS_MAX_KEYS public
 * keys, each of the type alg verifies with (EC P-256: ES256, OKP Ed25519:
 * EdDSA, RSA of 2048 bits or more: RS256), never a private or symmetric
 * key, kids unique. *out is a new JWKS of the keys' public members (free);
 * *nkeys their number. alg_label names the algorithm in the message when a
 * key does not fit ("--alg ES256"). Errors: 400 invalid_client_metadata,
 * "key N ..." descriptions.
 */
bool mcpauth_client_jwks_parse(const char *text, size_t len, const char *alg,
			       const char *alg_label, char **out,
			       size_t *nkeys, struct mcpauth_err *err);

/*
 * Fetches the JWKS at uri (fetch.c's rules, at most MCPAUTH_FETCH_JWKS_MAX
 * bytes) and checks it as mcpauth_client_jwks_parse does; *until is when
 * to fetch it again (mcpauth_client_cache_until). Errors: fetch.c's or
 * mcpauth_client_jwks_parse's.
 */
bool mcpauth_client_jwks_fetch(const struct mcpauth_conf *conf,
			       const char *uri, const char *alg,
			       const char *alg_label, long long now,
			       char **out, size_t *nkeys, long long *until,
			       struct mcpauth_err *err);

/*
 * Fetched keys and documents are used for their max-age (fetch.c), kept
 * between MIN and MAX seconds, DEFAULT without cache headers; never reused
 * after no-store or no-cache. An assertion no cached key verifies fetches
 * the keys again at most every JWKS_REFETCH seconds.
 */
#define MCPAUTH_CLIENT_CACHE_MIN 300
#define MCPAUTH_CLIENT_CACHE_MAX 86400
#define MCPAUTH_CLIENT_CACHE_DEFAULT 3600
#define MCPAUTH_CLIENT_JWKS_REFETCH 60

/* Until when something fetched with that max_age (-1: none) is used. */
long long mcpauth_client_cache_until(long max_age, long long now);

bool mcpauth_client_authenticate(struct mcpauth_store *store,
				 const struct mcpauth_conf *conf,
				 const char *authorization,
				 const struct mcpauth_form *form,
				 long long now, struct mcpauth_client **out,
				 struct mcpauth_err *err);

/* --- Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document) */

/*
 * True when client_id is an http(s) URL: meant as a metadata document's
 * address (mcpauth_client_document_url_ok then refuses http).
 */
bool mcpauth_client_id_is_url(const char *client_id);

/*
 * Checks a client_id URL before anything is fetched (draft §3): https, a
 * path other than "/", no fragment, no user information, no "." or ".."
 * segments (%2e spelled too), at most MCPAUTH_CLIENT_MAX_URI characters.
 * *host (may be NULL) gets its host, lower case (free it). Errors: 400
 * invalid_client, "a client_id URL must ...".
 */
bool mcpauth_client_document_url_ok(const char *url, char **host,
				    struct mcpauth_err *err);

/*
 * Validates a fetched metadata document for url and fills *out as
 * mcpauth_client_from_metadata does: client_id must be url exactly,
 * client_name and redirect_uris are required, no client_secret, no secret
 * methods, no client_credentials; private_key_jwt takes jwks_uri (https)
 * or jwks and token_endpoint_auth_signing_alg (default ES256). Errors:
 * 400 invalid_client, "the client's metadata document: ...".
 */
bool mcpauth_client_from_document(const struct mcpauth_conf *conf,
				  const char *url, const char *body,
				  size_t len, struct mcpauth_client *out,
				  struct mcpauth_err *err);

/* Metadata document fetches per host are limited per this many seconds. */
#define MCPAUTH_CLIENT_FETCH_WINDOW 600

/*
 * Fetches the metadata document at url (fetch.c, at most
 * conf->metadata_document_max_size bytes), validates it
 * (mcpauth_client_from_document) and stores the client with its cache
 * times (mcpauth_client_cache_until); *out is the stored client (free).
 * At most conf->metadata_document_fetch_limit fetches per host per
 * MCPAUTH_CLIENT_FETCH_WINDOW (429 temporarily_unavailable); each fetch is
 * an audit row (event fetch, rate_key "fetch:<host>"). Failures are never
 * cached: the stored row, if any, stays as it was.
 */
bool mcpauth_client_document_fetch(struct mcpauth_store *store,
				   const struct mcpauth_conf *conf,
				   const char *url, const char *address,
				   long long now, struct mcpauth_client **out,
				   struct mcpauth_err *err);

#endif

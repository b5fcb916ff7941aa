/*
 * jose.h: JWS/JWK through librhonabwy (the only file that includes it).
 * Claims and keys cross this boundary as JSON strings so json-c stays our
 * JSON library. Remote keys (jku, x5u, embedded jwk) are never fetched.
 */
#ifndef MCPAUTH_JOSE_H
#define MCPAUTH_JOSE_H

#include <stdbool.h>

#include "err.h"

/* Process-wide set-up and tear-down of the JOSE library. */
bool mcpauth_jose_init(struct mcpauth_err *err);
void mcpauth_jose_cleanup(void);

/* True for an algorithm we sign with: "ES256", "EdDSA", "RS256". */
bool mcpauth_jose_alg_supported(const char *alg);

/*
 * Generates a key pair for alg with the given kid. *priv_jwk is the private
 * JWK as JSON (a secret: wipe it), *pub_jwk the public JWK with kid, alg and
 * "use":"sig". Both owned by the caller.
 */
bool mcpauth_jose_generate(const char *alg, const char *kid, char **priv_jwk,
			   char **pub_jwk, struct mcpauth_err *err);

/* A private key imported once per process, ready to sign. */
struct mcpauth_jose_signer;

/* Imports a private JWK (JSON); it must match alg. */
bool mcpauth_jose_signer_new(const char *alg, const char *kid,
			     const char *priv_jwk,
			     struct mcpauth_jose_signer **out,
			     struct mcpauth_err *err);
void mcpauth_jose_signer_free(struct mcpauth_jose_signer *signer);
const char *mcpauth_jose_signer_kid(const struct mcpauth_jose_signer *signer);
const char *mcpauth_jose_signer_alg(const struct mcpauth_jose_signer *signer);

/*
 * Signs claims (a JSON object as a string) into a compact JWS with header
 * {"typ": typ, "alg": ..., "kid": ...}. typ is e.g. "at+jwt" (RFC 9068 §2.1).
 * *jwt is owned by the caller.
 */
bool mcpauth_jose_sign(const struct mcpauth_jose_signer *signer,
		       const char *typ, const char *claims_json, char **jwt,
		       struct mcpauth_err *err);

/*
 * Verifies the compact JWS jwt with the public JWK pub_jwk (JSON), accepting
 * only alg (never "none", never an algorithm the key's type does not have).
 * On success *header_json and *claims_json (owned by the caller, may be NULL
 * pointers if not wanted) hold the decoded header and claims. The key always
 * comes from the caller: headers naming jku, x5u or jwk are ignored.
 */
bool mcpauth_jose_verify(const char *pub_jwk, const char *alg, const char *jwt,
			 char **header_json, char **claims_json,
			 struct mcpauth_err *err);

#endif

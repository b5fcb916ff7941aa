/*
 * keys.h: signing keys. Private keys are JWK files (mode 0600) in key_dir,
 * public keys and their history are rows in the store. The active key signs;
 * pending and recently retired keys stay in the JWKS so tokens verify across
 * a rotation.
 */
#ifndef MCPAUTH_KEYS_H
#define MCPAUTH_KEYS_H

#include <stdbool.h>

#include "conf.h"
#include "err.h"
#include "jose.h"
#include "store.h"

/* Per-process cache of the imported active key. */
struct mcpauth_keys;

bool mcpauth_keys_new(const struct mcpauth_conf *conf,
		      struct mcpauth_keys **out, struct mcpauth_err *err);
void mcpauth_keys_free(struct mcpauth_keys *keys);

/*
 * The signer for the active key. Checks the store's active kid on every call
 * (one indexed read) and imports the private file only when it changed, so a
 * rotation reaches running FastCGI processes without a restart. Refuses a key
 * file that group or others can read. *out is borrowed from keys.
 */
bool mcpauth_keys_signer(struct mcpauth_keys *keys,
			 struct mcpauth_store *store,
			 const struct mcpauth_jose_signer **out,
			 struct mcpauth_err *err);

/* The JWKS document {"keys":[...]} at time now, owned by the caller. */
bool mcpauth_keys_jwks(struct mcpauth_store *store, long long now,
		       char **json, struct mcpauth_err *err);

/*
 * Verifies a JWT we signed: the key its header's kid names among the
 * published keys, with that key's algorithm (never the header's). On success
 * *claims_json (owned by the caller) holds the claims; the caller checks
 * them. A token that is not ours: 400 invalid_token.
 */
bool mcpauth_keys_verify(struct mcpauth_store *store, long long now,
			 const char *jwt, char **claims_json,
			 struct mcpauth_err *err);

/*
 * Generates a key (alg NULL: conf's signing_alg): writes the private file
 * first (0600, in a 0700 key_dir it creates if missing), then the row. It is
 * pending, or active when no key is. kid_out has room for 64 bytes.
 */
bool mcpauth_keys_generate(const struct mcpauth_conf *conf,
			   struct mcpauth_store *store, const char *alg,
			   char *kid_out, enum mcpauth_key_state *state_out,
			   struct mcpauth_err *err);

/*
 * Activates the newest pending key (generating one with alg first if there is
 * none), retires the active key (published for the access token lifetime plus
 * a minute of clock skew), and deletes the retired key's private file.
 * *unpublished (may be NULL) is true when the key now signing was generated
 * here, so resource servers never saw it in a JWKS before.
 */
bool mcpauth_keys_rotate(const struct mcpauth_conf *conf,
			 struct mcpauth_store *store, const char *alg,
			 char *kid_out, char *retired_out, bool *unpublished,
			 struct mcpauth_err *err);

#endif

/*
 * tokens.h: the tokens mcpauth issues. Access tokens are JWTs per RFC 9068
 * signed by the active key and recorded by jti; refresh tokens and codes
 * are random strings stored as hashes.
 */
#ifndef MCPAUTH_TOKENS_H
#define MCPAUTH_TOKENS_H

#include <stdbool.h>

#include "conf.h"
#include "err.h"
#include "keys.h"
#include "store.h"

/* Random bytes in codes, refresh tokens, session and request ids. */
#define MCPAUTH_TOKEN_BYTES 32

/* What an access token says. */
struct mcpauth_token_claims {
	const char *client_id;
	const char *subject;   /* the user's subject; NULL: the client's own */
	long long user_id;     /* 0 for a machine client */
	long long auth_time;   /* 0: no user sign-in */
	const char *resource;  /* aud */
	const char *scope;
	const char *family_id; /* NULL: no refresh family */
};

/*
 * Signs an access token (typ at+jwt; iss, sub, aud, client_id, scope, iat,
 * exp, jti, auth_time when a user signed in, principal_type) with the
 * active key, valid for access_token_lifetime. *jwt is owned by the
 * caller; *rec is the token's row, for mcpauth_store_access_add in the
 * transaction that commits the grant, and borrows claims' strings.
 *
 * Nothing here writes: sign before taking the write lock. The signature is
 * most of a grant's CPU time, and a lock held through it queues every
 * other writer behind it (bench/README.md).
 *
 * Users and machines never look alike: a user's token has the user's
 * random subject as sub (base64url) and principal_type "user"; a machine
 * client's own token (claims->subject NULL) has sub "client:<client_id>"
 * and principal_type "client".
 */
bool mcpauth_tokens_access(const struct mcpauth_conf *conf,
			   struct mcpauth_keys *keys,
			   struct mcpauth_store *store,
			   const struct mcpauth_token_claims *claims,
			   long long now, char **jwt, struct mcpauth_access *rec,
			   struct mcpauth_err *err);

/*
 * A new random value (MCPAUTH_TOKEN_BYTES, base64url) and its stored hash,
 * both owned by the caller (wipe the value with mcpauth_crypto_free_secret).
 */
bool mcpauth_tokens_random(char **value, char **hash, struct mcpauth_err *err);

#endif

/*
 * signin.h: the sign-in step, who the user at the browser is. Local users
 * with argon2id passwords today; sign-in through an upstream identity
 * provider plugs in here later, returning the same struct mcpauth_user.
 */
#ifndef MCPAUTH_SIGNIN_H
#define MCPAUTH_SIGNIN_H

#include <stdbool.h>

#include "err.h"
#include "store.h"

/*
 * Checks username and password against the users table. *out is the user
 * (owned by the caller) or NULL when the name is unknown, the user disabled
 * or the password wrong: the three take the same time and look the same.
 * A stored hash with old parameters is replaced at a successful sign-in.
 * Errors are internal failures only.
 */
bool mcpauth_signin_password(struct mcpauth_store *store, const char *username,
			     const char *password, long long now,
			     struct mcpauth_user **out, struct mcpauth_err *err);

#endif

/* password.h: user password hashing with argon2id, in PHC string form. */
#ifndef MCPAUTH_PASSWORD_H
#define MCPAUTH_PASSWORD_H

#include <stdbool.h>

#include "err.h"

/* Longest password accepted, in bytes (the shortest is 1). */
#define MCPAUTH_PASSWORD_MAX 1024

/*
 * The parameters new hashes use: RFC 9106 §4 "second recommended option" as
 * OWASP's Password Storage Cheat Sheet lowers it (m=19 MiB, t=2, p=1).
 */
#define MCPAUTH_PASSWORD_M_COST 19456
#define MCPAUTH_PASSWORD_T_COST 2
#define MCPAUTH_PASSWORD_PARALLELISM 1
#define MCPAUTH_PASSWORD_SALT_LEN 16
#define MCPAUTH_PASSWORD_TAG_LEN 32

/*
 * The most a stored hash may ask of verification; beyond this the hash is
 * malformed, so a tampered row cannot make a login take minutes or gigabytes.
 */
#define MCPAUTH_PASSWORD_M_COST_MAX 262144
#define MCPAUTH_PASSWORD_T_COST_MAX 10
#define MCPAUTH_PASSWORD_PARALLELISM_MAX 8

/*
 * Hashes password (1 to MCPAUTH_PASSWORD_MAX bytes, else 400 invalid_request)
 * with argon2id, the parameters above and a fresh random salt, into a new PHC
 * string "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>" (unpadded standard
 * base64). *encoded is owned by the caller (free); set only on success.
 */
bool mcpauth_password_hash(const char *password, char **encoded,
			   struct mcpauth_err *err);

/*
 * Sets *match to whether password matches encoded, an argon2id or argon2i PHC
 * string (v=19, v=16 or no version), with the parameters it carries; the tags
 * are compared in constant time. A password outside 1 to MCPAUTH_PASSWORD_MAX
 * bytes is 400 invalid_request, checked before any work. A malformed encoded
 * string (syntax, argon2d, parameters beyond the maxima above, salt or tag
 * over 64 bytes) is 500 server_error with the reason in err->detail, never a
 * mismatch. *match is set only on success.
 */
bool mcpauth_password_verify(const char *encoded, const char *password,
			     bool *match, struct mcpauth_err *err);

/*
 * Spends the time of one mcpauth_password_verify against a hash with the
 * current parameters, for unknown or disabled users, so the response time
 * does not tell whether a username exists. Returns at once, as verify does,
 * for a password of the wrong length.
 */
void mcpauth_password_dummy(const char *password);

/*
 * True when encoded is weaker than what mcpauth_password_hash makes now
 * (argon2i, v=16, smaller m or t, shorter salt or tag) or is malformed: hash
 * the password again after a successful login and store the new string.
 */
bool mcpauth_password_needs_rehash(const char *encoded);

#endif

/*
 * store.h: persistent state behind a backend-neutral API. The SQLite backend
 * (store.c, the only file that includes sqlite3.h) implements it; a PostgreSQL
 * backend for multi-server deployments would implement the same functions.
 * Callers never see SQL.
 */
#ifndef MCPAUTH_STORE_H
#define MCPAUTH_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct mcpauth_store;

enum mcpauth_store_flags {
	MCPAUTH_STORE_CREATE = 1, /* create the file if missing (admin init) */
};

/* Opens the database (WAL, busy timeout, foreign keys). */
bool mcpauth_store_open(const char *path, int flags,
			struct mcpauth_store **out, struct mcpauth_err *err);
void mcpauth_store_free(struct mcpauth_store *store);

/* The schema version this build expects (the number of migrations). */
int mcpauth_store_schema_version(void);

/* The version the database is at (0 for an empty database). */
bool mcpauth_store_version(struct mcpauth_store *store, int *version,
			   struct mcpauth_err *err);

/*
 * Applies every pending migration, each in its own transaction together with
 * its PRAGMA user_version. *from and *to (may be NULL) report the versions.
 * A database newer than this build is refused.
 */
bool mcpauth_store_migrate(struct mcpauth_store *store, int *from, int *to,
			   struct mcpauth_err *err);

/*
 * Checks the version is the expected one and prepares every statement. The
 * programs call it once per process and refuse to serve when it fails; the
 * error names the command that migrates.
 */
bool mcpauth_store_ready(struct mcpauth_store *store, struct mcpauth_err *err);

enum mcpauth_key_state {
	MCPAUTH_KEY_PENDING, /* published in the JWKS, not yet signing */
	MCPAUTH_KEY_ACTIVE,  /* signs new tokens; exactly one at a time */
	MCPAUTH_KEY_RETIRED, /* published until publish_until, then gone */
};

/* A signing key's public half and history; the private half is a file. */
struct mcpauth_signing_key {
	char kid[64];
	char alg[16];
	char *public_jwk; /* JSON, owned */
	enum mcpauth_key_state state;
	long long created_at; /* unix seconds, 0 when unset */
	long long activated_at;
	long long retired_at;
	long long publish_until;
};

const char *mcpauth_store_key_state_name(enum mcpauth_key_state state);

/* Inserts a new key as pending, or as active when there is no active key. */
bool mcpauth_store_key_add(struct mcpauth_store *store,
			   const struct mcpauth_signing_key *key,
			   enum mcpauth_key_state *state_out,
			   struct mcpauth_err *err);

/*
 * Makes kid (a pending key) active and retires the active key, which stays
 * published until retire_publish_until; one transaction. *retired_kid (size
 * 64, may be NULL) names the key retired, "" when there was none.
 */
bool mcpauth_store_key_activate(struct mcpauth_store *store, const char *kid,
				long long now, long long retire_publish_until,
				char *retired_kid, struct mcpauth_err *err);

/* Every key, newest first. *keys is owned by the caller. */
bool mcpauth_store_key_list(struct mcpauth_store *store,
			    struct mcpauth_signing_key **keys, size_t *count,
			    struct mcpauth_err *err);

/* The keys a JWKS publishes at time now: pending, active, retired unexpired. */
bool mcpauth_store_key_published(struct mcpauth_store *store, long long now,
				 struct mcpauth_signing_key **keys,
				 size_t *count, struct mcpauth_err *err);

/* The active key's kid and alg into out (public_jwk left NULL); *found. */
bool mcpauth_store_key_active(struct mcpauth_store *store,
			      struct mcpauth_signing_key *out, bool *found,
			      struct mcpauth_err *err);

void mcpauth_store_keys_free(struct mcpauth_signing_key *keys, size_t count);

#endif

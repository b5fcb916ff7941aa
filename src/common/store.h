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

#include "client.h"
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

/* One row of the audit trail; every string borrowed, may be NULL. */
struct mcpauth_audit {
	long long at;
	const char *event;   /* register, read, update, delete, gc */
	bool refused;
	const char *actor;   /* client, admin, gc */
	const char *client_id;
	const char *address;
	const char *software_id;
	const char *client_name;
	const char *error;   /* RFC error code of a refusal */
	const char *detail;  /* its description; never a secret */
};

/* Appends one audit row on its own (refusals, reads). */
bool mcpauth_store_audit_add(struct mcpauth_store *store,
			     const struct mcpauth_audit *audit,
			     struct mcpauth_err *err);

/*
 * Audit rows of event from address at or after since, for a sliding-window
 * rate limit: *count of them except refusals with temporarily_unavailable
 * (the rate limit's and the cap's own, so that Retry-After is exact),
 * *oldest the time of the oldest counted (0 when none), *busy the number of
 * those refusals.
 */
bool mcpauth_store_audit_count(struct mcpauth_store *store, const char *event,
			       const char *address, long long since,
			       long *count, long long *oldest, long *busy,
			       struct mcpauth_err *err);

/*
 * Inserts client with its audit row in one transaction. When max_dynamic > 0
 * and client->source is "dynamic", refuses with 503 temporarily_unavailable
 * once that many dynamic clients exist. When client->initial_token_id is set
 * its use is counted in the same transaction.
 */
bool mcpauth_store_client_add(struct mcpauth_store *store,
			      const struct mcpauth_client *client,
			      long max_dynamic,
			      const struct mcpauth_audit *audit,
			      struct mcpauth_err *err);

/* The client with client_id in *out (owned by the caller), or NULL. */
bool mcpauth_store_client_get(struct mcpauth_store *store,
			      const char *client_id,
			      struct mcpauth_client **out,
			      struct mcpauth_err *err);

/*
 * Replaces the metadata, secret and updated_at of the stored client with
 * the same client_id, with its audit row, in one transaction. *found is
 * false when there is no such client.
 */
bool mcpauth_store_client_replace(struct mcpauth_store *store,
				  const struct mcpauth_client *client,
				  const struct mcpauth_audit *audit,
				  bool *found, struct mcpauth_err *err);

/*
 * Deletes the client, and by foreign keys everything issued to it, with its
 * audit row, in one transaction. *found is false when there was none.
 */
bool mcpauth_store_client_delete(struct mcpauth_store *store,
				 const char *client_id,
				 const struct mcpauth_audit *audit,
				 bool *found, struct mcpauth_err *err);

/* Every client, newest first; free with mcpauth_store_clients_free. */
bool mcpauth_store_client_list(struct mcpauth_store *store,
			       struct mcpauth_client ***clients,
			       size_t *count, struct mcpauth_err *err);
void mcpauth_store_clients_free(struct mcpauth_client **clients,
				size_t count);

/* Records that the client was used now (authorization, token). */
bool mcpauth_store_client_touch(struct mcpauth_store *store,
				const char *client_id, long long now,
				struct mcpauth_err *err);

/*
 * Housekeeping, one transaction: removes dynamic clients idle since before
 * idle_before (0: keep them), each with a gc audit row, then audit rows
 * older than audit_before (0: keep them). Counts go to the out-params.
 */
bool mcpauth_store_gc(struct mcpauth_store *store, long long now,
		      long long idle_before, long long audit_before,
		      long *clients_removed, long *audit_removed,
		      struct mcpauth_err *err);

/* An initial access token (RFC 7591 §3) as stored. */
struct mcpauth_initial_token {
	long long id;
	char label[128];
	long long created_at;
	long long expires_at; /* 0: never */
	long long revoked_at; /* 0: not revoked */
	long long uses;
	long long last_used_at;
};

/* Stores a new token by its hash; *id is its number. */
bool mcpauth_store_initial_token_add(struct mcpauth_store *store,
				     const char *label, const char *hash,
				     long long created_at,
				     long long expires_at, long long *id,
				     struct mcpauth_err *err);

/*
 * The id of the usable (not revoked, not expired) token with this hash in
 * *id, or 0.
 */
bool mcpauth_store_initial_token_find(struct mcpauth_store *store,
				      const char *hash, long long now,
				      long long *id, struct mcpauth_err *err);

bool mcpauth_store_initial_token_list(struct mcpauth_store *store,
				      struct mcpauth_initial_token **tokens,
				      size_t *count, struct mcpauth_err *err);

/* Revokes token id; *found is false when there is no such token. */
bool mcpauth_store_initial_token_revoke(struct mcpauth_store *store,
					long long id, long long now,
					bool *found, struct mcpauth_err *err);

#endif

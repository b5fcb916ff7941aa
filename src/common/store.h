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
	int status;          /* the HTTP status answered, 0: none */
	const char *rate_key; /* what the rate limit counts by */
	const char *username; /* a sign-in's username, never a password */
};

/*
 * Failed sign-ins (audit rows of event login, refused) at or after since:
 * *by_key from rate_key, *by_user for username.
 */
bool mcpauth_store_login_failures(struct mcpauth_store *store,
				  const char *rate_key, const char *username,
				  long long since, long *by_key, long *by_user,
				  struct mcpauth_err *err);

/* A sliding-window rate limit over the audit trail. */
struct mcpauth_rate {
	const char *key;   /* rate_key of the rows to count */
	long limit;        /* 0: no limit */
	long long since;   /* the window's start */
	long long oldest;  /* out: the oldest counted row, when refused */
};

/* Appends one audit row on its own (refusals, reads). */
bool mcpauth_store_audit_add(struct mcpauth_store *store,
			     const struct mcpauth_audit *audit,
			     struct mcpauth_err *err);

enum mcpauth_rate_kind {
	/* registrations: every attempt but the limit's own refusals */
	MCPAUTH_RATE_REGISTER,
	/* refused reads, updates and deletes (RFC 7592 token guessing) */
	MCPAUTH_RATE_MANAGE_REFUSED,
	/* outbound fetches (audit rows of event fetch) for one host */
	MCPAUTH_RATE_FETCH,
};

/*
 * Counts the rows of kind in rate's window with rate->key: *count those
 * that count (never the limit's own 429 refusals, so Retry-After is exact),
 * rate->oldest the time of the oldest of them, *limited the 429 refusals.
 */
bool mcpauth_store_rate_count(struct mcpauth_store *store,
			      enum mcpauth_rate_kind kind,
			      struct mcpauth_rate *rate, long *count,
			      long *limited, struct mcpauth_err *err);

/*
 * Inserts client with its audit row in one transaction. When max_dynamic > 0
 * and client->source is "dynamic", refuses with 503 temporarily_unavailable
 * once that many dynamic clients exist; when rate (may be NULL) has a limit,
 * with 429 temporarily_unavailable once the window holds that many
 * registrations (counted inside the transaction, so parallel requests
 * cannot overshoot). When client->initial_token_id is set its use is counted
 * in the same transaction.
 */
bool mcpauth_store_client_add(struct mcpauth_store *store,
			      const struct mcpauth_client *client,
			      long max_dynamic, struct mcpauth_rate *rate,
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
 * Housekeeping, one transaction: removes dynamic clients neither created
 * nor used since idle_before (0: keep them) and those never used and
 * created before unused_before (0: keep them), each with a gc audit row;
 * then audit rows older than audit_before (0: keep them). An update
 * (RFC 7592 PUT) does not count as use. Counts go to the out-params.
 */
bool mcpauth_store_gc(struct mcpauth_store *store, long long now,
		      long long idle_before, long long unused_before,
		      long long audit_before, long *clients_removed,
		      long *audit_removed, struct mcpauth_err *err);

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

/* --- transactions --------------------------------------------------------- */

/*
 * BEGIN IMMEDIATE / COMMIT / ROLLBACK, for callers that combine several of
 * the functions below into one atomic step (redeeming a code, rotating a
 * refresh token). The functions marked "in the caller's transaction" never
 * begin or end one themselves; the others do and must not be called inside
 * one. rollback is a no-op outside a transaction.
 */
bool mcpauth_store_begin(struct mcpauth_store *store, struct mcpauth_err *err);
bool mcpauth_store_commit(struct mcpauth_store *store, struct mcpauth_err *err);
void mcpauth_store_rollback(struct mcpauth_store *store);

/* --- users and sessions ---------------------------------------------------- */

/* A local user. password_hash is an argon2id PHC string, owned. */
struct mcpauth_user {
	long long id;
	char username[128];
	char subject[64];  /* the access token's sub */
	char *password_hash;
	long long created_at;
	long long disabled_at; /* 0: enabled */
	long long last_login_at;
};

void mcpauth_user_free(struct mcpauth_user *user);
void mcpauth_store_users_free(struct mcpauth_user *users, size_t count);

/* Adds a user; a taken username is 400 invalid_request. *id may be NULL. */
bool mcpauth_store_user_add(struct mcpauth_store *store, const char *username,
			    const char *subject, const char *password_hash,
			    long long now, long long *id,
			    struct mcpauth_err *err);

/* The user named username, or *out NULL. */
bool mcpauth_store_user_get(struct mcpauth_store *store, const char *username,
			    struct mcpauth_user **out, struct mcpauth_err *err);

/* The user with id, or *out NULL. */
bool mcpauth_store_user_get_id(struct mcpauth_store *store, long long id,
			       struct mcpauth_user **out,
			       struct mcpauth_err *err);

/* Every user by username (password_hash left NULL). */
bool mcpauth_store_user_list(struct mcpauth_store *store,
			     struct mcpauth_user **users, size_t *count,
			     struct mcpauth_err *err);

/*
 * Replaces the password hash. With revoke_at > 0 (a password change) it
 * also ends the user's sessions and revokes the user's refresh and access
 * tokens; with 0 (a rehash at sign-in) it changes nothing else. *found.
 */
bool mcpauth_store_user_set_password(struct mcpauth_store *store,
				     const char *username, const char *hash,
				     long long revoke_at, bool *found,
				     struct mcpauth_err *err);

/*
 * Disables (at > 0) or enables (at 0) a user. Disabling ends the user's
 * sessions and revokes every refresh and access token issued for the user.
 * *found.
 */
bool mcpauth_store_user_set_disabled(struct mcpauth_store *store,
				     const char *username, long long at,
				     bool *found, struct mcpauth_err *err);

/* Records a successful sign-in. */
bool mcpauth_store_user_login(struct mcpauth_store *store, long long id,
			      long long now, struct mcpauth_err *err);

/* Stores a session by the hash of its id. */
bool mcpauth_store_session_add(struct mcpauth_store *store, const char *id_hash,
			       long long user_id, long long auth_time,
			       long long now, long long expires_at,
			       struct mcpauth_err *err);

/*
 * The unexpired session with id_hash whose user is enabled: *user_id and
 * *auth_time, or *found false.
 */
bool mcpauth_store_session_get(struct mcpauth_store *store, const char *id_hash,
			       long long now, long long *user_id,
			       long long *auth_time, bool *found,
			       struct mcpauth_err *err);

bool mcpauth_store_session_delete(struct mcpauth_store *store,
				  const char *id_hash, struct mcpauth_err *err);

/* --- authorization requests and consents ------------------------------------ */

/* A validated authorization request waiting for sign-in or consent. */
struct mcpauth_authz_request {
	char *browser_hash;
	char *csrf_hash;
	char *client_id;
	char *redirect_uri;
	char *scope;
	char *resource;
	char *state;          /* may be NULL */
	char *code_challenge;
	bool force_login;
	bool force_consent;
	char *session_hash;   /* NULL until a session signed in for it */
	long long created_at;
	long long expires_at;
	char *rate_key;       /* the requester's address (or /64); not read back */
};

void mcpauth_authz_request_free(struct mcpauth_authz_request *r);

/*
 * Stores a request, in one transaction that first deletes expired ones and,
 * when max_pending > 0 and r->rate_key is set, refuses with 429
 * temporarily_unavailable once that many unexpired requests of the same
 * rate key exist: anonymous browsers cannot make the table grow unbounded.
 */
bool mcpauth_store_authz_add(struct mcpauth_store *store, const char *id_hash,
			     const struct mcpauth_authz_request *r,
			     long max_pending, struct mcpauth_err *err);

/* The unexpired request with id_hash, or *out NULL. */
bool mcpauth_store_authz_get(struct mcpauth_store *store, const char *id_hash,
			     long long now,
			     struct mcpauth_authz_request **out,
			     struct mcpauth_err *err);

/* Records the session that signed in for the request; clears force_login. */
bool mcpauth_store_authz_set_session(struct mcpauth_store *store,
				     const char *id_hash,
				     const char *session_hash,
				     struct mcpauth_err *err);

/*
 * Deletes the request; *found (may be NULL) tells whether this call did,
 * so that of concurrent answers to one request exactly one goes on.
 */
bool mcpauth_store_authz_delete(struct mcpauth_store *store,
				const char *id_hash, bool *found,
				struct mcpauth_err *err);

/* Replaces the request's CSRF hash; *found false when it is gone. */
bool mcpauth_store_authz_set_csrf(struct mcpauth_store *store,
				  const char *id_hash, const char *csrf_hash,
				  bool *found, struct mcpauth_err *err);

/* Replaces the request's scope (narrowed to a metadata document's). */
bool mcpauth_store_authz_set_scope(struct mcpauth_store *store,
				   const char *id_hash, const char *scope,
				   struct mcpauth_err *err);

/* The scope the user granted the client at resource, *scope NULL if none. */
bool mcpauth_store_consent_get(struct mcpauth_store *store, long long user_id,
			       const char *client_id, const char *resource,
			       char **scope, struct mcpauth_err *err);

/* Stores (replaces) the granted scope. */
bool mcpauth_store_consent_set(struct mcpauth_store *store, long long user_id,
			       const char *client_id, const char *resource,
			       const char *scope, long long now,
			       struct mcpauth_err *err);

/*
 * Revokes consents: of user (username) for client_id, or for every client
 * when client_id is NULL, with the refresh and access tokens they led to
 * (revoked at now). *count says how many consents.
 */
bool mcpauth_store_consent_revoke(struct mcpauth_store *store,
				  const char *username, const char *client_id,
				  long long now, long *count,
				  struct mcpauth_err *err);

/* Sets the client's first_party flag (consent skipped). *found. */
bool mcpauth_store_client_set_first_party(struct mcpauth_store *store,
					  const char *client_id,
					  bool first_party, bool *found,
					  struct mcpauth_err *err);

/* --- codes and tokens ---------------------------------------------------- */

/* An authorization code's binding (RFC 6749 §4.1.2, RFC 7636, RFC 8707). */
struct mcpauth_code {
	char *client_id;
	long long user_id;
	char *redirect_uri;
	char *code_challenge;
	char *resource;
	char *scope;
	long long auth_time;
	long long created_at;
	long long expires_at;
	long long consumed_at; /* 0: not yet */
	char *family_id;       /* set at redemption */
};

void mcpauth_code_free(struct mcpauth_code *code);

bool mcpauth_store_code_add(struct mcpauth_store *store, const char *code_hash,
			    const struct mcpauth_code *code,
			    struct mcpauth_err *err);

/* In the caller's transaction: the code with code_hash, or *out NULL. */
bool mcpauth_store_code_get(struct mcpauth_store *store, const char *code_hash,
			    struct mcpauth_code **out, struct mcpauth_err *err);

/*
 * In the caller's transaction: marks the code redeemed, recording the
 * family issued for it. *won is false when it was redeemed already.
 */
bool mcpauth_store_code_consume(struct mcpauth_store *store,
				const char *code_hash, const char *family_id,
				long long now, bool *won,
				struct mcpauth_err *err);

/* A refresh token as stored. */
struct mcpauth_refresh {
	char *family_id;
	char *client_id;
	long long user_id;
	char *resource;
	char *scope;
	long long auth_time;
	long long created_at;
	long long expires_at;
	long long rotated_at; /* 0: current member of its family */
	long long revoked_at; /* 0: not revoked */
};

void mcpauth_refresh_free(struct mcpauth_refresh *r);

/* In the caller's transaction. */
bool mcpauth_store_refresh_add(struct mcpauth_store *store,
			       const char *token_hash,
			       const struct mcpauth_refresh *r,
			       struct mcpauth_err *err);

/* In the caller's transaction: the token with token_hash, or *out NULL. */
bool mcpauth_store_refresh_get(struct mcpauth_store *store,
			       const char *token_hash,
			       struct mcpauth_refresh **out,
			       struct mcpauth_err *err);

/*
 * In the caller's transaction: marks the token rotated if it is current and
 * not revoked; *won false otherwise.
 */
bool mcpauth_store_refresh_rotate(struct mcpauth_store *store,
				  const char *token_hash, long long now,
				  bool *won, struct mcpauth_err *err);

/*
 * In the caller's transaction: revokes every refresh and access token of
 * the family.
 */
bool mcpauth_store_family_revoke(struct mcpauth_store *store,
				 const char *family_id, long long now,
				 struct mcpauth_err *err);

/* An issued access token (a JWT) by its jti. */
struct mcpauth_access {
	char jti[64];
	char family_id[64]; /* "" for none */
	char *client_id;
	long long user_id;  /* 0: a machine client's token */
	char *resource;
	char *scope;
	long long issued_at;
	long long expires_at;
	long long revoked_at;
};

void mcpauth_access_free(struct mcpauth_access *a);

/* In the caller's transaction. */
bool mcpauth_store_access_add(struct mcpauth_store *store,
			      const struct mcpauth_access *a,
			      struct mcpauth_err *err);

/* The access token with jti, or *out NULL. */
bool mcpauth_store_access_get(struct mcpauth_store *store, const char *jti,
			      struct mcpauth_access **out,
			      struct mcpauth_err *err);

/* Revokes one access token; *found. */
bool mcpauth_store_access_revoke(struct mcpauth_store *store, const char *jti,
				 long long now, bool *found,
				 struct mcpauth_err *err);

/*
 * Housekeeping for sign-in and tokens: removes expired sessions,
 * authorization requests, codes (expired over a day), refresh tokens and
 * access tokens past their expiry. *removed counts rows.
 */
bool mcpauth_store_gc_tokens(struct mcpauth_store *store, long long now,
			     long *removed, struct mcpauth_err *err);

/* --- operator-provisioned clients ------------------------------------------- */

/*
 * Replaces the client's secret hash (expiring at expires_at, 0: never);
 * the old hash stays valid until previous_until (0: not at all). *found.
 */
bool mcpauth_store_client_set_secret(struct mcpauth_store *store,
				     const char *client_id, const char *hash,
				     long long expires_at,
				     long long previous_until, bool *found,
				     struct mcpauth_err *err);

/* Disables (at > 0) or enables (at 0) a client. *found. */
bool mcpauth_store_client_set_disabled(struct mcpauth_store *store,
				       const char *client_id, long long at,
				       bool *found, struct mcpauth_err *err);

/*
 * Replaces a private_key_jwt client's keys: jwks, signing_alg, jwks_uri,
 * jwks_fetched_at and jwks_expires_at of keys (for keys->client_id).
 * *found.
 */
bool mcpauth_store_client_set_keys(struct mcpauth_store *store,
				   const struct mcpauth_client *keys,
				   bool *found, struct mcpauth_err *err);

/*
 * Adds a metadata document client not fetched yet (source
 * metadata_document, document_fetched_at 0) unless the client_id exists.
 */
bool mcpauth_store_client_document_pending(struct mcpauth_store *store,
					   const struct mcpauth_client *client,
					   struct mcpauth_err *err);

/*
 * Stores a freshly fetched metadata document client: inserted, or its
 * metadata, keys and document times replaced (only ever a row of source
 * metadata_document). Keys cached from an unchanged jwks_uri are kept.
 */
bool mcpauth_store_client_document_save(struct mcpauth_store *store,
					const struct mcpauth_client *client,
					struct mcpauth_err *err);

/*
 * Caches the keys fetched from a client's jwks_uri, unless the client's
 * jwks_uri changed meanwhile (then nothing is written).
 */
bool mcpauth_store_client_jwks_fetched(struct mcpauth_store *store,
				       const char *client_id,
				       const char *jwks_uri, const char *jwks,
				       long long fetched_at,
				       long long expires_at,
				       struct mcpauth_err *err);

/*
 * Records a client assertion's jti, kept until expires_at: *fresh is false
 * when the client used it already (RFC 7523 §3), also under concurrent
 * presentation (one INSERT wins). Expired ids are removed on the way.
 */
bool mcpauth_store_assertion_jti(struct mcpauth_store *store,
				 const char *client_id, const char *jti,
				 long long expires_at, long long now,
				 bool *fresh, struct mcpauth_err *err);

/* --- what the operator reads: consents, audit trail, statistics ------------ */

/* A consent as mcpauth-admin consent list shows it; strings owned. */
struct mcpauth_consent_row {
	char *username;
	char *client_id;
	char *client_name; /* NULL when the client gave none */
	char *resource;
	char *scope;       /* space-separated */
	long long granted_at;
};

/*
 * The consents of the user named username (NULL: of every user), newest
 * first. *rows is owned by the caller: mcpauth_store_consent_rows_free.
 */
bool mcpauth_store_consent_list(struct mcpauth_store *store,
				const char *username,
				struct mcpauth_consent_row **rows,
				size_t *count, struct mcpauth_err *err);
void mcpauth_store_consent_rows_free(struct mcpauth_consent_row *rows,
				     size_t count);

/* Which audit rows mcpauth_store_audit_list returns. */
struct mcpauth_audit_filter {
	const char *event;     /* NULL: any */
	const char *client_id; /* NULL: any */
	const char *address;   /* NULL: any; compared exactly */
	long long since;       /* rows at or after it (0: all) */
	long limit;            /* at most this many rows, > 0 */
};

/* An audit row as read back; strings owned, NULL when the column is. */
struct mcpauth_audit_row {
	long long id;
	long long at;
	char *event;
	char *outcome;  /* ok or refused */
	char *actor;
	char *client_id;
	char *address;
	char *username;
	char *client_name;
	char *error;
	char *detail;
	int status;     /* the HTTP status answered, 0: none */
};

/*
 * The audit rows that match filter, newest first (by time, then id).
 * Every filter value is a bound parameter. *rows is owned by the caller:
 * mcpauth_store_audit_rows_free.
 */
bool mcpauth_store_audit_list(struct mcpauth_store *store,
			      const struct mcpauth_audit_filter *filter,
			      struct mcpauth_audit_row **rows, size_t *count,
			      struct mcpauth_err *err);
void mcpauth_store_audit_rows_free(struct mcpauth_audit_row *rows,
				   size_t count);

/* Days of access-token counts in struct mcpauth_stats. */
#define MCPAUTH_STATS_DAYS 7

/* What mcpauth-admin stats prints. */
struct mcpauth_stats {
	long clients_dynamic;
	long clients_operator;
	long clients_metadata_document;
	long clients_disabled;
	long users_enabled;
	long users_disabled;
	long active_grants;       /* refresh-token families unrevoked, unexpired */
	long consents;
	long access_tokens_valid; /* unrevoked, unexpired */
	long failed_signins;      /* login refused, last 24 hours */
	long registrations;       /* register ok over HTTP, last 24 hours */
	long registrations_refused;
	/*
	 * Access tokens issued on each UTC day, oldest first, the last being
	 * today (day_start[i] its first second). Only the rows still
	 * recorded: gc removes expired access tokens.
	 */
	long long day_start[MCPAUTH_STATS_DAYS];
	long access_tokens_issued[MCPAUTH_STATS_DAYS];
};

/* Fills *out as of now (unix seconds). */
bool mcpauth_store_stats(struct mcpauth_store *store, long long now,
			 struct mcpauth_stats *out, struct mcpauth_err *err);

/* --- what the operator revokes ---------------------------------------------- */

/* The tokens mcpauth_store_tokens_revoke revokes: the key's meaning. */
enum mcpauth_revoke_by {
	MCPAUTH_REVOKE_BY_CLIENT, /* key: a client_id */
	MCPAUTH_REVOKE_BY_USER,   /* key: a username */
	MCPAUTH_REVOKE_BY_FAMILY, /* key: a refresh-token family_id */
};

/*
 * The client and the user (NULL for a machine client's tokens) of the
 * refresh-token family or access tokens with family_id; *found false, both
 * NULL, when no token has it. Strings owned by the caller.
 */
bool mcpauth_store_family_find(struct mcpauth_store *store,
			       const char *family_id, char **client_id,
			       char **username, bool *found,
			       struct mcpauth_err *err);

/*
 * Revokes (revoked_at = now) every unrevoked refresh and access token of
 * the client, user or family key, and appends audit (may be NULL; its
 * detail, when set, is followed by ": " and the counts), in one
 * transaction. *refresh and *access count the tokens revoked by this call.
 * An unknown key revokes nothing and is not an error.
 */
bool mcpauth_store_tokens_revoke(struct mcpauth_store *store,
				 enum mcpauth_revoke_by by, const char *key,
				 long long now,
				 const struct mcpauth_audit *audit,
				 long *refresh, long *access,
				 struct mcpauth_err *err);

#endif

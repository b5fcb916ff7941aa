/*
 * store.c: the SQLite backend of store.h, the only file that includes
 * sqlite3.h (OpenSMTPD table_sqlite.c style): statements live in one
 * enum-indexed table, prepared once per process; every path binds, steps and
 * resets. Read-then-write runs under BEGIN IMMEDIATE, because a deferred
 * transaction that upgrades to a writer gets SQLITE_BUSY without waiting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "json.h"
#include "log.h"
#include "migrations.h"
#include "store.h"

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_KEY_INSERT,
	ST_KEY_HAS_ACTIVE,
	ST_KEY_ACTIVE,
	ST_KEY_LIST,
	ST_KEY_PUBLISHED,
	ST_KEY_RETIRE,
	ST_KEY_ACTIVATE,
	ST_AUDIT_INSERT,
	ST_RATE_REGISTER,
	ST_RATE_MANAGE,
	ST_CLIENT_COUNT_DYNAMIC,
	ST_CLIENT_INSERT,
	ST_CLIENT_GET,
	ST_CLIENT_SET_SECRET,
	ST_CLIENT_SET_DISABLED,
	ST_CLIENT_SET_KEYS,
	ST_CLIENT_JWKS_FETCHED,
	ST_CLIENT_DOC_PENDING,
	ST_CLIENT_DOC_SAVE,
	ST_RATE_FETCH,
	ST_GC_PENDING_DOCS,
	ST_JTI_EXPIRE,
	ST_JTI_INSERT,
	ST_CLIENT_LIST,
	ST_CLIENT_UPDATE,
	ST_CLIENT_DELETE,
	ST_CLIENT_TOUCH,
	ST_GC_CLIENTS,
	ST_GC_AUDIT,
	ST_IAT_INSERT,
	ST_IAT_FIND,
	ST_IAT_USE,
	ST_IAT_LIST,
	ST_IAT_REVOKE,
	ST_USER_INSERT,
	ST_USER_GET,
	ST_USER_GET_ID,
	ST_USER_LIST,
	ST_USER_SET_PASSWORD,
	ST_USER_SET_DISABLED,
	ST_USER_SESSIONS_DELETE,
	ST_USER_REFRESH_REVOKE,
	ST_USER_ACCESS_REVOKE,
	ST_USER_LOGIN,
	ST_SESSION_INSERT,
	ST_SESSION_GET,
	ST_SESSION_DELETE,
	ST_AUTHZ_INSERT,
	ST_AUTHZ_GET,
	ST_AUTHZ_SET_SESSION,
	ST_AUTHZ_DELETE,
	ST_AUTHZ_EXPIRE,
	ST_AUTHZ_PENDING,
	ST_LOGIN_FAILURES_KEY,
	ST_LOGIN_FAILURES_USER,
	ST_AUTHZ_SET_CSRF,
	ST_AUTHZ_SET_SCOPE,
	ST_CONSENT_GET,
	ST_CONSENT_SET,
	ST_CONSENT_REVOKE,
	ST_CONSENT_REVOKE_REFRESH,
	ST_CONSENT_REVOKE_ACCESS,
	ST_CLIENT_FIRST_PARTY,
	ST_CODE_INSERT,
	ST_CODE_GET,
	ST_CODE_CONSUME,
	ST_REFRESH_INSERT,
	ST_REFRESH_GET,
	ST_REFRESH_ROTATE,
	ST_FAMILY_REFRESH_REVOKE,
	ST_FAMILY_ACCESS_REVOKE,
	ST_ACCESS_INSERT,
	ST_ACCESS_GET,
	ST_ACCESS_REVOKE,
	ST_GC_SESSIONS,
	ST_GC_AUTHZ,
	ST_GC_CODES,
	ST_GC_REFRESH,
	ST_GC_ACCESS,
	ST_CONSENT_LIST,
	ST_AUDIT_LIST,
	ST_STATS,
	ST_STATS_ACCESS_DAYS,
	ST_FAMILY_FIND,
	ST_CLIENT_REFRESH_REVOKE,
	ST_CLIENT_ACCESS_REVOKE,
	ST_COUNT
};

#define KEY_COLUMNS                                                        \
	"kid, alg, public_jwk, state, created_at, activated_at, retired_at, " \
	"publish_until"

#define USER_COLUMNS                                                       \
	"id, username, subject, password_hash, created_at, disabled_at, "   \
	"last_login_at"

#define AUTHZ_COLUMNS                                                      \
	"browser_hash, csrf_hash, client_id, redirect_uri, scope, resource, " \
	"state, code_challenge, force_login, force_consent, session_hash, " \
	"created_at, expires_at"

#define CODE_COLUMNS                                                       \
	"client_id, user_id, redirect_uri, code_challenge, resource, scope, " \
	"auth_time, created_at, expires_at, consumed_at, family_id"

#define REFRESH_COLUMNS                                                    \
	"family_id, client_id, user_id, resource, scope, auth_time, "      \
	"created_at, expires_at, rotated_at, revoked_at"

#define ACCESS_COLUMNS                                                     \
	"jti, family_id, client_id, user_id, resource, scope, issued_at, " \
	"expires_at, revoked_at"

/* The id of the user named ?1, for statements keyed by username. */
#define USER_BY_NAME "(SELECT id FROM users WHERE username = ?1)"

/* Columns added by later migrations, read and written after CLIENT_COLUMNS. */
#define CLIENT_MORE                                                        \
	"first_party, disabled_at, allowed_resources, jwks, signing_alg, "  \
	"previous_secret_hash, previous_secret_until, jwks_uri, "          \
	"jwks_fetched_at, jwks_expires_at, document_fetched_at, "          \
	"document_expires_at"

#define CLIENT_COLUMNS                                                     \
	"client_id, source, client_name, token_endpoint_auth_method, "     \
	"application_type, redirect_uris, grant_types, scope, software_id, " \
	"software_version, metadata, secret_hash, secret_expires_at, "     \
	"registration_token_hash, initial_token_id, registered_from, "     \
	"created_at, updated_at, last_used_at"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_KEY_INSERT] =
		"INSERT INTO signing_keys (kid, alg, public_jwk, state, "
		"created_at, activated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_KEY_HAS_ACTIVE] =
		"SELECT 1 FROM signing_keys WHERE state = 'active'",
	[ST_KEY_ACTIVE] =
		"SELECT kid, alg FROM signing_keys WHERE state = 'active'",
	[ST_KEY_LIST] = "SELECT " KEY_COLUMNS " FROM signing_keys "
			"ORDER BY created_at DESC, rowid DESC",
	[ST_KEY_PUBLISHED] =
		"SELECT " KEY_COLUMNS " FROM signing_keys "
		"WHERE state IN ('pending', 'active') "
		"OR (state = 'retired' AND publish_until > ?1) "
		"ORDER BY created_at DESC, rowid DESC",
	[ST_KEY_RETIRE] =
		"UPDATE signing_keys SET state = 'retired', retired_at = ?1, "
		"publish_until = ?2 WHERE state = 'active' RETURNING kid",
	[ST_KEY_ACTIVATE] =
		"UPDATE signing_keys SET state = 'active', activated_at = ?1 "
		"WHERE kid = ?2 AND state = 'pending'",
	[ST_AUDIT_INSERT] =
		"INSERT INTO audit_log (at, event, outcome, actor, client_id, "
		"address, software_id, client_name, error, detail, status, "
		"rate_key, username) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
		"?9, ?10, ?11, ?12, ?13)",
	/* ?1 key, ?2 since; the limit's own refusals (429) are not counted. */
	[ST_RATE_REGISTER] =
		"SELECT coalesce(sum(NOT busy), 0), "
		"coalesce(min(CASE WHEN NOT busy THEN at END), 0), "
		"coalesce(sum(busy), 0) FROM (SELECT at, status IS 429 AS busy "
		"FROM audit_log WHERE rate_key = ?1 AND event = 'register' "
		"AND at >= ?2)",
	[ST_RATE_MANAGE] =
		"SELECT coalesce(sum(NOT busy), 0), "
		"coalesce(min(CASE WHEN NOT busy THEN at END), 0), "
		"coalesce(sum(busy), 0) FROM (SELECT at, status IS 429 AS busy "
		"FROM audit_log WHERE rate_key = ?1 AND event IN ('read', "
		"'update', 'delete') AND outcome = 'refused' AND at >= ?2)",
	[ST_CLIENT_COUNT_DYNAMIC] =
		"SELECT count(*) FROM clients WHERE source = 'dynamic'",
	[ST_CLIENT_INSERT] =
		"INSERT INTO clients (" CLIENT_COLUMNS ", " CLIENT_MORE
		") VALUES (?1, ?2, ?3, "
		"?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		"?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, "
		"?29, ?30, ?31)",
	[ST_CLIENT_GET] = "SELECT " CLIENT_COLUMNS ", " CLIENT_MORE
			  " FROM clients WHERE client_id = ?1",
	[ST_CLIENT_LIST] = "SELECT " CLIENT_COLUMNS ", " CLIENT_MORE
			   " FROM clients ORDER BY created_at DESC, client_id",
	[ST_CLIENT_SET_SECRET] =
		"UPDATE clients SET previous_secret_hash = CASE WHEN ?5 > 0 "
		"THEN secret_hash END, previous_secret_until = CASE WHEN ?5 > 0 "
		"THEN ?5 END, secret_hash = ?2, secret_expires_at = ?3, "
		"updated_at = ?4 WHERE client_id = ?1",
	[ST_CLIENT_SET_DISABLED] =
		"UPDATE clients SET disabled_at = ?2 WHERE client_id = ?1",
	[ST_CLIENT_SET_KEYS] =
		"UPDATE clients SET jwks = ?2, signing_alg = ?3, jwks_uri = ?4, "
		"jwks_fetched_at = ?5, jwks_expires_at = ?6 "
		"WHERE client_id = ?1",
	[ST_CLIENT_JWKS_FETCHED] =
		"UPDATE clients SET jwks = ?2, jwks_fetched_at = ?3, "
		"jwks_expires_at = ?4 WHERE client_id = ?1 AND jwks_uri = ?5",
	/* A metadata document client not fetched yet (NULL
	 * document_fetched_at): its authorization request waits for the
	 * user's sign-in before anything is fetched. */
	[ST_CLIENT_DOC_PENDING] =
		"INSERT OR IGNORE INTO clients (" CLIENT_COLUMNS ", " CLIENT_MORE
		") VALUES (?1, ?2, ?3, "
		"?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		"?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, "
		"?29, ?30, ?31)",
	/* Keys fetched from an unchanged jwks_uri stay cached. */
	[ST_CLIENT_DOC_SAVE] =
		"INSERT INTO clients (" CLIENT_COLUMNS ", " CLIENT_MORE
		") VALUES (?1, ?2, ?3, "
		"?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		"?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, "
		"?29, ?30, ?31) ON CONFLICT (client_id) DO UPDATE SET "
		"client_name = excluded.client_name, "
		"token_endpoint_auth_method = "
		"excluded.token_endpoint_auth_method, "
		"application_type = excluded.application_type, "
		"redirect_uris = excluded.redirect_uris, "
		"grant_types = excluded.grant_types, scope = excluded.scope, "
		"software_id = excluded.software_id, "
		"software_version = excluded.software_version, "
		"metadata = excluded.metadata, updated_at = excluded.updated_at, "
		"signing_alg = excluded.signing_alg, "
		"jwks = CASE WHEN excluded.jwks_uri IS NOT NULL AND "
		"excluded.jwks_uri IS clients.jwks_uri THEN clients.jwks "
		"ELSE excluded.jwks END, "
		"jwks_fetched_at = CASE WHEN excluded.jwks_uri IS NOT NULL AND "
		"excluded.jwks_uri IS clients.jwks_uri THEN "
		"clients.jwks_fetched_at END, "
		"jwks_expires_at = CASE WHEN excluded.jwks_uri IS NOT NULL AND "
		"excluded.jwks_uri IS clients.jwks_uri THEN "
		"clients.jwks_expires_at END, "
		"jwks_uri = excluded.jwks_uri, "
		"document_fetched_at = excluded.document_fetched_at, "
		"document_expires_at = excluded.document_expires_at "
		"WHERE clients.source = 'metadata_document'",
	/* ?1 key, ?2 since: every fetch for one host counts. */
	[ST_RATE_FETCH] =
		"SELECT count(*), coalesce(min(at), 0), 0 FROM audit_log "
		"WHERE rate_key = ?1 AND event = 'fetch' AND at >= ?2",
	[ST_GC_PENDING_DOCS] =
		"DELETE FROM clients WHERE source = 'metadata_document' AND "
		"document_fetched_at IS NULL AND created_at <= ?1 - 3600",
	[ST_JTI_EXPIRE] = "DELETE FROM assertion_jtis WHERE expires_at <= ?1",
	[ST_JTI_INSERT] =
		"INSERT OR IGNORE INTO assertion_jtis (client_id, jti, "
		"expires_at) VALUES (?1, ?2, ?3)",
	[ST_CLIENT_UPDATE] =
		"UPDATE clients SET client_name = ?3, "
		"token_endpoint_auth_method = ?4, application_type = ?5, "
		"redirect_uris = ?6, grant_types = ?7, scope = ?8, "
		"software_id = ?9, software_version = ?10, metadata = ?11, "
		"secret_hash = ?12, secret_expires_at = ?13, updated_at = ?18 "
		"WHERE client_id = ?1",
	[ST_CLIENT_DELETE] = "DELETE FROM clients WHERE client_id = ?1",
	[ST_CLIENT_TOUCH] =
		"UPDATE clients SET last_used_at = ?2 WHERE client_id = ?1",
	/* ?1 idle_before, ?2 unused_before (0: the rule is off) */
	[ST_GC_CLIENTS] =
		"DELETE FROM clients WHERE source = 'dynamic' AND "
		"((?1 > 0 AND max(created_at, coalesce(last_used_at, 0)) < ?1) "
		"OR (?2 > 0 AND last_used_at IS NULL AND created_at < ?2)) "
		"RETURNING client_id, software_id, client_name",
	[ST_GC_AUDIT] = "DELETE FROM audit_log WHERE at < ?1",
	[ST_IAT_INSERT] =
		"INSERT INTO initial_access_tokens (label, token_hash, "
		"created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
	[ST_IAT_FIND] =
		"SELECT id FROM initial_access_tokens WHERE token_hash = ?1 "
		"AND revoked_at IS NULL AND (expires_at = 0 OR expires_at > ?2)",
	[ST_IAT_USE] =
		"UPDATE initial_access_tokens SET uses = uses + 1, "
		"last_used_at = ?2 WHERE id = ?1",
	[ST_IAT_LIST] =
		"SELECT id, label, created_at, expires_at, revoked_at, uses, "
		"last_used_at FROM initial_access_tokens ORDER BY id",
	[ST_IAT_REVOKE] =
		"UPDATE initial_access_tokens SET revoked_at = "
		"coalesce(revoked_at, ?2) WHERE id = ?1",
	[ST_USER_INSERT] =
		"INSERT INTO users (username, subject, password_hash, "
		"created_at) VALUES (?1, ?2, ?3, ?4)",
	[ST_USER_GET] = "SELECT " USER_COLUMNS " FROM users "
			"WHERE username = ?1",
	[ST_USER_GET_ID] = "SELECT " USER_COLUMNS " FROM users WHERE id = ?1",
	[ST_USER_LIST] = "SELECT " USER_COLUMNS " FROM users "
			 "ORDER BY username",
	[ST_USER_SET_PASSWORD] =
		"UPDATE users SET password_hash = ?2 WHERE username = ?1",
	[ST_USER_SET_DISABLED] =
		"UPDATE users SET disabled_at = ?2 WHERE username = ?1",
	[ST_USER_SESSIONS_DELETE] =
		"DELETE FROM sessions WHERE user_id = " USER_BY_NAME,
	[ST_USER_REFRESH_REVOKE] =
		"UPDATE refresh_tokens SET revoked_at = ?2 WHERE user_id = "
		USER_BY_NAME " AND revoked_at IS NULL",
	[ST_USER_ACCESS_REVOKE] =
		"UPDATE access_tokens SET revoked_at = ?2 WHERE user_id = "
		USER_BY_NAME " AND revoked_at IS NULL",
	[ST_USER_LOGIN] = "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
	[ST_SESSION_INSERT] =
		"INSERT INTO sessions (id_hash, user_id, auth_time, "
		"created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_SESSION_GET] =
		"SELECT s.user_id, s.auth_time FROM sessions s "
		"JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1 "
		"AND s.expires_at > ?2 AND u.disabled_at IS NULL",
	[ST_SESSION_DELETE] = "DELETE FROM sessions WHERE id_hash = ?1",
	[ST_AUTHZ_INSERT] =
		"INSERT INTO authorization_requests (id_hash, " AUTHZ_COLUMNS
		", rate_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
		"?11, ?12, ?13, ?14, ?15)",
	[ST_AUTHZ_EXPIRE] =
		"DELETE FROM authorization_requests WHERE expires_at <= ?1",
	[ST_AUTHZ_PENDING] =
		"SELECT count(*) FROM authorization_requests "
		"WHERE rate_key = ?1 AND expires_at > ?2",
	[ST_LOGIN_FAILURES_KEY] =
		"SELECT count(*) FROM audit_log WHERE rate_key = ?1 AND "
		"event = 'login' AND outcome = 'refused' AND at >= ?2",
	[ST_LOGIN_FAILURES_USER] =
		"SELECT count(*) FROM audit_log WHERE username = ?1 AND "
		"event = 'login' AND outcome = 'refused' AND at >= ?2",
	[ST_AUTHZ_GET] = "SELECT " AUTHZ_COLUMNS " FROM authorization_requests "
			 "WHERE id_hash = ?1 AND expires_at > ?2",
	[ST_AUTHZ_SET_SESSION] =
		"UPDATE authorization_requests SET session_hash = ?2, "
		"force_login = 0 WHERE id_hash = ?1",
	[ST_AUTHZ_DELETE] =
		"DELETE FROM authorization_requests WHERE id_hash = ?1",
	[ST_AUTHZ_SET_CSRF] =
		"UPDATE authorization_requests SET csrf_hash = ?2 "
		"WHERE id_hash = ?1",
	[ST_AUTHZ_SET_SCOPE] =
		"UPDATE authorization_requests SET scope = ?2 "
		"WHERE id_hash = ?1",
	[ST_CONSENT_GET] =
		"SELECT scope FROM consents WHERE user_id = ?1 AND "
		"client_id = ?2 AND resource = ?3",
	[ST_CONSENT_SET] =
		"INSERT INTO consents (user_id, client_id, resource, scope, "
		"granted_at) VALUES (?1, ?2, ?3, ?4, ?5) "
		"ON CONFLICT (user_id, client_id, resource) DO UPDATE SET "
		"scope = excluded.scope, granted_at = excluded.granted_at",
	[ST_CONSENT_REVOKE] =
		"DELETE FROM consents WHERE user_id = " USER_BY_NAME
		" AND (?2 IS NULL OR client_id = ?2)",
	[ST_CONSENT_REVOKE_REFRESH] =
		"UPDATE refresh_tokens SET revoked_at = ?3 WHERE user_id = "
		USER_BY_NAME " AND (?2 IS NULL OR client_id = ?2) "
		"AND revoked_at IS NULL",
	[ST_CONSENT_REVOKE_ACCESS] =
		"UPDATE access_tokens SET revoked_at = ?3 WHERE user_id = "
		USER_BY_NAME " AND (?2 IS NULL OR client_id = ?2) "
		"AND revoked_at IS NULL",
	[ST_CLIENT_FIRST_PARTY] =
		"UPDATE clients SET first_party = ?2 WHERE client_id = ?1",
	[ST_CODE_INSERT] =
		"INSERT INTO authorization_codes (code_hash, " CODE_COLUMNS
		") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_CODE_GET] = "SELECT " CODE_COLUMNS " FROM authorization_codes "
			"WHERE code_hash = ?1",
	[ST_CODE_CONSUME] =
		"UPDATE authorization_codes SET consumed_at = ?1, "
		"family_id = ?2 WHERE code_hash = ?3 AND consumed_at IS NULL",
	[ST_REFRESH_INSERT] =
		"INSERT INTO refresh_tokens (token_hash, " REFRESH_COLUMNS
		") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_REFRESH_GET] = "SELECT " REFRESH_COLUMNS " FROM refresh_tokens "
			   "WHERE token_hash = ?1",
	[ST_REFRESH_ROTATE] =
		"UPDATE refresh_tokens SET rotated_at = ?1 WHERE "
		"token_hash = ?2 AND rotated_at IS NULL AND revoked_at IS NULL",
	[ST_FAMILY_REFRESH_REVOKE] =
		"UPDATE refresh_tokens SET revoked_at = ?2 WHERE "
		"family_id = ?1 AND revoked_at IS NULL",
	[ST_FAMILY_ACCESS_REVOKE] =
		"UPDATE access_tokens SET revoked_at = ?2 WHERE "
		"family_id = ?1 AND revoked_at IS NULL",
	[ST_ACCESS_INSERT] =
		"INSERT INTO access_tokens (" ACCESS_COLUMNS ") VALUES (?1, "
		"?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_ACCESS_GET] = "SELECT " ACCESS_COLUMNS " FROM access_tokens "
			  "WHERE jti = ?1",
	[ST_ACCESS_REVOKE] =
		"UPDATE access_tokens SET revoked_at = "
		"coalesce(revoked_at, ?2) WHERE jti = ?1",
	[ST_GC_SESSIONS] = "DELETE FROM sessions WHERE expires_at <= ?1",
	[ST_GC_AUTHZ] =
		"DELETE FROM authorization_requests WHERE expires_at <= ?1",
	/* Kept a day past expiry so a replayed code still revokes its
	 * family (RFC 6749 §4.1.2). */
	[ST_GC_CODES] =
		"DELETE FROM authorization_codes "
		"WHERE expires_at <= ?1 - 86400",
	[ST_GC_REFRESH] = "DELETE FROM refresh_tokens WHERE expires_at <= ?1",
	[ST_GC_ACCESS] = "DELETE FROM access_tokens WHERE expires_at <= ?1",
	/* ?1 username, NULL: every user */
	[ST_CONSENT_LIST] =
		"SELECT u.username, c.client_id, cl.client_name, c.resource, "
		"c.scope, c.granted_at FROM consents c "
		"JOIN users u ON u.id = c.user_id "
		"LEFT JOIN clients cl ON cl.client_id = c.client_id "
		"WHERE ?1 IS NULL OR u.username = ?1 "
		"ORDER BY c.granted_at DESC, u.username, c.client_id, c.resource",
	/* ?1 since, ?2 event, ?3 client_id, ?4 address (NULL: any), ?5 limit */
	[ST_AUDIT_LIST] =
		"SELECT id, at, event, outcome, actor, client_id, address, "
		"username, client_name, error, detail, status FROM audit_log "
		"WHERE at >= ?1 AND (?2 IS NULL OR event = ?2) "
		"AND (?3 IS NULL OR client_id = ?3) "
		"AND (?4 IS NULL OR address = ?4) "
		"ORDER BY at DESC, id DESC LIMIT ?5",
	/* ?1 now, ?2 the start of the last 24 hours */
	[ST_STATS] =
		"SELECT "
		"(SELECT count(*) FROM clients WHERE source = 'dynamic'), "
		"(SELECT count(*) FROM clients WHERE source = 'operator'), "
		"(SELECT count(*) FROM clients "
		"WHERE source = 'metadata_document'), "
		"(SELECT count(*) FROM clients WHERE disabled_at IS NOT NULL), "
		"(SELECT count(*) FROM users WHERE disabled_at IS NULL), "
		"(SELECT count(*) FROM users WHERE disabled_at IS NOT NULL), "
		"(SELECT count(DISTINCT family_id) FROM refresh_tokens "
		"WHERE revoked_at IS NULL AND expires_at > ?1), "
		"(SELECT count(*) FROM consents), "
		"(SELECT count(*) FROM access_tokens "
		"WHERE revoked_at IS NULL AND expires_at > ?1), "
		"(SELECT count(*) FROM audit_log WHERE event = 'login' "
		"AND outcome = 'refused' AND at >= ?2), "
		"(SELECT count(*) FROM audit_log WHERE event = 'register' "
		"AND actor = 'client' AND outcome = 'ok' AND at >= ?2), "
		"(SELECT count(*) FROM audit_log WHERE event = 'register' "
		"AND actor = 'client' AND outcome = 'refused' AND at >= ?2)",
	/* ?1 the first day's start, ?2 the number of days */
	[ST_STATS_ACCESS_DAYS] =
		"SELECT (issued_at - ?1) / 86400, count(*) FROM access_tokens "
		"WHERE issued_at >= ?1 AND issued_at < ?1 + ?2 * 86400 "
		"GROUP BY 1",
	[ST_FAMILY_FIND] =
		"SELECT t.client_id, u.username FROM (SELECT client_id, "
		"user_id FROM refresh_tokens WHERE family_id = ?1 UNION ALL "
		"SELECT client_id, user_id FROM access_tokens "
		"WHERE family_id = ?1) t LEFT JOIN users u ON u.id = t.user_id "
		"LIMIT 1",
	[ST_CLIENT_REFRESH_REVOKE] =
		"UPDATE refresh_tokens SET revoked_at = ?2 WHERE "
		"client_id = ?1 AND revoked_at IS NULL",
	[ST_CLIENT_ACCESS_REVOKE] =
		"UPDATE access_tokens SET revoked_at = ?2 WHERE "
		"client_id = ?1 AND revoked_at IS NULL",
};

struct mcpauth_store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[ST_COUNT];
	bool ready;
	struct timespec busy_since; /* when the current wait for a lock began */
	bool checkpointing;	    /* in wal_hook's checkpoint */
	int wal_retry_at;	    /* WAL pages before the next try; 0: any */
};

/* How long a statement waits for another process's write lock. */
#define BUSY_TIMEOUT_MS 5000
/* How long a checkpoint waits for the writer lock and for readers. */
#define CHECKPOINT_WAIT_MS 50

/*
 * Waits for a lock another process holds. SQLite's own busy_timeout
 * sleeps 1, 2, 5, 10, ... 100 ms between tries, so a writer that misses
 * the lock by microseconds waits milliseconds: measured in bench/, most of
 * the token endpoint's p99 under concurrency. Writers here hold the lock
 * for well under a millisecond: try again every 100 µs at first, every
 * millisecond after 50 tries, for BUSY_TIMEOUT_MS in all.
 */
static int busy_wait(void *arg, int count)
{
	struct mcpauth_store *store = arg;
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0)
		store->busy_since = now;
	ms = (now.tv_sec - store->busy_since.tv_sec) * 1000LL +
	     (now.tv_nsec - store->busy_since.tv_nsec) / 1000000;
	if (ms >= (store->checkpointing ? CHECKPOINT_WAIT_MS : BUSY_TIMEOUT_MS))
		return 0;
	usleep(count < 50 ? 100 : 1000);
	return 1;
}

/*
 * Checkpoints. SQLite's own (PASSIVE, after any commit that leaves 1000
 * or more pages in the WAL) never restarts the WAL while reads overlap
 * without pause, which under load is always: measured in bench/, the WAL
 * grew past 1 GB in two minutes, every page read searched all of it, and
 * every commit past the first 1000 pages tried a checkpoint again. So
 * instead: a commit that leaves WAL_RESTART_PAGES or more runs a RESTART
 * checkpoint. It waits for the writer lock and for the reads still on the
 * old WAL (short: new reads no longer use a WAL that is all copied),
 * copies what is left and starts the WAL again from its beginning: the
 * file stays near 4 MB, for one short pause per WAL_RESTART_PAGES pages.
 *
 * A read that stays open (a sysadmin's sqlite3 session in a transaction,
 * a slow report) makes it give up after CHECKPOINT_WAIT_MS, with a warning
 * in the log; this process then tries again only after WAL_RESTART_PAGES
 * more pages, so writes go on at full speed meanwhile. The commit has
 * succeeded either way.
 */
#define WAL_RESTART_PAGES 1000

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct mcpauth_store *store = arg;
	int rc;

	if (pages < WAL_RESTART_PAGES) {
		store->wal_retry_at = 0; /* restarted meanwhile */
		return SQLITE_OK;
	}
	if (pages < store->wal_retry_at)
		return SQLITE_OK;
	store->checkpointing = true;
	rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART,
				       NULL, NULL);
	store->checkpointing = false;
	store->wal_retry_at = 0;
	if (rc != SQLITE_OK) {
		store->wal_retry_at = pages + WAL_RESTART_PAGES;
		mcpauth_log(MCPAUTH_LOG_WARN,
			    "event=checkpoint result=\"%s\" wal_pages=%d "
			    "retry_at=%d (a long read transaction keeps the "
			    "WAL from starting over)",
			    sqlite3_errstr(rc), pages, store->wal_retry_at);
	}
	return SQLITE_OK;
}

/* An internal failure with SQLite's message for the log only. */
#define DB_ERR(store, err, what)                                           \
	MCPAUTH_ERR_INTERNAL((err), "%s: %s (%s)", (what),                 \
			     sqlite3_errmsg((store)->db), (store)->path)

bool mcpauth_store_open(const char *path, int flags,
			struct mcpauth_store **out, struct mcpauth_err *err)
{
	struct mcpauth_store *store = calloc(1, sizeof(*store));
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	char *msg = NULL;
	bool ok = false;
	int rc;

	if (store == NULL || (store->path = strdup(path)) == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	if (flags & MCPAUTH_STORE_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &store->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		MCPAUTH_ERR(err, 503, "temporarily_unavailable",
			    "the database cannot be opened");
		mcpauth_err_detail(err, "%s: %s%s", path, sqlite3_errstr(rc),
				   rc == SQLITE_CANTOPEN
					   ? " (run mcpauth-admin init)"
					   : "");
		goto out;
	}
	sqlite3_extended_result_codes(store->db, 1);
	/*
	 * WAL lets readers run beside the one writer; synchronous=NORMAL is
	 * durable across process crashes (SIGKILL) and loses at most the last
	 * commits on power loss. busy_wait queues writers.
	 */
	sqlite3_busy_handler(store->db, busy_wait, store);
	sqlite3_wal_hook(store->db, wal_hook, store);
	rc = sqlite3_exec(store->db,
			  "PRAGMA journal_mode = WAL;"
			  "PRAGMA synchronous = NORMAL;"
			  "PRAGMA foreign_keys = ON;",
			  NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		MCPAUTH_ERR(err, 503, "temporarily_unavailable",
			    "the database cannot be opened");
		mcpauth_err_detail(err, "%s: %s", path,
				   msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		goto out;
	}
	*out = store;
	store = NULL;
	ok = true;
out:
	mcpauth_store_free(store);
	return ok;
}

void mcpauth_store_free(struct mcpauth_store *store)
{
	if (store == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(store->stmt[i]);
	sqlite3_close(store->db);
	free(store->path);
	free(store);
}

int mcpauth_store_schema_version(void)
{
	return mcpauth_migrations_count;
}

bool mcpauth_store_version(struct mcpauth_store *store, int *version,
			   struct mcpauth_err *err)
{
	sqlite3_stmt *st = NULL;
	bool ok = false;

	if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		DB_ERR(store, err, "reading user_version");
		goto out;
	}
	*version = sqlite3_column_int(st, 0);
	ok = true;
out:
	sqlite3_finalize(st);
	return ok;
}

/* Applies one migration inside the caller's transaction. */
static bool apply(struct mcpauth_store *store,
		  const struct mcpauth_migration *m, struct mcpauth_err *err)
{
	sqlite3_stmt *st = NULL;
	char *msg = NULL, pragma[64];
	bool ok = false;

	if (sqlite3_exec(store->db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
		MCPAUTH_ERR_INTERNAL(err, "migration %s: %s", m->name,
				     msg ? msg : "?");
		goto out;
	}
	if (sqlite3_prepare_v2(store->db,
			       "INSERT INTO schema_migrations (version, name, "
			       "applied_at) VALUES (?1, ?2, unixepoch())",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int(st, 1, m->version) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		DB_ERR(store, err, "recording migration");
		goto out;
	}
	/* PRAGMA takes no parameters; the version is our own integer. */
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
		 m->version);
	if (sqlite3_exec(store->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
		DB_ERR(store, err, "setting user_version");
		goto out;
	}
	ok = true;
out:
	sqlite3_free(msg);
	sqlite3_finalize(st);
	return ok;
}

bool mcpauth_store_migrate(struct mcpauth_store *store, int *from, int *to,
			   struct mcpauth_err *err)
{
	int version = 0, first = -1;

	for (;;) {
		if (sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL,
				 NULL) != SQLITE_OK) {
			DB_ERR(store, err, "BEGIN IMMEDIATE");
			return false;
		}
		/* Read inside the write lock: a second migrator waits. */
		if (!mcpauth_store_version(store, &version, err))
			goto fail;
		if (first < 0)
			first = version;
		if (version > mcpauth_migrations_count) {
			MCPAUTH_ERR(err, 500, "server_error",
				    "the database schema (version %d) is newer "
				    "than this mcpauth (version %d): upgrade "
				    "mcpauth",
				    version, mcpauth_migrations_count);
			goto fail;
		}
		if (version == mcpauth_migrations_count)
			break;
		if (!apply(store, &mcpauth_migrations[version], err))
			goto fail;
		if (sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL) !=
		    SQLITE_OK) {
			DB_ERR(store, err, "COMMIT");
			goto fail;
		}
	}
	sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL);
	if (from != NULL)
		*from = first;
	if (to != NULL)
		*to = version;
	return true;
fail:
	sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	return false;
}

bool mcpauth_store_ready(struct mcpauth_store *store, struct mcpauth_err *err)
{
	int version = 0;

	if (store->ready)
		return true;
	if (!mcpauth_store_version(store, &version, err))
		return false;
	if (version < mcpauth_migrations_count) {
		MCPAUTH_ERR(err, 503, "temporarily_unavailable",
			    "the database schema is at version %d but this "
			    "mcpauth needs version %d: run 'mcpauth-admin "
			    "migrate'",
			    version, mcpauth_migrations_count);
		return false;
	}
	if (version > mcpauth_migrations_count) {
		MCPAUTH_ERR(err, 503, "temporarily_unavailable",
			    "the database schema (version %d) is newer than "
			    "this mcpauth (version %d): upgrade mcpauth",
			    version, mcpauth_migrations_count);
		return false;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(store->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT,
				       &store->stmt[i], NULL) != SQLITE_OK) {
			DB_ERR(store, err, stmt_sql[i]);
			return false;
		}
	}
	store->ready = true;
	return true;
}

const char *mcpauth_store_key_state_name(enum mcpauth_key_state state)
{
	switch (state) {
	case MCPAUTH_KEY_PENDING: return "pending";
	case MCPAUTH_KEY_ACTIVE: return "active";
	default: return "retired";
	}
}

static enum mcpauth_key_state state_from_name(const char *s)
{
	if (s != NULL && !strcmp(s, "pending"))
		return MCPAUTH_KEY_PENDING;
	if (s != NULL && !strcmp(s, "active"))
		return MCPAUTH_KEY_ACTIVE;
	return MCPAUTH_KEY_RETIRED;
}

/* Runs a statement without rows (BEGIN, COMMIT, ROLLBACK). */
static bool run(struct mcpauth_store *store, enum stmt s,
		struct mcpauth_err *err)
{
	sqlite3_stmt *st = store->stmt[s];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	/* The busy timeout ran out: a retry will do, not a server fault. */
	if ((rc & 0xff) == SQLITE_BUSY) {
		MCPAUTH_ERR(err, 503, "temporarily_unavailable",
			    "the server is busy; retry in a moment");
		mcpauth_err_detail(err, "%s: %s", stmt_sql[s],
				   sqlite3_errmsg(store->db));
		return false;
	}
	if (rc != SQLITE_DONE) {
		DB_ERR(store, err, stmt_sql[s]);
		return false;
	}
	return true;
}

static void rollback(struct mcpauth_store *store)
{
	struct mcpauth_err ignored = { 0 };

	if (!sqlite3_get_autocommit(store->db))
		run(store, ST_ROLLBACK, &ignored);
}

static bool not_ready(struct mcpauth_store *store, struct mcpauth_err *err)
{
	if (store->ready)
		return false;
	MCPAUTH_ERR_INTERNAL(err, "store used before mcpauth_store_ready");
	return true;
}

static void bind_time(sqlite3_stmt *st, int i, long long t)
{
	if (t > 0)
		sqlite3_bind_int64(st, i, t);
	else
		sqlite3_bind_null(st, i);
}

bool mcpauth_store_key_add(struct mcpauth_store *store,
			   const struct mcpauth_signing_key *key,
			   enum mcpauth_key_state *state_out,
			   struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	enum mcpauth_key_state state;
	int rc;

	if (not_ready(store, err) || !run(store, ST_BEGIN, err))
		return false;
	st = store->stmt[ST_KEY_HAS_ACTIVE];
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		DB_ERR(store, err, "looking for the active key");
		goto fail;
	}
	state = rc == SQLITE_ROW ? MCPAUTH_KEY_PENDING : MCPAUTH_KEY_ACTIVE;
	st = store->stmt[ST_KEY_INSERT];
	sqlite3_bind_text(st, 1, key->kid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key->alg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key->public_jwk, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, mcpauth_store_key_state_name(state), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, key->created_at);
	bind_time(st, 6, state == MCPAUTH_KEY_ACTIVE ? key->created_at : 0);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		DB_ERR(store, err, "inserting a signing key");
		goto fail;
	}
	if (!run(store, ST_COMMIT, err))
		goto fail;
	if (state_out != NULL)
		*state_out = state;
	return true;
fail:
	rollback(store);
	return false;
}

bool mcpauth_store_key_activate(struct mcpauth_store *store, const char *kid,
				long long now, long long retire_publish_until,
				char *retired_kid, struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	char retired[64] = "";
	int rc;

	if (not_ready(store, err) || !run(store, ST_BEGIN, err))
		return false;
	st = store->stmt[ST_KEY_RETIRE];
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, retire_publish_until);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(retired, sizeof(retired), "%s",
			 (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		DB_ERR(store, err, "retiring the active key");
		goto fail;
	}
	st = store->stmt[ST_KEY_ACTIVATE];
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, kid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		DB_ERR(store, err, "activating a key");
		goto fail;
	}
	if (sqlite3_changes(store->db) != 1) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "key '%s' is not a pending key", kid);
		goto fail;
	}
	if (!run(store, ST_COMMIT, err))
		goto fail;
	if (retired_kid != NULL)
		snprintf(retired_kid, 64, "%s", retired);
	return true;
fail:
	rollback(store);
	return false;
}

static long long col_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		       ? 0
		       : sqlite3_column_int64(st, i);
}

/*
 * Steps st to its end, one zeroed row of size bytes per result row, filled
 * by read (false: out of memory). Resets and clears st on every path; on
 * failure the rows read so far go to drop. *out is owned by the caller.
 */
static bool collect(struct mcpauth_store *store, sqlite3_stmt *st,
		    size_t size, bool (*read)(sqlite3_stmt *st, void *row),
		    void (*drop)(void *rows, size_t count), const char *what,
		    void **out, size_t *count, struct mcpauth_err *err)
{
	char *list = NULL;
	size_t n = 0;
	bool oom = false;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *nl = realloc(list, (n + 1) * size);
		if (nl == NULL) {
			oom = true;
			break;
		}
		list = nl;
		memset(list + n * size, 0, size);
		if (!read(st, list + n++ * size)) {
			oom = true;
			break;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (oom || rc != SQLITE_DONE) {
		if (oom)
			MCPAUTH_ERR_INTERNAL(err, "out of memory %s", what);
		else
			DB_ERR(store, err, what);
		drop(list, n);
		return false;
	}
	*out = list;
	*count = n;
	return true;
}

static bool read_key(sqlite3_stmt *st, void *row)
{
	struct mcpauth_signing_key *k = row;

	snprintf(k->kid, sizeof(k->kid), "%s",
		 (const char *)sqlite3_column_text(st, 0));
	snprintf(k->alg, sizeof(k->alg), "%s",
		 (const char *)sqlite3_column_text(st, 1));
	k->public_jwk = strdup((const char *)sqlite3_column_text(st, 2));
	k->state = state_from_name((const char *)sqlite3_column_text(st, 3));
	k->created_at = col_time(st, 4);
	k->activated_at = col_time(st, 5);
	k->retired_at = col_time(st, 6);
	k->publish_until = col_time(st, 7);
	return k->public_jwk != NULL;
}

static void drop_keys(void *rows, size_t count)
{
	mcpauth_store_keys_free(rows, count);
}

static bool read_keys(struct mcpauth_store *store, enum stmt s, long long now,
		      struct mcpauth_signing_key **keys, size_t *count,
		      struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[s];
	if (s == ST_KEY_PUBLISHED)
		sqlite3_bind_int64(st, 1, now);
	return collect(store, st, sizeof(**keys), read_key, drop_keys,
		       "reading signing keys", (void **)keys, count, err);
}

bool mcpauth_store_key_list(struct mcpauth_store *store,
			    struct mcpauth_signing_key **keys, size_t *count,
			    struct mcpauth_err *err)
{
	return read_keys(store, ST_KEY_LIST, 0, keys, count, err);
}

bool mcpauth_store_key_published(struct mcpauth_store *store, long long now,
				 struct mcpauth_signing_key **keys,
				 size_t *count, struct mcpauth_err *err)
{
	return read_keys(store, ST_KEY_PUBLISHED, now, keys, count, err);
}

bool mcpauth_store_key_active(struct mcpauth_store *store,
			      struct mcpauth_signing_key *out, bool *found,
			      struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_KEY_ACTIVE];
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		snprintf(out->kid, sizeof(out->kid), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		snprintf(out->alg, sizeof(out->alg), "%s",
			 (const char *)sqlite3_column_text(st, 1));
		out->state = MCPAUTH_KEY_ACTIVE;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		DB_ERR(store, err, "reading the active key");
		return false;
	}
	*found = rc == SQLITE_ROW;
	return true;
}

void mcpauth_store_keys_free(struct mcpauth_signing_key *keys, size_t count)
{
	if (keys == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free(keys[i].public_jwk);
	free(keys);
}

/* --- clients and their audit trail ------------------------------------- */

static void bind_str(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Steps a statement without rows to the end, then resets it. */
static bool step_done(struct mcpauth_store *store, sqlite3_stmt *st,
		      const char *what, struct mcpauth_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		DB_ERR(store, err, what);
		return false;
	}
	return true;
}

static bool audit_insert(struct mcpauth_store *store,
			 const struct mcpauth_audit *a, struct mcpauth_err *err)
{
	sqlite3_stmt *st = store->stmt[ST_AUDIT_INSERT];

	sqlite3_bind_int64(st, 1, a->at);
	bind_str(st, 2, a->event);
	bind_str(st, 3, a->refused ? "refused" : "ok");
	bind_str(st, 4, a->actor);
	bind_str(st, 5, a->client_id);
	bind_str(st, 6, a->address);
	bind_str(st, 7, a->software_id);
	bind_str(st, 8, a->client_name);
	bind_str(st, 9, a->error);
	bind_str(st, 10, a->detail);
	bind_time(st, 11, a->status);
	bind_str(st, 12, a->rate_key);
	bind_str(st, 13, a->username);
	return step_done(store, st, "writing the audit log", err);
}

bool mcpauth_store_audit_add(struct mcpauth_store *store,
			     const struct mcpauth_audit *audit,
			     struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	return audit_insert(store, audit, err);
}

/* Counts a rate window with statement s; see mcpauth_store_rate_count. */
static bool rate_count(struct mcpauth_store *store, enum stmt s,
		       struct mcpauth_rate *rate, long *count, long *limited,
		       struct mcpauth_err *err)
{
	sqlite3_stmt *st = store->stmt[s];
	int rc;

	bind_str(st, 1, rate->key);
	sqlite3_bind_int64(st, 2, rate->since);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count = (long)sqlite3_column_int64(st, 0);
		rate->oldest = sqlite3_column_int64(st, 1);
		*limited = (long)sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW) {
		DB_ERR(store, err, "counting audit rows");
		return false;
	}
	return true;
}

bool mcpauth_store_rate_count(struct mcpauth_store *store,
			      enum mcpauth_rate_kind kind,
			      struct mcpauth_rate *rate, long *count,
			      long *limited, struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	return rate_count(store,
			  kind == MCPAUTH_RATE_REGISTER	     ? ST_RATE_REGISTER
			  : kind == MCPAUTH_RATE_FETCH ? ST_RATE_FETCH
						       : ST_RATE_MANAGE,
			  rate, count, limited, err);
}

/* redirect_uris as the JSON array text the column holds; free it. */
static char *uris_json(const struct mcpauth_client *c)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a;
	char *s = NULL;

	mcpauth_json_add_strs(o, "u", (const char *const *)c->redirect_uris,
			      c->nredirect_uris);
	if (json_object_object_get_ex(o, "u", &a))
		s = mcpauth_json_dump(a);
	json_object_put(o);
	return s;
}

/* Binds CLIENT_COLUMNS then CLIENT_MORE in their order, ?1 to ?31. */
static void bind_client(sqlite3_stmt *st, const struct mcpauth_client *c,
			const char *uris)
{
	bind_str(st, 1, c->client_id);
	bind_str(st, 2, c->source);
	bind_str(st, 3, c->client_name);
	bind_str(st, 4, c->auth_method);
	bind_str(st, 5, c->application_type);
	bind_str(st, 6, uris);
	bind_str(st, 7, c->grant_types);
	bind_str(st, 8, c->scope);
	bind_str(st, 9, c->software_id);
	bind_str(st, 10, c->software_version);
	bind_str(st, 11, c->metadata);
	bind_str(st, 12, c->secret_hash);
	sqlite3_bind_int64(st, 13, c->secret_expires_at);
	bind_str(st, 14, c->registration_token_hash);
	bind_time(st, 15, c->initial_token_id);
	bind_str(st, 16, c->registered_from);
	sqlite3_bind_int64(st, 17, c->created_at);
	sqlite3_bind_int64(st, 18, c->updated_at);
	bind_time(st, 19, c->last_used_at);
	/* CLIENT_MORE, for the insert (the update names fewer). */
	sqlite3_bind_int(st, 20, c->first_party);
	bind_time(st, 21, c->disabled_at);
	bind_str(st, 22, c->allowed_resources);
	bind_str(st, 23, c->jwks);
	bind_str(st, 24, c->signing_alg);
	bind_str(st, 25, c->previous_secret_hash);
	bind_time(st, 26, c->previous_secret_until);
	bind_str(st, 27, c->jwks_uri);
	bind_time(st, 28, c->jwks_fetched_at);
	bind_time(st, 29, c->jwks_expires_at);
	bind_time(st, 30, c->document_fetched_at);
	bind_time(st, 31, c->document_expires_at);
}

static char *col_str(sqlite3_stmt *st, int i, bool *oom)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*oom = true;
	return d;
}

/* The client in the current row of CLIENT_COLUMNS, CLIENT_MORE. */
static struct mcpauth_client *read_client(sqlite3_stmt *st)
{
	struct mcpauth_client *c = calloc(1, sizeof(*c));
	struct json_object *uris = NULL;
	bool oom = false;

	if (c == NULL)
		return NULL;
	c->client_id = col_str(st, 0, &oom);
	c->source = col_str(st, 1, &oom);
	c->client_name = col_str(st, 2, &oom);
	c->auth_method = col_str(st, 3, &oom);
	c->application_type = col_str(st, 4, &oom);
	uris = json_tokener_parse((const char *)sqlite3_column_text(st, 5));
	c->grant_types = col_str(st, 6, &oom);
	c->scope = col_str(st, 7, &oom);
	c->software_id = col_str(st, 8, &oom);
	c->software_version = col_str(st, 9, &oom);
	c->metadata = col_str(st, 10, &oom);
	c->secret_hash = col_str(st, 11, &oom);
	c->secret_expires_at = sqlite3_column_int64(st, 12);
	c->registration_token_hash = col_str(st, 13, &oom);
	c->initial_token_id = col_time(st, 14);
	c->registered_from = col_str(st, 15, &oom);
	c->created_at = sqlite3_column_int64(st, 16);
	c->updated_at = sqlite3_column_int64(st, 17);
	c->last_used_at = col_time(st, 18);
	c->first_party = sqlite3_column_int(st, 19) != 0;
	c->disabled_at = col_time(st, 20);
	c->allowed_resources = col_str(st, 21, &oom);
	c->jwks = col_str(st, 22, &oom);
	c->signing_alg = col_str(st, 23, &oom);
	c->previous_secret_hash = col_str(st, 24, &oom);
	c->previous_secret_until = col_time(st, 25);
	c->jwks_uri = col_str(st, 26, &oom);
	c->jwks_fetched_at = col_time(st, 27);
	c->jwks_expires_at = col_time(st, 28);
	c->document_fetched_at = col_time(st, 29);
	c->document_expires_at = col_time(st, 30);
	if (json_object_is_type(uris, json_type_array)) {
		size_t n = json_object_array_length(uris);
		c->redirect_uris = calloc(n + 1, sizeof(char *));
		oom |= c->redirect_uris == NULL;
		for (size_t i = 0; c->redirect_uris != NULL && i < n; i++) {
			const char *u = json_object_get_string(
				json_object_array_get_idx(uris, i));
			c->redirect_uris[i] = strdup(u != NULL ? u : "");
			oom |= c->redirect_uris[i] == NULL;
			c->nredirect_uris++;
		}
	}
	json_object_put(uris);
	if (oom || c->client_id == NULL || c->auth_method == NULL ||
	    c->metadata == NULL) {
		mcpauth_client_free(c);
		return NULL;
	}
	return c;
}

bool mcpauth_store_client_add(struct mcpauth_store *store,
			      const struct mcpauth_client *client,
			      long max_dynamic, struct mcpauth_rate *rate,
			      const struct mcpauth_audit *audit,
			      struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	char *uris = NULL;
	int rc;

	if (not_ready(store, err))
		return false;
	uris = uris_json(client);
	if (uris == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	if (!run(store, ST_BEGIN, err)) {
		free(uris);
		return false;
	}
	/* Counted inside the write lock: concurrent registrations queue. */
	if (rate != NULL && rate->limit > 0) {
		long n = 0, limited = 0;
		if (!rate_count(store, ST_RATE_REGISTER, rate, &n, &limited,
				err))
			goto fail;
		if (n >= rate->limit) {
			MCPAUTH_ERR(err, 429, "temporarily_unavailable",
				    "too many registrations from this address; "
				    "retry later");
			goto fail;
		}
	}
	if (max_dynamic > 0 && client->source != NULL &&
	    !strcmp(client->source, "dynamic")) {
		long long n = 0;
		st = store->stmt[ST_CLIENT_COUNT_DYNAMIC];
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW) {
			DB_ERR(store, err, "counting clients");
			goto fail;
		}
		if (n >= max_dynamic) {
			MCPAUTH_ERR(err, 503, "temporarily_unavailable",
				    "this server has reached its limit of %ld "
				    "registered clients; try again later",
				    max_dynamic);
			goto fail;
		}
	}
	st = store->stmt[ST_CLIENT_INSERT];
	bind_client(st, client, uris);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		DB_ERR(store, err, "inserting a client");
		goto fail;
	}
	if (client->initial_token_id > 0) {
		st = store->stmt[ST_IAT_USE];
		sqlite3_bind_int64(st, 1, client->initial_token_id);
		sqlite3_bind_int64(st, 2, client->created_at);
		if (!step_done(store, st, "counting an initial token use",
			       err))
			goto fail;
	}
	if (!audit_insert(store, audit, err) || !run(store, ST_COMMIT, err))
		goto fail;
	free(uris);
	return true;
fail:
	rollback(store);
	free(uris);
	return false;
}

bool mcpauth_store_client_get(struct mcpauth_store *store,
			      const char *client_id,
			      struct mcpauth_client **out,
			      struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	struct mcpauth_client *c = NULL;
	int rc;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CLIENT_GET];
	sqlite3_bind_text(st, 1, client_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		c = read_client(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		DB_ERR(store, err, "reading a client");
		return false;
	}
	if (rc == SQLITE_ROW && c == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory reading a client");
		return false;
	}
	*out = c;
	return true;
}

/* Runs one statement keyed by client_id with its audit row, atomically. */
static bool change_client(struct mcpauth_store *store, enum stmt s,
			  const struct mcpauth_client *client,
			  const char *client_id, const char *uris,
			  const struct mcpauth_audit *audit, bool *found,
			  struct mcpauth_err *err)
{
	sqlite3_stmt *st = store->stmt[s];
	int changes;

	if (!run(store, ST_BEGIN, err))
		return false;
	if (client != NULL)
		bind_client(st, client, uris);
	else
		sqlite3_bind_text(st, 1, client_id, -1, SQLITE_STATIC);
	if (!step_done(store, st, stmt_sql[s], err))
		goto fail;
	changes = sqlite3_changes(store->db);
	if (changes == 1 && !audit_insert(store, audit, err))
		goto fail;
	if (!run(store, ST_COMMIT, err))
		goto fail;
	*found = changes == 1;
	return true;
fail:
	rollback(store);
	return false;
}

bool mcpauth_store_client_replace(struct mcpauth_store *store,
				  const struct mcpauth_client *client,
				  const struct mcpauth_audit *audit,
				  bool *found, struct mcpauth_err *err)
{
	char *uris;
	bool ok;

	if (not_ready(store, err))
		return false;
	uris = uris_json(client);
	if (uris == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	ok = change_client(store, ST_CLIENT_UPDATE, client, NULL, uris, audit,
			   found, err);
	free(uris);
	return ok;
}

bool mcpauth_store_client_delete(struct mcpauth_store *store,
				 const char *client_id,
				 const struct mcpauth_audit *audit,
				 bool *found, struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	return change_client(store, ST_CLIENT_DELETE, NULL, client_id, NULL,
			     audit, found, err);
}

static bool read_client_row(sqlite3_stmt *st, void *row)
{
	return (*(struct mcpauth_client **)row = read_client(st)) != NULL;
}

static void drop_clients(void *rows, size_t count)
{
	mcpauth_store_clients_free(rows, count);
}

bool mcpauth_store_client_list(struct mcpauth_store *store,
			       struct mcpauth_client ***clients,
			       size_t *count, struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	return collect(store, store->stmt[ST_CLIENT_LIST], sizeof(**clients),
		       read_client_row, drop_clients, "listing clients",
		       (void **)clients, count, err);
}

void mcpauth_store_clients_free(struct mcpauth_client **clients, size_t count)
{
	if (clients == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		mcpauth_client_free(clients[i]);
	free(clients);
}

bool mcpauth_store_client_touch(struct mcpauth_store *store,
				const char *client_id, long long now,
				struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CLIENT_TOUCH];
	sqlite3_bind_text(st, 1, client_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	return step_done(store, st, "recording a client's use", err);
}

struct gone {
	char *client_id, *software_id, *client_name;
};

bool mcpauth_store_gc(struct mcpauth_store *store, long long now,
		      long long idle_before, long long unused_before,
		      long long audit_before, long *clients_removed,
		      long *audit_removed, struct mcpauth_err *err)
{
	struct gone *gone = NULL;
	sqlite3_stmt *st;
	size_t n = 0;
	long audits = 0;
	bool ok = false, oom = false;
	int rc;

	if (not_ready(store, err) || !run(store, ST_BEGIN, err))
		return false;
	if (idle_before > 0 || unused_before > 0) {
		st = store->stmt[ST_GC_CLIENTS];
		sqlite3_bind_int64(st, 1, idle_before);
		sqlite3_bind_int64(st, 2, unused_before);
		/* Collected first: the rows are audited after the DELETE. */
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct gone *ng = realloc(gone, (n + 1) * sizeof(*ng));
			if (ng == NULL) {
				oom = true;
				break;
			}
			gone = ng;
			gone[n].client_id = col_str(st, 0, &oom);
			gone[n].software_id = col_str(st, 1, &oom);
			gone[n].client_name = col_str(st, 2, &oom);
			n++;
		}
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (oom) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			goto out;
		}
		if (rc != SQLITE_DONE) {
			DB_ERR(store, err, "removing idle clients");
			goto out;
		}
	}
	if (audit_before > 0) {
		st = store->stmt[ST_GC_AUDIT];
		sqlite3_bind_int64(st, 1, audit_before);
		if (!step_done(store, st, "removing old audit rows", err))
			goto out;
		audits = (long)sqlite3_changes(store->db);
	}
	for (size_t i = 0; i < n; i++) {
		struct mcpauth_audit a = {
			.at = now,
			.event = "gc",
			.actor = "gc",
			.client_id = gone[i].client_id,
			.software_id = gone[i].software_id,
			.client_name = gone[i].client_name,
			.detail = "removed: idle or never used (see "
				  "dynamic_client_idle_expiry)",
		};
		if (!audit_insert(store, &a, err))
			goto out;
	}
	if (!run(store, ST_COMMIT, err))
		goto out;
	*clients_removed = (long)n;
	*audit_removed = audits;
	ok = true;
out:
	if (!ok)
		rollback(store);
	for (size_t i = 0; i < n; i++) {
		free(gone[i].client_id);
		free(gone[i].software_id);
		free(gone[i].client_name);
	}
	free(gone);
	return ok;
}

/* --- initial access tokens ----------------------------------------------- */

bool mcpauth_store_initial_token_add(struct mcpauth_store *store,
				     const char *label, const char *hash,
				     long long created_at,
				     long long expires_at, long long *id,
				     struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_IAT_INSERT];
	bind_str(st, 1, label);
	bind_str(st, 2, hash);
	sqlite3_bind_int64(st, 3, created_at);
	sqlite3_bind_int64(st, 4, expires_at);
	if (!step_done(store, st, "storing an initial access token", err))
		return false;
	*id = sqlite3_last_insert_rowid(store->db);
	return true;
}

bool mcpauth_store_initial_token_find(struct mcpauth_store *store,
				      const char *hash, long long now,
				      long long *id, struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_IAT_FIND];
	bind_str(st, 1, hash);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		DB_ERR(store, err, "looking up an initial access token");
		return false;
	}
	return true;
}

static bool read_initial_token(sqlite3_stmt *st, void *row)
{
	struct mcpauth_initial_token *t = row;
	const char *label = (const char *)sqlite3_column_text(st, 1);

	t->id = sqlite3_column_int64(st, 0);
	snprintf(t->label, sizeof(t->label), "%s", label != NULL ? label : "");
	t->created_at = sqlite3_column_int64(st, 2);
	t->expires_at = sqlite3_column_int64(st, 3);
	t->revoked_at = col_time(st, 4);
	t->uses = sqlite3_column_int64(st, 5);
	t->last_used_at = col_time(st, 6);
	return true;
}

/* Initial tokens own no strings: the array is all there is to free. */
static void drop_plain(void *rows, size_t count)
{
	(void)count;
	free(rows);
}

bool mcpauth_store_initial_token_list(struct mcpauth_store *store,
				      struct mcpauth_initial_token **tokens,
				      size_t *count, struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	return collect(store, store->stmt[ST_IAT_LIST], sizeof(**tokens),
		       read_initial_token, drop_plain,
		       "listing initial access tokens", (void **)tokens,
		       count, err);
}

bool mcpauth_store_initial_token_revoke(struct mcpauth_store *store,
					long long id, long long now,
					bool *found, struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_IAT_REVOKE];
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	if (!step_done(store, st, "revoking an initial access token", err))
		return false;
	*found = sqlite3_changes(store->db) == 1;
	return true;
}

/* --- transactions -------------------------------------------------------- */

bool mcpauth_store_begin(struct mcpauth_store *store, struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	return run(store, ST_BEGIN, err);
}

bool mcpauth_store_commit(struct mcpauth_store *store, struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	if (run(store, ST_COMMIT, err))
		return true;
	/* A COMMIT that failed (SQLITE_BUSY) leaves the transaction open. */
	rollback(store);
	return false;
}

void mcpauth_store_rollback(struct mcpauth_store *store)
{
	if (store != NULL && store->ready)
		rollback(store);
}

/* Steps a statement that returns at most one row. *row says if it did. */
static bool step_row(struct mcpauth_store *store, sqlite3_stmt *st,
		     const char *what, bool *row, struct mcpauth_err *err)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		DB_ERR(store, err, what);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return false;
	}
	*row = rc == SQLITE_ROW;
	return true;
}

/* Resets a statement stepped with step_row, after its row was read. */
static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/*
 * Runs statement s with ?1 = text key and, when it has one, ?2 = integer v
 * (0: NULL).
 */
static bool run_key(struct mcpauth_store *store, enum stmt s, const char *key,
		    long long v, const char *what, struct mcpauth_err *err)
{
	sqlite3_stmt *st = store->stmt[s];

	bind_str(st, 1, key);
	if (sqlite3_bind_parameter_count(st) >= 2)
		bind_time(st, 2, v);
	return step_done(store, st, what, err);
}

/* --- users and sessions -------------------------------------------------- */

void mcpauth_user_free(struct mcpauth_user *user)
{
	if (user == NULL)
		return;
	free(user->password_hash);
	free(user);
}

void mcpauth_store_users_free(struct mcpauth_user *users, size_t count)
{
	if (users == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free(users[i].password_hash);
	free(users);
}

/* The user in the current row of a USER_COLUMNS statement, into u. */
static void read_user(sqlite3_stmt *st, struct mcpauth_user *u, bool hash,
		      bool *oom)
{
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	snprintf(u->username, sizeof(u->username), "%s",
		 (const char *)sqlite3_column_text(st, 1));
	snprintf(u->subject, sizeof(u->subject), "%s",
		 (const char *)sqlite3_column_text(st, 2));
	if (hash)
		u->password_hash = col_str(st, 3, oom);
	u->created_at = sqlite3_column_int64(st, 4);
	u->disabled_at = col_time(st, 5);
	u->last_login_at = col_time(st, 6);
}

bool mcpauth_store_user_add(struct mcpauth_store *store, const char *username,
			    const char *subject, const char *password_hash,
			    long long now, long long *id,
			    struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	bool taken;
	int rc;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_USER_INSERT];
	bind_str(st, 1, username);
	bind_str(st, 2, subject);
	bind_str(st, 3, password_hash);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st);
	/* The subject is UNIQUE too: only the username's is the caller's. */
	taken = rc != SQLITE_DONE &&
		sqlite3_extended_errcode(store->db) ==
			SQLITE_CONSTRAINT_UNIQUE &&
		strstr(sqlite3_errmsg(store->db), "users.username") != NULL;
	if (rc != SQLITE_DONE) {
		if (taken)
			MCPAUTH_ERR(err, 400, "invalid_request",
				    "user '%s' exists", username);
		else
			DB_ERR(store, err, "adding a user");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return false;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(store->db);
	return true;
}

/* The user found by statement s bound to key or id, or *out NULL. */
static bool user_get(struct mcpauth_store *store, enum stmt s,
		     const char *key, long long id, struct mcpauth_user **out,
		     struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	struct mcpauth_user *u = NULL;
	bool row = false, oom = false;

	if (not_ready(store, err))
		return false;
	st = store->stmt[s];
	if (key != NULL)
		bind_str(st, 1, key);
	else
		sqlite3_bind_int64(st, 1, id);
	if (!step_row(store, st, "reading a user", &row, err))
		return false;
	if (row && (u = malloc(sizeof(*u))) != NULL)
		read_user(st, u, true, &oom);
	done(st);
	if (row && (u == NULL || oom || u->password_hash == NULL)) {
		mcpauth_user_free(u);
		MCPAUTH_ERR_INTERNAL(err, "out of memory reading a user");
		return false;
	}
	*out = u;
	return true;
}

bool mcpauth_store_user_get(struct mcpauth_store *store, const char *username,
			    struct mcpauth_user **out, struct mcpauth_err *err)
{
	return user_get(store, ST_USER_GET, username != NULL ? username : "",
			0, out, err); /* a NULL key means by id */
}

bool mcpauth_store_user_get_id(struct mcpauth_store *store, long long id,
			       struct mcpauth_user **out,
			       struct mcpauth_err *err)
{
	return user_get(store, ST_USER_GET_ID, NULL, id, out, err);
}

static bool read_user_row(sqlite3_stmt *st, void *row)
{
	bool oom = false;

	read_user(st, row, false, &oom);
	return !oom;
}

static void drop_users(void *rows, size_t count)
{
	mcpauth_store_users_free(rows, count);
}

bool mcpauth_store_user_list(struct mcpauth_store *store,
			     struct mcpauth_user **users, size_t *count,
			     struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	return collect(store, store->stmt[ST_USER_LIST], sizeof(**users),
		       read_user_row, drop_users, "listing users",
		       (void **)users, count, err);
}

/*
 * In the caller's transaction: ends the user's sessions and revokes, at
 * the time given, every refresh and access token issued for the user.
 */
static bool end_user(struct mcpauth_store *store, const char *username,
		     long long at, struct mcpauth_err *err)
{
	return run_key(store, ST_USER_SESSIONS_DELETE, username, 0,
		       "ending a user's sessions", err) &&
	       run_key(store, ST_USER_REFRESH_REVOKE, username, at,
		       "revoking a user's refresh tokens", err) &&
	       run_key(store, ST_USER_ACCESS_REVOKE, username, at,
		       "revoking a user's access tokens", err);
}

bool mcpauth_store_user_set_password(struct mcpauth_store *store,
				     const char *username, const char *hash,
				     long long revoke_at, bool *found,
				     struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	int changes;

	if (not_ready(store, err) || !run(store, ST_BEGIN, err))
		return false;
	st = store->stmt[ST_USER_SET_PASSWORD];
	bind_str(st, 1, username);
	bind_str(st, 2, hash);
	if (!step_done(store, st, "changing a password", err))
		goto fail;
	changes = sqlite3_changes(store->db);
	/*
	 * A new password ends every sign-in made with the old one and
	 * revokes what they were given (the old password may have leaked).
	 */
	if (changes == 1 && revoke_at > 0 &&
	    !end_user(store, username, revoke_at, err))
		goto fail;
	if (!run(store, ST_COMMIT, err))
		goto fail;
	*found = changes == 1;
	return true;
fail:
	rollback(store);
	return false;
}

bool mcpauth_store_user_set_disabled(struct mcpauth_store *store,
				     const char *username, long long at,
				     bool *found, struct mcpauth_err *err)
{
	int changes;

	if (not_ready(store, err) || !run(store, ST_BEGIN, err))
		return false;
	if (!run_key(store, ST_USER_SET_DISABLED, username, at,
		     "disabling a user", err))
		goto fail;
	changes = sqlite3_changes(store->db);
	if (changes == 1 && at > 0 && !end_user(store, username, at, err))
		goto fail;
	if (!run(store, ST_COMMIT, err))
		goto fail;
	*found = changes == 1;
	return true;
fail:
	rollback(store);
	return false;
}

bool mcpauth_store_user_login(struct mcpauth_store *store, long long id,
			      long long now, struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_USER_LOGIN];
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	return step_done(store, st, "recording a sign-in", err);
}

bool mcpauth_store_session_add(struct mcpauth_store *store, const char *id_hash,
			       long long user_id, long long auth_time,
			       long long now, long long expires_at,
			       struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_SESSION_INSERT];
	bind_str(st, 1, id_hash);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, auth_time);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, expires_at);
	return step_done(store, st, "storing a session", err);
}

bool mcpauth_store_session_get(struct mcpauth_store *store, const char *id_hash,
			       long long now, long long *user_id,
			       long long *auth_time, bool *found,
			       struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	bool row = false;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_SESSION_GET];
	bind_str(st, 1, id_hash);
	sqlite3_bind_int64(st, 2, now);
	if (!step_row(store, st, "reading a session", &row, err))
		return false;
	if (row) {
		*user_id = sqlite3_column_int64(st, 0);
		*auth_time = sqlite3_column_int64(st, 1);
	}
	done(st);
	*found = row;
	return true;
}

bool mcpauth_store_session_delete(struct mcpauth_store *store,
				  const char *id_hash, struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	return run_key(store, ST_SESSION_DELETE, id_hash, 0,
		       "deleting a session", err);
}

/* --- authorization requests and consents --------------------------------- */

void mcpauth_authz_request_free(struct mcpauth_authz_request *r)
{
	if (r == NULL)
		return;
	free(r->browser_hash);
	free(r->csrf_hash);
	free(r->client_id);
	free(r->redirect_uri);
	free(r->scope);
	free(r->resource);
	free(r->state);
	free(r->code_challenge);
	free(r->session_hash);
	free(r->rate_key);
	free(r);
}

/* One count(*) with ?1 text and ?2 integer. */
static bool count_key(struct mcpauth_store *store, enum stmt s,
		      const char *key, long long v, long *count,
		      struct mcpauth_err *err)
{
	sqlite3_stmt *st = store->stmt[s];
	int rc;

	bind_str(st, 1, key);
	sqlite3_bind_int64(st, 2, v);
	rc = sqlite3_step(st);
	*count = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW) {
		DB_ERR(store, err, stmt_sql[s]);
		return false;
	}
	return true;
}

bool mcpauth_store_login_failures(struct mcpauth_store *store,
				  const char *rate_key, const char *username,
				  long long since, long *by_key, long *by_user,
				  struct mcpauth_err *err)
{
	*by_key = *by_user = 0;
	if (not_ready(store, err))
		return false;
	return (rate_key == NULL ||
		count_key(store, ST_LOGIN_FAILURES_KEY, rate_key, since, by_key,
			  err)) &&
	       (username == NULL ||
		count_key(store, ST_LOGIN_FAILURES_USER, username, since,
			  by_user, err));
}

bool mcpauth_store_authz_add(struct mcpauth_store *store, const char *id_hash,
			     const struct mcpauth_authz_request *r,
			     long max_pending, struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	long pending = 0;

	if (not_ready(store, err) || !run(store, ST_BEGIN, err))
		return false;
	st = store->stmt[ST_AUTHZ_EXPIRE];
	sqlite3_bind_int64(st, 1, r->created_at);
	if (!step_done(store, st, "removing expired requests", err))
		goto fail;
	if (max_pending > 0 && r->rate_key != NULL) {
		if (!count_key(store, ST_AUTHZ_PENDING, r->rate_key,
			       r->created_at, &pending, err))
			goto fail;
		if (pending >= max_pending) {
			MCPAUTH_ERR(err, 429, "temporarily_unavailable",
				    "too many sign-ins in progress from this "
				    "address; finish one or wait a few minutes");
			goto fail;
		}
	}
	st = store->stmt[ST_AUTHZ_INSERT];
	bind_str(st, 1, id_hash);
	bind_str(st, 2, r->browser_hash);
	bind_str(st, 3, r->csrf_hash);
	bind_str(st, 4, r->client_id);
	bind_str(st, 5, r->redirect_uri);
	bind_str(st, 6, r->scope);
	bind_str(st, 7, r->resource);
	bind_str(st, 8, r->state);
	bind_str(st, 9, r->code_challenge);
	sqlite3_bind_int(st, 10, r->force_login);
	sqlite3_bind_int(st, 11, r->force_consent);
	bind_str(st, 12, r->session_hash);
	sqlite3_bind_int64(st, 13, r->created_at);
	sqlite3_bind_int64(st, 14, r->expires_at);
	bind_str(st, 15, r->rate_key);
	if (!step_done(store, st, "storing an authorization request", err) ||
	    !run(store, ST_COMMIT, err))
		goto fail;
	return true;
fail:
	rollback(store);
	return false;
}

bool mcpauth_store_authz_get(struct mcpauth_store *store, const char *id_hash,
			     long long now,
			     struct mcpauth_authz_request **out,
			     struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	struct mcpauth_authz_request *r = NULL;
	bool row = false, oom = false;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_AUTHZ_GET];
	bind_str(st, 1, id_hash);
	sqlite3_bind_int64(st, 2, now);
	if (!step_row(store, st, "reading an authorization request", &row,
		      err))
		return false;
	if (row && (r = calloc(1, sizeof(*r))) != NULL) {
		r->browser_hash = col_str(st, 0, &oom);
		r->csrf_hash = col_str(st, 1, &oom);
		r->client_id = col_str(st, 2, &oom);
		r->redirect_uri = col_str(st, 3, &oom);
		r->scope = col_str(st, 4, &oom);
		r->resource = col_str(st, 5, &oom);
		r->state = col_str(st, 6, &oom);
		r->code_challenge = col_str(st, 7, &oom);
		r->force_login = sqlite3_column_int(st, 8) != 0;
		r->force_consent = sqlite3_column_int(st, 9) != 0;
		r->session_hash = col_str(st, 10, &oom);
		r->created_at = sqlite3_column_int64(st, 11);
		r->expires_at = sqlite3_column_int64(st, 12);
	}
	done(st);
	if (row && (r == NULL || oom)) {
		mcpauth_authz_request_free(r);
		MCPAUTH_ERR_INTERNAL(err, "out of memory reading an "
					  "authorization request");
		return false;
	}
	*out = r;
	return true;
}

bool mcpauth_store_authz_set_session(struct mcpauth_store *store,
				     const char *id_hash,
				     const char *session_hash,
				     struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_AUTHZ_SET_SESSION];
	bind_str(st, 1, id_hash);
	bind_str(st, 2, session_hash);
	return step_done(store, st, "recording a request's session", err);
}

bool mcpauth_store_authz_delete(struct mcpauth_store *store,
				const char *id_hash, bool *found,
				struct mcpauth_err *err)
{
	if (not_ready(store, err) ||
	    !run_key(store, ST_AUTHZ_DELETE, id_hash, 0,
		     "deleting an authorization request", err))
		return false;
	if (found != NULL)
		*found = sqlite3_changes(store->db) == 1;
	return true;
}

bool mcpauth_store_authz_set_csrf(struct mcpauth_store *store,
				  const char *id_hash, const char *csrf_hash,
				  bool *found, struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_AUTHZ_SET_CSRF];
	bind_str(st, 1, id_hash);
	bind_str(st, 2, csrf_hash);
	if (!step_done(store, st, "renewing a CSRF token", err))
		return false;
	*found = sqlite3_changes(store->db) == 1;
	return true;
}

bool mcpauth_store_authz_set_scope(struct mcpauth_store *store,
				   const char *id_hash, const char *scope,
				   struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_AUTHZ_SET_SCOPE];
	bind_str(st, 1, id_hash);
	bind_str(st, 2, scope);
	return step_done(store, st, "narrowing a request's scope", err);
}

bool mcpauth_store_consent_get(struct mcpauth_store *store, long long user_id,
			       const char *client_id, const char *resource,
			       char **scope, struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	char *s = NULL;
	bool row = false, oom = false;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CONSENT_GET];
	sqlite3_bind_int64(st, 1, user_id);
	bind_str(st, 2, client_id);
	bind_str(st, 3, resource);
	if (!step_row(store, st, "reading a consent", &row, err))
		return false;
	if (row)
		s = col_str(st, 0, &oom);
	done(st);
	if (oom) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory reading a consent");
		return false;
	}
	*scope = s;
	return true;
}

bool mcpauth_store_consent_set(struct mcpauth_store *store, long long user_id,
			       const char *client_id, const char *resource,
			       const char *scope, long long now,
			       struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CONSENT_SET];
	sqlite3_bind_int64(st, 1, user_id);
	bind_str(st, 2, client_id);
	bind_str(st, 3, resource);
	bind_str(st, 4, scope);
	sqlite3_bind_int64(st, 5, now);
	return step_done(store, st, "storing a consent", err);
}

bool mcpauth_store_consent_revoke(struct mcpauth_store *store,
				  const char *username, const char *client_id,
				  long long now, long *count,
				  struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	/* What the consent allowed goes with it, in one transaction. */
	if (!run(store, ST_BEGIN, err))
		return false;
	st = store->stmt[ST_CONSENT_REVOKE];
	bind_str(st, 1, username);
	bind_str(st, 2, client_id);
	if (!step_done(store, st, "revoking consents", err))
		goto fail;
	*count = (long)sqlite3_changes(store->db);
	for (enum stmt t = ST_CONSENT_REVOKE_REFRESH;
	     t <= ST_CONSENT_REVOKE_ACCESS; t++) {
		st = store->stmt[t];
		bind_str(st, 1, username);
		bind_str(st, 2, client_id);
		sqlite3_bind_int64(st, 3, now);
		if (!step_done(store, st, "revoking tokens", err))
			goto fail;
	}
	if (!run(store, ST_COMMIT, err))
		goto fail;
	return true;
fail:
	rollback(store);
	return false;
}

bool mcpauth_store_client_set_first_party(struct mcpauth_store *store,
					  const char *client_id,
					  bool first_party, bool *found,
					  struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CLIENT_FIRST_PARTY];
	bind_str(st, 1, client_id);
	sqlite3_bind_int(st, 2, first_party);
	if (!step_done(store, st, "setting first_party", err))
		return false;
	*found = sqlite3_changes(store->db) == 1;
	return true;
}

/* --- codes and tokens ---------------------------------------------------- */

void mcpauth_code_free(struct mcpauth_code *code)
{
	if (code == NULL)
		return;
	free(code->client_id);
	free(code->redirect_uri);
	free(code->code_challenge);
	free(code->resource);
	free(code->scope);
	free(code->family_id);
	free(code);
}

bool mcpauth_store_code_add(struct mcpauth_store *store, const char *code_hash,
			    const struct mcpauth_code *code,
			    struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CODE_INSERT];
	bind_str(st, 1, code_hash);
	bind_str(st, 2, code->client_id);
	sqlite3_bind_int64(st, 3, code->user_id);
	bind_str(st, 4, code->redirect_uri);
	bind_str(st, 5, code->code_challenge);
	bind_str(st, 6, code->resource);
	bind_str(st, 7, code->scope);
	sqlite3_bind_int64(st, 8, code->auth_time);
	sqlite3_bind_int64(st, 9, code->created_at);
	sqlite3_bind_int64(st, 10, code->expires_at);
	bind_time(st, 11, code->consumed_at);
	bind_str(st, 12, code->family_id);
	return step_done(store, st, "storing an authorization code", err);
}

bool mcpauth_store_code_get(struct mcpauth_store *store, const char *code_hash,
			    struct mcpauth_code **out, struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	struct mcpauth_code *c = NULL;
	bool row = false, oom = false;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CODE_GET];
	bind_str(st, 1, code_hash);
	if (!step_row(store, st, "reading an authorization code", &row, err))
		return false;
	if (row && (c = calloc(1, sizeof(*c))) != NULL) {
		c->client_id = col_str(st, 0, &oom);
		c->user_id = sqlite3_column_int64(st, 1);
		c->redirect_uri = col_str(st, 2, &oom);
		c->code_challenge = col_str(st, 3, &oom);
		c->resource = col_str(st, 4, &oom);
		c->scope = col_str(st, 5, &oom);
		c->auth_time = sqlite3_column_int64(st, 6);
		c->created_at = sqlite3_column_int64(st, 7);
		c->expires_at = sqlite3_column_int64(st, 8);
		c->consumed_at = col_time(st, 9);
		c->family_id = col_str(st, 10, &oom);
	}
	done(st);
	if (row && (c == NULL || oom)) {
		mcpauth_code_free(c);
		MCPAUTH_ERR_INTERNAL(err, "out of memory reading a code");
		return false;
	}
	*out = c;
	return true;
}

bool mcpauth_store_code_consume(struct mcpauth_store *store,
				const char *code_hash, const char *family_id,
				long long now, bool *won,
				struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	/* Single use (RFC 6749 §4.1.2): only one UPDATE changes the row. */
	st = store->stmt[ST_CODE_CONSUME];
	sqlite3_bind_int64(st, 1, now);
	bind_str(st, 2, family_id);
	bind_str(st, 3, code_hash);
	if (!step_done(store, st, "consuming an authorization code", err))
		return false;
	*won = sqlite3_changes(store->db) == 1;
	return true;
}

void mcpauth_refresh_free(struct mcpauth_refresh *r)
{
	if (r == NULL)
		return;
	free(r->family_id);
	free(r->client_id);
	free(r->resource);
	free(r->scope);
	free(r);
}

bool mcpauth_store_refresh_add(struct mcpauth_store *store,
			       const char *token_hash,
			       const struct mcpauth_refresh *r,
			       struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_REFRESH_INSERT];
	bind_str(st, 1, token_hash);
	bind_str(st, 2, r->family_id);
	bind_str(st, 3, r->client_id);
	sqlite3_bind_int64(st, 4, r->user_id);
	bind_str(st, 5, r->resource);
	bind_str(st, 6, r->scope);
	sqlite3_bind_int64(st, 7, r->auth_time);
	sqlite3_bind_int64(st, 8, r->created_at);
	sqlite3_bind_int64(st, 9, r->expires_at);
	bind_time(st, 10, r->rotated_at);
	bind_time(st, 11, r->revoked_at);
	return step_done(store, st, "storing a refresh token", err);
}

bool mcpauth_store_refresh_get(struct mcpauth_store *store,
			       const char *token_hash,
			       struct mcpauth_refresh **out,
			       struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	struct mcpauth_refresh *r = NULL;
	bool row = false, oom = false;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_REFRESH_GET];
	bind_str(st, 1, token_hash);
	if (!step_row(store, st, "reading a refresh token", &row, err))
		return false;
	if (row && (r = calloc(1, sizeof(*r))) != NULL) {
		r->family_id = col_str(st, 0, &oom);
		r->client_id = col_str(st, 1, &oom);
		r->user_id = sqlite3_column_int64(st, 2);
		r->resource = col_str(st, 3, &oom);
		r->scope = col_str(st, 4, &oom);
		r->auth_time = sqlite3_column_int64(st, 5);
		r->created_at = sqlite3_column_int64(st, 6);
		r->expires_at = sqlite3_column_int64(st, 7);
		r->rotated_at = col_time(st, 8);
		r->revoked_at = col_time(st, 9);
	}
	done(st);
	if (row && (r == NULL || oom)) {
		mcpauth_refresh_free(r);
		MCPAUTH_ERR_INTERNAL(err, "out of memory reading a refresh "
					  "token");
		return false;
	}
	*out = r;
	return true;
}

bool mcpauth_store_refresh_rotate(struct mcpauth_store *store,
				  const char *token_hash, long long now,
				  bool *won, struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_REFRESH_ROTATE];
	sqlite3_bind_int64(st, 1, now);
	bind_str(st, 2, token_hash);
	if (!step_done(store, st, "rotating a refresh token", err))
		return false;
	*won = sqlite3_changes(store->db) == 1;
	return true;
}

bool mcpauth_store_family_revoke(struct mcpauth_store *store,
				 const char *family_id, long long now,
				 struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	/* RFC 9700 §4.14.2: reuse revokes the whole grant. */
	return run_key(store, ST_FAMILY_REFRESH_REVOKE, family_id, now,
		       "revoking a refresh token family", err) &&
	       run_key(store, ST_FAMILY_ACCESS_REVOKE, family_id, now,
		       "revoking a family's access tokens", err);
}

void mcpauth_access_free(struct mcpauth_access *a)
{
	if (a == NULL)
		return;
	free(a->client_id);
	free(a->resource);
	free(a->scope);
	free(a);
}

bool mcpauth_store_access_add(struct mcpauth_store *store,
			      const struct mcpauth_access *a,
			      struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_ACCESS_INSERT];
	bind_str(st, 1, a->jti);
	bind_str(st, 2, a->family_id[0] != '\0' ? a->family_id : NULL);
	bind_str(st, 3, a->client_id);
	bind_time(st, 4, a->user_id);
	bind_str(st, 5, a->resource);
	bind_str(st, 6, a->scope);
	sqlite3_bind_int64(st, 7, a->issued_at);
	sqlite3_bind_int64(st, 8, a->expires_at);
	bind_time(st, 9, a->revoked_at);
	return step_done(store, st, "storing an access token", err);
}

bool mcpauth_store_access_get(struct mcpauth_store *store, const char *jti,
			      struct mcpauth_access **out,
			      struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	struct mcpauth_access *a = NULL;
	bool row = false, oom = false;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_ACCESS_GET];
	bind_str(st, 1, jti);
	if (!step_row(store, st, "reading an access token", &row, err))
		return false;
	if (row && (a = calloc(1, sizeof(*a))) != NULL) {
		const char *family = (const char *)sqlite3_column_text(st, 1);
		snprintf(a->jti, sizeof(a->jti), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		snprintf(a->family_id, sizeof(a->family_id), "%s",
			 family != NULL ? family : "");
		a->client_id = col_str(st, 2, &oom);
		a->user_id = col_time(st, 3);
		a->resource = col_str(st, 4, &oom);
		a->scope = col_str(st, 5, &oom);
		a->issued_at = sqlite3_column_int64(st, 6);
		a->expires_at = sqlite3_column_int64(st, 7);
		a->revoked_at = col_time(st, 8);
	}
	done(st);
	if (row && (a == NULL || oom)) {
		mcpauth_access_free(a);
		MCPAUTH_ERR_INTERNAL(err, "out of memory reading an access "
					  "token");
		return false;
	}
	*out = a;
	return true;
}

bool mcpauth_store_access_revoke(struct mcpauth_store *store, const char *jti,
				 long long now, bool *found,
				 struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	if (!run_key(store, ST_ACCESS_REVOKE, jti, now,
		     "revoking an access token", err))
		return false;
	*found = sqlite3_changes(store->db) == 1;
	return true;
}

bool mcpauth_store_gc_tokens(struct mcpauth_store *store, long long now,
			     long *removed, struct mcpauth_err *err)
{
	static const enum stmt gc[] = {
		ST_GC_SESSIONS, ST_GC_AUTHZ, ST_GC_CODES, ST_GC_REFRESH,
		ST_GC_ACCESS, ST_GC_PENDING_DOCS,
	};
	long n = 0;

	if (not_ready(store, err) || !run(store, ST_BEGIN, err))
		return false;
	for (size_t i = 0; i < sizeof(gc) / sizeof(gc[0]); i++) {
		sqlite3_stmt *st = store->stmt[gc[i]];
		sqlite3_bind_int64(st, 1, now);
		if (!step_done(store, st, stmt_sql[gc[i]], err))
			goto fail;
		n += (long)sqlite3_changes(store->db);
	}
	if (!run(store, ST_COMMIT, err))
		goto fail;
	*removed = n;
	return true;
fail:
	rollback(store);
	return false;
}

/* --- operator-provisioned clients ------------------------------------------- */

/* An UPDATE keyed by client_id (?1); *found from the changes. */
static bool update_client(struct mcpauth_store *store, sqlite3_stmt *st,
			  const char *what, bool *found,
			  struct mcpauth_err *err)
{
	if (!step_done(store, st, what, err))
		return false;
	*found = sqlite3_changes(store->db) == 1;
	return true;
}

bool mcpauth_store_client_set_secret(struct mcpauth_store *store,
				     const char *client_id, const char *hash,
				     long long expires_at,
				     long long previous_until, bool *found,
				     struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CLIENT_SET_SECRET];
	bind_str(st, 1, client_id);
	bind_str(st, 2, hash);
	sqlite3_bind_int64(st, 3, expires_at);
	sqlite3_bind_int64(st, 4, (long long)time(NULL));
	sqlite3_bind_int64(st, 5, previous_until);
	return update_client(store, st, "replacing a client secret", found,
			     err);
}

bool mcpauth_store_client_set_disabled(struct mcpauth_store *store,
				       const char *client_id, long long at,
				       bool *found, struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CLIENT_SET_DISABLED];
	bind_str(st, 1, client_id);
	bind_time(st, 2, at);
	return update_client(store, st, "disabling a client", found, err);
}

bool mcpauth_store_client_set_keys(struct mcpauth_store *store,
				   const struct mcpauth_client *keys,
				   bool *found, struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CLIENT_SET_KEYS];
	bind_str(st, 1, keys->client_id);
	bind_str(st, 2, keys->jwks);
	bind_str(st, 3, keys->signing_alg);
	bind_str(st, 4, keys->jwks_uri);
	bind_time(st, 5, keys->jwks_fetched_at);
	bind_time(st, 6, keys->jwks_expires_at);
	return update_client(store, st, "replacing a client's keys", found,
			     err);
}

bool mcpauth_store_client_jwks_fetched(struct mcpauth_store *store,
				       const char *client_id,
				       const char *jwks_uri, const char *jwks,
				       long long fetched_at,
				       long long expires_at,
				       struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	bool found = false;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CLIENT_JWKS_FETCHED];
	bind_str(st, 1, client_id);
	bind_str(st, 2, jwks);
	sqlite3_bind_int64(st, 3, fetched_at);
	sqlite3_bind_int64(st, 4, expires_at);
	bind_str(st, 5, jwks_uri);
	return update_client(store, st, "caching a client's fetched keys",
			     &found, err);
}

bool mcpauth_store_assertion_jti(struct mcpauth_store *store,
				 const char *client_id, const char *jti,
				 long long expires_at, long long now,
				 bool *fresh, struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_JTI_EXPIRE];
	sqlite3_bind_int64(st, 1, now);
	if (!step_done(store, st, "removing expired assertion ids", err))
		return false;
	/* The primary key decides: of concurrent inserts exactly one adds. */
	st = store->stmt[ST_JTI_INSERT];
	bind_str(st, 1, client_id);
	bind_str(st, 2, jti);
	sqlite3_bind_int64(st, 3, expires_at);
	if (!step_done(store, st, "recording an assertion id", err))
		return false;
	*fresh = sqlite3_changes(store->db) == 1;
	return true;
}

/* --- what the operator reads: consents, audit trail, statistics ------------ */

void mcpauth_store_consent_rows_free(struct mcpauth_consent_row *rows,
				     size_t count)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		free(rows[i].username);
		free(rows[i].client_id);
		free(rows[i].client_name);
		free(rows[i].resource);
		free(rows[i].scope);
	}
	free(rows);
}

static bool read_consent_row(sqlite3_stmt *st, void *row)
{
	struct mcpauth_consent_row *r = row;
	bool oom = false;

	r->username = col_str(st, 0, &oom);
	r->client_id = col_str(st, 1, &oom);
	r->client_name = col_str(st, 2, &oom);
	r->resource = col_str(st, 3, &oom);
	r->scope = col_str(st, 4, &oom);
	r->granted_at = sqlite3_column_int64(st, 5);
	return !oom;
}

static void drop_consents(void *rows, size_t count)
{
	mcpauth_store_consent_rows_free(rows, count);
}

bool mcpauth_store_consent_list(struct mcpauth_store *store,
				const char *username,
				struct mcpauth_consent_row **rows,
				size_t *count, struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CONSENT_LIST];
	bind_str(st, 1, username);
	return collect(store, st, sizeof(**rows), read_consent_row,
		       drop_consents, "listing consents", (void **)rows, count,
		       err);
}

void mcpauth_store_audit_rows_free(struct mcpauth_audit_row *rows,
				   size_t count)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		free(rows[i].event);
		free(rows[i].outcome);
		free(rows[i].actor);
		free(rows[i].client_id);
		free(rows[i].address);
		free(rows[i].username);
		free(rows[i].client_name);
		free(rows[i].error);
		free(rows[i].detail);
	}
	free(rows);
}

static bool read_audit_row(sqlite3_stmt *st, void *row)
{
	struct mcpauth_audit_row *r = row;
	bool oom = false;

	r->id = sqlite3_column_int64(st, 0);
	r->at = sqlite3_column_int64(st, 1);
	r->event = col_str(st, 2, &oom);
	r->outcome = col_str(st, 3, &oom);
	r->actor = col_str(st, 4, &oom);
	r->client_id = col_str(st, 5, &oom);
	r->address = col_str(st, 6, &oom);
	r->username = col_str(st, 7, &oom);
	r->client_name = col_str(st, 8, &oom);
	r->error = col_str(st, 9, &oom);
	r->detail = col_str(st, 10, &oom);
	r->status = (int)col_time(st, 11);
	return !oom;
}

static void drop_audit_rows(void *rows, size_t count)
{
	mcpauth_store_audit_rows_free(rows, count);
}

bool mcpauth_store_audit_list(struct mcpauth_store *store,
			      const struct mcpauth_audit_filter *filter,
			      struct mcpauth_audit_row **rows, size_t *count,
			      struct mcpauth_err *err)
{
	sqlite3_stmt *st;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_AUDIT_LIST];
	sqlite3_bind_int64(st, 1, filter->since);
	bind_str(st, 2, filter->event);
	bind_str(st, 3, filter->client_id);
	bind_str(st, 4, filter->address);
	sqlite3_bind_int64(st, 5, filter->limit > 0 ? filter->limit : 1);
	return collect(store, st, sizeof(**rows), read_audit_row,
		       drop_audit_rows, "reading the audit log", (void **)rows,
		       count, err);
}

bool mcpauth_store_stats(struct mcpauth_store *store, long long now,
			 struct mcpauth_stats *out, struct mcpauth_err *err)
{
	long *counts[] = {
		&out->clients_dynamic,	   &out->clients_operator,
		&out->clients_metadata_document, &out->clients_disabled,
		&out->users_enabled,	   &out->users_disabled,
		&out->active_grants,	   &out->consents,
		&out->access_tokens_valid, &out->failed_signins,
		&out->registrations,	   &out->registrations_refused,
	};
	/* Today (UTC) and the days before it. */
	long long first = (now / 86400 - (MCPAUTH_STATS_DAYS - 1)) * 86400;
	sqlite3_stmt *st;
	int rc;

	if (not_ready(store, err))
		return false;
	memset(out, 0, sizeof(*out));
	st = store->stmt[ST_STATS];
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, now - 86400);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
			*counts[i] = (long)sqlite3_column_int64(st, (int)i);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW) {
		DB_ERR(store, err, "counting for stats");
		return false;
	}
	for (int d = 0; d < MCPAUTH_STATS_DAYS; d++)
		out->day_start[d] = first + (long long)d * 86400;
	st = store->stmt[ST_STATS_ACCESS_DAYS];
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, MCPAUTH_STATS_DAYS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long d = sqlite3_column_int64(st, 0);
		if (d >= 0 && d < MCPAUTH_STATS_DAYS)
			out->access_tokens_issued[d] =
				(long)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		DB_ERR(store, err, "counting access tokens per day");
		return false;
	}
	return true;
}

/* --- what the operator revokes ---------------------------------------------- */

bool mcpauth_store_family_find(struct mcpauth_store *store,
			       const char *family_id, char **client_id,
			       char **username, bool *found,
			       struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	bool row = false, oom = false;

	*client_id = *username = NULL;
	*found = false;
	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_FAMILY_FIND];
	bind_str(st, 1, family_id);
	if (!step_row(store, st, "looking up a token family", &row, err))
		return false;
	if (row) {
		*client_id = col_str(st, 0, &oom);
		*username = col_str(st, 1, &oom);
	}
	done(st);
	if (oom) {
		free(*client_id);
		free(*username);
		*client_id = *username = NULL;
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	*found = row;
	return true;
}

bool mcpauth_store_tokens_revoke(struct mcpauth_store *store,
				 enum mcpauth_revoke_by by, const char *key,
				 long long now,
				 const struct mcpauth_audit *audit,
				 long *refresh, long *access,
				 struct mcpauth_err *err)
{
	enum stmt r, a;

	switch (by) {
	case MCPAUTH_REVOKE_BY_CLIENT:
		r = ST_CLIENT_REFRESH_REVOKE;
		a = ST_CLIENT_ACCESS_REVOKE;
		break;
	case MCPAUTH_REVOKE_BY_USER:
		r = ST_USER_REFRESH_REVOKE;
		a = ST_USER_ACCESS_REVOKE;
		break;
	default:
		r = ST_FAMILY_REFRESH_REVOKE;
		a = ST_FAMILY_ACCESS_REVOKE;
		break;
	}
	*refresh = *access = 0;
	if (not_ready(store, err) || !run(store, ST_BEGIN, err))
		return false;
	/* Each statement: ?1 the key, ?2 the time; revoked ones stay as are. */
	if (!run_key(store, r, key, now, "revoking refresh tokens", err))
		goto fail;
	*refresh = (long)sqlite3_changes(store->db);
	if (!run_key(store, a, key, now, "revoking access tokens", err))
		goto fail;
	*access = (long)sqlite3_changes(store->db);
	if (audit != NULL) {
		struct mcpauth_audit row = *audit;
		char detail[512];

		snprintf(detail, sizeof(detail),
			 "%s%s%ld refresh and %ld access tokens revoked",
			 audit->detail ? audit->detail : "",
			 audit->detail ? ": " : "", *refresh, *access);
		row.detail = detail;
		if (!audit_insert(store, &row, err))
			goto fail;
	}
	if (!run(store, ST_COMMIT, err))
		goto fail;
	return true;
fail:
	*refresh = *access = 0;
	rollback(store);
	return false;
}

/* Binds client to st (CLIENT_COLUMNS, CLIENT_MORE) and steps it. */
static bool write_client(struct mcpauth_store *store, enum stmt s,
			 const struct mcpauth_client *client,
			 const char *what, struct mcpauth_err *err)
{
	sqlite3_stmt *st = store->stmt[s];
	char *uris = uris_json(client);
	bool ok;

	if (uris == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	bind_client(st, client, uris);
	ok = step_done(store, st, what, err);
	free(uris);
	return ok;
}

bool mcpauth_store_client_document_pending(struct mcpauth_store *store,
					   const struct mcpauth_client *client,
					   struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	return write_client(store, ST_CLIENT_DOC_PENDING, client,
			    "adding a metadata document client", err);
}

bool mcpauth_store_client_document_save(struct mcpauth_store *store,
					const struct mcpauth_client *client,
					struct mcpauth_err *err)
{
	if (not_ready(store, err))
		return false;
	return write_client(store, ST_CLIENT_DOC_SAVE, client,
			    "saving a metadata document client", err);
}

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

#include <sqlite3.h>

#include "json.h"
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
	ST_AUDIT_COUNT,
	ST_CLIENT_COUNT_DYNAMIC,
	ST_CLIENT_INSERT,
	ST_CLIENT_GET,
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
	ST_COUNT
};

#define KEY_COLUMNS                                                        \
	"kid, alg, public_jwk, state, created_at, activated_at, retired_at, " \
	"publish_until"

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
		"address, software_id, client_name, error, detail) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_AUDIT_COUNT] =
		"SELECT coalesce(sum(NOT busy), 0), "
		"coalesce(min(CASE WHEN NOT busy THEN at END), 0), "
		"coalesce(sum(busy), 0) FROM (SELECT at, "
		"(outcome = 'refused' AND error IS 'temporarily_unavailable') "
		"AS busy FROM audit_log WHERE event = ?1 AND address IS ?2 "
		"AND at >= ?3)",
	[ST_CLIENT_COUNT_DYNAMIC] =
		"SELECT count(*) FROM clients WHERE source = 'dynamic'",
	[ST_CLIENT_INSERT] =
		"INSERT INTO clients (" CLIENT_COLUMNS ") VALUES (?1, ?2, ?3, "
		"?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		"?17, ?18, ?19)",
	[ST_CLIENT_GET] = "SELECT " CLIENT_COLUMNS " FROM clients "
			  "WHERE client_id = ?1",
	[ST_CLIENT_LIST] = "SELECT " CLIENT_COLUMNS " FROM clients "
			   "ORDER BY created_at DESC, client_id",
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
	[ST_GC_CLIENTS] =
		"DELETE FROM clients WHERE source = 'dynamic' AND "
		"max(created_at, updated_at, coalesce(last_used_at, 0)) < ?1 "
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
};

struct mcpauth_store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[ST_COUNT];
	bool ready;
};

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
	 * commits on power loss. The busy timeout queues writers.
	 */
	rc = sqlite3_exec(store->db,
			  "PRAGMA busy_timeout = 5000;"
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

static bool read_keys(struct mcpauth_store *store, enum stmt s, long long now,
		      struct mcpauth_signing_key **keys, size_t *count,
		      struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	struct mcpauth_signing_key *list = NULL;
	size_t n = 0;
	int rc;

	if (not_ready(store, err))
		return false;
	st = store->stmt[s];
	if (s == ST_KEY_PUBLISHED)
		sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mcpauth_signing_key *k;
		struct mcpauth_signing_key *nl =
			realloc(list, (n + 1) * sizeof(*list));
		if (nl == NULL) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			goto fail;
		}
		list = nl;
		k = &list[n];
		memset(k, 0, sizeof(*k));
		n++;
		snprintf(k->kid, sizeof(k->kid), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		snprintf(k->alg, sizeof(k->alg), "%s",
			 (const char *)sqlite3_column_text(st, 1));
		k->public_jwk = strdup((const char *)sqlite3_column_text(st, 2));
		k->state = state_from_name(
			(const char *)sqlite3_column_text(st, 3));
		k->created_at = col_time(st, 4);
		k->activated_at = col_time(st, 5);
		k->retired_at = col_time(st, 6);
		k->publish_until = col_time(st, 7);
		if (k->public_jwk == NULL) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		DB_ERR(store, err, "reading signing keys");
		goto fail;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	*keys = list;
	*count = n;
	return true;
fail:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	mcpauth_store_keys_free(list, n);
	return false;
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

bool mcpauth_store_audit_count(struct mcpauth_store *store, const char *event,
			       const char *address, long long since,
			       long *count, long long *oldest, long *busy,
			       struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_AUDIT_COUNT];
	bind_str(st, 1, event);
	bind_str(st, 2, address);
	sqlite3_bind_int64(st, 3, since);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count = (long)sqlite3_column_int64(st, 0);
		*oldest = sqlite3_column_int64(st, 1);
		*busy = (long)sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW) {
		DB_ERR(store, err, "counting audit rows");
		return false;
	}
	return true;
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

/* Binds the columns of CLIENT_COLUMNS in their order, ?1 to ?19. */
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

/* The client in the current row of a CLIENT_COLUMNS statement. */
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
			      long max_dynamic,
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

bool mcpauth_store_client_list(struct mcpauth_store *store,
			       struct mcpauth_client ***clients,
			       size_t *count, struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	struct mcpauth_client **list = NULL;
	size_t n = 0;
	int rc;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_CLIENT_LIST];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mcpauth_client **nl =
			realloc(list, (n + 1) * sizeof(*list));
		if (nl == NULL || (nl[n] = read_client(st)) == NULL) {
			if (nl != NULL)
				list = nl;
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			sqlite3_reset(st);
			mcpauth_store_clients_free(list, n);
			return false;
		}
		list = nl;
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		DB_ERR(store, err, "listing clients");
		mcpauth_store_clients_free(list, n);
		return false;
	}
	*clients = list;
	*count = n;
	return true;
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
		      long long idle_before, long long audit_before,
		      long *clients_removed, long *audit_removed,
		      struct mcpauth_err *err)
{
	struct gone *gone = NULL;
	sqlite3_stmt *st;
	size_t n = 0;
	long audits = 0;
	bool ok = false, oom = false;
	int rc;

	if (not_ready(store, err) || !run(store, ST_BEGIN, err))
		return false;
	if (idle_before > 0) {
		st = store->stmt[ST_GC_CLIENTS];
		sqlite3_bind_int64(st, 1, idle_before);
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
			.detail = "removed: not used within "
				  "dynamic_client_idle_expiry",
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

bool mcpauth_store_initial_token_list(struct mcpauth_store *store,
				      struct mcpauth_initial_token **tokens,
				      size_t *count, struct mcpauth_err *err)
{
	sqlite3_stmt *st;
	struct mcpauth_initial_token *list = NULL;
	size_t n = 0;
	int rc;

	if (not_ready(store, err))
		return false;
	st = store->stmt[ST_IAT_LIST];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mcpauth_initial_token *t;
		struct mcpauth_initial_token *nl =
			realloc(list, (n + 1) * sizeof(*list));
		const char *label;
		if (nl == NULL) {
			sqlite3_reset(st);
			free(list);
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			return false;
		}
		list = nl;
		t = &list[n++];
		memset(t, 0, sizeof(*t));
		t->id = sqlite3_column_int64(st, 0);
		label = (const char *)sqlite3_column_text(st, 1);
		snprintf(t->label, sizeof(t->label), "%s",
			 label != NULL ? label : "");
		t->created_at = sqlite3_column_int64(st, 2);
		t->expires_at = sqlite3_column_int64(st, 3);
		t->revoked_at = col_time(st, 4);
		t->uses = sqlite3_column_int64(st, 5);
		t->last_used_at = col_time(st, 6);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(list);
		DB_ERR(store, err, "listing initial access tokens");
		return false;
	}
	*tokens = list;
	*count = n;
	return true;
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

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
	ST_COUNT
};

#define KEY_COLUMNS                                                        \
	"kid, alg, public_jwk, state, created_at, activated_at, retired_at, " \
	"publish_until"

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

/*
 * check_store.c: migrations, the version gate, signing keys, users, sessions,
 * authorization requests, consents, codes and tokens in SQLite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check_mcpauth.h"
#include "store.h"

static char dir[4096], db[4200];

/* At most this many WAL pages once the WAL has started over. */
#define WAL_PAGES_AFTER_RESTART 1000

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	snprintf(db, sizeof(db), "%s/mcpauth.db", dir);
}

static void teardown(void)
{
	check_tmpdir_remove(dir);
}

static struct mcpauth_store *open_migrated(void)
{
	return check_store_migrated(db);
}

/* Runs SQL on the file from outside the store, as a sysadmin would. */
static long long sql_int(const char *sql)
{
	return check_sql_int(db, sql, NULL);
}

START_TEST(test_migrate_empty)
{
	struct mcpauth_store *store = NULL;
	struct mcpauth_err err = { 0 };
	int from = -1, to = -1, v = -1;

	ck_assert(mcpauth_store_open(db, MCPAUTH_STORE_CREATE, &store, &err));
	ck_assert(mcpauth_store_version(store, &v, &err));
	ck_assert_int_eq(v, 0);
	ck_assert(mcpauth_store_migrate(store, &from, &to, &err));
	ck_assert_int_eq(from, 0);
	ck_assert_int_eq(to, mcpauth_store_schema_version());
	ck_assert_int_ge(to, 1);
	ck_assert(mcpauth_store_version(store, &v, &err));
	ck_assert_int_eq(v, to);
	mcpauth_store_free(store);
	/* What a sysadmin sees with sqlite3. */
	ck_assert_int_eq(sql_int("PRAGMA user_version"), to);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM schema_migrations"), to);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM signing_keys_view"), 0);
	ck_assert_int_eq(sql_int("SELECT journal_mode = 'wal' FROM "
				 "pragma_journal_mode"),
			 1);
}
END_TEST

START_TEST(test_migrate_again_is_noop)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	int from = -1, to = -1;

	ck_assert(mcpauth_store_migrate(store, &from, &to, &err));
	ck_assert_int_eq(from, mcpauth_store_schema_version());
	ck_assert_int_eq(to, from);
	mcpauth_store_free(store);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM schema_migrations"),
			 mcpauth_store_schema_version());
}
END_TEST

START_TEST(test_ready_refuses_old_schema)
{
	struct mcpauth_store *store = NULL;
	struct mcpauth_err err = { 0 };
	char want[256];

	ck_assert(mcpauth_store_open(db, MCPAUTH_STORE_CREATE, &store, &err));
	ck_assert(!mcpauth_store_ready(store, &err));
	ck_assert_int_eq(err.status, 503);
	ck_assert_str_eq(err.code, "temporarily_unavailable");
	snprintf(want, sizeof(want),
		 "the database schema is at version 0 but this mcpauth needs "
		 "version %d: run 'mcpauth-admin migrate'",
		 mcpauth_store_schema_version());
	ck_assert_str_eq(err.description, want);
	/* Nothing can be used before ready succeeds. */
	ck_assert(!mcpauth_store_key_list(store,
					  &(struct mcpauth_signing_key *){ NULL },
					  &(size_t){ 0 }, &err));
	mcpauth_store_free(store);
}
END_TEST

START_TEST(test_ready_refuses_newer_schema)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	char sql[64];

	mcpauth_store_free(store);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 mcpauth_store_schema_version() + 1);
	check_sql_exec(db, sql, NULL);
	ck_assert(mcpauth_store_open(db, 0, &store, &err));
	ck_assert(!mcpauth_store_ready(store, &err));
	ck_assert_ptr_nonnull(strstr(err.description, "upgrade mcpauth"));
	ck_assert(!mcpauth_store_migrate(store, NULL, NULL, &err));
	ck_assert_ptr_nonnull(strstr(err.description, "newer than this"));
	mcpauth_store_free(store);
}
END_TEST

START_TEST(test_open_missing_without_create)
{
	struct mcpauth_store *store = NULL;
	struct mcpauth_err err = { 0 };

	ck_assert(!mcpauth_store_open(db, 0, &store, &err));
	ck_assert_int_eq(err.status, 503);
	ck_assert_str_eq(err.description, "the database cannot be opened");
	/* The path is for the log only. */
	ck_assert_ptr_nonnull(strstr(err.detail, "mcpauth-admin init"));
	ck_assert_ptr_null(store);
}
END_TEST

static struct mcpauth_signing_key key(const char *kid, long long t)
{
	struct mcpauth_signing_key k = { .created_at = t };

	snprintf(k.kid, sizeof(k.kid), "%s", kid);
	snprintf(k.alg, sizeof(k.alg), "ES256");
	k.public_jwk = "{\"kty\":\"EC\"}";
	return k;
}

START_TEST(test_key_lifecycle)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_signing_key k1 = key("k1", 1000), k2 = key("k2", 2000);
	struct mcpauth_signing_key active, *list = NULL;
	enum mcpauth_key_state state;
	char retired[64];
	bool found = true;
	size_t n = 0;

	ck_assert(mcpauth_store_key_active(store, &active, &found, &err));
	ck_assert(!found);
	/* The first key signs at once; later ones wait, published. */
	ck_assert(mcpauth_store_key_add(store, &k1, &state, &err));
	ck_assert_int_eq(state, MCPAUTH_KEY_ACTIVE);
	ck_assert(mcpauth_store_key_add(store, &k2, &state, &err));
	ck_assert_int_eq(state, MCPAUTH_KEY_PENDING);
	ck_assert(!mcpauth_store_key_add(store, &k2, &state, &err));
	ck_assert(mcpauth_store_key_active(store, &active, &found, &err));
	ck_assert(found);
	ck_assert_str_eq(active.kid, "k1");
	ck_assert(mcpauth_store_key_published(store, 3000, &list, &n, &err));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].kid, "k2"); /* newest first */
	ck_assert_str_eq(list[0].public_jwk, "{\"kty\":\"EC\"}");
	mcpauth_store_keys_free(list, n);

	ck_assert(mcpauth_store_key_activate(store, "k2", 3000, 4000, retired,
					     &err));
	ck_assert_str_eq(retired, "k1");
	ck_assert(mcpauth_store_key_active(store, &active, &found, &err));
	ck_assert_str_eq(active.kid, "k2");
	ck_assert(mcpauth_store_key_list(store, &list, &n, &err));
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(list[1].state, MCPAUTH_KEY_RETIRED);
	ck_assert_int_eq(list[1].retired_at, 3000);
	ck_assert_int_eq(list[1].publish_until, 4000);
	ck_assert_int_eq(list[0].activated_at, 3000);
	mcpauth_store_keys_free(list, n);
	/* The retired key is published until publish_until, then gone. */
	ck_assert(mcpauth_store_key_published(store, 3999, &list, &n, &err));
	ck_assert_uint_eq(n, 2);
	mcpauth_store_keys_free(list, n);
	ck_assert(mcpauth_store_key_published(store, 4000, &list, &n, &err));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].kid, "k2");
	mcpauth_store_keys_free(list, n);
	mcpauth_store_free(store);
}
END_TEST

START_TEST(test_activate_non_pending_rolls_back)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_signing_key k1 = key("k1", 1000), active;
	bool found = false;

	ck_assert(mcpauth_store_key_add(store, &k1, NULL, &err));
	ck_assert(!mcpauth_store_key_activate(store, "nope", 2000, 3000, NULL,
					      &err));
	ck_assert_str_eq(err.description, "key 'nope' is not a pending key");
	/* The retirement in the same transaction was undone. */
	ck_assert(mcpauth_store_key_active(store, &active, &found, &err));
	ck_assert(found);
	ck_assert_str_eq(active.kid, "k1");
	mcpauth_store_free(store);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM signing_keys WHERE "
				 "state = 'retired'"),
			 0);
}
END_TEST

START_TEST(test_one_active_enforced_by_schema)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_signing_key k1 = key("k1", 1000);

	ck_assert(mcpauth_store_key_add(store, &k1, NULL, &err));
	mcpauth_store_free(store);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM signing_keys"), 1);
	/* Even by hand, a second active key is refused by the index. */
	{
		sqlite3 *h = NULL;
		ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
		ck_assert_int_ne(
			sqlite3_exec(h,
				     "INSERT INTO signing_keys (kid, alg, "
				     "public_jwk, state, created_at) VALUES "
				     "('k2', 'ES256', '{}', 'active', 1)",
				     NULL, NULL, NULL),
			SQLITE_OK);
		ck_assert_int_ne(
			sqlite3_exec(h,
				     "INSERT INTO signing_keys (kid, alg, "
				     "public_jwk, state, created_at) VALUES "
				     "('k3', 'HS256', '{}', 'pending', 1)",
				     NULL, NULL, NULL),
			SQLITE_OK);
		sqlite3_close(h);
	}
}
END_TEST

/* --- users, sessions, requests, consents, codes and tokens --------------- */

#define NOW 1700000000LL

static void add_client(struct mcpauth_store *store, const char *id)
{
	char *uris[] = { "https://app.example.com/cb" };
	struct mcpauth_client c = {
		.client_id = (char *)id,
		.source = "operator",
		.auth_method = "none",
		.application_type = "web",
		.redirect_uris = uris,
		.nredirect_uris = 1,
		.grant_types = "authorization_code refresh_token",
		.scope = "files:read",
		.metadata = "{}",
		.created_at = NOW,
		.updated_at = NOW,
	};

	check_client_add(store, &c);
}

static long long add_user(struct mcpauth_store *store, const char *name)
{
	struct mcpauth_err err = { 0 };
	char subject[64];
	long long id = 0;

	snprintf(subject, sizeof(subject), "sub-%s", name);
	ck_assert_msg(mcpauth_store_user_add(store, name, subject,
					     "$argon2id$v=19$x", NOW, &id,
					     &err),
		      "%s", err.detail);
	ck_assert_int_gt(id, 0);
	return id;
}

static void add_code(struct mcpauth_store *store, const char *hash,
		     const char *client_id, long long user_id,
		     long long expires_at)
{
	struct mcpauth_code c = {
		.client_id = (char *)client_id,
		.user_id = user_id,
		.redirect_uri = "https://app.example.com/cb",
		.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		.resource = "https://mcp.example.com/",
		.scope = "files:read",
		.auth_time = NOW - 5,
		.created_at = NOW,
		.expires_at = expires_at,
	};
	struct mcpauth_err err = { 0 };

	ck_assert_msg(mcpauth_store_code_add(store, hash, &c, &err), "%s",
		      err.detail);
}

static void add_refresh(struct mcpauth_store *store, const char *hash,
			const char *family, const char *client_id,
			long long user_id, long long expires_at)
{
	struct mcpauth_refresh r = {
		.family_id = (char *)family,
		.client_id = (char *)client_id,
		.user_id = user_id,
		.resource = "https://mcp.example.com/",
		.scope = "files:read",
		.auth_time = NOW - 5,
		.created_at = NOW,
		.expires_at = expires_at,
	};
	struct mcpauth_err err = { 0 };

	ck_assert_msg(mcpauth_store_refresh_add(store, hash, &r, &err), "%s",
		      err.detail);
}

static void add_access(struct mcpauth_store *store, const char *jti,
		       const char *family, const char *client_id,
		       long long user_id, long long expires_at)
{
	struct mcpauth_access a = {
		.client_id = (char *)client_id,
		.user_id = user_id,
		.resource = "https://mcp.example.com/",
		.scope = "files:read",
		.issued_at = NOW,
		.expires_at = expires_at,
	};
	struct mcpauth_err err = { 0 };

	snprintf(a.jti, sizeof(a.jti), "%s", jti);
	snprintf(a.family_id, sizeof(a.family_id), "%s", family);
	ck_assert_msg(mcpauth_store_access_add(store, &a, &err), "%s",
		      err.detail);
}

static void add_authz(struct mcpauth_store *store, const char *id_hash,
		      const char *client_id, long long expires_at)
{
	struct mcpauth_authz_request r = {
		.browser_hash = "browser",
		.csrf_hash = "csrf",
		.client_id = (char *)client_id,
		.redirect_uri = "https://app.example.com/cb",
		.scope = "files:read",
		.resource = "https://mcp.example.com/",
		.code_challenge = "challenge",
		.force_login = true,
		.created_at = NOW,
		.expires_at = expires_at,
	};
	struct mcpauth_err err = { 0 };

	ck_assert_msg(mcpauth_store_authz_add(store, id_hash, &r, 0, &err), "%s",
		      err.detail);
}

/* Not NULL: what a getter must set to NULL when nothing is found. */
static char sentinel;

static bool session_found(struct mcpauth_store *store, const char *id_hash,
			  long long now)
{
	struct mcpauth_err err = { 0 };
	long long user_id = 0, auth_time = 0;
	bool found = false;

	ck_assert(mcpauth_store_session_get(store, id_hash, now, &user_id,
					    &auth_time, &found, &err));
	return found;
}

START_TEST(test_user_add_get_list)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_user *u = NULL, *list = NULL;
	long long alice, bob, id = -1;
	size_t n = 0;

	bob = add_user(store, "bob");
	alice = add_user(store, "alice");
	ck_assert_int_ne(alice, bob);

	ck_assert(mcpauth_store_user_get(store, "alice", &u, &err));
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(u->id, alice);
	ck_assert_str_eq(u->username, "alice");
	ck_assert_str_eq(u->subject, "sub-alice");
	ck_assert_str_eq(u->password_hash, "$argon2id$v=19$x");
	ck_assert_int_eq(u->created_at, NOW);
	ck_assert_int_eq(u->disabled_at, 0);
	ck_assert_int_eq(u->last_login_at, 0);
	mcpauth_user_free(u);

	ck_assert(mcpauth_store_user_login(store, bob, NOW + 7, &err));
	ck_assert(mcpauth_store_user_get_id(store, bob, &u, &err));
	ck_assert_ptr_nonnull(u);
	ck_assert_str_eq(u->username, "bob");
	ck_assert_int_eq(u->last_login_at, NOW + 7);
	mcpauth_user_free(u);

	u = (void *)&sentinel; /* set to NULL when not found */
	ck_assert(mcpauth_store_user_get(store, "carol", &u, &err));
	ck_assert_ptr_null(u);
	u = (void *)&sentinel;
	ck_assert(mcpauth_store_user_get_id(store, 999, &u, &err));
	ck_assert_ptr_null(u);
	mcpauth_user_free(NULL);

	/* A taken username is the caller's mistake, said plainly. */
	ck_assert(!mcpauth_store_user_add(store, "alice", "sub-other", "h",
					  NOW, &id, &err));
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_request");
	ck_assert_str_eq(err.description, "user 'alice' exists");
	ck_assert_int_eq(id, -1);
	/* A subject collision is not: it is the server's own random value. */
	ck_assert(!mcpauth_store_user_add(store, "carol", "sub-alice", "h",
					  NOW, NULL, &err));
	ck_assert_int_eq(err.status, 500);
	ck_assert(mcpauth_store_user_add(store, "carol", "sub-carol", "h",
					 NOW, NULL, &err));

	ck_assert(mcpauth_store_user_list(store, &list, &n, &err));
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(list[0].username, "alice");
	ck_assert_str_eq(list[1].username, "bob");
	ck_assert_str_eq(list[2].username, "carol");
	ck_assert_ptr_null(list[0].password_hash);
	ck_assert_int_eq(list[1].last_login_at, NOW + 7);
	mcpauth_store_users_free(list, n);
	mcpauth_store_users_free(NULL, 0);
	mcpauth_store_free(store);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM users_view"), 3);
}
END_TEST

START_TEST(test_session_lifecycle)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	long long alice = add_user(store, "alice");
	long long user_id = 0, auth_time = 0;
	bool found = false;

	ck_assert(mcpauth_store_session_add(store, "s1", alice, NOW - 10, NOW,
					    NOW + 3600, &err));
	ck_assert(mcpauth_store_session_get(store, "s1", NOW + 1, &user_id,
					    &auth_time, &found, &err));
	ck_assert(found);
	ck_assert_int_eq(user_id, alice);
	ck_assert_int_eq(auth_time, NOW - 10);
	/* Expired at expires_at exactly. */
	ck_assert(session_found(store, "s1", NOW + 3599));
	ck_assert(!session_found(store, "s1", NOW + 3600));
	ck_assert(!session_found(store, "nope", NOW));
	/* A session id is unique. */
	ck_assert(!mcpauth_store_session_add(store, "s1", alice, NOW, NOW,
					     NOW + 1, &err));
	ck_assert_int_eq(err.status, 500);
	ck_assert(mcpauth_store_session_delete(store, "s1", &err));
	ck_assert(!session_found(store, "s1", NOW));
	ck_assert(mcpauth_store_session_delete(store, "s1", &err));
	/* Only for a user that exists (foreign keys are on). */
	ck_assert(!mcpauth_store_session_add(store, "s2", alice + 100, NOW,
					     NOW, NOW + 1, &err));
	mcpauth_store_free(store);
}
END_TEST

START_TEST(test_password_change_ends_sessions)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	long long alice = add_user(store, "alice");
	long long bob = add_user(store, "bob");
	struct mcpauth_user *u = NULL;
	bool found = false;

	ck_assert(mcpauth_store_session_add(store, "a1", alice, NOW, NOW,
					    NOW + 3600, &err));
	ck_assert(mcpauth_store_session_add(store, "a2", alice, NOW, NOW,
					    NOW + 3600, &err));
	ck_assert(mcpauth_store_session_add(store, "b1", bob, NOW, NOW,
					    NOW + 3600, &err));
	ck_assert(mcpauth_store_user_set_password(store, "alice", "new-hash",
						  NOW, &found, &err));
	ck_assert(found);
	ck_assert(!session_found(store, "a1", NOW));
	ck_assert(!session_found(store, "a2", NOW));
	ck_assert(session_found(store, "b1", NOW));
	ck_assert(mcpauth_store_user_get(store, "alice", &u, &err));
	ck_assert_str_eq(u->password_hash, "new-hash");
	mcpauth_user_free(u);

	found = true;
	ck_assert(mcpauth_store_user_set_password(store, "carol", "x", NOW,
						  &found, &err));
	ck_assert(!found);
	ck_assert(session_found(store, "b1", NOW));
	mcpauth_store_free(store);
}
END_TEST

START_TEST(test_disable_user)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_refresh *r = NULL;
	struct mcpauth_access *a = NULL;
	struct mcpauth_user *u = NULL;
	long long alice, bob;
	bool found = false;

	add_client(store, "c1");
	alice = add_user(store, "alice");
	bob = add_user(store, "bob");
	ck_assert(mcpauth_store_session_add(store, "a1", alice, NOW, NOW,
					    NOW + 3600, &err));
	ck_assert(mcpauth_store_session_add(store, "b1", bob, NOW, NOW,
					    NOW + 3600, &err));
	add_refresh(store, "ra", "fa", "c1", alice, NOW + 86400);
	add_refresh(store, "rb", "fb", "c1", bob, NOW + 86400);
	add_access(store, "ja", "fa", "c1", alice, NOW + 3600);
	add_access(store, "ja-old", "fa", "c1", alice, NOW + 3600);
	add_access(store, "jb", "fb", "c1", bob, NOW + 3600);
	add_access(store, "jm", "", "c1", 0, NOW + 3600);
	ck_assert(mcpauth_store_access_revoke(store, "ja-old", NOW + 1, &found,
					      &err));

	ck_assert(mcpauth_store_user_set_disabled(store, "alice", NOW + 10,
						  &found, &err));
	ck_assert(found);
	ck_assert(!session_found(store, "a1", NOW + 20));
	ck_assert(session_found(store, "b1", NOW + 20));
	ck_assert(mcpauth_store_refresh_get(store, "ra", &r, &err));
	ck_assert_int_eq(r->revoked_at, NOW + 10);
	mcpauth_refresh_free(r);
	ck_assert(mcpauth_store_refresh_get(store, "rb", &r, &err));
	ck_assert_int_eq(r->revoked_at, 0);
	mcpauth_refresh_free(r);
	ck_assert(mcpauth_store_access_get(store, "ja", &a, &err));
	ck_assert_int_eq(a->revoked_at, NOW + 10);
	mcpauth_access_free(a);
	/* An earlier revocation keeps its time. */
	ck_assert(mcpauth_store_access_get(store, "ja-old", &a, &err));
	ck_assert_int_eq(a->revoked_at, NOW + 1);
	mcpauth_access_free(a);
	ck_assert(mcpauth_store_access_get(store, "jb", &a, &err));
	ck_assert_int_eq(a->revoked_at, 0);
	mcpauth_access_free(a);
	ck_assert(mcpauth_store_access_get(store, "jm", &a, &err));
	ck_assert_int_eq(a->revoked_at, 0);
	mcpauth_access_free(a);
	ck_assert(mcpauth_store_user_get(store, "alice", &u, &err));
	ck_assert_int_eq(u->disabled_at, NOW + 10);
	mcpauth_user_free(u);

	/* A disabled user's sessions are not found, even one added later. */
	ck_assert(mcpauth_store_session_add(store, "a2", alice, NOW, NOW,
					    NOW + 3600, &err));
	ck_assert(!session_found(store, "a2", NOW + 20));
	/* Enabling brings the session back, not the tokens. */
	ck_assert(mcpauth_store_user_set_disabled(store, "alice", 0, &found,
						  &err));
	ck_assert(found);
	ck_assert(session_found(store, "a2", NOW + 20));
	ck_assert(mcpauth_store_user_get(store, "alice", &u, &err));
	ck_assert_int_eq(u->disabled_at, 0);
	mcpauth_user_free(u);
	ck_assert(mcpauth_store_refresh_get(store, "ra", &r, &err));
	ck_assert_int_eq(r->revoked_at, NOW + 10);
	mcpauth_refresh_free(r);

	found = true;
	ck_assert(mcpauth_store_user_set_disabled(store, "carol", NOW, &found,
						  &err));
	ck_assert(!found);
	mcpauth_store_free(store);
}
END_TEST

START_TEST(test_authz_request)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_authz_request *r = NULL;
	bool found = false;

	add_client(store, "c1");
	add_authz(store, "req1", "c1", NOW + 600);
	ck_assert(mcpauth_store_authz_get(store, "req1", NOW + 599, &r, &err));
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->browser_hash, "browser");
	ck_assert_str_eq(r->csrf_hash, "csrf");
	ck_assert_str_eq(r->client_id, "c1");
	ck_assert_str_eq(r->redirect_uri, "https://app.example.com/cb");
	ck_assert_str_eq(r->scope, "files:read");
	ck_assert_str_eq(r->resource, "https://mcp.example.com/");
	ck_assert_ptr_null(r->state);
	ck_assert_str_eq(r->code_challenge, "challenge");
	ck_assert(r->force_login);
	ck_assert(!r->force_consent);
	ck_assert_ptr_null(r->session_hash);
	ck_assert_int_eq(r->created_at, NOW);
	ck_assert_int_eq(r->expires_at, NOW + 600);
	mcpauth_authz_request_free(r);

	/* Expired at expires_at. */
	r = (void *)&sentinel;
	ck_assert(mcpauth_store_authz_get(store, "req1", NOW + 600, &r, &err));
	ck_assert_ptr_null(r);
	r = (void *)&sentinel;
	ck_assert(mcpauth_store_authz_get(store, "nope", NOW, &r, &err));
	ck_assert_ptr_null(r);

	ck_assert(mcpauth_store_authz_set_session(store, "req1", "sess", &err));
	ck_assert(mcpauth_store_authz_get(store, "req1", NOW, &r, &err));
	ck_assert_str_eq(r->session_hash, "sess");
	ck_assert(!r->force_login);
	mcpauth_authz_request_free(r);

	ck_assert(mcpauth_store_authz_delete(store, "req1", &found, &err));
	ck_assert(found);
	ck_assert(mcpauth_store_authz_delete(store, "req1", &found, &err));
	ck_assert(!found);
	ck_assert(mcpauth_store_authz_get(store, "req1", NOW, &r, &err));
	ck_assert_ptr_null(r);
	mcpauth_authz_request_free(NULL);
	/* Only for a registered client. */
	{
		struct mcpauth_authz_request bad = {
			.browser_hash = "b", .csrf_hash = "c",
			.client_id = "unknown", .redirect_uri = "u",
			.scope = "s", .resource = "r", .state = "xyz",
			.code_challenge = "cc", .expires_at = NOW + 1,
		};
		ck_assert(!mcpauth_store_authz_add(store, "req2", &bad, 0, &err));
		ck_assert_int_eq(err.status, 500);
	}
	mcpauth_store_free(store);
}
END_TEST

START_TEST(test_consents)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	const char *res = "https://mcp.example.com/";
	long long alice, bob;
	char *scope = NULL;
	long count = -1;

	add_client(store, "c1");
	add_client(store, "c2");
	alice = add_user(store, "alice");
	bob = add_user(store, "bob");

	scope = &sentinel;
	ck_assert(mcpauth_store_consent_get(store, alice, "c1", res, &scope,
					    &err));
	ck_assert_ptr_null(scope);
	ck_assert(mcpauth_store_consent_set(store, alice, "c1", res,
					    "files:read", NOW, &err));
	ck_assert(mcpauth_store_consent_get(store, alice, "c1", res, &scope,
					    &err));
	ck_assert_str_eq(scope, "files:read");
	free(scope);
	/* Set replaces. */
	ck_assert(mcpauth_store_consent_set(store, alice, "c1", res,
					    "files:read files:write", NOW + 1,
					    &err));
	ck_assert(mcpauth_store_consent_get(store, alice, "c1", res, &scope,
					    &err));
	ck_assert_str_eq(scope, "files:read files:write");
	free(scope);
	/* Per resource, per client, per user. */
	ck_assert(mcpauth_store_consent_get(store, alice, "c1",
					    "https://other.example/", &scope,
					    &err));
	ck_assert_ptr_null(scope);
	ck_assert(mcpauth_store_consent_get(store, bob, "c1", res, &scope,
					    &err));
	ck_assert_ptr_null(scope);
	ck_assert(mcpauth_store_consent_set(store, alice, "c1",
					    "https://other.example/", "a", NOW,
					    &err));
	ck_assert(mcpauth_store_consent_set(store, alice, "c2", res, "b", NOW,
					    &err));
	ck_assert(mcpauth_store_consent_set(store, bob, "c1", res, "c", NOW,
					    &err));
	add_refresh(store, "r-alice-c1", "fa1", "c1", alice, NOW + 600);
	add_access(store, "j-alice-c1", "fa1", "c1", alice, NOW + 600);
	add_refresh(store, "r-alice-c2", "fa2", "c2", alice, NOW + 600);
	add_refresh(store, "r-bob-c1", "fb1", "c1", bob, NOW + 600);

	ck_assert(mcpauth_store_consent_revoke(store, "alice", "c1", NOW, &count,
					       &err));
	ck_assert_int_eq(count, 2);
	/* What the consent led to goes with it, and nothing else. */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM refresh_tokens WHERE "
				 "revoked_at IS NOT NULL AND token_hash = "
				 "'r-alice-c1'"),
			 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM refresh_tokens WHERE "
				 "revoked_at IS NOT NULL"),
			 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM access_tokens WHERE "
				 "revoked_at IS NOT NULL AND jti = "
				 "'j-alice-c1'"),
			 1);
	ck_assert(mcpauth_store_consent_get(store, alice, "c1", res, &scope,
					    &err));
	ck_assert_ptr_null(scope);
	ck_assert(mcpauth_store_consent_get(store, alice, "c2", res, &scope,
					    &err));
	ck_assert_str_eq(scope, "b");
	free(scope);
	ck_assert(mcpauth_store_consent_revoke(store, "carol", NULL, NOW, &count,
					       &err));
	ck_assert_int_eq(count, 0);
	ck_assert(mcpauth_store_consent_revoke(store, "alice", NULL, NOW, &count,
					       &err));
	ck_assert_int_eq(count, 1);
	ck_assert(mcpauth_store_consent_get(store, bob, "c1", res, &scope,
					    &err));
	ck_assert_str_eq(scope, "c");
	free(scope);
	mcpauth_store_free(store);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM consents_view"), 1);
}
END_TEST

START_TEST(test_client_first_party)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_client *c = NULL, **list = NULL;
	size_t n = 0;
	bool found = false;

	add_client(store, "c1");
	ck_assert(mcpauth_store_client_get(store, "c1", &c, &err));
	ck_assert(!c->first_party);
	mcpauth_client_free(c);
	ck_assert(mcpauth_store_client_set_first_party(store, "c1", true,
						       &found, &err));
	ck_assert(found);
	ck_assert_int_eq(sql_int("SELECT first_party FROM clients "
				 "WHERE client_id = 'c1'"),
			 1);
	/* The authorization endpoint reads it with the client. */
	ck_assert(mcpauth_store_client_get(store, "c1", &c, &err));
	ck_assert(c->first_party);
	mcpauth_client_free(c);
	ck_assert(mcpauth_store_client_list(store, &list, &n, &err));
	ck_assert_uint_eq(n, 1);
	ck_assert(list[0]->first_party);
	mcpauth_store_clients_free(list, n);
	ck_assert(mcpauth_store_client_set_first_party(store, "c1", false,
						       &found, &err));
	ck_assert(found);
	ck_assert_int_eq(sql_int("SELECT first_party FROM clients "
				 "WHERE client_id = 'c1'"),
			 0);
	ck_assert(mcpauth_store_client_set_first_party(store, "nope", true,
						       &found, &err));
	ck_assert(!found);
	mcpauth_store_free(store);
}
END_TEST

START_TEST(test_code_consumed_once)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_code *c = NULL;
	long long alice;
	bool won = false;

	add_client(store, "c1");
	alice = add_user(store, "alice");
	add_code(store, "code1", "c1", alice, NOW + 60);
	ck_assert(mcpauth_store_code_get(store, "code1", &c, &err));
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->client_id, "c1");
	ck_assert_int_eq(c->user_id, alice);
	ck_assert_str_eq(c->redirect_uri, "https://app.example.com/cb");
	ck_assert_str_eq(c->code_challenge,
			 "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	ck_assert_str_eq(c->resource, "https://mcp.example.com/");
	ck_assert_str_eq(c->scope, "files:read");
	ck_assert_int_eq(c->auth_time, NOW - 5);
	ck_assert_int_eq(c->created_at, NOW);
	ck_assert_int_eq(c->expires_at, NOW + 60);
	ck_assert_int_eq(c->consumed_at, 0);
	ck_assert_ptr_null(c->family_id);
	mcpauth_code_free(c);

	ck_assert(mcpauth_store_code_consume(store, "code1", "fam1", NOW + 1,
					     &won, &err));
	ck_assert(won);
	ck_assert(mcpauth_store_code_consume(store, "code1", "fam2", NOW + 2,
					     &won, &err));
	ck_assert(!won);
	ck_assert(mcpauth_store_code_get(store, "code1", &c, &err));
	ck_assert_int_eq(c->consumed_at, NOW + 1);
	ck_assert_str_eq(c->family_id, "fam1");
	mcpauth_code_free(c);

	won = true;
	ck_assert(mcpauth_store_code_consume(store, "nope", "f", NOW, &won,
					     &err));
	ck_assert(!won);
	c = (void *)&sentinel;
	ck_assert(mcpauth_store_code_get(store, "nope", &c, &err));
	ck_assert_ptr_null(c);
	mcpauth_code_free(NULL);
	/* A code hash is unique. */
	{
		struct mcpauth_code dup = {
			.client_id = "c1", .user_id = alice,
			.redirect_uri = "u", .code_challenge = "x",
			.resource = "r", .scope = "s", .expires_at = NOW,
		};
		ck_assert(!mcpauth_store_code_add(store, "code1", &dup, &err));
	}
	mcpauth_store_free(store);
}
END_TEST

START_TEST(test_refresh_rotated_once)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_refresh *r = NULL;
	long long alice;
	bool won = false;

	add_client(store, "c1");
	alice = add_user(store, "alice");
	add_refresh(store, "r1", "fam1", "c1", alice, NOW + 86400);
	ck_assert(mcpauth_store_refresh_get(store, "r1", &r, &err));
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->family_id, "fam1");
	ck_assert_str_eq(r->client_id, "c1");
	ck_assert_int_eq(r->user_id, alice);
	ck_assert_str_eq(r->resource, "https://mcp.example.com/");
	ck_assert_str_eq(r->scope, "files:read");
	ck_assert_int_eq(r->auth_time, NOW - 5);
	ck_assert_int_eq(r->created_at, NOW);
	ck_assert_int_eq(r->expires_at, NOW + 86400);
	ck_assert_int_eq(r->rotated_at, 0);
	ck_assert_int_eq(r->revoked_at, 0);
	mcpauth_refresh_free(r);

	ck_assert(mcpauth_store_refresh_rotate(store, "r1", NOW + 1, &won,
					       &err));
	ck_assert(won);
	ck_assert(mcpauth_store_refresh_rotate(store, "r1", NOW + 2, &won,
					       &err));
	ck_assert(!won);
	ck_assert(mcpauth_store_refresh_get(store, "r1", &r, &err));
	ck_assert_int_eq(r->rotated_at, NOW + 1);
	mcpauth_refresh_free(r);

	/* A revoked token is never rotated. */
	add_refresh(store, "r2", "fam2", "c1", alice, NOW + 86400);
	ck_assert(mcpauth_store_family_revoke(store, "fam2", NOW, &err));
	ck_assert(mcpauth_store_refresh_rotate(store, "r2", NOW + 1, &won,
					       &err));
	ck_assert(!won);
	ck_assert(mcpauth_store_refresh_rotate(store, "nope", NOW, &won,
					       &err));
	ck_assert(!won);
	r = (void *)&sentinel;
	ck_assert(mcpauth_store_refresh_get(store, "nope", &r, &err));
	ck_assert_ptr_null(r);
	mcpauth_refresh_free(NULL);
	mcpauth_store_free(store);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM refresh_tokens_view "
				 "WHERE rotated IS NOT NULL"),
			 1);
}
END_TEST

START_TEST(test_family_revoke)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	long long alice;
	bool found = false;

	add_client(store, "c1");
	alice = add_user(store, "alice");
	add_refresh(store, "r1", "fam1", "c1", alice, NOW + 86400);
	add_refresh(store, "r2", "fam1", "c1", alice, NOW + 86400);
	add_refresh(store, "r3", "fam2", "c1", alice, NOW + 86400);
	add_access(store, "j1", "fam1", "c1", alice, NOW + 3600);
	add_access(store, "j2", "fam1", "c1", alice, NOW + 3600);
	add_access(store, "j3", "fam2", "c1", alice, NOW + 3600);
	ck_assert(mcpauth_store_access_revoke(store, "j2", NOW + 1, &found,
					      &err));

	ck_assert(mcpauth_store_family_revoke(store, "fam1", NOW + 5, &err));
	mcpauth_store_free(store);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM refresh_tokens WHERE "
				 "family_id = 'fam1' AND revoked_at = "
				 "1700000005"),
			 2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM refresh_tokens WHERE "
				 "family_id = 'fam2' AND revoked_at IS NULL"),
			 1);
	ck_assert_int_eq(sql_int("SELECT revoked_at FROM access_tokens "
				 "WHERE jti = 'j1'"),
			 (int)(NOW + 5));
	ck_assert_int_eq(sql_int("SELECT revoked_at FROM access_tokens "
				 "WHERE jti = 'j2'"),
			 (int)(NOW + 1));
	ck_assert_int_eq(sql_int("SELECT revoked_at IS NULL FROM access_tokens "
				 "WHERE jti = 'j3'"),
			 1);
}
END_TEST

START_TEST(test_access_token)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_access *a = NULL;
	long long alice;
	bool found = false;

	add_client(store, "c1");
	alice = add_user(store, "alice");
	/* A machine client's token: no user, no family. */
	add_access(store, "jm", "", "c1", 0, NOW + 3600);
	add_access(store, "ju", "fam1", "c1", alice, NOW + 3600);
	ck_assert(mcpauth_store_access_get(store, "jm", &a, &err));
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->jti, "jm");
	ck_assert_str_eq(a->family_id, "");
	ck_assert_str_eq(a->client_id, "c1");
	ck_assert_int_eq(a->user_id, 0);
	ck_assert_str_eq(a->resource, "https://mcp.example.com/");
	ck_assert_str_eq(a->scope, "files:read");
	ck_assert_int_eq(a->issued_at, NOW);
	ck_assert_int_eq(a->expires_at, NOW + 3600);
	ck_assert_int_eq(a->revoked_at, 0);
	mcpauth_access_free(a);
	ck_assert(mcpauth_store_access_get(store, "ju", &a, &err));
	ck_assert_str_eq(a->family_id, "fam1");
	ck_assert_int_eq(a->user_id, alice);
	mcpauth_access_free(a);

	ck_assert(mcpauth_store_access_revoke(store, "jm", NOW + 1, &found,
					      &err));
	ck_assert(found);
	/* Revoking again is found and keeps the first time. */
	ck_assert(mcpauth_store_access_revoke(store, "jm", NOW + 2, &found,
					      &err));
	ck_assert(found);
	ck_assert(mcpauth_store_access_get(store, "jm", &a, &err));
	ck_assert_int_eq(a->revoked_at, NOW + 1);
	mcpauth_access_free(a);
	ck_assert(mcpauth_store_access_revoke(store, "nope", NOW, &found,
					      &err));
	ck_assert(!found);
	a = (void *)&sentinel;
	ck_assert(mcpauth_store_access_get(store, "nope", &a, &err));
	ck_assert_ptr_null(a);
	mcpauth_access_free(NULL);
	mcpauth_store_free(store);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM access_tokens WHERE "
				 "jti = 'jm' AND user_id IS NULL AND "
				 "family_id IS NULL"),
			 1);
}
END_TEST

START_TEST(test_caller_transaction)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_code *c = NULL;
	long long alice;
	long removed = -1;
	bool won = false;

	add_client(store, "c1");
	alice = add_user(store, "alice");
	add_code(store, "code1", "c1", alice, NOW + 60);
	add_code(store, "code2", "c1", alice, NOW + 60);

	/* Redeeming a code: one atomic step, seen by others at COMMIT. */
	ck_assert(mcpauth_store_begin(store, &err));
	ck_assert(mcpauth_store_code_get(store, "code1", &c, &err));
	ck_assert_int_eq(c->consumed_at, 0);
	mcpauth_code_free(c);
	ck_assert(mcpauth_store_code_consume(store, "code1", "fam1", NOW,
					     &won, &err));
	ck_assert(won);
	add_refresh(store, "r1", "fam1", "c1", alice, NOW + 86400);
	add_access(store, "j1", "fam1", "c1", alice, NOW + 3600);
	ck_assert(mcpauth_store_refresh_rotate(store, "r1", NOW, &won, &err));
	ck_assert(won);
	ck_assert(mcpauth_store_family_revoke(store, "fam1", NOW, &err));
	ck_assert_int_eq(sql_int("SELECT count(*) FROM refresh_tokens"), 0);
	/* The others begin their own: refused inside one. */
	ck_assert(!mcpauth_store_begin(store, &err));
	ck_assert(!mcpauth_store_gc_tokens(store, NOW, &removed, &err));
	ck_assert_int_eq(removed, -1);
	ck_assert(mcpauth_store_commit(store, &err));
	ck_assert_int_eq(sql_int("SELECT count(*) FROM refresh_tokens WHERE "
				 "rotated_at IS NOT NULL AND revoked_at IS "
				 "NOT NULL"),
			 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM access_tokens WHERE "
				 "revoked_at IS NOT NULL"),
			 1);
	ck_assert_int_eq(sql_int("SELECT family_id = 'fam1' FROM "
				 "authorization_codes WHERE code_hash = "
				 "'code1'"),
			 1);

	/* Rolled back: the code is still unused, nothing was issued. */
	ck_assert(mcpauth_store_begin(store, &err));
	ck_assert(mcpauth_store_code_consume(store, "code2", "fam2", NOW,
					     &won, &err));
	ck_assert(won);
	add_refresh(store, "r2", "fam2", "c1", alice, NOW + 86400);
	add_access(store, "j2", "fam2", "c1", alice, NOW + 3600);
	ck_assert(mcpauth_store_refresh_rotate(store, "r1", NOW, &won, &err));
	ck_assert(!won);
	ck_assert(mcpauth_store_family_revoke(store, "fam1", NOW + 9, &err));
	mcpauth_store_rollback(store);
	ck_assert(mcpauth_store_code_get(store, "code2", &c, &err));
	ck_assert_int_eq(c->consumed_at, 0);
	ck_assert_ptr_null(c->family_id);
	mcpauth_code_free(c);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM refresh_tokens"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM access_tokens"), 1);
	ck_assert_int_eq(sql_int("SELECT revoked_at FROM refresh_tokens"),
			 (int)NOW);
	/* Outside a transaction rollback does nothing, commit fails. */
	mcpauth_store_rollback(store);
	ck_assert(!mcpauth_store_commit(store, &err));
	ck_assert_int_eq(err.status, 500);
	/* And the store still works. */
	ck_assert(mcpauth_store_begin(store, &err));
	ck_assert(mcpauth_store_commit(store, &err));
	ck_assert(mcpauth_store_gc_tokens(store, NOW, &removed, &err));
	mcpauth_store_free(store);
}
END_TEST

START_TEST(test_client_delete_cascades)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_audit a = { .at = NOW, .event = "delete",
				   .actor = "admin", .client_id = "c1" };
	const char *res = "https://mcp.example.com/";
	long long alice;
	bool found = false;

	add_client(store, "c1");
	add_client(store, "c2");
	alice = add_user(store, "alice");
	for (int i = 0; i < 2; i++) {
		const char *id = i == 0 ? "c1" : "c2";
		char h[32];
		snprintf(h, sizeof(h), "code-%s", id);
		add_code(store, h, id, alice, NOW + 60);
		snprintf(h, sizeof(h), "refresh-%s", id);
		add_refresh(store, h, id, id, alice, NOW + 86400);
		snprintf(h, sizeof(h), "jti-%s", id);
		add_access(store, h, id, id, alice, NOW + 3600);
		snprintf(h, sizeof(h), "req-%s", id);
		add_authz(store, h, id, NOW + 600);
		ck_assert(mcpauth_store_consent_set(store, alice, id, res, "s",
						    NOW, &err));
	}
	ck_assert(mcpauth_store_client_delete(store, "c1", &a, &found, &err));
	ck_assert(found);
	mcpauth_store_free(store);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM authorization_codes "
				 "WHERE client_id = 'c1'"),
			 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM refresh_tokens "
				 "WHERE client_id = 'c1'"),
			 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM access_tokens "
				 "WHERE client_id = 'c1'"),
			 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM consents "
				 "WHERE client_id = 'c1'"),
			 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM authorization_requests "
				 "WHERE client_id = 'c1'"),
			 0);
	/* The other client's rows stay. */
	ck_assert_int_eq(sql_int("SELECT (SELECT count(*) FROM "
				 "authorization_codes) + (SELECT count(*) FROM "
				 "refresh_tokens) + (SELECT count(*) FROM "
				 "access_tokens) + (SELECT count(*) FROM "
				 "consents) + (SELECT count(*) FROM "
				 "authorization_requests)"),
			 5);
}
END_TEST

/*
 * Storing a request removes expired ones and, with a rate key, refuses
 * beyond max_pending unexpired requests of that key (429).
 */
START_TEST(test_authz_limits)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	struct mcpauth_authz_request r = {
		.browser_hash = "browser",
		.csrf_hash = "csrf",
		.client_id = "c1",
		.redirect_uri = "https://app.example.com/cb",
		.scope = "files:read",
		.resource = "https://mcp.example.com/",
		.code_challenge = "challenge",
		.created_at = NOW,
		.expires_at = NOW + 600,
		.rate_key = "192.0.2.1",
	};

	add_client(store, "c1");
	add_authz(store, "expired", "c1", NOW - 1);
	ck_assert(mcpauth_store_authz_add(store, "a1", &r, 2, &err));
	ck_assert_int_eq(sql_int("SELECT count(*) FROM authorization_requests "
				 "WHERE id_hash = 'expired'"),
			 0);
	ck_assert(mcpauth_store_authz_add(store, "a2", &r, 2, &err));
	ck_assert(!mcpauth_store_authz_add(store, "a3", &r, 2, &err));
	ck_assert_int_eq(err.status, 429);
	ck_assert_str_eq(err.code, "temporarily_unavailable");
	/* Another address is not held back; nor is anyone without a limit. */
	r.rate_key = "192.0.2.2";
	ck_assert(mcpauth_store_authz_add(store, "b1", &r, 2, &err));
	r.rate_key = "192.0.2.1";
	ck_assert(mcpauth_store_authz_add(store, "a4", &r, 0, &err));
	ck_assert_int_eq(sql_int("SELECT count(*) FROM authorization_requests"),
			 4);
	mcpauth_store_free(store);
}
END_TEST

/* Failed sign-ins are counted per rate key and per username. */
START_TEST(test_login_failures)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	long by_key = -1, by_user = -1;
	struct mcpauth_audit a = {
		.at = NOW,
		.event = "login",
		.refused = true,
		.actor = "user",
		.rate_key = "192.0.2.1",
		.username = "alice",
	};

	ck_assert(mcpauth_store_audit_add(store, &a, &err));
	ck_assert(mcpauth_store_audit_add(store, &a, &err));
	a.rate_key = "192.0.2.2";
	ck_assert(mcpauth_store_audit_add(store, &a, &err));
	a.username = "bob";
	a.refused = false; /* a success counts for nothing */
	ck_assert(mcpauth_store_audit_add(store, &a, &err));
	a.at = NOW - 1000; /* before the window */
	a.refused = true;
	ck_assert(mcpauth_store_audit_add(store, &a, &err));
	ck_assert(mcpauth_store_login_failures(store, "192.0.2.1", "alice",
					       NOW - 900, &by_key, &by_user,
					       &err));
	ck_assert_int_eq(by_key, 2);
	ck_assert_int_eq(by_user, 3);
	ck_assert(mcpauth_store_login_failures(store, "192.0.2.2", "bob",
					       NOW - 900, &by_key, &by_user,
					       &err));
	ck_assert_int_eq(by_key, 1);
	ck_assert_int_eq(by_user, 0);
	mcpauth_store_free(store);
}
END_TEST

START_TEST(test_gc_tokens)
{
	struct mcpauth_store *store = open_migrated();
	struct mcpauth_err err = { 0 };
	long long alice;
	long removed = -1;

	add_client(store, "c1");
	alice = add_user(store, "alice");
	/* Gone at NOW: expires_at <= NOW (codes: <= NOW - 86400). */
	ck_assert(mcpauth_store_session_add(store, "s-old", alice, 1, 1, NOW,
					    &err));
	ck_assert(mcpauth_store_session_add(store, "s-new", alice, 1, 1,
					    NOW + 1, &err));
	/* Newest first: storing a request deletes the expired ones. */
	add_authz(store, "req-new", "c1", NOW + 1);
	add_authz(store, "req-old", "c1", NOW - 1);
	add_code(store, "code-old", "c1", alice, NOW - 86400);
	add_code(store, "code-recent", "c1", alice, NOW - 86399);
	add_code(store, "code-new", "c1", alice, NOW + 60);
	add_refresh(store, "r-old", "f", "c1", alice, NOW);
	add_refresh(store, "r-new", "f", "c1", alice, NOW + 1);
	add_access(store, "j-old", "f", "c1", alice, NOW - 10);
	add_access(store, "j-new", "f", "c1", alice, NOW + 1);

	ck_assert(mcpauth_store_gc_tokens(store, NOW, &removed, &err));
	ck_assert_int_eq(removed, 5);
	ck_assert(mcpauth_store_gc_tokens(store, NOW, &removed, &err));
	ck_assert_int_eq(removed, 0);
	mcpauth_store_free(store);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sessions WHERE "
				 "id_hash = 's-new'"),
			 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sessions"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM authorization_requests "
				 "WHERE id_hash = 'req-new'"),
			 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM authorization_requests"),
			 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM authorization_codes "
				 "WHERE code_hash <> 'code-old'"),
			 2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM authorization_codes"),
			 2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM refresh_tokens WHERE "
				 "token_hash = 'r-new'"),
			 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM refresh_tokens"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM access_tokens WHERE "
				 "jti = 'j-new'"),
			 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM access_tokens"), 1);
}
END_TEST

START_TEST(test_not_ready)
{
	struct mcpauth_store *store = NULL;
	struct mcpauth_err err = { 0 };
	struct mcpauth_user *u = NULL;

	ck_assert(mcpauth_store_open(db, MCPAUTH_STORE_CREATE, &store, &err));
	ck_assert(!mcpauth_store_begin(store, &err));
	ck_assert_int_eq(err.status, 500);
	ck_assert(!mcpauth_store_user_get(store, "alice", &u, &err));
	mcpauth_store_rollback(store);
	mcpauth_store_free(store);
}
END_TEST

/*
 * Every foreign key column leads an index: a deleted client or user finds
 * the rows that cascade from it without reading whole tables under the
 * write lock (sql/0008).
 */
START_TEST(test_foreign_keys_indexed)
{
	struct mcpauth_store *store = open_migrated();
	char missing[512] = "";

	mcpauth_store_free(store);
	ck_assert_int_ge(sql_int("SELECT count(*) FROM sqlite_schema m, "
				 "pragma_foreign_key_list(m.name) f "
				 "WHERE m.type = 'table'"),
			 12);
	check_sql_text(db,
		       "SELECT group_concat(m.name || '.' || f.\"from\", ' ') "
		       "FROM sqlite_schema m, pragma_foreign_key_list(m.name) f "
		       "WHERE m.type = 'table' AND NOT EXISTS (SELECT 1 FROM "
		       "pragma_index_list(m.name) l, pragma_index_info(l.name) i "
		       "WHERE i.seqno = 0 AND i.name = f.\"from\")",
		       NULL, missing, sizeof(missing));
	ck_assert_msg(missing[0] == '\0', "no index leads with: %s", missing);
}
END_TEST

/* The size of the WAL file in bytes (it never shrinks: its high-water mark). */
static long long wal_bytes(void)
{
	char wal[4300];
	struct stat st;

	snprintf(wal, sizeof(wal), "%s-wal", db);
	return stat(wal, &st) == 0 ? (long long)st.st_size : 0;
}

/* The pages in the WAL now (PRAGMA wal_checkpoint's "log" column). */
static int wal_pages(void)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int pages;

	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA wal_checkpoint(PASSIVE)",
					    -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	pages = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return pages;
}

/* n access tokens of client c1, one commit each (about 5 WAL pages each). */
static void commit_tokens(struct mcpauth_store *store, const char *prefix,
			  int n)
{
	char jti[64];

	for (int i = 0; i < n; i++) {
		snprintf(jti, sizeof(jti), "%s-%06d", prefix, i);
		add_access(store, jti, "", "c1", 0, NOW + 3600);
	}
}

/* Processes reading at once in test_wal_restarts_under_reads. */
#define READERS 3

/*
 * Reads without pause from another process, as the other FastCGI
 * processes do under load: one short read transaction after another.
 */
static pid_t start_reader(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sqlite3 *h = NULL;
		if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != 0)
			_exit(1);
		sqlite3_busy_timeout(h, 1000);
		for (;;)
			sqlite3_exec(h,
				     "BEGIN; SELECT max(rowid) FROM "
				     "access_tokens; COMMIT;",
				     NULL, NULL, NULL);
	}
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
}

/*
 * The WAL starts over every ~1000 pages although another process reads
 * all the time. With SQLite's own checkpoints it could not: measured, the
 * WAL here passed 25 MB, and 1 GB in two minutes of bench/.
 */
START_TEST(test_wal_restarts_under_reads)
{
	struct mcpauth_store *store = open_migrated();
	struct check_capture c;
	pid_t readers[READERS];
	char *log;

	add_client(store, "c1");
	for (int i = 0; i < READERS; i++)
		readers[i] = start_reader();
	check_capture_begin(&c);
	commit_tokens(store, "r", 2500); /* ~12000 pages, ~48 MB */
	log = check_capture_end(&c);
	for (int i = 0; i < READERS; i++)
		stop(readers[i]);
	ck_assert_msg(wal_bytes() < 6 * 1024 * 1024,
		      "the WAL grew to %lld bytes", wal_bytes());
	ck_assert_msg(strstr(log, "event=checkpoint") == NULL, "%s", log);
	free(log);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM access_tokens"), 2500);
	mcpauth_store_free(store);
}
END_TEST

/*
 * A read transaction left open (a sysadmin's sqlite3 in BEGIN): the WAL
 * cannot start over. Writes go on; the checkpoint is tried once per 1000
 * pages (each try waits 50 ms), with a warning, not at every commit (which
 * would be 50 ms per token: this test would time out), and it succeeds at
 * the first try after the read ends.
 */
START_TEST(test_wal_long_reader)
{
	struct mcpauth_store *store = open_migrated();
	struct check_capture c;
	sqlite3 *h = NULL;
	char *log, *at;
	int warnings = 0;

	add_client(store, "c1");
	commit_tokens(store, "a", 10);
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h,
				      "BEGIN; SELECT count(*) FROM "
				      "access_tokens;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	check_capture_begin(&c);
	commit_tokens(store, "b", 1500); /* ~7000 pages */
	log = check_capture_end(&c);
	for (at = log; (at = strstr(at, "event=checkpoint")) != NULL; at++)
		warnings++;
	ck_assert_msg(warnings >= 2 && warnings <= 10, "%d warnings: %s",
		      warnings, log);
	ck_assert_ptr_nonnull(strstr(log, "level=warn"));
	ck_assert_ptr_nonnull(strstr(log, "a long read transaction"));
	free(log);
	ck_assert_msg(wal_bytes() > 12 * 1024 * 1024,
		      "the WAL is only %lld bytes", wal_bytes());
	/* The read ends: the next ~1000 pages start the WAL over. */
	ck_assert_int_eq(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);
	check_capture_begin(&c);
	commit_tokens(store, "c", 400);
	log = check_capture_end(&c);
	ck_assert_msg(strstr(log, "event=checkpoint") == NULL, "%s", log);
	free(log);
	ck_assert_int_lt(wal_pages(), WAL_PAGES_AFTER_RESTART);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM access_tokens"), 1910);
	mcpauth_store_free(store);
}
END_TEST

Suite *check_store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_migrate_empty);
	tcase_add_test(tc, test_migrate_again_is_noop);
	tcase_add_test(tc, test_ready_refuses_old_schema);
	tcase_add_test(tc, test_ready_refuses_newer_schema);
	tcase_add_test(tc, test_open_missing_without_create);
	tcase_add_test(tc, test_key_lifecycle);
	tcase_add_test(tc, test_activate_non_pending_rolls_back);
	tcase_add_test(tc, test_one_active_enforced_by_schema);
	tcase_add_test(tc, test_user_add_get_list);
	tcase_add_test(tc, test_session_lifecycle);
	tcase_add_test(tc, test_password_change_ends_sessions);
	tcase_add_test(tc, test_disable_user);
	tcase_add_test(tc, test_authz_request);
	tcase_add_test(tc, test_consents);
	tcase_add_test(tc, test_client_first_party);
	tcase_add_test(tc, test_code_consumed_once);
	tcase_add_test(tc, test_refresh_rotated_once);
	tcase_add_test(tc, test_family_revoke);
	tcase_add_test(tc, test_access_token);
	tcase_add_test(tc, test_caller_transaction);
	tcase_add_test(tc, test_client_delete_cascades);
	tcase_add_test(tc, test_gc_tokens);
	tcase_add_test(tc, test_authz_limits);
	tcase_add_test(tc, test_login_failures);
	tcase_add_test(tc, test_not_ready);
	tcase_add_test(tc, test_foreign_keys_indexed);
	suite_add_tcase(s, tc);
	tc = tcase_create("checkpoints");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_wal_restarts_under_reads);
	tcase_add_test(tc, test_wal_long_reader);
	suite_add_tcase(s, tc);
	return s;
}

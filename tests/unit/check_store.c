/* check_store.c: migrations, the version gate and signing-key rows in SQLite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "check_mcpauth.h"
#include "store.h"

static char dir[4096], db[4200];

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
static int sql_int(const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int v = -1;

	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void sql_exec(const char *sql)
{
	sqlite3 *h = NULL;

	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
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
	sql_exec(sql);
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
	suite_add_tcase(s, tc);
	return s;
}

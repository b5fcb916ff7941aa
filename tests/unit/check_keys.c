/* check_keys.c: key files and permissions, the JWKS, rotation seen by a running process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "check_mcpauth.h"
#include "keys.h"

static char dir[4096];
static struct mcpauth_conf *conf;
static struct mcpauth_store *store;

static void setup(void)
{
	struct mcpauth_err err = { 0 };
	const char *path;

	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	path = check_write_file(dir, "mcpauth.conf",
				"issuer = https://auth.example.com\n"
				"database = mcpauth.db\n"
				"key_dir = keys\n"
				"access_token_lifetime = 10m\n"
				"[resource]\n"
				"url = https://mcp.example.com/mcp\n");
	ck_assert_msg(mcpauth_conf_load(path, &conf, &err), "%s",
		      err.description);
	store = check_store_migrated(conf->database);
}

static void teardown(void)
{
	mcpauth_store_free(store);
	mcpauth_conf_free(conf);
	check_tmpdir_remove(dir);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static char *key_file(const char *kid)
{
	static char path[4300];

	snprintf(path, sizeof(path), "%s/keys/%s.jwk", dir, kid);
	return path;
}

/* The kids in the JWKS, space separated, in order. */
static void jwks_kids(char *out, size_t size)
{
	struct mcpauth_err err = { 0 };
	struct json_object *doc, *keys;
	char *jwks = NULL;

	ck_assert(mcpauth_keys_jwks(store, (long long)time(NULL), &jwks, &err));
	doc = json_tokener_parse(jwks);
	ck_assert(json_object_object_get_ex(doc, "keys", &keys));
	out[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(keys); i++) {
		struct json_object *k = json_object_array_get_idx(keys, i);
		struct json_object *kid = NULL;
		/* Only public halves are ever published. */
		ck_assert(!json_object_object_get_ex(k, "d", NULL));
		ck_assert(json_object_object_get_ex(k, "kid", &kid));
		if (i > 0)
			strncat(out, " ", size - strlen(out) - 1);
		strncat(out, json_object_get_string(kid),
			size - strlen(out) - 1);
	}
	json_object_put(doc);
	free(jwks);
}

START_TEST(test_generate_files_and_modes)
{
	struct mcpauth_err err = { 0 };
	enum mcpauth_key_state state;
	char kid[64], dirpath[4200], kids[256];

	ck_assert_msg(mcpauth_keys_generate(conf, store, NULL, kid, &state,
					    &err),
		      "%s", err.description);
	ck_assert_int_eq(state, MCPAUTH_KEY_ACTIVE);
	/* kid: YYYYMMDD-8 hex digits. */
	ck_assert_uint_eq(strlen(kid), 17);
	ck_assert_int_eq(kid[8], '-');
	snprintf(dirpath, sizeof(dirpath), "%s/keys", dir);
	ck_assert_int_eq(mode_of(dirpath), 0700);
	ck_assert_int_eq(mode_of(key_file(kid)), 0600);
	jwks_kids(kids, sizeof(kids));
	ck_assert_str_eq(kids, kid);
}
END_TEST

START_TEST(test_signer_refuses_readable_key)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_keys *keys = NULL;
	const struct mcpauth_jose_signer *signer = NULL;
	char kid[64];

	ck_assert(mcpauth_keys_generate(conf, store, "EdDSA", kid, NULL, &err));
	ck_assert_int_eq(chmod(key_file(kid), 0640), 0);
	ck_assert(mcpauth_keys_new(conf, &keys, &err));
	ck_assert(!mcpauth_keys_signer(keys, store, &signer, &err));
	ck_assert_int_eq(err.status, 503);
	ck_assert_str_eq(err.description, "the signing key is not available");
	ck_assert_ptr_nonnull(strstr(err.detail, "chmod 600"));
	ck_assert_int_eq(chmod(key_file(kid), 0600), 0);
	ck_assert(mcpauth_keys_signer(keys, store, &signer, &err));
	ck_assert_str_eq(mcpauth_jose_signer_kid(signer), kid);
	ck_assert_str_eq(mcpauth_jose_signer_alg(signer), "EdDSA");
	mcpauth_keys_free(keys);
}
END_TEST

START_TEST(test_no_active_key)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_keys *keys = NULL;
	const struct mcpauth_jose_signer *signer = NULL;

	ck_assert(mcpauth_keys_new(conf, &keys, &err));
	ck_assert(!mcpauth_keys_signer(keys, store, &signer, &err));
	ck_assert_int_eq(err.status, 503);
	ck_assert_str_eq(err.description, "no signing key is active");
	mcpauth_keys_free(keys);
}
END_TEST

START_TEST(test_rotation_reaches_running_signer)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_keys *keys = NULL;
	const struct mcpauth_jose_signer *signer = NULL;
	char k1[64], k2[64], k3[64], active[64], retired[64], kids[256];
	char want[256];
	bool unpublished = true;

	ck_assert(mcpauth_keys_generate(conf, store, NULL, k1, NULL, &err));
	ck_assert(mcpauth_keys_new(conf, &keys, &err));
	ck_assert(mcpauth_keys_signer(keys, store, &signer, &err));
	ck_assert_str_eq(mcpauth_jose_signer_kid(signer), k1);

	/* A pending key is published before it signs. */
	ck_assert(mcpauth_keys_generate(conf, store, "RS256", k2, NULL, &err));
	jwks_kids(kids, sizeof(kids));
	snprintf(want, sizeof(want), "%s %s", k2, k1);
	ck_assert_str_eq(kids, want);
	ck_assert(mcpauth_keys_signer(keys, store, &signer, &err));
	ck_assert_str_eq(mcpauth_jose_signer_kid(signer), k1);

	/* Rotation activates it; the old private file goes, its JWK stays. */
	ck_assert(mcpauth_keys_rotate(conf, store, NULL, active, retired,
				      &unpublished, &err));
	ck_assert(!unpublished);
	ck_assert_str_eq(active, k2);
	ck_assert_str_eq(retired, k1);
	ck_assert_int_ne(access(key_file(k1), F_OK), 0);
	jwks_kids(kids, sizeof(kids));
	ck_assert_str_eq(kids, want);
	ck_assert(mcpauth_keys_signer(keys, store, &signer, &err));
	ck_assert_str_eq(mcpauth_jose_signer_kid(signer), k2);
	ck_assert_str_eq(mcpauth_jose_signer_alg(signer), "RS256");

	/* Without a pending key, rotate makes one. */
	ck_assert(mcpauth_keys_rotate(conf, store, "ES256", k3, retired,
				      &unpublished, &err));
	ck_assert(unpublished);
	ck_assert_str_ne(k3, k2);
	ck_assert_str_eq(retired, k2);
	ck_assert(mcpauth_keys_signer(keys, store, &signer, &err));
	ck_assert_str_eq(mcpauth_jose_signer_kid(signer), k3);
	ck_assert_int_eq(mode_of(key_file(k3)), 0600);
	mcpauth_keys_free(keys);
}
END_TEST

START_TEST(test_generate_refuses_bad_alg)
{
	struct mcpauth_err err = { 0 };
	char kid[64];

	ck_assert(!mcpauth_keys_generate(conf, store, "HS256", kid, NULL,
					 &err));
	ck_assert_str_eq(err.description, "unsupported algorithm 'HS256' (use "
					  "ES256, EdDSA or RS256)");
}
END_TEST

Suite *check_keys_suite(void)
{
	Suite *s = suite_create("keys");
	TCase *tc = tcase_create("keys");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_generate_files_and_modes);
	tcase_add_test(tc, test_signer_refuses_readable_key);
	tcase_add_test(tc, test_no_active_key);
	tcase_add_test(tc, test_rotation_reaches_running_signer);
	tcase_add_test(tc, test_generate_refuses_bad_alg);
	suite_add_tcase(s, tc);
	return s;
}

/* check_main.c: runs every unit suite (libcheck), with shared fixture helpers. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "check_mcpauth.h"
#include "fcgi.h"
#include "jose.h"
#include "keys.h"
#include "log.h"
#include "store.h"

const char *check_tmpdir(void)
{
	static char dir[PATH_MAX];
	const char *base = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/mcpauth-check-XXXXXX",
		 base != NULL ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void check_tmpdir_remove(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *check_write_file(const char *dir, const char *name,
			     const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

struct mcpauth_store *check_store_migrated(const char *path)
{
	struct mcpauth_store *store = NULL;
	struct mcpauth_err err = { 0 };

	ck_assert_msg(mcpauth_store_open(path, MCPAUTH_STORE_CREATE, &store,
					 &err) &&
			      mcpauth_store_migrate(store, NULL, NULL, &err) &&
			      mcpauth_store_ready(store, &err),
		      "%s (%s)", err.description, err.detail);
	return store;
}

void check_ctx_open(struct mcpauth_ctx *ctx, const char *program,
		    const char *dir, const char *conf_text)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_conf *conf = NULL;
	char kid[64];
	const char *path = check_write_file(dir, "mcpauth.conf", conf_text);

	ck_assert_msg(mcpauth_conf_load(path, &conf, &err), "%s",
		      err.description);
	store = check_store_migrated(conf->database);
	ck_assert(mcpauth_keys_generate(conf, store, NULL, kid, NULL, &err));
	mcpauth_store_free(store);
	mcpauth_conf_free(conf);
	ck_assert_msg(mcpauth_ctx_open(ctx, program, path, &err), "%s",
		      err.description);
}

const char *check_header(const struct mcpauth_resp *resp, const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (!strcmp(resp->headers[i].name, name))
			return resp->headers[i].value;
	return NULL;
}

struct json_object *check_body(const struct mcpauth_resp *resp)
{
	struct json_object *o;

	ck_assert_ptr_nonnull(resp->body);
	o = json_tokener_parse(resp->body);
	ck_assert_msg(o != NULL, "not JSON: %s", resp->body);
	return o;
}

const char *check_str(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

bool check_has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

void check_strs(struct json_object *o, const char *key, char *out,
		size_t size)
{
	struct json_object *arr = NULL;

	out[0] = '\0';
	ck_assert_msg(json_object_object_get_ex(o, key, &arr), "no %s", key);
	ck_assert(json_object_is_type(arr, json_type_array));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		if (i > 0)
			strncat(out, " ", size - strlen(out) - 1);
		strncat(out,
			json_object_get_string(json_object_array_get_idx(arr, i)),
			size - strlen(out) - 1);
	}
}

int main(void)
{
	Suite *(*const suites[])(void) = {
		check_b64_suite,   check_client_suite,    check_conf_suite,
		check_crypto_suite, check_discovery_suite, check_err_suite,
		check_form_suite,  check_html_suite,
		check_jose_suite,      check_json_suite,
		check_keys_suite,  check_log_suite,       check_password_suite,
		check_register_suite,
		check_req_suite,   check_store_suite,
		check_authorize_suite, check_token_suite, check_pkce_suite,
		check_scope_suite, check_tokens_suite,
	};
	SRunner *sr = srunner_create(NULL);
	struct mcpauth_err err = { 0 };
	int failed;

	mcpauth_log_init("check");
	if (!mcpauth_jose_init(&err)) {
		fprintf(stderr, "jose init: %s\n", err.description);
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	mcpauth_jose_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

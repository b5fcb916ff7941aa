/* check_mcpauth.h: the unit suites, one per module, collected by check_main.c. */
#ifndef CHECK_MCPAUTH_H
#define CHECK_MCPAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <check.h>

Suite *check_authorize_suite(void);
Suite *check_b64_suite(void);
Suite *check_client_suite(void);
Suite *check_conf_suite(void);
Suite *check_crypto_suite(void);
Suite *check_discovery_suite(void);
Suite *check_err_suite(void);
Suite *check_form_suite(void);
Suite *check_html_suite(void);
Suite *check_jose_suite(void);
Suite *check_json_suite(void);
Suite *check_keys_suite(void);
Suite *check_log_suite(void);
Suite *check_password_suite(void);
Suite *check_pkce_suite(void);
Suite *check_register_suite(void);
Suite *check_req_suite(void);
Suite *check_scope_suite(void);
Suite *check_store_suite(void);
Suite *check_token_suite(void);
Suite *check_tokens_suite(void);

/*
 * Fixture helpers (check_main.c). A fresh temporary directory per call,
 * removed with its contents by check_tmpdir_remove; the returned path is
 * static storage valid until the next call.
 */
const char *check_tmpdir(void);
void check_tmpdir_remove(const char *dir);

struct mcpauth_store;

/* Opens (creating) the database at path, migrated and ready; or fails the test. */
struct mcpauth_store *check_store_migrated(const char *path);

/* Writes text to dir/name and returns the full path (static storage). */
const char *check_write_file(const char *dir, const char *name,
			     const char *text);

/* Declared, not included: check_jose.c includes jansson, which clashes. */
struct json_object;
struct mcpauth_ctx;
struct mcpauth_resp;

/*
 * Writes conf_text as dir/mcpauth.conf, creates its database (migrated) and
 * a signing key, and opens ctx for program on it; or fails the test.
 */
void check_ctx_open(struct mcpauth_ctx *ctx, const char *program,
		    const char *dir, const char *conf_text);

/* The first header name of resp, or NULL. */
const char *check_header(const struct mcpauth_resp *resp, const char *name);

/* resp's body parsed as JSON (a new reference), or the test fails. */
struct json_object *check_body(const struct mcpauth_resp *resp);

/* The member key of o as a string, or NULL when absent. */
const char *check_str(struct json_object *o, const char *key);
bool check_has(struct json_object *o, const char *key);

/* The array member key of o as one space-separated string. */
void check_strs(struct json_object *o, const char *key, char *out,
		size_t size);

#endif

/* check_mcpauth.h: the unit suites, one per module, collected by check_main.c. */
#ifndef CHECK_MCPAUTH_H
#define CHECK_MCPAUTH_H

#include <check.h>

Suite *check_b64_suite(void);
Suite *check_conf_suite(void);
Suite *check_crypto_suite(void);
Suite *check_discovery_suite(void);
Suite *check_err_suite(void);
Suite *check_form_suite(void);
Suite *check_jose_suite(void);
Suite *check_json_suite(void);
Suite *check_keys_suite(void);
Suite *check_log_suite(void);
Suite *check_req_suite(void);
Suite *check_store_suite(void);

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

#endif

/* check_mcpauth.h: the unit suites, one per module, collected by check_main.c. */
#ifndef CHECK_MCPAUTH_H
#define CHECK_MCPAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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
Suite *check_cimd_suite(void);
Suite *check_fetch_suite(void);
Suite *check_machine_suite(void);
Suite *check_password_suite(void);
Suite *check_pkce_suite(void);
Suite *check_register_suite(void);
Suite *check_req_suite(void);
Suite *check_safety_suite(void);
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

struct mcpauth_conf;
struct mcpauth_err;

/*
 * Loads text as dir/mcpauth.conf: the configuration, or NULL with err set
 * (err is cleared first).
 */
struct mcpauth_conf *check_conf_load(const char *dir, const char *text,
				     struct mcpauth_err *err);

/*
 * A non-blocking TCP listener on addr (AF_INET or AF_INET6, IPv6-only),
 * port 0: the socket, its port in *port; -1 when the address is missing.
 * For showing that nothing connected: see check_pending.
 */
int check_listen(int family, const char *addr, int *port);

/* Accepts and closes every connection waiting on fd; returns how many. */
int check_pending(int fd);

/* stderr (fd 2), where mcpauth_log writes, sent to a file meanwhile. */
struct check_capture {
	FILE *file;
	int saved;
};

/* Sends stderr to a temporary file until check_capture_end. */
void check_capture_begin(struct check_capture *c);

/* Restores stderr and returns what was written (free). */
char *check_capture_end(struct check_capture *c);

/* Declared, not included: check_jose.c includes jansson, which clashes. */
struct json_object;
struct mcpauth_client;
struct mcpauth_ctx;
struct mcpauth_resp;

/* The issuer of the configuration check_conf_text writes. */
#define CHECK_ISSUER "https://auth.example.com/t1"

/* The resource most suites protect, and its configuration section. */
#define CHECK_FILES "https://mcp.example.com/mcp"
#define CHECK_FILES_SECTION                                                \
	"[resource]\n"                                                     \
	"url = " CHECK_FILES "\n"                                          \
	"name = Files\n"                                                   \
	"scopes = files:read files:write\n"

/*
 * A configuration text (static storage, valid until the next call): issuer
 * CHECK_ISSUER, database mcpauth.db and key_dir keys, then the global lines
 * printf makes of fmt, a newline, and sections (the [resource] sections).
 */
const char *check_conf_text(const char *sections, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Writes conf_text as dir/mcpauth.conf, creates its database (migrated) and
 * a signing key, and opens ctx for program on it; or fails the test.
 */
void check_ctx_open(struct mcpauth_ctx *ctx, const char *program,
		    const char *dir, const char *conf_text);

/*
 * Adds client c to store as the operator does, with its audit record at
 * c's created_at; or fails the test.
 */
void check_client_add(struct mcpauth_store *store,
		      const struct mcpauth_client *c);

/* The first header name of resp, or NULL. */
const char *check_header(const struct mcpauth_resp *resp, const char *name);

/* How many times resp sets the header name (the name as it is). */
size_t check_header_count(const struct mcpauth_resp *resp, const char *name);

/*
 * Checks resp is the OAuth error status/code (a JSON body with a
 * description), with the headers every refusal carries: Cache-Control
 * no-store once, Access-Control-Allow-Origin *. Leaves resp to the caller.
 */
void check_oauth_error(const struct mcpauth_resp *resp, int status,
		       const char *code);

/* resp's body parsed as JSON (a new reference), or the test fails. */
struct json_object *check_body(const struct mcpauth_resp *resp);

/* The member key of o as a string, or NULL when absent. */
const char *check_str(struct json_object *o, const char *key);
bool check_has(struct json_object *o, const char *key);

/* The integer member key of o; the test fails when it is absent or no int. */
long long check_int(struct json_object *o, const char *key);

/* The array member key of o as one space-separated string. */
void check_strs(struct json_object *o, const char *key, char *out,
		size_t size);

/*
 * The database at db from outside the store, as a sysadmin sees it: one
 * statement sql, with ?1 bound to arg when arg is not NULL; a statement that
 * does not prepare fails the test.
 */

/* The first column of the first row as an integer; -1: no row. */
long long check_sql_int(const char *db, const char *sql, const char *arg);

/*
 * The first column of the first row as text into out ("" for none); false
 * when it is NULL or there is no row.
 */
bool check_sql_text(const char *db, const char *sql, const char *arg,
		    char *out, size_t size);

/* Runs sql, which must return no rows. */
void check_sql_exec(const char *db, const char *sql, const char *arg);

/* True when the bytes of the database file db or of its WAL hold needle. */
bool check_db_contains(const char *db, const char *needle);

#endif

/* check_register.c: register_handle called directly: RFC 7591/7592, limits, audit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "check_mcpauth.h"
#include "client.h"
#include "crypto.h"
#include "form.h"
#include "handlers.h"

static char dir[4096], db[4200];
static struct mcpauth_ctx ctx;

#define ISSUER CHECK_ISSUER
#define REG "/t1/register"
#define JSON "application/json"
#define ADDR "192.0.2.1"
#define ADDR2 "192.0.2.2"

/* A native client with a loopback redirect URI, as MCP clients register. */
#define NATIVE                                                             \
	"{\"redirect_uris\":[\"http://127.0.0.1:6276/oauth/callback\"],"   \
	"\"client_name\":\"Inspector\",\"software_id\":\"inspector\"}"

static void open_ctx(const char *extra)
{
	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	check_ctx_open(&ctx, "register", dir,
		       check_conf_text(CHECK_FILES_SECTION, "%s", extra));
	snprintf(db, sizeof(db), "%s", ctx.conf->database);
}

static void setup(void)
{
	open_ctx("");
}

static void teardown(void)
{
	mcpauth_ctx_close(&ctx);
	check_tmpdir_remove(dir);
}

/* Reopens the context with other settings. */
static void reopen(const char *extra)
{
	teardown();
	open_ctx(extra);
}

/* Runs the handler the way the adapter does; returns the response. */
static struct mcpauth_resp *run(const char *method, const char *path,
				const char *content_type, const char *body,
				const char *authorization, const char *addr)
{
	struct mcpauth_req req = { 0 };
	struct mcpauth_resp *resp = mcpauth_resp_new();

	req.method = (char *)method;
	req.path = (char *)path;
	req.query = "";
	req.content_type = (char *)content_type;
	req.body = (char *)(body != NULL ? body : "");
	req.body_len = strlen(req.body);
	req.authorization = (char *)authorization;
	req.remote_addr = (char *)addr;
	mcpauth_dispatch(&ctx, register_handle, &req, resp);
	return resp;
}

static struct mcpauth_resp *post(const char *body)
{
	return run("POST", REG, JSON, body, NULL, ADDR);
}

/* A request to IP/register/<id> with the token (NULL: no header). */
static struct mcpauth_resp *manage(const char *method, const char *id,
				   const char *token, const char *body)
{
	char path[256], auth[512];

	snprintf(path, sizeof(path), REG "/%s", id);
	snprintf(auth, sizeof(auth), "Bearer %s", token ? token : "");
	return run(method, path, body != NULL ? JSON : NULL, body,
		   token != NULL ? auth : NULL, ADDR);
}

/*
 * Checks resp is the OAuth error status/code, with the headers every
 * refusal carries; frees resp.
 */
static void expect_error(struct mcpauth_resp *resp, int status,
			 const char *code)
{
	check_oauth_error(resp, status, code);
	/* RFC 6750 §3.1: the error code only when a token was sent. */
	if (!strcmp(code, "invalid_token"))
		ck_assert(!strcmp(check_header(resp, "WWW-Authenticate"),
				  "Bearer error=\"invalid_token\"") ||
			  !strcmp(check_header(resp, "WWW-Authenticate"),
				  "Bearer"));
	mcpauth_resp_free(resp);
}

/* Same, and the description contains needle. */
static void expect_error_says(struct mcpauth_resp *resp, int status,
			      const char *code, const char *needle)
{
	struct json_object *o = check_body(resp);
	const char *d = check_str(o, "error_description");

	ck_assert_msg(resp->status == status, "status %d, want %d: %s",
		      resp->status, status, resp->body);
	ck_assert_msg(d != NULL && strstr(d, needle) != NULL,
		      "\"%s\" lacks \"%s\"", d ? d : "(none)", needle);
	json_object_put(o);
	expect_error(resp, status, code);
}

/* --- the database, as a sysadmin sees it -------------------------------- */

static long long clients(void)
{
	return check_sql_int(db, "SELECT count(*) FROM clients", NULL);
}

static long long audit_rows(void)
{
	return check_sql_int(db, "SELECT count(*) FROM audit_log", NULL);
}

static bool b64url(const char *s, size_t len)
{
	return strlen(s) == len &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-_") == len;
}

/* What a successful registration handed out. */
struct reg {
	char id[64];
	char token[128];
	char secret[128]; /* "" for a public client */
};

static void register_ok(const char *text, struct reg *r)
{
	struct mcpauth_resp *resp = post(text);
	struct json_object *o = check_body(resp);

	ck_assert_msg(resp->status == 201, "%d: %s", resp->status, resp->body);
	snprintf(r->id, sizeof(r->id), "%s", check_str(o, "client_id"));
	snprintf(r->token, sizeof(r->token), "%s",
		 check_str(o, "registration_access_token"));
	snprintf(r->secret, sizeof(r->secret), "%s",
		 check_has(o, "client_secret") ? check_str(o, "client_secret") : "");
	json_object_put(o);
	mcpauth_resp_free(resp);
}

/* --- RFC 7591 registration ---------------------------------------------- */

START_TEST(test_register_public)
{
	long long before = (long long)time(NULL), after;
	struct mcpauth_resp *resp = post(
		"{\"redirect_uris\":[\"http://127.0.0.1:6276/oauth/callback\","
		"\"http://localhost:6276/oauth/callback\"],"
		"\"client_name\":\"MCP \\\"Inspector\\\"\","
		"\"software_id\":\"inspector\",\"software_version\":\"0.16\","
		"\"client_uri\":\"https://inspector.example/\",\"logo_uri\":"
		"\"https://inspector.example/logo.png\",\"tos_uri\":"
		"\"https://inspector.example/tos\",\"policy_uri\":"
		"\"https://inspector.example/privacy\",\"contacts\":"
		"[\"ops@inspector.example\"],\"scope\":\"files:read bogus\","
		"\"foo\":{\"bar\":1},\"client_id\":\"mine\","
		"\"client_secret\":\"mysecret\",\"client_id_issued_at\":1,"
		"\"registration_access_token\":\"mytoken\"}");
	struct json_object *o = check_body(resp);
	char buf[512], want[256], *hash;
	const char *id, *token;

	after = (long long)time(NULL);
	ck_assert_msg(resp->status == 201, "%d: %s", resp->status, resp->body);
	ck_assert_str_eq(resp->content_type, "application/json");
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	ck_assert_str_eq(check_header(resp, "Pragma"), "no-cache");
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Origin"), "*");

	/* Server-made values, whatever the client sent. */
	id = check_str(o, "client_id");
	ck_assert_msg(b64url(id, 22), "client_id %s", id);
	ck_assert_int_ge(check_int(o, "client_id_issued_at"), before);
	ck_assert_int_le(check_int(o, "client_id_issued_at"), after);
	token = check_str(o, "registration_access_token");
	ck_assert_msg(b64url(token, 43), "token %s", token);
	ck_assert_str_ne(token, "mytoken");
	snprintf(want, sizeof(want), ISSUER "/register/%s", id);
	ck_assert_str_eq(check_str(o, "registration_client_uri"), want);
	ck_assert(!check_has(o, "client_secret"));
	ck_assert(!check_has(o, "client_secret_expires_at"));
	ck_assert_ptr_null(strstr(resp->body, "mysecret"));

	/* The registered metadata, defaults filled in. */
	check_strs(o, "redirect_uris", buf, sizeof(buf));
	ck_assert_str_eq(buf, "http://127.0.0.1:6276/oauth/callback "
			      "http://localhost:6276/oauth/callback");
	ck_assert_str_eq(check_str(o, "token_endpoint_auth_method"), "none");
	check_strs(o, "grant_types", buf, sizeof(buf));
	ck_assert_str_eq(buf, "authorization_code refresh_token");
	check_strs(o, "response_types", buf, sizeof(buf));
	ck_assert_str_eq(buf, "code");
	ck_assert_str_eq(check_str(o, "application_type"), "native");
	ck_assert_str_eq(check_str(o, "scope"), "files:read");
	ck_assert_str_eq(check_str(o, "client_name"), "MCP \"Inspector\"");
	ck_assert_str_eq(check_str(o, "software_id"), "inspector");
	ck_assert_str_eq(check_str(o, "software_version"), "0.16");
	ck_assert_str_eq(check_str(o, "client_uri"), "https://inspector.example/");
	ck_assert_str_eq(check_str(o, "logo_uri"),
			 "https://inspector.example/logo.png");
	ck_assert_str_eq(check_str(o, "tos_uri"), "https://inspector.example/tos");
	ck_assert_str_eq(check_str(o, "policy_uri"),
			 "https://inspector.example/privacy");
	check_strs(o, "contacts", buf, sizeof(buf));
	ck_assert_str_eq(buf, "ops@inspector.example");
	ck_assert(!check_has(o, "foo"));
	ck_assert_int_eq(json_object_object_length(o), 18);

	/* The row. */
	ck_assert_int_eq(clients(), 1);
	ck_assert(check_sql_text(
		db, "SELECT source FROM clients WHERE client_id = ?1", id, buf,
		sizeof(buf)));
	ck_assert_str_eq(buf, "dynamic");
	ck_assert(check_sql_text(db,
				 "SELECT registered_from FROM clients "
				 "WHERE client_id = ?1",
				 id, buf, sizeof(buf)));
	ck_assert_str_eq(buf, ADDR);
	ck_assert(check_sql_text(db,
				 "SELECT redirect_uris FROM clients "
				 "WHERE client_id = ?1",
				 id, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "[\"http://127.0.0.1:6276/oauth/callback\","
			      "\"http://localhost:6276/oauth/callback\"]");
	ck_assert(
		check_sql_text(db,
			       "SELECT application_type || ' ' || "
			       "token_endpoint_auth_method || ' ' || scope || "
			       "' ' || grant_types FROM clients "
			       "WHERE client_id = ?1",
			       id, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "native none files:read authorization_code "
			      "refresh_token");
	ck_assert(!check_sql_text(db,
				  "SELECT secret_hash FROM clients "
				  "WHERE client_id = ?1",
				  id, buf, sizeof(buf)));
	ck_assert(!check_sql_text(db,
				  "SELECT initial_token_id FROM clients "
				  "WHERE client_id = ?1",
				  id, buf, sizeof(buf)));
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT created_at FROM clients "
				       "WHERE client_id = ?1 AND updated_at = "
				       "created_at AND last_used_at IS NULL",
				       id),
			 check_int(o, "client_id_issued_at"));
	ck_assert(check_sql_text(db,
				 "SELECT registration_token_hash FROM clients "
				 "WHERE client_id = ?1",
				 id, buf, sizeof(buf)));
	hash = mcpauth_crypto_sha256_b64url(token);
	ck_assert_str_eq(buf, hash);
	/* Hashed only: the file has the hash, never the token. */
	ck_assert(check_db_contains(db, hash));
	ck_assert(!check_db_contains(db, token));
	ck_assert(!check_db_contains(db, "mysecret"));
	free(hash);

	/* One audit row. */
	ck_assert_int_eq(audit_rows(), 1);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "event = 'register' AND outcome = 'ok' AND "
			      "actor = 'client' AND client_id = ?1 AND "
			      "address = '" ADDR "' AND software_id = "
			      "'inspector' AND client_name = "
			      "'MCP ''Inspector''' AND error IS NULL",
			      id),
		1);
	json_object_put(o);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_register_web_defaults)
{
	struct mcpauth_resp *resp =
		post("{\"redirect_uris\":[\"https://app.example.com/cb\"]}");
	struct json_object *o = check_body(resp);

	ck_assert_int_eq(resp->status, 201);
	ck_assert_str_eq(check_str(o, "application_type"), "web");
	ck_assert_str_eq(check_str(o, "scope"),
			 "files:read files:write offline_access");
	ck_assert(!check_has(o, "client_name"));
	ck_assert(!check_has(o, "client_secret"));
	json_object_put(o);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_register_two_differ)
{
	struct reg a, b;

	register_ok(NATIVE, &a);
	register_ok(NATIVE, &b);
	ck_assert_str_ne(a.id, b.id);
	ck_assert_str_ne(a.token, b.token);
	ck_assert_int_eq(clients(), 2);
}
END_TEST

START_TEST(test_register_content_types)
{
	static const char *const ok[] = {
		"application/json; charset=utf-8",
		"application/json;charset=UTF-8",
		"Application/JSON",
		"application/json ; charset=utf-8",
	};
	struct mcpauth_resp *resp =
		run("POST", REG, ok[_i], NATIVE, NULL, ADDR);

	ck_assert_msg(resp->status == 201, "%s: %d", ok[_i], resp->status);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_register_confidential)
{
	struct mcpauth_resp *resp;
	struct json_object *o;
	char buf[256], *hash;
	const char *id, *secret, *token;

	reopen("confidential_registration = yes");
	resp = post("{\"redirect_uris\":[\"https://app.example.com/cb\"],"
		    "\"token_endpoint_auth_method\":\"client_secret_basic\","
		    "\"client_name\":\"Web app\"}");
	o = check_body(resp);
	ck_assert_msg(resp->status == 201, "%d: %s", resp->status, resp->body);
	id = check_str(o, "client_id");
	secret = check_str(o, "client_secret");
	token = check_str(o, "registration_access_token");
	ck_assert_ptr_nonnull(secret);
	ck_assert_msg(b64url(secret, 43), "secret %s", secret);
	ck_assert_str_ne(secret, token);
	ck_assert_int_eq(check_int(o, "client_secret_expires_at"), 0);
	ck_assert_str_eq(check_str(o, "token_endpoint_auth_method"),
			 "client_secret_basic");
	ck_assert_str_eq(check_str(o, "application_type"), "web");

	ck_assert(check_sql_text(db,
				 "SELECT secret_hash FROM clients "
				 "WHERE client_id = ?1",
				 id, buf, sizeof(buf)));
	hash = mcpauth_crypto_sha256_b64url(secret);
	ck_assert_str_eq(buf, hash);
	ck_assert(check_db_contains(db, hash));
	free(hash);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT secret_expires_at FROM clients "
				       "WHERE client_id = ?1",
				       id),
			 0);
	/* Neither the secret nor the token is in the file or its WAL. */
	ck_assert(!check_db_contains(db, secret));
	ck_assert(!check_db_contains(db, token));
	json_object_put(o);
	mcpauth_resp_free(resp);

	/* client_secret_post too. */
	resp = post("{\"redirect_uris\":[\"https://app.example.com/cb\"],"
		    "\"token_endpoint_auth_method\":\"client_secret_post\"}");
	o = check_body(resp);
	ck_assert_int_eq(resp->status, 201);
	ck_assert_ptr_nonnull(check_str(o, "client_secret"));
	ck_assert(!check_db_contains(db, check_str(o, "client_secret")));
	json_object_put(o);
	mcpauth_resp_free(resp);
	ck_assert_int_eq(clients(), 2);
}
END_TEST

START_TEST(test_register_secret_lifetime)
{
	struct mcpauth_resp *resp;
	struct json_object *o;

	reopen("confidential_registration = yes\n"
	       "client_secret_lifetime = 1d");
	resp = post("{\"redirect_uris\":[\"https://app.example.com/cb\"],"
		    "\"token_endpoint_auth_method\":\"client_secret_post\"}");
	o = check_body(resp);
	ck_assert_int_eq(resp->status, 201);
	ck_assert_int_eq(check_int(o, "client_secret_expires_at"),
			 check_int(o, "client_id_issued_at") + 86400);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT secret_expires_at - created_at "
				       "FROM clients",
				       NULL),
			 86400);
	json_object_put(o);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_register_confidential_off)
{
	struct mcpauth_resp *resp = post(
		"{\"redirect_uris\":[\"https://app.example.com/cb\"],"
		"\"token_endpoint_auth_method\":\"client_secret_basic\","
		"\"client_name\":\"Web app\",\"software_id\":\"web-1\"}");

	expect_error_says(resp, 400, "invalid_client_metadata",
			  "confidential registration is disabled");
	ck_assert_int_eq(clients(), 0);
	/* The refusal is audited with what the client said it is. */
	ck_assert_int_eq(audit_rows(), 1);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "event = 'register' AND outcome = 'refused' "
			      "AND actor = 'client' AND client_id IS NULL "
			      "AND address = '" ADDR "' AND error = "
			      "'invalid_client_metadata' AND software_id = "
			      "'web-1' AND client_name = 'Web app' AND "
			      "detail LIKE '%confidential registration is "
			      "disabled%'",
			      NULL),
		1);
}
END_TEST

START_TEST(test_register_bad_bodies)
{
	static const struct {
		const char *content_type;
		const char *body;
		const char *code;
	} bad[] = {
		/* RFC 7591 §3.1: a JSON object, as application/json */
		{ NULL, NATIVE, "invalid_client_metadata" },
		{ "text/plain", NATIVE, "invalid_client_metadata" },
		{ "application/x-www-form-urlencoded", NATIVE,
		  "invalid_client_metadata" },
		{ "application/jsonx", NATIVE, "invalid_client_metadata" },
		{ "application/json text/html", NATIVE,
		  "invalid_client_metadata" },
		{ "application/json-patch+json", NATIVE,
		  "invalid_client_metadata" },
		{ "", NATIVE, "invalid_client_metadata" },
		{ JSON, "", "invalid_client_metadata" },
		{ JSON, "{", "invalid_client_metadata" },
		{ JSON, "{\"redirect_uris\":[\"https://a.example/cb\"],}",
		  "invalid_client_metadata" },
		{ JSON, "{'redirect_uris':['https://a.example/cb']}",
		  "invalid_client_metadata" },
		{ JSON, NATIVE " {}", "invalid_client_metadata" },
		{ JSON,
		  "{\"redirect_uris\":[\"https://a.example/cb\"],"
		  "\"redirect_uris\":[\"https://evil.example/cb\"]}",
		  "invalid_client_metadata" },
		{ JSON,
		  "{\"redirect_uris\":[\"https://a.example/cb\"],"
		  "\"x\":{\"a\":1,\"a\":2}}",
		  "invalid_client_metadata" },
		{ JSON, "[" NATIVE "]", "invalid_client_metadata" },
		{ JSON, "\"https://a.example/cb\"", "invalid_client_metadata" },
		{ JSON, "null", "invalid_client_metadata" },
		{ JSON, "42", "invalid_client_metadata" },
		{ JSON,
		  "{\"redirect_uris\":[\"https://a.example/cb\"],\"x\":"
		  "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}",
		  "invalid_client_metadata" },
		{ JSON,
		  "{\"redirect_uris\":[\"https://a.example/cb\"],"
		  "\"client_name\":\"\xff\xfe\"}",
		  "invalid_client_metadata" },
		{ JSON,
		  "{\"redirect_uris\":[\"https://a.example/cb\"],"
		  "\"client_name\":\"a\\u0000b\"}",
		  "invalid_client_metadata" },
		/* and valid metadata */
		{ JSON, "{}", "invalid_redirect_uri" },
		{ JSON, "{\"redirect_uris\":[\"https://a.example/cb#f\"]}",
		  "invalid_redirect_uri" },
		{ JSON,
		  "{\"redirect_uris\":[\"https://a.example/cb\"],"
		  "\"grant_types\":[\"client_credentials\"]}",
		  "invalid_client_metadata" },
	};
	struct mcpauth_resp *resp = run("POST", REG, bad[_i].content_type,
					bad[_i].body, NULL, ADDR);

	ck_assert_msg(resp->status == 400, "%zu: %d %s", (size_t)_i,
		      resp->status, resp->body);
	expect_error(resp, 400, bad[_i].code);
	/* Nothing stored; the refusal audited once. */
	ck_assert_int_eq(clients(), 0);
	ck_assert_int_eq(audit_rows(), 1);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "event = 'register' AND outcome = 'refused' "
			      "AND error = ?1 AND address = '" ADDR "' "
			      "AND client_id IS NULL",
			      bad[_i].code),
		1);
}
END_TEST

START_TEST(test_register_depth_limit)
{
	char text[512];
	struct mcpauth_resp *resp;

	/* 16 levels, the object itself included, are fine; 17 are not. */
	snprintf(text, sizeof(text),
		 "{\"redirect_uris\":[\"https://a.example/cb\"],\"x\":"
		 "%.15s1%.15s}",
		 "[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]]]]]");
	resp = post(text);
	ck_assert_msg(resp->status == 201, "%d: %s", resp->status, resp->body);
	mcpauth_resp_free(resp);
	snprintf(text, sizeof(text),
		 "{\"redirect_uris\":[\"https://a.example/cb\"],\"x\":"
		 "%.16s1%.16s}",
		 "[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]]]]]");
	expect_error(post(text), 400, "invalid_client_metadata");
	ck_assert_int_eq(clients(), 1);
}
END_TEST

START_TEST(test_register_without_address)
{
	struct mcpauth_resp *resp = run("POST", REG, JSON, NATIVE, NULL, NULL);
	char buf[64];

	ck_assert_int_eq(resp->status, 201);
	mcpauth_resp_free(resp);
	ck_assert(!check_sql_text(db, "SELECT registered_from FROM clients",
				  NULL, buf, sizeof(buf)));
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM audit_log WHERE "
				       "address IS NULL AND outcome = 'ok'",
				       NULL),
			 1);
}
END_TEST

START_TEST(test_register_disabled)
{
	struct mcpauth_resp *resp;

	reopen("dynamic_registration = no");
	resp = post(NATIVE);
	expect_error_says(resp, 404, "invalid_request", "disabled");
	ck_assert_int_eq(clients(), 0);
}
END_TEST

/* --- RFC 7592 management ------------------------------------------------ */

START_TEST(test_manage_get)
{
	struct reg r;
	struct mcpauth_resp *resp;
	struct json_object *o;
	char want[256];

	register_ok(NATIVE, &r);
	resp = manage("GET", r.id, r.token, NULL);
	o = check_body(resp);
	ck_assert_msg(resp->status == 200, "%d: %s", resp->status, resp->body);
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Origin"), "*");
	ck_assert_str_eq(check_str(o, "client_id"), r.id);
	ck_assert(check_has(o, "client_id_issued_at"));
	snprintf(want, sizeof(want), ISSUER "/register/%s", r.id);
	ck_assert_str_eq(check_str(o, "registration_client_uri"), want);
	ck_assert_str_eq(check_str(o, "client_name"), "Inspector");
	ck_assert_str_eq(check_str(o, "application_type"), "native");
	/* Stored hashed: never shown again. */
	ck_assert(!check_has(o, "registration_access_token"));
	ck_assert(!check_has(o, "client_secret"));
	ck_assert_ptr_null(strstr(resp->body, r.token));
	json_object_put(o);
	mcpauth_resp_free(resp);
	/* Reads are audited too. */
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM audit_log WHERE "
				       "event = 'read' AND outcome = 'ok' AND "
				       "client_id = ?1 AND software_id = "
				       "'inspector'",
				       r.id),
			 1);
}
END_TEST

START_TEST(test_manage_bad_token)
{
	struct reg r, other;
	char auth[256];
	static const char *const methods[] = { "GET", "PUT", "DELETE" };
	char put[512];

	/* Many refusals from one address: the limit is tested apart. */
	reopen("registration_rate_limit = 0");
	register_ok(NATIVE, &r);
	register_ok(NATIVE, &other);
	snprintf(put, sizeof(put),
		 "{\"client_id\":\"%s\",\"redirect_uris\":"
		 "[\"http://127.0.0.1/x\"],\"client_name\":\"Hijacked\"}",
		 r.id);
	for (size_t m = 0; m < 3; m++) {
		const char *body = strcmp(methods[m], "PUT") ? NULL : put;
		long long before = audit_rows();
		/* Wrong token, another client's token, none at all. */
		expect_error(manage(methods[m], r.id, "wrong-token", body),
			     401, "invalid_token");
		expect_error(manage(methods[m], r.id, other.token, body), 401,
			     "invalid_token");
		expect_error(manage(methods[m], r.id, NULL, body), 401,
			     "invalid_token");
		expect_error(manage(methods[m], r.id, "", body), 401,
			     "invalid_token");
		expect_error(manage(methods[m], r.id, "a b", body), 401,
			     "invalid_token");
		/* An unknown client with a real token: the same answer. */
		expect_error(manage(methods[m], "AAAAAAAAAAAAAAAAAAAAAA",
				    r.token, body),
			     401, "invalid_token");
		/* Not a bearer token. */
		snprintf(auth, sizeof(auth), "Basic %s", r.token);
		{
			char path[128];
			snprintf(path, sizeof(path), REG "/%s", r.id);
			expect_error(run(methods[m], path,
					 body ? JSON : NULL, body, auth,
					 ADDR),
				     401, "invalid_token");
		}
		/* Every refusal audited. */
		ck_assert_int_eq(audit_rows(), before + 7);
	}
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM audit_log WHERE "
				       "outcome = 'refused' AND error = "
				       "'invalid_token'",
				       NULL),
			 21);
	/* Nothing changed. */
	ck_assert_int_eq(clients(), 2);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM clients WHERE "
				       "client_name = 'Inspector'",
				       NULL),
			 2);
}
END_TEST

START_TEST(test_manage_put)
{
	struct reg r;
	struct mcpauth_resp *resp;
	struct json_object *o;
	char text[1024], buf[512];

	register_ok("{\"redirect_uris\":[\"https://app.example.com/cb\"],"
		    "\"client_name\":\"Old\",\"client_uri\":"
		    "\"https://app.example.com/\",\"scope\":\"files:read\"}",
		    &r);
	snprintf(text, sizeof(text),
		 "{\"client_id\":\"%s\",\"redirect_uris\":"
		 "[\"http://127.0.0.1:9000/cb\"],\"client_name\":\"New\","
		 "\"registration_access_token\":\"x\","
		 "\"registration_client_uri\":\"https://evil.example/\","
		 "\"client_id_issued_at\":1,\"client_secret_expires_at\":2,"
		 "\"foo\":\"bar\"}",
		 r.id);
	resp = manage("PUT", r.id, r.token, text);
	o = check_body(resp);
	ck_assert_msg(resp->status == 200, "%d: %s", resp->status, resp->body);
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	ck_assert_str_eq(check_str(o, "client_id"), r.id);
	ck_assert_str_eq(check_str(o, "client_name"), "New");
	ck_assert_str_eq(check_str(o, "application_type"), "native");
	check_strs(o, "redirect_uris", buf, sizeof(buf));
	ck_assert_str_eq(buf, "http://127.0.0.1:9000/cb");
	/* Replace, not merge: what is omitted takes its default. */
	ck_assert(!check_has(o, "client_uri"));
	ck_assert_str_eq(check_str(o, "scope"),
			 "files:read files:write offline_access");
	ck_assert(!check_has(o, "foo"));
	ck_assert(!check_has(o, "registration_access_token"));
	ck_assert(!check_has(o, "client_secret"));
	ck_assert(!check_has(o, "client_secret_expires_at"));
	ck_assert_int_ne(check_int(o, "client_id_issued_at"), 1);
	snprintf(text, sizeof(text), ISSUER "/register/%s", r.id);
	ck_assert_str_eq(check_str(o, "registration_client_uri"), text);
	json_object_put(o);
	mcpauth_resp_free(resp);

	/* Stored. */
	ck_assert(check_sql_text(
		db,
		"SELECT client_name || ' ' || application_type || "
		"' ' || redirect_uris FROM clients "
		"WHERE client_id = ?1",
		r.id, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "New native [\"http://127.0.0.1:9000/cb\"]");
	ck_assert(check_sql_text(
		db, "SELECT metadata FROM clients WHERE client_id = ?1", r.id,
		buf, sizeof(buf)));
	ck_assert_ptr_null(strstr(buf, "client_uri"));
	ck_assert_ptr_null(strstr(buf, "Old"));
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "event = 'update' AND outcome = 'ok' AND "
			      "client_id = ?1 AND client_name = 'New'",
			      r.id),
		1);

	/* The token still works; GET shows the new metadata. */
	resp = manage("GET", r.id, r.token, NULL);
	o = check_body(resp);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(check_str(o, "client_name"), "New");
	json_object_put(o);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_manage_put_refused)
{
	struct reg r, other;
	char text[1024], before[1024], after[1024];

	register_ok(NATIVE, &r);
	register_ok(NATIVE, &other);
	ck_assert(check_sql_text(
		db, "SELECT metadata FROM clients WHERE client_id = ?1", r.id,
		before, sizeof(before)));

	/* RFC 7592 §2.2: the body names this client. */
	snprintf(text, sizeof(text),
		 "{\"client_id\":\"%s\",\"redirect_uris\":"
		 "[\"http://127.0.0.1/cb\"]}",
		 other.id);
	expect_error(manage("PUT", r.id, r.token, text), 400,
		     "invalid_request");
	expect_error(manage("PUT", r.id, r.token,
			    "{\"redirect_uris\":[\"http://127.0.0.1/cb\"]}"),
		     400, "invalid_request");
	snprintf(text, sizeof(text),
		 "{\"client_id\":5,\"redirect_uris\":[\"http://127.0.0.1/cb\"]}");
	expect_error(manage("PUT", r.id, r.token, text), 400,
		     "invalid_request");
	/* A secret this public client never had. */
	snprintf(text, sizeof(text),
		 "{\"client_id\":\"%s\",\"client_secret\":\"x\","
		 "\"redirect_uris\":[\"http://127.0.0.1/cb\"]}",
		 r.id);
	expect_error(manage("PUT", r.id, r.token, text), 400,
		     "invalid_client_metadata");
	/* The same validation as registration. */
	snprintf(text, sizeof(text),
		 "{\"client_id\":\"%s\",\"redirect_uris\":"
		 "[\"http://a.example/cb\"]}",
		 r.id);
	expect_error(manage("PUT", r.id, r.token, text), 400,
		     "invalid_redirect_uri");
	snprintf(text, sizeof(text), "{\"client_id\":\"%s\"}", r.id);
	expect_error(manage("PUT", r.id, r.token, text), 400,
		     "invalid_redirect_uri");
	snprintf(text, sizeof(text),
		 "{\"client_id\":\"%s\",\"redirect_uris\":"
		 "[\"http://127.0.0.1/cb\"],\"token_endpoint_auth_method\":"
		 "\"client_secret_post\"}",
		 r.id);
	expect_error_says(manage("PUT", r.id, r.token, text), 400,
			  "invalid_client_metadata",
			  "confidential registration is disabled");
	expect_error(manage("PUT", r.id, r.token, "{"), 400,
		     "invalid_client_metadata");
	expect_error(manage("PUT", r.id, r.token, "[]"), 400,
		     "invalid_client_metadata");
	{
		char path[128], auth[256];
		snprintf(path, sizeof(path), REG "/%s", r.id);
		snprintf(auth, sizeof(auth), "Bearer %s", r.token);
		snprintf(text, sizeof(text),
			 "{\"client_id\":\"%s\",\"redirect_uris\":"
			 "[\"http://127.0.0.1/cb\"]}",
			 r.id);
		expect_error(run("PUT", path, "text/plain", text, auth, ADDR),
			     400, "invalid_client_metadata");
	}
	/* Unchanged, and every refusal audited. */
	ck_assert(check_sql_text(
		db, "SELECT metadata FROM clients WHERE client_id = ?1", r.id,
		after, sizeof(after)));
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "event = 'update' AND outcome = 'refused' "
			      "AND client_id = ?1",
			      r.id),
		10);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM audit_log WHERE "
				       "event = 'update' AND outcome = 'ok'",
				       NULL),
			 0);
}
END_TEST

START_TEST(test_manage_put_secret)
{
	struct reg r;
	struct mcpauth_resp *resp;
	struct json_object *o;
	char text[1024], hash[128], buf[128], secret[128], *h;

	reopen("confidential_registration = yes");
	register_ok(NATIVE, &r);
	ck_assert_str_eq(r.secret, "");

	/* none -> client_secret_post: a secret, shown in this answer only. */
	snprintf(text, sizeof(text),
		 "{\"client_id\":\"%s\",\"redirect_uris\":"
		 "[\"https://app.example.com/cb\"],"
		 "\"token_endpoint_auth_method\":\"client_secret_post\"}",
		 r.id);
	resp = manage("PUT", r.id, r.token, text);
	o = check_body(resp);
	ck_assert_msg(resp->status == 200, "%d: %s", resp->status, resp->body);
	ck_assert_str_eq(check_str(o, "token_endpoint_auth_method"),
			 "client_secret_post");
	ck_assert_ptr_nonnull(check_str(o, "client_secret"));
	snprintf(secret, sizeof(secret), "%s", check_str(o, "client_secret"));
	ck_assert_msg(b64url(secret, 43), "secret %s", secret);
	ck_assert_int_eq(check_int(o, "client_secret_expires_at"), 0);
	json_object_put(o);
	mcpauth_resp_free(resp);
	ck_assert(check_sql_text(db,
				 "SELECT secret_hash FROM clients WHERE "
				 "client_id = ?1",
				 r.id, hash, sizeof(hash)));
	h = mcpauth_crypto_sha256_b64url(secret);
	ck_assert_str_eq(hash, h);
	free(h);
	ck_assert(!check_db_contains(db, secret));

	/* GET does not show it again. */
	resp = manage("GET", r.id, r.token, NULL);
	o = check_body(resp);
	ck_assert(!check_has(o, "client_secret"));
	ck_assert_int_eq(check_int(o, "client_secret_expires_at"), 0);
	json_object_put(o);
	mcpauth_resp_free(resp);

	/* A wrong client_secret in the body is refused. */
	snprintf(text, sizeof(text),
		 "{\"client_id\":\"%s\",\"client_secret\":\"wrong\","
		 "\"redirect_uris\":[\"https://app.example.com/cb\"],"
		 "\"token_endpoint_auth_method\":\"client_secret_post\"}",
		 r.id);
	expect_error(manage("PUT", r.id, r.token, text), 400,
		     "invalid_client_metadata");
	ck_assert(check_sql_text(db,
				 "SELECT secret_hash FROM clients WHERE "
				 "client_id = ?1",
				 r.id, buf, sizeof(buf)));
	ck_assert_str_eq(buf, hash);

	/* The right one, another secret method: the secret is kept. */
	snprintf(text, sizeof(text),
		 "{\"client_id\":\"%s\",\"client_secret\":\"%s\","
		 "\"redirect_uris\":[\"https://app.example.com/cb\"],"
		 "\"token_endpoint_auth_method\":\"client_secret_basic\"}",
		 r.id, secret);
	resp = manage("PUT", r.id, r.token, text);
	o = check_body(resp);
	ck_assert_msg(resp->status == 200, "%d: %s", resp->status, resp->body);
	ck_assert(!check_has(o, "client_secret"));
	ck_assert_str_eq(check_str(o, "token_endpoint_auth_method"),
			 "client_secret_basic");
	json_object_put(o);
	mcpauth_resp_free(resp);
	ck_assert(check_sql_text(db,
				 "SELECT secret_hash FROM clients WHERE "
				 "client_id = ?1",
				 r.id, buf, sizeof(buf)));
	ck_assert_str_eq(buf, hash);

	/* Back to none: the secret is dropped. */
	snprintf(text, sizeof(text),
		 "{\"client_id\":\"%s\",\"redirect_uris\":"
		 "[\"https://app.example.com/cb\"]}",
		 r.id);
	resp = manage("PUT", r.id, r.token, text);
	o = check_body(resp);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(check_str(o, "token_endpoint_auth_method"), "none");
	ck_assert(!check_has(o, "client_secret"));
	ck_assert(!check_has(o, "client_secret_expires_at"));
	json_object_put(o);
	mcpauth_resp_free(resp);
	ck_assert(!check_sql_text(db,
				  "SELECT secret_hash FROM clients WHERE "
				  "client_id = ?1",
				  r.id, buf, sizeof(buf)));
}
END_TEST

START_TEST(test_manage_delete)
{
	struct reg r, other;
	struct mcpauth_resp *resp;

	register_ok(NATIVE, &r);
	register_ok(NATIVE, &other);
	resp = manage("DELETE", r.id, r.token, NULL);
	ck_assert_int_eq(resp->status, 204);
	ck_assert_uint_eq(resp->body_len, 0);
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Origin"), "*");
	mcpauth_resp_free(resp);
	ck_assert_int_eq(clients(), 1);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM clients WHERE "
				       "client_id = ?1",
				       other.id),
			 1);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "event = 'delete' AND outcome = 'ok' AND "
			      "client_id = ?1",
			      r.id),
		1);
	/* Gone: the token opens nothing any more. */
	expect_error(manage("GET", r.id, r.token, NULL), 401, "invalid_token");
	expect_error(manage("DELETE", r.id, r.token, NULL), 401,
		     "invalid_token");
}
END_TEST

/* --- the operator's limits ---------------------------------------------- */

START_TEST(test_cap)
{
	struct reg r;
	struct mcpauth_resp *resp;

	reopen("max_dynamic_clients = 1");
	register_ok(NATIVE, &r);
	resp = post(NATIVE);
	ck_assert_str_eq(check_header(resp, "Retry-After"), "3600");
	expect_error(resp, 503, "temporarily_unavailable");
	ck_assert_int_eq(clients(), 1);
	/* The refusal names no client: none was issued. */
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "event = 'register' AND outcome = 'refused' "
			      "AND error = 'temporarily_unavailable' AND "
			      "client_id IS NULL AND software_id = "
			      "'inspector'",
			      NULL),
		1);
	/* Room again once one is deleted. */
	resp = manage("DELETE", r.id, r.token, NULL);
	ck_assert_int_eq(resp->status, 204);
	mcpauth_resp_free(resp);
	register_ok(NATIVE, &r);
	ck_assert_int_eq(clients(), 1);
}
END_TEST

START_TEST(test_rate_limit)
{
	struct reg r;
	struct mcpauth_resp *resp;
	const char *ra;
	long v;

	reopen("registration_rate_limit = 2");
	register_ok(NATIVE, &r);
	/* Refused attempts count too. */
	expect_error(post("{"), 400, "invalid_client_metadata");
	resp = post(NATIVE);
	ra = check_header(resp, "Retry-After");
	ck_assert_ptr_nonnull(ra);
	v = strtol(ra, NULL, 10);
	ck_assert_msg(v >= 1 && v <= 3600, "Retry-After: %s", ra);
	expect_error(resp, 429, "temporarily_unavailable");
	ck_assert_int_eq(clients(), 1);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "outcome = 'refused' AND error = "
			      "'temporarily_unavailable' AND address = "
			      "'" ADDR "'",
			      NULL),
		1);
	/* Per address. */
	resp = run("POST", REG, JSON, NATIVE, NULL, ADDR2);
	ck_assert_int_eq(resp->status, 201);
	mcpauth_resp_free(resp);
	ck_assert_int_eq(clients(), 2);
	/* Management requests are not registrations. */
	resp = manage("GET", r.id, r.token, NULL);
	ck_assert_int_eq(resp->status, 200);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_rate_window_slides)
{
	struct reg r;
	struct mcpauth_resp *resp;

	reopen("registration_rate_limit = 1\n"
	       "registration_rate_window = 60");
	register_ok(NATIVE, &r);
	resp = post(NATIVE);
	ck_assert_int_eq(resp->status, 429);
	ck_assert_int_ge(strtol(check_header(resp, "Retry-After"), NULL, 10), 1);
	ck_assert_int_le(strtol(check_header(resp, "Retry-After"), NULL, 10), 60);
	mcpauth_resp_free(resp);
	/* Once the attempts are older than the window, a slot is free. */
	check_sql_exec(db, "UPDATE audit_log SET at = at - 61", NULL);
	register_ok(NATIVE, &r);
	ck_assert_int_eq(clients(), 2);
}
END_TEST

/*
 * A client that waits the Retry-After it was given gets its slot: the
 * refusal it received must not itself hold the window shut.
 */
START_TEST(test_rate_retry_after_is_honest)
{
	struct reg r;
	struct mcpauth_resp *resp;
	char sql[128];
	long wait;

	reopen("registration_rate_limit = 1\n"
	       "registration_rate_window = 60");
	register_ok(NATIVE, &r);
	/* 30 seconds later, a second attempt is refused... */
	check_sql_exec(db, "UPDATE audit_log SET at = at - 30", NULL);
	resp = post(NATIVE);
	ck_assert_int_eq(resp->status, 429);
	wait = strtol(check_header(resp, "Retry-After"), NULL, 10);
	ck_assert_msg(wait >= 29 && wait <= 31, "Retry-After %ld", wait);
	mcpauth_resp_free(resp);
	/* ...and after waiting as told, the next one is accepted. */
	snprintf(sql, sizeof(sql), "UPDATE audit_log SET at = at - %ld", wait);
	check_sql_exec(db, sql, NULL);
	resp = post(NATIVE);
	ck_assert_msg(resp->status == 201, "%d after Retry-After %ld: %s",
		      resp->status, wait, resp->body);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_rate_limit_off)
{
	struct reg r;

	reopen("registration_rate_limit = 0");
	for (int i = 0; i < 25; i++)
		register_ok(NATIVE, &r);
	ck_assert_int_eq(clients(), 25);
}
END_TEST

START_TEST(test_initial_token)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_resp *resp;
	char *t1 = NULL, *t2 = NULL, *t3 = NULL, *h;
	char auth[256], sid[32], buf[64];
	long long id1 = 0, id2 = 0, id3 = 0, now = (long long)time(NULL);
	bool found = false;

	reopen("initial_access_token_required = yes");
	ck_assert(mcpauth_crypto_random_token(32, &t1, &err));
	ck_assert(mcpauth_crypto_random_token(32, &t2, &err));
	ck_assert(mcpauth_crypto_random_token(32, &t3, &err));

	/* None yet, or not a bearer token. */
	expect_error_says(post(NATIVE), 401, "invalid_token",
			  "initial access token");
	expect_error(run("POST", REG, JSON, NATIVE, "Bearer unknown", ADDR),
		     401, "invalid_token");
	snprintf(auth, sizeof(auth), "Basic %s", t1);
	expect_error(run("POST", REG, JSON, NATIVE, auth, ADDR), 401,
		     "invalid_token");
	ck_assert_int_eq(clients(), 0);

	h = mcpauth_crypto_sha256_b64url(t1);
	ck_assert(mcpauth_store_initial_token_add(ctx.store, "ci", h, now, 0,
						  &id1, &err));
	free(h);
	/* Unknown until stored; stored, it opens registration. */
	snprintf(auth, sizeof(auth), "Bearer %s", t2);
	expect_error(run("POST", REG, JSON, NATIVE, auth, ADDR), 401,
		     "invalid_token");
	snprintf(auth, sizeof(auth), "Bearer %s", t1);
	resp = run("POST", REG, JSON, NATIVE, auth, ADDR);
	ck_assert_msg(resp->status == 201, "%d: %s", resp->status, resp->body);
	mcpauth_resp_free(resp);
	snprintf(sid, sizeof(sid), "%lld", id1);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT uses FROM initial_access_tokens "
				       "WHERE id = ?1",
				       sid),
			 1);
	ck_assert(
		check_sql_text(db,
			       "SELECT last_used_at FROM initial_access_tokens "
			       "WHERE id = ?1",
			       sid, buf, sizeof(buf)));
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM clients WHERE "
				       "initial_token_id = ?1",
				       sid),
			 1);
	/* Reusable until revoked; a refused body is not a use. */
	expect_error(run("POST", REG, JSON, "{", auth, ADDR), 400,
		     "invalid_client_metadata");
	snprintf(auth, sizeof(auth), "bearer %s", t1);
	resp = run("POST", REG, JSON, NATIVE, auth, ADDR);
	ck_assert_int_eq(resp->status, 201);
	mcpauth_resp_free(resp);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT uses FROM initial_access_tokens "
				       "WHERE id = ?1",
				       sid),
			 2);
	/* Never in the file, only its hash. */
	ck_assert(!check_db_contains(db, t1));

	ck_assert(mcpauth_store_initial_token_revoke(ctx.store, id1, now,
						     &found, &err));
	ck_assert(found);
	snprintf(auth, sizeof(auth), "Bearer %s", t1);
	expect_error(run("POST", REG, JSON, NATIVE, auth, ADDR), 401,
		     "invalid_token");
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT uses FROM initial_access_tokens "
				       "WHERE id = ?1",
				       sid),
			 2);

	/* Expired: by a second, or right now. */
	h = mcpauth_crypto_sha256_b64url(t2);
	ck_assert(mcpauth_store_initial_token_add(ctx.store, NULL, h, now - 100,
						  now - 1, &id2, &err));
	free(h);
	snprintf(auth, sizeof(auth), "Bearer %s", t2);
	expect_error(run("POST", REG, JSON, NATIVE, auth, ADDR), 401,
		     "invalid_token");
	/* Not expired yet. */
	h = mcpauth_crypto_sha256_b64url(t3);
	ck_assert(mcpauth_store_initial_token_add(ctx.store, NULL, h, now,
						  now + 3600, &id3, &err));
	free(h);
	snprintf(auth, sizeof(auth), "Bearer %s", t3);
	resp = run("POST", REG, JSON, NATIVE, auth, ADDR);
	ck_assert_int_eq(resp->status, 201);
	mcpauth_resp_free(resp);
	ck_assert_int_eq(clients(), 3);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "event = 'register' AND outcome = 'refused' "
			      "AND error = 'invalid_token'",
			      NULL),
		6);
	mcpauth_crypto_free_secret(t1);
	mcpauth_crypto_free_secret(t2);
	mcpauth_crypto_free_secret(t3);
}
END_TEST

START_TEST(test_initial_token_not_required)
{
	struct mcpauth_resp *resp;

	/* Off: a bearer header, even a bogus one, changes nothing. */
	resp = run("POST", REG, JSON, NATIVE, "Bearer whatever", ADDR);
	ck_assert_int_eq(resp->status, 201);
	mcpauth_resp_free(resp);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM clients WHERE "
				       "initial_token_id IS NULL",
				       NULL),
			 1);
}
END_TEST

/* --- routing ------------------------------------------------------------ */

START_TEST(test_methods_and_paths)
{
	static const char *const unknown[] = {
		"/register",
		"/t2/register",
		"/t1/registerx",
		"/t1/register/",
		"/t1/register/a/b",
		"/t1/register/a%2Fb",
		"/t1/register/..",
		"/t1/register/a.b",
		"/t1x/register",
		"/t1/Register",
		"",
	};
	static const char *const methods[] = { "POST", "GET", "OPTIONS" };
	char longid[80];
	struct mcpauth_resp *resp;

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		for (size_t m = 0; m < 3; m++) {
			resp = run(methods[m], unknown[i], JSON, NATIVE, NULL,
				   ADDR);
			ck_assert_msg(resp->status == 404, "%s %s: %d",
				      methods[m], unknown[i], resp->status);
			expect_error(resp, 404, "invalid_request");
		}
	}
	memset(longid, 'a', 65);
	longid[65] = '\0';
	expect_error(manage("GET", longid, "t", NULL), 404, "invalid_request");

	resp = run("GET", REG, NULL, NULL, NULL, ADDR);
	ck_assert_str_eq(check_header(resp, "Allow"), "POST, OPTIONS");
	expect_error(resp, 405, "invalid_request");
	resp = run("PUT", REG, JSON, NATIVE, NULL, ADDR);
	ck_assert_str_eq(check_header(resp, "Allow"), "POST, OPTIONS");
	expect_error(resp, 405, "invalid_request");
	resp = run("DELETE", REG, NULL, NULL, NULL, ADDR);
	expect_error(resp, 405, "invalid_request");
	resp = run("POST", REG "/abc", JSON, NATIVE, NULL, ADDR);
	ck_assert_str_eq(check_header(resp, "Allow"), "GET, PUT, DELETE, OPTIONS");
	expect_error(resp, 405, "invalid_request");
	resp = run("PATCH", REG "/abc", JSON, NATIVE, NULL, ADDR);
	ck_assert_str_eq(check_header(resp, "Allow"), "GET, PUT, DELETE, OPTIONS");
	expect_error(resp, 405, "invalid_request");
	resp = run("post", REG, JSON, NATIVE, NULL, ADDR);
	expect_error(resp, 405, "invalid_request");
	ck_assert_int_eq(clients(), 0);

	resp = run("OPTIONS", REG, NULL, NULL, NULL, ADDR);
	ck_assert_int_eq(resp->status, 204);
	ck_assert_uint_eq(resp->body_len, 0);
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Origin"), "*");
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Methods"),
			 "POST, OPTIONS");
	ck_assert_ptr_nonnull(strstr(check_header(resp, "Access-Control-Allow-Headers"),
				     "Authorization"));
	ck_assert_ptr_nonnull(strstr(check_header(resp, "Access-Control-Allow-Headers"),
				     "Content-Type"));
	mcpauth_resp_free(resp);
	resp = run("OPTIONS", REG "/abc", NULL, NULL, NULL, ADDR);
	ck_assert_int_eq(resp->status, 204);
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Methods"),
			 "GET, PUT, DELETE, OPTIONS");
	mcpauth_resp_free(resp);
	/* Preflights are not registrations. */
	ck_assert_int_eq(audit_rows(), 0);
}
END_TEST

/* --- housekeeping ------------------------------------------------------- */

START_TEST(test_gc)
{
	struct mcpauth_err err = { 0 };
	struct reg idle, fresh, used, updated;
	long removed = -1, audits = -1;
	long long now = (long long)time(NULL);
	char *uris[] = { "https://app.example.com/cb" };
	struct mcpauth_client op = {
		.client_id = "operator-1",
		.source = "operator",
		.auth_method = "none",
		.application_type = "web",
		.redirect_uris = uris,
		.nredirect_uris = 1,
		.grant_types = "authorization_code",
		.scope = "files:read",
		.metadata = "{}",
		.created_at = now - 400 * 86400LL,
		.updated_at = now - 400 * 86400LL,
	};
	struct mcpauth_audit a = { .at = now, .event = "register",
				   .actor = "admin",
				   .client_id = "operator-1" };

	register_ok(NATIVE, &idle);
	register_ok(NATIVE, &fresh);
	register_ok(NATIVE, &used);
	register_ok(NATIVE, &updated);
	ck_assert(mcpauth_store_client_add(ctx.store, &op, 0, NULL, &a, &err));
	/* Old and never used, but updated lately: an update is no use. */
	check_sql_exec(
		db,
		"UPDATE clients SET created_at = created_at - 100 * 86400 "
		"WHERE client_id = ?1",
		updated.id);
	check_sql_exec(
		db,
		"UPDATE clients SET created_at = created_at - 100 * 86400, "
		"updated_at = updated_at - 100 * 86400 WHERE client_id = ?1",
		idle.id);
	/* Old, but used lately. */
	check_sql_exec(
		db,
		"UPDATE clients SET created_at = created_at - 100 * 86400, "
		"updated_at = updated_at - 100 * 86400 WHERE client_id = ?1",
		used.id);
	ck_assert(mcpauth_store_client_touch(ctx.store, used.id, now - 86400,
					     &err));
	/* One audit row older than the retention. */
	check_sql_exec(db,
		       "UPDATE audit_log SET at = at - 400 * 86400 "
		       "WHERE client_id = ?1",
		       fresh.id);

	/* 0: keep everything. */
	ck_assert(mcpauth_store_gc(ctx.store, now, 0, 0, 0, &removed, &audits,
				   &err));
	ck_assert_int_eq(removed, 0);
	ck_assert_int_eq(audits, 0);
	ck_assert_int_eq(clients(), 5);

	ck_assert_msg(mcpauth_store_gc(ctx.store, now,
				       now - ctx.conf->dynamic_client_idle_expiry,
				       0, now - ctx.conf->audit_retention,
				       &removed, &audits, &err),
		      "%s", err.description);
	ck_assert_int_eq(removed, 2);
	ck_assert_int_eq(audits, 1);
	ck_assert_int_eq(clients(), 3);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM clients WHERE "
				       "client_id = ?1",
				       updated.id),
			 0);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM clients WHERE "
				       "client_id = ?1",
				       idle.id),
			 0);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM clients WHERE "
				       "client_id IN (?1, 'operator-1')",
				       fresh.id),
			 2);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM clients WHERE "
				       "client_id = ?1",
				       used.id),
			 1);
	/* Audited, with what the client was. */
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "event = 'gc' AND actor = 'gc' AND outcome = "
			      "'ok' AND client_id = ?1 AND software_id = "
			      "'inspector' AND client_name = 'Inspector'",
			      idle.id),
		1);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM audit_log WHERE "
				       "client_id = ?1",
				       fresh.id),
			 0);
	/* The removed client's token opens nothing. */
	expect_error(manage("GET", idle.id, idle.token, NULL), 401,
		     "invalid_token");
	/* Registered a week ago and never used: the unused rule. */
	check_sql_exec(db,
		       "UPDATE clients SET created_at = created_at - 8 * 86400 "
		       "WHERE client_id = ?1",
		       fresh.id);
	ck_assert(mcpauth_store_gc(ctx.store, now, 0,
				   now - ctx.conf->dynamic_client_unused_expiry,
				   0, &removed, &audits, &err));
	ck_assert_int_eq(removed, 1);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM clients WHERE "
				       "client_id = ?1",
				       fresh.id),
			 0);
	/* Used (long ago as registered) is not unused. */
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM clients WHERE "
				       "client_id = ?1",
				       used.id),
			 1);
}
END_TEST

/*
 * A flood from one address is logged line by line but leaves one audit row
 * per window, so an unauthenticated client cannot grow the audit trail
 * beyond the rate limit.
 */
START_TEST(test_rate_flood_audited_once)
{
	struct reg r;

	reopen("registration_rate_limit = 1");
	register_ok(NATIVE, &r);
	for (int i = 0; i < 10; i++)
		expect_error(post(NATIVE), 429, "temporarily_unavailable");
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "outcome = 'refused' AND address = '" ADDR "'",
			      NULL),
		1);
	ck_assert_int_eq(clients(), 1);
}
END_TEST

/*
 * The secret handed out at registration is what the token endpoint's
 * client authentication (mcpauth_client_authenticate) accepts.
 */
START_TEST(test_secret_authenticates)
{
	struct mcpauth_client *c = NULL;
	struct mcpauth_form *form = NULL;
	struct mcpauth_err err = { 0 };
	struct reg r;
	char text[512];

	reopen("confidential_registration = yes");
	register_ok("{\"redirect_uris\":[\"https://app.example.com/cb\"],"
		    "\"token_endpoint_auth_method\":\"client_secret_post\"}",
		    &r);
	ck_assert_uint_eq(strlen(r.secret), 43);
	snprintf(text, sizeof(text), "client_id=%s&client_secret=%s", r.id,
		 r.secret);
	ck_assert(mcpauth_form_parse(text, strlen(text), &form, &err));
	ck_assert_msg(mcpauth_client_authenticate(ctx.store, ctx.conf, NULL, form,
						  ctx.now, &c, &err),
		      "%s", err.description);
	ck_assert_str_eq(c->client_id, r.id);
	mcpauth_client_free(c);
	mcpauth_form_free(form);
	/* The registration access token is not the secret. */
	snprintf(text, sizeof(text), "client_id=%s&client_secret=%s", r.id,
		 r.token);
	ck_assert(mcpauth_form_parse(text, strlen(text), &form, &err));
	ck_assert(!mcpauth_client_authenticate(ctx.store, ctx.conf, NULL, form, ctx.now,
					       &c, &err));
	ck_assert_int_eq(err.status, 401);
	ck_assert_str_eq(err.code, "invalid_client");
	mcpauth_form_free(form);
}
END_TEST

/*
 * Turning confidential_registration off stops new secrets, but a client
 * that holds one may still update its registration and keep its method.
 */
START_TEST(test_manage_put_keeps_secret_when_switched_off)
{
	struct mcpauth_resp *resp;
	struct json_object *o;
	struct reg r;
	char text[512];

	reopen("confidential_registration = yes");
	register_ok("{\"redirect_uris\":[\"https://app.example.com/cb\"],"
		    "\"token_endpoint_auth_method\":\"client_secret_basic\"}",
		    &r);
	ctx.conf->confidential_registration = false;
	snprintf(text, sizeof(text),
		 "{\"client_id\":\"%s\",\"client_name\":\"Renamed\","
		 "\"redirect_uris\":[\"https://app.example.com/cb\"],"
		 "\"token_endpoint_auth_method\":\"client_secret_basic\"}",
		 r.id);
	resp = manage("PUT", r.id, r.token, text);
	ck_assert_msg(resp->status == 200, "%d: %s", resp->status,
		      resp->body);
	o = check_body(resp);
	ck_assert_str_eq(check_str(o, "token_endpoint_auth_method"),
			 "client_secret_basic");
	ck_assert(!check_has(o, "client_secret"));
	json_object_put(o);
	mcpauth_resp_free(resp);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT secret_hash IS NOT NULL FROM clients "
			      "WHERE client_id = ?1",
			      r.id),
		1);
	/* A public client still cannot become confidential. */
	register_ok(NATIVE, &r);
	snprintf(text, sizeof(text),
		 "{\"client_id\":\"%s\",\"redirect_uris\":"
		 "[\"https://app.example.com/cb\"],"
		 "\"token_endpoint_auth_method\":\"client_secret_post\"}",
		 r.id);
	expect_error_says(manage("PUT", r.id, r.token, text), 400,
			  "invalid_client_metadata",
			  "confidential registration is disabled");
}
END_TEST

/*
 * Guessing registration access tokens is rate limited per address like
 * registration, and the flood is audited once; RFC 6750 §3.1: no error code
 * in WWW-Authenticate when no token was sent at all.
 */
START_TEST(test_manage_guessing_limited)
{
	struct mcpauth_resp *resp;
	struct reg r;

	reopen("registration_rate_limit = 3");
	register_ok(NATIVE, &r);
	resp = manage("GET", r.id, NULL, NULL);
	ck_assert_str_eq(check_header(resp, "WWW-Authenticate"), "Bearer");
	expect_error(resp, 401, "invalid_token");
	resp = manage("GET", r.id, "wrong", NULL);
	ck_assert_str_eq(check_header(resp, "WWW-Authenticate"),
			 "Bearer error=\"invalid_token\"");
	expect_error(resp, 401, "invalid_token");
	expect_error(manage("DELETE", r.id, "wrong", NULL), 401,
		     "invalid_token");
	for (int i = 0; i < 5; i++) {
		resp = manage("GET", r.id, "wrong", NULL);
		ck_assert_ptr_nonnull(check_header(resp, "Retry-After"));
		expect_error(resp, 429, "temporarily_unavailable");
	}
	/* Even the right token waits: the address is limited. */
	expect_error(manage("GET", r.id, r.token, NULL), 429,
		     "temporarily_unavailable");
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM audit_log WHERE "
				       "status = 429",
				       NULL),
			 1);
	/* Another address is not. */
	resp = run("GET", REG "/x", NULL, NULL, NULL, ADDR2);
	mcpauth_resp_free(resp);
	{
		char path[256], auth[300];
		snprintf(path, sizeof(path), REG "/%s", r.id);
		snprintf(auth, sizeof(auth), "Bearer %s", r.token);
		resp = run("GET", path, NULL, NULL, auth, ADDR2);
		ck_assert_int_eq(resp->status, 200);
		mcpauth_resp_free(resp);
	}
}
END_TEST

/* IPv6 addresses of one /64 share one limit. */
START_TEST(test_rate_ipv6_prefix)
{
	struct mcpauth_resp *resp;

	reopen("registration_rate_limit = 1");
	resp = run("POST", REG, JSON, NATIVE, NULL, "2001:db8:1:2::10");
	ck_assert_int_eq(resp->status, 201);
	mcpauth_resp_free(resp);
	resp = run("POST", REG, JSON, NATIVE, NULL, "2001:db8:1:2:ffff::99");
	expect_error(resp, 429, "temporarily_unavailable");
	resp = run("POST", REG, JSON, NATIVE, NULL, "2001:db8:1:3::10");
	ck_assert_int_eq(resp->status, 201);
	mcpauth_resp_free(resp);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM audit_log WHERE "
				       "rate_key = '2001:db8:1:2::/64'",
				       NULL),
			 2);
}
END_TEST

/* With registration off, probes leave no audit rows. */
START_TEST(test_register_disabled_not_audited)
{
	reopen("dynamic_registration = no");
	for (int i = 0; i < 3; i++)
		expect_error(post(NATIVE), 404, "invalid_request");
	ck_assert_int_eq(audit_rows(), 0);
}
END_TEST

/*
 * No client id starts with '-', which the command line would take for an
 * option (mcpauth-admin client show ID). One random id in 64 would: with
 * 500 registrations a missing rule shows with probability 1 - (63/64)^500,
 * over 99.9%.
 */
START_TEST(test_client_id_no_leading_dash)
{
	struct reg r;

	reopen("registration_rate_limit = 0");
	for (int i = 0; i < 500; i++) {
		register_ok(NATIVE, &r);
		ck_assert_msg(r.id[0] != '-', "client id %s", r.id);
	}
}
END_TEST

Suite *check_register_suite(void)
{
	Suite *s = suite_create("register");
	TCase *tc;

	tc = tcase_create("register");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_register_public);
	tcase_add_test(tc, test_register_web_defaults);
	tcase_add_test(tc, test_register_two_differ);
	tcase_add_test(tc, test_client_id_no_leading_dash);
	tcase_add_loop_test(tc, test_register_content_types, 0, 4);
	tcase_add_test(tc, test_register_confidential);
	tcase_add_test(tc, test_register_secret_lifetime);
	tcase_add_test(tc, test_register_confidential_off);
	tcase_add_loop_test(tc, test_register_bad_bodies, 0, 24);
	tcase_add_test(tc, test_register_depth_limit);
	tcase_add_test(tc, test_register_without_address);
	tcase_add_test(tc, test_register_disabled);
	suite_add_tcase(s, tc);

	tc = tcase_create("manage");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_manage_get);
	tcase_add_test(tc, test_manage_bad_token);
	tcase_add_test(tc, test_manage_put);
	tcase_add_test(tc, test_manage_put_refused);
	tcase_add_test(tc, test_manage_put_secret);
	tcase_add_test(tc, test_manage_delete);
	tcase_add_test(tc, test_manage_put_keeps_secret_when_switched_off);
	tcase_add_test(tc, test_secret_authenticates);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cap);
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_rate_window_slides);
	tcase_add_test(tc, test_rate_retry_after_is_honest);
	tcase_add_test(tc, test_rate_limit_off);
	tcase_add_test(tc, test_rate_flood_audited_once);
	tcase_add_test(tc, test_manage_guessing_limited);
	tcase_add_test(tc, test_rate_ipv6_prefix);
	tcase_add_test(tc, test_register_disabled_not_audited);
	tcase_add_test(tc, test_initial_token);
	tcase_add_test(tc, test_initial_token_not_required);
	suite_add_tcase(s, tc);

	tc = tcase_create("routing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_methods_and_paths);
	tcase_add_test(tc, test_gc);
	suite_add_tcase(s, tc);
	return s;
}

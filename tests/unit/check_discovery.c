/* check_discovery.c: discovery_handle called directly: documents, routing, methods. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "check_mcpauth.h"
#include "handlers.h"

static char dir[4096];
static struct mcpauth_ctx ctx;

#define ISSUER CHECK_ISSUER

static void open_ctx(const char *extra)
{
	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	check_ctx_open(&ctx, "discovery", dir,
		       check_conf_text(CHECK_FILES_SECTION
				       "[resource]\n"
				       "url = https://other.example.com/mcp\n"
				       "scopes = other\n",
				       "%s", extra));
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

/* Runs the handler the way the adapter does; returns the response. */
static struct mcpauth_resp *run(const char *method, const char *path,
				const char *host)
{
	struct mcpauth_req req = { 0 };
	struct mcpauth_resp *resp = mcpauth_resp_new();

	req.method = (char *)method;
	req.path = (char *)path;
	req.query = "";
	req.host = (char *)host;
	mcpauth_dispatch(&ctx, discovery_handle, &req, resp);
	return resp;
}

START_TEST(test_as_metadata_every_path)
{
	static const char *const paths[] = {
		"/.well-known/oauth-authorization-server/t1",
		"/.well-known/openid-configuration/t1",
		"/t1/.well-known/openid-configuration",
		"/t1/.well-known/oauth-authorization-server",
	};
	struct mcpauth_resp *resp = run("GET", paths[_i], NULL);
	struct json_object *m;
	char buf[512];

	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(resp->content_type, "application/json");
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "public, max-age=3600");
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Origin"), "*");
	/* The issuer byte for byte, slashes unescaped. */
	ck_assert_ptr_nonnull(strstr(resp->body, "\"issuer\":\"" ISSUER "\""));
	m = check_body(resp);
	ck_assert_str_eq(check_str(m, "authorization_endpoint"), ISSUER "/authorize");
	ck_assert_str_eq(check_str(m, "token_endpoint"), ISSUER "/token");
	ck_assert_str_eq(check_str(m, "jwks_uri"), ISSUER "/jwks");
	/* Dynamic registration is on by default (public clients only). */
	ck_assert_str_eq(check_str(m, "registration_endpoint"), ISSUER "/register");
	ck_assert_str_eq(check_str(m, "revocation_endpoint"), ISSUER "/revoke");
	ck_assert_str_eq(check_str(m, "introspection_endpoint"),
			 ISSUER "/introspect");
	check_strs(m, "revocation_endpoint_auth_methods_supported", buf,
		   sizeof(buf));
	ck_assert_str_eq(buf, "none");
	check_strs(m, "introspection_endpoint_auth_methods_supported", buf,
		   sizeof(buf));
	ck_assert_str_eq(buf, "client_secret_basic client_secret_post");
	ck_assert_ptr_null(check_str(m, "token_endpoint_auth_signing_alg_values_supported"));
	check_strs(m, "scopes_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf, "files:read files:write other offline_access");
	check_strs(m, "response_types_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf, "code");
	check_strs(m, "grant_types_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf, "authorization_code refresh_token");
	check_strs(m, "token_endpoint_auth_methods_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf, "none");
	check_strs(m, "code_challenge_methods_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf, "S256");
	check_strs(m, "subject_types_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf, "public");
	check_strs(m, "id_token_signing_alg_values_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf, "ES256");
	ck_assert_str_eq(check_str(m, "authorization_response_iss_parameter_supported"),
			 "true");
	/* Client ID Metadata Documents are on by default. */
	ck_assert_str_eq(check_str(m, "client_id_metadata_document_supported"),
			 "true");
	json_object_put(m);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_metadata_follows_switches)
{
	struct mcpauth_resp *resp;
	struct json_object *m;
	char buf[512];

	mcpauth_ctx_close(&ctx);
	check_tmpdir_remove(dir);
	open_ctx("confidential_registration = yes\n"
		 "client_credentials = yes\n"
		 "private_key_jwt = yes\n"
		 "client_id_metadata_documents = no\n"
		 "metadata_max_age = 60\n");
	resp = run("GET", "/.well-known/oauth-authorization-server/t1", NULL);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "public, max-age=60");
	m = check_body(resp);
	ck_assert_str_eq(check_str(m, "registration_endpoint"), ISSUER "/register");
	check_strs(m, "grant_types_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf,
			 "authorization_code refresh_token client_credentials");
	check_strs(m, "token_endpoint_auth_methods_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf, "none client_secret_basic client_secret_post "
			      "private_key_jwt");
	check_strs(m, "token_endpoint_auth_signing_alg_values_supported", buf,
	     sizeof(buf));
	ck_assert_str_eq(buf, "ES256 EdDSA RS256");
	ck_assert_str_eq(check_str(m, "client_id_metadata_document_supported"),
			 "false");
	json_object_put(m);
	mcpauth_resp_free(resp);
	/* The JWKS is never cached longer than the metadata. */
	resp = run("GET", "/t1/jwks", NULL);
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "public, max-age=60");
	mcpauth_resp_free(resp);
	/* Only what is enabled: no registration endpoint when it is off. */
	mcpauth_ctx_close(&ctx);
	check_tmpdir_remove(dir);
	open_ctx("dynamic_registration = no\n");
	resp = run("GET", "/.well-known/oauth-authorization-server/t1", NULL);
	m = check_body(resp);
	ck_assert_ptr_null(check_str(m, "registration_endpoint"));
	check_strs(m, "token_endpoint_auth_methods_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf, "none");
	json_object_put(m);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_protected_resource_metadata)
{
	struct mcpauth_resp *resp;
	struct json_object *m;
	char buf[512];

	/* Path-aware form; two resources share the path: Host decides. */
	resp = run("GET", "/.well-known/oauth-protected-resource/mcp",
		   "mcp.example.com");
	ck_assert_int_eq(resp->status, 200);
	m = check_body(resp);
	ck_assert_str_eq(check_str(m, "resource"), "https://mcp.example.com/mcp");
	ck_assert_str_eq(check_str(m, "resource_name"), "Files");
	check_strs(m, "authorization_servers", buf, sizeof(buf));
	ck_assert_str_eq(buf, ISSUER);
	check_strs(m, "scopes_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf, "files:read files:write");
	check_strs(m, "bearer_methods_supported", buf, sizeof(buf));
	ck_assert_str_eq(buf, "header");
	json_object_put(m);
	mcpauth_resp_free(resp);

	resp = run("GET", "/.well-known/oauth-protected-resource/mcp",
		   "other.example.com");
	m = check_body(resp);
	ck_assert_str_eq(check_str(m, "resource"), "https://other.example.com/mcp");
	ck_assert_ptr_null(check_str(m, "resource_name"));
	json_object_put(m);
	mcpauth_resp_free(resp);

	/* Root form, by Host. */
	resp = run("GET", "/.well-known/oauth-protected-resource",
		   "other.example.com");
	ck_assert_int_eq(resp->status, 200);
	mcpauth_resp_free(resp);

	/* Ambiguous (no Host, or a Host we do not serve): not found. */
	resp = run("GET", "/.well-known/oauth-protected-resource/mcp", NULL);
	ck_assert_int_eq(resp->status, 404);
	mcpauth_resp_free(resp);
	resp = run("GET", "/.well-known/oauth-protected-resource/mcp",
		   "evil.example.com");
	ck_assert_int_eq(resp->status, 404);
	mcpauth_resp_free(resp);
	resp = run("GET", "/.well-known/oauth-protected-resource/other",
		   "mcp.example.com");
	ck_assert_int_eq(resp->status, 404);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_jwks)
{
	struct mcpauth_resp *resp = run("GET", "/t1/jwks", NULL);
	struct json_object *m, *keys;

	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "public, max-age=300");
	m = check_body(resp);
	ck_assert(json_object_object_get_ex(m, "keys", &keys));
	ck_assert_uint_eq(json_object_array_length(keys), 1);
	ck_assert_str_eq(check_str(json_object_array_get_idx(keys, 0), "kty"), "EC");
	json_object_put(m);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_methods_and_unknown_paths)
{
	static const char *const unknown[] = {
		"/.well-known/oauth-authorization-server",    /* no issuer path */
		"/.well-known/oauth-authorization-server/t2", /* another path */
		"/.well-known/oauth-authorization-server/t1/",
		"/jwks",
		"/t1/jwks.json",
		"/.well-known/oauth-protected-resourcex",
		"/.well-known/openid-configuration%2Ft1",
		"",
	};
	struct mcpauth_resp *resp;
	struct json_object *m;

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		resp = run("GET", unknown[i], "mcp.example.com");
		ck_assert_msg(resp->status == 404, "%s: %d", unknown[i],
			      resp->status);
		m = check_body(resp);
		ck_assert_str_eq(check_str(m, "error"), "invalid_request");
		json_object_put(m);
		mcpauth_resp_free(resp);
	}
	resp = run("POST", "/t1/.well-known/openid-configuration", NULL);
	ck_assert_int_eq(resp->status, 405);
	ck_assert_str_eq(check_header(resp, "Allow"), "GET, HEAD, OPTIONS");
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	mcpauth_resp_free(resp);

	resp = run("OPTIONS", "/t1/.well-known/openid-configuration", NULL);
	ck_assert_int_eq(resp->status, 204);
	ck_assert_uint_eq(resp->body_len, 0);
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Origin"), "*");
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Methods"),
			 "GET, HEAD, OPTIONS");
	ck_assert_ptr_nonnull(strstr(check_header(resp, "Access-Control-Allow-Headers"),
				     "MCP-Protocol-Version"));
	mcpauth_resp_free(resp);

	resp = run("HEAD", "/t1/.well-known/openid-configuration", NULL);
	ck_assert_int_eq(resp->status, 200);
	mcpauth_resp_free(resp);
}
END_TEST

Suite *check_discovery_suite(void)
{
	Suite *s = suite_create("discovery");
	TCase *tc = tcase_create("discovery");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_as_metadata_every_path, 0, 4);
	tcase_add_test(tc, test_metadata_follows_switches);
	tcase_add_test(tc, test_protected_resource_metadata);
	tcase_add_test(tc, test_jwks);
	tcase_add_test(tc, test_methods_and_unknown_paths);
	suite_add_tcase(s, tc);
	return s;
}

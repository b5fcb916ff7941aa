/* check_conf.c: mcpauth.conf parsing, defaults and every error with FILE:LINE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_mcpauth.h"
#include "conf.h"

#define MINIMAL                                                            \
	"issuer = https://auth.example.com\n"                              \
	"[resource]\n"                                                     \
	"url = https://mcp.example.com/mcp\n"                              \
	"scopes = mcp:tools mcp:resources\n"

static char dir[4096];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
}

static void teardown(void)
{
	check_tmpdir_remove(dir);
}

/* Loads text as dir/mcpauth.conf; returns the error description on failure. */
static struct mcpauth_conf *load(const char *text, struct mcpauth_err *err)
{
	return check_conf_load(dir, text, err);
}

/* Asserts text fails with a description that ends with want after the path. */
static void assert_fails(const char *text, const char *want)
{
	struct mcpauth_err err;
	struct mcpauth_conf *conf = load(text, &err);
	char expected[4800];

	ck_assert_ptr_null(conf);
	snprintf(expected, sizeof(expected), "%s/mcpauth.conf%s", dir, want);
	ck_assert_str_eq(err.description, expected);
}

START_TEST(test_minimal_defaults)
{
	struct mcpauth_err err;
	struct mcpauth_conf *conf = load(MINIMAL, &err);
	char path[4200];

	ck_assert_msg(conf != NULL, "%s", err.description);
	ck_assert_str_eq(conf->issuer, "https://auth.example.com");
	ck_assert_str_eq(conf->issuer_path, "");
	ck_assert_str_eq(conf->signing_alg, "ES256");
	ck_assert_int_eq(conf->access_token_lifetime, 3600);
	ck_assert_int_eq(conf->refresh_token_lifetime, 30 * 86400);
	ck_assert_int_eq(conf->code_lifetime, 60);
	ck_assert_int_eq(conf->metadata_max_age, 3600);
	ck_assert_uint_eq(conf->max_body, 65536);
	ck_assert(conf->dynamic_registration);
	ck_assert(!conf->confidential_registration);
	ck_assert_int_eq(conf->client_secret_lifetime, 0);
	ck_assert(!conf->initial_access_token_required);
	ck_assert_int_eq(conf->max_dynamic_clients, 10000);
	ck_assert_int_eq(conf->registration_rate_limit, 20);
	ck_assert_int_eq(conf->registration_rate_window, 3600);
	ck_assert_int_eq(conf->dynamic_client_idle_expiry, 90 * 86400);
	ck_assert_int_eq(conf->audit_retention, 365 * 86400);
	ck_assert_uint_eq(conf->nregistration_default_scopes, 0);
	ck_assert_int_eq(conf->dynamic_client_unused_expiry, 7 * 86400);
	ck_assert_int_eq(conf->session_lifetime, 8 * 3600);
	ck_assert_int_eq(conf->refresh_grace, 30);
	ck_assert_ptr_nonnull(strstr(conf->www_dir, "/www"));
	ck_assert(conf->client_id_metadata_documents); /* on by default */
	ck_assert(!conf->client_credentials);
	ck_assert(!conf->private_key_jwt);
	ck_assert_uint_eq(conf->nresources, 1);
	ck_assert_str_eq(conf->resources[0].url, "https://mcp.example.com/mcp");
	ck_assert_str_eq(conf->resources[0].authority, "mcp.example.com");
	ck_assert_str_eq(conf->resources[0].path, "/mcp");
	ck_assert_ptr_null(conf->resources[0].name);
	/* One resource is the default; its scopes are the default scopes. */
	ck_assert_str_eq(conf->default_resource, "https://mcp.example.com/mcp");
	ck_assert_uint_eq(conf->resources[0].ndefault_scopes, 2);
	ck_assert_str_eq(conf->resources[0].default_scopes[1], "mcp:resources");
	snprintf(path, sizeof(path), "%s/mcpauth.conf", dir);
	ck_assert_str_eq(conf->file, path);
	mcpauth_conf_free(conf);
}
END_TEST

START_TEST(test_full)
{
	struct mcpauth_err err;
	struct mcpauth_conf *conf = load(
		"# a comment\n"
		"  issuer = http://127.0.0.1:8080/t1   # trailing comment\n"
		"database = data/mcpauth.db\n"
		"key_dir = /srv/keys\n"
		"signing_alg = EdDSA\n"
		"access_token_lifetime = 15m\n"
		"refresh_token_lifetime = 7d\n"
		"code_lifetime = 30s\n"
		"metadata_max_age = 0\n"
		"max_body = 16k\n"
		"dynamic_registration = no\n"
		"confidential_registration = on\n"
		"client_secret_lifetime = 30d\n"
		"initial_access_token_required = yes\n"
		"max_dynamic_clients = 0\n"
		"registration_rate_limit = 5\n"
		"registration_rate_window = 10m\n"
		"dynamic_client_idle_expiry = 0\n"
		"audit_retention = 2d\n"
		"registration_default_scopes = b offline_access\n"
		"dynamic_client_unused_expiry = 0\n"
		"session_lifetime = 1h\n"
		"refresh_grace = 0\n"
		"www_dir = pages\n"
		"client_id_metadata_documents = true\n"
		"client_credentials = no\n"
		"private_key_jwt = off\n"
		"default_resource = http://127.0.0.1:8080/b\n"
		"\n"
		"[resource]\n"
		"url = http://127.0.0.1:8080/t1/mcp\n"
		"name = First server\n"
		"scopes = a b\n"
		"default_scopes = a offline_access\n"
		"[resource]\n"
		"url = http://127.0.0.1:8080/b\n"
		"scopes = b c\n",
		&err);
	char path[4200];
	const char **scopes = NULL;
	size_t n;

	ck_assert_msg(conf != NULL, "%s", err.description);
	ck_assert_str_eq(conf->issuer, "http://127.0.0.1:8080/t1");
	ck_assert_str_eq(conf->issuer_path, "/t1");
	snprintf(path, sizeof(path), "%s/data/mcpauth.db", dir);
	ck_assert_str_eq(conf->database, path);
	ck_assert_str_eq(conf->key_dir, "/srv/keys");
	ck_assert_str_eq(conf->signing_alg, "EdDSA");
	ck_assert_int_eq(conf->access_token_lifetime, 900);
	ck_assert_int_eq(conf->refresh_token_lifetime, 7 * 86400);
	ck_assert_int_eq(conf->code_lifetime, 30);
	ck_assert_int_eq(conf->metadata_max_age, 0);
	ck_assert_uint_eq(conf->max_body, 16384);
	ck_assert(!conf->dynamic_registration);
	ck_assert(conf->confidential_registration);
	ck_assert_int_eq(conf->client_secret_lifetime, 30 * 86400);
	ck_assert(conf->initial_access_token_required);
	ck_assert_int_eq(conf->max_dynamic_clients, 0);
	ck_assert_int_eq(conf->registration_rate_limit, 5);
	ck_assert_int_eq(conf->registration_rate_window, 600);
	ck_assert_int_eq(conf->dynamic_client_idle_expiry, 0);
	ck_assert_int_eq(conf->audit_retention, 2 * 86400);
	ck_assert_uint_eq(conf->nregistration_default_scopes, 2);
	ck_assert_str_eq(conf->registration_default_scopes[0], "b");
	ck_assert_int_eq(conf->dynamic_client_unused_expiry, 0);
	ck_assert_int_eq(conf->session_lifetime, 3600);
	ck_assert_int_eq(conf->refresh_grace, 0);
	snprintf(path, sizeof(path), "%s/pages", dir);
	ck_assert_str_eq(conf->www_dir, path);
	ck_assert(!conf->client_credentials);
	ck_assert_uint_eq(conf->nresources, 2);
	ck_assert_str_eq(conf->resources[0].name, "First server");
	ck_assert_str_eq(conf->resources[0].authority, "127.0.0.1:8080");
	ck_assert_str_eq(conf->resources[0].default_scopes[1],
			 "offline_access");
	ck_assert_str_eq(conf->default_resource, "http://127.0.0.1:8080/b");
	ck_assert_ptr_eq(mcpauth_conf_resource(conf, "http://127.0.0.1:8080/b"),
			 &conf->resources[1]);
	ck_assert_ptr_null(mcpauth_conf_resource(conf, "http://127.0.0.1:8080/"));
	/* The union of resource scopes, each once, then offline_access. */
	n = mcpauth_conf_scopes(conf, &scopes);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(scopes[0], "a");
	ck_assert_str_eq(scopes[1], "b");
	ck_assert_str_eq(scopes[2], "c");
	ck_assert_str_eq(scopes[3], "offline_access");
	free(scopes);
	mcpauth_conf_free(conf);
}
END_TEST

START_TEST(test_errors_name_file_line_key)
{
	assert_fails(MINIMAL "bogus = 1\n",
		     ":5: key 'bogus': unknown key in [resource]");
	assert_fails("bogus = 1\n" MINIMAL, ":1: key 'bogus': unknown key");
	assert_fails("issuer = https://a.example.com\n"
		     "access_token_lifetime = 10x\n",
		     ":2: key 'access_token_lifetime': '10x' has an unknown "
		     "unit (use one of smhd)");
	assert_fails("code_lifetime = 2m\n",
		     ":1: key 'code_lifetime': '2m' is out of range (10 to 60)");
	assert_fails("access_token_lifetime = abc\n",
		     ":1: key 'access_token_lifetime': 'abc' is not a number");
	assert_fails("access_token_lifetime = -5\n",
		     ":1: key 'access_token_lifetime': '-5' is not a number");
	assert_fails("max_body = 99999999999999999999k\n",
		     ":1: key 'max_body': '99999999999999999999k' is not a "
		     "number");
	assert_fails("dynamic_registration = maybe\n",
		     ":1: key 'dynamic_registration': 'maybe' is not yes or no");
	assert_fails("max_dynamic_clients = 10k\n",
		     ":1: key 'max_dynamic_clients': '10k' is not a number");
	assert_fails("refresh_grace = 10m\n",
		     ":1: key 'refresh_grace': '10m' is out of range (0 to "
		     "300)");
	assert_fails("audit_retention = 1m\n" MINIMAL,
		     ": audit_retention must be at least "
		     "registration_rate_window and 15m (the rate limits count "
		     "audit rows)");
	assert_fails("registration_rate_window = 0\n",
		     ":1: key 'registration_rate_window': '0' is out of range "
		     "(1 to 86400)");
	assert_fails("registration_default_scopes = nope\n" MINIMAL,
		     ": registration_default_scopes: 'nope' is not a scope "
		     "of any [resource]");
	assert_fails("signing_alg = HS256\n",
		     ":1: key 'signing_alg': 'HS256' is not ES256, EdDSA or "
		     "RS256");
	assert_fails("issuer = https://a.example.com\nissuer = "
		     "https://b.example.com\n",
		     ":2: key 'issuer' is set twice in the same section");
	assert_fails("just words\n", ":1: expected 'key = value'");
	assert_fails("[client]\n", ":1: unknown section [client] (the only "
		     "section is [resource])");
	assert_fails("[resource]\nscopes = ok \"quoted\"\n",
		     ":2: key 'scopes': '\"quoted\"' is not a valid scope (RFC "
		     "6749 §3.3)");
}
END_TEST

START_TEST(test_issuer_rules)
{
	assert_fails("issuer = http://auth.example.com\n",
		     ":1: key 'issuer': 'http://auth.example.com' must use "
		     "https (http is allowed only for 127.0.0.1, localhost "
		     "and [::1])");
	assert_fails("issuer = https://auth.example.com/\n",
		     ":1: key 'issuer': 'https://auth.example.com/' must not "
		     "end with '/' (clients compare it exactly)");
	assert_fails("issuer = https://Auth.Example.com\n",
		     ":1: key 'issuer': write 'https://Auth.Example.com' in "
		     "its canonical form 'https://auth.example.com' (clients "
		     "compare it exactly)");
	assert_fails("issuer = https://auth.example.com:443\n",
		     ":1: key 'issuer': write 'https://auth.example.com:443' "
		     "in its canonical form 'https://auth.example.com' "
		     "(clients compare it exactly)");
	assert_fails("issuer = https://auth.example.com/a/../b\n",
		     ":1: key 'issuer': write "
		     "'https://auth.example.com/a/../b' in its canonical form "
		     "'https://auth.example.com/b' (clients compare it "
		     "exactly)");
	assert_fails("issuer = https://auth.example.com?x=1\n",
		     ":1: key 'issuer': 'https://auth.example.com?x=1' must "
		     "not have user information, a query or a fragment");
	assert_fails("issuer = https://u@auth.example.com\n",
		     ":1: key 'issuer': 'https://u@auth.example.com' must not "
		     "have user information, a query or a fragment");
	/* '#' inside a value is not a comment: the fragment is refused. */
	assert_fails("issuer = https://auth.example.com#f\n",
		     ":1: key 'issuer': 'https://auth.example.com#f' must not "
		     "have user information, a query or a fragment");
	assert_fails("issuer = /relative\n",
		     ":1: key 'issuer': '/relative' is not an absolute "
		     "http(s) URL");
	assert_fails("issuer = ftp://auth.example.com\n",
		     ":1: key 'issuer': 'ftp://auth.example.com' must use "
		     "https (http is allowed only for 127.0.0.1, localhost "
		     "and [::1])");
}
END_TEST

START_TEST(test_whole_file_rules)
{
	struct mcpauth_err err;
	char want[4300];

	assert_fails("[resource]\nurl = https://m.example.com/mcp\n",
		     ": 'issuer' is required");
	assert_fails("issuer = https://a.example.com\n",
		     ": at least one [resource] (an MCP server to protect) is "
		     "required");
	assert_fails("issuer = https://a.example.com\n[resource]\nname = x\n",
		     ":2: key 'url': every [resource] needs a url");
	assert_fails(MINIMAL "[resource]\nurl = https://mcp.example.com/mcp\n",
		     ":5: key 'url': resource 'https://mcp.example.com/mcp' is "
		     "configured twice");
	assert_fails(MINIMAL "default_scopes = mcp:admin\n",
		     ":2: key 'default_scopes': 'mcp:admin' is not one of this "
		     "resource's scopes");
	assert_fails("default_resource = https://other.example.com/mcp\n" MINIMAL,
		     ": default_resource 'https://other.example.com/mcp' is "
		     "not the url of any [resource]");
	/* A missing file names the file. */
	ck_assert(!mcpauth_conf_load("/nonexistent/mcpauth.conf",
				     &(struct mcpauth_conf *){ NULL }, &err));
	ck_assert_str_eq(err.description, "/nonexistent/mcpauth.conf: cannot "
					  "open: No such file or directory");
	/* A NUL byte is refused rather than silently cutting the file. */
	{
		FILE *f;
		snprintf(want, sizeof(want), "%s/nul.conf", dir);
		f = fopen(want, "w");
		fwrite("issuer = x\0y\n", 1, 13, f);
		fclose(f);
		ck_assert(!mcpauth_conf_load(want,
					     &(struct mcpauth_conf *){ NULL },
					     &err));
		ck_assert_ptr_nonnull(strstr(err.description, "NUL byte"));
	}
}
END_TEST

START_TEST(test_two_resources_no_default)
{
	struct mcpauth_err err;
	struct mcpauth_conf *conf =
		load(MINIMAL "[resource]\nurl = https://mcp2.example.com\n", &err);

	ck_assert_msg(conf != NULL, "%s", err.description);
	/* Two resources and no default_resource: clients must name one. */
	ck_assert_ptr_null(conf->default_resource);
	ck_assert_str_eq(conf->resources[1].path, "");
	ck_assert_uint_eq(conf->resources[1].nscopes, 0);
	mcpauth_conf_free(conf);
}
END_TEST

START_TEST(test_default_path_env)
{
	setenv(MCPAUTH_CONFIG_ENV, "/etc/elsewhere.conf", 1);
	ck_assert_str_eq(mcpauth_conf_default_path(), "/etc/elsewhere.conf");
	unsetenv(MCPAUTH_CONFIG_ENV);
	ck_assert_ptr_nonnull(strstr(mcpauth_conf_default_path(),
				     "/mcpauth/mcpauth.conf"));
}
END_TEST

Suite *check_conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_minimal_defaults);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_errors_name_file_line_key);
	tcase_add_test(tc, test_issuer_rules);
	tcase_add_test(tc, test_whole_file_rules);
	tcase_add_test(tc, test_two_resources_no_default);
	tcase_add_test(tc, test_default_path_env);
	suite_add_tcase(s, tc);
	return s;
}

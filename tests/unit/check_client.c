/* check_client.c: client metadata, secrets and client authentication (client.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "b64.h"
#include "check_mcpauth.h"
#include "client.h"
#include "crypto.h"
#include "form.h"
#include "store.h"

#define ISSUER CHECK_ISSUER
#define NOW 1700000000LL

/* A web client's redirect URI, for metadata tests about something else. */
#define RU "\"redirect_uris\":[\"https://app.example.com/cb\"]"

static char dir[4096];
static struct mcpauth_conf *conf;
static struct mcpauth_store *store;

/* (Re)loads the configuration with extra global lines. */
static void load_conf(const char *extra)
{
	struct mcpauth_err err = { 0 };
	const char *text, *path;

	mcpauth_conf_free(conf);
	conf = NULL;
	text = check_conf_text("[resource]\n"
			       "url = " CHECK_FILES "\n"
			       "scopes = files:read files:write\n",
			       "%s", extra);
	path = check_write_file(dir, "mcpauth.conf", text);
	ck_assert_msg(mcpauth_conf_load(path, &conf, &err), "%s",
		      err.description);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	load_conf("");
}

static void teardown(void)
{
	mcpauth_store_free(store);
	store = NULL;
	mcpauth_conf_free(conf);
	conf = NULL;
	check_tmpdir_remove(dir);
}

/* --- redirect URIs ------------------------------------------------------ */

START_TEST(test_redirect_uri_accepted)
{
	static const struct {
		const char *uri;
		bool native;
	} ok[] = {
		{ "http://localhost:33418/oauth/callback", true },
		{ "http://localhost/oauth/callback", true },
		{ "http://127.0.0.1:6276/oauth/callback", true },
		{ "http://127.0.0.1/cb", true },
		{ "http://[::1]:8080/cb", true },
		{ "http://[::1]/cb?x=1", true },
		{ "https://app.example.com/cb", true },
		{ "https://app.example.com/cb", false },
		{ "https://app.example.com:8443/cb?x=1&y=2", false },
		{ "https://app.example.com", false },
		{ "cursor://anysphere.cursor-retrieval/oauth/callback", true },
		{ "com.example.app:/oauth2redirect", true },
		{ "com.example.app:/cb", true },
		{ "vscode://vscode.github-authentication/did-authenticate",
		  true },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct mcpauth_err err = { 0 };
		ck_assert_msg(mcpauth_client_redirect_uri_ok(ok[i].uri,
							     ok[i].native,
							     &err),
			      "%s (%s) refused: %s", ok[i].uri,
			      ok[i].native ? "native" : "web",
			      err.description);
		ck_assert(!mcpauth_err_isset(&err));
	}
}
END_TEST

START_TEST(test_redirect_uri_refused)
{
	static const struct {
		const char *uri;
		bool native;
	} bad[] = {
		/* RFC 6749 §3.1.2: no fragment, not even an empty one. */
		{ "https://a.example/cb#x", true },
		{ "https://a.example/cb#", false },
		{ "http://127.0.0.1:6276/cb#", true },
		{ "cursor://x/cb#frag", true },
		/* userinfo, in every scheme */
		{ "https://user@a.example/cb", false },
		{ "https://u:p@a.example/cb", true },
		{ "http://localhost@evil.example/cb", true },
		{ "http://user@localhost:8080/cb", true },
		{ "https://@a.example/cb", false },
		{ "myapp://user@host/cb", true },
		{ "myapp://u:p@host", true },
		/* relative */
		{ "/callback", true },
		{ "callback", true },
		{ "//a.example/cb", true },
		{ "", true },
		{ ":/cb", true },
		{ "1app:/cb", true },
		/* schemes a browser runs, in any case */
		{ "javascript:alert(1)", true },
		{ "JavaScript:alert(1)", true },
		{ "javascript://a.example/%0aalert(1)", true },
		{ "data:text/html,x", true },
		{ "DATA:text/html,x", true },
		{ "vbscript:x", true },
		{ "file:///etc/passwd", true },
		{ "blob:https://a.example/x", true },
		/* one spelling: lowercase scheme and host, ASCII hosts */
		{ "HTTPS://app.example.com/cb", false },
		{ "Http://127.0.0.1:8080/cb", true },
		{ "http://LOCALHOST:8080/cb", true },
		{ "https://App.Example.com/cb", false },
		{ "https://good.com\xe3\x80\x82" "evil.com/cb", false },
		{ "https://ex\xd0\xb0" "mple.com/cb", false },
		{ "Cursor://anysphere.cursor-retrieval/cb", true },
		/* schemes that start OS handlers */
		{ "ms-msdt:/id", true },
		{ "search-ms:query=x", true },
		{ "vnd.ms-word:ofe|u|https://a.example/x", true },
		{ "intent://a.example/x", true },
		{ "jar:https://a.example/x!/", true },
		{ "shell:startup", true },
		/* schemes handed to other programs, and placeholders */
		{ "mailto:ops@a.example", true },
		{ "view-source:https://a.example/", true },
		{ "ws://127.0.0.1:8080/cb", true },
		{ "wss://a.example/cb", true },
		{ "urn:ietf:wg:oauth:2.0:oob", true },
		{ "tel:+15550100", true },
		/* plain http off loopback */
		{ "http://a.example/cb", true },
		{ "http://127.0.0.1.evil.example/cb", true },
		{ "http://127.0.0.1.evil.example/", true },
		{ "http://localhost.evil.example", true },
		{ "http://localhost.evil.example/cb", true },
		{ "http://127.0.0.2/cb", true },
		{ "http://10.0.0.1/cb", true },
		/* hosts not written plainly (curl would normalise them) */
		{ "http://127.1/cb", true },
		{ "http://0x7f.0.0.1/cb", true },
		{ "http://2130706433/cb", true },
		{ "http://0177.0.0.1/cb", true },
		{ "https://a.example:/cb", false },
		/* not an absolute URL with a host */
		{ "https:/a.example/cb", false },
		{ "https:a.example/cb", false },
		{ "https://", false },
		{ "https:///cb", false },
		/* spaces and control characters */
		{ "https://a.example/c b", false },
		{ "https://a.example/cb\t", false },
		{ "https://a.example/\x01", false },
		{ "https://a.example/cb\x7f", false },
		{ "https://a.example/cb\n", false },
		{ "cursor://x/c b", true },
		{ "cursor://x/cb\t", true },
		{ "cursor://x/cb\x01", true },
		{ "com.example.app:/cb\n", true },
		{ "com.example.app:/cb\x7f", true },
		/* web clients: https only */
		{ "http://127.0.0.1:6276/cb", false },
		{ "http://localhost:1234/cb", false },
		{ "http://[::1]:8080/cb", false },
		{ "cursor://anysphere.cursor-retrieval/oauth/callback", false },
		{ "com.example.app:/cb", false },
		/* a scheme alone */
		{ "myapp:", true },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mcpauth_err err = { 0 };
		ck_assert_msg(!mcpauth_client_redirect_uri_ok(bad[i].uri,
							      bad[i].native,
							      &err),
			      "%s (%s) accepted", bad[i].uri,
			      bad[i].native ? "native" : "web");
		ck_assert_int_eq(err.status, 400);
		ck_assert_str_eq(err.code, "invalid_redirect_uri");
		ck_assert_msg(err.description[0] != '\0', "%s: no description",
			      bad[i].uri);
	}
}
END_TEST

START_TEST(test_redirect_uri_length)
{
	struct mcpauth_err err = { 0 };
	char uri[MCPAUTH_CLIENT_MAX_URI + 2];
	size_t prefix = strlen("https://a.example/");

	/* Exactly the limit is fine, one byte more is not. */
	memcpy(uri, "https://a.example/", prefix);
	memset(uri + prefix, 'a', MCPAUTH_CLIENT_MAX_URI - prefix);
	uri[MCPAUTH_CLIENT_MAX_URI] = '\0';
	ck_assert_msg(mcpauth_client_redirect_uri_ok(uri, false, &err), "%s",
		      err.description);
	uri[MCPAUTH_CLIENT_MAX_URI] = 'a';
	uri[MCPAUTH_CLIENT_MAX_URI + 1] = '\0';
	ck_assert(!mcpauth_client_redirect_uri_ok(uri, false, &err));
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_redirect_uri");
}
END_TEST

START_TEST(test_redirect_uri_null_err)
{
	/* The error is optional: a NULL err must not crash. */
	ck_assert(!mcpauth_client_redirect_uri_ok("javascript:x", true, NULL));
	ck_assert(!mcpauth_client_redirect_uri_ok("http://a.example/", true,
						  NULL));
	ck_assert(mcpauth_client_redirect_uri_ok("http://[::1]/", true, NULL));
}
END_TEST

START_TEST(test_redirect_uri_loopback)
{
	ck_assert(mcpauth_client_redirect_uri_loopback("http://127.0.0.1/cb"));
	ck_assert(mcpauth_client_redirect_uri_loopback(
		"http://127.0.0.1:6276/oauth/callback"));
	ck_assert(mcpauth_client_redirect_uri_loopback(
		"http://localhost:33418/cb"));
	ck_assert(mcpauth_client_redirect_uri_loopback("http://[::1]:8080/cb"));
	ck_assert(mcpauth_client_redirect_uri_loopback("HTTP://localhost/"));

	ck_assert(!mcpauth_client_redirect_uri_loopback(
		"https://127.0.0.1/cb"));
	ck_assert(!mcpauth_client_redirect_uri_loopback(
		"https://localhost:8443/cb"));
	ck_assert(!mcpauth_client_redirect_uri_loopback("http://a.example/"));
	ck_assert(!mcpauth_client_redirect_uri_loopback(
		"http://127.0.0.1.evil.example/"));
	ck_assert(!mcpauth_client_redirect_uri_loopback(
		"http://localhost.evil.example"));
	ck_assert(!mcpauth_client_redirect_uri_loopback(
		"http://localhost@evil.example/"));
	ck_assert(!mcpauth_client_redirect_uri_loopback("http://127.1/"));
	ck_assert(!mcpauth_client_redirect_uri_loopback(
		"cursor://localhost/cb"));
	ck_assert(!mcpauth_client_redirect_uri_loopback("/cb"));
	ck_assert(!mcpauth_client_redirect_uri_loopback(""));
}
END_TEST

/* --- metadata ----------------------------------------------------------- */

/* Validates text as dynamic registration metadata; the client or fails. */
static struct mcpauth_client *meta_ok(const char *text)
{
	struct json_object *in = json_tokener_parse(text);
	struct mcpauth_client *c = calloc(1, sizeof(*c));
	struct mcpauth_err err = { 0 };

	ck_assert_msg(in != NULL, "test JSON does not parse: %s", text);
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(mcpauth_client_from_metadata(
			      conf, in, MCPAUTH_CLIENT_ORIGIN_DYNAMIC, c, &err),
		      "%s refused: %s %s", text, err.code, err.description);
	json_object_put(in);
	ck_assert_ptr_nonnull(c->metadata);
	return c;
}

/* The stored metadata of c as JSON. */
static struct json_object *meta_json(const struct mcpauth_client *c)
{
	struct json_object *m = json_tokener_parse(c->metadata);

	ck_assert_ptr_nonnull(m);
	ck_assert(json_object_is_type(m, json_type_object));
	return m;
}

/*
 * Metadata that must be refused with 400 code; the description contains
 * needle (when not NULL). The client passed in keeps every field.
 */
static void meta_err(const char *text, const char *code, const char *needle)
{
	struct json_object *in = json_tokener_parse(text);
	struct mcpauth_client *c = calloc(1, sizeof(*c));
	struct mcpauth_err err = { 0 };
	char *auth, *app, *scope, *meta, *grants, *name, **uris;

	ck_assert_msg(in != NULL, "test JSON does not parse: %s", text);
	ck_assert_ptr_nonnull(c);
	c->auth_method = auth = strdup("sentinel-method");
	c->application_type = app = strdup("sentinel-type");
	c->scope = scope = strdup("sentinel-scope");
	c->metadata = meta = strdup("{\"sentinel\":1}");
	c->grant_types = grants = strdup("sentinel-grants");
	c->client_name = name = strdup("sentinel-name");
	c->redirect_uris = uris = calloc(1, sizeof(char *));
	uris[0] = strdup("https://sentinel.example/cb");
	c->nredirect_uris = 1;

	ck_assert_msg(!mcpauth_client_from_metadata(
			      conf, in, MCPAUTH_CLIENT_ORIGIN_DYNAMIC, c, &err),
		      "%s accepted", text);
	ck_assert_int_eq(err.status, 400);
	ck_assert_msg(!strcmp(err.code, code), "%s: %s (%s), want %s", text,
		      err.code, err.description, code);
	ck_assert_msg(err.description[0] != '\0', "%s: no description", text);
	if (needle != NULL)
		ck_assert_msg(strstr(err.description, needle) != NULL,
			      "%s: description \"%s\" lacks \"%s\"", text,
			      err.description, needle);
	/* Out-params are set only on success. */
	ck_assert_ptr_eq(c->auth_method, auth);
	ck_assert_ptr_eq(c->application_type, app);
	ck_assert_ptr_eq(c->scope, scope);
	ck_assert_ptr_eq(c->metadata, meta);
	ck_assert_ptr_eq(c->grant_types, grants);
	ck_assert_ptr_eq(c->client_name, name);
	ck_assert_ptr_eq(c->redirect_uris, uris);
	ck_assert_uint_eq(c->nredirect_uris, 1);
	ck_assert_str_eq(c->redirect_uris[0], "https://sentinel.example/cb");
	ck_assert_str_eq(c->metadata, "{\"sentinel\":1}");
	ck_assert_ptr_null(c->software_id);
	ck_assert_ptr_null(c->software_version);
	json_object_put(in);
	mcpauth_client_free(c);
}

START_TEST(test_metadata_defaults_web)
{
	struct mcpauth_client *c = meta_ok("{" RU "}");
	struct json_object *m = meta_json(c);
	char buf[512];

	ck_assert_str_eq(c->auth_method, "none");
	ck_assert_str_eq(c->application_type, "web");
	ck_assert_str_eq(c->grant_types, "authorization_code refresh_token");
	/* Every scope offered, offline_access included. */
	ck_assert_str_eq(c->scope, "files:read files:write offline_access");
	ck_assert_uint_eq(c->nredirect_uris, 1);
	ck_assert_str_eq(c->redirect_uris[0], "https://app.example.com/cb");
	ck_assert_ptr_null(c->client_name);
	ck_assert_ptr_null(c->software_id);
	ck_assert_ptr_null(c->software_version);
	/* Metadata only: nothing server-made. */
	ck_assert_ptr_null(c->client_id);
	ck_assert_ptr_null(c->secret_hash);
	ck_assert_ptr_null(c->registration_token_hash);

	check_strs(m, "redirect_uris", buf, sizeof(buf));
	ck_assert_str_eq(buf, "https://app.example.com/cb");
	ck_assert_str_eq(check_str(m, "token_endpoint_auth_method"), "none");
	check_strs(m, "grant_types", buf, sizeof(buf));
	ck_assert_str_eq(buf, "authorization_code refresh_token");
	check_strs(m, "response_types", buf, sizeof(buf));
	ck_assert_str_eq(buf, "code");
	ck_assert_str_eq(check_str(m, "application_type"), "web");
	ck_assert_str_eq(check_str(m, "scope"),
			 "files:read files:write offline_access");
	ck_assert_int_eq(json_object_object_length(m), 6);
	json_object_put(m);
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_metadata_infers_native)
{
	static const char *const bodies[] = {
		"{\"redirect_uris\":[\"http://127.0.0.1:6276/oauth/callback\"]}",
		"{\"redirect_uris\":[\"http://localhost:33418/cb\"]}",
		"{\"redirect_uris\":[\"https://app.example.com/cb\","
		"\"http://[::1]:8080/cb\"]}",
		"{\"redirect_uris\":[\"cursor://anysphere.cursor-retrieval/"
		"oauth/callback\"]}",
		"{\"redirect_uris\":[\"com.example.app:/oauth2redirect\"]}",
		/* Said explicitly, even with https only. */
		"{\"application_type\":\"native\"," RU "}",
	};
	struct mcpauth_client *c = meta_ok(bodies[_i]);
	struct json_object *m = meta_json(c);

	ck_assert_str_eq(c->application_type, "native");
	ck_assert_str_eq(check_str(m, "application_type"), "native");
	json_object_put(m);
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_metadata_web_explicit)
{
	struct mcpauth_client *c = meta_ok(
		"{\"application_type\":\"web\",\"redirect_uris\":["
		"\"https://a.example/cb\",\"https://b.example/cb\","
		"\"https://a.example/cb\"]}");

	ck_assert_str_eq(c->application_type, "web");
	/* A repeated URI is registered once, order kept. */
	ck_assert_uint_eq(c->nredirect_uris, 2);
	ck_assert_str_eq(c->redirect_uris[0], "https://a.example/cb");
	ck_assert_str_eq(c->redirect_uris[1], "https://b.example/cb");
	mcpauth_client_free(c);

	/* web with a loopback or private-use URI: web is https only. */
	meta_err("{\"application_type\":\"web\",\"redirect_uris\":["
		 "\"http://127.0.0.1:6276/cb\"]}",
		 "invalid_redirect_uri", NULL);
	meta_err("{\"application_type\":\"web\",\"redirect_uris\":["
		 "\"https://a.example/cb\",\"cursor://x/cb\"]}",
		 "invalid_redirect_uri", NULL);
}
END_TEST

START_TEST(test_metadata_all_fields)
{
	struct mcpauth_client *c = meta_ok(
		"{" RU ",\"client_name\":\"My App\",\"client_uri\":"
		"\"https://app.example.com/\",\"logo_uri\":"
		"\"https://app.example.com/logo.png\",\"tos_uri\":"
		"\"https://app.example.com/tos\",\"policy_uri\":"
		"\"http://app.example.com/policy\",\"contacts\":"
		"[\"ops@app.example.com\"],\"software_id\":\"sw-1\","
		"\"software_version\":\"1.2.3\",\"grant_types\":"
		"[\"authorization_code\"],\"response_types\":[\"code\"],"
		"\"token_endpoint_auth_method\":\"none\",\"scope\":"
		"\"files:read\"}");
	struct json_object *m = meta_json(c);
	char buf[512];

	ck_assert_str_eq(c->client_name, "My App");
	ck_assert_str_eq(c->software_id, "sw-1");
	ck_assert_str_eq(c->software_version, "1.2.3");
	ck_assert_str_eq(c->grant_types, "authorization_code");
	ck_assert_str_eq(c->scope, "files:read");
	ck_assert_str_eq(check_str(m, "client_name"), "My App");
	ck_assert_str_eq(check_str(m, "client_uri"), "https://app.example.com/");
	ck_assert_str_eq(check_str(m, "logo_uri"), "https://app.example.com/logo.png");
	ck_assert_str_eq(check_str(m, "tos_uri"), "https://app.example.com/tos");
	ck_assert_str_eq(check_str(m, "policy_uri"), "http://app.example.com/policy");
	check_strs(m, "contacts", buf, sizeof(buf));
	ck_assert_str_eq(buf, "ops@app.example.com");
	ck_assert_str_eq(check_str(m, "software_id"), "sw-1");
	ck_assert_str_eq(check_str(m, "software_version"), "1.2.3");
	check_strs(m, "grant_types", buf, sizeof(buf));
	ck_assert_str_eq(buf, "authorization_code");
	ck_assert_int_eq(json_object_object_length(m), 14);
	json_object_put(m);
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_metadata_unknown_members_ignored)
{
	static const char *const known[] = {
		"redirect_uris",  "token_endpoint_auth_method",
		"grant_types",    "response_types",
		"application_type", "scope",
		"client_name",
	};
	struct mcpauth_client *c = meta_ok(
		"{" RU ",\"client_name\":\"x\",\"foo\":\"bar\",\"jwks_uri\":"
		"\"https://a.example/jwks\",\"client_id\":\"mine\","
		"\"client_secret\":\"s3cret\",\"client_id_issued_at\":5,"
		"\"registration_access_token\":\"tok\",\"nested\":{\"a\":[1]}}");
	struct json_object *m = meta_json(c);

	/* RFC 7591 §2: ignored, and not echoed back. */
	ck_assert_ptr_null(c->client_id);
	ck_assert_ptr_null(c->secret_hash);
	json_object_object_foreach(m, key, val)
	{
		bool ok = false;
		(void)val;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= !strcmp(key, known[i]);
		ck_assert_msg(ok, "unexpected member %s in %s", key,
			      c->metadata);
	}
	ck_assert(!check_has(m, "foo"));
	ck_assert(!check_has(m, "client_id"));
	ck_assert(!check_has(m, "client_secret"));
	ck_assert_ptr_null(strstr(c->metadata, "s3cret"));
	ck_assert_ptr_null(strstr(c->metadata, "mine"));
	json_object_put(m);
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_metadata_null_is_omitted)
{
	struct mcpauth_client *c = meta_ok(
		"{" RU ",\"client_name\":null,\"scope\":null,\"grant_types\":"
		"null,\"token_endpoint_auth_method\":null,\"application_type\":"
		"null,\"response_types\":null,\"contacts\":null,\"logo_uri\":"
		"null,\"client_uri\":null,\"tos_uri\":null,\"policy_uri\":null,"
		"\"software_id\":null,\"software_version\":null}");
	struct json_object *m = meta_json(c);

	ck_assert_str_eq(c->auth_method, "none");
	ck_assert_str_eq(c->application_type, "web");
	ck_assert_str_eq(c->grant_types, "authorization_code refresh_token");
	ck_assert_str_eq(c->scope, "files:read files:write offline_access");
	ck_assert_ptr_null(c->client_name);
	ck_assert_ptr_null(c->software_id);
	ck_assert(!check_has(m, "client_name"));
	ck_assert(!check_has(m, "contacts"));
	ck_assert(!check_has(m, "logo_uri"));
	ck_assert_int_eq(json_object_object_length(m), 6);
	json_object_put(m);
	mcpauth_client_free(c);

	/* redirect_uris null is omitted too, and it is required. */
	meta_err("{\"redirect_uris\":null}", "invalid_redirect_uri", NULL);
}
END_TEST

START_TEST(test_metadata_replaces_previous)
{
	struct json_object *in = json_tokener_parse(
		"{\"redirect_uris\":[\"http://127.0.0.1/cb\"],"
		"\"client_name\":\"second\"}");
	struct mcpauth_client *c = meta_ok(
		"{" RU ",\"client_name\":\"first\",\"software_id\":\"s\"}");
	struct mcpauth_err err = { 0 };

	/* On success every metadata field is replaced (valgrind: no leak). */
	ck_assert(mcpauth_client_from_metadata(
		conf, in, MCPAUTH_CLIENT_ORIGIN_DYNAMIC, c, &err));
	ck_assert_str_eq(c->client_name, "second");
	ck_assert_ptr_null(c->software_id);
	ck_assert_str_eq(c->application_type, "native");
	ck_assert_uint_eq(c->nredirect_uris, 1);
	ck_assert_str_eq(c->redirect_uris[0], "http://127.0.0.1/cb");
	ck_assert_ptr_null(strstr(c->metadata, "first"));
	json_object_put(in);
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_metadata_scope)
{
	struct mcpauth_client *c;

	/* Unknown scopes dropped, order as requested, repeats once. */
	c = meta_ok("{" RU ",\"scope\":\"offline_access bogus files:write "
		    "files:read files:write\"}");
	ck_assert_str_eq(c->scope, "offline_access files:write files:read");
	mcpauth_client_free(c);
	c = meta_ok("{" RU ",\"scope\":\"  files:read   \"}");
	ck_assert_str_eq(c->scope, "files:read");
	mcpauth_client_free(c);

	meta_err("{" RU ",\"scope\":\"bogus other\"}", "invalid_client_metadata",
		 "scope");
	meta_err("{" RU ",\"scope\":\"a\\\"b\"}", "invalid_client_metadata",
		 "scope");
	meta_err("{" RU ",\"scope\":\"files:read a\\\\b\"}",
		 "invalid_client_metadata", "scope");
	meta_err("{" RU ",\"scope\":\"files:read\\tfiles:write\"}",
		 "invalid_client_metadata", "scope");
	meta_err("{" RU ",\"scope\":\"files:read \\u00e9t\\u00e9\"}",
		 "invalid_client_metadata", "scope");
	meta_err("{" RU ",\"scope\":5}", "invalid_client_metadata", "scope");
	meta_err("{" RU ",\"scope\":[\"files:read\"]}",
		 "invalid_client_metadata", "scope");
}
END_TEST

START_TEST(test_metadata_default_scopes)
{
	struct mcpauth_client *c;

	load_conf("registration_default_scopes = files:write offline_access");
	c = meta_ok("{" RU "}");
	ck_assert_str_eq(c->scope, "files:write offline_access");
	mcpauth_client_free(c);
	/* Only when the client asks for none. */
	c = meta_ok("{" RU ",\"scope\":\"files:read\"}");
	ck_assert_str_eq(c->scope, "files:read");
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_metadata_grant_types)
{
	struct mcpauth_client *c;

	c = meta_ok("{" RU ",\"grant_types\":[\"authorization_code\","
		    "\"refresh_token\",\"authorization_code\"]}");
	ck_assert_str_eq(c->grant_types, "authorization_code refresh_token");
	mcpauth_client_free(c);
	c = meta_ok("{" RU ",\"grant_types\":[\"refresh_token\","
		    "\"authorization_code\"]}");
	ck_assert_str_eq(c->grant_types, "refresh_token authorization_code");
	mcpauth_client_free(c);

	meta_err("{" RU ",\"grant_types\":[\"client_credentials\"]}",
		 "invalid_client_metadata", "operator");
	meta_err("{" RU ",\"grant_types\":[\"authorization_code\","
		 "\"client_credentials\"]}",
		 "invalid_client_metadata", "operator");
	meta_err("{" RU ",\"grant_types\":[\"authorization_code\","
		 "\"password\"]}",
		 "invalid_client_metadata", "password");
	meta_err("{" RU ",\"grant_types\":[\"implicit\"]}",
		 "invalid_client_metadata", "implicit");
	meta_err("{" RU ",\"grant_types\":[\"authorization_code\","
		 "\"urn:ietf:params:oauth:grant-type:device_code\"]}",
		 "invalid_client_metadata", "grant");
	meta_err("{" RU ",\"grant_types\":[\"refresh_token\"]}",
		 "invalid_client_metadata", "authorization_code");
	meta_err("{" RU ",\"grant_types\":[]}", "invalid_client_metadata",
		 "authorization_code");
	meta_err("{" RU ",\"grant_types\":\"authorization_code\"}",
		 "invalid_client_metadata", "grant_types");
	meta_err("{" RU ",\"grant_types\":[\"authorization_code\",5]}",
		 "invalid_client_metadata", "grant_types");
	meta_err("{" RU ",\"grant_types\":{\"a\":1}}",
		 "invalid_client_metadata", "grant_types");
}
END_TEST

START_TEST(test_metadata_response_types)
{
	struct mcpauth_client *c;

	c = meta_ok("{" RU ",\"response_types\":[\"code\"]}");
	mcpauth_client_free(c);
	meta_err("{" RU ",\"response_types\":[\"token\"]}",
		 "invalid_client_metadata", "response_types");
	meta_err("{" RU ",\"response_types\":[\"code\",\"id_token\"]}",
		 "invalid_client_metadata", "response_types");
	meta_err("{" RU ",\"response_types\":[\"code id_token\"]}",
		 "invalid_client_metadata", "response_types");
	meta_err("{" RU ",\"response_types\":[]}", "invalid_client_metadata",
		 "response_types");
	meta_err("{" RU ",\"response_types\":\"code\"}",
		 "invalid_client_metadata", "response_types");
	meta_err("{" RU ",\"response_types\":[1]}", "invalid_client_metadata",
		 "response_types");
}
END_TEST

START_TEST(test_metadata_auth_methods)
{
	struct mcpauth_client *c;

	meta_err("{" RU ",\"token_endpoint_auth_method\":\"client_secret_jwt\"}",
		 "invalid_client_metadata", "client_secret_jwt");
	meta_err("{" RU ",\"token_endpoint_auth_method\":\"private_key_jwt\"}",
		 "invalid_client_metadata", "private_key_jwt");
	meta_err("{" RU ",\"token_endpoint_auth_method\":\"tls_client_auth\"}",
		 "invalid_client_metadata", "tls_client_auth");
	meta_err("{" RU ",\"token_endpoint_auth_method\":\"foo\"}",
		 "invalid_client_metadata", "foo");
	meta_err("{" RU ",\"token_endpoint_auth_method\":\"\"}",
		 "invalid_client_metadata", NULL);
	meta_err("{" RU ",\"token_endpoint_auth_method\":5}",
		 "invalid_client_metadata", "token_endpoint_auth_method");
	/* Secrets through DCR only when the operator allows them. */
	meta_err("{" RU ",\"token_endpoint_auth_method\":"
		 "\"client_secret_basic\"}",
		 "invalid_client_metadata",
		 "confidential registration is disabled");
	meta_err("{" RU ",\"token_endpoint_auth_method\":"
		 "\"client_secret_post\"}",
		 "invalid_client_metadata",
		 "confidential registration is disabled");

	load_conf("confidential_registration = yes");
	c = meta_ok("{" RU ",\"token_endpoint_auth_method\":"
		    "\"client_secret_basic\"}");
	ck_assert_str_eq(c->auth_method, "client_secret_basic");
	ck_assert_ptr_nonnull(strstr(c->metadata,
				     "\"token_endpoint_auth_method\":"
				     "\"client_secret_basic\""));
	mcpauth_client_free(c);
	c = meta_ok("{" RU ",\"token_endpoint_auth_method\":"
		    "\"client_secret_post\"}");
	ck_assert_str_eq(c->auth_method, "client_secret_post");
	mcpauth_client_free(c);
	/* Still never the JWT methods. */
	meta_err("{" RU ",\"token_endpoint_auth_method\":\"private_key_jwt\"}",
		 "invalid_client_metadata", NULL);
	meta_err("{" RU ",\"token_endpoint_auth_method\":\"client_secret_jwt\"}",
		 "invalid_client_metadata", NULL);
}
END_TEST

START_TEST(test_metadata_application_type)
{
	meta_err("{" RU ",\"application_type\":\"desktop\"}",
		 "invalid_client_metadata", "application_type");
	meta_err("{" RU ",\"application_type\":5}", "invalid_client_metadata",
		 "application_type");
	meta_err("{" RU ",\"application_type\":\"Web\"}",
		 "invalid_client_metadata", "application_type");
	meta_err("{" RU ",\"application_type\":[\"web\"]}",
		 "invalid_client_metadata", "application_type");
}
END_TEST

START_TEST(test_metadata_strings_and_urls)
{
	char text[1024], name[MCPAUTH_CLIENT_MAX_NAME + 2];
	struct mcpauth_client *c;

	memset(name, 'n', MCPAUTH_CLIENT_MAX_NAME);
	name[MCPAUTH_CLIENT_MAX_NAME] = '\0';
	snprintf(text, sizeof(text), "{" RU ",\"client_name\":\"%s\"}", name);
	c = meta_ok(text);
	ck_assert_uint_eq(strlen(c->client_name), MCPAUTH_CLIENT_MAX_NAME);
	mcpauth_client_free(c);
	strcat(name, "n");
	snprintf(text, sizeof(text), "{" RU ",\"client_name\":\"%s\"}", name);
	meta_err(text, "invalid_client_metadata", "client_name");
	snprintf(text, sizeof(text), "{" RU ",\"software_id\":\"%s\"}", name);
	meta_err(text, "invalid_client_metadata", "software_id");
	snprintf(text, sizeof(text), "{" RU ",\"software_version\":\"%s\"}",
		 name);
	meta_err(text, "invalid_client_metadata", "software_version");

	meta_err("{" RU ",\"client_name\":5}", "invalid_client_metadata",
		 "client_name");
	meta_err("{" RU ",\"client_name\":[\"a\"]}", "invalid_client_metadata",
		 "client_name");
	meta_err("{" RU ",\"client_name\":\"a\\nb\"}",
		 "invalid_client_metadata", "client_name");
	meta_err("{" RU ",\"software_id\":true}", "invalid_client_metadata",
		 "software_id");
	meta_err("{" RU ",\"software_version\":1.5}",
		 "invalid_client_metadata", "software_version");

	meta_err("{" RU ",\"logo_uri\":\"javascript:alert(1)\"}",
		 "invalid_client_metadata", "logo_uri");
	meta_err("{" RU ",\"logo_uri\":\"data:image/png;base64,AAAA\"}",
		 "invalid_client_metadata", "logo_uri");
	meta_err("{" RU ",\"client_uri\":\"/relative\"}",
		 "invalid_client_metadata", "client_uri");
	meta_err("{" RU ",\"client_uri\":\"https://u:p@a.example/\"}",
		 "invalid_client_metadata", "client_uri");
	meta_err("{" RU ",\"tos_uri\":5}", "invalid_client_metadata",
		 "tos_uri");
	meta_err("{" RU ",\"policy_uri\":\"https://a.example/a b\"}",
		 "invalid_client_metadata", "policy_uri");

	meta_err("{" RU ",\"contacts\":\"ops@a.example\"}",
		 "invalid_client_metadata", "contacts");
	meta_err("{" RU ",\"contacts\":[5]}", "invalid_client_metadata",
		 "contacts");
	meta_err("{" RU ",\"contacts\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\","
		 "\"g\",\"h\",\"i\",\"j\",\"k\"]}",
		 "invalid_client_metadata", "contacts");
	meta_err("{" RU ",\"contacts\":{\"a\":\"b\"}}",
		 "invalid_client_metadata", "contacts");
	meta_err("{" RU ",\"contacts\":[\"\\u001b[2Jx\"]}",
		 "invalid_client_metadata", "contacts");

	/*
	 * Text-direction controls would let a name display as another on the
	 * consent page; C1 controls are control characters too.
	 */
	meta_err("{" RU ",\"client_name\":\"\\u202eevil\"}",
		 "invalid_client_metadata", "client_name");
	meta_err("{" RU ",\"client_name\":\"a\\u2066b\"}",
		 "invalid_client_metadata", "client_name");
	meta_err("{" RU ",\"client_name\":\"a\\u200fb\"}",
		 "invalid_client_metadata", "client_name");
	meta_err("{" RU ",\"client_name\":\"a\\u061cb\"}",
		 "invalid_client_metadata", "client_name");
	meta_err("{" RU ",\"client_name\":\"a\\u0085b\"}",
		 "invalid_client_metadata", "client_name");
	meta_err("{" RU ",\"contacts\":[\"\\u202eops\"]}",
		 "invalid_client_metadata", "contacts");
	/* Other non-ASCII text is welcome. */
	c = meta_ok("{" RU ",\"client_name\":\"Café \\u65e5\\u672c \\u2014 ok\"}");
	ck_assert_str_eq(c->client_name, "Café 日本 — ok");
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_metadata_redirect_uris)
{
	char text[2048];
	size_t n;

	meta_err("{}", "invalid_redirect_uri", "redirect_uris");
	meta_err("{\"redirect_uris\":[]}", "invalid_redirect_uri",
		 "redirect_uris");
	meta_err("{\"redirect_uris\":\"https://a.example/cb\"}",
		 "invalid_redirect_uri", "redirect_uris");
	meta_err("{\"redirect_uris\":{\"a\":\"https://a.example/cb\"}}",
		 "invalid_redirect_uri", "redirect_uris");
	meta_err("{\"redirect_uris\":[5]}", "invalid_redirect_uri",
		 "redirect_uris");
	meta_err("{\"redirect_uris\":[null]}", "invalid_redirect_uri",
		 "redirect_uris");
	meta_err("{\"redirect_uris\":[\"https://a.example/cb\",5]}",
		 "invalid_redirect_uri", "redirect_uris");
	meta_err("{\"redirect_uris\":[[\"https://a.example/cb\"]]}",
		 "invalid_redirect_uri", "redirect_uris");
	meta_err("{\"redirect_uris\":[\"https://a.example/cb#x\"]}",
		 "invalid_redirect_uri", NULL);
	meta_err("{\"redirect_uris\":[\"https://a.example/cb\","
		 "\"javascript:alert(1)\"]}",
		 "invalid_redirect_uri", NULL);
	meta_err("{\"redirect_uris\":[\"http://a.example/cb\"]}",
		 "invalid_redirect_uri", NULL);
	/* Refused before anything else is looked at. */
	meta_err("{\"redirect_uris\":[],\"grant_types\":[\"password\"]}",
		 "invalid_redirect_uri", NULL);

	/* Ten are fine, eleven are not. */
	n = (size_t)snprintf(text, sizeof(text), "{\"redirect_uris\":[");
	for (int i = 0; i < MCPAUTH_CLIENT_MAX_REDIRECT_URIS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "%s\"https://a.example/cb%d\"",
				      i > 0 ? "," : "", i);
	snprintf(text + n, sizeof(text) - n, "]}");
	mcpauth_client_free(meta_ok(text));
	snprintf(text + n, sizeof(text) - n, ",\"https://a.example/x\"]}");
	meta_err(text, "invalid_redirect_uri", NULL);
}
END_TEST

START_TEST(test_metadata_not_object)
{
	meta_err("[]", "invalid_client_metadata", NULL);
	meta_err("\"x\"", "invalid_client_metadata", NULL);
}
END_TEST

/* --- secrets and the response ------------------------------------------- */

static bool b64url_only(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-_") == strlen(s);
}

START_TEST(test_new_secret)
{
	struct mcpauth_err err = { 0 };
	char *s1 = NULL, *h1 = NULL, *s2 = NULL, *h2 = NULL, *want;

	ck_assert(mcpauth_client_new_secret(&s1, &h1, &err));
	ck_assert(mcpauth_client_new_secret(&s2, &h2, &err));
	ck_assert_uint_eq(strlen(s1), 43);
	ck_assert(b64url_only(s1));
	ck_assert_uint_eq(strlen(h1), 43);
	ck_assert(b64url_only(h1));
	want = mcpauth_crypto_sha256_b64url(s1);
	ck_assert_str_eq(h1, want);
	free(want);
	ck_assert_str_ne(s1, s2);
	ck_assert_str_ne(h1, h2);
	ck_assert_str_ne(s1, h1);
	mcpauth_crypto_free_secret(s1);
	mcpauth_crypto_free_secret(s2);
	free(h1);
	free(h2);
}
END_TEST

START_TEST(test_secret_ok)
{
	struct mcpauth_client c = { 0 };

	ck_assert(!mcpauth_client_secret_ok(&c, "anything", NOW));
	c.secret_hash = mcpauth_crypto_sha256_b64url("right");
	ck_assert(mcpauth_client_secret_ok(&c, "right", NOW));
	ck_assert(!mcpauth_client_secret_ok(&c, "wrong", NOW));
	ck_assert(!mcpauth_client_secret_ok(&c, "righ", NOW));
	ck_assert(!mcpauth_client_secret_ok(&c, "right ", NOW));
	ck_assert(!mcpauth_client_secret_ok(&c, "", NOW));
	ck_assert(!mcpauth_client_secret_ok(&c, NULL, NOW));
	/* The stored hash itself is not the secret. */
	ck_assert(!mcpauth_client_secret_ok(&c, c.secret_hash, NOW));
	c.secret_expires_at = NOW + 1;
	ck_assert(mcpauth_client_secret_ok(&c, "right", NOW));
	c.secret_expires_at = NOW;
	ck_assert(!mcpauth_client_secret_ok(&c, "right", NOW));
	c.secret_expires_at = NOW - 100;
	ck_assert(!mcpauth_client_secret_ok(&c, "right", NOW));
	free(c.secret_hash);
}
END_TEST

START_TEST(test_to_json)
{
	struct mcpauth_client *c = meta_ok(
		"{" RU ",\"client_name\":\"App\",\"scope\":\"files:read\"}");
	struct json_object *o;
	char *uri;

	c->client_id = strdup("cid-123");
	c->created_at = NOW;

	/* A public client read back: no secret fields, not manageable. */
	o = mcpauth_client_to_json(conf, c, NULL, NULL);
	ck_assert_str_eq(check_str(o, "client_id"), "cid-123");
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(
				 o, "client_id_issued_at")),
			 NOW);
	ck_assert_str_eq(check_str(o, "client_name"), "App");
	ck_assert_str_eq(check_str(o, "scope"), "files:read");
	ck_assert_str_eq(check_str(o, "token_endpoint_auth_method"), "none");
	ck_assert(check_has(o, "redirect_uris"));
	ck_assert(check_has(o, "grant_types"));
	ck_assert(!check_has(o, "client_secret"));
	ck_assert(!check_has(o, "client_secret_expires_at"));
	ck_assert(!check_has(o, "registration_access_token"));
	ck_assert(!check_has(o, "registration_client_uri"));
	json_object_put(o);

	/* Manageable, just registered: the token once, and where to use it. */
	c->registration_token_hash = strdup("hash");
	o = mcpauth_client_to_json(conf, c, NULL, "reg-token");
	ck_assert_str_eq(check_str(o, "registration_access_token"), "reg-token");
	ck_assert_str_eq(check_str(o, "registration_client_uri"),
			 ISSUER "/register/cid-123");
	ck_assert(!check_has(o, "client_secret"));
	ck_assert(!check_has(o, "client_secret_expires_at"));
	json_object_put(o);
	uri = mcpauth_client_registration_uri(conf, "cid-123");
	ck_assert_str_eq(uri, ISSUER "/register/cid-123");
	free(uri);

	/* Confidential: client_secret_expires_at always, the secret once. */
	free(c->auth_method);
	c->auth_method = strdup("client_secret_basic");
	c->secret_hash = strdup("h");
	o = mcpauth_client_to_json(conf, c, "the-secret", "reg-token");
	ck_assert_str_eq(check_str(o, "client_secret"), "the-secret");
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(
				 o, "client_secret_expires_at")),
			 0);
	json_object_put(o);
	c->secret_expires_at = NOW + 3600;
	o = mcpauth_client_to_json(conf, c, NULL, NULL);
	ck_assert(!check_has(o, "client_secret"));
	ck_assert(!check_has(o, "registration_access_token"));
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(
				 o, "client_secret_expires_at")),
			 NOW + 3600);
	ck_assert_str_eq(check_str(o, "registration_client_uri"),
			 ISSUER "/register/cid-123");
	json_object_put(o);
	free(c->auth_method);
	c->auth_method = strdup("client_secret_post");
	o = mcpauth_client_to_json(conf, c, NULL, NULL);
	ck_assert(check_has(o, "client_secret_expires_at"));
	json_object_put(o);
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_method_has_secret)
{
	ck_assert(mcpauth_client_method_has_secret("client_secret_basic"));
	ck_assert(mcpauth_client_method_has_secret("client_secret_post"));
	ck_assert(!mcpauth_client_method_has_secret("none"));
	ck_assert(!mcpauth_client_method_has_secret("private_key_jwt"));
	ck_assert(!mcpauth_client_method_has_secret("client_secret_jwt"));
	ck_assert(!mcpauth_client_method_has_secret(NULL));
}
END_TEST

START_TEST(test_free_null)
{
	mcpauth_client_free(NULL);
}
END_TEST

/* --- authentication at the token endpoint ------------------------------- */

/*
 * The fixture's clients. The confidential one's id and secret need
 * urlencoding in a Basic header (RFC 6749 §2.3.1).
 */
#define PUB_ID "public-1"
#define SVC_ID "svc:1"
#define SVC_ID_ENC "svc%3A1"
#define SVC_SECRET "s3cr:t+/ x"
#define SVC_SECRET_ENC "s3cr%3At%2B%2F+x"
#define POST_ID "post-1"
#define POST_SECRET "post-secret"
#define OLD_ID "old-1"
#define OLD_SECRET "old-secret"

static void add_client(const char *id, const char *method, const char *secret,
		       long long expires_at)
{
	char *uris[] = { "https://app.example.com/cb" };
	struct mcpauth_client c = {
		.client_id = (char *)id,
		.source = "operator",
		.auth_method = (char *)method,
		.application_type = "web",
		.redirect_uris = uris,
		.nredirect_uris = 1,
		.grant_types = "authorization_code refresh_token",
		.scope = "files:read",
		.metadata = "{}",
		.secret_expires_at = expires_at,
		.created_at = NOW - 10,
		.updated_at = NOW - 10,
	};

	if (secret != NULL)
		c.secret_hash = mcpauth_crypto_sha256_b64url(secret);
	check_client_add(store, &c);
	free(c.secret_hash);
}

static void auth_setup(void)
{
	setup();
	store = check_store_migrated(conf->database);
	add_client(PUB_ID, "none", NULL, 0);
	add_client(SVC_ID, "client_secret_basic", SVC_SECRET, 0);
	add_client(POST_ID, "client_secret_post", POST_SECRET, NOW + 60);
	add_client(OLD_ID, "client_secret_basic", OLD_SECRET, NOW - 1);
}

/* Padded base64 (RFC 4648 §4) of len bytes, for Basic headers. */
static void b64(const char *src, size_t len, char *out, size_t size)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	ck_assert_uint_lt((len + 2) / 3 * 4, size);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? abc[v & 63] : '=';
	}
	out[o] = '\0';
}

/* "Basic " + base64(credentials), in static storage. */
static const char *basic(const char *credentials)
{
	static char h[512];

	snprintf(h, sizeof(h), "Basic ");
	b64(credentials, strlen(credentials), h + 6, sizeof(h) - 6);
	return h;
}

static bool authenticate(const char *authorization, const char *body,
			 struct mcpauth_client **out, struct mcpauth_err *err)
{
	struct mcpauth_form *form = NULL;
	struct mcpauth_err perr = { 0 };
	bool ok;

	ck_assert_msg(mcpauth_form_parse(body, strlen(body), &form, &perr),
		      "%s", perr.description);
	ok = mcpauth_client_authenticate(store, conf, authorization, form, NOW, out,
					 err);
	mcpauth_form_free(form);
	return ok;
}

static void auth_ok(const char *authorization, const char *body,
		    const char *want_id)
{
	struct mcpauth_client *c = NULL;
	struct mcpauth_err err = { 0 };

	ck_assert_msg(authenticate(authorization, body, &c, &err),
		      "[%s] [%s] refused: %d %s %s",
		      authorization ? authorization : "-", body, err.status,
		      err.code, err.description);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->client_id, want_id);
	mcpauth_client_free(c);
}

static void auth_fails(const char *authorization, const char *body,
		       int status, const char *code)
{
	struct mcpauth_client marker = { 0 };
	struct mcpauth_client *c = &marker;
	struct mcpauth_err err = { 0 };

	ck_assert_msg(!authenticate(authorization, body, &c, &err),
		      "[%s] [%s] accepted", authorization ? authorization : "-",
		      body);
	ck_assert_ptr_eq(c, &marker);
	ck_assert_msg(err.status == status && !strcmp(err.code, code),
		      "[%s] [%s]: %d %s (%s), want %d %s",
		      authorization ? authorization : "-", body, err.status,
		      err.code, err.description, status, code);
	ck_assert(err.description[0] != '\0');
}

START_TEST(test_auth_basic)
{
	/* base64(urlencode(id) ":" urlencode(secret)) */
	auth_ok(basic(SVC_ID_ENC ":" SVC_SECRET_ENC), "", SVC_ID);
	/* The scheme name is case-insensitive. */
	{
		char h[600];
		snprintf(h, sizeof(h), "basic %s",
			 basic(SVC_ID_ENC ":" SVC_SECRET_ENC) + 6);
		auth_ok(h, "", SVC_ID);
		snprintf(h, sizeof(h), "BASIC %s",
			 basic(SVC_ID_ENC ":" SVC_SECRET_ENC) + 6);
		auth_ok(h, "", SVC_ID);
	}
	/* The same client_id in the body as well is one method. */
	auth_ok(basic(SVC_ID_ENC ":" SVC_SECRET_ENC),
		"grant_type=authorization_code&client_id=" SVC_ID_ENC, SVC_ID);
	/* Either secret method for a confidential client. */
	auth_ok(basic(POST_ID ":" POST_SECRET), "", POST_ID);
	/* An empty header is no header. */
	auth_ok("", "client_id=" PUB_ID, PUB_ID);
}
END_TEST

START_TEST(test_auth_post)
{
	auth_ok(NULL, "client_id=" SVC_ID_ENC "&client_secret=" SVC_SECRET_ENC,
		SVC_ID);
	auth_ok(NULL, "client_id=" POST_ID "&client_secret=" POST_SECRET,
		POST_ID);
	auth_ok(NULL,
		"grant_type=refresh_token&refresh_token=x&client_id=" PUB_ID,
		PUB_ID);
}
END_TEST

START_TEST(test_auth_public_ignores_secret)
{
	auth_ok(NULL, "client_id=" PUB_ID "&client_secret=whatever", PUB_ID);
	auth_ok(basic(PUB_ID ":whatever"), "", PUB_ID);
	auth_ok(basic(PUB_ID ":"), "", PUB_ID);
}
END_TEST

START_TEST(test_auth_refused)
{
	/* Wrong, missing, expired secrets; unknown clients; no client. */
	auth_fails(basic(SVC_ID_ENC ":wrong"), "", 401, "invalid_client");
	auth_fails(NULL, "client_id=" SVC_ID_ENC "&client_secret=wrong", 401,
		   "invalid_client");
	/* Not decoded: the raw encoding is not the secret. */
	auth_fails(NULL,
		   "client_id=" SVC_ID_ENC "&client_secret=s3cr%253At%252B",
		   401, "invalid_client");
	auth_fails(NULL, "client_id=" SVC_ID_ENC, 401, "invalid_client");
	auth_fails(NULL, "client_id=" SVC_ID_ENC "&client_secret=", 401,
		   "invalid_client");
	auth_fails(basic(SVC_ID_ENC ":"), "", 401, "invalid_client");
	auth_fails(basic(OLD_ID ":" OLD_SECRET), "", 401, "invalid_client");
	auth_fails(NULL, "client_id=" OLD_ID "&client_secret=" OLD_SECRET, 401,
		   "invalid_client");
	auth_fails(NULL, "client_id=nobody", 401, "invalid_client");
	auth_fails(NULL, "client_id=nobody&client_secret=x", 401,
		   "invalid_client");
	auth_fails(basic("nobody:x"), "", 401, "invalid_client");
	auth_fails(NULL, "", 401, "invalid_client");
	auth_fails(NULL, "client_id=", 401, "invalid_client");
	auth_fails(NULL, "grant_type=authorization_code&code=x", 401,
		   "invalid_client");
	auth_fails(NULL, "client_secret=" POST_SECRET, 401, "invalid_client");
	/* The secret of another client. */
	auth_fails(basic(POST_ID ":" SVC_SECRET_ENC), "", 401,
		   "invalid_client");
	/*
	 * Assertions that name no client (a.b.c has no iss), or without the
	 * assertion type, or next to a secret (two methods, RFC 6749 §2.3).
	 */
	auth_fails(NULL,
		   "client_id=" PUB_ID "&client_assertion_type=urn%3Aietf%3A"
		   "params%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
		   "&client_assertion=a.b.c",
		   401, "invalid_client");
	auth_fails(NULL, "client_id=" PUB_ID "&client_assertion=a.b.c", 401,
		   "invalid_client");
	auth_fails(NULL,
		   "client_id=" SVC_ID_ENC "&client_secret=" SVC_SECRET_ENC
		   "&client_assertion=a.b.c",
		   400, "invalid_request");
}
END_TEST

START_TEST(test_auth_malformed_basic)
{
	char h[128], enc[64];
	static const char *const bad[] = {
		"Basic !!!!",
		"Basic QQ",                  /* not a multiple of 4 */
		"Basic ====",
		"Basic",
		"Basic ",
		"Basic      ",
		"Bearer x",
		"Bearer " POST_SECRET,
		"Digest username=\"x\"",
		"Basicx cHVibGljLTE6",
		"cHVibGljLTE6",             /* no scheme */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		auth_fails(bad[i], "client_id=" PUB_ID, 401, "invalid_client");
	/* Decodes, but not to id:secret. */
	auth_fails(basic("nocolon"), "", 401, "invalid_client");
	auth_fails(basic(":" POST_SECRET), "", 401, "invalid_client");
	auth_fails(basic(":"), "", 401, "invalid_client");
	auth_fails(basic("svc%ZZ1:x"), "", 401, "invalid_client");
	auth_fails(basic("svc%3:x"), "", 401, "invalid_client");
	auth_fails(basic(POST_ID ":post%"), "", 401, "invalid_client");
	auth_fails(basic(POST_ID ":post%00secret"), "", 401, "invalid_client");
	auth_fails(basic("post%001:x"), "", 401, "invalid_client");
	auth_fails(basic(POST_ID ":post\x01secret"), "", 401,
		   "invalid_client");
	/* A NUL inside the decoded bytes. */
	b64("post-1\0:x", 9, enc, sizeof(enc));
	snprintf(h, sizeof(h), "Basic %s", enc);
	auth_fails(h, "", 401, "invalid_client");
	b64(POST_ID ":" POST_SECRET "\0x", 20, enc, sizeof(enc));
	snprintf(h, sizeof(h), "Basic %s", enc);
	auth_fails(h, "", 401, "invalid_client");
}
END_TEST

START_TEST(test_auth_two_methods)
{
	/* RFC 6749 §2.3: one method per request. */
	auth_fails(basic(POST_ID ":" POST_SECRET),
		   "client_secret=" POST_SECRET, 400, "invalid_request");
	auth_fails(basic(POST_ID ":" POST_SECRET),
		   "client_id=" POST_ID "&client_secret=" POST_SECRET, 400,
		   "invalid_request");
	auth_fails(basic(POST_ID ":" POST_SECRET), "client_id=" PUB_ID, 400,
		   "invalid_request");
	auth_fails(basic(PUB_ID ":x"), "client_id=" POST_ID, 400,
		   "invalid_request");
}
END_TEST

Suite *check_client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc;

	tc = tcase_create("redirect_uri");
	tcase_add_test(tc, test_redirect_uri_accepted);
	tcase_add_test(tc, test_redirect_uri_refused);
	tcase_add_test(tc, test_redirect_uri_length);
	tcase_add_test(tc, test_redirect_uri_null_err);
	tcase_add_test(tc, test_redirect_uri_loopback);
	suite_add_tcase(s, tc);

	tc = tcase_create("metadata");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_metadata_defaults_web);
	tcase_add_loop_test(tc, test_metadata_infers_native, 0, 6);
	tcase_add_test(tc, test_metadata_web_explicit);
	tcase_add_test(tc, test_metadata_all_fields);
	tcase_add_test(tc, test_metadata_unknown_members_ignored);
	tcase_add_test(tc, test_metadata_null_is_omitted);
	tcase_add_test(tc, test_metadata_replaces_previous);
	tcase_add_test(tc, test_metadata_scope);
	tcase_add_test(tc, test_metadata_default_scopes);
	tcase_add_test(tc, test_metadata_grant_types);
	tcase_add_test(tc, test_metadata_response_types);
	tcase_add_test(tc, test_metadata_auth_methods);
	tcase_add_test(tc, test_metadata_application_type);
	tcase_add_test(tc, test_metadata_strings_and_urls);
	tcase_add_test(tc, test_metadata_redirect_uris);
	tcase_add_test(tc, test_metadata_not_object);
	suite_add_tcase(s, tc);

	tc = tcase_create("secrets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_new_secret);
	tcase_add_test(tc, test_secret_ok);
	tcase_add_test(tc, test_to_json);
	tcase_add_test(tc, test_method_has_secret);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("authenticate");
	tcase_add_checked_fixture(tc, auth_setup, teardown);
	tcase_add_test(tc, test_auth_basic);
	tcase_add_test(tc, test_auth_post);
	tcase_add_test(tc, test_auth_public_ignores_secret);
	tcase_add_test(tc, test_auth_refused);
	tcase_add_test(tc, test_auth_malformed_basic);
	tcase_add_test(tc, test_auth_two_methods);
	suite_add_tcase(s, tc);
	return s;
}

/* check_cimd.c: Client ID Metadata Documents: URL rules and document validation. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>

#include "check_mcpauth.h"
#include "client.h"
#include "conf.h"
#include "err.h"
#include "store.h"

/* The client_id every document below is fetched from. */
#define DOC "https://app.example.com/client.json"

static char dir[4096];
static struct mcpauth_conf *conf;

/* The configuration check_conf_text makes, with these global lines. */
static struct mcpauth_conf *load(const char *globals, struct mcpauth_err *err)
{
	return check_conf_load(dir, check_conf_text(CHECK_FILES_SECTION, "%s",
						    globals),
			       err);
}

/* Replaces the suite's conf with one made of globals; or fails the test. */
static void use_conf(const char *globals)
{
	struct mcpauth_err err;

	mcpauth_conf_free(conf);
	conf = load(globals, &err);
	ck_assert_msg(conf != NULL, "%s", err.description);
}

static void conf_setup(void)
{
	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	conf = NULL;
}

static void conf_teardown(void)
{
	mcpauth_conf_free(conf);
	conf = NULL;
	check_tmpdir_remove(dir);
}

/* --- mcpauth_client_id_is_url ------------------------------------------- */

START_TEST(test_id_https_url_is_a_document)
{
	ck_assert(mcpauth_client_id_is_url(DOC));
	/* meant as one: the URL rules then refuse it with a reason */
	ck_assert(mcpauth_client_id_is_url("http://app.example.com/c.json"));
}
END_TEST

START_TEST(test_id_other_values_are_not_documents)
{
	ck_assert(!mcpauth_client_id_is_url("3fa2c1d0e4b5a69788776655"));
	ck_assert(!mcpauth_client_id_is_url("https:/app.example.com/c.json"));
	ck_assert(!mcpauth_client_id_is_url(""));
	ck_assert(!mcpauth_client_id_is_url(NULL));
}
END_TEST

/* --- mcpauth_client_document_url_ok ------------------------------------- */

/* url is accepted, and its host is host. */
static void assert_url_ok(const char *url, const char *host)
{
	struct mcpauth_err err = { 0 };
	char *got = NULL;

	ck_assert_msg(mcpauth_client_document_url_ok(url, &got, &err),
		      "%s: %s", url, err.description);
	ck_assert_str_eq(got, host);
	free(got);
}

/* url is refused as 400 invalid_client, the description holding words. */
static void assert_url_refused(const char *url, const char *words)
{
	struct mcpauth_err err = { 0 };
	char *got = NULL;

	ck_assert_msg(!mcpauth_client_document_url_ok(url, &got, &err),
		      "%s: accepted", url);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_client");
	ck_assert_msg(strstr(err.description, words) != NULL, "%s: %s", url,
		      err.description);
}

START_TEST(test_url_plain_accepted)
{
	assert_url_ok(DOC, "app.example.com");
}
END_TEST

START_TEST(test_url_with_port_accepted)
{
	assert_url_ok("https://app.example.com:8443/client.json",
		      "app.example.com");
}
END_TEST

START_TEST(test_url_with_query_accepted)
{
	assert_url_ok("https://app.example.com/client.json?v=2",
		      "app.example.com");
}
END_TEST

START_TEST(test_url_host_lower_cased)
{
	assert_url_ok("https://App.EXAMPLE.Com/Client.json", "app.example.com");
}
END_TEST

START_TEST(test_url_the_host_may_be_omitted)
{
	struct mcpauth_err err = { 0 };

	ck_assert(mcpauth_client_document_url_ok(DOC, NULL, &err));
}
END_TEST

START_TEST(test_url_http_refused)
{
	assert_url_refused("http://app.example.com/client.json",
			   "must use https");
}
END_TEST

START_TEST(test_url_upper_case_scheme_refused)
{
	assert_url_refused("HTTPS://app.example.com/client.json",
			   "must use https");
}
END_TEST

START_TEST(test_url_fragment_refused)
{
	assert_url_refused("https://app.example.com/client.json#x",
			   "must not have a fragment");
	assert_url_refused("https://app.example.com/client.json#",
			   "must not have a fragment");
}
END_TEST

START_TEST(test_url_user_and_password_refused)
{
	assert_url_refused("https://u:p@app.example.com/client.json",
			   "user information");
}
END_TEST

START_TEST(test_url_user_alone_refused)
{
	assert_url_refused("https://u@app.example.com/client.json",
			   "user information");
}
END_TEST

/* An '@' after the authority is part of the path, not user information. */
START_TEST(test_url_at_sign_in_path_accepted)
{
	assert_url_ok("https://app.example.com/c/@alice", "app.example.com");
}
END_TEST

START_TEST(test_url_without_path_refused)
{
	assert_url_refused("https://app.example.com", "must have a path");
	assert_url_refused("https://app.example.com/", "must have a path");
	assert_url_refused("https://app.example.com?c=1", "must have a path");
	assert_url_refused("https://app.example.com/?c=1", "must have a path");
}
END_TEST

START_TEST(test_url_dot_segments_refused)
{
	static const char *const urls[] = {
		"https://app.example.com/a/../c",
		"https://app.example.com/./c",
		"https://app.example.com/a/%2e%2e/c",
		"https://app.example.com/a/%2E/c",
		"https://app.example.com/a/.%2E/c",
		"https://app.example.com/a/..",
		"https://app.example.com/a/..?x=1",
	};

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		assert_url_refused(urls[i],
				   "must not have . or .. path segments");
}
END_TEST

/* Dots inside a longer segment are ordinary characters (RFC 3986 §3.3). */
START_TEST(test_url_dots_within_a_segment_accepted)
{
	assert_url_ok("https://app.example.com/a/...b/c", "app.example.com");
	assert_url_ok("https://app.example.com/a/.well-known/c",
		      "app.example.com");
	assert_url_ok("https://app.example.com/a/c..", "app.example.com");
}
END_TEST

START_TEST(test_url_space_control_non_ascii_refused)
{
	static const char *const urls[] = {
		"https://app.example.com/a b",
		"https://app.example.com/a\tb",
		"https://app.example.com/a\x7f",
		"https://app.example.com/caf\xc3\xa9",
	};

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		assert_url_refused(urls[i], "spaces, control or non-ASCII");
}
END_TEST

/* A URL of n characters under https://app.example.com/ (static storage). */
static const char *url_of_length(size_t n)
{
	static char url[MCPAUTH_CLIENT_MAX_URI + 16];
	int prefix = snprintf(url, sizeof(url), "https://app.example.com/");

	ck_assert_uint_lt(n, sizeof(url));
	memset(url + prefix, 'a', n - (size_t)prefix);
	url[n] = '\0';
	return url;
}

START_TEST(test_url_of_2000_characters_accepted)
{
	assert_url_ok(url_of_length(2000), "app.example.com");
}
END_TEST

START_TEST(test_url_longer_than_2000_refused)
{
	assert_url_refused(url_of_length(2001), "longer than 2000");
}
END_TEST

/* --- mcpauth_client_from_document -------------------------------------- */

#define ID "\"client_id\":\"" DOC "\""
#define NAME "\"client_name\":\"Notes\""
#define RU "\"redirect_uris\":[\"http://127.0.0.1:3000/cb\"]"
/* A valid document with more members. */
#define VALID_WITH(extra) "{" ID "," NAME "," RU extra "}"
#define PKJWT ",\"token_endpoint_auth_method\":\"private_key_jwt\""
#define JWKS_URI ",\"jwks_uri\":\"https://app.example.com/jwks.json\""

/* The EC P-256 key of RFC 7515 §A.3: its public members, then d. */
#define P256_XY                                                           \
	"\"kty\":\"EC\",\"crv\":\"P-256\","                                \
	"\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","            \
	"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKaWEAiQ\""
#define P256_D "\"d\":\"jpsQnnGQmL-YBIffH1136cLSG4_mAjIuKhW2K3C4G2Y\""

/* body validated for DOC: the new client, or the test fails. Free it. */
static struct mcpauth_client *doc_ok(const char *body)
{
	struct mcpauth_client *c = calloc(1, sizeof(*c));
	struct mcpauth_err err = { 0 };

	ck_assert_ptr_nonnull(c);
	ck_assert_msg(mcpauth_client_from_document(conf, DOC, body,
						   strlen(body), c, &err),
		      "%s: %s", body, err.description);
	return c;
}

/* body is refused as 400 invalid_client, described as the document's. */
static void doc_refused(const char *body, const char *words)
{
	static const char prefix[] = "the client's metadata document: ";
	struct mcpauth_client *c = calloc(1, sizeof(*c));
	struct mcpauth_err err = { 0 };

	ck_assert_ptr_nonnull(c);
	ck_assert_msg(!mcpauth_client_from_document(conf, DOC, body,
						    strlen(body), c, &err),
		      "%s: accepted", body);
	mcpauth_client_free(c);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_client");
	ck_assert_msg(!strncmp(err.description, prefix, sizeof(prefix) - 1),
		      "%s: %s", body, err.description);
	ck_assert_msg(strstr(err.description, words) != NULL, "%s: %s", body,
		      err.description);
}

static void doc_setup(void)
{
	conf_setup();
	use_conf("");
}

static void doc_pkjwt_setup(void)
{
	conf_setup();
	use_conf("private_key_jwt = yes\n");
}

START_TEST(test_doc_valid_public_client)
{
	struct mcpauth_client *c = doc_ok(VALID_WITH(""));

	ck_assert_str_eq(c->auth_method, "none");
	ck_assert_str_eq(c->client_name, "Notes");
	ck_assert_uint_eq(c->nredirect_uris, 1);
	ck_assert_str_eq(c->redirect_uris[0], "http://127.0.0.1:3000/cb");
	ck_assert_str_eq(c->grant_types, "authorization_code refresh_token");
	ck_assert_ptr_null(c->jwks);
	ck_assert_ptr_null(c->jwks_uri);
	ck_assert_ptr_null(c->signing_alg);
	mcpauth_client_free(c);
}
END_TEST

/* A loopback http redirect URI makes the client native (RFC 8252 §7.3). */
START_TEST(test_doc_application_type_inferred_native)
{
	struct mcpauth_client *c = doc_ok(VALID_WITH(""));

	ck_assert_str_eq(c->application_type, "native");
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_doc_client_id_mismatch_refused)
{
	doc_refused("{\"client_id\":\"https://app.example.com/other.json\","
		    NAME "," RU "}",
		    "its client_id is not the URL");
}
END_TEST

/* The draft compares client_id as a string: no URL normalisation. */
START_TEST(test_doc_client_id_compared_exactly)
{
	doc_refused("{\"client_id\":\"https://APP.example.com/client.json\","
		    NAME "," RU "}",
		    "its client_id is not the URL");
}
END_TEST

START_TEST(test_doc_client_id_missing_refused)
{
	doc_refused("{" NAME "," RU "}", "its client_id is not the URL");
}
END_TEST

START_TEST(test_doc_client_name_missing_refused)
{
	doc_refused("{" ID "," RU "}", "no client_name");
}
END_TEST

START_TEST(test_doc_redirect_uris_missing_refused)
{
	doc_refused("{" ID "," NAME "}", "no redirect_uris");
}
END_TEST

START_TEST(test_doc_client_secret_refused)
{
	doc_refused(VALID_WITH(",\"client_secret\":\"s3cret\""),
		    "must not contain client_secret");
}
END_TEST

START_TEST(test_doc_client_secret_expires_at_refused)
{
	doc_refused(VALID_WITH(",\"client_secret_expires_at\":0"),
		    "must not contain client_secret");
}
END_TEST

START_TEST(test_doc_client_secret_basic_refused)
{
	doc_refused(VALID_WITH(",\"token_endpoint_auth_method\":"
			       "\"client_secret_basic\""),
		    "cannot use a client secret");
}
END_TEST

START_TEST(test_doc_client_secret_post_refused)
{
	doc_refused(VALID_WITH(",\"token_endpoint_auth_method\":"
			       "\"client_secret_post\""),
		    "cannot use a client secret");
}
END_TEST

START_TEST(test_doc_private_key_jwt_refused_when_switched_off)
{
	use_conf("private_key_jwt = no\n");
	doc_refused(VALID_WITH(PKJWT JWKS_URI), "switched off");
}
END_TEST

START_TEST(test_doc_client_credentials_refused)
{
	doc_refused(VALID_WITH(",\"grant_types\":[\"authorization_code\","
			       "\"client_credentials\"]"),
		    "client_credentials");
}
END_TEST

START_TEST(test_doc_not_json_refused)
{
	doc_refused("client_id=" DOC, "not JSON");
}
END_TEST

START_TEST(test_doc_json_array_refused)
{
	doc_refused("[" VALID_WITH("") "]", "not a JSON object");
}
END_TEST

START_TEST(test_doc_javascript_redirect_uri_refused)
{
	doc_refused("{" ID "," NAME ",\"redirect_uris\":"
		    "[\"javascript:alert(1)\"]}",
		    "javascript");
}
END_TEST

/* --- from_document with private_key_jwt = yes --------------------------- */

START_TEST(test_doc_private_key_jwt_without_keys_refused)
{
	doc_refused(VALID_WITH(PKJWT), "needs jwks_uri or jwks");
}
END_TEST

START_TEST(test_doc_private_key_jwt_http_jwks_uri_refused)
{
	doc_refused(VALID_WITH(PKJWT ",\"jwks_uri\":"
				     "\"http://app.example.com/jwks.json\""),
		    "https URL");
}
END_TEST

START_TEST(test_doc_private_key_jwt_both_jwks_uri_and_jwks_refused)
{
	doc_refused(VALID_WITH(PKJWT JWKS_URI
			       ",\"jwks\":{\"keys\":[{" P256_XY "}]}"),
		    "both jwks_uri and jwks");
}
END_TEST

START_TEST(test_doc_private_key_jwt_private_jwks_refused)
{
	doc_refused(VALID_WITH(PKJWT
			       ",\"jwks\":{\"keys\":[{" P256_XY "," P256_D
			       "}]}"),
		    "jwks: key 1 is a private key");
}
END_TEST

START_TEST(test_doc_private_key_jwt_jwks_uri_accepted)
{
	struct mcpauth_client *c = doc_ok(VALID_WITH(PKJWT JWKS_URI));

	ck_assert_str_eq(c->auth_method, "private_key_jwt");
	ck_assert_str_eq(c->jwks_uri, "https://app.example.com/jwks.json");
	ck_assert_ptr_null(c->jwks);
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_doc_private_key_jwt_signing_alg_defaults_to_es256)
{
	struct mcpauth_client *c = doc_ok(VALID_WITH(PKJWT JWKS_URI));

	ck_assert_str_eq(c->signing_alg, "ES256");
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_doc_private_key_jwt_signing_alg_stored)
{
	struct mcpauth_client *c = doc_ok(VALID_WITH(
		PKJWT JWKS_URI
		",\"token_endpoint_auth_signing_alg\":\"EdDSA\""));

	ck_assert_str_eq(c->signing_alg, "EdDSA");
	mcpauth_client_free(c);
}
END_TEST

START_TEST(test_doc_private_key_jwt_inline_jwks_stored)
{
	struct mcpauth_client *c = doc_ok(
		VALID_WITH(PKJWT ",\"jwks\":{\"keys\":[{" P256_XY "}]}"));

	ck_assert_str_eq(c->auth_method, "private_key_jwt");
	ck_assert_ptr_null(c->jwks_uri);
	ck_assert_ptr_nonnull(c->jwks);
	ck_assert_ptr_nonnull(
		strstr(c->jwks, "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"));
	ck_assert_str_eq(c->signing_alg, "ES256");
	mcpauth_client_free(c);
}
END_TEST

/* --- mcpauth_client_document_fetch ------------------------------------- */

static struct mcpauth_store *store;
static char db[4200];
/* A plain TCP listener on 127.0.0.1 that never speaks TLS. */
static int lfd = -1, port;

/* Replaces conf with globals and opens a migrated store on its database. */
static void use_store(const char *globals)
{
	use_conf(globals);
	snprintf(db, sizeof(db), "%s", conf->database);
	store = check_store_migrated(db);
}

static void fetch_setup(void)
{
	conf_setup();
	store = NULL;
	lfd = check_listen(AF_INET, "127.0.0.1", &port);
	ck_assert_int_ge(lfd, 0);
}

static void fetch_teardown(void)
{
	mcpauth_store_free(store);
	store = NULL;
	close(lfd);
	lfd = -1;
	conf_teardown();
}

static void curl_up(void)
{
	ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
}

static void curl_down(void)
{
	curl_global_cleanup();
}

/* A fixed clock: every fetch of a test falls in one limit window. */
#define NOW 1700000000LL

/* https://host:port/client.json, port the listener's (static storage). */
static const char *doc_at(const char *host)
{
	static char url[256];

	snprintf(url, sizeof(url), "https://%s:%d/client.json", host, port);
	return url;
}

/* Fetching url fails; the error in err. */
static void fetch_fails(const char *url, struct mcpauth_err *err)
{
	struct mcpauth_client *c = NULL;

	mcpauth_err_clear(err);
	ck_assert_msg(!mcpauth_client_document_fetch(store, conf, url,
						     "192.0.2.7", NOW, &c, err),
		      "%s fetched", url);
	ck_assert_ptr_null(c);
}

static long long audit_rows(void)
{
	return check_sql_int(db, "SELECT count(*) FROM audit_log", NULL);
}

/* Accepts one connection on lfd and closes it at once, so curl fails fast. */
struct acceptor {
	pthread_t thread;
	int accepted;
};

static void *accept_one(void *arg)
{
	struct acceptor *a = arg;
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int c;

	/* A bound, not a measure: a fetch that never connects ends the wait. */
	if (poll(&p, 1, 10000) == 1 && (c = accept(lfd, NULL, NULL)) >= 0) {
		close(c);
		a->accepted++;
	}
	return NULL;
}

/* Fetches url (which fails) with an acceptor; returns the connections. */
static int fetch_connections(const char *url, struct mcpauth_err *err)
{
	struct acceptor a = { 0 };

	ck_assert_int_eq(pthread_create(&a.thread, NULL, accept_one, &a), 0);
	fetch_fails(url, err);
	ck_assert_int_eq(pthread_join(a.thread, NULL), 0);
	return a.accepted + check_pending(lfd);
}

START_TEST(test_fetch_bad_url_refused_without_audit)
{
	struct mcpauth_err err;

	use_store("");
	fetch_fails(url_of_length(2001), &err);
	ck_assert_int_eq(err.status, 400);
	ck_assert_ptr_nonnull(strstr(err.description, "longer than 2000"));
	fetch_fails("https://127.0.0.1/", &err);
	ck_assert_ptr_nonnull(strstr(err.description, "must have a path"));
	ck_assert_int_eq(audit_rows(), 0);
	ck_assert_int_eq(check_pending(lfd), 0);
}
END_TEST

START_TEST(test_fetch_loopback_refused_without_connecting)
{
	struct mcpauth_err err;

	use_store("fetch_timeout = 2\n");
	fetch_fails(doc_at("127.0.0.1"), &err);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_client");
	ck_assert_msg(strstr(err.description, "does not fetch from") != NULL,
		      "%s", err.description);
	ck_assert_int_eq(check_pending(lfd), 0);
}
END_TEST

START_TEST(test_fetch_refusal_audited_once)
{
	struct mcpauth_err err;
	char text[256];

	use_store("fetch_timeout = 2\n");
	fetch_fails(doc_at("127.0.0.1"), &err);
	ck_assert_int_eq(audit_rows(), 1);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "event = 'fetch' AND outcome = 'refused' AND "
			      "rate_key = 'fetch:127.0.0.1' AND "
			      "error = 'invalid_client' AND status = 400",
			      NULL),
		1);
	ck_assert(check_sql_text(db, "SELECT client_id FROM audit_log", NULL,
				 text, sizeof(text)));
	ck_assert_str_eq(text, doc_at("127.0.0.1"));
	ck_assert(check_sql_text(db, "SELECT address FROM audit_log", NULL,
				 text, sizeof(text)));
	ck_assert_str_eq(text, "192.0.2.7");
}
END_TEST

START_TEST(test_fetch_refusal_stores_no_client)
{
	struct mcpauth_err err;

	use_store("fetch_timeout = 2\n");
	fetch_fails(doc_at("127.0.0.1"), &err);
	ck_assert_int_eq(check_sql_int(db, "SELECT count(*) FROM clients",
				       NULL),
			 0);
}
END_TEST

/*
 * With 127.0.0.1 allowed the first two fetches reach the listener (and fail
 * on TLS); the third is refused before any connection.
 */
START_TEST(test_fetch_limit_refuses_third_without_connecting)
{
	struct mcpauth_err err;
	const char *url = doc_at("127.0.0.1");

	use_store("fetch_timeout = 2\nfetch_allow = 127.0.0.1\n"
		  "metadata_document_fetch_limit = 2\n");
	ck_assert_int_eq(fetch_connections(url, &err), 1);
	ck_assert_int_eq(err.status, 400);
	ck_assert_int_eq(fetch_connections(url, &err), 1);
	ck_assert_int_eq(err.status, 400);
	fetch_fails(url, &err);
	ck_assert_int_eq(err.status, 429);
	ck_assert_str_eq(err.code, "temporarily_unavailable");
	ck_assert_int_eq(check_pending(lfd), 0);
}
END_TEST

START_TEST(test_fetch_limit_counts_each_host_apart)
{
	struct mcpauth_err err;

	use_store("fetch_timeout = 2\nmetadata_document_fetch_limit = 2\n");
	fetch_fails(doc_at("127.0.0.1"), &err);
	fetch_fails(doc_at("127.0.0.1"), &err);
	fetch_fails(doc_at("localhost"), &err);
	ck_assert_msg(err.status == 400, "%d %s", err.status, err.description);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "rate_key = 'fetch:localhost'",
			      NULL),
		1);
	fetch_fails(doc_at("127.0.0.1"), &err);
	ck_assert_int_eq(err.status, 429);
	ck_assert_int_eq(check_pending(lfd), 0);
}
END_TEST

/* The limit counts hosts, not spellings: a final dot, an IPv4-mapped address. */
START_TEST(test_fetch_limit_counts_spellings_as_one_host)
{
	struct mcpauth_err err;

	use_store("fetch_timeout = 2\nmetadata_document_fetch_limit = 2\n");
	fetch_fails(doc_at("127.0.0.1"), &err);
	fetch_fails(doc_at("[::ffff:127.0.0.1]"), &err);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM audit_log WHERE "
			      "rate_key = 'fetch:127.0.0.1'",
			      NULL),
		2);
	fetch_fails(doc_at("[::ffff:7f00:1]"), &err);
	ck_assert_int_eq(err.status, 429);
	fetch_fails(doc_at("localhost"), &err);
	fetch_fails(doc_at("localhost."), &err);
	fetch_fails(doc_at("LOCALHOST"), &err);
	ck_assert_int_eq(err.status, 429);
}
END_TEST

/* --- mcpauth_client_cache_until ----------------------------------------- */

START_TEST(test_cache_until_no_cache_is_now)
{
	ck_assert_int_eq(mcpauth_client_cache_until(0, NOW), NOW);
}
END_TEST

START_TEST(test_cache_until_no_header_is_an_hour)
{
	ck_assert_int_eq(mcpauth_client_cache_until(-1, NOW), NOW + 3600);
}
END_TEST

START_TEST(test_cache_until_short_max_age_raised_to_300)
{
	ck_assert_int_eq(mcpauth_client_cache_until(10, NOW), NOW + 300);
}
END_TEST

START_TEST(test_cache_until_max_age_in_range_kept)
{
	ck_assert_int_eq(mcpauth_client_cache_until(1200, NOW), NOW + 1200);
}
END_TEST

START_TEST(test_cache_until_long_max_age_capped_at_a_day)
{
	ck_assert_int_eq(mcpauth_client_cache_until(999999, NOW), NOW + 86400);
}
END_TEST

/* --- mcpauth_conf_host_listed: metadata_document_trusted_hosts ---------- */

static void trusted_setup(void)
{
	conf_setup();
	use_conf("metadata_document_trusted_hosts = example.com .corp.example "
		 "*.other.example\n");
}

static bool trusted(const char *host)
{
	return mcpauth_conf_host_listed(conf->metadata_document_trusted_hosts,
					conf->nmetadata_document_trusted_hosts,
					host);
}

START_TEST(test_trusted_exact_name)
{
	ck_assert(trusted("example.com"));
}
END_TEST

START_TEST(test_trusted_any_case_and_final_dot)
{
	ck_assert(trusted("EXAMPLE.COM."));
	ck_assert(trusted("A.Corp.Example."));
}
END_TEST

START_TEST(test_trusted_name_entry_excludes_subdomains)
{
	ck_assert(!trusted("www.example.com"));
}
END_TEST

START_TEST(test_trusted_dot_entry_is_subdomains_only)
{
	ck_assert(trusted("a.corp.example"));
	ck_assert(!trusted("corp.example"));
}
END_TEST

START_TEST(test_trusted_suffix_must_be_whole_labels)
{
	ck_assert(!trusted("x.corp.example.evil"));
	ck_assert(!trusted("evilcorp.example"));
}
END_TEST

START_TEST(test_trusted_star_entry_is_subdomains_only)
{
	ck_assert(trusted("b.other.example"));
	ck_assert(!trusted("other.example"));
}
END_TEST

START_TEST(test_trusted_bad_entry_refused_by_conf)
{
	struct mcpauth_err err;
	struct mcpauth_conf *c =
		load("metadata_document_trusted_hosts = example.com "
		     "bad_host!\n",
		     &err);

	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err.description,
			     "metadata_document_trusted_hosts") != NULL,
		      "%s", err.description);
	ck_assert_msg(strstr(err.description, "'bad_host!'") != NULL, "%s",
		      err.description);
}
END_TEST

Suite *check_cimd_suite(void)
{
	Suite *s = suite_create("cimd");
	TCase *tc = tcase_create("url");

	tcase_add_test(tc, test_id_https_url_is_a_document);
	tcase_add_test(tc, test_id_other_values_are_not_documents);
	tcase_add_test(tc, test_url_plain_accepted);
	tcase_add_test(tc, test_url_with_port_accepted);
	tcase_add_test(tc, test_url_with_query_accepted);
	tcase_add_test(tc, test_url_host_lower_cased);
	tcase_add_test(tc, test_url_the_host_may_be_omitted);
	tcase_add_test(tc, test_url_http_refused);
	tcase_add_test(tc, test_url_upper_case_scheme_refused);
	tcase_add_test(tc, test_url_fragment_refused);
	tcase_add_test(tc, test_url_user_and_password_refused);
	tcase_add_test(tc, test_url_user_alone_refused);
	tcase_add_test(tc, test_url_at_sign_in_path_accepted);
	tcase_add_test(tc, test_url_without_path_refused);
	tcase_add_test(tc, test_url_dot_segments_refused);
	tcase_add_test(tc, test_url_dots_within_a_segment_accepted);
	tcase_add_test(tc, test_url_space_control_non_ascii_refused);
	tcase_add_test(tc, test_url_of_2000_characters_accepted);
	tcase_add_test(tc, test_url_longer_than_2000_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("document");
	tcase_add_checked_fixture(tc, doc_setup, conf_teardown);
	tcase_add_test(tc, test_doc_valid_public_client);
	tcase_add_test(tc, test_doc_application_type_inferred_native);
	tcase_add_test(tc, test_doc_client_id_mismatch_refused);
	tcase_add_test(tc, test_doc_client_id_compared_exactly);
	tcase_add_test(tc, test_doc_client_id_missing_refused);
	tcase_add_test(tc, test_doc_client_name_missing_refused);
	tcase_add_test(tc, test_doc_redirect_uris_missing_refused);
	tcase_add_test(tc, test_doc_client_secret_refused);
	tcase_add_test(tc, test_doc_client_secret_expires_at_refused);
	tcase_add_test(tc, test_doc_client_secret_basic_refused);
	tcase_add_test(tc, test_doc_client_secret_post_refused);
	tcase_add_test(tc, test_doc_private_key_jwt_refused_when_switched_off);
	tcase_add_test(tc, test_doc_client_credentials_refused);
	tcase_add_test(tc, test_doc_not_json_refused);
	tcase_add_test(tc, test_doc_json_array_refused);
	tcase_add_test(tc, test_doc_javascript_redirect_uri_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("document_private_key_jwt");
	tcase_add_checked_fixture(tc, doc_pkjwt_setup, conf_teardown);
	tcase_add_test(tc, test_doc_private_key_jwt_without_keys_refused);
	tcase_add_test(tc, test_doc_private_key_jwt_http_jwks_uri_refused);
	tcase_add_test(tc,
		       test_doc_private_key_jwt_both_jwks_uri_and_jwks_refused);
	tcase_add_test(tc, test_doc_private_key_jwt_private_jwks_refused);
	tcase_add_test(tc, test_doc_private_key_jwt_jwks_uri_accepted);
	tcase_add_test(tc,
		       test_doc_private_key_jwt_signing_alg_defaults_to_es256);
	tcase_add_test(tc, test_doc_private_key_jwt_signing_alg_stored);
	tcase_add_test(tc, test_doc_private_key_jwt_inline_jwks_stored);
	suite_add_tcase(s, tc);

	tc = tcase_create("fetch");
	tcase_add_unchecked_fixture(tc, curl_up, curl_down);
	tcase_add_checked_fixture(tc, fetch_setup, fetch_teardown);
	tcase_add_test(tc, test_fetch_bad_url_refused_without_audit);
	tcase_add_test(tc, test_fetch_loopback_refused_without_connecting);
	tcase_add_test(tc, test_fetch_refusal_audited_once);
	tcase_add_test(tc, test_fetch_refusal_stores_no_client);
	tcase_add_test(tc, test_fetch_limit_refuses_third_without_connecting);
	tcase_add_test(tc, test_fetch_limit_counts_each_host_apart);
	tcase_add_test(tc, test_fetch_limit_counts_spellings_as_one_host);
	/* Fetches under valgrind; the fetch_timeout bound is 2 s each. */
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache_until");
	tcase_add_test(tc, test_cache_until_no_cache_is_now);
	tcase_add_test(tc, test_cache_until_no_header_is_an_hour);
	tcase_add_test(tc, test_cache_until_short_max_age_raised_to_300);
	tcase_add_test(tc, test_cache_until_max_age_in_range_kept);
	tcase_add_test(tc, test_cache_until_long_max_age_capped_at_a_day);
	suite_add_tcase(s, tc);

	tc = tcase_create("trusted_hosts");
	tcase_add_checked_fixture(tc, trusted_setup, conf_teardown);
	tcase_add_test(tc, test_trusted_exact_name);
	tcase_add_test(tc, test_trusted_any_case_and_final_dot);
	tcase_add_test(tc, test_trusted_name_entry_excludes_subdomains);
	tcase_add_test(tc, test_trusted_dot_entry_is_subdomains_only);
	tcase_add_test(tc, test_trusted_suffix_must_be_whole_labels);
	tcase_add_test(tc, test_trusted_star_entry_is_subdomains_only);
	tcase_add_test(tc, test_trusted_bad_entry_refused_by_conf);
	suite_add_tcase(s, tc);
	return s;
}

/* check_tokens.c: RFC 9068 access tokens: header, claims, the jti record, verification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "b64.h"
#include "check_mcpauth.h"
#include "crypto.h"
#include "fcgi.h"
#include "jose.h"
#include "keys.h"
#include "store.h"
#include "tokens.h"

static char dir[4096], db[4200];
static struct mcpauth_ctx ctx;
static long long user_id;

#define ISSUER CHECK_ISSUER
#define RESOURCE CHECK_FILES
#define CLIENT "client-1"
#define SUBJECT "subj-3f1b0c"

static void setup(void)
{
	struct mcpauth_err err = { 0 };
	char *uris[] = { "http://127.0.0.1:6276/cb" };
	struct mcpauth_client c = {
		.client_id = CLIENT,
		.source = "operator",
		.auth_method = "none",
		.application_type = "native",
		.redirect_uris = uris,
		.nredirect_uris = 1,
		.grant_types = "authorization_code refresh_token",
		.scope = "files:read files:write",
		.metadata = "{}",
		.created_at = (long long)time(NULL),
		.updated_at = (long long)time(NULL),
	};

	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	check_ctx_open(&ctx, "token", dir,
		       check_conf_text("[resource]\n"
				       "url = " RESOURCE "\n"
				       "scopes = files:read files:write\n",
				       "access_token_lifetime = 15m"));
	snprintf(db, sizeof(db), "%s", ctx.conf->database);
	check_client_add(ctx.store, &c);
	/* The hash is never checked here: any PHC string will do. */
	ck_assert_msg(mcpauth_store_user_add(ctx.store, "alice", SUBJECT,
					     "$argon2id$v=19$m=19456,t=2,p=1$"
					     "c2FsdHNhbHRzYWx0$"
					     "aGFzaGhhc2hoYXNoaGFzaA",
					     (long long)time(NULL), &user_id,
					     &err),
		      "%s", err.description);
}

static void teardown(void)
{
	mcpauth_ctx_close(&ctx);
	check_tmpdir_remove(dir);
}

/* Part i (0 header, 1 claims) of a compact JWS, decoded and parsed. */
static struct json_object *part(const char *jwt, int i)
{
	const char *p = jwt;
	unsigned char *raw = NULL;
	size_t len, rawlen = 0;
	struct json_object *o;

	for (int k = 0; k < i; k++) {
		p = strchr(p, '.');
		ck_assert_ptr_nonnull(p);
		p++;
	}
	len = strcspn(p, ".");
	ck_assert(mcpauth_b64url_decode(p, len, &raw, &rawlen));
	o = json_tokener_parse((char *)raw);
	ck_assert_msg(o != NULL, "not JSON: %s", raw);
	free(raw);
	return o;
}

static char *issue(const struct mcpauth_token_claims *c, long long now)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_access row;
	char *jwt = NULL;

	ck_assert_msg(mcpauth_tokens_access(ctx.conf, ctx.keys, ctx.store, c,
					    now, &jwt, &row, &err) &&
			      mcpauth_store_access_add(ctx.store, &row, &err),
		      "%s (%s)", err.description, err.detail);
	return jwt;
}

static void active_kid(char *kid)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_signing_key k = { 0 };
	bool found = false;

	ck_assert(mcpauth_store_key_active(ctx.store, &k, &found, &err));
	ck_assert(found);
	snprintf(kid, 64, "%s", k.kid);
	free(k.public_jwk);
}

static bool verifies(const char *jwt)
{
	struct mcpauth_err err = { 0 };
	char *claims = NULL;
	bool ok = mcpauth_keys_verify(ctx.store, (long long)time(NULL), jwt,
				      &claims, &err);

	if (ok) {
		ck_assert_ptr_nonnull(claims);
		free(claims);
	} else {
		ck_assert_ptr_nonnull(err.code);
		ck_assert_ptr_null(claims);
	}
	return ok;
}

/* header.claims.signature from JSON texts and a signature part. */
static char *assemble(const char *header, const char *claims, const char *sig)
{
	char *h = mcpauth_b64url_encode((const unsigned char *)header,
					strlen(header));
	char *c = mcpauth_b64url_encode((const unsigned char *)claims,
					strlen(claims));
	size_t n = strlen(h) + strlen(c) + strlen(sig) + 3;
	char *jwt = malloc(n);

	snprintf(jwt, n, "%s.%s.%s", h, c, sig);
	free(h);
	free(c);
	return jwt;
}

START_TEST(test_access_token)
{
	struct mcpauth_token_claims c = {
		.client_id = CLIENT,
		.subject = SUBJECT,
		.user_id = user_id,
		.auth_time = 1700000000,
		.resource = RESOURCE,
		.scope = "files:read files:write",
		.family_id = "fam-1",
	};
	long long now = (long long)time(NULL);
	char kid[64], *jwt = issue(&c, now), *claims = NULL;
	struct json_object *h = part(jwt, 0), *o = part(jwt, 1), *v;
	struct mcpauth_err err = { 0 };
	const char *jti;
	size_t dots = 0;

	for (const char *p = jwt; *p; p++)
		dots += *p == '.';
	ck_assert_uint_eq(dots, 2);
	/* RFC 9068 §2.1: the header. */
	active_kid(kid);
	ck_assert_str_eq(check_str(h, "typ"), "at+jwt");
	ck_assert_str_eq(check_str(h, "alg"), "ES256");
	ck_assert_str_eq(check_str(h, "kid"), kid);
	ck_assert(!check_has(h, "jku"));
	ck_assert(!check_has(h, "jwk"));
	/* §2.2: the claims. */
	ck_assert_str_eq(check_str(o, "iss"), ISSUER);
	ck_assert_str_eq(check_str(o, "sub"), SUBJECT);
	ck_assert_str_eq(check_str(o, "aud"), RESOURCE);
	ck_assert_str_eq(check_str(o, "client_id"), CLIENT);
	ck_assert_str_eq(check_str(o, "scope"), "files:read files:write");
	ck_assert_int_eq(check_int(o, "iat"), now);
	ck_assert_int_eq(check_int(o, "exp"), now + 900);
	ck_assert_int_eq(check_int(o, "auth_time"), 1700000000);
	jti = check_str(o, "jti");
	ck_assert_ptr_nonnull(jti);
	ck_assert_uint_ge(strlen(jti), 16);
	ck_assert_str_eq(check_str(o, "principal_type"), "user");
	ck_assert_int_eq(json_object_object_length(o), 10);
	/* The signature verifies, and gives the same claims. */
	ck_assert_msg(mcpauth_keys_verify(ctx.store, now, jwt, &claims, &err),
		      "%s", err.description);
	v = json_tokener_parse(claims);
	ck_assert_str_eq(check_str(v, "jti"), jti);
	ck_assert_str_eq(check_str(v, "sub"), SUBJECT);
	json_object_put(v);
	free(claims);
	/* The jti is recorded with what the token says. */
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM access_tokens WHERE "
			      "jti = ?1 AND client_id = '" CLIENT "' AND "
			      "resource = '" RESOURCE "' AND scope = "
			      "'files:read files:write' AND family_id = "
			      "'fam-1' AND revoked_at IS NULL",
			      jti),
		1);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT user_id FROM access_tokens WHERE "
			      "jti = ?1",
			      jti),
		user_id);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT issued_at FROM access_tokens WHERE "
			      "jti = ?1",
			      jti),
		now);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT expires_at FROM access_tokens WHERE "
			      "jti = ?1",
			      jti),
		now + 900);
	json_object_put(h);
	json_object_put(o);
	free(jwt);
}
END_TEST

/* No sign-in: no auth_time; no subject: the client's own. */
START_TEST(test_access_token_machine)
{
	struct mcpauth_token_claims c = {
		.client_id = CLIENT,
		.resource = RESOURCE,
		.scope = "files:read",
	};
	char *jwt = issue(&c, (long long)time(NULL));
	struct json_object *o = part(jwt, 1);

	ck_assert(!check_has(o, "auth_time"));
	/* A namespace of its own: no user subject has a ':'. */
	ck_assert_str_eq(check_str(o, "sub"), "client:" CLIENT);
	ck_assert_str_eq(check_str(o, "principal_type"), "client");
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM access_tokens WHERE "
			      "jti = ?1 AND user_id IS NULL",
			      check_str(o, "jti")),
		1);
	ck_assert(verifies(jwt));
	json_object_put(o);
	free(jwt);
}
END_TEST

/* Every token has its own jti. */
START_TEST(test_access_token_unique)
{
	struct mcpauth_token_claims c = {
		.client_id = CLIENT, .subject = SUBJECT, .user_id = user_id,
		.auth_time = 1, .resource = RESOURCE, .scope = "files:read",
	};
	long long now = (long long)time(NULL);
	char *a = issue(&c, now), *b = issue(&c, now);
	struct json_object *oa = part(a, 1), *ob = part(b, 1);

	ck_assert_str_ne(check_str(oa, "jti"), check_str(ob, "jti"));
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM access_tokens", NULL),
		2);
	json_object_put(oa);
	json_object_put(ob);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_verify_tampered)
{
	struct mcpauth_token_claims c = {
		.client_id = CLIENT, .subject = SUBJECT, .user_id = user_id,
		.auth_time = 1, .resource = RESOURCE, .scope = "files:read",
	};
	char *jwt = issue(&c, (long long)time(NULL)), *forged, *hdr, *claims;
	struct json_object *h = part(jwt, 0), *o = part(jwt, 1);
	const char *sig = strrchr(jwt, '.') + 1;
	size_t n = strlen(jwt);

	ck_assert(verifies(jwt));
	/* One signature character changed. */
	forged = strdup(jwt);
	forged[n - 5] = forged[n - 5] == 'A' ? 'B' : 'A';
	ck_assert(!verifies(forged));
	free(forged);
	/* Signature cut, or gone. */
	forged = strndup(jwt, n - 4);
	ck_assert(!verifies(forged));
	free(forged);
	forged = strndup(jwt, (size_t)(sig - jwt));
	ck_assert(!verifies(forged));
	free(forged);
	/* Wider scope, original signature. */
	json_object_object_add(o, "scope",
			       json_object_new_string("files:read files:write"));
	hdr = strdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN));
	claims = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	forged = assemble(hdr, claims, sig);
	ck_assert(!verifies(forged));
	free(forged);
	/* alg none with the real kid. */
	json_object_object_add(h, "alg", json_object_new_string("none"));
	free(hdr);
	hdr = strdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN));
	forged = assemble(hdr, claims, "");
	ck_assert(!verifies(forged));
	free(forged);
	/* HS256 with the real kid, keyed with nothing we hold. */
	json_object_object_add(h, "alg", json_object_new_string("HS256"));
	free(hdr);
	hdr = strdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN));
	forged = assemble(hdr, claims, sig);
	ck_assert(!verifies(forged));
	free(forged);
	/* Not a JWT at all. */
	ck_assert(!verifies("garbage"));
	ck_assert(!verifies("a.b.c"));
	ck_assert(!verifies(""));
	ck_assert(!verifies("..."));
	free(hdr);
	free(claims);
	json_object_put(h);
	json_object_put(o);
	free(jwt);
}
END_TEST

/* The key is the one we published under that kid, never the header's. */
START_TEST(test_verify_unknown_kid)
{
	struct mcpauth_token_claims c = {
		.client_id = CLIENT, .subject = SUBJECT, .user_id = user_id,
		.auth_time = 1, .resource = RESOURCE, .scope = "files:read",
	};
	struct mcpauth_err err = { 0 };
	struct mcpauth_jose_signer *signer = NULL;
	char *jwt = issue(&c, (long long)time(NULL)), *forged, *hdr, *priv = NULL,
	     *pub = NULL, *claims = NULL, *claims_out = NULL, kid[64];
	struct json_object *h = part(jwt, 0), *o = part(jwt, 1);
	const char *sig = strrchr(jwt, '.') + 1;

	/* The real signature under a kid we never published. */
	json_object_object_add(h, "kid", json_object_new_string("nope"));
	hdr = strdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN));
	claims = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	forged = assemble(hdr, claims, sig);
	ck_assert(!verifies(forged));
	ck_assert(!mcpauth_keys_verify(ctx.store, (long long)time(NULL), forged,
				       &claims_out, &err));
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_token");
	ck_assert_ptr_null(claims_out);
	memset(&err, 0, sizeof(err));
	free(forged);
	free(hdr);
	/* No kid at all. */
	json_object_object_del(h, "kid");
	hdr = strdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN));
	forged = assemble(hdr, claims, sig);
	ck_assert(!verifies(forged));
	free(forged);
	free(hdr);
	/* An attacker's own key, embedded or not, under our active kid. */
	active_kid(kid);
	ck_assert(mcpauth_jose_generate("ES256", kid, &priv, &pub, &err));
	ck_assert(mcpauth_jose_signer_new("ES256", kid, priv, &signer, &err));
	ck_assert(mcpauth_jose_sign(signer, "at+jwt", claims, &forged, &err));
	ck_assert(!verifies(forged));
	free(forged);
	mcpauth_jose_signer_free(signer);
	mcpauth_crypto_free_secret(priv);
	free(pub);
	free(claims);
	json_object_put(h);
	json_object_put(o);
	free(jwt);
}
END_TEST

/* A token signed before a rotation verifies while its key is published. */
START_TEST(test_verify_after_rotation)
{
	struct mcpauth_token_claims c = {
		.client_id = CLIENT, .subject = SUBJECT, .user_id = user_id,
		.auth_time = 1, .resource = RESOURCE, .scope = "files:read",
	};
	struct mcpauth_err err = { 0 };
	char kid[64], retired[64], old[64], *a = issue(&c, (long long)time(NULL)),
					    *b;
	struct json_object *h;

	active_kid(old);
	ck_assert_msg(mcpauth_keys_rotate(ctx.conf, ctx.store, NULL, kid,
					  retired, NULL, &err),
		      "%s", err.description);
	ck_assert_str_eq(retired, old);
	ck_assert(verifies(a));
	b = issue(&c, (long long)time(NULL));
	h = part(b, 0);
	ck_assert_str_eq(check_str(h, "kid"), kid);
	ck_assert_str_ne(kid, old);
	ck_assert(verifies(b));
	json_object_put(h);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_random)
{
	struct mcpauth_err err = { 0 };
	char *v1 = NULL, *h1 = NULL, *v2 = NULL, *h2 = NULL, *want;

	ck_assert(mcpauth_tokens_random(&v1, &h1, &err));
	ck_assert(mcpauth_tokens_random(&v2, &h2, &err));
	ck_assert_uint_eq(strlen(v1), 43);
	ck_assert_uint_eq(strspn(v1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
				     "mnopqrstuvwxyz0123456789-_"),
			  43);
	ck_assert_str_ne(v1, v2);
	want = mcpauth_crypto_sha256_b64url(v1);
	ck_assert_str_eq(h1, want);
	ck_assert_str_ne(h1, v1);
	free(want);
	mcpauth_crypto_free_secret(v1);
	mcpauth_crypto_free_secret(v2);
	free(h1);
	free(h2);
}
END_TEST

Suite *check_tokens_suite(void)
{
	Suite *s = suite_create("tokens");
	TCase *tc = tcase_create("tokens");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_access_token);
	tcase_add_test(tc, test_access_token_machine);
	tcase_add_test(tc, test_access_token_unique);
	tcase_add_test(tc, test_verify_tampered);
	tcase_add_test(tc, test_verify_unknown_kid);
	tcase_add_test(tc, test_verify_after_rotation);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	return s;
}

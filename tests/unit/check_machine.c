/* check_machine.c: client_credentials and private_key_jwt at token_handle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "b64.h"
#include "check_mcpauth.h"
#include "client.h"
#include "crypto.h"
#include "handlers.h"
#include "jose.h"
#include "json.h"
#include "store.h"

static char dir[4096], db[4200];
static struct mcpauth_ctx ctx;
/* The machine client's key pair (ES256) and another one. */
static char *priv, *pub, *other_priv, *other_pub;

#define TOKEN "/t1/token"
#define FORM "application/x-www-form-urlencoded"
#define MAIL "https://mail.example.com/mcp"
#define BOT "ci-bot"
#define BOT_SECRET "bot-secret-0123456789abcdefghijklmnopqrstuvwx"
#define KEYBOT "key-bot"
#define CC "grant_type=client_credentials"
#define ATYPE                                                               \
	"&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-"     \
	"assertion-type%3Ajwt-bearer&client_assertion="

static void add(const char *id, const char *method, const char *secret,
		const char *jwks, const char *resources, const char *grants)
{
	char *uris[] = { "https://bot.example.com/cb" };
	long long now = (long long)time(NULL);
	char *hash = secret ? mcpauth_crypto_sha256_b64url(secret) : NULL;
	struct mcpauth_client c = {
		.client_id = (char *)id,
		.source = "operator",
		.auth_method = (char *)method,
		.application_type = "web",
		.redirect_uris = uris,
		.nredirect_uris = 1,
		.grant_types = (char *)grants,
		.scope = "files:read files:write mail:read",
		.metadata = "{}",
		.secret_hash = hash,
		.allowed_resources = (char *)resources,
		.jwks = (char *)jwks,
		.signing_alg = jwks ? "ES256" : NULL,
		.created_at = now,
		.updated_at = now,
	};

	check_client_add(ctx.store, &c);
	free(hash);
}

static void open_ctx(const char *extra)
{
	struct mcpauth_err err = { 0 };
	char jwks[2048];

	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	check_ctx_open(&ctx, "token", dir,
		       check_conf_text(CHECK_FILES_SECTION "[resource]\n"
						       "url = " MAIL "\n"
						       "scopes = mail:read\n",
				       "default_resource = " CHECK_FILES "\n%s",
				       extra));
	snprintf(db, sizeof(db), "%s", ctx.conf->database);
	if (priv == NULL) {
		ck_assert(mcpauth_jose_generate("ES256", "k1", &priv, &pub,
						&err));
		ck_assert(mcpauth_jose_generate("ES256", "k1", &other_priv,
						&other_pub, &err));
	}
	snprintf(jwks, sizeof(jwks), "{\"keys\":[%s]}", pub);
	add(BOT, "client_secret_basic", BOT_SECRET, NULL, CHECK_FILES,
	    "client_credentials");
	add(KEYBOT, "private_key_jwt", NULL, jwks, NULL,
	    "client_credentials authorization_code");
	add("code-only", "client_secret_basic", BOT_SECRET, NULL, NULL,
	    "authorization_code");
	add("public-cc", "none", NULL, NULL, NULL, "client_credentials");
}

static void setup(void)
{
	open_ctx("client_credentials = yes\nprivate_key_jwt = yes");
}

static void teardown(void)
{
	mcpauth_ctx_close(&ctx);
	check_tmpdir_remove(dir);
}

static struct mcpauth_resp *post(const char *body, const char *authorization)
{
	struct mcpauth_req req = { 0 };
	struct mcpauth_resp *resp = mcpauth_resp_new();

	req.method = "POST";
	req.path = TOKEN;
	req.query = "";
	req.content_type = FORM;
	req.body = (char *)body;
	req.body_len = strlen(body);
	req.authorization = (char *)authorization;
	mcpauth_dispatch(&ctx, token_handle, &req, resp);
	return resp;
}

/* "Basic base64(id:secret)", padded standard base64 (static storage). */
static const char *basic(const char *id, const char *secret)
{
	static char out[512];
	char pair[256], *b;
	size_t n;

	snprintf(pair, sizeof(pair), "%s:%s", id, secret);
	b = mcpauth_b64url_encode((const unsigned char *)pair, strlen(pair));
	for (char *p = b; *p; p++)
		*p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
	n = strlen(b);
	snprintf(out, sizeof(out), "Basic %s%s", b,
		 n % 4 == 2 ? "==" : n % 4 == 3 ? "=" : "");
	free(b);
	return out;
}

/* An OAuth error, with WWW-Authenticate on a 401; frees resp. */
static void refused(struct mcpauth_resp *resp, int status, const char *code)
{
	check_oauth_error(resp, status, code);
	if (status == 401)
		ck_assert_str_eq(check_header(resp, "WWW-Authenticate"),
				 "Basic realm=\"mcpauth\"");
	mcpauth_resp_free(resp);
}

/* An assertion signed with key (private JWK) over claims (a JSON text). */
static char *assertion(const char *key, const char *claims)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_jose_signer *s = NULL;
	char *jwt = NULL;

	ck_assert_msg(mcpauth_jose_signer_new("ES256", "k1", key, &s, &err),
		      "%s", err.detail);
	ck_assert(mcpauth_jose_sign(s, "JWT", claims, &jwt, &err));
	mcpauth_jose_signer_free(s);
	return jwt;
}

/* Claims for KEYBOT: exp in seconds from now, aud, jti (NULL: none). */
static char *claims(const char *iss, const char *sub, const char *aud,
		    long exp_in, const char *jti)
{
	static char out[1024];
	long long now = (long long)time(NULL);
	int n = snprintf(out, sizeof(out),
			 "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\"", iss,
			 sub, aud);

	if (exp_in != 0)
		n += snprintf(out + n, sizeof(out) - n, ",\"exp\":%lld",
			      now + exp_in);
	if (jti != NULL)
		n += snprintf(out + n, sizeof(out) - n, ",\"jti\":\"%s\"",
			      jti);
	snprintf(out + n, sizeof(out) - n, "}");
	return out;
}

static const char *with_assertion(const char *jwt)
{
	static char out[4096];

	snprintf(out, sizeof(out), "%s%s", CC ATYPE, jwt);
	return out;
}

/* A 200 machine token: its claims (caller frees). */
static struct json_object *machine_token(struct mcpauth_resp *resp,
					 const char *client_id)
{
	struct json_object *o = check_body(resp), *c;
	const char *at = check_str(o, "access_token");
	const char *dot1, *dot2;
	unsigned char *raw = NULL;
	size_t len = 0;
	char sub[256];

	ck_assert_msg(resp->status == 200, "%d: %s", resp->status, resp->body);
	ck_assert(!check_has(o, "refresh_token"));
	ck_assert_ptr_nonnull(at);
	dot1 = strchr(at, '.');
	dot2 = strchr(dot1 + 1, '.');
	ck_assert(mcpauth_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1),
					&raw, &len));
	c = json_tokener_parse((char *)raw);
	free(raw);
	snprintf(sub, sizeof(sub), "client:%s", client_id);
	ck_assert_str_eq(check_str(c, "sub"), sub);
	ck_assert_str_eq(check_str(c, "principal_type"), "client");
	ck_assert_str_eq(check_str(c, "client_id"), client_id);
	ck_assert(!check_has(c, "auth_time"));
	json_object_put(o);
	mcpauth_resp_free(resp);
	return c;
}

START_TEST(test_secret_client)
{
	struct json_object *c =
		machine_token(post(CC, basic(BOT, BOT_SECRET)), BOT);

	/* Its one allowed resource, and the scopes it has there. */
	ck_assert_str_eq(check_str(c, "aud"), CHECK_FILES);
	ck_assert_str_eq(check_str(c, "scope"), "files:read files:write");
	json_object_put(c);
	c = machine_token(post(CC "&scope=files%3Aread",
			       basic(BOT, BOT_SECRET)),
			  BOT);
	ck_assert_str_eq(check_str(c, "scope"), "files:read");
	json_object_put(c);
}
END_TEST

START_TEST(test_refusals)
{
	refused(post(CC, basic(BOT, "wrong")), 401, "invalid_client");
	refused(post(CC "&resource=" "https%3A%2F%2Fmail.example."
				  "com%2Fmcp",
			       basic(BOT, BOT_SECRET)),
			  400, "invalid_target");
	refused(post(CC "&scope=mail%3Aread", basic(BOT, BOT_SECRET)),
			  400, "invalid_scope");
	refused(post(CC, basic("code-only", BOT_SECRET)), 400,
			  "unauthorized_client");
	refused(post(CC "&client_id=public-cc", NULL), 400,
			  "unauthorized_client");
}
END_TEST

START_TEST(test_switched_off)
{
	teardown();
	open_ctx("");
	refused(post(CC, basic(BOT, BOT_SECRET)), 400,
			  "unsupported_grant_type");
}
END_TEST

START_TEST(test_disabled_and_rotated)
{
	struct mcpauth_err err = { 0 };
	char *hash = mcpauth_crypto_sha256_b64url("new-secret-0123456789");
	long long now = (long long)time(NULL);
	bool found = false;
	struct json_object *c;

	ck_assert(mcpauth_store_client_set_secret(ctx.store, BOT, hash, 0,
						  now + 60, &found, &err));
	ck_assert(found);
	c = machine_token(post(CC, basic(BOT, BOT_SECRET)), BOT);
	json_object_put(c);
	c = machine_token(post(CC, basic(BOT, "new-secret-0123456789")), BOT);
	json_object_put(c);
	/* The overlap ends. */
	check_sql_exec(db, "UPDATE clients SET previous_secret_until = 1",
		       NULL);
	refused(post(CC, basic(BOT, BOT_SECRET)), 401,
			  "invalid_client");
	ck_assert(mcpauth_store_client_set_disabled(ctx.store, BOT, now,
						    &found, &err));
	refused(post(CC, basic(BOT, "new-secret-0123456789")), 401,
			  "invalid_client");
	ck_assert(mcpauth_store_client_set_disabled(ctx.store, BOT, 0, &found,
						    &err));
	c = machine_token(post(CC, basic(BOT, "new-secret-0123456789")), BOT);
	json_object_put(c);
	free(hash);
}
END_TEST

START_TEST(test_assertion_ok)
{
	char *jwt;
	struct json_object *c;

	/* aud the issuer, then the token endpoint; no client_id sent. */
	jwt = assertion(priv, claims(KEYBOT, KEYBOT, CHECK_ISSUER, 60, "j1"));
	c = machine_token(post(with_assertion(jwt), NULL), KEYBOT);
	ck_assert_str_eq(check_str(c, "aud"), CHECK_FILES);
	json_object_put(c);
	free(jwt);
	jwt = assertion(priv, claims(KEYBOT, KEYBOT, CHECK_ISSUER "/token", 60,
				     "j2"));
	c = machine_token(post(with_assertion(jwt), NULL), KEYBOT);
	json_object_put(c);
	/* The same jti again: refused. */
	refused(post(with_assertion(jwt), NULL), 401,
			  "invalid_client");
	free(jwt);
}
END_TEST

START_TEST(test_assertion_refused)
{
	static const struct {
		const char *iss, *sub, *aud;
		long exp_in;
		const char *jti;
		bool other_key;
	} bad[] = {
		{ KEYBOT, KEYBOT, CHECK_ISSUER, 60, "b1", true }, /* key */
		{ KEYBOT, KEYBOT, CHECK_ISSUER, -10, "b2", false }, /* exp */
		{ KEYBOT, KEYBOT, CHECK_ISSUER, 3600, "b3", false }, /* far */
		{ KEYBOT, KEYBOT, CHECK_ISSUER, 0, "b4", false }, /* no exp */
		{ KEYBOT, KEYBOT, "https://evil.example", 60, "b5", false },
		{ KEYBOT, BOT, CHECK_ISSUER, 60, "b6", false }, /* iss != sub */
		{ KEYBOT, KEYBOT, CHECK_ISSUER, 60, NULL, false }, /* no jti */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *jwt = assertion(bad[i].other_key ? other_priv : priv,
				      claims(bad[i].iss, bad[i].sub,
					     bad[i].aud, bad[i].exp_in,
					     bad[i].jti));
		refused(post(with_assertion(jwt), NULL), 401,
				  "invalid_client");
		free(jwt);
	}
}
END_TEST

/* alg none and HS256 (the public key's bytes as an HMAC secret). */
START_TEST(test_assertion_alg_none_hmac)
{
	char payload[512], jwt[2048], *h, *p, sig[64];
	unsigned char mac[MCPAUTH_SHA256_LEN];
	char *m;

	snprintf(payload, sizeof(payload),
		 "{\"iss\":\"" KEYBOT "\",\"sub\":\"" KEYBOT
		 "\",\"aud\":\"" CHECK_ISSUER "\",\"exp\":%lld,"
		 "\"jti\":\"n1\"}",
		 (long long)time(NULL) + 60);
	p = mcpauth_b64url_encode((unsigned char *)payload, strlen(payload));
	h = mcpauth_b64url_encode((unsigned char *)"{\"alg\":\"none\"}", 14);
	snprintf(jwt, sizeof(jwt), "%s.%s.", h, p);
	refused(post(with_assertion(jwt), NULL), 401,
			  "invalid_client");
	free(h);
	h = mcpauth_b64url_encode(
		(unsigned char *)"{\"alg\":\"HS256\",\"typ\":\"JWT\"}", 27);
	snprintf(jwt, sizeof(jwt), "%s.%s", h, p);
	mcpauth_crypto_hmac_sha256(pub, strlen(pub), jwt, strlen(jwt), mac);
	m = mcpauth_b64url_encode(mac, sizeof(mac));
	snprintf(sig, sizeof(sig), "%s", m);
	snprintf(jwt + strlen(jwt), sizeof(jwt) - strlen(jwt), ".%s", sig);
	refused(post(with_assertion(jwt), NULL), 401,
			  "invalid_client");
	free(m);
	free(h);
	free(p);
}
END_TEST

/* A client assertion with a secret too is two methods (RFC 6749 §2.3). */
START_TEST(test_assertion_and_secret)
{
	char *jwt = assertion(priv, claims(KEYBOT, KEYBOT, CHECK_ISSUER, 60,
					   "t1"));

	refused(post(with_assertion(jwt), basic(BOT, BOT_SECRET)),
			  400, "invalid_request");
	free(jwt);
}
END_TEST

/*
 * private_key_jwt is a client authentication like any: a confidential
 * code-flow client redeems its code with an assertion (RFC 7523 §2.2).
 */
START_TEST(test_assertion_for_code)
{
	struct mcpauth_err err = { 0 };
	long long now = (long long)time(NULL), uid = 0;
	/* RFC 7636 Appendix B */
	struct mcpauth_code code = {
		.client_id = KEYBOT,
		.redirect_uri = "https://bot.example.com/cb",
		.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		.resource = CHECK_FILES,
		.scope = "files:read",
		.auth_time = now,
		.created_at = now,
		.expires_at = now + 60,
	};
	char *hash = mcpauth_crypto_sha256_b64url("the-code");
	char *jwt = assertion(priv, claims(KEYBOT, KEYBOT, CHECK_ISSUER, 60,
					   "c1"));
	char body[4096];
	struct mcpauth_resp *resp;
	struct json_object *o;

	ck_assert(mcpauth_store_user_add(ctx.store, "alice", "subj-alice",
					 "$argon2id$v=19$m=19456,t=2,p=1$"
					 "c2FsdHNhbHRzYWx0$"
					 "aGFzaGhhc2hoYXNoaGFzaA",
					 now, &uid, &err));
	code.user_id = uid;
	ck_assert(mcpauth_store_code_add(ctx.store, hash, &code, &err));
	snprintf(body, sizeof(body),
		 "grant_type=authorization_code&code=the-code&code_verifier="
		 "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk&redirect_uri="
		 "https%%3A%%2F%%2Fbot.example.com%%2Fcb%s%s",
		 ATYPE, jwt);
	resp = post(body, NULL);
	ck_assert_msg(resp->status == 200, "%d: %s", resp->status, resp->body);
	o = check_body(resp);
	ck_assert_str_eq(check_str(o, "scope"), "files:read");
	json_object_put(o);
	mcpauth_resp_free(resp);
	free(hash);
	free(jwt);
}
END_TEST

static void free_keys(void)
{
	mcpauth_crypto_free_secret(priv);
	mcpauth_crypto_free_secret(other_priv);
	free(pub);
	free(other_pub);
	priv = other_priv = pub = other_pub = NULL;
}

Suite *check_machine_suite(void)
{
	Suite *s = suite_create("machine");
	TCase *tc = tcase_create("client_credentials");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_unchecked_fixture(tc, NULL, free_keys);
	tcase_add_test(tc, test_secret_client);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_switched_off);
	tcase_add_test(tc, test_disabled_and_rotated);
	tcase_add_test(tc, test_assertion_ok);
	tcase_add_test(tc, test_assertion_refused);
	tcase_add_test(tc, test_assertion_alg_none_hmac);
	tcase_add_test(tc, test_assertion_and_secret);
	tcase_add_test(tc, test_assertion_for_code);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * check_token.c: token_handle called directly: the authorization_code and
 * refresh_token grants, client authentication, revocation (RFC 7009) and
 * introspection (RFC 7662).
 */
#include <ctype.h>
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
#include "keys.h"
#include "store.h"
#include "tokens.h"

static char dir[4096], db[4200];
static struct mcpauth_ctx ctx;
static long long alice;

#define ISSUER CHECK_ISSUER
#define TOKEN "/t1/token"
#define REVOKE "/t1/revoke"
#define INTROSPECT "/t1/introspect"
#define FORM "application/x-www-form-urlencoded"
#define FILES CHECK_FILES
#define MAIL "https://mail.example.com/mcp"
#define SUBJECT "subj-alice-5d2e"

/* RFC 7636 Appendix B. */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

/* Public native clients with the refresh_token grant. */
#define PUB "pub-1"
#define PUB2 "pub-2"
#define CB "http://127.0.0.1:6276/cb"
#define CB_ENC "http%3A%2F%2F127.0.0.1%3A6276%2Fcb"
/* A public web client with authorization_code only. */
#define NOREF "noref-1"
#define NOREF_CB "https://app.example.com/cb"
#define NOREF_CB_ENC "https%3A%2F%2Fapp.example.com%2Fcb"
/* Confidential clients: Basic, and client_secret_post. */
#define CONF "conf-1"
#define CONF_SECRET "s3cr3t-conf-1-0123456789abcdefghijklmnopq"
#define CONF2 "conf-2"
#define CONF2_SECRET "s3cr3t-conf-2-0123456789abcdefghijklmnopq"
#define CONF_CB "https://rs.example.com/cb"
#define CONF_CB_ENC "https%3A%2F%2Frs.example.com%2Fcb"

static void add_client(const char *id, const char *type, const char *method,
		       const char *secret, const char *uri, const char *grants,
		       const char *scope)
{
	char *uris[] = { (char *)uri };
	long long now = (long long)time(NULL);
	char *hash = secret != NULL ? mcpauth_crypto_sha256_b64url(secret)
				    : NULL;
	struct mcpauth_client c = {
		.client_id = (char *)id,
		.source = "operator",
		.auth_method = (char *)method,
		.application_type = (char *)type,
		.redirect_uris = uris,
		.nredirect_uris = 1,
		.grant_types = (char *)grants,
		.scope = (char *)scope,
		.metadata = "{}",
		.secret_hash = hash,
		.created_at = now,
		.updated_at = now,
	};

	check_client_add(ctx.store, &c);
	free(hash);
}

static void open_ctx(const char *extra)
{
	struct mcpauth_err err = { 0 };

	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	/* conf-1 is the files resource's server: it may introspect. */
	check_ctx_open(&ctx, "token", dir,
		       check_conf_text(CHECK_FILES_SECTION
				       "introspection_clients = " CONF "\n"
				       "[resource]\n"
				       "url = " MAIL "\n"
				       "scopes = mail:read\n",
				       "default_resource = " FILES "\n%s",
				       extra));
	snprintf(db, sizeof(db), "%s", ctx.conf->database);
	add_client(PUB, "native", "none", NULL, CB,
		   "authorization_code refresh_token",
		   "files:read files:write offline_access mail:read");
	add_client(PUB2, "native", "none", NULL, CB,
		   "authorization_code refresh_token",
		   "files:read files:write offline_access");
	add_client(NOREF, "web", "none", NULL, NOREF_CB, "authorization_code",
		   "files:read files:write");
	add_client(CONF, "web", "client_secret_basic", CONF_SECRET, CONF_CB,
		   "authorization_code refresh_token", "files:read files:write");
	add_client(CONF2, "web", "client_secret_post", CONF2_SECRET, CONF_CB,
		   "authorization_code", "files:read");
	/* No sign-in here: any PHC string will do. */
	ck_assert(mcpauth_store_user_add(ctx.store, "alice", SUBJECT,
					 "$argon2id$v=19$m=19456,t=2,p=1$"
					 "c2FsdHNhbHRzYWx0$"
					 "aGFzaGhhc2hoYXNoaGFzaA",
					 (long long)time(NULL), &alice, &err));
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

static void reopen(const char *extra)
{
	teardown();
	open_ctx(extra);
}

/* --- the database ------------------------------------------------------------ */

/* sql with ?1 bound to the hash of the token value. */
static long long sql_int_hash(const char *sql, const char *value)
{
	char *h = mcpauth_crypto_sha256_b64url(value);
	long long v = check_sql_int(db, sql, h);

	free(h);
	return v;
}

static void sql_exec_hash(const char *sql, const char *value)
{
	char *h = mcpauth_crypto_sha256_b64url(value);

	check_sql_exec(db, sql, h);
	free(h);
}

static long long live_refresh(void)
{
	return check_sql_int(db,
			     "SELECT count(*) FROM refresh_tokens WHERE "
			     "revoked_at IS NULL",
			     NULL);
}

static long long live_access(void)
{
	return check_sql_int(db,
			     "SELECT count(*) FROM access_tokens WHERE "
			     "revoked_at IS NULL",
			     NULL);
}

/* --- requests ----------------------------------------------------------------- */

static struct mcpauth_resp *run(const char *method, const char *path,
				const char *content_type, const char *body,
				const char *authorization)
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
	req.remote_addr = "192.0.2.1";
	mcpauth_dispatch(&ctx, token_handle, &req, resp);
	return resp;
}

static struct mcpauth_resp *post(const char *path, const char *body,
				 const char *authorization)
{
	return run("POST", path, FORM, body, authorization);
}

/* "Basic base64(id:secret)" (static storage). */
static const char *basic(const char *id, const char *secret)
{
	static char out[512];
	char pair[256], *b;
	size_t n;

	snprintf(pair, sizeof(pair), "%s:%s", id, secret);
	/* Padded standard base64 from base64url. */
	b = mcpauth_b64url_encode((const unsigned char *)pair, strlen(pair));
	for (char *p = b; *p; p++)
		*p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
	n = strlen(b);
	snprintf(out, sizeof(out), "Basic %s%s", b,
		 n % 4 == 2 ? "==" : n % 4 == 3 ? "=" : "");
	free(b);
	return out;
}

static const char *conf_basic(void)
{
	return basic(CONF, CONF_SECRET);
}

/* An OAuth error JSON with the headers every refusal carries; frees resp. */
static void expect_error(struct mcpauth_resp *resp, int status,
			 const char *code)
{
	check_oauth_error(resp, status, code);
	/* RFC 6749 §5.2: 401 invalid_client names the scheme. */
	if (status == 401)
		ck_assert_str_eq(check_header(resp, "WWW-Authenticate"),
				 "Basic realm=\"mcpauth\"");
	else
		ck_assert_ptr_null(check_header(resp, "WWW-Authenticate"));
	mcpauth_resp_free(resp);
}

/* What a successful grant returned. */
struct grant {
	char access[4096];
	char refresh[128]; /* "" for none */
	char scope[256];
};

/* RFC 6749 §5.1: a 200 token response into g; frees resp. */
static void expect_grant(struct mcpauth_resp *resp, struct grant *g)
{
	struct json_object *o;
	const char *at;
	size_t dots = 0;

	if (resp->status != 200) {
		char msg[512];
		snprintf(msg, sizeof(msg), "status %d: %.400s", resp->status,
			 resp->body != NULL ? resp->body : "");
		mcpauth_resp_free(resp);
		ck_abort_msg("%s", msg);
	}
	o = check_body(resp);
	ck_assert_str_eq(resp->content_type, "application/json");
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	ck_assert_str_eq(check_header(resp, "Pragma"), "no-cache");
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Origin"), "*");
	ck_assert_str_eq(check_str(o, "token_type"), "Bearer");
	ck_assert_int_eq(check_int(o, "expires_in"), 3600);
	at = check_str(o, "access_token");
	ck_assert_ptr_nonnull(at);
	for (const char *p = at; *p; p++)
		dots += *p == '.';
	ck_assert_uint_eq(dots, 2);
	ck_assert_uint_lt(strlen(at), sizeof(g->access));
	snprintf(g->access, sizeof(g->access), "%s", at);
	ck_assert_ptr_nonnull(check_str(o, "scope"));
	snprintf(g->scope, sizeof(g->scope), "%s", check_str(o, "scope"));
	g->refresh[0] = '\0';
	if (check_has(o, "refresh_token")) {
		ck_assert_uint_eq(strlen(check_str(o, "refresh_token")), 43);
		snprintf(g->refresh, sizeof(g->refresh), "%s",
			 check_str(o, "refresh_token"));
	}
	ck_assert_int_eq(json_object_object_length(o),
			 g->refresh[0] != '\0' ? 5 : 4);
	json_object_put(o);
	mcpauth_resp_free(resp);
}

/* The verified claims of an access token we issued (a new reference). */
static struct json_object *claims(const char *jwt)
{
	struct mcpauth_err err = { 0 };
	struct json_object *o;
	char *json = NULL;

	ck_assert_msg(mcpauth_keys_verify(ctx.store, (long long)time(NULL), jwt,
					  &json, &err),
		      "%s", err.description);
	o = json_tokener_parse(json);
	ck_assert_ptr_nonnull(o);
	free(json);
	return o;
}

/* The jti of an access token (into out, 64 bytes). */
static void jti_of(const char *jwt, char *out)
{
	struct json_object *o = claims(jwt);

	snprintf(out, 64, "%s", check_str(o, "jti"));
	json_object_put(o);
}

/* A code as the authorization endpoint stores it (out: 64 bytes). */
static void make_code_for(const char *client, const char *redirect_uri,
			  const char *resource, const char *scope, char *out)
{
	struct mcpauth_err err = { 0 };
	long long now = (long long)time(NULL);
	struct mcpauth_code c = {
		.client_id = (char *)client,
		.user_id = alice,
		.redirect_uri = (char *)redirect_uri,
		.code_challenge = CHALLENGE,
		.resource = (char *)resource,
		.scope = (char *)scope,
		.auth_time = now - 30,
		.created_at = now,
		.expires_at = now + 60,
	};
	char *value = NULL, *hash = NULL;

	ck_assert(mcpauth_tokens_random(&value, &hash, &err));
	ck_assert_msg(mcpauth_store_code_add(ctx.store, hash, &c, &err), "%s",
		      err.description);
	snprintf(out, 64, "%s", value);
	mcpauth_crypto_free_secret(value);
	free(hash);
}

static void make_code(char *out)
{
	make_code_for(PUB, CB, FILES, "files:read files:write offline_access",
		      out);
}

/* tpl with "{code}" replaced by code (static storage). */
static const char *with_code(const char *tpl, const char *code)
{
	static char q[2048];
	const char *at = strstr(tpl, "{code}");

	ck_assert_ptr_nonnull(at);
	snprintf(q, sizeof(q), "%.*s%s%s", (int)(at - tpl), tpl, code,
		 at + strlen("{code}"));
	return q;
}

/* The form that redeems code for the public client PUB (static storage). */
static const char *redeem_body(const char *code)
{
	static char q[1024];

	snprintf(q, sizeof(q),
		 "grant_type=authorization_code&code=%s&code_verifier=%s"
		 "&redirect_uri=%s&client_id=%s",
		 code, VERIFIER, CB_ENC, PUB);
	return q;
}

static const char *refresh_body(const char *client, const char *token,
				 const char *extra)
{
	static char q[8192];

	snprintf(q, sizeof(q),
		 "grant_type=refresh_token&refresh_token=%s&client_id=%s%s",
		 token, client, extra);
	return q;
}

/* A code redeemed by PUB: its tokens into g. */
static void redeemed(struct grant *g)
{
	char code[64];

	make_code(code);
	expect_grant(post(TOKEN, redeem_body(code), NULL), g);
}

/* ===== authorization_code ===================================================== */

START_TEST(test_code_grant)
{
	struct grant g;
	struct json_object *o;
	char code[64], jti[64];
	long long now = (long long)time(NULL);

	make_code(code);
	expect_grant(post(TOKEN, redeem_body(code), NULL), &g);
	ck_assert_str_eq(g.scope, "files:read files:write offline_access");
	ck_assert_uint_eq(strlen(g.refresh), 43);
	/* RFC 9068 claims, for alice's subject, at the resource. */
	o = claims(g.access);
	ck_assert_str_eq(check_str(o, "iss"), ISSUER);
	ck_assert_str_eq(check_str(o, "sub"), SUBJECT);
	ck_assert_str_eq(check_str(o, "aud"), FILES);
	ck_assert_str_eq(check_str(o, "client_id"), PUB);
	ck_assert_str_eq(check_str(o, "scope"),
			 "files:read files:write offline_access");
	ck_assert_int_ge(check_int(o, "exp"), now + 3600);
	ck_assert_int_le(check_int(o, "auth_time"), now - 30 + 2);
	json_object_put(o);
	/* The code is spent; the family recorded; hashes only. */
	ck_assert_int_eq(sql_int_hash("SELECT count(*) FROM "
				      "authorization_codes WHERE code_hash = "
				      "?1 AND consumed_at IS NOT NULL AND "
				      "family_id IS NOT NULL",
				      code),
			 1);
	ck_assert_int_eq(sql_int_hash("SELECT count(*) FROM refresh_tokens r "
				      "JOIN authorization_codes c ON "
				      "c.family_id = r.family_id WHERE "
				      "r.token_hash = ?1 AND r.client_id = '"
				      PUB "' AND r.resource = '" FILES "'",
				      g.refresh),
			 1);
	jti_of(g.access, jti);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM access_tokens a JOIN "
			      "authorization_codes c ON c.family_id = "
			      "a.family_id WHERE a.jti = ?1",
			      jti),
		1);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT last_used_at IS NOT NULL FROM "
				       "clients WHERE client_id = '" PUB "'",
				       NULL),
			 1);
	/* No code or token in plaintext (the signature part stands for the JWT). */
	ck_assert(!check_db_contains(db, code));
	ck_assert(!check_db_contains(db, g.refresh));
	ck_assert(!check_db_contains(db, strrchr(g.access, '.') + 1));
}
END_TEST

/* The registration's grants decide whether a refresh token comes. */
START_TEST(test_code_grant_no_refresh)
{
	struct grant g;
	char code[64], q[1024];

	make_code_for(NOREF, NOREF_CB, FILES, "files:read", code);
	snprintf(q, sizeof(q),
		 "grant_type=authorization_code&code=%s&code_verifier=%s"
		 "&redirect_uri=%s&client_id=%s",
		 code, VERIFIER, NOREF_CB_ENC, NOREF);
	expect_grant(post(TOKEN, q, NULL), &g);
	ck_assert_str_eq(g.refresh, "");
	ck_assert_str_eq(g.scope, "files:read");
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM refresh_tokens", NULL),
		0);
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM access_tokens", NULL),
		1);
}
END_TEST

/* resource may be sent again, the same (RFC 8707 §2.2). */
START_TEST(test_code_grant_resource)
{
	struct grant g;
	char code[64], q[1200];

	make_code(code);
	snprintf(q, sizeof(q), "%s&resource=https%%3A%%2F%%2Fmcp.example.com%%2Fmcp",
		 redeem_body(code));
	expect_grant(post(TOKEN, q, NULL), &g);
}
END_TEST

START_TEST(test_code_invalid_request)
{
	static const char *const bad[] = {
		/* grant_type missing, empty */
		"code={code}&code_verifier=" VERIFIER "&redirect_uri=" CB_ENC
		"&client_id=" PUB,
		"grant_type=&code={code}&code_verifier=" VERIFIER
		"&redirect_uri=" CB_ENC "&client_id=" PUB,
		/* code missing: the code goes into a harmless parameter */
		"grant_type=authorization_code&x={code}&code_verifier=" VERIFIER
		"&redirect_uri=" CB_ENC "&client_id=" PUB,
		/* verifier missing, empty, short, long, out of alphabet */
		"grant_type=authorization_code&code={code}&redirect_uri=" CB_ENC
		"&client_id=" PUB,
		"grant_type=authorization_code&code={code}&code_verifier="
		"&redirect_uri=" CB_ENC "&client_id=" PUB,
		"grant_type=authorization_code&code={code}&code_verifier="
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX"
		"&redirect_uri=" CB_ENC "&client_id=" PUB,
		"grant_type=authorization_code&code={code}&code_verifier="
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"&redirect_uri=" CB_ENC "&client_id=" PUB,
		"grant_type=authorization_code&code={code}&code_verifier="
		"dBjftJeZ4CVP%2BmB92K27uhbUJU1p1r_wW1gFWFOEjXk"
		"&redirect_uri=" CB_ENC "&client_id=" PUB,
		"grant_type=authorization_code&code={code}&code_verifier="
		"dBjftJeZ4CVP+mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
		"&redirect_uri=" CB_ENC "&client_id=" PUB,
		/* a parameter repeated */
		"grant_type=authorization_code&code={code}&code_verifier=" VERIFIER
		"&redirect_uri=" CB_ENC "&client_id=" PUB "&code=x",
	};
	char code[64], q[1024];

	make_code(code);
	snprintf(q, sizeof(q), "%s", with_code(bad[_i], code));
	expect_error(post(TOKEN, q, NULL), 400, "invalid_request");
	/* Nothing was spent. */
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM authorization_codes "
			      "WHERE consumed_at IS NULL",
			      NULL),
		1);
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM access_tokens", NULL),
		0);
}
END_TEST

START_TEST(test_code_invalid_grant)
{
	static const char *const bad[] = {
		/* unknown code */
		"grant_type=authorization_code&code={code}x&code_verifier=" VERIFIER
		"&redirect_uri=" CB_ENC "&client_id=" PUB,
		/* another client's code */
		"grant_type=authorization_code&code={code}&code_verifier=" VERIFIER
		"&redirect_uri=" CB_ENC "&client_id=" PUB2,
		/*
		 * redirect_uri different, another port (missing is tested in
		 * test_code_redirect_uri_omitted_*)
		 */
		"grant_type=authorization_code&code={code}&code_verifier=" VERIFIER
		"&redirect_uri=http%3A%2F%2F127.0.0.1%3A6276%2Fcb%2F"
		"&client_id=" PUB,
		"grant_type=authorization_code&code={code}&code_verifier=" VERIFIER
		"&redirect_uri=http%3A%2F%2F127.0.0.1%3A6277%2Fcb"
		"&client_id=" PUB,
		/* a well-formed verifier that does not match */
		"grant_type=authorization_code&code={code}&code_verifier="
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"
		"&redirect_uri=" CB_ENC "&client_id=" PUB,
		/* the challenge sent as verifier (plain) */
		"grant_type=authorization_code&code={code}&code_verifier=" CHALLENGE
		"&redirect_uri=" CB_ENC "&client_id=" PUB,
	};
	char code[64], q[1024];

	make_code(code);
	snprintf(q, sizeof(q), "%s", with_code(bad[_i], code));
	expect_error(post(TOKEN, q, NULL), 400, "invalid_grant");
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM access_tokens", NULL),
		0);
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM refresh_tokens", NULL),
		0);
}
END_TEST

START_TEST(test_code_expired)
{
	char code[64];

	make_code(code);
	sql_exec_hash("UPDATE authorization_codes SET expires_at = "
		      "created_at - 1 WHERE code_hash = ?1",
		      code);
	expect_error(post(TOKEN, redeem_body(code), NULL), 400,
		     "invalid_grant");
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM access_tokens", NULL),
		0);
}
END_TEST

/* RFC 8707 §2.2: the resource authorized, or nothing. */
START_TEST(test_code_invalid_target)
{
	char code[64], q[1200];

	make_code(code);
	snprintf(q, sizeof(q), "%s&resource=https%%3A%%2F%%2Fmail.example.com%%2Fmcp",
		 redeem_body(code));
	expect_error(post(TOKEN, q, NULL), 400, "invalid_target");
	snprintf(q, sizeof(q), "%s&resource=https%%3A%%2F%%2Fevil.example%%2F",
		 redeem_body(code));
	expect_error(post(TOKEN, q, NULL), 400, "invalid_target");
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM access_tokens", NULL),
		0);
}
END_TEST

/* A disabled user's code gives nothing. */
START_TEST(test_code_disabled_user)
{
	char code[64];

	make_code(code);
	check_sql_exec(
		db, "UPDATE users SET disabled_at = 1 WHERE username = 'alice'",
		NULL);
	expect_error(post(TOKEN, redeem_body(code), NULL), 400,
		     "invalid_grant");
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM access_tokens", NULL),
		0);
}
END_TEST

/* SECURITY.md: replay revokes what the first redemption issued. */
START_TEST(test_code_replay)
{
	struct grant g, other;
	char code[64], jti[64];

	make_code(code);
	expect_grant(post(TOKEN, redeem_body(code), NULL), &g);
	/* An unrelated family, which must survive. */
	redeemed(&other);
	ck_assert_int_eq(live_refresh(), 2);
	ck_assert_int_eq(live_access(), 2);
	expect_error(post(TOKEN, redeem_body(code), NULL), 400,
		     "invalid_grant");
	/* The first redemption's refresh and access tokens are revoked. */
	ck_assert_int_eq(sql_int_hash("SELECT count(*) FROM refresh_tokens "
				      "WHERE token_hash = ?1 AND revoked_at "
				      "IS NOT NULL",
				      g.refresh),
			 1);
	jti_of(g.access, jti);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM access_tokens WHERE "
			      "jti = ?1 AND revoked_at IS NOT NULL",
			      jti),
		1);
	ck_assert_int_eq(live_refresh(), 1);
	ck_assert_int_eq(live_access(), 1);
	/* So its refresh token is refused. */
	expect_error(post(TOKEN, refresh_body(PUB, g.refresh, ""), NULL), 400,
		     "invalid_grant");
	/* Each further replay fails too. */
	expect_error(post(TOKEN, redeem_body(code), NULL), 400,
		     "invalid_grant");
	expect_grant(post(TOKEN, refresh_body(PUB, other.refresh, ""), NULL),
		     &other);
}
END_TEST

/* The replay revokes the family's later members too. */
START_TEST(test_code_replay_after_refresh)
{
	struct grant g;
	char code[64];

	make_code(code);
	expect_grant(post(TOKEN, redeem_body(code), NULL), &g);
	expect_grant(post(TOKEN, refresh_body(PUB, g.refresh, ""), NULL), &g);
	expect_error(post(TOKEN, redeem_body(code), NULL), 400,
		     "invalid_grant");
	ck_assert_int_eq(live_refresh(), 0);
	ck_assert_int_eq(live_access(), 0);
	expect_error(post(TOKEN, refresh_body(PUB, g.refresh, ""), NULL), 400,
		     "invalid_grant");
}
END_TEST

/*
 * RFC 6749 §4.1.3: redirect_uri is required at the token endpoint only "if
 * the redirect_uri parameter was included in the authorization request".
 * A request that left it out (one URI registered) may leave it out here.
 */
/*
 * Omitting redirect_uri is allowed only when the code's URI is the client's
 * one registered URI: with two, the authorization request must have named
 * one, and RFC 6749 §4.1.3 wants it back.
 */
START_TEST(test_code_redirect_uri_omitted_ambiguous)
{
	char *uris[] = { CB, "http://127.0.0.1:6276/other" };
	long long now = (long long)time(NULL);
	struct mcpauth_client c = {
		.client_id = "pub-two",
		.source = "operator",
		.auth_method = "none",
		.application_type = "native",
		.redirect_uris = uris,
		.nredirect_uris = 2,
		.grant_types = "authorization_code refresh_token",
		.scope = "files:read files:write offline_access",
		.metadata = "{}",
		.created_at = now,
		.updated_at = now,
	};
	char code[64], q[1024];

	check_client_add(ctx.store, &c);
	make_code_for("pub-two", CB, FILES, "files:read", code);
	snprintf(q, sizeof(q),
		 "grant_type=authorization_code&code=%s&code_verifier=" VERIFIER
		 "&client_id=pub-two",
		 code);
	expect_error(post(TOKEN, q, NULL), 400, "invalid_grant");
}
END_TEST

START_TEST(test_code_redirect_uri_omitted_both)
{
	struct mcpauth_req req = { 0 };
	struct mcpauth_resp *resp = mcpauth_resp_new();
	struct mcpauth_err err = { 0 };
	struct grant g;
	char *sid = NULL, *hash = NULL, cookie[256], code[128], q[1024];
	const char *loc, *p;
	long long now = (long long)time(NULL);
	bool found;

	/* Signed in, first party: authorize answers with the code at once. */
	reopen("www_dir = " MCPAUTH_TEST_SRCDIR "/www");
	ck_assert(mcpauth_store_client_set_first_party(ctx.store, PUB, true,
						       &found, &err));
	ck_assert(mcpauth_tokens_random(&sid, &hash, &err));
	ck_assert(mcpauth_store_session_add(ctx.store, hash, alice, now, now,
					    now + 600, &err));
	snprintf(cookie, sizeof(cookie), "__Host-mcpauth-session-7312ab2d=%s",
		 sid);
	req.method = "GET";
	req.path = "/t1/authorize";
	req.query = "response_type=code&client_id=" PUB
		    "&code_challenge=" CHALLENGE "&code_challenge_method=S256";
	req.cookie = cookie;
	req.body = "";
	mcpauth_dispatch(&ctx, authorize_handle, &req, resp);
	ck_assert_int_eq(resp->status, 303);
	loc = check_header(resp, "Location");
	p = strstr(loc, "code=");
	ck_assert_ptr_nonnull(p);
	snprintf(code, sizeof(code), "%.*s", (int)strcspn(p + 5, "&"), p + 5);
	mcpauth_resp_free(resp);
	mcpauth_crypto_free_secret(sid);
	free(hash);
	snprintf(q, sizeof(q),
		 "grant_type=authorization_code&code=%s&code_verifier=" VERIFIER
		 "&client_id=" PUB,
		 code);
	expect_grant(post(TOKEN, q, NULL), &g);
}
END_TEST

/* A code from the authorization endpoint, redeemed here. */
START_TEST(test_code_from_authorize)
{
	static const char *const uris[] = { CB_ENC,
					    "http%3A%2F%2F127.0.0.1%3A50000%2Fcb" };
	struct mcpauth_req req = { 0 };
	struct mcpauth_resp *resp = mcpauth_resp_new();
	struct mcpauth_err err = { 0 };
	struct grant g;
	char *sid = NULL, *hash = NULL, cookie[256], code[128], q[1024],
	     query[1024];
	const char *loc, *p;
	long long now = (long long)time(NULL);
	bool found;

	reopen("www_dir = " MCPAUTH_TEST_SRCDIR "/www");
	ck_assert(mcpauth_store_client_set_first_party(ctx.store, PUB, true,
						       &found, &err));
	ck_assert(mcpauth_tokens_random(&sid, &hash, &err));
	ck_assert(mcpauth_store_session_add(ctx.store, hash, alice, now, now,
					    now + 600, &err));
	snprintf(cookie, sizeof(cookie), "__Host-mcpauth-session-7312ab2d=%s",
		 sid);
	snprintf(query, sizeof(query),
		 "response_type=code&client_id=" PUB "&redirect_uri=%s"
		 "&code_challenge=" CHALLENGE "&code_challenge_method=S256"
		 "&state=abc&scope=files%%3Aread",
		 uris[_i]);
	req.method = "GET";
	req.path = "/t1/authorize";
	req.query = query;
	req.cookie = cookie;
	req.body = "";
	mcpauth_dispatch(&ctx, authorize_handle, &req, resp);
	ck_assert_int_eq(resp->status, 303);
	loc = check_header(resp, "Location");
	p = strstr(loc, "code=");
	ck_assert_ptr_nonnull(p);
	snprintf(code, sizeof(code), "%.*s", (int)strcspn(p + 5, "&"), p + 5);
	mcpauth_resp_free(resp);
	mcpauth_crypto_free_secret(sid);
	free(hash);
	/* Bound to the redirect URI the request used. */
	snprintf(q, sizeof(q),
		 "grant_type=authorization_code&code=%s&code_verifier=" VERIFIER
		 "&redirect_uri=%s&client_id=" PUB,
		 code, uris[1 - _i]);
	expect_error(post(TOKEN, q, NULL), 400, "invalid_grant");
	snprintf(q, sizeof(q),
		 "grant_type=authorization_code&code=%s&code_verifier=" VERIFIER
		 "&redirect_uri=%s&client_id=" PUB,
		 code, uris[_i]);
	expect_grant(post(TOKEN, q, NULL), &g);
	ck_assert_str_eq(g.scope, "files:read");
}
END_TEST

/* ===== grant types ============================================================== */

START_TEST(test_unsupported_grant_type)
{
	static const char *const grants[] = {
		"password",
		"implicit",
		"client_credentials",
		"urn:ietf:params:oauth:grant-type:device_code",
		"urn:ietf:params:oauth:grant-type:jwt-bearer",
		"Authorization_Code",
		"refresh_token ",
	};
	char q[512];

	snprintf(q, sizeof(q), "grant_type=%s&client_id=" PUB, grants[_i]);
	/* Spaces are '+' in a form. */
	for (char *p = q; *p; p++)
		if (*p == ' ')
			*p = '+';
	expect_error(post(TOKEN, q, NULL), 400, "unsupported_grant_type");
}
END_TEST

START_TEST(test_unauthorized_client)
{
	char q[512];

	snprintf(q, sizeof(q),
		 "grant_type=refresh_token&refresh_token=abc&client_id=" NOREF);
	expect_error(post(TOKEN, q, NULL), 400, "unauthorized_client");
}
END_TEST

/* ===== refresh_token =========================================================== */

START_TEST(test_refresh_rotation)
{
	struct grant g1, g2, g3;
	struct json_object *o;

	redeemed(&g1);
	expect_grant(post(TOKEN, refresh_body(PUB, g1.refresh, ""), NULL),
		     &g2);
	ck_assert_str_ne(g2.refresh, g1.refresh);
	ck_assert_str_ne(g2.access, g1.access);
	ck_assert_str_eq(g2.scope, "files:read files:write offline_access");
	o = claims(g2.access);
	ck_assert_str_eq(check_str(o, "sub"), SUBJECT);
	ck_assert_str_eq(check_str(o, "aud"), FILES);
	ck_assert_str_eq(check_str(o, "client_id"), PUB);
	json_object_put(o);
	expect_grant(post(TOKEN, refresh_body(PUB, g2.refresh, ""), NULL),
		     &g3);
	ck_assert_str_ne(g3.refresh, g2.refresh);
	/* One family, rotated members, hashes only. */
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(DISTINCT family_id) FROM "
				       "refresh_tokens",
				       NULL),
			 1);
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM refresh_tokens", NULL),
		3);
	ck_assert_int_eq(sql_int_hash("SELECT count(*) FROM refresh_tokens "
				      "WHERE token_hash = ?1 AND rotated_at "
				      "IS NOT NULL",
				      g1.refresh),
			 1);
	ck_assert_int_eq(sql_int_hash("SELECT count(*) FROM refresh_tokens "
				      "WHERE token_hash = ?1 AND rotated_at "
				      "IS NULL AND revoked_at IS NULL",
				      g3.refresh),
			 1);
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM access_tokens", NULL),
		3);
	ck_assert_int_eq(live_refresh(), 3);
}
END_TEST

/* Within refresh_grace: refused, nothing revoked. */
START_TEST(test_refresh_reuse_in_grace)
{
	struct grant g1, g2, g3;

	redeemed(&g1);
	expect_grant(post(TOKEN, refresh_body(PUB, g1.refresh, ""), NULL),
		     &g2);
	expect_error(post(TOKEN, refresh_body(PUB, g1.refresh, ""), NULL), 400,
		     "invalid_grant");
	ck_assert_int_eq(live_refresh(), 2);
	ck_assert_int_eq(live_access(), 2);
	/* The winner's token keeps working. */
	expect_grant(post(TOKEN, refresh_body(PUB, g2.refresh, ""), NULL),
		     &g3);
}
END_TEST

/* After refresh_grace: the whole family goes (RFC 9700 §4.14.2). */
START_TEST(test_refresh_reuse_after_grace)
{
	struct grant g1, g2, other;

	redeemed(&g1);
	redeemed(&other);
	expect_grant(post(TOKEN, refresh_body(PUB, g1.refresh, ""), NULL),
		     &g2);
	sql_exec_hash("UPDATE refresh_tokens SET rotated_at = rotated_at - 31 "
		      "WHERE token_hash = ?1",
		      g1.refresh);
	expect_error(post(TOKEN, refresh_body(PUB, g1.refresh, ""), NULL), 400,
		     "invalid_grant");
	/* Every refresh and access token of the family; not the other. */
	ck_assert_int_eq(sql_int_hash("SELECT count(*) FROM refresh_tokens "
				      "WHERE family_id = (SELECT family_id "
				      "FROM refresh_tokens WHERE token_hash = "
				      "?1) AND revoked_at IS NULL",
				      g1.refresh),
			 0);
	ck_assert_int_eq(sql_int_hash("SELECT count(*) FROM access_tokens "
				      "WHERE family_id = (SELECT family_id "
				      "FROM refresh_tokens WHERE token_hash = "
				      "?1) AND revoked_at IS NULL",
				      g1.refresh),
			 0);
	ck_assert_int_eq(sql_int_hash("SELECT count(*) FROM access_tokens "
				      "WHERE family_id = (SELECT family_id "
				      "FROM refresh_tokens WHERE token_hash = "
				      "?1) AND revoked_at IS NOT NULL",
				      g1.refresh),
			 2);
	ck_assert_int_eq(live_refresh(), 1);
	ck_assert_int_eq(live_access(), 1);
	expect_error(post(TOKEN, refresh_body(PUB, g2.refresh, ""), NULL), 400,
		     "invalid_grant");
	expect_grant(post(TOKEN, refresh_body(PUB, other.refresh, ""), NULL),
		     &other);
}
END_TEST

/* refresh_grace is a setting. */
START_TEST(test_refresh_grace_setting)
{
	struct grant g1, g2;

	reopen("refresh_grace = 120");
	redeemed(&g1);
	expect_grant(post(TOKEN, refresh_body(PUB, g1.refresh, ""), NULL),
		     &g2);
	sql_exec_hash("UPDATE refresh_tokens SET rotated_at = rotated_at - 60 "
		      "WHERE token_hash = ?1",
		      g1.refresh);
	expect_error(post(TOKEN, refresh_body(PUB, g1.refresh, ""), NULL), 400,
		     "invalid_grant");
	ck_assert_int_eq(live_refresh(), 2);
	sql_exec_hash("UPDATE refresh_tokens SET rotated_at = rotated_at - 61 "
		      "WHERE token_hash = ?1",
		      g1.refresh);
	expect_error(post(TOKEN, refresh_body(PUB, g1.refresh, ""), NULL), 400,
		     "invalid_grant");
	ck_assert_int_eq(live_refresh(), 0);
}
END_TEST

/* RFC 6749 §6: narrower is fine, wider is not. */
START_TEST(test_refresh_scope)
{
	struct grant g1, g2, g3;
	struct json_object *o;

	redeemed(&g1);
	expect_grant(post(TOKEN, refresh_body(PUB, g1.refresh,
					      "&scope=files%3Aread"),
			  NULL),
		     &g2);
	ck_assert_str_eq(g2.scope, "files:read");
	o = claims(g2.access);
	ck_assert_str_eq(check_str(o, "scope"), "files:read");
	json_object_put(o);
	/* The family keeps its scope: a later refresh may ask for all. */
	expect_grant(post(TOKEN, refresh_body(PUB, g2.refresh, ""), NULL),
		     &g3);
	ck_assert_str_eq(g3.scope, "files:read files:write offline_access");
	/* Wider, unknown, another resource's: refused, token unspent. */
	expect_error(post(TOKEN, refresh_body(PUB, g3.refresh,
					      "&scope=files%3Aread+mail%3Aread"),
			  NULL),
		     400, "invalid_scope");
	expect_error(post(TOKEN, refresh_body(PUB, g3.refresh,
					      "&scope=files%3Adelete"),
			  NULL),
		     400, "invalid_scope");
	expect_error(post(TOKEN, refresh_body(PUB, g3.refresh,
					      "&scope=files"),
			  NULL),
		     400, "invalid_scope");
	ck_assert_int_eq(sql_int_hash("SELECT rotated_at IS NULL FROM "
				      "refresh_tokens WHERE token_hash = ?1",
				      g3.refresh),
			 1);
	/* Repeated spaces and duplicates are the same narrower set. */
	expect_grant(post(TOKEN, refresh_body(PUB, g3.refresh,
					      "&scope=files%3Awrite++files%3Awrite"),
			  NULL),
		     &g1);
	ck_assert_str_eq(g1.scope, "files:write");
}
END_TEST

START_TEST(test_refresh_resource)
{
	struct grant g1, g2;

	redeemed(&g1);
	expect_error(post(TOKEN, refresh_body(PUB, g1.refresh,
					      "&resource=https%3A%2F%2F"
					      "mail.example.com%2Fmcp"),
			  NULL),
		     400, "invalid_target");
	expect_grant(post(TOKEN, refresh_body(PUB, g1.refresh,
					      "&resource=https%3A%2F%2F"
					      "mcp.example.com%2Fmcp"),
			  NULL),
		     &g2);
}
END_TEST

/* Another client's token: refused, and not revoked either. */
START_TEST(test_refresh_other_client)
{
	struct grant g1, g2;

	redeemed(&g1);
	expect_error(post(TOKEN, refresh_body(PUB2, g1.refresh, ""), NULL), 400,
		     "invalid_grant");
	ck_assert_int_eq(live_refresh(), 1);
	expect_grant(post(TOKEN, refresh_body(PUB, g1.refresh, ""), NULL),
		     &g2);
}
END_TEST

START_TEST(test_refresh_invalid)
{
	struct grant g1;
	char q[512];

	redeemed(&g1);
	/* Missing, empty, unknown. */
	expect_error(post(TOKEN, "grant_type=refresh_token&client_id=" PUB,
			  NULL),
		     400, "invalid_request");
	expect_error(post(TOKEN, refresh_body(PUB, "", ""), NULL), 400,
		     "invalid_request");
	snprintf(q, sizeof(q), "%sx", g1.refresh);
	expect_error(post(TOKEN, refresh_body(PUB, q, ""), NULL), 400,
		     "invalid_grant");
	/* An access token is no refresh token. */
	expect_error(post(TOKEN, refresh_body(PUB, g1.access, ""), NULL), 400,
		     "invalid_grant");
	/* Expired. */
	sql_exec_hash("UPDATE refresh_tokens SET expires_at = created_at - 1 "
		      "WHERE token_hash = ?1",
		      g1.refresh);
	expect_error(post(TOKEN, refresh_body(PUB, g1.refresh, ""), NULL), 400,
		     "invalid_grant");
}
END_TEST

START_TEST(test_refresh_disabled_user)
{
	struct mcpauth_err err = { 0 };
	struct grant g1, g2;
	bool found = false;

	redeemed(&g1);
	redeemed(&g2);
	/* Disabled behind the store's back: the grant still checks. */
	check_sql_exec(
		db, "UPDATE users SET disabled_at = 1 WHERE username = 'alice'",
		NULL);
	expect_error(post(TOKEN, refresh_body(PUB, g1.refresh, ""), NULL), 400,
		     "invalid_grant");
	ck_assert_int_eq(sql_int_hash("SELECT rotated_at IS NULL FROM "
				      "refresh_tokens WHERE token_hash = ?1",
				      g1.refresh),
			 1);
	/* Disabled as the admin does it: tokens revoked too. */
	check_sql_exec(db, "UPDATE users SET disabled_at = NULL", NULL);
	ck_assert(mcpauth_store_user_set_disabled(ctx.store, "alice",
						  (long long)time(NULL),
						  &found, &err));
	ck_assert(found);
	expect_error(post(TOKEN, refresh_body(PUB, g2.refresh, ""), NULL), 400,
		     "invalid_grant");
	ck_assert_int_eq(live_refresh(), 0);
}
END_TEST

/* ===== client authentication ===================================================== */

START_TEST(test_client_auth_failures)
{
	char code[64], q[1024];
	struct mcpauth_resp *resp;

	make_code_for(CONF, CONF_CB, FILES, "files:read", code);
	snprintf(q, sizeof(q),
		 "grant_type=authorization_code&code=%s&code_verifier=%s"
		 "&redirect_uri=%s",
		 code, VERIFIER, CONF_CB_ENC);
	/* No client at all. */
	expect_error(post(TOKEN, q, NULL), 401, "invalid_client");
	/* Confidential, without its secret. */
	{
		char q2[1200];
		snprintf(q2, sizeof(q2), "%s&client_id=" CONF, q);
		expect_error(post(TOKEN, q2, NULL), 401, "invalid_client");
		snprintf(q2, sizeof(q2), "%s&client_id=" CONF
			 "&client_secret=wrong", q);
		expect_error(post(TOKEN, q2, NULL), 401, "invalid_client");
		snprintf(q2, sizeof(q2), "%s&client_id=nobody", q);
		expect_error(post(TOKEN, q2, NULL), 401, "invalid_client");
	}
	/* Wrong secret, unknown client, by Basic. */
	expect_error(post(TOKEN, q, basic(CONF, "wrong")), 401,
		     "invalid_client");
	expect_error(post(TOKEN, q, basic(CONF, "")), 401, "invalid_client");
	expect_error(post(TOKEN, q, basic("nobody", CONF_SECRET)), 401,
		     "invalid_client");
	expect_error(post(TOKEN, q, basic(CONF2, CONF_SECRET)), 401,
		     "invalid_client");
	/* Malformed Basic headers: no crash, the same answer. */
	expect_error(post(TOKEN, q, "Basic"), 401, "invalid_client");
	expect_error(post(TOKEN, q, "Basic "), 401, "invalid_client");
	expect_error(post(TOKEN, q, "Basic !!!!"), 401, "invalid_client");
	expect_error(post(TOKEN, q, "Basic Y29uZi0x"), 401, "invalid_client");
	expect_error(post(TOKEN, q, "Basic OnNlY3JldA=="), 401,
		     "invalid_client");
	expect_error(post(TOKEN, q, "Basic Y29uZi0xAHg6eQ=="), 401,
		     "invalid_client");
	expect_error(post(TOKEN, q, "Bearer abc"), 401, "invalid_client");
	expect_error(post(TOKEN, q, "Digest username=\"conf-1\""), 401,
		     "invalid_client");
	/* A client assertion is not accepted (private_key_jwt is off). */
	{
		char q2[1200];
		snprintf(q2, sizeof(q2),
			 "%s&client_id=" CONF "&client_assertion_type=urn%%3A"
			 "ietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3A"
			 "jwt-bearer&client_assertion=a.b.c",
			 q);
		expect_error(post(TOKEN, q2, NULL), 401, "invalid_client");
	}
	/* Nothing was spent by any of these. */
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM access_tokens", NULL),
		0);
	/* The right secret. */
	resp = post(TOKEN, q, conf_basic());
	ck_assert_int_eq(resp->status, 200);
	mcpauth_resp_free(resp);
}
END_TEST

/* RFC 6749 §2.3: one method per request. */
START_TEST(test_client_auth_twice)
{
	char code[64], q[1200];

	make_code_for(CONF, CONF_CB, FILES, "files:read", code);
	snprintf(q, sizeof(q),
		 "grant_type=authorization_code&code=%s&code_verifier=%s"
		 "&redirect_uri=%s&client_secret=%s",
		 code, VERIFIER, CONF_CB_ENC, CONF_SECRET);
	expect_error(post(TOKEN, q, conf_basic()), 400, "invalid_request");
	snprintf(q, sizeof(q),
		 "grant_type=authorization_code&code=%s&code_verifier=%s"
		 "&redirect_uri=%s&client_id=%s",
		 code, VERIFIER, CONF_CB_ENC, PUB);
	expect_error(post(TOKEN, q, conf_basic()), 400, "invalid_request");
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM access_tokens", NULL),
		0);
}
END_TEST

START_TEST(test_client_auth_ok)
{
	struct grant g;
	char code[64], q[1200];

	/* Basic, with the client_id repeated in the body. */
	make_code_for(CONF, CONF_CB, FILES, "files:read", code);
	snprintf(q, sizeof(q),
		 "grant_type=authorization_code&code=%s&code_verifier=%s"
		 "&redirect_uri=%s&client_id=%s",
		 code, VERIFIER, CONF_CB_ENC, CONF);
	expect_grant(post(TOKEN, q, conf_basic()), &g);
	ck_assert_uint_eq(strlen(g.refresh), 43);
	/* client_secret_post. */
	make_code_for(CONF2, CONF_CB, FILES, "files:read", code);
	snprintf(q, sizeof(q),
		 "grant_type=authorization_code&code=%s&code_verifier=%s"
		 "&redirect_uri=%s&client_id=%s&client_secret=%s",
		 code, VERIFIER, CONF_CB_ENC, CONF2, CONF2_SECRET);
	expect_grant(post(TOKEN, q, NULL), &g);
	ck_assert_str_eq(g.refresh, "");
	/* A confidential client refreshes with its secret only. */
	expect_error(post(TOKEN, "grant_type=refresh_token&refresh_token=x"
				 "&client_id=" CONF,
			  NULL),
		     401, "invalid_client");
	/* A public client's unissued secret is ignored. */
	make_code(code);
	snprintf(q, sizeof(q), "%s&client_secret=whatever", redeem_body(code));
	expect_grant(post(TOKEN, q, NULL), &g);
	make_code(code);
	expect_grant(post(TOKEN, redeem_body(code), basic(PUB, "whatever")),
		     &g);
}
END_TEST

/* ===== the endpoint ================================================================== */

START_TEST(test_preflight)
{
	static const char *const paths[] = { TOKEN, REVOKE, INTROSPECT };
	struct mcpauth_resp *resp = run("OPTIONS", paths[_i], NULL, NULL, NULL);

	ck_assert_int_eq(resp->status, 204);
	ck_assert_uint_eq(resp->body_len, 0);
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Origin"), "*");
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Methods"),
			 "POST, OPTIONS");
	ck_assert_ptr_nonnull(strstr(check_header(resp,
						  "Access-Control-Allow-Headers"),
				     "Authorization"));
	ck_assert_ptr_nonnull(strstr(check_header(resp,
						  "Access-Control-Allow-Headers"),
				     "Content-Type"));
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_methods_and_paths)
{
	static const char *const methods[] = { "GET", "PUT", "DELETE", "HEAD",
					       "post" };
	struct mcpauth_resp *resp;
	char code[64];

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		resp = run(methods[i], TOKEN, FORM, "grant_type=x", NULL);
		ck_assert_str_eq(check_header(resp, "Allow"), "POST, OPTIONS");
		expect_error(resp, 405, "invalid_request");
	}
	resp = run("GET", REVOKE, NULL, NULL, NULL);
	expect_error(resp, 405, "invalid_request");
	expect_error(run("POST", "/token", FORM, "grant_type=x", NULL), 404,
		     "invalid_request");
	expect_error(run("POST", "/t1/token/", FORM, "grant_type=x", NULL), 404,
		     "invalid_request");
	expect_error(run("POST", "/t1/tokens", FORM, "grant_type=x", NULL), 404,
		     "invalid_request");
	/* Form bodies only. */
	make_code(code);
	expect_error(run("POST", TOKEN, "application/json", redeem_body(code),
			 NULL),
		     400, "invalid_request");
	expect_error(run("POST", TOKEN, NULL, redeem_body(code), NULL), 400,
		     "invalid_request");
	expect_grant(run("POST", TOKEN, FORM "; charset=UTF-8",
			 redeem_body(code), NULL),
		     &(struct grant){ 0 });
}
END_TEST

/* ===== revocation (RFC 7009) ========================================================== */

static struct mcpauth_resp *revoke(const char *client, const char *token)
{
	static char q[4300];

	snprintf(q, sizeof(q), "token=%s&client_id=%s", token, client);
	return post(REVOKE, q, NULL);
}

static void expect_revoked_ok(struct mcpauth_resp *resp)
{
	ck_assert_msg(resp->status == 200, "%d: %s", resp->status,
		      resp->body ? resp->body : "");
	ck_assert_uint_eq(resp->body_len, 0);
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Origin"), "*");
	mcpauth_resp_free(resp);
}

START_TEST(test_revoke_refresh)
{
	struct grant g, next, other;

	redeemed(&g);
	redeemed(&other);
	expect_grant(post(TOKEN, refresh_body(PUB, g.refresh, ""), NULL),
		     &next);
	/* RFC 7009 §2.1: the family, with its access tokens. */
	expect_revoked_ok(revoke(PUB, next.refresh));
	ck_assert_int_eq(live_refresh(), 1);
	ck_assert_int_eq(live_access(), 1);
	expect_error(post(TOKEN, refresh_body(PUB, next.refresh, ""), NULL),
		     400, "invalid_grant");
	/* Again: still 200. */
	expect_revoked_ok(revoke(PUB, next.refresh));
	expect_grant(post(TOKEN, refresh_body(PUB, other.refresh, ""), NULL),
		     &other);
}
END_TEST

/* Another client's token: 200, and nothing happens (RFC 7009 §2.1). */
START_TEST(test_revoke_other_client)
{
	struct grant g, next;

	redeemed(&g);
	expect_revoked_ok(revoke(PUB2, g.refresh));
	expect_revoked_ok(revoke(PUB2, g.access));
	ck_assert_int_eq(live_refresh(), 1);
	ck_assert_int_eq(live_access(), 1);
	expect_grant(post(TOKEN, refresh_body(PUB, g.refresh, ""), NULL),
		     &next);
}
END_TEST

START_TEST(test_revoke_access)
{
	struct grant g, next;
	char jti[64];

	redeemed(&g);
	jti_of(g.access, jti);
	expect_revoked_ok(revoke(PUB, g.access));
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM access_tokens WHERE "
			      "jti = ?1 AND revoked_at IS NOT NULL",
			      jti),
		1);
	/* Only that one: the refresh token still works. */
	ck_assert_int_eq(live_refresh(), 1);
	expect_grant(post(TOKEN, refresh_body(PUB, g.refresh, ""), NULL),
		     &next);
}
END_TEST

START_TEST(test_revoke_garbage)
{
	struct grant g;
	char forged[4200];

	redeemed(&g);
	expect_revoked_ok(revoke(PUB, "garbage"));
	expect_revoked_ok(revoke(PUB, "a.b.c"));
	expect_revoked_ok(revoke(PUB, "..."));
	/* A forged signature names a real jti: nothing. */
	snprintf(forged, sizeof(forged), "%s", g.access);
	forged[strlen(forged) - 3] = forged[strlen(forged) - 3] == 'A' ? 'B'
								       : 'A';
	expect_revoked_ok(revoke(PUB, forged));
	ck_assert_int_eq(live_refresh(), 1);
	ck_assert_int_eq(live_access(), 1);
	/* token_type_hint is only a hint (RFC 7009 §2.1). */
	{
		char q[4400];
		snprintf(q, sizeof(q), "token=%s&token_type_hint=access_token"
			 "&client_id=" PUB, g.refresh);
		expect_revoked_ok(post(REVOKE, q, NULL));
		ck_assert_int_eq(live_refresh(), 0);
	}
}
END_TEST

START_TEST(test_revoke_invalid)
{
	expect_error(post(REVOKE, "client_id=" PUB, NULL), 400,
		     "invalid_request");
	expect_error(post(REVOKE, "token=&client_id=" PUB, NULL), 400,
		     "invalid_request");
	/* The client authenticates as at the token endpoint. */
	expect_error(post(REVOKE, "token=abc", NULL), 401, "invalid_client");
	expect_error(post(REVOKE, "token=abc&client_id=" CONF, NULL), 401,
		     "invalid_client");
	expect_revoked_ok(post(REVOKE, "token=abc", conf_basic()));
}
END_TEST

/* ===== introspection (RFC 7662) ======================================================= */

static struct mcpauth_resp *introspect(const char *token)
{
	static char q[4300];

	snprintf(q, sizeof(q), "token=%s", token);
	return post(INTROSPECT, q, conf_basic());
}

/* Only {"active":false}, nothing else (RFC 7662 §2.2). */
static void expect_inactive(struct mcpauth_resp *resp)
{
	struct json_object *o;

	ck_assert_msg(resp->status == 200, "%d: %s", resp->status,
		      resp->body ? resp->body : "");
	o = check_body(resp);
	ck_assert_str_eq(resp->content_type, "application/json");
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	ck_assert_int_eq(json_object_object_length(o), 1);
	ck_assert(check_has(o, "active"));
	ck_assert_str_eq(check_str(o, "active"), "false");
	json_object_put(o);
	mcpauth_resp_free(resp);
}

START_TEST(test_introspect_access)
{
	struct grant g;
	struct json_object *o, *c;
	struct mcpauth_resp *resp;

	redeemed(&g);
	resp = introspect(g.access);
	ck_assert_msg(resp->status == 200, "%d: %s", resp->status, resp->body);
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	o = check_body(resp);
	c = claims(g.access);
	ck_assert_str_eq(check_str(o, "active"), "true");
	ck_assert_str_eq(check_str(o, "scope"),
			 "files:read files:write offline_access");
	ck_assert_str_eq(check_str(o, "client_id"), PUB);
	ck_assert_str_eq(check_str(o, "sub"), SUBJECT);
	ck_assert_str_eq(check_str(o, "aud"), FILES);
	ck_assert_str_eq(check_str(o, "iss"), ISSUER);
	ck_assert_str_eq(check_str(o, "token_type"), "Bearer");
	ck_assert_str_eq(check_str(o, "jti"), check_str(c, "jti"));
	ck_assert_int_eq(check_int(o, "exp"), check_int(c, "exp"));
	ck_assert_int_eq(check_int(o, "iat"), check_int(c, "iat"));
	/* The subject, never the username (RFC 7662 leaves it optional). */
	ck_assert(!check_has(o, "username"));
	json_object_put(c);
	json_object_put(o);
	mcpauth_resp_free(resp);
}
END_TEST

/*
 * A confidential client that is neither the token's client nor named in
 * introspection_clients of its resource learns nothing (RFC 7662 §4).
 */
START_TEST(test_introspect_not_for_others)
{
	struct grant g;
	char q[4300];

	redeemed(&g);
	snprintf(q, sizeof(q), "token=%s", g.access);
	expect_inactive(post(INTROSPECT, q, basic(CONF2, CONF2_SECRET)));
	snprintf(q, sizeof(q), "token=%s", g.refresh);
	expect_inactive(post(INTROSPECT, q, basic(CONF2, CONF2_SECRET)));
}
END_TEST

START_TEST(test_introspect_refresh)
{
	struct grant g, next;
	struct json_object *o;
	struct mcpauth_resp *resp;

	redeemed(&g);
	resp = introspect(g.refresh);
	ck_assert_int_eq(resp->status, 200);
	o = check_body(resp);
	ck_assert_str_eq(check_str(o, "active"), "true");
	ck_assert_str_eq(check_str(o, "token_type"), "refresh_token");
	ck_assert_str_eq(check_str(o, "client_id"), PUB);
	ck_assert_str_eq(check_str(o, "sub"), SUBJECT);
	ck_assert_str_eq(check_str(o, "scope"),
			 "files:read files:write offline_access");
	ck_assert_str_eq(check_str(o, "aud"), FILES);
	ck_assert(check_has(o, "exp"));
	ck_assert(!check_has(o, "jti"));
	json_object_put(o);
	mcpauth_resp_free(resp);
	/* Rotated: no longer active; its successor is. */
	expect_grant(post(TOKEN, refresh_body(PUB, g.refresh, ""), NULL),
		     &next);
	expect_inactive(introspect(g.refresh));
	resp = introspect(next.refresh);
	o = check_body(resp);
	ck_assert_str_eq(check_str(o, "active"), "true");
	json_object_put(o);
	mcpauth_resp_free(resp);
	/* Revoked. */
	expect_revoked_ok(revoke(PUB, next.refresh));
	expect_inactive(introspect(next.refresh));
	/* Expired. */
	redeemed(&g);
	sql_exec_hash("UPDATE refresh_tokens SET expires_at = created_at - 1 "
		      "WHERE token_hash = ?1",
		      g.refresh);
	expect_inactive(introspect(g.refresh));
}
END_TEST

START_TEST(test_introspect_inactive)
{
	struct grant g;
	char jti[64], forged[4200];

	redeemed(&g);
	/* Forged: one signature character changed. */
	snprintf(forged, sizeof(forged), "%s", g.access);
	forged[strlen(forged) - 3] = forged[strlen(forged) - 3] == 'A' ? 'B'
								       : 'A';
	expect_inactive(introspect(forged));
	/* Unknown. */
	expect_inactive(introspect("garbage"));
	expect_inactive(introspect("a.b.c"));
	/* Expired, by the record. */
	jti_of(g.access, jti);
	check_sql_exec(
		db,
		"UPDATE access_tokens SET expires_at = issued_at - 1 WHERE "
		"jti = ?1",
		jti);
	expect_inactive(introspect(g.access));
	/* Validly signed but never recorded. */
	check_sql_exec(db, "DELETE FROM access_tokens WHERE jti = ?1", jti);
	expect_inactive(introspect(g.access));
}
END_TEST

START_TEST(test_introspect_revoked)
{
	struct grant g;

	redeemed(&g);
	expect_revoked_ok(revoke(PUB, g.access));
	expect_inactive(introspect(g.access));
	/* The user disabled. */
	redeemed(&g);
	check_sql_exec(db, "UPDATE users SET disabled_at = 1", NULL);
	expect_inactive(introspect(g.access));
	expect_inactive(introspect(g.refresh));
}
END_TEST

/* For confidential clients only (RFC 7662 §2.1: the caller is authorized). */
START_TEST(test_introspect_client)
{
	struct grant g;
	char q[4300];

	redeemed(&g);
	snprintf(q, sizeof(q), "token=%s&client_id=" PUB, g.access);
	expect_error(post(INTROSPECT, q, NULL), 401, "invalid_client");
	snprintf(q, sizeof(q), "token=%s", g.access);
	expect_error(post(INTROSPECT, q, NULL), 401, "invalid_client");
	expect_error(post(INTROSPECT, q, basic(CONF, "wrong")), 401,
		     "invalid_client");
	expect_error(post(INTROSPECT, "token=", conf_basic()), 400,
		     "invalid_request");
	expect_error(post(INTROSPECT, "", conf_basic()), 400,
		     "invalid_request");
}
END_TEST

Suite *check_token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc;

	tc = tcase_create("code");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_code_grant);
	tcase_add_test(tc, test_code_grant_no_refresh);
	tcase_add_test(tc, test_code_grant_resource);
	tcase_add_loop_test(tc, test_code_invalid_request, 0, 10);
	tcase_add_loop_test(tc, test_code_invalid_grant, 0, 6);
	tcase_add_test(tc, test_code_expired);
	tcase_add_test(tc, test_code_invalid_target);
	tcase_add_test(tc, test_code_disabled_user);
	tcase_add_test(tc, test_code_replay);
	tcase_add_test(tc, test_code_replay_after_refresh);
	tcase_add_test(tc, test_code_redirect_uri_omitted_both);
	tcase_add_test(tc, test_code_redirect_uri_omitted_ambiguous);
	tcase_add_loop_test(tc, test_code_from_authorize, 0, 2);
	tcase_add_loop_test(tc, test_unsupported_grant_type, 0, 7);
	tcase_add_test(tc, test_unauthorized_client);
	suite_add_tcase(s, tc);

	tc = tcase_create("refresh");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_refresh_rotation);
	tcase_add_test(tc, test_refresh_reuse_in_grace);
	tcase_add_test(tc, test_refresh_reuse_after_grace);
	tcase_add_test(tc, test_refresh_grace_setting);
	tcase_add_test(tc, test_refresh_scope);
	tcase_add_test(tc, test_refresh_resource);
	tcase_add_test(tc, test_refresh_other_client);
	tcase_add_test(tc, test_refresh_invalid);
	tcase_add_test(tc, test_refresh_disabled_user);
	suite_add_tcase(s, tc);

	tc = tcase_create("client");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_client_auth_failures);
	tcase_add_test(tc, test_client_auth_twice);
	tcase_add_test(tc, test_client_auth_ok);
	tcase_add_loop_test(tc, test_preflight, 0, 3);
	tcase_add_test(tc, test_methods_and_paths);
	suite_add_tcase(s, tc);

	tc = tcase_create("revoke");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_revoke_refresh);
	tcase_add_test(tc, test_revoke_other_client);
	tcase_add_test(tc, test_revoke_access);
	tcase_add_test(tc, test_revoke_garbage);
	tcase_add_test(tc, test_revoke_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("introspect");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_introspect_access);
	tcase_add_test(tc, test_introspect_refresh);
	tcase_add_test(tc, test_introspect_not_for_others);
	tcase_add_test(tc, test_introspect_inactive);
	tcase_add_test(tc, test_introspect_revoked);
	tcase_add_test(tc, test_introspect_client);
	suite_add_tcase(s, tc);
	return s;
}

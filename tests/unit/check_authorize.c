/*
 * check_authorize.c: authorize_handle driven like the adapter, a browser's
 * cookies carried across requests: validation, sign-in, consent, prompt,
 * redirect URI matching, the pages' headers.
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_mcpauth.h"
#include "client.h"
#include "crypto.h"
#include "handlers.h"
#include "password.h"
#include "store.h"
#include "tokens.h"

static char dir[4096], db[4200];
static struct mcpauth_ctx ctx;
static long long alice, bob;
/* Hashed once per test case (argon2id is slow on purpose). */
static char *alice_hash, *bob_hash;

#define ISSUER CHECK_ISSUER
#define ORIGIN "https://auth.example.com"
#define AUTHZ "/t1/authorize"
#define FORM "application/x-www-form-urlencoded"
#define FILES CHECK_FILES
#define MAIL "https://mail.example.com/mcp"
#define CSP                                                                 \
	"default-src 'none'; style-src 'self'; img-src 'self'; "            \
	"frame-ancestors 'none'; base-uri 'none'"
/*
 * The cookie names end in the first 4 bytes of SHA-256(issuer) in hex, so
 * that issuers sharing a host keep separate sign-ins; 7312ab2d is that of
 * CHECK_ISSUER (test_cookie_names_per_issuer checks it).
 */
#define COOKIE_SUFFIX "7312ab2d"
#define FLOW_COOKIE "__Host-mcpauth-flow-" COOKIE_SUFFIX
#define SESSION_COOKIE "__Host-mcpauth-session-" COOKIE_SUFFIX
#define ALICE_PW "correct horse"
#define BOB_PW "battery staple"

/* RFC 7636 Appendix B. */
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

/* The clients, made by hand as an operator would. */
#define NATIVE "native-1"
#define NATIVE_CB "http://127.0.0.1:6276/cb"
#define NATIVE_NAME "<script>alert(1)</script> & \"Co\""
#define NATIVE_NAME_ESC                                                     \
	"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;"
#define WEB "web-1"
#define WEB_CB "https://app.example.com/cb"
#define WEB_CB2 "https://app.example.com:8443/cb2"
#define WEB_LO "web-loopback"
#define WEB_LO_CB "http://127.0.0.1:7000/cb"
#define NATIVE_HTTPS "native-https"
#define NATIVE_HTTPS_CB "https://native.example.com:8443/cb"
#define NATIVE_V6 "native-v6"
#define NATIVE_V6_CB "http://[::1]:6276/cb"
#define QUERY "web-query"
#define QUERY_CB "https://app.example.com/cb?tenant=1"
#define FIRST "first-party"
#define FIRST_CB "https://tool.example.com/cb"

static void add_client(const char *id, const char *type, const char *uri,
		       const char *uri2, const char *grants, const char *scope,
		       const char *name)
{
	char *uris[] = { (char *)uri, (char *)uri2 };
	long long now = (long long)time(NULL);
	struct mcpauth_client c = {
		.client_id = (char *)id,
		.source = "operator",
		.client_name = (char *)name,
		.auth_method = "none",
		.application_type = (char *)type,
		.redirect_uris = uris,
		.nredirect_uris = uri2 != NULL ? 2 : 1,
		.grant_types = (char *)grants,
		.scope = (char *)scope,
		.metadata = "{}",
		.created_at = now,
		.updated_at = now,
	};

	check_client_add(ctx.store, &c);
}

static void open_ctx(const char *extra)
{
	struct mcpauth_err err = { 0 };
	bool found = false;

	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	check_ctx_open(&ctx, "authorize", dir,
		       check_conf_text(CHECK_FILES_SECTION
				       "default_scopes = files:read\n"
				       "[resource]\n"
				       "url = " MAIL "\n"
				       "name = Mail\n"
				       "scopes = mail:read\n",
				       "www_dir = %s/www\n%s",
				       MCPAUTH_TEST_SRCDIR, extra));
	snprintf(db, sizeof(db), "%s", ctx.conf->database);
	add_client(NATIVE, "native", NATIVE_CB, NULL,
		   "authorization_code refresh_token",
		   "files:read files:write offline_access mail:read",
		   NATIVE_NAME);
	add_client(WEB, "web", WEB_CB, WEB_CB2, "authorization_code",
		   "files:read offline_access", "Web App");
	add_client(WEB_LO, "web", WEB_LO_CB, NULL, "authorization_code",
		   "files:read", NULL);
	add_client(NATIVE_HTTPS, "native", NATIVE_HTTPS_CB, NULL,
		   "authorization_code", "files:read", NULL);
	add_client(NATIVE_V6, "native", NATIVE_V6_CB, NULL,
		   "authorization_code", "files:read", NULL);
	add_client(QUERY, "web", QUERY_CB, NULL, "authorization_code",
		   "files:read", NULL);
	add_client(FIRST, "web", FIRST_CB, NULL,
		   "authorization_code refresh_token",
		   "files:read files:write", "Operator Tool");
	ck_assert(mcpauth_store_client_set_first_party(ctx.store, FIRST, true,
						       &found, &err));
	ck_assert(found);
	ck_assert(mcpauth_store_user_add(ctx.store, "alice", "subj-alice",
					 alice_hash, (long long)time(NULL),
					 &alice, &err));
	ck_assert(mcpauth_store_user_add(ctx.store, "bob", "subj-bob",
					 bob_hash, (long long)time(NULL), &bob,
					 &err));
}

static void hash_passwords(void)
{
	struct mcpauth_err err = { 0 };

	ck_assert(mcpauth_password_hash(ALICE_PW, &alice_hash, &err));
	ck_assert(mcpauth_password_hash(BOB_PW, &bob_hash, &err));
}

static void free_passwords(void)
{
	free(alice_hash);
	free(bob_hash);
	alice_hash = bob_hash = NULL;
}

static void setup(void)
{
	open_ctx("default_resource = " FILES);
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

/* --- the database --------------------------------------------------------- */

static long long requests(void)
{
	return check_sql_int(db, "SELECT count(*) FROM authorization_requests",
			     NULL);
}

static long long codes(void)
{
	return check_sql_int(db, "SELECT count(*) FROM authorization_codes",
			     NULL);
}

static char *sha(const char *s)
{
	char *h = mcpauth_crypto_sha256_b64url(s);

	ck_assert_ptr_nonnull(h);
	return h;
}

/* --- a browser -------------------------------------------------------------- */

/* The cookies one browser holds. */
struct browser {
	char flow[128];
	char session[128];
	char jar[512];
};

/*
 * Takes the response's Set-Cookie headers into b; each must carry the
 * __Host- attributes.
 */
static void take_cookies(struct browser *b, const struct mcpauth_resp *resp)
{
	for (size_t i = 0; i < resp->nheaders; i++) {
		const char *v = resp->headers[i].value, *eq;
		char *dst;
		size_t n;

		if (strcmp(resp->headers[i].name, "Set-Cookie") != 0)
			continue;
		ck_assert_msg(strstr(v, "; Path=/; Secure; HttpOnly; "
					"SameSite=Lax") != NULL,
			      "cookie attributes: %s", v);
		ck_assert_ptr_null(strstr(v, "Domain="));
		eq = strchr(v, '=');
		ck_assert_ptr_nonnull(eq);
		if (!strncmp(v, FLOW_COOKIE "=", strlen(FLOW_COOKIE) + 1))
			dst = b->flow;
		else if (!strncmp(v, SESSION_COOKIE "=",
				  strlen(SESSION_COOKIE) + 1))
			dst = b->session;
		else
			ck_abort_msg("unknown cookie %s", v);
		n = strcspn(eq + 1, ";");
		ck_assert_uint_lt(n, 128);
		memcpy(dst, eq + 1, n);
		dst[n] = '\0';
	}
}

/* The value of a Set-Cookie for name in resp (static), or NULL. */
static const char *set_cookie(const struct mcpauth_resp *resp,
			      const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (!strcmp(resp->headers[i].name, "Set-Cookie") &&
		    !strncmp(resp->headers[i].value, name, strlen(name)) &&
		    resp->headers[i].value[strlen(name)] == '=')
			return resp->headers[i].value;
	return NULL;
}

/* One request from browser b (NULL: no cookies), as the adapter makes it. */
static struct mcpauth_resp *run(struct browser *b, const char *method,
				const char *path, const char *query,
				const char *content_type, const char *body,
				const char *origin)
{
	struct mcpauth_req req = { 0 };
	struct mcpauth_resp *resp = mcpauth_resp_new();

	req.method = (char *)method;
	req.path = (char *)path;
	req.query = (char *)(query != NULL ? query : "");
	req.content_type = (char *)content_type;
	req.body = (char *)(body != NULL ? body : "");
	req.body_len = strlen(req.body);
	req.origin = (char *)origin;
	req.remote_addr = "192.0.2.1";
	req.host = "auth.example.com";
	if (b != NULL) {
		b->jar[0] = '\0';
		if (b->flow[0] != '\0')
			snprintf(b->jar, sizeof(b->jar), FLOW_COOKIE "=%s",
				 b->flow);
		if (b->session[0] != '\0')
			snprintf(b->jar + strlen(b->jar),
				 sizeof(b->jar) - strlen(b->jar),
				 "%s" SESSION_COOKIE "=%s",
				 b->jar[0] != '\0' ? "; " : "", b->session);
		req.cookie = b->jar[0] != '\0' ? b->jar : NULL;
	}
	mcpauth_dispatch(&ctx, authorize_handle, &req, resp);
	if (b != NULL)
		take_cookies(b, resp);
	return resp;
}

static struct mcpauth_resp *get(struct browser *b, const char *query)
{
	return run(b, "GET", AUTHZ, query, NULL, NULL, NULL);
}

static struct mcpauth_resp *post(struct browser *b, const char *body)
{
	return run(b, "POST", AUTHZ, "", FORM, body, NULL);
}

/* --- building requests ----------------------------------------------------------- */

/* Appends s percent-encoded to out. */
static void enc(char *out, size_t size, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(out);

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		ck_assert_uint_lt(n + 4, size);
		if (isalnum(c) || strchr("-._~", c) != NULL) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

/* Appends "&name=value" (encoded); nothing for a NULL value. */
static void add(char *q, size_t size, const char *name, const char *value)
{
	if (value == NULL)
		return;
	if (q[0] != '\0')
		strncat(q, "&", size - strlen(q) - 1);
	strncat(q, name, size - strlen(q) - 1);
	strncat(q, "=", size - strlen(q) - 1);
	enc(q, size, value);
}

/* An authorization request's parameters; NULL leaves one out. */
struct areq {
	const char *response_type, *client_id, *redirect_uri, *code_challenge,
		*method, *state, *scope, *resource, *prompt;
};

static struct areq native(void)
{
	return (struct areq){ .response_type = "code",
			      .client_id = NATIVE,
			      .redirect_uri = NATIVE_CB,
			      .code_challenge = CHALLENGE,
			      .method = "S256",
			      .state = "st-123" };
}

static struct areq for_client(const char *id, const char *uri)
{
	struct areq a = native();

	a.client_id = id;
	a.redirect_uri = uri;
	return a;
}

/* The query string of a (static storage). */
static const char *query(const struct areq *a)
{
	static char q[4096];

	q[0] = '\0';
	add(q, sizeof(q), "response_type", a->response_type);
	add(q, sizeof(q), "client_id", a->client_id);
	add(q, sizeof(q), "redirect_uri", a->redirect_uri);
	add(q, sizeof(q), "code_challenge", a->code_challenge);
	add(q, sizeof(q), "code_challenge_method", a->method);
	add(q, sizeof(q), "state", a->state);
	add(q, sizeof(q), "scope", a->scope);
	add(q, sizeof(q), "resource", a->resource);
	add(q, sizeof(q), "prompt", a->prompt);
	return q;
}

/* --- reading responses --------------------------------------------------------- */

static const char *body(const struct mcpauth_resp *resp)
{
	ck_assert_ptr_nonnull(resp->body);
	return resp->body;
}

static bool body_has(const struct mcpauth_resp *resp, const char *needle)
{
	return resp->body != NULL &&
	       memmem(resp->body, resp->body_len, needle, strlen(needle)) !=
		       NULL;
}

/* The value of the page's input named name into out; false when absent. */
static bool field(const struct mcpauth_resp *resp, const char *name,
		  char *out, size_t size)
{
	char pat[128];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "name=\"%s\" value=\"", name);
	p = strstr(body(resp), pat);
	if (p == NULL)
		return false;
	p += strlen(pat);
	n = strcspn(p, "\"");
	ck_assert_uint_lt(n, size);
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* Percent-decodes len bytes of s into out. */
static void dec(const char *s, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		ck_assert_uint_lt(n + 1, size);
		if (s[i] == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char h[3] = { s[i + 1], s[i + 2], 0 };
			out[n++] = (char)strtol(h, NULL, 16);
			i += 2;
		} else {
			out[n++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	out[n] = '\0';
}

/* The decoded query parameter name of url into out; false when absent. */
static bool qparam(const char *url, const char *name, char *out, size_t size)
{
	const char *p = strchr(url, '?');
	size_t n = strlen(name);

	out[0] = '\0';
	if (p == NULL)
		return false;
	for (p++; *p != '\0';) {
		size_t len = strcspn(p, "&");
		if (len > n && !strncmp(p, name, n) && p[n] == '=') {
			dec(p + n + 1, len - n - 1, out, size);
			return true;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return false;
}

/*
 * Fails the test unless resp has status; frees resp first on failure, so
 * a failing test leaks nothing under CK_FORK=no.
 */
static void status_is(struct mcpauth_resp *resp, int status)
{
	char msg[512];

	if (resp->status == status)
		return;
	snprintf(msg, sizeof(msg), "status %d, want %d: %.400s", resp->status,
		 status, resp->body != NULL ? resp->body : "");
	mcpauth_resp_free(resp);
	ck_abort_msg("%s", msg);
}

/* The headers every page carries. */
static void page_headers(const struct mcpauth_resp *resp)
{
	ck_assert_str_eq(resp->content_type, "text/html; charset=utf-8");
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	ck_assert_str_eq(check_header(resp, "X-Frame-Options"), "DENY");
	ck_assert_str_eq(check_header(resp, "Content-Security-Policy"), CSP);
	ck_assert_str_eq(check_header(resp, "X-Content-Type-Options"),
			 "nosniff");
	ck_assert_str_eq(check_header(resp, "Referrer-Policy"), "same-origin");
	ck_assert_uint_eq(check_header_count(resp, "X-Frame-Options"), 1);
	ck_assert_uint_eq(check_header_count(resp, "Content-Security-Policy"),
			  1);
	ck_assert_uint_eq(check_header_count(resp, "Cache-Control"), 1);
}

/*
 * An error page, never a redirect: status, the page headers, the title and
 * the code; frees resp.
 */
static void expect_page(struct mcpauth_resp *resp, int status,
			const char *code)
{
	char want[128];

	status_is(resp, status);
	page_headers(resp);
	ck_assert_ptr_null(check_header(resp, "Location"));
	ck_assert(body_has(resp, "<title>This sign-in cannot continue</title>"));
	snprintf(want, sizeof(want), "Error code: <code>%s</code>", code);
	ck_assert_msg(body_has(resp, want), "no %s in %s", want, resp->body);
	mcpauth_resp_free(resp);
}

/*
 * A 303 back to the client: Location is uri with error, a description,
 * state (NULL: none) and iss; no code. Frees resp.
 */
static void expect_redirect_error(struct mcpauth_resp *resp, const char *uri,
				  const char *error, const char *state)
{
	const char *loc = check_header(resp, "Location");
	char v[1024];

	status_is(resp, 303);
	ck_assert_ptr_nonnull(loc);
	ck_assert_msg(!strncmp(loc, uri, strlen(uri)) &&
			      (loc[strlen(uri)] == '?' ||
			       loc[strlen(uri)] == '&'),
		      "Location %s not at %s", loc, uri);
	ck_assert(qparam(loc, "error", v, sizeof(v)));
	ck_assert_str_eq(v, error);
	ck_assert(qparam(loc, "error_description", v, sizeof(v)));
	ck_assert_uint_gt(strlen(v), 0);
	if (state != NULL) {
		ck_assert(qparam(loc, "state", v, sizeof(v)));
		ck_assert_str_eq(v, state);
	} else {
		ck_assert(!qparam(loc, "state", v, sizeof(v)));
	}
	ck_assert(qparam(loc, "iss", v, sizeof(v)));
	ck_assert_str_eq(v, ISSUER);
	ck_assert(!qparam(loc, "code", v, sizeof(v)));
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	mcpauth_resp_free(resp);
}

/* A 303 to uri with a code, state and iss: the code into out. Frees resp. */
static void expect_code(struct mcpauth_resp *resp, const char *uri,
			const char *state, char *out)
{
	const char *loc = check_header(resp, "Location");
	char v[1024];

	status_is(resp, 303);
	ck_assert_ptr_nonnull(loc);
	ck_assert_msg(!strncmp(loc, uri, strlen(uri)) &&
			      loc[strlen(uri)] == '?',
		      "Location %s not at %s", loc, uri);
	ck_assert_msg(qparam(loc, "code", out, 128), "no code: %s", loc);
	ck_assert_uint_eq(strlen(out), 43);
	if (state != NULL) {
		ck_assert(qparam(loc, "state", v, sizeof(v)));
		ck_assert_str_eq(v, state);
	}
	ck_assert(qparam(loc, "iss", v, sizeof(v)));
	ck_assert_str_eq(v, ISSUER);
	ck_assert(!qparam(loc, "error", v, sizeof(v)));
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	mcpauth_resp_free(resp);
}

/* What a login or consent page hands the browser. */
struct form_ids {
	char request_id[128];
	char csrf[128];
};

/* A 200 login page: its hidden fields into ids. Frees resp. */
static void expect_login_page(struct mcpauth_resp *resp, struct form_ids *ids)
{
	char v[256];

	status_is(resp, 200);
	page_headers(resp);
	ck_assert(body_has(resp, "<form method=\"post\" action=\"" ISSUER
				 "/authorize\">"));
	ck_assert(body_has(resp, "name=\"username\""));
	ck_assert(body_has(resp, "name=\"password\" type=\"password\""));
	ck_assert(body_has(resp, ">Sign in</button>"));
	ck_assert(field(resp, "step", v, sizeof(v)));
	ck_assert_str_eq(v, "login");
	if (ids != NULL) {
		ck_assert(field(resp, "csrf", ids->csrf, sizeof(ids->csrf)));
		ck_assert(field(resp, "request_id", ids->request_id,
				sizeof(ids->request_id)));
		ck_assert_uint_eq(strlen(ids->csrf), 43);
		ck_assert_uint_eq(strlen(ids->request_id), 43);
	}
	mcpauth_resp_free(resp);
}

/* A 200 consent page: its hidden fields into ids. Frees resp. */
static void expect_consent_page(struct mcpauth_resp *resp,
				struct form_ids *ids)
{
	char v[256];

	status_is(resp, 200);
	page_headers(resp);
	ck_assert_msg(field(resp, "step", v, sizeof(v)), "not consent: %s",
		      resp->body);
	ck_assert_str_eq(v, "consent");
	ck_assert(body_has(resp, "name=\"decision\" value=\"approve\""));
	ck_assert(body_has(resp, "name=\"decision\" value=\"deny\""));
	if (ids != NULL) {
		ck_assert(field(resp, "csrf", ids->csrf, sizeof(ids->csrf)));
		ck_assert(field(resp, "request_id", ids->request_id,
				sizeof(ids->request_id)));
	}
	mcpauth_resp_free(resp);
}

/* --- steps of the flow --------------------------------------------------------- */

static const char *login_body(const struct form_ids *ids, const char *user,
			      const char *password)
{
	static char q[1024];

	q[0] = '\0';
	add(q, sizeof(q), "step", "login");
	add(q, sizeof(q), "request_id", ids->request_id);
	add(q, sizeof(q), "csrf", ids->csrf);
	add(q, sizeof(q), "username", user);
	add(q, sizeof(q), "password", password);
	return q;
}

static const char *consent_body(const struct form_ids *ids,
				const char *decision)
{
	static char q[1024];

	q[0] = '\0';
	add(q, sizeof(q), "step", "consent");
	add(q, sizeof(q), "request_id", ids->request_id);
	add(q, sizeof(q), "csrf", ids->csrf);
	add(q, sizeof(q), "decision", decision);
	return q;
}

static const char *continuation(const char *request_id)
{
	static char q[256];

	q[0] = '\0';
	add(q, sizeof(q), "request_id", request_id);
	return q;
}

/* Posts the login form; expects the 303 to the continuation. */
static void login_ok(struct browser *b, const struct form_ids *ids,
		     const char *user, const char *password)
{
	struct mcpauth_resp *resp = post(b, login_body(ids, user, password));
	char want[512];

	ck_assert_msg(resp->status == 303, "login: %d %.300s", resp->status,
		      resp->body ? resp->body : "");
	snprintf(want, sizeof(want), ISSUER "/authorize?request_id=%s",
		 ids->request_id);
	ck_assert_str_eq(check_header(resp, "Location"), want);
	ck_assert_ptr_nonnull(set_cookie(resp, SESSION_COOKIE));
	mcpauth_resp_free(resp);
}

/*
 * From a new request a to its consent page, signing in as user: the
 * consent page's ids into ids.
 */
static void to_consent(struct browser *b, const struct areq *a,
		       const char *user, const char *password,
		       struct form_ids *ids)
{
	expect_login_page(get(b, query(a)), ids);
	login_ok(b, ids, user, password);
	expect_consent_page(get(b, continuation(ids->request_id)), ids);
}

/* A signed-in session for user_id, made in the store (no argon2 cost). */
static void signed_in(struct browser *b, long long user_id)
{
	struct mcpauth_err err = { 0 };
	long long now = (long long)time(NULL);
	char *sid = NULL, *hash = NULL;

	ck_assert(mcpauth_tokens_random(&sid, &hash, &err));
	ck_assert(mcpauth_store_session_add(ctx.store, hash, user_id, now - 5,
					    now, now + 3600, &err));
	snprintf(b->session, sizeof(b->session), "%s", sid);
	mcpauth_crypto_free_secret(sid);
	free(hash);
}

static void consent_given(long long user_id, const char *client,
			  const char *resource, const char *scope)
{
	struct mcpauth_err err = { 0 };

	ck_assert(mcpauth_store_consent_set(ctx.store, user_id, client,
					    resource, scope,
					    (long long)time(NULL), &err));
}

/* ===== validation of a new request ========================================== */

START_TEST(test_no_client_id)
{
	struct browser b = { 0 };
	struct areq a = native();

	a.client_id = NULL;
	expect_page(get(&b, query(&a)), 400, "invalid_request");
	expect_page(get(&b, ""), 400, "invalid_request");
	expect_page(get(&b, "client_id="), 400, "invalid_request");
	/* No cookie and nothing stored before the request is valid. */
	ck_assert_str_eq(b.flow, "");
	ck_assert_int_eq(requests(), 0);
}
END_TEST

START_TEST(test_unknown_client)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct mcpauth_resp *resp;

	a.client_id = "nobody";
	resp = get(&b, query(&a));
	ck_assert(body_has(resp, "not registered"));
	expect_page(resp, 400, "invalid_client");
	/* Case matters. */
	a.client_id = "NATIVE-1";
	expect_page(get(&b, query(&a)), 400, "invalid_client");
	/* The client is checked first: the rest may be anything. */
	a.redirect_uri = "https://evil.example/cb";
	a.response_type = "token";
	a.code_challenge = NULL;
	expect_page(get(&b, query(&a)), 400, "invalid_client");
	ck_assert_str_eq(b.flow, "");
	ck_assert_int_eq(requests(), 0);
}
END_TEST

/* SECURITY.md: byte-for-byte; a page, never a redirect. */
static const struct {
	const char *client, *uri;
} bad_uris[] = {
	{ WEB, "https://app.example.com/cb/" },
	{ WEB, "https://app.example.com/CB" },
	{ WEB, "https://APP.example.com/cb" },
	{ WEB, "HTTPS://app.example.com/cb" },
	{ WEB, "https://app.example.com/cb?x=1" },
	{ WEB, "https://app.example.com/cb#frag" },
	{ WEB, "https://app.example.com/cb/../cb" },
	{ WEB, "https://app.example.com/%63b" },
	{ WEB, "https://app.example.com/c" },
	{ WEB, "https://app.example.com/cbx" },
	{ WEB, "https://app.example.com.evil.example/cb" },
	{ WEB, "https://app.example.com@evil.example/cb" },
	{ WEB, "https://evil.example@app.example.com/cb" },
	{ WEB, "https://evil.example/cb" },
	{ WEB, "https://app.example.com:443/cb" },
	{ WEB, "http://app.example.com/cb" },
	{ WEB, " https://app.example.com/cb" },
	{ WEB, "https://app.example.com/cb " },
	{ WEB, "//app.example.com/cb" },
	{ WEB, "/cb" },
	{ WEB, "javascript:alert(1)" },
	{ NATIVE, "http://127.0.0.1:6276/cb/" },
	{ NATIVE, "http://127.0.0.1:6276/CB" },
	{ NATIVE, "http://127.0.0.1:50000/other" },
	{ NATIVE, "http://127.0.0.1:6276/cb?x=1" },
	{ NATIVE, "http://127.0.0.1:6276/cb#x" },
	{ NATIVE, "http://localhost:6276/cb" },
	{ NATIVE, "http://127.0.0.2:6276/cb" },
	{ NATIVE, "https://127.0.0.1:6276/cb" },
	{ NATIVE, "http://127.0.0.1:6276@evil.example/cb" },
	{ NATIVE, "http://evil.example@127.0.0.1:6276/cb" },
	{ NATIVE, "http://127.0.0.1.evil.example:6276/cb" },
	{ NATIVE, "http://127.0.0.1:6276x/cb" },
	{ NATIVE, "http://127.0.0.1:6276:1/cb" },
	{ NATIVE, "http://[::1]:6276/cb" },
	{ NATIVE, "http://127.0.0.1:6276/%63b" },
};
#define NBAD_URIS (int)(sizeof(bad_uris) / sizeof(bad_uris[0]))

START_TEST(test_redirect_uri_refused)
{
	struct browser b = { 0 };
	struct areq a = for_client(bad_uris[_i].client, bad_uris[_i].uri);
	struct mcpauth_resp *resp = get(&b, query(&a));

	ck_assert_msg(resp->status == 400 &&
			      check_header(resp, "Location") == NULL,
		      "%s %s: %d %s", bad_uris[_i].client, bad_uris[_i].uri,
		      resp->status, check_header(resp, "Location"));
	expect_page(resp, 400, "invalid_request");
	ck_assert_str_eq(b.flow, "");
	ck_assert_int_eq(requests(), 0);
}
END_TEST

/* An embedded NUL cannot cut the comparison short. */
START_TEST(test_redirect_uri_nul)
{
	struct browser b = { 0 };
	struct mcpauth_resp *resp =
		get(&b, "response_type=code&client_id=" WEB
			"&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%00x"
			"&code_challenge=" CHALLENGE
			"&code_challenge_method=S256&state=s");

	ck_assert_int_eq(resp->status, 400);
	expect_page(resp, 400, "invalid_request");
	ck_assert_int_eq(requests(), 0);
}
END_TEST

/* RFC 6749 §3.1.2.3: omitted, only when exactly one is registered. */
START_TEST(test_redirect_uri_omitted)
{
	struct browser b = { 0 };
	struct areq a = native();
	char v[256];

	a.redirect_uri = NULL;
	expect_login_page(get(&b, query(&a)), NULL);
	ck_assert(check_sql_text(
		db, "SELECT redirect_uri FROM authorization_requests", NULL, v,
		sizeof(v)));
	ck_assert_str_eq(v, NATIVE_CB);
	/* Two registered: which one is meant? A page. */
	a = for_client(WEB, NULL);
	expect_page(get(&b, query(&a)), 400, "invalid_request");
	ck_assert_int_eq(requests(), 1);
	/* Either, named. */
	a = for_client(WEB, WEB_CB2);
	expect_login_page(get(&b, query(&a)), NULL);
	ck_assert_int_eq(requests(), 2);
}
END_TEST

/* What the parser names in its error is escaped on the page. */
START_TEST(test_error_page_escapes)
{
	struct browser b = { 0 };
	struct mcpauth_resp *resp =
		get(&b, "client_id=" NATIVE "&%3Cscript%3Ex%3C%2Fscript%3E=1"
			"&%3Cscript%3Ex%3C%2Fscript%3E=2");

	status_is(resp, 400);
	ck_assert(!body_has(resp, "<script>"));
	expect_page(resp, 400, "invalid_request");
}
END_TEST

/* A repeated parameter is refused (RFC 6749 §3.1) before anything else. */
START_TEST(test_repeated_parameter)
{
	struct browser b = { 0 };
	char q[4096];
	struct areq a = native();

	snprintf(q, sizeof(q), "%s&client_id=" WEB, query(&a));
	expect_page(get(&b, q), 400, "invalid_request");
	snprintf(q, sizeof(q), "%s&redirect_uri=https%%3A%%2F%%2Fevil.example",
		 query(&a));
	expect_page(get(&b, q), 400, "invalid_request");
	snprintf(q, sizeof(q), "%s&state=other", query(&a));
	expect_page(get(&b, q), 400, "invalid_request");
	ck_assert_int_eq(requests(), 0);
}
END_TEST

START_TEST(test_response_type)
{
	static const char *const bad[] = { NULL, "token", "code id_token",
					   "CODE", "code ", "none" };
	struct browser b = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct areq a = native();
		a.response_type = bad[i];
		expect_redirect_error(get(&b, query(&a)), NATIVE_CB,
				      "unsupported_response_type", "st-123");
	}
	ck_assert_int_eq(requests(), 0);
	ck_assert_int_eq(codes(), 0);
}
END_TEST

/* No state asked, none given back. */
START_TEST(test_error_without_state)
{
	struct browser b = { 0 };
	struct areq a = native();

	a.state = NULL;
	a.response_type = "token";
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB,
			      "unsupported_response_type", NULL);
}
END_TEST

/* state comes back exactly, whatever it holds. */
START_TEST(test_state_round_trip)
{
	static const char state[] = "a b&c=d#e?f/g%41+h\"<>\xc3\xa9";
	struct browser b = { 0 };
	struct areq a = native();
	char code[128];

	a.state = state;
	a.response_type = "token";
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB,
			      "unsupported_response_type", state);
	a.response_type = "code";
	signed_in(&b, alice);
	consent_given(alice, NATIVE, FILES, "files:read");
	expect_code(get(&b, query(&a)), NATIVE_CB, state, code);
}
END_TEST

/* The registered URI's own query stays; ours is appended. */
START_TEST(test_error_keeps_query)
{
	struct browser b = { 0 };
	struct areq a = for_client(QUERY, QUERY_CB);
	struct mcpauth_resp *resp;
	char v[64];

	a.response_type = "token";
	resp = get(&b, query(&a));
	ck_assert(!strncmp(check_header(resp, "Location"), QUERY_CB "&", strlen(QUERY_CB) + 1));
	ck_assert(qparam(check_header(resp, "Location"), "tenant", v, sizeof(v)));
	ck_assert_str_eq(v, "1");
	expect_redirect_error(resp, QUERY_CB, "unsupported_response_type",
			      "st-123");
}
END_TEST

/* OAuth 2.1 §4.1.1: PKCE with S256, always. */
START_TEST(test_code_challenge)
{
	static const char *const methods[] = { NULL, "plain", "s256", "S512",
					       "S256 " };
	static const char *const challenges[] = {
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cMA",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw.cM",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN",
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk~",
	};
	struct browser b = { 0 };
	struct areq a = native();

	a.code_challenge = NULL;
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB, "invalid_request",
			      "st-123");
	/* A method without a challenge is no better. */
	a.method = NULL;
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB, "invalid_request",
			      "st-123");
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		a = native();
		a.method = methods[i];
		expect_redirect_error(get(&b, query(&a)), NATIVE_CB,
				      "invalid_request", "st-123");
	}
	for (size_t i = 0; i < sizeof(challenges) / sizeof(challenges[0]);
	     i++) {
		a = native();
		a.code_challenge = challenges[i];
		expect_redirect_error(get(&b, query(&a)), NATIVE_CB,
				      "invalid_request", "st-123");
	}
	ck_assert_int_eq(requests(), 0);
}
END_TEST

/* RFC 8707: a known resource, or the default. */
START_TEST(test_resource)
{
	static const char *const bad[] = {
		"https://evil.example/mcp",
		FILES "/",
		"https://MCP.example.com/mcp",
		"https://mcp.example.com/mcp?x=1",
		"https://mcp.example.com",
	};
	struct browser b = { 0 };
	struct areq a = native();
	char v[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a.resource = bad[i];
		expect_redirect_error(get(&b, query(&a)), NATIVE_CB,
				      "invalid_target", "st-123");
	}
	ck_assert_int_eq(requests(), 0);
	/* Absent: the configured default. */
	a.resource = NULL;
	expect_login_page(get(&b, query(&a)), NULL);
	ck_assert(check_sql_text(db,
				 "SELECT resource FROM authorization_requests",
				 NULL, v, sizeof(v)));
	ck_assert_str_eq(v, FILES);
	/* Another one, named, with its own scope. */
	check_sql_exec(db, "DELETE FROM authorization_requests", NULL);
	a.resource = MAIL;
	a.scope = "mail:read";
	expect_login_page(get(&b, query(&a)), NULL);
	ck_assert(check_sql_text(db,
				 "SELECT resource || ' ' || scope FROM "
				 "authorization_requests",
				 NULL, v, sizeof(v)));
	ck_assert_str_eq(v, MAIL " mail:read");
}
END_TEST

/* Several resources and no default_resource: resource is required. */
START_TEST(test_resource_required)
{
	struct browser b = { 0 };
	struct areq a = native();

	reopen("");
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB, "invalid_target",
			      "st-123");
	a.resource = FILES;
	expect_login_page(get(&b, query(&a)), NULL);
}
END_TEST

START_TEST(test_scope_refused)
{
	static const struct {
		const char *client, *uri, *resource, *scope;
	} bad[] = {
		/* not offered anywhere */
		{ NATIVE, NATIVE_CB, NULL, "files:delete" },
		{ NATIVE, NATIVE_CB, NULL, "files:read files:delete" },
		{ NATIVE, NATIVE_CB, NULL, "openid" },
		{ NATIVE, NATIVE_CB, NULL, "FILES:READ" },
		/* another resource's */
		{ NATIVE, NATIVE_CB, NULL, "mail:read" },
		{ NATIVE, NATIVE_CB, MAIL, "files:read" },
		/* not in the client's registration */
		{ WEB, WEB_CB, NULL, "files:write" },
		{ WEB, WEB_CB, NULL, "files:read files:write" },
		/* offline_access without the refresh_token grant */
		{ WEB, WEB_CB, NULL, "files:read offline_access" },
		{ WEB, WEB_CB, NULL, "offline_access" },
		/* registered without offline_access */
		{ FIRST, FIRST_CB, NULL, "offline_access" },
	};
	struct browser b = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct areq a = for_client(bad[i].client, bad[i].uri);
		a.resource = bad[i].resource;
		a.scope = bad[i].scope;
		expect_redirect_error(get(&b, query(&a)), bad[i].uri,
				      "invalid_scope", "st-123");
	}
	ck_assert_int_eq(requests(), 0);
}
END_TEST

static void stored_scope_is(const struct areq *a, const char *want)
{
	struct browser b = { 0 };
	char v[256];

	check_sql_exec(db, "DELETE FROM authorization_requests", NULL);
	expect_login_page(get(&b, query(a)), NULL);
	ck_assert(check_sql_text(db, "SELECT scope FROM authorization_requests",
				 NULL, v, sizeof(v)));
	ck_assert_str_eq(v, want);
}

START_TEST(test_scope_granted)
{
	struct areq a = native();

	/* Absent or blank: the resource's default_scopes the client has. */
	stored_scope_is(&a, "files:read");
	a.scope = "";
	stored_scope_is(&a, "files:read");
	a.scope = "   ";
	stored_scope_is(&a, "files:read");
	/* Normalised: single spaces, each once. */
	a.scope = "files:write  files:read files:read";
	stored_scope_is(&a, "files:write files:read");
	a.scope = "files:read offline_access";
	stored_scope_is(&a, "files:read offline_access");
	/* The mail resource has no default_scopes: all of its scopes. */
	a.scope = NULL;
	a.resource = MAIL;
	stored_scope_is(&a, "mail:read");
}
END_TEST

/* ===== sign-in ============================================================ */

START_TEST(test_login_page)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	struct mcpauth_resp *resp = get(&b, query(&a));
	const char *cookie = set_cookie(resp, FLOW_COOKIE);
	char *h;

	/* The flow cookie binds the request to this browser. */
	ck_assert_ptr_nonnull(cookie);
	ck_assert_ptr_nonnull(strstr(cookie, "; Path=/; Secure; HttpOnly; "
					     "SameSite=Lax"));
	ck_assert_uint_eq(strlen(b.flow), 43);
	ck_assert_ptr_null(set_cookie(resp, SESSION_COOKIE));
	/* Who asks, where the answer goes, escaped. */
	ck_assert(body_has(resp, NATIVE_NAME_ESC));
	ck_assert(!body_has(resp, "<script>"));
	ck_assert(body_has(resp, "127.0.0.1:6276"));
	ck_assert(body_has(resp, "/t1/static/style.css"));
	expect_login_page(resp, &ids);
	ck_assert_str_ne(ids.csrf, ids.request_id);
	/* Stored by hashes only. */
	ck_assert_int_eq(requests(), 1);
	h = sha(ids.request_id);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM authorization_requests "
			      "WHERE id_hash = ?1",
			      h),
		1);
	free(h);
	h = sha(ids.csrf);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM authorization_requests "
			      "WHERE csrf_hash = ?1",
			      h),
		1);
	free(h);
	h = sha(b.flow);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM authorization_requests "
			      "WHERE browser_hash = ?1 AND client_id = '" NATIVE
			      "' AND redirect_uri = '" NATIVE_CB
			      "' AND code_challenge = '" CHALLENGE
			      "' AND state = 'st-123' AND session_hash IS "
			      "NULL AND expires_at > created_at",
			      h),
		1);
	free(h);
	ck_assert(!check_db_contains(db, ids.request_id));
	ck_assert(!check_db_contains(db, ids.csrf));
	ck_assert(!check_db_contains(db, b.flow));
}
END_TEST

/* One flow cookie per browser: a second request keeps it. */
START_TEST(test_flow_cookie_kept)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct mcpauth_resp *resp;
	char first[128];

	expect_login_page(get(&b, query(&a)), NULL);
	snprintf(first, sizeof(first), "%s", b.flow);
	resp = get(&b, query(&a));
	ck_assert_ptr_null(set_cookie(resp, FLOW_COOKIE));
	expect_login_page(resp, NULL);
	ck_assert_str_eq(b.flow, first);
	ck_assert_int_eq(requests(), 2);
}
END_TEST

START_TEST(test_login_wrong)
{
	static const struct {
		const char *user, *password;
	} wrong[] = {
		{ "alice", "wrong" },
		{ "alice", BOB_PW },
		{ "Alice", ALICE_PW },
		{ "nobody", ALICE_PW },
		{ "carol", "x" }, /* disabled, below */
		{ "alice", "" },
		{ "", ALICE_PW },
	};
	struct mcpauth_err err = { 0 };
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids, again;
	struct mcpauth_resp *resp;
	bool found = false;
	char *h = NULL;

	ck_assert(mcpauth_password_hash("x", &h, &err));
	ck_assert(mcpauth_store_user_add(ctx.store, "carol", "subj-carol", h,
					 (long long)time(NULL), NULL, &err));
	free(h);
	ck_assert(mcpauth_store_user_set_disabled(ctx.store, "carol",
						  (long long)time(NULL),
						  &found, &err));
	expect_login_page(get(&b, query(&a)), &ids);
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		resp = post(&b, login_body(&ids, wrong[i].user,
					   wrong[i].password));
		ck_assert_msg(resp->status == 200, "%s: %d", wrong[i].user,
			      resp->status);
		ck_assert_msg(body_has(resp, "Wrong username or password."),
			      "%s/%s", wrong[i].user, wrong[i].password);
		ck_assert_ptr_null(set_cookie(resp, SESSION_COOKIE));
		ck_assert_ptr_null(check_header(resp, "Location"));
		/* The same form can be sent again. */
		expect_login_page(resp, &again);
		ck_assert_str_eq(again.request_id, ids.request_id);
		ck_assert_str_eq(again.csrf, ids.csrf);
	}
	ck_assert_str_eq(b.session, "");
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM sessions", NULL), 0);
	/* Then the right password. */
	login_ok(&b, &ids, "alice", ALICE_PW);
}
END_TEST

/* The username typed is shown again, escaped. */
START_TEST(test_login_username_escaped)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	struct mcpauth_resp *resp;

	expect_login_page(get(&b, query(&a)), &ids);
	resp = post(&b, login_body(&ids, "<b>\"x\"</b>", "pw"));
	ck_assert_int_eq(resp->status, 200);
	ck_assert(body_has(resp, "value=\"&lt;b&gt;&quot;x&quot;&lt;/b&gt;\""));
	ck_assert(!body_has(resp, "<b>\"x\""));
	expect_login_page(resp, NULL);
}
END_TEST

START_TEST(test_login_ok)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	struct mcpauth_resp *resp;
	const char *cookie;
	char want[512], *h;

	expect_login_page(get(&b, query(&a)), &ids);
	resp = post(&b, login_body(&ids, "alice", ALICE_PW));
	ck_assert_int_eq(resp->status, 303);
	ck_assert_uint_eq(resp->body_len, 0);
	snprintf(want, sizeof(want), ISSUER "/authorize?request_id=%s",
		 ids.request_id);
	ck_assert_str_eq(check_header(resp, "Location"), want);
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	cookie = set_cookie(resp, SESSION_COOKIE);
	ck_assert_ptr_nonnull(cookie);
	snprintf(want, sizeof(want),
		 SESSION_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Lax; "
				"Max-Age=28800",
		 b.session);
	ck_assert_str_eq(cookie, want);
	ck_assert_uint_eq(strlen(b.session), 43);
	mcpauth_resp_free(resp);
	/* Stored by hash, for alice. */
	h = sha(b.session);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT user_id FROM sessions WHERE "
				       "id_hash = ?1",
				       h),
			 alice);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM authorization_requests "
			      "WHERE session_hash = ?1",
			      h),
		1);
	free(h);
	ck_assert(!check_db_contains(db, b.session));
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM users WHERE username = "
			      "'alice' AND last_login_at IS NOT NULL",
			      NULL),
		1);
}
END_TEST

/* SECURITY.md: session ids rotated at login; the old one ends. */
START_TEST(test_login_new_session)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	char first[128], *h;

	expect_login_page(get(&b, query(&a)), &ids);
	login_ok(&b, &ids, "alice", ALICE_PW);
	snprintf(first, sizeof(first), "%s", b.session);
	a.prompt = "login";
	expect_login_page(get(&b, query(&a)), &ids);
	login_ok(&b, &ids, "alice", ALICE_PW);
	ck_assert_str_ne(b.session, first);
	h = sha(first);
	ck_assert_int_eq(check_sql_int(db,
				       "SELECT count(*) FROM sessions WHERE "
				       "id_hash = ?1",
				       h),
			 0);
	free(h);
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM sessions", NULL), 1);
}
END_TEST

START_TEST(test_login_csrf)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids, bad;
	char q[1024];

	expect_login_page(get(&b, query(&a)), &ids);
	bad = ids;
	bad.csrf[0] = bad.csrf[0] == 'A' ? 'B' : 'A';
	expect_page(post(&b, login_body(&bad, "alice", ALICE_PW)), 403,
		    "invalid_request");
	/* The request id is no CSRF token. */
	snprintf(bad.csrf, sizeof(bad.csrf), "%s", ids.request_id);
	expect_page(post(&b, login_body(&bad, "alice", ALICE_PW)), 403,
		    "invalid_request");
	snprintf(q, sizeof(q),
		 "step=login&request_id=%s&username=alice&password=correct+horse",
		 ids.request_id);
	expect_page(post(&b, q), 403, "invalid_request");
	snprintf(q, sizeof(q),
		 "step=login&request_id=%s&csrf=&username=alice&password=correct+horse",
		 ids.request_id);
	expect_page(post(&b, q), 403, "invalid_request");
	ck_assert_str_eq(b.session, "");
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM sessions", NULL), 0);
}
END_TEST

/* SECURITY.md: Origin checked on the forms. */
START_TEST(test_login_origin)
{
	static const char *const bad[] = {
		"https://evil.example",
		"https://auth.example.com.evil.example",
		"http://auth.example.com",
		"https://auth.example.com:8443",
		"https://AUTH.example.com.",
		ISSUER,
	};
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	struct mcpauth_resp *resp;

	expect_login_page(get(&b, query(&a)), &ids);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		resp = run(&b, "POST", AUTHZ, "", FORM,
			   login_body(&ids, "alice", ALICE_PW), bad[i]);
		ck_assert_msg(resp->status == 403, "%s: %d", bad[i],
			      resp->status);
		expect_page(resp, 403, "invalid_request");
	}
	ck_assert_str_eq(b.session, "");
	/* Our own origin passes. */
	resp = run(&b, "POST", AUTHZ, "", FORM,
		   login_body(&ids, "alice", ALICE_PW), ORIGIN);
	ck_assert_int_eq(resp->status, 303);
	mcpauth_resp_free(resp);
}
END_TEST

/*
 * Our pages send Referrer-Policy: same-origin, so our own forms carry our
 * origin; "Origin: null" (a sandboxed frame, a page with no-referrer) is
 * another site's and refused.
 */
START_TEST(test_login_origin_null)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;

	expect_login_page(get(&b, query(&a)), &ids);
	expect_page(run(&b, "POST", AUTHZ, "", FORM,
			login_body(&ids, "alice", ALICE_PW), "null"),
		    403, "invalid_request");
}
END_TEST

START_TEST(test_login_flow_cookie)
{
	struct browser b = { 0 }, other = { 0 }, none = { 0 };
	struct areq a = native();
	struct form_ids ids, theirs;
	char q[1024];

	expect_login_page(get(&b, query(&a)), &ids);
	/* No flow cookie at all. */
	expect_page(post(&none, login_body(&ids, "alice", ALICE_PW)), 400,
		    "invalid_request");
	/* Another browser, with its own flow cookie and request. */
	expect_login_page(get(&other, query(&a)), &theirs);
	ck_assert_str_ne(other.flow, b.flow);
	expect_page(post(&other, login_body(&ids, "alice", ALICE_PW)), 400,
		    "invalid_request");
	/* Its request in our browser, even with its csrf. */
	expect_page(post(&b, login_body(&theirs, "alice", ALICE_PW)), 400,
		    "invalid_request");
	/* A flow cookie sent twice is trusted for neither. */
	{
		struct mcpauth_req req = { 0 };
		struct mcpauth_resp *resp = mcpauth_resp_new();
		char jar[512];
		snprintf(jar, sizeof(jar), FLOW_COOKIE "=%s; " FLOW_COOKIE "=%s",
			 b.flow, other.flow);
		req.method = "POST";
		req.path = AUTHZ;
		req.query = "";
		req.content_type = FORM;
		req.cookie = jar;
		req.body = (char *)login_body(&ids, "alice", ALICE_PW);
		req.body_len = strlen(req.body);
		mcpauth_dispatch(&ctx, authorize_handle, &req, resp);
		expect_page(resp, 400, "invalid_request");
	}
	/* Unknown or missing request id. */
	snprintf(q, sizeof(q), "step=login&request_id=%s&csrf=%s&username=alice"
		 "&password=x", ids.csrf, ids.csrf);
	expect_page(post(&b, q), 400, "invalid_request");
	snprintf(q, sizeof(q), "step=login&csrf=%s&username=alice&password=x",
		 ids.csrf);
	expect_page(post(&b, q), 400, "invalid_request");
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM sessions", NULL), 0);
	/* The rightful browser still can. */
	login_ok(&b, &ids, "alice", ALICE_PW);
}
END_TEST

/* An expired request cannot be continued. */
START_TEST(test_login_request_expired)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;

	expect_login_page(get(&b, query(&a)), &ids);
	check_sql_exec(
		db,
		"UPDATE authorization_requests SET expires_at = created_at - 1",
		NULL);
	expect_page(post(&b, login_body(&ids, "alice", ALICE_PW)), 400,
		    "invalid_request");
	expect_page(get(&b, continuation(ids.request_id)), 400,
		    "invalid_request");
}
END_TEST

START_TEST(test_post_form_checks)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;

	expect_login_page(get(&b, query(&a)), &ids);
	expect_page(run(&b, "POST", AUTHZ, "", "application/json",
			login_body(&ids, "alice", ALICE_PW), NULL),
		    400, "invalid_request");
	expect_page(run(&b, "POST", AUTHZ, "", NULL,
			login_body(&ids, "alice", ALICE_PW), NULL),
		    400, "invalid_request");
	expect_page(run(&b, "POST", AUTHZ, "", "multipart/form-data",
			login_body(&ids, "alice", ALICE_PW), NULL),
		    400, "invalid_request");
	expect_page(post(&b, "step=other"), 400, "invalid_request");
	expect_page(post(&b, ""), 400, "invalid_request");
	/* A GET-style request posted is no form of ours. */
	expect_page(post(&b, query(&a)), 400, "invalid_request");
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM sessions", NULL), 0);
}
END_TEST

/* A disabled user's session is no sign-in. */
START_TEST(test_session_of_disabled_user)
{
	struct mcpauth_err err = { 0 };
	struct browser b = { 0 };
	struct areq a = native();
	bool found;

	signed_in(&b, alice);
	consent_given(alice, NATIVE, FILES, "files:read");
	ck_assert(mcpauth_store_user_set_disabled(ctx.store, "alice",
						  (long long)time(NULL),
						  &found, &err));
	expect_login_page(get(&b, query(&a)), NULL);
	a.prompt = "none";
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB, "login_required",
			      "st-123");
	ck_assert_int_eq(codes(), 0);
}
END_TEST

/* ===== consent ============================================================= */

START_TEST(test_consent_page)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	struct mcpauth_resp *resp;
	char login_csrf[128];

	a.scope = "files:read files:write";
	expect_login_page(get(&b, query(&a)), &ids);
	snprintf(login_csrf, sizeof(login_csrf), "%s", ids.csrf);
	login_ok(&b, &ids, "alice", ALICE_PW);
	resp = get(&b, continuation(ids.request_id));
	ck_assert_int_eq(resp->status, 200);
	/* What the user decides on, every interpolation escaped. */
	ck_assert(body_has(resp, NATIVE_NAME_ESC));
	ck_assert(!body_has(resp, "<script>"));
	ck_assert(body_has(resp, "127.0.0.1:6276"));
	ck_assert(body_has(resp, "Files"));
	ck_assert(body_has(resp, FILES));
	ck_assert(body_has(resp, "<code>files:read</code>"));
	ck_assert(body_has(resp, "<code>files:write</code>"));
	ck_assert(body_has(resp, "Signed in as <strong>alice</strong>"));
	ck_assert(body_has(resp, ">Allow</button>"));
	ck_assert(body_has(resp, "<form method=\"post\" action=\"" ISSUER
				 "/authorize\">"));
	/* A loopback redirect: the warning. */
	ck_assert(body_has(resp, "class=\"warning\""));
	expect_consent_page(resp, &ids);
	/* A fresh CSRF token for this page. */
	ck_assert_str_ne(ids.csrf, login_csrf);
	ck_assert_uint_eq(strlen(ids.csrf), 43);
	ck_assert_int_eq(codes(), 0);
}
END_TEST

/* No loopback, no warning; a named web app. */
START_TEST(test_consent_page_web)
{
	struct browser b = { 0 };
	struct areq a = for_client(WEB, WEB_CB);
	struct form_ids ids;
	struct mcpauth_resp *resp;

	expect_login_page(get(&b, query(&a)), &ids);
	login_ok(&b, &ids, "bob", BOB_PW);
	resp = get(&b, continuation(ids.request_id));
	ck_assert(body_has(resp, "Web App"));
	ck_assert(body_has(resp, "app.example.com"));
	ck_assert(body_has(resp, "Signed in as <strong>bob</strong>"));
	ck_assert(!body_has(resp, "class=\"warning\""));
	expect_consent_page(resp, NULL);
}
END_TEST

START_TEST(test_consent_approve)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	char code[128], v[256], *h;

	a.scope = "files:read offline_access";
	to_consent(&b, &a, "alice", ALICE_PW, &ids);
	expect_code(post(&b, consent_body(&ids, "approve")), NATIVE_CB,
		    "st-123", code);
	/* The code row, by hash only, bound to everything that matters. */
	ck_assert_int_eq(codes(), 1);
	h = sha(code);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM authorization_codes "
			      "WHERE code_hash = ?1 AND client_id = '" NATIVE
			      "' AND redirect_uri = '" NATIVE_CB
			      "' AND code_challenge = '" CHALLENGE
			      "' AND resource = '" FILES "' AND scope = "
			      "'files:read offline_access' AND "
			      "consumed_at IS NULL AND family_id IS NULL",
			      h),
		1);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT user_id FROM authorization_codes "
			      "WHERE code_hash = ?1",
			      h),
		alice);
	/* Codes live at most 60 s. */
	ck_assert_int_le(
		check_sql_int(db,
			      "SELECT expires_at - created_at FROM "
			      "authorization_codes WHERE code_hash = ?1",
			      h),
		60);
	ck_assert_int_gt(
		check_sql_int(db,
			      "SELECT expires_at - created_at FROM "
			      "authorization_codes WHERE code_hash = ?1",
			      h),
		0);
	free(h);
	ck_assert(!check_db_contains(db, code));
	/* The consent, remembered; the request, gone. */
	ck_assert(check_sql_text(
		db,
		"SELECT scope FROM consents WHERE client_id = '" NATIVE
		"' AND resource = '" FILES "'",
		NULL, v, sizeof(v)));
	ck_assert_str_eq(v, "files:read offline_access");
	ck_assert_int_eq(requests(), 0);
	/* The form cannot be sent twice. */
	expect_page(post(&b, consent_body(&ids, "approve")), 400,
		    "invalid_request");
	ck_assert_int_eq(codes(), 1);
}
END_TEST

/* Consents add up: a later approval keeps what was granted before. */
START_TEST(test_consent_accumulates)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	char code[128], v[256];

	signed_in(&b, alice);
	consent_given(alice, NATIVE, FILES, "files:read");
	a.scope = "files:write";
	expect_consent_page(get(&b, query(&a)), &ids);
	expect_code(post(&b, consent_body(&ids, "approve")), NATIVE_CB,
		    "st-123", code);
	ck_assert(check_sql_text(
		db, "SELECT scope FROM consents WHERE client_id = '" NATIVE "'",
		NULL, v, sizeof(v)));
	ck_assert_str_eq(v, "files:read files:write");
}
END_TEST

START_TEST(test_consent_deny)
{
	static const char *const decisions[] = { "deny", NULL, "Approve",
						  "yes" };
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;

	to_consent(&b, &a, "alice", ALICE_PW, &ids);
	expect_redirect_error(post(&b, consent_body(&ids, decisions[_i])),
			      NATIVE_CB, "access_denied", "st-123");
	ck_assert_int_eq(codes(), 0);
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM consents", NULL), 0);
	ck_assert_int_eq(requests(), 0);
}
END_TEST

START_TEST(test_consent_csrf)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids, bad, login_ids;
	char q[1024];

	expect_login_page(get(&b, query(&a)), &ids);
	login_ids = ids;
	login_ok(&b, &ids, "alice", ALICE_PW);
	expect_consent_page(get(&b, continuation(ids.request_id)), &ids);
	bad = ids;
	bad.csrf[5] = bad.csrf[5] == 'A' ? 'B' : 'A';
	expect_page(post(&b, consent_body(&bad, "approve")), 403,
		    "invalid_request");
	/* The login page's token was replaced by the consent page's. */
	expect_page(post(&b, consent_body(&login_ids, "approve")), 403,
		    "invalid_request");
	snprintf(q, sizeof(q), "step=consent&request_id=%s&decision=approve",
		 ids.request_id);
	expect_page(post(&b, q), 403, "invalid_request");
	ck_assert_int_eq(codes(), 0);
	/* A refused form leaves the request usable. */
	expect_code(post(&b, consent_body(&ids, "approve")), NATIVE_CB,
		    "st-123", q);
}
END_TEST

START_TEST(test_consent_origin)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;

	to_consent(&b, &a, "alice", ALICE_PW, &ids);
	expect_page(run(&b, "POST", AUTHZ, "", FORM,
			consent_body(&ids, "approve"), "https://evil.example"),
		    403, "invalid_request");
	ck_assert_int_eq(codes(), 0);
}
END_TEST

START_TEST(test_consent_flow_cookie)
{
	struct browser b = { 0 }, other = { 0 };
	struct areq a = native();
	struct form_ids ids;

	to_consent(&b, &a, "alice", ALICE_PW, &ids);
	/* Another browser, even with the session cookie copied. */
	snprintf(other.session, sizeof(other.session), "%s", b.session);
	expect_page(post(&other, consent_body(&ids, "approve")), 400,
		    "invalid_request");
	/* With a flow cookie of its own. */
	mcpauth_resp_free(get(&other, query(&a)));
	ck_assert_uint_eq(strlen(other.flow), 43);
	expect_page(post(&other, consent_body(&ids, "approve")), 400,
		    "invalid_request");
	ck_assert_int_eq(codes(), 0);
}
END_TEST

/* The consent belongs to the sign-in made for this request. */
START_TEST(test_consent_other_session)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids, second;

	to_consent(&b, &a, "alice", ALICE_PW, &ids);
	/* Signed in again as bob for another request: a new session. */
	a.prompt = "login";
	expect_login_page(get(&b, query(&a)), &second);
	login_ok(&b, &second, "bob", BOB_PW);
	expect_page(post(&b, consent_body(&ids, "approve")), 403,
		    "invalid_request");
	/* No session at all. */
	b.session[0] = '\0';
	expect_page(post(&b, consent_body(&ids, "approve")), 403,
		    "invalid_request");
	ck_assert_int_eq(codes(), 0);
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM consents", NULL), 0);
}
END_TEST

/* A continuation by another sign-in goes back to the login page. */
START_TEST(test_continuation_other_session)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;

	expect_login_page(get(&b, query(&a)), &ids);
	login_ok(&b, &ids, "alice", ALICE_PW);
	signed_in(&b, bob);
	expect_login_page(get(&b, continuation(ids.request_id)), NULL);
	ck_assert_int_eq(codes(), 0);
}
END_TEST

/* ===== prompt and remembered consent ======================================== */

START_TEST(test_prompt_none_login_required)
{
	struct browser b = { 0 };
	struct areq a = native();

	a.prompt = "none";
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB, "login_required",
			      "st-123");
	ck_assert_int_eq(requests(), 0);
	/* prompt=none login: sign-in would be needed. */
	signed_in(&b, alice);
	consent_given(alice, NATIVE, FILES, "files:read");
	a.prompt = "none login";
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB, "login_required",
			      "st-123");
	ck_assert_int_eq(codes(), 0);
}
END_TEST

START_TEST(test_prompt_none_consent_required)
{
	struct browser b = { 0 };
	struct areq a = native();

	signed_in(&b, alice);
	a.prompt = "none";
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB,
			      "consent_required", "st-123");
	/* A consent that does not cover the scope. */
	consent_given(alice, NATIVE, FILES, "files:read");
	a.scope = "files:read files:write";
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB,
			      "consent_required", "st-123");
	/* Another user's consent. */
	consent_given(bob, NATIVE, FILES, "files:read files:write");
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB,
			      "consent_required", "st-123");
	/* prompt=none consent: a page would be needed. */
	a.scope = "files:read";
	a.prompt = "none consent";
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB,
			      "consent_required", "st-123");
	ck_assert_int_eq(requests(), 0);
	ck_assert_int_eq(codes(), 0);
}
END_TEST

START_TEST(test_prompt_none_ok)
{
	struct browser b = { 0 };
	struct areq a = native();
	char code[128];

	signed_in(&b, alice);
	consent_given(alice, NATIVE, FILES, "files:read files:write");
	a.prompt = "none";
	a.scope = "files:write";
	expect_code(get(&b, query(&a)), NATIVE_CB, "st-123", code);
	ck_assert_int_eq(codes(), 1);
}
END_TEST

/* A consent covering the scopes: straight back with a code. */
START_TEST(test_consent_remembered)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	char code[128], *h;

	to_consent(&b, &a, "alice", ALICE_PW, &ids);
	expect_code(post(&b, consent_body(&ids, "approve")), NATIVE_CB,
		    "st-123", code);
	/* Same scope again: no page. */
	a.state = "second";
	expect_code(get(&b, query(&a)), NATIVE_CB, "second", code);
	ck_assert_int_eq(codes(), 2);
	h = sha(code);
	ck_assert_int_eq(
		check_sql_int(db,
			      "SELECT count(*) FROM authorization_codes "
			      "WHERE code_hash = ?1",
			      h),
		1);
	free(h);
	/* A wider scope asks again. */
	a.scope = "files:read files:write";
	expect_consent_page(get(&b, query(&a)), NULL);
	/* Consent at one resource is none at another. */
	a.scope = NULL;
	a.resource = MAIL;
	expect_consent_page(get(&b, query(&a)), NULL);
	ck_assert_int_eq(codes(), 2);
}
END_TEST

START_TEST(test_prompt_consent)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	char code[128];

	signed_in(&b, alice);
	consent_given(alice, NATIVE, FILES, "files:read files:write");
	a.prompt = "consent";
	expect_consent_page(get(&b, query(&a)), &ids);
	ck_assert_int_eq(codes(), 0);
	expect_code(post(&b, consent_body(&ids, "approve")), NATIVE_CB,
		    "st-123", code);
	/* Even a first-party client. */
	a = for_client(FIRST, FIRST_CB);
	a.prompt = "consent";
	expect_consent_page(get(&b, query(&a)), NULL);
}
END_TEST

START_TEST(test_prompt_login)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	char code[128];

	signed_in(&b, alice);
	consent_given(alice, NATIVE, FILES, "files:read");
	a.prompt = "login";
	expect_login_page(get(&b, query(&a)), &ids);
	ck_assert_int_eq(codes(), 0);
	login_ok(&b, &ids, "alice", ALICE_PW);
	/* Signed in again and consented: the code. */
	expect_code(get(&b, continuation(ids.request_id)), NATIVE_CB,
		    "st-123", code);
}
END_TEST

START_TEST(test_first_party)
{
	struct browser b = { 0 };
	struct areq a = for_client(FIRST, FIRST_CB);
	struct form_ids ids;
	char code[128];

	/* Signing in is still needed. */
	expect_login_page(get(&b, query(&a)), &ids);
	login_ok(&b, &ids, "alice", ALICE_PW);
	expect_code(get(&b, continuation(ids.request_id)), FIRST_CB, "st-123",
		    code);
	ck_assert_int_eq(
		check_sql_int(db, "SELECT count(*) FROM consents", NULL), 0);
	/* And with prompt=none. */
	a.prompt = "none";
	a.scope = "files:read files:write";
	expect_code(get(&b, query(&a)), FIRST_CB, "st-123", code);
	ck_assert_int_eq(codes(), 2);
}
END_TEST

/*
 * Everything granted is shown: a resource with many scopes, all asked for,
 * all on the page.
 */
START_TEST(test_consent_many_scopes)
{
	char extra[2048], scopes[1024] = "", want[64];
	struct browser b = { 0 };
	struct areq a;
	struct mcpauth_resp *resp;

	for (int i = 1; i <= 40; i++)
		snprintf(scopes + strlen(scopes), sizeof(scopes) - strlen(scopes),
			 "%ss%d", i > 1 ? " " : "", i);
	snprintf(extra, sizeof(extra),
		 "default_resource = " FILES "\n"
		 "[resource]\n"
		 "url = https://big.example.com/mcp\n"
		 "scopes = %s\n",
		 scopes);
	reopen(extra);
	add_client("big", "web", "https://big.example.com/cb", NULL,
		   "authorization_code", scopes, "Big");
	signed_in(&b, alice);
	a = for_client("big", "https://big.example.com/cb");
	a.resource = "https://big.example.com/mcp";
	a.scope = scopes;
	resp = get(&b, query(&a));
	status_is(resp, 200);
	for (int i = 1; i <= 40; i++) {
		snprintf(want, sizeof(want), "<code>s%d</code>", i);
		if (!body_has(resp, want)) {
			mcpauth_resp_free(resp);
			ck_abort_msg("%s not shown", want);
		}
	}
	expect_consent_page(resp, NULL);
}
END_TEST

/* ===== redirect URIs of native apps ============================================ */

/* RFC 8252 §7.3: any port on a loopback IP for a native client. */
START_TEST(test_loopback_port)
{
	static const char *const ok[] = {
		"http://127.0.0.1:50000/cb",
		"http://127.0.0.1:1/cb",
		"http://127.0.0.1/cb",
	};
	struct browser b = { 0 };
	struct areq a = for_client(NATIVE, ok[_i]);
	char code[128], v[256], *h;

	signed_in(&b, alice);
	consent_given(alice, NATIVE, FILES, "files:read");
	expect_code(get(&b, query(&a)), ok[_i], "st-123", code);
	/* The code is bound to the URI used. */
	h = sha(code);
	ck_assert(check_sql_text(db,
				 "SELECT redirect_uri FROM authorization_codes "
				 "WHERE code_hash = ?1",
				 h, v, sizeof(v)));
	ck_assert_str_eq(v, ok[_i]);
	free(h);
	/* Errors go there too. */
	a.response_type = "token";
	expect_redirect_error(get(&b, query(&a)), ok[_i],
			      "unsupported_response_type", "st-123");
}
END_TEST

/* RFC 8252 §7.3 names [::1] as much as 127.0.0.1. */
START_TEST(test_loopback_port_ipv6)
{
	struct browser b = { 0 };
	struct areq a = for_client(NATIVE_V6, "http://[::1]:50000/cb");
	char code[128];

	signed_in(&b, alice);
	consent_given(alice, NATIVE_V6, FILES, "files:read");
	expect_code(get(&b, query(&a)), "http://[::1]:50000/cb", "st-123",
		    code);
	a.redirect_uri = NATIVE_V6_CB;
	expect_code(get(&b, query(&a)), NATIVE_V6_CB, "st-123", code);
	/* Still loopback, still the same path. */
	a.redirect_uri = "http://[::1]:50000/other";
	expect_page(get(&b, query(&a)), 400, "invalid_request");
	a.redirect_uri = "http://127.0.0.1:6276/cb";
	expect_page(get(&b, query(&a)), 400, "invalid_request");
}
END_TEST

/* Only a native client's loopback URI: not web, not a named host. */
START_TEST(test_port_change_refused)
{
	static const struct {
		const char *client, *uri;
	} bad[] = {
		{ WEB_LO, "http://127.0.0.1:7001/cb" },
		{ WEB_LO, "http://127.0.0.1/cb" },
		{ WEB, "https://app.example.com:8443/cb" },
		{ WEB, "https://app.example.com:9443/cb2" },
		{ WEB, "https://app.example.com/cb2" },
		{ NATIVE_HTTPS, "https://native.example.com:9443/cb" },
		{ NATIVE_HTTPS, "https://native.example.com/cb" },
	};
	struct browser b = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct areq a = for_client(bad[i].client, bad[i].uri);
		struct mcpauth_resp *resp = get(&b, query(&a));
		ck_assert_msg(resp->status == 400, "%s %s: %d", bad[i].client,
			      bad[i].uri, resp->status);
		expect_page(resp, 400, "invalid_request");
	}
	ck_assert_int_eq(requests(), 0);
	/* Their registered URIs work. */
	{
		struct areq a = for_client(WEB_LO, WEB_LO_CB);
		expect_login_page(get(&b, query(&a)), NULL);
		a = for_client(NATIVE_HTTPS, NATIVE_HTTPS_CB);
		expect_login_page(get(&b, query(&a)), NULL);
	}
}
END_TEST

/* ===== pages and routes ========================================================= */

/* Every page, whatever it says, carries the protections. */
START_TEST(test_page_headers)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	struct mcpauth_resp *resp;

	resp = get(&b, "client_id=nobody");
	page_headers(resp);
	mcpauth_resp_free(resp);
	resp = get(&b, query(&a));
	page_headers(resp);
	ck_assert(field(resp, "csrf", ids.csrf, sizeof(ids.csrf)));
	ck_assert(field(resp, "request_id", ids.request_id,
			sizeof(ids.request_id)));
	mcpauth_resp_free(resp);
	resp = post(&b, login_body(&ids, "alice", "wrong"));
	page_headers(resp);
	mcpauth_resp_free(resp);
	login_ok(&b, &ids, "alice", ALICE_PW);
	resp = get(&b, continuation(ids.request_id));
	page_headers(resp);
	mcpauth_resp_free(resp);
	resp = run(&b, "PUT", AUTHZ, "", NULL, NULL, NULL);
	page_headers(resp);
	mcpauth_resp_free(resp);
	resp = run(&b, "GET", "/t1/nothing", "", NULL, NULL, NULL);
	page_headers(resp);
	mcpauth_resp_free(resp);
}
END_TEST

/* A client without a name: its id is shown, escaped like anything else. */
START_TEST(test_consent_unnamed)
{
	struct browser b = { 0 };
	struct areq a = for_client(WEB_LO, WEB_LO_CB);
	struct mcpauth_resp *resp;

	signed_in(&b, alice);
	resp = get(&b, query(&a));
	ck_assert(body_has(resp, WEB_LO));
	expect_consent_page(resp, NULL);
}
END_TEST

START_TEST(test_stylesheet)
{
	static const char *const methods[] = { "GET", "HEAD" };
	struct mcpauth_resp *resp =
		run(NULL, methods[_i], "/t1/static/style.css", "", NULL, NULL,
		    NULL);
	char path[4200];
	FILE *f;
	char *want = malloc(256 * 1024);
	size_t n;

	snprintf(path, sizeof(path), "%s/www/style.css", MCPAUTH_TEST_SRCDIR);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(want, 1, 256 * 1024, f);
	fclose(f);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(resp->content_type, "text/css; charset=utf-8");
	ck_assert_str_eq(check_header(resp, "X-Content-Type-Options"),
			 "nosniff");
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(resp->body_len, n);
	ck_assert(memcmp(resp->body, want, n) == 0);
	free(want);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_methods_and_paths)
{
	static const char *const methods[] = { "PUT", "DELETE", "PATCH",
					       "OPTIONS", "get" };
	struct mcpauth_resp *resp;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		resp = run(NULL, methods[i], AUTHZ, "", FORM, "", NULL);
		ck_assert_msg(resp->status == 405, "%s: %d", methods[i],
			      resp->status);
		ck_assert_str_eq(check_header(resp, "Allow"), "GET, HEAD, POST");
		expect_page(resp, 405, "invalid_request");
	}
	resp = run(NULL, "POST", "/t1/static/style.css", "", FORM, "", NULL);
	ck_assert_int_ne(resp->status, 200);
	mcpauth_resp_free(resp);
	expect_page(run(NULL, "GET", "/authorize", "", NULL, NULL, NULL), 404,
		    "invalid_request");
	expect_page(run(NULL, "GET", "/t1/authorize/", "", NULL, NULL, NULL),
		    404, "invalid_request");
	expect_page(run(NULL, "GET", "/t1/static/other.css", "", NULL, NULL,
			NULL),
		    404, "invalid_request");
	expect_page(run(NULL, "GET", "/t1/static/../mcpauth.conf", "", NULL,
			NULL, NULL),
		    404, "invalid_request");
}
END_TEST

/* The whole flow leaves no secret in the database file. */
START_TEST(test_no_plaintext)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	char code[128];

	to_consent(&b, &a, "alice", ALICE_PW, &ids);
	expect_code(post(&b, consent_body(&ids, "approve")), NATIVE_CB,
		    "st-123", code);
	ck_assert(!check_db_contains(db, code));
	ck_assert(!check_db_contains(db, b.session));
	ck_assert(!check_db_contains(db, b.flow));
	ck_assert(!check_db_contains(db, ids.csrf));
	ck_assert(!check_db_contains(db, ids.request_id));
	ck_assert(!check_db_contains(db, ALICE_PW));
}
END_TEST

/* A dynamically registered client, never used (last_used_at unset). */
static void add_dynamic(const char *id, const char *uri, const char *uri2)
{
	char *uris[] = { (char *)uri, (char *)uri2 };
	long long now = (long long)time(NULL);
	struct mcpauth_client c = {
		.client_id = (char *)id,
		.source = "dynamic",
		.auth_method = "none",
		.application_type = "native",
		.redirect_uris = uris,
		.nredirect_uris = uri2 != NULL ? 2 : 1,
		.grant_types = "authorization_code refresh_token",
		.scope = "files:read files:write offline_access",
		.metadata = "{}",
		.created_at = now,
		.updated_at = now,
	};

	check_client_add(ctx.store, &c);
}

/*
 * SECURITY.md: no automatic redirect to a newly registered client before
 * the user has authenticated. A dynamic client that has never been given a
 * code gets its errors as pages, even when the browser is signed in
 * (a victim's session must not make an attacker's registration a
 * redirector); once used, as redirects.
 */
START_TEST(test_new_dynamic_client_no_redirect)
{
	struct browser b = { 0 };
	struct areq a = for_client("dyn-1", "https://evil.example/phish");
	struct mcpauth_err err = { 0 };

	add_dynamic("dyn-1", "https://evil.example/phish", NULL);
	a.response_type = "token";
	expect_page(get(&b, query(&a)), 400, "unsupported_response_type");
	signed_in(&b, alice);
	expect_page(get(&b, query(&a)), 400, "unsupported_response_type");
	a.response_type = "code";
	a.prompt = "none";
	expect_page(get(&b, query(&a)), 400, "consent_required");
	/* Used once: a client like any other. */
	ck_assert(mcpauth_store_client_touch(ctx.store, "dyn-1",
					     (long long)time(NULL), &err));
	expect_redirect_error(get(&b, query(&a)), "https://evil.example/phish",
			      "consent_required", "st-123");
}
END_TEST

/*
 * A registered redirect URI shorter than "http://" next to a loopback one:
 * the port-flexible match must not read past it (ASan found this).
 */
START_TEST(test_loopback_match_short_uri)
{
	struct browser b = { 0 };
	struct areq a = for_client("dyn-short", "http://127.0.0.1:9/cb");

	add_dynamic("dyn-short", "a:b", "http://127.0.0.1:5/cb");
	expect_login_page(get(&b, query(&a)), &(struct form_ids){ 0 });
	a.redirect_uri = "http://127.0.0.1:9/other";
	expect_page(get(&b, query(&a)), 400, "invalid_request");
}
END_TEST

/* state is kept, but not without bound. */
START_TEST(test_state_too_long)
{
	struct browser b = { 0 };
	struct areq a = native();
	char state[1100];

	memset(state, 's', sizeof(state) - 1);
	state[sizeof(state) - 1] = '\0';
	a.state = state;
	expect_redirect_error(get(&b, query(&a)), NATIVE_CB, "invalid_request",
			      NULL);
	ck_assert_int_eq(requests(), 0);
}
END_TEST

/* At most 50 unanswered requests per address; then a 429 page. */
START_TEST(test_pending_requests_capped)
{
	struct browser b = { 0 };
	struct areq a = native();

	for (int i = 0; i < 50; i++) {
		struct mcpauth_resp *resp = get(NULL, query(&a));
		ck_assert_int_eq(resp->status, 200);
		mcpauth_resp_free(resp);
	}
	ck_assert_int_eq(requests(), 50);
	expect_page(get(&b, query(&a)), 429, "temporarily_unavailable");
	ck_assert_int_eq(requests(), 50);
	/* Expired ones make room (they are deleted as new ones arrive). */
	check_sql_exec(db, "UPDATE authorization_requests SET expires_at = 1",
		       NULL);
	expect_login_page(get(&b, query(&a)), &(struct form_ids){ 0 });
	ck_assert_int_eq(requests(), 1);
}
END_TEST

/*
 * Failed sign-ins are audited with the username tried, and beyond 10 per
 * username (or 20 per address) in 15 minutes the form answers 429 without
 * checking the password; the right password waits too.
 */
START_TEST(test_login_throttled)
{
	struct browser b = { 0 };
	struct areq a = native();
	struct form_ids ids;
	struct mcpauth_resp *resp;

	expect_login_page(get(&b, query(&a)), &ids);
	for (int i = 0; i < 10; i++) {
		resp = post(&b, login_body(&ids, "alice", "wrong"));
		ck_assert_int_eq(resp->status, 200);
		ck_assert(body_has(resp, "Wrong username or password."));
		mcpauth_resp_free(resp);
	}
	ck_assert_int_eq(check_sql_int(db, "SELECT count(*) FROM audit_log "
					   "WHERE event = 'login' AND outcome "
					   "= 'refused' AND username = 'alice'",
				       NULL),
			 10);
	ck_assert_int_eq(check_sql_int(db, "SELECT count(*) FROM audit_log "
					   "WHERE detail LIKE '%wrong%' AND "
					   "username = 'wrong'",
				       NULL),
			 0);
	resp = post(&b, login_body(&ids, "alice", ALICE_PW));
	ck_assert_int_eq(resp->status, 429);
	ck_assert(body_has(resp, "Too many failed sign-ins"));
	ck_assert_ptr_null(set_cookie(resp, SESSION_COOKIE));
	mcpauth_resp_free(resp);
	/* Another user from the same address is not held back yet. */
	login_ok(&b, &ids, "bob", BOB_PW);
	/* After the window, alice may try again (in a fresh browser). */
	check_sql_exec(db, "UPDATE audit_log SET at = at - 900", NULL);
	{
		struct browser fresh = { 0 };
		expect_login_page(get(&fresh, query(&a)), &ids);
		login_ok(&fresh, &ids, "alice", ALICE_PW);
	}
}
END_TEST

/*
 * The cookie names carry the issuer's hash: two issuers on one host keep
 * separate sign-ins.
 */
START_TEST(test_cookie_names_per_issuer)
{
	unsigned char h[MCPAUTH_SHA256_LEN];
	char want[16];
	struct browser b = { 0 };
	struct areq a = native();
	struct mcpauth_resp *resp;

	mcpauth_crypto_sha256(ISSUER, strlen(ISSUER), h);
	snprintf(want, sizeof(want), "%02x%02x%02x%02x", h[0], h[1], h[2],
		 h[3]);
	ck_assert_str_eq(want, COOKIE_SUFFIX);
	resp = get(&b, query(&a));
	ck_assert_ptr_nonnull(set_cookie(resp, FLOW_COOKIE));
	mcpauth_resp_free(resp);
}
END_TEST

/* A client the operator disabled gets an error page, never a code. */
START_TEST(test_disabled_client)
{
	struct mcpauth_err err = { 0 };
	struct browser b = { 0 };
	struct areq a = native();
	bool found = false;

	ck_assert(mcpauth_store_client_set_disabled(
		ctx.store, NATIVE, (long long)time(NULL), &found, &err));
	ck_assert(found);
	expect_page(get(&b, query(&a)), 400, "invalid_client");
	ck_assert_int_eq(requests(), 0);
}
END_TEST

Suite *check_authorize_suite(void)
{
	Suite *s = suite_create("authorize");
	TCase *tc;

	tc = tcase_create("request");
	tcase_add_unchecked_fixture(tc, hash_passwords, free_passwords);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_no_client_id);
	tcase_add_test(tc, test_unknown_client);
	tcase_add_loop_test(tc, test_redirect_uri_refused, 0, NBAD_URIS);
	tcase_add_test(tc, test_redirect_uri_nul);
	tcase_add_test(tc, test_redirect_uri_omitted);
	tcase_add_test(tc, test_repeated_parameter);
	tcase_add_test(tc, test_error_page_escapes);
	tcase_add_test(tc, test_response_type);
	tcase_add_test(tc, test_error_without_state);
	tcase_add_test(tc, test_error_keeps_query);
	tcase_add_test(tc, test_state_round_trip);
	tcase_add_test(tc, test_code_challenge);
	tcase_add_test(tc, test_resource);
	tcase_add_test(tc, test_resource_required);
	tcase_add_test(tc, test_scope_refused);
	tcase_add_test(tc, test_scope_granted);
	suite_add_tcase(s, tc);

	tc = tcase_create("login");
	tcase_add_unchecked_fixture(tc, hash_passwords, free_passwords);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_login_page);
	tcase_add_test(tc, test_flow_cookie_kept);
	tcase_add_test(tc, test_login_wrong);
	tcase_add_test(tc, test_login_username_escaped);
	tcase_add_test(tc, test_login_ok);
	tcase_add_test(tc, test_login_new_session);
	tcase_add_test(tc, test_login_csrf);
	tcase_add_test(tc, test_login_origin);
	tcase_add_test(tc, test_login_origin_null);
	tcase_add_test(tc, test_login_flow_cookie);
	tcase_add_test(tc, test_login_request_expired);
	tcase_add_test(tc, test_post_form_checks);
	tcase_add_test(tc, test_session_of_disabled_user);
	suite_add_tcase(s, tc);

	tc = tcase_create("consent");
	tcase_add_unchecked_fixture(tc, hash_passwords, free_passwords);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_consent_page);
	tcase_add_test(tc, test_consent_page_web);
	tcase_add_test(tc, test_consent_approve);
	tcase_add_test(tc, test_consent_accumulates);
	tcase_add_loop_test(tc, test_consent_deny, 0, 4);
	tcase_add_test(tc, test_consent_csrf);
	tcase_add_test(tc, test_consent_origin);
	tcase_add_test(tc, test_consent_flow_cookie);
	tcase_add_test(tc, test_consent_other_session);
	tcase_add_test(tc, test_continuation_other_session);
	tcase_add_test(tc, test_consent_unnamed);
	tcase_add_test(tc, test_no_plaintext);
	tcase_add_test(tc, test_consent_many_scopes);
	suite_add_tcase(s, tc);

	tc = tcase_create("prompt");
	tcase_add_unchecked_fixture(tc, hash_passwords, free_passwords);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_prompt_none_login_required);
	tcase_add_test(tc, test_prompt_none_consent_required);
	tcase_add_test(tc, test_prompt_none_ok);
	tcase_add_test(tc, test_consent_remembered);
	tcase_add_test(tc, test_prompt_consent);
	tcase_add_test(tc, test_prompt_login);
	tcase_add_test(tc, test_first_party);
	suite_add_tcase(s, tc);

	tc = tcase_create("redirect");
	tcase_add_unchecked_fixture(tc, hash_passwords, free_passwords);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_loopback_port, 0, 3);
	tcase_add_test(tc, test_loopback_port_ipv6);
	tcase_add_test(tc, test_port_change_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("pages");
	tcase_add_unchecked_fixture(tc, hash_passwords, free_passwords);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_page_headers);
	tcase_add_test(tc, test_new_dynamic_client_no_redirect);
	tcase_add_test(tc, test_loopback_match_short_uri);
	tcase_add_test(tc, test_state_too_long);
	tcase_add_test(tc, test_pending_requests_capped);
	tcase_add_test(tc, test_login_throttled);
	tcase_add_test(tc, test_cookie_names_per_issuer);
	tcase_add_test(tc, test_disabled_client);
	tcase_add_loop_test(tc, test_stylesheet, 0, 2);
	tcase_add_test(tc, test_methods_and_paths);
	suite_add_tcase(s, tc);
	return s;
}

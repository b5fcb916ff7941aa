/*
 * client.c: client metadata validation (RFC 7591 §2, RFC 8252 §7 for native
 * redirect URIs), secrets, the registration response, and client
 * authentication at the token endpoint (RFC 6749 §2.3).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "b64.h"
#include "client.h"
#include "crypto.h"
#include "fetch.h"
#include "jose.h"
#include "json.h"
#include "log.h"
#include "scope.h"
#include "store.h"

void mcpauth_client_free(struct mcpauth_client *c)
{
	if (c == NULL)
		return;
	free(c->client_id);
	free(c->source);
	free(c->client_name);
	free(c->auth_method);
	free(c->application_type);
	for (size_t i = 0; i < c->nredirect_uris; i++)
		free(c->redirect_uris[i]);
	free(c->redirect_uris);
	free(c->grant_types);
	free(c->scope);
	free(c->software_id);
	free(c->software_version);
	free(c->metadata);
	free(c->secret_hash);
	free(c->registration_token_hash);
	free(c->registered_from);
	free(c->allowed_resources);
	free(c->jwks);
	free(c->jwks_uri);
	free(c->signing_alg);
	free(c->previous_secret_hash);
	free(c);
}

bool mcpauth_client_method_has_secret(const char *method)
{
	return method != NULL && (!strcmp(method, "client_secret_basic") ||
				  !strcmp(method, "client_secret_post"));
}

/* --- redirect URIs ------------------------------------------------------ */

#define BAD_URI(err, ...) MCPAUTH_ERR((err), 400, "invalid_redirect_uri", __VA_ARGS__)

/*
 * Schemes that a browser executes, reads locally or hands to another
 * program, and placeholders that are no redirect at all: never a redirect
 * target, even for native clients.
 */
static const char *const banned_schemes[] = {
	"javascript", "data", "vbscript", "file", "blob", "about",
	"filesystem", "view-source", "mailto", "tel", "sms", "ws", "wss",
	"ftp", "urn", "intent", "jar", "mhtml", "feed", "shell", "smb",
	"gopher", "search-ms", "res", "chrome", "edge",
};

/* Families of schemes that start OS handlers (ms-msdt: was Follina). */
static const char *const banned_prefixes[] = { "ms-", "vnd." };

static bool loopback_host(const char *host)
{
	return !strcasecmp(host, "127.0.0.1") || !strcasecmp(host, "localhost") ||
	       !strcmp(host, "[::1]");
}

/*
 * The scheme of uri (RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" /
 * "." ) before ':') into buf, lowercased; false when uri has none, i.e. is
 * relative.
 */
static bool uri_scheme(const char *uri, char *buf, size_t size)
{
	size_t n = 0;

	if (!isalpha((unsigned char)uri[0]))
		return false;
	while (isalnum((unsigned char)uri[n]) || uri[n] == '+' ||
	       uri[n] == '-' || uri[n] == '.')
		n++;
	if (uri[n] != ':' || n >= size)
		return false;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)uri[i]);
	buf[n] = '\0';
	return true;
}

/*
 * An http(s) URI through libcurl's parser. The authority must be written as
 * plain host[:port]: curl would turn 127.1 or 0x7f.0.0.1 into 127.0.0.1, and
 * /authorize compares the registered string byte for byte, so what is
 * registered must be what a reader sees. *loopback tells whether the host is
 * a loopback name.
 */
static bool http_uri_ok(const char *uri, const char *scheme, bool *loopback,
			struct mcpauth_err *err)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *user = NULL, *pass = NULL;
	char expect[600];
	const char *auth, *end;
	bool ok = false;

	if (u == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	auth = uri + strlen(scheme) + 1;
	if (strncmp(auth, "//", 2) != 0) {
		BAD_URI(err, "'%s' is not an absolute URL with a host", uri);
		goto out;
	}
	auth += 2;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL) {
		BAD_URI(err, "'%s' must not contain user information", uri);
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    *host == '\0') {
		BAD_URI(err, "'%s' is not a valid URL", uri);
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	if (user != NULL || pass != NULL) {
		BAD_URI(err, "'%s' must not contain user information", uri);
		goto out;
	}
	snprintf(expect, sizeof(expect), "%s%s%s", host, port ? ":" : "",
		 port ? port : "");
	if (strlen(expect) != (size_t)(end - auth) ||
	    strncasecmp(expect, auth, (size_t)(end - auth)) != 0) {
		BAD_URI(err, "'%s': write the host plainly (as %s)", uri,
			expect);
		goto out;
	}
	/*
	 * An ASCII host in lowercase (international names in their xn--
	 * form): "good.com。evil.com" or look-alike letters would read as
	 * one host on a consent page and reach another.
	 */
	for (const char *h = auth; h < end; h++) {
		if (!((*h >= 'a' && *h <= 'z') || (*h >= '0' && *h <= '9') ||
		      strchr(".-:[]", *h) != NULL)) {
			BAD_URI(err, "'%s': the host must be ASCII letters, "
				"digits, '.' and '-' in lowercase (xn-- form "
				"for international names)", uri);
			goto out;
		}
	}
	*loopback = loopback_host(host);
	ok = true;
out:
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_free(pass);
	curl_url_cleanup(u);
	return ok;
}

bool mcpauth_client_redirect_uri_ok(const char *uri, bool native,
				    struct mcpauth_err *err)
{
	char scheme[64];
	size_t len = strlen(uri);
	bool loopback = false;

	if (len == 0 || len > MCPAUTH_CLIENT_MAX_URI) {
		BAD_URI(err, "a redirect URI must have 1 to %d characters",
			MCPAUTH_CLIENT_MAX_URI);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)uri[i];
		if (c <= 0x20 || c == 0x7f) {
			BAD_URI(err, "'%s' contains a space or a control "
				"character", uri);
			return false;
		}
	}
	/* RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment. */
	if (strchr(uri, '#') != NULL) {
		BAD_URI(err, "'%s' must not contain a fragment ('#')", uri);
		return false;
	}
	if (!uri_scheme(uri, scheme, sizeof(scheme))) {
		BAD_URI(err, "'%s' is not an absolute URI (it needs a scheme "
			"such as https:)", uri);
		return false;
	}
	for (size_t i = 0;
	     i < sizeof(banned_schemes) / sizeof(banned_schemes[0]); i++) {
		if (!strcmp(scheme, banned_schemes[i])) {
			BAD_URI(err, "'%s:' URIs are not allowed as redirect "
				"URIs", scheme);
			return false;
		}
	}
	for (size_t i = 0;
	     i < sizeof(banned_prefixes) / sizeof(banned_prefixes[0]); i++) {
		if (!strncmp(scheme, banned_prefixes[i],
			     strlen(banned_prefixes[i]))) {
			BAD_URI(err, "'%s:' URIs are not allowed as redirect "
				"URIs", scheme);
			return false;
		}
	}
	/*
	 * Stored and compared byte for byte: one spelling only, the
	 * lowercase one RFC 3986 §3.1 calls canonical.
	 */
	if (strncmp(uri, scheme, strlen(scheme)) != 0) {
		BAD_URI(err, "'%s': write the scheme in lowercase", uri);
		return false;
	}
	if (!strcmp(scheme, "https") || !strcmp(scheme, "http")) {
		if (!http_uri_ok(uri, scheme, &loopback, err))
			return false;
		if (!strcmp(scheme, "http") && !loopback) {
			BAD_URI(err, "'%s': http is allowed only on a loopback "
				"host (127.0.0.1, [::1], localhost); use https",
				uri);
			return false;
		}
		if (!strcmp(scheme, "http") && !native) {
			BAD_URI(err, "'%s': web clients must use https; "
				"loopback redirects are for application_type "
				"native", uri);
			return false;
		}
		return true;
	}
	/* A private-use scheme (RFC 8252 §7.1): native apps only. */
	if (!native) {
		BAD_URI(err, "'%s': web clients must use https; private-use "
			"schemes are for application_type native", uri);
		return false;
	}
	if (uri[strlen(scheme) + 1] == '\0') {
		BAD_URI(err, "'%s' has nothing after the scheme", uri);
		return false;
	}
	if (!strncmp(uri + strlen(scheme) + 1, "//", 2)) {
		const char *a = uri + strlen(scheme) + 3;
		if (memchr(a, '@', strcspn(a, "/?")) != NULL) {
			BAD_URI(err, "'%s' must not contain user information",
				uri);
			return false;
		}
	}
	return true;
}

bool mcpauth_client_redirect_uri_loopback(const char *uri)
{
	char scheme[64];
	bool loopback = false;

	return uri_scheme(uri, scheme, sizeof(scheme)) &&
	       !strcmp(scheme, "http") &&
	       http_uri_ok(uri, scheme, &loopback, NULL) && loopback;
}

/* --- metadata ----------------------------------------------------------- */

#define BAD_META(err, ...)                                                   \
	MCPAUTH_ERR((err), 400, "invalid_client_metadata", __VA_ARGS__)

/* The member key of in, or NULL when absent or JSON null (= omitted). */
static struct json_object *member(struct json_object *in, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(in, key, &v))
		return NULL;
	return v;
}

/*
 * Text a user will read (client_name on the consent page, contacts): no C0
 * or C1 control character, DEL, or Unicode text-direction control (U+061C,
 * U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which could make a name
 * display as another. s is valid UTF-8 (the JSON parser checked).
 */
static bool text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		/* U+0080-U+009F: C2 80 - C2 9F */
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return false;
		/* U+061C: D8 9C */
		if (p[0] == 0xd8 && p[1] == 0x9c)
			return false;
		/* U+200E, U+200F, U+202A-U+202E: E2 80 8E/8F/AA-AE */
		if (p[0] == 0xe2 && p[1] == 0x80 &&
		    (p[2] == 0x8e || p[2] == 0x8f ||
		     (p[2] >= 0xaa && p[2] <= 0xae)))
			return false;
		/* U+2066-U+2069: E2 81 A6-A9 */
		if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 &&
		    p[2] <= 0xa9)
			return false;
	}
	return true;
}

/* Length of the UTF-8 sequence starting at p (1 for a stray byte). */
static size_t seq_len(const unsigned char *p)
{
	size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;

	for (size_t i = 1; i < n; i++)
		if (p[i] == '\0')
			return 1;
	return mcpauth_utf8_valid((const char *)p, n) ? n : 1;
}

void mcpauth_client_text_copy(char *dst, size_t size, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0;

	if (size == 0)
		return;
	while (p != NULL && *p != '\0') {
		size_t n = seq_len(p);
		char seq[5] = { 0 };

		memcpy(seq, p, n);
		if (n == 1 && *p >= 0x80)
			seq[0] = '?'; /* not UTF-8 */
		else if (seq[0] == '"')
			seq[0] = '\'';
		else if (!text_ok(seq)) {
			seq[0] = '?';
			seq[1] = '\0';
		}
		if (o + strlen(seq) >= size)
			break; /* never cut a character in two */
		memcpy(dst + o, seq, strlen(seq));
		o += strlen(seq);
		p += n;
	}
	dst[o] = '\0';
}

/* An optional short string member copied into out (NULL when omitted). */
static bool opt_string(struct json_object *in, const char *key, size_t max,
		       struct json_object *out, struct mcpauth_err *err)
{
	struct json_object *v = member(in, key);
	const char *s;

	if (v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_string)) {
		BAD_META(err, "'%s' must be a string", key);
		return false;
	}
	s = json_object_get_string(v);
	if (strlen(s) > max) {
		BAD_META(err, "'%s' is longer than %lu bytes", key,
			 (unsigned long)max);
		return false;
	}
	if (!text_ok(s)) {
		BAD_META(err, "'%s' contains a control or text-direction "
			 "character", key);
		return false;
	}
	json_object_object_add(out, key, json_object_new_string(s));
	return true;
}

/*
 * An optional web page or image URL shown to the user later (client_uri,
 * logo_uri, tos_uri, policy_uri): absolute http(s) only.
 */
static bool opt_url(struct json_object *in, const char *key,
		    struct json_object *out, struct mcpauth_err *err)
{
	struct json_object *v = member(in, key);
	struct mcpauth_err ignored = { 0 };
	char scheme[64];
	const char *s;
	bool loopback;

	if (v == NULL)
		return true;
	s = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
						     : NULL;
	if (s == NULL || strlen(s) > MCPAUTH_CLIENT_MAX_URI ||
	    !uri_scheme(s, scheme, sizeof(scheme)) ||
	    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) ||
	    strpbrk(s, " \t\r\n") != NULL ||
	    !http_uri_ok(s, scheme, &loopback, &ignored)) {
		BAD_META(err, "'%s' must be an absolute http(s) URL", key);
		return false;
	}
	json_object_object_add(out, key, json_object_new_string(s));
	return true;
}

/* Appends s to a NULL-terminated list of at most max unique entries. */
static void add_unique(const char **list, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(list[i], s))
			return;
	list[(*n)++] = s;
}

/* grant_types (RFC 7591 §2): authorization code and refresh only. */
static bool grant_types(struct json_object *in, const char **grants,
			size_t *ngrants, struct mcpauth_err *err)
{
	struct json_object *v = member(in, "grant_types");
	bool code = false;
	size_t n;

	*ngrants = 0;
	if (v == NULL) {
		grants[(*ngrants)++] = "authorization_code";
		grants[(*ngrants)++] = "refresh_token";
		return true;
	}
	if (!json_object_is_type(v, json_type_array)) {
		BAD_META(err, "'grant_types' must be an array of strings");
		return false;
	}
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		struct json_object *g = json_object_array_get_idx(v, i);
		const char *s;
		if (!json_object_is_type(g, json_type_string)) {
			BAD_META(err, "'grant_types' must be an array of "
				 "strings");
			return false;
		}
		s = json_object_get_string(g);
		if (!strcmp(s, "client_credentials")) {
			BAD_META(err, "the client_credentials grant is only "
				 "for clients the operator provisions "
				 "(mcpauth-admin client add), not through "
				 "registration or a metadata document");
			return false;
		}
		if (!strcmp(s, "authorization_code")) {
			code = true;
			add_unique(grants, ngrants, "authorization_code");
		} else if (!strcmp(s, "refresh_token")) {
			add_unique(grants, ngrants, "refresh_token");
		} else {
			char shown[64];
			snprintf(shown, sizeof(shown), "%s", s);
			BAD_META(err, "grant type '%s' is not supported: use "
				 "authorization_code and refresh_token",
				 shown);
			return false;
		}
	}
	if (!code) {
		BAD_META(err, "'grant_types' must include authorization_code");
		return false;
	}
	return true;
}

static bool response_types(struct json_object *in, struct mcpauth_err *err)
{
	struct json_object *v = member(in, "response_types");
	size_t n;

	if (v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) == 0) {
		BAD_META(err, "'response_types' must be [\"code\"]");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(v, i);
		if (!json_object_is_type(t, json_type_string) ||
		    strcmp(json_object_get_string(t), "code") != 0) {
			BAD_META(err, "'response_types' must be [\"code\"]: "
				 "only the authorization code flow is "
				 "supported");
			return false;
		}
	}
	return true;
}

static bool auth_method(const struct mcpauth_conf *conf,
			enum mcpauth_client_origin origin,
			struct json_object *in, const char **method,
			struct mcpauth_err *err)
{
	struct json_object *v = member(in, "token_endpoint_auth_method");
	const char *s;

	*method = "none";
	if (v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_string)) {
		BAD_META(err, "'token_endpoint_auth_method' must be a string");
		return false;
	}
	s = json_object_get_string(v);
	if (!strcmp(s, "none")) {
		return true;
	} else if (mcpauth_client_method_has_secret(s) &&
		   origin == MCPAUTH_CLIENT_ORIGIN_DOCUMENT) {
		BAD_META(err, "a metadata document client cannot use a client "
			 "secret (token_endpoint_auth_method %s)",
			 !strcmp(s, "client_secret_basic") ? "client_secret_basic"
							    : "client_secret_post");
		return false;
	} else if (mcpauth_client_method_has_secret(s)) {
		if (!conf->confidential_registration &&
		    origin != MCPAUTH_CLIENT_ORIGIN_DYNAMIC_CONFIDENTIAL) {
			BAD_META(err, "confidential registration is disabled "
				 "on this server: register with "
				 "token_endpoint_auth_method none and use PKCE "
				 "(or ask the operator to set "
				 "confidential_registration = yes)");
			return false;
		}
		*method = !strcmp(s, "client_secret_basic")
				  ? "client_secret_basic"
				  : "client_secret_post";
		return true;
	} else if (origin == MCPAUTH_CLIENT_ORIGIN_DOCUMENT) {
		/* draft-ietf-oauth-client-id-metadata-document §4.1: no
		 * shared secrets; keys the client publishes are fine. */
		if (!strcmp(s, "private_key_jwt") && conf->private_key_jwt) {
			*method = "private_key_jwt";
			return true;
		}
		BAD_META(err, "token_endpoint_auth_method must be none or "
			 "private_key_jwt%s",
			 conf->private_key_jwt ? ""
					       : " (which this server has "
						 "switched off)");
		return false;
	} else if (!strcmp(s, "private_key_jwt")) {
		BAD_META(err, "private_key_jwt clients are registered by the "
			 "operator, not through dynamic registration");
		return false;
	}
	{
		char shown[64];
		snprintf(shown, sizeof(shown), "%s", s);
		BAD_META(err, "token_endpoint_auth_method '%s' is not "
			 "supported: use %s",
			 shown,
			 conf->confidential_registration
				 ? "none, client_secret_basic or "
				   "client_secret_post"
				 : "none");
	}
	return false;
}

/* RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E. */
static bool scope_token_ok(const char *t)
{
	for (; *t; t++)
		if (*t < 0x21 || *t == 0x22 || *t == 0x5c || *t > 0x7e)
			return false;
	return true;
}

/*
 * The registered scope: the requested scopes the server offers (unknown
 * ones dropped), refused when none is offered; when omitted, the
 * configured registration_default_scopes or every scope offered.
 */
static bool scope(const struct mcpauth_conf *conf, struct json_object *in,
		  char **out, struct mcpauth_err *err)
{
	struct json_object *v = member(in, "scope");
	const char **list = NULL;
	char *copy = NULL, *save = NULL, *res = NULL;
	size_t n = 0, len = 1;
	bool ok = false;

	if (v != NULL && !json_object_is_type(v, json_type_string)) {
		BAD_META(err, "'scope' must be a string of space-separated "
			 "scopes");
		return false;
	}
	if (v != NULL && strspn(json_object_get_string(v), " ") !=
				 strlen(json_object_get_string(v))) {
		size_t max = strlen(json_object_get_string(v)) / 2 + 1;
		copy = strdup(json_object_get_string(v));
		list = calloc(max, sizeof(*list));
		if (copy == NULL || list == NULL) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			goto out;
		}
		for (char *t = strtok_r(copy, " ", &save); t != NULL;
		     t = strtok_r(NULL, " ", &save)) {
			if (!scope_token_ok(t)) {
				BAD_META(err, "'scope' contains an invalid "
					 "scope token (RFC 6749 §3.3)");
				goto out;
			}
			if (mcpauth_conf_scope_offered(conf, t))
				add_unique(list, &n, t);
		}
		if (n == 0) {
			BAD_META(err, "none of the requested scopes is offered "
				 "by this server (see scopes_supported in its "
				 "metadata)");
			goto out;
		}
	} else if (conf->nregistration_default_scopes > 0) {
		list = calloc(conf->nregistration_default_scopes,
			      sizeof(*list));
		if (list == NULL) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < conf->nregistration_default_scopes; i++)
			add_unique(list, &n,
				   conf->registration_default_scopes[i]);
	} else {
		n = mcpauth_conf_scopes(conf, &list);
		if (list == NULL) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		len += strlen(list[i]) + 1;
	res = calloc(1, len);
	if (res == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strcat(res, " ");
		strcat(res, list[i]);
	}
	*out = res;
	res = NULL;
	ok = true;
out:
	free(copy);
	free(list);
	free(res);
	return ok;
}

/*
 * redirect_uris (RFC 7591 §2), required since every client uses the
 * authorization code grant. application_type, when omitted, is inferred:
 * web when every URI is https, else native (loopback or private-use
 * scheme), so clients that do not send it still register as what they are.
 */
static bool redirect_uris(struct json_object *in, const char **app_type,
			  char ***uris, size_t *nuris,
			  struct mcpauth_err *err)
{
	struct json_object *v = member(in, "redirect_uris");
	struct json_object *at = member(in, "application_type");
	char **list = NULL;
	size_t n, count = 0;
	bool native, ok = false;

	if (at != NULL) {
		const char *s = json_object_is_type(at, json_type_string)
					? json_object_get_string(at)
					: "";
		if (strcmp(s, "web") != 0 && strcmp(s, "native") != 0) {
			BAD_META(err, "'application_type' must be \"web\" or "
				 "\"native\"");
			return false;
		}
	}
	if (v == NULL) {
		BAD_URI(err, "'redirect_uris' is required");
		return false;
	}
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) == 0) {
		BAD_URI(err, "'redirect_uris' must be a non-empty array of "
			"strings");
		return false;
	}
	if (n > MCPAUTH_CLIENT_MAX_REDIRECT_URIS) {
		BAD_URI(err, "at most %d redirect URIs may be registered",
			MCPAUTH_CLIENT_MAX_REDIRECT_URIS);
		return false;
	}
	if (at != NULL) {
		native = !strcmp(json_object_get_string(at), "native");
	} else {
		native = false;
		for (size_t i = 0; i < n; i++) {
			struct json_object *u = json_object_array_get_idx(v, i);
			const char *s = json_object_get_string(u);
			if (!json_object_is_type(u, json_type_string) ||
			    strncasecmp(s, "https:", 6) != 0)
				native = true;
		}
	}
	list = calloc(n, sizeof(*list));
	if (list == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *u = json_object_array_get_idx(v, i);
		const char *s;
		bool dup = false;
		if (!json_object_is_type(u, json_type_string)) {
			BAD_URI(err, "'redirect_uris' must be a non-empty "
				"array of strings");
			goto out;
		}
		s = json_object_get_string(u);
		if (!mcpauth_client_redirect_uri_ok(s, native, err))
			goto out;
		for (size_t k = 0; k < count; k++)
			dup |= !strcmp(list[k], s);
		if (dup)
			continue;
		if ((list[count] = strdup(s)) == NULL) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			goto out;
		}
		count++;
	}
	*app_type = native ? "native" : "web";
	*uris = list;
	*nuris = count;
	list = NULL;
	ok = true;
out:
	if (list != NULL) {
		for (size_t i = 0; i < count; i++)
			free(list[i]);
		free(list);
	}
	return ok;
}

static bool contacts(struct json_object *in, struct json_object *out,
		     struct mcpauth_err *err)
{
	struct json_object *v = member(in, "contacts");
	size_t n;

	if (v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) > 10) {
		BAD_META(err, "'contacts' must be an array of at most 10 "
			 "strings");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(v, i);
		if (!json_object_is_type(c, json_type_string) ||
		    strlen(json_object_get_string(c)) > MCPAUTH_CLIENT_MAX_NAME ||
		    !text_ok(json_object_get_string(c))) {
			BAD_META(err, "'contacts' must be an array of at most "
				 "10 strings without control characters");
			return false;
		}
	}
	json_object_object_add(out, "contacts", json_object_get(v));
	return true;
}

static void replace(char **dst, char *value)
{
	free(*dst);
	*dst = value;
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

bool mcpauth_client_from_metadata(const struct mcpauth_conf *conf,
				  struct json_object *in,
				  enum mcpauth_client_origin origin,
				  struct mcpauth_client *out,
				  struct mcpauth_err *err)
{
	struct json_object *meta = json_object_new_object();
	const char *grants[2], *method = NULL, *app_type = NULL;
	const char *code[] = { "code" };
	char **uris = NULL, *scopes = NULL, *text = NULL, *gt = NULL;
	size_t ngrants = 0, nuris = 0;
	bool ok = false;
	static const char *const urls[] = { "client_uri", "logo_uri",
					    "tos_uri", "policy_uri" };

	if (!json_object_is_type(in, json_type_object)) {
		BAD_META(err, "the registration must be a JSON object");
		goto out;
	}
	if (!redirect_uris(in, &app_type, &uris, &nuris, err) ||
	    !auth_method(conf, origin, in, &method, err) ||
	    !grant_types(in, grants, &ngrants, err) ||
	    !response_types(in, err) || !scope(conf, in, &scopes, err))
		goto out;
	mcpauth_json_add_strs(meta, "redirect_uris", (const char **)uris,
			      nuris);
	mcpauth_json_add_str(meta, "token_endpoint_auth_method", method);
	mcpauth_json_add_strs(meta, "grant_types", grants, ngrants);
	mcpauth_json_add_strs(meta, "response_types", code, 1);
	mcpauth_json_add_str(meta, "application_type", app_type);
	mcpauth_json_add_str(meta, "scope", scopes);
	if (!opt_string(in, "client_name", MCPAUTH_CLIENT_MAX_NAME, meta,
			err))
		goto out;
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		if (!opt_url(in, urls[i], meta, err))
			goto out;
	if (!contacts(in, meta, err) ||
	    !opt_string(in, "software_id", MCPAUTH_CLIENT_MAX_NAME, meta,
			err) ||
	    !opt_string(in, "software_version", MCPAUTH_CLIENT_MAX_NAME, meta,
			err))
		goto out;
	text = mcpauth_json_dump(meta);
	gt = calloc(1, 64);
	if (text == NULL || gt == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ngrants; i++) {
		if (i > 0)
			strcat(gt, " ");
		strcat(gt, grants[i]);
	}
	/* Every new value made first, then swapped in: out stays whole. */
	{
		const char *name = mcpauth_json_get_str(meta, "client_name");
		const char *sid = mcpauth_json_get_str(meta, "software_id");
		const char *sver = mcpauth_json_get_str(meta,
							"software_version");
		char *m = strdup(method), *at = strdup(app_type);
		char *n = dup_or_null(name), *i = dup_or_null(sid);
		char *v = dup_or_null(sver);

		if (m == NULL || at == NULL || (name && !n) || (sid && !i) ||
		    (sver && !v)) {
			free(m);
			free(at);
			free(n);
			free(i);
			free(v);
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			goto out;
		}
		replace(&out->auth_method, m);
		replace(&out->application_type, at);
		replace(&out->client_name, n);
		replace(&out->software_id, i);
		replace(&out->software_version, v);
	}
	for (size_t i = 0; i < out->nredirect_uris; i++)
		free(out->redirect_uris[i]);
	free(out->redirect_uris);
	out->redirect_uris = uris;
	out->nredirect_uris = nuris;
	uris = NULL;
	replace(&out->grant_types, gt);
	gt = NULL;
	replace(&out->scope, scopes);
	scopes = NULL;
	replace(&out->metadata, text);
	text = NULL;
	ok = true;
out:
	if (uris != NULL) {
		for (size_t i = 0; i < nuris; i++)
			free(uris[i]);
		free(uris);
	}
	free(scopes);
	free(text);
	free(gt);
	json_object_put(meta);
	return ok;
}

/* --- secrets and the response ------------------------------------------- */

bool mcpauth_client_new_secret(char **secret, char **hash,
			       struct mcpauth_err *err)
{
	char *s = NULL, *h = NULL;

	if (!mcpauth_crypto_random_token(MCPAUTH_CLIENT_SECRET_BYTES, &s, err))
		return false;
	h = mcpauth_crypto_sha256_b64url(s);
	if (h == NULL) {
		mcpauth_crypto_free_secret(s);
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	*secret = s;
	*hash = h;
	return true;
}

char *mcpauth_client_registration_uri(const struct mcpauth_conf *conf,
				      const char *client_id)
{
	size_t n = strlen(conf->issuer) + strlen("/register/") +
		   strlen(client_id) + 1;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s/register/%s", conf->issuer, client_id);
	return s;
}

struct json_object *mcpauth_client_to_json(const struct mcpauth_conf *conf,
					   const struct mcpauth_client *client,
					   const char *secret,
					   const char *registration_token)
{
	struct json_object *o = json_object_new_object();
	struct json_object *meta = json_tokener_parse(client->metadata);

	mcpauth_json_add_str(o, "client_id", client->client_id);
	json_object_object_add(o, "client_id_issued_at",
			       json_object_new_int64(client->created_at));
	mcpauth_json_add_str(o, "client_secret", secret);
	if (mcpauth_client_method_has_secret(client->auth_method))
		json_object_object_add(
			o, "client_secret_expires_at",
			json_object_new_int64(client->secret_expires_at));
	mcpauth_json_add_str(o, "registration_access_token",
			     registration_token);
	if (client->registration_token_hash != NULL) {
		char *uri = mcpauth_client_registration_uri(conf,
							    client->client_id);
		mcpauth_json_add_str(o, "registration_client_uri", uri);
		free(uri);
	}
	if (meta != NULL && json_object_is_type(meta, json_type_object)) {
		json_object_object_foreach(meta, key, val)
		{
			json_object_object_add(o, key, json_object_get(val));
		}
	}
	json_object_put(meta);
	return o;
}

bool mcpauth_client_secret_ok(const struct mcpauth_client *client,
			      const char *presented, long long now)
{
	char *hash;
	bool ok;

	if (client->secret_hash == NULL || presented == NULL)
		return false;
	if (client->secret_expires_at != 0 && client->secret_expires_at <= now)
		return false;
	hash = mcpauth_crypto_sha256_b64url(presented);
	if (hash == NULL)
		return false;
	ok = mcpauth_crypto_streq(hash, client->secret_hash);
	/* After client rotate-secret: the old one, for the overlap. */
	if (!ok && client->previous_secret_hash != NULL &&
	    client->previous_secret_until > now)
		ok = mcpauth_crypto_streq(hash, client->previous_secret_hash);
	free(hash);
	return ok;
}

/* --- authentication at the token endpoint ------------------------------- */

#define BAD_CLIENT(err, ...) MCPAUTH_ERR((err), 401, "invalid_client", __VA_ARGS__)

/*
 * RFC 6749 §2.3.1 / RFC 7617: "Basic " base64(urlencode(id) ":"
 * urlencode(secret)). The scheme name is case-insensitive.
 */
static bool parse_basic(const char *authorization, char **id, char **secret,
			struct mcpauth_err *err)
{
	unsigned char *dec = NULL;
	size_t declen = 0, idlen = 0, seclen = 0;
	const char *colon, *cred;
	char *i = NULL, *s = NULL;
	bool ok = false;

	if (strncasecmp(authorization, "Basic ", 6) != 0) {
		BAD_CLIENT(err, "the Authorization header must use the Basic "
			   "scheme for client authentication");
		return false;
	}
	cred = authorization + 6;
	while (*cred == ' ')
		cred++;
	if (!mcpauth_b64_decode(cred, strlen(cred), &dec, &declen) ||
	    strlen((char *)dec) != declen ||
	    (colon = strchr((char *)dec, ':')) == NULL) {
		BAD_CLIENT(err, "malformed Basic credentials");
		goto out;
	}
	i = mcpauth_form_decode((char *)dec, (size_t)(colon - (char *)dec),
				&idlen);
	s = mcpauth_form_decode(colon + 1, strlen(colon + 1), &seclen);
	if (i == NULL || s == NULL || idlen == 0 || strlen(i) != idlen ||
	    strlen(s) != seclen) {
		BAD_CLIENT(err, "malformed Basic credentials");
		goto out;
	}
	*id = i;
	*secret = s;
	i = s = NULL;
	ok = true;
out:
	if (dec != NULL) {
		mcpauth_crypto_wipe(dec, declen);
		free(dec);
	}
	free(i);
	mcpauth_crypto_free_secret(s);
	return ok;
}

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
/* The longest an assertion may live (RFC 7523 §3: exp, "near"). */
#define ASSERTION_MAX_LIFETIME 300

/* The claims of a compact JWS without verifying it (to find the client). */
static struct json_object *unverified_claims(const char *jwt)
{
	const char *a = strchr(jwt, '.'), *b;
	unsigned char *raw = NULL;
	size_t len = 0;
	struct json_object *o = NULL;

	if (a == NULL || (b = strchr(a + 1, '.')) == NULL || b - a > 16384 ||
	    !mcpauth_b64url_decode(a + 1, (size_t)(b - a - 1), &raw, &len))
		return NULL;
	if (strlen((char *)raw) == len)
		o = json_tokener_parse((char *)raw);
	free(raw);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* aud (a string or an array) names the issuer or its token endpoint. */
static bool aud_ok(struct json_object *claims, const char *issuer)
{
	struct json_object *aud = NULL;
	char token[2048];
	size_t n = 1;

	snprintf(token, sizeof(token), "%s/token", issuer);
	if (!json_object_object_get_ex(claims, "aud", &aud))
		return false;
	if (json_object_is_type(aud, json_type_array))
		n = json_object_array_length(aud);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_is_type(aud, json_type_array)
						? json_object_array_get_idx(aud, i)
						: aud;
		const char *s = json_object_is_type(v, json_type_string)
					? json_object_get_string(v)
					: NULL;
		if (s != NULL && (!strcmp(s, issuer) || !strcmp(s, token)))
			return true;
	}
	return false;
}

/*
 * The per-host fetch limit (metadata_document_fetch_limit per
 * MCPAUTH_CLIENT_FETCH_WINDOW), counted from audit rows of event fetch
 * with rate_key "<kind>:<host>" (key, size 300; kind "fetch" for
 * documents, "jwks" for keys, one budget each). Counted outside a
 * transaction: parallel fetches may pass the limit by a few, which is all
 * the limit is for.
 */
static bool fetch_allowed(struct mcpauth_store *store,
			  const struct mcpauth_conf *conf, const char *kind,
			  const char *url, long long now, char *key,
			  struct mcpauth_err *err)
{
	char host[280];
	long n = 0, limited = 0;
	struct mcpauth_rate rate = {
		.key = key,
		.limit = conf->metadata_document_fetch_limit,
		.since = now - MCPAUTH_CLIENT_FETCH_WINDOW + 1,
	};

	/* One key per host however the URL spells it. */
	if (!mcpauth_fetch_host_key(url, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	snprintf(key, 300, "%s:%s", kind, host);
	if (rate.limit <= 0)
		return true;
	if (!mcpauth_store_rate_count(store, MCPAUTH_RATE_FETCH, &rate, &n,
				      &limited, err))
		return false;
	if (n >= rate.limit) {
		MCPAUTH_ERR(err, 429, "temporarily_unavailable",
			    "too many documents were fetched from this host "
			    "lately; try again in a few minutes");
		return false;
	}
	return true;
}

/* The audit row of one fetch; what it fetched is in detail. */
static void fetch_audit(struct mcpauth_store *store, const char *client_id,
			const char *address, const char *name,
			const char *key, const char *what, long long now,
			bool ok, const struct mcpauth_err *err)
{
	struct mcpauth_err ignored = { 0 };
	struct mcpauth_audit a = {
		.at = now,
		.event = "fetch",
		.refused = !ok,
		.actor = "client",
		.client_id = client_id,
		.address = address,
		.client_name = name != NULL && *name != '\0' ? name : NULL,
		.error = ok ? NULL : err->code,
		.detail = ok ? what : err->description,
		.status = ok ? 200 : err->status,
		.rate_key = key,
	};

	mcpauth_store_audit_add(store, &a, &ignored);
}

long long mcpauth_client_cache_until(long max_age, long long now)
{
	if (max_age == 0)
		return now;
	if (max_age < 0)
		return now + MCPAUTH_CLIENT_CACHE_DEFAULT;
	if (max_age < MCPAUTH_CLIENT_CACHE_MIN)
		return now + MCPAUTH_CLIENT_CACHE_MIN;
	if (max_age > MCPAUTH_CLIENT_CACHE_MAX)
		return now + MCPAUTH_CLIENT_CACHE_MAX;
	return now + max_age;
}

/* Puts prefix before err's description, with a new status and code. */
static void reword(struct mcpauth_err *err, int status, const char *code,
		   const char *prefix)
{
	char was[sizeof(err->description)];
	size_t len = strlen(prefix), room = sizeof(err->description) - 1;

	if (err->status >= 500)
		return; /* internal: the client sees "internal error" */
	memcpy(was, err->description, sizeof(was));
	err->status = status;
	err->code = code;
	if (len > room)
		len = room;
	memcpy(err->description, prefix, len);
	for (size_t i = 0; was[i] != '\0' && len < room; i++)
		err->description[len++] = was[i];
	err->description[len] = '\0';
}

/*
 * Fetches the keys at client->jwks_uri (fetch.c), checks them for the
 * client's algorithm as `client keys` checks a file, and caches them in
 * the client and its row.
 */
static bool jwks_refresh(struct mcpauth_store *store,
			 const struct mcpauth_conf *conf,
			 struct mcpauth_client *client, long long now,
			 struct mcpauth_err *err)
{
	char *jwks = NULL, label[64], key[300];
	long long until;
	size_t n;
	bool ok = false, audited = false;

	if (!fetch_allowed(store, conf, "jwks", client->jwks_uri, now, key,
			   err))
		goto out;
	audited = true;
	snprintf(label, sizeof(label), "the client's algorithm %s",
		 client->signing_alg);
	if (!mcpauth_client_jwks_fetch(conf, client->jwks_uri,
				       client->signing_alg, label, now, &jwks,
				       &n, &until, err)) {
		reword(err, 401, "invalid_client", "the client's jwks_uri: ");
		goto out;
	}
	if (!mcpauth_store_client_jwks_fetched(store, client->client_id,
					       client->jwks_uri, jwks, now,
					       until, err))
		goto out;
	free(client->jwks);
	client->jwks = jwks;
	jwks = NULL;
	client->jwks_fetched_at = now;
	client->jwks_expires_at = until;
	ok = true;
out:
	if (audited)
		fetch_audit(store, client->client_id, NULL, NULL, key,
			    "jwks_uri", now, ok, err);
	if (!ok && err->status < 500) {
		/* The cause goes to the log and the audit row, not to whoever
		 * sent the assertion (no probing of internal addresses). */
		mcpauth_err_detail(err, "%.100s: %.140s",
				   client->jwks_uri, err->description);
		snprintf(err->description, sizeof(err->description),
			 "the client's keys could not be fetched from its "
			 "jwks_uri");
	}
	free(jwks);
	return ok;
}

/*
 * After a failed fetch the keys kept are used, and their URL asked again
 * only in MCPAUTH_CLIENT_JWKS_REFETCH seconds: an unreachable jwks_uri
 * must not cost a fetch per assertion.
 */
static void jwks_backoff(struct mcpauth_store *store,
			 struct mcpauth_client *client, long long now)
{
	struct mcpauth_err ignored = { 0 };

	client->jwks_expires_at = now + MCPAUTH_CLIENT_JWKS_REFETCH;
	if (client->jwks != NULL)
		mcpauth_store_client_jwks_fetched(store, client->client_id,
						  client->jwks_uri,
						  client->jwks,
						  client->jwks_fetched_at,
						  client->jwks_expires_at,
						  &ignored);
}

/* The assertion's claims (JSON, *json) when one of jwks' keys signed it. */
static bool signed_by(const char *jwks_text, const char *alg,
		      const char *assertion, char **json)
{
	struct json_object *jwks = NULL, *keys = NULL;
	size_t n;

	*json = NULL;
	if (jwks_text == NULL || alg == NULL ||
	    (jwks = json_tokener_parse(jwks_text)) == NULL ||
	    !json_object_object_get_ex(jwks, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		json_object_put(jwks);
		return false;
	}
	n = json_object_array_length(keys);
	for (size_t i = 0; i < n && *json == NULL; i++) {
		struct mcpauth_err ignored = { 0 };
		const char *key = json_object_to_json_string_ext(
			json_object_array_get_idx(keys, i),
			JSON_C_TO_STRING_PLAIN);
		if (!mcpauth_jose_verify(key, alg, assertion, NULL, json,
					 &ignored))
			*json = NULL;
	}
	json_object_put(jwks);
	return *json != NULL;
}

/*
 * Verifies a client assertion (RFC 7523 §3) with the client's own keys
 * and registered algorithm: never a key or algorithm the token names
 * (jose.c ignores jku, x5u and jwk headers), never none or HMAC. Keys
 * from a jwks_uri are fetched when their cache expired, and once more
 * when no key verifies (the client rotated), at most every
 * MCPAUTH_CLIENT_JWKS_REFETCH seconds.
 */
static bool assertion_ok(struct mcpauth_store *store,
			 const struct mcpauth_conf *conf,
			 struct mcpauth_client *client,
			 const char *assertion, long long now,
			 struct mcpauth_err *err)
{
	struct json_object *claims = NULL, *v;
	const char *issuer = conf->issuer;
	char *json = NULL;
	const char *jti;
	long long exp;
	bool ok = false, fresh = false;

	if (client->jwks_uri != NULL &&
	    (client->jwks == NULL || client->jwks_expires_at <= now) &&
	    !jwks_refresh(store, conf, client, now, err)) {
		if (client->jwks == NULL || err->status >= 500)
			goto out;
		/* The keys kept are used while their URL fails. */
		mcpauth_log_err(err);
		mcpauth_err_clear(err);
		jwks_backoff(store, client, now);
	}
	if (client->jwks == NULL || client->signing_alg == NULL) {
		BAD_CLIENT(err, "this client has no keys for private_key_jwt");
		goto out;
	}
	/* Not while backing off from a failure (see jwks_backoff); the last
	 * minute of a cache is no loss, it expires soon anyway. */
	if (!signed_by(client->jwks, client->signing_alg, assertion, &json) &&
	    client->jwks_uri != NULL &&
	    client->jwks_fetched_at + MCPAUTH_CLIENT_JWKS_REFETCH <= now &&
	    client->jwks_expires_at > now + MCPAUTH_CLIENT_JWKS_REFETCH) {
		if (!jwks_refresh(store, conf, client, now, err)) {
			if (err->status < 500)
				jwks_backoff(store, client, now);
			goto out;
		}
		signed_by(client->jwks, client->signing_alg, assertion, &json);
	}
	if (json == NULL) {
		BAD_CLIENT(err, "the client assertion's signature does not "
			   "verify with the client's keys and algorithm (%s)",
			   client->signing_alg);
		goto out;
	}
	claims = json_tokener_parse(json);
	if (claims == NULL || !json_object_is_type(claims, json_type_object) ||
	    mcpauth_json_get_str(claims, "iss") == NULL ||
	    mcpauth_json_get_str(claims, "sub") == NULL ||
	    strcmp(mcpauth_json_get_str(claims, "iss"), client->client_id) ||
	    strcmp(mcpauth_json_get_str(claims, "sub"), client->client_id)) {
		BAD_CLIENT(err, "the client assertion's iss and sub must both "
			   "be the client_id");
		goto out;
	}
	if (!aud_ok(claims, issuer)) {
		BAD_CLIENT(err, "the client assertion's aud must be the issuer "
			   "or its token endpoint");
		goto out;
	}
	if (!json_object_object_get_ex(claims, "exp", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		BAD_CLIENT(err, "the client assertion needs exp");
		goto out;
	}
	exp = json_object_get_int64(v);
	if (exp <= now) {
		BAD_CLIENT(err, "the client assertion has expired");
		goto out;
	}
	if (exp > now + ASSERTION_MAX_LIFETIME) {
		BAD_CLIENT(err, "the client assertion's exp is more than %d "
			   "seconds away",
			   ASSERTION_MAX_LIFETIME);
		goto out;
	}
	jti = mcpauth_json_get_str(claims, "jti");
	if (jti == NULL || *jti == '\0' || strlen(jti) > 256) {
		BAD_CLIENT(err, "the client assertion needs a jti");
		goto out;
	}
	if (!mcpauth_store_assertion_jti(store, client->client_id, jti, exp,
					 now, &fresh, err))
		goto out;
	if (!fresh) {
		BAD_CLIENT(err, "the client assertion was used already");
		goto out;
	}
	ok = true;
out:
	json_object_put(claims);
	free(json);
	return ok;
}

bool mcpauth_client_authenticate(struct mcpauth_store *store,
				 const struct mcpauth_conf *conf,
				 const char *authorization,
				 const struct mcpauth_form *form,
				 long long now, struct mcpauth_client **out,
				 struct mcpauth_err *err)
{
	struct mcpauth_client *client = NULL;
	struct json_object *unverified = NULL;
	char *basic_id = NULL, *basic_secret = NULL;
	const char *form_id = mcpauth_form_get(form, "client_id");
	const char *form_secret = mcpauth_form_get(form, "client_secret");
	const char *assertion = mcpauth_form_get(form, "client_assertion");
	const char *atype = mcpauth_form_get(form, "client_assertion_type");
	const char *id, *secret;
	bool ok = false;

	if (authorization != NULL && *authorization != '\0') {
		if (!parse_basic(authorization, &basic_id, &basic_secret, err))
			goto out;
		/* RFC 6749 §2.3: one method per request. */
		if (form_secret != NULL || assertion != NULL ||
		    (form_id != NULL && strcmp(form_id, basic_id) != 0)) {
			MCPAUTH_ERR(err, 400, "invalid_request",
				    "the client authenticated twice: use the "
				    "Authorization header or client_secret in "
				    "the body, not both");
			goto out;
		}
		id = basic_id;
		secret = basic_secret;
	} else if (assertion != NULL || atype != NULL) {
		if (form_secret != NULL) {
			MCPAUTH_ERR(err, 400, "invalid_request",
				    "the client authenticated twice: a client "
				    "assertion and a client_secret");
			goto out;
		}
		if (atype == NULL || strcmp(atype, ASSERTION_TYPE) != 0 ||
		    assertion == NULL) {
			BAD_CLIENT(err, "client_assertion_type must be "
				   ASSERTION_TYPE " with a client_assertion");
			goto out;
		}
		/* The extension's clients send no client_id: iss says. */
		unverified = unverified_claims(assertion);
		id = unverified != NULL ? mcpauth_json_get_str(unverified, "iss")
					: NULL;
		if (id == NULL || (form_id != NULL && strcmp(form_id, id) != 0)) {
			BAD_CLIENT(err, "the client assertion does not name "
				   "this client (iss)");
			goto out;
		}
		secret = NULL;
	} else {
		id = form_id;
		secret = form_secret;
	}
	if (id == NULL || *id == '\0') {
		BAD_CLIENT(err, "client authentication is required: send "
			   "client_id (and the client secret of a "
			   "confidential client)");
		goto out;
	}
	if (!mcpauth_store_client_get(store, id, &client, err))
		goto out;
	if (client == NULL) {
		BAD_CLIENT(err, "unknown client: register again");
		goto out;
	}
	if (client->disabled_at != 0) {
		BAD_CLIENT(err, "this client is disabled");
		goto out;
	}
	if (!strcmp(client->source, "metadata_document") &&
	    client->document_fetched_at == 0) {
		BAD_CLIENT(err, "this client's metadata document was never "
			   "fetched");
		goto out;
	}
	if (!strcmp(client->auth_method, "private_key_jwt")) {
		if (!conf->private_key_jwt) {
			BAD_CLIENT(err, "private_key_jwt is switched off on "
				   "this server (private_key_jwt = no)");
			goto out;
		}
		if (assertion == NULL) {
			BAD_CLIENT(err, "this client authenticates with a client "
				   "assertion (private_key_jwt)");
			goto out;
		}
		if (!assertion_ok(store, conf, client, assertion, now, err))
			goto out;
	} else if (assertion != NULL) {
		BAD_CLIENT(err, "client assertions (private_key_jwt) are not "
			   "accepted for this client");
		goto out;
	} else if (mcpauth_client_method_has_secret(client->auth_method)) {
		if (secret == NULL || *secret == '\0') {
			BAD_CLIENT(err, "this client must authenticate with "
				   "its client secret (%s)",
				   client->auth_method);
			goto out;
		}
		if (client->secret_expires_at != 0 &&
		    client->secret_expires_at <= now) {
			BAD_CLIENT(err, "the client secret has expired: "
				   "register again");
			goto out;
		}
		if (!mcpauth_client_secret_ok(client, secret, now)) {
			BAD_CLIENT(err, "client authentication failed");
			goto out;
		}
	} else if (strcmp(client->auth_method, "none") != 0) {
		BAD_CLIENT(err, "this client's authentication method (%s) is "
			   "not available", client->auth_method);
		goto out;
	}
	*out = client;
	client = NULL;
	ok = true;
out:
	json_object_put(unverified);
	mcpauth_client_free(client);
	free(basic_id);
	mcpauth_crypto_free_secret(basic_secret);
	return ok;
}

/* The key types a client may sign its assertions with, and their alg. */
static const struct key_kind {
	const char *kty, *crv, *alg;
} key_kinds[] = {
	{ "EC", "P-256", "ES256" },
	{ "OKP", "Ed25519", "EdDSA" },
	{ "RSA", NULL, "RS256" },
};

/* The length of the base64url string member key decoded, or -1. */
static long b64_member_len(struct json_object *key, const char *name)
{
	const char *s = mcpauth_json_get_str(key, name);
	unsigned char *d = NULL;
	size_t n = 0;

	if (s == NULL || !mcpauth_b64url_decode(s, strlen(s), &d, &n))
		return -1;
	free(d);
	return (long)n;
}

#define BAD_JWKS(err, ...) \
	MCPAUTH_ERR(err, 400, "invalid_client_metadata", __VA_ARGS__)

/*
 * Checks key number i (from 1) of a JWKS for alg and copies its public
 * members into out.
 */
static bool jwks_key(size_t i, struct json_object *key, const char *alg,
		     const char *alg_label, struct json_object *out,
		     struct mcpauth_err *err)
{
	/* RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2: private members. */
	static const char *const private_members[] = {
		"d", "p", "q", "dp", "dq", "qi", "oth", "k",
	};
	static const char *const public_members[] = {
		"kty", "kid", "use", "alg", "crv", "x", "y", "n", "e",
	};
	const struct key_kind *kind = NULL;
	const char *kty, *crv, *use, *kalg;
	struct json_object *v = NULL;
	unsigned long k1 = (unsigned long)i;
	char b[64];
	bool shape;

	if (!json_object_is_type(key, json_type_object)) {
		BAD_JWKS(err, "key %lu is not a JSON object", k1);
		return false;
	}
	kty = mcpauth_json_get_str(key, "kty");
	crv = mcpauth_json_get_str(key, "crv");
	use = mcpauth_json_get_str(key, "use");
	kalg = mcpauth_json_get_str(key, "alg");
	if (kty == NULL) {
		BAD_JWKS(err, "key %lu has no \"kty\"", k1);
		return false;
	}
	if (!strcmp(kty, "oct")) {
		BAD_JWKS(err, "key %lu is a symmetric key (kty oct): "
			 "private_key_jwt takes public keys only", k1);
		return false;
	}
	for (size_t m = 0; m < sizeof(private_members) /
				       sizeof(private_members[0]); m++) {
		if (json_object_object_get_ex(key, private_members[m], NULL)) {
			BAD_JWKS(err, "key %lu is a private key (it has "
				 "\"%s\"): give the public keys only; the "
				 "private ones stay with the client",
				 k1, private_members[m]);
			return false;
		}
	}
	for (size_t k = 0; k < sizeof(key_kinds) / sizeof(key_kinds[0]); k++)
		if (!strcmp(kty, key_kinds[k].kty))
			kind = &key_kinds[k];
	if (kind == NULL) {
		mcpauth_client_text_copy(b, sizeof(b), kty);
		BAD_JWKS(err, "key %lu: kty \"%s\" is not supported (EC P-256, "
			 "OKP Ed25519 or RSA)", k1, b);
		return false;
	}
	if (kind->crv != NULL && (crv == NULL || strcmp(crv, kind->crv) != 0)) {
		BAD_JWKS(err, "key %lu: an %s key must have \"crv\": \"%s\"",
			 k1, kind->kty, kind->crv);
		return false;
	}
	/* P-256 and Ed25519 coordinates are 32 bytes; RSA at least 2048 bits
	 * (RFC 7518 §3.3). */
	if (!strcmp(kind->kty, "EC"))
		shape = b64_member_len(key, "x") == 32 &&
			b64_member_len(key, "y") == 32;
	else if (!strcmp(kind->kty, "OKP"))
		shape = b64_member_len(key, "x") == 32;
	else
		shape = b64_member_len(key, "n") >= 256 &&
			b64_member_len(key, "e") >= 1 &&
			b64_member_len(key, "e") <= 8;
	if (!shape) {
		BAD_JWKS(err, "key %lu is not a valid %s public key (%s, "
			 "base64url)", k1, kind->kty,
			 !strcmp(kind->kty, "EC")    ? "x and y of 32 bytes"
			 : !strcmp(kind->kty, "OKP") ? "x of 32 bytes"
				: "n of at least 2048 bits and e");
		return false;
	}
	if (strcmp(kind->alg, alg) != 0) {
		BAD_JWKS(err, "key %lu (%s%s%s) does not fit %s: it signs with "
			 "%s", k1, kind->kty, kind->crv ? " " : "",
			 kind->crv ? kind->crv : "", alg_label, kind->alg);
		return false;
	}
	if (json_object_object_get_ex(key, "alg", &v) &&
	    (kalg == NULL || strcmp(kalg, alg) != 0)) {
		if (kalg != NULL)
			mcpauth_client_text_copy(b, sizeof(b), kalg);
		BAD_JWKS(err, "key %lu says \"alg\": %s, not %s", k1,
			 kalg ? b : "(not a string)", alg);
		return false;
	}
	if (json_object_object_get_ex(key, "use", &v) &&
	    (use == NULL || strcmp(use, "sig") != 0)) {
		BAD_JWKS(err, "key %lu is not for signatures (\"use\" must be "
			 "\"sig\" or absent)", k1);
		return false;
	}
	if (json_object_object_get_ex(key, "kid", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	     json_object_get_string_len(v) == 0)) {
		BAD_JWKS(err, "key %lu: \"kid\" must be a non-empty string",
			 k1);
		return false;
	}
	for (size_t m = 0; m < sizeof(public_members) /
				       sizeof(public_members[0]); m++)
		if (json_object_object_get_ex(key, public_members[m], &v))
			json_object_object_add(out, public_members[m],
					       json_object_get(v));
	return true;
}

bool mcpauth_client_jwks_parse(const char *text, size_t len, const char *alg,
			       const char *alg_label, char **out,
			       size_t *nkeys, struct mcpauth_err *err)
{
	struct mcpauth_err jerr = { 0 };
	struct json_object *root = NULL, *keys = NULL, *res = NULL, *arr;
	size_t n = 0;
	bool ok = false;

	if (!mcpauth_json_parse(text, len, "invalid_client_metadata", &root,
				&jerr)) {
		BAD_JWKS(err, "not JSON (%s)", jerr.description);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array) ||
	    (n = json_object_array_length(keys)) == 0) {
		BAD_JWKS(err, "not a JWKS: an object with a non-empty \"keys\" "
			 "array ({\"keys\": [...]})");
		goto out;
	}
	if (n > MCPAUTH_CLIENT_JWKS_MAX_KEYS) {
		BAD_JWKS(err, "more than %d keys", MCPAUTH_CLIENT_JWKS_MAX_KEYS);
		goto out;
	}
	res = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(res, "keys", arr);
	for (size_t i = 0; i < n; i++) {
		struct json_object *key = json_object_array_get_idx(keys, i);
		struct json_object *pub = json_object_new_object();
		const char *kid = mcpauth_json_get_str(key, "kid");

		json_object_array_add(arr, pub);
		if (!jwks_key(i + 1, key, alg, alg_label, pub, err))
			goto out;
		/* A kid names one key: the assertion's kid picks it. */
		for (size_t k = 0; kid != NULL && k < i; k++) {
			const char *other = mcpauth_json_get_str(
				json_object_array_get_idx(keys, k), "kid");
			if (other != NULL && !strcmp(kid, other)) {
				BAD_JWKS(err, "keys %lu and %lu have the same "
					 "kid", (unsigned long)k + 1,
					 (unsigned long)i + 1);
				goto out;
			}
		}
	}
	if ((*out = mcpauth_json_dump(res)) == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	*nkeys = n;
	ok = true;
out:
	json_object_put(res);
	json_object_put(root);
	return ok;
}

bool mcpauth_client_jwks_fetch(const struct mcpauth_conf *conf,
			       const char *uri, const char *alg,
			       const char *alg_label, long long now,
			       char **out, size_t *nkeys, long long *until,
			       struct mcpauth_err *err)
{
	struct mcpauth_fetch *f = NULL;
	bool ok = mcpauth_fetch_get(conf, uri, MCPAUTH_FETCH_JWKS_MAX, &f,
				    err) &&
		  mcpauth_client_jwks_parse(f->body, f->len, alg, alg_label,
					    out, nkeys, err);

	if (ok)
		*until = mcpauth_client_cache_until(f->max_age, now);
	mcpauth_fetch_free(f);
	return ok;
}

/* --- Client ID Metadata Documents ---------------------------------------- */

bool mcpauth_client_id_is_url(const char *client_id)
{
	/* http too: such a client means a document, and learns why not. */
	return client_id != NULL && (!strncasecmp(client_id, "https://", 8) ||
				     !strncasecmp(client_id, "http://", 7));
}

#define BAD_URL(err, ...) MCPAUTH_ERR((err), 400, "invalid_client", __VA_ARGS__)

/* A path segment that is "." or ".." once %2e is decoded. */
static bool dot_segment(const char *seg, size_t len)
{
	size_t dots = 0;

	for (size_t i = 0; i < len;) {
		if (seg[i] == '.') {
			i++;
		} else if (len - i >= 3 && seg[i] == '%' && seg[i + 1] == '2' &&
			   (seg[i + 2] == 'e' || seg[i + 2] == 'E')) {
			i += 3;
		} else {
			return false;
		}
		dots++;
	}
	return dots == 1 || dots == 2;
}

bool mcpauth_client_document_url_ok(const char *url, char **host,
				    struct mcpauth_err *err)
{
	const char *auth, *path, *end;
	CURLU *u = NULL;
	char *h = NULL;
	bool ok = false;

	if (strncmp(url, "https://", 8) != 0) {
		BAD_URL(err, "a client_id URL must use https (written in "
			"lower case)");
		return false;
	}
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			BAD_URL(err, "a client_id URL must not have spaces, "
				"control or non-ASCII characters");
			return false;
		}
	}
	if (strlen(url) > MCPAUTH_CLIENT_MAX_URI) {
		BAD_URL(err, "a client_id URL must not be longer than %d "
			"characters", MCPAUTH_CLIENT_MAX_URI);
		return false;
	}
	if (strchr(url, '#') != NULL) {
		BAD_URL(err, "a client_id URL must not have a fragment");
		return false;
	}
	auth = url + 8;
	path = auth + strcspn(auth, "/?");
	if (memchr(auth, '@', (size_t)(path - auth)) != NULL) {
		BAD_URL(err, "a client_id URL must not have user information");
		return false;
	}
	end = path + strcspn(path, "?");
	if (*path != '/' || end - path < 2) {
		BAD_URL(err, "a client_id URL must have a path "
			"(https://host/path)");
		return false;
	}
	for (const char *seg = path + 1; seg <= end;) {
		size_t len = strcspn(seg, "/?");
		if (seg + len > end)
			len = (size_t)(end - seg);
		if (dot_segment(seg, len)) {
			BAD_URL(err, "a client_id URL must not have . or .. "
				"path segments");
			return false;
		}
		seg += len + 1;
	}
	if ((u = curl_url()) == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    *h == '\0') {
		BAD_URL(err, "a client_id URL must be a valid https URL");
		goto out;
	}
	for (char *c = h; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (host != NULL && (*host = strdup(h)) == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	ok = true;
out:
	curl_free(h);
	curl_url_cleanup(u);
	return ok;
}

/* Puts "the client's metadata document: " before a 4xx description. */
static void doc_err(struct mcpauth_err *err)
{
	reword(err, 400, "invalid_client", "the client's metadata document: ");
}

bool mcpauth_client_from_document(const struct mcpauth_conf *conf,
				  const char *url, const char *body,
				  size_t len, struct mcpauth_client *out,
				  struct mcpauth_err *err)
{
	struct mcpauth_err jerr = { 0 };
	struct json_object *doc = NULL, *v;
	const char *s;
	char *jwks = NULL;
	size_t nkeys = 0;
	bool ok = false;

	if (!mcpauth_json_parse(body, len, "invalid_client", &doc, &jerr)) {
		MCPAUTH_ERR(err, 400, "invalid_client", "not JSON (%s)",
			    jerr.description);
		goto out;
	}
	if (!json_object_is_type(doc, json_type_object)) {
		MCPAUTH_ERR(err, 400, "invalid_client", "not a JSON object");
		goto out;
	}
	s = mcpauth_json_get_str(doc, "client_id");
	if (s == NULL || strcmp(s, url) != 0) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "its client_id is not the URL it was fetched from");
		goto out;
	}
	if (mcpauth_json_get_str(doc, "client_name") == NULL) {
		MCPAUTH_ERR(err, 400, "invalid_client", "it has no client_name");
		goto out;
	}
	if (member(doc, "redirect_uris") == NULL) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "it has no redirect_uris");
		goto out;
	}
	if (member(doc, "client_secret") != NULL ||
	    member(doc, "client_secret_expires_at") != NULL) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "it must not contain client_secret or "
			    "client_secret_expires_at");
		goto out;
	}
	if (!mcpauth_client_from_metadata(conf, doc,
					  MCPAUTH_CLIENT_ORIGIN_DOCUMENT, out,
					  err))
		goto out;
	free(out->jwks);
	free(out->jwks_uri);
	out->jwks = out->jwks_uri = NULL;
	free(out->signing_alg);
	out->signing_alg = NULL;
	if (!strcmp(out->auth_method, "private_key_jwt")) {
		const char *alg = mcpauth_json_get_str(
			doc, "token_endpoint_auth_signing_alg");
		const char *uri = mcpauth_json_get_str(doc, "jwks_uri");
		if (alg == NULL)
			alg = "ES256";
		if (strcmp(alg, "ES256") && strcmp(alg, "EdDSA") &&
		    strcmp(alg, "RS256")) {
			MCPAUTH_ERR(err, 400, "invalid_client",
				    "token_endpoint_auth_signing_alg must be "
				    "ES256, EdDSA or RS256");
			goto out;
		}
		if (uri != NULL && member(doc, "jwks") != NULL) {
			MCPAUTH_ERR(err, 400, "invalid_client",
				    "it has both jwks_uri and jwks");
			goto out;
		}
		if (uri != NULL) {
			if (strncmp(uri, "https://", 8) != 0 ||
			    strlen(uri) > MCPAUTH_CLIENT_MAX_URI) {
				MCPAUTH_ERR(err, 400, "invalid_client",
					    "jwks_uri must be an https URL");
				goto out;
			}
			out->jwks_uri = strdup(uri);
		} else if ((v = member(doc, "jwks")) != NULL) {
			const char *text = json_object_to_json_string_ext(
				v, JSON_C_TO_STRING_PLAIN);
			if (!mcpauth_client_jwks_parse(text, strlen(text), alg,
						       alg, &jwks, &nkeys,
						       err)) {
				reword(err, 400, "invalid_client", "jwks: ");
				goto out;
			}
			out->jwks = jwks;
			jwks = NULL;
		} else {
			MCPAUTH_ERR(err, 400, "invalid_client",
				    "private_key_jwt needs jwks_uri or jwks");
			goto out;
		}
		out->signing_alg = strdup(alg);
		if (out->signing_alg == NULL ||
		    (uri != NULL && out->jwks_uri == NULL)) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			goto out;
		}
	}
	ok = true;
out:
	if (!ok)
		doc_err(err);
	free(jwks);
	json_object_put(doc);
	return ok;
}

bool mcpauth_client_document_fetch(struct mcpauth_store *store,
				   const struct mcpauth_conf *conf,
				   const char *url, const char *address,
				   long long now, struct mcpauth_client **out,
				   struct mcpauth_err *err)
{
	struct mcpauth_client *c = NULL;
	struct mcpauth_fetch *f = NULL;
	char *host = NULL, key[300], name[MCPAUTH_CLIENT_MAX_NAME + 1] = "";
	bool ok = false, audited = false;

	if (!mcpauth_client_document_url_ok(url, &host, err) ||
	    !fetch_allowed(store, conf, "fetch", url, now, key, err))
		goto out;
	audited = true;
	if (!mcpauth_fetch_get(conf, url, (size_t)conf->metadata_document_max_size,
			       &f, err)) {
		doc_err(err);
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	if (!mcpauth_client_from_document(conf, url, f->body, f->len, c, err))
		goto out;
	c->client_id = strdup(url);
	c->source = strdup("metadata_document");
	if (c->client_id == NULL || c->source == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	c->created_at = c->updated_at = now;
	c->document_fetched_at = now;
	c->document_expires_at = mcpauth_client_cache_until(f->max_age, now);
	if (c->client_name != NULL)
		mcpauth_client_text_copy(name, sizeof(name), c->client_name);
	if (!mcpauth_store_client_document_save(store, c, err))
		goto out;
	mcpauth_client_free(c);
	c = NULL;
	/* Read back: keys cached from an unchanged jwks_uri stay. */
	if (!mcpauth_store_client_get(store, url, &c, err))
		goto out;
	if (c == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "the client vanished after saving");
		goto out;
	}
	*out = c;
	c = NULL;
	ok = true;
out:
	if (audited)
		fetch_audit(store, url, address, name, key, "metadata document",
			    now, ok, err);
	free(host);
	mcpauth_client_free(c);
	mcpauth_fetch_free(f);
	return ok;
}

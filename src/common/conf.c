/* conf.c: reading and validating mcpauth.conf (see mcpauth.conf(5)). */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "conf.h"

#ifndef MCPAUTH_SYSCONFDIR
#define MCPAUTH_SYSCONFDIR "/usr/local/etc"
#endif
#ifndef MCPAUTH_LOCALSTATEDIR
#define MCPAUTH_LOCALSTATEDIR "/usr/local/var"
#endif

#ifndef MCPAUTH_PKGDATADIR
#define MCPAUTH_PKGDATADIR "/usr/local/share/mcpauth"
#endif

#define MAX_CONF_SIZE (1024 * 1024)

const char *mcpauth_conf_default_path(void)
{
	const char *env = getenv(MCPAUTH_CONFIG_ENV);

	if (env != NULL && *env != '\0')
		return env;
	return MCPAUTH_SYSCONFDIR "/mcpauth/mcpauth.conf";
}

/* The parsing state: where we are, for messages. */
struct parser {
	const char *file;
	char *dir; /* directory of file, for relative paths */
	int line;
	const char *key;
	struct mcpauth_err *err;
};

#define FAIL(p, ...)                                                       \
	do {                                                               \
		char msg_[160];                                            \
		snprintf(msg_, sizeof(msg_), __VA_ARGS__);                 \
		MCPAUTH_ERR((p)->err, 500, "server_error",                 \
			    "%s:%d: key '%s': %s", (p)->file, (p)->line,   \
			    (p)->key, msg_);                               \
		return false;                                              \
	} while (0)

static bool set_str(char **dst, const char *value)
{
	char *s = strdup(value);

	if (s == NULL)
		return false;
	free(*dst);
	*dst = s;
	return true;
}

static bool parse_path(struct parser *p, const char *value, char **dst)
{
	char buf[PATH_MAX];

	if (*value == '\0')
		FAIL(p, "a path is required");
	if (value[0] == '/')
		snprintf(buf, sizeof(buf), "%s", value);
	else if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", p->dir, value) >=
		 sizeof(buf))
		FAIL(p, "path too long");
	if (!set_str(dst, buf))
		FAIL(p, "out of memory");
	return true;
}

static bool parse_bool(struct parser *p, const char *value, bool *dst)
{
	if (!strcmp(value, "yes") || !strcmp(value, "true") ||
	    !strcmp(value, "on"))
		*dst = true;
	else if (!strcmp(value, "no") || !strcmp(value, "false") ||
		 !strcmp(value, "off"))
		*dst = false;
	else
		FAIL(p, "'%s' is not yes or no", value);
	return true;
}

/* A number with an optional unit: suffixes give the multiplier. */
static bool parse_number(struct parser *p, const char *value,
			 const char *units, const long *mult, long min,
			 long max, long *dst)
{
	char *end;
	long v, m = 1;

	errno = 0;
	v = strtol(value, &end, 10);
	if (end == value || errno != 0 || v < 0 || !isdigit((unsigned char)*value))
		FAIL(p, "'%s' is not a number", value);
	if (*end != '\0') {
		const char *u = end[1] == '\0' ? strchr(units, *end) : NULL;
		if (u == NULL && *units == '\0')
			FAIL(p, "'%s' is not a number", value);
		if (u == NULL)
			FAIL(p, "'%s' has an unknown unit (use one of %s)",
			     value, units);
		m = mult[u - units];
	}
	if (v > max / m || v * m < min || v * m > max)
		FAIL(p, "'%s' is out of range (%ld to %ld)", value, min, max);
	*dst = v * m;
	return true;
}

static bool parse_duration(struct parser *p, const char *value, long min,
			   long max, long *dst)
{
	static const long mult[] = { 1, 60, 3600, 86400 };

	return parse_number(p, value, "smhd", mult, min, max, dst);
}

/* Scope tokens, RFC 6749 §3.3: %x21 / %x23-5B / %x5D-7E, space separated. */
static bool parse_scopes(struct parser *p, const char *value, char ***dst,
			 size_t *count)
{
	char *copy = strdup(value), *save = NULL;
	char **list = NULL;
	size_t n = 0;

	if (copy == NULL)
		FAIL(p, "out of memory");
	for (char *t = strtok_r(copy, " \t", &save); t != NULL;
	     t = strtok_r(NULL, " \t", &save)) {
		char **nl;
		for (const char *c = t; *c; c++) {
			if (*c < 0x21 || *c == 0x22 || *c == 0x5c ||
			    *c > 0x7e) {
				char bad[64];
				snprintf(bad, sizeof(bad), "%s", t);
				free(copy);
				for (size_t i = 0; i < n; i++)
					free(list[i]);
				free(list);
				FAIL(p, "'%s' is not a valid scope (RFC 6749 "
					"§3.3)", bad);
			}
		}
		nl = realloc(list, (n + 1) * sizeof(*list));
		if (nl == NULL || (nl[n] = strdup(t)) == NULL) {
			free(copy);
			FAIL(p, "out of memory");
		}
		list = nl;
		n++;
	}
	free(copy);
	for (size_t i = 0; i < *count; i++)
		free((*dst)[i]);
	free(*dst);
	*dst = list;
	*count = n;
	return true;
}

static bool loopback_host(const char *host)
{
	return !strcmp(host, "127.0.0.1") || !strcmp(host, "localhost") ||
	       !strcmp(host, "[::1]");
}

/*
 * Validates an absolute URL for the issuer or a resource: https (http only
 * for loopback hosts), no userinfo, query or fragment, no trailing slash, and
 * written in canonical form, since clients compare these strings exactly.
 */
static bool parse_url(struct parser *p, const char *value, char **url,
		      char **authority, char **path)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *upath = NULL;
	char *user = NULL, *query = NULL, *frag = NULL;
	char canon[2048], auth[512];
	bool ok = false;

	if (u == NULL)
		FAIL(p, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, value, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		FAIL(p, "'%s' is not an absolute http(s) URL", value);
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	/* A port equal to the scheme's default is not canonical. */
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT);
	curl_url_get(u, CURLUPART_PATH, &upath, 0);
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	for (char *c = host; c != NULL && *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (scheme == NULL || host == NULL || upath == NULL) {
		MCPAUTH_ERR(p->err, 500, "server_error",
			    "%s:%d: key '%s': '%s' is not a valid URL", p->file,
			    p->line, p->key, value);
	} else if (strcmp(scheme, "https") != 0 &&
		   !(strcmp(scheme, "http") == 0 && loopback_host(host))) {
		MCPAUTH_ERR(p->err, 500, "server_error",
			    "%s:%d: key '%s': '%s' must use https (http is "
			    "allowed only for 127.0.0.1, localhost and [::1])",
			    p->file, p->line, p->key, value);
	} else if (user != NULL || query != NULL || frag != NULL) {
		MCPAUTH_ERR(p->err, 500, "server_error",
			    "%s:%d: key '%s': '%s' must not have user "
			    "information, a query or a fragment",
			    p->file, p->line, p->key, value);
	} else {
		const char *cp = strcmp(upath, "/") == 0 ? "" : upath;
		snprintf(auth, sizeof(auth), "%s%s%s", host, port ? ":" : "",
			 port ? port : "");
		snprintf(canon, sizeof(canon), "%s://%s%s", scheme, auth, cp);
		if (value[strlen(value) - 1] == '/')
			MCPAUTH_ERR(p->err, 500, "server_error",
				    "%s:%d: key '%s': '%s' must not end with "
				    "'/' (clients compare it exactly)",
				    p->file, p->line, p->key, value);
		else if (strcmp(canon, value) != 0)
			MCPAUTH_ERR(p->err, 500, "server_error",
				    "%s:%d: key '%s': write '%s' in its "
				    "canonical form '%s' (clients compare it "
				    "exactly)",
				    p->file, p->line, p->key, value, canon);
		else if (!set_str(url, canon) ||
			 (authority && !set_str(authority, auth)) ||
			 !set_str(path, cp))
			MCPAUTH_ERR(p->err, 500, "server_error",
				    "out of memory");
		else
			ok = true;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(upath);
	curl_free(user);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return ok;
}

/*
 * fetch_allow: host names, or addresses with an optional prefix length
 * ("127.0.0.1", "10.1.0.0/16", "::1", "docs.internal"), space separated.
 */
/*
 * Host names, space separated: "example.com", or ".example.com" /
 * "*.example.com" for every name under it. Stored lower case, "*." as ".".
 */
static bool parse_hosts(struct parser *p, const char *value, char ***dst,
			size_t *count)
{
	char **list = NULL;
	size_t n = 0;

	if (!parse_scopes(p, value, &list, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		char *h = list[i], *d = h;
		size_t len;
		if (!strncmp(h, "*.", 2))
			memmove(h, h + 1, strlen(h));
		len = strlen(h);
		if (len > 1 && h[len - 1] == '.')
			h[--len] = '\0';
		for (; *d; d++) {
			*d = (char)tolower((unsigned char)*d);
			if (!isalnum((unsigned char)*d) && *d != '-' &&
			    *d != '.')
				len = 0;
		}
		if (len == 0 || !strcmp(h, ".")) {
			char bad[64];
			snprintf(bad, sizeof(bad), "%s", h);
			for (size_t k = 0; k < n; k++)
				free(list[k]);
			free(list);
			FAIL(p, "'%s' is not a host name (example.com, or "
				".example.com for its subdomains)", bad);
		}
	}
	for (size_t i = 0; i < *count; i++)
		free((*dst)[i]);
	free(*dst);
	*dst = list;
	*count = n;
	return true;
}

bool mcpauth_conf_host_listed(char *const *list, size_t n, const char *host)
{
	size_t hl = strlen(host);

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	for (size_t i = 0; i < n; i++) {
		const char *e = list[i];
		size_t el = strlen(e);
		if (e[0] == '.') {
			if (hl > el && !strncasecmp(host + hl - el, e, el))
				return true;
		} else if (hl == el && !strncasecmp(host, e, el)) {
			return true;
		}
	}
	return false;
}

static const unsigned char V4MAPPED[12] = { 0, 0, 0, 0, 0, 0,
					     0, 0, 0, 0, 0xff, 0xff };

static bool parse_allow(struct parser *p, const char *value,
			struct mcpauth_conf *c)
{
	char *copy = strdup(value), *save = NULL;
	bool ok = false;

	if (copy == NULL)
		FAIL(p, "out of memory");
	for (char *t = strtok_r(copy, " \t", &save); t != NULL;
	     t = strtok_r(NULL, " \t", &save)) {
		struct mcpauth_conf_allow a = { 0 }, *na;
		char *slash = strchr(t, '/'), *end;
		size_t len;

		if (slash != NULL)
			*slash = '\0';
		if (inet_pton(AF_INET, t, a.addr) == 1) {
			a.family = AF_INET;
			a.bits = 32;
		} else if (inet_pton(AF_INET6, t, a.addr) == 1) {
			a.family = AF_INET6;
			a.bits = 128;
		}
		if (slash != NULL) {
			long bits;
			errno = 0;
			bits = strtol(slash + 1, &end, 10);
			if (a.family == 0 || !isdigit((unsigned char)slash[1]) ||
			    *end != '\0' || errno != 0 || bits < 0 ||
			    bits > (long)a.bits) {
				MCPAUTH_ERR(p->err, 500, "server_error",
					    "%s:%d: key '%s': '%s/%s' is not an "
					    "address range", p->file, p->line,
					    p->key, t, slash + 1);
				goto out;
			}
			a.bits = (unsigned)bits;
		}
		/* ::ffff:a.b.c.d is matched as the IPv4 address it maps. */
		if (a.family == AF_INET6 && !memcmp(a.addr, V4MAPPED, 12)) {
			if (a.bits < 96) {
				MCPAUTH_ERR(p->err, 500, "server_error",
					    "%s:%d: key '%s': '%s/%u' mixes "
					    "IPv4-mapped and other addresses",
					    p->file, p->line, p->key, t,
					    a.bits);
				goto out;
			}
			memmove(a.addr, a.addr + 12, 4);
			memset(a.addr + 4, 0, 12);
			a.family = AF_INET;
			a.bits -= 96;
		}
		if (a.family == 0) {
			/* A host name, compared with the URL's host. A last
			 * label of digits (or 0x...) is an address curl
			 * rewrites ("127.1"): such names would never match. */
			const char *last;
			len = strlen(t);
			if (len > 0 && t[len - 1] == '.')
				t[--len] = '\0';
			for (char *h = t; *h; h++) {
				*h = (char)tolower((unsigned char)*h);
				if (!isalnum((unsigned char)*h) && *h != '-' &&
				    *h != '.')
					len = 0;
			}
			last = strrchr(t, '.') != NULL ? strrchr(t, '.') + 1 : t;
			if (len > 0 && (strspn(last, "0123456789") ==
						strlen(last) ||
					!strncmp(last, "0x", 2))) {
				MCPAUTH_ERR(p->err, 500, "server_error",
					    "%s:%d: key '%s': '%s' is no host "
					    "name; write an IPv4 address as "
					    "four decimal numbers (a.b.c.d)",
					    p->file, p->line, p->key, t);
				goto out;
			}
			if (len == 0 || len > 253) {
				MCPAUTH_ERR(p->err, 500, "server_error",
					    "%s:%d: key '%s': '%s' is neither "
					    "a host name nor an address",
					    p->file, p->line, p->key, t);
				goto out;
			}
			if ((a.host = strdup(t)) == NULL) {
				MCPAUTH_ERR(p->err, 500, "server_error",
					    "out of memory");
				goto out;
			}
		}
		na = realloc(c->fetch_allow,
			     (c->nfetch_allow + 1) * sizeof(*na));
		if (na == NULL) {
			free(a.host);
			MCPAUTH_ERR(p->err, 500, "server_error",
				    "out of memory");
			goto out;
		}
		c->fetch_allow = na;
		na[c->nfetch_allow++] = a;
	}
	ok = true;
out:
	free(copy);
	return ok;
}

static void resource_clear(struct mcpauth_resource *r)
{
	free(r->url);
	free(r->authority);
	free(r->path);
	free(r->name);
	for (size_t i = 0; i < r->nscopes; i++)
		free(r->scopes[i]);
	free(r->scopes);
	for (size_t i = 0; i < r->ndefault_scopes; i++)
		free(r->default_scopes[i]);
	free(r->default_scopes);
	for (size_t i = 0; i < r->nintrospection_clients; i++)
		free(r->introspection_clients[i]);
	free(r->introspection_clients);
}

static bool global_key(struct parser *p, struct mcpauth_conf *c,
		       const char *key, const char *value, char **default_res)
{
	static const long size_mult[] = { 1024, 1024 * 1024 };
	long v;

	if (!strcmp(key, "issuer"))
		return parse_url(p, value, &c->issuer, NULL, &c->issuer_path);
	if (!strcmp(key, "database"))
		return parse_path(p, value, &c->database);
	if (!strcmp(key, "key_dir"))
		return parse_path(p, value, &c->key_dir);
	if (!strcmp(key, "signing_alg")) {
		if (strcmp(value, "ES256") && strcmp(value, "EdDSA") &&
		    strcmp(value, "RS256"))
			FAIL(p, "'%s' is not ES256, EdDSA or RS256", value);
		return set_str(&c->signing_alg, value);
	}
	if (!strcmp(key, "access_token_lifetime"))
		return parse_duration(p, value, 60, 86400,
				      &c->access_token_lifetime);
	if (!strcmp(key, "refresh_token_lifetime"))
		return parse_duration(p, value, 3600, 365 * 86400,
				      &c->refresh_token_lifetime);
	if (!strcmp(key, "code_lifetime"))
		return parse_duration(p, value, 10, 60, &c->code_lifetime);
	if (!strcmp(key, "metadata_max_age"))
		return parse_duration(p, value, 0, 86400, &c->metadata_max_age);
	if (!strcmp(key, "max_body")) {
		if (!parse_number(p, value, "km", size_mult, 1024, 1024 * 1024,
				  &v))
			return false;
		c->max_body = (size_t)v;
		return true;
	}
	if (!strcmp(key, "dynamic_registration"))
		return parse_bool(p, value, &c->dynamic_registration);
	if (!strcmp(key, "confidential_registration"))
		return parse_bool(p, value, &c->confidential_registration);
	if (!strcmp(key, "client_secret_lifetime"))
		return parse_duration(p, value, 0, 10L * 365 * 86400,
				      &c->client_secret_lifetime);
	if (!strcmp(key, "initial_access_token_required"))
		return parse_bool(p, value, &c->initial_access_token_required);
	if (!strcmp(key, "max_dynamic_clients"))
		return parse_number(p, value, "", NULL, 0, 100000000L,
				    &c->max_dynamic_clients);
	if (!strcmp(key, "registration_rate_limit"))
		return parse_number(p, value, "", NULL, 0, 1000000L,
				    &c->registration_rate_limit);
	if (!strcmp(key, "registration_rate_window"))
		return parse_duration(p, value, 1, 86400,
				      &c->registration_rate_window);
	if (!strcmp(key, "dynamic_client_idle_expiry"))
		return parse_duration(p, value, 0, 10L * 365 * 86400,
				      &c->dynamic_client_idle_expiry);
	if (!strcmp(key, "dynamic_client_unused_expiry"))
		return parse_duration(p, value, 0, 10L * 365 * 86400,
				      &c->dynamic_client_unused_expiry);
	if (!strcmp(key, "audit_retention"))
		return parse_duration(p, value, 0, 100L * 365 * 86400,
				      &c->audit_retention);
	if (!strcmp(key, "www_dir"))
		return parse_path(p, value, &c->www_dir);
	if (!strcmp(key, "session_lifetime"))
		return parse_duration(p, value, 60, 30L * 86400,
				      &c->session_lifetime);
	if (!strcmp(key, "refresh_grace"))
		return parse_duration(p, value, 0, 300, &c->refresh_grace);
	if (!strcmp(key, "registration_default_scopes"))
		return parse_scopes(p, value, &c->registration_default_scopes,
				    &c->nregistration_default_scopes);
	if (!strcmp(key, "client_id_metadata_documents"))
		return parse_bool(p, value, &c->client_id_metadata_documents);
	if (!strcmp(key, "client_credentials"))
		return parse_bool(p, value, &c->client_credentials);
	if (!strcmp(key, "private_key_jwt"))
		return parse_bool(p, value, &c->private_key_jwt);
	if (!strcmp(key, "fetch_allow"))
		return parse_allow(p, value, c);
	if (!strcmp(key, "fetch_ca_file"))
		return parse_path(p, value, &c->fetch_ca_file);
	if (!strcmp(key, "fetch_timeout"))
		return parse_duration(p, value, 1, 60, &c->fetch_timeout);
	if (!strcmp(key, "metadata_document_max_size"))
		return parse_number(p, value, "k", size_mult, 512, 64 * 1024,
				    &c->metadata_document_max_size);
	if (!strcmp(key, "metadata_document_fetch_limit"))
		return parse_number(p, value, "", NULL, 0, 1000000L,
				    &c->metadata_document_fetch_limit);
	if (!strcmp(key, "metadata_document_trusted_hosts"))
		return parse_hosts(p, value,
				   &c->metadata_document_trusted_hosts,
				   &c->nmetadata_document_trusted_hosts);
	if (!strcmp(key, "metadata_document_denied_hosts"))
		return parse_hosts(p, value,
				   &c->metadata_document_denied_hosts,
				   &c->nmetadata_document_denied_hosts);
	if (!strcmp(key, "default_resource"))
		return set_str(default_res, value);
	FAIL(p, "unknown key");
}

static bool resource_key(struct parser *p, struct mcpauth_resource *r,
			 const char *key, const char *value)
{
	if (!strcmp(key, "url"))
		return parse_url(p, value, &r->url, &r->authority, &r->path);
	if (!strcmp(key, "name"))
		return set_str(&r->name, value);
	if (!strcmp(key, "scopes"))
		return parse_scopes(p, value, &r->scopes, &r->nscopes);
	if (!strcmp(key, "default_scopes"))
		return parse_scopes(p, value, &r->default_scopes,
				    &r->ndefault_scopes);
	/* Client ids, space separated: the same token syntax as scopes. */
	if (!strcmp(key, "introspection_clients"))
		return parse_scopes(p, value, &r->introspection_clients,
				    &r->nintrospection_clients);
	FAIL(p, "unknown key in [resource]");
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Checks that hold across keys, once the whole file is read. */
static bool validate(struct parser *p, struct mcpauth_conf *c,
		     const char *default_res, const int *resource_lines)
{
	if (c->issuer == NULL) {
		MCPAUTH_ERR(p->err, 500, "server_error",
			    "%s: 'issuer' is required", p->file);
		return false;
	}
	if (c->nresources == 0) {
		MCPAUTH_ERR(p->err, 500, "server_error",
			    "%s: at least one [resource] (an MCP server to "
			    "protect) is required", p->file);
		return false;
	}
	for (size_t i = 0; i < c->nresources; i++) {
		struct mcpauth_resource *r = &c->resources[i];
		p->line = resource_lines[i];
		p->key = "url";
		if (r->url == NULL)
			FAIL(p, "every [resource] needs a url");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->resources[j].url, r->url))
				FAIL(p, "resource '%s' is configured twice",
				     r->url);
		p->key = "default_scopes";
		for (size_t k = 0; k < r->ndefault_scopes; k++) {
			bool found = false;
			for (size_t s = 0; s < r->nscopes; s++)
				found |= !strcmp(r->scopes[s],
						 r->default_scopes[k]);
			if (!found && strcmp(r->default_scopes[k],
					     "offline_access") != 0)
				FAIL(p, "'%s' is not one of this resource's "
					"scopes", r->default_scopes[k]);
		}
		if (r->default_scopes == NULL && r->nscopes > 0) {
			r->default_scopes = calloc(r->nscopes, sizeof(char *));
			if (r->default_scopes == NULL)
				FAIL(p, "out of memory");
			for (size_t s = 0; s < r->nscopes; s++)
				r->default_scopes[s] = strdup(r->scopes[s]);
			r->ndefault_scopes = r->nscopes;
		}
	}
	/* The rate limit counts audit rows: gc must not remove them early. */
	if (c->audit_retention > 0 &&
	    (c->audit_retention < c->registration_rate_window ||
	     c->audit_retention < 900)) {
		MCPAUTH_ERR(p->err, 500, "server_error",
			    "%s: audit_retention must be at least "
			    "registration_rate_window and 15m (the rate limits "
			    "count audit rows)",
			    p->file);
		return false;
	}
	for (size_t k = 0; k < c->nregistration_default_scopes; k++) {
		if (!mcpauth_conf_scope_offered(c,
						c->registration_default_scopes[k])) {
			MCPAUTH_ERR(p->err, 500, "server_error",
				    "%s: registration_default_scopes: '%s' is "
				    "not a scope of any [resource]",
				    p->file, c->registration_default_scopes[k]);
			return false;
		}
	}
	if (default_res != NULL) {
		const struct mcpauth_resource *r =
			mcpauth_conf_resource(c, default_res);
		if (r == NULL) {
			MCPAUTH_ERR(p->err, 500, "server_error",
				    "%s: default_resource '%s' is not the url "
				    "of any [resource]", p->file, default_res);
			return false;
		}
		c->default_resource = r->url;
	} else if (c->nresources == 1) {
		c->default_resource = c->resources[0].url;
	}
	return true;
}

bool mcpauth_conf_load(const char *path, struct mcpauth_conf **out,
		       struct mcpauth_err *err)
{
	struct mcpauth_conf *c = NULL;
	struct parser p = { .file = path, .err = err, .key = "" };
	char *text = NULL, *dircopy = NULL, *default_res = NULL;
	char seen[64][48];
	int nseen = 0, *resource_lines = NULL;
	size_t len = 0;
	FILE *f = NULL;
	bool ok = false, in_resource = false;

	f = fopen(path, "r");
	if (f == NULL) {
		MCPAUTH_ERR(err, 500, "server_error", "%s: cannot open: %s",
			    path, strerror(errno));
		goto out;
	}
	text = malloc(MAX_CONF_SIZE + 1);
	if (text == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	len = fread(text, 1, MAX_CONF_SIZE + 1, f);
	if (ferror(f) || len > MAX_CONF_SIZE) {
		MCPAUTH_ERR(err, 500, "server_error",
			    "%s: unreadable or larger than 1 MiB", path);
		goto out;
	}
	text[len] = '\0';
	if (strlen(text) != len) {
		MCPAUTH_ERR(err, 500, "server_error",
			    "%s: contains a NUL byte", path);
		goto out;
	}
	dircopy = strdup(path);
	c = calloc(1, sizeof(*c));
	if (dircopy == NULL || c == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	/* Relative paths hang off the file's directory, made absolute. */
	p.dir = realpath(dirname(dircopy), NULL);
	if (p.dir == NULL) {
		MCPAUTH_ERR(err, 500, "server_error", "%s: %s", path,
			    strerror(errno));
		goto out;
	}
	c->file = strdup(path);
	c->access_token_lifetime = 3600;
	c->refresh_token_lifetime = 30 * 86400;
	c->code_lifetime = 60;
	c->metadata_max_age = 3600;
	c->max_body = 64 * 1024;
	c->dynamic_registration = true;
	c->max_dynamic_clients = 10000;
	c->registration_rate_limit = 20;
	c->registration_rate_window = 3600;
	c->dynamic_client_idle_expiry = 90L * 86400;
	c->dynamic_client_unused_expiry = 7L * 86400;
	c->audit_retention = 365L * 86400;
	c->session_lifetime = 8L * 3600;
	c->refresh_grace = 30;
	c->fetch_timeout = 5;
	c->metadata_document_max_size = 5 * 1024;
	c->metadata_document_fetch_limit = 60;
	c->client_id_metadata_documents = true;
	if (c->file == NULL || !set_str(&c->signing_alg, "ES256") ||
	    !set_str(&c->database,
		     MCPAUTH_LOCALSTATEDIR "/lib/mcpauth/mcpauth.db") ||
	    !set_str(&c->key_dir, MCPAUTH_LOCALSTATEDIR "/lib/mcpauth/keys") ||
	    !set_str(&c->www_dir, MCPAUTH_PKGDATADIR "/www")) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}

	/* Lines are split by hand: strtok would merge empty lines. */
	for (char *line = text, *next; line != NULL; line = next) {
		char *eq, *key, *value;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		p.line++;
		p.key = "";
		/* A comment starts a line or follows white space. */
		for (char *h = line; (h = strchr(h, '#')) != NULL; h++) {
			if (h == line || h[-1] == ' ' || h[-1] == '\t') {
				*h = '\0';
				break;
			}
		}
		line = trim(line);
		if (*line == '\0')
			continue;
		if (*line == '[') {
			struct mcpauth_resource *nr;
			int *nl;
			if (strcmp(line, "[resource]") != 0) {
				MCPAUTH_ERR(err, 500, "server_error",
					    "%s:%d: unknown section %s (the "
					    "only section is [resource])",
					    path, p.line, line);
				goto out;
			}
			nr = realloc(c->resources,
				     (c->nresources + 1) * sizeof(*nr));
			if (nr == NULL) {
				MCPAUTH_ERR_INTERNAL(err, "out of memory");
				goto out;
			}
			c->resources = nr;
			memset(&nr[c->nresources], 0, sizeof(*nr));
			nl = realloc(resource_lines,
				     (c->nresources + 1) * sizeof(*nl));
			if (nl == NULL) {
				MCPAUTH_ERR_INTERNAL(err, "out of memory");
				goto out;
			}
			resource_lines = nl;
			resource_lines[c->nresources] = p.line;
			c->nresources++;
			in_resource = true;
			nseen = 0;
			continue;
		}
		eq = strchr(line, '=');
		if (eq == NULL) {
			MCPAUTH_ERR(err, 500, "server_error",
				    "%s:%d: expected 'key = value'", path,
				    p.line);
			goto out;
		}
		*eq = '\0';
		key = trim(line);
		value = trim(eq + 1);
		p.key = key;
		for (int i = 0; i < nseen; i++) {
			if (!strcmp(seen[i], key)) {
				MCPAUTH_ERR(err, 500, "server_error",
					    "%s:%d: key '%s' is set twice in "
					    "the same section",
					    path, p.line, key);
				goto out;
			}
		}
		if (strlen(key) < sizeof(seen[0]) && nseen < 64)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", key);
		if (in_resource) {
			if (!resource_key(&p, &c->resources[c->nresources - 1],
					  key, value))
				goto out;
		} else if (!global_key(&p, c, key, value, &default_res)) {
			goto out;
		}
	}
	if (!validate(&p, c, default_res, resource_lines))
		goto out;
	*out = c;
	c = NULL;
	ok = true;
out:
	if (f != NULL)
		fclose(f);
	free(text);
	free(dircopy);
	free(p.dir);
	free(default_res);
	free(resource_lines);
	mcpauth_conf_free(c);
	return ok;
}

void mcpauth_conf_free(struct mcpauth_conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->file);
	free(conf->issuer);
	free(conf->issuer_path);
	free(conf->database);
	free(conf->key_dir);
	free(conf->signing_alg);
	free(conf->www_dir);
	for (size_t i = 0; i < conf->nfetch_allow; i++)
		free(conf->fetch_allow[i].host);
	free(conf->fetch_allow);
	free(conf->fetch_ca_file);
	for (size_t i = 0; i < conf->nmetadata_document_trusted_hosts; i++)
		free(conf->metadata_document_trusted_hosts[i]);
	free(conf->metadata_document_trusted_hosts);
	for (size_t i = 0; i < conf->nmetadata_document_denied_hosts; i++)
		free(conf->metadata_document_denied_hosts[i]);
	free(conf->metadata_document_denied_hosts);
	for (size_t i = 0; i < conf->nresources; i++)
		resource_clear(&conf->resources[i]);
	free(conf->resources);
	for (size_t i = 0; i < conf->nregistration_default_scopes; i++)
		free(conf->registration_default_scopes[i]);
	free(conf->registration_default_scopes);
	free(conf);
}

const struct mcpauth_resource *
mcpauth_conf_resource(const struct mcpauth_conf *conf, const char *url)
{
	for (size_t i = 0; i < conf->nresources; i++)
		if (!strcmp(conf->resources[i].url, url))
			return &conf->resources[i];
	return NULL;
}

size_t mcpauth_conf_scopes(const struct mcpauth_conf *conf, const char ***out)
{
	size_t cap = 1, n = 0;
	const char **list;

	for (size_t i = 0; i < conf->nresources; i++)
		cap += conf->resources[i].nscopes;
	list = calloc(cap, sizeof(*list));
	if (list == NULL) {
		*out = NULL;
		return 0;
	}
	for (size_t i = 0; i < conf->nresources; i++) {
		for (size_t s = 0; s < conf->resources[i].nscopes; s++) {
			const char *scope = conf->resources[i].scopes[s];
			bool dup = false;
			for (size_t k = 0; k < n; k++)
				dup |= !strcmp(list[k], scope);
			if (!dup)
				list[n++] = scope;
		}
	}
	{
		bool has = false;
		for (size_t k = 0; k < n; k++)
			has |= !strcmp(list[k], "offline_access");
		if (!has)
			list[n++] = "offline_access";
	}
	*out = list;
	return n;
}

bool mcpauth_conf_scope_offered(const struct mcpauth_conf *conf,
				const char *scope)
{
	if (!strcmp(scope, "offline_access"))
		return true;
	for (size_t i = 0; i < conf->nresources; i++)
		for (size_t s = 0; s < conf->resources[i].nscopes; s++)
			if (!strcmp(conf->resources[i].scopes[s], scope))
				return true;
	return false;
}

bool mcpauth_conf_duration(const char *value, long max, long *out)
{
	struct mcpauth_err err = { 0 };
	struct parser p = { .file = "", .key = "", .err = &err };

	return parse_duration(&p, value, 0, max, out);
}

char *mcpauth_conf_url(const struct mcpauth_conf *conf, const char *suffix)
{
	size_t n = strlen(conf->issuer) + strlen(suffix) + 1;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s%s", conf->issuer, suffix);
	return s;
}

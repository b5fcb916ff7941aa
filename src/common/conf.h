/* conf.h: the configuration file, mcpauth.conf(5). */
#ifndef MCPAUTH_CONF_H
#define MCPAUTH_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Environment variable naming the configuration file. */
#define MCPAUTH_CONFIG_ENV "MCPAUTH_CONFIG"

/* A protected resource: one MCP server (RFC 9728, RFC 8707). */
struct mcpauth_resource {
	char *url;       /* canonical URL, exactly as configured */
	char *authority; /* host[:port] of url */
	char *path;      /* path of url, "" for none */
	char *name;      /* resource_name, may be NULL */
	char **scopes;   /* scopes_supported of this resource */
	size_t nscopes;
	char **default_scopes; /* granted when a client asks for none */
	size_t ndefault_scopes;
	/* confidential clients that may introspect tokens for this resource */
	char **introspection_clients;
	size_t nintrospection_clients;
};

/*
 * An entry of fetch_allow: a host name (host != NULL, lower case, no
 * trailing dot) or an address range (family AF_INET or AF_INET6, the first
 * bits of addr; IPv4 in the first 4 bytes).
 */
struct mcpauth_conf_allow {
	char *host;
	int family;
	unsigned char addr[16];
	unsigned bits;
};

/* Owned by the caller: free with mcpauth_conf_free. */
struct mcpauth_conf {
	char *file;        /* the file read */
	char *issuer;      /* exact string, no trailing slash */
	char *issuer_path; /* path part of the issuer, "" for none */
	char *database;    /* absolute path */
	char *key_dir;     /* absolute path */
	char *signing_alg; /* ES256 (default), EdDSA or RS256 */
	long access_token_lifetime;  /* seconds */
	long refresh_token_lifetime; /* seconds */
	long code_lifetime;          /* seconds, at most 60 */
	long metadata_max_age;       /* Cache-Control max-age of metadata */
	size_t max_body;             /* bytes */
	bool dynamic_registration;      /* RFC 7591, default yes */
	bool confidential_registration; /* secrets through DCR, default no */
	long client_secret_lifetime;    /* seconds, 0: secrets never expire */
	bool initial_access_token_required; /* RFC 7591 §3 */
	long max_dynamic_clients;       /* 0: no cap */
	long registration_rate_limit;   /* per address per window, 0: none */
	long registration_rate_window;  /* seconds */
	long dynamic_client_idle_expiry; /* seconds, 0: never removed */
	long dynamic_client_unused_expiry; /* never used: seconds, 0: off */
	long audit_retention;           /* seconds, 0: kept forever */
	char *www_dir;                  /* page templates and style.css */
	long session_lifetime;          /* seconds a sign-in lasts */
	long refresh_grace;             /* seconds, see mcpauth.conf(5) */
	/* scope registered when a client sends none; NULL: every scope */
	char **registration_default_scopes;
	size_t nregistration_default_scopes;
	bool client_id_metadata_documents;
	bool client_credentials;
	bool private_key_jwt;
	/* outbound requests (fetch.c): documents clients point us to */
	struct mcpauth_conf_allow *fetch_allow; /* exempt from the address
						   refusal; may be empty */
	size_t nfetch_allow;
	char *fetch_ca_file;      /* PEM CAs instead of the system's, or NULL */
	long fetch_timeout;       /* seconds for a whole request */
	long metadata_document_max_size; /* bytes of a client ID document */
	long metadata_document_fetch_limit; /* per host per 10 min, 0: none */
	/* host names: "example.com", or ".example.com" for its subdomains */
	char **metadata_document_trusted_hosts; /* no localhost warning */
	size_t nmetadata_document_trusted_hosts;
	char **metadata_document_denied_hosts;  /* refused, never fetched */
	size_t nmetadata_document_denied_hosts;
	char *default_resource; /* borrowed from resources[i].url, or NULL */
	struct mcpauth_resource *resources;
	size_t nresources;
};

/* The path to read: $MCPAUTH_CONFIG, else the compiled-in default. */
const char *mcpauth_conf_default_path(void);

/*
 * Reads and validates the file. Relative paths in it are relative to the
 * file's directory. On failure err->description reads "FILE:LINE: key 'K':
 * reason" (or "FILE: reason" for whole-file problems).
 */
bool mcpauth_conf_load(const char *path, struct mcpauth_conf **out,
		       struct mcpauth_err *err);

void mcpauth_conf_free(struct mcpauth_conf *conf);

/* The resource whose URL is exactly url, or NULL. */
const struct mcpauth_resource *
mcpauth_conf_resource(const struct mcpauth_conf *conf, const char *url);

/*
 * Every scope offered: the union of resource scopes, each once, then
 * offline_access. *out is a new array (free it) of strings borrowed from conf.
 */
size_t mcpauth_conf_scopes(const struct mcpauth_conf *conf,
			   const char ***out);

/* Parses a duration as the file does ("90", "15m", "12h", "30d") into seconds. */
bool mcpauth_conf_duration(const char *value, long max, long *out);

/* The issuer followed by suffix ("/token"), a new string (free), or NULL. */
char *mcpauth_conf_url(const struct mcpauth_conf *conf, const char *suffix);

/*
 * True when host (any case, a final dot ignored) is in list: equal to an
 * entry, or under an entry written ".example.com" (or "*.example.com").
 */
bool mcpauth_conf_host_listed(char *const *list, size_t n, const char *host);

/* True when scope is one of mcpauth_conf_scopes. */
bool mcpauth_conf_scope_offered(const struct mcpauth_conf *conf,
				const char *scope);

#endif

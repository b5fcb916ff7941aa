/* req.h: one HTTP request and its response, independent of FastCGI/CGI. */
#ifndef MCPAUTH_REQ_H
#define MCPAUTH_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "err.h"

/* Everything copied out of the CGI environment; owned by the adapter. */
struct mcpauth_req {
	char *method;         /* REQUEST_METHOD */
	char *path;           /* REQUEST_URI before '?', raw (not decoded) */
	char *query;          /* QUERY_STRING, "" when none */
	char *host;           /* HTTP_HOST, may be NULL */
	char *content_type;   /* CONTENT_TYPE, may be NULL */
	char *authorization;  /* HTTP_AUTHORIZATION, may be NULL */
	char *origin;         /* HTTP_ORIGIN, may be NULL */
	char *cookie;         /* HTTP_COOKIE, may be NULL */
	char *remote_addr;    /* REMOTE_ADDR, may be NULL */
	char *body;           /* NUL-terminated, body_len bytes */
	size_t body_len;
	char id[17];          /* request id for the log, hex */
};

/*
 * Reads up to len bytes of the body into buf; *got = 0 at the end.
 * Returns false on a read error.
 */
typedef bool (*mcpauth_body_reader)(void *ctx, char *buf, size_t len,
				    size_t *got);

/* The value of variable name in envp ("NAME=value" strings), or NULL. */
const char *mcpauth_env_get(char *const *envp, const char *name);

/*
 * Builds a request from a CGI environment (envp, NULL-terminated
 * "NAME=value" strings) and a body reader. A body longer than max_body, by
 * CONTENT_LENGTH or by what arrives, is refused with 413; a malformed
 * CONTENT_LENGTH with 400. Nothing in *out points into envp.
 */
bool mcpauth_req_from_env(char *const *envp, size_t max_body,
			  mcpauth_body_reader reader, void *reader_ctx,
			  struct mcpauth_req **out, struct mcpauth_err *err);
void mcpauth_req_free(struct mcpauth_req *req);

/*
 * What per-address limits count by: REMOTE_ADDR, or its /64 for IPv6 (one
 * host commonly holds a whole /64). Never X-Forwarded-For. "" when unknown.
 */
void mcpauth_req_rate_key(const struct mcpauth_req *req, char *out,
			  size_t size);

/*
 * The value of cookie name in the Cookie header (RFC 6265 §5.4), a new
 * string (free), or NULL when absent or sent twice.
 */
char *mcpauth_req_cookie(const struct mcpauth_req *req, const char *name);

struct mcpauth_resp_header {
	char *name;
	char *value;
};

#define MCPAUTH_RESP_MAX_HEADERS 16

/* Filled by a handler, written by the adapter. */
struct mcpauth_resp {
	int status;
	const char *content_type; /* static string */
	struct mcpauth_resp_header headers[MCPAUTH_RESP_MAX_HEADERS];
	size_t nheaders;
	char *body; /* owned */
	size_t body_len;
};

struct mcpauth_resp *mcpauth_resp_new(void);
void mcpauth_resp_free(struct mcpauth_resp *resp);

/* Adds a header (copied); refuses CR, LF or NUL in either part. */
bool mcpauth_resp_header(struct mcpauth_resp *resp, const char *name,
			 const char *value);

/* Replaces the body; takes ownership of body (may be NULL for none). */
void mcpauth_resp_body(struct mcpauth_resp *resp, int status,
		       const char *content_type, char *body, size_t len);

/* A JSON body; takes the reference to obj. */
void mcpauth_resp_json(struct mcpauth_resp *resp, int status,
		       struct json_object *obj);

/*
 * The OAuth error response (RFC 6749 §5.2): {"error", "error_description"},
 * Cache-Control: no-store. Headers already added stay (CORS, Allow).
 */
void mcpauth_resp_error(struct mcpauth_resp *resp,
			const struct mcpauth_err *err);

/*
 * A CORS preflight answer (204) allowing methods and request headers, cached
 * by the browser for a day. The caller adds Access-Control-Allow-Origin.
 */
void mcpauth_resp_preflight(struct mcpauth_resp *resp, const char *methods,
			    const char *headers);

/*
 * The CGI response text: Status, Content-Type, Content-Length, headers, a
 * blank line, then the body unless head is true. Owned by the caller.
 */
char *mcpauth_resp_serialize(const struct mcpauth_resp *resp, bool head,
			     size_t *len);

/* The reason phrase for an HTTP status ("OK", "Not Found", ...). */
const char *mcpauth_http_reason(int status);

#endif

/* req.c: building a request from a CGI environment; building and writing responses. */
#include <errno.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "json.h"
#include "req.h"

const char *mcpauth_env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* A copy of the variable, or NULL when absent (or out of memory). */
static char *env_dup(char *const *envp, const char *name)
{
	const char *v = mcpauth_env_get(envp, name);

	return v != NULL ? strdup(v) : NULL;
}

/* CONTENT_LENGTH as a plain decimal number, or -1 when malformed. */
static long long parse_length(const char *s)
{
	long long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (1LL << 40))
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

static bool read_body(struct mcpauth_req *req, size_t max_body,
		      long long declared, mcpauth_body_reader reader,
		      void *reader_ctx, struct mcpauth_err *err)
{
	size_t cap = declared >= 0 ? (size_t)declared : 4096;
	size_t len = 0;
	char *buf;

	if (cap > max_body)
		cap = max_body;
	buf = malloc(cap + 1);
	if (buf == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	for (;;) {
		size_t got = 0;

		if (declared >= 0 && len == (size_t)declared)
			break;
		if (len == cap) {
			/* Grow up to max_body + 1: one byte more shows excess. */
			size_t ncap = cap * 2 < max_body + 1 ? cap * 2
							      : max_body + 1;
			char *nbuf;

			if (ncap <= cap)
				ncap = cap + 1;
			nbuf = realloc(buf, ncap + 1);
			if (nbuf == NULL) {
				free(buf);
				MCPAUTH_ERR_INTERNAL(err, "out of memory");
				return false;
			}
			buf = nbuf;
			cap = ncap;
		}
		if (!reader(reader_ctx, buf + len, cap - len, &got)) {
			free(buf);
			MCPAUTH_ERR(err, 400, "invalid_request",
				    "the request body could not be read");
			return false;
		}
		if (got == 0)
			break;
		len += got;
		if (len > max_body) {
			free(buf);
			MCPAUTH_ERR(err, 413, "invalid_request",
				    "request body larger than %lu bytes",
				    (unsigned long)max_body);
			return false;
		}
	}
	if (declared >= 0 && len != (size_t)declared) {
		free(buf);
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "the request body is shorter than Content-Length");
		return false;
	}
	buf[len] = '\0';
	req->body = buf;
	req->body_len = len;
	return true;
}

bool mcpauth_req_from_env(char *const *envp, size_t max_body,
			  mcpauth_body_reader reader, void *reader_ctx,
			  struct mcpauth_req **out, struct mcpauth_err *err)
{
	struct mcpauth_req *req = calloc(1, sizeof(*req));
	const char *uri, *cl, *q;
	long long declared = -1;
	bool ok = false;

	if (req == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	if (!mcpauth_crypto_random_hex(8, req->id, err))
		goto out;
	q = mcpauth_env_get(envp, "REQUEST_METHOD");
	req->method = strdup(q != NULL ? q : "GET");
	uri = mcpauth_env_get(envp, "REQUEST_URI");
	if (uri != NULL) {
		const char *qm = strchr(uri, '?');
		req->path = qm != NULL ? strndup(uri, (size_t)(qm - uri))
				       : strdup(uri);
	} else {
		const char *sn = mcpauth_env_get(envp, "SCRIPT_NAME");
		const char *pi = mcpauth_env_get(envp, "PATH_INFO");
		size_t n = (sn ? strlen(sn) : 0) + (pi ? strlen(pi) : 0) + 1;
		req->path = malloc(n);
		if (req->path != NULL)
			snprintf(req->path, n, "%s%s", sn ? sn : "",
				 pi ? pi : "");
	}
	q = mcpauth_env_get(envp, "QUERY_STRING");
	req->query = strdup(q != NULL ? q : "");
	req->host = env_dup(envp, "HTTP_HOST");
	req->content_type = env_dup(envp, "CONTENT_TYPE");
	req->authorization = env_dup(envp, "HTTP_AUTHORIZATION");
	req->origin = env_dup(envp, "HTTP_ORIGIN");
	req->cookie = env_dup(envp, "HTTP_COOKIE");
	req->remote_addr = env_dup(envp, "REMOTE_ADDR");
	if (req->method == NULL || req->path == NULL || req->query == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	cl = mcpauth_env_get(envp, "CONTENT_LENGTH");
	if (cl != NULL && *cl != '\0') {
		declared = parse_length(cl);
		if (declared < 0) {
			MCPAUTH_ERR(err, 400, "invalid_request",
				    "malformed Content-Length");
			goto out;
		}
		if ((unsigned long long)declared > max_body) {
			MCPAUTH_ERR(err, 413, "invalid_request",
				    "request body larger than %lu bytes",
				    (unsigned long)max_body);
			goto out;
		}
	}
	if (reader != NULL) {
		if (!read_body(req, max_body, declared, reader, reader_ctx,
			       err))
			goto out;
	} else {
		req->body = calloc(1, 1);
		if (req->body == NULL) {
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
			goto out;
		}
	}
	*out = req;
	req = NULL;
	ok = true;
out:
	mcpauth_req_free(req);
	return ok;
}

void mcpauth_req_free(struct mcpauth_req *req)
{
	if (req == NULL)
		return;
	free(req->method);
	free(req->path);
	free(req->query);
	free(req->host);
	free(req->content_type);
	mcpauth_crypto_free_secret(req->authorization);
	free(req->origin);
	mcpauth_crypto_free_secret(req->cookie);
	free(req->remote_addr);
	if (req->body != NULL) {
		mcpauth_crypto_wipe(req->body, req->body_len);
		free(req->body);
	}
	free(req);
}

void mcpauth_req_rate_key(const struct mcpauth_req *req, char *out,
			  size_t size)
{
	struct in6_addr a6;

	out[0] = '\0';
	if (req->remote_addr == NULL)
		return;
	if (strchr(req->remote_addr, ':') != NULL &&
	    inet_pton(AF_INET6, req->remote_addr, &a6) == 1) {
		char buf[INET6_ADDRSTRLEN];
		memset(&a6.s6_addr[8], 0, 8);
		if (inet_ntop(AF_INET6, &a6, buf, sizeof(buf)) != NULL) {
			snprintf(out, size, "%s/64", buf);
			return;
		}
	}
	snprintf(out, size, "%s", req->remote_addr);
}

char *mcpauth_req_cookie(const struct mcpauth_req *req, const char *name)
{
	size_t n = strlen(name);
	const char *p = req->cookie, *found = NULL;
	size_t flen = 0;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ';');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		if (len > n && !strncmp(p, name, n) && p[n] == '=') {
			/* Two cookies of one name: trust neither. */
			if (found != NULL)
				return NULL;
			found = p + n + 1;
			flen = len - n - 1;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return found != NULL ? strndup(found, flen) : NULL;
}

struct mcpauth_resp *mcpauth_resp_new(void)
{
	struct mcpauth_resp *resp = calloc(1, sizeof(*resp));

	if (resp != NULL)
		resp->status = 200;
	return resp;
}

void mcpauth_resp_free(struct mcpauth_resp *resp)
{
	if (resp == NULL)
		return;
	for (size_t i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	if (resp->body != NULL) {
		mcpauth_crypto_wipe(resp->body, resp->body_len);
		free(resp->body);
	}
	free(resp);
}

static bool header_safe(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

bool mcpauth_resp_header(struct mcpauth_resp *resp, const char *name,
			 const char *value)
{
	struct mcpauth_resp_header *h;

	if (!header_safe(name) || !header_safe(value) || *name == '\0' ||
	    strchr(name, ':') != NULL ||
	    resp->nheaders == MCPAUTH_RESP_MAX_HEADERS)
		return false;
	h = &resp->headers[resp->nheaders];
	h->name = strdup(name);
	h->value = strdup(value);
	if (h->name == NULL || h->value == NULL) {
		free(h->name);
		free(h->value);
		return false;
	}
	resp->nheaders++;
	return true;
}

void mcpauth_resp_body(struct mcpauth_resp *resp, int status,
		       const char *content_type, char *body, size_t len)
{
	if (resp->body != NULL) {
		mcpauth_crypto_wipe(resp->body, resp->body_len);
		free(resp->body);
	}
	resp->status = status;
	resp->content_type = content_type;
	resp->body = body;
	resp->body_len = body != NULL ? len : 0;
}

void mcpauth_resp_json(struct mcpauth_resp *resp, int status,
		       struct json_object *obj)
{
	char *s = mcpauth_json_dump(obj);

	json_object_put(obj);
	if (s == NULL) {
		/* Out of memory: a bodiless 500 is all that can be said. */
		mcpauth_resp_body(resp, 500, NULL, NULL, 0);
		return;
	}
	mcpauth_resp_body(resp, status, "application/json", s, strlen(s));
}

void mcpauth_resp_error(struct mcpauth_resp *resp,
			const struct mcpauth_err *err)
{
	struct json_object *obj = json_object_new_object();
	int status = err->status >= 400 ? err->status : 500;

	mcpauth_json_add_str(obj, "error",
			     err->code != NULL ? err->code : "server_error");
	if (err->description[0] != '\0')
		mcpauth_json_add_str(obj, "error_description",
				     err->description);
	/* An error is never cached: replace a Cache-Control already set. */
	for (size_t i = 0; i < resp->nheaders; i++) {
		if (!strcasecmp(resp->headers[i].name, "Cache-Control")) {
			char *v = strdup("no-store");
			if (v != NULL) {
				free(resp->headers[i].value);
				resp->headers[i].value = v;
			}
			mcpauth_resp_json(resp, status, obj);
			return;
		}
	}
	mcpauth_resp_header(resp, "Cache-Control", "no-store");
	mcpauth_resp_json(resp, status, obj);
}

void mcpauth_resp_preflight(struct mcpauth_resp *resp, const char *methods,
			    const char *headers)
{
	mcpauth_resp_header(resp, "Access-Control-Allow-Methods", methods);
	mcpauth_resp_header(resp, "Access-Control-Allow-Headers", headers);
	mcpauth_resp_header(resp, "Access-Control-Max-Age", "86400");
	mcpauth_resp_body(resp, 204, NULL, NULL, 0);
}

const char *mcpauth_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

char *mcpauth_resp_serialize(const struct mcpauth_resp *resp, bool head,
			     size_t *len)
{
	size_t cap = 128 + resp->body_len +
		     (resp->content_type ? strlen(resp->content_type) : 0);
	size_t n;
	char *out;

	for (size_t i = 0; i < resp->nheaders; i++)
		cap += strlen(resp->headers[i].name) +
		       strlen(resp->headers[i].value) + 4;
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	/* Sizes formatted with a cast: libfcgi's printf ignores %zu. */
	n = (size_t)snprintf(out, cap, "Status: %d %s\r\n", resp->status,
			     mcpauth_http_reason(resp->status));
	if (resp->content_type != NULL)
		n += (size_t)snprintf(out + n, cap - n,
				      "Content-Type: %s\r\n",
				      resp->content_type);
	n += (size_t)snprintf(out + n, cap - n, "Content-Length: %lu\r\n",
			      (unsigned long)resp->body_len);
	for (size_t i = 0; i < resp->nheaders; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s: %s\r\n",
				      resp->headers[i].name,
				      resp->headers[i].value);
	n += (size_t)snprintf(out + n, cap - n, "\r\n");
	if (!head && resp->body_len > 0) {
		memcpy(out + n, resp->body, resp->body_len);
		n += resp->body_len;
	}
	*len = n;
	return out;
}

/*
 * req.c (fuzz target): a request as the adapter builds it from the CGI
 * environment and the body (mcpauth_req_from_env), then the address the rate
 * limits count by and the cookies. Input: "NAME=value" lines, an empty
 * line, then the body (read in pieces, as from a socket).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "req.h"

#define MAX_ENV 32
#define MAX_BODY 1024

struct body {
	const char *p;
	size_t len;
	size_t step;
};

/* Hands out the body step bytes at a time (1 to 7). */
static bool read_body(void *ctx, char *buf, size_t len, size_t *got)
{
	struct body *b = ctx;
	size_t n = b->len < len ? b->len : len;

	if (n > b->step)
		n = b->step;
	memcpy(buf, b->p, n);
	b->p += n;
	b->len -= n;
	*got = n;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_req *req = NULL;
	char *env[MAX_ENV + 1] = { 0 }, *text, *p, *end;
	struct body body = { 0 };
	size_t n = 0;
	char key[128];

	if ((text = fuzz_str(data, size)) == NULL)
		return 0;
	end = text + size;
	/* The environment: lines up to an empty one. */
	for (p = text; p < end && n < MAX_ENV;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		*nl = '\0';
		if (nl == p) {
			p = nl + 1;
			break;
		}
		env[n++] = p;
		p = nl + 1;
	}
	body.p = p < end ? p : end;
	body.len = (size_t)(end - body.p);
	body.step = 1 + size % 7;
	if (mcpauth_req_from_env(env, MAX_BODY, read_body, &body, &req,
				 &err)) {
		FUZZ_ASSERT(req->body != NULL && req->body_len <= MAX_BODY);
		FUZZ_ASSERT(req->body[req->body_len] == '\0');
		FUZZ_ASSERT(req->method != NULL && req->path != NULL &&
			    req->query != NULL);
		mcpauth_req_rate_key(req, key, sizeof(key));
		FUZZ_ASSERT(strlen(key) < sizeof(key));
		free(mcpauth_req_cookie(req, "__Host-mcpauth-flow-0a1b2c3d"));
		mcpauth_req_free(req);
	} else {
		FUZZ_ASSERT(req == NULL);
		FUZZ_ASSERT(err.status == 400 || err.status == 413 ||
			    err.status == 500);
	}
	free(text);
	return 0;
}

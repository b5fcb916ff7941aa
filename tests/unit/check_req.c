/* check_req.c: unit tests for CGI requests and responses (req.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "check_mcpauth.h"
#include "req.h"

/* A body reader over a memory buffer, chunk bytes at most per call. */
struct mem_body {
	const char *data;
	size_t len;
	size_t pos;
	size_t chunk;
	bool fail;
	int calls;
};

static bool mem_read(void *ctx, char *buf, size_t len, size_t *got)
{
	struct mem_body *mb = ctx;
	size_t n = mb->len - mb->pos;

	mb->calls++;
	if (mb->fail)
		return false;
	if (n > len)
		n = len;
	if (mb->chunk > 0 && n > mb->chunk)
		n = mb->chunk;
	memcpy(buf, mb->data + mb->pos, n);
	mb->pos += n;
	*got = n;
	return true;
}

static struct mcpauth_req *build(char *const *envp, size_t max_body,
				 struct mem_body *mb)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_req *req = NULL;

	ck_assert_msg(mcpauth_req_from_env(envp, max_body, mem_read, mb, &req,
					   &err),
		      "refused: %d %s %s", err.status,
		      err.code != NULL ? err.code : "(null)", err.description);
	ck_assert_ptr_nonnull(req);
	ck_assert(!mcpauth_err_isset(&err));
	return req;
}

/* Expects a refusal with status, leaving *out alone. */
static void refuse(char *const *envp, size_t max_body, struct mem_body *mb,
		   int status)
{
	static int marker;
	struct mcpauth_req *const mark = (struct mcpauth_req *)(void *)&marker;
	struct mcpauth_err err = { 0 };
	struct mcpauth_req *req = mark;

	ck_assert(!mcpauth_req_from_env(envp, max_body, mem_read, mb, &req,
					&err));
	ck_assert_ptr_eq(req, mark);
	ck_assert(mcpauth_err_isset(&err));
	ck_assert_int_eq(err.status, status);
	ck_assert_ptr_nonnull(err.code);
}

/* The body, when there is none: NULL or "" are both acceptable. */
static void assert_no_body(const struct mcpauth_req *req)
{
	ck_assert_uint_eq(req->body_len, 0);
	if (req->body != NULL)
		ck_assert_int_eq(req->body[0], '\0');
}

START_TEST(test_from_env_full)
{
	static const char body[] = "a=1&b=2&c=3";
	char *const envp[] = {
		"GATEWAY_INTERFACE=CGI/1.1",
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/oauth/token?x=1&y=2",
		"QUERY_STRING=x=1&y=2",
		"HTTP_HOST=auth.example:8443",
		"CONTENT_TYPE=application/x-www-form-urlencoded",
		"CONTENT_LENGTH=11",
		"HTTP_AUTHORIZATION=Basic Y2xpZW50OnNlY3JldA==",
		"HTTP_ORIGIN=https://app.example",
		"HTTP_COOKIE=__Host-s=abc; other=1",
		"REMOTE_ADDR=192.0.2.7",
		"SERVER_NAME=auth.example",
		NULL,
	};
	struct mem_body mb = { body, sizeof(body) - 1, 0, 0, false, 0 };
	struct mcpauth_req *req = build(envp, 1024, &mb);

	ck_assert_str_eq(req->method, "POST");
	ck_assert_str_eq(req->path, "/oauth/token");
	ck_assert_str_eq(req->query, "x=1&y=2");
	ck_assert_str_eq(req->host, "auth.example:8443");
	ck_assert_str_eq(req->content_type,
			 "application/x-www-form-urlencoded");
	ck_assert_str_eq(req->authorization, "Basic Y2xpZW50OnNlY3JldA==");
	ck_assert_str_eq(req->origin, "https://app.example");
	ck_assert_str_eq(req->cookie, "__Host-s=abc; other=1");
	ck_assert_str_eq(req->remote_addr, "192.0.2.7");
	ck_assert_uint_eq(req->body_len, 11);
	ck_assert_ptr_nonnull(req->body);
	ck_assert_mem_eq(req->body, body, 11);
	ck_assert_int_eq(req->body[11], '\0');
	mcpauth_req_free(req);
}
END_TEST

START_TEST(test_from_env_minimal)
{
	char *const envp[] = {
		"REQUEST_METHOD=GET",
		"REQUEST_URI=/.well-known/oauth-authorization-server",
		NULL,
	};
	struct mem_body mb = { "", 0, 0, 0, false, 0 };
	struct mcpauth_req *req = build(envp, 1024, &mb);

	ck_assert_str_eq(req->method, "GET");
	ck_assert_str_eq(req->path, "/.well-known/oauth-authorization-server");
	ck_assert_ptr_nonnull(req->query);
	ck_assert_str_eq(req->query, "");
	ck_assert_ptr_null(req->host);
	ck_assert_ptr_null(req->content_type);
	ck_assert_ptr_null(req->authorization);
	ck_assert_ptr_null(req->origin);
	ck_assert_ptr_null(req->cookie);
	ck_assert_ptr_null(req->remote_addr);
	assert_no_body(req);
	mcpauth_req_free(req);
}
END_TEST

/* Names match whole: HTTP_HOST_EXTRA is not HTTP_HOST. */
START_TEST(test_from_env_exact_names)
{
	char *const envp[] = {
		"REQUEST_METHOD=GET",
		"REQUEST_URI=/x",
		"HTTP_HOST_EXTRA=evil.example",
		"XHTTP_HOST=evil.example",
		"HTTP_ORIGINAL=evil",
		"HTTP_COOKIES=evil",
		"REMOTE_ADDRESS=203.0.113.1",
		"QUERY_STRINGS=evil=1",
		"NOEQUALSSIGN",
		"=value",
		NULL,
	};
	struct mem_body mb = { "", 0, 0, 0, false, 0 };
	struct mcpauth_req *req = build(envp, 1024, &mb);

	ck_assert_ptr_null(req->host);
	ck_assert_ptr_null(req->origin);
	ck_assert_ptr_null(req->cookie);
	ck_assert_ptr_null(req->remote_addr);
	ck_assert_str_eq(req->query, "");
	mcpauth_req_free(req);
}
END_TEST

START_TEST(test_path_from_request_uri)
{
	char *const envp1[] = {
		"REQUEST_METHOD=GET",
		"REQUEST_URI=/a%20b/c?q=%3F?x",
		"QUERY_STRING=q=%3F?x",
		"SCRIPT_NAME=/ignored",
		"PATH_INFO=/ignored",
		NULL,
	};
	char *const envp2[] = {
		"REQUEST_METHOD=GET",
		"REQUEST_URI=/authorize?",
		NULL,
	};
	struct mem_body mb = { "", 0, 0, 0, false, 0 };
	struct mcpauth_req *req;

	/* Raw, not decoded, cut at the first '?'. */
	req = build(envp1, 1024, &mb);
	ck_assert_str_eq(req->path, "/a%20b/c");
	ck_assert_str_eq(req->query, "q=%3F?x");
	mcpauth_req_free(req);

	req = build(envp2, 1024, &mb);
	ck_assert_str_eq(req->path, "/authorize");
	ck_assert_str_eq(req->query, "");
	mcpauth_req_free(req);
}
END_TEST

START_TEST(test_path_fallback)
{
	char *const envp1[] = {
		"REQUEST_METHOD=GET",
		"SCRIPT_NAME=/cgi-bin/mcpauth",
		"PATH_INFO=/token",
		"QUERY_STRING=a=b",
		NULL,
	};
	char *const envp2[] = {
		"REQUEST_METHOD=GET",
		"SCRIPT_NAME=/token",
		NULL,
	};
	struct mem_body mb = { "", 0, 0, 0, false, 0 };
	struct mcpauth_req *req;

	req = build(envp1, 1024, &mb);
	ck_assert_str_eq(req->path, "/cgi-bin/mcpauth/token");
	ck_assert_str_eq(req->query, "a=b");
	mcpauth_req_free(req);

	req = build(envp2, 1024, &mb);
	ck_assert_str_eq(req->path, "/token");
	mcpauth_req_free(req);
}
END_TEST

/* A body of n bytes with varied content, NULs included; free it. */
static char *make_body(size_t n)
{
	char *b = malloc(n);

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (char)((i * 7 + 3) % 256);
	return b;
}

START_TEST(test_body_short_reads)
{
	static const size_t chunks[] = { 1, 2, 7, 100, 4095 };
	char *body = make_body(5000);
	char *const envp[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/token",
		"CONTENT_LENGTH=5000",
		NULL,
	};
	char *const envp_nolen[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/token",
		NULL,
	};

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct mem_body mb = { body, 5000, 0, chunks[i], false, 0 };
		struct mcpauth_req *req = build(envp, 8192, &mb);

		ck_assert_uint_eq(req->body_len, 5000);
		ck_assert_mem_eq(req->body, body, 5000);
		ck_assert_int_eq(req->body[5000], '\0');
		mcpauth_req_free(req);

		/* Without CONTENT_LENGTH: read until the end. */
		mb.pos = 0;
		req = build(envp_nolen, 8192, &mb);
		ck_assert_uint_eq(req->body_len, 5000);
		ck_assert_mem_eq(req->body, body, 5000);
		ck_assert_int_eq(req->body[5000], '\0');
		mcpauth_req_free(req);
	}
	free(body);
}
END_TEST

/* RFC 3875 §4.2: the script reads CONTENT_LENGTH bytes, no more. */
START_TEST(test_body_content_length_limits_read)
{
	char *const envp[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/token",
		"CONTENT_LENGTH=3",
		NULL,
	};
	struct mem_body mb = { "abcdef", 6, 0, 0, false, 0 };
	struct mcpauth_req *req = build(envp, 1024, &mb);

	ck_assert_uint_eq(req->body_len, 3);
	ck_assert_str_eq(req->body, "abc");
	mcpauth_req_free(req);
}
END_TEST

START_TEST(test_body_zero_length)
{
	char *const envp[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/token",
		"CONTENT_LENGTH=0",
		NULL,
	};
	/* RFC 3875 §4.1.2: an empty CONTENT_LENGTH means no body. */
	char *const envp_empty[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/token",
		"CONTENT_LENGTH=",
		NULL,
	};
	struct mem_body mb = { "", 0, 0, 0, false, 0 };
	struct mcpauth_req *req;

	req = build(envp, 1024, &mb);
	assert_no_body(req);
	mcpauth_req_free(req);

	req = build(envp_empty, 1024, &mb);
	assert_no_body(req);
	mcpauth_req_free(req);
}
END_TEST

START_TEST(test_body_max_exact)
{
	char *body = make_body(100);
	char *const envp[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/register",
		"CONTENT_LENGTH=100",
		NULL,
	};
	char *const envp_nolen[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/register",
		NULL,
	};
	struct mem_body mb = { body, 100, 0, 9, false, 0 };
	struct mcpauth_req *req;

	req = build(envp, 100, &mb);
	ck_assert_uint_eq(req->body_len, 100);
	ck_assert_mem_eq(req->body, body, 100);
	mcpauth_req_free(req);

	mb.pos = 0;
	req = build(envp_nolen, 100, &mb);
	ck_assert_uint_eq(req->body_len, 100);
	ck_assert_mem_eq(req->body, body, 100);
	mcpauth_req_free(req);
	free(body);
}
END_TEST

START_TEST(test_body_too_large_by_length)
{
	char *body = make_body(101);
	char *const envp[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/register",
		"CONTENT_LENGTH=101",
		NULL,
	};
	char *const envp_huge[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/register",
		"CONTENT_LENGTH=1000000000",
		NULL,
	};
	struct mem_body mb = { body, 101, 0, 0, false, 0 };

	refuse(envp, 100, &mb, 413);
	/* Refused from the header, without reading the body. */
	ck_assert_int_eq(mb.calls, 0);

	mb.pos = 0;
	mb.calls = 0;
	refuse(envp_huge, 100, &mb, 413);
	ck_assert_int_eq(mb.calls, 0);
	free(body);
}
END_TEST

START_TEST(test_body_too_large_by_data)
{
	char *body = make_body(5000);
	char *const envp[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/register",
		NULL,
	};
	struct mem_body mb = { body, 101, 0, 0, false, 0 };

	refuse(envp, 100, &mb, 413);

	/* Far larger, in small pieces. */
	mb.len = 5000;
	mb.pos = 0;
	mb.chunk = 3;
	refuse(envp, 100, &mb, 413);
	/* It stopped soon after the limit instead of reading everything. */
	ck_assert_uint_lt(mb.pos, 5000);
	free(body);
}
END_TEST

START_TEST(test_bad_content_length)
{
	static const char *const bad[] = {
		"CONTENT_LENGTH=abc", "CONTENT_LENGTH=-1",
		"CONTENT_LENGTH=1e3", "CONTENT_LENGTH=0x10",
		"CONTENT_LENGTH=+5",  "CONTENT_LENGTH= 5",
		"CONTENT_LENGTH=5 ",  "CONTENT_LENGTH=5a",
		"CONTENT_LENGTH=1.0", "CONTENT_LENGTH=-0",
	};
	struct mem_body mb = { "hello", 5, 0, 0, false, 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *const envp[] = {
			"REQUEST_METHOD=POST",
			"REQUEST_URI=/token",
			(char *)bad[i],
			NULL,
		};

		mb.pos = 0;
		refuse(envp, 1024, &mb, 400);
	}
}
END_TEST

/* Larger than any size_t: malformed (400) or too large (413), never OK. */
START_TEST(test_overflowing_content_length)
{
	char *const envp[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/token",
		"CONTENT_LENGTH=184467440737095516160",
		NULL,
	};
	struct mem_body mb = { "hello", 5, 0, 0, false, 0 };
	struct mcpauth_err err = { 0 };
	struct mcpauth_req *req = NULL;

	ck_assert(!mcpauth_req_from_env(envp, 1024, mem_read, &mb, &req,
					&err));
	ck_assert_ptr_null(req);
	ck_assert_msg(err.status == 400 || err.status == 413, "status %d",
		      err.status);
}
END_TEST

START_TEST(test_reader_failure)
{
	char *const envp[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/token",
		"CONTENT_LENGTH=5",
		NULL,
	};
	struct mem_body mb = { "hello", 5, 0, 0, true, 0 };
	struct mcpauth_err err = { 0 };
	struct mcpauth_req *req = NULL;

	ck_assert(!mcpauth_req_from_env(envp, 1024, mem_read, &mb, &req,
					&err));
	ck_assert_ptr_null(req);
	ck_assert(mcpauth_err_isset(&err));
	ck_assert_int_ge(err.status, 400);
}
END_TEST

static bool is_hex(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr("0123456789abcdef", *s) == NULL)
			return false;
	return true;
}

START_TEST(test_request_id)
{
	char *const envp[] = {
		"REQUEST_METHOD=GET",
		"REQUEST_URI=/",
		NULL,
	};
	struct mem_body mb = { "", 0, 0, 0, false, 0 };
	struct mcpauth_req *a = build(envp, 1024, &mb);
	struct mcpauth_req *b = build(envp, 1024, &mb);

	ck_assert_uint_eq(strlen(a->id), 16);
	ck_assert_msg(is_hex(a->id), "id \"%s\" is not lowercase hex", a->id);
	ck_assert_uint_eq(strlen(b->id), 16);
	ck_assert_msg(is_hex(b->id), "id \"%s\" is not lowercase hex", b->id);
	ck_assert_str_ne(a->id, b->id);
	mcpauth_req_free(a);
	mcpauth_req_free(b);
}
END_TEST

/* Nothing in the request may point into envp (FastCGI reuses it). */
START_TEST(test_no_pointers_into_envp)
{
	static const char *const vars[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/token?a=1",
		"QUERY_STRING=a=1",
		"HTTP_HOST=auth.example",
		"CONTENT_TYPE=application/json",
		"CONTENT_LENGTH=2",
		"HTTP_AUTHORIZATION=Bearer abc",
		"HTTP_ORIGIN=https://app.example",
		"HTTP_COOKIE=s=1",
		"REMOTE_ADDR=127.0.0.1",
	};
	enum { NVARS = sizeof(vars) / sizeof(vars[0]) };
	char *envp[NVARS + 1];
	struct mem_body mb = { "{}", 2, 0, 0, false, 0 };
	struct mcpauth_req *req;

	for (size_t i = 0; i < NVARS; i++) {
		envp[i] = strdup(vars[i]);
		ck_assert_ptr_nonnull(envp[i]);
	}
	envp[NVARS] = NULL;
	req = build(envp, 1024, &mb);
	/* Scribble over and free the environment. */
	for (size_t i = 0; i < NVARS; i++) {
		memset(envp[i], 'X', strlen(envp[i]));
		free(envp[i]);
	}
	ck_assert_str_eq(req->method, "POST");
	ck_assert_str_eq(req->path, "/token");
	ck_assert_str_eq(req->query, "a=1");
	ck_assert_str_eq(req->host, "auth.example");
	ck_assert_str_eq(req->content_type, "application/json");
	ck_assert_str_eq(req->authorization, "Bearer abc");
	ck_assert_str_eq(req->origin, "https://app.example");
	ck_assert_str_eq(req->cookie, "s=1");
	ck_assert_str_eq(req->remote_addr, "127.0.0.1");
	ck_assert_str_eq(req->body, "{}");
	mcpauth_req_free(req);
}
END_TEST

START_TEST(test_free_null)
{
	mcpauth_req_free(NULL);
	mcpauth_resp_free(NULL);
}
END_TEST

/*
 * mcpauth_resp_serialize gives len bytes, not promised NUL-terminated: a
 * NUL-terminated copy for string checks, with no NUL inside (free).
 */
static char *serialize_text(const struct mcpauth_resp *resp, bool head,
			    size_t *len)
{
	char *raw = mcpauth_resp_serialize(resp, head, len);
	char *text;

	ck_assert_ptr_nonnull(raw);
	text = malloc(*len + 1);
	ck_assert_ptr_nonnull(text);
	memcpy(text, raw, *len);
	text[*len] = '\0';
	free(raw);
	ck_assert_uint_eq(strlen(text), *len);
	return text;
}

/* The text after the blank line. */
static const char *resp_body_of(const char *text)
{
	const char *p = strstr(text, "\r\n\r\n");

	ck_assert_ptr_nonnull(p);
	return p + 4;
}

START_TEST(test_resp_json)
{
	static const char want_head[] = "Status: 200 OK\r\n"
					"Content-Type: application/json\r\n"
					"Content-Length: 9\r\n";
	struct mcpauth_resp *resp = mcpauth_resp_new();
	struct json_object *obj = json_object_new_object();
	size_t len = 0;
	char *text;

	ck_assert_ptr_nonnull(resp);
	ck_assert_ptr_nonnull(obj);
	json_object_object_add(obj, "a", json_object_new_string("b"));
	mcpauth_resp_json(resp, 200, obj);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(resp->content_type, "application/json");
	ck_assert_uint_eq(resp->body_len, 9);
	ck_assert_mem_eq(resp->body, "{\"a\":\"b\"}", 9);

	text = serialize_text(resp, false, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_msg(strncmp(text, want_head, strlen(want_head)) == 0,
		      "response starts \"%s\"", text);
	ck_assert_str_eq(resp_body_of(text), "{\"a\":\"b\"}");
	free(text);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_resp_json_slashes)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();
	struct json_object *obj = json_object_new_object();
	static const char want[] = "{\"issuer\":\"https://as.example/x\"}";

	ck_assert_ptr_nonnull(resp);
	json_object_object_add(obj, "issuer",
			       json_object_new_string("https://as.example/x"));
	mcpauth_resp_json(resp, 201, obj);
	ck_assert_int_eq(resp->status, 201);
	ck_assert_uint_eq(resp->body_len, strlen(want));
	ck_assert_mem_eq(resp->body, want, strlen(want));
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_resp_serialize_exact)
{
	static const char want[] = "Status: 404 Not Found\r\n"
				   "Content-Type: text/plain\r\n"
				   "Content-Length: 4\r\n"
				   "X-A: 1\r\n"
				   "Vary: Origin\r\n"
				   "\r\n"
				   "nope";
	struct mcpauth_resp *resp = mcpauth_resp_new();
	char *body = strdup("nope");
	size_t len = 0;
	char *text;

	ck_assert_ptr_nonnull(resp);
	ck_assert_ptr_nonnull(body);
	mcpauth_resp_body(resp, 404, "text/plain", body, 4);
	ck_assert(mcpauth_resp_header(resp, "X-A", "1"));
	ck_assert(mcpauth_resp_header(resp, "Vary", "Origin"));
	ck_assert_uint_eq(resp->nheaders, 2);
	text = serialize_text(resp, false, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, want);
	ck_assert_uint_eq(len, strlen(want));
	free(text);

	/* HEAD: the same headers, Content-Length kept, no body. */
	text = serialize_text(resp, true, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(want) - 4);
	ck_assert_str_eq(text, "Status: 404 Not Found\r\n"
			       "Content-Type: text/plain\r\n"
			       "Content-Length: 4\r\n"
			       "X-A: 1\r\n"
			       "Vary: Origin\r\n"
			       "\r\n");
	free(text);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_resp_head_json)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();
	struct json_object *obj = json_object_new_object();
	size_t len = 0;
	char *text;

	json_object_object_add(obj, "k", json_object_new_string("value"));
	mcpauth_resp_json(resp, 200, obj);
	text = serialize_text(resp, true, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_ptr_nonnull(strstr(text, "\r\nContent-Length: 13\r\n"));
	ck_assert_str_eq(resp_body_of(text), "");
	ck_assert_ptr_null(strstr(text, "value"));
	free(text);
	mcpauth_resp_free(resp);
}
END_TEST

/* The body is binary-safe: len counts, not the first NUL. */
START_TEST(test_resp_binary_body)
{
	static const char want[] = "Status: 200 OK\r\n"
				   "Content-Type: application/octet-stream\r\n"
				   "Content-Length: 3\r\n"
				   "\r\n"
				   "a\0b";
	struct mcpauth_resp *resp = mcpauth_resp_new();
	char *body = malloc(3);
	size_t len = 0;
	char *text;

	ck_assert_ptr_nonnull(body);
	memcpy(body, "a\0b", 3);
	mcpauth_resp_body(resp, 200, "application/octet-stream", body, 3);
	text = mcpauth_resp_serialize(resp, false, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert_mem_eq(text, want, sizeof(want) - 1);
	free(text);
	mcpauth_resp_free(resp);
}
END_TEST

/* Replacing a body frees the old one (valgrind sees a leak otherwise). */
START_TEST(test_resp_body_replaced)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();
	size_t len = 0;
	char *text;

	mcpauth_resp_body(resp, 200, "text/plain", strdup("first"), 5);
	mcpauth_resp_json(resp, 200, json_object_new_object());
	mcpauth_resp_body(resp, 302, "text/plain", strdup("second"), 6);
	ck_assert_int_eq(resp->status, 302);
	ck_assert_uint_eq(resp->body_len, 6);
	text = serialize_text(resp, false, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "Status: 302 Found\r\n"));
	ck_assert_str_eq(resp_body_of(text), "second");
	free(text);
	mcpauth_resp_free(resp);
}
END_TEST

/* Header injection (response splitting) is refused. */
START_TEST(test_resp_header_refuses_crlf)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();
	size_t len = 0;
	char *text;

	ck_assert(!mcpauth_resp_header(resp, "X-A", "a\r\nSet-Cookie: x=1"));
	ck_assert(!mcpauth_resp_header(resp, "X-A", "a\nSet-Cookie: x=1"));
	ck_assert(!mcpauth_resp_header(resp, "X-A", "a\rb"));
	ck_assert(!mcpauth_resp_header(resp, "X-A", "\n"));
	ck_assert(!mcpauth_resp_header(resp, "X-A\r\nSet-Cookie", "x=1"));
	ck_assert(!mcpauth_resp_header(resp, "X-A\n", "1"));
	ck_assert(!mcpauth_resp_header(resp, "\r", "1"));
	ck_assert_uint_eq(resp->nheaders, 0);

	ck_assert(mcpauth_resp_header(resp, "Location",
				      "https://app.example/cb?code=x&state=y"));
	ck_assert_uint_eq(resp->nheaders, 1);
	ck_assert_str_eq(resp->headers[0].name, "Location");
	ck_assert_str_eq(resp->headers[0].value,
			 "https://app.example/cb?code=x&state=y");
	mcpauth_resp_body(resp, 302, "text/plain", NULL, 0);
	text = serialize_text(resp, false, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strstr(text, "Set-Cookie"));
	free(text);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_resp_header_copied)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();
	char name[] = "X-Name";
	char value[] = "value";

	ck_assert(mcpauth_resp_header(resp, name, value));
	memset(name, 'Z', sizeof(name) - 1);
	memset(value, 'Z', sizeof(value) - 1);
	ck_assert_str_eq(resp->headers[0].name, "X-Name");
	ck_assert_str_eq(resp->headers[0].value, "value");
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_resp_header_limit)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();
	char name[32];

	for (int i = 0; i < MCPAUTH_RESP_MAX_HEADERS; i++) {
		snprintf(name, sizeof(name), "X-H%d", i);
		ck_assert(mcpauth_resp_header(resp, name, "v"));
	}
	ck_assert_uint_eq(resp->nheaders, MCPAUTH_RESP_MAX_HEADERS);
	ck_assert(!mcpauth_resp_header(resp, "X-Over", "v"));
	ck_assert_uint_eq(resp->nheaders, MCPAUTH_RESP_MAX_HEADERS);
	mcpauth_resp_free(resp);
}
END_TEST

/* The response body as JSON, parsed by length; a new reference. */
static struct json_object *parse_body(const struct mcpauth_resp *resp)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;

	ck_assert_ptr_nonnull(tok);
	obj = json_tokener_parse_ex(tok, resp->body, (int)resp->body_len);
	ck_assert_msg(obj != NULL, "body is not JSON: %.*s",
		      (int)resp->body_len, resp->body);
	ck_assert_uint_eq(json_tokener_get_parse_end(tok), resp->body_len);
	json_tokener_free(tok);
	return obj;
}

/* Finds "name: value\r\n" among the serialized headers. */
static bool has_header_line(const char *text, const char *line)
{
	const char *end = strstr(text, "\r\n\r\n");
	const char *p = strstr(text, line);

	return p != NULL && end != NULL && p < end + 2 && p > text &&
	       p[-1] == '\n';
}

START_TEST(test_resp_error)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();
	struct mcpauth_err err = { 0 };
	struct json_object *obj = NULL;
	struct json_object *v = NULL;
	size_t len = 0;
	char *text;

	ck_assert(mcpauth_resp_header(resp, "Access-Control-Allow-Origin",
				      "*"));
	ck_assert(mcpauth_resp_header(resp, "Allow", "POST, OPTIONS"));
	mcpauth_resp_json(resp, 200, json_object_new_object());
	MCPAUTH_ERR(&err, 400, "invalid_grant", "code \"expired\" / used");
	mcpauth_resp_error(resp, &err);

	ck_assert_int_eq(resp->status, 400);
	ck_assert_str_eq(resp->content_type, "application/json");
	ck_assert_ptr_nonnull(resp->body);
	obj = parse_body(resp);
	ck_assert_int_eq(json_object_object_length(obj), 2);
	ck_assert(json_object_object_get_ex(obj, "error", &v));
	ck_assert_str_eq(json_object_get_string(v), "invalid_grant");
	ck_assert(json_object_object_get_ex(obj, "error_description", &v));
	ck_assert_str_eq(json_object_get_string(v),
			 "code \"expired\" / used");
	json_object_put(obj);

	text = serialize_text(resp, false, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert(strncmp(text, "Status: 400 Bad Request\r\n", 25) == 0);
	ck_assert(has_header_line(text, "Cache-Control: no-store\r\n"));
	ck_assert(has_header_line(text,
				  "Access-Control-Allow-Origin: *\r\n"));
	ck_assert(has_header_line(text, "Allow: POST, OPTIONS\r\n"));
	ck_assert(has_header_line(text, "Content-Type: application/json\r\n"));
	ck_assert_uint_eq(strlen(resp_body_of(text)), resp->body_len);
	free(text);
	mcpauth_resp_free(resp);
}
END_TEST

/* The detail is for the log only, never the client. */
START_TEST(test_resp_error_internal)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();
	struct mcpauth_err err = { 0 };
	size_t len = 0;
	char *text;

	MCPAUTH_ERR_INTERNAL(&err, "sqlite: %s", "secret-db-path-detail");
	mcpauth_resp_error(resp, &err);
	ck_assert_int_eq(resp->status, 500);
	text = serialize_text(resp, false, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert(strncmp(text, "Status: 500 Internal Server Error\r\n", 35) ==
		  0);
	ck_assert_ptr_nonnull(strstr(text, "\"error\":\"server_error\""));
	ck_assert_ptr_null(strstr(text, "secret-db-path-detail"));
	ck_assert_ptr_null(strstr(text, "check_req.c"));
	free(text);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_http_reason)
{
	const char *r413 = mcpauth_http_reason(413);

	ck_assert_str_eq(mcpauth_http_reason(200), "OK");
	ck_assert_str_eq(mcpauth_http_reason(201), "Created");
	ck_assert_str_eq(mcpauth_http_reason(204), "No Content");
	ck_assert_str_eq(mcpauth_http_reason(302), "Found");
	ck_assert_str_eq(mcpauth_http_reason(303), "See Other");
	ck_assert_str_eq(mcpauth_http_reason(400), "Bad Request");
	ck_assert_str_eq(mcpauth_http_reason(401), "Unauthorized");
	ck_assert_str_eq(mcpauth_http_reason(403), "Forbidden");
	ck_assert_str_eq(mcpauth_http_reason(404), "Not Found");
	ck_assert_str_eq(mcpauth_http_reason(405), "Method Not Allowed");
	ck_assert_str_eq(mcpauth_http_reason(500), "Internal Server Error");
	ck_assert_str_eq(mcpauth_http_reason(503), "Service Unavailable");
	/* RFC 9110 §15.5.14 renamed it; either name is fine. */
	ck_assert_ptr_nonnull(r413);
	ck_assert_msg(strcmp(r413, "Content Too Large") == 0 ||
			      strcmp(r413, "Payload Too Large") == 0,
		      "413 is \"%s\"", r413);
	/* Something printable for an unknown status. */
	ck_assert_ptr_nonnull(mcpauth_http_reason(599));
}
END_TEST

Suite *check_req_suite(void)
{
	Suite *s = suite_create("req");
	TCase *tc;

	tc = tcase_create("env");
	tcase_add_test(tc, test_from_env_full);
	tcase_add_test(tc, test_from_env_minimal);
	tcase_add_test(tc, test_from_env_exact_names);
	tcase_add_test(tc, test_path_from_request_uri);
	tcase_add_test(tc, test_path_fallback);
	tcase_add_test(tc, test_request_id);
	tcase_add_test(tc, test_no_pointers_into_envp);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_add_test(tc, test_body_short_reads);
	tcase_add_test(tc, test_body_content_length_limits_read);
	tcase_add_test(tc, test_body_zero_length);
	tcase_add_test(tc, test_body_max_exact);
	tcase_add_test(tc, test_body_too_large_by_length);
	tcase_add_test(tc, test_body_too_large_by_data);
	tcase_add_test(tc, test_bad_content_length);
	tcase_add_test(tc, test_overflowing_content_length);
	tcase_add_test(tc, test_reader_failure);
	suite_add_tcase(s, tc);

	tc = tcase_create("resp");
	tcase_add_test(tc, test_resp_json);
	tcase_add_test(tc, test_resp_json_slashes);
	tcase_add_test(tc, test_resp_serialize_exact);
	tcase_add_test(tc, test_resp_head_json);
	tcase_add_test(tc, test_resp_binary_body);
	tcase_add_test(tc, test_resp_body_replaced);
	tcase_add_test(tc, test_resp_header_refuses_crlf);
	tcase_add_test(tc, test_resp_header_copied);
	tcase_add_test(tc, test_resp_header_limit);
	tcase_add_test(tc, test_resp_error);
	tcase_add_test(tc, test_resp_error_internal);
	tcase_add_test(tc, test_http_reason);
	suite_add_tcase(s, tc);

	return s;
}

/* check_main.c: runs every unit suite (libcheck), with shared fixture helpers. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "check_mcpauth.h"
#include "client.h"
#include "conf.h"
#include "fcgi.h"
#include "jose.h"
#include "keys.h"
#include "log.h"
#include "store.h"

const char *check_tmpdir(void)
{
	static char dir[PATH_MAX];
	const char *base = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/mcpauth-check-XXXXXX",
		 base != NULL ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void check_tmpdir_remove(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *check_write_file(const char *dir, const char *name,
			     const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

struct mcpauth_store *check_store_migrated(const char *path)
{
	struct mcpauth_store *store = NULL;
	struct mcpauth_err err = { 0 };

	ck_assert_msg(mcpauth_store_open(path, MCPAUTH_STORE_CREATE, &store,
					 &err) &&
			      mcpauth_store_migrate(store, NULL, NULL, &err) &&
			      mcpauth_store_ready(store, &err),
		      "%s (%s)", err.description, err.detail);
	return store;
}

struct mcpauth_conf *check_conf_load(const char *dir, const char *text,
				     struct mcpauth_err *err)
{
	struct mcpauth_conf *conf = NULL;
	const char *path = check_write_file(dir, "mcpauth.conf", text);

	mcpauth_err_clear(err);
	if (!mcpauth_conf_load(path, &conf, err))
		return NULL;
	return conf;
}

int check_listen(int family, const char *addr, int *port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = family == AF_INET ? sizeof(*in) : sizeof(*in6);
	int fd = socket(family, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		inet_pton(AF_INET, addr, &in->sin_addr);
	else
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 16) != 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? in->sin_port : in6->sin6_port);
	return fd;
}

int check_pending(int fd)
{
	int n = 0, c;

	if (fd < 0)
		return 0;
	while ((c = accept(fd, NULL, NULL)) >= 0) {
		close(c);
		n++;
	}
	ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK, "accept: %s",
		      strerror(errno));
	return n;
}

void check_capture_begin(struct check_capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	ck_assert_ptr_nonnull(c->file);
	c->saved = dup(STDERR_FILENO);
	ck_assert_int_ge(c->saved, 0);
	ck_assert_int_eq(dup2(fileno(c->file), STDERR_FILENO), STDERR_FILENO);
}

char *check_capture_end(struct check_capture *c)
{
	long size;
	char *text;

	fflush(stderr);
	ck_assert_int_eq(dup2(c->saved, STDERR_FILENO), STDERR_FILENO);
	close(c->saved);
	ck_assert_int_eq(fseek(c->file, 0, SEEK_END), 0);
	size = ftell(c->file);
	ck_assert_int_ge(size, 0);
	rewind(c->file);
	text = malloc((size_t)size + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)size, c->file), (size_t)size);
	text[size] = '\0';
	fclose(c->file);
	/* The log output holds no NUL. */
	ck_assert_uint_eq(strlen(text), (size_t)size);
	return text;
}

const char *check_conf_text(const char *sections, const char *fmt, ...)
{
	static char text[8192];
	va_list ap;
	int n;

	n = snprintf(text, sizeof(text),
		     "issuer = " CHECK_ISSUER "\n"
		     "database = mcpauth.db\n"
		     "key_dir = keys\n");
	va_start(ap, fmt);
	n += vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	ck_assert_int_lt(n, sizeof(text));
	n += snprintf(text + n, sizeof(text) - (size_t)n, "\n%s", sections);
	ck_assert_int_lt(n, sizeof(text));
	return text;
}

void check_ctx_open(struct mcpauth_ctx *ctx, const char *program,
		    const char *dir, const char *conf_text)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_conf *conf = NULL;
	char kid[64];
	const char *path = check_write_file(dir, "mcpauth.conf", conf_text);

	ck_assert_msg(mcpauth_conf_load(path, &conf, &err), "%s",
		      err.description);
	store = check_store_migrated(conf->database);
	ck_assert(mcpauth_keys_generate(conf, store, NULL, kid, NULL, &err));
	mcpauth_store_free(store);
	mcpauth_conf_free(conf);
	ck_assert_msg(mcpauth_ctx_open(ctx, program, path, &err), "%s",
		      err.description);
}

void check_client_add(struct mcpauth_store *store,
		      const struct mcpauth_client *c)
{
	struct mcpauth_audit a = { .at = c->created_at,
				   .event = "register",
				   .actor = "admin",
				   .client_id = c->client_id };
	struct mcpauth_err err = { 0 };

	ck_assert_msg(mcpauth_store_client_add(store, c, 0, NULL, &a, &err),
		      "%s: %s (%s)", c->client_id, err.description,
		      err.detail != NULL ? err.detail : "");
}

const char *check_header(const struct mcpauth_resp *resp, const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (!strcmp(resp->headers[i].name, name))
			return resp->headers[i].value;
	return NULL;
}

size_t check_header_count(const struct mcpauth_resp *resp, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < resp->nheaders; i++)
		n += !strcmp(resp->headers[i].name, name);
	return n;
}

void check_oauth_error(const struct mcpauth_resp *resp, int status,
		       const char *code)
{
	struct json_object *o = check_body(resp);
	const char *error = check_str(o, "error");

	ck_assert_msg(resp->status == status && error != NULL &&
			      !strcmp(error, code),
		      "status %d, want %d %s: %s", resp->status, status, code,
		      resp->body);
	ck_assert_str_eq(resp->content_type, "application/json");
	ck_assert_ptr_nonnull(check_str(o, "error_description"));
	ck_assert_str_eq(check_header(resp, "Cache-Control"), "no-store");
	ck_assert_uint_eq(check_header_count(resp, "Cache-Control"), 1);
	ck_assert_str_eq(check_header(resp, "Access-Control-Allow-Origin"),
			 "*");
	json_object_put(o);
}

struct json_object *check_body(const struct mcpauth_resp *resp)
{
	struct json_object *o;

	ck_assert_ptr_nonnull(resp->body);
	o = json_tokener_parse(resp->body);
	ck_assert_msg(o != NULL, "not JSON: %s", resp->body);
	return o;
}

const char *check_str(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

bool check_has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

long long check_int(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	ck_assert_msg(json_object_is_type(v, json_type_int), "%s not int",
		      key);
	return json_object_get_int64(v);
}

void check_strs(struct json_object *o, const char *key, char *out,
		size_t size)
{
	struct json_object *arr = NULL;

	out[0] = '\0';
	ck_assert_msg(json_object_object_get_ex(o, key, &arr), "no %s", key);
	ck_assert(json_object_is_type(arr, json_type_array));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		if (i > 0)
			strncat(out, " ", size - strlen(out) - 1);
		strncat(out,
			json_object_get_string(json_object_array_get_idx(arr, i)),
			size - strlen(out) - 1);
	}
}

/* sql prepared on db (opened into *h), with ?1 bound to arg when not NULL. */
static sqlite3_stmt *sql_prepare(const char *db, const char *sql,
				 const char *arg, sqlite3 **h)
{
	sqlite3_stmt *st = NULL;

	*h = NULL;
	ck_assert_int_eq(sqlite3_open(db, h), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(*h, sql, -1, &st, NULL) == SQLITE_OK,
		      "%s: %s", sql, sqlite3_errmsg(*h));
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	return st;
}

long long check_sql_int(const char *db, const char *sql, const char *arg)
{
	sqlite3 *h;
	sqlite3_stmt *st = sql_prepare(db, sql, arg, &h);
	long long v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

bool check_sql_text(const char *db, const char *sql, const char *arg,
		    char *out, size_t size)
{
	sqlite3 *h;
	sqlite3_stmt *st = sql_prepare(db, sql, arg, &h);
	bool found = false;

	out[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		snprintf(out, size, "%s", sqlite3_column_text(st, 0));
		found = true;
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return found;
}

void check_sql_exec(const char *db, const char *sql, const char *arg)
{
	sqlite3 *h;
	sqlite3_stmt *st = sql_prepare(db, sql, arg, &h);

	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* True when the file at path (missing: false) contains needle. */
static bool file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	bool found;

	if (f == NULL)
		return false;
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	found = memmem(buf, len, needle, strlen(needle)) != NULL;
	free(buf);
	return found;
}

bool check_db_contains(const char *db, const char *needle)
{
	char wal[PATH_MAX + 8];

	snprintf(wal, sizeof(wal), "%s-wal", db);
	return file_contains(db, needle) || file_contains(wal, needle);
}

int main(void)
{
	Suite *(*const suites[])(void) = {
		check_b64_suite,   check_client_suite,    check_conf_suite,
		check_crypto_suite, check_discovery_suite, check_err_suite,
		check_cimd_suite, check_fetch_suite, check_form_suite,
		check_html_suite,
		check_jose_suite,      check_json_suite,
		check_keys_suite,  check_log_suite, check_machine_suite,       check_password_suite,
		check_register_suite,
		check_req_suite,   check_store_suite,
		check_authorize_suite, check_token_suite, check_pkce_suite,
		check_scope_suite, check_tokens_suite, check_safety_suite,
	};
	SRunner *sr = srunner_create(NULL);
	struct mcpauth_err err = { 0 };
	int failed;

	mcpauth_log_init("check");
	if (!mcpauth_jose_init(&err)) {
		fprintf(stderr, "jose init: %s\n", err.description);
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	mcpauth_jose_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* fuzz.c: what the fuzz targets share: test keys, temp files, config, store. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include <orcania.h>

#include "client.h"
#include "fuzz.h"
#include "jose.h"
#include "json.h"
#include "log.h"

/* The public halves of fuzz/keys.json, as the JWKS of a client would hold. */
const char fuzz_es256_pub[] =
	"{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"fuzz-es256\","
	"\"x\":\"9LitzPAUoxFLpkJqUVMfnywiDADUUy7QA6FA-5y88Dg\","
	"\"y\":\"sopbstEY2cvertvBVw0P7cSE-7pEV4PM8fwgkBkZiYM\"}";
const char fuzz_eddsa_pub[] =
	"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"fuzz-eddsa\","
	"\"x\":\"fp0Vq4jzR7P1HIuzzWOPZ35LddLahM_pWGXYn_qm864\"}";
const char fuzz_rs256_pub[] =
	"{\"kty\":\"RSA\",\"kid\":\"fuzz-rs256\",\"e\":\"AQAB\",\"n\":"
	"\"yH5NOK3DptuuwFsd68DDcWj9IEbIxavUX4e4rCFqfww4Ke1tgD1eMCutie-EqJ000g"
	"4AyWUqtjZvIdd1Jcj0FUGhFrPi1qs3JqRIIirFb8gdbXYyYCK5oDm2ZevuDtCLVuTDTt"
	"FliDZspDpfrfLj4bMeJkqktx1wiOGiASh_NgFdsW60-0U8G-o8bdcJsWKyDcay2wvqR0"
	"QQBD5JPxWkHIsKZe2bocwiiLAsxXK4xY5F8p-b0XRMqsXEdpmzTzJyX4h7ymDbBO7Lwp"
	"QuTBr_uiI6mz7upw6Hwh-1Lqz0VZbTYQQDq0OixSYqOPu2GdkHp9e1knS3FszTvw2Ri5"
	"evWw\"}";

/* A token each of the keys signed (node fuzz/seeds.mjs prints new ones). */
const char fuzz_es256_jwt[] =
	"eyJhbGciOiJFUzI1NiIsImtpZCI6ImZ1enotZXMyNTYiLCJ0eXAiOiJhdCtqd3Qi"
	"fQ.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vdDEiLCJzdWIiOiJhb"
	"GljZSIsImF1ZCI6Imh0dHBzOi8vbWNwLmV4YW1wbGUuY29tL21jcCIsImV4cCI6M"
	"Tc2NzIyOTIwMCwic2NvcGUiOiJmaWxlczpyZWFkIn0.ry2ro2H2Kz6OVq4sf6TwS"
	"mGPDBj3FNQPqVBYRZO5GnQ9ktv1ys3WiGBp5Hf-NxgpAVm0gJWV15TDYWHMEOf1v"
	"A";
const char fuzz_eddsa_jwt[] =
	"eyJhbGciOiJFZERTQSIsImtpZCI6ImZ1enotZWRkc2EiLCJ0eXAiOiJKV1QifQ.e"
	"yJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vdDEiLCJzdWIiOiJib2IiL"
	"CJleHAiOjE3NjcyMjU2NjB9.p1xkseGOIZtvZ9aqSFmrSm1rbmvLRHjGFrxgAQVH"
	"rLAtDilLj_bEXXvBXzjT2MSHtrVBP1TJr5hiq3YCpC5aCw";
const char fuzz_rs256_jwt[] =
	"eyJhbGciOiJSUzI1NiIsImtpZCI6ImZ1enotcnMyNTYiLCJ0eXAiOiJKV1QifQ.e"
	"yJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vdDEiLCJzdWIiOiJjYXJvb"
	"CIsImF1ZCI6WyJodHRwczovL2F1dGguZXhhbXBsZS5jb20vdDEiLCJ4Il0sImV4c"
	"CI6MTc2NzIyNTYwMH0.fF0TbcVP1FnnUKz6NPRxLGvNuYOjK-dwbEJnFvbTxNeIj"
	"CgR2m2UyuWLT-LKx1uzRQps1Ifj1nhErqCGutTEMW_beE9GiXzloQaiZdvKsW7TO"
	"2AhCekZDT1oy7An8eM7BMILaz73SC-ExKWmYKVJ31p_N884glbgTo5ItUYno7VHu"
	"Z5mkYOi0ZFoMDU3BdiIg8ONqKRCrmP3tAoIFNy04HcrAPfBbds4GDwS7ZVpuUn75"
	"taMQWwGgWjRe2Z-NCUTsbxKhUD0g4AgMWH4ETNik79taKkROPnVyWQmIX_REqMSk"
	"Ujl8AN0XuCODkTSgBhINEXEg0nur3UxVrscL7DMlg";

static char tmpdir[4096];

/*
 * The wipes of secrets write through gnutls_memset and explicit_bzero,
 * which ASan does not check: a wipe past the end of a buffer, or of a freed
 * one, would corrupt the heap unseen, to be noticed (if ever) far from its
 * cause. Defined here, they take precedence over the libraries' and go
 * through ASan's checked memset.
 */
void explicit_bzero(void *s, size_t n);

void gnutls_memset(void *data, int c, size_t size)
{
	memset(data, c, size);
}

void explicit_bzero(void *s, size_t n)
{
	memset(s, 0, n);
}

/*
 * rhonabwy decodes every part of a token with liborcania, which is not
 * instrumented either, so its writes past a buffer go unseen until the
 * heap is corrupt ("AddressSanitizer: CHECK failed: asan_allocator.cpp",
 * minutes later, in an unrelated free). liborcania 2.3.2 (Debian 12)
 * writes one byte too many for a part holding '=' ("AAAA=w"). These two
 * take the place of liborcania's for rhonabwy: they do what the library
 * does, into a buffer with a guard zone after the size+2 bytes it
 * allocates, and stop at once when the guard is touched.
 */
#define GUARD 16

static int guarded(int (*decode)(const unsigned char *, size_t,
				 unsigned char *, size_t *),
		   const unsigned char *src, size_t len, struct _o_datum *dat)
{
	size_t size = 0;
	int ret;

	if (dat == NULL)
		return 0;
	dat->size = 0;
	if (!decode(src, len, NULL, &size) || size == 0)
		return 0;
	if ((dat->data = o_malloc(size + 2 + GUARD)) == NULL)
		return 0;
	memset(dat->data, 0, size + 2);
	memset(dat->data + size + 2, 0xa5, GUARD);
	ret = decode(src, len, dat->data, &dat->size);
	for (size_t i = 0; i < GUARD; i++)
		if (dat->data[size + 2 + i] != 0xa5)
			fuzz_fail("liborcania's base64 decoder wrote past the "
				  "end of its buffer");
	return ret;
}

int o_base64url_decode_alloc(const unsigned char *src, size_t len,
			     struct _o_datum *dat)
{
	return guarded(o_base64url_decode, src, len, dat);
}

int o_base64_decode_alloc(const unsigned char *src, size_t len,
			  struct _o_datum *dat)
{
	return guarded(o_base64_decode, src, len, dat);
}

void fuzz_fail(const char *msg)
{
	fprintf(stderr, "fuzz: oracle failed: %s\n", msg);
	abort();
}

static void die(const char *what, const struct mcpauth_err *err)
{
	fprintf(stderr, "fuzz: %s: %s (%s)\n", what,
		err != NULL ? err->description : strerror(errno),
		err != NULL ? err->detail : "");
	exit(1);
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tmpdir(void)
{
	if (tmpdir[0] != '\0')
		nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fuzz_init(void)
{
	static bool done;
	struct mcpauth_err err = { 0 };

	if (done)
		return;
	done = true;
	mcpauth_log_init("fuzz");
	/* Refusals are the point here: only errors reach stderr. */
	mcpauth_log_set_level(MCPAUTH_LOG_ERROR);
	if (!mcpauth_jose_init(&err))
		die("mcpauth_jose_init", &err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	if (fuzz_setup != NULL)
		fuzz_setup();
	return 0;
}

const char *fuzz_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (tmpdir[0] != '\0')
		return tmpdir;
	snprintf(tmpdir, sizeof(tmpdir), "%s/mcpauth-fuzz.XXXXXX",
		 base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		die(tmpdir, NULL);
	atexit(remove_tmpdir);
	return tmpdir;
}

struct mcpauth_conf *fuzz_conf(const char *name, const char *extra)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_conf *conf = NULL;
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.conf", fuzz_tmpdir(), name);
	f = fopen(path, "w");
	if (f == NULL)
		die(path, NULL);
	fprintf(f,
		"issuer = " FUZZ_ISSUER "\n"
		"database = mcpauth.db\n"
		"key_dir = keys\n"
		"www_dir = www\n"
		"%s\n"
		"[resource]\n"
		"url = https://mcp.example.com/mcp\n"
		"name = Files\n"
		"scopes = files:read files:write\n"
		"[resource]\n"
		"url = https://mail.example.com/mcp\n"
		"scopes = mail:read\n",
		extra);
	if (fclose(f) != 0)
		die(path, NULL);
	if (!mcpauth_conf_load(path, &conf, &err))
		die(path, &err);
	return conf;
}

struct mcpauth_store *fuzz_store(const struct mcpauth_conf *conf)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;

	if (!mcpauth_store_open(conf->database, MCPAUTH_STORE_CREATE, &store,
				&err) ||
	    !mcpauth_store_migrate(store, NULL, NULL, &err) ||
	    !mcpauth_store_ready(store, &err))
		die(conf->database, &err);
	return store;
}

char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s != NULL) {
		if (size > 0)
			memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

bool fuzz_split(const uint8_t *data, size_t size, char **head, char **tail,
		size_t *tail_len)
{
	const uint8_t *nl = size > 0 ? memchr(data, '\n', size) : NULL;
	size_t hlen = nl != NULL ? (size_t)(nl - data) : size;
	size_t tlen = nl != NULL ? size - hlen - 1 : 0;

	*head = fuzz_str(data, hlen);
	*tail = fuzz_str(nl != NULL ? nl + 1 : data, tlen);
	if (*head == NULL || *tail == NULL) {
		free(*head);
		free(*tail);
		*head = *tail = NULL;
		return false;
	}
	if (tail_len != NULL)
		*tail_len = tlen;
	return true;
}

/* What a successful validation leaves in c, whatever the input. */
void fuzz_check_client(const struct mcpauth_conf *conf,
			 enum mcpauth_client_origin origin,
			 const struct mcpauth_client *c)
{
	struct mcpauth_err err = { 0 };
	struct json_object *meta = NULL, *answer;
	bool native;
	char *text, *copy, *save = NULL;

	FUZZ_ASSERT(c->application_type != NULL && c->auth_method != NULL);
	native = !strcmp(c->application_type, "native");
	FUZZ_ASSERT(native || !strcmp(c->application_type, "web"));
	FUZZ_ASSERT(c->nredirect_uris >= 1 &&
		    c->nredirect_uris <= MCPAUTH_CLIENT_MAX_REDIRECT_URIS);
	for (size_t i = 0; i < c->nredirect_uris; i++)
		FUZZ_ASSERT(mcpauth_client_redirect_uri_ok(c->redirect_uris[i],
							   native, &err));
	if (mcpauth_client_method_has_secret(c->auth_method)) {
		FUZZ_ASSERT(origin != MCPAUTH_CLIENT_ORIGIN_DOCUMENT);
		FUZZ_ASSERT(conf->confidential_registration ||
			    origin ==
				    MCPAUTH_CLIENT_ORIGIN_DYNAMIC_CONFIDENTIAL);
	} else if (strcmp(c->auth_method, "none") != 0) {
		FUZZ_ASSERT(!strcmp(c->auth_method, "private_key_jwt"));
		FUZZ_ASSERT(origin == MCPAUTH_CLIENT_ORIGIN_DOCUMENT &&
			    conf->private_key_jwt);
	}
	FUZZ_ASSERT(c->grant_types != NULL &&
		    strstr(c->grant_types, "authorization_code") != NULL);
	FUZZ_ASSERT(strstr(c->grant_types, "client_credentials") == NULL);
	/* Only scopes the server offers, at least one. */
	FUZZ_ASSERT(c->scope != NULL && *c->scope != '\0');
	copy = strdup(c->scope);
	FUZZ_ASSERT(copy != NULL);
	for (char *t = strtok_r(copy, " ", &save); t != NULL;
	     t = strtok_r(NULL, " ", &save))
		FUZZ_ASSERT(mcpauth_conf_scope_offered(conf, t));
	free(copy);
	if (c->client_name != NULL)
		FUZZ_ASSERT(strlen(c->client_name) <= MCPAUTH_CLIENT_MAX_NAME);
	/* The stored metadata reads back through the strict parser. */
	FUZZ_ASSERT(c->metadata != NULL);
	FUZZ_ASSERT(mcpauth_json_parse(c->metadata, strlen(c->metadata),
				       "invalid_client_metadata", &meta, &err));
	FUZZ_ASSERT(json_object_is_type(meta, json_type_object));
	json_object_put(meta);
	answer = mcpauth_client_to_json(conf, c, "secret", "token");
	text = mcpauth_json_dump(answer);
	FUZZ_ASSERT(text != NULL);
	free(text);
	json_object_put(answer);
}

/* keys.c: signing keys: private JWK files in key_dir, public halves in the store. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "b64.h"
#include "crypto.h"
#include "json.h"
#include "keys.h"
#include "log.h"

#define MAX_KEY_FILE (64 * 1024)
/* Clock skew allowed to resource servers checking exp (RFC 9068 §4). */
#define SKEW_SECONDS 60

struct mcpauth_keys {
	char *key_dir;
	struct mcpauth_jose_signer *signer;
};

bool mcpauth_keys_new(const struct mcpauth_conf *conf,
		      struct mcpauth_keys **out, struct mcpauth_err *err)
{
	struct mcpauth_keys *keys = calloc(1, sizeof(*keys));

	if (keys == NULL || (keys->key_dir = strdup(conf->key_dir)) == NULL) {
		free(keys);
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	*out = keys;
	return true;
}

void mcpauth_keys_free(struct mcpauth_keys *keys)
{
	if (keys == NULL)
		return;
	mcpauth_jose_signer_free(keys->signer);
	free(keys->key_dir);
	free(keys);
}

static bool key_path(const char *dir, const char *kid, char *path,
		     size_t size, struct mcpauth_err *err)
{
	/* kids are ours, but never let one walk out of key_dir. */
	if (strchr(kid, '/') != NULL || kid[0] == '.' ||
	    (size_t)snprintf(path, size, "%s/%s.jwk", dir, kid) >= size) {
		MCPAUTH_ERR_INTERNAL(err, "unusable key id '%s'", kid);
		return false;
	}
	return true;
}

/* Reads a private key file, refusing one that others could read. */
static bool read_key_file(const char *path, char **out,
			  struct mcpauth_err *err)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		MCPAUTH_ERR(err, 503, "temporarily_unavailable",
			    "the signing key is not available");
		mcpauth_err_detail(err, "%s: %s", path, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_KEY_FILE) {
		MCPAUTH_ERR(err, 503, "temporarily_unavailable",
			    "the signing key is not available");
		mcpauth_err_detail(err, "%s: not a regular file of at most "
				   "64 KiB", path);
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		MCPAUTH_ERR(err, 503, "temporarily_unavailable",
			    "the signing key is not available");
		mcpauth_err_detail(err, "%s: readable by group or others: "
				   "chmod 600 it", path);
		goto fail;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	if (buf == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto fail;
	}
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size) {
		MCPAUTH_ERR_INTERNAL(err, "%s: short read", path);
		goto fail;
	}
	close(fd);
	*out = buf;
	return true;
fail:
	mcpauth_crypto_free_secret(buf);
	close(fd);
	return false;
}

bool mcpauth_keys_signer(struct mcpauth_keys *keys,
			 struct mcpauth_store *store,
			 const struct mcpauth_jose_signer **out,
			 struct mcpauth_err *err)
{
	struct mcpauth_signing_key active;
	struct mcpauth_jose_signer *signer = NULL;
	char path[PATH_MAX], *priv = NULL;
	bool found = false, ok;

	if (!mcpauth_store_key_active(store, &active, &found, err))
		return false;
	if (!found) {
		MCPAUTH_ERR(err, 503, "temporarily_unavailable",
			    "no signing key is active");
		mcpauth_err_detail(err, "run mcpauth-admin key rotate");
		return false;
	}
	if (keys->signer != NULL &&
	    !strcmp(mcpauth_jose_signer_kid(keys->signer), active.kid)) {
		*out = keys->signer;
		return true;
	}
	if (!key_path(keys->key_dir, active.kid, path, sizeof(path), err) ||
	    !read_key_file(path, &priv, err))
		return false;
	ok = mcpauth_jose_signer_new(active.alg, active.kid, priv, &signer,
				     err);
	mcpauth_crypto_free_secret(priv);
	if (!ok)
		return false;
	mcpauth_jose_signer_free(keys->signer);
	keys->signer = signer;
	mcpauth_log(MCPAUTH_LOG_INFO, "event=key_loaded kid=%s alg=%s",
		    active.kid, active.alg);
	*out = signer;
	return true;
}

bool mcpauth_keys_jwks(struct mcpauth_store *store, long long now,
		       char **json, struct mcpauth_err *err)
{
	struct mcpauth_signing_key *list = NULL;
	struct json_object *doc = NULL, *arr;
	size_t n = 0;
	bool ok = false;

	if (!mcpauth_store_key_published(store, now, &list, &n, err))
		return false;
	doc = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(doc, "keys", arr);
	for (size_t i = 0; i < n; i++) {
		struct json_object *k = json_tokener_parse(list[i].public_jwk);
		if (k == NULL || !json_object_is_type(k, json_type_object) ||
		    json_object_object_get_ex(k, "d", NULL)) {
			/* Never publish something that is not a public key. */
			json_object_put(k);
			MCPAUTH_ERR_INTERNAL(err, "key %s: stored public JWK "
					     "is unusable", list[i].kid);
			goto out;
		}
		json_object_array_add(arr, k);
	}
	*json = mcpauth_json_dump(doc);
	if (*json == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	ok = true;
out:
	json_object_put(doc);
	mcpauth_store_keys_free(list, n);
	return ok;
}

bool mcpauth_keys_verify(struct mcpauth_store *store, long long now,
			 const char *jwt, char **claims_json,
			 struct mcpauth_err *err)
{
	struct mcpauth_signing_key *list = NULL;
	struct json_object *hdr = NULL;
	unsigned char *raw = NULL;
	const char *dot = strchr(jwt, '.'), *kid;
	size_t n = 0, rawlen = 0;
	bool ok = false;

	/* The header names the key; the key itself always comes from us. */
	if (dot == NULL || (size_t)(dot - jwt) > 4096 ||
	    !mcpauth_b64url_decode(jwt, (size_t)(dot - jwt), &raw, &rawlen) ||
	    (hdr = json_tokener_parse((char *)raw)) == NULL ||
	    (kid = mcpauth_json_get_str(hdr, "kid")) == NULL) {
		MCPAUTH_ERR(err, 400, "invalid_token", "not one of our tokens");
		goto out;
	}
	if (!mcpauth_store_key_published(store, now, &list, &n, err))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].kid, kid) != 0)
			continue;
		ok = mcpauth_jose_verify(list[i].public_jwk, list[i].alg, jwt,
					 NULL, claims_json, err);
		goto out;
	}
	MCPAUTH_ERR(err, 400, "invalid_token", "not one of our tokens");
out:
	json_object_put(hdr);
	free(raw);
	mcpauth_store_keys_free(list, n);
	return ok;
}

/* Creates key_dir (0700) when missing. */
static bool ensure_dir(const char *dir, struct mcpauth_err *err)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		MCPAUTH_ERR(err, 500, "server_error",
			    "cannot create the key directory %s: %s", dir,
			    strerror(errno));
		return false;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		MCPAUTH_ERR(err, 500, "server_error",
			    "the key directory %s is not a directory", dir);
		return false;
	}
	return true;
}

static bool write_key_file(const char *path, const char *text,
			   struct mcpauth_err *err)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      0600);

	if (fd < 0) {
		MCPAUTH_ERR(err, 500, "server_error", "cannot create %s: %s",
			    path, strerror(errno));
		return false;
	}
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		MCPAUTH_ERR(err, 500, "server_error", "cannot write %s: %s",
			    path, strerror(errno));
		close(fd);
		unlink(path);
		return false;
	}
	close(fd);
	return true;
}

bool mcpauth_keys_generate(const struct mcpauth_conf *conf,
			   struct mcpauth_store *store, const char *alg,
			   char *kid_out, enum mcpauth_key_state *state_out,
			   struct mcpauth_err *err)
{
	struct mcpauth_signing_key key = { 0 };
	char path[PATH_MAX], hex[9], date[16], *priv = NULL, *pub = NULL;
	time_t now = time(NULL);
	struct tm tm;
	bool ok = false;

	if (alg == NULL)
		alg = conf->signing_alg;
	if (!mcpauth_jose_alg_supported(alg)) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "unsupported algorithm '%s' (use ES256, EdDSA or "
			    "RS256)", alg);
		return false;
	}
	/* A readable, sortable kid: creation date and 32 random bits. */
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	if (!mcpauth_crypto_random_hex(4, hex, err))
		return false;
	snprintf(key.kid, sizeof(key.kid), "%s-%s", date, hex);
	snprintf(key.alg, sizeof(key.alg), "%s", alg);
	key.created_at = (long long)now;
	if (!ensure_dir(conf->key_dir, err) ||
	    !key_path(conf->key_dir, key.kid, path, sizeof(path), err) ||
	    !mcpauth_jose_generate(alg, key.kid, &priv, &pub, err))
		goto out;
	/* The private file first: a row without its file could not sign. */
	if (!write_key_file(path, priv, err))
		goto out;
	key.public_jwk = pub;
	if (!mcpauth_store_key_add(store, &key, state_out, err)) {
		unlink(path);
		goto out;
	}
	snprintf(kid_out, 64, "%s", key.kid);
	ok = true;
out:
	mcpauth_crypto_free_secret(priv);
	free(pub);
	return ok;
}

bool mcpauth_keys_rotate(const struct mcpauth_conf *conf,
			 struct mcpauth_store *store, const char *alg,
			 char *kid_out, char *retired_out, bool *unpublished,
			 struct mcpauth_err *err)
{
	struct mcpauth_signing_key *list = NULL;
	enum mcpauth_key_state state;
	char kid[64] = "", retired[64] = "", path[PATH_MAX];
	long long now = (long long)time(NULL);
	size_t n = 0;
	bool ok = false;

	if (!mcpauth_store_key_list(store, &list, &n, err))
		return false;
	/* The newest pending key goes first (it is what the operator just made). */
	for (size_t i = 0; i < n && kid[0] == '\0'; i++)
		if (list[i].state == MCPAUTH_KEY_PENDING &&
		    (alg == NULL || !strcmp(list[i].alg, alg)))
			snprintf(kid, sizeof(kid), "%s", list[i].kid);
	if (unpublished != NULL)
		*unpublished = kid[0] == '\0';
	if (kid[0] == '\0') {
		if (!mcpauth_keys_generate(conf, store, alg, kid, &state, err))
			goto out;
		if (state == MCPAUTH_KEY_ACTIVE) {
			/* There was no active key: nothing to retire. */
			snprintf(kid_out, 64, "%s", kid);
			retired_out[0] = '\0';
			ok = true;
			goto out;
		}
	}
	if (!mcpauth_store_key_activate(store, kid, now,
					now + conf->access_token_lifetime +
						SKEW_SECONDS,
					retired, err))
		goto out;
	/* A retired key never signs again: its private half can go. */
	if (retired[0] != '\0' &&
	    key_path(conf->key_dir, retired, path, sizeof(path), err) &&
	    unlink(path) != 0 && errno != ENOENT)
		mcpauth_log(MCPAUTH_LOG_WARN,
			    "event=key_file_kept kid=%s reason=\"%s\"",
			    retired, strerror(errno));
	snprintf(kid_out, 64, "%s", kid);
	snprintf(retired_out, 64, "%s", retired);
	ok = true;
out:
	mcpauth_store_keys_free(list, n);
	return ok;
}

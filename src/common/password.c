/* password.c: argon2id password hashes in PHC form (RFC 9106, libargon2). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "b64.h"
#include "crypto.h"
#include "password.h"

/* Longest salt or tag a stored hash may carry, in bytes. */
#define BIN_MAX 64

/*
 * What mcpauth_password_dummy verifies against, with the parameters of a
 * fresh hash so that it costs the same: the argon2id of a random password
 * that was thrown away, made once with Debian's argon2 CLI
 * (`argon2 <16 random characters> -id -k 19456 -t 2 -p 1 -l 32 -e`).
 */
static const char dummy_hash[] =
    "$argon2id$v=19$m=19456,t=2,p=1$TTBWRUtxZzVyYWwyV1dDNg$"
    "j27bQUEvE8kwLKXwjRsg+1e5JrflosZWgSOazCDPb74";
_Static_assert(MCPAUTH_PASSWORD_M_COST == 19456 &&
		   MCPAUTH_PASSWORD_T_COST == 2 &&
		   MCPAUTH_PASSWORD_PARALLELISM == 1 &&
		   MCPAUTH_PASSWORD_SALT_LEN == 16 &&
		   MCPAUTH_PASSWORD_TAG_LEN == 32,
	       "the parameters changed: make dummy_hash again");

/* A PHC string taken apart. */
struct phc {
	argon2_type type;
	uint32_t version;
	uint32_t m;
	uint32_t t;
	uint32_t p;
	unsigned char *salt;
	size_t saltlen;
	unsigned char *tag;
	size_t taglen;
};

static void phc_clear(struct phc *h)
{
	free(h->salt);
	free(h->tag);
	memset(h, 0, sizeof(*h));
}

/* Skips prefix at *s when it is there. */
static bool eat(const char **s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(*s, prefix, n) != 0)
		return false;
	*s += n;
	return true;
}

/* A decimal as libargon2 reads it: digits only, leading zeros allowed. */
static bool num(const char **s, uint32_t *v)
{
	const char *p = *s;
	uint32_t acc = 0;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint32_t d = (uint32_t)(*p - '0');

		if (acc > (UINT32_MAX - d) / 10)
			return false;
		acc = acc * 10 + d;
	}
	*v = acc;
	*s = p;
	return true;
}

/*
 * Unpadded standard base64 (RFC 4648 §4 without '=', as libargon2 writes it)
 * from *s up to the next '$' or the end, strictly, of 1 to BIN_MAX bytes.
 */
static bool bin(const char **s, unsigned char **out, size_t *outlen)
{
	char buf[(BIN_MAX * 4 + 2) / 3];
	size_t n = strcspn(*s, "$");

	if (n == 0 || n > sizeof(buf))
		return false;
	/* Map onto base64url so b64.c's strict decoder does the work. */
	for (size_t i = 0; i < n; i++) {
		char c = (*s)[i];

		if (c == '-' || c == '_')
			return false;
		buf[i] = c == '+' ? '-' : c == '/' ? '_' : c;
	}
	if (!mcpauth_b64url_decode(buf, n, out, outlen))
		return false;
	*s += n;
	return true;
}

/*
 * Takes encoded apart as libargon2's decode_string reads it:
 * $argon2{id,i}[$v=<16|19>]$m=<m>,t=<t>,p=<p>$<salt>$<tag>
 */
static bool parse(const char *encoded, struct phc *h, struct mcpauth_err *err)
{
	const char *s = encoded;
	const char *why = NULL;

	memset(h, 0, sizeof(*h));
	if (s == NULL) {
		why = "none";
		goto bad;
	}
	if (eat(&s, "$argon2id$")) {
		h->type = Argon2_id;
	} else if (eat(&s, "$argon2i$")) {
		h->type = Argon2_i;
	} else {
		why = "not $argon2id$ or $argon2i$";
		goto bad;
	}
	h->version = ARGON2_VERSION_10;
	if (eat(&s, "v=")) {
		if (!num(&s, &h->version) || !eat(&s, "$")) {
			why = "bad version";
			goto bad;
		}
		if (h->version != ARGON2_VERSION_10 &&
		    h->version != ARGON2_VERSION_13) {
			why = "unknown version";
			goto bad;
		}
	}
	if (!eat(&s, "m=") || !num(&s, &h->m) || !eat(&s, ",t=") ||
	    !num(&s, &h->t) || !eat(&s, ",p=") || !num(&s, &h->p) ||
	    !eat(&s, "$")) {
		why = "bad parameters";
		goto bad;
	}
	if (h->m > MCPAUTH_PASSWORD_M_COST_MAX ||
	    h->t > MCPAUTH_PASSWORD_T_COST_MAX ||
	    h->p > MCPAUTH_PASSWORD_PARALLELISM_MAX) {
		phc_clear(h);
		MCPAUTH_ERR_INTERNAL(err,
				     "malformed password hash: parameters "
				     "beyond m=%d,t=%d,p=%d",
				     MCPAUTH_PASSWORD_M_COST_MAX,
				     MCPAUTH_PASSWORD_T_COST_MAX,
				     MCPAUTH_PASSWORD_PARALLELISM_MAX);
		return false;
	}
	if (!bin(&s, &h->salt, &h->saltlen) || !eat(&s, "$")) {
		why = "bad salt";
		goto bad;
	}
	if (!bin(&s, &h->tag, &h->taglen) || *s != '\0') {
		why = "bad tag";
		goto bad;
	}
	return true;
bad:
	phc_clear(h);
	MCPAUTH_ERR_INTERNAL(err, "malformed password hash: %s", why);
	return false;
}

/* The password's length, or 400 invalid_request outside 1 to the maximum. */
static bool password_len(const char *password, size_t *len,
			 struct mcpauth_err *err)
{
	size_t n =
	    password != NULL ? strnlen(password, MCPAUTH_PASSWORD_MAX + 1) : 0;

	if (n == 0) {
		MCPAUTH_ERR(err, 400, "invalid_request", "empty password");
		return false;
	}
	if (n > MCPAUTH_PASSWORD_MAX) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "password longer than %d bytes",
			    MCPAUTH_PASSWORD_MAX);
		return false;
	}
	*len = n;
	return true;
}

bool mcpauth_password_hash(const char *password, char **encoded,
			   struct mcpauth_err *err)
{
	unsigned char salt[MCPAUTH_PASSWORD_SALT_LEN];
	size_t len = 0;
	size_t size = 0;
	char *s = NULL;
	bool ok = false;
	int rc;

	if (!password_len(password, &len, err))
		return false;
	if (!mcpauth_crypto_random(salt, sizeof(salt), err))
		return false;
	size =
	    argon2_encodedlen(MCPAUTH_PASSWORD_T_COST, MCPAUTH_PASSWORD_M_COST,
			      MCPAUTH_PASSWORD_PARALLELISM, sizeof(salt),
			      MCPAUTH_PASSWORD_TAG_LEN, Argon2_id);
	s = malloc(size);
	if (s == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	/* libargon2 wipes its own copy of the tag and its memory blocks. */
	rc = argon2_hash(MCPAUTH_PASSWORD_T_COST, MCPAUTH_PASSWORD_M_COST,
			 MCPAUTH_PASSWORD_PARALLELISM, password, len, salt,
			 sizeof(salt), NULL, MCPAUTH_PASSWORD_TAG_LEN, s, size,
			 Argon2_id, ARGON2_VERSION_13);
	if (rc != ARGON2_OK) {
		MCPAUTH_ERR_INTERNAL(err, "argon2_hash: %s",
				     argon2_error_message(rc));
		goto out;
	}
	*encoded = s;
	s = NULL;
	ok = true;
out:
	if (s != NULL) {
		mcpauth_crypto_wipe(s, size);
		free(s);
	}
	return ok;
}

bool mcpauth_password_verify(const char *encoded, const char *password,
			     bool *match, struct mcpauth_err *err)
{
	struct phc h;
	unsigned char *tag = NULL;
	size_t len = 0;
	bool ok = false;
	int rc;

	if (!password_len(password, &len, err))
		return false;
	/*
	 * Parsed here rather than by argon2_verify, to bound the parameters
	 * before any memory is spent and to hash into a buffer we wipe.
	 */
	if (!parse(encoded, &h, err))
		return false;
	tag = malloc(h.taglen);
	if (tag == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	rc = argon2_hash(h.t, h.m, h.p, password, len, h.salt, h.saltlen, tag,
			 h.taglen, NULL, 0, h.type, h.version);
	if (rc != ARGON2_OK) {
		MCPAUTH_ERR_INTERNAL(err, "malformed password hash: %s",
				     argon2_error_message(rc));
		goto out;
	}
	*match = mcpauth_crypto_equal(tag, h.tag, h.taglen);
	ok = true;
out:
	if (tag != NULL) {
		mcpauth_crypto_wipe(tag, h.taglen);
		free(tag);
	}
	phc_clear(&h);
	return ok;
}

void mcpauth_password_dummy(const char *password)
{
	bool match = false;

	/* The same path as a real verification, result ignored. */
	(void)mcpauth_password_verify(dummy_hash, password, &match, NULL);
}

bool mcpauth_password_needs_rehash(const char *encoded)
{
	struct phc h;
	bool weaker;

	if (!parse(encoded, &h, NULL))
		return true;
	weaker = h.type != Argon2_id || h.version != ARGON2_VERSION_13 ||
		 h.m < MCPAUTH_PASSWORD_M_COST ||
		 h.t < MCPAUTH_PASSWORD_T_COST ||
		 h.saltlen < MCPAUTH_PASSWORD_SALT_LEN ||
		 h.taglen < MCPAUTH_PASSWORD_TAG_LEN;
	phc_clear(&h);
	return weaker;
}

/*
 * jose.c: JWS and JWK through librhonabwy, the only file that includes it.
 *
 * Why rhonabwy and not libjwt: Debian 12's libjwt 1.10.2 forces "typ":"JWT"
 * on encode and rejects other typ values on decode, so it can neither issue
 * nor verify RFC 9068 "at+jwt" access tokens; its GnuTLS build emits 132-byte
 * (invalid) ES256 signatures; it has no EdDSA. rhonabwy (on GnuTLS) signs
 * 64-byte ES256 with any typ, does EdDSA, and exports JWKs.
 *
 * Measured limitation worked around here: rhonabwy 1.1.11 cannot import an
 * Ed25519 private key from PEM (r_jwk_import_from_pem_der fails; see
 * check_jose.c), so private keys are stored as private JWK JSON instead.
 *
 * rhonabwy can take keys from a token's own jku/x5u/jwk headers: we always
 * pass the key ourselves and R_FLAG_IGNORE_REMOTE wherever a flag exists.
 * That flag is not enough: measured, r_jwt_parse(..., R_FLAG_IGNORE_REMOTE)
 * still downloads the jku URL of the token being parsed (a server-side
 * request forgery to any address a client names). Tokens are therefore parsed
 * with r_jwt_advanced_parse(..., R_PARSE_NONE, ...), which reads no key from
 * the header; check_jose.c proves that nothing connects.
 */
#include <stdlib.h>
#include <string.h>

#include <rhonabwy.h>

#include "jose.h"

struct mcpauth_jose_signer {
	jwk_t *jwk;
	jwa_alg alg;
	char alg_name[16];
	char kid[64];
};

bool mcpauth_jose_init(struct mcpauth_err *err)
{
	if (r_global_init() != RHN_OK) {
		MCPAUTH_ERR_INTERNAL(err, "r_global_init failed");
		return false;
	}
	return true;
}

void mcpauth_jose_cleanup(void)
{
	r_global_close();
}

/* The rhonabwy algorithm and key type for one of our algorithm names. */
static bool alg_info(const char *alg, jwa_alg *ralg, int *type,
		     unsigned int *bits)
{
	if (alg == NULL)
		return false;
	if (!strcmp(alg, "ES256")) {
		*ralg = R_JWA_ALG_ES256;
		*type = R_KEY_TYPE_EC;
		*bits = 256;
	} else if (!strcmp(alg, "EdDSA")) {
		*ralg = R_JWA_ALG_EDDSA;
		*type = R_KEY_TYPE_EDDSA;
		*bits = 256;
	} else if (!strcmp(alg, "RS256")) {
		*ralg = R_JWA_ALG_RS256;
		*type = R_KEY_TYPE_RSA;
		*bits = 2048;
	} else {
		return false;
	}
	return true;
}

bool mcpauth_jose_alg_supported(const char *alg)
{
	jwa_alg ralg;
	int type;
	unsigned int bits;

	return alg_info(alg, &ralg, &type, &bits);
}

/* A copy made with malloc, so callers free what we return. */
static char *own(char *r)
{
	char *s = r != NULL ? strdup(r) : NULL;

	if (r != NULL) {
		explicit_bzero(r, strlen(r));
		r_free(r);
	}
	return s;
}

bool mcpauth_jose_generate(const char *alg, const char *kid, char **priv_jwk,
			   char **pub_jwk, struct mcpauth_err *err)
{
	jwk_t *priv = NULL, *pub = NULL;
	char *spriv = NULL, *spub = NULL;
	jwa_alg ralg;
	int type;
	unsigned int bits;
	bool ok = false;

	if (!alg_info(alg, &ralg, &type, &bits)) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "unsupported signing algorithm '%s'", alg);
		return false;
	}
	if (r_jwk_init(&priv) != RHN_OK || r_jwk_init(&pub) != RHN_OK ||
	    r_jwk_generate_key_pair(priv, pub, type, bits, kid) != RHN_OK) {
		MCPAUTH_ERR_INTERNAL(err, "generating a %s key pair failed",
				     alg);
		goto out;
	}
	/* RFC 7517 §4.2, §4.4: say what the key is for. */
	if (r_jwk_set_property_str(priv, "alg", alg) != RHN_OK ||
	    r_jwk_set_property_str(pub, "alg", alg) != RHN_OK ||
	    r_jwk_set_property_str(pub, "use", "sig") != RHN_OK) {
		MCPAUTH_ERR_INTERNAL(err, "setting JWK properties failed");
		goto out;
	}
	spriv = own(r_jwk_export_to_json_str(priv, 0));
	spub = own(r_jwk_export_to_json_str(pub, 0));
	if (spriv == NULL || spub == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "exporting a JWK failed");
		goto out;
	}
	*priv_jwk = spriv;
	*pub_jwk = spub;
	spriv = spub = NULL;
	ok = true;
out:
	if (spriv != NULL) {
		explicit_bzero(spriv, strlen(spriv));
		free(spriv);
	}
	free(spub);
	r_jwk_free(priv);
	r_jwk_free(pub);
	return ok;
}

bool mcpauth_jose_signer_new(const char *alg, const char *kid,
			     const char *priv_jwk,
			     struct mcpauth_jose_signer **out,
			     struct mcpauth_err *err)
{
	struct mcpauth_jose_signer *s = NULL;
	unsigned int bits = 0, want_bits;
	int type, ktype;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		return false;
	}
	if (!alg_info(alg, &s->alg, &type, &want_bits)) {
		MCPAUTH_ERR_INTERNAL(err, "key %s: unsupported algorithm '%s'",
				     kid, alg);
		goto fail;
	}
	if (r_jwk_init(&s->jwk) != RHN_OK ||
	    r_jwk_import_from_json_str(s->jwk, priv_jwk) != RHN_OK) {
		MCPAUTH_ERR_INTERNAL(err, "key %s: not a valid private JWK",
				     kid);
		goto fail;
	}
	ktype = r_jwk_key_type(s->jwk, &bits, R_FLAG_IGNORE_REMOTE);
	if (!(ktype & R_KEY_TYPE_PRIVATE) || !(ktype & type)) {
		MCPAUTH_ERR_INTERNAL(err, "key %s: not a private %s key", kid,
				     alg);
		goto fail;
	}
	snprintf(s->alg_name, sizeof(s->alg_name), "%s", alg);
	snprintf(s->kid, sizeof(s->kid), "%s", kid);
	*out = s;
	return true;
fail:
	mcpauth_jose_signer_free(s);
	return false;
}

void mcpauth_jose_signer_free(struct mcpauth_jose_signer *signer)
{
	if (signer == NULL)
		return;
	r_jwk_free(signer->jwk);
	free(signer);
}

const char *mcpauth_jose_signer_kid(const struct mcpauth_jose_signer *signer)
{
	return signer->kid;
}

const char *mcpauth_jose_signer_alg(const struct mcpauth_jose_signer *signer)
{
	return signer->alg_name;
}

bool mcpauth_jose_sign(const struct mcpauth_jose_signer *signer,
		       const char *typ, const char *claims_json, char **jwt,
		       struct mcpauth_err *err)
{
	jwt_t *t = NULL;
	char *s = NULL;
	bool ok = false;

	if (r_jwt_init(&t) != RHN_OK ||
	    r_jwt_set_header_str_value(t, "typ", typ) != RHN_OK ||
	    r_jwt_set_header_str_value(t, "kid", signer->kid) != RHN_OK ||
	    r_jwt_set_full_claims_json_str(t, claims_json) != RHN_OK ||
	    r_jwt_set_sign_alg(t, signer->alg) != RHN_OK) {
		MCPAUTH_ERR_INTERNAL(err, "preparing a JWT failed");
		goto out;
	}
	s = r_jwt_serialize_signed(t, signer->jwk, R_FLAG_IGNORE_REMOTE);
	if (s == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "signing a JWT with key %s failed",
				     signer->kid);
		goto out;
	}
	*jwt = strdup(s);
	if (*jwt == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	ok = true;
out:
	r_free(s);
	r_jwt_free(t);
	return ok;
}

/*
 * A compact JWS as RFC 7515 §7.1 writes it: three non-empty base64url parts
 * (§2: no padding, no whitespace). Anything else is refused before
 * rhonabwy sees it: it strips whitespace, takes four dots for a JWE, and
 * hands each part to liborcania, whose base64url decoder (2.3.2, Debian 12)
 * writes one byte past its buffer for a part holding '=' ("AAAA=w"); found
 * by fuzz/jose, kept in fuzz/regressions/ and check_jose.c.
 */
static bool compact_jws(const char *jwt)
{
	size_t parts = 1, len = 0;

	for (const char *p = jwt;; p++) {
		if (*p == '.' || *p == '\0') {
			if (len == 0 || len % 4 == 1)
				return false;
			if (*p == '\0')
				return parts == 3;
			parts++;
			len = 0;
		} else if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			   (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
			len++;
		} else {
			return false;
		}
	}
}

bool mcpauth_jose_verify(const char *pub_jwk, const char *alg, const char *jwt,
			 char **header_json, char **claims_json,
			 struct mcpauth_err *err)
{
	jwk_t *key = NULL;
	jwt_t *t = NULL;
	char *h = NULL, *c = NULL;
	jwa_alg ralg;
	int type, ktype;
	unsigned int bits = 0;
	bool ok = false;

	if (!alg_info(alg, &ralg, &type, &bits)) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "unsupported signing algorithm");
		return false;
	}
	if (r_jwk_init(&key) != RHN_OK ||
	    r_jwk_import_from_json_str(key, pub_jwk) != RHN_OK) {
		MCPAUTH_ERR(err, 400, "invalid_request", "invalid key");
		goto out;
	}
	ktype = r_jwk_key_type(key, &bits, R_FLAG_IGNORE_REMOTE);
	if (!(ktype & type) || (ktype & R_KEY_TYPE_SYMMETRIC)) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "the key does not match the algorithm");
		goto out;
	}
	if (!compact_jws(jwt)) {
		MCPAUTH_ERR(err, 400, "invalid_request", "malformed JWT");
		goto out;
	}
	if (r_jwt_init(&t) != RHN_OK ||
	    r_jwt_advanced_parse(t, jwt, R_PARSE_NONE, R_FLAG_IGNORE_REMOTE) !=
		    RHN_OK) {
		MCPAUTH_ERR(err, 400, "invalid_request", "malformed JWT");
		goto out;
	}
	/* The expected algorithm only: never "none", never a swap. */
	if (r_jwt_get_sign_alg(t) != ralg) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "unexpected JWT algorithm");
		goto out;
	}
	if (r_jwt_verify_signature(t, key, R_FLAG_IGNORE_REMOTE) != RHN_OK) {
		MCPAUTH_ERR(err, 400, "invalid_request",
			    "JWT signature does not verify");
		goto out;
	}
	if (header_json != NULL &&
	    (h = own(r_jwt_get_full_header_str(t))) == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	if (claims_json != NULL &&
	    (c = own(r_jwt_get_full_claims_str(t))) == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	if (header_json != NULL)
		*header_json = h;
	if (claims_json != NULL)
		*claims_json = c;
	h = c = NULL;
	ok = true;
out:
	free(h);
	free(c);
	r_jwt_free(t);
	r_jwk_free(key);
	return ok;
}

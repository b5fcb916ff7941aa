/* check_jose.c: key generation, at+jwt signing and strict verification (rhonabwy). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rhonabwy.h>

#include "b64.h"
#include "check_mcpauth.h"
#include "jose.h"

static const char *const algs[] = { "ES256", "EdDSA", "RS256" };

/* Decodes one base64url part of a compact JWS (owned by the caller). */
static char *part(const char *jwt, int index)
{
	const char *start = jwt, *end;
	unsigned char *raw = NULL;
	size_t len = 0;

	for (int i = 0; i < index; i++)
		start = strchr(start, '.') + 1;
	end = strchr(start, '.');
	ck_assert(mcpauth_b64url_decode(start, end ? (size_t)(end - start)
						   : strlen(start),
					&raw, &len));
	return (char *)raw;
}

/* Asserts the JSON text has "key":"value" (compact output, no spaces). */
static void has(const char *json, const char *key, const char *value)
{
	char want[256];

	snprintf(want, sizeof(want), "\"%s\":\"%s\"", key, value);
	ck_assert_msg(strstr(json, want) != NULL, "%s not in %s", want, json);
}

START_TEST(test_sign_verify_each_alg)
{
	const char *alg = algs[_i];
	struct mcpauth_err err = { 0 };
	struct mcpauth_jose_signer *signer = NULL;
	char *priv = NULL, *pub = NULL, *jwt = NULL, *h = NULL, *c = NULL;
	char *hdr;
	size_t dots = 0;

	ck_assert_msg(mcpauth_jose_generate(alg, "kid-1", &priv, &pub, &err),
		      "%s", err.detail);
	/* The public JWK carries kid, alg and use, and no private part. */
	has(pub, "kid", "kid-1");
	has(pub, "alg", alg);
	has(pub, "use", "sig");
	ck_assert_ptr_null(strstr(pub, "\"d\""));
	ck_assert_ptr_nonnull(strstr(priv, "\"d\""));

	ck_assert(mcpauth_jose_signer_new(alg, "kid-1", priv, &signer, &err));
	ck_assert_str_eq(mcpauth_jose_signer_kid(signer), "kid-1");
	ck_assert_str_eq(mcpauth_jose_signer_alg(signer), alg);
	ck_assert(mcpauth_jose_sign(signer, "at+jwt",
				    "{\"sub\":\"u1\",\"aud\":\"https://r\"}",
				    &jwt, &err));
	for (const char *p = jwt; *p; p++)
		dots += *p == '.';
	ck_assert_uint_eq(dots, 2);
	/* RFC 9068 §2.1: typ at+jwt, with our kid and alg. */
	hdr = part(jwt, 0);
	has(hdr, "typ", "at+jwt");
	has(hdr, "alg", alg);
	has(hdr, "kid", "kid-1");
	free(hdr);
	if (!strcmp(alg, "ES256")) {
		/* ES256 signatures are 64 raw bytes (RFC 7518 §3.4). */
		unsigned char *sig = NULL;
		size_t len = 0;
		const char *s = strrchr(jwt, '.') + 1;
		ck_assert(mcpauth_b64url_decode(s, strlen(s), &sig, &len));
		ck_assert_uint_eq(len, 64);
		free(sig);
	}
	ck_assert_msg(mcpauth_jose_verify(pub, alg, jwt, &h, &c, &err), "%s",
		      err.description);
	ck_assert_ptr_nonnull(strstr(h, "at+jwt"));
	ck_assert_ptr_nonnull(strstr(c, "\"sub\":\"u1\""));
	free(h);
	free(c);
	free(jwt);
	mcpauth_jose_signer_free(signer);
	free(priv);
	free(pub);
}
END_TEST

START_TEST(test_verify_refuses)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_jose_signer *signer = NULL;
	char *priv = NULL, *pub = NULL, *priv2 = NULL, *pub2 = NULL;
	char *jwt = NULL, bad[4096];
	const char *none_jwt, *hs_jwt;

	ck_assert(mcpauth_jose_generate("ES256", "a", &priv, &pub, &err));
	ck_assert(mcpauth_jose_generate("ES256", "b", &priv2, &pub2, &err));
	ck_assert(mcpauth_jose_signer_new("ES256", "a", priv, &signer, &err));
	ck_assert(mcpauth_jose_sign(signer, "at+jwt", "{\"sub\":\"x\"}", &jwt,
				    &err));
	/* Another key. */
	ck_assert(!mcpauth_jose_verify(pub2, "ES256", jwt, NULL, NULL, &err));
	ck_assert_str_eq(err.description, "JWT signature does not verify");
	/* Another algorithm than the one expected for the key. */
	ck_assert(!mcpauth_jose_verify(pub, "RS256", jwt, NULL, NULL, &err));
	ck_assert_str_eq(err.description,
			 "the key does not match the algorithm");
	/* A changed payload. */
	snprintf(bad, sizeof(bad), "%s", jwt);
	*strchr(bad, '.') = '\0';
	strcat(bad, ".eyJzdWIiOiJhZG1pbiJ9");
	strcat(bad, strrchr(jwt, '.'));
	ck_assert(!mcpauth_jose_verify(pub, "ES256", bad, NULL, NULL, &err));
	/* alg none, and HS256 keyed with the public key (RFC 8725 §2.1). */
	none_jwt = "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.";
	ck_assert(!mcpauth_jose_verify(pub, "ES256", none_jwt, NULL, NULL,
				       &err));
	hs_jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ4In0."
		 "c2lnbmF0dXJlLW5vdC12YWxpZA";
	ck_assert(!mcpauth_jose_verify(pub, "ES256", hs_jwt, NULL, NULL, &err));
	ck_assert(!mcpauth_jose_verify(pub, "HS256", jwt, NULL, NULL, &err));
	ck_assert_str_eq(err.description, "unsupported signing algorithm");
	/* Not three strict base64url parts: refused before rhonabwy, whose
	 * liborcania writes past its buffer for a part holding '=' (found by
	 * fuzz/jose; under valgrind this test would show it). */
	{
		static const char *const malformed[] = {
			"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.AAAA=w",
			"eyJhbGciOiJFUzI1NiJ9=w.eyJpc3MiOiJ4In0.AAAA",
			"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.AAAA==",
			"eyJhbGciOiJFUzI1NiJ9. eyJpc3MiOiJ4In0.AAAA",
			"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.AAAA.AAAA.AAAA",
			"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.A",
			"eyJhbGciOiJFUzI1NiJ9..AAAA",
			"",
		};
		for (size_t i = 0; i < sizeof(malformed) / sizeof(*malformed);
		     i++) {
			mcpauth_err_clear(&err);
			ck_assert(!mcpauth_jose_verify(pub, "ES256",
						       malformed[i], NULL,
						       NULL, &err));
			ck_assert_str_eq(err.description, "malformed JWT");
		}
	}
	/* Garbage. */
	ck_assert(!mcpauth_jose_verify(pub, "ES256", "not.a.jwt", NULL, NULL,
				       &err));
	ck_assert(!mcpauth_jose_verify("{}", "ES256", jwt, NULL, NULL, &err));
	ck_assert_str_eq(err.description, "invalid key");
	free(jwt);
	mcpauth_jose_signer_free(signer);
	free(priv);
	free(pub);
	free(priv2);
	free(pub2);
}
END_TEST

/* A non-blocking listening socket on 127.0.0.1; *port is where it listens. */
static int listener(int *port)
{
	int fd = check_listen(AF_INET, "127.0.0.1", port);

	ck_assert_int_ge(fd, 0);
	return fd;
}

START_TEST(test_verify_ignores_embedded_jwk)
{
	/*
	 * A token whose header embeds its own jwk and points jku and x5u at a
	 * listener must be checked against our key only, and nothing may
	 * connect to the listener: sign with an attacker key, embed it,
	 * verify with ours.
	 */
	int port = 0, lfd = listener(&port), cfd;
	struct mcpauth_err err = { 0 };
	struct mcpauth_jose_signer *signer = NULL;
	char *ours = NULL, *ours_priv = NULL, *atk_priv = NULL, *atk_pub = NULL;
	char *jwt = NULL;
	jwt_t *t = NULL;
	jwk_t *k = NULL;
	char *s, hdr[2048];

	ck_assert(mcpauth_jose_generate("ES256", "ours", &ours_priv, &ours,
					&err));
	ck_assert(mcpauth_jose_generate("ES256", "ours", &atk_priv, &atk_pub,
					&err));
	ck_assert_int_eq(r_jwt_init(&t), RHN_OK);
	ck_assert_int_eq(r_jwk_init(&k), RHN_OK);
	ck_assert_int_eq(r_jwk_import_from_json_str(k, atk_priv), RHN_OK);
	snprintf(hdr, sizeof(hdr),
		 "{\"typ\":\"at+jwt\",\"kid\":\"ours\","
		 "\"jku\":\"https://127.0.0.1:%d/jwks\","
		 "\"x5u\":\"https://127.0.0.1:%d/cert\",\"jwk\":%s}",
		 port, port, atk_pub);
	ck_assert_int_eq(r_jwt_set_full_header_json_str(t, hdr), RHN_OK);
	r_jwt_set_full_claims_json_str(t, "{\"sub\":\"admin\"}");
	r_jwt_set_sign_alg(t, R_JWA_ALG_ES256);
	s = r_jwt_serialize_signed(t, k, R_FLAG_IGNORE_REMOTE);
	ck_assert_ptr_nonnull(s);
	jwt = strdup(s);
	r_free(s);
	ck_assert(!mcpauth_jose_verify(ours, "ES256", jwt, NULL, NULL, &err));
	ck_assert_str_eq(err.description, "JWT signature does not verify");
	/* No fetch: the listener has no connection waiting. */
	cfd = accept(lfd, NULL, NULL);
	ck_assert_msg(cfd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
		      "something connected to the jku/x5u listener");
	close(lfd);
	free(jwt);
	r_jwt_free(t);
	r_jwk_free(k);
	mcpauth_jose_signer_free(signer);
	free(ours);
	free(ours_priv);
	free(atk_priv);
	free(atk_pub);
}
END_TEST

START_TEST(test_signer_refuses_wrong_keys)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_jose_signer *signer = NULL;
	char *priv = NULL, *pub = NULL;

	ck_assert(mcpauth_jose_generate("EdDSA", "e", &priv, &pub, &err));
	/* A public key cannot sign; an EdDSA key is not an ES256 key. */
	ck_assert(!mcpauth_jose_signer_new("EdDSA", "e", pub, &signer, &err));
	ck_assert(!mcpauth_jose_signer_new("ES256", "e", priv, &signer, &err));
	ck_assert(!mcpauth_jose_signer_new("ES256", "e", "not json", &signer,
					   &err));
	ck_assert(!mcpauth_jose_signer_new("HS256", "e", priv, &signer, &err));
	ck_assert_ptr_null(signer);
	ck_assert(!mcpauth_jose_generate("none", "e", &priv, &pub, &err));
	ck_assert_str_eq(err.description, "unsupported signing algorithm 'none'");
	ck_assert(mcpauth_jose_alg_supported("RS256"));
	ck_assert(!mcpauth_jose_alg_supported("HS256"));
	ck_assert(!mcpauth_jose_alg_supported(NULL));
	mcpauth_jose_signer_free(NULL);
	free(priv);
	free(pub);
}
END_TEST

/* Accepts and at once closes connections for a while; counts them. */
struct acceptor {
	int fd;
	int count;
};

static void *accept_loop(void *p)
{
	struct acceptor *a = p;
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };

	while (poll(&pfd, 1, 3000) > 0) {
		int c = accept(a->fd, NULL, NULL);
		if (c >= 0) {
			a->count++;
			close(c);
		}
	}
	return NULL;
}

/*
 * Documents why jose.c parses with R_PARSE_NONE: rhonabwy 1.1.11's plain
 * r_jwt_parse() downloads the jku of the token it parses although
 * R_FLAG_IGNORE_REMOTE is passed. If this test fails, the library was fixed.
 */
START_TEST(test_rhonabwy_parse_fetches_jku)
{
	struct acceptor a = { 0 };
	pthread_t th;
	jwt_t *t = NULL;
	char hdr[256], *h64, *tok;
	int port = 0;
	size_t n;

	a.fd = listener(&port);
	ck_assert_int_eq(pthread_create(&th, NULL, accept_loop, &a), 0);
	snprintf(hdr, sizeof(hdr),
		 "{\"alg\":\"ES256\",\"jku\":\"https://127.0.0.1:%d/jwks\"}",
		 port);
	h64 = mcpauth_b64url_encode((const unsigned char *)hdr, strlen(hdr));
	n = strlen(h64) + 64;
	tok = malloc(n);
	snprintf(tok, n, "%s.eyJzdWIiOiJ4In0.c2ln", h64);
	ck_assert_int_eq(r_jwt_init(&t), RHN_OK);
	r_jwt_parse(t, tok, R_FLAG_IGNORE_REMOTE);
	r_jwt_free(t);
	pthread_join(th, NULL);
	close(a.fd);
	ck_assert_msg(a.count > 0, "rhonabwy no longer fetches jku in "
				   "r_jwt_parse: see jose.c");
	free(tok);
	free(h64);
}
END_TEST

/*
 * Documents why private keys are JWK files, not PEM: rhonabwy 1.1.11 exports
 * an Ed25519 private key as PEM but cannot import it back. If this test
 * fails, the library was fixed and PEM key files become possible.
 */
START_TEST(test_rhonabwy_cannot_import_ed25519_pem)
{
	jwk_t *priv = NULL, *pub = NULL, *back = NULL;
	unsigned char pem[4096];
	size_t len = sizeof(pem);

	ck_assert_int_eq(r_jwk_init(&priv), RHN_OK);
	ck_assert_int_eq(r_jwk_init(&pub), RHN_OK);
	ck_assert_int_eq(r_jwk_init(&back), RHN_OK);
	ck_assert_int_eq(r_jwk_generate_key_pair(priv, pub, R_KEY_TYPE_EDDSA,
						 256, "k"),
			 RHN_OK);
	ck_assert_int_eq(r_jwk_export_to_pem_der(priv, R_FORMAT_PEM, pem, &len,
						 0),
			 RHN_OK);
	ck_assert_msg(r_jwk_import_from_pem_der(back, R_X509_TYPE_PRIVKEY,
						R_FORMAT_PEM, pem, len) !=
			      RHN_OK,
		      "rhonabwy now imports Ed25519 PEM: see jose.c");
	r_jwk_free(priv);
	r_jwk_free(pub);
	r_jwk_free(back);
}
END_TEST

Suite *check_jose_suite(void)
{
	Suite *s = suite_create("jose");
	TCase *tc = tcase_create("jose");

	/* RSA key generation is slow under valgrind. */
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_sign_verify_each_alg, 0, 3);
	tcase_add_test(tc, test_verify_refuses);
	tcase_add_test(tc, test_verify_ignores_embedded_jwk);
	tcase_add_test(tc, test_signer_refuses_wrong_keys);
	tcase_add_test(tc, test_rhonabwy_cannot_import_ed25519_pem);
	tcase_add_test(tc, test_rhonabwy_parse_fetches_jku);
	suite_add_tcase(s, tc);
	return s;
}

/* check_pkce.c: PKCE S256 (RFC 7636): challenge and verifier syntax, verification. */
#include <stdlib.h>
#include <string.h>

#include "check_mcpauth.h"
#include "crypto.h"
#include "pkce.h"

/* RFC 7636 Appendix B. */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

/* n copies of c, NUL-terminated, into buf (size > n). */
static char *fill(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

START_TEST(test_challenge_ok)
{
	char buf[64];

	ck_assert(mcpauth_pkce_challenge_ok(CHALLENGE));
	/* 42 'A's then a last character carrying 4 bits. */
	fill(buf, 'A', 43);
	ck_assert(mcpauth_pkce_challenge_ok(buf));
	fill(buf, '_', 42);
	buf[42] = 'w';
	buf[43] = '\0';
	ck_assert(mcpauth_pkce_challenge_ok(buf));
	fill(buf, '-', 42);
	buf[42] = '8';
	buf[43] = '\0';
	ck_assert(mcpauth_pkce_challenge_ok(buf));
}
END_TEST

/* Every last character base64url can end 32 bytes with, and no other. */
START_TEST(test_challenge_last_char)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789-_";
	char buf[64];
	size_t good = 0;

	for (size_t i = 0; i < sizeof(alphabet) - 1; i++) {
		bool want = strchr("AEIMQUYcgkosw048", alphabet[i]) != NULL;
		fill(buf, 'A', 42);
		buf[42] = alphabet[i];
		buf[43] = '\0';
		ck_assert_msg(mcpauth_pkce_challenge_ok(buf) == want, "last %c",
			      alphabet[i]);
		good += want;
	}
	ck_assert_uint_eq(good, 16);
}
END_TEST

START_TEST(test_challenge_bad)
{
	static const char *const bad[] = {
		"",
		/* 42 and 44 characters */
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cMA",
		/* padded, or standard base64 */
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw/cM",
		/* verifier characters are not challenge characters */
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw.cM",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw~cM",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw cM",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw%cM",
		/* non-zero trailing bits */
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN",
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c9",
		/* a plain challenge of verifier length 44+ */
		VERIFIER "A",
		/* UTF-8 */
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw\xc3\xa9",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!mcpauth_pkce_challenge_ok(bad[i]), "%s", bad[i]);
	ck_assert(!mcpauth_pkce_challenge_ok(NULL));
}
END_TEST

START_TEST(test_verifier_ok)
{
	char buf[200];

	ck_assert(mcpauth_pkce_verifier_ok(VERIFIER));
	ck_assert(mcpauth_pkce_verifier_ok(fill(buf, 'a', 43)));
	ck_assert(mcpauth_pkce_verifier_ok(fill(buf, 'Z', 128)));
	ck_assert(mcpauth_pkce_verifier_ok(fill(buf, '.', 43)));
	ck_assert(mcpauth_pkce_verifier_ok(fill(buf, '~', 64)));
	ck_assert(mcpauth_pkce_verifier_ok(fill(buf, '-', 100)));
	ck_assert(mcpauth_pkce_verifier_ok(fill(buf, '_', 43)));
	ck_assert(mcpauth_pkce_verifier_ok(
		"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"-._~"));
}
END_TEST

START_TEST(test_verifier_bad)
{
	static const char bad_chars[] = "+/= %\"'<>&?#!*\t\n\x7f";
	char buf[200];

	ck_assert(!mcpauth_pkce_verifier_ok(NULL));
	ck_assert(!mcpauth_pkce_verifier_ok(""));
	ck_assert(!mcpauth_pkce_verifier_ok(fill(buf, 'a', 42)));
	ck_assert(!mcpauth_pkce_verifier_ok(fill(buf, 'a', 129)));
	ck_assert(!mcpauth_pkce_verifier_ok(fill(buf, 'a', 199)));
	for (size_t i = 0; i < sizeof(bad_chars) - 1; i++) {
		fill(buf, 'a', 50);
		buf[20] = bad_chars[i];
		ck_assert_msg(!mcpauth_pkce_verifier_ok(buf), "char 0x%02x",
			      (unsigned char)bad_chars[i]);
	}
	/* Non-ASCII, even where base64url letters surround it. */
	fill(buf, 'a', 50);
	buf[10] = (char)0xc3;
	buf[11] = (char)0xa9;
	ck_assert(!mcpauth_pkce_verifier_ok(buf));
}
END_TEST

/* RFC 7636 Appendix B: the example's verifier gives its challenge. */
START_TEST(test_verify_rfc_vector)
{
	char *c = mcpauth_crypto_sha256_b64url(VERIFIER);

	ck_assert_str_eq(c, CHALLENGE);
	free(c);
	ck_assert(mcpauth_pkce_verify(VERIFIER, CHALLENGE));
}
END_TEST

START_TEST(test_verify_mismatch)
{
	char buf[200], *c;

	/* One character changed, either side. */
	ck_assert(!mcpauth_pkce_verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
				       CHALLENGE));
	ck_assert(!mcpauth_pkce_verify(VERIFIER,
				       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cQ"));
	/* Another valid pair does not cross. */
	fill(buf, 'x', 128);
	c = mcpauth_crypto_sha256_b64url(buf);
	ck_assert(mcpauth_pkce_verify(buf, c));
	ck_assert(!mcpauth_pkce_verify(VERIFIER, c));
	ck_assert(!mcpauth_pkce_verify(buf, CHALLENGE));
	free(c);
	/* plain (challenge = verifier) is never accepted. */
	ck_assert(!mcpauth_pkce_verify(CHALLENGE, CHALLENGE));
}
END_TEST

START_TEST(test_verify_malformed)
{
	char buf[200], *c;

	/* A verifier too short, though the challenge is its true hash. */
	c = mcpauth_crypto_sha256_b64url("abc");
	ck_assert(mcpauth_pkce_challenge_ok(c));
	ck_assert(!mcpauth_pkce_verify("abc", c));
	free(c);
	/* Too long, likewise. */
	fill(buf, 'a', 129);
	c = mcpauth_crypto_sha256_b64url(buf);
	ck_assert(!mcpauth_pkce_verify(buf, c));
	free(c);
	/* Out-of-alphabet, likewise. */
	fill(buf, 'a', 50);
	buf[3] = '+';
	c = mcpauth_crypto_sha256_b64url(buf);
	ck_assert(!mcpauth_pkce_verify(buf, c));
	free(c);
	/* A malformed challenge. */
	ck_assert(!mcpauth_pkce_verify(VERIFIER, CHALLENGE "="));
	ck_assert(!mcpauth_pkce_verify(VERIFIER, ""));
	ck_assert(!mcpauth_pkce_verify(VERIFIER, NULL));
	ck_assert(!mcpauth_pkce_verify(NULL, CHALLENGE));
	ck_assert(!mcpauth_pkce_verify(NULL, NULL));
}
END_TEST

Suite *check_pkce_suite(void)
{
	Suite *s = suite_create("pkce");
	TCase *tc = tcase_create("pkce");

	tcase_add_test(tc, test_challenge_ok);
	tcase_add_test(tc, test_challenge_last_char);
	tcase_add_test(tc, test_challenge_bad);
	tcase_add_test(tc, test_verifier_ok);
	tcase_add_test(tc, test_verifier_bad);
	tcase_add_test(tc, test_verify_rfc_vector);
	tcase_add_test(tc, test_verify_mismatch);
	tcase_add_test(tc, test_verify_malformed);
	suite_add_tcase(s, tc);
	return s;
}

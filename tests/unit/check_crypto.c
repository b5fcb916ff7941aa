/* check_crypto.c: unit tests for randomness, hashes, comparison (crypto.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_mcpauth.h"
#include "b64.h"
#include "crypto.h"

#define B64URL_ALPHABET                                                       \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/* Lowercase hex of a digest, into out (65 bytes). */
static void to_hex(const unsigned char in[MCPAUTH_SHA256_LEN], char *out)
{
	for (size_t i = 0; i < MCPAUTH_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

static void check_sha256(const void *data, size_t len, const char *hex)
{
	unsigned char md[MCPAUTH_SHA256_LEN];
	char got[2 * MCPAUTH_SHA256_LEN + 1];

	memset(md, 0, sizeof(md));
	ck_assert(mcpauth_crypto_sha256(data, len, md));
	to_hex(md, got);
	ck_assert_str_eq(got, hex);
}

static void check_hmac(const void *key, size_t keylen, const void *data,
		       size_t len, const char *hex)
{
	unsigned char md[MCPAUTH_SHA256_LEN];
	char got[2 * MCPAUTH_SHA256_LEN + 1];

	memset(md, 0, sizeof(md));
	ck_assert(mcpauth_crypto_hmac_sha256(key, keylen, data, len, md));
	to_hex(md, got);
	ck_assert_str_eq(got, hex);
}

static bool all_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

START_TEST(test_random_fills)
{
	struct mcpauth_err err = { 0 };
	unsigned char a[64];
	unsigned char b[64];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	ck_assert(mcpauth_crypto_random(a, sizeof(a), &err));
	ck_assert(mcpauth_crypto_random(b, sizeof(b), &err));
	ck_assert(!mcpauth_err_isset(&err));
	/* 512 random bits are all zero, or equal, with probability 2^-512. */
	ck_assert(!all_zero(a, sizeof(a)));
	ck_assert(!all_zero(b, sizeof(b)));
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

START_TEST(test_random_exact_len)
{
	struct mcpauth_err err = { 0 };
	unsigned char buf[48];

	/* Only the requested bytes are written. */
	memset(buf, 0xa5, sizeof(buf));
	ck_assert(mcpauth_crypto_random(buf + 8, 32, &err));
	for (size_t i = 0; i < 8; i++) {
		ck_assert_uint_eq(buf[i], 0xa5);
		ck_assert_uint_eq(buf[40 + i], 0xa5);
	}
	ck_assert(!mcpauth_err_isset(&err));
}
END_TEST

START_TEST(test_random_token)
{
	struct mcpauth_err err = { 0 };
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	char *a = NULL;
	char *b = NULL;

	ck_assert(mcpauth_crypto_random_token(32, &a, &err));
	ck_assert(mcpauth_crypto_random_token(32, &b, &err));
	ck_assert(!mcpauth_err_isset(&err));
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	/* 32 bytes: 43 base64url characters without padding. */
	ck_assert_uint_eq(strlen(a), 43);
	ck_assert_uint_eq(strlen(b), 43);
	ck_assert_uint_eq(strspn(a, B64URL_ALPHABET), 43);
	ck_assert_uint_eq(strspn(b, B64URL_ALPHABET), 43);
	ck_assert_str_ne(a, b);
	/* It is the canonical encoding of 32 bytes. */
	ck_assert(mcpauth_b64url_decode(a, strlen(a), &raw, &rawlen));
	ck_assert_uint_eq(rawlen, 32);
	free(raw);
	mcpauth_crypto_free_secret(a);
	mcpauth_crypto_free_secret(b);
}
END_TEST

START_TEST(test_random_token_sizes)
{
	static const size_t sizes[][2] = { { 16, 22 }, { 17, 23 }, { 18, 24 },
					   { 24, 32 }, { 64, 86 } };
	struct mcpauth_err err = { 0 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *t = NULL;

		ck_assert(mcpauth_crypto_random_token(sizes[i][0], &t, &err));
		ck_assert_ptr_nonnull(t);
		ck_assert_uint_eq(strlen(t), sizes[i][1]);
		ck_assert_uint_eq(strspn(t, B64URL_ALPHABET), sizes[i][1]);
		mcpauth_crypto_free_secret(t);
	}
}
END_TEST

START_TEST(test_random_hex)
{
	struct mcpauth_err err = { 0 };
	char a[40];
	char b[40];

	memset(a, 'Z', sizeof(a));
	memset(b, 'Z', sizeof(b));
	ck_assert(mcpauth_crypto_random_hex(16, a, &err));
	ck_assert(mcpauth_crypto_random_hex(16, b, &err));
	ck_assert(!mcpauth_err_isset(&err));
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
	ck_assert_uint_eq(strspn(b, "0123456789abcdef"), 32);
	ck_assert_str_ne(a, b);
	/* Nothing written past 2 * nbytes + 1. */
	for (size_t i = 33; i < sizeof(a); i++)
		ck_assert_int_eq(a[i], 'Z');

	memset(a, 'Z', sizeof(a));
	ck_assert(mcpauth_crypto_random_hex(8, a, &err));
	ck_assert_uint_eq(strlen(a), 16);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 16);
	ck_assert_int_eq(a[17], 'Z');
}
END_TEST

START_TEST(test_sha256_vectors)
{
	/* FIPS 180-4 examples. */
	check_sha256("abc", 3,
		     "ba7816bf8f01cfea414140de5dae2223"
		     "b00361a396177a9cb410ff61f20015ad");
	check_sha256("", 0,
		     "e3b0c44298fc1c149afbf4c8996fb924"
		     "27ae41e4649b934ca495991b7852b855");
	check_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		     56,
		     "248d6a61d20638b8e5c026930c3e6039"
		     "a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_sha256_len_respected)
{
	unsigned char md1[MCPAUTH_SHA256_LEN];
	unsigned char md2[MCPAUTH_SHA256_LEN];

	/* Only the first 3 bytes are hashed. */
	check_sha256("abcdef", 3,
		     "ba7816bf8f01cfea414140de5dae2223"
		     "b00361a396177a9cb410ff61f20015ad");
	/* Embedded NULs are data, not the end. */
	ck_assert(mcpauth_crypto_sha256("a\0b", 3, md1));
	ck_assert(mcpauth_crypto_sha256("a\0c", 3, md2));
	ck_assert(memcmp(md1, md2, sizeof(md1)) != 0);
}
END_TEST

START_TEST(test_sha256_b64url)
{
	char *s;

	s = mcpauth_crypto_sha256_b64url("abc");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
	free(s);

	s = mcpauth_crypto_sha256_b64url("");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
	free(s);

	/* RFC 7636 Appendix B. */
	s = mcpauth_crypto_sha256_b64url(
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	free(s);
}
END_TEST

/* RFC 4231 §4.2, §4.3 and §4.7. */
START_TEST(test_hmac_rfc4231)
{
	unsigned char key[131];

	memset(key, 0x0b, 20);
	check_hmac(key, 20, "Hi There", 8,
		   "b0344c61d8db38535ca8afceaf0bf12b"
		   "881dc200c9833da726e9376c2e32cff7");

	check_hmac("Jefe", 4, "what do ya want for nothing?", 28,
		   "5bdcc146bf60754e6a042426089575c7"
		   "5a003f089d2739839dec58b964ec3843");

	/* A key longer than the block size is hashed first. */
	memset(key, 0xaa, sizeof(key));
	check_hmac(key, sizeof(key),
		   "Test Using Larger Than Block-Size Key - Hash Key First",
		   54,
		   "60e431591ee0b67f0d8a26aacbf5b77f"
		   "8e0bc6213728c5140546040f0ee37f54");
}
END_TEST

START_TEST(test_equal)
{
	static const unsigned char x[] = { 0, 1, 2, 3, 0xff };
	static const unsigned char y[] = { 0, 1, 2, 3, 0xfe };
	static const unsigned char z[] = { 1, 1, 2, 3, 0xff };

	ck_assert(mcpauth_crypto_equal("abc", "abc", 3));
	ck_assert(!mcpauth_crypto_equal("abc", "abd", 3));
	ck_assert(!mcpauth_crypto_equal("abc", "xbc", 3));
	ck_assert(mcpauth_crypto_equal(x, x, sizeof(x)));
	ck_assert(!mcpauth_crypto_equal(x, y, sizeof(x)));
	ck_assert(!mcpauth_crypto_equal(x, z, sizeof(x)));
	/* Bytes past len do not matter. */
	ck_assert(mcpauth_crypto_equal(x, y, sizeof(x) - 1));
	ck_assert(mcpauth_crypto_equal("abc", "abd", 2));
	ck_assert(mcpauth_crypto_equal("a", "b", 0));
	/* A single differing bit anywhere. */
	for (size_t i = 0; i < 8 * sizeof(x); i++) {
		unsigned char w[sizeof(x)];

		memcpy(w, x, sizeof(x));
		w[i / 8] ^= (unsigned char)(1u << (i % 8));
		ck_assert(!mcpauth_crypto_equal(x, w, sizeof(x)));
	}
}
END_TEST

START_TEST(test_streq)
{
	ck_assert(mcpauth_crypto_streq("secret", "secret"));
	ck_assert(!mcpauth_crypto_streq("secret", "secreT"));
	ck_assert(!mcpauth_crypto_streq("secret", "Secret"));
	ck_assert(mcpauth_crypto_streq("", ""));
	ck_assert(!mcpauth_crypto_streq("", "a"));
	ck_assert(!mcpauth_crypto_streq("a", ""));
	/* Different lengths, one a prefix of the other. */
	ck_assert(!mcpauth_crypto_streq("abc", "abcd"));
	ck_assert(!mcpauth_crypto_streq("abcd", "abc"));
	ck_assert(!mcpauth_crypto_streq("abc", "ab"));
	ck_assert(mcpauth_crypto_streq("x\xc3\xa9", "x\xc3\xa9"));
}
END_TEST

START_TEST(test_wipe)
{
	unsigned char buf[64];

	memset(buf, 0xaa, sizeof(buf));
	mcpauth_crypto_wipe(buf + 8, 48);
	for (size_t i = 0; i < sizeof(buf); i++) {
		if (i < 8 || i >= 56)
			ck_assert_uint_eq(buf[i], 0xaa);
		else
			ck_assert_uint_eq(buf[i], 0);
	}
	mcpauth_crypto_wipe(buf, 0);
	ck_assert_uint_eq(buf[0], 0xaa);
}
END_TEST

START_TEST(test_free_secret)
{
	char *s = strdup("client-secret-value");

	ck_assert_ptr_nonnull(s);
	mcpauth_crypto_free_secret(s);
	mcpauth_crypto_free_secret(NULL);
}
END_TEST

Suite *check_crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc;

	tc = tcase_create("random");
	tcase_add_test(tc, test_random_fills);
	tcase_add_test(tc, test_random_exact_len);
	tcase_add_test(tc, test_random_token);
	tcase_add_test(tc, test_random_token_sizes);
	tcase_add_test(tc, test_random_hex);
	suite_add_tcase(s, tc);

	tc = tcase_create("hash");
	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_sha256_len_respected);
	tcase_add_test(tc, test_sha256_b64url);
	tcase_add_test(tc, test_hmac_rfc4231);
	suite_add_tcase(s, tc);

	tc = tcase_create("compare");
	tcase_add_test(tc, test_equal);
	tcase_add_test(tc, test_streq);
	tcase_add_test(tc, test_wipe);
	tcase_add_test(tc, test_free_secret);
	suite_add_tcase(s, tc);

	return s;
}

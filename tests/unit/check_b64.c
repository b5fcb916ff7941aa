/* check_b64.c: unit tests for strict base64url (b64.c, RFC 4648 §5). */
#include <stdlib.h>
#include <string.h>

#include "check_mcpauth.h"
#include "b64.h"
#include "crypto.h"

/* RFC 4648 §10 test vectors, in the URL alphabet without padding. */
static const struct {
	const char *plain;
	const char *enc;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg" },
	{ "fo", "Zm8" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg" },
	{ "fooba", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy" },
};

#define NVECTORS (sizeof(rfc4648) / sizeof(rfc4648[0]))

/* Decodes src (len bytes) and expects a refusal that leaves *out alone. */
static void refuse(const char *src, size_t len)
{
	unsigned char marker;
	unsigned char *out = &marker;
	size_t outlen = 12345;

	ck_assert_msg(!mcpauth_b64url_decode(src, len, &out, &outlen),
		      "decode of \"%.*s\" (%zu bytes) should fail", (int)len,
		      src, len);
	ck_assert_ptr_eq(out, &marker);
	ck_assert_uint_eq(outlen, 12345);
}

static void refuse_str(const char *src)
{
	refuse(src, strlen(src));
}

START_TEST(test_encode_rfc4648)
{
	const char *plain = rfc4648[_i].plain;
	char *enc;

	enc = mcpauth_b64url_encode((const unsigned char *)plain,
				    strlen(plain));
	ck_assert_ptr_nonnull(enc);
	ck_assert_str_eq(enc, rfc4648[_i].enc);
	free(enc);
}
END_TEST

START_TEST(test_decode_rfc4648)
{
	const char *enc = rfc4648[_i].enc;
	unsigned char *out = NULL;
	size_t outlen = 12345;

	ck_assert(mcpauth_b64url_decode(enc, strlen(enc), &out, &outlen));
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(outlen, strlen(rfc4648[_i].plain));
	ck_assert_mem_eq(out, rfc4648[_i].plain, outlen);
	/* NUL-terminated for convenience. */
	ck_assert_int_eq(out[outlen], '\0');
	free(out);
}
END_TEST

START_TEST(test_encode_url_alphabet)
{
	static const unsigned char fbff[] = { 0xfb, 0xff };
	static const unsigned char dashes[] = { 0xfb, 0xef, 0xbe };
	static const unsigned char unders[] = { 0xff, 0xff, 0xff };
	char *enc;

	enc = mcpauth_b64url_encode(fbff, sizeof(fbff));
	ck_assert_ptr_nonnull(enc);
	ck_assert_str_eq(enc, "-_8");
	free(enc);

	enc = mcpauth_b64url_encode(dashes, sizeof(dashes));
	ck_assert_ptr_nonnull(enc);
	ck_assert_str_eq(enc, "----");
	free(enc);

	enc = mcpauth_b64url_encode(unders, sizeof(unders));
	ck_assert_ptr_nonnull(enc);
	ck_assert_str_eq(enc, "____");
	free(enc);
}
END_TEST

START_TEST(test_decode_url_alphabet)
{
	static const unsigned char fbff[] = { 0xfb, 0xff };
	unsigned char *out = NULL;
	size_t outlen = 0;

	ck_assert(mcpauth_b64url_decode("-_8", 3, &out, &outlen));
	ck_assert_uint_eq(outlen, sizeof(fbff));
	ck_assert_mem_eq(out, fbff, sizeof(fbff));
	free(out);
}
END_TEST

/* RFC 7636 Appendix B: code_challenge = BASE64URL(SHA256(verifier)). */
START_TEST(test_pkce_rfc7636)
{
	static const char verifier[] =
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	unsigned char hash[MCPAUTH_SHA256_LEN];
	char *challenge;

	ck_assert(mcpauth_crypto_sha256(verifier, strlen(verifier), hash));
	challenge = mcpauth_b64url_encode(hash, sizeof(hash));
	ck_assert_ptr_nonnull(challenge);
	ck_assert_str_eq(challenge,
			 "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	free(challenge);
}
END_TEST

START_TEST(test_decode_refuses_std_alphabet)
{
	refuse_str("Zm9v+g");
	refuse_str("+g");
	refuse_str("Zm9/");
	refuse_str("////");
}
END_TEST

START_TEST(test_decode_refuses_padding)
{
	refuse_str("Zg==");
	refuse_str("Zm8=");
	refuse_str("Zm9vYg==");
	refuse_str("====");
}
END_TEST

START_TEST(test_decode_refuses_whitespace)
{
	refuse_str("Zm9v Yg");
	refuse_str("Zm9v\nYg");
	refuse_str("Zm9v\r\nYg");
	refuse_str(" Zm9v");
	refuse_str("Zm9v ");
	refuse_str("Zm9v\t");
}
END_TEST

START_TEST(test_decode_refuses_other_bytes)
{
	refuse_str("Zm9v.g");
	refuse_str("Zm9v*g");
	refuse_str("Zm9v\xc3\xa9");
	/* An embedded NUL inside len is not part of the alphabet. */
	refuse("Zm\0v", 4);
}
END_TEST

START_TEST(test_decode_refuses_bad_length)
{
	refuse_str("Z");
	refuse_str("Zm9vY");
	refuse_str("Zm9vYmFyZ");
}
END_TEST

/* The unused bits of the last character must be zero (RFC 4648 §3.5). */
START_TEST(test_decode_refuses_noncanonical)
{
	refuse_str("Zh");	/* "Zg" is "f" */
	refuse_str("Zm9");	/* "Zm8" is "fo" */
	refuse_str("Zm9vYh");	/* "Zm9vYg" is "foob" */
	refuse_str("Zm9vYmF");	/* "Zm9vYmE" is "fooba" */
	refuse_str("_9");	/* 0xff with low bits set */
}
END_TEST

START_TEST(test_decode_respects_len)
{
	unsigned char *out = NULL;
	size_t outlen = 0;

	/* Only the first 4 characters ("Zm9v") are decoded. */
	ck_assert(mcpauth_b64url_decode("Zm9vYmFy", 4, &out, &outlen));
	ck_assert_uint_eq(outlen, 3);
	ck_assert_mem_eq(out, "foo", 3);
	ck_assert_int_eq(out[3], '\0');
	free(out);
}
END_TEST

START_TEST(test_decode_not_nul_terminated)
{
	char *src = malloc(6);
	unsigned char *out = NULL;
	size_t outlen = 0;

	/* Exactly 6 bytes, no NUL: valgrind/ASan catch an over-read. */
	ck_assert_ptr_nonnull(src);
	memcpy(src, "Zm9vYg", 6);
	ck_assert(mcpauth_b64url_decode(src, 6, &out, &outlen));
	ck_assert_uint_eq(outlen, 4);
	ck_assert_mem_eq(out, "foob", 4);
	free(out);
	free(src);
}
END_TEST

/* A small deterministic generator, so a failure can be reproduced. */
static unsigned int lcg(unsigned int *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 16;
}

START_TEST(test_roundtrip_binary)
{
	unsigned char buf[300];
	unsigned int state = 42;

	for (size_t len = 0; len <= sizeof(buf); len++) {
		unsigned char *out = NULL;
		size_t outlen = 0;
		char *enc;

		for (size_t i = 0; i < len; i++)
			buf[i] = (unsigned char)lcg(&state);
		/* Make sure NULs occur, including first and last. */
		if (len > 0) {
			buf[0] = 0;
			buf[len / 2] = 0;
			buf[len - 1] = 0;
		}
		enc = mcpauth_b64url_encode(buf, len);
		ck_assert_ptr_nonnull(enc);
		ck_assert_uint_eq(strlen(enc), (len * 4 + 2) / 3);
		ck_assert_uint_eq(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "abcdefghijklmnopqrstuvwxyz"
					      "0123456789-_"),
				  strlen(enc));
		ck_assert_msg(mcpauth_b64url_decode(enc, strlen(enc), &out,
						    &outlen),
			      "round trip of %zu bytes failed", len);
		ck_assert_uint_eq(outlen, len);
		if (len > 0)
			ck_assert_mem_eq(out, buf, len);
		ck_assert_int_eq(out[outlen], '\0');
		free(out);
		free(enc);
	}
}
END_TEST

START_TEST(test_roundtrip_all_bytes)
{
	unsigned char buf[256];
	unsigned char *out = NULL;
	size_t outlen = 0;
	char *enc;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)i;
	enc = mcpauth_b64url_encode(buf, sizeof(buf));
	ck_assert_ptr_nonnull(enc);
	ck_assert_uint_eq(strlen(enc), 342);
	ck_assert(mcpauth_b64url_decode(enc, strlen(enc), &out, &outlen));
	ck_assert_uint_eq(outlen, sizeof(buf));
	ck_assert_mem_eq(out, buf, sizeof(buf));
	free(out);
	free(enc);
}
END_TEST

/* Padded base64 (RFC 4648 §4), as HTTP Basic credentials carry it. */
START_TEST(test_std_decode)
{
	unsigned char *out = NULL;
	size_t n = 0;

	ck_assert(mcpauth_b64_decode("YWJjOmRlZg==", 12, &out, &n));
	ck_assert_uint_eq(n, 7);
	ck_assert_str_eq((char *)out, "abc:def");
	free(out);
	ck_assert(mcpauth_b64_decode("YT8+Pw==", 8, &out, &n));
	ck_assert_uint_eq(n, 4);
	ck_assert_mem_eq(out, "a?>?", 4);
	free(out);
}
END_TEST

static const char *const std_bad[] = {
	"",          /* nothing */
	"YWJ",       /* length not a multiple of 4 */
	"YW=j",      /* padding inside */
	"Y===",      /* three padding characters */
	"YW J",      /* space */
	"YW_j",      /* base64url alphabet */
	"YWJj\n",    /* newline */
};

START_TEST(test_std_decode_refuses)
{
	unsigned char *out = NULL;
	size_t n = 0;
	const char *s = std_bad[_i];

	ck_assert_msg(!mcpauth_b64_decode(s, strlen(s), &out, &n), "%s", s);
	ck_assert_ptr_null(out);
}
END_TEST

Suite *check_b64_suite(void)
{
	Suite *s = suite_create("b64");
	TCase *tc;

	tc = tcase_create("encode");
	tcase_add_loop_test(tc, test_encode_rfc4648, 0, (int)NVECTORS);
	tcase_add_test(tc, test_encode_url_alphabet);
	tcase_add_test(tc, test_pkce_rfc7636);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_loop_test(tc, test_decode_rfc4648, 0, (int)NVECTORS);
	tcase_add_test(tc, test_decode_url_alphabet);
	tcase_add_test(tc, test_decode_respects_len);
	tcase_add_test(tc, test_decode_not_nul_terminated);
	suite_add_tcase(s, tc);

	tc = tcase_create("strict");
	tcase_add_test(tc, test_decode_refuses_std_alphabet);
	tcase_add_test(tc, test_decode_refuses_padding);
	tcase_add_test(tc, test_decode_refuses_whitespace);
	tcase_add_test(tc, test_decode_refuses_other_bytes);
	tcase_add_test(tc, test_decode_refuses_bad_length);
	tcase_add_test(tc, test_decode_refuses_noncanonical);
	tcase_add_test(tc, test_std_decode);
	tcase_add_loop_test(tc, test_std_decode_refuses, 0,
			    sizeof(std_bad) / sizeof(std_bad[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_add_test(tc, test_roundtrip_binary);
	tcase_add_test(tc, test_roundtrip_all_bytes);
	suite_add_tcase(s, tc);

	return s;
}

/* check_password.c: unit tests for argon2id password hashing (password.c). */
#include <stdlib.h>
#include <string.h>

#include "check_mcpauth.h"
#include "b64.h"
#include "password.h"

#define B64_ALPHABET                                                           \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

/* 16-byte salt and 32-byte tag, for strings that are parsed, not computed. */
#define SALT16 "TTBWRUtxZzVyYWwyV1dDNg"
#define TAG32 "j27bQUEvE8kwLKXwjRsg+1e5JrflosZWgSOazCDPb74"

/*
 * Known answers, made with Debian's argon2 CLI (package argon2,
 * 0~20171227-0.3+deb12u1), e.g. `echo -n pw | argon2 somesalt -id -m 15 -t 2
 * -p 1 -e` for the first; the command is above each.
 */
/* echo -n pw | argon2 somesalt -id -m 15 -t 2 -p 1 -e */
#define KAT_ID                                                                 \
	"$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"                          \
	"qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8"
/* echo -n 'correct horse battery staple' | argon2 saltsaltsalt -i -m 12 -t 3 -p
 * 2 -e */
#define KAT_I                                                                  \
	"$argon2i$v=19$m=4096,t=3,p=2$c2FsdHNhbHRzYWx0$Eg1iIwDbKm7eukESJR/"    \
	"n4gKDH2GU2yXfsCcnguPTT54"
#define KAT_I_PW "correct horse battery staple"
/* echo -n 'pässwörd' | argon2 saltysalt -id -k 19456 -t 2 -p 1 -e (UTF-8) */
#define KAT_UTF8                                                               \
	"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHlzYWx0$"                         \
	"IZJ55jzIQOFStyMWiJyoFv0Xhg2SSvez5A/s72+moZQ"
/* echo -n pw | argon2 somesalt -i -m 12 -t 2 -p 1 -v 10 -e */
#define KAT_V16                                                                \
	"$argon2i$v=16$m=4096,t=2,p=1$c29tZXNhbHQ$"                            \
	"mMrxxJV43R1sB7vPmZJevgPz1uovsuQi/jmyyH+uRxc"

/* Verifies without error and returns the answer. */
static bool verifies(const char *encoded, const char *password)
{
	struct mcpauth_err err = {0};
	bool match = false;

	ck_assert_msg(mcpauth_password_verify(encoded, password, &match, &err),
		      "%s: %s", encoded, err.detail);
	ck_assert(!mcpauth_err_isset(&err));
	return match;
}

static char *hash_ok(const char *password)
{
	struct mcpauth_err err = {0};
	char *encoded = NULL;

	ck_assert_msg(mcpauth_password_hash(password, &encoded, &err), "%s",
		      err.detail);
	ck_assert_ptr_nonnull(encoded);
	return encoded;
}

/* The salt of one of our hashes, decoded. */
static void salt_of(const char *encoded, unsigned char **salt, size_t *len)
{
	const char *p = strrchr(encoded, '$');
	const char *q = p - 1;
	char buf[64];
	size_t n;

	while (*q != '$')
		q--;
	n = (size_t)(p - q - 1);
	ck_assert_uint_lt(n, sizeof(buf));
	for (size_t i = 0; i < n; i++)
		buf[i] = q[1 + i] == '+'   ? '-'
			 : q[1 + i] == '/' ? '_'
					   : q[1 + i];
	ck_assert(mcpauth_b64url_decode(buf, n, salt, len));
}

START_TEST(test_round_trip)
{
	char *h = hash_ok("correct horse battery staple");

	ck_assert(verifies(h, "correct horse battery staple"));
	ck_assert(!mcpauth_password_needs_rehash(h));
	free(h);

	/* Bytes, not characters: UTF-8 and every byte value but NUL. */
	h = hash_ok("p\xc3\xa4ss w\xc3\xb6rd\x01\xff\t");
	ck_assert(verifies(h, "p\xc3\xa4ss w\xc3\xb6rd\x01\xff\t"));
	free(h);
}
END_TEST

START_TEST(test_wrong_password)
{
	char *h = hash_ok("correct horse battery staple");

	ck_assert(!verifies(h, "correct horse battery stapl"));
	ck_assert(!verifies(h, "correct horse battery staple "));
	ck_assert(!verifies(h, "Correct horse battery staple"));
	ck_assert(!verifies(h, "x"));
	free(h);
}
END_TEST

START_TEST(test_encoded_form)
{
	char *h = hash_ok("hunter2");
	const char *prefix = "$argon2id$v=19$m=19456,t=2,p=1$";
	unsigned char *salt = NULL;
	size_t saltlen = 0;

	ck_assert_msg(!strncmp(h, prefix, strlen(prefix)), "%s", h);
	/* 16-byte salt: 22 characters; 32-byte tag: 43; unpadded base64. */
	ck_assert_uint_eq(strlen(h), strlen(prefix) + 22 + 1 + 43);
	ck_assert_uint_eq(strspn(h + strlen(prefix), B64_ALPHABET), 22);
	ck_assert_int_eq(h[strlen(prefix) + 22], '$');
	ck_assert_uint_eq(strspn(h + strlen(prefix) + 23, B64_ALPHABET), 43);
	ck_assert_ptr_null(strchr(h + strlen(prefix), '='));
	salt_of(h, &salt, &saltlen);
	ck_assert_uint_eq(saltlen, 16);
	free(salt);
	free(h);
}
END_TEST

START_TEST(test_salted)
{
	char *a = hash_ok("same password");
	char *b = hash_ok("same password");
	unsigned char *sa = NULL;
	unsigned char *sb = NULL;
	size_t la = 0;
	size_t lb = 0;

	ck_assert_str_ne(a, b);
	salt_of(a, &sa, &la);
	salt_of(b, &sb, &lb);
	ck_assert_uint_eq(la, lb);
	ck_assert(memcmp(sa, sb, la) != 0);
	ck_assert(verifies(a, "same password"));
	ck_assert(verifies(b, "same password"));
	free(sa);
	free(sb);
	free(a);
	free(b);
}
END_TEST

static void refused_password(const char *password)
{
	struct mcpauth_err err = {0};
	char sentinel[] = "untouched";
	char *encoded = sentinel;
	bool match = true;

	ck_assert(!mcpauth_password_hash(password, &encoded, &err));
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_request");
	ck_assert_ptr_eq(encoded, sentinel);

	/* Verification refuses it too, before looking at the hash. */
	mcpauth_err_clear(&err);
	ck_assert(!mcpauth_password_verify(KAT_ID, password, &match, &err));
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_request");
	ck_assert(match);
	mcpauth_err_clear(&err);
	ck_assert(!mcpauth_password_verify("garbage", password, &match, &err));
	ck_assert_int_eq(err.status, 400);
	ck_assert(match);
}

START_TEST(test_lengths)
{
	char *big = malloc(MCPAUTH_PASSWORD_MAX + 2);
	char *h = NULL;

	ck_assert_ptr_nonnull(big);
	refused_password("");
	refused_password(NULL);
	memset(big, 'a', MCPAUTH_PASSWORD_MAX + 1);
	big[MCPAUTH_PASSWORD_MAX + 1] = '\0';
	refused_password(big);

	/* Exactly the maximum is fine, and not truncated. */
	big[MCPAUTH_PASSWORD_MAX] = '\0';
	h = hash_ok(big);
	ck_assert(verifies(h, big));
	big[MCPAUTH_PASSWORD_MAX - 1] = 'b';
	ck_assert(!verifies(h, big));
	free(h);

	/* So is one byte. */
	h = hash_ok("x");
	ck_assert(verifies(h, "x"));
	free(h);
	free(big);
}
END_TEST

static const char *const malformed[] = {
    "",
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    /* Other algorithms, or spelt otherwise. */
    "$argon2d$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$ARGON2ID$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$scrypt$ln=16,r=8,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
    /* Truncated. */
    "$argon2id$",
    "$argon2id$v=19$m=32768",
    "$argon2id$v=19$m=32768,t=2,p=1$",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2G",
    /* Bad base64: foreign characters, base64url, padding, trailing bits. */
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZX*hbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2i$v=19$m=4096,t=3,p=2$c2FsdHNhbHRzYWx0$Eg1iIwDbKm7eukESJR_"
    "n4gKDH2GU2yXfsCcnguPTT54",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ=$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8=",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu9",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHR$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    /* Whitespace and trailing junk. */
    " $argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8\n",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8$",
    "$argon2id$v=19$m=32768, "
    "t=2,p=1$c29tZXNhbHQ$qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    /* Versions. */
    "$argon2id$v=20$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19m=32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    /* Parameters: syntax. */
    "$argon2id$v=19$t=2,m=32768,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=-1,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=+32768,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=32768,t=2,p=1,keyid=abc$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=32768,t=2$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    /* Parameters: beyond what we will spend, or beyond 32 bits. */
    "$argon2id$v=19$m=262145,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=32768,t=11,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=32768,t=2,p=9$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=4294967296,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=99999999999999999999,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=32768,t=4294967295,p=16777215$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    /* Parameters libargon2 itself refuses. */
    "$argon2id$v=19$m=32768,t=0,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=32768,t=2,p=0$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=7,t=2,p=1$c29tZXNhbHQ$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    /* Salt or tag too short for libargon2, or longer than 64 bytes. */
    "$argon2id$v=19$m=32768,t=2,p=1$c2FsdA$"
    "qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$qW4p",
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$"
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Nj"
    "c4OTo7PD0+P0A",
    "$argon2id$v=19$m=32768,t=2,p=1$"
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Nj"
    "c4OTo7PD0+P0A$qW4pdm62UlGUkURyVak7QNz4jQWQZnib5RWIbsW2Gu8",
};

START_TEST(test_malformed)
{
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		struct mcpauth_err err = {0};
		bool match = true;

		ck_assert_msg(
		    !mcpauth_password_verify(malformed[i], "pw", &match, &err),
		    "accepted %s", malformed[i]);
		ck_assert_int_eq(err.status, 500);
		ck_assert_str_eq(err.code, "server_error");
		ck_assert_msg(err.detail[0] != '\0', "no detail for %s",
			      malformed[i]);
		/* The client sees nothing of the hash or the reason. */
		ck_assert_str_eq(err.description, "internal error");
		ck_assert_msg(match, "match set for %s", malformed[i]);
		ck_assert(mcpauth_password_needs_rehash(malformed[i]));
	}
}
END_TEST

START_TEST(test_malformed_detail)
{
	static const struct {
		const char *encoded;
		const char *detail;
	} cases[] = {
	    {"$argon2d$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$" TAG32,
	     "not $argon2id$ or $argon2i$"},
	    {"$argon2id$v=20$m=32768,t=2,p=1$c29tZXNhbHQ$" TAG32,
	     "unknown version"},
	    {"$argon2id$v=19$m=32768,t=2$c29tZXNhbHQ$" TAG32, "bad parameters"},
	    {"$argon2id$v=19$m=262145,t=2,p=1$c29tZXNhbHQ$" TAG32,
	     "parameters beyond m=262144,t=10,p=8"},
	    {"$argon2id$v=19$m=32768,t=2,p=1$c29tZX*hbHQ$" TAG32, "bad salt"},
	    {"$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQ$" TAG32 "$",
	     "bad tag"},
	    /* libargon2's own reason. */
	    {"$argon2id$v=19$m=32768,t=2,p=1$c2FsdA$" TAG32,
	     "Salt is too short"},
	    {NULL, "none"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mcpauth_err err = {0};
		bool match = false;

		ck_assert(!mcpauth_password_verify(cases[i].encoded, "pw",
						   &match, &err));
		ck_assert_int_eq(err.status, 500);
		ck_assert_msg(strstr(err.detail, cases[i].detail) != NULL,
			      "%s: %s", cases[i].encoded, err.detail);
	}
}
END_TEST

/* Well-formed strings changed in one place: a mismatch, not an error. */
START_TEST(test_tampered)
{
	/* The tag. */
	ck_assert(!verifies("$argon2i$v=19$m=4096,t=3,p=2$c2FsdHNhbHRzYWx0$"
			    "Fg1iIwDbKm7eukESJR/n4gKDH2GU2yXfsCcnguPTT54",
			    KAT_I_PW));
	/* The salt. */
	ck_assert(!verifies("$argon2i$v=19$m=4096,t=3,p=2$c2FsdHNhbHRzYWx1$"
			    "Eg1iIwDbKm7eukESJR/n4gKDH2GU2yXfsCcnguPTT54",
			    KAT_I_PW));
	/* Each parameter. */
	ck_assert(!verifies("$argon2i$v=19$m=4104,t=3,p=2$c2FsdHNhbHRzYWx0$"
			    "Eg1iIwDbKm7eukESJR/n4gKDH2GU2yXfsCcnguPTT54",
			    KAT_I_PW));
	ck_assert(!verifies("$argon2i$v=19$m=4096,t=2,p=2$c2FsdHNhbHRzYWx0$"
			    "Eg1iIwDbKm7eukESJR/n4gKDH2GU2yXfsCcnguPTT54",
			    KAT_I_PW));
	ck_assert(!verifies("$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$"
			    "Eg1iIwDbKm7eukESJR/n4gKDH2GU2yXfsCcnguPTT54",
			    KAT_I_PW));
	/* The version, named or left out (then 16). */
	ck_assert(!verifies("$argon2i$v=16$m=4096,t=3,p=2$c2FsdHNhbHRzYWx0$"
			    "Eg1iIwDbKm7eukESJR/n4gKDH2GU2yXfsCcnguPTT54",
			    KAT_I_PW));
	ck_assert(!verifies("$argon2i$m=4096,t=3,p=2$c2FsdHNhbHRzYWx0$"
			    "Eg1iIwDbKm7eukESJR/n4gKDH2GU2yXfsCcnguPTT54",
			    KAT_I_PW));
	/* The variant. */
	ck_assert(!verifies("$argon2id$v=19$m=4096,t=3,p=2$c2FsdHNhbHRzYWx0$"
			    "Eg1iIwDbKm7eukESJR/n4gKDH2GU2yXfsCcnguPTT54",
			    KAT_I_PW));
}
END_TEST

START_TEST(test_known_answers)
{
	ck_assert(verifies(KAT_ID, "pw"));
	ck_assert(!verifies(KAT_ID, "pW"));
	ck_assert(verifies(KAT_I, KAT_I_PW));
	ck_assert(verifies(KAT_UTF8, "p\xc3\xa4ssw\xc3\xb6rd"));
	ck_assert(verifies(KAT_V16, "pw"));
	/* v=16 is also what a string without a version means. */
	ck_assert(verifies("$argon2i$m=4096,t=2,p=1$c29tZXNhbHQ$"
			   "mMrxxJV43R1sB7vPmZJevgPz1uovsuQi/jmyyH+uRxc",
			   "pw"));
	/* Leading zeros read as libargon2 reads them. */
	ck_assert(verifies("$argon2i$v=19$m=04096,t=03,p=002$c2FsdHNhbHRzYWx0$"
			   "Eg1iIwDbKm7eukESJR/n4gKDH2GU2yXfsCcnguPTT54",
			   KAT_I_PW));
}
END_TEST

START_TEST(test_needs_rehash)
{
	static const char *const weaker[] = {
	    /* argon2i, v=16, no version. */
	    "$argon2i$v=19$m=19456,t=2,p=1$" SALT16 "$" TAG32,
	    "$argon2id$v=16$m=19456,t=2,p=1$" SALT16 "$" TAG32,
	    "$argon2id$m=19456,t=2,p=1$" SALT16 "$" TAG32,
	    /* Less memory or time. */
	    "$argon2id$v=19$m=19455,t=2,p=1$" SALT16 "$" TAG32,
	    "$argon2id$v=19$m=65536,t=1,p=1$" SALT16 "$" TAG32,
	    "$argon2id$v=19$m=4096,t=3,p=1$" SALT16 "$" TAG32,
	    /* A 15-byte salt, a 31-byte tag. */
	    "$argon2id$v=19$m=19456,t=2,p=1$OXBRVWRDdER0NFlqQ3dN$" TAG32,
	    "$argon2id$v=19$m=19456,t=2,p=1$" SALT16
	    "$AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw",
	    /* 8- and 9-byte salts, argon2i, v=16. */
	    KAT_ID,
	    KAT_UTF8,
	    KAT_I,
	    KAT_V16,
	    /* Malformed, including beyond the maxima. */
	    "$argon2id$v=19$m=262145,t=2,p=1$" SALT16 "$" TAG32,
	    "$argon2id$v=19$m=19456,t=2,p=1$" SALT16,
	    "",
	    NULL,
	};
	static const char *const current[] = {
	    "$argon2id$v=19$m=19456,t=2,p=1$" SALT16 "$" TAG32,
	    /* Stronger, up to the maxima. */
	    "$argon2id$v=19$m=65536,t=3,p=4$" SALT16 "$" TAG32,
	    "$argon2id$v=19$m=262144,t=10,p=8$" SALT16 "$" TAG32,
	    "$argon2id$v=19$m=19456,t=2,p=1$" SALT16
	    "$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vM"
	    "DEyMzQ1Njc4OTo7PD0+Pw",
	};
	char *h = hash_ok("rehash me");

	ck_assert(!mcpauth_password_needs_rehash(h));
	free(h);
	for (size_t i = 0; i < sizeof(weaker) / sizeof(weaker[0]); i++)
		ck_assert_msg(mcpauth_password_needs_rehash(weaker[i]), "%s",
			      weaker[i]);
	for (size_t i = 0; i < sizeof(current) / sizeof(current[0]); i++)
		ck_assert_msg(!mcpauth_password_needs_rehash(current[i]), "%s",
			      current[i]);
}
END_TEST

START_TEST(test_dummy)
{
	char *big = malloc(MCPAUTH_PASSWORD_MAX + 2);

	/*
	 * No timing here (timings belong in bench/): the dummy must accept
	 * any password, even ones verification refuses, without failing.
	 */
	ck_assert_ptr_nonnull(big);
	mcpauth_password_dummy("a wrong guess");
	mcpauth_password_dummy("");
	mcpauth_password_dummy(NULL);
	memset(big, 'a', MCPAUTH_PASSWORD_MAX + 1);
	big[MCPAUTH_PASSWORD_MAX + 1] = '\0';
	mcpauth_password_dummy(big);
	free(big);
}
END_TEST

Suite *check_password_suite(void)
{
	Suite *s = suite_create("password");
	TCase *tc;

	/* Each hash is ≈ 25 ms; generous for valgrind and loaded machines. */
	tc = tcase_create("hash");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_wrong_password);
	tcase_add_test(tc, test_encoded_form);
	tcase_add_test(tc, test_salted);
	tcase_add_test(tc, test_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_malformed_detail);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_known_answers);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_needs_rehash);
	tcase_add_test(tc, test_dummy);
	suite_add_tcase(s, tc);

	return s;
}

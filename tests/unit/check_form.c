/* check_form.c: unit tests for strict urlencoded parsing and UTF-8 (form.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_mcpauth.h"
#include "form.h"

/* Parses a NUL-terminated string that must be accepted. */
static struct mcpauth_form *parse_ok(const char *src)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_form *form = NULL;

	ck_assert_msg(mcpauth_form_parse(src, strlen(src), &form, &err),
		      "\"%s\" refused: %d %s %s", src, err.status,
		      err.code != NULL ? err.code : "(null)", err.description);
	ck_assert_ptr_nonnull(form);
	ck_assert(!mcpauth_err_isset(&err));
	return form;
}

/*
 * Parses len bytes that must be refused with 400 invalid_request; when name
 * is not NULL, the description must name the parameter.
 */
static void refuse_len(const char *src, size_t len, const char *name)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_form marker;
	struct mcpauth_form *form = &marker;

	ck_assert_msg(!mcpauth_form_parse(src, len, &form, &err),
		      "\"%.*s\" accepted", (int)len, src);
	/* Out-params are set only on success. */
	ck_assert_ptr_eq(form, &marker);
	ck_assert(mcpauth_err_isset(&err));
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_request");
	ck_assert_msg(err.description[0] != '\0', "empty description");
	if (name != NULL)
		ck_assert_msg(strstr(err.description, name) != NULL,
			      "description \"%s\" does not name \"%s\"",
			      err.description, name);
}

static void refuse(const char *src, const char *name)
{
	refuse_len(src, strlen(src), name);
}

START_TEST(test_parse_simple)
{
	struct mcpauth_form *form = parse_ok("grant_type=authorization_code"
					     "&code=abc123&client_id=c1");

	ck_assert_uint_eq(form->count, 3);
	ck_assert_str_eq(form->params[0].name, "grant_type");
	ck_assert_str_eq(form->params[0].value, "authorization_code");
	ck_assert_str_eq(form->params[1].name, "code");
	ck_assert_str_eq(form->params[1].value, "abc123");
	ck_assert_str_eq(form->params[2].name, "client_id");
	ck_assert_str_eq(form->params[2].value, "c1");
	ck_assert_str_eq(mcpauth_form_get(form, "grant_type"),
			 "authorization_code");
	ck_assert_str_eq(mcpauth_form_get(form, "code"), "abc123");
	ck_assert_str_eq(mcpauth_form_get(form, "client_id"), "c1");
	ck_assert_ptr_null(mcpauth_form_get(form, "missing"));
	/* Names match exactly, not by prefix or case. */
	ck_assert_ptr_null(mcpauth_form_get(form, "Code"));
	ck_assert_ptr_null(mcpauth_form_get(form, "cod"));
	ck_assert_ptr_null(mcpauth_form_get(form, "code "));
	mcpauth_form_free(form);
}
END_TEST

START_TEST(test_parse_value_with_equals)
{
	struct mcpauth_form *form = parse_ok("a=b=c&d==");

	/* Only the first '=' separates name and value. */
	ck_assert_str_eq(mcpauth_form_get(form, "a"), "b=c");
	ck_assert_str_eq(mcpauth_form_get(form, "d"), "=");
	mcpauth_form_free(form);
}
END_TEST

START_TEST(test_parse_plus_is_space)
{
	struct mcpauth_form *form = parse_ok("scope=read+write++x&a+b=1");

	ck_assert_str_eq(mcpauth_form_get(form, "scope"), "read write  x");
	ck_assert_str_eq(mcpauth_form_get(form, "a b"), "1");
	mcpauth_form_free(form);
}
END_TEST

START_TEST(test_parse_percent)
{
	struct mcpauth_form *form =
		parse_ok("p=%2B&q=a%20b&r=%2b%2f&redirect_uri=https%3A%2F%2F"
			 "app.example%2Fcb%3Fx%3D1%26y%3D2&%61%62=ok&pct=%25");

	ck_assert_str_eq(mcpauth_form_get(form, "p"), "+");
	ck_assert_str_eq(mcpauth_form_get(form, "q"), "a b");
	/* Lower-case hex digits are hex digits too. */
	ck_assert_str_eq(mcpauth_form_get(form, "r"), "+/");
	ck_assert_str_eq(mcpauth_form_get(form, "redirect_uri"),
			 "https://app.example/cb?x=1&y=2");
	/* Names are decoded as well. */
	ck_assert_str_eq(mcpauth_form_get(form, "ab"), "ok");
	ck_assert_str_eq(mcpauth_form_get(form, "pct"), "%");
	mcpauth_form_free(form);
}
END_TEST

START_TEST(test_parse_utf8)
{
	struct mcpauth_form *form =
		parse_ok("name=%C3%A9t%C3%A9&euro=%E2%82%AC&smile=%F0%9F%98%80"
			 "&raw=\xc3\xa9");

	ck_assert_str_eq(mcpauth_form_get(form, "name"), "\xc3\xa9t\xc3\xa9");
	ck_assert_str_eq(mcpauth_form_get(form, "euro"), "\xe2\x82\xac");
	ck_assert_str_eq(mcpauth_form_get(form, "smile"),
			 "\xf0\x9f\x98\x80");
	ck_assert_str_eq(mcpauth_form_get(form, "raw"), "\xc3\xa9");
	mcpauth_form_free(form);
}
END_TEST

/* RFC 6749 §3.1: request parameters must not be included more than once. */
START_TEST(test_refuse_repeated)
{
	refuse("client_id=x&client_id=y", "client_id");
	refuse("client_id=x&client_id=x", "client_id");
	refuse("a=1&scope=read&b=2&scope=write", "scope");
	/* A name spelled with an escape is the same name. */
	refuse("scope=read&%73cope=write", "scope");
	refuse("a+b=1&a%20b=2", "a b");
}
END_TEST

/* Without a value the parameter is omitted, but still a repetition. */
START_TEST(test_refuse_repeated_empty)
{
	refuse("state=&state=1", "state");
	refuse("state=1&state=", "state");
	refuse("state&state=1", "state");
	refuse("state=1&state", "state");
	refuse("state&state", "state");
	refuse("state=&state=", "state");
}
END_TEST

START_TEST(test_empty_value_is_omitted)
{
	struct mcpauth_form *form = parse_ok("a=&b&c=1");

	ck_assert_ptr_null(mcpauth_form_get(form, "a"));
	ck_assert_ptr_null(mcpauth_form_get(form, "b"));
	ck_assert_str_eq(mcpauth_form_get(form, "c"), "1");
	mcpauth_form_free(form);
}
END_TEST

START_TEST(test_refuse_bad_percent)
{
	refuse("scope=%", "scope");
	refuse("scope=%4", "scope");
	refuse("scope=%zz", "scope");
	refuse("scope=%4g", "scope");
	refuse("scope=%g4", "scope");
	refuse("scope=%%41", "scope");
	refuse("scope=a%", "scope");
	refuse("scope=%+1", "scope");
	refuse("scope=% 1", "scope");
	/* At the very end of the input, with nothing after the '%'. */
	refuse("x=1&scope=ab%4", "scope");
	/* In the name: the escape is bad, so it cannot be named decoded. */
	refuse("%zz=1", NULL);
	refuse("a%=1", NULL);
}
END_TEST

/* The len argument ends the input, even in the middle of an escape. */
START_TEST(test_refuse_escape_cut_by_len)
{
	refuse_len("scope=%41", 8, "scope");
	refuse_len("scope=%41", 7, "scope");
}
END_TEST

START_TEST(test_refuse_control)
{
	refuse("state=%00", "state");
	refuse("state=a%00b", "state");
	refuse("state=a%0Ab", "state");
	refuse("state=a%0db", "state");
	refuse("state=%09", "state");
	refuse("state=%1F", "state");
	refuse("state=%1b%5B31m", "state");
	refuse("state=%7F", "state");
	/* Unescaped control characters are refused as well. */
	refuse("state=a\tb", "state");
	refuse("state=a\nb", "state");
	refuse("state=a\x7f", "state");
	refuse_len("state=a\0b", 9, "state");
	/* In a name. */
	refuse("st%00ate=1", NULL);
	refuse("st%0Aate=1", NULL);
}
END_TEST

START_TEST(test_refuse_invalid_utf8)
{
	refuse("name=%C3%28", "name");		/* bad continuation */
	refuse("name=%C0%AF", "name");		/* overlong '/' */
	refuse("name=%C1%BF", "name");		/* overlong */
	refuse("name=%E0%80%AF", "name");	/* overlong, 3 bytes */
	refuse("name=%F0%80%80%AF", "name");	/* overlong, 4 bytes */
	refuse("name=%ED%A0%80", "name");	/* surrogate U+D800 */
	refuse("name=%ED%BF%BF", "name");	/* surrogate U+DFFF */
	refuse("name=%F4%90%80%80", "name");	/* above U+10FFFF */
	refuse("name=%FF", "name");
	refuse("name=%FE", "name");
	refuse("name=%80", "name");		/* lone continuation */
	refuse("name=%E2%82", "name");		/* truncated */
	refuse("name=%C3", "name");		/* truncated */
	refuse("name=\xc3\x28", "name");	/* unescaped */
	refuse("name=\xff", "name");
	refuse("n%C3%28me=1", NULL);		/* in the name */
}
END_TEST

/* Builds "p0=1&p1=1&...": n parameters, a string to free. */
static char *many_params(size_t n)
{
	char *s = malloc(n * 16 + 1);
	size_t off = 0;

	ck_assert_ptr_nonnull(s);
	s[0] = '\0';
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(s + off, "%sp%zu=1", i > 0 ? "&" : "",
				       i);
	return s;
}

START_TEST(test_max_params)
{
	char *src = many_params(MCPAUTH_FORM_MAX_PARAMS);
	struct mcpauth_form *form = parse_ok(src);
	char last[32];

	ck_assert_uint_eq(form->count, MCPAUTH_FORM_MAX_PARAMS);
	snprintf(last, sizeof(last), "p%d", MCPAUTH_FORM_MAX_PARAMS - 1);
	ck_assert_str_eq(mcpauth_form_get(form, last), "1");
	mcpauth_form_free(form);
	free(src);
}
END_TEST

START_TEST(test_refuse_too_many_params)
{
	char *src = many_params(MCPAUTH_FORM_MAX_PARAMS + 1);

	refuse(src, NULL);
	free(src);
	src = many_params(MCPAUTH_FORM_MAX_PARAMS * 4);
	refuse(src, NULL);
	free(src);
}
END_TEST

/* Builds "v=" and n copies of unit, a string to free. */
static char *long_value(const char *unit, size_t n)
{
	size_t ulen = strlen(unit);
	char *s = malloc(2 + n * ulen + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, "v=", 2);
	for (size_t i = 0; i < n; i++)
		memcpy(s + 2 + i * ulen, unit, ulen);
	s[2 + n * ulen] = '\0';
	return s;
}

START_TEST(test_max_value)
{
	char *src = long_value("x", MCPAUTH_FORM_MAX_VALUE);
	struct mcpauth_form *form = parse_ok(src);

	ck_assert_uint_eq(strlen(mcpauth_form_get(form, "v")),
			  MCPAUTH_FORM_MAX_VALUE);
	mcpauth_form_free(form);
	free(src);
}
END_TEST

START_TEST(test_refuse_long_value)
{
	char *src = long_value("x", MCPAUTH_FORM_MAX_VALUE + 1);

	refuse(src, "v");
	free(src);
	src = long_value("%41", MCPAUTH_FORM_MAX_VALUE + 1);
	refuse(src, "v");
	free(src);
}
END_TEST

/*
 * The limit is on the value, that is after decoding: a value of 3000
 * characters sent as %41 escapes (9000 bytes on the wire) is fine.
 */
START_TEST(test_max_value_is_decoded_length)
{
	char *src = long_value("%41", 3000);
	struct mcpauth_form *form = parse_ok(src);

	ck_assert_uint_eq(strlen(mcpauth_form_get(form, "v")), 3000);
	mcpauth_form_free(form);
	free(src);
}
END_TEST

START_TEST(test_empty_segments)
{
	struct mcpauth_form *form = parse_ok("a=1&&b=2");

	ck_assert_uint_eq(form->count, 2);
	ck_assert_str_eq(mcpauth_form_get(form, "a"), "1");
	ck_assert_str_eq(mcpauth_form_get(form, "b"), "2");
	mcpauth_form_free(form);

	form = parse_ok("&&a=1&&&b=2&");
	ck_assert_uint_eq(form->count, 2);
	ck_assert_str_eq(mcpauth_form_get(form, "a"), "1");
	ck_assert_str_eq(mcpauth_form_get(form, "b"), "2");
	mcpauth_form_free(form);

	form = parse_ok("&&&");
	ck_assert_uint_eq(form->count, 0);
	mcpauth_form_free(form);
}
END_TEST

START_TEST(test_empty_input)
{
	struct mcpauth_form *form = parse_ok("");

	ck_assert_uint_eq(form->count, 0);
	ck_assert_ptr_null(mcpauth_form_get(form, "a"));
	ck_assert_ptr_null(mcpauth_form_get(form, ""));
	mcpauth_form_free(form);
}
END_TEST

START_TEST(test_len_respected)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_form *form = NULL;
	char *src;

	/* Only "a=1" is parsed. */
	ck_assert(mcpauth_form_parse("a=1&b=2", 3, &form, &err));
	ck_assert_uint_eq(form->count, 1);
	ck_assert_str_eq(mcpauth_form_get(form, "a"), "1");
	ck_assert_ptr_null(mcpauth_form_get(form, "b"));
	mcpauth_form_free(form);
	form = NULL;

	/* A cut inside a value shortens it. */
	ck_assert(mcpauth_form_parse("a=123&b=2", 4, &form, &err));
	ck_assert_str_eq(mcpauth_form_get(form, "a"), "12");
	mcpauth_form_free(form);
	form = NULL;

	/* len 0: nothing, whatever follows. */
	ck_assert(mcpauth_form_parse("a=1", 0, &form, &err));
	ck_assert_uint_eq(form->count, 0);
	mcpauth_form_free(form);
	form = NULL;

	/* Exactly 9 bytes and no NUL: valgrind/ASan catch an over-read. */
	src = malloc(9);
	ck_assert_ptr_nonnull(src);
	memcpy(src, "a=1&b=%41", 9);
	ck_assert(mcpauth_form_parse(src, 9, &form, &err));
	ck_assert_str_eq(mcpauth_form_get(form, "a"), "1");
	ck_assert_str_eq(mcpauth_form_get(form, "b"), "A");
	mcpauth_form_free(form);
	form = NULL;
	memcpy(src, "a=1&b=xy%", 9);
	refuse_len(src, 9, "b");
	free(src);
	ck_assert(!mcpauth_err_isset(&err));
}
END_TEST

START_TEST(test_free_null)
{
	mcpauth_form_free(NULL);
}
END_TEST

/* Names differing in case or spacing are different parameters. */
START_TEST(test_similar_names_not_repeated)
{
	struct mcpauth_form *form = parse_ok("a=1&A=2&a+=3&ab=4");

	ck_assert_uint_eq(form->count, 4);
	ck_assert_str_eq(mcpauth_form_get(form, "a"), "1");
	ck_assert_str_eq(mcpauth_form_get(form, "A"), "2");
	ck_assert_str_eq(mcpauth_form_get(form, "a "), "3");
	ck_assert_str_eq(mcpauth_form_get(form, "ab"), "4");
	mcpauth_form_free(form);
}
END_TEST

static const struct {
	const char *s;
	size_t len;
	bool valid;
} utf8_vectors[] = {
	{ "", 0, true },
	{ "plain ascii", 11, true },
	{ "\xc2\x80", 2, true },		/* U+0080 */
	{ "\xc3\xa9", 2, true },		/* U+00E9 */
	{ "\xdf\xbf", 2, true },		/* U+07FF */
	{ "\xe0\xa0\x80", 3, true },		/* U+0800 */
	{ "\xe2\x82\xac", 3, true },		/* U+20AC */
	{ "\xed\x9f\xbf", 3, true },		/* U+D7FF */
	{ "\xee\x80\x80", 3, true },		/* U+E000 */
	{ "\xef\xbf\xbf", 3, true },		/* U+FFFF */
	{ "\xf0\x90\x80\x80", 4, true },	/* U+10000 */
	{ "\xf0\x9f\x98\x80", 4, true },	/* U+1F600 */
	{ "\xf4\x8f\xbf\xbf", 4, true },	/* U+10FFFF */
	{ "a\xc3\xa9z\xe2\x82\xac", 7, true },
	{ "\xc3\x28", 2, false },		/* bad continuation */
	{ "\xc0\xaf", 2, false },		/* overlong '/' */
	{ "\xc0\x80", 2, false },		/* overlong NUL */
	{ "\xc1\xbf", 2, false },		/* overlong */
	{ "\xe0\x80\xaf", 3, false },		/* overlong */
	{ "\xe0\x9f\xbf", 3, false },		/* overlong U+07FF */
	{ "\xf0\x80\x80\xaf", 4, false },	/* overlong */
	{ "\xf0\x8f\xbf\xbf", 4, false },	/* overlong U+FFFF */
	{ "\xed\xa0\x80", 3, false },		/* U+D800 */
	{ "\xed\xaf\xbf", 3, false },		/* U+DBFF */
	{ "\xed\xb0\x80", 3, false },		/* U+DC00 */
	{ "\xed\xbf\xbf", 3, false },		/* U+DFFF */
	{ "\xf4\x90\x80\x80", 4, false },	/* U+110000 */
	{ "\xf5\x80\x80\x80", 4, false },
	{ "\xf8\x88\x80\x80\x80", 5, false },	/* 5-byte form */
	{ "\xfe", 1, false },
	{ "\xff", 1, false },
	{ "\x80", 1, false },			/* lone continuation */
	{ "\xbf", 1, false },
	{ "a\x80z", 3, false },
	{ "\xc3", 1, false },			/* truncated */
	{ "\xe2\x82", 2, false },
	{ "\xf0\x9f\x98", 3, false },
	{ "\xe2\x28\xac", 3, false },
	{ "\xf0\x9f\x28\x80", 4, false },
	/* len cuts a valid sequence short. */
	{ "\xc3\xa9", 1, false },
	{ "\xe2\x82\xac", 2, false },
	/* len stops before an invalid byte. */
	{ "ab\xff", 2, true },
};

START_TEST(test_utf8_valid)
{
	ck_assert_msg(mcpauth_utf8_valid(utf8_vectors[_i].s,
					 utf8_vectors[_i].len) ==
			      utf8_vectors[_i].valid,
		      "vector %d should be %s", _i,
		      utf8_vectors[_i].valid ? "valid" : "invalid");
}
END_TEST

/* One component outside a form (HTTP Basic credentials, RFC 6749 §2.3.1). */
START_TEST(test_decode_component)
{
	size_t n = 0;
	char *s = mcpauth_form_decode("a%3Ab+c%25", 10, &n);

	ck_assert_str_eq(s, "a:b c%");
	ck_assert_uint_eq(n, 6);
	free(s);
	ck_assert_ptr_null(mcpauth_form_decode("a%3", 3, &n));
	ck_assert_ptr_null(mcpauth_form_decode("a%00b", 5, &n));
	ck_assert_ptr_null(mcpauth_form_decode("%ff", 3, &n));
}
END_TEST

Suite *check_form_suite(void)
{
	Suite *s = suite_create("form");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_simple);
	tcase_add_test(tc, test_parse_value_with_equals);
	tcase_add_test(tc, test_parse_plus_is_space);
	tcase_add_test(tc, test_parse_percent);
	tcase_add_test(tc, test_parse_utf8);
	tcase_add_test(tc, test_empty_value_is_omitted);
	tcase_add_test(tc, test_empty_segments);
	tcase_add_test(tc, test_empty_input);
	tcase_add_test(tc, test_len_respected);
	tcase_add_test(tc, test_free_null);
	tcase_add_test(tc, test_similar_names_not_repeated);
	suite_add_tcase(s, tc);

	tc = tcase_create("refuse");
	tcase_add_test(tc, test_refuse_repeated);
	tcase_add_test(tc, test_refuse_repeated_empty);
	tcase_add_test(tc, test_refuse_bad_percent);
	tcase_add_test(tc, test_refuse_escape_cut_by_len);
	tcase_add_test(tc, test_refuse_control);
	tcase_add_test(tc, test_refuse_invalid_utf8);
	tcase_add_test(tc, test_decode_component);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_max_params);
	tcase_add_test(tc, test_refuse_too_many_params);
	tcase_add_test(tc, test_max_value);
	tcase_add_test(tc, test_refuse_long_value);
	tcase_add_test(tc, test_max_value_is_decoded_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, test_utf8_valid, 0,
			    (int)(sizeof(utf8_vectors) /
				  sizeof(utf8_vectors[0])));
	suite_add_tcase(s, tc);

	return s;
}

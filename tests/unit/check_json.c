/* check_json.c: unit tests for strict JSON parsing and the helpers (json.c). */
#include <stdlib.h>
#include <string.h>

#include "check_mcpauth.h"
#include "json.h"

/* Parses len bytes that must be accepted; a new reference. */
static struct json_object *parse_len(const char *src, size_t len)
{
	struct mcpauth_err err = { 0 };
	struct json_object *obj = NULL;

	ck_assert_msg(mcpauth_json_parse(src, len, "invalid_request", &obj,
					 &err),
		      "'%.*s' refused: %d %s %s", (int)len, src, err.status,
		      err.code != NULL ? err.code : "(null)", err.description);
	ck_assert_ptr_nonnull(obj);
	ck_assert(!mcpauth_err_isset(&err));
	return obj;
}

static struct json_object *parse(const char *src)
{
	return parse_len(src, strlen(src));
}

/* Expects len bytes refused with 400 and code, leaving *out alone. */
static void refuse_len(const char *src, size_t len, const char *code)
{
	static int marker;
	struct json_object *const mark = (struct json_object *)(void *)&marker;
	struct mcpauth_err err = { 0 };
	struct json_object *obj = mark;

	ck_assert_msg(!mcpauth_json_parse(src, len, code, &obj, &err),
		      "'%.*s' accepted", (int)len, src);
	ck_assert_ptr_eq(obj, mark);
	ck_assert(mcpauth_err_isset(&err));
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, code);
	ck_assert_msg(err.description[0] != '\0', "empty description");
}

static void refuse(const char *src)
{
	refuse_len(src, strlen(src), "invalid_request");
}

/* n '[' then leaf then n ']': n nested arrays; a string to free. */
static char *nest_arrays(size_t n, const char *leaf)
{
	size_t llen = strlen(leaf);
	char *s = malloc(2 * n + llen + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, '[', n);
	memcpy(s + n, leaf, llen);
	memset(s + n + llen, ']', n);
	s[2 * n + llen] = '\0';
	return s;
}

/* n times {"a": then leaf then n '}': n nested objects; a string to free. */
static char *nest_objects(size_t n, const char *leaf)
{
	size_t llen = strlen(leaf);
	char *s = malloc(6 * n + llen + 1);
	size_t off = 0;

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++, off += 5)
		memcpy(s + off, "{\"a\":", 5);
	memcpy(s + off, leaf, llen);
	off += llen;
	memset(s + off, '}', n);
	s[off + n] = '\0';
	return s;
}

START_TEST(test_parse_object)
{
	struct json_object *obj =
		parse("{\"client_name\":\"My App\",\"redirect_uris\":"
		      "[\"https://app.example/cb\"],\"n\":42,\"ok\":true,"
		      "\"o\":{\"x\":null},\"e\":\"\\u00e9\\n\"}");
	struct json_object *v = NULL;

	ck_assert(json_object_is_type(obj, json_type_object));
	ck_assert_int_eq(json_object_object_length(obj), 6);
	ck_assert_str_eq(mcpauth_json_get_str(obj, "client_name"), "My App");
	ck_assert(json_object_object_get_ex(obj, "redirect_uris", &v));
	ck_assert(json_object_is_type(v, json_type_array));
	ck_assert_uint_eq(json_object_array_length(v), 1);
	ck_assert_str_eq(json_object_get_string(
				 json_object_array_get_idx(v, 0)),
			 "https://app.example/cb");
	ck_assert(json_object_object_get_ex(obj, "n", &v));
	ck_assert_int_eq(json_object_get_int(v), 42);
	ck_assert(json_object_object_get_ex(obj, "ok", &v));
	ck_assert(json_object_get_boolean(v));
	ck_assert_str_eq(mcpauth_json_get_str(obj, "e"), "\xc3\xa9\n");
	json_object_put(obj);
}
END_TEST

/* RFC 8259 §2: any value is a JSON text, not only objects and arrays. */
START_TEST(test_parse_scalars)
{
	struct json_object *v;

	v = parse("\"s\"");
	ck_assert(json_object_is_type(v, json_type_string));
	json_object_put(v);
	v = parse("[]");
	ck_assert(json_object_is_type(v, json_type_array));
	json_object_put(v);
	v = parse("true");
	ck_assert(json_object_is_type(v, json_type_boolean));
	json_object_put(v);
	v = parse("12");
	ck_assert(json_object_is_type(v, json_type_int));
	ck_assert_int_eq(json_object_get_int(v), 12);
	json_object_put(v);
}
END_TEST

/* RFC 8259 §3 and §6: every literal and number form is accepted. */
START_TEST(test_parse_literals_numbers)
{
	struct json_object *obj =
		parse("{\"t\":true,\"f\":false,\"n\":null,\"z\":0,\"neg\":-12,"
		      "\"fr\":-0.5,\"e1\":1e5,\"e2\":1E+5,\"e3\":2.5e-3,"
		      "\"e4\":-0E0,\"arr\":[true,false,null,1e1]}");

	ck_assert_int_eq(json_object_object_length(obj), 11);
	json_object_put(obj);

	refuse("{\"a\":truex}");
	refuse("{\"a\":nul}");
	refuse("{\"a\":True}");
	refuse("{\"a\":1ee5}");
	refuse("{\"a\":e5}");
	refuse("{\"a\":-}");
	refuse("{\"a\":+1}");
}
END_TEST

/*
 * RFC 8259 §6: no leading zeros, and a fraction needs digits on both sides
 * of the point (json-c 0.16's strict mode accepts all of these).
 */
START_TEST(test_refuse_escaped_nul)
{
	struct json_object *o;

	/* A NUL would cut the string: "https://a\u0000.evil" reads as https://a. */
	refuse("{\"a\":\"https://a\\u0000.evil\"}");
	refuse("{\"a\\u0000\":1}");
	/* An escaped backslash followed by u0000 is ordinary text. */
	o = parse("{\"a\":\"x\\\\u0000\"}");
	ck_assert_str_eq(mcpauth_json_get_str(o, "a"), "x\\u0000");
	json_object_put(o);
}
END_TEST

START_TEST(test_refuse_bad_numbers)
{
	refuse("{\"a\":1.}");
	refuse("{\"a\":-.5}");
	refuse("{\"a\":1.e5}");
	refuse("{\"a\":00}");
	refuse("{\"a\":-01}");
	refuse("[1.]");
}
END_TEST

/* RFC 8259 §2: whitespace is allowed around the value. */
START_TEST(test_parse_whitespace)
{
	struct json_object *obj = parse(" \t\r\n{ \"a\" : [ 1 , 2 ] }\r\n ");

	ck_assert(json_object_is_type(obj, json_type_object));
	json_object_put(obj);
}
END_TEST

START_TEST(test_parse_len_respected)
{
	struct json_object *obj = parse_len("{\"a\":1}garbage", 7);
	char *src;

	ck_assert_int_eq(json_object_object_length(obj), 1);
	json_object_put(obj);

	/* Exactly 9 bytes, no NUL: valgrind/ASan catch an over-read. */
	src = malloc(9);
	ck_assert_ptr_nonnull(src);
	memcpy(src, "{\"a\":\"b\"}", 9);
	obj = parse_len(src, 9);
	ck_assert_str_eq(mcpauth_json_get_str(obj, "a"), "b");
	json_object_put(obj);

	/* Cut short by len: incomplete. */
	refuse_len(src, 8, "invalid_request");
	free(src);
}
END_TEST

START_TEST(test_refuse_trailing)
{
	refuse("{} x");
	refuse("{}{}");
	refuse("{\"a\":1}{\"a\":1}");
	refuse("{}]");
	refuse("{\"a\":1}}");
	refuse("{},");
	refuse("{} 1");
	refuse("{} //");
	refuse_len("{}\0", 3, "invalid_request");
	refuse_len("{}\0{}", 5, "invalid_request");
}
END_TEST

START_TEST(test_refuse_invalid)
{
	refuse("");
	refuse(" ");
	refuse("{");
	refuse("}");
	refuse("{\"a\"}");
	refuse("{\"a\":}");
	refuse("{\"a\":1,}");
	refuse("{,\"a\":1}");
	refuse("[1,]");
	refuse("{a:1}");
	refuse("{\"a\":01}");
	refuse("{\"a\":.5}");
	refuse("{\"a\":undefined}");
	refuse("{\"a\":\"\\x41\"}");
	refuse("{\"a\":\"abc");
	refuse("{\"a\":tru}");
	refuse("/*c*/{}");
	refuse("{\"a\":1/*c*/}");
}
END_TEST

/* RFC 8259 §6: NaN and Infinity are not JSON numbers. */
START_TEST(test_refuse_nonfinite)
{
	refuse("{\"a\":NaN}");
	refuse("{\"a\":Infinity}");
	refuse("{\"a\":-Infinity}");
	refuse("[NaN]");
}
END_TEST

/* RFC 8259 §7: strings are delimited by quotation marks only. */
START_TEST(test_refuse_single_quotes)
{
	refuse("{'a':1}");
	refuse("{\"a\":'b'}");
}
END_TEST

/* RFC 8259 §7: control characters U+0000..U+001F must be escaped. */
START_TEST(test_refuse_raw_control)
{
	refuse("{\"a\":\"x\x01y\"}");
	refuse("{\"a\":\"x\ny\"}");
	refuse("{\"a\":\"x\ty\"}");
	refuse("{\"a\x1f\":1}");
	refuse_len("{\"a\":\"x\0y\"}", 11, "invalid_request");
}
END_TEST

START_TEST(test_refuse_invalid_utf8)
{
	refuse("{\"a\":\"\xc3\x28\"}");
	refuse("{\"\xc3\x28\":1}");
	refuse("{\"a\":\"\xff\"}");
	refuse("{\"a\":\"\x80\"}");
	refuse("{\"a\":\"\xe2\x82\"}");
	refuse("{\"a\":[\"ok\",\"\xfe\"]}");
}
END_TEST

/* Overlongs and surrogates are invalid UTF-8 too (RFC 3629 §3). */
START_TEST(test_refuse_overlong_surrogate)
{
	refuse("{\"a\":\"\xc0\xaf\"}");
	refuse("{\"a\":\"\xe0\x80\xaf\"}");
	refuse("{\"a\":\"\xed\xa0\x80\"}");
	refuse("{\"a\":\"\xf4\x90\x80\x80\"}");
	refuse("{\"\xc0\xaf\":1}");
}
END_TEST

START_TEST(test_parse_utf8)
{
	struct json_object *obj =
		parse("{\"\xc3\xa9\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}");

	ck_assert_str_eq(mcpauth_json_get_str(obj, "\xc3\xa9"),
			 "\xe2\x82\xac \xf0\x9f\x98\x80");
	json_object_put(obj);
}
END_TEST

/* Depth is the number of nested arrays and objects: "{}" is 1. */
START_TEST(test_depth_max_accepted)
{
	char *inner;
	char *src;

	src = nest_arrays(MCPAUTH_JSON_MAX_DEPTH, "");
	json_object_put(parse(src));
	free(src);

	src = nest_objects(MCPAUTH_JSON_MAX_DEPTH - 1, "{}");
	json_object_put(parse(src));
	free(src);

	/* Mixed: objects around arrays. */
	inner = nest_arrays(MCPAUTH_JSON_MAX_DEPTH / 2, "");
	src = nest_objects(MCPAUTH_JSON_MAX_DEPTH / 2, inner);
	json_object_put(parse(src));
	free(src);
	free(inner);
}
END_TEST

/*
 * A scalar inside the innermost container adds no nesting: 16 arrays around
 * a number are 16 levels. (json-c's own depth counter counts the scalar as
 * a level, so json_tokener_new_ex(16) alone refuses these.)
 */
START_TEST(test_depth_max_scalar_leaf)
{
	char *src;

	src = nest_arrays(MCPAUTH_JSON_MAX_DEPTH, "1");
	json_object_put(parse(src));
	free(src);

	src = nest_objects(MCPAUTH_JSON_MAX_DEPTH, "\"x\"");
	json_object_put(parse(src));
	free(src);
}
END_TEST

START_TEST(test_depth_over)
{
	char *src;

	src = nest_arrays(MCPAUTH_JSON_MAX_DEPTH + 1, "");
	refuse_len(src, strlen(src), "invalid_client_metadata");
	free(src);

	src = nest_arrays(MCPAUTH_JSON_MAX_DEPTH + 1, "1");
	refuse(src);
	free(src);

	src = nest_objects(MCPAUTH_JSON_MAX_DEPTH, "{}");
	refuse(src);
	free(src);

	src = nest_objects(MCPAUTH_JSON_MAX_DEPTH + 1, "1");
	refuse(src);
	free(src);

	/* Far too deep: refused, not a stack overflow. */
	src = nest_arrays(100000, "");
	refuse(src);
	free(src);
}
END_TEST

START_TEST(test_refuse_duplicate)
{
	refuse("{\"a\":1,\"a\":2}");
	refuse("{\"a\":1,\"a\":1}");
	refuse("{\"a\":1,\"a\":\"1\"}");
	refuse("{\"a\":1,\"b\":2,\"a\":3}");
	refuse("{\"a\":{},\"a\":{}}");
	refuse("{\"a\":null,\"a\":null}");
	refuse("{\"\":1,\"\":2}");
	/* Nested. */
	refuse("{\"o\":{\"a\":1,\"a\":2}}");
	refuse("{\"x\":[{\"a\":1,\"a\":2}]}");
	refuse("{\"x\":[1,{\"y\":{\"b\":1,\"c\":2,\"b\":3}}]}");
	refuse("[{\"a\":1,\"a\":1}]");
	/* The inner duplicate is found even when the outer keys differ. */
	refuse("{\"a\":{\"k\":1},\"b\":{\"k\":1,\"k\":2}}");
}
END_TEST

/* A key is compared after unescaping: "\u0061" is "a". */
START_TEST(test_refuse_duplicate_escaped)
{
	refuse("{\"a\":1,\"\\u0061\":2}");
	refuse("{\"a/b\":1,\"a\\/b\":2}");
	refuse("{\"\xc3\xa9\":1,\"\\u00e9\":2}");
}
END_TEST

START_TEST(test_error_code_passed)
{
	struct mcpauth_err err = { 0 };
	struct json_object *obj = NULL;

	ck_assert(!mcpauth_json_parse("{\"a\":1,\"a\":2}",
				      strlen("{\"a\":1,\"a\":2}"),
				      "invalid_client_metadata", &obj, &err));
	ck_assert_ptr_null(obj);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_client_metadata");

	mcpauth_err_clear(&err);
	ck_assert(!mcpauth_json_parse("{", 1, "invalid_client_metadata", &obj,
				      &err));
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_client_metadata");

	mcpauth_err_clear(&err);
	ck_assert(!mcpauth_json_parse("{\"a\":\"\xff\"}",
				      strlen("{\"a\":\"\xff\"}"),
				      "invalid_client_metadata", &obj, &err));
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_client_metadata");

	mcpauth_err_clear(&err);
	ck_assert(!mcpauth_json_parse("{} x", 4, "invalid_request", &obj,
				      &err));
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_request");
	ck_assert_ptr_null(obj);
}
END_TEST

START_TEST(test_similar_keys_not_duplicate)
{
	struct json_object *obj = parse("{\"a\":1,\"a \":2,\"A\":3,\"ab\":4,"
					"\" a\":5,\"a\\\"\":6,\"a\\\\\":7}");

	ck_assert_int_eq(json_object_object_length(obj), 7);
	json_object_put(obj);
}
END_TEST

START_TEST(test_same_key_other_objects)
{
	struct json_object *obj =
		parse("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}],"
		      "\"c\":{\"a\":1,\"b\":{\"a\":2}}}");

	ck_assert_int_eq(json_object_object_length(obj), 3);
	json_object_put(obj);
}
END_TEST

/* Keys and braces inside string values are not keys. */
START_TEST(test_strings_do_not_confuse)
{
	struct json_object *obj = parse("{\"a\":\"}{\\\"a\\\":1\",\"b\":1}");

	ck_assert_int_eq(json_object_object_length(obj), 2);
	ck_assert_str_eq(mcpauth_json_get_str(obj, "a"), "}{\"a\":1");
	json_object_put(obj);

	obj = parse("{\"k\":\"\\\"a\\\":1,\\\"k\\\":2\",\"a\":\"k\"}");
	ck_assert_str_eq(mcpauth_json_get_str(obj, "k"), "\"a\":1,\"k\":2");
	ck_assert_str_eq(mcpauth_json_get_str(obj, "a"), "k");
	json_object_put(obj);

	obj = parse("{\"x\":[\"a\",\"a\"],\"y\":\"\\\\\",\"a\":\"a\"}");
	ck_assert_int_eq(json_object_object_length(obj), 3);
	json_object_put(obj);
}
END_TEST

START_TEST(test_dump_no_slash_escape)
{
	struct json_object *obj = json_object_new_object();
	char *s;

	ck_assert_ptr_nonnull(obj);
	json_object_object_add(obj, "u", json_object_new_string("https://x/y"));
	s = mcpauth_json_dump(obj);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "{\"u\":\"https://x/y\"}");
	free(s);
	json_object_put(obj);

	/* An escaped slash in the input is written plainly. */
	obj = parse("{\"u\":\"https:\\/\\/x\\/y\"}");
	s = mcpauth_json_dump(obj);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "{\"u\":\"https://x/y\"}");
	free(s);
	json_object_put(obj);
}
END_TEST

START_TEST(test_dump_escapes)
{
	struct json_object *obj = json_object_new_object();
	char *s;

	ck_assert_ptr_nonnull(obj);
	mcpauth_json_add_str(obj, "s", "a\"b\\c\nd");
	s = mcpauth_json_dump(obj);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "{\"s\":\"a\\\"b\\\\c\\nd\"}");
	free(s);
	json_object_put(obj);
}
END_TEST

START_TEST(test_add_str_strs)
{
	static const char *const grants[] = { "authorization_code",
					      "refresh_token" };
	struct json_object *obj = json_object_new_object();
	struct json_object *v = NULL;
	char *s;

	ck_assert_ptr_nonnull(obj);
	mcpauth_json_add_str(obj, "issuer", "https://as.example/");
	mcpauth_json_add_str(obj, "absent", NULL);
	mcpauth_json_add_strs(obj, "grant_types_supported", grants, 2);
	mcpauth_json_add_strs(obj, "none", NULL, 0);

	ck_assert(!json_object_object_get_ex(obj, "absent", NULL));
	ck_assert(json_object_object_get_ex(obj, "grant_types_supported", &v));
	ck_assert(json_object_is_type(v, json_type_array));
	ck_assert_uint_eq(json_object_array_length(v), 2);
	ck_assert(json_object_object_get_ex(obj, "none", &v));
	ck_assert(json_object_is_type(v, json_type_array));
	ck_assert_uint_eq(json_object_array_length(v), 0);

	s = mcpauth_json_dump(obj);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "{\"issuer\":\"https://as.example/\","
			    "\"grant_types_supported\":"
			    "[\"authorization_code\",\"refresh_token\"],"
			    "\"none\":[]}");
	free(s);
	json_object_put(obj);
}
END_TEST

START_TEST(test_get_str)
{
	struct json_object *obj =
		parse("{\"s\":\"v\",\"e\":\"\",\"n\":1,\"z\":null,\"b\":true,"
		      "\"a\":[\"x\"],\"o\":{\"s\":\"inner\"}}");

	ck_assert_str_eq(mcpauth_json_get_str(obj, "s"), "v");
	ck_assert_str_eq(mcpauth_json_get_str(obj, "e"), "");
	ck_assert_ptr_null(mcpauth_json_get_str(obj, "n"));
	ck_assert_ptr_null(mcpauth_json_get_str(obj, "z"));
	ck_assert_ptr_null(mcpauth_json_get_str(obj, "b"));
	ck_assert_ptr_null(mcpauth_json_get_str(obj, "a"));
	ck_assert_ptr_null(mcpauth_json_get_str(obj, "o"));
	ck_assert_ptr_null(mcpauth_json_get_str(obj, "missing"));
	ck_assert_ptr_null(mcpauth_json_get_str(obj, "S"));
	json_object_put(obj);
}
END_TEST

Suite *check_json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_object);
	tcase_add_test(tc, test_parse_scalars);
	tcase_add_test(tc, test_parse_literals_numbers);
	tcase_add_test(tc, test_parse_whitespace);
	tcase_add_test(tc, test_parse_len_respected);
	tcase_add_test(tc, test_parse_utf8);
	tcase_add_test(tc, test_refuse_trailing);
	tcase_add_test(tc, test_refuse_invalid);
	tcase_add_test(tc, test_refuse_nonfinite);
	tcase_add_test(tc, test_refuse_bad_numbers);
	tcase_add_test(tc, test_refuse_escaped_nul);
	tcase_add_test(tc, test_refuse_single_quotes);
	tcase_add_test(tc, test_refuse_raw_control);
	tcase_add_test(tc, test_refuse_invalid_utf8);
	tcase_add_test(tc, test_refuse_overlong_surrogate);
	tcase_add_test(tc, test_error_code_passed);
	suite_add_tcase(s, tc);

	tc = tcase_create("depth");
	tcase_add_test(tc, test_depth_max_accepted);
	tcase_add_test(tc, test_depth_max_scalar_leaf);
	tcase_add_test(tc, test_depth_over);
	suite_add_tcase(s, tc);

	tc = tcase_create("duplicates");
	tcase_add_test(tc, test_refuse_duplicate);
	tcase_add_test(tc, test_refuse_duplicate_escaped);
	tcase_add_test(tc, test_similar_keys_not_duplicate);
	tcase_add_test(tc, test_same_key_other_objects);
	tcase_add_test(tc, test_strings_do_not_confuse);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, test_dump_no_slash_escape);
	tcase_add_test(tc, test_dump_escapes);
	tcase_add_test(tc, test_add_str_strs);
	tcase_add_test(tc, test_get_str);
	suite_add_tcase(s, tc);

	return s;
}

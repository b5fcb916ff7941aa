/* check_log.c: unit tests for log line escaping and output (log.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_mcpauth.h"
#include "err.h"
#include "log.h"

/* The name the runner gives mcpauth_log_init; restored after each test. */
#define RUNNER_PROGRAM "check"

/* Exactly one line: one newline, at the end. */
static void assert_one_line(const char *text)
{
	size_t len = strlen(text);

	ck_assert_msg(len > 0, "nothing logged");
	ck_assert_msg(text[len - 1] == '\n', "no final newline: \"%s\"", text);
	ck_assert_msg(strchr(text, '\n') == text + len - 1,
		      "more than one line: \"%s\"", text);
	ck_assert_msg(strchr(text, '\r') == NULL, "CR in \"%s\"", text);
}

static void assert_contains(const char *text, const char *part)
{
	ck_assert_msg(strstr(text, part) != NULL, "\"%s\" not in \"%s\"", part,
		      text);
}

static void assert_escape(const char *src, const char *want)
{
	char dst[256];

	memset(dst, 'Z', sizeof(dst));
	mcpauth_log_escape(dst, sizeof(dst), src);
	ck_assert_str_eq(dst, want);
}

/* \xNN with either case of hex digit. */
static void assert_escape_hex(const char *src, const char *lower,
			      const char *upper)
{
	char dst[256];

	mcpauth_log_escape(dst, sizeof(dst), src);
	ck_assert_msg(strcmp(dst, lower) == 0 || strcmp(dst, upper) == 0,
		      "escape gave \"%s\", want \"%s\"", dst, lower);
}

START_TEST(test_escape_plain)
{
	assert_escape("", "");
	assert_escape("plain text, key=value 123", "plain text, key=value 123");
}
END_TEST

START_TEST(test_escape_controls)
{
	assert_escape("a\nb", "a\\nb");
	assert_escape("a\rb", "a\\rb");
	assert_escape("a\tb", "a\\tb");
	assert_escape("\r\n", "\\r\\n");
	assert_escape_hex("a\x01" "b", "a\\x01b", "a\\x01b");
	assert_escape_hex("\x1b[31m", "\\x1b[31m", "\\x1B[31m");
	assert_escape_hex("\x1f", "\\x1f", "\\x1F");
	assert_escape_hex("\x7f", "\\x7f", "\\x7F");
	assert_escape_hex("\x0b\x0c", "\\x0b\\x0c", "\\x0B\\x0C");
}
END_TEST

START_TEST(test_escape_backslash)
{
	/* Otherwise "\\n" in a value would read as an escaped newline. */
	assert_escape("a\\b", "a\\\\b");
	assert_escape("\\n", "\\\\n");
	assert_escape("\\", "\\\\");
}
END_TEST

START_TEST(test_escape_keeps_utf8)
{
	assert_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}
END_TEST

#define HEXDIGITS "0123456789abcdefABCDEF"

/* Checks that every backslash in s starts a complete escape. */
static void assert_escapes_complete(const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'n' || *p == 'r' || *p == 't' || *p == '\\')
			continue;
		ck_assert_msg(*p == 'x' && p[1] != '\0' && p[2] != '\0' &&
				      strchr(HEXDIGITS, p[1]) != NULL &&
				      strchr(HEXDIGITS, p[2]) != NULL,
			      "incomplete escape in \"%s\"", s);
		p += 2;
	}
}

/* Truncated output: NUL-terminated within dstsz, a prefix, then "...". */
static void assert_truncated(const char *src, size_t dstsz)
{
	char buf[512];
	char want[1024];
	size_t len;

	ck_assert_uint_lt(dstsz, sizeof(buf));
	memset(buf, 'Z', sizeof(buf));
	mcpauth_log_escape(buf, dstsz, src);
	for (size_t i = dstsz; i < sizeof(buf); i++)
		ck_assert_msg(buf[i] == 'Z', "wrote past dstsz %zu at %zu",
			      dstsz, i);
	ck_assert_msg(memchr(buf, '\0', dstsz) != NULL,
		      "not NUL-terminated within %zu bytes", dstsz);
	len = strlen(buf);
	ck_assert_uint_lt(len, dstsz);
	ck_assert_msg(len >= 3 && strcmp(buf + len - 3, "...") == 0,
		      "\"%s\" does not end with ...", buf);
	/* What comes before "..." starts the full escaped text. */
	mcpauth_log_escape(want, sizeof(want), src);
	ck_assert_msg(strncmp(buf, want, len - 3) == 0,
		      "\"%s\" is not a prefix of \"%s\"", buf, want);
	buf[len - 3] = '\0';
	assert_escapes_complete(buf);
}

START_TEST(test_escape_truncates)
{
	char buf[16];

	assert_truncated("abcdefghijklmnopqrstuvwxyz", 8);
	assert_truncated("abcdefghijklmnopqrstuvwxyz", 26);
	assert_truncated("\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", 16);
	assert_truncated("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01", 16);

	/* Fits exactly: not truncated. */
	memset(buf, 'Z', sizeof(buf));
	mcpauth_log_escape(buf, 4, "abc");
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(buf[4], 'Z');
	mcpauth_log_escape(buf, 5, "a\nb");
	ck_assert_str_eq(buf, "a\\nb");
}
END_TEST

/* An escape that does not fit is dropped whole, never cut in half. */
START_TEST(test_escape_truncates_whole_escapes)
{
	char backslashes[17];

	memset(backslashes, '\\', 16);
	backslashes[16] = '\0';
	for (size_t sz = 5; sz < 20; sz++) {
		assert_truncated("ab\ncdefghijklmnopqrstuvwxyz", sz);
		assert_truncated("a\x01\x02\x03\x04\x05\x06\x07\x08\x0e",
				 sz);
		assert_truncated(backslashes, sz);
	}
}
END_TEST

START_TEST(test_escape_tiny_buffers)
{
	char buf[8];

	memset(buf, 'Z', sizeof(buf));
	mcpauth_log_escape(buf, 1, "abc");
	ck_assert_int_eq(buf[0], '\0');
	ck_assert_int_eq(buf[1], 'Z');

	/* dstsz 0: nothing at all is written. */
	memset(buf, 'Z', sizeof(buf));
	mcpauth_log_escape(buf, 0, "abc");
	ck_assert_int_eq(buf[0], 'Z');

	for (size_t sz = 2; sz <= 4; sz++) {
		memset(buf, 'Z', sizeof(buf));
		mcpauth_log_escape(buf, sz, "abcdefgh");
		ck_assert_ptr_nonnull(memchr(buf, '\0', sz));
		for (size_t i = sz; i < sizeof(buf); i++)
			ck_assert_int_eq(buf[i], 'Z');
	}
}
END_TEST

START_TEST(test_log_one_line)
{
	struct check_capture c;
	char pid[32];
	char *text;

	mcpauth_log_init("check-log");
	mcpauth_log_set_request(NULL);
	check_capture_begin(&c);
	mcpauth_log(MCPAUTH_LOG_ERROR, "event=%s value=%d", "a\nb\r\\c\x01", 7);
	text = check_capture_end(&c);
	mcpauth_log_init(RUNNER_PROGRAM);

	assert_one_line(text);
	ck_assert_msg(strncmp(text, "mcpauth ", 8) == 0, "\"%s\"", text);
	assert_contains(text, " program=check-log ");
	snprintf(pid, sizeof(pid), " pid=%ld ", (long)getpid());
	assert_contains(text, pid);
	assert_contains(text, " level=");
	assert_contains(text, "event=a\\nb\\r\\\\c\\x01 value=7\n");
	ck_assert_ptr_null(strstr(text, " req="));
	free(text);
}
END_TEST

START_TEST(test_log_request_id)
{
	struct check_capture c;
	char id[17] = "0123456789abcdef";
	char *text;

	mcpauth_log_set_request(id);
	/* The id is copied. */
	memset(id, 'X', 16);
	check_capture_begin(&c);
	mcpauth_log(MCPAUTH_LOG_ERROR, "with id");
	text = check_capture_end(&c);
	assert_one_line(text);
	assert_contains(text, " req=0123456789abcdef ");
	assert_contains(text, "with id\n");
	free(text);

	mcpauth_log_set_request(NULL);
	check_capture_begin(&c);
	mcpauth_log(MCPAUTH_LOG_ERROR, "without id");
	text = check_capture_end(&c);
	assert_one_line(text);
	ck_assert_ptr_null(strstr(text, "req="));
	assert_contains(text, "without id\n");
	free(text);
}
END_TEST

START_TEST(test_log_level)
{
	struct check_capture c;
	char *text;

	mcpauth_log_set_level(MCPAUTH_LOG_WARN);
	check_capture_begin(&c);
	mcpauth_log(MCPAUTH_LOG_DEBUG, "debug line");
	mcpauth_log(MCPAUTH_LOG_INFO, "info line");
	mcpauth_log(MCPAUTH_LOG_WARN, "warn line");
	mcpauth_log(MCPAUTH_LOG_ERROR, "error line");
	text = check_capture_end(&c);
	mcpauth_log_set_level(MCPAUTH_LOG_INFO);

	ck_assert_ptr_null(strstr(text, "debug line"));
	ck_assert_ptr_null(strstr(text, "info line"));
	assert_contains(text, "warn line\n");
	assert_contains(text, "error line\n");
	/* Two lines, two levels. */
	ck_assert_ptr_nonnull(strchr(text, '\n'));
	ck_assert_ptr_eq(strchr(strchr(text, '\n') + 1, '\n'),
			 text + strlen(text) - 1);
	free(text);

	mcpauth_log_set_level(MCPAUTH_LOG_DEBUG);
	check_capture_begin(&c);
	mcpauth_log(MCPAUTH_LOG_DEBUG, "debug line");
	text = check_capture_end(&c);
	mcpauth_log_set_level(MCPAUTH_LOG_INFO);
	assert_one_line(text);
	assert_contains(text, "debug line\n");
	free(text);
}
END_TEST

START_TEST(test_log_long_message)
{
	char big[5000];
	struct check_capture c;
	char *text;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[100] = '\n';
	check_capture_begin(&c);
	mcpauth_log(MCPAUTH_LOG_ERROR, "big=%s", big);
	text = check_capture_end(&c);
	/* Long or truncated, still one line. */
	assert_one_line(text);
	assert_contains(text, "big=xxxx");
	free(text);
}
END_TEST

START_TEST(test_log_err)
{
	struct mcpauth_err err = { 0 };
	struct check_capture c;
	char *text;

	MCPAUTH_ERR(&err, 400, "invalid_request", "bad\nvalue");
	mcpauth_err_detail(&err, "detail\r\nhere");
	check_capture_begin(&c);
	mcpauth_log_err(&err);
	text = check_capture_end(&c);

	assert_one_line(text);
	assert_contains(text, "invalid_request");
	assert_contains(text, "400");
	assert_contains(text, "bad\\nvalue");
	assert_contains(text, "detail\\r\\nhere");
	assert_contains(text, "check_log.c");
	free(text);
}
END_TEST

Suite *check_log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc;

	tc = tcase_create("escape");
	tcase_add_test(tc, test_escape_plain);
	tcase_add_test(tc, test_escape_controls);
	tcase_add_test(tc, test_escape_backslash);
	tcase_add_test(tc, test_escape_keeps_utf8);
	tcase_add_test(tc, test_escape_truncates);
	tcase_add_test(tc, test_escape_truncates_whole_escapes);
	tcase_add_test(tc, test_escape_tiny_buffers);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, test_log_one_line);
	tcase_add_test(tc, test_log_request_id);
	tcase_add_test(tc, test_log_level);
	tcase_add_test(tc, test_log_long_message);
	tcase_add_test(tc, test_log_err);
	suite_add_tcase(s, tc);

	return s;
}

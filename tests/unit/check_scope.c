/* check_scope.c: scope strings as sets (RFC 6749 §3.3): has, subset, union. */
#include <stdlib.h>
#include <string.h>

#include "check_mcpauth.h"
#include "scope.h"

START_TEST(test_has)
{
	ck_assert(mcpauth_scope_has("files:read files:write", "files:read"));
	ck_assert(mcpauth_scope_has("files:read files:write", "files:write"));
	ck_assert(mcpauth_scope_has("a", "a"));
	ck_assert(!mcpauth_scope_has("files:read files:write", "files"));
	ck_assert(!mcpauth_scope_has("files:read files:write", "read"));
	ck_assert(!mcpauth_scope_has("files:read", "files:read "));
	ck_assert(!mcpauth_scope_has("files:read", "files:readx"));
	ck_assert(!mcpauth_scope_has("files:readx", "files:read"));
	/* Case matters (RFC 6749 §3.3: case-sensitive strings). */
	ck_assert(!mcpauth_scope_has("Files:Read", "files:read"));
	/* A scope is one token: never two, never a substring across. */
	ck_assert(!mcpauth_scope_has("a b", "a b"));
	ck_assert(!mcpauth_scope_has("ab c", "b c"));
	/* Empty. */
	ck_assert(!mcpauth_scope_has("", "a"));
	ck_assert(!mcpauth_scope_has(NULL, "a"));
	ck_assert(!mcpauth_scope_has("a b", ""));
	ck_assert(!mcpauth_scope_has("", ""));
	ck_assert(!mcpauth_scope_has("  ", ""));
}
END_TEST

START_TEST(test_has_spaces)
{
	ck_assert(mcpauth_scope_has("  a   b  ", "a"));
	ck_assert(mcpauth_scope_has("  a   b  ", "b"));
	ck_assert(mcpauth_scope_has("a a a", "a"));
	ck_assert(!mcpauth_scope_has("  a   b  ", "c"));
	ck_assert(!mcpauth_scope_has("   ", "a"));
}
END_TEST

START_TEST(test_subset)
{
	ck_assert(mcpauth_scope_subset("a", "a b"));
	ck_assert(mcpauth_scope_subset("b a", "a b"));
	ck_assert(mcpauth_scope_subset("a b", "a b"));
	ck_assert(!mcpauth_scope_subset("a c", "a b"));
	ck_assert(!mcpauth_scope_subset("c", "a b"));
	ck_assert(!mcpauth_scope_subset("a b", "a"));
	ck_assert(!mcpauth_scope_subset("ab", "a b"));
	ck_assert(!mcpauth_scope_subset("a", "ab"));
	/* "" is a subset of anything; nothing else is a subset of "". */
	ck_assert(mcpauth_scope_subset("", "a b"));
	ck_assert(mcpauth_scope_subset("", ""));
	ck_assert(mcpauth_scope_subset(NULL, "a"));
	ck_assert(mcpauth_scope_subset("   ", ""));
	ck_assert(!mcpauth_scope_subset("a", ""));
	ck_assert(!mcpauth_scope_subset("a", NULL));
	/* Repeated spaces and duplicates are the same set. */
	ck_assert(mcpauth_scope_subset("  a    b ", "b a"));
	ck_assert(mcpauth_scope_subset("a a a", "a"));
	ck_assert(mcpauth_scope_subset("a b", " b   a  b "));
	ck_assert(!mcpauth_scope_subset("a  a  c", "a b"));
}
END_TEST

/* A token longer than the parser takes is never taken as a subset. */
START_TEST(test_subset_long_token)
{
	char big[600];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert(mcpauth_scope_has(big, big));
	ck_assert(!mcpauth_scope_subset(big, "a b"));
}
END_TEST

static void union_is(const char *a, const char *b, const char *want)
{
	char *u = mcpauth_scope_union(a, b);

	ck_assert_ptr_nonnull(u);
	ck_assert_msg(!strcmp(u, want), "union(\"%s\", \"%s\") = \"%s\", want "
		      "\"%s\"", a ? a : "(null)", b ? b : "(null)", u, want);
	free(u);
}

START_TEST(test_union)
{
	union_is("a b", "b c", "a b c");
	union_is("a b", "a b", "a b");
	union_is("a b", "b a", "a b");
	union_is("a", "c b", "a c b");
	union_is("files:read", "files:write offline_access",
		 "files:read files:write offline_access");
}
END_TEST

START_TEST(test_union_empty)
{
	union_is("", "", "");
	union_is(NULL, NULL, "");
	union_is("a b", "", "a b");
	union_is("a b", NULL, "a b");
	union_is("", "a b", "a b");
	union_is(NULL, "a b", "a b");
	union_is("", "   ", "");
}
END_TEST

/* b's repeated spaces and duplicates go: the result is single-spaced. */
START_TEST(test_union_normalises)
{
	union_is("", "  a   b  ", "a b");
	union_is("", "a a b a b", "a b");
	union_is("a", " a  b  b ", "a b");
	union_is(NULL, " files:read   files:read ", "files:read");
}
END_TEST

Suite *check_scope_suite(void)
{
	Suite *s = suite_create("scope");
	TCase *tc = tcase_create("scope");

	tcase_add_test(tc, test_has);
	tcase_add_test(tc, test_has_spaces);
	tcase_add_test(tc, test_subset);
	tcase_add_test(tc, test_subset_long_token);
	tcase_add_test(tc, test_union);
	tcase_add_test(tc, test_union_empty);
	tcase_add_test(tc, test_union_normalises);
	suite_add_tcase(s, tc);
	return s;
}

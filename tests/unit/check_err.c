/* check_err.c: unit tests for the error struct and its macros (err.c). */
#include <string.h>

#include "check_mcpauth.h"
#include "err.h"

/* An error with guard bytes on both sides, to see any overflow. */
struct guarded {
	unsigned char before[32];
	struct mcpauth_err err;
	unsigned char after[32];
};

static void guard_init(struct guarded *g)
{
	memset(g, 0, sizeof(*g));
	memset(g->before, 0x5a, sizeof(g->before));
	memset(g->after, 0x5a, sizeof(g->after));
}

static void guard_check(const struct guarded *g)
{
	for (size_t i = 0; i < sizeof(g->before); i++) {
		ck_assert_uint_eq(g->before[i], 0x5a);
		ck_assert_uint_eq(g->after[i], 0x5a);
	}
}

START_TEST(test_set_fields)
{
	struct mcpauth_err err = { 0 };
	int line;

	ck_assert(!mcpauth_err_isset(&err));
	line = __LINE__ + 1;
	MCPAUTH_ERR(&err, 400, "invalid_request", "bad %s %d", "grant_type", 3);
	ck_assert(mcpauth_err_isset(&err));
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_request");
	ck_assert_str_eq(err.description, "bad grant_type 3");
	ck_assert_str_eq(err.detail, "");
	ck_assert_str_eq(err.file, __FILE__);
	ck_assert_int_eq(err.line, line);
	ck_assert_str_eq(err.func, __func__);
}
END_TEST

START_TEST(test_set_direct)
{
	struct mcpauth_err err = { 0 };

	mcpauth_err_set(&err, "f.c", 12, "fn", 401, "invalid_client", "%s",
			"who are you");
	ck_assert(mcpauth_err_isset(&err));
	ck_assert_int_eq(err.status, 401);
	ck_assert_str_eq(err.code, "invalid_client");
	ck_assert_str_eq(err.description, "who are you");
	ck_assert_str_eq(err.file, "f.c");
	ck_assert_int_eq(err.line, 12);
	ck_assert_str_eq(err.func, "fn");
}
END_TEST

/* Arguments are data: a '%' in them is not a conversion. */
START_TEST(test_format_args_not_reinterpreted)
{
	struct mcpauth_err err = { 0 };

	MCPAUTH_ERR(&err, 400, "invalid_request", "value %s", "100%s %n");
	ck_assert_str_eq(err.description, "value 100%s %n");
	mcpauth_err_detail(&err, "%s", "%d%x");
	ck_assert_str_eq(err.detail, "%d%x");
}
END_TEST

START_TEST(test_description_truncated)
{
	struct guarded g;
	char big[1000];

	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	guard_init(&g);
	MCPAUTH_ERR(&g.err, 400, "invalid_request", "%s", big);
	guard_check(&g);
	ck_assert_uint_eq(strlen(g.err.description),
			  sizeof(g.err.description) - 1);
	ck_assert_uint_eq(strspn(g.err.description, "d"),
			 sizeof(g.err.description) - 1);
	/* The description did not spill into the detail. */
	ck_assert_str_eq(g.err.detail, "");
	ck_assert_int_eq(g.err.status, 400);
	ck_assert_str_eq(g.err.code, "invalid_request");

	/* 257 characters: one too many. */
	big[257] = '\0';
	guard_init(&g);
	MCPAUTH_ERR(&g.err, 400, "invalid_request", "%s", big);
	guard_check(&g);
	ck_assert_uint_eq(strlen(g.err.description), 255);

	/* 255 characters fit exactly. */
	big[255] = '\0';
	guard_init(&g);
	MCPAUTH_ERR(&g.err, 400, "invalid_request", "%s", big);
	ck_assert_uint_eq(strlen(g.err.description), 255);
}
END_TEST

START_TEST(test_detail)
{
	struct mcpauth_err err = { 0 };

	MCPAUTH_ERR(&err, 503, "temporarily_unavailable", "try later");
	mcpauth_err_detail(&err, "sqlite: %s (%d)", "database is locked", 5);
	ck_assert_str_eq(err.detail, "sqlite: database is locked (5)");
	/* The rest is unchanged. */
	ck_assert_int_eq(err.status, 503);
	ck_assert_str_eq(err.code, "temporarily_unavailable");
	ck_assert_str_eq(err.description, "try later");
	ck_assert(mcpauth_err_isset(&err));
}
END_TEST

START_TEST(test_detail_truncated)
{
	struct guarded g;
	char big[4000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	guard_init(&g);
	MCPAUTH_ERR(&g.err, 400, "invalid_request", "short");
	mcpauth_err_detail(&g.err, "%s", big);
	guard_check(&g);
	ck_assert_uint_eq(strlen(g.err.detail), sizeof(g.err.detail) - 1);
	ck_assert_str_eq(g.err.description, "short");
	ck_assert_str_eq(g.err.file, __FILE__);
}
END_TEST

/* A new error replaces the old one entirely, detail included. */
START_TEST(test_set_replaces)
{
	struct mcpauth_err err = { 0 };

	MCPAUTH_ERR(&err, 500, "server_error", "first");
	mcpauth_err_detail(&err, "first detail");
	MCPAUTH_ERR(&err, 400, "invalid_grant", "second");
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_grant");
	ck_assert_str_eq(err.description, "second");
	ck_assert_str_eq(err.detail, "");
}
END_TEST

START_TEST(test_internal)
{
	struct mcpauth_err err = { 0 };
	int line;

	line = __LINE__ + 1;
	MCPAUTH_ERR_INTERNAL(&err, "open %s: %s", "/var/lib/mcpauth/db",
			     "Permission denied");
	ck_assert(mcpauth_err_isset(&err));
	ck_assert_int_eq(err.status, 500);
	ck_assert_str_eq(err.code, "server_error");
	ck_assert_str_eq(err.description, "internal error");
	/* The client-facing text says nothing about the cause. */
	ck_assert_ptr_null(strstr(err.description, "/var/lib"));
	ck_assert_ptr_null(strstr(err.description, "Permission"));
	ck_assert_str_eq(err.detail,
			 "open /var/lib/mcpauth/db: Permission denied");
	ck_assert_str_eq(err.file, __FILE__);
	ck_assert_int_eq(err.line, line);
	ck_assert_str_eq(err.func, __func__);
}
END_TEST

START_TEST(test_null_err_ignored)
{
	MCPAUTH_ERR(NULL, 400, "invalid_request", "ignored %d", 1);
	mcpauth_err_set(NULL, "f.c", 1, "fn", 400, "invalid_request", "x");
	/* MCPAUTH_ERR_INTERNAL passes err on to mcpauth_err_detail. */
	mcpauth_err_detail(NULL, "ignored %s", "too");
	MCPAUTH_ERR_INTERNAL(NULL, "ignored %d", 3);
}
END_TEST

START_TEST(test_clear)
{
	struct mcpauth_err err = { 0 };

	MCPAUTH_ERR(&err, 400, "invalid_request", "bad");
	mcpauth_err_detail(&err, "detail");
	ck_assert(mcpauth_err_isset(&err));
	mcpauth_err_clear(&err);
	ck_assert(!mcpauth_err_isset(&err));
	ck_assert_int_eq(err.status, 0);
	ck_assert_ptr_null(err.code);
	ck_assert_str_eq(err.description, "");
	ck_assert_str_eq(err.detail, "");

	/* Usable again after clearing. */
	MCPAUTH_ERR(&err, 404, "not_found", "again");
	ck_assert(mcpauth_err_isset(&err));
	ck_assert_int_eq(err.status, 404);
	ck_assert_str_eq(err.description, "again");
}
END_TEST

START_TEST(test_isset_initial)
{
	struct mcpauth_err err;

	memset(&err, 0, sizeof(err));
	ck_assert(!mcpauth_err_isset(&err));
	mcpauth_err_clear(&err);
	ck_assert(!mcpauth_err_isset(&err));
}
END_TEST

Suite *check_err_suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc;

	tc = tcase_create("set");
	tcase_add_test(tc, test_set_fields);
	tcase_add_test(tc, test_set_direct);
	tcase_add_test(tc, test_format_args_not_reinterpreted);
	tcase_add_test(tc, test_description_truncated);
	tcase_add_test(tc, test_set_replaces);
	tcase_add_test(tc, test_null_err_ignored);
	suite_add_tcase(s, tc);

	tc = tcase_create("detail");
	tcase_add_test(tc, test_detail);
	tcase_add_test(tc, test_detail_truncated);
	tcase_add_test(tc, test_internal);
	suite_add_tcase(s, tc);

	tc = tcase_create("state");
	tcase_add_test(tc, test_clear);
	tcase_add_test(tc, test_isset_initial);
	suite_add_tcase(s, tc);

	return s;
}

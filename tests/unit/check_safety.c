/* check_safety.c: the files a served program refuses (safety.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_mcpauth.h"
#include "conf.h"
#include "safety.h"

static char dir[4096], conf_path[4200], db[4200], keys[4200], key[4300],
	www[4200];
static struct mcpauth_conf conf;

static void mk(const char *path, mode_t mode)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* A private instance: conf 0600, database 0600, key_dir 0700, key 0600. */
static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	snprintf(conf_path, sizeof(conf_path), "%s/mcpauth.conf", dir);
	snprintf(db, sizeof(db), "%s/mcpauth.db", dir);
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	snprintf(key, sizeof(key), "%s/k1.jwk", keys);
	snprintf(www, sizeof(www), "%s/www", dir);
	mk(conf_path, 0600);
	mk(db, 0600);
	ck_assert_int_eq(mkdir(keys, 0700), 0);
	mk(key, 0600);
	ck_assert_int_eq(mkdir(www, 0755), 0);
	memset(&conf, 0, sizeof(conf));
	conf.database = db;
	conf.key_dir = keys;
}

static void teardown(void)
{
	check_tmpdir_remove(dir);
}

/* Refused with the public description and a detail holding each of want. */
static void assert_refused(bool ok, const struct mcpauth_err *err,
			   const char *want1, const char *want2)
{
	ck_assert(!ok);
	ck_assert_int_eq(err->status, 503);
	ck_assert_str_eq(err->code, "temporarily_unavailable");
	ck_assert_str_eq(err->description,
			 "the authorization server's files are not protected; "
			 "its error log says how to fix it");
	/* Paths go to the log, never to clients. */
	ck_assert_ptr_null(strstr(err->description, dir));
	ck_assert_msg(strstr(err->detail, want1) != NULL, "%s", err->detail);
	ck_assert_msg(strstr(err->detail, want2) != NULL, "%s", err->detail);
}

START_TEST(test_private_files_pass)
{
	struct mcpauth_err err = { 0 };

	ck_assert_msg(mcpauth_safety_files(conf_path, &conf, &err), "%s",
		      err.detail);
	/* Group may read the configuration and the database. */
	ck_assert_int_eq(chmod(conf_path, 0640), 0);
	ck_assert_int_eq(chmod(db, 0660), 0);
	ck_assert_msg(mcpauth_safety_files(conf_path, &conf, &err), "%s",
		      err.detail);
}
END_TEST

START_TEST(test_world_readable_conf)
{
	struct mcpauth_err err = { 0 };
	char fix[4300];

	ck_assert_int_eq(chmod(conf_path, 0644), 0);
	snprintf(fix, sizeof(fix), "chmod o-rwx %s", conf_path);
	assert_refused(mcpauth_safety_files(conf_path, &conf, &err), &err,
		       "the configuration", fix);
	ck_assert_ptr_nonnull(strstr(err.detail, "open to other users"));
}
END_TEST

START_TEST(test_world_readable_database)
{
	struct mcpauth_err err = { 0 };

	ck_assert_int_eq(chmod(db, 0604), 0);
	assert_refused(mcpauth_safety_files(conf_path, &conf, &err), &err,
		       "the database", "chmod o-rwx");
}
END_TEST

START_TEST(test_readable_keys)
{
	struct mcpauth_err err = { 0 };
	char fix[4400];

	ck_assert_int_eq(chmod(key, 0644), 0);
	snprintf(fix, sizeof(fix), "chmod go-rwx %s", key);
	assert_refused(mcpauth_safety_files(conf_path, &conf, &err), &err,
		       "the key file", fix);
	/* Group bits too, for keys. */
	ck_assert_int_eq(chmod(key, 0640), 0);
	assert_refused(mcpauth_safety_files(conf_path, &conf, &err), &err,
		       "the key file", "open to its group");
	ck_assert_int_eq(chmod(key, 0600), 0);
	ck_assert_int_eq(chmod(keys, 0750), 0);
	assert_refused(mcpauth_safety_files(conf_path, &conf, &err), &err,
		       "key_dir", "chmod go-rwx");
}
END_TEST

/*
 * A file another user owns, read through its "other" bits (root's
 * /etc/mcpauth/mcpauth.conf on a server of one's own), is that user's
 * choice, not ours to refuse.
 */
START_TEST(test_others_file_is_theirs)
{
	struct mcpauth_err err = { 0 };
	const char *path = conf_path;

	if (geteuid() == 0) {
		ck_assert_int_eq(chmod(conf_path, 0644), 0);
		ck_assert_int_eq(chown(conf_path, 65534, 65534), 0);
	} else {
		path = "/etc/passwd"; /* root's, 0644 */
	}
	ck_assert_msg(mcpauth_safety_files(path, &conf, &err), "%s",
		      err.detail);
}
END_TEST

START_TEST(test_docroot)
{
	struct mcpauth_err err = { 0 };
	char inside[4300], link[4300], sibling[4300], fresh[4400];

	/* Outside: passes; no document root: nothing to check. */
	ck_assert(mcpauth_safety_docroot(www, conf_path, &conf, &err));
	ck_assert(mcpauth_safety_docroot(NULL, conf_path, &conf, &err));
	ck_assert(mcpauth_safety_docroot("", conf_path, &conf, &err));
	/* The instance's own directory as the document root. */
	assert_refused(mcpauth_safety_docroot(dir, conf_path, &conf, &err),
		       &err, "the configuration", "inside the document root");
	/* The database inside, reached through a symbolic link. */
	snprintf(inside, sizeof(inside), "%s/data", www);
	ck_assert_int_eq(mkdir(inside, 0700), 0);
	snprintf(link, sizeof(link), "%s/db-link", dir);
	ck_assert_int_eq(symlink(inside, link), 0);
	snprintf(fresh, sizeof(fresh), "%s/mcpauth.db", link);
	conf.database = fresh; /* not created yet: its directory counts */
	assert_refused(mcpauth_safety_docroot(www, conf_path, &conf, &err),
		       &err, "the database", "set database in mcpauth.conf");
	/* A name that only starts like the document root is outside it. */
	snprintf(sibling, sizeof(sibling), "%s2", www);
	ck_assert_int_eq(mkdir(sibling, 0700), 0);
	snprintf(fresh, sizeof(fresh), "%s/mcpauth.db", sibling);
	conf.database = fresh;
	ck_assert(mcpauth_safety_docroot(www, conf_path, &conf, &err));
	/* key_dir inside. */
	conf.key_dir = inside;
	assert_refused(mcpauth_safety_docroot(www, conf_path, &conf, &err),
		       &err, "key_dir", "set key_dir in mcpauth.conf");
}
END_TEST

Suite *check_safety_suite(void)
{
	Suite *s = suite_create("safety");
	TCase *tc = tcase_create("safety");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_private_files_pass);
	tcase_add_test(tc, test_world_readable_conf);
	tcase_add_test(tc, test_world_readable_database);
	tcase_add_test(tc, test_readable_keys);
	tcase_add_test(tc, test_others_file_is_theirs);
	tcase_add_test(tc, test_docroot);
	suite_add_tcase(s, tc);
	return s;
}

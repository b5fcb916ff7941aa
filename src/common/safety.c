/* safety.c: the files a served program refuses to work with (safety.h). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safety.h"

/* What clients see: the paths and the fix go to the log only. */
#define PUBLIC "the authorization server's files are not protected; its " \
	       "error log says how to fix it"

static bool refuse(struct mcpauth_err *err)
{
	MCPAUTH_ERR(err, 503, "temporarily_unavailable", PUBLIC);
	return false;
}

/*
 * path, when this user owns it, has none of the mode bits in open. A path
 * that does not exist is no concern here (the store or the keys say so).
 */
static bool private_path(const char *path, mode_t open, const char *what,
			 struct mcpauth_err *err)
{
	struct stat st;

	if (stat(path, &st) != 0 || st.st_uid != geteuid() ||
	    (st.st_mode & open) == 0)
		return true;
	refuse(err);
	mcpauth_err_detail(err, "%s %s is open to %s (mode %03o): chmod %s %s",
			   what, path,
			   (st.st_mode & open & S_IRWXG) ? "its group"
							 : "other users",
			   (unsigned)(st.st_mode & 0777),
			   open == S_IRWXO ? "o-rwx" : "go-rwx", path);
	return false;
}

bool mcpauth_safety_files(const char *conf_path,
			  const struct mcpauth_conf *conf,
			  struct mcpauth_err *err)
{
	DIR *d;
	struct dirent *e;
	bool ok;

	ok = private_path(conf_path, S_IRWXO, "the configuration", err) &&
	     private_path(conf->database, S_IRWXO, "the database", err) &&
	     private_path(conf->key_dir, S_IRWXG | S_IRWXO, "key_dir", err);
	if (!ok || (d = opendir(conf->key_dir)) == NULL)
		return ok;
	while (ok && (e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", conf->key_dir,
			     e->d_name) >= (int)sizeof(path))
			continue;
		ok = private_path(path, S_IRWXG | S_IRWXO, "the key file",
				  err);
	}
	closedir(d);
	return ok;
}

/*
 * The real path of path, or of its directory when path does not exist yet
 * (a database before init); false when neither resolves.
 */
static bool real(const char *path, char *out)
{
	char dir[PATH_MAX], *slash;

	if (realpath(path, out) != NULL)
		return true;
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return false;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return realpath(".", out) != NULL;
	*slash = '\0';
	return realpath(dir[0] ? dir : "/", out) != NULL;
}

static bool outside(const char *root, const char *path, const char *what,
		    const char *setting, struct mcpauth_err *err)
{
	char p[PATH_MAX];
	size_t n = strlen(root);

	if (!real(path, p))
		return true;
	/* "/" as the document root holds everything. */
	if (strcmp(root, "/") != 0 &&
	    (strncmp(p, root, n) != 0 || (p[n] != '\0' && p[n] != '/')))
		return true;
	refuse(err);
	mcpauth_err_detail(err, "%s %s is inside the document root %s, where "
			   "the web server can hand it to anyone: move it out "
			   "(under your home directory, say) and %s",
			   what, path, root, setting);
	return false;
}

bool mcpauth_safety_docroot(const char *docroot, const char *conf_path,
			    const struct mcpauth_conf *conf,
			    struct mcpauth_err *err)
{
	char root[PATH_MAX];

	if (docroot == NULL || docroot[0] == '\0' ||
	    realpath(docroot, root) == NULL)
		return true;
	return outside(root, conf_path, "the configuration",
		       "set MCPAUTH_CONFIG to its new path", err) &&
	       outside(root, conf->database, "the database",
		       "set database in mcpauth.conf to its new path", err) &&
	       outside(root, conf->key_dir, "key_dir",
		       "set key_dir in mcpauth.conf to its new path", err);
}

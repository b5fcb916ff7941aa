/*
 * deploy.c: mcpauth-admin deploy. On shared hosting the programs run from
 * the document root, configured only through .htaccess: AddHandler
 * fcgid-script (or cgi-script), Options +ExecCGI, CGIPassAuth and
 * mod_rewrite, which is what AllowOverride usually permits there. The
 * programs route on REQUEST_URI, which an internal rewrite leaves as the
 * client sent it, so the rewrites only pick the program.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deploy.h"
#include "safety.h"

#ifndef MCPAUTH_PKGLIBEXECDIR
#define MCPAUTH_PKGLIBEXECDIR "/usr/local/libexec/mcpauth"
#endif

#define BEGIN_MARK "# BEGIN mcpauth"
#define END_MARK "# END mcpauth"

static const char *const PROGRAMS[] = { "discovery", "register", "authorize",
					"token" };

__attribute__((format(printf, 1, 2))) static int say_fail(const char *fmt,
							   ...)
{
	va_list ap;

	fprintf(stderr, "mcpauth-admin: deploy: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

/* Writes text to path through a temporary file and rename, with mode. */
static bool write_file(const char *path, const char *text, mode_t mode)
{
	char tmp[PATH_MAX + 8];
	FILE *f;
	bool ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return false;
	if ((f = fopen(tmp, "w")) == NULL)
		return false;
	ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	ok = ok && chmod(tmp, mode) == 0 && rename(tmp, path) == 0;
	if (!ok)
		unlink(tmp);
	return ok;
}

/* A path pasted between single quotes in a shell script. */
static bool shell_safe(const char *s)
{
	return strpbrk(s, "'\n\r") == NULL;
}

/* An issuer path pasted into regular expressions and folder names. */
static bool path_safe(const char *p)
{
	if (p[0] != '/' || p[1] == '\0')
		return false;
	for (const char *c = p; *c; c++)
		if (!(*c == '/' || *c == '-' || *c == '_' ||
		      (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9')))
			return false;
	return strstr(p, "//") == NULL && p[strlen(p) - 1] != '/';
}

/* mkdir -p of root + rel (rel starts with '/'), each new folder 0755. */
static bool make_dirs(const char *root, const char *rel, char *out,
		      size_t size)
{
	if (snprintf(out, size, "%s%s", root, rel) >= (int)size)
		return false;
	for (char *c = out + strlen(root) + 1;; c++) {
		if (*c == '/' || *c == '\0') {
			char saved = *c;
			*c = '\0';
			if (mkdir(out, 0755) != 0 && errno != EEXIST)
				return false;
			*c = saved;
			if (saved == '\0')
				return true;
		}
	}
}

/* The issuer folder's .htaccess. */
static void folder_rules(char *buf, size_t size, const char *issuer,
			 const char *ext, bool cgi)
{
	snprintf(buf, size,
		 "# Written by mcpauth-admin deploy for %s; run it again "
		 "rather than edit.\n"
		 "# Every request here goes to one of the wrappers below, "
		 "which run the\n"
		 "# mcpauth programs; they route on the URL the client "
		 "asked for.\n"
		 "# mod_rewrite in .htaccess needs one of the SymLinks "
		 "options.\n"
		 "Options +ExecCGI -Indexes +SymLinksIfOwnerMatch\n"
		 "AddHandler %s .%s\n"
		 "DirectoryIndex disabled\n"
		 "# The Authorization header reaches the programs "
		 "(client_secret_basic,\n"
		 "# registration access tokens).\n"
		 "CGIPassAuth On\n"
		 "# Bodies over 128 KiB: 413 before the program reads them. "
		 "Without a\n"
		 "# length (chunked): 411.\n"
		 "<If \"%%{HTTP:Content-Length} -gt 131072\">\n"
		 "\tRedirect 413\n"
		 "</If>\n"
		 "<ElseIf \"%%{HTTP:Transfer-Encoding} =~ /chunked/i\">\n"
		 "\tRedirect 411\n"
		 "</ElseIf>\n"
		 "RewriteEngine On\n"
		 "RewriteRule ^(authorize|static/style\\.css)$ authorize.%s "
		 "[END]\n"
		 "RewriteRule ^(token|revoke|introspect)$ token.%s [END]\n"
		 "RewriteRule ^register(/[A-Za-z0-9_-]+)?$ register.%s [END]\n"
		 "RewriteRule ^(jwks|\\.well-known/(openid-configuration|"
		 "oauth-authorization-server))$ discovery.%s [END]\n"
		 "# Nothing else: not the wrappers by name, not this file.\n"
		 "RewriteRule ^ - [R=404,L]\n",
		 issuer, cgi ? "cgi-script" : "fcgid-script", ext, ext, ext,
		 ext, ext);
}

/*
 * What path (docroot/.htaccess) holds besides a block of ours from an
 * earlier deploy, from its BEGIN line to its END line; "" when there is no
 * such file. NULL when it cannot be read, or (*unfinished) when it has a
 * BEGIN line without its END: what to keep is then not ours to guess.
 */
static char *root_rest(const char *path, bool *unfinished)
{
	char buf[4096], *text = calloc(1, 1), *begin, *end;
	size_t len = 0, n;
	bool failed;
	FILE *f;

	if (text == NULL)
		return NULL;
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT ? text : (free(text), NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		char *t = realloc(text, len + n + 1);
		if (t == NULL)
			break;
		text = t;
		memcpy(text + len, buf, n);
		text[len += n] = '\0';
	}
	failed = ferror(f) != 0 || n > 0;
	fclose(f);
	if (failed) {
		free(text);
		return NULL;
	}
	begin = strstr(text, BEGIN_MARK "\n");
	while (begin != NULL && begin != text && begin[-1] != '\n')
		begin = strstr(begin + 1, BEGIN_MARK "\n");
	if (begin == NULL)
		return text;
	if ((end = strstr(begin, "\n" END_MARK "\n")) == NULL) {
		*unfinished = true;
		free(text);
		return NULL;
	}
	end += strlen("\n" END_MARK "\n");
	memmove(begin, end, strlen(end) + 1);
	return text;
}

/* path (docroot/.htaccess): our block of well-known rewrites, then rest. */
static bool root_rules(const char *path, const char *issuer,
		       const char *ipath, const char *ext, const char *rest)
{
	char block[2048], *all;
	bool ok;

	snprintf(block, sizeof(block),
		 BEGIN_MARK "\n"
		 "# Written by mcpauth-admin deploy: the well-known URLs of "
		 "the issuer\n"
		 "# %s (RFC 8414, OpenID Connect Discovery, RFC 9728) go to "
		 "its\n"
		 "# discovery program. Run deploy again rather than edit.\n"
		 "# (mod_rewrite in .htaccess needs a SymLinks option.)\n"
		 "Options +SymLinksIfOwnerMatch\n"
		 "RewriteEngine On\n"
		 "RewriteRule ^\\.well-known/(oauth-authorization-server|"
		 "openid-configuration)%s$ %s/discovery.%s [END]\n"
		 "RewriteRule ^\\.well-known/oauth-protected-resource(/.*)?$ "
		 "%s/discovery.%s [END]\n"
		 END_MARK "\n",
		 issuer, ipath, ipath + 1, ext, ipath + 1, ext);
	if ((all = malloc(strlen(block) + strlen(rest) + 1)) == NULL)
		return false;
	strcpy(all, block);
	strcat(all, rest);
	ok = write_file(path, all, 0644);
	free(all);
	return ok;
}

int mcpauth_deploy(const struct mcpauth_conf *conf, const char *conf_path,
		   const char *docroot, bool cgi)
{
	const char *ext = cgi ? "cgi" : "fcgi";
	char root[PATH_MAX], cpath[PATH_MAX], dir[PATH_MAX];
	char file[PATH_MAX + 64], text[2 * PATH_MAX + 512];
	struct mcpauth_err err = { 0 };
	struct stat st;
	char rpath[PATH_MAX + 16], *rest;
	bool unfinished = false, ok;

	if (realpath(docroot, root) == NULL || stat(root, &st) != 0 ||
	    !S_ISDIR(st.st_mode))
		return say_fail("the document root %s is not a folder",
				docroot);
	if (realpath(conf_path, cpath) == NULL)
		return say_fail("cannot resolve %s", conf_path);
	if (!path_safe(conf->issuer_path))
		return say_fail(
			"the issuer %s needs a path of letters, digits, '-', "
			"'_' and '/' (https://example.com/auth): it is the "
			"folder made in the document root",
			conf->issuer);
	if (!shell_safe(cpath) || !shell_safe(MCPAUTH_PKGLIBEXECDIR))
		return say_fail("%s: a path with a quote or a line break",
				cpath);
	if (!mcpauth_safety_docroot(root, cpath, conf, &err) ||
	    !mcpauth_safety_files(cpath, conf, &err))
		return say_fail("%s; the programs would refuse to serve",
				err.detail);
	/* Read before anything is written: an unfinished block stops here. */
	snprintf(rpath, sizeof(rpath), "%s/.htaccess", root);
	if ((rest = root_rest(rpath, &unfinished)) == NULL)
		return say_fail(unfinished
					? "%s has a '" BEGIN_MARK "' line "
					  "without its '" END_MARK "': remove "
					  "the rest of that block or end it, "
					  "then deploy again"
					: "cannot read %s",
				rpath);
	if (!make_dirs(root, conf->issuer_path, dir, sizeof(dir))) {
		free(rest);
		return say_fail("cannot make %s%s", root, conf->issuer_path);
	}
	for (size_t i = 0; i < sizeof(PROGRAMS) / sizeof(PROGRAMS[0]); i++) {
		snprintf(file, sizeof(file), "%s/%s.%s", dir, PROGRAMS[i],
			 ext);
		snprintf(text, sizeof(text),
			 "#!/bin/sh\n"
			 "# Written by mcpauth-admin deploy. .htaccess cannot "
			 "hand FastCGI\n"
			 "# programs environment variables, so this names the "
			 "configuration.\n"
			 "MCPAUTH_CONFIG='%s'\n"
			 "export MCPAUTH_CONFIG\n"
			 "exec '%s/mcpauth-%s'\n",
			 cpath, MCPAUTH_PKGLIBEXECDIR, PROGRAMS[i]);
		/* suexec and mod_fcgid refuse group- or world-writable. */
		if (!write_file(file, text, 0755)) {
			free(rest);
			return say_fail("cannot write %s", file);
		}
		printf("wrote %s\n", file);
	}
	snprintf(file, sizeof(file), "%s/.htaccess", dir);
	folder_rules(text, sizeof(text), conf->issuer, ext, cgi);
	if (!write_file(file, text, 0644)) {
		free(rest);
		return say_fail("cannot write %s", file);
	}
	printf("wrote %s\n", file);
	ok = root_rules(rpath, conf->issuer, conf->issuer_path, ext, rest);
	free(rest);
	if (!ok)
		return say_fail("cannot update %s", rpath);
	printf("updated %s/.htaccess (the block between '%s' and '%s')\n",
	       root, BEGIN_MARK, END_MARK);
	printf("check: %s/.well-known/openid-configuration should answer "
	       "with \"issuer\":\"%s\"\n",
	       conf->issuer, conf->issuer);
	return EXIT_SUCCESS;
}

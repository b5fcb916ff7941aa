/*
 * safety.h: what a served program checks before it answers, for shared
 * hosting above all: the configuration, the database and the signing keys
 * are the owner's alone and never where the web server serves files.
 */
#ifndef MCPAUTH_SAFETY_H
#define MCPAUTH_SAFETY_H

#include <stdbool.h>

#include "conf.h"
#include "err.h"

/*
 * The configuration file conf_path, the database, key_dir and every file
 * in key_dir: none that this process's user owns may be open to other
 * users (any of the mode's "other" bits; group bits too for key_dir and
 * its files). A file another user owns (root's /etc/mcpauth/mcpauth.conf
 * read through its "other" bits on a server of one's own) is that user's
 * choice. On failure *err is a 503 whose description is public and whose
 * detail, for the log, names the file and the chmod that fixes it.
 */
bool mcpauth_safety_files(const char *conf_path,
			  const struct mcpauth_conf *conf,
			  struct mcpauth_err *err);

/*
 * None of the configuration file, the database (or its directory, before
 * it exists) and key_dir lies inside docroot (the request's DOCUMENT_ROOT or
 * CONTEXT_DOCUMENT_ROOT), compared after resolving symbolic links; NULL or
 * "" checks nothing.
 */
bool mcpauth_safety_docroot(const char *docroot, const char *conf_path,
			    const struct mcpauth_conf *conf,
			    struct mcpauth_err *err);

#endif

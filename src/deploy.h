/* deploy.h: mcpauth-admin deploy, the shared-hosting layout (deploy.c). */
#ifndef MCPAUTH_DEPLOY_H
#define MCPAUTH_DEPLOY_H

#include <stdbool.h>

#include "conf.h"

/*
 * Writes into the document root docroot what Apache needs to serve
 * mcpauth through .htaccess files alone: the folder of the issuer's path
 * with one wrapper script per program (.fcgi for mod_fcgid, .cgi for plain
 * CGI when cgi), its .htaccess, and a marked block of rewrites for the
 * well-known URLs at the top of docroot/.htaccess. conf_path is the
 * configuration the wrappers name. Says what it did on stdout, what is
 * wrong on stderr; returns the exit status.
 */
int mcpauth_deploy(const struct mcpauth_conf *conf, const char *conf_path,
		   const char *docroot, bool cgi);

#endif

/* admin.c: mcpauth-admin, the operator's command line (see mcpauth-admin(8)). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "b64.h"
#include "client.h"
#include "deploy.h"
#include "conf.h"
#include "crypto.h"
#include "fetch.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "password.h"
#include "scope.h"
#include "store.h"

#define EXIT_USAGE 2

/* At most this many --grant or --resource options. */
#define MAX_REPEAT 16

struct opts {
	const char *config;
	const char *alg;
	const char *label;
	const char *expires;
	bool json;
	/* client add, client rotate-secret, client keys */
	const char *grants[MAX_REPEAT];
	size_t ngrants;
	const char *resources[MAX_REPEAT];
	size_t nresources;
	const char *redirect_uris[MCPAUTH_CLIENT_MAX_REDIRECT_URIS];
	size_t nredirect_uris;
	const char *auth;
	const char *scope;
	const char *jwks;
	const char *jwks_uri;
	const char *overlap;
	bool first_party;
	/* audit, token revoke */
	const char *event;
	const char *client;
	const char *address;
	const char *since;
	const char *limit;
	const char *user;
	const char *family;
	/* deploy */
	bool cgi;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mcpauth-admin [-c FILE] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  init                  create the database and the first "
		"signing key (safe to re-run)\n"
		"  migrate               apply pending database migrations\n"
		"  check-config          validate the configuration and show "
		"the URLs it serves\n"
		"  key generate [--alg ES256|EdDSA|RS256]\n"
		"                        add a key, published before it signs\n"
		"  key rotate [--alg A]  make the newest pending key (or a new "
		"one) sign; retire the old\n"
		"  key list [--json]     show the signing keys\n"
		"  client list [--json]  show the registered clients\n"
		"  client show ID [--json]\n"
		"                        one client's metadata and history\n"
		"  client delete ID      remove a client and what it was "
		"issued\n"
		"  gc                    remove idle dynamically registered "
		"clients and old\n"
		"                        audit rows (run it daily from cron)\n"
		"  initial-token create [--label TEXT] [--expires DURATION]\n"
		"                        a token that opens registration "
		"(printed once)\n"
		"  initial-token list [--json]\n"
		"  initial-token revoke ID\n"
		"  user add NAME         add a user who signs in at "
		"/authorize; the password\n"
		"                        is read from standard input (asked "
		"on a terminal)\n"
		"  user passwd NAME      set a new password (ends the user's "
		"sessions)\n"
		"  user disable NAME     refuse sign-in, end sessions, revoke "
		"the user's tokens\n"
		"  user enable NAME      allow sign-in again\n"
		"  user list [--json]    show the users\n"
		"  consent revoke USER [CLIENT_ID]\n"
		"                        forget what USER allowed (CLIENT_ID "
		"or every client)\n"
		"  client first-party CLIENT_ID yes|no\n"
		"                        whether the client's users skip the "
		"consent page\n"
		"  client add NAME --grant client_credentials|"
		"authorization_code [--grant G]\n"
		"      [--auth client_secret_basic|client_secret_post|"
		"private_key_jwt|none]\n"
		"      [--resource URL]... [--scope \"A B\"] "
		"[--redirect-uri URI]...\n"
		"      [--jwks FILE | --jwks-uri URL] [--alg ALG] "
		"[--first-party] [--json]\n"
		"                        provision a client (its secret is "
		"printed once)\n"
		"  client rotate-secret ID [--overlap DURATION] [--json]\n"
		"                        a new secret (printed once); the old "
		"one works for\n"
		"                        the overlap (default 0: stops at "
		"once)\n"
		"  client keys ID --jwks FILE | --jwks-uri URL [--alg ALG]\n"
		"                        replace a private_key_jwt client's "
		"public keys\n"
		"  client disable ID     refuse the client at /token and "
		"/authorize\n"
		"  client enable ID      accept a disabled client again\n"
		"  consent list [USER] [--json]\n"
		"                        what users allowed which clients\n"
		"  token revoke --client ID | --user NAME | --family "
		"FAMILY_ID\n"
		"                        revoke refresh and access tokens\n"
		"  audit [--event E] [--client ID] [--address A] "
		"[--since DURATION]\n"
		"        [--limit N] [--json]\n"
		"                        recent audit rows, newest first "
		"(default: 7d, 50)\n"
		"  stats [--json]        counts of clients, users, grants, "
		"tokens, sign-ins\n"
		"  deploy DOCROOT [--cgi]\n"
		"                        the shared-hosting layout: wrappers "
		"and .htaccess\n"
		"                        in DOCROOT (mod_fcgid; --cgi: plain "
		"CGI)\n"
		"\n"
		"options:\n"
		"  -c, --config FILE     configuration file (default: "
		"$MCPAUTH_CONFIG or %s)\n"
		"  -h, --help            this text\n"
		"  -V, --version         the version\n",
		mcpauth_conf_default_path());
}

static int fail(const struct mcpauth_err *err)
{
	fprintf(stderr, "mcpauth-admin: %s", err->description);
	if (err->detail[0] != '\0')
		fprintf(stderr, " (%s)", err->detail);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

static void iso_time(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0) {
		snprintf(buf, size, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Opens the store; CREATE for init. The programs need its directory writable. */
static bool open_store(const struct mcpauth_conf *conf, int flags,
		       struct mcpauth_store **store, struct mcpauth_err *err)
{
	if (!mcpauth_store_open(conf->database, flags, store, err)) {
		if (flags & MCPAUTH_STORE_CREATE)
			snprintf(err->description, sizeof(err->description),
				 "cannot create the database %s: does its "
				 "directory exist and can this user write it?",
				 conf->database);
		else
			snprintf(err->description, sizeof(err->description),
				 "cannot open the database %s: run "
				 "'mcpauth-admin init' first",
				 conf->database);
		err->detail[0] = '\0';
		return false;
	}
	return true;
}

static int cmd_init(const struct mcpauth_conf *conf)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_signing_key *keys = NULL;
	size_t nkeys = 0;
	bool existed = access(conf->database, F_OK) == 0;
	int from = 0, to = 0, rc = EXIT_FAILURE;
	char kid[64];
	enum mcpauth_key_state state;

	if (!open_store(conf, MCPAUTH_STORE_CREATE, &store, &err) ||
	    !mcpauth_store_migrate(store, &from, &to, &err) ||
	    !mcpauth_store_ready(store, &err) ||
	    !mcpauth_store_key_list(store, &keys, &nkeys, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (!existed)
		printf("database %s: created at schema version %d\n",
		       conf->database, to);
	else if (from != to)
		printf("database %s: migrated from version %d to %d\n",
		       conf->database, from, to);
	else
		printf("database %s: exists, schema version %d\n",
		       conf->database, to);
	if (nkeys == 0) {
		if (!mcpauth_keys_generate(conf, store, NULL, kid, &state,
					   &err)) {
			rc = fail(&err);
			goto out;
		}
		printf("signing key %s (%s): generated, %s, private key in "
		       "%s/%s.jwk\n",
		       kid, conf->signing_alg,
		       mcpauth_store_key_state_name(state), conf->key_dir, kid);
	} else {
		printf("signing keys: %lu already (see 'mcpauth-admin key "
		       "list')\n",
		       (unsigned long)nkeys);
	}
	printf("issuer: %s\n", conf->issuer);
	rc = EXIT_SUCCESS;
out:
	mcpauth_store_keys_free(keys, nkeys);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_migrate(const struct mcpauth_conf *conf)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	int from = 0, to = 0, rc = EXIT_FAILURE;

	if (!open_store(conf, 0, &store, &err) ||
	    !mcpauth_store_migrate(store, &from, &to, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (from == to)
		printf("database %s: already at schema version %d\n",
		       conf->database, to);
	else
		printf("database %s: migrated from schema version %d to %d\n",
		       conf->database, from, to);
	rc = EXIT_SUCCESS;
out:
	mcpauth_store_free(store);
	return rc;
}

static int cmd_check_config(const struct mcpauth_conf *conf)
{
	printf("configuration %s: ok\n", conf->file);
	printf("issuer:        %s\n", conf->issuer);
	printf("database:      %s%s\n", conf->database,
	       access(conf->database, F_OK) == 0
		       ? ""
		       : " (missing: run 'mcpauth-admin init')");
	printf("key_dir:       %s\n", conf->key_dir);
	printf("signing_alg:   %s\n", conf->signing_alg);
	printf("lifetimes:     access token %lds, refresh token %lds, "
	       "code %lds\n",
	       conf->access_token_lifetime, conf->refresh_token_lifetime,
	       conf->code_lifetime);
	printf("metadata:      %s/.well-known/openid-configuration\n",
	       conf->issuer);
	printf("jwks:          %s/jwks\n", conf->issuer);
	printf("authorization: %s/authorize\n", conf->issuer);
	printf("token:         %s/token\n", conf->issuer);
	printf("revocation:    %s/revoke\n", conf->issuer);
	printf("introspection: %s/introspect\n", conf->issuer);
	printf("client_credentials: %s\n",
	       conf->client_credentials ? "on" : "off");
	printf("private_key_jwt:    %s\n",
	       conf->private_key_jwt ? "on" : "off");
	printf("metadata documents: %s (at most %ld bytes, %ld fetches per "
	       "host per 10 minutes)\n",
	       conf->client_id_metadata_documents ? "on" : "off",
	       conf->metadata_document_max_size,
	       conf->metadata_document_fetch_limit);
	printf("outbound requests:  https, %lds, %s%s", conf->fetch_timeout,
	       conf->fetch_ca_file != NULL ? "CAs of " : "system CAs",
	       conf->fetch_ca_file != NULL ? conf->fetch_ca_file : "");
	for (size_t i = 0; i < conf->nfetch_allow; i++) {
		const struct mcpauth_conf_allow *a = &conf->fetch_allow[i];
		char addr[64] = "";
		if (a->host == NULL)
			inet_ntop(a->family, a->addr, addr, sizeof(addr));
		printf("%s%s", i == 0 ? ", special addresses allowed for " : " ",
		       a->host != NULL ? a->host : addr);
		if (a->host == NULL &&
		    a->bits != (a->family == AF_INET ? 32u : 128u))
			printf("/%u", a->bits);
	}
	printf("\n");
	if (conf->dynamic_registration) {
		char cap[48] = "no cap", rate[64] = "no rate limit";
		if (conf->max_dynamic_clients > 0)
			snprintf(cap, sizeof(cap), "at most %ld",
				 conf->max_dynamic_clients);
		if (conf->registration_rate_limit > 0)
			snprintf(rate, sizeof(rate),
				 "%ld per address per %lds",
				 conf->registration_rate_limit,
				 conf->registration_rate_window);
		printf("registration:  %s/register (%s clients%s; %s, %s)\n",
		       conf->issuer,
		       conf->confidential_registration
			       ? "public and confidential"
			       : "public",
		       conf->initial_access_token_required
			       ? ", initial access token required"
			       : "",
		       cap, rate);
	} else
		printf("registration:  off (dynamic_registration = no)\n");
	for (size_t i = 0; i < conf->nresources; i++) {
		const struct mcpauth_resource *r = &conf->resources[i];
		const char *scheme_end = strstr(r->url, "://");
		printf("resource:      %s%s\n", r->url,
		       r->url == conf->default_resource ? " (default)" : "");
		printf("  metadata:    %.*s://%s/.well-known/"
		       "oauth-protected-resource%s\n",
		       (int)(scheme_end - r->url), r->url, r->authority,
		       r->path);
		printf("  scopes:     ");
		for (size_t s = 0; s < r->nscopes; s++)
			printf(" %s", r->scopes[s]);
		printf("\n");
	}
	return EXIT_SUCCESS;
}

static int cmd_key_list(const struct mcpauth_conf *conf, bool json)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_signing_key *keys = NULL;
	size_t n = 0;
	int rc = EXIT_FAILURE;

	if (!open_store(conf, 0, &store, &err) ||
	    !mcpauth_store_ready(store, &err) ||
	    !mcpauth_store_key_list(store, &keys, &n, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (json) {
		struct json_object *arr = json_object_new_array();
		char *s;
		for (size_t i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();
			long long times[] = { keys[i].created_at,
					      keys[i].activated_at,
					      keys[i].retired_at,
					      keys[i].publish_until };
			const char *names[] = { "created_at", "activated_at",
						"retired_at", "publish_until" };
			mcpauth_json_add_str(o, "kid", keys[i].kid);
			mcpauth_json_add_str(o, "alg", keys[i].alg);
			mcpauth_json_add_str(
				o, "state",
				mcpauth_store_key_state_name(keys[i].state));
			for (size_t t = 0; t < 4; t++) {
				char buf[32];
				iso_time(times[t], buf, sizeof(buf));
				json_object_object_add(
					o, names[t],
					times[t] > 0
						? json_object_new_string(buf)
						: NULL);
			}
			json_object_array_add(arr, o);
		}
		s = mcpauth_json_dump(arr);
		printf("%s\n", s != NULL ? s : "[]");
		free(s);
		json_object_put(arr);
	} else {
		printf("%-20s %-6s %-8s %-21s %-21s %-21s %s\n", "KID", "ALG",
		       "STATE", "CREATED", "ACTIVATED", "RETIRED",
		       "PUBLISHED UNTIL");
		for (size_t i = 0; i < n; i++) {
			char c[32], a[32], r[32], p[32];
			iso_time(keys[i].created_at, c, sizeof(c));
			iso_time(keys[i].activated_at, a, sizeof(a));
			iso_time(keys[i].retired_at, r, sizeof(r));
			iso_time(keys[i].publish_until, p, sizeof(p));
			printf("%-20s %-6s %-8s %-21s %-21s %-21s %s\n",
			       keys[i].kid, keys[i].alg,
			       mcpauth_store_key_state_name(keys[i].state), c,
			       a, r, p);
		}
	}
	rc = EXIT_SUCCESS;
out:
	mcpauth_store_keys_free(keys, n);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_key_change(const struct mcpauth_conf *conf, const char *what,
			  const char *alg)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	enum mcpauth_key_state state;
	char kid[64], retired[64];
	int rc = EXIT_FAILURE;

	if (!open_store(conf, 0, &store, &err) ||
	    !mcpauth_store_ready(store, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (!strcmp(what, "generate")) {
		if (!mcpauth_keys_generate(conf, store, alg, kid, &state,
					   &err)) {
			rc = fail(&err);
			goto out;
		}
		printf("signing key %s: generated, %s%s\n", kid,
		       mcpauth_store_key_state_name(state),
		       state == MCPAUTH_KEY_PENDING
			       ? " (published in the JWKS; 'mcpauth-admin "
				 "key rotate' makes it sign)"
			       : "");
	} else {
		bool unpublished = false;

		if (!mcpauth_keys_rotate(conf, store, alg, kid, retired,
					 &unpublished, &err)) {
			rc = fail(&err);
			goto out;
		}
		printf("signing key %s: active\n", kid);
		if (unpublished)
			fprintf(stderr,
				"mcpauth-admin: warning: key %s signs without "
				"having been published first; resource "
				"servers that cached the JWKS may refuse new "
				"tokens for up to 5 minutes. Next time run "
				"'key generate' well before 'key rotate'.\n",
				kid);
		if (retired[0] != '\0')
			printf("signing key %s: retired, stays in the JWKS "
			       "for %lds, private key deleted\n",
			       retired, conf->access_token_lifetime + 60);
	}
	rc = EXIT_SUCCESS;
out:
	mcpauth_store_free(store);
	return rc;
}

/* Opens the store and checks its schema, for the commands that read it. */
static bool open_ready(const struct mcpauth_conf *conf,
		       struct mcpauth_store **store, struct mcpauth_err *err)
{
	return open_store(conf, 0, store, err) &&
	       mcpauth_store_ready(*store, err);
}

static void add_time(struct json_object *o, const char *key, long long t)
{
	char buf[32];

	iso_time(t, buf, sizeof(buf));
	json_object_object_add(o, key, t > 0 ? json_object_new_string(buf)
					     : NULL);
}

/* The words of a space-separated list as a JSON array. */
static struct json_object *words_json(const char *list)
{
	struct json_object *arr = json_object_new_array();

	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t n;
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n > 0)
			json_object_array_add(
				arr, json_object_new_string_len(p, (int)n));
		p += n;
	}
	return arr;
}

/*
 * A client as the admin sees it: metadata plus bookkeeping, no hashes (of
 * a previous secret only until when it still works).
 */
static struct json_object *client_json(const struct mcpauth_conf *conf,
				       const struct mcpauth_client *c)
{
	struct json_object *o = mcpauth_client_to_json(conf, c, NULL, NULL);
	struct json_object *jwks = NULL;
	long long now = (long long)time(NULL);

	mcpauth_json_add_str(o, "source", c->source);
	json_object_object_add(o, "has_secret",
			       json_object_new_boolean(c->secret_hash != NULL));
	add_time(o, "previous_secret_valid_until",
		 c->previous_secret_hash != NULL &&
				 c->previous_secret_until > now
			 ? c->previous_secret_until
			 : 0);
	json_object_object_add(o, "first_party",
			       json_object_new_boolean(c->first_party));
	/* The column, not the metadata, decides: null is any resource. */
	json_object_object_add(o, "resources",
			       c->allowed_resources != NULL
				       ? words_json(c->allowed_resources)
				       : NULL);
	json_object_object_add(o, "signing_alg",
			       c->signing_alg != NULL
				       ? json_object_new_string(c->signing_alg)
				       : NULL);
	if (c->jwks != NULL)
		jwks = json_tokener_parse(c->jwks);
	json_object_object_add(o, "jwks", jwks);
	json_object_object_add(o, "jwks_uri",
			       c->jwks_uri != NULL
				       ? json_object_new_string(c->jwks_uri)
				       : NULL);
	add_time(o, "jwks_fetched_at", c->jwks_fetched_at);
	add_time(o, "jwks_expires_at", c->jwks_expires_at);
	add_time(o, "document_fetched_at", c->document_fetched_at);
	add_time(o, "document_expires_at", c->document_expires_at);
	add_time(o, "disabled_at", c->disabled_at);
	mcpauth_json_add_str(o, "registered_from", c->registered_from);
	add_time(o, "created_at", c->created_at);
	add_time(o, "updated_at", c->updated_at);
	add_time(o, "last_used_at", c->last_used_at);
	return o;
}

static void print_json(struct json_object *o)
{
	char *s = mcpauth_json_dump(o);

	printf("%s\n", s != NULL ? s : "null");
	free(s);
	json_object_put(o);
}

/* One member a line, strings as they are, the rest as JSON; frees o. */
static void print_text(struct json_object *o)
{
	json_object_object_foreach(o, key, val)
	{
		printf("%-27s %s\n", key,
		       json_object_is_type(val, json_type_string)
			       ? json_object_get_string(val)
			       : json_object_to_json_string_ext(
					 val, JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	json_object_put(o);
}

static int cmd_client_list(const struct mcpauth_conf *conf, bool json)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_client **list = NULL;
	size_t n = 0;
	int rc = EXIT_FAILURE;

	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_store_client_list(store, &list, &n, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (json) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, client_json(conf, list[i]));
		print_json(arr);
	} else {
		printf("%-24s %-8s %-20s %-21s %-21s %-21s %s\n", "CLIENT_ID",
		       "SOURCE", "AUTH", "CREATED", "LAST USED", "DISABLED",
		       "NAME");
		for (size_t i = 0; i < n; i++) {
			char cr[32], lu[32], di[32];
			iso_time(list[i]->created_at, cr, sizeof(cr));
			iso_time(list[i]->last_used_at, lu, sizeof(lu));
			iso_time(list[i]->disabled_at, di, sizeof(di));
			printf("%-24s %-8s %-20s %-21s %-21s %-21s %s\n",
			       list[i]->client_id, list[i]->source,
			       list[i]->auth_method, cr, lu, di,
			       list[i]->client_name ? list[i]->client_name
						    : "-");
		}
	}
	rc = EXIT_SUCCESS;
out:
	mcpauth_store_clients_free(list, n);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_client_show(const struct mcpauth_conf *conf, const char *id,
			   bool json)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_client *c = NULL;
	int rc = EXIT_FAILURE;

	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_store_client_get(store, id, &c, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (c == NULL) {
		fprintf(stderr, "mcpauth-admin: no client '%s'\n", id);
		goto out;
	}
	if (json)
		print_json(client_json(conf, c));
	else
		print_text(client_json(conf, c));
	rc = EXIT_SUCCESS;
out:
	mcpauth_client_free(c);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_client_delete(const struct mcpauth_conf *conf, const char *id)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_client *c = NULL;
	bool found = false;
	int rc = EXIT_FAILURE;

	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_store_client_get(store, id, &c, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (c != NULL) {
		struct mcpauth_audit a = {
			.at = (long long)time(NULL),
			.event = "delete",
			.actor = "admin",
			.client_id = id,
			.software_id = c->software_id,
			.client_name = c->client_name,
		};
		if (!mcpauth_store_client_delete(store, id, &a, &found, &err)) {
			rc = fail(&err);
			goto out;
		}
	}
	if (!found) {
		fprintf(stderr, "mcpauth-admin: no client '%s'\n", id);
		goto out;
	}
	printf("client %s: deleted\n", id);
	rc = EXIT_SUCCESS;
out:
	mcpauth_client_free(c);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_gc(const struct mcpauth_conf *conf)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	long long now = (long long)time(NULL);
	long clients = 0, audits = 0, tokens = 0;
	int rc = EXIT_FAILURE;

	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_store_gc_tokens(store, now, &tokens, &err) ||
	    !mcpauth_store_gc(store, now,
			      conf->dynamic_client_idle_expiry > 0
				      ? now - conf->dynamic_client_idle_expiry
				      : 0,
			      conf->dynamic_client_unused_expiry > 0
				      ? now - conf->dynamic_client_unused_expiry
				      : 0,
			      conf->audit_retention > 0
				      ? now - conf->audit_retention
				      : 0,
			      &clients, &audits, &err)) {
		rc = fail(&err);
		goto out;
	}
	printf("gc: removed %ld idle clients, %ld audit rows, %ld expired "
	       "sessions, requests, codes and tokens\n",
	       clients, audits, tokens);
	rc = EXIT_SUCCESS;
out:
	mcpauth_store_free(store);
	return rc;
}

static int cmd_token_create(const struct mcpauth_conf *conf,
			    const struct opts *o)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	long long now = (long long)time(NULL), id = 0;
	long expires = 0;
	char *token = NULL, *hash = NULL;
	int rc = EXIT_FAILURE;

	if (o->expires != NULL &&
	    (!mcpauth_conf_duration(o->expires, 10L * 365 * 86400, &expires) ||
	     expires == 0)) {
		fprintf(stderr, "mcpauth-admin: --expires takes a duration "
				"such as 3600, 12h or 30d\n");
		return EXIT_USAGE;
	}
	if (o->label != NULL && strlen(o->label) > 100) {
		fprintf(stderr, "mcpauth-admin: --label is at most 100 "
				"characters\n");
		return EXIT_USAGE;
	}
	/* As random as a client secret, and stored the same way. */
	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_client_new_secret(&token, &hash, &err) ||
	    !mcpauth_store_initial_token_add(store, o->label, hash, now,
					     expires > 0 ? now + expires : 0,
					     &id, &err)) {
		rc = fail(&err);
		goto out;
	}
	/* stdout is the token alone, for t=$(mcpauth-admin initial-token create). */
	printf("%s\n", token);
	fprintf(stderr,
		"initial access token %lld created%s; it is shown only now. "
		"Registration requires one when initial_access_token_required "
		"= yes.\n",
		id, expires > 0 ? " (expires)" : " (does not expire)");
	rc = EXIT_SUCCESS;
out:
	mcpauth_crypto_free_secret(token);
	free(hash);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_token_list(const struct mcpauth_conf *conf, bool json)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_initial_token *t = NULL;
	size_t n = 0;
	int rc = EXIT_FAILURE;

	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_store_initial_token_list(store, &t, &n, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (json) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "id",
					       json_object_new_int64(t[i].id));
			json_object_object_add(
				o, "label",
				t[i].label[0] != '\0'
					? json_object_new_string(t[i].label)
					: NULL);
			add_time(o, "created_at", t[i].created_at);
			add_time(o, "expires_at", t[i].expires_at);
			add_time(o, "revoked_at", t[i].revoked_at);
			json_object_object_add(o, "uses",
					       json_object_new_int64(t[i].uses));
			add_time(o, "last_used_at", t[i].last_used_at);
			json_object_array_add(arr, o);
		}
		print_json(arr);
	} else {
		printf("%-5s %-21s %-21s %-21s %-6s %s\n", "ID", "CREATED",
		       "EXPIRES", "REVOKED", "USES", "LABEL");
		for (size_t i = 0; i < n; i++) {
			char c[32], e[32], r[32];
			iso_time(t[i].created_at, c, sizeof(c));
			iso_time(t[i].expires_at, e, sizeof(e));
			iso_time(t[i].revoked_at, r, sizeof(r));
			printf("%-5lld %-21s %-21s %-21s %-6lld %s\n", t[i].id,
			       c, e, r, t[i].uses, t[i].label);
		}
	}
	rc = EXIT_SUCCESS;
out:
	free(t);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_token_revoke(const struct mcpauth_conf *conf, const char *arg)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	char *end = NULL;
	long long id = strtoll(arg, &end, 10);
	bool found = false;
	int rc = EXIT_FAILURE;

	if (end == arg || *end != '\0' || id <= 0) {
		fprintf(stderr, "mcpauth-admin: '%s' is not a token id (see "
				"'initial-token list')\n", arg);
		return EXIT_USAGE;
	}
	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_store_initial_token_revoke(store, id, (long long)time(NULL),
						&found, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (!found) {
		fprintf(stderr, "mcpauth-admin: no initial access token %lld\n",
			id);
		goto out;
	}
	printf("initial access token %lld: revoked\n", id);
	rc = EXIT_SUCCESS;
out:
	mcpauth_store_free(store);
	return rc;
}

/* --- users, consents, first-party clients ------------------------------- */

/* A password line with room to notice one byte too many. */
#define PASSWORD_BUF (MCPAUTH_PASSWORD_MAX + 2)

/* The terminal's settings while echo is off, for the signal handler. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

/* Ctrl-C at the prompt: echo back on, then die of the signal as usual. */
static void restore_tty(int sig)
{
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Reads one line of standard input into buf (PASSWORD_BUF bytes) without
 * its newline and a CR before it. One byte at a time, so that no copy of
 * the password waits in a stdio buffer and nothing after the line is
 * consumed. Returns an exit status, with the message printed.
 */
static int read_line(char *buf)
{
	size_t len = 0;
	bool any = false;
	char c = '\0';

	for (;;) {
		ssize_t r = read(STDIN_FILENO, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "mcpauth-admin: reading the password: "
					"%s\n", strerror(errno));
			return EXIT_FAILURE;
		}
		if (r == 0)
			break;
		any = true;
		if (c == '\n')
			break;
		if (c == '\0') {
			fprintf(stderr, "mcpauth-admin: the password contains "
					"a NUL byte\n");
			return EXIT_USAGE;
		}
		if (len + 1 >= PASSWORD_BUF) {
			fprintf(stderr, "mcpauth-admin: a password is at most "
					"%d bytes\n", MCPAUTH_PASSWORD_MAX);
			return EXIT_USAGE;
		}
		buf[len++] = c;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (!any && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "mcpauth-admin: no password on standard input "
				"(give it as one line, or run this on a "
				"terminal to be asked)\n");
		return EXIT_USAGE;
	}
	if (len > MCPAUTH_PASSWORD_MAX) {
		fprintf(stderr, "mcpauth-admin: a password is at most %d "
				"bytes\n", MCPAUTH_PASSWORD_MAX);
		return EXIT_USAGE;
	}
	if (len == 0) {
		fprintf(stderr, "mcpauth-admin: the password is empty\n");
		return EXIT_USAGE;
	}
	return EXIT_SUCCESS;
}

/*
 * The new password into pw (PASSWORD_BUF bytes): asked twice with echo off
 * on a terminal, else the first line of standard input. Returns an exit
 * status; the caller wipes pw either way.
 */
static int read_password(char *pw)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	void (*old[sizeof(sigs) / sizeof(sigs[0])])(int);
	char again[PASSWORD_BUF];
	struct termios noecho;
	int rc;

	if (!isatty(STDIN_FILENO))
		return read_line(pw);
	if (tcgetattr(STDIN_FILENO, &saved_tty) != 0) {
		fprintf(stderr, "mcpauth-admin: reading the terminal's "
				"settings: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	noecho = saved_tty;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	/* A signal ignored (nohup) stays ignored. */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if ((old[i] = signal(sigs[i], restore_tty)) == SIG_IGN)
			signal(sigs[i], SIG_IGN);
	tty_changed = 1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho) != 0) {
		fprintf(stderr, "mcpauth-admin: turning echo off: %s\n",
			strerror(errno));
		rc = EXIT_FAILURE;
		goto out;
	}
	fputs("password: ", stderr);
	rc = read_line(pw);
	fputc('\n', stderr);
	if (rc != EXIT_SUCCESS)
		goto out;
	fputs("again: ", stderr);
	rc = read_line(again);
	fputc('\n', stderr);
	if (rc == EXIT_SUCCESS && strcmp(pw, again) != 0) {
		fprintf(stderr, "mcpauth-admin: the passwords differ\n");
		rc = EXIT_USAGE;
	}
out:
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	tty_changed = 0;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], old[i]);
	mcpauth_crypto_wipe(again, sizeof(again));
	return rc;
}

/* 1 to 64 of [A-Za-z0-9._@+-]: fits a log line, a URL and an e-mail. */
static bool valid_username(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= 64 &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789._@+-") == n;
}

/* Reads the user named name into *user (NULL: said so on stderr). */
static bool get_user(struct mcpauth_store *store, const char *name,
		     struct mcpauth_user **user, struct mcpauth_err *err)
{
	if (!mcpauth_store_user_get(store, name, user, err))
		return false;
	if (*user == NULL)
		fprintf(stderr, "mcpauth-admin: no user '%s' (see 'user "
				"list')\n", name);
	return true;
}

/* user add NAME and user passwd NAME: the password from standard input. */
static int cmd_user_password(const struct mcpauth_conf *conf,
			     const char *name, bool add)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_user *user = NULL;
	char pw[PASSWORD_BUF];
	char *hash = NULL, *subject = NULL;
	bool found = false;
	int rc = EXIT_FAILURE;

	pw[0] = '\0';
	if (add && !valid_username(name)) {
		fprintf(stderr, "mcpauth-admin: a user name is 1 to 64 "
				"characters of A-Z a-z 0-9 . _ @ + -\n");
		return EXIT_USAGE;
	}
	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_store_user_get(store, name, &user, &err)) {
		rc = fail(&err);
		goto out;
	}
	/* Before asking for a password that could not be used. */
	if (add && user != NULL) {
		fprintf(stderr, "mcpauth-admin: user '%s' exists (change its "
				"password with 'user passwd')\n", name);
		goto out;
	}
	if (!add && user == NULL) {
		fprintf(stderr, "mcpauth-admin: no user '%s' (see 'user "
				"list')\n", name);
		goto out;
	}
	if ((rc = read_password(pw)) != EXIT_SUCCESS)
		goto out;
	rc = EXIT_FAILURE;
	if (!mcpauth_password_hash(pw, &hash, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (add) {
		/* The token's sub: random, not the name (RFC 9068 §2.2). */
		if (!mcpauth_crypto_random_token(16, &subject, &err) ||
		    !mcpauth_store_user_add(store, name, subject, hash,
					    (long long)time(NULL), NULL,
					    &err)) {
			rc = fail(&err);
			goto out;
		}
		printf("user %s: added\n", name);
	} else {
		if (!mcpauth_store_user_set_password(store, name, hash,
						     (long long)time(NULL),
						     &found, &err)) {
			rc = fail(&err);
			goto out;
		}
		if (!found) {
			fprintf(stderr, "mcpauth-admin: no user '%s'\n", name);
			goto out;
		}
		printf("user %s: password changed; sessions ended, refresh "
		       "and access tokens revoked\n",
		       name);
	}
	rc = EXIT_SUCCESS;
out:
	mcpauth_crypto_wipe(pw, sizeof(pw));
	free(hash);
	free(subject);
	mcpauth_user_free(user);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_user_disable(const struct mcpauth_conf *conf, const char *name,
			    bool disable)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_user *user = NULL;
	bool found = false;
	int rc = EXIT_FAILURE;

	if (!open_ready(conf, &store, &err) ||
	    !get_user(store, name, &user, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (user == NULL)
		goto out;
	/* Keeps the first disabled_at: it dates what was revoked. */
	if ((user->disabled_at > 0) == disable) {
		char at[32];
		iso_time(user->disabled_at, at, sizeof(at));
		if (disable)
			printf("user %s: already disabled (since %s)\n", name,
			       at);
		else
			printf("user %s: already enabled\n", name);
		rc = EXIT_SUCCESS;
		goto out;
	}
	if (!mcpauth_store_user_set_disabled(
		    store, name, disable ? (long long)time(NULL) : 0, &found,
		    &err)) {
		rc = fail(&err);
		goto out;
	}
	if (!found) {
		fprintf(stderr, "mcpauth-admin: no user '%s'\n", name);
		goto out;
	}
	if (disable)
		printf("user %s: disabled; sessions ended, refresh and access "
		       "tokens revoked\n", name);
	else
		printf("user %s: enabled; may sign in again (tokens revoked "
		       "when disabled stay revoked)\n", name);
	rc = EXIT_SUCCESS;
out:
	mcpauth_user_free(user);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_user_list(const struct mcpauth_conf *conf, bool json)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_user *u = NULL;
	size_t n = 0;
	int rc = EXIT_FAILURE;

	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_store_user_list(store, &u, &n, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (json) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "id",
					       json_object_new_int64(u[i].id));
			mcpauth_json_add_str(o, "username", u[i].username);
			mcpauth_json_add_str(o, "subject", u[i].subject);
			add_time(o, "created_at", u[i].created_at);
			add_time(o, "disabled_at", u[i].disabled_at);
			add_time(o, "last_login_at", u[i].last_login_at);
			json_object_array_add(arr, o);
		}
		print_json(arr);
	} else {
		printf("%-5s %-20s %-24s %-21s %-21s %s\n", "ID", "USERNAME",
		       "SUBJECT", "CREATED", "DISABLED", "LAST LOGIN");
		for (size_t i = 0; i < n; i++) {
			char c[32], d[32], l[32];
			iso_time(u[i].created_at, c, sizeof(c));
			iso_time(u[i].disabled_at, d, sizeof(d));
			iso_time(u[i].last_login_at, l, sizeof(l));
			printf("%-5lld %-20s %-24s %-21s %-21s %s\n", u[i].id,
			       u[i].username, u[i].subject, c, d, l);
		}
	}
	rc = EXIT_SUCCESS;
out:
	mcpauth_store_users_free(u, n);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_consent_revoke(const struct mcpauth_conf *conf,
			      const char *name, const char *client_id)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_user *user = NULL;
	struct mcpauth_client *c = NULL;
	long count = 0;
	int rc = EXIT_FAILURE;

	/* The store counts 0 for an unknown user or client: say which. */
	if (!open_ready(conf, &store, &err) ||
	    !get_user(store, name, &user, &err) ||
	    (user != NULL && client_id != NULL &&
	     !mcpauth_store_client_get(store, client_id, &c, &err))) {
		rc = fail(&err);
		goto out;
	}
	if (user == NULL)
		goto out;
	if (client_id != NULL && c == NULL) {
		fprintf(stderr, "mcpauth-admin: no client '%s'\n", client_id);
		goto out;
	}
	if (!mcpauth_store_consent_revoke(store, name, client_id,
					  (long long)time(NULL), &count,
					  &err)) {
		rc = fail(&err);
		goto out;
	}
	printf("user %s: %ld consent%s revoked%s%s", name, count,
	       count == 1 ? "" : "s", client_id ? " for client " : "",
	       client_id ? client_id : "");
	if (count > 0)
		printf("; their tokens revoked; asked again at the next "
		       "authorization");
	printf("\n");
	rc = EXIT_SUCCESS;
out:
	mcpauth_client_free(c);
	mcpauth_user_free(user);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_client_first_party(const struct mcpauth_conf *conf,
				  const char *id, const char *value)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_client *c = NULL;
	bool yes = value != NULL && !strcmp(value, "yes"), found = false;
	int rc = EXIT_FAILURE;

	if (!yes && (value == NULL || strcmp(value, "no") != 0)) {
		fprintf(stderr, "mcpauth-admin: client first-party takes yes "
				"or no after the client_id\n");
		return EXIT_USAGE;
	}
	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_store_client_get(store, id, &c, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (c == NULL) {
		fprintf(stderr, "mcpauth-admin: no client '%s'\n", id);
		goto out;
	}
	if (!mcpauth_store_client_set_first_party(store, id, yes, &found,
						  &err)) {
		rc = fail(&err);
		goto out;
	}
	if (!found) {
		fprintf(stderr, "mcpauth-admin: no client '%s'\n", id);
		goto out;
	}
	if (yes)
		printf("client %s: first party; its users are not asked for "
		       "consent\n", id);
	else
		printf("client %s: not first party; its users are asked for "
		       "consent\n", id);
	/* RFC 7592 lets whoever registered it change its redirect URIs. */
	if (yes && !strcmp(c->source, "dynamic"))
		fprintf(stderr,
			"mcpauth-admin: warning: client %s registered itself "
			"(dynamic): whoever holds its registration access "
			"token can change its redirect URIs, and gc removes it "
			"when idle\n",
			id);
	rc = EXIT_SUCCESS;
out:
	mcpauth_client_free(c);
	mcpauth_store_free(store);
	return rc;
}

/* --- operator-provisioned clients --------------------------------------- */

/* Prints "mcpauth-admin: " and the message; returns EXIT_USAGE. */
static int usage_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("mcpauth-admin: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* Text from a file or an argument made safe to print in a message. */
static const char *shown(char *buf, size_t size, const char *s)
{
	mcpauth_client_text_copy(buf, size, s);
	return buf;
}

/*
 * A client_name as registration accepts it: 1 to MCPAUTH_CLIENT_MAX_NAME
 * bytes of UTF-8 without control or text-direction characters (what
 * mcpauth_client_text_copy keeps as it is, but for '"').
 */
static bool valid_client_name(const char *name)
{
	char copy[MCPAUTH_CLIENT_MAX_NAME + 1];
	size_t n = strlen(name);

	if (n == 0 || n > MCPAUTH_CLIENT_MAX_NAME)
		return false;
	mcpauth_client_text_copy(copy, sizeof(copy), name);
	if (strlen(copy) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (copy[i] != name[i] && !(name[i] == '"' && copy[i] == '\''))
			return false;
	return true;
}

/* Appends tok to the space-separated *list unless it is there already. */
static bool add_word(char **list, const char *tok)
{
	size_t have = *list != NULL ? strlen(*list) : 0, len = strlen(tok);
	char *n;

	if (*list != NULL && mcpauth_scope_has(*list, tok))
		return true;
	n = realloc(*list, have + len + 2);
	if (n == NULL)
		return false;
	snprintf(n + have, len + 2, "%s%s", have > 0 ? " " : "", tok);
	*list = n;
	return true;
}

#define JWKS_MAX_BYTES MCPAUTH_FETCH_JWKS_MAX

/*
 * Reads the JWKS of a private_key_jwt client from file and checks it with
 * mcpauth_client_jwks_parse (alg_label names the algorithm in messages).
 * *out is a new JWKS of the keys' public members (free); *nkeys their
 * number. Returns an exit status, the message printed.
 */
static int load_jwks(const char *file, const char *alg, const char *alg_label,
		     char **out, size_t *nkeys)
{
	struct mcpauth_err err = { 0 };
	FILE *f = NULL;
	char *buf = NULL;
	size_t len;
	int rc = EXIT_USAGE;

	if ((f = fopen(file, "r")) == NULL) {
		usage_err("--jwks %s: %s", file, strerror(errno));
		goto out;
	}
	if ((buf = malloc(JWKS_MAX_BYTES + 1)) == NULL) {
		fprintf(stderr, "mcpauth-admin: out of memory\n");
		rc = EXIT_FAILURE;
		goto out;
	}
	len = fread(buf, 1, JWKS_MAX_BYTES + 1, f);
	if (ferror(f)) {
		usage_err("--jwks %s: cannot read it", file);
		goto out;
	}
	if (len > JWKS_MAX_BYTES) {
		usage_err("--jwks %s: larger than %d bytes", file,
			  JWKS_MAX_BYTES);
		goto out;
	}
	if (!mcpauth_client_jwks_parse(buf, len, alg, alg_label, out, nkeys,
				       &err)) {
		usage_err("--jwks %s: %s", file, err.description);
		goto out;
	}
	rc = EXIT_SUCCESS;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* Records what the admin did to a client; a failure only warns. */
static void audit_admin(struct mcpauth_store *store, const char *event,
			const struct mcpauth_client *c, const char *detail)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_audit a = {
		.at = (long long)time(NULL),
		.event = event,
		.actor = "admin",
		.client_id = c->client_id,
		.software_id = c->software_id,
		.client_name = c->client_name,
		.detail = detail,
	};

	if (!mcpauth_store_audit_add(store, &a, &err))
		fprintf(stderr, "mcpauth-admin: warning: not recorded in the "
				"audit log: %s\n", err.description);
}

/* Reads client id into *c; NULL: said so on stderr. */
static bool get_client(struct mcpauth_store *store, const char *id,
		       struct mcpauth_client **c, struct mcpauth_err *err)
{
	if (!mcpauth_store_client_get(store, id, c, err))
		return false;
	if (*c == NULL)
		fprintf(stderr, "mcpauth-admin: no client '%s' (see 'client "
				"list')\n", id);
	return true;
}

/* A private_key_jwt client's keys as --jwks or --jwks-uri gave them. */
struct client_keys {
	char *jwks;           /* the public keys (from the file or URL) */
	size_t nkeys;
	const char *uri;      /* --jwks-uri, or NULL */
	long long fetched_at; /* ... fetched then, used until expires_at */
	long long expires_at;
};

/*
 * Reads the keys from --jwks FILE, or fetches them from --jwks-uri URL the
 * way the token endpoint will (fetch.c), and checks them for alg
 * (alg_label names it in messages). Returns an exit status.
 */
static int read_keys(const struct mcpauth_conf *conf, const struct opts *o,
		     const char *alg, const char *alg_label,
		     struct client_keys *k)
{
	struct mcpauth_err err = { 0 };
	long long now = (long long)time(NULL);
	char b[256];

	if (o->jwks != NULL && o->jwks_uri != NULL)
		return usage_err("give --jwks FILE or --jwks-uri URL, not both");
	if (o->jwks != NULL)
		return load_jwks(o->jwks, alg, alg_label, &k->jwks, &k->nkeys);
	if (!mcpauth_client_jwks_fetch(conf, o->jwks_uri, alg, alg_label, now,
				       &k->jwks, &k->nkeys, &k->expires_at,
				       &err)) {
		if (err.status >= 500)
			return fail(&err);
		return usage_err("--jwks-uri %s: %s",
				 shown(b, sizeof(b), o->jwks_uri),
				 err.description);
	}
	k->uri = o->jwks_uri;
	k->fetched_at = now;
	return EXIT_SUCCESS;
}

/* What client add decided from its options, before anything is stored. */
struct new_client {
	bool cc, code;        /* client_credentials, authorization_code */
	const char *auth;     /* token_endpoint_auth_method */
	const char *alg;      /* private_key_jwt: signing_alg */
	struct client_keys keys; /* private_key_jwt */
	char *resources;      /* space-separated allowed resources, or NULL */
	char *scope;
	const char *uris[MCPAUTH_CLIENT_MAX_REDIRECT_URIS];
	size_t nuris;
	bool native;
};

/* The grants and the authentication method. Returns an exit status. */
static int new_client_auth(const struct mcpauth_conf *conf,
			   const struct opts *o, struct new_client *nc)
{
	char label[96];
	static const char *const methods[] = {
		"client_secret_basic", "client_secret_post",
		"private_key_jwt", "none",
	};
	bool known = false;

	for (size_t i = 0; i < o->ngrants; i++) {
		if (!strcmp(o->grants[i], "client_credentials"))
			nc->cc = true;
		else if (!strcmp(o->grants[i], "authorization_code"))
			nc->code = true;
		else
			return usage_err("--grant is client_credentials or "
					 "authorization_code");
	}
	if (!nc->cc && !nc->code)
		return usage_err("client add needs --grant client_credentials "
				 "(a machine client) or --grant "
				 "authorization_code (a client users sign in "
				 "to), or both");
	nc->auth = o->auth != NULL ? o->auth : "client_secret_basic";
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		known |= !strcmp(nc->auth, methods[i]);
	if (!known)
		return usage_err("--auth is client_secret_basic, "
				 "client_secret_post, private_key_jwt or none");
	/* RFC 6749 §4.4: the client_credentials grant is for confidential
	 * clients only. */
	if (nc->cc && !strcmp(nc->auth, "none"))
		return usage_err("a client_credentials client must "
				 "authenticate: --auth client_secret_basic, "
				 "client_secret_post or private_key_jwt, not "
				 "none");
	if (strcmp(nc->auth, "private_key_jwt") != 0) {
		if (o->jwks != NULL || o->jwks_uri != NULL || o->alg != NULL)
			return usage_err("--jwks, --jwks-uri and --alg are for "
					 "--auth private_key_jwt");
		return EXIT_SUCCESS;
	}
	if (o->jwks == NULL && o->jwks_uri == NULL)
		return usage_err("--auth private_key_jwt needs --jwks FILE or "
				 "--jwks-uri URL, the client's public keys");
	nc->alg = o->alg != NULL ? o->alg : "ES256";
	snprintf(label, sizeof(label), "--alg %s%s", nc->alg,
		 o->alg != NULL ? "" : " (the default)");
	return read_keys(conf, o, nc->alg, label, &nc->keys);
}

/*
 * The allowed resources, redirect URIs and scope. Returns an exit status.
 */
static int new_client_limits(const struct mcpauth_conf *conf,
			     const struct opts *o, struct new_client *nc)
{
	struct mcpauth_err err = { 0 };
	char *offered = NULL, *copy = NULL, *save = NULL, b[256];
	int rc = EXIT_FAILURE;

	if (o->nresources > 0 && !nc->cc)
		return usage_err("--resource limits the tokens of the "
				 "client_credentials grant: add --grant "
				 "client_credentials");
	for (size_t i = 0; i < o->nresources; i++) {
		if (mcpauth_conf_resource(conf, o->resources[i]) == NULL)
			return usage_err(
				"unknown resource '%s': not the url of a "
				"[resource] in %s (see 'check-config')",
				shown(b, sizeof(b), o->resources[i]),
				conf->file);
		if (!add_word(&nc->resources, o->resources[i]))
			goto oom;
	}
	if (o->nredirect_uris > 0 && !nc->code)
		return usage_err("--redirect-uri is for the authorization_code "
				 "grant: add --grant authorization_code");
	if (nc->code && o->nredirect_uris == 0)
		return usage_err("--grant authorization_code needs "
				 "--redirect-uri URI (one or more)");
	/* application_type native for loopback or private-use redirects. */
	for (size_t i = 0; i < o->nredirect_uris; i++)
		nc->native |= strncmp(o->redirect_uris[i], "https:", 6) != 0;
	for (size_t i = 0; i < o->nredirect_uris; i++) {
		bool dup = false;
		if (!mcpauth_client_redirect_uri_ok(o->redirect_uris[i],
						    nc->native, &err))
			return usage_err("--redirect-uri: %s", err.description);
		for (size_t k = 0; k < nc->nuris; k++)
			dup |= !strcmp(nc->uris[k], o->redirect_uris[i]);
		if (!dup)
			nc->uris[nc->nuris++] = o->redirect_uris[i];
	}
	/* The scopes of the allowed resources (of all when any), and
	 * offline_access for refresh tokens. */
	for (size_t i = 0; i < conf->nresources; i++) {
		const struct mcpauth_resource *r = &conf->resources[i];
		if (nc->resources != NULL &&
		    !mcpauth_scope_has(nc->resources, r->url))
			continue;
		for (size_t s = 0; s < r->nscopes; s++)
			if (!add_word(&offered, r->scopes[s]))
				goto oom;
	}
	if (nc->code && !add_word(&offered, "offline_access"))
		goto oom;
	if (o->scope == NULL) {
		nc->scope = offered != NULL ? offered : strdup("");
		offered = NULL;
		if (nc->scope == NULL)
			goto oom;
		return EXIT_SUCCESS;
	}
	if ((copy = strdup(o->scope)) == NULL)
		goto oom;
	for (char *t = strtok_r(copy, " ", &save); t != NULL;
	     t = strtok_r(NULL, " ", &save)) {
		if (offered == NULL || !mcpauth_scope_has(offered, t)) {
			rc = usage_err("--scope: '%s' is not a scope of %s "
				       "(they are: %s)",
				       shown(b, sizeof(b), t),
				       nc->resources != NULL
					       ? "the resources given"
					       : "any resource",
				       offered != NULL ? offered : "none");
			goto out;
		}
		if (!add_word(&nc->scope, t))
			goto oom;
	}
	if (nc->scope == NULL) {
		rc = usage_err("--scope names no scope");
		goto out;
	}
	rc = EXIT_SUCCESS;
	goto out;
oom:
	fprintf(stderr, "mcpauth-admin: out of memory\n");
	rc = EXIT_FAILURE;
out:
	free(offered);
	free(copy);
	return rc;
}

/* The registered metadata (RFC 7591 §2) of the new client, as JSON text. */
static char *new_client_metadata(const char *name, const struct new_client *nc,
				 const char *const *grants, size_t ngrants)
{
	struct json_object *meta = json_object_new_object();
	struct json_object *res = NULL;
	static const char *const code[] = { "code" };
	char *text;

	mcpauth_json_add_strs(meta, "redirect_uris", nc->uris, nc->nuris);
	mcpauth_json_add_str(meta, "token_endpoint_auth_method", nc->auth);
	mcpauth_json_add_strs(meta, "grant_types", grants, ngrants);
	mcpauth_json_add_strs(meta, "response_types", code, nc->code ? 1 : 0);
	mcpauth_json_add_str(meta, "application_type",
			     nc->native ? "native" : "web");
	mcpauth_json_add_str(meta, "scope", nc->scope);
	mcpauth_json_add_str(meta, "client_name", name);
	if (nc->resources != NULL) {
		res = words_json(nc->resources);
		json_object_object_add(meta, "resources", res);
	}
	text = mcpauth_json_dump(meta);
	json_object_put(meta);
	return text;
}

/* What to hand to the client: ids, secret, endpoints (one JSON object). */
static struct json_object *handover_json(const struct mcpauth_conf *conf,
					 const struct mcpauth_client *c,
					 const struct new_client *nc,
					 const char *secret,
					 const char *const *grants,
					 size_t ngrants)
{
	struct json_object *o = json_object_new_object();
	size_t n = strlen(conf->issuer) + sizeof("/authorize");
	char *token = malloc(n), *authz = malloc(n);

	if (token != NULL)
		snprintf(token, n, "%s/token", conf->issuer);
	if (authz != NULL)
		snprintf(authz, n, "%s/authorize", conf->issuer);
	mcpauth_json_add_str(o, "client_id", c->client_id);
	mcpauth_json_add_str(o, "client_secret", secret);
	mcpauth_json_add_str(o, "issuer", conf->issuer);
	mcpauth_json_add_str(o, "token_endpoint", token);
	if (nc->code)
		mcpauth_json_add_str(o, "authorization_endpoint", authz);
	mcpauth_json_add_str(o, "token_endpoint_auth_method", nc->auth);
	if (nc->alg != NULL) {
		/* RFC 7523 §3: aud identifies the authorization server. */
		const char *aud[] = { conf->issuer, token };
		mcpauth_json_add_str(o, "token_endpoint_auth_signing_alg",
				     nc->alg);
		mcpauth_json_add_strs(o, "aud", aud, token != NULL ? 2 : 1);
		mcpauth_json_add_str(o, "jwks_uri", nc->keys.uri);
	}
	mcpauth_json_add_strs(o, "grant_types", grants, ngrants);
	mcpauth_json_add_str(o, "scope", nc->scope);
	if (nc->resources != NULL)
		json_object_object_add(o, "resources",
				       words_json(nc->resources));
	if (nc->code)
		mcpauth_json_add_strs(o, "redirect_uris", nc->uris, nc->nuris);
	free(token);
	free(authz);
	return o;
}

static int cmd_client_add(const struct mcpauth_conf *conf, const char *name,
			  const struct opts *o)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct new_client nc = { 0 };
	const char *grants[3];
	size_t ngrants = 0;
	char *client_id = NULL, *secret = NULL, *hash = NULL;
	char *metadata = NULL, *grant_types = NULL;
	long long now = (long long)time(NULL);
	int rc;

	if (!valid_client_name(name))
		return usage_err("a client NAME is 1 to %d bytes of text "
				 "without control characters",
				 MCPAUTH_CLIENT_MAX_NAME);
	if ((rc = new_client_auth(conf, o, &nc)) != EXIT_SUCCESS ||
	    (rc = new_client_limits(conf, o, &nc)) != EXIT_SUCCESS)
		goto out;
	rc = EXIT_FAILURE;
	if (nc.code) {
		grants[ngrants++] = "authorization_code";
		grants[ngrants++] = "refresh_token";
	}
	if (nc.cc)
		grants[ngrants++] = "client_credentials";
	for (size_t i = 0; i < ngrants; i++)
		if (!add_word(&grant_types, grants[i]))
			goto oom;
	if ((metadata = new_client_metadata(name, &nc, grants, ngrants)) ==
	    NULL)
		goto oom;
	if (!open_ready(conf, &store, &err))
		goto fail;
	/* Never a leading '-', which would read as an option. */
	do {
		free(client_id);
		client_id = NULL;
		if (!mcpauth_crypto_random_token(MCPAUTH_CLIENT_ID_BYTES,
						 &client_id, &err))
			goto fail;
	} while (client_id[0] == '-');
	if (mcpauth_client_method_has_secret(nc.auth) &&
	    !mcpauth_client_new_secret(&secret, &hash, &err))
		goto fail;
	{
		/* Borrowed strings: not for mcpauth_client_free. */
		struct mcpauth_client c = {
			.client_id = client_id,
			.source = (char *)"operator",
			.client_name = (char *)name,
			.auth_method = (char *)nc.auth,
			.application_type = nc.native ? (char *)"native"
						      : (char *)"web",
			.redirect_uris = (char **)nc.uris,
			.nredirect_uris = nc.nuris,
			.grant_types = grant_types,
			.scope = nc.scope,
			.metadata = metadata,
			.secret_hash = hash,
			.created_at = now,
			.updated_at = now,
			.first_party = o->first_party,
			.allowed_resources = nc.resources,
			.jwks = nc.keys.jwks,
			.signing_alg = (char *)nc.alg,
			.jwks_uri = (char *)nc.keys.uri,
			.jwks_fetched_at = nc.keys.fetched_at,
			.jwks_expires_at = nc.keys.expires_at,
		};
		struct mcpauth_audit a = {
			.at = now,
			.event = "register",
			.actor = "admin",
			.client_id = client_id,
			.client_name = name,
		};
		struct json_object *h;

		if (!mcpauth_store_client_add(store, &c, 0, NULL, &a, &err))
			goto fail;
		h = handover_json(conf, &c, &nc, secret, grants, ngrants);
		if (o->json)
			print_json(h);
		else
			print_text(h);
	}
	fprintf(stderr, "client %s: added%s\n", client_id,
		secret != NULL ? "; the client secret is shown only now (the "
				 "database keeps only its hash)"
			       : "");
	if (nc.cc && !conf->client_credentials)
		fprintf(stderr, "mcpauth-admin: warning: %s has "
				"client_credentials = no: the token endpoint "
				"refuses the grant until it is yes\n",
			conf->file);
	if (nc.alg != NULL && !conf->private_key_jwt)
		fprintf(stderr, "mcpauth-admin: warning: %s has "
				"private_key_jwt = no: the token endpoint "
				"refuses client assertions until it is yes\n",
			conf->file);
	rc = EXIT_SUCCESS;
	goto out;
oom:
	MCPAUTH_ERR_INTERNAL(&err, "out of memory");
fail:
	rc = fail(&err);
out:
	mcpauth_crypto_free_secret(secret);
	free(hash);
	free(client_id);
	free(metadata);
	free(grant_types);
	free(nc.keys.jwks);
	free(nc.resources);
	free(nc.scope);
	mcpauth_store_free(store);
	return rc;
}

/* The longest --overlap: long enough to roll a secret out, no longer. */
#define MAX_OVERLAP (30L * 86400)

static int cmd_client_rotate(const struct mcpauth_conf *conf, const char *id,
			     const struct opts *o)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_client *c = NULL;
	long long now = (long long)time(NULL), until = 0, expires = 0;
	long overlap = 0;
	char *secret = NULL, *hash = NULL, at[32], detail[96];
	bool found = false;
	int rc = EXIT_FAILURE;

	if (o->overlap != NULL &&
	    !mcpauth_conf_duration(o->overlap, MAX_OVERLAP, &overlap))
		return usage_err("--overlap takes a duration from 0 to 30d, "
				 "such as 0, 3600, 15m, 12h or 7d");
	if (!open_ready(conf, &store, &err) ||
	    !get_client(store, id, &c, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (c == NULL)
		goto out;
	if (!mcpauth_client_method_has_secret(c->auth_method)) {
		rc = usage_err("client %s authenticates with %s: only "
			       "client_secret_basic and client_secret_post "
			       "clients have a secret to rotate",
			       id, c->auth_method);
		goto out;
	}
	/* A dynamic client's secrets keep their configured lifetime. */
	if (!strcmp(c->source, "dynamic") && conf->client_secret_lifetime > 0)
		expires = now + conf->client_secret_lifetime;
	if (overlap > 0) {
		until = now + overlap;
		/* The old secret never outlives its own expiry. */
		if (c->secret_expires_at > 0 && c->secret_expires_at < until)
			until = c->secret_expires_at;
		if (until <= now)
			until = 0;
	}
	if (!mcpauth_client_new_secret(&secret, &hash, &err) ||
	    !mcpauth_store_client_set_secret(store, id, hash, expires, until,
					     &found, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (!found) {
		fprintf(stderr, "mcpauth-admin: no client '%s'\n", id);
		goto out;
	}
	/* stdout is the secret alone, for s=$(mcpauth-admin client ...). */
	if (o->json) {
		struct json_object *j = json_object_new_object();
		mcpauth_json_add_str(j, "client_id", id);
		mcpauth_json_add_str(j, "client_secret", secret);
		add_time(j, "client_secret_expires_at", expires);
		add_time(j, "previous_secret_valid_until", until);
		print_json(j);
	} else {
		printf("%s\n", secret);
	}
	fflush(stdout);
	iso_time(until, at, sizeof(at));
	fprintf(stderr, "client %s: new client secret, shown only now; the "
			"previous one %s%s\n",
		id, until > 0 ? "stays valid until " : "no longer works",
		until > 0 ? at : "");
	if (c->previous_secret_hash != NULL && c->previous_secret_until > now)
		fprintf(stderr, "mcpauth-admin: warning: the secret replaced "
				"by the last rotation stopped working now\n");
	snprintf(detail, sizeof(detail), "client secret rotated, overlap %lds",
		 until > 0 ? (long)(until - now) : 0L);
	audit_admin(store, "update", c, detail);
	rc = EXIT_SUCCESS;
out:
	mcpauth_crypto_free_secret(secret);
	free(hash);
	mcpauth_client_free(c);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_client_keys(const struct mcpauth_conf *conf, const char *id,
			   const struct opts *o)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_client *c = NULL;
	const char *alg;
	char label[96];
	struct client_keys k = { 0 };
	bool found = false;
	int rc = EXIT_FAILURE;

	if (o->jwks == NULL && o->jwks_uri == NULL)
		return usage_err("usage: client keys CLIENT_ID --jwks FILE | "
				 "--jwks-uri URL [--alg ALG]");
	if (!open_ready(conf, &store, &err) ||
	    !get_client(store, id, &c, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (c == NULL)
		goto out;
	if (strcmp(c->auth_method, "private_key_jwt") != 0) {
		rc = usage_err("client %s authenticates with %s: keys are for "
			       "private_key_jwt clients", id, c->auth_method);
		goto out;
	}
	/* Without --alg the client keeps its algorithm. */
	alg = o->alg != NULL	       ? o->alg
	      : c->signing_alg != NULL ? c->signing_alg
				       : "ES256";
	snprintf(label, sizeof(label), "--alg %s%s", alg,
		 o->alg != NULL ? "" : " (the client's; --alg changes it)");
	if ((rc = read_keys(conf, o, alg, label, &k)) != EXIT_SUCCESS)
		goto out;
	rc = EXIT_FAILURE;
	{
		/* Borrowed strings: not for mcpauth_client_free. */
		struct mcpauth_client keys = {
			.client_id = (char *)id,
			.jwks = k.jwks,
			.signing_alg = (char *)alg,
			.jwks_uri = (char *)k.uri,
			.jwks_fetched_at = k.fetched_at,
			.jwks_expires_at = k.expires_at,
		};
		if (!mcpauth_store_client_set_keys(store, &keys, &found,
						   &err)) {
			rc = fail(&err);
			goto out;
		}
	}
	if (!found) {
		fprintf(stderr, "mcpauth-admin: no client '%s'\n", id);
		goto out;
	}
	printf("client %s: keys replaced (%lu, %s%s%s); assertions signed "
	       "with any other key are refused from now on\n",
	       id, (unsigned long)k.nkeys, alg,
	       k.uri != NULL ? ", fetched again from " : "",
	       k.uri != NULL ? k.uri : "");
	audit_admin(store, "update", c, "keys replaced");
	rc = EXIT_SUCCESS;
out:
	free(k.jwks);
	mcpauth_client_free(c);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_client_disable(const struct mcpauth_conf *conf, const char *id,
			      bool disable)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_client *c = NULL;
	bool found = false;
	int rc = EXIT_FAILURE;

	if (!open_ready(conf, &store, &err) ||
	    !get_client(store, id, &c, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (c == NULL)
		goto out;
	/* Keeps the first disabled_at, as user disable does. */
	if ((c->disabled_at > 0) == disable) {
		char at[32];
		iso_time(c->disabled_at, at, sizeof(at));
		if (disable)
			printf("client %s: already disabled (since %s)\n", id,
			       at);
		else
			printf("client %s: already enabled\n", id);
		rc = EXIT_SUCCESS;
		goto out;
	}
	if (!mcpauth_store_client_set_disabled(
		    store, id, disable ? (long long)time(NULL) : 0, &found,
		    &err)) {
		rc = fail(&err);
		goto out;
	}
	if (!found) {
		fprintf(stderr, "mcpauth-admin: no client '%s'\n", id);
		goto out;
	}
	if (disable)
		printf("client %s: disabled; the token endpoint refuses it "
		       "(invalid_client) and the authorization endpoint shows "
		       "an error page\n", id);
	else
		printf("client %s: enabled\n", id);
	audit_admin(store, "update", c, disable ? "disabled" : "enabled");
	rc = EXIT_SUCCESS;
out:
	mcpauth_client_free(c);
	mcpauth_store_free(store);
	return rc;
}

/* --- consents, token revocation, the audit trail, statistics ------------ */

/* Text from the database for a table cell: "-" for NULL or "". */
static const char *cell(char *buf, size_t size, const char *s)
{
	if (s == NULL || *s == '\0')
		return "-";
	return shown(buf, size, s);
}

static int cmd_consent_list(const struct mcpauth_conf *conf, const char *name,
			    bool json)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_user *user = NULL;
	struct mcpauth_consent_row *c = NULL;
	size_t n = 0;
	int rc = EXIT_FAILURE;

	if (!open_ready(conf, &store, &err) ||
	    (name != NULL && !get_user(store, name, &user, &err))) {
		rc = fail(&err);
		goto out;
	}
	if (name != NULL && user == NULL)
		goto out;
	if (!mcpauth_store_consent_list(store, name, &c, &n, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (json) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();
			mcpauth_json_add_str(o, "username", c[i].username);
			mcpauth_json_add_str(o, "client_id", c[i].client_id);
			json_object_object_add(
				o, "client_name",
				c[i].client_name != NULL
					? json_object_new_string(
						  c[i].client_name)
					: NULL);
			mcpauth_json_add_str(o, "resource", c[i].resource);
			mcpauth_json_add_str(o, "scope", c[i].scope);
			add_time(o, "granted_at", c[i].granted_at);
			json_object_array_add(arr, o);
		}
		print_json(arr);
	} else {
		printf("%-16s %-24s %-21s %-30s %-20s %s\n", "USER",
		       "CLIENT_ID", "GRANTED", "RESOURCE", "SCOPE",
		       "CLIENT NAME");
		for (size_t i = 0; i < n; i++) {
			char g[32], u[128], id[256], r[512], s[512], nm[256];
			iso_time(c[i].granted_at, g, sizeof(g));
			printf("%-16s %-24s %-21s %-30s %-20s %s\n",
			       cell(u, sizeof(u), c[i].username),
			       cell(id, sizeof(id), c[i].client_id), g,
			       cell(r, sizeof(r), c[i].resource),
			       cell(s, sizeof(s), c[i].scope),
			       cell(nm, sizeof(nm), c[i].client_name));
		}
	}
	rc = EXIT_SUCCESS;
out:
	mcpauth_store_consent_rows_free(c, n);
	mcpauth_user_free(user);
	mcpauth_store_free(store);
	return rc;
}

/* token revoke --client ID | --user NAME | --family FAMILY_ID */
static int cmd_tokens_revoke(const struct mcpauth_conf *conf,
			     const struct opts *o)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_client *c = NULL;
	struct mcpauth_user *user = NULL;
	char *fam_client = NULL, *fam_user = NULL, what[160];
	enum mcpauth_revoke_by by;
	const char *key;
	long refresh = 0, access = 0;
	bool found = false;
	int rc = EXIT_FAILURE;
	struct mcpauth_audit a = {
		.at = (long long)time(NULL),
		.event = "revoke",
		.actor = "admin",
	};

	if (!open_ready(conf, &store, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (o->client != NULL) {
		by = MCPAUTH_REVOKE_BY_CLIENT;
		key = o->client;
		if (!get_client(store, key, &c, &err)) {
			rc = fail(&err);
			goto out;
		}
		if (c == NULL)
			goto out;
		a.client_id = c->client_id;
		a.software_id = c->software_id;
		a.client_name = c->client_name;
		snprintf(what, sizeof(what), "client %s", key);
	} else if (o->user != NULL) {
		by = MCPAUTH_REVOKE_BY_USER;
		key = o->user;
		if (!get_user(store, key, &user, &err)) {
			rc = fail(&err);
			goto out;
		}
		if (user == NULL)
			goto out;
		a.username = user->username;
		snprintf(what, sizeof(what), "user %s", key);
	} else {
		by = MCPAUTH_REVOKE_BY_FAMILY;
		key = o->family;
		if (!mcpauth_store_family_find(store, key, &fam_client,
					       &fam_user, &found, &err)) {
			rc = fail(&err);
			goto out;
		}
		if (!found) {
			char b[80];
			fprintf(stderr, "mcpauth-admin: no token of family "
					"'%s' (see grants_view or "
					"access_tokens_view)\n",
				shown(b, sizeof(b), key));
			goto out;
		}
		a.client_id = fam_client;
		a.username = fam_user;
		snprintf(what, sizeof(what), "family %s", key);
	}
	/* The audit detail: what was named, then the counts. */
	a.detail = what;
	if (!mcpauth_store_tokens_revoke(store, by, key, a.at, &a, &refresh,
					 &access, &err)) {
		rc = fail(&err);
		goto out;
	}
	printf("%s: %ld refresh token%s and %ld access token%s revoked\n",
	       what, refresh, refresh == 1 ? "" : "s", access,
	       access == 1 ? "" : "s");
	rc = EXIT_SUCCESS;
out:
	free(fam_client);
	free(fam_user);
	mcpauth_user_free(user);
	mcpauth_client_free(c);
	mcpauth_store_free(store);
	return rc;
}

/* The defaults of audit: the last 7 days, at most 50 rows. */
#define AUDIT_SINCE_DEFAULT (7L * 86400)
#define AUDIT_LIMIT_DEFAULT 50L
#define AUDIT_LIMIT_MAX 100000L
#define AUDIT_SINCE_MAX (3650L * 86400)

static bool parse_limit(const char *s, long *out)
{
	char *end = NULL;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > AUDIT_LIMIT_MAX)
		return false;
	*out = v;
	return true;
}

static int cmd_audit(const struct mcpauth_conf *conf, const struct opts *o)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_audit_row *r = NULL;
	struct mcpauth_audit_filter f = {
		.event = o->event,
		.client_id = o->client,
		.address = o->address,
		.limit = AUDIT_LIMIT_DEFAULT,
	};
	long since = AUDIT_SINCE_DEFAULT;
	size_t n = 0;
	int rc = EXIT_FAILURE;

	/* Checked in main already; here for the values. */
	if ((o->since != NULL &&
	     !mcpauth_conf_duration(o->since, AUDIT_SINCE_MAX, &since)) ||
	    (o->limit != NULL && !parse_limit(o->limit, &f.limit)))
		return EXIT_USAGE;
	/* --since 0: every row still kept. */
	f.since = since > 0 ? (long long)time(NULL) - since : 0;
	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_store_audit_list(store, &f, &r, &n, &err)) {
		rc = fail(&err);
		goto out;
	}
	if (o->json) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			struct json_object *j = json_object_new_object();
			const char *names[] = { "event",   "outcome",
						"actor",   "client_id",
						"address", "username",
						"client_name", "error",
						"detail" };
			const char *vals[] = { r[i].event,   r[i].outcome,
					       r[i].actor,   r[i].client_id,
					       r[i].address, r[i].username,
					       r[i].client_name, r[i].error,
					       r[i].detail };
			json_object_object_add(j, "id",
					       json_object_new_int64(r[i].id));
			add_time(j, "at", r[i].at);
			for (size_t k = 0; k < sizeof(names) / sizeof(names[0]);
			     k++)
				json_object_object_add(
					j, names[k],
					vals[k] != NULL
						? json_object_new_string(vals[k])
						: NULL);
			json_object_object_add(
				j, "status",
				r[i].status > 0
					? json_object_new_int(r[i].status)
					: NULL);
			json_object_array_add(arr, j);
		}
		print_json(arr);
		rc = EXIT_SUCCESS;
		goto out;
	}
	printf("%-20s %-8s %-7s %-6s %-22s %-15s %-16s %s\n", "AT", "EVENT",
	       "OUTCOME", "ACTOR", "CLIENT_ID", "ADDRESS", "USERNAME",
	       "CLIENT NAME / ERROR / DETAIL");
	for (size_t i = 0; i < n; i++) {
		char at[32], ev[64], oc[16], ac[32], id[256], ad[64], us[128];
		char nm[256], er[128], de[512];
		iso_time(r[i].at, at, sizeof(at));
		printf("%-20s %-8s %-7s %-6s %-22s %-15s %-16s", at,
		       cell(ev, sizeof(ev), r[i].event),
		       cell(oc, sizeof(oc), r[i].outcome),
		       cell(ac, sizeof(ac), r[i].actor),
		       cell(id, sizeof(id), r[i].client_id),
		       cell(ad, sizeof(ad), r[i].address),
		       cell(us, sizeof(us), r[i].username));
		if (r[i].client_name == NULL && r[i].error == NULL &&
		    r[i].detail == NULL)
			printf(" -");
		if (r[i].client_name != NULL)
			printf(" \"%s\"", cell(nm, sizeof(nm),
					       r[i].client_name));
		if (r[i].error != NULL)
			printf(" %s%s", cell(er, sizeof(er), r[i].error),
			       r[i].detail != NULL ? ":" : "");
		if (r[i].detail != NULL)
			printf(" %s", cell(de, sizeof(de), r[i].detail));
		printf("\n");
	}
	rc = EXIT_SUCCESS;
out:
	mcpauth_store_audit_rows_free(r, n);
	mcpauth_store_free(store);
	return rc;
}

static int cmd_stats(const struct mcpauth_conf *conf, bool json)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_store *store = NULL;
	struct mcpauth_stats s;
	long clients;
	int rc = EXIT_FAILURE;

	if (!open_ready(conf, &store, &err) ||
	    !mcpauth_store_stats(store, (long long)time(NULL), &s, &err)) {
		rc = fail(&err);
		goto out;
	}
	clients = s.clients_dynamic + s.clients_operator +
		  s.clients_metadata_document;
	if (json) {
		struct json_object *o = json_object_new_object();
		struct json_object *c = json_object_new_object();
		struct json_object *u = json_object_new_object();
		struct json_object *days = json_object_new_array();
		const struct {
			struct json_object *obj;
			const char *name;
			long v;
		} nums[] = {
			{ c, "total", clients },
			{ c, "dynamic", s.clients_dynamic },
			{ c, "operator", s.clients_operator },
			{ c, "metadata_document", s.clients_metadata_document },
			{ c, "disabled", s.clients_disabled },
			{ u, "enabled", s.users_enabled },
			{ u, "disabled", s.users_disabled },
			{ o, "active_grants", s.active_grants },
			{ o, "active_consents", s.consents },
			{ o, "access_tokens_valid", s.access_tokens_valid },
			{ o, "failed_signins_24h", s.failed_signins },
			{ o, "registrations_24h", s.registrations },
			{ o, "registrations_refused_24h",
			  s.registrations_refused },
		};
		json_object_object_add(o, "clients", c);
		json_object_object_add(o, "users", u);
		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			json_object_object_add(nums[i].obj, nums[i].name,
					       json_object_new_int64(nums[i].v));
		for (int d = 0; d < MCPAUTH_STATS_DAYS; d++) {
			struct json_object *j = json_object_new_object();
			char day[32];
			iso_time(s.day_start[d], day, sizeof(day));
			day[10] = '\0';
			mcpauth_json_add_str(j, "date", day);
			json_object_object_add(
				j, "issued",
				json_object_new_int64(
					s.access_tokens_issued[d]));
			json_object_array_add(days, j);
		}
		json_object_object_add(o, "access_tokens_per_day", days);
		print_json(o);
	} else {
		printf("clients:          %ld (dynamic %ld, operator %ld, "
		       "metadata_document %ld), %ld disabled\n",
		       clients, s.clients_dynamic, s.clients_operator,
		       s.clients_metadata_document, s.clients_disabled);
		printf("users:            %ld enabled, %ld disabled\n",
		       s.users_enabled, s.users_disabled);
		printf("active grants:    %ld (refresh-token families neither "
		       "revoked nor expired)\n", s.active_grants);
		printf("active consents:  %ld\n", s.consents);
		printf("access tokens:    %ld valid now (neither revoked nor "
		       "expired)\n", s.access_tokens_valid);
		printf("failed sign-ins:  %ld in the last 24 h\n",
		       s.failed_signins);
		printf("registrations:    %ld in the last 24 h (%ld "
		       "refused)\n", s.registrations,
		       s.registrations_refused);
		printf("access tokens issued per day (UTC; issued, still "
		       "recorded: gc removes expired ones):\n");
		for (int d = 0; d < MCPAUTH_STATS_DAYS; d++) {
			char day[32];
			iso_time(s.day_start[d], day, sizeof(day));
			day[10] = '\0';
			printf("  %s  %ld\n", day, s.access_tokens_issued[d]);
		}
	}
	rc = EXIT_SUCCESS;
out:
	mcpauth_store_free(store);
	return rc;
}

/* Whether a command takes an argument. */
enum { ARG_NONE, ARG_ONE, ARG_OPTIONAL };

/* The commands: name, subcommand, whether it takes one argument. */
static const struct command {
	const char *cmd, *sub;
	int arg;
} commands[] = {
	{ "init", NULL, false },	   { "migrate", NULL, false },
	{ "check-config", NULL, false },   { "gc", NULL, false },
	{ "key", "generate", false },	   { "key", "rotate", false },
	{ "key", "list", false },	   { "client", "list", false },
	{ "client", "show", true },	   { "client", "delete", true },
	{ "initial-token", "create", false }, { "initial-token", "list", false },
	{ "initial-token", "revoke", true },
	{ "user", "add", true },	   { "user", "passwd", true },
	{ "user", "disable", true },	   { "user", "enable", true },
	{ "user", "list", false },
	{ "consent", "revoke", true },	   { "client", "first-party", true },
	{ "client", "add", true },	   { "client", "rotate-secret", true },
	{ "client", "keys", true },	   { "client", "disable", true },
	{ "client", "enable", true },
	{ "consent", "list", ARG_OPTIONAL }, { "token", "revoke", ARG_NONE },
	{ "audit", NULL, ARG_NONE },	   { "stats", NULL, ARG_NONE },
	{ "deploy", NULL, ARG_ONE },
};

/* Of those, the ones with a second argument: whether required, usage. */
static const struct command2 {
	const char *cmd, *sub;
	bool required;
	const char *args;
} commands2[] = {
	{ "consent", "revoke", false, "USER [CLIENT_ID]" },
	{ "client", "first-party", true, "CLIENT_ID yes|no" },
};

static bool is(const char *cmd, const char *sub, const char *c, const char *s)
{
	return !strcmp(cmd, c) && (s == NULL ? sub == NULL
					     : sub != NULL && !strcmp(sub, s));
}

static int run(const struct mcpauth_conf *conf, const char *cmd,
	       const char *sub, const char *arg, const char *arg2,
	       const struct opts *o)
{
	if (is(cmd, sub, "init", NULL))
		return cmd_init(conf);
	if (is(cmd, sub, "deploy", NULL))
		return mcpauth_deploy(conf,
				      o->config ? o->config
						: mcpauth_conf_default_path(),
				      arg, o->cgi);
	if (is(cmd, sub, "migrate", NULL))
		return cmd_migrate(conf);
	if (is(cmd, sub, "check-config", NULL))
		return cmd_check_config(conf);
	if (is(cmd, sub, "gc", NULL))
		return cmd_gc(conf);
	if (is(cmd, sub, "key", "list"))
		return cmd_key_list(conf, o->json);
	if (is(cmd, sub, "key", "generate") || is(cmd, sub, "key", "rotate"))
		return cmd_key_change(conf, sub, o->alg);
	if (is(cmd, sub, "client", "list"))
		return cmd_client_list(conf, o->json);
	if (is(cmd, sub, "client", "show"))
		return cmd_client_show(conf, arg, o->json);
	if (is(cmd, sub, "client", "delete"))
		return cmd_client_delete(conf, arg);
	if (is(cmd, sub, "initial-token", "create"))
		return cmd_token_create(conf, o);
	if (is(cmd, sub, "initial-token", "list"))
		return cmd_token_list(conf, o->json);
	if (is(cmd, sub, "user", "add") || is(cmd, sub, "user", "passwd"))
		return cmd_user_password(conf, arg, !strcmp(sub, "add"));
	if (is(cmd, sub, "user", "disable") || is(cmd, sub, "user", "enable"))
		return cmd_user_disable(conf, arg, !strcmp(sub, "disable"));
	if (is(cmd, sub, "user", "list"))
		return cmd_user_list(conf, o->json);
	if (is(cmd, sub, "consent", "revoke"))
		return cmd_consent_revoke(conf, arg, arg2);
	if (is(cmd, sub, "client", "first-party"))
		return cmd_client_first_party(conf, arg, arg2);
	if (is(cmd, sub, "client", "add"))
		return cmd_client_add(conf, arg, o);
	if (is(cmd, sub, "client", "rotate-secret"))
		return cmd_client_rotate(conf, arg, o);
	if (is(cmd, sub, "client", "keys"))
		return cmd_client_keys(conf, arg, o);
	if (is(cmd, sub, "client", "disable") ||
	    is(cmd, sub, "client", "enable"))
		return cmd_client_disable(conf, arg, !strcmp(sub, "disable"));
	if (is(cmd, sub, "consent", "list"))
		return cmd_consent_list(conf, arg, o->json);
	if (is(cmd, sub, "token", "revoke"))
		return cmd_tokens_revoke(conf, o);
	if (is(cmd, sub, "audit", NULL))
		return cmd_audit(conf, o);
	if (is(cmd, sub, "stats", NULL))
		return cmd_stats(conf, o->json);
	return cmd_token_revoke(conf, arg);
}

/* The options of client add, rotate-secret and keys. */
enum {
	OPT_GRANT = 256,
	OPT_AUTH,
	OPT_RESOURCE,
	OPT_SCOPE,
	OPT_REDIRECT_URI,
	OPT_JWKS,
	OPT_JWKS_URI,
	OPT_OVERLAP,
	OPT_FIRST_PARTY,
	OPT_EVENT,
	OPT_CLIENT,
	OPT_ADDRESS,
	OPT_SINCE,
	OPT_LIMIT,
	OPT_USER,
	OPT_FAMILY,
	OPT_CGI,
};

/* Whether option c (one of OPT_*) goes with the command; else says so. */
static bool opt_applies(int c, const char *name, const char *cmd,
			const char *sub)
{
	bool ok;

	if (c == OPT_JWKS || c == OPT_JWKS_URI)
		ok = is(cmd, sub, "client", "add") ||
		     is(cmd, sub, "client", "keys");
	else if (c == OPT_OVERLAP)
		ok = is(cmd, sub, "client", "rotate-secret");
	else if (c == OPT_CLIENT)
		ok = is(cmd, sub, "audit", NULL) ||
		     is(cmd, sub, "token", "revoke");
	else if (c == OPT_CGI)
		ok = is(cmd, sub, "deploy", NULL);
	else if (c == OPT_USER || c == OPT_FAMILY)
		ok = is(cmd, sub, "token", "revoke");
	else if (c >= OPT_EVENT)
		ok = is(cmd, sub, "audit", NULL);
	else
		ok = is(cmd, sub, "client", "add");
	if (!ok)
		fprintf(stderr, "mcpauth-admin: --%s does not apply to "
				"'%s%s%s'\n",
			name, cmd, sub ? " " : "", sub ? sub : "");
	return ok;
}

/* Appends a repeated option's value to list (at most max). */
static bool opt_append(const char **list, size_t *n, size_t max,
		       const char *name, const char *value)
{
	if (*n >= max) {
		fprintf(stderr, "mcpauth-admin: at most %lu --%s options\n",
			(unsigned long)max, name);
		return false;
	}
	list[(*n)++] = value;
	return true;
}

/* The checks of audit's and token revoke's options that need no file. */
static int check_opts(const char *cmd, const char *sub, const struct opts *o)
{
	long v;

	if (is(cmd, sub, "token", "revoke") &&
	    (o->client != NULL) + (o->user != NULL) + (o->family != NULL) != 1)
		return usage_err("usage: token revoke --client CLIENT_ID | "
				 "--user NAME | --family FAMILY_ID (exactly "
				 "one)");
	if (o->since != NULL &&
	    !mcpauth_conf_duration(o->since, AUDIT_SINCE_MAX, &v))
		return usage_err("--since takes a duration from 0 (every "
				 "row) to 3650d, such as 3600, 15m, 12h or "
				 "30d");
	if (o->limit != NULL && !parse_limit(o->limit, &v))
		return usage_err("--limit takes a number from 1 to %ld",
				 AUDIT_LIMIT_MAX);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "alg", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "label", required_argument, NULL, 'l' },
		{ "expires", required_argument, NULL, 'e' },
		{ "grant", required_argument, NULL, OPT_GRANT },
		{ "auth", required_argument, NULL, OPT_AUTH },
		{ "resource", required_argument, NULL, OPT_RESOURCE },
		{ "scope", required_argument, NULL, OPT_SCOPE },
		{ "redirect-uri", required_argument, NULL, OPT_REDIRECT_URI },
		{ "jwks", required_argument, NULL, OPT_JWKS },
		{ "jwks-uri", required_argument, NULL, OPT_JWKS_URI },
		{ "overlap", required_argument, NULL, OPT_OVERLAP },
		{ "first-party", no_argument, NULL, OPT_FIRST_PARTY },
		{ "event", required_argument, NULL, OPT_EVENT },
		{ "client", required_argument, NULL, OPT_CLIENT },
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "user", required_argument, NULL, OPT_USER },
		{ "family", required_argument, NULL, OPT_FAMILY },
		{ "cgi", no_argument, NULL, OPT_CGI },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *found = NULL;
	const struct command2 *found2 = NULL;
	struct opts o = { 0 };
	struct mcpauth_err err = { 0 };
	struct mcpauth_conf *conf = NULL;
	const char *cmd, *sub = NULL, *arg = NULL, *arg2 = NULL;
	char **rest;
	int c, li = 0, nrest, rc = EXIT_USAGE;

	mcpauth_log_init("admin");
	/* Everything init creates (database, keys) is for the owner only. */
	umask(077);
	while ((c = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'h': usage(stdout); return EXIT_SUCCESS;
		case 'V': printf("mcpauth-admin %s\n", MCPAUTH_VERSION);
			return EXIT_SUCCESS;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind++];
	if ((!strcmp(cmd, "key") || !strcmp(cmd, "client") ||
	     !strcmp(cmd, "initial-token") || !strcmp(cmd, "user") ||
	     !strcmp(cmd, "consent") || !strcmp(cmd, "token")) &&
	    optind < argc)
		sub = argv[optind++];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (is(cmd, sub, commands[i].cmd, commands[i].sub))
			found = &commands[i];
	for (size_t i = 0; i < sizeof(commands2) / sizeof(commands2[0]); i++)
		if (is(cmd, sub, commands2[i].cmd, commands2[i].sub))
			found2 = &commands2[i];
	if (found == NULL) {
		fprintf(stderr, "mcpauth-admin: unknown command '%s%s%s'\n",
			cmd, sub ? " " : "", sub ? sub : "");
		usage(stderr);
		return EXIT_USAGE;
	}
	/*
	 * Options after the command (and -c again), before or after its
	 * argument: a second scan of the words left, with getopt reset
	 * (optind 0) so that it permutes them; rest[0] stands for argv[0].
	 */
	rest = argv + optind - 1;
	nrest = argc - optind + 1;
	optind = 0;
	while ((c = getopt_long(nrest, rest, "c:", longopts, &li)) != -1) {
		if (c >= OPT_GRANT &&
		    !opt_applies(c, longopts[li].name, cmd, sub))
			return EXIT_USAGE;
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'a': o.alg = optarg; break;
		case 'j': o.json = true; break;
		case 'l': o.label = optarg; break;
		case 'e': o.expires = optarg; break;
		case OPT_GRANT:
			if (!opt_append(o.grants, &o.ngrants, MAX_REPEAT,
					"grant", optarg))
				return EXIT_USAGE;
			break;
		case OPT_RESOURCE:
			if (!opt_append(o.resources, &o.nresources, MAX_REPEAT,
					"resource", optarg))
				return EXIT_USAGE;
			break;
		case OPT_REDIRECT_URI:
			if (!opt_append(o.redirect_uris, &o.nredirect_uris,
					MCPAUTH_CLIENT_MAX_REDIRECT_URIS,
					"redirect-uri", optarg))
				return EXIT_USAGE;
			break;
		case OPT_AUTH: o.auth = optarg; break;
		case OPT_SCOPE: o.scope = optarg; break;
		case OPT_JWKS: o.jwks = optarg; break;
		case OPT_JWKS_URI: o.jwks_uri = optarg; break;
		case OPT_OVERLAP: o.overlap = optarg; break;
		case OPT_FIRST_PARTY: o.first_party = true; break;
		case OPT_EVENT: o.event = optarg; break;
		case OPT_CLIENT: o.client = optarg; break;
		case OPT_ADDRESS: o.address = optarg; break;
		case OPT_SINCE: o.since = optarg; break;
		case OPT_LIMIT: o.limit = optarg; break;
		case OPT_USER: o.user = optarg; break;
		case OPT_FAMILY: o.family = optarg; break;
		case OPT_CGI: o.cgi = true; break;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (found->arg == ARG_OPTIONAL) {
		if (optind < nrest)
			arg = rest[optind++];
	} else if (found->arg) {
		if (optind >= nrest ||
		    (found2 != NULL && found2->required &&
		     optind + 1 >= nrest)) {
			if (found2 != NULL)
				fprintf(stderr, "mcpauth-admin: usage: %s %s "
						"%s\n", cmd, sub, found2->args);
			else
				fprintf(stderr, "mcpauth-admin: %s %s needs an "
						"argument\n", cmd, sub);
			return EXIT_USAGE;
		}
		arg = rest[optind++];
		if (found2 != NULL && optind < nrest)
			arg2 = rest[optind++];
	}
	if (optind != nrest) {
		fprintf(stderr, "mcpauth-admin: unexpected argument '%s'\n",
			rest[optind]);
		return EXIT_USAGE;
	}
	if ((rc = check_opts(cmd, sub, &o)) != EXIT_SUCCESS)
		return rc;
	if (o.alg != NULL && !mcpauth_jose_alg_supported(o.alg)) {
		fprintf(stderr, "mcpauth-admin: --alg must be ES256, EdDSA or "
				"RS256\n");
		return EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !mcpauth_jose_init(&err))
		return fail(&err);
	if (!mcpauth_conf_load(o.config ? o.config : mcpauth_conf_default_path(),
			       &conf, &err)) {
		rc = fail(&err);
		goto out;
	}
	rc = run(conf, cmd, sub, arg, arg2, &o);
out:
	mcpauth_conf_free(conf);
	mcpauth_jose_cleanup();
	curl_global_cleanup();
	return rc;
}

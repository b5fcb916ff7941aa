/* admin.c: mcpauth-admin, the operator's command line (see mcpauth-admin(8)). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "client.h"
#include "conf.h"
#include "crypto.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "password.h"
#include "store.h"

#define EXIT_USAGE 2

struct opts {
	const char *config;
	const char *alg;
	const char *label;
	const char *expires;
	bool json;
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

/* A client as the admin sees it: metadata plus bookkeeping, no hashes. */
static struct json_object *client_json(const struct mcpauth_conf *conf,
				       const struct mcpauth_client *c)
{
	struct json_object *o = mcpauth_client_to_json(conf, c, NULL, NULL);

	mcpauth_json_add_str(o, "source", c->source);
	json_object_object_add(o, "has_secret",
			       json_object_new_boolean(c->secret_hash != NULL));
	json_object_object_add(o, "first_party",
			       json_object_new_boolean(c->first_party));
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
		printf("%-24s %-8s %-20s %-21s %-21s %s\n", "CLIENT_ID",
		       "SOURCE", "AUTH", "CREATED", "LAST USED", "NAME");
		for (size_t i = 0; i < n; i++) {
			char cr[32], lu[32];
			iso_time(list[i]->created_at, cr, sizeof(cr));
			iso_time(list[i]->last_used_at, lu, sizeof(lu));
			printf("%-24s %-8s %-20s %-21s %-21s %s\n",
			       list[i]->client_id, list[i]->source,
			       list[i]->auth_method, cr, lu,
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
	if (json) {
		print_json(client_json(conf, c));
	} else {
		struct json_object *o = client_json(conf, c);
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

/* The commands: name, subcommand, whether it takes one argument. */
static const struct command {
	const char *cmd, *sub;
	bool arg;
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
	return cmd_token_revoke(conf, arg);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "alg", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "label", required_argument, NULL, 'l' },
		{ "expires", required_argument, NULL, 'e' },
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
	int c, nrest, rc = EXIT_USAGE;

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
	     !strcmp(cmd, "consent")) && optind < argc)
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
	while ((c = getopt_long(nrest, rest, "c:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'a': o.alg = optarg; break;
		case 'j': o.json = true; break;
		case 'l': o.label = optarg; break;
		case 'e': o.expires = optarg; break;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (found->arg) {
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

/* admin.c: mcpauth-admin, the operator's command line (see mcpauth-admin(8)). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "conf.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "store.h"

#define EXIT_USAGE 2

struct opts {
	const char *config;
	const char *alg;
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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "alg", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	struct mcpauth_err err = { 0 };
	struct mcpauth_conf *conf = NULL;
	const char *cmd, *sub = NULL;
	int c, rc = EXIT_USAGE;

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
	if (!strcmp(cmd, "key")) {
		if (optind >= argc) {
			usage(stderr);
			return EXIT_USAGE;
		}
		sub = argv[optind++];
	}
	/* Options after the command: --alg, --json (and -c again). */
	while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'a': o.alg = optarg; break;
		case 'j': o.json = true; break;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mcpauth-admin: unexpected argument '%s'\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "init") && strcmp(cmd, "migrate") &&
	    strcmp(cmd, "check-config") &&
	    !(!strcmp(cmd, "key") &&
	      (!strcmp(sub, "list") || !strcmp(sub, "generate") ||
	       !strcmp(sub, "rotate")))) {
		fprintf(stderr, "mcpauth-admin: unknown command '%s%s%s'\n",
			cmd, sub ? " " : "", sub ? sub : "");
		usage(stderr);
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
	if (!strcmp(cmd, "init"))
		rc = cmd_init(conf);
	else if (!strcmp(cmd, "migrate"))
		rc = cmd_migrate(conf);
	else if (!strcmp(cmd, "check-config"))
		rc = cmd_check_config(conf);
	else if (sub != NULL && !strcmp(sub, "list"))
		rc = cmd_key_list(conf, o.json);
	else
		rc = cmd_key_change(conf, sub, o.alg);
out:
	mcpauth_conf_free(conf);
	mcpauth_jose_cleanup();
	curl_global_cleanup();
	return rc;
}

/* signin.c: local password sign-in (the one sign-in method so far). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "password.h"
#include "signin.h"

bool mcpauth_signin_password(struct mcpauth_store *store, const char *username,
			     const char *password, long long now,
			     struct mcpauth_user **out, struct mcpauth_err *err)
{
	struct mcpauth_user *user = NULL;
	bool match = false;

	*out = NULL;
	if (username == NULL || password == NULL || *username == '\0' ||
	    strlen(username) >= sizeof(user->username) || *password == '\0' ||
	    strlen(password) > MCPAUTH_PASSWORD_MAX) {
		mcpauth_password_dummy(password != NULL ? password : "");
		return true;
	}
	if (!mcpauth_store_user_get(store, username, &user, err))
		return false;
	if (user == NULL || user->disabled_at != 0) {
		/* As slow as a real check: timing tells no names. */
		mcpauth_password_dummy(password);
		mcpauth_user_free(user);
		return true;
	}
	if (!mcpauth_password_verify(user->password_hash, password, &match,
				     err)) {
		mcpauth_user_free(user);
		return false;
	}
	if (!match) {
		mcpauth_user_free(user);
		return true;
	}
	if (mcpauth_password_needs_rehash(user->password_hash)) {
		struct mcpauth_err ignored = { 0 };
		char *hash = NULL;
		bool found = false;

		/* Best effort: a failure leaves the old, still valid hash. */
		if (mcpauth_password_hash(password, &hash, &ignored))
			mcpauth_store_user_set_password(store, user->username,
							hash, 0, &found,
							&ignored);
		free(hash);
		if (ignored.code != NULL)
			mcpauth_log_err(&ignored);
	}
	if (!mcpauth_store_user_login(store, user->id, now, err)) {
		mcpauth_user_free(user);
		return false;
	}
	*out = user;
	return true;
}

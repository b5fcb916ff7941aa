/* scope.c: scope strings as sets of space-separated tokens. */
#include <stdlib.h>
#include <string.h>

#include "scope.h"

bool mcpauth_scope_has(const char *list, const char *scope)
{
	size_t n = strlen(scope);

	if (n == 0)
		return false;
	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, " ");
		if (len == n && !strncmp(p, scope, n))
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

/* Calls fn for each token of list; stops and returns false when fn does. */
static bool each(const char *list, bool (*fn)(const char *tok, void *arg),
		 void *arg)
{
	char tok[256];

	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t len;
		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (len == 0)
			break;
		if (len >= sizeof(tok))
			return false;
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (!fn(tok, arg))
			return false;
		p += len;
	}
	return true;
}

static bool in_super(const char *tok, void *super)
{
	return mcpauth_scope_has(super, tok);
}

bool mcpauth_scope_subset(const char *sub, const char *super)
{
	return each(sub, in_super, (void *)super);
}

struct acc {
	char *buf;
	const char *a;
};

static bool append_new(const char *tok, void *arg)
{
	struct acc *acc = arg;

	if (mcpauth_scope_has(acc->a, tok) || mcpauth_scope_has(acc->buf, tok))
		return true;
	if (acc->buf[0] != '\0')
		strcat(acc->buf, " ");
	strcat(acc->buf, tok);
	return true;
}

char *mcpauth_scope_union(const char *a, const char *b)
{
	struct acc acc;
	size_t la = a != NULL ? strlen(a) : 0, lb = b != NULL ? strlen(b) : 0;
	char *res = calloc(1, la + lb + 2);

	if (res == NULL)
		return NULL;
	if (la > 0)
		memcpy(res, a, la);
	/* The tokens of b not in a, appended after a's (buf starts empty). */
	acc.buf = calloc(1, lb + 1);
	acc.a = a != NULL ? a : "";
	if (acc.buf == NULL) {
		free(res);
		return NULL;
	}
	each(b, append_new, &acc);
	if (acc.buf[0] != '\0') {
		if (la > 0)
			strcat(res, " ");
		strcat(res, acc.buf);
	}
	free(acc.buf);
	return res;
}

/* scope.h: space-separated scope strings (RFC 6749 §3.3) as sets. */
#ifndef MCPAUTH_SCOPE_H
#define MCPAUTH_SCOPE_H

#include <stdbool.h>

/* scope (one token) is in list. */
bool mcpauth_scope_has(const char *list, const char *scope);

/* Every token of sub is in super ("" is a subset of anything). */
bool mcpauth_scope_subset(const char *sub, const char *super);

/* a's tokens, then b's not in a: a new string (free), NULL on no memory. */
char *mcpauth_scope_union(const char *a, const char *b);

#endif

/* form.h: strict application/x-www-form-urlencoded and query-string parsing. */
#ifndef MCPAUTH_FORM_H
#define MCPAUTH_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define MCPAUTH_FORM_MAX_PARAMS 64
#define MCPAUTH_FORM_MAX_VALUE 8192

struct mcpauth_form_param {
	char *name;
	char *value;
};

/* Owned by the caller: free with mcpauth_form_free. */
struct mcpauth_form {
	struct mcpauth_form_param *params;
	size_t count;
};

/*
 * Parses len bytes of src (a query string or urlencoded body, not
 * NUL-terminated necessarily). '+' is a space; '%' must be followed by two hex
 * digits. Refused with 400 invalid_request, naming the parameter: a repeated
 * parameter (RFC 6749 §3.1), invalid percent-encoding, invalid UTF-8, a
 * control character (NUL included) after decoding, more than
 * MCPAUTH_FORM_MAX_PARAMS parameters, a value longer than
 * MCPAUTH_FORM_MAX_VALUE. Empty segments ("a=1&&b=2") are skipped. A
 * parameter sent without a value counts as omitted (RFC 6749 §3.1) but still
 * counts as a repetition.
 */
bool mcpauth_form_parse(const char *src, size_t len, struct mcpauth_form **out,
			struct mcpauth_err *err);

/*
 * Decodes one urlencoded component (len bytes of src) by the same rules, for
 * values that arrive outside a form (HTTP Basic credentials, RFC 6749
 * §2.3.1). A new string (free) with its length in *outlen, or NULL.
 */
char *mcpauth_form_decode(const char *src, size_t len, size_t *outlen);

/* The value of name, or NULL; borrowed from form. */
const char *mcpauth_form_get(const struct mcpauth_form *form, const char *name);

void mcpauth_form_free(struct mcpauth_form *form);

/* True when s (len bytes) is valid UTF-8 (no overlongs, no surrogates). */
bool mcpauth_utf8_valid(const char *s, size_t len);

#endif

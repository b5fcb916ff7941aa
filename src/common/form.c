/*
 * form.c: strict application/x-www-form-urlencoded parsing for query strings
 * and request bodies. Percent-decoding is libcurl's; what it lets through
 * (bad escapes, NUL, invalid UTF-8, repeats) is refused here first or after.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "form.h"

bool mcpauth_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		unsigned int cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* Overlong forms, UTF-16 surrogates, beyond U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += n + 1;
	}
	return true;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/*
 * Decodes src[0..len) into a new string: '+' is a space, %XX a byte. Returns
 * NULL when an escape is malformed or the result has a control character or
 * is not UTF-8.
 */
static char *decode(const char *src, size_t len, size_t *outlen)
{
	char *plus = NULL, *dec = NULL, *res = NULL;
	int n = 0;

	for (size_t i = 0; i < len; i++)
		if (src[i] == '%' && (i + 2 >= len || !is_hex(src[i + 1]) ||
				      !is_hex(src[i + 2])))
			return NULL;
	plus = malloc(len + 1);
	if (plus == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		plus[i] = src[i] == '+' ? ' ' : src[i];
	plus[len] = '\0';
	dec = curl_easy_unescape(NULL, plus, (int)len, &n);
	free(plus);
	if (dec == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		unsigned char c = (unsigned char)dec[i];
		if (c < 0x20 || c == 0x7f)
			goto out;
	}
	if (!mcpauth_utf8_valid(dec, (size_t)n))
		goto out;
	res = strdup(dec);
	*outlen = (size_t)n;
out:
	curl_free(dec);
	return res;
}

char *mcpauth_form_decode(const char *src, size_t len, size_t *outlen)
{
	return decode(src, len, outlen);
}

/* A parameter name safe to repeat in an error description. */
static const char *shown(const char *name)
{
	if (strlen(name) > 40)
		return "(long name)";
	return name;
}

bool mcpauth_form_parse(const char *src, size_t len, struct mcpauth_form **out,
			struct mcpauth_err *err)
{
	struct mcpauth_form *form = NULL;
	char **seen = NULL;
	size_t nseen = 0;
	bool ok = false;
	size_t i = 0;

	form = calloc(1, sizeof(*form));
	seen = calloc(MCPAUTH_FORM_MAX_PARAMS, sizeof(*seen));
	if (form == NULL || seen == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	while (i < len) {
		size_t end = i, eq, nlen = 0, vlen = 0;
		char *name = NULL, *value = NULL;

		while (end < len && src[end] != '&')
			end++;
		if (end == i) { /* empty segment */
			i = end + 1;
			continue;
		}
		if (nseen == MCPAUTH_FORM_MAX_PARAMS) {
			MCPAUTH_ERR(err, 400, "invalid_request",
				    "more than %d parameters",
				    MCPAUTH_FORM_MAX_PARAMS);
			goto out;
		}
		eq = i;
		while (eq < end && src[eq] != '=')
			eq++;
		name = decode(src + i, eq - i, &nlen);
		if (name == NULL || nlen == 0) {
			free(name);
			MCPAUTH_ERR(err, 400, "invalid_request",
				    "malformed parameter name");
			goto out;
		}
		for (size_t k = 0; k < nseen; k++) {
			if (strcmp(seen[k], name) == 0) {
				MCPAUTH_ERR(err, 400, "invalid_request",
					    "parameter '%s' is repeated",
					    shown(name));
				free(name);
				goto out;
			}
		}
		seen[nseen++] = name;
		if (eq < end) {
			value = decode(src + eq + 1, end - eq - 1, &vlen);
			if (value == NULL) {
				MCPAUTH_ERR(err, 400, "invalid_request",
					    "parameter '%s' is malformed "
					    "(bad escape, control character or "
					    "invalid UTF-8)",
					    shown(name));
				goto out;
			}
			if (vlen > MCPAUTH_FORM_MAX_VALUE) {
				free(value);
				MCPAUTH_ERR(err, 400, "invalid_request",
					    "parameter '%s' is too long",
					    shown(name));
				goto out;
			}
		}
		/* RFC 6749 §3.1: a parameter without a value is omitted. */
		if (value != NULL && vlen > 0) {
			struct mcpauth_form_param *p = realloc(
				form->params,
				(form->count + 1) * sizeof(*form->params));
			if (p == NULL) {
				free(value);
				MCPAUTH_ERR_INTERNAL(err, "out of memory");
				goto out;
			}
			form->params = p;
			p[form->count].name = strdup(name);
			p[form->count].value = value;
			form->count++;
			if (p[form->count - 1].name == NULL) {
				MCPAUTH_ERR_INTERNAL(err, "out of memory");
				goto out;
			}
		} else {
			free(value);
		}
		i = end + 1;
	}
	*out = form;
	form = NULL;
	ok = true;
out:
	for (size_t k = 0; k < nseen; k++)
		free(seen[k]);
	free(seen);
	mcpauth_form_free(form);
	return ok;
}

const char *mcpauth_form_get(const struct mcpauth_form *form, const char *name)
{
	for (size_t i = 0; i < form->count; i++)
		if (strcmp(form->params[i].name, name) == 0)
			return form->params[i].value;
	return NULL;
}

void mcpauth_form_free(struct mcpauth_form *form)
{
	if (form == NULL)
		return;
	for (size_t i = 0; i < form->count; i++) {
		free(form->params[i].name);
		/* Values may be codes, verifiers or secrets. */
		if (form->params[i].value != NULL) {
			explicit_bzero(form->params[i].value,
				       strlen(form->params[i].value));
			free(form->params[i].value);
		}
	}
	free(form->params);
	free(form);
}

/* json.c: strict JSON parsing (json-c plus a duplicate-key check) and helpers. */
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "json.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define DEPTH_TEXT STR(MCPAUTH_JSON_MAX_DEPTH)

struct counts {
	size_t *v;
	size_t n, cap;
};

static bool counts_push(struct counts *c, size_t value)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		size_t *v = realloc(c->v, cap * sizeof(*v));
		if (v == NULL)
			return false;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = value;
	return true;
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The length of the RFC 8259 §6 number at src, or 0 when it is malformed:
 * -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
 */
static size_t number_len(const char *src, size_t len)
{
	size_t i = 0;

	if (i < len && src[i] == '-')
		i++;
	if (i < len && src[i] == '0')
		i++;
	else if (i < len && digit(src[i]))
		while (i < len && digit(src[i]))
			i++;
	else
		return 0;
	if (i < len && src[i] == '.') {
		if (++i >= len || !digit(src[i]))
			return 0;
		while (i < len && digit(src[i]))
			i++;
	}
	if (i < len && (src[i] == 'e' || src[i] == 'E')) {
		if (++i < len && (src[i] == '+' || src[i] == '-'))
			i++;
		if (i >= len || !digit(src[i]))
			return 0;
		while (i < len && digit(src[i]))
			i++;
	}
	/* "01" would be 0 then a stray digit. */
	if (i < len && (digit(src[i]) || src[i] == '.'))
		return 0;
	return i;
}

/*
 * What json-c 0.16's strict mode lets through and RFC 8259 does not (tested
 * in check_json.c): NaN and Infinity, single-quoted strings, raw control
 * characters in strings, overlong and surrogate UTF-8, numbers such as "1.",
 * "-.5" and "00"; and \u0000, which would cut the C string callers see. This
 * pass refuses them; it also counts members per object, objects in document
 * order (one ':' outside strings per member), for the duplicate-key check
 * json-c lacks.
 */
static bool scan(const char *src, size_t len, struct counts *out,
		 const char **why)
{
	size_t stack[MCPAUTH_JSON_MAX_DEPTH]; /* index into out, or -1 */
	size_t depth = 0;

	if (!mcpauth_utf8_valid(src, len)) {
		*why = "JSON is not valid UTF-8";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '"') {
			for (i++; i < len && src[i] != '"'; i++) {
				if ((unsigned char)src[i] < 0x20) {
					*why = "control character in a JSON "
					       "string";
					return false;
				}
				if (src[i] == '\\' && i + 5 < len &&
				    !strncmp(src + i, "\\u0000", 6)) {
					*why = "NUL character in a JSON string";
					return false;
				}
				if (src[i] == '\\')
					i++;
			}
		} else if (c == '{' || c == '[') {
			if (depth == MCPAUTH_JSON_MAX_DEPTH) {
				*why = "JSON nested deeper than " DEPTH_TEXT
				       " levels";
				return false;
			}
			if (c == '{') {
				stack[depth++] = out->n;
				if (!counts_push(out, 0)) {
					*why = NULL;
					return false;
				}
			} else {
				stack[depth++] = (size_t)-1;
			}
		} else if (c == '}' || c == ']') {
			if (depth > 0)
				depth--;
		} else if (c == ':') {
			if (depth > 0 && stack[depth - 1] != (size_t)-1)
				out->v[stack[depth - 1]]++;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			/* Outside strings, words are literals or exponents. */
			size_t n = 1;
			while (i + n < len &&
			       ((src[i + n] >= 'a' && src[i + n] <= 'z') ||
				(src[i + n] >= 'A' && src[i + n] <= 'Z')))
				n++;
			if (!((n == 4 && !strncmp(src + i, "true", 4)) ||
			      (n == 5 && !strncmp(src + i, "false", 5)) ||
			      (n == 4 && !strncmp(src + i, "null", 4)))) {
				*why = "invalid literal in JSON";
				return false;
			}
			i += n - 1;
		} else if (c == '-' || digit((char)c)) {
			size_t n = number_len(src + i, len - i);
			if (n == 0) {
				*why = "invalid number in JSON";
				return false;
			}
			i += n - 1;
		} else if (!strchr(" \t\r\n,", c) || c == '\0') {
			*why = "invalid character in JSON";
			return false;
		}
	}
	return true;
}

/* Member counts json-c kept, in the same order; false at the first mismatch. */
static bool same_counts(struct json_object *obj, const struct counts *c,
			size_t *next)
{
	if (json_object_is_type(obj, json_type_object)) {
		if (*next >= c->n ||
		    c->v[*next] != (size_t)json_object_object_length(obj))
			return false;
		(*next)++;
		json_object_object_foreach(obj, key, val)
		{
			(void)key;
			if (!same_counts(val, c, next))
				return false;
		}
	} else if (json_object_is_type(obj, json_type_array)) {
		size_t n = json_object_array_length(obj);
		for (size_t i = 0; i < n; i++)
			if (!same_counts(json_object_array_get_idx(obj, i), c,
					 next))
				return false;
	}
	return true;
}

bool mcpauth_json_parse(const char *src, size_t len, const char *code,
			struct json_object **out, struct mcpauth_err *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	struct counts counts = { 0 };
	const char *why = NULL;
	size_t next = 0, end;
	bool ok = false, flushed = false;

	if (len > (size_t)INT32_MAX) {
		MCPAUTH_ERR(err, 400, code, "JSON body too large");
		goto out;
	}
	if (!scan(src, len, &counts, &why)) {
		if (why == NULL)
			MCPAUTH_ERR_INTERNAL(err, "out of memory");
		else
			MCPAUTH_ERR(err, 400, code, "%s", why);
		goto out;
	}
	/* json-c counts the innermost value as a level of its own. */
	tok = json_tokener_new_ex(MCPAUTH_JSON_MAX_DEPTH + 1);
	if (tok == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "json_tokener_new_ex failed");
		goto out;
	}
	/* UTF-8 and depth were checked by scan(), more strictly. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, src, (int)len);
	/* A bare number or literal ends only at a terminator: give it one. */
	if (obj == NULL && json_tokener_get_error(tok) == json_tokener_continue) {
		obj = json_tokener_parse_ex(tok, "", 1);
		flushed = true; /* all of src was consumed */
	}
	if (obj == NULL) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);
		if (jerr == json_tokener_continue)
			MCPAUTH_ERR(err, 400, code, "JSON body is incomplete");
		else
			MCPAUTH_ERR(err, 400, code, "invalid JSON: %s",
				    json_tokener_error_desc(jerr));
		goto out;
	}
	end = flushed ? len : json_tokener_get_parse_end(tok);
	while (end < len && src[end] != '\0' && strchr(" \t\r\n", src[end]))
		end++;
	if (end < len) {
		MCPAUTH_ERR(err, 400, code, "unexpected data after the JSON value");
		goto out;
	}
	if (!same_counts(obj, &counts, &next) || next != counts.n) {
		MCPAUTH_ERR(err, 400, code, "duplicate key in JSON object");
		goto out;
	}
	*out = obj;
	obj = NULL;
	ok = true;
out:
	free(counts.v);
	json_object_put(obj);
	if (tok != NULL)
		json_tokener_free(tok);
	return ok;
}

char *mcpauth_json_dump(struct json_object *obj)
{
	const char *s = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return s != NULL ? strdup(s) : NULL;
}

void mcpauth_json_add_str(struct json_object *obj, const char *key,
			  const char *value)
{
	if (value != NULL)
		json_object_object_add(obj, key, json_object_new_string(value));
}

void mcpauth_json_add_strs(struct json_object *obj, const char *key,
			   const char *const *values, size_t count)
{
	struct json_object *arr = json_object_new_array_ext((int)count);

	for (size_t i = 0; i < count; i++)
		json_object_array_add(arr, json_object_new_string(values[i]));
	json_object_object_add(obj, key, arr);
}

const char *mcpauth_json_get_str(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

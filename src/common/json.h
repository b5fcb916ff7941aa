/* json.h: strict JSON input and response helpers over json-c. */
#ifndef MCPAUTH_JSON_H
#define MCPAUTH_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "err.h"

#define MCPAUTH_JSON_MAX_DEPTH 16

/*
 * Parses len bytes as one JSON value with json-c's strict mode. Refused with
 * 400 and the given error code (e.g. "invalid_request",
 * "invalid_client_metadata"): invalid JSON, trailing data, invalid UTF-8,
 * nesting deeper than MCPAUTH_JSON_MAX_DEPTH, a duplicate key in any object.
 * *out is a new reference: json_object_put it.
 */
bool mcpauth_json_parse(const char *src, size_t len, const char *code,
			struct json_object **out, struct mcpauth_err *err);

/*
 * Serializes obj compactly with '/' unescaped. The string is owned by the
 * caller (free).
 */
char *mcpauth_json_dump(struct json_object *obj);

/* Adds key = new string value (NULL value: nothing added). */
void mcpauth_json_add_str(struct json_object *obj, const char *key,
			  const char *value);

/* Adds key = an array of count strings. */
void mcpauth_json_add_strs(struct json_object *obj, const char *key,
			   const char *const *values, size_t count);

/* The string member key of obj, or NULL when absent or not a string. */
const char *mcpauth_json_get_str(struct json_object *obj, const char *key);

#endif

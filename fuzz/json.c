/*
 * json.c (fuzz target): the strict JSON parser every JSON body and fetched
 * document goes through (mcpauth_json_parse: json-c plus json.c's own pass)
 * and what we write back (mcpauth_json_dump). Input: the raw bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "form.h"
#include "fuzz.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcpauth_err err = { 0 };
	struct json_object *obj = NULL, *again = NULL;
	char *text;

	if (!mcpauth_json_parse((const char *)data, size, "invalid_request",
				&obj, &err)) {
		FUZZ_ASSERT(obj == NULL);
		FUZZ_ASSERT(err.status == 400 || err.status == 500);
		return 0;
	}
	/* Accepted JSON is UTF-8 (json.c §scan). */
	FUZZ_ASSERT(mcpauth_utf8_valid((const char *)data, size));
	text = mcpauth_json_dump(obj);
	FUZZ_ASSERT(text != NULL);
	/* What we would store or answer reads back through json-c. */
	again = json_tokener_parse(text);
	FUZZ_ASSERT(again != NULL || json_object_is_type(obj, json_type_null));
	if (json_object_is_type(obj, json_type_object)) {
		mcpauth_json_get_str(obj, "client_id");
		FUZZ_ASSERT(json_object_object_length(obj) ==
			    json_object_object_length(again));
	}
	json_object_put(again);
	free(text);
	json_object_put(obj);
	return 0;
}

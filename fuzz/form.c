/*
 * form.c (fuzz target): urlencoded bodies and query strings as every program
 * reads them (mcpauth_form_parse), and single components
 * (mcpauth_form_decode, HTTP Basic credentials). Input: the raw bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "fuzz.h"

/* What a parsed value may hold: UTF-8 without control characters. */
static void check_text(const char *s, size_t len)
{
	FUZZ_ASSERT(strlen(s) == len);
	FUZZ_ASSERT(mcpauth_utf8_valid(s, len));
	for (size_t i = 0; i < len; i++)
		FUZZ_ASSERT((unsigned char)s[i] >= 0x20 &&
			    (unsigned char)s[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_form marker = { 0 }, *form = &marker;
	const char *src = (const char *)data;
	size_t declen = 0;
	char *dec;

	if (mcpauth_form_parse(src, size, &form, &err)) {
		FUZZ_ASSERT(form != NULL && form != &marker);
		FUZZ_ASSERT(!mcpauth_err_isset(&err));
		FUZZ_ASSERT(form->count <= MCPAUTH_FORM_MAX_PARAMS);
		for (size_t i = 0; i < form->count; i++) {
			const struct mcpauth_form_param *p = &form->params[i];
			size_t vlen = strlen(p->value);

			check_text(p->name, strlen(p->name));
			check_text(p->value, vlen);
			FUZZ_ASSERT(*p->name != '\0' && vlen > 0);
			FUZZ_ASSERT(vlen <= MCPAUTH_FORM_MAX_VALUE);
			/* RFC 6749 §3.1: never twice. */
			FUZZ_ASSERT(mcpauth_form_get(form, p->name) ==
				    p->value);
		}
		mcpauth_form_get(form, "client_id");
		mcpauth_form_free(form);
	} else {
		/* Out-params are set only on success. */
		FUZZ_ASSERT(form == &marker);
		FUZZ_ASSERT(err.status == 400 || err.status == 500);
		FUZZ_ASSERT(err.code != NULL && err.description[0] != '\0');
	}

	dec = mcpauth_form_decode(src, size, &declen);
	if (dec != NULL) {
		check_text(dec, declen);
		free(dec);
	}
	return 0;
}

/*
 * text.c (fuzz target): client-chosen text on its way into a log line or an
 * audit row (mcpauth_log_escape, mcpauth_client_text_copy) and into a page
 * (mcpauth_html_escape), at every buffer size that matters. Input: a string
 * (up to its first NUL).
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "form.h"
#include "fuzz.h"
#include "html.h"
#include "log.h"

static const size_t sizes[] = { 1, 2, 3, 4, 5, 6, 8, 13, 64, 201, 4096 };

/* s has no C0 control character or DEL. */
static bool no_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

static void check_log_escape(const char *src)
{
	static char full[4 * 1024 * 4 + 1];
	char dst[4096 + 16];
	size_t flen;

	mcpauth_log_escape(full, sizeof(full), src);
	flen = strlen(full);
	FUZZ_ASSERT(no_controls(full));
	mcpauth_log_escape(dst, 0, src); /* writes nothing */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i], len;

		memset(dst, 'Z', sizeof(dst));
		mcpauth_log_escape(dst, n, src);
		len = strnlen(dst, n);
		FUZZ_ASSERT(len < n); /* NUL-terminated inside */
		FUZZ_ASSERT(dst[n] == 'Z'); /* nothing written past size */
		FUZZ_ASSERT(no_controls(dst));
		if (flen < n) {
			FUZZ_ASSERT(!strcmp(dst, full));
		} else if (n > 4) {
			/* Whole escapes, then "...". */
			FUZZ_ASSERT(len >= 3 && !strcmp(dst + len - 3, "..."));
			FUZZ_ASSERT(!strncmp(dst, full, len - 3));
		}
	}
}

static void check_text_copy(const char *src)
{
	char dst[4096 + 16];

	mcpauth_client_text_copy(dst, 0, src); /* writes nothing */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i], len;

		memset(dst, 'Z', sizeof(dst));
		mcpauth_client_text_copy(dst, n, src);
		len = strnlen(dst, n);
		FUZZ_ASSERT(len < n);
		FUZZ_ASSERT(dst[n] == 'Z');
		/* Safe in a key="value" log line and on a page. */
		FUZZ_ASSERT(mcpauth_utf8_valid(dst, len));
		FUZZ_ASSERT(no_controls(dst));
		FUZZ_ASSERT(strchr(dst, '"') == NULL);
	}
	mcpauth_client_text_copy(dst, sizeof(dst), NULL);
	FUZZ_ASSERT(dst[0] == '\0');
}

/* Undoes mcpauth_html_escape: false on anything it would not write. */
static bool unescape_equals(const char *esc, const char *src)
{
	static const struct {
		const char *entity;
		char c;
	} entities[] = { { "&amp;", '&' },  { "&lt;", '<' }, { "&gt;", '>' },
			 { "&quot;", '"' }, { "&#39;", '\'' } };

	while (*esc != '\0') {
		char c = *esc;
		size_t n = 1;

		if (strchr("<>\"'", c) != NULL)
			return false;
		if (c == '&') {
			n = 0;
			for (size_t i = 0; i < 5; i++) {
				size_t l = strlen(entities[i].entity);
				if (!strncmp(esc, entities[i].entity, l)) {
					c = entities[i].c;
					n = l;
				}
			}
			if (n == 0)
				return false;
		}
		if (*src++ != c)
			return false;
		esc += n;
	}
	return *src == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src, *esc;

	/* check_log_escape's buffer holds the escapes of 4 KiB. */
	if (size > 4096 || (src = fuzz_str(data, size)) == NULL)
		return 0;
	check_log_escape(src);
	check_text_copy(src);
	esc = mcpauth_html_escape(src);
	FUZZ_ASSERT(esc != NULL);
	FUZZ_ASSERT(unescape_equals(esc, src));
	free(esc);
	free(src);
	return 0;
}

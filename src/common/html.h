/* html.h: browser pages from templates (a tiny mustache), escaping, headers. */
#ifndef MCPAUTH_HTML_H
#define MCPAUTH_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "req.h"

/* A template file larger than this is refused. */
#define MCPAUTH_HTML_MAX_TEMPLATE (256 * 1024)
/* Sections nest at most this deep. */
#define MCPAUTH_HTML_MAX_DEPTH 8
/* A rendered page larger than this is refused (runaway repetition). */
#define MCPAUTH_HTML_MAX_OUTPUT (4 * 1024 * 1024)

/*
 * One template variable: a single value, or a list (values/nvalues) for
 * sections. Everything is borrowed for the duration of the call.
 */
struct mcpauth_html_var {
	const char *name;
	/* NULL or "" counts as empty */
	const char *value;
	/* A list, for {{#name}} repetition; NULL for a single value. */
	const char *const *values;
	size_t nvalues;
};

/*
 * Renders <www_dir>/<name>.html. Syntax (a tiny mustache subset):
 *   {{var}}             the HTML-escaped value (& < > " ' escaped; ' as &#39;);
 *                       a list var gives its escaped items joined by ", "
 *   {{#var}}...{{/var}} shown when var is non-empty; for a list var, repeated
 *                       per item with {{.}} the escaped item (for a single
 *                       var, {{.}} is its value)
 *   {{^var}}...{{/var}} shown when var is empty or absent
 *   {{! text }}         a comment, rendered as nothing
 * A comment or section tag alone on its line takes the line with it.
 * Spaces around a name inside the braces are allowed. There is no
 * unescaped form. A variable used but not passed renders as empty (so
 * operators can drop fields), but a malformed template (unclosed tag,
 * mismatched section, nesting deeper than MCPAUTH_HTML_MAX_DEPTH, {{.}}
 * outside a section, a NUL byte, template larger than
 * MCPAUTH_HTML_MAX_TEMPLATE, output larger than MCPAUTH_HTML_MAX_OUTPUT,
 * name not [a-z0-9_-]+) fails with a 500 server_error whose log detail names
 * the file, the line and the problem. The whole template is checked, hidden
 * sections included, whatever the values. The name argument must be
 * [a-z0-9_-]+ too. Vars are looked up by name; the first match wins.
 * *out is owned by the caller (free); set only on success.
 */
bool mcpauth_html_render(const char *www_dir, const char *name,
			 const struct mcpauth_html_var *vars, size_t nvars,
			 char **out, struct mcpauth_err *err);

/* New string with & < > " ' escaped (NULL counts as ""); NULL only on
 * allocation failure. */
char *mcpauth_html_escape(const char *s);

/*
 * Sets a rendered page on resp: status, text/html; charset=utf-8, and the
 * headers every page carries, each exactly once (an earlier value of one of
 * them is replaced): Cache-Control: no-store, X-Frame-Options: DENY,
 * Content-Security-Policy (see html.c), X-Content-Type-Options: nosniff,
 * Referrer-Policy: same-origin. Takes ownership of html. When a header
 * cannot be set (no memory, or resp already holds MCPAUTH_RESP_MAX_HEADERS
 * headers) the page is dropped for a bodiless 500: a page is never served
 * without its protections.
 */
void mcpauth_html_page(struct mcpauth_resp *resp, int status, char *html);

#endif

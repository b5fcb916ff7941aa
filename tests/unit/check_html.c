/* check_html.c: unit tests for page templates and headers (html.c, www/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "check_mcpauth.h"
#include "html.h"
#include "req.h"

#define WWW MCPAUTH_TEST_SRCDIR "/www"
#define PAYLOAD "\"><script>alert(1)</script>"
#define PAYLOAD_ESCAPED "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"

/* A single-value variable. */
#define VAR(n, v)                                                              \
	{                                                                      \
		.name = (n), .value = (v)                                      \
	}
/* A list variable over a static array. */
#define LIST(n, a)                                                             \
	{                                                                      \
		.name = (n), .values = (a),                                    \
		.nvalues = sizeof(a) / sizeof(a[0])                            \
	}

/* Renders text as dir/t.html in a new directory; the caller frees the page. */
static char *render_text(const char *text, const struct mcpauth_html_var *vars,
			 size_t nvars)
{
	const char *dir = check_tmpdir();
	struct mcpauth_err err = { 0 };
	char *out = NULL;

	check_write_file(dir, "t.html", text);
	ck_assert_msg(mcpauth_html_render(dir, "t", vars, nvars, &out, &err),
		      "\"%s\" refused: %s", text, err.detail);
	ck_assert(!mcpauth_err_isset(&err));
	ck_assert_ptr_nonnull(out);
	check_tmpdir_remove(dir);
	return out;
}

static void render_eq(const char *text, const struct mcpauth_html_var *vars,
		      size_t nvars, const char *want)
{
	char *out = render_text(text, vars, nvars);

	ck_assert_str_eq(out, want);
	free(out);
}

/*
 * Expects rendering dir/name to fail with 500 server_error, a description
 * that says nothing of the template, a log detail that holds what (the
 * file, the problem), and *out untouched.
 */
static void refuse_in(const char *dir, const char *name, const char *what1,
		      const char *what2)
{
	struct mcpauth_err err = { 0 };
	char marker;
	char *out = &marker;
	const struct mcpauth_html_var vars[] = {VAR("a", "1"), VAR("b", "1")};

	ck_assert_msg(!mcpauth_html_render(dir, name, vars, 2, &out, &err),
		      "%s/%s rendered", dir, name);
	ck_assert_ptr_eq(out, &marker);
	ck_assert_int_eq(err.status, 500);
	ck_assert_str_eq(err.code, "server_error");
	ck_assert_str_eq(err.description, "internal error");
	if (what1 != NULL)
		ck_assert_msg(strstr(err.detail, what1) != NULL,
			      "detail \"%s\" lacks \"%s\"", err.detail, what1);
	if (what2 != NULL)
		ck_assert_msg(strstr(err.detail, what2) != NULL,
			      "detail \"%s\" lacks \"%s\"", err.detail, what2);
}

/* Expects the template text to be refused with problem in the log detail. */
static void refuse_text(const char *text, const char *problem)
{
	const char *dir = check_tmpdir();
	char path[4096];

	snprintf(path, sizeof(path), "%s",
		 check_write_file(dir, "t.html", text));
	refuse_in(dir, "t", path, problem);
	check_tmpdir_remove(dir);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL;
	     p = strstr(p + 1, needle))
		n++;
	return n;
}

static const struct {
	const char *in;
	const char *want;
} escapes[] = {
    {"&", "&amp;"},
    {"<", "&lt;"},
    {">", "&gt;"},
    {"\"", "&quot;"},
    {"'", "&#39;"},
    {"", ""},
    {"plain text 123", "plain text 123"},
    {"caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93"},
    {"&amp;", "&amp;amp;"},
    {"a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&#39;f"},
    {"<<>>", "&lt;&lt;&gt;&gt;"},
    {PAYLOAD, PAYLOAD_ESCAPED},
    {"' onmouseover='alert(1)", "&#39; onmouseover=&#39;alert(1)"},
};

START_TEST(test_escape)
{
	char *s = mcpauth_html_escape(escapes[_i].in);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, escapes[_i].want);
	free(s);
}
END_TEST

START_TEST(test_escape_null)
{
	char *s = mcpauth_html_escape(NULL);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_render_escapes_each_character)
{
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		const struct mcpauth_html_var vars[] = {
		    VAR("x", escapes[i].in)};
		char want[256];

		snprintf(want, sizeof(want), "[%s]", escapes[i].want);
		render_eq("[{{x}}]", vars, 1, want);
	}
}
END_TEST

START_TEST(test_render_script_payload)
{
	const struct mcpauth_html_var vars[] = {VAR("x", PAYLOAD)};

	render_eq("<p>{{x}}</p><a href=\"{{x}}\">", vars, 1,
		  "<p>" PAYLOAD_ESCAPED "</p><a href=\"" PAYLOAD_ESCAPED "\">");
}
END_TEST

START_TEST(test_render_attribute_quotes)
{
	const struct mcpauth_html_var dq[] = {
	    VAR("x", "\" autofocus onfocus=\"alert(1)")};
	const struct mcpauth_html_var sq[] = {
	    VAR("x", "' autofocus onfocus='alert(1)")};

	render_eq("<input value=\"{{x}}\">", dq, 1,
		  "<input value=\"&quot; autofocus onfocus=&quot;alert(1)\">");
	render_eq("<input value='{{x}}'>", sq, 1,
		  "<input value='&#39; autofocus onfocus=&#39;alert(1)'>");
}
END_TEST

START_TEST(test_render_plain_text_untouched)
{
	/* Text outside tags is the operator's, copied as is. */
	render_eq("<b>&amp; 'q' \"d\" { } }} {x}</b>\n", NULL, 0,
		  "<b>&amp; 'q' \"d\" { } }} {x}</b>\n");
	render_eq("", NULL, 0, "");
}
END_TEST

static const char section_tmpl[] = "[{{#a}}A={{a}}{{/a}}|{{^a}}none{{/a}}]";

START_TEST(test_section_shown)
{
	const struct mcpauth_html_var vars[] = {VAR("a", "x<y")};

	render_eq(section_tmpl, vars, 1, "[A=x&lt;y|]");
}
END_TEST

START_TEST(test_section_hidden_empty)
{
	const struct mcpauth_html_var vars[] = {VAR("a", "")};

	render_eq(section_tmpl, vars, 1, "[|none]");
}
END_TEST

START_TEST(test_section_hidden_null)
{
	const struct mcpauth_html_var vars[] = {VAR("a", NULL)};

	render_eq(section_tmpl, vars, 1, "[|none]");
}
END_TEST

START_TEST(test_section_hidden_absent)
{
	const struct mcpauth_html_var vars[] = {VAR("b", "1")};

	render_eq(section_tmpl, vars, 1, "[|none]");
	render_eq(section_tmpl, NULL, 0, "[|none]");
}
END_TEST

START_TEST(test_section_dot_is_value)
{
	const struct mcpauth_html_var vars[] = {VAR("a", "<v>")};

	render_eq("{{#a}}({{.}}){{/a}}", vars, 1, "(&lt;v&gt;)");
}
END_TEST

START_TEST(test_section_nested)
{
	const struct mcpauth_html_var vars[] = {VAR("a", "1"), VAR("b", "")};

	render_eq("{{#a}}a{{#b}}b{{/b}}{{^b}}!b{{/b}}{{^c}}!c{{/c}}{{/a}}",
		  vars, 2, "a!b!c");
}
END_TEST

START_TEST(test_list_repeats_escaped)
{
	static const char *const items[] = {"read", "<write>", "a&b", NULL};
	const struct mcpauth_html_var vars[] = {LIST("s", items)};

	render_eq("<ul>{{#s}}<li>{{.}}</li>{{/s}}</ul>{{^s}}none{{/s}}", vars,
		  1,
		  "<ul><li>read</li><li>&lt;write&gt;</li><li>a&amp;b</li>"
		  "<li></li></ul>");
}
END_TEST

START_TEST(test_list_empty)
{
	static const char *const items[] = {"unused"};
	const struct mcpauth_html_var vars[] = {
	    {.name = "s", .values = items, .nvalues = 0},
	};

	render_eq("<ul>{{#s}}<li>{{.}}</li>{{/s}}</ul>{{^s}}none{{/s}}", vars,
		  1, "<ul></ul>none");
}
END_TEST

START_TEST(test_list_as_plain_var)
{
	static const char *const items[] = {"read", "<w>"};
	const struct mcpauth_html_var vars[] = {LIST("s", items)};

	render_eq("{{s}}", vars, 1, "read, &lt;w&gt;");
}
END_TEST

START_TEST(test_list_dot_in_nested_sections)
{
	static const char *const items[] = {"x", "y"};
	const struct mcpauth_html_var vars[] = {LIST("s", items),
						VAR("t", "T")};

	/* {{.}} is the innermost {{#}} value; {{^}} keeps the outer one. */
	render_eq("{{#s}}{{^none}}{{.}}{{/none}}{{#t}}{{.}}{{/t}};{{/s}}", vars,
		  2, "xT;yT;");
}
END_TEST

START_TEST(test_missing_var_empty)
{
	const struct mcpauth_html_var vars[] = {VAR("a", "A")};

	render_eq("x{{nope}}y{{a}}z", vars, 1, "xyAz");
	render_eq("x{{nope}}y", NULL, 0, "xy");
}
END_TEST

START_TEST(test_first_var_wins)
{
	const struct mcpauth_html_var vars[] = {VAR("a", "1"), VAR("a", "2")};

	render_eq("{{a}}", vars, 2, "1");
}
END_TEST

START_TEST(test_spaces_and_comments)
{
	const struct mcpauth_html_var vars[] = {VAR("a", "A"),
						VAR("b-2_c", "B")};

	render_eq("{{ a }}{{# a }}x{{/ a }}{{\ta\t}}{{b-2_c}}", vars, 2,
		  "AxAB");
	render_eq("1{{! a comment, {{a}} and all }}2{{!}}3", vars, 2,
		  "1 and all }}23");
}
END_TEST

START_TEST(test_standalone_lines)
{
	const struct mcpauth_html_var x[] = {VAR("x", "1"), VAR("y", "Y")};

	/* A section or comment tag alone on its line takes the line away. */
	render_eq("a\n{{#x}}\nb\n{{/x}}\nc\n", x, 2, "a\nb\nc\n");
	render_eq("a\n{{#x}}\nb\n{{/x}}\nc\n", NULL, 0, "a\nc\n");
	render_eq("a\n  {{^x}}  \nb\n\t{{/x}}\nc", NULL, 0, "a\nb\nc");
	render_eq("{{! c }}  \n<!DOCTYPE html>\n", NULL, 0,
		  "<!DOCTYPE html>\n");
	render_eq("{{#x}}\r\ny\r\n{{/x}}", x, 2, "y\r\n");
	/* Not alone: the text stays. */
	render_eq("a {{#x}}\nb{{/x}} \n", x, 2, "a \nb \n");
	render_eq("{{#x}}b{{/x}}\n", x, 2, "b\n");
	render_eq("{{y}}\n  {{y}}\n", x, 2, "Y\n  Y\n");
}
END_TEST

START_TEST(test_depth_limit)
{
	const struct mcpauth_html_var vars[] = {VAR("a", "1")};
	char ok[512] = "", bad[512] = "";

	for (int i = 0; i < MCPAUTH_HTML_MAX_DEPTH; i++)
		strcat(ok, "{{#a}}");
	strcat(ok, "x");
	for (int i = 0; i < MCPAUTH_HTML_MAX_DEPTH; i++)
		strcat(ok, "{{/a}}");
	render_eq(ok, vars, 1, "x");

	for (int i = 0; i <= MCPAUTH_HTML_MAX_DEPTH; i++)
		strcat(bad, "{{^b}}");
	for (int i = 0; i <= MCPAUTH_HTML_MAX_DEPTH; i++)
		strcat(bad, "{{/b}}");
	refuse_text(bad, "nested deeper than 8");
}
END_TEST

static const struct {
	const char *text;
	const char *problem;
} malformed[] = {
    {"a {{b", "line 1: unclosed tag"},
    {"a {{b}", "unclosed tag"},
    {"{{", "unclosed tag"},
    {"{{! comment", "unclosed tag"},
    {"{{#a}}x", "{{#a}} is never closed"},
    {"{{^a}}x", "{{^a}} is never closed"},
    {"{{#a}}{{/b}}", "{{/b}} closes {{#a}}"},
    {"{{/a}}", "{{/a}} closes no section"},
    {"{{#a}}{{/a}}{{/a}}", "{{/a}} closes no section"},
    {"{{#a}}{{#b}}{{/a}}{{/b}}", "{{/a}} closes {{#b}}"},
    {"{{Name}}", "bad tag \"{{Name}}\""},
    {"{{a b}}", "bad tag"},
    {"{{{a}}}", "bad tag"},
    {"{{&a}}", "bad tag"},
    {"{{}}", "bad tag"},
    {"{{ }}", "bad tag"},
    {"{{#}}{{/}}", "bad tag"},
    {"{{a.b}}", "bad tag"},
    {"{{a/b}}", "bad tag"},
    {"{{#.}}{{/.}}", "bad tag"},
    {"{{>partial}}", "bad tag"},
    {"{{=<% %>=}}", "bad tag"},
    {"{{a {{b}}", "bad tag"},
    {"{{.}}", "{{.}} outside a section"},
    {"{{^a}}{{.}}{{/a}}", "{{.}} outside a section"},
    /* Hidden sections are checked too, whatever the values. */
    {"{{#nope}}{{Bad}}{{/nope}}", "bad tag"},
    {"{{#a}}ok{{/a}}{{^a}}{{x{{/a}}", "bad tag"},
};

START_TEST(test_malformed)
{
	refuse_text(malformed[_i].text, malformed[_i].problem);
}
END_TEST

START_TEST(test_malformed_line)
{
	refuse_text("<p>\n\n<b>{{#a}}\n</b>\n",
		    "line 3: {{#a}} is never closed");
	refuse_text("one\ntwo {{Bad}}\n", "line 2: bad tag");
}
END_TEST

START_TEST(test_nul_byte)
{
	const char *dir = check_tmpdir();
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/t.html", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite("a\nb\0c", 1, 5, f), 5);
	ck_assert_int_eq(fclose(f), 0);
	refuse_in(dir, "t", path, "line 2: a NUL byte");
	check_tmpdir_remove(dir);
}
END_TEST

START_TEST(test_size_limit)
{
	char *text = malloc(MCPAUTH_HTML_MAX_TEMPLATE + 2);
	char *out;

	ck_assert_ptr_nonnull(text);
	memset(text, 'x', MCPAUTH_HTML_MAX_TEMPLATE);
	text[MCPAUTH_HTML_MAX_TEMPLATE] = '\0';
	out = render_text(text, NULL, 0);
	ck_assert_uint_eq(strlen(out), MCPAUTH_HTML_MAX_TEMPLATE);
	free(out);
	text[MCPAUTH_HTML_MAX_TEMPLATE] = 'x';
	text[MCPAUTH_HTML_MAX_TEMPLATE + 1] = '\0';
	refuse_text(text, "larger than 262144 bytes");
	free(text);
}
END_TEST

START_TEST(test_runaway_repetition)
{
	static const char *items[100];
	const struct mcpauth_html_var vars[] = {LIST("s", items)};
	char text[512] = "";

	for (size_t i = 0; i < 100; i++)
		items[i] = "0123456789";
	for (int i = 0; i < MCPAUTH_HTML_MAX_DEPTH; i++)
		strcat(text, "{{#s}}");
	strcat(text, "{{.}}");
	for (int i = 0; i < MCPAUTH_HTML_MAX_DEPTH; i++)
		strcat(text, "{{/s}}");
	{
		const char *dir = check_tmpdir();
		struct mcpauth_err err = { 0 };
		char *out = NULL;

		check_write_file(dir, "t.html", text);
		ck_assert(!mcpauth_html_render(dir, "t", vars, 1, &out, &err));
		ck_assert_ptr_null(out);
		ck_assert_int_eq(err.status, 500);
		ck_assert_msg(strstr(err.detail, "repeats too much") != NULL,
			      "%s", err.detail);
		check_tmpdir_remove(dir);
	}
}
END_TEST

static const char *const bad_names[] = {
    "../t", "T", "", "t.html", "a/b", "t ", "/etc/passwd", "t\n",
};

START_TEST(test_bad_template_name)
{
	const char *dir = check_tmpdir();

	check_write_file(dir, "t.html", "ok");
	refuse_in(dir, bad_names[_i], "template name", "[a-z0-9_-]+");
	check_tmpdir_remove(dir);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct mcpauth_err err = { 0 };
	char *out = NULL;

	ck_assert(!mcpauth_html_render(WWW, NULL, NULL, 0, &out, &err));
	ck_assert_int_eq(err.status, 500);
	mcpauth_err_clear(&err);
	ck_assert(!mcpauth_html_render(NULL, "login", NULL, 0, &out, &err));
	ck_assert_int_eq(err.status, 500);
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_missing_file)
{
	const char *dir = check_tmpdir();
	char path[4096];

	snprintf(path, sizeof(path), "%s/nope.html", dir);
	refuse_in(dir, "nope", path, "No such file");
	snprintf(path, sizeof(path), "%s/d.html", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	refuse_in(dir, "d", path, "not a regular file");
	snprintf(path, sizeof(path), "%s/f.html", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	refuse_in(dir, "f", path, "not a regular file");
	check_tmpdir_remove(dir);
}
END_TEST

/* The real pages, from the source tree. */

static char *render_page(const char *name, const struct mcpauth_html_var *vars,
			 size_t nvars)
{
	struct mcpauth_err err = { 0 };
	char *out = NULL;

	ck_assert_msg(mcpauth_html_render(WWW, name, vars, nvars, &out, &err),
		      "%s: %s", name, err.detail);
	ck_assert_ptr_nonnull(out);
	return out;
}

static void assert_has(const char *page, const char *what)
{
	ck_assert_msg(strstr(page, what) != NULL, "no \"%s\" in:\n%s", what,
		      page);
}

static void assert_lacks(const char *page, const char *what)
{
	ck_assert_msg(strstr(page, what) == NULL, "\"%s\" in:\n%s", what, page);
}

/* What every page has: language, viewport, title, main, the stylesheet. */
static void assert_page(const char *page, const char *stylesheet)
{
	ck_assert_msg(strncmp(page, "<!DOCTYPE html>\n", 16) == 0,
		      "page starts with \"%.20s\"", page);
	assert_has(page, "<html lang=\"en\">");
	assert_has(page, "<meta charset=\"utf-8\">");
	assert_has(page,
		   "<meta name=\"viewport\" content=\"width=device-width, "
		   "initial-scale=1\">");
	assert_has(page, "<title>");
	ck_assert_uint_eq(count(page, "<main"), 1);
	ck_assert_uint_eq(count(page, "<h1>"), 1);
	assert_has(page, stylesheet);
	assert_lacks(page, "<script");
	assert_lacks(page, "{{");
	assert_lacks(page, "style=");
}

static const char *const pages[] = {"login", "consent", "error"};

/* Every variable any page uses, set to the payload. */
START_TEST(test_pages_escape_everything)
{
	static const char *const scopes[] = {PAYLOAD, PAYLOAD};
	const struct mcpauth_html_var vars[] = {
	    VAR("static", PAYLOAD),	 VAR("action", PAYLOAD),
	    VAR("client_name", PAYLOAD), VAR("client_host", PAYLOAD),
	    VAR("error", PAYLOAD),	 VAR("username", PAYLOAD),
	    VAR("csrf", PAYLOAD),	 VAR("request_id", PAYLOAD),
	    VAR("resource", PAYLOAD),	 VAR("resource_name", PAYLOAD),
	    LIST("scopes", scopes),	 VAR("localhost_warning", PAYLOAD),
	    VAR("title", PAYLOAD),	 VAR("description", PAYLOAD),
	    VAR("code", PAYLOAD),
	};
	char *page =
	    render_page(pages[_i], vars, sizeof(vars) / sizeof(vars[0]));

	assert_page(page, "<link rel=\"stylesheet\" href=\"" PAYLOAD_ESCAPED
			  "/style.css\">");
	assert_lacks(page, "<script");
	assert_lacks(page, "alert(1)</");
	/* Every copy of the payload is the escaped one. */
	ck_assert_uint_gt(count(page, PAYLOAD_ESCAPED), 2);
	ck_assert_uint_eq(count(page, PAYLOAD_ESCAPED),
			  count(page, "alert(1)"));
	free(page);
}
END_TEST

/* Operators may drop fields; callers may pass nothing. */
START_TEST(test_pages_without_vars)
{
	char *page = render_page(pages[_i], NULL, 0);

	assert_page(page, "href=\"/style.css\"");
	free(page);
}
END_TEST

START_TEST(test_login_page)
{
	const struct mcpauth_html_var vars[] = {
	    VAR("static", "https://as.example/static"),
	    VAR("action", "/authorize?x=1&y=2"),
	    VAR("client_name", "Claude"),
	    VAR("client_host", "127.0.0.1"),
	    VAR("error", NULL),
	    VAR("username", NULL),
	    VAR("csrf", "CSRF123"),
	    VAR("request_id", "REQ456"),
	};
	const struct mcpauth_html_var again[] = {
	    VAR("error", "Wrong username or password."),
	    VAR("username", "alice"),
	};
	char *page = render_page("login", vars, sizeof(vars) / sizeof(vars[0]));

	assert_page(page, "<link rel=\"stylesheet\" "
			  "href=\"https://as.example/static/style.css\">");
	assert_has(page, "<title>Sign in to continue to Claude</title>");
	assert_has(page, "Sign in to continue to <span class=\"name\">Claude"
			 "</span></h1>");
	assert_has(page, "127.0.0.1");
	assert_has(page, "<form method=\"post\" "
			 "action=\"/authorize?x=1&amp;y=2\">");
	assert_has(page, "<label for=\"username\">");
	assert_has(page, "<label for=\"password\">");
	assert_has(page, "id=\"username\" name=\"username\" type=\"text\" "
			 "value=\"\" autocomplete=\"username\"");
	assert_has(page, "id=\"password\" name=\"password\" "
			 "type=\"password\" autocomplete=\"current-password\"");
	assert_has(page, "<input type=\"hidden\" name=\"csrf\" "
			 "value=\"CSRF123\">");
	assert_has(page, "<input type=\"hidden\" name=\"request_id\" "
			 "value=\"REQ456\">");
	assert_has(page, "<input type=\"hidden\" name=\"step\" "
			 "value=\"login\">");
	assert_has(page, ">Sign in</button>");
	assert_lacks(page, "role=\"alert\"");
	ck_assert_uint_eq(count(page, "autofocus"), 1);
	assert_has(page, "required autofocus>\n</div>\n<div class=\"field\">\n"
			 "<label for=\"password\">");
	free(page);

	/* After a failed attempt: the message, the name kept, password focus. */
	page = render_page("login", again, 2);
	assert_has(page, "<title>Sign in</title>");
	assert_has(page, "<h1>Sign in</h1>");
	assert_has(page, "<p class=\"alert\" role=\"alert\">Wrong username or "
			 "password.</p>");
	assert_has(page, "value=\"alice\"");
	assert_has(page, "autocomplete=\"current-password\" required "
			 "autofocus>");
	ck_assert_uint_eq(count(page, "autofocus"), 1);
	assert_lacks(page, " action=");
	free(page);
}
END_TEST

START_TEST(test_consent_page)
{
	static const char *const scopes[] = {"mcp:tools", "files:read"};
	const struct mcpauth_html_var vars[] = {
	    VAR("static", "/static"),
	    VAR("action", "/authorize"),
	    VAR("client_name", "Claude Code"),
	    VAR("client_host", "localhost"),
	    VAR("resource", "https://mcp.example/mcp"),
	    VAR("resource_name", "Example MCP"),
	    LIST("scopes", scopes),
	    VAR("localhost_warning", "1"),
	    VAR("username", "alice"),
	    VAR("csrf", "CSRF123"),
	    VAR("request_id", "REQ456"),
	};
	char *page =
	    render_page("consent", vars, sizeof(vars) / sizeof(vars[0]));

	assert_page(page,
		    "<link rel=\"stylesheet\" href=\"/static/style.css\">");
	assert_has(page, "<title>Allow Claude Code access?</title>");
	assert_has(page, "Signed in as <strong>alice</strong>");
	assert_has(page, "<strong class=\"name\">Claude Code</strong><br>You "
			 "will be redirected to it at <strong class=\"host\">"
			 "localhost</strong>.");
	assert_has(page, "<strong>Example MCP</strong>");
	assert_has(page, "https://mcp.example/mcp");
	assert_has(page, "<ul class=\"scopes\"><li><code>mcp:tools</code></li>"
			 "<li><code>files:read</code></li></ul>");
	assert_lacks(page, "No specific permissions");
	assert_has(page, "class=\"warning\"");
	assert_has(page, "<form method=\"post\" action=\"/authorize\">");
	assert_has(page, "<input type=\"hidden\" name=\"csrf\" "
			 "value=\"CSRF123\">");
	assert_has(page, "<input type=\"hidden\" name=\"request_id\" "
			 "value=\"REQ456\">");
	assert_has(page, "<input type=\"hidden\" name=\"step\" "
			 "value=\"consent\">");
	/* Allow comes first, in the page and in the tab order. */
	assert_has(page, "<button type=\"submit\" name=\"decision\" "
			 "value=\"approve\" class=\"primary\">Allow</button>\n"
			 "<button type=\"submit\" name=\"decision\" "
			 "value=\"deny\">Deny</button>");
	ck_assert_uint_eq(count(page, "<button"), 2);
	free(page);
}
END_TEST

START_TEST(test_consent_page_minimal)
{
	const struct mcpauth_html_var vars[] = {
	    VAR("client_name", ""),
	    VAR("localhost_warning", ""),
	    VAR("csrf", "C"),
	};
	char *page =
	    render_page("consent", vars, sizeof(vars) / sizeof(vars[0]));

	assert_has(page, "<h1>Allow this app access?</h1>");
	assert_has(page, "An unnamed app");
	assert_has(page, "<ul class=\"scopes\"></ul>");
	assert_has(page, "No specific permissions");
	assert_lacks(page, "class=\"warning\"");
	assert_lacks(page, "Signed in as");
	assert_lacks(page, "redirected to");
	assert_lacks(page, "Wants access to");
	free(page);
}
END_TEST

START_TEST(test_error_page)
{
	const struct mcpauth_html_var vars[] = {
	    VAR("static", "/static"),
	    VAR("title", "Unknown application"),
	    VAR("description", "The app is not registered here."),
	    VAR("code", "invalid_client"),
	};
	char *page = render_page("error", vars, sizeof(vars) / sizeof(vars[0]));

	assert_page(page, "href=\"/static/style.css\"");
	assert_has(page, "<title>Unknown application</title>");
	assert_has(page, "<h1>Unknown application</h1>");
	assert_has(page, "The app is not registered here.");
	assert_has(page, "<code>invalid_client</code>");
	assert_has(page, "close this window");
	assert_lacks(page, "<form");
	assert_lacks(page, "<input");
	free(page);

	page = render_page("error", NULL, 0);
	assert_has(page, "<h1>Something went wrong</h1>");
	assert_lacks(page, "Error code");
	free(page);
}
END_TEST

/* Page headers. */

static size_t header_count(const struct mcpauth_resp *resp, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < resp->nheaders; i++)
		if (!strcasecmp(resp->headers[i].name, name))
			n++;
	return n;
}

static const char csp[] = "default-src 'none'; style-src 'self'; "
			  "img-src 'self'; frame-ancestors 'none'; "
			  "base-uri 'none'";

static void assert_page_headers(const struct mcpauth_resp *resp)
{
	static const char *const want[][2] = {
	    {"Cache-Control", "no-store"},
	    {"X-Frame-Options", "DENY"},
	    {"Content-Security-Policy", csp},
	    {"X-Content-Type-Options", "nosniff"},
	    {"Referrer-Policy", "same-origin"},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_msg(header_count(resp, want[i][0]) == 1,
			      "%s appears %zu times", want[i][0],
			      header_count(resp, want[i][0]));
		ck_assert_str_eq(check_header(resp, want[i][0]), want[i][1]);
	}
	ck_assert_str_eq(resp->content_type, "text/html; charset=utf-8");
}

START_TEST(test_page_headers)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();
	char *html = strdup("<p>hi</p>");

	ck_assert_ptr_nonnull(resp);
	ck_assert_ptr_nonnull(html);
	mcpauth_html_page(resp, 200, html);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_ptr_eq(resp->body, html);
	ck_assert_uint_eq(resp->body_len, 9);
	ck_assert_uint_eq(resp->nheaders, 5);
	assert_page_headers(resp);
	/* No form-action: it would block the 303 to a loopback redirect URI. */
	ck_assert_ptr_null(strstr(check_header(resp, "Content-Security-Policy"),
				  "form-action"));
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_page_headers_replace)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();

	ck_assert_ptr_nonnull(resp);
	ck_assert(mcpauth_resp_header(resp, "Set-Cookie", "__Host-s=1"));
	ck_assert(mcpauth_resp_header(resp, "cache-control", "max-age=60"));
	ck_assert(mcpauth_resp_header(resp, "X-Frame-Options", "SAMEORIGIN"));
	ck_assert(mcpauth_resp_header(resp, "X-Frame-Options", "ALLOW"));
	ck_assert(mcpauth_resp_header(resp, "Location", "/x"));
	mcpauth_html_page(resp, 400, strdup("<p>bad</p>"));
	ck_assert_int_eq(resp->status, 400);
	assert_page_headers(resp);
	ck_assert_str_eq(check_header(resp, "Set-Cookie"), "__Host-s=1");
	ck_assert_str_eq(check_header(resp, "Location"), "/x");
	ck_assert_uint_eq(resp->nheaders, 7);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_page_headers_full)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();
	char name[32];

	ck_assert_ptr_nonnull(resp);
	for (int i = 0; i < MCPAUTH_RESP_MAX_HEADERS; i++) {
		snprintf(name, sizeof(name), "X-H%d", i);
		ck_assert(mcpauth_resp_header(resp, name, "v"));
	}
	/* No room for the protections: no page either. */
	mcpauth_html_page(resp, 200, strdup("<p>secret csrf</p>"));
	ck_assert_int_eq(resp->status, 500);
	ck_assert_ptr_null(resp->body);
	ck_assert_uint_eq(resp->body_len, 0);
	mcpauth_resp_free(resp);
}
END_TEST

START_TEST(test_page_rendered)
{
	struct mcpauth_resp *resp = mcpauth_resp_new();
	char *page = render_page("error", NULL, 0);

	mcpauth_html_page(resp, 404, page);
	ck_assert_int_eq(resp->status, 404);
	ck_assert_uint_eq(resp->body_len, strlen(page));
	assert_page_headers(resp);
	mcpauth_resp_free(resp);
}
END_TEST

Suite *check_html_suite(void)
{
	Suite *s = suite_create("html");
	TCase *tc;

	tc = tcase_create("escape");
	tcase_add_loop_test(tc, test_escape, 0,
			    sizeof(escapes) / sizeof(escapes[0]));
	tcase_add_test(tc, test_escape_null);
	tcase_add_test(tc, test_render_escapes_each_character);
	tcase_add_test(tc, test_render_script_payload);
	tcase_add_test(tc, test_render_attribute_quotes);
	tcase_add_test(tc, test_render_plain_text_untouched);
	suite_add_tcase(s, tc);

	tc = tcase_create("sections");
	tcase_add_test(tc, test_section_shown);
	tcase_add_test(tc, test_section_hidden_empty);
	tcase_add_test(tc, test_section_hidden_null);
	tcase_add_test(tc, test_section_hidden_absent);
	tcase_add_test(tc, test_section_dot_is_value);
	tcase_add_test(tc, test_section_nested);
	tcase_add_test(tc, test_list_repeats_escaped);
	tcase_add_test(tc, test_list_empty);
	tcase_add_test(tc, test_list_as_plain_var);
	tcase_add_test(tc, test_list_dot_in_nested_sections);
	tcase_add_test(tc, test_missing_var_empty);
	tcase_add_test(tc, test_first_var_wins);
	tcase_add_test(tc, test_spaces_and_comments);
	tcase_add_test(tc, test_standalone_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_test(tc, test_depth_limit);
	tcase_add_loop_test(tc, test_malformed, 0,
			    sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_test(tc, test_malformed_line);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_runaway_repetition);
	tcase_add_loop_test(tc, test_bad_template_name, 0,
			    sizeof(bad_names) / sizeof(bad_names[0]));
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("pages");
	tcase_add_loop_test(tc, test_pages_escape_everything, 0,
			    sizeof(pages) / sizeof(pages[0]));
	tcase_add_loop_test(tc, test_pages_without_vars, 0,
			    sizeof(pages) / sizeof(pages[0]));
	tcase_add_test(tc, test_login_page);
	tcase_add_test(tc, test_consent_page);
	tcase_add_test(tc, test_consent_page_minimal);
	tcase_add_test(tc, test_error_page);
	suite_add_tcase(s, tc);

	tc = tcase_create("page");
	tcase_add_test(tc, test_page_headers);
	tcase_add_test(tc, test_page_headers_replace);
	tcase_add_test(tc, test_page_headers_full);
	tcase_add_test(tc, test_page_rendered);
	suite_add_tcase(s, tc);
	return s;
}

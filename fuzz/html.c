/*
 * html.c (fuzz target): page templates (mcpauth_html_render: the mustache
 * subset's parser and renderer) with the kinds of values the pages pass, and
 * the page headers (mcpauth_html_page). Templates are the operator's, but
 * a malformed one must fail cleanly, and values are the client's. Input:
 * the template, written to <tmp>/www/page.html.
 */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "html.h"
#include "req.h"

static char www[4200], page[4300];

static const char *const scopes[] = { "files:read", "<b>&\"'</b>", "" };

static const struct mcpauth_html_var vars[] = {
	{ .name = "static", .value = "/t1/static" },
	{ .name = "action", .value = "/t1/authorize?x=1&y=\"2\"" },
	{ .name = "client_name", .value = "<script>alert('x')</script>" },
	{ .name = "client_host", .value = "app.example.com" },
	{ .name = "error", .value = "" },
	{ .name = "username", .value = NULL },
	{ .name = "csrf", .value = "c2VjcmV0&amp;" },
	{ .name = "scopes", .values = scopes, .nvalues = 3 },
	{ .name = "none", .values = scopes, .nvalues = 0 },
	{ .name = "one", .values = scopes, .nvalues = 1 },
};

void fuzz_setup(void)
{
	snprintf(www, sizeof(www), "%s/www", fuzz_tmpdir());
	snprintf(page, sizeof(page), "%s/page.html", www);
	if (mkdir(www, 0700) != 0) {
		perror(www);
		exit(1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcpauth_err err = { 0 };
	struct mcpauth_resp *resp;
	char *out = NULL;
	int fd;

	fd = open(page, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, data, size) == (ssize_t)size);
	close(fd);
	if (!mcpauth_html_render(www, "page", vars,
				 sizeof(vars) / sizeof(vars[0]), &out, &err)) {
		/* A template problem is the operator's: 500, never a page. */
		FUZZ_ASSERT(out == NULL && err.status == 500);
		return 0;
	}
	FUZZ_ASSERT(out != NULL && strlen(out) <= MCPAUTH_HTML_MAX_OUTPUT);
	/* Text without tags comes out as it is. */
	if (memmem(data, size, "{{", 2) == NULL)
		FUZZ_ASSERT(strlen(out) == size && !memcmp(out, data, size));
	/* Headers set before the page: replaced, each kept once. */
	resp = mcpauth_resp_new();
	FUZZ_ASSERT(resp != NULL);
	FUZZ_ASSERT(mcpauth_resp_header(resp, "cache-control", "public") &&
		    mcpauth_resp_header(resp, "Vary", "Cookie") &&
		    mcpauth_resp_header(resp, "Cache-Control", "max-age=60") &&
		    mcpauth_resp_header(resp, "X-Frame-Options", "SAMEORIGIN"));
	mcpauth_html_page(resp, 200, out);
	FUZZ_ASSERT(resp->status == 200 && resp->nheaders == 6);
	FUZZ_ASSERT(!strcmp(resp->headers[0].value, "no-store"));
	FUZZ_ASSERT(!strcmp(resp->headers[1].name, "Vary"));
	FUZZ_ASSERT(!strcmp(resp->headers[2].value, "DENY"));
	mcpauth_resp_free(resp);
	return 0;
}

/*
 * cookie.c (fuzz target): the Cookie header as mcpauth-authorize reads its
 * session and flow cookies (mcpauth_req_cookie, RFC 6265 §5.4). Input: the
 * header value (up to its first NUL); the names are authorize.c's, plus a
 * short one that matches more often.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "req.h"

static const char *const names[] = {
	"__Host-mcpauth-session-0a1b2c3d",
	"__Host-mcpauth-flow-0a1b2c3d",
	"a",
};

/*
 * The same lookup written another way: the header split at each ';', the
 * spaces before a pair skipped, a name sent twice trusted for neither, an
 * empty value found as "".
 */
static char *reference(const char *header, const char *name)
{
	char *copy = strdup(header), *found = NULL;
	size_t n = strlen(name);
	int seen = 0;

	FUZZ_ASSERT(copy != NULL);
	for (char *pair = copy, *next; pair != NULL; pair = next) {
		next = strchr(pair, ';');
		if (next != NULL)
			*next++ = '\0';
		pair += strspn(pair, " ");
		if (!strncmp(pair, name, n) && pair[n] == '=') {
			seen++;
			found = pair + n + 1;
		}
	}
	found = seen == 1 ? strdup(found) : NULL;
	free(copy);
	return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcpauth_req req = { 0 };

	req.cookie = fuzz_str(data, size);
	if (req.cookie == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *v = mcpauth_req_cookie(&req, names[i]);
		char *want = reference(req.cookie, names[i]);

		FUZZ_ASSERT((v == NULL) == (want == NULL));
		FUZZ_ASSERT(v == NULL || !strcmp(v, want));
		free(v);
		free(want);
	}
	free(req.cookie);
	return 0;
}

/* trivial.c: the benchmarks' ceiling: a FastCGI program that reads the
 * request body and answers a fixed 300-byte JSON document, so that a run
 * against it measures the web server, libfcgi and the load generator alone.
 * Serves one request as plain CGI when not started by a FastCGI manager, as
 * the mcpauth programs do.
 *
 *   gcc -O2 -Wall -Wextra -o trivial trivial.c -lfcgi
 */
#include <fcgiapp.h>
#include <stdio.h>

/* A token answer's shape, padded to exactly 300 bytes (checked below). */
static const char BODY[] =
	"{\"access_token\":\"eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9."
	"eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xIiwic3ViIjoiY2xpZW50OmJlbmNoIn0."
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAA\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
	"\"scope\":\"mcp:tools\",\"pad\":\"xxxxxxxxxxxxxxxxxxx\"}";

_Static_assert(sizeof(BODY) - 1 == 300, "the body is 300 bytes");

static const char HEAD[] = "Status: 200 OK\r\n"
			  "Content-Type: application/json\r\n"
			  "Cache-Control: no-store\r\n"
			  "Content-Length: 300\r\n\r\n";

int main(void)
{
	char buf[4096];

	if (FCGX_IsCGI()) {
		/* Plain CGI: one request from the environment, then exit. */
		while (fread(buf, 1, sizeof(buf), stdin) > 0)
			;
		fwrite(HEAD, 1, sizeof(HEAD) - 1, stdout);
		fwrite(BODY, 1, sizeof(BODY) - 1, stdout);
		return 0;
	}

	FCGX_Request r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		/* Read what the client sent, as a real handler must. */
		while (FCGX_GetStr(buf, sizeof(buf), r.in) > 0)
			;
		FCGX_PutStr(HEAD, (int)(sizeof(HEAD) - 1), r.out);
		FCGX_PutStr(BODY, (int)(sizeof(BODY) - 1), r.out);
		FCGX_Finish_r(&r);
	}
	FCGX_Free(&r, 1);
	return 0;
}

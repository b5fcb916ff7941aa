/* mcpauth-test-sign.c: test helper, signs claims (argv) with the store's active key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"
#include "jose.h"
#include "log.h"

int main(int argc, char **argv)
{
	struct mcpauth_ctx ctx;
	struct mcpauth_err err = { 0 };
	const struct mcpauth_jose_signer *signer = NULL;
	char *jwt = NULL;
	int rc = 1;

	if (argc != 4 || strcmp(argv[1], "-c") != 0) {
		fprintf(stderr, "usage: mcpauth-test-sign -c CONFIG CLAIMS_JSON\n");
		return 2;
	}
	mcpauth_log_init("test-sign");
	if (!mcpauth_jose_init(&err))
		goto out;
	if (!mcpauth_ctx_open(&ctx, "test-sign", argv[2], &err))
		goto out;
	if (mcpauth_keys_signer(ctx.keys, ctx.store, &signer, &err) &&
	    mcpauth_jose_sign(signer, "at+jwt", argv[3], &jwt, &err)) {
		printf("%s\n", jwt);
		rc = 0;
	}
	mcpauth_ctx_close(&ctx);
out:
	if (rc != 0)
		fprintf(stderr, "mcpauth-test-sign: %s (%s)\n", err.description,
			err.detail);
	free(jwt);
	mcpauth_jose_cleanup();
	return rc;
}

/* handlers.h: each program's request handler, callable from unit tests. */
#ifndef MCPAUTH_HANDLERS_H
#define MCPAUTH_HANDLERS_H

#include "fcgi.h"

bool discovery_handle(struct mcpauth_ctx *ctx, const struct mcpauth_req *req,
		      struct mcpauth_resp *resp, struct mcpauth_err *err);

bool register_handle(struct mcpauth_ctx *ctx, const struct mcpauth_req *req,
		     struct mcpauth_resp *resp, struct mcpauth_err *err);

bool authorize_handle(struct mcpauth_ctx *ctx, const struct mcpauth_req *req,
		      struct mcpauth_resp *resp, struct mcpauth_err *err);

bool token_handle(struct mcpauth_ctx *ctx, const struct mcpauth_req *req,
		  struct mcpauth_resp *resp, struct mcpauth_err *err);

#endif

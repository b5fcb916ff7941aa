// mcp-server.mjs: a small protected MCP server for the flow tests: the MCP
// TypeScript SDK's McpServer over its Streamable HTTP transport (stateless,
// JSON answers) behind a bearer check that verifies mcpauth's access tokens
// with jose against the issuer's JWKS (RFC 9068: iss, aud = this server's
// URL, typ at+jwt). Without a valid token it answers 401 with
// WWW-Authenticate: Bearer resource_metadata="<PRM URL>", scope="..."
// (RFC 9728 §5.1), which is where an MCP client's discovery starts.
import http from 'node:http';

import * as jose from 'jose';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

// Listens on 127.0.0.1:port (0: any) and serves MCP at path. The issuer,
// jwksUri and prmUrl may be given later with configure() (the resource URL
// must be known before the authorization server's configuration is
// written). Returns { url, port, configure, seen, close }.
export async function startMcpServer({ port = 0, path = '/mcp', scope = 'mcp:tools' } = {}) {
  const cfg = {};
  const seen = []; // { ok, claims?, error?, authorization? } per request
  const srv = http.createServer(async (req, res) => {
    try {
      const u = new URL(req.url, url);
      if (u.pathname !== path) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
        return;
      }
      const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(req.headers.authorization || '');
      let claims = null;
      let error = null;
      if (m) {
        try {
          ({ payload: claims } = await jose.jwtVerify(m[1], cfg.jwks, {
            issuer: cfg.issuer,
            audience: url,
            typ: 'at+jwt',
            algorithms: ['ES256', 'EdDSA', 'RS256'],
          }));
        } catch (e) {
          error = e;
        }
      }
      seen.push({ method: req.method, ok: !!claims, claims, error: error && String(error), token: m?.[1] });
      if (!claims) {
        let wa = `Bearer resource_metadata="${cfg.prmUrl}", scope="${scope}"`;
        if (m) wa += ', error="invalid_token", error_description="the access token is not valid here"';
        res.writeHead(401, { 'WWW-Authenticate': wa, 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: m ? 'invalid_token' : 'unauthorized' }));
        return;
      }
      // One server and transport per request: the stateless form.
      const server = new McpServer({ name: 'mcpauth-flow-test', version: '1.0.0' });
      server.tool('whoami', 'The verified access token claims', async () => ({
        content: [{ type: 'text', text: JSON.stringify(claims) }],
      }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => { transport.close(); server.close(); });
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(e));
    }
  });
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', resolve);
  });
  const actual = srv.address().port;
  const url = `http://127.0.0.1:${actual}${path}`;
  return {
    url,
    port: actual,
    seen,
    configure({ issuer, jwksUri, prmUrl }) {
      cfg.issuer = issuer;
      cfg.jwks = jose.createRemoteJWKSet(new URL(jwksUri));
      cfg.prmUrl = prmUrl;
    },
    close: () => new Promise((resolve) => { srv.closeAllConnections?.(); srv.close(() => resolve()); }),
  };
}

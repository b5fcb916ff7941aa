// discovery.test.mjs: mcpauth-discovery behind real lighttpd and Apache
// (mod_fcgid) with the example configurations, read by real clients:
// openid-client, jose and the MCP TypeScript SDK.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import * as jose from 'jose';
import * as oidc from 'openid-client';
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
} from '@modelcontextprotocol/sdk/client/auth.js';
import {
  OAuthMetadataSchema,
  OAuthProtectedResourceMetadataSchema,
  OpenIdProviderDiscoveryMetadataSchema,
} from '@modelcontextprotocol/sdk/shared/auth.js';

import { startInstance, withLogs } from './lib/harness.mjs';

const MCP_PROTOCOL_VERSION = '2025-11-25';

const LAYOUTS = [
  {
    name: 'issuer without a path',
    issuerPath: '',
    resources: [{ path: '/mcp' }],
  },
  {
    name: 'issuer with path /t1',
    issuerPath: '/t1',
    resources: [
      { path: '/t1/mcp' },
      { path: '/mcp', scopes: ['files:read', 'files:write'], name: 'Files' },
    ],
  },
];

const JSON_TYPE = /^application\/json(\s*;.*)?$/;
// Members a public JWK must never carry (RFC 7518 §6).
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

// A fetch that records the URLs asked for and can answer 404 itself for
// some, to make a client fall back to its next candidate URL.
function recordingFetch(refuse = () => false) {
  const urls = [];
  const f = async (url, init) => {
    const u = String(url instanceof Request ? url.url : url);
    urls.push(u);
    if (refuse(u)) return new Response('{}', { status: 404, headers: { 'content-type': 'application/json' } });
    return fetch(url, { ...init, redirect: 'manual' });
  };
  f.urls = urls;
  return f;
}

for (const kind of ['lighttpd', 'apache']) {
  for (const layout of LAYOUTS) {
    describe(`${kind}, ${layout.name}`, () => {
      let env; // { inst, server, issuer, resources, origin }
      const t = (fn) => withLogs(() => env?.server, fn);

      before(async () => {
        env = await startInstance(kind, { issuerPath: layout.issuerPath, resources: layout.resources });
      });
      after(async () => {
        if (!env) return;
        await env.server.stop();
        env.inst.remove();
      });

      it('serves the same AS metadata, with the exact issuer, at every well-known URL', t(async () => {
        const { inst, server, issuer } = env;
        const paths = inst.asMetadataPaths();
        assert.equal(paths.length, layout.issuerPath ? 4 : 2);
        const bodies = [];
        for (const p of paths) {
          const res = await server.fetch(p, {
            headers: { 'MCP-Protocol-Version': MCP_PROTOCOL_VERSION, Accept: 'application/json' },
          });
          const text = await res.text();
          assert.equal(res.status, 200, `GET ${p}: ${text}`);
          assert.match(res.headers.get('content-type'), JSON_TYPE, p);
          assert.equal(res.headers.get('cache-control'), 'public, max-age=3600', p);
          assert.equal(res.headers.get('access-control-allow-origin'), '*', p);
          // Byte-identical issuer, no "\/" escaping, no trailing slash.
          assert.ok(text.includes(`"issuer":"${issuer}"`), `${p} has "issuer":"${issuer}" verbatim: ${text}`);
          assert.ok(text.includes(`"jwks_uri":"${issuer}/jwks"`), `${p}: jwks_uri verbatim`);
          const m = JSON.parse(text);
          assert.equal(m.issuer, issuer);
          bodies.push(text);
        }
        for (const b of bodies) assert.equal(b, bodies[0], 'one document at every URL');

        const m = JSON.parse(bodies[0]);
        assert.equal(m.authorization_endpoint, `${issuer}/authorize`);
        assert.equal(m.token_endpoint, `${issuer}/token`);
        assert.equal(m.jwks_uri, `${issuer}/jwks`);
        assert.deepEqual(m.response_types_supported, ['code']);
        assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
        assert.ok(m.grant_types_supported.includes('authorization_code'));
        assert.ok(m.grant_types_supported.includes('refresh_token'));
        assert.ok(!m.grant_types_supported.includes('client_credentials'), 'client_credentials is off by default');
        assert.deepEqual(m.token_endpoint_auth_methods_supported, ['none'], 'only what is enabled');
        assert.equal(m.registration_endpoint, `${issuer}/register`, 'dynamic_registration is on by default');
        assert.equal(m.authorization_response_iss_parameter_supported, true);
        assert.ok(m.scopes_supported.includes('offline_access'));
        for (const r of env.resources) {
          for (const s of r.scopes) assert.ok(m.scopes_supported.includes(s), `scopes_supported has ${s}`);
        }
        // OpenID Discovery requires these; the MCP SDK's OIDC schema checks them.
        assert.ok(Array.isArray(m.subject_types_supported) && m.subject_types_supported.length > 0);
        assert.ok(Array.isArray(m.id_token_signing_alg_values_supported));
        OAuthMetadataSchema.parse(m);
        OpenIdProviderDiscoveryMetadataSchema.parse(m);
      }));

      it('ignores the query string and answers HEAD without a body', t(async () => {
        const { inst, server, issuer } = env;
        const p = inst.asMetadataPaths()[0];
        const q = await server.fetch(`${p}?client=x&x=%2F`);
        assert.equal(q.status, 200);
        assert.equal((await q.json()).issuer, issuer);

        const h = await server.fetch(p, { method: 'HEAD' });
        assert.equal(h.status, 200);
        assert.match(h.headers.get('content-type'), JSON_TYPE);
        assert.equal(h.headers.get('cache-control'), 'public, max-age=3600');
        assert.equal(await h.text(), '');
      }));

      it('publishes a JWKS whose keys verify an at+jwt from the active key (jose)', t(async () => {
        const { inst, server, issuer } = env;
        const res = await server.fetch(`${layout.issuerPath}/jwks`);
        const text = await res.text();
        assert.equal(res.status, 200, text);
        assert.match(res.headers.get('content-type'), JSON_TYPE);
        assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
        const jwks = JSON.parse(text);
        assert.ok(Array.isArray(jwks.keys) && jwks.keys.length >= 1, 'at least one key');
        for (const k of jwks.keys) {
          assert.ok(k.kid && k.kty && k.alg, 'kid, kty and alg on every key');
          for (const m of PRIVATE_JWK_MEMBERS) assert.equal(k[m], undefined, `public JWK without "${m}"`);
        }

        const now = Math.floor(Date.now() / 1000);
        const aud = env.resources[0].url;
        const token = inst.sign({
          iss: issuer, sub: 'user-1', aud, client_id: 'client-1',
          scope: 'mcp:tools', iat: now, exp: now + 300, jti: `jti-${now}`,
        });
        const opts = { issuer, audience: aud, typ: 'at+jwt', algorithms: ['ES256', 'EdDSA', 'Ed25519', 'RS256'] };
        const remote = jose.createRemoteJWKSet(new URL(`${issuer}/jwks`));
        const { payload, protectedHeader } = await jose.jwtVerify(token, remote, opts);
        assert.equal(payload.sub, 'user-1');
        assert.equal(payload.client_id, 'client-1');
        assert.equal(protectedHeader.typ, 'at+jwt');
        assert.ok(jwks.keys.some((k) => k.kid === protectedHeader.kid), 'signed with a published kid');
        await jose.jwtVerify(token, jose.createLocalJWKSet(jwks), opts);
        // The same token for another resource is not accepted.
        await assert.rejects(
          jose.jwtVerify(token, jose.createLocalJWKSet(jwks), { ...opts, audience: `${env.origin}/other` }),
          { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' },
        );
      }));

      for (const algorithm of ['oidc', 'oauth2']) {
        it(`is accepted by openid-client discovery() (${algorithm})`, t(async () => {
          const { issuer, origin } = env;
          const f = recordingFetch();
          const config = await oidc.discovery(new URL(issuer), 'test-client', undefined, undefined, {
            execute: [oidc.allowInsecureRequests],
            algorithm,
            [oidc.customFetch]: f,
          });
          assert.equal(config.serverMetadata().issuer, issuer);
          assert.equal(config.serverMetadata().token_endpoint, `${issuer}/token`);
          const expected = algorithm === 'oidc'
            ? `${issuer}/.well-known/openid-configuration`
            : `${origin}/.well-known/oauth-authorization-server${layout.issuerPath}`;
          assert.deepEqual(f.urls, [expected]);
        }));
      }

      it('is accepted by the MCP SDK at each URL it tries', t(async () => {
        const { issuer, origin } = env;
        const p = layout.issuerPath;
        // The SDK's order (client/auth.js buildDiscoveryUrls).
        const candidates = p
          ? [`${origin}/.well-known/oauth-authorization-server${p}`,
            `${origin}/.well-known/openid-configuration${p}`,
            `${origin}${p}/.well-known/openid-configuration`]
          : [`${origin}/.well-known/oauth-authorization-server`,
            `${origin}/.well-known/openid-configuration`];
        for (let i = 0; i < candidates.length; i++) {
          // Refuse the candidates before i so the SDK reads candidate i.
          const f = recordingFetch((u) => candidates.indexOf(u) >= 0 && candidates.indexOf(u) < i);
          const m = await discoverAuthorizationServerMetadata(issuer, {
            fetchFn: f, protocolVersion: MCP_PROTOCOL_VERSION,
          });
          assert.ok(m, `metadata from ${candidates[i]}`);
          assert.equal(m.issuer, issuer);
          assert.deepEqual(f.urls, candidates.slice(0, i + 1));
        }
      }));

      it('serves protected resource metadata for every resource (RFC 9728)', t(async () => {
        const { server, issuer, origin } = env;
        for (const r of env.resources) {
          const rp = new URL(r.url).pathname;
          const p = `/.well-known/oauth-protected-resource${rp}`;
          const res = await server.fetch(p, { headers: { 'MCP-Protocol-Version': MCP_PROTOCOL_VERSION } });
          const text = await res.text();
          assert.equal(res.status, 200, `GET ${p}: ${text}`);
          assert.match(res.headers.get('content-type'), JSON_TYPE);
          assert.equal(res.headers.get('cache-control'), 'public, max-age=3600');
          assert.equal(res.headers.get('access-control-allow-origin'), '*');
          assert.ok(text.includes(`"resource":"${r.url}"`), `resource verbatim in ${text}`);
          const m = JSON.parse(text);
          assert.equal(m.resource, r.url);
          assert.deepEqual(m.authorization_servers, [issuer]);
          assert.deepEqual(m.scopes_supported, r.scopes);
          assert.deepEqual(m.bearer_methods_supported, ['header']);
          assert.equal(m.resource_name, r.name);
          OAuthProtectedResourceMetadataSchema.parse(m);

          const f = recordingFetch();
          const sdk = await discoverOAuthProtectedResourceMetadata(r.url, undefined, f);
          assert.equal(sdk.resource, r.url);
          assert.deepEqual(sdk.authorization_servers, [issuer]);
          assert.equal(f.urls[0], `${origin}${p}`, 'the SDK tries the path-aware URL first');
        }

        const root = await server.fetch('/.well-known/oauth-protected-resource');
        const body = await root.text();
        if (env.resources.length === 1) {
          assert.equal(root.status, 200, body);
          assert.equal(JSON.parse(body).resource, env.resources[0].url);
        } else {
          // Two resources on this host: the root form cannot choose.
          assert.equal(root.status, 404, body);
          assert.equal(JSON.parse(body).error, 'invalid_request');
        }
      }));

      it('answers CORS preflights and adds CORS to GET', t(async () => {
        const { inst, server } = env;
        const paths = [
          ...inst.asMetadataPaths(),
          `${layout.issuerPath}/jwks`,
          `/.well-known/oauth-protected-resource${new URL(env.resources[0].url).pathname}`,
        ];
        for (const p of paths) {
          const res = await server.fetch(p, {
            method: 'OPTIONS',
            headers: {
              Origin: 'http://client.example',
              'Access-Control-Request-Method': 'GET',
              'Access-Control-Request-Headers': 'mcp-protocol-version',
            },
          });
          assert.equal(res.status, 204, `OPTIONS ${p}`);
          assert.equal(res.headers.get('access-control-allow-origin'), '*', p);
          const methods = (res.headers.get('access-control-allow-methods') || '').split(/\s*,\s*/);
          assert.ok(methods.includes('GET'), `${p}: Allow-Methods has GET`);
          const hdrs = (res.headers.get('access-control-allow-headers') || '').toLowerCase().split(/\s*,\s*/);
          assert.ok(hdrs.includes('mcp-protocol-version'), `${p}: Allow-Headers has MCP-Protocol-Version`);
          assert.equal(await res.text(), '');

          const get = await server.fetch(p, { headers: { Origin: 'http://client.example' } });
          assert.equal(get.status, 200);
          assert.equal(get.headers.get('access-control-allow-origin'), '*');
          await get.arrayBuffer();
        }
      }));

      it('refuses other methods with 405 and Allow', t(async () => {
        const { inst, server } = env;
        const paths = [inst.asMetadataPaths()[0], `${layout.issuerPath}/jwks`,
          `/.well-known/oauth-protected-resource${new URL(env.resources[0].url).pathname}`];
        for (const p of paths) {
          for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
            const res = await server.fetch(p, {
              method,
              headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
              body: 'a=b',
            });
            const text = await res.text();
            assert.equal(res.status, 405, `${method} ${p}: ${text}`);
            const allow = (res.headers.get('allow') || '').split(/\s*,\s*/);
            assert.ok(allow.includes('GET'), `${method} ${p}: Allow has GET`);
            assert.match(res.headers.get('content-type'), JSON_TYPE);
            assert.equal(JSON.parse(text).error, 'invalid_request');
          }
        }
      }));

      it('answers 404 for paths it does not serve', t(async () => {
        const { server } = env;
        const p = layout.issuerPath;
        // Routed to the program, which knows no such document: its JSON 404.
        const programPaths = [
          '/.well-known/oauth-authorization-server/nope',
          '/.well-known/openid-configuration/nope',
          '/.well-known/oauth-protected-resource/nope',
        ];
        // With an issuer path, the root forms belong to another issuer.
        if (p) programPaths.push('/.well-known/oauth-authorization-server', '/.well-known/openid-configuration');
        for (const u of programPaths) {
          const res = await server.fetch(u);
          const text = await res.text();
          assert.equal(res.status, 404, `GET ${u}: ${text}`);
          assert.match(res.headers.get('content-type'), JSON_TYPE, u);
          const body = JSON.parse(text);
          assert.equal(body.error, 'invalid_request', u);
          assert.equal(typeof body.error_description, 'string');
        }
        // Not routed at all: whole paths only, never prefixes.
        for (const u of [`${p}/jwks.json`, `${p}/jwksx`, `${p}/jwks/`, `${p}/jwks/x`,
          '/.well-known/oauth-authorization-serverx', `${p}/tokenx`, `${p}/token.json`, `${p}/authorizex`]) {
          const res = await server.fetch(u);
          await res.arrayBuffer();
          assert.equal(res.status, 404, `GET ${u}`);
        }
      }));
    });
  }
}

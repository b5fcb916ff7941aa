// flow.test.mjs: the whole sign-in and token flow (mcpauth-authorize,
// mcpauth-token) with real clients, behind real lighttpd (issuer without a
// path) and Apache with mod_fcgid (issuer with path /t1):
// - the MCP TypeScript SDK's client (StreamableHTTPClientTransport with an
//   OAuthClientProvider, i.e. auth()) against a protected MCP server run
//   here on another origin: its 401 names our protected resource metadata,
//   then discovery, dynamic registration, sign-in and consent in Debian's
//   Chromium (playwright-core), the code exchange, a tool call with the
//   token, and a refresh after the access token stops working;
// - openid-client: code flow with PKCE, resource and the iss response
//   parameter (RFC 9207), then a refresh;
// - the access tokens: RFC 9068 JWTs that verify with jose against our JWKS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import * as jose from 'jose';
import * as oidc from 'openid-client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

import { sqliteJson, startInstance, withLogs } from './lib/harness.mjs';
import {
  FormBrowser, addUser, assertPageHeaders, launchChromium, now, registerClient, sdkClient, sha256, startReceiver,
} from './lib/flow.mjs';
import { startMcpServer } from './lib/mcp-server.mjs';

const USER = 'alice';
const PASSWORD = 'correct horse battery staple 42';

// One authorization server, one MCP server it protects (on its own port),
// a loopback redirect receiver and one Chromium for the describe.
function setup(kind, issuerPath) {
  const env = {};
  before(async () => {
    env.mcp = await startMcpServer({ path: '/mcp', scope: 'mcp:tools' });
    Object.assign(env, await startInstance(kind, {
      issuerPath,
      resources: [{ url: env.mcp.url, name: 'Flow test MCP server', scopes: ['mcp:tools', 'mcp:resources'] }],
    }));
    env.prmUrl = `${env.origin}/.well-known/oauth-protected-resource/mcp`;
    env.mcp.configure({ issuer: env.issuer, jwksUri: `${env.issuer}/jwks`, prmUrl: env.prmUrl });
    addUser(env.inst, USER, PASSWORD);
    env.receiver = await startReceiver();
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.receiver?.close();
    await env.mcp?.close();
    if (env.server) {
      await env.server.stop();
      env.inst.remove();
    }
  });
  return { env, t: (fn) => withLogs(() => env.server, fn) };
}

function rows(env, sql) {
  const r = sqliteJson(env.inst.db, sql);
  env.inst.chown();
  return r;
}

// Checks an access token as a resource server would (RFC 9068) and returns
// its claims.
async function verifyAccessToken(env, token, { clientId, scope }) {
  const jwks = jose.createRemoteJWKSet(new URL(`${env.issuer}/jwks`));
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
    issuer: env.issuer,
    audience: env.mcp.url,
    typ: 'at+jwt',
  });
  assert.equal(protectedHeader.typ, 'at+jwt', 'the JWS typ header, exactly');
  assert.equal(protectedHeader.alg, 'ES256', 'the default signing algorithm');
  const keys = await (await fetch(`${env.issuer}/jwks`)).json();
  assert.ok(keys.keys.some((k) => k.kid === protectedHeader.kid), `kid ${protectedHeader.kid} is in the JWKS`);

  const user = rows(env, `SELECT subject FROM users WHERE username = '${USER}'`)[0];
  assert.ok(user, 'the user exists');
  assert.equal(payload.iss, env.issuer);
  assert.deepEqual([].concat(payload.aud), [env.mcp.url], 'aud is the resource URL');
  assert.equal(payload.sub, user.subject, 'sub is the user\'s subject');
  assert.notEqual(payload.sub, USER, 'sub is not the username');
  assert.equal(payload.principal_type, 'user', 'a person, not a machine');
  assert.ok(!payload.sub.includes(':'), "user subjects have no ':' (machines' are client:<id>)");
  assert.ok(!JSON.stringify(payload).includes(USER), 'the username is nowhere in the token');
  assert.equal(payload.client_id, clientId);
  assert.equal(payload.scope, scope);
  assert.equal(typeof payload.jti, 'string');
  assert.ok(payload.jti.length >= 16, 'a long jti');
  assert.equal(typeof payload.auth_time, 'number');
  assert.ok(payload.auth_time <= payload.iat, 'auth_time before iat');
  assert.ok(Math.abs(payload.iat - now()) <= 60, 'iat is now');
  assert.equal(payload.exp - payload.iat, 3600, 'access_token_lifetime is 3600 s by default');
  const stored = rows(env, `SELECT client_id, resource, scope, revoked_at FROM access_tokens WHERE jti = '${payload.jti.replace(/'/g, "''")}'`);
  assert.equal(stored.length, 1, 'the access token is recorded by its jti');
  assert.equal(stored[0].client_id, clientId);
  assert.equal(stored[0].resource, env.mcp.url);
  assert.equal(stored[0].revoked_at, null);
  return payload;
}

// An openid-client error about the "iss" parameter (the message is on the
// oauth4webapi error it wraps).
function aboutIss(e) {
  const text = `${e.message} ${e.cause?.message ?? ''}`;
  assert.match(text, /"iss"/, text);
  return true;
}

// Apache with an issuer path, lighttpd without one.
for (const [kind, issuerPath] of [['lighttpd', ''], ['apache', '/t1']]) {
  describe(`${kind}, issuer ${issuerPath ? `path ${issuerPath}` : 'without a path'}: sign-in and tokens with real clients`, () => {
    const { env, t } = setup(kind, issuerPath);

    it('the MCP SDK signs in from a 401 (discovery, DCR, Chromium sign-in and consent, tokens, a tool call, a refresh)', t(async () => {
      const { provider, redirectUri, browserRuns, fetched, transport } = sdkClient(env, {
        username: USER, password: PASSWORD, clientName: 'MCP SDK flow test',
      });

      // 1. Not signed in: the MCP server's 401 starts the flow, which ends
      // in the browser; the SDK then waits for the code (UnauthorizedError).
      const t1 = transport();
      const c1 = new Client({ name: 'flow-test', version: '1.0.0' });
      await assert.rejects(c1.connect(t1), UnauthorizedError);
      assert.equal(env.mcp.seen[0].ok, false, 'the first MCP request had no valid token');
      assert.equal(env.mcp.seen[0].token, undefined, 'and no token at all');
      assert.ok(fetched.includes(`GET ${env.prmUrl}`), `the PRM URL from WWW-Authenticate was read: ${fetched.join('\n')}`);
      assert.ok(fetched.some((f) => f.startsWith(`GET ${env.origin}/.well-known/oauth-authorization-server`) ||
        f.startsWith(`GET ${env.origin}/.well-known/openid-configuration`)), 'AS metadata was read');
      assert.ok(fetched.includes(`POST ${env.issuer}/register`), 'the SDK registered (DCR)');
      assert.equal(provider.registrations, 1);
      assert.match(provider.clientInformation().client_id, /^[A-Za-z0-9_-]{22}$/);

      assert.equal(provider.redirects.length, 1, 'one authorization request');
      const az = provider.redirects[0];
      assert.equal(`${az.origin}${az.pathname}`, `${env.issuer}/authorize`);
      assert.equal(az.searchParams.get('resource'), env.mcp.url, 'resource = the MCP server (RFC 8707)');
      assert.equal(az.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(az.searchParams.get('redirect_uri'), redirectUri);
      assert.equal(az.searchParams.get('scope'), 'mcp:tools', 'the scope from WWW-Authenticate');

      const cb = provider.callbacks[0];
      assert.ok(cb.params.get('code'), `a code came back: ${cb.url}`);
      assert.match(cb.params.get('code'), /^[A-Za-z0-9_-]{43}$/, 'codes are 43 base64url characters');
      assert.equal(cb.params.get('state'), provider.states[0], 'state passed through');
      assert.equal(cb.params.get('iss'), env.issuer, 'iss (RFC 9207)');
      assert.deepEqual(browserRuns[0].dialogs, [], 'no dialog fired');
      assert.ok(browserRuns[0].answers.length >= 3, 'the browser saw the login, the continuation and the consent');
      for (const a of browserRuns[0].answers) {
        if (a.status !== 200) continue;
        assertPageHeaders({ headers: new Headers(a.headers) }, `${a.request.method()} ${a.url}`);
      }
      const session = browserRuns[0].cookies.find((c) => c.name.startsWith('__Host-mcpauth-session-'));
      assert.ok(session, 'a session cookie');
      assert.equal(session.secure, true);
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Lax');
      assert.equal(session.path, '/');

      // 2. The code exchange.
      await t1.finishAuth(cb.params.get('code'));
      assert.equal(provider.savedTokens.length, 1);
      const first = provider.tokens();
      assert.equal(first.token_type.toLowerCase(), 'bearer');
      assert.ok(first.refresh_token, 'a refresh token');
      const claims = await verifyAccessToken(env, first.access_token, {
        clientId: provider.clientInformation().client_id, scope: 'mcp:tools',
      });

      // 3. The MCP server takes the token.
      const c2 = new Client({ name: 'flow-test', version: '1.0.0' });
      await c2.connect(transport());
      const tools = await c2.listTools();
      assert.deepEqual(tools.tools.map((x) => x.name), ['whoami']);
      const who = await c2.callTool({ name: 'whoami', arguments: {} });
      const seenClaims = JSON.parse(who.content[0].text);
      assert.equal(seenClaims.sub, claims.sub);
      assert.equal(seenClaims.client_id, provider.clientInformation().client_id);
      await c2.close();

      // 4. The access token stops working (the MCP server refuses it): the
      // SDK refreshes with the refresh token, without a browser.
      const before = env.mcp.seen.length;
      provider._tokens = { ...first, access_token: `${first.access_token.slice(0, -4)}AAAA` };
      const c3 = new Client({ name: 'flow-test', version: '1.0.0' });
      await c3.connect(transport());
      const who2 = JSON.parse((await c3.callTool({ name: 'whoami', arguments: {} })).content[0].text);
      await c3.close();
      assert.equal(env.mcp.seen[before].ok, false, 'the damaged token was refused');
      assert.equal(provider.redirects.length, 1, 'no second browser sign-in');
      assert.equal(provider.savedTokens.length, 2, 'new tokens from the refresh');
      const second = provider.tokens();
      assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token rotated');
      assert.notEqual(second.access_token, first.access_token);
      assert.deepEqual(provider.invalidations, []);
      const claims2 = await verifyAccessToken(env, second.access_token, {
        clientId: provider.clientInformation().client_id, scope: 'mcp:tools',
      });
      assert.equal(who2.jti, claims2.jti, 'the MCP server saw the refreshed token');
      assert.equal(claims2.sub, claims.sub);
      assert.equal(claims2.auth_time, claims.auth_time, 'auth_time is the sign-in\'s');
      assert.notEqual(claims2.jti, claims.jti);
      const old = rows(env, `SELECT rotated_at, revoked_at, family_id FROM refresh_tokens WHERE token_hash = '${sha256(first.refresh_token)}'`);
      assert.equal(old.length, 1);
      assert.notEqual(old[0].rotated_at, null, 'the old refresh token is marked rotated');
      assert.equal(old[0].revoked_at, null, 'and not revoked');
      const cur = rows(env, `SELECT family_id FROM refresh_tokens WHERE token_hash = '${sha256(second.refresh_token)}'`);
      assert.equal(cur[0].family_id, old[0].family_id, 'same family');
    }));

    it('openid-client: code flow with PKCE, resource and iss checking, then a refresh', t(async () => {
      const redirectUri = env.receiver.url('/oidc/callback');
      const reg = await registerClient(env.issuer, {
        client_name: 'openid-client flow test',
        redirect_uris: [redirectUri],
        application_type: 'native',
      });
      const config = await oidc.discovery(new URL(env.issuer), reg.client_id, undefined, oidc.None(), {
        execute: [oidc.allowInsecureRequests],
      });
      assert.equal(config.serverMetadata().authorization_response_iss_parameter_supported, true);
      const verifier = oidc.randomPKCECodeVerifier();
      const challenge = await oidc.calculatePKCECodeChallenge(verifier);
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'mcp:tools mcp:resources offline_access',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state,
        resource: env.mcp.url,
      });
      const browser = new FormBrowser();
      const { location, params, pages } = await browser.authorize(url.href, { username: USER, password: PASSWORD });
      assert.deepEqual(pages.map((p) => p.status), [200, 200], 'a login page, then a consent page');
      for (const p of pages) assertPageHeaders(p);
      assert.ok(location.startsWith(`${redirectUri}?`), location);
      assert.equal(params.get('iss'), env.issuer);
      assert.equal(params.get('state'), state);

      // openid-client refuses a response whose iss is not the issuer, or
      // that has none (the metadata promises it).
      const forged = new URL(location);
      forged.searchParams.set('iss', 'http://127.0.0.1:1');
      await assert.rejects(
        oidc.authorizationCodeGrant(config, forged, { pkceCodeVerifier: verifier, expectedState: state }),
        aboutIss, 'a wrong iss is refused by the client');
      const noIss = new URL(location);
      noIss.searchParams.delete('iss');
      await assert.rejects(
        oidc.authorizationCodeGrant(config, noIss, { pkceCodeVerifier: verifier, expectedState: state }),
        aboutIss, 'a missing iss is refused by the client');

      const tokens = await oidc.authorizationCodeGrant(config, new URL(location), {
        pkceCodeVerifier: verifier, expectedState: state,
      }, { resource: env.mcp.url });
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.equal(tokens.expires_in, 3600);
      assert.equal(tokens.scope, 'mcp:tools mcp:resources offline_access');
      assert.ok(tokens.refresh_token);
      const claims = await verifyAccessToken(env, tokens.access_token, {
        clientId: reg.client_id, scope: 'mcp:tools mcp:resources offline_access',
      });

      // The MCP server takes the token as it is.
      const c = new Client({ name: 'oidc-flow-test', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(new URL(env.mcp.url), {
        requestInit: { headers: { Authorization: `Bearer ${tokens.access_token}` } },
      }));
      const who = JSON.parse((await c.callTool({ name: 'whoami', arguments: {} })).content[0].text);
      assert.equal(who.jti, claims.jti);
      await c.close();

      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token, { resource: env.mcp.url });
      assert.ok(refreshed.refresh_token);
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
      assert.equal(refreshed.scope, tokens.scope);
      const claims2 = await verifyAccessToken(env, refreshed.access_token, {
        clientId: reg.client_id, scope: 'mcp:tools mcp:resources offline_access',
      });
      assert.equal(claims2.sub, claims.sub);

      // A narrower scope on refresh narrows the access token only.
      const narrow = await oidc.refreshTokenGrant(config, refreshed.refresh_token, { resource: env.mcp.url, scope: 'mcp:tools' });
      assert.equal(narrow.scope, 'mcp:tools');
      await verifyAccessToken(env, narrow.access_token, { clientId: reg.client_id, scope: 'mcp:tools' });
      const again = await oidc.refreshTokenGrant(config, narrow.refresh_token, { resource: env.mcp.url });
      assert.equal(again.scope, 'mcp:tools mcp:resources offline_access', 'the family keeps its scope');

      // Signed in and consented: the next authorization needs no page.
      const state2 = oidc.randomState();
      const v2 = oidc.randomPKCECodeVerifier();
      const url2 = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'mcp:tools',
        code_challenge: await oidc.calculatePKCECodeChallenge(v2),
        code_challenge_method: 'S256',
        state: state2,
        resource: env.mcp.url,
      });
      const direct = await browser.get(url2.href);
      assert.equal(direct.status, 303, direct.what);
      assert.ok(direct.location.startsWith(`${redirectUri}?code=`), direct.location);
      const t2 = await oidc.authorizationCodeGrant(config, new URL(direct.location), {
        pkceCodeVerifier: v2, expectedState: state2,
      }, { resource: env.mcp.url });
      await verifyAccessToken(env, t2.access_token, { clientId: reg.client_id, scope: 'mcp:tools' });
    }));
  });
}

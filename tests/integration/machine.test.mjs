// machine.test.mjs: machine clients (the client_credentials grant,
// io.modelcontextprotocol/oauth-client-credentials) behind real lighttpd,
// and an Apache smoke test with an issuer path:
// - provisioning with `mcpauth-admin client add` (secrets, private_key_jwt
//   with a JWKS file), and what it refuses;
// - real clients: the MCP SDK's ClientCredentialsProvider and
//   PrivateKeyJwtProvider (auth() through StreamableHTTPClientTransport
//   against a protected MCP server run here), openid-client's
//   clientCredentialsGrant with ClientSecretBasic, ClientSecretPost and
//   PrivateKeyJwt; every token checked with jose (aud, sub client:<id>,
//   principal_type client, no auth_time, typ at+jwt) and no refresh token;
// - refusals with their exact errors: DCR never gets the grant, clients
//   without it get unauthorized_client, bad secrets and every kind of bad
//   assertion get 401 invalid_client (alg none, HMAC with the public key,
//   another key, embedded jwk/jku, exp, aud, iss/sub, jti, replay, a race of
//   16 with one assertion), resources and scopes outside the allowance;
// - `client rotate-secret` (with and without overlap), `client keys`,
//   `client disable` / `enable`;
// - the AS metadata with client_credentials and private_key_jwt on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import * as oidc from 'openid-client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ClientCredentialsProvider, PrivateKeyJwtProvider,
} from '@modelcontextprotocol/sdk/client/auth-extensions.js';

import {
  Instance, cgiRequest, dbBytes, sqlite3, sqliteJson, startInstance, withLogs,
} from './lib/harness.mjs';
import {
  assertErrorPage, assertTokenError, assertTokens, authorizeUrl, lit, pageKind, pkce, randomToken,
  registerClient, simultaneously, startReceiver, tokenRequest,
} from './lib/flow.mjs';
import { startMcpServer } from './lib/mcp-server.mjs';
import {
  addClient, assertMachineToken, assertionClaims, assertionGrant, ecKeyPair, hmacAssertion, keyPair,
  jwksText, nowS, secretGrant, secretIn, signAssertion, unsignedAssertion, writeInstanceFile,
} from './lib/machine.mjs';

const LOOPBACK = 'http://127.0.0.1:6276/oauth/callback';
const WEB = 'https://app.example.com/cb';
const MACHINE_CONF = 'client_credentials = yes\nprivate_key_jwt = yes';

// --- per-describe setup ------------------------------------------------------------

// An MCP server run here (resource 1, scopes mcp:tools mcp:resources) and
// a second resource /other (files:read) on the authorization server's origin.
function serve(kind, { issuerPath = '', extra = MACHINE_CONF } = {}) {
  const env = { secrets: [], assertions: [] };
  before(async () => {
    env.mcp = await startMcpServer({ path: '/mcp', scope: 'mcp:tools' });
    Object.assign(env, await startInstance(kind, {
      issuerPath,
      resources: [
        { url: env.mcp.url, name: 'Machine test MCP server', scopes: ['mcp:tools', 'mcp:resources'] },
        { path: '/other', name: 'Other server', scopes: ['files:read'] },
      ],
      extra,
    }));
    env.main = env.mcp.url;
    env.other = env.resources[1].url;
    env.tokenUrl = `${env.issuer}/token`;
    env.prmUrl = `${env.origin}/.well-known/oauth-protected-resource/mcp`;
    env.mcp.configure({ issuer: env.issuer, jwksUri: `${env.issuer}/jwks`, prmUrl: env.prmUrl });
  });
  after(async () => {
    await env.mcp?.close();
    if (!env.server) return;
    await env.server.stop();
    env.inst.remove();
  });
  return { env, t: (fn) => withLogs(() => env.server, fn) };
}

function rows(env, sql) {
  const r = sqliteJson(env.inst.db, sql);
  env.inst.chown();
  return r;
}
function exec(env, sql) {
  sqlite3(env.inst.db, sql);
  env.inst.chown();
}
const clientCount = (env) => rows(env, 'SELECT count(*) AS n FROM clients')[0].n;

// A secret client for client_credentials; its secret is remembered for
// the canary search.
function secretClient(env, name, args = []) {
  const c = addClient(env.inst, name, ['--grant', 'client_credentials', ...args]);
  env.secrets.push(c.client_secret);
  return c;
}

// A private_key_jwt client with a fresh EC P-256 key: { ...JSON, key }.
async function jwtClient(env, name, args = []) {
  const key = await ecKeyPair();
  const file = writeInstanceFile(env.inst, `${name}.jwks.json`, jwksText(key.publicJwk));
  const c = addClient(env.inst, name, [
    '--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks', file, '--alg', 'ES256', ...args,
  ]);
  return { ...c, key };
}

async function assertion(env, client, changes = {}, header = {}, key = client.key) {
  const a = await signAssertion(key, assertionClaims(client.client_id, env.tokenUrl, changes),
    { kid: key.kid, ...header });
  env.assertions.push(a);
  return a;
}

// openid-client's Configuration for a client (discovery over http, which
// only the tests allow).
function oidcConfig(env, clientId, auth) {
  return oidc.discovery(new URL(env.issuer), clientId, undefined, auth, {
    execute: [oidc.allowInsecureRequests],
  });
}

// Connects the MCP SDK's client with provider, calls whoami, and returns
// the claims the MCP server verified.
async function callWhoami(env, provider) {
  const c = new Client({ name: 'machine-test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(env.mcp.url), { authProvider: provider }));
  try {
    const who = await c.callTool({ name: 'whoami', arguments: {} });
    return JSON.parse(who.content[0].text);
  } finally {
    await c.close();
  }
}

// --- lighttpd ------------------------------------------------------------------------------

describe('lighttpd: machine clients (client_credentials)', () => {
  // Confidential DCR on too: such clients must not get client_credentials either.
  const { env, t } = serve('lighttpd', {
    extra: `${MACHINE_CONF}\nconfidential_registration = yes\nregistration_rate_limit = 0`,
  });
  let bot; // client_secret_basic, MCP resource, mcp:tools
  let postBot; // client_secret_post, MCP resource, mcp:tools
  let jwtBot; // private_key_jwt ES256, MCP resource, mcp:tools
  let anyBot; // client_secret_basic, any resource, any scope

  before(async () => {
    bot = secretClient(env, 'ci-bot', ['--resource', env.main, '--scope', 'mcp:tools']);
    postBot = secretClient(env, 'ci-post', ['--auth', 'client_secret_post', '--resource', env.main, '--scope', 'mcp:tools']);
    jwtBot = await jwtClient(env, 'ci-jwt', ['--resource', env.main, '--scope', 'mcp:tools']);
    anyBot = secretClient(env, 'ci-any');
  });

  describe('provisioning', () => {
    it('client add prints the client id, the secret once, the issuer and the token endpoint', t(async () => {
      for (const c of [bot, postBot, anyBot]) {
        assert.match(c.client_id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/, 'a 22-character id not starting with -');
        assert.match(c.client_secret, /^[A-Za-z0-9_-]{43}$/, 'a 43-character secret');
        assert.equal(c.issuer, env.issuer);
        assert.equal(c.token_endpoint, env.tokenUrl);
      }
      assert.equal(new Set([bot, postBot, anyBot, jwtBot].map((c) => c.client_id)).size, 4, 'ids differ');
      assert.equal(jwtBot.client_secret, undefined, 'no secret for a private_key_jwt client');
      assert.equal(jwtBot.issuer, env.issuer);
      assert.equal(jwtBot.token_endpoint, env.tokenUrl);
      const auds = Object.values(jwtBot).filter((v) => Array.isArray(v));
      assert.ok(auds.some((v) => v.includes(env.issuer) && v.includes(env.tokenUrl)),
        `the accepted aud values (issuer, token endpoint) are printed: ${JSON.stringify(jwtBot)}`);

      const stored = rows(env, `SELECT client_id, source, token_endpoint_auth_method AS auth_method, grant_types, allowed_resources, signing_alg, disabled_at
        FROM clients WHERE client_id IN (${[bot, jwtBot, anyBot].map((c) => lit(c.client_id)).join(',')})`);
      const byId = Object.fromEntries(stored.map((r) => [r.client_id, r]));
      assert.equal(byId[bot.client_id].source, 'operator');
      assert.equal(byId[bot.client_id].auth_method, 'client_secret_basic', 'the default method');
      assert.match(byId[bot.client_id].grant_types, /client_credentials/);
      assert.equal(byId[bot.client_id].allowed_resources, env.main);
      assert.equal(byId[bot.client_id].disabled_at, null);
      assert.equal(byId[anyBot.client_id].allowed_resources, null, 'no --resource: any');
      assert.equal(byId[jwtBot.client_id].auth_method, 'private_key_jwt');
      assert.equal(byId[jwtBot.client_id].signing_alg, 'ES256');
      // Secrets are stored as hashes only.
      const bytes = dbBytes(env.inst.db);
      for (const s of env.secrets) assert.ok(!bytes.includes(Buffer.from(s)), 'no secret in the database files');
    }));

    it('refuses what the spec refuses, and stores nothing then', t(async () => {
      const before = clientCount(env);
      const key = await ecKeyPair();
      const good = writeInstanceFile(env.inst, 'good.jwks.json', jwksText(key.publicJwk));
      const priv = writeInstanceFile(env.inst, 'private.jwks.json', jwksText(key.privateJwk));
      const oct = writeInstanceFile(env.inst, 'oct.jwks.json',
        jwksText({ kty: 'oct', k: randomToken(32), kid: 'hmac', alg: 'HS256' }));
      const cases = [
        // [what, args, exit status (undefined: any but 0)]
        ['client_credentials with auth none', ['--grant', 'client_credentials', '--auth', 'none'], 2],
        ['a resource that is not configured', ['--grant', 'client_credentials', '--resource', 'https://unknown.example/mcp'], 2],
        ['a scope of no resource', ['--grant', 'client_credentials', '--scope', 'admin:all']],
        ['a scope of another resource than allowed', ['--grant', 'client_credentials', '--resource', env.main, '--scope', 'files:read']],
        ['private_key_jwt without --jwks', ['--grant', 'client_credentials', '--auth', 'private_key_jwt']],
        ['a JWKS with a private key', ['--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks', priv]],
        ['a JWKS with a symmetric key', ['--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks', oct, '--alg', 'ES256']],
        ['an alg the keys cannot make', ['--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks', good, '--alg', 'RS256']],
        ['an alg that is HMAC', ['--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks', good, '--alg', 'HS256']],
        ['authorization_code without --redirect-uri', ['--grant', 'authorization_code']],
      ];
      for (const [what, args, status] of cases) {
        const r = env.inst.admin(['client', 'add', 'refused', ...args, '--json']);
        if (status !== undefined) assert.equal(r.status, status, `${what}: ${r.stderr}${r.stdout}`);
        else assert.notEqual(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
        assert.ok(r.stderr.trim().length > 0, `${what}: says why on stderr`);
        assert.ok(!/[A-Za-z0-9_-]{43}/.test(r.stdout), `${what}: no secret printed`);
      }
      assert.equal(clientCount(env), before, 'no client stored');
      // A private_key_jwt client has no secret to rotate; a secret client no keys.
      const rot = env.inst.admin(['client', 'rotate-secret', jwtBot.client_id]);
      assert.notEqual(rot.status, 0, `rotate-secret of a private_key_jwt client: ${rot.stdout}`);
      const keys = env.inst.admin(['client', 'keys', bot.client_id, '--jwks', good]);
      assert.notEqual(keys.status, 0, `keys of a secret client: ${keys.stdout}`);
    }));
  });

  describe('real clients get tokens', () => {
    it('MCP SDK: ClientCredentialsProvider (secret) gets a token and calls the tool', t(async () => {
      const provider = new ClientCredentialsProvider({
        clientId: bot.client_id, clientSecret: bot.client_secret, expectedIssuer: env.issuer, scope: 'mcp:tools',
      });
      const seen = env.mcp.seen.length;
      const who = await callWhoami(env, provider);
      assert.equal(env.mcp.seen[seen].ok, false, 'the first MCP request had no token (401 started auth())');
      const tokens = provider.tokens();
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.equal(tokens.refresh_token, undefined, 'no refresh token for client_credentials');
      const claims = await assertMachineToken(env.issuer, tokens.access_token, {
        clientId: bot.client_id, resource: env.main, scope: 'mcp:tools',
      });
      assert.equal(who.sub, `client:${bot.client_id}`, 'the MCP server saw the machine');
      assert.equal(who.jti, claims.jti);
    }));

    it('MCP SDK: PrivateKeyJwtProvider (ES256 assertion, aud = issuer) gets a token and calls the tool', t(async () => {
      const provider = new PrivateKeyJwtProvider({
        clientId: jwtBot.client_id, privateKey: jwtBot.key.privateJwk, algorithm: 'ES256',
        expectedIssuer: env.issuer, scope: 'mcp:tools',
      });
      const who = await callWhoami(env, provider);
      const tokens = provider.tokens();
      assert.equal(tokens.refresh_token, undefined, 'no refresh token for client_credentials');
      const claims = await assertMachineToken(env.issuer, tokens.access_token, {
        clientId: jwtBot.client_id, resource: env.main, scope: 'mcp:tools',
      });
      assert.equal(who.sub, `client:${jwtBot.client_id}`);
      assert.equal(who.principal_type, 'client');
      assert.equal(who.jti, claims.jti);
    }));

    const viaOidc = [
      ['ClientSecretBasic', () => [bot, oidc.ClientSecretBasic(bot.client_secret)]],
      ['ClientSecretPost', () => [postBot, oidc.ClientSecretPost(postBot.client_secret)]],
      ['PrivateKeyJwt', () => [jwtBot, oidc.PrivateKeyJwt({ key: jwtBot.key.privateKey, kid: jwtBot.key.kid })]],
    ];
    for (const [name, pick] of viaOidc) {
      it(`openid-client: clientCredentialsGrant with ${name}`, t(async () => {
        const [c, auth] = pick();
        const config = await oidcConfig(env, c.client_id, auth);
        const tokens = await oidc.clientCredentialsGrant(config, { resource: env.main, scope: 'mcp:tools' });
        assert.equal(tokens.token_type.toLowerCase(), 'bearer');
        assert.equal(tokens.expires_in, 3600);
        assert.equal(tokens.scope, 'mcp:tools');
        assert.equal(tokens.refresh_token, undefined, 'no refresh token');
        await assertMachineToken(env.issuer, tokens.access_token, {
          clientId: c.client_id, resource: env.main, scope: 'mcp:tools',
        });
        // The MCP server takes it as it is.
        const mc = new Client({ name: 'machine-oidc', version: '1.0.0' });
        await mc.connect(new StreamableHTTPClientTransport(new URL(env.mcp.url), {
          requestInit: { headers: { Authorization: `Bearer ${tokens.access_token}` } },
        }));
        const who = JSON.parse((await mc.callTool({ name: 'whoami', arguments: {} })).content[0].text);
        await mc.close();
        assert.equal(who.client_id, c.client_id);
      }));
    }

    it('the answer: RFC 6749 §5.1 headers, no refresh token; defaults for resource and scope', t(async () => {
      // ci-bot has one allowed resource and scope: both are the defaults.
      const r = await secretGrant(env.issuer, bot.client_id, bot.client_secret);
      const tk = assertTokens(r, { refresh: false });
      assert.equal(tk.scope, 'mcp:tools');
      await assertMachineToken(env.issuer, tk.access_token, { clientId: bot.client_id, resource: env.main, scope: 'mcp:tools' });
      // A client for any resource: that resource's scopes when none asked.
      const o = await secretGrant(env.issuer, anyBot.client_id, anyBot.client_secret, { resource: env.other });
      const ot = assertTokens(o, { refresh: false });
      assert.equal(ot.scope, 'files:read');
      await assertMachineToken(env.issuer, ot.access_token, { clientId: anyBot.client_id, resource: env.other, scope: 'files:read' });
      const m = await secretGrant(env.issuer, anyBot.client_id, anyBot.client_secret, { resource: env.main, scope: 'mcp:resources' });
      const mt = assertTokens(m, { refresh: false });
      await assertMachineToken(env.issuer, mt.access_token, { clientId: anyBot.client_id, resource: env.main, scope: 'mcp:resources' });
      // The token is recorded (by jti) like any access token.
      const jti = JSON.parse(Buffer.from(tk.access_token.split('.')[1], 'base64url')).jti;
      const stored = rows(env, `SELECT client_id, resource FROM access_tokens WHERE jti = ${lit(jti)}`);
      assert.deepEqual(stored, [{ client_id: bot.client_id, resource: env.main }]);
    }));

    it('assertions: aud = issuer, aud = token endpoint, aud array; client_id sent and matching', t(async () => {
      const ok = async (a, opts = {}) => {
        const r = await assertionGrant(env.issuer, a, { resource: env.main, ...opts });
        const tk = assertTokens(r, { refresh: false });
        await assertMachineToken(env.issuer, tk.access_token, { clientId: jwtBot.client_id, resource: env.main, scope: 'mcp:tools' });
      };
      await ok(await assertion(env, jwtBot, { aud: env.issuer }));
      await ok(await assertion(env, jwtBot, { aud: env.tokenUrl }));
      await ok(await assertion(env, jwtBot, { aud: ['https://someone-else.example', env.issuer] }));
      await ok(await assertion(env, jwtBot, { aud: [env.tokenUrl] }));
      await ok(await assertion(env, jwtBot), { clientId: jwtBot.client_id });
      // The SDK's default lifetime: exp = now + 300 exactly.
      await ok(await assertion(env, jwtBot, { exp: nowS() + 300 }));
    }));

    for (const alg of ['EdDSA', 'RS256']) {
      it(`${alg} clients: assertions with their one algorithm only`, t(async () => {
        const key = await keyPair(alg);
        const file = writeInstanceFile(env.inst, `ci-${alg}.jwks.json`, jwksText(key.publicJwk));
        const c = { ...addClient(env.inst, `ci-${alg}`, [
          '--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks', file, '--alg', alg,
          '--resource', env.main, '--scope', 'mcp:tools',
        ]), key };
        assert.equal(rows(env, `SELECT signing_alg FROM clients WHERE client_id = ${lit(c.client_id)}`)[0].signing_alg, alg);
        const r = await assertionGrant(env.issuer, await assertion(env, c), {});
        const tk = assertTokens(r, { refresh: false });
        await assertMachineToken(env.issuer, tk.access_token, { clientId: c.client_id, resource: env.main, scope: 'mcp:tools' });
        // The same key under another algorithm it could make, or HMAC with its public key.
        const claims = () => assertionClaims(c.client_id, env.tokenUrl);
        const wrong = alg === 'RS256'
          ? [['RS384', await signAssertion(key, claims(), { alg: 'RS384', kid: key.kid })],
            ['PS256', await signAssertion(key, claims(), { alg: 'PS256', kid: key.kid })]]
          : [];
        wrong.push(['HS256 with the public PEM', hmacAssertion(claims(), key.publicPem, key.kid)]);
        wrong.push(['alg none', unsignedAssertion(claims())]);
        for (const [what, a] of wrong) {
          const w = await assertionGrant(env.issuer, a, {});
          assert.equal(w.status, 401, `${alg} client, ${what}: ${w.what}`);
          assertTokenError(w, 401, 'invalid_client');
        }
        // The kind of key must match --alg.
        const bad = env.inst.admin(['client', 'add', 'mismatch', '--grant', 'client_credentials', '--auth', 'private_key_jwt',
          '--jwks', file, '--alg', alg === 'EdDSA' ? 'ES256' : 'EdDSA', '--json']);
        assert.notEqual(bad.status, 0, `a ${alg} key with another --alg: ${bad.stdout}`);
      }));
    }
  });

  describe('refusals', () => {
    it('DCR never grants client_credentials: invalid_client_metadata', t(async () => {
      const before = clientCount(env);
      const bodies = [
        { client_name: 'wants cc', redirect_uris: [LOOPBACK], application_type: 'native', grant_types: ['authorization_code', 'client_credentials'] },
        { client_name: 'wants cc only', redirect_uris: [WEB], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
        { client_name: 'wants cc, confidential', redirect_uris: [WEB], grant_types: ['authorization_code', 'client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
      ];
      for (const body of bodies) {
        const res = await fetch(`${env.issuer}/register`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
        });
        const text = await res.text();
        assert.equal(res.status, 400, `${body.client_name}: ${text}`);
        assert.equal(JSON.parse(text).error, 'invalid_client_metadata', text);
      }
      // Without redirect URIs at all: refused too (which complaint comes
      // first is the server's choice).
      const res = await fetch(`${env.issuer}/register`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_name: 'a machine', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' }),
      });
      const text = await res.text();
      assert.equal(res.status, 400, text);
      assert.ok(['invalid_client_metadata', 'invalid_redirect_uri'].includes(JSON.parse(text).error), text);
      assert.equal(clientCount(env), before, 'nothing registered');
    }));

    it('clients without the grant: unauthorized_client', t(async () => {
      const pub = await registerClient(env.issuer, { client_name: 'public', redirect_uris: [LOOPBACK], application_type: 'native' });
      assertTokenError(await tokenRequest(env.issuer, { grant_type: 'client_credentials', client_id: pub.client_id, resource: env.main }),
        400, 'unauthorized_client');
      const conf = await registerClient(env.issuer, {
        client_name: 'confidential', redirect_uris: [WEB], token_endpoint_auth_method: 'client_secret_basic',
      });
      env.secrets.push(conf.client_secret);
      assertTokenError(await secretGrant(env.issuer, conf.client_id, conf.client_secret, { resource: env.main }),
        400, 'unauthorized_client');
      // An operator's authorization-code client with a secret.
      const web = addClient(env.inst, 'web-app', ['--grant', 'authorization_code', '--redirect-uri', WEB]);
      env.secrets.push(web.client_secret);
      assert.match(web.client_secret, /^[A-Za-z0-9_-]{43}$/, 'client_secret_basic by default');
      assertTokenError(await secretGrant(env.issuer, web.client_id, web.client_secret, { resource: env.main }),
        400, 'unauthorized_client');
      // A public operator client (--auth none) is allowed for the code flow, never for client_credentials.
      const pubOp = addClient(env.inst, 'native-app', ['--grant', 'authorization_code', '--redirect-uri', LOOPBACK, '--auth', 'none']);
      assert.equal(pubOp.client_secret, undefined, 'a public client has no secret');
      assertTokenError(await tokenRequest(env.issuer, { grant_type: 'client_credentials', client_id: pubOp.client_id, resource: env.main }),
        400, 'unauthorized_client');
    }));

    it('bad secrets: 401 invalid_client with WWW-Authenticate', t(async () => {
      // The right secret with its last character changed.
      const last = bot.client_secret.slice(-1);
      const wrong = bot.client_secret.slice(0, -1) + (last === 'A' ? 'B' : 'A');
      assertTokenError(await secretGrant(env.issuer, bot.client_id, wrong, { resource: env.main }), 401, 'invalid_client');
      assertTokenError(await secretGrant(env.issuer, bot.client_id, randomToken(32), { resource: env.main, post: true }), 401, 'invalid_client');
      assertTokenError(await secretGrant(env.issuer, bot.client_id, postBot.client_secret, { resource: env.main }), 401, 'invalid_client');
      assertTokenError(await secretGrant(env.issuer, randomToken(16), bot.client_secret, { resource: env.main }), 401, 'invalid_client');
      assertTokenError(await tokenRequest(env.issuer, { grant_type: 'client_credentials', client_id: bot.client_id, resource: env.main }),
        401, 'invalid_client');
      // A private_key_jwt client has no secret to present.
      assertTokenError(await secretGrant(env.issuer, jwtBot.client_id, randomToken(32), { resource: env.main }), 401, 'invalid_client');
      // A secret client's name on an assertion: it has no keys.
      const key = await ecKeyPair();
      const a = await signAssertion(key, assertionClaims(bot.client_id, env.tokenUrl), { kid: key.kid });
      assertTokenError(await assertionGrant(env.issuer, a, { resource: env.main }), 401, 'invalid_client');
      // Two methods in one request.
      const two = await assertion(env, jwtBot);
      const r = await tokenRequest(env.issuer, {
        grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: two, resource: env.main,
      }, { basic: [bot.client_id, bot.client_secret] });
      assertTokenError(r, 400, 'invalid_request');
    }));

    it('bad assertions: 401 invalid_client, each', t(async () => {
      const other = await ecKeyPair();
      const id = jwtBot.client_id;
      const claims = (changes) => assertionClaims(id, env.tokenUrl, changes);
      const receiver = await startReceiver();
      try {
        const cases = [
          ['alg none', unsignedAssertion(claims())],
          ['HS256 with the public key PEM as secret', hmacAssertion(claims(), jwtBot.key.publicPem, jwtBot.key.kid)],
          ['HS256 with the public JWK as secret', hmacAssertion(claims(), JSON.stringify(jwtBot.key.publicJwk), jwtBot.key.kid)],
          ['HS256 with the JWKS file as secret', hmacAssertion(claims(), jwksText(jwtBot.key.publicJwk), jwtBot.key.kid)],
          ['signed by another key (same kid)', await signAssertion(other, claims(), { kid: jwtBot.key.kid })],
          ['signed by another key (its own kid)', await signAssertion(other, claims(), { kid: other.kid })],
          ['another key, embedded in a jwk header', await signAssertion(other, claims(), { kid: other.kid, jwk: other.publicJwk })],
          ['another key, named by a jku header', await signAssertion(other, claims(), {
            kid: other.kid, jku: receiver.url('/jwks.json'),
          })],
          ['another key, named by an x5u header', await signAssertion(other, claims(), {
            kid: other.kid, x5u: receiver.url('/cert.pem'),
          })],
          ['a damaged signature', (await assertion(env, jwtBot)).replace(/.{4}$/, 'AAAA')],
          ['exp in the past', await assertion(env, jwtBot, { iat: nowS() - 180, exp: nowS() - 60 })],
          ['exp too far (now + 600 s)', await assertion(env, jwtBot, { exp: nowS() + 600 })],
          ['exp too far (now + 1 day)', await assertion(env, jwtBot, { exp: nowS() + 86400 })],
          ['no exp', await assertion(env, jwtBot, { exp: undefined })],
          ['exp not a number', await assertion(env, jwtBot, { exp: String(nowS() + 60) })],
          ['no jti', await assertion(env, jwtBot, { jti: undefined })],
          ['an empty jti', await assertion(env, jwtBot, { jti: '' })],
          ['aud: another server', await assertion(env, jwtBot, { aud: 'https://evil.example/token' })],
          ['aud: the resource', await assertion(env, jwtBot, { aud: env.main })],
          ['aud: the authorize endpoint', await assertion(env, jwtBot, { aud: `${env.issuer}/authorize` })],
          ['aud: the issuer with a trailing slash', await assertion(env, jwtBot, { aud: `${env.issuer}/` })],
          ['aud: missing', await assertion(env, jwtBot, { aud: undefined })],
          ['iss ≠ sub', await assertion(env, jwtBot, { iss: 'someone-else' })],
          ['sub ≠ iss', await assertion(env, jwtBot, { sub: bot.client_id })],
          ['iss = sub = another client', await assertion(env, jwtBot, { iss: bot.client_id, sub: bot.client_id })],
          ['no iss', await assertion(env, jwtBot, { iss: undefined })],
          ['no sub', await assertion(env, jwtBot, { sub: undefined })],
          ['not a JWT', 'abc.def'],
        ];
        for (const [what, a] of cases) {
          env.assertions.push(a);
          const r = await assertionGrant(env.issuer, a, { resource: env.main });
          assert.equal(r.status, 401, `${what}: ${r.what}`);
          assertTokenError(r, 401, 'invalid_client');
        }
        // client_id sent, but another client's: the assertion is not for it.
        const a = await assertion(env, jwtBot);
        assertTokenError(await assertionGrant(env.issuer, a, { clientId: bot.client_id, resource: env.main }), 401, 'invalid_client');
        // The same assertion alone still works: nothing above used its jti.
        assertTokens(await assertionGrant(env.issuer, a, { resource: env.main }), { refresh: false });
        await assert.rejects(receiver.next(300), /no redirect/, 'jku/x5u were never fetched');
      } finally {
        await receiver.close();
      }
    }));

    it('a jti is single use: the same assertion twice, the second 401', t(async () => {
      const a = await assertion(env, jwtBot);
      assertTokens(await assertionGrant(env.issuer, a, { resource: env.main }), { refresh: false });
      assertTokenError(await assertionGrant(env.issuer, a, { resource: env.main }), 401, 'invalid_client');
      // The same jti in a new assertion (other aud, other exp) is a replay too.
      const jti = `jti-${randomToken(12)}`;
      assertTokens(await assertionGrant(env.issuer, await assertion(env, jwtBot, { jti }), { resource: env.main }), { refresh: false });
      assertTokenError(await assertionGrant(env.issuer, await assertion(env, jwtBot, { jti, aud: env.issuer, exp: nowS() + 120 }),
        { resource: env.main }), 401, 'invalid_client');
    }));

    for (const lock of [false, true]) {
      it(`16 simultaneous requests with one assertion: exactly one 200${lock ? ' (released together from a held write lock)' : ''}`, t(async () => {
        const a = await assertion(env, jwtBot);
        const answers = await simultaneously(16, () => assertionGrant(env.issuer, a, { resource: env.main }),
          { lockDb: lock ? env.inst.db : null, holdMs: 1500 });
        env.inst.chown();
        const statuses = answers.map((r) => r.status);
        assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses}`);
        for (const r of answers) if (r.status !== 200) assertTokenError(r, 401, 'invalid_client');
        const winner = answers.find((r) => r.status === 200);
        await assertMachineToken(env.issuer, winner.json.access_token, { clientId: jwtBot.client_id, resource: env.main, scope: 'mcp:tools' });
      }));
    }

    it('resources and scopes outside the allowance: invalid_target, invalid_scope', t(async () => {
      const cases = [
        // [what, request options, status, error]
        ['a configured resource not allowed', { resource: env.other }, 400, 'invalid_target'],
        ['an unknown resource', { resource: 'https://unknown.example/mcp' }, 400, 'invalid_target'],
        ['the resource with a trailing slash', { resource: `${env.main}/` }, 400, 'invalid_target'],
        ['a scope of the resource, not allowed', { resource: env.main, scope: 'mcp:resources' }, 400, 'invalid_scope'],
        ['an allowed and a not allowed scope', { resource: env.main, scope: 'mcp:tools mcp:resources' }, 400, 'invalid_scope'],
        ['a scope of another resource', { resource: env.main, scope: 'files:read' }, 400, 'invalid_scope'],
        ['a scope of nothing', { resource: env.main, scope: 'admin:all' }, 400, 'invalid_scope'],
      ];
      for (const [what, opts, status, error] of cases) {
        const r = await secretGrant(env.issuer, bot.client_id, bot.client_secret, opts);
        assert.equal(r.json?.error, error, `${what} (secret): ${r.what}`);
        assertTokenError(r, status, error);
        const j = await assertionGrant(env.issuer, await assertion(env, jwtBot), opts);
        assert.equal(j.json?.error, error, `${what} (assertion): ${j.what}`);
        assertTokenError(j, status, error);
      }
      // A client for any resource still only gets that resource's scopes.
      assertTokenError(await secretGrant(env.issuer, anyBot.client_id, anyBot.client_secret, { resource: env.main, scope: 'files:read' }),
        400, 'invalid_scope');
      assertTokenError(await secretGrant(env.issuer, anyBot.client_id, anyBot.client_secret, { resource: 'https://unknown.example/mcp' }),
        400, 'invalid_target');
    }));
  });

  describe('operator commands', () => {
    it('client rotate-secret --overlap 60: both secrets work until the overlap ends', t(async () => {
      const c = secretClient(env, 'rot-bot', ['--resource', env.main]);
      const r = env.inst.admin(['client', 'rotate-secret', c.client_id, '--overlap', '60']);
      assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
      const fresh = secretIn(r.stdout);
      env.secrets.push(fresh);
      assert.notEqual(fresh, c.client_secret);
      assert.match(fresh, /^[A-Za-z0-9_-]{43}$/);
      assertTokens(await secretGrant(env.issuer, c.client_id, c.client_secret), { refresh: false });
      assertTokens(await secretGrant(env.issuer, c.client_id, fresh), { refresh: false });
      const row = rows(env, `SELECT previous_secret_until FROM clients WHERE client_id = ${lit(c.client_id)}`)[0];
      assert.ok(Math.abs(row.previous_secret_until - (nowS() + 60)) <= 5, `the old one until now + 60 s: ${JSON.stringify(row)}`);
      assert.ok(!dbBytes(env.inst.db).includes(Buffer.from(fresh)), 'the new secret is stored hashed');
      exec(env, `UPDATE clients SET previous_secret_until = 1 WHERE client_id = ${lit(c.client_id)}`);
      assertTokenError(await secretGrant(env.issuer, c.client_id, c.client_secret), 401, 'invalid_client');
      assertTokens(await secretGrant(env.issuer, c.client_id, fresh), { refresh: false });
    }));

    it('client rotate-secret without overlap: the old secret fails at once', t(async () => {
      const c = secretClient(env, 'rot-bot-2', ['--auth', 'client_secret_post', '--resource', env.main]);
      const r = env.inst.admin(['client', 'rotate-secret', c.client_id]);
      assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
      const fresh = secretIn(r.stdout);
      env.secrets.push(fresh);
      assertTokenError(await secretGrant(env.issuer, c.client_id, c.client_secret, { post: true }), 401, 'invalid_client');
      assertTokens(await secretGrant(env.issuer, c.client_id, fresh, { post: true }), { refresh: false });
      // Rotating again: the one before is gone too.
      const r2 = env.inst.admin(['client', 'rotate-secret', c.client_id]);
      assert.equal(r2.status, 0, r2.stderr);
      const third = secretIn(r2.stdout);
      env.secrets.push(third);
      assertTokenError(await secretGrant(env.issuer, c.client_id, fresh, { post: true }), 401, 'invalid_client');
      assertTokens(await secretGrant(env.issuer, c.client_id, third, { post: true }), { refresh: false });
      const unknown = env.inst.admin(['client', 'rotate-secret', randomToken(16)]);
      assert.notEqual(unknown.status, 0, 'an unknown client');
    }));

    it('client keys: the new key signs, the old one no longer', t(async () => {
      const c = await jwtClient(env, 'keys-bot', ['--resource', env.main]);
      assertTokens(await assertionGrant(env.issuer, await assertion(env, c), {}), { refresh: false });
      const next = await ecKeyPair();
      const file = writeInstanceFile(env.inst, 'keys-bot.next.jwks.json', jwksText(next.publicJwk));
      const r = env.inst.admin(['client', 'keys', c.client_id, '--jwks', file]);
      assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
      assertTokenError(await assertionGrant(env.issuer, await assertion(env, c), {}), 401, 'invalid_client');
      const withNext = { ...c, key: next };
      const tk = assertTokens(await assertionGrant(env.issuer, await assertion(env, withNext), {}), { refresh: false });
      await assertMachineToken(env.issuer, tk.access_token, { clientId: c.client_id, resource: env.main });
    }));

    it('client disable: 401 invalid_client (secret and assertion); client enable: works again', t(async () => {
      const c = secretClient(env, 'dis-bot', ['--resource', env.main]);
      const j = await jwtClient(env, 'dis-jwt', ['--resource', env.main]);
      assertTokens(await secretGrant(env.issuer, c.client_id, c.client_secret), { refresh: false });
      for (const id of [c.client_id, j.client_id]) {
        const r = env.inst.admin(['client', 'disable', id]);
        assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
      }
      assert.notEqual(rows(env, `SELECT disabled_at FROM clients WHERE client_id = ${lit(c.client_id)}`)[0].disabled_at, null);
      assertTokenError(await secretGrant(env.issuer, c.client_id, c.client_secret), 401, 'invalid_client');
      assertTokenError(await assertionGrant(env.issuer, await assertion(env, j), {}), 401, 'invalid_client');
      for (const id of [c.client_id, j.client_id]) {
        const r = env.inst.admin(['client', 'enable', id]);
        assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
      }
      assert.equal(rows(env, `SELECT disabled_at FROM clients WHERE client_id = ${lit(c.client_id)}`)[0].disabled_at, null);
      assertTokens(await secretGrant(env.issuer, c.client_id, c.client_secret), { refresh: false });
      assertTokens(await assertionGrant(env.issuer, await assertion(env, j), {}), { refresh: false });
    }));

    it('client disable: a disabled code-flow client gets an error page at /authorize', t(async () => {
      const web = addClient(env.inst, 'web-dis', ['--grant', 'authorization_code', '--redirect-uri', WEB]);
      env.secrets.push(web.client_secret);
      const { challenge } = pkce();
      const url = authorizeUrl(env.issuer, {
        clientId: web.client_id, redirectUri: WEB, challenge, state: randomToken(8), resource: env.main,
      });
      const get = async () => {
        const res = await fetch(url, { redirect: 'manual' });
        return { status: res.status, headers: res.headers, text: await res.text(), what: `GET ${url} -> ${res.status}` };
      };
      const enabled = await get();
      assert.equal(enabled.status, 200, `the login page first: ${enabled.what}`);
      assert.equal(env.inst.admin(['client', 'disable', web.client_id]).status, 0);
      const disabled = await get();
      assert.equal(pageKind(disabled.text), 'error', `an error page, not a sign-in, for a disabled client: ${disabled.what} ` +
        `(a ${pageKind(disabled.text)} page)`);
      assert.ok(disabled.status >= 400 && disabled.status < 500, disabled.what);
      assertErrorPage(disabled, disabled.status, null);
      assert.equal(env.inst.admin(['client', 'enable', web.client_id]).status, 0);
      assert.equal((await get()).status, 200);
    }));
  });

  describe('metadata and hygiene', () => {
    it('the AS metadata lists client_credentials, private_key_jwt and the assertion algorithms', t(async () => {
      for (const p of env.inst.asMetadataPaths()) {
        const res = await env.server.fetch(p);
        assert.equal(res.status, 200, p);
        const m = await res.json();
        assert.ok(m.grant_types_supported.includes('client_credentials'), `${p}: ${m.grant_types_supported}`);
        for (const method of ['client_secret_basic', 'client_secret_post', 'private_key_jwt']) {
          assert.ok(m.token_endpoint_auth_methods_supported.includes(method), `${p}: ${method}`);
        }
        const algs = m.token_endpoint_auth_signing_alg_values_supported;
        assert.ok(Array.isArray(algs) && algs.includes('ES256'), `${p}: ${algs}`);
        assert.ok(!algs.includes('none') && !algs.some((a) => a.startsWith('HS')), `never none or HMAC: ${algs}`);
        assert.equal(m.token_endpoint, env.tokenUrl);
      }
    }));

    it('no secret or assertion in the logs or the database files', t(async () => {
      const log = fs.readFileSync(env.server.errorLog, 'utf8');
      const bytes = dbBytes(env.inst.db);
      const secrets = env.secrets.filter(Boolean);
      assert.ok(secrets.length >= 8, 'secrets were collected');
      for (const s of secrets) {
        assert.ok(!log.includes(s), 'no secret in the error log');
        assert.ok(!bytes.includes(Buffer.from(s)), 'no secret in the database files');
      }
      for (const a of env.assertions) {
        const sig = a.split('.')[2];
        if (sig && sig.length > 20) assert.ok(!log.includes(sig), 'no assertion in the error log');
      }
    }));
  });
});

describe('metadata without the machine options', () => {
  it('neither client_credentials nor private_key_jwt is advertised', () => {
    const inst = new Instance({
      issuer: 'http://127.0.0.1:8997',
      resources: [{ url: 'http://127.0.0.1:8997/mcp', name: 'M', scopes: ['mcp:tools'] }],
      name: 'machine-off',
    });
    try {
      const r = cgiRequest(inst, { uri: '/.well-known/oauth-authorization-server' });
      assert.equal(r.status, 200, `${r.body}\n${r.stderr}`);
      const m = JSON.parse(r.body);
      assert.ok(!m.grant_types_supported.includes('client_credentials'), m.grant_types_supported);
      assert.ok(!m.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
      assert.equal(m.token_endpoint_auth_signing_alg_values_supported, undefined);
    } finally {
      inst.remove();
    }
  });
});

// --- Apache: a smoke test with an issuer path ------------------------------------------

describe('Apache (issuer path /t1): machine clients smoke test', () => {
  const { env, t } = serve('apache', { issuerPath: '/t1' });

  it('secret and private_key_jwt clients get tokens; the SDK calls the tool; replay and bad secret refused', t(async () => {
    assert.ok(env.issuer.endsWith('/t1'));
    const bot = secretClient(env, 'apache-bot', ['--resource', env.main, '--scope', 'mcp:tools']);
    assert.equal(bot.token_endpoint, `${env.issuer}/token`);
    const jwt = await jwtClient(env, 'apache-jwt', ['--resource', env.main, '--scope', 'mcp:tools']);

    const who = await callWhoami(env, new ClientCredentialsProvider({
      clientId: bot.client_id, clientSecret: bot.client_secret, expectedIssuer: env.issuer, scope: 'mcp:tools',
    }));
    assert.equal(who.sub, `client:${bot.client_id}`);
    const pk = new PrivateKeyJwtProvider({
      clientId: jwt.client_id, privateKey: jwt.key.privateJwk, algorithm: 'ES256', expectedIssuer: env.issuer, scope: 'mcp:tools',
    });
    const who2 = await callWhoami(env, pk);
    assert.equal(who2.sub, `client:${jwt.client_id}`);
    await assertMachineToken(env.issuer, pk.tokens().access_token, { clientId: jwt.client_id, resource: env.main, scope: 'mcp:tools' });

    const config = await oidcConfig(env, jwt.client_id, oidc.PrivateKeyJwt({ key: jwt.key.privateKey, kid: jwt.key.kid }));
    const tokens = await oidc.clientCredentialsGrant(config, { resource: env.main });
    assert.equal(tokens.refresh_token, undefined);
    await assertMachineToken(env.issuer, tokens.access_token, { clientId: jwt.client_id, resource: env.main, scope: 'mcp:tools' });

    for (const aud of [env.issuer, `${env.issuer}/token`]) {
      const a = await assertion(env, jwt, { aud });
      assertTokens(await assertionGrant(env.issuer, a, { resource: env.main }), { refresh: false });
      assertTokenError(await assertionGrant(env.issuer, a, { resource: env.main }), 401, 'invalid_client');
    }
    // The origin without the path is not our issuer.
    assertTokenError(await assertionGrant(env.issuer, await assertion(env, jwt, { aud: env.origin }), { resource: env.main }),
      401, 'invalid_client');
    assertTokenError(await secretGrant(env.issuer, bot.client_id, randomToken(32)), 401, 'invalid_client');
    assertTokenError(await secretGrant(env.issuer, bot.client_id, bot.client_secret, { resource: env.other }), 400, 'invalid_target');

    const res = await env.server.fetch('/.well-known/oauth-authorization-server/t1');
    const m = await res.json();
    assert.ok(m.grant_types_supported.includes('client_credentials'));
    assert.ok(m.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  }));
});

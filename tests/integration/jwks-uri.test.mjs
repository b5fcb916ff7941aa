// jwks-uri.test.mjs: private_key_jwt clients whose keys are published at an
// https URL (RFC 7591 §2 jwks_uri) instead of given once as a file, behind
// real lighttpd, with the keys served by lib/docserver.mjs (a real https
// server with a test CA):
// - provisioning with `mcpauth-admin client add ... --jwks-uri URL`: the
//   admin fetches the keys at once, checks them as a file's, and stores the
//   URL, the keys and when they were fetched / expire; every fetch failure
//   (http, redirect, oversize, slow, 404, a host not allow-listed) and every
//   bad key is refused with exit 2, and no client is stored then;
// - the token endpoint: real clients (the MCP SDK's PrivateKeyJwtProvider,
//   openid-client's PrivateKeyJwt) get tokens with the served key, and a
//   fresh cache makes no request;
// - rotation: an unknown key makes the endpoint fetch again, but only when
//   the last fetch is at least 60 s old;
// - expiry: an expired cache is fetched again; when that fetch fails the
//   kept keys still sign and the URL is asked again only 60 s later (the
//   same after a failed refetch for an unknown key); the client is told only
//   that its keys could not be fetched, the cause goes to the audit log
//   (rate_key jwks:<host>, a budget apart from documents'); no-store
//   expires at once; max-age is clamped to [300 s, 86400 s], 3600 s without
//   cache headers;
// - `client keys --jwks-uri URL2` and back to `client keys --jwks FILE`.
//
// Every admin command that fetches runs with adminAsync(): the document
// server runs in this process and must keep answering.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import * as oidc from 'openid-client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';

import { instExec, instRows, startInstance, withLogs } from './lib/harness.mjs';
import { assertTokenError, assertTokens, lit } from './lib/flow.mjs';
import { startMcpServer } from './lib/mcp-server.mjs';
import {
  assertMachineToken, assertionClaims, assertionGrant, ecKeyPair, jwksText, keyPair, nowS, signAssertion,
  writeInstanceFile,
} from './lib/machine.mjs';
import { startCountingListener, startDocServer, testCa } from './lib/docserver.mjs';

const FETCH_TIMEOUT = 2;
const CONF = [
  'client_credentials = yes',
  'private_key_jwt = yes',
  'fetch_allow = localhost',
  `fetch_ca_file = ${testCa().caFile}`,
  `fetch_timeout = ${FETCH_TIMEOUT}`,
].join('\n');

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

// All a client is told when its jwks_uri cannot be fetched or its keys are
// bad: the cause goes to the log and the audit row only.
const KEYS_NOT_FETCHED = "the client's keys could not be fetched from its jwks_uri";
// After a failed fetch the URL is asked again only this much later.
const BACKOFF = 60;

// --- setup ------------------------------------------------------------------------

// lighttpd with the machine options and fetching from localhost (the doc
// server), an MCP server run here as the one resource, and the doc server.
function serve() {
  const env = {};
  before(async () => {
    env.docs = await startDocServer();
    env.mcp = await startMcpServer({ path: '/mcp', scope: 'mcp:tools' });
    Object.assign(env, await startInstance('lighttpd', {
      resources: [{ url: env.mcp.url, name: 'jwks_uri test MCP server', scopes: ['mcp:tools', 'mcp:resources'] }],
      extra: CONF,
    }));
    env.main = env.mcp.url;
    env.tokenUrl = `${env.issuer}/token`;
    env.prmUrl = `${env.origin}/.well-known/oauth-protected-resource/mcp`;
    env.mcp.configure({ issuer: env.issuer, jwksUri: `${env.issuer}/jwks`, prmUrl: env.prmUrl });
  });
  after(async () => {
    await env.mcp?.close();
    await env.docs?.close();
    if (!env.server) return;
    await env.server.stop();
    env.inst.remove();
  });
  return { env, t: (fn) => withLogs(() => env.server, fn) };
}

// The requests the doc server has seen for path.
const hits = (env, p) => env.docs.requests.filter((r) => r.path === p).length;

// A JWKS route: the public keys, with cache headers.
function serveKeys(env, p, keys, headers = { 'cache-control': 'max-age=600' }) {
  env.docs.route(p, { json: { keys: keys.map((k) => k.publicJwk) }, headers });
}

// `client add NAME --grant client_credentials --auth private_key_jwt
// --jwks-uri URL ARGS... --json` (exit 0, one JSON object).
async function addUriClient(env, name, url, args = ['--alg', 'ES256']) {
  const r = await env.inst.adminAsync(['client', 'add', name, '--grant', 'client_credentials',
    '--auth', 'private_key_jwt', '--jwks-uri', url, ...args, '--json']);
  assert.equal(r.status, 0, `client add ${name} --jwks-uri ${url}: exit ${r.status}\n${r.stderr}${r.stdout}`);
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    assert.fail(`client add --json printed no JSON object: ${r.stdout}\n${r.stderr}`);
  }
  assert.equal(typeof out.client_id, 'string', r.stdout);
  return out;
}

async function adminJson(env, args) {
  const r = await env.inst.adminAsync([...args, '--json']);
  assert.equal(r.status, 0, `${args.join(' ')}: exit ${r.status}\n${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout);
}

const clientList = (env) => adminJson(env, ['client', 'list']);
const clientShow = (env, id) => adminJson(env, ['client', 'show', id]);

function row(env, id) {
  const r = instRows(env.inst, `SELECT jwks, jwks_uri, jwks_fetched_at, jwks_expires_at, signing_alg
    FROM clients WHERE client_id = ${lit(id)}`);
  assert.equal(r.length, 1, `one row for ${id}`);
  return r[0];
}

// The cache as good as expired: it was fetched 700 s ago and expired 10 s ago.
function expire(env, id) {
  instExec(env.inst, `UPDATE clients SET jwks_expires_at = ${nowS() - 10}, jwks_fetched_at = ${nowS() - 700}
    WHERE client_id = ${lit(id)}`);
}

// After a failed fetch made by a request sent between t0 and t1 (seconds):
// the keys and fetched_at are as they were (was), and expires_at is the
// request time + 60 s. Returns the row.
function assertBackoff(env, id, was, t0, t1, what = 'after a failed fetch') {
  const r = row(env, id);
  const shown = `${what}: ${JSON.stringify({ was, now: r, t0, t1 })}`;
  assert.equal(r.jwks, was.jwks, `the kept keys are kept: ${shown}`);
  assert.equal(r.jwks_uri, was.jwks_uri, shown);
  assert.equal(r.jwks_fetched_at, was.jwks_fetched_at, `no good fetch: fetched_at unchanged: ${shown}`);
  // One second of slack below: the server's time(2) reads the kernel's
  // coarse clock, which can still show the last second when Date.now()
  // already shows the next.
  assert.ok(r.jwks_expires_at >= t0 - 1 + BACKOFF && r.jwks_expires_at <= t1 + BACKOFF,
    `expires_at is the request time + ${BACKOFF} s: ${shown}`);
  return r;
}

// The newest audit row of event fetch for a client.
function lastFetchAudit(env, id) {
  const r = instRows(env.inst, `SELECT outcome, rate_key, detail, status FROM audit_log
    WHERE event = 'fetch' AND client_id = ${lit(id)} ORDER BY rowid DESC LIMIT 1`);
  assert.equal(r.length, 1, `a fetch audit row for ${id}`);
  return r[0];
}

// The x coordinates of a stored JWKS (text).
const xs = (jwks) => JSON.parse(jwks).keys.map((k) => k.x ?? k.n);

async function assertion(env, clientId, key, changes = {}) {
  return signAssertion(key, assertionClaims(clientId, env.tokenUrl, changes), { kid: key.kid });
}

async function grant(env, clientId, key) {
  return assertionGrant(env.issuer, await assertion(env, clientId, key), { resource: env.main });
}

// --- the tests --------------------------------------------------------------------------

describe('lighttpd: private_key_jwt keys at a jwks_uri', () => {
  const { env, t } = serve();

  describe('provisioning with client add --jwks-uri', () => {
    it('fetches the keys once and stores the URL, the keys and the cache times', t(async () => {
      const key = await ecKeyPair();
      const p = '/prov/jwks.json';
      serveKeys(env, p, [key]);
      const url = env.docs.url(p);
      const c = await addUriClient(env, 'uri-prov', url, ['--alg', 'ES256', '--resource', env.main, '--scope', 'mcp:tools']);
      assert.equal(c.jwks_uri, url, `jwks_uri in the output: ${JSON.stringify(c)}`);
      assert.equal(c.token_endpoint_auth_method, 'private_key_jwt');
      assert.equal(c.token_endpoint_auth_signing_alg, 'ES256');
      assert.equal(c.client_secret, undefined, 'no secret');
      assert.equal(hits(env, p), 1, 'the admin fetched the keys exactly once');
      assert.equal(env.docs.requests.find((r) => r.path === p).method, 'GET');

      const shown = await clientShow(env, c.client_id);
      assert.equal(shown.jwks_uri, url);
      assert.equal(shown.signing_alg, 'ES256');
      assert.deepEqual(shown.jwks?.keys?.map((k) => k.x), [key.publicJwk.x], `the fetched key: ${JSON.stringify(shown)}`);
      assert.ok(shown.jwks.keys.every((k) => !('d' in k)), 'public keys only');
      assert.match(shown.jwks_fetched_at ?? '', ISO, JSON.stringify(shown));
      assert.match(shown.jwks_expires_at ?? '', ISO, JSON.stringify(shown));
      const listed = (await clientList(env)).find((x) => x.client_id === c.client_id);
      assert.equal(listed?.jwks_uri, url, 'client list --json shows jwks_uri');
      assert.match(listed.jwks_fetched_at ?? '', ISO);
      assert.match(listed.jwks_expires_at ?? '', ISO);

      const r = row(env, c.client_id);
      assert.equal(r.jwks_uri, url);
      assert.deepEqual(xs(r.jwks), [key.publicJwk.x]);
      assert.ok(Math.abs(r.jwks_fetched_at - nowS()) <= 60, `fetched now: ${JSON.stringify(r)}`);
      assert.equal(r.jwks_expires_at - r.jwks_fetched_at, 600, 'max-age=600 is kept');
      assert.equal(Date.parse(shown.jwks_fetched_at) / 1000, r.jwks_fetched_at, 'the ISO time is the column');
      assert.equal(Date.parse(shown.jwks_expires_at) / 1000, r.jwks_expires_at);
      assert.equal(hits(env, p), 1, 'show and list fetch nothing');
    }));

    it('Ed25519 (EdDSA) keys at a jwks_uri', t(async () => {
      const key = await keyPair('EdDSA');
      const p = '/prov/ed.json';
      serveKeys(env, p, [key]);
      const c = await addUriClient(env, 'uri-ed', env.docs.url(p), ['--alg', 'EdDSA', '--resource', env.main]);
      assert.equal(row(env, c.client_id).signing_alg, 'EdDSA');
      assertTokens(await grant(env, c.client_id, key), { refresh: false });
      assert.equal(hits(env, p), 1);
    }));

    it('cache lifetimes: max-age clamped to [300 s, 86400 s], 3600 s without cache headers, 0 with no-store', t(async () => {
      const key = await ecKeyPair();
      const cases = [
        // [headers, expires_at - fetched_at]
        [{ 'cache-control': 'max-age=10' }, 300],
        [{ 'cache-control': 'public, max-age=999999' }, 86400],
        [{ 'cache-control': 'max-age=1200' }, 1200],
        [{}, 3600],
        [{ 'cache-control': 'no-store' }, 0],
        [{ 'cache-control': 'no-cache' }, 0],
      ];
      for (const [i, [headers, life]] of cases.entries()) {
        const p = `/life/${i}.json`;
        serveKeys(env, p, [key], headers);
        const c = await addUriClient(env, `uri-life-${i}`, env.docs.url(p));
        const r = row(env, c.client_id);
        assert.equal(r.jwks_expires_at - r.jwks_fetched_at, life, `${JSON.stringify(headers)}: ${JSON.stringify(r)}`);
      }
    }));

    it('refuses bad URLs, failed fetches and bad keys with exit 2, and stores nothing', t(async () => {
      const key = await ecKeyPair();
      const before = (await clientList(env)).length;
      const good = '/ref/good.json';
      serveKeys(env, good, [key]);
      const file = writeInstanceFile(env.inst, 'ref.jwks.json', jwksText(key.publicJwk));
      env.docs.route('/ref/redirect', { redirect: env.docs.url(good) });
      env.docs.route('/ref/big', { size: 70000 });
      env.docs.route('/ref/drip', { drip: { bytes: 400, everyMs: 50 } }); // 20 s
      env.docs.route('/ref/private', { json: { keys: [key.privateJwk] } });
      env.docs.route('/ref/notjson', { body: 'not json', headers: { 'content-type': 'application/json' } });
      const listener = await startCountingListener('127.0.0.1');
      const pkj = ['--grant', 'client_credentials', '--auth', 'private_key_jwt'];
      const cases = [
        // [what, args, stderr, path that must not be fetched]
        ['--jwks and --jwks-uri together', [...pkj, '--jwks', file, '--jwks-uri', env.docs.url(good)],
          /give --jwks FILE or --jwks-uri URL, not both/, good],
        ['--jwks-uri with client_secret_basic',
          ['--grant', 'client_credentials', '--auth', 'client_secret_basic', '--jwks-uri', env.docs.url(good)],
          /--jwks, --jwks-uri and --alg are for --auth private_key_jwt/, good],
        ['--jwks-uri without --auth', ['--grant', 'client_credentials', '--jwks-uri', env.docs.url(good)],
          /--jwks, --jwks-uri and --alg are for --auth private_key_jwt/, good],
        ['an http URL', [...pkj, '--jwks-uri', `http://localhost:${env.docs.port}${good}`],
          /--jwks-uri http:\/\/localhost:\d+\/ref\/good\.json: the document URL must use https/, good],
        ['a URL with user information', [...pkj, '--jwks-uri', `https://user@localhost:${env.docs.port}${good}`],
          /must not have user information/, good],
        ['a redirect', [...pkj, '--jwks-uri', env.docs.url('/ref/redirect')],
          /the document's server answered with a redirect \(HTTP 302\), and redirects are not followed/, good],
        ['a document over 64 KiB', [...pkj, '--jwks-uri', env.docs.url('/ref/big')],
          /the document is larger than 65536 bytes/],
        ['a document that takes too long', [...pkj, '--jwks-uri', env.docs.url('/ref/drip')],
          new RegExp(`fetching the document took longer than ${FETCH_TIMEOUT} seconds`)],
        ['a 404', [...pkj, '--jwks-uri', env.docs.url('/ref/missing')],
          /the document's server answered HTTP 404, not 200/],
        ['not JSON', [...pkj, '--jwks-uri', env.docs.url('/ref/notjson')], /not JSON/],
        ['a JWKS with a private key', [...pkj, '--jwks-uri', env.docs.url('/ref/private')],
          /key 1 is a private key \(it has "d"\)/],
        ['an EC key for --alg RS256', [...pkj, '--jwks-uri', env.docs.url(good), '--alg', 'RS256'],
          /key 1 \(EC P-256\) does not fit --alg RS256: it signs with ES256/],
        ['an EC key for --alg EdDSA', [...pkj, '--jwks-uri', env.docs.url(good), '--alg', 'EdDSA'],
          /does not fit --alg EdDSA/],
        ['a host not allow-listed (127.0.0.1)', [...pkj, '--jwks-uri', `https://127.0.0.1:${listener.port}/jwks.json`],
          /does not fetch from/, null, /loopback \(127\.0\.0\.0\/8\)/],
      ];
      try {
        for (const [what, args, stderr, untouched, also] of cases) {
          const seen = untouched ? hits(env, untouched) : 0;
          const r = await env.inst.adminAsync(['client', 'add', 'refused', ...args, '--json']);
          assert.equal(r.status, 2, `${what}: exit ${r.status}\n${r.stderr}${r.stdout}`);
          assert.match(r.stderr, stderr, `${what}: ${r.stderr}`);
          if (also) assert.match(r.stderr, also, `${what}: ${r.stderr}`);
          assert.match(r.stderr, /^mcpauth-admin: /, `${what}: ${r.stderr}`);
          assert.equal(r.stdout.trim(), '', `${what}: nothing on stdout: ${r.stdout}`);
          if (untouched) assert.equal(hits(env, untouched), seen, `${what}: ${untouched} not fetched`);
        }
        assert.equal(listener.connections, 0, 'no connection at all to a refused address');
      } finally {
        await listener.close();
      }
      const list = await clientList(env);
      assert.equal(list.length, before, 'no client stored');
      assert.ok(!list.some((c) => c.client_name === 'refused' || c.name === 'refused'), 'no client named refused');
    }));
  });

  describe('the token endpoint', () => {
    let key;
    let c;
    const p = '/tok/jwks.json';

    before(async () => {
      key = await ecKeyPair();
      serveKeys(env, p, [key]);
      c = await addUriClient(env, 'uri-tok', env.docs.url(p), ['--alg', 'ES256', '--resource', env.main, '--scope', 'mcp:tools']);
    });

    it('MCP SDK: PrivateKeyJwtProvider gets a token with the served key and calls the tool; no fetch while fresh', t(async () => {
      assert.equal(hits(env, p), 1, 'the admin\'s fetch');
      const provider = new PrivateKeyJwtProvider({
        clientId: c.client_id, privateKey: key.privateJwk, algorithm: 'ES256',
        expectedIssuer: env.issuer, scope: 'mcp:tools',
      });
      const mc = new Client({ name: 'jwks-uri-test', version: '1.0.0' });
      await mc.connect(new StreamableHTTPClientTransport(new URL(env.mcp.url), { authProvider: provider }));
      let who;
      try {
        who = JSON.parse((await mc.callTool({ name: 'whoami', arguments: {} })).content[0].text);
      } finally {
        await mc.close();
      }
      const claims = await assertMachineToken(env.issuer, provider.tokens().access_token, {
        clientId: c.client_id, resource: env.main, scope: 'mcp:tools',
      });
      assert.equal(who.sub, `client:${c.client_id}`);
      assert.equal(who.jti, claims.jti);
      assert.equal(hits(env, p), 1, 'the cache is fresh (max-age=600): no new request');
    }));

    it('openid-client: PrivateKeyJwt gets a second token; still no new request', t(async () => {
      const config = await oidc.discovery(new URL(env.issuer), c.client_id, undefined,
        oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), { execute: [oidc.allowInsecureRequests] });
      const tokens = await oidc.clientCredentialsGrant(config, { resource: env.main, scope: 'mcp:tools' });
      assert.equal(tokens.refresh_token, undefined);
      await assertMachineToken(env.issuer, tokens.access_token, { clientId: c.client_id, resource: env.main, scope: 'mcp:tools' });
      assert.equal(hits(env, p), 1, 'no new request with a fresh cache');
    }));

    it('a key not at the jwks_uri is refused without a fetch while the last one is recent', t(async () => {
      const other = await ecKeyPair();
      const r = await grant(env, c.client_id, other);
      assertTokenError(r, 401, 'invalid_client');
      assert.match(r.json.error_description, /signature does not verify/, r.what);
      assert.equal(hits(env, p), 1);
    }));
  });

  describe('rotation', () => {
    it('an unknown key fetches again only when the last fetch is 60 s old; then the new key works and the old one not', t(async () => {
      const key1 = await ecKeyPair();
      const key2 = await ecKeyPair();
      const p = '/rot/jwks.json';
      serveKeys(env, p, [key1]);
      const c = await addUriClient(env, 'uri-rot', env.docs.url(p), ['--alg', 'ES256', '--resource', env.main]);
      assertTokens(await grant(env, c.client_id, key1), { refresh: false });
      assert.equal(hits(env, p), 1);

      serveKeys(env, p, [key2]);
      const early = await grant(env, c.client_id, key2);
      assertTokenError(early, 401, 'invalid_client');
      assert.match(early.json.error_description, /signature does not verify/, early.what);
      assert.equal(hits(env, p), 1, 'no fetch: the last one is less than 60 s old');
      assert.deepEqual(xs(row(env, c.client_id).jwks), [key1.publicJwk.x]);

      instExec(env.inst, `UPDATE clients SET jwks_fetched_at = jwks_fetched_at - 120 WHERE client_id = ${lit(c.client_id)}`);
      const was = row(env, c.client_id);
      const tk = assertTokens(await grant(env, c.client_id, key2), { refresh: false });
      await assertMachineToken(env.issuer, tk.access_token, { clientId: c.client_id, resource: env.main });
      assert.equal(hits(env, p), 2, 'exactly one new fetch');
      const now = row(env, c.client_id);
      assert.deepEqual(xs(now.jwks), [key2.publicJwk.x], 'the row holds the new key');
      assert.ok(now.jwks_fetched_at > was.jwks_fetched_at, `fetched_at moved: ${JSON.stringify([was, now])}`);
      assert.equal(now.jwks_expires_at - now.jwks_fetched_at, 600);

      for (let i = 0; i < 2; i++) {
        const old = await grant(env, c.client_id, key1);
        assertTokenError(old, 401, 'invalid_client');
        assert.match(old.json.error_description, /signature does not verify/, old.what);
      }
      assert.equal(hits(env, p), 2, 'the old key makes no fetch: the last one is fresh');
      assertTokens(await grant(env, c.client_id, key2), { refresh: false });
      assert.equal(hits(env, p), 2);
    }));

    it('both keys served during a rotation: either signs', t(async () => {
      const key1 = await ecKeyPair();
      const key2 = await ecKeyPair();
      const p = '/rot2/jwks.json';
      serveKeys(env, p, [key1, key2]);
      const c = await addUriClient(env, 'uri-rot2', env.docs.url(p), ['--alg', 'ES256', '--resource', env.main]);
      assertTokens(await grant(env, c.client_id, key1), { refresh: false });
      assertTokens(await grant(env, c.client_id, key2), { refresh: false });
      assert.equal(hits(env, p), 1);
    }));
  });

  describe('expiry', () => {
    it('an expired cache whose refetch fails (HTTP 500): the kept key still signs, and the URL is not asked again for 60 s', t(async () => {
      const key = await ecKeyPair();
      const other = await ecKeyPair();
      const p = '/exp/jwks.json';
      serveKeys(env, p, [key]);
      const c = await addUriClient(env, 'uri-exp', env.docs.url(p), ['--alg', 'ES256', '--resource', env.main]);
      expire(env, c.client_id);
      const was = row(env, c.client_id);

      env.docs.route(p, { status: 500, json: { error: 'down' } });
      const t0 = nowS();
      const tk = assertTokens(await grant(env, c.client_id, key), { refresh: false });
      const t1 = nowS();
      await assertMachineToken(env.issuer, tk.access_token, { clientId: c.client_id, resource: env.main });
      assert.equal(hits(env, p), 2, 'the expired cache was fetched once (and failed)');
      const backing = assertBackoff(env, c.client_id, was, t0, t1);

      // The next requests (well within 60 s) make no fetch: neither the
      // kept key nor an unknown one.
      assertTokens(await grant(env, c.client_id, key), { refresh: false });
      const unknown = await grant(env, c.client_id, other);
      assertTokenError(unknown, 401, 'invalid_client');
      assert.match(unknown.json.error_description, /signature does not verify/, unknown.what);
      assert.equal(hits(env, p), 2, 'no fetch while backing off');
      assert.deepEqual(row(env, c.client_id), backing, 'the row is as the failed fetch left it');

      // The cause went to the audit log, with the jwks budget's rate_key.
      const failed = lastFetchAudit(env, c.client_id);
      assert.equal(failed.rate_key, 'jwks:localhost', JSON.stringify(failed));
      assert.equal(failed.outcome, 'refused', JSON.stringify(failed));
      assert.match(failed.detail, /the document's server answered HTTP 500, not 200/, JSON.stringify(failed));

      // Once the backoff is over (expires_at in the past), the URL is asked again.
      serveKeys(env, p, [key]);
      instExec(env.inst, `UPDATE clients SET jwks_expires_at = ${nowS() - 1} WHERE client_id = ${lit(c.client_id)}`);
      assertTokens(await grant(env, c.client_id, key), { refresh: false });
      assert.equal(hits(env, p), 3, 'fetched again');
      const now = row(env, c.client_id);
      assert.ok(now.jwks_fetched_at > was.jwks_fetched_at, JSON.stringify([was, now]));
      assert.equal(now.jwks_expires_at - now.jwks_fetched_at, 600);
      const good = lastFetchAudit(env, c.client_id);
      assert.equal(good.rate_key, 'jwks:localhost', JSON.stringify(good));
      assert.equal(good.outcome, 'ok', JSON.stringify(good));
      assertTokens(await grant(env, c.client_id, key), { refresh: false });
      assert.equal(hits(env, p), 3, 'fresh again: no fetch');
    }));

    it('fetch failures and bad keys at a refetch for an unknown key: 401 invalid_client that does not tell the cause (the audit log has it)', t(async () => {
      const key = await ecKeyPair();
      const other = await ecKeyPair();
      const p = '/exp2/jwks.json';
      serveKeys(env, p, [key]);
      const c = await addUriClient(env, 'uri-exp2', env.docs.url(p), ['--alg', 'ES256', '--resource', env.main]);
      // The last fetch is old, the cache is not: an unknown key fetches again.
      const stale = () => instExec(env.inst, `UPDATE clients SET jwks_fetched_at = ${nowS() - 700},
        jwks_expires_at = ${nowS() + 3000} WHERE client_id = ${lit(c.client_id)}`);
      const listener = await startCountingListener('127.0.0.1');
      const cases = [
        // [what, spec, the cause (audit detail), words of it no answer may have]
        ['an HTTP 500', { status: 500, json: { error: 'down' } },
          /the document's server answered HTTP 500, not 200$/, ['HTTP 500', 'answered']],
        ['a redirect', { redirect: env.docs.url('/elsewhere') },
          /the document's server answered with a redirect \(HTTP 302\), and redirects are not followed$/, ['redirect', '302']],
        ['a 404', { status: 404, json: { error: 'gone' } }, /the document's server answered HTTP 404, not 200$/, ['404']],
        ['over 64 KiB', { size: 70000 }, /the document is larger than 65536 bytes$/, ['larger than', '65536']],
        ['too slow', { drip: { bytes: 400, everyMs: 50 } },
          new RegExp(`fetching the document took longer than ${FETCH_TIMEOUT} seconds$`), ['longer than', 'seconds']],
        ['a private key', { json: { keys: [key.privateJwk] } }, /key 1 is a private key \(it has "d"\)/, ['private key', '"d"']],
        ['an RSA key for ES256', { json: { keys: [(await keyPair('RS256')).publicJwk] } }, /does not fit .*ES256/,
          ['does not fit', 'ES256']],
        ['not a JWKS', { json: { nokeys: [] } }, /not a JWKS/, ['not a JWKS']],
        // The URL is not the admin's to vet only: a row pointing at an
        // address mcpauth does not fetch from is refused without a connection.
        ['an address mcpauth does not fetch from', null, /does not fetch from: loopback \(127\.0\.0\.0\/8\)/,
          ['does not fetch from', 'loopback', '127.0.0']],
      ];
      try {
        let n = hits(env, p);
        for (const [what, spec, cause, words] of cases) {
          if (spec) {
            env.docs.route(p, spec);
          } else {
            instExec(env.inst, `UPDATE clients SET jwks_uri = ${lit(`https://127.0.0.1:${listener.port}/jwks.json`)}
              WHERE client_id = ${lit(c.client_id)}`);
          }
          stale();
          const was = row(env, c.client_id);
          const t0 = nowS();
          const r = await grant(env, c.client_id, other);
          const t1 = nowS();
          assertTokenError(r, 401, 'invalid_client');
          assert.equal(r.json.error_description, KEYS_NOT_FETCHED, `${what}: ${r.what}`);
          for (const w of words) assert.ok(!r.text.includes(w), `${what}: the answer names no cause (${w}): ${r.what}`);
          if (spec) assert.equal(hits(env, p), ++n, `${what}: one fetch`);
          assertBackoff(env, c.client_id, was, t0, t1, what);
          const a = lastFetchAudit(env, c.client_id);
          assert.equal(a.outcome, 'refused', `${what}: ${JSON.stringify(a)}`);
          assert.equal(a.rate_key, spec ? 'jwks:localhost' : 'jwks:127.0.0.1', `${what}: ${JSON.stringify(a)}`);
          assert.match(a.detail ?? '', cause, `${what}: the cause is in the audit row: ${JSON.stringify(a)}`);
        }
        assert.equal(listener.connections, 0, 'no connection to a refused address');
      } finally {
        await listener.close();
      }

      // The URL answers again: the unknown key, now served, signs after one fetch.
      instExec(env.inst, `UPDATE clients SET jwks_uri = ${lit(env.docs.url(p))} WHERE client_id = ${lit(c.client_id)}`);
      serveKeys(env, p, [key, other]);
      stale();
      const n = hits(env, p);
      assertTokens(await grant(env, c.client_id, other), { refresh: false });
      assert.equal(hits(env, p), n + 1);
    }));

    it('after a failed refetch for an unknown key, the next unknown key within 60 s makes no fetch', t(async () => {
      const key = await ecKeyPair();
      const other = await ecKeyPair();
      const p = '/back/jwks.json';
      serveKeys(env, p, [key]);
      const c = await addUriClient(env, 'uri-back', env.docs.url(p), ['--alg', 'ES256', '--resource', env.main]);
      instExec(env.inst, `UPDATE clients SET jwks_fetched_at = ${nowS() - 700} WHERE client_id = ${lit(c.client_id)}`);
      const was = row(env, c.client_id);
      assert.ok(was.jwks_expires_at > nowS() + 120, `the cache is fresh: ${JSON.stringify(was)}`);

      env.docs.route(p, { status: 404, json: { error: 'gone' } });
      const t0 = nowS();
      const first = await grant(env, c.client_id, other);
      const t1 = nowS();
      assertTokenError(first, 401, 'invalid_client');
      assert.equal(first.json.error_description, KEYS_NOT_FETCHED, first.what);
      assert.equal(hits(env, p), 2, 'one refetch for the unknown key');
      const backing = assertBackoff(env, c.client_id, was, t0, t1);

      // Even once the URL serves the key, it is not asked before the 60 s are over.
      serveKeys(env, p, [key, other]);
      const again = await grant(env, c.client_id, other);
      assertTokenError(again, 401, 'invalid_client');
      assert.match(again.json.error_description, /signature does not verify/, again.what);
      assertTokens(await grant(env, c.client_id, key), { refresh: false });
      assert.equal(hits(env, p), 2, 'no fetch within 60 s of the failed one');
      assert.deepEqual(row(env, c.client_id), backing);

      instExec(env.inst, `UPDATE clients SET jwks_expires_at = ${nowS() - 1} WHERE client_id = ${lit(c.client_id)}`);
      assertTokens(await grant(env, c.client_id, other), { refresh: false });
      assert.equal(hits(env, p), 3, 'asked again after the backoff');
    }));

    it('an expired cache refreshed with a key that does not sign: one fetch only, 401', t(async () => {
      const key1 = await ecKeyPair();
      const key2 = await ecKeyPair();
      const p = '/exp3/jwks.json';
      serveKeys(env, p, [key1]);
      const c = await addUriClient(env, 'uri-exp3', env.docs.url(p), ['--alg', 'ES256', '--resource', env.main]);
      instExec(env.inst, `UPDATE clients SET jwks_expires_at = ${nowS() - 10}, jwks_fetched_at = ${nowS() - 700}
        WHERE client_id = ${lit(c.client_id)}`);
      const r = await grant(env, c.client_id, key2);
      assertTokenError(r, 401, 'invalid_client');
      assert.match(r.json.error_description, /signature does not verify/, r.what);
      assert.equal(hits(env, p), 2, 'the expired cache was fetched once, and not again for the unknown key');
      const now = row(env, c.client_id);
      assert.ok(Math.abs(now.jwks_fetched_at - nowS()) <= 60, 'the good fetch is cached');
      assert.deepEqual(xs(now.jwks), [key1.publicJwk.x]);
      assertTokens(await grant(env, c.client_id, key1), { refresh: false });
      assert.equal(hits(env, p), 2);
    }));

    it('cache-control: no-store expires at once: every token request fetches', t(async () => {
      const key = await ecKeyPair();
      const p = '/nostore/jwks.json';
      serveKeys(env, p, [key], { 'cache-control': 'no-store' });
      const c = await addUriClient(env, 'uri-nostore', env.docs.url(p), ['--alg', 'ES256', '--resource', env.main]);
      let r = row(env, c.client_id);
      assert.equal(r.jwks_expires_at, r.jwks_fetched_at, `no-store from the admin: ${JSON.stringify(r)}`);
      for (let i = 1; i <= 3; i++) {
        assertTokens(await grant(env, c.client_id, key), { refresh: false });
        assert.equal(hits(env, p), 1 + i, `token ${i} fetched`);
        r = row(env, c.client_id);
        assert.equal(r.jwks_expires_at, r.jwks_fetched_at, `no-store from the token endpoint: ${JSON.stringify(r)}`);
      }
      // Served with max-age again: cached from the next fetch on.
      serveKeys(env, p, [key], { 'cache-control': 'max-age=100' });
      assertTokens(await grant(env, c.client_id, key), { refresh: false });
      r = row(env, c.client_id);
      assert.equal(r.jwks_expires_at - r.jwks_fetched_at, 300, 'max-age=100 is raised to 300 s');
      assertTokens(await grant(env, c.client_id, key), { refresh: false });
      assert.equal(hits(env, p), 5);
    }));
  });

  describe('client keys', () => {
    it('--jwks-uri URL2 switches to another URL; --jwks FILE back to static keys (jwks_uri null)', t(async () => {
      const key1 = await ecKeyPair();
      const key2 = await ecKeyPair();
      const key3 = await ecKeyPair();
      const p1 = '/sw/one.json';
      const p2 = '/sw/two.json';
      serveKeys(env, p1, [key1]);
      serveKeys(env, p2, [key2]);
      const c = await addUriClient(env, 'uri-sw', env.docs.url(p1), ['--alg', 'ES256', '--resource', env.main]);
      assertTokens(await grant(env, c.client_id, key1), { refresh: false });

      // A refused switch changes nothing.
      const before = row(env, c.client_id);
      const bad = await env.inst.adminAsync(['client', 'keys', c.client_id, '--jwks-uri', env.docs.url('/sw/missing')]);
      assert.equal(bad.status, 2, `${bad.stderr}${bad.stdout}`);
      assert.match(bad.stderr, /answered HTTP 404, not 200/);
      const both = await env.inst.adminAsync(['client', 'keys', c.client_id, '--jwks-uri', env.docs.url(p2),
        '--jwks', writeInstanceFile(env.inst, 'sw.jwks.json', jwksText(key3.publicJwk))]);
      assert.equal(both.status, 2, `${both.stderr}${both.stdout}`);
      assert.match(both.stderr, /not both/);
      assert.deepEqual(row(env, c.client_id), before, 'refused: the row is unchanged');
      assert.equal(hits(env, p2), 0);

      const sw = await env.inst.adminAsync(['client', 'keys', c.client_id, '--jwks-uri', env.docs.url(p2)]);
      assert.equal(sw.status, 0, `${sw.stderr}${sw.stdout}`);
      assert.equal(hits(env, p2), 1, 'the admin fetched URL2 once');
      const r2 = row(env, c.client_id);
      assert.equal(r2.jwks_uri, env.docs.url(p2));
      assert.deepEqual(xs(r2.jwks), [key2.publicJwk.x]);
      assert.equal(r2.jwks_expires_at - r2.jwks_fetched_at, 600);
      assert.equal((await clientShow(env, c.client_id)).jwks_uri, env.docs.url(p2));
      const p1Hits = hits(env, p1);
      assertTokens(await grant(env, c.client_id, key2), { refresh: false });
      const old = await grant(env, c.client_id, key1);
      assertTokenError(old, 401, 'invalid_client');
      assert.equal(hits(env, p2), 1, 'no fetch at the token endpoint: fresh');
      assert.equal(hits(env, p1), p1Hits, 'the old URL is never fetched again');

      const file = writeInstanceFile(env.inst, 'sw3.jwks.json', jwksText(key3.publicJwk));
      const back = await env.inst.adminAsync(['client', 'keys', c.client_id, '--jwks', file]);
      assert.equal(back.status, 0, `${back.stderr}${back.stdout}`);
      const r3 = row(env, c.client_id);
      assert.equal(r3.jwks_uri, null, `static keys: jwks_uri null: ${JSON.stringify(r3)}`);
      assert.equal(r3.jwks_fetched_at, null);
      assert.equal(r3.jwks_expires_at, null);
      assert.deepEqual(xs(r3.jwks), [key3.publicJwk.x]);
      const shown = await clientShow(env, c.client_id);
      assert.ok(shown.jwks_uri === undefined || shown.jwks_uri === null, `no jwks_uri shown: ${JSON.stringify(shown)}`);
      assert.equal(shown.jwks_fetched_at ?? null, null);
      assert.equal(shown.jwks_expires_at ?? null, null);

      assertTokens(await grant(env, c.client_id, key3), { refresh: false });
      // Static keys are never fetched, even for an unknown key.
      assertTokenError(await grant(env, c.client_id, key2), 401, 'invalid_client');
      assert.equal(hits(env, p2), 1);
      assert.equal(hits(env, p1), p1Hits);
    }));

    it('--jwks-uri on a client that had a static JWKS file; --alg changes the algorithm', t(async () => {
      const ec = await ecKeyPair();
      const ed = await keyPair('EdDSA');
      const file = writeInstanceFile(env.inst, 'st.jwks.json', jwksText(ec.publicJwk));
      const add = await env.inst.adminAsync(['client', 'add', 'uri-static', '--grant', 'client_credentials',
        '--auth', 'private_key_jwt', '--jwks', file, '--alg', 'ES256', '--resource', env.main, '--json']);
      assert.equal(add.status, 0, `${add.stderr}${add.stdout}`);
      const c = JSON.parse(add.stdout);
      assert.equal(c.jwks_uri, undefined, 'no jwks_uri for a file');
      assert.equal(row(env, c.client_id).jwks_uri, null);
      assertTokens(await grant(env, c.client_id, ec), { refresh: false });

      const p = '/st/ed.json';
      serveKeys(env, p, [ed]);
      // The client's ES256 does not fit an Ed25519 key: refused until --alg EdDSA.
      const wrong = await env.inst.adminAsync(['client', 'keys', c.client_id, '--jwks-uri', env.docs.url(p)]);
      assert.equal(wrong.status, 2, `${wrong.stderr}${wrong.stdout}`);
      assert.match(wrong.stderr, /does not fit --alg ES256/);
      assert.equal(row(env, c.client_id).jwks_uri, null);
      const ok = await env.inst.adminAsync(['client', 'keys', c.client_id, '--jwks-uri', env.docs.url(p), '--alg', 'EdDSA']);
      assert.equal(ok.status, 0, `${ok.stderr}${ok.stdout}`);
      const r = row(env, c.client_id);
      assert.equal(r.jwks_uri, env.docs.url(p));
      assert.equal(r.signing_alg, 'EdDSA');
      assertTokens(await grant(env, c.client_id, ed), { refresh: false });
      assertTokenError(await grant(env, c.client_id, ec), 401, 'invalid_client');
    }));
  });
});

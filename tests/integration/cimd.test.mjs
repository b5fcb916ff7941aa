// cimd.test.mjs: Client ID Metadata Documents (draft-ietf-oauth-client-id-
// metadata-document, MCP SEP-991): a client_id that is an https URL whose
// document mcpauth fetches (lib/docserver.mjs serves the documents over
// https with a test CA), behind real lighttpd, and an Apache smoke test
// with an issuer path:
// - discovery: client_id_metadata_document_supported, on by default, off
//   with client_id_metadata_documents = no (and then such a client_id is
//   refused);
// - the MCP SDK (clientMetadataUrl) through Debian's Chromium: 401,
//   discovery, no registration, sign-in and consent (the page shows the
//   name, the redirect host and the document's host), the SDK's code
//   exchange, a tool call with the token;
// - a document with private_key_jwt and jwks_uri: the code redeemed with a
//   client assertion, refused without one;
//   when the jwks_uri fails at first use (no keys kept) the client is told
//   only that its keys could not be fetched; the audit rows have the cause,
//   with rate_key fetch:<host> for the document and jwks:<host> for keys;
// - refusals with their exact error codes and descriptions: bad URLs (never
//   fetched, no connection at all), bad documents (one request each, no
//   client row), addresses mcpauth does not fetch from in every spelling (no
//   connection at all), no fetch before sign-in;
// - nothing for a document never checked: a signed-out request that fails a
//   check stores no client row (a valid one stores a pending row), the
//   token endpoint refuses a pending client, and a consent form made from
//   the login page's csrf cannot approve; a consent approves no more scope
//   than its page showed, whatever the document says later; errors are
//   redirected to a document client only once this user consented to it
//   (or its host is trusted);
// - the document cache (max-age, no-store, errors never cached, expiry)
//   and `mcpauth-admin client list --json`;
// - the consent page's warning for documents whose redirect URIs are all
//   on localhost, and metadata_document_trusted_hosts;
// - the per-host fetch limit (429 temporarily_unavailable).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import * as jose from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

import { instExec, instRows, startInstance, withLogs } from './lib/harness.mjs';
import {
  FormBrowser, addUser, assertErrorPage, assertTokenError, assertTokens, authorizeUrl, cookieName, formAction,
  hiddenFields, htmlDecode, launchChromium, lit, now, pageErrorCode, pageKind, pkce, randomToken, registerClient,
  sdkClient, startReceiver, tokenRequest,
} from './lib/flow.mjs';
import { startCountingListener, startDocServer, testCa } from './lib/docserver.mjs';
import { startMcpServer } from './lib/mcp-server.mjs';
import { JWT_BEARER, assertionClaims, ecKeyPair, signAssertion } from './lib/machine.mjs';

const USER = 'cimd-user';
const PASSWORD = `cimd-pw-${randomToken(9)}`;
const DOC_PREFIX = "the client's metadata document: ";
const NOT_FETCHED_FROM = "the document's host resolves to an address mcpauth does not fetch from";
const WEB_REDIRECT = 'https://app.example.com/cb';

// The conf lines every instance here needs to fetch from the doc server.
function fetchConf(more = '') {
  return [
    'fetch_allow = localhost',
    `fetch_ca_file = ${testCa().caFile}`,
    'fetch_timeout = 2',
    more.includes('metadata_document_fetch_limit') ? '' : 'metadata_document_fetch_limit = 0',
    more,
  ].filter(Boolean).join('\n');
}

// --- pages ------------------------------------------------------------------------

// The description an error page shows (<p class="alert">), decoded.
function errorDescription(html) {
  const m = /<p class="alert"[^>]*>([\s\S]*?)<\/p>/.exec(html);
  return m ? htmlDecode(m[1]).trim() : null;
}

// What a page is, in one line: for failure messages (the exact output).
function summary(res) {
  return `HTTP ${res.status} kind=${pageKind(res.text)} code=${JSON.stringify(pageErrorCode(res.text))}` +
    ` description=${JSON.stringify(errorDescription(res.text))}` +
    `${res.location ? ` Location: ${res.location}` : ''} (${res.url})`;
}

// An error page (never a redirect) with this status, code and a
// description that contains text.
function assertRefused(res, status, code, text) {
  const s = summary(res);
  assert.equal(pageKind(res.text), 'error', `an error page: ${s}`);
  assert.equal(res.status, status, `status: ${s}`);
  assert.equal(pageErrorCode(res.text), code, `error code: ${s}`);
  const d = errorDescription(res.text) ?? '';
  assert.ok(d.includes(text), `description should contain ${JSON.stringify(text)}: ${s}`);
  assertErrorPage(res, status, code, s);
}

// The elements whose class list has every one of classes: { tag, classes, text }.
function elementsWithClasses(html, ...classes) {
  const out = [];
  for (const m of html.matchAll(/<([a-z][a-z0-9]*)\b([^>]*)>/gi)) {
    const cls = /\bclass="([^"]*)"/i.exec(m[2]);
    if (!cls) continue;
    const list = cls[1].split(/\s+/);
    if (!classes.every((c) => list.includes(c))) continue;
    const rest = html.slice(m.index + m[0].length);
    const end = rest.search(new RegExp(`</${m[1]}\\s*>`, 'i'));
    const inner = end >= 0 ? rest.slice(0, end) : rest;
    out.push({ tag: m[1].toLowerCase(), classes: list, text: htmlDecode(inner.replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim() });
  }
  return out;
}

// The texts of a consent page's .document-host elements: at least one,
// each the doc server's host (with or without its port).
function assertDocumentHost(env, texts) {
  assert.ok(texts.length >= 1, `a .document-host element: ${JSON.stringify(texts)}`);
  for (const h of texts) {
    assert.ok([`localhost:${env.docs.port}`, 'localhost'].includes(h.trim()), `the document's host: ${JSON.stringify(texts)}`);
  }
}

// --- per-describe setup -----------------------------------------------------------------

// A doc server, a counting listener, an MCP server (the resource), an
// instance with a user and a DCR client (to sign browsers in with), a
// loopback receiver.
function serve(kind, { issuerPath = '', extra = fetchConf(), mcp = true, chromium = false } = {}) {
  const env = {};
  before(async () => {
    env.docs = await startDocServer();
    env.listener = await startCountingListener();
    if (mcp) env.mcp = await startMcpServer({ path: '/mcp', scope: 'mcp:tools' });
    Object.assign(env, await startInstance(kind, {
      issuerPath,
      resources: mcp
        ? [{ url: env.mcp.url, name: 'CIMD test MCP server', scopes: ['mcp:tools', 'mcp:resources'] }]
        : [{ path: '/mcp', name: 'CIMD test MCP server', scopes: ['mcp:tools', 'mcp:resources'] }],
      extra,
    }));
    env.main = env.resources[0].url;
    env.tokenUrl = `${env.issuer}/token`;
    env.prmUrl = `${env.origin}/.well-known/oauth-protected-resource/mcp`;
    if (mcp) env.mcp.configure({ issuer: env.issuer, jwksUri: `${env.issuer}/jwks`, prmUrl: env.prmUrl });
    addUser(env.inst, USER, PASSWORD);
    env.receiver = await startReceiver();
    env.dcr = await registerClient(env.issuer, {
      client_name: 'CIMD tests sign-in helper',
      redirect_uris: [env.receiver.url('/dcr/cb')],
      application_type: 'native',
    });
    if (chromium) env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.receiver?.close();
    await env.mcp?.close();
    await env.docs?.close();
    await env.listener?.close();
    if (env.server) {
      await env.server.stop();
      env.inst.remove();
    }
  });
  return { env, t: (fn) => withLogs(() => env.server, fn) };
}

// A document at a fresh path (or the given one) on the doc server: a
// public native client with the loopback receiver as its redirect URI.
// changes: members to set (undefined removes one); spec: more of the
// route's spec (headers...). Returns { url, path, metadata, redirectUri }.
function cimdDoc(env, changes = {}, { path = `/apps/${randomToken(6)}/client.json`, ...spec } = {}) {
  const url = env.docs.url(path);
  const metadata = {
    client_id: url,
    client_name: 'CIMD test app',
    redirect_uris: [env.receiver.url('/cimd/cb')],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...changes,
  };
  for (const k of Object.keys(metadata)) if (metadata[k] === undefined) delete metadata[k];
  env.docs.route(path, { json: metadata, ...spec });
  return { url, path, metadata, redirectUri: metadata.redirect_uris?.[0] ?? env.receiver.url('/cimd/cb') };
}

// An authorization URL for clientId (S256, state, the resource, mcp:tools);
// changes: parameters to set instead (null leaves one out).
function azUrl(env, clientId, redirectUri, { verifier, ...changes } = {}) {
  const p = pkce();
  if (verifier) verifier.value = p.verifier;
  return authorizeUrl(env.issuer, {
    clientId, redirectUri, challenge: p.challenge, state: randomToken(8), resource: env.main, scope: 'mcp:tools',
    ...changes,
  });
}

// A FormBrowser with a session: signed in through the DCR client's
// authorization (left at its consent page).
async function signedIn(env) {
  const b = new FormBrowser();
  const u = azUrl(env, env.dcr.client_id, env.dcr.redirect_uris[0]);
  const login = await b.get(u);
  assert.equal(pageKind(login.text), 'login', login.what);
  const r = await b.login(login, USER, PASSWORD);
  assert.equal(r.status, 303, r.what);
  const consent = await b.get(new URL(r.location, u).href);
  assert.equal(pageKind(consent.text), 'consent', consent.what);
  return b;
}

// One GET /authorize for clientId with browser b.
function authorize(env, b, clientId, redirectUri = env.receiver.url('/cimd/cb')) {
  return b.get(azUrl(env, clientId, redirectUri));
}

const docRequests = (env, path) => env.docs.requests.filter((r) => r.path === path).length;
const clientRows = (env, clientId) => instRows(env.inst,
  `SELECT client_id, source, client_name, redirect_uris, scope, document_fetched_at, document_expires_at
   FROM clients WHERE client_id = ${lit(clientId)}`);
const requestRows = (env, clientId) => instRows(env.inst,
  `SELECT scope, redirect_uri FROM authorization_requests WHERE client_id = ${lit(clientId)}`);

// No clients row for clientId at all (URLs refused before anything).
function assertNoRow(env, clientId, what) {
  const rows = clientRows(env, clientId);
  assert.equal(rows.length, 0, `${what}: ${JSON.stringify(rows)}`);
}

// The pending row a valid request stores before sign-in (the document is
// fetched only after it): never fetched, no name, no redirect URIs.
function assertPendingRow(env, clientId, what) {
  const rows = clientRows(env, clientId);
  const shown = `${what}: ${JSON.stringify(rows)}`;
  assert.equal(rows.length, 1, shown);
  assert.equal(rows[0].source, 'metadata_document', shown);
  assert.equal(rows[0].document_fetched_at, null, `never fetched: ${shown}`);
  assert.equal(rows[0].document_expires_at, null, shown);
  assert.equal(rows[0].client_name, null, shown);
  assert.deepEqual(JSON.parse(rows[0].redirect_uris), [], shown);
}

// The scopes a consent page lists.
function shownScopes(html) {
  const m = /<ul class="scopes">([\s\S]*?)<\/ul>/.exec(html);
  return m ? [...m[1].matchAll(/<code>([^<]*)<\/code>/g)].map((c) => htmlDecode(c[1])) : null;
}

// The fetch audit rows of a client, oldest first.
const fetchAudits = (env, clientId) => instRows(env.inst,
  `SELECT outcome, rate_key, detail FROM audit_log WHERE event = 'fetch' AND client_id = ${lit(clientId)} ORDER BY rowid`);

// The AS metadata of an instance.
async function asMetadata(env) {
  const res = await env.server.fetch(env.inst.asMetadataPaths()[0]);
  assert.equal(res.status, 200);
  return res.json();
}

// --- lighttpd --------------------------------------------------------------------------------

describe('lighttpd: Client ID Metadata Documents', () => {
  const { env, t } = serve('lighttpd', {
    chromium: true,
    extra: fetchConf('private_key_jwt = yes\nmetadata_document_denied_hosts = docs.localhost *.denied.localhost'),
  });

  // --- A. discovery ---

  it('the AS metadata says client_id_metadata_document_supported: true by default', t(async () => {
    const m = await asMetadata(env);
    assert.equal(m.client_id_metadata_document_supported, true, JSON.stringify(m));
  }));

  // --- B. the MCP SDK through Chromium ---

  it('the MCP SDK with clientMetadataUrl signs in through Chromium: no registration, consent shows the document host, tokens for the URL', t(async () => {
    const redirectUri = env.receiver.url('/sdk/callback');
    const doc = cimdDoc(env, {
      client_name: 'MCP SDK CIMD app',
      redirect_uris: [redirectUri],
    }, { path: '/sdk/client-metadata.json' });
    env.docs.reset();
    const seen = {};
    const { provider, fetched, transport } = sdkClient(env, {
      username: USER,
      password: PASSWORD,
      onPage: async (page) => {
        seen.name = await page.locator('h1 .name').textContent();
        seen.hosts = await page.locator('.host').allTextContents();
        seen.documentHost = await page.locator('.document-host').allTextContents();
        seen.documentWarnings = await page.locator('.warning.document').count();
        seen.warnings = await page.locator('.warning').count();
        seen.requestsAtConsent = docRequests(env, doc.path);
      },
      clientName: 'MCP SDK CIMD test',
      applicationType: null,
      clientMetadataUrl: doc.url,
    });

    // 1. The 401 starts the flow; the SDK uses the URL as its client_id.
    const t1 = transport();
    await assert.rejects(new Client({ name: 'cimd-test', version: '1.0.0' }).connect(t1), UnauthorizedError);
    assert.ok(!fetched.some((f) => f.startsWith('POST ') && f.endsWith('/register')), `no registration: ${fetched.join('\n')}`);
    assert.equal(provider.savedClients.length, 1);
    assert.equal(provider.clientInformation().client_id, doc.url, 'the SDK took the URL as its client_id');
    assert.equal(provider.redirects.length, 1);
    const az = provider.redirects[0];
    assert.equal(`${az.origin}${az.pathname}`, `${env.issuer}/authorize`);
    assert.equal(az.searchParams.get('client_id'), doc.url);
    assert.equal(az.searchParams.get('redirect_uri'), redirectUri);
    assert.equal(az.searchParams.get('resource'), env.mcp.url);

    const cb = provider.callbacks[0];
    assert.deepEqual(cb.dialogs, []);
    assert.ok(cb.params.get('code'), `a code came back: ${cb.url}`);
    assert.equal(cb.params.get('state'), provider.states[0]);
    assert.equal(cb.params.get('iss'), env.issuer);

    // The consent page.
    assert.equal(seen.name, 'MCP SDK CIMD app', 'the document\'s client_name is the heading');
    assert.ok(seen.hosts.some((h) => h.includes(`127.0.0.1:${env.receiver.port}`)), `the redirect host: ${JSON.stringify(seen.hosts)}`);
    assertDocumentHost(env, seen.documentHost);
    assert.equal(seen.documentWarnings, 1, 'every redirect URI is on localhost: the document warning');
    assert.equal(seen.requestsAtConsent, 1, 'the document was fetched once before the consent page');

    // 2. The SDK's code exchange (public client: PKCE, no secret).
    await t1.finishAuth(cb.params.get('code'));
    assert.equal(provider.savedTokens.length, 1);
    const tokens = provider.tokens();
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.refresh_token, 'a refresh token');
    const { payload } = await jose.jwtVerify(tokens.access_token, jose.createRemoteJWKSet(new URL(`${env.issuer}/jwks`)), {
      issuer: env.issuer, audience: env.mcp.url, typ: 'at+jwt',
    });
    assert.deepEqual([].concat(payload.aud), [env.mcp.url], 'aud is the resource');
    assert.equal(payload.client_id, doc.url, 'client_id is the document URL');
    assert.equal(payload.scope, 'mcp:tools');
    assert.equal(payload.principal_type, 'user');

    // 3. The MCP server takes the token.
    const c2 = new Client({ name: 'cimd-test', version: '1.0.0' });
    await c2.connect(transport());
    const who = JSON.parse((await c2.callTool({ name: 'whoami', arguments: {} })).content[0].text);
    await c2.close();
    assert.equal(who.client_id, doc.url);
    assert.equal(who.jti, payload.jti);
    assert.equal(docRequests(env, doc.path), 1, 'one fetch for the whole flow (the row was fresh after)');

    const row = clientRows(env, doc.url);
    assert.equal(row.length, 1, 'a client row for the URL');
    assert.equal(row[0].source, 'metadata_document');
    assert.equal(row[0].client_name, 'MCP SDK CIMD app');
    assert.deepEqual(JSON.parse(row[0].redirect_uris), [redirectUri]);
    assert.equal(row[0].document_expires_at - row[0].document_fetched_at, 3600, 'no cache headers: 3600 s');
  }));

  // --- C. private_key_jwt ---

  it('a document with private_key_jwt and jwks_uri: the code is redeemed with a client assertion, refused without one', t(async () => {
    const key = await ecKeyPair();
    const other = await ecKeyPair();
    const jwksPath = `/keys/${randomToken(6)}/jwks.json`;
    env.docs.route(jwksPath, { json: { keys: [key.publicJwk] } });
    const doc = cimdDoc(env, {
      client_name: 'CIMD confidential app',
      redirect_uris: [WEB_REDIRECT],
      token_endpoint_auth_method: 'private_key_jwt', // token_endpoint_auth_signing_alg: ES256 by default
      jwks_uri: env.docs.url(jwksPath),
    });
    env.docs.reset();
    const b = new FormBrowser();
    const code = async () => {
      const verifier = {};
      const r = await b.authorize(azUrl(env, doc.url, WEB_REDIRECT, { verifier }), { username: USER, password: PASSWORD });
      assert.ok(r.location.startsWith(`${WEB_REDIRECT}?`), r.location);
      assert.equal(r.params.get('iss'), env.issuer);
      assert.ok(r.params.get('code'), r.location);
      return { code: r.params.get('code'), verifier: verifier.value };
    };
    const redeem = (c, extra) => tokenRequest(env.issuer, {
      grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: WEB_REDIRECT,
      client_id: doc.url, ...extra,
    });
    const assertion = (aud, k = key) => signAssertion(k, assertionClaims(doc.url, aud), { kid: k.kid });

    const c1 = await code();
    assert.equal(docRequests(env, doc.path), 1, 'the document was fetched once');
    assertTokenError(await redeem(c1, {}), 401, 'invalid_client');
    assertTokenError(await redeem(c1, { client_assertion_type: JWT_BEARER, client_assertion: await assertion(env.tokenUrl, other) }),
      401, 'invalid_client');

    const c2 = await code();
    const r = await redeem(c2, { client_assertion_type: JWT_BEARER, client_assertion: await assertion(env.tokenUrl) });
    const tk = assertTokens(r);
    const claims = jose.decodeJwt(tk.access_token);
    assert.equal(claims.client_id, doc.url);
    assert.deepEqual([].concat(claims.aud), [env.main]);
    assert.ok(docRequests(env, jwksPath) >= 1, 'the keys came from jwks_uri');

    // A refresh authenticates the same way; aud = the issuer works too.
    const refreshed = await tokenRequest(env.issuer, {
      grant_type: 'refresh_token', refresh_token: tk.refresh_token, client_id: doc.url,
      client_assertion_type: JWT_BEARER, client_assertion: await assertion(env.issuer),
    });
    const tk2 = assertTokens(refreshed);
    assert.equal(jose.decodeJwt(tk2.access_token).client_id, doc.url);
  }));

  it('a document client whose jwks_uri fails at first use (no keys kept): 401 invalid_client that does not tell the cause; the audit log has it', t(async () => {
    const key = await ecKeyPair();
    const jwksPath = `/keys/${randomToken(6)}/jwks.json`;
    env.docs.route(jwksPath, { status: 500, json: { error: 'down' } });
    const doc = cimdDoc(env, {
      client_name: 'CIMD app with failing keys',
      redirect_uris: [WEB_REDIRECT],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: env.docs.url(jwksPath),
    });
    env.docs.reset();
    const verifier = {};
    const r = await new FormBrowser().authorize(azUrl(env, doc.url, WEB_REDIRECT, { verifier }), { username: USER, password: PASSWORD });
    const redeem = async () => tokenRequest(env.issuer, {
      grant_type: 'authorization_code', code: r.params.get('code'), code_verifier: verifier.value,
      redirect_uri: WEB_REDIRECT, client_id: doc.url, client_assertion_type: JWT_BEARER,
      client_assertion: await signAssertion(key, assertionClaims(doc.url, env.tokenUrl), { kid: key.kid }),
    });

    const refused = await redeem();
    assertTokenError(refused, 401, 'invalid_client');
    assert.equal(refused.json.error_description, "the client's keys could not be fetched from its jwks_uri", refused.what);
    assert.ok(!refused.text.includes('HTTP 500') && !refused.text.includes('500'), `no cause in the answer: ${refused.what}`);
    assert.equal(docRequests(env, jwksPath), 1);
    // The document's fetch counts against fetch:<host>, the keys' against jwks:<host>.
    const audits = fetchAudits(env, doc.url);
    assert.deepEqual(audits.map((a) => [a.rate_key, a.outcome]), [['fetch:localhost', 'ok'], ['jwks:localhost', 'refused']],
      JSON.stringify(audits));
    assert.match(audits[1].detail, /the document's server answered HTTP 500, not 200/, JSON.stringify(audits[1]));

    // Nothing was kept: once the keys are served, the same code is redeemed.
    env.docs.route(jwksPath, { json: { keys: [key.publicJwk] } });
    const tk = assertTokens(await redeem());
    assert.equal(jose.decodeJwt(tk.access_token).client_id, doc.url);
    assert.equal(docRequests(env, jwksPath), 2);
    assert.deepEqual(fetchAudits(env, doc.url).slice(2).map((a) => [a.rate_key, a.outcome]), [['jwks:localhost', 'ok']]);
  }));

  it('a document with private_key_jwt and inline jwks: the code is redeemed with a client assertion', t(async () => {
    const key = await ecKeyPair();
    const doc = cimdDoc(env, {
      client_name: 'CIMD inline keys app',
      redirect_uris: [WEB_REDIRECT],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [key.publicJwk] },
    });
    const verifier = {};
    const r = await new FormBrowser().authorize(azUrl(env, doc.url, WEB_REDIRECT, { verifier }), { username: USER, password: PASSWORD });
    const params = {
      grant_type: 'authorization_code', code: r.params.get('code'), code_verifier: verifier.value,
      redirect_uri: WEB_REDIRECT, client_id: doc.url,
    };
    assertTokenError(await tokenRequest(env.issuer, params), 401, 'invalid_client');
    const tk = assertTokens(await tokenRequest(env.issuer, {
      ...params,
      client_assertion_type: JWT_BEARER,
      client_assertion: await signAssertion(key, assertionClaims(doc.url, env.issuer), { kid: key.kid }),
    }));
    assert.equal(jose.decodeJwt(tk.access_token).client_id, doc.url);
  }));

  // --- D. refusals: bad URLs, never fetched ---

  describe('client_id URLs refused before any fetch (signed in: a fetch would otherwise happen)', () => {
    const cases = [
      ['not https', (d) => `http://localhost:${d.port}/c.json`, 'a client_id URL must use https'],
      ['a fragment', (d) => `https://localhost:${d.port}/c.json#frag`, 'a client_id URL must not have a fragment'],
      ['an empty fragment', (d) => `https://localhost:${d.port}/c.json#`, 'a client_id URL must not have a fragment'],
      ['userinfo', (d) => `https://user:pw@localhost:${d.port}/c.json`, 'a client_id URL must not have user information'],
      ['a user name', (d) => `https://user@localhost:${d.port}/c.json`, 'a client_id URL must not have user information'],
      ['no path', (d) => `https://localhost:${d.port}`, 'a client_id URL must have a path'],
      ['path /', (d) => `https://localhost:${d.port}/`, 'a client_id URL must have a path'],
      ['a .. segment', (d) => `https://localhost:${d.port}/a/../c.json`, 'a client_id URL must not have . or .. path segments'],
      ['a %2e%2e segment', (d) => `https://localhost:${d.port}/a/%2e%2e/c.json`, 'a client_id URL must not have . or .. path segments'],
      ['a %2E%2E segment', (d) => `https://localhost:${d.port}/a/%2E%2E/c.json`, 'a client_id URL must not have . or .. path segments'],
      ['a . segment', (d) => `https://localhost:${d.port}/./c.json`, 'a client_id URL must not have . or .. path segments'],
      ['a %2e segment', (d) => `https://localhost:${d.port}/a/%2e/c.json`, 'a client_id URL must not have . or .. path segments'],
      ['a denied host', (d) => `https://docs.localhost:${d.port}/c.json`, 'the operator does not accept applications from this host'],
      ['a denied subdomain', (d) => `https://app.denied.localhost:${d.port}/c.json`, 'the operator does not accept applications from this host'],
    ];
    for (const [what, make, text] of cases) {
      it(`${what}: 400 invalid_client "${text}", no connection`, t(async () => {
        const url = make(env.docs);
        env.docs.route('/c.json', { json: { client_id: url, client_name: 'x', redirect_uris: [env.receiver.url('/cimd/cb')] } });
        env.docs.route('/a/c.json', { json: { client_id: url, client_name: 'x', redirect_uris: [env.receiver.url('/cimd/cb')] } });
        const b = env.session ??= await signedIn(env);
        env.docs.reset();
        const res = await authorize(env, b, url);
        assertRefused(res, 400, 'invalid_client', text);
        assert.equal(env.docs.connections, 0, `no connection to the doc server for ${url}`);
        assertNoRow(env, url, 'no client row for a refused URL');
      }));
    }

    it('a bad URL is refused at once without a session too (no login page first)', t(async () => {
      env.docs.reset();
      const res = await authorize(env, new FormBrowser(), `http://localhost:${env.docs.port}/c.json`);
      assertRefused(res, 400, 'invalid_client', 'a client_id URL must use https');
      assert.equal(env.docs.connections, 0);
    }));
  });

  // --- D. refusals: bad documents (one request each) ---

  describe('documents refused after one fetch: 400 invalid_client "the client\'s metadata document: ..."', () => {
    const cases = [
      ['client_id is not the URL', (e) => cimdDoc(e, { client_id: e.docs.url('/somewhere/else.json') }),
        'its client_id is not the URL it was fetched from'],
      ['no client_id', (e) => cimdDoc(e, { client_id: undefined }), 'its client_id is not the URL it was fetched from'],
      ['no client_name', (e) => cimdDoc(e, { client_name: undefined }), 'it has no client_name'],
      ['no redirect_uris', (e) => cimdDoc(e, { redirect_uris: undefined }), 'it has no redirect_uris'],
      ['client_secret_basic', (e) => cimdDoc(e, { token_endpoint_auth_method: 'client_secret_basic' }),
        'a metadata document client cannot use a client secret'],
      ['client_secret_post', (e) => cimdDoc(e, { token_endpoint_auth_method: 'client_secret_post' }),
        'a metadata document client cannot use a client secret'],
      ['a client_secret member', (e) => cimdDoc(e, { client_secret: 'shh-this-is-a-secret' }),
        'it must not contain client_secret or client_secret_expires_at'],
      ['a client_secret_expires_at member', (e) => cimdDoc(e, { client_secret_expires_at: 0 }),
        'it must not contain client_secret or client_secret_expires_at'],
      ['private_key_jwt without keys', (e) => cimdDoc(e, { token_endpoint_auth_method: 'private_key_jwt' }),
        'private_key_jwt needs jwks_uri or jwks'],
      ['not JSON', (e) => cimdDoc(e, {}, { json: 'this is { not JSON' }), 'not JSON ('],
      ['6000 bytes', (e) => cimdDoc(e, {}, { size: 6000 }), 'the document is larger than 5120 bytes'],
      ['6000 bytes, chunked', (e) => cimdDoc(e, {}, { size: 6000, chunked: true }), 'the document is larger than 5120 bytes'],
      ['a slow drip past fetch_timeout', (e) => cimdDoc(e, {}, { drip: { bytes: 400, everyMs: 50 } }),
        'fetching the document took longer than 2 seconds'],
      ['HTTP 404', (e) => cimdDoc(e, {}, { json: { error: 'nope' }, status: 404 }),
        "the document's server answered HTTP 404, not 200"],
    ];
    for (const [what, make, text] of cases) {
      it(`${what}: "${text}"`, t(async () => {
        const doc = make(env);
        const b = env.session ??= await signedIn(env);
        env.docs.reset();
        const res = await authorize(env, b, doc.url);
        assertRefused(res, 400, 'invalid_client', `${DOC_PREFIX}${text}`);
        assert.equal(docRequests(env, doc.path), 1, 'one request for the document');
        assert.equal(env.docs.connections, 1, 'one connection');
        assertNoRow(env, doc.url, 'no client row after a refused document');
      }));
    }

    it('a 302 to another address: not followed, the target gets no connection', t(async () => {
      const target = `https://127.0.0.1:${env.listener.port}/c.json`;
      const doc = cimdDoc(env, {}, { redirect: target });
      const b = env.session ??= await signedIn(env);
      env.docs.reset();
      const before = env.listener.connections;
      const res = await authorize(env, b, doc.url);
      assertRefused(res, 400, 'invalid_client',
        `${DOC_PREFIX}the document's server answered with a redirect (HTTP 302), and redirects are not followed`);
      assert.equal(docRequests(env, doc.path), 1);
      assert.equal(env.listener.connections - before, 0, 'no connection to the redirect target');
      assertNoRow(env, doc.url, 'no client row after a redirect');
    }));

    it('a redirect_uri the document does not list: 400 invalid_request, never a redirect to it', t(async () => {
      const doc = cimdDoc(env, { redirect_uris: [WEB_REDIRECT] });
      const b = env.session ??= await signedIn(env);
      env.docs.reset();
      const res = await authorize(env, b, doc.url, env.receiver.url('/not/listed'));
      assertRefused(res, 400, 'invalid_request', 'the redirect_uri is not one this application registered');
      assert.equal(docRequests(env, doc.path), 1);
    }));
  });

  // --- D. refusals: addresses mcpauth does not fetch from ---

  describe('addresses outside fetch_allow (fetch_allow = localhost): no connection in any spelling', () => {
    const spellings = [
      ['127.0.0.1', (p) => `https://127.0.0.1:${p}/c.json`],
      ['2130706433 (decimal)', (p) => `https://2130706433:${p}/c.json`],
      ['0x7f000001 (hex)', (p) => `https://0x7f000001:${p}/c.json`],
      ['[::ffff:127.0.0.1] (IPv4-mapped)', (p) => `https://[::ffff:127.0.0.1]:${p}/c.json`],
      ['127.1 (short)', (p) => `https://127.1:${p}/c.json`],
      ['0177.0.0.1 (octal)', (p) => `https://0177.0.0.1:${p}/c.json`],
      ['0x7f.1 (hex, short)', (p) => `https://0x7f.1:${p}/c.json`],
    ];
    for (const [what, make] of spellings) {
      it(`${what}: invalid_client "${NOT_FETCHED_FROM}"`, t(async () => {
        const url = make(env.listener.port);
        const b = env.session ??= await signedIn(env);
        const before = env.listener.connections;
        const res = await authorize(env, b, url);
        assertRefused(res, 400, 'invalid_client', `${DOC_PREFIX}${NOT_FETCHED_FROM}`);
        assert.match(errorDescription(res.text), /loopback/, summary(res));
        assert.equal(env.listener.connections - before, 0, `no connection for ${url}`);
      }));
    }

    it('the doc server itself by address (127.0.0.1) is refused too: no connection', t(async () => {
      const url = env.docs.ipUrl('/by-address/c.json');
      env.docs.route('/by-address/c.json', { json: { client_id: url, client_name: 'x', redirect_uris: [env.receiver.url('/cimd/cb')] } });
      const b = env.session ??= await signedIn(env);
      env.docs.reset();
      const res = await authorize(env, b, url);
      assertRefused(res, 400, 'invalid_client', `${DOC_PREFIX}${NOT_FETCHED_FROM}: loopback (127.0.0.0/8)`);
      assert.equal(env.docs.connections, 0);
    }));
  });

  // --- D. no fetch before sign-in ---

  it('without a session: the login page, no connection; the continuation after sign-in fetches once', t(async () => {
    const doc = cimdDoc(env);
    env.docs.reset();
    const b = new FormBrowser();
    const u = azUrl(env, doc.url, doc.redirectUri);
    const login = await b.get(u);
    assert.equal(login.status, 200, summary(login));
    assert.equal(pageKind(login.text), 'login', summary(login));
    assert.equal(env.docs.connections, 0, 'no connection before sign-in');
    assertPendingRow(env, doc.url, 'a valid request stores a pending row before sign-in');
    const r = await b.login(login, USER, PASSWORD);
    assert.equal(r.status, 303, r.what);
    assert.match(new URL(r.location, u).pathname, /\/authorize$/, r.location);
    assert.ok(new URL(r.location, u).searchParams.get('request_id'), r.location);
    assert.equal(env.docs.connections, 0, 'the sign-in POST does not fetch');
    const consent = await b.get(new URL(r.location, u).href);
    assert.equal(pageKind(consent.text), 'consent', summary(consent));
    assert.equal(docRequests(env, doc.path), 1, 'the continuation fetched the document once');
    assert.equal(elementsWithClasses(consent.text, 'name')[0]?.text, 'CIMD test app');

    // Signed in already: the first GET fetches at once.
    const doc2 = cimdDoc(env);
    const consent2 = await authorize(env, b, doc2.url);
    assert.equal(pageKind(consent2.text), 'consent', summary(consent2));
    assert.equal(docRequests(env, doc2.path), 1);
  }));

  // --- G. nothing stored, approved or redeemed before the document is checked ---

  describe('signed out, a request that fails a check: an error page and no client row at all', () => {
    const cases = [
      ['no code_challenge', { code_challenge: null }, 'invalid_request', 'code_challenge is required'],
      ['response_type=token', { response_type: 'token' }, 'unsupported_response_type', 'response_type must be code'],
      ['code_challenge_method plain', { code_challenge_method: 'plain' }, 'invalid_request',
        'code_challenge_method must be S256'],
      ['an unknown resource', { resource: 'https://elsewhere.example/mcp' }, 'invalid_target',
        'resource is not a resource this server protects'],
      ['a scope not offered', { scope: 'mcp:admin' }, 'invalid_scope', "scope 'mcp:admin' is not available"],
      ['no redirect_uri', { redirect_uri: null }, 'invalid_request', 'redirect_uri is required'],
    ];
    for (const [what, changes, code, text] of cases) {
      it(`${what}: 400 ${code}, no row, no fetch`, t(async () => {
        const doc = cimdDoc(env);
        env.docs.reset();
        const res = await new FormBrowser().get(azUrl(env, doc.url, doc.redirectUri, changes));
        assertRefused(res, 400, code, text);
        assertNoRow(env, doc.url, `no client row for a refused request (${what})`);
        assert.equal(env.docs.connections, 0, 'nothing fetched');
      }));
    }
  });

  it('the token endpoint refuses a client whose document was never fetched: 401 invalid_client', t(async () => {
    const doc = cimdDoc(env);
    env.docs.reset();
    const login = await new FormBrowser().get(azUrl(env, doc.url, doc.redirectUri));
    assert.equal(pageKind(login.text), 'login', summary(login));
    assertPendingRow(env, doc.url, 'the signed-out request stored a pending row');
    const r = await tokenRequest(env.issuer, {
      grant_type: 'authorization_code', client_id: doc.url, code: 'x', code_verifier: pkce().verifier,
      redirect_uri: doc.redirectUri,
    });
    assertTokenError(r, 401, 'invalid_client');
    assert.equal(r.json.error_description, "this client's metadata document was never fetched", r.what);
    assert.equal(env.docs.connections, 0, 'and the token endpoint fetched nothing');
  }));

  it('consent cannot be approved for a document never checked: the login page\'s csrf sent as a consent form is refused', t(async () => {
    // Any URL will do: this one answers 404, and is never asked anyway.
    const path = `/apps/${randomToken(6)}/missing.json`;
    const url = env.docs.url(path);
    const redirectUri = env.receiver.url('/attacker/cb');
    env.docs.reset();
    const b = new FormBrowser();
    const u = azUrl(env, url, redirectUri);
    const login = await b.get(u);
    assert.equal(pageKind(login.text), 'login', summary(login));
    const loggedIn = await b.login(login, USER, PASSWORD);
    assert.equal(loggedIn.status, 303, loggedIn.what);
    const next = new URL(loggedIn.location, u);
    const requestId = next.searchParams.get('request_id');
    const flow = cookieName('flow', env.issuer);
    const session = cookieName('session', env.issuer);
    assert.ok(b.cookies.has(flow) && b.cookies.has(session), `flow and session cookies: ${[...b.cookies.keys()]}`);

    // The continuation with the flow cookie only: a login page, with a fresh csrf.
    const page = await b.get(next.href, { cookies: false, headers: { Cookie: `${flow}=${b.cookies.get(flow)}` } });
    assert.equal(pageKind(page.text), 'login', summary(page));
    const fields = hiddenFields(page.text);
    assert.equal(fields.request_id, requestId);
    assert.ok(fields.csrf, page.what);

    // Its csrf, with the session cookie, as an approving consent form.
    const res = await b.post(formAction(page.text), {
      step: 'consent', decision: 'approve', request_id: requestId, csrf: fields.csrf,
    });
    assertRefused(res, 400, 'invalid_request', "this application's metadata document was not checked for this sign-in");
    assert.equal(res.location, null, `no redirect: ${summary(res)}`);
    assert.ok(!res.text.includes('/attacker/cb'), 'the page does not link to the redirect URI');
    assert.deepEqual(requestRows(env, url), [], 'the authorization request is deleted');
    assert.deepEqual(instRows(env.inst, `SELECT 1 FROM authorization_codes WHERE client_id = ${lit(url)}`), [], 'no code');
    assert.equal(env.docs.connections, 0, 'the document was never fetched');
    assertPendingRow(env, url, 'the client is still pending');
  }));

  it('consent approves no more than its page showed: a document that widens its scope meanwhile gets the narrow scope', t(async () => {
    const doc = cimdDoc(env, { client_name: 'Narrow app', scope: 'mcp:tools' });
    const verifier = {};
    const b = new FormBrowser();
    const u = azUrl(env, doc.url, doc.redirectUri, { verifier, scope: 'mcp:tools mcp:resources' });
    const login = await b.get(u);
    assert.equal(pageKind(login.text), 'login', summary(login));
    const loggedIn = await b.login(login, USER, PASSWORD);
    assert.equal(loggedIn.status, 303, loggedIn.what);
    const consent = await b.get(new URL(loggedIn.location, u).href);
    assert.equal(pageKind(consent.text), 'consent', summary(consent));
    assert.deepEqual(shownScopes(consent.text), ['mcp:tools'], 'the page shows the document\'s scope only');
    assert.deepEqual(requestRows(env, doc.url).map((r) => r.scope), ['mcp:tools'], 'the stored request is narrowed');

    // The document now asks for more, and is fetched again for another sign-in.
    env.docs.route(doc.path, { json: { ...doc.metadata, scope: 'mcp:tools mcp:resources' }, headers: { 'cache-control': 'no-store' } });
    instExec(env.inst, `UPDATE clients SET document_expires_at = ${now() - 1} WHERE client_id = ${lit(doc.url)}`);
    const fetched = docRequests(env, doc.path);
    const other = env.session ??= await signedIn(env);
    const wide = await other.get(azUrl(env, doc.url, doc.redirectUri, { scope: 'mcp:tools mcp:resources' }));
    assert.equal(pageKind(wide.text), 'consent', summary(wide));
    assert.equal(docRequests(env, doc.path), fetched + 1, 'fetched again');
    assert.deepEqual(shownScopes(wide.text), ['mcp:tools', 'mcp:resources'], 'the new request shows the wider scope');
    assert.equal(clientRows(env, doc.url)[0].scope, 'mcp:tools mcp:resources');

    // The first page's approval gives what that page showed.
    const done = await b.consent(consent);
    assert.equal(done.status, 303, done.what);
    assert.ok(done.location.startsWith(`${doc.redirectUri}?`), done.location);
    const tk = assertTokens(await tokenRequest(env.issuer, {
      grant_type: 'authorization_code', code: new URL(done.location).searchParams.get('code'), code_verifier: verifier.value,
      redirect_uri: doc.redirectUri, client_id: doc.url,
    }));
    assert.equal(tk.scope, 'mcp:tools', tk.scope);
    assert.equal(jose.decodeJwt(tk.access_token).scope, 'mcp:tools');
  }));

  // --- H. errors redirected only to a client this user consented to ---

  it('errors are pages, not redirects, until this user consented to the document client; then they are redirected', t(async () => {
    const doc = cimdDoc(env, { client_name: 'Not yet vouched for' });
    const b = env.session ??= await signedIn(env);
    env.docs.reset();
    const bad = (browser, changes) => browser.get(azUrl(env, doc.url, doc.redirectUri, changes));

    const r1 = await bad(b, { response_type: 'token' });
    assertRefused(r1, 400, 'unsupported_response_type', 'response_type must be code');
    assert.equal(docRequests(env, doc.path), 1, 'the document was fetched and lists the redirect URI');
    const r2 = await bad(b, { code_challenge: null });
    assertRefused(r2, 400, 'invalid_request', 'code_challenge is required');

    // One whole flow: this user consents to the client for the resource.
    const ok = await b.authorize(azUrl(env, doc.url, doc.redirectUri), { username: USER, password: PASSWORD });
    assert.ok(ok.params.get('code'), ok.location);

    const r3 = await bad(b, { response_type: 'token' });
    assert.equal(r3.status, 303, summary(r3));
    assert.ok(r3.location.startsWith(`${doc.redirectUri}?`), r3.location);
    assert.equal(new URL(r3.location).searchParams.get('error'), 'unsupported_response_type', r3.location);
    const r4 = await bad(b, { code_challenge: null });
    assert.equal(r4.status, 303, summary(r4));
    assert.ok(r4.location.startsWith(`${doc.redirectUri}?`), r4.location);
    assert.equal(new URL(r4.location).searchParams.get('error'), 'invalid_request', r4.location);

    // Nobody signed in: nobody who consented, so a page again.
    const r5 = await bad(new FormBrowser(), { response_type: 'token' });
    assertRefused(r5, 400, 'unsupported_response_type', 'response_type must be code');
  }));

  // --- E. the cache ---

  it('max-age=600: the next authorization uses the row; after document_expires_at it fetches again', t(async () => {
    const doc = cimdDoc(env, {}, { headers: { 'cache-control': 'max-age=600' } });
    const b = env.session ??= await signedIn(env);
    env.docs.reset();
    const p1 = await authorize(env, b, doc.url);
    assert.equal(pageKind(p1.text), 'consent', summary(p1));
    assert.equal(docRequests(env, doc.path), 1);
    let row = clientRows(env, doc.url)[0];
    assert.ok(row, 'a client row');
    assert.equal(row.source, 'metadata_document');
    assert.equal(row.document_expires_at - row.document_fetched_at, 600, JSON.stringify(row));

    const p2 = await authorize(env, b, doc.url);
    assert.equal(pageKind(p2.text), 'consent', summary(p2));
    assert.equal(docRequests(env, doc.path), 1, 'no new request while fresh');
    assert.equal(env.docs.connections, 1, 'no new connection either');

    // Expired: fetched again (and the row's times move on).
    instExec(env.inst, `UPDATE clients SET document_fetched_at = ${now() - 1000}, document_expires_at = ${now() - 400}
      WHERE client_id = ${lit(doc.url)}`);
    const p3 = await authorize(env, b, doc.url);
    assert.equal(pageKind(p3.text), 'consent', summary(p3));
    assert.equal(docRequests(env, doc.path), 2, 'fetched again after expiry');
    row = clientRows(env, doc.url)[0];
    assert.ok(row.document_expires_at > now(), `fresh again: ${JSON.stringify(row)}`);
    assert.ok(Math.abs(row.document_fetched_at - now()) <= 60, `fetched now: ${JSON.stringify(row)}`);
  }));

  it('cache lifetimes: max-age clamped to [300, 86400], 3600 without headers, no-store / no-cache never reused', t(async () => {
    const b = env.session ??= await signedIn(env);
    const cases = [
      [{ 'cache-control': 'max-age=10' }, 300],
      [{ 'cache-control': 'max-age=999999' }, 86400],
      [{}, 3600],
      [{ 'cache-control': 'public, max-age=1200' }, 1200],
      [{ 'cache-control': 'no-store' }, 0],
      [{ 'cache-control': 'no-cache' }, 0],
      [{ 'cache-control': 'max-age=600, no-store' }, 0],
    ];
    const got = [];
    for (const [headers] of cases) {
      const doc = cimdDoc(env, {}, { headers });
      const p = await authorize(env, b, doc.url);
      assert.equal(pageKind(p.text), 'consent', `${JSON.stringify(headers)}: ${summary(p)}`);
      const row = clientRows(env, doc.url)[0];
      got.push([headers, row ? row.document_expires_at - row.document_fetched_at : 'no row']);
    }
    assert.deepEqual(got, cases.map(([h, s]) => [h, s]), 'expires_at - fetched_at per Cache-Control');
  }));

  it('no-store: every authorization request fetches', t(async () => {
    const doc = cimdDoc(env, {}, { headers: { 'cache-control': 'no-store' } });
    const b = env.session ??= await signedIn(env);
    env.docs.reset();
    for (let i = 1; i <= 3; i++) {
      const p = await authorize(env, b, doc.url);
      assert.equal(pageKind(p.text), 'consent', summary(p));
      assert.equal(docRequests(env, doc.path), i,
        `authorization request ${i} fetches once: the doc server has seen ${docRequests(env, doc.path)} requests after ${i} GET /authorize`);
    }
    const row = clientRows(env, doc.url)[0];
    assert.equal(row.document_expires_at, row.document_fetched_at, `expires_at == fetched_at: ${JSON.stringify(row)}`);
  }));

  it('errors are not cached: a 500 is an error page, the fixed document is fetched at the next request', t(async () => {
    const doc = cimdDoc(env, {}, { json: { error: 'boom' }, status: 500 });
    const b = env.session ??= await signedIn(env);
    env.docs.reset();
    const e1 = await authorize(env, b, doc.url);
    assertRefused(e1, 400, 'invalid_client', `${DOC_PREFIX}the document's server answered HTTP 500, not 200`);
    assertNoRow(env, doc.url, 'no client row after a failed fetch');
    const e2 = await authorize(env, b, doc.url);
    assertRefused(e2, 400, 'invalid_client', `${DOC_PREFIX}the document's server answered HTTP 500, not 200`);
    assert.equal(docRequests(env, doc.path), 2, 'the failure was not cached: fetched again');

    env.docs.route(doc.path, { json: doc.metadata });
    const ok = await authorize(env, b, doc.url);
    assert.equal(pageKind(ok.text), 'consent', summary(ok));
    assert.equal(docRequests(env, doc.path), 3);
    const row = clientRows(env, doc.url)[0];
    assert.ok(row, 'stored once fetched well');

    // A stale row and a failing fetch: an error page, and the row is left as it was.
    instExec(env.inst, `UPDATE clients SET document_fetched_at = ${now() - 5000}, document_expires_at = ${now() - 1400}
      WHERE client_id = ${lit(doc.url)}`);
    const stale = clientRows(env, doc.url)[0];
    env.docs.route(doc.path, { status: 503, body: 'down' });
    const e3 = await authorize(env, b, doc.url);
    assertRefused(e3, 400, 'invalid_client', `${DOC_PREFIX}the document's server answered HTTP 503, not 200`);
    assert.equal(docRequests(env, doc.path), 4);
    assert.deepEqual(clientRows(env, doc.url)[0], stale, 'the row is as it was');
    env.docs.route(doc.path, { json: doc.metadata });
    const ok2 = await authorize(env, b, doc.url);
    assert.equal(pageKind(ok2.text), 'consent', summary(ok2));
    assert.equal(docRequests(env, doc.path), 5);
  }));

  it('mcpauth-admin client list --json shows the document client with source metadata_document', t(async () => {
    const doc = cimdDoc(env, { client_name: 'Listed CIMD app' }, { headers: { 'cache-control': 'max-age=900' } });
    const b = env.session ??= await signedIn(env);
    const p = await authorize(env, b, doc.url);
    assert.equal(pageKind(p.text), 'consent', summary(p));
    const r = env.inst.admin(['client', 'list', '--json']);
    assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
    const list = JSON.parse(r.stdout);
    const c = list.find((x) => x.client_id === doc.url);
    assert.ok(c, `the client in the list: ${r.stdout}`);
    assert.equal(c.source, 'metadata_document', JSON.stringify(c));
    assert.equal(c.client_name, 'Listed CIMD app', JSON.stringify(c));
    assert.deepEqual(c.redirect_uris, doc.metadata.redirect_uris, JSON.stringify(c));
    assert.equal(c.has_secret, false, JSON.stringify(c));
    assert.equal(typeof c.document_fetched_at, 'string', `document_fetched_at: ${JSON.stringify(c)}`);
    assert.equal(typeof c.document_expires_at, 'string', `document_expires_at: ${JSON.stringify(c)}`);
    assert.ok(Date.parse(c.document_expires_at) - Date.parse(c.document_fetched_at) === 900 * 1000,
      `900 s apart: ${c.document_fetched_at} .. ${c.document_expires_at}`);
    const text = env.inst.admin(['client', 'list']);
    assert.equal(text.status, 0);
    assert.ok(text.stdout.split('\n').some((l) => l.includes(doc.url) && l.includes('metadata_document')),
      `the text list names it: ${text.stdout}`);
  }));

  // --- F. the consent page's warnings ---

  it('consent: every redirect URI on localhost shows .warning.document; one non-local URI does not', t(async () => {
    const b = env.session ??= await signedIn(env);
    const local = cimdDoc(env, {
      client_name: 'All local',
      redirect_uris: [env.receiver.url('/cimd/cb'), 'http://localhost:6276/cb', 'http://[::1]:6276/cb'],
    });
    const p = await authorize(env, b, local.url);
    assert.equal(pageKind(p.text), 'consent', summary(p));
    assert.equal(elementsWithClasses(p.text, 'warning', 'document').length, 1, `the document warning: ${p.text}`);
    assert.equal(elementsWithClasses(p.text, 'warning').filter((e) => !e.classes.includes('document')).length, 1,
      'and the localhost warning');
    assertDocumentHost(env, elementsWithClasses(p.text, 'document-host').map((e) => e.text));
    assert.ok(elementsWithClasses(p.text, 'host').some((h) => h.text === `127.0.0.1:${env.receiver.port}`),
      JSON.stringify(elementsWithClasses(p.text, 'host')));

    const mixed = cimdDoc(env, {
      client_name: 'Mixed',
      redirect_uris: [env.receiver.url('/cimd/cb'), WEB_REDIRECT],
    });
    const q = await authorize(env, b, mixed.url);
    assert.equal(pageKind(q.text), 'consent', summary(q));
    assert.equal(elementsWithClasses(q.text, 'warning', 'document').length, 0, 'not every redirect URI is local');
    assertDocumentHost(env, elementsWithClasses(q.text, 'document-host').map((e) => e.text));

    const web = cimdDoc(env, { client_name: 'Web', redirect_uris: [WEB_REDIRECT] });
    const w = await authorize(env, b, web.url, WEB_REDIRECT);
    assert.equal(pageKind(w.text), 'consent', summary(w));
    assert.equal(elementsWithClasses(w.text, 'warning').length, 0, 'a web app: no warning at all');
    assert.ok(elementsWithClasses(w.text, 'host').some((h) => h.text === 'app.example.com'));
  }));
});

// --- A. CIMD off ------------------------------------------------------------------------------

describe('lighttpd: client_id_metadata_documents = no', () => {
  const { env, t } = serve('lighttpd', { mcp: false, extra: fetchConf('client_id_metadata_documents = no') });

  it('the AS metadata says false, and an https client_id gets the "does not accept" page without a fetch', t(async () => {
    const m = await asMetadata(env);
    assert.equal(m.client_id_metadata_document_supported, false, JSON.stringify(m));
    const doc = cimdDoc(env);
    env.docs.reset();
    const res = await authorize(env, new FormBrowser(), doc.url);
    assertRefused(res, 400, 'invalid_client', 'this server does not accept Client ID Metadata Documents');
    const b = await signedIn(env);
    const res2 = await authorize(env, b, doc.url);
    assertRefused(res2, 400, 'invalid_client', 'this server does not accept Client ID Metadata Documents');
    assert.equal(env.docs.connections, 0);
    assertNoRow(env, doc.url, 'no client row with CIMD off');
  }));
});

// --- F. trusted hosts --------------------------------------------------------------------------

describe('lighttpd: metadata_document_trusted_hosts = localhost', () => {
  const { env, t } = serve('lighttpd', { mcp: false, extra: fetchConf('metadata_document_trusted_hosts = localhost') });

  it('a trusted host\'s all-localhost document shows no warning', t(async () => {
    const b = await signedIn(env);
    const doc = cimdDoc(env, { client_name: 'Trusted local app' });
    const p = await authorize(env, b, doc.url);
    assert.equal(pageKind(p.text), 'consent', summary(p));
    assert.equal(elementsWithClasses(p.text, 'warning', 'document').length, 0, 'no document warning');
    assert.equal(elementsWithClasses(p.text, 'warning').length, 0, 'no localhost warning either (spec: neither warning)');
    assertDocumentHost(env, elementsWithClasses(p.text, 'document-host').map((e) => e.text));
  }));

  it('a trusted host\'s client gets its errors at its redirect URI at once (no consent needed first)', t(async () => {
    const b = await signedIn(env);
    const doc = cimdDoc(env, { client_name: 'Trusted app' });
    const res = await b.get(azUrl(env, doc.url, doc.redirectUri, { response_type: 'token' }));
    assert.equal(res.status, 303, summary(res));
    assert.ok(res.location.startsWith(`${doc.redirectUri}?`), res.location);
    assert.equal(new URL(res.location).searchParams.get('error'), 'unsupported_response_type', res.location);
  }));
});

// --- the per-host fetch limit -------------------------------------------------------------------

describe('lighttpd: metadata_document_fetch_limit = 2', () => {
  const { env, t } = serve('lighttpd', { mcp: false, extra: fetchConf('metadata_document_fetch_limit = 2') });

  it('a third fetch from one host within 10 minutes: 429 temporarily_unavailable, not fetched', t(async () => {
    const b = await signedIn(env);
    // Three documents on one host (each fetched once, then cached).
    const docs = [cimdDoc(env), cimdDoc(env), cimdDoc(env)];
    env.docs.reset();
    for (let i = 0; i < 2; i++) {
      const p = await authorize(env, b, docs[i].url);
      assert.equal(pageKind(p.text), 'consent', `authorization ${i + 1}: ${summary(p)} (requests so far: ${env.docs.requests.length})`);
    }
    assert.equal(env.docs.requests.length, 2, 'two fetches');
    const res = await authorize(env, b, docs[2].url);
    const s = summary(res);
    assert.equal(pageKind(res.text), 'error', s);
    assert.equal(res.status, 429, s);
    assert.equal(pageErrorCode(res.text), 'temporarily_unavailable', s);
    assert.equal(docRequests(env, docs[2].path), 0, 'the third was not fetched');
    // A cached document needs no fetch: still fine.
    const again = await authorize(env, b, docs[0].url);
    assert.equal(pageKind(again.text), 'consent', summary(again));
    assert.equal(env.docs.requests.length, 2);
  }));
});

// --- Apache smoke test ----------------------------------------------------------------------------

describe('apache, issuer path /t1: a Client ID Metadata Document client signs in', () => {
  const { env, t } = serve('apache', { issuerPath: '/t1', mcp: false });

  it('metadata, sign-in, consent, code exchange with the URL as client_id', t(async () => {
    const m = await asMetadata(env);
    assert.equal(m.client_id_metadata_document_supported, true);
    const doc = cimdDoc(env, { client_name: 'Apache CIMD app' });
    env.docs.reset();
    const verifier = {};
    const b = new FormBrowser();
    const r = await b.authorize(azUrl(env, doc.url, doc.redirectUri, { verifier }), { username: USER, password: PASSWORD });
    assert.deepEqual(r.pages.map((p) => pageKind(p.text)), ['login', 'consent']);
    assert.ok(r.pages[1].text.includes('Apache CIMD app'));
    assertDocumentHost(env, elementsWithClasses(r.pages[1].text, 'document-host').map((e) => e.text));
    assert.equal(r.params.get('iss'), env.issuer);
    assert.equal(docRequests(env, doc.path), 1);
    const tk = assertTokens(await tokenRequest(env.issuer, {
      grant_type: 'authorization_code', code: r.params.get('code'), code_verifier: verifier.value,
      redirect_uri: doc.redirectUri, client_id: doc.url,
    }));
    const claims = jose.decodeJwt(tk.access_token);
    assert.equal(claims.client_id, doc.url);
    assert.deepEqual([].concat(claims.aud), [env.main]);
    assert.equal(claims.iss, env.issuer);
  }));
});

// register.test.mjs: mcpauth-register, dynamic client registration (RFC 7591)
// and its management protocol (RFC 7592), behind real lighttpd and Apache
// (mod_fcgid), used by real clients: openid-client and the MCP TypeScript
// SDK. Also what mcpauth-admin does with registered clients (client, gc,
// initial-token), the audit trail, and that no secret reaches the database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import * as client from 'openid-client';
import {
  discoverAuthorizationServerMetadata,
  registerClient,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { InvalidClientMetadataError } from '@modelcontextprotocol/sdk/server/auth/errors.js';

import {
  REGISTER, dbBytes, eventually, sqlite3, sqliteJson, startInstance, withLogs, instExec, instRows,
} from './lib/harness.mjs';

const JSON_TYPE = /^application\/json(\s*;.*)?$/;
const LOOPBACK = 'http://127.0.0.1:6276/oauth/callback';
const CLIENT_ID = /^[A-Za-z0-9_-]{22}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;
// What startInstance's default resource offers, plus offline_access.
const OFFERED = ['mcp:tools', 'mcp:resources', 'offline_access'];
const INSECURE = { execute: [client.allowInsecureRequests] };

const now = () => Math.floor(Date.now() / 1000);
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('base64url');
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const sorted = (a) => [...a].sort();

// --- helpers ----------------------------------------------------------------

// Starts one server for the enclosing describe, stops and removes it after.
// Returns env (filled in by before: inst, server, issuer, ...) and t, which
// wraps a test body so that a failure prints the server logs.
function serve(kind, opts) {
  const env = {};
  before(async () => {
    assert.ok(REGISTER, 'mcpauth-register is not installed in the prefix: build and install first');
    Object.assign(env, await startInstance(kind, opts));
  });
  after(async () => {
    if (!env.server) return;
    await env.server.stop();
    env.inst.remove();
  });
  const t = (fn) => withLogs(() => env.server, fn);
  return { env, t };
}

// One HTTP request; the answer with its body read (json: parsed, or null).
async function call(server, method, p, { body, token, authorization, contentType = 'application/json', headers = {} } = {}) {
  const h = { ...headers };
  if (body !== undefined && contentType) h['Content-Type'] = contentType;
  if (token !== undefined) h.Authorization = `Bearer ${token}`;
  if (authorization !== undefined) h.Authorization = authorization;
  const init = { method, headers: h };
  if (body !== undefined) {
    init.body = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  }
  const res = await server.fetch(p, init);
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  const shown = text.length > 500 ? `${text.slice(0, 500)}...` : text;
  return { status: res.status, headers: res.headers, text, json, what: `${method} ${p} -> ${res.status} ${shown}` };
}

const regPath = (env) => `${env.inst.issuerPath}/register`;
const clientPath = (env, id) => `${env.inst.issuerPath}/register/${id}`;
const register = (env, body, opts = {}) => call(env.server, 'POST', regPath(env), { body, ...opts });
const manage = (env, method, id, token, opts = {}) => call(env.server, method, clientPath(env, id), { token, ...opts });

// A 201 registration answer, checked for what every one must carry.
function registered(env, r) {
  assert.equal(r.status, 201, r.what);
  assert.match(r.headers.get('content-type') || '', JSON_TYPE);
  assert.equal(r.headers.get('cache-control'), 'no-store', 'Cache-Control of a registration');
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  const c = r.json;
  assert.match(c.client_id, CLIENT_ID, 'client_id: 22 base64url characters');
  assert.equal(typeof c.registration_access_token, 'string');
  assert.ok(c.registration_access_token.length >= 32, 'a long registration_access_token');
  assert.equal(c.registration_client_uri, `${env.issuer}/register/${c.client_id}`);
  assert.equal(typeof c.client_id_issued_at, 'number');
  return c;
}

// An OAuth error answer: status, code, JSON, no-store, CORS.
function assertError(r, status, code, description) {
  assert.equal(r.status, status, r.what);
  assert.match(r.headers.get('content-type') || '', JSON_TYPE, `content type of ${r.what}`);
  assert.ok(r.json && typeof r.json === 'object', `JSON error body: ${r.what}`);
  assert.equal(r.json.error, code, r.what);
  assert.equal(typeof r.json.error_description, 'string', `error_description: ${r.what}`);
  if (description) assert.match(r.json.error_description, description, r.what);
  assertNoStore(r);
  // A body over max_body is refused by the request adapter, before the
  // program looks at the route: that answer carries no CORS header.
  if (status !== 413) assert.equal(r.headers.get('access-control-allow-origin'), '*', `CORS header of ${r.what}`);
}

// Cache-Control: no-store. fetch joins repeated header lines with ", ": a
// duplicated no-store passes here; 'sends each header once' checks that.
function assertNoStore(r) {
  const cc = r.headers.get('cache-control') || '';
  assert.ok(cc.split(/\s*,\s*/).every((d) => d === 'no-store'), `Cache-Control: no-store on ${r.what}; got "${cc}"`);
}

// RFC 6750 §3.1: the error code only when a token was sent.
function assertInvalidToken(r, { sent = true } = {}) {
  assertError(r, 401, 'invalid_token');
  const wa = r.headers.get('www-authenticate') || '';
  assert.match(wa, /^Bearer\b/, `WWW-Authenticate: ${wa}`);
  if (sent) assert.match(wa, /error="invalid_token"/, `WWW-Authenticate: ${wa}`);
  else assert.equal(wa, 'Bearer', `WWW-Authenticate without a token: ${wa}`);
}

// Queries as root make root-owned -wal/-shm files possible: give them back.
function count(inst, where = '') {
  const n = Number(sqlite3(inst.db, `SELECT count(*) FROM clients ${where}`).stdout.trim());
  inst.chown();
  return n;
}
const rows = instRows;
const exec = instExec;
const maxAuditId = (inst) => rows(inst, 'SELECT coalesce(max(id), 0) AS m FROM audit_log')[0].m;

async function asMetadata(env) {
  const r = await call(env.server, 'GET', `/.well-known/oauth-authorization-server${env.inst.issuerPath}`);
  assert.equal(r.status, 200, r.what);
  return r.json;
}

const publicClient = (extra = {}) => ({ redirect_uris: [LOOPBACK], client_name: 'Integration test', ...extra });
const uris = (...u) => ({ client_name: 'refused', redirect_uris: u });

// --- the default instance ---------------------------------------------------
// No rate limit (many registrations happen here), a small max_body for the
// 413 test; everything else at its default (confidential registration off).

describe('lighttpd, default registration settings', () => {
  const { env, t } = serve('lighttpd', { extra: 'registration_rate_limit = 0\nmax_body = 16k' });

  it('advertises registration_endpoint and only the none auth method', t(async () => {
    const m = await asMetadata(env);
    assert.equal(m.registration_endpoint, `${env.issuer}/register`);
    assert.deepEqual(m.token_endpoint_auth_methods_supported, ['none']);
    const oidc = await call(env.server, 'GET', '/.well-known/openid-configuration');
    assert.equal(oidc.json.registration_endpoint, `${env.issuer}/register`);
    const config = await client.discovery(new URL(env.issuer), 'probe', undefined, undefined, INSECURE);
    assert.equal(config.serverMetadata().registration_endpoint, `${env.issuer}/register`);
  }));

  it('openid-client registers a public client', t(async () => {
    const before = count(env.inst);
    const config = await client.dynamicClientRegistration(new URL(env.issuer), {
      redirect_uris: [LOOPBACK],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      scope: 'mcp:tools offline_access',
      client_name: 'openid-client test',
    }, client.None(), INSECURE);
    const m = config.clientMetadata();
    assert.match(m.client_id, CLIENT_ID);
    assert.equal(m.client_secret, undefined, 'a public client gets no secret');
    assert.equal(m.token_endpoint_auth_method, 'none');
    assert.equal(m.application_type, 'native');
    assert.deepEqual(m.redirect_uris, [LOOPBACK]);
    assert.equal(m.scope, 'mcp:tools offline_access');
    assert.equal(typeof m.registration_access_token, 'string');
    assert.equal(m.registration_client_uri, `${env.issuer}/register/${m.client_id}`);
    assert.equal(count(env.inst), before + 1);
    const [row] = rows(env.inst, `SELECT source, registered_from, token_endpoint_auth_method, secret_hash
      FROM clients WHERE client_id = ${lit(m.client_id)}`);
    assert.deepEqual(row, {
      source: 'dynamic', registered_from: '127.0.0.1', token_endpoint_auth_method: 'none', secret_hash: null,
    });
  }));

  it('the MCP SDK registers a public native client', t(async () => {
    const metadata = await discoverAuthorizationServerMetadata(env.issuer);
    assert.equal(metadata.registration_endpoint, `${env.issuer}/register`);
    const info = await registerClient(env.issuer, {
      metadata,
      clientMetadata: {
        redirect_uris: [LOOPBACK, 'http://localhost:6276/oauth/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'MCP SDK test',
        application_type: 'native',
      },
      scope: 'mcp:tools mcp:resources offline_access',
    });
    assert.match(info.client_id, CLIENT_ID);
    assert.equal(info.client_secret, undefined);
    assert.equal(info.token_endpoint_auth_method, 'none');
    assert.deepEqual(info.redirect_uris, [LOOPBACK, 'http://localhost:6276/oauth/callback']);
    assert.equal(info.scope, 'mcp:tools mcp:resources offline_access');
    assert.equal(count(env.inst, `WHERE client_id = ${lit(info.client_id)}`), 1);
  }));

  it('the MCP SDK asking for client_secret_basic gets invalid_client_metadata', t(async () => {
    const before = count(env.inst);
    const metadata = await discoverAuthorizationServerMetadata(env.issuer);
    await assert.rejects(registerClient(env.issuer, {
      metadata,
      clientMetadata: {
        redirect_uris: ['https://app.example.com/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
        client_name: 'MCP SDK confidential',
      },
      scope: 'mcp:tools offline_access',
    }), (e) => {
      assert.ok(e instanceof InvalidClientMetadataError, `InvalidClientMetadataError, got ${e?.name}: ${e?.message}`);
      assert.match(e.message, /confidential registration is disabled/);
      return true;
    });
    assert.equal(count(env.inst), before, 'nothing stored');
  }));

  it('answers 201 with server-made credentials and the defaults', t(async () => {
    const t0 = now();
    const r = await register(env, {
      redirect_uris: [LOOPBACK],
      // Client-sent credentials are ignored.
      client_id: 'chosen-by-client',
      client_secret: 'chosen-secret',
      client_id_issued_at: 12345,
      registration_access_token: 'chosen-token',
    });
    const c = registered(env, r);
    assert.notEqual(c.client_id, 'chosen-by-client');
    assert.notEqual(c.registration_access_token, 'chosen-token');
    assert.equal(c.client_secret, undefined, 'no secret for a public client');
    assert.ok(c.client_id_issued_at >= t0 - 5 && c.client_id_issued_at <= now() + 5, 'client_id_issued_at is now');
    assert.deepEqual(c.redirect_uris, [LOOPBACK]);
    assert.equal(c.token_endpoint_auth_method, 'none');
    assert.deepEqual(c.grant_types, ['authorization_code', 'refresh_token']);
    assert.deepEqual(c.response_types, ['code']);
    assert.equal(c.application_type, 'native', 'loopback http: native');
    assert.deepEqual(sorted(c.scope.split(' ')), sorted(OFFERED), 'default scope: every scope offered');
    for (const k of ['client_name', 'client_uri', 'logo_uri', 'tos_uri', 'policy_uri', 'contacts',
      'software_id', 'software_version']) {
      assert.equal(k in c, false, `${k} only when sent`);
    }
    assert.equal(count(env.inst, `WHERE client_id = ${lit(c.client_id)}`), 1);
  }));

  it('echoes the optional metadata, ignores unknown members and nulls', t(async () => {
    const sent = {
      redirect_uris: ['https://app.example.com/cb'],
      client_name: 'Full metadata',
      client_uri: 'https://app.example.com/',
      logo_uri: 'https://app.example.com/logo.png',
      tos_uri: 'http://app.example.com/tos',
      policy_uri: 'https://app.example.com/policy',
      contacts: ['ops@app.example.com'],
      software_id: 'a1b2c3d4-test',
      software_version: '1.2.3',
    };
    const c = registered(env, await register(env, { ...sent, frobnicate: 'x', nested: { a: [1, 2] } }));
    for (const [k, v] of Object.entries(sent)) assert.deepEqual(c[k], v, k);
    assert.equal(c.application_type, 'web', 'every redirect URI https: web');
    assert.equal('frobnicate' in c, false, 'unknown members are not echoed');
    assert.equal('nested' in c, false);

    const n = registered(env, await register(env, {
      redirect_uris: [LOOPBACK], client_name: null, software_id: null, contacts: null, scope: null,
      application_type: null, token_endpoint_auth_method: null, grant_types: null, logo_uri: null,
    }));
    assert.equal('client_name' in n, false, 'null counts as omitted');
    assert.equal('software_id' in n, false);
    assert.equal('contacts' in n, false);
    assert.equal('logo_uri' in n, false);
    assert.equal(n.token_endpoint_auth_method, 'none');
    assert.equal(n.application_type, 'native');
    assert.deepEqual(n.grant_types, ['authorization_code', 'refresh_token']);
    assert.deepEqual(sorted(n.scope.split(' ')), sorted(OFFERED));

    const [row] = rows(env.inst, `SELECT client_name, software_id, software_version, application_type, scope,
      grant_types, redirect_uris FROM clients WHERE client_id = ${lit(c.client_id)}`);
    assert.equal(row.client_name, 'Full metadata');
    assert.equal(row.software_id, 'a1b2c3d4-test');
    assert.equal(row.software_version, '1.2.3');
    assert.equal(row.application_type, 'web');
    assert.equal(row.grant_types, 'authorization_code refresh_token');
    assert.deepEqual(JSON.parse(row.redirect_uris), ['https://app.example.com/cb']);
  }));

  it('keeps the requested scopes it offers, in the requested order', t(async () => {
    const c = registered(env, await register(env, publicClient({
      scope: 'offline_access calendar:read mcp:tools',
    })));
    assert.equal(c.scope, 'offline_access mcp:tools');
    const [row] = rows(env.inst, `SELECT scope FROM clients WHERE client_id = ${lit(c.client_id)}`);
    assert.equal(row.scope, 'offline_access mcp:tools');
  }));

  it('accepts application/json with parameters', t(async () => {
    registered(env, await register(env, publicClient(), { contentType: 'application/json; charset=utf-8' }));
  }));

  // --- accepted redirect URIs ---
  const ACCEPTED = [
    ['localhost with a port', { redirect_uris: ['http://localhost:33418/oauth/callback'] }, 'native'],
    ['127.0.0.1 with a port', { redirect_uris: ['http://127.0.0.1:6276/oauth/callback'] }, 'native'],
    ['[::1] with a port', { redirect_uris: ['http://[::1]:8080/cb'] }, 'native'],
    ['https, application_type inferred', { redirect_uris: ['https://app.example.com/cb'] }, 'web'],
    ['https for a web client', { redirect_uris: ['https://app.example.com/cb'], application_type: 'web' }, 'web'],
    ['https for a native client', { redirect_uris: ['https://app.example.com/cb'], application_type: 'native' }, 'native'],
    ['a private-use scheme with a host', { redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/callback'] }, 'native'],
    ['a reverse-domain private-use scheme', { redirect_uris: ['com.example.app:/oauth2redirect'], application_type: 'native' }, 'native'],
    ['https and loopback together', { redirect_uris: ['https://app.example.com/cb', LOOPBACK] }, 'native'],
    ['10 redirect URIs', { redirect_uris: Array.from({ length: 10 }, (_, i) => `http://127.0.0.1:${7000 + i}/cb`) }, 'native'],
    ['a 2000-byte URI', { redirect_uris: [`https://app.example.com/${'a'.repeat(2000 - 24)}`] }, 'web'],
  ];
  for (const [what, body, appType] of ACCEPTED) {
    it(`accepts redirect URIs: ${what}`, t(async () => {
      const c = registered(env, await register(env, { client_name: `accepted: ${what}`, ...body }));
      assert.deepEqual(c.redirect_uris, body.redirect_uris, 'redirect_uris stored as sent');
      assert.equal(c.application_type, appType);
      const [row] = rows(env.inst, `SELECT redirect_uris, application_type FROM clients WHERE client_id = ${lit(c.client_id)}`);
      assert.deepEqual(JSON.parse(row.redirect_uris), body.redirect_uris);
      assert.equal(row.application_type, appType);
    }));
  }

  // --- refused registrations ---
  const base = { client_name: 'refused', redirect_uris: [LOOPBACK] };
  const meta = (extra) => ({ ...base, ...extra });
  const deep = (n) => `{"redirect_uris":["${LOOPBACK}"],"x":${'['.repeat(n)}${']'.repeat(n)}}`;
  // [what, body, status, error, description, options]
  const REFUSED = [
    // invalid_redirect_uri
    ['redirect_uris missing', { client_name: 'refused' }, 400, 'invalid_redirect_uri'],
    ['redirect_uris not an array', { ...base, redirect_uris: LOOPBACK }, 400, 'invalid_redirect_uri'],
    ['redirect_uris empty', uris(), 400, 'invalid_redirect_uri'],
    ['11 redirect URIs', uris(...Array.from({ length: 11 }, (_, i) => `http://127.0.0.1:${7000 + i}/cb`)), 400, 'invalid_redirect_uri'],
    ['a redirect URI that is a number', uris(42), 400, 'invalid_redirect_uri'],
    ['a redirect URI that is an object', uris({ uri: LOOPBACK }), 400, 'invalid_redirect_uri'],
    ['a redirect URI that is null', uris(null), 400, 'invalid_redirect_uri'],
    ['a 2001-byte redirect URI', uris(`https://app.example.com/${'a'.repeat(2001 - 24)}`), 400, 'invalid_redirect_uri'],
    ['a fragment', uris('https://a.example/cb#x'), 400, 'invalid_redirect_uri'],
    ['an empty fragment', uris('https://a.example/cb#'), 400, 'invalid_redirect_uri'],
    ['userinfo', uris('https://user@a.example/cb'), 400, 'invalid_redirect_uri'],
    ['userinfo before an evil host', uris('http://localhost@evil.example/cb'), 400, 'invalid_redirect_uri'],
    ['user and password', uris('https://u:p@a.example/cb'), 400, 'invalid_redirect_uri'],
    ['an absolute path', uris('/callback'), 400, 'invalid_redirect_uri'],
    ['a relative path', uris('callback'), 400, 'invalid_redirect_uri'],
    ['a scheme-relative URI', uris('//a.example/cb'), 400, 'invalid_redirect_uri'],
    ['javascript:', uris('javascript:alert(1)'), 400, 'invalid_redirect_uri'],
    ['JavaScript: (mixed case)', uris('JavaScript:alert(1)'), 400, 'invalid_redirect_uri'],
    ['data:', uris('data:text/html,x'), 400, 'invalid_redirect_uri'],
    ['vbscript:', uris('vbscript:x'), 400, 'invalid_redirect_uri'],
    ['file:', uris('file:///etc/passwd'), 400, 'invalid_redirect_uri'],
    ['FILE: (upper case)', uris('FILE:///etc/passwd'), 400, 'invalid_redirect_uri'],
    ['plain http to a public host', uris('http://a.example/cb'), 400, 'invalid_redirect_uri'],
    ['http to a host that starts with 127.0.0.1', uris('http://127.0.0.1.evil.example/cb'), 400, 'invalid_redirect_uri'],
    ['http to a host that starts with localhost', uris('http://localhost.evil.example/cb'), 400, 'invalid_redirect_uri'],
    ['a short-form IPv4 host (127.1)', uris('http://127.1/cb'), 400, 'invalid_redirect_uri'],
    ['a hex IPv4 host', uris('http://0x7f.0.0.1/cb'), 400, 'invalid_redirect_uri'],
    ['a decimal IPv4 host', uris('http://2130706433/cb'), 400, 'invalid_redirect_uri'],
    ['a space', uris('https://a.example/c b'), 400, 'invalid_redirect_uri'],
    ['a tab', uris('https://a.example/cb\t'), 400, 'invalid_redirect_uri'],
    ['a newline', uris('https://a.example/cb\nx'), 400, 'invalid_redirect_uri'],
    ['a control character', uris('https://a.example/\u0001cb'), 400, 'invalid_redirect_uri'],
    ['a good URI next to a bad one', uris(LOOPBACK, 'http://a.example/cb'), 400, 'invalid_redirect_uri'],
    ['a web client with an http loopback URI', meta({ application_type: 'web', redirect_uris: [LOOPBACK] }), 400, 'invalid_redirect_uri'],
    ['a web client with a private-use scheme', meta({ application_type: 'web', redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/callback'] }), 400, 'invalid_redirect_uri'],

    // invalid_client_metadata: grant and response types
    ['client_credentials', meta({ grant_types: ['authorization_code', 'client_credentials'] }), 400, 'invalid_client_metadata', /operator|mcpauth-admin/],
    ['the password grant', meta({ grant_types: ['authorization_code', 'password'] }), 400, 'invalid_client_metadata'],
    ['the implicit grant', meta({ grant_types: ['authorization_code', 'implicit'] }), 400, 'invalid_client_metadata'],
    ['the device code grant', meta({ grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'] }), 400, 'invalid_client_metadata'],
    ['grant_types a string', meta({ grant_types: 'authorization_code' }), 400, 'invalid_client_metadata'],
    ['grant_types with a number', meta({ grant_types: ['authorization_code', 5] }), 400, 'invalid_client_metadata'],
    ['grant_types without authorization_code', meta({ grant_types: ['refresh_token'] }), 400, 'invalid_client_metadata'],
    ['response_types token', meta({ response_types: ['token'] }), 400, 'invalid_client_metadata'],
    ['response_types code id_token', meta({ response_types: ['code', 'id_token'] }), 400, 'invalid_client_metadata'],
    // token_endpoint_auth_method
    ['client_secret_jwt', meta({ token_endpoint_auth_method: 'client_secret_jwt' }), 400, 'invalid_client_metadata'],
    ['tls_client_auth', meta({ token_endpoint_auth_method: 'tls_client_auth' }), 400, 'invalid_client_metadata'],
    ['an unknown auth method', meta({ token_endpoint_auth_method: 'foo' }), 400, 'invalid_client_metadata'],
    ['private_key_jwt', meta({ token_endpoint_auth_method: 'private_key_jwt' }), 400, 'invalid_client_metadata'],
    ['client_secret_basic while confidential registration is off', meta({ redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'client_secret_basic' }), 400, 'invalid_client_metadata', /confidential registration is disabled/],
    ['client_secret_post while confidential registration is off', meta({ redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'client_secret_post' }), 400, 'invalid_client_metadata', /confidential registration is disabled/],
    // application_type
    ['application_type desktop', meta({ application_type: 'desktop' }), 400, 'invalid_client_metadata'],
    ['application_type a number', meta({ application_type: 5 }), 400, 'invalid_client_metadata'],
    // scope
    ['scope a number', meta({ scope: 5 }), 400, 'invalid_client_metadata'],
    ['scope an array', meta({ scope: ['mcp:tools'] }), 400, 'invalid_client_metadata'],
    ['a scope token with a quote', meta({ scope: 'a"b' }), 400, 'invalid_client_metadata'],
    ['a bad scope token next to a good one', meta({ scope: 'mcp:tools a"b' }), 400, 'invalid_client_metadata'],
    ['a scope token with a backslash', meta({ scope: 'mcp:tools a\\b' }), 400, 'invalid_client_metadata'],
    ['no offered scope', meta({ scope: 'calendar:read files:write' }), 400, 'invalid_client_metadata'],
    // names and URLs
    ['client_name a number', meta({ client_name: 5 }), 400, 'invalid_client_metadata'],
    ['client_name of 201 bytes', meta({ client_name: 'n'.repeat(201) }), 400, 'invalid_client_metadata'],
    ['client_name of 101 characters, 202 bytes', meta({ client_name: 'é'.repeat(101) }), 400, 'invalid_client_metadata'],
    ['software_id a number', meta({ software_id: 5 }), 400, 'invalid_client_metadata'],
    ['software_id of 201 bytes', meta({ software_id: 's'.repeat(201) }), 400, 'invalid_client_metadata'],
    ['software_version an object', meta({ software_version: { v: 1 } }), 400, 'invalid_client_metadata'],
    ['software_version of 201 bytes', meta({ software_version: '1'.repeat(201) }), 400, 'invalid_client_metadata'],
    ['client_uri javascript:', meta({ client_uri: 'javascript:alert(1)' }), 400, 'invalid_client_metadata'],
    ['client_uri ftp:', meta({ client_uri: 'ftp://app.example.com/' }), 400, 'invalid_client_metadata'],
    ['client_uri relative', meta({ client_uri: 'app.example.com/about' }), 400, 'invalid_client_metadata'],
    ['client_uri a number', meta({ client_uri: 5 }), 400, 'invalid_client_metadata'],
    ['logo_uri javascript:', meta({ logo_uri: 'javascript:alert(1)' }), 400, 'invalid_client_metadata'],
    ['logo_uri data:', meta({ logo_uri: 'data:image/png;base64,AAAA' }), 400, 'invalid_client_metadata'],
    ['tos_uri relative', meta({ tos_uri: '/tos' }), 400, 'invalid_client_metadata'],
    ['policy_uri javascript:', meta({ policy_uri: 'JAVASCRIPT:alert(1)' }), 400, 'invalid_client_metadata'],
    ['contacts a string', meta({ contacts: 'ops@app.example.com' }), 400, 'invalid_client_metadata'],
    ['contacts with a number', meta({ contacts: ['ops@app.example.com', 5] }), 400, 'invalid_client_metadata'],

    // the request body itself
    ['Content-Type text/plain', base, 400, 'invalid_client_metadata', null, { contentType: 'text/plain' }],
    ['a form body', `redirect_uris=${encodeURIComponent(LOOPBACK)}`, 400, 'invalid_client_metadata', null, { contentType: 'application/x-www-form-urlencoded' }],
    // (a Buffer: fetch gives a string body a text/plain type of its own)
    ['no Content-Type', Buffer.from(JSON.stringify(base)), 400, 'invalid_client_metadata', null, { contentType: null }],
    ['an empty body', '', 400, 'invalid_client_metadata'],
    ['invalid JSON', `{"redirect_uris":["${LOOPBACK}"]`, 400, 'invalid_client_metadata'],
    ['trailing garbage after the JSON', `{"redirect_uris":["${LOOPBACK}"]} x`, 400, 'invalid_client_metadata'],
    ['a duplicate key', `{"redirect_uris":["${LOOPBACK}"],"client_name":"a","client_name":"b"}`, 400, 'invalid_client_metadata'],
    ['a duplicate redirect_uris', `{"redirect_uris":["${LOOPBACK}"],"redirect_uris":["https://evil.example/cb"]}`, 400, 'invalid_client_metadata'],
    ['nesting deeper than 16', deep(40), 400, 'invalid_client_metadata'],
    ['invalid UTF-8', Buffer.concat([Buffer.from(`{"redirect_uris":["${LOOPBACK}"],"client_name":"`), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('"}')]), 400, 'invalid_client_metadata'],
    ['an array', JSON.stringify([base]), 400, 'invalid_client_metadata'],
    ['a string', JSON.stringify('x'), 400, 'invalid_client_metadata'],
    ['null', 'null', 400, 'invalid_client_metadata'],
    ['a body over max_body', { ...base, padding: 'x'.repeat(20000) }, 413, 'invalid_request'],
  ];
  for (const [what, body, status, code, description, opts] of REFUSED) {
    it(`refuses ${what}: ${status} ${code}, nothing stored`, t(async () => {
      const before = count(env.inst);
      const r = await register(env, body, opts || {});
      assertError(r, status, code, description || undefined);
      assert.equal(r.json.client_id, undefined, 'no client_id in a refusal');
      assert.equal(count(env.inst), before, 'clients table unchanged');
    }));
  }

  it('sends Cache-Control: no-store exactly once, on refusals too', t(async () => {
    const answers = [
      await register(env, publicClient()),
      await register(env, uris('http://a.example/cb')),
      await register(env, 'not json'),
      await manage(env, 'GET', 'AAAAAAAAAAAAAAAAAAAAAA', 'wrong'),
    ];
    for (const r of answers) assert.equal(r.headers.get('cache-control'), 'no-store', `Cache-Control of ${r.what}`);
  }));

  // --- routes ---
  it('answers 405 with Allow for other methods, 404 for other paths', t(async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const r = await call(env.server, method, regPath(env), method === 'GET' ? {} : { body: publicClient() });
      assertError(r, 405, 'invalid_request');
      assert.deepEqual((r.headers.get('allow') || '').split(/\s*,\s*/), ['POST', 'OPTIONS'], `Allow of ${r.what}`);
    }
    const c = registered(env, await register(env, publicClient()));
    for (const method of ['POST', 'PATCH']) {
      const r = await manage(env, method, c.client_id, c.registration_access_token, { body: { client_id: c.client_id, ...publicClient() } });
      assertError(r, 405, 'invalid_request');
      assert.deepEqual((r.headers.get('allow') || '').split(/\s*,\s*/), ['GET', 'PUT', 'DELETE', 'OPTIONS'], `Allow of ${r.what}`);
    }
    const nested = await manage(env, 'GET', `${c.client_id}/x`, c.registration_access_token);
    assert.equal(nested.status, 404, nested.what);
  }));

  it('answers CORS preflights with 204 and every answer with Access-Control-Allow-Origin: *', t(async () => {
    const preflight = {
      Origin: 'http://client.example',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type, authorization',
    };
    const r = await call(env.server, 'OPTIONS', regPath(env), { headers: preflight });
    assert.equal(r.status, 204, r.what);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.equal(r.text, '');

    const c = registered(env, await register(env, publicClient(), { headers: { Origin: 'http://client.example' } }));
    const r2 = await manage(env, 'OPTIONS', c.client_id, undefined, {
      headers: { ...preflight, 'Access-Control-Request-Method': 'PUT' },
    });
    assert.equal(r2.status, 204, r2.what);
    assert.equal(r2.headers.get('access-control-allow-origin'), '*');

    const bad = await register(env, uris('http://a.example/cb'), { headers: { Origin: 'http://client.example' } });
    assertError(bad, 400, 'invalid_redirect_uri'); // checks Access-Control-Allow-Origin: * too
    const get = await manage(env, 'GET', c.client_id, c.registration_access_token, { headers: { Origin: 'http://client.example' } });
    assert.equal(get.status, 200, get.what);
    assert.equal(get.headers.get('access-control-allow-origin'), '*');
  }));

  // --- RFC 7592 ---
  it('RFC 7592: reads, updates and deletes a client with its registration access token', t(async () => {
    const reg = registered(env, await register(env, publicClient({
      client_name: 'Managed', software_id: 'managed-sw', software_version: '1.0', scope: 'mcp:tools offline_access',
    })));
    const id = reg.client_id;
    let token = reg.registration_access_token;

    // GET: the registration minus the secrets.
    const get = await manage(env, 'GET', id, token);
    assert.equal(get.status, 200, get.what);
    assert.match(get.headers.get('content-type') || '', JSON_TYPE);
    assert.equal(get.headers.get('cache-control'), 'no-store');
    const { registration_access_token: _rat, client_secret: _cs, ...expected } = reg;
    assert.deepEqual(get.json, expected, 'GET answers the registered metadata');
    assert.equal('registration_access_token' in get.json, false);

    // PUT: replace, not merge; the ignored fields stay the server's.
    const countBefore = count(env.inst);
    const put = await manage(env, 'PUT', id, token, {
      body: {
        ...get.json,
        client_name: 'Managed, renamed',
        redirect_uris: ['http://127.0.0.1:7777/cb', 'http://localhost:7777/cb'],
        software_id: undefined, // dropped
        registration_access_token: 'client-chosen',
        registration_client_uri: 'https://evil.example/register/x',
        client_id_issued_at: 1,
        client_secret_expires_at: 99,
      },
    });
    assert.equal(put.status, 200, put.what);
    assert.equal(put.headers.get('cache-control'), 'no-store');
    assert.equal(put.json.client_id, id);
    assert.equal(put.json.client_name, 'Managed, renamed');
    assert.deepEqual(put.json.redirect_uris, ['http://127.0.0.1:7777/cb', 'http://localhost:7777/cb']);
    assert.equal('software_id' in put.json, false, 'an omitted field is gone (replace, not merge)');
    assert.equal(put.json.software_version, '1.0');
    assert.equal(put.json.scope, 'mcp:tools offline_access');
    assert.equal(put.json.registration_client_uri, `${env.issuer}/register/${id}`);
    assert.equal(put.json.client_id_issued_at, reg.client_id_issued_at);
    assert.notEqual(put.json.registration_access_token, 'client-chosen');
    // RFC 7592 §2.2 lets the server rotate the token; use the new one if so.
    if (put.json.registration_access_token) token = put.json.registration_access_token;
    assert.equal(count(env.inst), countBefore, 'PUT adds no client');

    const get2 = await manage(env, 'GET', id, token);
    assert.equal(get2.status, 200, get2.what);
    assert.equal(get2.json.client_name, 'Managed, renamed');
    assert.equal('software_id' in get2.json, false);
    const [row] = rows(env.inst, `SELECT client_name, software_id, redirect_uris FROM clients WHERE client_id = ${lit(id)}`);
    assert.equal(row.client_name, 'Managed, renamed');
    assert.equal(row.software_id, null);
    assert.deepEqual(JSON.parse(row.redirect_uris), ['http://127.0.0.1:7777/cb', 'http://localhost:7777/cb']);

    // DELETE: 204, empty; the token is dead afterwards.
    const del = await manage(env, 'DELETE', id, token);
    assert.equal(del.status, 204, del.what);
    assert.equal(del.text, '');
    assert.equal(count(env.inst, `WHERE client_id = ${lit(id)}`), 0, 'the client is gone');
    assertInvalidToken(await manage(env, 'GET', id, token));
    assertInvalidToken(await manage(env, 'DELETE', id, token));
    assertInvalidToken(await manage(env, 'PUT', id, token, { body: { ...get2.json } }));
  }));

  it('RFC 7592: a missing, malformed or wrong token, or another client\'s, gets 401 invalid_token', t(async () => {
    const a = registered(env, await register(env, publicClient({ client_name: 'A' })));
    const b = registered(env, await register(env, publicClient({ client_name: 'B' })));
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const body = method === 'PUT' ? { client_id: a.client_id, ...publicClient({ client_name: 'hijacked' }) } : undefined;
      const attempts = [
        await call(env.server, method, clientPath(env, a.client_id), { body }),
        await manage(env, method, a.client_id, `${a.registration_access_token}x`, { body }),
        await manage(env, method, a.client_id, 'x'.repeat(43), { body }),
        await manage(env, method, a.client_id, b.registration_access_token, { body }),
        await manage(env, method, 'AAAAAAAAAAAAAAAAAAAAAA', a.registration_access_token, { body }),
        await call(env.server, method, clientPath(env, a.client_id), { body, authorization: `Basic ${Buffer.from(`${a.client_id}:${a.registration_access_token}`).toString('base64')}` }),
        await call(env.server, method, clientPath(env, a.client_id), { body, authorization: 'Bearer' }),
      ];
      assertInvalidToken(attempts[0], { sent: false });
      for (const r of attempts.slice(1)) assertInvalidToken(r);
      // Unknown client and wrong token look the same.
      assert.equal(attempts[4].json.error_description, attempts[1].json.error_description, 'reveals nothing');
    }
    const get = await manage(env, 'GET', a.client_id, a.registration_access_token);
    assert.equal(get.status, 200, get.what);
    assert.equal(get.json.client_name, 'A', 'nothing changed by the refused requests');
  }));

  it('RFC 7592: a PUT that changes or omits client_id, or breaks the rules, is refused and changes nothing', t(async () => {
    const reg = registered(env, await register(env, publicClient({ client_name: 'Stable' })));
    const { client_id: id, registration_access_token: token } = reg;
    const before = (await manage(env, 'GET', id, token)).json;
    const other = registered(env, await register(env, publicClient({ client_name: 'Other' })));
    const cases = [
      [{ ...before, client_id: other.client_id, client_name: 'Moved' }, 'invalid_request'],
      [{ ...before, client_id: 'not-the-same', client_name: 'Moved' }, 'invalid_request'],
      [{ ...before, client_id: undefined, client_name: 'No id' }, 'invalid_request'],
      [{ ...before, redirect_uris: ['http://a.example/cb'] }, 'invalid_redirect_uri'],
      [{ ...before, grant_types: ['authorization_code', 'client_credentials'] }, 'invalid_client_metadata'],
      [{ ...before, token_endpoint_auth_method: 'client_secret_basic' }, 'invalid_client_metadata'],
      // A public client has no secret to match.
      [{ ...before, client_secret: 'guess' }, 'invalid_client_metadata'],
    ];
    for (const [body, code] of cases) {
      const r = await manage(env, 'PUT', id, token, { body });
      assertError(r, 400, code);
    }
    const afterGet = await manage(env, 'GET', id, token);
    assert.equal(afterGet.status, 200, afterGet.what);
    assert.deepEqual(afterGet.json, before, 'the client is unchanged');
    const otherGet = await manage(env, 'GET', other.client_id, other.registration_access_token);
    assert.equal(otherGet.json.client_name, 'Other', 'the other client is unchanged');
  }));

  // --- audit, logs ---
  it('writes audit rows for registrations, refusals, reads, updates and deletions, with the address', t(async () => {
    const from = maxAuditId(env.inst);
    const reg = registered(env, await register(env, publicClient({ client_name: 'Audited', software_id: 'audit-sw' })));
    const refused = await register(env, uris('javascript:alert(1)'));
    assertError(refused, 400, 'invalid_redirect_uri');
    const id = reg.client_id;
    let token = reg.registration_access_token;
    assert.equal((await manage(env, 'GET', id, token)).status, 200);
    assertInvalidToken(await manage(env, 'GET', id, 'wrong-token'));
    const put = await manage(env, 'PUT', id, token, { body: { client_id: id, ...publicClient({ client_name: 'Audited 2' }) } });
    assert.equal(put.status, 200, put.what);
    if (put.json.registration_access_token) token = put.json.registration_access_token;
    assert.equal((await manage(env, 'DELETE', id, token)).status, 204);

    const audit = rows(env.inst, `SELECT event, outcome, actor, client_id, address, error, software_id, client_name
      FROM audit_log WHERE id > ${from} ORDER BY id`);
    // The spec leaves open which client_id a refused read records (the
    // path's, or none): not compared.
    const pick = ({ event, outcome, client_id, address, error }) => (
      event === 'read' && outcome === 'refused' ? { event, outcome, address, error }
        : { event, outcome, client_id, address, error });
    assert.deepEqual(audit.map(pick), [
      { event: 'register', outcome: 'ok', client_id: id, address: '127.0.0.1', error: null },
      { event: 'register', outcome: 'refused', client_id: null, address: '127.0.0.1', error: 'invalid_redirect_uri' },
      { event: 'read', outcome: 'ok', client_id: id, address: '127.0.0.1', error: null },
      { event: 'read', outcome: 'refused', address: '127.0.0.1', error: 'invalid_token' },
      { event: 'update', outcome: 'ok', client_id: id, address: '127.0.0.1', error: null },
      { event: 'delete', outcome: 'ok', client_id: id, address: '127.0.0.1', error: null },
    ], 'one audit row per request');
    assert.ok(audit.every((r) => r.actor === 'client'), 'actor client over HTTP');
    assert.equal(audit[0].software_id, 'audit-sw');
    assert.equal(audit[0].client_name, 'Audited');
    // The view exists too.
    const view = rows(env.inst, `SELECT event, outcome FROM audit_view WHERE client_id = ${lit(id)}`);
    assert.ok(view.length >= 4, 'audit_view shows the rows');
    // Never a token in the audit trail.
    const all = JSON.stringify(rows(env.inst, 'SELECT * FROM audit_log'));
    assert.equal(all.includes(reg.registration_access_token), false, 'no registration_access_token in audit_log');
    assert.equal(all.includes(token), false);
  }));

  it('logs one line per event on stderr', t(async () => {
    const reg = registered(env, await register(env, publicClient({ client_name: 'Logged', software_id: 'log-sw' })));
    const line = () => env.server.logs().split('\n').find((l) => l.includes('event=register') &&
      l.includes(`client_id=${reg.client_id}`));
    assert.ok(await eventually(() => Boolean(line()), 3000, 100), `a log line for ${reg.client_id} in:\n${env.server.logs().slice(-2000)}`);
    const l = line();
    assert.match(l, /\bmcpauth program=register pid=\d+ req=\S+ level=info event=register outcome=ok /);
    assert.match(l, /address=127\.0\.0\.1\b/);
    assert.match(l, /software_id="log-sw"/);
    assert.match(l, /client_name="Logged"/);
    assert.equal(env.server.logs().includes(reg.registration_access_token), false, 'no token in the logs');
  }));

  // --- mcpauth-admin ---
  it('mcpauth-admin client list and show (--json after the id, as documented)', t(async () => {
    const reg = registered(env, await register(env, publicClient({ client_name: 'Admin managed' })));
    const id = reg.client_id;
    const list = env.inst.admin(['client', 'list', '--json']);
    assert.equal(list.status, 0, list.stderr);
    const clients = JSON.parse(list.stdout);
    assert.ok(Array.isArray(clients), 'client list --json is an array');
    const mine = clients.find((c) => c.client_id === id);
    assert.ok(mine, `client list has ${id}`);
    assert.equal(clients.length, count(env.inst), 'every client is listed');
    const plain = env.inst.admin(['client', 'list']);
    assert.equal(plain.status, 0, plain.stderr);
    assert.ok(plain.stdout.includes(id), 'the human-readable list names the client');

    const show = env.inst.admin(['client', 'show', id, '--json']);
    assert.equal(show.status, 0, show.stderr);
    const shown = JSON.parse(show.stdout);
    assert.equal(shown.client_id, id);
    assert.equal(shown.client_name, 'Admin managed');
    for (const out of [list.stdout, plain.stdout, show.stdout]) {
      assert.equal(out.includes(reg.registration_access_token), false, 'no token in admin output');
    }
  }));

  it('mcpauth-admin client delete', t(async () => {
    const reg = registered(env, await register(env, publicClient({ client_name: 'Admin deleted' })));
    const id = reg.client_id;
    const from = maxAuditId(env.inst);
    const del = env.inst.admin(['client', 'delete', id]);
    assert.equal(del.status, 0, del.stderr);
    assert.equal(count(env.inst, `WHERE client_id = ${lit(id)}`), 0);
    assertInvalidToken(await manage(env, 'GET', id, reg.registration_access_token));
    const audit = rows(env.inst, `SELECT event, outcome, actor, client_id FROM audit_log WHERE id > ${from} AND actor = 'admin'`);
    assert.deepEqual(audit, [{ event: 'delete', outcome: 'ok', actor: 'admin', client_id: id }]);

    const again = env.inst.admin(['client', 'delete', id]);
    assert.equal(again.status, 1, 'deleting an unknown client: exit 1');
    assert.ok(again.stderr.trim().length > 0, 'with a message');
    const showGone = env.inst.admin(['client', 'show', id]);
    assert.notEqual(showGone.status, 0, 'show of an unknown client fails');
  }));

  it('mcpauth-admin gc removes idle dynamic clients and keeps fresh ones', t(async () => {
    const idle = registered(env, await register(env, publicClient({ client_name: 'Idle' })));
    const fresh = registered(env, await register(env, publicClient({ client_name: 'Fresh' })));
    exec(env.inst, `UPDATE clients SET created_at = created_at - 100*86400, updated_at = updated_at - 100*86400,
      last_used_at = last_used_at - 100*86400 WHERE client_id = ${lit(idle.client_id)}`);
    // One audit row older than audit_retention (365d by default).
    const [old] = rows(env.inst, `SELECT id FROM audit_log WHERE event = 'register' AND client_id = ${lit(fresh.client_id)}`);
    exec(env.inst, `UPDATE audit_log SET at = at - 400*86400 WHERE id = ${old.id}`);
    const total = count(env.inst);
    const gc = env.inst.admin(['gc']);
    assert.equal(gc.status, 0, gc.stderr);
    assert.match(gc.stdout, /gc: removed 1 idle clients?, 1 audit rows?/);
    // (by content: without AUTOINCREMENT the gc row may reuse its id)
    assert.equal(rows(env.inst, `SELECT id FROM audit_log WHERE event = 'register' AND client_id = ${lit(fresh.client_id)}`).length,
      0, 'the old audit row is gone');
    assert.equal(count(env.inst, `WHERE client_id = ${lit(idle.client_id)}`), 0, 'the idle client is gone');
    assert.equal(count(env.inst, `WHERE client_id = ${lit(fresh.client_id)}`), 1, 'the fresh client stays');
    assert.equal(count(env.inst), total - 1, 'only the idle client is removed');
    const audit = rows(env.inst, `SELECT event, outcome, actor FROM audit_log WHERE event = 'gc' AND client_id = ${lit(idle.client_id)}`);
    assert.deepEqual(audit, [{ event: 'gc', outcome: 'ok', actor: 'gc' }]);
    assertInvalidToken(await manage(env, 'GET', idle.client_id, idle.registration_access_token));
    const get = await manage(env, 'GET', fresh.client_id, fresh.registration_access_token);
    assert.equal(get.status, 200, get.what);
  }));
});

// --- confidential registration ----------------------------------------------

describe('lighttpd, confidential_registration = yes', () => {
  const { env, t } = serve('lighttpd', { extra: 'confidential_registration = yes\nregistration_rate_limit = 0' });
  const secrets = []; // every client_secret and registration_access_token handed out
  const clientIds = [];

  it('advertises client_secret_basic and client_secret_post', t(async () => {
    const m = await asMetadata(env);
    assert.deepEqual(sorted(m.token_endpoint_auth_methods_supported), sorted(['none', 'client_secret_basic', 'client_secret_post']));
    assert.equal(m.registration_endpoint, `${env.issuer}/register`);
  }));

  it('the MCP SDK registers a client_secret_basic client and gets a secret', t(async () => {
    const metadata = await discoverAuthorizationServerMetadata(env.issuer);
    const info = await registerClient(env.issuer, {
      metadata,
      clientMetadata: {
        redirect_uris: ['https://app.example.com/oauth/callback'],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'MCP SDK confidential',
      },
      scope: 'mcp:tools offline_access',
    });
    assert.match(info.client_id, CLIENT_ID);
    assert.match(info.client_secret, SECRET, 'client_secret: 43 base64url characters');
    assert.equal(info.client_secret_expires_at, 0, 'secrets never expire by default');
    assert.equal(info.token_endpoint_auth_method, 'client_secret_basic');
    secrets.push(info.client_secret);
    clientIds.push(info.client_id);
    const [row] = rows(env.inst, `SELECT token_endpoint_auth_method, secret_hash, secret_expires_at FROM clients
      WHERE client_id = ${lit(info.client_id)}`);
    assert.equal(row.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(row.secret_hash, sha256(info.client_secret), 'the secret is stored as base64url(SHA-256)');
    assert.equal(row.secret_expires_at, 0);
  }));

  it('registers a client_secret_post client; GET never shows the secret', t(async () => {
    const c = registered(env, await register(env, publicClient({
      redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'client_secret_post',
    })));
    assert.match(c.client_secret, SECRET);
    assert.equal(c.client_secret_expires_at, 0);
    assert.equal(c.token_endpoint_auth_method, 'client_secret_post');
    secrets.push(c.client_secret, c.registration_access_token);
    clientIds.push(c.client_id);
    const [row] = rows(env.inst, `SELECT registration_token_hash FROM clients WHERE client_id = ${lit(c.client_id)}`);
    assert.equal(row.registration_token_hash, sha256(c.registration_access_token));
    const get = await manage(env, 'GET', c.client_id, c.registration_access_token);
    assert.equal(get.status, 200, get.what);
    assert.equal('client_secret' in get.json, false);
    assert.equal('registration_access_token' in get.json, false);
    assert.equal(get.json.client_secret_expires_at, 0);
    assert.equal(get.text.includes(c.client_secret), false);
  }));

  it('PUT switches between none and client_secret_basic, checking a sent secret', t(async () => {
    const reg = registered(env, await register(env, publicClient({ redirect_uris: ['https://app.example.com/cb'] })));
    const id = reg.client_id;
    let token = reg.registration_access_token;
    secrets.push(token);
    clientIds.push(id);
    assert.equal(reg.client_secret, undefined);
    const body = { client_id: id, redirect_uris: ['https://app.example.com/cb'], client_name: 'Switched' };

    const up = await manage(env, 'PUT', id, token, { body: { ...body, token_endpoint_auth_method: 'client_secret_basic' } });
    assert.equal(up.status, 200, up.what);
    assert.match(up.json.client_secret, SECRET, 'a secret, once, in the PUT answer');
    const secret = up.json.client_secret;
    secrets.push(secret);
    if (up.json.registration_access_token) { token = up.json.registration_access_token; secrets.push(token); }
    let [row] = rows(env.inst, `SELECT secret_hash FROM clients WHERE client_id = ${lit(id)}`);
    assert.equal(row.secret_hash, sha256(secret));

    const get = await manage(env, 'GET', id, token);
    assert.equal(get.status, 200, get.what);
    assert.equal(get.json.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal('client_secret' in get.json, false, 'GET does not show it again');

    const wrong = await manage(env, 'PUT', id, token, {
      body: { ...body, token_endpoint_auth_method: 'client_secret_basic', client_secret: secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A'), client_name: 'Wrong secret' },
    });
    assertError(wrong, 400, 'invalid_client_metadata');
    const same = await manage(env, 'PUT', id, token, {
      body: { ...body, token_endpoint_auth_method: 'client_secret_basic', client_secret: secret, client_name: 'Right secret' },
    });
    assert.equal(same.status, 200, same.what);
    assert.equal(same.json.client_name, 'Right secret');
    if (same.json.registration_access_token) { token = same.json.registration_access_token; secrets.push(token); }
    if (same.json.client_secret) secrets.push(same.json.client_secret);
    [row] = rows(env.inst, `SELECT secret_hash FROM clients WHERE client_id = ${lit(id)}`);
    assert.ok(row.secret_hash, 'still confidential');

    const down = await manage(env, 'PUT', id, token, { body: { ...body, token_endpoint_auth_method: 'none' } });
    assert.equal(down.status, 200, down.what);
    assert.equal(down.json.token_endpoint_auth_method, 'none');
    assert.equal('client_secret' in down.json, false);
    if (down.json.registration_access_token) { token = down.json.registration_access_token; secrets.push(token); }
    [row] = rows(env.inst, `SELECT secret_hash FROM clients WHERE client_id = ${lit(id)}`);
    assert.equal(row.secret_hash, null, 'switching to none drops the secret');
  }));

  it('the database file and its -wal hold client ids but no secret or token', t(async () => {
    assert.ok(secrets.length >= 4 && clientIds.length >= 3, 'the tests above registered clients');
    const bytes = dbBytes(env.inst.db);
    for (const id of clientIds) assert.ok(bytes.includes(id), `the database holds client_id ${id}`);
    for (const s of secrets) {
      assert.equal(bytes.includes(s), false, `a secret or token (${s.slice(0, 6)}...) is in mcpauth.db or its -wal`);
    }
    // Nor anywhere in the audit trail or the logs.
    const audit = JSON.stringify(rows(env.inst, 'SELECT * FROM audit_log'));
    assert.ok(audit.includes(clientIds[0]), 'the audit trail names the clients');
    for (const s of secrets) {
      assert.equal(audit.includes(s), false, 'no secret in audit_log');
      assert.equal(env.server.logs().includes(s), false, 'no secret in the logs');
    }
  }));
});

describe('lighttpd, client_secret_lifetime = 30d', () => {
  const { env, t } = serve('lighttpd', { extra: 'confidential_registration = yes\nclient_secret_lifetime = 30d' });

  it('sets client_secret_expires_at 30 days ahead', t(async () => {
    const t0 = now();
    const c = registered(env, await register(env, publicClient({
      redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'client_secret_basic',
    })));
    assert.match(c.client_secret, SECRET);
    const exp = c.client_secret_expires_at;
    assert.ok(exp >= t0 + 30 * 86400 - 5 && exp <= now() + 30 * 86400 + 5, `client_secret_expires_at ${exp} is now + 30d`);
    const [row] = rows(env.inst, `SELECT secret_expires_at FROM clients WHERE client_id = ${lit(c.client_id)}`);
    assert.equal(row.secret_expires_at, exp);
    const pub = registered(env, await register(env, publicClient()));
    assert.equal(pub.client_secret, undefined);
  }));
});

// --- registration switched off ----------------------------------------------

describe('lighttpd, dynamic_registration = no', () => {
  const { env, t } = serve('lighttpd', { extra: 'dynamic_registration = no' });

  it('has no registration_endpoint and answers POST /register with 404', t(async () => {
    const m = await asMetadata(env);
    assert.equal(m.registration_endpoint, undefined);
    const r = await register(env, publicClient());
    assertError(r, 404, 'invalid_request', /dynamic client registration is disabled on this server/);
    assert.equal(count(env.inst), 0);
    const metadata = await discoverAuthorizationServerMetadata(env.issuer);
    await assert.rejects(
      registerClient(env.issuer, { metadata, clientMetadata: publicClient() }),
      /does not support dynamic client registration/,
    );
  }));
});

// --- the cap on dynamic clients -----------------------------------------------

describe('lighttpd, max_dynamic_clients = 2', () => {
  const { env, t } = serve('lighttpd', { extra: 'max_dynamic_clients = 2' });

  it('advertises the defaults: registration_endpoint, auth method none', t(async () => {
    const m = await asMetadata(env);
    assert.equal(m.registration_endpoint, `${env.issuer}/register`);
    assert.deepEqual(m.token_endpoint_auth_methods_supported, ['none']);
  }));

  it('answers 503 with Retry-After: 3600 once 2 dynamic clients exist', t(async () => {
    const a = registered(env, await register(env, publicClient({ client_name: 'cap 1' })));
    registered(env, await register(env, publicClient({ client_name: 'cap 2' })));
    const full = await register(env, publicClient({ client_name: 'cap 3' }));
    assertError(full, 503, 'temporarily_unavailable');
    assert.equal(full.headers.get('retry-after'), '3600');
    assert.equal(count(env.inst), 2);
    // A slot freed is a slot to use.
    assert.equal((await manage(env, 'DELETE', a.client_id, a.registration_access_token)).status, 204);
    registered(env, await register(env, publicClient({ client_name: 'cap 3 again' })));
    assert.equal(count(env.inst), 2);
  }));

  it('answers 413 to a body over the default max_body (64k)', t(async () => {
    const before = count(env.inst);
    const r = await register(env, { ...publicClient(), padding: 'x'.repeat(70 * 1024) });
    assert.equal(r.status, 413, r.what);
    assert.equal(count(env.inst), before);
  }));
});

// --- the rate limit -------------------------------------------------------------

describe('lighttpd, registration_rate_limit = 3', () => {
  const { env, t } = serve('lighttpd', { extra: 'registration_rate_limit = 3' });

  it('answers the 4th registration attempt from one address with 429 and Retry-After', t(async () => {
    const a = registered(env, await register(env, publicClient({ client_name: 'rate 1' })));
    assertError(await register(env, uris('http://a.example/cb')), 400, 'invalid_redirect_uri'); // refusals count
    registered(env, await register(env, publicClient({ client_name: 'rate 3' })));
    const r = await register(env, publicClient({ client_name: 'rate 4' }));
    assertError(r, 429, 'temporarily_unavailable');
    const retry = r.headers.get('retry-after');
    assert.match(retry || '', /^\d+$/, `numeric Retry-After: ${retry}`);
    assert.ok(Number(retry) >= 1 && Number(retry) <= 3600, `Retry-After within the window: ${retry}`);
    assert.equal(count(env.inst), 2);
    // RFC 7592 requests are not registration attempts.
    const get = await manage(env, 'GET', a.client_id, a.registration_access_token);
    assert.equal(get.status, 200, get.what);
  }));
});

// --- initial access tokens --------------------------------------------------------

describe('lighttpd, initial_access_token_required = yes', () => {
  const { env, t } = serve('lighttpd', {
    extra: 'initial_access_token_required = yes\nregistration_rate_limit = 0\nregistration_default_scopes = mcp:tools offline_access',
  });

  function tokens() {
    const r = env.inst.admin(['initial-token', 'list', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout);
    assert.ok(Array.isArray(list), 'initial-token list --json is an array');
    return list;
  }

  it('refuses registration without a valid initial access token', t(async () => {
    assertInvalidToken(await register(env, publicClient()), { sent: false });
    assertInvalidToken(await register(env, publicClient(), { token: 'not-a-token' }));
    assertInvalidToken(await register(env, publicClient(), { authorization: 'Basic Zm9vOmJhcg==' }));
    assert.equal(count(env.inst), 0);
    const audit = rows(env.inst, "SELECT event, outcome, error FROM audit_log WHERE event = 'register'");
    assert.ok(audit.length >= 3 && audit.every((r) => r.outcome === 'refused' && r.error === 'invalid_token'), JSON.stringify(audit));
  }));

  it('accepts a token from mcpauth-admin initial-token create until it is revoked', t(async () => {
    const created = env.inst.admin(['initial-token', 'create', '--label', 'ci']);
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /^\S+\n$/, 'stdout is exactly the token and a newline');
    const iat = created.stdout.trim();
    const entry = tokens().find((x) => x.label === 'ci');
    assert.ok(entry && entry.id !== undefined, 'initial-token list --json has the token, with its id');

    const c = registered(env, await register(env, publicClient(), { token: iat }));
    assert.equal(c.scope, 'mcp:tools offline_access', 'registration_default_scopes');
    const [row] = rows(env.inst, `SELECT initial_token_id FROM clients WHERE client_id = ${lit(c.client_id)}`);
    assert.equal(String(row.initial_token_id), String(entry.id), 'the client records its initial token');

    // openid-client sends it the same way.
    const config = await client.dynamicClientRegistration(new URL(env.issuer), {
      redirect_uris: [LOOPBACK], token_endpoint_auth_method: 'none', application_type: 'native',
    }, client.None(), { ...INSECURE, initialAccessToken: iat });
    assert.match(config.clientMetadata().client_id, CLIENT_ID);

    // 7592 needs only the registration access token.
    const get = await manage(env, 'GET', c.client_id, c.registration_access_token);
    assert.equal(get.status, 200, get.what);
    assert.equal(dbBytes(env.inst.db).includes(iat), false, 'the initial access token is not stored');

    const rev = env.inst.admin(['initial-token', 'revoke', String(entry.id)]);
    assert.equal(rev.status, 0, rev.stderr);
    const before = count(env.inst);
    assertInvalidToken(await register(env, publicClient(), { token: iat }));
    assert.equal(count(env.inst), before);
  }));

  it('refuses an expired initial access token', t(async () => {
    const created = env.inst.admin(['initial-token', 'create', '--label', 'short', '--expires', '1d']);
    assert.equal(created.status, 0, created.stderr);
    const iat = created.stdout.trim();
    const entry = tokens().find((x) => x.label === 'short');
    assert.ok(entry, 'listed');
    registered(env, await register(env, publicClient(), { token: iat }));
    exec(env.inst, `UPDATE initial_access_tokens SET expires_at = ${now() - 60} WHERE id = ${Number(entry.id)}`);
    const before = count(env.inst);
    assertInvalidToken(await register(env, publicClient(), { token: iat }));
    assert.equal(count(env.inst), before);
  }));
});

// --- Apache -------------------------------------------------------------------------

describe('apache (mod_fcgid), issuer path /t1', () => {
  const { env, t } = serve('apache', { issuerPath: '/t1', resources: [{ path: '/t1/mcp' }] });

  it('registers a client and manages it with the Bearer token (CGIPassAuth)', t(async () => {
    const m = await asMetadata(env);
    assert.equal(m.registration_endpoint, `${env.issuer}/register`);
    assert.ok(env.issuer.endsWith('/t1'));

    const c = registered(env, await register(env, publicClient({ client_name: 'Apache client' })));
    assert.equal(c.registration_client_uri, `${env.issuer}/register/${c.client_id}`);
    const get = await call(env.server, 'GET', new URL(c.registration_client_uri).pathname, { token: c.registration_access_token });
    assert.equal(get.status, 200, `${get.what} (Apache must pass the Authorization header)`);
    assert.equal(get.json.client_id, c.client_id);
    assert.equal(get.json.client_name, 'Apache client');
    assertInvalidToken(await manage(env, 'GET', c.client_id, 'wrong'));

    const put = await manage(env, 'PUT', c.client_id, c.registration_access_token, {
      body: { client_id: c.client_id, ...publicClient({ client_name: 'Apache renamed' }) },
    });
    assert.equal(put.status, 200, put.what);
    const token = put.json.registration_access_token || c.registration_access_token;
    const del = await manage(env, 'DELETE', c.client_id, token);
    assert.equal(del.status, 204, del.what);
    assertInvalidToken(await manage(env, 'GET', c.client_id, token));

    const pre = await call(env.server, 'OPTIONS', regPath(env), {
      headers: { Origin: 'http://client.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(pre.status, 204, pre.what);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  }));
});

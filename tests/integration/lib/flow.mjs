// flow.mjs: helpers for the sign-in and token tests (flow*.test.mjs):
// users, PKCE, a cookie-carrying form walker that plays the browser's part
// of the authorization code flow with plain fetch (login and consent forms,
// their hidden inputs), token requests, simultaneous requests (optionally
// released together from a held database write lock), a loopback redirect
// receiver for native clients, Chromium (Debian's, driven by
// playwright-core), and an OAuthClientProvider for the MCP SDK's client.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';

import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const sha256 = (s) => crypto.createHash('sha256').update(s).digest('base64url');

// The sign-in cookies' names end in the first 4 bytes of SHA-256(issuer) in
// hex, so that issuers sharing a host keep separate sign-ins.
export const cookieName = (kind, issuer) =>
  `__Host-mcpauth-${kind}-${crypto.createHash('sha256').update(issuer).digest('hex').slice(0, 8)}`;
export const randomToken = (bytes = 32) => crypto.randomBytes(bytes).toString('base64url');
export const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
export const now = () => Math.floor(Date.now() / 1000);

// --- users ------------------------------------------------------------------

// Adds a user with `mcpauth-admin user add NAME` (the password on stdin).
export function addUser(inst, username, password) {
  inst.admin(['user', 'add', username], { check: true, input: `${password}\n` });
}

// --- PKCE (RFC 7636) -------------------------------------------------------------

export function pkce() {
  const verifier = randomToken(32); // 43 characters
  return { verifier, challenge: sha256(verifier) };
}

// --- HTML ---------------------------------------------------------------------------

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
export function htmlDecode(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return String.fromCodePoint(n);
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

// The attributes of each <input ...> of a page, decoded.
export function inputs(html) {
  const out = [];
  for (const m of html.matchAll(/<input\b([^>]*)>/gi)) {
    const attrs = {};
    for (const a of m[1].matchAll(/([a-z-]+)(?:="([^"]*)")?/gi)) attrs[a[1].toLowerCase()] = htmlDecode(a[2] ?? '');
    out.push(attrs);
  }
  return out;
}

// The hidden fields of the page's form: { csrf, request_id, step }.
export function hiddenFields(html) {
  const f = {};
  for (const i of inputs(html)) if (i.type === 'hidden' && i.name) f[i.name] = i.value;
  return f;
}

export function formAction(html) {
  const m = /<form\b[^>]*\baction="([^"]*)"/i.exec(html);
  return m ? htmlDecode(m[1]) : null;
}

// What kind of mcpauth page this is.
export function pageKind(html) {
  const f = hiddenFields(html);
  if (f.step === 'login') return 'login';
  if (f.step === 'consent') return 'consent';
  if (/This sign-in cannot continue|Something went wrong/.test(html)) return 'error';
  return 'unknown';
}

// The error code an error page shows ("Error code: <code>X</code>").
export function pageErrorCode(html) {
  const m = /Error code: <code>([^<]*)<\/code>/.exec(html);
  return m ? htmlDecode(m[1]) : null;
}

// Headers every page of the sign-in must carry (SECURITY.md "Browser pages").
export function assertPageHeaders(res, what = res.what) {
  const h = res.headers;
  assert.equal(h.get('x-frame-options'), 'DENY', `X-Frame-Options of ${what}`);
  const csp = h.get('content-security-policy') || '';
  assert.match(csp, /(^|;)\s*frame-ancestors 'none'\s*(;|$)/, `CSP frame-ancestors of ${what}: ${csp}`);
  assert.match(csp, /(^|;)\s*default-src 'none'\s*(;|$)/, `CSP default-src of ${what}: ${csp}`);
  assert.equal(h.get('x-content-type-options'), 'nosniff', `nosniff on ${what}`);
  assert.equal(h.get('referrer-policy'), 'same-origin', `Referrer-Policy of ${what}`);
  assert.match(h.get('cache-control') || '', /no-store/, `Cache-Control of ${what}`);
  assert.match(h.get('content-type') || '', /^text\/html\b/, `content type of ${what}`);
}

// An error page (never a redirect) with this status and error code.
export function assertErrorPage(res, status, code, what = res.what) {
  assert.equal(res.status, status, what);
  assert.equal(res.headers.get('location'), null, `no Location on the error page: ${what}`);
  assertPageHeaders(res, what);
  assert.equal(pageKind(res.text), 'error', `an error page: ${what}`);
  if (code) assert.equal(pageErrorCode(res.text), code, `error code on the page: ${what}`);
}

// --- a browser made of fetch --------------------------------------------------------

// Carries cookies (one host: the issuer's), follows nothing by itself,
// and keeps every answer for later searches (pages, Set-Cookie values).
export class FormBrowser {
  constructor({ origin } = {}) {
    this.cookies = new Map();
    this.origin = origin; // sent as Origin on POSTs when set
    this.answers = [];
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  // One request. opts: method, form (object or URLSearchParams), headers,
  // cookies (false: send none), origin (override; null: send none).
  async request(url, { method = 'GET', form, headers = {}, cookies = true, origin } = {}) {
    const h = { ...headers };
    if (cookies && this.cookies.size) h.Cookie = this.cookieHeader();
    let body;
    if (form !== undefined) {
      h['Content-Type'] ??= 'application/x-www-form-urlencoded';
      body = (form instanceof URLSearchParams ? form : new URLSearchParams(form)).toString();
    }
    const o = origin === undefined ? this.origin : origin;
    if (method === 'POST' && o) h.Origin = o;
    const res = await fetch(url, { method, headers: h, body, redirect: 'manual' });
    const text = await res.text();
    const setCookies = res.headers.getSetCookie();
    for (const c of setCookies) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const maxAge = attrs.map((a) => /^\s*max-age=(-?\d+)/i.exec(a)).find(Boolean);
      if (maxAge && Number(maxAge[1]) <= 0) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const location = res.headers.get('location');
    const shown = text.length > 300 ? `${text.slice(0, 300)}...` : text;
    const a = {
      status: res.status,
      headers: res.headers,
      text,
      location,
      setCookies,
      url: String(url),
      what: `${method} ${url} -> ${res.status}${location ? ` Location: ${location}` : ''} ${shown}`,
    };
    this.answers.push(a);
    return a;
  }

  get(url, opts) { return this.request(url, { ...opts, method: 'GET' }); }
  post(url, form, opts) { return this.request(url, { ...opts, method: 'POST', form }); }

  // Sends the login form of page (an answer) with these credentials.
  login(page, username, password, { override = {}, ...opts } = {}) {
    const f = hiddenFields(page.text);
    assert.equal(f.step, 'login', `a login page: ${page.what}`);
    return this.post(formAction(page.text), { ...f, username, password, ...override }, opts);
  }

  // Sends the consent form of page with decision (approve/deny).
  consent(page, decision = 'approve', { override = {}, ...opts } = {}) {
    const f = hiddenFields(page.text);
    assert.equal(f.step, 'consent', `a consent page: ${page.what}`);
    return this.post(formAction(page.text), { ...f, decision, ...override }, opts);
  }

  // Walks a whole authorization: GET url, sign in when asked, follow the
  // continuation, answer consent when asked. Returns the final answer (a
  // redirect to the client) with its query parameters, and the pages seen.
  async authorize(url, { username, password, decision = 'approve' } = {}) {
    const pages = [];
    let r = await this.get(url);
    for (let i = 0; i < 5; i++) {
      if (r.status === 303 && r.location && !isIssuerAuthorize(r.location, url)) break;
      if (r.status === 303) { r = await this.get(r.location); continue; }
      assert.equal(r.status, 200, r.what);
      pages.push(r);
      const kind = pageKind(r.text);
      if (kind === 'login') r = await this.login(r, username, password);
      else if (kind === 'consent') r = await this.consent(r, decision);
      else assert.fail(`unexpected page: ${r.what}`);
    }
    assert.equal(r.status, 303, `a redirect to the client at the end: ${r.what}`);
    const loc = new URL(r.location);
    return { res: r, location: r.location, params: loc.searchParams, pages };
  }
}

function isIssuerAuthorize(location, authorizeUrl) {
  const a = new URL(authorizeUrl);
  const l = new URL(location, a);
  return l.origin === a.origin && l.pathname === a.pathname;
}

// The authorization URL for a client (S256 PKCE, state), with extra
// parameters (undefined values are left out, null removes a default).
export function authorizeUrl(issuer, { clientId, redirectUri, challenge, state, resource, scope, ...extra }) {
  const u = new URL(`${issuer}/authorize`);
  const p = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    resource,
    scope,
    ...extra,
  };
  for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== null) u.searchParams.set(k, v);
  return u.href;
}

// --- HTTP API calls -------------------------------------------------------------------

// POST issuer/token with form params. opts.basic: [id, secret] for
// client_secret_basic (urlencoded, RFC 6749 §2.3.1); opts.authorization: a
// raw Authorization header.
export async function tokenRequest(issuer, params, { basic, authorization, headers = {} } = {}) {
  const h = { 'Content-Type': 'application/x-www-form-urlencoded', ...headers };
  if (basic) {
    const [id, secret] = basic.map((s) => encodeURIComponent(s));
    h.Authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  }
  if (authorization !== undefined) h.Authorization = authorization;
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) body.set(k, v);
  const res = await fetch(`${issuer}/token`, { method: 'POST', headers: h, body: body.toString(), redirect: 'manual' });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json, what: `POST /token (${params.grant_type}) -> ${res.status} ${text}` };
}

// An OAuth error answer from the token endpoint.
export function assertTokenError(r, status, code) {
  assert.equal(r.status, status, r.what);
  assert.match(r.headers.get('content-type') || '', /^application\/json\b/, r.what);
  assert.equal(r.json?.error, code, r.what);
  assert.equal(typeof r.json.error_description, 'string', r.what);
  assert.match(r.headers.get('cache-control') || '', /no-store/, `Cache-Control of ${r.what}`);
  assert.equal(r.headers.get('access-control-allow-origin'), '*', `CORS on ${r.what}`);
  if (status === 401) {
    assert.match(r.headers.get('www-authenticate') || '', /^Basic realm="mcpauth"/, `WWW-Authenticate on ${r.what}`);
  }
}

// A successful token answer (RFC 6749 §5.1).
export function assertTokens(r, { refresh = true } = {}) {
  assert.equal(r.status, 200, r.what);
  assert.match(r.headers.get('content-type') || '', /^application\/json\b/, r.what);
  assert.equal(r.headers.get('cache-control'), 'no-store', r.what);
  assert.equal(r.headers.get('pragma'), 'no-cache', r.what);
  assert.equal(r.headers.get('access-control-allow-origin'), '*', r.what);
  const t = r.json;
  assert.equal(typeof t.access_token, 'string', r.what);
  assert.equal(t.token_type, 'Bearer', r.what);
  assert.equal(t.expires_in, 3600, r.what);
  assert.equal(typeof t.scope, 'string', r.what);
  if (refresh) assert.match(t.refresh_token || '', /^[A-Za-z0-9_-]{43}$/, `a refresh token: ${r.what}`);
  else assert.equal(t.refresh_token, undefined, r.what);
  return t;
}

// POST issuer/register (RFC 7591); the 201 answer's JSON.
export async function registerClient(issuer, body) {
  const res = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 201, `registration: ${res.status} ${text}`);
  return JSON.parse(text);
}

// --- races ------------------------------------------------------------------------------

// Holds the database's write lock (BEGIN IMMEDIATE in a sqlite3 process)
// until the returned release() is called: requests that arrive meanwhile
// get as far as their first write and wait there (busy_timeout), so that
// they all race when the lock goes. The programs wait up to 5 s.
// spawnOpts: more options for the sqlite3 process (e.g. { uid, gid, env }
// to run it as the user who owns the database, so that its -wal and -shm
// files stay that user's).
export function holdWriteLock(db, spawnOpts = {}) {
  const p = spawn('sqlite3', [db], { ...spawnOpts, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const t = setTimeout(() => { p.kill(); reject(new Error(`no write lock: ${err}`)); }, 5000);
    p.stderr.on('data', (d) => { err += d; });
    p.stdout.on('data', (d) => {
      out += d;
      if (!out.includes('locked')) return;
      clearTimeout(t);
      resolve(() => new Promise((r) => {
        p.on('exit', () => r());
        p.stdin.end('COMMIT;\n.quit\n');
      }));
    });
    p.stdin.write("PRAGMA busy_timeout = 5000;\nBEGIN IMMEDIATE;\nSELECT 'locked';\n");
  });
}

// Sends n requests at once (make() gives one promise each); with lockDb,
// while holdWriteLock(lockDb) holds the lock for holdMs.
export async function simultaneously(n, make, { lockDb, holdMs = 400 } = {}) {
  const release = lockDb ? await holdWriteLock(lockDb) : null;
  const all = Promise.all(Array.from({ length: n }, () => make()));
  if (release) {
    await new Promise((r) => setTimeout(r, holdMs));
    await release();
  }
  return all;
}

// --- a loopback redirect receiver (RFC 8252 §7.3) ----------------------------------------

// Listens on 127.0.0.1: every request to it is recorded; next() waits for
// the next one not yet taken. url(path) is the redirect URI. page(path,
// html) serves a page there instead (not recorded).
export async function startReceiver() {
  const got = [];
  const waiting = [];
  const pages = new Map();
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, `http://127.0.0.1:${srv.address().port}`);
    if (u.pathname === '/favicon.ico') { // Chromium asks after each page
      res.writeHead(404);
      res.end();
      return;
    }
    if (pages.has(u.pathname)) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(pages.get(u.pathname));
      return;
    }
    const hit = { url: u.href, params: u.searchParams };
    const w = waiting.shift();
    if (w) w(hit); else got.push(hit);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end('<!DOCTYPE html><title>Done</title><p>Signed in: you can close this window.</p>');
  });
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const port = srv.address().port;
  return {
    port,
    url: (p = '/callback') => `http://127.0.0.1:${port}${p}`,
    page(p, html) { pages.set(p, html); return `http://127.0.0.1:${port}${p}`; },
    next(ms = 15000) {
      if (got.length) return Promise.resolve(got.shift());
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no redirect reached the loopback receiver')), ms);
        waiting.push((hit) => { clearTimeout(t); resolve(hit); });
      });
    },
    close: () => new Promise((resolve) => { srv.closeAllConnections?.(); srv.close(() => resolve()); }),
  };
}

// --- Chromium ------------------------------------------------------------------------------

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Debian's Chromium through playwright-core (never a downloaded browser).
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

// Signs in and approves in a fresh browser context: opens url, fills the
// login form, clicks Sign in, then Allow (or Deny). Returns what the
// loopback receiver got, the pages' answers for /authorize (headers
// included) and any dialog that fired.
export async function chromiumAuthorize(browser, url, { username, password, receiver, decision = 'approve', onPage } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const dialogs = [];
  const answers = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.endsWith('/authorize')) {
      answers.push({ url: r.url(), status: r.status(), headers: r.headers(), request: r.request() });
    }
  });
  try {
    const hit = receiver.next();
    await page.goto(url);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: decision === 'approve' ? 'Allow' : 'Deny' }).waitFor();
    if (onPage) await onPage(page, 'consent');
    await page.getByRole('button', { name: decision === 'approve' ? 'Allow' : 'Deny' }).click();
    const got = await hit;
    return { ...got, answers, dialogs, cookies: await context.cookies() };
  } finally {
    await context.close();
  }
}

// --- the MCP SDK's OAuthClientProvider ------------------------------------------------------

// An OAuthClientProvider for the MCP SDK's client: in-memory storage, a
// loopback redirect URI (a native client), and onRedirect(url), a browser
// that does what a user would (its result is kept in callbacks). Records
// what the SDK did: states, redirects, savedClients (registrations: their
// number), savedTokens, invalidations.
// opts.clientName: the client_name of its metadata; opts.applicationType:
// its application_type (null: none); opts.clientMetadataUrl: a Client ID
// Metadata Document URL for the SDK to use as client_id instead of
// registering.
export class TestProvider {
  constructor(redirectUrl, onRedirect, { clientName = 'MCP SDK test', applicationType = 'native', clientMetadataUrl } = {}) {
    this._redirectUrl = redirectUrl;
    this._onRedirect = onRedirect;
    this._clientName = clientName;
    this._applicationType = applicationType;
    this._clientMetadataUrl = clientMetadataUrl;
    this._client = undefined;
    this._tokens = undefined;
    this._verifier = undefined;
    this.states = [];
    this.redirects = [];
    this.callbacks = [];
    this.savedClients = [];
    this.savedTokens = [];
    this.invalidations = [];
  }

  get redirectUrl() { return this._redirectUrl; }
  get clientMetadataUrl() { return this._clientMetadataUrl; }
  get registrations() { return this.savedClients.length; }

  get clientMetadata() {
    return {
      client_name: this._clientName,
      redirect_uris: [this._redirectUrl],
      ...(this._applicationType ? { application_type: this._applicationType } : {}),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state() {
    const s = randomToken(16);
    this.states.push(s);
    return s;
  }

  clientInformation() { return this._client; }
  saveClientInformation(info) { this.savedClients.push(info); this._client = info; }
  tokens() { return this._tokens; }
  saveTokens(tokens) { this.savedTokens.push(tokens); this._tokens = tokens; }
  saveCodeVerifier(v) { this._verifier = v; }
  codeVerifier() { return this._verifier; }
  invalidateCredentials(scope) {
    this.invalidations.push(scope);
    if (scope === 'all' || scope === 'client') this._client = undefined;
    if (scope === 'all' || scope === 'tokens') this._tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this._verifier = undefined;
  }

  async redirectToAuthorization(url) {
    this.redirects.push(new URL(url));
    this.callbacks.push(await this._onRedirect(new URL(url)));
  }
}

// The MCP SDK's client, set up to sign in through Chromium: a TestProvider
// (providerOpts: see there) with the redirect URI redirectUri on
// env.receiver, whose browser signs in as username with chromiumAuthorize
// in env.browser (onPage: see there), keeping each run in browserRuns; and
// transport(), a new StreamableHTTPClientTransport to env.mcp.url with that
// provider, whose requests are noted in fetched ("METHOD URL").
export function sdkClient(env, { username, password, onPage, ...providerOpts }) {
  const redirectUri = env.receiver.url('/sdk/callback');
  const browserRuns = [];
  const provider = new TestProvider(redirectUri, async (url) => {
    const run = await chromiumAuthorize(env.browser, url.href, {
      username, password, receiver: env.receiver, onPage,
    });
    browserRuns.push(run);
    return run;
  }, providerOpts);
  const fetched = [];
  const recordingFetch = (url, init) => {
    fetched.push(`${init?.method || 'GET'} ${String(url instanceof Request ? url.url : url)}`);
    return fetch(url, init);
  };
  const transport = () => new StreamableHTTPClientTransport(new URL(env.mcp.url), {
    authProvider: provider, fetch: recordingFetch,
  });
  return { provider, redirectUri, browserRuns, fetched, transport };
}

// limits.test.mjs: input limits (issue 7) at every endpoint, behind real
// lighttpd and Apache (mod_fcgid) with the example configurations:
// - oversized bodies: max_body + 1 (default 64 KiB), just over mod_fcgid's
//   FcgidMaxRequestLen (128 KiB) and 10 MB, with Content-Length and chunked;
//   and a body of exactly max_body, which must reach the program;
// - deep JSON at the registration endpoints: depth 17 (one over the limit
//   of 16), 10,000 nested arrays or objects, unclosed nesting; depth 16 is
//   accepted;
// - huge headers: a 64 KiB value, a 64 KiB Cookie, a 64 KiB Authorization,
//   1,000 headers, and large ones that the web servers let through;
// - many parameters: 10,000 form fields (within max_body), 1,000 and 5,000
//   query parameters, repeated parameters, a value over 8 KiB, a state
//   over 1,024 bytes;
// - long URLs: a 100 KB query, a 100 KB path.
// The rule (the issue's brief): bad input gets the RFC's error with a clear
// description (a JSON error; at /authorize the error page will do), never a
// crash, a 5xx or a half-written row; a web server's own refusal (400, 413,
// 414, 431) is acceptable for headers and URLs it will not take at all, and
// for a body sent with a request that takes none (GET, DELETE): lighttpd
// answers 400 to any GET with a body.
// After each request: nothing was written when it was refused (every table
// but audit_log compared, and new audit rows are refusals), no FastCGI
// process died, and a valid request at the same endpoint succeeds.
//
// Requests go over raw sockets (Connection: close): a server that answers
// early and stops reading is seen as it answers, and a refusal without a
// body, or a reset, is recorded rather than thrown. LIMITS_REPORT=FILE
// writes the table of what each server answered (markdown) to FILE.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';

import { REGISTER, instExec, instRows, sqlite3, startInstance, withLogs } from './lib/harness.mjs';
import {
  FormBrowser, addUser, authorizeUrl, formAction, hiddenFields, pageErrorCode, pageKind, pkce,
  randomToken, tokenRequest,
} from './lib/flow.mjs';
import { addClient } from './lib/machine.mjs';

const USER = 'alice';
const PASSWORD = 'correct horse battery staple 42';
const LOOPBACK = 'http://127.0.0.1:6276/oauth/callback';
const MAX_BODY = 64 * 1024; // max_body's default
const FCGID_MAX = 128 * 1024; // FcgidMaxRequestLen in apache-mcpauth.conf
// Both example configurations refuse bodies over 128 KiB themselves
// (lighttpd server.max-request-size, Apache FcgidMaxRequestLen).
const SERVER_LIMIT = 128 * 1024;
const TEN_MB = 10 * 1024 * 1024;
const JSON_TYPE = /^application\/json\b/;
const HTML_TYPE = /^text\/html\b/;
// What a web server may answer itself to a request it will not take.
const SERVER_REFUSALS = [400, 413, 414, 431];

const OBSERVED = []; // one row per request sent: the report's table

// --- raw HTTP -------------------------------------------------------------------------

// The response in buf, once complete: { status, headers, body } (body a
// Buffer, chunked transfer coding removed), or null while incomplete
// (final: whatever arrived, as complete as it is).
function parseResponse(buf, final = false) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return final && buf.length ? { status: 0, headers: {}, body: buf, partial: true } : null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i <= 0) continue;
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
  }
  const status = m ? Number(m[1]) : 0;
  // 1xx interim answers: the real one follows.
  if (status >= 100 && status < 200) return parseResponse(buf.subarray(end + 4), final);
  let rest = buf.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] || '')) {
    const parts = [];
    for (;;) {
      const le = rest.indexOf('\r\n');
      if (le < 0) return final ? { status, headers, body: Buffer.concat(parts), partial: true } : null;
      const size = parseInt(rest.subarray(0, le).toString('latin1'), 16);
      if (Number.isNaN(size)) return final ? { status, headers, body: Buffer.concat(parts), partial: true } : null;
      if (size === 0) return { status, headers, body: Buffer.concat(parts) };
      if (rest.length < le + 2 + size + 2) return final ? { status, headers, body: Buffer.concat(parts), partial: true } : null;
      parts.push(rest.subarray(le + 2, le + 2 + size));
      rest = rest.subarray(le + 2 + size + 2);
    }
  }
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (rest.length < n) return final ? { status, headers, body: rest, partial: true } : null;
    return { status, headers, body: rest.subarray(0, n) };
  }
  return final ? { status, headers, body: rest } : null;
}

// One request on its own connection. body: a Buffer or string; chunked:
// send it with Transfer-Encoding: chunked instead of Content-Length.
// Stops sending the body once an answer has arrived. Resolves with
// { status (0: none), headers, text, json, error (a socket error code),
// ms, partial }.
function rawRequest(server, { method = 'GET', path, headers = {}, body, chunked = false, timeoutMs = 60000 }) {
  const start = Date.now();
  const data = body === undefined ? null : Buffer.isBuffer(body) ? body : Buffer.from(body);
  let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n`;
  for (const [k, v] of Object.entries(headers)) {
    for (const one of [].concat(v)) head += `${k}: ${one}\r\n`;
  }
  if (data) head += chunked ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${data.length}\r\n`;
  head += '\r\n';
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port: server.port });
    const got = [];
    let answered = false;
    let error = null;
    let done = false;
    const finish = (timedOut = false) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const r = parseResponse(Buffer.concat(got), true) || { status: 0, headers: {}, body: Buffer.alloc(0) };
      const text = r.body.toString('utf8');
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      resolve({ status: r.status, headers: r.headers, text, json, error, timedOut, partial: !!r.partial, ms: Date.now() - start });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    sock.on('data', (d) => {
      got.push(d);
      answered = true;
      if (parseResponse(Buffer.concat(got))) finish();
    });
    sock.on('error', (e) => { error = e.code || e.message; finish(); });
    sock.on('end', () => finish());
    sock.on('close', () => finish());
    const write = (chunk) => new Promise((res) => {
      if (done || answered || sock.destroyed) { res(false); return; }
      if (sock.write(chunk)) res(true);
      else {
        const go = () => { sock.off('drain', go); sock.off('close', go); res(!done && !answered); };
        sock.on('drain', go);
        sock.on('close', go);
      }
    });
    sock.once('connect', async () => {
      if (!(await write(head)) || !data) return;
      const piece = 64 * 1024;
      for (let i = 0; i < data.length; i += piece) {
        const part = data.subarray(i, Math.min(i + piece, data.length));
        const out = chunked
          ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')])
          : part;
        if (!(await write(out))) return;
      }
      if (chunked) await write('0\r\n\r\n');
    });
  });
}

// --- bodies -----------------------------------------------------------------------------

// A JSON object of exactly size bytes: obj with a padding member.
function jsonOfSize(obj, size) {
  const empty = JSON.stringify({ ...obj, padding: '' });
  assert.ok(size >= empty.length, `${size} bytes hold ${empty}`);
  return JSON.stringify({ ...obj, padding: 'x'.repeat(size - empty.length) });
}

// A form body of exactly size bytes: params with a padding parameter.
function formOfSize(params, size) {
  const base = `${new URLSearchParams(params)}&padding=`;
  assert.ok(size >= base.length, `${size} bytes hold ${base}`);
  return base + 'x'.repeat(size - base.length);
}

// n distinct parameters (names 0, 1, ... in base 36: at most 3
// characters below 46,656, none a parameter mcpauth reads), joined with &.
const manyParams = (n, value = '1') => Array.from({ length: n }, (_, i) => `${i.toString(36)}=${value}`).join('&');

// JSON nested n deep inside the member "x" of a valid registration
// (the object itself is level 1).
const deepMember = (meta, arrays) => `${JSON.stringify(meta).slice(0, -1)},"x":${'['.repeat(arrays)}${']'.repeat(arrays)}}`;

// --- the database --------------------------------------------------------------------------

// Every table but the audit trail (refusals are audited on purpose) and
// the sequence counters, as text: compared before and after a refusal.
function dataDump(inst) {
  const out = sqlite3(inst.db, '.dump').stdout;
  inst.chown();
  return out.split('\n')
    .filter((l) => !/^INSERT INTO (audit_log|"?sqlite_sequence"?)\b/.test(l) && !/sqlite_sequence/.test(l))
    .join('\n');
}

const maxAuditId = (inst) => instRows(inst, 'SELECT coalesce(max(id), 0) AS m FROM audit_log')[0].m;

// The FastCGI processes of this instance: pid -> command line.
function programPids(inst) {
  const pids = new Map();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const environ = fs.readFileSync(`/proc/${e}/environ`, 'utf8');
      if (!environ.split('\0').includes(`MCPAUTH_CONFIG=${inst.conf}`)) continue;
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // a zombie has died
      pids.set(Number(e), fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0')[0]);
    } catch { /* gone, or not ours */ }
  }
  return pids;
}

// --- what an answer is ----------------------------------------------------------------------

// Who produced an answer: the program's JSON error, the program's error
// page, or the web server's own.
function source(r) {
  const ct = r.headers['content-type'] || '';
  if (JSON_TYPE.test(ct) && r.json && typeof r.json.error === 'string') return 'program JSON';
  if (HTML_TYPE.test(ct) && pageKind(r.text) === 'error') return 'program page';
  if (r.status === 0) return r.error ? `no answer (${r.error})` : 'no answer';
  if (r.status < 400) return 'program';
  if (JSON_TYPE.test(ct)) return 'program JSON';
  if (HTML_TYPE.test(ct) && pageKind(r.text) !== 'unknown') return 'program page';
  return `web server (${ct || 'no type'})`;
}

function codeOf(r) {
  if (r.json && typeof r.json.error === 'string') return r.json.error;
  return pageErrorCode(r.text) || '';
}

function shown(r) {
  const t = r.text.length > 300 ? `${r.text.slice(0, 300)}...` : r.text;
  return `${r.status || 'no status'}${r.error ? ` (${r.error})` : ''}${r.timedOut ? ' (timed out)' : ''} ` +
    `[${r.headers['content-type'] || 'no type'}] ${t.replace(/\s+/g, ' ')}`;
}

// The RFC's error: a JSON error with a description (a page with an error
// code at /authorize), never a web server's own page.
function assertRfcError(r, ep, what, codes = ['invalid_request']) {
  const src = source(r);
  if (src === 'program page') {
    assert.ok(ep.page, `${what}: an HTML error page where JSON was expected: ${shown(r)}`);
    assert.ok(codes.includes(pageErrorCode(r.text)), `${what}: the page's error code is one of ${codes}: ${shown(r)}`);
    return;
  }
  assert.equal(src, 'program JSON', `${what}: the answer is the web server's own ${r.status}, ` +
    `not the OAuth JSON error (error, error_description)${ep.page ? ' or the error page' : ''}: ${shown(r)}`);
  assert.ok(codes.includes(r.json.error), `${what}: error is one of ${codes}: ${shown(r)}`);
  assert.equal(typeof r.json.error_description, 'string', `${what}: error_description: ${shown(r)}`);
  assert.ok(r.json.error_description.length > 0, `${what}: a non-empty error_description: ${shown(r)}`);
}

// --- endpoints ---------------------------------------------------------------------------------

const basic = (c) => `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`;

function clientMeta(name) {
  return { redirect_uris: [LOOPBACK], client_name: name, token_endpoint_auth_method: 'none' };
}

async function register(env, name) {
  const res = await fetch(`${env.issuer}/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(clientMeta(name)),
  });
  const text = await res.text();
  assert.equal(res.status, 201, `registration of ${name}: ${res.status} ${text}`);
  return JSON.parse(text);
}

const mgmtPath = (env, c) => new URL(c.registration_client_uri).pathname;

// A fresh login page's form: { path, headers, fields } for POST /authorize
// (the flow cookie, Origin, the hidden fields and the right credentials).
async function loginForm(env) {
  const b = new FormBrowser({ origin: env.origin });
  const { challenge } = pkce();
  const page = await b.get(authorizeUrl(env.issuer, {
    clientId: env.pub.client_id, redirectUri: LOOPBACK, challenge, state: randomToken(8),
    resource: env.resources[0].url, scope: 'mcp:tools',
  }));
  assert.equal(page.status, 200, page.what);
  assert.equal(pageKind(page.text), 'login', page.what);
  const action = new URL(formAction(page.text), env.issuer);
  return {
    browser: b,
    path: action.pathname + action.search,
    headers: { Cookie: b.cookieHeader(), Origin: env.origin },
    fields: { ...hiddenFields(page.text), username: USER, password: PASSWORD },
  };
}

function authorizeQuery(env) {
  const { challenge } = pkce();
  const u = new URL(authorizeUrl(env.issuer, {
    clientId: env.pub.client_id, redirectUri: LOOPBACK, challenge, state: randomToken(8),
    resource: env.resources[0].url, scope: 'mcp:tools',
  }));
  return u.pathname + u.search;
}

async function accessToken(env) {
  const r = await tokenRequest(env.issuer, { grant_type: 'client_credentials' }, { basic: [env.bot.client_id, env.bot.client_secret] });
  assert.equal(r.status, 200, `client_credentials: ${r.what}`);
  return r.json.access_token;
}

async function get(url, init = {}) {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json, what: `${init.method || 'GET'} ${url} -> ${res.status} ${text.slice(0, 300)}` };
}

// Each endpoint: how to build its normal request (prepare: may register a
// client or open a login page first, before the database is compared),
// how to carry a body of a given size, and a valid request that must
// succeed afterwards (probe). page: /authorize may answer with its error
// page. json/form: the kind of body it takes.
const ENDPOINTS = [
  {
    name: 'GET AS metadata',
    bodyless: true,
    prepare: async (env) => ({ method: 'GET', path: `/.well-known/oauth-authorization-server${env.inst.issuerPath}`, headers: {} }),
    sized: (env, req, size) => ({ ...req, headers: { ...req.headers, 'Content-Type': 'application/octet-stream' }, body: 'x'.repeat(size) }),
    probe: async (env) => {
      const r = await get(`${env.origin}/.well-known/oauth-authorization-server${env.inst.issuerPath}`);
      assert.equal(r.status, 200, r.what);
      assert.equal(r.json?.issuer, env.issuer, r.what);
    },
  },
  {
    name: 'GET jwks',
    bodyless: true,
    prepare: async (env) => ({ method: 'GET', path: `${env.inst.issuerPath}/jwks`, headers: {} }),
    sized: (env, req, size) => ({ ...req, headers: { ...req.headers, 'Content-Type': 'application/octet-stream' }, body: 'x'.repeat(size) }),
    probe: async (env) => {
      const r = await get(`${env.issuer}/jwks`);
      assert.equal(r.status, 200, r.what);
      assert.ok(Array.isArray(r.json?.keys) && r.json.keys.length > 0, r.what);
    },
  },
  {
    name: 'GET protected resource metadata',
    bodyless: true,
    prepare: async (env) => ({ method: 'GET', path: `/.well-known/oauth-protected-resource${new URL(env.resources[0].url).pathname}`, headers: {} }),
    sized: (env, req, size) => ({ ...req, headers: { ...req.headers, 'Content-Type': 'application/octet-stream' }, body: 'x'.repeat(size) }),
    probe: async (env) => {
      const r = await get(`${env.origin}/.well-known/oauth-protected-resource${new URL(env.resources[0].url).pathname}`);
      assert.equal(r.status, 200, r.what);
      assert.equal(r.json?.resource, env.resources[0].url, r.what);
    },
  },
  {
    name: 'POST /register',
    json: true,
    prepare: async (env) => ({
      method: 'POST', path: `${env.inst.issuerPath}/register`, headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(clientMeta('limits: refused')),
    }),
    sized: (env, req, size) => ({ ...req, body: jsonOfSize(clientMeta('limits: oversized'), size) }),
    probe: async (env) => {
      const before = instRows(env.inst, 'SELECT count(*) AS n FROM clients')[0].n;
      await register(env, 'limits: probe');
      assert.equal(instRows(env.inst, 'SELECT count(*) AS n FROM clients')[0].n, before + 1, 'a registration writes one row');
    },
  },
  {
    name: 'GET /register/<id>',
    bodyless: true,
    prepare: async (env) => ({ method: 'GET', path: mgmtPath(env, env.pub), headers: { Authorization: `Bearer ${env.pub.registration_access_token}` } }),
    sized: (env, req, size) => ({ ...req, headers: { ...req.headers, 'Content-Type': 'application/json' }, body: jsonOfSize({}, size) }),
    probe: async (env) => {
      const r = await get(env.pub.registration_client_uri, { headers: { Authorization: `Bearer ${env.pub.registration_access_token}` } });
      assert.equal(r.status, 200, r.what);
      assert.equal(r.json?.client_id, env.pub.client_id, r.what);
    },
  },
  {
    name: 'PUT /register/<id>',
    json: true,
    prepare: async (env) => ({
      method: 'PUT', path: mgmtPath(env, env.pub),
      headers: { Authorization: `Bearer ${env.pub.registration_access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: env.pub.client_id, ...clientMeta('limits: changed by a refused PUT') }),
    }),
    sized: (env, req, size) => ({ ...req, body: jsonOfSize({ client_id: env.pub.client_id, ...clientMeta('limits: changed by an oversized PUT') }, size) }),
    probe: async (env) => {
      const r = await get(env.pub.registration_client_uri, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${env.pub.registration_access_token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_id: env.pub.client_id, ...clientMeta('limits: public client') }),
      });
      assert.equal(r.status, 200, r.what);
      assert.equal(r.json?.client_name, 'limits: public client', r.what);
    },
  },
  {
    name: 'DELETE /register/<id>',
    bodyless: true,
    // A client of its own for each request: were the request taken, the
    // client would be gone (the comparison of the tables shows it).
    prepare: async (env) => {
      const victim = await register(env, 'limits: delete victim');
      env.victim = victim;
      return { method: 'DELETE', path: mgmtPath(env, victim), headers: { Authorization: `Bearer ${victim.registration_access_token}` } };
    },
    sized: (env, req, size) => ({ ...req, headers: { ...req.headers, 'Content-Type': 'application/json' }, body: jsonOfSize({}, size) }),
    // The victim is still there when the request was refused: delete it now.
    probe: async (env) => {
      const v = env.victim;
      const r = await get(v.registration_client_uri, { method: 'DELETE', headers: { Authorization: `Bearer ${v.registration_access_token}` } });
      assert.ok(r.status === 204 || r.status === 401, r.what);
      if (r.status === 401) {
        // Deleted by the request under test (it was not refused): another
        // client shows the endpoint still works.
        const w = await register(env, 'limits: delete probe');
        const d = await get(w.registration_client_uri, { method: 'DELETE', headers: { Authorization: `Bearer ${w.registration_access_token}` } });
        assert.equal(d.status, 204, d.what);
      }
    },
  },
  {
    name: 'GET /authorize',
    bodyless: true,
    page: true,
    prepare: async (env) => ({ method: 'GET', path: authorizeQuery(env), headers: {} }),
    sized: (env, req, size) => ({ ...req, headers: { ...req.headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body: formOfSize({}, size) }),
    probe: async (env) => {
      const r = await get(`${env.origin}${authorizeQuery(env)}`);
      assert.equal(r.status, 200, r.what);
      assert.equal(pageKind(r.text), 'login', r.what);
    },
  },
  {
    name: 'POST /authorize',
    page: true,
    form: true,
    // A valid login form with the right password: were the request taken,
    // a session would be written.
    prepare: async (env) => {
      const f = await loginForm(env);
      return {
        method: 'POST', path: f.path,
        headers: { ...f.headers, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(f.fields).toString(),
        fields: f.fields,
      };
    },
    sized: (env, req, size) => ({ ...req, body: formOfSize(req.fields, size) }),
    probe: async (env) => {
      const f = await loginForm(env);
      const r = await f.browser.post(new URL(f.path, env.origin).href, f.fields);
      assert.ok(r.status === 303 || (r.status === 200 && pageKind(r.text) === 'consent'), `a valid sign-in: ${r.what}`);
    },
  },
  {
    name: 'POST /token',
    form: true,
    prepare: async (env) => ({
      method: 'POST', path: `${env.inst.issuerPath}/token`,
      headers: { Authorization: basic(env.bot), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials', fields: { grant_type: 'client_credentials' },
    }),
    sized: (env, req, size) => ({ ...req, body: formOfSize(req.fields, size) }),
    probe: async (env) => { await accessToken(env); },
  },
  {
    name: 'POST /revoke',
    form: true,
    prepare: async (env) => {
      const token = await accessToken(env);
      return {
        method: 'POST', path: `${env.inst.issuerPath}/revoke`,
        headers: { Authorization: basic(env.bot), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(), fields: { token },
      };
    },
    sized: (env, req, size) => ({ ...req, body: formOfSize(req.fields, size) }),
    probe: async (env) => {
      const token = await accessToken(env);
      const r = await get(`${env.issuer}/revoke`, {
        method: 'POST', headers: { Authorization: basic(env.bot), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
      assert.equal(r.status, 200, r.what);
    },
  },
  {
    name: 'POST /introspect',
    form: true,
    prepare: async (env) => {
      const token = await accessToken(env);
      return {
        method: 'POST', path: `${env.inst.issuerPath}/introspect`,
        headers: { Authorization: basic(env.bot), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(), fields: { token },
      };
    },
    sized: (env, req, size) => ({ ...req, body: formOfSize(req.fields, size) }),
    probe: async (env) => {
      const token = await accessToken(env);
      const r = await get(`${env.issuer}/introspect`, {
        method: 'POST', headers: { Authorization: basic(env.bot), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
      assert.equal(r.status, 200, r.what);
      assert.equal(r.json?.active, true, r.what);
    },
  },
];

// --- the cases -------------------------------------------------------------------------------------

// Each case: what it sends (make: the prepared request -> the request to
// send), and check(r, ep, env, kind): the assertions on the answer. Every
// case also gets the common checks (no 5xx, nothing written when refused,
// no process died, still serving).

const bodyCases = [
  { input: 'body max_body + 1 (65,537 B), Content-Length', size: MAX_BODY + 1 },
  { input: 'body max_body + 1 (65,537 B), chunked', size: MAX_BODY + 1, chunked: true },
  { input: 'body FcgidMaxRequestLen + 1 (131,073 B), Content-Length', size: FCGID_MAX + 1 },
  { input: 'body 10 MB, Content-Length', size: TEN_MB },
  { input: 'body 10 MB, chunked', size: TEN_MB, chunked: true },
];

function oversized(kind, size, chunked) {
  return (r, ep, what) => {
    assert.ok(r.status < 500, `${what}: never a 5xx (mod_fcgid answers 500 past FcgidMaxRequestLen unless ` +
      `apache-mcpauth.conf's <If> refuses the body first): ${shown(r)}`);
    // Apache refuses a body without a length (chunked) with 411: it cannot
    // judge it before mod_fcgid reads it (apache-mcpauth.conf).
    if (kind === 'apache' && chunked && source(r).startsWith('web server')) {
      assert.ok([411, 413].includes(r.status), `${what}: Apache's 411 or 413 for a chunked body: ${shown(r)}`);
      return;
    }
    assert.ok([413, 400].includes(r.status), `${what}: refused with 413 (or 400): ${shown(r)}`);
    // A request that takes no body has no RFC error for one: the web
    // server's own refusal will do.
    if (ep.bodyless && source(r).startsWith('web server')) return;
    // Past the web server's own limit (twice max_body in the example
    // configurations) its own 413 answers before any program runs; between
    // max_body and that limit the program answers with the OAuth error.
    if (source(r).startsWith('web server')) {
      assert.ok(size > SERVER_LIMIT, `${what}: below the web server's limit (${SERVER_LIMIT}) the program ` +
        `must answer, not the web server: ${shown(r)}`);
      assert.equal(r.status, 413, `${what}: the web server's 413: ${shown(r)}`);
      return;
    }
    assertRfcError(r, ep, what);
  };
}

// A body of exactly max_body must reach the program (not be refused for
// its size): any answer but 413 and 5xx.
function atLimit(r, ep, what) {
  assert.ok(r.status !== 413, `${what}: a body of exactly max_body is not too large: ${shown(r)}`);
}

// Headers and URLs: the web server's own refusal, or the program's
// answer; never a 5xx, never no answer.
function serverOrProgram(r, ep, what) {
  assert.ok(r.status >= 200 && r.status < 500, `${what}: an answer below 500: ${shown(r)}`);
  if (r.status >= 400 && source(r).startsWith('web server')) {
    assert.ok(SERVER_REFUSALS.includes(r.status), `${what}: the web server refuses with one of ${SERVER_REFUSALS}: ${shown(r)}`);
  }
}

// The program must see it and refuse it with invalid_request.
function programRefuses(codes = ['invalid_request']) {
  return (r, ep, what) => {
    assert.equal(r.status, 400, `${what}: 400: ${shown(r)}`);
    assertRfcError(r, ep, what, codes);
  };
}

// Headers: beyond the servers' limits (8 KiB a field for Apache, 8 KiB in
// all for lighttpd, 100 fields for Apache) and within them, where the
// program must cope (a header it ignores changes nothing; a bad
// Authorization gets a 401).
const HEADER_CASES = [
  {
    input: 'a 64 KiB header value',
    make: (req) => ({ ...req, headers: { ...req.headers, 'X-Filler': 'x'.repeat(64 * 1024) } }),
    check: serverOrProgram,
  },
  {
    input: '1,000 headers',
    make: (req) => ({ ...req, headers: { ...req.headers, ...Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`X-H${i}`, 'v'])) } }),
    check: serverOrProgram,
  },
  {
    input: '90 headers (within the servers\' limits)',
    make: (req) => ({ ...req, headers: { ...req.headers, ...Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`X-H${i}`, 'v'])) } }),
    check: serverOrProgram,
  },
  {
    input: 'a 64 KiB Cookie',
    make: (req) => ({ ...req, headers: { ...req.headers, Cookie: [req.headers.Cookie, `big=${'c'.repeat(64 * 1024)}`].filter(Boolean).join('; ') } }),
    check: serverOrProgram,
  },
  {
    input: 'a 7 KiB Cookie of 900 cookies',
    make: (req) => ({
      ...req,
      headers: {
        ...req.headers,
        Cookie: [req.headers.Cookie, Array.from({ length: 900 }, (_, i) => `c${i}=v`).join('; ')].filter(Boolean).join('; ').slice(0, 7 * 1024),
      },
    }),
    check: serverOrProgram,
  },
  {
    input: 'a 64 KiB Authorization',
    make: (req) => ({ ...req, headers: { ...req.headers, Authorization: `Bearer ${'A'.repeat(64 * 1024)}` } }),
    check: serverOrProgram,
  },
  {
    input: 'a 7 KiB Authorization (within the servers\' limits)',
    make: (req) => ({
      ...req,
      headers: {
        ...req.headers,
        Authorization: /^Basic /.test(req.headers.Authorization || '')
          ? `Basic ${Buffer.from(`${'i'.repeat(2600)}:${'s'.repeat(2600)}`).toString('base64')}`
          : `Bearer ${'A'.repeat(7 * 1024)}`,
      },
    }),
    // Where the Authorization header counts, a 7 KiB one is wrong: 401.
    check: (r, ep, what) => {
      serverOrProgram(r, ep, what);
      if (ep.auth) {
        assert.equal(r.status, 401, `${what}: the program refuses the credentials: ${shown(r)}`);
        assertRfcError(r, ep, what, ['invalid_client', 'invalid_token']);
      }
    },
  },
];

const URL_CASES = [
  {
    input: 'a 100 KB query',
    make: (req) => ({ ...req, path: `${req.path}${req.path.includes('?') ? '&' : '?'}q=${'x'.repeat(100 * 1000)}` }),
    check: serverOrProgram,
  },
  {
    input: 'a 100 KB path',
    make: (req) => {
      const [p, q] = req.path.split('?');
      return { ...req, path: `${p}/${'a'.repeat(100 * 1000)}${q !== undefined ? `?${q}` : ''}` };
    },
    check: serverOrProgram,
  },
  {
    input: '5,000 query parameters (~30 KB)',
    make: (req) => ({ ...req, path: `${req.path}${req.path.includes('?') ? '&' : '?'}${manyParams(5000)}` }),
    check: serverOrProgram,
  },
  {
    input: '1,000 query parameters (~6 KB, within the servers\' limits)',
    make: (req) => ({ ...req, path: `${req.path}${req.path.includes('?') ? '&' : '?'}${manyParams(1000)}` }),
    check: serverOrProgram,
  },
];

// --- the suite -----------------------------------------------------------------------------------------

// Runs one case: prepare, compare the tables, send, check, compare again,
// then the endpoint's valid request. Every check runs even when an earlier
// one failed (a 500 is still checked for rows written and for the server
// going on), and the failures are reported together. Records the row of
// the report.
async function runCase(env, kind, ep, input, make, check, { mayWrite = false } = {}) {
  // The login pages opened here are authorization requests that stay
  // pending, and one address may have 50 (MAX_PENDING in authorize.c):
  // start each case without any.
  instExec(env.inst, 'DELETE FROM authorization_requests');
  const req = make(await ep.prepare(env));
  const pidsBefore = programPids(env.inst);
  const dump = dataDump(env.inst);
  const audit = maxAuditId(env.inst);
  const r = await rawRequest(env.server, req);
  const what = `${kind} ${ep.name}, ${input}`;
  const row = {
    server: kind, endpoint: ep.name, input, status: r.status || (r.error ? r.error : 'none'),
    source: source(r), code: codeOf(r), ms: r.ms, written: '-', serving: '-', verdict: 'ok',
  };
  OBSERVED.push(row);
  const failures = [];
  const step = async (fn) => {
    try {
      await fn();
      return true;
    } catch (e) {
      failures.push(e.message.split('\n')[0]);
      return false;
    }
  };

  if (await step(() => {
    assert.ok(!r.timedOut, `${what}: no answer within 60 s`);
    assert.ok(r.status !== 0, `${what}: an answer: ${shown(r)}`);
  })) {
    if (await step(() => check(r, ep, what))) {
      await step(() => assert.ok(r.status < 500, `${what}: never a 5xx: ${shown(r)}`));
    }
  }
  if (r.status >= 400 || r.status === 0 || !mayWrite) {
    const same = dataDump(env.inst) === dump;
    row.written = same ? 'nothing' : 'ROWS CHANGED';
    await step(() => assert.ok(same, `${what}: ${r.status >= 400 ? 'a refusal' : 'this request'} writes nothing (every table but audit_log)`));
  }
  if (r.status >= 400) {
    const audits = instRows(env.inst, `SELECT event, outcome, error FROM audit_log WHERE id > ${audit}`);
    await step(() => assert.ok(audits.every((a) => a.outcome === 'refused'), `${what}: audit rows are refusals: ${JSON.stringify(audits)}`));
  }
  await step(() => {
    const now = programPids(env.inst);
    for (const [pid, cmd] of pidsBefore) {
      assert.ok(now.has(pid), `${what}: FastCGI process ${pid} (${cmd}) is still running`);
    }
  });
  row.serving = (await step(() => ep.probe(env))) ? 'yes' : 'NO';
  if (failures.length) {
    row.verdict = `FAIL: ${failures.map((f) => f.slice(0, 400)).join(' / ')}`;
    assert.fail(failures.join('\n'));
  }
}

for (const kind of ['lighttpd', 'apache']) {
  describe(`${kind}: input limits at every endpoint`, () => {
    const env = {};
    const t = (fn) => withLogs(() => env.server, fn);

    before(async () => {
      assert.ok(REGISTER, 'mcpauth-register is not installed in the prefix: build and install first');
      Object.assign(env, await startInstance(kind, {
        issuerPath: kind === 'apache' ? '/t1' : '',
        // Many refused registrations: no rate limit. A machine client for
        // the token endpoints' valid requests.
        extra: 'registration_rate_limit = 0\nclient_credentials = yes',
      }));
      addUser(env.inst, USER, PASSWORD);
      env.bot = addClient(env.inst, 'limits-bot', ['--grant', 'client_credentials']);
      env.pub = await register(env, 'limits: public client');
    });
    after(async () => {
      if (!env.server) return;
      const logs = env.server.logs();
      await env.server.stop();
      env.inst.remove();
      // Nothing in the logs says a program crashed.
      assert.doesNotMatch(logs, /Segmentation fault|signal 11|SIGSEGV|core dumped|AddressSanitizer/i, `${kind}: a crash in the logs`);
    });

    for (const ep of ENDPOINTS) {
      ep.auth = /register\/<id>|token|revoke|introspect/.test(ep.name);
      describe(ep.name, () => {
        // --- bodies ---
        it('a body of exactly max_body (65,536 B) reaches the program', t(async () => {
          await runCase(env, kind, ep, 'body exactly max_body (65,536 B)',
            (req) => ep.sized(env, req, MAX_BODY), atLimit, { mayWrite: true });
        }));
        for (const c of bodyCases) {
          it(`${c.input}: 413 with the RFC's error`, { timeout: 120000 }, t(async () => {
            await runCase(env, kind, ep, c.input,
              (req) => ({ ...ep.sized(env, req, c.size), chunked: !!c.chunked }), oversized(kind, c.size, c.chunked));
          }));
        }
        // --- headers ---
        for (const c of HEADER_CASES) {
          it(`${c.input}: refused by the server or answered below 500`, t(async () => {
            await runCase(env, kind, ep, c.input, c.make, c.check, { mayWrite: true });
          }));
        }
        // --- URLs ---
        for (const c of URL_CASES) {
          it(`${c.input}: refused by the server or answered below 500`, t(async () => {
            await runCase(env, kind, ep, c.input, c.make, c.check, { mayWrite: true });
          }));
        }
      });
    }

    // --- deep JSON at the registration endpoints ---
    describe('deep JSON', () => {
      const base = clientMeta('limits: deep');
      const DEEP = [
        ['JSON depth 17 (one over 16)', () => deepMember(base, 16)],
        ['10,000 nested arrays (the whole body)', () => `${'['.repeat(10000)}${']'.repeat(10000)}`],
        ['10,000 nested arrays in a member', () => deepMember(base, 10000)],
        ['10,000 nested objects in a member', () => `${JSON.stringify(base).slice(0, -1)},"x":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}}`],
        ['10,000 unclosed arrays', () => '['.repeat(10000)],
        ['redirect_uris with 10,000 entries', () => JSON.stringify({ ...base, redirect_uris: Array.from({ length: 10000 }, () => 'a') })],
      ];
      for (const name of ['POST /register', 'PUT /register/<id>']) {
        const ep = ENDPOINTS.find((e) => e.name === name);
        for (const [input, body] of DEEP) {
          const codes = input.startsWith('redirect_uris') ? ['invalid_redirect_uri'] : ['invalid_client_metadata', 'invalid_request'];
          it(`${name}, ${input}: 400 ${codes[0]}`, t(async () => {
            const make = (req) => {
              let b = body();
              if (name.startsWith('PUT') && b.startsWith('{')) b = `{"client_id":${JSON.stringify(env.pub.client_id)},${b.slice(1)}`;
              return { ...req, body: b };
            };
            await runCase(env, kind, ep, input, make, programRefuses(codes));
          }));
        }
        it(`${name}, JSON depth 16 (the limit) is accepted`, t(async () => {
          const make = (req) => {
            let b = deepMember(base, 15);
            if (name.startsWith('PUT')) b = `{"client_id":${JSON.stringify(env.pub.client_id)},${b.slice(1)}`;
            return { ...req, body: b };
          };
          await runCase(env, kind, ep, 'JSON depth 16 (the limit)', make, (r, e, what) => {
            assert.equal(r.status, name.startsWith('PUT') ? 200 : 201, `${what}: accepted: ${shown(r)}`);
          }, { mayWrite: true });
        }));
      }
    });

    // --- many and repeated parameters ---
    describe('many and repeated parameters', () => {
      const byName = (n) => ENDPOINTS.find((e) => e.name === n);
      for (const name of ['POST /token', 'POST /revoke', 'POST /introspect', 'POST /authorize']) {
        const ep = byName(name);
        it(`${name}, 10,000 form fields within max_body: 400 invalid_request`, t(async () => {
          await runCase(env, kind, ep, '10,000 form fields (within max_body)', (req) => {
            const body = `${new URLSearchParams(req.fields)}&${manyParams(10000)}`;
            assert.ok(body.length <= MAX_BODY, `the body fits max_body: ${body.length}`);
            return { ...req, body };
          }, programRefuses());
        }));
        it(`${name}, 65 form fields (one over 64): 400 invalid_request`, t(async () => {
          await runCase(env, kind, ep, '65 form fields', (req) => {
            const extra = 65 - Object.keys(req.fields).length;
            return { ...req, body: `${new URLSearchParams(req.fields)}&${manyParams(extra)}` };
          }, programRefuses());
        }));
        it(`${name}, a repeated parameter: 400 invalid_request`, t(async () => {
          await runCase(env, kind, ep, 'a repeated parameter', (req) => {
            const k = ep.name === 'POST /authorize' ? 'step' : Object.keys(req.fields)[0];
            return { ...req, body: `${new URLSearchParams(req.fields)}&${encodeURIComponent(k)}=${encodeURIComponent(req.fields[k])}` };
          }, programRefuses());
        }));
        it(`${name}, a value over 8 KiB: 400 invalid_request`, t(async () => {
          await runCase(env, kind, ep, 'a parameter value of 9,000 B', (req) => {
            const k = Object.keys(req.fields).includes('token') ? 'token' : Object.keys(req.fields).includes('username') ? 'username' : 'scope';
            return { ...req, body: new URLSearchParams({ ...req.fields, [k]: 'v'.repeat(9000) }).toString() };
          }, programRefuses());
        }));
      }
      const authz = byName('GET /authorize');
      it('GET /authorize, 1,000 query parameters: 400 invalid_request page', t(async () => {
        await runCase(env, kind, authz, '1,000 query parameters (~6 KB)', (req) => ({ ...req, path: `${req.path}&${manyParams(1000)}` }), programRefuses());
      }));
      it('GET /authorize, 5,000 query parameters: refused (server or program)', t(async () => {
        await runCase(env, kind, authz, '5,000 query parameters (~30 KB)', (req) => ({ ...req, path: `${req.path}&${manyParams(5000)}` }), (r, ep, what) => {
          assert.ok(r.status >= 400, `${what}: refused: ${shown(r)}`);
          serverOrProgram(r, ep, what);
          if (!source(r).startsWith('web server')) programRefuses()(r, ep, what);
        });
      }));
      it('GET /authorize, a repeated client_id: 400 invalid_request page', t(async () => {
        await runCase(env, kind, authz, 'a repeated client_id', (req) => ({ ...req, path: `${req.path}&client_id=${env.pub.client_id}` }), programRefuses());
      }));
      it('GET /authorize, a repeated redirect_uri with another value: 400 invalid_request page', t(async () => {
        await runCase(env, kind, authz, 'a repeated redirect_uri (other value)', (req) => ({ ...req, path: `${req.path}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}` }), programRefuses());
      }));
      // Over MAX_STATE (1024) of authorize.c, within the servers' URL
      // limits: the RFC's error, on the page or sent back to the client.
      it('GET /authorize, a state of 2,000 B: invalid_request (page or redirect)', t(async () => {
        await runCase(env, kind, authz, 'a state of 2,000 B', (req) => ({ ...req, path: req.path.replace(/([?&]state=)[^&]*/, `$1${'s'.repeat(2000)}`) }), (r, ep, what) => {
          if (r.status === 303) {
            const loc = new URL(r.headers.location);
            assert.equal(`${loc.origin}${loc.pathname}`, LOOPBACK, `${what}: back to the client: ${r.headers.location}`);
            assert.equal(loc.searchParams.get('error'), 'invalid_request', `${what}: ${r.headers.location}`);
            assert.ok(loc.searchParams.get('error_description'), `${what}: a description: ${r.headers.location}`);
            return;
          }
          programRefuses()(r, ep, what);
        });
      }));
      it('POST /register, 5,000 unknown members: answered (201) or refused, never a 5xx', t(async () => {
        const members = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`m${i.toString(36)}`, 0]));
        await runCase(env, kind, byName('POST /register'), '5,000 unknown members',
          (req) => ({ ...req, body: JSON.stringify({ ...clientMeta('limits: many members'), ...members }) }),
          (r, ep, what) => assert.ok(r.status === 201 || r.status === 400, `${what}: 201 or 400: ${shown(r)}`), { mayWrite: true });
      }));
    });
  });
}

after(() => {
  const file = process.env.LIMITS_REPORT;
  if (!file) return;
  const lines = ['| server | endpoint | input | status | answer from | error | ms | rows | serving after | verdict |',
    '|---|---|---|---|---|---|---|---|---|---|'];
  for (const o of OBSERVED) {
    lines.push(`| ${o.server} | ${o.endpoint} | ${o.input} | ${o.status} | ${o.source} | ${o.code} | ${o.ms} | ${o.written} | ${o.serving} | ${o.verdict.replace(/\|/g, '\\|')} |`);
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
});

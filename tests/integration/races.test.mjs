// races.test.mjs: races and faults (issue 7), behind real lighttpd and
// Apache with mod_fcgid:
// - 20,000 dynamic client registrations from 16 keep-alive connections to
//   4 mcpauth-register processes: every 201 is one row (and one audit row),
//   no two clients share an id or a token, nothing else than 201 comes
//   back, and the database passes PRAGMA integrity_check;
// - FastCGI processes (register, authorize, token) killed with SIGKILL at
//   random moments while registrations, client_credentials grants, code
//   redemptions and refreshes run: afterwards the server recovers (lighttpd
//   runs as many processes again), the database is intact, every
//   acknowledged answer (a 201 or 200 that reached the client) is in it,
//   no code whose redemption was acknowledged can be redeemed again, and no
//   code ever produced two token families.
// Answers that did not reach the client whole (connection errors, 5xx from
// the server or the program) are "not acknowledged": nothing is asserted
// about them, except that a code behind one is redeemed at most once.
// Nothing here is timed; the counts of each kind of answer are printed as
// test diagnostics.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { eventually, instRows, startInstance, withLogs } from './lib/harness.mjs';
import { FormBrowser, addUser, authorizeUrl, lit, pkce, randomToken, sha256 } from './lib/flow.mjs';
import { addClient } from './lib/machine.mjs';

const USER = 'race';
const PASSWORD = 'correct horse battery staple 7';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rand = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));
const pick = (a) => a[Math.floor(Math.random() * a.length)];

// --- helpers ----------------------------------------------------------------

// One request over agent (node:http, so that the number of connections is
// the agent's): { status, headers, text, json } or, when no whole answer
// came, { status: 0, error }.
function request(agent, url, { method = 'GET', headers = {}, body } = {}) {
  const u = new URL(url);
  const h = { ...headers };
  if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const fail = (e) => resolve({ status: 0, error: e.code || e.message, ms: Date.now() - t0 });
    const req = http.request({
      agent, host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('error', fail);
      res.on('aborted', () => fail(new Error('aborted')));
      res.on('end', () => {
        if (!res.complete) return fail(new Error('incomplete'));
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        return resolve({ status: res.statusCode, headers: res.headers, text, json, ms: Date.now() - t0 });
      });
    });
    req.on('error', fail);
    req.setTimeout(60000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

// The label an answer is counted under: "201", "400 invalid_grant",
// "503 temporarily_unavailable", "502", "ECONNRESET", ...
const label = (r) => (r.status === 0 ? r.error : `${r.status}${r.json?.error ? ` ${r.json.error}` : ''}`);

// Counts answers by kind of request and label; keeps the slowest (for
// the diagnostics only: nothing is timed).
class Tally {
  constructor() { this.by = {}; this.slowest = {}; }
  add(what, r) {
    const m = (this.by[what] ??= {});
    const l = label(r);
    m[l] = (m[l] || 0) + 1;
    if (r.ms !== undefined) this.slowest[what] = Math.max(this.slowest[what] || 0, r.ms);
  }
  text() {
    return Object.entries(this.by).map(([k, m]) => `${k}: ${Object.entries(m)
      .sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} x${n}`).join(', ')}` +
      (this.slowest[k] !== undefined ? ` (slowest ${this.slowest[k]} ms)` : '')).join('; ');
  }
}

const registration = (port, i) => JSON.stringify({
  client_name: `race ${i}`,
  redirect_uris: [`http://127.0.0.1:${port}/cb`],
  token_endpoint_auth_method: 'none',
});

const form = (o) => new URLSearchParams(o).toString();
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const jwtClaims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
// SQL list of literals.
const inList = (a) => `(${a.map(lit).join(', ')})`;

// Rows of a query over many keys, a chunk at a time (SQLite's expression
// depth and the command line's length stay small).
function rowsFor(inst, keys, sql) {
  const out = [];
  for (let i = 0; i < keys.length; i += 500) out.push(...instRows(inst, sql(inList(keys.slice(i, i + 500)))));
  return out;
}

// Starts the instance for a describe and stops it after.
function serve(kind, opts) {
  const env = {};
  before(async () => { Object.assign(env, await startInstance(kind, opts)); });
  after(async () => {
    if (!env.server) return;
    await env.server.stop();
    env.inst.remove();
  });
  // On failure, the server's logs without the programs' info lines (one
  // per request: tens of thousands here).
  const logs = () => env.server && { logs: () => shortLogs(env.server) };
  return { env, t: (fn) => withLogs(logs, fn) };
}

function shortLogs(server) {
  const lines = server.logs().split('\n');
  const kept = lines.filter((l) => !/ level=info /.test(l));
  const tail = kept.slice(-300);
  return `${tail.join('\n')}\n(${lines.length - kept.length} info lines left out` +
    `${kept.length > tail.length ? `, and the first ${kept.length - tail.length} others` : ''})`;
}

// What the server logged besides the programs' info lines, each kind of
// line once with its count (numbers, pids, ids and times blotted out).
function logSummary(server) {
  const kinds = new Map();
  for (const l of server.logs().split('\n')) {
    if (!l || / level=info /.test(l) || l.startsWith('--- ')) continue;
    const k = l.replace(/^\[[^\]]*\] |^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: /, '')
      .replace(/(\/(?:authorize|token|register))\?\S*/g, '$1?...').replace(/(pid|req)[=:]\s*[0-9a-f]+/g, '$1=N')
      .replace(/\/tmp\/[^/\s]+-it-[^/\s]+\//g, '.../').replace(/\d+/g, 'N');
    kinds.set(k, (kinds.get(k) || 0) + 1);
  }
  return [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, n]) => `${n} x ${k}`);
}

// Waits until lighttpd runs n processes of each program (it starts them
// after it listens, and restarts dead ones).
async function procsRunning(server, procs, ms = 20000) {
  for (const [name, n] of Object.entries(procs)) {
    const ok = await eventually(() => server.programPids(name).length === n, ms);
    assert.ok(ok, `mcpauth-${name}: ${n} processes, not ${server.programPids(name).length}`);
  }
}

function assertIntact(inst) {
  assert.deepEqual(instRows(inst, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }], 'PRAGMA integrity_check');
  assert.deepEqual(instRows(inst, 'PRAGMA foreign_key_check'), [], 'PRAGMA foreign_key_check');
}

// --- 20,000 registrations -----------------------------------------------------

describe('lighttpd, 4 mcpauth-register processes: 20,000 registrations from 16 connections', () => {
  const N = 20000;
  const CONNECTIONS = 16;
  const { env, t } = serve('lighttpd', {
    procs: { register: 4 },
    extra: 'registration_rate_limit = 0\nmax_dynamic_clients = 0',
  });

  it('every 201 is one stored client with its own id and token; nothing but 201; the database is intact', t(async (tc) => {
    await procsRunning(env.server, { register: 4 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const url = `${env.issuer}/register`;
    const tally = new Tally();
    const issued = [];
    const odd = [];
    const sockets = new Set();
    agent.on('free', (s) => sockets.add(s));
    let next = 0;
    const started = Date.now();
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      while (next < N) {
        const i = next++;
        const r = await request(agent, url, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: registration(env.server.port, i),
        });
        tally.add('register', r);
        if (r.status === 201) issued.push(r.json);
        else if (odd.length < 5) odd.push(r.status ? `${r.status} ${r.text.slice(0, 300)}` : r.error);
      }
    }));
    const ms = Date.now() - started;
    agent.destroy();
    tc.diagnostic(`${N} registrations in ${ms} ms, ${CONNECTIONS} at a time (${sockets.size} connections opened in all): ${tally.text()}`);

    assert.deepEqual(tally.by.register, { 201: N }, `every answer is 201; first others: ${odd.join(' | ')}`);
    const ids = issued.map((c) => c.client_id);
    assert.equal(new Set(ids).size, ids.length, 'client_ids are unique');
    assert.equal(new Set(issued.map((c) => c.registration_access_token)).size, ids.length,
      'registration access tokens are unique');

    const [{ n }] = instRows(env.inst, "SELECT count(*) AS n FROM clients WHERE source = 'dynamic'");
    assert.equal(n, issued.length, 'as many dynamic clients stored as 201s');
    const stored = rowsFor(env.inst, ids, (l) => `SELECT client_id, registration_token_hash AS h FROM clients WHERE client_id IN ${l}`);
    const byId = new Map(stored.map((r) => [r.client_id, r.h]));
    const missing = issued.filter((c) => !byId.has(c.client_id)).map((c) => c.client_id);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged client_ids are not stored`);
    const wrong = issued.filter((c) => byId.get(c.client_id) !== sha256(c.registration_access_token));
    assert.equal(wrong.length, 0, 'each stored token hash is the hash of the token its 201 carried');
    const [audit] = instRows(env.inst,
      "SELECT count(*) AS n, count(DISTINCT client_id) AS d FROM audit_log WHERE event = 'register' AND outcome = 'ok' AND status = 201");
    assert.deepEqual(audit, { n: N, d: N }, 'one audit row per registration');
    assertIntact(env.inst);
  }));
});

// --- SIGKILL under load -------------------------------------------------------------

// Kills a random process of a random one of programs every 50-200 ms;
// stop(atLeast) ends it once atLeast processes are dead in all (or after a
// minute more) and gives the kills by program.
function killer(server, programs) {
  let running = true;
  let atLeast = 0;
  let total = 0;
  let deadline = Infinity;
  const kills = {};
  const done = (async () => {
    while (running || (total < atLeast && Date.now() < deadline)) {
      await sleep(rand(50, 200));
      const name = pick(programs);
      const pids = server.programPids(name);
      if (!pids.length) continue;
      try {
        process.kill(pick(pids), 'SIGKILL');
        kills[name] = (kills[name] || 0) + 1;
        total++;
      } catch { /* gone already */ }
    }
    return kills;
  })();
  return {
    stop: (n = 0) => {
      atLeast = n;
      deadline = Date.now() + 60000;
      running = false;
      return done;
    },
  };
}

// The load: registrations, client_credentials grants, authorization codes
// got from /authorize with a signed-in browser's cookies and redeemed at
// once, and refreshes of the refresh tokens that came back, until stop().
// Records what was acknowledged and what is unknown.
function load(env, agent, { browserCookie, client, machine, resource, tally }) {
  const rec = {
    clients: [], // acknowledged registrations (their 201 JSON)
    machineJtis: [], // acknowledged client_credentials access tokens
    codes: [], // { code, verifier, first: answer label, tokens? }
    refreshes: [], // acknowledged: { old, refresh, jti, family? }
    unexpected: [], // definite refusals that should not happen
  };
  const pool = []; // refresh tokens to rotate: the newest of each chain
  let running = true;
  const redirectUri = `http://127.0.0.1:${env.server.port}/cb`;
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(machine.client_id)}:${encodeURIComponent(machine.client_secret)}`).toString('base64')}`;
  const token = (params, headers = {}) => request(agent, `${env.issuer}/token`, {
    method: 'POST', headers: { ...FORM, ...headers }, body: form(params),
  });
  const worker = (fn) => (async () => { while (running) await fn(); })();

  let i = 0;
  const registerOne = async () => {
    const r = await request(agent, `${env.issuer}/register`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: registration(env.server.port, `k${i++}`),
    });
    tally.add('register', r);
    if (r.status === 201) rec.clients.push(r.json);
    else if (r.status >= 200 && r.status < 500) rec.unexpected.push(`register: ${r.status} ${r.text}`);
  };
  const credentialsOne = async () => {
    const r = await token({ grant_type: 'client_credentials', resource }, { Authorization: basic });
    tally.add('client_credentials', r);
    if (r.status === 200) rec.machineJtis.push(jwtClaims(r.json.access_token).jti);
    else if (r.status >= 200 && r.status < 500) rec.unexpected.push(`client_credentials: ${r.status} ${r.text}`);
  };
  const codeOne = async () => {
    const { verifier, challenge } = pkce();
    const a = await request(agent, authorizeUrl(env.issuer, {
      clientId: client.client_id, redirectUri, challenge, state: randomToken(8), resource, scope: 'mcp:tools',
    }), { headers: { Cookie: browserCookie } });
    tally.add('authorize', a);
    if (a.status !== 303) {
      if (a.status >= 200 && a.status < 500) rec.unexpected.push(`authorize: ${a.status} ${a.text.slice(0, 300)}`);
      return;
    }
    const code = new URL(a.headers.location).searchParams.get('code');
    if (!code) {
      rec.unexpected.push(`authorize: no code in ${a.headers.location}`);
      return;
    }
    const r = await token({
      grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: client.client_id,
    });
    tally.add('authorization_code', r);
    const c = { code, verifier, first: label(r) };
    if (r.status === 200) {
      c.tokens = r.json;
      pool.push({ refresh: r.json.refresh_token });
    } else if (r.status >= 200 && r.status < 500) {
      rec.unexpected.push(`authorization_code: ${r.status} ${r.text}`);
    }
    rec.codes.push(c);
  };
  const refreshOne = async () => {
    const item = pool.shift();
    if (!item) { await sleep(5); return; }
    const r = await token({ grant_type: 'refresh_token', refresh_token: item.refresh, client_id: client.client_id });
    tally.add('refresh_token', r);
    if (r.status === 200) {
      rec.refreshes.push({ old: item.refresh, refresh: r.json.refresh_token, jti: jwtClaims(r.json.access_token).jti });
      pool.push({ refresh: r.json.refresh_token });
    } else if (r.status >= 200 && r.status < 500) {
      rec.unexpected.push(`refresh_token: ${r.status} ${r.text}`);
    }
    // Not acknowledged: the rotation may have happened, so this chain ends
    // (sending the old token again would be reuse and revoke the family).
  };
  const workers = [
    ...Array.from({ length: 4 }, () => worker(registerOne)),
    ...Array.from({ length: 2 }, () => worker(credentialsOne)),
    ...Array.from({ length: 4 }, () => worker(codeOne)),
    ...Array.from({ length: 2 }, () => worker(refreshOne)),
  ];
  return { rec, stop: async () => { running = false; await Promise.all(workers); return rec; } };
}

// The test body of a kill run on env (lighttpd or Apache).
async function killRun(env, tc, { programs, expectProcs }) {
  const resource = env.resources[0].url;
  addUser(env.inst, USER, PASSWORD);
  const machine = addClient(env.inst, 'race-bot', ['--grant', 'client_credentials']);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const tally = new Tally();

  // Before any fault: a public client, signed in and consented once, so
  // that each further authorization is a 303 with a code.
  const reg = await request(agent, `${env.issuer}/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: registration(env.server.port, 'flow'),
  });
  assert.equal(reg.status, 201, reg.text);
  const client = reg.json;
  const browser = new FormBrowser();
  const { params } = await browser.authorize(authorizeUrl(env.issuer, {
    clientId: client.client_id, redirectUri: `http://127.0.0.1:${env.server.port}/cb`,
    challenge: pkce().challenge, state: 's', resource, scope: 'mcp:tools',
  }), { username: USER, password: PASSWORD });
  assert.ok(params.get('code'), 'signed in and consented');

  const started = Date.now();
  const l = load(env, agent, { browserCookie: browser.cookieHeader(), client, machine, resource, tally });
  await sleep(300); // the load runs before the first kill
  const k = killer(env.server, programs);
  await sleep(4000);
  const kills = await k.stop(KILLS);
  const rec = await l.stop();
  const ms = Date.now() - started;
  tc.diagnostic(`load ${ms} ms; SIGKILLs: ${JSON.stringify(kills)}`);
  tc.diagnostic(`under faults: ${tally.text()}`);
  const total = Object.values(kills).reduce((a, b) => a + b, 0);
  assert.ok(total >= KILLS, `${KILLS} processes were killed: ${JSON.stringify(kills)}`);

  // The server recovers: as many processes as configured again (lighttpd
  // restarts them), and each endpoint answers.
  if (expectProcs) await procsRunning(env.server, expectProcs);
  const recovery = new Tally();
  const recovered = async (what, fn, ok) => eventually(async () => {
    const r = await fn();
    recovery.add(what, r);
    return ok(r);
  }, 20000, 250);
  assert.ok(await recovered('register', () => request(agent, `${env.issuer}/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: registration(env.server.port, 'after'),
  }), (r) => r.status === 201), `registration works again: ${recovery.text()}`);
  assert.ok(await recovered('client_credentials', () => request(agent, `${env.issuer}/token`, {
    method: 'POST',
    headers: { ...FORM, Authorization: `Basic ${Buffer.from(`${machine.client_id}:${machine.client_secret}`).toString('base64')}` },
    body: form({ grant_type: 'client_credentials', resource }),
  }), (r) => r.status === 200), `the token endpoint works again: ${recovery.text()}`);
  assert.ok(await recovered('authorize', () => request(agent, authorizeUrl(env.issuer, {
    clientId: client.client_id, redirectUri: `http://127.0.0.1:${env.server.port}/cb`,
    challenge: pkce().challenge, state: 's', resource, scope: 'mcp:tools',
  }), { headers: { Cookie: browser.cookieHeader() } }), (r) => r.status === 303), `authorize works again: ${recovery.text()}`);
  if (Object.values(recovery.by).some((m) => Object.keys(m).length > 1)) {
    tc.diagnostic(`recovery: ${recovery.text()}`);
  }

  // Nothing definite went wrong under load (a 4xx answer where none is due).
  assert.deepEqual(rec.unexpected.slice(0, 10), [], `${rec.unexpected.length} unexpected refusals`);

  // The database is intact and holds every acknowledged write.
  const inst = env.inst;
  assertIntact(inst);
  const ids = rec.clients.map((c) => c.client_id);
  const stored = new Map(rowsFor(inst, ids, (l) => `SELECT client_id, registration_token_hash AS h FROM clients WHERE client_id IN ${l}`)
    .map((r) => [r.client_id, r.h]));
  assert.deepEqual(rec.clients.filter((c) => stored.get(c.client_id) !== sha256(c.registration_access_token))
    .map((c) => c.client_id).slice(0, 10), [], 'every acknowledged registration is stored, with its token');
  const jtis = new Set(rowsFor(inst, rec.machineJtis, (l) => `SELECT jti FROM access_tokens WHERE jti IN ${l} AND client_id = ${lit(machine.client_id)}`)
    .map((r) => r.jti));
  assert.deepEqual(rec.machineJtis.filter((j) => !jtis.has(j)).slice(0, 10), [], 'every acknowledged client_credentials token is recorded');

  const acked = rec.codes.filter((c) => c.tokens);
  const unknown = rec.codes.filter((c) => !c.tokens);
  const codeRows = new Map(rowsFor(inst, rec.codes.map((c) => sha256(c.code)),
    (l) => `SELECT code_hash, consumed_at, family_id FROM authorization_codes WHERE code_hash IN ${l}`).map((r) => [r.code_hash, r]));
  const accessRows = new Map(rowsFor(inst, [...acked.map((c) => jwtClaims(c.tokens.access_token).jti), ...rec.refreshes.map((r) => r.jti)],
    (l) => `SELECT jti, family_id FROM access_tokens WHERE jti IN ${l}`).map((r) => [r.jti, r]));
  const refreshRows = new Map(rowsFor(inst, [...acked.map((c) => sha256(c.tokens.refresh_token)), ...rec.refreshes.map((r) => sha256(r.refresh))],
    (l) => `SELECT token_hash, family_id, rotated_at FROM refresh_tokens WHERE token_hash IN ${l}`).map((r) => [r.token_hash, r]));
  const familyOf = new Map(); // refresh token -> family
  for (const c of acked) {
    const row = codeRows.get(sha256(c.code));
    assert.ok(row && row.consumed_at !== null && row.family_id, `an acknowledged redemption consumed its code: ${JSON.stringify(row)}`);
    const at = accessRows.get(jwtClaims(c.tokens.access_token).jti);
    const rt = refreshRows.get(sha256(c.tokens.refresh_token));
    assert.equal(at?.family_id, row.family_id, 'its access token is recorded in the code\'s family');
    assert.equal(rt?.family_id, row.family_id, 'its refresh token is stored in the code\'s family');
    familyOf.set(c.tokens.refresh_token, row.family_id);
  }
  for (const r of rec.refreshes) {
    const family = familyOf.get(r.old);
    const old = refreshRows.get(sha256(r.old));
    const cur = refreshRows.get(sha256(r.refresh));
    assert.ok(old && old.rotated_at !== null, 'an acknowledged refresh rotated the old token');
    assert.equal(cur?.family_id, family, 'the new refresh token is stored in the family');
    assert.equal(accessRows.get(r.jti)?.family_id, family, 'the new access token is recorded in the family');
    familyOf.set(r.refresh, family);
  }

  // Every code once more, without faults. An acknowledged one must fail
  // with invalid_grant (and revoke its family); an unknown one may work
  // (its first redemption never committed) or fail as used, never both.
  const redirectUri = `http://127.0.0.1:${env.server.port}/cb`;
  const replay = new Tally();
  const second = [];
  for (const c of rec.codes) {
    const r = await request(agent, `${env.issuer}/token`, {
      method: 'POST', headers: FORM,
      body: form({ grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: redirectUri, client_id: client.client_id }),
    });
    replay.add(c.tokens ? 'acknowledged code again' : 'unacknowledged code again', r);
    second.push([c, r]);
  }
  tc.diagnostic(`codes: ${acked.length} acknowledged, ${unknown.length} not; replays: ${replay.text()}`);
  const after2 = new Map(rowsFor(inst, rec.codes.map((c) => sha256(c.code)),
    (l) => `SELECT code_hash, consumed_at, family_id FROM authorization_codes WHERE code_hash IN ${l}`).map((r) => [r.code_hash, r]));
  const lateJtis = second.filter(([, r]) => r.status === 200).map(([, r]) => jwtClaims(r.json.access_token).jti);
  const lateRows = new Map(rowsFor(inst, lateJtis, (l) => `SELECT jti, family_id FROM access_tokens WHERE jti IN ${l}`)
    .map((r) => [r.jti, r.family_id]));
  const revokedFamilies = []; // families a replay must have revoked
  for (const [c, r] of second) {
    const row = after2.get(sha256(c.code));
    if (c.tokens) {
      assert.equal(r.status, 400, `an acknowledged code cannot be redeemed again: ${r.status} ${r.text}`);
      assert.equal(r.json?.error, 'invalid_grant', r.text);
      revokedFamilies.push(row.family_id);
    } else {
      assert.ok(r.status === 200 || (r.status === 400 && r.json?.error === 'invalid_grant'),
        `an unacknowledged code: a token or invalid_grant: ${r.status} ${r.text}`);
      assert.ok(row && row.consumed_at !== null && row.family_id, `the code is consumed now: ${JSON.stringify(row)}`);
      if (r.status === 200) {
        assert.equal(lateRows.get(jwtClaims(r.json.access_token).jti), row.family_id,
          'the late redemption\'s tokens are the code\'s one family');
      } else {
        assert.match(r.json.error_description, /already used/, 'refused as used, not as unknown or expired');
        revokedFamilies.push(row.family_id);
      }
    }
  }
  const live = rowsFor(inst, revokedFamilies, (l) => `SELECT family_id, count(*) AS n FROM (
      SELECT family_id FROM refresh_tokens WHERE family_id IN ${l} AND revoked_at IS NULL
      UNION ALL SELECT family_id FROM access_tokens WHERE family_id IN ${l} AND revoked_at IS NULL)
    GROUP BY family_id`);
  assert.deepEqual(live, [], 'each replay revoked the code\'s family');
  // No code produced two families: every family of user tokens is the
  // family of exactly one code.
  const orphans = instRows(inst, `SELECT DISTINCT family_id FROM (
      SELECT family_id FROM access_tokens WHERE family_id IS NOT NULL
      UNION ALL SELECT family_id FROM refresh_tokens)
    WHERE family_id NOT IN (SELECT family_id FROM authorization_codes WHERE family_id IS NOT NULL)`);
  assert.deepEqual(orphans, [], 'no token family without its code');
  const shared = instRows(inst, `SELECT family_id, count(*) AS n FROM authorization_codes
    WHERE family_id IS NOT NULL GROUP BY family_id HAVING n > 1`);
  assert.deepEqual(shared, [], 'no two codes share a family');
  assertIntact(inst);
  agent.destroy();
  for (const l of logSummary(env.server)) tc.diagnostic(`log: ${l}`);
  return { tally, kills, rec };
}

// SIGKILLs per run, at least (over 4 s or more).
const KILLS = 20;
const KILL_CONF = 'registration_rate_limit = 0\nmax_dynamic_clients = 0\nclient_credentials = yes';

describe('lighttpd: FastCGI processes killed with SIGKILL under load', () => {
  const procs = { register: 4, token: 4, authorize: 2 };
  const { env, t } = serve('lighttpd', { procs, extra: KILL_CONF });

  it('recovers; the database is intact and holds every acknowledged registration and grant; no code is redeemed twice', t(async (tc) => {
    await procsRunning(env.server, procs);
    await killRun(env, tc, { programs: ['register', 'token', 'authorize'], expectProcs: procs });
  }));
});

describe('apache (mod_fcgid), issuer path /t1: FastCGI processes killed with SIGKILL under load', () => {
  const { env, t } = serve('apache', { issuerPath: '/t1', extra: KILL_CONF });

  it('recovers; the database is intact and holds every acknowledged registration and grant; no code is redeemed twice', t(async (tc) => {
    await killRun(env, tc, { programs: ['register', 'token', 'authorize'] });
  }));
});

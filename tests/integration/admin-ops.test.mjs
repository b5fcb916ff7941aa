// admin-ops.test.mjs: mcpauth-admin consent list, token revoke, audit and
// stats (the commands that spare a sysadmin writing SQL), the lines
// check-config adds for the token endpoints, and the read-only views of
// migration 0006. Rows are inserted with sqlite3 or made by mcpauth-admin.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { Instance, sqlite3, sqliteJson, instExec, instRows } from './lib/harness.mjs';

const ISSUER = 'http://127.0.0.1:8993';
const MCP = `${ISSUER}/mcp`;
const RESOURCES = [{ url: MCP, name: 'Ops test', scopes: ['mcp:tools', 'mcp:read'] }];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

const lit = (s) => (s === null || s === undefined ? 'NULL' : `'${String(s).replace(/'/g, "''")}'`);

const rows = instRows;
const exec = instExec;

function json(inst, args) {
  const r = inst.admin([...args, '--json']);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout);
}

function addUser(inst, name) {
  inst.admin(['user', 'add', name], { check: true, input: `pw-${crypto.randomBytes(6).toString('hex')}\n` });
}

function addClient(inst, id, { source = 'operator', name = id, disabled = false } = {}) {
  exec(inst, `INSERT INTO clients (client_id, source, client_name, token_endpoint_auth_method,
    application_type, redirect_uris, grant_types, scope, metadata, created_at, updated_at, disabled_at)
    VALUES (${lit(id)}, ${lit(source)}, ${lit(name)}, 'none', 'native',
    '["http://127.0.0.1:7777/cb"]', 'authorization_code refresh_token', 'mcp:tools', '{}',
    unixepoch(), unixepoch(), ${disabled ? 'unixepoch()' : 'NULL'})`);
}

const userId = (name) => `(SELECT id FROM users WHERE username = ${lit(name)})`;

function addConsent(inst, name, clientId, { resource = MCP, scope = 'mcp:tools', ago = 0 } = {}) {
  exec(inst, `INSERT INTO consents (user_id, client_id, resource, scope, granted_at)
    VALUES (${userId(name)}, ${lit(clientId)}, ${lit(resource)}, ${lit(scope)}, unixepoch() - ${ago})`);
}

// A refresh token of family for user (null: none) and client.
function addRefresh(inst, { hash, family, client, user, expiresIn = 86400, revokedAgo = null, rotated = false }) {
  exec(inst, `INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, resource, scope,
    auth_time, created_at, expires_at, rotated_at, revoked_at) VALUES (${lit(hash)}, ${lit(family)},
    ${lit(client)}, ${userId(user)}, ${lit(MCP)}, 'mcp:tools', unixepoch(), unixepoch(),
    unixepoch() + ${expiresIn}, ${rotated ? 'unixepoch()' : 'NULL'},
    ${revokedAgo === null ? 'NULL' : `unixepoch() - ${revokedAgo}`})`);
}

function addAccess(inst, { jti, family = null, client, user = null, issuedAgo = 0, expiresIn = 3600, revokedAgo = null }) {
  exec(inst, `INSERT INTO access_tokens (jti, family_id, client_id, user_id, resource, scope, issued_at,
    expires_at, revoked_at) VALUES (${lit(jti)}, ${lit(family)}, ${lit(client)},
    ${user === null ? 'NULL' : userId(user)}, ${lit(MCP)}, 'mcp:tools', unixepoch() - ${issuedAgo},
    unixepoch() - ${issuedAgo} + ${expiresIn}, ${revokedAgo === null ? 'NULL' : `unixepoch() - ${revokedAgo}`})`);
}

function addAudit(inst, { ago = 0, event, outcome = 'ok', actor = 'client', client = null, address = null,
  username = null, name = null, error = null, detail = null, status = null }) {
  exec(inst, `INSERT INTO audit_log (at, event, outcome, actor, client_id, address, username, client_name,
    error, detail, status) VALUES (unixepoch() - ${ago}, ${lit(event)}, ${lit(outcome)}, ${lit(actor)},
    ${lit(client)}, ${lit(address)}, ${lit(username)}, ${lit(name)}, ${lit(error)}, ${lit(detail)},
    ${status === null ? 'NULL' : status})`);
}

const revoked = (inst, table, key) => Object.fromEntries(
  rows(inst, `SELECT ${key} AS k, revoked_at AS r FROM ${table}`).map((x) => [x.k, x.r]),
);

describe('mcpauth-admin consent list', () => {
  let inst;
  before(() => {
    inst = new Instance({ issuer: ISSUER, resources: RESOURCES, name: 'ops-consent' });
    addUser(inst, 'alice');
    addUser(inst, 'bob');
    addClient(inst, 'c1', { name: 'Client One' });
    addClient(inst, 'c2', { name: null });
  });
  after(() => inst?.remove());

  it('lists nothing when there is no consent', () => {
    assert.deepEqual(json(inst, ['consent', 'list']), []);
    const r = inst.admin(['consent', 'list'], { check: true });
    assert.match(r.stdout, /^USER\s+CLIENT_ID\s+GRANTED\s+RESOURCE\s+SCOPE\s+CLIENT NAME\n$/);
  });

  it('lists every consent, newest first, with the fields', () => {
    addConsent(inst, 'alice', 'c1', { ago: 300, scope: 'mcp:tools mcp:read' });
    addConsent(inst, 'alice', 'c2', { ago: 100 });
    addConsent(inst, 'bob', 'c1', { ago: 200 });
    const list = json(inst, ['consent', 'list']);
    assert.equal(list.length, 3);
    assert.deepEqual(list.map((c) => `${c.username}/${c.client_id}`), ['alice/c2', 'bob/c1', 'alice/c1']);
    for (const c of list) {
      assert.deepEqual(Object.keys(c).sort(),
        ['client_id', 'client_name', 'granted_at', 'resource', 'scope', 'username']);
      assert.match(c.granted_at, ISO);
      assert.equal(c.resource, MCP);
    }
    assert.equal(list[0].client_name, null, 'a client without a name');
    assert.equal(list[2].client_name, 'Client One');
    assert.equal(list[2].scope, 'mcp:tools mcp:read');

    const text = inst.admin(['consent', 'list'], { check: true }).stdout.trim().split('\n');
    assert.equal(text.length, 4);
    assert.match(text[1], /^alice\s+c2\s+\S+Z\s+http:\/\/127\.0\.0\.1:8993\/mcp\s+mcp:tools\s+-$/);
    assert.match(text[3], /^alice\s+c1\s+\S+Z\s+\S+\s+mcp:tools mcp:read\s+Client One$/);
  });

  it('lists one user\'s consents', () => {
    assert.deepEqual(json(inst, ['consent', 'list', 'alice']).map((c) => c.client_id), ['c2', 'c1']);
    assert.deepEqual(json(inst, ['consent', 'list', 'bob']).map((c) => c.client_id), ['c1']);
    inst.admin(['consent', 'revoke', 'bob'], { check: true });
    assert.deepEqual(json(inst, ['consent', 'list', 'bob']), []);
  });

  it('refuses an unknown user with exit 1, usage errors with 2', () => {
    const r = inst.admin(['consent', 'list', 'nobody']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no user 'nobody'/);
    assert.equal(inst.admin(['consent', 'list', 'alice', 'bob']).status, 2, 'two users');
    assert.equal(inst.admin(['consent', 'list', '--limit', '3']).status, 2, '--limit is for audit');
  });
});

describe('mcpauth-admin token revoke', () => {
  let inst;
  before(() => {
    inst = new Instance({ issuer: ISSUER, resources: RESOURCES, name: 'ops-revoke' });
    addUser(inst, 'alice');
    addUser(inst, 'bob');
    addClient(inst, 'c1');
    addClient(inst, 'c2');
    addClient(inst, 'c3');
    // F1: alice at c1, a rotated and a current member, two access tokens.
    addRefresh(inst, { hash: 'r1a', family: 'F1', client: 'c1', user: 'alice', rotated: true });
    addRefresh(inst, { hash: 'r1b', family: 'F1', client: 'c1', user: 'alice' });
    addAccess(inst, { jti: 'a1a', family: 'F1', client: 'c1', user: 'alice' });
    addAccess(inst, { jti: 'a1b', family: 'F1', client: 'c1', user: 'alice' });
    // F2: alice at c2.
    addRefresh(inst, { hash: 'r2', family: 'F2', client: 'c2', user: 'alice' });
    addAccess(inst, { jti: 'a2', family: 'F2', client: 'c2', user: 'alice' });
    // F3: bob at c1, one member revoked an hour ago already.
    addRefresh(inst, { hash: 'r3a', family: 'F3', client: 'c1', user: 'bob', revokedAgo: 3600, rotated: true });
    addRefresh(inst, { hash: 'r3b', family: 'F3', client: 'c1', user: 'bob' });
    addAccess(inst, { jti: 'a3', family: 'F3', client: 'c1', user: 'bob' });
    // A machine client's token (no user, no family) at c2, one at c3.
    addAccess(inst, { jti: 'm2', client: 'c2' });
    addAccess(inst, { jti: 'm3', client: 'c3' });
  });
  after(() => inst?.remove());

  const revokedSet = (table, key) => Object.entries(revoked(inst, table, key))
    .filter(([, r]) => r !== null).map(([k]) => k).sort();

  it('revokes a family: exactly its refresh and access tokens', () => {
    const r = inst.admin(['token', 'revoke', '--family', 'F1']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'family F1: 2 refresh tokens and 2 access tokens revoked\n');
    assert.deepEqual(revokedSet('refresh_tokens', 'token_hash'), ['r1a', 'r1b', 'r3a']);
    assert.deepEqual(revokedSet('access_tokens', 'jti'), ['a1a', 'a1b']);
    const a = rows(inst, "SELECT * FROM audit_log WHERE event = 'revoke' ORDER BY id");
    assert.equal(a.length, 1);
    assert.equal(a[0].actor, 'admin');
    assert.equal(a[0].outcome, 'ok');
    assert.equal(a[0].client_id, 'c1');
    assert.equal(a[0].username, 'alice');
    assert.match(a[0].detail, /F1.*2 refresh and 2 access tokens revoked/);
  });

  it('revokes a user\'s tokens and keeps earlier revocation times', () => {
    const before3a = revoked(inst, 'refresh_tokens', 'token_hash').r3a;
    const r = inst.admin(['token', 'revoke', '--user', 'bob']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'user bob: 1 refresh token and 1 access token revoked\n');
    assert.deepEqual(revokedSet('refresh_tokens', 'token_hash'), ['r1a', 'r1b', 'r3a', 'r3b']);
    assert.deepEqual(revokedSet('access_tokens', 'jti'), ['a1a', 'a1b', 'a3']);
    assert.equal(revoked(inst, 'refresh_tokens', 'token_hash').r3a, before3a, 'r3a keeps its time');
    const a = rows(inst, "SELECT * FROM audit_log WHERE event = 'revoke' ORDER BY id DESC LIMIT 1")[0];
    assert.equal(a.username, 'bob');
    assert.equal(a.client_id, null);
  });

  it('revokes a client\'s tokens, machine tokens included', () => {
    const r = inst.admin(['token', 'revoke', '--client', 'c2']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'client c2: 1 refresh token and 2 access tokens revoked\n');
    assert.deepEqual(revokedSet('refresh_tokens', 'token_hash'), ['r1a', 'r1b', 'r2', 'r3a', 'r3b']);
    assert.deepEqual(revokedSet('access_tokens', 'jti'), ['a1a', 'a1b', 'a2', 'a3', 'm2']);
    assert.equal(revoked(inst, 'access_tokens', 'jti').m3, null, 'c3 untouched');
    const again = inst.admin(['token', 'revoke', '--client', 'c2'], { check: true });
    assert.equal(again.stdout, 'client c2: 0 refresh tokens and 0 access tokens revoked\n');
    const a = rows(inst, "SELECT client_id, detail FROM audit_log WHERE event = 'revoke' ORDER BY id");
    assert.equal(a.length, 4);
    assert.equal(a[2].client_id, 'c2');
    assert.match(a[3].detail, /0 refresh and 0 access tokens revoked/);
  });

  it('refuses an unknown client, user or family with exit 1', () => {
    for (const [opt, v, msg] of [['--client', 'nope', /no client 'nope'/],
      ['--user', 'nobody', /no user 'nobody'/], ['--family', 'F9', /no token of family 'F9'/]]) {
      const r = inst.admin(['token', 'revoke', opt, v]);
      assert.equal(r.status, 1, `${opt} ${v}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
    assert.equal(revoked(inst, 'access_tokens', 'jti').m3, null);
  });

  it('exits 2 without exactly one selector', () => {
    const none = inst.admin(['token', 'revoke']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /usage: token revoke --client CLIENT_ID \| --user NAME \| --family FAMILY_ID/);
    assert.equal(inst.admin(['token', 'revoke', '--client', 'c3', '--user', 'alice']).status, 2);
    assert.equal(inst.admin(['token', 'revoke', '--client', 'c3', '--family', 'F1']).status, 2);
    assert.equal(inst.admin(['token', 'revoke', '--client', 'c3', 'extra']).status, 2, 'an argument');
    assert.equal(inst.admin(['token']).status, 2, 'token without subcommand');
    assert.equal(inst.admin(['token', 'list']).status, 2, 'unknown subcommand');
    assert.equal(inst.admin(['token', 'revoke', '--event', 'x', '--client', 'c3']).status, 2, '--event is for audit');
    assert.equal(revoked(inst, 'access_tokens', 'jti').m3, null, 'nothing revoked');
  });
});

describe('mcpauth-admin audit', () => {
  let inst;
  let secret;
  before(() => {
    inst = new Instance({
      issuer: ISSUER, resources: RESOURCES, name: 'ops-audit', extra: 'client_credentials = yes',
    });
    addClient(inst, 'c1');
    addAudit(inst, { ago: 10 * 86400, event: 'register', client: 'c-old', address: '192.0.2.1', status: 201 });
    addAudit(inst, { ago: 3 * 86400, event: 'login', outcome: 'refused', actor: 'user', client: 'c1',
      address: '192.0.2.7', username: 'mallory', error: 'access_denied', detail: 'wrong username or password', status: 200 });
    addAudit(inst, { ago: 2 * 86400, event: 'register', outcome: 'refused', address: '192.0.2.7',
      name: 'Bad "App"', error: 'invalid_redirect_uri', detail: 'not https', status: 400 });
    addAudit(inst, { ago: 3600, event: 'login', actor: 'user', client: 'c1', address: '192.0.2.8',
      username: 'alice', status: 303 });
    // Made by mcpauth-admin: a register row (actor admin) whose secret it never holds.
    const r = inst.admin(['client', 'add', 'ci-bot', '--grant', 'client_credentials', '--json'], { check: true });
    secret = JSON.parse(r.stdout).client_secret;
  });
  after(() => inst?.remove());

  it('shows the last 7 days, newest first, with every field', () => {
    const list = json(inst, ['audit']);
    assert.deepEqual(list.map((a) => `${a.event}/${a.actor}`),
      ['register/admin', 'login/user', 'register/client', 'login/user']);
    for (const a of list) {
      assert.deepEqual(Object.keys(a).sort(), ['actor', 'address', 'at', 'client_id', 'client_name',
        'detail', 'error', 'event', 'id', 'outcome', 'status', 'username']);
      assert.match(a.at, ISO);
      assert.equal(typeof a.id, 'number');
    }
    assert.equal(list[0].client_name, 'ci-bot');
    assert.equal(list[0].status, null);
    assert.equal(list[1].username, 'alice');
    assert.equal(list[1].status, 303);
    assert.equal(list[2].error, 'invalid_redirect_uri');
    assert.equal(list[2].client_name, 'Bad "App"');
    assert.equal(list[3].username, 'mallory');
    assert.equal(list[3].outcome, 'refused');
    const out = inst.admin(['audit', '--since', '0', '--json'], { check: true }).stdout +
      inst.admin(['audit', '--since', '0'], { check: true }).stdout;
    assert.ok(!out.includes(secret), 'never the secret');
    for (const h of rows(inst, 'SELECT secret_hash AS h FROM clients WHERE secret_hash IS NOT NULL')) {
      assert.ok(!out.includes(h.h), 'never a hash');
    }
  });

  it('prints a table', () => {
    const lines = inst.admin(['audit'], { check: true }).stdout.trim().split('\n');
    assert.match(lines[0], /^AT\s+EVENT\s+OUTCOME\s+ACTOR\s+CLIENT_ID\s+ADDRESS\s+USERNAME\s+CLIENT NAME \/ ERROR \/ DETAIL$/);
    assert.equal(lines.length, 5);
    assert.match(lines[3], /^\S+Z\s+register\s+refused\s+client\s+-\s+192\.0\.2\.7\s+-\s+"Bad 'App'" invalid_redirect_uri: not https$/);
    assert.match(lines[4], /^\S+Z\s+login\s+refused\s+user\s+c1\s+192\.0\.2\.7\s+mallory\s+access_denied: wrong username or password$/);
  });

  it('filters by --since, --event, --client, --address and --limit', () => {
    const ev = (args) => json(inst, ['audit', ...args]).map((a) => `${a.event}/${a.address ?? '-'}`);
    assert.equal(json(inst, ['audit', '--since', '30d']).length, 5);
    assert.equal(json(inst, ['audit', '--since', '0']).length, 5, '0: every row');
    assert.deepEqual(ev(['--since', '1d']), ['register/-', 'login/192.0.2.8']);
    assert.deepEqual(ev(['--since', '2h']), ['register/-', 'login/192.0.2.8']);
    assert.deepEqual(ev(['--since', '30m']), ['register/-']);
    assert.deepEqual(ev(['--event', 'login']), ['login/192.0.2.8', 'login/192.0.2.7']);
    assert.deepEqual(ev(['--event', 'register', '--since', '0']),
      ['register/-', 'register/192.0.2.7', 'register/192.0.2.1']);
    assert.deepEqual(ev(['--client', 'c1']), ['login/192.0.2.8', 'login/192.0.2.7']);
    assert.deepEqual(ev(['--address', '192.0.2.7']), ['register/192.0.2.7', 'login/192.0.2.7']);
    assert.deepEqual(ev(['--address', '192.0.2.7', '--event', 'login']), ['login/192.0.2.7']);
    assert.deepEqual(ev(['--limit', '2']), ['register/-', 'login/192.0.2.8']);
    assert.deepEqual(ev(['--limit', '1', '--event', 'login']), ['login/192.0.2.8']);
    assert.deepEqual(ev(['--event', "x' OR '1'='1"]), [], 'a value, not SQL');
    assert.deepEqual(ev(['--client', 'nobody']), []);
  });

  it('defaults to 50 rows', () => {
    const values = Array.from({ length: 60 }, (_, i) =>
      `(unixepoch() - ${100 + i}, 'read', 'refused', 'client', 'bulk', '198.51.100.1')`).join(', ');
    exec(inst, `INSERT INTO audit_log (at, event, outcome, actor, client_id, address) VALUES ${values}`);
    assert.equal(json(inst, ['audit']).length, 50);
    assert.equal(json(inst, ['audit', '--limit', '100']).length, 64);
    assert.equal(json(inst, ['audit', '--client', 'bulk', '--limit', '100']).length, 60);
  });

  it('exits 2 on usage errors', () => {
    for (const args of [['--since', 'forever'], ['--since', '-1'], ['--since', '3651d'], ['--limit', '0'],
      ['--limit', 'x'], ['--limit', '100001'], ['--limit', '-5'], ['extra'], ['--user', 'alice'],
      ['--family', 'F1'], ['--since']]) {
      const r = inst.admin(['audit', ...args]);
      assert.equal(r.status, 2, `audit ${args.join(' ')}: ${r.stderr}`);
    }
  });
});

describe('mcpauth-admin stats', () => {
  let inst;
  const DAY = 86400;
  const expectedDays = new Map();
  let now;

  before(() => {
    inst = new Instance({ issuer: ISSUER, resources: RESOURCES, name: 'ops-stats' });
    addUser(inst, 'alice');
    addUser(inst, 'bob');
    addUser(inst, 'carol');
    inst.admin(['user', 'disable', 'carol'], { check: true });
    addClient(inst, 'd1', { source: 'dynamic' });
    addClient(inst, 'd2', { source: 'dynamic', disabled: true });
    addClient(inst, 'o1');
    addClient(inst, 'm1', { source: 'metadata_document' });
    // Grants: G1 active (2 members), G2 revoked, G3 expired, G4 active.
    addRefresh(inst, { hash: 'g1a', family: 'G1', client: 'd1', user: 'alice', rotated: true });
    addRefresh(inst, { hash: 'g1b', family: 'G1', client: 'd1', user: 'alice' });
    addRefresh(inst, { hash: 'g2', family: 'G2', client: 'd1', user: 'bob', revokedAgo: 10 });
    addRefresh(inst, { hash: 'g3', family: 'G3', client: 'o1', user: 'bob', expiresIn: -10 });
    addRefresh(inst, { hash: 'g4', family: 'G4', client: 'o1', user: 'alice' });
    addConsent(inst, 'alice', 'd1');
    addConsent(inst, 'bob', 'd1');
    addConsent(inst, 'alice', 'o1');
    // Access tokens: ages in seconds; valid = unrevoked and unexpired.
    const tokens = [
      { jti: 't1', issuedAgo: 60 },
      { jti: 't2', issuedAgo: 120, revokedAgo: 5 },
      { jti: 't3', issuedAgo: 7200, expiresIn: 3600 },
      { jti: 't4', issuedAgo: 2 * DAY + 60, expiresIn: 3600 },
      { jti: 't5', issuedAgo: 2 * DAY + 120, expiresIn: 3 * DAY },
      { jti: 't6', issuedAgo: 10 * DAY, expiresIn: 3600 },
    ];
    now = Math.floor(Date.now() / 1000);
    const first = (Math.floor(now / DAY) - 6) * DAY;
    for (let d = 0; d < 7; d++) expectedDays.set(new Date((first + d * DAY) * 1000).toISOString().slice(0, 10), 0);
    for (const t of tokens) {
      addAccess(inst, { client: 'o1', ...t });
      const day = new Date((now - t.issuedAgo) * 1000).toISOString().slice(0, 10);
      if (expectedDays.has(day)) expectedDays.set(day, expectedDays.get(day) + 1);
    }
    // Audit: 3 failed sign-ins today, 1 two days ago, 1 success; 2
    // registrations and 1 refusal over HTTP today, 1 two days ago, 1 by admin.
    for (let i = 0; i < 3; i++) addAudit(inst, { ago: 60 * (i + 1), event: 'login', outcome: 'refused', actor: 'user', username: 'x' });
    addAudit(inst, { ago: 2 * DAY, event: 'login', outcome: 'refused', actor: 'user', username: 'x' });
    addAudit(inst, { ago: 30, event: 'login', actor: 'user', username: 'alice' });
    addAudit(inst, { ago: 100, event: 'register', client: 'd1' });
    addAudit(inst, { ago: 200, event: 'register', client: 'd2' });
    addAudit(inst, { ago: 300, event: 'register', outcome: 'refused', error: 'invalid_client_metadata' });
    addAudit(inst, { ago: 2 * DAY, event: 'register', client: 'dx' });
    addAudit(inst, { ago: 10, event: 'register', actor: 'admin', client: 'o1' });
  });
  after(() => inst?.remove());

  it('counts what was inserted (--json)', () => {
    const s = json(inst, ['stats']);
    assert.deepEqual(s.clients, { total: 4, dynamic: 2, operator: 1, metadata_document: 1, disabled: 1 });
    assert.deepEqual(s.users, { enabled: 2, disabled: 1 });
    assert.equal(s.active_grants, 2, 'G1 and G4');
    assert.equal(s.active_consents, 3);
    assert.equal(s.access_tokens_valid, 2, 't1 and t5');
    assert.equal(s.failed_signins_24h, 3);
    assert.equal(s.registrations_24h, 2);
    assert.equal(s.registrations_refused_24h, 1);
    assert.equal(s.access_tokens_per_day.length, 7);
    assert.deepEqual(Object.fromEntries(s.access_tokens_per_day.map((d) => [d.date, d.issued])),
      Object.fromEntries(expectedDays));
    assert.equal(s.access_tokens_per_day[6].date, new Date().toISOString().slice(0, 10), 'the last is today');
  });

  it('prints the same as text, saying the counts are of rows still recorded', () => {
    const out = inst.admin(['stats'], { check: true }).stdout;
    assert.match(out, /^clients:\s+4 \(dynamic 2, operator 1, metadata_document 1\), 1 disabled$/m);
    assert.match(out, /^users:\s+2 enabled, 1 disabled$/m);
    assert.match(out, /^active grants:\s+2 /m);
    assert.match(out, /^active consents:\s+3$/m);
    assert.match(out, /^access tokens:\s+2 valid now/m);
    assert.match(out, /^failed sign-ins:\s+3 in the last 24 h$/m);
    assert.match(out, /^registrations:\s+2 in the last 24 h \(1 refused\)$/m);
    assert.match(out, /issued, still recorded/);
    for (const [day, n] of expectedDays) assert.match(out, new RegExp(`^  ${day}  ${n}$`, 'm'));
  });

  it('agrees with stats_view', () => {
    const v = rows(inst, 'SELECT * FROM stats_view')[0];
    const s = json(inst, ['stats']);
    assert.equal(v.clients_dynamic, s.clients.dynamic);
    assert.equal(v.clients_operator, s.clients.operator);
    assert.equal(v.clients_disabled, s.clients.disabled);
    assert.equal(v.users_enabled, s.users.enabled);
    assert.equal(v.users_disabled, s.users.disabled);
    assert.equal(v.active_grants, s.active_grants);
    assert.equal(v.consents, s.active_consents);
    assert.equal(v.access_tokens_valid, s.access_tokens_valid);
    assert.equal(v.failed_signins_24h, s.failed_signins_24h);
    assert.equal(v.registrations_24h, s.registrations_24h);
  });

  it('exits 2 on usage errors', () => {
    assert.equal(inst.admin(['stats', 'extra']).status, 2);
    assert.equal(inst.admin(['stats', '--limit', '5']).status, 2);
    assert.equal(inst.admin(['stats', '--client', 'd1']).status, 2);
  });
});

describe('views of migration 0006 and check-config', () => {
  let inst;
  before(() => {
    inst = new Instance({ issuer: ISSUER, resources: RESOURCES, name: 'ops-views' });
    addUser(inst, 'alice');
    addClient(inst, 'c1', { name: 'Viewer' });
    addRefresh(inst, { hash: 'h1', family: 'V1', client: 'c1', user: 'alice' });
    addAccess(inst, { jti: 'j1', family: 'V1', client: 'c1', user: 'alice' });
    addAccess(inst, { jti: 'j2', client: 'c1' });
    addAudit(inst, { event: 'login', actor: 'user', username: 'alice', status: 303, address: '192.0.2.9' });
  });
  after(() => inst?.remove());

  it('has audit_view with username and status, access_tokens_view, grants_view', () => {
    const a = rows(inst, 'SELECT * FROM audit_view')[0];
    assert.equal(a.username, 'alice');
    assert.equal(a.status, 303);
    assert.match(a.at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const t = rows(inst, 'SELECT * FROM access_tokens_view ORDER BY jti');
    assert.deepEqual(t.map((x) => [x.jti, x.username, x.client_name, x.revoked]),
      [['j1', 'alice', 'Viewer', null], ['j2', null, 'Viewer', null]]);
    const g = rows(inst, 'SELECT * FROM grants_view');
    assert.equal(g.length, 1);
    assert.equal(g[0].family_id, 'V1');
    assert.equal(g[0].username, 'alice');
    assert.equal(g[0].active, 1);
    inst.admin(['token', 'revoke', '--family', 'V1'], { check: true });
    assert.equal(rows(inst, 'SELECT active FROM grants_view')[0].active, 0);
    for (const v of ['audit_view', 'access_tokens_view', 'grants_view']) {
      const cols = rows(inst, `SELECT name FROM pragma_table_info(${lit(v)})`).map((c) => c.name);
      assert.ok(!cols.some((c) => c.endsWith('_hash')), `${v} shows no hash: ${cols}`);
    }
  });

  it('check-config prints the token endpoints and the machine-client switches', () => {
    const off = inst.admin(['check-config'], { check: true }).stdout;
    assert.match(off, new RegExp(`^token:\\s+${ISSUER}/token$`, 'm'));
    assert.match(off, new RegExp(`^revocation:\\s+${ISSUER}/revoke$`, 'm'));
    assert.match(off, new RegExp(`^introspection:\\s+${ISSUER}/introspect$`, 'm'));
    assert.match(off, /^client_credentials:\s+off$/m);
    assert.match(off, /^private_key_jwt:\s+off$/m);
    assert.match(off, /^issuer:\s+/m, 'the existing lines stay');
    const on = new Instance({
      issuer: ISSUER, resources: RESOURCES, name: 'ops-views', init: false,
      extra: 'client_credentials = yes\nprivate_key_jwt = yes',
    });
    try {
      const out = on.admin(['check-config'], { check: true }).stdout;
      assert.match(out, /^client_credentials:\s+on$/m);
      assert.match(out, /^private_key_jwt:\s+on$/m);
    } finally {
      on.remove();
    }
  });
});

// users.test.mjs: mcpauth-admin user add/passwd/disable/enable/list,
// consent revoke and client first-party, and what they leave in the database
// (an argon2id hash, never the password).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';

import {
  Instance, REGISTER, cgiRequest, dbBytes, sqlite3, sqliteJson, instExec, instRows,
} from './lib/harness.mjs';

const ISSUER = 'http://127.0.0.1:8996';
const RESOURCES = [{ url: `${ISSUER}/mcp`, name: 'Users test', scopes: ['mcp:tools'] }];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

// A password no other test text contains, to look for in the database.
const secret = (what) => `${what}-${crypto.randomBytes(9).toString('base64url')}`;

const rows = instRows;
const exec = instExec;
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;

function users(inst) {
  const r = inst.admin(['user', 'list', '--json'], { check: true });
  const list = JSON.parse(r.stdout);
  assert.ok(Array.isArray(list), 'user list --json is an array');
  return list;
}
const user = (inst, name) => users(inst).find((u) => u.username === name);
const hashOf = (inst, name) =>
  rows(inst, `SELECT password_hash AS h FROM users WHERE username = ${lit(name)}`)[0]?.h;

function add(inst, name, password, { check = true } = {}) {
  return inst.admin(['user', 'add', name], { check, input: `${password}\n` });
}

// The argon2 command-line tool (Debian package argon2), when installed,
// recomputes a stored hash from its salt and parameters.
const ARGON2 = spawnSync('argon2', ['-h']).error ? null : 'argon2';

// Whether the PHC string hash is password's; null when its salt holds a NUL
// byte, which no command-line argument can carry.
function argon2Matches(hash, password) {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(hash);
  assert.ok(m, `an argon2id PHC string: ${hash}`);
  const salt = Buffer.from(m[4], 'base64');
  if (salt.includes(0)) return null;
  const escaped = [...salt].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  // printf keeps every byte; the x stops $(...) from eating trailing newlines.
  const r = spawnSync('bash', ['-c',
    's=$(printf "$1"; printf x); argon2 "${s%x}" -id -k "$2" -t "$3" -p "$4" -l 32 -e',
    'bash', escaped, m[1], m[2], m[3]], { input: password, encoding: 'utf8' });
  assert.equal(r.status, 0, `argon2: ${r.stderr}`);
  return r.stdout.trim() === hash;
}

// Sets name's password with `user passwd` from input until the salt has no
// NUL byte, then says whether the stored hash is of password.
function passwdAndMatch(inst, name, input, password) {
  for (let i = 0; i < 10; i++) {
    inst.admin(['user', 'passwd', name], { check: true, input });
    const ok = argon2Matches(hashOf(inst, name), password);
    if (ok !== null) return ok;
  }
  throw new Error('ten salts with a NUL byte');
}

function addClient(inst, id, source = 'operator') {
  exec(inst, `INSERT INTO clients (client_id, source, client_name, token_endpoint_auth_method,
    application_type, redirect_uris, grant_types, scope, metadata, created_at, updated_at)
    VALUES (${lit(id)}, ${lit(source)}, ${lit(id)}, 'none', 'native',
    '["http://127.0.0.1:7777/cb"]', 'authorization_code refresh_token', 'mcp:tools', '{}',
    unixepoch(), unixepoch())`);
}

function addConsent(inst, name, clientId) {
  exec(inst, `INSERT INTO consents (user_id, client_id, resource, scope, granted_at)
    SELECT id, ${lit(clientId)}, ${lit(RESOURCES[0].url)}, 'mcp:tools', unixepoch()
    FROM users WHERE username = ${lit(name)}`);
}

const consents = (inst, name) => rows(inst, `SELECT client_id FROM consents c JOIN users u
  ON u.id = c.user_id WHERE u.username = ${lit(name)} ORDER BY client_id`).map((r) => r.client_id);

describe('mcpauth-admin user', () => {
  let inst;
  const passwords = [];
  before(() => {
    inst = new Instance({ issuer: ISSUER, resources: RESOURCES, name: 'users' });
  });
  after(() => inst?.remove());

  it('adds a user with an argon2id hash and a random subject', () => {
    const pw = secret('alice');
    passwords.push(pw);
    const r = add(inst, 'alice', pw);
    assert.equal(r.stdout, 'user alice: added\n');
    for (const out of [r.stdout, r.stderr]) assert.ok(!out.includes(pw), 'no password in the output');

    const alice = user(inst, 'alice');
    assert.ok(alice, 'user list has alice');
    assert.equal(typeof alice.id, 'number');
    assert.match(alice.subject, /^[A-Za-z0-9_-]{22}$/, 'subject: 128 random bits, base64url');
    assert.notEqual(alice.subject, 'alice');
    assert.match(alice.created_at, ISO);
    assert.equal(alice.disabled_at, null);
    assert.equal(alice.last_login_at, null);
    assert.deepEqual(Object.keys(alice).sort(),
      ['created_at', 'disabled_at', 'id', 'last_login_at', 'subject', 'username']);

    const hash = hashOf(inst, 'alice');
    assert.ok(hash.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'), `argon2id hash: ${hash}`);
    assert.ok(!dbBytes(inst.db).includes(pw), 'the database never holds the password');

    const bob = add(inst, 'bob', secret('bob'));
    assert.equal(bob.status, 0);
    assert.notEqual(user(inst, 'bob').subject, alice.subject, 'subjects differ');
    const table = inst.admin(['user', 'list'], { check: true }).stdout;
    assert.match(table, /^ID\s+USERNAME\s+SUBJECT\s+CREATED\s+DISABLED\s+LAST LOGIN$/m);
    assert.match(table, new RegExp(`^\\d+\\s+alice\\s+${alice.subject}\\s+\\S+Z\\s+-\\s+-$`, 'm'));
    assert.ok(!table.includes('$argon2id$'), 'no hash in the list');
  });

  it('stores the password it was given: first line, newline and CR stripped',
    () => {
      add(inst, 'carol', secret('carol'));
      const pw = 'pässwörd with spaces';
      assert.equal(passwdAndMatch(inst, 'carol', `${pw}\r\nsecond line\n`, pw), true);
      assert.equal(passwdAndMatch(inst, 'carol', pw, pw), true, 'no newline at the end');
      assert.equal(passwdAndMatch(inst, 'carol', ` ${pw} \n`, ` ${pw} `), true, 'spaces kept');
      assert.equal(passwdAndMatch(inst, 'carol', `${pw}\n`, `${pw}\n`), false, 'the newline is not part of it');
    });

  it('refuses a taken name with exit 1 and changes nothing', () => {
    const before = hashOf(inst, 'alice');
    const r = add(inst, 'alice', secret('again'), { check: false });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /user 'alice' exists/);
    assert.equal(hashOf(inst, 'alice'), before);
    assert.equal(users(inst).filter((u) => u.username === 'alice').length, 1);
  });

  it('accepts 1 to 64 of [A-Za-z0-9._@+-] and refuses other names with exit 2', () => {
    for (const name of ['d', 'x'.repeat(64), 'first.last+tag@example.com', 'A_b-9']) {
      const r = add(inst, name, secret('ok'), { check: false });
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    }
    const dash = inst.admin(['user', 'add', '--', '-dash'], { input: 'pw\n' });
    assert.equal(dash.status, 0, `-- before a name with a leading dash: ${dash.stderr}`);
    const count = users(inst).length;
    for (const name of ['', 'x'.repeat(65), 'with space', 'slash/', 'quote"', 'é', 'tab\t', 'semi;colon', 'a:b']) {
      const r = add(inst, name, secret('bad'), { check: false });
      assert.equal(r.status, 2, `${JSON.stringify(name)}: exit ${r.status} ${r.stderr}`);
      assert.match(r.stderr, /a user name is 1 to 64 characters/);
    }
    assert.equal(users(inst).length, count, 'no user added');
  });

  it('refuses an empty, missing, too long or NUL-holding password with exit 2', () => {
    const cases = [
      ['\n', /the password is empty/],
      ['\r\n', /the password is empty/],
      ['\nsecond line\n', /the password is empty/],
      ['', /no password on standard input/],
      [`${'x'.repeat(1025)}\n`, /at most 1024 bytes/],
      ['a\0b\n', /NUL byte/],
    ];
    for (const [input, msg] of cases) {
      const r = inst.admin(['user', 'add', 'erin'], { input });
      assert.equal(r.status, 2, `${JSON.stringify(input.slice(0, 20))}: exit ${r.status} ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
    const none = inst.admin(['user', 'add', 'erin']);
    assert.equal(none.status, 2, 'no standard input at all');
    assert.equal(user(inst, 'erin'), undefined, 'no user added');
    const max = inst.admin(['user', 'add', 'erin'], { input: `${'y'.repeat(1024)}\n` });
    assert.equal(max.status, 0, `1024 bytes is allowed: ${max.stderr}`);
  });

  it('passwd changes the hash and ends the sessions', () => {
    const before = hashOf(inst, 'alice');
    exec(inst, `INSERT INTO sessions (id_hash, user_id, auth_time, created_at, expires_at)
      SELECT 'session-of-alice', id, unixepoch(), unixepoch(), unixepoch() + 3600 FROM users WHERE username = 'alice';
      INSERT INTO sessions (id_hash, user_id, auth_time, created_at, expires_at)
      SELECT 'session-of-bob', id, unixepoch(), unixepoch(), unixepoch() + 3600 FROM users WHERE username = 'bob'`);
    const pw = secret('alice-new');
    passwords.push(pw);
    const r = inst.admin(['user', 'passwd', 'alice'], { input: `${pw}\n` });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'user alice: password changed; sessions ended, refresh and access tokens revoked\n');
    const after = hashOf(inst, 'alice');
    assert.notEqual(after, before);
    assert.ok(after.startsWith('$argon2id$'));
    assert.deepEqual(rows(inst, 'SELECT id_hash FROM sessions ORDER BY id_hash').map((s) => s.id_hash),
      ['session-of-bob'], "only alice's sessions end");
    const bytes = dbBytes(inst.db);
    for (const p of passwords) assert.ok(!bytes.includes(p), 'no password, old or new, in the database');
  });

  it('passwd refuses an unknown user with exit 1, before reading a password', () => {
    const r = inst.admin(['user', 'passwd', 'nobody']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /no user 'nobody'/);
    const empty = inst.admin(['user', 'passwd', 'alice'], { input: '\n' });
    assert.equal(empty.status, 2, 'an empty new password is refused');
  });

  it('disable ends sessions and revokes tokens; enable lets the user in again', () => {
    addClient(inst, 'tok-client');
    exec(inst, `INSERT INTO sessions (id_hash, user_id, auth_time, created_at, expires_at)
      SELECT 'session-of-bob-2', id, unixepoch(), unixepoch(), unixepoch() + 3600 FROM users WHERE username = 'bob';
      INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, resource, scope, auth_time, created_at, expires_at)
      SELECT 'rt-bob', 'fam-bob', 'tok-client', id, 'r', 'mcp:tools', 0, unixepoch(), unixepoch() + 3600 FROM users WHERE username = 'bob';
      INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, resource, scope, auth_time, created_at, expires_at)
      SELECT 'rt-alice', 'fam-alice', 'tok-client', id, 'r', 'mcp:tools', 0, unixepoch(), unixepoch() + 3600 FROM users WHERE username = 'alice';
      INSERT INTO access_tokens (jti, family_id, client_id, user_id, resource, scope, issued_at, expires_at)
      SELECT 'at-bob', 'fam-bob', 'tok-client', id, 'r', 'mcp:tools', unixepoch(), unixepoch() + 300 FROM users WHERE username = 'bob'`);

    const d = inst.admin(['user', 'disable', 'bob']);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(d.stdout, 'user bob: disabled; sessions ended, refresh and access tokens revoked\n');
    const bob = user(inst, 'bob');
    assert.match(bob.disabled_at, ISO);
    assert.deepEqual(rows(inst, "SELECT count(*) AS n FROM sessions WHERE id_hash LIKE 'session-of-bob%'"), [{ n: 0 }]);
    const revoked = rows(inst, `SELECT token_hash AS t, revoked_at IS NOT NULL AS r FROM refresh_tokens
      UNION ALL SELECT jti, revoked_at IS NOT NULL FROM access_tokens ORDER BY 1`);
    assert.deepEqual(revoked, [{ t: 'at-bob', r: 1 }, { t: 'rt-alice', r: 0 }, { t: 'rt-bob', r: 1 }]);
    assert.equal(user(inst, 'alice').disabled_at, null, 'alice stays enabled');

    const again = inst.admin(['user', 'disable', 'bob']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /already disabled/);
    assert.equal(user(inst, 'bob').disabled_at, bob.disabled_at, 'the first disabling time stays');

    const e = inst.admin(['user', 'enable', 'bob']);
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /^user bob: enabled/);
    assert.equal(user(inst, 'bob').disabled_at, null);
    assert.deepEqual(rows(inst, "SELECT revoked_at IS NOT NULL AS r FROM refresh_tokens WHERE token_hash = 'rt-bob'"),
      [{ r: 1 }], 'revoked tokens stay revoked');
    assert.match(inst.admin(['user', 'enable', 'bob'], { check: true }).stdout, /already enabled/);

    for (const sub of ['disable', 'enable']) {
      const r = inst.admin(['user', sub, 'nobody']);
      assert.equal(r.status, 1, `${sub} nobody`);
      assert.match(r.stderr, /no user 'nobody'/);
    }
  });

  it('exits 2 on usage errors', () => {
    assert.equal(inst.admin(['user']).status, 2, 'user without subcommand');
    assert.equal(inst.admin(['user', 'frob', 'x']).status, 2, 'unknown subcommand');
    for (const sub of ['add', 'passwd', 'disable', 'enable']) {
      const r = inst.admin(['user', sub]);
      assert.equal(r.status, 2, `user ${sub} without a name`);
      assert.match(r.stderr, /needs an argument/);
    }
    assert.equal(inst.admin(['user', 'add', 'a', 'b'], { input: 'pw\n' }).status, 2, 'two names');
    assert.equal(inst.admin(['user', 'list', 'extra']).status, 2, 'list takes no argument');
  });
});

describe('mcpauth-admin consent revoke', () => {
  let inst;
  before(() => {
    inst = new Instance({ issuer: ISSUER, resources: RESOURCES, name: 'consent' });
    add(inst, 'alice', secret('alice'));
    add(inst, 'bob', secret('bob'));
    for (const c of ['c1', 'c2', 'c3']) addClient(inst, c);
    addConsent(inst, 'alice', 'c1');
    addConsent(inst, 'alice', 'c2');
    addConsent(inst, 'alice', 'c3');
    addConsent(inst, 'bob', 'c1');
  });
  after(() => inst?.remove());

  it("revokes one client's consent, then all the user's", () => {
    const one = inst.admin(['consent', 'revoke', 'alice', 'c1']);
    assert.equal(one.status, 0, one.stderr);
    assert.equal(one.stdout, 'user alice: 1 consent revoked for client c1; their tokens revoked; asked again at the next authorization\n');
    assert.deepEqual(consents(inst, 'alice'), ['c2', 'c3']);
    assert.deepEqual(consents(inst, 'bob'), ['c1'], "bob's consent stays");

    const none = inst.admin(['consent', 'revoke', 'alice', 'c1']);
    assert.equal(none.status, 0, 'nothing left to revoke is not an error');
    assert.equal(none.stdout, 'user alice: 0 consents revoked for client c1\n');

    const all = inst.admin(['consent', 'revoke', 'alice']);
    assert.equal(all.status, 0, all.stderr);
    assert.equal(all.stdout, 'user alice: 2 consents revoked; their tokens revoked; asked again at the next authorization\n');
    assert.deepEqual(consents(inst, 'alice'), []);
    assert.deepEqual(consents(inst, 'bob'), ['c1']);
  });

  it('refuses an unknown user or client with exit 1, and usage errors with 2', () => {
    const u = inst.admin(['consent', 'revoke', 'nobody']);
    assert.equal(u.status, 1);
    assert.match(u.stderr, /no user 'nobody'/);
    const c = inst.admin(['consent', 'revoke', 'bob', 'no-such-client']);
    assert.equal(c.status, 1);
    assert.match(c.stderr, /no client 'no-such-client'/);
    assert.deepEqual(consents(inst, 'bob'), ['c1'], 'nothing revoked');

    const bare = inst.admin(['consent', 'revoke']);
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /usage: consent revoke USER \[CLIENT_ID\]/);
    assert.equal(inst.admin(['consent', 'revoke', 'bob', 'c1', 'extra']).status, 2, 'three arguments');
    assert.equal(inst.admin(['consent']).status, 2, 'consent without subcommand');
  });
});

describe('mcpauth-admin client first-party', () => {
  let inst;
  before(() => {
    inst = new Instance({ issuer: ISSUER, resources: RESOURCES, name: 'firstparty' });
  });
  after(() => inst?.remove());

  const flag = (id) => rows(inst, `SELECT first_party AS f FROM clients WHERE client_id = ${lit(id)}`)[0].f;
  const shown = (id) => JSON.parse(inst.admin(['client', 'show', id, '--json'], { check: true }).stdout).first_party;

  it('marks an operator client first party and back', () => {
    addClient(inst, 'portal');
    assert.equal(flag('portal'), 0, 'not first party by default');
    assert.equal(shown('portal'), false);

    const yes = inst.admin(['client', 'first-party', 'portal', 'yes']);
    assert.equal(yes.status, 0, yes.stderr);
    assert.equal(yes.stdout, 'client portal: first party; its users are not asked for consent\n');
    assert.equal(yes.stderr, '', 'no warning for an operator client');
    assert.equal(flag('portal'), 1);
    assert.equal(shown('portal'), true);

    const no = inst.admin(['client', 'first-party', 'portal', 'no']);
    assert.equal(no.status, 0, no.stderr);
    assert.equal(no.stdout, 'client portal: not first party; its users are asked for consent\n');
    assert.equal(flag('portal'), 0);
  });

  it('marks a registered client, with a warning', { skip: !REGISTER && 'no mcpauth-register installed' }, () => {
    const reg = cgiRequest(inst, {
      method: 'POST',
      uri: '/register',
      program: REGISTER,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Registered', redirect_uris: ['http://127.0.0.1:6276/cb'] }),
    });
    assert.equal(reg.status, 201, `${reg.body}\n${reg.stderr}`);
    const id = JSON.parse(reg.body).client_id;
    const r = inst.admin(['client', 'first-party', id, 'yes']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: .*dynamic/);
    assert.equal(flag(id), 1);
    assert.equal(shown(id), true);
  });

  it('refuses an unknown client with exit 1, and a bad value with 2', () => {
    const u = inst.admin(['client', 'first-party', 'no-such-client', 'yes']);
    assert.equal(u.status, 1);
    assert.match(u.stderr, /no client 'no-such-client'/);
    for (const v of ['maybe', 'YES', '1', 'true', '']) {
      const r = inst.admin(['client', 'first-party', 'portal', v]);
      assert.equal(r.status, 2, `value ${JSON.stringify(v)}`);
    }
    const missing = inst.admin(['client', 'first-party', 'portal']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /usage: client first-party CLIENT_ID yes\|no/);
    assert.equal(inst.admin(['client', 'first-party', 'portal', 'yes', 'extra']).status, 2);
    assert.equal(flag('portal'), 0, 'unchanged');
  });
});

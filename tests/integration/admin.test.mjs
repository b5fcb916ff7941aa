// admin.test.mjs: mcpauth-admin (init, check-config, key management,
// migrate) and what the running programs make of its work.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import * as jose from 'jose';

import {
  ADMIN, Instance, Server, cgiRequest, eventually, freePort, sqlite3, withLogs,
} from './lib/harness.mjs';

const ISSUER = 'http://127.0.0.1:8998';
const RESOURCES = [{ url: `${ISSUER}/mcp`, name: 'Admin test', scopes: ['mcp:tools'] }];

const mode = (p) => fs.statSync(p).mode & 0o777;
const octal = (m) => `0${m.toString(8)}`;

function keyList(inst) {
  const r = inst.admin(['key', 'list', '--json'], { check: true });
  const keys = JSON.parse(r.stdout);
  assert.ok(Array.isArray(keys), 'key list --json is an array');
  return keys;
}

function jwks(inst) {
  const r = cgiRequest(inst, { uri: '/jwks' });
  assert.equal(r.status, 200, `JWKS: ${r.body}\n${r.stderr}`);
  return JSON.parse(r.body);
}

function token(inst, claims = {}) {
  const now = Math.floor(Date.now() / 1000);
  return inst.sign({
    iss: inst.issuer, sub: 'user-1', aud: RESOURCES[0].url, client_id: 'c1',
    scope: 'mcp:tools', iat: now, exp: now + 300, jti: `j-${now}-${Math.random()}`, ...claims,
  });
}

async function verify(inst, jwt) {
  return jose.jwtVerify(jwt, jose.createLocalJWKSet(jwks(inst)), {
    issuer: inst.issuer, audience: RESOURCES[0].url, typ: 'at+jwt',
  });
}

describe('mcpauth-admin init', () => {
  const instances = [];
  after(() => instances.forEach((i) => i.remove()));

  it('creates a private database and key directory, and is safe to re-run', () => {
    const inst = new Instance({ issuer: ISSUER, resources: RESOURCES, init: false, name: 'admin' });
    instances.push(inst);
    const first = inst.admin(['init']);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(octal(mode(inst.db)), '0600', 'database mode');
    assert.equal(octal(mode(inst.keyDir)), '0700', 'key_dir mode');
    const keys = keyList(inst);
    assert.equal(keys.length, 1, 'one key after init');
    assert.equal(keys[0].state, 'active');
    assert.equal(keys[0].alg, 'ES256', 'signing_alg defaults to ES256');
    assert.equal(octal(mode(inst.keyFile(keys[0].kid))), '0600', 'private key file mode');

    const second = inst.admin(['init']);
    assert.equal(second.status, 0, second.stderr);
    const again = keyList(inst);
    assert.deepEqual(again, keys, 'a second init changes no key');
    assert.equal(octal(mode(inst.db)), '0600');
    // No secret material on the terminal.
    for (const out of [first.stdout, first.stderr, second.stdout, second.stderr]) {
      assert.doesNotMatch(out, /"d"\s*:/, 'no private JWK in the output');
    }
  });

  it('uses signing_alg from the configuration', async () => {
    for (const alg of ['EdDSA', 'RS256']) {
      const inst = new Instance({
        issuer: ISSUER, resources: RESOURCES, extra: `signing_alg = ${alg}`, name: 'admin',
      });
      instances.push(inst);
      const keys = keyList(inst);
      assert.equal(keys[0].alg, alg);
      const { protectedHeader } = await verify(inst, token(inst));
      assert.equal(protectedHeader.alg, alg);
      assert.equal(protectedHeader.kid, keys[0].kid);
    }
  });
});

describe('mcpauth-admin check-config', () => {
  const instances = [];
  after(() => instances.forEach((i) => i.remove()));

  it('accepts a good configuration', () => {
    const inst = new Instance({ issuer: ISSUER, resources: RESOURCES, name: 'admin' });
    instances.push(inst);
    const r = inst.admin(['check-config']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`issuer:\\s+${ISSUER.replace(/\./g, '\\.')}`));
  });

  // Each broken line, and the line number the message must name.
  const BROKEN = [
    ['an unknown algorithm', 'signing_alg = HS256'],
    ['a malformed duration', 'access_token_lifetime = forever'],
    ['an unknown key', 'no_such_key = 1'],
    ['http for a public host', null, 'issuer = http://auth.example.com'],
    ['a yes/no that is neither', 'dynamic_registration = maybe'],
  ];
  for (const [what, extra, issuerLine] of BROKEN) {
    it(`rejects ${what} with FILE:LINE and exit 1`, () => {
      const inst = new Instance({ issuer: ISSUER, resources: RESOURCES, init: false, name: 'admin' });
      instances.push(inst);
      let lines = fs.readFileSync(inst.conf, 'utf8').split('\n');
      let lineNo;
      if (issuerLine) {
        lineNo = lines.findIndex((l) => l.startsWith('issuer =')) + 1;
        lines[lineNo - 1] = issuerLine;
      } else {
        // Before the first [resource], after the global keys.
        lineNo = lines.findIndex((l) => l.startsWith('key_dir =')) + 2;
        lines.splice(lineNo - 1, 0, extra);
      }
      fs.writeFileSync(inst.conf, lines.join('\n'));
      inst.chown();
      const r = inst.admin(['check-config']);
      assert.equal(r.status, 1, `exit status; output: ${r.stdout}${r.stderr}`);
      assert.ok(
        `${r.stderr}${r.stdout}`.includes(`${inst.conf}:${lineNo}:`),
        `names ${path.basename(inst.conf)}:${lineNo}: ${r.stderr}`,
      );
    });
  }

  it('exits 2 on usage errors', () => {
    const inst = new Instance({ issuer: ISSUER, resources: RESOURCES, init: false, name: 'admin' });
    instances.push(inst);
    assert.equal(inst.admin([]).status, 2, 'no command');
    assert.equal(inst.admin(['frobnicate']).status, 2, 'unknown command');
    assert.equal(inst.admin(['key']).status, 2, 'key without subcommand');
    assert.equal(inst.admin(['key', 'generate', '--alg', 'HS256']).status, 2, 'bad --alg');
    assert.equal(inst.admin(['init', 'extra']).status, 2, 'extra argument');
    assert.ok(fs.existsSync(ADMIN));
  });
});

describe('mcpauth-admin key generate, rotate, list', () => {
  let inst;
  after(() => inst?.remove());

  it('publishes a generated key before it signs, and rotation switches signing', async () => {
    inst = new Instance({ issuer: ISSUER, resources: RESOURCES, name: 'keys' });
    const [first] = keyList(inst);
    const oldToken = token(inst);
    assert.equal(jose.decodeProtectedHeader(oldToken).kid, first.kid);

    // generate: pending, published, not signing.
    const g = inst.admin(['key', 'generate', '--alg', 'EdDSA']);
    assert.equal(g.status, 0, g.stderr);
    let keys = keyList(inst);
    assert.equal(keys.length, 2);
    const pending = keys.find((k) => k.kid !== first.kid);
    assert.equal(pending.state, 'pending');
    assert.equal(pending.alg, 'EdDSA');
    assert.equal(octal(mode(inst.keyFile(pending.kid))), '0600');
    let kids = jwks(inst).keys.map((k) => k.kid);
    assert.ok(kids.includes(pending.kid), 'the pending key is published');
    assert.equal(jose.decodeProtectedHeader(token(inst)).kid, first.kid, 'the old key still signs');

    // rotate: the pending key signs, the old one is retired but published.
    const r = inst.admin(['key', 'rotate']);
    assert.equal(r.status, 0, r.stderr);
    keys = keyList(inst);
    const byKid = Object.fromEntries(keys.map((k) => [k.kid, k]));
    assert.equal(byKid[pending.kid].state, 'active');
    assert.equal(byKid[first.kid].state, 'retired');
    assert.ok(byKid[first.kid].retired_at, 'retired_at is set');
    assert.ok(byKid[first.kid].publish_until, 'publish_until is set');
    assert.equal(keys.filter((k) => k.state === 'active').length, 1, 'exactly one active key');

    kids = jwks(inst).keys.map((k) => k.kid);
    assert.ok(kids.includes(first.kid), 'the retired key stays in the JWKS');
    assert.ok(kids.includes(pending.kid));
    await verify(inst, oldToken); // tokens signed before the rotation still verify

    const newToken = token(inst);
    const { protectedHeader } = await verify(inst, newToken);
    assert.equal(protectedHeader.kid, pending.kid, 'tokens now carry the new kid');
    assert.equal(protectedHeader.alg, 'EdDSA');

    assert.equal(fs.existsSync(inst.keyFile(first.kid)), false, 'the retired private key file is gone');
    assert.equal(octal(mode(inst.keyFile(pending.kid))), '0600');
    assert.equal(octal(mode(inst.keyDir)), '0700');

    // rotate with no pending key generates one (RS256 here) and activates it.
    const r2 = inst.admin(['key', 'rotate', '--alg', 'RS256']);
    assert.equal(r2.status, 0, r2.stderr);
    keys = keyList(inst);
    const active = keys.find((k) => k.state === 'active');
    assert.equal(active.alg, 'RS256');
    assert.equal(keys.length, 3);
    const t3 = await verify(inst, token(inst));
    assert.equal(t3.protectedHeader.kid, active.kid);
    assert.equal(fs.existsSync(inst.keyFile(pending.kid)), false);

    // The human-readable list names every key.
    const list = inst.admin(['key', 'list'], { check: true }).stdout;
    for (const k of keys) assert.ok(list.includes(k.kid), `key list shows ${k.kid}`);
  });
});

describe('schema version check', () => {
  const instances = [];
  const servers = [];
  after(async () => {
    for (const s of servers) await s.stop();
    instances.forEach((i) => i.remove());
  });

  // An instance whose database is an empty SQLite file (user_version 0):
  // what an old database looks like to a newer build.
  function oldInstance(issuer, name) {
    const inst = new Instance({
      issuer, resources: [{ url: `${issuer}/mcp`, scopes: ['mcp:tools'] }], init: false, name,
    });
    instances.push(inst);
    sqlite3(inst.db, 'CREATE TABLE t (x); DROP TABLE t; PRAGMA user_version = 0;');
    fs.chmodSync(inst.db, 0o600);
    inst.chown();
    return inst;
  }

  function assertNeedsMigrate(status, text, where) {
    assert.equal(status, 503, `${where}: ${text}`);
    const body = JSON.parse(text);
    assert.equal(body.error, 'temporarily_unavailable');
    assert.match(body.error_description, /mcpauth-admin migrate/, `${where} names the command`);
  }

  it('makes plain-CGI discovery answer 503 until migrate', () => {
    const inst = oldInstance('http://127.0.0.1:8997', 'schema');
    const before = cgiRequest(inst, { uri: '/.well-known/oauth-authorization-server' });
    assertNeedsMigrate(before.status, before.body, 'CGI');

    const m = inst.admin(['migrate']);
    assert.equal(m.status, 0, m.stderr);
    const afterMigrate = cgiRequest(inst, { uri: '/.well-known/oauth-authorization-server' });
    assert.equal(afterMigrate.status, 200, afterMigrate.body + afterMigrate.stderr);
    assert.equal(JSON.parse(afterMigrate.body).issuer, 'http://127.0.0.1:8997');
    const again = inst.admin(['migrate']);
    assert.equal(again.status, 0, 'migrate is safe to re-run');
  });

  for (const kind of ['lighttpd', 'apache']) {
    let server;
    it(`makes running FastCGI processes (${kind}) answer 503 until migrate, then 200 without a restart`,
      withLogs(() => server, async () => {
        const port = await freePort();
        const issuer = `http://127.0.0.1:${port}`;
        const inst = oldInstance(issuer, `schema-${kind}`);
        server = new Server(kind, inst, port);
        servers.push(server);
        await server.start();

        for (const p of ['/.well-known/oauth-authorization-server', '/jwks', '/.well-known/oauth-protected-resource/mcp']) {
          const res = await server.fetch(p);
          assertNeedsMigrate(res.status, await res.text(), `${kind} ${p}`);
        }

        const m = inst.admin(['migrate']);
        assert.equal(m.status, 0, m.stderr);
        // The programs retry opening the store at most once a second.
        let last = '';
        const ok = await eventually(async () => {
          const res = await server.fetch('/.well-known/oauth-authorization-server');
          last = `${res.status} ${await res.text()}`;
          return res.status === 200;
        }, 5000, 250);
        assert.ok(ok, `200 after migrate; last answer: ${last}`);
        assert.equal(JSON.parse(last.slice(4)).issuer, issuer);

        // Keys come with key generate; the JWKS then lists them.
        inst.admin(['key', 'generate'], { check: true });
        const j = await server.fetch('/jwks');
        assert.equal(j.status, 200);
        assert.equal((await j.json()).keys.length, 1);
      }));
  }
});

// machine-admin.test.mjs: mcpauth-admin client add, rotate-secret, keys,
// disable and enable (operator-provisioned clients), every refusal with its
// exit status and message, and what they leave in the database: hashes of
// secrets, never a secret. The token endpoint's side is machine.test.mjs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { Instance, dbBytes, sqlite3, sqliteJson, instExec, instRows } from './lib/harness.mjs';

const ISSUER = 'http://127.0.0.1:8994';
const MCP = `${ISSUER}/mcp`;
const FILES = `${ISSUER}/files`;
const RESOURCES = [
  { url: MCP, name: 'Tools', scopes: ['mcp:tools', 'mcp:read'] },
  { url: FILES, name: 'Files', scopes: ['files:read'] },
];
const ALL_SCOPES = 'mcp:tools mcp:read files:read';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const CLIENT_ID = /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('base64url');
const occurrences = (text, s) => text.split(s).length - 1;

const rows = instRows;
const exec = instExec;
const stored = (inst, id) => rows(inst, `SELECT * FROM clients WHERE client_id = ${lit(id)}`)[0];
const clientCount = (inst) => rows(inst, 'SELECT count(*) AS n FROM clients')[0].n;

// --- keys -------------------------------------------------------------------------

const publicJwk = (pair) => pair.publicKey.export({ format: 'jwk' });
const ecPair = () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });

// Writes a JWKS (or any text) into the instance directory for the service user.
function jwksFile(inst, name, content) {
  const f = path.join(inst.dir, name);
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o644 });
  inst.chown();
  return f;
}

// --- commands ---------------------------------------------------------------------

// client add NAME ARGS --json: exit 0 and one JSON object (plus the raw output).
function add(inst, name, args) {
  const r = inst.admin(['client', 'add', name, ...args, '--json']);
  assert.equal(r.status, 0, `client add ${name} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  const out = JSON.parse(r.stdout);
  return { out, r };
}

function show(inst, id) {
  return JSON.parse(inst.admin(['client', 'show', id, '--json'], { check: true }).stdout);
}

function audit(inst, id) {
  return rows(inst, `SELECT event, outcome, actor, detail FROM audit_log WHERE client_id = ${lit(id)} ORDER BY id`);
}

describe('mcpauth-admin client add, rotate-secret, keys, disable, enable', () => {
  let inst;
  const secrets = []; // every secret handed out: never in the database
  const hashes = []; // every stored hash: never in the admin output

  before(() => {
    inst = new Instance({
      issuer: ISSUER,
      resources: RESOURCES,
      extra: 'client_credentials = yes\nprivate_key_jwt = yes',
      name: 'machine-admin',
    });
  });
  after(() => inst?.remove());

  // --- client add -----------------------------------------------------------------

  it('adds a client_credentials client with a secret, shown once (text)', () => {
    const r = inst.admin(['client', 'add', 'ci-bot', '--grant', 'client_credentials']);
    assert.equal(r.status, 0, r.stderr);
    const fields = Object.fromEntries(r.stdout.trim().split('\n').map((l) => {
      const m = /^(\S+)\s+(.*)$/.exec(l);
      return [m[1], m[2]];
    }));
    assert.match(fields.client_id, CLIENT_ID);
    assert.match(fields.client_secret, SECRET);
    assert.equal(fields.issuer, ISSUER);
    assert.equal(fields.token_endpoint, `${ISSUER}/token`);
    assert.equal(fields.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(fields.grant_types, '["client_credentials"]');
    assert.equal(fields.scope, ALL_SCOPES, 'every resource scope, no offline_access');
    assert.equal(fields.resources, undefined, 'no resource limit given');
    const secret = fields.client_secret;
    secrets.push(secret);
    assert.equal(occurrences(r.stdout + r.stderr, secret), 1, 'the secret appears once');
    assert.match(r.stderr, new RegExp(`^client ${fields.client_id}: added; the client secret is shown only now`));
    assert.ok(!r.stderr.includes('warning'), r.stderr);

    const c = stored(inst, fields.client_id);
    assert.equal(c.source, 'operator');
    assert.equal(c.client_name, 'ci-bot');
    assert.equal(c.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(c.grant_types, 'client_credentials');
    assert.equal(c.scope, ALL_SCOPES);
    assert.equal(c.application_type, 'web');
    assert.equal(c.redirect_uris, '[]');
    assert.equal(c.secret_hash, sha256(secret), 'the hash of the secret printed');
    hashes.push(c.secret_hash);
    assert.equal(c.secret_expires_at, 0, 'operator secrets do not expire');
    assert.equal(c.registration_token_hash, null);
    assert.equal(c.allowed_resources, null, 'any resource');
    assert.equal(c.jwks, null);
    assert.equal(c.signing_alg, null);
    assert.equal(c.disabled_at, null);
    assert.equal(c.previous_secret_hash, null);
    assert.equal(c.first_party, 0);
    const meta = JSON.parse(c.metadata);
    assert.deepEqual(meta, {
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      application_type: 'web',
      scope: ALL_SCOPES,
      client_name: 'ci-bot',
    });
    assert.deepEqual(audit(inst, fields.client_id), [{ event: 'register', outcome: 'ok', actor: 'admin', detail: null }]);
    assert.ok(!dbBytes(inst.db).includes(secret), 'the database never holds the secret');
  });

  it('--json, --resource, --scope and --auth client_secret_post', () => {
    const { out, r } = add(inst, 'files-bot', ['--grant', 'client_credentials', '--auth', 'client_secret_post',
      '--resource', FILES, '--resource', MCP, '--resource', FILES, '--scope', 'files:read mcp:read files:read']);
    assert.deepEqual(Object.keys(out), ['client_id', 'client_secret', 'issuer', 'token_endpoint',
      'token_endpoint_auth_method', 'grant_types', 'scope', 'resources']);
    assert.match(out.client_id, CLIENT_ID);
    assert.match(out.client_secret, SECRET);
    secrets.push(out.client_secret);
    assert.equal(occurrences(r.stdout + r.stderr, out.client_secret), 1, 'the secret appears once');
    assert.equal(out.issuer, ISSUER);
    assert.equal(out.token_endpoint, `${ISSUER}/token`);
    assert.equal(out.token_endpoint_auth_method, 'client_secret_post');
    assert.deepEqual(out.grant_types, ['client_credentials']);
    assert.equal(out.scope, 'files:read mcp:read', 'as given, each once');
    assert.deepEqual(out.resources, [FILES, MCP], 'as given, each once');

    const c = stored(inst, out.client_id);
    assert.equal(c.allowed_resources, `${FILES} ${MCP}`);
    assert.equal(c.scope, 'files:read mcp:read');
    assert.equal(c.secret_hash, sha256(out.client_secret));
    hashes.push(c.secret_hash);
    assert.deepEqual(JSON.parse(c.metadata).resources, [FILES, MCP]);

    // One resource: its scopes only, all of them by default.
    const one = add(inst, 'mcp-bot', ['--grant', 'client_credentials', '--resource', MCP]).out;
    secrets.push(one.client_secret);
    assert.equal(one.scope, 'mcp:tools mcp:read');
    assert.equal(stored(inst, one.client_id).allowed_resources, MCP);
  });

  it('client show and list show the new fields, never a hash', () => {
    const id = rows(inst, "SELECT client_id FROM clients WHERE client_name = 'files-bot'")[0].client_id;
    const s = show(inst, id);
    for (const k of ['resources', 'signing_alg', 'jwks', 'disabled_at', 'previous_secret_valid_until',
      'token_endpoint_auth_method', 'has_secret', 'source', 'first_party']) {
      assert.ok(k in s, `client show --json has ${k}`);
    }
    assert.deepEqual(s.resources, [FILES, MCP]);
    assert.equal(s.token_endpoint_auth_method, 'client_secret_post');
    assert.equal(s.signing_alg, null);
    assert.equal(s.jwks, null);
    assert.equal(s.disabled_at, null);
    assert.equal(s.previous_secret_valid_until, null);
    assert.equal(s.has_secret, true);
    assert.equal(s.source, 'operator');
    assert.equal(s.client_secret, undefined);

    const any = show(inst, rows(inst, "SELECT client_id FROM clients WHERE client_name = 'ci-bot'")[0].client_id);
    assert.equal(any.resources, null, 'null: any resource');

    const list = JSON.parse(inst.admin(['client', 'list', '--json'], { check: true }).stdout);
    assert.deepEqual(list.find((c) => c.client_id === id), s, 'list --json has what show --json has');
    const text = inst.admin(['client', 'show', id], { check: true }).stdout;
    assert.match(text, /^resources\s+\["http:\/\/127\.0\.0\.1:8994\/files","http:\/\/127\.0\.0\.1:8994\/mcp"\]$/m);
    assert.match(text, /^disabled_at\s+null$/m);
    const table = inst.admin(['client', 'list'], { check: true }).stdout;
    assert.match(table, /^CLIENT_ID\s+SOURCE\s+AUTH\s+CREATED\s+LAST USED\s+DISABLED\s+NAME$/m);
    assert.match(table, new RegExp(`^${id}\\s+operator\\s+client_secret_post\\s+\\S+Z\\s+-\\s+-\\s+files-bot$`, 'm'));
    for (const out of [JSON.stringify(list), text, table]) {
      for (const h of hashes) assert.ok(!out.includes(h), 'no hash in the admin output');
      for (const sec of secrets) assert.ok(!out.includes(sec), 'no secret in the admin output');
    }
  });

  it('adds private_key_jwt clients with an EC P-256, Ed25519 or RSA JWKS', () => {
    const ec = publicJwk(ecPair());
    const file = jwksFile(inst, 'ec.jwks', { keys: [{ ...ec, kid: 'k1', use: 'sig', alg: 'ES256', x5c: ['ignored'] }] });
    const { out, r } = add(inst, 'jwt-bot', ['--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks', file]);
    assert.deepEqual(Object.keys(out), ['client_id', 'issuer', 'token_endpoint', 'token_endpoint_auth_method',
      'token_endpoint_auth_signing_alg', 'aud', 'grant_types', 'scope']);
    assert.equal(out.client_secret, undefined, 'no secret for private_key_jwt');
    assert.equal(out.token_endpoint_auth_method, 'private_key_jwt');
    assert.equal(out.token_endpoint_auth_signing_alg, 'ES256', 'ES256 by default');
    assert.deepEqual(out.aud, [ISSUER, `${ISSUER}/token`]);
    assert.match(r.stderr, /^client \S+: added\n$/, 'no secret note, no warning');
    const c = stored(inst, out.client_id);
    assert.equal(c.secret_hash, null);
    assert.equal(c.signing_alg, 'ES256');
    assert.deepEqual(JSON.parse(c.jwks), { keys: [{ kty: 'EC', kid: 'k1', use: 'sig', alg: 'ES256', crv: 'P-256', x: ec.x, y: ec.y }] },
      'the public members only');
    const s = show(inst, out.client_id);
    assert.equal(s.signing_alg, 'ES256');
    assert.deepEqual(s.jwks, JSON.parse(c.jwks));
    assert.equal(s.has_secret, false);

    const ed = publicJwk(crypto.generateKeyPairSync('ed25519'));
    const edOut = add(inst, 'ed-bot', ['--grant', 'client_credentials', '--auth', 'private_key_jwt', '--alg', 'EdDSA',
      '--jwks', jwksFile(inst, 'ed.jwks', { keys: [ed] })]).out;
    assert.equal(edOut.token_endpoint_auth_signing_alg, 'EdDSA');
    assert.equal(stored(inst, edOut.client_id).signing_alg, 'EdDSA');

    const rsa = publicJwk(crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }));
    const rsaOut = add(inst, 'rsa-bot', ['--grant', 'client_credentials', '--auth', 'private_key_jwt', '--alg', 'RS256',
      '--jwks', jwksFile(inst, 'rsa.jwks', { keys: [rsa, { ...publicJwk(crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })), kid: 'two' }] })]).out;
    assert.equal(JSON.parse(stored(inst, rsaOut.client_id).jwks).keys.length, 2);
  });

  it('adds authorization_code clients: native or web, public or confidential, first party', () => {
    const nat = add(inst, 'native-app', ['--grant', 'authorization_code', '--auth', 'none', '--first-party',
      '--redirect-uri', 'http://127.0.0.1:7777/cb', '--redirect-uri', 'com.example.app:/cb']).out;
    assert.equal(nat.client_secret, undefined, 'a public client has no secret');
    assert.equal(nat.authorization_endpoint, `${ISSUER}/authorize`);
    assert.deepEqual(nat.grant_types, ['authorization_code', 'refresh_token']);
    assert.equal(nat.scope, `${ALL_SCOPES} offline_access`);
    assert.deepEqual(nat.redirect_uris, ['http://127.0.0.1:7777/cb', 'com.example.app:/cb']);
    const n = stored(inst, nat.client_id);
    assert.equal(n.application_type, 'native');
    assert.equal(n.token_endpoint_auth_method, 'none');
    assert.equal(n.secret_hash, null);
    assert.equal(n.first_party, 1);
    assert.equal(n.grant_types, 'authorization_code refresh_token');
    assert.deepEqual(JSON.parse(n.redirect_uris), ['http://127.0.0.1:7777/cb', 'com.example.app:/cb']);
    assert.deepEqual(JSON.parse(n.metadata).response_types, ['code']);
    assert.equal(show(inst, nat.client_id).first_party, true);

    const web = add(inst, 'web-app', ['--grant', 'authorization_code', '--redirect-uri', 'https://app.example.com/cb',
      '--grant', 'client_credentials', '--scope', 'mcp:tools offline_access']).out;
    secrets.push(web.client_secret);
    assert.match(web.client_secret, SECRET);
    assert.deepEqual(web.grant_types, ['authorization_code', 'refresh_token', 'client_credentials']);
    const w = stored(inst, web.client_id);
    assert.equal(w.application_type, 'web');
    assert.equal(w.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(w.first_party, 0);
    assert.equal(w.scope, 'mcp:tools offline_access');
    assert.equal(w.secret_hash, sha256(web.client_secret));
  });

  it('takes a NAME with a leading dash after --, and warns when the switches are off', () => {
    const r = inst.admin(['client', 'add', '--grant', 'client_credentials', '--', '-dash-bot']);
    assert.equal(r.status, 0, r.stderr);
    secrets.push(/^client_secret\s+(\S+)$/m.exec(r.stdout)[1]);
    assert.equal(rows(inst, "SELECT count(*) AS n FROM clients WHERE client_name = '-dash-bot'")[0].n, 1);

    const off = new Instance({ issuer: ISSUER, resources: RESOURCES, name: 'machine-admin-off' });
    try {
      const file = jwksFile(off, 'ec.jwks', { keys: [publicJwk(ecPair())] });
      const w = off.admin(['client', 'add', 'x', '--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks', file]);
      assert.equal(w.status, 0, w.stderr);
      assert.match(w.stderr, /warning: .* client_credentials = no: the token endpoint refuses the grant until it is yes/);
      assert.match(w.stderr, /warning: .* private_key_jwt = no: the token endpoint refuses client assertions until it is yes/);
    } finally {
      off.remove();
    }
  });

  it('refuses bad options with exit 2 and adds nothing', () => {
    const ec = publicJwk(ecPair());
    const ecPriv = ecPair().privateKey.export({ format: 'jwk' });
    const ed = publicJwk(crypto.generateKeyPairSync('ed25519'));
    const rsa1024 = publicJwk(crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }));
    const p384 = publicJwk(crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }));
    const f = (name, content) => jwksFile(inst, name, content);
    const files = {
      priv: f('priv.jwks', { keys: [ecPriv] }),
      rsaPriv: f('rsa-priv.jwks', { keys: [crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })] }),
      oct: f('oct.jwks', { keys: [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ' }] }),
      empty: f('empty.jwks', { keys: [] }),
      noKeys: f('nokeys.jwks', ec),
      array: f('array.jwks', [ec]),
      notJson: f('notjson.jwks', 'not json'),
      dupMember: f('dup.jwks', '{"keys": [], "keys": []}'),
      ed: f('ed-only.jwks', { keys: [ed] }),
      mixed: f('mixed.jwks', { keys: [ec, ed] }),
      rsa1024: f('rsa1024.jwks', { keys: [rsa1024] }),
      p384: f('p384.jwks', { keys: [p384] }),
      badX: f('badx.jwks', { keys: [{ ...ec, x: 'not base64url!' }] }),
      kty: f('kty.jwks', { keys: [{ kty: 'XYZ' }] }),
      noKty: f('nokty.jwks', { keys: [{ x: ec.x }] }),
      keyAlg: f('keyalg.jwks', { keys: [{ ...ec, alg: 'ES384' }] }),
      use: f('use.jwks', { keys: [{ ...ec, use: 'enc' }] }),
      dupKid: f('dupkid.jwks', { keys: [{ ...ec, kid: 'a' }, { ...publicJwk(ecPair()), kid: 'a' }] }),
      notObject: f('notobject.jwks', { keys: ['x'] }),
    };
    const cc = ['--grant', 'client_credentials'];
    const jwt = [...cc, '--auth', 'private_key_jwt', '--jwks'];
    const cases = [
      [[], /client add needs --grant client_credentials .* or --grant authorization_code/],
      [['--grant', 'password'], /--grant is client_credentials or authorization_code/],
      [['--grant', 'refresh_token'], /--grant is client_credentials or authorization_code/],
      [[...cc, '--auth', 'none'], /a client_credentials client must authenticate: .*not none/],
      [[...cc, '--auth', 'client_secret_jwt'], /--auth is client_secret_basic, client_secret_post, private_key_jwt or none/],
      [[...cc, '--auth', 'private_key_jwt'], /--auth private_key_jwt needs --jwks FILE or --jwks-uri URL/],
      [[...cc, '--jwks', files.ed], /--jwks, --jwks-uri and --alg are for --auth private_key_jwt/],
      [[...cc, '--alg', 'ES256'], /--jwks, --jwks-uri and --alg are for --auth private_key_jwt/],
      [[...cc, '--alg', 'HS256'], /--alg must be ES256, EdDSA or RS256/],
      [[...cc, '--alg', 'none'], /--alg must be ES256, EdDSA or RS256/],
      [[...cc, '--resource', `${ISSUER}/nope`], /unknown resource 'http:\/\/127\.0\.0\.1:8994\/nope': not the url of a \[resource\]/],
      [[...cc, '--resource', `${MCP}/`], /unknown resource/],
      [[...cc, '--resource', MCP, '--scope', 'files:read'], /--scope: 'files:read' is not a scope of the resources given \(they are: mcp:tools mcp:read\)/],
      [[...cc, '--scope', 'offline_access'], /--scope: 'offline_access' is not a scope of any resource/],
      [[...cc, '--scope', 'admin'], /--scope: 'admin' is not a scope/],
      [[...cc, '--scope', '  '], /--scope names no scope/],
      [[...cc, '--redirect-uri', 'https://app.example.com/cb'], /--redirect-uri is for the authorization_code grant/],
      [['--grant', 'authorization_code'], /--grant authorization_code needs --redirect-uri/],
      [['--grant', 'authorization_code', '--redirect-uri', 'http://app.example.com/cb'], /--redirect-uri: .*http is allowed only on a loopback host/],
      [['--grant', 'authorization_code', '--redirect-uri', 'javascript:alert(1)'], /--redirect-uri: 'javascript:' URIs are not allowed/],
      [['--grant', 'authorization_code', '--redirect-uri', 'https://app.example.com/cb#x'], /--redirect-uri: .*fragment/],
      [['--grant', 'authorization_code', '--redirect-uri', 'https://app.example.com/cb', '--resource', MCP], /--resource limits the tokens of the client_credentials grant/],
      [[...jwt, files.priv], /key 1 is a private key \(it has "d"\): give the public keys only/],
      [[...jwt, files.rsaPriv, '--alg', 'RS256'], /key 1 is a private key \(it has "d"\)/],
      [[...jwt, files.oct], /key 1 is a symmetric key \(kty oct\)/],
      [[...jwt, files.empty], /not a JWKS: an object with a non-empty "keys" array/],
      [[...jwt, files.noKeys], /not a JWKS/],
      [[...jwt, files.array], /not a JWKS/],
      [[...jwt, files.notJson], /--jwks .*notjson\.jwks: not JSON/],
      [[...jwt, files.dupMember], /not JSON/],
      [[...jwt, path.join(inst.dir, 'missing.jwks')], /--jwks .*missing\.jwks: No such file or directory/],
      [[...jwt, files.ed], /key 1 \(OKP Ed25519\) does not fit --alg ES256 \(the default\): it signs with EdDSA/],
      [[...jwt, files.ed, '--alg', 'RS256'], /key 1 \(OKP Ed25519\) does not fit --alg RS256: it signs with EdDSA/],
      [[...jwt, files.mixed], /key 2 \(OKP Ed25519\) does not fit --alg ES256/],
      [[...jwt, files.rsa1024, '--alg', 'RS256'], /key 1 is not a valid RSA public key \(n of at least 2048 bits/],
      [[...jwt, files.p384], /key 1: an EC key must have "crv": "P-256"/],
      [[...jwt, files.badX], /key 1 is not a valid EC public key/],
      [[...jwt, files.kty], /key 1: kty "XYZ" is not supported \(EC P-256, OKP Ed25519 or RSA\)/],
      [[...jwt, files.noKty], /key 1 has no "kty"/],
      [[...jwt, files.keyAlg], /key 1 says "alg": ES384, not ES256/],
      [[...jwt, files.use], /key 1 is not for signatures/],
      [[...jwt, files.dupKid], /keys 1 and 2 have the same kid/],
      [[...jwt, files.notObject], /key 1 is not a JSON object/],
      [[...cc, '--overlap', '1h'], /--overlap does not apply to 'client add'/],
      [[...cc, '--grant'], /requires an argument|usage/],
    ];
    const before = clientCount(inst);
    for (const [args, msg] of cases) {
      const r = inst.admin(['client', 'add', 'refused', ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stderr}${r.stdout}`);
      assert.match(r.stderr, msg, args.join(' '));
      assert.equal(r.stdout, '', `${args.join(' ')}: nothing on stdout`);
    }
    for (const name of ['', 'x'.repeat(201), 'tab\there', 'bell\u0007', 'rtl\u202eevil']) {
      const r = inst.admin(['client', 'add', name, ...cc]);
      assert.equal(r.status, 2, `name ${JSON.stringify(name)}: ${r.stderr}`);
      assert.match(r.stderr, /a client NAME is 1 to 200 bytes of text without control characters/);
    }
    const bare = inst.admin(['client', 'add']);
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /client add needs an argument/);
    assert.equal(inst.admin(['client', 'add', 'a', 'b', ...cc]).status, 2, 'two names');
    assert.equal(clientCount(inst), before, 'no client added');
  });

  // --- rotate-secret ----------------------------------------------------------

  it('rotate-secret without --overlap: a new hash, the old secret invalid at once', () => {
    const { out } = add(inst, 'rotating', ['--grant', 'client_credentials']);
    secrets.push(out.client_secret);
    const id = out.client_id;
    const r = inst.admin(['client', 'rotate-secret', id]);
    assert.equal(r.status, 0, r.stderr);
    const fresh = r.stdout.trim();
    assert.match(fresh, SECRET, 'stdout is the secret alone');
    assert.equal(r.stdout, `${fresh}\n`);
    secrets.push(fresh);
    assert.notEqual(fresh, out.client_secret);
    assert.equal(occurrences(r.stdout + r.stderr, fresh), 1, 'the secret appears once');
    assert.match(r.stderr, new RegExp(`^client ${id}: new client secret, shown only now; the previous one no longer works\n$`));
    const c = stored(inst, id);
    assert.equal(c.secret_hash, sha256(fresh));
    assert.equal(c.previous_secret_hash, null);
    assert.equal(c.previous_secret_until, null);
    assert.equal(show(inst, id).previous_secret_valid_until, null);
    assert.deepEqual(audit(inst, id).at(-1), { event: 'update', outcome: 'ok', actor: 'admin', detail: 'client secret rotated, overlap 0s' });
    const bytes = dbBytes(inst.db);
    assert.ok(!bytes.includes(fresh) && !bytes.includes(out.client_secret), 'no secret in the database');
  });

  it('rotate-secret --overlap: the old hash stays valid until then', () => {
    const { out } = add(inst, 'overlapping', ['--grant', 'client_credentials', '--auth', 'client_secret_post']);
    secrets.push(out.client_secret);
    const id = out.client_id;
    const t0 = Math.floor(Date.now() / 1000);
    const r = inst.admin(['client', 'rotate-secret', id, '--overlap', '1h', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j), ['client_id', 'client_secret', 'client_secret_expires_at', 'previous_secret_valid_until']);
    assert.equal(j.client_id, id);
    assert.match(j.client_secret, SECRET);
    secrets.push(j.client_secret);
    assert.equal(j.client_secret_expires_at, null, 'never expires');
    assert.match(j.previous_secret_valid_until, ISO);
    assert.equal(occurrences(r.stdout + r.stderr, j.client_secret), 1);
    assert.match(r.stderr, /the previous one stays valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);

    const c = stored(inst, id);
    assert.equal(c.secret_hash, sha256(j.client_secret), 'the new hash');
    assert.equal(c.previous_secret_hash, sha256(out.client_secret), 'the old hash kept');
    assert.ok(c.previous_secret_until >= t0 - 1 + 3600 && c.previous_secret_until <= t0 + 3600 + 5,
      `previous_secret_until ${c.previous_secret_until} is about now + 1h`);
    assert.equal(Date.parse(j.previous_secret_valid_until) / 1000, c.previous_secret_until);
    assert.equal(show(inst, id).previous_secret_valid_until, j.previous_secret_valid_until);

    // Once more without overlap: the kept secret ends too, with a warning.
    const again = inst.admin(['client', 'rotate-secret', id, '--overlap', '0']);
    assert.equal(again.status, 0, again.stderr);
    secrets.push(again.stdout.trim());
    assert.match(again.stderr, /warning: the secret replaced by the last rotation stopped working now/);
    const c2 = stored(inst, id);
    assert.equal(c2.secret_hash, sha256(again.stdout.trim()));
    assert.equal(c2.previous_secret_hash, null);
    assert.equal(c2.previous_secret_until, null);

    // Overlap in plain seconds, as the token tests use it.
    const sixty = inst.admin(['client', 'rotate-secret', id, '--overlap', '60']);
    assert.equal(sixty.status, 0, sixty.stderr);
    secrets.push(sixty.stdout.trim());
    assert.equal(stored(inst, id).previous_secret_hash, c2.secret_hash);
  });

  it('rotate-secret refusals: unknown client 1, no secret method or bad overlap 2', () => {
    const unknown = inst.admin(['client', 'rotate-secret', 'no-such-client']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /no client 'no-such-client'/);
    assert.equal(unknown.stdout, '');
    const jwtId = rows(inst, "SELECT client_id FROM clients WHERE client_name = 'jwt-bot'")[0].client_id;
    const pub = rows(inst, "SELECT client_id FROM clients WHERE client_name = 'native-app'")[0].client_id;
    for (const [id, method] of [[jwtId, 'private_key_jwt'], [pub, 'none']]) {
      const r = inst.admin(['client', 'rotate-secret', id]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`client ${id} authenticates with ${method}: only client_secret_basic and client_secret_post clients have a secret to rotate`));
      assert.equal(r.stdout, '');
      assert.equal(stored(inst, id).secret_hash, null, 'no secret added');
    }
    const id = rows(inst, "SELECT client_id FROM clients WHERE client_name = 'ci-bot'")[0].client_id;
    const hash = stored(inst, id).secret_hash;
    for (const v of ['31d', '-1', 'soon', '1w', '']) {
      const r = inst.admin(['client', 'rotate-secret', id, '--overlap', v]);
      assert.equal(r.status, 2, `--overlap ${JSON.stringify(v)}: ${r.stderr}`);
      assert.match(r.stderr, /--overlap takes a duration from 0 to 30d/);
    }
    assert.equal(inst.admin(['client', 'rotate-secret', id, '--jwks', 'f']).status, 2, '--jwks does not apply');
    assert.equal(inst.admin(['client', 'rotate-secret']).status, 2, 'no client id');
    assert.equal(stored(inst, id).secret_hash, hash, 'unchanged');
  });

  // --- keys ---------------------------------------------------------------------

  it('keys replaces the JWKS, and --alg the algorithm', () => {
    const id = rows(inst, "SELECT client_id FROM clients WHERE client_name = 'jwt-bot'")[0].client_id;
    const next = publicJwk(ecPair());
    const r = inst.admin(['client', 'keys', id, '--jwks', jwksFile(inst, 'next.jwks', { keys: [{ ...next, kid: 'k2' }] })]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `client ${id}: keys replaced (1, ES256); assertions signed with any other key are refused from now on\n`);
    let c = stored(inst, id);
    assert.deepEqual(JSON.parse(c.jwks), { keys: [{ kty: 'EC', kid: 'k2', crv: 'P-256', x: next.x, y: next.y }] });
    assert.equal(c.signing_alg, 'ES256');
    assert.deepEqual(show(inst, id).jwks, JSON.parse(c.jwks));
    assert.deepEqual(audit(inst, id).at(-1), { event: 'update', outcome: 'ok', actor: 'admin', detail: 'keys replaced' });

    // Ed25519 keys do not fit the client's ES256 without --alg.
    const ed = publicJwk(crypto.generateKeyPairSync('ed25519'));
    const edFile = jwksFile(inst, 'next-ed.jwks', { keys: [ed] });
    const refused = inst.admin(['client', 'keys', id, '--jwks', edFile]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /key 1 \(OKP Ed25519\) does not fit --alg ES256 \(the client's; --alg changes it\)/);
    assert.equal(stored(inst, id).jwks, c.jwks, 'unchanged');

    const moved = inst.admin(['client', 'keys', id, '--jwks', edFile, '--alg', 'EdDSA']);
    assert.equal(moved.status, 0, moved.stderr);
    c = stored(inst, id);
    assert.equal(c.signing_alg, 'EdDSA');
    assert.deepEqual(JSON.parse(c.jwks), { keys: [{ kty: 'OKP', crv: 'Ed25519', x: ed.x }] });
    assert.equal(show(inst, id).signing_alg, 'EdDSA');
  });

  it('keys refusals: unknown client 1; no --jwks, other methods, bad keys 2', () => {
    const file = jwksFile(inst, 'ok.jwks', { keys: [publicJwk(ecPair())] });
    const unknown = inst.admin(['client', 'keys', 'no-such-client', '--jwks', file]);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /no client 'no-such-client'/);
    const id = rows(inst, "SELECT client_id FROM clients WHERE client_name = 'jwt-bot'")[0].client_id;
    const none = inst.admin(['client', 'keys', id]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /usage: client keys CLIENT_ID --jwks FILE \| --jwks-uri URL \[--alg ALG\]/);
    const bot = rows(inst, "SELECT client_id FROM clients WHERE client_name = 'ci-bot'")[0].client_id;
    const other = inst.admin(['client', 'keys', bot, '--jwks', file]);
    assert.equal(other.status, 2);
    assert.match(other.stderr, new RegExp(`client ${bot} authenticates with client_secret_basic: keys are for private_key_jwt clients`));
    assert.equal(stored(inst, bot).jwks, null);
    const before = stored(inst, id).jwks;
    const priv = jwksFile(inst, 'priv2.jwks', { keys: [crypto.generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })] });
    const p = inst.admin(['client', 'keys', id, '--jwks', priv]);
    assert.equal(p.status, 2);
    assert.match(p.stderr, /key 1 is a private key \(it has "d"\)/);
    assert.equal(inst.admin(['client', 'keys', id, '--jwks', file, '--overlap', '1h']).status, 2, '--overlap does not apply');
    assert.equal(inst.admin(['client', 'keys', id, '--jwks', file, '--alg', 'HS256']).status, 2, 'HMAC is refused');
    assert.equal(stored(inst, id).jwks, before, 'unchanged');
  });

  // --- disable / enable ------------------------------------------------------

  it('disable sets disabled_at (the first time only); enable clears it', () => {
    const id = rows(inst, "SELECT client_id FROM clients WHERE client_name = 'ci-bot'")[0].client_id;
    const t0 = Math.floor(Date.now() / 1000);
    const d = inst.admin(['client', 'disable', id]);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(d.stdout, `client ${id}: disabled; the token endpoint refuses it (invalid_client) and the authorization endpoint shows an error page\n`);
    const at = stored(inst, id).disabled_at;
    assert.ok(at >= t0 - 1 && at <= t0 + 5, `disabled_at ${at}`); // time(2) may lag a second
    const s = show(inst, id);
    assert.match(s.disabled_at, ISO);
    assert.equal(Date.parse(s.disabled_at) / 1000, at);
    const table = inst.admin(['client', 'list'], { check: true }).stdout;
    assert.match(table, new RegExp(`^${id}\\s+operator\\s+client_secret_basic\\s+\\S+Z\\s+-\\s+${s.disabled_at}\\s+ci-bot$`, 'm'));

    exec(inst, `UPDATE clients SET disabled_at = disabled_at - 100 WHERE client_id = ${lit(id)}`);
    const again = inst.admin(['client', 'disable', id]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`^client ${id}: already disabled \\(since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)\n$`));
    assert.equal(stored(inst, id).disabled_at, at - 100, 'the first disabling time stays');

    const e = inst.admin(['client', 'enable', id]);
    assert.equal(e.status, 0, e.stderr);
    assert.equal(e.stdout, `client ${id}: enabled\n`);
    assert.equal(stored(inst, id).disabled_at, null);
    assert.equal(show(inst, id).disabled_at, null);
    assert.equal(inst.admin(['client', 'enable', id], { check: true }).stdout, `client ${id}: already enabled\n`);
    assert.deepEqual(audit(inst, id).slice(-2).map((a) => a.detail), ['disabled', 'enabled']);

    for (const sub of ['disable', 'enable']) {
      const r = inst.admin(['client', sub, 'no-such-client']);
      assert.equal(r.status, 1, `${sub} of an unknown client`);
      assert.match(r.stderr, /no client 'no-such-client'/);
      const bare = inst.admin(['client', sub]);
      assert.equal(bare.status, 2);
      assert.match(bare.stderr, new RegExp(`client ${sub} needs an argument`));
      assert.equal(inst.admin(['client', sub, id, 'extra']).status, 2, 'two arguments');
      const opt = inst.admin(['client', sub, id, '--grant', 'client_credentials']);
      assert.equal(opt.status, 2);
      assert.match(opt.stderr, new RegExp(`--grant does not apply to 'client ${sub}'`));
    }
  });

  it('never stores a secret it handed out', () => {
    assert.ok(secrets.length >= 10, `${secrets.length} secrets handed out`);
    const bytes = dbBytes(inst.db);
    for (const s of secrets) {
      assert.match(s, SECRET);
      assert.ok(!bytes.includes(s), 'a secret in the database');
    }
    const kept = rows(inst, 'SELECT secret_hash AS h FROM clients WHERE secret_hash IS NOT NULL').map((r) => r.h);
    for (const h of kept) assert.match(h, /^[A-Za-z0-9_-]{43}$/, 'base64url SHA-256');
  });
});

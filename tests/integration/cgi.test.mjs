// cgi.test.mjs: mcpauth-discovery started without a FastCGI manager answers
// one request as a plain CGI program (RFC 3875) and exits.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import fs from 'node:fs';
import path from 'node:path';

import {
  AUTHORIZE, DISCOVERY, Instance, REGISTER, TOKEN, cgiRequest,
} from './lib/harness.mjs';

const ISSUER = 'http://127.0.0.1:8999/t1';
const RESOURCE = 'http://127.0.0.1:8999/t1/mcp';

describe('mcpauth-discovery as plain CGI', () => {
  let inst;
  before(() => {
    inst = new Instance({
      issuer: ISSUER,
      resources: [{ url: RESOURCE, name: 'CGI test', scopes: ['mcp:tools'] }],
      name: 'cgi',
    });
  });
  after(() => inst?.remove());

  // Shows the program's stderr (its log) when an assertion fails.
  const check = (r, fn) => {
    try {
      fn();
    } catch (e) {
      e.message += `\n--- CGI response head ---\n${r.rawHead}\n--- stderr ---\n${r.stderr}`;
      throw e;
    }
  };

  it('answers GET with a Status line, headers and the metadata', () => {
    const r = cgiRequest(inst, { uri: '/.well-known/oauth-authorization-server/t1' });
    check(r, () => {
      assert.equal(r.exitCode, 0);
      assert.equal(r.statusLine, '200 OK');
      assert.match(r.rawHead, /^Status: 200 OK\r?$/m, 'a CGI Status header');
      assert.match(r.headers['content-type'], /^application\/json/);
      assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body));
      assert.equal(r.headers['cache-control'], 'public, max-age=3600');
      assert.equal(r.headers['access-control-allow-origin'], '*');
      assert.ok(r.body.includes(`"issuer":"${ISSUER}"`));
      assert.equal(JSON.parse(r.body).jwks_uri, `${ISSUER}/jwks`);
    });
  });

  it('serves the JWKS and protected resource metadata', () => {
    const j = cgiRequest(inst, { uri: '/t1/jwks?ignored=1' });
    check(j, () => {
      assert.equal(j.status, 200);
      assert.equal(j.headers['cache-control'], 'public, max-age=300');
      assert.ok(JSON.parse(j.body).keys.length >= 1);
    });
    const p = cgiRequest(inst, { uri: '/.well-known/oauth-protected-resource/t1/mcp' });
    check(p, () => {
      assert.equal(p.status, 200);
      const m = JSON.parse(p.body);
      assert.equal(m.resource, RESOURCE);
      assert.deepEqual(m.authorization_servers, [ISSUER]);
    });
  });

  it('answers HEAD with headers only', () => {
    const r = cgiRequest(inst, { method: 'HEAD', uri: '/t1/.well-known/openid-configuration' });
    check(r, () => {
      assert.equal(r.statusLine, '200 OK');
      assert.match(r.headers['content-type'], /^application\/json/);
      assert.equal(r.body, '');
    });
  });

  it('answers OPTIONS 204, other methods 405, unknown paths 404', () => {
    const o = cgiRequest(inst, {
      method: 'OPTIONS',
      uri: '/t1/jwks',
      headers: { Origin: 'http://client.example', 'Access-Control-Request-Method': 'GET' },
    });
    check(o, () => {
      assert.equal(o.statusLine, '204 No Content');
      assert.equal(o.headers['access-control-allow-origin'], '*');
      assert.match(o.headers['access-control-allow-headers'], /MCP-Protocol-Version/i);
      assert.equal(o.body, '');
    });

    const p = cgiRequest(inst, {
      method: 'POST',
      uri: '/t1/jwks',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'a=b',
    });
    check(p, () => {
      assert.equal(p.statusLine, '405 Method Not Allowed');
      assert.match(p.headers.allow, /\bGET\b/);
      assert.equal(JSON.parse(p.body).error, 'invalid_request');
    });

    const n = cgiRequest(inst, { uri: '/t1/nope' });
    check(n, () => {
      assert.equal(n.statusLine, '404 Not Found');
      assert.match(n.headers['content-type'], /^application\/json/);
      assert.equal(JSON.parse(n.body).error, 'invalid_request');
      assert.equal(n.exitCode, 0);
    });
  });

  it('answers 503 without internal detail when the configuration is missing', () => {
    const missing = `${inst.dir}/no-such.conf`;
    const r = cgiRequest({ conf: missing }, { uri: '/.well-known/oauth-authorization-server/t1' });
    check(r, () => {
      assert.equal(r.status, 503);
      const body = JSON.parse(r.body);
      assert.equal(body.error, 'temporarily_unavailable');
      assert.ok(!r.body.includes(missing), 'no file paths in the client response');
      assert.ok(r.stderr.includes('no-such.conf'), 'the log says why');
    });
  });
});

// Shared hosting (issue 8): a program refuses to serve while the
// configuration, the database or the keys sit in the document root or are
// open to other users; the client gets a 503 without paths, the log (the
// web server's error log: stderr here) says what to run.
describe('safety checks of the files a program serves from', () => {
  let inst;
  const URI = '/.well-known/oauth-authorization-server/t1';
  before(() => {
    inst = new Instance({
      issuer: ISSUER, resources: [{ url: RESOURCE, scopes: ['mcp:tools'] }], name: 'cgi-safety',
    });
  });
  after(() => inst?.remove());

  const refused = (r, ...says) => {
    try {
      assert.equal(r.status, 503);
      const body = JSON.parse(r.body);
      assert.equal(body.error, 'temporarily_unavailable');
      assert.equal(body.error_description,
        "the authorization server's files are not protected; its error log says how to fix it");
      assert.ok(!r.body.includes(inst.dir), 'no paths in the response');
      for (const s of says) assert.ok(r.stderr.includes(s), `the log says "${s}"`);
    } catch (e) {
      e.message += `\n--- body ---\n${r.body}\n--- stderr ---\n${r.stderr}`;
      throw e;
    }
  };
  const serves = (r) => assert.equal(r.status, 200, `${r.body}\n${r.stderr}`);

  it('serves with private files and a document root elsewhere', () => {
    const www = path.join(inst.dir, 'www');
    fs.mkdirSync(www, { recursive: true });
    serves(cgiRequest(inst, { uri: URI, env: { DOCUMENT_ROOT: www } }));
  });

  it('refuses a world-readable configuration', () => {
    fs.chmodSync(inst.conf, 0o644);
    try {
      refused(cgiRequest(inst, { uri: URI }), `chmod o-rwx ${inst.conf}`, 'open to other users');
    } finally {
      fs.chmodSync(inst.conf, 0o640);
    }
    serves(cgiRequest(inst, { uri: URI }));
  });

  it('refuses a world-readable signing key', () => {
    const [file] = fs.readdirSync(inst.keyDir).filter((f) => f.endsWith('.jwk'));
    const key = path.join(inst.keyDir, file);
    fs.chmodSync(key, 0o644);
    try {
      refused(cgiRequest(inst, { uri: URI }), `chmod go-rwx ${key}`, 'the key file');
    } finally {
      fs.chmodSync(key, 0o600);
    }
    serves(cgiRequest(inst, { uri: URI }));
  });

  it('refuses a database inside the document root, at every program', () => {
    // The database alone under the document root: the configuration and
    // the keys stay outside it.
    const www = path.join(inst.dir, 'www');
    fs.mkdirSync(path.join(www, 'data'), { recursive: true });
    const moved = path.join(www, 'data', 'mcpauth.db');
    fs.renameSync(inst.db, moved);
    const text = fs.readFileSync(inst.conf, 'utf8');
    fs.writeFileSync(inst.conf, text.replace(/^database = .*$/m, `database = ${moved}`));
    inst.chown();
    try {
      for (const program of [DISCOVERY, REGISTER, AUTHORIZE, TOKEN]) {
        refused(cgiRequest(inst, { uri: URI, program, env: { DOCUMENT_ROOT: www } }),
          `the database ${moved} is inside the document root ${www}`,
          'set database in mcpauth.conf to its new path');
      }
      // Apache's CONTEXT_DOCUMENT_ROOT (a ~user URL, an Alias) counts too.
      refused(cgiRequest(inst, {
        uri: URI, env: { DOCUMENT_ROOT: '/var/www/html', CONTEXT_DOCUMENT_ROOT: www },
      }), `the database ${moved} is inside the document root ${www}`);
      // Through a symbolic link to the document root too.
      const link = path.join(inst.dir, 'www-link');
      fs.symlinkSync(www, link);
      refused(cgiRequest(inst, { uri: URI, env: { DOCUMENT_ROOT: link } }), 'is inside the document root');
      // Served from elsewhere, the same files are fine.
      serves(cgiRequest(inst, { uri: URI, env: { DOCUMENT_ROOT: path.join(inst.dir, 'keys-not-www') } }));
    } finally {
      fs.renameSync(moved, inst.db);
      fs.writeFileSync(inst.conf, text);
    }
  });
});

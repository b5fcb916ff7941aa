// docserver.test.mjs: a self-test of lib/docserver.mjs, the https document
// server (and its test CA) that the URL-fetching tests rely on. Checks that
// the chain verifies for node and for the curl command, that the routes
// answer as documented, and that connections are counted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';

import { startCountingListener, startDocServer, testCa } from './lib/docserver.mjs';

// GET url, verifying against the test CA. Resolves with { status, headers,
// body } once the whole body is in.
function get(url, options = {}) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: fs.readFileSync(testCa().caFile), agent: false, ...options },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }));
        res.on('error', reject);
      });
    req.on('error', reject);
  });
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('docserver', () => {
  let docs;

  before(async () => {
    docs = await startDocServer();
  });

  after(async () => {
    await docs?.close();
  });

  it('makes a readable test CA', () => {
    const ca = testCa();
    assert.equal(testCa(), ca, 'memoised');
    assert.equal(fs.statSync(ca.dir).mode & 0o777, 0o755);
    assert.equal(fs.statSync(ca.caFile).mode & 0o777, 0o644);
    assert.match(fs.readFileSync(ca.caFile, 'utf8'), /^-----BEGIN CERTIFICATE-----/);
    assert.match(ca.cert, /^-----BEGIN CERTIFICATE-----/);
    assert.match(ca.key, /PRIVATE KEY-----/);
  });

  it('answers a json route over a verified connection', async () => {
    docs.route('/client.json', {
      json: { client_id: 'x', redirect_uris: [] },
      headers: { 'cache-control': 'max-age=60' },
    });
    const r = await get(docs.url('/client.json'));
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['cache-control'], 'max-age=60');
    assert.deepEqual(JSON.parse(r.body), { client_id: 'x', redirect_uris: [] });
  });

  it('verifies by IP address too', async () => {
    docs.route('/ip', { json: '{"ok":true}', status: 201 });
    const r = await get(docs.ipUrl('/ip'));
    assert.equal(r.status, 201);
    assert.equal(r.body, '{"ok":true}');
  });

  it('fails verification without the CA', async () => {
    await assert.rejects(get(docs.url('/ip'), { ca: undefined }),
      (err) => /self.signed|unable to (get|verify)/i.test(err.code + ' ' + err.message));
  });

  it('answers a raw route with its own headers', async () => {
    docs.route('/raw', { status: 200, body: 'not json', headers: { 'content-type': 'text/plain' } });
    const r = await get(docs.url('/raw'));
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.body, 'not json');
  });

  it('sends bodies of an exact size, with and without a length', async () => {
    docs.route('/big', { size: 100000 });
    const r = await get(docs.url('/big'));
    assert.equal(r.headers['content-length'], '100000');
    assert.equal(Buffer.byteLength(r.body), 100000);
    assert.doesNotThrow(() => JSON.parse(r.body));

    docs.route('/big-chunked', { size: 300000, chunked: true });
    const c = await get(docs.url('/big-chunked'));
    assert.equal(c.headers['content-length'], undefined);
    assert.equal(c.headers['transfer-encoding'], 'chunked');
    assert.equal(Buffer.byteLength(c.body), 300000);
    assert.doesNotThrow(() => JSON.parse(c.body));

    docs.route('/tiny', { size: 5 });
    assert.equal((await get(docs.url('/tiny'))).body, '{}   ');
  });

  it('redirects', async () => {
    docs.route('/moved', { redirect: 'https://example.com/elsewhere' });
    docs.route('/moved-301', { redirect: '/client.json', status: 301 });
    const r = await get(docs.url('/moved'));
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'https://example.com/elsewhere');
    const p = await get(docs.url('/moved-301'));
    assert.equal(p.status, 301);
    assert.equal(p.headers.location, '/client.json');
  });

  it('answers 404 for unknown paths', async () => {
    const r = await get(docs.url('/nothing-here'));
    assert.equal(r.status, 404);
    assert.deepEqual(JSON.parse(r.body), { error: 'not found' });
  });

  it('runs function routes and matches paths without the query', async () => {
    docs.route('/fn', (req, res) => {
      res.writeHead(418, { 'content-type': 'text/plain' });
      res.end(`method ${req.method}`);
    });
    const r = await get(docs.url('/fn?a=1'));
    assert.equal(r.status, 418);
    assert.equal(r.body, 'method GET');
  });

  it('counts connections and records requests', async () => {
    docs.reset();
    assert.equal(docs.connections, 0);
    assert.equal(docs.requests.length, 0);
    await get(docs.url('/client.json'));
    await get(docs.ipUrl('/nothing-here?x=y'));
    assert.equal(docs.connections, 2);
    assert.deepEqual(docs.requests.map((q) => [q.method, q.path]),
      [['GET', '/client.json'], ['GET', '/nothing-here?x=y']]);
    assert.equal(docs.requests[0].headers.host, `localhost:${docs.port}`);
    assert.equal(typeof docs.requests[0].at, 'number');

    // A bare TCP connection counts, though it never speaks TLS.
    await new Promise((resolve, reject) => {
      const s = net.connect(docs.port, '127.0.0.1', () => s.end());
      s.on('error', reject);
      s.on('close', resolve);
    });
    assert.equal(docs.connections, 3);
  });

  it('is trusted by curl with the test CA', async () => {
    docs.route('/x', { json: { hello: 'curl' } });
    const r = await run('curl', ['--silent', '--show-error', '--cacert', testCa().caFile,
      docs.url('/x')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"hello":"curl"}');
    const ip = await run('curl', ['--silent', '--show-error', '--cacert', testCa().caFile,
      docs.ipUrl('/x')]);
    assert.equal(ip.code, 0, ip.stderr);
    assert.equal(ip.stdout, '{"hello":"curl"}');
  });

  it('drips and hangs until closed', async () => {
    const slow = await startDocServer();
    try {
      slow.route('/drip', { drip: { bytes: 1000, everyMs: 20 } });
      slow.route('/hang', { hang: true });
      const hung = new Promise((resolve) => {
        const req = https.get(slow.url('/hang'), { ca: fs.readFileSync(testCa().caFile), agent: false },
          () => resolve('answered'));
        req.on('error', () => resolve('error'));
        req.on('close', () => resolve('closed'));
      });
      const dripped = await new Promise((resolve, reject) => {
        const req = https.get(slow.url('/drip'), { ca: fs.readFileSync(testCa().caFile), agent: false },
          (res) => {
            let got = 0;
            res.on('data', (c) => {
              got += c.length;
              if (got >= 3) resolve({ status: res.statusCode, got, res });
            });
          });
        req.on('error', reject);
      });
      assert.equal(dripped.status, 200);
      assert.ok(dripped.got < 1000, 'the body comes slowly');
      const ended = new Promise((resolve) => {
        dripped.res.on('close', () => resolve(true));
        dripped.res.on('error', () => resolve(true));
      });
      await slow.close();
      assert.equal(await ended, true);
      assert.notEqual(await hung, 'answered');
      assert.equal(slow.requests.length, 2);
    } finally {
      await slow.close();
    }
  });
});

describe('counting listener', () => {
  it('counts a connection and drops it', async () => {
    const l = await startCountingListener();
    try {
      assert.equal(l.host, '127.0.0.1');
      assert.equal(l.connections, 0);
      await new Promise((resolve) => {
        const s = net.connect(l.port, l.host);
        s.on('error', () => {});
        s.on('close', resolve);
      });
      assert.equal(l.connections, 1);
    } finally {
      await l.close();
    }
  });
});

// docserver.mjs: a real https server on 127.0.0.1 for the documents mcpauth
// fetches from client-controlled URLs (Client ID Metadata Documents, jwks_uri).
// Its certificate chains to a throwaway test CA (testCa().caFile, for
// `fetch_ca_file =` in mcpauth.conf); routes can answer well or misbehave
// (redirects, oversized or chunked bodies, slow drips, no answer at all).
// It counts the TCP connections it accepts, and startCountingListener() gives
// a bare port that only counts, so that tests can assert that mcpauth made
// no connection at all for a URL it must refuse.
//
// The CA is made with the openssl CLI, once per process, and is removed when
// the process exits. The chain is built to suit GnuTLS (libcurl-gnutls) too:
// version 3 certificates with subject and authority key identifiers.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// Our own openssl configuration, so that the system's openssl.cnf adds no
// extensions of its own.
const OPENSSL_CNF = `# Written by tests/integration/lib/docserver.mjs
[req]
distinguished_name = dn
prompt = no

[dn]
CN = unused

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1, DNS:docs.localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

function openssl(dir, args) {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run openssl: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`openssl ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  }
  return r.stdout;
}

let ca = null;

// The test CA and a server certificate for localhost, 127.0.0.1 and ::1
// (and docs.localhost), signed by it. Made once per process. caFile is the
// path of the CA certificate; cert and key are the server's, as PEM text.
export function testCa() {
  if (ca) return ca;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpauth-ca-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'openssl.cnf'), OPENSSL_CNF);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, [
    'req', '-config', 'openssl.cnf', '-x509', '-new', ...ec,
    '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=mcpauth test CA', '-extensions', 'ca_ext',
  ]);
  openssl(dir, [
    'req', '-config', 'openssl.cnf', '-new', ...ec,
    '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=localhost',
  ]);
  // A random positive serial: no serial file left lying around.
  const serial = crypto.randomBytes(16);
  serial[0] &= 0x7f;
  openssl(dir, [
    'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem',
    '-set_serial', `0x${serial.toString('hex')}`, '-days', '2',
    '-extfile', 'openssl.cnf', '-extensions', 'server_ext', '-out', 'server.pem',
  ]);
  // The programs under test may run as another user (www-data).
  fs.chmodSync(dir, 0o755);
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
  ca = {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    cert: fs.readFileSync(path.join(dir, 'server.pem'), 'utf8'),
    key: fs.readFileSync(path.join(dir, 'server-key.pem'), 'utf8'),
  };
  return ca;
}

// A JSON document of exactly n bytes: {"pad":"xxx…"}, or {} and spaces when
// n is too small for that.
export function paddedJson(n) {
  if (!Number.isInteger(n) || n < 2) throw new Error(`no JSON document has ${n} bytes`);
  if (n < 10) return '{}'.padEnd(n, ' ');
  return `{"pad":"${'x'.repeat(n - 10)}"}`;
}

function sendBody(res, status, headers, defaults, body) {
  res.statusCode = status;
  for (const [k, v] of Object.entries(defaults)) res.setHeader(k, v);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (!res.hasHeader('content-length') && !res.hasHeader('transfer-encoding')) {
    res.setHeader('content-length', Buffer.byteLength(body));
  }
  res.end(body);
}

// Write body in pieces with no Content-Length (so chunked), minding
// backpressure, and stop if the client goes away.
async function sendChunked(res, body) {
  res.writeHead(200, { 'content-type': 'application/json' });
  const PIECE = 64 * 1024;
  for (let i = 0; i < body.length; i += PIECE) {
    if (res.destroyed) return;
    if (!res.write(body.slice(i, i + PIECE))) {
      await new Promise((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
  }
  if (!res.destroyed) res.end();
}

// A server for documents on https://localhost:PORT (and 127.0.0.1:PORT).
// route(path, spec) sets what a path answers; it is matched against the
// request's path with its query, then without. A spec is one of:
//   { json, status = 200, headers = {} }  JSON.stringify(json), or json as is
//                                         when a string; application/json
//   { status = 200, body = '', headers = {} }  a raw answer
//   { redirect: url, status = 302 }       a redirect to url
//   { size: n }                           a JSON document of exactly n bytes
//   { size: n, chunked: true }            the same, chunked (no length)
//   { drip: { bytes: n, everyMs: m } }    headers at once, then n bytes of
//                                         JSON, one every m ms
//   { hang: true }                        no answer at all
//   (req, res) => void                    anything else
// Any other path answers 404 {"error":"not found"}.
export async function startDocServer() {
  const { cert, key } = testCa();
  const routes = new Map();
  const sockets = new Set();
  const timers = new Set();
  const requests = [];
  let connections = 0;
  let closed = false;
  let closing = null;

  function drip(res, { bytes, everyMs }) {
    const body = paddedJson(bytes);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.flushHeaders();
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || closed) return stop();
      res.write(body[sent++]);
      if (sent >= body.length) {
        res.end();
        stop();
      }
    }, everyMs);
    timers.add(timer);
    function stop() {
      clearInterval(timer);
      timers.delete(timer);
    }
    res.once('close', stop);
  }

  function handle(req, res) {
    const url = req.url;
    const pathname = url.split('?')[0];
    requests.push({ method: req.method, path: url, headers: req.headers, at: Date.now() });
    const spec = routes.has(url) ? routes.get(url) : routes.get(pathname);
    if (spec === undefined) {
      sendBody(res, 404, {}, { 'content-type': 'application/json' }, '{"error":"not found"}');
    } else if (typeof spec === 'function') {
      spec(req, res);
    } else if (spec.redirect !== undefined) {
      sendBody(res, spec.status ?? 302, {}, { location: spec.redirect }, '');
    } else if (spec.hang) {
      // Never answered: close() destroys the socket.
    } else if (spec.drip) {
      drip(res, spec.drip);
    } else if (spec.size !== undefined) {
      const body = paddedJson(spec.size);
      if (spec.chunked) {
        sendChunked(res, body).catch(() => res.destroy());
      } else {
        sendBody(res, 200, {}, { 'content-type': 'application/json' }, body);
      }
    } else if (spec.json !== undefined) {
      const body = typeof spec.json === 'string' ? spec.json : JSON.stringify(spec.json);
      sendBody(res, spec.status ?? 200, spec.headers ?? {},
        { 'content-type': 'application/json' }, body);
    } else {
      sendBody(res, spec.status ?? 200, spec.headers ?? {}, {}, spec.body ?? '');
    }
  }

  const server = https.createServer({ cert, key }, handle);
  // 'connection' is the TCP accept, before any TLS.
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A client that rejects the certificate or drops the handshake is no error
  // of ours.
  server.on('tlsClientError', () => {});

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address();

  return {
    port,
    origin: `https://localhost:${port}`,
    url: (p) => `https://localhost:${port}${p}`,
    ipUrl: (p) => `https://127.0.0.1:${port}${p}`,
    // TCP connections accepted so far.
    get connections() { return connections; },
    // Every request served: { method, path, headers, at }.
    requests,
    reset() {
      connections = 0;
      requests.length = 0;
    },
    // What path answers (see above for the kinds of spec).
    route(p, spec) {
      routes.set(p, spec);
    },
    // Stops the server, ending any answer still under way. Safe to call twice.
    close() {
      if (closing) return closing;
      closed = true;
      for (const t of timers) clearInterval(t);
      timers.clear();
      closing = new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

// A plain TCP listener that accepts, counts and drops connections at once:
// the place to point a URL that mcpauth must never connect to.
export async function startCountingListener(host = '127.0.0.1') {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.on('error', () => {});
    socket.destroy();
  });
  await new Promise((resolve, reject) => {
    const fail = (err) => {
      const what = net.isIPv6(host) ? `IPv6 address ${host} (no IPv6 loopback?)` : host;
      reject(new Error(`cannot listen on ${what}: ${err.message}`));
    };
    server.once('error', fail);
    server.listen(0, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const { port } = server.address();
  return {
    port,
    host,
    get connections() { return connections; },
    close() {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// pools.mjs: single-use values for the pool scenarios of bench/run, made
// before a run and read by wrk/pool.lua one per request:
// - client assertions (RFC 7523) for private_key_jwt, each with its own jti;
// - authorization codes and refresh tokens for mcpauth, cloned in SQL from
//   the rows that one real sign-in and code exchange left (the same client,
//   user, resource, scope and PKCE challenge; a new hash, new times, and for
//   refresh tokens a family of their own), since signing in 100,000 times
//   through the login form would take longer than the run.
// The peer mints its own codes and refresh tokens in-process (peer.mjs).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';

import * as jose from 'jose';

const b64u = (b) => Buffer.from(b).toString('base64url');
export const sha256 = (s) => crypto.createHash('sha256').update(s).digest('base64url');
export const randomToken = (bytes = 32) => crypto.randomBytes(bytes).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

// An ES256 key pair for a private_key_jwt client: the public JWK for its
// JWKS, and the private key as a node:crypto KeyObject for fast signing.
export async function clientKey() {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const pub = await jose.exportJWK(publicKey);
  const kid = await jose.calculateJwkThumbprint(pub);
  const priv = await jose.exportJWK(privateKey);
  return {
    kid,
    publicJwk: { ...pub, kid, use: 'sig', alg: 'ES256' },
    privateJwk: { ...priv, kid, alg: 'ES256' },
    keyObject: crypto.createPrivateKey({ key: priv, format: 'jwk' }),
    publicKey,
  };
}

// n assertions for clientId at aud, valid for lifetime seconds (mcpauth
// takes at most 300), one a line in file. Signed with node:crypto (about
// 28,000 a second here, twice jose's SignJWT); the first is checked with
// jose as a resource server would check it.
export async function writeAssertions(file, n, { key, clientId, aud, lifetime = 240 }) {
  const header = b64u(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: key.kid }));
  const iat = nowS();
  const fd = fs.openSync(file, 'w');
  let buf = [];
  for (let i = 0; i < n; i++) {
    const claims = { iss: clientId, sub: clientId, aud, iat, exp: iat + lifetime, jti: randomToken(18) };
    const input = `${header}.${b64u(JSON.stringify(claims))}`;
    const sig = crypto.sign('sha256', Buffer.from(input), { key: key.keyObject, dsaEncoding: 'ieee-p1363' });
    buf.push(`${input}.${sig.toString('base64url')}`);
    if (i === 0) {
      await jose.jwtVerify(buf[0], key.publicKey, { issuer: clientId, subject: clientId, audience: aud });
    }
    if (buf.length === 5000) {
      fs.writeSync(fd, `${buf.join('\n')}\n`);
      buf = [];
    }
  }
  if (buf.length) fs.writeSync(fd, `${buf.join('\n')}\n`);
  fs.closeSync(fd);
}

function sqlite(db, sql) {
  const r = spawnSync('sqlite3', [db], { input: sql, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`sqlite3 ${db}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export function sqliteRows(db, sql) {
  const out = spawnSync('sqlite3', ['-json', db, sql], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`sqlite3: ${out.stderr}`);
  return out.stdout.trim() ? JSON.parse(out.stdout) : [];
}

const lit = (v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);

// Copies the row of table whose keyCol is templateKey n times, with
// changes: { column: (i) => value } (a value per copy) or a constant.
function cloneRows(inst, table, keyCol, templateKey, n, changes) {
  const cols = sqliteRows(inst.db, `PRAGMA table_info(${table})`).map((c) => c.name);
  const varying = Object.keys(changes).filter((c) => typeof changes[c] === 'function');
  for (const c of Object.keys(changes)) if (!cols.includes(c)) throw new Error(`${table} has no ${c}`);
  const parts = ['.timeout 10000', 'BEGIN IMMEDIATE;',
    `CREATE TEMP TABLE bench_new (${varying.map((c) => `"${c}"`).join(', ')});`];
  for (let i = 0; i < n; i += 500) {
    const rows = [];
    for (let j = i; j < Math.min(n, i + 500); j++) rows.push(`(${varying.map((c) => lit(changes[c](j))).join(', ')})`);
    parts.push(`INSERT INTO bench_new VALUES ${rows.join(', ')};`);
  }
  const select = cols.map((c) => {
    if (varying.includes(c)) return `n."${c}"`;
    if (c in changes) return lit(changes[c]);
    return `t."${c}"`;
  });
  parts.push(`INSERT INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) ` +
    `SELECT ${select.join(', ')} FROM bench_new n, ${table} t WHERE t."${keyCol}" = ${lit(templateKey)};`);
  parts.push(`SELECT changes();`, 'DROP TABLE bench_new;', 'COMMIT;');
  const made = Number(sqlite(inst.db, parts.join('\n')).trim());
  inst.chown();
  if (made !== n) throw new Error(`${table}: made ${made} copies, not ${n}`);
}

// n authorization codes like the one whose hash is templateHash, issued
// now and living lifetime seconds (code_lifetime), one a line in file.
export function mintCodes(inst, file, n, templateHash, lifetime = 60) {
  const codes = Array.from({ length: n }, () => randomToken(32));
  const now = nowS();
  cloneRows(inst, 'authorization_codes', 'code_hash', templateHash, n, {
    code_hash: (i) => sha256(codes[i]),
    created_at: now,
    expires_at: now + lifetime,
    consumed_at: null,
    family_id: null,
  });
  fs.writeFileSync(file, `${codes.join('\n')}\n`);
}

// n refresh tokens like the one whose hash is templateHash, each the first
// of a family of its own, one a line in file.
export function mintRefreshTokens(inst, file, n, templateHash, lifetime = 30 * 86400) {
  const tokens = Array.from({ length: n }, () => randomToken(32));
  const families = Array.from({ length: n }, () => randomToken(16));
  const now = nowS();
  cloneRows(inst, 'refresh_tokens', 'token_hash', templateHash, n, {
    token_hash: (i) => sha256(tokens[i]),
    family_id: (i) => families[i],
    created_at: now,
    expires_at: now + lifetime,
    rotated_at: null,
    revoked_at: null,
  });
  fs.writeFileSync(file, `${tokens.join('\n')}\n`);
}

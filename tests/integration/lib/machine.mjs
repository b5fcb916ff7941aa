// machine.mjs: helpers for the machine-client tests (machine.test.mjs):
// provisioning with `mcpauth-admin client add ... --json`, key pairs and
// JWKS files for private_key_jwt, client assertions (RFC 7523) signed
// properly or in the ways an attacker would, client_credentials token
// requests, and the checks an access token issued to a machine must pass.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import * as jose from 'jose';

import { tokenRequest } from './flow.mjs';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const subtle = crypto.webcrypto.subtle;
const b64u = (s) => Buffer.from(s).toString('base64url');
export const nowS = () => Math.floor(Date.now() / 1000);
export const newJti = () => crypto.randomBytes(18).toString('base64url');

// --- provisioning ----------------------------------------------------------------

// `mcpauth-admin client add NAME ARGS... --json`: must exit 0 with one JSON
// object on standard output. Returns it.
export function addClient(inst, name, args) {
  const r = inst.admin(['client', 'add', name, ...args, '--json']);
  assert.equal(r.status, 0, `client add ${name} ${args.join(' ')}: exit ${r.status}\n${r.stderr}${r.stdout}`);
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch (e) {
    assert.fail(`client add --json printed no JSON object: ${r.stdout}\n${r.stderr}`);
  }
  assert.equal(typeof out, 'object', r.stdout);
  assert.equal(typeof out.client_id, 'string', `client_id in ${r.stdout}`);
  return out;
}

// The 43-character secret in an admin command's output: a JSON object's
// client_secret, else the one 43-character base64url word of the text
// (client ids have 22).
export function secretIn(stdout) {
  try {
    const o = JSON.parse(stdout);
    if (typeof o?.client_secret === 'string') return o.client_secret;
  } catch { /* text */ }
  const words = [...stdout.matchAll(/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g)].map((m) => m[0]);
  assert.equal(new Set(words).size, 1, `one 43-character secret in: ${stdout}`);
  return words[0];
}

// Writes a file into the instance directory, readable by the service user.
export function writeInstanceFile(inst, name, text) {
  const f = path.join(inst.dir, name);
  fs.writeFileSync(f, text, { mode: 0o644 });
  inst.chown();
  return f;
}

// --- keys ----------------------------------------------------------------------------

// An EC P-256 key pair (node:crypto's Web Crypto): the private CryptoKey
// (openid-client wants one), the private JWK (the MCP SDK takes one), the
// public JWK as it goes into a JWKS, and the public key as PEM (SPKI).
export async function ecKeyPair() {
  const { privateKey, publicKey } = await subtle.generateKey(
    { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const pub = await subtle.exportKey('jwk', publicKey);
  const priv = await subtle.exportKey('jwk', privateKey);
  const bare = { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y };
  const kid = await jose.calculateJwkThumbprint(bare);
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk: { ...bare, kid, use: 'sig', alg: 'ES256' },
    privateJwk: { ...bare, d: priv.d, kid, alg: 'ES256' },
    publicPem: crypto.KeyObject.from(publicKey).export({ type: 'spki', format: 'pem' }),
  };
}

// An Ed25519 (EdDSA) or RSA 2048 (RS256) key pair as node:crypto KeyObjects:
// the private key, the public JWK for a JWKS, the public PEM, the alg.
export async function keyPair(alg) {
  const { privateKey, publicKey } = alg === 'EdDSA'
    ? crypto.generateKeyPairSync('ed25519')
    : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const bare = publicKey.export({ format: 'jwk' });
  const kid = await jose.calculateJwkThumbprint(bare);
  return {
    kid,
    alg,
    privateKey,
    publicKey,
    publicJwk: { ...bare, kid, use: 'sig', alg },
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }),
  };
}

export const jwksText = (...keys) => `${JSON.stringify({ keys }, null, 2)}\n`;

// --- client assertions (RFC 7523 §3) ----------------------------------------------

// The claims of a good assertion for clientId, with changes (a value of
// undefined removes the claim).
export function assertionClaims(clientId, aud, changes = {}) {
  const now = nowS();
  const c = { iss: clientId, sub: clientId, aud, iat: now, exp: now + 60, jti: newJti(), ...changes };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c;
}

// Signs claims with key's private key (a CryptoKey or KeyObject) with its
// alg (ES256 when it has none); header adds to or changes the header.
export function signAssertion(key, claims, header = {}) {
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: key.alg ?? 'ES256', typ: 'JWT', ...header })
    .sign(key.privateKey);
}

// An unsecured JWT (alg none, empty signature).
export function unsignedAssertion(claims) {
  return `${b64u(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64u(JSON.stringify(claims))}.`;
}

// An HS256 JWT with secret (bytes or text) as the HMAC key: the classic
// algorithm confusion, with the client's public key as the secret.
export function hmacAssertion(claims, secret, kid) {
  const header = { alg: 'HS256', typ: 'JWT', ...(kid ? { kid } : {}) };
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  const mac = crypto.createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${mac}`;
}

// --- token requests ---------------------------------------------------------------------

// grant_type=client_credentials with an assertion (client_id only when given).
export function assertionGrant(issuer, assertion, { clientId, resource, scope, ...extra } = {}) {
  return tokenRequest(issuer, {
    grant_type: 'client_credentials',
    client_id: clientId,
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    resource,
    scope,
    ...extra,
  });
}

// grant_type=client_credentials with a secret: Basic (default) or in the body.
export function secretGrant(issuer, clientId, secret, { post = false, resource, scope, ...extra } = {}) {
  const params = { grant_type: 'client_credentials', resource, scope, ...extra };
  if (post) return tokenRequest(issuer, { ...params, client_id: clientId, client_secret: secret });
  return tokenRequest(issuer, params, { basic: [clientId, secret] });
}

// --- the tokens -------------------------------------------------------------------------------

// Checks an access token issued to a machine, as a resource server would
// (RFC 9068) and as the spec says: aud = the resource, sub =
// "client:<client_id>", principal_type "client", no auth_time. Returns
// the claims.
export async function assertMachineToken(issuer, token, { clientId, resource, scope }) {
  const jwks = jose.createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
    issuer, audience: resource, typ: 'at+jwt',
  });
  assert.equal(protectedHeader.typ, 'at+jwt', 'the JWS typ header, exactly');
  assert.deepEqual([].concat(payload.aud), [resource], 'aud is the resource URL, only');
  assert.equal(payload.sub, `client:${clientId}`, 'a machine\'s sub is client:<client_id>');
  assert.equal(payload.principal_type, 'client', 'principal_type client');
  assert.equal(payload.client_id, clientId);
  if (scope !== undefined) assert.equal(payload.scope, scope);
  assert.ok(!('auth_time' in payload), `no auth_time: nobody signed in (${JSON.stringify(payload)})`);
  assert.equal(typeof payload.jti, 'string');
  assert.ok(payload.jti.length >= 16, 'a long jti');
  assert.ok(Math.abs(payload.iat - nowS()) <= 60, 'iat is now');
  assert.ok(payload.exp > payload.iat, 'exp after iat');
  return payload;
}

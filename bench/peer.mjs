// peer.mjs: the benchmarks' peer, node oidc-provider v9 (bench/package.json)
// set up to do what mcpauth does in each scenario: client_credentials for a
// client_secret_basic and a private_key_jwt (ES256) client, ES256 JWT access
// tokens for one resource (resource indicators, RFC 8707), open dynamic
// registration, and a public client with the authorization code grant and
// rotating refresh tokens.
//
//   PEER_CONFIG=file.json node bench/peer.mjs
//
// file.json (written by run.mjs): { port, issuer, resource, workers,
// signingJwk (private ES256 JWK), basic: { client_id, client_secret },
// jwt: { client_id, jwks }, public: { client_id, redirect_uri } }.
//
// workers 1: one process, and when started with an IPC channel (fork) it
// mints authorization codes and refresh tokens on request: { mint: 'code' |
// 'refresh', n, file, challenge } writes n of them to file, one a line, and
// answers { minted: n }. workers N > 1: the node cluster module, N worker
// processes sharing the port; each has its own memory store, so only the
// scenarios that keep no state across requests work there (run.mjs knows).
//
// Storage: oidc-provider's own in-memory adapter (MemoryAdapter), given an
// LRU of 10 million entries instead of its default 1000, which would evict
// the codes and refresh tokens of a pool before they are used. Durable
// storage would only slow the peer down.
import cluster from 'node:cluster';
import fs from 'node:fs';

import Provider from 'oidc-provider';
import LRU from 'oidc-provider/lib/helpers/lru.js';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

const cfg = JSON.parse(fs.readFileSync(process.env.PEER_CONFIG, 'utf8'));
const workers = Number(cfg.workers) || 1;
const ACCOUNT = 'bench-user';
const SCOPES = 'mcp:tools';

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers) process.send?.({ ready: true });
  });
  cluster.on('exit', (w, code, signal) => {
    if (!shuttingDown) console.error(`peer: worker ${w.process.pid} exited (${code ?? signal})`);
  });
  let shuttingDown = false;
  process.on('SIGTERM', () => {
    shuttingDown = true;
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 200);
  });
} else {
  const provider = makeProvider();
  const server = provider.listen(cfg.port, '127.0.0.1', () => {
    if (workers === 1) process.send?.({ ready: true });
  });
  server.keepAliveTimeout = 30_000;
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  if (workers === 1) {
    process.on('message', (m) => {
      if (!m?.mint) return;
      mint(provider, m).then(
        (n) => process.send({ minted: n }),
        (e) => process.send({ error: String(e?.stack || e) }),
      );
    });
  }
}

function makeProvider() {
  const store = new LRU({ maxSize: 10_000_000 });
  const resourceServer = {
    scope: 'mcp:tools mcp:resources',
    audience: cfg.resource,
    accessTokenTTL: 3600,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'ES256' } },
  };
  const provider = new Provider(cfg.issuer, {
    clients: [
      {
        client_id: cfg.basic.client_id,
        client_secret: cfg.basic.client_secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: SCOPES,
      },
      {
        client_id: cfg.jwt.client_id,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: cfg.jwt.jwks,
        scope: SCOPES,
      },
      {
        client_id: cfg.public.client_id,
        application_type: 'native',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [cfg.public.redirect_uri],
        token_endpoint_auth_method: 'none',
        scope: `${SCOPES} offline_access`,
      },
    ],
    adapter: (model) => new MemoryAdapter(model, store),
    jwks: { keys: [cfg.signingJwk] },
    // The one key is ES256: ID tokens (never issued here) must say so too.
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    scopes: ['openid', 'offline_access', 'mcp:tools', 'mcp:resources'],
    findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      registration: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => cfg.resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => resourceServer,
      },
    },
    // As mcpauth: a refresh token with every code exchange, rotated at every use.
    issueRefreshToken: (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    pkce: { required: () => true },
    ttl: {
      AccessToken: 3600,
      ClientCredentials: 3600,
      AuthorizationCode: 60,
      RefreshToken: 30 * 86400,
      Grant: 30 * 86400,
    },
  });
  provider.on('server_error', (ctx, err) => console.error('peer: server_error', err));
  return provider;
}

// n authorization codes (PKCE S256 with m.challenge) or refresh tokens for
// the public client, each of its own grant, as the authorization endpoint
// would leave them after a sign-in and consent.
async function mint(provider, m) {
  const client = await provider.Client.find(cfg.public.client_id);
  const now = Math.floor(Date.now() / 1000);
  const out = [];
  for (let i = 0; i < m.n; i++) {
    const grant = new provider.Grant({ clientId: client.clientId, accountId: ACCOUNT });
    grant.addOIDCScope('offline_access');
    grant.addResourceScope(cfg.resource, SCOPES);
    const grantId = await grant.save();
    const common = {
      accountId: ACCOUNT, client, grantId, authTime: now,
      scope: `offline_access ${SCOPES}`, resource: cfg.resource,
    };
    const token = m.mint === 'code'
      ? new provider.AuthorizationCode({
        ...common, redirectUri: cfg.public.redirect_uri,
        codeChallenge: m.challenge, codeChallengeMethod: 'S256',
      })
      : new provider.RefreshToken({ ...common, gty: 'authorization_code', rotations: 0 });
    out.push(await token.save());
  }
  fs.writeFileSync(m.file, `${out.join('\n')}\n`);
  return out.length;
}

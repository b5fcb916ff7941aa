// flow-security.test.mjs: the attacks on the sign-in and token flow that
// SECURITY.md ("Redirects", "Codes, PKCE, refresh", "Client
// authentication", "Browser pages") and the flow spec list, each sent to
// mcpauth-authorize / mcpauth-token behind real lighttpd (and Apache for
// the races and the headers), each checked for its exact refusal;
// simultaneous redemptions and form submissions (also released together
// from a held database write lock, which makes the races repeatable); and a
// canary search: no password, secret, code, token or session id in the
// logs, the pages or the database files.
//
// The browser's part is played by FormBrowser (lib/flow.mjs): plain fetch
// with a cookie jar, walking the login and consent forms.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import * as jose from 'jose';

import {
  LIBEXECDIR, cgiRequest, dbBytes, sqlite3, sqliteJson, startInstance, withLogs,
} from './lib/harness.mjs';
import {
  FormBrowser, addUser, assertErrorPage, assertPageHeaders, assertTokenError, assertTokens,
  authorizeUrl, hiddenFields, htmlDecode, inputs, lit, pageKind, pkce, randomToken, registerClient,
  sha256, simultaneously, tokenRequest, cookieName,
} from './lib/flow.mjs';

const LOOPBACK = 'http://127.0.0.1:6276/oauth/callback';
const WEB = 'https://app.example.com/cb';
const ALICE = { username: 'alice', password: `alice-pw-${randomToken(9)}` };
const BOB = { username: 'bob', password: `bob-pw-${randomToken(9)}` };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const AUTHORIZE = path.join(LIBEXECDIR, 'mcpauth-authorize');

// --- per-describe setup --------------------------------------------------------

// One server for the describe, with users, and bookkeeping for the canary
// search: every browser, token answer and registration of the describe.
function serve(kind, opts, users = [ALICE, BOB]) {
  const env = { browsers: [], tokenAnswers: [], registrations: [], verifiers: [], passwords: [] };
  before(async () => {
    Object.assign(env, await startInstance(kind, opts));
    env.main = env.resources[0].url;
    env.other = env.resources[1]?.url;
    for (const u of users) {
      addUser(env.inst, u.username, u.password);
      env.passwords.push(u.password);
    }
  });
  after(async () => {
    if (!env.server) return;
    await env.server.stop();
    env.inst.remove();
  });
  const t = (fn) => withLogs(() => env.server, fn);
  return { env, t };
}

const browser = (env, opts) => {
  const b = new FormBrowser(opts);
  env.browsers.push(b);
  return b;
};

async function token(env, params, opts) {
  const r = await tokenRequest(env.issuer, params, opts);
  env.tokenAnswers.push(r);
  return r;
}

async function newClient(env, extra = {}) {
  const c = await registerClient(env.issuer, {
    client_name: 'Flow security test',
    redirect_uris: [LOOPBACK],
    application_type: 'native',
    ...extra,
  });
  env.registrations.push(c);
  return c;
}

function rows(env, sql) {
  const r = sqliteJson(env.inst.db, sql);
  env.inst.chown();
  return r;
}
function exec(env, sql) {
  sqlite3(env.inst.db, sql);
  env.inst.chown();
}

// A code for client, from browser b signed in as user (signing in and
// consenting as needed). Returns { code, verifier, redirectUri, params }.
async function getCode(env, b, client, { user = ALICE, resource, scope, redirectUri, state } = {}) {
  const { verifier, challenge } = pkce();
  env.verifiers.push(verifier);
  const ru = redirectUri ?? client.redirect_uris[0];
  const st = state ?? randomToken(8);
  const url = authorizeUrl(env.issuer, {
    clientId: client.client_id, redirectUri: ru, challenge, state: st, resource: resource ?? env.main, scope,
  });
  const { params, location } = await b.authorize(url, user);
  assert.ok(params.get('code'), `a code: ${location}`);
  assert.equal(params.get('state'), st);
  assert.equal(params.get('iss'), env.issuer);
  return { code: params.get('code'), verifier, redirectUri: ru, params, location };
}

const redeem = (env, client, c, extra = {}, opts) => token(env, {
  grant_type: 'authorization_code',
  client_id: client.client_id,
  code: c.code,
  code_verifier: c.verifier,
  redirect_uri: c.redirectUri,
  ...extra,
}, opts);

async function getTokens(env, b, client, opts = {}) {
  const c = await getCode(env, b, client, opts);
  const r = await redeem(env, client, c, { resource: opts.resource ?? env.main });
  return assertTokens(r);
}

const refresh = (env, client, rt, extra = {}, opts) => token(env, {
  grant_type: 'refresh_token', client_id: client.client_id, refresh_token: rt, ...extra,
}, opts);

// An authorization error sent back to the client (RFC 6749 §4.1.2.1): a
// 303 to the redirect URI with error, state and iss, and no code.
function assertRedirectError(r, redirectUri, error, state, issuer) {
  assert.equal(r.status, 303, r.what);
  assert.ok(r.location?.startsWith(`${redirectUri}?`), `redirect to the client: ${r.what}`);
  const p = new URL(r.location).searchParams;
  assert.equal(p.get('error'), error, r.what);
  assert.equal(typeof p.get('error_description'), 'string', r.what);
  assert.equal(p.get('state'), state, `state on ${r.what}`);
  assert.equal(p.get('iss'), issuer, `iss on ${r.what}`);
  assert.equal(p.get('code'), null, r.what);
  assert.match(r.headers.get('cache-control') || '', /no-store/, r.what);
}

const jtiOf = (at) => jose.decodeJwt(at).jti;

// --- the main instance: lighttpd, two resources, confidential registration ---

describe('lighttpd: attacks on sign-in and tokens', () => {
  const { env, t } = serve('lighttpd', {
    resources: [
      { path: '/mcp', scopes: ['mcp:tools', 'mcp:resources'] },
      { path: '/other', scopes: ['files:read'], name: 'Other server' },
    ],
    // Many clients register here: no rate limit.
    extra: 'confidential_registration = yes\nregistration_rate_limit = 0',
  });
  let native; // a native public client with LOOPBACK
  let web; // a web public client with WEB
  let alice; // a FormBrowser signed in as alice (once getCode has run)

  before(async () => {
    native = await newClient(env);
    web = await newClient(env, { redirect_uris: [WEB], application_type: 'web' });
    alice = browser(env);
  });

  // --- Redirects ---------------------------------------------------------------

  describe('redirect URIs: exact match, else an error page (never a redirect)', () => {
    const tricks = [
      // [what, client ('native'|'web'), redirect_uri]
      ['path: a trailing slash', 'native', `${LOOPBACK}/`],
      ['path: a longer name', 'native', `${LOOPBACK}x`],
      ['path: a dot segment', 'native', 'http://127.0.0.1:6276/oauth/callback/../callback'],
      ['path: another path', 'native', 'http://127.0.0.1:6276/oauth/evil'],
      ['path: a prefix', 'native', 'http://127.0.0.1:6276/oauth'],
      ['path: a double slash', 'native', 'http://127.0.0.1:6276//oauth/callback'],
      ['case: the path', 'native', 'http://127.0.0.1:6276/oauth/Callback'],
      ['case: the scheme', 'native', 'HTTP://127.0.0.1:6276/oauth/callback'],
      ['case: the host', 'web', 'https://APP.example.com/cb'],
      ['case: the web path', 'web', 'https://app.example.com/CB'],
      ['an added query', 'native', `${LOOPBACK}?x=1`],
      ['an empty query', 'native', `${LOOPBACK}?`],
      ['an added query (web)', 'web', `${WEB}?next=https://evil.example/`],
      ['a fragment', 'native', `${LOOPBACK}#x`],
      ['an empty fragment', 'web', `${WEB}#`],
      ['host suffix: 127.0.0.1.evil', 'native', 'http://127.0.0.1.evil/oauth/callback'],
      ['host suffix with the port', 'native', 'http://127.0.0.1.evil:6276/oauth/callback'],
      ['host suffix (web)', 'web', 'https://app.example.com.evil.example/cb'],
      ['another loopback name', 'native', 'http://localhost:6276/oauth/callback'],
      ['another loopback address', 'native', 'http://[::1]:6276/oauth/callback'],
      ['https instead of http', 'native', 'https://127.0.0.1:6276/oauth/callback'],
      ['userinfo before the host', 'native', 'http://evil@127.0.0.1:6276/oauth/callback'],
      ['userinfo: the host as the user', 'native', 'http://127.0.0.1:6276@evil.example/oauth/callback'],
      ['userinfo (web)', 'web', 'https://app.example.com@evil.example/cb'],
      ['userinfo with the web host', 'web', 'https://user:pw@app.example.com/cb'],
      ['percent-encoding: a letter', 'native', 'http://127.0.0.1:6276/oauth/%63allback'],
      ['percent-encoding: the slash', 'native', 'http://127.0.0.1:6276/oauth%2Fcallback'],
      ['percent-encoding (web)', 'web', 'https://app.example.com/%63b'],
      // lighttpd itself refuses a %00 in the URL (400, its own page); the
      // program's answer to it is checked over plain CGI below.
      ['an embedded NUL', 'native', `${LOOPBACK}\u0000`, 'webserver'],
      ['a NUL before a host suffix', 'native', 'http://127.0.0.1\u0000.evil:6276/oauth/callback', 'webserver'],
      ['a backslash', 'native', 'http://127.0.0.1:6276\\@evil.example/oauth/callback'],
      ['another port (web: only loopback ports may vary)', 'web', 'https://app.example.com:8443/cb'],
      ['a port on a web URI without one', 'web', 'https://app.example.com:443/cb'],
      ['a relative URI', 'native', '/oauth/callback'],
      ['javascript:', 'native', 'javascript:alert(1)//127.0.0.1:6276/oauth/callback'],
    ];
    for (const [what, kind, uri, webserver] of tricks) {
      it(`${what}: ${JSON.stringify(uri)}`, t(async () => {
        const c = kind === 'web' ? web : native;
        const { challenge } = pkce();
        const b = browser(env);
        const r = await b.get(authorizeUrl(env.issuer, {
          clientId: c.client_id, redirectUri: uri, challenge, state: 'st', resource: env.main,
        }));
        if (webserver && pageKind(r.text) !== 'error') {
          assert.equal(r.status, 400, r.what);
          assert.equal(r.location, null, r.what);
        } else {
          assertErrorPage(r, 400, 'invalid_request');
        }
        assert.deepEqual(r.setCookies, [], 'no flow cookie for a refused request');
      }));
    }

    it('an embedded NUL reaching the program (plain CGI, no web server in front): error page', t(async () => {
      const { challenge } = pkce();
      for (const uri of [`${LOOPBACK}\u0000`, `${LOOPBACK}\u0000.evil`, 'http://127.0.0.1\u0000.evil:6276/oauth/callback']) {
        const u = new URL(authorizeUrl(env.issuer, {
          clientId: native.client_id, redirectUri: uri, challenge, state: 'st', resource: env.main,
        }));
        const r = cgiRequest(env.inst, { uri: `${u.pathname}${u.search}`, program: AUTHORIZE });
        const what = `CGI GET ${u.search} -> ${r.statusLine} ${r.body.slice(0, 200)}`;
        assert.equal(r.status, 400, what);
        assert.equal(r.headers.location, undefined, what);
        assert.equal(r.headers['x-frame-options'], 'DENY', what);
        assert.equal(pageKind(r.body), 'error', what);
      }
    }));

    it('an unknown client: error page invalid_client, no redirect', t(async () => {
      const { challenge } = pkce();
      const r = await browser(env).get(authorizeUrl(env.issuer, {
        clientId: 'unknownClientIdXXXXXXX', redirectUri: LOOPBACK, challenge, state: 'st', resource: env.main,
      }));
      assertErrorPage(r, 400, 'invalid_client');
    }));

    it('no client_id: error page invalid_request', t(async () => {
      const { challenge } = pkce();
      const r = await browser(env).get(authorizeUrl(env.issuer, {
        clientId: undefined, redirectUri: LOOPBACK, challenge, state: 'st', resource: env.main,
      }));
      assertErrorPage(r, 400, 'invalid_request');
    }));

    it('an unknown client with a bad response_type still gets the page, not a redirect', t(async () => {
      const r = await browser(env).get(authorizeUrl(env.issuer, {
        clientId: 'unknownClientIdXXXXXXX', redirectUri: 'https://evil.example/cb', challenge: undefined,
        response_type: 'token', state: 'st',
      }));
      assertErrorPage(r, 400, 'invalid_client');
    }));

    it('no redirect_uri: the only registered one; with two registered, an error page', t(async () => {
      const { challenge } = pkce();
      const one = await browser(env).get(authorizeUrl(env.issuer, {
        clientId: native.client_id, redirectUri: undefined, challenge, state: 'st', resource: env.main,
      }));
      assert.equal(one.status, 200, one.what);
      assert.equal(pageKind(one.text), 'login');
      const two = await newClient(env, { redirect_uris: [LOOPBACK, 'http://127.0.0.1:6277/cb'] });
      const r = await browser(env).get(authorizeUrl(env.issuer, {
        clientId: two.client_id, redirectUri: undefined, challenge, state: 'st', resource: env.main,
      }));
      assertErrorPage(r, 400, 'invalid_request');
    }));

    it('a native client\'s loopback port may differ (RFC 8252 §7.3): the code goes to that port', t(async () => {
      const other = 'http://127.0.0.1:7777/oauth/callback';
      const c = await getCode(env, alice, native, { redirectUri: other });
      assert.ok(c.location.startsWith(`${other}?code=`), c.location);
      // ... and is bound to it: the registered port does not redeem it.
      assertTokenError(await redeem(env, native, { ...c, redirectUri: LOOPBACK }), 400, 'invalid_grant');
      assertTokens(await redeem(env, native, c));
    }));

    it('a web client\'s registered URI works as it is', t(async () => {
      const c = await getCode(env, alice, web);
      assert.ok(c.location.startsWith(`${WEB}?code=`), c.location);
    }));
  });

  // --- Authorization request errors that go back to the client ---------------------------------

  describe('authorization request errors: 303 to the client with error, state and iss', () => {
    const cases = [
      // [what, params over a good request, error]
      ['no code_challenge (PKCE required)', { code_challenge: null }, 'invalid_request'],
      ['code_challenge_method plain', { code_challenge_method: 'plain' }, 'invalid_request'],
      ['no code_challenge_method (plain by default)', { code_challenge_method: null }, 'invalid_request'],
      ['code_challenge_method s256 (case)', { code_challenge_method: 's256' }, 'invalid_request'],
      ['a 42-character challenge', { code_challenge: 'a'.repeat(42) }, 'invalid_request'],
      ['a 44-character challenge', { code_challenge: `${'A'.repeat(43)}=` }, 'invalid_request'],
      ['a challenge outside base64url', { code_challenge: `${'A'.repeat(42)}+` }, 'invalid_request'],
      ['response_type token', { response_type: 'token' }, 'unsupported_response_type'],
      ['no response_type', { response_type: null }, 'unsupported_response_type'],
      ['an unknown resource', { resource: 'http://127.0.0.1:1/mcp' }, 'invalid_target'],
      ['the resource with a trailing slash', { resource: 'MAIN/' }, 'invalid_target'],
      ['an unknown scope', { scope: 'admin' }, 'invalid_scope'],
      ['another resource\'s scope', { scope: 'files:read' }, 'invalid_scope'],
    ];
    for (const [what, over, error] of cases) {
      it(`${what} -> ${error}`, t(async () => {
        const { challenge } = pkce();
        const p = { clientId: native.client_id, redirectUri: LOOPBACK, challenge, state: 'st-1', resource: env.main, ...over };
        if (p.resource === 'MAIN/') p.resource = `${env.main}/`;
        const r = await browser(env).get(authorizeUrl(env.issuer, p));
        assertRedirectError(r, LOOPBACK, error, 'st-1', env.issuer);
      }));
    }

    it('no resource while several are protected -> invalid_target', t(async () => {
      const { challenge } = pkce();
      const r = await browser(env).get(authorizeUrl(env.issuer, {
        clientId: native.client_id, redirectUri: LOOPBACK, challenge, state: 'st-2', resource: undefined,
      }));
      assertRedirectError(r, LOOPBACK, 'invalid_target', 'st-2', env.issuer);
    }));

    // SECURITY.md: no automatic redirect to a newly registered client before
    // the user has authenticated. A dynamic client nobody has used yet gets
    // the error as a page until someone signs in; once used, as a redirect.
    const markUsed = (c) => {
      sqlite3(env.inst.db, `UPDATE clients SET last_used_at = unixepoch() WHERE client_id = '${c.client_id}'`);
      env.inst.chown();
    };

    it('a new client nobody has used: errors before sign-in are a page, not a redirect', t(async () => {
      const c = await newClient(env);
      const { challenge } = pkce();
      const bad = { clientId: c.client_id, redirectUri: LOOPBACK, challenge, state: 'new-1', resource: env.main, scope: 'admin' };
      const r = await browser(env).get(authorizeUrl(env.issuer, bad));
      assertErrorPage(r, 400, 'invalid_scope');
      // A signed-in browser changes nothing: a victim's session must not
      // make an attacker's fresh registration a redirector.
      const b = browser(env);
      await getCode(env, b, native);
      assertErrorPage(await b.get(authorizeUrl(env.issuer, bad)), 400, 'invalid_scope');
      // Once the client has been given a code, errors go back to it.
      await getCode(env, b, c);
      assertRedirectError(await b.get(authorizeUrl(env.issuer, bad)), LOOPBACK, 'invalid_scope', 'new-1', env.issuer);
    }));

    it('offline_access for a client without the refresh_token grant -> invalid_scope', t(async () => {
      const c = await newClient(env, { grant_types: ['authorization_code'] });
      markUsed(c);
      const { challenge } = pkce();
      const r = await browser(env).get(authorizeUrl(env.issuer, {
        clientId: c.client_id, redirectUri: LOOPBACK, challenge, state: 'st-3', resource: env.main, scope: 'mcp:tools offline_access',
      }));
      assertRedirectError(r, LOOPBACK, 'invalid_scope', 'st-3', env.issuer);
    }));

    it('prompt=none: nobody signed in -> login_required; no consent yet -> consent_required; else a code', t(async () => {
      const c = await newClient(env);
      markUsed(c);
      const { challenge } = pkce();
      const req = (b, state) => b.get(authorizeUrl(env.issuer, {
        clientId: c.client_id, redirectUri: LOOPBACK, challenge, state, resource: env.main, prompt: 'none',
      }));
      assertRedirectError(await req(browser(env), 'pn-1'), LOOPBACK, 'login_required', 'pn-1', env.issuer);
      const b = browser(env);
      await getCode(env, b, native); // signs in (consent for `native` only)
      assertRedirectError(await req(b, 'pn-2'), LOOPBACK, 'consent_required', 'pn-2', env.issuer);
      await getCode(env, b, c); // consents for c
      const ok = await req(b, 'pn-3');
      assert.equal(ok.status, 303, ok.what);
      const p = new URL(ok.location).searchParams;
      assert.ok(p.get('code'), ok.what);
      assert.equal(p.get('state'), 'pn-3');
      assert.equal(p.get('iss'), env.issuer);
    }));

    it('the user denies -> access_denied with state and iss', t(async () => {
      const c = await newClient(env);
      const { challenge } = pkce();
      const b = browser(env);
      const { res, params } = await b.authorize(authorizeUrl(env.issuer, {
        clientId: c.client_id, redirectUri: LOOPBACK, challenge, state: 'deny-1', resource: env.main,
      }), { ...ALICE, decision: 'deny' });
      assertRedirectError(res, LOOPBACK, 'access_denied', 'deny-1', env.issuer);
      assert.deepEqual([...params.keys()].sort(), ['error', 'error_description', 'iss', 'state']);
      // Nothing was consented: the next request asks again.
      const again = await b.get(authorizeUrl(env.issuer, {
        clientId: c.client_id, redirectUri: LOOPBACK, challenge, state: 'deny-2', resource: env.main,
      }));
      assert.equal(again.status, 200, again.what);
      assert.equal(pageKind(again.text), 'consent');
    }));
  });

  // --- Browser pages ----------------------------------------------------------------

  describe('login and consent forms', () => {
    // Starts a request in a fresh browser: the login page.
    async function loginPage(client = native, state = 'f-1') {
      const b = browser(env);
      const { challenge } = pkce();
      const page = await b.get(authorizeUrl(env.issuer, {
        clientId: client.client_id, redirectUri: LOOPBACK, challenge, state, resource: env.main,
      }));
      assert.equal(page.status, 200, page.what);
      assert.equal(pageKind(page.text), 'login');
      return { b, page };
    }
    // Signs in: the consent page.
    async function consentPage(client, user = ALICE) {
      const { b, page } = await loginPage(client);
      const l = await b.login(page, user.username, user.password);
      assert.equal(l.status, 303, l.what);
      const cp = await b.get(l.location);
      assert.equal(cp.status, 200, cp.what);
      assert.equal(pageKind(cp.text), 'consent', cp.what);
      return { b, page: cp };
    }

    it('the login page: flow cookie attributes, the form posts to the issuer', t(async () => {
      const { page } = await loginPage();
      assertPageHeaders(page);
      const flow = page.setCookies.find((c) => c.startsWith(`${cookieName('flow', env.issuer)}=`));
      assert.ok(flow, `a flow cookie: ${page.setCookies}`);
      assert.match(flow, /; Path=\/(;|$)/);
      assert.match(flow, /; Secure(;|$)/);
      assert.match(flow, /; HttpOnly(;|$)/);
      assert.match(flow, /; SameSite=Lax(;|$)/);
      assert.doesNotMatch(flow, /Domain=/i, '__Host- cookies are host-only');
      assert.match(flow.split(';')[0].split('=')[1], /^[A-Za-z0-9_-]{43}$/, '256 random bits');
      assert.match(page.text, new RegExp(`<form method="post" action="${env.issuer}/authorize"`));
      const f = hiddenFields(page.text);
      assert.match(f.csrf, /^[A-Za-z0-9_-]{43}$/);
      assert.match(f.request_id, /^[A-Za-z0-9_-]{43}$/);
    }));

    it('wrong or unknown credentials: the login page again, "Wrong username or password.", no password echoed', t(async () => {
      const { b, page } = await loginPage();
      const wrong = `wrong-${randomToken(9)}`;
      env.passwords.push(wrong);
      const r1 = await b.login(page, ALICE.username, wrong);
      assert.equal(r1.status, 200, r1.what);
      assertPageHeaders(r1);
      assert.equal(pageKind(r1.text), 'login');
      assert.match(r1.text, /Wrong username or password\./);
      assert.ok(!r1.text.includes(wrong), 'the password is not in the page');
      assert.deepEqual(r1.setCookies.filter((c) => c.startsWith(`${cookieName('session', env.issuer)}=`)), [], 'no session');
      const markup = '"><script>alert(1)</script>';
      const r2 = await b.login(r1, markup, ALICE.password);
      assert.equal(r2.status, 200, r2.what);
      assert.match(r2.text, /Wrong username or password\./);
      assert.ok(!r2.text.includes(ALICE.password), 'the password is not in the page');
      assert.ok(!r2.text.includes('<script>'), 'the username is escaped');
      assert.equal(inputs(r2.text).find((i) => i.name === 'username').value, markup, 'and kept in the field');
      // The same form (request and CSRF token) can be sent again.
      const r3 = await b.login(r2, ALICE.username, ALICE.password);
      assert.equal(r3.status, 303, r3.what);
    }));

    it('login success: 303 to the continuation, a __Host- session cookie, a new id at every login', t(async () => {
      const { b, page } = await loginPage();
      const r = await b.login(page, ALICE.username, ALICE.password);
      assert.equal(r.status, 303, r.what);
      const next = new URL(r.location);
      assert.equal(`${next.origin}${next.pathname}`, `${env.issuer}/authorize`);
      assert.equal(next.searchParams.get('request_id'), hiddenFields(page.text).request_id);
      const sc = r.setCookies.find((c) => c.startsWith(`${cookieName('session', env.issuer)}=`));
      assert.ok(sc, r.setCookies.join('\n'));
      const value = sc.split(';')[0].split('=')[1];
      assert.match(value, /^[A-Za-z0-9_-]{43}$/, 'at least 128 random bits');
      for (const a of ['Path=/', 'Secure', 'HttpOnly', 'SameSite=Lax', 'Max-Age=28800']) {
        assert.ok(sc.split(/;\s*/).includes(a), `${a} in ${sc}`);
      }
      // Signing in again (prompt=login) gives a new session id.
      const { challenge } = pkce();
      const p2 = await b.get(authorizeUrl(env.issuer, {
        clientId: native.client_id, redirectUri: LOOPBACK, challenge, state: 's', resource: env.main, prompt: 'login',
      }));
      assert.equal(pageKind(p2.text), 'login', 'prompt=login shows the login page');
      const r2 = await b.login(p2, ALICE.username, ALICE.password);
      const sc2 = r2.setCookies.find((c) => c.startsWith(`${cookieName('session', env.issuer)}=`));
      assert.ok(sc2);
      assert.notEqual(sc2.split(';')[0], sc.split(';')[0], 'session id rotated at login');
      // The old session is gone from the database.
      assert.equal(rows(env, `SELECT count(*) AS n FROM sessions WHERE id_hash = ${lit(sha256(value))}`)[0].n, 0);
    }));

    it('login POST with a wrong or missing csrf -> 403 page', t(async () => {
      const { b, page } = await loginPage();
      assertErrorPage(await b.login(page, ALICE.username, ALICE.password, { override: { csrf: randomToken() } }), 403, 'invalid_request');
      const f = hiddenFields(page.text);
      const r = await b.post(`${env.issuer}/authorize`, {
        request_id: f.request_id, step: 'login', username: ALICE.username, password: ALICE.password,
      });
      assertErrorPage(r, 403, 'invalid_request');
      // Another request's csrf does not fit either.
      const other = await loginPage();
      const mixed = await b.login(page, ALICE.username, ALICE.password, { override: { csrf: hiddenFields(other.page.text).csrf } });
      assertErrorPage(mixed, 403, 'invalid_request');
      assert.deepEqual(b.answers.flatMap((a) => a.setCookies).filter((c) => c.startsWith(`${cookieName('session', env.issuer)}=`)), []);
    }));

    it('consent POST with a wrong or missing csrf -> 403 page', t(async () => {
      const c = await newClient(env);
      const { b, page } = await consentPage(c);
      assertErrorPage(await b.consent(page, 'approve', { override: { csrf: randomToken() } }), 403, 'invalid_request');
      const f = hiddenFields(page.text);
      assertErrorPage(await b.post(`${env.issuer}/authorize`, {
        request_id: f.request_id, step: 'consent', decision: 'approve',
      }), 403, 'invalid_request');
      assert.equal(rows(env, `SELECT count(*) AS n FROM consents WHERE client_id = ${lit(c.client_id)}`)[0].n, 0, 'no consent stored');
      // The right form still works afterwards.
      const ok = await b.consent(page, 'approve');
      assert.equal(ok.status, 303, ok.what);
      assert.ok(new URL(ok.location).searchParams.get('code'));
    }));

    it('the CSRF token changes after sign-in: the login page\'s does not fit the consent form', t(async () => {
      const c = await newClient(env);
      const { b, page } = await loginPage(c);
      const loginCsrf = hiddenFields(page.text).csrf;
      const l = await b.login(page, ALICE.username, ALICE.password);
      const cp = await b.get(l.location);
      assert.equal(pageKind(cp.text), 'consent', cp.what);
      assert.notEqual(hiddenFields(cp.text).csrf, loginCsrf);
      assertErrorPage(await b.consent(cp, 'approve', { override: { csrf: loginCsrf } }), 403, 'invalid_request');
    }));

    // Our pages send Referrer-Policy: same-origin, so our forms carry our
    // origin; "null" comes from sandboxed frames and no-referrer pages.
    it('Origin: null -> 403 page, even with the right CSRF token', t(async () => {
      const { b, page } = await loginPage();
      assertErrorPage(await b.login(page, ALICE.username, ALICE.password, { origin: 'null' }), 403, 'invalid_request');
      const ok = await b.login(page, ALICE.username, ALICE.password, { origin: env.origin });
      assert.equal(ok.status, 303, ok.what);
    }));

    it('a POST from another origin -> 403 page (login and consent)', t(async () => {
      const { b, page } = await loginPage();
      assertErrorPage(await b.login(page, ALICE.username, ALICE.password, { origin: 'http://evil.example' }), 403, 'invalid_request');
      // A look-alike of the issuer's origin is another origin too.
      assertErrorPage(await b.login(page, ALICE.username, ALICE.password, { origin: `${env.origin}.evil.example` }), 403, 'invalid_request');
      assertErrorPage(await b.login(page, ALICE.username, ALICE.password, { origin: env.origin.replace('http:', 'https:') }), 403, 'invalid_request');
      const c = await newClient(env);
      const cp = await consentPage(c);
      assertErrorPage(await cp.b.consent(cp.page, 'approve', { origin: 'http://evil.example' }), 403, 'invalid_request');
      // The issuer's own origin is fine.
      const ok = await cp.b.consent(cp.page, 'approve', { origin: env.origin });
      assert.equal(ok.status, 303, ok.what);
    }));

    it('a POST without the flow cookie -> 400 page; with another browser\'s flow cookie -> 400 page', t(async () => {
      const { b, page } = await loginPage();
      assertErrorPage(await b.login(page, ALICE.username, ALICE.password, { cookies: false }), 400, 'invalid_request');
      const other = await loginPage();
      const r = await other.b.login(page, ALICE.username, ALICE.password); // other's cookie, b's form
      assertErrorPage(r, 400, 'invalid_request');
    }));

    it('a form that is not urlencoded -> 400 page; an unknown step -> 400 page', t(async () => {
      const { b, page } = await loginPage();
      const f = hiddenFields(page.text);
      const r = await b.post(`${env.issuer}/authorize`, { ...f, username: ALICE.username, password: ALICE.password }, {
        headers: { 'Content-Type': 'text/plain' },
      });
      assertErrorPage(r, 400, 'invalid_request');
      assertErrorPage(await b.post(`${env.issuer}/authorize`, { ...f, step: 'other' }), 400, 'invalid_request');
    }));

    it('consent from another sign-in\'s session -> 403 page', t(async () => {
      const c = await newClient(env);
      const { b, page } = await consentPage(c, ALICE);
      const bobs = await consentPage(await newClient(env), BOB);
      b.cookies.set(cookieName('session', env.issuer), bobs.b.cookies.get(cookieName('session', env.issuer)));
      assertErrorPage(await b.consent(page, 'approve'), 403, 'invalid_request');
    }));

    it('the consent page: client name, redirect host, resource, scopes, the user, a loopback warning', t(async () => {
      const c = await newClient(env, { client_name: 'Consent Page App' });
      const { page } = await consentPage(c);
      assertPageHeaders(page);
      const text = htmlDecode(page.text);
      assert.match(text, /Consent Page App/);
      assert.match(text, /127\.0\.0\.1:6276/, 'the redirect host');
      assert.ok(text.includes(env.main), 'the resource');
      assert.match(text, /<code>mcp:tools<\/code>/);
      assert.match(text, /Signed in as <strong>alice<\/strong>/);
      assert.match(page.text, /class="warning"/, 'the loopback warning');
      const buttons = [...page.text.matchAll(/<button[^>]*name="decision" value="([a-z]+)"/g)].map((m) => m[1]);
      assert.deepEqual(buttons, ['approve', 'deny']);
    }));

    it('client_name is HTML-escaped on the login and consent pages', t(async () => {
      const evil = '<script>alert(1)</script>"\'&';
      const c = await newClient(env, { client_name: evil });
      const { page } = await loginPage(c);
      for (const p of [page, (await consentPage(c)).page]) {
        assert.ok(!p.text.includes('<script>'), `no raw <script> in ${p.what}`);
        assert.ok(!p.text.includes(evil), 'the name is not there unescaped');
        assert.ok(p.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'escaped');
        assert.match(p.text, /&lt;\/script&gt;&quot;(&#39;|&#x27;|&apos;)&amp;/, 'quotes and ampersand escaped');
        const h1 = /<h1>([\s\S]*?)<\/h1>/.exec(p.text)[1];
        assert.ok(htmlDecode(h1.replace(/<[^>]*>/g, '')).includes(evil), 'shown as text');
      }
    }));

    it('a repeated parameter in the authorization request -> error page, never a redirect', t(async () => {
      const { challenge } = pkce();
      const base = authorizeUrl(env.issuer, {
        clientId: native.client_id, redirectUri: LOOPBACK, challenge, state: 'rep', resource: env.main,
      });
      for (const extra of [
        `redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
        `redirect_uri=${encodeURIComponent(LOOPBACK)}`,
        `client_id=${web.client_id}`,
        'state=other',
        `code_challenge=${pkce().challenge}`,
        'response_type=code',
      ]) {
        const r = await browser(env).get(`${base}&${extra}`);
        assertErrorPage(r, 400, 'invalid_request');
      }
    }));

    it('state and a registered query survive the redirect exactly', t(async () => {
      const withQuery = 'http://127.0.0.1:6276/q?x=1&y=%20';
      const c = await newClient(env, { redirect_uris: [withQuery] });
      const state = 'a b&c=d#e+f%20g/\u00e9?\u2603';
      const got = await getCode(env, alice, c, { state });
      assert.ok(got.location.startsWith(`${withQuery}&code=`), got.location);
      assert.equal(got.params.get('x'), '1');
      assert.equal(got.params.get('y'), ' ');
      assert.equal(got.params.get('state'), state);
      assertTokens(await redeem(env, c, got));
    }));

    it('the consent form sent twice: the second gets an error page, not a second code', t(async () => {
      const c = await newClient(env);
      const { b, page } = await consentPage(c);
      const first = await b.consent(page, 'approve');
      assert.equal(first.status, 303, first.what);
      assert.ok(new URL(first.location).searchParams.get('code'));
      assertErrorPage(await b.consent(page, 'approve'), 400, 'invalid_request');
      assertErrorPage(await b.consent(page, 'deny'), 400, 'invalid_request');
      assert.equal(rows(env, `SELECT count(*) AS n FROM authorization_codes WHERE client_id = ${lit(c.client_id)}`)[0].n, 1);
    }));

    it('an expired authorization request -> error page', t(async () => {
      const { b, page } = await loginPage();
      exec(env, `UPDATE authorization_requests SET expires_at = 0 WHERE id_hash = ${lit(sha256(hiddenFields(page.text).request_id))}`);
      assertErrorPage(await b.login(page, ALICE.username, ALICE.password), 400, 'invalid_request');
    }));

    it('the continuation after sign-in, opened in another browser -> error page', t(async () => {
      const { b, page } = await loginPage();
      const l = await b.login(page, ALICE.username, ALICE.password);
      assert.equal(l.status, 303, l.what);
      assertErrorPage(await browser(env).get(l.location), 400, 'invalid_request');
      // ... or with the session cookie but without the flow cookie.
      const thief = browser(env);
      thief.cookies.set(cookieName('session', env.issuer), b.cookies.get(cookieName('session', env.issuer)));
      assertErrorPage(await thief.get(l.location), 400, 'invalid_request');
    }));

    it('an expired session: the login page again', t(async () => {
      const { b, page } = await loginPage();
      await b.login(page, ALICE.username, ALICE.password);
      exec(env, `UPDATE sessions SET expires_at = 0 WHERE id_hash = ${lit(sha256(b.cookies.get(cookieName('session', env.issuer))))}`);
      const { challenge } = pkce();
      const r = await b.get(authorizeUrl(env.issuer, {
        clientId: native.client_id, redirectUri: LOOPBACK, challenge, state: 'x', resource: env.main,
      }));
      assert.equal(r.status, 200, r.what);
      assert.equal(pageKind(r.text), 'login');
    }));

    it('consent covers what was allowed: wider scopes or prompt=consent ask again', t(async () => {
      const c = await newClient(env);
      const b = browser(env);
      await getCode(env, b, c, { scope: 'mcp:tools' });
      const { challenge } = pkce();
      const ask = (extra) => b.get(authorizeUrl(env.issuer, {
        clientId: c.client_id, redirectUri: LOOPBACK, challenge, state: 'cc', resource: env.main, ...extra,
      }));
      const same = await ask({ scope: 'mcp:tools' });
      assert.equal(same.status, 303, `consented scope: straight back with a code: ${same.what}`);
      const wider = await ask({ scope: 'mcp:tools mcp:resources' });
      assert.equal(wider.status, 200, wider.what);
      assert.equal(pageKind(wider.text), 'consent');
      const forced = await ask({ scope: 'mcp:tools', prompt: 'consent' });
      assert.equal(forced.status, 200, forced.what);
      assert.equal(pageKind(forced.text), 'consent');
    }));

    it('a disabled user cannot sign in (same message) and their refresh tokens stop working', t(async () => {
      const eve = { username: 'eve', password: `eve-pw-${randomToken(9)}` };
      addUser(env.inst, eve.username, eve.password);
      env.passwords.push(eve.password);
      const tk = await getTokens(env, browser(env), native, { user: eve });
      env.inst.admin(['user', 'disable', eve.username], { check: true });
      assertTokenError(await refresh(env, native, tk.refresh_token), 400, 'invalid_grant');
      const { b, page } = await loginPage();
      const r = await b.login(page, eve.username, eve.password);
      assert.equal(r.status, 200, r.what);
      assert.equal(pageKind(r.text), 'login');
      assert.match(r.text, /Wrong username or password\./);
    }));

    it('the stylesheet is served and nothing else is', t(async () => {
      const css = await fetch(`${env.issuer}/static/style.css`);
      assert.equal(css.status, 200);
      assert.match(css.headers.get('content-type'), /^text\/css/);
      await css.text();
      const r = await browser(env).request(`${env.issuer}/authorize`, { method: 'PUT' });
      assertErrorPage(r, 405);
      assert.equal(r.headers.get('allow'), 'GET, HEAD, POST');
    }));
  });

  // --- Codes and PKCE at the token endpoint ----------------------------------------------

  describe('codes and PKCE', () => {
    it('a wrong verifier -> invalid_grant', t(async () => {
      const c = await getCode(env, alice, native);
      assertTokenError(await redeem(env, native, c, { code_verifier: pkce().verifier }), 400, 'invalid_grant');
    }));

    it('verifiers of the wrong length or alphabet, or none -> invalid_request', t(async () => {
      const c = await getCode(env, alice, native);
      for (const v of [
        c.verifier.slice(0, 42), // 42 characters
        'A'.repeat(129),
        `${c.verifier.slice(0, 42)}+`,
        `${c.verifier.slice(0, 42)}/`,
        `${c.verifier.slice(0, 42)}=`,
        `${c.verifier.slice(0, 42)} `,
        `${c.verifier.slice(0, 42)}é`,
      ]) {
        assertTokenError(await redeem(env, native, c, { code_verifier: v }), 400, 'invalid_request');
      }
      assertTokenError(await redeem(env, native, c, { code_verifier: null }), 400, 'invalid_request');
      assertTokenError(await redeem(env, native, c, { code: null }), 400, 'invalid_request');
      // 128 characters of the whole alphabet are a valid (if wrong) verifier.
      const long = `${'Az09-._~'.repeat(16)}`;
      assertTokenError(await redeem(env, native, c, { code_verifier: long }), 400, 'invalid_grant');
    }));

    it('an unknown code -> invalid_grant', t(async () => {
      assertTokenError(await redeem(env, native, { code: randomToken(), verifier: pkce().verifier, redirectUri: LOOPBACK }), 400, 'invalid_grant');
    }));

    it('a code lives at most 60 s; an expired one -> invalid_grant', t(async () => {
      const c = await getCode(env, alice, native);
      const row = rows(env, `SELECT created_at, expires_at, consumed_at FROM authorization_codes WHERE code_hash = ${lit(sha256(c.code))}`);
      assert.equal(row.length, 1, 'the code is stored by its hash');
      assert.ok(row[0].expires_at - row[0].created_at <= 60, `lifetime ${row[0].expires_at - row[0].created_at} s`);
      exec(env, `UPDATE authorization_codes SET expires_at = 0 WHERE code_hash = ${lit(sha256(c.code))}`);
      assertTokenError(await redeem(env, native, c), 400, 'invalid_grant');
    }));

    it('a replayed code -> invalid_grant, and what the first redemption issued is revoked', t(async () => {
      const c = await getCode(env, alice, native);
      const first = assertTokens(await redeem(env, native, c));
      assertTokenError(await redeem(env, native, c), 400, 'invalid_grant');
      assertTokenError(await refresh(env, native, first.refresh_token), 400, 'invalid_grant');
      const at = rows(env, `SELECT revoked_at FROM access_tokens WHERE jti = ${lit(jtiOf(first.access_token))}`);
      assert.equal(at.length, 1);
      assert.notEqual(at[0].revoked_at, null, 'the access token is revoked (revoked_at set)');
      const rt = rows(env, `SELECT revoked_at FROM refresh_tokens WHERE token_hash = ${lit(sha256(first.refresh_token))}`);
      assert.notEqual(rt[0].revoked_at, null, 'the refresh token is revoked');
    }));

    it('a code is bound to its client', t(async () => {
      const thief = await newClient(env); // same redirect URI, public
      const c = await getCode(env, alice, native);
      assertTokenError(await redeem(env, thief, c), 400, 'invalid_grant');
    }));

    it('a code is bound to its redirect_uri (required at the token endpoint)', t(async () => {
      const c = await getCode(env, alice, native);
      assertTokenError(await redeem(env, native, c, { redirect_uri: `${LOOPBACK}/` }), 400, 'invalid_grant');
      assertTokenError(await redeem(env, native, c, { redirect_uri: 'http://127.0.0.1:7777/oauth/callback' }), 400, 'invalid_grant');
      // Omitted: only when the code's URI is the client's one registered
      // URI (RFC 6749 §4.1.3); a code sent to another loopback port needs it.
      const moved = await getCode(env, alice, native, { redirectUri: 'http://127.0.0.1:7777/oauth/callback' });
      assertTokenError(await redeem(env, native, moved, { redirect_uri: null }), 400, 'invalid_grant');
      assertTokens(await redeem(env, native, c, { redirect_uri: null }));
    }));

    it('a code is bound to its resource -> invalid_target', t(async () => {
      const c = await getCode(env, alice, native);
      assertTokenError(await redeem(env, native, c, { resource: env.other }), 400, 'invalid_target');
      assertTokenError(await redeem(env, native, c, { resource: `${env.main}/` }), 400, 'invalid_target');
      // Without resource at the token endpoint, the authorized one.
      const tk = assertTokens(await redeem(env, native, c, { resource: null }));
      assert.equal(jose.decodeJwt(tk.access_token).aud, env.main);
    }));

    it('a code for the second resource makes tokens for it only', t(async () => {
      const c = await getCode(env, alice, native, { resource: env.other, scope: 'files:read' });
      const tk = assertTokens(await redeem(env, native, c, { resource: env.other }));
      assert.equal(tk.scope, 'files:read');
      assert.equal(jose.decodeJwt(tk.access_token).aud, env.other);
    }));
  });

  // --- Refresh tokens ------------------------------------------------------------------------------

  describe('refresh tokens', () => {
    it('rotate; the old one again within refresh_grace -> invalid_grant without revocation', t(async () => {
      const t0 = await getTokens(env, alice, native);
      const t1 = assertTokens(await refresh(env, native, t0.refresh_token));
      assert.notEqual(t1.refresh_token, t0.refresh_token);
      assertTokenError(await refresh(env, native, t0.refresh_token), 400, 'invalid_grant');
      const t2 = assertTokens(await refresh(env, native, t1.refresh_token));
      assert.notEqual(t2.refresh_token, t1.refresh_token);
      const fam = rows(env, `SELECT family_id FROM refresh_tokens WHERE token_hash = ${lit(sha256(t0.refresh_token))}`)[0].family_id;
      assert.equal(rows(env, `SELECT count(*) AS n FROM refresh_tokens WHERE family_id = ${lit(fam)} AND revoked_at IS NOT NULL`)[0].n, 0);
    }));

    it('the old one after refresh_grace -> invalid_grant and the whole family is revoked', t(async () => {
      const t0 = await getTokens(env, alice, native);
      const t1 = assertTokens(await refresh(env, native, t0.refresh_token));
      exec(env, `UPDATE refresh_tokens SET rotated_at = rotated_at - 3600 WHERE token_hash = ${lit(sha256(t0.refresh_token))}`);
      assertTokenError(await refresh(env, native, t0.refresh_token), 400, 'invalid_grant');
      assertTokenError(await refresh(env, native, t1.refresh_token), 400, 'invalid_grant');
      for (const at of [t0.access_token, t1.access_token]) {
        const r = rows(env, `SELECT revoked_at FROM access_tokens WHERE jti = ${lit(jtiOf(at))}`);
        assert.notEqual(r[0].revoked_at, null, 'the family\'s access tokens are revoked');
      }
      const fam = rows(env, `SELECT family_id FROM refresh_tokens WHERE token_hash = ${lit(sha256(t0.refresh_token))}`)[0].family_id;
      assert.equal(rows(env, `SELECT count(*) AS n FROM refresh_tokens WHERE family_id = ${lit(fam)} AND revoked_at IS NULL`)[0].n, 0);
    }));

    it('another client\'s refresh token -> invalid_grant, and the owner\'s keeps working', t(async () => {
      const thief = await newClient(env);
      const t0 = await getTokens(env, alice, native);
      assertTokenError(await refresh(env, thief, t0.refresh_token), 400, 'invalid_grant');
      assertTokens(await refresh(env, native, t0.refresh_token));
    }));

    it('a wider scope -> invalid_scope; another resource -> invalid_target; a narrower scope is fine', t(async () => {
      const t0 = await getTokens(env, alice, native, { scope: 'mcp:tools offline_access' });
      assert.equal(t0.scope, 'mcp:tools offline_access');
      assertTokenError(await refresh(env, native, t0.refresh_token, { scope: 'mcp:tools mcp:resources' }), 400, 'invalid_scope');
      assertTokenError(await refresh(env, native, t0.refresh_token, { scope: 'files:read' }), 400, 'invalid_scope');
      assertTokenError(await refresh(env, native, t0.refresh_token, { resource: env.other }), 400, 'invalid_target');
      const t1 = assertTokens(await refresh(env, native, t0.refresh_token, { scope: 'mcp:tools' }));
      assert.equal(t1.scope, 'mcp:tools');
      assert.equal(jose.decodeJwt(t1.access_token).scope, 'mcp:tools');
    }));

    it('an unknown refresh token, or none -> invalid_grant / invalid_request', t(async () => {
      assertTokenError(await refresh(env, native, randomToken()), 400, 'invalid_grant');
      assertTokenError(await refresh(env, native, null), 400, 'invalid_request');
    }));

    it('a client without the refresh_token grant gets no refresh token and cannot refresh', t(async () => {
      const c = await newClient(env, { grant_types: ['authorization_code'] });
      const code = await getCode(env, alice, c);
      assertTokens(await redeem(env, c, code), { refresh: false });
      assertTokenError(await refresh(env, c, randomToken()), 400, 'unauthorized_client');
    }));

    it('an expired refresh token -> invalid_grant', t(async () => {
      const t0 = await getTokens(env, alice, native);
      exec(env, `UPDATE refresh_tokens SET expires_at = 0 WHERE token_hash = ${lit(sha256(t0.refresh_token))}`);
      assertTokenError(await refresh(env, native, t0.refresh_token), 400, 'invalid_grant');
    }));

    it('the token endpoint: repeated parameters, other methods and content types are refused', t(async () => {
      const c = await getCode(env, alice, native);
      const body = new URLSearchParams({
        grant_type: 'authorization_code', client_id: native.client_id, code: c.code, code_verifier: c.verifier, redirect_uri: LOOPBACK,
      });
      body.append('code', c.code);
      const post = async (init) => {
        const res = await fetch(`${env.issuer}/token`, { method: 'POST', ...init });
        const text = await res.text();
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        return { status: res.status, headers: res.headers, text, json, what: `${init.method || 'POST'} /token -> ${res.status} ${text}` };
      };
      assertTokenError(await post({ headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: body.toString() }), 400, 'invalid_request');
      body.delete('code');
      body.set('code', c.code);
      assertTokenError(await post({ headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(Object.fromEntries(body)) }), 400, 'invalid_request');
      const get = await post({ method: 'GET' });
      assertTokenError(get, 405, 'invalid_request');
      assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
      const pre = await fetch(`${env.issuer}/token`, {
        method: 'OPTIONS', headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST' },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get('access-control-allow-origin'), '*');
      assert.match(pre.headers.get('access-control-allow-methods') || '', /POST/);
      // The code survived all that.
      assertTokens(await post({ headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' }, body: body.toString() }));
    }));

    it('grant_type missing -> invalid_request; unknown -> unsupported_grant_type', t(async () => {
      assertTokenError(await token(env, { client_id: native.client_id }), 400, 'invalid_request');
      for (const g of ['password', 'client_credentials', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']) {
        assertTokenError(await token(env, { grant_type: g, client_id: native.client_id }), 400, 'unsupported_grant_type');
      }
    }));
  });

  // --- Client authentication ---------------------------------------------------------------------

  describe('client authentication at the token endpoint', () => {
    let basicClient;
    let postClient;
    before(async () => {
      basicClient = await newClient(env, { client_name: 'Confidential basic', token_endpoint_auth_method: 'client_secret_basic' });
      postClient = await newClient(env, { client_name: 'Confidential post', token_endpoint_auth_method: 'client_secret_post' });
      assert.match(basicClient.client_secret, /^[A-Za-z0-9_-]{43}$/);
      assert.match(postClient.client_secret, /^[A-Za-z0-9_-]{43}$/);
    });
    const codeParams = (c) => ({ grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: c.redirectUri });

    it('client_secret_basic: a wrong secret -> 401 invalid_client; the right one -> tokens (then a refresh)', t(async () => {
      const c = await getCode(env, alice, basicClient);
      assertTokenError(await token(env, codeParams(c), { basic: [basicClient.client_id, randomToken()] }), 401, 'invalid_client');
      assertTokenError(await token(env, codeParams(c), { basic: [basicClient.client_id, ''] }), 401, 'invalid_client');
      assertTokenError(await token(env, { ...codeParams(c), client_id: basicClient.client_id }), 401, 'invalid_client');
      const tk = assertTokens(await token(env, codeParams(c), { basic: [basicClient.client_id, basicClient.client_secret] }));
      assert.equal(jose.decodeJwt(tk.access_token).client_id, basicClient.client_id);
      assertTokens(await token(env, { grant_type: 'refresh_token', refresh_token: tk.refresh_token },
        { basic: [basicClient.client_id, basicClient.client_secret] }));
    }));

    it('client_secret_post: a wrong secret -> 401 invalid_client; the right one -> tokens (then a refresh)', t(async () => {
      const c = await getCode(env, alice, postClient);
      const id = postClient.client_id;
      assertTokenError(await token(env, { ...codeParams(c), client_id: id, client_secret: randomToken() }), 401, 'invalid_client');
      const tk = assertTokens(await token(env, { ...codeParams(c), client_id: id, client_secret: postClient.client_secret }));
      assert.equal(jose.decodeJwt(tk.access_token).client_id, id);
      assertTokens(await token(env, { grant_type: 'refresh_token', refresh_token: tk.refresh_token, client_id: id, client_secret: postClient.client_secret }));
    }));

    it('Basic and client_secret_post together -> 400 invalid_request', t(async () => {
      const c = await getCode(env, alice, basicClient);
      const r = await token(env, { ...codeParams(c), client_id: basicClient.client_id, client_secret: basicClient.client_secret },
        { basic: [basicClient.client_id, basicClient.client_secret] });
      assertTokenError(r, 400, 'invalid_request');
    }));

    it('malformed Basic headers -> 401 invalid_client with WWW-Authenticate', t(async () => {
      const b64 = (s) => Buffer.from(s).toString('base64');
      for (const h of [
        'Basic',
        'Basic ',
        'Basic !!!not-base64!!!',
        `Basic ${b64('no-colon-here')}`,
        `Basic ${b64(':')}`,
        `Basic ${b64(`:${basicClient.client_secret}`)}`,
        `Basic ${b64(`${basicClient.client_id}\u0000:x`)}`,
        `Basic ${b64(`${basicClient.client_id}:%zz`)}`,
        `Basic ${b64(`${basicClient.client_id}:${basicClient.client_secret}`).slice(0, -2)}`,
        'Bearer abc',
        `Digest ${b64(`${basicClient.client_id}:${basicClient.client_secret}`)}`,
      ]) {
        const r = await token(env, { grant_type: 'authorization_code', code: randomToken(), code_verifier: pkce().verifier, redirect_uri: LOOPBACK },
          { authorization: h });
        assertTokenError(r, 401, 'invalid_client');
      }
      // Still serving.
      assertTokenError(await token(env, { grant_type: 'refresh_token', refresh_token: randomToken(), client_id: native.client_id }), 400, 'invalid_grant');
    }));

    it('an unknown client -> 401 invalid_client; no client at all -> 401 invalid_client', t(async () => {
      assertTokenError(await token(env, { grant_type: 'refresh_token', refresh_token: randomToken(), client_id: 'unknownClientIdXXXXXXX' }), 401, 'invalid_client');
      assertTokenError(await token(env, { grant_type: 'refresh_token', refresh_token: randomToken() },
        { basic: ['unknownClientIdXXXXXXX', randomToken()] }), 401, 'invalid_client');
      assertTokenError(await token(env, { grant_type: 'refresh_token', refresh_token: randomToken() }), 401, 'invalid_client');
    }));

    it('a public client that sends a client_secret anyway: ignored, tokens as usual', t(async () => {
      const c = await getCode(env, alice, native);
      assertTokens(await redeem(env, native, c, { client_secret: 'whatever-the-client-sends' }));
    }));

    it('Basic credentials naming another client than the body\'s client_id -> 400 invalid_request', t(async () => {
      const c = await getCode(env, alice, basicClient);
      const r = await token(env, { ...codeParams(c), client_id: native.client_id },
        { basic: [basicClient.client_id, basicClient.client_secret] });
      assertTokenError(r, 400, 'invalid_request');
    }));

    it('the secret is stored only as a hash', t(async () => {
      const r = rows(env, `SELECT secret_hash FROM clients WHERE client_id = ${lit(basicClient.client_id)}`);
      assert.equal(r[0].secret_hash, sha256(basicClient.client_secret));
    }));
  });

  // --- Canary -------------------------------------------------------------------------------------

  describe('canary: no secret in logs, pages or the database', () => {
    it('signs in with a canary password, uses every kind of secret, then finds none of them stored or logged', t(async () => {
      const canary = { username: 'carol', password: `CANARY-pw-${randomToken(12)}` };
      addUser(env.inst, canary.username, canary.password);
      env.passwords.push(canary.password);
      const wrongCanary = `CANARY-wrong-${randomToken(12)}`;
      env.passwords.push(wrongCanary);

      const b = browser(env);
      const conf = await newClient(env, { client_name: 'Canary app', token_endpoint_auth_method: 'client_secret_basic' });
      // A failed login with a canary password first.
      const { challenge } = pkce();
      const lp = await b.get(authorizeUrl(env.issuer, {
        clientId: conf.client_id, redirectUri: LOOPBACK, challenge, state: 'c', resource: env.main,
      }));
      await b.login(lp, canary.username, wrongCanary);
      const c = await getCode(env, b, conf, { user: canary });
      const tk = assertTokens(await token(env, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: LOOPBACK },
        { basic: [conf.client_id, conf.client_secret] }));
      assertTokens(await token(env, { grant_type: 'refresh_token', refresh_token: tk.refresh_token },
        { basic: [conf.client_id, conf.client_secret] }));
      // A replay and a reuse: the error paths log too.
      await token(env, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: LOOPBACK },
        { basic: [conf.client_id, conf.client_secret] });
      await token(env, { grant_type: 'refresh_token', refresh_token: tk.refresh_token }, { basic: [conf.client_id, randomToken()] });

      // Every secret of this describe's run.
      const secrets = new Map(); // value -> what
      const add = (what, v) => { if (typeof v === 'string' && v.length >= 16) secrets.set(v, what); };
      for (const p of env.passwords) add('password', p);
      for (const v of env.verifiers) add('code_verifier', v);
      for (const r of env.registrations) {
        add('client_secret', r.client_secret);
        add('registration_access_token', r.registration_access_token);
      }
      for (const a of env.tokenAnswers) {
        add('access_token', a.json?.access_token);
        add('refresh_token', a.json?.refresh_token);
      }
      const formSecrets = new Map(); // in pages by design, never stored or logged
      for (const br of env.browsers) {
        for (const a of br.answers) {
          for (const sc of a.setCookies) {
            const [name, value] = sc.split(';')[0].split('=');
            add(`cookie ${name}`, value);
          }
          if (a.location) {
            const u = new URL(a.location, env.issuer);
            add('code', u.searchParams.get('code'));
            const rid = u.searchParams.get('request_id');
            if (rid) formSecrets.set(rid, 'request_id');
          }
          const f = hiddenFields(a.text || '');
          if (f.csrf) formSecrets.set(f.csrf, 'csrf');
          if (f.request_id) formSecrets.set(f.request_id, 'request_id');
        }
      }
      const kinds = new Set(secrets.values());
      for (const k of ['password', 'client_secret', 'registration_access_token', 'access_token', 'refresh_token', 'code',
        'code_verifier', `cookie ${cookieName('session', env.issuer)}`, `cookie ${cookieName('flow', env.issuer)}`]) {
        assert.ok(kinds.has(k), `collected some ${k}`);
      }
      assert.ok(secrets.size > 100, `many secrets collected (${secrets.size})`);

      await sleep(200); // let the log lines land
      const logs = env.server.logs();
      assert.match(logs, /event=login outcome=ok user="carol"/, 'the logs are the programs\' logs');
      const db = dbBytes(env.inst.db).toString('latin1');
      const pages = env.browsers.flatMap((br) => br.answers.map((a) => a.text || '')).join('\n');
      assert.ok(pages.includes('Wrong username or password.'));

      const leaks = [];
      for (const [v, what] of secrets) {
        if (logs.includes(v)) leaks.push(`${what} in the logs`);
        if (db.includes(v)) leaks.push(`${what} in mcpauth.db/-wal`);
        if (pages.includes(v)) leaks.push(`${what} in a page`);
      }
      for (const [v, what] of formSecrets) {
        if (logs.includes(v)) leaks.push(`${what} in the logs`);
        if (db.includes(v)) leaks.push(`${what} in mcpauth.db/-wal`);
      }
      // The JWTs' signatures alone must not be stored either.
      for (const a of env.tokenAnswers) {
        const sig = a.json?.access_token?.split('.')[2];
        if (sig && db.includes(sig)) leaks.push('an access token signature in mcpauth.db/-wal');
      }
      assert.deepEqual([...new Set(leaks)], [], 'no secret in plaintext anywhere');
    }));

    it('every page of this run carried the framing and caching headers', t(async () => {
      let n = 0;
      for (const br of env.browsers) {
        for (const a of br.answers) {
          const path = new URL(a.url).pathname;
          if (!path.endsWith('/authorize')) continue;
          if (a.status === 303) {
            assert.match(a.headers.get('cache-control') || '', /no-store/, `no-store on ${a.what}`);
            continue;
          }
          // The web server's own refusals (a %00 in the URL) are not ours.
          if (pageKind(a.text) === 'unknown' && !a.headers.get('x-frame-options') && a.status === 400) continue;
          assertPageHeaders(a);
          n++;
        }
      }
      assert.ok(n > 50, `${n} pages checked`);
    }));
  });
});

// --- refresh_grace = 0 and a single resource ---------------------------------------------------

describe('lighttpd, refresh_grace = 0, one resource', () => {
  const { env, t } = serve('lighttpd', { extra: 'refresh_grace = 0' }, [ALICE]);

  it('no resource parameter: the only resource; reuse of a rotated token a second later revokes the family', t(async () => {
    const client = await newClient(env);
    const b = browser(env);
    const { verifier, challenge } = pkce();
    const { params } = await b.authorize(authorizeUrl(env.issuer, {
      clientId: client.client_id, redirectUri: LOOPBACK, challenge, state: 'g', resource: undefined,
    }), ALICE);
    const t0 = assertTokens(await redeem(env, client, { code: params.get('code'), verifier, redirectUri: LOOPBACK }));
    assert.equal(jose.decodeJwt(t0.access_token).aud, env.main, 'the default resource');
    assert.equal(t0.scope, 'mcp:tools mcp:resources', 'no scope asked: the resource\'s defaults');
    const t1 = assertTokens(await refresh(env, client, t0.refresh_token));
    await sleep(1100);
    assertTokenError(await refresh(env, client, t0.refresh_token), 400, 'invalid_grant');
    assertTokenError(await refresh(env, client, t1.refresh_token), 400, 'invalid_grant');
    const r = rows(env, `SELECT revoked_at FROM access_tokens WHERE jti = ${lit(jtiOf(t1.access_token))}`);
    assert.notEqual(r[0].revoked_at, null);
  }));
});

// --- races ----------------------------------------------------------------------------------------

// lighttpd with an issuer path here (the attacks above run without one).
for (const [kind, issuerPath] of [['lighttpd', '/t1'], ['apache', '']]) {
  describe(`${kind}${issuerPath ? `, issuer path ${issuerPath}` : ''}: simultaneous redemptions; headers through the web server`, () => {
    const { env, t } = serve(kind, { issuerPath, extra: 'confidential_registration = yes\nregistration_rate_limit = 0' }, [ALICE]);
    let client;
    let b;
    before(async () => {
      client = await newClient(env);
      b = browser(env);
    });

    it('client_secret_basic reaches the program (Authorization header), as do Origin and the cookies', t(async () => {
      const conf = await newClient(env, { token_endpoint_auth_method: 'client_secret_basic' });
      const c = await getCode(env, b, conf);
      const params = { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: c.redirectUri };
      assertTokenError(await token(env, params, { basic: [conf.client_id, randomToken()] }), 401, 'invalid_client');
      assertTokenError(await token(env, params, { authorization: 'Basic !!' }), 401, 'invalid_client');
      assertTokens(await token(env, params, { basic: [conf.client_id, conf.client_secret] }));

      const { challenge } = pkce();
      const fresh = browser(env);
      const page = await fresh.get(authorizeUrl(env.issuer, {
        clientId: client.client_id, redirectUri: LOOPBACK, challenge, state: 'h', resource: env.main,
      }));
      assert.equal(pageKind(page.text), 'login', page.what);
      assertPageHeaders(page);
      assertErrorPage(await fresh.login(page, ALICE.username, ALICE.password, { origin: 'http://evil.example' }), 403, 'invalid_request');
      assertErrorPage(await fresh.login(page, ALICE.username, ALICE.password, { cookies: false }), 400, 'invalid_request');
      const ok = await fresh.login(page, ALICE.username, ALICE.password, { origin: env.origin });
      assert.equal(ok.status, 303, ok.what);
    }));

    it('one consent form sent 16 times at once: exactly one code for the authorization request', t(async () => {
      // A stored request is answered once: sent again one after the other,
      // the form gets an error page (see "the consent form sent twice").
      // Round 1 sends them plainly; round 2 while the database's write lock
      // is held, so that they all get past their reads before any writes.
      const results = [];
      for (const lock of [false, true]) {
        const c = await newClient(env);
        const fb = browser(env);
        const { challenge } = pkce();
        const page = await fb.get(authorizeUrl(env.issuer, {
          clientId: c.client_id, redirectUri: LOOPBACK, challenge, state: 'race', resource: env.main,
        }));
        const l = await fb.login(page, ALICE.username, ALICE.password);
        const cp = await fb.get(l.location);
        assert.equal(pageKind(cp.text), 'consent', cp.what);
        // (Held for 1.5 s: mod_fcgid starts more processes meanwhile.)
        const answers = await simultaneously(16, () => fb.consent(cp, 'approve'), { lockDb: lock ? env.inst.db : null, holdMs: 1500 });
        env.inst.chown();
        const codes = answers.filter((a) => a.status === 303 && new URL(a.location).searchParams.get('code'));
        const stored = rows(env, `SELECT count(*) AS n FROM authorization_codes WHERE client_id = ${lit(c.client_id)}`)[0].n;
        results.push({ lock, codes: codes.length, stored, statuses: answers.map((a) => a.status).join(',') });
        for (const a of answers) if (!codes.includes(a)) assertErrorPage(a, 400, 'invalid_request');
      }
      assert.deepEqual(results.map((r) => [r.codes, r.stored]), [[1, 1], [1, 1]],
        `one code per authorization request: ${JSON.stringify(results)}`);
    }));

    it('the continuation after sign-in opened 16 times at once (a consented client): exactly one code', t(async () => {
      const c = await newClient(env);
      await getCode(env, browser(env), c); // alice consents once
      const results = [];
      for (const lock of [false, true]) {
        const fb = browser(env);
        const { challenge } = pkce();
        const page = await fb.get(authorizeUrl(env.issuer, {
          clientId: c.client_id, redirectUri: LOOPBACK, challenge, state: 'cont', resource: env.main,
        }));
        const l = await fb.login(page, ALICE.username, ALICE.password);
        assert.equal(l.status, 303, l.what);
        const before = rows(env, `SELECT count(*) AS n FROM authorization_codes WHERE client_id = ${lit(c.client_id)}`)[0].n;
        const answers = await simultaneously(16, () => fb.get(l.location), { lockDb: lock ? env.inst.db : null, holdMs: 1500 });
        env.inst.chown();
        const codes = answers.filter((a) => a.status === 303 && new URL(a.location).searchParams.get('code'));
        const stored = rows(env, `SELECT count(*) AS n FROM authorization_codes WHERE client_id = ${lit(c.client_id)}`)[0].n - before;
        results.push({ lock, codes: codes.length, stored, statuses: answers.map((a) => a.status).join(',') });
        for (const a of answers) if (!codes.includes(a)) assertErrorPage(a, 400, 'invalid_request');
      }
      assert.deepEqual(results.map((r) => [r.codes, r.stored]), [[1, 1], [1, 1]],
        `one code per authorization request: ${JSON.stringify(results)}`);
    }));

    for (const lock of [false, true]) {
      const how = lock ? ' (released together from a held write lock)' : '';
      it(`32 simultaneous redemptions of one code: exactly one 200, the rest invalid_grant${how}`, t(async () => {
        const c = await getCode(env, b, client);
        const families = () => rows(env, `SELECT count(DISTINCT family_id) AS n FROM refresh_tokens WHERE client_id = ${lit(client.client_id)}`)[0].n;
        const before = families();
        const answers = await simultaneously(32, () => redeem(env, client, c), { lockDb: lock ? env.inst.db : null });
        env.inst.chown();
        const statuses = answers.map((a) => a.status);
        assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses}`);
        for (const a of answers) if (a.status !== 200) assertTokenError(a, 400, 'invalid_grant');
        const row = rows(env, `SELECT consumed_at FROM authorization_codes WHERE code_hash = ${lit(sha256(c.code))}`);
        assert.notEqual(row[0].consumed_at, null);
        assert.equal(families() - before, 1, 'one family issued');
      }));

      it(`32 simultaneous refreshes of one token: exactly one 200, and the winner's new token works${how}`, t(async () => {
        const c = await getCode(env, b, client);
        const t0 = assertTokens(await redeem(env, client, c));
        const answers = await simultaneously(32, () => refresh(env, client, t0.refresh_token), { lockDb: lock ? env.inst.db : null });
        env.inst.chown();
        const statuses = answers.map((a) => a.status);
        assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses}`);
        for (const a of answers) if (a.status !== 200) assertTokenError(a, 400, 'invalid_grant');
        const winner = answers.find((a) => a.status === 200).json;
        const fam = rows(env, `SELECT family_id FROM refresh_tokens WHERE token_hash = ${lit(sha256(t0.refresh_token))}`)[0].family_id;
        assert.equal(rows(env, `SELECT count(*) AS n FROM refresh_tokens WHERE family_id = ${lit(fam)}`)[0].n, 2,
          'one new family member');
        assert.equal(rows(env, `SELECT count(*) AS n FROM refresh_tokens WHERE family_id = ${lit(fam)} AND revoked_at IS NOT NULL`)[0].n, 0,
          'nothing revoked');
        const next = assertTokens(await refresh(env, client, winner.refresh_token));
        assert.ok(next.access_token);
      }));
    }
  });
}

// shared-hosting-install.test.mjs (issue 8): mcpauth on a shared-hosting
// account, from the source to a signed-in MCP client, as the account's
// unprivileged user does it:
// - the source tree (the files git knows, committed or not) is copied into
//   the user's home and built and installed there as that user:
//   `autoreconf -fi && ./configure --prefix=$HOME/mcpauth && make && make
//   install` (once, for both variants below);
// - as that user: mcpauth.conf (mode 0600) in $HOME/mcpauth/etc/mcpauth with
//   an issuer with a path (http://127.0.0.1:PORT/auth), the database and
//   keys at their defaults under the prefix, `mcpauth-admin init`, `user add
//   alice`, then `mcpauth-admin deploy ~/public_html` (mod_fcgid) or
//   `deploy ~/public_html --cgi` (plain CGI);
// - a real Apache started here serves ~/public_html with AllowOverride All
//   and not one line about mcpauth, its children running as the user (as
//   suexec would have it): once with mod_fcgid, once with mod_cgi only;
// - every well-known URL answers with the exact issuer, and the MCP
//   TypeScript SDK's whole flow works through it: the MCP server's 401,
//   discovery, dynamic registration, sign-in and consent in Chromium, the
//   tokens, a tool call with the access token, a refresh;
// - the programs that answer run as the unprivileged user (from its prefix)
//   and every file of the instance stays the user's.
//
// As root the tests create the user mcpauth-host (once; its ~/src,
// ~/mcpauth and ~/public_html are made afresh each run). Not as root, the
// current user plays the account, with a temporary HOME.
//
// The programs under test are the account's own build, not var/prefix
// (script/test's install), though lib/harness.mjs, imported for its
// helpers, needs that install too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as jose from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

import { APACHE, ROOT, WebServer, freePort, programPids, sharedHostConf } from './lib/harness.mjs';
import {
  assertPageHeaders, holdWriteLock, launchChromium, randomToken, sdkClient, sha256, startReceiver,
} from './lib/flow.mjs';
import { startMcpServer } from './lib/mcp-server.mjs';

const AS_ROOT = process.getuid() === 0;
const ACCOUNT = 'mcpauth-host';
const USER = 'alice';
const PASSWORD = `alice-pw-${randomToken(9)}`;
const BUILD_TIMEOUT = 10 * 60 * 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- the hosting account ------------------------------------------------------

// The account: { name, uid, gid, home }. As root, the user mcpauth-host
// (created when missing); else the current user with a temporary home.
function account() {
  if (!AS_ROOT) {
    const me = os.userInfo();
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-host-home-'));
    return { name: me.username, uid: me.uid, gid: me.gid, home, temporary: true };
  }
  const find = () => fs.readFileSync('/etc/passwd', 'utf8').split('\n')
    .find((l) => l.startsWith(`${ACCOUNT}:`));
  if (!find()) {
    execFileSync('useradd', ['-m', '-d', `/home/${ACCOUNT}`, '-s', '/bin/sh', ACCOUNT], { stdio: 'pipe' });
  }
  const [, , uid, gid, , home] = find().split(':');
  const acct = { name: ACCOUNT, uid: Number(uid), gid: Number(gid), home };
  fs.mkdirSync(home, { recursive: true });
  fs.chownSync(home, acct.uid, acct.gid);
  return acct;
}

// The spawn options that run a command as the account: its uid and gid
// when we are root, and only HOME, PATH and LANG in its environment.
function accountSpawn(acct) {
  return {
    env: { HOME: acct.home, PATH: process.env.PATH, LANG: 'C' },
    ...(AS_ROOT ? { uid: acct.uid, gid: acct.gid } : {}),
  };
}

// Runs cmd as the account (accountSpawn). Resolves to { status, signal,
// stdout, stderr, output } (output: both, interleaved); never rejects on
// a failed command.
function runAs(acct, cmd, args, { cwd, input, timeout = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: cwd || acct.home, ...accountSpawn(acct) });
    let stdout = '';
    let stderr = '';
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.stdout.on('data', (d) => { stdout += d; output += d; });
    child.stderr.on('data', (d) => { stderr += d; output += d; });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, output });
    });
    child.stdin.end(input ?? '');
  });
}

// runAs that throws, with the command's output, unless it exits 0.
async function mustRunAs(acct, cmd, args, opts) {
  const r = await runAs(acct, cmd, args, opts);
  if (r.status !== 0) {
    const out = r.output.length > 12000 ? `...${r.output.slice(-12000)}` : r.output;
    throw new Error(`${[cmd, ...args].join(' ')} as ${acct.name} exited ${r.status ?? r.signal}\n${out}`);
  }
  return r;
}

// Copies the source tree without build products (the files git lists,
// untracked ones included) to dest.
function copySource(dest) {
  const list = execFileSync('git', ['-C', ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  }).split('\0').filter(Boolean);
  for (const f of list) {
    const from = path.join(ROOT, f);
    let st;
    try { st = fs.lstatSync(from); } catch { continue; /* deleted, not yet committed */ }
    const to = path.join(dest, f);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else if (st.isFile()) {
      fs.copyFileSync(from, to);
      fs.chmodSync(to, st.mode & 0o777);
    }
  }
  return list.length;
}

function chownTree(p, uid, gid) {
  fs.lchownSync(p, uid, gid);
  if (fs.lstatSync(p).isDirectory()) {
    for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid, gid);
  }
}

// Every path under dir (dir included) whose owner is not uid.
function notOwnedBy(dir, uid) {
  const bad = [];
  const walk = (p) => {
    const st = fs.lstatSync(p);
    if (st.uid !== uid) bad.push(`${p} (uid ${st.uid})`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return bad;
}

// --- processes ----------------------------------------------------------------

// { uid (effective), ppid } of a process, or null when it is gone.
function procStatus(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return { uid: Number(/^Uid:\s+\d+\s+(\d+)/m.exec(s)[1]), ppid: Number(/^PPid:\s+(\d+)/m.exec(s)[1]) };
  } catch { return null; }
}

function allPids() {
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number);
}

// The processes whose environment names this configuration file (what
// deploy's wrappers export before they exec the program), with their
// program's path.
function programProcesses(conf) {
  const out = [];
  for (const pid of programPids(conf)) {
    try {
      const exe = fs.readlinkSync(`/proc/${pid}/exe`);
      const st = procStatus(pid);
      if (st) out.push({ pid, exe, uid: st.uid });
    } catch { /* not ours to read, or gone */ }
  }
  return out;
}

// --- Apache as the shared host runs it ------------------------------------------

// Apache serving the account's document root (opts: acct, port, run,
// handler, docroot, conf): sharedHostConf in lib/harness.mjs, with the
// children run as the account when we are root.
class Apache extends WebServer {
  constructor(opts) {
    super('apache', opts.port, path.join(opts.run, 'error.log'), opts.conf);
    this.opts = opts;
    this.run = opts.run;
  }

  async start() {
    const { acct, port, run, handler, docroot } = this.opts;
    fs.mkdirSync(path.join(run, 'fcgid'), { recursive: true });
    fs.writeFileSync(this.errorLog, '');
    this.confText = sharedHostConf({
      port, run, handler, docroot, children: AS_ROOT ? { user: acct.name, group: `#${acct.gid}` } : null,
    });
    this.confFile = path.join(run, 'apache.conf');
    fs.writeFileSync(this.confFile, this.confText);
    if (AS_ROOT) chownTree(run, acct.uid, acct.gid);
    return this.launch(APACHE, ['-f', this.confFile, '-DFOREGROUND']);
  }
}

// --- the tests ----------------------------------------------------------------------

describe('shared hosting: installed and deployed by an unprivileged user, the MCP SDK signs in', () => {
  let acct;
  let prefix;
  before(async () => {
    acct = account();
    prefix = path.join(acct.home, 'mcpauth');
    // A fresh source tree and prefix every run; the home traversable, as a
    // host's web server needs it.
    for (const d of ['src', 'mcpauth', 'public_html']) {
      fs.rmSync(path.join(acct.home, d), { recursive: true, force: true });
    }
    fs.chmodSync(acct.home, 0o711);
    const src = path.join(acct.home, 'src');
    fs.mkdirSync(src);
    copySource(src);
    if (AS_ROOT) chownTree(src, acct.uid, acct.gid);
    await mustRunAs(acct, 'sh', ['-c',
      'autoreconf -fi && ./configure --prefix="$HOME/mcpauth" && make -j"$(nproc)" && make install'], {
      cwd: src, timeout: BUILD_TIMEOUT,
    });
  });
  after(() => {
    if (!acct) return;
    if (acct.temporary) fs.rmSync(acct.home, { recursive: true, force: true });
    else for (const d of ['src', 'mcpauth', 'public_html']) fs.rmSync(path.join(acct.home, d), { recursive: true, force: true });
  });

  it('the installation is the account\'s, under its home', () => {
    for (const p of ['sbin/mcpauth-admin', 'libexec/mcpauth/mcpauth-discovery', 'libexec/mcpauth/mcpauth-register',
      'libexec/mcpauth/mcpauth-authorize', 'libexec/mcpauth/mcpauth-token', 'share/mcpauth/www/login.html']) {
      assert.ok(fs.existsSync(path.join(prefix, p)), `${prefix}/${p}`);
    }
    assert.deepEqual(notOwnedBy(prefix, acct.uid), [], 'everything make install wrote is the account\'s');
  });

  for (const handler of ['fcgid', 'cgi']) {
    const ext = handler === 'fcgid' ? 'fcgi' : 'cgi';
    describe(`${handler === 'fcgid' ? 'mod_fcgid' : 'plain CGI (mod_cgi only)'}, issuer http://127.0.0.1:PORT/auth`, () => {
      const env = {};
      let conf; let db; let docroot; let deployed;
      before(async () => {
        conf = path.join(prefix, 'etc/mcpauth/mcpauth.conf');
        db = path.join(prefix, 'var/lib/mcpauth/mcpauth.db');
        docroot = path.join(acct.home, 'public_html');
        env.mcp = await startMcpServer({ path: '/mcp', scope: 'mcp:tools' });
        env.port = await freePort();
        env.origin = `http://127.0.0.1:${env.port}`;
        env.issuer = `${env.origin}/auth`;
        env.prmUrl = `${env.origin}/.well-known/oauth-protected-resource/mcp`;
        env.mcp.configure({ issuer: env.issuer, jwksUri: `${env.issuer}/jwks`, prmUrl: env.prmUrl });

        // What the account's user does, from a shell (a fresh instance for
        // each variant: its own issuer, database, keys and document root).
        // database and key_dir stay unset: their defaults come from the
        // prefix ($HOME/mcpauth/var/lib/mcpauth/...).
        await mustRunAs(acct, 'sh', ['-c', `set -e
umask 077
rm -rf "$HOME/public_html" "$HOME/mcpauth/var/lib/mcpauth"
mkdir -p "$HOME/mcpauth/etc/mcpauth" "$HOME/mcpauth/var/lib/mcpauth"
cat > "$HOME/mcpauth/etc/mcpauth/mcpauth.conf"
chmod 600 "$HOME/mcpauth/etc/mcpauth/mcpauth.conf"
umask 022
mkdir "$HOME/public_html"
printf '%s\\n' "# the site's own rules" 'Options -Indexes' > "$HOME/public_html/.htaccess"
echo 'the site' > "$HOME/public_html/index.html"
`], {
          input: [
            '# Written by tests/integration/shared-hosting-install.test.mjs',
            `issuer = ${env.issuer}`,
            '',
            '[resource]',
            `url = ${env.mcp.url}`,
            'name = Shared-hosting test MCP server',
            'scopes = mcp:tools',
            '',
          ].join('\n'),
        });
        const admin = path.join(prefix, 'sbin/mcpauth-admin');
        await mustRunAs(acct, admin, ['init']);
        await mustRunAs(acct, admin, ['user', 'add', USER], { input: `${PASSWORD}\n` });
        deployed = await mustRunAs(acct, admin, ['deploy', docroot, ...(handler === 'cgi' ? ['--cgi'] : [])]);

        env.apache = new Apache({
          acct, port: env.port, handler, docroot, conf,
          run: fs.mkdtempSync(path.join(os.tmpdir(), `shared-host-apache-${handler}-`)),
        });
        await env.apache.start();
        env.receiver = await startReceiver();
        env.browser = await launchChromium();
      });
      after(async () => {
        await env.browser?.close();
        await env.receiver?.close();
        await env.mcp?.close();
        if (env.apache) {
          await env.apache.stop();
          fs.rmSync(env.apache.run, { recursive: true, force: true });
        }
      });

      // Prints Apache's error log (the programs' stderr lands there) with a
      // failure.
      const t = (fn) => async () => {
        try {
          await fn();
        } catch (e) {
          if (env.apache) process.stderr.write(`\n${env.apache.logs()}\n`);
          throw e;
        }
      };
      const get = async (p) => {
        const res = await fetch(`${env.origin}${p}`, { redirect: 'manual' });
        const text = await res.text();
        return { status: res.status, text, what: `GET ${p} -> ${res.status} ${text.slice(0, 300)}` };
      };
      // The database as the account reads it (sqlite3 as root could leave
      // root-owned -wal and -shm files that the programs cannot open).
      const rows = (sql) => {
        const r = spawnSync('sqlite3', ['-json', db, sql], { encoding: 'utf8', ...accountSpawn(acct) });
        assert.equal(r.status, 0, `sqlite3 ${sql}: ${r.stderr}`);
        return r.stdout.trim() ? JSON.parse(r.stdout) : [];
      };

      it('deploy wrote wrappers that run the home install with the home configuration; Apache knows nothing of mcpauth', t(async () => {
        assert.match(deployed.stdout, new RegExp(`updated ${docroot}/\\.htaccess`));
        for (const p of ['discovery', 'register', 'authorize', 'token']) {
          const f = path.join(docroot, 'auth', `${p}.${ext}`);
          assert.equal(fs.statSync(f).mode & 0o777, 0o755, f);
          const text = fs.readFileSync(f, 'utf8');
          assert.ok(text.includes(`MCPAUTH_CONFIG='${conf}'`), text);
          assert.ok(text.includes(`exec '${prefix}/libexec/mcpauth/mcpauth-${p}'`), text);
        }
        const root = fs.readFileSync(path.join(docroot, '.htaccess'), 'utf8');
        assert.ok(root.startsWith('# BEGIN mcpauth\n'), root);
        assert.ok(root.includes('# the site\'s own rules\nOptions -Indexes\n'), root);
        assert.equal(fs.statSync(conf).mode & 0o777, 0o600);
        assert.equal(fs.statSync(db).mode & 0o777, 0o600, 'init made the database private');
        // Nothing of mcpauth in the server configuration: no program, no
        // path, no environment, no rewrite; only the account's home (in
        // the document root and User lines) has the name.
        for (const word of ['libexec', 'MCPAUTH', '/auth', '.fcgi', '.cgi', 'Alias', 'Rewrite', 'SetEnv',
          'PassEnv', 'FcgidWrapper', 'FcgidInitialEnv', 'Script ', 'Include', 'Define']) {
          assert.ok(!env.apache.confText.includes(word), `${word} in the Apache configuration:\n${env.apache.confText}`);
        }
        const site = await get('/index.html');
        assert.equal(site.text, 'the site\n', site.what);
      }));

      it('every well-known URL answers with the exact issuer', t(async () => {
        for (const p of ['/.well-known/oauth-authorization-server/auth', '/.well-known/openid-configuration/auth',
          '/auth/.well-known/openid-configuration', '/auth/.well-known/oauth-authorization-server']) {
          const r = await get(p);
          assert.equal(r.status, 200, r.what);
          const m = JSON.parse(r.text);
          assert.equal(m.issuer, env.issuer, p);
          assert.equal(m.authorization_endpoint, `${env.issuer}/authorize`, p);
          assert.equal(m.token_endpoint, `${env.issuer}/token`, p);
          assert.equal(m.registration_endpoint, `${env.issuer}/register`, p);
          assert.equal(m.jwks_uri, `${env.issuer}/jwks`, p);
        }
        // The protected resource metadata of the MCP server (on its own
        // port), which its 401 names, as flow.test.mjs serves it.
        const prm = await get('/.well-known/oauth-protected-resource/mcp');
        assert.equal(prm.status, 200, prm.what);
        const pm = JSON.parse(prm.text);
        assert.equal(pm.resource, env.mcp.url);
        assert.deepEqual(pm.authorization_servers, [env.issuer]);
        const jwks = await get('/auth/jwks');
        assert.equal(jwks.status, 200, jwks.what);
        assert.ok(JSON.parse(jwks.text).keys.length >= 1, jwks.what);
      }));

      it('the MCP SDK signs in from a 401 (discovery, DCR, Chromium sign-in and consent, tokens, a tool call, a refresh)', t(async () => {
        const { provider, redirectUri, browserRuns, fetched, transport } = sdkClient(env, {
          username: USER, password: PASSWORD, clientName: 'MCP SDK shared-hosting test',
        });
        const jwks = jose.createRemoteJWKSet(new URL(`${env.issuer}/jwks`));
        const verify = async (token) => (await jose.jwtVerify(token, jwks, {
          issuer: env.issuer, audience: env.mcp.url, typ: 'at+jwt',
        })).payload;

        // 1. Not signed in: the MCP server's 401 starts the flow, which
        // ends in the browser; the SDK then waits for the code.
        const t1 = transport();
        const c1 = new Client({ name: 'shared-hosting-test', version: '1.0.0' });
        await assert.rejects(c1.connect(t1), UnauthorizedError);
        assert.equal(env.mcp.seen[0].ok, false, 'the first MCP request had no valid token');
        assert.equal(env.mcp.seen[0].token, undefined, 'and no token at all');
        assert.ok(fetched.includes(`GET ${env.prmUrl}`), `the PRM URL from WWW-Authenticate was read: ${fetched.join('\n')}`);
        assert.ok(fetched.includes(`GET ${env.origin}/.well-known/oauth-authorization-server/auth`),
          `the AS metadata was read at its well-known URL with the issuer's path: ${fetched.join('\n')}`);
        assert.ok(fetched.includes(`POST ${env.issuer}/register`), 'the SDK registered (DCR)');
        assert.equal(provider.registrations, 1);
        assert.match(provider.clientInformation().client_id, /^[A-Za-z0-9_-]{22}$/);

        assert.equal(provider.redirects.length, 1, 'one authorization request');
        const az = provider.redirects[0];
        assert.equal(`${az.origin}${az.pathname}`, `${env.issuer}/authorize`);
        assert.equal(az.searchParams.get('resource'), env.mcp.url, 'resource = the MCP server (RFC 8707)');
        assert.equal(az.searchParams.get('code_challenge_method'), 'S256');
        assert.equal(az.searchParams.get('redirect_uri'), redirectUri);
        assert.equal(az.searchParams.get('scope'), 'mcp:tools', 'the scope from WWW-Authenticate');

        const cb = provider.callbacks[0];
        assert.match(cb.params.get('code') || '', /^[A-Za-z0-9_-]{43}$/, `a code came back: ${cb.url}`);
        assert.equal(cb.params.get('state'), provider.states[0], 'state passed through');
        assert.equal(cb.params.get('iss'), env.issuer, 'iss (RFC 9207)');
        assert.deepEqual(browserRuns[0].dialogs, [], 'no dialog fired');
        assert.ok(browserRuns[0].answers.length >= 3, 'the browser saw the login, the continuation and the consent');
        for (const a of browserRuns[0].answers) {
          if (a.status !== 200) continue;
          assertPageHeaders({ headers: new Headers(a.headers) }, `${a.request.method()} ${a.url}`);
        }
        const session = browserRuns[0].cookies.find((c) => c.name.startsWith('__Host-mcpauth-session-'));
        assert.ok(session, 'a session cookie');
        assert.equal(session.path, '/');

        // 2. The code exchange.
        await t1.finishAuth(cb.params.get('code'));
        assert.equal(provider.savedTokens.length, 1);
        const first = provider.tokens();
        assert.equal(first.token_type.toLowerCase(), 'bearer');
        assert.ok(first.refresh_token, 'a refresh token');
        const claims = await verify(first.access_token);
        const alice = rows(`SELECT subject FROM users WHERE username = '${USER}'`)[0];
        assert.equal(claims.sub, alice.subject, 'sub is alice\'s subject');
        assert.equal(claims.client_id, provider.clientInformation().client_id);
        assert.equal(claims.scope, 'mcp:tools');

        // 3. The MCP server takes the token.
        const c2 = new Client({ name: 'shared-hosting-test', version: '1.0.0' });
        await c2.connect(transport());
        const tools = await c2.listTools();
        assert.deepEqual(tools.tools.map((x) => x.name), ['whoami']);
        const who = JSON.parse((await c2.callTool({ name: 'whoami', arguments: {} })).content[0].text);
        assert.equal(who.jti, claims.jti, 'the MCP server saw this token');
        await c2.close();

        // 4. The access token stops working (the MCP server refuses it):
        // the SDK refreshes with the refresh token, without a browser.
        const seenBefore = env.mcp.seen.length;
        provider._tokens = { ...first, access_token: `${first.access_token.slice(0, -4)}AAAA` };
        const c3 = new Client({ name: 'shared-hosting-test', version: '1.0.0' });
        await c3.connect(transport());
        const who2 = JSON.parse((await c3.callTool({ name: 'whoami', arguments: {} })).content[0].text);
        await c3.close();
        assert.equal(env.mcp.seen[seenBefore].ok, false, 'the damaged token was refused');
        assert.equal(provider.redirects.length, 1, 'no second browser sign-in');
        assert.equal(provider.savedTokens.length, 2, 'new tokens from the refresh');
        const second = provider.tokens();
        assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token rotated');
        assert.deepEqual(provider.invalidations, []);
        const claims2 = await verify(second.access_token);
        assert.equal(who2.jti, claims2.jti, 'the MCP server saw the refreshed token');
        assert.equal(claims2.sub, claims.sub);
        assert.notEqual(claims2.jti, claims.jti);
        const old = rows(`SELECT rotated_at, family_id FROM refresh_tokens WHERE token_hash = '${sha256(first.refresh_token)}'`);
        assert.equal(old.length, 1);
        assert.notEqual(old[0].rotated_at, null, 'the old refresh token is marked rotated');
        const cur = rows(`SELECT family_id FROM refresh_tokens WHERE token_hash = '${sha256(second.refresh_token)}'`);
        assert.equal(cur[0]?.family_id, old[0].family_id, 'same family');
      }));

      it('the programs that answer run as the account, from its prefix; the instance\'s files stay the account\'s', t(async () => {
        // Apache's children (workers, and mod_fcgid's process manager or
        // the prefork workers that run mod_cgi) run as the account.
        const children = allPids().filter((pid) => procStatus(pid)?.ppid === env.apache.proc.pid);
        assert.ok(children.length >= 1, 'Apache has children');
        for (const pid of children) assert.equal(procStatus(pid)?.uid, acct.uid, `Apache child ${pid}`);

        // A registration caught while it waits for the database's write
        // lock: the program answering it (a plain CGI process, or a
        // FastCGI one) runs as the account, from its prefix.
        // sqlite3 as the account, so that the -wal and -shm files stay its.
        const release = await holdWriteLock(db, accountSpawn(acct));
        let caught = [];
        let answer;
        try {
          answer = fetch(`${env.issuer}/register`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({
              client_name: 'caught in the act', redirect_uris: ['http://127.0.0.1:9/cb'],
              token_endpoint_auth_method: 'none',
            }),
          });
          const deadline = Date.now() + 3000;
          while (Date.now() < deadline) {
            caught = programProcesses(conf).filter((p) => path.basename(p.exe) === 'mcpauth-register');
            if (caught.length) break;
            await sleep(25);
          }
        } finally {
          await release();
        }
        const res = await answer;
        assert.equal(res.status, 201, await res.text());
        assert.ok(caught.length >= 1, 'a running mcpauth-register with the account\'s configuration');
        for (const p of caught) {
          assert.equal(p.uid, acct.uid, `process ${p.pid} (${p.exe})`);
          assert.equal(p.exe, path.join(prefix, 'libexec/mcpauth/mcpauth-register'));
        }
        if (handler === 'fcgid') {
          // Every FastCGI process the flow left running, one program or
          // more of each.
          const all = programProcesses(conf);
          assert.deepEqual([...new Set(all.map((p) => path.basename(p.exe)))].sort(),
            ['mcpauth-authorize', 'mcpauth-discovery', 'mcpauth-register', 'mcpauth-token'], JSON.stringify(all));
          for (const p of all) {
            assert.equal(p.uid, acct.uid, `process ${p.pid} (${p.exe})`);
            assert.equal(path.dirname(p.exe), path.join(prefix, 'libexec/mcpauth'), `process ${p.pid}`);
          }
        }
        // The database, its -wal and -shm when there, and the keys.
        assert.deepEqual(notOwnedBy(path.dirname(db), acct.uid), []);
        assert.deepEqual(notOwnedBy(docroot, acct.uid), [], 'what deploy wrote is the account\'s');
      }));
    });
  }
});

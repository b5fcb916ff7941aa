// shared-hosting.test.mjs (issue 8): mcpauth served as a shared-hosting
// account serves it. Apache has a document root with AllowOverride All and
// not one line about mcpauth; `mcpauth-admin deploy DOCROOT` writes the
// wrappers and .htaccess files that make the issuer https://host/auth work,
// once for mod_fcgid and once for plain CGI (mod_cgi only, --cgi).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Instance, Server, freePort } from './lib/harness.mjs';
import {
  FormBrowser, addUser, assertTokens, authorizeUrl, pkce, randomToken, registerClient, tokenRequest,
} from './lib/flow.mjs';

const ALICE = { username: 'alice', password: `alice-pw-${randomToken(9)}` };

for (const handler of ['fcgid', 'cgi']) {
  describe(`shared hosting, .htaccess only, ${handler === 'fcgid' ? 'mod_fcgid' : 'plain CGI (mod_cgi only)'}`, () => {
    let inst; let server; let origin; let issuer; let resource; let deployed;
    before(async () => {
      const port = await freePort();
      origin = `http://127.0.0.1:${port}`;
      issuer = `${origin}/auth`;
      resource = `${origin}/mcp`;
      inst = new Instance({
        issuer,
        resources: [{ url: resource, scopes: ['mcp:tools'] }],
        extra: 'client_credentials = yes',
        name: `shared-${handler}`,
      });
      addUser(inst, ALICE.username, ALICE.password);
      server = new Server('apache', inst, port, { sharedHost: handler });
      await server.start();
      // What a user of the account runs, with the document root as it is:
      // an existing .htaccess of theirs is kept below mcpauth's block.
      fs.writeFileSync(path.join(server.docroot, '.htaccess'), '# the site\'s own rules\nOptions -Indexes\n');
      fs.writeFileSync(path.join(server.docroot, 'index.html'), 'the site\n');
      inst.chown();
      deployed = inst.admin(['deploy', server.docroot, ...(handler === 'cgi' ? ['--cgi'] : [])]);
    });
    after(async () => {
      await server?.stop();
      inst?.remove();
    });

    const get = async (p, headers = {}) => {
      const res = await fetch(`${origin}${p}`, { headers, redirect: 'manual' });
      return { status: res.status, text: await res.text(), headers: res.headers };
    };
    const explain = (r, what) => `${what}: ${r.status} ${r.text.slice(0, 300)}\n${server.logs()}`;

    it('deploy writes the wrappers and the .htaccess files, keeping the site\'s own rules', () => {
      assert.equal(deployed.status, 0, `${deployed.stderr}${deployed.stdout}`);
      const ext = handler === 'fcgid' ? 'fcgi' : 'cgi';
      for (const p of ['discovery', 'register', 'authorize', 'token']) {
        const f = path.join(server.docroot, 'auth', `${p}.${ext}`);
        assert.equal(fs.statSync(f).mode & 0o777, 0o755, f);
        assert.match(fs.readFileSync(f, 'utf8'), new RegExp(`MCPAUTH_CONFIG='${inst.conf}'`));
      }
      const root = fs.readFileSync(path.join(server.docroot, '.htaccess'), 'utf8');
      assert.ok(root.startsWith('# BEGIN mcpauth\n'), root);
      assert.ok(root.includes('# the site\'s own rules\nOptions -Indexes\n'), root);
      // Again: the block is replaced, not repeated.
      const again = inst.admin(['deploy', server.docroot, ...(handler === 'cgi' ? ['--cgi'] : [])]);
      assert.equal(again.status, 0, again.stderr);
      const twice = fs.readFileSync(path.join(server.docroot, '.htaccess'), 'utf8');
      assert.equal(twice.split('# BEGIN mcpauth').length, 2, twice);
      assert.equal(twice, root);
    });

    it('every well-known URL answers with the exact issuer; the site still serves its own files', async () => {
      for (const p of inst.asMetadataPaths()) {
        const r = await get(p);
        assert.equal(r.status, 200, explain(r, p));
        const m = JSON.parse(r.text);
        assert.equal(m.issuer, issuer, p);
        assert.equal(m.token_endpoint, `${issuer}/token`, p);
      }
      const prm = await get('/.well-known/oauth-protected-resource/mcp');
      assert.equal(prm.status, 200, explain(prm, 'PRM'));
      assert.deepEqual(JSON.parse(prm.text).authorization_servers, [issuer]);
      const jwks = await get('/auth/jwks');
      assert.equal(jwks.status, 200, explain(jwks, 'jwks'));
      assert.ok(JSON.parse(jwks.text).keys.length >= 1);
      const site = await get('/index.html');
      assert.equal(site.text, 'the site\n');
      // The wrappers are reachable only through the rules.
      const direct = await get(`/auth/token.${handler === 'fcgid' ? 'fcgi' : 'cgi'}`);
      assert.equal(direct.status, 404, explain(direct, 'a wrapper by name'));
    });

    it('registration, sign-in and consent, the code, a refresh; client_credentials with Basic (CGIPassAuth)', async () => {
      const client = await registerClient(issuer, {
        client_name: 'shared-host test', redirect_uris: ['http://127.0.0.1:9/cb'],
        token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
      });
      const b = new FormBrowser({ origin });
      const { verifier, challenge } = pkce();
      const state = randomToken(8);
      const { params } = await b.authorize(authorizeUrl(issuer, {
        clientId: client.client_id, redirectUri: 'http://127.0.0.1:9/cb', challenge, state, resource,
      }), ALICE);
      assert.equal(params.get('iss'), issuer);
      assert.equal(params.get('state'), state);
      const t = assertTokens(await tokenRequest(issuer, {
        grant_type: 'authorization_code', client_id: client.client_id, code: params.get('code'),
        code_verifier: verifier, redirect_uri: 'http://127.0.0.1:9/cb', resource,
      }));
      const r = assertTokens(await tokenRequest(issuer, {
        grant_type: 'refresh_token', client_id: client.client_id, refresh_token: t.refresh_token,
      }));
      assert.notEqual(r.refresh_token, t.refresh_token);

      const add = inst.admin(['client', 'add', 'bot', '--grant', 'client_credentials', '--resource', resource, '--json']);
      assert.equal(add.status, 0, add.stderr);
      const bot = JSON.parse(add.stdout);
      const cc = await tokenRequest(issuer, { grant_type: 'client_credentials', resource }, {
        basic: [bot.client_id, bot.client_secret],
      });
      assertTokens(cc, { refresh: false });
    });
  });
}

describe('mcpauth-admin deploy refuses what the programs would refuse', () => {
  let inst;
  before(() => {
    inst = new Instance({
      issuer: 'http://127.0.0.1:9/auth', resources: [{ url: 'http://127.0.0.1:9/mcp' }], name: 'deploy-refusals',
    });
  });
  after(() => inst?.remove());

  it('a document root that holds the database', () => {
    const r = inst.admin(['deploy', inst.dir]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /is inside the document root/);
    assert.equal(fs.existsSync(path.join(inst.dir, 'auth')), false, 'nothing written');
  });

  it('a root .htaccess with a BEGIN mcpauth line but no END: nothing guessed, nothing written', () => {
    const www = path.join(inst.dir, 'www-unfinished');
    fs.mkdirSync(www);
    const text = '# the site\n# BEGIN mcpauth\nRewriteEngine On\n# the site\'s rules after it\n';
    fs.writeFileSync(path.join(www, '.htaccess'), text);
    inst.chown();
    const r = inst.admin(['deploy', www]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /has a '# BEGIN mcpauth' line without its '# END mcpauth'/);
    assert.equal(fs.readFileSync(path.join(www, '.htaccess'), 'utf8'), text, 'the file is untouched');
    assert.equal(fs.existsSync(path.join(www, 'auth')), false, 'nothing written');
    // Ended, the old block is replaced wherever it was, the rest kept in order.
    fs.writeFileSync(path.join(www, '.htaccess'), '# the site\n# BEGIN mcpauth\nold\n# END mcpauth\n# after\n');
    const ok = inst.admin(['deploy', www]);
    assert.equal(ok.status, 0, ok.stderr);
    const now = fs.readFileSync(path.join(www, '.htaccess'), 'utf8');
    assert.ok(now.startsWith('# BEGIN mcpauth\n'), now);
    assert.ok(now.endsWith('# END mcpauth\n# the site\n# after\n'), now);
    assert.ok(!now.includes('\nold\n'), now);
  });

  it('an issuer without a path', () => {
    const other = new Instance({
      issuer: 'http://127.0.0.1:9', resources: [{ url: 'http://127.0.0.1:9/mcp' }], name: 'deploy-nopath',
    });
    try {
      const www = path.join(other.dir, 'www');
      fs.mkdirSync(www);
      other.chown();
      const r = other.admin(['deploy', www]);
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, /needs a path/);
    } finally {
      other.remove();
    }
  });
});

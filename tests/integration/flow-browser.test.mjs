// flow-browser.test.mjs: the login and consent pages in a real browser
// (Debian's Chromium, driven by playwright-core; a fresh context per test):
// a hostile client_name stays text (no script runs, no dialog), Deny sends
// access_denied back to the app, a wrong password shows the form again, the
// pages refuse to be framed, and the pages work under their own CSP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { startInstance, withLogs } from './lib/harness.mjs';
import {
  addUser, authorizeUrl, chromiumAuthorize, launchChromium, pkce, randomToken, registerClient, startReceiver,
} from './lib/flow.mjs';

const USER = { username: 'dora', password: `dora-pw-${randomToken(9)}` };
const EVIL_NAME = '<script>alert(1)</script>"\'&<img src=x onerror=alert(2)>';

describe('lighttpd: the sign-in pages in Chromium', () => {
  const env = {};
  const t = (fn) => withLogs(() => env.server, fn);

  before(async () => {
    Object.assign(env, await startInstance('lighttpd', {}));
    env.main = env.resources[0].url;
    addUser(env.inst, USER.username, USER.password);
    env.receiver = await startReceiver();
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.receiver?.close();
    if (env.server) {
      await env.server.stop();
      env.inst.remove();
    }
  });

  async function client(extra = {}) {
    return registerClient(env.issuer, {
      client_name: 'Browser test app',
      redirect_uris: [env.receiver.url('/cb')],
      application_type: 'native',
      ...extra,
    });
  }
  function url(c, state = randomToken(8)) {
    const { challenge } = pkce();
    return authorizeUrl(env.issuer, {
      clientId: c.client_id, redirectUri: c.redirect_uris[0], challenge, state, resource: env.main,
    });
  }

  it('a client_name with markup is shown as text: no script runs, no dialog fires', t(async () => {
    const c = await client({ client_name: EVIL_NAME });
    const seen = {};
    const state = randomToken(8);
    const run = await chromiumAuthorize(env.browser, url(c, state), {
      ...USER,
      receiver: env.receiver,
      onPage: async (page) => {
        seen.h1 = await page.locator('h1 .name').textContent();
        seen.scripts = await page.locator('script').count();
        seen.imgs = await page.locator('img').count();
        seen.title = await page.title();
      },
    });
    assert.deepEqual(run.dialogs, [], 'no alert() ran');
    assert.equal(seen.h1, EVIL_NAME, 'the name is the heading\'s text');
    assert.equal(seen.scripts, 0, 'no script element in the consent page');
    assert.equal(seen.imgs, 0, 'no img element either');
    assert.equal(seen.title, `Allow ${EVIL_NAME} access?`);
    assert.ok(run.params.get('code'), `a code: ${run.url}`);
    assert.equal(run.params.get('state'), state);
    assert.equal(run.params.get('iss'), env.issuer);
  }));

  it('Deny sends access_denied with state and iss to the app', t(async () => {
    const c = await client();
    const state = randomToken(8);
    const run = await chromiumAuthorize(env.browser, url(c, state), { ...USER, receiver: env.receiver, decision: 'deny' });
    assert.equal(run.params.get('error'), 'access_denied', run.url);
    assert.equal(run.params.get('state'), state);
    assert.equal(run.params.get('iss'), env.issuer);
    assert.equal(run.params.get('code'), null);
  }));

  it('a wrong password shows the form again with the error; the right one then signs in', t(async () => {
    const c = await client();
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url(c));
      await page.getByLabel('Username').fill(USER.username);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor();
      assert.equal((await page.getByRole('alert').textContent()).trim(), 'Wrong username or password.');
      assert.equal(await page.getByLabel('Username').inputValue(), USER.username, 'the username is kept');
      assert.equal(await page.getByLabel('Password').inputValue(), '', 'the password is not');
      await page.getByLabel('Password').fill(USER.password);
      const hit = env.receiver.next();
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      assert.ok((await hit).params.get('code'));
    } finally {
      await context.close();
    }
  }));

  it('the pages load their stylesheet under their CSP and cannot be framed', t(async () => {
    const c = await client();
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      const violations = [];
      page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
      const css = [];
      page.on('response', (r) => { if (r.url().endsWith('/static/style.css')) css.push(r.status()); });
      await page.goto(url(c));
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      assert.deepEqual(css, [200], 'the stylesheet loaded');
      assert.deepEqual(violations, [], 'no CSP violation on our own page');

      // Framed by another origin (the receiver's): Chromium refuses.
      const framing = await context.newPage();
      const blocked = [];
      framing.on('console', (m) => blocked.push(m.text()));
      const host = env.receiver.page('/framing-host',
        `<!DOCTYPE html><title>framing</title><iframe id="f" src="${url(c).replace(/&/g, '&amp;')}" width="600" height="400"></iframe>`);
      const framed = framing.waitForResponse((r) => r.url().startsWith(`${env.issuer}/authorize`));
      await framing.goto(host);
      const fr = await framed;
      assert.equal(fr.status(), 200, 'the server answered the framed request');
      assert.equal(fr.headers()['x-frame-options'], 'DENY');
      await framing.waitForTimeout(300);
      const frame = framing.frames().find((f) => f !== framing.mainFrame());
      assert.ok(frame, 'the iframe exists');
      assert.equal(frame.url(), 'chrome-error://chromewebdata/', 'Chromium replaced the framed page with its error page');
      const inside = await frame.locator('form').count().catch(() => 0);
      assert.equal(inside, 0, 'the login form did not render in the frame');
      assert.ok(blocked.some((m) => /X-Frame-Options|frame-ancestors/i.test(m)), `Chromium says why: ${blocked.join(' | ')}`);
    } finally {
      await context.close();
    }
  }));
});

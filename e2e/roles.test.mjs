// Browser test, in Debian's Chromium on a 360 px phone: each role lands on a page it may use
// and every link of its navigation answers; the language switch goes back to the page it
// was on; an administrator invites a counsellor, who opens the one-time link in another
// browser, chooses a password and lands on the case list.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  ARTIFACTS,
  REMPART_BIN,
  CHROMIUM_BIN,
  startServer,
  stopServer,
  openContext,
  unlabelledControls,
  assertNoSidewaysScroll,
  assertAccessible,
  withScreenshot,
  login,
  textOf,
} from './lib.mjs';

const PHONE = { width: 360, height: 740 };

describe('Rempart roles, navigation and invitations in Chromium', () => {
  let tmp;
  let server;
  let phone;
  const checked = new Set(); // pages already checked with axe
  let invitation;

  function step(name, fn, pageOf = () => phone?.page) {
    it(name, async () => withScreenshot(pageOf(), name, fn));
  }

  async function logout(page) {
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/login'),
      page.click('header.top form[action="/logout"] button[type=submit]'),
    ]);
  }

  before(async () => {
    assert.ok(fs.existsSync(REMPART_BIN), `rempart binary not found at ${REMPART_BIN}`);
    assert.ok(fs.existsSync(CHROMIUM_BIN), `Chromium not found at ${CHROMIUM_BIN}`);
    await fsp.mkdir(ARTIFACTS, { recursive: true });
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-roles-e2e-'));
    server = await startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'roles-server.log'));
    phone = await openContext(path.join(tmp, 'phone'), PHONE);
  });

  after(async () => {
    await phone?.ctx.close().catch(() => {});
    await stopServer(server?.child);
    server?.log.end();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  step('each role lands on its first page; the brand link and every nav link answer 200 and fit a phone', async () => {
    const { page } = phone;
    const roles = Object.keys(server.accounts);
    assert.deepEqual(roles.sort(), ['admin', 'counsellor', 'digital_specialist', 'lawyer', 'psychologist', 'supervisor'], 'one demo account per role');
    for (const role of roles) {
      await login(page, server.base, server.accounts[role]);
      const landing = new URL(page.url()).pathname;
      assert.equal(landing, role === 'admin' ? '/admin/staff' : '/cases', `${role} lands on its first page`);
      const brand = await page.getAttribute('header.top a.brand', 'href');
      assert.equal(brand, landing, `${role}: the brand link leads to the first page`);
      const links = await page.locator('header.top nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.ok(links.includes('/account'), `${role}: the account page is in the nav`);
      for (const href of [brand, ...links]) {
        const resp = await page.goto(`${server.base}${href}`);
        assert.equal(resp.status(), 200, `${role}: ${href} answers 200`);
        assert.equal(new URL(page.url()).pathname, href, `${role}: ${href} stays on ${href}`);
        await assertNoSidewaysScroll(page, PHONE.width, `${role} ${href}`);
        assert.deepEqual(await unlabelledControls(page), [], `${role} ${href}: every control has a label`);
        if (!checked.has(href)) {
          checked.add(href);
          await assertAccessible(page, `${href} (${role})`);
        }
      }
      await logout(page);
    }
  });

  step('the language switch on /chats comes back to /chats in English, and back to French', async () => {
    const { page } = phone;
    await login(page, server.base, server.accounts.counsellor);
    await page.goto(`${server.base}/chats`);
    assert.equal(await textOf(page.locator('#lang-switch')), 'English');
    await Promise.all([page.waitForURL((u) => u.pathname === '/chats'), page.click('#lang-switch')]);
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'English now');
    assert.equal(await textOf(page.locator('main h1')), 'Chats', 'the queue in English');
    await assertNoSidewaysScroll(page, PHONE.width, '/chats (en)');
    await assertAccessible(page, '/chats (en)');
    await Promise.all([page.waitForURL((u) => u.pathname === '/chats'), page.click('#lang-switch')]);
    assert.equal(await page.getAttribute('html', 'lang'), 'fr', 'French again');
    await logout(page);
  });

  step('an administrator invites a counsellor from /admin/staff and reads the one-time link', async () => {
    const { page } = phone;
    await login(page, server.base, server.accounts.admin);
    assert.equal(new URL(page.url()).pathname, '/admin/staff');
    await page.fill('#display_name', 'Léa Invitée');
    await page.fill('#email', 'lea.invitee@demo.rempart.invalid');
    await page.selectOption('#role', 'counsellor');
    await page.fill('#team', 'paris');
    await Promise.all([page.waitForLoadState('load'), page.click('#invite-submit')]);
    await page.locator('#invite-link').waitFor();
    invitation = await page.inputValue('#invite-link');
    assert.match(invitation, new RegExp(`^${server.base}/invite/[A-Za-z0-9_-]{20,}$`), 'a one-time link on the console\'s public URL');
    assert.match(await textOf(page.locator('#invitations')), /Léa Invitée/, 'the invitation is listed');
    await assertNoSidewaysScroll(page, PHONE.width, '/admin/staff with the link');
    await assertAccessible(page, '/admin/staff (invitation sent)');
    await logout(page);
  });

  step('the invited counsellor opens the link in another browser, sets a password and lands on /cases', async () => {
    const other = await openContext(path.join(tmp, 'invited'), PHONE);
    try {
      await withScreenshot(other.page, 'invited', async () => {
        const { page } = other;
        const resp = await page.goto(invitation);
        assert.equal(resp.status(), 200, 'the invitation page answers');
        assert.match(await textOf(page.locator('main')), /Léa Invitée/);
        assert.deepEqual(await unlabelledControls(page), [], 'every control has a label');
        await assertNoSidewaysScroll(page, PHONE.width, '/invite/<token>');
        await assertAccessible(page, '/invite/<token>');
        await page.fill('#password', 'un mot de passe assez long 2026');
        await page.fill('#password_again', 'un mot de passe assez long 2026');
        await Promise.all([
          page.waitForURL((u) => u.pathname !== new URL(invitation).pathname),
          page.click('#invite-accept button[type=submit]'),
        ]);
        assert.equal(new URL(page.url()).pathname, '/cases', 'a counsellor lands on the case list');
        assert.match(await textOf(page.locator('header.top .who')), /Léa Invitée/, 'logged in as the new account');
        const again = await page.goto(invitation);
        assert.equal(again.status(), 404, 'the link works once');
      });
    } finally {
      await other.ctx.close().catch(() => {});
    }
  });
});

// Browser test of the console's second factors in Debian's Chromium on a 360 px phone.
// Passkeys with Chromium's virtual authenticator (DevTools protocol WebAuthn domain: CTAP2,
// internal transport, resident keys, user verification): a counsellor registers a passkey
// on the account page, logs out, logs in again with the password, and the second-factor
// page offers the passkey, which lets the counsellor in; removed, it is asked no more; a
// browser without WebAuthn's JSON helpers registers and uses one as well. TOTP: the
// enrolment shows the QR code and the secret as text; the code computed from that secret
// confirms it, and a recovery code passes the second factor at the next login. A lawyer (a
// role this demo runs with a required second factor) invited by an administrator sets a
// password and is kept on the account page until a factor is enrolled.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
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
  virtualAuthenticator,
  unlabelledControls,
  assertNoSidewaysScroll,
  assertAccessible,
  withScreenshot,
  login,
  textOf,
} from './lib.mjs';

const PHONE = { width: 360, height: 740 };

/** RFC 6238 TOTP (HMAC-SHA-1, 30 s, 6 digits) of a base32 secret, as an authenticator app. */
function totp(secretBase32, now = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretBase32.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 30_000)));
  const h = crypto.createHmac('sha1', key).update(counter).digest();
  const off = h[19] & 0x0f;
  return String((h.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

describe('Rempart second factors in Chromium', () => {
  let tmp;
  let server;
  let phone;
  let authenticator;
  let failed = false;

  function step(name, fn) {
    it(name, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await withScreenshot(phone?.page, name, fn);
      } catch (e) {
        failed = true;
        throw e;
      }
    });
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
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-2fa-e2e-'));
    server = await startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'second-factor-server.log'), {
      REMPART_SECURITY_SECOND_FACTOR_ROLES: 'lawyer',
    });
    assert.match(server.base, /^http:\/\/localhost:\d+$/, 'passkeys need the console on a host name');
    phone = await openContext(path.join(tmp, 'phone'), PHONE);
    authenticator = await virtualAuthenticator(phone.ctx, phone.page);
  });

  after(async () => {
    await phone?.ctx.close().catch(() => {});
    await stopServer(server?.child);
    server?.log.end();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  step('a counsellor registers a passkey on the account page', async () => {
    const { page } = phone;
    await login(page, server.base, server.accounts.counsellor);
    assert.equal(new URL(page.url()).pathname, '/cases');
    await page.goto(`${server.base}/account`);
    const button = page.locator('#passkey-button');
    await button.waitFor({ state: 'visible' });
    assert.match(await textOf(page.locator('#passkey-list')), /Aucune|aucune/, 'no passkey yet');
    assert.deepEqual(await unlabelledControls(page), [], 'every control has a label');
    await assertNoSidewaysScroll(page, PHONE.width, '/account');
    await assertAccessible(page, '/account');
    await page.fill('#passkey-name', 'Téléphone de test');
    const [options] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/account/passkeys/options'),
      button.click(),
    ]);
    assert.equal(options.status(), 200, 'registration options');
    const [registered] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/account/passkeys' && r.request().method() === 'POST'),
      page.waitForURL((u) => u.pathname === '/account', { waitUntil: 'load' }),
    ]);
    assert.equal(registered.status(), 200, 'the passkey is registered');
    assert.equal(new URL(page.url()).pathname, '/account', 'still on the account page (not sent to the second-factor page)');
    await page.locator('#passkey-list li', { hasText: 'Téléphone de test' }).waitFor();
    const creds = await authenticator.credentials();
    assert.equal(creds.length, 1, 'the authenticator holds one credential');
    assert.equal(creds[0].rpId, 'localhost', 'for this console');
  });

  step('after the password the second-factor page offers the passkey, which lets the counsellor in', async () => {
    const { page } = phone;
    await logout(page);
    await login(page, server.base, server.accounts.counsellor);
    assert.equal(new URL(page.url()).pathname, '/login/totp', 'the second factor is asked');
    const button = page.locator('#passkey-button');
    await button.waitFor({ state: 'visible' });
    assert.equal(await page.locator('#code').count(), 0, 'no TOTP code is asked of an account without TOTP');
    assert.equal(await page.locator('header.top nav').count(), 0, 'no navigation before the second factor (its links would lead back here)');
    assert.equal(await page.locator('header.top form[action="/logout"]').count(), 1, 'logging out is possible');
    assert.deepEqual(await unlabelledControls(page), [], 'every control has a label');
    await assertNoSidewaysScroll(page, PHONE.width, '/login/totp');
    await assertAccessible(page, '/login/totp (passkey)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'second-factor-passkey-360.png') });
    const before = (await authenticator.credentials())[0].signCount;
    const [checked] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/login/passkey'),
      page.waitForURL((u) => u.pathname === '/cases'),
      button.click(),
    ]);
    assert.equal(checked.status(), 200, 'the passkey is accepted');
    assert.equal(await textOf(page.locator('main h1')), 'Dossiers', 'on the case list');
    assert.ok((await authenticator.credentials())[0].signCount > before, 'the authenticator signed once more');
    // the full session works for a form post as well (its new CSRF token is on the page)
    await page.goto(`${server.base}/account`);
    await page.locator('#passkey-list li', { hasText: 'Téléphone de test' }).waitFor();
  });

  step('the audit trail records the passkey: registered, then used as the second factor', async () => {
    const laptop = await openContext(path.join(tmp, 'supervisor'), { width: 1280, height: 900 });
    try {
      const { page } = laptop;
      await login(page, server.base, server.accounts.supervisor);
      await page.goto(`${server.base}/audit`);
      const rows = await page.locator('table.list tbody tr').evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.replace(/\s+/g, ' ').trim())),
      );
      // the trail says it in words
      assert.ok(rows.some((r) => r[3] === "clé d'accès enregistrée"), `a passkey registered is in the audit trail: ${JSON.stringify(rows.slice(0, 6))}`);
      assert.ok(rows.some((r) => r[3] === "second facteur validé (clé d'accès)"), 'the second factor passed with a passkey is in the audit trail');
    } finally {
      await laptop.ctx.close().catch(() => {});
    }
  });

  step('the counsellor removes the passkey: the next login asks no second factor', async () => {
    const { page } = phone;
    await page.goto(`${server.base}/account`);
    const remove = page.getByRole('button', { name: 'Retirer Téléphone de test' });
    await Promise.all([page.waitForURL((u) => u.pathname === '/account', { waitUntil: 'load' }), remove.click()]);
    await page.locator('#passkey-list li', { hasText: 'Aucune' }).waitFor();
    await logout(page);
    await login(page, server.base, server.accounts.counsellor);
    assert.equal(new URL(page.url()).pathname, '/cases', 'no second factor left to ask');
  });

  step('in a browser without WebAuthn\'s JSON helpers (older Safari, Firefox) a passkey registers and signs in too', async () => {
    const { page } = phone;
    await phone.ctx.addInitScript(() => {
      delete PublicKeyCredential.parseCreationOptionsFromJSON;
      delete PublicKeyCredential.parseRequestOptionsFromJSON;
      delete PublicKeyCredential.prototype.toJSON;
    });
    await page.goto(`${server.base}/account`);
    assert.equal(await page.evaluate(() => typeof PublicKeyCredential.parseCreationOptionsFromJSON), 'undefined', 'helpers gone');
    await page.fill('#passkey-name', 'Clé ancienne');
    const [registered] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/account/passkeys' && r.request().method() === 'POST'),
      page.click('#passkey-button'),
    ]);
    assert.equal(registered.status(), 200, 'registered');
    await page.locator('#passkey-list li', { hasText: 'Clé ancienne' }).waitFor();
    await logout(page);
    await login(page, server.base, server.accounts.counsellor);
    assert.equal(new URL(page.url()).pathname, '/login/totp');
    const [checked] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/login/passkey'),
      page.waitForURL((u) => u.pathname === '/cases'),
      page.click('#passkey-button'),
    ]);
    assert.equal(checked.status(), 200, 'the passkey is accepted');
  });

  step('TOTP enrolment shows the QR code and the secret; the code confirms it; a recovery code passes the next login', async () => {
    const { page } = phone;
    await logout(page);
    await login(page, server.base, server.accounts.psychologist);
    await page.goto(`${server.base}/account`);
    await Promise.all([page.waitForLoadState('load'), page.click('#totp-begin')]);
    const qr = page.locator('#totp-qr svg');
    await qr.waitFor();
    const box = await qr.boundingBox();
    assert.ok(box && box.width >= 120 && box.width <= PHONE.width, `the QR code is drawn at a scannable size (${box?.width} px)`);
    const secret = await textOf(page.locator('#totp-secret'));
    assert.match(secret, /^[A-Z2-7]{16,}$/, 'the secret as base32 text');
    assert.deepEqual(await unlabelledControls(page), [], 'every control has a label');
    await assertNoSidewaysScroll(page, PHONE.width, '/account (TOTP enrolment)');
    await assertAccessible(page, '/account (TOTP enrolment)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'totp-enrolment-360.png'), fullPage: true });
    await page.fill('#code', totp(secret));
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/account/totp"] button[type=submit]')]);
    const codes = await page.locator('ul.codes code').allTextContents();
    assert.equal(codes.length, 10, 'ten recovery codes, shown once');
    await assertAccessible(page, '/account (recovery codes)');
    await logout(page);
    await login(page, server.base, server.accounts.psychologist);
    assert.equal(new URL(page.url()).pathname, '/login/totp');
    await assertAccessible(page, '/login/totp (code)');
    await page.fill('#code', codes[0]);
    await Promise.all([page.waitForURL((u) => u.pathname === '/cases'), page.click('form[action="/login/totp"] button[type=submit]')]);
  });

  step('an invited lawyer, who must have a second factor, enrols one before reaching any case', async () => {
    const { page } = phone;
    await logout(page);
    await login(page, server.base, server.accounts.admin);
    await page.fill('#display_name', 'Maître Invitée');
    await page.fill('#email', 'maitre.invitee@demo.rempart.invalid');
    await page.selectOption('#role', 'lawyer');
    await page.fill('#team', 'paris');
    await Promise.all([page.waitForLoadState('load'), page.click('#invite-submit')]);
    await page.locator('#invite-link').waitFor();
    const invitation = await page.inputValue('#invite-link');
    await logout(page);
    const other = await openContext(path.join(tmp, 'lawyer'), PHONE);
    try {
      await withScreenshot(other.page, 'invited lawyer', async () => {
        const p = other.page;
        assert.equal((await p.goto(invitation)).status(), 200, 'the invitation page answers');
        await p.fill('#password', 'un mot de passe de juriste 2026');
        await p.fill('#password_again', 'un mot de passe de juriste 2026');
        await Promise.all([
          p.waitForURL((u) => u.pathname === '/account'),
          p.click('#invite-accept button[type=submit]'),
        ]);
        assert.equal(await p.locator('header.top nav').count(), 0, 'no navigation before a second factor is enrolled');
        await p.goto(`${server.base}/cases`);
        assert.equal(new URL(p.url()).pathname, '/account', 'the case list leads back to the enrolment');
        const api = await p.evaluate(async () => (await fetch('/api/v1/cases')).status);
        assert.equal(api, 401, 'the API refuses the session too');
        await assertNoSidewaysScroll(p, PHONE.width, '/account (enrolment required)');
        await assertAccessible(p, '/account (enrolment required)');
        await Promise.all([p.waitForLoadState('load'), p.click('#totp-begin')]);
        const secret = await textOf(p.locator('#totp-secret'));
        await p.fill('#code', totp(secret));
        await Promise.all([p.waitForLoadState('load'), p.click('form[action="/account/totp"] button[type=submit]')]);
        assert.equal((await p.locator('ul.codes code').allTextContents()).length, 10, 'recovery codes shown once');
        await p.locator('header.top nav').waitFor();
        const cases = await p.goto(`${server.base}/cases`);
        assert.equal(cases.status(), 200, 'the case list now answers');
        assert.equal(new URL(p.url()).pathname, '/cases', 'and stays on /cases');
        assert.match(await textOf(p.locator('header.top .who')), /Maître Invitée/, 'logged in as the new account');
      });
    } finally {
      await other.ctx.close().catch(() => {});
    }
  });
});

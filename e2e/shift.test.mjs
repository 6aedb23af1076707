// Browser test of a counsellor's shift, in Debian's Chromium: with the alerts turned on, a
// counsellor reading the case list sees the number waiting in the menu change and the tab's
// title say it the moment a young person writes, without reloading; the queue page updates
// itself in words; a supervisor sees the conversations in progress and watches one. Both
// screens are checked with axe-core at 360 px and 1280 px.
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
  assertAccessible,
  assertNoSidewaysScroll,
  withScreenshot,
  login,
  textOf,
} from './lib.mjs';

const ALWAYS_OPEN = `timezone = "Europe/Paris"\nholiday_hours = "same"\n[hours]\nevery_day = "00:00-24:00"\n`;

describe('A counsellor\'s shift in Chromium', () => {
  let tmp;
  let server;
  let counsellor;
  let supervisor;
  let visitorPage;
  let failed = false;

  function step(name, fn, pageOf = () => counsellor?.page) {
    it(name, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await withScreenshot(pageOf(), name, () => fn(t));
      } catch (e) {
        failed = true;
        throw e;
      }
    });
  }

  /** A young person writes, through the widget's API from the demo page (same origin). */
  async function youngPersonWrites(text) {
    return visitorPage.evaluate(async (body) => {
      const s = await fetch('/widget/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ caller_type: 'victim', age_band: '15_17' }) });
      if (s.status !== 201) return s.status;
      const { token } = await s.json();
      const m = await fetch('/widget/v1/messages', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ client_id: crypto.randomUUID(), body }) });
      return m.status;
    }, text);
  }

  before(async () => {
    assert.ok(fs.existsSync(REMPART_BIN), `rempart binary not found at ${REMPART_BIN}`);
    assert.ok(fs.existsSync(CHROMIUM_BIN), `Chromium not found at ${CHROMIUM_BIN}`);
    await fsp.mkdir(ARTIFACTS, { recursive: true });
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-shift-e2e-'));
    const hours = path.join(tmp, 'hours.toml');
    await fsp.writeFile(hours, ALWAYS_OPEN);
    server = await startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'shift-server.log'), {
      REMPART_HELPLINE_OPENING_HOURS_FILE: hours,
      REMPART_HELPLINE_WAIT_ALERT_MINUTES: '1',
    });
    counsellor = await openContext(path.join(tmp, 'counsellor'), { width: 360, height: 740 });
    supervisor = await openContext(path.join(tmp, 'supervisor'), { width: 1280, height: 800 });
    const v = await openContext(path.join(tmp, 'visitor'), { width: 412, height: 800 });
    visitorPage = v.page;
    await visitorPage.goto(`${server.base}/demo`);
  });

  after(async () => {
    for (const c of [counsellor, supervisor]) await c?.ctx.close().catch(() => {});
    await visitorPage?.context().close().catch(() => {});
    await stopServer(server?.child);
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  step('a counsellor turns the alerts on; the menu and the tab say it when someone writes', async () => {
    const page = counsellor.page;
    await login(page, server.base, server.accounts.counsellor);
    await page.goto(`${server.base}/chats`);
    await page.check('#alerts');
    await Promise.all([page.waitForURL(/\/chats$/), page.click('form.availability button[type=submit]')]);
    assert.equal(await page.locator('#alerts').isChecked(), true, 'the choice is kept');
    await page.goto(`${server.base}/cases`);
    // the count as the page first said it, once the live view has looked itself
    await page.waitForFunction(() => window.performance.getEntriesByType('resource').some((e) => e.name.endsWith('/chats/live')));
    const before = Number(await textOf(page.locator('#nav-waiting .n')));
    const title = await page.title();
    assert.equal(await youngPersonWrites('il menace de publier mes photos demain si je paie pas'), 201);
    await page.waitForFunction((n) => document.querySelector('#nav-waiting .n')?.textContent === String(n + 1), before);
    assert.equal(await page.locator('#nav-waiting').isVisible(), true);
    await page.waitForFunction((t) => document.title !== t, title);
    assert.match(await page.title(), /attend/, 'the tab says someone is waiting');
    await assertAccessible(page, 'case list with the live menu (360 px)');
    await assertNoSidewaysScroll(page, 360, 'case list (360 px)');
  });

  step('the queue page updates itself, in words', async () => {
    const page = counsellor.page;
    await page.goto(`${server.base}/chats`);
    const rows = page.locator('#queue tbody tr[data-conversation]');
    const n = await rows.count();
    assert.ok(n >= 1, 'someone waits');
    assert.equal(await youngPersonWrites("ma fille dit qu'elle veut mourir"), 201);
    await page.waitForFunction((k) => document.querySelectorAll('#queue tbody tr[data-conversation]').length === k + 1, n);
    const text = await textOf(page.locator('#queue tbody'));
    assert.doesNotMatch(text, /imminent_publication|suicidal_thoughts|15_17|\bvictim\b/, 'codes never show');
    assert.match(text, /victime/, 'the caller in words');
    await assertAccessible(page, '/chats, updated live (360 px)');
    await assertNoSidewaysScroll(page, 360, '/chats (360 px)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'shift-queue-360.png'), fullPage: true });
  });

  step('a supervisor sees the conversations in progress and watches one, read only', async () => {
    const c = counsellor.page;
    await Promise.all([c.waitForURL(/\/chats\/[0-9a-f-]{36}$/), c.click('#take-next')]);
    const page = supervisor.page;
    await login(page, server.base, server.accounts.supervisor);
    await page.goto(`${server.base}/chats`);
    const watch = page.locator('#active-chats a.watch').first();
    await watch.waitFor();
    await assertAccessible(page, '/chats, supervisor (1280 px)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'shift-supervisor-1280.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/chats\/[0-9a-f-]{36}$/), watch.click()]);
    await page.locator('#transcript li').first().waitFor();
    assert.equal(await page.locator('#reply-form').count(), 0, 'watching is reading');
    await assertAccessible(page, 'a conversation watched by a supervisor (1280 px)');
  }, () => supervisor?.page);

  step('ending a conversation asks first, then says what happened', async () => {
    const page = counsellor.page;
    await page.fill('#summary', 'Menace de publication, conseils donnés.');
    const asked = [];
    page.once('dialog', (d) => { asked.push(d.message()); d.dismiss(); });
    await page.click('#end-submit');
    await page.waitForFunction(() => true);
    assert.equal(asked.length, 1, 'a confirmation was asked');
    assert.match(asked[0], /Clore cette conversation/);
    assert.match(page.url(), /\/chats\/[0-9a-f-]{36}$/, 'refused: still on the conversation');
    page.once('dialog', (d) => d.accept());
    await Promise.all([page.waitForURL(/\/chats\?ended=1/), page.click('#end-submit')]);
    assert.match(await textOf(page.locator('#chats-notice')), /synthèse enregistrée/);
  });
});


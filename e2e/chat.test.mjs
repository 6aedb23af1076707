// Browser test of the live chat, in Debian's Chromium, the way a helpline really embeds it:
// the helpline's own site is another origin (a page served by this test on 127.0.0.1) with
// the one loader tag of Rempart (reached as http://localhost). A young person on a small
// phone opens the widget and writes; a counsellor takes the conversation in the console and
// replies; the young person sees the reply live, reloads and finds the whole conversation
// once; the counsellor hands the conversation over and lands on the queue; the young person
// uses quick exit, after which the frame's storage is empty. On the phone the frame covers
// the screen: "minimise" (or Escape) goes back to the site, the conversation kept. A site that is not among the allowed
// origins cannot frame the widget; the demo page (same origin) still embeds it, and under a
// flood the widget proves its work by itself.
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
  helplineSite,
  openContext,
  unlabelledControls,
  assertNoSidewaysScroll,
  assertAccessible,
  withScreenshot,
  login,
  textOf,
} from './lib.mjs';

// Open around the clock, so the test does not depend on the hour it runs at.
const ALWAYS_OPEN = `timezone = "Europe/Paris"\nholiday_hours = "same"\n[hours]\nevery_day = "00:00-24:00"\n`;

describe('Rempart live chat in Chromium, embedded from the helpline\'s own site', () => {
  let tmp;
  let server;
  let site; // the helpline's site, allowed to embed the widget
  let stranger; // another site, not allowed
  let visitor;
  let counsellor;
  let chatUrl;
  let storageMode; // 'frame' (its own storage) or 'site' (kept by the loader)
  let failed = false;

  /** A step: skipped once an earlier one failed; a screenshot of `pageOf()` when it fails. */
  function step(name, fn, pageOf = () => visitor?.page) {
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

  before(async () => {
    assert.ok(fs.existsSync(REMPART_BIN), `rempart binary not found at ${REMPART_BIN}`);
    assert.ok(fs.existsSync(CHROMIUM_BIN), `Chromium not found at ${CHROMIUM_BIN}`);
    await fsp.mkdir(ARTIFACTS, { recursive: true });
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-chat-e2e-'));
    const hours = path.join(tmp, 'hours.toml');
    await fsp.writeFile(hours, ALWAYS_OPEN);
    const loader = () => `${server.base}/assets/widget.js`;
    site = await helplineSite(loader);
    stranger = await helplineSite(loader);
    server = await startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'chat-server.log'), {
      REMPART_HELPLINE_OPENING_HOURS_FILE: hours,
      // a neutral site, answered by the test itself (no network here)
      REMPART_HELPLINE_QUICK_EXIT_URL: 'https://neutral.example/',
      REMPART_WIDGET_ALLOWED_ORIGINS: site.origin,
      // a flood from the second new conversation in a minute: the widget must prove its work
      REMPART_WIDGET_STRESS_SESSIONS_PER_MINUTE: '1',
      REMPART_WIDGET_POW_BITS: '14',
    });
    assert.match(server.base, /^http:\/\/localhost:\d+$/, 'the demo is reached by its host name');
    assert.notEqual(new URL(site.origin).origin, server.base, 'the helpline site is another origin');
    visitor = await openContext(path.join(tmp, 'visitor'), { width: 360, height: 740 });
    await visitor.ctx.route('https://neutral.example/**', (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: '<!doctype html><title>Météo</title><h1>Météo</h1>' }));
    counsellor = await openContext(path.join(tmp, 'counsellor'), { width: 1280, height: 900 });
  });

  after(async () => {
    await visitor?.ctx.close().catch(() => {});
    await counsellor?.ctx.close().catch(() => {});
    await stopServer(server?.child);
    server?.log.end();
    await site?.close();
    await stranger?.close();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  const frame = () => visitor.page.frameLocator('#rempart-chat');
  const innerFrame = async () => (await visitor.page.waitForSelector('#rempart-chat', { state: 'attached' })).contentFrame();

  step('the helpline site on another origin shows the button; the frame opens on a phone and the young person writes', async (t) => {
    const page = visitor.page;
    const loaded = page.waitForResponse((r) => r.url() === `${server.base}/assets/widget.js`);
    await page.goto(site.url);
    const loader = await loaded;
    assert.equal(loader.status(), 200, 'the loader is served');
    assert.equal(loader.headers()['cross-origin-resource-policy'], 'cross-origin', 'the loader may be read by another origin');
    await page.locator('#rempart-open').waitFor();
    await assertAccessible(page, 'helpline site with the widget button');
    await page.click('#rempart-open');
    const f = frame();
    await f.locator('#prechat').waitFor();
    const inner = await innerFrame();
    assert.equal(new URL(inner.url()).origin, server.base, 'the frame is served by Rempart');
    assert.equal(new URL(page.url()).origin, site.origin, 'on the helpline site');
    await assertAccessible(inner, 'widget frame: pre-chat');
    await f.locator('input[name=caller_type][value=victim]').check();
    await f.locator('#age_band').selectOption('15_17');
    await f.locator('#start').click();
    await f.locator('#conversation').waitFor();
    assert.match(await textOf(f.locator('#status')), /file|queue/i, 'the queue position is shown');
    await f.locator('#body').fill('Bonjour, il menace de publier mes photos ce soir');
    await f.locator('#send').click();
    await f.locator('#messages li.me .meta', { hasText: 'envoyé' }).waitFor();
    assert.deepEqual(await unlabelledControls(inner), [], 'every control of the widget has a label');
    // Where the conversation is kept: the frame's own storage, or — when the browser blocks
    // third-party storage, as this Chromium does — the loader keeps the token and the device
    // key for it in the site's session storage, never a message's text.
    storageMode = await inner.evaluate(() => { try { void localStorage.length; return 'frame'; } catch (_) { return 'site'; } });
    t.diagnostic(`third-party storage in the frame: ${storageMode === 'frame' ? 'allowed' : 'refused; the loader keeps the token on the site'}`);
    const keptStore = storageMode === 'frame'
      ? await inner.evaluate(() => ({ device: localStorage.getItem('rempart-device'), chat: localStorage.getItem('rempart-chat') }))
      : await page.evaluate(() => JSON.parse(sessionStorage.getItem('rempart-chat-kept') || '{}'));
    assert.match(keptStore.device || '', /^[0-9a-f]{64}$/, 'the widget keeps a random device key (quick exit forgets it)');
    assert.match(JSON.parse(keptStore.chat || '{}').token || '', /\S{20,}/, 'the conversation\'s token is kept');
    if (storageMode === 'site') {
      assert.doesNotMatch(JSON.stringify(keptStore), /menace|photos/, 'no message text is kept on the site');
      assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in the site\'s local storage');
    }
    await assertNoSidewaysScroll(inner, 360, 'widget frame');
    await assertNoSidewaysScroll(page, 360, 'helpline site with the frame open');
    await assertAccessible(inner, 'widget frame: conversation');
    await page.screenshot({ path: path.join(ARTIFACTS, 'widget-360.png') });
  });

  step('the frame covers the phone; "minimise" goes back to the site and the button reopens the same conversation', async () => {
    const page = visitor.page;
    const box = await page.locator('#rempart-chat').boundingBox();
    assert.ok(box.width >= 359 && box.height >= 739, `the frame fills the phone's screen (${box.width}×${box.height})`);
    await frame().locator('#minimise').click();
    await page.locator('#rempart-chat').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'rempart-open', 'focus is back on the button');
    assert.equal(await page.getAttribute('#rempart-open', 'aria-expanded'), 'false');
    await page.click('#rempart-open');
    await page.locator('#rempart-chat').waitFor({ state: 'visible' });
    assert.equal(await page.getAttribute('#rempart-open', 'aria-expanded'), 'true');
    await frame().locator('#messages li.me', { hasText: 'il menace de publier' }).waitFor();
    // the keyboard too: Escape minimises (Shift+Escape is quick exit)
    await frame().locator('#body').press('Escape');
    await page.locator('#rempart-chat').waitFor({ state: 'hidden' });
    await page.click('#rempart-open');
    await page.locator('#rempart-chat').waitFor({ state: 'visible' });
  });

  step('a counsellor takes it in the console and replies; the young person sees the reply live', async () => {
    const page = counsellor.page;
    await login(page, server.base, server.accounts.counsellor);
    await page.goto(`${server.base}/chats`);
    assert.equal(await textOf(page.locator('#queue-count')), '1');
    assert.match(await textOf(page.locator('#queue tbody')), /publication imminente|chantage/i, 'the risk is shown in the queue');
    await assertAccessible(page, '/chats (queue)');
    await Promise.all([page.waitForURL(/\/chats\/[0-9a-f-]{36}$/), page.click('#take-next')]);
    chatUrl = page.url();
    await page.locator('#transcript li', { hasText: 'il menace de publier' }).waitFor();
    await page.fill('#reply', 'Je suis là. Tu as bien fait d’écrire. Il ne faut pas payer.');
    await page.click('#reply-send');
    await page.locator('#transcript li.from-counsellor').waitFor();
    const f = frame();
    await f.locator('#messages li.them', { hasText: 'Il ne faut pas payer' }).waitFor();
    assert.match(await textOf(f.locator('#status')), /écoutant/i, 'the young person is told a counsellor is there');
    await assertAccessible(page, 'conversation page (console)');
  }, () => counsellor?.page);

  step('the young person writes again and the console receives it live', async () => {
    const f = frame();
    await f.locator('#body').fill('Merci. Il a mon adresse Snapchat.');
    await f.locator('#send').click();
    await counsellor.page.locator('#transcript li', { hasText: 'mon adresse Snapchat' }).waitFor();
    await counsellor.page.screenshot({ path: path.join(ARTIFACTS, 'console-chat.png'), fullPage: true });
  }, () => counsellor?.page);

  step('the console\'s queue and conversation fit a 360 px phone', async () => {
    const page = counsellor.page;
    await page.setViewportSize({ width: 360, height: 740 });
    try {
      await page.goto(chatUrl);
      await page.locator('#transcript li', { hasText: 'mon adresse Snapchat' }).waitFor();
      await assertNoSidewaysScroll(page, 360, 'conversation page');
      await page.goto(`${server.base}/chats`);
      await assertNoSidewaysScroll(page, 360, '/chats');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  }, () => counsellor?.page);

  step('after a reload the young person finds the whole conversation, once', async () => {
    const page = visitor.page;
    await page.reload();
    await page.click('#rempart-open');
    const f = frame();
    await f.locator('#messages li', { hasText: 'mon adresse Snapchat' }).waitFor();
    const texts = await f.locator('#messages li .body').allTextContents();
    assert.deepEqual(texts, [
      'Bonjour, il menace de publier mes photos ce soir',
      'Je suis là. Tu as bien fait d’écrire. Il ne faut pas payer.',
      'Merci. Il a mon adresse Snapchat.',
    ]);
  });

  step('the counsellor hands the conversation over and lands on the queue with a notice', async () => {
    const page = counsellor.page;
    await page.goto(chatUrl);
    await page.selectOption('#to', 'role:psychologist');
    await page.fill('#note', 'Chantage, publication annoncée ce soir.');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().isNavigationRequest() && new URL(r.url()).pathname === '/chats'),
      page.click('#transfer-submit'),
    ]);
    await page.waitForURL((u) => u.pathname === '/chats');
    assert.equal(resp.status(), 200, 'the queue answers 200');
    assert.match(await textOf(page.locator('#chats-notice')), /transférée/, 'a notice says the conversation left');
    assert.equal(await page.locator(`a[href="${new URL(chatUrl).pathname}"]`).count(), 0, 'no longer among my conversations');
  }, () => counsellor?.page);

  step('quick exit leaves for a neutral site and the frame\'s storage is wiped', async () => {
    const page = visitor.page;
    await Promise.all([
      page.waitForURL('https://neutral.example/'),
      frame().locator('#quick-exit').click(),
    ]);
    assert.equal(await textOf(page.locator('h1')), 'Météo', 'the young person is on the neutral site');
    // Back on the helpline site: the frame (its storage is the one kept under this site)
    // starts afresh, with nothing left of the conversation or the device key.
    await page.goto(site.url);
    assert.deepEqual(await page.evaluate(() => [sessionStorage.length, localStorage.length]), [0, 0], 'the site keeps nothing of the chat');
    await page.click('#rempart-open');
    await frame().locator('#prechat').waitFor();
    const inner = await innerFrame();
    if (storageMode === 'frame') {
      const stored = await inner.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
      assert.deepEqual(stored, { local: 0, session: 0 }, 'the frame keeps no chat state');
    }
    assert.equal(await frame().locator('#messages li').count(), 0, 'no message is shown');
    assert.ok(await frame().locator('#conversation').isHidden(), 'no conversation is resumed');
  });

  step('a site that is not an allowed origin cannot frame the widget', async () => {
    const page = await visitor.ctx.newPage();
    try {
      const widgetRequests = [];
      page.on('request', (r) => { if (r.url().startsWith(server.base)) widgetRequests.push(new URL(r.url()).pathname); });
      await page.goto(stranger.url);
      await page.locator('#rempart-open').waitFor();
      // The browser refuses the frame's document (CSP frame-ancestors) and shows its own
      // error page in its place.
      const [refused, errorPage] = await Promise.all([
        page.waitForEvent('requestfailed', (r) => new URL(r.url()).pathname === '/widget/frame'),
        page.waitForEvent('framenavigated', (f) => f !== page.mainFrame() && f.url().startsWith('chrome-error:')),
        page.click('#rempart-open'),
      ]);
      assert.equal(refused.failure()?.errorText, 'net::ERR_BLOCKED_BY_RESPONSE', 'the frame is blocked by its response headers');
      assert.equal(await page.frameLocator('#rempart-chat').locator('#chat').count(), 0, 'no widget inside');
      assert.equal(errorPage.url(), 'chrome-error://chromewebdata/');
      assert.deepEqual(widgetRequests, ['/assets/widget.js', '/widget/frame'], 'the frame ran nothing (no script, no API call)');
      const csp = (await page.request.get(`${server.base}/widget/frame`)).headers()['content-security-policy'] || '';
      assert.match(csp, /frame-ancestors 'self' http:\/\/127\.0\.0\.1:\d+;/, `the frame names who may embed it: ${csp}`);
      assert.ok(csp.includes(site.origin) && !csp.includes(stranger.origin), `only the helpline site is allowed: ${csp}`);
    } finally {
      await page.close();
    }
  });

  step('under a flood of new conversations the widget on the demo page proves its work by itself', async () => {
    const page = await visitor.ctx.newPage();
    try {
      const starts = [];
      page.on('response', (r) => { if (r.url().endsWith('/widget/v1/sessions')) starts.push(r.status()); });
      await page.goto(`${server.base}/demo`);
      // someone else just started one: this node now counts a flood
      const other = await page.evaluate(async () => (await fetch('/widget/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
      assert.ok(other === 201 || other === 428, `another start: ${other}`);
      await page.click('#rempart-open');
      const f = page.frameLocator('#rempart-chat');
      await f.locator('#prechat').waitFor();
      await f.locator('#start').click();
      await f.locator('#conversation').waitFor();
      assert.match(await textOf(f.locator('#status')), /file|queue/i, 'the conversation is open and waiting');
      assert.deepEqual(starts.slice(-2), [428, 201], 'asked for a proof of work, then accepted');
    } finally {
      await page.close();
    }
  });
});

// Browser test of the widget for a child on a phone, in Debian's Chromium, embedded from the
// helpline's own site (another origin). At 320, 360 and 412 px wide, and at 360 px with the
// text at 200 % (the frame's root font size set to 200 %, what Chromium's text zoom does to
// a page sized in rem), eight messages are sent with Enter: the message box and the send
// button stay inside the screen, the status line stays under the header, nothing scrolls
// sideways. Shift+Enter makes a new line, in the widget and in the console. "Minimise" and
// Escape go back to the site with the conversation kept, the focus on the launcher and
// `aria-expanded="false"`; the launcher reopens the same conversation. Once the counsellor
// ends it, "start a new conversation" opens a new one at once; quick exit tells the server,
// and the counsellor sees the conversation left, out of the queue. Every state of the widget
// (launcher, open and empty, talking, minimised, ended, message left while closed) is checked
// with axe-core and kept as a screenshot at 360 and 1280 px in e2e/artifacts; every control
// is at least 44 × 44 px, the focus ring is at least 3:1 against the page, and the frame has
// a favicon.
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
  serveNeutralSite,
  assertAccessible,
  withScreenshot,
  login,
  textOf,
} from './lib.mjs';

const ALWAYS_OPEN = `timezone = "Europe/Paris"\nholiday_hours = "same"\n[hours]\nevery_day = "00:00-24:00"\n`;
const ALWAYS_CLOSED = `timezone = "Europe/Paris"\nholiday_hours = "same"\n[hours]\nevery_day = "closed"\n`;
const NEUTRAL = 'https://neutral.example/';

describe('Rempart widget on a phone, in Chromium', () => {
  let tmp;
  let server;
  let closedServer;
  let site;
  let closedSite;
  let counsellor;
  const contexts = [];
  let failed = false;
  let current = null; // the page a failing step is shown by

  function step(name, fn) {
    it(name, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await withScreenshot(current, name, () => fn(t));
      } catch (e) {
        failed = true;
        throw e;
      }
    });
  }

  async function visitorAt(name, viewport) {
    const v = await openContext(path.join(tmp, name), viewport);
    await serveNeutralSite(v.ctx, NEUTRAL);
    contexts.push(v);
    current = v.page;
    return v;
  }

  before(async () => {
    assert.ok(fs.existsSync(REMPART_BIN), `rempart binary not found at ${REMPART_BIN}`);
    assert.ok(fs.existsSync(CHROMIUM_BIN), `Chromium not found at ${CHROMIUM_BIN}`);
    await fsp.mkdir(ARTIFACTS, { recursive: true });
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-phone-e2e-'));
    await fsp.writeFile(path.join(tmp, 'open.toml'), ALWAYS_OPEN);
    await fsp.writeFile(path.join(tmp, 'closed.toml'), ALWAYS_CLOSED);
    site = await helplineSite(() => `${server.base}/assets/widget.js`);
    closedSite = await helplineSite(() => `${closedServer.base}/assets/widget.js`);
    const common = {
      REMPART_HELPLINE_QUICK_EXIT_URL: NEUTRAL,
      // this test opens many conversations from one address within a minute
      REMPART_WIDGET_SESSIONS_PER_MINUTE: '60',
    };
    [server, closedServer] = await Promise.all([
      startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'phone-server.log'), {
        ...common,
        REMPART_HELPLINE_OPENING_HOURS_FILE: path.join(tmp, 'open.toml'),
        REMPART_WIDGET_ALLOWED_ORIGINS: site.origin,
      }),
      startServer(path.join(tmp, 'closed-data'), path.join(ARTIFACTS, 'phone-closed-server.log'), {
        ...common,
        REMPART_HELPLINE_OPENING_HOURS_FILE: path.join(tmp, 'closed.toml'),
        REMPART_WIDGET_ALLOWED_ORIGINS: closedSite.origin,
      }),
    ]);
    counsellor = await openContext(path.join(tmp, 'counsellor'), { width: 1280, height: 900 });
    await login(counsellor.page, server.base, server.accounts.counsellor);
  });

  after(async () => {
    for (const v of contexts) await v.ctx.close().catch(() => {});
    await counsellor?.ctx.close().catch(() => {});
    await stopServer(server?.child);
    await stopServer(closedServer?.child);
    server?.log.end();
    closedServer?.log.end();
    await site?.close();
    await closedSite?.close();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  const frameOf = (page) => page.frameLocator('#rempart-chat');
  const innerOf = async (page) => (await page.waitForSelector('#rempart-chat', { state: 'attached' })).contentFrame();
  const shot = (page, width, state) => page.screenshot({ path: path.join(ARTIFACTS, `widget-phone-${width}-${state}.png`) });

  /** Where the frame's composer, status and header are, and whether anything runs sideways. */
  const layout = (inner) => inner.evaluate(() => {
    const box = (id) => {
      const el = document.getElementById(id);
      if (!el || el.getClientRects().length === 0) return null;
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width, height: r.height };
    };
    const d = document.documentElement;
    const sideways = [...document.querySelectorAll('body *')]
      .filter((el) => el.getClientRects().length > 0 && el.getBoundingClientRect().right > d.clientWidth + 1)
      .map((el) => el.id || el.className || el.tagName)
      .slice(0, 5);
    return {
      vw: window.innerWidth, vh: window.innerHeight,
      scrollWidth: d.scrollWidth, clientWidth: d.clientWidth,
      bodyScrollWidth: document.body.scrollWidth,
      pageScrolled: document.scrollingElement.scrollTop + document.getElementById('chat').scrollTop,
      head: document.querySelector('.chat-head').getBoundingClientRect().bottom,
      status: box('status'), body: box('body'), send: box('send'), messages: box('messages'),
      newConversation: box('new-conversation'), sideways,
    };
  });
  const inside = (b, l) => b && b.top >= -0.5 && b.left >= -0.5 && b.bottom <= l.vh + 0.5 && b.right <= l.vw + 0.5;

  /** Every visible control of the frame is at least 44 × 44 px (a radio's label is its target). */
  const smallTargets = (inner) => inner.evaluate(() => {
    const els = [...document.querySelectorAll('button, select, textarea, summary, a[href], input:not([type=radio]):not([type=hidden])')];
    for (const r of document.querySelectorAll('input[type=radio]')) els.push(r.closest('label'));
    return els
      .filter((el) => el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
      .map((el) => ({ el, r: el.getBoundingClientRect() }))
      .filter(({ r }) => r.width < 44 || r.height < 44)
      .map(({ el, r }) => `${el.tagName.toLowerCase()}#${el.id} ${Math.round(r.width)}×${Math.round(r.height)}`);
  });

  /** Opens the frame from the site and starts a conversation. */
  async function openAndStart(page, siteUrl, { zoom = false } = {}) {
    await page.goto(siteUrl);
    await page.locator('#rempart-open').waitFor();
    await page.click('#rempart-open');
    const f = frameOf(page);
    await f.locator('#prechat').waitFor();
    const inner = await innerOf(page);
    if (zoom) await inner.evaluate(() => { document.documentElement.style.fontSize = '200%'; });
    await f.locator('#start').click();
    await f.locator('#conversation').waitFor();
    return { f, inner };
  }

  /** Types and sends with the Enter key; resolves once the server committed it. */
  async function sendWithEnter(f, text) {
    const before = await f.locator('#messages li.me .meta', { hasText: /^envoyé$/ }).count();
    await f.locator('#body').fill(text);
    await f.locator('#body').press('Enter');
    await f.locator('#messages li.me .meta', { hasText: /^envoyé$/ }).nth(before).waitFor();
  }

  async function quickExit(page) {
    await Promise.all([page.waitForURL(NEUTRAL), frameOf(page).locator('#quick-exit').click()]);
  }

  async function queueCount() {
    await counsellor.page.goto(`${server.base}/chats`);
    return Number(await textOf(counsellor.page.locator('#queue-count')));
  }

  for (const [width, height, zoom] of [[320, 568, false], [360, 740, false], [412, 915, false], [360, 740, true]]) {
    step(`at ${width} × ${height}${zoom ? ' with the text at 200 %' : ''}, after eight messages the message box and the send button are on the screen and nothing runs sideways`, async (t) => {
      const { page } = await visitorAt(`layout-${width}-${zoom}`, { width, height });
      const { f, inner } = await openAndStart(page, site.url, { zoom });
      const frameBox = await page.locator('#rempart-chat').boundingBox();
      assert.ok(frameBox.x >= 0 && frameBox.y >= 0 && frameBox.x + frameBox.width <= width + 0.5 && frameBox.y + frameBox.height <= height + 0.5,
        `the frame is within the phone's screen: ${JSON.stringify(frameBox)}`);
      for (let i = 1; i <= 8; i++) {
        await sendWithEnter(f, `Message ${i} : il m'a écrit encore, je ne sais pas quoi faire, est-ce que c'est grave ?`);
      }
      assert.equal(await f.locator('#messages li.me').count(), 8);
      const l = await layout(inner);
      t.diagnostic(`frame ${l.vw}×${l.vh}: header ends at ${Math.round(l.head)}, status ${Math.round(l.status.top)}–${Math.round(l.status.bottom)}, message box ${Math.round(l.body.top)}–${Math.round(l.body.bottom)}, send ${Math.round(l.send.top)}–${Math.round(l.send.bottom)}`);
      assert.ok(inside(l.body, l), `the message box is on the screen: ${JSON.stringify(l.body)} in ${l.vw}×${l.vh}`);
      assert.ok(inside(l.send, l), `the send button is on the screen: ${JSON.stringify(l.send)} in ${l.vw}×${l.vh}`);
      assert.ok(inside(l.status, l) && l.status.top >= l.head - 0.5, `the status line stays under the header: ${JSON.stringify(l.status)}, header ${l.head}`);
      assert.equal(l.pageScrolled, 0, 'only the transcript scrolls, never the frame');
      assert.ok(l.scrollWidth <= l.clientWidth && l.bodyScrollWidth <= l.clientWidth, `nothing scrolls sideways (${l.scrollWidth} > ${l.clientWidth}): ${l.sideways.join(', ')}`);
      assert.deepEqual(l.sideways, [], 'no element sticks out to the right');
      // the newest message is in view at the bottom of the transcript
      const last = await f.locator('#messages li').last().boundingBox();
      const list = await f.locator('#messages').boundingBox();
      assert.ok(last.y + last.height <= list.y + list.height + 1, 'the transcript shows its newest message');
      assert.deepEqual(await smallTargets(inner), [], 'every control is at least 44 × 44 px');
      const host = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(host[0] <= host[1], `the site does not scroll sideways with the frame open: ${host}`);
      await shot(page, `${width}${zoom ? '-text200' : ''}`, '0-eight-messages');
      // leaving by quick exit takes this conversation out of the queue again
      await quickExit(page);
    });
  }

  step('every one of those conversations left by quick exit is out of the queue', async () => {
    current = counsellor.page;
    assert.equal(await queueCount(), 0, 'no conversation waits for someone to take it');
  });

  // The states of the widget, at 360 and 1280 px: launcher, open and empty, talking,
  // minimised, ended (and a new conversation at once).
  for (const [width, height] of [[360, 740], [1280, 900]]) {
    let v;
    let chatUrl;
    step(`${width} px: the launcher on the site, then the open and empty frame (axe, screenshots, favicon)`, async () => {
      v = await visitorAt(`states-${width}`, { width, height });
      const page = v.page;
      await page.goto(site.url);
      await page.locator('#rempart-open').waitFor();
      assert.equal(await page.getAttribute('#rempart-open', 'aria-expanded'), 'false');
      await assertAccessible(page, `${width}px: site with the closed launcher`);
      await shot(page, width, '1-launcher');
      await page.click('#rempart-open');
      assert.equal(await page.getAttribute('#rempart-open', 'aria-expanded'), 'true');
      const f = frameOf(page);
      await f.locator('#prechat').waitFor();
      const inner = await innerOf(page);
      await assertAccessible(inner, `${width}px: widget open, empty`);
      assert.deepEqual(await smallTargets(inner), [], 'every control of the pre-chat is at least 44 × 44 px');
      const icon = await inner.evaluate(() => document.querySelector('link[rel=icon]')?.href);
      assert.equal(icon, `${server.base}/assets/favicon.svg`, 'the frame names its favicon');
      const r = await page.request.get(icon);
      assert.equal(r.status(), 200, 'the favicon is served');
      await shot(page, width, '2-open-empty');
    });

    step(`${width} px: talking — Enter sends, Shift+Enter makes a new line; the focus ring is visible`, async () => {
      const page = v.page;
      current = page;
      const f = frameOf(page);
      const inner = await innerOf(page);
      await f.locator('input[name=caller_type][value=victim]').check();
      await f.locator('#start').click();
      await f.locator('#conversation').waitFor();
      await sendWithEnter(f, 'Bonjour, quelqu’un a mis une photo de moi en ligne');
      // Shift+Enter: a new line in the box, nothing sent
      await f.locator('#body').fill('première ligne');
      await f.locator('#body').press('Shift+Enter');
      await f.locator('#body').pressSequentially('deuxième ligne');
      assert.equal(await f.locator('#body').inputValue(), 'première ligne\ndeuxième ligne');
      assert.equal(await f.locator('#messages li').count(), 1, 'Shift+Enter sent nothing');
      await f.locator('#body').press('Enter');
      await f.locator('#messages li.me .meta', { hasText: /^envoyé$/ }).nth(1).waitFor();
      assert.equal(await f.locator('#messages li.me .body').nth(1).textContent(), 'première ligne\ndeuxième ligne');
      // the keyboard's focus ring on the send button: 3 px, at least 3:1 against the page
      await f.locator('#body').focus();
      await page.keyboard.press('Tab');
      const ring = await inner.evaluate(() => {
        const el = document.activeElement;
        const s = getComputedStyle(el);
        const rgb = (c) => c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
        const lum = ([r, g, b]) => {
          const f = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
          return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
        };
        const a = lum(rgb(s.outlineColor));
        const b = lum(rgb(getComputedStyle(document.body).backgroundColor));
        return { id: el.id, style: s.outlineStyle, width: parseFloat(s.outlineWidth), contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
      });
      assert.equal(ring.id, 'send', 'Tab goes from the message box to the send button');
      assert.ok(ring.style === 'solid' && ring.width >= 2, `a visible focus ring: ${JSON.stringify(ring)}`);
      assert.ok(ring.contrast >= 3, `the focus ring has at least 3:1 against the page: ${ring.contrast.toFixed(2)}`);
      await f.locator('#body').focus();
      await assertAccessible(inner, `${width}px: widget talking`);
      assert.deepEqual(await smallTargets(inner), [], 'every control is at least 44 × 44 px while talking');
      await shot(page, width, '3-talking');
    });

    step(`${width} px: minimised — back to the site, focus on the launcher, aria-expanded false; Escape too; reopening keeps the transcript`, async () => {
      const page = v.page;
      const f = frameOf(page);
      const texts = await f.locator('#messages li .body').allTextContents();
      await f.locator('#minimise').click();
      await page.locator('#rempart-chat').waitFor({ state: 'hidden' });
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'rempart-open', 'the focus is back on the launcher');
      assert.equal(await page.getAttribute('#rempart-open', 'aria-expanded'), 'false');
      await assertAccessible(page, `${width}px: widget minimised`);
      await shot(page, width, '4-minimised');
      await page.click('#rempart-open');
      await page.locator('#rempart-chat').waitFor({ state: 'visible' });
      assert.equal(await page.getAttribute('#rempart-open', 'aria-expanded'), 'true');
      assert.deepEqual(await f.locator('#messages li .body').allTextContents(), texts, 'the same conversation, whole');
      // Escape closes it too, and the focus returns to the launcher
      await f.locator('#body').press('Escape');
      await page.locator('#rempart-chat').waitFor({ state: 'hidden' });
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'rempart-open');
      assert.equal(await page.getAttribute('#rempart-open', 'aria-expanded'), 'false');
      // the launcher is a toggle: open, then closed again with it
      await page.click('#rempart-open');
      await page.locator('#rempart-chat').waitFor({ state: 'visible' });
      assert.deepEqual(await f.locator('#messages li .body').allTextContents(), texts);
      if (width > 480) {
        // on a wide screen the frame leaves the launcher visible: it closes it again
        await page.click('#rempart-open');
        await page.locator('#rempart-chat').waitFor({ state: 'hidden' });
        assert.equal(await page.getAttribute('#rempart-open', 'aria-expanded'), 'false');
        await page.click('#rempart-open');
        await page.locator('#rempart-chat').waitFor({ state: 'visible' });
      }
    });

    step(`${width} px: the counsellor takes it and answers with Enter (Shift+Enter a new line); the reply arrives live`, async () => {
      const page = counsellor.page;
      current = page;
      await page.goto(`${server.base}/chats`);
      await Promise.all([page.waitForURL(/\/chats\/[0-9a-f-]{36}$/), page.click('#take-next')]);
      chatUrl = page.url();
      await page.locator('#transcript li', { hasText: 'quelqu’un a mis une photo de moi' }).waitFor();
      await page.fill('#reply', 'Je suis là.');
      await page.locator('#reply').press('Shift+Enter');
      await page.locator('#reply').pressSequentially('Tu as bien fait d’écrire.');
      assert.equal(await page.locator('#reply').inputValue(), 'Je suis là.\nTu as bien fait d’écrire.');
      assert.equal(await page.locator('#transcript li.from-counsellor').count(), 0, 'Shift+Enter sent nothing');
      await page.locator('#reply').press('Enter');
      await page.locator('#transcript li.from-counsellor').waitFor();
      assert.equal(await page.locator('#reply').inputValue(), '', 'sent: the box is empty again');
      await frameOf(v.page).locator('#messages li.them', { hasText: 'Tu as bien fait' }).waitFor();
      current = v.page;
    });

    step(`${width} px: the counsellor ends it; the closing notice is on the screen and a new conversation starts at once`, async () => {
      const page = counsellor.page;
      current = page;
      await page.fill('#summary', 'Photo publiée sans accord ; conseils de signalement');
      page.once('dialog', (d) => d.accept());
      await Promise.all([page.waitForURL((u) => u.pathname === '/chats'), page.click('#end-submit')]);
      const vp = v.page;
      current = vp;
      const f = frameOf(vp);
      const inner = await innerOf(vp);
      await f.locator('#new-conversation').waitFor();
      assert.match(await textOf(f.locator('#status')), /terminée/);
      assert.ok(await f.locator('#send-form').isHidden(), 'nothing more to write in the ended conversation');
      const l = await layout(inner);
      assert.ok(inside(l.status, l) && l.status.top >= l.head - 0.5, `the closing notice is on the screen, under the header: ${JSON.stringify(l.status)}`);
      assert.ok(inside(l.newConversation, l), `"start a new conversation" is on the screen: ${JSON.stringify(l.newConversation)}`);
      await assertAccessible(inner, `${width}px: widget ended`);
      assert.deepEqual(await smallTargets(inner), [], 'every control is at least 44 × 44 px once ended');
      await shot(vp, width, '5-ended');
      await f.locator('#new-conversation').click();
      await f.locator('#send-form').waitFor();
      assert.match(await textOf(f.locator('#status')), /file/, 'a new conversation waits in the queue at once');
      assert.equal(await f.locator('#messages li').count(), 0, 'the old conversation is gone from the screen');
      assert.equal(await inner.evaluate(() => document.activeElement?.id), 'body', 'ready to write');
      await sendWithEnter(f, 'Re-bonjour, j’ai une autre question');
      assert.equal(await queueCount(), 1, 'the new conversation waits in the queue');
      current = vp;
    });

    if (width === 360) {
      step('360 px: quick exit tells the server — the counsellor who took it sees it left, live, and nothing waits in the queue', async () => {
        const page = counsellor.page;
        current = page;
        await page.goto(`${server.base}/chats`);
        await Promise.all([page.waitForURL(/\/chats\/[0-9a-f-]{36}$/), page.click('#take-next')]);
        assert.notEqual(page.url(), chatUrl, 'the new conversation, not the ended one');
        const leftUrl = page.url();
        await page.locator('#transcript li', { hasText: 'autre question' }).waitFor();
        await page.locator('#reply-form').waitFor();
        await quickExit(v.page);
        // the console's open conversation says so live
        await page.locator('#left-notice').waitFor();
        assert.match(await textOf(page.locator('#conv-status')), /sortie rapide/);
        await page.locator('#transcript li.from-system', { hasText: 'Sortie rapide' }).waitFor();
        assert.ok(await page.locator('#reply-form').isHidden(), 'no reply form: nobody would read it');
        await assertAccessible(page, 'conversation page (console): left by quick exit');
        await page.screenshot({ path: path.join(ARTIFACTS, 'widget-phone-console-left.png'), fullPage: true });
        // /chats: not waiting, and among the counsellor's conversations as left
        assert.equal(await queueCount(), 0, 'the conversation no longer waits in the queue');
        const mine = page.locator('#h-mine + ul li', { has: page.locator(`a[href="${new URL(leftUrl).pathname}"]`) });
        assert.match(await textOf(mine), /parti·e \(sortie rapide\)/);
        await assertAccessible(page, '/chats with a conversation left by quick exit');
        // the summary can still be written, and then it is gone from the counsellor's list
        await page.goto(leftUrl);
        await page.fill('#summary', 'Partie par la sortie rapide avant la réponse');
        page.once('dialog', (d) => d.accept());
        await Promise.all([page.waitForURL((u) => u.pathname === '/chats'), page.click('#end-submit')]);
        assert.equal(await page.locator(`a[href="${new URL(leftUrl).pathname}"]`).count(), 0);
      });
    }
  }

  for (const [width, height] of [[360, 740], [1280, 900]]) {
    step(`${width} px: while the line is closed, a message left (axe, screenshot)`, async () => {
      const { page } = await visitorAt(`closed-${width}`, { width, height });
      await page.goto(closedSite.url);
      await page.click('#rempart-open');
      const f = frameOf(page);
      await f.locator('#closed').waitFor();
      await f.locator('#prechat').waitFor();
      const inner = await innerOf(page);
      await assertAccessible(inner, `${width}px: widget closed hours`);
      await shot(page, width, '6-closed');
      await f.locator('#start').click();
      await f.locator('#code-box').waitFor();
      await sendWithEnter(f, 'Je reviendrai demain, on me menace');
      assert.match(await textOf(f.locator('#status')), /ouverture/);
      const l = await layout(inner);
      assert.ok(inside(l.body, l) && inside(l.send, l), 'the composer is on the screen with the follow-up code shown');
      assert.ok(l.scrollWidth <= l.clientWidth, 'nothing runs sideways');
      await assertAccessible(inner, `${width}px: widget message left`);
      assert.deepEqual(await smallTargets(inner), [], 'every control is at least 44 × 44 px');
      await shot(page, width, '7-left-message');
    });
  }
});

// Browser test of the live chat, in Debian's Chromium: a visitor on a small phone opens the
// helpline's demo page and writes through the widget; a counsellor takes the conversation
// in the console and replies; the visitor sees the reply live, reloads and finds the whole
// conversation once, then uses quick exit, after which nothing of it stays in the browser.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACTS, REMPART_BIN, CHROMIUM_BIN, startServer, stopServer, openContext, unlabelledControls, assertNoSidewaysScroll, login, textOf } from './lib.mjs';

// Open around the clock, so the test does not depend on the hour it runs at.
const ALWAYS_OPEN = `timezone = "Europe/Paris"\nholiday_hours = "same"\n[hours]\nevery_day = "00:00-24:00"\n`;

describe('Rempart live chat in Chromium', () => {
  let tmp;
  let server;
  let visitor;
  let counsellor;
  let chatUrl;

  before(async () => {
    assert.ok(fs.existsSync(REMPART_BIN), `rempart binary not found at ${REMPART_BIN}`);
    assert.ok(fs.existsSync(CHROMIUM_BIN), `Chromium not found at ${CHROMIUM_BIN}`);
    await fsp.mkdir(ARTIFACTS, { recursive: true });
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-chat-e2e-'));
    const hours = path.join(tmp, 'hours.toml');
    await fsp.writeFile(hours, ALWAYS_OPEN);
    server = await startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'chat-server.log'), {
      REMPART_OPENING_HOURS_FILE: hours,
      // a neutral site, answered by the test itself (no network here)
      REMPART_QUICK_EXIT_URL: 'https://neutral.example/',
      // a flood from the second new conversation in a minute: the widget must prove its work
      REMPART_CHAT_STRESS_SESSIONS_PER_MINUTE: '1',
      REMPART_CHAT_POW_BITS: '14',
    });
    visitor = await openContext(path.join(tmp, 'visitor'), { width: 360, height: 740 });
    await visitor.ctx.route('https://neutral.example/**', (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: '<h1>Météo</h1>' }));
    counsellor = await openContext(path.join(tmp, 'counsellor'), { width: 1280, height: 900 });
  });

  after(async () => {
    await visitor?.ctx.close().catch(() => {});
    await counsellor?.ctx.close().catch(() => {});
    await stopServer(server?.child);
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  const frame = () => visitor.page.frameLocator('#rempart-chat');

  it('a visitor opens the widget on the demo page and writes', async () => {
    const page = visitor.page;
    await page.goto(`${server.base}/demo`);
    await page.click('#rempart-open');
    const f = frame();
    await f.locator('#prechat').waitFor();
    assert.deepEqual(await f.locator('body').evaluate(() => 0), 0);
    await f.locator('input[name=caller_type][value=victim]').check();
    await f.locator('#age_band').selectOption('15_17');
    await f.locator('#start').click();
    await f.locator('#conversation').waitFor();
    assert.match(await textOf(f.locator('#status')), /file|queue/i, 'the queue position is shown');
    await f.locator('#body').fill('Bonjour, il menace de publier mes photos ce soir');
    await f.locator('#send').click();
    await f.locator('#messages li.me .meta', { hasText: 'envoyé' }).waitFor();
    const frameHandle = await page.$('#rempart-chat');
    const inner = await frameHandle.contentFrame();
    assert.deepEqual(await unlabelledControls(inner), [], 'every control of the widget has a label');
    assert.match(await inner.evaluate(() => localStorage.getItem('rempart-device') || ''), /^[0-9a-f]{64}$/, 'the widget keeps a random device key (quick exit forgets it)');
    await assertNoSidewaysScroll(inner, 360, 'widget frame');
    await page.screenshot({ path: path.join(ARTIFACTS, 'widget-360.png') });
  });

  it('a counsellor takes it in the console and replies; the visitor sees the reply live', async () => {
    const page = counsellor.page;
    await login(page, server.base, server.accounts.counsellor);
    await page.goto(`${server.base}/chats`);
    assert.equal(await textOf(page.locator('#queue-count')), '1');
    assert.match(await textOf(page.locator('#queue tbody')), /publication imminente|chantage/i, 'the risk is shown in the queue');
    await Promise.all([page.waitForURL(/\/chats\/[0-9a-f-]{36}$/), page.click('#take-next')]);
    chatUrl = page.url();
    await page.locator('#transcript li', { hasText: 'il menace de publier' }).waitFor();
    await page.fill('#reply', 'Je suis là. Tu as bien fait d’écrire. Il ne faut pas payer.');
    await page.click('#reply-send');
    await page.locator('#transcript li.from-counsellor').waitFor();
    const f = frame();
    await f.locator('#messages li.them', { hasText: 'Il ne faut pas payer' }).waitFor();
    assert.match(await textOf(f.locator('#status')), /écoutant/i, 'the visitor is told a counsellor is there');
  });

  it('the visitor writes again and the console receives it live', async () => {
    const f = frame();
    await f.locator('#body').fill('Merci. Il a mon adresse Snapchat.');
    await f.locator('#send').click();
    await counsellor.page.locator('#transcript li', { hasText: 'mon adresse Snapchat' }).waitFor();
    await counsellor.page.screenshot({ path: path.join(ARTIFACTS, 'console-chat.png'), fullPage: true });
  });

  it('after a reload the visitor finds the whole conversation, once', async () => {
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

  it('quick exit leaves for a neutral site and nothing of the chat stays in the browser', async () => {
    const page = visitor.page;
    const f = frame();
    await Promise.all([
      page.waitForURL('https://neutral.example/'),
      f.locator('#quick-exit').click(),
    ]);
    assert.equal(await textOf(page.locator('h1')), 'Météo', 'the visitor is on the neutral site');
    const probe = await visitor.ctx.newPage();
    await probe.goto(`${server.base}/healthz`);
    const stored = await probe.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
    assert.deepEqual(stored, { local: 0, session: 0 }, 'the origin keeps no chat state');
    await probe.close();
  });

  it('under a flood of new conversations the widget proves its work by itself', async () => {
    const page = await visitor.ctx.newPage();
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
    await page.close();
  });
});

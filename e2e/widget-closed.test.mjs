// Browser test of the widget while the helpline is closed, in Debian's Chromium on a 360 px
// phone, embedded from the helpline's own site (another origin): the frame says it is
// closed, gives the hours and the emergency numbers, and lets the young person leave a
// message, with a follow-up code shown once. A counsellor answers the left message from the
// console; later, on another device, the young person opens the answer with the code.
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

const PHONE = { width: 360, height: 740 };
const ALWAYS_CLOSED = `timezone = "Europe/Paris"\nholiday_hours = "same"\n[hours]\nevery_day = "closed"\n`;

describe('Rempart widget while the helpline is closed, in Chromium', () => {
  let tmp;
  let server;
  let site;
  let visitor;
  let code;
  let failed = false;

  function step(name, fn, pageOf = () => visitor?.page) {
    it(name, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await withScreenshot(pageOf(), name, fn);
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
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-closed-e2e-'));
    const hours = path.join(tmp, 'hours.toml');
    await fsp.writeFile(hours, ALWAYS_CLOSED);
    site = await helplineSite(() => `${server.base}/assets/widget.js`);
    server = await startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'closed-server.log'), {
      REMPART_HELPLINE_OPENING_HOURS_FILE: hours,
      REMPART_WIDGET_ALLOWED_ORIGINS: site.origin,
    });
    visitor = await openContext(path.join(tmp, 'visitor'), PHONE);
  });

  after(async () => {
    await visitor?.ctx.close().catch(() => {});
    await stopServer(server?.child);
    server?.log.end();
    await site?.close();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  const frameOf = (page) => page.frameLocator('#rempart-chat');
  const innerOf = async (page) => (await page.waitForSelector('#rempart-chat', { state: 'attached' })).contentFrame();

  step('the frame says the line is closed, with hours and emergency numbers, and takes a message with a follow-up code', async () => {
    const { page } = visitor;
    await page.goto(site.url);
    await page.click('#rempart-open');
    const f = frameOf(page);
    await f.locator('#closed').waitFor();
    await f.locator('#prechat').waitFor();
    assert.match(await textOf(f.locator('#hours')), /—/, 'the hours say closed');
    assert.ok((await f.locator('#emergency li a[href^="tel:"]').count()) > 0, 'emergency numbers to call');
    const inner = await innerOf(page);
    await assertNoSidewaysScroll(inner, PHONE.width, 'widget frame (closed)');
    await assertAccessible(inner, 'widget frame: closed, pre-chat');
    await f.locator('#start').click();
    await f.locator('#conversation').waitFor();
    await f.locator('#code-box').waitFor();
    code = await textOf(f.locator('#code-value'));
    assert.match(code, /\S{8,}/, 'a follow-up code is shown');
    assert.match(await textOf(f.locator('#status')), /reçu/, 'the message will be answered at opening');
    await f.locator('#body').fill('Je reçois des menaces, vous pouvez me répondre demain ?');
    await f.locator('#send').click();
    await f.locator('#messages li.me .meta', { hasText: 'envoyé' }).waitFor();
    assert.deepEqual(await unlabelledControls(inner), [], 'every control of the widget has a label');
    await assertNoSidewaysScroll(inner, PHONE.width, 'widget frame (message left)');
    await assertAccessible(inner, 'widget frame: message left, follow-up code');
    await page.screenshot({ path: path.join(ARTIFACTS, 'widget-closed-360.png') });
  });

  step('a counsellor answers the left message from the console', async () => {
    const counsellor = await openContext(path.join(tmp, 'counsellor'), { width: 1280, height: 900 });
    try {
      await withScreenshot(counsellor.page, 'counsellor answers', async () => {
        const { page } = counsellor;
        await login(page, server.base, server.accounts.counsellor);
        await page.goto(`${server.base}/chats`);
        const left = page.locator('#left-messages li').filter({ has: page.locator('button.take-left') }).first();
        await left.waitFor();
        await assertAccessible(page, '/chats (closed, left messages)');
        await Promise.all([page.waitForURL(/\/chats\/[0-9a-f-]{36}$/), left.locator('button.take-left').click()]);
        await page.locator('#transcript li', { hasText: 'menaces' }).waitFor();
        await page.fill('#reply', 'Bonjour, nous avons bien lu ton message. Ne réponds pas à ses menaces.');
        await page.click('#reply-send');
        await page.locator('#transcript li.from-counsellor').waitFor();
      });
    } finally {
      await counsellor.ctx.close().catch(() => {});
    }
  });

  step('later, on another device, the young person opens the answer with the code', async () => {
    const other = await openContext(path.join(tmp, 'other-device'), PHONE);
    try {
      await withScreenshot(other.page, 'follow-up', async () => {
        const { page } = other;
        await page.goto(site.url);
        await page.click('#rempart-open');
        const f = frameOf(page);
        await f.locator('#prechat').waitFor();
        await f.locator('#follow-up summary').click();
        await f.locator('#follow-up-code').fill(code);
        await f.locator('#follow-up-open').click();
        await f.locator('#messages li.them', { hasText: 'Ne réponds pas' }).waitFor();
        const texts = await f.locator('#messages li .body').allTextContents();
        assert.deepEqual(texts, [
          'Je reçois des menaces, vous pouvez me répondre demain ?',
          'Bonjour, nous avons bien lu ton message. Ne réponds pas à ses menaces.',
        ]);
        await assertAccessible(await innerOf(page), 'widget frame: answer read with the follow-up code');
      });
    } finally {
      await other.ctx.close().catch(() => {});
    }
  });
});

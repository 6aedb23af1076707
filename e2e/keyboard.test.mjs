// Keyboard only, in Debian's Chromium: a young person opens the widget on the helpline's site,
// starts a conversation and writes; a counsellor logs in, becomes available, takes it, replies,
// ends it opening a case, follows the link to the case and changes its status — every step
// with Tab, Enter, Space and the arrow keys, never the mouse. Each control reached is checked
// to show its focus ring.
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
  withScreenshot,
  textOf,
} from './lib.mjs';

const ALWAYS_OPEN = `timezone = "Europe/Paris"\nholiday_hours = "same"\n[hours]\nevery_day = "00:00-24:00"\n`;

/** The element that has the focus in `doc`'s document, as `tag#id`, and whether it shows a ring. */
const describeFocus = () => {
  const el = document.activeElement;
  if (!el) return '';
  if (el.tagName === 'IFRAME') return 'iframe';
  const st = getComputedStyle(el);
  const ring = st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) >= 2;
  return `${el.tagName.toLowerCase()}#${el.id}${ring || el === document.body ? '' : ' (no ring)'}`;
};

/** The element that has the focus, looking inside the widget's frame (another origin) when it has it. */
async function focused(page) {
  const top = await page.evaluate(describeFocus);
  if (top !== 'iframe') return top;
  const frame = page.frames().find((f) => f.url().includes('/widget/frame'));
  return frame ? `frame:${await frame.evaluate(describeFocus)}` : 'iframe';
}

/** Presses Tab until the focus is on `want` (`tag#id`, `frame:` inside the widget). */
async function tabTo(page, want, max = 80) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    const now = await focused(page);
    if (now === want) return;
    if (now.startsWith(want) && now.endsWith('(no ring)')) {
      assert.fail(`${want} has the focus but shows no focus ring`);
    }
    seen.push(now);
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${want}; went through ${seen.slice(-15).join(', ')}`);
}

describe('The chat journey and the case page, with the keyboard alone', () => {
  let tmp;
  let server;
  let site;
  let visitor;
  let counsellor;
  let failed = false;
  let current = null;
  const state = {};

  function step(name, fn) {
    it(name, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await withScreenshot(current, `keyboard-${name.slice(0, 30)}`, () => fn(t));
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
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-keyboard-e2e-'));
    await fsp.writeFile(path.join(tmp, 'open.toml'), ALWAYS_OPEN);
    site = await helplineSite(() => `${server.base}/assets/widget.js`);
    server = await startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'keyboard-server.log'), {
      REMPART_HELPLINE_OPENING_HOURS_FILE: path.join(tmp, 'open.toml'),
      REMPART_WIDGET_ALLOWED_ORIGINS: site.origin,
    });
    visitor = await openContext(path.join(tmp, 'visitor'), { width: 360, height: 740 });
    counsellor = await openContext(path.join(tmp, 'counsellor'), { width: 1280, height: 900 });
  });

  after(async () => {
    await visitor?.ctx.close().catch(() => {});
    await counsellor?.ctx.close().catch(() => {});
    await stopServer(server?.child);
    server?.log.end();
    await site?.close();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  step('a young person opens the widget, starts and writes with the keyboard', async () => {
    const page = visitor.page;
    current = page;
    await page.goto(site.url);
    await page.locator('#rempart-open').waitFor();
    await tabTo(page, 'button#rempart-open');
    await page.keyboard.press('Enter');
    const f = page.frameLocator('#rempart-chat');
    await f.locator('#prechat').waitFor();
    await tabTo(page, 'frame:button#start');
    await page.keyboard.press('Enter');
    await f.locator('#conversation').waitFor();
    await tabTo(page, 'frame:textarea#body');
    state.text = `Quelqu'un publie mes photos, clavier ${Date.now()}`;
    await page.keyboard.type(state.text);
    await page.keyboard.press('Enter');
    await f.locator('#messages li.me .meta', { hasText: /^envoyé$/ }).first().waitFor();
  });

  step('a counsellor logs in, becomes available and takes the conversation with the keyboard', async () => {
    const page = counsellor.page;
    current = page;
    const { email, password } = server.accounts.counsellor;
    await page.goto(`${server.base}/login`);
    await tabTo(page, 'input#email');
    await page.keyboard.type(email);
    await tabTo(page, 'input#password');
    await page.keyboard.type(password);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.keyboard.press('Enter')]);
    await page.goto(`${server.base}/chats`);
    if (!(await page.locator('#available').isChecked())) {
      await tabTo(page, 'input#available');
      await page.keyboard.press('Space');
      assert.equal(await page.locator('#available').isChecked(), true, 'Space ticks the box');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/chats$/);
    }
    await tabTo(page, 'button#take-next');
    await Promise.all([page.waitForURL(/\/chats\/[0-9a-f-]{36}$/), page.keyboard.press('Enter')]);
    await page.locator('#transcript li', { hasText: state.text }).waitFor();
  });

  step('the counsellor replies with Enter, the young person reads it', async () => {
    const page = counsellor.page;
    await tabTo(page, 'textarea#reply');
    await page.keyboard.type('Je suis là. On va voir ensemble');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('ce que l\'on peut faire.');
    await page.keyboard.press('Enter');
    await page.locator('#transcript li', { hasText: 'On va voir ensemble' }).waitFor();
    const f = visitor.page.frameLocator('#rempart-chat');
    await f.locator('#messages li', { hasText: 'On va voir ensemble' }).waitFor();
  });

  step('the counsellor ends it opening a case, and reaches the case from what the page says', async () => {
    const page = counsellor.page;
    page.once('dialog', (d) => d.accept());
    await tabTo(page, 'textarea#summary');
    await page.keyboard.type('Menace de publication de photos, conseils donnés.');
    await tabTo(page, 'input#open_case');
    await page.keyboard.press('Space');
    assert.equal(await page.locator('#open_case').isChecked(), true);
    await tabTo(page, 'button#end-submit');
    await Promise.all([page.waitForURL(/\/chats\?ended=1&case=/), page.keyboard.press('Enter')]);
    await tabTo(page, 'a#ended-case');
    await Promise.all([page.waitForURL(/\/cases\/[0-9a-f-]{36}/), page.keyboard.press('Enter')]);
    state.case = new URL(page.url()).pathname;
  });

  step('the case page: the status changed with the arrow keys and Enter', async () => {
    const page = counsellor.page;
    const before = await page.locator('#new-status').inputValue();
    await tabTo(page, 'select#new-status');
    await page.keyboard.press('ArrowDown');
    const chosen = await page.locator('#new-status').inputValue();
    assert.notEqual(chosen, before, 'the arrow key chose another status');
    await tabTo(page, 'button#status-submit');
    await Promise.all([page.waitForURL(/done=status|\/cases\/[0-9a-f-]{36}$/), page.keyboard.press('Enter')]);
    assert.equal(await page.locator('#new-status').inputValue(), chosen, `the case is now ${chosen}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'keyboard-case.png') });
    assert.ok((await textOf(page.locator('main'))).length > 0);
  });
});

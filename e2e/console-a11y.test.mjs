// Accessibility of the console, measured in Debian's Chromium for each role's pages at 360 px
// and 1280 px: axe-core finds no violation, every control is at least 44 × 44 px on the phone,
// the header takes at most a quarter of a 740 px screen, the menu marks the page it is on
// (aria-current), and the focus ring contrasts at least 3:1 with what surrounds it.
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
} from './lib.mjs';

const ALWAYS_OPEN = `timezone = "Europe/Paris"\nholiday_hours = "same"\n[hours]\nevery_day = "00:00-24:00"\n`;
const PHONE = { width: 360, height: 740 };
const DESK = { width: 1280, height: 800 };

/** Controls smaller than 44 × 44 px (links inside a sentence are left out, as WCAG does). */
async function smallTargets(page) {
  return page.evaluate(() => {
    const out = [];
    const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
    for (const el of document.querySelectorAll(sel)) {
      const st = getComputedStyle(el);
      if (el.getClientRects().length === 0 || st.visibility === 'hidden') continue;
      if (el.closest('.sr-only') || el.classList.contains('skip')) continue;
      // a checkbox or a radio counts with its label (the whole line is the target)
      const target = (el.type === 'checkbox' || el.type === 'radio') && el.closest('label') ? el.closest('label') : el;
      const r = target.getBoundingClientRect();
      const inSentence = el.tagName === 'A' && el.parentElement && el.parentElement.childNodes.length > 1
        && [...el.parentElement.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim().length > 1);
      if (inSentence) continue;
      if (r.width < 44 - 0.5 || r.height < 44 - 0.5) {
        out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).split(' ')[0] : ''} ${Math.round(r.width)}×${Math.round(r.height)} "${(el.textContent || el.name || '').trim().slice(0, 30)}"`);
      }
    }
    return out;
  });
}

/** The contrast of the focus ring of the focused element against the page's background. */
async function focusRingContrast(page) {
  return page.evaluate(() => {
    const lum = (rgb) => {
      const [r, g, b] = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const el = document.activeElement;
    const st = getComputedStyle(el);
    if (st.outlineStyle === 'none' || parseFloat(st.outlineWidth) < 2) return 0;
    // the background behind the element: the first ancestor with a colour
    let bg = 'rgb(255, 255, 255)';
    for (let p = el.parentElement; p; p = p.parentElement) {
      const c = getComputedStyle(p).backgroundColor;
      if (c && !/rgba\(0, 0, 0, 0\)|transparent/.test(c)) { bg = c; break; }
    }
    const a = lum(st.outlineColor);
    const b = lum(bg);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}

describe('The console is accessible for each role', () => {
  let tmp;
  let server;
  let failed = false;

  function step(name, fn) {
    it(name, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await fn(t);
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
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-a11y-e2e-'));
    const hours = path.join(tmp, 'hours.toml');
    await fsp.writeFile(hours, ALWAYS_OPEN);
    server = await startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'a11y-server.log'), {
      REMPART_HELPLINE_OPENING_HOURS_FILE: hours,
    });
  });

  after(async () => {
    await stopServer(server?.child);
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  const pagesOf = {
    counsellor: ['/cases', '/cases?q=harcelement', '/chats', '/chats/search?q=photos', '/notices', '/notices?late=1', '/contacts/new', '/services?q=harcelement', '/account'],
    supervisor: ['/cases', '/chats', '/chats/search?q=photos', '/notices', '/platforms/snapchat', '/playbooks', '/audit', '/account'],
    admin: ['/admin/staff', '/admin/platforms', '/audit', '/account'],
  };

  for (const [role, paths] of Object.entries(pagesOf)) {
    it(`${role}: every page is axe-clean, fits a phone with 44 px targets, marks where it is`, async () => {
      const problems = [];
      for (const [label, viewport] of [['360', PHONE], ['1280', DESK]]) {
        const c = await openContext(path.join(tmp, `${role}-${label}`), viewport);
        try {
          await withScreenshot(c.page, `a11y-${role}-${label}`, async () => {
            const { page } = c;
            await login(page, server.base, server.accounts[role]);
            const extra = [];
            if (role !== 'admin') {
              // the first case of the list, and its page
              await page.goto(`${server.base}/cases`);
              const first = page.locator('table.list a.ref[href^="/cases/"]').first();
              if (await first.count()) extra.push(new URL(await first.getAttribute('href'), server.base).pathname);
            }
            for (const p of [...paths, ...extra]) {
              await page.goto(`${server.base}${p}`);
              const where = `${role} ${p} (${label} px)`;
              // every problem of every page is gathered, then reported together
              const check = async (fn) => {
                try {
                  await fn();
                } catch (e) {
                  problems.push(e.message);
                }
              };
              await check(() => assertAccessible(page, where));
              const current = await page.locator('header nav [aria-current="page"]').count();
              await check(async () => assert.ok(current <= 1, `${where}: one current page`));
              if (!p.startsWith('/cases/') && !p.startsWith('/platforms/') && p !== '/contacts/new' && p !== '/notices?late=1') {
                await check(async () => assert.equal(current, 1, `${where}: the menu marks the page it is on`));
              }
              if (viewport === PHONE) {
                await check(() => assertNoSidewaysScroll(page, PHONE.width, where));
                const small = await smallTargets(page);
                await check(async () => assert.deepEqual(small, [], `${where}: controls under 44 × 44 px: ${small.join('; ')}`));
                const header = await page.locator('header.top').boundingBox();
                await check(async () => assert.ok(header.height <= PHONE.height / 4, `${where}: the header is ${header.height} px high (at most 185)`));
                await page.screenshot({ path: path.join(ARTIFACTS, `console-${role}-${p.replace(/[^a-z0-9]+/gi, '_')}-360.png`), fullPage: true });
              } else {
                await page.screenshot({ path: path.join(ARTIFACTS, `console-${role}-${p.replace(/[^a-z0-9]+/gi, '_')}-1280.png`) });
              }
            }
            // the focus ring, on a link of the header and a control of the page
            await page.goto(`${server.base}${paths[0]}`);
            await page.keyboard.press('Tab');
            await page.keyboard.press('Tab');
            assert.ok(await focusRingContrast(page) >= 3, `${role}: the focus ring in the header contrasts at least 3:1`);
            await page.locator('main').locator('input, select, button').first().focus();
            assert.ok(await focusRingContrast(page) >= 3, `${role}: the focus ring in the page contrasts at least 3:1`);
          });
        } finally {
          await c.ctx.close();
        }
      }
      assert.deepEqual(problems, [], `${role}: ${problems.length} problems:\n${problems.join('\n')}`);
    });
  }
});

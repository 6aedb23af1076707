// Shared helpers of the browser tests: start `rempart demo`, open Chromium contexts,
// accessibility and layout checks.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.join(HERE, 'artifacts');
export const REMPART_BIN = process.env.REMPART_BIN
  ? path.resolve(process.env.REMPART_BIN)
  : path.resolve(HERE, '..', 'target', 'debug', 'rempart');
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const READY_MS = Number(process.env.REMPART_READY_MS || 120_000);
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
export const ACTION_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

/**
 * Starts `rempart demo` and resolves once it printed "ready in", with the base URL and the
 * demo accounts it printed. Rejects on timeout or if the process dies first.
 */
export async function startServer(dataDir, logFile, extraEnv = {}) {
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const child = spawn(REMPART_BIN, ['demo', '--listen', listen, '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...extraEnv },
  });
  const log = fs.createWriteStream(logFile);
  child.stderr.pipe(log);
  const stdoutLines = [];
  const accounts = {};
  let consoleUrl = null;

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`rempart did not print "ready in" within ${READY_MS} ms; stdout so far:\n${stdoutLines.join('\n')}\n(see ${logFile})`));
    }, READY_MS);
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      stdoutLines.push(line);
      log.write(`[stdout] ${line}\n`);
      let m;
      if ((m = /^Rempart demo: console at (\S+)$/.exec(line))) consoleUrl = m[1];
      if ((m = /^demo account: (\S+) (\S+) (\S+)$/.exec(line))) accounts[m[1]] = { email: m[2], password: m[3] };
      if (/^ready in \d+ ms$/.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (e) => { clearTimeout(timer); reject(new Error(`cannot start ${REMPART_BIN}: ${e.message}`)); });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`rempart exited early (code ${code}, signal ${signal}); stdout:\n${stdoutLines.join('\n')}\n(see ${logFile})`));
    });
  });
  try {
    await ready;
  } catch (e) {
    await stopServer(child);
    throw e;
  }
  return { child, base: `http://${listen}`, consoleUrl, accounts, log };
}

/** SIGTERM, then SIGKILL if it has not exited after a deadline. */
export async function stopServer(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const deadline = new Promise((r) => setTimeout(r, 10_000, 'timeout'));
  if ((await Promise.race([exited, deadline])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// Browser helpers
// ---------------------------------------------------------------------------------------------

/** A Chromium with its own fresh user-data dir (one per browsing context). */
export async function openContext(userDataDir, viewport) {
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    locale: 'fr-FR',
  });
  ctx.setDefaultTimeout(ACTION_TIMEOUT_MS);
  ctx.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  return { ctx, page };
}

/** Visible form controls with no accessible name from a label, aria-label or aria-labelledby. */
export async function unlabelledControls(page) {
  return page.evaluate(() => {
    const visible = (el) => {
      const st = getComputedStyle(el);
      return el.getClientRects().length > 0 && st.visibility !== 'hidden' && st.display !== 'none';
    };
    const text = (s) => (s || '').replace(/\s+/g, ' ').trim();
    const named = (el) => {
      if ([...(el.labels || [])].some((l) => text(l.textContent))) return true;
      if (text(el.getAttribute('aria-label'))) return true;
      const ids = text(el.getAttribute('aria-labelledby'));
      if (ids && ids.split(' ').some((id) => text(document.getElementById(id)?.textContent))) return true;
      return false;
    };
    return [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden' && visible(el) && !named(el))
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}[name=${el.name}]`);
  });
}

/** [scrollWidth, clientWidth] of the document: wider than the viewport means sideways scroll. */
export async function docWidth(page) {
  return page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
}

/** Elements sticking out to the right of the viewport (to say *what* overflows). */
export async function overflowing(page) {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > w + 1) {
        const desc = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}`;
        out.push(`${desc} right=${Math.round(r.right)}`);
      }
    }
    return out.slice(0, 10);
  });
}

export async function assertNoSidewaysScroll(page, width, where) {
  const [scrollWidth] = await docWidth(page);
  assert.ok(
    scrollWidth <= width,
    `${where}: page scrolls sideways at ${width}px (scrollWidth ${scrollWidth}); overflowing: ${(await overflowing(page)).join(', ')}`,
  );
}

export async function login(page, base, { email, password }) {
  await page.goto(`${base}/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login'),
    page.click('main form[action="/login"] button[type=submit]'),
  ]);
}

export const textOf = async (loc) => ((await loc.textContent()) || '').replace(/\s+/g, ' ').trim();


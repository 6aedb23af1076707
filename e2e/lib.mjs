// Shared helpers of the browser tests: start `rempart demo`, serve a helpline's own site on
// another origin, open Chromium contexts, a virtual passkey authenticator, accessibility
// (axe-core) and layout checks.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
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
 * Starts `rempart demo` and resolves once it printed "ready in", with the demo accounts it
 * printed. `base` is the console's public URL as the demo prints it (`http://localhost:PORT`:
 * passkeys need a host name), `listenBase` the address it listens on (`http://127.0.0.1:PORT`).
 * Rejects on timeout or if the process dies first.
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
  const base = consoleUrl ? new URL(consoleUrl).origin : `http://${listen}`;
  return { child, base, listenBase: `http://${listen}`, consoleUrl, accounts, log };
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

/**
 * A helpline's own web site on another origin (`http://127.0.0.1:<port>`), served by the test:
 * one page whose only Rempart part is the loader tag `<script src=widgetSrc data-rempart>`.
 * `widgetSrc` is a URL, or a function giving it (when Rempart starts after the site).
 */
export async function helplineSite(widgetSrc) {
  const page = (src) => `<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Association d'aide aux jeunes</title></head>
<body>
<main><h1>Harcèlement, chantage en ligne ?</h1><p>Tu peux nous écrire anonymement.</p></main>
<script src="${src}" data-rempart></script>
</body>
</html>`;
  const srv = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/' || req.url.startsWith('/?'))) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page(typeof widgetSrc === 'function' ? widgetSrc() : widgetSrc));
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const origin = `http://127.0.0.1:${srv.address().port}`;
  return {
    origin,
    url: `${origin}/`,
    close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(() => r()); }),
  };
}

// ---------------------------------------------------------------------------------------------
// Browser helpers
// ---------------------------------------------------------------------------------------------

/** Answers for the neutral site quick exit leaves for (`url`), in `ctx`: a weather page. */
export async function serveNeutralSite(ctx, url) {
  await ctx.route(`${url}**`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: '<!doctype html><html lang="fr"><title>Météo</title><h1>Météo</h1></html>' }));
}

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
      // the box itself, or its text running out of it (a long word in a narrow box)
      const textOut = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible' ? r.left + el.scrollWidth : 0;
      if (r.width > 0 && Math.max(r.right, textOut) > w + 1) {
        const desc = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}`;
        out.push(`${desc} right=${Math.round(Math.max(r.right, textOut))}`);
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


/** Saves a full-page screenshot of a failed step's page and names it in the error. */
export async function withScreenshot(page, name, fn) {
  try {
    return await fn();
  } catch (e) {
    if (page && !page.isClosed()) {
      const file = path.join(ARTIFACTS, `failure-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      e.message += `\n(screenshot: ${file}; page: ${page.url()})`;
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Passkeys: Chromium's virtual authenticator (DevTools protocol), no hardware
// ---------------------------------------------------------------------------------------------

/**
 * Attaches a virtual platform authenticator (CTAP2, internal, resident keys, user
 * verification that succeeds) to `page`; it stays across the page's navigations.
 */
export async function virtualAuthenticator(ctx, page) {
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    cdp,
    authenticatorId,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}

// ---------------------------------------------------------------------------------------------
// Accessibility: axe-core, from node_modules
// ---------------------------------------------------------------------------------------------

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AXE_LOG = path.join(ARTIFACTS, 'axe.jsonl');

/**
 * axe-core's violations on a page or a frame, as `{id, impact, help, nodes}`. Rempart's pages
 * forbid inline script (CSP `script-src 'self'`), so axe is evaluated through the DevTools
 * protocol rather than added as an inline `<script>`.
 */
export async function axeViolations(target) {
  if (!(await target.evaluate(() => typeof window.axe === 'object'))) await target.evaluate(AXE_SOURCE);
  return target.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(1, 2).join('').trim()}`),
    }));
  });
}

/** No axe-core violation at all on `target` (every result is logged to artifacts/axe.jsonl). */
export async function assertAccessible(target, where) {
  const violations = await axeViolations(target);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.appendFileSync(AXE_LOG, `${JSON.stringify({ where, violations })}\n`);
  assert.deepEqual(violations, [], `${where}: axe-core violations:\n${JSON.stringify(violations, null, 2)}`);
}

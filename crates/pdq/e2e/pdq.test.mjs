// Browser test (issue 3, item 5): in Chromium, js/pdq.js + the committed
// rempart_pdq.wasm hash the PNG test images exactly as the server side does
// (expected/pdq_expected.csv, which tests/conformance.rs checks for the Rust library),
// and nothing is uploaded.
//
//   cd crates/pdq/e2e && npm ci && npm test
// Env: REMPART_PDQ_TESTDATA (default: ../shared/testdata/pdq beside the checkout),
// CHROMIUM (default /usr/bin/chromium), REMPART_REQUIRE_SHARED=1 to fail without data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { readFile, mkdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const jsDir = path.resolve(here, '../js');

function findTestdata() {
  // resolved: the path may contain "..", and served files are checked against it
  if (process.env.REMPART_PDQ_TESTDATA) return path.resolve(process.env.REMPART_PDQ_TESTDATA);
  for (let dir = here; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'testdata', 'pdq');
    if (existsSync(path.join(candidate, 'expected'))) return candidate;
  }
  return null;
}

const dataDir = findTestdata();
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.png': 'image/png', '.jpg': 'image/jpeg', '.html': 'text/html; charset=utf-8' };

let server, base, browser, page;
const requests = [];

function readCsv(file) {
  const lines = file.split(/\r?\n/).filter((l) => l && !l.startsWith('#'));
  const header = lines[0].split(',');
  return lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
}

function distance(a, b) {
  let d = 0;
  for (let i = 0; i < 64; i += 8) {
    let x = parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16);
    while (x) { d += x & 1; x >>>= 1; }
  }
  return d;
}

before(async () => {
  if (!dataDir) {
    const msg = 'PDQ TEST DATA ABSENT: set REMPART_PDQ_TESTDATA; the browser test checked NOTHING';
    if (process.env.REMPART_REQUIRE_SHARED === '1') throw new Error(msg);
    console.error(`\n${'!'.repeat(78)}\n${msg}\n${'!'.repeat(78)}\n`);
    return;
  }
  await stat(executablePath).catch(() => { throw new Error(`Chromium not found at ${executablePath}`); });
  // A tiny static server: /js/* (the module), /data/* (test images), /index.html.
  server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = null;
    if (url.pathname === '/' || url.pathname === '/index.html') file = path.join(here, 'index.html');
    else if (url.pathname.startsWith('/js/')) file = path.join(jsDir, path.normalize(url.pathname.slice(4)));
    else if (url.pathname.startsWith('/data/')) file = path.join(dataDir, path.normalize(decodeURIComponent(url.pathname.slice(6))));
    const root = file && [here, jsDir, dataDir].find((r) => file.startsWith(r + path.sep));
    if (!root) { res.writeHead(404).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' }).end(body);
    } catch { res.writeHead(404).end(); }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  page = await browser.newPage();
  page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`${base}/index.html`);
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

test('PNG test images hash in the browser exactly as on the server', async (t) => {
  if (!dataDir) return;
  const rows = readCsv(await readFile(path.join(dataDir, 'expected/pdq_expected.csv'), 'utf8'))
    .filter((r) => r.file.endsWith('.png'));
  assert.ok(rows.length >= 10, `only ${rows.length} PNG rows`);
  const inexact = [];
  for (const row of rows) {
    const got = await page.evaluate(async (file) => {
      const { hashFile } = await import('/js/pdq.js');
      const blob = await (await fetch(`/data/${file}`)).blob();
      return hashFile(blob, { dihedral: true });
    }, row.file);
    const bytes = await readFile(path.join(dataDir, row.file));
    assert.equal(got.sha256, createHash('sha256').update(bytes).digest('hex'), `${row.file} sha256`);
    assert.equal(got.md5, createHash('md5').update(bytes).digest('hex'), `${row.file} md5`);
    assert.equal(`${got.width}x${got.height}`, `${row.width}x${row.height}`, row.file);
    const names = ['orig', 'rot90', 'rot180', 'rot270', 'flipx', 'flipy', 'flipp', 'flipm'];
    const exact = got.pdq === row.core_f32_hash && String(got.quality) === row.core_f32_quality
      && names.every((n, k) => got.dihedral[k] === row[`dih_${n}`]);
    const dih = names.map((n, k) => distance(got.dihedral[k], row[`dih_${n}`]));
    if (!exact) inexact.push(`${row.file} (${row.pil_mode}): distance ${distance(got.pdq, row.core_f32_hash)}, quality ${got.quality}/${row.core_f32_quality}, dihedral distances ${dih.join(" ")}`);
  }
  t.diagnostic(`${rows.length - inexact.length}/${rows.length} PNG rows bit-exact in Chromium`);
  assert.deepEqual(inexact, [], 'browser hashes differ from the server-side hashes');
});

test('a file picked by the user is hashed locally and never uploaded', async () => {
  if (!dataDir) return;
  const file = path.join(dataDir, 'data/reg-test-input/pen-and-coaster.png');
  const expected = readCsv(await readFile(path.join(dataDir, 'expected/pdq_expected.csv'), 'utf8'))
    .find((r) => r.file === 'data/reg-test-input/pen-and-coaster.png');
  const start = requests.length;
  await page.setInputFiles('#file', file);
  await page.waitForFunction(() => document.getElementById('result').dataset.pdq);
  const pdq = await page.$eval('#result', (o) => o.dataset.pdq);
  assert.equal(pdq, expected.core_f32_hash);
  const text = await page.textContent('#result');
  assert.match(text, new RegExp(createHash('sha256').update(await readFile(file)).digest('hex')));
  await mkdir(path.join(here, 'artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(here, 'artifacts', 'pdq-hash-file.png'), fullPage: true });
  // Only GETs of the page's own assets: the image bytes were not sent anywhere.
  const sent = requests.slice(start).filter((r) => r.method !== 'GET' || !r.url.startsWith(base));
  assert.deepEqual(sent, []);
  assert.ok(requests.every((r) => r.method === 'GET'), 'a non-GET request was made');
});

test('JPEG test images hash in the browser within the JPEG tolerance, through WebCodecs and through a canvas', async (t) => {
  if (!dataDir) return;
  const rows = readCsv(await readFile(path.join(dataDir, 'expected/pdq_expected.csv'), 'utf8'))
    .filter((r) => /\.jpe?g$/i.test(r.file) && Number(r.core_f32_quality) >= 80);
  assert.ok(rows.length >= 10, `only ${rows.length} JPEG rows`);
  const far = [];
  const decoders = new Set();
  let worst = { codecs: 0, canvas: 0 };
  for (const row of rows) {
    const got = await page.evaluate(async (file) => {
      const { hashFile, hashPixels, decodePixels } = await import('/js/pdq.js');
      const blob = await (await fetch(`/data/${file}`)).blob();
      const a = await hashFile(blob);
      const { rgba, width, height } = await decodePixels(blob);
      const b = await hashPixels(rgba, width, height);
      return { pdq: a.pdq, decoder: a.decoder, width: a.width, height: a.height, canvas: b.pdq };
    }, row.file);
    decoders.add(got.decoder);
    assert.equal(`${got.width}x${got.height}`, `${row.width}x${row.height}`, row.file);
    const d = distance(got.pdq, row.core_f32_hash);
    const c = distance(got.canvas, row.core_f32_hash);
    worst = { codecs: Math.max(worst.codecs, d), canvas: Math.max(worst.canvas, c) };
    if (d > 10 || c > 10) far.push(`${row.file}: ${got.decoder} ${d}, canvas ${c}`);
  }
  t.diagnostic(`${rows.length} JPEG rows; decoders ${[...decoders].join(', ')}; largest distance to the reference: ${worst.codecs} (hashFile), ${worst.canvas} (canvas)`);
  assert.ok(decoders.has('webcodecs'), 'Chromium has WebCodecs: the JPEGs went through it');
  assert.deepEqual(far, [], 'JPEG hashes beyond the tolerance');
});

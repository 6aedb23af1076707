// Browser test of evidence and the young person's follow-up page, in Debian's Chromium.
// A counsellor adds a screenshot from the case page (its thumbnail is the display copy),
// and the fingerprints of a picture hashed in the browser (a worker; the file is never sent:
// every request body is inspected); gives the follow-up code. On a 360 px phone the young
// person opens the page with the code and the secret, in French and in English (axe-core
// clean, nothing scrolling sideways), writes, sends only a picture's fingerprint, and
// quick-exits to the neutral site; the page is closed after. Hashing a 12 MP photo in the
// worker is measured with the CPU throttled 4× (a low-end phone), cold and warm, and a
// 48 MP one without throttling: time and the module's memory are reported, not asserted.
// The counsellor also downloads the complaint document for the police from the case page,
// and sends a referral to Pharos by e-mail, which lands in the demo's mailbox.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  ARTIFACTS,
  REMPART_BIN,
  CHROMIUM_BIN,
  startServer,
  stopServer,
  openContext,
  serveNeutralSite,
  assertAccessible,
  assertNoSidewaysScroll,
  withScreenshot,
  login,
  textOf,
} from './lib.mjs';

const NEUTRAL = 'https://neutral.example/';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** An RGB PNG of `w`×`h` with a pattern that gives PDQ something to see; `noise` adds a
 * photo's worth of detail (it compresses like a photo: about 3 bytes per pixel). */
function png(w, h, seed = 1, noise = 0) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const row = 1 + w * 3;
  const raw = Buffer.alloc(row * h);
  let r = seed * 2654435761 >>> 0;
  const jitter = () => {
    if (!noise) return 0;
    r = (Math.imul(r, 1664525) + 1013904223) >>> 0;
    return (r >>> 24) % noise;
  };
  for (let y = 0; y < h; y++) {
    const o = y * row;
    for (let x = 0; x < w; x++) {
      const p = o + 1 + x * 3;
      raw[p] = Math.min(255, ((x * 255 / w) | 0) + jitter());
      raw[p + 1] = Math.min(255, ((y * 255 / h) | 0) + jitter());
      raw[p + 2] = Math.min(255, (((x >> 5) ^ (y >> 5) ^ seed) & 1 ? 200 : 40) + jitter());
    }
  }
  const idat = zlib.deflateSync(raw, { level: 1 });
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

describe('Evidence and the follow-up page, in Chromium', () => {
  let tmp;
  let server;
  const contexts = [];
  let failed = false;
  let current = null;
  let caseId;
  let code;
  let secret;
  let screenshotFile;
  let secretPicture;
  let secretSha;
  const measures = [];

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

  async function browser(name, viewport) {
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
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-evidence-e2e-'));
    server = await startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'evidence-server.log'), {
      REMPART_HELPLINE_QUICK_EXIT_URL: NEUTRAL,
    });
    screenshotFile = path.join(tmp, 'capture.png');
    await fsp.writeFile(screenshotFile, png(640, 480, 1));
    secretPicture = path.join(tmp, 'photo-intime.png');
    const secretBytes = png(500, 400, 0);
    await fsp.writeFile(secretPicture, secretBytes);
    secretSha = crypto.createHash('sha256').update(secretBytes).digest('hex');
  });

  after(async () => {
    for (const c of contexts) await c.ctx.close().catch(() => {});
    await stopServer(server?.child);
    if (measures.length) {
      fs.writeFileSync(path.join(ARTIFACTS, 'hash-in-browser.json'), JSON.stringify(measures, null, 2));
      for (const m of measures) console.log(`hash in the browser: ${JSON.stringify(m)}`);
    }
  });

  step('a counsellor adds a screenshot from the case page and sees its display copy', async () => {
    const { page } = await browser('counsellor', { width: 1280, height: 900 });
    await login(page, server.base, server.accounts.counsellor);
    await page.goto(`${server.base}/contacts/new`);
    // a case of their own, through the API with the session cookie
    const csrf = await page.locator('input[name=_csrf]').first().getAttribute('value');
    const made = await page.evaluate(async (csrf) => {
      const r = await fetch('/api/v1/cases', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ title: 'Preuves e2e', categories: ['cyber_harassment'], age_band: '11_14' }) });
      return { status: r.status, body: await r.json() };
    }, csrf);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    caseId = made.body.id;
    await page.goto(`${server.base}/cases/${caseId}`);
    await page.locator('#evidence details summary').first().click();
    await page.selectOption('#ev-kind', 'screenshot');
    await page.fill('#ev-description', 'capture du message');
    await page.setInputFiles('#ev-file', screenshotFile);
    await Promise.all([page.waitForURL(/done=evidence/), page.click('#evidence form[enctype="multipart/form-data"] button[type=submit]')]);
    const img = page.locator('#ev-1 img');
    await img.waitFor();
    const loaded = await img.evaluate((el) => el.complete && el.naturalWidth);
    assert.equal(loaded, 640);
    await assertAccessible(page, 'case page with evidence');
    await page.screenshot({ path: path.join(ARTIFACTS, 'evidence-case-1280.png'), fullPage: true });
  });

  step('the fingerprints of a picture are computed in the browser and only they are sent', async () => {
    const page = current;
    const bodies = [];
    page.on('request', (r) => { const b = r.postDataBuffer(); if (b) bodies.push(b); });
    await page.locator('#evidence details', { hasText: /empreintes/i }).last().locator('summary').click();
    await page.setInputFiles('#fp-file', secretPicture);
    await page.waitForFunction(() => document.querySelector('#fp-sha256')?.value.length === 64);
    assert.equal(await page.inputValue('#fp-sha256'), secretSha);
    assert.equal((await page.inputValue('#fp-pdq')).length, 64);
    await Promise.all([page.waitForURL(/done=evidence/), page.click('form.fingerprint-form button[type=submit]')]);
    for (const b of bodies) assert.ok(b.indexOf(PNG_SIGNATURE) < 0, 'a request carried a picture');
    const text = await textOf(page.locator('#ev-2'));
    assert.match(text, /empreintes seulement/);
    assert.ok((await page.content()).includes(secretSha));
  });

  step('the complaint document for the police, in English, from the case page\'s form', async () => {
    const page = current;
    await page.check('.complaint-form input[value=police]');
    await page.selectOption('#complaint-lang', 'en');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('.complaint-form button[type=submit]'),
    ]);
    assert.match(download.suggestedFilename(), /^complaint-.+-police\.pdf$/);
    const file = path.join(tmp, 'complaint.pdf');
    await download.saveAs(file);
    const pdf = await fsp.readFile(file);
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.ok(pdf.length > 10_000, `a PDF of ${pdf.length} bytes`);
  });

  step('a referral to Pharos with consent, sent by e-mail from the case page, lands in the demo mailbox', async () => {
    const page = current;
    await page.goto(`${server.base}/cases/${caseId}#referrals`);
    await page.selectOption('#ref-service', 'pharos');
    await Promise.all([page.waitForURL(/done=referral/), page.click('#referrals form[action$="/referrals"] button[type=submit]')]);
    await page.locator('#ref-1 details', { hasText: /consentement/i }).locator('summary').click();
    await page.selectOption('#ref-basis-1', 'guardian');
    await page.fill('#ref-by-1', 'sa mère');
    await page.fill('#ref-scope-1', 'signalement à Pharos');
    await Promise.all([page.waitForURL(/done=referral/), page.click('#ref-1 form[action$="/basis"] button[type=submit]')]);
    await page.locator('#ref-1 details', { hasText: /transmission/i }).locator('summary').click();
    await page.check('#ref-1 input[name=evidence] >> nth=1');
    await page.fill('#ref-to-1', 'signalement@pharos.example');
    await page.selectOption('#ref-how-1', 'email');
    await page.check('#ref-1 input[name=by_email]');
    await Promise.all([page.waitForURL(/done=referral/), page.click('#ref-1 form[action$="/transmission"] button[type=submit]')]);
    await assertAccessible(page, 'case page with a referral sent by e-mail');
    const mailDir = path.join(tmp, 'data', 'mail');
    const deadline = Date.now() + 15_000;
    while (!fs.existsSync(path.join(mailDir, '0001.eml')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const eml = await fsp.readFile(path.join(mailDir, '0001.eml'), 'latin1');
    assert.match(eml, /^To: signalement@pharos\.example/m);
    assert.ok(eml.includes(secretSha) || eml.replace(/=\r\n/g, '').includes(secretSha), 'the fingerprint is in the mail');
    assert.ok(!/Content-Type: image\//i.test(eml), 'no image in the mail');
    await page.reload();
    assert.equal(await page.locator('#ref-1 .referral-mail').getAttribute('data-state'), 'sent');
  });

  step('the counsellor gives the follow-up code and secret, shown once', async () => {
    const page = current;
    await Promise.all([page.waitForLoadState('load'), page.click('#followup form[action$="/follow-up"] button')]);
    code = (await page.textContent('#fu-code')).trim();
    secret = (await page.textContent('#fu-secret')).trim();
    assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    assert.match(secret, /^([0-9A-Z]{4}-){3}[0-9A-Z]{4}$/);
    await assertAccessible(page, 'case page with a follow-up code just given');
  });

  step('on a 360 px phone the young person opens the page, in French and in English', async () => {
    const { page } = await browser('phone', { width: 360, height: 740 });
    await page.goto(`${server.base}/follow-up`);
    await assertAccessible(page, 'follow-up code form (fr)');
    await assertNoSidewaysScroll(page, 360, 'follow-up code form');
    await page.fill('#fu-code', code.toLowerCase());
    await page.fill('#fu-secret', secret.replace(/-/g, ' '));
    await Promise.all([page.waitForURL(`${server.base}/follow-up`), page.click('#fu-open')]);
    await page.locator('#fu-state').waitFor();
    assert.match(await textOf(page.locator('#fu-state')), /bien reçue/);
    await assertAccessible(page, 'follow-up page (fr)');
    await assertNoSidewaysScroll(page, 360, 'follow-up page (fr)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'followup-360-fr.png'), fullPage: true });
    await Promise.all([page.waitForURL(/follow-up/), page.click('#lang-switch')]);
    assert.match(await textOf(page.locator('#fu-state')), /has been received/);
    await assertAccessible(page, 'follow-up page (en)');
    await assertNoSidewaysScroll(page, 360, 'follow-up page (en)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'followup-360-en.png'), fullPage: true });
    await Promise.all([page.waitForURL(/follow-up/), page.click('#lang-switch')]);
  });

  step('the young person writes and sends only a picture\'s fingerprint', async () => {
    const page = current;
    const bodies = [];
    page.on('request', (r) => { const b = r.postDataBuffer(); if (b) bodies.push(b); });
    await page.fill('#fu-body', 'Il a recommencé hier soir.');
    await Promise.all([page.waitForURL(/done=sent/), page.click('#fu-send')]);
    assert.match(await textOf(page.locator('#fu-thread')), /recommencé hier soir/);
    await page.click('#fu-fingerprint summary');
    await page.setInputFiles('#fu-fp-file', secretPicture);
    await page.waitForFunction(() => !document.querySelector('#fu-fp-send').disabled);
    await page.fill('#fu-fp-url', 'https://www.instagram.com/p/abc/');
    await Promise.all([page.waitForURL(/done=fingerprint/), page.click('#fu-fp-send')]);
    for (const b of bodies) assert.ok(b.indexOf(PNG_SIGNATURE) < 0, 'a request carried the picture');
    await assertAccessible(page, 'follow-up page after sending');
    await assertNoSidewaysScroll(page, 360, 'follow-up page after sending');
  });

  step('quick exit leaves for the neutral site and closes the page', async () => {
    const page = current;
    await Promise.all([page.waitForURL(NEUTRAL), page.click('#quick-exit')]);
    await page.goto(`${server.base}/follow-up`);
    await page.locator('#fu-secret').waitFor();
    assert.equal(await page.locator('#fu-state').count(), 0);
  });

  step('hashing in the worker: a 12 MP photo at 4× CPU throttling, and a 48 MP one (reported)', async () => {
    const { ctx, page } = await browser('throttled', { width: 360, height: 740 });
    const big = path.join(tmp, 'photo-12mp.png');
    await fsp.writeFile(big, png(4000, 3000, 3));
    const huge = path.join(tmp, 'photo-48mp.png');
    await fsp.writeFile(huge, png(8000, 6000, 5));
    const noisy = path.join(tmp, 'photo-12mp-noisy.png');
    const noisyBytes = png(4000, 3000, 7, 48);
    await fsp.writeFile(noisy, noisyBytes);
    // the photos are served to the page by the test (same origin), not passed through the protocol
    await ctx.route(`${server.base}/__e2e/**`, async (route) => {
      const name = new URL(route.request().url()).pathname.split('/').pop();
      route.fulfill({ contentType: 'image/png', body: await fsp.readFile(path.join(tmp, name)) });
    });
    const cdp = await ctx.newCDPSession(page);
    const hashOnce = async (file) => {
      await page.goto(`${server.base}/follow-up`);
      return page.evaluate(async (name) => {
        const blob = await (await fetch(`/__e2e/${name}`)).blob();
        const file = new File([blob], name, { type: 'image/png' });
        const w = new Worker('/assets/hash-worker.js', { type: 'module' });
        // the page stays responsive meanwhile: the longest gap between timer ticks
        let last = performance.now();
        let longest = 0;
        const tick = setInterval(() => { const now = performance.now(); longest = Math.max(longest, now - last); last = now; }, 50);
        const started = performance.now();
        const r = await new Promise((resolve) => { w.onmessage = (e) => resolve(e.data); w.postMessage({ id: 1, file }); });
        clearInterval(tick);
        w.terminate();
        return { ...r, pageMs: performance.now() - started, longestTickGapMs: Math.round(longest) };
      }, path.basename(file));
    };
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    const cold = await hashOnce(big);
    assert.ok(cold.ok, cold.error);
    measures.push({ what: '12 MP PNG, fresh worker, 4× CPU throttling asked of the page (CDP; a dedicated worker may run unthrottled)', ms: Math.round(cold.ms), longestTickGapMs: cold.longestTickGapMs, wasmBytes: cold.wasmBytes, bytesPerPixel: cold.wasmBytes ? +(cold.wasmBytes / 12e6).toFixed(1) : null });
    // the same module on a page's main thread, where the throttling surely applies: a test page
    // served here (no CSP of its own) loads /assets/pdq.js, fresh, then warm
    await ctx.route(`${server.base}/__e2e-bench.html`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: '<!doctype html><html lang="en"><title>bench</title><h1>bench</h1></html>' }));
    await page.goto(`${server.base}/__e2e-bench.html`);
    const mainThread = await page.evaluate(async (name) => {
      const { hashFile } = await import('/assets/pdq.js');
      const blob = await (await fetch(`/__e2e/${name}`)).blob();
      const file = new File([blob], name, { type: 'image/png' });
      const t0 = performance.now();
      const a = await hashFile(file);
      const cold = performance.now() - t0;
      const t1 = performance.now();
      await hashFile(file);
      const warm = performance.now() - t1;
      return { pdq: a.pdq, cold, warm };
    }, path.basename(big));
    assert.equal(mainThread.pdq, cold.pdq, 'the same fingerprint on the main thread and in the worker');
    measures.push({ what: '12 MP PNG, the same module on the main thread, 4× CPU throttling (CDP)', fileBytes: (await fsp.stat(big)).size, coldMs: Math.round(mainThread.cold), warmMs: Math.round(mainThread.warm) });
    // a photo's worth of detail: the PNG is about 3 bytes per pixel, and the module holds it
    await page.goto(`${server.base}/__e2e-bench.html`);
    const noisyMain = await page.evaluate(async (name) => {
      const { hashFile, loadPdq } = await import('/assets/pdq.js');
      const blob = await (await fetch(`/__e2e/${name}`)).blob();
      const file = new File([blob], name, { type: 'image/png' });
      const t0 = performance.now();
      const a = await hashFile(file);
      const ms = performance.now() - t0;
      const wasm = await loadPdq();
      return { pdq: a.pdq, ms, wasmBytes: wasm.memory.buffer.byteLength };
    }, path.basename(noisy));
    measures.push({ what: '12 MP noisy PNG (a photo\'s detail), fresh page, main thread, 4× CPU throttling (CDP)', fileBytes: noisyBytes.length, coldMs: Math.round(noisyMain.ms), wasmBytes: noisyMain.wasmBytes, bytesPerPixel: +(noisyMain.wasmBytes / 12e6).toFixed(1) });
    // a phone's photo is a JPEG: the browser encodes the noisy picture as one (quality 0.9),
    // then, in a page that has not loaded the module yet, decodes and hashes it
    await page.goto(`${server.base}/__e2e-bench.html`);
    const jpeg = await page.evaluate(async (name) => {
      const png = await (await fetch(`/__e2e/${name}`)).blob();
      const bitmap = await createImageBitmap(png);
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      canvas.getContext('2d').drawImage(bitmap, 0, 0);
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
      const file = new File([blob], 'photo.jpg', { type: 'image/jpeg' });
      const { hashFile, loadPdq } = await import('/assets/pdq.js');
      const t0 = performance.now();
      const a = await hashFile(file);
      const ms = performance.now() - t0;
      const wasm = await loadPdq();
      return { ok: a.pdq.length === 64, decoder: a.decoder, fileBytes: blob.size, ms, wasmBytes: wasm.memory.buffer.byteLength };
    }, path.basename(noisy));
    assert.ok(jpeg.ok);
    measures.push({ what: '12 MP JPEG (q 0.9), fresh page, main thread, 4× CPU throttling (CDP)', decoder: jpeg.decoder, fileBytes: jpeg.fileBytes, coldMs: Math.round(jpeg.ms), wasmBytes: jpeg.wasmBytes, wasmBytesPerPixel: +(jpeg.wasmBytes / 12e6).toFixed(2) });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    const large = await hashOnce(huge);
    measures.push({ what: '48 MP PNG, not throttled, fresh worker', ok: large.ok, longestTickGapMs: large.longestTickGapMs, error: large.error || null, ms: large.ok ? Math.round(large.ms) : null, wasmBytes: large.wasmBytes || null });
  });
});

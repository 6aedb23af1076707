// Browser test, in Debian's Chromium on a 360 px phone: a notice to a platform from the case
// page to the platform's decision. A counsellor opens a case of intimate images (four eyes)
// with a Snapchat item, drafts the notice, marks it ready; a psychologist of the same team
// validates it in another browser; the counsellor sends it. The counsellor's actions from the
// case page to a sent notice are counted (a figure of the notices' issue: at most 4). The demo's
// Snapchat simulator (ROOST Coop) decides "removed" about 20 s later and calls back signed:
// the notice, the case timeline, /notices and /platforms/snapchat say so, in French and in
// English, accessible and without sideways scroll.
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
  unlabelledControls,
  assertNoSidewaysScroll,
  assertAccessible,
  withScreenshot,
  login,
  textOf,
} from './lib.mjs';

const PHONE = { width: 360, height: 740 };
// The simulator decides about 20 s after taking the notice; the delivery worker and the
// callback add a few seconds. Bounded wait for the decision to show.
const DECISION_TIMEOUT_MS = Number(process.env.REMPART_DECISION_MS || 120_000);
const MAX_ACTIONS = 4;

describe('Rempart notices to platforms in Chromium', () => {
  let tmp;
  let server;
  let counsellor; // { ctx, page }
  let second; // the psychologist, another browser
  let failed = false;
  const state = { casePath: null, noticeId: null, actions: 0, sentAfterMs: null, decidedAfterMs: null };

  /** A step: skipped once an earlier one failed; a screenshot of `pageOf()` when it fails. */
  function step(name, fn, pageOf = () => counsellor?.page) {
    it(name, async (t) => {
      if (failed) {
        t.skip('an earlier step failed');
        return;
      }
      try {
        await withScreenshot(pageOf(), name, fn);
      } catch (e) {
        failed = true;
        throw e;
      }
    });
  }

  /** Submits a form by clicking its button and waits for the page that answers the POST. */
  async function submit(page, locator) {
    await locator.waitFor();
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
  }

  /** One action of the counsellor, counted. */
  async function counted(page, what, fn) {
    state.actions += 1;
    console.log(`counsellor action ${state.actions}: ${what}`);
    await fn();
  }

  const notice = (page) => page.locator(`#notice-${state.noticeId}`);

  before(async () => {
    assert.ok(fs.existsSync(REMPART_BIN), `rempart binary not found at ${REMPART_BIN}: build it with \`cargo build -p rempart\` or set REMPART_BIN`);
    assert.ok(fs.existsSync(CHROMIUM_BIN), `Chromium not found at ${CHROMIUM_BIN}: apt-get install -y chromium`);
    await fsp.mkdir(ARTIFACTS, { recursive: true });
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-notices-e2e-'));
    server = await startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'notices-server.log'));
    for (const role of ['counsellor', 'psychologist']) {
      assert.ok(server.accounts[role], `no "demo account: ${role} …" line on stdout`);
    }
    counsellor = await openContext(path.join(tmp, 'counsellor'), PHONE);
    second = await openContext(path.join(tmp, 'psychologist'), PHONE);
  });

  after(async () => {
    await counsellor?.ctx.close().catch(() => {});
    await second?.ctx.close().catch(() => {});
    await stopServer(server?.child);
    server?.log.end();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  step('a counsellor logs a contact opening a case of intimate images and adds a Snapchat account', async () => {
    const { page } = counsellor;
    await login(page, server.base, server.accounts.counsellor);
    await page.goto(`${server.base}/contacts/new`);
    await page.selectOption('#channel', 'phone').catch(() => {}); // the first channel otherwise
    await page.check('input[name=category][value=intimate_images]');
    await page.fill('#summary', 'Une élève dit qu\'un compte Snapchat diffuse des photos intimes d\'elle.');
    await page.check('input[name=open_case]');
    await page.fill('#title', 'Photos intimes diffusées sur Snapchat');
    await page.check('input[name=consent][value=notice_to_platform]');
    await submit(page, page.locator('main form[action="/contacts"] button[type=submit]'));
    const url = new URL(page.url());
    assert.match(url.pathname, /^\/cases\/[^/]+$/, 'the new case opens');
    state.casePath = url.pathname;

    await page.click('#h-items ~ details > summary');
    await page.selectOption('#platform', 'snapchat');
    await page.fill('#url', 'https://www.snapchat.com/add/compte_diffuseur');
    await page.fill('#native_id', 'compte_diffuseur');
    await submit(page, page.locator(`form[action="${state.casePath}/items"] button[type=submit]`));
    assert.match(await textOf(page.locator('ul.items')), /Snapchat/, 'the item is listed');
    assert.equal(await page.locator('#propose-notices').count(), 1, 'the case offers to notify the platforms');
  });

  step(`from the case page to a sent notice in at most ${MAX_ACTIONS} counsellor actions, validated by a second staff member`, async () => {
    const { page } = counsellor;
    const t0 = Date.now();
    await counted(page, 'Signaler aux plateformes', () => submit(page, page.locator('#propose-notices')));
    const articles = page.locator('#notices article.notice');
    assert.equal(await articles.count(), 1, 'one notice: one platform');
    state.noticeId = (await articles.first().getAttribute('id')).replace(/^notice-/, '');
    assert.match(await textOf(notice(page).locator('h3')), /Snapchat/, 'the notice is to Snapchat');
    assert.match(await textOf(notice(page).locator('.meta').first()), /validation par un second écoutant/, 'intimate images need four eyes');
    assert.equal(await notice(page).locator('p.error').count(), 0, 'nothing missing from the draft');

    await counted(page, 'Marquer prêt à l\'envoi', () => submit(page, notice(page).locator('button.ready-notice')));
    assert.match(await textOf(notice(page)), /En attente de la validation d'un second écoutant/, 'it awaits the second counsellor');
    assert.equal(await notice(page).locator('button.validate-notice').count(), 0, 'not validated by the one who prepared it');
    assert.equal(await notice(page).locator('button.send-notice').count(), 0, 'not sendable before validation');

    await withScreenshot(second.page, 'psychologist validates', async () => {
      const p = second.page;
      await login(p, server.base, server.accounts.psychologist);
      await p.goto(`${server.base}${state.casePath}`);
      await submit(p, notice(p).locator('button.validate-notice'));
      assert.equal(await notice(p).locator('button.validate-notice').count(), 0, 'validated once');
    });

    await counted(page, 'reopen the case page (validated by the second counsellor)', () => page.reload({ waitUntil: 'load' }));
    await counted(page, 'Envoyer', () => submit(page, notice(page).locator('button.send-notice')));
    state.sentAfterMs = Date.now() - t0;
    assert.equal(await notice(page).locator('button.send-notice').count(), 0, 'sent once');
    console.log(`counsellor actions from the case page to a sent notice: ${state.actions} (second staff member: 1 validation), ${state.sentAfterMs} ms`);
    assert.ok(state.actions <= MAX_ACTIONS, `${state.actions} counsellor actions (at most ${MAX_ACTIONS})`);
  });

  step('the Snapchat simulator decides "removed" and calls back: the notice and the timeline say so', async () => {
    const { page } = counsellor;
    const t0 = Date.now();
    const decision = page.locator(`#decision-${state.noticeId}`);
    // Poll the case page until the decision shows, within a bound.
    for (;;) {
      await page.goto(`${server.base}${state.casePath}`);
      if ((await decision.count()) > 0) break;
      assert.ok(Date.now() - t0 < DECISION_TIMEOUT_MS, `no decision on the notice within ${DECISION_TIMEOUT_MS} ms: ${await textOf(notice(page))}`);
      await page.waitForTimeout(1000);
    }
    state.decidedAfterMs = Date.now() - t0;
    console.log(`decision shown ${state.decidedAfterMs} ms after sending`);
    const d = await textOf(decision);
    assert.match(d, /Décision : contenu retiré/, `removed: ${d}`);
    assert.match(d, /délai de retrait : \d+ (s|min)/, `time to removal: ${d}`);
    assert.match(await textOf(notice(page).locator('h3')), /retiré/, 'the notice\'s state');
    const meta = await textOf(notice(page).locator('p.meta').nth(1));
    assert.match(meta, /coop/i, `the channel: ${meta}`);
    assert.match(meta, /1 tentative\(s\)/, `one attempt: ${meta}`);
    assert.match(meta, /N° de ticket \S+/, `the ticket: ${meta}`);
    const timeline = await textOf(page.locator('ol.timeline'));
    for (const words of ['signalement envoyé', 'signalement reçu par la plateforme', 'décision de la plateforme']) {
      assert.ok(timeline.includes(words), `the timeline says "${words}": ${timeline}`);
    }
  });

  step('the case page with its notice fits a phone and is accessible', async () => {
    const { page } = counsellor;
    assert.deepEqual(await unlabelledControls(page), [], 'every control has a label');
    await assertNoSidewaysScroll(page, PHONE.width, `${state.casePath} with a decided notice`);
    await assertAccessible(page, 'case page with a decided notice');
  });

  step('/notices lists it as removed; the late view answers; both fit a phone and are accessible', async () => {
    const { page } = counsellor;
    await page.goto(`${server.base}/notices`);
    const row = page.locator(`#notices #notice-${state.noticeId}`);
    assert.equal(await row.count(), 1, 'the notice is listed');
    const text = await textOf(row);
    assert.match(text, /Snapchat/, text);
    assert.match(text, /retiré/, `removed: ${text}`);
    assert.deepEqual(await unlabelledControls(page), [], '/notices: every control has a label');
    await assertNoSidewaysScroll(page, PHONE.width, '/notices');
    await assertAccessible(page, '/notices');

    await Promise.all([page.waitForURL((u) => u.searchParams.get('late') === '1'), page.click('#late-tab')]);
    assert.equal(await page.locator(`#notices #notice-${state.noticeId}`).count(), 0, 'a decided notice is not late');
    assert.deepEqual(await unlabelledControls(page), [], '/notices?late=1: every control has a label');
    await assertNoSidewaysScroll(page, PHONE.width, '/notices?late=1');
    await assertAccessible(page, '/notices?late=1');
  });

  step('/platforms/snapchat counts the notice with a time to removal, in French then in English', async () => {
    const { page } = counsellor;
    await page.goto(`${server.base}/notices`);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/platforms/snapchat'),
      page.click(`#notice-${state.noticeId} a[href="/platforms/snapchat"]`),
    ]);
    const removal = page.locator('#figures tr#followup-to-removal');
    const cells = await removal.locator('td').allTextContents();
    assert.equal(cells[0].trim(), 'jusqu\'au retrait');
    assert.ok(Number(cells[1]) >= 1, `1+ notices counted to removal: ${cells.join(' | ')}`);
    assert.match(cells[2], /\d/, `a median time to removal: ${cells.join(' | ')}`);
    const decision = await removal.page().locator('#figures tr#followup-to-decision td').allTextContents();
    assert.ok(Number(decision[1]) >= 1, `1+ notices counted to decision: ${decision.join(' | ')}`);
    await assertNoSidewaysScroll(page, PHONE.width, '/platforms/snapchat');
    await assertAccessible(page, '/platforms/snapchat');

    assert.equal(await textOf(page.locator('#lang-switch')), 'English');
    await Promise.all([page.waitForURL((u) => u.pathname === '/platforms/snapchat'), page.click('#lang-switch')]);
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'English now');
    const en = await removal.locator('td').allTextContents();
    assert.equal(en[0].trim(), 'to removal');
    assert.ok(Number(en[1]) >= 1, `counted in English too: ${en.join(' | ')}`);
    await assertNoSidewaysScroll(page, PHONE.width, '/platforms/snapchat (en)');
    await assertAccessible(page, '/platforms/snapchat (en)');

    await page.goto(`${server.base}${state.casePath}`);
    const d = await textOf(page.locator(`#decision-${state.noticeId}`));
    assert.match(d, /Decision: content removed/, `the decision in English: ${d}`);
    await assertNoSidewaysScroll(page, PHONE.width, 'case page (en)');
    await assertAccessible(page, 'case page with a decided notice (en)');
    await Promise.all([page.waitForURL((u) => u.pathname === state.casePath), page.click('#lang-switch')]);
    assert.equal(await page.getAttribute('html', 'lang'), 'fr', 'French again');
  });
});

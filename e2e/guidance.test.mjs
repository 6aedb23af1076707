// Browser test, in Debian's Chromium on a 360 px phone: guidance. A counsellor opens a case of
// sextortion with an Instagram account, finds its "Conduite à tenir" checklist (the Instagram
// step in it, the other platforms' apart), ticks "don't pay" — the tick shows, and the
// timeline says it in words — then unticks it; the services directory finds the 3020 with
// "harcelement" as with "Harcèlement"; a supervisor's playbooks editor shows a mistake inside
// the form. Every page accessible (axe-core), tap targets of the checklist at least 44×44 px,
// no sideways scroll; screenshots in e2e/artifacts.
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

describe('Rempart guidance (playbooks, services) in Chromium', () => {
  let tmp;
  let server;
  let counsellor; // { ctx, page }
  let supervisor;
  let failed = false;
  const state = { casePath: null };

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

  async function shot(page, name) {
    await page.screenshot({ path: path.join(ARTIFACTS, `guidance-${name}.png`), fullPage: true });
  }

  before(async () => {
    assert.ok(fs.existsSync(REMPART_BIN), `rempart binary not found at ${REMPART_BIN}: build it with \`cargo build -p rempart\` or set REMPART_BIN`);
    assert.ok(fs.existsSync(CHROMIUM_BIN), `Chromium not found at ${CHROMIUM_BIN}: apt-get install -y chromium`);
    await fsp.mkdir(ARTIFACTS, { recursive: true });
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'rempart-guidance-e2e-'));
    server = await startServer(path.join(tmp, 'data'), path.join(ARTIFACTS, 'guidance-server.log'));
    for (const role of ['counsellor', 'supervisor']) {
      assert.ok(server.accounts[role], `no "demo account: ${role} …" line on stdout`);
    }
    counsellor = await openContext(path.join(tmp, 'counsellor'), PHONE);
    supervisor = await openContext(path.join(tmp, 'supervisor'), PHONE);
  });

  after(async () => {
    await counsellor?.ctx.close().catch(() => {});
    await supervisor?.ctx.close().catch(() => {});
    await stopServer(server?.child);
    server?.log.end();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  step('a counsellor opens a case of sextortion with an Instagram account', async () => {
    const { page } = counsellor;
    await login(page, server.base, server.accounts.counsellor);
    await page.goto(`${server.base}/contacts/new`);
    await page.check('input[name=category][value=sextortion]');
    await page.fill('#summary', 'Un garçon de 15 ans dit qu\'un compte Instagram le fait chanter avec une vidéo.');
    await page.check('input[name=open_case]');
    await page.fill('#title', 'Chantage à la vidéo sur Instagram');
    await submit(page, page.locator('main form[action="/contacts"] button[type=submit]'));
    const url = new URL(page.url());
    assert.match(url.pathname, /^\/cases\/[^/]+$/, 'the new case opens');
    state.casePath = url.pathname;
    await page.click('#h-items ~ details > summary');
    await page.selectOption('#platform', 'instagram');
    await page.fill('#native_id', 'maitre_chanteur');
    await submit(page, page.locator(`form[action="${state.casePath}/items"] button[type=submit]`));
  });

  step('the case page has its checklist: the Instagram step in it, the other platforms apart', async () => {
    const { page } = counsellor;
    const card = page.locator('#pb-sextortion');
    assert.equal(await card.count(), 1, 'a "Conduite à tenir" card for sextortion');
    assert.match(await textOf(card.locator('h2')), /Conduite à tenir · Sextorsion/);
    assert.match(await textOf(page.locator('#progress-sextortion')), /^0 étape\(s\) faite\(s\) sur \d+$/);
    const insta = card.locator('> ul.checklist #step-sextortion-instagram_private');
    assert.equal(await insta.count(), 1, 'the Instagram step is in the main list');
    assert.equal(await card.locator('details.other-platforms #step-sextortion-snapchat_report').count(), 1, 'Snapchat\'s apart');
    assert.equal(await card.locator('details.other-platforms').getAttribute('open'), null, 'closed by default');
  });

  step('ticking "don\'t pay" at 360 px: the tick shows and the timeline says it in words; unticked again', async () => {
    const { page } = counsellor;
    const button = page.locator('#step-sextortion-do_not_pay button.tick-button');
    const box = await button.boundingBox();
    assert.ok(box && box.width >= 44 && box.height >= 44, `tap target ${JSON.stringify(box)}`);
    assert.equal(await button.getAttribute('aria-pressed'), 'false');
    await submit(page, button);
    assert.match(new URL(page.url()).hash, /^#pb-sextortion$/, 'back on the card');
    assert.match(await textOf(page.locator('p.ok[role=status]')), /Étape marquée comme faite/);
    const ticked = page.locator('#step-sextortion-do_not_pay button.tick-button');
    assert.equal(await ticked.getAttribute('aria-pressed'), 'true');
    assert.match(await textOf(page.locator('#step-sextortion-do_not_pay')), /Faite par /);
    assert.match(await textOf(page.locator('#progress-sextortion')), /^1 étape\(s\) faite\(s\)/);
    const timeline = await textOf(page.locator('ol.timeline'));
    assert.ok(timeline.includes('Étape faite : « Conseiller de ne pas payer'), `the timeline: ${timeline}`);
    await shot(page, 'case-ticked');
    assert.deepEqual(await unlabelledControls(page), [], 'every control has a label');
    await assertNoSidewaysScroll(page, PHONE.width, `${state.casePath} with its checklist`);
    await assertAccessible(page, 'case page with a playbook checklist');

    await submit(page, page.locator('#step-sextortion-do_not_pay button.tick-button'));
    assert.equal(await page.locator('#step-sextortion-do_not_pay button.tick-button').getAttribute('aria-pressed'), 'false');
    assert.ok((await textOf(page.locator('ol.timeline'))).includes('Étape remise à faire'), 'the untick is in the timeline');
  });

  step('the services directory finds the 3020 with or without accents, and fits a phone', async () => {
    const { page } = counsellor;
    // from the case page's search
    await page.fill('#case-services-q', 'harcelement');
    await submit(page, page.locator('form.search-services button[type=submit]'));
    assert.equal(new URL(page.url()).pathname, '/services');
    assert.equal(await page.locator('#service-non_au_harcelement_3020').count(), 1, 'harcelement finds the 3020');
    await page.fill('#q', 'Harcèlement');
    await submit(page, page.locator('#services-search button[type=submit]'));
    assert.equal(await page.locator('#service-non_au_harcelement_3020').count(), 1, 'Harcèlement finds it too');
    assert.match(await textOf(page.locator('#services-count')), /service/);
    await page.fill('#q', '');
    await page.selectOption('#kind', 'lawyer');
    await page.selectOption('#region', 'ile_de_france');
    await submit(page, page.locator('#services-search button[type=submit]'));
    assert.equal(await page.locator('#service-lawyer_paris_minors').count(), 1, 'the Paris desk');
    assert.equal(await page.locator('#service-lawyer_lyon_minors').count(), 0, 'not Lyon\'s');
    await page.goto(`${server.base}/services`);
    const tel = page.locator('#service-france_victimes_116006 a.tel');
    assert.equal(await tel.getAttribute('href'), 'tel:116006');
    await shot(page, 'services');
    assert.deepEqual(await unlabelledControls(page), [], '/services: every control has a label');
    await assertNoSidewaysScroll(page, PHONE.width, '/services');
    await assertAccessible(page, '/services');
  });

  step('a supervisor\'s playbooks editor shows a mistake inside the form, as typed', async () => {
    const { page } = supervisor;
    await login(page, server.base, server.accounts.supervisor);
    await page.goto(`${server.base}/playbooks`);
    assert.match(await textOf(page.locator('#playbooks-version')), /Textes par défaut/);
    await page.fill('#document', '[[playbook]]\ncategory = "piratage"\nfr = "P"\nen = "P"\n');
    await submit(page, page.locator('#playbooks-save'));
    assert.match(await textOf(page.locator('#playbooks-error')), /Catégorie inconnue « piratage »/);
    assert.match(await page.locator('#document').inputValue(), /category = "piratage"/, 'kept as typed');
    assert.equal(await page.locator('#document').getAttribute('aria-invalid'), 'true');
    await shot(page, 'playbooks-error');
    assert.deepEqual(await unlabelledControls(page), [], '/playbooks: every control has a label');
    await assertNoSidewaysScroll(page, PHONE.width, '/playbooks');
    await assertAccessible(page, '/playbooks with a mistake');
  }, () => supervisor?.page);
});

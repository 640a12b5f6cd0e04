/**
 * The Studies screen over a synthetic archive of 300 series (test/helpers/synthetic-archive.ts) in
 * Chromium against the bridge: one page of 50 rows at a time (never every series in the DOM), next
 * and previous pages, and server-side filters (text, modality, run state, review state) whose counts
 * match what was written; rows show RTSTRUCTs and results. Then the template derive form reads the
 * structures of a label map (OpenKBP, names from oar_names.json) and derives the two picked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startBridge } from '../../electron/bridge/server.js';
import { createEngineService } from '../../electron/engine/service.js';
import { ENGINE_ARCHIVE } from '../../electron/engine/service-ports.js';
import { openDatabase } from '../../electron/engine/store/db.js';
import { dataDir } from '../helpers/data.js';
import { writeSyntheticArchive } from '../helpers/synthetic-archive.js';
import { buildRenderer, CHROMIUM, CHROMIUM_ARGS, chromiumMissing, SKIP_FIRST_RUN } from './harness.js';

test('Studies screen: paged server-side search with filters over 300 series; derive form reads structure names', { timeout: 180_000 }, async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'delineate-e2e-studies-'));
  const dbPath = join(dir, 'db.sqlite');
  const db = openDatabase(dbPath);
  const { facts } = writeSyntheticArchive(db, 300);
  db.close();
  const staticDir = buildRenderer();
  const service = createEngineService({ dbPath, archive: ENGINE_ARCHIVE });
  const bridge = await startBridge({ service, staticDir });
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 } });
  t.after(async () => {
    await context.close();
    await bridge.close();
    service.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(staticDir, { recursive: true, force: true });
  });
  await context.addInitScript(SKIP_FIRST_RUN);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(bridge.url);

  const pager = page.locator('[data-role="pager"]');
  await page.waitForSelector('[data-role="pager"][data-total="300"]');
  assert.equal(await page.locator('tr[data-series]').count(), 50, 'one page of 50 rows, not 300');
  const first = await page.locator('tr[data-series]').first().getAttribute('data-series');
  await page.click('[data-action="next-page"]');
  await page.waitForSelector('[data-role="pager"][data-offset="50"]');
  assert.equal(await page.locator('tr[data-series]').count(), 50);
  assert.notEqual(await page.locator('tr[data-series]').first().getAttribute('data-series'), first, 'the next page shows other series');

  const expectTotal = async (n: number, what: string): Promise<void> => {
    await page.waitForSelector(`[data-role="pager"][data-total="${n}"], p.empty`, { timeout: 10_000 });
    assert.equal(Number(await pager.getAttribute('data-total')), n, what);
    assert.equal(await pager.getAttribute('data-offset'), '0', `${what}: a new search starts on the first page`);
    assert.ok((await page.locator('tr[data-series]').count()) <= 50);
  };
  await page.selectOption('select[name="search-modality"]', 'MR');
  await expectTotal(facts.filter((f) => f.modality === 'MR').length, 'modality MR');
  await page.selectOption('select[name="search-modality"]', '');
  await page.selectOption('select[name="search-review"]', 'pending');
  await expectTotal(facts.filter((f) => f.review === 'pending').length, 'review pending');
  const row = page.locator('tr[data-series]').first();
  assert.match((await row.locator('[data-role="results"]').textContent()) ?? '', /3 pending/);
  await page.selectOption('select[name="search-review"]', '');
  await page.selectOption('select[name="search-run"]', 'failed');
  await expectTotal(facts.filter((f) => f.run === 'failed').length, 'run failed');
  await page.selectOption('select[name="search-run"]', '');
  await page.fill('input[name="search-text"]', 'SYN00007');
  await expectTotal(4, 'patient id');
  const withRs = facts.filter((f) => f.patientId === 'SYN00007' && f.rtstruct).length;
  assert.equal(await page.locator('tr[data-series] [data-role="rtstructs"]:has-text("RTSTRUCT")').count(), withRs, 'RTSTRUCTs are shown');

  // The template derive form offers the structures of the chosen label map, named from the file beside it.
  const kbp = join(dataDir(), 'openkbp');
  if (!existsSync(kbp)) {
    t.diagnostic(`${kbp} absent: the derive-form check is skipped`);
  } else {
    const ct = (await service.importPaths({ paths: [join(kbp, 'pt_4_ct.nii.gz')] })).series[0]!;
    await page.click('[data-tab="templates"]');
    await page.fill('input[name="derive-set"]', 'hn');
    await page.selectOption('select[name="derive-series"]', ct.seriesUid);
    await page.fill('input[name="derive-path"]', join(kbp, 'pt_4_oar_labels.nii.gz'));
    await page.click('[data-action="read-structures"]');
    await page.waitForSelector('[data-role="offered"][data-kind="labels"]');
    assert.equal(await page.inputValue('input[name="label-1"]'), 'Brainstem', 'names from oar_names.json');
    // Derive only two of them.
    const picks = page.locator('[data-role="offered"] .pick');
    for (let i = 0; i < (await picks.count()); i++) {
      const name = await picks.nth(i).locator('input[name^="label-"]').inputValue();
      if (name !== 'Brainstem' && name !== 'SpinalCord') await picks.nth(i).locator('input[type="checkbox"]').uncheck();
    }
    await page.click('[data-action="derive"]');
    await page.waitForSelector('p.ok:has-text("derived")', { timeout: 60_000 });
    const set = (await service.listTemplateSets({})).sets.find((x) => x.name === 'hn');
    assert.deepEqual(set?.structures.map((x) => x.name).sort(), ['Brainstem', 'SpinalCord']);
  }
  assert.deepEqual(errors, []);
});

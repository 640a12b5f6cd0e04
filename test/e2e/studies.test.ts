/**
 * The Studies screen over a synthetic archive of 300 series (test/helpers/synthetic-archive.ts) in
 * Chromium against the bridge: one page of 50 rows at a time (never every series in the DOM), next
 * and previous pages, and server-side filters (text, modality, run state, review state) whose counts
 * match what was written; rows show RTSTRUCTs and results.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startBridge } from '../../electron/bridge/server.js';
import { createEngineService } from '../../electron/engine/service.js';
import { ENGINE_ARCHIVE } from '../../electron/engine/service-ports.js';
import { openDatabase } from '../../electron/engine/store/db.js';
import { writeSyntheticArchive } from '../helpers/synthetic-archive.js';
import { buildRenderer, CHROMIUM, CHROMIUM_ARGS, chromiumMissing, SKIP_FIRST_RUN } from './harness.js';

test('Studies screen: paged server-side search with filters over 300 series', { timeout: 180_000 }, async (t) => {
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
  assert.deepEqual(errors, []);
});

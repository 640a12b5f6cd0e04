/**
 * The review workflow end to end in Chromium against the bridge (issue 7's acceptance): two phantom
 * series and a template set built from the phantom's known organs (test/integration/jobs/archive.ts),
 * a run started from the Runs / Review tab with the weight-free atlas backend, progress reaching done,
 * the review of one series (results overlaid on the MPR views), one structure approved and another
 * rejected, one approved across both series, and the export: the RTSTRUCT holds only the approved
 * structure. Needs no models and no ../shared data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readRtstruct } from '../../electron/engine/rtstruct/read.js';
import { TEMPLATE_SET } from '../integration/jobs/archive.js';
import { chromiumMissing } from './harness.js';
import { openReviewHarness } from './review-harness.js';

test('run two series from the UI, watch progress, review, approve one structure and reject another, export approved only', { timeout: 240_000 }, async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const { dir, archive, service, page, pageErrors } = await openReviewHarness(t, 'delineate-e2e-review-', 2);

  const [a, b] = archive.series as [string, string];
  await page.click('[data-tab="runs"]');
  await page.waitForSelector(`input[data-series="${a}"]`);
  assert.equal(await page.locator(`input[data-series="${archive.templateSeries}"]`).count(), 0, 'the template series is not offered');
  await page.selectOption('select[name="run-set"]', TEMPLATE_SET);
  await page.check(`input[data-series="${a}"]`);
  await page.check(`input[data-series="${b}"]`);
  await page.click('[data-action="start-run"]');

  const run = page.locator('.run[data-status="done"]');
  await run.waitFor({ timeout: 90_000 });
  const bar = run.locator('progress[data-role="run-progress"]');
  assert.equal(await bar.getAttribute('max'), '2');
  assert.equal(await bar.evaluate((el) => (el as unknown as { value: number }).value), 2, 'the run progress bar reached done');
  for (const uid of [a, b]) assert.equal(await run.locator(`li[data-item="${uid}"]`).getAttribute('data-status'), 'done');

  await run.locator(`li[data-item="${a}"] [data-action="review"]`).click();
  await page.waitForSelector(`[data-role="review"][data-series="${a}"] tr[data-structure]`);
  const structures = await page.locator('tr[data-structure]').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { structure: string } }).dataset.structure));
  assert.equal(structures.length, 3, `three structures to review: ${structures.join(', ')}`);
  const [approve, reject, acrossSeries] = structures as [string, string, string];
  // The stored results are shown on the MPR views (a labelmap of every structure with a mask).
  await page.waitForSelector(`body[data-mpr-ready="${a}"]`, { state: 'attached', timeout: 60_000 });
  await page.waitForSelector(`body[data-labelmap-ready="${a}"]`, { state: 'attached', timeout: 30_000 });
  await page.waitForSelector(`tr[data-structure="${approve}"] [data-role="visible"]`, { timeout: 30_000 });

  await page.fill('input[name="reviewer"]', 'J. Doe');
  await page.click(`tr[data-structure="${approve}"] [data-action="approve"]`);
  await page.waitForSelector(`tr[data-structure="${approve}"][data-state="approved"]`);
  await page.click(`tr[data-structure="${reject}"] [data-action="reject"]`);
  await page.waitForSelector(`tr[data-structure="${reject}"][data-state="rejected"]`);
  // Batch approval on both series of the run, then back to rejected on this one: only `approve` is exported here.
  await page.click(`tr[data-structure="${acrossSeries}"] [data-action="approve-all"]`);
  await page.waitForSelector(`tr[data-structure="${acrossSeries}"][data-state="approved"]`);
  const onB = (await service.getReview({ seriesUid: b, templateSet: TEMPLATE_SET })).structures.find((s) => s.structure === acrossSeries);
  assert.equal(onB?.state, 'approved', 'batch approval reached the other series');
  assert.equal(onB?.reviewer, 'J. Doe');
  await page.click(`tr[data-structure="${acrossSeries}"] [data-action="reject"]`);
  await page.waitForSelector(`tr[data-structure="${acrossSeries}"][data-state="rejected"]`);

  const out = join(dir, 'approved.dcm');
  await page.fill('input[name="export-path"]', out);
  await page.click('[data-action="export"]');
  await page.waitForSelector('[data-role="export-result"]', { timeout: 30_000 });
  assert.deepEqual(readRtstruct(out).structures.map((s) => s.name), [approve], 'the RTSTRUCT holds only the approved structure');

  // A reference in the archive (the export, imported back): the metrics table appears in the review.
  await service.importPaths({ paths: [out] });
  await run.locator(`li[data-item="${b}"] [data-action="review"]`).click();
  await page.waitForSelector(`[data-role="review"][data-series="${b}"]`);
  await run.locator(`li[data-item="${a}"] [data-action="review"]`).click();
  const dice = page.locator(`[data-role="metrics"] tr[data-metrics="${approve}"] [data-metric="dice"]`);
  await dice.waitFor({ timeout: 30_000 });
  assert.ok(Number(await dice.textContent()) > 0.9, 'Dice of the structure against its own export');
  // The views of the series reopened in the review rendered (a second viewer of the same series).
  await page.waitForSelector(`body[data-mpr-ready="${a}"]`, { state: 'attached', timeout: 60_000 });
  assert.equal(await page.locator('[data-role="review"] [data-role="error"]').count(), 0, 'the viewer in the review shows no error');
  if (process.env.DELINEATE_SCREENSHOT) await page.screenshot({ path: process.env.DELINEATE_SCREENSHOT });
  assert.deepEqual(pageErrors, []);
});

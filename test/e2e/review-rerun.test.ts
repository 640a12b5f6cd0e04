/**
 * Re-running a structure from the review screen in Chromium against the bridge: after an atlas run on
 * one phantom series, the reviewer approves a structure, opens its Re-run editor (prefilled with the
 * stored box), moves the box's minimum along L and re-runs: the row goes back to pending with the
 * 'edited' flag, and the stored box is the edited one. Needs no models and no ../shared data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TEMPLATE_SET } from '../integration/jobs/archive.js';
import { chromiumMissing } from './harness.js';
import { openReviewHarness } from './review-harness.js';

test('re-run one structure from the review screen with an edited box', { timeout: 240_000 }, async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const { archive, service, page, pageErrors } = await openReviewHarness(t, 'delineate-e2e-rerun-', 1);

  const [a] = archive.series as [string];
  await page.click('[data-tab="runs"]');
  await page.waitForSelector(`input[data-series="${a}"]`);
  await page.selectOption('select[name="run-set"]', TEMPLATE_SET);
  await page.check(`input[data-series="${a}"]`);
  await page.click('[data-action="start-run"]');
  const run = page.locator('.run[data-status="done"]');
  await run.waitFor({ timeout: 90_000 });
  await run.locator(`li[data-item="${a}"] [data-action="review"]`).click();
  await page.waitForSelector(`[data-role="review"][data-series="${a}"] tr[data-structure]`);
  const structure = (await page.locator('tr[data-structure]').first().getAttribute('data-structure'))!;

  await page.fill('input[name="reviewer"]', 'J. Doe');
  await page.click(`tr[data-structure="${structure}"] [data-action="approve"]`);
  await page.waitForSelector(`tr[data-structure="${structure}"][data-state="approved"]`);
  const before = (await service.getReview({ seriesUid: a, templateSet: TEMPLATE_SET })).structures.find((s) => s.structure === structure)!;
  const [min, max] = before.boxes[0]!;

  await page.click(`tr[data-structure="${structure}"] [data-action="rerun"]`);
  const editor = page.locator(`[data-role="rerun"][data-structure="${structure}"]`);
  assert.equal(Number(await editor.locator('input[name="box-max-2"]').inputValue()), max[2], 'the editor is prefilled with the stored box');
  const newMin = min[0] + (max[0] - min[0]) / 3;
  await editor.locator('input[name="box-min-0"]').fill(String(newMin));
  await editor.locator('[data-action="rerun-go"]').click();
  await page.waitForSelector(`tr[data-structure="${structure}"][data-state="pending"]`, { timeout: 60_000 });
  await page.waitForSelector(`[data-role="rerun"]`, { state: 'detached' });
  assert.match((await page.locator(`tr[data-structure="${structure}"] .flags`).textContent()) ?? '', /edited/);
  const after = (await service.getReview({ seriesUid: a, templateSet: TEMPLATE_SET })).structures.find((s) => s.structure === structure)!;
  assert.deepEqual(after.boxes, [[[newMin, min[1], min[2]], max]]);
  assert.equal(await page.locator('[data-role="review-error"]').count(), 0);
  assert.deepEqual(pageErrors, []);
});

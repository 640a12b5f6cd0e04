/**
 * The first-run model setup screen in Chromium over the bridge: it opens by itself on first run when
 * no models are configured; with an empty models folder it names
 * the folder, shows CPU as the provider in use and explains what works without models and how to
 * get them; verifying a folder with the tiny SAM fixture lists each file as verified and MedSAM as
 * the segmentation backend; a corrupted copy names the bad file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRenderer, chromiumMissing, startApp } from './harness.js';

const samFixture = fileURLToPath(new URL('../fixtures/models/sam', import.meta.url));

test('model setup screen: no models, then a verified folder, then a corrupted file', { timeout: 180_000 }, async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const work = mkdtempSync(join(tmpdir(), 'delineate-models-e2e-'));
  const before = process.env.DELINEATE_MODELS;
  // The bridge's engine runs in this process: the app's models folder is this empty one.
  process.env.DELINEATE_MODELS = join(work, 'empty');
  const app = await startApp({ staticDir: buildRenderer(), firstRun: true });
  t.after(async () => {
    await app.close();
    if (before === undefined) delete process.env.DELINEATE_MODELS;
    else process.env.DELINEATE_MODELS = before;
    rmSync(work, { recursive: true, force: true });
  });
  const { page } = app;

  // First run with no models: the Models screen opens by itself (no click on its tab).
  await page.waitForSelector('[data-testid="no-models-help"]', { timeout: 30_000 });
  assert.match((await page.getAttribute('[data-tab="models"]', 'class')) ?? '', /\bactive\b/);
  assert.equal(await page.textContent('[data-testid="models-dir"]'), join(work, 'empty'));
  assert.match((await page.textContent('[data-testid="providers"]')) ?? '', /CPU — in use/);
  assert.match((await page.textContent('[data-testid="backends"]')) ?? '', /Localization: atlas[\s\S]*Segmentation: atlas/);
  assert.match((await page.textContent('[data-testid="no-models-help"]')) ?? '', /medsam_vit_b\.pth/);

  const dir = join(work, 'sam');
  cpSync(samFixture, dir, { recursive: true });
  await page.fill('input[name="models-path"]', dir);
  await page.click('section[data-screen="models"] button[type="submit"]');
  await page.waitForSelector('[data-testid="model-files"]', { timeout: 30_000 });
  const rows = await page.$$eval('[data-testid="model-files"] tbody tr', (trs) => trs.map((tr) => (tr as unknown as { textContent: string }).textContent));
  assert.equal(rows.length, 2);
  assert.ok(rows.every((r) => r.includes('verified')), JSON.stringify(rows));
  assert.match((await page.textContent('[data-testid="backends"]')) ?? '', /Segmentation: MedSAM/);
  assert.equal(await page.$('[data-testid="no-models-help"]'), null);

  const bytes = readFileSync(join(dir, 'tiny_sam_decoder.onnx'));
  bytes[100] = bytes[100]! ^ 0xff;
  writeFileSync(join(dir, 'tiny_sam_decoder.onnx'), bytes);
  await page.click('section[data-screen="models"] button[type="submit"]');
  await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector('[data-testid="model-files"] tr.bad') !== null, undefined, { timeout: 30_000 });
  const bad = await page.textContent('[data-testid="model-files"] tr.bad');
  assert.match(bad ?? '', /tiny_sam_decoder\.onnx[\s\S]*sha256/);
  assert.deepEqual(app.pageErrors, []);
});

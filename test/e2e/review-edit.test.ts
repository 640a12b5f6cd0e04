/**
 * Contour editing in the review screen, end to end in Chromium against the bridge (issue 16's
 * acceptance), on the phantom archive with results seeded in the database (no run needed), and the
 * brush check again on real CT (../shared/data/4dlung, skipped with a message when absent):
 * - a brush stroke of known radius on a known axial slice changes the stored mask by exactly the
 *   voxels whose centres lie within the radius on that slice (tolerance: voxels whose centre lies
 *   within 0.5 mm of the circle may go either way; none elsewhere may change);
 * - undo restores the mask exactly (saved again, it equals the first revision voxel for voxel);
 * - a structure drawn from scratch on two slices four apart, interpolated, fills the slices between;
 * - the RTSTRUCT exported from the edited results, rasterised independently with pydicom, holds the edit;
 * - wheel scrolls one slice per notch, right drag zooms, middle drag pans, zoom to structure centres it;
 * - keyboard review: Shift+N opens the next series needing review, A approves three structures;
 * - screenshots of the editing tools are written next to the test's output when DELINEATE_SCREENSHOT_DIR is set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { getSeriesGeometry } from '../../electron/engine/store/archive.js';
import { openDatabase } from '../../electron/engine/store/db.js';
import { createOrFindRun } from '../../electron/engine/jobs/runs.js';
import { exportResultsRtstruct } from '../../electron/engine/rtstruct/export.js';
import { getResultMask, getResults, upsertLocalization, upsertSegmentation } from '../../electron/engine/store/results.js';
import { patientToVoxel, voxelToPatient, type Vec3 } from '../../electron/engine/volume/geometry.js';
import { TEMPLATE_SET } from '../integration/jobs/archive.js';
import { dataDir } from '../helpers/data.js';
import { chromiumMissing } from './harness.js';
import { openReviewHarness } from './review-harness.js';

const PYTHON = '/usr/bin/python3';
const RASTERISE = new URL('./rasterise_rtstruct.py', import.meta.url).pathname;

/** The LPS position under the mouse, from the viewer's cursor readout. */
async function cursorAt(page: Page, view: string, x: number, y: number): Promise<Vec3> {
  const box = (await page.locator(`[data-view="${view}"]`).boundingBox())!;
  await page.mouse.move(box.x + x, box.y + y);
  await page.mouse.move(box.x + x + 0.01, box.y + y);
  const text = (await page.locator('[data-role="cursor"]').textContent()) ?? '';
  const m = /LPS (-?[\d.]+), (-?[\d.]+), (-?[\d.]+) mm/.exec(text);
  assert.ok(m, `cursor readout: ${text}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

async function click(page: Page, view: string, x: number, y: number): Promise<void> {
  const box = (await page.locator(`[data-view="${view}"]`).boundingBox())!;
  await page.mouse.move(box.x + x, box.y + y);
  await page.mouse.down();
  await page.mouse.up();
  await page.waitForTimeout(650); // Cornerstone waits ~400 ms for a double click (NOTES.md)
}

/** A drag with pauses, so Cornerstone sees a drag rather than a click (NOTES.md: double-click delay). */
async function drag(page: Page, x: number, y: number, dx: number, dy: number, button: 'left' | 'right' | 'middle'): Promise<void> {
  await page.mouse.move(x, y);
  await page.mouse.down({ button });
  for (let s = 1; s <= 10; s++) {
    await page.mouse.move(x + (dx * s) / 10, y + (dy * s) / 10);
    await page.waitForTimeout(20);
  }
  await page.mouse.up({ button });
  await page.waitForTimeout(200);
}

type Blocks = Record<string, [number, number, number, number, number, number]>;
const PHANTOM_BLOCKS: Blocks = { Liver: [8, 20, 8, 20, 4, 14], SpinalCanal: [22, 26, 26, 30, 2, 18], Lung_L: [26, 34, 8, 18, 6, 16] };

/** Stored results (voxel blocks [i0, i1, j0, j1, k0, k1)) on the series and a finished run over them. */
function seed(dbFile: string, series: string[], blocks: Blocks = PHANTOM_BLOCKS): void {
  const db = openDatabase(dbFile);
  try {
    for (const uid of series) {
      const g = getSeriesGeometry(db, uid);
      const [nx, ny, nz] = g.dims;
      for (const [name, [i0, i1, j0, j1, k0, k1]] of Object.entries(blocks)) {
        const mask = new Uint8Array(nx * ny * nz);
        for (let k = k0; k < k1; k++) for (let j = j0; j < j1; j++) for (let i = i0; i < i1; i++) mask[i + nx * (j + ny * k)] = 1;
        const voxels = mask.reduce((a, b) => a + b, 0);
        const box = { min: voxelToPatient(g, [i0, j0, k0]), max: voxelToPatient(g, [i1 - 1, j1 - 1, k1 - 1]) };
        upsertLocalization(db, { seriesUid: uid, templateSet: TEMPLATE_SET, localizer: 'atlas', mode: 'wpl', models: [], structures: [{ name, boxes: [box], extremePoints: [], confidence: 0.8, flags: [] }] });
        upsertSegmentation(db, { seriesUid: uid, templateSet: TEMPLATE_SET, segmenter: 'atlas', models: [], structures: [{ name, mask, voxels, volumeCc: voxels * 0.15 }] });
      }
    }
    const { run } = createOrFindRun(db, { templateSet: TEMPLATE_SET, series, createdBy: 'test' });
    db.prepare(`UPDATE run_items SET status = 'done' WHERE run_id = ?`).run(run.id);
    db.prepare(`UPDATE runs SET status = 'done' WHERE id = ?`).run(run.id);
  } finally {
    db.close();
  }
}

test('edit contours in the review screen: brush, undo, interpolation, export; scroll, zoom, pan; keyboard review', { timeout: 300_000 }, async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const { dir, archive, service, page, pageErrors } = await openReviewHarness(t, 'delineate-e2e-edit-', 2);
  const [a, b] = archive.series as [string, string];
  seed(archive.dbFile, [a, b]);
  const db = openDatabase(archive.dbFile);
  t.after(() => db.close());
  const g = getSeriesGeometry(db, a);
  const [nx, ny, nz] = g.dims;
  const stored = (name: string): Uint8Array => getResultMask(db, getResults(db, a, TEMPLATE_SET).find((r) => r.structure === name)!.id)!;
  const shots = process.env.DELINEATE_SCREENSHOT_DIR;

  await page.click('[data-tab="runs"]');
  await page.locator(`li[data-item="${a}"] [data-action="review"]`).click();
  await page.waitForSelector(`body[data-labelmap-ready="${a}"]`, { state: 'attached', timeout: 60_000 });
  await page.fill('input[name="reviewer"]', 'J. Doe');

  // --- scroll, zoom, pan (axial view) ---
  const vbox = (await page.locator('[data-view="axial"]').boundingBox())!;
  const cx = vbox.width / 2;
  const cy = vbox.height / 2;
  const p0 = await cursorAt(page, 'axial', cx, cy);
  await page.mouse.wheel(0, 100);
  await page.waitForTimeout(200);
  const p1 = await cursorAt(page, 'axial', cx, cy);
  assert.ok(Math.abs(Math.abs(p1[2] - p0[2]) - g.spacing[2]) < 0.01, `one wheel notch moves one slice (${p0[2]} -> ${p1[2]})`);
  assert.ok(Math.abs(p1[0] - p0[0]) < 0.01 && Math.abs(p1[1] - p0[1]) < 0.01, 'scrolling keeps the in-plane position');
  await page.mouse.wheel(0, -100);
  await page.waitForTimeout(200);
  const width = async (): Promise<number> => {
    const l = await cursorAt(page, 'axial', cx - 50, cy);
    const r = await cursorAt(page, 'axial', cx + 50, cy);
    return Math.hypot(r[0] - l[0], r[1] - l[1]);
  };
  const before = await width();
  // Away from the crosshairs' lines, which take any button's drag for themselves.
  await drag(page, vbox.x + cx - 90, vbox.y + cy - 70, 0, 60, 'right');
  const zoomed = await width();
  assert.ok(Math.abs(zoomed - before) / before > 0.1, `right drag zooms: 100 px span ${before.toFixed(1)} mm -> ${zoomed.toFixed(1)} mm`);
  const q0 = await cursorAt(page, 'axial', cx - 90, cy - 70);
  await drag(page, vbox.x + cx - 90, vbox.y + cy - 70, 40, 30, 'middle');
  const q1 = await cursorAt(page, 'axial', cx - 50, cy - 40);
  assert.ok(Math.hypot(q1[0] - q0[0], q1[1] - q0[1]) < 1, `middle drag pans: the point under the mouse follows it (${q0} vs ${q1})`);

  // --- brush stroke of known radius on a known slice ---
  await page.click('tr[data-structure="Liver"] [data-action="edit"]');
  await page.waitForSelector('[data-role="edit-tools"][data-structure="Liver"]');
  const radius = 12;
  await page.fill('input[name="brush-radius"]', String(radius));
  await page.click('[data-tool="brush"]');
  const original = stored('Liver');
  // Zoom to the structure: centred in every view, its extent filling about two thirds.
  await page.click('tr[data-structure="Liver"] [data-action="zoom"]');
  await page.waitForTimeout(300);
  const vb2 = (await page.locator('[data-view="axial"]').boundingBox())!;
  const mid = await cursorAt(page, 'axial', vb2.width / 2, vb2.height / 2);
  const liverCentre = voxelToPatient(g, [14, 14, 9]);
  assert.ok(Math.hypot(mid[0] - liverCentre[0], mid[1] - liverCentre[1], mid[2] - liverCentre[2]) < 1, `zoom to structure centres it on its middle voxel: ${mid} vs ${liverCentre}`);
  if (shots) await page.screenshot({ path: join(shots, 'edit-zoomed.png') });
  // A point at the Liver block's right edge: part of the disc is new, part already inside.
  const liverEdge = voxelToPatient(g, [20, 14, 9]);
  // Find the canvas point over it: search the view (the cursor readout is exact, NOTES.md).
  const [ex, ey] = [vb2.width / 2, vb2.height / 2];
  const c0 = await cursorAt(page, 'axial', ex, ey);
  const c1 = await cursorAt(page, 'axial', ex + 10, ey + 10);
  const mmPerPx = [(c1[0] - c0[0]) / 10, (c1[1] - c0[1]) / 10];
  const target = { x: ex + (liverEdge[0] - c0[0]) / mmPerPx[0]!, y: ey + (liverEdge[1] - c0[1]) / mmPerPx[1]! };
  const scrollTo = async (k: number, x: number, y: number): Promise<void> => {
    for (let n = 0; n < 2 * nz; n++) {
      const at = Math.round(patientToVoxel(g, await cursorAt(page, 'axial', x, y))[2]);
      if (at === k) return;
      // One notch: +100 moved by (p1 - p0) along z, measured above.
      const up = (k - at) * g.direction[8] * g.spacing[2] > 0;
      await page.mouse.wheel(0, up === p1[2] - p0[2] > 0 ? 100 : -100);
      await page.waitForTimeout(300);
    }
  };
  await scrollTo(9, target.x, target.y);
  const centre = await cursorAt(page, 'axial', target.x, target.y);
  const kc = patientToVoxel(g, centre)[2];
  assert.ok(Math.abs(kc - 9) < 1e-3, `on slice 9: ${kc} (${centre})`);
  await click(page, 'axial', target.x, target.y);
  if (shots) await page.screenshot({ path: join(shots, 'edit-brush.png') });
  await page.click('[data-action="save-edit"]');
  await page.waitForSelector('[data-role="edit-message"]:has-text("saved revision 2")');
  const brushed = stored('Liver');
  let mustMiss = 0;
  let outside = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const idx = i + nx * (j + ny * k);
    const p = voxelToPatient(g, [i, j, k]);
    const d = Math.hypot(p[0] - centre[0], p[1] - centre[1]);
    const expected = original[idx] || (k === 9 && d <= radius);
    if (brushed[idx] === (expected ? 1 : 0)) continue;
    if (k === 9 && Math.abs(d - radius) < 0.5) continue; // rasterisation tolerance
    if (expected) mustMiss++;
    else outside++;
  }
  assert.equal(mustMiss, 0, 'every voxel centre inside the brush circle was painted');
  assert.equal(outside, 0, 'nothing outside the brush circle on slice 9 changed');
  const added = brushed.reduce((s, v, i) => s + (v && !original[i] ? 1 : 0), 0);
  assert.ok(added > 0, 'the stroke added voxels');
  const review = await service.getReview({ seriesUid: a, templateSet: TEMPLATE_SET });
  assert.equal(review.structures.find((s) => s.structure === 'Liver')?.revision, 2);

  // --- undo restores exactly ---
  await page.keyboard.press('Control+z');
  await page.click('[data-action="save-edit"]');
  await page.waitForSelector('[data-role="edit-message"]:has-text("saved revision 3")');
  assert.deepEqual(stored('Liver'), original, 'undo restored the first revision voxel for voxel');
  await page.keyboard.press('Control+y');
  await page.click('[data-action="save-edit"]');
  await page.waitForSelector('[data-role="edit-message"]:has-text("saved revision 4")');
  assert.deepEqual(stored('Liver'), brushed, 'redo restored the stroke');
  await page.click('[data-action="close-edit"]');

  // --- a new structure on two slices, interpolated ---
  await page.fill('input[name="new-structure"]', 'GTV_Test');
  await page.click('[data-action="draw-new"]');
  await page.waitForSelector('[data-role="edit-tools"][data-structure="GTV_Test"]');
  await page.fill('input[name="brush-radius"]', '8');
  // Beside the Liver, inside the zoomed view.
  const gtv = voxelToPatient(g, [24, 16, 9]);
  const gx = ex + (gtv[0] - c0[0]) / mmPerPx[0]!;
  const gy = ey + (gtv[1] - c0[1]) / mmPerPx[1]!;
  await click(page, 'axial', gx, gy);
  await scrollTo(13, gx, gy);
  const k2 = patientToVoxel(g, await cursorAt(page, 'axial', gx, gy))[2];
  assert.ok(Math.abs(k2 - 13) < 1e-3, `four slices on: ${k2}`);
  await click(page, 'axial', gx, gy);
  await page.selectOption('select[name="interp-view"]', 'axial');
  await page.click('[data-action="interpolate"]');
  await page.waitForSelector('[data-role="edit-message"]:has-text("interpolated 3 slices")');
  if (shots) await page.screenshot({ path: join(shots, 'edit-interpolated.png') });
  await page.click('[data-action="save-edit"]');
  await page.waitForSelector('[data-role="edit-message"]:has-text("saved revision 1")');
  const gm = stored('GTV_Test');
  const perSlice = Array.from({ length: nz }, (_, k) => gm.subarray(k * nx * ny, (k + 1) * nx * ny).reduce((s, v) => s + v, 0));
  assert.deepEqual(perSlice.map((n, k) => (n > 0 ? k : -1)).filter((k) => k >= 0), [9, 10, 11, 12, 13], `slices filled: ${perSlice.join(',')}`);
  for (const k of [10, 11, 12]) assert.equal(perSlice[k], perSlice[9], `slice ${k} interpolates two equal discs to the same disc`);
  await page.waitForSelector('tr[data-structure="GTV_Test"][data-state="pending"]');

  // --- the exported RTSTRUCT, rasterised independently with pydicom, holds the edit ---
  for (const s of ['Liver', 'GTV_Test']) await service.reviewStructures({ seriesUids: [a], templateSet: TEMPLATE_SET, structure: s, state: 'approved', reviewer: 'J. Doe' });
  const out = join(dir, 'edited.dcm');
  exportResultsRtstruct(db, a, out, { templateSet: TEMPLATE_SET, approvedOnly: true });
  if (!existsSync(PYTHON)) {
    t.diagnostic(`${PYTHON} absent: RTSTRUCT rasterisation with pydicom skipped`);
  } else {
    const r = spawnSync(PYTHON, [RASTERISE, out, 'Liver', JSON.stringify(g)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const raster = Uint8Array.from(JSON.parse(r.stdout) as number[]);
    let agree = 0;
    let addedInside = 0;
    for (let i = 0; i < raster.length; i++) {
      if (raster[i] === brushed[i]) agree++;
      if (brushed[i] && !original[i] && raster[i]) addedInside++;
    }
    assert.equal(addedInside, added, 'every voxel the brush added is inside the exported contours');
    assert.ok(agree / raster.length > 0.999, `the rasterised export matches the stored mask (${agree}/${raster.length})`);
  }
  if (shots) await page.screenshot({ path: join(shots, 'edit-tools.png') });

  // --- keyboard review: next series needing review, three approvals, and back, with keys only ---
  await page.click('[data-action="close-edit"]');
  await page.locator('[data-role="shortcuts"]').click();
  await page.keyboard.press('Shift+N');
  await page.waitForSelector(`[data-role="review"][data-series="${b}"] tr[data-structure][data-selected="true"]`);
  await page.waitForSelector(`body[data-labelmap-ready="${b}"]`, { state: 'attached', timeout: 60_000 });
  for (let n = 0; n < 3; n++) {
    await page.keyboard.press('a');
    await page.waitForTimeout(300);
  }
  for (const s of ['Liver', 'Lung_L', 'SpinalCanal']) await page.waitForSelector(`tr[data-structure="${s}"][data-state="approved"]`);
  const onB = await service.getReview({ seriesUid: b, templateSet: TEMPLATE_SET });
  assert.deepEqual(onB.structures.map((s) => [s.structure, s.state, s.reviewer]), [['Liver', 'approved', 'J. Doe'], ['Lung_L', 'approved', 'J. Doe'], ['SpinalCanal', 'approved', 'J. Doe']]);
  // Series a still has pending structures (Lung_L, SpinalCanal): the next one needing review.
  await page.keyboard.press('Shift+N');
  await page.waitForSelector(`[data-role="review"][data-series="${a}"]`);

  // --- real CT (../shared/data/4dlung, 512x512x99): the same brush check ---
  const realDir = join(dataDir(), '4dlung', 'ct');
  if (!existsSync(realDir)) {
    t.diagnostic(`real CT absent (${realDir}): the real-CT brush check is skipped`);
  } else {
    const uid = (await service.importPaths({ paths: [realDir] })).series[0]!.seriesUid;
    seed(archive.dbFile, [uid], { Heart: [200, 300, 200, 300, 40, 60] });
    const rg = getSeriesGeometry(db, uid);
    const n = rg.dims[0] * rg.dims[1];
    const heart = (): Uint8Array => getResultMask(db, getResults(db, uid, TEMPLATE_SET).find((r) => r.structure === 'Heart')!.id)!;
    await page.reload();
    await page.click('[data-tab="runs"]');
    await page.locator(`li[data-item="${uid}"] [data-action="review"]`).first().click();
    await page.waitForSelector(`body[data-labelmap-ready="${uid}"]`, { state: 'attached', timeout: 120_000 });
    await page.fill('input[name="reviewer"]', 'J. Doe');
    await page.click('tr[data-structure="Heart"] [data-action="edit"]');
    await page.waitForSelector('[data-role="edit-tools"][data-structure="Heart"]');
    const r = 10;
    await page.fill('input[name="brush-radius"]', String(r));
    await page.click('tr[data-structure="Heart"] [data-action="zoom"]');
    await page.waitForTimeout(500);
    const vb = (await page.locator('[data-view="axial"]').boundingBox())!;
    const m0 = await cursorAt(page, 'axial', vb.width / 2, vb.height / 2);
    const m1 = await cursorAt(page, 'axial', vb.width / 2 + 10, vb.height / 2 + 10);
    const k = Math.round(patientToVoxel(rg, m0)[2]);
    assert.equal(k, 50, 'zoom to structure shows its middle slice');
    const edge = voxelToPatient(rg, [300, 250, k]);
    const tx = vb.width / 2 + ((edge[0] - m0[0]) * 10) / (m1[0] - m0[0]);
    const ty = vb.height / 2 + ((edge[1] - m0[1]) * 10) / (m1[1] - m0[1]);
    const c = await cursorAt(page, 'axial', tx, ty);
    const before = heart();
    await click(page, 'axial', tx, ty);
    await page.click('[data-action="save-edit"]');
    await page.waitForSelector('[data-role="edit-message"]:has-text("saved revision 2"), [data-role="edit-error"]', { timeout: 60_000 });
    assert.equal(await page.locator('[data-role="edit-error"]').count(), 0, (await page.locator('[data-role="edit-error"]').first().textContent().catch(() => '')) ?? '');
    const after = heart();
    let miss = 0;
    let extra = 0;
    for (let idx = 0; idx < after.length; idx++) {
      const kk = Math.floor(idx / n);
      let expected = before[idx] === 1;
      let d = Infinity;
      if (kk === k) {
        const p = voxelToPatient(rg, [idx % rg.dims[0], Math.floor(idx / rg.dims[0]) % rg.dims[1], k]);
        d = Math.hypot(p[0] - c[0], p[1] - c[1]);
        expected ||= d <= r;
      }
      if ((after[idx] === 1) === expected || Math.abs(d - r) < 0.5) continue;
      if (expected) miss++;
      else extra++;
    }
    assert.equal(miss, 0, 'real CT: every voxel centre inside the brush circle was painted');
    assert.equal(extra, 0, 'real CT: nothing outside the brush circle changed');
    assert.ok(after.some((v, idx) => v && !before[idx]), 'real CT: the stroke added voxels');
    if (shots) await page.screenshot({ path: join(shots, 'edit-real-ct.png') });
  }
  assert.deepEqual(pageErrors, []);
});

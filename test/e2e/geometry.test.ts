/**
 * The viewer honours the direction matrix: on a phantom rotated 200 degrees in-plane, the pixel drawn at a canvas position, the LPS position the
 * cursor readout reports there (Cornerstone's canvasToWorld) and the HU the engine's voxels hold there
 * all agree with the phantom's analytic organs. Passing the engine's row-major direction to
 * Cornerstone untransposed turns the image against the coordinates, and this test fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Vec3 } from '../../electron/api.js';
import { writePhantomSeries, type PhantomOrgan } from '../fixtures/phantom/phantom.js';
import { buildRenderer, chromiumMissing, importThroughUi, openSeries, pngGrey, startApp } from './harness.js';

function radius(o: PhantomOrgan, p: Vec3): number {
  return Math.sqrt([0, 1, 2].reduce((acc, a) => acc + ((p[a]! - o.centreLps[a]!) / o.radiiMm[a]!) ** 2, 0));
}

test('oblique rotated phantom: pixels, cursor LPS and HU agree with the analytic geometry', { timeout: 180_000 }, async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'delineate-oblique-'));
  // A rotation by 200 degrees in the axial plane: rows run toward patient right, columns toward
  // anterior, and the matrix is not symmetric (a symmetric one equals its transpose and would hide
  // a transposition bug).
  const c = Math.cos((200 * Math.PI) / 180);
  const s = Math.sin((200 * Math.PI) / 180);
  const n = 80;
  const sp = 2.5;
  const fov = n * sp;
  // Centre of the grid is (0, 0, z0) whatever the orientation: origin chosen so.
  const rowCos: Vec3 = [c, s, 0];
  const colCos: Vec3 = [-s, c, 0];
  const slices = 24;
  const z0 = -100;
  const normal: Vec3 = [rowCos[1] * colCos[2] - rowCos[2] * colCos[1], rowCos[2] * colCos[0] - rowCos[0] * colCos[2], rowCos[0] * colCos[1] - rowCos[1] * colCos[0]];
  const origin: Vec3 = [0, 1, 2].map(
    (a) => (a === 2 ? z0 : 0) - (rowCos[a]! + colCos[a]!) * ((n - 1) / 2) * sp - normal[a]! * ((slices - 1) / 2) * 3,
  ) as Vec3;
  const centre: Vec3 = [0, 0, z0];
  const organs: PhantomOrgan[] = [
    { name: 'Body', centreLps: centre, radiiMm: [fov * 0.4, fov * 0.3, 200], hu: 20 },
    // Bright and asymmetric: patient left, anterior.
    { name: 'Marker', centreLps: [fov * 0.18, -fov * 0.12, z0], radiiMm: [fov * 0.1, fov * 0.1, 20], hu: 1000 },
  ];
  const ph = writePhantomSeries(dir, { columns: n, rows: n, slices, spacing: [sp, sp, 3], orientation: [...rowCos, ...colCos], origin, organs });
  const app = await startApp({ staticDir: buildRenderer() });
  t.after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { page } = app;
  await importThroughUi(page, dir);
  await openSeries(page, ph.seriesUid);
  const vp = page.locator('.vp[data-view="axial"]');
  const b = (await vp.boundingBox())!;
  const png = await vp.screenshot();

  const [body, marker] = organs as [PhantomOrgan, PhantomOrgan];
  let checked = 0;
  let inMarker = 0;
  const pts: { x: number; y: number; lps: Vec3; hu: number }[] = [];
  for (let gy = 1; gy < 12; gy++) {
    for (let gx = 1; gx < 12; gx++) {
      const x = b.width * (0.2 + 0.6 * (gx / 12));
      const y = b.height * (0.2 + 0.6 * (gy / 12));
      if (Math.abs(x - b.width / 2) < 4 || Math.abs(y - b.height / 2) < 4) continue; // crosshair lines
      await page.mouse.move(b.x + x, b.y + y);
      await page.waitForTimeout(20);
      const text = (await page.textContent('[data-role="cursor"]')) ?? '';
      const m = /LPS (-?[\d.]+), (-?[\d.]+), (-?[\d.]+) mm\s*(-?\d+) HU/.exec(text);
      if (!m) continue; // outside the volume
      pts.push({ x, y, lps: [Number(m[1]), Number(m[2]), Number(m[3])], hu: Number(m[4]) });
    }
  }
  const grey = await pngGrey(page, png, pts.map((p) => [p.x, p.y]));
  pts.forEach((p, i) => {
    const rb = radius(body, p.lps);
    const rm = radius(marker, p.lps);
    // Skip the boundary band, where nearest-voxel sampling may fall either side.
    if (Math.abs(rb - 1) < 0.1 || Math.abs(rm - 1) < 0.25) return;
    checked++;
    const expected = ph.huAt(p.lps);
    assert.equal(p.hu, expected, `HU under the cursor at LPS ${p.lps.join(',')}`);
    const g = grey[i]!;
    if (rm < 1) {
      inMarker++;
      assert.ok(g > 220, `marker pixel at ${p.x.toFixed(0)},${p.y.toFixed(0)} (LPS ${p.lps.join(',')}) should be white, is ${g}`);
    } else if (rb < 1) assert.ok(g > 70 && g < 160, `soft tissue pixel at LPS ${p.lps.join(',')} should be mid grey, is ${g}`);
    else assert.ok(g < 40, `air pixel at LPS ${p.lps.join(',')} should be dark, is ${g}`);
  });
  assert.ok(checked > 40 && inMarker >= 2, `enough samples (${checked}, ${inMarker} in the marker)`);
});

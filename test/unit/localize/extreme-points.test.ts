import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundsOf, extremePointsFromLabels, medianPixelOnSlice, referenceExtremePoints, referenceSplitExtremePoints, splitCount } from '../../../electron/engine/localize/extreme-points.js';
import type { LabelVolume } from '../../../electron/engine/volume/volume.js';

/** A C-order [4, 5, 6] mask from a list of voxels. */
function mask(voxels: [number, number, number][], shape: [number, number, number] = [4, 5, 6]): { shape: [number, number, number]; data: Uint8Array; value: number } {
  const data = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (const [a, b, c] of voxels) data[(a * shape[1] + b) * shape[2] + c] = 3;
  return { shape, data, value: 3 };
}

test('the in-plane point is the len//2-th pixel in C order of the slice with axes (a-2, a-1), not a centroid', () => {
  // Slice z=1 holds (y,x) = (0,0), (0,5), (4,5): the centroid would be off-mask; the rule takes (0,5).
  const m = mask([[1, 0, 0], [1, 0, 5], [1, 4, 5], [2, 2, 2]]);
  assert.deepEqual(medianPixelOnSlice(m, 0, 1), [1, 0, 5]);
  // For axis 1 the slice axes are (x, z): at y=0 the pixels (x,z) = (0,1), (5,1) -> element 1 is x=5.
  assert.deepEqual(medianPixelOnSlice(m, 1, 0), [1, 0, 5]);
  assert.equal(medianPixelOnSlice(m, 0, 3), undefined);
});

test('WPL rows are zmin, ymin, xmin, zmax, ymax, xmax', () => {
  const m = mask([[1, 0, 0], [1, 0, 5], [1, 4, 5], [2, 2, 2]]);
  const r = referenceExtremePoints(m)!;
  assert.deepEqual(r.map((p, i) => p[i % 3]), [1, 0, 0, 2, 4, 5]);
  assert.equal(referenceExtremePoints(mask([])), undefined);
  assert.deepEqual(boundsOf(m), { min: [1, 0, 0], max: [2, 4, 5] });
});

test('SPL split count and parts follow the reference (length max-min, last part reports zmax)', () => {
  assert.equal(splitCount([7, 11], 2), 3);
  assert.equal(splitCount([2, 11], 2), 0); // not longer than the interval: WPL
  assert.equal(splitCount([40], 2), 6);
  const vox: [number, number, number][] = [];
  for (let z = 0; z < 7; z++) vox.push([z, 2, z % 3]);
  const m = mask(vox, [8, 5, 6]);
  const r = referenceSplitExtremePoints(m, 3)!;
  assert.equal(r.length, 18);
  // step = 6 // 3 = 2: parts start at z 0, 2, 4; the last part reports zmax 6.
  assert.deepEqual([r[0]![0], r[6]![0], r[12]![0], r[15]![0]], [0, 2, 4, 6]);
});

test('extremePointsFromLabels returns LPS points in the stored slot order on a flipped grid', () => {
  // An LPI-like grid: i toward L (+x), j toward P (+y) reversed by a -1, k toward inferior.
  const dims: [number, number, number] = [6, 5, 4];
  const data = new Uint8Array(120);
  const set = (i: number, j: number, k: number): void => {
    data[i + 6 * (j + 5 * k)] = 2;
  };
  set(1, 1, 1);
  set(4, 1, 1);
  set(2, 3, 2);
  const labels: LabelVolume = { dims, spacing: [2, 3, 4], origin: [10, 20, 30], direction: [1, 0, 0, 0, -1, 0, 0, 0, -1], data };
  const p = extremePointsFromLabels(labels, 2)!;
  assert.equal(p.length, 6);
  assert.ok(p[0]![0] < p[1]![0], 'right before left (x increasing)');
  assert.ok(p[2]![1] < p[3]![1], 'anterior before posterior');
  assert.ok(p[4]![2] < p[5]![2], 'inferior before superior');
  assert.equal(p[0]![0], 12); // i = 1 -> x = 10 + 2
  assert.equal(p[1]![0], 18); // i = 4
  assert.equal(p[5]![2], 26); // k = 1 -> z = 30 - 4 (superior: the lower k)
  assert.equal(extremePointsFromLabels(labels, 9), undefined);
});

/**
 * The review screen's pure parts: undo / redo of labelmap edits and the grid geometry behind polygon
 * fill and zoom-to-structure (renderer/src/lib/viewer/edit-history.ts, geometry.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mat3, Vec3 } from '../../../electron/api.js';
import { EditHistory } from '../../../renderer/src/lib/viewer/edit-history.js';
import { insidePolygon, labelExtent, patientToVoxel, sliceAxis, voxelCentre } from '../../../renderer/src/lib/viewer/geometry.js';

test('undo and redo restore the labels exactly, and a new edit clears redo', () => {
  const h = new EditHistory();
  const base = Uint8Array.from([0, 0, 1, 1, 2, 0]);
  h.reset(base.slice());
  assert.equal(h.commit(base.slice()), false, 'no change is no step');
  const a = Uint8Array.from([1, 1, 1, 1, 2, 0]);
  assert.ok(h.commit(a.slice()));
  const b = Uint8Array.from([1, 1, 0, 0, 2, 2]);
  assert.ok(h.commit(b.slice()));
  assert.equal(h.steps, 2);
  assert.deepEqual(h.undo(b.slice()), a);
  assert.deepEqual(h.undo(a.slice()), base);
  assert.equal(h.undo(base.slice()), undefined);
  assert.ok(h.canRedo);
  assert.deepEqual(h.redo(base.slice()), a);
  const c = Uint8Array.from([3, 1, 1, 1, 2, 0]);
  assert.ok(h.commit(c.slice()));
  assert.equal(h.canRedo, false);
  assert.deepEqual(h.undo(c.slice()), a);
});

test('history keeps the newest 100 steps', () => {
  const h = new EditHistory();
  const labels = new Uint8Array(4);
  h.reset(labels.slice());
  for (let n = 1; n <= 120; n++) h.commit(Uint8Array.from([n, 0, 0, 0]));
  assert.equal(h.steps, 100);
  let cur: Uint8Array = Uint8Array.from([120, 0, 0, 0]);
  for (let n = 0; n < 100; n++) cur = h.undo(cur)!;
  assert.equal(cur[0], 20, 'the 20 oldest steps were dropped');
});

// A head-first-supine-like grid with a flipped, permuted direction: i -> -L, j -> S, k -> P.
const dir: Mat3 = [-1, 0, 0, 0, 0, 1, 0, 1, 0];
const grid = { dims: [4, 5, 6] as Vec3, spacing: [0.5, 2, 3] as Vec3, origin: [10, -20, 30] as Vec3, direction: dir };

test('voxel centres and patientToVoxel are inverse, and sliceAxis picks the axis along the view normal', () => {
  const p = voxelCentre(grid, 3, 2, 5);
  assert.deepEqual(p, [10 - 1.5, -20 + 15, 30 + 4]);
  assert.deepEqual(patientToVoxel(grid, p).map((x) => Math.round(x * 1e9) / 1e9), [3, 2, 5]);
  // A view looking along P (an axial-like normal for this grid) shows k slices.
  assert.deepEqual(sliceAxis(grid, [0, 1, 0], voxelCentre(grid, 1, 4, 2)), { axis: 2, index: 2 });
  assert.deepEqual(sliceAxis(grid, [0, 0, -1], voxelCentre(grid, 1, 3, 2)), { axis: 1, index: 3 });
  assert.deepEqual(sliceAxis(grid, [1, 0, 0], [1000, 0, 0]), { axis: 0, index: 0 }, 'clamped to the grid');
});

test('labelExtent bounds one label and polygon test is even-odd', () => {
  const dims: Vec3 = [4, 3, 2];
  const labels = new Uint8Array(24);
  labels[1 + 4 * (2 + 3 * 0)] = 2;
  labels[3 + 4 * (0 + 3 * 1)] = 2;
  labels[0] = 1;
  assert.deepEqual(labelExtent(labels, dims, 2), { lo: [1, 0, 0], hi: [3, 2, 1] });
  assert.equal(labelExtent(labels, dims, 5), undefined);
  const square: [number, number][] = [[0, 0], [10, 0], [10, 10], [0, 10]];
  assert.ok(insidePolygon(square, 5, 5));
  assert.ok(!insidePolygon(square, 15, 5));
  // A bow-tie: its crossing region counts once per lobe.
  const bow: [number, number][] = [[0, 0], [10, 10], [10, 0], [0, 10]];
  assert.ok(insidePolygon(bow, 2, 5));
  assert.ok(!insidePolygon(bow, 5, 1));
});

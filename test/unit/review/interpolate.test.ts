import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolateGaps, signedDistance } from '../../../electron/engine/review/interpolate.js';

type Vec3 = [number, number, number];

function disc(dims: Vec3, k: number, cx: number, cy: number, r: number, mask: Uint8Array): void {
  for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) if ((i - cx) ** 2 + (j - cy) ** 2 <= r * r) mask[i + dims[0] * (j + dims[1] * k)] = 1;
}

const count = (m: Uint8Array, dims: Vec3, k: number): number => {
  let n = 0;
  for (let p = 0; p < dims[0] * dims[1]; p++) n += m[p + dims[0] * dims[1] * k]!;
  return n;
};

test('signed distance is negative inside, positive outside, zero level on the boundary', () => {
  const s = new Uint8Array(9 * 9);
  for (let y = 3; y <= 5; y++) for (let x = 3; x <= 5; x++) s[x + 9 * y] = 1;
  const d = signedDistance(s, 9, 9, 1, 1);
  assert.equal(d[4 + 9 * 4], -1.5, 'centre of a 3x3 square: 2 px to the outside, minus half a pixel');
  assert.equal(d[3 + 9 * 4], -0.5);
  assert.equal(d[2 + 9 * 4], 0.5);
  assert.equal(d[0], Math.sqrt(18) - 0.5);
});

test('shape-based interpolation: a disc growing and moving between two slices', () => {
  const dims: Vec3 = [64, 64, 11];
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  disc(dims, 0, 20, 30, 6, m);
  disc(dims, 10, 40, 30, 16, m);
  const { mask, filled } = interpolateGaps(m, dims, [1, 1, 2], 2);
  assert.deepEqual(filled, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(count(mask, dims, 0), count(m, dims, 0), 'edited slices are not changed');
  assert.equal(count(mask, dims, 10), count(m, dims, 10));
  for (let k = 1; k < 10; k++) {
    const t = k / 10;
    const r = 6 + 10 * t;
    const cx = 20 + 20 * t;
    const expect = new Uint8Array(m.length);
    disc(dims, k, cx, 30, r, expect);
    // Rasterised discs of the interpolated radius and centre: at most a one-pixel ring apart.
    let diff = 0;
    for (let p = 0; p < dims[0] * dims[1]; p++) diff += Math.abs(mask[p + dims[0] * dims[1] * k]! - expect[p + dims[0] * dims[1] * k]!);
    assert.ok(diff <= 2 * Math.PI * r, `slice ${k}: ${diff} pixels differ from the disc of radius ${r.toFixed(1)} at x ${cx}`);
  }
});

test('identical slices interpolate to the same shape; no gaps, nothing filled; along other axes too', () => {
  const dims: Vec3 = [12, 10, 8];
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (const k of [1, 6]) for (let j = 2; j < 7; j++) for (let i = 3; i < 9; i++) m[i + 12 * (j + 10 * k)] = 1;
  const r = interpolateGaps(m, dims, [1, 1, 3], 2);
  for (let k = 2; k < 6; k++) assert.equal(count(r.mask, dims, k), 30, `slice ${k}`);
  const again = interpolateGaps(r.mask, dims, [1, 1, 3], 2);
  assert.deepEqual(again.filled, []);
  // Along i (sagittal): columns 3..8 are all non-empty, so nothing to fill.
  assert.deepEqual(interpolateGaps(r.mask, dims, [1, 1, 3], 0).filled, []);
  // Along j with a gap: rows 2 and 6 only.
  const rows = new Uint8Array(m.length);
  for (const j of [2, 6]) for (let k = 0; k < 8; k++) for (let i = 3; i < 9; i++) rows[i + 12 * (j + 10 * k)] = 1;
  assert.deepEqual(interpolateGaps(rows, dims, [1, 1, 3], 1).filled, [3, 4, 5]);
});

/**
 * The skimage-equivalent resize (segment/resize.ts): properties that any correct implementation of
 * scipy's spline zoom with grid-constant padding must have, checked on small images where the answer
 * can be derived by hand. Bit-level agreement with skimage itself is the parity test's job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resizeLikeSkimage, splineWeights } from '../../../electron/engine/segment/resize.js';

test('spline weights sum to 1 and are non-negative for orders 0..3', () => {
  for (const order of [0, 1, 2, 3]) {
    for (const x of [-0.4375, 0, 0.25, 0.5, 0.9999, 3.3, 127.4375]) {
      const { w } = splineWeights(x, order);
      assert.equal(w.length, order + 1);
      assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-12);
      for (const v of w) assert.ok(v >= -1e-15, `order ${order} x ${x}: weight ${v}`);
    }
  }
});

test('order 2 weights at a knot are the quadratic B-spline values 1/8, 3/4, 1/8', () => {
  const { start, w } = splineWeights(5, 2);
  assert.equal(start, 4);
  assert.deepEqual(w.map((v) => Math.round(v * 1e12) / 1e12), [0.125, 0.75, 0.125]);
});

test('same-size resize reproduces the image (spline interpolation is exact at the samples)', () => {
  const rows = 7;
  const cols = 9;
  const img = Array.from({ length: rows * cols }, (_, p) => (p * 37) % 101);
  for (const order of [0, 1, 2, 3]) {
    const out = resizeLikeSkimage(img, rows, cols, rows, cols, order);
    for (let p = 0; p < img.length; p++) assert.ok(Math.abs(out[p]! - img[p]!) < 1e-9, `order ${order} pixel ${p}: ${out[p]} vs ${img[p]}`);
  }
});

test('a constant image stays constant: the border darkening is clipped back to the input range', () => {
  const n = 16;
  const out = resizeLikeSkimage(new Array<number>(n * n).fill(100), n, n, 128, 128, 2);
  for (const v of out) assert.equal(v, 100);
});

test('upsampling darkens the border (zeros outside, quirk M4) when 0 is within the input range', () => {
  const n = 16;
  const img = new Array<number>(n * n).fill(100);
  img[8 * n + 8] = 0;
  const out = resizeLikeSkimage(img, n, n, 128, 128, 2);
  assert.ok(Math.abs(out[20 * 128 + 20]! - 100) < 1e-6, 'interior far from the dark pixel stays 100');
  assert.ok(out[0]! < 100 && out[0]! > 0, `corner ${out[0]} is darkened but positive`);
  // Symmetric input gives a symmetric output.
  assert.ok(Math.abs(out[0]! - out[127]!) < 1e-9 && Math.abs(out[0]! - out[127 * 128 + 127]!) < 1e-9);
});

test('output is clipped to the input range (order 2 overshoots at edges otherwise)', () => {
  const n = 8;
  const img = Array.from({ length: n * n }, (_, p) => ((p % n) + Math.floor(p / n)) % 2 ? 200 : 10);
  const out = resizeLikeSkimage(img, n, n, 64, 64, 2);
  for (const v of out) assert.ok(v >= 0 && v <= 200, `value ${v} outside [0, 200]`);
  // cval 0 lies outside [10, 200], so exact zeros would survive; none occur here, and the minimum is 10.
  assert.ok(Math.min(...out) >= 10);
});

test('downsampling applies the anti-aliasing Gaussian (a checkerboard averages to its mean)', () => {
  const n = 64;
  const img = Array.from({ length: n * n }, (_, p) => ((p % n) + Math.floor(p / n)) % 2 ? 100 : 0);
  const out = resizeLikeSkimage(img, n, n, 8, 8, 1);
  const centre = out[3 * 8 + 3]!;
  assert.ok(Math.abs(centre - 50) < 1, `centre ${centre} should be close to the mean 50`);
});

test('a linear ramp is reproduced by order 1 at half-pixel positions', () => {
  const n = 4;
  const img = Array.from({ length: n * n }, (_, p) => (p % n) * 10);
  const out = resizeLikeSkimage(img, n, n, n, 2 * n, 1);
  // Output column o samples input x = (o + 0.5) / 2 - 0.5.
  for (let o = 1; o < 2 * n - 1; o++) {
    const x = (o + 0.5) / 2 - 0.5;
    assert.ok(Math.abs(out[o]! - 10 * x) < 1e-9, `column ${o}: ${out[o]} vs ${10 * x}`);
  }
});

test('rejects a size mismatch and unsupported orders', () => {
  assert.throws(() => resizeLikeSkimage([1, 2, 3], 2, 2, 4, 4, 2), /3 values/);
  assert.throws(() => resizeLikeSkimage([1, 2, 3, 4], 2, 2, 4, 4, 5), /order 5/);
});
